"""Batch runs: execute analysis notebooks with papermill, render reports, keep a run index.

One run folder per params file per invocation (layout in :mod:`workbench.run.session`)::

    reports/<name>-<YYYYmmdd-HHMMSS>/
        run.json                    what ran, when, with which params, and how it ended
        intake/                     tables after the contract, read once per run
        01_data_profiling/notebook.ipynb, report.html, metrics.json, ...
    reports/index.html              every run found under reports/, newest first

Order of a dataset's run: params are validated, the tables go through intake (a
:class:`~workbench.core.errors.WorkbenchError` stops this dataset with status ``invalid input``), then
each analysis runs in a kernel of this very interpreter. A failed analysis keeps its executed
notebook (error visible) and its report; analyses that depend on it are skipped, the rest run.

Examples
--------
>>> from workbench.run.execute import run_all
>>> results = run_all(["params/example.yaml"])  # doctest: +SKIP
>>> results[0].summary()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.run import registry as _registry
from workbench.run.params import Params, load_params
from workbench.run.registry import Analysis, get_analysis

__all__ = [
    "AnalysisResult",
    "RunResult",
    "run_analysis",
    "run_all",
    "render_report",
    "rebuild_index",
    "read_runs",
    "summary_table",
    "kernel_name",
    "new_run_dir",
    "STATUS_OK",
    "STATUS_FAILED",
    "STATUS_INVALID",
]

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_INVALID = "invalid input"
STATUS_RUNNING = "running"
STATUS_INTERRUPTED = "interrupted"

#: Kernel spec name installed into ``sys.prefix`` when ``python3`` is some other interpreter.
FALLBACK_KERNEL = "crm-workbench"

_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


# ----------------------------------------------------------------------------------------------
# Results
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnalysisResult:
    """How one analysis of a run ended.

    Attributes
    ----------
    key : str
        Analysis key (``data_profiling``).
    title : str
        Human title.
    status : str
        ``ok``, ``failed`` or ``skipped (needs X, which failed)``.
    seconds : float
        Wall time of execution plus rendering.
    notebook, html, metrics : Path or None
        Executed notebook, ``report.html`` and ``metrics.json`` (absolute), when written.
    error : str or None
        First line of the error (``ValueError: ...``) when it failed.
    """

    key: str
    title: str
    status: str
    seconds: float = 0.0
    notebook: Path | None = None
    html: Path | None = None
    metrics: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the analysis ran without error."""
        return self.status == STATUS_OK

    def to_record(self, run_dir: Path) -> dict[str, Any]:
        """The ``run.json`` entry: paths relative to ``run_dir``."""
        return {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "notebook": _relative(self.notebook, run_dir),
            "html": _relative(self.html, run_dir),
            "metrics": _relative(self.metrics, run_dir),
            "error": self.error,
        }

    def __repr__(self) -> str:
        return f"AnalysisResult({self.key!r}, status={self.status!r}, seconds={self.seconds:.1f})"


@dataclass(frozen=True)
class RunResult:
    """One params file's run: its folder and how each analysis ended.

    Attributes
    ----------
    dataset : str
        ``params.name`` (the params file's stem when the params were invalid).
    params_file : Path
        Absolute path of the params file.
    status : str
        ``ok``, ``failed`` (an analysis failed or was skipped) or ``invalid input``
        (params or intake rejected; nothing ran).
    title : str
        ``params.title``.
    as_of : str or None
        ``params.as_of`` (ISO date).
    run_dir : Path or None
        The run folder; ``None`` when the params file itself was invalid.
    started, finished : str
        ISO times.
    analyses : tuple of AnalysisResult
        In run order.
    error : str or None
        The input error message when ``status`` is ``invalid input``.
    """

    dataset: str
    params_file: Path
    status: str
    title: str = ""
    as_of: str | None = None
    run_dir: Path | None = None
    started: str = ""
    finished: str = ""
    analyses: tuple[AnalysisResult, ...] = field(default_factory=tuple)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the input was valid and every analysis ran without error."""
        return self.status == STATUS_OK

    @property
    def failed(self) -> list[AnalysisResult]:
        """Analyses that failed or were skipped."""
        return [a for a in self.analyses if not a.ok]

    def summary(self) -> pd.DataFrame:
        """One row per analysis: dataset, analysis, status, seconds, report, error (one row with
        the error when the input was invalid)."""
        return summary_table([self])

    def __repr__(self) -> str:
        where = self.run_dir.name if self.run_dir else "no run folder"
        return (f"RunResult({self.dataset!r}, status={self.status!r}, "
                f"analyses={len(self.analyses)}, {where})")


def summary_table(results: Sequence[RunResult]) -> pd.DataFrame:
    """Summary of runs for the terminal.

    Parameters
    ----------
    results : sequence of RunResult

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``analysis``, ``status``, ``seconds``, ``report`` (path of
        ``report.html``), ``error`` (first line); one row per analysis, or one row per run that
        had invalid input or nothing to run.
    """
    rows = []
    for r in results:
        if not r.analyses:
            status = r.status if r.status != STATUS_OK else "nothing to run"
            rows.append({"dataset": r.dataset, "analysis": "-", "status": status,
                         "seconds": None, "report": "", "error": r.error})
        for a in r.analyses:
            rows.append({
                "dataset": r.dataset,
                "analysis": a.key,
                "status": a.status,
                "seconds": round(a.seconds, 1),
                "report": _display_path(a.html) if a.html else "",
                "error": a.error,
            })
    return pd.DataFrame(rows, columns=["dataset", "analysis", "status", "seconds", "report", "error"])


# ----------------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------------


def run_analysis(
    key: str,
    params_file: str | Path,
    *,
    run_dir: str | Path | None = None,
    reports_dir: str | Path = "reports",
    progress: bool = True,
) -> RunResult:
    """Run one analysis notebook on one dataset (whether or not the params enable it).

    Parameters
    ----------
    key : str
        Analysis key (``data_profiling``).
    params_file : path
        The params YAML.
    run_dir : path, optional
        An existing run folder to (re)run the analysis in; its ``run.json`` is updated. Default:
        a new folder ``<reports_dir>/<name>-<YYYYmmdd-HHMMSS>``.
    reports_dir : path, default "reports"
        Where run folders and ``index.html`` live.
    progress : bool, default True
        Show papermill's per-cell progress bar.

    Returns
    -------
    RunResult
        ``status`` is ``invalid input`` (with ``error``) when params or intake were rejected.

    Raises
    ------
    ParamsError
        Unknown analysis key (with a did-you-mean).
    WorkbenchError
        The analysis's notebook file does not exist.
    """
    analysis = get_analysis(key)
    if not analysis.path.exists():
        raise WorkbenchError(_missing_notebook(analysis))
    return _run_dataset(
        Path(params_file), [analysis], reports_dir=Path(reports_dir),
        run_dir=Path(run_dir) if run_dir is not None else None, progress=progress,
        skip_failed_dependencies=False,
    )  # fmt: skip


def run_all(
    params_files: Sequence[str | Path],
    *,
    reports_dir: str | Path = "reports",
    only: Sequence[str] | None = None,
    progress: bool = True,
) -> list[RunResult]:
    """Run every analysis each params file enables, one run folder per params file.

    Parameters
    ----------
    params_files : sequence of path
        Params YAML files, run one after the other. An invalid one is reported in its
        :class:`RunResult` and the next one runs.
    reports_dir : path, default "reports"
        Where run folders and ``index.html`` live.
    only : sequence of str, optional
        Run only these analyses (of those each params file enables).
    progress : bool, default True
        Show papermill's per-cell progress bar.

    Returns
    -------
    list of RunResult
        One per params file, in the order given.

    Raises
    ------
    ParamsError
        An unknown key in ``only``.
    """
    wanted = None if only is None else {get_analysis(k).key for k in only}
    results = []
    for params_file in params_files:
        results.append(
            _run_dataset(Path(params_file), None, reports_dir=Path(reports_dir), run_dir=None,
                         progress=progress, only=wanted)
        )
    return results


# ----------------------------------------------------------------------------------------------
# One dataset
# ----------------------------------------------------------------------------------------------


def _run_dataset(
    params_file: Path,
    selected: list[Analysis] | None,
    *,
    reports_dir: Path,
    run_dir: Path | None,
    progress: bool,
    only: set[str] | None = None,
    skip_failed_dependencies: bool = True,
) -> RunResult:
    """Validate, take in and run the analyses of one params file; never raises WorkbenchError."""
    started = _now()
    params_path = params_file.expanduser().resolve()
    try:
        params = load_params(params_path)
    except WorkbenchError as err:
        _say(f"[params] {params_file}: rejected, this dataset does not run")
        return RunResult(dataset=params_file.stem.split(".")[0], params_file=params_path,
                         status=STATUS_INVALID, started=_iso(started), finished=_iso(_now()),
                         error=str(err))
    if selected is None:
        selected = _select(params, only)
    if run_dir is None:
        run_dir = new_run_dir(reports_dir, params.name, now=started)
    else:
        run_dir = run_dir.expanduser().resolve()
        run_dir.mkdir(parents=True, exist_ok=True)
    reports_dir = run_dir.parent
    record = _initial_record(params, params_path, run_dir, started)
    _write_run_json(run_dir, record)

    def finish(status: str, results: list[AnalysisResult], error: str | None = None) -> RunResult:
        finished = _now()
        record.update(status=status, finished=_iso(finished), error=error)
        record["analyses"] = _merge_records(record.get("analyses", []),
                                            [a.to_record(run_dir) for a in results])
        if error is None and status != STATUS_INTERRUPTED:
            record["status"] = _overall_status(record["analyses"])
        _write_run_json(run_dir, record)
        rebuild_index(reports_dir)
        return RunResult(
            dataset=params.name, params_file=params_path, status=record["status"],
            title=params.title, as_of=str(params.as_of), run_dir=run_dir, started=record["started"],
            finished=_iso(finished), analyses=tuple(results), error=error,
        )  # fmt: skip

    results: list[AnalysisResult] = []
    try:
        try:
            _intake(params, run_dir)
        except WorkbenchError as err:
            _say(f"[intake] {params.name}: input rejected, this dataset does not run")
            return finish(STATUS_INVALID, [], error=str(err))
        for i, analysis in enumerate(selected, start=1):
            head = f"[{i}/{len(selected)}] {params.name} · {analysis.key}"
            reason = _skip_reason(analysis, results) if skip_failed_dependencies else None
            if reason is not None:
                results.append(AnalysisResult(analysis.key, analysis.title, reason))
                _say(f"{head}: {reason}")
                continue
            _say(f"{head} …")
            result = _run_one(analysis, params, params_path, run_dir, progress=progress,
                              started=started)
            results.append(result)
            tail = "" if result.ok else f": {result.error}"
            _say(f"{head}: {result.status} in {result.seconds:.1f} s{tail}")
    except KeyboardInterrupt:
        finish(STATUS_INTERRUPTED, results)
        raise
    except Exception as err:  # a bug, not bad input: record it, then show the traceback
        finish(STATUS_FAILED, results, error=f"{type(err).__name__}: {err}")
        raise
    return finish(STATUS_OK, results)


def _select(params: Params, only: set[str] | None) -> list[Analysis]:
    """Analyses the params enable (restricted to ``only``), in registry order."""
    enabled = set(params.enabled_analyses())
    if only is not None:
        for key in sorted(only - enabled):
            _say(f"note: {params.name}: {key} is not enabled (analyses.{key}.enabled), not run")
    return [a for k, a in _registry.ANALYSES.items()
            if k in enabled and (only is None or k in only)]


def _intake(params: Params, run_dir: Path) -> None:
    """Read every table the params declare once, into ``intake/``."""
    from workbench.core.io import load_tables
    from workbench.run.session import save_intake

    names = list(params.tables)
    t0 = time.perf_counter()
    _say(f"[intake] {params.name}: {len(names)} table(s) …")
    tables = load_tables(params, names)
    save_intake(tables, run_dir / "intake")
    rows = ", ".join(f"{n} {len(t.frame):,} rows" for n, t in tables.items())
    _say(f"[intake] {params.name}: {rows} in {time.perf_counter() - t0:.1f} s")


def _skip_reason(analysis: Analysis, done: Sequence[AnalysisResult]) -> str | None:
    """``skipped (needs X, which failed)`` when an analysis it depends on did not succeed."""
    by_key = {r.key: r for r in done}
    for dep in analysis.depends_on:
        r = by_key.get(dep)
        if r is not None and not r.ok:
            what = "failed" if r.status == STATUS_FAILED else "was skipped"
            return f"skipped (needs {dep}, which {what})"
    return None


def _run_one(
    analysis: Analysis,
    params: Params,
    params_file: Path,
    run_dir: Path,
    *,
    progress: bool,
    started: dt.datetime,
) -> AnalysisResult:
    """Execute one notebook and render its report; failures become a ``failed`` result."""
    t0 = time.perf_counter()
    out_dir = run_dir / analysis.folder
    notebook = out_dir / "notebook.ipynb"
    html = out_dir / "report.html"
    metrics = out_dir / "metrics.json"
    if not analysis.path.exists():
        return AnalysisResult(analysis.key, analysis.title, STATUS_FAILED,
                              error=_missing_notebook(analysis))
    missing = _missing_tables(analysis, params)
    if missing:
        return AnalysisResult(analysis.key, analysis.title, STATUS_FAILED, error=missing)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (notebook, html, metrics):
        stale.unlink(missing_ok=True)
    error = None
    try:
        _execute(analysis.path, notebook, params_file=params_file, run_dir=run_dir,
                 progress=progress)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # any failure of the notebook is reported, not raised
        error = _error_line(err, notebook)
    status = STATUS_OK if error is None else STATUS_FAILED
    if notebook.exists():
        try:
            render_report(
                notebook, html,
                title=f"{params.title or params.name} · {analysis.title}",
                facts=_report_facts(params, params_file, started, time.perf_counter() - t0),
                status=status if error is None else f"{status}: {error}",
            )  # fmt: skip
        except Exception as err:  # the notebook result stands; the report is missing
            html.unlink(missing_ok=True)
            error = error or f"report could not be rendered: {type(err).__name__}: {err}"
            status = STATUS_FAILED
    return AnalysisResult(
        analysis.key, analysis.title, status, seconds=time.perf_counter() - t0,
        notebook=notebook if notebook.exists() else None, html=html if html.exists() else None,
        metrics=metrics if metrics.exists() else None, error=error,
    )  # fmt: skip


def _missing_tables(analysis: Analysis, params: Params) -> str | None:
    """Why the params cannot feed ``analysis`` (a table it needs is not declared), or None."""
    need = [t for t in analysis.tables if t not in params.tables]
    any_of = tuple(getattr(analysis, "any_tables", ()) or ())
    if need:
        keys = ", ".join(f"tables.{t}" for t in need)
        return (f"{analysis.key} needs table(s) {', '.join(need)}, which the params do not "
                f"declare; add {keys} or disable analyses.{analysis.key}")
    if any_of and not any(t in params.tables for t in any_of):
        return (f"{analysis.key} needs one of the tables {', '.join(any_of)}, none of which the "
                f"params declare; add one or disable analyses.{analysis.key}")
    return None


def _missing_notebook(analysis: Analysis) -> str:
    return (f"notebook of analysis {analysis.key!r} not found: {analysis.path} "
            f"(registered in workbench/analyses.py as {analysis.notebook!r})")


def _report_facts(params: Params, params_file: Path, started: dt.datetime, seconds: float) -> list[tuple[str, str]]:
    return [
        ("Dataset", params.name if not params.title else f"{params.title} ({params.name})"),
        ("As of", str(params.as_of)),
        ("Run", f"{started:%Y-%m-%d %H:%M} · {seconds:.0f} s"),
        ("Params", params_file.name),
    ]


# ----------------------------------------------------------------------------------------------
# Execution
# ----------------------------------------------------------------------------------------------


def _execute(notebook: Path, output: Path, *, params_file: Path, run_dir: Path, progress: bool) -> None:
    """Run ``notebook`` with papermill into ``output`` (written also when it fails)."""
    import papermill

    with _inline_figures():
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters={"params_file": str(params_file.resolve()), "run_dir": str(run_dir.resolve())},
            cwd=str(notebook.parent),
            kernel_name=kernel_name(),
            progress_bar=progress,
            log_output=False,
            report_mode=False,
            # the kernel's own log (e.g. "running over TCP without encryption") is noise here
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )


@contextlib.contextmanager
def _inline_figures() -> Iterator[None]:
    """Let the kernel use the inline matplotlib backend even when ``MPLBACKEND=Agg`` is set
    (as ``make run`` does); otherwise figures would be missing from the reports."""
    before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = _INLINE_BACKEND
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = before


def _error_line(err: BaseException, notebook: Path) -> str:
    """First line of what went wrong, ``Name: message``.

    A :class:`WorkbenchError` inside a notebook is printed as its message only (see
    :func:`workbench.run.session.start`), so papermill reports a bare ``CellExecutionError``; the
    message is then taken from the failing cell's printed output.
    """
    ename = getattr(err, "ename", None)
    evalue = getattr(err, "evalue", None)
    if ename is None:
        ename, evalue = type(err).__name__, str(err)
    if not evalue and notebook.exists():
        printed = _failing_cell_text(notebook)
        if printed:
            return printed
    text = f"{ename}: {evalue}" if evalue else str(ename)
    return next((line.strip() for line in text.splitlines() if line.strip()), str(ename))


def _failing_cell_text(notebook: Path) -> str | None:
    """Last printed line of the cell papermill marked as the one that raised."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            lines = [line.strip() for out in cell.get("outputs", []) if out.get("output_type") == "stream"
                     for line in out.get("text", "").splitlines() if line.strip()]
            return lines[-1] if lines else None
    return None


@lru_cache(maxsize=1)
def kernel_name() -> str:
    """Name of a kernel spec that starts this very interpreter (``sys.executable``).

    ``python3`` when it does: its ``argv[0]`` is ``python``/``python3`` (jupyter_client then
    starts ``sys.executable``) or this interpreter's path. Otherwise a ``crm-workbench`` spec
    pointing at ``sys.executable`` is written into ``<sys.prefix>/share/jupyter/kernels`` (the
    user's Jupyter folder when that is not writable) and used.

    Returns
    -------
    str
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    manager = KernelSpecManager()
    try:
        if _starts_this_python(manager.get_kernel_spec("python3").argv):
            return "python3"
    except NoSuchKernel:
        pass
    try:
        spec = manager.get_kernel_spec(FALLBACK_KERNEL)
        if _starts_this_python(spec.argv):
            return FALLBACK_KERNEL
    except NoSuchKernel:
        pass
    try:
        install_kernel_spec(Path(sys.prefix))
    except OSError:
        from jupyter_core.paths import jupyter_data_dir

        install_kernel_spec(Path(jupyter_data_dir()), data_dir=True)
    return FALLBACK_KERNEL


def _starts_this_python(argv: Sequence[str]) -> bool:
    if not argv:
        return False
    exe = argv[0]
    short = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    return exe in short or os.path.abspath(exe) == os.path.abspath(sys.executable)


def install_kernel_spec(prefix: Path, *, data_dir: bool = False) -> Path:
    """Write the ``crm-workbench`` kernel spec (``sys.executable -m ipykernel_launcher``).

    Parameters
    ----------
    prefix : Path
        Environment prefix (spec goes to ``share/jupyter/kernels``), or a Jupyter data folder
        when ``data_dir`` (spec goes to ``kernels``).
    data_dir : bool, default False
        ``prefix`` is a Jupyter data folder.

    Returns
    -------
    Path
        The spec folder.
    """
    folder = prefix / ("kernels" if data_dir else "share/jupyter/kernels") / FALLBACK_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (crm-workbench)",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------------------------
# HTML report
# ----------------------------------------------------------------------------------------------

_REPORT_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{#- the lab template without code cells and without scripts from a CDN, so it works offline -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
.wb-header { max-width: 1100px; margin: 24px auto 8px; padding: 0 20px 12px;
  border-bottom: 1px solid #ddd; font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", sans-serif; }
.wb-header h1 { font-size: 1.6em; margin: 0 0 8px; }
.wb-header dl { display: flex; flex-wrap: wrap; gap: 4px 28px; margin: 0; font-size: 0.95em; }
.wb-header dt { display: inline; color: #666; margin-right: 6px; }
.wb-header dd { display: inline; margin: 0; }
.wb-status { padding: 1px 8px; border-radius: 10px; color: #fff; }
.wb-ok { background: #2e7d32; } .wb-failed { background: #c62828; }
main { max-width: 1100px; margin: 0 auto; }
/* Chinese text: use the reader's CJK fonts (Windows, macOS, Linux) before the generic family */
body, .jp-RenderedHTMLCommon, .jp-RenderedText pre, table {
  font-family: system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB",
    "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif; }
.jp-RenderedHTMLCommon table { font-size: 12px; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- set wb = resources.workbench %}
<header class="wb-header">
<h1>{{ wb.title | e }}</h1>
<dl>
{%- for name, value in wb.facts %}
<div><dt>{{ name | e }}</dt><dd>{{ value | e }}</dd></div>
{%- endfor %}
<div><dt>Status</dt><dd><span class="wb-status wb-{{ wb.status_class }}">{{ wb.status | e }}</span></dd></div>
</dl>
</header>
{%- endblock body_header -%}
"""


def render_report(
    notebook: str | Path,
    html: str | Path,
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    status: str = STATUS_OK,
) -> Path:
    """Render an executed notebook as a self-contained HTML report without code.

    Uses nbconvert's ``lab`` template with inputs and prompts excluded, images embedded and
    no scripts loaded from a CDN (require.js, MathJax, Mermaid, widgets). Cells tagged
    ``remove-cell`` are dropped, ``remove-output`` lose their outputs.

    Parameters
    ----------
    notebook : path
        Executed ``.ipynb``.
    html : path
        Where to write the report.
    title : str
        Page title and heading (params title · analysis title).
    facts : sequence of (str, str)
        Header facts shown under the title (dataset, as of, run time, ...).
    status : str, default "ok"
        Status shown in the header (``failed: ValueError: ...`` shows red).

    Returns
    -------
    Path
        ``html``.
    """
    import nbformat
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    exporter = HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"workbench_report.html.j2": _REPORT_TEMPLATE})],
        template_file="workbench_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = title
    resources = {
        "metadata": {"path": str(Path(notebook).parent), "name": Path(notebook).stem},
        "workbench": {
            "title": title,
            "facts": list(facts),
            "status": status,
            "status_class": "ok" if status == STATUS_OK else "failed",
        },
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    out = Path(html)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(_drop_css_rules(body, "jp-InputArea-editor"), encoding="utf-8")
    return out


def _drop_css_rules(html: str, selector_part: str) -> str:
    """Remove CSS rules whose selector mentions ``selector_part`` from ``<style>`` blocks.

    Code cells are not rendered, so their editor styles are dead weight; without them the
    report holds no trace of code-input markup at all.
    """
    def clean(match: re.Match[str]) -> str:
        tokens = re.split(r"([{}])", match.group(2))
        kept: list[str] = []
        i = 0
        while i < len(tokens):
            is_rule = tokens[i + 1:i + 2] == ["{"] and tokens[i + 3:i + 4] == ["}"]
            if is_rule and tokens[i] not in "{}" and selector_part in tokens[i]:
                i += 4
                continue
            kept.append(tokens[i])
            i += 1
        return match.group(1) + "".join(kept) + match.group(3)

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", clean, html, flags=re.DOTALL)


# ----------------------------------------------------------------------------------------------
# run.json and index.html
# ----------------------------------------------------------------------------------------------


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
    path = run_dir / "run.json"
    old: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError, OSError):
            old = json.loads(path.read_text(encoding="utf-8"))
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


# ----------------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------------


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


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
