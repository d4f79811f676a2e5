"""Shaping an orders table into one row per customer for the BTYD models (:func:`rfm_summary`).

Conventions follow the Python package ``lifetimes`` 0.11.3 (``summary_data_from_transaction_data``
with ``freq='D'`` and ``freq_multiplier`` = days per time unit), so figures can be compared:

* Transactions on the same day are one purchase; ``frequency`` is the number of distinct
  purchase days minus one (the first purchase is not a repeat purchase).
* ``recency`` = last - first purchase day, ``T`` = calibration end - first purchase day, both in
  the time unit (days; weeks = 7 days; months = 365.25 / 12 days). The calibration end day counts
  as a whole day.
* ``monetary_value`` is the mean of the day totals of the repeat purchase days (the first
  purchase excluded), 0 for customers without a repeat purchase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, format_examples
from workbench.data.cleaning import refund_mask, to_timestamp

__all__ = ["TIME_UNITS", "TimeUnit", "rfm_summary"]

TimeUnit = Literal["days", "weeks", "months"]

#: Days per time unit.
TIME_UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12}

CALIBRATION_KEY = "calibration_end="


def _unit_days(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise AnalysisError(
            f"time_unit must be one of {', '.join(repr(u) for u in TIME_UNITS)}, got {time_unit!r}; "
            "fix time_unit="
        )
    return TIME_UNITS[time_unit]


def _day_numbers(values: pd.Series, column: str) -> np.ndarray:
    """Days since 1970-01-01 (float, NaN for missing) of a date-like column."""
    s = values
    if pd.api.types.is_integer_dtype(s) or pd.api.types.is_float_dtype(s):
        # YYYYMMDD numbers (as in the CDNOW log), never epoch nanoseconds
        s = pd.to_datetime(s.astype("Int64").astype("string"), format="%Y%m%d", errors="coerce")
    elif not pd.api.types.is_datetime64_any_dtype(s):
        parsed = pd.to_datetime(s, errors="coerce")
        if (parsed.isna() & s.notna()).any():  # the format inferred from the first row does not fit all
            parsed = pd.to_datetime(s, errors="coerce", format="mixed")
        s = parsed
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = days.astype("int64").astype("float64")
    out[np.isnat(days)] = np.nan
    return out


def _day_of(value: Any) -> int:
    ts = to_timestamp(value)
    return int(np.datetime64(ts.normalize().to_datetime64(), "D").astype("int64"))


def _date_str(day: float) -> str:
    return str(np.datetime64(int(day), "D"))


@dataclass(frozen=True)
class _PurchaseDays:
    """One row per customer and purchase day (or period) with the day's positive spend."""

    customer: np.ndarray  # integer code into ``ids``
    day: np.ndarray  # int day (or period) number
    total: np.ndarray  # sum of positive amounts that day (0 when none)
    n_positive: np.ndarray  # rows with a positive amount that day
    ids: pd.Index
    info: dict[str, Any]


def _purchase_days(
    orders: pd.DataFrame,
    *,
    customer_col: str,
    time_col: str,
    amount_col: str | None,
    period: str,
    time_unit: str,
) -> _PurchaseDays:
    """Reduce an orders table to purchase days; count what was left out."""
    if not isinstance(orders, pd.DataFrame):
        raise AnalysisError(f"orders must be a pandas DataFrame, got {type(orders).__name__}")
    check_order_columns(list(orders.columns), [customer_col, time_col] + ([amount_col] if amount_col else []))
    n_rows = len(orders)
    day = _day_numbers(orders[time_col], time_col)
    ids = orders[customer_col]
    bad_time = np.isnan(day)
    bad_id = ids.isna().to_numpy()
    refund = refund_mask(orders).to_numpy()
    if amount_col:
        amount = pd.to_numeric(orders[amount_col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    else:
        amount = np.full(n_rows, np.nan)
    negative = (amount < 0) & ~refund
    keep = ~bad_time & ~bad_id & ~refund & ~negative
    zero = keep & (amount == 0)
    no_amount = keep & np.isnan(amount)
    positive = keep & (amount > 0)
    info: dict[str, Any] = {
        "n_rows": int(n_rows),
        "n_rows_missing_time_or_customer": int((bad_time | bad_id).sum()),
        "n_refund_rows": int((refund & ~bad_time & ~bad_id).sum()),
        "n_negative_rows": int((negative & ~bad_time & ~bad_id).sum()),
        "n_zero_amount_rows": int(zero.sum()),
        "n_missing_amount_rows": int(no_amount.sum()) if amount_col else 0,
    }
    info["n_excluded_from_purchases"] = info["n_refund_rows"] + info["n_negative_rows"] + info[
        "n_rows_missing_time_or_customer"]
    info["n_excluded_from_monetary"] = info["n_excluded_from_purchases"] + info["n_zero_amount_rows"] + info[
        "n_missing_amount_rows"]
    d = day[keep].astype("int64")
    if period == "unit" and time_unit not in ("days", "weeks"):
        raise AnalysisError(
            f"period='unit' groups purchases by calendar days or weeks only, not {time_unit!r}; "
            "use period='day' (the default)"
        )
    codes, uniques = pd.factorize(ids[keep], sort=True)
    amt = np.where(positive[keep], amount[keep], 0.0)
    frame = pd.DataFrame({"c": codes, "d": d, "amt": amt, "pos": positive[keep].astype("int64")})
    g = frame.groupby(["c", "d"], sort=True).agg(total=("amt", "sum"), n_positive=("pos", "sum"))
    cust = g.index.get_level_values(0).to_numpy()
    days = g.index.get_level_values(1).to_numpy()
    return _PurchaseDays(
        customer=cust,
        day=days,
        total=g["total"].to_numpy(),
        n_positive=g["n_positive"].to_numpy(),
        ids=pd.Index(uniques, name=customer_col),
        info=info,
    )


def rfm_summary(
    orders: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any = None,
    time_unit: TimeUnit = "weeks",
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    amount_col: str | None = "amount",
    period: Literal["day", "unit"] = "day",
    con: Any = None,
) -> pd.DataFrame:
    """Frequency, recency, age and spend per customer in a calibration window (and a holdout).

    Parameters
    ----------
    orders : pandas.DataFrame, ResidentFrame or ibis Table
        One row per order line with the customer, the order time and the amount. Optional
        ``is_refund`` / ``status`` columns mark refunds (see :func:`workbench.data.cleaning.refund_mask`).
        A table kept in the engine (:class:`~workbench.core.resident.ResidentFrame`, or an Ibis
        table) is summarized there (:mod:`workbench.value.summary_engine`): only the
        per-customer rows come back.
    calibration_end : date-like
        Last day of the calibration window (inclusive, the whole day).
    observation_end : date-like, optional
        Last day of the holdout window (inclusive). Adds the holdout columns.
    time_unit : {"days", "weeks", "months"}, default "weeks"
        Unit of ``recency``, ``T`` and ``duration_holdout`` (weeks = 7 days, months = 365.25/12
        days).
    customer_col, time_col, amount_col : str
        Column names. ``amount_col=None``: no monetary columns.
    period : {"day", "unit"}, default "day"
        ``"day"``: purchases on the same calendar day are one purchase and ``recency`` / ``T``
        are exact day counts divided by the unit (``lifetimes`` ``freq='D', freq_multiplier=7``
        for weeks; Fader-Hardie's CDNOW convention). ``"unit"``: purchases in the same calendar
        period (Monday-based week, for weeks) are one purchase and ``recency`` / ``T`` are whole
        periods (``lifetimes`` ``freq='W'``). Days and weeks only.

    Returns
    -------
    pandas.DataFrame
        One row per customer with a purchase on or before ``calibration_end`` (index: customer
        id, sorted), columns:

        ``frequency`` (int)
            Repeat purchase days (distinct purchase days - 1).
        ``recency``, ``T`` (float)
            Last - first purchase and ``calibration_end`` - first purchase, in ``time_unit``.
        ``monetary_value`` (float)
            Mean day total of the repeat purchase days with a positive amount (first purchase
            excluded); 0 without one.
        ``first_purchase`` (datetime64)
            Day of the first purchase.
        ``frequency_holdout`` (int), ``duration_holdout``, ``monetary_value_holdout`` (float)
            With ``observation_end``: purchase days after ``calibration_end`` up to
            ``observation_end``, the holdout length in ``time_unit``, and the mean positive day
            total in the holdout (0 without a purchase). (``lifetimes`` averages raw rows in the
            holdout; day totals are used here, as in the calibration window.)

        ``frame.attrs["rfm"]`` holds what was left out and the window: refund rows and negative
        amounts are not purchases (``n_refund_rows``, ``n_negative_rows``); zero and missing
        amounts count as purchases but not in ``monetary_value`` (``n_zero_amount_rows``,
        ``n_missing_amount_rows``); ``n_excluded_from_monetary`` adds them up.
    con : Ibis backend, optional
        Engine of a table kept there; default a new in-memory DuckDB.

    Raises
    ------
    AnalysisError
        A column is missing; no purchase on or before ``calibration_end``; ``observation_end``
        not after ``calibration_end``, later than the last order, or no purchase in the holdout.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                        "order_time": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                        "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> rfm_summary(orders, calibration_end="2024-01-29")[["frequency", "recency", "T", "monetary_value"]]
                 frequency  recency    T  monetary_value
    customer_id
    a                    1      2.0  4.0            20.0
    b                    0      0.0  3.0             0.0
    """
    unit = _unit_days(time_unit)
    if period not in ("day", "unit"):
        raise AnalysisError(f"period must be 'day' or 'unit', got {period!r}")
    if _in_engine(orders):
        return _rfm_summary_in_engine(
            orders, con, calibration_end=calibration_end, observation_end=observation_end, time_unit=time_unit,
            period=period, columns={"customer_col": customer_col, "time_col": time_col, "amount_col": amount_col},
        )  # fmt: skip
    pdays = _purchase_days(
        orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col,
        period=period, time_unit=time_unit,
    )  # fmt: skip
    cal_day = _day_of(calibration_end)
    obs_day = _day_of(observation_end) if observation_end is not None else None
    weekly = period == "unit" and time_unit == "weeks"
    scale = 1.0 if period == "unit" else unit
    if len(pdays.day) == 0:
        raise AnalysisError("orders: no purchase rows left after removing refunds and negative amounts")
    first_data, last_data = _raw_day_range(orders, time_col)
    out, present = _step_calibration(pdays, cal_day, weekly=weekly, scale=scale, monetary=bool(amount_col),
                                     data_range=(first_data, last_data))
    info = {**pdays.info, **_summary_info(out, cal_day, obs_day, time_unit=time_unit, period=period,
                                          data_range=(first_data, last_data), n_customers=int(present.sum()))}
    if obs_day is not None:
        info["n_holdout_purchases"] = _step_holdout(
            out, pdays, present, cal_day, obs_day, last_data=last_data, weekly=weekly, scale=scale,
            monetary=bool(amount_col),
        )  # fmt: skip
    out.attrs["rfm"] = info
    return out


def check_order_columns(columns: list[str], need: list[str]) -> None:
    """Raise naming the order columns in ``need`` that are not in ``columns`` (both paths)."""
    missing = [c for c in need if c not in columns]
    if missing:
        raise AnalysisError(
            f"orders: column(s) {', '.join(repr(c) for c in missing)} not found (have "
            f"{format_examples(columns, limit=12)}); pass customer_col=/time_col=/amount_col= "
            "or map the columns in tables.orders.columns"
        )


def _summary_info(
    out: pd.DataFrame, cal_day: int, obs_day: int | None, *, time_unit: str, period: str,
    data_range: tuple[int, int], n_customers: int,
) -> dict[str, Any]:
    """The window and counts recorded in ``attrs["rfm"]`` (both paths)."""
    return {
        "calibration_end": _date_str(cal_day),
        "observation_end": _date_str(obs_day) if obs_day is not None else None,
        "time_unit": time_unit,
        "period": period,
        "data_start": _date_str(data_range[0]),
        "data_end": _date_str(data_range[1]),
        "n_customers": n_customers,
        "n_repeat_customers": int((out["frequency"] > 0).sum()),
    }


def check_holdout_window(cal_day: int, obs_day: int, last_data: int) -> None:
    """Raise when the holdout ends before calibration does or after the last order day."""
    if obs_day <= cal_day:
        raise AnalysisError(
            f"observation_end {_date_str(obs_day)} must be after calibration_end {_date_str(cal_day)}; "
            f"move {CALIBRATION_KEY} earlier or observation_end later"
        )
    if obs_day > last_data:
        raise AnalysisError(
            f"observation_end {_date_str(obs_day)} is after the last order day {_date_str(last_data)}: "
            "the holdout would count days without data as days without purchases; set "
            f"observation_end on or before {_date_str(last_data)} (or {CALIBRATION_KEY} earlier)"
        )


def _in_engine(orders: Any) -> bool:
    """Whether ``orders`` is a table kept in the engine (a resident table or an Ibis table)."""
    import ibis.expr.types as ir

    from workbench.core.resident import is_resident

    return is_resident(orders) or isinstance(orders, ir.Table)


def _rfm_summary_in_engine(
    orders: Any, con: Any, *, calibration_end: Any, observation_end: Any, time_unit: str, period: str,
    columns: dict[str, Any],
) -> pd.DataFrame:
    """:func:`rfm_summary` of a table kept in the engine (the same frame and ``attrs``)."""
    from workbench.value.summary_engine import as_engine_table, rfm_summary_engine

    if period == "unit" and time_unit not in ("days", "weeks"):
        raise AnalysisError(
            f"period='unit' groups purchases by calendar days or weeks only, not {time_unit!r}; "
            "use period='day' (the default)"
        )
    cal_day = _day_of(calibration_end)
    obs_day = _day_of(observation_end) if observation_end is not None else None
    weekly = period == "unit" and time_unit == "weeks"
    scale = 1.0 if period == "unit" else _unit_days(time_unit)
    out, info = rfm_summary_engine(as_engine_table(orders, con), cal_day=cal_day, obs_day=obs_day,
                                   weekly=weekly, scale=scale, **columns)
    first_data, last_data = info.pop("_range")
    info.pop("_n_keep")
    n_holdout = info.pop("_n_holdout", None)
    info.update(_summary_info(out, cal_day, obs_day, time_unit=time_unit, period=period,
                              data_range=(first_data, last_data), n_customers=len(out)))
    if obs_day is not None:
        info["n_holdout_purchases"] = n_holdout
    out.attrs["rfm"] = info
    return out


def _period(days: Any, weekly: bool) -> Any:
    """Day numbers as periods: Monday-based weeks (as pandas Period "W") when ``weekly``."""
    return (days + 3) // 7 if weekly else days


def _step_calibration(
    pdays: _PurchaseDays, cal_day: int, *, weekly: bool, scale: float, monetary: bool, data_range: tuple[int, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """``frequency``, ``recency``, ``T`` (and ``monetary_value``), ``first_purchase`` per customer.

    The raw day decides calibration vs holdout (as lifetimes filters raw timestamps); then
    purchases are collapsed to periods. Returns the frame and which customers (codes into
    ``pdays.ids``) bought in the calibration window.
    """
    in_cal = pdays.day <= cal_day
    if not in_cal.any():
        raise AnalysisError(
            f"no purchase on or before calibration_end {_date_str(cal_day)} (orders run "
            f"{_date_str(data_range[0])} to {_date_str(data_range[1])}); move {CALIBRATION_KEY} later"
        )
    n_cust = len(pdays.ids)
    c, d, tot, npos = _collapse(pdays.customer[in_cal], _period(pdays.day[in_cal], weekly), pdays.total[in_cal],
                                pdays.n_positive[in_cal])
    first = np.full(n_cust, np.iinfo(np.int64).max)
    last = np.full(n_cust, np.iinfo(np.int64).min)
    np.minimum.at(first, c, d)
    np.maximum.at(last, c, d)
    count = np.bincount(c, minlength=n_cust)
    present = count > 0
    repeat = (d != first[c]) & (npos > 0)
    m_sum = np.bincount(c[repeat], weights=tot[repeat], minlength=n_cust)
    m_n = np.bincount(c[repeat], minlength=n_cust)
    cal_p = _period(cal_day, weekly)
    out = pd.DataFrame(
        {
            "frequency": (count - 1)[present].astype("int64"),
            "recency": ((last - first)[present] / scale).astype("float64"),
            "T": ((cal_p - first[present]) / scale).astype("float64"),
        },
        index=pdays.ids[present],
    )
    if monetary:
        out["monetary_value"] = np.where(m_n > 0, m_sum / np.maximum(m_n, 1), 0.0)[present]
    first_raw = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_raw, pdays.customer[in_cal], pdays.day[in_cal])
    out["first_purchase"] = pd.to_datetime(first_raw[present].astype("datetime64[D]")).as_unit("ns")
    return out, present


def _step_holdout(
    out: pd.DataFrame,
    pdays: _PurchaseDays,
    present: np.ndarray,
    cal_day: int,
    obs_day: int,
    *,
    last_data: int,
    weekly: bool,
    scale: float,
    monetary: bool,
) -> int:
    """Add ``frequency_holdout``, ``duration_holdout`` (and ``monetary_value_holdout``) to ``out``
    in place; returns the number of holdout purchases."""
    check_holdout_window(cal_day, obs_day, last_data)
    in_hold = (pdays.day > cal_day) & (pdays.day <= obs_day) & present[pdays.customer]
    if not in_hold.any():
        raise AnalysisError(
            f"no purchase by calibration customers between {_date_str(cal_day + 1)} and "
            f"{_date_str(obs_day)}: the holdout is empty; move {CALIBRATION_KEY} earlier"
        )
    n_cust = len(pdays.ids)
    hc, _, htot, hnpos = _collapse(pdays.customer[in_hold], _period(pdays.day[in_hold], weekly),
                                   pdays.total[in_hold], pdays.n_positive[in_hold])
    h_count = np.bincount(hc, minlength=n_cust)
    hpos = hnpos > 0
    h_sum = np.bincount(hc[hpos], weights=htot[hpos], minlength=n_cust)
    h_n = np.bincount(hc[hpos], minlength=n_cust)
    out["frequency_holdout"] = h_count[present].astype("int64")
    out["duration_holdout"] = float((_period(obs_day, weekly) - _period(cal_day, weekly)) / scale)
    if monetary:
        out["monetary_value_holdout"] = np.where(h_n > 0, h_sum / np.maximum(h_n, 1), 0.0)[present]
    return int(h_count.sum())


def _collapse(
    c: np.ndarray, d: np.ndarray, tot: np.ndarray, npos: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum rows sharing (customer, day or period); inputs sorted by customer then day."""
    if len(c) == 0:
        return c, d, tot, npos
    new = np.ones(len(c), dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
    if new.all():
        return c, d, tot, npos
    idx = np.flatnonzero(new)
    return c[idx], d[idx], np.add.reduceat(tot, idx), np.add.reduceat(npos, idx)


def _raw_day_range(orders: pd.DataFrame, time_col: str) -> tuple[int, int]:
    day = _day_numbers(orders[time_col], time_col)
    if np.isnan(day).all():
        raise AnalysisError(f"orders.{time_col}: no parseable date; fix the column or time_col=")
    return int(np.nanmin(day)), int(np.nanmax(day))


