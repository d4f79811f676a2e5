"""Simple-formula customer lifetime value (moved from :mod:`workbench.segmentation.segments`).

``clv = margin * aov * purchases_per_year * annuity_factor(L, d) - CAC`` per customer, and its
summary per segment (:class:`SimpleCLVResult`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.data.frames import need_columns, order_levels, segment_series
from workbench.report import fmt
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["annuity_factor", "simple_clv", "SimpleCLVResult", "simple_clv_by_segment"]


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
    if not 0 < margin <= 1:
        raise AnalysisError(f"margin must be in (0, 1]; got {margin}; fix margin=")
    if not expected_lifetime_years > 0:
        raise AnalysisError(
            f"expected_lifetime_years must be > 0; got {expected_lifetime_years}; fix expected_lifetime_years="
        )
    if not 0 <= discount_rate < 1:
        raise AnalysisError(f"discount_rate must be in [0, 1); got {discount_rate}; fix discount_rate=")
    if acquisition_cost < 0:
        raise AnalysisError(f"acquisition_cost must be >= 0; got {acquisition_cost}; fix acquisition_cost=")
    need_columns(features, ["customer_id", "n_orders", "monetary_sum", "tenure_days"], what="simple CLV")
    by_channel = dict(acquisition_cost_by_channel or {})
    if by_channel:
        if channel_col is None:
            raise AnalysisError(
                "acquisition_cost_by_channel= needs channel_col= naming the acquisition channel column "
                "(e.g. acquisition_channel joined from customers)"
            )
        need_columns(features, [channel_col], what="CAC by channel", key="acquisition_cost_by_channel=")
        bad = {k: v for k, v in by_channel.items() if v is None or v < 0}
        if bad:
            raise AnalysisError(f"acquisition costs must be >= 0; got {bad}; fix acquisition_cost_by_channel=")
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


@dataclass(frozen=True, eq=False)
class SimpleCLVResult(Result):
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
        ``total_cac``, ``negative_clv_share``. Segment names the workbench makes (RFM segments)
        read in the run's language; :attr:`by_segment` keeps the codes."""
        out = self.by_segment.copy()
        out["segment"] = out["segment"].map(lambda v: category("rfm_segment", v))
        return out

    def metrics(self) -> dict[str, Any]:
        """Totals, means and per-segment figures (JSON-able)."""
        t = self.table
        return {
            "options": {k: (v if not isinstance(v, float) else fmt.num(v)) for k, v in self.options.items()},
            "n_customers": len(t),
            "total_clv": fmt.num(t["clv"].sum()),
            "mean_clv": fmt.num(t["clv"].mean()),
            "median_clv": fmt.num(t["clv"].median()),
            "segments": {
                str(r.segment): {"customers": int(r.customers), "mean_clv": fmt.num(r.mean_clv),
                                 "clv_share": fmt.num(r.clv_share)}
                for r in self.by_segment.itertuples()
            },
        }

    def finding(self) -> str:
        """Where the future value sits, with the key assumption (money in the run's currency)."""
        s = self.by_segment
        if s.empty:
            return t("value.simple.none")
        top = s.iloc[s["clv_share"].fillna(-1).argmax()]
        best = s.iloc[s["mean_clv"].fillna(-np.inf).argmax()]
        text = t("value.simple.finding", margin=fmt.pct(self.options["margin"], 0),
                 years=f"{self.options['expected_lifetime_years']:g}", discount=fmt.pct(self.options["discount_rate"], 0),
                 total=fmt.money(self.table["clv"].sum()), mean=fmt.money(self.table["clv"].mean()),
                 top=category("rfm_segment", top.segment), top_share=fmt.pct(top.clv_share, 0),
                 top_customers=fmt.pct(top.share, 0), best=category("rfm_segment", best.segment),
                 best_mean=fmt.money(best.mean_clv))  # fmt: skip
        neg = float((self.table["clv"] < 0).mean())
        if neg > 0:
            text += t("value.simple.negative", share=fmt.pct(neg, 0))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of mean CLV per segment.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(7, 0.35 * len(self.by_segment) + 1.5))
        sns.barplot(data=self.summary(), x="mean_clv", y="segment", ax=ax, color=sns.color_palette()[0])
        ax.set_xlabel(t("value.simple.x"))
        ax.set_ylabel("")
        ax.set_title(t("value.simple.title"))
        return ax

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

    Returns
    -------
    SimpleCLVResult
    """
    clv = simple_clv(
        features, margin=margin, expected_lifetime_years=expected_lifetime_years, discount_rate=discount_rate,
        acquisition_cost=acquisition_cost, acquisition_cost_by_channel=acquisition_cost_by_channel,
        channel_col=channel_col, min_tenure_days=min_tenure_days,
    )  # fmt: skip
    seg = segment_series(segments, segment_col=segment_col)
    levels = order_levels(seg)
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
        costs = t("value.simple.cac_sep").join(
            t("value.simple.cac_item", channel=k, cost=fmt.money(v, 2)) for k, v in acquisition_cost_by_channel.items()
        )
        cac_txt = t("value.simple.cac_channel", channel_col=channel_col, costs=costs, other=fmt.money(acquisition_cost, 2))
    else:
        cac_txt = t("value.simple.cac", cost=fmt.money(acquisition_cost, 2))
    assumptions = t("value.simple.assumptions", margin=f"{margin:.0%}", factor=f"{af:.3f}", cac=cac_txt,
                    min_tenure=f"{min_tenure_days:g}", years=f"{expected_lifetime_years:g}",
                    discount=f"{discount_rate:.0%}")  # fmt: skip
    options = {
        "margin": float(margin), "expected_lifetime_years": float(expected_lifetime_years),
        "discount_rate": float(discount_rate), "acquisition_cost": float(acquisition_cost),
        "acquisition_cost_by_channel": {str(k): float(v) for k, v in (acquisition_cost_by_channel or {}).items()},
        "channel_col": channel_col, "min_tenure_days": float(min_tenure_days), "annuity_factor": af,
    }  # fmt: skip
    return SimpleCLVResult(table=clv, by_segment=by, assumptions=assumptions, options=options)
