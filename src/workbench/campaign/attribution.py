"""Orders attributed to campaign contacts: what each contacted customer bought in the window
after the contact (DuckDB range join)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.campaign._common import flag, naive_time
from workbench.core.errors import AnalysisError
from workbench.data.cleaning import refund_mask

__all__ = ["CANCELLED_STATUSES", "attribute_orders", "purchase_mask"]

#: Order ``status`` values (lower-cased, stripped) of orders that never completed; like refund
#: lines (:func:`workbench.data.cleaning.refund_mask`) they never count for a contact.
CANCELLED_STATUSES: frozenset[str] = frozenset({"cancelled", "canceled", "void", "已取消", "取消"})


def purchase_mask(orders: pd.DataFrame) -> pd.Series:
    """Order lines that count as purchases for attribution.

    Not a refund line (:func:`workbench.data.cleaning.refund_mask`, with ``is_refund`` read as a
    yes/no flag), not a cancelled order (:data:`CANCELLED_STATUSES`) and no negative ``amount``.

    Parameters
    ----------
    orders : pandas.DataFrame
        ``amount``; ``is_refund`` and ``status`` when present.

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``.
    """
    amount = pd.to_numeric(orders["amount"], errors="coerce")
    keep = amount.fillna(0) >= 0
    marks = pd.DataFrame(index=orders.index)
    if "is_refund" in orders.columns:
        marks["is_refund"] = flag(orders["is_refund"]).fillna(False)
    if "status" in orders.columns:
        marks["status"] = orders["status"]
        status = orders["status"].astype("string").str.strip().str.lower()
        keep &= ~status.isin(CANCELLED_STATUSES).fillna(False)
    return keep & ~refund_mask(marks)


def attribute_orders(
    contacts: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    window_days: float = 14,
    data_end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Orders, conversion and revenue attributed to each contact (DuckDB range join).

    Parameters
    ----------
    contacts : pandas.DataFrame
        ``customer_id``, ``contact_time``; one row per contact.
    orders : pandas.DataFrame
        ``customer_id``, ``order_time``, ``amount``; ``is_refund`` and ``status`` when present
        (refund and cancelled lines never count, see :func:`purchase_mask`).
    window_days : float, default 14
        An order counts when ``contact_time < order_time <= contact_time + window_days``.
    data_end : Timestamp, optional
        Orders after this are ignored (default: none ignored).

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``contacts``: ``orders`` (int), ``converted`` (bool),
        ``revenue`` (float). Contacts without ``contact_time`` get 0.

    Raises
    ------
    AnalysisError
        ``orders`` lacks ``customer_id``, ``order_time`` or ``amount``.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a"], "contact_time": pd.to_datetime(["2025-01-01"])})
    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "order_time": pd.to_datetime(["2025-01-02", "2025-02-01"]),
    ...                   "amount": [10.0, 5.0]})
    >>> attribute_orders(c, o, window_days=14)["revenue"].tolist()
    [10.0]
    """
    import duckdb

    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(
                f"orders: column {col!r} is needed to attribute campaign outcomes "
                f"(columns: {', '.join(map(str, orders.columns))}); map it in the orders table's columns "
                "or take the outcomes from the contacts (outcome_source='columns')"
            )
    c = pd.DataFrame(
        {
            "rid": np.arange(len(contacts), dtype=np.int64),
            "customer_id": contacts["customer_id"].astype("string").to_numpy(dtype=object),
            "t0": naive_time(contacts["contact_time"]).to_numpy(),
        }
    )
    c["t1"] = c["t0"] + pd.Timedelta(days=float(window_days))
    amount = pd.to_numeric(orders["amount"], errors="coerce")
    o_time = naive_time(orders["order_time"])
    keep = purchase_mask(orders) & o_time.notna()
    if data_end is not None:
        keep &= o_time <= pd.Timestamp(data_end)
    o = pd.DataFrame(
        {
            "customer_id": orders.loc[keep, "customer_id"].astype("string").to_numpy(dtype=object),
            "t": o_time[keep].to_numpy(),
            "amount": amount[keep].fillna(0).to_numpy(dtype="float64"),
        }
    )
    con = duckdb.connect()
    try:
        con.register("c", c)
        con.register("o", o)
        res = con.execute(
            """
            SELECT c.rid, count(o.t) AS n, coalesce(sum(o.amount), 0.0) AS rev
            FROM c JOIN o
              ON o.customer_id = c.customer_id AND o.t > c.t0 AND o.t <= c.t1
            GROUP BY c.rid
            """
        ).df()
    finally:
        con.close()
    n = np.zeros(len(c), dtype=np.int64)
    rev = np.zeros(len(c), dtype="float64")
    rid = res["rid"].to_numpy(dtype=np.int64)
    n[rid] = res["n"].to_numpy(dtype=np.int64)
    rev[rid] = np.round(res["rev"].to_numpy(dtype="float64"), 2)
    return pd.DataFrame({"orders": n, "converted": n > 0, "revenue": rev}, index=contacts.index)
