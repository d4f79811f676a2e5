"""Churn, descriptive part: labels, rates, cohorts, drivers, reasons; known answers from IBM Telco
and the synthetic generator's truth."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import churn as C
from workbench.churn import ChurnLabel
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.synth.simulate import generate


@pytest.fixture(scope="module")
def telco():
    from workbench.core.io import load_tables
    from workbench.run.params import load_params

    p = load_params("params/telco.yaml")
    return load_tables(p)["customers"].frame, p


@pytest.fixture(scope="module")
def synth():
    return generate(5000, seed=42)


@pytest.fixture(scope="module")
def sframe(synth):
    return C.churn_frame(synth.customers, synth.orders, as_of="2025-09-30", label=ChurnLabel(), tickets=synth.tickets)


def test_telco_rate_and_blank_total_charges(telco):
    cust, p = telco
    before = cust.copy()
    f = C.churn_frame(cust, as_of=p.as_of, label=ChurnLabel(**p.analyses.churn.label.model_dump()))
    assert (f.n, f.n_churned) == (7043, 1869) and round(f.rate, 3) == 0.265
    lo, hi = f.interval()
    assert round(lo, 4) == 0.2552 and round(hi, 4) == 0.2758
    assert f.table["total_charges"].isna().sum() == 0
    assert any("total_charges: 11 of 7,043 blank, 11 of them with tenure 0" in n for n in f.notes)
    pd.testing.assert_frame_equal(cust, before)  # input untouched
    r = C.churn_rates(f, by=["plan", "InternetService"])
    m2m = r.table.query("column == 'plan' and level == 'Month-to-month'").iloc[0]
    assert (m2m["customers"], m2m["churners"]) == (3875, 1655)
    d = C.churn_drivers(f)
    assert d.table.iloc[0]["feature"] == "plan" and d.table.iloc[0]["worst_level"] == "Month-to-month"
    assert not d.table.set_index("feature").loc["gender", "controllable"]
    cr = C.cohort_retention(f)
    assert not cr.available and cr.basis == "tenure" and "not have" in cr.finding()


def test_label_errors_name_column_and_param(telco, synth):
    cust, p = telco
    bad = cust.assign(churned=cust["churned"].astype("string").fillna("x").where(cust.index > 3, "maybe"))
    with pytest.raises(AnalysisError, match=r"customers\.churned: 4 of 7,043 .*'maybe'.*label\.flag_column='churned'"):
        C.churn_frame(bad, as_of=p.as_of, label=ChurnLabel(**p.analyses.churn.label.model_dump()))
    with pytest.raises(AnalysisError, match="no one of the 7,043"):
        C.churn_frame(cust.assign(churned=False), as_of=p.as_of, label=ChurnLabel(**p.analyses.churn.label.model_dump()))
    with pytest.raises(AnalysisError, match=r"last order is on 2025-12-31.*at most 92 days.*inactivity_days"):
        C.churn_frame(synth.customers, synth.orders, as_of="2025-09-30", label=ChurnLabel(inactivity_days=120))


def test_synthetic_label_matches_generator_truth(synth, sframe):
    tr = synth.truth["churn"]
    assert sframe.n == tr["n_eligible"] == 4033
    assert round(sframe.rate, 6) == tr["churn_rate_overall"]
    truth = synth.truth_customers.set_index("customer_id")
    cust = sframe.table.set_index("customer_id")
    assert (cust["churned"] == (~truth.loc[cust.index, "purchased_in_window"]).astype(int)).all()
    # an earlier as_of (out-of-time training set) works and uses no later data
    early = C.churn_frame(synth.customers, synth.orders, as_of="2025-06-30", label=ChurnLabel())
    assert early.table["last_order"].max() < pd.Timestamp("2025-07-01")


def test_synthetic_cox_on_observed_survival_time(synth, sframe):
    """Observed time (sign-up to last purchase): the strong true effects come out with the right sign.
    The intervals do not all cover the true ratios (attenuation, see the report); measured here."""
    t = sframe.table.assign(is_member=sframe.table["member_level"].ne("non_member"))
    cx = C.cox_model(
        t, covariates=["acquisition_channel", "is_member", "gender", "age_at_signup"],
        reference={"acquisition_channel": "organic", "gender": "男"}, scale={"age_at_signup": 10},
    )  # fmt: skip
    iv = cx.intervals()
    assert iv.loc["acquisition_channel=paid_social", "hr_lower"] > 1  # truth 1.6
    assert iv.loc["acquisition_channel=referral", "hr_upper"] < 1  # truth 0.7
    assert iv.loc["is_member", "hr_upper"] < 1  # truth 0.6
    assert iv.loc["gender=女", "hr_lower"] < 1 < iv.loc["gender=女", "hr_upper"]  # truth 1.0
    # attenuated towards 1: measured 1.27 (1.11-1.45) and 0.77 (0.69-0.85)
    assert 1 < iv.loc["acquisition_channel=paid_social", "hr"] < 1.6
    assert 0.6 < iv.loc["is_member", "hr"] < 1


def test_synthetic_drivers_and_rates(sframe):
    d = C.churn_drivers(sframe, columns=["acquisition_channel", "member_level", "gender", "age_at_signup"])
    tab = d.table.set_index("feature")
    assert tab.loc["acquisition_channel", "worst_level"] == "paid_social"
    assert tab.loc["acquisition_channel", "p_holm"] < 0.05 and tab.loc["member_level", "p_holm"] < 0.05
    assert tab.loc["member_level", "worst_level"] == "non_member"
    assert tab.loc["gender", "p_holm"] > 0.05  # truth: no gender effect
    assert tab.loc["acquisition_channel", "test"] == "Pearson chi-square test of independence"
    with pytest.warns(StatisticalWarning, match=r"'customer_id' has 4,033 levels.*max_levels=30"):
        r = C.churn_rates(sframe, by=["customer_id", "member_level", "absent"])
    assert set(r.table["column"]) == {"all", "member_level"}


def test_cohort_retention_counts(synth, sframe):
    cr = C.cohort_retention(sframe, synth.orders)
    assert cr.available and cr.basis == "purchases" and len(cr.sizes) == 33
    assert int(cr.sizes.sum()) == sframe.n
    # every customer in the frame bought by as_of; month 0 counts those buying in their sign-up month
    assert (cr.active[0] <= cr.sizes).all() and cr.active.iloc[-1, 1:].isna().all()


def test_unhappy_vs_drift_agrees_with_truth(synth, sframe):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rs = C.unhappy_vs_drift(sframe, tickets=synth.tickets, orders=synth.orders)
    conf = rs.agreement(synth.truth_customers.set_index("customer_id")["churn_reason"])
    recall = conf.loc["unhappy", "unhappy"] / conf.loc["All", "unhappy"]
    assert recall >= 0.9  # measured 59 of 62
    assert conf.loc["drift", "drift"] > conf.loc["unhappy", "drift"]
    rec = C.recommendations(drivers=C.churn_drivers(sframe, columns=["acquisition_channel", "member_level", "gender"]),
                            hazard=C.hazard_by_tenure(sframe.table), reasons=rs,
                            value_at_risk=pd.DataFrame({"segment": ["A", "B"], "value_at_risk": [10.0, 30.0]}))
    text = rec.finding()
    assert "Act on member_level first" in text  # Cramér V 0.07, ahead of acquisition_channel and "segment B" in text and "bad service" in text
    assert not np.isnan(rec.facts["peak_hazard"])
