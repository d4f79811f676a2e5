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

from workbench.core.lazy import lazy_exports

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

__all__ = [
    "DEFAULT_SEGMENT_MAP",
    "RFM_CLASSES",
    "NO_PURCHASE",
    "NOT_YET_CUSTOMER",
    "ABCResult",
    "abc_classes",
    "gini",
    "RFMResult",
    "rfm_scores",
    "check_segment_map",
    "MigrationResult",
    "rfm_migration",
    "ClusterResult",
    "cluster_customers",
    "adjusted_rand",
    "cluster_label",
    "tag_table",
    "tag_preview",
    "write_tags",
    "segment_artifact",
    "PortraitResult",
    "portraits",
    "TruthAgreement",
    "truth_agreement",
    "key_findings",
]
