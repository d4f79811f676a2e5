"""Issue 11, churn / segmentation / value side: each defect ends in a result or a clear message.

1. ``as_of`` long after the data ends: one shared check (``data.orders.check_as_of``) warns in
   RFM and CLV (holdout skipped) and stops the inactivity churn label.
2. Churn defaults on a small orders-only base: the Cox section is skipped with the reason, the
   Kaplan-Meier group falls back to one curve.
3. Cohort retention by first-purchase month (month 0 = 100 %), checked on a hand-built case.
4. ``marketing_consent``: never on the retention list, counted; copied into the tag table.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import churn, segmentation, value
from workbench.churn import model as churn_model
from workbench.core.errors import AnalysisError, DataQualityWarning, StatisticalWarning
from workbench.data.features import customer_features
from workbench.data.orders import AS_OF_MIN_GAP_DAYS, check_as_of
from workbench.synth import generate

LATE = "2029-01-01"


@pytest.fixture(scope="module")
def base():
    return generate(600, seed=3)  # orders to 2025-12-31


def _orders(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in range(len(rows))],
            "customer_id": [r[0] for r in rows],
            "order_time": pd.to_datetime([r[1] for r in rows]),
            "amount": [r[2] for r in rows],
        }
    )


def _small_orders_only(n: int = 200, seed: int = 1) -> pd.DataFrame:
    """About ``n`` customers buying 2023-01 .. 2025-12: orders only, no customer attributes."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        t = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 900)))
        for _ in range(int(rng.geometric(0.3))):
            if t > pd.Timestamp("2025-12-31"):
                break
            rows.append((f"C{c}", t.isoformat(), float(round(rng.gamma(2, 40), 2))))
            t = t + pd.Timedelta(days=int(rng.exponential(60)) + 1)
    return _orders(rows)


# ---------------------------------------------------------------------------------------------
# 1. as_of years after the data ends
# ---------------------------------------------------------------------------------------------


def test_check_as_of_gap_and_threshold_by_hand():
    # a buys every 100 days: median gap 100, threshold max(180, 3 x 100) = 300
    o = _orders([("a", "2025-01-01", 5.0), ("a", "2025-04-11", 5.0), ("a", "2025-07-20", 5.0), ("b", "2025-12-20", 9.0)])
    c = check_as_of(o, "2026-10-01", warn=False)
    assert (c.last_purchase, c.gap_days, c.typical_gap_days, c.threshold_days) == (
        pd.Timestamp("2025-12-20"), 285, 100.0, 300)
    assert not c.stale and c.message == ""
    late = check_as_of(o, "2026-10-20", warn=False)
    assert late.stale and late.gap_days == 304
    # short cycles: the 180-day floor
    short = _orders([("a", "2025-01-01", 5.0), ("a", "2025-01-11", 5.0), ("b", "2025-12-31", 1.0)])
    assert check_as_of(short, "2026-06-30", warn=False).threshold_days == AS_OF_MIN_GAP_DAYS
    # data running past as_of (the label window): negative gap, fine
    assert check_as_of(o, "2025-09-30", warn=False).gap_days == -81
    # refunds do not count as the last purchase
    refund = pd.concat([o, _orders([("b", "2026-09-01", -9.0)])], ignore_index=True)
    assert check_as_of(refund, "2026-10-01", warn=False).last_purchase == pd.Timestamp("2025-12-20")


def test_check_as_of_warns_with_date_gap_and_params_key(base):
    with pytest.warns(DataQualityWarning) as rec:
        c = check_as_of(base.orders, LATE)
    msg = str(rec[0].message)
    assert c.stale and c.gap_days == 1097
    assert "last purchase is on 2025-12-31" in msg and "1,097 days before as_of 2029-01-01" in msg
    assert "params key as_of" in msg
    json.dumps(c.metrics())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not check_as_of(base.orders, "2025-09-30").stale  # the example's as_of: silent


def test_rfm_finding_warns_on_stale_as_of(base):
    feats = customer_features(base.orders, as_of=LATE, customers=base.customers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check = check_as_of(base.orders, LATE)
        rfm = segmentation.rfm_scores(feats, as_of_check=check)
        plain = segmentation.rfm_scores(feats)
    assert rfm.finding().startswith("Warning: orders.order_time: the last purchase is on 2025-12-31, 1,097 days")
    assert "ranks) still order customers" in rfm.finding()
    assert rfm.metrics()["as_of_stale"] is True and rfm.metrics()["as_of_gap_days"] == 1097
    assert "Warning" not in plain.finding()
    json.dumps(rfm.metrics())


def test_clv_goes_on_with_warning_and_skips_the_holdout(base):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clv = value.customer_value(base.orders, as_of=LATE, calibration_end="2025-06-30")
    text = clv.finding()
    assert text.startswith("Warning: orders.order_time: the last purchase is on 2025-12-31")
    assert "P(alive) and CLV below are understated" in text and "params key as_of" in text
    assert clv.holdout is None and clv.tracking is None
    assert clv.holdout_finding().startswith("No holdout check: the holdout period 2025-06-30 to 2029-01-01 runs "
                                            "1,097 days past the last purchase")
    assert "meaningless" in clv.holdout_finding()
    m = clv.metrics()
    assert m["as_of_stale"] is True and m["holdout_skipped"]
    json.dumps(m, default=float)
    # the data reaching as_of: no warning, holdout as before
    ok = value.customer_value(base.orders, as_of="2025-09-30", method="simple")
    assert not ok.finding().startswith("Warning") and ok.metrics()["as_of_stale"] is False


def test_churn_stops_on_stale_as_of_with_inactivity_label(base):
    with pytest.raises(AnalysisError, match=r"last purchase is on 2025-12-31, 1,097 days before as_of 2029-01-01.*"
                                            r"params key as_of.*label\.inactivity_days="):
        churn.churn_frame(base.customers, base.orders, as_of=LATE)


def test_churn_contractual_with_stale_orders_warns_and_notes(base):
    cust = base.customers.assign(churned=np.arange(len(base.customers)) % 3 == 0, tenure_months=12.0)
    with pytest.warns(DataQualityWarning, match="1,097 days before as_of"):
        f = churn.churn_frame(cust, base.orders, as_of=LATE,
                              label=churn.ChurnLabel(kind="contractual", end_date_column=None))
    assert any(n.startswith("Warning: orders.order_time") for n in f.notes)
    assert "1,097 days" in f.finding()


def test_tiny_three_order_dataset_ends_in_a_clear_message():
    """tests/test_runner.py's ORDERS_CSV: 3 orders to 2024-03-07, as_of 2024-12-31."""
    o = _orders([("C1", "2024-01-05 10:00", 12.5), ("C2", "2024-02-06 11:00", 30.0), ("C1", "2024-03-07 12:00", 7.25)])
    cust = pd.DataFrame({"customer_id": ["C1", "C2"]})
    with pytest.raises(AnalysisError, match=r"last purchase is on 2024-03-07, 299 days before as_of 2024-12-31"):
        churn.churn_frame(cust, o, as_of="2024-12-31")


# ---------------------------------------------------------------------------------------------
# 2. churn defaults on a small orders-only base
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_frame():
    o = _small_orders_only()
    cust = pd.DataFrame({"customer_id": sorted(o["customer_id"].unique())})
    return churn.churn_frame(cust, o, as_of="2025-09-01"), o


def test_cox_default_on_orders_only_is_skipped_with_the_reason(small_frame):
    frame, _ = small_frame
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drivers = churn.churn_drivers(frame)
    covariates = churn.default_cox_covariates(drivers, table=frame.table)
    assert covariates == []  # only purchase behaviour: symptoms, not causes
    with pytest.warns(StatisticalWarning, match=r"Cox model skipped: no covariates.*cox_covariates="):
        cox = churn.cox_model(frame.table, covariates=covariates)
    assert cox.skipped and cox.finding() == cox.skipped
    assert "Set cox_covariates= to customer attributes" in cox.finding()
    assert cox.summary().empty and cox.n == frame.n
    assert cox.plot() is not None
    m = cox.metrics()
    assert m["skipped"] and m["hazard_ratios"] == {} and m["ph_violations"] == []
    json.dumps(m)
    assert "CoxResult(covariates=0" in repr(cox)
    hazard = churn.hazard_by_tenure(frame.table, min_at_risk=5)
    recs = churn.recommendations(drivers=drivers, hazard=hazard, cox=cox)
    assert recs.items


def test_kaplan_meier_default_group_absent_gives_one_curve(small_frame):
    frame, _ = small_frame
    with pytest.warns(DataQualityWarning, match=r"group='acquisition_channel' not found.*survival_group="):
        km = churn.kaplan_meier(frame.table, group="acquisition_channel")
    assert km.group is None and list(km.medians["group"]) == ["all"]
    assert "not found" in km.finding()


# ---------------------------------------------------------------------------------------------
# 3. cohort retention by first-purchase month
# ---------------------------------------------------------------------------------------------


def _frame(customers: list[str], as_of: str, signup: list[str]) -> churn.ChurnFrame:
    t = pd.DataFrame({"customer_id": customers, "churned": [i % 2 for i in range(len(customers))],
                      "duration_months": 1.0, "event": [i % 2 for i in range(len(customers))],
                      "start_date": pd.to_datetime(signup)})  # fmt: skip
    return churn.ChurnFrame(table=t, kind="non_contractual", definition="hand", as_of=pd.Timestamp(as_of),
                            window_days=90, n_input=len(t))  # fmt: skip


def test_cohort_retention_by_first_purchase_hand_case():
    """Cohort 2024-01: a, b, c (first purchases in January); cohort 2024-02: d, e.
    a buys again in Feb and Apr, b in Mar, c never; d in Mar, e in Apr. Sign-up dates are all in
    2023 (a sign-up cohort would lump everyone together). as_of 2024-04-15: April is not complete.

    By hand: 2024-01 month 0 = 3/3, month 1 = 1/3 (a), month 2 = 1/3 (b), month 3 = April,
    unobserved. 2024-02 month 0 = 2/2, month 1 = 1/2 (d), month 2 = April, unobserved.
    """
    o = _orders([
        ("a", "2024-01-03", 10.0), ("a", "2024-02-10", 5.0), ("a", "2024-04-02", 5.0),
        ("b", "2024-01-20", 10.0), ("b", "2024-03-05", 5.0), ("b", "2024-01-28", 3.0),
        ("c", "2024-01-31", 10.0), ("c", "2024-02-15", -10.0),  # a refund is not a purchase
        ("d", "2024-02-01", 10.0), ("d", "2024-03-30", 5.0),
        ("e", "2024-02-29", 10.0), ("e", "2024-04-10", 5.0),
        ("a", "2024-05-01", 5.0),  # after as_of: ignored
    ])  # fmt: skip
    frame = _frame(list("abcdef"), "2024-04-15", ["2023-06-01"] * 6)  # f never bought
    cr = churn.cohort_retention(frame, o)
    assert cr.basis == "purchases" and list(cr.sizes.index) == ["2024-01", "2024-02"]
    assert cr.sizes.tolist() == [3, 2]
    r = cr.rates
    assert r.loc["2024-01", 0] == 1 and r.loc["2024-02", 0] == 1
    assert r.loc["2024-01", 1] == pytest.approx(1 / 3) and r.loc["2024-01", 2] == pytest.approx(1 / 3)
    assert 3 not in r.columns  # April is not complete for any cohort
    assert r.loc["2024-02", 1] == pytest.approx(1 / 2) and np.isnan(r.loc["2024-02", 2])
    assert cr.metrics()["retention_month_1"] == pytest.approx(2 / 5)
    assert "first purchase" in cr.finding() and "month 0 = 100 %" in cr.finding()
    assert "1 of 6 customers have no purchase by as_of" in cr.finding()
    ax = cr.plot()
    assert "first-purchase" in ax.get_ylabel() and "first purchase" in ax.get_xlabel()
    assert "first-purchase cohort" in ax.get_title()


def test_cohort_month_zero_is_full_for_every_cohort(base):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = churn.churn_frame(base.customers, base.orders, as_of="2025-09-30")
    cr = churn.cohort_retention(frame, base.orders)
    assert (cr.rates[0] == 1).all()
    assert int(cr.sizes.sum()) == frame.n


def test_duration_cohorts_count_every_customer():
    """Without orders: cohorts by acquisition month, every customer in the denominator."""
    t = pd.DataFrame({"customer_id": list("abcd"), "churned": [1, 0, 1, 0], "event": [1, 0, 1, 0],
                      "duration_months": [0.5, 5.0, 2.0, 1.0],
                      "start_date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-01-25", "2024-02-03"])})
    frame = churn.ChurnFrame(table=t, kind="contractual", definition="hand", as_of=pd.Timestamp("2024-04-30"),
                             window_days=None, n_input=4)
    cr = churn.cohort_retention(frame)
    assert cr.basis == "survival" and cr.sizes.tolist() == [3, 1]
    assert cr.rates.loc["2024-01", 1] == pytest.approx(2 / 3) and cr.rates.loc["2024-01", 3] == pytest.approx(1 / 3)
    assert "acquisition" in cr.plot().get_ylabel()


# ---------------------------------------------------------------------------------------------
# 4. marketing consent
# ---------------------------------------------------------------------------------------------


def _scores() -> tuple[pd.DataFrame, pd.Series]:
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "p_churn": [0.5, 0.1, 0.8, 0.9]})
    # EV = p * value * 0.2 - 5: a 5, b 15, c -3.4, d 13
    return scores, pd.Series({"a": 100.0, "b": 1000.0, "c": 10.0, "d": 100.0}, name="clv")


def test_retention_list_never_lists_customers_without_consent():
    scores, value_ = _scores()
    cust = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "marketing_consent": pd.array([True, False, False, pd.NA], dtype="boolean")})
    rl = churn_model.retention_list(scores, value=value_, save_rate=0.2, contact_cost=5, salt="s",
                                    allow_raw_keys=True, customers=cust)
    e = rl.to_frame()
    assert e["customer_id"].tolist() == ["d", "a"]  # b (worth 15) has no consent
    assert e["marketing_consent"].isna().tolist() == [True, False]
    s = rl.summary().set_index("item")["value"]
    assert s["excluded: no marketing consent"] == 2
    assert s["excluded: no marketing consent, though worth contacting"] == 1
    assert s["on the list with unknown consent"] == 1
    assert s["worth contacting (expected net value > 0)"] == 3 and s["on the list"] == 2
    assert s["expected net value"] == pytest.approx(18.0)
    assert s["value at risk, whole base (sum p x value)"] == pytest.approx(50 + 100 + 8 + 90)  # b still at risk
    text = rl.finding()
    assert "2 scored customers have marketing_consent = False and are never on the list (1 of them" in text
    assert "1 customers on the list have unknown consent" in text
    assert "capped" not in text
    m = rl.metrics()
    assert m["excluded: no marketing consent"] == 2 and m["assumptions"]["consent"] == "marketing_consent"
    json.dumps(m)
    bs = rl.by_segment()
    assert int(bs["on_list"].sum()) == 2
    # cap applies after the exclusion
    capped = churn_model.retention_list(scores, value=value_, save_rate=0.2, contact_cost=5, salt="s",
                                        allow_raw_keys=True, customers=cust, top_n=1)
    assert capped.to_frame()["customer_id"].tolist() == ["d"]
    # consent as text flags
    text_flags = cust.assign(marketing_consent=["yes", "no", "0", None])
    rl_t = churn_model.retention_list(scores, value=value_, save_rate=0.2, contact_cost=5, salt="s",
                                      allow_raw_keys=True, customers=text_flags)
    assert rl_t.to_frame()["customer_id"].tolist() == ["d", "a"]
    with pytest.raises(AnalysisError, match=r"customers\.marketing_consent: 1 of 4 rows are not true/false, e.g. 'maybe'"):
        churn_model.retention_list(scores, value=value_, save_rate=0.2, contact_cost=5, salt="s",
                                   customers=cust.assign(marketing_consent=["yes", "maybe", "no", "yes"]))


def test_retention_list_without_consent_column_is_unchanged():
    scores, value_ = _scores()
    rl = churn_model.retention_list(scores, value=value_, save_rate=0.2, contact_cost=5, salt="s",
                                    allow_raw_keys=True, customers=pd.DataFrame({"customer_id": list("abcd")}))
    assert rl.to_frame()["customer_id"].tolist() == ["b", "d", "a"]
    assert "marketing_consent" not in rl.to_frame().columns
    items = rl.summary()["item"].tolist()
    assert not any("consent" in i for i in items)
    assert "consent" not in rl.finding() and rl.assumptions["consent"] is None


def test_consent_is_not_a_churn_feature_or_driver(base):
    cust = base.customers.assign(marketing_consent=pd.array(np.arange(len(base.customers)) % 2 == 0, dtype="boolean"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = churn.churn_frame(cust, base.orders, as_of="2025-09-30")
    assert "marketing_consent" in frame.table.columns
    assert "marketing_consent" not in frame.features()
    spec = churn_model.prepare_features(frame.table)
    assert "marketing_consent" not in spec.features
    assert "marketing permission" in spec.dropped["marketing_consent"]


def test_tag_table_keeps_everyone_and_carries_consent(base):
    feats = customer_features(base.orders, as_of="2025-09-30", customers=base.customers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        abc = segmentation.abc_classes(feats)
        rfm = segmentation.rfm_scores(feats)
    consent = pd.array(np.where(np.arange(len(base.customers)) % 3 == 0, None,
                                np.arange(len(base.customers)) % 2 == 0), dtype="boolean")
    cust = base.customers.assign(marketing_consent=consent)
    tags = segmentation.tag_table(feats, abc=abc, rfm=rfm, tags={}, allow_raw_keys=True, customers=cust)
    assert len(tags) == len(feats)  # a tag table, not a contact list
    expected = cust.set_index("customer_id")["marketing_consent"].reindex(feats["customer_id"])
    assert tags["marketing_consent"].isna().sum() == expected.isna().sum() > 0
    assert (tags["marketing_consent"].fillna(True) == expected.fillna(True).to_numpy()).all()
    plain = segmentation.tag_table(feats, abc=abc, rfm=rfm, tags={}, allow_raw_keys=True, customers=base.customers)
    assert "marketing_consent" not in plain.columns
