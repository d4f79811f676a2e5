"""Incremental return of each treatment arm against its campaign's control arm: the
conversions, revenue, margin and profit the campaign added, with intervals (Welch).

The incremental ROI is shown only where it means something: the arm's incremental cost is
tracked (positive) and at least ``min_cost_share`` of its incremental revenue
(:func:`workbench.campaign.kpi.cost_status`); otherwise ``cost_status`` says why and the ROI
with its interval is blank (the profit still is the margin minus the cost)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.kpi import MIN_COST_SHARE, cost_status
from workbench.core.errors import StatisticalWarning
from workbench.report.fmt import money, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm, welch

if TYPE_CHECKING:
    from workbench.campaign.contacts import CampaignData

__all__ = ["IncrementalReturn", "incremental_return"]

_COLUMNS = [
    "campaign_id", "arm", "contacts", "control_contacts", "cr_arm", "cr_control", "rpc_arm", "rpc_control",
    "incremental_conversions", "incremental_conversions_low", "incremental_conversions_high",
    "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high", "incremental_margin",
    "incremental_margin_low", "incremental_margin_high", "incremental_cost", "incremental_profit",
    "incremental_profit_low", "incremental_profit_high",
    "incremental_roi", "incremental_roi_low", "incremental_roi_high", "cost_status", "p_value", "ci_method",
]  # fmt: skip
#: Headline columns of :meth:`IncrementalReturn.summary` (the intervals are in the full table).
_HEADLINE = [
    "campaign_id", "arm", "contacts", "incremental_conversions", "incremental_revenue", "incremental_profit",
    "incremental_roi", "p_holm",
]  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class IncrementalReturn(Result):
    """Incremental conversions, revenue and profit of each treatment arm (see :func:`incremental_return`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per randomized campaign and treatment arm: ``campaign_id``, ``arm``,
        ``contacts``, ``control_contacts``, ``cr_arm``, ``cr_control``, ``rpc_arm``,
        ``rpc_control`` (revenue per contact), ``incremental_conversions``,
        ``incremental_revenue``, ``incremental_margin``, ``incremental_cost``,
        ``incremental_profit``, ``incremental_roi``, each estimate with ``_low``/``_high``,
        ``cost_status`` (tracked / negligible / not_tracked: the ROI is blank unless tracked),
        ``p_value`` (profit = 0, Welch z-test), ``p_holm`` (Holm over all arms), ``ci_method``.
    margin, confidence, random_state, n_boot
        Settings used.
    notes : tuple of str
    min_cost_share : float
        Incremental cost under this share of the incremental revenue is negligible.
    """

    table: pd.DataFrame
    margin: float
    confidence: float
    random_state: int | None
    n_boot: int
    notes: tuple[str, ...] = ()
    min_cost_share: float = MIN_COST_SHARE

    def summary(self) -> pd.DataFrame:
        """Headline: per arm, contacts, incremental conversions, revenue, profit, ROI (blank
        where cost is not tracked or negligible) and the Holm p-value; intervals in :meth:`to_frame`."""
        return self.table[[c for c in _HEADLINE if c in self.table.columns]].copy()

    def to_frame(self) -> pd.DataFrame:
        """The full table (see ``table``)."""
        return self.table.copy()

    def plot(self, ax: Any = None) -> Any:
        """Incremental profit per arm with its interval; the zero line is break-even."""
        import seaborn as sns

        tb = self.table
        ax = new_axes(ax, figsize=(7, 0.5 * max(len(tb), 1) + 1.5))
        if tb.empty:
            ax.text(0.5, 0.5, t("campaign.returns.no_randomized_short"), ha="center", va="center",
                    transform=ax.transAxes)  # fmt: skip
            return ax
        lab = tb["campaign_id"].astype(str) + " · " + tb["arm"].astype(str)
        what = (
            "incremental_profit" if tb["incremental_profit"].notna().any() else "incremental_margin"
        )
        v = tb[what].to_numpy(float)
        lo, hi = tb[f"{what}_low"].to_numpy(float), tb[f"{what}_high"].to_numpy(float)
        colours = [
            "#4c9a4c" if a > 0 else ("#c44e52" if b < 0 else "#999999")
            for a, b in zip(lo, hi, strict=True)
        ]
        sns.barplot(x=v, y=lab, hue=lab, palette=colours, legend=False, ax=ax, orient="h")
        ax.errorbar(
            v, np.arange(len(tb)), xerr=error_bar_lengths(v, lo, hi), fmt="none", ecolor="black", capsize=3
        )
        ax.axvline(0, color="black", lw=1)
        key = "axis_profit" if what == "incremental_profit" else "axis_margin"
        ax.set_xlabel(t(f"campaign.returns.{key}", margin=f"{self.margin:g}"))
        ax.set_ylabel("")
        ax.set_title(t("campaign.returns.title", level=f"{100 * self.confidence:.0f}"))
        return ax

    def arm_text(self, r: Any) -> str:
        """One arm's incremental return in words (``r``: a row of ``table``)."""
        conv = t("campaign.returns.conversions", n=f"{r.incremental_conversions:+,.0f}",
                 low=f"{r.incremental_conversions_low:+,.0f}", high=f"{r.incremental_conversions_high:+,.0f}",
                 revenue=money(r.incremental_revenue))  # fmt: skip
        head = t("campaign.returns.arm", campaign=r.campaign_id, arm=r.arm)
        if not math.isfinite(r.incremental_cost):
            return head + conv + t("campaign.returns.no_cost", margin=money(r.incremental_margin),
                                   low=money(r.incremental_margin_low), high=money(r.incremental_margin_high))
        lo, hi = r.incremental_profit_low, r.incremental_profit_high
        verdict = t("campaign.returns.pays_off" if lo > 0 else "campaign.returns.loses" if hi < 0
                    else "campaign.returns.break_even")  # fmt: skip
        text = head + conv + t("campaign.returns.profit", profit=money(r.incremental_profit), low=money(lo),
                               high=money(hi), cost=money(r.incremental_cost), verdict=verdict)  # fmt: skip
        if r.cost_status == "tracked":
            text += " " + t("campaign.returns.roi", roi=f"{r.incremental_roi:,.2f}",
                            low=f"{r.incremental_roi_low:,.2f}", high=f"{r.incremental_roi_high:,.2f}")
        else:
            text += " " + t("campaign.returns.roi_negligible", share=pct(self.min_cost_share, 0))
        return text

    def finding(self) -> str:
        if self.table.empty:
            return t("campaign.returns.no_randomized")
        return " ".join(self.arm_text(r) for r in self.table.itertuples())

    def metrics(self) -> dict[str, Any]:
        keys = [
            "incremental_conversions",
            "incremental_revenue",
            "incremental_profit",
            "incremental_roi",
        ]
        return {
            "margin": self.margin,
            "confidence": self.confidence,
            "random_state": self.random_state,
            "n_boot": self.n_boot,
            "min_cost_share": self.min_cost_share,
            "arms": [
                {
                    "campaign_id": str(r["campaign_id"]),
                    "arm": str(r["arm"]),
                    **{k: num(r[k]) for k in keys},
                    **{f"{k}_low": num(r[f"{k}_low"]) for k in keys},
                    **{f"{k}_high": num(r[f"{k}_high"]) for k in keys},
                    "p_holm": num(r["p_holm"]),
                    "cost_status": str(r["cost_status"]),
                }
                for _, r in self.table.iterrows()
            ],
        }

    def __repr__(self) -> str:
        return f"IncrementalReturn({len(self.table)} arm(s) vs control, margin={self.margin:g}, n_boot={self.n_boot})"


def _diff_se(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of means and its Welch standard error (:func:`workbench.stats.welch`)."""
    w = welch(a, b)
    return w["diff"], w["se"]


def _roi_interval(
    prof: np.ndarray, cost: np.ndarray, is_t: np.ndarray, *, inc_prof: float, inc_cost: float, se_prof: float,
    n: int, z: float, bootstrap: int, confidence: float, random_state: int | None,
) -> tuple[float, float, str]:
    """Interval of the incremental ROI: profit interval / fixed cost, or a percentile bootstrap."""
    fixed_cost = np.ptp(cost[is_t]) == 0 and np.ptp(cost[~is_t]) == 0
    if inc_cost > 0 and (bootstrap == 0 or fixed_cost):
        lo, hi = (inc_prof - z * se_prof * n) / inc_cost, (inc_prof + z * se_prof * n) / inc_cost
        return lo, hi, "Welch normal (delta method); ROI = profit interval / fixed cost"
    if not inc_cost > 0:
        return float("nan"), float("nan"), "Welch normal (delta method); no incremental cost, ROI n/a"

    def stat(idx: np.ndarray) -> float:
        m = is_t[idx]
        if m.all() or not m.any():
            return float("nan")
        dc = cost[idx][m].mean() - cost[idx][~m].mean()
        return float((prof[idx][m].mean() - prof[idx][~m].mean()) / dc) if dc > 0 else float("nan")

    lo, hi, _ = bootstrap_ci(stat, len(is_t), n_boot=bootstrap, confidence=confidence, random_state=random_state)
    return lo, hi, f"Welch normal (delta method); ROI percentile bootstrap ({bootstrap} resamples)"


def _arm_row(
    camp: str, arm: str, trt: pd.DataFrame, ctl: pd.DataFrame, *, margin: float, has_cost: bool, z: float,
    bootstrap: int, confidence: float, random_state: int | None, notes: list[str], min_cost_share: float,
) -> dict[str, Any]:
    """One row of the incremental-return table: arm ``arm`` of ``camp`` against its control."""
    from scipy.stats import norm

    both = pd.concat([trt, ctl])
    is_t = np.r_[np.ones(len(trt), bool), np.zeros(len(ctl), bool)]
    conv = both["converted"].astype(float).to_numpy()
    rev = both["revenue"].astype(float).to_numpy()
    cost = (
        pd.to_numeric(both["cost"], errors="coerce").fillna(0).to_numpy(float) if has_cost else np.zeros(len(both))
    )
    if np.isnan(rev).any():
        notes.append(f"{camp} {arm}: revenue not tracked for some contacts; revenue and profit are n/a")
    n = len(trt)
    prof = margin * rev - cost
    d_conv, se_conv = _diff_se(conv[is_t], conv[~is_t])
    d_rev, se_rev = _diff_se(rev[is_t], rev[~is_t])
    d_cost = float(cost[is_t].mean() - cost[~is_t].mean())
    d_prof, se_prof = _diff_se(prof[is_t], prof[~is_t])
    inc_cost, inc_prof = d_cost * n, d_prof * n
    roi = inc_prof / inc_cost if inc_cost > 0 else float("nan")
    p = float(2 * norm.sf(abs(d_prof / se_prof))) if se_prof and se_prof > 0 else float("nan")
    status = str(cost_status(inc_cost, d_rev * n, min_cost_share=min_cost_share)) if has_cost else "not_tracked"
    if status == "tracked":
        roi_lo, roi_hi, method = _roi_interval(
            prof, cost, is_t, inc_prof=inc_prof, inc_cost=inc_cost, se_prof=se_prof, n=n, z=z,
            bootstrap=bootstrap, confidence=confidence, random_state=random_state,
        )  # fmt: skip
    else:
        roi, roi_lo, roi_hi = float("nan"), float("nan"), float("nan")
        method = f"Welch normal (delta method); cost {status.replace('_', ' ')}, ROI not shown"
    return {
        "campaign_id": camp, "arm": arm, "contacts": n, "control_contacts": len(ctl),
        "cr_arm": conv[is_t].mean(), "cr_control": conv[~is_t].mean(),
        "rpc_arm": rev[is_t].mean(), "rpc_control": rev[~is_t].mean(),
        "incremental_conversions": d_conv * n,
        "incremental_conversions_low": (d_conv - z * se_conv) * n,
        "incremental_conversions_high": (d_conv + z * se_conv) * n,
        "incremental_revenue": d_rev * n,
        "incremental_revenue_low": (d_rev - z * se_rev) * n,
        "incremental_revenue_high": (d_rev + z * se_rev) * n,
        "incremental_margin": margin * d_rev * n,
        "incremental_margin_low": margin * (d_rev - z * se_rev) * n,
        "incremental_margin_high": margin * (d_rev + z * se_rev) * n,
        "incremental_cost": inc_cost,
        "incremental_profit": inc_prof,
        "incremental_profit_low": (d_prof - z * se_prof) * n,
        "incremental_profit_high": (d_prof + z * se_prof) * n,
        "incremental_roi": roi, "incremental_roi_low": roi_lo, "incremental_roi_high": roi_hi,
        "cost_status": status, "p_value": p, "ci_method": method,
    }  # fmt: skip


def incremental_return(
    data: CampaignData,
    *,
    margin: float = 0.3,
    random_state: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    min_cost_share: float = MIN_COST_SHARE,
) -> IncrementalReturn:
    """Incremental return of each treatment arm of the randomized campaigns against control.

    Per arm with ``n`` contacts: incremental conversions ``= (CR_arm - CR_control) * n``,
    incremental revenue ``= (RPC_arm - RPC_control) * n``, incremental margin ``= margin *
    incremental revenue``, incremental cost ``= (cost per contact_arm - _control) * n``,
    incremental profit ``= incremental margin - incremental cost`` and incremental ROI ``=
    profit / cost``. Intervals of conversions, revenue and profit: difference of means with
    Welch's standard error (normal, delta method); profit is also tested against 0 (Welch
    z-test, Holm-adjusted over all arms). The ROI interval is a seeded percentile bootstrap of
    the contacts of arm and control (``bootstrap`` resamples), or profit interval / cost when
    ``bootstrap=0`` or the cost per contact is fixed.

    Parameters
    ----------
    data : CampaignData
        From :func:`workbench.campaign.prepare_contacts`.
    margin : float, default 0.3
        Gross margin on revenue, in (0, 1] (validated by the params model).
    random_state : int, optional
        Seed of the bootstrap (params ``seed``).
    bootstrap : int, default 1000
        Resamples for the ROI interval; 0 for the delta method only.
    confidence : float, default 0.95
    min_cost_share : float, default 0.01
        An incremental cost under this share of the incremental revenue is negligible: the
        ROI and its interval are left blank (``cost_status``; params
        ``analyses.campaign.min_cost_share``). 0 shows the ROI for every positive cost.

    Returns
    -------
    IncrementalReturn
        Empty table (with a note) when no campaign has a control arm.
    """
    from scipy.stats import norm

    c = data.contacts
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    notes: list[str] = []
    has_cost = "cost" in c.columns
    if not has_cost:
        notes.append("no cost column: incremental cost, profit and ROI are n/a (incremental margin is shown)")
    rows = []
    for camp in data.randomized:
        sub = c.loc[c["campaign_id"] == camp]
        ctl = sub.loc[sub["arm"] == data.control_arm]
        for arm in sorted(sub["arm"].unique()):
            if arm == data.control_arm:
                continue
            rows.append(_arm_row(
                camp, arm, sub.loc[sub["arm"] == arm], ctl, margin=margin, has_cost=has_cost, z=z,
                bootstrap=bootstrap, confidence=confidence, random_state=random_state, notes=notes,
                min_cost_share=min_cost_share,
            ))  # fmt: skip
    tab = pd.DataFrame(rows, columns=_COLUMNS)
    if not has_cost:
        unknown = [c for c in _COLUMNS if c.startswith(("incremental_cost", "incremental_profit", "incremental_roi"))]
        tab[unknown] = np.nan
        tab["p_value"] = np.nan
    tab["p_holm"] = holm(tab["p_value"].to_numpy(float)) if len(tab) else pd.Series(dtype=float)
    obs = data.designs.loc[data.designs["design"] == "observational", "campaign_id"].tolist()
    if obs:
        notes.append(
            f"{', '.join(obs)}: no control arm, so no incremental return here (see the observational "
            "estimates in experiments)"
        )
    if not data.randomized:
        warnings.warn(
            t("campaign.warn.no_control_return_none") if data.control_arm is None
            else t("campaign.warn.no_control_return", arm=repr(data.control_arm)),
            StatisticalWarning,
            stacklevel=2,
        )
    return IncrementalReturn(
        table=tab, margin=float(margin), confidence=float(confidence), random_state=random_state,
        n_boot=int(bootstrap), notes=tuple(notes), min_cost_share=float(min_cost_share),
    )  # fmt: skip
