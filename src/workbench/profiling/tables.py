"""Table profile: shape, per-column statistics, missingness, duplicates, correlations and dates
of one table (:func:`profile_table`), in named steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.contract import TABLES, ColumnReport, LoadedTable
from workbench.core.errors import WorkbenchError
from workbench.core.pii import PersonalColumn
from workbench.core.resident import is_resident
from workbench.data import engine
from workbench.data.cleaning import _default_data_end, to_timestamp
from workbench.profiling import queries
from workbench.profiling.alerts import SEVERITIES, Alert, alerts_frame, fmt_value, rows_text
from workbench.profiling.checks import order_alerts, order_alerts_of
from workbench.profiling.columns import ColumnProfile, TableContext, column_profile, profile_column
from workbench.profiling.correlations import cramers_matrix, spearman_matrix
from workbench.profiling.missing import (
    missing_columns,
    missing_patterns,
    nullity,
    nullity_rows,
    pattern_edges,
    patterns_frame,
)
from workbench.profiling.options import ProfilingOptions, make_options
from workbench.profiling.personal import hidden_label, personal_columns
from workbench.profiling.words import eg, severity_counts
from workbench.report import fmt
from workbench.report.i18n import category, t
from workbench.report.results import Result

__all__ = ["TableProfile", "TableInput", "EngineTable", "engine_table", "profile_table", "intake_report"]

_NUMERIC_SAMPLE_ROWS = 50_000



@dataclass(frozen=True)
class TableProfile(Result):
    """Profile of one table (see :func:`profile_table`).

    Attributes
    ----------
    name : str
        Contract table name.
    n_rows, n_columns, memory_bytes : int
        Shape and deep memory use of the frame.
    source : dict
        Where the table came from (path, format, encoding ...).
    stats : pandas.DataFrame
        One row per column; see :meth:`to_frame`.
    top_values : dict of str to DataFrame
        Most frequent values per column (``value``, ``count``, ``share``); none for personal-data
        columns unless ``allow_personal_data``.
    missing_patterns : pandas.DataFrame
        Top combinations of missing columns.
    nullity_corr : pandas.DataFrame
        Correlation of the missingness indicators (sampled rows).
    spearman, cramers : pandas.DataFrame
        Square correlation matrices (sampled rows).
    daily_counts : dict of str to Series
        Rows per day for each datetime column, whole range.
    date_windows : dict of str to (Timestamp, Timestamp)
        The plausible window of each datetime column (launch date or first day to today or last
        day) in which gaps and spikes are looked for.
    spikes : dict of str to DataFrame
        Spike days per datetime column.
    numeric_sample, nullity_sample : pandas.DataFrame
        Sampled rows kept for charts (numeric columns; missingness of columns with gaps).
    n_duplicate_rows, n_duplicate_keys : int
        Exact duplicate rows; rows repeating an earlier key.
    key : tuple of str
        The contract key.
    alerts : tuple of Alert
        Alerts of this table alone.
    pii : tuple of str
        Personal-data columns (their values hidden unless ``allow_personal_data``).
    sample_rows : int
        Rows in the correlation sample.
    random_state : int or None
        Seed of the sample.
    n_missing_cells : int
        Missing cells of the table.
    engine : str or None
        The engine that computed the statistics (``duckdb``, ``spark``), None for pandas.
    approximate : tuple of str
        Statistics the engine computed approximately (see
        :data:`workbench.profiling.queries.APPROXIMATE`).
    """

    name: str
    n_rows: int
    n_columns: int
    memory_bytes: int
    source: dict[str, Any]
    stats: pd.DataFrame
    top_values: dict[str, pd.DataFrame]
    missing_patterns: pd.DataFrame
    nullity_corr: pd.DataFrame
    spearman: pd.DataFrame
    cramers: pd.DataFrame
    daily_counts: dict[str, pd.Series]
    date_windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]]
    spikes: dict[str, pd.DataFrame]
    numeric_sample: pd.DataFrame
    nullity_sample: pd.DataFrame
    n_duplicate_rows: int
    n_duplicate_keys: int
    key: tuple[str, ...]
    alerts: tuple[Alert, ...]
    pii: tuple[str, ...]
    sample_rows: int
    random_state: int | None = None
    n_missing_cells: int = 0
    engine: str | None = None
    approximate: tuple[str, ...] = ()

    @property
    def sampled(self) -> bool:
        """Whether the sample-based statistics used fewer rows than the table has."""
        return self.sample_rows < self.n_rows

    def sample_note(self) -> str:
        """Which statistics came from a sample and how large it was, or ``""`` when every
        statistic used every row.

        Returns
        -------
        str
            e.g. ``"orders: correlations, histograms and the missing-value matrix computed on a
            seeded sample of 200,000 of 100,000,000 rows (seed 42)"``.
        """
        parts = []
        if self.sampled:
            seed = (t("profiling.sample.seed", seed=self.random_state) if self.random_state is not None
                    else t("profiling.sample.no_seed"))
            parts.append(t("profiling.sample.sampled", sample=f"{self.sample_rows:,}", n=f"{self.n_rows:,}", seed=seed))
        if self.approximate:
            parts.append(t("profiling.sample.approximate", stats=t("profiling.sep.and").join(self.approximate),
                           engine=self.engine))
        return t("profiling.sample.note", table=self.name, notes=t("profiling.sep.clause").join(parts)) if parts else ""

    def to_frame(self) -> pd.DataFrame:
        """Per-column statistics.

        Returns
        -------
        pandas.DataFrame
            One row per column (index: column name): ``logical_type``, ``kind``, ``dtype``,
            ``pii``, ``n``, ``n_valid``, ``n_missing``, ``p_missing``, ``n_distinct``,
            ``p_distinct``; numeric: ``mean``, ``std``, ``min``, ``p1`` ... ``p99``, ``max``,
            ``skewness``, ``kurtosis``, ``n_zeros``, ``p_zeros``, ``n_negative``, ``n_outliers``,
            ``p_outliers``, ``n_infinite``; categorical: ``top``, ``top_count``, ``top_share``,
            ``n_rare_levels``, ``imbalance``; datetime: ``date_min``, ``date_max``,
            ``span_days``, ``n_gap_months``, ``n_spike_days``, ``n_future``, ``n_prelaunch``,
            ``n_after_as_of``; intake: ``source``, ``n_blank``, ``n_unparseable``,
            ``n_placeholders``.
        """
        return self.stats.copy()

    def summary(self) -> pd.DataFrame:
        """Headline per column (``column`` first): type, missing share, distinct values, top value or median."""
        cols = ["logical_type", "dtype", "n_missing", "p_missing", "n_distinct", "top", "median",
                "date_min", "date_max"]
        return self.stats[[c for c in cols if c in self.stats]].reset_index()

    def alerts_frame(self) -> pd.DataFrame:
        """This table's alerts, most severe first."""
        return alerts_frame(self.alerts)

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        cells = self.n_rows * self.n_columns
        return {
            "rows": int(self.n_rows),
            "columns": int(self.n_columns),
            "memory_mb": round(self.memory_bytes / 2**20, 2),
            "missing_cells": int(self.n_missing_cells),
            "missing_cells_share": self.n_missing_cells / cells if cells else 0.0,
            "duplicate_rows": int(self.n_duplicate_rows),
            "duplicate_keys": int(self.n_duplicate_keys),
            "alerts": len(self.alerts),
        }

    def finding(self) -> str:
        """Shape, missing cells, duplicates and alerts of the table in one sentence."""
        cells = self.n_rows * self.n_columns
        missing = fmt.pct(self.n_missing_cells / cells) if cells else fmt.pct(0.0)
        counts = {s: sum(a.severity == s for a in self.alerts) for s in SEVERITIES}
        return t("profiling.table.finding", table=self.name, rows=f"{self.n_rows:,}", columns=self.n_columns,
                 missing=f"{self.n_missing_cells:,}", share=missing, dup_rows=f"{self.n_duplicate_rows:,}",
                 dup_keys=f"{self.n_duplicate_keys:,}", alerts=len(self.alerts),
                 severities=severity_counts(counts, SEVERITIES))

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the missing share per column (see :meth:`DataProfile.plot_missing`)."""
        from workbench.profiling.plots import plot_missing_bar

        return plot_missing_bar(self, ax)

    def __repr__(self) -> str:
        return (
            f"TableProfile({self.name!r}, rows={self.n_rows:,}, columns={self.n_columns}, "
            f"alerts={len(self.alerts)})"
        )


def _sample_index(n: int, size: int, rng: np.random.Generator) -> np.ndarray | None:
    if n <= size:
        return None
    return np.sort(rng.choice(n, size=size, replace=False))


def _context(
    name: str,
    n: int,
    reports: Sequence[ColumnReport],
    pii: Mapping[str, str | None],
    options: ProfilingOptions,
    *,
    allow_personal_data: bool,
    as_of: Any,
    launch_date: Any,
    data_end: Any,
) -> TableContext:
    """What the column steps need: the contract facts of the table and the run's dates."""
    spec = TABLES.get(name)
    return TableContext(
        name=name,
        n=n,
        reports={r.column: r for r in reports},
        pii=dict(pii),
        key=tuple(spec.key) if spec is not None else (),
        required=tuple(spec.required) if spec is not None else (),
        options=options,
        allow_personal_data=allow_personal_data,
        end=_default_data_end(data_end),
        as_of_end=_default_data_end(as_of) if as_of is not None else None,
        launch=to_timestamp(launch_date),
    )


def _may_repeat_rows(stats: pd.DataFrame, n: int) -> bool:
    """Whether exact duplicate rows are possible (not when a column is unique and complete)."""
    return n > 0 and not bool((stats["n_distinct"] == n).any())


def _duplicate_rows_alerts(name: str, k: int, n: int) -> list[Alert]:
    if not k:
        return []
    return [Alert(name, None, "duplicates", "warning",
                  t("profiling.alerts.duplicates", table=name, rows=rows_text(k, n)), k, k / n)]  # fmt: skip


def _step_duplicate_rows(frame: pd.DataFrame, name: str, stats: pd.DataFrame) -> tuple[np.ndarray | None, list[Alert]]:
    """Exact copies of an earlier row (none possible when a column is unique and complete)."""
    if not _may_repeat_rows(stats, len(frame)):
        return None, []
    dup_rows = frame.duplicated(keep="first").to_numpy()
    return dup_rows, _duplicate_rows_alerts(name, int(dup_rows.sum()), len(frame))


def _single_key(ctx: TableContext, columns: Sequence[ColumnProfile]) -> tuple[int, list[Any]]:
    """Repeated values of a one-column key, as its column step counted them."""
    single = [c for c in columns if c.row["column"] == ctx.key[0]] if len(ctx.key) == 1 else []
    return (single[0].key_dups, list(single[0].key_examples)) if single else (0, [])


def _recount_keys(ctx: TableContext, key_dups: int, n_dup_rows: int) -> bool:
    """Whether the key's repeats must be counted over the rows (a key of several columns, or
    repeats of a single key among exact duplicate rows)."""
    return len(ctx.key) > 1 or bool(key_dups and n_dup_rows)


def _key_alerts(ctx: TableContext, key_dups: int, key_examples: list[Any]) -> list[Alert]:
    """The ``duplicate_keys`` alert (no example of a personal-data key unless allowed)."""
    key, name, n = ctx.key, ctx.name, ctx.n
    if not key_dups:
        return []
    hidden = [c for c in key if ctx.hides(c)]
    label = ", ".join(key)
    if hidden:
        key_examples = []
    tail = t("profiling.common.hidden_tail", hidden=hidden_label(ctx.pii.get(hidden[0]))) if hidden else eg(key_examples[:5])
    return [Alert(name, key[0] if len(key) == 1 else label, "duplicate_keys", "error",
                  t("profiling.alerts.duplicate_keys", table=name, rows=rows_text(key_dups, n), key=label, eg=tail),
                  key_dups, key_dups / n, tuple(key_examples[:5]))]  # fmt: skip


def _step_duplicate_keys(
    frame: pd.DataFrame, ctx: TableContext, columns: Sequence[ColumnProfile], dup_rows: np.ndarray | None
) -> tuple[int, list[Alert]]:
    """Rows repeating the key of an earlier row, counted among the rows that are not exact
    duplicates (so the two counts add up and match what cleaning drops rule by rule)."""
    key = ctx.key
    if not key or not all(c in frame for c in key):
        return 0, []
    key_dups, key_examples = _single_key(ctx, columns)
    if _recount_keys(ctx, key_dups, int(dup_rows.sum()) if dup_rows is not None else 0):
        keep = frame[list(key)].notna().all(axis=1).to_numpy()
        if dup_rows is not None:
            keep = keep & ~dup_rows
        keyed = frame.loc[keep, list(key)]
        dmask = keyed.duplicated(keep="first")
        key_dups = int(dmask.sum())
        dups = keyed[dmask].drop_duplicates().head(5)
        key_examples = (
            dups[key[0]].map(fmt_value).tolist()
            if len(key) == 1
            else ["/".join(map(str, r)) for r in dups.itertuples(index=False)]
        )
    return key_dups, _key_alerts(ctx, key_dups, key_examples)


def _step_chart_sample(sample: pd.DataFrame, stats: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Numeric columns of at most 50,000 sampled rows, for the histograms."""
    chart_cols = [c for c in stats.index if stats.loc[c, "kind"] == "numeric"]
    ns = sample[chart_cols]
    if len(ns) > _NUMERIC_SAMPLE_ROWS:
        ns = ns.iloc[np.sort(rng.choice(len(ns), _NUMERIC_SAMPLE_ROWS, replace=False))]
    return ns.astype("float64").reset_index(drop=True)


def _step_correlations(
    ctx: TableContext, sample: pd.DataFrame, stats: pd.DataFrame, columns: Sequence[ColumnProfile]
) -> tuple[pd.DataFrame, pd.DataFrame, list[Alert]]:
    """Spearman and Cramér's V matrices of the sample, and their ``high_correlation`` alerts."""
    thr = ctx.options.high_correlation_threshold
    num_cols = [c for c in stats.index if stats.loc[c, "kind"] == "numeric" and stats.loc[c, "n_distinct"] > 1]
    spearman, sp_alerts = spearman_matrix(ctx.name, sample, num_cols, threshold=thr)
    cat_cols = [c.row["column"] for c in columns if c.cramers_levels is not None]
    cramers, cr_alerts = cramers_matrix(ctx.name, sample, cat_cols, threshold=thr)
    return spearman, cramers, sp_alerts + cr_alerts


def _stats_frame(columns: Sequence[ColumnProfile]) -> pd.DataFrame:
    return pd.DataFrame([c.row for c in columns]).set_index("column")


def profile_table(
    table: TableInput,
    *,
    allow_personal_data: bool = False,
    personal_data: Sequence[PersonalColumn] | None = None,
    as_of: dt.date | str | pd.Timestamp | None = None,
    launch_date: dt.date | str | pd.Timestamp | None = None,
    data_end: dt.date | str | pd.Timestamp | None = None,
    random_state: int | None = None,
    con: ibis.BaseBackend | None = None,
    name: str | None = None,
    **options: Any,
) -> TableProfile:
    """Profile one table: shape, per-column statistics, missingness, duplicates, correlations,
    date coverage and the single-table alerts.

    Parameters
    ----------
    table : LoadedTable, ibis Table, pandas.DataFrame, str or Path
        A table after intake (its intake report feeds the ``unparseable`` and ``placeholder``
        alerts); or, for the engine path, an Ibis table, a DataFrame or a Parquet/CSV path
        (:func:`workbench.data.engine.as_table`).
    allow_personal_data : bool, default False
        Show personal data raw in top values, statistics, examples and charts
        (``privacy.allow_personal_data``). Otherwise personal-data columns show their counts
        only (missing, distinct) and ``top`` reads ``personal data (phone), values hidden``.
    personal_data : sequence of PersonalColumn, optional
        What intake found in every table (``ctx.personal_data()``); the entries of this table
        are its personal-data columns. Default: the contract's personal columns and extra
        columns that look personal (:func:`workbench.core.contract.pii_columns`; on the engine
        path, judged on the sample).
    as_of : date-like, optional
        Analysis date: rows after it are counted (``after_as_of``).
    launch_date : date-like, optional
        Dates before it are implausible (``prelaunch_dates``; birth dates excepted).
    data_end : date-like, optional
        Last plausible day; later dates are ``future_dates``. Default: today.
    random_state : int, optional
        Seed of the row sample used for correlations and charts.
    con : ibis.BaseBackend, optional
        Compute in this engine (:func:`workbench.data.engine.connect`, the run's
        ``ctx.engine``): every count and statistic is a query there, only aggregates and a
        sample of at most ``correlation_sample`` rows reach pandas (see
        :mod:`workbench.profiling.queries`). Default: the engine of an Ibis ``table``; pandas
        for a LoadedTable, unless it is kept in the engine (a
        :class:`~workbench.core.resident.ResidentFrame`: a fresh in-memory DuckDB).
    name : str, optional
        Contract table name of an Ibis table, DataFrame or path (a LoadedTable has its own).
    **options
        Thresholds and sample sizes, the fields of
        :class:`~workbench.profiling.options.ProfilingOptions` (``top_n``, ``missing_threshold``,
        ``skewness_threshold``, ``correlation_sample`` ...; the names of ``analyses.data_profiling``).

    Returns
    -------
    TableProfile

    Raises
    ------
    TypeError
        An unknown option.
    WorkbenchError
        An engine input without ``name``; a path the engine cannot read.

    Notes
    -----
    Numeric statistics are over finite values; quantiles interpolate linearly (numpy default);
    outliers lie outside ``[p25 - k*IQR, p75 + k*IQR]`` with ``k = outlier_iqr_k``.
    Distinct and top values, missing patterns and duplicates use every row; Spearman
    correlations, Cramér's V (category and yes/no columns with 2 to
    ``high_cardinality_threshold`` levels, and fewer levels than half their values) and the
    nullity correlation use at most ``correlation_sample`` sampled rows
    (:meth:`TableProfile.sample_note` says so when the table is larger).
    """
    opts = make_options(**options)
    kw = dict(allow_personal_data=allow_personal_data, personal_data=personal_data, as_of=as_of,
              launch_date=launch_date, data_end=data_end, random_state=random_state)  # fmt: skip
    if con is not None or not isinstance(table, LoadedTable) or is_resident(table.frame):  # the engine path
        src = engine_table(table, con=con, name=name)
        return _profile_engine(src, opts, **kw)
    return _profile_frame(table, opts, **kw)


def _profile_frame(
    table: LoadedTable,
    opts: ProfilingOptions,
    *,
    allow_personal_data: bool,
    personal_data: Sequence[PersonalColumn] | None,
    as_of: Any,
    launch_date: Any,
    data_end: Any,
    random_state: int | None,
) -> TableProfile:
    """The pandas path of :func:`profile_table`."""
    frame, name = table.frame, table.name
    ctx = _context(name, len(frame), table.columns, personal_columns(name, frame, personal_data), opts,
                   allow_personal_data=allow_personal_data, as_of=as_of, launch_date=launch_date,
                   data_end=data_end)  # fmt: skip
    n = ctx.n
    rng = np.random.default_rng(random_state)
    idx = _sample_index(n, opts.correlation_sample, rng)
    sample = frame if idx is None else frame.iloc[idx]

    columns = [profile_column(ctx, col, frame[col]) for col in frame.columns]
    stats = _stats_frame(columns)
    alerts = [a for c in columns for a in c.alerts]
    dup_rows, dup_alerts = _step_duplicate_rows(frame, name, stats)
    key_dups, key_alerts = _step_duplicate_keys(frame, ctx, columns, dup_rows)
    miss_cols, nullity_corr, nullity_sample = nullity(frame, sample, stats)
    spearman, cramers, corr_alerts = _step_correlations(ctx, sample, stats, columns)
    alerts += dup_alerts + key_alerts + corr_alerts
    if name == "orders" and n:
        alerts += order_alerts(frame)
    return _table_profile(
        ctx, columns, stats, alerts, source=dict(table.source), n_columns=int(frame.shape[1]),
        memory_bytes=int(frame.memory_usage(deep=True, index=False).sum()),
        patterns=missing_patterns(frame, miss_cols, opts.top_n), nullity_corr=nullity_corr,
        nullity_sample=nullity_sample, spearman=spearman, cramers=cramers,
        numeric_sample=_step_chart_sample(sample, stats, rng), n_dup_rows=int(dup_rows.sum()) if dup_rows is not None else 0,
        key_dups=key_dups, sample_rows=len(sample), random_state=random_state,
    )  # fmt: skip


def _table_profile(
    ctx: TableContext,
    columns: Sequence[ColumnProfile],
    stats: pd.DataFrame,
    alerts: list[Alert],
    **parts: Any,
) -> TableProfile:
    """Assemble the :class:`TableProfile` of either path."""
    dated = [c for c in columns if c.dates is not None]
    return TableProfile(
        name=ctx.name,
        n_rows=ctx.n,
        n_columns=parts["n_columns"],
        memory_bytes=parts["memory_bytes"],
        source=parts["source"],
        stats=stats,
        top_values={c.row["column"]: c.top for c in columns if c.top is not None},
        missing_patterns=parts["patterns"],
        nullity_corr=parts["nullity_corr"],
        spearman=parts["spearman"],
        cramers=parts["cramers"],
        daily_counts={c.row["column"]: c.dates.daily for c in dated},
        date_windows={c.row["column"]: c.dates.window for c in dated},
        spikes={c.row["column"]: c.dates.spikes for c in dated},
        numeric_sample=parts["numeric_sample"],
        nullity_sample=parts["nullity_sample"],
        n_duplicate_rows=parts["n_dup_rows"],
        n_duplicate_keys=parts["key_dups"],
        key=ctx.key,
        alerts=tuple(alerts),
        pii=tuple(ctx.pii),
        sample_rows=parts["sample_rows"],
        random_state=parts["random_state"],
        n_missing_cells=int(stats["n_missing"].sum()) if len(stats) else 0,
        engine=parts.get("engine"),
        approximate=parts.get("approximate", ()),
    )


@dataclass(frozen=True)
class EngineTable:
    """A table for the engine path: its name, the engine table, where it came from and its
    intake report (empty when it did not pass intake)."""

    name: str
    table: ir.Table
    source: dict[str, Any]
    columns: list[ColumnReport]


TableInput = LoadedTable | ir.Table | pd.DataFrame | str | Path | EngineTable
"""What :func:`profile_table` profiles: a table after intake, or an engine table (or what becomes one)."""


def engine_table(data: TableInput, *, con: ibis.BaseBackend | None, name: str | None = None) -> EngineTable:
    """The :class:`EngineTable` of an input of :func:`profile_table`.

    Parameters
    ----------
    data : LoadedTable, ibis Table, pandas.DataFrame, str, Path or EngineTable
        A LoadedTable's frame, a DataFrame or a path is made an engine table of ``con``
        (:func:`workbench.data.engine.as_table`); an Ibis table stays on its own engine; an
        EngineTable is returned as it is.
    con : ibis.BaseBackend or None
        None: the Ibis table's engine, else a fresh in-memory DuckDB.
    name : str, optional
        Table name (a LoadedTable's own name wins).

    Returns
    -------
    EngineTable

    Raises
    ------
    WorkbenchError
        No name for a table that is not a LoadedTable.
    """
    if isinstance(data, EngineTable):
        return data
    if isinstance(data, LoadedTable):
        if con is None:
            con = engine.connect()
        return EngineTable(data.name, engine.as_table(con, data.frame), dict(data.source), list(data.columns))
    if name is None:
        raise WorkbenchError(f"profile_table needs name= (the contract table name, e.g. 'orders') for a "
                             f"{type(data).__name__}")  # fmt: skip
    if isinstance(data, ir.Table):
        return EngineTable(name, data, {"engine": queries.engine_of(data)}, [])
    if con is None:
        con = engine.connect()
    source: dict[str, Any] = {}
    if isinstance(data, (str, Path)):
        path = Path(data)
        source = {"path": str(path), "format": "parquet" if path.suffix.lower() in (".parquet", ".pq") or path.is_dir() else "csv"}
    return EngineTable(name, engine.as_table(con, data), source, [])


def _profile_engine(
    src: EngineTable,
    opts: ProfilingOptions,
    *,
    allow_personal_data: bool,
    personal_data: Sequence[PersonalColumn] | None,
    as_of: Any,
    launch_date: Any,
    data_end: Any,
    random_state: int | None,
) -> TableProfile:
    """The engine path of :func:`profile_table` (see :mod:`workbench.profiling.queries`)."""
    t, name = src.table, src.name
    n = int(t.count().to_pandas())
    sample = queries.seeded_sample(t, n, opts.correlation_sample, random_state)
    ctx = _context(name, n, src.columns, personal_columns(name, sample, personal_data), opts,
                   allow_personal_data=allow_personal_data, as_of=as_of, launch_date=launch_date,
                   data_end=data_end)  # fmt: skip
    facts = queries.table_facts(t, ctx)
    columns = [column_profile(ctx, col, facts.columns[col]) for col in t.columns]
    stats = _stats_frame(columns)
    alerts = [a for c in columns for a in c.alerts]
    may_repeat = _may_repeat_rows(stats, n)
    n_dup_rows, key_dups = 0, 0
    has_key = bool(ctx.key) and all(c in t.columns for c in ctx.key)
    if has_key:
        key_dups, key_examples = _single_key(ctx, columns)
    if has_key and (len(ctx.key) > 1 or key_dups):
        n_dup_rows, recount, examples = queries.duplicates(t, n, ctx.key, distinct_rows=may_repeat)
        if _recount_keys(ctx, key_dups, n_dup_rows):
            key_dups, key_examples = recount, examples
    elif may_repeat:
        n_dup_rows = queries.duplicate_rows(t, n)
    alerts += _duplicate_rows_alerts(name, n_dup_rows, n)
    if has_key:
        alerts += _key_alerts(ctx, key_dups, key_examples)
    miss_cols, nullity_corr = missing_columns(sample, stats, n)
    cols = miss_cols[:62]
    patterns = pattern_edges(n, cols)
    if patterns is None:
        codes, counts = queries.missing_pattern_counts(t, cols)
        patterns = patterns_frame(codes, counts, cols, n, opts.top_n)
    spearman, cramers, corr_alerts = _step_correlations(ctx, sample, stats, columns)
    alerts += corr_alerts
    if name == "orders" and n:
        oc = queries.order_counts(t)
        alerts += order_alerts_of(n, int(oc["refunds"] or 0), oc.get("refund_total"), int(oc.get("negative") or 0),
                                  oc["examples"], list(t.columns))  # fmt: skip
    backend = queries.engine_of(t)
    rng = np.random.default_rng(random_state)
    return _table_profile(
        ctx, columns, stats, alerts, source=src.source, n_columns=len(t.columns), memory_bytes=facts.memory_bytes,
        patterns=patterns, nullity_corr=nullity_corr if nullity_corr is not None else pd.DataFrame(),
        nullity_sample=nullity_rows(sample, miss_cols) if nullity_corr is not None else pd.DataFrame(),
        spearman=spearman, cramers=cramers, numeric_sample=_step_chart_sample(sample, stats, rng),
        n_dup_rows=n_dup_rows, key_dups=key_dups, sample_rows=len(sample), random_state=random_state,
        engine=backend, approximate=queries.APPROXIMATE.get(backend, ()),
    )  # fmt: skip


def intake_report(
    tables: Mapping[str, LoadedTable],
    *,
    personal_data: Sequence[PersonalColumn] | None = None,
    allow_personal_data: bool = False,
) -> pd.DataFrame:
    """How every column of every table was read: source header, type, blanks, placeholders and
    unreadable values.

    Parameters
    ----------
    tables : mapping of str to LoadedTable
    personal_data : sequence of PersonalColumn, optional
        What intake found (``ctx.personal_data()``); default the contract's personal columns
        (see :func:`profile_table`).
    allow_personal_data : bool, default False
        Show the unreadable values of personal-data columns.

    Returns
    -------
    pandas.DataFrame
        One row per column (see :class:`workbench.core.contract.ColumnReport`), the ``type`` as
        a label in the run's language; the example columns of a personal-data column read
        ``personal data (phone), values hidden``.
    """
    frames = [_hide_examples(lt.report(), personal_columns(name, lt.frame, personal_data))
              if not allow_personal_data else lt.report() for name, lt in tables.items()]  # fmt: skip
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if "type" in out:
        out["type"] = out["type"].map(lambda v: category("logical_type", v))
    return out


def _hide_examples(report: pd.DataFrame, pii: Mapping[str, str | None]) -> pd.DataFrame:
    """The intake report with the example values (``examples``, ``*_examples``) of personal-data
    columns replaced by a label."""
    if report.empty or not pii:
        return report
    out = report.copy()
    personal = out["column"].isin(list(pii))
    labels = out["column"].map(lambda c: hidden_label(pii.get(c)))
    for col in [c for c in out.columns if str(c).endswith("examples")]:
        hide = personal & (out[col].fillna("").astype(str) != "")
        out.loc[hide, col] = labels[hide]
    return out
