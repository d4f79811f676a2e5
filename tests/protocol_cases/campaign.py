"""Protocol cases of ``workbench.campaign`` (contacts, KPIs, returns, funnel and the notebook
sections; the experiments and uplift statistics have their own case modules)."""

from __future__ import annotations

import warnings
from functools import lru_cache

from protocol_cases._data import AS_OF, small_base
from workbench import campaign
from workbench.campaign import funnel


@lru_cache(maxsize=1)
def _data() -> campaign.CampaignData:
    d = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return campaign.prepare_contacts(d.campaign_contacts, orders=d.orders, as_of=AS_OF)


def _kpi() -> campaign.KPIResult:
    return campaign.kpi_table(_data(), targets={"conversion_rate": 0.05, "roi": 1.0})


def _returns() -> campaign.IncrementalReturn:
    return campaign.incremental_return(_data(), random_state=0, bootstrap=100)


def _funnel() -> funnel.FunnelResult:
    return funnel.funnel(small_base().events, steps=funnel.DEFAULT_STEPS, by=["channel"])


@lru_cache(maxsize=1)
def _checks() -> campaign.ExperimentChecks:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return campaign.experiment_checks(_data(), customers=small_base().customers, bootstrap=200, random_state=0)


def _variance() -> campaign.VarianceAndPower:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return campaign.variance_and_power(_data(), customers=small_base().customers)


def _subgroups() -> campaign.SubgroupEffects:
    d = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = campaign.prepare_contacts(d.campaign_contacts, orders=d.orders, as_of=AS_OF,
                                        campaigns=["spring_coupon_2025"])  # fmt: skip
        return campaign.subgroup_effects(one, customers=d.customers, truth=d.truth_customers,
                                         truth_summary=d.truth, by=["acquisition_channel"])  # fmt: skip


@lru_cache(maxsize=1)
def _observational() -> campaign.ObservationalEffects:
    d = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return campaign.observational_effects(_data(), orders=d.orders, customers=d.customers, truth_summary=d.truth,
                                              bootstrap=50, random_state=0)  # fmt: skip


def _uplift() -> campaign.UpliftSection:
    from protocol_cases.uplift import _campaign

    contacts, features = _campaign()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = campaign.prepare_contacts(contacts, outcome_source="columns")
        return campaign.uplift_section(data, customers=features, learner="logistic", bootstrap=0, random_state=0)


def _section() -> campaign.Section:
    kpi = _kpi()
    return campaign.Section(blocks=(("md", "### KPIs"), ("table", kpi.summary()), ("figure", "kpi", kpi.plot)))


def _summary() -> campaign.EvaluationSummary:
    return campaign.evaluation_summary(_data(), _kpi(), returns=_returns(), comparisons=_checks(),
                                       observational=_observational(), funnel=_funnel())  # fmt: skip


CASES = {
    campaign.CampaignData: _data,
    campaign.KPIResult: _kpi,
    campaign.IncrementalReturn: _returns,
    funnel.FunnelResult: _funnel,
    campaign.ExperimentChecks: _checks,
    campaign.VarianceAndPower: _variance,
    campaign.SubgroupEffects: _subgroups,
    campaign.ObservationalEffects: _observational,
    campaign.UpliftSection: _uplift,
    campaign.EvaluationSummary: _summary,
    campaign.Section: _section,
}
