"""Protocol cases of ``workbench.cross_sell``: one small instance of each result."""

from __future__ import annotations

import warnings
from functools import lru_cache

from protocol_cases._data import small_base
from workbench import cross_sell


@lru_cache(maxsize=1)
def _baskets() -> cross_sell.BasketLines:
    d = small_base()
    return cross_sell.basket_lines(d.orders, d.extra_tables["order_items"])


@lru_cache(maxsize=1)
def _rules() -> cross_sell.BasketRules:
    return cross_sell.association_rules(_baskets(), min_count=5, min_support=0.0005, min_confidence=0.02)


def _sequences() -> cross_sell.SequenceRules:
    return cross_sell.sequence_rules(_baskets(), within_days=60, min_count=3)


def _transitions() -> cross_sell.Transitions:
    d = small_base()
    return cross_sell.category_transitions(cross_sell.basket_lines(d.orders, d.extra_tables["order_items"], level="category"))


def _offers() -> cross_sell.NextBestList:
    return cross_sell.next_best_offers(_rules(), _baskets(), customers=small_base().customers, salt="s", min_confidence=0.02)


@lru_cache(maxsize=1)
def _propensity() -> cross_sell.PropensityModel:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cross_sell.fit_propensity(_baskets(), small_base().orders, target="T恤", horizon_days=120, bootstrap=20)


def _planted() -> cross_sell.PlantedCheck:
    return cross_sell.planted_check({"baskets": small_base().truth["baskets"]}, rules=_rules(), sequences=_sequences(),
                                    lookalike=_propensity())


CASES = {
    cross_sell.BasketRules: _rules,
    cross_sell.SequenceRules: _sequences,
    cross_sell.Transitions: _transitions,
    cross_sell.NextBestList: _offers,
    cross_sell.PropensityModel: _propensity,
    cross_sell.PlantedCheck: _planted,
}
