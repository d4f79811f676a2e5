"""Churn prediction, reasons and the retention list: published Telco figure, synthetic truth,
hand-computed lift / calibration / retention arithmetic, and the input guards."""

from __future__ import annotations

import json
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from workbench.churn import model as cm
from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.core.io import load_tables
from workbench.core.privacy import pseudonymize
from workbench.data.features import customer_features
from workbench.report import fmt
from workbench.run.params import load_params
from workbench.synth.simulate import generate

# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def telco(root=None):
    from pathlib import Path

    params = load_params(Path(__file__).resolve().parents[1] / "params" / "telco.yaml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_tables(params)["customers"].frame


@pytest.fixture(scope="module")
def telco_fit(telco):
    spec = cm.prepare_features(telco)
    models = cm.fit_churn_models(telco, spec=spec, test_size=0.25, random_state=42)
    ev = cm.evaluate_churn_models(models, bootstrap=200, importance_repeats=3, random_state=42)
    return spec, models, ev


def _churn_frame(data, at: pd.Timestamp, window_days: int = 90) -> pd.DataFrame:
    """Buyers up to ``at`` with features as of ``at``; churned = no purchase in the window after."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = customer_features(data.orders, as_of=at.date(), customers=data.customers)
    f = f[f["n_orders"] > 0].copy()
    o = data.orders
    start = at + pd.Timedelta(days=1)
    later = o[(o["order_time"] >= start) & (o["order_time"] < start + pd.Timedelta(days=window_days)) & ~o["is_refund"]]
    f["churned"] = (~f["customer_id"].isin(later["customer_id"])).astype(int)
    cust = data.customers[["customer_id", "gender", "age", "acquisition_channel", "member_level"]]
    return f.merge(cust, on="customer_id", how="left").reset_index(drop=True)


@pytest.fixture(scope="module")
def synth_fit():
    data = generate(5000, seed=42)
    as_of = pd.Timestamp(data.truth["generator"]["as_of"])
    train = _churn_frame(data, as_of - pd.Timedelta(days=90))
    test = _churn_frame(data, as_of)
    spec = cm.prepare_features(train)
    models = cm.fit_churn_models(train, spec=spec, test=test, random_state=1)
    ev = cm.evaluate_churn_models(models, bootstrap=200, importance_repeats=3, random_state=1)
    return data, train, test, models, ev


# -- Telco: the published ~0.84 AUC -------------------------------------------------------------


def test_telco_logistic_auc_and_blank_total_charges(telco, telco_fit):
    spec, models, ev = telco_fit
    s = ev.table.set_index("model")  # summary() names the models in words
    # stratified 25 % split of 7,043 customers
    assert models.split["kind"] == "stratified_holdout"
    assert models.split["n_test"] == 1761 and models.split["n_train"] == 5282
    assert s.loc["logistic", "roc_auc"] >= 0.84  # measured 0.847
    assert s.loc["logistic", "roc_auc_low"] < s.loc["logistic", "roc_auc"] < s.loc["logistic", "roc_auc_high"]
    assert s.loc["hgb", "roc_auc"] >= 0.82
    assert s.loc["logistic", "base_rate"] == pytest.approx(467 / 1761, abs=1e-9)  # 1869 churners stratified
    assert s.loc["logistic", "pr_auc"] > 2 * s.loc["logistic", "base_rate"]
    assert s.loc["logistic", "brier_skill"] > 0.2
    # AUC equals sklearn's on the same predictions
    p = models.predict_proba(models.test)["logistic"].to_numpy()
    assert s.loc["logistic", "roc_auc"] == pytest.approx(roc_auc_score(models.y_test, p))
    # 11 blank TotalCharges (tenure 0): imputed, with an indicator term, and reported
    assert spec.missing["total_charges"] == 11
    assert "total_charges (missing)" in set(models.odds_ratios()["term"])
    assert "total_charges 11 rows" in spec.finding()
    assert telco["total_charges"].isna().sum() == 11  # input untouched
    # odds ratios: two-year contract and tenure protect, with intervals excluding 1
    o = models.odds_ratios().set_index("term")
    assert o.loc["plan=Two year", "ci_high"] < 1
    assert o.loc["tenure_months", "ci_high"] < 1
    assert (o["ci_low"] <= o["odds_ratio"]).all() and (o["odds_ratio"] <= o["ci_high"]).all()
    # tenure is the most important feature for the logistic model
    imp = ev.importance[ev.importance["model"] == "logistic"]
    assert imp.iloc[0]["feature"] == "tenure_months"
    json.dumps(ev.metrics())
    json.dumps(models.metrics())


def test_telco_reasons_in_words(telco, telco_fit):
    _, models, _ = telco_fit
    r = cm.churn_reasons(models, telco, n=3)
    assert list(r.columns[:5]) == ["customer_id", "p_churn", "reason_1", "log_odds_1", "reason_2"]
    assert len(r) == len(telco) and r["p_churn"].is_monotonic_decreasing
    top = r.head(50)
    words = pd.concat([top[f"reason_{i}"] for i in (1, 2, 3)]).dropna()
    assert words.str.fullmatch(r"tenure \d+ months \(short\)").any()
    assert (words == "plan: Month-to-month").any()
    # contributions of a reason are positive and ordered
    assert (top["log_odds_1"] >= top["log_odds_2"]).all() and (top["log_odds_2"] > 0).all()
    # a two-year, long-tenure customer gets no "month-to-month" reason
    low = r.tail(200)
    assert not (pd.concat([low[f"reason_{i}"] for i in (1, 2, 3)]) == "plan: Month-to-month").any()


# -- synthetic data: out-of-time, true drivers ----------------------------------------------------


def test_synthetic_out_of_time_beats_base_rate_and_finds_drivers(synth_fit):
    data, train, test, models, ev = synth_fit
    assert models.split["kind"] == "out_of_time"
    # the test frame's label is the generator's churn definition: 4,033 eligible, 39.87 % churned
    assert models.split["n_test"] == data.truth["churn"]["n_eligible"]
    assert models.split["base_rate_test"] == pytest.approx(data.truth["churn"]["churn_rate_overall"], abs=1e-6)
    s = ev.table.set_index("model")
    assert s.loc["logistic", "roc_auc_low"] > 0.85  # measured 0.880 (0.869-0.890)
    assert s.loc["hgb", "roc_auc_low"] > 0.85  # measured 0.886
    assert (s["brier_skill"] > 0.3).all()  # measured 0.41 / 0.42
    assert (s["top_decile_lift"] > 2).all()
    # recency is the strongest driver; frequency (orders) matters too
    imp = ev.importance[ev.importance["model"] == "logistic"].reset_index(drop=True)
    assert imp.loc[0, "feature"] == "recency_days"
    assert "n_orders" in set(imp.head(4)["feature"])
    # generator hazard ratios: paid_social 1.6 (vs organic), members 0.6 (vs non-members)
    o = models.odds_ratios().set_index("term")
    assert o.loc["acquisition_channel=paid_social", "ci_low"] > 1
    assert o.loc["member_level=silver", "ci_high"] < 1
    # twins are dropped: btyd_frequency = n_purchase_days - 1 ~ n_orders
    assert models.spec.dropped["btyd_frequency"].startswith("duplicate of n_orders")
    # out-of-time base-rate shift (45.6 % -> 39.9 %) shows up as miscalibration, and is said
    assert s.loc["logistic", "hl_p"] < 0.05
    assert "Calibration is off" in ev.finding()


def test_synthetic_reasons_name_recency(synth_fit):
    _, _, test, models, _ = synth_fit
    r = cm.churn_reasons(models, test, n=2, model="hgb")
    top = r.head(100)
    assert top["reason_1"].str.startswith("no purchase for").mean() > 0.9
    recency = top["reason_1"][top["reason_1"].str.startswith("no purchase for")]
    assert recency.str.fullmatch(r"no purchase for [\d,]+ days").all()
    assert r["customer_id"].is_unique and set(r["customer_id"]) == set(test["customer_id"])


# -- guards -----------------------------------------------------------------------------------


def test_leakage_copy_of_label_stops_with_column_name(telco):
    f = telco.assign(flag_x=telco["churned"].map({True: "yes", False: "no"}))
    spec = cm.prepare_features(f)
    assert "flag_x" in spec.categorical
    with pytest.raises(AnalysisError, match=r"flag_x.*label under another name.*model\.exclude="):
        cm.fit_churn_models(f, spec=spec, random_state=0)
    # a near-perfect numeric proxy also stops
    rng = np.random.default_rng(0)
    g = telco.assign(score_x=telco["churned"].astype(float) * 10 + rng.normal(0, 1, len(telco)))
    with pytest.raises(AnalysisError, match=r"score_x.*add 'score_x' to model\.exclude="):
        cm.fit_churn_models(g, spec=cm.prepare_features(g, exclude=()), random_state=0)
    # after excluding it, it runs
    spec2 = cm.prepare_features(f, exclude=["flag_x"])
    assert spec2.dropped["flag_x"].startswith("excluded")


def test_label_and_class_guards(telco):
    f = telco.head(400).copy()
    spec = cm.prepare_features(f)
    bad = f.assign(churned=np.where(np.arange(len(f)) % 3 == 0, "maybe", "yes"))
    with pytest.raises(AnalysisError, match=r"churned.*not a 0/1 churn label.*'maybe'"):
        cm.prepare_features(bad)
    one = f.assign(churned=False)
    with pytest.raises(AnalysisError, match="one class only"):
        cm.fit_churn_models(one, spec=spec, random_state=0)
    test_one = f.assign(churned=False)
    with pytest.raises(AnalysisError, match=r"held-out rows: all 400 rows are non-churners"):
        cm.fit_churn_models(f, spec=spec, test=test_one, random_state=0)
    with pytest.raises(AnalysisError, match="churners"):
        cm.fit_churn_models(f.head(30), spec=spec, random_state=0)
    with pytest.raises(AnalysisError, match="no label column 'left'"):
        cm.prepare_features(f, label="left")
    with pytest.raises(AnalysisError, match="calibrate"):
        cm.fit_churn_models(f, spec=spec, calibrate="sometimes", random_state=0)


def test_prepare_features_drops_ids_dates_outcome_columns():
    n = 60
    rng = np.random.default_rng(0)
    f = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "churned": rng.integers(0, 2, n),
            "duration_months": rng.uniform(0, 30, n),
            "event": rng.integers(0, 2, n),
            "churn_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "signup_date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "phone": [f"138{i:08d}" for i in range(n)],
            "city": rng.choice(["上海", "北京", "深圳"], n),
            "country": "中国",
            "tenure": rng.uniform(0, 30, n),
            "tenure_x2": 0,
            "is_member": rng.integers(0, 2, n).astype(bool),
        }
    )
    f["tenure_x2"] = f["tenure"] * 2
    before = f.copy()
    spec = cm.prepare_features(f, max_levels=30)
    assert spec.numeric == ("tenure", "is_member") and spec.categorical == ("city",)
    assert spec.boolean == ("is_member",)
    d = spec.dropped
    assert d["customer_id"] == "customer key"
    assert d["duration_months"].startswith("outcome") and d["event"].startswith("outcome")
    assert d["churn_date"].startswith("outcome")
    assert d["signup_date"].startswith("date/time")
    assert d["phone"].startswith("looks like an id")
    assert d["country"] == "constant"
    assert d["tenure_x2"].startswith("duplicate of tenure")
    pd.testing.assert_frame_equal(f, before)
    with pytest.raises(AnalysisError, match="duration_months.*record"):
        cm.prepare_features(f, features=["tenure", "duration_months"])
    with pytest.raises(AnalysisError, match="nope"):
        cm.prepare_features(f, features=["nope"])
    s = spec.summary()
    assert set(s["role"]) == {"numeric", "categorical", "dropped"}


def test_subsample_out_of_time_unseen_levels_and_inputs_untouched(telco):
    f = telco.copy()
    before = f.copy()
    spec = cm.prepare_features(f)
    train, test = f.iloc[:5000], f.iloc[5000:].copy()
    test.loc[test.index[:3], "PaymentMethod"] = "WeChat Pay"
    with pytest.warns(DataQualityWarning, match=r"PaymentMethod: 3 of 2,043 rows have levels not seen"):
        m = cm.fit_churn_models(train, spec=spec, test=test, max_rows=2000, calibrate="never", random_state=3)
    assert m.split["kind"] == "out_of_time" and m.split["n_train"] == 5000
    assert m.split["n_train_used"] == 2000 and m.split["subsampled"]
    assert abs(m.split["base_rate_train"] - train["churned"].mean()) < 0.002  # stratified
    assert "seeded stratified sample of 2,000 rows" in m.finding()
    assert not m.calibration["calibrated"].any()
    pd.testing.assert_frame_equal(f, before)
    # same seed, same model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        m2 = cm.fit_churn_models(train, spec=spec, test=test, max_rows=2000, calibrate="never", random_state=3)
        p1, p2 = m.predict_proba(test), m2.predict_proba(test)
    pd.testing.assert_frame_equal(p1, p2)
    assert list(p1.columns) == ["logistic", "hgb"] and p1.index.equals(test.index)
    with pytest.raises(AnalysisError, match="lacks feature column"):
        m.predict_proba(test.drop(columns="plan"))


# -- hand-computed small cases ------------------------------------------------------------------


def test_lift_table_by_hand():
    y = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]
    t = cm.lift_table(y, s, bins=5)
    # pairs: (1,1) (0,1) (0,0) (0,0) (0,0); base rate 0.3
    assert t["churners"].tolist() == [2, 1, 0, 0, 0]
    assert t["customers"].tolist() == [2] * 5
    np.testing.assert_allclose(t["lift"], [1 / 0.3, 0.5 / 0.3, 0, 0, 0])
    np.testing.assert_allclose(t["cum_churners_share"], [2 / 3, 1, 1, 1, 1])
    np.testing.assert_allclose(t["cum_lift"], [1 / 0.3, 0.75 / 0.3, 0.5 / 0.3, 0.375 / 0.3, 1.0])
    # 20 rows, deciles of 2; the scores are given in reverse, ranking must not depend on order
    y2 = np.array([1, 0] * 10)
    s2 = np.linspace(1, 0, 20)
    t2 = cm.lift_table(y2[::-1], s2[::-1])
    assert t2["churners"].tolist() == [1] * 10 and t2["lift"].tolist() == [1.0] * 10


def test_calibration_tests_by_hand():
    # Hosmer-Lemeshow: 2 groups of 2; p = .2,.2 | .8,.8 ; y = 0,1 | 1,1
    stat, dof, pv = cm.hosmer_lemeshow([0, 1, 1, 1], [0.2, 0.2, 0.8, 0.8], groups=2)
    # group 1: O=1, E=0.4, n=2: (0.6^2)/(0.4*0.8)=1.125 ; group 2: O=2, E=1.6: 0.16/(1.6*0.2)=0.5
    assert stat == pytest.approx(1.625) and dof == 2
    from scipy.stats import chi2

    assert pv == pytest.approx(chi2.sf(1.625, 2))
    # Spiegelhalter: y=(1,0), p=(.8,.4): num = .2*(-.6) + (-.4)*(.2) = -.2
    # den = sqrt(.36*.16 + .04*.24) = sqrt(.0672)
    z, p = cm.spiegelhalter([1, 0], [0.8, 0.4])
    assert z == pytest.approx(-0.2 / np.sqrt(0.0672))


def test_bootstrap_auc_statistic_matches_sklearn():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # with ties
    from workbench.modeling.propensity import fast_auc_stat  # the shared scorer's (churn uses it)

    stat = fast_auc_stat(y, s)
    assert stat(np.arange(300)) == pytest.approx(roc_auc_score(y, s))
    idx = rng.integers(0, 300, 300)
    assert stat(idx) == pytest.approx(roc_auc_score(y[idx], s[idx]))


def test_retention_list_arithmetic_by_hand():
    scores = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "p_churn": [0.5, 0.1, 0.8],
            "reason_1": ["no purchase for 120 days", "only 1 orders", pd.NA],
        }
    )
    value = pd.Series({"a": 100.0, "b": 1000.0, "c": 10.0}, name="clv")
    seg = pd.Series({"a": "A", "b": "B", "c": "A"})
    before = scores.copy()
    rl = cm.retention_list(scores, value=value, save_rate=0.2, contact_cost=5, salt="pepper", segments=seg)
    # EV = p * value * 0.2 - 5: a 0.5*100*0.2-5 = 5, b 0.1*1000*0.2-5 = 15, c 0.8*10*0.2-5 = -3.4
    t = rl.table.set_index("customer_id")
    np.testing.assert_allclose(t.loc[["a", "b", "c"], "expected_net_value"], [5.0, 15.0, -3.4])
    e = rl.to_frame()
    assert e["rank"].tolist() == [1, 2]
    assert e["customer_key"].tolist() == pseudonymize(pd.Series(["b", "a"]), salt="pepper").tolist()
    assert "customer_id" not in e.columns
    assert e["reason_1"].tolist() == ["only 1 orders", "no purchase for 120 days"]
    s = rl.summary().set_index("item")["value"]
    assert s["expected net value"] == pytest.approx(20.0)
    assert s["expected value saved"] == pytest.approx(30.0)
    assert s["contact cost"] == pytest.approx(10.0)
    assert s["share of the base worth contacting"] == pytest.approx(2 / 3)
    assert s["value at risk, whole base (sum p x value)"] == pytest.approx(50 + 100 + 8)
    bs = rl.by_segment().set_index("segment")
    assert bs.loc["B", "value_at_risk"] == pytest.approx(100.0)
    assert bs.loc["A", "value_at_risk"] == pytest.approx(58.0)
    assert bs.loc["A", "on_list"] == 1 and bs.loc["A", "expected_net_value"] == pytest.approx(5.0)
    assert bs.index[0] == "B"
    assert "2 customers (66.7 % of the base)" in rl.finding()
    pd.testing.assert_frame_equal(scores, before)
    json.dumps(rl.metrics())
    # cap and raw keys
    rl1 = cm.retention_list(scores, value=value, save_rate=0.2, contact_cost=5, salt="pepper", top_n=1,
                            allow_raw_keys=True)
    assert rl1.to_frame()["customer_id"].tolist() == ["b"]
    # formula on customer columns; missing value warned and counted as 0
    cust = pd.DataFrame({"customer_id": ["a", "b", "c"], "monthly": [10.0, np.nan, 1.0]})
    with pytest.warns(DataQualityWarning, match="1 of 3 customers have no value"):
        rl2 = cm.retention_list(scores, value="monthly * 12", customers=cust, save_rate=0.5, contact_cost=1,
                                salt="s")
    t2 = rl2.table.set_index("customer_id")
    np.testing.assert_allclose(
        t2.loc[["a", "b", "c"], "expected_net_value"], [0.5 * 120 * 0.5 - 1, -1, 0.8 * 12 * 0.5 - 1]
    )
    with pytest.raises(AnalysisError, match=r"retention\.value_formula="):
        cm.retention_list(scores, value="nope * 2", customers=cust, save_rate=0.5, contact_cost=1, salt="s")
    # segment "auto": the first segmentation column present (cluster_name)
    seg_cols = pd.DataFrame({"customer_id": ["a", "b", "c"], "cluster_name": ["x", "y", "x"]})
    rl3 = cm.retention_list(scores, value=value, customers=seg_cols, segments="auto", save_rate=0.2,
                            contact_cost=5, salt="s")
    assert rl3.by_segment().set_index("segment")["value_at_risk"].to_dict() == pytest.approx({"y": 100.0, "x": 58.0})
    assert rl3.to_frame()["segment"].tolist() == ["y", "x"]
    with pytest.raises(AnalysisError, match="save_rate"):
        cm.retention_list(scores, value=value, save_rate=0, contact_cost=1, salt="s")


def test_value_at_risk_prefers_clv():
    f = pd.DataFrame({"customer_id": ["a", "b"], "clv": [5.0, 7.0], "monetary_sum": [1.0, 2.0]})
    assert cm.value_at_risk(f).tolist() == [5.0, 7.0]
    assert cm.value_at_risk(f, source="formula", formula="monetary_sum * 2").tolist() == [2.0, 4.0]
    with pytest.raises(AnalysisError, match="no clv column"):
        cm.value_at_risk(f.drop(columns="clv"), source="clv")


def test_result_objects_plot_and_repr(telco, telco_fit):
    spec, models, ev = telco_fit
    assert isinstance(ev.plot(), plt.Figure)
    assert isinstance(ev.plot_lift(), plt.Figure)
    assert ev.plot_calibration() is not None and ev.plot_importance() is not None
    assert models.plot() is not None
    r = cm.churn_reasons(models, telco.head(300))
    with fmt.use(currency="$"):
        rl = cm.retention_list(r, value="monthly_charges * 12", customers=telco, save_rate=0.2, contact_cost=5,
                               salt="s", segments="plan")
    assert rl.plot() is not None
    plt.close("all")
    for obj in (spec, models, ev, rl):
        assert "\n" not in repr(obj)
        assert obj._repr_html_().startswith("<p><b>")
    assert ev.best == "logistic"  # difference within noise on Telco
    assert "within noise" in ev.finding()


def test_churn_scorer_is_an_estimator(telco, telco_fit):
    spec, models, _ = telco_fit
    s = models.estimator
    assert isinstance(s, cm.ChurnScorer) and not hasattr(s, "summary") and not hasattr(s, "finding")
    # predict_proba: (n, 2) array of P(stay), P(churn), the same figures the result's table shows
    p = s.predict_proba(telco.head(50), model="hgb")
    assert p.shape == (50, 2) and list(s.classes_) == [0, 1]
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[:, 1], models.predict_proba(telco.head(50))["hgb"].to_numpy())
    with pytest.raises(AnalysisError, match=r"model='hgbb'.*did you mean 'hgb'"):
        s.predict_proba(telco.head(5), model="hgbb")
    # __init__ stores the options only; fit returns self with learned attributes ending in "_"
    fresh = cm.ChurnScorer(C=0.5, calibrate="never", random_state=1)
    assert vars(fresh) == {"C": 0.5, "calibrate": "never", "max_rows": 200_000, "leakage_auc": 0.98,
                           "test_size": 0.25, "random_state": 1}
    with pytest.raises(AnalysisError, match="not fitted"):
        fresh.predict_proba(telco.head(5))
    small = telco.head(1500)
    assert fresh.fit(small, spec=spec) is fresh
    learned = {k for k in vars(fresh) if k.endswith("_")}
    assert {"spec_", "design_", "logistic_", "models_", "calibration_", "split_", "test_", "X_test_", "y_test_",
            "coef_cov_", "x_mean_", "train_base_rate_", "classes_"} <= learned
    assert fresh.split_["n_test"] == len(fresh.y_test_) == 375
    assert "not fitted" not in repr(fresh) and "\n" not in repr(fresh)
