"""Protocol cases of ``workbench.campaign.experiments``: one small instance of each result, on the
randomized spring campaign of the small synthetic base (plus a hand-made observational frame)."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from protocol_cases._data import table
from workbench.campaign import experiments


@lru_cache(maxsize=1)
def _contacts() -> pd.DataFrame:
    c = table("campaign_contacts")
    c = c.loc[c["campaign_id"] == "spring_coupon_2025"].reset_index(drop=True)
    return c.assign(tier=np.where(c["pre_period_revenue"] > 0, "buyer", "new"))


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _srm() -> experiments.SRMResult:
    return _quiet(experiments.srm_test, _contacts(), planned_split={"control": 0.5, "treatment": 0.5})


def _balance() -> experiments.BalanceResult:
    return experiments.balance_table(_contacts(), covariates=["pre_period_revenue", "tier"], control="control")


def _compare() -> experiments.ArmComparison:
    return _quiet(experiments.compare_arms, _contacts(), control="control", random_state=0)


def _cuped() -> experiments.CupedResult:
    return _quiet(experiments.cuped, _contacts(), control="control", metric="revenue", covariate="pre_period_revenue")


def _power() -> experiments.PowerPlan:
    return _quiet(experiments.power_plan, _contacts(), control="control", metric="visited")


def _heterogeneity() -> experiments.HeterogeneityResult:
    return _quiet(experiments.heterogeneity, _contacts(), by="tier", control="control", arm_name="treatment",
                  metric="visited")  # fmt: skip


def _observational() -> experiments.ObservationalResult:
    rng = np.random.default_rng(0)
    n = 400
    spend = rng.gamma(2.0, 50.0, n)
    treated = rng.random(n) < 1 / (1 + np.exp(-(spend - 100) / 50))
    converted = rng.random(n) < 0.1 + 0.05 * treated + 0.001 * spend
    frame = pd.DataFrame({"treated": treated, "converted": converted.astype(int), "spend": spend,
                          "tenure": rng.integers(30, 900, n)})  # fmt: skip
    return _quiet(experiments.observational_effect, frame, treated="treated", outcome="converted",
                  covariates=["spend", "tenure"], bootstrap=30, random_state=0)  # fmt: skip


CASES = {
    experiments.SRMResult: _srm,
    experiments.BalanceResult: _balance,
    experiments.ArmComparison: _compare,
    experiments.CupedResult: _cuped,
    experiments.PowerPlan: _power,
    experiments.HeterogeneityResult: _heterogeneity,
    experiments.ObservationalResult: _observational,
}
