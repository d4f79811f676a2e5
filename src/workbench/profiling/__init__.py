"""Data profiling and quality (``notebooks/01_data_profiling.ipynb``).

What is in each table, what is wrong with it, and what that means for CRM analysis:
:func:`profile_tables` returns a :class:`DataProfile` (tables, alerts, findings, charts);
:func:`service_kpis` a :class:`ServiceKPIs`; :func:`personal_data_section` a
:class:`PersonalDataReport` (which columns hold personal data, why, and how intake treated
them); :func:`clean_artifacts` the cleaned tables to save. Values of personal-data columns are
never shown (counts only) unless ``privacy.allow_personal_data``.

Modules: ``options`` (thresholds), ``alerts`` (alert kinds and the column rules), ``columns``
(column statistics), ``dates`` (daily counts, gaps, spikes), ``missing`` (patterns, nullity),
``correlations`` (Spearman, Cramér's V), ``checks`` (CRM checks across tables), ``tables``
(one table's profile), ``profile`` (all tables), ``findings`` (section texts), ``plots``,
``service`` (customer-service KPIs), ``personal`` (the personal-data section and which columns
to hide), ``export`` (artifacts), ``params`` (the params section), ``headline``
(:func:`key_findings`, the report's summary), ``features`` (the customer-feature finding),
``words`` (pieces of the texts). Every text a reader sees is a catalog message
(``report/locales/<language>/profiling.yaml``), in the run's language.
"""

from workbench.profiling.alerts import ALERT_KINDS, CRM_KINDS, SEVERITIES, Alert
from workbench.profiling.correlations import cramers_v
from workbench.profiling.export import clean_artifacts
from workbench.profiling.features import feature_finding
from workbench.profiling.headline import key_findings
from workbench.profiling.options import ProfilingOptions
from workbench.profiling.personal import PersonalDataReport, personal_data_section
from workbench.profiling.profile import DataProfile, profile_tables
from workbench.profiling.service import ServiceKPIs, service_kpis
from workbench.profiling.tables import TableProfile, intake_report, profile_table

__all__ = [
    "Alert",
    "ALERT_KINDS",
    "SEVERITIES",
    "CRM_KINDS",
    "ProfilingOptions",
    "intake_report",
    "TableProfile",
    "DataProfile",
    "profile_table",
    "profile_tables",
    "ServiceKPIs",
    "service_kpis",
    "clean_artifacts",
    "PersonalDataReport",
    "personal_data_section",
    "cramers_v",
    "key_findings",
    "feature_finding",
]
