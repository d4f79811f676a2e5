"""The BTYD inputs of a table kept in the engine: :func:`rfm_summary` and the tracking curve's
counts as engine aggregates.

The same rules as the pandas code in :mod:`workbench.value.summary` (refund lines and negative
amounts are not purchases, same-day lines are one purchase, the first purchase is not a repeat
purchase, day totals are the spend), written as Ibis expressions so they run on DuckDB and on
Spark. Only one row per customer (the summary) or one row per day (the tracking counts) comes
back to pandas: never the order lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.data import engine
from workbench.data.features import fetch_frame
from workbench.data.orders import refund_mask_expr

__all__ = ["purchase_lines_expr", "rfm_summary_engine", "tracking_counts_engine", "TrackingCounts"]

_EPOCH = ibis.date(1970, 1, 1)


def _check_columns(orders: ir.Table, need: list[str]) -> None:
    from workbench.value.summary import check_order_columns

    check_order_columns(list(orders.columns), need)


def purchase_lines_expr(
    orders: ir.Table, *, customer_col: str = "customer_id", time_col: str = "order_time", amount_col: str | None = "amount"
) -> ir.Table:
    """Every order line classified as :func:`workbench.value.summary.rfm_summary` does.

    Returns
    -------
    ibis Table
        ``c`` (customer), ``day`` (days since 1970-01-01, null without a time), ``amount`` and the
        flags ``bad`` (no time or customer), ``refund``, ``negative`` (a negative amount not
        marked as refund), ``keep`` (a purchase line) and ``positive`` (a purchase line with a
        positive amount).
    """
    _check_columns(orders, [customer_col, time_col] + ([amount_col] if amount_col else []))
    kind = orders[time_col].type()
    if not (kind.is_timestamp() or kind.is_date()):
        raise AnalysisError(
            f"orders.{time_col}: the engine path needs a date or timestamp column, not {kind}; "
            "the contract parses it (tables.orders.columns)"
        )
    when = orders[time_col]
    day = (when.date() if kind.is_timestamp() else when).delta(_EPOCH, unit="day")
    amount = orders[amount_col].cast("float64") if amount_col else ibis.null("float64")
    t = orders.select(c=orders[customer_col], day=day, amount=amount, refund=refund_mask_expr(orders))
    t = t.mutate(bad=t.day.isnull() | t.c.isnull())
    t = t.mutate(negative=(t.amount < 0).fill_null(False) & ~t.refund)
    t = t.mutate(keep=~t.bad & ~t.refund & ~t.negative)
    return t.mutate(positive=t.keep & (t.amount > 0).fill_null(False))


def _info(lines: ir.Table, *, amount_col: str | None) -> dict[str, Any]:
    """What was left out (as ``_purchase_days``' info) and the day range of the raw times."""
    lx = lines
    good = ~lx.bad
    row = fetch_frame(lx.aggregate(
        n_rows=lx.count(),
        n_bad=lx.count(where=lx.bad),
        n_refund=lx.count(where=lx.refund & good),
        n_negative=lx.count(where=lx.negative & good),
        n_zero=lx.count(where=lx.keep & (lx.amount == 0).fill_null(False)),
        n_missing=lx.count(where=lx.keep & lx.amount.isnull()),
        n_keep=lx.count(where=lx.keep),
        first_data=lx.day.min(),
        last_data=lx.day.max(),
    )).iloc[0]  # fmt: skip
    info: dict[str, Any] = {
        "n_rows": int(row["n_rows"]),
        "n_rows_missing_time_or_customer": int(row["n_bad"]),
        "n_refund_rows": int(row["n_refund"]),
        "n_negative_rows": int(row["n_negative"]),
        "n_zero_amount_rows": int(row["n_zero"]),
        "n_missing_amount_rows": int(row["n_missing"]) if amount_col else 0,
    }
    info["n_excluded_from_purchases"] = (info["n_refund_rows"] + info["n_negative_rows"]
                                         + info["n_rows_missing_time_or_customer"])
    info["n_excluded_from_monetary"] = (info["n_excluded_from_purchases"] + info["n_zero_amount_rows"]
                                        + info["n_missing_amount_rows"])
    info["_n_keep"] = int(row["n_keep"])
    info["_range"] = (None if pd.isna(row["first_data"]) else int(row["first_data"]),
                      None if pd.isna(row["last_data"]) else int(row["last_data"]))
    return info


def _in_order_sum(values: ir.NumericColumn, order: ir.Column, where: ir.BooleanValue | None = None, *,
                  ordered_aggregates: bool = True) -> ir.NumericScalar:
    """The sum of ``values`` added one by one in the order of ``order``, as the pandas path adds
    them (a plain engine sum adds in any order, and a last-bit difference in a spend figure
    changes the Gamma-Gamma fit and the rank correlation of the independence check).

    DuckDB collects the values in order (``ordered_aggregates``); an engine without ordered
    aggregates (Spark) collects (order, value) pairs and sorts them. Both arrays are then added
    left to right."""
    if ordered_aggregates:
        return values.collect(order_by=order, where=where).sums()
    pairs = ibis.struct({"k": order, "v": values}).collect(where=where)
    return pairs.sort().map(lambda pair: pair.v).sums()


def _periods(lines: ir.Table, *, cal_day: int, last_day: int, weekly: bool, ordered: bool) -> ir.Table:
    """Purchase lines up to ``last_day`` summed per customer, period and side of ``cal_day``
    (``cal``): ``total`` (positive amounts), ``npos`` (positive lines), ``dmin`` (first day).

    As in pandas, the lines of a day are summed first; a week's total adds its day totals in
    day order."""
    k = lines.filter([lines.keep, lines.day <= last_day])
    k = k.mutate(amt=ibis.ifelse(k.positive, k.amount, 0.0))
    days = k.group_by(["c", "day"]).aggregate(total=k.amt.sum(), npos=k.count(where=k.positive))
    days = days.mutate(cal=days.day <= cal_day)
    if not weekly:
        return days.mutate(p=days.day, dmin=days.day)
    days = days.mutate(p=(days.day + 3) // 7)
    return days.group_by(["c", "p", "cal"]).aggregate(
        total=_in_order_sum(days.total, days.day, ordered_aggregates=ordered), npos=days.npos.sum(),
        dmin=days.day.min(),
    )


def _calibration_expr(g: ir.Table, *, cal_p: int, ordered: bool) -> ir.Table:
    """``frequency``, the period range, ``first_raw`` and the repeat spend per customer."""
    cal = g.filter(g.cal)
    first = cal.group_by("c").aggregate(first=cal.p.min(), last=cal.p.max(), n=cal.count(), first_raw=cal.dmin.min())
    j = cal.inner_join(first, "c")
    repeat = (j.p != j.first) & (j.npos > 0)
    spend = j.group_by("c").aggregate(m_sum=_in_order_sum(j.total, j.p, repeat, ordered_aggregates=ordered),
                                       m_n=j.count(where=repeat))
    out = first.inner_join(spend, "c")
    return out.mutate(span=out["last"] - out["first"], age=cal_p - out["first"])


def _holdout_expr(g: ir.Table, *, ordered: bool) -> ir.Table:
    """Holdout periods per customer: ``h_count``, positive-spend ``h_sum`` and ``h_n``."""
    h = g.filter(~g.cal)
    pos = h.npos > 0
    return h.group_by("c").aggregate(
        h_count=h.count(), h_sum=_in_order_sum(h.total, h.p, pos, ordered_aggregates=ordered), h_n=h.count(where=pos)
    )


def rfm_summary_engine(
    orders: ir.Table,
    *,
    cal_day: int,
    obs_day: int | None,
    weekly: bool,
    scale: float,
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    amount_col: str | None = "amount",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The per-customer columns of :func:`workbench.value.summary.rfm_summary`, computed in the
    engine (the caller adds the window's entries to ``info`` and checks the ranges).

    Parameters
    ----------
    orders : ibis Table
        Canonical orders in the engine.
    cal_day, obs_day : int
        Calibration and observation ends, days since 1970-01-01 (``obs_day`` None: no holdout).
    weekly : bool
        Collapse purchases to Monday-based weeks (``period="unit"`` with weeks).
    scale : float
        Divisor of the period differences (``unit``, or 1 for whole periods).

    Returns
    -------
    (frame, info)
        The frame as ``rfm_summary``'s (index customer id, sorted) and the counts of what was left
        out (``info["_range"]``: first and last raw day; ``info["_n_holdout"]``).

    Raises
    ------
    AnalysisError
        The same conditions and messages as the pandas path.
    """
    from workbench.value.summary import CALIBRATION_KEY, _date_str

    lines = purchase_lines_expr(orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col)
    info = _info(lines, amount_col=amount_col)
    if info["_n_keep"] == 0:
        raise AnalysisError("orders: no purchase rows left after removing refunds and negative amounts")
    first_data, last_data = info["_range"]
    if first_data is None:
        raise AnalysisError(f"orders.{time_col}: no parseable date; fix the column or time_col=")
    ordered = engine.backend_name(orders._find_backend()) == "duckdb"
    g = _periods(lines, cal_day=cal_day, last_day=obs_day if obs_day is not None else cal_day, weekly=weekly,
                 ordered=ordered)
    cal_p = (cal_day + 3) // 7 if weekly else cal_day
    expr = _calibration_expr(g, cal_p=cal_p, ordered=ordered)
    if obs_day is not None:
        expr = expr.left_join(_holdout_expr(g, ordered=ordered), "c").drop("c_right")
    frame = fetch_frame(expr.order_by("c"))
    if frame.empty:
        raise AnalysisError(
            f"no purchase on or before calibration_end {_date_str(cal_day)} (orders run "
            f"{_date_str(first_data)} to {_date_str(last_data)}); move {CALIBRATION_KEY} later"
        )
    out = _summary_frame(frame, customer_col=customer_col, scale=scale, monetary=bool(amount_col))
    if obs_day is not None:
        from workbench.value.summary import check_holdout_window

        check_holdout_window(cal_day, obs_day, last_data)
        info["_n_holdout"] = _add_holdout(out, frame, cal_day=cal_day, obs_day=obs_day, weekly=weekly, scale=scale,
                                          monetary=bool(amount_col))
    return out, info


def _summary_frame(frame: pd.DataFrame, *, customer_col: str, scale: float, monetary: bool) -> pd.DataFrame:
    """The calibration columns from the engine's per-customer aggregates."""
    n = frame["n"].to_numpy(dtype="int64")
    out = pd.DataFrame(
        {
            "frequency": (n - 1).astype("int64"),
            "recency": (frame["span"].to_numpy(dtype="float64") / scale).astype("float64"),
            "T": (frame["age"].to_numpy(dtype="float64") / scale).astype("float64"),
        },
        index=pd.Index(frame["c"].to_numpy(), name=customer_col),
    )
    if monetary:
        m_n = frame["m_n"].to_numpy(dtype="int64")
        m_sum = frame["m_sum"].to_numpy(dtype="float64", na_value=0.0)
        out["monetary_value"] = np.where(m_n > 0, m_sum / np.maximum(m_n, 1), 0.0)
    days = frame["first_raw"].to_numpy(dtype="int64").astype("datetime64[D]")
    out["first_purchase"] = pd.to_datetime(days).as_unit("ns")
    return out


def _add_holdout(out: pd.DataFrame, frame: pd.DataFrame, *, cal_day: int, obs_day: int, weekly: bool, scale: float,
                 monetary: bool) -> int:
    """Add the holdout columns to ``out`` in place; the number of holdout purchases."""
    from workbench.value.summary import CALIBRATION_KEY, _date_str, _period

    h_count = frame["h_count"].fillna(0).to_numpy(dtype="int64")
    if h_count.sum() == 0:
        raise AnalysisError(
            f"no purchase by calibration customers between {_date_str(cal_day + 1)} and "
            f"{_date_str(obs_day)}: the holdout is empty; move {CALIBRATION_KEY} earlier"
        )
    out["frequency_holdout"] = h_count
    out["duration_holdout"] = float((_period(obs_day, weekly) - _period(cal_day, weekly)) / scale)
    if monetary:
        h_n = frame["h_n"].fillna(0).to_numpy(dtype="int64")
        h_sum = frame["h_sum"].to_numpy(dtype="float64", na_value=0.0)
        out["monetary_value_holdout"] = np.where(h_n > 0, np.nan_to_num(h_sum) / np.maximum(h_n, 1), 0.0)
    return int(h_count.sum())


@dataclass(frozen=True)
class TrackingCounts:
    """What the tracking curve needs of the orders, as counts by day.

    Attributes
    ----------
    repeat_days, repeat_n : numpy.ndarray
        Days (since 1970-01-01, sorted) with repeat purchases of the cohort, and how many.
    cohort_days, cohort_n : numpy.ndarray
        First purchase days of the cohort's customers (sorted) and how many customers each.
    last_data : int
        Last raw order day.
    """

    repeat_days: np.ndarray
    repeat_n: np.ndarray
    cohort_days: np.ndarray
    cohort_n: np.ndarray
    last_data: int


def tracking_counts_engine(
    orders: ir.Table,
    *,
    obs_day: int,
    cohort_end: int,
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    amount_col: str | None = None,
) -> TrackingCounts:
    """Purchase days up to ``obs_day`` of the customers whose first purchase is on or before
    ``cohort_end``, counted by day in the engine (see :func:`workbench.value.diagnostics.tracking_curve`).

    Raises
    ------
    AnalysisError
        No parseable date in the orders.
    """
    lines = purchase_lines_expr(orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col)
    span = fetch_frame(lines.aggregate(last=lines.day.max())).iloc[0]
    if pd.isna(span["last"]):
        raise AnalysisError(f"orders.{time_col}: no parseable date; fix the column or time_col=")
    k = lines.filter([lines.keep, lines.day <= obs_day]).select("c", "day").distinct()
    first = k.group_by("c").aggregate(first=k.day.min())
    first = first.filter(first["first"] <= cohort_end)
    cohort = fetch_frame(first.group_by("first").aggregate(n=first.count()).order_by("first"))
    j = k.inner_join(first, "c")
    j = j.filter(j.day != j["first"])
    repeat = fetch_frame(j.group_by("day").aggregate(n=j.count()).order_by("day"))
    return TrackingCounts(
        repeat_days=repeat["day"].to_numpy(dtype="int64"), repeat_n=repeat["n"].to_numpy(dtype="int64"),
        cohort_days=cohort["first"].to_numpy(dtype="int64"), cohort_n=cohort["n"].to_numpy(dtype="int64"),
        last_data=int(span["last"]),
    )


def as_engine_table(orders: Any, con: Any) -> ir.Table:
    """``orders`` (a resident table, a Parquet path or an Ibis table) as a table of ``con``
    (default a new in-memory DuckDB)."""
    if isinstance(orders, ir.Table):
        return orders
    return engine.as_table(con if con is not None else engine.connect(), orders)
