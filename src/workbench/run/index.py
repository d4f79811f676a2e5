"""Run records: the run folder, its ``run.json``, and ``reports/index.html`` over every run."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.run import registry as _registry
from workbench.run.html import _TEMPLATE_DIR
from workbench.run.kernel import kernel_name
from workbench.run.params import Params
from workbench.run.provenance import read_json_object
from workbench.run.status import STATUS_FAILED, STATUS_INTERRUPTED, STATUS_OK, STATUS_RUNNING

__all__ = ["new_run_dir", "read_runs", "rebuild_index"]


def new_run_dir(reports_dir: str | Path, name: str, *, now: dt.datetime | None = None) -> Path:
    """Create ``<reports_dir>/<name>-<YYYYmmdd-HHMMSS>`` (``_2``, ``_3``, ... appended when it
    exists, keeping the ``<name>-<date>-<time>`` shape other runs are found by).

    Parameters
    ----------
    reports_dir : path
        Parent folder (created when missing).
    name : str
        Dataset name (``params.name``).
    now : datetime, optional
        Time stamp; default now.

    Returns
    -------
    Path
        The new, empty folder (absolute).
    """
    base = Path(reports_dir).expanduser().resolve()
    base.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-{(now or _now()):%Y%m%d-%H%M%S}"
    for i in range(1, 1000):
        candidate = base / (stem if i == 1 else f"{stem}_{i}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise WorkbenchError(f"cannot create a run folder for {stem} in {base}: 999 exist")


def _initial_record(params: Params, params_file: Path, run_dir: Path, started: dt.datetime) -> dict[str, Any]:
    """The ``run.json`` of a starting run (or the existing one, when re-running into a folder)."""
    old = read_json_object(run_dir / "run.json")
    return {
        "dataset": params.name,
        "title": params.title,
        "as_of": str(params.as_of),
        "params_file": str(params_file),
        "run_dir": run_dir.name,
        "started": old.get("started", _iso(started)),
        "finished": None,
        "status": STATUS_RUNNING,
        "error": None,
        "python": sys.executable,
        "kernel": kernel_name(),
        "analyses": old.get("analyses", []),
    }


def _merge_records(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Analyses entries of ``old`` replaced by those of ``new`` with the same key, in registry
    order (unknown keys last)."""
    merged = {r["key"]: r for r in old}
    merged.update({r["key"]: r for r in new})
    order = list(_registry.ANALYSES)
    return sorted(merged.values(), key=lambda r: order.index(r["key"]) if r["key"] in order else len(order))


def _overall_status(analyses: list[dict[str, Any]]) -> str:
    return STATUS_OK if all(a["status"] == STATUS_OK for a in analyses) else STATUS_FAILED


def _write_run_json(run_dir: Path, record: dict[str, Any]) -> None:
    tmp = run_dir / "run.json.tmp"
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(run_dir / "run.json")


def read_runs(reports_dir: str | Path) -> list[dict[str, Any]]:
    """Every ``run.json`` under ``reports_dir`` (one level deep), newest first.

    Parameters
    ----------
    reports_dir : path

    Returns
    -------
    list of dict
        The records, each with ``run_dir`` set to the folder name.
    """
    runs = []
    for path in Path(reports_dir).glob("*/run.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            continue
        if isinstance(record, dict):
            record["run_dir"] = path.parent.name
            runs.append(record)
    return sorted(runs, key=lambda r: (str(r.get("started") or ""), r["run_dir"]), reverse=True)


def rebuild_index(reports_dir: str | Path = "reports") -> Path:
    """Write ``<reports_dir>/index.html``: one self-contained page over every run found there,
    newest first, linking each analysis's report and notebook.

    Parameters
    ----------
    reports_dir : path, default "reports"

    Returns
    -------
    Path
        The index file.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = Path(reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    runs = [_index_entry(r) for r in read_runs(folder)]
    env = Environment(loader=FileSystemLoader(str(_TEMPLATE_DIR)),
                      autoescape=select_autoescape(["html", "j2"]))
    page = env.get_template("index.html.j2").render(
        runs=runs, generated=f"{_now():%Y-%m-%d %H:%M}", reports_dir=str(folder.resolve()),
    )  # fmt: skip
    out = folder / "index.html"
    out.write_text(page, encoding="utf-8")
    return out


def _index_entry(record: dict[str, Any]) -> dict[str, Any]:
    """A run record shaped for the index template (links relative to ``reports/``)."""
    name = record["run_dir"]

    def link(rel: str | None) -> str | None:
        return f"{name}/{rel}" if rel else None

    analyses = [
        {**a, "html": link(a.get("html")), "notebook": link(a.get("notebook")),
         "metrics": link(a.get("metrics")), "css": _status_css(str(a.get("status", "")))}
        for a in record.get("analyses", [])
    ]  # fmt: skip
    return {
        "run_dir": name,
        "dataset": record.get("dataset", name),
        "title": record.get("title") or "",
        "as_of": record.get("as_of") or "",
        "started": _short_time(record.get("started")),
        "seconds": _elapsed(record.get("started"), record.get("finished")),
        "status": record.get("status", ""),
        "css": _status_css(str(record.get("status", ""))),
        "error": record.get("error"),
        "analyses": analyses,
    }


def _status_css(status: str) -> str:
    if status == STATUS_OK:
        return "ok"
    if status.startswith("skipped"):
        return "skipped"
    if status in (STATUS_RUNNING, STATUS_INTERRUPTED):
        return "running"
    return "failed"


def _short_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        return f"{dt.datetime.fromisoformat(iso):%Y-%m-%d %H:%M}"
    except ValueError:
        return iso


def _elapsed(start: str | None, end: str | None) -> str:
    try:
        seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _iso(t: dt.datetime) -> str:
    return t.isoformat(timespec="seconds")


def _relative(path: Path | None, base: Path) -> str | None:
    if path is None:
        return None
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _display_path(path: Path) -> str:
    """``path`` relative to the current folder when it is below it, else absolute."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
