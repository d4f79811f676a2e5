"""Shaping the churn analyses share: months between dates, purchase lines
(:func:`workbench.data.orders.purchase_mask`), and the levels of a column (categories, or
quantile bins of a number) with churn rates per level."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import StatisticalWarning
from workbench.data.labels import cluster_label
from workbench.data.orders import purchase_mask
from workbench.report import fmt
from workbench.report.i18n import Text, category, has, neutral, t
from workbench.stats import wilson_interval

__all__ = [
    "MONTH_DAYS", "MISSING", "CONSENT_COLUMN", "Text", "neutral", "unit", "level_text", "attribute_columns",
    "months_between", "purchase_mask", "levels", "rate_rows", "skip_warning",
]  # fmt: skip

#: Days per month used for every duration in months.
MONTH_DAYS = 30.4375
#: Level of a missing value.
MISSING = "(missing)"
#: Customers' boolean marketing permission (False: never on a contact list; missing: unknown).
#: Never a feature or driver: it is a rule of the retention list, not a reason to leave.
CONSENT_COLUMN = "marketing_consent"


def unit(name: str) -> str:
    """A time unit (``months``, ``days``) in the run's language; an unknown unit stays as it is."""
    key = f"churn.unit.{name}"
    return t(key) if has(key) else name


_BIN = re.compile(r"^(\d+): (.+) to (.+)$")


def level_text(level: Any) -> str:
    """A level the workbench made, as a reader reads it: ``(missing)``, ``all``, ``(other)`` and
    quantile bins ``"2: 1.47 to 3"`` in the run's language; the data's own levels as they are."""
    text = str(level)
    m = _BIN.match(text)
    if m:
        return t("churn.level.bin", bin=m.group(1), low=m.group(2), high=m.group(3))
    cluster = cluster_label(text)  # a segmentation cluster name ("high n_orders · low recency_days")
    return cluster if cluster != text else category("churn_level", text)


def months_between(a: pd.Series, b: pd.Series | pd.Timestamp) -> pd.Series:
    """Months (of :data:`MONTH_DAYS` days) from ``a`` to ``b``."""
    return (b - a).dt.total_seconds() / 86400.0 / MONTH_DAYS


def attribute_columns(table: pd.DataFrame, *, exclude: frozenset[str] = frozenset()) -> list[str]:
    """Columns of a churn table that can group or explain churn, for messages that suggest some:
    not the key, label, survival time, dates, consent or ``exclude``, with two or more values."""
    skip = {"customer_id", "churned", "event", "duration_months", CONSENT_COLUMN} | set(exclude)
    return [
        str(c) for c in table.columns
        if c not in skip and not pd.api.types.is_datetime64_any_dtype(table[c]) and table[c].nunique(dropna=True) >= 2
    ]  # fmt: skip


def levels(s: pd.Series, *, bins: int, max_levels: int) -> tuple[pd.Series | None, str]:
    """Text level per row and the kind (``categorical``/``numeric``); None when too many levels.

    Numbers with more than ``max(bins, 10)`` values are cut into ``bins`` quantile bins labelled
    ``"1: 0 to 1.47"``, ``"2: 1.47 to 3"`` (bins include their upper edge); missing values are the
    level :data:`MISSING`.
    """
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() > max(bins, 10):
        x = s.astype("float64")
        codes, edges = pd.qcut(x, bins, labels=False, retbins=True, duplicates="drop")
        names = [f"{i + 1}: {_fmt_edge(edges[i])} to {_fmt_edge(edges[i + 1])}" for i in range(len(edges) - 1)]
        lab = pd.Series(np.asarray(names, dtype=object)[np.nan_to_num(codes, nan=0).astype(int)], index=s.index)
        lab[np.isnan(codes)] = MISSING
        return lab.astype(str), "numeric"
    lab = s.astype("string").fillna(MISSING).astype(str)
    if lab.nunique() > max_levels:
        return None, "categorical"
    return lab, "categorical"


def _fmt_edge(v: float) -> str:
    """Bin edge for a label: 3 significant digits, thousands separated, no ``-0``."""
    if not np.isfinite(v):
        return str(v)
    v = 0.0 if abs(v) < 1e-9 else float(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def skip_warning(column: str, n_levels: int, max_levels: int) -> Text:
    """Warn (:class:`StatisticalWarning`) that a column with too many levels is skipped; the message."""
    msg = Text("churn.warn.too_many_levels", column=repr(column), n=fmt.count(n_levels), max_levels=max_levels)
    warnings.warn(msg, StatisticalWarning, stacklevel=3)
    return msg


def rate_rows(labels: pd.Series, y: np.ndarray, *, column: str, confidence: float) -> pd.DataFrame:
    """Churn rate per level with a Wilson interval.

    Returns
    -------
    pandas.DataFrame
        One row per level (sorted): ``column``, ``level``, ``customers``, ``churners``, ``rate``,
        ``lower``, ``upper``, ``share_of_churners``.
    """
    g = pd.DataFrame({"level": labels.to_numpy(), "y": y}).groupby("level", sort=True)["y"].agg(["size", "sum"])
    lo, hi = wilson_interval(g["sum"], g["size"], confidence=confidence)
    total = y.sum()
    return pd.DataFrame(
        {
            "column": column,
            "level": g.index.astype(str),
            "customers": g["size"].to_numpy().astype("int64"),
            "churners": g["sum"].to_numpy().astype("int64"),
            "rate": (g["sum"] / g["size"]).to_numpy(),
            "lower": lo,
            "upper": hi,
            "share_of_churners": (g["sum"] / total).to_numpy() if total else np.nan,
        }
    )
