"""Campaign evaluation: contacts, KPIs, incremental return, experiments, uplift and funnels
(``notebooks/04_campaign_evaluation.ipynb``).

Modules: ``contacts`` (validation, outcomes, designs), ``attribution`` (orders credited to
contacts), ``kpi`` (KPIs against targets), ``returns`` (incremental return), ``frames`` (one
campaign's frame, the observational comparison group, covariates), ``truth`` (synthetic truth
check), ``findings`` (the report's key findings), ``sections`` (one function per notebook section), ``funnel``; ``experiments`` and
``uplift`` are subpackages (import them as ``from workbench.campaign import experiments``).
"""

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.campaign.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.campaign.attribution": ("attribute_orders",),
    "workbench.campaign.contacts": ("CampaignData", "prepare_contacts"),
    "workbench.campaign.findings": ("key_findings",),
    "workbench.campaign.frames": (
        "BALANCE_DEFAULTS", "campaign_frame", "customer_covariates", "observational_frame",
        "pre_campaign_covariates"
    ),
    "workbench.campaign.kpi": (
        "KPI_DEFINITIONS", "MIN_COST_SHARE", "KPIResult", "cost_status", "kpi_table"
    ),
    "workbench.campaign.returns": ("IncrementalReturn", "incremental_return"),
    "workbench.campaign.sections": (
        "EvaluationSummary", "ExperimentChecks", "ObservationalEffects", "Section",
        "SubgroupEffects", "UpliftSection", "VarianceAndPower", "evaluation_summary",
        "experiment_checks", "observational_effects", "subgroup_effects", "targeting",
        "uplift_section", "variance_and_power"
    ),
    "workbench.campaign.truth": ("truth_effect_check",),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
