"""The data profile of all tables: :func:`profile_tables` profiles every loaded table
(:func:`~workbench.profiling.tables.profile_table`), runs the cross-table CRM checks and returns a
:class:`DataProfile` with tables, alerts, findings and charts for the profiling notebook."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.core.contract import LoadedTable
from workbench.core.errors import WorkbenchError, did_you_mean
from workbench.core.pii import PersonalColumn
from workbench.core.resident import is_resident
from workbench.data import engine
from workbench.data.cleaning import _default_data_end, to_timestamp
from workbench.profiling import findings, plots
from workbench.profiling.alerts import CRM_KINDS, SEVERITIES, Alert, alert_labels, alerts_frame
from workbench.profiling.checks import crm_counts, cross_table_checks, engine_cross_table_checks
from workbench.profiling.correlations import correlation_pairs
from workbench.profiling.dates import monthly_coverage
from workbench.profiling.options import ProfilingOptions, make_options
from workbench.profiling.tables import TableInput, TableProfile, engine_table, profile_table
from workbench.report.i18n import category, t
from workbench.report.results import Result

__all__ = ["DataProfile", "profile_tables"]

Section = Literal["overview", "missing", "duplicates", "distributions", "dates", "crm", "alerts", "correlations"]


@dataclass(frozen=True)
class DataProfile(Result):
    """Profiles of all tables plus the cross-table CRM checks (see :func:`profile_tables`).

    Attributes
    ----------
    profiles : dict of str to TableProfile
    cross_alerts : tuple of Alert
        Alerts of the cross-table checks.
    references : pandas.DataFrame
        :func:`workbench.core.contract.check_references` result.
    extreme : pandas.DataFrame
        Extreme spenders (``customer_id``, ``spend``, ``orders``, ``log_spend``, ``robust_z``).
    as_of, launch_date, data_end : pandas.Timestamp or None
    options : ProfilingOptions
        The thresholds used.
    random_state : int or None
    extreme_z : float
        Robust z of log spend above which a customer is an extreme spender.
    crm : dict of str to int
        Rows (or customers) per CRM kind.
    top_spenders : pandas.DataFrame
        The 20 customers with the highest robust z of log spend, extreme or not (to judge the
        threshold ``cleaning.extreme_spender_mad_z``).
    """

    profiles: dict[str, TableProfile]
    cross_alerts: tuple[Alert, ...]
    references: pd.DataFrame
    extreme: pd.DataFrame
    as_of: pd.Timestamp | None
    launch_date: pd.Timestamp | None
    data_end: pd.Timestamp
    options: ProfilingOptions = field(default_factory=ProfilingOptions)
    random_state: int | None = None
    extreme_z: float = 8.0
    crm: dict[str, int] = field(default_factory=dict)
    top_spenders: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- access ---------------------------------------------------------------------------
    def _table(self, table: str) -> TableProfile:
        if table not in self.profiles:
            raise KeyError(f"no profile for table {table!r}{did_you_mean(table, self.profiles)}; "
                           f"profiled tables: {', '.join(self.profiles)}")  # fmt: skip
        return self.profiles[table]

    def _dates(self, table: str, column: str) -> TableProfile:
        tp = self._table(table)
        if column not in tp.daily_counts:
            raise KeyError(f"{table}.{column} is not a datetime column with values")
        return tp

    @property
    def all_alerts(self) -> list[Alert]:
        """Every alert (table and cross-table), unsorted."""
        out: list[Alert] = []
        for tp in self.profiles.values():
            out.extend(tp.alerts)
        out.extend(self.cross_alerts)
        return out

    def overview(self) -> pd.DataFrame:
        """One row per table: shape, memory, missing cells, duplicates and source.

        Returns
        -------
        pandas.DataFrame
            Index ``table``; columns ``rows``, ``columns``, ``memory_mb``, ``missing_cells_share``,
            ``duplicate_rows``, ``duplicate_keys``, ``file``, ``format``, ``encoding``.
        """
        rows = []
        for name, tp in self.profiles.items():
            cells = tp.n_rows * tp.n_columns
            path = tp.source.get("path")
            rows.append(
                {
                    "table": name,
                    "rows": tp.n_rows,
                    "columns": tp.n_columns,
                    "memory_mb": round(tp.memory_bytes / 2**20, 2),
                    "missing_cells_share": round(tp.n_missing_cells / cells, 4) if cells else 0.0,
                    "duplicate_rows": tp.n_duplicate_rows,
                    "duplicate_keys": tp.n_duplicate_keys,
                    "file": str(path).replace("\\", "/").rsplit("/", 1)[-1] if path else None,
                    "format": tp.source.get("format"),
                    "encoding": tp.source.get("encoding"),
                }
            )
        return pd.DataFrame(rows).set_index("table")

    def columns(self, table: str) -> pd.DataFrame:
        """Per-column statistics of ``table`` (see :meth:`TableProfile.to_frame`)."""
        return self._table(table).to_frame()

    def top_values(self, table: str, column: str) -> pd.DataFrame:
        """Most frequent values of a column (``value``, ``count``, ``share``).

        Raises
        ------
        KeyError
            A personal-data column (values hidden), a datetime, empty or unknown column.
        """
        tp = self._table(table)
        if column in tp.pii and column not in tp.top_values:
            raise KeyError(f"{table}.{column} holds personal data: its values are hidden "
                           "(privacy.allow_personal_data is false)")  # fmt: skip
        if column not in tp.top_values:
            raise KeyError(f"{table}.{column} has no top values (datetime, empty or unknown column)")
        return tp.top_values[column].copy()

    def alerts(
        self,
        *,
        severity: str | Sequence[str] | None = None,
        kind: str | Sequence[str] | None = None,
        table: str | None = None,
    ) -> pd.DataFrame:
        """All alerts, errors first.

        Parameters
        ----------
        severity, kind : str or sequence of str, optional
            Keep only these.
        table : str, optional
            Keep only this table.

        Returns
        -------
        pandas.DataFrame
            One row per alert: ``severity``, ``table``, ``column``, ``kind``, ``message``,
            ``n_rows``, ``share``, ``examples``.
        """
        df = alerts_frame(self.all_alerts, list(self.profiles))
        if severity is not None:
            df = df[df["severity"].isin([severity] if isinstance(severity, str) else list(severity))]
        if kind is not None:
            df = df[df["kind"].isin([kind] if isinstance(kind, str) else list(kind))]
        if table is not None:
            df = df[df["table"] == table]
        return df.reset_index(drop=True)

    def alert_table(
        self,
        *,
        severity: str | Sequence[str] | None = None,
        kind: str | Sequence[str] | None = None,
        table: str | None = None,
    ) -> pd.DataFrame:
        """The alerts as a reader sees them: :meth:`alerts` (same filters) with the severity and
        the kind as labels in the run's language; :meth:`alerts` keeps the codes.

        Returns
        -------
        pandas.DataFrame
        """
        return alert_labels(self.alerts(severity=severity, kind=kind, table=table))

    def missing_patterns(self, table: str) -> pd.DataFrame:
        """Top combinations of missing columns: ``missing_columns``, ``n_missing_columns``,
        ``rows``, ``share`` (``(none)`` = complete rows)."""
        return self._table(table).missing_patterns.copy()

    def nullity_correlation(self, table: str) -> pd.DataFrame:
        """Correlation of missingness between columns (square; sampled rows)."""
        return self._table(table).nullity_corr.copy()

    def correlations(self, table: str, *, method: Literal["pairs", "spearman", "cramers_v"] = "pairs") -> pd.DataFrame:
        """Correlations of ``table`` (sampled rows).

        Parameters
        ----------
        table : str
        method : {'pairs', 'spearman', 'cramers_v'}, default 'pairs'
            ``pairs``: one row per column pair (``column_a``, ``column_b``, ``method``,
            ``value``), strongest first; else the square matrix of that method.

        Returns
        -------
        pandas.DataFrame
        """
        tp = self._table(table)
        if method == "spearman":
            return tp.spearman.copy()
        if method == "cramers_v":
            return tp.cramers.copy()
        if method != "pairs":
            raise ValueError(f"method must be 'pairs', 'spearman' or 'cramers_v'; got {method!r}")
        return correlation_pairs(tp.spearman, tp.cramers)

    def date_coverage(self, table: str, column: str, *, full: bool = False) -> pd.DataFrame:
        """Rows per month of a datetime column.

        Parameters
        ----------
        table, column : str
        full : bool, default False
            Cover the whole observed range; by default only the plausible window (first to last
            day with rows between the launch date and today), so one 1970 or 2030 date does not
            stretch it.

        Returns
        -------
        pandas.DataFrame
            One row per month: ``month`` (first day), ``rows``, ``share``, ``gap`` (no rows),
            ``spike_days``.
        """
        tp = self._dates(table, column)
        window = None if full else tp.date_windows[column]
        return monthly_coverage(tp.daily_counts[column], tp.spikes.get(column), window)

    def spike_days(self, table: str, column: str) -> pd.DataFrame:
        """Spike days of a datetime column: ``day``, ``rows``, ``baseline`` (rolling median of the
        surrounding 29 days), ``robust_z``, ``times_baseline``; strongest first."""
        tp = self._table(table)
        if column not in tp.spikes:
            raise KeyError(f"{table}.{column} is not a datetime column with values")
        return tp.spikes[column].copy()

    def sample_notes(self) -> list[str]:
        """For each table whose sample-based statistics (correlations, histograms, the
        missing-value matrix) used fewer rows than it has, the sentence saying so
        (:meth:`TableProfile.sample_note`); empty when every statistic used every row."""
        return [note for tp in self.profiles.values() if (note := tp.sample_note())]

    def date_columns(self) -> list[tuple[str, str]]:
        """(table, column) of every datetime column with values, in table order."""
        return [(name, col) for name, tp in self.profiles.items() for col in tp.spikes]

    def crm_checks(self) -> pd.DataFrame:
        """The CRM alerts (refunds, negative amounts, dates, orphans, customers without orders,
        extreme spenders, placeholders, personal data) as a table."""
        return self.alerts(kind=list(CRM_KINDS))

    def spenders(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` customers with the highest robust z of log total spend (``customer_id``,
        ``spend``, ``orders``, ``log_spend``, ``robust_z``), extreme or not."""
        return self.top_spenders.head(n).copy()

    # -- tables of every table, for the notebook ------------------------------------------
    def column_tables(self) -> dict[str, pd.DataFrame]:
        """Per-column statistics of each table (table name -> :meth:`columns`), the logical type
        and the summary kind as labels in the run's language (``categories.logical_type``,
        ``categories.column_kind``); :meth:`columns` keeps the codes."""
        return {name: _labelled_stats(tp.to_frame()) for name, tp in self.profiles.items()}

    def missing_pattern_tables(self, *, head: int = 8) -> dict[str, pd.DataFrame]:
        """The ``head`` most common combinations of missing columns of each table, captioned (in
        the run's language; complete rows read ``profiling.missing.none`` instead of ``(none)``)."""
        none = t("profiling.missing.none")
        return {t("profiling.missing.caption", table=name):
                tp.missing_patterns.head(head).replace({"missing_columns": {"(none)": none}})
                for name, tp in self.profiles.items()}  # fmt: skip

    def spike_tables(self, *, head: int = 5) -> dict[str, pd.DataFrame]:
        """The ``head`` strongest spike days of each datetime column that has any, captioned."""
        return {t("profiling.dates.spike_caption", column=f"{name}.{col}"): sp.head(head).copy()
                for name, tp in self.profiles.items() for col, sp in tp.spikes.items() if len(sp)}  # fmt: skip

    # -- result protocol ------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Per-column statistics of every table, stacked (columns ``table``, ``column``, ...)."""
        frames = [tp.stats.reset_index().assign(table=name) for name, tp in self.profiles.items()]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        return df[["table"] + [c for c in df.columns if c != "table"]]

    def summary(self) -> pd.DataFrame:
        """Headline per table (index ``table``): rows, columns, missing cells, duplicates and
        alerts by severity."""
        ov = self.overview()[["rows", "columns", "missing_cells_share", "duplicate_rows", "duplicate_keys"]]
        al = self.alerts()
        for sev in SEVERITIES:
            counts = al[al["severity"] == sev].groupby("table").size()
            ov[f"{sev}s"] = counts.reindex(ov.index, fill_value=0).astype("int64")
        return ov

    def finding(self) -> str:
        """The overall finding: tables, rows, size and alerts by severity (section ``overview``)."""
        return findings.overview(self)

    def section_finding(self, section: Section) -> str:
        """The plain-language finding of one section of the report.

        Parameters
        ----------
        section : {'overview', 'alerts', 'missing', 'duplicates', 'distributions', 'dates',
            'correlations', 'crm'}

        Returns
        -------
        str

        Raises
        ------
        KeyError
            An unknown section, with a did-you-mean.
        """
        if section not in findings.SECTIONS:
            raise KeyError(f"unknown section {section!r}{did_you_mean(section, findings.SECTIONS)}; "
                           f"sections: {', '.join(findings.SECTIONS)}")  # fmt: skip
        return findings.SECTIONS[section](self)

    def findings(self) -> list[str]:
        """One plain-language finding per section, computed from the numbers: overview,
        missing values, duplicates, distributions, dates and CRM issues."""
        return [findings.SECTIONS[s](self) for s in findings.SUMMARY_SECTIONS]

    def metrics(self) -> dict[str, Any]:
        """Figures for the run's metrics file (JSON-able)."""
        al = self.alerts()
        return {
            "tables": {n: tp.metrics() for n, tp in self.profiles.items()},
            "alerts": {
                "total": len(al),
                "by_severity": {s: int((al["severity"] == s).sum()) for s in SEVERITIES},
                "by_kind": {str(k): int(v) for k, v in al["kind"].value_counts().sort_index().items()},
            },
            "crm": {k: int(v) for k, v in self.crm.items()},
            "as_of": None if self.as_of is None else str(self.as_of.date()),
            "launch_date": None if self.launch_date is None else str(self.launch_date.date()),
            "data_end": str(self.data_end.date()),
            "random_state": self.random_state,
            "correlation_sample": self.options.correlation_sample,
        }

    # -- plots ----------------------------------------------------------------------------
    def plot(self, ax: Any = None) -> Any:
        """Alerts per table by severity (stacked bars).

        Returns
        -------
        matplotlib.axes.Axes
        """
        counts = self.summary()[[f"{x}s" for x in SEVERITIES]]
        counts.columns = list(SEVERITIES)
        return plots.plot_alerts(counts, ax)

    def plot_missing(self, table: str, ax: Any = None, *, kind: Literal["bar", "matrix", "heatmap"] = "bar") -> Any:
        """Missing values of a table (see :func:`workbench.profiling.plots.plot_missing`).

        Returns
        -------
        matplotlib.axes.Axes
        """
        return plots.plot_missing(self._table(table), ax, kind=kind)

    def plot_numeric(self, table: str, columns: Sequence[str] | None = None, *, bins: int = 40) -> Any:
        """Histograms of numeric columns (see :func:`workbench.profiling.plots.plot_numeric`).

        Returns
        -------
        matplotlib.figure.Figure
        """
        return plots.plot_numeric(self._table(table), columns, bins=bins)

    def plot_dates(self, table: str, column: str, ax: Any = None, *, freq: Literal["D", "M"] = "D") -> Any:
        """Rows per day (spike days marked) or per month (empty months marked).

        Parameters
        ----------
        table, column : str
        ax : matplotlib.axes.Axes, optional
        freq : {'D', 'M'}, default 'D'

        Returns
        -------
        matplotlib.axes.Axes
        """
        tp = self._dates(table, column)
        if freq not in ("D", "M"):
            raise ValueError(f"freq must be 'D' or 'M'; got {freq!r}")
        coverage = self.date_coverage(table, column) if freq == "M" else None
        return plots.plot_dates(tp, column, ax, freq=freq, coverage=coverage)

    def plot_correlations(
        self, table: str, ax: Any = None, *, method: Literal["spearman", "cramers_v"] = "spearman"
    ) -> Any:
        """Heatmap of the Spearman (numeric) or Cramér's V (categorical) matrix.

        Returns
        -------
        matplotlib.axes.Axes
        """
        return plots.plot_correlations(self.correlations(table, method=method), table, ax, method=method)

    # -- figures of every table, for the notebook (one open at a time) --------------------
    def missing_figures(self) -> plots.FigureMap:
        """``missing_<table>`` -> missing share per column of each table."""
        return plots.FigureMap({f"missing_{n}": _bound(self.plot_missing, n) for n in self.profiles})

    def numeric_figures(self) -> plots.FigureMap:
        """``numeric_<table>`` -> histograms of the numeric columns of each table."""
        return plots.FigureMap({f"numeric_{n}": _bound(self.plot_numeric, n) for n in self.profiles})

    def date_figures(self) -> plots.FigureMap:
        """``dates_<table>_<column>`` -> rows per day of each datetime column with values."""
        return plots.FigureMap({f"dates_{n}_{c}": _bound(self.plot_dates, n, c) for n, c in self.date_columns()})

    def correlation_figures(self) -> plots.FigureMap:
        """``correlations_<table>`` -> Spearman heatmap of each table."""
        return plots.FigureMap({f"correlations_{n}": _bound(self.plot_correlations, n) for n in self.profiles})

    def __repr__(self) -> str:
        al = self.all_alerts
        counts = {s: sum(a.severity == s for a in al) for s in SEVERITIES}
        rows = sum(tp.n_rows for tp in self.profiles.values())
        return (
            f"DataProfile(tables={len(self.profiles)}, rows={rows:,}, alerts={len(al)}: "
            f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info)"
        )


def _labelled_stats(stats: pd.DataFrame) -> pd.DataFrame:
    """Column statistics with ``logical_type`` and ``kind`` as labels (for display)."""
    out = stats.copy()
    for col, group in (("logical_type", "logical_type"), ("kind", "column_kind")):
        if col in out:
            out[col] = out[col].map(lambda v, g=group: category(g, v))
    return out


def _bound(method: Any, *args: Any) -> Any:
    """A function without arguments that calls ``method(*args)`` (a figure maker)."""
    return partial(method, *args)


def profile_tables(
    tables: Mapping[str, TableInput],
    *,
    as_of: dt.date | str | pd.Timestamp | None,
    launch_date: dt.date | str | pd.Timestamp | None = None,
    allow_personal_data: bool = False,
    personal_data: Sequence[PersonalColumn] | None = None,
    extreme_z: float = 8.0,
    random_state: int | None = None,
    data_end: dt.date | str | pd.Timestamp | None = None,
    con: ibis.BaseBackend | None = None,
    engine_tables: Literal["all", "resident"] = "all",
    **options: Any,
) -> DataProfile:
    """Profile every table and run the cross-table CRM checks.

    Parameters
    ----------
    tables : mapping of str to LoadedTable, ibis Table, DataFrame or path
        From :func:`workbench.core.io.load_tables` (any subset of the contract tables); or, for
        the engine path, Ibis tables (on one engine), DataFrames or Parquet/CSV paths by
        contract name.
    as_of : date-like or None
        Analysis date (rows after it are reported, not flagged as errors).
    launch_date : date-like, optional
        Earlier dates are reported as ``prelaunch_dates``.
    allow_personal_data : bool, default False
        ``privacy.allow_personal_data``: show personal data raw. Otherwise personal-data columns
        show their counts only (missing, distinct): no top values, examples, minimum or
        maximum, and no chart.
    personal_data : sequence of PersonalColumn, optional
        What intake found in every table, mapped or not (``ctx.personal_data()``). Default: the
        contract's personal columns and extra columns that look personal
        (:func:`workbench.core.contract.pii_columns`), so standalone use hides them too.
    extreme_z : float, default 8.0
        Robust z of log total spend above which a customer is an extreme spender
        (use ``cleaning.extreme_spender_mad_z``).
    random_state : int, optional
        Seed of the row samples (``params.seed``).
    data_end : date-like, optional
        Last plausible day; default today.
    con : ibis.BaseBackend, optional
        Compute every table's profile and the cross-table checks in this engine (the run's
        ``ctx.engine``): counts, statistics, top values, dates, duplicates and checks are queries
        over every row; correlations, Cramér's V, the missing-value matrix and the histograms use
        a seeded sample of at most ``correlation_sample`` rows, which
        :meth:`DataProfile.sample_notes` states (see :mod:`workbench.profiling.queries`).
        Default: the engine of the Ibis tables given, else pandas (LoadedTables; a fresh
        in-memory DuckDB for DataFrames, paths and tables kept in the engine).
    engine_tables : {"all", "resident"}, default "all"
        Which LoadedTables ``con`` profiles: ``"all"``, or ``"resident"``: only those kept in the
        engine (a :class:`~workbench.core.resident.ResidentFrame`, above
        ``engine.resident_rows``), the others in pandas as without ``con``, with the
        cross-table checks in the engine when any table is resident. A resident table is
        always profiled in the engine.
    **options
        Thresholds and sample sizes, the fields of
        :class:`~workbench.profiling.options.ProfilingOptions` (``top_n``,
        ``high_cardinality_threshold``, ``high_correlation_threshold``, ``skewness_threshold``,
        ``imbalance_threshold``, ``missing_threshold``, ``zeros_threshold``,
        ``rare_level_share``, ``outlier_iqr_k``, ``spike_z``, ``correlation_sample``): the
        names of the params section ``analyses.data_profiling``.

    Returns
    -------
    DataProfile

    Raises
    ------
    TypeError
        An unknown option, with a did-you-mean.
    WorkbenchError
        ``engine_tables`` is neither ``"all"`` nor ``"resident"``.

    Notes
    -----
    Cross-table checks: ``orphan_orders`` / ``orphan_rows`` (:func:`check_references`),
    ``customers_without_orders``, ``extreme_spenders`` (:func:`workbench.data.cleaning.extreme_spenders`:
    total positive non-refund spend per customer, robust z of its log).

    Examples
    --------
    >>> section = params.analyses.data_profiling  # doctest: +SKIP
    >>> prof = profile_tables(tables, **section.model_dump(exclude={"enabled"}), as_of=params.as_of,
    ...                       launch_date=params.launch_date, random_state=params.seed,
    ...                       personal_data=ctx.personal_data(), con=ctx.engine,
    ...                       engine_tables="resident")  # doctest: +SKIP
    >>> prof.alerts()  # doctest: +SKIP
    """
    if engine_tables not in ("all", "resident"):
        raise WorkbenchError(f"engine_tables={engine_tables!r} is not one of 'all', 'resident'")
    opts = make_options(**options)
    end = _default_data_end(data_end)
    kw = dict(allow_personal_data=allow_personal_data, personal_data=personal_data, as_of=as_of,
              launch_date=launch_date, data_end=end, random_state=random_state)  # fmt: skip
    loaded = all(isinstance(t, LoadedTable) for t in tables.values())
    resident = {name for name, t in tables.items() if isinstance(t, LoadedTable) and is_resident(t.frame)}
    if loaded and not resident and (con is None or engine_tables == "resident"):
        profiles = {name: profile_table(t, **options, **kw) for name, t in tables.items()}
        cross = cross_table_checks({name: t.frame for name, t in tables.items()}, extreme_z=extreme_z)
    elif loaded and (con is None or engine_tables == "resident"):  # resident ones in the engine, the rest in pandas
        con = con if con is not None else engine.connect()
        profiles = {name: profile_table(t, con=con if name in resident else None, **options, **kw)
                    for name, t in tables.items()}  # fmt: skip
        views = {name: engine.as_table(con, t.frame) for name, t in tables.items()}
        cross = engine_cross_table_checks(views, extreme_z=extreme_z)
    else:
        con = con if con is not None else _engine_of(tables.values())
        sources = {name: engine_table(t, con=con, name=name) for name, t in tables.items()}
        profiles = {name: profile_table(src, **options, **kw) for name, src in sources.items()}
        cross = engine_cross_table_checks({name: s.table for name, s in sources.items()}, extreme_z=extreme_z)
    table_alerts = [a for tp in profiles.values() for a in tp.alerts]
    return DataProfile(
        profiles=profiles,
        cross_alerts=cross.alerts,
        references=cross.references,
        extreme=cross.extreme,
        as_of=to_timestamp(as_of),
        launch_date=to_timestamp(launch_date),
        data_end=end,
        options=opts,
        random_state=random_state,
        extreme_z=extreme_z,
        crm=crm_counts(cross.crm, table_alerts),
        top_spenders=cross.top_spenders,
    )


def _engine_of(tables: Iterable[Any]) -> ibis.BaseBackend:
    """The engine of the first Ibis table among ``tables``, else a fresh in-memory DuckDB."""
    for table in tables:
        if isinstance(table, ir.Table):
            return table.get_backend()
    return engine.connect()
