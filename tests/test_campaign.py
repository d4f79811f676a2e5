"""Campaign preparation, attribution, KPIs and incremental return: hand cases and generator truth."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench.campaign import (
    attribute_orders,
    incremental_return,
    kpi_table,
    prepare_contacts,
)
from workbench.core.errors import AnalysisError, DataQualityWarning, ParamsError, StatisticalWarning
from workbench.stats import wilson_interval
from workbench.synth import simulate as synth

matplotlib.use("Agg")

T = pd.Timestamp


@pytest.fixture(scope="module")
def synth_data() -> synth.SynthData:
    return synth.generate(5000, seed=42)


@pytest.fixture(scope="module")
def prepared(synth_data: synth.SynthData):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_contacts(
            synth_data.campaign_contacts, orders=synth_data.orders, as_of="2025-09-30"
        )


def _hand_orders() -> pd.DataFrame:
    # contact of customer a at 2025-01-01 00:00, window 14 days
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "a", "a", "b", "z"],
            "order_time": pd.to_datetime(
                [
                    "2024-12-31 23:00:00",  # before contact: no
                    "2025-01-01 00:00:00",  # at contact time: no (strictly after)
                    "2025-01-03 10:00:00",  # in window: yes, 100
                    "2025-01-15 00:00:00",  # exactly contact + 14 d: yes, 50
                    "2025-01-15 00:00:01",  # one second late: no
                    "2025-01-05 00:00:00",  # refund line: no
                    "2025-01-06 00:00:00",  # cancelled: no
                    "2025-01-02 00:00:00",  # b: yes, 30
                    "2025-01-02 00:00:00",  # z was not contacted
                ]
            ),
            "amount": [999.0, 999.0, 100.0, 50.0, 999.0, -40.0, 70.0, 30.0, 5.0],
            "is_refund": [False, False, False, False, False, True, False, False, False],
            "status": [
                "paid",
                "paid",
                "paid",
                "paid",
                "paid",
                "refunded",
                "cancelled",
                "paid",
                "paid",
            ],
        }
    )


def _hand_contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "campaign_id": ["k1"] * 4,
            "arm": ["treatment", "treatment", "control", "control"],
            "contact_time": pd.to_datetime(["2025-01-01"] * 4),
            "cost": [1.0, 1.0, 0.0, 0.0],
        }
    )


def test_attribution_hand_case() -> None:
    att = attribute_orders(_hand_contacts(), _hand_orders(), window_days=14)
    assert att["orders"].tolist() == [2, 1, 0, 0]
    assert att["converted"].tolist() == [True, True, False, False]
    assert att["revenue"].tolist() == [150.0, 30.0, 0.0, 0.0]
    # orders after the data end are not used
    att2 = attribute_orders(
        _hand_contacts(), _hand_orders(), window_days=14, data_end=T("2025-01-10")
    )
    assert att2["revenue"].tolist() == [100.0, 30.0, 0.0, 0.0]


def test_attribution_one_order_one_credit() -> None:
    """Overlapping windows of two campaigns: one order is credited once (last touch), in equal
    shares (fractional), or to both (every, the old double count)."""
    contacts = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "campaign_id": ["k1", "k2", "k1"],
            "contact_time": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-01"]),
        }
    )
    orders = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "order_time": pd.to_datetime(["2025-01-03", "2025-01-07", "2025-01-02"]),  # a: 2nd order in both windows
            "amount": [10.0, 40.0, 5.0],
        }
    )
    last = attribute_orders(contacts, orders, window_days=14)  # default: last touch
    assert last["orders"].tolist() == [1, 1, 1]
    assert last["revenue"].tolist() == [10.0, 40.0, 5.0]
    frac = attribute_orders(contacts, orders, window_days=14, credit_rule="fractional")
    assert frac["orders"].tolist() == [1.5, 0.5, 1.0]
    assert frac["revenue"].tolist() == [30.0, 20.0, 5.0]
    every = attribute_orders(contacts, orders, window_days=14, credit_rule="every")
    assert every["orders"].tolist() == [2, 1, 1]
    assert every["revenue"].tolist() == [50.0, 40.0, 5.0]
    # one order, one credit: the credited orders add up to the purchases in any window
    assert last["orders"].sum() == frac["orders"].sum() == 3 < every["orders"].sum()
    with pytest.raises(AnalysisError, match=r"credit_rule='last_tuch'.*did you mean 'last_touch'"):
        attribute_orders(contacts, orders, credit_rule="last_tuch")


def test_attribution_rule_on_the_synthetic_base(synth_data) -> None:
    """On the generator's campaigns (14-day windows months apart) no window overlaps another of the
    same customer, so last touch changes nothing there: summer_email_2025 keeps every attributed
    conversion (its gap to the tracked flags is background purchases, not double counting)."""
    c, o = synth_data.campaign_contacts, synth_data.orders
    every = attribute_orders(c, o, window_days=14, credit_rule="every")
    last = attribute_orders(c, o, window_days=14)
    assert (every["orders"] == last["orders"]).all()
    summer = (c["campaign_id"] == "summer_email_2025").to_numpy()
    assert last.loc[summer, "converted"].sum() > c.loc[summer, "converted"].sum()
    # a 120-day window makes spring and summer overlap: then last touch credits each order once
    every120 = attribute_orders(c, o, window_days=120, credit_rule="every")
    last120 = attribute_orders(c, o, window_days=120)
    assert last120["orders"].sum() < every120["orders"].sum()
    vip = (c["campaign_id"] == "vip_call_2025").to_numpy()  # the latest campaign keeps all its orders
    assert last120.loc[vip, "orders"].sum() == every120.loc[vip, "orders"].sum()
    for earlier in (summer, (c["campaign_id"] == "spring_coupon_2025").to_numpy()):
        assert last120.loc[earlier, "orders"].sum() < every120.loc[earlier, "orders"].sum()


def test_prepare_from_orders_and_kpis_hand_case() -> None:
    contacts, orders = _hand_contacts(), _hand_orders()
    before = contacts.copy()
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", StatisticalWarning
        )  # tiny arms, zero conversions in control
        data = prepare_contacts(contacts, orders=orders, outcome_source="auto", as_of="2025-03-31")
    pd.testing.assert_frame_equal(contacts, before)  # input untouched
    d = data.design("k1")
    assert (
        d["design"] == "randomized"
        and d["outcome_source"] == "orders"
        and d["control_arm"] == "control"
    )
    c = data.contacts.set_index("customer_id")
    assert c.loc[["a", "b", "c", "d"], "revenue"].tolist() == [150.0, 30.0, 0.0, 0.0]
    assert c["window_complete"].all()

    k = kpi_table(
        data, by=("campaign_id", "arm"), targets={"conversion_rate": 0.5, "cpa": 0.5}, margin=0.5
    )
    t = k.table.set_index("arm")
    assert t.loc["treatment", "conversion_rate"] == 1.0
    assert t.loc["treatment", "orders"] == 3
    # ROI = (0.5 * 180 - 2) / 2 = 44; CPA = 2 / 2 = 1
    assert t.loc["treatment", "roi"] == pytest.approx(44.0)
    assert t.loc["treatment", "cpa"] == pytest.approx(1.0)
    assert t.loc["treatment", "revenue_per_contact"] == pytest.approx(90.0)
    lo, hi = wilson_interval(2, 2)
    assert t.loc["treatment", "conversion_rate_low"] == pytest.approx(lo[0])
    tt = k.targets_table().set_index("kpi")
    assert set(tt["arm"]) == {"treatment"}  # control left out of the target comparison
    assert tt.loc["conversion_rate", "status"] == "met" and tt.loc[
        "conversion_rate", "gap"
    ] == pytest.approx(0.5)
    assert (
        tt.loc["cpa", "status"] == "missed" and tt.loc["cpa", "better"] == "lower"
    )  # 1.0 > 0.5 target


def test_kpi_rates_hand_case() -> None:
    contacts = pd.DataFrame(
        {
            "customer_id": list("abcdefgh"),
            "campaign_id": ["m"] * 8,
            "arm": ["t"] * 6 + ["control"] * 2,
            "channel": ["sms"] * 8,
            "cost": [0.1] * 6 + [0.0] * 2,
            "delivered": pd.array(
                [True, True, True, True, False, None, None, None], dtype="boolean"
            ),
            "opened": pd.array(
                [True, True, False, False, False, None, None, None], dtype="boolean"
            ),
            "clicked": pd.array(
                [True, False, False, False, False, None, None, None], dtype="boolean"
            ),
            "visited": [True, True, False, False, False, False, True, False],
            "converted": [True, False, False, False, False, False, True, False],
            "revenue": [10.0, 0, 0, 0, 0, 0, 20.0, 0],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        data = prepare_contacts(contacts)
    assert data.design("m")["outcome_source"] == "columns"
    k = kpi_table(
        data, engagement_weights={"opened": 1, "clicked": 2, "visited": 3, "converted": 5}
    )
    r = k.table.set_index("arm").loc["t"]
    assert r["contacts"] == 6
    assert r["delivery_rate"] == pytest.approx(4 / 5)  # one blank delivered flag left out
    assert r["open_rate"] == pytest.approx(2 / 4)  # opened / delivered
    assert r["ctr"] == pytest.approx(1 / 4)  # clicked / delivered
    assert r["click_to_open_rate"] == pytest.approx(1 / 2)
    assert r["visit_rate"] == pytest.approx(2 / 6)
    assert r["conversion_rate"] == pytest.approx(1 / 6)
    # engagement: a = 1 + 2 + 3 + 5 = 11, b = 1 + 3 = 4, others 0 -> 15 / 6
    assert r["engagement_score"] == pytest.approx(15 / 6)
    assert np.isnan(k.table.set_index("arm").loc["control", "delivery_rate"])  # never sent
    long = k.long_table()
    assert {"kpi", "value", "low", "high"} <= set(long.columns)
    assert len(k.to_frame()) == len(k.table) and len(k.summary().columns) <= 8
    json.dumps(k.metrics())
    assert "Conversion rate ranges" in k.finding()


def test_unknown_target_and_weight_are_params_errors(prepared, tmp_path) -> None:
    from workbench.run.params import params_from_dict

    doc = {"name": "t", "as_of": "2024-12-31", "tables": {},
           "analyses": {"campaign": {"targets": {"conversion_rat": 0.1}}}}  # fmt: skip
    with pytest.raises(
        ParamsError,
        match=r"analyses\.campaign\.targets\.conversion_rat.*did you mean 'conversion_rate'",
    ):
        params_from_dict(doc, base_dir=tmp_path, check_files=False)
    with pytest.raises(AnalysisError, match=r"targets\.conversion_rat.*did you mean 'conversion_rate'"):
        kpi_table(prepared, targets={"conversion_rat": 0.1})
    # the flags are the contacts' columns: a data question, named by the keyword
    with pytest.raises(AnalysisError, match=r"engagement_weights\.clickd.*did you mean 'clicked'"):
        kpi_table(prepared, engagement_weights={"clickd": 1.0})


def test_synthetic_designs_and_attribution_vs_truth(synth_data, prepared) -> None:
    d = prepared.designs.set_index("campaign_id")
    assert d.loc["spring_coupon_2025", "design"] == "randomized"
    assert d.loc["summer_email_2025", "arms"] == ("A", "B", "control")
    assert d.loc["vip_call_2025", "design"] == "observational"  # no control arm in the truth either
    assert synth_data.truth["campaigns"]["vip_call_2025"]["design"] == "observational"
    assert (d["outcome_source"] == "columns").all()
    a = prepared.agreement.set_index("campaign_id")
    # vip_call: converted = any purchase in the 14-day window, read from orders -> identical
    assert (
        a.loc["vip_call_2025", "column_conversions"]
        == a.loc["vip_call_2025", "attributed_conversions"]
        == 230
    )
    c = prepared.contacts
    v = c[c["campaign_id"] == "vip_call_2025"]
    assert np.allclose(v["revenue"], v["attributed_revenue"], atol=0.011)
    # randomized: every tracked conversion inserted one purchase in the window -> every flagged
    # contact has an attributed order; background purchases add order-only conversions
    for camp in ("spring_coupon_2025", "summer_email_2025"):
        assert a.loc[camp, "flag_without_order"] == 0
        assert a.loc[camp, "order_without_flag"] > 0
        s = c[(c["campaign_id"] == camp) & c["converted"]]
        assert (s["attributed_revenue"] >= s["revenue"] - 0.011).all()
    assert a.loc["spring_coupon_2025", "column_conversions"] == sum(
        synth_data.truth["campaigns"]["spring_coupon_2025"]["overall"]["conversions"].values()
    )


def test_synthetic_outcome_source_orders(synth_data) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = prepare_contacts(
            synth_data.campaign_contacts,
            orders=synth_data.orders,
            outcome_source="orders",
            as_of="2025-09-30",
        )
    assert (data.designs["outcome_source"] == "orders").all()
    c = data.contacts
    assert "converted_column" in c.columns
    assert (c["converted"] == c["attributed_converted"].astype(bool)).all()


def test_incremental_return_matches_truth(synth_data, prepared) -> None:
    ir = incremental_return(prepared, margin=0.3, random_state=7, bootstrap=200, min_cost_share=0)
    t = ir.table.set_index(["campaign_id", "arm"])
    assert set(t.index) == {
        ("spring_coupon_2025", "treatment"),
        ("summer_email_2025", "A"),
        ("summer_email_2025", "B"),
    }
    for camp, arms in (("spring_coupon_2025", ["treatment"]), ("summer_email_2025", ["A", "B"])):
        truth = synth_data.truth["campaigns"][camp]["overall"]
        for arm in arms:
            r = t.loc[(camp, arm)]
            n = truth["n"][arm]
            assert r["contacts"] == n
            assert r["incremental_conversions"] == pytest.approx(
                truth["realised_diff"][arm] * n, abs=0.01
            )
            half = (r["incremental_conversions_high"] - r["incremental_conversions_low"]) / 2
            assert half / n == pytest.approx(1.959964 * truth["realised_se"][arm], rel=1e-3)
            assert r["incremental_profit"] == pytest.approx(
                0.3 * r["incremental_revenue"] - r["incremental_cost"]
            )
            assert r["incremental_roi"] == pytest.approx(
                r["incremental_profit"] / r["incremental_cost"]
            )
    # spring: cost 0.05 per treated contact
    assert t.loc[("spring_coupon_2025", "treatment"), "incremental_cost"] == pytest.approx(
        0.05 * 1421
    )
    # seeded: same seed, same intervals
    ir2 = incremental_return(prepared, margin=0.3, random_state=7, bootstrap=200, min_cost_share=0)
    pd.testing.assert_frame_equal(ir.table, ir2.table)
    assert ir.table["p_holm"].ge(ir.table["p_value"]).all()
    json.dumps(ir.metrics())
    assert "spring_coupon_2025 treatment" in ir.finding()
    ir.plot()


def test_customer_in_two_arms_is_an_error() -> None:
    c = _hand_contacts()
    c = pd.concat([c, c.iloc[[0]].assign(arm="control")], ignore_index=True)
    with pytest.raises(
        AnalysisError, match=r"1 customer\(s\) \(2 rows\).*two or more arms.*'a' in k1|a in k1"
    ):
        prepare_contacts(c, orders=_hand_orders())


def test_unknown_campaign_param() -> None:
    with pytest.raises(
        AnalysisError, match=r"campaigns=.*'k11'.*did you mean 'k1'"
    ):
        prepare_contacts(_hand_contacts(), orders=_hand_orders(), campaigns=["k11"])


def test_no_control_is_observational_with_hint() -> None:
    c = _hand_contacts().assign(arm=lambda d: d["arm"].replace({"control": "Control"}))
    with pytest.warns(
        StatisticalWarning,
        match=r"no arm named 'control' \(arms seen: Control, treatment\).*did you mean",
    ):
        data = prepare_contacts(c, orders=_hand_orders())
    assert data.design("k1")["design"] == "observational"
    with pytest.warns(StatisticalWarning, match="no campaign has a control arm"):
        ir = incremental_return(data, random_state=0)
    assert ir.table.empty and "cannot be estimated" in ir.finding()


def test_only_control_arm_is_an_error() -> None:
    c = _hand_contacts().assign(arm="control")
    with pytest.raises(AnalysisError, match="only the control arm"):
        prepare_contacts(c, orders=_hand_orders())


def test_warnings_zero_conversions_small_and_unequal_arms() -> None:
    n_t, n_c = 2000, 50
    c = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n_t + n_c)],
            "campaign_id": "big",
            "arm": ["treatment"] * n_t + ["control"] * n_c,
            "converted": [i % 10 == 0 for i in range(n_t)] + [False] * n_c,
            "revenue": 0.0,
        }
    )
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        prepare_contacts(c)
    msgs = [str(w.message) for w in rec if issubclass(w.category, StatisticalWarning)]
    assert any("arm sizes differ widely" in m and "control: 50" in m for m in msgs)
    assert any("fewer than 100 contacts" in m for m in msgs)
    assert any("no conversion at all in arm(s) control" in m for m in msgs)


def test_incomplete_window_and_contact_after_data_end() -> None:
    c = _hand_contacts()
    with pytest.warns(StatisticalWarning, match=r"4 of 4 contacts have an attribution window"):
        data = prepare_contacts(c, orders=_hand_orders(), as_of="2025-01-10")
    assert not data.contacts["window_complete"].any()
    with pytest.raises(
        AnalysisError, match=r"all 4 contacts of campaign 'k1' are after the data end"
    ):
        prepare_contacts(c, orders=_hand_orders(), as_of="2024-12-01")


def test_converted_flag_before_contact_warns() -> None:
    c = _hand_contacts().assign(converted=[False, False, True, False], revenue=0.0)
    orders = pd.concat(
        [
            _hand_orders(),
            pd.DataFrame({"customer_id": ["c"], "order_time": [T("2024-12-20")], "amount": [9.0]}),
        ],
        ignore_index=True,
    )
    with pytest.warns(
        DataQualityWarning, match=r"1 contacts flagged converted whose customer has no order after"
    ):
        prepare_contacts(c, orders=orders)


def test_orders_source_needs_orders_and_contact_time() -> None:
    c = _hand_contacts()
    with pytest.raises(AnalysisError, match="no orders table was given"):
        prepare_contacts(c, outcome_source="orders")
    with pytest.raises(AnalysisError, match="contact_time"):
        prepare_contacts(c.drop(columns="contact_time"), orders=_hand_orders())
    with pytest.raises(AnalysisError, match=r"required column\(s\) arm missing"):
        prepare_contacts(c.drop(columns="arm"))


def test_plots_and_styles(prepared) -> None:
    k = kpi_table(
        prepared,
        targets={"delivery_rate": 0.95, "open_rate": 0.25, "conversion_rate": 0.08, "roi": 1.0},
    )
    k.plot()
    k.plot_targets()
    html = k.styled_targets().to_html()
    assert "missed" in html and "met" in html
    assert "Targets:" in k.finding()
    assert repr(prepared).startswith("CampaignData(6,619 contacts, 3 campaigns")
    assert prepared._repr_html_().startswith("<p><b>CampaignData")


def test_hillstrom_published_figures(root) -> None:
    """MineThatData E-Mail Analytics Challenge (Hillstrom 2008): 64,000 customers, two weeks."""
    from workbench.core.io import load_tables
    from workbench.run.params import load_params

    p = load_params(root / "params" / "hillstrom.yaml")
    tables = load_tables(p)
    cp = p.analyses.campaign
    data = prepare_contacts(
        tables["campaign_contacts"].frame, control_arm=cp.control_arm, outcome_source=cp.outcome_source
    )
    assert data.design("hillstrom_2008")["design"] == "randomized"
    k = kpi_table(data, by=("arm",), targets=cp.targets).table.set_index("arm")
    assert k["contacts"].to_dict() == {"Mens E-Mail": 21307, "Womens E-Mail": 21387, "No E-Mail": 21306}
    published = {  # visit rate, conversion rate, spend per customer
        "Mens E-Mail": (0.1828, 0.0125, 1.42),
        "Womens E-Mail": (0.1514, 0.0088, 1.08),
        "No E-Mail": (0.1062, 0.0057, 0.65),
    }
    for arm, (visit, conv, spend) in published.items():
        assert k.loc[arm, "visit_rate"] == pytest.approx(visit, abs=5e-5)
        assert k.loc[arm, "conversion_rate"] == pytest.approx(conv, abs=5e-5)
        assert k.loc[arm, "revenue_per_contact"] == pytest.approx(spend, abs=0.005)
    ir = incremental_return(data, margin=cp.margin, random_state=p.seed, bootstrap=0)
    assert ir.table["incremental_profit"].isna().all()  # no cost column: profit unknown, not cost 0
    assert (ir.table["incremental_margin_low"] > 0).all()


def test_targeting_without_revenue_skips_instead_of_crashing() -> None:
    """The value per conversion is derived in the package: contacts without revenue give no
    targeting list (with a warning) unless a value is given, where the notebook used to fail on
    ``margin * None``."""
    from workbench.campaign import targeting, uplift_section

    rng = np.random.default_rng(1)
    n = 800
    ids = [f"C{i:05d}" for i in range(n)]
    x1 = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    converted = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.5 * x1 + 0.5 * treated)))
    contacts = pd.DataFrame({"customer_id": ids, "campaign_id": "c1", "arm": np.where(treated, "treatment", "control"),
                             "converted": converted})  # fmt: skip
    features = pd.DataFrame({"customer_id": ids, "x1": x1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = prepare_contacts(contacts, outcome_source="columns")
        section = uplift_section(data, customers=features, learner="logistic", bootstrap=0, random_state=0)
    assert section is not None and section.data.value_per_conversion is None
    with pytest.warns(StatisticalWarning, match="no targeting list.*value_per_conversion="):
        assert targeting(section, customers=features, as_of="2025-01-01", contact_cost=0.1, salt="s") is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        given = targeting(section, customers=features, as_of="2025-01-01", value_per_conversion=20.0,
                          contact_cost=0.1, salt="s")  # fmt: skip
    assert given is not None and given.value_per_conversion == 20.0
    assert targeting(None, as_of="2025-01-01") is None
