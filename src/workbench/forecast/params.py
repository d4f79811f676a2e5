"""Params section ``analyses.forecast``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from workbench.core.params import AnalysisSection, StrictModel

__all__ = ["ForecastParams", "ScenarioParams"]


class ScenarioParams(StrictModel):
    """What-if scenarios (``analyses.forecast.scenarios``): relative changes, 0.05 = +5 %."""

    retention: float = Field(0.05, ge=-0.9, le=5, description="existing customers' purchases up by this share")
    acquisition: float = Field(0.10, ge=-0.9, le=5, description="new customers up by this share")
    order_value: float = Field(0.0, ge=-0.9, le=5, description="value of every purchase changed by this share")


class ForecastParams(AnalysisSection):
    """Options of the sales forecast analysis (``analyses.forecast``)."""

    enabled: bool = False
    period: Literal["week", "month"] = Field("week", description="forecast by week or by calendar month")
    start: dt.date | None = Field(None, description="first day of the history (default: the first purchase); move it past a gap")
    horizon: int = Field(13, ge=1, le=104, description="periods ahead")
    model: Literal["bgnbd", "pareto_nbd"] = Field("bgnbd", description="purchase model of the existing customers")
    calendar: Literal["china", "none"] = Field(
        "china", description="china: Spring Festival, 618, 双11, 双12, national holidays and 调休 as regressors; none: yearly seasonality only"
    )
    fourier: int = Field(3, ge=0, le=10, description="pairs of yearly Fourier terms")
    n_draws: int = Field(500, ge=50, le=5000, description="draws behind the prediction intervals")
    backtest_periods: int = Field(13, ge=2, le=104, description="K: the last periods of the history forecast in the backtest")
    backtest_step: int = Field(4, ge=1, le=52, description="periods between backtest origins")
    group_by: str | None = Field(None, description="customers column to split the forecast by (e.g. acquisition_channel)")
    new_customers: bool = Field(True, description="add customers acquired after the origin")
    scenarios: ScenarioParams = Field(default_factory=ScenarioParams)
