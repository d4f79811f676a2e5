"""Churn: labels, rates, cohorts, drivers, survival, Cox, reasons and recommendations
(``notebooks/03_churn.ipynb``); the churn model is :mod:`workbench.churn.model`.

Modules: ``label`` (who counts as a churner), ``frame`` (the per-customer churn frame and the
model frames), ``rates`` (rates by group, cohort retention), ``drivers`` (univariate drivers,
default Cox covariates), ``survival`` (Kaplan-Meier, hazard by tenure), ``cox`` (Cox model, PH
check, truth check), ``reasons`` (unhappy vs drifted churners), ``recommend`` (actions),
``summary`` (the report's key findings). Texts come from ``report/locales/*/churn.yaml``.
"""

from workbench.churn._common import MONTH_DAYS
from workbench.churn.cox import (
    GENERATOR_ALIASES,
    CoxResult,
    HazardRatioCheck,
    collinear_terms,
    cox_model,
    hazard_ratio_check,
)
from workbench.churn.drivers import (
    BEHAVIOUR_COLUMNS,
    NOT_CONTROLLABLE,
    ChurnDrivers,
    churn_drivers,
    default_cox_covariates,
)
from workbench.churn.frame import (
    SEGMENT_COLUMNS,
    ChurnFrame,
    churn_frame,
    current_customers,
    model_frames,
    segment_column,
)
from workbench.churn.label import ChurnLabel
from workbench.churn.rates import ChurnRates, CohortRetention, churn_rates, cohort_retention
from workbench.churn.reasons import ChurnReasons, unhappy_vs_drift
from workbench.churn.recommend import Recommendations, recommendations
from workbench.churn.summary import key_findings
from workbench.churn.survival import (
    OTHER_LEVEL,
    HazardResult,
    KaplanMeierResult,
    hazard_by_tenure,
    kaplan_meier,
    survival_inputs,
)

__all__ = [
    "ChurnLabel",
    "ChurnFrame",
    "ChurnRates",
    "CohortRetention",
    "ChurnDrivers",
    "ChurnReasons",
    "Recommendations",
    "KaplanMeierResult",
    "HazardResult",
    "CoxResult",
    "HazardRatioCheck",
    "churn_frame",
    "model_frames",
    "current_customers",
    "segment_column",
    "churn_rates",
    "cohort_retention",
    "churn_drivers",
    "default_cox_covariates",
    "unhappy_vs_drift",
    "recommendations",
    "key_findings",
    "kaplan_meier",
    "hazard_by_tenure",
    "survival_inputs",
    "cox_model",
    "hazard_ratio_check",
    "collinear_terms",
    "GENERATOR_ALIASES",
    "OTHER_LEVEL",
    "BEHAVIOUR_COLUMNS",
    "NOT_CONTROLLABLE",
    "SEGMENT_COLUMNS",
    "MONTH_DAYS",
]
