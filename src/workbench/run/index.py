"""Run records: the run folder, its ``run.json``, and ``reports/index.html`` over every run.

The index page (:func:`rebuild_index`) groups the runs by dataset (the dataset whose latest run
is newest first, and within a dataset the newest run first). Per run it shows each analysis's
status, links to its report (and ``report.pdf`` when one was written), the key findings its
notebook recorded with ``ctx.summarize`` (``metrics.summary.key_findings``; nothing for a
notebook that records none) and a few headline figures of its ``metrics.json``
(:data:`HEADLINES`) with their change since the previous run of the same dataset: the nearest
older run of that dataset in which the analysis ran ok, absolute and relative, with an arrow.

Language of the index: the ``--lang`` of the command when given, else the ``report.language``
of the first params file of the command (``run`` / ``run-all``); ``workbench index`` without
``--lang`` uses the language recorded in the newest ``run.json`` (English when none is).
Labels come from the catalog ``index.*`` (``report/locales/<lang>/index.yaml``); the key
findings are shown in the language of the run that wrote them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError
from workbench.report import fmt
from workbench.report.fonts import CJK_FAMILY
from workbench.report.i18n import LANGUAGES, date_text, has, t
from workbench.run import registry as _registry
from workbench.run.html import _with_cjk_font
from workbench.run.kernel import kernel_name
from workbench.run.params import Params
from workbench.run.provenance import read_json_object
from workbench.run.status import (
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_INVALID,
    STATUS_OK,
    STATUS_RUNNING,
)

__all__ = [
    "HEADLINES",
    "Headline",
    "analysis_title",
    "headline_rows",
    "new_run_dir",
    "read_runs",
    "rebuild_index",
    "status_text",
]


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


def _initial_record(params: Params, params_file: Path, run_dir: Path, started: dt.datetime,
                    *, language: str | None = None) -> dict[str, Any]:
    """The ``run.json`` of a starting run (or the existing one, when re-running into a folder);
    ``language`` is the run's report language (default the params')."""
    old = read_json_object(run_dir / "run.json")
    return {
        "dataset": params.name,
        "title": params.title,
        "as_of": str(params.as_of),
        "params_file": str(params_file),
        "run_dir": run_dir.name,
        "language": language or params.report.language,
        "currency": params.currency,
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


# ----------------------------------------------------------------------------------------------
# What a reader sees: analysis titles, status words
# ----------------------------------------------------------------------------------------------


def analysis_title(key: str, fallback: str = "") -> str:
    """An analysis's title in the language in force (``index.analysis.<key>``), else
    ``fallback`` (the registry's title), else the key."""
    name = f"index.analysis.{key}"
    return t(name) if has(name) else (fallback or key)


_SKIPPED = re.compile(r"skipped \(needs (?P<dep>[\w.-]+), which (?P<why>failed|was skipped)\)")
#: Status words and their catalog keys (shared with the report header, ``report.status.*``).
_STATUS_KEYS = {STATUS_OK: "report.status.ok", STATUS_FAILED: "report.status.failed",
                STATUS_INVALID: "report.status.invalid_input", STATUS_RUNNING: "report.status.running",
                STATUS_INTERRUPTED: "report.status.interrupted"}


def status_text(status: str) -> str:
    """A status word of ``run.json`` as a reader reads it, in the language in force.

    Parameters
    ----------
    status : str
        ``ok``, ``failed``, ``invalid input``, ``running``, ``interrupted`` or
        ``skipped (needs <key>, which failed|was skipped)``; ``failed: <error>`` keeps the
        error as it is (errors stay English).

    Returns
    -------
    str
        The translated text; an unknown status as it is.

    Examples
    --------
    >>> status_text("skipped (needs data_profiling, which failed)")
    'skipped (needs Data profiling and quality, which failed)'
    """
    if status in _STATUS_KEYS:
        return t(_STATUS_KEYS[status])
    match = _SKIPPED.fullmatch(status)
    if match:
        why = "failed" if match["why"] == "failed" else "skipped"
        return t(f"index.status.skipped_{why}", dep=analysis_title(match["dep"]))
    head, sep, rest = status.partition(": ")
    if sep and head in _STATUS_KEYS:
        return f"{status_text(head)}: {rest}"
    return status


def _status_css(status: str) -> str:
    if status == STATUS_OK:
        return "ok"
    if status.startswith("skipped"):
        return "skipped"
    if status in (STATUS_RUNNING, STATUS_INTERRUPTED):
        return "running"
    return "failed"


# ----------------------------------------------------------------------------------------------
# Headline figures per analysis, from metrics.json
# ----------------------------------------------------------------------------------------------


def _get(tree: Any, *path: str) -> Any:
    """``tree[path[0]][path[1]]...`` or None when a step is missing."""
    for step in path:
        if not isinstance(tree, Mapping):
            return None
        tree = tree.get(step)
    return tree


def _total(values: Any) -> float | None:
    """Sum of the numbers of a dict or list (None when there are none)."""
    items = values.values() if isinstance(values, Mapping) else values if isinstance(values, list) else []
    numbers = [v for v in (fmt.num(x) for x in items) if v is not None]
    return sum(numbers) if numbers else None


def _rows_removed(m: Mapping[str, Any]) -> float | None:
    rows_in, rows_out = _total(_get(m, "cleaning", "rows_in")), _total(_get(m, "cleaning", "rows_out"))
    return None if rows_in is None or rows_out is None else rows_in - rows_out


def _best_auc(m: Mapping[str, Any]) -> float | None:
    best = _get(m, "evaluation", "best")
    return fmt.num(_get(m, "evaluation", "models", str(best), "roc_auc")) if best else None


def _largest_conversion_uplift(m: Mapping[str, Any]) -> float | None:
    """Largest difference in conversion rate of an arm against its control, over campaigns."""
    diffs = [fmt.num(_get(arm, "diff"))
             for campaign in (_get(m, "comparisons") or {}).values()
             for arm in (_get(campaign, "comparisons", "converted") or {}).values()]  # fmt: skip
    diffs = [d for d in diffs if d is not None]
    return max(diffs) if diffs else None


def _incremental_revenue(m: Mapping[str, Any]) -> float | None:
    arms = _get(m, "incremental", "arms")
    return _total([_get(a, "incremental_revenue") for a in arms]) if isinstance(arms, list) else None


def _path(*path: str) -> Callable[[Mapping[str, Any]], float | None]:
    """A getter of the number at ``path`` in an analysis's metrics."""
    return lambda m: fmt.num(_get(m, *path))


@dataclass(frozen=True)
class Headline:
    """One headline figure of an analysis on the index page.

    Attributes
    ----------
    name : str
        Its label is ``index.headline.<name>``.
    kind : {"count", "pct", "pp", "money", "num"}
        How it reads (:mod:`workbench.report.fmt`); ``num`` with three decimals.
    better : {"up", "down", None}
        Which way of change is good news (colours the change); None for neither.
    value : callable
        The figure from the analysis's ``metrics.json`` ``metrics``, None when absent.
    """

    name: str
    kind: str
    better: str | None
    value: Callable[[Mapping[str, Any]], float | None]


#: Headline figures per analysis key, in the order shown.
HEADLINES: dict[str, tuple[Headline, ...]] = {
    "data_profiling": (
        Headline("rows_read", "count", None, lambda m: _total(_get(m, "cleaning", "rows_in"))),
        Headline("rows_removed", "count", "down", _rows_removed),
        Headline("alert_errors", "count", "down", _path("alerts", "by_severity", "error")),
        Headline("alert_warnings", "count", "down", _path("alerts", "by_severity", "warning")),
    ),
    "segmentation": (
        Headline("customers", "count", "up", _path("abc", "n_customers")),
        Headline("top20_share", "pct", None, _path("abc", "top_20pct_share")),
        Headline("clv_total", "money", "up", _path("clv", "clv_total")),
        Headline("clv_mean", "money", "up", _path("clv", "clv_mean")),
    ),
    "churn": (
        Headline("churn_rate", "pct", "down", _path("frame", "churn_rate")),
        Headline("churn_customers", "count", None, _path("frame", "n_customers")),
        Headline("auc", "num", "up", _best_auc),
        Headline("retention_net", "money", "up", _path("retention", "expected net value")),
    ),
    "campaign": (
        Headline("contacts", "count", None, _path("campaigns", "n_contacts")),
        Headline("conversion_uplift", "pp", "up", _largest_conversion_uplift),
        Headline("incremental_revenue", "money", "up", _incremental_revenue),
        Headline("kpi_targets", "count", "up", _path("kpis", "targets_met")),
    ),
}


def _figure(value: float, kind: str, currency: str) -> str:
    """A headline figure as text (at most three decimals)."""
    if kind == "pct":
        return fmt.pct(value)
    if kind == "pp":
        return fmt.pp(value)
    if kind == "money":
        return fmt.money(value, currency=currency)
    if kind == "num":
        return fmt.interval(value, None, None, kind="num", digits=3)
    return fmt.count(value)


def _signed(text: str, delta: float) -> str:
    """``text`` of a change with its sign (fmt writes the minus, the plus is added here)."""
    return f"+{text}" if delta > 0 else text


def _change(now: float, before: float, kind: str, better: str | None, currency: str) -> dict[str, str]:
    """The change of a headline figure: absolute (pp for shares), relative, arrow and colour."""
    delta = now - before
    if abs(delta) < 1e-12:
        delta = 0.0
    absolute = {"pct": fmt.pp(delta), "pp": fmt.pp(delta)}.get(kind) or _figure(delta, kind, currency)
    relative = _signed(fmt.pct(delta / abs(before)), delta) if before else ""
    direction = "up" if delta > 0 else "down" if delta < 0 else "same"
    tone = "neutral" if better is None or direction == "same" else ("good" if direction == better else "bad")
    arrow = {"up": "↑", "down": "↓", "same": "→"}[direction]
    return {"absolute": _signed(absolute, delta), "relative": relative, "arrow": arrow,
            "direction": t(f"index.headline.{direction}"), "tone": tone}


def headline_rows(key: str, metrics: Mapping[str, Any] | None, previous: Mapping[str, Any] | None = None,
                  *, currency: str = "", previous_currency: str | None = None) -> list[dict[str, Any]]:
    """The headline figures of one analysis with their change since the previous run.

    Parameters
    ----------
    key : str
        Analysis key (:data:`HEADLINES`).
    metrics, previous : dict, optional
        ``metrics`` of this run's and of the previous run's ``metrics.json``.
    currency : str, default ""
        Symbol of this run's money figures (the params' ``currency``).
    previous_currency : str, optional
        The previous run's; a change of money is shown only when both are the same
        (default: the same as ``currency``).

    Returns
    -------
    list of dict
        One per figure present in ``metrics``: ``label``, ``value``, ``previous`` (text or
        ``""``) and ``change`` (dict with ``absolute``, ``relative``, ``arrow``,
        ``direction``, ``tone``; None without a previous value).
    """
    rows: list[dict[str, Any]] = []
    if not metrics:
        return rows
    same_money = previous_currency is None or previous_currency == currency
    for h in HEADLINES.get(key, ()):
        now = h.value(metrics)
        if now is None:
            continue
        before = h.value(previous) if previous else None
        if h.kind == "money" and not same_money:
            before = None
        rows.append({
            "label": t(f"index.headline.{h.name}"),
            "value": _figure(now, h.kind, currency),
            "previous": "" if before is None else _figure(before, h.kind, currency),
            "change": None if before is None else _change(now, before, h.kind, h.better, currency),
        })
    return rows


# ----------------------------------------------------------------------------------------------
# The index page
# ----------------------------------------------------------------------------------------------


def rebuild_index(reports_dir: str | Path = "reports", *, language: str | None = None) -> Path:
    """Write ``<reports_dir>/index.html``: one self-contained page over every run found there,
    grouped by dataset, with each analysis's status, links, key findings and headline figures
    with their change since the previous run of the dataset.

    Parameters
    ----------
    reports_dir : path, default "reports"
    language : {"en", "zh"}, optional
        Language of the page; default the one recorded in the newest ``run.json``, else English.

    Returns
    -------
    Path
        The index file.
    """
    from jinja2 import Environment, select_autoescape

    folder = Path(reports_dir)
    folder.mkdir(parents=True, exist_ok=True)
    records = read_runs(folder)
    lang = _page_language(records, language)
    with fmt.use(language=lang):
        groups = _dataset_groups(records, folder)
        labels = _page_labels(records, groups)
        env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
        page = env.from_string(_INDEX_TEMPLATE).render(groups=groups, labels=labels, lang=lang,
                                                        fonts=_FONT_FAMILY)
    out = folder / "index.html"
    out.write_text(_with_cjk_font(page), encoding="utf-8")
    return out


def _page_language(records: Sequence[Mapping[str, Any]], language: str | None) -> str:
    """``language`` if given, else the newest run's recorded language, else English."""
    if language:
        return language
    recorded = next((r.get("language") for r in records if r.get("language") in LANGUAGES), None)
    return recorded or LANGUAGES[0]


def _page_labels(records: Sequence[Mapping[str, Any]], groups: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Every fixed text of the page in the language in force."""
    now = _now()
    generated = f"{date_text(now)} {now:%H:%M}"
    names = ("heading", "title", "datasets")
    labels = {name: t(f"index.page.{name}") for name in names}
    labels["sub"] = t("index.page.sub", runs=fmt.count(len(records)), datasets=fmt.count(len(groups)),
                      generated=generated)
    labels["empty"] = t("index.page.empty", command="workbench run-all -p params/<dataset>.yaml")
    for name in ("report", "pdf", "notebook", "metrics"):
        labels[name] = t(f"index.links.{name}")
    for name in ("figure", "value", "previous", "change", "first"):
        labels[name] = t(f"index.headline.{name}")
    labels["findings"] = t("index.findings")
    labels["note"] = t("index.note")
    return labels


def _dataset_groups(records: Sequence[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    """Runs grouped by dataset (datasets by their newest run, newest first), each run shaped
    for the page with its headline figures compared with the dataset's earlier runs."""
    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for record in records:  # newest first already
        by_dataset.setdefault(str(record.get("dataset") or record["run_dir"]), []).append(record)
    groups = []
    for dataset, runs in by_dataset.items():
        metrics = [_analysis_metrics(folder / r["run_dir"], r) for r in runs]
        entries = [_index_entry(r, metrics[i], runs[i + 1:], metrics[i + 1:]) for i, r in enumerate(runs)]
        title = next((str(r["title"]) for r in runs if r.get("title")), "")
        groups.append({
            "dataset": dataset, "title": title, "anchor": _anchor(dataset), "runs": entries,
            "count": t("index.page.dataset_runs", runs=fmt.count(len(runs)), time=_short_time(runs[0].get("started"))),
            "older": t("index.page.older", runs=fmt.count(len(runs) - 1)),
        })  # fmt: skip
    return groups


def _analysis_metrics(run_dir: Path, record: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``metrics.json`` content per analysis key of one run (ok analyses with a file only)."""
    out = {}
    for a in record.get("analyses", []):
        rel = a.get("metrics")
        if rel and a.get("status") == STATUS_OK:
            data = read_json_object(run_dir / rel)
            if isinstance(data.get("metrics"), dict):
                out[str(a["key"])] = data["metrics"]
    return out


def _index_entry(record: dict[str, Any], metrics: Mapping[str, dict[str, Any]],
                 older: Sequence[Mapping[str, Any]], older_metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A run record shaped for the index template (links relative to ``reports/``)."""
    name = record["run_dir"]
    analyses = [_analysis_entry(name, a, record, metrics, older, older_metrics)
                for a in record.get("analyses", [])]
    as_of = record.get("as_of")
    return {
        "run_dir": name,
        "dataset": record.get("dataset", name),
        "title": record.get("title") or "",
        "as_of": t("index.run.as_of", date=date_text(as_of)) if as_of else "",
        "started": t("index.run.started", time=_short_time(record.get("started"))),
        "seconds": _elapsed(record.get("started"), record.get("finished")),
        "status": status_text(str(record.get("status", ""))),
        "css": _status_css(str(record.get("status", ""))),
        "error": record.get("error"),
        "analyses": analyses,
    }


def _analysis_entry(run: str, a: Mapping[str, Any], record: Mapping[str, Any], metrics: Mapping[str, Any],
                    older: Sequence[Mapping[str, Any]], older_metrics: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One analysis of a run for the page: status, links, key findings, headline figures."""
    def link(rel: Any) -> str | None:
        return f"{run}/{rel}" if rel else None

    key = str(a.get("key", ""))
    mine = metrics.get(key)
    j = next((i for i, m in enumerate(older_metrics) if key in m), None)
    prev_record = older[j] if j is not None else None
    rows = headline_rows(key, mine, older_metrics[j][key] if j is not None else None,
                         currency=str(record.get("currency") or ""),
                         previous_currency=None if prev_record is None else prev_record.get("currency"))
    since = ""
    if prev_record is not None and rows:
        since = t("index.headline.since", time=_short_time(prev_record.get("started")),
                  date=date_text(prev_record.get("as_of")) if prev_record.get("as_of") else "")
    status = str(a.get("status", ""))
    return {
        "key": key, "title": analysis_title(key, str(a.get("title") or "")),
        "status": status_text(status), "css": _status_css(status), "error": a.get("error"),
        "note": a.get("note"), "html": link(a.get("html")), "pdf": link(a.get("pdf")),
        "notebook": link(a.get("notebook")), "metrics": link(a.get("metrics")),
        "seconds": _elapsed_seconds(a.get("seconds")), "findings": _key_findings(mine),
        "headlines": rows, "since": since, "first": bool(rows) and prev_record is None,
        "compare": any(r["change"] is not None for r in rows),
    }  # fmt: skip


def _key_findings(metrics: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """``summary.key_findings`` recorded by ``ctx.summarize`` (empty when none were)."""
    found = _get(metrics, "summary", "key_findings") if metrics else None
    if not isinstance(found, list):
        return []
    return [{"text": str(f.get("text") or ""), "action": str(f.get("action") or "")}
            for f in found if isinstance(f, Mapping) and f.get("text")]


def _anchor(name: str) -> str:
    return "ds-" + re.sub(r"[^\w-]+", "-", name, flags=re.UNICODE).strip("-")


def _short_time(iso: str | None) -> str:
    """An ISO time as the reader's date and the clock time (``30 Sep 2025 10:15``)."""
    if not iso:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{date_text(when)} {when:%H:%M}"


def _elapsed_seconds(seconds: Any) -> str:
    value = fmt.num(seconds)
    return "" if value is None else t("index.run.seconds", seconds=f"{value:.1f}")


def _elapsed(start: str | None, end: str | None) -> str:
    try:
        seconds = (dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return ""
    return t("index.run.seconds", seconds=fmt.count(seconds))


#: Fonts of the page: the embedded subset of the page's Chinese glyphs (:mod:`workbench.report.fonts`,
#: limited to those characters), then the reader's own CJK fonts, then the generic family.
_FONT_FAMILY = (f'"{CJK_FAMILY}", system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
                '"Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif')

_INDEX_TEMPLATE = r"""<!DOCTYPE html>
<html lang="{{ 'zh-CN' if lang == 'zh' else lang }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ labels.title }}</title>
<style>
/*WB-FONT-FACE*/
* { box-sizing: border-box; }
body { font-family: {{ fonts | safe }}; margin: 0; background: #f6f7f9; color: #222; line-height: 1.45; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
.sub { color: #666; margin: 0 0 16px; font-size: 0.9em; }
nav.datasets { margin: 0 0 20px; font-size: 0.95em; }
nav.datasets a { margin-right: 14px; }
section.dataset { margin: 0 0 28px; }
section.dataset > h2 { font-size: 1.3em; margin: 0 0 2px; }
.count { color: #666; font-size: 0.88em; margin: 0 0 10px; }
article.run { background: #fff; border: 1px solid #e1e4e8; border-radius: 8px; margin: 0 0 12px; padding: 12px 16px; }
details.older > summary { cursor: pointer; color: #444; margin: 4px 0 10px; }
.run-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; }
.meta { color: #555; font-size: 0.9em; }
.folder { color: #888; font-size: 0.82em; font-family: ui-monospace, monospace; overflow-wrap: anywhere; }
.analyses { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; margin-top: 10px; }
.analysis { border-top: 1px solid #eee; padding-top: 8px; min-width: 0; }
.analysis h3 { font-size: 1.02em; margin: 0 0 4px; }
.links { font-size: 0.88em; margin: 2px 0 6px; }
.links a { margin-right: 12px; }
.findings { margin: 4px 0 8px; padding-left: 18px; font-size: 0.9em; }
.findings li { margin: 0 0 4px; }
.action { color: #1b5e20; }
table { border-collapse: collapse; width: 100%; font-size: 0.88em; table-layout: auto; }
th, td { text-align: left; padding: 3px 6px; border-top: 1px solid #eee; vertical-align: top; overflow-wrap: anywhere; }
th { color: #666; font-weight: 600; border-top: none; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.since { color: #777; font-size: 0.8em; margin: 4px 0 0; }
.good { color: #2e7d32; } .bad { color: #c62828; } .neutral { color: #555; }
.status { display: inline-block; padding: 1px 9px; border-radius: 10px; color: #fff; font-size: 0.85em; }
.status.ok { background: #2e7d32; color: #fff; } .status.failed { background: #c62828; color: #fff; }
.status.skipped { background: #9e9e9e; } .status.running { background: #ef6c00; }
.error, .note { font-size: 0.86em; white-space: pre-wrap; overflow-wrap: anywhere; margin: 6px 0 0; }
.error { color: #b71c1c; } .note { color: #6d4c00; }
a { color: #1565c0; text-decoration: none; }
a:hover { text-decoration: underline; }
.empty { color: #666; }
@media print { body { background: #fff; } article.run { break-inside: avoid; border-color: #ccc; } }
</style>
</head>
<body>
<main>
<h1>{{ labels.heading }}</h1>
<p class="sub">{{ labels.sub }}</p>
{%- if not groups %}
<p class="empty">{{ labels.empty }}</p>
{%- else %}
<nav class="datasets">{{ labels.datasets }}
{%- for g in groups %} <a href="#{{ g.anchor }}">{{ g.title or g.dataset }}</a>{% endfor %}</nav>
{%- endif %}
{%- macro show_run(run) %}
<article class="run" id="{{ run.run_dir }}">
  <div class="run-head">
    <span class="status {{ run.css }}">{{ run.status }}</span>
    {%- if run.as_of %}<span class="meta">{{ run.as_of }}</span>{% endif %}
    <span class="meta">{{ run.started }}{% if run.seconds %} · {{ run.seconds }}{% endif %}</span>
    <span class="folder">{{ run.run_dir }}/</span>
  </div>
  {%- if run.error %}<pre class="error">{{ run.error }}</pre>{% endif %}
  {%- if run.analyses %}
  <div class="analyses">
  {%- for a in run.analyses %}
    <div class="analysis" id="{{ run.run_dir }}-{{ a.key }}">
      <h3>{{ a.title }} <span class="status {{ a.css }}">{{ a.status }}</span></h3>
      <div class="links">
        {%- if a.html %}<a href="{{ a.html }}">{{ labels.report }}</a>{% endif %}
        {%- if a.pdf %}<a href="{{ a.pdf }}">{{ labels.pdf }}</a>{% endif %}
        {%- if a.notebook %}<a href="{{ a.notebook }}">{{ labels.notebook }}</a>{% endif %}
        {%- if a.metrics %}<a href="{{ a.metrics }}">{{ labels.metrics }}</a>{% endif %}
        {%- if a.seconds %}<span class="meta">{{ a.seconds }}</span>{% endif %}
      </div>
      {%- if a.error %}<div class="error">{{ a.error }}</div>{% endif %}
      {%- if a.note %}<div class="note">{{ labels.note }}{{ a.note }}</div>{% endif %}
      {%- if a.findings %}
      <ul class="findings" aria-label="{{ labels.findings }}">
        {%- for f in a.findings %}
        <li>{{ f.text }}{% if f.action %} <span class="action">→ {{ f.action }}</span>{% endif %}</li>
        {%- endfor %}
      </ul>
      {%- endif %}
      {%- if a.headlines %}
      <table class="headlines">
        <tr><th>{{ labels.figure }}</th><th>{{ labels.value }}</th>
          {%- if a.compare %}<th>{{ labels.previous }}</th><th>{{ labels.change }}</th>{% endif %}</tr>
        {%- for h in a.headlines %}
        <tr><td>{{ h.label }}</td><td class="num">{{ h.value }}</td>
          {%- if a.compare %}<td class="num">{{ h.previous }}</td>
          <td class="num">{% if h.change %}<span class="{{ h.change.tone }}" title="{{ h.change.direction }}">{{ h.change.arrow }} {{ h.change.absolute }}{% if h.change.relative %} ({{ h.change.relative }}){% endif %}</span>{% endif %}</td>
          {%- endif %}</tr>
        {%- endfor %}
      </table>
      {%- if a.since %}<p class="since">{{ a.since }}</p>{% elif a.first %}<p class="since">{{ labels.first }}</p>{% endif %}
      {%- endif %}
    </div>
  {%- endfor %}
  </div>
  {%- endif %}
</article>
{%- endmacro %}
{%- for g in groups %}
<section class="dataset" id="{{ g.anchor }}">
  <h2>{{ g.title or g.dataset }}{% if g.title %} <span class="meta">({{ g.dataset }})</span>{% endif %}</h2>
  <p class="count">{{ g.count }}</p>
  {{- show_run(g.runs[0]) }}
  {%- if g.runs | length > 1 %}
  <details class="older">
    <summary>{{ g.older }}</summary>
    {%- for run in g.runs[1:] %}{{ show_run(run) }}{% endfor %}
  </details>
  {%- endif %}
</section>
{%- endfor %}
</main>
</body>
</html>
"""


def _now() -> dt.datetime:
    return dt.datetime.now().astimezone()


def _iso(when: dt.datetime) -> str:
    return when.isoformat(timespec="seconds")


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
