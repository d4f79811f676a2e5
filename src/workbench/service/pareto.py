"""The problem Pareto: which categories make most of the volume and most of the dissatisfaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["ProblemPareto", "problem_pareto"]


@dataclass(frozen=True, eq=False, repr=False)
class ProblemPareto(Result):
    """Categories ranked by volume (see :func:`problem_pareto`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per category, largest first: ``category``, ``n``, ``share``, ``cum_share``,
        ``dissatisfied`` (tickets with satisfaction below ``csat_good``), ``dissatisfied_share``
        (of all dissatisfied tickets), ``cum_dissatisfied_share`` (by the dissatisfaction ranking),
        ``dissatisfied_rate`` with Wilson ``_low``/``_high``, ``vital`` (in the categories that
        make ``vital_share`` of the volume).
    vital_share : float
    """

    table: pd.DataFrame
    vital_share: float

    def summary(self) -> pd.DataFrame:
        out = self.table.copy()
        out["category"] = [category("service_level", v) for v in out["category"]]
        return out.drop(columns=["vital"]).rename(columns={"category": "ticket_category", "cum_share": "cum_volume_share",
                                                          "dissatisfied": "n_dissatisfied"})

    def metrics(self) -> dict[str, Any]:
        vital = self.table[self.table["vital"]]
        return {
            "n_categories": len(self.table), "vital": vital["category"].tolist(),
            "vital_volume_share": num(vital["share"].sum()),
            "top_dissatisfaction": str(self.table.sort_values("dissatisfied", ascending=False)["category"].iloc[0]),
            "shares": {str(r["category"]): num(r["share"]) for _, r in self.table.iterrows()},
        }  # fmt: skip

    def finding(self) -> str:
        vital = self.table[self.table["vital"]]
        top = self.table.sort_values("dissatisfied", ascending=False).iloc[0]
        return t(
            "service.pareto.finding", k=count(len(vital)), total=count(len(self.table)),
            names="、".join(category("service_level", c) for c in vital["category"]), share=pct(vital["share"].sum()),
            worst=category("service_level", top["category"]), worst_share=pct(top["dissatisfied_share"]),
        )  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax, figsize=(8, 4))
        d = self.table
        x = np.arange(len(d))
        ax.bar(x, d["n"], color="#4C72B0", label=t("service.pareto.volume"))
        ax.set_xticks(x, [category("service_level", c) for c in d["category"]], rotation=30, ha="right")
        ax.set_ylabel(t("service.pareto.tickets"))
        ax2 = ax.twinx()
        ax2.plot(x, d["cum_share"], color="#C44E52", marker="o", label=t("service.pareto.cum_volume"))
        ax2.plot(x, d["dissatisfied_share"].cumsum(), color="#DD8452", marker="s", linestyle="--",
                 label=t("service.pareto.cum_dissatisfied"))  # fmt: skip
        ax2.set_ylim(0, 1.05)
        ax2.yaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax2.axhline(self.vital_share, color="grey", linewidth=0.8, linestyle=":")
        ax2.legend(loc="center right")
        ax.set_title(t("service.pareto.title"))
        return ax

    def __repr__(self) -> str:
        return f"ProblemPareto(categories={len(self.table)})"


def problem_pareto(perf_tickets: pd.DataFrame, *, vital_share: float = 0.8, confidence: float = 0.95) -> ProblemPareto:
    """Volume and dissatisfaction by category.

    Parameters
    ----------
    perf_tickets : pandas.DataFrame
        ``ServicePerformance.tickets`` (``category``, ``satisfaction``, ``good``).
    vital_share : float, default 0.8
        The "vital few": the largest categories that together make this share of the volume.
    confidence : float, default 0.95
    """
    d = perf_tickets
    bad = d["satisfaction"].notna() & ~d["good"].astype(bool)
    g = pd.DataFrame({"category": d["category"], "bad": bad, "rated": d["satisfaction"].notna()})
    agg = g.groupby("category").agg(n=("bad", "size"), dissatisfied=("bad", "sum"), rated=("rated", "sum"))
    agg = agg.sort_values("n", ascending=False).reset_index()
    agg["share"] = agg["n"] / agg["n"].sum()
    agg["cum_share"] = agg["share"].cumsum()
    tot_bad = agg["dissatisfied"].sum()
    agg["dissatisfied_share"] = agg["dissatisfied"] / tot_bad if tot_bad else 0.0
    order = agg["dissatisfied"].rank(ascending=False, method="first")
    agg["cum_dissatisfied_share"] = agg.set_index(order)["dissatisfied_share"].sort_index().cumsum().to_numpy()[
        (order - 1).astype(int).to_numpy()]  # fmt: skip
    rate = agg["dissatisfied"] / agg["rated"].where(agg["rated"] > 0)
    lo, hi = wilson_interval(agg["dissatisfied"], agg["rated"], confidence=confidence)
    agg["dissatisfied_rate"], agg["dissatisfied_rate_low"], agg["dissatisfied_rate_high"] = rate, lo, hi
    agg["vital"] = (agg["cum_share"] - agg["share"]) < vital_share
    agg["dissatisfied"] = agg["dissatisfied"].astype("int64")
    return ProblemPareto(table=agg.drop(columns=["rated"]), vital_share=vital_share)
