"""Channel economics: attributed conversions, revenue and margin against spend, by channel and month.

``cpa`` = spend / attributed conversions, ``roas`` = attributed revenue / spend, ``roi`` =
(attributed margin - spend) / spend. The attributed figures come from one model
(``economics_model``; the data-driven reference of :func:`compare_models`) with the bootstrap
intervals of the model comparison (the spend is taken as known), and by month from the same
model fitted on each month's journeys (conversions by their month, non-converting journeys by
the month of their last touch), with intervals from the same customer resamples.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.attribution.journeys import Journeys
from workbench.attribution.models import ModelComparison, PathModel, _interval, customer_weights
from workbench.core.errors import AnalysisError, DataQualityWarning, format_examples
from workbench.report import i18n
from workbench.report.fmt import count, money, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["ChannelEconomics", "channel_economics"]


@dataclass(frozen=True, repr=False)
class ChannelEconomics(Result):
    """Spend against attributed value by channel (see :func:`channel_economics`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per channel: ``channel``, ``spend``, ``conversions``, ``revenue``, ``margin`` and
        ``cpa``, ``roas``, ``roi``, each with ``_low``/``_high``; ``last_touch_conversions``,
        ``last_touch_roi``, ``credit`` (``over`` / ``under`` / ``even`` by last touch).
    monthly : pandas.DataFrame
        One row per month and channel: ``month``, ``channel``, ``spend``, ``conversions``,
        ``revenue``, ``roi`` with ``roi_low``/``roi_high``.
    model : str
    untouched_spend : pandas.DataFrame
        Spend of channels no touchpoint has: ``channel``, ``spend``.
    confidence : float
    """

    table: pd.DataFrame
    monthly: pd.DataFrame
    model: str
    untouched_spend: pd.DataFrame
    confidence: float

    def summary(self) -> pd.DataFrame:
        """Per channel: spend, attributed conversions, revenue, CPA, ROAS and ROI with intervals, ROI by last touch."""
        cols = ["channel", "spend", "conversions", "conversions_low", "conversions_high", "revenue", "cpa", "roas",
                "roi", "roi_low", "roi_high", "last_touch_roi"]  # fmt: skip
        return self.table[cols].copy()

    def to_frame(self) -> pd.DataFrame:
        """Per month and channel."""
        return self.monthly.copy()

    def plot(self, ax: Any = None) -> Any:
        """ROI by channel: the data-driven model with its interval, and last touch."""
        t = self.table[self.table["spend"] > 0].sort_values("roi")
        ax = new_axes(ax, figsize=(7, 0.5 * len(t) + 2))
        y = np.arange(len(t))
        ax.errorbar(t["roi"], y, xerr=[t["roi"] - t["roi_low"], t["roi_high"] - t["roi"]], fmt="o", capsize=3,
                    label=i18n.category("attribution_model", self.model))  # fmt: skip
        ax.scatter(t["last_touch_roi"], y, marker="x", color="#C44E52", label=i18n.category("attribution_model",
                                                                                           "last_touch"))
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_yticks(y, list(t["channel"]))
        ax.xaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_xlabel(i18n.label("roi"))
        ax.set_title(i18n.t("attribution.economics.plot_title"))
        ax.legend(loc="lower right")
        return ax

    def metrics(self) -> dict[str, Any]:
        t = self.table.set_index("channel")
        return {"model": self.model, "spend": {c: round(float(v), 2) for c, v in t["spend"].items()},
                "roi": {c: None if not np.isfinite(v) else round(float(v), 4) for c, v in t["roi"].items()},
                "untouched_spend": float(self.untouched_spend["spend"].sum())}  # fmt: skip

    def best_and_worst(self) -> tuple[pd.Series | None, pd.Series | None]:
        """Paid channels with the highest and the lowest ROI (None without spend)."""
        t = self.table[(self.table["spend"] > 0) & np.isfinite(self.table["roi"])]
        if t.empty:
            return None, None
        return t.loc[t["roi"].idxmax()], t.loc[t["roi"].idxmin()]

    def finding(self) -> str:
        best, worst = self.best_and_worst()
        if best is None:
            return i18n.t("attribution.economics.no_spend")
        model = i18n.category("attribution_model", self.model)
        text = i18n.t("attribution.economics.finding", model=model, best=best["channel"], roi=pct(best["roi"]),
                      low=pct(best["roi_low"]), high=pct(best["roi_high"]), worst=worst["channel"],
                      worst_roi=pct(worst["roi"]), worst_low=pct(worst["roi_low"]), worst_high=pct(worst["roi_high"]),
                      spend=money(self.table["spend"].sum()))  # fmt: skip
        if len(self.untouched_spend):
            text += " " + i18n.t("attribution.economics.untouched", channels=", ".join(self.untouched_spend["channel"]),
                                 spend=money(self.untouched_spend["spend"].sum()))  # fmt: skip
        return text


def _spend_by(spend: pd.DataFrame | None, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Spend in the period: ``channel``, ``month``, ``spend``."""
    if spend is None or spend.empty:
        return pd.DataFrame({"channel": pd.Series(dtype=str), "month": pd.Series(dtype=str), "spend": []})
    for col in ("date", "channel", "cost"):
        if col not in spend.columns:
            raise AnalysisError(f"spend: column {col!r} is needed (columns: {', '.join(map(str, spend.columns))}); "
                                "map it in tables.spend.columns")  # fmt: skip
    s = spend.loc[(pd.to_datetime(spend["date"]) > start) & (pd.to_datetime(spend["date"]) <= end)]
    return pd.DataFrame({"channel": s["channel"].astype(str).to_numpy(),
                         "month": pd.to_datetime(s["date"]).dt.strftime("%Y-%m").to_numpy(),
                         "spend": s["cost"].astype(float).to_numpy()})  # fmt: skip


def _ratios(conv: np.ndarray, rev: np.ndarray, margin: np.ndarray, spend: np.ndarray) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        paid = spend > 0
        return {"cpa": np.where(paid & (conv > 0), spend / np.where(conv > 0, conv, 1), np.nan),
                "roas": np.where(paid, rev / np.where(paid, spend, 1), np.nan),
                "roi": np.where(paid, (margin - spend) / np.where(paid, spend, 1), np.nan)}  # fmt: skip


def channel_economics(
    journeys: Journeys, comparison: ModelComparison, spend: pd.DataFrame | None, *, model: str | None = None,
    markov_orders: list[int] = (1,), shapley_max_exact: int = 12, shapley_samples: int = 2000,  # type: ignore[assignment]
    random_state: int | None = 0,
) -> ChannelEconomics:  # fmt: skip
    """Spend, CPA, ROAS and ROI by channel and month for one model.

    Parameters
    ----------
    journeys : Journeys
    comparison : ModelComparison
        From :func:`compare_models` (its bootstrap draws give the intervals).
    spend : pandas.DataFrame, optional
        Canonical ``spend`` (``date``, ``channel``, ``cost``).
    model : str, optional
        Default the comparison's reference model.
    markov_orders, shapley_max_exact, shapley_samples, random_state
        As in :func:`compare_models` (the monthly refits).

    Returns
    -------
    ChannelEconomics

    Raises
    ------
    AnalysisError
        ``model`` is not one of the comparison's models.
    """
    model = model or comparison.reference
    if model not in comparison.replicates:
        raise AnalysisError(f"economics_model={model!r} is not a model of the comparison; choose one of "
                            f"{', '.join(comparison.replicates)}")  # fmt: skip
    chans = list(comparison.channels)
    sp_ = _spend_by(spend, journeys.period_start, journeys.period_end)
    untouched = sp_[~sp_["channel"].isin(chans)].groupby("channel", as_index=False)["spend"].sum()
    if len(untouched):
        warnings.warn(i18n.t("attribution.warn.untouched_spend", channels=format_examples(untouched["channel"]),
                             spend=money(untouched["spend"].sum()), n=count(len(untouched))),
                      DataQualityWarning, stacklevel=2)  # fmt: skip
    per_ch = sp_.groupby("channel")["spend"].sum().reindex(chans).fillna(0.0).to_numpy()
    t = comparison.table
    pt = t[t["model"] == model].set_index("channel").reindex(chans)
    lt = t[t["model"] == "last_touch"].set_index("channel").reindex(chans)
    rep = comparison.replicates[model]
    r = _ratios(pt["conversions"].to_numpy(), pt["revenue"].to_numpy(), pt["margin"].to_numpy(), per_ch)
    rr = _ratios(rep[:, 0, :], rep[:, 1, :], rep[:, 2, :], per_ch[None, :]) if len(rep) else None
    table = pd.DataFrame({"channel": chans, "spend": per_ch})
    for name, col in (("conversions", 0), ("revenue", 1), ("margin", 2)):
        table[name] = pt[name].to_numpy() if name != "margin" else pt["margin"].to_numpy()
        lo, hi = _interval(rep[:, col, :], comparison.confidence) if len(rep) else (np.nan, np.nan)
        table[f"{name}_low"], table[f"{name}_high"] = lo, hi
    for name in ("cpa", "roas", "roi"):
        table[name] = r[name]
        lo, hi = _interval(rr[name], comparison.confidence) if rr is not None else (np.nan, np.nan)
        table[f"{name}_low"], table[f"{name}_high"] = lo, hi
    table["last_touch_conversions"] = lt["conversions"].to_numpy()
    table["last_touch_roi"] = _ratios(lt["conversions"].to_numpy(), lt["revenue"].to_numpy(), lt["margin"].to_numpy(),
                                      per_ch)["roi"]  # fmt: skip
    table["credit"] = comparison.gaps.set_index("channel").reindex(chans)["credit"].to_numpy()
    extra = untouched.assign(conversions=0.0, revenue=0.0, margin=0.0, credit="even")
    table = pd.concat([table, extra], ignore_index=True) if len(extra) else table
    monthly = _monthly(journeys, sp_, model, chans, comparison, markov_orders=markov_orders,
                       shapley_max_exact=shapley_max_exact, shapley_samples=shapley_samples,
                       random_state=random_state)  # fmt: skip
    return ChannelEconomics(table=table, monthly=monthly, model=model, untouched_spend=untouched,
                            confidence=comparison.confidence)  # fmt: skip


def _monthly(journeys: Journeys, spend: pd.DataFrame, model: str, chans: list[str], comparison: ModelComparison, *,
             markov_orders: list[int], shapley_max_exact: int, shapley_samples: int,
             random_state: int | None) -> pd.DataFrame:  # fmt: skip
    """The model refitted on each month's journeys, with intervals from the same customer resamples."""
    orders = [int(model.split("_")[1])] if model.startswith("markov_") else list(markov_orders)[:1] or [1]
    pm = PathModel.from_journeys(journeys, markov_orders=orders, shapley_max_exact=shapley_max_exact,
                                 shapley_samples=shapley_samples, random_state=random_state)  # fmt: skip
    jt = journeys.journeys
    when = pd.to_datetime(jt["conv_time"].where(jt["converted"], jt["last_time"]))
    month = when.dt.strftime("%Y-%m").to_numpy()
    months = sorted(set(month))
    rng = np.random.default_rng(random_state)
    cust = jt["customer_id"].to_numpy(dtype=object).astype(str)
    draws = [customer_weights(cust, rng) for _ in range(min(comparison.bootstrap, 100))]
    sp_m = spend.groupby(["month", "channel"])["spend"].sum()
    rows = []
    for m in months:
        inm = (month == m).astype(float)
        point = pm.credit(inm, only=(model,))[model]
        reps = np.array([pm.credit(inm * w, only=(model,))[model] for w in draws]) if draws else np.zeros((0, 3, 0))
        s = np.array([float(sp_m.get((m, c), 0.0)) for c in chans])
        r = _ratios(point[0], point[1], point[2], s)
        lo, hi = (_interval(_ratios(reps[:, 0], reps[:, 1], reps[:, 2], s[None, :])["roi"], comparison.confidence)
                  if len(reps) else (np.full(len(chans), np.nan),) * 2)  # fmt: skip
        for i, c in enumerate(chans):
            rows.append({"month": m, "channel": c, "spend": s[i], "conversions": point[0, i], "revenue": point[1, i],
                         "roi": r["roi"][i], "roi_low": lo[i], "roi_high": hi[i]})  # fmt: skip
    return pd.DataFrame(rows)
