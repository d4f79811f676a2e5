"""Survival: Kaplan-Meier, life-table hazard and Cox PH against hand-computed cases, the IBM Telco
data and the synthetic generator's true hazard ratios."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import churn as S
from workbench.core.errors import AnalysisError
from workbench.synth.simulate import generate

MONTH = 30.4375
TRUE_HR = {
    "acquisition_channel=paid_search": 1.2,
    "acquisition_channel=paid_social": 1.6,
    "acquisition_channel=referral": 0.7,
    "acquisition_channel=offline": 0.9,
    "is_member": 0.6,
    "gender=女": 1.0,
    "age_at_signup": 0.9,
}


@pytest.fixture(scope="module")
def synth():
    return generate(5000, seed=42)


def _true_dropout_table(d) -> pd.DataFrame:
    """Survival from sign-up to the latent dropout (censored at as_of): what the generator simulates."""
    c = d.customers
    tc = d.truth_customers.set_index("customer_id").loc[c["customer_id"]]
    end = pd.Timestamp("2025-10-01")
    drop = pd.to_datetime(tc["dropout_date"].to_numpy())
    ev = pd.notna(drop) & (drop < end)
    stop = np.where(ev, drop, end)
    return pd.DataFrame(
        {
            "duration_months": (pd.to_datetime(stop) - c["signup_date"]).dt.total_seconds().to_numpy() / 86400 / MONTH,
            "event": ev.astype(int),
            "acquisition_channel": c["acquisition_channel"].to_numpy(),
            "is_member": c["member_level"].ne("non_member").to_numpy(),
            "gender": c["gender"].to_numpy(),
            "age_at_signup": ((c["signup_date"] - c["birth_date"]).dt.days / 365.25).to_numpy(),
            "segment": tc["segment"].to_numpy(),
        }
    )


def test_kaplan_meier_hand_case():
    t = pd.DataFrame({"duration_months": [1, 2, 3, 4], "event": [1, 0, 1, 1]})
    km = S.kaplan_meier(t)
    # S(1) = 3/4, S(3) = 3/4 * 1/2, S(4) = 0
    assert km.curves["survival"].round(4).tolist() == [1.0, 0.75, 0.375, 0.0]
    assert km.medians.loc[0, "median"] == 3
    assert km.logrank is None


def test_life_table_hand_case():
    t = pd.DataFrame({"duration_months": [0.5, 0.5, 1.5, 2.5], "event": [1, 0, 1, 0]})
    hz = S.hazard_by_tenure(t, width=1, min_at_risk=1)
    tab = hz.table
    # interval 0: 4 enter, 1 event, 1 censored -> at risk 3.5, hazard 1/3.5
    assert tab["at_risk"].tolist() == [3.5, 2.0, 0.5]
    assert tab["hazard"].round(4).tolist() == [round(1 / 3.5, 4), 0.5, 0.0]
    assert hz.peak["start"] == 1.0
    assert (tab["lower"] <= tab["hazard"]).all() and (tab["hazard"] <= tab["upper"]).all()


def test_telco_curves_by_plan_and_early_peak(telco_frame):
    km = S.kaplan_meier(telco_frame, group="plan")
    assert km.logrank["test"] == "log-rank" and km.logrank["df"] == 2 and km.logrank["p"] < 1e-100
    s12 = km.medians.set_index("group")["survival_12"]
    assert s12["Month-to-month"] < s12["One year"] < s12["Two year"] + 1e-9
    hz = S.hazard_by_tenure(telco_frame)
    assert hz.width == 3 and hz.peak["start"] == 0  # Telco customers leave most in their first months
    assert "peaks at 0-3 months" in hz.finding()


@pytest.fixture(scope="module")
def telco_frame():
    from workbench.core.io import load_tables
    from workbench.run.params import load_params

    c = load_tables(load_params("params/telco.yaml"))["customers"].frame
    return c.assign(event=c["churned"].astype(int), duration_months=c["tenure_months"])


def test_cox_recovers_true_hazard_ratios_from_true_dropout(synth):
    """With the latent dropout time, stratified by the latent segment (the generator's frailty, taken
    from truth_customers), the implementation's intervals cover the generator's ratios."""
    t = _true_dropout_table(synth)
    cx = S.cox_model(
        t, covariates=["acquisition_channel", "is_member", "gender", "age_at_signup"], strata="segment",
        reference={"acquisition_channel": "organic", "gender": "男"}, scale={"age_at_signup": 10},
    )  # fmt: skip
    iv = cx.intervals()
    for term, hr in TRUE_HR.items():
        assert iv.loc[term, "hr_lower"] <= hr <= iv.loc[term, "hr_upper"], (term, iv.loc[term].tolist())
    assert set(cx.ph_check["covariate"]) == {"acquisition_channel", "is_member", "gender", "age_at_signup"}


def test_cox_flags_ph_violation_on_telco(telco_frame):
    cx = S.cox_model(telco_frame, covariates=["plan", "gender"])
    ph = cx.ph_check.set_index("covariate")
    assert bool(ph.loc["plan", "violated"]) and not bool(ph.loc["gender", "violated"])
    assert "strata='plan'" in cx.finding()
    strat = S.cox_model(telco_frame, covariates=["gender", "InternetService"], strata="plan")
    assert strat.strata == "plan" and "plan=" not in " ".join(strat.table["term"])


def test_cox_errors_name_what_to_fix(telco_frame):
    small = telco_frame.head(200)
    with pytest.raises(AnalysisError, match="min_events=10"):
        S.cox_model(small, covariates=["plan", "PaymentMethod", "InternetService"], min_events=10)
    sep = telco_frame.assign(flag=np.where(telco_frame["event"] == 1, "x", "y"))
    with pytest.raises(AnalysisError, match=r"churn frame\.flag: \(quasi-\)complete separation"):
        S.cox_model(sep, covariates=["flag"])
    with pytest.raises(AnalysisError, match="fix covariates="):
        S.cox_model(telco_frame, covariates=["nope"])


def test_cox_subsample_is_seeded_and_stated(telco_frame):
    a = S.cox_model(telco_frame, covariates=["plan"], max_rows=3000, random_state=1)
    b = S.cox_model(telco_frame, covariates=["plan"], max_rows=3000, random_state=1)
    assert a.n == 3000 and a.sampled_from == 7043
    assert np.allclose(a.table["hr"], b.table["hr"])
    assert "random sample of 3,000 of 7,043" in a.finding()
