"""Cross-sell: planted rules of the generator recovered, hand-computed rule metrics, mlxtend's rules
from the stored fixture, the propensity model against the recency-frequency baseline, the CRM list's
privacy rules and the bad-input messages."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

from workbench import cross_sell as X
from workbench.core.errors import AnalysisError
from workbench.report import fmt
from workbench.synth.simulate import generate

FIXTURE = Path(__file__).parent / "fixtures" / "mlxtend_reference.json"


@pytest.fixture(scope="module")
def base():
    return generate(5000, seed=42)


@pytest.fixture(scope="module")
def baskets(base):
    return X.basket_lines(base.orders, base.extra_tables["order_items"])


@pytest.fixture(scope="module")
def rules(baskets):
    return X.association_rules(baskets)


def _lines(baskets: list[list[str]]) -> X.BasketLines:
    rows = [(f"o{i}", f"c{i % 7}", pd.Timestamp("2025-01-01") + pd.Timedelta(days=i), it, 10.0)
            for i, b in enumerate(baskets) for it in b]
    return X.BasketLines(pd.DataFrame(rows, columns=["order_id", "customer_id", "order_time", "item", "value"]),
                         "product", "order_items")


# -- the generator ----------------------------------------------------------------------------


def test_order_items_add_up_to_each_order_and_follow_its_category(base):
    items = base.extra_tables["order_items"]
    buy = base.orders[~base.orders["is_refund"]]
    total = items.groupby("order_id")["price"].sum().reindex(buy["order_id"]).to_numpy()
    assert np.allclose(total, buy["amount"].to_numpy(), atol=0.011)
    assert set(items["order_id"]) <= set(buy["order_id"])  # refunds get no lines
    first = items.merge(buy[["order_id", "product_category"]], on="order_id")
    share = (first["category"] == first["product_category"]).groupby(first["order_id"]).any().mean()
    assert share > 0.97  # each order holds a line of its own category
    assert {"奶粉", "纸尿裤", "咖啡机", "咖啡豆", "叶酸"} <= set(items["product_name"])


def test_base_tables_do_not_depend_on_the_basket_stream():
    from workbench.synth import baskets as mod

    d = generate(300, seed=5)
    a, _ = mod.simulate_baskets(d, seed=5)
    b, _ = mod.simulate_baskets(d, seed=6)
    assert not a["order_items"].equals(b["order_items"])
    assert generate(300, seed=5).orders.equals(d.orders)


# -- known answers: planted rules --------------------------------------------------------------


def test_planted_basket_rule_recovered(base, rules):
    truth = base.truth["baskets"]["basket_rule"]
    r = rules.rule("奶粉", "纸尿裤")
    assert truth["lift"] == 3.0
    assert r is not None and r.significant
    assert r.lift_low <= 3.0 <= r.lift_high
    assert 2.4 < r.lift < 3.6


def test_planted_sequence_and_its_delay_recovered(base, baskets):
    truth = base.truth["baskets"]["sequence"]
    seq = X.sequence_rules(baskets, within_days=truth["within_days"])
    r = seq.rule("咖啡机", "咖啡豆")
    assert r["significant"] and r["lift_low"] > 3
    assert abs(r["median_days"] - truth["median_days"]) <= 2
    assert r["rate_low"] <= truth["p"] * 0.75  # planted on the next order only: a lower bound


def test_planted_check_reports_all_three(base, baskets, rules):
    la = X.fit_propensity(baskets, base.orders, as_of="2025-09-30", target=["奶粉", "纸尿裤", "婴儿辅食", "湿巾"],
                          horizon_days=120, mode="lookalike", bootstrap=200)
    seq = X.sequence_rules(baskets)
    check = X.planted_check({"baskets": base.truth["baskets"]}, rules=rules, sequences=seq, lookalike=la)
    assert check.table["recovered"].all(), check.table
    assert la.baseline["diff_low"] > 0  # the life-event signals beat recency and frequency


def test_propensity_beats_recency_frequency_out_of_time(base, baskets):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = X.fit_propensity(baskets, base.orders, as_of="2025-09-30", target="奶粉", horizon_days=90, bootstrap=200)
    assert m.estimator.split_["kind"] == "out_of_time"
    assert m.info["train_cutoff"] == "2025-04-03" and m.info["test_cutoff"] == "2025-07-02"
    assert m.baseline["diff_low"] > 0.1
    assert m.baseline["auc"] > 0.8
    assert m.scores["p_target"].is_monotonic_decreasing
    assert m.scores["reason_1"].notna().any()
    with fmt.use(language="zh"):
        assert "倾向" in m.finding()


# -- hand-computed rules ----------------------------------------------------------------------


def test_rule_metrics_by_hand():
    bs = [["a", "b"]] * 30 + [["a"]] * 10 + [["b"]] * 20 + [["c", "d"]] * 40
    r = X.association_rules(_lines(bs), min_count=5, min_support=0.01, min_confidence=0, max_len=2)
    ab = r.rule("a", "b")
    n, nab, na, nb = 100, 30, 40, 50
    assert ab.support == pytest.approx(nab / n)
    assert ab.confidence == pytest.approx(nab / na)
    assert ab.lift == pytest.approx((nab / na) / (nb / n))
    assert ab.leverage == pytest.approx(nab / n - na / n * nb / n)
    assert ab.conviction == pytest.approx((1 - nb / n) / (1 - nab / na))
    p = fisher_exact([[nab, na - nab], [nb - nab, n - na - nb + nab]], alternative="greater")[1]
    assert ab.p_value == pytest.approx(p, rel=1e-9)
    assert math.isinf(r.rule("c", "d").conviction)  # confidence 1


def test_bh_and_holm_corrections():
    from workbench.cross_sell.rules import bh

    assert bh(np.array([0.01, 0.04, 0.03, 0.2])).round(4).tolist() == [0.04, 0.0533, 0.0533, 0.2]


def test_triple_that_adds_nothing_is_not_a_new_rule():
    # z is in every third basket whatever else is in it: a -> b + z is "significant" (a and b are
    # associated) but z adds nothing, so it is not listed as a rule of its own
    bs = [["a", "b"]] * 300 + [["a"]] * 150 + [["b"]] * 150 + [["q"]] * 600
    bs = [b + (["z"] if i % 3 == 0 else []) for i, b in enumerate(bs)]
    r = X.association_rules(_lines(bs), min_count=5, min_support=0.001, min_confidence=0)
    tri = r.rules[r.rules["size"] == 3]
    assert r.rule("a", "b + z").p_adj < 0.001 and not r.rule("a", "b + z").productive
    assert len(tri) and not tri["significant"].any()
    assert r.rule("a", "b").significant


def test_mlxtend_rules_equal_from_fixture():
    """mlxtend 0.23 fpgrowth + association_rules, stored by benchmarks/bench_basket.py --make-reference."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_basket", FIXTURE.parents[2] / "benchmarks" / "bench_basket.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ref = json.loads(FIXTURE.read_text(encoding="utf-8"))
    lines = mod.reference_lines()
    assert lines["order_id"].nunique() == ref["n_baskets"]  # same baskets (regenerate the fixture if the generator moved)
    ours = mod.workbench_rules(lines, min_support=ref["recipe"]["min_support"], max_len=ref["recipe"]["max_len"])
    cmp = mod.compare(ours, ref["rules"])
    assert cmp["mlxtend"] > 50 and any(" + " in r["antecedent"] for r in ref["rules"])  # triples included
    assert cmp["only_ours"] == 0 and cmp["only_mlxtend"] == 0
    assert cmp["max_abs_diff"] < 1e-9


# -- the CRM list -----------------------------------------------------------------------------


def test_next_best_list_pseudonymizes_and_respects_consent():
    bs = [["a", "b"]] * 40 + [["a"]] * 20 + [["b"]] * 10 + [["c"]] * 30
    lines = _lines(bs)
    r = X.association_rules(lines, min_count=5, min_support=0.01, min_confidence=0, max_len=2)
    cust = pd.DataFrame({"customer_id": [f"c{i}" for i in range(7)],
                         "marketing_consent": pd.array([True, False, None, True, True, True, True], dtype="boolean")})
    # every customer bought a and b already except when only c: make one customer buy only a
    only_a = X.BasketLines(pd.DataFrame({"order_id": ["x1"], "customer_id": ["new"], "order_time": [pd.Timestamp("2025-06-01")],
                                         "item": ["a"], "value": [10.0]}), "product", "order_items")
    both = X.BasketLines(pd.concat([lines.lines, only_a.lines]), "product", "order_items")
    cust = pd.concat([cust, pd.DataFrame({"customer_id": ["new"], "marketing_consent": pd.array([False], dtype="boolean")})])
    out = X.next_best_offers(r, both, customers=cust, salt="k")
    assert "customer_id" not in out.export and out.info["key_kind"] == "pseudonym"
    assert out.info["no_consent"] == 1 and len(out.export) == 0  # the only candidate opted out
    raw = X.next_best_offers(r, both, customers=cust.assign(marketing_consent=True), salt="k", allow_raw_keys=True)
    assert raw.export["customer_id"].tolist() == ["new"] and raw.export["offer"].tolist() == ["b"]
    assert raw.export["expected_value"].iloc[0] == pytest.approx(40 / 60 * 10.0)


# -- bad input --------------------------------------------------------------------------------


def test_no_category_column():
    o = pd.DataFrame({"order_id": ["o1"], "customer_id": ["a"], "amount": [1.0], "order_time": [pd.Timestamp("2025-01-01")]})
    with pytest.raises(AnalysisError, match=r"orders \(1 rows\) has no product_category.*order_items"):
        X.basket_lines(o)


def test_every_basket_a_single_item():
    with pytest.raises(AnalysisError, match=r"all 3 baskets hold a single product.*level="):
        X.association_rules(_lines([["a"], ["b"], ["a"]]))


def test_too_many_products_suggests_category_level():
    o = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["a", "b"], "amount": [1.0, 2.0],
                      "order_time": pd.to_datetime(["2025-01-01", "2025-01-02"]), "product_category": ["x", "y"]})
    items = pd.DataFrame({"order_id": ["o1"] * 5, "product_id": list("pqrst"), "category": ["x"] * 5, "price": [0.2] * 5})
    with pytest.raises(AnalysisError, match=r"5 distinct products.*max_items=3.*level=category"):
        X.basket_lines(o, items, max_items=3)


def test_rules_below_the_minimum_count_everywhere():
    with pytest.raises(AnalysisError, match=r"no pair .* at least 50 of 4 baskets.*basket\.min_count="):
        X.association_rules(_lines([["a", "b"], ["a", "c"], ["b", "c"], ["a"]]), min_count=50)


def test_unknown_target_named(baskets, base):
    with pytest.raises(AnalysisError, match=r"'奶粉粉' is not a product.*did you mean '奶粉'"):
        X.fit_propensity(baskets, base.orders, target="奶粉粉")


def test_event_target(baskets, base):
    name = base.events["event_name"].value_counts().index[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = X.fit_propensity(baskets, base.orders, as_of="2025-09-30", target=f"event:{name}", events=base.events,
                             horizon_days=60, bootstrap=50)
    assert m.info["target"] == [f"event:{name}"] and 0 < m.evaluation.table["base_rate"].iloc[0] < 1
    with pytest.raises(AnalysisError, match=r"events has no event_name 'nope'"):
        X.fit_propensity(baskets, base.orders, target="event:nope", events=base.events)
