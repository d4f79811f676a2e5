"""Protocol cases of the churn model (``workbench.churn.model``): a 600-customer hand-made frame
whose churn follows a known logistic model, fitted once."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from workbench.churn import model as cm


@lru_cache(maxsize=1)
def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    tenure = rng.integers(1, 72, n).astype(float)
    monthly = rng.uniform(20, 110, n).round(2)
    plan = rng.choice(["Month-to-month", "One year", "Two year"], n, p=[0.5, 0.3, 0.2])
    member = rng.random(n) < 0.4
    logit = -0.5 - 0.04 * tenure + 0.015 * monthly + np.where(plan == "Month-to-month", 1.0, -0.5) - 0.4 * member
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    tenure[:5] = np.nan
    return pd.DataFrame({"customer_id": [f"c{i:04d}" for i in range(n)], "churned": churned.astype(int),
                         "tenure_months": tenure, "monthly_charges": monthly, "plan": plan, "is_member": member})


@lru_cache(maxsize=1)
def _models() -> cm.ChurnModels:
    frame = _frame()
    spec = cm.prepare_features(frame)
    return cm.fit_churn_models(frame, spec=spec, test_size=0.3, calibrate="always", random_state=0)


def feature_spec() -> cm.FeatureSpec:
    return cm.prepare_features(_frame())


def churn_models() -> cm.ChurnModels:
    return _models()


def churn_evaluation() -> cm.ChurnEvaluation:
    return cm.evaluate_churn_models(_models(), bootstrap=20, importance_repeats=2, random_state=0)


def retention_list() -> cm.RetentionList:
    frame = _frame()
    scores = cm.churn_reasons(_models(), frame, n=2)
    return cm.retention_list(scores, value="monthly_charges * 12", customers=frame, save_rate=0.2, contact_cost=5,
                             salt="protocol", segments="plan", top_n=100)


CASES = {
    cm.FeatureSpec: feature_spec,
    cm.ChurnModels: churn_models,
    cm.ChurnEvaluation: churn_evaluation,
    cm.RetentionList: retention_list,
}
