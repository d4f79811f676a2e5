"""Customer-level features computed in the query engine.

The feature code is written as `Ibis <https://ibis-project.org>`_ expressions: they run in the
embedded DuckDB engine by default and, unchanged, on any backend Ibis supports (Spark, Trino,
BigQuery, Snowflake, ClickHouse, PostgreSQL ...) when a base outgrows one machine. Only the
customer-level result is brought into pandas, once, at the end.

Everything is *as of* a date: rows after ``as_of`` are filtered out first, so features never see
the future. That is what makes churn labels (from the window after ``as_of``) and holdout checks
honest.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.core.dates import end_of
from workbench.core.errors import ContractError
from workbench.data import engine

# Ibis 12 under pandas 3 emits deprecation chatter that would clutter every report.
warnings.filterwarnings("ignore", message=".*future.infer_string.*")
warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*", category=DeprecationWarning)

__all__ = [
    "connect",
    "register",
    "purchases_expr",
    "refund_status_expr",
    "fetch_frame",
    "purchase_channels_expr",
    "customer_features_expr",
    "customer_features",
    "FEATURE_DOC",
]

#: What each feature column means (shown in notebooks and the README).
FEATURE_DOC: dict[str, str] = {
    "customer_id": "customer key",
    "first_order": "first purchase time up to as_of",
    "last_order": "last purchase time up to as_of",
    "n_orders": "purchase orders (refund lines and non-positive amounts excluded)",
    "n_purchase_days": "distinct days with a purchase (same-day orders count once)",
    "monetary_sum": "sum of purchase amounts",
    "monetary_mean": "mean purchase amount per order",
    "monetary_net": "purchases minus refunds",
    "n_refunds": "refund lines (flagged or negative amount)",
    "refund_amount": "refunded amount (positive number)",
    "refund_share": "refund lines / purchase orders",
    "refund_amount_share": "refund amount / purchase amount",
    "recency_days": "days from the last purchase to as_of",
    "tenure_days": "days from sign-up (or first purchase when sign-up is unknown) to as_of",
    "gap_mean_days": "mean days between distinct purchase days",
    "gap_median_days": "median days between distinct purchase days",
    "gap_max_days": "longest gap between distinct purchase days",
    "btyd_frequency": "repeat purchase days (n_purchase_days - 1), as BTYD models count them",
    "btyd_recency_days": "days from first to last purchase",
    "btyd_T_days": "days from first purchase to as_of",
    "preferred_channel": "channel with most purchase orders (ties: alphabetical)",
    "n_channels": "distinct channels used",
    "share_<channel>": "share of purchase orders in that channel",
}


def connect(database: str | Path = ":memory:", **options: Any) -> ibis.BaseBackend:
    """Open the query engine (:func:`workbench.data.engine.connect`; DuckDB unless
    ``backend="spark"``).

    Parameters
    ----------
    database : str or Path, default ":memory:"
        DuckDB database file, or in-memory.
    **options
        ``backend``, ``threads``, ``memory_limit``, ``master``, ``config`` (see
        :func:`workbench.data.engine.connect`).
    """
    return engine.connect(database=database, **options)


def register(con: ibis.BaseBackend, tables: Mapping[str, pd.DataFrame | str | Path | ir.Table]) -> dict[str, ir.Table]:
    """Make tables available to the engine under their names (:func:`workbench.data.engine.as_table`).

    Parameters
    ----------
    con : Ibis backend
    tables : mapping
        Name -> pandas DataFrame (a temporary view, nothing written), a path to a Parquet or CSV
        file (read by the engine without passing through pandas), or an Ibis table.

    Returns
    -------
    dict of str to ibis Table
    """
    return {name: engine.as_table(con, obj, name=name) for name, obj in tables.items()}


def refund_status_expr(status: ir.StringValue) -> ir.BooleanValue:
    """A status that marks a refund: it contains "refund" (any case) or "退" (the engine's rule,
    as :func:`workbench.data.orders.purchase_mask`'s)."""
    st = status.lower().fill_null("")
    return st.contains("refund") | st.contains("退")


def _lines(orders: ir.Table, *, as_of: dt.date | str | pd.Timestamp) -> ir.Table:
    """Order lines up to the end of ``as_of`` with a customer and an amount, flagged ``_refund``."""
    end = ibis.timestamp(end_of(as_of).to_pydatetime())
    t = orders.filter([orders.order_time < end, orders.customer_id.notnull(), orders.amount.notnull()])
    is_refund = t.amount < 0
    if "is_refund" in t.columns:
        is_refund = is_refund | t.is_refund.fill_null(False)
    if "status" in t.columns:
        is_refund = is_refund | refund_status_expr(t.status)
    return t.mutate(_refund=is_refund)


def purchases_expr(orders: ir.Table, *, as_of: dt.date | str | pd.Timestamp) -> tuple[ir.Table, ir.Table]:
    """Split orders up to ``as_of`` into purchase lines and refund lines.

    A refund line is one with ``is_refund`` true, a status containing "refund"/"退", or a negative
    amount. Purchases are the other lines with a positive amount.

    Returns
    -------
    purchases, refunds : ibis Table
    """
    t = _lines(orders, as_of=as_of)
    return t.filter([~t._refund, t.amount > 0]), t.filter(t._refund)


def purchase_channels_expr(orders: ir.Table, *, as_of: dt.date | str | pd.Timestamp) -> ir.Table:
    """The channels of purchase lines up to ``as_of`` (a missing channel is ``"(missing)"``).

    The same lines as :func:`purchases_expr`, found without classifying every line: the cheap
    conditions (positive amount, not flagged) filter the lines, and the status test runs on the
    few distinct (channel, status) pairs left.

    Returns
    -------
    ibis Table
        One column ``channel``, one row per channel.
    """
    end = ibis.timestamp(end_of(as_of).to_pydatetime())
    t = orders.filter([orders.order_time < end, orders.customer_id.notnull(), orders.amount > 0])
    if "is_refund" in t.columns:
        t = t.filter(~t.is_refund.fill_null(False))
    if "status" in t.columns:
        pairs = t.select("channel", "status").distinct()
        t = pairs.filter(~refund_status_expr(pairs.status))
    return t.select(channel=t.channel.fill_null("(missing)")).distinct()


def _safe(name: str) -> str:
    s = re.sub(r"\W+", "_", str(name), flags=re.UNICODE).strip("_")
    return s or "blank"


def _gap_stats(lines: ir.Table) -> ir.Table:
    """Per customer: distinct purchase days and the median and longest gap between them.

    One lag over the purchase days of each customer, ordered by day: a customer's lines on the
    same day give a gap of 0, which is not a gap between distinct days. Only the two columns the
    window needs go through it (its sort is most of this query's time).
    """
    d = lines.filter(lines._buy).select("customer_id", "day")
    w = ibis.window(group_by="customer_id", order_by="day")
    d = d.mutate(gap=d.day.delta(d.day.lag().over(w), unit="day"))
    # a gap of 0 (same day) is no gap; nulled rather than filtered with where=, which Ibis's
    # Spark median does not compile
    d = d.mutate(pos=d.gap.nullif(0))
    return d.group_by("customer_id").aggregate(
        n_purchase_days=d.count(where=d.gap.isnull() | (d.gap > 0)),
        gap_median_days=d.pos.median(),
        gap_max_days=d.pos.max(),
    )


def _channel_mix(g: ir.Table, channels: list[str]) -> dict[str, ir.Value]:
    """Preferred channel, channels used and the channel shares from per-channel counts ``_n<i>``."""
    counts = [g[f"_n{i}"] for i in range(len(channels))]
    if not counts:
        return {"preferred_channel": ibis.null("string"), "n_channels": ibis.null("int64")}
    top = ibis.greatest(*counts) if len(counts) > 1 else counts[0]
    # channels are sorted, so the first that reaches the top count is the alphabetical tie-break
    out: dict[str, ir.Value] = {
        "preferred_channel": ibis.cases(*((n == top, c) for c, n in zip(channels, counts, strict=True))),
        "n_channels": sum(((n > 0).cast("int64") for n in counts[1:]), (counts[0] > 0).cast("int64")),
    }
    for c, n in zip(channels, counts, strict=True):
        out[f"share_{_safe(c)}"] = n / g.n_orders
    return out


def customer_features_expr(
    orders: ir.Table,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customers: ir.Table | None = None,
    channels: list[str] | None = None,
) -> ir.Table:
    """Build the customer feature table as one lazy Ibis expression.

    The plan is two passes over the order lines: one aggregation per customer (purchases,
    refunds and channel counts together, as filtered aggregates) and one window over purchase
    days alone for the gaps; the mean gap needs no window, ``(last_day - first_day) /
    (n_purchase_days - 1)``. Only portable Ibis operations, so it runs on DuckDB and on Spark.

    Parameters
    ----------
    orders : ibis Table
        Canonical orders (``customer_id``, ``order_time``, ``amount``; optional ``channel``,
        ``is_refund``, ``status``).
    as_of : date
        Only rows up to the end of this day are used.
    customers : ibis Table, optional
        Canonical customers; when given, every customer who signed up by ``as_of`` gets a row
        (zero orders included) and tenure counts from ``signup_date``.
    channels : list of str, optional
        Every channel of the purchase lines up to ``as_of`` (:func:`purchase_channels_expr`);
        required when ``orders`` has ``channel`` (use :func:`customer_features`, which finds
        them). Preferred channel and channel count are computed from these channels only.

    Returns
    -------
    ibis Table
        One row per customer; columns as in :data:`FEATURE_DOC`.
    """
    asof_date = ibis.date(pd.Timestamp(as_of).date())
    t = _lines(orders, as_of=as_of)
    has_channel = "channel" in orders.columns
    if has_channel and channels is None:
        raise ValueError("channels must be given when orders have a channel column")
    t = t.select("customer_id", "order_time", "amount", "_refund", *(["channel"] if has_channel else []))
    t = t.mutate(_buy=~t._refund & (t.amount > 0), day=t.order_time.date())
    buy = t._buy
    aggs: dict[str, ir.Value] = {
        "first_order": t.order_time.min(where=buy),
        "last_order": t.order_time.max(where=buy),
        "n_orders": t.count(where=buy),
        "monetary_sum": t.amount.sum(where=buy),
        "monetary_mean": t.amount.mean(where=buy),
        "first_day": t.day.min(where=buy),
        "last_day": t.day.max(where=buy),
        "n_refunds": t.count(where=t._refund),
        "refund_amount": t.amount.abs().sum(where=t._refund),
    }
    chans = sorted({str(c) for c in channels}) if has_channel and channels is not None else []
    if has_channel:
        ch = t.channel.fill_null("(missing)")
        aggs.update({f"_n{i}": t.count(where=buy & (ch == c)) for i, c in enumerate(chans)})
    g = t.group_by("customer_id").aggregate(**aggs)
    g = g.filter(g.n_orders > 0).inner_join(_gap_stats(t), "customer_id")
    g = g.mutate(
        gap_mean_days=ibis.ifelse(
            g.n_purchase_days > 1, g.last_day.delta(g.first_day, unit="day") / (g.n_purchase_days - 1), ibis.null()
        )
    )
    if has_channel:
        g = g.mutate(**_channel_mix(g, chans)).drop(*[f"_n{i}" for i in range(len(chans))])
    feats = g.select(
        "customer_id", "first_order", "last_order", "n_orders", "n_purchase_days", "monetary_sum",
        "monetary_mean", "first_day", "last_day", "n_refunds", "refund_amount", "gap_mean_days",
        "gap_median_days", "gap_max_days",
        *(["preferred_channel", "n_channels", *(f"share_{_safe(c)}" for c in chans)] if has_channel else []),
    )  # fmt: skip

    if customers is not None:
        cust = customers.select("customer_id", *(["signup_date"] if "signup_date" in customers.columns else []))
        if "signup_date" in cust.columns:
            cust = cust.filter(cust.signup_date.isnull() | (cust.signup_date.date() <= asof_date))
        cust = cust.distinct(on="customer_id", keep="first")
        feats = cust.left_join(feats, "customer_id").drop("customer_id_right")

    n_orders = feats.n_orders.fill_null(0)
    out = feats.mutate(
        n_orders=n_orders,
        n_purchase_days=feats.n_purchase_days.fill_null(0),
        monetary_sum=feats.monetary_sum.fill_null(0.0),
        n_refunds=feats.n_refunds.fill_null(0),
        refund_amount=feats.refund_amount.fill_null(0.0),
    )
    out = out.mutate(
        monetary_net=out.monetary_sum - out.refund_amount,
        refund_share=ibis.ifelse(out.n_orders > 0, out.n_refunds / out.n_orders, ibis.null()),
        refund_amount_share=ibis.ifelse(
            out.monetary_sum > 0, out.refund_amount / out.monetary_sum, ibis.null()
        ),
        recency_days=asof_date.delta(out.last_day, unit="day"),
        btyd_frequency=(out.n_purchase_days - 1).clip(lower=0),
        btyd_recency_days=out.last_day.delta(out.first_day, unit="day"),
        btyd_T_days=asof_date.delta(out.first_day, unit="day"),
    )
    start = out.first_day
    if customers is not None and "signup_date" in customers.columns:
        start = out.signup_date.date().fill_null(out.first_day)
    out = out.mutate(tenure_days=asof_date.delta(start, unit="day"))
    drop = [c for c in ("first_day", "last_day", "signup_date") if c in out.columns]
    return out.drop(*drop).order_by("customer_id")


def fetch_frame(expr: ir.Table) -> pd.DataFrame:
    """Run an expression and return pandas, the same frame as ``expr.to_pandas()``.

    On DuckDB through Arrow and Ibis's dtype conversion: Ibis's own DuckDB ``to_pandas`` turns
    every column holding a missing value into Python objects first, seconds on a million
    customers. Other engines use their own ``to_pandas``.
    """
    if engine.backend_name(expr._find_backend()) != "duckdb":
        return expr.to_pandas()
    from ibis.backends.duckdb.converter import DuckDBPandasData

    return DuckDBPandasData.convert_table(expr.to_pyarrow().to_pandas(), expr.schema())


_fetch = fetch_frame  # the earlier private name (tests use it)


def customer_features(
    orders: pd.DataFrame | ir.Table,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customers: pd.DataFrame | ir.Table | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """Customer feature table as of a date, computed in the engine.

    Parameters
    ----------
    orders : pandas.DataFrame or ibis Table
        Canonical (cleaned) orders.
    as_of : date
        Only data up to the end of this day is used.
    customers : pandas.DataFrame or ibis Table, optional
        Canonical customers; adds customers without purchases and sign-up based tenure.
    con : Ibis backend, optional
        Engine to use; default a new in-memory DuckDB.

    Returns
    -------
    pandas.DataFrame
        One row per customer, sorted by ``customer_id``; columns described in
        :data:`FEATURE_DOC`.

    Raises
    ------
    ContractError
        A needed column is missing.

    Examples
    --------
    >>> orders = pd.DataFrame({"order_id": ["1", "2"], "customer_id": ["a", "a"],
    ...     "order_time": pd.to_datetime(["2024-01-01", "2024-01-11"]), "amount": [10.0, 30.0]})
    >>> f = customer_features(orders, as_of="2024-01-31")
    >>> f[["n_orders", "monetary_mean", "recency_days", "gap_mean_days"]].iloc[0].tolist()
    [2, 20.0, 20, 10.0]
    """
    needed = ("customer_id", "order_time", "amount")
    cols = list(orders.columns)
    missing = [c for c in needed if c not in cols]
    if missing:
        raise ContractError("orders", f"feature build needs column(s) {', '.join(missing)}")
    con = con or connect()
    o = orders if isinstance(orders, ir.Table) else register(con, {"orders": orders})["orders"]
    c = None
    if customers is not None:
        c = customers if isinstance(customers, ir.Table) else register(con, {"customers": customers})["customers"]
    channels = None
    if "channel" in o.columns:
        channels = sorted(str(v) for v in fetch_frame(purchase_channels_expr(o, as_of=as_of))["channel"].tolist())
    expr = customer_features_expr(o, as_of=as_of, customers=c, channels=channels)
    frame = fetch_frame(expr)
    if "n_channels" in frame:
        frame["n_channels"] = frame["n_channels"].fillna(0)
    for col in ("n_orders", "n_purchase_days", "n_refunds", "btyd_frequency", "n_channels"):
        if col in frame:
            frame[col] = frame[col].astype("int64")
    return frame.reset_index(drop=True)
