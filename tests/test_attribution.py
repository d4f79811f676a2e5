"""Channel attribution: hand-computed journeys and models, the generator's planted truth, bad input."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd
import pytest

from workbench import attribution as A
from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.report import fmt
from workbench.synth import generate
from workbench.synth.touchpoints import CHANNELS, CONVERT, START, TRANSITIONS, chain_truth

T = pd.Timestamp


def _hand() -> tuple[pd.DataFrame, pd.DataFrame]:
    """c1: a (day 1) > b (day 2) > order of 30 (day 3); c2: b, no order; c3: a, no order."""
    events = pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c2", "c3", "c1"],
            "event_time": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-01", "2025-01-01", "2025-01-02 12:00:00"], format="ISO8601"),
            "event_name": ["ad_touch", "ad_touch", "ad_touch", "ad_touch", "visit"],  # a funnel event is no touch
            "channel": ["a", "b", "b", "a", "web"],
        }
    )
    orders = pd.DataFrame({"customer_id": ["c1"], "order_time": pd.to_datetime(["2025-01-03"]), "amount": [30.0]})
    return events, orders


def _hand_journeys(**kw) -> A.Journeys:
    events, orders = _hand()
    return A.build_journeys(events, orders, data_end="2025-01-31", half_life_days=1, **kw)


def test_journeys_hand_case() -> None:
    j = _hand_journeys()
    jt = j.journeys.set_index("customer_id")
    assert jt.loc["c1", "path"] == "a > b" and bool(jt.loc["c1", "converted"]) and jt.loc["c1", "value"] == 30.0
    assert jt.loc["c2", "path"] == "b" and not jt.loc["c2", "converted"]
    assert jt.loc["c3", "path"] == "a" and not jt.loc["c3", "converted"]
    assert j.untracked_conversions == 0 and j.conversions == 1
    # a lookback shorter than the touches' age: the first touch no longer counts for the order
    short = _hand_journeys(lookback_days=1.5).journeys.set_index(["customer_id", "path"])
    assert bool(short.loc[("c1", "b"), "converted"]) and not short.loc[("c1", "a"), "converted"]


def test_rule_models_hand_case() -> None:
    m = A.compare_models(_hand_journeys(), bootstrap=0, markov_orders=[1, 2])
    s = {k: m.shares(k).to_dict() for k in m.table["model"].unique()}
    assert s["first_touch"] == {"a": 1.0, "b": 0.0}
    assert s["last_touch"] == {"a": 0.0, "b": 1.0}
    assert s["linear"] == {"a": 0.5, "b": 0.5}
    assert s["position_based"] == pytest.approx({"a": 0.5, "b": 0.5})  # two touches: 40/40 pro rata
    # time decay, half-life 1 day: ages 2 and 1 days -> weights 1/4 and 1/2
    assert s["time_decay"] == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    assert s["shapley"] == pytest.approx({"a": 0.5, "b": 0.5})  # v({a, b}) = 1, v({a}) = v({b}) = 0


def test_markov_removal_effects_by_hand() -> None:
    """Order 1: start -> a 2/3, b 1/3; a -> b 1/2, a -> null 1/2; b -> conv 1/2, b -> null 1/2.
    P(conv) = 2/3 * 1/2 * 1/2 + 1/3 * 1/2 = 1/3; without a: 1/3 * 1/2 = 1/6 (effect 1/2); without b:
    0 (effect 1). Order 2: states (a), (a,b), (b); P = 2/3 * 1/2 * 1 = 1/3 and removing either
    channel removes (a,b): both effects 1."""
    j = _hand_journeys()
    pm = A.PathModel.from_journeys(j, markov_orders=[1, 2])
    u = {tuple(j.channels[c] for c in p): i for i, p in enumerate(pm.paths)}
    conv = np.zeros(len(pm.paths))
    null = np.zeros(len(pm.paths))
    conv[u[("a", "b")]] = 1
    null[u[("b",)]] = null[u[("a",)]] = 1
    value = conv[:, None] * 30.0
    order = [j.channels.index("a"), j.channels.index("b")]
    p, rem = A.removal_effects(pm.structures[1], conv, null, value)
    assert p == pytest.approx([1 / 3, 10.0])  # conversion probability, expected revenue per journey
    assert rem[order, 0] == pytest.approx([0.5, 1.0])
    assert rem[order, 1] == pytest.approx([0.5, 1.0])  # revenue as the value: not all zero
    p2, rem2 = A.removal_effects(pm.structures[2], conv, null, value)
    assert p2[0] == pytest.approx(1 / 3) and rem2[order, 0] == pytest.approx([1.0, 1.0])
    credit = A.compare_models(j, bootstrap=0, markov_orders=[1, 2]).table.set_index(["model", "channel"])
    assert credit.loc[("markov_1", "a"), "conversions"] == pytest.approx(1 / 3)
    assert credit.loc[("markov_1", "b"), "revenue"] == pytest.approx(20.0)
    assert credit.loc[("markov_2", "a"), "share"] == pytest.approx(0.5)


def test_markov_is_deterministic() -> None:
    j = _journeys_base()
    a = A.compare_models(j, bootstrap=0, markov_orders=[1, 2, 3]).table
    b = A.compare_models(j, bootstrap=0, markov_orders=[1, 2, 3]).table
    pd.testing.assert_frame_equal(a, b)
    mk = a[a["model"].str.startswith("markov")]
    assert (mk["revenue"] > 0).all()  # value-weighted effects are not all zero


def test_shapley_exact_equals_closed_form_and_sampling() -> None:
    """The game v(S) = worth of the journeys inside S is a sum of unanimity games: the Shapley
    value of a channel is the sum over channel sets T holding it of worth(T) / |T|."""
    rng = np.random.default_rng(0)
    masks = rng.integers(1, 1 << 5, 40)
    w = rng.random(40)
    exact = A.shapley_values(masks, w, 5)
    closed = np.array([sum(wi / bin(m).count("1") for m, wi in zip(masks, w, strict=True) if m >> i & 1)
                       for i in range(5)])  # fmt: skip
    assert exact == pytest.approx(closed)
    assert exact.sum() == pytest.approx(w.sum())
    sampled = A.shapley_values(masks, w, 5, max_exact=3, samples=20_000, random_state=1)
    assert sampled == pytest.approx(exact, rel=0.03)


def test_chain_truth_by_hand() -> None:
    """One channel converting with probability 1/2 after a start at it: removal effect 1."""
    t = chain_truth(np.array([1.0, 0.0]), np.array([[0.0, 0.5], [0.0, 0.0]]), np.array([0.0, 0.5]), ("x", "y"))
    assert t["p_convert"] == pytest.approx(0.25)
    assert t["removal_effect"] == pytest.approx({"x": 1.0, "y": 1.0})
    assert t["last_touch_share"] == pytest.approx({"x": 0.0, "y": 1.0})
    assert t["first_touch_share"] == pytest.approx({"x": 1.0, "y": 0.0})
    # Shapley of v(S) = P(conversion with only S): v({x, y}) = 1/4, singletons 0 -> equal halves
    assert t["shapley_share"] == pytest.approx({"x": 0.5, "y": 0.5})


@lru_cache(maxsize=1)
def _base():
    return generate(20_000, seed=1)


@lru_cache(maxsize=1)
def _journeys_base() -> A.Journeys:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return A.build_journeys(_base().events, _base().orders, data_end="2025-09-30")


@lru_cache(maxsize=1)
def _models_base() -> A.ModelComparison:
    return A.compare_models(_journeys_base(), markov_orders=[1], bootstrap=200, confidence=0.99, random_state=0)


@lru_cache(maxsize=1)
def _economics_base() -> A.ChannelEconomics:
    return A.channel_economics(_journeys_base(), _models_base(), _base().tables["spend"])


def test_generator_journeys_are_recovered_exactly() -> None:
    tr = _base().truth["touchpoints"]
    jt = _journeys_base().journeys
    assert len(jt) == tr["journeys"]
    assert int(jt["converted"].sum()) == tr["converting_journeys"]
    assert set(_journeys_base().channels) == set(CHANNELS)
    assert jt["n_touches"].sum() == tr["touches"]
    assert tr["p_convert"] == pytest.approx(chain_truth(START, TRANSITIONS, CONVERT, CHANNELS)["p_convert"])


@pytest.mark.parametrize(("model", "key"), [("markov_1", "markov_share"), ("shapley", "shapley_share")])
def test_truth_recovery_ranking_and_shares(model: str, key: str) -> None:
    tr = _base().truth["touchpoints"]
    g = _models_base().table.query("model == @model").set_index("channel")
    assert list(g["share"].sort_values(ascending=False).index) == sorted(CHANNELS, key=lambda c: -tr[key][c])
    for c in CHANNELS:
        assert g.loc[c, "share_low"] <= tr[key][c] <= g.loc[c, "share_high"], (model, c)


def test_truth_recovery_credit_gaps_and_economics() -> None:
    tr = _base().truth["touchpoints"]
    m = _models_base()
    gaps = m.gaps.set_index("channel")
    assert gaps.loc[tr["over_credited_by_last_touch"], "credit"] == "over"  # search
    assert gaps.loc[tr["under_credited_by_last_touch"], "credit"] == "under"  # display
    assert gaps["gap"].idxmax() == "search" and gaps["gap"].idxmin() == "display"
    ec = _economics_base()
    e = ec.table.set_index("channel")
    for c, roi in tr["roi_at_true_shares"].items():
        assert e.loc[c, "roi_low"] <= roi <= e.loc[c, "roi_high"], c
    assert e.loc["display", "roi_low"] > 0 > e.loc["search", "roi_high"]  # under-credited pays, over-credited loses
    assert e.loc["display", "last_touch_roi"] < 0 < e.loc["search", "last_touch_roi"]  # last touch says the reverse
    assert e.loc["direct", "spend"] == 0 and np.isnan(e.loc["direct", "roi"])
    best, worst = ec.best_and_worst()
    assert best["channel"] == "email" and worst["channel"] == "affiliate"
    assert set(ec.monthly["month"]) >= {"2025-01", "2025-09"}


def test_truth_recovery_when_and_where() -> None:
    j = _journeys_base()
    slots = A.time_slots(j)
    assert tuple(slots.best()[["band", "day_type"]]) == ("20-24", "weekend")  # planted evening and weekend
    assert (slots.tests["p_holm"] < 0.001).all()
    reg = A.regions(j, _base().customers)
    t = reg.table.set_index("region")
    assert t["conversion_rate"].idxmax() == "杭州" and t.loc["杭州", "p_holm"] < 0.001  # weight 2.0
    assert t.loc["西安", "conversion_rate"] == t["conversion_rate"].min()  # weight 0.5
    assert reg.p_value < 0.001
    rec = A.recommend(_economics_base(), slots, reg)
    acts = rec.actions.set_index("action")
    assert acts.loc["grow", "target"] == "email" and acts.loc["region", "target"] == "杭州"
    assert acts.loc["time_slot", "target"] == "20-24" and bool(acts.loc["time_slot", "sure"])
    with fmt.use(language="zh"):
        assert "周末 20-24" in rec.finding()
    with fmt.use(language="en"):
        assert rec.finding().startswith("Grow email")


def _touch(customer: str, day: str, channel: str) -> dict:
    return {"customer_id": customer, "event_time": T(day), "event_name": "ad_touch", "channel": channel}


def test_bad_input_messages() -> None:
    events, orders = _hand()
    with pytest.raises(AnalysisError, match=r"no touchpoints: no events named \['ad_click'\].*touch_events="):
        A.build_journeys(events, orders, touch_events=["ad_click"])
    one = events.assign(channel="a")
    with pytest.raises(AnalysisError, match=r"one channel only \('a' on 4 touchpoints\).*sources=, touch_events="):
        A.build_journeys(one, orders, data_end="2025-01-31")
    late = orders.assign(order_time=pd.to_datetime(["2024-12-01"]))
    with pytest.raises(AnalysisError, match=r"no conversion has a touchpoint before it.*lookback_days=30"):
        A.build_journeys(events, pd.concat([late, late.assign(order_time=T("2025-03-01"))]), data_end="2025-03-31")
    no_time = events.assign(event_time=pd.NaT)
    with pytest.raises(AnalysisError, match=r"events\.event_time: none of the 4 touchpoints has a timestamp"):
        A.build_journeys(no_time, orders)
    some = events.copy()
    some.loc[3, "event_time"] = pd.NaT
    with pytest.warns(DataQualityWarning, match=r"1 of 4 touchpoints have no timestamp \(customers 'c3'\)"):
        A.build_journeys(some, orders, data_end="2025-01-31")
    with pytest.raises(AnalysisError, match=r"campaign_contacts: the table is not loaded"):
        A.build_journeys(events, orders, sources=["campaign_contacts"])


def test_many_channel_labels_are_lumped() -> None:
    events, orders = _hand()
    rare = pd.DataFrame([_touch(f"r{i}", "2025-01-10", f"ch{i:03d}") for i in range(200)])
    with pytest.warns(DataQualityWarning, match=r"202 channel labels: the 4 most touched are kept and 198 rarer"):
        j = A.build_journeys(pd.concat([events, rare], ignore_index=True), orders, data_end="2025-01-31", max_channels=5)
    assert set(j.channels) <= {"a", "b", "ch000", "ch001", "ch002", A.OTHER}
    assert A.OTHER in j.channels and len(j.lumped) == 198


def test_spend_for_untouched_channels_is_named() -> None:
    j = _hand_journeys()
    m = A.compare_models(j, bootstrap=10, markov_orders=[1])
    spend = pd.DataFrame({"date": pd.to_datetime(["2025-01-01", "2025-01-01"]), "channel": ["a", "tv"],
                          "cost": [5.0, 100.0]})  # fmt: skip
    with pytest.warns(DataQualityWarning, match=r"1 channel\(s\) no touchpoint has \('tv'\)"):
        ec = A.channel_economics(j, m, spend)
    assert "tv" in set(ec.table["channel"]) and ec.untouched_spend["spend"].sum() == 100.0
    with pytest.raises(AnalysisError, match=r"economics_model='markov_9'.*choose one of"):
        A.channel_economics(j, m, spend, model="markov_9")
    with pytest.raises(AnalysisError, match=r"customers: no column 'regon'.*did you mean 'region'"):
        A.regions(j, pd.DataFrame({"customer_id": ["c1"], "region": ["x"]}), column="regon")


def test_findings_in_both_languages() -> None:
    j = _journeys_base()
    m = _models_base()
    paths = A.top_paths(j)
    with fmt.use(language="en"):
        en = m.finding()
        assert en.startswith("The Markov (order 1) model gives search the largest share")
        assert "Last touch over-credits search" in en and "under-credits display" in en
    with fmt.use(language="zh"):
        zh = paths.finding()
        assert zh.startswith(f"共{len(j.journeys):,}段旅程")
        found = A.key_findings(paths, m, None, None, None, None)
        assert len(found) == 2 and "末次触点高估了search" in found[0].text


def test_journeys_and_models_are_the_same_on_spark() -> None:
    """The journeys are engine expressions: Spark builds the same table as DuckDB (600 customers)."""
    from engines import assert_frames_equal_across, duckdb_con, spark_con

    d = generate(600, seed=3)

    def journeys(con) -> pd.DataFrame:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            j = A.build_journeys(d.events, d.orders, data_end="2025-09-30", con=con).journeys
        return j.drop(columns=["jid"])

    a, _ = assert_frames_equal_across(duckdb_con(), spark_con(), journeys, by=["customer_id", "first_time"])
    assert len(a) == d.truth["touchpoints"]["journeys"]
