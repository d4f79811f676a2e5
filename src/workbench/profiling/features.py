"""The finding under the customer feature table of the profiling report, in the run's language."""

from __future__ import annotations

import pandas as pd

from workbench.report import fmt
from workbench.report.i18n import t

__all__ = ["feature_finding"]


def feature_finding(features: pd.DataFrame) -> str:
    """Customers, buyers, one-time buyers, median spend, the top 20 % buyers' share of revenue
    and the median recency of a customer feature table, in one or two sentences.

    Parameters
    ----------
    features : pandas.DataFrame
        From :func:`workbench.data.features.customer_features` (``n_orders``,
        ``monetary_sum``, ``recency_days``).

    Returns
    -------
    str
        Amounts with the run's currency (:func:`workbench.report.fmt.money`).
    """
    n = len(features)
    if n == 0:
        return t("profiling.nb.features_none")
    buyers = features[features["n_orders"] > 0]
    one = float((buyers["n_orders"] == 1).mean()) if len(buyers) else float("nan")
    text = t("profiling.nb.features", n=fmt.count(n), buyers=fmt.count(len(buyers)), once=fmt.pct(one, 0))
    if len(buyers):
        top = buyers["monetary_sum"].sort_values(ascending=False)
        k = max(1, int(round(0.2 * len(top))))
        share = top.iloc[:k].sum() / top.sum() if top.sum() > 0 else float("nan")
        text += t("profiling.nb.features_spend", median=fmt.money(buyers["monetary_sum"].median()),
                  share=fmt.pct(share, 0), recency=f"{buyers['recency_days'].median():.0f}")
    return text
