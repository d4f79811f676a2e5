"""Protocol cases of :mod:`workbench.segmentation` (one small instance of each result class)."""

from __future__ import annotations

import warnings
from functools import lru_cache

import pandas as pd

from protocol_cases._data import AS_OF, small_base
from workbench import segmentation as seg
from workbench.data.features import customer_features

_CLUSTER = {"features": ["monetary_mean", "n_orders", "recency_days"], "k": 3, "bootstrap": 2,
            "silhouette_sample": 500}  # fmt: skip


@lru_cache(maxsize=1)
def _features() -> pd.DataFrame:
    base = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return customer_features(base.orders, as_of=AS_OF, customers=base.customers)


@lru_cache(maxsize=1)
def _rfm() -> seg.RFMResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seg.rfm_scores(_features())


@lru_cache(maxsize=1)
def _clusters() -> seg.ClusterResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seg.cluster_customers(_features(), **_CLUSTER, random_state=0, buyers_only=True)


def abc_result() -> seg.ABCResult:
    return seg.abc_classes(_features())


def rfm_result() -> seg.RFMResult:
    return _rfm()


def migration_result() -> seg.MigrationResult:
    base = small_base()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seg.rfm_migration(base.orders, base.customers, from_date="2025-03-31", to_date=AS_OF)


def cluster_result() -> seg.ClusterResult:
    return _clusters()


def portrait_result() -> seg.PortraitResult:
    return seg.portraits(_features(), _rfm().segments(), small_base().customers)


def truth_agreement_result() -> seg.TruthAgreement:
    truth = small_base().truth_customers.set_index("customer_id")["segment"]
    labels = _clusters().labels.set_index("customer_id")["cluster"]
    common = labels.index.intersection(truth.index)
    return seg.TruthAgreement(ari=seg.adjusted_rand(labels.loc[common], truth.loc[common]), n=len(common),
                              n_segments=int(truth.nunique()))  # fmt: skip


CASES = {
    seg.ABCResult: abc_result,
    seg.RFMResult: rfm_result,
    seg.MigrationResult: migration_result,
    seg.ClusterResult: cluster_result,
    seg.PortraitResult: portrait_result,
    seg.TruthAgreement: truth_agreement_result,
}
