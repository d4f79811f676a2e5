"""Params of the CLV models (``analyses.segmentation.clv``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from workbench.core.params import StrictModel

__all__ = ["CLVParams"]


class CLVParams(StrictModel):
    """Customer lifetime value."""

    method: Literal["models", "simple"] = Field("models", description="clv_method: probabilistic models or the simple formula")
    model: Literal["bgnbd", "pareto_nbd"] = "bgnbd"
    time_unit: Literal["days", "weeks", "months"] = "weeks"
    horizon_months: float = Field(12, gt=0, description="CLV horizon")
    discount_rate: float = Field(0.10, ge=0, lt=1, description="annual discount rate")
    margin: float = Field(0.30, gt=0, le=1, description="gross margin on revenue (when orders have no margin)")
    calibration_end: dt.date | None = Field(None, description="end of the calibration period of the holdout check")
    expected_lifetime_years: float = Field(3.0, gt=0, description="simple formula: expected customer lifetime")
    acquisition_cost: float = Field(0.0, ge=0, description="simple formula: CAC per customer")
    acquisition_cost_by_channel: dict[str, float] = Field(default_factory=dict)
