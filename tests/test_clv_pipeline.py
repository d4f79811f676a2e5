"""customer_value: the one call the segmentation notebook makes, on data with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.synth import simulate as synth
from workbench.value.clv import customer_value, value_potential_grid
from workbench.value.params import CLVParams


@pytest.fixture(scope="module")
def orders():
    return synth.generate(2000, seed=11).orders


def test_models_with_holdout(orders):
    res = customer_value(orders, as_of="2025-09-30", margin_col="margin",
                         **CLVParams(calibration_end="2025-03-31").model_dump())
    c = res.to_frame()
    assert c["customer_id"].is_unique and (c["clv"] >= 0).all()
    assert c["probability_alive"].between(0, 1).all()
    # the margin share is read from the orders (synth margin is about 30 % of amount)
    assert 0.2 < res.margin < 0.45
    # the honest check: calibration-period fit predicts the holdout's total repeat purchases
    m = res.holdout.metrics()
    assert m["predicted_total"] == pytest.approx(m["actual_total"], rel=0.25)
    assert {"BG/NBD", "Gamma-Gamma"} == set(res.summary()["model"])
    assert "holdout" in res.holdout_finding()


def test_simple_method(orders):
    res = customer_value(orders, as_of="2025-09-30", **CLVParams(method="simple", acquisition_cost=10.0).model_dump())
    c = res.to_frame()
    assert res.method == "simple" and np.isfinite(c["clv"]).all()
    assert (c.loc[c["n_orders"] == 0, "clv"] == -10.0).all()
    s = res.per_customer()  # the series value_potential_grid takes
    assert s.name == "clv" and s.index.name == "customer_id" and s.index.is_unique
    assert s.to_numpy().tolist() == c["clv"].tolist() and s.index.tolist() == c["customer_id"].tolist()


def test_value_potential_grid_hand_case():
    current = pd.Series(["A", "B", "C", "C"], index=["a", "b", "c", "d"])
    future = pd.Series([10.0, 80.0, 5.0, 5.0], index=["a", "b", "c", "d"])
    # sorted b 80, a 10, c 5, d 5 (total 100); value share before each: b 0 -> A, a 0.8 -> B,
    # c and d are tied: both take the share before their block (0.9) -> B
    grid = value_potential_grid(current, future, cuts=(0.8, 0.95))
    assert grid.loc["A", "B"] == 1 and grid.loc["B", "A"] == 1 and grid.loc["C", "B"] == 2
    assert grid.to_numpy().sum() == 4
