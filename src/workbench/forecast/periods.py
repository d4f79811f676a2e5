"""Orders as a series of whole periods (weeks or months) up to the forecast origin.

A purchase is an order row that is not a refund (:func:`workbench.data.cleaning.refund_mask`)
with a positive amount; purchases of one customer on one day are one purchase (as the BTYD
models count them), and its amount is the day's total. Per period: ``revenue``, ``orders``
(purchase days), ``active_customers``, ``new_customers`` (first purchases), ``new_revenue`` (their
first day's spend) and ``repeat_orders``.

Weeks end on the weekday of ``as_of`` (the last week ends on ``as_of``); months are calendar
months and the origin is the last month end on or before ``as_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, format_examples
from workbench.data.cleaning import refund_mask, to_timestamp
from workbench.report import fmt
from workbench.report.i18n import category, date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["Period", "PeriodSeries", "period_series", "period_edges", "purchases", "SEASON"]

Period = Literal["week", "month"]

#: Periods per seasonal cycle (a year).
SEASON: dict[str, int] = {"week": 52, "month": 12}

MEASURES = ("revenue", "orders", "active_customers")


def purchases(orders: pd.DataFrame, *, customer_col: str = "customer_id", time_col: str = "order_time",
              amount_col: str = "amount") -> pd.DataFrame:
    """Purchase days: one row per customer and day with a purchase (refunds and non-positive
    amounts left out), ``customer_id``, ``day`` (datetime64), ``amount`` (the day's total),
    ``first`` (the customer's first purchase day).

    Raises
    ------
    AnalysisError
        A column is missing, or no purchase is left.
    """
    missing = [c for c in (customer_col, time_col, amount_col) if c not in orders.columns]
    if missing:
        raise AnalysisError(
            f"orders: no column(s) {', '.join(repr(c) for c in missing)} (have {format_examples(orders.columns, limit=12)}); "
            "map them in tables.orders.columns"
        )
    amount = pd.to_numeric(orders[amount_col], errors="coerce")
    keep = ~refund_mask(orders) & (amount > 0) & orders[time_col].notna()
    day = pd.to_datetime(orders.loc[keep, time_col])
    if getattr(day.dt, "tz", None) is not None:
        day = day.dt.tz_localize(None)
    frame = pd.DataFrame({"customer_id": orders.loc[keep, customer_col].to_numpy(),
                          "day": day.dt.normalize().to_numpy(), "amount": amount[keep].to_numpy()})
    if frame.empty:
        raise AnalysisError("orders: no purchase rows (every row a refund or a non-positive amount); check tables.orders")
    frame = frame.groupby(["customer_id", "day"], sort=False, observed=True)["amount"].sum().reset_index()
    frame["first"] = frame.groupby("customer_id", sort=False)["day"].transform("min")
    return frame


def period_edges(start: Any, origin: Any, *, period: Period, horizon: int = 0) -> pd.DatetimeIndex:
    """Edges of whole periods from the first one starting on or after ``start`` to ``origin``
    (inclusive day) and ``horizon`` periods beyond: period ``k`` is ``[edges[k], edges[k+1])``."""
    end = to_timestamp(origin).normalize() + pd.Timedelta(days=1)
    first = to_timestamp(start).normalize()
    if period == "week":
        n = int((end - first).days // 7)
        return pd.DatetimeIndex(end + pd.to_timedelta(np.arange(-n, horizon + 1) * 7, unit="D"))
    month0 = first if first.day == 1 else (first + pd.offsets.MonthBegin(1))
    months = pd.date_range(month0, end + pd.offsets.MonthBegin(horizon), freq="MS")
    return pd.DatetimeIndex(months[months <= end + pd.offsets.MonthBegin(horizon)])


def origin_of(as_of: Any, period: Period) -> pd.Timestamp:
    """Last day of the last whole period on or before ``as_of``."""
    day = to_timestamp(as_of).normalize()
    if period == "week":
        return day
    nxt = day + pd.Timedelta(days=1)
    return day if nxt.day == 1 else (day - pd.offsets.MonthEnd(1)).normalize()


@dataclass(frozen=True, repr=False)
class PeriodSeries(Result):
    """Sales per whole period up to the origin (see :func:`period_series`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per period: ``period_start``, ``period_end`` (last day), ``revenue``,
        ``orders``, ``active_customers``, ``new_customers``, ``new_revenue``, ``repeat_orders``.
    period : {"week", "month"}
    origin : pandas.Timestamp
        Last day of the history (the forecast origin).
    purchase_days : pandas.DataFrame
        The purchase days up to the origin (see :func:`purchases`).
    """

    frame: pd.DataFrame
    period: str
    origin: pd.Timestamp
    purchase_days: pd.DataFrame = field(repr=False)

    @property
    def n_periods(self) -> int:
        """Periods of history."""
        return len(self.frame)

    @property
    def season(self) -> int:
        """Periods per year."""
        return SEASON[self.period]

    def edges(self, horizon: int = 0) -> pd.DatetimeIndex:
        """Edges of the history periods and ``horizon`` periods beyond."""
        return period_edges(self.frame["period_start"].iloc[0], self.origin, period=self.period, horizon=horizon)  # type: ignore[arg-type]

    def truncate(self, n_periods: int) -> PeriodSeries:
        """The series of the first ``n_periods`` periods (a backtest origin)."""
        frame = self.frame.iloc[:n_periods].reset_index(drop=True)
        origin = frame["period_end"].iloc[-1]
        pdays = self.purchase_days[self.purchase_days["day"] <= origin]
        return PeriodSeries(frame, self.period, origin, pdays)

    def summary(self) -> pd.DataFrame:
        """The last 13 periods of the history (the whole series is :meth:`to_frame`)."""
        return self.frame.tail(13).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Every period."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Periods, origin and totals of the last year (JSON-able)."""
        last = self.frame.tail(self.season)
        return {"period": self.period, "n_periods": len(self.frame), "origin": str(self.origin.date()),
                "last_year_revenue": float(last["revenue"].sum()), "last_year_orders": float(last["orders"].sum()),
                "last_year_new_customers": float(last["new_customers"].sum())}

    def finding(self) -> str:
        """The history in words."""
        m = self.metrics()
        return t("forecast.series.finding", n=fmt.count(m["n_periods"]), period=category("forecast_period", self.period),
                 start=date_text(self.frame["period_start"].iloc[0]),
                 origin=date_text(self.origin), revenue=fmt.money(m["last_year_revenue"]), orders=fmt.count(m["last_year_orders"]),
                 new=fmt.count(m["last_year_new_customers"]))

    def plot(self, ax: Any = None) -> Any:
        """Revenue per period."""
        ax = new_axes(ax, figsize=(9, 3.5))
        ax.plot(self.frame["period_end"], self.frame["revenue"], color="C0")
        ax.set_title(t("forecast.series.title", period=category("forecast_period", self.period)))
        ax.set_ylabel(t("forecast.series.y"))
        return ax


def _check_series(frame: pd.DataFrame, period: str, *, horizon: int | None) -> None:
    season = SEASON[period]
    n = len(frame)
    if n < season:
        raise AnalysisError(
            f"orders: only {n} whole {period}s of history up to the origin {frame['period_end'].iloc[-1].date() if n else '-'}, "
            f"fewer than the seasonal cycle of {season} {period}s; use period='month' or data covering a year"
        )
    if horizon is not None and horizon > n:
        raise AnalysisError(f"forecast: horizon={horizon} {period}s is longer than the history ({n} {period}s); shorten horizon=")
    # a period without purchases where the periods around it have several: a missing extract (a
    # small base's quiet week, or the weeks after launch, are not gaps)
    around = frame["orders"].rolling(9, center=True, min_periods=1).median()
    empty = frame.index[(frame["orders"] == 0) & (around >= max(3.0, 0.1 * float(frame["orders"].median())))]
    if len(empty):
        raise AnalysisError(
            f"orders: {len(empty)} of {n} {period}s have no purchase (a gap in the period series), e.g. the {period}s "
            f"starting {format_examples([str(d.date()) for d in frame.loc[empty[:5], 'period_start']])}; "
            "check tables.orders for a missing extract, or move the start with start="
        )


def period_series(orders: pd.DataFrame, *, as_of: Any, period: Period = "week", start: Any = None,
                  horizon: int | None = None, customer_col: str = "customer_id", time_col: str = "order_time",
                  amount_col: str = "amount") -> PeriodSeries:
    """Revenue, orders, active and new customers per whole period up to the origin.

    Parameters
    ----------
    orders : pandas.DataFrame
        Order rows (later rows are ignored: nothing after the origin is read).
    as_of : date-like
        Analysis date; the origin is the last day of the last whole period on or before it.
    period : {"week", "month"}
    start : date-like, optional
        First day of the history (default: the first purchase day).
    horizon : int, optional
        When given, checked against the history's length.
    customer_col, time_col, amount_col : str

    Returns
    -------
    PeriodSeries

    Raises
    ------
    AnalysisError
        Missing columns; fewer periods than the seasonal cycle; ``horizon`` longer than the
        history; a period without any purchase among periods with several (a gap).
    """
    origin = origin_of(as_of, period)
    pdays = purchases(orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col)
    pdays = pdays[pdays["day"] <= origin].reset_index(drop=True)
    if pdays.empty:
        raise AnalysisError(f"orders: no purchase on or before the origin {origin.date()}; check as_of")
    first_day = pdays["day"].min() if start is None else max(to_timestamp(start).normalize(), pdays["day"].min())
    edges = period_edges(first_day, origin, period=period)
    if len(edges) < 2:
        raise AnalysisError(f"orders: no whole {period} between {first_day.date()} and the origin {origin.date()}; use period='week'")
    inside = pdays[pdays["day"] >= edges[0]]  # the models still see every purchase up to the origin
    k = np.searchsorted(edges.to_numpy(), inside["day"].to_numpy(), side="right") - 1
    is_first = (inside["day"] == inside["first"]).to_numpy()
    amount = inside["amount"].to_numpy()
    n_per = len(edges) - 1
    frame = pd.DataFrame({
        "period_start": edges[:-1], "period_end": edges[1:] - pd.Timedelta(days=1),
        "revenue": np.bincount(k, weights=amount, minlength=n_per),
        "orders": np.bincount(k, minlength=n_per).astype("float64"),
        "active_customers": pd.Series(inside["customer_id"].to_numpy()).groupby(k).nunique().reindex(range(n_per), fill_value=0).to_numpy().astype("float64"),
        "new_customers": np.bincount(k[is_first], minlength=n_per).astype("float64"),
        "new_revenue": np.bincount(k[is_first], weights=amount[is_first], minlength=n_per),
    })
    frame["repeat_orders"] = frame["orders"] - frame["new_customers"]
    _check_series(frame, period, horizon=horizon)
    return PeriodSeries(frame, period, origin, pdays)
