"""Order-line predicates: which lines are refunds, which are purchases (pandas).

The one pandas definition of a refund line and a purchase line; every analysis that reads
canonical orders in pandas uses these. (The engine features in :mod:`workbench.data.features`
split orders the same way in Ibis, where a negative amount also counts as a refund line.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["REFUND_STATUSES", "refund_mask", "purchase_mask", "negative_amount_mask"]

REFUND_STATUSES: tuple[str, ...] = (
    "refunded", "refund", "returned", "return", "chargeback",
    "退款", "已退款", "退款成功", "退货", "已退货", "退货退款",
)  # fmt: skip
"""Order ``status`` values (compared lower-cased, stripped) that mark a refund line."""


def refund_mask(orders: pd.DataFrame) -> pd.Series:
    """Rows marked as refund lines.

    A row is a refund when ``is_refund`` is true or ``status`` (lower-cased) is one of
    :data:`REFUND_STATUSES`.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders (``is_refund`` and ``status`` optional).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``.

    Examples
    --------
    >>> refund_mask(pd.DataFrame({"status": ["paid", "已退款", None]})).tolist()
    [False, True, False]
    """
    mask = np.zeros(len(orders), dtype=bool)
    if "is_refund" in orders:
        mask |= orders["is_refund"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "status" in orders:
        codes, uniques = pd.factorize(orders["status"], use_na_sentinel=True)
        if len(uniques):
            hit = np.array([str(u).strip().lower() in REFUND_STATUSES for u in uniques])
            mask |= (codes >= 0) & hit[np.maximum(codes, 0)]
    return pd.Series(mask, index=orders.index)


def purchase_mask(orders: pd.DataFrame) -> pd.Series:
    """Purchase lines, by the rule of the engine's customer features
    (:func:`workbench.data.features.purchases_expr`): a positive ``amount``, ``is_refund`` not
    true, and a ``status`` that does not contain "refund" or "退".

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders with ``amount`` (``is_refund`` and ``status`` optional).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``; a missing amount is not a purchase.

    Examples
    --------
    >>> lines = pd.DataFrame({"amount": [10.0, -5.0, 0.0, 8.0], "status": ["paid", "paid", "paid", "退货中"]})
    >>> purchase_mask(lines).tolist()
    [True, False, False, False]
    """
    m = orders["amount"] > 0
    if "is_refund" in orders.columns:
        m &= ~orders["is_refund"].fillna(False).astype(bool)
    if "status" in orders.columns:
        st = orders["status"].astype("string").str.lower().fillna("")
        m &= ~(st.str.contains("refund") | st.str.contains("退"))
    return m.fillna(False).astype(bool)


def negative_amount_mask(orders: pd.DataFrame) -> pd.Series:
    """Rows with a negative ``amount`` that are not marked as refunds (see :func:`refund_mask`).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``; all False without an ``amount`` column.
    """
    if "amount" not in orders:
        return pd.Series(False, index=orders.index)
    amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series((amount < 0) & ~refund_mask(orders).to_numpy(), index=orders.index)
