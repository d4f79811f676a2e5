"""Campaign evaluation: contacts, KPIs, incremental return, experiments, uplift and funnels
(``notebooks/04_campaign_evaluation.ipynb``).

Modules: ``contacts`` (validation, outcomes, designs), ``attribution`` (orders credited to
contacts), ``kpi`` (KPIs against targets), ``returns`` (incremental return), ``frames`` (one
campaign's frame, the observational comparison group, covariates), ``truth`` (synthetic truth
check), ``findings`` (the report's key findings), ``sections`` (one function per notebook section), ``funnel``; ``experiments`` and
``uplift`` are subpackages (import them as ``from workbench.campaign import experiments``).
"""

from workbench.campaign.attribution import attribute_orders
from workbench.campaign.contacts import CampaignData, prepare_contacts
from workbench.campaign.findings import key_findings
from workbench.campaign.frames import (
    BALANCE_DEFAULTS,
    campaign_frame,
    customer_covariates,
    observational_frame,
    pre_campaign_covariates,
)
from workbench.campaign.kpi import (
    KPI_DEFINITIONS,
    MIN_COST_SHARE,
    KPIResult,
    cost_status,
    kpi_table,
)
from workbench.campaign.returns import IncrementalReturn, incremental_return
from workbench.campaign.sections import (
    EvaluationSummary,
    ExperimentChecks,
    ObservationalEffects,
    Section,
    SubgroupEffects,
    UpliftSection,
    VarianceAndPower,
    evaluation_summary,
    experiment_checks,
    observational_effects,
    subgroup_effects,
    targeting,
    uplift_section,
    variance_and_power,
)
from workbench.campaign.truth import truth_effect_check

__all__ = [
    "BALANCE_DEFAULTS",
    "KPI_DEFINITIONS",
    "MIN_COST_SHARE",
    "CampaignData",
    "EvaluationSummary",
    "ExperimentChecks",
    "IncrementalReturn",
    "KPIResult",
    "ObservationalEffects",
    "Section",
    "SubgroupEffects",
    "UpliftSection",
    "VarianceAndPower",
    "attribute_orders",
    "campaign_frame",
    "cost_status",
    "customer_covariates",
    "evaluation_summary",
    "experiment_checks",
    "incremental_return",
    "key_findings",
    "kpi_table",
    "observational_effects",
    "observational_frame",
    "pre_campaign_covariates",
    "prepare_contacts",
    "subgroup_effects",
    "targeting",
    "truth_effect_check",
    "uplift_section",
    "variance_and_power",
]
