"""Recommendations computed from the churn results: the biggest controllable driver, when churn
peaks, where the value at risk is, and how many churners left unhappy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import level_text
from workbench.churn.drivers import ChurnDrivers, is_controllable
from workbench.churn.reasons import ChurnReasons
from workbench.report.fmt import money, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["Recommendations", "recommendations"]

#: Rate-like facts charted by :meth:`Recommendations.plot` (labels: ``churn.recommend.plot.<fact>``).
_CHARTED = ("top_driver_rate", "peak_hazard", "unhappy_share")


@dataclass(frozen=True, eq=False, repr=False)
class Recommendations(Result):
    """Actions computed from the churn results (see :func:`recommendations`).

    Attributes
    ----------
    items : list of str
        The recommendations, most important first.
    facts : dict
        The figures behind them (``top_driver``, ``peak_hazard``, ``top_value_segment`` ...).
    topics : list of str
        What each item is about (``driver``, ``timing``, ``value``, ``service``), one per item.
    """

    items: list[str]
    facts: dict[str, Any]
    topics: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per recommendation."""
        return pd.DataFrame({"recommendation": self.items})

    def to_frame(self) -> pd.DataFrame:
        """One row per recommendation: ``rank``, ``topic``, ``recommendation``."""
        topics = list(self.topics) + [""] * (len(self.items) - len(self.topics))
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(self.items) + 1),
                "topic": [category("churn_topic", x) if x else x for x in topics[: len(self.items)]],
                "recommendation": self.items,
            }
        )

    def finding(self) -> str:
        """The recommendations as one paragraph."""
        return t("churn.join").join(self.items)

    def metrics(self) -> dict[str, Any]:
        """The figures behind the recommendations (JSON-able)."""
        return {k: (num(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in self.facts.items()}

    def plot(self, ax: Any = None) -> Any:
        """The shares behind the recommendations (worst driver level, peak hazard, unhappy churners).

        Returns
        -------
        matplotlib.axes.Axes
        """
        shown = {t(f"churn.recommend.plot.{k}"): float(self.facts[k]) for k in _CHARTED if num(self.facts.get(k)) is not None}
        ax = new_axes(ax, figsize=(7, 0.45 * max(len(shown), 1) + 1.2))
        if not shown:
            ax.text(0.5, 0.5, t("churn.recommend.plot.empty"), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        ax.barh(list(shown), list(shown.values()), color="tab:blue")
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(t("churn.recommend.plot.xlabel"))
        ax.set_title(t("churn.recommend.plot.title"))
        return ax

    def __repr__(self) -> str:
        return f"Recommendations(items={len(self.items)})"


def recommendations(
    *,
    drivers: ChurnDrivers,
    hazard: Any,
    cox: Any = None,
    reasons: ChurnReasons | None = None,
    value_at_risk: pd.DataFrame | None = None,
    controllable: list[str] | None = None,
) -> Recommendations:
    """Recommendations from the numbers: the biggest controllable driver, when churn peaks, where
    the value at risk is, and how many churners left unhappy.

    Parameters
    ----------
    drivers : ChurnDrivers
    hazard : HazardResult
        From :func:`workbench.churn.survival.hazard_by_tenure`.
    cox : CoxResult, optional
        Confirms whether the driver holds once other covariates are fixed.
    reasons : ChurnReasons, optional
    value_at_risk : pandas.DataFrame, optional
        Value at risk by segment from the retention list (``segment``, ``value_at_risk``; other
        column names: the first text column and the first numeric column are used). Money is
        written in the run's currency (:func:`workbench.report.fmt.settings`).
    controllable : list of str, optional
        Driver columns the business can act on; default all but
        :data:`workbench.churn.drivers.NOT_CONTROLLABLE`.

    Returns
    -------
    Recommendations
    """
    items: list[str] = []
    topics: list[str] = []
    facts: dict[str, Any] = {}
    for topic, text in (
        ("driver", _driver_item(drivers, cox, controllable=controllable, facts=facts)),
        ("timing", _timing_item(hazard, facts=facts)),
        ("value", _value_item(value_at_risk, facts=facts)),
        ("service", _service_item(reasons, facts=facts)),
    ):
        if text:
            items.append(text)
            topics.append(topic)
    return Recommendations(items=items, facts=facts, topics=topics)


def _driver_item(drivers: ChurnDrivers, cox: Any, *, controllable: list[str] | None, facts: dict[str, Any]) -> str:
    tab = drivers.table.copy()
    tab["controllable"] = [is_controllable(f, controllable) for f in tab["feature"]]
    sig = tab[(tab["p_holm"] < 1 - drivers.confidence) & tab["controllable"]]
    if not len(sig):
        return t("churn.recommend.driver.none")
    r = sig.iloc[0]
    facts.update(
        top_driver=r["feature"], top_driver_worst_level=str(r["worst_level"]), top_driver_rate=float(r["worst_rate"])
    )
    text = t("churn.recommend.driver.act", feature=r["feature"], v=f"{r['cramers_v']:.2f}",
             level=level_text(r["worst_level"]), rate=pct(r["worst_rate"]), overall=pct(drivers.overall_rate))
    if cox is not None:
        rows = cox.table[cox.table["covariate"] == r["feature"]]
        if len(rows):
            s = rows[rows["p_holm"] < 1 - cox.confidence]
            text += t("churn.recommend.driver.cox_confirms") if len(s) else t("churn.recommend.driver.cox_doubts")
    return text


def _timing_item(hazard: Any, *, facts: dict[str, Any]) -> str:
    pk = getattr(hazard, "peak", {}) or {}
    if not np.isfinite(pk.get("hazard", np.nan)):
        return ""
    facts.update(peak_start=pk["start"], peak_end=pk["end"], peak_hazard=pk["hazard"])
    return t("churn.recommend.timing", start=f"{pk['start']:g}", end=f"{pk['end']:g}", hazard=pct(pk["hazard"]),
             width=f"{hazard.width:g}")


def _value_item(value_at_risk: pd.DataFrame | None, *, facts: dict[str, Any]) -> str:
    if value_at_risk is None or not len(value_at_risk):
        return ""
    v = value_at_risk
    seg_col = "segment" if "segment" in v else next(c for c in v.columns if not pd.api.types.is_numeric_dtype(v[c]))
    val_col = (
        "value_at_risk" if "value_at_risk" in v else next(c for c in v.columns if pd.api.types.is_numeric_dtype(v[c]))
    )
    top = v.sort_values(val_col, ascending=False).iloc[0]
    share = float(top[val_col] / v[val_col].sum()) if v[val_col].sum() else np.nan
    facts.update(top_value_segment=str(top[seg_col]), top_value_at_risk=float(top[val_col]))
    return t("churn.recommend.value", segment=level_text(top[seg_col]), value=money(top[val_col]),
             share=pct(share))


def _service_item(reasons: ChurnReasons | None, *, facts: dict[str, Any]) -> str:
    if reasons is None:
        return ""
    p = reasons.profile.set_index("reason")
    if "unhappy" not in p.index or not p.loc["unhappy", "customers"] > 0:
        return ""
    facts.update(unhappy_share=float(p.loc["unhappy", "share"]))
    return t("churn.recommend.service", share=pct(p.loc["unhappy", "share"]))
