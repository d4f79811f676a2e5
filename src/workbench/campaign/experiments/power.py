"""Power, minimum detectable effect and sample sizes for the next test (:func:`power_plan`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.campaign.experiments._common import (
    arm_labels,
    campaign_name,
    check_one_campaign,
    fmt_abs,
    is_binary,
    metric_arrays,
    metric_word,
    require_columns,
)
from workbench.core.errors import AnalysisError
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["PowerPlan", "power_plan"]


@dataclass(frozen=True, eq=False, repr=False)
class PowerPlan(Result):
    """Power, minimum detectable effect and sample sizes (see :func:`power_plan`).

    Attributes
    ----------
    design : pandas.DataFrame
        One row per relative lift: ``relative_lift``, ``absolute_lift``, ``treated_value``,
        ``n_per_arm_needed`` (equal arms), ``n_total_needed`` (all arms of this design),
        ``power_at_observed_n``.
    observed : pandas.DataFrame
        One row per treated arm: ``arm``, ``n``, ``control_n``, ``power_for_target``,
        ``mde_absolute``, ``mde_relative`` (at the wanted power).
    metric, control, campaign : str
    base : float
        Control rate (binary) or mean.
    sd : float
        Control standard deviation (NaN for binary metrics).
    binary : bool
    power, target_lift, alpha : float
    n_arms : int
    """

    design: pd.DataFrame
    observed: pd.DataFrame
    metric: str
    control: str
    campaign: str
    base: float
    sd: float
    binary: bool
    power: float
    target_lift: float
    alpha: float
    n_arms: int

    def summary(self) -> pd.DataFrame:
        """The design table (sample size needed per relative lift)."""
        return self.design.copy()

    def to_frame(self) -> pd.DataFrame:
        """Power and MDE of this test per arm."""
        return self.observed.copy()

    def metrics(self) -> dict[str, Any]:
        """Base rate, MDE and sample sizes (JSON-able)."""
        tgt = self.design.loc[np.isclose(self.design["relative_lift"], self.target_lift)]
        return {
            "campaign": self.campaign, "metric": self.metric, "base": num(self.base), "power": self.power,
            "alpha": self.alpha, "target_lift": self.target_lift,
            "n_per_arm_needed_for_target": int(tgt["n_per_arm_needed"].iloc[0]) if len(tgt) else None,
            "arms": {
                str(r.arm): {"n": int(r.n), "power_for_target": num(r.power_for_target),
                             "mde_absolute": num(r.mde_absolute), "mde_relative": num(r.mde_relative)}
                for r in self.observed.itertuples()
            },
        }  # fmt: skip

    def finding(self) -> str:
        """What this test could detect and what the next one needs, from the numbers."""
        word = metric_word(self.metric)
        base = pct(self.base, 2) if self.binary else f"{self.base:,.2f}"
        out = [i18n.t("campaign.power.base", metric=word, base=base)]
        for r in self.observed.itertuples():
            out.append(i18n.t("campaign.power.arm", arm=r.arm, n=f"{int(r.n):,}", control_n=f"{int(r.control_n):,}",
                              power_for_target=pct(r.power_for_target, 0), lift=pct(self.target_lift, 0),
                              power=pct(self.power, 0), mde=pct(r.mde_relative),
                              mde_abs=fmt_abs(r.mde_absolute, binary=self.binary, currency="")))  # fmt: skip
        tgt = self.design.loc[np.isclose(self.design["relative_lift"], self.target_lift)]
        if len(tgt):
            out.append(i18n.t("campaign.power.plan", lift=pct(self.target_lift, 0), power=pct(self.power, 0),
                              per_arm=f"{int(tgt['n_per_arm_needed'].iloc[0]):,}",
                              total=f"{int(tgt['n_total_needed'].iloc[0]):,}", arms=self.n_arms))  # fmt: skip
        return " ".join(out)

    def plot(self, ax: Any = None) -> Any:
        """Power against relative lift at the observed sample size, target and MDE marked."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(6, 4))
        d = self.design
        sns.lineplot(data=d, x="relative_lift", y="power_at_observed_n", marker="o", ax=ax)
        ax.axhline(self.power, ls="--", color="grey", lw=1)
        ax.axvline(self.target_lift, ls=":", color="crimson", lw=1, label=i18n.t("campaign.power.legend_target", lift=pct(self.target_lift, 0)))
        if len(self.observed):
            mde = float(self.observed["mde_relative"].max())
            ax.axvline(mde, ls="--", color="#4C72B0", lw=1, label=f"MDE {mde:.1%}")
        ax.set_xlabel(i18n.t("campaign.power.axis_x"))
        ax.set_ylabel(i18n.t("campaign.power.axis_y"))
        ax.set_ylim(0, 1.02)
        ax.set_title(i18n.t("campaign.power.title", campaign=self.campaign, metric=metric_word(self.metric)))
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (
            f"PowerPlan(campaign={self.campaign!r}, metric={self.metric!r}, base={self.base:.4g}, "
            f"target_lift={self.target_lift:.0%}, power={self.power:.0%})"
        )


def power_plan(
    contacts: pd.DataFrame,
    *,
    control: str,
    metric: str,
    arm: str = "arm",
    power: float = 0.8,
    target_lift: float = 0.1,
    alpha: float = 0.05,
    lifts: Sequence[float] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5),
) -> PowerPlan:
    """Power and minimum detectable effect of this test, and sample sizes for the next one.

    Binary metrics use Cohen's h (``statsmodels`` ``proportion_effectsize``) with
    ``NormalIndPower``; other metrics Cohen's d = lift * mean / sd with ``TTestIndPower``; both
    two-sided at ``alpha``. Base rate, mean and sd come from the control arm.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign.
    control : str
        Control arm.
    metric : str
        Outcome column.
    arm : str, default 'arm'
    power : float, default 0.8
        Power wanted, in (0, 1).
    target_lift : float, default 0.1
        Relative lift to detect (> 0); always in the
        design table.
    alpha : float, default 0.05
    lifts : sequence of float
        Further relative lifts for the design table.

    Returns
    -------
    PowerPlan

    Raises
    ------
    AnalysisError
        No control arm, metric missing, a control base of 0 (no lift is defined).
    """
    from statsmodels.stats.power import NormalIndPower, TTestIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    check_one_campaign(contacts)
    labels, arms = arm_labels(contacts, arm, control)
    require_columns(contacts, [metric], what="metric", option="metric")
    campaign = campaign_name(contacts)
    y, ok = metric_arrays(contacts, metric, labels)
    lab = labels.to_numpy()
    y0 = y[ok & (lab == control)]
    binary = is_binary(y)
    base = float(y0.mean()) if y0.size else np.nan
    sd = np.nan if binary else (float(y0.std(ddof=1)) if y0.size > 1 else np.nan)
    if not np.isfinite(base) or base <= 0 or (binary and base >= 1) or (not binary and not sd > 0):
        raise AnalysisError(
            f"{campaign}, metric {metric!r}: control {control!r} has base {base!r}; power for a relative lift needs a "
            "control rate strictly between 0 and 1 (or a positive mean with spread)"
        )
    engine = NormalIndPower() if binary else TTestIndPower()

    def effect(lift: float) -> float:
        if binary:
            p1 = min(base * (1 + lift), 1 - 1e-9)
            return float(abs(proportion_effectsize(p1, base)))
        return float(lift * base / sd)

    def lift_of(es: float) -> float:
        if binary:
            p1 = math.sin(es / 2 + math.asin(math.sqrt(base))) ** 2
            return p1 / base - 1
        return es * sd / base

    all_lifts = sorted(set(float(v) for v in lifts) | {float(target_lift)})
    sizes = [(a, int((ok & (lab == a)).sum())) for a in arms[1:]]
    n0 = int(y0.size)
    n1_min = min((n for _, n in sizes), default=0)
    rows = []
    for lift in all_lifts:
        es = effect(lift)
        need = float(engine.solve_power(effect_size=es, alpha=alpha, power=power, ratio=1.0, alternative="two-sided"))
        pw = (
            float(engine.power(effect_size=es, nobs1=n1_min, alpha=alpha, ratio=n0 / n1_min, alternative="two-sided"))
            if n1_min > 1
            else np.nan
        )
        rows.append(
            {
                "relative_lift": lift, "absolute_lift": base * lift, "treated_value": base * (1 + lift),
                "n_per_arm_needed": int(math.ceil(need)), "n_total_needed": int(math.ceil(need)) * len(arms),
                "power_at_observed_n": pw,
            }
        )  # fmt: skip
    obs = []
    for a, n1 in sizes:
        if n1 < 2:
            continue
        es_t = effect(target_lift)
        pw = float(engine.power(effect_size=es_t, nobs1=n1, alpha=alpha, ratio=n0 / n1, alternative="two-sided"))
        es_mde = float(engine.solve_power(nobs1=n1, alpha=alpha, power=power, ratio=n0 / n1, alternative="two-sided"))
        rel = lift_of(es_mde)
        obs.append({"arm": a, "n": n1, "control_n": n0, "power_for_target": pw, "mde_absolute": rel * base,
                    "mde_relative": rel})  # fmt: skip
    return PowerPlan(
        pd.DataFrame(rows), pd.DataFrame(obs), metric, control, campaign, base, sd, binary, power, target_lift, alpha,
        len(arms),
    )  # fmt: skip
