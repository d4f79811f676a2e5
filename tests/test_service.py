"""Known answers of the service analysis: the planted topics, sentiment and churn effect of the
generator's ``service_text`` extension, hand-computed KPIs, and the bad-input messages."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from workbench import churn, service
from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.core.privacy import mask_in_text
from workbench.report import fmt
from workbench.synth import generate
from workbench.synth.service_text import TOPIC_WORDS

AS_OF = "2025-09-30"


@lru_cache(maxsize=1)
def base():
    d = generate(6000, seed=11)
    tk = d.tables["tickets"].assign(text=lambda x: mask_in_text(x["text"]))
    fb = d.tables["feedback"].assign(text=lambda x: mask_in_text(x["text"]))
    return d, tk, fb


@lru_cache(maxsize=1)
def texts():
    _, tk, fb = base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return service.collect_texts(tk, fb, as_of=AS_OF)


@lru_cache(maxsize=1)
def topics():
    return service.text_topics(texts(), n_topics=8, random_state=0)


@lru_cache(maxsize=1)
def sentiment():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return service.text_sentiment(texts(), topics=topics().assignment)


def _planted(kind: str) -> pd.Series:
    d, _, _ = base()
    return pd.Series(d.truth["service_text"]["planted"][kind], index=d.tables["tickets"]["ticket_id"].to_numpy())


# --- topics -------------------------------------------------------------------------------------


def test_every_planted_topic_is_found_by_its_words():
    found = topics().topics
    top3 = [set(w.split("、")[:3]) for w in found["words"]]
    for name, words in TOPIC_WORDS.items():
        assert any(set(words) & t for t in top3), f"planted topic {name} ({words}) not among {found['topic'].tolist()}"


def test_topics_agree_with_the_planted_ones():
    """Each found topic maps to its most common planted topic; most Chinese tickets land right."""
    d, _, _ = base()
    tx = texts()
    names = d.truth["service_text"]["topics"]
    m = (tx["source"] == "ticket") & (tx["language"] == "zh")
    planted = tx.loc[m, "item_id"].map(_planted("ticket_topic")).map(lambda i: names[i])
    got = topics().assignment[m]
    majority = pd.crosstab(got, planted).idxmax(axis=1)
    agree = (got.map(majority) == planted).mean()
    assert agree > 0.8, agree


# --- sentiment ----------------------------------------------------------------------------------


def test_sentiment_split_recovers_the_planted_one():
    d, _, _ = base()
    s = sentiment().scores
    t = s[s["source"] == "ticket"]
    planted = t["item_id"].map(_planted("ticket_sentiment"))
    neg, pos = planted == 0, planted == 2
    assert (t.loc[neg, "sentiment"] == "negative").mean() > 0.9
    assert (t.loc[pos, "sentiment"] == "positive").mean() > 0.9
    # the negative share of polar tickets within 3 points of the truth
    polar = neg | pos
    truth_share = neg[polar].mean()
    est = (t.loc[polar, "sentiment"] == "negative").mean()
    assert abs(est - truth_share) < 0.03, (est, truth_share)


def test_english_texts_are_scored_by_vader_and_chinese_by_the_model():
    s = sentiment().scores
    assert set(s.loc[s["language"] == "en", "scorer"]) == {"vader"}
    assert set(s.loc[s["language"] == "zh", "scorer"]) == {"zh_model"}
    assert set(s.loc[s["language"] == "mixed", "scorer"]) == {"zh_model+vader"}
    out = service.score_sentiment(pd.Series(["Terrible, broken and late. Awful.", "Great, fast, love it!", "太差了，非常失望",
                                             "很好，非常满意", "APP一直闪退，太差了 so bad, terrible"]))  # fmt: skip
    assert out["sentiment"].tolist() == ["negative", "positive", "negative", "positive", "negative"]
    assert (out["confidence"] > 0.3).all()


# --- the churn effect ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def churn_link():
    d, tk, _ = base()
    frame = churn.churn_frame(d.customers, d.orders, as_of=AS_OF).artifact()
    perf = service.service_performance(tk, as_of=AS_OF)
    flags = service.service_flags(perf.tickets, sentiment=sentiment().scores,
                                  complaints=tk.set_index("ticket_id")["is_complaint"], as_of=AS_OF)  # fmt: skip
    return service.service_churn(frame, flags), flags, frame


def test_negative_contacts_raise_the_hazard_as_planted():
    d, _, _ = base()
    eff = d.truth["service_text"]["churn_effect"]
    res = churn_link()[0]
    h = res.hazards.set_index("flag")
    assert eff["negative_ticket"]["risk_ratio"] > 1
    assert h.loc["negative", "hr_low"] > 1, h.loc["negative"]
    assert h.loc["negative", "p_holm"] < 0.05
    assert h.loc["unresolved_negative", "hr"] > 1  # the planted direction (fewer customers: wide interval)
    r = res.rates.set_index("flag")
    assert r.loc["negative", "churn_rate_with"] > r.loc["negative", "churn_rate_without"]
    # the realised rates of the truth, within the estimate's interval
    assert r.loc["negative", "churn_rate_with_low"] <= eff["negative_ticket"]["churn_rate_with"] + 0.05
    assert res.n == pytest.approx(eff["n_customers"], rel=0.1)


def test_recovery_list_is_pseudonymized_and_respects_consent():
    d, _, _ = base()
    _, flags, frame = churn_link()
    cust = d.customers.copy()
    cand = flags.loc[flags["unresolved_negative"] == 1, "customer_id"]
    no = cand.iloc[:3]
    cust["marketing_consent"] = ~cust["customer_id"].isin(no)
    rl = service.recovery_list(flags, frame, customers=cust, churn_risk=0.4, salt="secret")
    assert rl.n_no_consent == len(set(no) & set(frame["customer_id"]))
    assert not rl.table["customer_key"].isin(d.customers["customer_id"]).any()
    from workbench.core.privacy import pseudonymize

    assert not rl.table["customer_key"].isin(pseudonymize(no, salt="secret")).any()
    assert rl.table["priority"].is_monotonic_decreasing
    raw = service.recovery_list(flags, frame, salt="secret", allow_raw_keys=True)
    assert raw.key == "raw" and raw.table["customer_key"].isin(d.customers["customer_id"]).all()


# --- hand-computed KPIs -------------------------------------------------------------------------


def _hand_tickets() -> pd.DataFrame:
    t0 = pd.Timestamp("2025-03-01 09:00")
    return pd.DataFrame({
        "ticket_id": ["T1", "T2", "T3", "T4"], "customer_id": ["a", "a", "b", "c"],
        "opened_at": [t0, t0 + pd.Timedelta(days=3), t0, t0 + pd.Timedelta(days=1)],
        "first_response_at": [t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(days=3, hours=6), t0 + pd.Timedelta(hours=2), pd.NaT],
        "resolved_at": [t0 + pd.Timedelta(hours=5), t0 + pd.Timedelta(days=4), t0 + pd.Timedelta(hours=30), pd.NaT],
        "satisfaction": [2, 4, 5, np.nan], "channel": ["电话", "电话", "邮件", "邮件"],
        "category": ["物流", "物流", "退款", "退款"],
    })  # fmt: skip


def test_service_kpis_by_hand():
    p = service.service_performance(_hand_tickets(), fcr_days=7, sla_first_response_hours=4, sla_resolution_hours=24,
                                    as_of="2025-03-31")  # fmt: skip
    o = p.overall()
    assert o["n"] == 4
    assert o["csat_rate"] == pytest.approx(2 / 3)  # 4 and 5 of three rated
    assert o["resolution_rate"] == pytest.approx(3 / 4)
    assert o["repeat_rate"] == pytest.approx(1 / 4)  # T1 is followed by T2 (same customer, category, 3 days)
    assert o["fcr_rate"] == pytest.approx(2 / 4)  # T2 and T3 (T1 repeated, T4 open)
    assert o["sla_first_breach_rate"] == pytest.approx(2 / 4)  # T2 6 h, T4 never answered
    assert o["sla_resolution_breach_rate"] == pytest.approx(2 / 4)  # T3 30 h, T4 open
    assert o["first_response_hours"] == pytest.approx(2.0)  # median of 1, 6, 2


def test_pareto_by_hand():
    p = service.service_performance(_hand_tickets(), as_of="2025-03-31")
    par = service.problem_pareto(p.tickets, vital_share=0.5)
    t = par.table.set_index("category")
    assert t.loc["物流", "n"] == 2 and t.loc["物流", "dissatisfied"] == 1 and t.loc["退款", "dissatisfied"] == 0
    assert t.loc["物流", "dissatisfied_share"] == 1.0


def test_nps_by_hand():
    fb = pd.DataFrame({"feedback_id": list("abcdefghij"), "customer_id": list("abcdefghij"),
                       "nps": [10, 9, 9, 9, 9, 8, 7, 6, 3, 0], "channel": ["x"] * 10})  # fmt: skip
    r = service.nps_score(fb, min_group=1)
    a = r.table.iloc[0]
    assert a["nps"] == pytest.approx(20.0)
    assert a["nps_low"] < 20 < a["nps_high"]
    assert service.nps_interval(50, 20, 100) == pytest.approx((30.0, 14.7, 45.3), abs=0.05)


def test_monitor_flags_a_planted_spike():
    weeks = pd.date_range("2025-01-06", periods=20, freq="7D")
    rng = np.random.default_rng(0)
    rows = []
    for i, w in enumerate(weeks):
        share = 0.45 if i == 15 else 0.15
        neg = rng.random(200) < share
        rows.append(pd.DataFrame({"time": w + pd.Timedelta(hours=5), "sentiment": np.where(neg, "negative", "positive"),
                                  "topic": "x"}))  # fmt: skip
    m = service.weekly_monitor(pd.concat(rows, ignore_index=True), window=8, threshold=3)
    neg = m.alerts[m.alerts["series"] == "negative"]
    assert neg["week"].tolist() == [weeks[15]]


# --- bad input ----------------------------------------------------------------------------------


def test_empty_texts_stop_with_the_table_and_option():
    tk = _hand_tickets().assign(text=["", "  ", None, "\t"])
    with pytest.raises(AnalysisError, match=r"all 4 texts of ticket are empty.*tables.<table>.columns.text"):
        service.collect_texts(tk)


def test_no_text_column_names_the_option():
    with pytest.raises(AnalysisError, match="text.enabled=false"):
        service.collect_texts(_hand_tickets())


def test_long_emoji_and_mixed_texts_are_counted_and_warned():
    tk = _hand_tickets().assign(text=["物流太慢了😡", "退款 refund please, very slow delivery and bad service", "好" * 5000, ""])
    with fmt.use(language="en"), pytest.warns(DataQualityWarning, match="longer than 2,000"):
        tx = service.collect_texts(tk)
    c = tx.attrs["checks"]
    assert (c["n_empty"], c["n_truncated"], c["n_emoji"], c["n_mixed"]) == (1, 1, 1, 1)
    assert tx["clean"].str.len().max() == 2000


def test_many_free_text_categories_are_grouped_with_a_warning():
    tk = pd.concat([_hand_tickets()] * 100, ignore_index=True)
    tk["category"] = [f"问题{i}" for i in range(len(tk))]
    with fmt.use(language="en"), pytest.warns(DataQualityWarning, match="400 distinct values"):
        p = service.service_performance(tk, max_levels=10, as_of="2025-03-31")
    assert set(p.by("category")["level"]) >= {"(other)"}
    assert len(p.by("category")) == 11


def test_unknown_customers_are_left_out_with_a_warning_and_all_unknown_stops():
    cust = pd.DataFrame({"customer_id": ["a", "b"]})
    with fmt.use(language="en"), pytest.warns(DataQualityWarning, match="1 of 4 rows of tickets"):
        kept = service.known_customers(_hand_tickets(), cust, table="tickets")
    assert len(kept) == 3
    with pytest.raises(AnalysisError, match="tickets.customer_id: none of the 4 rows"):
        service.known_customers(_hand_tickets(), pd.DataFrame({"customer_id": ["z"]}), table="tickets")


def test_nps_out_of_range_names_the_column():
    with pytest.raises(AnalysisError, match=r"feedback.nps: 1 of 2 values outside 0-10.*tables.feedback.columns.nps"):
        service.nps_score(pd.DataFrame({"nps": [5, 11]}))


def test_findings_speak_both_languages():
    p = service.service_performance(_hand_tickets(), as_of="2025-03-31")
    with fmt.use(language="zh"):
        zh = p.finding()
    with fmt.use(language="en"):
        en = p.finding()
    assert "首次解决率" in zh and en.startswith("Over 4 tickets")
    kf = service.key_findings(performance=p)
    assert kf[0] is not None and kf[1] is None
