"""The notebook side of a run: params, tables, artifacts, figures and metrics in one object.

A notebook's setup cell is one call::

    ctx = session.start(params_file, run_dir=run_dir, analysis="data_profiling")

Run folder layout (``reports/<name>-<YYYYmmdd-HHMMSS>/``)::

    run.json                     what ran, when, with which params, and how it ended
    intake/<table>.parquet       tables after the contract (read once per run); a table with more
                                 rows than engine.resident_rows stays there, in the engine
    intake/intake.json           per-table source info and per-column intake reports
    01_data_profiling/           one folder per analysis
        notebook.ipynb           executed notebook (kept when it fails, error visible)
        report.html              self-contained rendering without code, for managers
        figures/*.png
        artifacts/*.parquet|csv  outputs later analyses read (e.g. clean_orders.parquet)
        resident/*.parquet       tables this analysis made in the engine (a resident table cleaned)
        metrics.json             machine-readable figures of the run

Run interactively (JupyterLab, ``run_dir`` empty), the run folder is
``reports/<name>-interactive/``.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from html import escape as html_escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel

from workbench.core.contract import LoadedTable
from workbench.core.errors import ParamsError, WorkbenchError, did_you_mean
from workbench.core.io import write_excel_csv
from workbench.core.params import CleaningParams, PrivacyParams
from workbench.core.pii import PersonalColumn
from workbench.core.resident import RESIDENT_KEY, ResidentFrame, is_resident, materialize
from workbench.report import fmt
from workbench.report.i18n import LANGUAGES, t
from workbench.report.summary import ReportSummary
from workbench.report.tables import install_table_formatter
from workbench.run.intake import (
    known_inputs,
    merge_personal,
    read_intake,
    save_intake,
    take_in,
    to_jsonable,
)
from workbench.run.manifest import read_written_table
from workbench.run.params import Params, load_params
from workbench.run.provenance import (
    ArtifactRef,
    InputFile,
    Provenance,
    fingerprint,
    input_files,
    read_json_object,
    record_artifact,
)
from workbench.run.provenance import find_artifact as _find
from workbench.run.provenance import find_earlier_artifact as _find_earlier
from workbench.run.registry import get_analysis

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = ["RunContext", "start", "run_language", "LANGUAGE_ENV", "params_hint", "save_intake", "read_intake", "find_artifact",
           "EarlierArtifact", "find_earlier_artifact", "to_jsonable"]

PROJECT_ROOT = Path(__file__).resolve().parents[3]
#: Resolution of the figures a run saves (``figures/*.png``), which the notebook also shows.
FIGURE_DPI = 110


def find_artifact(run_dir: Path, analysis: str, name: str, *, fingerprint: str) -> ArtifactRef | None:
    """An artifact of an earlier analysis made from the same inputs: in this run, else in any
    other run folder beside it whose artifact records the same fingerprint (never by name).

    Parameters
    ----------
    run_dir : Path
        Current run folder.
    analysis : str
        Analysis key that wrote it (``data_profiling``).
    name : str
        Artifact file name (``clean_orders.parquet``).
    fingerprint : str
        Fingerprint of the current inputs and params.

    Returns
    -------
    ArtifactRef or None
    """
    return _find(run_dir, get_analysis(analysis).folder, analysis, name, fingerprint=fingerprint)


@dataclass(frozen=True)
class EarlierArtifact:
    """An artifact of an earlier run of the same dataset (see :func:`find_earlier_artifact`):
    something to compare with, never a result to reuse.

    Attributes
    ----------
    frame : pandas.DataFrame
        The artifact's rows.
    run : str
        The run (folder name) that wrote it.
    as_of : str
        That run's ``as_of`` (ISO date), earlier than the current one.
    ref : ArtifactRef
        Where it is, with the fingerprint of the inputs it was made from.
    """

    frame: pd.DataFrame
    run: str
    as_of: str
    ref: ArtifactRef


def find_earlier_artifact(run_dir: Path, analysis: str, name: str, *, dataset: str,
                          as_of: Any) -> tuple[ArtifactRef, str] | None:
    """The newest artifact ``name`` of ``analysis`` from another run folder beside ``run_dir``
    whose run was of the same ``dataset`` with an ``as_of`` before this one.

    Unlike :func:`find_artifact` the fingerprint need not match (the data have grown since): the
    artifact is recorded in that run's ``artifacts.json``, and the dataset name and ``as_of`` come
    from its ``metrics.json`` or ``run.json``; a run that records neither is never taken.

    Parameters
    ----------
    run_dir : Path
        Current run folder.
    analysis : str
        Analysis key that wrote it (``forecast``).
    name : str
        Artifact file name (``forecast.parquet``).
    dataset : str
        The current params' ``name``.
    as_of : date-like
        The current ``as_of``; only runs with an earlier one count.

    Returns
    -------
    (ArtifactRef, str) or None
        The one with the latest ``as_of`` (then the latest written) and that ``as_of`` (ISO
        date); ``None`` when no earlier run of the dataset wrote it.
    """
    return _find_earlier(run_dir, get_analysis(analysis).folder, analysis, name, dataset=dataset, as_of=as_of)


@dataclass
class RunContext:
    """What a notebook needs during a run.

    Attributes
    ----------
    params : Params
        Validated params.
    run_dir : Path
        The run folder.
    analysis : str
        Key of the analysis this notebook is.
    metrics : dict
        Figures recorded with :meth:`record`; written by :meth:`finish`.
    """

    params: Params
    run_dir: Path
    analysis: str
    params_file: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _tables: dict[str, LoadedTable] | None = None
    _personal: list[PersonalColumn] = field(default_factory=list)
    _inputs: list[InputFile] | None = None
    _fingerprint: str | None = None
    _read: list[ArtifactRef] = field(default_factory=list)
    _recomputed: list[str] = field(default_factory=list)
    _engine: Any = None
    _figures: int = 0

    @property
    def out_dir(self) -> Path:
        """This analysis's folder in the run."""
        return self.run_dir / get_analysis(self.analysis).folder

    @property
    def figures_dir(self) -> Path:
        """Where figures are saved."""
        return self.out_dir / "figures"

    @property
    def artifacts_dir(self) -> Path:
        """Where artifacts are saved."""
        return self.out_dir / "artifacts"

    @property
    def resident_dir(self) -> Path:
        """Where this analysis keeps the tables it makes in the engine (a cleaned resident table:
        ``cleaning.clean_tables(..., con=ctx.engine, out_dir=ctx.resident_dir)``)."""
        return self.out_dir / "resident"

    @property
    def seed(self) -> int:
        """The run's seed (``params.seed``)."""
        return self.params.seed

    @property
    def fingerprint(self) -> str:
        """Fingerprint of this run's inputs (file checksums and params); artifacts are reused
        only when made from the same one."""
        if self._fingerprint is None:
            self._inputs = input_files(self.params, known=known_inputs(self.run_dir / "intake"))
            self._fingerprint = fingerprint(self._inputs, self.params)
        return self._fingerprint

    @property
    def engine(self) -> ibis.BaseBackend:
        """The run's query engine, opened once from ``params.engine`` (DuckDB by default, or
        Spark) and closed by :meth:`finish`; pass it as ``con=`` to every engine computation.

        Raises
        ------
        WorkbenchError
            The engine cannot start (e.g. ``engine.backend: spark`` without pyspark), naming the
            ``engine.*`` key.
        """
        if self._engine is None:
            from workbench.data.engine import connect_params

            self._engine = connect_params(self.params.engine, base_dir=self.params.base_dir)
        return self._engine

    def close_engine(self) -> None:
        """Close the run's engine if it was opened (:meth:`finish` does this)."""
        if self._engine is not None:
            from workbench.data.engine import close

            engine, self._engine = self._engine, None
            close(engine)

    def tables(self, names: Sequence[str] | None = None, *, resident: Sequence[str] = ()) -> dict[str, LoadedTable]:
        """Tables after intake, personal data treated (read once per run and cached in
        ``intake/``; the cache is used only when made from the same inputs).

        Parameters
        ----------
        names : sequence of str, optional
            Tables wanted; default every table in the params.
        resident : sequence of str, default ()
            Tables the notebook accepts kept in the engine: one of them with more rows than
            ``engine.resident_rows`` comes back as a :class:`~workbench.core.resident.ResidentFrame`
            (pass it with ``con=ctx.engine``). Every other table is a pandas frame, read whole.

        Raises
        ------
        WorkbenchError
            ``resident`` names a table the contract does not know.
        """
        wanted = list(self.params.tables) if names is None else list(names)
        keep = _resident_names(resident)
        self._load(wanted)
        return {n: self._held(n, keep=n in keep) for n in wanted}

    def _load(self, wanted: list[str]) -> dict[str, LoadedTable]:
        """The intake of ``wanted`` (this run's cache, else read now and cached), large tables
        kept in the engine as Parquet in ``intake/``."""
        if self._tables is None or any(n not in self._tables for n in wanted):
            folder = self.run_dir / "intake"
            cached = read_intake(folder, wanted, fingerprint=self.fingerprint,
                                 resident_rows=self.params.engine.resident_rows)
            if cached is None:
                cached = take_in(self.params, wanted, known=self._inputs or (), resident_dir=folder)
                save_intake(cached, folder)
            self._tables = {**(self._tables or {}), **cached.tables}
            self._personal = merge_personal(self._personal, cached.personal)
        return {n: self._tables[n] for n in wanted}

    def _held(self, name: str, *, keep: bool) -> LoadedTable:
        """Table ``name`` as the notebook takes it: resident when ``keep``, else a pandas frame
        (read once, then held for the rest of the run)."""
        assert self._tables is not None
        table = self._tables[name]
        if is_resident(table.frame) and not keep:
            table = replace(table, frame=materialize(table.frame))
            self._tables[name] = table
        return table

    def personal_data(self) -> list[PersonalColumn]:
        """Personal-data columns found at intake in the tables read so far, with the reason and
        the treatment (never the values). Reads every table when none was read yet (a large
        one stays in the engine)."""
        if self._tables is None:
            self._load(list(self.params.tables))
        return list(self._personal)

    def _artifact_ref(self, analysis: str, name: str) -> ArtifactRef | None:
        ref = find_artifact(self.run_dir, analysis, name, fingerprint=self.fingerprint)
        if ref is not None and all(r.path != ref.path for r in self._read):
            self._read.append(ref)
        return ref

    def clean_tables(self, *, resident: Sequence[str] = ()) -> dict[str, pd.DataFrame | ResidentFrame]:
        """Cleaned tables: the data-profiling artifacts made from the same inputs (this run or
        another run of the same files and params), else the cleaning step run here.

        Parameters
        ----------
        resident : sequence of str, default ()
            Tables the notebook accepts kept in the engine (``("orders",)``): one with more
            rows than ``engine.resident_rows`` comes back as a
            :class:`~workbench.core.resident.ResidentFrame` over its Parquet (pass it with
            ``con=ctx.engine``); every other table is a pandas frame.

        Raises
        ------
        WorkbenchError
            ``resident`` names a table the contract does not know.
        """
        keep = _resident_names(resident)
        refs = {name: self._artifact_ref("data_profiling", f"clean_{name}.parquet") for name in self.params.tables}
        if all(ref is not None for ref in refs.values()):
            return {name: self._read_clean(ref.path, name, keep=name in keep) for name, ref in refs.items() if ref}
        from workbench.data.cleaning import clean_tables

        self._recomputed.append("data_profiling/clean_*.parquet")
        tables = self.tables(resident=keep)
        in_engine = any(is_resident(t.frame) for t in tables.values())
        engine_kw: dict[str, Any] = {"con": self.engine, "out_dir": self.resident_dir} if in_engine else {}
        result = clean_tables(
            tables, as_of=self.params.as_of, launch_date=self.params.launch_date, **engine_kw,
            **self.params.cleaning.model_dump(),
        )  # fmt: skip
        return {name: frame if name in keep or not is_resident(frame) else materialize(frame)
                for name, frame in result.tables.items()}  # fmt: skip

    def _read_clean(self, path: Path, name: str, *, keep: bool) -> pd.DataFrame | ResidentFrame:
        """A cleaned-table artifact: resident (its footer read, no rows) when ``keep`` and it has
        more rows than ``engine.resident_rows``, else read into pandas."""
        limit = self.params.engine.resident_rows
        frame = ResidentFrame.of(path, table=name)
        return frame if keep and limit is not None and frame.rows > limit else materialize(frame)

    def artifact(self, analysis: str, name: str) -> pd.DataFrame | None:
        """An earlier analysis's artifact made from the same inputs (this run, else another run
        of the same files and params), or ``None`` when none was (e.g. segmentation not enabled,
        or its runs used other inputs: then a warning says so).

        Parameters
        ----------
        analysis : str
            Analysis key that writes it (``segmentation``).
        name : str
            File name (``segments.parquet``).
        """
        ref = self._artifact_ref(analysis, name)
        if ref is None:
            self._recomputed.append(f"{analysis}/{name} (none from these inputs)")
            return None
        return pd.read_parquet(ref.path)

    def earlier_artifact(self, name: str, *, analysis: str | None = None) -> EarlierArtifact | None:
        """The newest artifact ``name`` of this analysis (or ``analysis``) from an earlier run of
        the same dataset (same params ``name``, an earlier ``as_of``, another run folder beside
        this one), to compare with: e.g. an earlier forecast against what has happened since.

        Never a reuse of results (that is :meth:`artifact`, same inputs only): the inputs have
        changed since, so the artifact is listed under "where the data came from" with the run that
        made it and its own fingerprint.

        Parameters
        ----------
        name : str
            File name (``forecast.parquet``).
        analysis : str, optional
            Analysis key that writes it; default this one.

        Returns
        -------
        EarlierArtifact or None
        """
        key = analysis or self.analysis
        found = find_earlier_artifact(self.run_dir, key, name, dataset=self.params.name, as_of=self.params.as_of)
        if found is None:
            return None
        ref, as_of = found
        frame = read_written_table(ref.path)
        if all(r.path != ref.path for r in self._read):
            self._read.append(ref)
        return EarlierArtifact(frame, ref.run, as_of, ref)

    def provenance(self) -> Provenance:
        """Where this analysis's data came from: input files and checksums, artifacts read and
        the run that made each."""
        self.fingerprint  # noqa: B018 - computes the inputs
        return Provenance(tuple(self._inputs or ()), tuple(self._read), self.fingerprint, tuple(self._recomputed))

    def truth(self) -> pd.DataFrame | None:
        """Synthetic data only: the generator's per-customer truth (``ground_truth`` param), else
        ``None``. Used for recovery checks shown next to the estimates, never as an input."""
        if self.params.ground_truth is None:
            return None
        truth = pd.read_parquet(self.params.resolve(self.params.ground_truth))
        if "customer_id" in truth and any(pc.column == "customer_id" and pc.treatment == "pseudonymize"
                                          for pc in self.personal_data()):
            from workbench.core.privacy import pseudonymize

            truth = truth.assign(customer_id=pseudonymize(truth["customer_id"], salt=self.params.privacy.secret()))
        return truth

    def truth_summary(self) -> dict[str, Any] | None:
        """Synthetic data only: ``ground_truth.json`` beside the truth file, else ``None``."""
        if self.params.ground_truth is None:
            return None
        path = self.params.resolve(self.params.ground_truth).with_name("ground_truth.json")
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def save_artifact(self, name: str, frame: pd.DataFrame | ResidentFrame, *, csv: bool = False) -> Path:
        """Write ``frame`` as ``artifacts/<name>.parquet`` with microsecond timestamps (every
        engine, Spark included, reads them), and ``.csv`` in UTF-8 with BOM so Excel opens
        Chinese text, when ``csv``. Returns the parquet path.

        A resident table (:class:`~workbench.core.resident.ResidentFrame`) is put in place as the
        Parquet it already is (hard-linked, else copied; never read into pandas) and recorded
        with the fingerprint as any artifact; it stays usable where it was.

        Raises
        ------
        WorkbenchError
            ``csv`` asked for a resident table.
        """
        from workbench.data.engine import to_microseconds

        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        path = self.artifacts_dir / f"{name}.parquet"
        written = [path.name]
        if is_resident(frame):
            if csv:
                raise WorkbenchError(f"artifact {name}: table {frame.table} ({frame.rows:,} rows) is kept in the engine "
                                     f"({RESIDENT_KEY}); it is saved as Parquet only, not as CSV")  # fmt: skip
            place_parquet(frame.path, path)
        else:
            to_microseconds(frame).to_parquet(path, index=False)
            if csv:
                write_excel_csv(frame, self.artifacts_dir / f"{name}.csv")
                written.append(f"{name}.csv")
        for file_name in written:
            record_artifact(self.artifacts_dir, file_name, fingerprint=self.fingerprint, run=self.run_dir.name)
        return path

    def save_artifacts(self, frames: Mapping[str, pd.DataFrame | ResidentFrame], *, csv: bool = False) -> list[Path]:
        """Write each frame as an artifact under its key (see :meth:`save_artifact`)."""
        return [self.save_artifact(name, frame, csv=csv) for name, frame in frames.items()]

    def save_full_table(self, frame: pd.DataFrame) -> str:
        """Write a table the report shows cut (too wide or too long) as ``tables/table-NN.csv``
        (UTF-8 with BOM, so Excel opens Chinese text) and return its link relative to the report."""
        folder = self.out_dir / "tables"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"table-{len(list(folder.glob('table-*.csv'))) + 1:02d}.csv"
        frame.to_csv(path, index=any(n is not None for n in frame.index.names), encoding="utf-8-sig")
        return f"tables/{path.name}"

    def savefig(self, fig: Any, name: str) -> Path:
        """Save a matplotlib figure (or an Axes's figure) as ``figures/<name>.png``."""
        fig = getattr(fig, "figure", fig)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path, dpi=FIGURE_DPI, bbox_inches="tight")
        return path

    def show(self, fig: Any, name: str) -> None:
        """Save a figure as ``figures/<name>.png``, display it here (so figures appear in the
        order the notebook makes them) and close it. ``None`` figures are skipped."""
        if fig is None:
            return
        import matplotlib.pyplot as plt

        fig = getattr(fig, "figure", fig)
        path = self.savefig(fig, name)
        try:
            from IPython.display import HTML, Image, display

            # the saved PNG itself, at the size the notebook draws figures (figure.dpi): drawing
            # it a second time for the display cost as much as the saving
            png = path.read_bytes()
            display(Image(data=png, width=_display_width(png, dpi=FIGURE_DPI)))
            caption = _figure_caption(fig, name)
            if caption:
                self._figures += 1
                display(HTML(f'<p class="wb-caption">{html_escape(t("common.figure.caption", number=self._figures, text=caption))}</p>'))
        finally:
            plt.close(fig)

    def show_all(self, figures: Mapping[str, Any]) -> None:
        """Save and display each figure under its key, in order (see :meth:`show`)."""
        for name, fig in figures.items():
            self.show(fig, name)

    def summarize(self, findings: Any) -> ReportSummary:
        """The report's summary: the key findings (``KeyFinding`` or ``(text, action)``, ``None``
        for a section that did not run) and one line on data quality linking to this run's
        profiling report, displayed here. Recorded in ``metrics.json`` (``summary``); the notebook's
        cell that calls it (end it with ``;``) is tagged ``summary`` and the renderer puts it first on the page.

        Parameters
        ----------
        findings : iterable
            From the analysis's ``key_findings(...)``.

        Returns
        -------
        ReportSummary
        """
        quality, href = self._quality_line()
        result = ReportSummary.of(findings, quality=quality, quality_href=href)
        self.metrics["summary"] = result.metrics()
        try:
            from IPython.display import HTML, display

            display(HTML(result.section_html()))
        except ImportError:  # pragma: no cover
            pass
        return result

    def _quality_line(self) -> tuple[str, str]:
        """One line on data quality from this run's profiling metrics, and the link to its report."""
        folder = get_analysis("data_profiling").folder
        own = self.analysis == "data_profiling"
        data = self.metrics if own else read_json_object(self.run_dir / folder / "metrics.json").get("metrics", {})
        if not data.get("tables"):
            return t("common.summary.quality_missing"), ""
        cleaning = data.get("cleaning") or {}
        rows_in = sum((cleaning.get("rows_in") or {}).values())
        rows_out = sum((cleaning.get("rows_out") or {}).values())
        touched = sum((cleaning.get("rows_touched") or {}).values())
        alerts = data.get("alerts") or {}
        by = alerts.get("by_severity") or {}
        line = t("common.summary.quality_self" if own else "common.summary.quality",
                 tables=len(data["tables"]), rows=fmt.count(rows_in or sum(v.get("rows", 0) for v in data["tables"].values())),
                 alerts=fmt.count(alerts.get("total", 0)), errors=fmt.count(by.get("error", 0)),
                 warnings=fmt.count(by.get("warning", 0)), removed=fmt.count(max(rows_in - rows_out, 0)),
                 flagged=fmt.count(max(touched - (rows_in - rows_out), 0)))
        return line, ("" if own else f"../{folder}/report.html")

    def record(self, **values: Any) -> None:
        """Record figures for ``metrics.json``."""
        self.metrics.update(values)

    def finish(self) -> Path:
        """Write ``metrics.json`` (recorded figures plus run facts), close the run's engine and
        return the file's path."""
        self.close_engine()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "analysis": self.analysis,
            "dataset": self.params.name,
            "params_file": str(self.params_file),
            "as_of": str(self.params.as_of),
            "seed": self.params.seed,
            "seconds": round(time.time() - self.started, 2),
            "metrics": self.metrics,
            "provenance": self.provenance().metrics(),
            "engine": {"backend": self.params.engine.backend,
                       "master": self.params.engine.master if self.params.engine.backend == "spark" else None},
        }
        path = self.out_dir / "metrics.json"
        path.write_text(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=2), encoding="utf-8")
        return path


def _resident_names(names: Sequence[str]) -> tuple[str, ...]:
    """The contract tables a notebook accepts kept in the engine (a table of the contract that
    the params do not have is allowed: ``("orders", "events")`` suits a dataset without events).

    Raises
    ------
    WorkbenchError
        A name that is no contract table, with a did-you-mean.
    """
    from workbench.core.contract import TABLES

    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise WorkbenchError(f"resident={unknown[0]!r} is not a contract table{did_you_mean(unknown[0], TABLES)}; "
                             f"tables: {', '.join(TABLES)}")  # fmt: skip
    return names


def place_parquet(source: Path, target: Path) -> None:
    """Put the Parquet file (or folder of parts) ``source`` at ``target`` without reading it:
    hard links where the file system allows (no second copy on disk), else copies. Whatever was
    at ``target`` is replaced; ``source`` stays as it was.

    Parameters
    ----------
    source : Path
        A Parquet file or folder.
    target : Path
        Where the artifact goes (``artifacts/clean_orders.parquet``).
    """
    import shutil

    if target.exists() and source.resolve() == target.resolve():
        return
    if target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link_or_copy)
    else:
        _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> str:
    """Hard-link ``source`` as ``target``, else copy it (another file system)."""
    import shutil

    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


_OPTION = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)=")


def _field_paths(model: type[BaseModel], prefix: str) -> dict[str, list[str]]:
    """Field name -> dotted params keys where it occurs, through nested sections."""
    out: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}"
        out.setdefault(name, []).append(key)
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for inner, keys in _field_paths(sub, key).items():
                out.setdefault(inner, []).extend(keys)
    return out


#: The shared sections every analysis's notebook may meet (``clean_tables(**P.cleaning...)``).
_SHARED_SECTIONS: tuple[tuple[type[BaseModel], str], ...] = ((CleaningParams, "cleaning"), (PrivacyParams, "privacy"))


def params_hint(message: str, section: type[BaseModel], prefix: str) -> str:
    """The message with the params key of each option it names (library code names options by
    their keyword, ``max_levels=30``; the analyst edits ``analyses.churn.max_levels``). An option
    the analysis's section does not have is looked up in the shared ``cleaning`` and ``privacy``
    sections (``duplicate_keys=`` -> ``cleaning.duplicate_keys``).

    Parameters
    ----------
    message : str
        An error or warning text.
    section : type
        The analysis's params section (the registry's ``params``).
    prefix : str
        Its key path (``analyses.churn``).

    Returns
    -------
    str
        ``message`` plus ``" (params: analyses.churn.max_levels)"`` when an option resolves to
        exactly one key; unchanged otherwise.

    Examples
    --------
    >>> from workbench.churn.params import ChurnParams
    >>> params_hint("more than max_levels=30 levels", ChurnParams, "analyses.churn")
    'more than max_levels=30 levels (params: analyses.churn.max_levels)'
    """
    paths = _field_paths(section, prefix)
    shared: dict[str, list[str]] = {}
    for model, key in _SHARED_SECTIONS:
        for name, keys_ in _field_paths(model, key).items():
            shared.setdefault(name, []).extend(keys_)
    keys: list[str] = []
    for token in _OPTION.findall(message):
        last = token.split(".")[-1]
        for table in (paths, shared):
            found = [k for k in table.get(last, []) if k.endswith("." + token)]
            if found:
                break
        if len(found) == 1 and found[0] not in keys and found[0] not in message:
            keys.append(found[0])
    return f"{message} (params: {', '.join(keys)})" if keys else message


def _warning_formatter(section: type[BaseModel], prefix: str) -> Any:
    """Warnings in reports: the class and the message (with params keys), without file paths."""

    def format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                       line: str | None = None) -> str:
        return f"{category.__name__}: {params_hint(str(message), section, prefix)}\n"

    return format_warning


#: Environment variable the CLI's ``--lang`` sets for the kernels it starts (overrides
#: ``report.language``).
LANGUAGE_ENV = "WORKBENCH_LANGUAGE"


def run_language(params: Params) -> str:
    """The report language of a run: :data:`LANGUAGE_ENV` when set (as ``--lang`` does for the
    kernels the runner starts), else the params' ``report.language``.

    Raises
    ------
    ParamsError
        The variable names no report language.
    """
    language = os.environ.get(LANGUAGE_ENV) or params.report.language
    if language not in LANGUAGES:
        raise ParamsError(f"{LANGUAGE_ENV}={language!r} is not a report language ({', '.join(LANGUAGES)})")
    return language


def _display_width(png: bytes, *, dpi: float) -> int:
    """Width in CSS pixels that shows a PNG saved at ``dpi`` as large as the notebook shows a
    figure (``figure.dpi``): the pixel width from the PNG header, scaled."""
    import matplotlib

    pixels = int.from_bytes(png[16:20], "big")  # IHDR: width, then height
    return max(1, round(pixels * float(matplotlib.rcParams["figure.dpi"]) / dpi))


def _figure_caption(fig: Any, name: str) -> str:
    """A figure's caption: the catalog's ``figures.<name>`` when present, else its title."""
    from workbench.report.i18n import has

    if has(f"figures.{name}"):
        return t(f"figures.{name}")
    title = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    if not title:
        title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "")
    return title


def _warnings_as_callouts(section: type[BaseModel], prefix: str) -> None:
    """In IPython, show warnings as styled call-outs in the reader's language (the kind of
    caveat, then the message with the params key of each option it names), not as red
    monospace text."""
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    from workbench.report.i18n import has

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        kind = next((c.__name__ for c in category.__mro__ if has(f"common.warning.{c.__name__}")), "Warning")
        text = params_hint(str(message), section, prefix)
        display(HTML(f'<div class="wb-callout wb-{kind.lower()}" role="note"><strong>'
                     f'{html_escape(t(f"common.warning.{kind}"))}</strong> {html_escape(text)}</div>'))

    warnings.showwarning = show


def _quiet_workbench_errors(section: type[BaseModel], prefix: str) -> None:
    """In IPython, show WorkbenchError as its message only (what to fix, with the params key of
    each option it names), not a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell, etype, evalue, tb, tb_offset=None):
        print(f"{etype.__name__}: {params_hint(str(evalue), section, prefix)}")
        return None

    ip.set_custom_exc((WorkbenchError,), handler)


def start(params_file: str | Path, *, run_dir: str | Path = "", analysis: str) -> RunContext:
    """Start an analysis: load and validate params, set the chart theme, prepare the run folder.

    Parameters
    ----------
    params_file : path
        The params YAML (relative paths are taken from the current directory).
    run_dir : path, optional
        The run folder given by the runner; empty in JupyterLab, then
        ``reports/<name>-interactive``.
    analysis : str
        Key of the calling analysis (``data_profiling``).

    Returns
    -------
    RunContext

    Raises
    ------
    ParamsError
        The params file is invalid.
    """
    from workbench.report import plotting

    section = get_analysis(analysis).params
    prefix = f"analyses.{analysis}"
    params = load_params(params_file)
    fmt.configure(currency=params.currency, language=run_language(params))
    run = Path(run_dir) if run_dir else PROJECT_ROOT / "reports" / f"{params.name}-interactive"
    run.mkdir(parents=True, exist_ok=True)
    plotting.set_theme()
    warnings.filterwarnings("default", category=UserWarning, module="workbench")
    warnings.formatwarning = _warning_formatter(section, prefix)
    _warnings_as_callouts(section, prefix)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 160)
    _quiet_workbench_errors(section, prefix)
    ctx = RunContext(params=params, run_dir=run, analysis=analysis, params_file=Path(params_file).resolve())
    install_table_formatter(max_columns=params.report.max_table_columns, max_rows=params.report.max_table_rows,
                            write_full=ctx.save_full_table)
    return ctx
