"""Protocol cases of ``workbench.service``: one small instance of each result."""

from __future__ import annotations

import warnings
from functools import lru_cache

from protocol_cases._data import AS_OF, small_base
from workbench import churn, service
from workbench.core.privacy import mask_in_text


@lru_cache(maxsize=1)
def _tables() -> tuple:
    d = small_base()
    tk = d.tables["tickets"].assign(text=lambda x: mask_in_text(x["text"]))
    fb = d.tables["feedback"].assign(text=lambda x: mask_in_text(x["text"]))
    return d, tk, fb


@lru_cache(maxsize=1)
def _perf() -> service.ServicePerformance:
    return service.service_performance(_tables()[1], as_of=AS_OF)


@lru_cache(maxsize=1)
def _texts():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return service.collect_texts(_tables()[1], _tables()[2], as_of=AS_OF)


@lru_cache(maxsize=1)
def _topics() -> service.TextTopics:
    return service.text_topics(_texts(), n_topics=5, min_df=2)


@lru_cache(maxsize=1)
def _sentiment() -> service.SentimentResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return service.text_sentiment(_texts(), topics=_topics().assignment)


@lru_cache(maxsize=1)
def _flags():
    tk = _tables()[1]
    return service.service_flags(_perf().tickets, sentiment=_sentiment().scores,
                                 complaints=tk.set_index("ticket_id")["is_complaint"], as_of=AS_OF)  # fmt: skip


@lru_cache(maxsize=1)
def _frame():
    d = _tables()[0]
    return churn.churn_frame(d.customers, d.orders, as_of=AS_OF).artifact()


def _churn() -> service.ServiceChurn:
    return service.service_churn(_frame(), _flags(), min_events=2)


def _recovery() -> service.RecoveryList:
    return service.recovery_list(_flags(), _frame(), customers=_tables()[0].customers, churn_risk=0.3, salt="s")


CASES = {
    service.ServicePerformance: _perf,
    service.ProblemPareto: lambda: service.problem_pareto(_perf().tickets),
    service.TextTopics: _topics,
    service.SentimentResult: _sentiment,
    service.NPSResult: lambda: service.nps_score(_tables()[2], topics=_sentiment().scores, min_group=5),
    service.ServiceChurn: _churn,
    service.RecoveryList: _recovery,
    service.Monitoring: lambda: service.weekly_monitor(_sentiment().scores, min_texts=3, min_count=2),
}
