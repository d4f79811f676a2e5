"""The segmentation report in Chinese and English: segment labels, findings, key findings."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import segmentation as seg
from workbench import value
from workbench.data.features import customer_features
from workbench.report import fmt, i18n
from workbench.report.fmt import pct
from workbench.synth.simulate import generate
from workbench.value.clv import CLVResult

HAN = re.compile(r"[\u4e00-\u9fff]")
#: Latin words a Chinese text may keep: technical terms, model and method names.
TERMS = {"rfm", "clv", "ari", "gini", "bg", "nbd", "gamma", "pareto", "abc", "k", "means", "gmm", "vip", "ci", "p",
         "r", "f", "m", "a", "b", "c", "pearson", "spearman", "rho", "bic", "pc", "alive", "app", "web"}

EIGHT = {
    "important_value": "重要价值客户", "important_development": "重要发展客户",
    "important_retention": "重要保持客户", "important_winback": "重要挽留客户",
    "general_value": "一般价值客户", "general_development": "一般发展客户",
    "general_retention": "一般保持客户", "general_winback": "一般挽留客户",
}  # fmt: skip


def _english_sentence(text: str) -> bool:
    """Four Latin words in a row that are not technical terms: an untranslated sentence."""
    body = re.sub(r"'[^']*'|`[^`]*`|[a-z_]+=\S*", " ", text)
    words = re.findall(r"[A-Za-z]+(?:\s+[A-Za-z]+)*", body)
    return any(len([w for w in run.split() if w.lower() not in TERMS]) >= 3 for run in words)


@pytest.fixture(scope="module")
def base():
    data = generate(2000, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = customer_features(data.orders, as_of="2025-09-30", customers=data.customers)
        abc = seg.abc_classes(feats)
        rfm = seg.rfm_scores(feats)
        buyers = feats[feats["n_orders"] > 0].reset_index(drop=True)
        clusters = seg.cluster_customers(buyers, features=["monetary_mean", "n_orders", "recency_days"], k=4,
                                         bootstrap=0, silhouette_sample=800, random_state=1)
        clv = value.customer_value(data.orders, as_of="2025-09-30", margin=0.3)
        simple = value.simple_clv_by_segment(feats, rfm.segments(), margin=0.3, expected_lifetime_years=3,
                                             discount_rate=0.1)
        migration = seg.rfm_migration(data.orders, data.customers, from_date="2025-06-30", to_date="2025-09-30")
    return dict(data=data, feats=feats, abc=abc, rfm=rfm, clusters=clusters, clv=clv, simple=simple,
                migration=migration)


def test_every_rfm_segment_code_has_a_chinese_label():
    codes = [*seg.DEFAULT_SEGMENT_MAP, seg.NO_PURCHASE, seg.NOT_YET_CUSTOMER]
    with fmt.use(language="zh"):
        labels = {c: i18n.category("rfm_segment", c) for c in codes}
        assert {c: i18n.category("rfm_class", c) for c in seg.RFM_CLASSES} == EIGHT
    assert all(HAN.search(v) for v in labels.values()), labels
    assert len(set(labels.values())) == len(codes)  # no two segments read the same
    assert labels["champions"] == "冠军客户" and labels["can't lose them"] == "不能失去的客户"
    # in English the label is the code itself (reports and tests keep reading the same)
    assert all(i18n.category("rfm_segment", c) == c for c in codes)


def test_eight_classes_by_mean_score_hand_case():
    # scores with bins=2: r, f, m of a = (2, 2, 2), b = (2, 1, 2), c = (1, 2, 1), d = (1, 1, 1)
    f = pd.DataFrame({"customer_id": list("abcd"), "recency_days": [1.0, 2, 50, 60], "n_orders": [9, 1, 8, 1],
                      "monetary_sum": [900.0, 800, 10, 5]})  # fmt: skip
    r = seg.rfm_scores(f, bins=2, segment_map={"all": "r >= 1"})
    assert r.rfm_classes().astype(str).to_dict() == {
        "a": "important_value", "b": "important_development", "c": "general_retention", "d": "general_winback",
    }  # fmt: skip
    with fmt.use(language="zh"):
        cs = r.class_summary().set_index("rfm_class")
    assert list(cs.index) == list(EIGHT.values())
    assert cs.loc["重要价值客户", "customers"] == 1 and cs["customers"].sum() == 4
    assert cs.loc["重要发展客户", "revenue_share"] == pytest.approx(800 / 1715)


def test_summary_shows_labels_and_metrics_keep_codes(base):
    rfm = base["rfm"]
    with fmt.use(language="zh"):
        s = rfm.summary()
        m = rfm.metrics()
        mig = base["migration"].summary()
    assert "冠军客户" in set(s["segment"]) and "未购买客户" in set(s["segment"])
    assert "champions" in m["segments"] and seg.NO_PURCHASE in m["segments"]
    assert "当时尚非客户" in set(mig["from_segment"])
    assert s["customers"].tolist() == rfm.summary()["customers"].tolist()  # same numbers in both languages


def test_cluster_names_read_in_chinese():
    with fmt.use(language="zh"):
        assert seg.cluster_label("high monetary_mean · low recency_days (2)") == "客单价高 · 最近消费天数低 (2)"
        assert seg.cluster_label("other") == "other"
    assert seg.cluster_label("high monetary_mean · low recency_days") == "high monetary_mean · low recency_days"


def test_zh_findings_are_chinese(base):
    results = [base[k] for k in ("abc", "rfm", "clusters", "clv", "simple", "migration")]
    results += [base["clv"].independence, seg.portraits(base["feats"], base["rfm"].segments(), base["data"].customers)]
    with fmt.use(language="zh"):
        simple = value.simple_clv_by_segment(base["feats"], base["rfm"].segments(), margin=0.3,
                                             expected_lifetime_years=3, discount_rate=0.1)
        texts = [r.finding() for r in results] + [simple.assumptions]
    for text in texts:
        assert HAN.search(text), text
        assert not _english_sentence(text), text


def test_key_findings_known_numbers_both_languages(base):
    abc, rfm, clv = base["abc"], base["rfm"], base["clv"]
    kwargs = {k: base[k] for k in ("abc", "rfm", "migration", "clv", "simple", "clusters")}
    en = seg.key_findings(**kwargs)
    with fmt.use(language="zh"):
        zh = seg.key_findings(**kwargs)
    assert 3 <= len(en) <= 6 and len(zh) == len(en)
    assert all(f.action for f in en + zh)
    assert pct(abc.top_shares["top_20pct"], 0) in en[0].text and pct(abc.top_shares["top_20pct"], 0) in zh[0].text
    mean, low, high = clv.mean_interval()
    assert low < mean < high
    clv_text = next(f.text for f in en if "Expected value" in f.text)
    assert fmt.money(mean) in clv_text and fmt.money(low) in clv_text and fmt.money(high) in clv_text
    top = rfm._by_segment().set_index("segment").drop(index=seg.NO_PURCHASE)["revenue_share"].idxmax()
    with fmt.use(language="zh"):
        assert any(i18n.category("rfm_segment", top) in f.text for f in zh)
    for f in zh:
        assert HAN.search(f.text) and HAN.search(f.action), f
        assert not _english_sentence(f.text) and not _english_sentence(f.action), f


def test_key_findings_with_planted_truth(base, tmp_path):
    path = tmp_path / "truth.parquet"
    base["data"].truth_customers[["customer_id", "segment"]].to_parquet(path)
    truth = seg.truth_agreement(base["clusters"], ground_truth=path)
    found = seg.key_findings(rfm=base["rfm"], clusters=base["clusters"], truth=truth)
    assert f"{truth.ari:.2f}" in found[-1].text and f"{truth.n:,}" in found[-1].text
    with fmt.use(language="zh"):
        assert "调整兰德指数" in seg.key_findings(clusters=base["clusters"], truth=truth)[0].text
        assert truth.metrics()["text"].startswith("Against the generator's")  # metrics stay English


def test_clv_that_did_not_converge_never_reads_as_zero():
    customers = pd.DataFrame({"customer_id": list("abc"), "clv": [np.nan] * 3, "probability_alive": [np.nan] * 3})
    res = CLVResult("models", customers, margin=0.3)
    assert res.failed
    for lang, word in (("en", "did not converge"), ("zh", "未收敛")):
        with fmt.use(language=lang, currency="¥"):
            text = res.finding()
            key = seg.key_findings(clv=res)
        assert word in text and "¥0" not in text, text
        assert len(key) == 1 and word in key[0].text and "¥0" not in key[0].text
    assert not CLVResult("models", customers.assign(clv=[1.0, 2.0, 3.0])).failed
