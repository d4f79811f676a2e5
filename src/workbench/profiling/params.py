"""Params section ``analyses.data_profiling``."""

from __future__ import annotations

from pydantic import Field

from workbench.core.params import AnalysisSection

__all__ = ["ProfilingParams"]


class ProfilingParams(AnalysisSection):
    """Thresholds of the data-profiling analysis (alerts follow ydata-profiling's defaults)."""

    enabled: bool = True
    top_n: int = Field(10, ge=1, le=100)
    high_cardinality_threshold: int = Field(50, ge=2)
    high_correlation_threshold: float = Field(0.9, gt=0, le=1)
    skewness_threshold: float = Field(20.0, gt=0)
    imbalance_threshold: float = Field(0.5, gt=0, le=1)
    missing_threshold: float = Field(0.05, ge=0, le=1, description="share missing that raises an alert")
    zeros_threshold: float = Field(0.1, ge=0, le=1)
    rare_level_share: float = Field(0.01, gt=0, lt=1)
    outlier_iqr_k: float = Field(3.0, gt=0)
    spike_z: float = Field(4.0, gt=0, description="robust z of a day's row count that marks a spike")
    correlation_sample: int = Field(200_000, ge=1000)
