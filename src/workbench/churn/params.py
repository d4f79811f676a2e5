"""Params section ``analyses.churn``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workbench.core.params import AnalysisSection, StrictModel

__all__ = ["ChurnLabelParams", "UnhappyChurnParams", "ChurnModelParams", "RetentionParams", "ChurnParams"]


class ChurnLabelParams(StrictModel):
    """How churn is defined (``analyses.churn.label``)."""

    kind: Literal["contractual", "non_contractual"] = Field(
        "non_contractual",
        description="contractual: churn flag / end date in customers; non_contractual: inferred from orders",
    )
    definition: Literal["inactivity", "p_alive"] = Field(
        "inactivity",
        description="non_contractual: no purchase in inactivity_days after as_of, or P(alive) < p_alive_threshold",
    )
    inactivity_days: int = Field(90, ge=1, le=3650, description="non_contractual: window after as_of")
    p_alive_threshold: float = Field(0.5, gt=0, lt=1, description="definition p_alive: churned below this")
    flag_column: str = Field("churned", description="contractual: 0/1 or yes/no churn column in customers")
    end_date_column: str | None = Field(
        "churn_date", description="contractual: date the customer left (optional; gives survival times)"
    )
    tenure_column: str | None = Field(
        "tenure_months", description="contractual: tenure in months when there are no dates (e.g. Telco)"
    )


class UnhappyChurnParams(StrictModel):
    """Happy vs unhappy churn (``analyses.churn.unhappy``)."""

    lookback_days: int = Field(90, ge=1, description="service history before leaving that counts")
    csat_max: float = Field(2, description="satisfaction at or below this is a bad experience")
    slow_response_hours: float = Field(24, gt=0, description="first response slower than this is bad")
    spend_drop: float = Field(
        0.5, gt=0, le=1, description="spend fell by at least this share (last vs previous half-year): drifting"
    )


class ChurnModelParams(StrictModel):
    """Churn prediction (``analyses.churn.model``)."""

    features: list[str] | None = Field(None, description="feature columns; default: every usable one")
    exclude: list[str] = Field(
        default_factory=lambda: ["cohort"],
        description="columns never used as features (cohort: sign-up months of the test period are unseen in training)",
    )
    test_size: float = Field(0.25, gt=0.05, lt=0.6, description="held-out share (snapshot data)")
    logistic_C: float = Field(1.0, gt=0, description="inverse L2 strength of the logistic regression")
    calibrate: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: isotonic calibration when the calibration test fails"
    )
    bootstrap: int = Field(500, ge=0, le=5000, description="resamples for the AUC interval")
    max_rows: int = Field(200_000, ge=1000, description="subsample larger training sets (stated in report)")
    n_reasons: int = Field(3, ge=1, le=10, description="reasons listed per customer")
    leakage_auc: float = Field(0.98, gt=0.5, le=1, description="a single feature with AUC above this is a leak")
    max_corr: float = Field(0.99, gt=0.5, le=1, description="numeric twins correlated above this: keep the first")
    importance_sample: int = Field(10_000, ge=500, description="held-out rows for permutation importance")
    importance_repeats: int = Field(3, ge=1, le=50, description="shuffles per feature (permutation importance)")


class RetentionParams(StrictModel):
    """The retention list (``analyses.churn.retention``)."""

    save_rate: float = Field(0.2, gt=0, le=1, description="assumed share of contacted churners saved")
    contact_cost: float = Field(5.0, ge=0, description="cost per contact, in currency")
    value_source: Literal["auto", "clv", "formula"] = Field(
        "auto", description="auto: CLV from the segmentation artifacts when present, else value_formula"
    )
    value_formula: str = Field(
        "monetary_sum", description="pandas expression over customer columns giving value at risk"
    )
    top_n: int | None = Field(None, ge=1, description="cap the list length (default: all worth contacting)")
    segment_column: str | None = Field(
        None, description="segment of the list and of value at risk; default the first of cluster_name, rfm_segment, abc_class, plan, member_level"
    )


class ChurnParams(AnalysisSection):
    """Churn analysis (``analyses.churn``)."""

    enabled: bool = False
    label: ChurnLabelParams = Field(default_factory=ChurnLabelParams)
    group_by: list[str] = Field(
        default_factory=lambda: ["acquisition_channel", "member_level", "plan"],
        description="columns for churn rates by group (missing ones are skipped)",
    )
    survival_group: str | None = Field("acquisition_channel", description="Kaplan-Meier curves by this column")
    cox_covariates: list[str] | None = Field(None, description="Cox covariates; default: the drivers")
    cox_strata: str | None = Field(None, description="stratify the Cox baseline hazard by this column")
    drivers: list[str] | None = Field(None, description="columns for univariate drivers; default: all usable")
    numeric_bins: int = Field(5, ge=2, le=20, description="quantile bins of numeric drivers")
    max_levels: int = Field(30, ge=2, description="categorical columns with more levels are not used")
    min_events: int = Field(10, ge=1, description="events per covariate the Cox model needs")
    cox_max_rows: int | None = Field(50_000, ge=1000, description="Cox fit on a seeded sample this large (null: all)")
    cox_reference: dict[str, str] = Field(
        default_factory=dict, description="column -> reference level of Cox hazard ratios (default: most common)"
    )
    cox_scale: dict[str, float] = Field(
        default_factory=dict, description="column -> unit of its hazard ratio, e.g. age_at_signup: 10 (per 10 years)"
    )
    controllable: list[str] | None = Field(
        None, description="driver columns the business can act on; default: all but demographics (gender, age, ...)"
    )
    unhappy: UnhappyChurnParams = Field(default_factory=UnhappyChurnParams)
    model: ChurnModelParams = Field(default_factory=ChurnModelParams)
    retention: RetentionParams = Field(default_factory=RetentionParams)
