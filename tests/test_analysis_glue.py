"""The glue the churn and campaign notebooks call between library steps: time-safe model frames,
the hazard-ratio truth check, one campaign's frame, the observational comparison group, the
per-segment truth check, and pre-campaign covariates."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from workbench import campaign, churn
from workbench.campaign import experiments
from workbench.churn import ChurnLabel
from workbench.churn.drivers import _redundant
from workbench.synth.simulate import generate


@lru_cache(maxsize=1)
def example():
    return generate(5000, seed=42)


def test_model_frames_are_out_of_time_and_never_carry_segment_columns():
    d = example()
    label = ChurnLabel()
    segments = pd.DataFrame({"customer_id": d.customers["customer_id"], "cluster_name": "x", "clv": 1.0})
    frame = churn.churn_frame(d.customers, d.orders, as_of="2025-09-30", label=label, segments=segments)
    train, test = churn.model_frames(frame, d.customers, d.orders, label=label)
    # training labels come from the 90 days up to as_of: recompute them by hand for a few customers
    earlier = pd.Timestamp("2025-09-30") - pd.Timedelta(days=90)
    o = d.orders[(d.orders["amount"] > 0) & ~d.orders["is_refund"]]
    bought_before = set(o.loc[o["order_time"] < earlier + pd.Timedelta(days=1), "customer_id"])
    bought_window = set(o.loc[(o["order_time"] >= earlier + pd.Timedelta(days=1))
                              & (o["order_time"] < pd.Timestamp("2025-10-01")), "customer_id"])  # fmt: skip
    assert set(train["customer_id"]) == bought_before
    expected = ~train["customer_id"].isin(bought_window)
    assert (train["churned"].astype(bool) == expected).mean() > 0.995
    assert "cluster_name" not in test and "clv" not in test
    assert set(test.columns) <= set(train.columns)
    assert len(test) == len(frame.table)


def test_model_frames_snapshot_data_use_one_frame():
    customers = pd.DataFrame({"customer_id": [f"c{i}" for i in range(40)], "churned": [1, 0] * 20,
                              "tenure_months": np.arange(40) % 12 + 1})  # fmt: skip
    frame = churn.churn_frame(customers, as_of="2024-01-31", label=ChurnLabel(kind="contractual", end_date_column=None))
    train, test = churn.model_frames(frame, customers)
    assert test is None and len(train) == 40
    assert (churn.current_customers(frame)["churned"] == 0).all()


def test_hazard_ratio_check_covers_a_known_ratio():
    rng = np.random.default_rng(3)
    n = 4000
    g = rng.choice(["a", "b"], n)
    t = rng.exponential(1 / np.where(g == "b", 0.2, 0.1))
    cens = rng.uniform(0, 20, n)
    table = pd.DataFrame({"duration_months": np.minimum(t, cens), "event": (t <= cens).astype(int), "g": g})
    cox = churn.cox_model(table, covariates=["g"], reference={"g": "a"}, random_state=0)
    check = churn.hazard_ratio_check(cox, {"g=b": 2.0, "missing": 1.5}, aliases={}).table
    row = check.set_index("truth_name").loc["g=b"]
    assert row["covered"] and row["same_side"] and 1.8 < row["hr"] < 2.2
    assert pd.isna(check.set_index("truth_name").loc["missing", "term"])
    assert "cover 1 of 1" in churn.hazard_ratio_check(cox, {"g=b": 2.0, "missing": 1.5}, aliases={}).finding()


def test_campaign_truth_check_covers_every_segment_of_the_example():
    d = example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = campaign.prepare_contacts(d.campaign_contacts, orders=d.orders, as_of="2025-09-30")
        frame = campaign.campaign_frame(data, "spring_coupon_2025", customers=d.customers, truth=d.truth_customers)
        het = experiments.heterogeneity(frame, by="true_segment", control="control", arm_name="treatment")
    check = campaign.truth_effect_check(het, d.truth["campaigns"]["spring_coupon_2025"], "treatment")
    assert sorted(check["segment"]) == ["bargain", "loyal", "occasional", "vip"]
    assert check["covered"].all()
    assert "name" not in frame and "acquisition_channel" in frame
    with pytest.raises(Exception, match="not found"):
        campaign.campaign_frame(data, "nope")


def test_observational_frame_agrees_with_the_contacts_table():
    d = example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = campaign.prepare_contacts(d.campaign_contacts, orders=d.orders, as_of="2025-09-30")
    comp = campaign.observational_frame(data, "vip_call_2025", orders=d.orders, customers=d.customers)
    vip = d.campaign_contacts[d.campaign_contacts["campaign_id"] == "vip_call_2025"].set_index("customer_id")
    tr = comp[comp["treated"]].set_index("customer_id")
    assert len(tr) == len(vip)
    assert np.allclose(tr["pre_period_revenue"], vip.loc[tr.index, "pre_period_revenue"], atol=0.01)
    assert (tr["converted"] == vip.loc[tr.index, "converted"].astype(bool)).all()
    assert comp[["n_orders", "recency_days", "tenure_days"]].notna().all().all()


def test_pre_campaign_covariates_stop_the_day_before_the_first_contact():
    d = example()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = campaign.prepare_contacts(d.campaign_contacts, orders=d.orders, as_of="2025-09-30")
    cov = campaign.pre_campaign_covariates(data, "spring_coupon_2025", customers=d.customers, orders=d.orders)
    first = d.campaign_contacts.loc[d.campaign_contacts["campaign_id"] == "spring_coupon_2025", "contact_time"].min()
    cutoff = first.normalize() - pd.Timedelta(days=1)
    o = d.orders[(d.orders["amount"] > 0) & ~d.orders["is_refund"] & (d.orders["order_time"] < cutoff + pd.Timedelta(days=1))]
    n = o.groupby("customer_id").size()
    got = cov.set_index("customer_id")["n_orders"].reindex(n.index)
    assert (got == n).mean() > 0.99
    assert not {"name", "phone", "email"} & set(cov.columns)


def test_collinear_cox_covariates_stop_with_a_message_and_the_default_avoids_them():
    from workbench.core.errors import AnalysisError

    rng = np.random.default_rng(0)
    n = 3000
    internet = rng.choice(["DSL", "Fiber", "No"], n)
    security = np.where(internet == "No", "No internet service", rng.choice(["Yes", "No"], n))
    backup = np.where(internet == "No", "No internet service", rng.choice(["Yes", "No"], n))
    t = rng.exponential(20, n)
    table = pd.DataFrame({"duration_months": np.minimum(t, 24), "event": (t < 24).astype(int),
                          "internet": internet, "security": security, "backup": backup})  # fmt: skip
    with pytest.raises(AnalysisError, match="collinear.*covariates="):
        churn.cox_model(table, covariates=["internet", "security", "backup"])
    assert _redundant(table, ["internet"], "security")
    assert not _redundant(table, ["internet"], "duration_months")
    assert churn.collinear_terms(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.5]])) == []


def test_campaign_notebook_checks_contacts_before_cleaning_merges_duplicate_keys():
    """Cleaning keeps one row per (campaign, customer) key; the campaign notebook must read the
    contacts as they were read, so a customer in two arms still stops the analysis."""
    import json

    from workbench.run.registry import get_analysis

    nb = json.loads(get_analysis("campaign").path.read_text(encoding="utf-8"))
    src = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'ctx.tables(["campaign_contacts"])' in src
    assert 'clean["campaign_contacts"]' not in src
    d = example()
    c = d.campaign_contacts
    row = c.iloc[[0]].copy()
    row["arm"] = "control" if row["arm"].iloc[0] != "control" else "treatment"
    from workbench.core.errors import AnalysisError

    with pytest.raises(AnalysisError, match="two or more arms"):
        campaign.prepare_contacts(pd.concat([c, row]), orders=d.orders, as_of="2025-09-30")
