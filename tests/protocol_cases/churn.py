"""Protocol cases of ``workbench.churn`` (all but the churn model): one small instance of each result."""

from __future__ import annotations

import warnings
from functools import lru_cache

import pandas as pd

from protocol_cases._data import AS_OF, small_base
from workbench import churn


@lru_cache(maxsize=1)
def _frame() -> churn.ChurnFrame:
    d = small_base()
    return churn.churn_frame(d.customers, d.orders, as_of=AS_OF, label=churn.ChurnLabel(), tickets=d.tickets)


def _frame_case() -> churn.ChurnFrame:
    return _frame()


def _rates() -> churn.ChurnRates:
    return churn.churn_rates(_frame(), by=["acquisition_channel", "member_level", "age_at_signup"])


def _cohorts() -> churn.CohortRetention:
    return churn.cohort_retention(_frame(), small_base().orders)


@lru_cache(maxsize=1)
def _drivers() -> churn.ChurnDrivers:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return churn.churn_drivers(_frame(), columns=["acquisition_channel", "member_level", "gender", "age_at_signup"])


@lru_cache(maxsize=1)
def _reasons() -> churn.ChurnReasons:
    d = small_base()
    return churn.unhappy_vs_drift(_frame(), tickets=d.tickets, orders=d.orders)


def _km() -> churn.KaplanMeierResult:
    return churn.kaplan_meier(_frame().table, group="acquisition_channel")


@lru_cache(maxsize=1)
def _hazard() -> churn.HazardResult:
    return churn.hazard_by_tenure(_frame().table, min_at_risk=20)


@lru_cache(maxsize=1)
def _cox() -> churn.CoxResult:
    return churn.cox_model(_frame().table, covariates=["member_level", "age_at_signup"], min_events=5,
                           scale={"age_at_signup": 10})  # fmt: skip


def _hr_check() -> churn.HazardRatioCheck:
    return churn.hazard_ratio_check(_cox(), {"age_per_10_years": 0.9, "is_member": 0.6, "absent": 1.2})


def _recommendations() -> churn.Recommendations:
    return churn.recommendations(
        drivers=_drivers(), hazard=_hazard(), cox=_cox(), reasons=_reasons(),
        value_at_risk=pd.DataFrame({"segment": ["A", "B"], "value_at_risk": [10.0, 30.0]}),
    )  # fmt: skip


CASES = {
    churn.ChurnFrame: _frame_case,
    churn.ChurnRates: _rates,
    churn.CohortRetention: _cohorts,
    churn.ChurnDrivers: _drivers,
    churn.ChurnReasons: _reasons,
    churn.Recommendations: _recommendations,
    churn.KaplanMeierResult: _km,
    churn.HazardResult: _hazard,
    churn.CoxResult: _cox,
    churn.HazardRatioCheck: _hr_check,
}
