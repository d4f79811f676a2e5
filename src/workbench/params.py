"""Params: one YAML file per dataset, typed and validated before anything runs.

Nothing else in the package reads YAML. Relative paths in a params file are resolved against the
folder of that file, so the same file works from the project root, from ``notebooks/`` in
JupyterLab, and from papermill.

Errors name the key path, what was expected and what was found; unknown keys get a did-you-mean.
"""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.contract import DEFAULT_PLACEHOLDERS, TABLES
from workbench.errors import ParamsError

__all__ = [
    "Params",
    "TableSource",
    "IntakeParams",
    "CleaningParams",
    "PrivacyParams",
    "ProfilingParams",
    "AnalysesParams",
    "SegmentationParams",
    "ABCParams",
    "RFMParams",
    "ClusteringParams",
    "CLVParams",
    "load_params",
    "params_from_dict",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class TableSource(_Model):
    """Where one contract table comes from and how its headers map onto the contract."""

    path: Path = Field(description="file (CSV, Excel, Parquet) or DuckDB database")
    format: Literal["auto", "csv", "excel", "parquet", "duckdb"] = "auto"
    encoding: Literal["auto", "utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "latin-1"] = "auto"
    sep: str = Field(",", description='CSV delimiter; "whitespace" for space-separated logs')
    header: bool = Field(True, description="first row holds the headers")
    column_names: list[str] | None = Field(None, description="headers to use when header: false")
    sheet: str | int | None = Field(None, description="Excel sheet name or index (default: first)")
    table: str | None = Field(None, description="table or view name in a DuckDB database")
    columns: dict[str, str] = Field(description="canonical column -> header in your file")
    constants: dict[str, Any] = Field(default_factory=dict, description="canonical column -> constant")
    date_format: str | None = Field(None, description="strftime format tried before auto-detection")
    true_values: list[str] | None = None
    false_values: list[str] | None = None
    keep_extra_columns: bool = True

    @field_validator("sep")
    @classmethod
    def _sep(cls, v: str) -> str:
        if v not in {"whitespace", "\t", ",", ";", "|"} and len(v) != 1:
            raise ValueError('sep must be one character or "whitespace"')
        return v


class IntakeParams(_Model):
    """How raw values are read."""

    placeholders: list[str] = Field(default_factory=lambda: list(DEFAULT_PLACEHOLDERS))
    extra_placeholders: list[str] = Field(default_factory=list, description="added to placeholders")
    max_unparseable_share: float = Field(0.01, ge=0, le=1)


class CleaningParams(_Model):
    """Cleaning rules; each is applied and logged with the rows it touched."""

    drop_exact_duplicates: bool = True
    duplicate_keys: Literal["keep_first", "keep_last", "flag", "error"] = "keep_last"
    orphan_orders: Literal["drop", "flag", "keep"] = "flag"
    negative_amounts: Literal["refund", "drop", "keep"] = Field(
        "refund", description="negative amount lines: treat as refunds, drop, or keep as they are"
    )
    future_dates: Literal["drop", "flag", "keep"] = "drop"
    prelaunch_dates: Literal["drop", "flag", "keep"] = "drop"
    extreme_spenders: Literal["flag", "drop", "cap", "keep"] = "flag"
    extreme_spender_mad_z: float = Field(
        4.5, gt=0, description="robust z (median/MAD) of log total spend above which a customer is extreme"
    )
    missing_required: Literal["drop", "keep"] = "drop"
    impute: dict[str, Literal["median", "mode", "unknown", "zero"]] = Field(
        default_factory=dict, description='"table.column" -> imputation rule'
    )


class PrivacyParams(_Model):
    """What personal data may leave the workbench."""

    allow_personal_data: bool = Field(False, description="show names/phones/e-mails raw in reports")
    allow_raw_keys: bool = Field(False, description="export raw customer keys instead of pseudonyms")
    salt: str = Field("crm-workbench", description="secret mixed into pseudonymized keys; set your own")


class ProfilingParams(_Model):
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


class ABCParams(_Model):
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


class RFMParams(_Model):
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


class ClusteringParams(_Model):
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


class CLVParams(_Model):
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


class SegmentationParams(_Model):
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


class ChurnLabelParams(_Model):
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


class UnhappyChurnParams(_Model):
    """Happy vs unhappy churn (``analyses.churn.unhappy``)."""

    lookback_days: int = Field(90, ge=1, description="service history before leaving that counts")
    csat_max: float = Field(2, description="satisfaction at or below this is a bad experience")
    slow_response_hours: float = Field(24, gt=0, description="first response slower than this is bad")
    spend_drop: float = Field(
        0.5, gt=0, le=1, description="spend fell by at least this share (last vs previous half-year): drifting"
    )


class ChurnModelParams(_Model):
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


class RetentionParams(_Model):
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
        None, description="segment of the list and of value at risk; default the first of cluster_name, abc_class"
    )


class ChurnParams(_Model):
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


class CampaignExperimentParams(_Model):
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


class UpliftParams(_Model):
    """Uplift models and the targeting list (``analyses.campaign.uplift``)."""

    enabled: bool = True
    campaign: str | None = Field(None, description="randomized campaign to learn from; default the largest")
    treatment_arm: str | None = Field(None, description="arm compared with control; default the largest")
    outcome: str = Field("converted", description="outcome column")
    features: list[str] | None = Field(None, description="customer features; default: every usable one")
    learner: Literal["hgb", "logistic"] = "hgb"
    test_size: float = Field(0.3, gt=0.05, lt=0.6)
    value_per_conversion: float | None = Field(None, description="default: mean revenue per conversion")
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


class FunnelParams(_Model):
    """Event funnel (``analyses.campaign.funnel``)."""

    steps: list[str] = Field(
        default_factory=lambda: ["exposure", "visit", "add_to_cart", "checkout", "order"],
        description="event names in order",
    )
    unit: Literal["session", "customer"] = Field("session", description="what passes through the funnel")
    by: list[str] = Field(default_factory=lambda: ["channel"], description="break the funnel down by")
    max_step_hours: float | None = Field(None, gt=0, description="a step later than this does not count")


class CampaignParams(_Model):
    """Campaign evaluation (``analyses.campaign``)."""

    enabled: bool = False
    campaigns: list[str] | None = Field(None, description="campaign ids to evaluate; default all")
    control_arm: str = Field("control", description="name of the hold-out arm")
    attribution_window_days: int = Field(14, ge=1, le=365, description="orders this long after contact count")
    outcome_source: Literal["auto", "columns", "orders"] = Field(
        "auto", description="auto: outcome columns when present, else attributed from orders"
    )
    targets: dict[str, float] = Field(
        default_factory=dict, description="KPI -> target, e.g. conversion_rate: 0.05, roi: 1.0"
    )
    engagement_weights: dict[str, float] = Field(
        default_factory=lambda: {"opened": 1.0, "clicked": 2.0, "visited": 3.0, "converted": 5.0},
        description="engagement score = weighted sum of these flags per contact",
    )
    margin: float = Field(0.3, gt=0, le=1, description="gross margin on attributed revenue (for ROI)")
    experiment: CampaignExperimentParams = Field(default_factory=CampaignExperimentParams)
    uplift: UpliftParams = Field(default_factory=UpliftParams)
    funnel: FunnelParams = Field(default_factory=FunnelParams)


class AnalysesParams(_Model):
    """Which analyses run (and their options)."""

    data_profiling: ProfilingParams = Field(default_factory=ProfilingParams)
    segmentation: SegmentationParams = Field(default_factory=SegmentationParams)
    churn: ChurnParams = Field(default_factory=ChurnParams)
    campaign: CampaignParams = Field(default_factory=CampaignParams)


class Params(_Model):
    """All params of one dataset.

    Attributes
    ----------
    name : str
        Short name of the dataset; used in report folder names.
    title : str
        Title shown in reports.
    as_of : date
        Features and labels use only data up to this date.
    launch_date : date, optional
        When the business started; earlier dates are implausible.
    seed : int
        Seed of every random step.
    tables : dict
        Contract table name -> :class:`TableSource`.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    description: str = ""
    as_of: dt.date
    launch_date: dt.date | None = None
    currency: str = "¥"
    seed: int = 42
    tables: dict[str, TableSource]
    ground_truth: Path | None = Field(
        None, description="synthetic data only: per-customer truth file, for recovery checks in reports"
    )
    intake: IntakeParams = Field(default_factory=IntakeParams)
    cleaning: CleaningParams = Field(default_factory=CleaningParams)
    privacy: PrivacyParams = Field(default_factory=PrivacyParams)
    analyses: AnalysesParams = Field(default_factory=AnalysesParams)
    base_dir: Path = Field(Path("."), exclude=True, description="folder of the params file")

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableSource]) -> dict[str, TableSource]:
        unknown = [k for k in v if k not in TABLES]
        if unknown:
            hints = []
            for u in unknown:
                close = difflib.get_close_matches(u, list(TABLES), n=1)
                hints.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ValueError(f"unknown table(s) {', '.join(hints)}; contract tables: {', '.join(TABLES)}")
        if not v:
            raise ValueError("at least one table is needed")
        return v

    @model_validator(mode="after")
    def _dates(self) -> Params:
        if self.launch_date and self.launch_date > self.as_of:
            raise ValueError(f"launch_date {self.launch_date} is after as_of {self.as_of}")
        return self

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the params file against the file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def placeholders(self) -> list[str]:
        """Placeholder texts in force (defaults plus extras)."""
        return list(self.intake.placeholders) + list(self.intake.extra_placeholders)

    def enabled_analyses(self) -> list[str]:
        """Names of the analyses switched on, in run order."""
        return [name for name in AnalysesParams.model_fields if getattr(self.analyses, name).enabled]


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at location ``loc`` (for did-you-mean)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            ann = field.annotation
            args = getattr(ann, "__args__", ())
            nxt = None
            for cand in (ann, *args):
                if isinstance(cand, type) and issubclass(cand, BaseModel):
                    nxt = cand
            if nxt is None and args:  # dict[str, Model]
                for cand in args:
                    if isinstance(cand, type) and issubclass(cand, BaseModel):
                        nxt = cand
            current = nxt if nxt is not None else (args[-1] if args else None)
        else:
            # inside a dict[str, Model]: the key is free, step through it
            continue
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _format_errors(err: ValidationError, raw: dict[str, Any]) -> list[str]:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            choices = _fields_at(Params, loc[:-1])
            if loc and loc[0] == "tables" and len(loc) == 3:
                choices = list(TableSource.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), choices, n=1)
            hint = f"; did you mean {'.'.join(map(str, loc[:-1] + (close[0],)))!r}?" if close else ""
            lines.append(f"{key}: unknown key{hint} (allowed: {', '.join(c for c in choices if c != 'base_dir')})")
        elif e["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        else:
            got = e.get("input")
            got_s = repr(got) if not isinstance(got, dict) else "a mapping"
            lines.append(f"{key}: {e['msg']} (got {got_s})")
    return lines


def params_from_dict(data: dict[str, Any], *, base_dir: Path | str = ".", source: str | None = None, check_files: bool = True) -> Params:
    """Validate a params mapping.

    Parameters
    ----------
    data : dict
        Parsed YAML.
    base_dir : path
        Folder relative paths are resolved against.
    source : str, optional
        File name for error messages.
    check_files : bool, default True
        Check that every table's file exists.

    Returns
    -------
    Params

    Raises
    ------
    ParamsError
        Listing every problem with its key path.
    """
    if not isinstance(data, dict):
        raise ParamsError("the file must be a YAML mapping of keys to values", source=source)
    data = {k: v for k, v in data.items() if k != "base_dir"}
    try:
        params = Params.model_validate({**data, "base_dir": Path(base_dir).resolve()})
    except ValidationError as err:
        raise ParamsError(_format_errors(err, data), source=source) from None
    if check_files:
        problems = []
        if params.ground_truth is not None and not params.resolve(params.ground_truth).exists():
            problems.append(f"ground_truth: file not found: {params.resolve(params.ground_truth)}")
        for name, t in params.tables.items():
            p = params.resolve(t.path)
            if not p.exists():
                problems.append(f"tables.{name}.path: file not found: {p}")
        if problems:
            raise ParamsError(problems, source=source)
    return params


def load_params(path: Path | str, *, overrides: dict[str, Any] | None = None, check_files: bool = True) -> Params:
    """Read and validate a params YAML file.

    Parameters
    ----------
    path : path
        The params file.
    overrides : dict, optional
        Dotted keys -> values applied on top (``{"as_of": "2025-06-30"}``).
    check_files : bool, default True
        Check that data files exist.

    Returns
    -------
    Params

    Raises
    ------
    ParamsError
        File missing, not YAML, or not valid.
    """
    p = Path(path)
    if not p.exists():
        raise ParamsError(f"params file not found: {p.resolve()}", source=str(path))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"not valid YAML: {err}", source=str(path)) from None
    for dotted, value in (overrides or {}).items():
        cur = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    return params_from_dict(data, base_dir=p.resolve().parent, source=str(path), check_files=check_files)
