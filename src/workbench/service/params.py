"""Params section ``analyses.service``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workbench.core.params import AnalysisSection, StrictModel

__all__ = ["ServiceParams", "PerformanceParams", "TextParams", "ServiceChurnParams", "MonitorParams", "RecoveryParams"]


class PerformanceParams(StrictModel):
    """Service levels (``analyses.service.performance``)."""

    fcr_days: int = Field(7, ge=1, le=90, description="first-contact resolution: no repeat on the same category within N days")
    sla_first_response_hours: float = Field(4.0, gt=0, description="first response later than this breaches the SLA")
    sla_resolution_hours: float = Field(48.0, gt=0, description="resolution later than this breaches the SLA")
    csat_good: float = Field(4, description="satisfaction at or above this counts as satisfied")
    max_levels: int = Field(30, ge=2, le=500, description="channels / categories beyond the most frequent: other")
    vital_share: float = Field(0.8, gt=0, lt=1, description="problem Pareto: the categories that make this share")


class TextParams(StrictModel):
    """Texts, topics and sentiment (``analyses.service.text``)."""

    enabled: bool = Field(True, description="read ticket and feedback text")
    n_topics: int = Field(8, ge=2, le=30, description="topics of the NMF topic model")
    max_features: int = Field(5000, ge=100, le=100_000, description="TF-IDF vocabulary size")
    min_df: int = Field(3, ge=1, description="a word must appear in this many texts")
    max_chars: int = Field(2000, ge=50, le=100_000, description="longer texts are cut")
    max_fit_rows: int = Field(200_000, ge=1000, description="topic model fitted on a sample of this many texts")
    neutral_band: float = Field(0.15, ge=0, lt=0.5, description="P(positive) within this of 0.5 is neutral")


class ServiceChurnParams(StrictModel):
    """Does service drive churn? (``analyses.service.churn``)."""

    enabled: bool = Field(True, description="needs the churn analysis' churn_frame artifact")
    lookback_days: int = Field(180, ge=7, le=3650, description="service history before as_of that counts")
    slow_response_hours: float = Field(4.0, gt=0, description="first response slower than this is slow")
    population: Literal["contacted", "all"] = Field(
        "contacted", description="contacted: customers with a ticket in the window; all: every customer"
    )
    value_column: str = Field("auto", description="value control and value at risk (auto: clv, else monetary_sum)")
    min_events: int = Field(10, ge=1, description="churners needed per model term")


class MonitorParams(StrictModel):
    """Weekly monitoring (``analyses.service.monitor``)."""

    window: int = Field(8, ge=3, le=52, description="trailing weeks the robust z compares with")
    threshold: float = Field(3.0, gt=0, description="alert at this robust z")
    min_count: int = Field(5, ge=1, description="and at least this many texts of the series that week")
    min_texts: int = Field(20, ge=1, description="weeks with fewer texts are not scored")
    last_weeks: int | None = Field(104, ge=4, description="only the latest weeks (null: all)")


class RecoveryParams(StrictModel):
    """The service-recovery list (``analyses.service.recovery``)."""

    top_n: int | None = Field(500, ge=1, description="at most this many customers (null: all)")


class ServiceParams(AnalysisSection):
    """Options of the service and voice of the customer analysis (``analyses.service``)."""

    enabled: bool = False
    performance: PerformanceParams = Field(default_factory=PerformanceParams)
    text: TextParams = Field(default_factory=TextParams)
    churn: ServiceChurnParams = Field(default_factory=ServiceChurnParams)
    monitor: MonitorParams = Field(default_factory=MonitorParams)
    recovery: RecoveryParams = Field(default_factory=RecoveryParams)
    nps_min_group: int = Field(30, ge=1, description="NPS by channel: channels with fewer answers are left out")
