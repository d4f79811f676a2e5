"""CLV models: shaping, known answers (lifetimes on CDNOW, Fader-Hardie-Lee's 1/10 sample),
interval coverage on simulated data, numerical stability, bad input and the honest checks."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.value.diagnostics import holdout_comparison, independence_check, tracking_curve
from workbench.value.models import (
    BetaGeoModel,
    GammaGammaModel,
    ParetoNBDModel,
    simulate_bgnbd,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
)
from workbench.value.models.base import _fd_gradient
from workbench.value.models.beta_geo import _BGData, _bgnbd_ll_terms
from workbench.value.models.gamma_gamma import _gg_ll_terms, _GGData
from workbench.value.models.pareto_nbd import _pnbd_log_integral
from workbench.value.summary import rfm_summary

ROOT = Path(__file__).resolve().parents[1]
CDNOW = ROOT / "data" / "raw" / "cdnow_master.txt.gz"
REF = json.loads((ROOT / "tests" / "fixtures" / "lifetimes_reference.json").read_text())
CAL, OBS = "1997-09-30", "1998-06-30"


# --------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})


@pytest.fixture(scope="module")
def summary(cdnow) -> pd.DataFrame:
    return rfm_summary(cdnow, calibration_end=CAL, observation_end=OBS, time_col="date", amount_col="dollar_value")


@pytest.fixture(scope="module")
def bg(summary) -> BetaGeoModel:
    return BetaGeoModel().fit(summary)


@pytest.fixture(scope="module")
def pnbd(summary) -> ParetoNBDModel:
    return ParetoNBDModel().fit(summary)


@pytest.fixture(scope="module")
def gg(summary) -> GammaGammaModel:
    return GammaGammaModel().fit(summary)


def _digest(s: pd.DataFrame) -> str:
    """The reference script's digest of (id, frequency, recency, T)."""
    lines = "\n".join(
        f"{i},{int(a)},{b:.9f},{c:.9f}" for i, a, b, c in zip(s.index, s["frequency"], s["recency"], s["T"], strict=True)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def _orders(rows):
    return pd.DataFrame(rows, columns=["customer_id", "order_time", "amount"])


# --------------------------------------------------------------------------------------------
# shaping
# --------------------------------------------------------------------------------------------


def test_rfm_summary_hand_computed():
    orders = _orders(
        [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-01-01", 5.0),  # same day: one purchase
            ("a", "2024-01-15", 20.0),
            ("a", "2024-01-15", 4.0),
            ("a", "2024-01-22", 0.0),  # zero amount: a purchase, not in monetary
            ("a", "2024-01-23", -8.0),  # negative: not a purchase
            ("b", "2024-01-08", 7.0),
            ("b", "2024-02-10", 9.0),  # holdout
            ("c", "2024-02-01", 3.0),  # first purchase after calibration: not in the summary
        ]
    )
    s = rfm_summary(orders, calibration_end="2024-01-29", observation_end="2024-02-10", time_unit="days")
    assert list(s.index) == ["a", "b"]
    assert s.loc["a", "frequency"] == 2 and s.loc["b", "frequency"] == 0
    assert s.loc["a", "recency"] == 21 and s.loc["a", "T"] == 28 and s.loc["b", "T"] == 21
    assert s.loc["a", "monetary_value"] == 24.0  # the 0-amount day is left out of the mean
    assert s.loc["b", "monetary_value"] == 0.0
    assert s.loc["b", "frequency_holdout"] == 1 and s.loc["b", "monetary_value_holdout"] == 9.0
    assert s["duration_holdout"].eq(12).all()
    info = s.attrs["rfm"]
    assert info["n_negative_rows"] == 1 and info["n_zero_amount_rows"] == 1
    assert info["n_excluded_from_monetary"] == 2 and info["n_excluded_from_purchases"] == 1
    w = rfm_summary(orders, calibration_end="2024-01-29", time_unit="weeks")
    assert w.loc["a", "T"] == pytest.approx(4.0) and w.loc["a", "recency"] == pytest.approx(3.0)
    m = rfm_summary(orders, calibration_end="2024-01-29", time_unit="months")
    assert m.loc["a", "T"] == pytest.approx(28 / (365.25 / 12))
    assert "frequency_holdout" not in w


def test_rfm_summary_refund_flags_and_inputs_unchanged():
    orders = _orders([("a", "2024-01-01", 10.0), ("a", "2024-01-05", 10.0), ("a", "2024-01-09", 30.0)])
    orders["status"] = ["paid", "refunded", "paid"]
    before = orders.copy()
    s = rfm_summary(orders, calibration_end="2024-01-10", time_unit="days")
    pd.testing.assert_frame_equal(orders, before)
    assert s.loc["a", "frequency"] == 1 and s.loc["a", "monetary_value"] == 30.0
    assert s.attrs["rfm"]["n_refund_rows"] == 1


def test_rfm_summary_matches_lifetimes_exactly(cdnow, summary):
    ref = REF["summary_day"]  # calibration_and_holdout_data(freq="D", freq_multiplier=7)
    assert len(summary) == ref["n_customers"]
    assert int((summary["frequency"] > 0).sum()) == ref["n_repeat_customers"]
    assert summary["frequency"].sum() == ref["sum_frequency"]
    assert summary["frequency_holdout"].sum() == ref["sum_frequency_holdout"]
    assert summary["duration_holdout"].iloc[0] == ref["duration_holdout"]
    assert summary["monetary_value"].sum() == pytest.approx(ref["sum_monetary_value"], rel=1e-12)
    assert _digest(summary) == ref["digest"]  # every frequency, recency and T
    weekly = rfm_summary(cdnow, calibration_end=CAL, observation_end=OBS, time_col="date",
                         amount_col="dollar_value", period="unit")  # fmt: skip
    refw = REF["summary_week_periods"]  # freq="W": calendar weeks, whole-week recency and T
    assert _digest(weekly) == refw["digest"]
    assert weekly["frequency_holdout"].sum() == refw["sum_frequency_holdout"]


def test_rfm_summary_bad_input(cdnow):
    with pytest.raises(AnalysisError, match="'amount'"):
        rfm_summary(cdnow, calibration_end=CAL, time_col="date")
    with pytest.raises(AnalysisError, match="no purchase on or before"):
        rfm_summary(cdnow, calibration_end="1990-01-01", time_col="date", amount_col="dollar_value")
    with pytest.raises(AnalysisError, match="must be after calibration_end"):
        rfm_summary(cdnow, calibration_end=CAL, observation_end="1997-06-30", time_col="date", amount_col="dollar_value")
    with pytest.raises(AnalysisError, match="after the last order day 1998-06-30"):
        rfm_summary(cdnow, calibration_end=CAL, observation_end="1999-06-30", time_col="date", amount_col="dollar_value")
    with pytest.raises(AnalysisError, match="time_unit"):
        rfm_summary(cdnow, calibration_end=CAL, time_unit="years", time_col="date", amount_col="dollar_value")


# --------------------------------------------------------------------------------------------
# known answers: lifetimes on the full CDNOW log
# --------------------------------------------------------------------------------------------


def _agrees(model, ref: dict) -> None:
    for p, v in ref["params"].items():
        assert model.params_[p] == pytest.approx(v, rel=0.01), p
    # our optimum at least as good as lifetimes', and no further than 0.01 away when equal
    assert model.log_likelihood_ >= ref["log_likelihood"] - 0.01
    assert model.log_likelihood_ - ref["log_likelihood"] < 0.5
    assert model.converged_


def test_bgnbd_matches_lifetimes(bg):
    ref = REF["bgnbd"]
    _agrees(bg, ref)
    assert bg.log_likelihood_ == pytest.approx(ref["log_likelihood"], abs=0.01)
    assert ref["log_likelihood_from_reported_mean"] == pytest.approx(ref["log_likelihood"], abs=1e-6)
    for p, v in ref["standard_errors"].items():
        assert bg.standard_errors_[p] == pytest.approx(v, rel=0.01), p
    for t, v in ref["expected_purchases_new"].items():
        assert bg.expected_purchases_new(float(t)) == pytest.approx(v, rel=1e-4)


def test_pareto_nbd_matches_lifetimes(pnbd):
    ref = REF["pareto_nbd"]
    _agrees(pnbd, ref)
    assert pnbd.log_likelihood_ == pytest.approx(ref["log_likelihood"], abs=0.01)
    for t, v in ref["expected_purchases_new"].items():
        assert pnbd.expected_purchases_new(float(t)) == pytest.approx(v, rel=1e-4)
    assert all(np.isfinite(v) and v > 0 for v in pnbd.standard_errors_.values())


def test_gamma_gamma_matches_lifetimes(gg):
    ref = REF["gamma_gamma"]
    assert gg.n_customers_ == ref["n_customers"]
    _agrees(gg, ref)
    assert gg.log_likelihood_ == pytest.approx(ref["log_likelihood"], abs=0.01)
    for p, v in ref["standard_errors"].items():
        assert gg.standard_errors_[p] == pytest.approx(v, rel=0.01), p


def test_per_customer_predictions_match_lifetimes(bg, pnbd, gg):
    c = REF["customers"]
    f, r, T, m, t = (np.array(c[k]) for k in ("frequency", "recency", "T", "monetary_value", "t"))
    np.testing.assert_allclose(bg.expected_purchases(t, f, r, T), c["bgnbd_expected_purchases"], rtol=1e-4)
    np.testing.assert_allclose(bg.probability_alive(f, r, T), c["bgnbd_probability_alive"], rtol=1e-4)
    np.testing.assert_allclose(pnbd.expected_purchases(t, f, r, T), c["pareto_nbd_expected_purchases"], rtol=1e-3)
    np.testing.assert_allclose(pnbd.probability_alive(f, r, T), c["pareto_nbd_probability_alive"], rtol=1e-3)
    np.testing.assert_allclose(gg.conditional_expected_average_profit(f, m), c["gamma_gamma_expected_average_profit"],
                               rtol=1e-5)  # fmt: skip
    # lifetimes: monthly rate 0.01 and 4.345 weeks a month
    clv = gg.customer_lifetime_value(bg, f, r, T, m, time=12, discount_rate=1.01**12 - 1, periods_per_month=4.345)
    np.testing.assert_allclose(clv, c["clv_bgnbd_12_months_monthly_rate_0.01_4.345_weeks"], rtol=1e-4)


def test_fader_hardie_lee_sample(cdnow):
    """The 1/10 sample's published estimates (Fader, Hardie & Lee 2005a), from the full log."""
    fhl = REF["fhl_sample"]
    sample = cdnow[cdnow["customer_id"].isin(fhl["customer_ids"])]
    s = rfm_summary(sample, calibration_end=CAL, time_col="date", amount_col="dollar_value")
    assert len(s) == fhl["n"] == 2357
    assert s["frequency"].sum() == fhl["sum_frequency"]
    assert s["T"].sum() == pytest.approx(fhl["sum_T"], abs=0.005 * len(s))  # lifetimes' copy rounds to 0.01
    assert s["recency"].sum() == pytest.approx(fhl["sum_recency"], abs=0.005 * len(s))
    bgm = BetaGeoModel().fit(s)
    for p, v in fhl["published_bgnbd"]["params"].items():
        assert bgm.params_[p] == pytest.approx(v, abs=0.0015), p
    assert bgm.log_likelihood_ == pytest.approx(fhl["published_bgnbd"]["log_likelihood"], abs=0.1)
    pn = ParetoNBDModel().fit(s)
    for p, v in fhl["published_pareto_nbd"]["params"].items():
        assert pn.params_[p] == pytest.approx(v, rel=0.005), p
    assert pn.log_likelihood_ == pytest.approx(fhl["published_pareto_nbd"]["log_likelihood"], abs=0.1)


# --------------------------------------------------------------------------------------------
# gradients and numerical stability
# --------------------------------------------------------------------------------------------


def test_analytic_gradients_match_finite_differences():
    d = simulate_bgnbd(500, {"r": 0.3, "alpha": 5.0, "a": 0.8, "b": 2.0}, T=np.linspace(5, 40, 500), random_state=3)
    data = _BGData.build(*(d[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T")))
    th = np.log([0.4, 3.0, 1.2, 1.5])
    g = _bgnbd_ll_terms(th, data, grad=True)[1]
    np.testing.assert_allclose(g, _fd_gradient(lambda t: _bgnbd_ll_terms(t, data, grad=False)[0], th), rtol=1e-6)
    gd = simulate_gamma_gamma(400, {"p": 5.0, "q": 3.0, "v": 12.0}, frequency=np.arange(400) % 6 + 1, random_state=4)
    gdata = _GGData.build(gd["frequency"].to_numpy(dtype=float), gd["monetary_value"].to_numpy())
    th = np.log([4.0, 2.5, 10.0])
    g = _gg_ll_terms(th, gdata, grad=True)[1]
    np.testing.assert_allclose(g, _fd_gradient(lambda t: _gg_ll_terms(t, gdata, grad=False)[0], th), rtol=1e-6)


def _log_integral_quad(r, a, s, b, x, tx, T):
    """Independent check: adaptive quadrature of the same integral, scaled at t_x."""
    k = r + s + x
    f0 = -(r + x) * np.log(a + tx) - (s + 1) * np.log(b + tx)
    y_end = np.log((a + T) / (a + tx))

    def h(y):
        u = tx + (a + tx) * np.expm1(y)
        return np.exp(-(r + x) * y - (s + 1) * np.log((b + u) / (b + tx))) * (a + tx) * np.exp(y)

    pts = [min(y_end, j / k) for j in (1, 5, 20)]
    val = integrate.quad(h, 0, y_end, limit=500, epsabs=0, epsrel=1e-12, points=pts)[0]
    return f0 + np.log(val)


@pytest.mark.parametrize("params", [(0.55, 10.6, 0.61, 11.7), (0.55, 11.7, 0.61, 10.6), (2.0, 0.1, 3.0, 500.0),
                                    (0.6, 1e3, 0.5, 1e-3), (5.0, 1.0, 50.0, 1000.0)])  # fmt: skip
def test_pareto_nbd_long_histories_are_finite_and_exact(params):
    """T = 5000 weeks, frequency in the hundreds: lifetimes 0.11.3 returns NaN for x=300, t_x=10 or 1
    with the last three parameter sets; here the integral matches quadrature and everything is
    finite. (A positive log-likelihood is legitimate: it is a density in the purchase times.)"""
    r, a, s, b = params
    x = np.array([300.0, 300, 300, 300, 100, 5, 0])
    tx = np.array([10.0, 1.0, 4000.0, 5000.0, 200.0, 3.0, 0.0])
    T = np.full(len(x), 5000.0)
    got = _pnbd_log_integral(r, a, s, b, x, tx, T)
    for i in range(len(x)):
        if tx[i] == T[i]:
            assert got[i] == -np.inf
        else:
            assert got[i] == pytest.approx(_log_integral_quad(r, a, s, b, x[i], tx[i], T[i]), abs=1e-8)
    model = ParetoNBDModel()
    model.params_ = dict(zip(("r", "alpha", "s", "beta"), params, strict=True))
    ll = model.log_likelihood(x, tx, T)
    p_alive = model.probability_alive(x, tx, T)
    e = model.expected_purchases(52.0, x, tx, T)
    assert np.isfinite(ll).all()
    assert np.isfinite(p_alive).all() and ((p_alive >= 0) & (p_alive <= 1)).all()
    assert np.isfinite(e).all() and (e >= 0).all()
    assert p_alive[1] < 1e-6 < p_alive[3]  # 300 purchases in the first week then silence: gone


def test_pareto_nbd_fit_with_long_histories():
    d = simulate_pareto_nbd(1500, {"r": 2.0, "alpha": 1.0, "s": 0.3, "beta": 200.0},
                            T=np.linspace(1000, 5000, 1500), random_state=5)  # fmt: skip
    assert d["frequency"].max() > 300
    m = ParetoNBDModel().fit(d)
    assert np.isfinite(m.log_likelihood_) and m.converged_
    assert np.isfinite(m.probability_alive(300, 100.0, 5000.0))


# --------------------------------------------------------------------------------------------
# coverage of the 95 % intervals on simulated data
# --------------------------------------------------------------------------------------------


def _coverage(make, model_cls, truth, seeds=range(5)):
    hits = dict.fromkeys(truth, 0)
    for seed in seeds:
        m = model_cls().fit(make(seed))
        for p, v in truth.items():
            lo, hi = m.confidence_intervals_[p]
            hits[p] += lo <= v <= hi
    return hits


def test_bgnbd_intervals_cover_truth():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    rng_T = np.random.default_rng(0).uniform(20, 60, 3000)
    hits = _coverage(lambda seed: simulate_bgnbd(3000, truth, T=rng_T, random_state=seed), BetaGeoModel, truth)
    assert all(h >= 4 for h in hits.values()), hits


def test_pareto_nbd_intervals_cover_truth():
    truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
    rng_T = np.random.default_rng(1).uniform(30, 80, 3000)
    hits = _coverage(lambda seed: simulate_pareto_nbd(3000, truth, T=rng_T, random_state=seed), ParetoNBDModel, truth)
    assert all(h >= 4 for h in hits.values()), hits


def test_gamma_gamma_intervals_cover_truth():
    truth = {"p": 6.0, "q": 3.5, "v": 15.0}
    freq = np.random.default_rng(2).geometric(0.35, 3000)
    hits = _coverage(lambda seed: simulate_gamma_gamma(3000, truth, frequency=freq, random_state=seed),
                     GammaGammaModel, truth)  # fmt: skip
    assert all(h >= 4 for h in hits.values()), hits


def test_simulators_are_seeded_and_consistent():
    a = simulate_bgnbd(200, (0.3, 4.0, 0.8, 2.5), T=30.0, random_state=7)
    b = simulate_bgnbd(200, (0.3, 4.0, 0.8, 2.5), T=30.0, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    for d in (a, simulate_pareto_nbd(200, (0.5, 10, 0.6, 12), T=30.0, random_state=1)):
        assert (d["recency"] <= d["T"]).all() and (d.loc[d["frequency"] == 0, "recency"] == 0).all()
    # E[X(T)] of the simulator agrees with the closed form
    truth = {"r": 0.3, "alpha": 4.0, "a": 0.8, "b": 2.5}
    m = BetaGeoModel()
    m.params_ = truth
    sim = simulate_bgnbd(200_000, truth, T=39.0, random_state=2)["frequency"].mean()
    assert sim == pytest.approx(m.expected_purchases_new(39.0), rel=0.02)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------


def test_too_few_repeat_customers_names_count_and_param():
    d = simulate_bgnbd(300, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0, random_state=0)
    d = d[d["frequency"] == 0]
    few = pd.concat([d, simulate_bgnbd(400, (0.25, 4.0, 0.8, 2.5), T=39.0, random_state=1).query("frequency > 0").head(7)])
    for cls in (BetaGeoModel, ParetoNBDModel):
        with pytest.raises(AnalysisError, match=r"only 7 of .* calibration_end="):
            cls().fit(few)
        with pytest.raises(AnalysisError, match="every one of the .* single purchase"):
            cls().fit(d)
    with pytest.raises(AnalysisError, match="only 7"):
        GammaGammaModel().fit(few.assign(monetary_value=10.0))


def test_single_purchase_orders_name_the_window():
    orders = _orders([(f"c{i}", f"2024-01-{1 + i % 20:02d}", 10.0) for i in range(60)])
    s = rfm_summary(orders, calibration_end="2024-01-31")
    with pytest.raises(AnalysisError, match=r"calibration_end=2024-01-31 later"):
        BetaGeoModel().fit(s)


def test_bad_summary_values():
    d = simulate_bgnbd(100, (0.25, 4.0, 0.8, 2.5), T=39.0, random_state=0)
    with pytest.raises(AnalysisError, match="recency > T"):
        BetaGeoModel().fit(d.assign(recency=d["T"] + 1))
    with pytest.raises(AnalysisError, match="no column"):
        BetaGeoModel().fit(d.drop(columns="T"))
    with pytest.raises(AnalysisError, match="fit\\(summary\\) first"):
        BetaGeoModel().probability_alive(1, 1, 2)


def test_not_converged_warns():
    d = simulate_bgnbd(1000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0, random_state=0)
    with pytest.warns(StatisticalWarning, match="did not converge after 1 iterations.*maxiter"):
        m = BetaGeoModel(maxiter=1).fit(d)
    assert not m.converged_


def test_holdout_errors(summary, bg):
    with pytest.raises(AnalysisError, match="frequency_holdout"):
        holdout_comparison(bg, summary.drop(columns=["frequency_holdout"]))


# --------------------------------------------------------------------------------------------
# honest checks and result objects
# --------------------------------------------------------------------------------------------


def test_holdout_comparison(summary, bg):
    hc = holdout_comparison(bg, summary)
    t = hc.summary()
    assert list(t.columns) == ["frequency", "n_customers", "actual", "predicted", "error"]
    assert t["n_customers"].sum() == len(summary) and t["frequency"].iloc[-1] == "7+"
    assert t["actual"].iloc[0] == pytest.approx(summary.loc[summary["frequency"] == 0, "frequency_holdout"].mean())
    m = hc.metrics()
    json.dumps(m)
    assert m["actual_total"] == REF["summary_day"]["sum_frequency_holdout"]
    assert 0 < m["mae_customer"] < 2 and m["ape_total"] < 0.25
    assert "\n" not in repr(hc) and "<table" in hc._repr_html_()
    # the calibration-period model the check checks stands beside it, with its intervals
    est = hc.estimates().set_index("param")
    for p in ("r", "alpha", "a", "b"):
        assert est.loc[p, "estimate"] == pytest.approx(REF["bgnbd"]["params"][p], rel=2e-3)
        assert est.loc[p, "lower"] < est.loc[p, "estimate"] < est.loc[p, "upper"]


def test_tracking_curve(cdnow, summary, bg, pnbd):
    for model in (bg, pnbd):
        tc = tracking_curve(model, cdnow, calibration_end=CAL, observation_end=OBS, time_col="date",
                            amount_col="dollar_value")  # fmt: skip
        f = tc.to_frame()
        m = tc.metrics()
        assert m["actual_calibration_end"] == summary["frequency"].sum()
        assert m["actual_observation_end"] == summary["frequency"].sum() + summary["frequency_holdout"].sum()
        # the model's cumulative forecast at the calibration end is its fitted total
        assert m["predicted_calibration_end"] == pytest.approx(model.expected_purchases_new(summary["T"]).sum(), rel=1e-9)
        assert m["ape_calibration_end"] < 0.02 and m["ape_observation_end"] < 0.10
        assert f["actual_cum"].is_monotonic_increasing and f["predicted_cum"].is_monotonic_increasing
        assert f["holdout"].sum() > 30
        assert list(tc.summary()["point"]) == ["calibration_end", "observation_end"]
        assert tc.plot() is not None and "\n" not in repr(tc)
        json.dumps(m)
    with pytest.raises(AnalysisError, match="time_unit"):
        tracking_curve(bg, cdnow, calibration_end=CAL, observation_end=OBS, time_col="date", time_unit="days")


def test_independence_check():
    d = simulate_gamma_gamma(2000, (6.0, 3.5, 15.0), frequency=np.random.default_rng(0).geometric(0.3, 2000),
                             random_state=0)  # fmt: skip
    ok = independence_check(d)
    assert ok.strength == "negligible" and ok.ok and "looks reasonable" in ok.verdict
    bad = d.assign(monetary_value=d["monetary_value"] * d["frequency"] ** 1.5)
    with pytest.warns(StatisticalWarning, match="doubtful"):
        res = independence_check(bad)
    assert res.strength == "material" and res.spearman_rho > 0.3
    json.dumps(res.metrics())
    assert list(res.summary()["test"]) == ["pearson", "spearman"]


def test_result_objects(summary, bg, pnbd, gg):
    import matplotlib

    matplotlib.use("Agg")
    for m in (bg, pnbd, gg):
        s = m.summary()
        assert list(s.columns) == ["param", "estimate", "se", "lower", "upper"]
        assert ((s["lower"] < s["estimate"]) & (s["estimate"] < s["upper"])).all()
        met = m.metrics()
        json.dumps(met)
        assert met["rfm"]["n_zero_amount_rows"] == 80  # the CDNOW $0 rows, reported
        assert "\n" not in repr(m) and "<table" in m._repr_html_()
        assert m.plot() is not None
    assert bg.plot(summary=summary) is not None and gg.plot(summary=summary) is not None
    assert repr(BetaGeoModel()) == "BetaGeoModel(unfitted)"
    pred = bg.predict(summary.head(5), t=39)
    assert list(pred.columns) == ["expected_purchases", "probability_alive"]
    e = bg.expected_purchases(39, summary["frequency"], summary["recency"], summary["T"])
    assert isinstance(e, pd.Series) and e.index.equals(summary.index)
    clv = gg.customer_lifetime_value(pnbd, summary["frequency"], summary["recency"], summary["T"],
                                     summary["monetary_value"], margin=0.3)  # fmt: skip
    assert isinstance(clv, pd.Series) and (clv >= 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(clv).all()
