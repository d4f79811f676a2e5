"""ABC / Pareto value classes, the Lorenz curve and the Gini coefficient.

Customers are sorted by value (revenue, margin or orders) and classed by cumulative share of value
(:func:`abc_classes`); :func:`gini` measures how unequal the base is.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.data.frames import need_columns
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.segmentation._common import check_unique_ids

__all__ = ["ABCResult", "abc_classes", "gini"]


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
class ABCResult(Result):
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
        ``share_value``, ``mean_value``, ``min_value``, ``max_value``; the class as the reader
        reads it (``categories.abc_class``; :meth:`metrics` keeps the letters)."""
        out = self._by_class()
        out["abc_class"] = out["abc_class"].map(lambda v: category("abc_class", v))
        return out

    def _by_class(self) -> pd.DataFrame:
        """:meth:`summary` with the class letters."""
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
            ["abc_class", "customers", "share_customers", "value", "share_value", "mean_value", "min_value",
             "max_value"]
        ]

    def metrics(self) -> dict[str, Any]:
        """Gini, top shares, class sizes and value shares (JSON-able)."""
        s = self._by_class()
        return {
            "measure": self.measure,
            "n_customers": len(self.table),
            "total_value": num(self.table["value"].clip(lower=0).sum()),
            "cuts": [float(c) for c in self.cuts],
            "gini": num(self.gini),
            **{f"{k}_share": num(v) for k, v in self.top_shares.items()},
            "n_negative": int(self.n_negative),
            "classes": {
                row.abc_class: {
                    "customers": int(row.customers),
                    "share_customers": num(row.share_customers),
                    "share_value": num(row.share_value),
                }
                for row in s.itertuples()
            },
        }

    def finding(self) -> str:
        """What the concentration means for the business, from the numbers."""
        s = self._by_class().set_index("abc_class")
        what = t(f"segmentation.abc.measure.{self.measure}")
        first, last = s.index[0], s.index[-1]
        text = t("segmentation.abc.finding", top20=pct(self.top_shares["top_20pct"], 0), what=what,
                 top1=pct(self.top_shares["top_1pct"], 0), gini=f"{self.gini:.2f}", first=first,
                 first_n=count(s.loc[first, "customers"]), first_share=pct(s.loc[first, "share_customers"], 0),
                 first_value=pct(s.loc[first, "share_value"], 0), last=last,
                 last_share=pct(s.loc[last, "share_customers"], 0), last_value=pct(s.loc[last, "share_value"], 0))
        if self.gini > 0.8:
            text += t("segmentation.abc.concentrated")
        return text

    def plot(self, ax: Any = None) -> Any:
        """Lorenz curve with the line of equality; the class cut points are marked.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(5.5, 5))
        lz = self.lorenz
        grid = np.linspace(0, 1, 501)
        measure = t(f"segmentation.abc.measure.{self.measure}")
        curve = pd.DataFrame(
            {
                t("segmentation.abc.x"): grid,
                t("segmentation.abc.y", measure=measure): np.interp(grid, lz["customer_share"], lz["value_share"]),
            }
        )
        sns.lineplot(data=curve, x=curve.columns[0], y=curve.columns[1], ax=ax, label=t("segmentation.abc.lorenz"))
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("segmentation.abc.equality"))
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
        ax.set_title(t("segmentation.abc.title", measure=measure, gini=f"{self.gini:.2f}"))
        ax.legend(loc="upper left")
        return ax

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
    col = _step_check(features, measure=measure, cuts=cuts)
    cuts_t = tuple(float(c) for c in cuts)
    raw = pd.to_numeric(features[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    n_neg = _step_negatives(raw, measure=measure, col=col)
    v = np.clip(raw, 0, None)
    if v.sum() <= 0:
        raise AnalysisError(
            f"ABC classes: no customer has a positive {col} ({len(v):,} customers); "
            "check the as-of date or measure="
        )
    table = _step_classes(features["customer_id"].to_numpy(), raw, v, cuts_t)
    lorenz, top = _step_lorenz(v, table["cum_share"].to_numpy())
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


_MEASURE_COLUMNS = {"revenue": "monetary_sum", "margin": "margin_sum", "orders": "n_orders"}


def _step_check(features: pd.DataFrame, *, measure: str, cuts: Sequence[float]) -> str:
    """Validate the options against the table; return the value column."""
    columns = _MEASURE_COLUMNS
    if measure not in columns:
        raise AnalysisError(
            f"ABC measure must be one of {', '.join(columns)}; got {measure!r}; fix measure="
        )
    col = columns[measure]
    if col not in features.columns:
        hint = " (orders need a margin column and features a margin_sum)" if measure == "margin" else ""
        raise AnalysisError(
            f"ABC measure {measure!r} needs column {col!r} in the feature table{hint}; "
            f"columns: {', '.join(map(str, features.columns))}; fix measure="
        )
    need_columns(features, ["customer_id"], what="ABC classes")
    cuts_t = tuple(float(c) for c in cuts)
    increasing = all(b > a for a, b in zip(cuts_t, cuts_t[1:], strict=False))
    if not cuts_t or any(not 0 < c < 1 for c in cuts_t) or not increasing:
        raise AnalysisError(
            f"ABC cuts must be increasing shares strictly between 0 and 1, e.g. [0.8, 0.95]; got {list(cuts)}; "
            "fix cuts="
        )
    if len(cuts_t) > 25:
        raise AnalysisError("at most 25 ABC cuts; fix cuts=")
    if len(features) == 0:
        raise AnalysisError("ABC classes: the feature table has no customers")
    check_unique_ids(features, what="ABC classes")
    return col


def _step_negatives(raw: np.ndarray, *, measure: str, col: str) -> int:
    """Count negative values and warn about them (they count as 0)."""
    n_neg = int((raw < 0).sum())
    if n_neg:
        warnings.warn(
            t("segmentation.abc.negative", measure=t(f"segmentation.abc.measure.{measure}"), n=count(n_neg),
              total=count(len(raw)), column=col),
            StatisticalWarning,
            stacklevel=3,
        )
    return n_neg


def _step_classes(ids: np.ndarray, raw: np.ndarray, v: np.ndarray, cuts: tuple[float, ...]) -> pd.DataFrame:
    """Per-customer table, highest value first, with the class of the share before each block of ties."""
    n = len(v)
    # highest first; ties in a stable, documented order (by customer_id)
    order = np.lexsort((ids.astype(str), -v))
    vs = v[order]
    cum = np.cumsum(vs) / v.sum()
    before = np.concatenate([[0.0], cum[:-1]])
    # a block of equal values takes the share before its first member
    starts = np.r_[True, vs[1:] != vs[:-1]]
    first_idx = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    before_tie = before[first_idx]
    labels = [chr(ord("A") + i) for i in range(len(cuts) + 1)]
    cls_idx = np.searchsorted(np.asarray(cuts), before_tie + 1e-12, side="right")
    cls_idx = np.where(vs <= 0, len(cuts), cls_idx)
    return pd.DataFrame(
        {
            "customer_id": ids[order],
            "value": raw[order],
            "rank": np.arange(1, n + 1),
            "cum_share_before": before_tie,
            "cum_share": cum,
            "abc_class": pd.Categorical.from_codes(cls_idx, categories=labels, ordered=True),
        }
    )


def _step_lorenz(v: np.ndarray, cum: np.ndarray) -> tuple[pd.DataFrame, dict[str, float]]:
    """Lorenz curve (ascending values) and the top 1 / 5 / 20 % shares (descending curve)."""
    n, total = len(v), v.sum()
    lorenz = pd.DataFrame(
        {
            "customer_share": np.arange(n + 1) / n,
            "value_share": np.concatenate([[0.0], np.cumsum(np.sort(v)) / total]),
        }
    )
    desc_x = np.arange(n + 1) / n
    desc_y = np.concatenate([[0.0], cum])
    top = {f"top_{int(p * 100)}pct": float(np.interp(p, desc_x, desc_y)) for p in (0.01, 0.05, 0.20)}
    return lorenz, top
