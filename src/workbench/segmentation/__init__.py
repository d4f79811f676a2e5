"""Segmentation (``notebooks/02_segmentation_value.ipynb``): ABC / Pareto classes, RFM scores and
segments, RFM migration, clustering, customer tags, segment portraits and the check of the
clusters against a synthetic ground truth.

Every function takes the customer feature table of :func:`workbench.data.features.customer_features`
(one row per customer) and keyword-only options, and returns a :class:`~workbench.report.results.Result`.
The simple CLV formula lives in :mod:`workbench.value` (``value.simple_clv_by_segment``).

Modules: ``pareto`` (ABC, Gini), ``rfm`` (scores, segment maps), ``migration``, ``clustering``,
``tags`` (tag table, ``segments`` artifact), ``portraits``, ``truth``, ``findings`` (the
report's key findings).
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.segmentation.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.segmentation._common": ("NOT_YET_CUSTOMER", "NO_PURCHASE"),
    "workbench.segmentation.clustering": (
        "ClusterResult", "adjusted_rand", "cluster_customers", "cluster_label"
    ),
    "workbench.segmentation.findings": ("key_findings",),
    "workbench.segmentation.migration": ("MigrationResult", "rfm_migration"),
    "workbench.segmentation.pareto": ("ABCResult", "abc_classes", "gini"),
    "workbench.segmentation.portraits": ("PortraitResult", "portraits"),
    "workbench.segmentation.rfm": (
        "DEFAULT_SEGMENT_MAP", "RFM_CLASSES", "RFMResult", "check_segment_map", "rfm_scores"
    ),
    "workbench.segmentation.tags": ("segment_artifact", "tag_preview", "tag_table", "write_tags"),
    "workbench.segmentation.truth": ("TruthAgreement", "truth_agreement"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
