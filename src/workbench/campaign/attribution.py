"""Orders attributed to campaign contacts: what each contacted customer bought in the window
after the contact (an Ibis range join: runs on DuckDB and on Spark)."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.campaign._common import flag, naive_time
from workbench.core.contract import DEFAULT_TRUE_VALUES
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.data.cleaning import refund_mask
from workbench.data.engine import as_table, close, connect
from workbench.data.orders import REFUND_STATUSES

__all__ = ["CANCELLED_STATUSES", "CREDIT_RULES", "attribute_orders", "purchase_mask"]

#: How an order in the windows of several contacts of its customer is credited: ``last_touch``
#: (all of it to the latest of those contacts), ``fractional`` (an equal share to each, the
#: linear model) or ``every`` (all of it to each: the old double count, kept for comparison).
CREDIT_RULES: tuple[str, ...] = ("last_touch", "fractional", "every")

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


def _purchase_lines(
    con: ibis.BaseBackend, orders: pd.DataFrame | ir.Table, *, data_end: pd.Timestamp | None = None
) -> ir.Table:
    """The purchase lines of the orders as an engine table ``customer_id`` (text), ``t``, ``amount``.

    The rule of :func:`purchase_mask`: pandas orders are masked in pandas (then handed to the
    engine); an Ibis table is filtered in the engine by the same rule (``is_refund`` true as a
    boolean, a non-zero number or a yes word; ``status`` a refund or cancelled word; a negative
    ``amount``). Lines without ``order_time`` or after ``data_end`` are left out; a missing
    amount counts as 0.

    Parameters
    ----------
    con : ibis.BaseBackend
    orders : pandas.DataFrame or ibis Table
        ``customer_id``, ``order_time``, ``amount``; ``is_refund`` and ``status`` when present.
    data_end : Timestamp, optional
        Orders after this are left out.

    Returns
    -------
    ibis Table
        With ``oid``, a key of the purchase line.
    """
    if isinstance(orders, ir.Table):
        return _purchases_expr(orders, data_end=data_end)
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
            "oid": np.arange(int(keep.sum()), dtype=np.int64),
        }
    )
    return as_table(con, o)


def _purchases_expr(orders: ir.Table, *, data_end: pd.Timestamp | None) -> ir.Table:
    """:func:`purchase_mask` in the engine, for orders that are an Ibis table."""
    a = orders.amount
    t = orders.mutate(
        _t=orders.order_time.cast("timestamp"),
        _a=a.cast("float64") if a.type().is_numeric() else a.try_cast("float64"),
    )
    keep = [t._t.notnull(), t._a.fill_null(0) >= 0]
    if data_end is not None:
        keep.append(t._t <= ibis.timestamp(pd.Timestamp(data_end).to_pydatetime()))
    cols = t.columns
    if "is_refund" in cols:
        r = t.is_refund
        if r.type().is_boolean():
            yes = r
        elif r.type().is_numeric():
            yes = r != 0
        else:
            yes = r.cast("string").strip().lower().isin([w.lower() for w in DEFAULT_TRUE_VALUES])
        keep.append(~yes.fill_null(False))
    if "status" in cols:
        st = t.status.cast("string").strip().lower()
        keep.append(~st.isin(sorted(CANCELLED_STATUSES | set(REFUND_STATUSES))).fill_null(False))
    t = t.filter(keep)
    return t.select(customer_id=t.customer_id.cast("string"), t=t._t, amount=t._a.fill_null(0),
                    oid=ibis.row_number().over(ibis.window(order_by=[t.customer_id, t._t])))


def attribute_orders(
    contacts: pd.DataFrame | ir.Table,
    orders: pd.DataFrame | ir.Table,
    *,
    window_days: float = 14,
    data_end: pd.Timestamp | None = None,
    credit_rule: str = "last_touch",
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """Orders, conversion and revenue attributed to each contact (an engine range join).

    A purchase counts for the contacts of its customer whose window covers it, one order one
    credit: with ``credit_rule="last_touch"`` (the default) all of it goes to the latest of those
    contacts (ties: the later row), with ``"fractional"`` each gets an equal share of the order
    and its revenue (the linear model), so the contacts' orders and revenue add up to the
    purchases once; ``"every"`` credits it to each (the double count of overlapping windows,
    kept for comparison).

    Parameters
    ----------
    contacts : pandas.DataFrame or ibis Table
        ``customer_id``, ``contact_time``; one row per contact. An Ibis table is read into
        pandas first (the result has a row per contact anyway).
    orders : pandas.DataFrame or ibis Table
        ``customer_id``, ``order_time``, ``amount``; ``is_refund`` and ``status`` when present
        (refund and cancelled lines never count, see :func:`purchase_mask`). An Ibis table
        stays in the engine.
    window_days : float, default 14
        An order counts when ``contact_time < order_time <= contact_time + window_days``.
    data_end : Timestamp, optional
        Orders after this are ignored (default: none ignored).
    credit_rule : {"last_touch", "fractional", "every"}, default "last_touch"
        How an order in several contacts' windows is credited (see above; ``analyses.campaign.credit_rule``).
    con : ibis.BaseBackend, optional
        Engine (DuckDB or Spark); default the backend of ``orders`` when it is an Ibis table,
        else a fresh in-memory DuckDB.

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``contacts``: ``orders`` (credited orders: int, a fraction
        with ``fractional``), ``converted`` (bool: any credited order), ``revenue`` (float,
        rounded to cents). Contacts without ``contact_time`` get 0. With
        Ibis ``contacts`` the frame also holds their ``customer_id`` and ``contact_time``.

    Raises
    ------
    AnalysisError
        ``orders`` lacks ``customer_id``, ``order_time`` or ``amount``; unknown ``credit_rule``.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a"], "contact_time": pd.to_datetime(["2025-01-01"])})
    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "order_time": pd.to_datetime(["2025-01-02", "2025-02-01"]),
    ...                   "amount": [10.0, 5.0]})
    >>> attribute_orders(c, o, window_days=14)["revenue"].tolist()
    [10.0]
    >>> two = pd.concat([c, c.assign(contact_time=pd.to_datetime(["2025-01-01 12:00"]))], ignore_index=True)
    >>> attribute_orders(two, o, window_days=14)["orders"].tolist()
    [0, 1]
    >>> attribute_orders(two, o, window_days=14, credit_rule="fractional")["revenue"].tolist()
    [5.0, 5.0]
    """
    if credit_rule not in CREDIT_RULES:
        raise AnalysisError(f"credit_rule={credit_rule!r}{did_you_mean(credit_rule, CREDIT_RULES)}; "
                            f"choose one of {', '.join(CREDIT_RULES)}")  # fmt: skip
    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(
                f"orders: column {col!r} is needed to attribute campaign outcomes "
                f"(columns: {', '.join(map(str, orders.columns))}); map it in the orders table's columns "
                "or take the outcomes from the contacts (outcome_source='columns')"
            )
    from_engine = isinstance(contacts, ir.Table)
    if from_engine:
        contacts = contacts.select("customer_id", "contact_time").to_pandas()
    own = con is None and not isinstance(orders, ir.Table)
    if con is None:
        con = ibis.get_backend(orders) if isinstance(orders, ir.Table) else connect()
    try:
        res = con.to_pandas(
            _attribution_expr(con, contacts, orders, window_days=window_days, data_end=data_end,
                              credit_rule=credit_rule)
        )
    finally:
        if own:
            close(con)
    frac = credit_rule == "fractional"
    n = np.zeros(len(contacts), dtype="float64" if frac else np.int64)
    rev = np.zeros(len(contacts), dtype="float64")
    rid = res["rid"].to_numpy(dtype=np.int64)
    n[rid] = res["n"].to_numpy(dtype="float64") if frac else np.round(res["n"].to_numpy(dtype="float64")).astype(np.int64)
    rev[rid] = np.round(res["rev"].to_numpy(dtype="float64"), 2)
    out = pd.DataFrame({"orders": n, "converted": n > 0, "revenue": rev}, index=contacts.index)
    if from_engine:
        out.insert(0, "contact_time", contacts["contact_time"].to_numpy())
        out.insert(0, "customer_id", contacts["customer_id"].to_numpy())
    return out


def _attribution_expr(con: ibis.BaseBackend, contacts: pd.DataFrame, orders: pd.DataFrame | ir.Table, *,
                      window_days: float, data_end: pd.Timestamp | None, credit_rule: str = "last_touch") -> ir.Table:  # fmt: skip
    """Per contact row number ``rid`` with a credited purchase in its window: ``n`` credited
    purchases, ``rev`` their credited revenue (``credit_rule`` as in :func:`attribute_orders`)."""
    t0 = naive_time(contacts["contact_time"])
    c = as_table(con, pd.DataFrame(
        {
            "rid": np.arange(len(contacts), dtype=np.int64),
            "cid": contacts["customer_id"].astype("string").to_numpy(dtype=object),
            "t0": t0.to_numpy(),
            "t1": (t0 + pd.Timedelta(days=float(window_days))).to_numpy(),
        }
    ))  # fmt: skip
    o = _purchase_lines(con, orders, data_end=data_end)
    j = c.join(o, [c.cid == o.customer_id, o.t > c.t0, o.t <= c.t1])
    if credit_rule == "every":
        j = j.mutate(credit=ibis.literal(1.0))
    elif credit_rule == "fractional":
        j = j.mutate(credit=1.0 / j.rid.count().over(ibis.window(group_by=j.oid)).cast("float64"))
    else:
        last = ibis.row_number().over(ibis.window(group_by=j.oid, order_by=[j.t0.desc(), j.rid.desc()]))
        j = j.filter(last == 0).mutate(credit=ibis.literal(1.0))
    return j.group_by("rid").aggregate(n=j.credit.sum(), rev=(j.amount * j.credit).sum())
