"""Protocol cases of ``workbench.attribution`` (on the 600-customer base: its touchpoints and spend)."""

from __future__ import annotations

import warnings
from functools import lru_cache

from protocol_cases._data import AS_OF, small_base
from workbench import attribution


@lru_cache(maxsize=1)
def _journeys() -> attribution.Journeys:
    d = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return attribution.build_journeys(d.events, d.orders, data_end=AS_OF)


@lru_cache(maxsize=1)
def _models() -> attribution.ModelComparison:
    return attribution.compare_models(_journeys(), markov_orders=[1, 2], bootstrap=20, random_state=0)


@lru_cache(maxsize=1)
def _economics() -> attribution.ChannelEconomics:
    return attribution.channel_economics(_journeys(), _models(), small_base().tables["spend"], random_state=0)


def _slots() -> attribution.TimeSlots:
    return attribution.time_slots(_journeys())


def _regions() -> attribution.Regions:
    return attribution.regions(_journeys(), small_base().customers, min_journeys=10)


def _recommendation() -> attribution.Recommendation:
    return attribution.recommend(_economics(), _slots(), _regions())


CASES = {
    attribution.PathsResult: lambda: attribution.top_paths(_journeys()),
    attribution.JourneyShape: lambda: attribution.journey_shape(_journeys()),
    attribution.ModelComparison: _models,
    attribution.ChannelEconomics: _economics,
    attribution.TimeSlots: _slots,
    attribution.Regions: _regions,
    attribution.Recommendation: _recommendation,
}
