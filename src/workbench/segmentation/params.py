"""Params section ``analyses.segmentation``."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from workbench.core.params import AnalysisSection, StrictModel
from workbench.value.params import CLVParams

__all__ = ["ABCParams", "RFMParams", "ClusteringParams", "SegmentationParams"]


class ABCParams(StrictModel):
    """ABC / Pareto value classes."""

    measure: Literal["revenue", "margin", "orders"] = Field("revenue", description="what value is")
    cuts: list[float] = Field(
        default_factory=lambda: [0.80, 0.95],
        description="cumulative value shares closing class A and B (C is the rest)",
    )

    @field_validator("cuts")
    @classmethod
    def _cuts(cls, v: list[float]) -> list[float]:
        if not v or any(not 0 < c < 1 for c in v) or any(b <= a for a, b in zip(v, v[1:], strict=False)):
            raise ValueError("cuts must be increasing shares strictly between 0 and 1, e.g. [0.8, 0.95]")
        return v


class RFMParams(StrictModel):
    """RFM scores and named segments."""

    method: Literal["quantile", "thresholds"] = "quantile"
    bins: int = Field(5, ge=2, le=10)
    recency_thresholds: list[float] | None = Field(None, description="days; with method: thresholds")
    frequency_thresholds: list[float] | None = Field(None, description="orders; with method: thresholds")
    monetary_thresholds: list[float] | None = Field(None, description="spend; with method: thresholds")
    segment_map: dict[str, str] | None = Field(
        None, description='segment name -> rule on r and f scores, e.g. "r >= 4 and f >= 4"; default: the usual 11'
    )
    migration_from: dt.date | None = Field(None, description="earlier as-of date for the migration matrix")


class ClusteringParams(StrictModel):
    """Clustering of customers on their features."""

    features: list[str] = Field(
        default_factory=lambda: ["recency_days", "n_orders", "monetary_mean"]
    )
    log_transform: Literal["auto", "none", "all"] = Field("auto", description="auto: log1p skewed non-negative features")
    methods: list[Literal["kmeans", "gmm"]] = Field(default_factory=lambda: ["kmeans", "gmm"])
    k_min: int = Field(2, ge=2)
    k_max: int = Field(8, ge=2, le=30)
    k: int | None = Field(None, ge=2, description="fix k instead of choosing by silhouette/BIC")
    silhouette_sample: int = Field(10_000, ge=500)
    bootstrap: int = Field(20, ge=0, le=500, description="bootstrap resamples for stability (ARI)")


class SegmentationParams(AnalysisSection):
    """Segmentation and customer value (notebook 02)."""

    enabled: bool = False
    abc: ABCParams = Field(default_factory=ABCParams)
    rfm: RFMParams = Field(default_factory=RFMParams)
    clustering: ClusteringParams = Field(default_factory=ClusteringParams)
    clv: CLVParams = Field(default_factory=CLVParams)
    tags: dict[str, str] = Field(
        default_factory=dict,
        description='tag name -> rule on the tag table, e.g. high_value: "monetary_sum > 5000"',
    )
