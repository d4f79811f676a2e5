"""Service and the voice of the customer: service performance, what customers write (topics,
sentiment), NPS, whether service drives churn, and weekly monitoring.

See ``docs/ARCHITECTURE.md`` ("Adding an analysis") and ``notebooks/08_service_voice.ipynb``.
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.service.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.service._common": ("known_customers",),
    "workbench.service.churn_link": (
        "FLAGS", "RecoveryList", "ServiceChurn", "recovery_list", "service_churn",
        "service_flags"
    ),
    "workbench.service.monitor": ("Monitoring", "robust_z", "weekly_monitor"),
    "workbench.service.nps": ("NPSResult", "nps_interval", "nps_score"),
    "workbench.service.pareto": ("ProblemPareto", "problem_pareto"),
    "workbench.service.performance": (
        "ServicePerformance", "repeat_contacts", "service_performance"
    ),
    "workbench.service.sentiment": (
        "ChineseSentiment", "english_sentiment", "load_chinese_model", "score_sentiment"
    ),
    "workbench.service.summary": ("key_findings", "service_metrics"),
    "workbench.service.text": (
        "TextTopics", "collect_texts", "has_text", "text_checks", "text_topics"
    ),
    "workbench.service.tokens": ("language_of", "prepare_texts", "tokenize"),
    "workbench.service.voice": ("SentimentResult", "quotes", "text_sentiment"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
