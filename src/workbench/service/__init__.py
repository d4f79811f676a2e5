"""Service and the voice of the customer: service performance, what customers write (topics,
sentiment), NPS, whether service drives churn, and weekly monitoring.

See ``docs/ARCHITECTURE.md`` ("Adding an analysis") and ``notebooks/08_service_voice.ipynb``.
"""

from __future__ import annotations

from workbench.service._common import known_customers
from workbench.service.churn_link import (
    FLAGS,
    RecoveryList,
    ServiceChurn,
    recovery_list,
    service_churn,
    service_flags,
)
from workbench.service.monitor import Monitoring, robust_z, weekly_monitor
from workbench.service.nps import NPSResult, nps_interval, nps_score
from workbench.service.pareto import ProblemPareto, problem_pareto
from workbench.service.performance import ServicePerformance, repeat_contacts, service_performance
from workbench.service.sentiment import (
    ChineseSentiment,
    english_sentiment,
    load_chinese_model,
    score_sentiment,
)
from workbench.service.summary import key_findings, service_metrics
from workbench.service.text import TextTopics, collect_texts, has_text, text_checks, text_topics
from workbench.service.tokens import language_of, prepare_texts, tokenize
from workbench.service.voice import SentimentResult, quotes, text_sentiment

__all__ = [
    "FLAGS", "ChineseSentiment", "Monitoring", "NPSResult", "ProblemPareto", "RecoveryList", "SentimentResult",
    "ServiceChurn", "ServicePerformance", "TextTopics", "collect_texts", "english_sentiment", "key_findings",
    "has_text", "known_customers", "language_of", "service_metrics", "text_checks", "load_chinese_model", "nps_interval", "nps_score", "prepare_texts", "problem_pareto", "quotes",
    "recovery_list", "repeat_contacts", "robust_z", "score_sentiment", "service_churn", "service_flags",
    "service_performance", "text_sentiment", "text_topics", "tokenize", "weekly_monitor",
]  # fmt: skip
