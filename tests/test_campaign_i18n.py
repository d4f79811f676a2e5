"""The campaign report in Chinese and English, summary first, and KPIs that mean something:
ROI and cost per acquisition only where cost is tracked and not negligible (hand-built cases),
the key findings from the generator's planted campaign effects, and zh texts without English."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import campaign, synth
from workbench.campaign import cost_status, incremental_return, kpi_table, prepare_contacts
from workbench.core.errors import StatisticalWarning
from workbench.report import fmt, i18n
from workbench.report.summary import KeyFinding

_HAN = re.compile(r"[\u4e00-\u9fff]")
# an English sentence: three lower-case English words in a row (identifiers and terms aside)
_ENGLISH = re.compile(r"\b[a-z]{3,}\s+[a-z]{2,}\s+[a-z]{3,}\b")


@pytest.fixture(scope="module")
def synth_data() -> synth.SynthData:
    return synth.generate(5000, seed=42)


@pytest.fixture(scope="module")
def prepared(synth_data: synth.SynthData) -> campaign.CampaignData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_contacts(synth_data.campaign_contacts, orders=synth_data.orders, as_of="2025-09-30")


def _hand(cost_treated: float) -> campaign.CampaignData:
    """200 treated contacts (50 convert, revenue 100 each = 5,000) and 200 controls (20 convert)."""
    n = 200
    conv_t = np.r_[np.ones(50, bool), np.zeros(n - 50, bool)]
    conv_c = np.r_[np.ones(20, bool), np.zeros(n - 20, bool)]
    contacts = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(2 * n)], "campaign_id": "m", "channel": "email",
        "arm": ["t"] * n + ["control"] * n, "converted": np.r_[conv_t, conv_c],
        "revenue": np.r_[conv_t, conv_c] * 100.0, "cost": [cost_treated] * n + [0.0] * n,
    })  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return prepare_contacts(contacts, outcome_source="columns")


def test_cost_status_rule() -> None:
    got = cost_status([np.nan, 0.0, 0.5, 1.0, 3.0], [100.0, 100.0, 100.0, 100.0, -10.0], min_cost_share=0.01)
    assert got.tolist() == ["not_tracked", "not_tracked", "negligible", "tracked", "tracked"]
    assert cost_status([0.5], [100.0], min_cost_share=0).tolist() == ["tracked"]


def test_roi_only_where_cost_is_meaningful() -> None:
    # e-mail at 0.01 per contact: cost 2 on revenue 5,000 (0.04 %): ROI would read 749 -> not shown
    cheap = kpi_table(_hand(0.01), by=("arm",), targets={"roi": 1.0, "cpa": 5.0}, margin=0.3)
    r = cheap.table.set_index("arm").loc["t"]
    assert r["cost"] == pytest.approx(2.0) and r["cost_status"] == "negligible"
    assert np.isnan(r["roi"]) and np.isnan(r["cpa"])
    tt = cheap.targets_table().set_index("kpi")
    assert (tt["status"] == "n/a").all() and tt["gap"].isna().all()  # no "gap to target" of 54,687 %
    assert cheap.metrics()["groups"][1]["roi"] is None and cheap.metrics()["groups"][1]["cost_status"] == "negligible"
    assert "negligible" in cheap.finding()
    html = cheap.styled_targets().to_html()
    assert "–" in html and "n/a" in html
    # SMS at 1 per contact: cost 200 on revenue 5,000 (4 %): ROI = (0.3 x 5,000 - 200) / 200 = 6.5, CPA 200 / 50 = 4
    real = kpi_table(_hand(1.0), by=("arm",), targets={"roi": 1.0}, margin=0.3)
    r = real.table.set_index("arm").loc["t"]
    assert r["cost_status"] == "tracked" and r["roi"] == pytest.approx(6.5) and r["cpa"] == pytest.approx(4.0)
    assert real.targets_table().set_index("kpi").loc["roi", "status"] == "met"
    assert real.table.set_index("arm").loc["control", "cost_status"] == "not_tracked"
    # the threshold is a parameter: 0 shows every positive cost
    r0 = kpi_table(_hand(0.01), by=("arm",), min_cost_share=0).table.set_index("arm").loc["t"]
    assert r0["roi"] == pytest.approx((0.3 * 5000 - 2) / 2)


def test_incremental_roi_only_where_cost_is_meaningful() -> None:
    # incremental revenue (50 - 20) x 100 = 3,000; incremental cost 2 (0.07 %) -> no ROI, profit stays
    ir = incremental_return(_hand(0.01), margin=0.3, bootstrap=0)
    r = ir.table.iloc[0]
    assert r["incremental_revenue"] == pytest.approx(3000.0) and r["cost_status"] == "negligible"
    assert np.isnan(r["incremental_roi"]) and np.isnan(r["incremental_roi_low"])
    assert r["incremental_profit"] == pytest.approx(0.3 * 3000 - 2)
    assert ir.metrics()["arms"][0]["incremental_roi"] is None
    # cost 1 per contact: 200 on 3,000 (6.7 %): ROI = (900 - 200) / 200 = 3.5
    r = incremental_return(_hand(1.0), margin=0.3, bootstrap=0).table.iloc[0]
    assert r["cost_status"] == "tracked" and r["incremental_roi"] == pytest.approx(3.5)
    assert len(incremental_return(_hand(1.0), bootstrap=0).summary().columns) <= 8


def test_kpi_headline_is_at_most_eight_columns(prepared) -> None:
    k = kpi_table(prepared, targets={"roi": 1.0})
    s = k.summary()
    assert list(s.columns) == ["campaign_id", "channel", "arm", "contacts", "conversion_rate", "revenue", "roi", "cpa"]
    assert len(k.to_frame().columns) > 20
    # the example's costs are a few cents per contact: no ROI of several hundred
    assert k.table["roi"].isna().all() and set(k.table["cost_status"]) <= {"negligible", "not_tracked"}


@pytest.fixture(scope="module")
def sections(prepared, synth_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        d = synth_data
        kpi = kpi_table(prepared)
        returns = incremental_return(prepared, random_state=0, bootstrap=0)
        checks = campaign.experiment_checks(prepared, customers=d.customers, bootstrap=200, random_state=0)
        variance = campaign.variance_and_power(prepared, customers=d.customers)
        obs = campaign.observational_effects(prepared, orders=d.orders, customers=d.customers, bootstrap=50,
                                             random_state=0)  # fmt: skip
    return dict(data=prepared, kpi=kpi, returns=returns, comparisons=checks, variance=variance, observational=obs)


def _findings(s) -> list[KeyFinding]:
    return [f for f in campaign.key_findings(s["data"], s["kpi"], returns=s["returns"], comparisons=s["comparisons"],
                                              variance=s["variance"], observational=s["observational"]) if f]


def test_key_findings_from_planted_effects(sections, synth_data) -> None:
    found = _findings(sections)
    assert 3 <= len(found) <= 6 and all(f.text and f.action for f in found)
    spring = synth_data.truth["campaigns"]["spring_coupon_2025"]["overall"]
    diff = spring["realised_diff"]["treatment"]  # planted, realised conversion effect
    assert found[0].text.startswith("summer_email_2025: B raised the conversion rate by ")  # the larger campaign
    first = next(f.text for f in found if f.text.startswith("spring_coupon_2025: "))
    assert first.startswith("spring_coupon_2025: treatment raised the conversion rate by ")
    assert fmt.pp(diff).replace(" pp", " points") in first and "significant after Holm" in first
    assert any("Cost is not tracked or negligible" in f.text for f in found)  # cents per contact
    assert any(f.text.startswith("vip_call_2025 had no hold-out") for f in found)


def test_zh_findings_are_chinese(sections) -> None:
    with fmt.use(language="zh"):
        found = _findings(sections)
        texts = [f.text for f in found] + [f.action for f in found]
        texts += [sections["kpi"].finding(), sections["returns"].finding(), sections["observational"].finding()]
        texts += sections["comparisons"].findings() + sections["variance"].findings()
        headline = sections["kpi"].summary().columns
        labels = [i18n.label(c) for c in headline]
    for text in texts:
        assert _HAN.search(text), text
        assert not _ENGLISH.search(re.sub(r"`[^`]*`|\w+=\S*|[a-z_]+_[a-z_]+", "", text)), text
    assert all(_HAN.search(lab) or lab == "ROI" for lab in labels), labels


def test_english_findings_start_with_a_capital(sections) -> None:
    compare = sections["comparisons"].comparisons["spring_coupon_2025"].finding()
    assert compare.startswith("Treatment raised the visit rate by ")
    for text in sections["comparisons"].findings() + [sections["kpi"].finding(), sections["returns"].finding()]:
        assert text[:1].isupper() or text.split(" ")[0] in sections["data"].designs["campaign_id"].tolist(), text


def test_catalog_parity_and_figures() -> None:
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    ours = [k for k in en if k.startswith("campaign.")]
    assert len(ours) > 150 and all(k in zh for k in ours)
    for name in ("kpi_targets", "kpi_conversion", "incremental_profit", "uplift_qini", "uplift_deciles",
                 "targeting_profit_curve", "funnel", "funnel_by_group"):
        assert f"figures.{name}" in en and _HAN.search(zh[f"figures.{name}"])
    assert not [c for c in i18n.CONFLICTS if "campaign.yaml" in c]
    c = pd.DataFrame({"customer_id": ["a", "b"], "campaign_id": "k", "arm": "t", "converted": [True, False]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = prepare_contacts(c, outcome_source="columns", control_arm=None)
    with pytest.warns(StatisticalWarning, match="没有活动设置对照组"), fmt.use(language="zh"):
        assert "没有带对照组的随机活动" in incremental_return(data).finding()


def _noted(language: str) -> campaign.CampaignData:
    """Two campaigns without a revenue column, one kept; an order after as_of; control_arm=None."""
    contacts = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"], "campaign_id": ["k1", "k1", "k2", "k2"], "arm": "t",
        "converted": [True, False, True, False],
    })  # fmt: skip
    orders = pd.DataFrame({"customer_id": ["a", "b"], "order_time": pd.to_datetime(["2025-01-02", "2025-03-01"]),
                           "revenue": [10.0, 20.0]})  # fmt: skip
    with warnings.catch_warnings(), fmt.use(language=language):
        warnings.simplefilter("ignore")
        return prepare_contacts(contacts, orders=orders, campaigns=["k1"], control_arm=None, as_of="2025-01-31",
                                outcome_source="columns")  # fmt: skip


def test_notes_in_the_run_language_and_english_in_metrics() -> None:
    english = [
        "kept campaigns k1 (2 of 4 contacts)",
        "1 orders after as_of 2025-01-31 are not used for attribution",
        "control_arm=None: no campaign has a hold-out arm, so the experimental comparison (split check, arm "
        "comparison, CUPED, power, subgroups, uplift) is skipped; every campaign is evaluated as observational "
        "(contacted vs not-contacted customers)",
        "revenue not tracked for k1 (no revenue column): revenue KPIs are n/a",
        "campaign 'k1': arm(s) t (2) have fewer than 100 contacts; their rates have wide intervals",
        "outcomes: k1 from tracked columns",
    ]
    en = _noted("en")
    assert en.metrics()["notes"] == english and en.notes[1] == english[1].replace("2025-01-31", "31 Jan 2025")
    zh = _noted("zh")
    assert zh.metrics()["notes"] == english  # metrics.json as before, whatever the language
    assert all(_HAN.search(n) for n in zh.notes), zh.notes
    assert "2025年1月31日" in zh.notes[1] and zh.notes[-1] == "结果来源：k1来自记录的列"
    # several sources: joined by "; " in English and "；" in Chinese, still neutral
    note = campaign.contacts._joined([i18n.Text("campaign.notes.from_columns", campaign=c) for c in "xyz"])
    assert note.neutral() == "x from tracked columns; y from tracked columns; z from tracked columns"
    with fmt.use(language="zh"):
        assert str(campaign.contacts._joined([i18n.Text("campaign.notes.from_columns", campaign=c) for c in "xy"])) \
            == "x来自记录的列；y来自记录的列"


def test_zero_success_warning_and_points_in_chinese() -> None:
    from workbench.campaign.experiments import compare_arms
    from workbench.campaign.uplift._common import points

    frame = pd.DataFrame({"arm": ["t"] * 50 + ["control"] * 50, "converted": [0] * 50 + [1] * 5 + [0] * 45})
    with pytest.warns(StatisticalWarning, match=r"^k, arm 't', metric 'converted': t has zero successes - the "
                                                r"z-test and the delta-method lift interval are unreliable\."):
        compare_arms(frame.assign(campaign_id="k"), control="control", metrics=["converted"])
    with pytest.warns(StatisticalWarning, match=r"^k，分组 't'，指标 'converted'：t 没有一次成功，z 检验"), \
            fmt.use(language="zh"):
        compare_arms(frame.assign(campaign_id="k"), control="control", metrics=["converted"])
    assert points(0.0766) == "7.7 pp" == fmt.pp(0.0766)
    with fmt.use(language="zh"):
        assert points(0.0766) == "7.7个百分点" and points(0.0007, 2) == "0.07个百分点"


def test_observational_method_shown_in_chinese_and_neutral_in_metrics() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=600)
    treated = rng.random(600) < 1 / (1 + np.exp(-x))
    frame = pd.DataFrame({"treated": treated, "converted": rng.random(600) < 0.2 + 0.1 * treated, "x": x})
    with warnings.catch_warnings(), fmt.use(language="zh"):
        warnings.simplefilter("ignore")
        res = campaign.experiments.observational_effect(frame, treated="treated", outcome="converted",
                                                         covariates=["x"], bootstrap=20, random_state=0)  # fmt: skip
        shown = res.summary()["method"].tolist()
    assert shown == ["比例之差（Wald）", "IPW，权重 e/(1-e)，bootstrap 20次", "IPW，稳定化权重，bootstrap 20次"]
    assert {k: v["method"] for k, v in res.metrics()["estimates"].items()} == {
        "naive difference": "difference of proportions (Wald)",
        "IPW ATT": "IPW, weights e/(1-e), bootstrap 20", "IPW ATE": "IPW, stabilized weights, bootstrap 20",
    }
