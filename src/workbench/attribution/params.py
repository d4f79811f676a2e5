"""Params section ``analyses.attribution``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from workbench.core.params import AnalysisSection

__all__ = ["AttributionParams"]


class AttributionParams(AnalysisSection):
    """Options of the channel attribution analysis (``analyses.attribution``)."""

    enabled: bool = False

    sources: list[Literal["events", "campaign_contacts"]] | None = Field(
        None, description="where touchpoints come from; default: events with touch_events when present, "
        "else campaign_contacts",
    )
    touch_events: list[str] = Field(
        default_factory=lambda: ["ad_touch"], min_length=1,
        description="events.event_name values that are marketing touchpoints",
    )
    conversion_event: str | None = Field(
        None, description="an events.event_name that marks a conversion; default: purchase orders",
    )
    lookback_days: float = Field(30, gt=0, le=365, description="touches this long before a conversion count for it")
    period_days: int = Field(365, ge=7, le=3650, description="conversions in this many days before the data end")
    direct_channels: list[str] = Field(
        default_factory=lambda: ["direct"], description="channels that last non-direct touch skips",
    )
    half_life_days: float = Field(7, gt=0, le=365, description="time-decay model: a touch this much older counts half")
    position_weights: tuple[float, float, float] = Field(
        (0.4, 0.2, 0.4), description="position-based model: first, middle (shared), last; sum 1",
    )
    markov_orders: list[Annotated[int, Field(ge=1, le=3)]] = Field(
        default_factory=lambda: [1, 2, 3], min_length=1, description="Markov chain orders (1 to 3)",
    )
    shapley_max_exact: int = Field(12, ge=2, le=20, description="exact Shapley up to this many channels, sampled above")
    shapley_samples: int = Field(2000, ge=100, le=100_000, description="permutations sampled above shapley_max_exact")
    max_channels: int = Field(20, ge=2, le=200, description="rarer channel labels are lumped into 'other'")
    economics_model: Literal[
        "first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based",
        "markov_1", "markov_2", "markov_3", "shapley",
    ] = Field("markov_1", description="model behind the channel economics and the recommendation (a markov_k needs k "
              "in markov_orders)")  # fmt: skip
    margin: float = Field(0.3, gt=0, le=1, description="gross margin on revenue when orders have no margin column")
    bootstrap: int = Field(200, ge=0, le=5000, description="bootstrap resamples of customers for the intervals")
    confidence: float = Field(0.95, gt=0.5, lt=1, description="interval level")
    top_paths: int = Field(15, ge=3, le=100, description="paths shown in the top-paths table")
    region_column: str = Field("city", description="customers column for the region view")
    min_region_journeys: int = Field(30, ge=1, description="regions with fewer journeys are lumped into 'other'")

    @field_validator("position_weights")
    @classmethod
    def _weights_sum_to_one(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if min(v) < 0 or abs(sum(v) - 1) > 1e-6:
            raise ValueError(f"position_weights must be three non-negative shares summing to 1 (got {list(v)})")
        return v
