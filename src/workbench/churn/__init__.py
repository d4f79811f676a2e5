"""Churn: labels, rates, cohorts, drivers, survival, Cox, reasons and recommendations
(``notebooks/03_churn.ipynb``); the churn model is :mod:`workbench.churn.model`.

Modules: ``label`` (who counts as a churner), ``frame`` (the per-customer churn frame and the
model frames), ``rates`` (rates by group, cohort retention), ``drivers`` (univariate drivers,
default Cox covariates), ``survival`` (Kaplan-Meier, hazard by tenure), ``cox`` (Cox model, PH
check, truth check), ``reasons`` (unhappy vs drifted churners), ``recommend`` (actions),
``summary`` (the report's key findings). Texts come from ``report/locales/*/churn.yaml``.
"""

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.churn.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.churn._common": ("MONTH_DAYS",),
    "workbench.churn.cox": (
        "GENERATOR_ALIASES", "CoxResult", "HazardRatioCheck", "collinear_terms",
        "cox_model", "hazard_ratio_check"
    ),
    "workbench.churn.drivers": (
        "BEHAVIOUR_COLUMNS", "NOT_CONTROLLABLE", "ChurnDrivers", "churn_drivers",
        "default_cox_covariates"
    ),
    "workbench.churn.frame": (
        "SEGMENT_COLUMNS", "ChurnFrame", "churn_frame", "current_customers", "model_frames",
        "segment_column"
    ),
    "workbench.churn.label": ("ChurnLabel",),
    "workbench.churn.rates": ("ChurnRates", "CohortRetention", "churn_rates", "cohort_retention"),
    "workbench.churn.reasons": ("ChurnReasons", "unhappy_vs_drift"),
    "workbench.churn.recommend": ("Recommendations", "recommendations"),
    "workbench.churn.summary": ("key_findings",),
    "workbench.churn.survival": (
        "OTHER_LEVEL", "HazardResult", "KaplanMeierResult", "hazard_by_tenure",
        "kaplan_meier", "survival_inputs"
    ),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
