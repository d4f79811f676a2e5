"""Data profiling: what is in each table, what is wrong with it, and what that means for CRM
analysis.

:func:`profile_tables` profiles every loaded table (:func:`profile_table`), runs the cross-table
CRM checks (orphan rows, customers without orders, extreme spenders) and returns a
:class:`DataProfile` with tables, alerts, findings and charts for the profiling notebook.
:func:`service_kpis` summarises customer-service tickets.

Statistics are vectorised over columns (numpy on the whole column, no row loops); the costly
parts - correlations, nullity correlation, the samples kept for charts - use a random sample of
``params.correlation_sample`` rows drawn with ``random_state``.

Alerts
------
Each :class:`Alert` has a ``kind`` and a ``severity`` (``error`` > ``warning`` > ``info``).
The kinds shared with ydata-profiling follow its definitions; its default thresholds are quoted,
the thresholds used are those of :class:`~workbench.core.params.ProfilingParams`:

``missing`` (warning; error for a required contract column)
    Share of missing values > ``missing_threshold`` (ydata: > 1 %).
``empty`` (warning)
    Every value missing.
``constant`` (warning)
    Exactly one distinct non-missing value (ydata: ``n_distinct == 1``).
``unique`` (info)
    Every row has a different value (ydata: ``n_distinct == n``). Raised for text, category and
    id columns and integer-valued numbers, not for the table's own key (being unique is its
    job) nor for real-valued numbers and timestamps, where distinct values are normal.
``high_cardinality`` (info)
    A category column with more than ``high_cardinality_threshold`` distinct values (ydata: 50).
``imbalance`` (info)
    Category or yes/no column with ``1 - H / log(k)`` > ``imbalance_threshold`` (ydata: 0.5),
    where ``H`` is the entropy of the value shares and ``k`` the number of distinct values; 0 is
    a uniform spread, 1 a single value.
``skewed`` (info)
    Numeric column with ``|skewness| >`` ``skewness_threshold`` (ydata: 20); skewness is the
    adjusted Fisher-Pearson coefficient (as pandas ``skew``).
``zeros`` (info)
    Share of zeros among non-missing values > ``zeros_threshold`` (ydata: > 1 %).
``infinite`` (warning)
    Infinite values present.
``high_correlation`` (info)
    A pair with ``|Spearman rho|`` or Cramér's V above ``high_correlation_threshold`` (one alert
    per pair; Cramér's V with the bias correction ydata uses).
``duplicates`` (warning)
    Rows that are an exact copy of an earlier row (ydata: any duplicate row).

Kinds of the workbench: ``duplicate_keys`` (error: rows repeating the key of an earlier row,
from :attr:`TableSpec.key`), ``unparseable`` (warning) and ``placeholder`` (info) from the intake
report, ``personal_data`` (info), ``date_gaps`` and ``spike_days`` (info), ``after_as_of``
(info: rows later than ``as_of``, used as outcome windows), and the CRM checks ``refunds``
(info), ``negative_amounts``, ``future_dates``, ``prelaunch_dates``, ``orphan_orders`` (orders),
``orphan_rows`` (tickets, events, campaign contacts), ``extreme_spenders`` (warning) and
``customers_without_orders`` (info).
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.contract import TABLES, LoadedTable, check_references, pii_columns
from workbench.core.privacy import mask_series, pii_kind
from workbench.data.cleaning import (
    EVENT_TIME_COLUMNS,
    _date_values,
    _default_data_end,
    fast_isin,
    negative_amount_mask,
    refund_mask,
    spender_scores,
    to_timestamp,
)
from workbench.profiling.params import ProfilingParams

__all__ = [
    "Alert",
    "ALERT_KINDS",
    "SEVERITIES",
    "CRM_KINDS",
    "intake_report",
    "TableProfile",
    "DataProfile",
    "profile_table",
    "profile_tables",
    "service_kpis",
    "service_finding",
    "cramers_v",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
_SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}

ALERT_KINDS: dict[str, str] = {
    "missing": "share of missing values above profiling.missing_threshold",
    "empty": "every value missing",
    "constant": "a single distinct value",
    "unique": "every row a different value",
    "high_cardinality": "category with more distinct values than profiling.high_cardinality_threshold",
    "imbalance": "1 - normalised entropy above profiling.imbalance_threshold",
    "skewed": "|skewness| above profiling.skewness_threshold",
    "zeros": "share of zeros above profiling.zeros_threshold",
    "infinite": "infinite values",
    "high_correlation": "|Spearman rho| or Cramér's V above profiling.high_correlation_threshold",
    "duplicates": "exact copies of an earlier row",
    "duplicate_keys": "rows repeating the key of an earlier row",
    "unparseable": "values that could not be parsed at intake (now missing)",
    "placeholder": "placeholder texts turned into missing values at intake",
    "personal_data": "column holds personal data",
    "date_gaps": "months without rows inside the date range",
    "spike_days": "days whose row count has a robust z above profiling.spike_z",
    "after_as_of": "rows later than as_of (outcome windows only)",
    "future_dates": "dates after today",
    "prelaunch_dates": "dates before launch_date",
    "refunds": "refund lines (is_refund or a refund status)",
    "negative_amounts": "negative amounts not marked as refunds",
    "orphan_orders": "orders whose customer_id is not in customers",
    "orphan_rows": "rows whose customer_id is not in customers (tickets, events, contacts)",
    "customers_without_orders": "customers with no order",
    "extreme_spenders": "customers whose log total spend has a robust z above the threshold",
}
"""Alert kinds and what raises them."""

CRM_KINDS: tuple[str, ...] = (
    "refunds", "negative_amounts", "future_dates", "prelaunch_dates", "after_as_of",
    "orphan_orders", "orphan_rows", "customers_without_orders", "extreme_spenders",
    "placeholder", "unparseable", "personal_data",
)  # fmt: skip
"""Alert kinds of the CRM checks (beyond ydata-profiling's)."""

_DAY_NS = 86_400_000_000_000
_NUM_QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
_Q_NAMES = ("p1", "p5", "p25", "median", "p75", "p95", "p99")
_TEXT_KINDS = ("categorical", "text", "id")
_NULLITY_ROWS = 1000
_LOW_CATEGORICAL = 5
_NOT_ACTIVITY = frozenset({"birth_date"})
_NUMERIC_SAMPLE_ROWS = 50_000


# --------------------------------------------------------------------------------------------
# Alerts
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One finding about the data that deserves the analyst's attention.

    Attributes
    ----------
    table : str
        Contract table name.
    column : str or None
        Column concerned (``None`` for table-level alerts; for pairs the first column).
    kind : str
        One of :data:`ALERT_KINDS`.
    severity : {'error', 'warning', 'info'}
        ``error``: breaks the contract or biases every analysis until cleaned; ``warning``:
        likely wrong, check it; ``info``: worth knowing.
    message : str
        Plain-language sentence with the counts and share.
    n_rows : int
        Rows (or customers, or values) concerned.
    share : float or None
        ``n_rows`` as a share of the table's rows.
    examples : tuple
        A few example values (masked for personal data).
    """

    table: str
    column: str | None
    kind: str
    severity: Severity
    message: str
    n_rows: int = 0
    share: float | None = None
    examples: tuple[Any, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The alert as a plain dict (examples joined into one string)."""
        return {
            "severity": self.severity,
            "table": self.table,
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
            "n_rows": self.n_rows,
            "share": self.share,
            "examples": ", ".join(map(repr, self.examples)),
        }

    def __repr__(self) -> str:
        return f"Alert({self.severity}: {self.message})"


def _alerts_frame(alerts: Sequence[Alert], order: Sequence[str] | None = None) -> pd.DataFrame:
    cols = ["severity", "table", "column", "kind", "message", "n_rows", "share", "examples"]
    if not alerts:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame([a.as_dict() for a in alerts], columns=cols)
    t_rank = {t: i for i, t in enumerate(order or [])}
    df["_s"] = df["severity"].map(_SEV_RANK)
    df["_t"] = df["table"].map(lambda t: t_rank.get(t, len(t_rank)))
    df = df.sort_values(["_s", "_t", "n_rows"], ascending=[True, True, False], kind="stable")
    return df.drop(columns=["_s", "_t"]).reset_index(drop=True)


def _rows(n: int, total: int, unit: str = "rows") -> str:
    if total:
        return f"{n:,} of {total:,} {unit} ({n / total:.1%})"
    return f"{n:,} {unit}"


def _fmt_num(x: Any) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    x = float(x)
    if abs(x) >= 1000 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def _fmt_value(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        return str(v.date()) if v == v.normalize() else str(v)
    return v


# --------------------------------------------------------------------------------------------
# Column kinds and statistics
# --------------------------------------------------------------------------------------------


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


def _numeric_stats(x: np.ndarray, *, k: float) -> dict[str, Any]:
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


def _imbalance(counts: np.ndarray) -> float:
    """``1 - H / log(k)``: 0 for a uniform spread, 1 for a single value (ydata-profiling)."""
    counts = counts[counts > 0]
    k = counts.size
    if k <= 1:
        return 0.0
    p = counts / counts.sum()
    h = float(-(p * np.log(p)).sum())
    return 1.0 - h / math.log(k)


def _top_indices(counts: np.ndarray, n: int) -> np.ndarray:
    if counts.size > 4 * n:
        idx = np.argpartition(-counts, n)[:n]
    else:
        idx = np.arange(counts.size)
    return idx[np.lexsort((idx, -counts[idx]))][:n]


def _day_spikes(counts: pd.Series, z: float, *, window: int = 29) -> pd.DataFrame:
    """Spike days: days whose count stands out from the surrounding weeks.

    ``z = (c - b) / scale`` where ``b`` is the centred rolling median of the daily counts over
    ``window`` days (the local baseline, so a growing business or a seasonal peak is not a run of
    spikes) and ``scale = max(1.4826 * MAD(c - b), sqrt(max(b, 1)))`` - the MAD of the residuals,
    with a Poisson floor that keeps sparse tables (a handful of rows a day) from marking every
    non-empty day. Days with ``z > spike_z`` are spikes.
    """
    cols = ["day", "rows", "baseline", "robust_z", "times_baseline"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    c = counts.to_numpy(dtype="float64")
    base = (
        pd.Series(c).rolling(window, center=True, min_periods=1).median().to_numpy()
        if c.size > 1
        else c.copy()
    )
    resid = c - base
    mad = float(np.median(np.abs(resid - np.median(resid))))
    scale = np.maximum(1.4826 * mad, np.sqrt(np.maximum(base, 1.0)))
    zs = resid / scale
    hit = zs > z
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(base[hit] > 0, c[hit] / base[hit], np.nan)
    out = pd.DataFrame(
        {
            "day": counts.index[hit],
            "rows": c[hit].astype("int64"),
            "baseline": base[hit],
            "robust_z": zs[hit],
            "times_baseline": times,
        },
        columns=cols,
    )
    return out.sort_values("robust_z", ascending=False).reset_index(drop=True)


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramér's V of two factorised columns (codes ``-1`` = missing).

    Uses Bergsma's correction as ydata-profiling does: ``phi2 = max(0, chi2/n - (k-1)(r-1)/(n-1))``
    over ``min(k~ - 1, r~ - 1)`` with ``r~ = r - (r-1)^2/(n-1)``.

    Parameters
    ----------
    a, b : numpy.ndarray of int
        Codes of the two columns, same length.

    Returns
    -------
    float
        Between 0 and 1; NaN when a column has one level or fewer than 2 rows.
    """
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    n = a.size
    if n < 2:
        return float("nan")
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    r, k = int(a.max()) + 1, int(b.max()) + 1
    if r < 2 or k < 2:
        return float("nan")
    table = np.bincount(a * k + b, minlength=r * k).reshape(r, k).astype("float64")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    phi2 = chi2 / n
    phi2corr = max(0.0, phi2 - (k - 1.0) * (r - 1.0) / (n - 1.0))
    rcorr = r - (r - 1.0) ** 2 / (n - 1.0)
    kcorr = k - (k - 1.0) ** 2 / (n - 1.0)
    denom = min(kcorr - 1.0, rcorr - 1.0)
    if denom <= 0:
        return 1.0
    return float(min(1.0, math.sqrt(phi2corr / denom)))


# --------------------------------------------------------------------------------------------
# Table profile
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableProfile:
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
        Most frequent values per column (``value``, ``count``, ``share``), masked for PII.
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
        Personal-data columns.
    sample_rows : int
        Rows in the correlation sample.
    random_state : int or None
        Seed of the sample.
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
        """Headline per column: type, missing share, distinct values, top value or median."""
        cols = ["logical_type", "dtype", "n_missing", "p_missing", "n_distinct", "top", "median", "date_min", "date_max"]
        return self.stats[[c for c in cols if c in self.stats]].copy()

    def alerts_frame(self) -> pd.DataFrame:
        """This table's alerts, most severe first."""
        return _alerts_frame(self.alerts)

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

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the missing share per column (see :meth:`DataProfile.plot_missing`)."""
        return _plot_missing_bar(self, ax)

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(repr(self))}</b></p>" + self.summary().to_html()

    def __repr__(self) -> str:
        return (
            f"TableProfile({self.name!r}, rows={self.n_rows:,}, columns={self.n_columns}, "
            f"alerts={len(self.alerts)})"
        )


def _sample_index(n: int, size: int, rng: np.random.Generator) -> np.ndarray | None:
    if n <= size:
        return None
    return np.sort(rng.choice(n, size=size, replace=False))


def _missing_patterns(frame: pd.DataFrame, cols: list[str], top_n: int) -> pd.DataFrame:
    """Top combinations of missing columns over all rows (bit codes, vectorised)."""
    out_cols = ["missing_columns", "n_missing_columns", "rows", "share"]
    n = len(frame)
    if n == 0:
        return pd.DataFrame(columns=out_cols)
    cols = cols[:62]
    if not cols:
        return pd.DataFrame([{"missing_columns": "(none)", "n_missing_columns": 0, "rows": n, "share": 1.0}])
    codes = np.zeros(n, dtype=np.int64)
    for j, c in enumerate(cols):
        codes |= frame[c].isna().to_numpy(dtype=bool).astype(np.int64) << j
    if len(cols) <= 20:
        counts = np.bincount(codes, minlength=1)
        uniq = np.flatnonzero(counts)
        counts = counts[uniq]
    else:
        uniq, counts = np.unique(codes, return_counts=True)
    order = np.lexsort((uniq, -counts))[:top_n]
    rows = []
    for u, cnt in zip(uniq[order], counts[order], strict=True):
        names = [c for j, c in enumerate(cols) if (int(u) >> j) & 1]
        rows.append(
            {
                "missing_columns": ", ".join(names) if names else "(none)",
                "n_missing_columns": len(names),
                "rows": int(cnt),
                "share": int(cnt) / n,
            }
        )
    return pd.DataFrame(rows, columns=out_cols)


def profile_table(
    table: LoadedTable,
    *,
    params: ProfilingParams,
    allow_personal_data: bool = False,
    as_of: dt.date | str | pd.Timestamp | None = None,
    launch_date: dt.date | str | pd.Timestamp | None = None,
    data_end: dt.date | str | pd.Timestamp | None = None,
    random_state: int | None = None,
) -> TableProfile:
    """Profile one table: shape, per-column statistics, missingness, duplicates, correlations,
    date coverage and the single-table alerts.

    Parameters
    ----------
    table : LoadedTable
        A table after intake (its intake report feeds the ``unparseable`` and ``placeholder``
        alerts).
    params : ProfilingParams
        Thresholds (``analyses.data_profiling``).
    allow_personal_data : bool, default False
        Show personal data raw in top values and examples (``privacy.allow_personal_data``).
    as_of : date-like, optional
        Analysis date: rows after it are counted (``after_as_of``).
    launch_date : date-like, optional
        Dates before it are implausible (``prelaunch_dates``; birth dates excepted).
    data_end : date-like, optional
        Last plausible day; later dates are ``future_dates``. Default: today.
    random_state : int, optional
        Seed of the row sample used for correlations and charts.

    Returns
    -------
    TableProfile

    Notes
    -----
    Numeric statistics are over finite values; quantiles interpolate linearly (numpy default);
    outliers lie outside ``[p25 - k*IQR, p75 + k*IQR]`` with ``k = params.outlier_iqr_k``.
    Distinct and top values, missing patterns and duplicates use every row; Spearman
    correlations, Cramér's V (category and yes/no columns with 2 to
    ``high_cardinality_threshold`` levels, and fewer levels than half their values) and the
    nullity correlation use at most ``params.correlation_sample`` sampled rows.
    """
    frame = table.frame
    name = table.name
    spec = TABLES.get(name)
    n = len(frame)
    reports = {r.column: r for r in table.columns}
    pii = list(pii_columns(name, frame)) if spec is not None else []
    key = tuple(spec.key) if spec is not None else ()
    required = set(spec.required) if spec is not None else set()
    end = _default_data_end(data_end)
    as_of_end = _default_data_end(as_of) if as_of is not None else None
    launch = to_timestamp(launch_date)
    rng = np.random.default_rng(random_state)
    idx = _sample_index(n, params.correlation_sample, rng)
    sample = frame if idx is None else frame.iloc[idx]

    alerts: list[Alert] = []
    rows: list[dict[str, Any]] = []
    top_values: dict[str, pd.DataFrame] = {}
    daily_counts: dict[str, pd.Series] = {}
    windows: dict[str, tuple[pd.Timestamp, pd.Timestamp]] = {}
    spikes: dict[str, pd.DataFrame] = {}
    codes_for_cramers: dict[str, int] = {}
    key_dups = 0
    key_examples: list[Any] = []
    any_unique_complete = False

    for col in frame.columns:
        s = frame[col]
        logical = _logical_type(name, col, s, reports)
        kind = _stat_kind(logical, s)
        rep = reports.get(col)
        is_pii = col in pii
        where = f"{name}.{col}"
        if rep is not None and rep.source not in (col, "") and not rep.source.startswith("@"):
            where += f" (from {rep.source})"
        row: dict[str, Any] = {
            "column": col,
            "logical_type": logical,
            "kind": kind,
            "dtype": str(s.dtype),
            "pii": is_pii,
            "required": col in required,
            "source": rep.source if rep is not None else None,
            "n": n,
        }
        counts = None
        uniques = None
        if kind == "datetime":
            v = _date_values(s)
            valid = ~np.isnat(v)
            n_valid = int(valid.sum())
            iv = v.view("i8")[valid]
            n_distinct = int(pd.unique(iv).size) if n_valid else 0
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
        if n_distinct == n and n > 0:
            any_unique_complete = True
        if kind == "numeric" and rep is not None and rep.extra and 1 < n_distinct <= _LOW_CATEGORICAL:
            # ydata-profiling's low_categorical_threshold: a few numeric codes (0/1 flags,
            # 1-5 ratings) in an undeclared column are categories
            kind = row["kind"] = "categorical"

        # --- top values (categorical-like, bool, numeric) ---------------------------------
        if counts is not None and n_valid:
            top = _top_indices(counts, params.top_n)
            vals = pd.Series(np.asarray(uniques.take(top), dtype=object))
            if is_pii and not allow_personal_data:
                vals = mask_series(vals, pii_kind(col, s))
            tv = pd.DataFrame(
                {
                    "value": vals.map(_fmt_value).to_numpy(dtype=object),
                    "count": counts[top].astype("int64"),
                    "share": counts[top] / n_valid,
                }
            )
            top_values[col] = tv
            row.update(top=tv["value"].iloc[0], top_count=int(tv["count"].iloc[0]), top_share=float(tv["share"].iloc[0]))
            if kind in ("categorical", "bool", "text"):
                row["n_rare_levels"] = int((counts / n_valid < params.rare_level_share).sum())
            if kind in ("categorical", "bool"):
                row["imbalance"] = _imbalance(counts)
            if (
                kind in ("categorical", "bool")
                and 2 <= n_distinct <= params.high_cardinality_threshold
                and n_distinct <= 0.5 * n_valid  # mostly-distinct codes associate with anything
            ):
                codes_for_cramers[col] = n_distinct
            if len(key) == 1 and col == key[0]:
                key_dups = n_valid - n_distinct
                if key_dups:
                    dup_idx = _top_indices(np.where(counts > 1, counts, 0), 5)
                    dup_idx = dup_idx[counts[dup_idx] > 1]
                    key_examples = [_fmt_value(u) for u in np.asarray(uniques.take(dup_idx), dtype=object)]

        # --- numeric ---------------------------------------------------------------------
        if pd.api.types.is_numeric_dtype(s) and kind in ("numeric", "categorical") and not pd.api.types.is_bool_dtype(s):
            x = s.to_numpy(dtype="float64", na_value=np.nan)
            row.update(_numeric_stats(x, k=params.outlier_iqr_k))

        # --- datetime --------------------------------------------------------------------
        if kind == "datetime" and n_valid:
            days = iv // _DAY_NS
            dmin, dmax = int(days.min()), int(days.max())
            dc = np.bincount(days - dmin)
            daily = pd.Series(dc, index=pd.to_datetime(np.arange(dmin, dmax + 1), unit="D"), name=col)
            daily_counts[col] = daily
            # plausible window: first to last day with rows between launch date and today
            lo_b = launch.normalize() if launch is not None and col not in _NOT_ACTIVITY else daily.index[0]
            plausible = daily.loc[lo_b : end.normalize()]
            nz = np.flatnonzero(plausible.to_numpy())
            if nz.size:
                lo, hi = plausible.index[nz[0]], plausible.index[nz[-1]]
            else:
                lo, hi = daily.index[0], daily.index[-1]
            windows[col] = (lo, hi)
            inside = daily.loc[lo:hi]
            monthly = inside.groupby(inside.index.to_period("M")).sum()
            activity = col not in _NOT_ACTIVITY  # gaps and spikes of birth dates mean nothing
            sp = _day_spikes(inside, params.spike_z) if activity else _day_spikes(inside.iloc[:0], params.spike_z)
            spikes[col] = sp
            end64 = np.datetime64(end.to_datetime64(), "ns")
            n_future = int((v > end64).sum())
            n_pre = 0
            if launch is not None and col != "birth_date":
                n_pre = int((v < np.datetime64(launch.to_datetime64(), "ns")).sum())
            n_after = int((v > np.datetime64(as_of_end.to_datetime64(), "ns")).sum()) if as_of_end is not None else 0
            vmin = pd.Timestamp(iv.min())
            vmax = pd.Timestamp(iv.max())
            row.update(
                date_min=vmin,
                date_max=vmax,
                span_days=(vmax - vmin) / pd.Timedelta(days=1),
                n_gap_months=int((monthly == 0).sum()) if activity else 0,
                n_spike_days=len(sp),
                n_future=n_future,
                n_prelaunch=n_pre,
                n_after_as_of=n_after,
            )
            if n_future:
                ex = [_fmt_value(pd.Timestamp(t)) for t in np.sort(v[v > end64])[-3:]]
                alerts.append(Alert(name, col, "future_dates", "warning",
                                    f"{where}: {_rows(n_future, n)} are after today ({end.date()}), e.g. {', '.join(map(str, ex))}",
                                    n_future, n_future / n, tuple(ex)))  # fmt: skip
            if n_pre:
                lv = np.datetime64(launch.to_datetime64(), "ns")
                ex = [_fmt_value(pd.Timestamp(t)) for t in np.sort(v[v < lv])[:3]]
                alerts.append(Alert(name, col, "prelaunch_dates", "warning",
                                    f"{where}: {_rows(n_pre, n)} are before the launch date {launch.date()}, e.g. {', '.join(map(str, ex))}",
                                    n_pre, n_pre / n, tuple(ex)))  # fmt: skip
            if n_after and EVENT_TIME_COLUMNS.get(name) == col:
                alerts.append(Alert(name, col, "after_as_of", "info",
                                    f"{where}: {_rows(n_after, n)} are after as_of {as_of_end.date()}; they serve only as outcome windows (churn labels, holdouts)",
                                    n_after, n_after / n))  # fmt: skip
            n_gaps = int((monthly == 0).sum()) if activity else 0
            if n_gaps:
                gap_months = [str(p) for p in monthly.index[monthly.to_numpy() == 0][:5]]
                alerts.append(Alert(name, col, "date_gaps", "info",
                                    f"{where}: {n_gaps} of {len(monthly)} months between {lo.date()} and {hi.date()} have no rows, e.g. {', '.join(gap_months)}",
                                    n_gaps, None, tuple(gap_months)))  # fmt: skip
            if len(sp) and activity:
                top_day = sp.iloc[0]
                alerts.append(Alert(name, col, "spike_days", "info",
                                    f"{where}: {len(sp)} spike day(s) (robust z > {params.spike_z:g}); the strongest, "
                                    f"{top_day['day'].date()}, has {int(top_day['rows']):,} rows against {_fmt_num(top_day['baseline'])} "
                                    f"on a typical day around it",
                                    int(sp["rows"].sum()), int(sp["rows"].sum()) / n,
                                    tuple(str(d.date()) for d in sp["day"].head(5))))  # fmt: skip

        # --- intake report ---------------------------------------------------------------
        if rep is not None:
            n_ph = int(sum(rep.placeholders.values()))
            row.update(n_blank=rep.n_blank, n_unparseable=rep.n_unparseable, n_placeholders=n_ph)
            if rep.n_unparseable:
                ex = list(rep.examples)
                if is_pii and not allow_personal_data:
                    ex = mask_series(pd.Series(ex, dtype=object), pii_kind(col, s)).tolist()
                alerts.append(Alert(name, col, "unparseable", "warning",
                                    f"{where}: {_rows(rep.n_unparseable, n, 'values')} could not be read as {rep.type} "
                                    f"and are now missing" + (f", e.g. {', '.join(map(repr, ex[:5]))}" if ex else ""),
                                    rep.n_unparseable, rep.n_unparseable / n if n else None, tuple(ex[:5])))  # fmt: skip
            if n_ph:
                # blank-or-placeholder rows: the placeholder texts plus empty cells
                n_bl = max(int(rep.n_blank), n_ph)
                parts = sorted(rep.placeholders.items(), key=lambda kv: -kv[1])[:5]
                phs = ", ".join(f"{k!r}×{v:,}" for k, v in parts)
                if n_bl > n_ph:
                    phs += f", blank×{n_bl - n_ph:,}"
                alerts.append(Alert(name, col, "placeholder", "info",
                                    f"{where}: {_rows(n_bl, n)} were blank or a placeholder ({phs}), now missing",
                                    n_bl, n_bl / n if n else None, tuple(rep.placeholders)[:5]))  # fmt: skip

        alerts.extend(_column_alerts(name, col, where, row, kind, key, params, is_pii, allow_personal_data, top_values.get(col)))
        rows.append(row)

    stats = pd.DataFrame(rows).set_index("column")
    n_missing_cells = int(stats["n_missing"].sum()) if len(stats) else 0

    # --- duplicates --------------------------------------------------------------------------
    # exact duplicate rows first; key duplicates are counted among the remaining rows, so the
    # two counts add up and match what the cleaning step drops rule by rule
    if n == 0 or any_unique_complete:
        n_dup_rows = 0
        dup_rows = None
    else:
        dup_rows = frame.duplicated(keep="first").to_numpy()
        n_dup_rows = int(dup_rows.sum())
    if n_dup_rows:
        alerts.append(Alert(name, None, "duplicates", "warning",
                            f"{name}: {_rows(n_dup_rows, n)} are exact copies of an earlier row",
                            n_dup_rows, n_dup_rows / n))  # fmt: skip
    has_key = bool(key) and all(c in frame for c in key)
    if not has_key:
        key_dups = 0
    elif len(key) > 1 or (key_dups and n_dup_rows):
        keep = frame[list(key)].notna().all(axis=1).to_numpy()
        if dup_rows is not None:
            keep = keep & ~dup_rows
        keyed = frame.loc[keep, list(key)]
        dmask = keyed.duplicated(keep="first")
        key_dups = int(dmask.sum())
        dups = keyed[dmask].drop_duplicates().head(5)
        key_examples = (
            dups[key[0]].map(_fmt_value).tolist()
            if len(key) == 1
            else ["/".join(map(str, r)) for r in dups.itertuples(index=False)]
        )
    if key_dups:
        label = ", ".join(key)
        alerts.append(Alert(name, key[0] if len(key) == 1 else label, "duplicate_keys", "error",
                            f"{name}: {_rows(key_dups, n)} repeat the {label} of an earlier row, e.g. "
                            f"{', '.join(map(repr, key_examples[:5]))}",
                            key_dups, key_dups / n, tuple(key_examples[:5])))  # fmt: skip

    # --- missing patterns and nullity correlation --------------------------------------------
    miss_cols = stats.index[stats["n_missing"] > 0].tolist() if len(stats) else []
    miss_cols = sorted(miss_cols, key=lambda c: -int(stats.loc[c, "n_missing"]))
    patterns = _missing_patterns(frame, miss_cols, params.top_n)
    partial = [c for c in miss_cols if int(stats.loc[c, "n_missing"]) < n]
    if partial:
        ind = sample[partial].isna().astype("float64")
        ind = ind.loc[:, ind.std() > 0]
        nullity_corr = ind.corr() if ind.shape[1] >= 2 else pd.DataFrame()
        pos = np.unique(np.linspace(0, n - 1, min(n, _NULLITY_ROWS)).astype(int))
        nullity_sample = frame.iloc[pos][miss_cols].isna()
    else:
        nullity_corr = pd.DataFrame()
        nullity_sample = pd.DataFrame()

    # --- correlations ------------------------------------------------------------------------
    num_cols = [c for c in stats.index if stats.loc[c, "kind"] == "numeric" and stats.loc[c, "n_distinct"] > 1]
    spearman = pd.DataFrame()
    if len(num_cols) >= 2:
        spearman = sample[num_cols].astype("float64").corr(method="spearman", min_periods=10)
        for i, a in enumerate(num_cols):
            for b in num_cols[i + 1 :]:
                r = spearman.loc[a, b]
                if pd.notna(r) and abs(r) > params.high_correlation_threshold:
                    alerts.append(Alert(name, a, "high_correlation", "info",
                                        f"{name}.{a} and {name}.{b} are highly correlated (Spearman rho = {r:.2f})",
                                        0, None, (b,)))  # fmt: skip
    cat_cols = list(codes_for_cramers)
    cramers = pd.DataFrame()
    if len(cat_cols) >= 2:
        codes = {c: pd.factorize(sample[c], use_na_sentinel=True)[0] for c in cat_cols}
        mat = np.eye(len(cat_cols))
        for i, a in enumerate(cat_cols):
            for j in range(i + 1, len(cat_cols)):
                b = cat_cols[j]
                v = cramers_v(codes[a], codes[b])
                mat[i, j] = mat[j, i] = v
                if pd.notna(v) and v > params.high_correlation_threshold:
                    alerts.append(Alert(name, a, "high_correlation", "info",
                                        f"{name}.{a} and {name}.{b} are highly associated (Cramér's V = {v:.2f})",
                                        0, None, (b,)))  # fmt: skip
        cramers = pd.DataFrame(mat, index=cat_cols, columns=cat_cols)

    # --- single-table CRM checks -------------------------------------------------------------
    if name == "orders" and n:
        alerts.extend(_order_alerts(frame))

    # --- samples for charts ------------------------------------------------------------------
    chart_cols = [c for c in stats.index if stats.loc[c, "kind"] == "numeric"]
    ns = sample[chart_cols]
    if len(ns) > _NUMERIC_SAMPLE_ROWS:
        ns = ns.iloc[np.sort(rng.choice(len(ns), _NUMERIC_SAMPLE_ROWS, replace=False))]
    numeric_sample = ns.astype("float64").reset_index(drop=True)

    memory = int(frame.memory_usage(deep=True, index=False).sum())
    return TableProfile(
        name=name,
        n_rows=n,
        n_columns=int(frame.shape[1]),
        memory_bytes=memory,
        source=dict(table.source),
        stats=stats,
        top_values=top_values,
        missing_patterns=patterns,
        nullity_corr=nullity_corr,
        spearman=spearman,
        cramers=cramers,
        daily_counts=daily_counts,
        date_windows=windows,
        spikes=spikes,
        numeric_sample=numeric_sample,
        nullity_sample=nullity_sample.reset_index(drop=True),
        n_duplicate_rows=n_dup_rows,
        n_duplicate_keys=key_dups,
        key=key,
        alerts=tuple(alerts),
        pii=tuple(pii),
        sample_rows=len(sample),
        random_state=random_state,
        n_missing_cells=n_missing_cells,
    )


def _column_alerts(
    table: str,
    col: str,
    where: str,
    row: Mapping[str, Any],
    kind: str,
    key: tuple[str, ...],
    params: ProfilingParams,
    is_pii: bool,
    allow_personal_data: bool,
    top: pd.DataFrame | None,
) -> list[Alert]:
    """The ydata-style alerts of one column (see the module docstring for definitions)."""
    out: list[Alert] = []
    n, n_valid, n_missing = row["n"], row["n_valid"], row["n_missing"]
    n_distinct = row["n_distinct"]
    if is_pii:
        how = "shown raw (privacy.allow_personal_data is true)" if allow_personal_data else "masked in this report"
        out.append(Alert(table, col, "personal_data", "info",
                         f"{where} holds personal data ({pii_kind(col)}); values are {how}", n_valid,
                         n_valid / n if n else None))  # fmt: skip
    if n == 0:
        return out
    if n_valid == 0:
        out.append(Alert(table, col, "empty", "warning", f"{where}: every value is missing ({n:,} rows)", n, 1.0))
        return out
    if row["p_missing"] > params.missing_threshold:
        sev: Severity = "error" if row.get("required") else "warning"
        req = " (a required column)" if row.get("required") else ""
        out.append(Alert(table, col, "missing", sev, f"{where}{req}: {_rows(n_missing, n)} are missing",
                         n_missing, n_missing / n))  # fmt: skip
    examples = tuple(top["value"].head(3)) if top is not None else ()
    if n_distinct == 1 and not str(row.get("source") or "").startswith("@const"):
        value = examples[0] if examples else row.get("date_min")
        out.append(Alert(table, col, "constant", "warning",
                         f"{where} has one value ({value!r}) in all {n_valid:,} non-missing rows; it carries no information",
                         n_valid, n_valid / n, examples[:1]))  # fmt: skip
    is_key = col in key
    unique_kind = kind in _TEXT_KINDS or (kind == "numeric" and row.get("integer_valued", False))
    if n_distinct == n and n > 1 and not is_key and unique_kind:
        out.append(Alert(table, col, "unique", "info",
                         f"{where} has a different value in each of the {n:,} rows (an identifier or free text?)",
                         n, 1.0, examples))  # fmt: skip
    if kind == "categorical" and n_distinct > params.high_cardinality_threshold:
        out.append(Alert(table, col, "high_cardinality", "info",
                         f"{where} has {n_distinct:,} distinct values (more than {params.high_cardinality_threshold}); "
                         f"group the rare ones before charts or models",
                         n_distinct, None, examples))  # fmt: skip
    imb = row.get("imbalance")
    if kind in ("categorical", "bool") and imb is not None and imb > params.imbalance_threshold and n_distinct > 1:
        out.append(Alert(table, col, "imbalance", "info",
                         f"{where} is imbalanced (score {imb:.2f} > {params.imbalance_threshold:g}): "
                         f"{row['top']!r} holds {_rows(row['top_count'], n_valid, 'non-missing rows')}",
                         int(row["top_count"]), row["top_count"] / n, examples[:1]))  # fmt: skip
    if kind == "numeric":
        skew = row.get("skewness")
        if skew is not None and pd.notna(skew) and abs(skew) > params.skewness_threshold:
            out.append(Alert(table, col, "skewed", "info",
                             f"{where} is highly skewed (skewness {skew:.1f}, threshold {params.skewness_threshold:g}): "
                             f"median {_fmt_num(row.get('median'))}, p99 {_fmt_num(row.get('p99'))}, max {_fmt_num(row.get('max'))}",
                             n_valid, None))  # fmt: skip
        pz = row.get("p_zeros")
        if pz is not None and pz > params.zeros_threshold:
            out.append(Alert(table, col, "zeros", "info",
                             f"{where}: {_rows(int(row['n_zeros']), n_valid, 'non-missing values')} are zero",
                             int(row["n_zeros"]), row["n_zeros"] / n))  # fmt: skip
        if row.get("n_infinite"):
            out.append(Alert(table, col, "infinite", "warning",
                             f"{where}: {_rows(int(row['n_infinite']), n)} are infinite",
                             int(row["n_infinite"]), row["n_infinite"] / n))  # fmt: skip
    return out


def _order_alerts(orders: pd.DataFrame) -> list[Alert]:
    """Refund lines and negative amounts not marked as refunds."""
    out: list[Alert] = []
    n = len(orders)
    ref = refund_mask(orders).to_numpy()
    k = int(ref.sum())
    if k:
        total = ""
        if "amount" in orders:
            total = f", amount total {_fmt_num(float(np.nansum(orders['amount'].to_numpy(dtype='float64', na_value=np.nan)[ref])))}"
        out.append(Alert("orders", "is_refund" if "is_refund" in orders else "status", "refunds", "info",
                         f"orders: {_rows(k, n)} are refund lines (is_refund or a refund status){total}",
                         k, k / n))  # fmt: skip
    neg = negative_amount_mask(orders).to_numpy()
    k = int(neg.sum())
    if k:
        ex = orders.loc[neg, "amount"].head(5).tolist()
        out.append(Alert("orders", "amount", "negative_amounts", "warning",
                         f"orders.amount: {_rows(k, n)} are negative but not marked as refunds, e.g. "
                         f"{', '.join(_fmt_num(v) for v in ex)}; see cleaning.negative_amounts",
                         k, k / n, tuple(ex)))  # fmt: skip
    return out


# --------------------------------------------------------------------------------------------
# Data profile (all tables)
# --------------------------------------------------------------------------------------------


def _plot_missing_bar(tp: TableProfile, ax: Any = None) -> Any:
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(2.5, 0.3 * tp.n_columns + 1)))
    share = tp.stats["p_missing"].astype(float)
    df = pd.DataFrame({"column": share.index.astype(str), "missing": share.to_numpy() * 100})
    sns.barplot(data=df, x="missing", y="column", ax=ax, color=sns.color_palette()[0])
    ax.set_xlabel("missing (%)")
    ax.set_ylabel("")
    ax.set_xlim(0, 100)
    ax.set_title(f"{tp.name}: missing values per column")
    for i, v in enumerate(df["missing"]):
        if v > 0:
            ax.text(min(v + 1, 92), i, f"{v:.1f}%", va="center", fontsize=8)
    return ax


@dataclass(frozen=True)
class DataProfile:
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
    top_spenders : pandas.DataFrame
        The 20 customers with the highest robust z of log spend, extreme or not (to judge the
        threshold ``cleaning.extreme_spender_mad_z``).
    as_of, launch_date, data_end : pandas.Timestamp or None
    params : ProfilingParams
    random_state : int or None
    """

    profiles: dict[str, TableProfile]
    cross_alerts: tuple[Alert, ...]
    references: pd.DataFrame
    extreme: pd.DataFrame
    as_of: pd.Timestamp | None
    launch_date: pd.Timestamp | None
    data_end: pd.Timestamp
    params: ProfilingParams
    random_state: int | None = None
    extreme_z: float = 8.0
    crm: dict[str, int] = field(default_factory=dict)
    top_spenders: pd.DataFrame = field(default_factory=pd.DataFrame)

    # -- access ---------------------------------------------------------------------------
    def _table(self, table: str) -> TableProfile:
        if table not in self.profiles:
            raise KeyError(f"no profile for table {table!r}; profiled tables: {', '.join(self.profiles)}")
        return self.profiles[table]

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
            Index ``table``; columns ``rows``, ``columns``, ``memory_mb``, ``missing_cells_pct``,
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
                    "missing_cells_pct": round(100 * tp.n_missing_cells / cells, 2) if cells else 0.0,
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
        """Most frequent values of a column (``value``, ``count``, ``share``; PII masked)."""
        tp = self._table(table)
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
        df = _alerts_frame(self.all_alerts, list(self.profiles))
        if severity is not None:
            df = df[df["severity"].isin([severity] if isinstance(severity, str) else list(severity))]
        if kind is not None:
            df = df[df["kind"].isin([kind] if isinstance(kind, str) else list(kind))]
        if table is not None:
            df = df[df["table"] == table]
        return df.reset_index(drop=True)

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
        rows = []
        for label, mat in (("spearman", tp.spearman), ("cramers_v", tp.cramers)):
            cols = list(mat.columns)
            for i, a in enumerate(cols):
                for b in cols[i + 1 :]:
                    rows.append({"column_a": a, "column_b": b, "method": label, "value": mat.loc[a, b]})
        df = pd.DataFrame(rows, columns=["column_a", "column_b", "method", "value"])
        if df.empty:
            return df
        df["_abs"] = df["value"].abs()
        return df.sort_values("_abs", ascending=False).drop(columns="_abs").reset_index(drop=True)

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
        tp = self._table(table)
        if column not in tp.daily_counts:
            raise KeyError(f"{table}.{column} is not a datetime column with values")
        daily = tp.daily_counts[column]
        if not full:
            lo, hi = tp.date_windows[column]
            daily = daily.loc[lo:hi]
        monthly = daily.groupby(daily.index.to_period("M")).sum()
        sp = tp.spikes.get(column)
        sp_month = (
            pd.Series(1, index=pd.DatetimeIndex(sp["day"]).to_period("M")).groupby(level=0).sum()
            if sp is not None and len(sp)
            else pd.Series(dtype="int64")
        )
        total = int(monthly.sum())
        return pd.DataFrame(
            {
                "month": monthly.index.to_timestamp(),
                "rows": monthly.to_numpy(dtype="int64"),
                "share": monthly.to_numpy() / total if total else 0.0,
                "gap": monthly.to_numpy() == 0,
                "spike_days": sp_month.reindex(monthly.index, fill_value=0).to_numpy(dtype="int64"),
            }
        )

    def spike_days(self, table: str, column: str) -> pd.DataFrame:
        """Spike days of a datetime column: ``day``, ``rows``, ``baseline`` (rolling median of the
        surrounding 29 days), ``robust_z``, ``times_baseline``; strongest first."""
        tp = self._table(table)
        if column not in tp.spikes:
            raise KeyError(f"{table}.{column} is not a datetime column with values")
        return tp.spikes[column].copy()

    def to_frame(self) -> pd.DataFrame:
        """Per-column statistics of every table, stacked (columns ``table``, ``column``, ...)."""
        frames = [tp.stats.reset_index().assign(table=name) for name, tp in self.profiles.items()]
        if not frames:
            return pd.DataFrame()
        df = pd.concat(frames, ignore_index=True)
        return df[["table"] + [c for c in df.columns if c != "table"]]

    def summary(self) -> pd.DataFrame:
        """Headline per table: rows, columns, missing cells, duplicates and alerts by severity."""
        ov = self.overview()[["rows", "columns", "missing_cells_pct", "duplicate_rows", "duplicate_keys"]]
        al = self.alerts()
        for sev in SEVERITIES:
            counts = al[al["severity"] == sev].groupby("table").size()
            ov[f"{sev}s"] = counts.reindex(ov.index, fill_value=0).astype("int64")
        return ov

    # -- findings and metrics -------------------------------------------------------------
    def findings(self) -> list[str]:
        """One plain-language finding per section, computed from the numbers: overview,
        missing values, duplicates, distributions, dates and CRM issues."""
        return [
            self._finding_overview(),
            self._finding_missing(),
            self._finding_duplicates(),
            self._finding_distributions(),
            self._finding_dates(),
            self._finding_crm(),
        ]

    def finding(
        self,
        section: Literal["overview", "missing", "duplicates", "distributions", "dates", "crm", "alerts", "correlations"],
    ) -> str:
        """The plain-language finding of one section (see :meth:`findings`)."""
        if section == "alerts":
            al = self.alerts()
            if al.empty:
                return "No alerts: nothing in the data needs a look before analysis."
            sev = al["severity"].value_counts()
            top = al[al["severity"] == al["severity"].iloc[0]].head(3)
            worst = "; ".join(f"{r.table}.{r.column or '*'}: {r.kind}" for r in top.itertuples())
            counts = ", ".join(f"{int(sev.get(s, 0))} {s}" for s in SEVERITIES if sev.get(s, 0))
            return f"{len(al)} alerts ({counts}); the most serious: {worst}."
        if section == "correlations":
            parts = []
            for name in self.profiles:
                pairs = self.correlations(name)
                if len(pairs):
                    top = pairs.iloc[0]
                    parts.append(f"{name}: {top.column_a} ~ {top.column_b} "
                                 f"({'Spearman rho' if top.method == 'spearman' else 'Cramér V'} {top.value:.2f})")
            if not parts:
                return "Correlations: no column pairs to compare."
            thr = self.params.high_correlation_threshold
            high = self.alerts(kind="high_correlation")
            head = (f"{len(high)} column(s) correlate above {thr:g} with another: check for duplicated "
                    "information or leakage before modelling. " if len(high) else
                    f"No pair correlates above {thr:g}. ")
            return head + "Strongest pair per table - " + "; ".join(parts) + "."
        fn = {
            "overview": self._finding_overview,
            "missing": self._finding_missing,
            "duplicates": self._finding_duplicates,
            "distributions": self._finding_distributions,
            "dates": self._finding_dates,
            "crm": self._finding_crm,
        }.get(section)
        if fn is None:
            raise KeyError(f"unknown section {section!r}")
        return fn()

    def date_columns(self) -> list[tuple[str, str]]:
        """(table, column) of every datetime column with values, in table order."""
        return [(name, col) for name, tp in self.profiles.items() for col in tp.spikes]

    def crm_checks(self) -> pd.DataFrame:
        """The CRM alerts (refunds, negative amounts, dates, orphans, customers without orders,
        extreme spenders, placeholders, personal data) as a table."""
        return self.alerts(kind=list(CRM_KINDS))

    def _finding_overview(self) -> str:
        if not self.profiles:
            return "No tables were profiled."
        parts = [
            f"{n} {tp.n_rows:,} rows × {tp.n_columns} columns ({tp.memory_bytes / 2**20:,.1f} MB)"
            for n, tp in self.profiles.items()
        ]
        al = self.alerts()
        counts = al["severity"].value_counts()
        sev = ", ".join(f"{int(counts.get(s, 0))} {s}{'s' if counts.get(s, 0) != 1 else ''}" for s in SEVERITIES)
        total = sum(tp.n_rows for tp in self.profiles.values())
        return f"{len(self.profiles)} table(s), {total:,} rows in all: {'; '.join(parts)}. Alerts: {sev}."

    def _finding_missing(self) -> str:
        cells = sum(tp.n_rows * tp.n_columns for tp in self.profiles.values())
        missing = sum(tp.n_missing_cells for tp in self.profiles.values())
        if missing == 0:
            return "Missing values: none - every cell of every table has a value."
        worst = []
        for name, tp in self.profiles.items():
            st = tp.stats[tp.stats["n_missing"] > 0]
            worst.extend((float(r.p_missing), f"{name}.{c}", int(r.n_missing)) for c, r in st.iterrows())
        worst.sort(reverse=True)
        top = ", ".join(f"{c} {p:.1%} ({m:,} row{'s' if m != 1 else ''})" for p, c, m in worst[:3])
        req = self.alerts(kind="missing", severity="error")
        extra = f" Required columns with gaps: {', '.join(req['table'] + '.' + req['column'])}." if len(req) else ""
        return f"Missing values: {missing:,} of {cells:,} cells ({missing / cells:.1%}); most in {top}.{extra}"

    def _finding_duplicates(self) -> str:
        parts = []
        for name, tp in self.profiles.items():
            bits = []
            if tp.n_duplicate_rows:
                bits.append(f"{tp.n_duplicate_rows:,} exact duplicate row{'s' if tp.n_duplicate_rows != 1 else ''}")
            if tp.n_duplicate_keys:
                k = tp.n_duplicate_keys
                bits.append(f"{k:,} {'row' if k == 1 else 'rows'} repeating the {', '.join(tp.key)} of an earlier row")
            if bits:
                parts.append(f"{name} has {' and '.join(bits)} ({(tp.n_duplicate_rows + tp.n_duplicate_keys) / tp.n_rows:.2%} of rows)")
        if not parts:
            return "Duplicates: none - no exact duplicate rows and every key is unique."
        return "Duplicates: " + "; ".join(parts) + ". The cleaning step resolves them (cleaning.drop_exact_duplicates, cleaning.duplicate_keys)."

    def _finding_distributions(self) -> str:
        al = self.alerts(kind=["skewed", "constant", "imbalance", "zeros", "high_cardinality", "high_correlation"])
        if al.empty:
            return "Distributions: no constant, skewed, zero-heavy, imbalanced or highly correlated columns."
        parts = []
        for k, label in (("constant", "constant"), ("skewed", "highly skewed"), ("zeros", "many zeros"),
                         ("imbalance", "imbalanced"), ("high_cardinality", "high-cardinality"),
                         ("high_correlation", "highly correlated with another column")):  # fmt: skip
            sub = al[al["kind"] == k]
            if len(sub):
                cols = ", ".join((sub["table"] + "." + sub["column"].astype(str)).head(4))
                more = f" and {len(sub) - 4} more" if len(sub) > 4 else ""
                parts.append(f"{label}: {cols}{more}")
        skewed = self.alerts(kind="skewed")
        tail = ""
        if len(skewed):
            t, c = skewed.iloc[0]["table"], skewed.iloc[0]["column"]
            st = self.profiles[t].stats.loc[c]
            tail = (f" {t}.{c} has median {_fmt_num(st['median'])} but p99 {_fmt_num(st['p99'])} and max "
                    f"{_fmt_num(st['max'])}: use medians and log scales for it.")  # fmt: skip
        return "Distributions - " + "; ".join(parts) + "." + tail

    def _finding_dates(self) -> str:
        parts = []
        for name, tp in self.profiles.items():
            for col in tp.daily_counts:
                st = tp.stats.loc[col]
                lo, hi = tp.date_windows[col]
                bits = [f"{name}.{col} runs {st['date_min'].date()} to {st['date_max'].date()}"]
                if st.get("n_gap_months"):
                    bits.append(f"{int(st['n_gap_months'])} empty month(s) between {lo.date()} and {hi.date()}")
                sp = tp.spikes.get(col)
                if sp is not None and len(sp):
                    bits.append(f"{len(sp)} spike day(s), strongest {sp.iloc[0]['day'].date()} with {int(sp.iloc[0]['rows']):,} rows "
                                f"(typical {_fmt_num(sp.iloc[0]['baseline'])})")
                if st.get("n_future"):
                    bits.append(f"{int(st['n_future']):,} after today")
                if st.get("n_prelaunch"):
                    bits.append(f"{int(st['n_prelaunch']):,} before launch")
                parts.append(", ".join(bits))
        if not parts:
            return "Dates: no datetime columns."
        return "Dates: " + "; ".join(parts) + "."

    def _finding_crm(self) -> str:
        c = self.crm
        bits = []
        labels = (
            ("refunds", "refund lines"),
            ("negative_amounts", "negative amounts not marked as refunds"),
            ("orphan_orders", "orders of unknown customers"),
            ("orphan_rows", "other rows of unknown customers"),
            ("customers_without_orders", "customers without orders"),
            ("extreme_spenders", f"extreme spenders (robust z > {self.extreme_z:g})"),
            ("future_dates", "future dates"),
            ("prelaunch_dates", "pre-launch dates"),
        )
        for k, label in labels:
            if c.get(k):
                bits.append(f"{c[k]:,} {label}")
        tail = ""
        if not c.get("extreme_spenders") and len(self.top_spenders) and pd.notna(self.top_spenders["robust_z"].iloc[0]):
            top = self.top_spenders.iloc[0]
            tail = (f" No extreme spender: the highest robust z of log spend is {top['robust_z']:.1f} "
                    f"({top['customer_id']}, spend {_fmt_num(top['spend'])}), below {self.extreme_z:g}.")  # fmt: skip
        if not bits:
            return "CRM checks: no refunds, negative amounts, orphan rows, extreme spenders or implausible dates." + tail
        return "CRM checks: " + "; ".join(bits) + "." + tail

    def spenders(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` customers with the highest robust z of log total spend (``customer_id``,
        ``spend``, ``orders``, ``log_spend``, ``robust_z``), extreme or not."""
        return self.top_spenders.head(n).copy()

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
            "correlation_sample": self.params.correlation_sample,
        }

    # -- plots ----------------------------------------------------------------------------
    def plot(self, ax: Any = None) -> Any:
        """Alerts per table by severity (stacked bars).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 3.5))
        s = self.summary()[[f"{x}s" for x in SEVERITIES]]
        s.columns = list(SEVERITIES)
        s.plot.barh(stacked=True, ax=ax, color=["#c0392b", "#e67e22", "#7f8c8d"])
        ax.invert_yaxis()
        ax.set_xlabel("alerts")
        ax.set_ylabel("")
        ax.set_title("Data-quality alerts")
        return ax

    def plot_missing(self, table: str, ax: Any = None, *, kind: Literal["bar", "matrix", "heatmap"] = "bar") -> Any:
        """Missing values of a table.

        Parameters
        ----------
        table : str
        ax : matplotlib.axes.Axes, optional
        kind : {'bar', 'matrix', 'heatmap'}, default 'bar'
            ``bar``: missing share per column; ``matrix``: missingness of up to 1,000 evenly
            spaced rows (dark = missing); ``heatmap``: nullity correlation.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        tp = self._table(table)
        if kind == "bar":
            return _plot_missing_bar(tp, ax)
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
        data = tp.nullity_sample if kind == "matrix" else tp.nullity_corr
        if data.empty:
            ax.text(0.5, 0.5, "no missing values" if kind == "matrix" else "fewer than 2 columns with gaps",
                    ha="center", va="center", transform=ax.transAxes)  # fmt: skip
            ax.set_axis_off()
            return ax
        if kind == "matrix":
            sns.heatmap(data.astype(int), cbar=False, cmap="Greys", vmin=0, vmax=1, ax=ax, yticklabels=False)
            ax.set_ylabel("rows (evenly spaced)")
            ax.set_title(f"{table}: where values are missing (dark = missing)")
        else:
            sns.heatmap(data, vmin=-1, vmax=1, cmap="RdBu_r", annot=len(data) <= 12, fmt=".2f", ax=ax, square=True)
            ax.set_title(f"{table}: nullity correlation")
        return ax

    def plot_numeric(self, table: str, columns: Sequence[str] | None = None, *, bins: int = 40) -> Any:
        """Histograms of numeric columns (sampled rows); log-scaled x axis when a column is
        skewed (|skewness| > 2) and positive, symmetric log when it also has zeros or negatives.

        Parameters
        ----------
        table : str
        columns : sequence of str, optional
            Default: every numeric column.
        bins : int, default 40

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        tp = self._table(table)
        cols = list(columns) if columns is not None else list(tp.numeric_sample.columns)
        unknown = [c for c in cols if c not in tp.numeric_sample.columns]
        if unknown:
            raise KeyError(f"not numeric columns of {table}: {', '.join(unknown)}")
        ncol = min(3, max(1, len(cols)))
        nrow = max(1, math.ceil(len(cols) / ncol))
        fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False)
        for ax, col in zip(axes.ravel(), cols, strict=False):
            x = tp.numeric_sample[col].to_numpy()
            x = x[np.isfinite(x)]
            st = tp.stats.loc[col]
            skew = st.get("skewness", np.nan)
            if x.size == 0:
                ax.set_title(f"{col} (no values)")
                continue
            skewed = pd.notna(skew) and abs(skew) > 2 and x.size > 1
            if skewed and x.min() > 0:
                edges = np.logspace(np.log10(x.min()), np.log10(x.max()), bins + 1) if x.max() > x.min() else bins
                sns.histplot(x, bins=edges, ax=ax)
                ax.set_xscale("log")
                ax.set_title(f"{col} (log scale)")
            elif skewed:
                sns.histplot(np.sign(x) * np.log1p(np.abs(x)), bins=bins, ax=ax)
                ax.set_title(f"{col} (sign·log(1+|x|))")
            else:
                sns.histplot(x, bins=bins, ax=ax)
                ax.set_title(col)
            ax.set_xlabel("")
            if pd.notna(st.get("median")):
                med = st["median"]
                if not skewed or x.min() > 0:
                    ax.axvline(med, color="black", ls="--", lw=1)
        for ax in axes.ravel()[len(cols):]:
            ax.set_axis_off()
        fig.suptitle(f"{table}: numeric columns (sample of {len(tp.numeric_sample):,} rows)")
        fig.tight_layout()
        return fig

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
        import matplotlib.dates as mdates
        import matplotlib.pyplot as plt

        tp = self._table(table)
        if column not in tp.daily_counts:
            raise KeyError(f"{table}.{column} is not a datetime column with values")
        if freq not in ("D", "M"):
            raise ValueError(f"freq must be 'D' or 'M'; got {freq!r}")
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 3.5))
        if freq == "M":
            cov = self.date_coverage(table, column)
            width = cov["month"].dt.days_in_month.to_numpy() * 0.85
            ax.bar(cov["month"], cov["rows"], width=width, align="edge")
            for m in cov.loc[cov["gap"], "month"]:
                ax.axvspan(m, m + pd.offsets.MonthBegin(1), color="#c0392b", alpha=0.2, lw=0)
            if cov["gap"].any():
                ax.text(0.01, 0.97, "shaded: months without rows", transform=ax.transAxes, va="top", fontsize=8)
            ax.set_ylabel("rows per month")
        else:
            lo, hi = tp.date_windows[column]
            daily = tp.daily_counts[column].loc[lo:hi]
            ax.plot(daily.index, daily.to_numpy(), lw=0.8)
            sp = tp.spikes.get(column)
            if sp is not None and len(sp):
                ax.scatter(sp["day"], sp["rows"], color="#c0392b", zorder=3, s=18, label="spike day")
                ax.legend(loc="upper left")
            ax.set_ylabel("rows per day")
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_title(f"{table}.{column}")
        return ax

    def plot_correlations(self, table: str, ax: Any = None, *, method: Literal["spearman", "cramers_v"] = "spearman") -> Any:
        """Heatmap of the Spearman (numeric) or Cramér's V (categorical) matrix.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        mat = self.correlations(table, method=method)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 5))
        if mat.empty:
            ax.text(0.5, 0.5, "fewer than 2 columns to correlate", ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        vmin = -1 if method == "spearman" else 0
        sns.heatmap(mat, vmin=vmin, vmax=1, cmap="RdBu_r" if method == "spearman" else "Blues",
                    annot=len(mat) <= 12, fmt=".2f", square=True, ax=ax)  # fmt: skip
        label = "Spearman rho" if method == "spearman" else "Cramér's V"
        ax.set_title(f"{table}: {label}")
        return ax

    # -- display --------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        al = self.alerts()
        head = f"<p><b>{html.escape(repr(self))}</b></p>"
        body = self.overview().to_html()
        if len(al):
            body += "<p>Alerts (first 20):</p>" + al[["severity", "table", "column", "kind", "message"]].head(20).to_html(index=False)
        return head + body

    def __repr__(self) -> str:
        al = self.all_alerts
        counts = {s: sum(a.severity == s for a in al) for s in SEVERITIES}
        rows = sum(tp.n_rows for tp in self.profiles.values())
        return (
            f"DataProfile(tables={len(self.profiles)}, rows={rows:,}, alerts={len(al)}: "
            f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info)"
        )


def profile_tables(
    tables: Mapping[str, LoadedTable],
    *,
    params: ProfilingParams,
    as_of: dt.date | str | pd.Timestamp | None,
    launch_date: dt.date | str | pd.Timestamp | None = None,
    allow_personal_data: bool = False,
    extreme_z: float = 8.0,
    random_state: int | None = None,
    data_end: dt.date | str | pd.Timestamp | None = None,
) -> DataProfile:
    """Profile every table and run the cross-table CRM checks.

    Parameters
    ----------
    tables : mapping of str to LoadedTable
        From :func:`workbench.core.io.load_tables` (any subset of the contract tables).
    params : ProfilingParams
        ``analyses.data_profiling``.
    as_of : date-like or None
        Analysis date (rows after it are reported, not flagged as errors).
    launch_date : date-like, optional
        Earlier dates are reported as ``prelaunch_dates``.
    allow_personal_data : bool, default False
        ``privacy.allow_personal_data``.
    extreme_z : float, default 8.0
        Robust z of log total spend above which a customer is an extreme spender
        (use ``cleaning.extreme_spender_mad_z``).
    random_state : int, optional
        Seed of the row samples (``params.seed``).
    data_end : date-like, optional
        Last plausible day; default today.

    Returns
    -------
    DataProfile

    Notes
    -----
    Cross-table checks: ``orphan_orders`` / ``orphan_rows`` (:func:`check_references`),
    ``customers_without_orders``, ``extreme_spenders`` (:func:`workbench.data.cleaning.extreme_spenders`:
    total positive non-refund spend per customer, robust z of its log).

    Examples
    --------
    >>> prof = profile_tables(tables, params=params.analyses.data_profiling, as_of=params.as_of,
    ...                       launch_date=params.launch_date, random_state=params.seed)  # doctest: +SKIP
    >>> prof.alerts()  # doctest: +SKIP
    """
    end = _default_data_end(data_end)
    profiles = {
        name: profile_table(
            t, params=params, allow_personal_data=allow_personal_data, as_of=as_of,
            launch_date=launch_date, data_end=end, random_state=random_state,
        )  # fmt: skip
        for name, t in tables.items()
    }
    frames = {name: t.frame for name, t in tables.items()}
    cross: list[Alert] = []
    crm: dict[str, int] = {}

    refs = check_references(frames)
    for r in refs.itertuples():
        if r.n_unmatched:
            kind = "orphan_orders" if r.table == "orders" else "orphan_rows"
            cross.append(Alert(r.table, r.column, kind, "warning",
                               f"{r.table}: {_rows(int(r.n_unmatched), int(r.n_rows))} have a {r.column} not in "
                               f"{r.references.split('.')[0]}, e.g. {r.examples}",
                               int(r.n_unmatched), r.n_unmatched / r.n_rows if r.n_rows else None,
                               tuple(x.strip().strip("'") for x in str(r.examples).split(",") if x.strip())))  # fmt: skip
            crm[kind] = crm.get(kind, 0) + int(r.n_unmatched)

    extreme = pd.DataFrame(columns=["customer_id", "spend", "orders", "log_spend", "robust_z"])
    top_spenders = extreme.copy()
    orders = frames.get("orders")
    if orders is not None and {"customer_id", "amount"} <= set(orders.columns):
        if "customers" in frames and "customer_id" in frames["customers"]:
            cust = frames["customers"]["customer_id"]
            no_orders = cust.notna().to_numpy() & ~fast_isin(cust, orders["customer_id"].unique())
            k = int(no_orders.sum())
            if k:
                cross.append(Alert("customers", "customer_id", "customers_without_orders", "info",
                                   f"customers: {_rows(k, len(cust), 'customers')} have no orders",
                                   k, k / len(cust), tuple(cust[no_orders].head(5).tolist())))  # fmt: skip
                crm["customers_without_orders"] = k
        scores = spender_scores(orders).sort_values("robust_z", ascending=False, na_position="last")
        top_spenders = scores.head(20).reset_index(drop=True)
        extreme = scores[scores["robust_z"] > extreme_z].reset_index(drop=True)
        if len(extreme):
            ids = extreme["customer_id"]
            rows_ext = int(fast_isin(orders["customer_id"], ids).sum())
            ex = [f"{c} ({_fmt_num(s)})" for c, s in zip(ids.head(3), extreme["spend"].head(3), strict=True)]
            cross.append(Alert("orders", "customer_id", "extreme_spenders", "warning",
                               f"orders: {len(extreme):,} customer(s) have an extreme total spend (robust z of log spend "
                               f"> {extreme_z:g}; {rows_ext:,} order rows), e.g. {', '.join(ex)}; see cleaning.extreme_spenders",
                               len(extreme), rows_ext / len(orders), tuple(ids.head(5).tolist())))  # fmt: skip
            crm["extreme_spenders"] = len(extreme)

    for tp in profiles.values():
        for a in tp.alerts:
            if a.kind in ("refunds", "negative_amounts", "future_dates", "prelaunch_dates"):
                crm[a.kind] = crm.get(a.kind, 0) + a.n_rows
    return DataProfile(
        profiles=profiles,
        cross_alerts=tuple(cross),
        references=refs,
        extreme=extreme,
        as_of=to_timestamp(as_of),
        launch_date=to_timestamp(launch_date),
        data_end=end,
        params=params,
        random_state=random_state,
        extreme_z=extreme_z,
        crm=crm,
        top_spenders=top_spenders,
    )


# --------------------------------------------------------------------------------------------
# Customer-service KPIs
# --------------------------------------------------------------------------------------------


def intake_report(tables: Mapping[str, LoadedTable]) -> pd.DataFrame:
    """How every column of every table was read: source header, type, blanks, placeholders and
    unreadable values (one row per column; see :class:`workbench.core.contract.ColumnReport`)."""
    frames = [t.report() for t in tables.values()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def service_kpis(
    tickets: pd.DataFrame,
    *,
    by: str = "channel",
    satisfied_min: float = 4.0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Customer-service KPIs per channel and overall, with confidence intervals.

    Parameters
    ----------
    tickets : pandas.DataFrame
        Canonical tickets: ``opened_at`` and optionally ``first_response_at``, ``resolved_at``,
        ``satisfaction`` and the ``by`` column.
    by : str, default "channel"
        Grouping column (missing values grouped as ``(missing)``); without it only the overall
        row is returned.
    satisfied_min : float, default 4.0
        Scores at or above it count as satisfied (CSAT 4-5 of 5).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per group, then ``overall``: ``tickets``; ``csat_n``, ``csat_mean``,
        ``csat_low``, ``csat_high`` (Student t interval); ``satisfied``, ``satisfied_share``,
        ``satisfied_low``, ``satisfied_high`` (Wilson interval, among scored tickets);
        ``first_response_median_h``, ``first_response_p90_h`` (hours from opening to first
        response); ``resolved``, ``resolution_rate``, ``resolution_low``, ``resolution_high``
        (Wilson, resolved = ``resolved_at`` present); ``resolve_median_h`` (hours, resolved
        tickets).

    Examples
    --------
    >>> service_kpis(tickets_frame)  # doctest: +SKIP
    """
    from scipy import stats as sps
    from statsmodels.stats.proportion import proportion_confint

    n = len(tickets)
    idx = tickets.index
    if by in tickets:
        group = tickets[by].astype("string").fillna("(missing)").to_numpy(dtype=object)
    else:
        group = np.full(n, "overall", dtype=object)

    def hours(col: str) -> np.ndarray:
        if col not in tickets or "opened_at" not in tickets:
            return np.full(n, np.nan)
        d = (tickets[col] - tickets["opened_at"]) / pd.Timedelta(hours=1)
        return d.to_numpy(dtype="float64", na_value=np.nan)

    score = (
        pd.to_numeric(tickets["satisfaction"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if "satisfaction" in tickets
        else np.full(n, np.nan)
    )
    frt = hours("first_response_at")
    ttr = hours("resolved_at")
    resolved = tickets["resolved_at"].notna().to_numpy() if "resolved_at" in tickets else np.zeros(n, dtype=bool)
    df = pd.DataFrame(
        {"group": group, "score": score, "sat": np.where(np.isnan(score), np.nan, score >= satisfied_min),
         "frt": frt, "ttr": np.where(resolved, ttr, np.nan), "resolved": resolved},
        index=idx,
    )  # fmt: skip

    def agg(d: pd.DataFrame) -> dict[str, Any]:
        return {
            "tickets": len(d),
            "csat_n": int(d["score"].notna().sum()),
            "csat_mean": d["score"].mean(),
            "csat_sd": d["score"].std(ddof=1),
            "satisfied": int(np.nansum(d["sat"].to_numpy())),
            "first_response_median_h": d["frt"].median(),
            "first_response_p90_h": d["frt"].quantile(0.9),
            "resolved": int(d["resolved"].sum()),
            "resolve_median_h": d["ttr"].median(),
        }

    rows = []
    if by in tickets:
        for g, d in df.groupby("group", sort=True):
            rows.append({by: g, **agg(d)})
    rows.append({by: "overall", **agg(df)})
    out = pd.DataFrame(rows)
    alpha = 1 - confidence
    m = out["csat_n"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        tcrit = np.where(m > 1, sps.t.ppf(1 - alpha / 2, np.maximum(m - 1, 1)), np.nan)
        half = tcrit * out["csat_sd"].to_numpy() / np.sqrt(m)
    out["csat_low"] = out["csat_mean"] - half
    out["csat_high"] = out["csat_mean"] + half

    def wilson(k: pd.Series, nobs: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        k_ = k.to_numpy(dtype="float64")
        n_ = nobs.to_numpy(dtype="float64")
        lo = np.full(len(k_), np.nan)
        hi = np.full(len(k_), np.nan)
        ok = n_ > 0
        if ok.any():
            lo[ok], hi[ok] = proportion_confint(k_[ok], n_[ok], alpha=alpha, method="wilson")
        return lo, hi

    with np.errstate(invalid="ignore", divide="ignore"):
        out["satisfied_share"] = out["satisfied"] / out["csat_n"].where(out["csat_n"] > 0)
        out["resolution_rate"] = out["resolved"] / out["tickets"].where(out["tickets"] > 0)
    out["satisfied_low"], out["satisfied_high"] = wilson(out["satisfied"], out["csat_n"])
    out["resolution_low"], out["resolution_high"] = wilson(out["resolved"], out["tickets"])
    cols = [
        by, "tickets", "csat_n", "csat_mean", "csat_low", "csat_high",
        "satisfied", "satisfied_share", "satisfied_low", "satisfied_high",
        "first_response_median_h", "first_response_p90_h",
        "resolved", "resolution_rate", "resolution_low", "resolution_high", "resolve_median_h",
    ]  # fmt: skip
    return out[cols].reset_index(drop=True)


def service_finding(kpis: pd.DataFrame) -> str:
    """Plain-language finding from :func:`service_kpis`: overall CSAT and resolution, and the
    channel with the lowest satisfaction.

    Parameters
    ----------
    kpis : pandas.DataFrame
        Output of :func:`service_kpis` (first column = group, last row ``overall``).

    Returns
    -------
    str
    """
    if not kpis.empty and "overall" not in kpis.index:
        kpis = kpis.set_index(kpis.columns[0])
    if kpis.empty or "overall" not in kpis.index:
        return "No tickets to summarise."
    o = kpis.loc["overall"]
    text = (
        f"{int(o['tickets']):,} tickets; mean satisfaction {o['csat_mean']:.2f} "
        f"(95 % CI {o['csat_low']:.2f}-{o['csat_high']:.2f}), "
        f"{o['satisfied_share']:.0%} satisfied; {o['resolution_rate']:.0%} resolved "
        f"(CI {o['resolution_low']:.0%}-{o['resolution_high']:.0%}); median first response "
        f"{o['first_response_median_h']:.1f} h."
    )
    ch = kpis.drop(index="overall")
    ch = ch[ch["csat_n"] > 0]
    if len(ch) > 1:
        worst = ch["csat_mean"].idxmin()
        w = ch.loc[worst]
        separated = w["csat_high"] < o["csat_low"]
        text += (
            f" Lowest satisfaction: {worst} ({w['csat_mean']:.2f}, CI {w['csat_low']:.2f}-"
            f"{w['csat_high']:.2f})" + (", clearly below the overall level." if separated else
                                       ", though its interval overlaps the overall level.")
        )
    return text
