"""The key findings of the service report: three to six, each with its numbers and an action."""

from __future__ import annotations

from workbench.report.fmt import interval, money, pct
from workbench.report.i18n import category, t
from workbench.report.summary import KeyFinding
from workbench.service.churn_link import RecoveryList, ServiceChurn
from workbench.service.monitor import Monitoring
from workbench.service.nps import NPSResult
from workbench.service.pareto import ProblemPareto
from workbench.service.performance import ServicePerformance
from workbench.service.voice import SentimentResult

__all__ = ["key_findings", "service_metrics"]


def _performance(p: ServicePerformance) -> KeyFinding:
    o = p.overall()
    return KeyFinding(
        t("service.summary.performance", csat=interval(o["csat_rate"], o["csat_rate_low"], o["csat_rate_high"]),
          fcr=interval(o["fcr_rate"], o["fcr_rate_low"], o["fcr_rate_high"]), breach=pct(o["sla_first_breach_rate"]),
          sla=f"{p.sla_first_response_hours:g}"),
        t("service.summary.performance_action"),
    )  # fmt: skip


def _pareto(p: ProblemPareto) -> KeyFinding:
    top = p.table.sort_values("dissatisfied", ascending=False).iloc[0]
    return KeyFinding(
        t("service.summary.pareto", category=category("service_level", top["category"]),
          share=pct(top["dissatisfied_share"]), volume=pct(top["share"])),
        t("service.summary.pareto_action", category=category("service_level", top["category"])),
    )  # fmt: skip


def _sentiment(s: SentimentResult) -> KeyFinding:
    a = s.table[s.table["dimension"] == "all"].iloc[0]
    topics = s.by("topic").sort_values("negative", ascending=False)
    topics = topics[topics["n"] >= 30] if (topics["n"] >= 30).any() else topics
    worst = topics.iloc[0]
    return KeyFinding(
        t("service.summary.sentiment", negative=interval(a["negative"], a["negative_low"], a["negative_high"]),
          topic=category("service_level", worst["level"]), topic_negative=pct(worst["negative"])),
        t("service.summary.sentiment_action", topic=category("service_level", worst["level"])),
    )  # fmt: skip


def _nps(n: NPSResult) -> KeyFinding:
    a = n.table.iloc[0]
    return KeyFinding(
        t("service.summary.nps", nps=f"{a['nps']:+.0f}", low=f"{a['nps_low']:+.0f}", high=f"{a['nps_high']:+.0f}",
          detractors=pct(a["detractors"])),
        t("service.summary.nps_action"),
    )  # fmt: skip


def _churn(c: ServiceChurn, r: RecoveryList | None) -> KeyFinding | None:
    h = c.hazards.dropna(subset=["hr"]).sort_values("p_holm")
    if not len(h):
        return None
    top = h.iloc[0]
    action = (t("service.summary.churn_action", n=len(r.table), value=money(r.table["value"].sum()))
              if r is not None and len(r.table) else t("service.summary.churn_action_none"))  # fmt: skip
    return KeyFinding(
        t("service.summary.churn", flag=category("service_flag", top["flag"]),
          hr=interval(top["hr"], top["hr_low"], top["hr_high"], kind="num", digits=2),
          loss=money(c.value_at_risk["expected_loss"])),
        action,
    )  # fmt: skip


def _monitor(m: Monitoring) -> KeyFinding:
    if not len(m.alerts):
        return KeyFinding(t("service.summary.monitor_quiet", threshold=f"{m.threshold:g}"), t("service.summary.monitor_action"))
    a = m.alerts.iloc[0]
    return KeyFinding(
        t("service.summary.monitor", n=len(m.alerts), series=m._series_label(a["series"]), share=pct(a["share"]),
          z=f"{a['z']:.1f}"),
        t("service.summary.monitor_action"),
    )  # fmt: skip


def key_findings(
    *,
    performance: ServicePerformance | None = None,
    pareto: ProblemPareto | None = None,
    sentiment: SentimentResult | None = None,
    nps: NPSResult | None = None,
    churn: ServiceChurn | None = None,
    recovery: RecoveryList | None = None,
    monitor: Monitoring | None = None,
) -> list[KeyFinding | None]:
    """Key findings of the service report, in the run's language (``None`` for a section that
    did not run): service levels, the problem that makes most dissatisfaction, sentiment and its
    worst topic, NPS, whether service drives churn (with the recovery list), monitoring alerts."""
    return [
        _performance(performance) if performance is not None else None,
        _churn(churn, recovery) if churn is not None else None,
        _sentiment(sentiment) if sentiment is not None else None,
        _pareto(pareto) if pareto is not None else None,
        _nps(nps) if nps is not None else None,
        _monitor(monitor) if monitor is not None else None,
    ]


def service_metrics(**results: object) -> dict[str, object]:
    """``metrics()`` of each result given (``None`` skipped), by its keyword: for ``ctx.record``."""
    return {k: r.metrics() for k, r in results.items() if r is not None}  # type: ignore[attr-defined]
