"""Protocol cases of ``workbench.value``: the fitted models, the honest checks and the CLV results."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from protocol_cases._data import AS_OF, small_base, table
from workbench.data.features import customer_features
from workbench.value import (
    BetaGeoModel,
    CLVResult,
    GammaGammaModel,
    HoldoutComparison,
    IndependenceCheck,
    ParetoNBDModel,
    SimpleCLVResult,
    TrackingCurve,
    customer_value,
    holdout_comparison,
    independence_check,
    rfm_summary,
    simple_clv_by_segment,
    simulate_gamma_gamma,
    simulate_pareto_nbd,
    tracking_curve,
)

CALIBRATION_END = "2025-03-31"


@lru_cache(maxsize=1)
def _summary() -> pd.DataFrame:
    return rfm_summary(table("orders"), calibration_end=CALIBRATION_END, observation_end=AS_OF)


@lru_cache(maxsize=1)
def _bg() -> BetaGeoModel:
    return BetaGeoModel().fit(_summary())


def _pareto() -> ParetoNBDModel:
    data = simulate_pareto_nbd(800, {"r": 0.55, "alpha": 10.6, "s": 0.6, "beta": 11.7}, T=39.0, random_state=1)
    return ParetoNBDModel().fit(data)


def _gamma_gamma() -> GammaGammaModel:
    freq = simulate_pareto_nbd(800, (0.55, 10.6, 0.6, 11.7), T=39.0, random_state=1)["frequency"].clip(lower=1)
    return GammaGammaModel().fit(simulate_gamma_gamma(800, (6.0, 3.5, 15.0), frequency=freq, random_state=2))


def _tracking() -> TrackingCurve:
    return tracking_curve(_bg(), table("orders"), calibration_end=CALIBRATION_END, observation_end=AS_OF)


def _holdout() -> HoldoutComparison:
    return holdout_comparison(_bg(), _summary(), tracking=_tracking())


def _clv() -> CLVResult:
    return customer_value(table("orders"), as_of=AS_OF, calibration_end=CALIBRATION_END, margin_col="margin")


def _simple() -> SimpleCLVResult:
    feats = customer_features(table("orders"), as_of=AS_OF, customers=small_base().tables["customers"])
    segments = pd.Series(["big" if n > 2 else "small" for n in feats["n_orders"]], index=feats["customer_id"])
    return simple_clv_by_segment(feats, segments, margin=0.3, expected_lifetime_years=3, discount_rate=0.1)


CASES = {
    BetaGeoModel: _bg,
    ParetoNBDModel: _pareto,
    GammaGammaModel: _gamma_gamma,
    IndependenceCheck: lambda: independence_check(_summary(), warn=False),
    HoldoutComparison: _holdout,
    TrackingCurve: _tracking,
    CLVResult: _clv,
    SimpleCLVResult: _simple,
}
