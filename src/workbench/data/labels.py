"""Labels of the composite categories the workbench makes, shared by the analyses that show
them: cluster names (``"high monetary_mean · low recency_days"``) are made by segmentation and
shown again by churn and campaign evaluation, which read the segments artifact."""

from __future__ import annotations

from typing import Any

from workbench.report.i18n import has, label, t

__all__ = ["cluster_label", "feature_text"]


def feature_text(feature: str) -> str:
    """A customer feature's name as a reader reads it (``recency_days`` -> 最近消费天数)."""
    key = f"segmentation.cluster.feature.{feature}"
    return t(key) if has(key) else label(feature)


def cluster_label(name: Any) -> str:
    """The reader's name of a cluster code made by :func:`workbench.segmentation.cluster_customers`
    (``"high monetary_mean · low recency_days"`` -> ``"客单价高 · 最近消费天数低"`` in Chinese);
    other values stay as they are.

    Examples
    --------
    >>> cluster_label("high n_orders · low recency_days (2)")
    'high n_orders · low recency_days (2)'
    """
    if name is None or (isinstance(name, float) and name != name):
        return name
    text = str(name)
    suffix = ""
    if text.endswith(")") and " (" in text:
        text, _, num_ = text.rpartition(" (")
        suffix = f" ({num_}"
    parts = text.split(" · ")
    out = []
    for part in parts:
        level, _, feature = part.partition(" ")
        if level not in ("high", "low") or not feature:
            return str(name)
        out.append(t(f"segmentation.cluster.{level}", feature=feature_text(feature)))
    return t("segmentation.cluster.sep").join(out) + suffix
