"""Segmentation and value: hand-computed answers plus recovery of the synthetic truth."""

from __future__ import annotations

import dataclasses
import json
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from workbench import segmentation as seg
from workbench import value
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.core.privacy import pseudonymize
from workbench.data.features import customer_features
from workbench.synth.simulate import generate

CLUSTER_FEATURES = ["monetary_mean", "n_orders", "recency_days"]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synth():
    data = generate(3000, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = customer_features(data.orders, as_of="2025-09-30", customers=data.customers)
    return data, feats


@pytest.fixture(scope="module")
def buyers(synth):
    _, feats = synth
    return feats[feats["n_orders"] > 0].reset_index(drop=True)


@pytest.fixture(scope="module")
def clusters(buyers):
    return seg.cluster_customers(buyers, features=CLUSTER_FEATURES, k=4, bootstrap=5, silhouette_sample=1000,
                                 random_state=7)


@pytest.fixture(scope="module")
def rfm(synth):
    return seg.rfm_scores(synth[1])


def _frame(values, ids=None, **extra):
    ids = ids or [chr(ord("a") + i) for i in range(len(values))]
    return pd.DataFrame({"customer_id": ids, "monetary_sum": [float(v) for v in values], **extra})


# -- 1. ABC / Pareto -------------------------------------------------------------------------


def test_gini_hand_cases():
    assert seg.gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert seg.gini([0, 0, 0, 1]) == pytest.approx(0.75)  # n-based formula: (n - 1) / n
    assert seg.gini([1, 2, 3]) == pytest.approx(2 * (1 + 4 + 9) / (3 * 6) - 4 / 3)


def test_lorenz_and_top_shares_hand_case():
    res = seg.abc_classes(_frame([0, 0, 0, 1]))
    assert res.gini == pytest.approx(0.75)
    assert res.lorenz["customer_share"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    assert res.lorenz["value_share"].tolist() == pytest.approx([0, 0, 0, 0, 1])
    # top shares read off the curve with interpolation: 0.2 of 4 customers = 0.8 of the best one
    res = seg.abc_classes(_frame([10, 5, 3, 2]))
    assert res.top_shares["top_20pct"] == pytest.approx(0.8 * 10 / 20)
    assert res.top_shares["top_5pct"] == pytest.approx(0.2 * 10 / 20)
    assert res.top_shares["top_1pct"] == pytest.approx(0.04 * 10 / 20)


def test_abc_classes_hand_case_with_ties_and_zero():
    res = seg.abc_classes(_frame([5, 30, 50, 0, 10, 5], ids=list("edafcb")))
    t = res.to_frame()
    assert t["customer_id"].tolist() == ["a", "d", "c", "b", "e", "f"]  # by value, ties by id
    # before-shares 0, .5, .8, .9, .9 (tie takes the share before its block), zero -> last class
    assert t["cum_share_before"].tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 0.9, 1.0])
    assert t["abc_class"].astype(str).tolist() == ["A", "A", "B", "B", "B", "C"]
    s = res.summary().set_index("abc_class")
    assert s.loc["A", "customers"] == 2 and s.loc["A", "share_value"] == pytest.approx(0.8)
    assert s.loc["B", "value"] == pytest.approx(20) and s.loc["C", "share_customers"] == pytest.approx(1 / 6)


def test_abc_customer_crossing_the_cut_stays_in_a():
    res = seg.abc_classes(_frame([70, 20, 10]), cuts=[0.8, 0.95])
    assert res.to_frame()["abc_class"].astype(str).tolist() == ["A", "A", "B"]


def test_abc_errors_name_params_key():
    with pytest.raises(AnalysisError, match=r"margin_sum.*fix measure="):
        seg.abc_classes(_frame([1, 2]), measure="margin")
    with pytest.raises(AnalysisError, match=r"fix cuts="):
        seg.abc_classes(_frame([1, 2]), cuts=[0.9, 0.8])
    with pytest.raises(AnalysisError, match="positive"):
        seg.abc_classes(_frame([0, 0]))
    with_margin = _frame([1, 2]).assign(margin_sum=[3.0, 1.0])
    res = seg.abc_classes(with_margin, measure="margin")
    assert res.to_frame()["customer_id"].tolist() == ["a", "b"]


# -- 2. RFM ----------------------------------------------------------------------------------


def test_default_map_covers_every_cell_exactly_once():
    grid = seg.check_segment_map()
    assert len(grid) == 25 and (grid["n_matches"] == 1).all()
    assert set(grid["segment"]) == set(seg.DEFAULT_SEGMENT_MAP) and len(seg.DEFAULT_SEGMENT_MAP) == 11
    assert grid.set_index(["r", "f"]).loc[(5, 5), "segment"] == "champions"
    assert grid.set_index(["r", "f"]).loc[(1, 1), "segment"] == "lost"
    # other bins: the default rules see scores rescaled to 1..5, still exactly one match each
    for bins in (3, 10):
        g = seg.check_segment_map(bins=bins)
        assert len(g) == bins**2 and (g["n_matches"] == 1).all()


def test_every_customer_exactly_one_segment(synth, rfm):
    _, feats = synth
    t = rfm.to_frame()
    assert len(t) == len(feats) and t["segment"].notna().all()
    buyer = feats["n_orders"].to_numpy() > 0
    assert (t.loc[~buyer, "segment"] == seg.NO_PURCHASE).all()
    assert (t.loc[buyer, "segment"] != seg.NO_PURCHASE).all()
    assert t.loc[buyer, ["r", "f", "m"]].notna().all().all() and t.loc[~buyer, "r"].isna().all()
    assert rfm.summary()["customers"].sum() == len(feats)
    # the segment follows the first matching rule of the default map
    grid = seg.check_segment_map().set_index(["r", "f"])["segment"]
    b = t[buyer]
    expected = [grid[(int(r), int(f))] for r, f in zip(b["r"], b["f"], strict=True)]
    assert b["segment"].astype(str).tolist() == expected


def test_quantile_scores_hand_case_and_ties():
    f = pd.DataFrame(
        {"customer_id": list("abcdef"), "recency_days": [1.0, 2, 3, 4, 5, 5],
         "n_orders": [1, 1, 1, 2, 3, 4], "monetary_sum": [10.0, 20, 30, 40, 50, 50]}
    )  # fmt: skip
    with pytest.warns(StatisticalWarning, match=r"R levels \[1\]; F levels \[1, 3\]"):
        t = seg.rfm_scores(f).to_frame()
    # score = 1 + floor(5 * (average-rank pct - eps)); recency inverted (most recent -> 5):
    # pcts 6/6, 5/6, 4/6, 3/6 and the tied 5-day pair 1.5/6 -> 5, 5, 4, 3, 2, 2
    assert t["r"].tolist() == [5, 5, 4, 3, 2, 2]
    assert t["f"].tolist() == [2, 2, 2, 4, 5, 5]  # three tied 1s at pct 2/6 -> 1 + floor(1.67)
    assert t["m"].tolist() == [1, 2, 3, 4, 5, 5]
    assert t["rfm_cell"].iloc[0] == "521" and t["rfm_score"].iloc[0] == 8


def test_heavy_ties_no_nan_equal_scores_unused_levels_reported():
    rng = np.random.default_rng(0)
    n = 1000
    n_orders = np.where(np.arange(n) < 800, 1, rng.integers(2, 20, n))  # 80 % one-time buyers
    f = pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(n)], "recency_days": rng.integers(0, 400, n).astype(float),
         "n_orders": n_orders, "monetary_sum": rng.choice([50.0, 100.0, 200.0], n)}
    )  # fmt: skip
    with pytest.warns(StatisticalWarning, match="F levels"):
        res = seg.rfm_scores(f)
    t = res.to_frame()
    assert t[["r", "f", "m"]].notna().all().all()
    for col, score in (("recency_days", "r"), ("n_orders", "f"), ("monetary_sum", "m")):
        assert (t.groupby(col)[score].nunique() == 1).all(), col  # equal values, equal scores
    # the 800 one-time buyers sit at the 40th percentile: all F = 3; every repeat buyer is above
    # the 80th: F = 5. Levels 1, 2 and 4 are unused and reported
    assert set(t.loc[t["n_orders"] == 1, "f"]) == {3} and set(t.loc[t["n_orders"] > 1, "f"]) == {5}
    assert res.metrics()["unused_levels"]["f"] == [1, 2, 4]
    assert t["segment"].notna().all()


def test_thresholds_method_hand_case():
    f = pd.DataFrame({"customer_id": list("abc"), "recency_days": [5.0, 40, 200],
                      "n_orders": [6, 2, 1], "monetary_sum": [900.0, 150, 40]})  # fmt: skip
    p = dict(method="thresholds", recency_thresholds=[30, 90, 180, 365],
             frequency_thresholds=[2, 3, 5, 10], monetary_thresholds=[100, 200, 500, 1000])  # fmt: skip
    t = seg.rfm_scores(f, **p).to_frame()
    assert t["r"].tolist() == [5, 4, 2] and t["f"].tolist() == [4, 2, 1] and t["m"].tolist() == [4, 2, 1]
    with pytest.raises(AnalysisError, match=r"missing: monetary_thresholds="):
        seg.rfm_scores(f, **{**p, "monetary_thresholds": None})
    with pytest.raises(AnalysisError, match=r"4 thresholds.*frequency_thresholds"):
        seg.rfm_scores(f, **{**p, "frequency_thresholds": [1, 2]})


def test_bad_segment_maps_name_the_key(synth):
    _, feats = synth
    with pytest.raises(AnalysisError, match=r"without a segment.*e\.g\. \(r=1, f=.*segment_map=") as e:
        seg.rfm_scores(feats, segment_map={"best": "r >= 4"})
    n_uncovered = int((seg.rfm_scores(feats).to_frame()["r"] <= 3).sum())
    assert f"leaves {n_uncovered:,} of" in str(e.value)
    with pytest.raises(AnalysisError, match=r"segment 'x'.*unknown name.*segment_map="):
        seg.rfm_scores(feats, segment_map={"x": "recency > 3"})
    with pytest.warns(StatisticalWarning, match=r"overlap.*r=4.*a, b"):
        res = seg.rfm_scores(feats, segment_map={"a": "r >= 3", "b": "r >= 4", "c": "r < 3"})
    assert set(res.to_frame()["segment"].astype(str)) == {"a", "c", seg.NO_PURCHASE}  # first match wins
    assert len(res.overlaps) == 10


# -- 3. Migration ----------------------------------------------------------------------------


def test_migration_hand_case():
    orders = pd.DataFrame(
        {"order_id": [str(i) for i in range(7)],
         "customer_id": ["a", "a", "b", "c", "d", "e", "x"],
         "order_time": pd.to_datetime(["2024-03-20", "2024-06-20", "2024-03-25", "2024-01-01",
                                       "2024-06-01", "2024-06-25", "2024-08-01"]),
         "amount": [50.0, 60, 70, 80, 90, 100, 10]}
    )  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": list("abcdeg"),
         "signup_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2024-02-01",
                                        "2024-05-01", "2024-04-15"])}
    )  # fmt: skip
    params = dict(bins=2, method="thresholds", recency_thresholds=[30], frequency_thresholds=[2],
                  monetary_thresholds=[100], segment_map={"active": "r == 2", "lapsed": "r == 1"})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        res = seg.rfm_migration(orders, customers, from_date="2024-03-31", to_date="2024-06-30", **params)
    t = res.to_frame().set_index("customer_id")
    assert t["from_segment"].astype(str).to_dict() == {
        "a": "active", "b": "active", "c": "lapsed", "d": seg.NO_PURCHASE,
        "e": seg.NOT_YET_CUSTOMER, "g": seg.NOT_YET_CUSTOMER,
    }  # fmt: skip
    assert t["to_segment"].astype(str).to_dict() == {
        "a": "active", "b": "lapsed", "c": "lapsed", "d": "active", "e": "active", "g": seg.NO_PURCHASE,
    }  # fmt: skip
    expected = pd.DataFrame(
        [[1, 1, 0], [0, 1, 0], [0, 1, 1], [0, 0, 1]],
        index=[seg.NOT_YET_CUSTOMER, seg.NO_PURCHASE, "active", "lapsed"],
        columns=[seg.NO_PURCHASE, "active", "lapsed"],
    )
    pd.testing.assert_frame_equal(res.counts, expected, check_names=False)
    assert res.shares.loc["active"].tolist() == pytest.approx([0, 0.5, 0.5])
    assert "Of last period's 2 active, 50 % are still active, 50 % moved to lapsed" in res.finding()
    s = res.summary().set_index("from_segment")
    assert s.loc["active", "stayed"] == 1 and s.loc["active", "main_destination"] == "lapsed"
    with pytest.raises(AnalysisError, match=r"migration_from"):
        seg.rfm_migration(orders, from_date="2024-06-30", to_date="2024-03-31", **params)
    # the features at to_date handed in (the notebook's feats): the same migration, one build fewer
    from workbench.data.features import customer_features

    later = customer_features(orders, as_of="2024-06-30", customers=customers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        reused = seg.rfm_migration(orders, customers, from_date="2024-03-31", to_date="2024-06-30",
                                   to_features=later, **params)
    pd.testing.assert_frame_equal(reused.counts, res.counts)
    pd.testing.assert_frame_equal(reused.to_frame(), res.to_frame())
    # features of another base (customer "a" missing) are refused, naming the customer
    with pytest.raises(AnalysisError, match=r"1 customers of the from_date base .*'a'"):
        seg.rfm_migration(orders, customers, from_date="2024-03-31", to_date="2024-06-30",
                          to_features=later[later["customer_id"] != "a"], **params)


# -- 4. Clustering ---------------------------------------------------------------------------


def test_clusters_recover_truth_and_are_deterministic(synth, buyers, clusters):
    data, _ = synth
    truth = data.truth_customers.set_index("customer_id")["segment"]
    ari = seg.adjusted_rand(clusters.segments(), truth)
    assert ari > 0.3, ari
    assert clusters.n_clusters == 4 and clusters.method in ("kmeans", "gmm")
    again = seg.cluster_customers(
        buyers, features=CLUSTER_FEATURES, k=4, bootstrap=5, silhouette_sample=1000, random_state=7,
    )  # fmt: skip
    pd.testing.assert_frame_equal(clusters.to_frame(), again.to_frame())
    pd.testing.assert_frame_equal(clusters.stability, again.stability)
    # profiles: clusters numbered by size, shares add up, names from the two largest |SMD|
    p = clusters.summary()
    assert p["customers"].is_monotonic_decreasing and p["share"].sum() == pytest.approx(1)
    assert p["revenue_share"].sum() == pytest.approx(1)
    row = p.iloc[0]
    smd = {c: row[f"smd_{c}"] for c in CLUSTER_FEATURES}
    top2 = sorted(smd, key=lambda c: -abs(smd[c]))[:2]
    assert row["cluster_name"] == " · ".join(f"{'high' if smd[c] > 0 else 'low'} {c}" for c in top2)
    assert set(clusters.logged) == {"monetary_mean", "n_orders", "recency_days"}  # all skewed
    assert 0 <= clusters.stability_mean() <= 1 and len(clusters.stability) == 10
    # predict reproduces the labels of the fitted rows
    pred = clusters.predict(buyers)
    assert (pred.to_numpy() == clusters.to_frame()["cluster"].to_numpy()).all()


def test_cluster_k_search_and_method_choice(buyers):
    params = dict(features=CLUSTER_FEATURES, k_min=2, k_max=4, bootstrap=2, silhouette_sample=800)
    res = seg.cluster_customers(buyers.iloc[:1200], **params, random_state=1, fit_sample=1000)
    sel = res.selection
    assert len(sel) == 6 and set(sel["method"]) == {"kmeans", "gmm"}
    km = sel[sel["method"] == "kmeans"]
    assert res.k["kmeans"] == int(km.loc[km["silhouette"].idxmax(), "k"])
    gm = sel[sel["method"] == "gmm"]
    assert res.k["gmm"] == int(gm.loc[gm["bic"].idxmin(), "k"])
    assert res.method == max(res.silhouette, key=res.silhouette.get)
    assert res.n_fit == 1000 and res.n_clustered == 1200 and res.to_frame()["cluster"].notna().all()
    fig = res.plot_k_selection()
    plt.close(fig)


def test_cluster_errors_and_missing_rows(synth):
    _, feats = synth
    with pytest.raises(AnalysisError, match=r"nope.*fix features="):
        seg.cluster_customers(feats, features=["nope", "n_orders"], random_state=0)
    params = dict(features=CLUSTER_FEATURES, k=3, bootstrap=0, silhouette_sample=500)
    with pytest.warns(StatisticalWarning, match=r"leaves out 610 of 3,000"):
        res = seg.cluster_customers(feats, **params, random_state=0)
    assert int(res.to_frame()["cluster"].isna().sum()) == 610 == int((feats["n_orders"] == 0).sum())
    assert np.isnan(res.stability_mean())
    # buyers_only: the same clusters as on the buyers, without the warning and the empty rows
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        only = seg.cluster_customers(feats, **params, random_state=0, buyers_only=True)
    on_buyers = seg.cluster_customers(feats[feats["n_orders"] > 0], **params, random_state=0)
    pd.testing.assert_frame_equal(only.to_frame(), on_buyers.to_frame())
    assert only.n_total == 3000 - 610


def test_silhouettes_in_one_pass_equal_sklearn():
    from sklearn.metrics import silhouette_score

    from workbench.segmentation.clustering import _silhouettes

    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 3))
    labelings = [rng.integers(0, k, len(X)) for k in (2, 3, 5)]
    labelings.append(rng.choice([3, 7, 11], len(X)))  # labels need not be 0..k-1
    labelings.append(np.r_[np.zeros(len(X) - 1, dtype=int), [9]])  # a one-customer cluster scores 0
    got = _silhouettes(X, [*labelings, np.zeros(len(X), dtype=int)])
    assert got[:-1] == pytest.approx([silhouette_score(X, lab) for lab in labelings], rel=1e-12, abs=1e-15)
    assert np.isnan(got[-1])  # one cluster: no silhouette


def test_cluster_fits_use_one_thread_on_small_data(buyers, monkeypatch):
    from threadpoolctl import threadpool_info

    from workbench.segmentation import clustering

    seen: list[int] = []
    make = clustering._make_model

    def recording(method, k, seed):
        model = make(method, k, seed)
        fit = model.fit

        def fit_and_record(X):
            seen.extend(pool["num_threads"] for pool in threadpool_info())
            return fit(X)

        model.fit = fit_and_record
        return model

    monkeypatch.setattr(clustering, "_make_model", recording)
    seg.cluster_customers(buyers.iloc[:600], features=CLUSTER_FEATURES, k=3, bootstrap=2, silhouette_sample=300,
                          random_state=0)
    assert seen and set(seen) == {1}  # OpenMP (k-means) and BLAS (mixture): no threads waiting on busy cores


def test_adjusted_rand_helper():
    assert seg.adjusted_rand([0, 0, 1, 1], ["x", "x", "y", "y"]) == pytest.approx(1.0)
    a = pd.Series([1, 1, 2, None], index=["p", "q", "r", "s"])
    b = pd.Series(["u", "u", "v", "v", "w"], index=["s", "q", "r", "p", "zz"])
    # aligned on the index, missing dropped: p,q,r -> (1,v), (1,u), (2,v)
    assert seg.adjusted_rand(a, b) == pytest.approx(seg.adjusted_rand([1, 1, 2], ["v", "u", "v"]))


# -- 5. Simple CLV ---------------------------------------------------------------------------


def test_simple_clv_hand_case():
    assert value.annuity_factor(3, 0.10) == pytest.approx(1 / 1.1 + 1 / 1.1**2 + 1 / 1.1**3)
    assert value.annuity_factor(2.5, 0.0) == pytest.approx(2.5)
    assert value.annuity_factor(2.5, 0.1) == pytest.approx(1 / 1.1 + 1 / 1.21 + 0.5 / 1.331)
    f = pd.DataFrame(
        {"customer_id": ["a", "b", "c"], "n_orders": [4, 1, 0], "monetary_sum": [400.0, 50, 0],
         "tenure_days": [730.5, 10, 100], "acq": ["paid", "organic", "paid"]}
    )  # fmt: skip
    out = value.simple_clv(f, margin=0.5, expected_lifetime_years=3, discount_rate=0.1,
                         acquisition_cost=10, acquisition_cost_by_channel={"paid": 50}, channel_col="acq")  # fmt: skip
    af = value.annuity_factor(3, 0.1)
    a, b, c = (out.iloc[i] for i in range(3))
    assert a["aov"] == pytest.approx(100) and a["purchases_per_year"] == pytest.approx(2)
    assert a["clv"] == pytest.approx(0.5 * 100 * 2 * af - 50)
    # tenure below 90 days counts as 90 days
    assert b["purchases_per_year"] == pytest.approx(365.25 / 90)
    assert b["clv"] == pytest.approx(0.5 * 50 * 365.25 / 90 * af - 10)  # channel not listed: flat CAC
    assert np.isnan(c["aov"]) and c["clv"] == pytest.approx(-50)
    with pytest.raises(AnalysisError, match=r"fix margin="):
        value.simple_clv(f, margin=1.5, expected_lifetime_years=3, discount_rate=0.1)
    with pytest.raises(AnalysisError, match="channel_col"):
        value.simple_clv(f, margin=0.5, expected_lifetime_years=3, discount_rate=0.1,
                       acquisition_cost_by_channel={"paid": 50})  # fmt: skip
    res = value.simple_clv_by_segment(f, pd.Series({"a": "big", "b": "small", "c": "small"}), margin=0.5,
                                    expected_lifetime_years=3, discount_rate=0.1)  # fmt: skip
    s = res.summary().set_index("segment")
    assert s.loc["small", "customers"] == 2 and s.loc["big", "total_clv"] == pytest.approx(0.5 * 100 * 2 * af)
    assert s["clv_share"].sum() == pytest.approx(1)
    assert "margin 50%" in res.assumptions and "3 years at 10%" in res.assumptions


# -- 6. Tags and portraits -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tag_inputs(synth, rfm, clusters):
    _, feats = synth
    abc = seg.abc_classes(feats)
    clv = value.simple_clv(feats, margin=0.3, expected_lifetime_years=3, discount_rate=0.1)
    clv["p_alive"] = np.resize([0.1, 0.2, 0.5, 0.8, 0.81], len(clv))
    return feats, abc, rfm, clusters, clv


def test_tag_table(tag_inputs):
    feats, abc, rfm, clusters, clv = tag_inputs
    tags = {"big_spender": "monetary_sum > 5000", "fading_vip": "abc_class == 'A' and rfm_segment == 'at risk'"}
    t = seg.tag_table(feats, abc=abc, rfm=rfm, clusters=clusters, clv=clv, tags=tags,
                      allow_raw_keys=True)  # fmt: skip
    assert len(t) == len(feats) and t["customer_id"].tolist() == feats["customer_id"].tolist()
    for col in ("abc_class", "r", "f", "m", "rfm_segment", "cluster", "cluster_name", "clv", "clv_decile",
                "p_alive_band", "preferred_channel", "big_spender", "fading_vip"):
        assert col in t.columns, col
    assert (t["big_spender"] == (feats["monetary_sum"] > 5000)).all()
    expected = (t["abc_class"] == "A") & (t["rfm_segment"] == "at risk")
    assert (t["fading_vip"] == expected).all() and t["fading_vip"].dtype == bool
    # deciles: 10 = highest, equal CLV -> equal decile
    assert t.loc[t["clv"].idxmax(), "clv_decile"] == 10
    zero = t["clv"] == 0  # the 610 non-buyers tie at 0: one decile from their average rank
    assert set(t.loc[zero, "clv_decile"]) == {1 + int(10 * (zero.sum() + 1) / 2 / len(t))}
    assert t.loc[t["clv"] > 0, "clv_decile"].min() >= t.loc[zero, "clv_decile"].iloc[0]
    assert (t.groupby("clv")["clv_decile"].nunique() == 1).all()
    assert t["p_alive_band"].astype(str).head(5).tolist() == ["<20%", "20-50%", "50-80%", "50-80%", ">80%"]
    with pytest.raises(AnalysisError, match=r"unknown column.*available columns: customer_id, abc_class.*tags= \(tag 'bad'\)"):
        seg.tag_table(feats, abc=abc, rfm=rfm, tags={"bad": "spend > 5"})
    with pytest.raises(AnalysisError, match=r"tags= \(tag 'r'\)"):
        seg.tag_table(feats, abc=abc, rfm=rfm, tags={"r": "n_orders > 1"})


def test_tag_keys_pseudonymized_unless_allowed(tag_inputs, tmp_path):
    feats, abc, rfm, _, _ = tag_inputs
    t = seg.tag_table(feats, abc=abc, rfm=rfm, tags={}, salt="pepper")
    assert t["customer_id"].tolist() == pseudonymize(feats["customer_id"], salt="pepper").tolist()
    assert not set(t["customer_id"]) & set(feats["customer_id"])
    paths = seg.write_tags(t, tmp_path / "out")
    assert paths["csv"].read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(paths["csv"], encoding="utf-8-sig")
    assert back["customer_id"].tolist() == t["customer_id"].tolist()
    assert len(pd.read_parquet(paths["parquet"])) == len(t)


def test_portraits_hand_case():
    feats = pd.DataFrame(
        {"customer_id": list("abcd"), "monetary_sum": [100.0, 300, 50, 0], "n_orders": [1, 3, 1, 0],
         "monetary_mean": [100.0, 100, 50, np.nan], "tenure_days": [10, 20, 30, 40],
         "recency_days": [1.0, 2, 3, np.nan], "share_app": [1.0, 0, 1, np.nan], "share_web": [0.0, 1, 0, np.nan]}
    )  # fmt: skip
    customers = pd.DataFrame({"customer_id": list("abcd"), "gender": ["女", "女", "男", "男"],
                              "age": [22, 30, 40, 60], "city": ["上海", "北京", "上海", "上海"]})  # fmt: skip
    segments = pd.Series({"a": "x", "b": "x", "c": "y", "d": "y"})
    res = seg.portraits(feats, segments, customers)
    t = res.summary().set_index("segment")
    assert t.loc["x", "customers"] == 2 and t.loc["x", "revenue_share"] == pytest.approx(400 / 450)
    assert t.loc["x", "typical_basket"] == pytest.approx(100) and t.loc["x", "orders_per_customer"] == 2
    # channel mix weighted by orders: x has 1 app + 3 web orders
    assert res.channel_mix.loc["x", "web"] == pytest.approx(0.75) and t.loc["x", "top_channel"] == "web"
    assert t.loc["x", "top_gender"] == "女" and t.loc["x", "top_gender_share"] == 1.0
    assert t.loc["y", "top_city"] == "上海" and t.loc["y", "median_age"] == 50
    assert "'x' (50 % of customers, 89 % of revenue)" in res.finding()


# -- result-object protocol ------------------------------------------------------------------


def test_result_objects_follow_the_style(synth, rfm, clusters):
    data, feats = synth
    results = [
        seg.abc_classes(feats),
        rfm,
        clusters,
        value.simple_clv_by_segment(feats, rfm.segments(), margin=0.3, expected_lifetime_years=3, discount_rate=0.1),
        seg.portraits(feats, rfm.segments(), data.customers),
    ]
    for res in results:
        name = type(res).__name__
        assert isinstance(res.summary(), pd.DataFrame) and len(res.summary()), name
        assert isinstance(res.to_frame(), pd.DataFrame), name
        json.dumps(res.metrics())
        assert "\n" not in repr(res) and repr(res).startswith(name)
        assert "<table" in res._repr_html_()
        finding = res.finding()
        assert isinstance(finding, str) and len(finding) > 40 and "nan" not in finding, name
        out = res.plot()
        assert hasattr(out, "savefig") or hasattr(out, "plot"), name
        plt.close("all")
        with pytest.raises(dataclasses.FrozenInstanceError):
            res.summary = None  # frozen result objects
    _, ax = plt.subplots()
    assert clusters.plot(ax=ax) is ax and rfm.plot(ax=ax) is ax
    plt.close("all")


def test_truth_agreement_metrics_keep_the_recorded_keys(synth, clusters, tmp_path):
    data, _ = synth
    none = seg.truth_agreement(clusters, ground_truth=None)
    assert none.metrics() == {
        "ari": None, "n": 0,
        "text": "_No ground truth for this dataset (real data): nothing to compare the clusters with._",
    }  # fmt: skip
    path = tmp_path / "truth.parquet"
    data.truth_customers[["customer_id", "segment"]].to_parquet(path)
    res = seg.truth_agreement(clusters, ground_truth=path)
    m = res.metrics()
    assert list(m) == ["ari", "n", "text"] and m["n"] == len(clusters.labels)
    truth = data.truth_customers.set_index("customer_id")["segment"]
    assert m["ari"] == pytest.approx(seg.adjusted_rand(clusters.segments(), truth))
    assert m["text"] == res.finding() and f"on {m['n']:,} customers" in m["text"]
