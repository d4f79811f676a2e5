"""The shared propensity scorer (workbench.modeling.propensity): known answers on simulated data,
one copy for churn and cross_sell, the words of each analysis in its messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.churn.model import ChurnScorer
from workbench.core.errors import AnalysisError
from workbench.cross_sell.propensity import PropensityScorerXS
from workbench.modeling import propensity as P


def _frame(n: int, seed: int, beta: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-1.5 + beta * x1)))
    return pd.DataFrame({"customer_id": np.arange(n), "x1": x1, "x2": x2, "y": (rng.random(n) < p).astype(int)})


def test_out_of_time_fit_recovers_the_planted_effect():
    train, test = _frame(4000, 1), _frame(3000, 2)
    spec = P.Features(label="y", id_column="customer_id", numeric=("x1", "x2"))
    s = P.PropensityScorer(calibrate="never").fit(train, spec=spec, test=test)
    assert s.split_["kind"] == "out_of_time"
    odds = P.odds_table(s).set_index("term")
    # one SD of x1 (about 1) multiplies the odds by e^1 = 2.72
    assert odds.loc["x1", "ci_low"] < np.e < odds.loc["x1", "ci_high"]
    assert odds.loc["x2", "ci_low"] < 1 < odds.loc["x2", "ci_high"]
    ev = P.evaluate_scorer(s, bootstrap=100, importance_repeats=2)
    # the true model's AUC on the same rows is the ceiling
    true_auc = P.auc_binary(test["y"].to_numpy(), test["x1"].to_numpy())
    auc = ev.table.set_index("model").loc["logistic", "roc_auc"]
    assert auc == pytest.approx(true_auc, abs=0.005)
    d = P.auc_difference(s.y_test_, s.predict_design(s.X_test_), test["x2"].to_numpy(), bootstrap=200)
    assert d["diff_low"] > 0.15  # x1 against the noise column


def test_lift_table_and_auc_difference_by_hand():
    t = P.lift_table([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0], bins=5)
    assert t["positives"].tolist() == [2, 1, 0, 0, 0]
    assert t["cum_positives_share"].iloc[1] == pytest.approx(1.0)
    d = P.auc_difference(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]), np.array([0.9, 0.1, 0.8, 0.2]), bootstrap=0)
    assert (d["auc"], d["auc_baseline"], d["diff"]) == (1.0, 0.0, 1.0)


def test_one_copy_for_churn_and_cross_sell():
    for cls in (ChurnScorer, PropensityScorerXS):
        assert issubclass(cls, P.PropensityScorer)
        assert cls.fit is P.PropensityScorer.fit and cls.predict_proba is P.PropensityScorer.predict_proba


def test_each_analysis_speaks_its_own_words():
    fr = _frame(400, 3).assign(y=0)
    spec = P.Features(label="y", id_column="customer_id", numeric=("x1",))
    with pytest.raises(AnalysisError, match=r"churn training frame: all 400 rows are non-churners"):
        ChurnScorer().fit(fr, spec=spec)
    with pytest.raises(AnalysisError, match=r"propensity training frame: all 400 rows are non-buyers.*propensity\.target="):
        PropensityScorerXS().fit(fr, spec=spec)


def test_permutation_drops_on_the_design_are_scikit_learns_on_the_raw_frame():
    """The design-space shortcut (encode once, shuffle design columns by feature) gives exactly
    scikit-learn's permutation_importance on the raw frame with the design inside the model,
    for a numeric feature with a missing-indicator and a categorical one with three dummies."""
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.inspection import permutation_importance

    from workbench.modeling.propensity.evaluate import permutation_auc_drops

    rng = np.random.default_rng(5)
    train, test = _frame(3000, 3), _frame(800, 4)
    for fr in (train, test):
        fr["plan"] = rng.choice(["a", "b", "c", "d"], size=len(fr))
        fr.loc[fr.index[::7], "x2"] = np.nan
        fr["y"] = np.where(fr["plan"] == "d", 1, fr["y"])
    spec = P.Features(label="y", id_column="customer_id", numeric=("x1", "x2"), categorical=("plan",))
    s = P.PropensityScorer(calibrate="never").fit(train, spec=spec, test=test)
    X = test[list(spec.features)].reset_index(drop=True)
    y = test["y"].to_numpy()

    class OnRawFrame(ClassifierMixin, BaseEstimator):
        def __init__(self, design=None, model=None):
            self.design, self.model = design, model

        def fit(self, X, y=None):  # pragma: no cover - never refitted
            return self

        def __sklearn_is_fitted__(self):
            return True

        def predict_proba(self, X):
            return self.model.predict_proba(self.design.transform(X, warn_unseen=False))

    assert len([g for g in s.design_.groups if g == "plan"]) == 3 and "x2 (missing)" in s.design_.columns
    for m in P.MODEL_NAMES:
        wrapped = OnRawFrame(s.design_, s.models_[m])
        wrapped.classes_ = np.array([0, 1])
        want = permutation_importance(wrapped, X, y, scoring="roc_auc", n_repeats=3, random_state=11)
        got = permutation_auc_drops(s.models_[m], s.design_.transform(X), y, groups=s.design_.groups,
                                    features=spec.features, n_repeats=3, random_state=11)  # fmt: skip
        np.testing.assert_allclose(got, want.importances, rtol=0, atol=1e-15)
        assert got[list(spec.features).index("plan")].mean() > 0.05  # the planted level matters
