"""Params section ``analyses.cross_sell``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from workbench.core.params import AnalysisSection, StrictModel

__all__ = ["BasketParams", "SequenceParams", "PropensityParams", "LookalikeParams", "NextBestParams",
           "CrossSellParams"]  # fmt: skip


class BasketParams(StrictModel):
    """Frequent itemsets and association rules (``analyses.cross_sell.basket``)."""

    min_support: float = Field(0.001, gt=0, lt=1, description="least share of baskets holding an itemset")
    min_count: int = Field(20, ge=1, description="least baskets holding an itemset (whichever is larger wins)")
    min_confidence: float = Field(0.05, ge=0, le=1, description="least P(consequent | antecedent) of a rule")
    max_len: int = Field(3, ge=2, le=3, description="largest itemset: 2 (pairs) or 3 (triples)")
    alpha: float = Field(0.05, gt=0, lt=1, description="significance level after the multiple-testing correction")
    correction: Literal["holm", "bh"] = Field("holm", description="across rules: Holm (family-wise) or Benjamini-Hochberg (FDR)")
    max_items: int = Field(2000, ge=2, description="more distinct items than this at product level: use level category")
    top: int = Field(15, ge=1, le=200, description="rules shown in the chart and table")


class SequenceParams(StrictModel):
    """'Bought A, then B within N days' (``analyses.cross_sell.sequences``)."""

    within_days: int = Field(30, ge=1, le=730, description="B counts when bought within this many days after A")
    min_count: int = Field(20, ge=1, description="least customers with A then B for a rule to be listed")
    top: int = Field(15, ge=1, le=200, description="sequence rules shown")


class PropensityParams(StrictModel):
    """Propensity for a target event (``analyses.cross_sell.propensity``)."""

    target: str | None = Field(
        None, description="item (at the analysis level) bought within horizon_days after as_of, or 'event:<event_name>'; "
        "default: the consequent of the strongest rule"
    )
    horizon_days: int = Field(90, ge=7, le=730, description="window after the cut-off in which the target must happen")
    top_items: int = Field(30, ge=1, le=500, description="items whose past purchase counts become features")
    logistic_C: float = Field(1.0, gt=0, description="inverse L2 strength of the logistic regression")
    calibrate: Literal["auto", "always", "never"] = Field("auto", description="calibration of the probabilities")
    bootstrap: int = Field(300, ge=0, le=5000, description="resamples for the AUC intervals")
    max_rows: int = Field(200_000, ge=1000, description="subsample larger training sets")


class LookalikeParams(StrictModel):
    """Look-alike of seed customers (``analyses.cross_sell.lookalike``)."""

    seed_items: list[str] = Field(default_factory=list, description="first purchase of any of these makes a seed; empty: off")
    window_days: int = Field(180, ge=14, le=730, description="seeds of this window train; the next window tests")


class NextBestParams(StrictModel):
    """Next best category per customer (``analyses.cross_sell.next_best``)."""

    top_n: int | None = Field(None, ge=1, description="cap the list length (default: every customer with an offer)")
    min_confidence: float = Field(0.05, ge=0, le=1, description="least rule confidence that makes an offer")


class CrossSellParams(AnalysisSection):
    """Options of the cross-sell and propensity analysis (``analyses.cross_sell``)."""

    enabled: bool = False
    level: Literal["auto", "product", "category"] = Field(
        "auto", description="items of a basket: product (order_items), category (order_items.category or "
        "orders.product_category); auto: product when order_items is there"
    )
    basket: BasketParams = Field(default_factory=BasketParams)
    sequences: SequenceParams = Field(default_factory=SequenceParams)
    propensity: PropensityParams = Field(default_factory=PropensityParams)
    lookalike: LookalikeParams = Field(default_factory=LookalikeParams)
    next_best: NextBestParams = Field(default_factory=NextBestParams)
