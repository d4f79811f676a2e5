"""Segmentation and customer value: ABC / Pareto, RFM, RFM migration, clustering, a simple CLV
formula, customer tags and segment portraits (notebook ``02_segmentation_value.ipynb``).

Every function takes the customer feature table of :func:`workbench.data.features.customer_features`
(one row per customer) and keyword-only options (usually a params model of
:mod:`workbench.core.params`), and returns a frozen result object with ``summary()``,
``to_frame()``, ``plot(ax=None)``, ``metrics()``, ``finding()`` and a notebook HTML view.

Columns used
------------
``customer_id``; ``monetary_sum`` (revenue: gross purchases up to as-of), ``n_orders``,
``recency_days``, ``monetary_mean``, ``tenure_days``; ``preferred_channel`` and
``share_<channel>`` when present; ``margin_sum`` for ``measure="margin"``.
"""

from __future__ import annotations

import html
import math
import re
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.core.params import PrivacyParams
from workbench.segmentation.params import ClusteringParams, RFMParams
from workbench.stats import seed_ints

__all__ = [
    "DEFAULT_SEGMENT_MAP",
    "NO_PURCHASE",
    "NOT_YET_CUSTOMER",
    "ABCResult",
    "abc_classes",
    "gini",
    "RFMResult",
    "rfm_scores",
    "check_segment_map",
    "MigrationResult",
    "rfm_migration",
    "ClusterResult",
    "cluster_customers",
    "adjusted_rand",
    "annuity_factor",
    "simple_clv",
    "SimpleCLVResult",
    "simple_clv_by_segment",
    "tag_table",
    "write_tags",
    "truth_agreement",
    "segment_artifact",
    "PortraitResult",
    "portraits",
]

#: Segment of customers without a purchase up to the as-of date.
NO_PURCHASE = "no purchase"
#: Row of the migration matrix for customers who were not in the base at the earlier date.
NOT_YET_CUSTOMER = "not yet a customer"

#: The usual 11 RFM segments on the recency x frequency grid (scores 1..5, 5 = best). Each of
#: the 25 (r, f) cells matches exactly one rule (see :func:`check_segment_map`). Same format as
#: the params key ``analyses.segmentation.rfm.segment_map``: name -> rule on ``r``, ``f``, ``m``.
DEFAULT_SEGMENT_MAP: dict[str, str] = {
    "champions": "r == 5 and f >= 4",
    "loyal customers": "3 <= r <= 4 and f >= 4",
    "potential loyalists": "r >= 4 and 2 <= f <= 3",
    "new customers": "r == 5 and f == 1",
    "promising": "r == 4 and f == 1",
    "need attention": "r == 3 and f == 3",
    "about to sleep": "r == 3 and f <= 2",
    "at risk": "r <= 2 and 3 <= f <= 4",
    "can't lose them": "r <= 2 and f == 5",
    "hibernating": "r <= 2 and f <= 2 and r + f >= 3",
    "lost": "r == 1 and f == 1",
}

_EPS = 1e-9
_SEGMAP_KEY = "analyses.segmentation.rfm.segment_map"
_CLUSTER_KEY = "analyses.segmentation.clustering"

#: Variance floor added to the GMM covariances (standardized units): a spike of tied values
#: (all one-time buyers share ``n_orders == 1``) cannot collapse a component to zero width.
GMM_REG_COVAR: float = 1e-2
#: Rows of the base sample on which bootstrap stability is measured.
STABILITY_SAMPLE: int = 20_000
#: Points drawn in the PCA projection plot.
PROJECTION_SAMPLE: int = 5_000


# ============================================================================================
# small helpers
# ============================================================================================


def _num(x: Any) -> float | None:
    """JSON-able float (NaN/inf -> None)."""
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _pct(x: float | None, digits: int = 0) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{100 * float(x):.{digits}f} %"


def _html(obj: Any) -> str:
    parts = [f"<p><b>{html.escape(repr(obj))}</b></p>"]
    try:
        parts.append(f"<p>{html.escape(obj.finding())}</p>")
    except Exception:  # the HTML view must never fail
        pass
    parts.append(obj.summary().to_html(index=False, float_format=lambda v: f"{v:,.3g}"))
    return "".join(parts)


def _need_columns(frame: pd.DataFrame, cols: Sequence[str], *, what: str, key: str | None = None) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        fix = f"; fix {key}" if key else "; build the table with workbench.data.features.customer_features"
        raise AnalysisError(
            f"{what} needs column(s) {', '.join(missing)} in the feature table "
            f"({len(frame):,} rows; columns: {', '.join(map(str, frame.columns))}){fix}"
        )


def _check_unique_ids(frame: pd.DataFrame, *, what: str) -> None:
    dup = frame["customer_id"].duplicated()
    if dup.any():
        ex = frame.loc[dup, "customer_id"].head(5).tolist()
        raise AnalysisError(
            f"{what}: {int(dup.sum()):,} of {len(frame):,} rows repeat a customer_id "
            f"(e.g. {', '.join(map(repr, ex))}); the feature table must have one row per customer"
        )


def _rank_scores(values: pd.Series, bins: int, *, invert: bool = False) -> np.ndarray:
    """1..bins from the rank percentile with average ranks for ties (equal values, equal score)."""
    v = -values.astype(float) if invert else values.astype(float)
    pct = v.rank(method="average", pct=True).to_numpy(dtype=float)
    s = 1 + np.floor(bins * (pct - _EPS))
    return np.clip(s, 1, bins).astype(np.int64)


def _segment_series(segments: pd.Series | pd.DataFrame, *, segment_col: str = "segment") -> pd.Series:
    """Customer -> segment as a Series indexed by ``customer_id``."""
    if isinstance(segments, pd.DataFrame):
        if "customer_id" not in segments.columns or segment_col not in segments.columns:
            raise AnalysisError(
                f"segments frame needs columns customer_id and {segment_col!r} "
                f"(has {', '.join(map(str, segments.columns))}); pass e.g. rfm.segments()"
            )
        s = segments.set_index("customer_id")[segment_col]
    elif isinstance(segments, pd.Series):
        s = segments
    else:
        raise AnalysisError(
            f"segments must be a Series indexed by customer_id or a DataFrame; got {type(segments).__name__}"
        )
    if s.index.has_duplicates:
        raise AnalysisError(f"segments: {int(s.index.duplicated().sum()):,} customer_id values repeat")
    return s.rename("segment")


def _order_levels(s: pd.Series) -> list[Any]:
    """Segment levels: categorical order when categorical, else by size (largest first)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    vc = s.value_counts(dropna=True)
    return list(vc.index)


# ============================================================================================
# 1. ABC / Pareto
# ============================================================================================


def gini(values: Sequence[float] | np.ndarray | pd.Series) -> float:
    """Gini coefficient of non-negative values (n-based formula).

    ``G = 2 * sum_i(i * x_(i)) / (n * sum(x)) - (n + 1) / n`` with ``x_(1) <= ... <= x_(n)``;
    this equals one minus twice the area under the (trapezoid) Lorenz curve. It is 0 when all
    values are equal and ``(n - 1) / n`` when one customer has everything (not the
    small-sample ``n / (n - 1)`` corrected version, which would give 1).

    Parameters
    ----------
    values : array-like
        Non-negative values; missing values are dropped.

    Returns
    -------
    float
        NaN when there are no values or their sum is 0.

    Examples
    --------
    >>> gini([1, 1, 1, 1])
    0.0
    >>> gini([0, 0, 0, 1])
    0.75
    """
    x = np.sort(np.asarray(pd.Series(values, dtype=float).dropna(), dtype=float))
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    i = np.arange(1, n + 1, dtype=float)
    return float(2.0 * np.sum(i * x) / (n * total) - (n + 1) / n)


@dataclass(frozen=True, eq=False, repr=False)
class ABCResult:
    """ABC / Pareto classes of customers by value (see :func:`abc_classes`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer, highest value first: ``customer_id``, ``value``, ``rank``,
        ``cum_share_before``, ``cum_share``, ``abc_class``.
    measure : str
        ``revenue``, ``margin`` or ``orders``.
    value_column : str
        Feature column used as value.
    cuts : tuple of float
        Cumulative shares closing each class but the last.
    gini : float
        Gini coefficient (n-based formula, see :func:`gini`).
    lorenz : pandas.DataFrame
        Lorenz curve, customers sorted by ascending value: ``customer_share``, ``value_share``
        (n + 1 points from (0, 0) to (1, 1)).
    top_shares : dict
        Share of value of the top 1 / 5 / 20 % of customers (``top_1pct`` ...).
    n_negative : int
        Customers with a negative value (counted as 0).
    """

    table: pd.DataFrame
    measure: str
    value_column: str
    cuts: tuple[float, ...]
    gini: float
    lorenz: pd.DataFrame
    top_shares: dict[str, float]
    n_negative: int = 0

    @property
    def classes(self) -> list[str]:
        """Class labels, best first (``['A', 'B', 'C']``)."""
        return list(self.table["abc_class"].cat.categories)

    def to_frame(self) -> pd.DataFrame:
        """Per customer (highest value first): ``customer_id``, ``value``, ``rank``,
        ``cum_share_before``, ``cum_share``, ``abc_class``."""
        return self.table.copy()

    def segments(self) -> pd.Series:
        """ABC class per customer, indexed by ``customer_id`` (for :func:`portraits`)."""
        return self.table.set_index("customer_id")["abc_class"].rename("segment")

    def summary(self) -> pd.DataFrame:
        """One row per class: ``abc_class``, ``customers``, ``share_customers``, ``value``,
        ``share_value``, ``mean_value``, ``min_value``, ``max_value``."""
        t = self.table
        total_n = len(t)
        total_v = float(t["value"].clip(lower=0).sum())
        g = t.groupby("abc_class", observed=False)["value"]
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "value": g.sum(),
                "mean_value": g.mean(),
                "min_value": g.min(),
                "max_value": g.max(),
            }
        )
        out["share_customers"] = out["customers"] / total_n if total_n else np.nan
        out["share_value"] = out["value"].clip(lower=0) / total_v if total_v > 0 else np.nan
        out = out.reset_index()
        out["abc_class"] = out["abc_class"].astype(str)
        return out[
            ["abc_class", "customers", "share_customers", "value", "share_value", "mean_value", "min_value", "max_value"]
        ]

    def metrics(self) -> dict[str, Any]:
        """Gini, top shares, class sizes and value shares (JSON-able)."""
        s = self.summary()
        return {
            "measure": self.measure,
            "n_customers": len(self.table),
            "total_value": _num(self.table["value"].clip(lower=0).sum()),
            "cuts": [float(c) for c in self.cuts],
            "gini": _num(self.gini),
            **{f"{k}_share": _num(v) for k, v in self.top_shares.items()},
            "n_negative": int(self.n_negative),
            "classes": {
                row.abc_class: {
                    "customers": int(row.customers),
                    "share_customers": _num(row.share_customers),
                    "share_value": _num(row.share_value),
                }
                for row in s.itertuples()
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """What the concentration means for the business, from the numbers."""
        s = self.summary().set_index("abc_class")
        what = {"revenue": "revenue", "margin": "margin", "orders": "orders"}[self.measure]
        first, last = s.index[0], s.index[-1]
        text = (
            f"The top 20 % of customers bring {_pct(self.top_shares['top_20pct'])} of {what} and the "
            f"top 1 % alone {_pct(self.top_shares['top_1pct'])} (Gini {self.gini:.2f}). "
            f"Class {first} is {int(s.loc[first, 'customers']):,} customers "
            f"({_pct(s.loc[first, 'share_customers'])}) with {_pct(s.loc[first, 'share_value'])} of {what}: "
            f"keeping them matters most. "
            f"Class {last} is {_pct(s.loc[last, 'share_customers'])} of customers with "
            f"{_pct(s.loc[last, 'share_value'])} of {what}; serve them at low cost."
        )
        if self.gini > 0.8:
            text += " Value is extremely concentrated: losing a few key accounts would hurt."
        return text

    def plot(self, ax: Any = None) -> Any:
        """Lorenz curve with the line of equality; the class cut points are marked.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(5.5, 5))
        lz = self.lorenz
        grid = np.linspace(0, 1, 501)
        curve = pd.DataFrame(
            {
                "share of customers (lowest value first)": grid,
                f"share of {self.measure}": np.interp(grid, lz["customer_share"], lz["value_share"]),
            }
        )
        sns.lineplot(data=curve, x=curve.columns[0], y=curve.columns[1], ax=ax, label="Lorenz curve")
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="equality")
        # the customers of class A (top of the ranking) sit at the right end of the curve
        n = len(self.table)
        counts = self.table["abc_class"].value_counts(sort=False)
        cum = 0
        for cls in self.classes[:-1]:
            cum += int(counts.get(cls, 0))
            x = 1 - cum / n if n else 1.0
            ax.axvline(x, color="grey", lw=0.6, ls=":")
            ax.text(x, 0.02, f" {cls}|", fontsize=8, color="dimgrey", ha="right")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title(f"Lorenz curve of {self.measure} (Gini {self.gini:.2f})")
        ax.legend(loc="upper left")
        return ax

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        return (
            f"ABCResult(measure={self.measure!r}, customers={len(self.table):,}, "
            f"gini={self.gini:.3f}, top_20pct={self.top_shares['top_20pct']:.1%})"
        )


def abc_classes(
    features: pd.DataFrame,
    *,
    measure: Literal["revenue", "margin", "orders"] = "revenue",
    cuts: Sequence[float] = (0.8, 0.95),
) -> ABCResult:
    """ABC / Pareto classes: customers sorted by value, classes by cumulative share of value.

    Customers are sorted from the highest value down and the value is accumulated. A customer's
    class is the class of the cumulative share *before* adding that customer: with cuts
    (0.8, 0.95) the customer whose value crosses 80 % is still A, the first customer starting at
    or above 80 % is B, and C starts at 95 %. Customers with equal values always get the same
    class (a block of ties takes the share before its first member), and customers with zero (or
    negative) value are always in the last class.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features, one row per customer (``customer_id`` and the value column).
    measure : {'revenue', 'margin', 'orders'}, default 'revenue'
        Value: ``monetary_sum`` (gross purchases), ``margin_sum`` (needs that column) or
        ``n_orders``. Params key ``analyses.segmentation.abc.measure``.
    cuts : sequence of float, default (0.8, 0.95)
        Increasing cumulative shares in (0, 1) closing classes A, B, ...; ``len(cuts) + 1``
        classes labelled A, B, C, D ... Params key ``analyses.segmentation.abc.cuts``.

    Returns
    -------
    ABCResult
        Per-customer classes, class summary, Lorenz curve, Gini (n-based formula
        ``2 sum(i x_(i)) / (n sum x) - (n + 1) / n``), top 1 / 5 / 20 % shares (read from the
        Lorenz curve with linear interpolation, so "top 20 %" of 4 customers is 0.8 of the best
        customer).

    Raises
    ------
    AnalysisError
        Unknown measure, missing column, bad cuts, no rows, or no customer with positive value.

    Warns
    -----
    StatisticalWarning
        Negative values (counted as 0 for shares and Gini).

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": list("abcde"), "monetary_sum": [50.0, 30, 10, 5, 5]})
    >>> abc_classes(f).to_frame()["abc_class"].astype(str).tolist()
    ['A', 'A', 'B', 'B', 'B']
    """
    columns = {"revenue": "monetary_sum", "margin": "margin_sum", "orders": "n_orders"}
    if measure not in columns:
        raise AnalysisError(
            f"ABC measure must be one of {', '.join(columns)}; got {measure!r}; fix analyses.segmentation.abc.measure"
        )
    col = columns[measure]
    if col not in features.columns:
        hint = " (orders need a margin column and features a margin_sum)" if measure == "margin" else ""
        raise AnalysisError(
            f"ABC measure {measure!r} needs column {col!r} in the feature table{hint}; "
            f"columns: {', '.join(map(str, features.columns))}; fix analyses.segmentation.abc.measure"
        )
    _need_columns(features, ["customer_id"], what="ABC classes")
    cuts_t = tuple(float(c) for c in cuts)
    if not cuts_t or any(not 0 < c < 1 for c in cuts_t) or any(b <= a for a, b in zip(cuts_t, cuts_t[1:], strict=False)):
        raise AnalysisError(
            f"ABC cuts must be increasing shares strictly between 0 and 1, e.g. [0.8, 0.95]; got {list(cuts)}; "
            "fix analyses.segmentation.abc.cuts"
        )
    if len(cuts_t) > 25:
        raise AnalysisError("at most 25 ABC cuts; fix analyses.segmentation.abc.cuts")
    n = len(features)
    if n == 0:
        raise AnalysisError("ABC classes: the feature table has no customers")
    _check_unique_ids(features, what="ABC classes")
    raw = pd.to_numeric(features[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    n_neg = int((raw < 0).sum())
    if n_neg:
        warnings.warn(
            f"ABC on {measure}: {n_neg:,} of {n:,} customers have a negative {col}; they count as 0 "
            "in shares and Gini and are put in the last class (or use analyses.segmentation.abc.measure: revenue)",
            StatisticalWarning,
            stacklevel=2,
        )
    v = np.clip(raw, 0, None)
    total = v.sum()
    if total <= 0:
        raise AnalysisError(
            f"ABC classes: no customer has a positive {col} ({n:,} customers); "
            "check the as-of date or analyses.segmentation.abc.measure"
        )
    ids = features["customer_id"].to_numpy()
    # highest first; ties in a stable, documented order (by customer_id)
    order = np.lexsort((ids.astype(str), -v))
    vs = v[order]
    cum = np.cumsum(vs) / total
    before = np.concatenate([[0.0], cum[:-1]])
    # a block of equal values takes the share before its first member
    starts = np.r_[True, vs[1:] != vs[:-1]]
    first_idx = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    before_tie = before[first_idx]
    labels = [chr(ord("A") + i) for i in range(len(cuts_t) + 1)]
    cls_idx = np.searchsorted(np.asarray(cuts_t), before_tie + 1e-12, side="right")
    cls_idx = np.where(vs <= 0, len(cuts_t), cls_idx)
    table = pd.DataFrame(
        {
            "customer_id": ids[order],
            "value": raw[order],
            "rank": np.arange(1, n + 1),
            "cum_share_before": before_tie,
            "cum_share": cum,
            "abc_class": pd.Categorical.from_codes(cls_idx, categories=labels, ordered=True),
        }
    )
    asc = np.sort(v)
    lorenz = pd.DataFrame(
        {
            "customer_share": np.arange(n + 1) / n,
            "value_share": np.concatenate([[0.0], np.cumsum(asc) / total]),
        }
    )
    desc_x = np.arange(n + 1) / n
    desc_y = np.concatenate([[0.0], cum])
    top = {f"top_{int(p * 100)}pct": float(np.interp(p, desc_x, desc_y)) for p in (0.01, 0.05, 0.20)}
    return ABCResult(
        table=table,
        measure=measure,
        value_column=col,
        cuts=cuts_t,
        gini=gini(v),
        lorenz=lorenz,
        top_shares=top,
        n_negative=n_neg,
    )


# ============================================================================================
# 2. RFM
# ============================================================================================


def _uses_m(segment_map: Mapping[str, str]) -> bool:
    return any(re.search(r"\bm\b", str(rule)) for rule in segment_map.values())


def _eval_rule(frame: pd.DataFrame, name: str, rule: str, *, allowed: str) -> np.ndarray:
    """Evaluate one segment rule to a boolean array (missing -> False)."""
    key = f"{_SEGMAP_KEY} (segment {name!r})"
    if not isinstance(rule, str) or not rule.strip():
        raise AnalysisError(f"segment {name!r}: the rule must be a non-empty text like 'r >= 4 and f >= 4'; fix {key}")
    try:
        res = frame.eval(rule, engine="python")
    except pd.errors.UndefinedVariableError as err:
        raise AnalysisError(
            f"segment {name!r}: rule {rule!r} uses an unknown name ({err}); rules may use {allowed}; fix {key}"
        ) from None
    except Exception as err:  # any parse/eval problem is the user's rule
        raise AnalysisError(f"segment {name!r}: rule {rule!r} cannot be evaluated ({err}); fix {key}") from None
    if np.isscalar(res) or getattr(res, "ndim", 1) == 0:
        if not isinstance(res, (bool, np.bool_)):
            raise AnalysisError(f"segment {name!r}: rule {rule!r} is not a true/false condition; fix {key}")
        return np.full(len(frame), bool(res))
    s = pd.Series(res)
    if not (pd.api.types.is_bool_dtype(s.dtype) or s.isna().all()):
        raise AnalysisError(
            f"segment {name!r}: rule {rule!r} gives {s.dtype} values, not true/false "
            f"(write a comparison like 'r >= 4'); fix {key}"
        )
    return s.fillna(False).to_numpy(dtype=bool)


def check_segment_map(segment_map: Mapping[str, str] | None = None, *, bins: int = 5) -> pd.DataFrame:
    """Evaluate a segment map on every possible score cell.

    Parameters
    ----------
    segment_map : mapping of str to str, optional
        Segment name -> rule on ``r``, ``f`` (and ``m``), evaluated with
        :meth:`pandas.DataFrame.eval`. Default :data:`DEFAULT_SEGMENT_MAP`, which is written on
        the 1..5 scale: with other ``bins`` its rules see the scores rescaled to 1..5
        (``ceil(score * 5 / bins)``).
    bins : int, default 5
        Score levels.

    Returns
    -------
    pandas.DataFrame
        One row per cell (``bins**2`` cells of ``r``, ``f``; ``bins**3`` with ``m`` when a rule
        uses ``m``): ``r``, ``f`` (, ``m``), ``n_matches`` (rules that match), ``matches``
        (their names, map order), ``segment`` (first match, the one assigned; missing when none).

    Raises
    ------
    AnalysisError
        A rule cannot be evaluated (names the segment and the params key).

    Examples
    --------
    >>> grid = check_segment_map()
    >>> len(grid), int(grid["n_matches"].max()), int(grid["n_matches"].min())
    (25, 1, 1)
    """
    default = segment_map is None
    smap = dict(DEFAULT_SEGMENT_MAP if default else segment_map)
    if not smap:
        raise AnalysisError(f"the segment map is empty; give at least one rule or remove {_SEGMAP_KEY}")
    levels = np.arange(1, bins + 1)
    dims = ["r", "f", "m"] if _uses_m(smap) else ["r", "f"]
    mesh = np.meshgrid(*([levels] * len(dims)), indexing="ij")
    grid = pd.DataFrame({d: m.ravel() for d, m in zip(dims, mesh, strict=True)})
    ev = grid.copy()
    if default and bins != 5:
        for d in dims:
            ev[d] = np.ceil(ev[d] * 5 / bins).astype(np.int64)
    hits = np.column_stack(
        [_eval_rule(ev, name, rule, allowed=", ".join(dims) + f" (scores 1..{bins})") for name, rule in smap.items()]
    )
    names = np.array(list(smap), dtype=object)
    grid["n_matches"] = hits.sum(axis=1)
    grid["matches"] = [", ".join(names[row]) for row in hits]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    grid["segment"] = pd.Series([names[i] if i >= 0 else None for i in first], dtype="object")
    return grid


@dataclass(frozen=True, eq=False, repr=False)
class RFMResult:
    """RFM scores and named segments (see :func:`rfm_scores`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer: ``customer_id``, ``recency_days``, ``n_orders``,
        ``monetary_sum``, ``r``, ``f``, ``m`` (nullable Int64; missing without purchase),
        ``rfm_cell`` (e.g. ``"545"``), ``rfm_score`` (r + f + m), ``segment`` (categorical in
        map order, then ``"no purchase"``).
    segment_map : dict
        The map in force.
    default_map : bool
        Whether it is :data:`DEFAULT_SEGMENT_MAP`.
    bins : int
    method : str
        ``quantile`` or ``thresholds``.
    unused_levels : dict
        Score levels no buyer got, per dimension (``{"r": [], "f": [1, 2], "m": []}``).
    overlaps : pandas.DataFrame
        Cells matched by more than one rule (first match wins).
    grid : pandas.DataFrame
        :func:`check_segment_map` of the map.
    """

    table: pd.DataFrame
    segment_map: dict[str, str]
    default_map: bool
    bins: int
    method: str
    unused_levels: dict[str, list[int]]
    overlaps: pd.DataFrame
    grid: pd.DataFrame

    @property
    def n_buyers(self) -> int:
        """Customers with at least one purchase (scored)."""
        return int(self.table["r"].notna().sum())

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ids, raw R/F/M values, scores, cell, score sum and segment."""
        return self.table.copy()

    def segments(self) -> pd.Series:
        """Segment per customer, indexed by ``customer_id``."""
        return self.table.set_index("customer_id")["segment"]

    def summary(self) -> pd.DataFrame:
        """One row per segment (map order, ``no purchase`` last; empty segments kept).

        Returns
        -------
        pandas.DataFrame
            ``segment``, ``customers``, ``share``, ``revenue``, ``revenue_share``, ``mean_r``,
            ``mean_f``, ``mean_m`` (mean scores), ``mean_recency_days``,
            ``orders_per_customer``, ``revenue_per_customer``.
        """
        t = self.table
        g = t.groupby("segment", observed=False)
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "revenue": g["monetary_sum"].sum(),
                "mean_r": g["r"].mean(),
                "mean_f": g["f"].mean(),
                "mean_m": g["m"].mean(),
                "mean_recency_days": g["recency_days"].mean(),
                "orders_per_customer": g["n_orders"].mean(),
                "revenue_per_customer": g["monetary_sum"].mean(),
            }
        )
        n = len(t)
        rev = float(t["monetary_sum"].sum())
        out.insert(1, "share", out["customers"] / n if n else np.nan)
        out.insert(3, "revenue_share", out["revenue"] / rev if rev > 0 else np.nan)
        out = out.reset_index()
        out["segment"] = out["segment"].astype(str)
        for c in ("mean_r", "mean_f", "mean_m"):
            out[c] = out[c].astype(float)
        return out

    def grid_counts(self) -> pd.DataFrame:
        """Buyers per (r, f) cell: rows r = bins..1, columns f = 1..bins."""
        b = self.table.dropna(subset=["r"])
        levels = list(range(1, self.bins + 1))
        ct = pd.crosstab(b["r"].astype(int), b["f"].astype(int))
        return ct.reindex(index=levels[::-1], columns=levels, fill_value=0)

    def metrics(self) -> dict[str, Any]:
        """Counts, shares and unused score levels (JSON-able)."""
        s = self.summary()
        return {
            "method": self.method,
            "bins": self.bins,
            "default_map": self.default_map,
            "n_customers": len(self.table),
            "n_buyers": self.n_buyers,
            "n_no_purchase": int((self.table["segment"] == NO_PURCHASE).sum()),
            "unused_levels": {k: [int(x) for x in v] for k, v in self.unused_levels.items()},
            "overlapping_cells": len(self.overlaps),
            "segments": {
                row.segment: {
                    "customers": int(row.customers),
                    "share": _num(row.share),
                    "revenue_share": _num(row.revenue_share),
                }
                for row in s.itertuples()
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """Who brings the revenue and who is slipping away, from the numbers."""
        s = self.summary().set_index("segment")
        buyers = s.drop(index=NO_PURCHASE, errors="ignore")
        buyers = buyers[buyers["customers"] > 0]
        if buyers.empty:
            return "No customer has purchased yet."
        top = buyers["revenue_share"].idxmax()
        big = buyers["customers"].idxmax()
        text = (
            f"'{top}' bring the most revenue: {_pct(s.loc[top, 'revenue_share'])} from "
            f"{_pct(s.loc[top, 'share'])} of customers ({currency}{s.loc[top, 'revenue_per_customer']:,.0f} each). "
        )
        if big != top:
            text += (
                f"The largest group is '{big}' ({_pct(s.loc[big, 'share'])} of customers, "
                f"{_pct(s.loc[big, 'revenue_share'])} of revenue). "
            )
        risky = [x for x in ("at risk", "can't lose them", "about to sleep") if x in buyers.index]
        if risky:
            sh = float(s.loc[risky, "share"].sum())
            rs = float(s.loc[risky, "revenue_share"].sum())
            text += (
                f"{_pct(sh)} of customers ({' / '.join(risky)}) used to buy but are fading and hold "
                f"{_pct(rs)} of past revenue: the win-back target. "
            )
        if NO_PURCHASE in s.index and s.loc[NO_PURCHASE, "customers"] > 0:
            text += f"{_pct(s.loc[NO_PURCHASE, 'share'])} of customers have not purchased yet."
        unused = {k: v for k, v in self.unused_levels.items() if v}
        if unused:
            text += (
                " Heavy ties leave score levels unused ("
                + "; ".join(f"{k.upper()}: {', '.join(map(str, v))}" for k, v in unused.items())
                + ")."
            )
        return text.strip()

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the r x f grid: buyers per cell, annotated with segment name and count.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(1.5 * self.bins + 2, 1.1 * self.bins + 1))
        counts = self.grid_counts()
        g = self.grid
        names: dict[tuple[int, int], str] = {}
        for (r, f), sub in g.groupby(["r", "f"]):
            segs = sub["segment"].dropna().unique()
            names[(int(r), int(f))] = segs[0] if len(segs) == 1 else ("mixed" if len(segs) else "-")
        labels = np.array(
            [[f"{names.get((r, f), '')}\n{counts.loc[r, f]:,}" for f in counts.columns] for r in counts.index],
            dtype=object,
        )
        sns.heatmap(counts, annot=labels, fmt="", cmap="Blues", cbar_kws={"label": "customers"}, ax=ax,
                    annot_kws={"fontsize": 7}, linewidths=0.5)
        ax.set_xlabel("frequency score f")
        ax.set_ylabel("recency score r (5 = most recent)")
        ax.set_title(f"RFM segments on the r x f grid ({self.n_buyers:,} buyers)")
        return ax

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        n_seg = int((self.summary()["customers"] > 0).sum())
        return (
            f"RFMResult(method={self.method!r}, bins={self.bins}, customers={len(self.table):,}, "
            f"buyers={self.n_buyers:,}, segments={n_seg})"
        )


def _thresholds(values: np.ndarray, thresholds: Sequence[float], bins: int, *, invert: bool, key: str) -> np.ndarray:
    t = np.asarray(list(thresholds), dtype=float)
    if len(t) != bins - 1:
        raise AnalysisError(
            f"{key} needs {bins - 1} thresholds for bins: {bins} (got {len(t)}: {list(thresholds)}); fix {key}"
        )
    if np.any(np.diff(t) <= 0):
        raise AnalysisError(f"{key} must be strictly ascending; got {list(thresholds)}; fix {key}")
    if invert:  # recency: value <= t[0] -> bins (most recent), ..., value > t[-1] -> 1
        return (bins - np.searchsorted(t, values, side="left")).astype(np.int64)
    return (1 + np.searchsorted(t, values, side="right")).astype(np.int64)


def rfm_scores(features: pd.DataFrame, *, params: RFMParams) -> RFMResult:
    """RFM scores (recency, frequency, monetary) and named segments.

    R is ``recency_days`` (inverted: the most recent buyers get the highest score), F is
    ``n_orders``, M is ``monetary_sum``. Only customers with at least one order are scored;
    customers without orders get segment ``"no purchase"`` and missing scores.

    **Quantile method and ties.** Each value is scored by its rank percentile among buyers, with
    tied values sharing their average rank: ``score = 1 + floor(bins * (pct - 1e-9))``, clipped to
    1..bins. Equal values therefore always get equal scores and no score is ever missing, however
    heavy the ties. The price is that when one value dominates some levels stay unused: if 80 % of
    buyers bought once they all sit at the 40th percentile and get F = 3, and F = 1, 2 are never
    given. Unused levels are reported in ``.metrics()["unused_levels"]`` (and, for this method,
    warned about); use ``method: thresholds`` to fix the cut points yourself.

    **Thresholds method.** ``bins - 1`` ascending thresholds per dimension: for F and M a value
    below the first threshold scores 1, at or above the last scores ``bins``; for recency (days) a
    value at or below the first threshold scores ``bins``, above the last scores 1.

    **Segments.** The map (``params.segment_map``, default :data:`DEFAULT_SEGMENT_MAP`) is name ->
    rule on ``r``, ``f``, ``m`` evaluated with :meth:`pandas.DataFrame.eval`, in map order; the
    first matching rule wins.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features with ``customer_id``, ``recency_days``, ``n_orders``,
        ``monetary_sum``.
    params : RFMParams
        ``analyses.segmentation.rfm``.

    Returns
    -------
    RFMResult

    Raises
    ------
    AnalysisError
        Missing columns, no buyer, bad thresholds, a rule that cannot be evaluated, or a map that
        leaves buyers without a segment (how many, example cells, the params key).

    Warns
    -----
    StatisticalWarning
        Overlapping rules (cells listed; first match wins) or unused score levels.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": list("abcd"), "recency_days": [5.0, 40, 200, None],
    ...                   "n_orders": [6, 2, 1, 0], "monetary_sum": [900.0, 150, 40, 0]})
    >>> r = rfm_scores(f, params=RFMParams(bins=3, segment_map={"best": "r == 3", "rest": "r < 3"}))
    >>> r.to_frame()["segment"].astype(str).tolist()
    ['best', 'rest', 'rest', 'no purchase']
    """
    _need_columns(features, ["customer_id", "recency_days", "n_orders", "monetary_sum"], what="RFM scores")
    _check_unique_ids(features, what="RFM scores")
    bins = int(params.bins)
    n_orders = pd.to_numeric(features["n_orders"], errors="coerce").fillna(0)
    buyer = (n_orders >= 1).to_numpy()
    if not buyer.any():
        raise AnalysisError(f"RFM scores: none of the {len(features):,} customers has an order up to the as-of date")
    b = features.loc[buyer]
    rec = pd.to_numeric(b["recency_days"], errors="coerce")
    if rec.isna().any():
        raise AnalysisError(
            f"RFM scores: {int(rec.isna().sum()):,} buyers have no recency_days "
            f"(e.g. {', '.join(map(repr, b.loc[rec.isna(), 'customer_id'].head(3)))}); rebuild the features"
        )
    freq = n_orders[buyer].astype(float)
    mon = pd.to_numeric(b["monetary_sum"], errors="coerce").fillna(0.0)
    if params.method == "quantile":
        r = _rank_scores(rec, bins, invert=True)
        f = _rank_scores(freq, bins)
        m = _rank_scores(mon, bins)
    else:
        missing = [
            f"analyses.segmentation.rfm.{k}"
            for k in ("recency_thresholds", "frequency_thresholds", "monetary_thresholds")
            if getattr(params, k) is None
        ]
        if missing:
            raise AnalysisError(
                f"RFM method 'thresholds' needs thresholds for R, F and M; missing: {', '.join(missing)} "
                "(or set analyses.segmentation.rfm.method: quantile)"
            )
        r = _thresholds(rec.to_numpy(float), params.recency_thresholds, bins, invert=True,
                        key="analyses.segmentation.rfm.recency_thresholds")
        f = _thresholds(freq.to_numpy(float), params.frequency_thresholds, bins, invert=False,
                        key="analyses.segmentation.rfm.frequency_thresholds")
        m = _thresholds(mon.to_numpy(float), params.monetary_thresholds, bins, invert=False,
                        key="analyses.segmentation.rfm.monetary_thresholds")
    levels = set(range(1, bins + 1))
    unused = {k: sorted(levels - set(np.unique(v).tolist())) for k, v in (("r", r), ("f", f), ("m", m))}

    default = params.segment_map is None
    smap = dict(DEFAULT_SEGMENT_MAP if default else params.segment_map)
    grid = check_segment_map(None if default else smap, bins=bins)
    dims = [d for d in ("r", "f", "m") if d in grid.columns]
    # cell index of each buyer in the grid (grid is in lexicographic order of dims)
    code = np.zeros(len(r), dtype=np.int64)
    for d, v in zip(("r", "f", "m"), (r, f, m), strict=True):
        if d in dims:
            code = code * bins + (v - 1)
    seg_of_cell = grid["segment"].to_numpy(dtype=object)
    seg = seg_of_cell[code]
    unassigned = pd.isna(seg)
    if unassigned.any():
        cells = grid.loc[grid["segment"].isna()]
        cells = cells[cells.index.isin(np.unique(code[unassigned]))]
        ex = ", ".join(
            "(" + ", ".join(f"{d}={int(row[d])}" for d in dims) + ")" for _, row in cells.head(5).iterrows()
        )
        raise AnalysisError(
            f"the segment map leaves {int(unassigned.sum()):,} of {len(r):,} buyers without a segment, "
            f"in {len(cells)} score cell(s), e.g. {ex}; add rules covering them (or a catch-all last rule "
            f"like 'r >= 1') in {_SEGMAP_KEY}"
        )
    overlaps = grid.loc[grid["n_matches"] > 1].reset_index(drop=True)
    if len(overlaps):
        ex = "; ".join(
            "(" + ", ".join(f"{d}={int(row[d])}" for d in dims) + f"): {row['matches']}"
            for _, row in overlaps.head(5).iterrows()
        )
        warnings.warn(
            f"segment rules overlap in {len(overlaps)} of {len(grid)} score cells, e.g. {ex}; the first "
            f"rule in map order wins. Make the rules exclusive in {_SEGMAP_KEY} to silence this",
            StatisticalWarning,
            stacklevel=2,
        )
    if params.method == "quantile" and any(unused.values()):
        which = "; ".join(f"{k.upper()} levels {v}" for k, v in unused.items() if v)
        warnings.warn(
            f"RFM {params.method} scores: no buyer got {which} (heavy ties: equal values share one "
            "score). Segments on those levels stay empty; set analyses.segmentation.rfm.method: "
            "thresholds with your own cut points if that matters",
            StatisticalWarning,
            stacklevel=2,
        )

    n = len(features)

    def _full(v: np.ndarray) -> pd.array:
        out = np.zeros(n, dtype=np.int64)
        out[buyer] = v
        arr = pd.array(out, dtype="Int64")
        arr[~buyer] = pd.NA
        return arr

    cats = [*smap, NO_PURCHASE] if NO_PURCHASE not in smap else list(smap)
    segment = np.full(n, NO_PURCHASE, dtype=object)
    segment[buyer] = seg
    table = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "recency_days": pd.to_numeric(features["recency_days"], errors="coerce").to_numpy(float),
            "n_orders": n_orders.to_numpy(),
            "monetary_sum": pd.to_numeric(features["monetary_sum"], errors="coerce").fillna(0.0).to_numpy(float),
            "r": _full(r),
            "f": _full(f),
            "m": _full(m),
        }
    )
    sep = "" if bins < 10 else "-"
    cell = np.full(n, None, dtype=object)
    cell[buyer] = [f"{a}{sep}{b}{sep}{c}" for a, b, c in zip(r, f, m, strict=True)]
    table["rfm_cell"] = pd.array(cell, dtype="string")
    table["rfm_score"] = table["r"] + table["f"] + table["m"]
    table["segment"] = pd.Categorical(segment, categories=cats)
    return RFMResult(
        table=table,
        segment_map=smap,
        default_map=default,
        bins=bins,
        method=params.method,
        unused_levels=unused,
        overlaps=overlaps,
        grid=grid,
    )


# ============================================================================================
# 3. Migration
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class MigrationResult:
    """How customers moved between RFM segments from one as-of date to another
    (see :func:`rfm_migration`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer at ``to_date``: ``customer_id``, ``from_segment``, ``to_segment``.
    counts : pandas.DataFrame
        From-segment (rows, including ``"not yet a customer"`` and ``"no purchase"``) x
        to-segment (columns) customer counts.
    shares : pandas.DataFrame
        The same, as shares of each row.
    from_date, to_date : pandas.Timestamp
    from_rfm, to_rfm : RFMResult
        The two RFM results.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    shares: pd.DataFrame
    from_date: pd.Timestamp
    to_date: pd.Timestamp
    from_rfm: RFMResult
    to_rfm: RFMResult

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``customer_id``, ``from_segment``, ``to_segment``."""
        return self.table.copy()

    def matrix(self, *, normalize: bool = False) -> pd.DataFrame:
        """From x to matrix of counts, or row shares with ``normalize=True``."""
        return (self.shares if normalize else self.counts).copy()

    def summary(self) -> pd.DataFrame:
        """One row per from-segment: ``from_segment``, ``customers``, ``stayed``,
        ``stayed_share``, ``main_destination`` (largest other to-segment) and its
        ``main_destination_share``."""
        rows = []
        for seg in self.counts.index:
            row = self.counts.loc[seg]
            n = int(row.sum())
            stayed = int(row.get(seg, 0))
            others = row.drop(labels=[seg], errors="ignore")
            dest = others.idxmax() if len(others) and others.max() > 0 else None
            rows.append(
                {
                    "from_segment": seg,
                    "customers": n,
                    "stayed": stayed if seg in row.index else 0,
                    "stayed_share": stayed / n if n and seg in row.index else np.nan,
                    "main_destination": dest,
                    "main_destination_share": int(others.max()) / n if n and dest is not None else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, Any]:
        """Counts matrix and the share of earlier buyers keeping their segment (JSON-able)."""
        from_buyers = self.table[~self.table["from_segment"].isin([NOT_YET_CUSTOMER, NO_PURCHASE])]
        same = (from_buyers["from_segment"].astype(str) == from_buyers["to_segment"].astype(str)).mean()
        return {
            "from_date": str(self.from_date.date()),
            "to_date": str(self.to_date.date()),
            "n_customers": len(self.table),
            "n_new": int((self.table["from_segment"] == NOT_YET_CUSTOMER).sum()),
            "stayed_share_of_buyers": _num(same) if len(from_buyers) else None,
            "counts": {
                str(i): {str(c): int(v) for c, v in row.items() if v} for i, row in self.counts.iterrows()
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """Plain-language movement of the best segment and of newcomers."""
        s = self.summary().set_index("from_segment")
        order = [x for x in self.from_rfm.segment_map if x in s.index and s.loc[x, "customers"] > 0]
        parts = []
        if order:
            seg = order[0]
            n = int(s.loc[seg, "customers"])
            row = self.shares.loc[seg].drop(labels=[seg], errors="ignore").sort_values(ascending=False)
            txt = f"Of last period's {n:,} {seg}, {_pct(s.loc[seg, 'stayed_share'])} are still {seg}"
            moves = [f"{_pct(v)} moved to {k}" for k, v in row.head(2).items() if v > 0]
            parts.append(txt + (", " + ", ".join(moves) if moves else "") + ".")
        if NOT_YET_CUSTOMER in s.index and s.loc[NOT_YET_CUSTOMER, "customers"] > 0:
            n = int(s.loc[NOT_YET_CUSTOMER, "customers"])
            dest = s.loc[NOT_YET_CUSTOMER, "main_destination"]
            parts.append(
                f"{n:,} customers joined since {self.from_date.date()}; most of them are now '{dest}' "
                f"({_pct(s.loc[NOT_YET_CUSTOMER, 'main_destination_share'])})."
            )
        m = self.metrics()["stayed_share_of_buyers"]
        if m is not None:
            parts.append(f"Overall {_pct(m)} of earlier buyers kept their segment.")
        if self.from_rfm.method == "quantile":
            parts.append("Quantile scores are relative to each date's base, so moves are relative too.")
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the row shares (from-segment rows, to-segment columns), annotated in %.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        sh = self.shares
        if ax is None:
            _, ax = plt.subplots(figsize=(1.0 * sh.shape[1] + 3, 0.5 * sh.shape[0] + 2))
        sns.heatmap(100 * sh, annot=True, fmt=".0f", cmap="Blues", vmin=0, vmax=100, ax=ax,
                    cbar_kws={"label": "% of row"}, annot_kws={"fontsize": 7}, linewidths=0.5)
        ax.set_xlabel(f"segment on {self.to_date.date()}")
        ax.set_ylabel(f"segment on {self.from_date.date()}")
        ax.set_title("RFM segment migration (% of each row)")
        return ax

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        return (
            f"MigrationResult({self.from_date.date()} -> {self.to_date.date()}, customers={len(self.table):,}, "
            f"segments={self.counts.shape[0]}x{self.counts.shape[1]})"
        )


def rfm_migration(
    orders: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    from_date: Any,
    to_date: Any,
    params: RFMParams,
    con: Any = None,
) -> MigrationResult:
    """RFM segments at two as-of dates and the from x to migration matrix.

    Features are built twice with :func:`workbench.data.features.customer_features` (at ``from_date``
    and at ``to_date``) and scored with :func:`rfm_scores` each time. Customers in the later base
    but not in the earlier one are ``"not yet a customer"`` at ``from_date`` (signed up, or first
    bought, in between); customers without a purchase are ``"no purchase"``. With the quantile
    method scores are relative to each date's base; use thresholds for absolute moves.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical cleaned orders.
    customers : pandas.DataFrame, optional
        Canonical customers (adds customers without purchases).
    from_date, to_date : date-like
        Earlier and later as-of dates (``analyses.segmentation.rfm.migration_from`` and
        ``as_of``).
    params : RFMParams
        ``analyses.segmentation.rfm``.
    con : Ibis backend, optional
        Engine passed to :func:`~workbench.data.features.customer_features`.

    Returns
    -------
    MigrationResult

    Raises
    ------
    AnalysisError
        ``from_date`` not before ``to_date``, or any :func:`rfm_scores` error.
    """
    from workbench.data.features import customer_features

    t0, t1 = pd.Timestamp(from_date).normalize(), pd.Timestamp(to_date).normalize()
    if not t0 < t1:
        raise AnalysisError(
            f"migration needs from_date before to_date; got {t0.date()} and {t1.date()}; "
            "fix analyses.segmentation.rfm.migration_from"
        )
    f0 = customer_features(orders, as_of=t0, customers=customers, con=con)
    f1 = customer_features(orders, as_of=t1, customers=customers, con=con)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if (f0["n_orders"] > 0).any():
            r0 = rfm_scores(f0, params=params)
        else:
            raise AnalysisError(
                f"migration: no customer has purchased by from_date {t0.date()}; "
                "choose a later analyses.segmentation.rfm.migration_from"
            )
        r1 = rfm_scores(f1, params=params)
    seen: set[str] = set()
    for w in caught:  # each caveat once, not once per date
        if str(w.message) not in seen:
            seen.add(str(w.message))
            warnings.warn(w.message, w.category, stacklevel=2)
    s0 = r0.segments().astype(object)
    s1 = r1.segments().astype(object)
    from_seg = s0.reindex(s1.index).fillna(NOT_YET_CUSTOMER)
    table = pd.DataFrame(
        {"customer_id": s1.index.to_numpy(), "from_segment": from_seg.to_numpy(), "to_segment": s1.to_numpy()}
    )
    names = list(r1.segment_map)
    row_order = [NOT_YET_CUSTOMER, NO_PURCHASE, *names]
    col_order = [NO_PURCHASE, *names]
    counts = pd.crosstab(table["from_segment"], table["to_segment"])
    rows = [x for x in row_order if x in counts.index]
    cols = [x for x in col_order if x in counts.columns]
    counts = counts.reindex(index=rows, columns=cols, fill_value=0)
    counts.index.name, counts.columns.name = "from_segment", "to_segment"
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    table["from_segment"] = pd.Categorical(table["from_segment"], categories=row_order)
    table["to_segment"] = pd.Categorical(table["to_segment"], categories=col_order)
    return MigrationResult(table=table, counts=counts, shares=shares, from_date=t0, to_date=t1,
                           from_rfm=r0, to_rfm=r1)


# ============================================================================================
# 4. Clustering
# ============================================================================================


def adjusted_rand(labels: Any, truth: Any) -> float:
    """Adjusted Rand index between two labelings (1 = identical partitions, about 0 = chance).

    Parameters
    ----------
    labels, truth : array-like or pandas.Series
        Two Series are aligned on their index (e.g. both indexed by ``customer_id``); arrays
        must have the same length. Pairs with a missing value are dropped.

    Returns
    -------
    float

    Raises
    ------
    AnalysisError
        Fewer than 2 labelled pairs.

    Examples
    --------
    >>> adjusted_rand([0, 0, 1, 1], ["a", "a", "b", "b"])
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    if isinstance(labels, pd.Series) and isinstance(truth, pd.Series):
        a, b = labels.align(truth, join="inner")
    else:
        a, b = pd.Series(np.asarray(labels)), pd.Series(np.asarray(truth))
        if len(a) != len(b):
            raise AnalysisError(f"adjusted_rand: labels ({len(a):,}) and truth ({len(b):,}) differ in length")
    ok = a.notna().to_numpy() & b.notna().to_numpy()
    if ok.sum() < 2:
        raise AnalysisError(f"adjusted_rand: only {int(ok.sum())} labelled pairs to compare")
    return float(adjusted_rand_score(b[ok].astype(str).to_numpy(), a[ok].astype(str).to_numpy()))


def _make_model(method: str, k: int, seed: int) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=10, random_state=seed)
    return GaussianMixture(n_components=k, covariance_type="full", reg_covar=GMM_REG_COVAR, random_state=seed)


def _fit(method: str, k: int, seed: int, X: np.ndarray, notes: list[str]) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        model = _make_model(method, k, seed).fit(X)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append(f"{method} k={k} did not converge")
    return model


@dataclass(frozen=True, eq=False, repr=False)
class ClusterResult:
    """Customer clusters (see :func:`cluster_customers`).

    Attributes
    ----------
    labels : pandas.DataFrame
        One row per customer of the input: ``customer_id``, ``cluster`` (1..k, 1 = largest; missing
        when not clustered), ``cluster_name``, and ``cluster_<method>`` for every method fitted.
    profiles : pandas.DataFrame
        One row per cluster of the chosen method: ``cluster``, ``cluster_name``, ``customers``,
        ``share``, ``revenue_share``, ``mean_<feature>`` (original units) and ``smd_<feature>``
        (standardized mean difference from the whole base, in the transformed units the
        clustering saw).
    selection : pandas.DataFrame
        One row per method and k: ``method``, ``k``, ``silhouette``, ``bic`` (GMM), ``inertia``
        (k-means), ``chosen``.
    method : str
        The chosen method (highest silhouette of its chosen solution).
    k : dict
        Chosen k per method.
    silhouette : dict
        Silhouette of the chosen solution per method (same seeded sample for all).
    stability : pandas.DataFrame
        Bootstrap adjusted Rand index per method and resample (``method``, ``draw``, ``ari``).
    features : tuple of str
    logged : tuple of str
        Features that were log1p-transformed.
    center, scale : dict
        Mean and standard deviation (transformed units) used to standardize.
    models : dict
        Fitted estimators per method (sklearn).
    label_maps : dict
        Per method, estimator label -> cluster number (1 = largest).
    names : dict
        Per method, cluster number -> descriptive name.
    projection : pandas.DataFrame
        Seeded sample for the PCA plot: ``pc1``, ``pc2``, ``cluster``, ``cluster_name``.
    explained_variance : tuple of float
        Variance share of the two principal components.
    n_total, n_clustered, n_fit : int
        Input rows, rows with complete features, rows of the k-search sample.
    random_state : int or None
    notes : tuple of str
        Convergence notes.
    seconds : dict
        Wall time per step.
    """

    labels: pd.DataFrame
    profiles: pd.DataFrame
    selection: pd.DataFrame
    method: str
    k: dict[str, int]
    silhouette: dict[str, float]
    stability: pd.DataFrame
    features: tuple[str, ...]
    logged: tuple[str, ...]
    center: dict[str, float]
    scale: dict[str, float]
    models: dict[str, Any]
    label_maps: dict[str, dict[int, int]]
    names: dict[str, dict[int, str]]
    projection: pd.DataFrame
    explained_variance: tuple[float, float]
    n_total: int
    n_clustered: int
    n_fit: int
    random_state: int | None
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """k of the chosen method."""
        return int(self.k[self.method])

    def stability_mean(self, method: str | None = None) -> float:
        """Mean bootstrap ARI of a method (default: the chosen one); NaN without bootstrap."""
        s = self.stability[self.stability["method"] == (method or self.method)]["ari"]
        return float(s.mean()) if len(s) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``customer_id``, ``cluster``, ``cluster_name``, ``cluster_<method>``."""
        return self.labels.copy()

    def segments(self) -> pd.Series:
        """Cluster name per customer, indexed by ``customer_id`` (missing when not clustered)."""
        return self.labels.set_index("customer_id")["cluster_name"].rename("segment")

    def summary(self) -> pd.DataFrame:
        """Cluster profiles: size, share, revenue share, feature means and SMDs."""
        return self.profiles.copy()

    def predict(self, features: pd.DataFrame, *, method: str | None = None) -> pd.Series:
        """Assign customers of another feature table to these clusters.

        Parameters
        ----------
        features : pandas.DataFrame
            Features with ``customer_id`` and the clustering features.
        method : str, optional
            Fitted method to use (default: the chosen one).

        Returns
        -------
        pandas.Series
            Cluster number (Int64) indexed by ``customer_id``; missing where a feature is missing.
        """
        method = method or self.method
        _need_columns(features, ["customer_id", *self.features], what="cluster assignment",
                      key=f"{_CLUSTER_KEY}.features")
        X, ok = _transform(features, self.features, self.logged, self.center, self.scale)
        out = pd.array(np.zeros(len(features), dtype=np.int64), dtype="Int64")
        out[~ok] = pd.NA
        if ok.any():
            raw = self.models[method].predict(X[ok])
            out[ok] = np.vectorize(self.label_maps[method].get)(raw)
        return pd.Series(out, index=features["customer_id"].to_numpy(), name="cluster")

    def metrics(self) -> dict[str, Any]:
        """Chosen method and k, silhouettes, stability, cluster sizes (JSON-able)."""
        return {
            "method": self.method,
            "k": {m: int(v) for m, v in self.k.items()},
            "silhouette": {m: _num(v) for m, v in self.silhouette.items()},
            "stability_ari": {m: _num(self.stability_mean(m)) for m in self.k},
            "features": list(self.features),
            "logged": list(self.logged),
            "n_total": int(self.n_total),
            "n_clustered": int(self.n_clustered),
            "n_fit": int(self.n_fit),
            "random_state": self.random_state,
            "clusters": {
                str(row.cluster_name): {"customers": int(row.customers), "share": _num(row.share),
                                        "revenue_share": _num(row.revenue_share)}
                for row in self.profiles.itertuples()
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """What the clusters are and how much to trust them."""
        p = self.profiles
        stab = self.stability_mean()
        text = (
            f"Customers fall into {self.n_clusters} groups ({self.method}, silhouette "
            f"{self.silhouette[self.method]:.2f}"
            + (f", bootstrap stability ARI {stab:.2f}" if math.isfinite(stab) else "")
            + "). "
        )
        big = p.iloc[p["customers"].argmax()]
        text += (
            f"The largest, '{big.cluster_name}', holds {_pct(big.share)} of customers and "
            f"{_pct(big.revenue_share)} of revenue. "
        )
        if p["revenue_share"].notna().any():
            rich = p.iloc[p["revenue_share"].fillna(-1).argmax()]
            if rich.cluster != big.cluster:
                text += (
                    f"'{rich.cluster_name}' is {_pct(rich.share)} of customers but brings "
                    f"{_pct(rich.revenue_share)} of revenue. "
                )
        if math.isfinite(stab) and stab < 0.6:
            text += "The split changes a lot between resamples: treat the clusters as descriptive, not as fixed groups."
        elif self.silhouette[self.method] < 0.25:
            text += "Clusters overlap (low silhouette): boundaries between them are soft."
        return text.strip()

    def plot(self, ax: Any = None) -> Any:
        """2-D PCA projection of a seeded sample, coloured by cluster.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 5))
        pr = self.projection
        order = list(self.profiles["cluster_name"])
        sns.scatterplot(data=pr, x="pc1", y="pc2", hue="cluster_name", hue_order=order, s=8, alpha=0.5,
                        linewidth=0, ax=ax)
        ev = self.explained_variance
        ax.set_xlabel(f"PC1 ({ev[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({ev[1]:.0%} of variance)")
        ax.set_title(f"Clusters ({self.method}, k={self.n_clusters}) in the first two principal components")
        ax.legend(title="cluster", fontsize=7, title_fontsize=8, markerscale=2, loc="best")
        return ax

    def plot_k_selection(self) -> Any:
        """Silhouette (both methods) and BIC (GMM) against k, chosen k marked.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        sel = self.selection
        sns.lineplot(data=sel, x="k", y="silhouette", hue="method", marker="o", ax=axes[0])
        axes[0].set_title("silhouette (higher is better; k-means picks by it)")
        g = sel[sel["method"] == "gmm"]
        if len(g):
            sns.lineplot(data=g, x="k", y="bic", marker="o", ax=axes[1], color=sns.color_palette()[1])
            axes[1].axvline(self.k["gmm"], color="grey", ls=":")
        else:
            axes[1].text(0.5, 0.5, "GMM not fitted", ha="center", va="center", transform=axes[1].transAxes)
        axes[1].set_title("GMM BIC (lower is better)")
        if "kmeans" in self.k:
            axes[0].axvline(self.k["kmeans"], color="grey", ls=":")
        for a in axes:
            a.xaxis.get_major_locator().set_params(integer=True)
        fig.tight_layout()
        return fig

    def plot_profiles(self, ax: Any = None) -> Any:
        """Heatmap of standardized mean differences (cluster x feature).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        smd = self.profiles.set_index("cluster_name")[[f"smd_{c}" for c in self.features]]
        smd.columns = list(self.features)
        if ax is None:
            _, ax = plt.subplots(figsize=(1.3 * len(self.features) + 3, 0.5 * len(smd) + 1.5))
        sns.heatmap(smd, annot=True, fmt=".2f", cmap="RdBu_r", center=0, ax=ax, annot_kws={"fontsize": 7})
        ax.set_ylabel("")
        ax.set_title("standardized mean difference from the base")
        return ax

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        return (
            f"ClusterResult(method={self.method!r}, k={self.n_clusters}, customers={self.n_clustered:,}, "
            f"silhouette={self.silhouette[self.method]:.3f}, stability={self.stability_mean():.2f})"
        )


def _transform(
    features: pd.DataFrame,
    cols: Sequence[str],
    logged: Sequence[str],
    center: Mapping[str, float],
    scale: Mapping[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    X = np.column_stack([pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=float) for c in cols])
    ok = np.isfinite(X).all(axis=1)
    for j, c in enumerate(cols):
        if c in logged:
            X[:, j] = np.log1p(np.clip(X[:, j], 0, None))
        X[:, j] = (X[:, j] - center[c]) / scale[c]
    return X, ok


def _cluster_name(smd: pd.Series, used: set[str]) -> str:
    order = smd.abs().sort_values(ascending=False, kind="stable").index
    parts = [f"{'high' if smd[c] > 0 else 'low'} {c}" for c in order[:2]]
    name = " · ".join(parts)
    i = 2
    while name in used and i < len(order):  # add the next feature until unique
        c = order[i]
        name += f" · {'high' if smd[c] > 0 else 'low'} {c}"
        i += 1
    base, j = name, 2
    while name in used:
        name = f"{base} ({j})"
        j += 1
    return name


def cluster_customers(
    features: pd.DataFrame,
    *,
    params: ClusteringParams,
    random_state: int | None,
    fit_sample: int = 200_000,
) -> ClusterResult:
    """Cluster customers on their features with k-means and a Gaussian mixture.

    Steps: select ``params.features``; leave out rows with a missing or infinite value (warned,
    cluster missing); log1p features that are non-negative and skewed (``|skew| > 1``) when
    ``log_transform="auto"`` (``"all"``: every non-negative feature; ``"none"``); standardize
    (mean 0, sd 1 over the clustered rows). For each k in ``k_min..k_max`` (only ``params.k``
    when given) fit KMeans (``n_init=10``) and a full-covariance GaussianMixture (variance floor
    :data:`GMM_REG_COVAR`) on a seeded sample of at most ``fit_sample`` rows, silhouette on a
    seeded sample of ``params.silhouette_sample`` of those, BIC for the mixture. k-means takes the
    k with the best silhouette, the mixture the lowest BIC. The chosen method is the one whose
    chosen solution has the higher silhouette (ties: order of ``params.methods``). All rows are
    then assigned by the fitted models; clusters are numbered 1..k by size.

    Stability: ``params.bootstrap`` resamples (with replacement) of a seeded base sample of at
    most :data:`STABILITY_SAMPLE` rows; each is refit at the chosen k and its labels on the
    original base points are compared with the chosen solution's by the adjusted Rand index.

    Profiles: per cluster size, share, revenue share (``monetary_sum`` when present), each
    feature's mean and standardized mean difference (mean of the standardized, transformed
    feature; 0 = like the base). The name joins the two most distinctive features
    (largest ``|SMD|``), e.g. ``"high monetary_mean · low recency_days"``.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features (``customer_id`` and the clustering features), usually buyers only.
    params : ClusteringParams
        ``analyses.segmentation.clustering``.
    random_state : int or None
        Seed of every sample and fit (the params ``seed``).
    fit_sample : int, default 200_000
        Rows used for the k search; larger bases are assigned with the fitted models.

    Returns
    -------
    ClusterResult

    Raises
    ------
    AnalysisError
        Missing or non-numeric features, a constant feature, ``k_min > k_max``, or fewer
        complete rows than needed (all naming the params key).

    Warns
    -----
    StatisticalWarning
        Rows left out for missing values; models that did not converge.
    """
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score

    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    cols = list(dict.fromkeys(params.features))
    key = f"{_CLUSTER_KEY}.features"
    if not cols:
        raise AnalysisError(f"no clustering features given; fix {key}")
    _need_columns(features, ["customer_id", *cols], what="clustering", key=key)
    non_num = [c for c in cols if not (pd.api.types.is_numeric_dtype(features[c]) or pd.api.types.is_bool_dtype(features[c]))]
    if non_num:
        raise AnalysisError(
            f"clustering features must be numeric; {', '.join(non_num)} are not "
            f"({', '.join(str(features[c].dtype) for c in non_num)}); fix {key}"
        )
    methods = list(dict.fromkeys(params.methods))
    if not methods:
        raise AnalysisError(f"no clustering method; fix {_CLUSTER_KEY}.methods (kmeans, gmm)")
    if params.k is None and params.k_min > params.k_max:
        raise AnalysisError(
            f"k_min ({params.k_min}) is larger than k_max ({params.k_max}); fix {_CLUSTER_KEY}.k_max"
        )
    ks = [int(params.k)] if params.k is not None else list(range(params.k_min, params.k_max + 1))
    raw = np.column_stack([pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=float) for c in cols])
    ok = np.isfinite(raw).all(axis=1)
    n_total, n_ok = len(features), int(ok.sum())
    if n_ok < n_total:
        miss = {c: int((~np.isfinite(raw[:, j])).sum()) for j, c in enumerate(cols)}
        miss_s = ", ".join(f"{c}: {v:,}" for c, v in miss.items() if v)
        warnings.warn(
            f"clustering leaves out {n_total - n_ok:,} of {n_total:,} customers with a missing value "
            f"({miss_s}); they get no cluster. Filter to buyers first or change {key}",
            StatisticalWarning,
            stacklevel=2,
        )
    need = max(max(ks) + 1, 10)
    if n_ok < need:
        raise AnalysisError(
            f"clustering needs at least {need} customers with complete features; got {n_ok:,} of {n_total:,}; "
            f"fix {key} or {_CLUSTER_KEY}.k_max"
        )
    Xr = raw[ok]
    logged: list[str] = []
    for j, c in enumerate(cols):
        col = Xr[:, j]
        nonneg = bool(col.min() >= 0)
        if params.log_transform == "all" and nonneg:
            logged.append(c)
        elif params.log_transform == "auto" and nonneg and abs(float(pd.Series(col).skew())) > 1:
            logged.append(c)
    X = Xr.copy()
    for j, c in enumerate(cols):
        if c in logged:
            X[:, j] = np.log1p(X[:, j])
    center = X.mean(axis=0)
    scale = X.std(axis=0)
    const = [c for j, c in enumerate(cols) if not scale[j] > 1e-12]
    if const:
        raise AnalysisError(f"clustering feature(s) {', '.join(const)} are constant over the customers; fix {key}")
    X = (X - center) / scale
    seeds = seed_ints(random_state, 6)
    rng_fit, rng_sil, rng_boot, rng_proj = (np.random.default_rng(s) for s in seeds[:4])
    model_seed = seeds[4]
    if n_ok > fit_sample:
        fit_idx = np.sort(rng_fit.choice(n_ok, size=int(fit_sample), replace=False))
        Xf = X[fit_idx]
    else:
        Xf = X
    n_fit = len(Xf)
    sil_idx = np.sort(rng_sil.choice(n_fit, size=min(int(params.silhouette_sample), n_fit), replace=False))
    Xs = Xf[sil_idx]
    seconds["prepare"] = time.perf_counter() - t_start

    notes: list[str] = []
    rows = []
    fitted: dict[tuple[str, int], Any] = {}
    t0 = time.perf_counter()
    for method in methods:
        for k in ks:
            model = _fit(method, k, model_seed, Xf, notes)
            fitted[(method, k)] = model
            lab = model.predict(Xs)
            sil = float(silhouette_score(Xs, lab)) if len(np.unique(lab)) > 1 else float("nan")
            rows.append(
                {
                    "method": method,
                    "k": k,
                    "silhouette": sil,
                    "bic": float(model.bic(Xf)) if method == "gmm" else np.nan,
                    "inertia": float(model.inertia_) if method == "kmeans" else np.nan,
                }
            )
        seconds[f"k_search_{method}"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    selection = pd.DataFrame(rows)
    chosen_k: dict[str, int] = {}
    for method in methods:
        sel = selection[selection["method"] == method]
        if len(ks) == 1:
            chosen_k[method] = ks[0]
        elif method == "kmeans":
            chosen_k[method] = int(sel.loc[sel["silhouette"].fillna(-2).idxmax(), "k"])
        else:
            chosen_k[method] = int(sel.loc[sel["bic"].idxmin(), "k"])
    selection["chosen"] = [chosen_k[m] == k for m, k in zip(selection["method"], selection["k"], strict=True)]
    sil_chosen = {
        m: float(selection.loc[(selection["method"] == m) & (selection["k"] == chosen_k[m]), "silhouette"].iloc[0])
        for m in methods
    }
    best = max(methods, key=lambda m: (np.nan_to_num(sil_chosen[m], nan=-2.0), -methods.index(m)))

    # assign everyone, number clusters by size
    t0 = time.perf_counter()
    labels = pd.DataFrame({"customer_id": features["customer_id"].to_numpy()})
    label_maps: dict[str, dict[int, int]] = {}
    assigned: dict[str, np.ndarray] = {}
    for m in methods:
        model = fitted[(m, chosen_k[m])]
        lab = model.predict(X)
        counts = np.bincount(lab, minlength=chosen_k[m])
        order = np.lexsort((np.arange(len(counts)), -counts))
        lmap = {int(old): int(new) for new, old in enumerate(order, start=1)}
        label_maps[m] = lmap
        num = np.vectorize(lmap.get, otypes=[np.int64])(lab)
        assigned[m] = num
        col = pd.array(np.zeros(n_total, dtype=np.int64), dtype="Int64")
        col[ok] = num
        col[~ok] = pd.NA
        labels[f"cluster_{m}"] = col
    seconds["assign"] = time.perf_counter() - t0

    # profiles and names per method
    t0 = time.perf_counter()
    revenue = (
        pd.to_numeric(features["monetary_sum"], errors="coerce").to_numpy(dtype=float)[ok]
        if "monetary_sum" in features.columns
        else None
    )
    names: dict[str, dict[int, str]] = {}
    profiles_by: dict[str, pd.DataFrame] = {}
    for m in methods:
        num = assigned[m]
        df = pd.DataFrame(Xr, columns=[f"mean_{c}" for c in cols])
        for j, c in enumerate(cols):
            df[f"smd_{c}"] = X[:, j]
        df["cluster"] = num
        g = df.groupby("cluster")
        prof = g.mean()
        prof.insert(0, "customers", g.size())
        prof.insert(1, "share", prof["customers"] / n_ok)
        if revenue is not None and np.nansum(revenue) > 0:
            rev = pd.Series(revenue).groupby(num).sum()
            prof.insert(2, "revenue_share", rev.reindex(prof.index).to_numpy() / np.nansum(revenue))
        else:
            prof.insert(2, "revenue_share", np.nan)
        used: set[str] = set()
        nm: dict[int, str] = {}
        for cl in prof.index:
            smd = pd.Series({c: prof.loc[cl, f"smd_{c}"] for c in cols})
            nm[int(cl)] = _cluster_name(smd, used)
            used.add(nm[int(cl)])
        names[m] = nm
        prof.insert(0, "cluster_name", [nm[int(c)] for c in prof.index])
        profiles_by[m] = prof.reset_index()
    labels["cluster"] = labels[f"cluster_{best}"]
    cname = np.full(n_total, None, dtype=object)
    cname[ok] = np.array([names[best][int(c)] for c in range(1, chosen_k[best] + 1)], dtype=object)[assigned[best] - 1]
    labels["cluster_name"] = pd.Categorical(cname, categories=[names[best][c] for c in sorted(names[best])])
    labels = labels[["customer_id", "cluster", "cluster_name", *[f"cluster_{m}" for m in methods]]]
    seconds["profiles"] = time.perf_counter() - t0

    # bootstrap stability on a seeded base sample
    t0 = time.perf_counter()
    stab_rows = []
    if params.bootstrap > 0:
        base_idx = np.sort(rng_boot.choice(n_fit, size=min(STABILITY_SAMPLE, n_fit), replace=False))
        Xb = Xf[base_idx]
        boot_seeds = seed_ints(seeds[5], int(params.bootstrap))
        from sklearn.metrics import adjusted_rand_score

        for m in methods:
            ref = fitted[(m, chosen_k[m])].predict(Xb)
            for i, s in enumerate(boot_seeds):
                rs = np.random.default_rng(s)
                idx = rs.integers(0, len(Xb), len(Xb))
                mb = _fit(m, chosen_k[m], s, Xb[idx], notes)
                stab_rows.append({"method": m, "draw": i + 1, "ari": float(adjusted_rand_score(ref, mb.predict(Xb)))})
    stability = pd.DataFrame(stab_rows, columns=["method", "draw", "ari"])
    seconds["bootstrap"] = time.perf_counter() - t0

    # projection
    t0 = time.perf_counter()
    pca = PCA(n_components=min(2, len(cols)), random_state=model_seed).fit(Xf)
    p_idx = np.sort(rng_proj.choice(n_ok, size=min(PROJECTION_SAMPLE, n_ok), replace=False))
    pcs = pca.transform(X[p_idx])
    if pcs.shape[1] == 1:
        pcs = np.column_stack([pcs[:, 0], np.zeros(len(pcs))])
    evr = list(pca.explained_variance_ratio_) + [0.0] * (2 - pca.n_components_)
    lab_p = assigned[best][p_idx]
    projection = pd.DataFrame(
        {
            "pc1": pcs[:, 0],
            "pc2": pcs[:, 1],
            "cluster": lab_p,
            "cluster_name": [names[best][int(c)] for c in lab_p],
        }
    )
    seconds["projection"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - t_start
    if notes:
        warnings.warn(
            f"clustering: {len(notes)} fit(s) did not converge (e.g. {notes[0]}); results may be fragile",
            StatisticalWarning,
            stacklevel=2,
        )
    return ClusterResult(
        labels=labels,
        profiles=profiles_by[best],
        selection=selection,
        method=best,
        k=chosen_k,
        silhouette=sil_chosen,
        stability=stability,
        features=tuple(cols),
        logged=tuple(logged),
        center={c: float(center[j]) for j, c in enumerate(cols)},
        scale={c: float(scale[j]) for j, c in enumerate(cols)},
        models={m: fitted[(m, chosen_k[m])] for m in methods},
        label_maps=label_maps,
        names=names,
        projection=projection,
        explained_variance=(float(evr[0]), float(evr[1])),
        n_total=n_total,
        n_clustered=n_ok,
        n_fit=n_fit,
        random_state=random_state,
        notes=tuple(dict.fromkeys(notes)),
        seconds=seconds,
    )


# ============================================================================================
# 5. Simple CLV formula
# ============================================================================================


def annuity_factor(expected_lifetime_years: float, discount_rate: float) -> float:
    """Sum of the discount factors of the expected lifetime (value paid at each year's end).

    ``sum_{t=1..floor(L)} (1 + d)^-t + (L - floor(L)) * (1 + d)^-ceil(L)``: whole years are
    discounted by their end, a fractional last year counts pro rata, discounted a full year. For
    whole ``L`` this is the annuity formula ``(1 - (1 + d)^-L) / d`` (``L`` when ``d = 0``).

    Parameters
    ----------
    expected_lifetime_years : float
        ``L`` > 0.
    discount_rate : float
        Annual rate ``d`` in [0, 1).

    Returns
    -------
    float

    Examples
    --------
    >>> round(annuity_factor(3, 0.10), 5)
    2.48685
    """
    L, d = float(expected_lifetime_years), float(discount_rate)
    whole = math.floor(L)
    total = sum((1 + d) ** -t for t in range(1, whole + 1))
    if L > whole:
        total += (L - whole) * (1 + d) ** -(whole + 1)
    return float(total)


def simple_clv(
    features: pd.DataFrame,
    *,
    margin: float,
    expected_lifetime_years: float,
    discount_rate: float,
    acquisition_cost: float = 0.0,
    acquisition_cost_by_channel: Mapping[str, float] | None = None,
    channel_col: str | None = None,
    min_tenure_days: float = 90.0,
) -> pd.DataFrame:
    """Customer lifetime value by the simple formula.

    ``clv = margin * aov * purchases_per_year * annuity_factor(L, d) - CAC`` where ``aov`` is the
    average order value (``monetary_sum / n_orders``), ``purchases_per_year`` is ``n_orders``
    over the tenure in years (tenure at least ``min_tenure_days``, so a customer who bought
    yesterday is not extrapolated to hundreds of orders a year) and :func:`annuity_factor` sums the
    discounted years of the expected lifetime (value at each year's end). Customers without an
    order have ``purchases_per_year = 0`` and ``clv = -CAC``. The formula assumes every customer
    keeps buying at their past pace for ``L`` years and then stops: no churn curve, no trend.

    Parameters
    ----------
    features : pandas.DataFrame
        ``customer_id``, ``n_orders``, ``monetary_sum``, ``tenure_days`` (and ``channel_col``).
    margin : float
        Gross margin on revenue in (0, 1] (``analyses.segmentation.clv.margin``).
    expected_lifetime_years : float
        ``L`` > 0 (``analyses.segmentation.clv.expected_lifetime_years``).
    discount_rate : float
        Annual ``d`` in [0, 1) (``analyses.segmentation.clv.discount_rate``).
    acquisition_cost : float, default 0
        CAC per customer, and the fallback for channels not in ``acquisition_cost_by_channel``.
    acquisition_cost_by_channel : mapping, optional
        Channel -> CAC (``analyses.segmentation.clv.acquisition_cost_by_channel``).
    channel_col : str, optional
        Column holding each customer's acquisition channel (required with
        ``acquisition_cost_by_channel``, e.g. ``acquisition_channel`` joined from customers).
    min_tenure_days : float, default 90
        Floor of the tenure used for the purchase rate.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id``, ``n_orders``, ``aov``, ``purchases_per_year``,
        ``annual_margin``, ``annuity_factor``, ``gross_clv``, ``cac``, ``clv``.

    Raises
    ------
    AnalysisError
        Missing columns or out-of-range options (naming the params key).

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a"], "n_orders": [4], "monetary_sum": [400.0],
    ...                   "tenure_days": [730.5]})
    >>> round(float(simple_clv(f, margin=0.5, expected_lifetime_years=1, discount_rate=0)["clv"][0]), 2)
    100.0
    """
    key = "analyses.segmentation.clv"
    if not 0 < margin <= 1:
        raise AnalysisError(f"margin must be in (0, 1]; got {margin}; fix {key}.margin")
    if not expected_lifetime_years > 0:
        raise AnalysisError(
            f"expected_lifetime_years must be > 0; got {expected_lifetime_years}; fix {key}.expected_lifetime_years"
        )
    if not 0 <= discount_rate < 1:
        raise AnalysisError(f"discount_rate must be in [0, 1); got {discount_rate}; fix {key}.discount_rate")
    if acquisition_cost < 0:
        raise AnalysisError(f"acquisition_cost must be >= 0; got {acquisition_cost}; fix {key}.acquisition_cost")
    _need_columns(features, ["customer_id", "n_orders", "monetary_sum", "tenure_days"], what="simple CLV")
    by_channel = dict(acquisition_cost_by_channel or {})
    if by_channel:
        if channel_col is None:
            raise AnalysisError(
                f"{key}.acquisition_cost_by_channel needs channel_col naming the acquisition channel column "
                "(e.g. acquisition_channel joined from customers)"
            )
        _need_columns(features, [channel_col], what="CAC by channel", key=f"{key}.acquisition_cost_by_channel")
        bad = {k: v for k, v in by_channel.items() if v is None or v < 0}
        if bad:
            raise AnalysisError(f"acquisition costs must be >= 0; got {bad}; fix {key}.acquisition_cost_by_channel")
    n_orders = pd.to_numeric(features["n_orders"], errors="coerce").fillna(0).to_numpy(dtype=float)
    revenue = pd.to_numeric(features["monetary_sum"], errors="coerce").fillna(0).to_numpy(dtype=float)
    tenure = pd.to_numeric(features["tenure_days"], errors="coerce").to_numpy(dtype=float)
    tenure = np.where(np.isfinite(tenure), tenure, 0.0)
    years = np.maximum(tenure, float(min_tenure_days)) / 365.25
    with np.errstate(divide="ignore", invalid="ignore"):
        aov = np.where(n_orders > 0, revenue / n_orders, np.nan)
    ppy = n_orders / years
    annual = np.where(n_orders > 0, margin * aov * ppy, 0.0)
    af = annuity_factor(expected_lifetime_years, discount_rate)
    gross = annual * af
    if by_channel:
        ch = features[channel_col].astype(object)
        cac = ch.map(by_channel).astype(float).fillna(float(acquisition_cost)).to_numpy(dtype=float)
    else:
        cac = np.full(len(features), float(acquisition_cost))
    return pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "n_orders": n_orders.astype(np.int64),
            "aov": aov,
            "purchases_per_year": ppy,
            "annual_margin": annual,
            "annuity_factor": af,
            "gross_clv": gross,
            "cac": cac,
            "clv": gross - cac,
        }
    )


@dataclass(frozen=True, eq=False, repr=False)
class SimpleCLVResult:
    """Simple-formula CLV per customer and per segment (see :func:`simple_clv_by_segment`).

    Attributes
    ----------
    table : pandas.DataFrame
        :func:`simple_clv` columns plus ``segment``.
    by_segment : pandas.DataFrame
        One row per segment (see :meth:`summary`).
    assumptions : str
        The formula and every assumption in words, with the numbers used.
    options : dict
        The options used.
    """

    table: pd.DataFrame
    by_segment: pd.DataFrame
    assumptions: str
    options: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """Per customer CLV components and segment."""
        return self.table.copy()

    def summary(self) -> pd.DataFrame:
        """Per segment: ``segment``, ``customers``, ``share``, ``mean_clv``, ``median_clv``,
        ``total_clv``, ``clv_share``, ``mean_aov``, ``mean_purchases_per_year``,
        ``total_cac``, ``negative_clv_share``."""
        return self.by_segment.copy()

    def metrics(self) -> dict[str, Any]:
        """Totals, means and per-segment figures (JSON-able)."""
        t = self.table
        return {
            "options": {k: (v if not isinstance(v, float) else _num(v)) for k, v in self.options.items()},
            "n_customers": len(t),
            "total_clv": _num(t["clv"].sum()),
            "mean_clv": _num(t["clv"].mean()),
            "median_clv": _num(t["clv"].median()),
            "segments": {
                str(r.segment): {"customers": int(r.customers), "mean_clv": _num(r.mean_clv),
                                 "clv_share": _num(r.clv_share)}
                for r in self.by_segment.itertuples()
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """Where the future value sits, with the key assumption."""
        s = self.by_segment
        t = self.table
        if s.empty:
            return "No customers."
        top = s.iloc[s["clv_share"].fillna(-1).argmax()]
        best = s.iloc[s["mean_clv"].fillna(-np.inf).argmax()]
        text = (
            f"At a {self.options['margin']:.0%} margin over {self.options['expected_lifetime_years']:g} years "
            f"({self.options['discount_rate']:.0%} discount), the base is worth {currency}{t['clv'].sum():,.0f} "
            f"(mean {currency}{t['clv'].mean():,.0f} per customer). '{top.segment}' holds "
            f"{_pct(top.clv_share)} of it with {_pct(top.share)} of customers; "
            f"'{best.segment}' are worth the most each ({currency}{best.mean_clv:,.0f})."
        )
        neg = float((t["clv"] < 0).mean())
        if neg > 0:
            text += f" {_pct(neg)} of customers do not repay their acquisition cost at this pace."
        return text

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of mean CLV per segment.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.35 * len(self.by_segment) + 1.5))
        sns.barplot(data=self.by_segment, x="mean_clv", y="segment", ax=ax, color=sns.color_palette()[0])
        ax.set_xlabel("mean CLV per customer (simple formula)")
        ax.set_ylabel("")
        ax.set_title("Simple CLV by segment")
        return ax

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(repr(self))}</b></p><p>{html.escape(self.assumptions)}</p>" + self.summary().to_html(
            index=False, float_format=lambda v: f"{v:,.3g}"
        )

    def __repr__(self) -> str:
        return (
            f"SimpleCLVResult(customers={len(self.table):,}, segments={len(self.by_segment)}, "
            f"total_clv={self.table['clv'].sum():,.0f})"
        )


def simple_clv_by_segment(
    features: pd.DataFrame,
    segments: pd.Series | pd.DataFrame,
    *,
    margin: float,
    expected_lifetime_years: float,
    discount_rate: float,
    acquisition_cost: float = 0.0,
    acquisition_cost_by_channel: Mapping[str, float] | None = None,
    channel_col: str | None = None,
    min_tenure_days: float = 90.0,
    segment_col: str = "segment",
    currency: str = "¥",
) -> SimpleCLVResult:
    """Simple-formula CLV (:func:`simple_clv`) summarised per segment, with the assumptions.

    Parameters
    ----------
    features : pandas.DataFrame
        As for :func:`simple_clv`.
    segments : pandas.Series or pandas.DataFrame
        Segment per customer: a Series indexed by ``customer_id`` (``rfm.segments()``) or a frame
        with ``customer_id`` and ``segment_col``. Customers without one are ``"(none)"``.
    margin, expected_lifetime_years, discount_rate, acquisition_cost,
    acquisition_cost_by_channel, channel_col, min_tenure_days
        As for :func:`simple_clv`.
    segment_col : str, default "segment"
        Segment column of a frame ``segments``.
    currency : str, default "¥"
        Currency symbol of the assumptions text.

    Returns
    -------
    SimpleCLVResult
    """
    clv = simple_clv(
        features, margin=margin, expected_lifetime_years=expected_lifetime_years, discount_rate=discount_rate,
        acquisition_cost=acquisition_cost, acquisition_cost_by_channel=acquisition_cost_by_channel,
        channel_col=channel_col, min_tenure_days=min_tenure_days,
    )  # fmt: skip
    seg = _segment_series(segments, segment_col=segment_col)
    levels = _order_levels(seg)
    mapped = seg.reindex(clv["customer_id"]).astype(object).to_numpy()
    mapped = np.where(pd.isna(mapped), "(none)", mapped)
    if (mapped == "(none)").any():
        levels = [*levels, "(none)"]
    clv["segment"] = pd.Categorical(mapped, categories=levels)
    g = clv.groupby("segment", observed=True)
    total = float(clv["clv"].sum())
    by = pd.DataFrame(
        {
            "customers": g.size(),
            "mean_clv": g["clv"].mean(),
            "median_clv": g["clv"].median(),
            "total_clv": g["clv"].sum(),
            "mean_aov": g["aov"].mean(),
            "mean_purchases_per_year": g["purchases_per_year"].mean(),
            "total_cac": g["cac"].sum(),
            "negative_clv_share": g["clv"].apply(lambda s: float((s < 0).mean())),
        }
    )
    by.insert(1, "share", by["customers"] / len(clv))
    by.insert(5, "clv_share", by["total_clv"] / total if total != 0 else np.nan)
    by = by.reset_index()
    by["segment"] = by["segment"].astype(str)
    af = annuity_factor(expected_lifetime_years, discount_rate)
    if acquisition_cost_by_channel:
        cac_txt = (
            f"acquisition cost by {channel_col} ("
            + ", ".join(f"{k} {currency}{v:,.2f}" for k, v in acquisition_cost_by_channel.items())
            + f"; others {currency}{acquisition_cost:,.2f})"
        )
    else:
        cac_txt = f"acquisition cost {currency}{acquisition_cost:,.2f} per customer"
    assumptions = (
        f"CLV = margin {margin:.0%} x average order value x purchases per year x {af:.3f} - {cac_txt}. "
        f"Purchases per year = orders / tenure in years (tenure at least {min_tenure_days:g} days). "
        f"{af:.3f} = sum of the discount factors of an expected lifetime of {expected_lifetime_years:g} years "
        f"at {discount_rate:.0%} a year, value counted at each year's end (a part year pro rata). "
        "Assumes each customer keeps buying at their past pace for the whole lifetime and then stops "
        "(no churn curve, no growth); customers without orders are worth minus their acquisition cost."
    )
    options = {
        "margin": float(margin), "expected_lifetime_years": float(expected_lifetime_years),
        "discount_rate": float(discount_rate), "acquisition_cost": float(acquisition_cost),
        "acquisition_cost_by_channel": {str(k): float(v) for k, v in (acquisition_cost_by_channel or {}).items()},
        "channel_col": channel_col, "min_tenure_days": float(min_tenure_days), "annuity_factor": af,
    }  # fmt: skip
    return SimpleCLVResult(table=clv, by_segment=by, assumptions=assumptions, options=options)


# ============================================================================================
# 6. Tags and portraits
# ============================================================================================

_P_ALIVE_BANDS = ["<20%", "20-50%", "50-80%", ">80%"]


def _deciles(values: pd.Series) -> pd.array:
    """1..10 (10 = highest) from average-rank percentiles; ties share a decile; missing stays."""
    v = pd.to_numeric(values, errors="coerce")
    out = pd.array(np.zeros(len(v), dtype=np.int64), dtype="Int64")
    ok = v.notna().to_numpy()
    if ok.any():
        out[ok] = _rank_scores(v[ok], 10)
    out[~ok] = pd.NA
    return out


def tag_table(
    features: pd.DataFrame,
    *,
    abc: ABCResult,
    rfm: RFMResult,
    clusters: ClusterResult | None = None,
    clv: pd.DataFrame | None = None,
    tags: Mapping[str, str],
    privacy: PrivacyParams,
    include_features: bool = False,
) -> pd.DataFrame:
    """One row per customer with every segment label and the analyst's rule tags.

    Columns: ``customer_id`` (pseudonymized with ``privacy.salt`` by
    :func:`workbench.core.privacy.pseudonymize` unless ``privacy.allow_raw_keys``), ``abc_class``,
    ``r``, ``f``, ``m``, ``rfm_segment``, ``cluster``, ``cluster_name`` (with ``clusters``),
    ``clv``, ``clv_decile`` (1-10, 10 = highest; ties share a decile), ``p_alive`` and
    ``p_alive_band`` (``"<20%"``, ``"20-50%"``, ``"50-80%"``, ``">80%"``; when ``clv`` has a
    ``p_alive`` column), ``preferred_channel`` (when in the features), then one boolean column
    per tag. Tag rules are evaluated with :meth:`pandas.DataFrame.eval` on these columns plus all
    feature columns (``"monetary_sum > 5000 and rfm_segment == 'at risk'"``); missing -> False.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features (one row per customer; defines the rows).
    abc : ABCResult
    rfm : RFMResult
    clusters : ClusterResult, optional
    clv : pandas.DataFrame, optional
        ``customer_id`` and ``clv`` (e.g. :func:`simple_clv`), optionally ``p_alive``.
    tags : mapping of str to str
        Tag name -> rule (``analyses.segmentation.tags``).
    privacy : PrivacyParams
        ``privacy``.
    include_features : bool, default False
        Also return the feature columns.

    Returns
    -------
    pandas.DataFrame
        One row per customer of ``features``, in its order.

    Raises
    ------
    AnalysisError
        A rule with an unknown column (lists the available columns) or that cannot be evaluated,
        a tag name clashing with a column (naming ``analyses.segmentation.tags.<name>``), or a
        ``clv`` frame without ``clv``.
    """
    _need_columns(features, ["customer_id"], what="tag table")
    _check_unique_ids(features, what="tag table")
    ids = features["customer_id"]
    out = pd.DataFrame({"customer_id": ids.to_numpy()})
    a = abc.table.set_index("customer_id")["abc_class"]
    out["abc_class"] = a.reindex(ids).to_numpy()
    out["abc_class"] = pd.Categorical(out["abc_class"], categories=abc.classes, ordered=True)
    rt = rfm.table.set_index("customer_id")
    for c in ("r", "f", "m"):
        out[c] = rt[c].reindex(ids).array
    out["rfm_segment"] = pd.Categorical(rt["segment"].reindex(ids).to_numpy(),
                                        categories=list(rt["segment"].cat.categories))
    if clusters is not None:
        lt = clusters.labels.set_index("customer_id")
        out["cluster"] = lt["cluster"].reindex(ids).array
        out["cluster_name"] = pd.Categorical(lt["cluster_name"].reindex(ids).to_numpy(),
                                             categories=list(lt["cluster_name"].cat.categories))
    if clv is not None:
        if "customer_id" not in clv.columns or "clv" not in clv.columns:
            raise AnalysisError(
                f"the clv frame needs columns customer_id and clv (has {', '.join(map(str, clv.columns))})"
            )
        ct = clv.drop_duplicates("customer_id").set_index("customer_id")
        out["clv"] = pd.to_numeric(ct["clv"].reindex(ids), errors="coerce").to_numpy(dtype=float)
        out["clv_decile"] = _deciles(out["clv"])
        if "p_alive" not in ct.columns and "probability_alive" in ct.columns:
            ct = ct.rename(columns={"probability_alive": "p_alive"})  # value.customer_value's name
        if "p_alive" in ct.columns:
            p = pd.to_numeric(ct["p_alive"].reindex(ids), errors="coerce").to_numpy(dtype=float)
            out["p_alive"] = p
            band = np.select([p < 0.2, p < 0.5, p <= 0.8, p > 0.8], _P_ALIVE_BANDS, default="")
            out["p_alive_band"] = pd.Categorical(np.where(np.isnan(p), None, band), categories=_P_ALIVE_BANDS,
                                                 ordered=True)
    if "preferred_channel" in features.columns:
        out["preferred_channel"] = features["preferred_channel"].to_numpy()
    extra = [c for c in features.columns if c not in out.columns]
    ev = pd.concat([out, features[extra].reset_index(drop=True)], axis=1)
    available = list(ev.columns)
    for name, rule in tags.items():
        key = f"analyses.segmentation.tags.{name}"
        if name in ev.columns:
            raise AnalysisError(f"tag name {name!r} is already a column of the tag table; rename it in {key}")
        if not isinstance(rule, str) or not rule.strip():
            raise AnalysisError(f"tag {name!r}: the rule must be a non-empty condition text; fix {key}")
        try:
            res = ev.eval(rule, engine="python")
        except pd.errors.UndefinedVariableError as err:
            raise AnalysisError(
                f"tag {name!r}: rule {rule!r} refers to an unknown column ({err}); available columns: "
                f"{', '.join(available)}; fix {key}"
            ) from None
        except Exception as err:  # any parse/eval problem is the user's rule
            raise AnalysisError(f"tag {name!r}: rule {rule!r} cannot be evaluated ({err}); fix {key}") from None
        if np.isscalar(res) or getattr(res, "ndim", 1) == 0:
            raise AnalysisError(f"tag {name!r}: rule {rule!r} does not depend on any column; fix {key}")
        s = pd.Series(res).reset_index(drop=True)
        if not (pd.api.types.is_bool_dtype(s.dtype) or s.isna().all()):
            raise AnalysisError(f"tag {name!r}: rule {rule!r} gives {s.dtype} values, not true/false; fix {key}")
        val = s.fillna(False).to_numpy(dtype=bool)
        out[name] = val
        ev[name] = val
    if include_features:
        out = pd.concat([out, features[extra].reset_index(drop=True)], axis=1)
    if not privacy.allow_raw_keys:
        from workbench.core.privacy import pseudonymize

        out["customer_id"] = pseudonymize(out["customer_id"], salt=privacy.salt)
    return out


def write_tags(frame: pd.DataFrame, folder: str | Path, *, name: str = "customer_tags") -> dict[str, Path]:
    """Write a tag table as CSV (UTF-8 with BOM, opens in Excel with Chinese intact) and Parquet.

    Parameters
    ----------
    frame : pandas.DataFrame
        Output of :func:`tag_table`.
    folder : str or Path
        Folder (created if missing).
    name : str, default "customer_tags"
        File stem.

    Returns
    -------
    dict
        ``{"csv": path, "parquet": path}``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, pq_path = out / f"{name}.csv", out / f"{name}.parquet"
    frame.to_csv(csv_path, index=False, encoding="utf-8-sig")
    frame.to_parquet(pq_path, index=False)
    return {"csv": csv_path, "parquet": pq_path}


_AGE_BANDS = ["<25", "25-34", "35-44", "45-54", "55+"]


def _top_level(shares: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Most common level per row and its share (missing for rows without data)."""
    has = shares.notna().any(axis=1) & (shares.fillna(0).sum(axis=1) > 0)
    top = pd.Series(None, index=shares.index, dtype=object)
    if has.any():
        top[has] = shares[has].fillna(-1).idxmax(axis=1).astype(object)
    return top, shares.max(axis=1).where(has)


def _age_band(age: pd.Series) -> pd.Categorical:
    a = pd.to_numeric(age, errors="coerce")
    return pd.cut(a, [-np.inf, 25, 35, 45, 55, np.inf], right=False, labels=_AGE_BANDS)


@dataclass(frozen=True, eq=False, repr=False)
class PortraitResult:
    """Portraits of segments (see :func:`portraits`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (see :meth:`summary`).
    channel_mix : pandas.DataFrame
        Segment x channel share of the segment's orders (empty without channel columns).
    demographics : dict of str to DataFrame
        ``gender``, ``age_band``, ``city``: segment x level shares (when customers are given).
    n_customers : int
    """

    table: pd.DataFrame
    channel_mix: pd.DataFrame
    demographics: dict[str, pd.DataFrame]
    n_customers: int

    def summary(self) -> pd.DataFrame:
        """Compact portrait per segment: ``segment``, ``customers``, ``share``, ``revenue_share``,
        ``revenue_per_customer``, ``typical_basket`` (median of customers' mean order value),
        ``orders_per_customer``, ``median_tenure_days``, ``median_recency_days``, ``top_channel``,
        ``top_channel_share``; with customers ``top_gender``, ``top_gender_share``,
        ``median_age``, ``top_age_band``, ``top_city``, ``top_city_share``."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Compact table joined with the full channel mix and demographic shares (one row per
        segment; columns ``channel_<x>``, ``gender_<x>``, ``age_<band>``, ``city_<x>``)."""
        out = self.table.set_index("segment")
        parts = [out]
        if not self.channel_mix.empty:
            parts.append(self.channel_mix.add_prefix("channel_"))
        for k, df in self.demographics.items():
            parts.append(df.add_prefix({"age_band": "age_"}.get(k, f"{k}_")))
        return pd.concat(parts, axis=1).reset_index(names="segment")

    def metrics(self) -> dict[str, Any]:
        """Per-segment headline figures (JSON-able)."""
        return {
            "n_customers": int(self.n_customers),
            "segments": {
                str(r["segment"]): {
                    k: (_num(v) if isinstance(v, (int, float, np.number)) else (None if pd.isna(v) else str(v)))
                    for k, v in r.items()
                    if k != "segment"
                }
                for r in self.table.to_dict("records")
            },
        }

    def finding(self, *, currency: str = "¥") -> str:
        """A one-line portrait of the most valuable and of the largest segment."""
        t = self.table.set_index("segment")
        if t.empty:
            return "No segments."

        def one(seg: Any) -> str:
            r = t.loc[seg]
            head = f"'{seg}' ({_pct(r['share'])} of customers, {_pct(r['revenue_share'])} of revenue)"
            if pd.notna(r["typical_basket"]):
                head += (
                    f": typical basket {currency}{r['typical_basket']:,.0f}, "
                    f"{r['orders_per_customer']:.1f} orders each"
                )
            else:
                head += ": no purchases yet"
            bits = [head]
            if "top_channel" in t.columns and pd.notna(r.get("top_channel")):
                bits.append(f"mostly {r['top_channel']} ({_pct(r['top_channel_share'])})")
            if "top_gender" in t.columns and pd.notna(r.get("top_gender")):
                bits.append(f"{_pct(r['top_gender_share'])} {r['top_gender']}")
            if "top_age_band" in t.columns and pd.notna(r.get("top_age_band")):
                bits.append(f"mostly aged {r['top_age_band']}")
            if "top_city" in t.columns and pd.notna(r.get("top_city")):
                bits.append(f"top city {r['top_city']} ({_pct(r['top_city_share'])})")
            return ", ".join(bits) + "."

        rich = t["revenue_share"].fillna(-1).idxmax()
        big = t["customers"].idxmax()
        return one(rich) if rich == big else one(rich) + " Largest: " + one(big)

    def plot(self, ax: Any = None) -> Any:
        """Small multiples: customers vs revenue share, typical basket, orders per customer,
        tenure, channel mix and age bands (or recency) per segment.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            When given, only the first panel (share of customers vs of revenue) is drawn on it.

        Returns
        -------
        matplotlib.figure.Figure, or the Axes when ``ax`` is given.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.table.copy()
        t["segment"] = t["segment"].astype(str)
        order = list(t["segment"])
        long = t.melt(id_vars="segment", value_vars=["share", "revenue_share"], var_name="measure", value_name="pct")
        long["measure"] = long["measure"].map({"share": "customers", "revenue_share": "revenue"})
        long["pct"] = 100 * long["pct"]

        def first(a: Any) -> None:
            sns.barplot(data=long, y="segment", x="pct", hue="measure", order=order, ax=a)
            a.set_xlabel("% of total")
            a.set_ylabel("")
            a.set_title("share of customers and revenue")

        if ax is not None:
            first(ax)
            return ax
        fig, axes = plt.subplots(2, 3, figsize=(15, max(6, 0.7 * len(order) + 4)))
        first(axes[0, 0])
        color = sns.color_palette()[0]
        for a, col, title in (
            (axes[0, 1], "typical_basket", "typical basket (median order value)"),
            (axes[0, 2], "orders_per_customer", "orders per customer"),
            (axes[1, 0], "median_tenure_days", "median tenure (days)"),
        ):
            sns.barplot(data=t, y="segment", x=col, order=order, ax=a, color=color)
            a.set_title(title)
            a.set_xlabel("")
            a.set_ylabel("")
            a.set_yticklabels([])
        if not self.channel_mix.empty:
            sns.heatmap(100 * self.channel_mix.reindex(order), annot=True, fmt=".0f", cmap="Blues", ax=axes[1, 1],
                        cbar=False, annot_kws={"fontsize": 7})
            axes[1, 1].set_title("channel mix (% of orders)")
        else:
            sns.barplot(data=t, y="segment", x="median_recency_days", order=order, ax=axes[1, 1], color=color)
            axes[1, 1].set_title("median days since last purchase")
        axes[1, 1].set_ylabel("")
        axes[1, 1].set_yticklabels([])
        if "age_band" in self.demographics:
            sns.heatmap(100 * self.demographics["age_band"].reindex(order), annot=True, fmt=".0f", cmap="Greens",
                        ax=axes[1, 2], cbar=False, annot_kws={"fontsize": 7})
            axes[1, 2].set_title("age band (% of customers)")
        else:
            sns.barplot(data=t, y="segment", x="median_recency_days", order=order, ax=axes[1, 2], color=color)
            axes[1, 2].set_title("median days since last purchase")
        axes[1, 2].set_ylabel("")
        axes[1, 2].set_yticklabels([])
        fig.suptitle("Segment portraits")
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        return _html(self)

    def __repr__(self) -> str:
        return f"PortraitResult(segments={len(self.table)}, customers={self.n_customers:,})"


def portraits(
    features: pd.DataFrame,
    segments: pd.Series | pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    segment_col: str = "segment",
) -> PortraitResult:
    """Portrait of each segment: size, value, typical basket, channel mix, tenure and, with the
    customers table, gender, age band and city.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features (``customer_id``, ``monetary_sum``, ``n_orders``, ``monetary_mean``,
        ``tenure_days``, ``recency_days``; ``share_<channel>`` or ``preferred_channel``).
    segments : pandas.Series or pandas.DataFrame
        Segment per customer (``rfm.segments()``, ``clusters.segments()``, ``abc.segments()``,
        or a frame with ``customer_id`` and ``segment_col``). Customers of ``features`` without
        a segment are left out.
    customers : pandas.DataFrame, optional
        Canonical customers (``gender``, ``age`` or ``birth_date``, ``city``).
    segment_col : str, default "segment"

    Returns
    -------
    PortraitResult
        Typical basket is the median over the segment's customers of their mean order value;
        channel mix is the share of the segment's orders per channel.

    Raises
    ------
    AnalysisError
        Missing columns, or no customer with a segment.
    """
    _need_columns(features, ["customer_id", "monetary_sum", "n_orders"], what="portraits")
    seg = _segment_series(segments, segment_col=segment_col)
    levels = _order_levels(seg)
    f = features.copy()
    f["segment"] = seg.reindex(f["customer_id"]).astype(object).to_numpy()
    f = f[f["segment"].notna()]
    if f.empty:
        raise AnalysisError("portraits: no customer of the feature table has a segment (check the customer_id keys)")
    levels = [x for x in levels if x in set(f["segment"])]
    f["segment"] = pd.Categorical(f["segment"], categories=levels)
    n = len(f)
    g = f.groupby("segment", observed=True)
    rev = float(f["monetary_sum"].sum())
    t = pd.DataFrame({"customers": g.size()})
    t["share"] = t["customers"] / n
    t["revenue_share"] = g["monetary_sum"].sum() / rev if rev > 0 else np.nan
    t["revenue_per_customer"] = g["monetary_sum"].mean()
    t["typical_basket"] = g["monetary_mean"].median() if "monetary_mean" in f else np.nan
    t["orders_per_customer"] = g["n_orders"].mean()
    t["median_tenure_days"] = g["tenure_days"].median() if "tenure_days" in f else np.nan
    t["median_recency_days"] = g["recency_days"].median() if "recency_days" in f else np.nan
    share_cols = [c for c in f.columns if c.startswith("share_")]
    if share_cols:
        w = f[share_cols].fillna(0).mul(f["n_orders"].astype(float), axis=0)
        mix = w.groupby(f["segment"], observed=True).sum()
        mix = mix.div(mix.sum(axis=1).replace(0, np.nan), axis=0)
        mix.columns = [c.removeprefix("share_") for c in share_cols]
    elif "preferred_channel" in f.columns:
        mix = pd.crosstab(f["segment"], f["preferred_channel"], normalize="index")
    else:
        mix = pd.DataFrame()
    if not mix.empty:
        mix.index = mix.index.astype(object)
        mix.columns.name = None
        top, top_share = _top_level(mix)
        t["top_channel"] = top.reindex(t.index.astype(object)).to_numpy()
        t["top_channel_share"] = top_share.reindex(t.index.astype(object)).to_numpy()
    demo: dict[str, pd.DataFrame] = {}
    if customers is not None and "customer_id" in customers.columns:
        c = customers.drop_duplicates("customer_id").set_index("customer_id")
        cc = pd.DataFrame({"segment": f["segment"].to_numpy()}, index=f["customer_id"].to_numpy())
        if "age" in c.columns:
            age = pd.to_numeric(c["age"], errors="coerce")
        elif "birth_date" in c.columns:
            bd = pd.to_datetime(c["birth_date"], errors="coerce")
            age = (pd.Timestamp.today() - bd).dt.days / 365.25
        else:
            age = None
        for col in ("gender", "city"):
            if col in c.columns:
                cc[col] = c[col].reindex(cc.index).to_numpy()
        if age is not None:
            cc["age"] = age.reindex(cc.index).to_numpy()
            cc["age_band"] = _age_band(cc["age"])
        for col in ("gender", "age_band", "city"):
            if col in cc.columns and cc[col].notna().any():
                ct = pd.crosstab(cc["segment"], cc[col], normalize="index")
                ct.index = ct.index.astype(object)
                ct.columns = ct.columns.astype(str)
                ct.columns.name = None
                demo[col] = ct
                key = t.index.astype(object)
                top, top_share = _top_level(ct)
                t[f"top_{col}"] = top.reindex(key).to_numpy()
                if col != "age_band":
                    t[f"top_{col}_share"] = top_share.reindex(key).to_numpy()
        if "age" in cc.columns:
            t["median_age"] = cc.groupby("segment", observed=True)["age"].median()
    t = t.reset_index()
    t["segment"] = t["segment"].astype(object)
    return PortraitResult(table=t, channel_mix=mix, demographics=demo, n_customers=n)


def truth_agreement(clusters: ClusterResult, *, ground_truth: str | Path | None) -> dict[str, Any]:
    """Agreement of the clusters with known true segments (synthetic data only).

    Parameters
    ----------
    clusters : ClusterResult
    ground_truth : path or None
        ``truth_customers.parquet`` with ``customer_id`` and ``segment`` (params ``ground_truth``).

    Returns
    -------
    dict
        ``ari`` (adjusted Rand index, or None), ``n`` (customers compared) and ``text``.
    """
    if ground_truth is None:
        return {"ari": None, "n": 0, "text": "_No ground truth for this dataset (real data): nothing to compare the clusters with._"}
    truth = pd.read_parquet(ground_truth, columns=["customer_id", "segment"]).set_index("customer_id")["segment"]
    labels = clusters.labels.set_index("customer_id")["cluster"]
    common = labels.index.intersection(truth.index)
    ari = adjusted_rand(labels.loc[common], truth.loc[common])
    return {
        "ari": ari,
        "n": int(len(common)),
        "text": (f"Against the generator's true segments ({truth.nunique()} of them), the chosen clustering "
                 f"has adjusted Rand index {ari:.2f} on {len(common):,} customers (1 = identical grouping, "
                 "0 = no better than chance)."),
    }


def segment_artifact(
    features: pd.DataFrame,
    *,
    abc: ABCResult,
    rfm: RFMResult,
    clusters: ClusterResult | None = None,
    clv: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per customer (raw key, for joins by later analyses): ABC class, RFM scores and
    segment, cluster, and CLV columns when given. Written as the ``segments`` artifact."""
    out = features[["customer_id"]].copy()
    out = out.merge(abc.table[["customer_id", "abc_class"]], on="customer_id", how="left")
    r = rfm.table.rename(columns={"segment": "rfm_segment"})
    out = out.merge(r[[c for c in ("customer_id", "r", "f", "m", "rfm_segment") if c in r]], on="customer_id", how="left")
    if clusters is not None:
        out = out.merge(clusters.labels[["customer_id", "cluster", "cluster_name"]], on="customer_id", how="left")
    if clv is not None:
        keep = [c for c in ("customer_id", "clv", "probability_alive", "expected_purchases", "expected_order_value") if c in clv]
        out = out.merge(clv[keep], on="customer_id", how="left")
    return out
