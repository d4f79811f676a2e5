"""Column statistics: the kind of each column, its counts, top values, moments and quantiles.

:func:`profile_column` profiles one column of a table in named steps (counts, top values,
numeric statistics, dates, intake report, alerts) and returns a :class:`ColumnProfile`, which
:func:`workbench.profiling.tables.profile_table` assembles into the table's statistics.
Statistics are vectorised over the column (numpy on the whole column, no row loops).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.contract import TABLES, ColumnReport
from workbench.data.cleaning import _date_values
from workbench.profiling.alerts import Alert, column_alerts, fmt_value, intake_alerts
from workbench.profiling.dates import DateColumn, profile_dates
from workbench.profiling.options import ProfilingOptions
from workbench.profiling.personal import hidden_label

__all__ = ["TableContext", "ColumnProfile", "profile_column", "numeric_stats", "imbalance", "top_indices"]

_NUM_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
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


def _logical_type(table: str, col: str, s: pd.Series, reports: Mapping[str, Any]) -> str:
    spec = TABLES.get(table)
    if spec is not None and col in spec.names:
        return spec.column(col).type
    rep = reports.get(col)
    if rep is not None:
        return rep.type
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_numeric_dtype(s):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    return "category"


def _stat_kind(logical: str, s: pd.Series) -> str:
    """How a column is summarised: numeric, bool, datetime, id, text or categorical."""
    if pd.api.types.is_bool_dtype(s):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    if pd.api.types.is_numeric_dtype(s):
        return "id" if logical == "id" else ("categorical" if logical == "category" else "numeric")
    if logical in ("id", "text"):
        return logical
    return "categorical"


def numeric_stats(x: np.ndarray, *, k: float) -> dict[str, Any]:
    """Moments, quantiles and counts of a float array (NaN = missing)."""
    out: dict[str, Any] = {}
    finite = x[np.isfinite(x)]
    out["n_infinite"] = int(np.isinf(x).sum())
    m = finite.size
    if m == 0:
        return out
    mean = float(finite.mean())
    d = finite - mean
    m2 = float(np.mean(d * d))
    std = math.sqrt(m2 * m / (m - 1)) if m > 1 else float("nan")
    skew = kurt = float("nan")
    if m > 2 and m2 > 0:
        m3 = float(np.mean(d * d * d))
        g1 = m3 / m2**1.5
        skew = g1 * math.sqrt(m * (m - 1)) / (m - 2)
    if m > 3 and m2 > 0:
        m4 = float(np.mean((d * d) ** 2))
        g2 = m4 / m2**2 - 3.0
        kurt = ((m + 1) * g2 + 6.0) * (m - 1) / ((m - 2) * (m - 3))
    qs = np.quantile(finite, _NUM_QUANTILES)
    q = dict(zip(_Q_NAMES, (float(v) for v in qs), strict=True))
    iqr = q["p75"] - q["p25"]
    lo, hi = q["p25"] - k * iqr, q["p75"] + k * iqr
    out.update(
        mean=mean,
        std=std,
        min=float(finite.min()),
        **q,
        max=float(finite.max()),
        skewness=skew,
        kurtosis=kurt,
        n_zeros=int((finite == 0).sum()),
        n_negative=int((finite < 0).sum()),
        n_outliers=int(((finite < lo) | (finite > hi)).sum()),
        outlier_low=lo,
        outlier_high=hi,
    )
    out["p_zeros"] = out["n_zeros"] / m
    out["p_negative"] = out["n_negative"] / m
    out["p_outliers"] = out["n_outliers"] / m
    out["integer_valued"] = bool(np.all(finite == np.round(finite)))
    return out


def imbalance(counts: np.ndarray) -> float:
    """``1 - H / log(k)``: 0 for a uniform spread, 1 for a single value (ydata-profiling)."""
    counts = counts[counts > 0]
    k = counts.size
    if k <= 1:
        return 0.0
    p = counts / counts.sum()
    h = float(-(p * np.log(p)).sum())
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
    where = f"{table}.{col}"
    if rep is not None and rep.source not in (col, "") and not rep.source.startswith("@"):
        where += f" (from {rep.source})"
    return where


def _step_counts(row: dict[str, Any], s: pd.Series, kind: str) -> tuple[np.ndarray | None, Any, np.ndarray | None]:
    """Valid, missing and distinct counts (into ``row``); value counts, uniques or date values."""
    n = len(s)
    counts = uniques = values = None
    if kind == "datetime":
        values = _date_values(s)
        valid = ~np.isnat(values)
        n_valid = int(valid.sum())
        n_distinct = int(pd.unique(values.view("i8")[valid]).size) if n_valid else 0
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        valid_codes = codes[codes >= 0]
        n_valid = int(valid_codes.size)
        counts = np.bincount(valid_codes, minlength=len(uniques))
        n_distinct = int(len(uniques))
    n_missing = n - n_valid
    row.update(
        n_valid=n_valid,
        n_missing=n_missing,
        p_missing=n_missing / n if n else 0.0,
        n_distinct=n_distinct,
        p_distinct=n_distinct / n_valid if n_valid else 0.0,
    )
    return counts, uniques, values


def _step_top_values(ctx: TableContext, row: dict[str, Any], counts: np.ndarray, uniques: Any) -> pd.DataFrame:
    """Top values of a column, their share and the level statistics (not for hidden columns)."""
    opts = ctx.options
    n_valid, kind = row["n_valid"], row["kind"]
    top = top_indices(counts, opts.top_n)
    vals = pd.Series(np.asarray(uniques.take(top), dtype=object))
    tv = pd.DataFrame(
        {
            "value": vals.map(fmt_value).to_numpy(dtype=object),
            "count": counts[top].astype("int64"),
            "share": counts[top] / n_valid,
        }
    )
    row.update(top=tv["value"].iloc[0], top_count=int(tv["count"].iloc[0]), top_share=float(tv["share"].iloc[0]))
    if kind in ("categorical", "bool", "text"):
        row["n_rare_levels"] = int((counts / n_valid < opts.rare_level_share).sum())
    if kind in ("categorical", "bool"):
        row["imbalance"] = imbalance(counts)
    return tv


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


def _key_duplicates(row: Mapping[str, Any], counts: np.ndarray, uniques: Any) -> tuple[int, tuple[Any, ...]]:
    """Rows repeating an earlier value of a single-column key, and a few such values."""
    key_dups = row["n_valid"] - row["n_distinct"]
    if not key_dups:
        return 0, ()
    dup_idx = top_indices(np.where(counts > 1, counts, 0), 5)
    dup_idx = dup_idx[counts[dup_idx] > 1]
    return key_dups, tuple(fmt_value(u) for u in np.asarray(uniques.take(dup_idx), dtype=object))


def profile_column(ctx: TableContext, col: str, s: pd.Series) -> ColumnProfile:
    """Profile one column: kind, counts, top values, numeric and date statistics, alerts.

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
    rep = ctx.reports.get(col)
    logical = _logical_type(ctx.name, col, s, ctx.reports)
    kind = _stat_kind(logical, s)
    is_pii = col in ctx.pii
    where = _where(ctx.name, col, rep)
    row: dict[str, Any] = {
        "column": col,
        "logical_type": logical,
        "kind": kind,
        "dtype": str(s.dtype),
        "pii": is_pii,
        "required": col in ctx.required,
        "source": rep.source if rep is not None else None,
        "n": ctx.n,
    }
    counts, uniques, values = _step_counts(row, s, kind)
    if ctx.hides(col):
        return _hidden_column(ctx, row, col, where, rep, s)
    if kind == "numeric" and rep is not None and rep.extra and 1 < row["n_distinct"] <= _LOW_CATEGORICAL:
        # ydata-profiling's low_categorical_threshold: a few numeric codes (0/1 flags,
        # 1-5 ratings) in an undeclared column are categories
        kind = row["kind"] = "categorical"
    top = None
    cramers_levels = None
    key_dups, key_examples = 0, ()
    if counts is not None and row["n_valid"]:
        top = _step_top_values(ctx, row, counts, uniques)
        cramers_levels = _cramers_levels(ctx, row)
        if len(ctx.key) == 1 and col == ctx.key[0]:
            key_dups, key_examples = _key_duplicates(row, counts, uniques)
    if pd.api.types.is_numeric_dtype(s) and kind in ("numeric", "categorical") and not pd.api.types.is_bool_dtype(s):
        row.update(numeric_stats(s.to_numpy(dtype="float64", na_value=np.nan), k=ctx.options.outlier_iqr_k))
    alerts: list[Alert] = []
    dates = None
    if kind == "datetime" and row["n_valid"]:
        dates = profile_dates(
            ctx.name, col, values, where=where, spike_z=ctx.options.spike_z,
            end=ctx.end, launch=ctx.launch, as_of_end=ctx.as_of_end,
        )  # fmt: skip
        row.update(dates.stats)
        alerts.extend(dates.alerts)
    alerts.extend(_step_alerts(ctx, row, col, where, rep, s, top))
    return ColumnProfile(row=row, alerts=alerts, top=top, dates=dates, cramers_levels=cramers_levels,
                         key_dups=key_dups, key_examples=key_examples)  # fmt: skip


def _step_alerts(
    ctx: TableContext,
    row: dict[str, Any],
    col: str,
    where: str,
    rep: ColumnReport | None,
    s: pd.Series,
    top: pd.DataFrame | None,
) -> list[Alert]:
    """The intake counts (into ``row``) and the intake and column alerts of one column."""
    alerts: list[Alert] = []
    is_pii = col in ctx.pii
    if rep is not None:
        n_ph = int(sum(rep.placeholders.values()))
        row.update(n_blank=rep.n_blank, n_unparseable=rep.n_unparseable, n_placeholders=n_ph)
        alerts.extend(intake_alerts(ctx.name, col, where, rep, s, is_pii=is_pii,
                                    allow_personal_data=ctx.allow_personal_data,
                                    pii_kind=ctx.pii.get(col)))  # fmt: skip
    alerts.extend(column_alerts(ctx.name, col, where, row, key=ctx.key, options=ctx.options, is_pii=is_pii,
                                allow_personal_data=ctx.allow_personal_data, top=top,
                                pii_kind=ctx.pii.get(col)))  # fmt: skip
    return alerts


def _hidden_column(
    ctx: TableContext, row: dict[str, Any], col: str, where: str, rep: ColumnReport | None, s: pd.Series
) -> ColumnProfile:
    """A personal-data column whose values are hidden: its counts (missing, distinct) and alerts
    only; no top values, statistics, dates or chart, and ``top`` says why."""
    row.update(kind="personal", top=hidden_label(ctx.pii.get(col)))
    key_dups = row["n_valid"] - row["n_distinct"] if len(ctx.key) == 1 and col == ctx.key[0] else 0
    return ColumnProfile(row=row, alerts=_step_alerts(ctx, row, col, where, rep, s, None), key_dups=key_dups)
