"""Experiment statistics: known answers (Hillstrom, generator truth, hand-computed cases),
interval coverage by simulation, SRM calibration, IPW bias removal, errors and warnings."""

from __future__ import annotations

import json
import math
import warnings
from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from workbench.campaign import experiments as ex
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.data.features import customer_features
from workbench.report import fmt
from workbench.synth.simulate import SEGMENTS, generate

ROOT = Path(__file__).resolve().parents[1]

SEGS = list(SEGMENTS)
RANDOMIZED = ["spring_coupon_2025", "summer_email_2025"]


@lru_cache(maxsize=1)
def _hillstrom() -> pd.DataFrame:
    from workbench.core.io import load_tables
    from workbench.run.params import load_params

    p = load_params(ROOT / "params" / "hillstrom.yaml")
    return load_tables(p, names=["campaign_contacts", "customers"])


def hillstrom() -> pd.DataFrame:
    t = _hillstrom()
    cc = t["campaign_contacts"].frame
    extra = t["customers"].frame[["customer_id", "history", "history_segment", "zip_code", "newbie"]]
    return cc.merge(extra, on="customer_id", how="left")


@lru_cache(maxsize=1)
def example():
    return generate(5000, seed=42)


def with_segment(data, campaign: str) -> pd.DataFrame:
    cc = data.campaign_contacts
    c = cc[cc["campaign_id"] == campaign].copy()
    c["segment"] = c["customer_id"].map(data.truth_customers.set_index("customer_id")["segment"])
    return c


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


# ------------------------------------------------------------------------------------------------
# Hillstrom: the published two-week results
# ------------------------------------------------------------------------------------------------


def test_hillstrom_published_rates_and_differences():
    cc = hillstrom()
    before = cc.copy()
    res = ex.compare_arms(cc, control="No E-Mail", random_state=0)
    pd.testing.assert_frame_equal(cc, before)  # input untouched
    s = res.to_frame().set_index(["metric", "arm"])
    published = {  # MineThatData, two weeks: visit %, conversion %, spend $ per customer
        "visited": {"Mens E-Mail": 18.28, "Womens E-Mail": 15.14, "No E-Mail": 10.62},
        "converted": {"Mens E-Mail": 1.25, "Womens E-Mail": 0.88, "No E-Mail": 0.57},
        "revenue": {"Mens E-Mail": 1.42, "Womens E-Mail": 1.08, "No E-Mail": 0.65},
    }
    for metric, arms in published.items():
        scale = 1 if metric == "revenue" else 100
        for arm in ("Mens E-Mail", "Womens E-Mail"):
            assert round(scale * s.loc[(metric, arm), "arm_mean"], 2) == arms[arm]
            assert round(scale * s.loc[(metric, arm), "control_mean"], 2) == arms["No E-Mail"]
    # differences and their Wald intervals, cross-checked with statsmodels
    from statsmodels.stats.proportion import confint_proportions_2indep

    r = s.loc[("visited", "Mens E-Mail")]
    k1, n1 = round(r.arm_mean * r.n), int(r.n)
    k0, n0 = round(r.control_mean * r.control_n), int(r.control_n)
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="wald", compare="diff")
    assert r["diff"] == pytest.approx(0.0766, abs=5e-5)
    assert (r.diff_low, r.diff_high) == pytest.approx((lo, hi), abs=1e-9)
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, method="log", compare="ratio")
    assert (r.rel_low, r.rel_high) == pytest.approx((lo - 1, hi - 1), rel=1e-6)
    # Welch on spend, cross-checked with scipy
    y = cc["revenue"].to_numpy()
    tt = sps.ttest_ind(y[cc["arm"] == "Mens E-Mail"], y[cc["arm"] == "No E-Mail"], equal_var=False)
    ci = tt.confidence_interval(0.95)
    rr = s.loc[("revenue", "Mens E-Mail")]
    assert rr["diff"] == pytest.approx(0.7698, abs=1e-4)
    assert (rr.diff_low, rr.diff_high, rr.p_value) == pytest.approx((ci.low, ci.high, tt.pvalue), rel=1e-6)
    # Holm across 2 arms x 3 metrics: every published effect survives
    assert res.table["significant"].all()
    assert (res.table["p_holm"] >= res.table["p_value"]).all()
    with fmt.use(currency="$"):
        assert "Mens E-Mail raised the visit rate by 7.7 points" in res.finding()
    assert len(res.metrics()["comparisons"]) == 3


def test_hillstrom_revenue_methods_and_srm():
    cc = hillstrom()
    boot = ex.compare_arms(cc, control="No E-Mail", metrics=["revenue"], revenue_method="bootstrap",
                           bootstrap=400, random_state=1).to_frame().set_index("arm")  # fmt: skip
    welch = ex.compare_arms(cc, control="No E-Mail", metrics=["revenue"]).to_frame().set_index("arm")
    # the percentile bootstrap agrees with Welch at n = 21k per arm (within 15 % of the half-width)
    half = (welch["diff_high"] - welch["diff_low"]) / 2
    assert ((boot["diff_low"] - welch["diff_low"]).abs() < 0.15 * half).all()
    assert boot["test"].str.startswith("bootstrap").all()
    mw = ex.compare_arms(cc, control="No E-Mail", metrics=["revenue"], revenue_method="mann_whitney").to_frame()
    assert (mw["test"] == "Mann-Whitney U").all() and (mw["p_value"] < 1e-3).all()

    plan = {"hillstrom_2008": {"Mens E-Mail": 0.3333, "Womens E-Mail": 0.3333, "No E-Mail": 0.3334}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        ok = ex.srm_test(cc, planned_split=plan)
    assert not ok.mismatch and ok.p_value > 0.5
    # planted imbalance: drop 10 % of the control rows
    ctrl = np.flatnonzero(cc["arm"].to_numpy() == "No E-Mail")
    drop = np.random.default_rng(0).choice(ctrl, size=len(ctrl) // 10, replace=False)
    bad = cc.drop(cc.index[drop])
    with pytest.warns(StatisticalWarning, match="SAMPLE-RATIO MISMATCH"):
        srm = ex.srm_test(bad, planned_split=plan)
    assert srm.mismatch and srm.p_value < 1e-10
    assert "not trustworthy" in srm.finding()


def test_hillstrom_cuped_power_heterogeneity():
    cc = hillstrom()
    cu = ex.cuped(cc, control="No E-Mail", metric="revenue", covariate="history")
    t = cu.summary()
    assert (t["ci_width_ratio"] <= 1 + 1e-12).all()
    assert cu.variance_reduction == pytest.approx(cu.rho**2, abs=0.01)
    hp = quiet(ex.heterogeneity, cc, by="zip_code", control="No E-Mail", arm_name="Mens E-Mail", metric="visited")
    s = hp.summary()
    assert set(s["subgroup"]) == {"(all)", "Rural", "Surburban", "Urban"}
    assert np.isfinite(hp.interaction_p) and hp.lr_test["df"] == 2
    pp = ex.power_plan(cc, control="No E-Mail", metric="converted", target_lift=0.1)
    # Cohen's h by hand: n per arm = 2 ((z_a + z_b) / h)^2
    p0 = pp.base
    h = 2 * math.asin(math.sqrt(p0 * 1.1)) - 2 * math.asin(math.sqrt(p0))
    n_hand = 2 * ((sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) / h) ** 2
    row = pp.summary().set_index("relative_lift").loc[0.1]
    assert row["n_per_arm_needed"] == pytest.approx(n_hand, rel=0.002)
    assert row["n_total_needed"] == 3 * row["n_per_arm_needed"]
    obs = pp.to_frame()
    # at the MDE the power is the power wanted
    assert (obs["power_for_target"] < 0.8).all() and (obs["mde_relative"] > 0.1).all()


# ------------------------------------------------------------------------------------------------
# Synthetic: true effects inside the intervals, coverage
# ------------------------------------------------------------------------------------------------


def test_example_true_segment_effects_inside_intervals():
    data = example()
    truth = json.loads((ROOT / "data" / "example" / "ground_truth.json").read_text())["campaigns"]
    assert truth["spring_coupon_2025"]["overall"] == data.truth["campaigns"]["spring_coupon_2025"]["overall"]
    for camp in RANDOMIZED:
        c = with_segment(data, camp)
        ct = truth[camp]
        arms = [a for a in ct["overall"]["n"] if a != "control"]
        for arm in arms:
            h = quiet(ex.heterogeneity, c, by="segment", control="control", arm_name=arm)
            s = h.summary().set_index("subgroup")
            for seg in SEGS:
                tau = ct["segments"][seg]["tau"][arm]
                assert s.loc[seg, "diff"] == pytest.approx(ct["segments"][seg]["realised_diff"][arm], abs=1e-6)
                assert s.loc[seg, "diff_low"] <= tau <= s.loc[seg, "diff_high"], (camp, arm, seg)
            assert s.loc["(all)", "diff_low"] <= ct["overall"]["tau_expected"][arm] <= s.loc["(all)", "diff_high"]
            assert h.interaction_p > 0.05  # the planted differences are too small to show at n = 5000
        cmp = ex.compare_arms(c, control="control", random_state=0).to_frame().set_index(["metric", "arm"])
        for arm in arms:
            r = cmp.loc[("converted", arm)]
            assert r["diff"] == pytest.approx(ct["overall"]["realised_diff"][arm], abs=1e-6)
            assert r["diff_low"] <= ct["overall"]["tau_expected"][arm] <= r["diff_high"]


def test_interval_coverage_by_simulation():
    """Same design as the example (sizes, p0, tau per segment), 4,000 replications each."""
    truth = example().truth["campaigns"]
    rng = np.random.default_rng(2024)
    R = 4000
    hits, total = 0, 0
    tol_one = 4 * math.sqrt(0.95 * 0.05 / R)
    for camp in RANDOMIZED:
        for seg, row in truth[camp]["segments"].items():
            for arm, tau in row["tau"].items():
                n1, n0, p0 = row["n"][arm], row["n"]["control"], row["p0_expected"]
                k1, k0 = rng.binomial(n1, p0 + tau, R), rng.binomial(n0, p0, R)
                r = ex.diff_proportions(k1, n1, k0, n0)
                cov = (r["low"] <= tau) & (tau <= r["high"])
                assert abs(cov.mean() - 0.95) < tol_one, (camp, seg, arm, cov.mean())
                hits += int(cov.sum())
                total += R
    assert abs(hits / total - 0.95) < 4 * math.sqrt(0.95 * 0.05 / total)


def test_interval_coverage_on_generated_seeds():
    covered, total = 0, 0
    for seed in range(1, 7):
        data = generate(2500, seed=seed)
        for camp in RANDOMIZED:
            c = with_segment(data, camp)
            for arm in [a for a in c["arm"].unique() if a != "control"]:
                s = quiet(ex.heterogeneity, c, by="segment", control="control", arm_name=arm).summary()
                s = s.set_index("subgroup")
                for seg in SEGS:
                    t = data.truth["campaigns"][camp]["segments"][seg]["tau"][arm]
                    if np.isfinite(s.loc[seg, "diff_low"]):
                        total += 1
                        covered += int(s.loc[seg, "diff_low"] <= t <= s.loc[seg, "diff_high"])
    # fewer covered than the 0.1 % quantile of Binomial(total, 0.95) would reject the intervals
    assert total >= 60
    assert covered >= sps.binom.ppf(0.001, total, 0.95)


def test_srm_calibration_and_power_by_simulation():
    rng = np.random.default_rng(7)
    R = 20_000
    for shares in ([0.5, 0.5], [1 / 3, 1 / 3, 1 / 3], [0.9, 0.1]):
        counts = rng.multinomial(3000, shares, size=R)
        rate = (ex.srm_pvalues(counts, np.array(shares)) < 0.001).mean()
        assert rate <= 0.001 + 4 * math.sqrt(0.001 / R)
    # 10 % of control lost at 20k customers per arm: detected nearly always
    counts = rng.multinomial(38_000, [20 / 38, 18 / 38], size=2000)
    assert (ex.srm_pvalues(counts, np.array([0.5, 0.5])) < 0.001).mean() > 0.99


def test_srm_example_quiet_and_unequal_plan():
    data = example()
    for camp in RANDOMIZED:
        c = data.campaign_contacts.query("campaign_id == @camp")
        plan = data.truth["campaigns"][camp]["planned_split"]
        with warnings.catch_warnings():
            warnings.simplefilter("error", StatisticalWarning)
            r = ex.srm_test(c, planned_split={camp: plan})
        assert not r.mismatch
        assert r.summary()["planned_share"].sum() == pytest.approx(1)
    df = pd.DataFrame({"arm": ["a"] * 900 + ["b"] * 100})
    with pytest.warns(StatisticalWarning, match="very different sizes"):
        r = ex.srm_test(df, planned_split={"a": 0.9, "b": 0.1})
    assert r.p_value == pytest.approx(1.0)
    # by hand: 550 / 450 against 50/50 -> chi2 = 2 * 50^2 / 500 = 10
    r = ex.srm_test(pd.DataFrame({"arm": ["a"] * 550 + ["b"] * 450}))
    assert r.chi2 == pytest.approx(10.0) and r.p_value == pytest.approx(sps.chi2.sf(10, 1))


def test_balance_and_cuped_on_example():
    c = with_segment(example(), "spring_coupon_2025")
    b = ex.balance_table(c, covariates=["pre_period_revenue", "segment"], control="control")
    assert set(b.table["covariate"]) == {"pre_period_revenue"} | {f"segment={s}" for s in SEGS}
    assert b.n_imbalanced == 0 and "balanced" in b.finding()
    # planted imbalance: drop the treated customers with the highest pre-period revenue
    t = c[c["arm"] == "treatment"]
    biased = c.drop(t.nlargest(len(t) // 5, "pre_period_revenue").index)
    bb = ex.balance_table(biased, covariates=["pre_period_revenue"], control="control")
    assert bb.n_imbalanced == 1 and bb.table["smd"].iloc[0] < -0.1
    # CUPED = ANCOVA with a common slope (theta pooled within arms): same estimate as OLS y ~ arm + x
    cu = ex.cuped(c, control="control", metric="revenue", covariate="pre_period_revenue")
    import statsmodels.api as sm

    X = sm.add_constant(np.column_stack([(c["arm"] == "treatment").astype(float), c["pre_period_revenue"]]))
    fit = sm.OLS(c["revenue"].to_numpy(), X).fit()
    assert cu.theta == pytest.approx(fit.params[2], rel=1e-9)
    assert cu.summary()["diff_cuped"].iloc[0] == pytest.approx(fit.params[1], rel=1e-9)
    assert 0 < cu.variance_reduction < 0.2 and cu.summary()["ci_width_ratio"].iloc[0] < 1


# ------------------------------------------------------------------------------------------------
# Observational: vip_call_2025
# ------------------------------------------------------------------------------------------------


def vip_call_frame(data, campaign: str = "vip_call_2025", window_days: int = 14, pre_days: int = 90):
    """The comparison the lead assembles: every customer signed up by the contact date; the
    contacted (treated) and the not contacted; pre-contact covariates and the outcome over the
    same window, both read from orders (purchases only)."""
    cc = data.campaign_contacts
    vip = cc[cc["campaign_id"] == campaign]
    t0 = vip["contact_time"].min()
    cust = data.customers[data.customers["signup_date"] <= t0]
    ref = pd.DataFrame({"customer_id": cust["customer_id"]})
    ref = ref.merge(vip[["customer_id", "contact_time"]], on="customer_id", how="left")
    ref["treated"] = ref["contact_time"].notna()
    ref["t_ref"] = ref["contact_time"].fillna(t0)
    orders = data.orders
    o = orders.loc[~orders["is_refund"] & (orders["amount"] > 0), ["customer_id", "order_time", "amount"]]
    m = o.merge(ref[["customer_id", "t_ref"]], on="customer_id")
    pre = m[(m["order_time"] >= m["t_ref"] - pd.Timedelta(days=pre_days)) & (m["order_time"] < m["t_ref"])]
    win = m[(m["order_time"] >= m["t_ref"]) & (m["order_time"] < m["t_ref"] + pd.Timedelta(days=window_days))]
    ref["pre_period_revenue"] = ref["customer_id"].map(pre.groupby("customer_id")["amount"].sum()).fillna(0.0)
    ref["converted"] = ref["customer_id"].isin(win["customer_id"])
    feats = customer_features(data.orders, as_of=(t0 - pd.Timedelta(days=1)).date(), customers=data.customers)
    ref = ref.merge(feats[["customer_id", "n_orders", "recency_days", "tenure_days"]], on="customer_id", how="left")
    # never bought: no orders, recency = tenure (the covariates must have no blanks)
    ref["n_orders"] = ref["n_orders"].fillna(0)
    ref["tenure_days"] = ref["tenure_days"].fillna(0)
    ref["recency_days"] = ref["recency_days"].fillna(ref["tenure_days"])
    return ref, vip


def test_vip_call_ipw_removes_selection_bias():
    data = example()
    frame, vip = vip_call_frame(data)
    # the assembled treated rows agree with the contacts table
    tr = frame[frame["treated"]].set_index("customer_id")
    v = vip.set_index("customer_id").loc[tr.index]
    assert np.allclose(tr["pre_period_revenue"], v["pre_period_revenue"], atol=0.01)
    assert (tr["converted"] == v["converted"]).all()
    truth = data.truth["campaigns"]["vip_call_2025"]["overall"]
    with pytest.warns(StatisticalWarning, match="Observational comparison"):
        res = ex.observational_effect(frame, treated="treated", outcome="converted",
                                      covariates=["pre_period_revenue", "n_orders", "recency_days", "tenure_days"],
                                      bootstrap=200, random_state=0)  # fmt: skip
    att, naive = res.estimate("IPW ATT"), res.estimate("naive difference")
    target = truth["att_conversion_realised"]  # 0.051
    assert naive > 0.3  # selection on past spend: contacted customers buy anyway
    assert abs(att - target) < 0.2 * abs(naive - target)  # > 80 % of the bias removed
    s = res.summary().set_index("estimate")
    assert s.loc["IPW ATT", "low"] <= target <= s.loc["IPW ATT", "high"]
    assert (s.loc[["IPW ATT", "IPW ATE"], "evidence"] == "weaker evidence").all()
    assert (res.balance["smd_after"].abs() < 0.1).all() and res.balance["smd_before"].abs().max() > 0.5
    assert res.overlap["share_treated_outside"] < 0.05
    assert "Weaker evidence" in res.finding()
    m = res.metrics()
    json.dumps(m)
    assert m["estimates"]["IPW ATT"]["value"] == pytest.approx(att)


# ------------------------------------------------------------------------------------------------
# Hand-computed cases, errors and warnings
# ------------------------------------------------------------------------------------------------


def test_diff_proportions_hand_and_newcombe():
    r = ex.diff_proportions(30, 100, 20, 100)
    se = math.sqrt(0.3 * 0.7 / 100 + 0.2 * 0.8 / 100)
    z = sps.norm.ppf(0.975)
    assert (r["low"][0], r["high"][0]) == pytest.approx((0.1 - z * se, 0.1 + z * se))
    pooled = math.sqrt(0.25 * 0.75 * (2 / 100))
    assert r["p_value"][0] == pytest.approx(2 * sps.norm.sf(0.1 / pooled))
    # zero successes in one arm: Newcombe's hybrid score interval (statsmodels 'newcomb') + Fisher
    from statsmodels.stats.proportion import confint_proportions_2indep

    r = ex.diff_proportions(0, 80, 6, 90)
    lo, hi = confint_proportions_2indep(0, 80, 6, 90, method="newcomb", compare="diff")
    assert bool(r["zero"][0]) and (r["low"][0], r["high"][0]) == pytest.approx((lo, hi), abs=1e-9)
    assert r["p_value"][0] == pytest.approx(sps.fisher_exact([[0, 80], [6, 84]])[1])
    assert np.isnan(r["rel_low"][0])


def test_zero_conversions_warn_and_use_newcombe():
    df = pd.DataFrame({
        "campaign_id": "c1",
        "arm": ["control"] * 200 + ["treatment"] * 200,
        "converted": pd.array([False] * 195 + [True] * 5 + [False] * 200, dtype="boolean"),
    })  # fmt: skip
    with pytest.warns(StatisticalWarning, match=r"c1, arm 'treatment', metric 'converted'.*Newcombe"):
        res = ex.compare_arms(df, control="control", metrics=["converted"])
    r = res.to_frame().iloc[0]
    assert r["ci_method"].startswith("Newcombe") and r["test"] == "Fisher exact"
    from statsmodels.stats.proportion import confint_proportions_2indep

    lo, hi = confint_proportions_2indep(0, 200, 5, 200, method="newcomb", compare="diff")
    assert r["diff"] == pytest.approx(-0.025)
    assert (r["diff_low"], r["diff_high"]) == pytest.approx((lo, hi), abs=1e-9)
    assert np.isnan(r["rel_low"])


def test_errors_name_arms_and_params_key():
    df = pd.DataFrame({"campaign_id": "c1", "arm": ["A", "B"] * 50, "converted": [0, 1] * 50})
    with pytest.raises(AnalysisError, match=r"no control arm 'control'.*'A', 'B'.*control="):
        ex.compare_arms(df, control="control")
    one = pd.DataFrame({"campaign_id": "vip", "arm": ["treatment"] * 10, "converted": [0, 1] * 5})
    with pytest.raises(AnalysisError, match=r"no control arm.*'treatment'.*control="):
        ex.compare_arms(one, control="control")
    only = pd.DataFrame({"arm": ["control"] * 10, "converted": [0, 1] * 5})
    with pytest.raises(AnalysisError, match=r"only one arm"):
        ex.compare_arms(only, control="control")
    two = pd.concat([df, df.assign(campaign_id="c2")])
    with pytest.raises(AnalysisError, match="one campaign"):
        ex.srm_test(two)
    with pytest.raises(AnalysisError, match="not found"):
        ex.heterogeneity(df, by="nope", control="A", arm_name="B")
    bad = df.assign(converted=["x", 1] * 50)
    with pytest.raises(AnalysisError, match=r"campaign_contacts\.converted: 50 of 100 rows"):
        ex.compare_arms(bad, control="A", metrics=["converted"])


def test_heterogeneity_planted_interaction_and_cochran_q():
    rng = np.random.default_rng(3)
    n = 24_000
    g = rng.choice(["north", "south", "east"], n)
    t = rng.random(n) < 0.5
    p = 0.10 + np.where(t & (g == "south"), 0.06, 0.0)
    df = pd.DataFrame({"arm": np.where(t, "mail", "control"), "region": g, "converted": rng.random(n) < p})
    with pytest.warns(StatisticalWarning, match="3 subgroups"):
        h = ex.heterogeneity(df, by="region", control="control", arm_name="mail")
    assert h.interaction_p < 1e-4 and h.lr_test["p_value"] < 1e-4
    s = h.summary().set_index("subgroup")
    assert s.loc["south", "significant"] and not s.loc["north", "significant"]
    # Wald with HC1 SEs = Cochran's Q of the subgroup differences (up to the HC1 factor n / (n - k))
    d = s.drop("(all)")
    v = ((d["diff_high"] - d["diff_low"]) / (2 * sps.norm.ppf(0.975))) ** 2
    w = 1 / v
    q = float((w * (d["diff"] - (w * d["diff"]).sum() / w.sum()) ** 2).sum())
    assert h.interaction_stat == pytest.approx(q, rel=0.01)
    assert h.interaction_df == 2


def test_result_objects_plot_and_serialize():
    c = with_segment(example(), "summer_email_2025")
    results = [
        ex.srm_test(c),
        ex.balance_table(c, covariates=["pre_period_revenue", "segment"], control="control"),
        ex.compare_arms(c, control="control", random_state=0),
        ex.cuped(c, control="control", metric="revenue", covariate="pre_period_revenue"),
        ex.power_plan(c, control="control", metric="converted"),
        quiet(ex.heterogeneity, c, by="segment", control="control", arm_name="A"),
    ]
    for r in results:
        assert isinstance(r.summary(), pd.DataFrame) and len(r.summary())
        assert isinstance(r.finding(), str) and r.finding()
        json.dumps(r.metrics())
        assert "\n" not in repr(r) and r._repr_html_().startswith("<p><b>")
        out = r.plot()
        assert out is not None
        plt.close("all")
    cmp = results[2]
    ax = cmp.plot(relative=True)
    assert len(ax.get_yticklabels()) == 6
    assert cmp.plot(metric="converted") is not None
    plt.close("all")
