"""The key findings of the segmentation report (its summary, shown first): value concentration,
the segments that matter, the win-back target, migration, CLV with its interval, and the check of
the clusters against the planted truth, each with the action it suggests, in the run's language.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench.report.fmt import count, money, pct
from workbench.report.i18n import language, t
from workbench.report.summary import KeyFinding
from workbench.segmentation._common import NO_PURCHASE, segment_label
from workbench.segmentation.clustering import ClusterResult, cluster_label
from workbench.segmentation.migration import MigrationResult
from workbench.segmentation.pareto import ABCResult
from workbench.segmentation.rfm import RFMResult
from workbench.segmentation.truth import TruthAgreement
from workbench.value.clv import CLVResult, mean_interval
from workbench.value.simple import SimpleCLVResult

__all__ = ["key_findings"]

#: Adjusted Rand index from which the clusters count as recovering the planted segments.
GOOD_ARI = 0.5


def _join(*parts: str) -> str:
    """Sentences joined as the language writes them (no space between Chinese sentences)."""
    return ("" if language() == "zh" else " ").join(p for p in parts if p)


def _pareto(abc: ABCResult) -> KeyFinding:
    s = abc.summary()
    first = s.iloc[0]
    text = t("segmentation.key.pareto", top20=pct(abc.top_shares["top_20pct"], 0),
             what=t(f"segmentation.abc.measure.{abc.measure}"), gini=f"{abc.gini:.2f}",
             a_share=pct(first["share_customers"], 0), a_value=pct(first["share_value"], 0))
    return KeyFinding(text, t("segmentation.key.pareto_action"))


def _segments(rfm: RFMResult) -> KeyFinding | None:
    s = rfm._by_segment().set_index("segment")
    buyers = s.drop(index=NO_PURCHASE, errors="ignore")
    buyers = buyers[buyers["customers"] > 0]
    if buyers.empty:
        return None
    top, big = buyers["revenue_share"].idxmax(), buyers["customers"].idxmax()
    if top == big:
        return KeyFinding(t("segmentation.key.segment_same", top=segment_label(top), share=pct(s.loc[top, "share"], 0),
                            revenue_share=pct(s.loc[top, "revenue_share"], 0)),
                          t("segmentation.key.segment_action_same", top=segment_label(top)))
    text = t("segmentation.key.segment", top=segment_label(top), share=pct(s.loc[top, "share"], 0),
             revenue_share=pct(s.loc[top, "revenue_share"], 0), big=segment_label(big),
             big_share=pct(s.loc[big, "share"], 0))
    return KeyFinding(text, t("segmentation.key.segment_action", top=segment_label(top), big=segment_label(big)))


def _risky(rfm: RFMResult) -> KeyFinding | None:
    risky = rfm.risky_segments()
    if not risky:
        return None
    s = rfm._by_segment().set_index("segment")
    text = t("segmentation.key.risky", share=pct(s.loc[risky, "share"].sum(), 0),
             names=t("segmentation.rfm.risky_sep").join(map(segment_label, risky)),
             revenue_share=pct(s.loc[risky, "revenue_share"].sum(), 0))
    return KeyFinding(text, t("segmentation.key.risky_action"))


def _classes(rfm: RFMResult) -> KeyFinding | None:
    cs = rfm.class_summary()
    row = cs.iloc[0]  # important_value: R, F and M all above the mean
    if not row["customers"]:
        return None
    text = t("segmentation.key.classes", name=row["rfm_class"], share=pct(row["share"], 0),
             revenue_share=pct(row["revenue_share"], 0))
    return KeyFinding(text, t("segmentation.key.classes_action", name=row["rfm_class"]))


def _migration(migration: MigrationResult) -> KeyFinding | None:
    stayed = migration.metrics()["stayed_share_of_buyers"]
    seg = migration.best_segment()
    if stayed is None or seg is None:
        return None
    s = migration._by_segment().set_index("from_segment")
    text = t("segmentation.key.migration", stayed=pct(stayed, 0), n=count(s.loc[seg, "customers"]),
             seg=segment_label(seg), seg_stayed=pct(s.loc[seg, "stayed_share"], 0))
    return KeyFinding(text, t("segmentation.key.migration_action", seg=segment_label(seg)))


def _simple_text(simple: SimpleCLVResult | None) -> str:
    if simple is None or simple.table.empty:
        return ""
    mean, low, high = mean_interval(simple.table["clv"])
    return t("segmentation.key.clv_simple", total=money(simple.table["clv"].sum()), mean=money(mean),
             low=money(low), high=money(high))


def _clv(clv: CLVResult, simple: SimpleCLVResult | None) -> KeyFinding | None:
    if clv.customers.empty:
        return None
    if clv.failed:
        return KeyFinding(_join(t("segmentation.key.clv_failed"), _simple_text(simple)),
                          t("segmentation.key.clv_failed_action"))
    mean, low, high = clv.mean_interval()
    total = float(np.nansum(clv.customers["clv"].to_numpy(dtype="float64")))
    text = t("segmentation.key.clv", months=f"{clv.horizon_months:g}", total=money(total), mean=money(mean),
             low=money(low), high=money(high), top_share=pct(clv.top_share(), 0))
    return KeyFinding(text, t("segmentation.key.clv_action"))


def _truth(truth: TruthAgreement | None, clusters: ClusterResult | None) -> KeyFinding | None:
    if truth is not None and truth.has_truth and truth.ari is not None and math.isfinite(truth.ari):
        action = "segmentation.key.truth_action_good" if truth.ari >= GOOD_ARI else "segmentation.key.truth_action_weak"
        return KeyFinding(t("segmentation.key.truth", ari=f"{truth.ari:.2f}", n=count(truth.n)), t(action))
    if clusters is None:
        return None
    p = clusters.profiles
    big = p.iloc[int(p["customers"].argmax())]
    text = t("segmentation.key.clusters", k=clusters.n_clusters, silhouette=f"{clusters.silhouette[clusters.method]:.2f}",
             name=cluster_label(big.cluster_name), share=pct(big.share, 0))
    return KeyFinding(text, t("segmentation.key.clusters_action"))


def key_findings(
    *,
    abc: ABCResult | None = None,
    rfm: RFMResult | None = None,
    migration: MigrationResult | None = None,
    clv: CLVResult | None = None,
    simple: SimpleCLVResult | None = None,
    clusters: ClusterResult | None = None,
    truth: TruthAgreement | None = None,
) -> list[KeyFinding]:
    """Three to six key findings of the segmentation report, each with its action.

    In order: how concentrated value is (ABC / Pareto), the most valuable and the largest RFM
    segment with their shares, CLV over the horizon with the 95 % interval of the mean per
    customer (or that the purchase model did not converge, never a zero value; the simple
    formula's total then), the fading segments to win back, the migration of the best segment
    (else the share of the classic 8-class 重要价值客户), and the clusters against the planted
    truth (else the clusters' size). Sections that did not run are left out.

    Parameters
    ----------
    abc, rfm, migration, clv, simple, clusters, truth : results, optional
        What the notebook computed (``None`` for a section that did not run).

    Returns
    -------
    list of KeyFinding
        At most six, in the run's language.
    """
    parts: list[Any] = [
        _pareto(abc) if abc is not None else None,
        _segments(rfm) if rfm is not None else None,
        _clv(clv, simple) if clv is not None else None,
        _risky(rfm) if rfm is not None else None,
        (_migration(migration) if migration is not None else None) or (_classes(rfm) if rfm is not None else None),
        _truth(truth, clusters),
    ]
    return [p for p in parts if p is not None][:6]
