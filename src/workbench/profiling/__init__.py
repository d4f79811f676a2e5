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

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.profiling.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.profiling.alerts": ("ALERT_KINDS", "CRM_KINDS", "SEVERITIES", "Alert"),
    "workbench.profiling.correlations": ("cramers_v",),
    "workbench.profiling.export": ("clean_artifacts",),
    "workbench.profiling.features": ("feature_finding",),
    "workbench.profiling.headline": ("key_findings",),
    "workbench.profiling.options": ("ProfilingOptions",),
    "workbench.profiling.personal": ("PersonalDataReport", "personal_data_section"),
    "workbench.profiling.profile": ("DataProfile", "profile_tables"),
    "workbench.profiling.service": ("ServiceKPIs", "service_kpis"),
    "workbench.profiling.tables": ("TableProfile", "intake_report", "profile_table"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
