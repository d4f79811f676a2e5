"""The churn report's key findings, each with the action it suggests (``churn.key_findings``):
the notebook's last cell shows them first on the page (``ctx.summarize(...)``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.churn._common import level_text, unit
from workbench.churn.cox import CoxResult, hazard_change
from workbench.churn.drivers import ChurnDrivers, is_controllable
from workbench.churn.frame import ChurnFrame
from workbench.report.fmt import count, money, pct
from workbench.report.i18n import date_text, t
from workbench.report.summary import KeyFinding

if TYPE_CHECKING:  # pragma: no cover
    from workbench.churn.model.evaluate import ChurnEvaluation
    from workbench.churn.model.retention import RetentionList
    from workbench.churn.rates import ChurnRates
    from workbench.churn.survival import HazardResult, KaplanMeierResult

__all__ = ["key_findings"]


def key_findings(
    *,
    frame: ChurnFrame,
    rates: ChurnRates | None = None,
    km: KaplanMeierResult | None = None,
    hazard: HazardResult | None = None,
    cox: CoxResult | None = None,
    drivers: ChurnDrivers | None = None,
    evaluation: ChurnEvaluation | None = None,
    retention: RetentionList | None = None,
    controllable: list[str] | None = None,
) -> list[KeyFinding | None]:
    """Three to six key findings of the churn analysis, in the run's language, most important first.

    The overall churn rate with its interval; the group that loses most (when one clearly
    differs); the median lifetime (with the tenure to act before, from the hazard peak); the
    strongest driver the business controls (its Cox hazard ratio when the model confirms one,
    else its churn rate); the model's ROC AUC and the lift of its riskiest decile; the value at
    risk on the retention list. ``None`` for a section that did not run or found nothing.

    Parameters
    ----------
    frame : ChurnFrame
    rates, km, hazard, cox, drivers, evaluation, retention : results, optional
        Of :func:`churn_rates`, :func:`kaplan_meier`, :func:`hazard_by_tenure`, :func:`cox_model`,
        :func:`churn_drivers`, ``model.evaluate_churn_models`` and ``model.retention_list``.
    controllable : list of str, optional
        Columns the business can act on (``analyses.churn.controllable``); default all but
        :data:`workbench.churn.drivers.NOT_CONTROLLABLE`.

    Returns
    -------
    list of KeyFinding or None
    """
    return [
        _rate(frame),
        _worst_group(rates) if rates is not None else None,
        _lifetime(km, hazard) if km is not None else None,
        _lever(cox, drivers, controllable=controllable),
        _model(evaluation) if evaluation is not None else None,
        _retention(retention) if retention is not None else None,
    ]


def _rate(frame: ChurnFrame) -> KeyFinding:
    lo, hi = frame.interval()
    return KeyFinding(
        t("churn.key.rate", rate=pct(frame.rate), low=pct(lo), high=pct(hi), churned=count(frame.n_churned),
          n=count(frame.n), as_of=date_text(frame.as_of)),
        t("churn.key.rate_action"),
    )


def _worst_group(rates: ChurnRates) -> KeyFinding | None:
    w = rates.worst_group()
    if w is None:
        return None
    level, best = level_text(w["level"]), level_text(w["best_level"])
    return KeyFinding(
        t("churn.key.group", column=w["column"], level=level, rate=pct(w["rate"]), low=pct(w["lower"]),
          high=pct(w["upper"]), best=best, best_rate=pct(w["best_rate"])),
        t("churn.key.group_action", column=w["column"], level=level),
    )


def _lifetime(km: KaplanMeierResult, hazard: HazardResult | None) -> KeyFinding:
    m = km.medians
    h = f"{km.horizon:g}"
    row = m.sort_values(f"survival_{h}").iloc[0] if len(m) > 1 else m.iloc[0]
    who = t("churn.km.customers") if len(m) == 1 else repr(level_text(row["group"]))
    u = unit(km.time_unit)
    still = pct(row[f"survival_{h}"])
    if pd.isna(row["median"]):
        text = t("churn.key.lifetime_beyond", who=who, h=h, unit=u, share=still)
    else:
        hi = t("churn.km.beyond_data") if pd.isna(row["median_upper"]) else f"{row['median_upper']:.1f}"
        lo = "?" if pd.isna(row["median_lower"]) else f"{row['median_lower']:.1f}"
        text = t("churn.key.lifetime", who=who, median=f"{row['median']:.1f}", unit=u, low=lo, high=hi, h=h,
                 share=still)
    pk = hazard.peak if hazard is not None else {}
    if np.isfinite(pk.get("hazard", np.nan)):
        action = t("churn.key.lifetime_action", start=f"{pk['start']:g}", end=f"{pk['end']:g}",
                   unit=unit(hazard.time_unit), hazard=pct(pk["hazard"]))
    else:
        action = t("churn.key.lifetime_action_plain")
    return KeyFinding(text, action)


def _lever(cox: CoxResult | None, drivers: ChurnDrivers | None, *, controllable: list[str] | None) -> KeyFinding | None:
    """The strongest controllable hazard ratio (Holm-significant), else the strongest
    controllable univariate driver."""
    if cox is not None and not cox.skipped and len(cox.table):
        tab = cox.table[(cox.table["p_holm"] < 1 - cox.confidence)
                        & cox.table["covariate"].map(lambda c: is_controllable(str(c), controllable))]
        if len(tab):
            r = tab.loc[np.abs(np.log(tab["hr"])).idxmax()]
            return KeyFinding(
                t("churn.key.lever_cox", what=CoxResult.term_text(r), change=hazard_change(float(r["hr"])),
                  low=f"{r['hr_lower']:.2f}", high=f"{r['hr_upper']:.2f}"),
                t("churn.key.lever_action", feature=r["covariate"]),
            )
    if drivers is not None:
        d = drivers.table
        d = d[(d["p_holm"] < 1 - drivers.confidence) & d["feature"].map(lambda c: is_controllable(str(c), controllable))]
        if len(d):
            r = d.iloc[0]
            return KeyFinding(
                t("churn.key.lever_driver", feature=r["feature"], level=level_text(r["worst_level"]),
                  rate=pct(r["worst_rate"]), overall=pct(drivers.overall_rate), v=f"{r['cramers_v']:.2f}"),
                t("churn.key.lever_action", feature=r["feature"]),
            )
    return None


def _model(evaluation: ChurnEvaluation) -> KeyFinding:
    from workbench.churn.model._common import model_title

    b = evaluation.best
    r = evaluation.table.set_index("model").loc[b]
    top = evaluation.top_decile()
    name = model_title(b)
    return KeyFinding(
        t("churn.key.model", model=name, auc=f"{r['roc_auc']:.3f}", low=f"{r['roc_auc_low']:.3f}",
          high=f"{r['roc_auc_high']:.3f}", lift=f"{top['lift']:.1f}", share=pct(top["cum_churners_share"], 0)),
        t("churn.key.model_action", model=name),
    )


def _retention(retention: RetentionList) -> KeyFinding:
    s: dict[str, Any] = retention.figures()
    a = retention.assumptions
    if not s["on_list"]:
        return KeyFinding(t("churn.key.retention_none", cost=money(a["contact_cost"], 2),
                            base=money(s["value_at_risk_base"])),
                          t("churn.key.retention_none_action"))
    return KeyFinding(
        t("churn.key.retention", n=count(s["on_list"]), value=money(s["value_at_risk_list"]),
          base=money(s["value_at_risk_base"]), net=money(s["expected_net_value"]), save_rate=pct(a["save_rate"], 0)),
        t("churn.key.retention_action", n=count(s["on_list"])),
    )
