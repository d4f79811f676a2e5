"""Protocol cases of ``workbench.campaign.uplift``: one small instance of each result, on a
hand-made randomized campaign of 800 customers with a planted uplift."""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from workbench.campaign import uplift


@lru_cache(maxsize=1)
def _campaign() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(1)
    n = 800
    ids = [f"C{i:05d}" for i in range(n)]
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    seg = rng.choice(["a", "b", "c"], size=n)
    treated = rng.random(n) < 0.5
    p = 1 / (1 + np.exp(-(-1.5 + 0.5 * x1 + treated * (0.3 + 0.6 * (x2 > 0)))))
    converted = rng.random(n) < p
    contacts = pd.DataFrame({
        "customer_id": ids, "campaign_id": "c1", "arm": np.where(treated, "treatment", "control"),
        "converted": converted, "revenue": np.where(converted, rng.gamma(2.0, 40.0, n), 0.0), "cost": 1.5,
    })  # fmt: skip
    features = pd.DataFrame({"customer_id": ids, "x1": x1, "x2": x2, "segment": seg})
    return contacts, features


@lru_cache(maxsize=1)
def _data() -> uplift.UpliftData:
    contacts, features = _campaign()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return uplift.uplift_data(contacts, features, treatment_arm="treatment", control_arm="control")


@lru_cache(maxsize=1)
def _models() -> uplift.UpliftModels:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return uplift.fit_uplift(_data(), learner="logistic", random_state=0)


def _evaluation() -> uplift.UpliftEvaluation:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return uplift.evaluate_uplift(_models(), bootstrap=20, bins=4, random_state=0)


def _targeting() -> uplift.TargetingList:
    return uplift.targeting_list(_models(), _campaign()[1], salt="protocol", model="x_learner")


CASES = {
    uplift.UpliftData: _data,
    uplift.UpliftModels: _models,
    uplift.UpliftEvaluation: _evaluation,
    uplift.TargetingList: _targeting,
}
