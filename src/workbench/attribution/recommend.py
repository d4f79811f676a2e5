"""Actions computed from the numbers (the channel to grow, the one to cut, the time slot to favour),
and the key findings of the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.attribution.economics import ChannelEconomics
from workbench.attribution.models import ModelComparison
from workbench.attribution.paths import PathsResult
from workbench.attribution.when import Regions, TimeSlots
from workbench.report import i18n
from workbench.report.fmt import pct, pp
from workbench.report.results import Result
from workbench.report.summary import KeyFinding

__all__ = ["Recommendation", "key_findings", "recommend", "run_metrics"]


@dataclass(frozen=True, repr=False)
class Recommendation(Result):
    """What to do next (see :func:`recommend`).

    Attributes
    ----------
    actions : pandas.DataFrame
        ``action`` (``grow``, ``cut``, ``time_slot``, ``region``), ``target`` (channel, slot or
        region; for the slot the hours, with ``day_type``), ``estimate_pct``, ``ci_low``, ``ci_high`` (ROI or conversion rate), ``sure`` (the
        interval is clear of the comparison: 0 ROI for channels, the overall rate for slots and
        regions).
    model : str
    """

    actions: pd.DataFrame
    model: str

    def summary(self) -> pd.DataFrame:
        """One row per action."""
        out = self.actions.copy()
        out["action"] = [i18n.category("attribution_action", a) for a in out["action"]]
        if "day_type" in out:
            out["day_type"] = [i18n.category("attribution_day", d) if isinstance(d, str) else "" for d in out["day_type"]]
        return out

    def metrics(self) -> dict[str, Any]:
        return {a: str(t) for a, t in zip(self.actions["action"], self.actions["target"], strict=True)} | {
            "time_slot_day_type": str(self.actions.get("day_type", pd.Series(dtype=str)).dropna().iloc[0])
            if self.actions.get("day_type") is not None and self.actions["day_type"].notna().any() else None}

    def text(self, action: str) -> str:
        """The sentence of one action (empty when there is none)."""
        row = self.actions[self.actions["action"] == action]
        if row.empty:
            return ""
        r = row.iloc[0]
        sure = "sure" if r["sure"] else "unsure"
        target = r["target"]
        if action == "time_slot":
            target = f"{i18n.category('attribution_day', r['day_type'])} {target}"
        return i18n.t(f"attribution.recommend.{action}_{sure}", target=target, value=pct(r["estimate_pct"]),
                      low=pct(r["ci_low"]), high=pct(r["ci_high"]),
                      model=i18n.category("attribution_model", self.model))  # fmt: skip

    def finding(self) -> str:
        parts = [self.text(a) for a in ("grow", "cut", "time_slot", "region")]
        parts = [p for p in parts if p]
        return " ".join(parts) if parts else i18n.t("attribution.recommend.none")


def recommend(economics: ChannelEconomics, slots: TimeSlots, regions: Regions | None = None) -> Recommendation:
    """The channel to grow (highest ROI), to cut (lowest ROI), the slot and region to favour.

    Parameters
    ----------
    economics : ChannelEconomics
    slots : TimeSlots
    regions : Regions, optional

    Returns
    -------
    Recommendation
    """
    rows = []
    best, worst = economics.best_and_worst()
    if best is not None:
        rows.append({"action": "grow", "target": best["channel"], "estimate_pct": best["roi"], "ci_low": best["roi_low"],
                     "ci_high": best["roi_high"], "sure": bool(best["roi_low"] > 0)})  # fmt: skip
    if worst is not None and worst["channel"] != (best["channel"] if best is not None else None):
        rows.append({"action": "cut", "target": worst["channel"], "estimate_pct": worst["roi"],
                     "ci_low": worst["roi_low"], "ci_high": worst["roi_high"],
                     "sure": bool(worst["roi_high"] < 0)})  # fmt: skip
    g = slots.grid
    overall = g["conversions"].sum() / max(g["journeys"].sum(), 1)
    b = slots.best()
    rows.append({"action": "time_slot", "target": b["band"], "day_type": b["day_type"], "estimate_pct": b["conversion_rate"],
                 "ci_low": b["ci_low"], "ci_high": b["ci_high"], "sure": bool(b["ci_low"] > overall)})  # fmt: skip
    if regions is not None and len(regions.table) > 1:
        t = regions.table
        r = t.loc[t["conversion_rate"].idxmax()]
        rows.append({"action": "region", "target": r["region"], "estimate_pct": r["conversion_rate"],
                     "ci_low": r["ci_low"], "ci_high": r["ci_high"], "sure": bool(r["p_holm"] < 0.05)})  # fmt: skip
    return Recommendation(actions=pd.DataFrame(rows), model=economics.model)


def key_findings(
    paths: PathsResult | None = None, comparison: ModelComparison | None = None,
    economics: ChannelEconomics | None = None, slots: TimeSlots | None = None, regions: Regions | None = None,
    recommendation: Recommendation | None = None,
) -> list[KeyFinding | None]:  # fmt: skip
    """Three to six findings of the report, each with its numbers and action (``None`` for a missing part).

    Returns
    -------
    list of KeyFinding or None
    """
    out: list[KeyFinding | None] = []
    rec = recommendation
    if economics is not None and rec is not None:
        out.append(KeyFinding(economics.finding(), rec.text("grow") + (" " + rec.text("cut") if rec.text("cut") else "")))
    if comparison is not None:
        g = comparison.gaps
        over = g[g["credit"] == "over"].sort_values("gap", ascending=False)
        under = g[g["credit"] == "under"].sort_values("gap")
        if len(over) and len(under):
            o, u = over.iloc[0], under.iloc[0]
            out.append(KeyFinding(
                i18n.t("attribution.summary.credit", over=o["channel"], over_gap=pp(o["gap"]), under=u["channel"],
                       under_gap=pp(-u["gap"]), model=i18n.category("attribution_model", comparison.reference)),
                i18n.t("attribution.summary.credit_action", under=u["channel"]),
            ))  # fmt: skip
        else:
            out.append(KeyFinding(comparison.finding(), ""))
    if paths is not None:
        out.append(KeyFinding(paths.finding(), i18n.t("attribution.summary.paths_action")))
    if slots is not None and rec is not None:
        out.append(KeyFinding(slots.finding(), rec.text("time_slot")))
    if regions is not None and rec is not None:
        out.append(KeyFinding(regions.finding(), rec.text("region")))
    return out


def run_metrics(**results: Result | None) -> dict[str, Any]:
    """The ``metrics()`` of each result given (``None`` ones left out), by name, for ``metrics.json``.

    Examples
    --------
    >>> run_metrics(paths=None)
    {}
    """
    return {name: r.metrics() for name, r in results.items() if r is not None}
