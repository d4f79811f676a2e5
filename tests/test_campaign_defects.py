"""Campaign defects of issue 11: every case ends with a result or a message naming what to change.

1. Rates of exactly 100 % or 0 %: the KPI chart draws (error bars never negative).
2. Conversions tracked without revenue: CUPED and the arm comparison skip the untracked metric
   with a note (not a misleading "covariate blank" error); the targeting list is replaced by a
   warning naming ``value_per_conversion=``.
3. A ``control_arm`` that no campaign has: an error naming the arms with their rows, a
   did-you-mean and ``control_arm=``; campaigns genuinely without a hold-out are observational
   with a note that the experimental comparison is skipped.
4. Marketing consent: customers whose consent is false never enter the targeting list and are
   counted; unknown consent is kept and counted; no consent column: nothing changes.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from workbench.campaign import (
    experiment_checks,
    experiments,
    kpi_table,
    observational_effects,
    prepare_contacts,
    subgroup_effects,
    targeting,
    uplift,
    uplift_section,
    variance_and_power,
)
from workbench.campaign._common import consent_by_customer, error_bar_lengths
from workbench.campaign.params import CampaignParams
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.run.session import params_hint
from workbench.stats import wilson_interval

matplotlib.use("Agg")


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def _contacts(n: int = 800, seed: int = 1, *, revenue: bool = True, control: str = "control") -> pd.DataFrame:
    """One randomized campaign with a planted effect and a pre-period covariate."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    treated = rng.random(n) < 0.5
    converted = rng.random(n) < 1 / (1 + np.exp(-(-1.5 + 0.5 * x1 + 0.6 * treated)))
    out = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)], "campaign_id": "c1",
        "arm": np.where(treated, "treatment", control), "converted": converted, "cost": np.where(treated, 0.2, 0.0),
        "pre_period_revenue": rng.gamma(2.0, 50.0, n),
    })  # fmt: skip
    if revenue:
        out["revenue"] = np.where(converted, rng.gamma(2.0, 40.0, n), 0.0)
    return out


def _features(contacts: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"customer_id": contacts["customer_id"], "x1": rng.normal(size=len(contacts)),
                         "x2": rng.normal(size=len(contacts))})  # fmt: skip


# ---------------------------------------------------------------------------------------------
# 1. rates of 100 % and 0 %
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("converted", [True, False], ids=["all_converted", "none_converted"])
def test_kpi_plot_draws_at_100_and_0_percent(converted: bool) -> None:
    c = _contacts(300).assign(converted=converted)
    data = _quiet(prepare_contacts, c, outcome_source="columns")
    kpi = kpi_table(data)
    assert (kpi.table["conversion_rate"] == float(converted)).all()
    ax = kpi.plot()  # raised "'xerr' must not contain negative values"
    assert ax is not None
    assert set(kpi.figures()) == {"kpi_conversion"}
    plt.close("all")


def test_error_bar_lengths_never_negative_on_wilson_bounds() -> None:
    n = np.arange(1, 3001, dtype=float)
    for k in (n, np.zeros_like(n), n - 1):  # 100 %, 0 %, one short of 100 %
        lo, hi = wilson_interval(k, n)
        err = error_bar_lengths(k / n, lo, hi)
        assert err.shape == (2, n.size) and (err >= 0).all()
    # an interval not containing its estimate gives a zero-length bar, a missing bound none
    np.testing.assert_allclose(error_bar_lengths([1.0, 0.5], [0.9, np.nan], [1 - 1e-16, 0.6]),
                               [[0.1, np.nan], [0.0, 0.1]])  # fmt: skip


# ---------------------------------------------------------------------------------------------
# 2. conversions without revenue
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def no_revenue():
    c = _contacts(revenue=False)
    data = _quiet(prepare_contacts, c, outcome_source="columns")
    return c, data


def test_cuped_skips_untracked_revenue_with_a_note(no_revenue) -> None:
    _, data = no_revenue
    assert data.contacts["revenue"].isna().all()
    var = _quiet(variance_and_power, data, cuped_covariate="pre_period_revenue")
    texts = [b[1] for b in var.blocks if b[0] == "md"]
    assert any("`revenue`: blank for every contact (not tracked), so not adjusted with CUPED" in t for t in texts)
    assert not any("pre_period_revenue: all values blank" in t for t in texts)
    assert [r.metric for r in var.cuped["c1"]] == ["converted"]  # the tracked metric is still adjusted
    checks = _quiet(experiment_checks, data)
    assert "revenue" not in set(checks.comparisons["c1"].to_frame()["metric"])
    assert any("not compared between arms" in b[1] for b in checks.blocks if b[0] == "md")


def test_cuped_names_the_blank_metric_not_the_covariate(no_revenue) -> None:
    _, data = no_revenue
    with pytest.raises(AnalysisError, match=r"campaign_contacts\.revenue of c1: all 800 rows blank.*metric=") as e:
        experiments.cuped(data.contacts, control="control", metric="revenue", covariate="pre_period_revenue")
    assert "covariate 'pre_period_revenue' is not the problem" in str(e.value)
    blank_cov = data.contacts.assign(pre_period_revenue=np.nan)
    with pytest.raises(AnalysisError, match=r"pre_period_revenue of c1: all 800 rows .* blank; pass another covariate="):
        experiments.cuped(blank_cov, control="control", metric="converted", covariate="pre_period_revenue")


def test_targeting_without_revenue_names_value_per_conversion(no_revenue) -> None:
    c, data = no_revenue
    feats = _features(c)
    section = _quiet(uplift_section, data, customers=feats, learner="logistic", bootstrap=0, random_state=0)
    assert section is not None and section.data.value_per_conversion is None
    with pytest.warns(StatisticalWarning, match=r"no targeting list.*pass value_per_conversion=") as rec:
        assert targeting(section, customers=feats, as_of="2025-01-01", salt="s") is None
    message = str(rec[0].message)
    assert "campaign_contacts.revenue" in message and "'c1'" in message
    assert params_hint(message, CampaignParams, "analyses.campaign").endswith(
        "(params: analyses.campaign.uplift.value_per_conversion)"
    )
    given = _quiet(targeting, section, customers=feats, as_of="2025-01-01", value_per_conversion=25.0, salt="s")
    assert given.value_per_conversion == 25.0 and given.value_source == "given"
    assert given.contact_cost == pytest.approx(0.2)
    with pytest.raises(Exception, match="greater than 0"):
        CampaignParams(uplift={"value_per_conversion": 0})


# ---------------------------------------------------------------------------------------------
# 3. a control arm that is not in the contacts
# ---------------------------------------------------------------------------------------------


def test_control_arm_in_no_campaign_is_an_error_naming_the_arms() -> None:
    c = _contacts(control="ctrl")
    c["contact_time"] = pd.Timestamp("2025-03-01")
    with pytest.warns(StatisticalWarning, match=r"no arm named 'control' \(arms seen: ctrl, treatment\).*'ctrl'"):
        data = prepare_contacts(c, control_arm="control", outcome_source="columns")
    text = data.control_problem
    n_ctrl, n_treat = int((c["arm"] == "ctrl").sum()), int((c["arm"] == "treatment").sum())
    assert text.startswith("campaign_contacts.arm: no arm is named 'control'")
    assert f"'ctrl' ({n_ctrl:,})" in text and f"'treatment' ({n_treat:,})" in text
    assert "did you mean 'ctrl'?" in text and "control_arm=" in text
    assert params_hint(text, CampaignParams, "analyses.campaign").endswith("(params: analyses.campaign.control_arm)")
    assert "matches no arm of any campaign" in data.finding()
    # every estimate that relies on the designs stops with that message: no hold-out row is
    # counted as contacted in the observational estimate
    orders = pd.DataFrame({"customer_id": c["customer_id"].iloc[:20], "order_id": [f"o{i}" for i in range(20)],
                           "order_time": pd.Timestamp("2025-01-15"), "amount": 10.0})  # fmt: skip
    customers = c[["customer_id"]]
    calls = {
        "experiment_checks": lambda: experiment_checks(data),
        "variance_and_power": lambda: variance_and_power(data),
        "subgroup_effects": lambda: subgroup_effects(data),
        "observational_effects": lambda: observational_effects(data, orders=orders, customers=customers),
        "uplift_section": lambda: uplift_section(data, customers=_features(c)),
    }
    for name, call in calls.items():
        with pytest.raises(AnalysisError) as e:
            call()
        assert str(e.value) == text, name
    fixed = _quiet(prepare_contacts, c, control_arm="ctrl", outcome_source="columns")
    assert fixed.randomized == ["c1"] and fixed.control_problem is None


def test_campaign_without_control_while_others_have_one_is_observational() -> None:
    a = _contacts(400)
    b = _contacts(300, seed=2).assign(campaign_id="vip", arm="treatment")
    b["customer_id"] = "V" + b["customer_id"]
    with pytest.warns(StatisticalWarning, match="campaign 'vip' has no arm named 'control'"):
        data = prepare_contacts(pd.concat([a, b], ignore_index=True), outcome_source="columns")
    assert data.randomized == ["c1"] and data.observational == ["vip"]
    checks = _quiet(experiment_checks, data)
    assert list(checks.comparisons) == ["c1"]
    assert any("vip: no `control` hold-out arm, so the experimental comparison is skipped" in b[1]
               for b in checks.blocks if b[0] == "md")  # fmt: skip


def test_no_hold_out_anywhere_skips_the_experiments_with_a_reason() -> None:
    a = _contacts(300).assign(arm="treatment")
    b = _contacts(200, seed=2).assign(campaign_id="vip", arm="called")
    b["customer_id"] = "V" + b["customer_id"]
    both = pd.concat([a, b], ignore_index=True)
    with pytest.warns(StatisticalWarning, match="no campaign has an arm named 'control' and every campaign has a single"
                                               " arm.*experimental comparison .* is skipped"):  # fmt: skip
        data = prepare_contacts(both, outcome_source="columns")
    assert data.randomized == [] and data.observational == ["c1", "vip"]
    # control_arm=None says so explicitly: a note, no warning, and the same designs
    with warnings.catch_warnings():
        warnings.simplefilter("error", StatisticalWarning)
        none = prepare_contacts(both, control_arm=None, outcome_source="columns")
    assert none.observational == ["c1", "vip"] and any("control_arm=None" in n for n in none.notes)
    assert "control_arm=None" in none.finding()
    assert experiment_checks(none).comparisons == {}
    assert uplift_section(none) is None  # no randomized campaign: no uplift
    with pytest.raises(AnalysisError, match=r"campaign='c1' is observational: control_arm=None.*campaign="):
        uplift_section(none, campaign="c1")
    # several arms but no hold-out anywhere: the setting is suspect, not the data
    ab = _quiet(prepare_contacts, a.assign(arm=np.where(np.arange(len(a)) % 2, "A", "B")), outcome_source="columns")
    assert "no arm is named 'control'" in ab.control_problem and "control_arm=None" in ab.control_problem
    with pytest.raises(AnalysisError, match="no arm is named 'control'.*control_arm=None"):
        experiment_checks(ab)


def test_uplift_on_a_campaign_without_control_names_the_arms() -> None:
    a = _contacts(400)
    b = _contacts(300, seed=2).assign(campaign_id="vip", arm="treatment")
    b["customer_id"] = "V" + b["customer_id"]
    data = _quiet(prepare_contacts, pd.concat([a, b], ignore_index=True), outcome_source="columns")
    with pytest.raises(AnalysisError, match=r"campaign='vip' is observational: no arm is named 'control'; arms found: "
                                            r"'treatment' \(300\).*one of 'c1' with campaign="):  # fmt: skip
        uplift_section(data, customers=_features(b), campaign="vip")


def test_observational_truth_check_without_the_campaigns_truth() -> None:
    """Synthetic truth only covers the campaigns the generator made without control: no KeyError."""
    b = _contacts(300, seed=2).assign(campaign_id="vip", arm="treatment", contact_time=pd.Timestamp("2025-03-01"))
    orders = pd.DataFrame({"customer_id": b["customer_id"].iloc[:50], "order_id": [f"o{i}" for i in range(50)],
                           "order_time": pd.Timestamp("2025-01-15"), "amount": 10.0})  # fmt: skip
    customers = pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(600)]})
    data = _quiet(prepare_contacts, b, control_arm=None, outcome_source="columns")
    truth_summary = {"campaigns": {"vip": {"overall": {"att_conversion_true": 0.1}}}}
    obs = _quiet(observational_effects, data, orders=orders, customers=customers, truth_summary=truth_summary,
                 covariates=["pre_period_revenue", "n_orders"], bootstrap=50, random_state=0)  # fmt: skip
    assert list(obs.effects) == ["vip"]


# ---------------------------------------------------------------------------------------------
# 4. marketing consent
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _section():
    c = _contacts()
    data = _quiet(prepare_contacts, c, outcome_source="columns")
    feats = _features(c)
    return feats, _quiet(uplift_section, data, customers=feats, learner="logistic", bootstrap=0, random_state=0)


def _consent_values(n: int) -> pd.array:
    """Every fifth customer says no, every seventh (not a fifth) is unknown, the rest say yes."""
    i = np.arange(n)
    return pd.array(np.where(i % 5 == 0, False, np.where(i % 7 == 0, pd.NA, True)), dtype="boolean")


def test_targeting_list_leaves_out_customers_without_consent() -> None:
    feats, section = _section()
    candidates = feats.assign(marketing_consent=_consent_values(len(feats)))
    n_no = int((candidates["marketing_consent"] == False).sum())  # noqa: E712
    n_unknown = int(candidates["marketing_consent"].isna().sum())
    tl = _quiet(uplift.targeting_list, section.models, candidates, allow_raw_keys=True)
    t = tl.to_frame()
    refused = set(candidates.loc[candidates["marketing_consent"].eq(False).fillna(False), "customer_id"])
    assert not set(t["customer_id"]) & refused
    assert len(t) == len(feats) - n_no
    assert t["marketing_consent"].isna().sum() == n_unknown and t["marketing_consent"].dropna().all()
    assert (tl.n_no_consent, tl.n_consent_unknown) == (n_no, n_unknown)
    s = tl.summary().set_index("group")
    assert s.loc["excluded: no marketing consent", "customers"] == n_no
    assert s.loc["all", "customers"] == len(feats) - n_no
    m = tl.metrics()
    assert (m["n_excluded_no_consent"], m["n_consent_unknown"], m["require_consent"]) == (n_no, n_unknown, True)
    assert f"{n_no:,} customers without marketing consent were left out" in tl.finding()
    assert f"{n_unknown:,} with unknown consent (blank) are kept" in tl.finding()
    assert tl.plot() is not None
    plt.close("all")
    # require_consent=False keeps them, marked, and says so
    allowed = _quiet(uplift.targeting_list, section.models, candidates, allow_raw_keys=True, require_consent=False)
    assert len(allowed.to_frame()) == len(feats) and (allowed.to_frame()["marketing_consent"] == False).sum() == n_no  # noqa: E712
    assert "excluded: no marketing consent" not in set(allowed.summary()["group"])
    assert allowed.metrics()["n_no_consent_included"] == n_no and "require_consent=False" in allowed.finding()


def test_without_consent_column_nothing_changes_and_nothing_is_said() -> None:
    feats, section = _section()
    tl = _quiet(uplift.targeting_list, section.models, feats, allow_raw_keys=True)
    assert "marketing_consent" not in tl.to_frame().columns
    assert list(tl.summary()["group"]) == ["contact", "do not contact", "all"]
    assert not {"n_excluded_no_consent", "n_consent_unknown", "require_consent"} & set(tl.metrics())
    assert "consent" not in tl.finding().lower()
    assert consent_by_customer(feats) is None and consent_by_customer(None) is None


def test_nobody_with_consent_is_a_clear_error() -> None:
    feats, section = _section()
    with pytest.raises(AnalysisError, match=r"marketing_consent: all 800 candidates have no marketing consent.*"
                                            "require_consent=False"):  # fmt: skip
        uplift.targeting_list(section.models, feats.assign(marketing_consent=False), allow_raw_keys=True)


def test_section_reads_consent_as_read_most_restrictive_row_winning() -> None:
    feats, section = _section()
    ids = feats["customer_id"]
    # C00000 says yes in one row and no in another (cleaning could have kept either): no consent.
    # C00001 says "否" (no, as text); C00002 is blank; C00003 is not in the consent table at all.
    consent = pd.DataFrame({"customer_id": ["C00000", "C00000", "C00001", "C00002", *ids.iloc[4:]],
                            "marketing_consent": ["是", "否", "否", None, *["是"] * (len(ids) - 4)]})  # fmt: skip
    status = consent_by_customer(consent)
    assert status.loc["C00000"] == False and status.loc["C00001"] == False  # noqa: E712
    assert pd.isna(status.loc["C00002"])
    customers = feats.assign(marketing_consent=True)  # the cleaned table says yes for everyone
    tl = _quiet(targeting, section, customers=customers, as_of="2025-01-01", allow_raw_keys=True, consent=consent)
    t = tl.to_frame().set_index("customer_id")
    assert "C00000" not in t.index and "C00001" not in t.index
    assert pd.isna(t.loc["C00002", "marketing_consent"]) and pd.isna(t.loc["C00003", "marketing_consent"])
    assert (tl.n_no_consent, tl.n_consent_unknown) == (2, 2)
    # without a consent table the customers' own column is used
    own = _quiet(targeting, section, customers=customers, as_of="2025-01-01", allow_raw_keys=True)
    assert own.consent_tracked and own.n_no_consent == 0 and len(own.to_frame()) == len(feats)


def test_consent_is_not_a_default_uplift_feature() -> None:
    c = _contacts()
    feats = _features(c).assign(marketing_consent=_consent_values(len(c)))
    data = _quiet(uplift.uplift_data, c, feats)
    assert "marketing_consent" not in data.features and {"x1", "x2"} <= set(data.features)
    chosen = _quiet(uplift.uplift_data, c, feats, feature_columns=["x1", "marketing_consent"])
    assert "marketing_consent" in chosen.features  # asked for explicitly: used


def test_params_consent_and_control_arm_options() -> None:
    p = CampaignParams()
    assert p.require_consent is True and p.control_arm == "control"
    assert CampaignParams(control_arm=None, require_consent=False).control_arm is None
    text = params_hint("or require_consent=False", CampaignParams, "analyses.campaign")
    assert text.endswith("(params: analyses.campaign.require_consent)")


def test_wilson_interval_holds_the_estimate_at_zero_and_one_hundred_percent():
    import numpy as np

    from workbench.stats import wilson_interval

    n = np.arange(1, 3001)
    for k in (np.zeros_like(n), n):
        low, high = wilson_interval(k, n)
        p = k / n
        assert (low <= p).all() and (high >= p).all() and (low >= 0).all() and (high <= 1).all()
