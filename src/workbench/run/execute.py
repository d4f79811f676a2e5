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

The pieces: :mod:`~workbench.run.kernel` (which kernel), :mod:`~workbench.run.html` (the
report page), :mod:`~workbench.run.index` (run folders, ``run.json``, ``index.html``).

Examples
--------
>>> from workbench.run.execute import run_all
>>> results = run_all(["params/example.yaml"])  # doctest: +SKIP
>>> results[0].summary()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.errors import ParamsError, WorkbenchError
from workbench.report import fmt
from workbench.report.i18n import LANGUAGES, date_text, t
from workbench.report.results import Result
from workbench.run import registry as _registry
from workbench.run.html import import_nbformat, render_report
from workbench.run.index import (
    _display_path,
    _initial_record,
    _iso,
    _merge_records,
    _now,
    _overall_status,
    _relative,
    _write_run_json,
    analysis_title,
    new_run_dir,
    read_runs,
    rebuild_index,
)
from workbench.run.intake import Intake, save_intake, take_in
from workbench.run.kernel import FALLBACK_KERNEL, kernel_name
from workbench.run.params import Params, load_params
from workbench.run.registry import Analysis, get_analysis
from workbench.run.schedule import (
    INTAKE_SECONDS,
    Slots,
    critical_paths,
    estimate_seconds,
    predecessors,
)
from workbench.run.session import LANGUAGE_ENV, run_language
from workbench.run.status import (
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_INVALID,
    STATUS_OK,
    STATUS_RUNNING,
)

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
    "language_env",
    "run_language",
    "new_run_dir",
    "FALLBACK_KERNEL",
    "STATUS_OK",
    "STATUS_FAILED",
    "STATUS_INVALID",
    "STATUS_RUNNING",
    "STATUS_INTERRUPTED",
]


_INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


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
    pdf : Path or None
        ``report.pdf`` (absolute), when one was asked for and written.
    note : str or None
        What went wrong without failing the analysis (``PDF not written: ...``).
    """

    key: str
    title: str
    status: str
    seconds: float = 0.0
    notebook: Path | None = None
    html: Path | None = None
    metrics: Path | None = None
    error: str | None = None
    pdf: Path | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the analysis ran without error."""
        return self.status == STATUS_OK

    def to_record(self, run_dir: Path) -> dict[str, Any]:
        """The ``run.json`` entry: paths relative to ``run_dir``; ``pdf`` and ``note`` only
        when there is one."""
        record = {
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 2),
            "notebook": _relative(self.notebook, run_dir),
            "html": _relative(self.html, run_dir),
            "metrics": _relative(self.metrics, run_dir),
            "error": self.error,
        }
        if self.pdf is not None:
            record["pdf"] = _relative(self.pdf, run_dir)
        if self.note:
            record["note"] = self.note
        return record

    def __repr__(self) -> str:
        return f"AnalysisResult({self.key!r}, status={self.status!r}, seconds={self.seconds:.1f})"


@dataclass(frozen=True)
class RunResult(Result):
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

    def plot(self, ax: Any = None) -> Any:
        """Seconds per analysis (a bar per analysis).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from workbench.report.plotting import bar_chart

        return bar_chart(self.summary(), value="seconds", label="analysis", ax=ax,
                         title=f"{self.dataset}: seconds per analysis")

    def metrics(self) -> dict[str, Any]:
        """Status of the run and of each analysis.

        Returns
        -------
        dict
            ``dataset``, ``status``, ``n_analyses``, ``n_failed`` and ``analyses``
            (key -> status).
        """
        return {
            "dataset": self.dataset,
            "status": self.status,
            "n_analyses": len(self.analyses),
            "n_failed": len(self.failed),
            "analyses": {a.key: a.status for a in self.analyses},
        }

    def finding(self) -> str:
        """One sentence: how the run ended and which analyses did not succeed."""
        if self.status == STATUS_INVALID:
            return f"{self.dataset}: input rejected, nothing ran ({self.error})."
        ok = len(self.analyses) - len(self.failed)
        text = f"{self.dataset}: {ok} of {len(self.analyses)} analyses ran without error"
        if self.failed:
            text += "; not ok: " + ", ".join(f"{a.key} ({a.status})" for a in self.failed)
        return text + "."

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


def run_analysis(
    key: str,
    params_file: str | Path,
    *,
    run_dir: str | Path | None = None,
    reports_dir: str | Path = "reports",
    progress: bool = True,
    language: str | None = None,
    pdf: bool = False,
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
    language : {"en", "zh"}, optional
        Report language overriding the params' ``report.language`` (the CLI's ``--lang``);
        also the language of ``index.html`` (default the params').
    pdf : bool, default False
        Also write ``report.pdf`` (the CLI's ``--pdf``; ``report.pdf`` in the params does too).

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
    _check_language(language)
    with language_env(language), kernel_threads(1):
        return _run_dataset(
            Path(params_file), [analysis], reports_dir=Path(reports_dir),
            run_dir=Path(run_dir) if run_dir is not None else None, progress=progress,
            skip_failed_dependencies=False, options=_Options(language, pdf, language),
        )  # fmt: skip


def run_all(
    params_files: Sequence[str | Path],
    *,
    reports_dir: str | Path = "reports",
    only: Sequence[str] | None = None,
    progress: bool = True,
    language: str | None = None,
    pdf: bool = False,
    jobs: int = 1,
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
    language : {"en", "zh"}, optional
        Report language of every params file, overriding ``report.language`` (the CLI's
        ``--lang``); also the language of ``index.html``, which is otherwise the first params
        file's.
    pdf : bool, default False
        Also write ``report.pdf`` next to each ``report.html`` (the CLI's ``--pdf``;
        ``report.pdf`` in a params file does too).
    jobs : int, default 1
        Notebooks (and intakes) run at the same time (the CLI's ``--jobs``), across datasets
        and within one where the analyses' dependencies allow (:mod:`workbench.run.schedule`:
        the longest chain of work first). With one job the datasets run one after the other
        and their analyses in registry order; with more the per-cell progress bars are off.

    Returns
    -------
    list of RunResult
        One per params file, in the order given.

    Raises
    ------
    ParamsError
        An unknown key in ``only``, or an unknown ``language``.
    """
    wanted = None if only is None else {get_analysis(k).key for k in only}
    _check_language(language)
    # several datasets: one index.html at the end (each rebuild re-reads every run and
    # re-embeds the page's font), not one per dataset
    options = _Options(language, pdf, language or _first_language(params_files), index=len(params_files) < 2)
    if jobs < 1:
        raise ParamsError(f"jobs={jobs} must be at least 1 (--jobs)")
    # absolute before any kernel starts: papermill changes the process's working directory while
    # it executes a notebook, which a dataset running beside it would otherwise resolve against
    reports = Path(reports_dir).expanduser().resolve()
    files = [Path(p).expanduser().resolve() for p in params_files]

    slots = Slots(jobs) if jobs > 1 else None

    def one(params_file: Path) -> RunResult:
        return _run_dataset(params_file, None, reports_dir=reports, run_dir=None,
                            progress=progress and jobs == 1, only=wanted, options=options, slots=slots)

    with language_env(language), kernel_threads(jobs):
        try:
            if slots is None:
                return [one(p) for p in files]
            # every dataset starts at once and waits for a slot: kernels are processes, threads only wait
            with ThreadPoolExecutor(max_workers=len(files)) as pool:
                return list(pool.map(one, files))
        finally:
            if not options.index and reports.is_dir():
                with _INDEX_LOCK:
                    rebuild_index(reports, language=options.index_language)


_INDEX_LOCK = threading.Lock()


@dataclass(frozen=True)
class _Options:
    """What the command line asks of every dataset of a command: the report language (None:
    each params file's), whether to write PDFs, the language of ``index.html`` (None: the
    dataset's own) and whether each dataset rebuilds ``index.html`` when it ends (else the
    command does, once)."""

    language: str | None = None
    pdf: bool = False
    index_language: str | None = None
    index: bool = True


def _check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise ParamsError(f"report language {language!r} is not one of {', '.join(LANGUAGES)} (--lang)")


def _first_language(params_files: Sequence[str | Path]) -> str | None:
    """``report.language`` of the first params file that loads (None when none does)."""
    for params_file in params_files:
        try:
            return load_params(Path(params_file).expanduser().resolve()).report.language
        except WorkbenchError:
            continue
    return None


BLAS_ENV = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""BLAS thread variables a kernel's numpy and scipy read at import: one thread, always."""
OPENMP_ENV = "OMP_NUM_THREADS"
"""OpenMP threads (scikit-learn's k-means and boosting): the kernel's share of the cores."""


@contextlib.contextmanager
def kernel_threads(jobs: int) -> Iterator[None]:
    """Thread pools of the kernels started inside the block, unless the environment already
    sets them: one BLAS thread, and ``cores // jobs`` OpenMP threads (at least one) when ``jobs``
    kernels run side by side.

    One BLAS thread makes the figures the same whatever the cores and ``--jobs`` (a multi-threaded
    BLAS sums in another order: the CDNOW Gamma-Gamma fit moved by 1e-7 between one and two
    threads), and kernels side by side no longer wait on each other's threads (two notebooks on
    two cores: the forecast backtest took 90 s with two BLAS threads per kernel, 8.5 s with one).

    Parameters
    ----------
    jobs : int
        Notebooks at once (``--jobs``).

    Examples
    --------
    >>> import os
    >>> for name in (*BLAS_ENV, OPENMP_ENV):
    ...     _ = os.environ.pop(name, None)
    >>> with kernel_threads(os.cpu_count() or 1):
    ...     os.environ["OPENBLAS_NUM_THREADS"], os.environ["OMP_NUM_THREADS"]
    ('1', '1')
    >>> "OMP_NUM_THREADS" in os.environ
    False
    """
    values = dict.fromkeys(BLAS_ENV, "1")
    if jobs > 1:
        values[OPENMP_ENV] = str(max(1, (os.cpu_count() or 1) // jobs))
    added = {name: value for name, value in values.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


@contextlib.contextmanager
def language_env(language: str | None) -> Iterator[None]:
    """Set :data:`~workbench.run.session.LANGUAGE_ENV` for the kernels started inside the
    block (the CLI's ``--lang``), and restore the environment afterwards.

    Parameters
    ----------
    language : {"en", "zh"} or None
        None leaves the environment as it is.

    Examples
    --------
    >>> import os
    >>> with language_env("zh"):
    ...     os.environ["WORKBENCH_LANGUAGE"]
    'zh'
    """
    if language is None:
        yield
        return
    before = os.environ.get(LANGUAGE_ENV)
    os.environ[LANGUAGE_ENV] = language
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LANGUAGE_ENV, None)
        else:
            os.environ[LANGUAGE_ENV] = before


def _run_dataset(
    params_file: Path,
    selected: list[Analysis] | None,
    *,
    reports_dir: Path,
    run_dir: Path | None,
    progress: bool,
    only: set[str] | None = None,
    skip_failed_dependencies: bool = True,
    options: _Options = _Options(),
    slots: Slots | None = None,
) -> RunResult:
    """Validate, take in and run the analyses of one params file; never raises WorkbenchError.

    With ``slots`` the intake and each notebook wait for one of the command's job slots, and
    analyses that do not wait for one another may run side by side (:func:`_run_side_by_side`).
    """
    started = _now()
    params_path = params_file.expanduser().resolve()
    try:
        params = load_params(params_path)
        language = run_language(params)
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
    record = _initial_record(params, params_path, run_dir, started, language=language)
    _write_run_json(run_dir, record)
    pdf = options.pdf or params.report.pdf

    def finish(status: str, results: list[AnalysisResult], error: str | None = None) -> RunResult:
        finished = _now()
        record.update(status=status, finished=_iso(finished), error=error)
        record["analyses"] = _merge_records(record.get("analyses", []),
                                            [a.to_record(run_dir) for a in results])
        if error is None and status != STATUS_INTERRUPTED:
            record["status"] = _overall_status(record["analyses"])
        record.update(_intake_record(run_dir))
        _write_run_json(run_dir, record)
        if options.index:
            with _INDEX_LOCK:  # datasets running side by side (jobs > 1) write one index.html
                rebuild_index(reports_dir, language=options.index_language or language)
        return RunResult(
            dataset=params.name, params_file=params_path, status=record["status"],
            title=params.title, as_of=str(params.as_of), run_dir=run_dir, started=record["started"],
            finished=_iso(finished), analyses=tuple(results), error=error,
        )  # fmt: skip

    results: list[AnalysisResult] = []

    def run(analysis: Analysis, head: str, done: Sequence[AnalysisResult]) -> AnalysisResult:
        reason = _skip_reason(analysis, done) if skip_failed_dependencies else None
        if reason is not None:
            _say(f"{head}: {reason}")
            return AnalysisResult(analysis.key, analysis.title, reason)
        with slots.hold(priority[analysis.key]) if slots is not None else contextlib.nullcontext():
            _say(f"{head} …")
            result = _run_one(analysis, params, params_path, run_dir, progress=progress,
                              started=started, language=language, pdf=pdf)
        tail = "" if result.ok else f": {result.error}"
        _say(f"{head}: {result.status} in {result.seconds:.1f} s{tail}")
        return result

    priority = _priorities(params, selected, reports_dir) if slots is not None else {}
    try:
        try:
            first = max(priority.values(), default=0.0) + INTAKE_SECONDS
            with slots.hold(first) if slots is not None else contextlib.nullcontext():
                _intake(params, run_dir)
        except WorkbenchError as err:
            _say(f"[intake] {params.name}: input rejected, this dataset does not run")
            return finish(STATUS_INVALID, [], error=str(err))
        if slots is not None and _side_by_side_safe(params):
            _run_side_by_side(selected, run, params.name, results)
        else:
            for i, analysis in enumerate(selected, start=1):
                results.append(run(analysis, f"[{i}/{len(selected)}] {params.name} · {analysis.key}", results))
    except KeyboardInterrupt:
        finish(STATUS_INTERRUPTED, results)
        raise
    except Exception as err:  # a bug, not bad input: record it, then show the traceback
        finish(STATUS_FAILED, results, error=f"{type(err).__name__}: {err}")
        raise
    return finish(STATUS_OK, results)


def _priorities(params: Params, selected: Sequence[Analysis], reports_dir: Path) -> dict[str, float]:
    """Each analysis's priority for a job slot: the estimated seconds of the longest chain of
    work it starts (:func:`workbench.run.schedule.critical_paths`)."""
    seconds = estimate_seconds(reports_dir, params.name, [a.key for a in selected])
    return critical_paths(selected, seconds)


def _side_by_side_safe(params: Params) -> bool:
    """Whether two notebooks of this dataset may run at once: each opens its own in-memory
    DuckDB; a database file (one writer at a time) or a Spark session per notebook may not."""
    engine = params.engine
    return engine.backend == "duckdb" and engine.database == ":memory:"


def _run_side_by_side(
    selected: Sequence[Analysis],
    run: Callable[[Analysis, str, Sequence[AnalysisResult]], AnalysisResult],
    name: str,
    results: list[AnalysisResult],
) -> None:
    """Run each analysis as soon as those it must follow (:func:`~workbench.run.schedule.predecessors`)
    have ended; ``results`` gets them in registry order (those that ended, when one raised)."""
    after = predecessors(selected)
    order = [a.key for a in selected]
    futures: dict[str, Future[AnalysisResult]] = {}

    def task(analysis: Analysis, head: str) -> AnalysisResult:
        done = [futures[k].result() for k in order if k in after[analysis.key]]
        return run(analysis, head, done)

    with ThreadPoolExecutor(max_workers=len(selected) or 1) as pool:
        for i, analysis in enumerate(selected, start=1):  # registry order: what it follows is submitted
            futures[analysis.key] = pool.submit(task, analysis, f"[{i}/{len(selected)}] {name} · {analysis.key}")
        wait(futures.values())
    results.extend(f.result() for f in futures.values() if f.exception() is None)
    for future in futures.values():
        if future.exception() is not None:
            raise future.exception()


def _select(params: Params, only: set[str] | None) -> list[Analysis]:
    """Analyses the params enable (restricted to ``only``), in registry order."""
    enabled = set(params.enabled_analyses())
    if only is not None:
        for key in sorted(only - enabled):
            _say(f"note: {params.name}: {key} is not enabled (analyses.{key}.enabled), not run")
    return [a for k, a in _registry.ANALYSES.items()
            if k in enabled and (only is None or k in only)]


def _intake(params: Params, run_dir: Path) -> Intake:
    """Read every table the params declare once, personal data treated, into ``intake/``."""
    names = list(params.tables)
    t0 = time.perf_counter()
    _say(f"[intake] {params.name}: {len(names)} table(s) …")
    intake = take_in(params, names, resident_dir=run_dir / "intake")  # large tables stay in the engine there
    save_intake(intake, run_dir / "intake")
    rows = ", ".join(f"{n} {len(t.frame):,} rows" for n, t in intake.tables.items())
    _say(f"[intake] {params.name}: {rows} in {time.perf_counter() - t0:.1f} s")
    if intake.personal:
        treated = ", ".join(f"{pc.table}.{pc.column} {pc.treatment}" for pc in intake.personal)
        _say(f"[intake] {params.name}: personal data: {treated}")
    if params.privacy.default_secret and not params.privacy.allow_raw_keys:
        _say(f"[intake] {params.name}: warning: pseudonyms use the shipped default secret, so anyone can "
             f"recompute them; set privacy.salt or the {params.privacy.secret_env} environment variable")
    return intake


def _intake_record(run_dir: Path) -> dict[str, Any]:
    """``run.json`` entries: the inputs with checksums, the personal data found and how it was
    treated (no values), and the manifest of every file the run wrote."""
    from workbench.run.intake import read_meta
    from workbench.run.manifest import build_manifest

    meta = read_meta(run_dir / "intake")
    personal = meta.get("_personal_data", [])
    return {"fingerprint": meta.get("_fingerprint"), "inputs": meta.get("_inputs", []),
            "personal_data": personal, "files": build_manifest(run_dir, personal)}


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
    language: str = "en",
    pdf: bool = False,
) -> AnalysisResult:
    """Execute one notebook and render its report (in ``language``, plus ``report.pdf`` when
    ``pdf``); failures become a ``failed`` result, a PDF that cannot be written a note."""
    t0 = time.perf_counter()
    out_dir = run_dir / analysis.folder
    notebook = out_dir / "notebook.ipynb"
    html = out_dir / "report.html"
    pdf_file = out_dir / "report.pdf"
    metrics = out_dir / "metrics.json"
    if not analysis.path.exists():
        return AnalysisResult(analysis.key, analysis.title, STATUS_FAILED,
                              error=_missing_notebook(analysis))
    missing = _missing_tables(analysis, params)
    if missing:
        return AnalysisResult(analysis.key, analysis.title, STATUS_FAILED, error=missing)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (notebook, html, pdf_file, metrics):
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
            with fmt.use(language=language):
                render_report(
                    notebook, html,
                    title=f"{params.title or params.name} · {analysis_title(analysis.key, analysis.title)}",
                    facts=_report_facts(params, params_file, started, time.perf_counter() - t0),
                    status=status if error is None else f"{status}: {error}",
                    provenance=_provenance(metrics),
                    language=language,
                )  # fmt: skip
        except Exception as err:  # the notebook result stands; the report is missing
            html.unlink(missing_ok=True)
            error = error or f"report could not be rendered: {type(err).__name__}: {err}"
            status = STATUS_FAILED
    note = None
    if pdf and html.exists():
        note = _write_pdf(html)
    return AnalysisResult(
        analysis.key, analysis.title, status, seconds=time.perf_counter() - t0,
        notebook=notebook if notebook.exists() else None, html=html if html.exists() else None,
        metrics=metrics if metrics.exists() else None, error=error,
        pdf=pdf_file if pdf_file.exists() else None, note=note,
    )  # fmt: skip


def _write_pdf(html: Path) -> str | None:
    """Write ``report.pdf`` next to ``html``; what went wrong as a note (None when it worked):
    a missing PDF never fails the analysis."""
    try:
        from workbench.run.pdf import write_pdf

        write_pdf(html)
    except KeyboardInterrupt:
        raise
    except Exception as err:  # Chromium missing, a timeout ...: the HTML report stands
        (html.parent / "report.pdf").unlink(missing_ok=True)
        message = next((line.strip() for line in str(err).splitlines() if line.strip()), "")
        return f"PDF not written: {type(err).__name__}: {message}" if message else \
            f"PDF not written: {type(err).__name__}"
    return None


def _provenance(metrics: Path) -> dict[str, Any] | None:
    """The ``provenance`` entry of an analysis's ``metrics.json`` (None when not written)."""
    import json

    try:
        return json.loads(metrics.read_text(encoding="utf-8")).get("provenance")
    except (OSError, ValueError, AttributeError):
        return None


def _missing_tables(analysis: Analysis, params: Params) -> str | None:
    """Why the params cannot feed ``analysis`` (a table it needs is not declared), or None."""
    need = [t for t in analysis.tables if t not in params.tables]
    any_of = analysis.any_tables
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
    """The facts under a report's title, labelled (``report.facts.*``) in the language in force."""
    when = f"{date_text(started)} {started:%H:%M}"
    return [
        (t("report.facts.dataset"), params.name if not params.title else f"{params.title} ({params.name})"),
        (t("report.facts.as_of"), date_text(params.as_of)),
        (t("report.facts.run"), t("index.facts.run_value", time=when, seconds=fmt.count(seconds))),
        (t("report.facts.params"), params_file.name),
    ]


def _execute(notebook: Path, output: Path, *, params_file: Path, run_dir: Path, progress: bool) -> None:
    """Run ``notebook`` with papermill into ``output`` (written also when it fails)."""
    import_nbformat()  # before papermill imports it
    import papermill

    with _inline_figures():
        papermill.execute_notebook(
            str(notebook),
            str(output),
            parameters={"params_file": str(params_file.resolve()), "run_dir": str(run_dir.resolve())},
            # the kernel starts in the notebook's folder (nbclient's resources path) without
            # papermill's cwd=, which changes the whole process's working directory: not safe
            # while another dataset runs beside this one (run_all(jobs=2))
            resources={"metadata": {"path": str(notebook.parent)}},
            kernel_name=kernel_name(),
            progress_bar=progress,
            log_output=False,
            report_mode=False,
            # the kernel's own log (e.g. "running over TCP without encryption") is noise here
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )


_INLINE_LOCK = threading.Lock()
_inline_users = 0
_backend_before: str | None = None


@contextlib.contextmanager
def _inline_figures() -> Iterator[None]:
    """Let the kernel use the inline matplotlib backend even when ``MPLBACKEND=Agg`` is set
    (as ``make run`` does); otherwise figures would be missing from the reports."""
    global _inline_users, _backend_before
    with _INLINE_LOCK:  # datasets side by side: the first sets the variable, the last restores it
        if _inline_users == 0:
            _backend_before = os.environ.get("MPLBACKEND")
            os.environ["MPLBACKEND"] = _INLINE_BACKEND
        _inline_users += 1
    try:
        yield
    finally:
        with _INLINE_LOCK:
            _inline_users -= 1
            if _inline_users == 0:
                if _backend_before is None:
                    os.environ.pop("MPLBACKEND", None)
                else:
                    os.environ["MPLBACKEND"] = _backend_before


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
    nbformat = import_nbformat()

    nb = nbformat.read(notebook, as_version=4)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("papermill", {}).get("exception"):
            lines = [line.strip() for out in cell.get("outputs", []) if out.get("output_type") == "stream"
                     for line in out.get("text", "").splitlines() if line.strip()]
            return lines[-1] if lines else None
    return None


def _say(message: str) -> None:
    """One progress line on stderr, written at once (threads side by side do not mix lines)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
