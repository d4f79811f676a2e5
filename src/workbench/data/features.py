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

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.core.dates import end_of
from workbench.core.errors import ContractError
from workbench.report.fmt import money

# Ibis 12 under pandas 3 emits deprecation chatter that would clutter every report.
warnings.filterwarnings("ignore", message=".*future.infer_string.*")
warnings.filterwarnings("ignore", message=".*fetch_arrow_table.*", category=DeprecationWarning)

__all__ = [
    "connect",
    "register",
    "purchases_expr",
    "customer_features_expr",
    "customer_features",
    "feature_finding",
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


def connect(database: str | Path = ":memory:", *, threads: int | None = None) -> ibis.BaseBackend:
    """Open an embedded DuckDB engine through Ibis.

    Parameters
    ----------
    database : str or Path, default ":memory:"
        DuckDB database file, or in-memory.
    threads : int, optional
        Engine threads (default: DuckDB's choice, all cores).
    """
    con = ibis.duckdb.connect(str(database))
    if threads:
        con.raw_sql(f"SET threads = {int(threads)}")
    return con


def register(con: ibis.BaseBackend, tables: Mapping[str, pd.DataFrame | str | Path]) -> dict[str, ir.Table]:
    """Make tables available to the engine.

    Parameters
    ----------
    con : Ibis backend
    tables : mapping
        Name -> pandas DataFrame, or a path to a Parquet file (read by the engine without
        passing through pandas).

    Returns
    -------
    dict of str to ibis Table
    """
    out = {}
    for name, obj in tables.items():
        if isinstance(obj, (str, Path)):
            out[name] = con.read_parquet(str(obj), table_name=name)
        else:
            frame = obj
            # pandas nullable booleans/strings go through Arrow fine; object columns of mixed
            # types do not, so make them text first
            obj_cols = [c for c in frame.columns if frame[c].dtype == object]
            if obj_cols:
                frame = frame.astype({c: "string" for c in obj_cols})
            out[name] = con.create_table(name, frame, overwrite=True)
    return out


def purchases_expr(orders: ir.Table, *, as_of: dt.date | str | pd.Timestamp) -> tuple[ir.Table, ir.Table]:
    """Split orders up to ``as_of`` into purchase lines and refund lines.

    A refund line is one with ``is_refund`` true, a status containing "refund"/"退", or a negative
    amount. Purchases are the other lines with a positive amount.

    Returns
    -------
    purchases, refunds : ibis Table
    """
    end = ibis.timestamp(end_of(as_of).to_pydatetime())
    t = orders.filter([orders.order_time < end, orders.customer_id.notnull(), orders.amount.notnull()])
    is_refund = t.amount < 0
    cols = t.columns
    if "is_refund" in cols:
        is_refund = is_refund | t.is_refund.fill_null(False)
    if "status" in cols:
        st = t.status.lower().fill_null("")
        is_refund = is_refund | st.contains("refund") | st.contains("退")
    t = t.mutate(_refund=is_refund)
    purchases = t.filter([~t._refund, t.amount > 0])
    refunds = t.filter(t._refund)
    return purchases, refunds


def _safe(name: str) -> str:
    s = re.sub(r"\W+", "_", str(name), flags=re.UNICODE).strip("_")
    return s or "blank"


def customer_features_expr(
    orders: ir.Table,
    *,
    as_of: dt.date | str | pd.Timestamp,
    customers: ir.Table | None = None,
    channels: list[str] | None = None,
) -> ir.Table:
    """Build the customer feature table as one lazy Ibis expression.

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
        Channels for the ``share_<channel>`` columns; required when ``orders`` has ``channel``
        (use :func:`customer_features`, which finds them).

    Returns
    -------
    ibis Table
        One row per customer; columns as in :data:`FEATURE_DOC`.
    """
    asof_date = ibis.date(pd.Timestamp(as_of).date())
    purchases, refunds = purchases_expr(orders, as_of=as_of)
    p = purchases.mutate(day=purchases.order_time.date())

    agg = p.group_by("customer_id").aggregate(
        first_order=p.order_time.min(),
        last_order=p.order_time.max(),
        n_orders=p.count(),
        n_purchase_days=p.day.nunique(),
        monetary_sum=p.amount.sum(),
        monetary_mean=p.amount.mean(),
        first_day=p.day.min(),
        last_day=p.day.max(),
    )

    r = refunds.group_by("customer_id").aggregate(
        n_refunds=refunds.count(), refund_amount=refunds.amount.abs().sum()
    )

    days = p.select("customer_id", "day").distinct()
    w = ibis.window(group_by="customer_id", order_by="day")
    days = days.mutate(prev=days.day.lag().over(w))
    gaps = days.filter(days.prev.notnull())
    gaps = gaps.mutate(gap=gaps.day.delta(gaps.prev, unit="day"))
    g = gaps.group_by("customer_id").aggregate(
        gap_mean_days=gaps.gap.mean(),
        gap_median_days=gaps.gap.median(),
        gap_max_days=gaps.gap.max(),
    )

    feats = agg.left_join(r, "customer_id").drop("customer_id_right")
    feats = feats.left_join(g, "customer_id").drop("customer_id_right")

    if "channel" in orders.columns:
        if channels is None:
            raise ValueError("channels must be given when orders have a channel column")
        ch = p.mutate(channel=p.channel.fill_null("(missing)"))
        counts = ch.group_by(["customer_id", "channel"]).aggregate(n=ch.count())
        rank_w = ibis.window(group_by="customer_id", order_by=[ibis.desc("n"), "channel"])
        pref = counts.mutate(rk=ibis.row_number().over(rank_w))
        pref = pref.filter(pref.rk == 0).select("customer_id", preferred_channel="channel")
        mix_aggs = {"n_channels": ch.channel.nunique()}
        for c in channels:
            mix_aggs[f"share_{_safe(c)}"] = (ch.channel == c).cast("int64").sum() / ch.count()
        mix = ch.group_by("customer_id").aggregate(**mix_aggs)
        feats = feats.left_join(pref, "customer_id").drop("customer_id_right")
        feats = feats.left_join(mix, "customer_id").drop("customer_id_right")

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
        purchases, _ = purchases_expr(o, as_of=as_of)
        ch = purchases.select(channel=purchases.channel.fill_null("(missing)")).distinct()
        channels = sorted(str(v) for v in ch.to_pandas()["channel"].tolist())
    expr = customer_features_expr(o, as_of=as_of, customers=c, channels=channels)
    frame = expr.to_pandas()
    if "n_channels" in frame:
        frame["n_channels"] = frame["n_channels"].fillna(0)
    for col in ("n_orders", "n_purchase_days", "n_refunds", "btyd_frequency", "n_channels"):
        if col in frame:
            frame[col] = frame[col].astype("int64")
    return frame.reset_index(drop=True)


def feature_finding(features: pd.DataFrame) -> str:
    """A plain-language sentence about a customer feature table.

    Amounts are written with the run's currency (:func:`workbench.report.fmt.money`).

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`customer_features`.

    Returns
    -------
    str
    """
    n = len(features)
    if n == 0:
        return "No customers with data up to the as-of date."
    buyers = features[features["n_orders"] > 0]
    one = float((buyers["n_orders"] == 1).mean()) if len(buyers) else float("nan")
    text = (
        f"{n:,} customers as of the analysis date, {len(buyers):,} of them with at least one purchase; "
        f"{one:.0%} of buyers bought only once. "
    )
    if len(buyers):
        top = buyers["monetary_sum"].sort_values(ascending=False)
        k = max(1, int(round(0.2 * len(top))))
        share = top.iloc[:k].sum() / top.sum() if top.sum() > 0 else float("nan")
        text += (
            f"Median spend per buyer is {money(buyers['monetary_sum'].median())} and the "
            f"top 20 % of buyers bring {share:.0%} of revenue; median days since last purchase: "
            f"{buyers['recency_days'].median():.0f}."
        )
    return text
