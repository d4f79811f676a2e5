"""Params section ``analyses.campaign``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from workbench.campaign.funnel import steps_problem
from workbench.campaign.kpi import KPI_DEFINITIONS
from workbench.core.errors import did_you_mean
from workbench.core.params import AnalysisSection, StrictModel

__all__ = ["CampaignExperimentParams", "UpliftParams", "FunnelParams", "CampaignParams"]


def _kpi_name(name: str) -> str:
    """A key of ``targets`` must be a KPI of :data:`workbench.campaign.kpi.KPI_DEFINITIONS`."""
    if name not in KPI_DEFINITIONS:
        raise ValueError(f"unknown KPI {name!r}{did_you_mean(name, KPI_DEFINITIONS)}; KPIs: {', '.join(KPI_DEFINITIONS)}")
    return name


KPIName = Annotated[str, AfterValidator(_kpi_name)]


class CampaignExperimentParams(StrictModel):
    """Experiment statistics (``analyses.campaign.experiment``)."""

    planned_split: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="campaign -> arm -> planned share; default equal shares"
    )
    srm_alpha: float = Field(0.001, gt=0, lt=1, description="sample-ratio mismatch test level")
    alpha: float = Field(0.05, gt=0, lt=1)
    metrics: list[str] = Field(
        default_factory=lambda: ["visited", "converted", "revenue"],
        description="outcome columns compared between arms (missing ones are skipped)",
    )
    revenue_method: Literal["welch", "bootstrap", "mann_whitney"] = Field(
        "welch", description="test for revenue-like metrics"
    )
    bootstrap: int = Field(2000, ge=100, le=50_000)
    cuped_covariate: str | None = Field("pre_period_revenue", description="pre-period covariate for CUPED")
    balance_covariates: list[str] | None = Field(None, description="covariates for the balance check")
    heterogeneity_by: list[str] = Field(
        default_factory=lambda: ["cluster_name"],
        description="columns (contacts, customers or segmentation artifacts) for effects by subgroup",
    )
    power: float = Field(0.8, gt=0, lt=1, description="planning: power wanted")
    target_lift: float = Field(0.10, gt=0, description="planning: relative lift to detect")
    observational_covariates: list[str] = Field(
        default_factory=lambda: ["pre_period_revenue", "n_orders", "recency_days", "tenure_days"],
        description="campaigns without control: pre-contact covariates of the propensity model",
    )
    ipw_estimand: Literal["ATT", "ATE"] = Field("ATT", description="campaigns without control: headline estimate")
    ipw_trim: float = Field(0.01, ge=0, lt=0.5, description="drop rows with propensity outside [trim, 1 - trim]")
    ipw_bootstrap: int = Field(500, ge=50, le=20_000, description="bootstrap resamples of the IPW interval")


class UpliftParams(StrictModel):
    """Uplift models and the targeting list (``analyses.campaign.uplift``)."""

    enabled: bool = True
    campaign: str | None = Field(None, description="randomized campaign to learn from; default the largest")
    treatment_arm: str | None = Field(None, description="arm compared with control; default the largest")
    outcome: str = Field("converted", description="outcome column")
    features: list[str] | None = Field(None, description="customer features; default: every usable one")
    learner: Literal["hgb", "logistic"] = "hgb"
    test_size: float = Field(0.3, gt=0.05, lt=0.6)
    value_per_conversion: float | None = Field(
        None, gt=0, description="value of one conversion; default: margin x mean revenue of a treated converter"
    )
    contact_cost: float | None = Field(None, ge=0, description="default: the campaign's cost per contact")
    max_rows: int = Field(
        200_000, ge=1_000, description="fit on a seeded stratified subsample of this many contacts above it"
    )
    propensity: Literal["observed", "estimated"] | float = Field(
        "observed", description="X-learner treated share: observed share, estimated, or the planned share"
    )
    bootstrap: int = Field(200, ge=0, le=5_000, description="resamples for the Qini coefficient interval")
    targeting_model: Literal["t_learner", "x_learner"] = Field(
        "x_learner", description="model that ranks the targeting list"
    )


class FunnelParams(StrictModel):
    """Event funnel (``analyses.campaign.funnel``)."""

    steps: list[str] = Field(
        default_factory=lambda: ["exposure", "visit", "add_to_cart", "checkout", "order"],
        description="event names in order",
    )
    unit: Literal["session", "customer"] = Field("session", description="what passes through the funnel")
    by: list[str] = Field(default_factory=lambda: ["channel"], description="break the funnel down by")
    max_step_hours: float | None = Field(None, gt=0, description="a step later than this does not count")

    @field_validator("steps")
    @classmethod
    def _distinct_steps(cls, v: list[str]) -> list[str]:
        problem = steps_problem(v)
        if problem:
            raise ValueError(problem)
        return v


class CampaignParams(AnalysisSection):
    """Campaign evaluation (``analyses.campaign``)."""

    enabled: bool = False
    campaigns: list[str] | None = Field(None, description="campaign ids to evaluate; default all")
    control_arm: str | None = Field(
        "control", description="name of the hold-out arm in every campaign; null when no campaign has one"
    )
    require_consent: bool = Field(
        True,
        description="customers whose customers.marketing_consent is false never enter a targeting list "
        "(blank = unknown: kept and counted)",
    )
    attribution_window_days: int = Field(14, ge=1, le=365, description="orders this long after contact count")
    credit_rule: Literal["last_touch", "fractional", "every"] = Field(
        "last_touch",
        description="an order in the windows of several contacts of its customer: all to the latest contact "
        "(last_touch), an equal share to each (fractional), or all to each (every: the old double count)",
    )
    outcome_source: Literal["auto", "columns", "orders"] = Field(
        "auto", description="auto: outcome columns when present, else attributed from orders"
    )
    targets: dict[KPIName, float] = Field(
        default_factory=dict, description="KPI -> target, e.g. conversion_rate: 0.05, roi: 1.0"
    )
    engagement_weights: dict[str, float] = Field(
        default_factory=lambda: {"opened": 1.0, "clicked": 2.0, "visited": 3.0, "converted": 5.0},
        description="engagement score = weighted sum of these flags per contact",
    )
    margin: float = Field(0.3, gt=0, le=1, description="gross margin on attributed revenue (for ROI)")
    min_cost_share: float = Field(
        0.01, ge=0, lt=1,
        description="a cost under this share of the revenue it is set against (attributed revenue in the KPI table, "
        "incremental revenue in the incremental return) is negligible: ROI, cost per acquisition and their gap to "
        "target are shown as '–', like a cost that is not tracked; 0 shows them for every positive cost",
    )
    experiment: CampaignExperimentParams = Field(default_factory=CampaignExperimentParams)
    uplift: UpliftParams = Field(default_factory=UpliftParams)
    funnel: FunnelParams = Field(default_factory=FunnelParams)
