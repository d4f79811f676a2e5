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

from workbench.segmentation._common import NO_PURCHASE, NOT_YET_CUSTOMER
from workbench.segmentation.clustering import (
    ClusterResult,
    adjusted_rand,
    cluster_customers,
    cluster_label,
)
from workbench.segmentation.findings import key_findings
from workbench.segmentation.migration import MigrationResult, rfm_migration
from workbench.segmentation.pareto import ABCResult, abc_classes, gini
from workbench.segmentation.portraits import PortraitResult, portraits
from workbench.segmentation.rfm import (
    DEFAULT_SEGMENT_MAP,
    RFM_CLASSES,
    RFMResult,
    check_segment_map,
    rfm_scores,
)
from workbench.segmentation.tags import segment_artifact, tag_preview, tag_table, write_tags
from workbench.segmentation.truth import TruthAgreement, truth_agreement

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
