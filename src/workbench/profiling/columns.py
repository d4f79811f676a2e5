"""Column statistics: the kind of each column, its counts, top values, moments and quantiles.

:func:`profile_column` profiles one column of a table in named steps (counts, top values,
numeric statistics, dates, intake report, alerts) and returns a :class:`ColumnProfile`, which
:func:`workbench.profiling.tables.profile_table` assembles into the table's statistics.
Statistics are vectorised over the column (numpy on the whole column, no row loops).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.contract import TABLES, ColumnReport
from workbench.data.cleaning import _date_values
from workbench.profiling.alerts import Alert, column_alerts, fmt_value, intake_alerts
from workbench.profiling.dates import DateColumn, DateFacts, date_facts, dates_from_facts
from workbench.profiling.options import ProfilingOptions
from workbench.profiling.personal import hidden_label
from workbench.profiling.words import where as where_text

__all__ = [
    "TableContext",
    "ColumnProfile",
    "ColumnFacts",
    "profile_column",
    "column_facts",
    "column_profile",
    "column_kind",
    "flavour",
    "wants_numeric",
    "numeric_stats",
    "numeric_row",
    "outlier_bounds",
    "imbalance",
    "entropy_imbalance",
    "top_indices",
    "top_frame",
    "is_single_key",
    "NUM_QUANTILES",
]

NUM_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_Q_NAMES = ("p1", "p5", "p25", "median", "p75", "p95", "p99")
_LOW_CATEGORICAL = 5


@dataclass(frozen=True)
class TableContext:
    """What every column step of one table needs to know about the table and the run.

    Attributes
    ----------
    name : str
        Contract table name.
    n : int
        Rows of the table.
    reports : mapping of str to ColumnReport
        Intake report per column.
    pii : mapping of str to str or None
        Personal-data columns -> their kind (None when unknown); unless ``allow_personal_data``
        the profile shows only their counts (missing, distinct), never a value.
    key, required : tuple of str
        The contract key and required columns.
    options : ProfilingOptions
    allow_personal_data : bool
        Show personal data raw (values, statistics and charts as for any column).
    end : pandas.Timestamp
        Last plausible instant.
    as_of_end : pandas.Timestamp or None
        Last instant of the as-of day.
    launch : pandas.Timestamp or None
        Launch date.
    """

    name: str
    n: int
    reports: Mapping[str, ColumnReport]
    pii: Mapping[str, str | None]
    key: tuple[str, ...]
    required: tuple[str, ...]
    options: ProfilingOptions
    allow_personal_data: bool
    end: pd.Timestamp
    as_of_end: pd.Timestamp | None
    launch: pd.Timestamp | None

    def hides(self, col: str) -> bool:
        """Whether the values of ``col`` are hidden (personal data, not allowed raw)."""
        return col in self.pii and not self.allow_personal_data


@dataclass(frozen=True)
class ColumnProfile:
    """What :func:`profile_column` finds in one column.

    Attributes
    ----------
    row : dict
        The column's statistics (one row of :attr:`TableProfile.stats`).
    alerts : list of Alert
    top : pandas.DataFrame or None
        Most frequent values (``value``, ``count``, ``share``); None for datetimes and empty columns.
    dates : DateColumn or None
        Daily counts, window and spikes of a datetime column with values.
    cramers_levels : int or None
        Levels, when the column enters the Cramér's V matrix.
    key_dups : int
        Rows repeating an earlier value, when the column is the table's single key.
    key_examples : tuple
        A few repeated key values.
    """

    row: dict[str, Any]
    alerts: list[Alert]
    top: pd.DataFrame | None = None
    dates: DateColumn | None = None
    cramers_levels: int | None = None
    key_dups: int = 0
    key_examples: tuple[Any, ...] = ()


def flavour(s: pd.Series) -> str:
    """How a pandas column is stored: ``bool``, ``number``, ``datetime`` or ``other`` (text)."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_numeric_dtype(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    return "other"


def _logical_type(table: str, col: str, stored: str, reports: Mapping[str, Any]) -> str:
    spec = TABLES.get(table)
    if spec is not None and col in spec.names:
        return spec.column(col).type
    rep = reports.get(col)
    if rep is not None:
        return rep.type
    return stored if stored in ("bool", "number", "datetime") else "category"


def _stat_kind(logical: str, stored: str) -> str:
    """How a column is summarised: numeric, bool, datetime, id, text or categorical."""
    if stored in ("bool", "datetime"):
        return stored
    if stored == "number":
        return "id" if logical == "id" else ("categorical" if logical == "category" else "numeric")
    if logical in ("id", "text"):
        return logical
    return "categorical"


def column_kind(ctx: TableContext, col: str, stored: str) -> tuple[str, str]:
    """The logical type and the summary kind of a column stored as ``stored`` (:func:`flavour`)."""
    logical = _logical_type(ctx.name, col, stored, ctx.reports)
    return logical, _stat_kind(logical, stored)


def wants_numeric(kind: str, stored: str) -> bool:
    """Whether a column gets numeric statistics (numbers summarised as numeric or categorical)."""
    return stored == "number" and kind in ("numeric", "categorical")


def outlier_bounds(p25: float, p75: float, k: float) -> tuple[float, float]:
    """``[p25 - k*IQR, p75 + k*IQR]``: values outside are outliers."""
    iqr = p75 - p25
    return p25 - k * iqr, p75 + k * iqr


def numeric_row(
    *,
    m: int,
    n_infinite: int,
    mean: float,
    m2: float,
    m3: float,
    m4: float,
    vmin: float,
    vmax: float,
    quantiles: Sequence[float],
    n_zeros: int,
    n_negative: int,
    n_outliers: int,
    integer_valued: bool,
    k: float,
) -> dict[str, Any]:
    """The numeric statistics of a column from its aggregates over the ``m`` finite values.

    Parameters
    ----------
    m : int
        Finite values.
    n_infinite : int
        Infinite values.
    mean : float
    m2, m3, m4 : float
        Central moments ``mean((x - mean)**j)``.
    vmin, vmax : float
    quantiles : sequence of float
        At 1, 5, 25, 50, 75, 95 and 99 % (linear interpolation).
    n_zeros, n_negative, n_outliers : int
        Outliers: outside :func:`outlier_bounds` of p25, p75 and ``k``.
    integer_valued : bool
        Every finite value a whole number.
    k : float
        ``outlier_iqr_k``.

    Returns
    -------
    dict
        The keys of :meth:`TableProfile.to_frame` for numbers (only ``n_infinite`` when ``m`` is 0).
    """
    out: dict[str, Any] = {"n_infinite": int(n_infinite)}
    if m == 0:
        return out
    std = math.sqrt(m2 * m / (m - 1)) if m > 1 else float("nan")
    skew = kurt = float("nan")
    if m > 2 and m2 > 0:
        g1 = m3 / m2**1.5
        skew = g1 * math.sqrt(m * (m - 1)) / (m - 2)
    if m > 3 and m2 > 0:
        g2 = m4 / m2**2 - 3.0
        kurt = ((m + 1) * g2 + 6.0) * (m - 1) / ((m - 2) * (m - 3))
    q = dict(zip(_Q_NAMES, (float(v) for v in quantiles), strict=True))
    lo, hi = outlier_bounds(q["p25"], q["p75"], k)
    out.update(
        mean=float(mean),
        std=std,
        min=float(vmin),
        **q,
        max=float(vmax),
        skewness=skew,
        kurtosis=kurt,
        n_zeros=int(n_zeros),
        n_negative=int(n_negative),
        n_outliers=int(n_outliers),
        outlier_low=lo,
        outlier_high=hi,
    )
    out["p_zeros"] = out["n_zeros"] / m
    out["p_negative"] = out["n_negative"] / m
    out["p_outliers"] = out["n_outliers"] / m
    out["integer_valued"] = bool(integer_valued)
    return out


def numeric_stats(x: np.ndarray, *, k: float) -> dict[str, Any]:
    """Moments, quantiles and counts of a float array (NaN = missing); see :func:`numeric_row`."""
    finite = x[np.isfinite(x)]
    n_inf = int(np.isinf(x).sum())
    m = finite.size
    if m == 0:
        return numeric_row(m=0, n_infinite=n_inf, mean=0, m2=0, m3=0, m4=0, vmin=0, vmax=0, quantiles=(),
                           n_zeros=0, n_negative=0, n_outliers=0, integer_valued=True, k=k)  # fmt: skip
    mean = float(finite.mean())
    d = finite - mean
    d2 = d * d
    qs = np.quantile(finite, NUM_QUANTILES)
    lo, hi = outlier_bounds(float(qs[2]), float(qs[4]), k)
    return numeric_row(
        m=m, n_infinite=n_inf, mean=mean, m2=float(np.mean(d2)), m3=float(np.mean(d2 * d)),
        m4=float(np.mean(d2 * d2)), vmin=float(finite.min()), vmax=float(finite.max()), quantiles=qs,
        n_zeros=int((finite == 0).sum()), n_negative=int((finite < 0).sum()),
        n_outliers=int(((finite < lo) | (finite > hi)).sum()),
        integer_valued=bool(np.all(finite == np.round(finite))), k=k,
    )  # fmt: skip


def imbalance(counts: np.ndarray) -> float:
    """``1 - H / log(k)``: 0 for a uniform spread, 1 for a single value (ydata-profiling)."""
    counts = np.asarray(counts, dtype="float64")
    counts = counts[counts > 0]
    return entropy_imbalance(counts.size, float(counts.sum()), float((counts * np.log(counts)).sum()))


def entropy_imbalance(k: int, n: float, clogc: float) -> float:
    """:func:`imbalance` of ``k`` values with ``n`` rows in all, from ``sum(c * log(c))`` over
    their counts ``c`` (an aggregate the engine computes): ``H = log(n) - clogc / n``."""
    if k <= 1:
        return 0.0
    h = math.log(n) - clogc / n
    return 1.0 - h / math.log(k)


def top_indices(counts: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest counts, largest first (ties: lower index first)."""
    if counts.size > 4 * n:
        idx = np.argpartition(-counts, n)[:n]
    else:
        idx = np.arange(counts.size)
    return idx[np.lexsort((idx, -counts[idx]))][:n]


def _where(table: str, col: str, rep: ColumnReport | None) -> str:
    """How messages name a column: ``orders.amount``, plus ``(from 实付金额)`` when renamed."""
    return where_text(table, col, rep.source if rep is not None else None)


@dataclass(frozen=True)
class ColumnFacts:
    """The counts and aggregates one column's profile is built from, however they were computed.

    :func:`column_facts` computes them from a pandas column; :mod:`workbench.profiling.queries`
    with queries in the engine. Nothing is computed from the values of a hidden column beyond
    ``n_valid`` and ``n_distinct``.

    Attributes
    ----------
    dtype : str
        Storage type as shown (pandas dtype, or the engine's type).
    stored : str
        :func:`flavour`: ``bool``, ``number``, ``datetime`` or ``other``.
    n_valid, n_distinct : int
    top : pandas.DataFrame or None
        Most frequent values (``value``, ``count``, ``share``).
    n_rare_levels : int or None
        Values rarer than ``rare_level_share`` of the non-missing rows.
    imbalance : float or None
        :func:`imbalance` of the value counts.
    key_dups : int
        Rows repeating an earlier value (single-column keys).
    key_examples : tuple
        A few repeated values.
    numeric : dict or None
        :func:`numeric_row`.
    dates : DateFacts or None
    """

    dtype: str
    stored: str
    n_valid: int
    n_distinct: int
    top: pd.DataFrame | None = None
    n_rare_levels: int | None = None
    imbalance: float | None = None
    key_dups: int = 0
    key_examples: tuple[Any, ...] = ()
    numeric: dict[str, Any] | None = None
    dates: DateFacts | None = None


def top_frame(values: Sequence[Any], counts: np.ndarray, n_valid: int) -> pd.DataFrame:
    """The top-values table: ``value`` (as shown), ``count``, ``share`` of the non-missing rows."""
    counts = np.asarray(counts, dtype="int64")
    vals = pd.Series(np.asarray(values, dtype=object), dtype=object)
    return pd.DataFrame(
        {"value": vals.map(fmt_value).to_numpy(dtype=object), "count": counts, "share": counts / n_valid}
    )


def is_single_key(ctx: TableContext, col: str) -> bool:
    """Whether ``col`` is the table's one-column key."""
    return len(ctx.key) == 1 and col == ctx.key[0]


def column_facts(ctx: TableContext, col: str, s: pd.Series) -> ColumnFacts:
    """The :class:`ColumnFacts` of a pandas column (vectorised over the whole column).

    Parameters
    ----------
    ctx : TableContext
    col : str
    s : pandas.Series

    Returns
    -------
    ColumnFacts
    """
    stored = flavour(s)
    _, kind = column_kind(ctx, col, stored)
    if kind == "datetime":
        values = _date_values(s)
        valid = ~np.isnat(values)
        n_valid = int(valid.sum())
        n_distinct = int(pd.unique(values.view("i8")[valid]).size) if n_valid else 0
        if ctx.hides(col) or not n_valid:
            return ColumnFacts(str(s.dtype), stored, n_valid, n_distinct)
        dates = date_facts(col, values, end=ctx.end, launch=ctx.launch, as_of_end=ctx.as_of_end)
        return ColumnFacts(str(s.dtype), stored, n_valid, n_distinct, dates=dates)
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    valid_codes = codes[codes >= 0]
    n_valid = int(valid_codes.size)
    counts = np.bincount(valid_codes, minlength=len(uniques))
    n_distinct = int(len(uniques))
    if ctx.hides(col):
        return ColumnFacts(str(s.dtype), stored, n_valid, n_distinct)
    top = n_rare = imb = None
    key_dups, key_examples = 0, ()
    if n_valid:
        idx = top_indices(counts, ctx.options.top_n)
        top = top_frame(uniques.take(idx), counts[idx], n_valid)
        n_rare = int((counts / n_valid < ctx.options.rare_level_share).sum())
        imb = imbalance(counts)
        if is_single_key(ctx, col) and n_valid > n_distinct:
            key_dups = n_valid - n_distinct
            dup_idx = top_indices(np.where(counts > 1, counts, 0), 5)
            dup_idx = dup_idx[counts[dup_idx] > 1]
            key_examples = tuple(fmt_value(u) for u in np.asarray(uniques.take(dup_idx), dtype=object))
    numeric = None
    if wants_numeric(kind, stored):
        numeric = numeric_stats(s.to_numpy(dtype="float64", na_value=np.nan), k=ctx.options.outlier_iqr_k)
    return ColumnFacts(str(s.dtype), stored, n_valid, n_distinct, top=top, n_rare_levels=n_rare, imbalance=imb,
                       key_dups=key_dups, key_examples=key_examples, numeric=numeric)  # fmt: skip


def _cramers_levels(ctx: TableContext, row: Mapping[str, Any]) -> int | None:
    """Levels of a category or yes/no column that enters the Cramér's V matrix, else None."""
    n_distinct = row["n_distinct"]
    if (
        row["kind"] in ("categorical", "bool")
        and 2 <= n_distinct <= ctx.options.high_cardinality_threshold
        and n_distinct <= 0.5 * row["n_valid"]  # mostly-distinct codes associate with anything
    ):
        return n_distinct
    return None


def profile_column(ctx: TableContext, col: str, s: pd.Series) -> ColumnProfile:
    """Profile one pandas column: kind, counts, top values, numeric and date statistics, alerts.

    Parameters
    ----------
    ctx : TableContext
        The table and the run.
    col : str
        Column name.
    s : pandas.Series
        The column.

    Returns
    -------
    ColumnProfile
    """
    return column_profile(ctx, col, column_facts(ctx, col, s))


def column_profile(ctx: TableContext, col: str, facts: ColumnFacts) -> ColumnProfile:
    """The :class:`ColumnProfile` of one column's :class:`ColumnFacts` (pandas or engine).

    Parameters
    ----------
    ctx : TableContext
    col : str
    facts : ColumnFacts

    Returns
    -------
    ColumnProfile
    """
    rep = ctx.reports.get(col)
    logical, kind = column_kind(ctx, col, facts.stored)
    is_pii = col in ctx.pii
    where = _where(ctx.name, col, rep)
    n, n_valid, n_distinct = ctx.n, facts.n_valid, facts.n_distinct
    n_missing = n - n_valid
    row: dict[str, Any] = {
        "column": col,
        "logical_type": logical,
        "kind": kind,
        "dtype": facts.dtype,
        "pii": is_pii,
        "required": col in ctx.required,
        "source": rep.source if rep is not None else None,
        "n": n,
        "n_valid": n_valid,
        "n_missing": n_missing,
        "p_missing": n_missing / n if n else 0.0,
        "n_distinct": n_distinct,
        "p_distinct": n_distinct / n_valid if n_valid else 0.0,
    }
    if ctx.hides(col):
        return _hidden_column(ctx, row, col, where, rep)
    if kind == "numeric" and rep is not None and rep.extra and 1 < n_distinct <= _LOW_CATEGORICAL:
        # ydata-profiling's low_categorical_threshold: a few numeric codes (0/1 flags,
        # 1-5 ratings) in an undeclared column are categories
        kind = row["kind"] = "categorical"
    top = facts.top
    cramers_levels = None
    if top is not None and len(top):
        row.update(top=top["value"].iloc[0], top_count=int(top["count"].iloc[0]),
                   top_share=float(top["share"].iloc[0]))  # fmt: skip
        if kind in ("categorical", "bool", "text"):
            row["n_rare_levels"] = facts.n_rare_levels
        if kind in ("categorical", "bool"):
            row["imbalance"] = facts.imbalance
        cramers_levels = _cramers_levels(ctx, row)
    if facts.numeric is not None:
        row.update(facts.numeric)
    alerts: list[Alert] = []
    dates = None
    if facts.dates is not None:
        dates = dates_from_facts(
            ctx.name, col, facts.dates, where=where, spike_z=ctx.options.spike_z,
            end=ctx.end, launch=ctx.launch, as_of_end=ctx.as_of_end,
        )  # fmt: skip
        row.update(dates.stats)
        alerts.extend(dates.alerts)
    alerts.extend(_step_alerts(ctx, row, col, where, rep, top))
    return ColumnProfile(row=row, alerts=alerts, top=top, dates=dates, cramers_levels=cramers_levels,
                         key_dups=facts.key_dups, key_examples=facts.key_examples)  # fmt: skip


def _step_alerts(
    ctx: TableContext,
    row: dict[str, Any],
    col: str,
    where: str,
    rep: ColumnReport | None,
    top: pd.DataFrame | None,
) -> list[Alert]:
    """The intake counts (into ``row``) and the intake and column alerts of one column."""
    alerts: list[Alert] = []
    is_pii = col in ctx.pii
    if rep is not None:
        n_ph = int(sum(rep.placeholders.values()))
        row.update(n_blank=rep.n_blank, n_unparseable=rep.n_unparseable, n_placeholders=n_ph)
        alerts.extend(intake_alerts(ctx.name, col, where, rep, ctx.n, is_pii=is_pii,
                                    allow_personal_data=ctx.allow_personal_data,
                                    pii_kind=ctx.pii.get(col)))  # fmt: skip
    alerts.extend(column_alerts(ctx.name, col, where, row, key=ctx.key, options=ctx.options, is_pii=is_pii,
                                allow_personal_data=ctx.allow_personal_data, top=top,
                                pii_kind=ctx.pii.get(col)))  # fmt: skip
    return alerts


def _hidden_column(ctx: TableContext, row: dict[str, Any], col: str, where: str, rep: ColumnReport | None) -> ColumnProfile:
    """A personal-data column whose values are hidden: its counts (missing, distinct) and alerts
    only; no top values, statistics, dates or chart, and ``top`` says why."""
    row.update(kind="personal", top=hidden_label(ctx.pii.get(col)))
    key_dups = row["n_valid"] - row["n_distinct"] if is_single_key(ctx, col) else 0
    return ColumnProfile(row=row, alerts=_step_alerts(ctx, row, col, where, rep, None), key_dups=key_dups)
