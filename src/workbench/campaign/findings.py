"""The key findings of the campaign report (its summary, shown first): per randomized campaign
the effect with its interval and whether it holds after Holm correction, the incremental revenue
and, where cost is tracked and not negligible, the ROI; problems of the split (sample-ratio
mismatch, covariate imbalance); the weaker evidence of campaigns without control; and what the
uplift model gains over random targeting. Each with the action it suggests, in the run's
language (``campaign.summary.*`` in the catalog)."""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.campaign.experiments._common import fmt_abs, fmt_ci, metric_word
from workbench.campaign.uplift._common import LABEL
from workbench.report.fmt import count, money, p_text, pct
from workbench.report.i18n import t
from workbench.report.summary import KeyFinding

__all__ = ["key_findings", "MAX_EFFECT_FINDINGS"]

#: At most this many campaigns get an effect finding (the largest first).
MAX_EFFECT_FINDINGS = 2
#: Preferred metric of the effect finding, then the others in this order.
_PRIMARY = ("converted", "revenue", "visited")


def _primary_row(comparison: Any) -> Any | None:
    """The row of an arm comparison a manager reads first: the first metric of
    :data:`_PRIMARY` compared, its arm with the largest difference."""
    tb = comparison.table
    if tb.empty:
        return None
    metrics = [m for m in _PRIMARY if m in set(tb["metric"])] or [tb["metric"].iloc[0]]
    rows = tb.loc[tb["metric"] == metrics[0]].dropna(subset=["diff"])
    return None if rows.empty else rows.loc[rows["diff"].idxmax()]


def _effect(campaign: str, comparison: Any, plan: Any | None) -> KeyFinding | None:
    """The effect of one randomized campaign and what to do about it."""
    r = _primary_row(comparison)
    if r is None:
        return None
    binary = comparison.binary.get(r["metric"], False)
    key = "effect_significant" if r["significant"] else "effect_not_significant"
    text = t(f"campaign.summary.{key}", campaign=campaign, arm=r["arm"], metric=metric_word(r["metric"]),
             diff=fmt_abs(r["diff"], binary=binary), ci=fmt_ci(r["diff_low"], r["diff_high"], binary=binary),
             p=p_text(r["p_holm"]))  # fmt: skip
    if r["significant"] and r["diff"] > 0:
        action = t("campaign.summary.effect_keep", arm=r["arm"])
    elif r["significant"]:
        action = t("campaign.summary.effect_stop", arm=r["arm"])
    else:
        need = _needed_per_arm(plan)
        action = (t("campaign.summary.effect_retest", n=count(need)) if need is not None
                  else t("campaign.summary.effect_retest_plain"))  # fmt: skip
    return KeyFinding(text, action)


def _needed_per_arm(plan: Any | None) -> float | None:
    """Customers per arm the power plan asks for at its target lift, if any."""
    if plan is None:
        return None
    d = plan.design.loc[np.isclose(plan.design["relative_lift"], plan.target_lift)]
    return float(d["n_per_arm_needed"].iloc[0]) if len(d) else None


def _returns(returns: Any, kpi: Any | None) -> KeyFinding | None:
    """Incremental revenue over every treated arm, with profit and ROI where cost means something."""
    tb = returns.table if returns is not None else None
    if tb is None or tb.empty:
        return None
    rev, lo, hi = (float(tb[c].sum()) for c in ("incremental_revenue", "incremental_revenue_low",
                                                    "incremental_revenue_high"))
    text = t("campaign.summary.revenue", revenue=money(rev), arms=count(len(tb)), low=money(lo), high=money(hi))
    tracked = tb.loc[tb["cost_status"] == "tracked"]
    if len(tracked):
        best = tracked.loc[tracked["incremental_roi"].idxmax()]
        text += " " + t("campaign.summary.roi", campaign=best["campaign_id"], arm=best["arm"],
                        roi=f"{best['incremental_roi']:,.2f}", low=f"{best['incremental_roi_low']:,.2f}",
                        high=f"{best['incremental_roi_high']:,.2f}")  # fmt: skip
        return KeyFinding(text, t("campaign.summary.roi_action"))
    share = pct(returns.min_cost_share, 0)
    if (tb["cost_status"] == "not_tracked").all():
        text += " " + t("campaign.summary.cost_not_tracked")
    else:
        text += " " + t("campaign.summary.cost_negligible", share=share)
    return KeyFinding(text, t("campaign.summary.cost_action"))


def _split_problems(checks: Any) -> KeyFinding | None:
    """Sample-ratio mismatches first, else covariate imbalance, over the randomized campaigns."""
    if checks is None:
        return None
    srm = [cid for cid, r in checks.srm.items() if r.mismatch]
    if srm:
        worst = min((checks.srm[c] for c in srm), key=lambda r: r.p_value)
        return KeyFinding(t("campaign.summary.srm", campaigns=", ".join(srm), p=p_text(worst.p_value)),
                          t("campaign.summary.srm_action"))
    bad = {cid: b for cid, b in checks.balance.items() if b is not None and b.n_imbalanced}
    if bad:
        worst = max(bad.values(), key=lambda b: float(b.table["smd"].abs().max()))
        mx = worst.table.loc[worst.table["smd"].abs().idxmax()]
        return KeyFinding(t("campaign.summary.imbalance", campaigns=", ".join(bad),
                            n=count(sum(b.n_imbalanced for b in bad.values())), covariate=mx["covariate"],
                            smd=f"{mx['smd']:+.2f}"), t("campaign.summary.imbalance_action"))  # fmt: skip
    return None


def _observational(observational: Any) -> KeyFinding | None:
    """The IPW estimate of the campaigns without control (weaker evidence)."""
    if observational is None or not observational.effects:
        return None
    cid, eff = next(iter(observational.effects.items()))
    e = eff.estimates.set_index("estimate")
    adj, naive = e.loc[f"IPW {eff.estimand}"], e.loc["naive difference"]
    text = t("campaign.summary.observational", campaign=cid, metric=metric_word(eff.outcome),
             effect=fmt_abs(adj["value"], binary=eff.binary), ci=fmt_ci(adj["low"], adj["high"], binary=eff.binary),
             naive=fmt_abs(naive["value"], binary=eff.binary))  # fmt: skip
    return KeyFinding(text, t("campaign.summary.observational_action"))


def _uplift(uplift: Any, targeting: Any) -> KeyFinding | None:
    """What the uplift model gains over random targeting, and the list it gives."""
    if uplift is None:
        return None
    ev = uplift.evaluation
    b = ev.table.set_index("model").loc[ev.best_model]
    text = t("campaign.summary.qini", campaign=uplift.campaign, model=LABEL[ev.best_model],
             qini=f"{b['qini_coefficient']:.3f}", low=f"{b['qini_ci_low']:.3f}", high=f"{b['qini_ci_high']:.3f}")
    if b["beats_random"]:
        text += " " + t("campaign.summary.qini_beats", share=pct(b["top_30pct_share"], 0))
    else:
        text += " " + t("campaign.summary.qini_not_shown")
    if targeting is None:
        return KeyFinding(text, t("campaign.summary.uplift_action_none" if not b["beats_random"]
                                  else "campaign.summary.uplift_action_value"))  # fmt: skip
    m = targeting.metrics()
    text += " " + t("campaign.summary.targeting", n=count(m["n_contact"]), total=count(m["candidates"]),
                    profit=money(m["expected_profit_contact"]))  # fmt: skip
    key = "campaign.summary.uplift_action_use" if b["beats_random"] else "campaign.summary.uplift_action_test"
    return KeyFinding(text, t(key))


def key_findings(
    data: Any,
    kpi: Any | None = None,
    *,
    returns: Any | None = None,
    comparisons: Any | None = None,
    variance: Any | None = None,
    observational: Any | None = None,
    uplift: Any | None = None,
    targeting: Any | None = None,
) -> list[KeyFinding | None]:
    """The key findings of the campaign report, each with its action, strongest first.

    Parameters
    ----------
    data : CampaignData
        From :func:`workbench.campaign.prepare_contacts` (the campaigns' designs).
    kpi : KPIResult, optional
        Its cost text is used when the incremental return did not run.
    returns : IncrementalReturn, optional
    comparisons : ExperimentChecks, optional
        SRM, balance and arm comparisons of the randomized campaigns.
    variance : VarianceAndPower, optional
        Its power plans give the sample size of a retest.
    observational : ObservationalEffects, optional
    uplift : UpliftSection, optional
    targeting : TargetingList, optional

    Returns
    -------
    list of KeyFinding or None
        Per randomized campaign (at most :data:`MAX_EFFECT_FINDINGS`, largest first) the effect
        on its primary metric with the Holm verdict; the incremental revenue with the ROI where
        cost is tracked and not negligible (else that cost is not tracked); split problems
        (SRM, imbalance); the campaigns without control; the uplift model's targeting gain.
        ``None`` for a part that did not run or found nothing to report;
        :meth:`workbench.report.summary.ReportSummary.of` keeps the first six.
    """
    out: list[KeyFinding | None] = []
    if comparisons is not None:
        plans = variance.plans if variance is not None else {}
        order = sorted(comparisons.comparisons, key=lambda c: -int(data.design(c)["n_contacts"]))
        out += [_effect(c, comparisons.comparisons[c], plans.get(c)) for c in order[:MAX_EFFECT_FINDINGS]]
    out.append(_split_problems(comparisons))
    found = _returns(returns, kpi)
    if found is None and kpi is not None and kpi.cost_text():
        found = KeyFinding(kpi.cost_text(), t("campaign.summary.cost_action"))
    out.append(found)
    out.append(_observational(observational))
    out.append(_uplift(uplift, targeting))
    if not any(out):
        out.append(KeyFinding(data.finding(), t("campaign.summary.no_findings_action")))
    return out
