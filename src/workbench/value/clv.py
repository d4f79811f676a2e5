"""Customer lifetime value: probabilistic purchase and spend models fitted by maximum likelihood.

The "buy till you die" family for non-contractual businesses (customers can leave silently):

* :func:`rfm_summary` shapes an orders table into one row per customer - ``frequency`` (repeat
  purchase days), ``recency``, ``T`` and ``monetary_value`` in a calibration window, plus the
  holdout columns when an observation end is given.
* :class:`BetaGeoModel` (BG/NBD, Fader, Hardie & Lee 2005a) and :class:`ParetoNBDModel`
  (Pareto/NBD, Schmittlein, Morrison & Colombo 1987) model the number and timing of repeat
  purchases and the chance a customer is still "alive".
* :class:`GammaGammaModel` (Fader, Hardie & Lee 2005b) models the average spend per purchase and,
  combined with a purchase model, gives :meth:`GammaGammaModel.customer_lifetime_value`.
* :func:`holdout_comparison` and :func:`tracking_curve` check the fitted model against what the
  customers did after the calibration window; :func:`independence_check` tests the Gamma-Gamma
  assumption that spend and frequency are unrelated.
* :func:`simulate_bgnbd`, :func:`simulate_pareto_nbd` and :func:`simulate_gamma_gamma` draw data
  from the models with known parameters (used by the coverage tests).

Conventions follow the Python package ``lifetimes`` 0.11.3 (``summary_data_from_transaction_data``
with ``freq='D'`` and ``freq_multiplier`` = days per time unit), so figures can be compared:

* Transactions on the same day are one purchase; ``frequency`` is the number of distinct
  purchase days minus one (the first purchase is not a repeat purchase).
* ``recency`` = last - first purchase day, ``T`` = calibration end - first purchase day, both in
  the time unit (days; weeks = 7 days; months = 365.25 / 12 days). The calibration end day counts
  as a whole day.
* ``monetary_value`` is the mean of the day totals of the repeat purchase days (the first
  purchase excluded), 0 for customers without a repeat purchase.

Known answers
-------------
On the CDNOW 1/10 sample (2,357 customers, calibration through 1997-09-30, weeks) Fader, Hardie
& Lee (2005a) report BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (log-likelihood
-9582.4) and Pareto/NBD r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67 (-9595.0). These
figures are for the 1/10 sample, not for the full 23,570-customer log; the tests compare the
full log with ``lifetimes`` and the sample with the published figures.

Numerical notes
---------------
Every model is fitted in log-parameter space with L-BFGS-B on the mean negative log-likelihood of
the distinct customer patterns (identical ``frequency, recency, T`` rows are weighted, not
repeated). BG/NBD and Gamma-Gamma use an analytic gradient; Pareto/NBD a central-difference
gradient of its log-likelihood. Standard errors come from the inverse Hessian of the total
negative log-likelihood (central differences of the gradient in log space, mapped to the natural
scale by the delta method); confidence intervals are 95 % Wald intervals ``estimate +- 1.96 se``
on the natural scale, as in ``lifetimes``.

The Pareto/NBD likelihood needs ``2F1(k, b; k + 1; z)`` (Fader & Hardie 2005, note 009). Written
directly, that function overflows for long histories (``b = r + x`` with ``x`` in the hundreds),
the difference of two such terms cancels, and scipy's ``hyp2f1`` returns NaN for large ``k``
with ``z`` near 1 - why ``lifetimes`` returns NaN for, e.g., 300 purchases in the first 10 of
5,000 weeks. Here it is evaluated through Euler's transformation ``2F1(k, b; k+1; z) =
(1-z)^(1-b) 2F1(1, k+1-b; k+1; z)``, whose second factor lies in ``[1, 1/(1-z)]``, and the
difference in log space with ``expm1``; where scipy still fails (NaN or a value outside that
range) the integral behind it is computed by composite Gauss-Legendre quadrature on panels over
which the integrand falls by at most ``e^2``. Both routes agree with adaptive quadrature to
1e-10 in log; the log-likelihood stays finite for any history.
"""

from __future__ import annotations

import contextlib
import html
import math
import time as _time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd
from scipy import optimize, stats
from scipy.special import digamma, expit, gammaln, hyp2f1

from workbench.core.errors import AnalysisError, StatisticalWarning, format_examples
from workbench.data.cleaning import refund_mask, to_timestamp

__all__ = [
    "TIME_UNITS",
    "rfm_summary",
    "CLVResult",
    "customer_value",
    "value_potential_grid",
    "plot_value_potential",
    "BetaGeoModel",
    "ParetoNBDModel",
    "GammaGammaModel",
    "IndependenceCheck",
    "independence_check",
    "HoldoutComparison",
    "holdout_comparison",
    "TrackingCurve",
    "tracking_curve",
    "simulate_bgnbd",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
]

TimeUnit = Literal["days", "weeks", "months"]

#: Days per time unit.
TIME_UNITS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12}

CALIBRATION_KEY = "analyses.segmentation.clv.calibration_end"
_Z95 = 1.959963984540054
_LOG_BOUND = 30.0  # log-parameters are kept in [-30, 30]


# --------------------------------------------------------------------------------------------
# Shaping
# --------------------------------------------------------------------------------------------


def _unit_days(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise AnalysisError(
            f"time_unit must be one of {', '.join(repr(u) for u in TIME_UNITS)}, got {time_unit!r}; "
            "fix analyses.segmentation.clv.time_unit"
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
    need = [customer_col, time_col] + ([amount_col] if amount_col else [])
    missing = [c for c in need if c not in orders.columns]
    if missing:
        raise AnalysisError(
            f"orders: column(s) {', '.join(repr(c) for c in missing)} not found (have "
            f"{format_examples(orders.columns, limit=12)}); pass customer_col=/time_col=/amount_col= "
            "or map the columns in tables.orders.columns"
        )
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
) -> pd.DataFrame:
    """Frequency, recency, age and spend per customer in a calibration window (and a holdout).

    Parameters
    ----------
    orders : pandas.DataFrame
        One row per order line with the customer, the order time and the amount. Optional
        ``is_refund`` / ``status`` columns mark refunds (see :func:`workbench.data.cleaning.refund_mask`).
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
    pdays = _purchase_days(
        orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col,
        period=period, time_unit=time_unit,
    )  # fmt: skip
    cal_day = _day_of(calibration_end)
    obs_day = _day_of(observation_end) if observation_end is not None else None
    weekly = period == "unit" and time_unit == "weeks"
    scale = 1.0 if period == "unit" else unit

    def per(days: Any) -> Any:
        return (days + 3) // 7 if weekly else days  # Monday-based weeks, as pandas Period "W"

    if len(pdays.day) == 0:
        raise AnalysisError("orders: no purchase rows left after removing refunds and negative amounts")
    first_data, last_data = _raw_day_range(orders, time_col)
    # the raw day decides calibration vs holdout (as lifetimes filters raw timestamps); then
    # purchases are collapsed to periods
    in_cal = pdays.day <= cal_day
    if not in_cal.any():
        raise AnalysisError(
            f"no purchase on or before calibration_end {_date_str(cal_day)} (orders run "
            f"{_date_str(first_data)} to {_date_str(last_data)}); move {CALIBRATION_KEY} later"
        )
    n_cust = len(pdays.ids)
    c, d, tot, npos = _collapse(pdays.customer[in_cal], per(pdays.day[in_cal]), pdays.total[in_cal],
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
    monetary = np.where(m_n > 0, m_sum / np.maximum(m_n, 1), 0.0)
    cal_p = per(cal_day)
    out = pd.DataFrame(
        {
            "frequency": (count - 1)[present].astype("int64"),
            "recency": ((last - first)[present] / scale).astype("float64"),
            "T": ((cal_p - first[present]) / scale).astype("float64"),
        },
        index=pdays.ids[present],
    )
    if amount_col:
        out["monetary_value"] = monetary[present]
    first_raw = np.full(n_cust, np.iinfo(np.int64).max)
    np.minimum.at(first_raw, pdays.customer[in_cal], pdays.day[in_cal])
    out["first_purchase"] = pd.to_datetime(first_raw[present].astype("datetime64[D]")).as_unit("ns")
    info = dict(pdays.info)
    info.update(
        {
            "calibration_end": _date_str(cal_day),
            "observation_end": _date_str(obs_day) if obs_day is not None else None,
            "time_unit": time_unit,
            "period": period,
            "data_start": _date_str(first_data),
            "data_end": _date_str(last_data),
            "n_customers": int(present.sum()),
            "n_repeat_customers": int((out["frequency"] > 0).sum()),
        }
    )
    if obs_day is not None:
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
        in_hold = (pdays.day > cal_day) & (pdays.day <= obs_day) & present[pdays.customer]
        if not in_hold.any():
            raise AnalysisError(
                f"no purchase by calibration customers between {_date_str(cal_day + 1)} and "
                f"{_date_str(obs_day)}: the holdout is empty; move {CALIBRATION_KEY} earlier"
            )
        hc, _, htot, hnpos = _collapse(pdays.customer[in_hold], per(pdays.day[in_hold]),
                                       pdays.total[in_hold], pdays.n_positive[in_hold])
        h_count = np.bincount(hc, minlength=n_cust)
        hpos = hnpos > 0
        h_sum = np.bincount(hc[hpos], weights=htot[hpos], minlength=n_cust)
        h_n = np.bincount(hc[hpos], minlength=n_cust)
        out["frequency_holdout"] = h_count[present].astype("int64")
        out["duration_holdout"] = float((per(obs_day) - cal_p) / scale)
        if amount_col:
            out["monetary_value_holdout"] = np.where(h_n > 0, h_sum / np.maximum(h_n, 1), 0.0)[present]
        info["n_holdout_purchases"] = int(h_count.sum())
    out.attrs["rfm"] = info
    return out


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


# --------------------------------------------------------------------------------------------
# Inputs of the models
# --------------------------------------------------------------------------------------------


def _index_of(*values: Any) -> pd.Index | None:
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: np.ndarray, index: pd.Index | None, name: str) -> Any:
    """Series when an input was a Series, a float for scalar input, else an array."""
    if index is not None and np.ndim(result) == 1 and len(result) == len(index):
        return pd.Series(result, index=index, name=name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def _summary_columns(summary: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(summary, pd.DataFrame):
        raise AnalysisError(f"{what}: summary must be a DataFrame from rfm_summary, got {type(summary).__name__}")
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise AnalysisError(
            f"{what}: summary has no column(s) {', '.join(repr(c) for c in missing)} (have "
            f"{format_examples(summary.columns, limit=12)}); build it with rfm_summary"
            + (" and observation_end=" if any(c.endswith("_holdout") for c in missing) else "")
        )


def _bad_rows(summary: pd.DataFrame, mask: np.ndarray, what: str, problem: str) -> None:
    if mask.any():
        ex = list(summary.index[mask][:5])
        raise AnalysisError(
            f"{what}: {int(mask.sum()):,} of {len(summary):,} customers {problem}, e.g. customer(s) "
            f"{format_examples(ex)}; build the summary with rfm_summary"
        )


def _rfm_arrays(summary: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _summary_columns(summary, ["frequency", "recency", "T"], what)
    x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
    tx = summary["recency"].to_numpy(dtype="float64", na_value=np.nan)
    T = summary["T"].to_numpy(dtype="float64", na_value=np.nan)
    if len(x) == 0:
        raise AnalysisError(f"{what}: the summary has no customers; check calibration_end ({CALIBRATION_KEY})")
    _bad_rows(summary, ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(T)), what, "have a missing or infinite frequency, recency or T")
    _bad_rows(summary, (x < 0) | (x != np.round(x)), what, "have a frequency that is not a whole number >= 0")
    _bad_rows(summary, (tx < 0) | (tx > T * (1 + 1e-12) + 1e-12), what, "have recency < 0 or recency > T")
    _bad_rows(summary, (x == 0) & (tx > 0), what, "have no repeat purchase but recency > 0")
    return x, tx, T


def _check_repeat(x: np.ndarray, summary: pd.DataFrame, minimum: int, what: str) -> None:
    n_rep = int((x > 0).sum())
    cal = summary.attrs.get("rfm", {}).get("calibration_end") if hasattr(summary, "attrs") else None
    where = f" (now {cal})" if cal else ""
    if n_rep == 0:
        raise AnalysisError(
            f"{what}: every one of the {len(x):,} customers made a single purchase in the calibration "
            f"window: there is no repeat purchase to learn from. Use a longer calibration window: move "
            f"{CALIBRATION_KEY}{where} later, or use the simple CLV formula "
            "(analyses.segmentation.clv.method: simple)"
        )
    if n_rep < minimum:
        raise AnalysisError(
            f"{what}: only {n_rep:,} of {len(x):,} customers made a repeat purchase (frequency > 0) in "
            f"the calibration window; at least {minimum} are needed to fit the model. Use a longer "
            f"calibration window: move {CALIBRATION_KEY}{where} later"
        )


def _patterns(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how many customers share each."""
    key = np.zeros(len(cols[0]), dtype="int64")
    for col in cols:
        _, inv = np.unique(col, return_inverse=True)
        key = key * (int(inv.max()) + 1 if len(inv) else 1) + inv
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return [np.asarray(col)[first] for col in cols], counts.astype("float64")


def _grouped(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and the index of each element into them."""
    u, inv = np.unique(values, return_inverse=True)
    return u, inv.ravel()


# --------------------------------------------------------------------------------------------
# Fitting machinery
# --------------------------------------------------------------------------------------------


def _fd_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        g[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def _fd_hessian(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, h: float) -> np.ndarray:
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return (H + H.T) / 2


def _single_thread_blas() -> contextlib.AbstractContextManager[Any]:
    """Keep BLAS on one thread while optimizing: L-BFGS-B makes many tiny BLAS calls, and waking
    a BLAS thread pool for each is ~10x slower than the fit itself on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


class _FittedModel:
    """Shared fit / summary / metrics machinery of the CLV models (not public)."""

    _param_names: ClassVar[tuple[str, ...]] = ()
    _label: ClassVar[str] = ""
    _hessian_step: ClassVar[float] = 1e-5

    def __init__(
        self,
        *,
        min_repeat_customers: int = 20,
        maxiter: int = 2000,
        initial_params: Mapping[str, float] | None = None,
    ) -> None:
        self.min_repeat_customers = min_repeat_customers
        self.maxiter = maxiter
        self.initial_params = initial_params

    # -- to implement ------------------------------------------------------------------------
    def _nll(self, theta: np.ndarray, data: tuple[np.ndarray, ...]) -> float:  # total NLL
        raise NotImplementedError

    def _nll_grad(self, theta: np.ndarray, data: tuple[np.ndarray, ...]) -> tuple[float, np.ndarray]:
        f = self._nll(theta, data)
        return f, _fd_gradient(lambda t: self._nll(t, data), theta)

    def _start(self, data: tuple[np.ndarray, ...]) -> np.ndarray:
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------------------
    def _optimize(self, data: tuple[np.ndarray, ...], n_customers: int) -> None:
        names = self._param_names
        if self.initial_params is not None:
            missing = [p for p in names if p not in self.initial_params]
            if missing:
                raise AnalysisError(f"{self._label}: initial_params lacks {', '.join(missing)}; give all of {', '.join(names)}")
            theta0 = np.log([float(self.initial_params[p]) for p in names])
        else:
            theta0 = self._start(data)
        scale = float(n_customers)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = self._nll_grad(theta, data)
            if not np.isfinite(f):
                return 1e300, np.zeros_like(theta)
            return f / scale, g / scale

        t0 = _time.perf_counter()
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)
        opts = {"maxiter": self.maxiter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20}
        with _single_thread_blas():
            res = optimize.minimize(fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
            n_iter = int(res.nit)
            if not res.success and n_iter < self.maxiter:  # one restart from where it stopped
                res2 = optimize.minimize(fun, res.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
                n_iter += int(res2.nit)
                if res2.fun <= res.fun:
                    res = res2
        theta = np.asarray(res.x, dtype="float64")
        grad_norm = float(np.max(np.abs(fun(theta)[1])))
        converged = bool(res.success) or grad_norm < 1e-6
        self.fit_seconds_ = _time.perf_counter() - t0
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.optimizer_message_ = str(res.message)
        params = np.exp(theta)
        self.params_ = {p: float(v) for p, v in zip(names, params, strict=True)}
        self.log_likelihood_ = float(-self._nll(theta, data))
        H = _fd_hessian(lambda t: self._nll_grad(t, data)[1], theta, self._hessian_step)
        self.hessian_log_ = H
        cov = np.full((len(names), len(names)), np.nan)
        try:
            eig = np.linalg.eigvalsh(H)
            if eig.min() <= 0:
                raise np.linalg.LinAlgError
            cov_log = np.linalg.inv(H)
            cov = params[:, None] * cov_log * params[None, :]
        except np.linalg.LinAlgError:
            warnings.warn(
                f"{self._label}: the Hessian of the log-likelihood is not positive definite at the "
                "estimate, so no standard errors; the model may be over-parameterised for these data "
                f"(try the other purchase model, analyses.segmentation.clv.model, or a longer "
                f"calibration window, {CALIBRATION_KEY})",
                StatisticalWarning,
                stacklevel=3,
            )
        self.covariance_ = cov
        se = np.sqrt(np.diag(cov))
        self.standard_errors_ = {p: float(v) for p, v in zip(names, se, strict=True)}
        self.confidence_intervals_ = {
            p: (float(v - _Z95 * s), float(v + _Z95 * s)) for p, v, s in zip(names, params, se, strict=True)
        }
        if not converged:
            warnings.warn(
                f"{self._label}: the optimizer did not converge after {n_iter} iterations "
                f"({self.optimizer_message_}; largest gradient {grad_norm:.2g}); the estimates may be "
                f"off. Try maxiter= larger than {self.maxiter}, initial_params= near a previous fit, "
                f"or a longer calibration window ({CALIBRATION_KEY})",
                StatisticalWarning,
                stacklevel=3,
            )
        at_bound = [p for p, t in zip(names, theta, strict=True) if abs(t) > _LOG_BOUND - 1]
        if at_bound:
            warnings.warn(
                f"{self._label}: parameter(s) {', '.join(at_bound)} ran to the edge of the search "
                f"range ({', '.join(f'{p}={self.params_[p]:.3g}' for p in at_bound)}); the data hardly "
                "identify them (e.g. no sign of customers dropping out); treat predictions with care",
                StatisticalWarning,
                stacklevel=3,
            )

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise AnalysisError(f"{self._label}: call fit(summary) first")

    # -- reporting ---------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and 95 % Wald intervals.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``param``, ``estimate``, ``se``, ``lower``, ``upper``.
        """
        self._check_fitted()
        rows = [
            {
                "param": p,
                "estimate": self.params_[p],
                "se": self.standard_errors_[p],
                "lower": self.confidence_intervals_[p][0],
                "upper": self.confidence_intervals_[p][1],
            }
            for p in self._param_names
        ]
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`summary` plus the covariance matrix columns ``cov_<param>``."""
        out = self.summary()
        for j, p in enumerate(self._param_names):
            out[f"cov_{p}"] = self.covariance_[:, j]
        return out

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        self._check_fitted()
        k = len(self._param_names)
        n = int(self.n_customers_)
        ll = self.log_likelihood_
        out: dict[str, Any] = {
            "model": self._label,
            "n_customers": n,
            "n_repeat_customers": int(self.n_repeat_customers_),
            "params": dict(self.params_),
            "standard_errors": {p: (v if np.isfinite(v) else None) for p, v in self.standard_errors_.items()},
            "confidence_intervals": {
                p: ([lo, hi] if np.isfinite(lo) and np.isfinite(hi) else None)
                for p, (lo, hi) in self.confidence_intervals_.items()
            },
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * math.log(max(n, 1)) - 2 * ll,
            "converged": bool(self.converged_),
            "n_iter": int(self.n_iter_),
            "fit_seconds": round(float(self.fit_seconds_), 4),
            "time_unit": self.time_unit_,
        }
        if self.rfm_info_:
            out["rfm"] = dict(self.rfm_info_)
        return out

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<p><b>{html.escape(repr(self))}</b></p>"
        return f"<p><b>{html.escape(repr(self))}</b></p>" + self.summary().to_html(index=False)

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"{name}(unfitted)"
        ps = ", ".join(f"{p}={v:.4g}" for p, v in self.params_.items())
        return f"{name}(n={self.n_customers_:,}, {ps}, log_likelihood={self.log_likelihood_:.2f})"


class _TransactionModel(_FittedModel):
    """Purchase-count model fitted on frequency / recency / T."""

    def fit(self, summary: pd.DataFrame) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer with ``frequency``, ``recency`` and ``T`` (see
            :func:`rfm_summary`).

        Returns
        -------
        self

        Raises
        ------
        AnalysisError
            Missing columns or impossible values; fewer than ``min_repeat_customers`` customers
            with a repeat purchase (every customer with a single purchase included).

        Warns
        -----
        StatisticalWarning
            The optimizer did not converge, a parameter ran to the edge of the search range, or
            the Hessian is not positive definite (no standard errors).
        """
        x, tx, T = _rfm_arrays(summary, f"{self._label} fit")
        _check_repeat(x, summary, self.min_repeat_customers, f"{self._label} fit")
        self.n_customers_ = len(x)
        self.n_repeat_customers_ = int((x > 0).sum())
        info = dict(summary.attrs.get("rfm", {})) if hasattr(summary, "attrs") else {}
        self.rfm_info_ = info
        self.time_unit_ = info.get("time_unit")
        self._optimize(self._prepare(x, tx, T), len(x))
        return self

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        (ux, utx, uT), w = _patterns(x, tx, T)
        return (ux, utx, uT, w)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected repeat purchases in the next ``t`` time units given a customer's history.

        Parameters
        ----------
        t : float or array-like
            Length of the future window, in the fitted time unit.
        frequency, recency, T : array-like
            History (as in :func:`rfm_summary`).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Same shape as the broadcast inputs (a Series when an input was one).
        """
        self._check_fitted()
        index = _index_of(frequency, recency, T, t)
        args = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (t, frequency, recency, T)))
        out = self._conditional(*args)
        return _wrap(out, index, "expected_purchases")

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with this history has not dropped out at ``T``.

        Parameters
        ----------
        frequency, recency, T : array-like
            History (as in :func:`rfm_summary`).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        self._check_fitted()
        index = _index_of(frequency, recency, T)
        x, tx, TT = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T)))
        return _wrap(expit(-self._log_odds_dead(x, tx, TT)), index, "probability_alive")

    def expected_purchases_new(self, t: Any) -> Any:
        """Unconditional expected repeat purchases ``E[X(t)]`` of a customer ``t`` units after
        their first purchase (the building block of the tracking curve).

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the fitted time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        self._check_fitted()
        index = _index_of(t)
        tt = np.asarray(t, dtype="float64")
        out = np.where(tt > 0, self._unconditional(np.maximum(tt, 0.0)), 0.0)
        return _wrap(out, index, "expected_purchases_new")

    def predict(self, summary: pd.DataFrame, *, t: float) -> pd.DataFrame:
        """Per-customer predictions for the next ``t`` time units.

        Parameters
        ----------
        summary : pandas.DataFrame
            From :func:`rfm_summary`.
        t : float
            Future window, in the fitted time unit.

        Returns
        -------
        pandas.DataFrame
            One row per customer (index of ``summary``): ``expected_purchases``,
            ``probability_alive``.
        """
        x, tx, T = _rfm_arrays(summary, f"{self._label} predict")
        return pd.DataFrame(
            {
                "expected_purchases": self._conditional(np.full_like(x, float(t)), x, tx, T),
                "probability_alive": expit(-self._log_odds_dead(x, tx, T)),
            },
            index=summary.index,
        )

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        raise NotImplementedError

    def frequency_fit(self, summary: pd.DataFrame, *, max_frequency: int = 7, n_draws: int = 20,
                      random_state: int | None = 0) -> pd.DataFrame:
        """Customers by calibration repeat purchases: observed vs expected under the model.

        The expected counts are averaged over ``n_draws`` simulations of the same customers
        (their ``T``) with the fitted parameters.

        Returns
        -------
        pandas.DataFrame
            One row per frequency ``0 .. max_frequency-1`` and ``max_frequency+``:
            ``frequency``, ``observed``, ``expected``.
        """
        x, _, T = _rfm_arrays(summary, f"{self._label} frequency_fit")
        rng = np.random.default_rng(random_state)
        TT = np.tile(T, n_draws)
        sim = self._simulate(TT, int(rng.integers(2**31)))
        k = max_frequency
        obs = np.bincount(np.minimum(x, k).astype(int), minlength=k + 1)
        exp_ = np.bincount(np.minimum(sim["frequency"].to_numpy(), k).astype(int), minlength=k + 1) / n_draws
        labels = [str(i) for i in range(k)] + [f"{k}+"]
        return pd.DataFrame({"frequency": labels, "observed": obs, "expected": exp_})

    def plot(self, ax: Any = None, *, summary: pd.DataFrame | None = None) -> Any:
        """Expected repeat purchases of a new customer over time, ``E[X(t)]``; with ``summary``,
        the observed vs expected histogram of calibration repeat purchases instead.
        """
        import matplotlib.pyplot as plt

        self._check_fitted()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        unit = self.time_unit_ or "time units"
        if summary is not None:
            fr = self.frequency_fit(summary)
            pos = np.arange(len(fr))
            ax.bar(pos - 0.2, fr["observed"], width=0.4, label="observed")
            ax.bar(pos + 0.2, fr["expected"], width=0.4, label=f"{self._label} (simulated)")
            ax.set_xticks(pos, fr["frequency"])
            ax.set_xlabel("repeat purchases in the calibration window")
            ax.set_ylabel("customers")
            ax.set_title(f"{self._label}: calibration repeat purchases")
        else:
            tmax = 104.0 if unit == "weeks" else (730.0 if unit == "days" else 24.0)
            t = np.linspace(0, tmax, 200)
            ax.plot(t, self.expected_purchases_new(t))
            ax.set_xlabel(f"{unit} since first purchase")
            ax.set_ylabel("expected repeat purchases")
            ax.set_title(f"{self._label}: expected repeat purchases of a new customer")
        if summary is not None:
            ax.legend()
        return ax


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _BGData:
    """Distinct customer patterns with lookups of their distinct x, recency and T values."""

    x: np.ndarray
    w: np.ndarray
    xs: np.ndarray  # distinct frequencies
    ix: np.ndarray
    wx: np.ndarray  # customers per distinct frequency
    uT: np.ndarray
    iT: np.ndarray
    utx: np.ndarray
    itx: np.ndarray
    rep: np.ndarray  # x > 0

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> _BGData:
        (x, tx, T), w = _patterns(x, tx, T)
        xs, ix = _grouped(x)
        uT, iT = _grouped(T)
        utx, itx = _grouped(tx)
        return cls(x, w, xs, ix, np.bincount(ix, weights=w), uT, iT, utx, itx, x > 0)


def _bgnbd_ll_terms(theta: np.ndarray, data: _BGData, grad: bool) -> tuple[float, np.ndarray | None]:
    """Total BG/NBD log-likelihood and its gradient in log-parameters.

    Per customer ``A1 + A2 + log(exp(A3) + [x>0] exp(A4))`` (Fader, Hardie & Lee 2005a, eq. 6);
    terms depending on ``x`` only are evaluated once per distinct ``x``.
    """
    r, alpha, a, b = np.exp(theta)
    x, w, xs, wx = data.x, data.w, data.xs, data.wx
    la_T = np.log(alpha + data.uT)[data.iT]
    la_tx = np.log(alpha + data.utx)[data.itx]
    # x-only terms, once per distinct x: gammaln(r+x) - gammaln(r) + gammaln(b+x) - gammaln(b)
    # - gammaln(a+b+x) + gammaln(a+b)
    gx = gammaln(r + xs) - gammaln(r) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs) + gammaln(a + b)
    rx = r + x
    # log(e^A3 + e^A4) = A3 + log1p(e^D), D = A4 - A3
    D = np.where(data.rep, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - rx * (la_tx - la_T), -np.inf)
    lse = -rx * la_T + np.logaddexp(0.0, D)
    f = float(np.dot(wx, gx) + w.sum() * r * np.log(alpha) + np.dot(w, lse))
    if not grad:
        return f, None
    q = expit(D)  # weight of the "dropped out after the last purchase" branch
    wq = w * q
    dr_x = np.dot(wx, digamma(r + xs) - digamma(r))
    dr = dr_x + w.sum() * np.log(alpha) - np.dot(w, la_T) - np.dot(wq, la_tx - la_T)
    dalpha = w.sum() * r / alpha - np.dot(w * rx, (1 - q) / (alpha + data.uT[data.iT]) + q / (alpha + data.utx[data.itx]))
    ab_x = np.dot(wx, digamma(a + b) - digamma(a + b + xs))
    da = ab_x + wq.sum() / a
    db = ab_x + np.dot(wx, digamma(b + xs) - digamma(b)) - np.dot(wq, 1.0 / (b + np.maximum(x, 1) - 1))
    return f, np.array([dr * r, dalpha * alpha, da * a, db * b])


def _hyp2f1_euler_bg(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` via Euler's transformation (no overflow)."""
    a = _away_from_one(a)
    c = a + b + x - 1
    return np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)


def _away_from_one(a: float) -> float:
    """BG/NBD expectations divide ``0/0`` at ``a = 1``; a 1e-7 nudge gives the limit to ~1e-7."""
    return a if abs(a - 1.0) > 1e-7 else 1.0 + math.copysign(1e-7, a - 1.0 if a != 1.0 else 1.0)


class BetaGeoModel(_TransactionModel):
    """BG/NBD purchase model (Fader, Hardie & Lee 2005a).

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each repeat purchase they drop out for good with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase needed to fit.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, analytic gradient).
    initial_params : mapping, optional
        Starting values ``{"r", "alpha", "a", "b"}``.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b``.
    standard_errors_ : dict
        From the inverse Hessian of the negative log-likelihood (delta method from log space).
    confidence_intervals_ : dict of (lower, upper)
        95 % Wald intervals.
    covariance_ : numpy.ndarray
        Covariance matrix of the estimates (natural scale).
    log_likelihood_ : float
        Total log-likelihood at the estimate (``lifetimes`` reports the mean per customer, in
        rescaled time).
    converged_ : bool
    n_iter_ : int
    n_customers_, n_repeat_customers_ : int
    time_unit_ : str or None
        From the summary's ``attrs`` (see :func:`rfm_summary`).
    rfm_info_ : dict
        What :func:`rfm_summary` left out (refunds, negative and zero amounts).

    Notes
    -----
    On the CDNOW 1/10 sample (2,357 customers, weeks) Fader, Hardie & Lee (2005a) report
    r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, log-likelihood -9582.4.

    Examples
    --------
    >>> data = simulate_bgnbd(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0, random_state=1)
    >>> model = BetaGeoModel().fit(data)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    _param_names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        return _BGData.build(x, tx, T)

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        return -_bgnbd_ll_terms(theta, data, grad=False)[0]

    def _nll_grad(self, theta: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
        f, g = _bgnbd_ll_terms(theta, data, grad=True)
        return -f, -g

    def _start(self, data: Any) -> np.ndarray:
        T = data.uT
        return np.array([0.0, np.log(max(float(np.max(T)), 1e-3)) - 1.0, 0.0, 0.0])

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        lo = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, lo, -np.inf)

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        z = t / (alpha + T + t)
        term = 1.0 - _hyp2f1_euler_bg(r, a, b, x, z)
        a = _away_from_one(a)
        out = (a + b + x - 1) / (a - 1) * term * expit(-self._log_odds_dead(x, tx, T))
        return np.where(t > 0, out, 0.0)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        z = t / (alpha + t)
        term = 1.0 - _hyp2f1_euler_bg(r, a, b, np.zeros_like(t), z)
        a = _away_from_one(a)
        return (a + b - 1) / (a - 1) * term

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        return simulate_bgnbd(len(T), self.params_, T=T, random_state=random_state)


# --------------------------------------------------------------------------------------------
# Pareto/NBD
# --------------------------------------------------------------------------------------------


def _pnbd_log_g(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log G(t)``, ``G(t) = integral_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    ``G(t) = 2F1(k, b; k+1; z) / (k (m+t)^k)`` with ``k = r+s+x``, ``m = max(alpha, beta)``,
    ``z = |alpha-beta| / (m+t)`` and ``b = s+1`` (alpha >= beta) or ``r+x`` (alpha < beta);
    Euler's transformation ``2F1(k, b; k+1; z) = (1-z)^(1-b) 2F1(1, k+1-b; k+1; z)`` leaves a
    factor in ``[1, 1/(1-z)]`` and puts the large power in log space.
    """
    k = r + s + x
    if alpha >= beta:
        m, mn, bb = alpha, beta, np.full_like(x, s + 1.0)
    else:
        m, mn, bb = beta, alpha, r + x
    z = (m - mn) / (m + t)
    log1mz = np.log(mn + t) - np.log(m + t)
    with np.errstate(invalid="ignore", over="ignore"):
        h = hyp2f1(1.0, k + 1.0 - bb, k + 1.0, z)
        # 1 <= h <= 1/(1-z); scipy returns NaN for large k with z near 1: flag for quadrature
        bad = ~np.isfinite(h) | (h < 1.0 - 1e-12) | (np.log(np.maximum(h, 1e-300)) > -log1mz + 1e-12)
    out = (1.0 - bb) * log1mz + np.log(np.where(bad, 1.0, h)) - np.log(k) - k * np.log(m + t)
    return np.where(bad, np.nan, out)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)


def _pnbd_log_integral_quad(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
                            T: np.ndarray, *, max_panels: int = 200) -> np.ndarray:
    """``log integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` by composite Gauss-Legendre.

    The log-integrand is convex and decreasing; each panel starts at ``u`` and is
    ``2 / |d log f / du|(u)`` wide, so the integrand falls by at most ``e^2`` across it and 12
    nodes integrate it to machine precision. Panels march until ``T`` or until the integrand has
    fallen below ``e^-50`` of its start. The fallback where the hypergeometric route fails.
    """
    a1 = (r + x)[:, None]
    l0 = -(r + x) * np.log(alpha + tx) - (s + 1) * np.log(beta + tx)
    u = tx.astype("float64").copy()
    total = np.zeros(len(x))
    for _ in range(max_panels):
        rate = (r + x) / (alpha + u) + (s + 1) / (beta + u)
        width = np.minimum(2.0 / rate, T - u)
        live = width > 0
        if not live.any():
            break
        nodes = u[:, None] + (_GL_NODES[None, :] + 1.0) * 0.5 * width[:, None]
        logf = -a1 * np.log(alpha + nodes) - (s + 1) * np.log(beta + nodes) - l0[:, None]
        total += np.where(live, np.exp(logf) @ _GL_WEIGHTS * 0.5 * width, 0.0)
        u = u + np.maximum(width, 0.0)
        end = -(r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u) - l0
        u = np.where(end < -50.0, T, u)
    with np.errstate(divide="ignore"):
        return l0 + np.log(total)


def _pnbd_fix(log_i: np.ndarray, r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
              T: np.ndarray) -> np.ndarray:
    """Replace the entries the hypergeometric route could not evaluate by quadrature."""
    bad = np.isnan(log_i)
    if bad.any():
        log_i = log_i.copy()
        log_i[bad] = _pnbd_log_integral_quad(r, alpha, s, beta, x[bad], tx[bad], T[bad])
    return log_i


def _log_diff(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """``log(exp(g1) - exp(g2))`` for ``g2 <= g1`` (-inf when equal)."""
    with np.errstate(divide="ignore"):
        return g1 + np.log(-np.expm1(np.minimum(g2 - g1, 0.0)))


def _pnbd_log_integral(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """``log integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` = ``log(G(t_x) - G(T))``
    (-inf when ``t_x == T``); see :func:`_pnbd_log_g`.
    """
    x, tx, T = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype="float64")) for v in (x, tx, T)))
    log_i = _log_diff(_pnbd_log_g(r, alpha, s, beta, x, tx), _pnbd_log_g(r, alpha, s, beta, x, T))
    return _pnbd_fix(log_i, r, alpha, s, beta, x, tx, T)


@dataclass(frozen=True)
class _PNBDData:
    """Distinct patterns with lookups of their distinct (x, t_x) and (x, T) pairs."""

    x: np.ndarray
    tx: np.ndarray
    w: np.ndarray
    xs: np.ndarray
    wx: np.ndarray
    a_x: np.ndarray  # distinct (x, t_x) pairs
    a_t: np.ndarray
    ia: np.ndarray
    b_x: np.ndarray  # distinct (x, T) pairs
    b_t: np.ndarray
    ib: np.ndarray
    uT: np.ndarray
    iT: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> _PNBDData:
        (x, tx, T), w = _patterns(x, tx, T)
        xs, ix = _grouped(x)
        a_x, a_t, ia = _pairs(x, tx)
        b_x, b_t, ib = _pairs(x, T)
        uT, iT = _grouped(T)
        return cls(x, tx, w, xs, np.bincount(ix, weights=w), a_x, a_t, ia, b_x, b_t, ib, uT, iT)


def _pairs(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t) pairs and the index of each row into them."""
    _, ix = np.unique(x, return_inverse=True)
    _, it = np.unique(t, return_inverse=True)
    key = ix.ravel() * (int(it.max()) + 1) + it.ravel()
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return x[first], t[first], inv.ravel()


def _pnbd_ll_total(theta: np.ndarray, data: _PNBDData) -> float:
    r, alpha, s, beta = np.exp(theta)
    x, w = data.x, data.w
    first = -(r + x) * np.log(alpha + data.uT)[data.iT] - s * np.log(beta + data.uT)[data.iT]
    log_i = _log_diff(_pnbd_log_g(r, alpha, s, beta, data.a_x, data.a_t)[data.ia],
                      _pnbd_log_g(r, alpha, s, beta, data.b_x, data.b_t)[data.ib])
    log_i = _pnbd_fix(log_i, r, alpha, s, beta, x, data.tx, data.uT[data.iT])
    const = np.dot(data.wx, gammaln(r + data.xs) - gammaln(r)) + w.sum() * (r * np.log(alpha) + s * np.log(beta))
    return float(const + np.dot(w, np.logaddexp(first, np.log(s) + log_i)))


def _pnbd_ll(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005, note 009, eq. 18, written as
    ``lnG(r+x) - lnG(r) + r ln alpha + s ln beta + log((alpha+T)^-(r+x) (beta+T)^-s + s I)``,
    ``I`` from :func:`_pnbd_log_integral`)."""
    r, alpha, s, beta = np.exp(theta)
    first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    log_i = _pnbd_log_integral(r, alpha, s, beta, x, tx, T)
    return (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            + np.logaddexp(first, np.log(s) + log_i))


def _pow_ratio(s: float, u: np.ndarray) -> np.ndarray:
    """``(1 - (1+u)^-(s-1)) / (s-1)`` (``log1p(u)`` at ``s = 1``)."""
    d = s - 1.0
    if abs(d) < 1e-10:
        return np.log1p(u)
    return -np.expm1(-d * np.log1p(u)) / d


class ParetoNBDModel(_TransactionModel):
    """Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    their lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase needed to fit.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, central-difference
        gradient of the stable log-likelihood).
    initial_params : mapping, optional
        Starting values ``{"r", "alpha", "s", "beta"}``.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha``, ``beta`` in the summary's time unit).
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_, n_iter_,
    n_customers_, n_repeat_customers_, time_unit_, rfm_info_
        As in :class:`BetaGeoModel`.

    Notes
    -----
    The log-likelihood is evaluated in log space with a transformed hypergeometric function and a
    quadrature fallback (see the module notes), so it stays finite for long histories (``T`` of
    thousands of weeks, ``frequency`` in the hundreds), where ``lifetimes`` can return NaN. On the CDNOW 1/10 sample
    Fader, Hardie & Lee (2005a) report r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"
    _hessian_step = 1e-4

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        return _PNBDData.build(x, tx, T)

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            val = -_pnbd_ll_total(theta, data)
        return val if np.isfinite(val) else np.inf

    def _start(self, data: Any) -> np.ndarray:
        lt = np.log(max(float(np.max(data.uT)), 1e-3)) - 1.0
        return np.array([0.0, lt, 0.0, lt])

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters (finite for any history)."""
        self._check_fitted()
        theta = np.log([self.params_[p] for p in self._param_names])
        x, tx, TT = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T)))
        return _pnbd_ll(theta, x, tx, TT)

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        with np.errstate(divide="ignore"):
            return np.log(s) + _pnbd_log_integral(r, alpha, s, beta, x, tx, T) - first

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        p_alive = expit(-self._log_odds_dead(x, tx, T))
        out = p_alive * (r + x) / (alpha + T) * (beta + T) * _pow_ratio(s, t / (beta + T))
        return np.where(t > 0, out, 0.0)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        return r / alpha * beta * _pow_ratio(s, t / beta)

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        return simulate_pareto_nbd(len(T), self.params_, T=T, random_state=random_state)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GGData:
    """Repeat customers' (x, m) with per-distinct-x weights and the parameter-free sums."""

    x: np.ndarray
    m: np.ndarray
    xs: np.ndarray
    ix: np.ndarray
    wx: np.ndarray  # customers per distinct x
    n: float
    sum_x_logm: float  # sum x log m
    sum_logm: float  # sum log m
    sum_x_logx: float  # sum x log x

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray) -> _GGData:
        xs, ix = _grouped(x)
        lm = np.log(m)
        return cls(x, m, xs, ix, np.bincount(ix).astype("float64"), float(len(x)), float(np.dot(x, lm)),
                   float(lm.sum()), float(np.dot(x, np.log(x))))


def _gg_ll_terms(theta: np.ndarray, data: _GGData, grad: bool) -> tuple[float, np.ndarray | None]:
    """Total Gamma-Gamma log-likelihood of the mean spends and its gradient in log-parameters.

    Per customer ``lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v)``
    (Fader, Hardie & Lee 2005b; Hardie's note 025); gamma functions once per distinct ``x``.
    """
    p, q, v = np.exp(theta)
    xs, wx, x = data.xs, data.wx, data.x
    pxs = p * xs
    lxmv = np.log(x * data.m + v)
    pxq = p * x + q
    f = float(np.dot(wx, gammaln(pxs + q) - gammaln(pxs)) - data.n * gammaln(q) + data.n * q * np.log(v)
              + p * data.sum_x_logm - data.sum_logm + p * data.sum_x_logx - np.dot(pxq, lxmv))
    if not grad:
        return f, None
    dig = digamma(pxs + q)
    dp = float(np.dot(wx * xs, dig - digamma(pxs)) + data.sum_x_logm + data.sum_x_logx - np.dot(x, lxmv))
    dq = float(np.dot(wx, dig) - data.n * digamma(q) + data.n * np.log(v) - lxmv.sum())
    dv = float(data.n * q / v - np.sum(pxq / (x * data.m + v)))
    return f, np.array([dp * p, dq * q, dv * v])


class GammaGammaModel(_FittedModel):
    """Gamma-Gamma model of the average spend per purchase (Fader, Hardie & Lee 2005b).

    Each purchase of a customer is ``Gamma(p, nu)``; ``nu ~ Gamma(q, v)`` across customers. The
    model assumes spend is independent of purchase frequency (see :func:`independence_check`).

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase and a positive ``monetary_value`` needed.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, analytic gradient).
    initial_params : mapping, optional
        Starting values ``{"p", "q", "v"}``.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_, n_iter_
        As in :class:`BetaGeoModel`.
    n_customers_ : int
        Customers used (``frequency > 0`` and ``monetary_value > 0``).
    n_excluded_ : int
        Repeat customers left out because their ``monetary_value`` is not positive.
    """

    _param_names = ("p", "q", "v")
    _label = "Gamma-Gamma"

    def fit(self, summary: pd.DataFrame) -> Self:
        """Fit on the customers with a repeat purchase and a positive ``monetary_value``.

        Parameters
        ----------
        summary : pandas.DataFrame
            With ``frequency`` and ``monetary_value`` (see :func:`rfm_summary`).

        Returns
        -------
        self

        Raises
        ------
        AnalysisError
            Missing columns; fewer than ``min_repeat_customers`` usable customers.

        Warns
        -----
        StatisticalWarning
            Not converged; ``q <= 1`` (the population mean spend is infinite and
            :meth:`conditional_expected_average_profit` meaningless).
        """
        what = f"{self._label} fit"
        _summary_columns(summary, ["frequency", "monetary_value"], what)
        x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
        m = summary["monetary_value"].to_numpy(dtype="float64", na_value=np.nan)
        use = (x > 0) & np.isfinite(m) & (m > 0)
        _check_repeat(np.where(use, x, 0.0), summary, self.min_repeat_customers, what)
        self.n_customers_ = int(use.sum())
        self.n_repeat_customers_ = int(use.sum())
        self.n_excluded_ = int(((x > 0) & ~use).sum())
        info = dict(summary.attrs.get("rfm", {})) if hasattr(summary, "attrs") else {}
        self.rfm_info_ = info
        self.time_unit_ = info.get("time_unit")
        self._optimize(_GGData.build(x[use], m[use]), int(use.sum()))
        if self.params_["q"] <= 1:
            warnings.warn(
                f"Gamma-Gamma: q = {self.params_['q']:.3g} <= 1, so the model's mean spend per "
                "purchase is infinite and expected spend is not defined; a few very large spenders "
                "probably dominate: cap or review them (cleaning) before fitting",
                StatisticalWarning,
                stacklevel=2,
            )
        return self

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        return -_gg_ll_terms(theta, data, grad=False)[0]

    def _nll_grad(self, theta: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
        f, g = _gg_ll_terms(theta, data, grad=True)
        return -f, -g

    def _start(self, data: Any) -> np.ndarray:
        return np.array([0.0, np.log(2.0), np.log(float(np.mean(data.m)))])

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        out = super().metrics()
        out["n_excluded_nonpositive_monetary"] = int(self.n_excluded_)
        p, q, v = (self.params_[k] for k in self._param_names)
        out["population_mean_spend"] = float(v * p / (q - 1)) if q > 1 else None
        return out

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected spend per future purchase given a customer's repeat purchases and mean spend.

        A weighted average of the customer's own mean and the population mean
        ``v p / (q - 1)``; customers without a repeat purchase get the population mean.

        Parameters
        ----------
        frequency, monetary_value : array-like

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        self._check_fitted()
        index = _index_of(frequency, monetary_value)
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype="float64"), np.asarray(monetary_value, dtype="float64"))
        p, q, v = (self.params_[k] for k in self._param_names)
        wgt = p * x / (p * x + q - 1)
        pop = v * p / (q - 1)
        out = (1 - wgt) * pop + wgt * np.where(x > 0, m, 0.0)
        return _wrap(out, index, "expected_average_profit")

    def customer_lifetime_value(
        self,
        transaction_model: _TransactionModel,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        *,
        time: int = 12,
        discount_rate: float = 0.10,
        time_unit: TimeUnit | None = None,
        margin: float = 1.0,
        periods_per_month: float | None = None,
    ) -> Any:
        """Discounted expected value of each customer's purchases over the next ``time`` months.

        ``CLV = sum_{i=1..time} margin * E[spend] * (E[X(i f)] - E[X((i-1) f)]) / (1 + d)^i``
        where ``E[X(t)]`` is the transaction model's conditional expected purchases, ``f`` the
        time units per month and ``d = (1 + discount_rate)^(1/12) - 1`` the monthly rate (the
        ``lifetimes`` sum, which takes a monthly rate and 4.345 weeks per month).

        Parameters
        ----------
        transaction_model : BetaGeoModel or ParetoNBDModel
            Fitted purchase model.
        frequency, recency, T, monetary_value : array-like
            Customer histories (see :func:`rfm_summary`).
        time : int, default 12
            Horizon in months.
        discount_rate : float, default 0.10
            Annual discount rate (analyses.segmentation.clv.discount_rate).
        time_unit : {"days", "weeks", "months"}, optional
            Unit of ``recency`` / ``T``; default the transaction model's.
        margin : float, default 1.0
            Share of spend that is profit (analyses.segmentation.clv.margin); 1 gives revenue.
        periods_per_month : float, optional
            Time units per month; default from ``time_unit`` (weeks: 365.25 / 12 / 7 = 4.348).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            One value per customer.
        """
        self._check_fitted()
        if not isinstance(transaction_model, _TransactionModel):
            raise AnalysisError("customer_lifetime_value: transaction_model must be a fitted BetaGeoModel or ParetoNBDModel")
        transaction_model._check_fitted()
        if not (0 <= discount_rate < 1):
            raise AnalysisError(f"discount_rate must be in [0, 1), got {discount_rate}; fix analyses.segmentation.clv.discount_rate")
        if not (0 < margin <= 1):
            raise AnalysisError(f"margin must be in (0, 1], got {margin}; fix analyses.segmentation.clv.margin")
        if int(time) != time or time < 1:
            raise AnalysisError(f"time must be a whole number of months >= 1, got {time}")
        unit = time_unit or transaction_model.time_unit_ or "weeks"
        f = periods_per_month if periods_per_month is not None else TIME_UNITS["months"] / _unit_days(unit)
        index = _index_of(frequency, recency, T, monetary_value)
        x, tx, TT, m = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T, monetary_value)))
        spend = np.asarray(self.conditional_expected_average_profit(x, m), dtype="float64")
        monthly = (1 + discount_rate) ** (1 / 12) - 1
        clv = np.zeros(np.broadcast(x).shape)
        prev = np.zeros_like(clv)
        for i in range(1, int(time) + 1):
            cur = transaction_model._conditional(np.full_like(x, i * f), x, tx, TT)
            clv = clv + margin * spend * (cur - prev) / (1 + monthly) ** i
            prev = cur
        return _wrap(clv, index, "clv")

    def _density(self, grid: np.ndarray, x: np.ndarray) -> np.ndarray:
        theta = np.log([self.params_[k] for k in self._param_names])
        xx, gg = np.meshgrid(x, grid)
        p, q, v = np.exp(theta)
        px = p * xx
        lpdf = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(gg)
                + px * np.log(xx) - (px + q) * np.log(xx * gg + v))
        return np.exp(lpdf).mean(axis=1)

    def plot(self, ax: Any = None, *, summary: pd.DataFrame | None = None) -> Any:
        """Density of the average spend of repeat customers: observed (with ``summary``) and
        implied by the model (averaged over the fitted customers' frequencies).
        """
        import matplotlib.pyplot as plt

        self._check_fitted()
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        p, q, v = (self.params_[k] for k in self._param_names)
        if summary is not None:
            x = summary["frequency"].to_numpy(dtype="float64")
            m = summary["monetary_value"].to_numpy(dtype="float64")
            use = (x > 0) & (m > 0)
            x, m = x[use], m[use]
            hi = float(np.quantile(m, 0.99))
            ax.hist(m[m <= hi], bins=60, density=True, alpha=0.5, label="observed")
        else:
            x = np.array([1.0, 2.0, 4.0])
            hi = float(v * p / max(q - 1, 0.5) * 4)
        grid = np.linspace(hi / 400, hi, 300)
        sample = x if len(x) <= 2000 else np.random.default_rng(0).choice(x, 2000, replace=False)
        ax.plot(grid, self._density(grid, sample), label="Gamma-Gamma")
        ax.set_xlabel("average spend per repeat purchase")
        ax.set_ylabel("density")
        ax.set_title("Gamma-Gamma: average spend of repeat customers")
        ax.legend()
        return ax


# --------------------------------------------------------------------------------------------
# Independence check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndependenceCheck:
    """Correlation between purchase frequency and average spend (see :func:`independence_check`).

    Attributes
    ----------
    n : int
        Repeat customers with a positive ``monetary_value``.
    pearson_r, pearson_p, spearman_rho, spearman_p : float
        Correlations and their two-sided p-values (scipy ``pearsonr`` / ``spearmanr``).
    strength : {"negligible", "weak", "material"}
        From the larger of ``|r|`` and ``|rho|``: < 0.1, < 0.3, otherwise.
    verdict : str
        Plain-language conclusion.
    data : pandas.DataFrame
        ``frequency`` and ``monetary_value`` of the customers used.
    """

    n: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float
    strength: str
    verdict: str
    data: pd.DataFrame = field(repr=False)

    @property
    def ok(self) -> bool:
        """True unless the correlation is material (|r| or |rho| >= 0.3)."""
        return self.strength != "material"

    def summary(self) -> pd.DataFrame:
        """One row per test: ``test``, ``statistic``, ``p_value``, ``n``."""
        return pd.DataFrame(
            {
                "test": ["pearson", "spearman"],
                "statistic": [self.pearson_r, self.spearman_rho],
                "p_value": [self.pearson_p, self.spearman_p],
                "n": [self.n, self.n],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The customers tested (``frequency``, ``monetary_value``)."""
        return self.data.copy()

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        return {
            "n": self.n,
            "pearson_r": self.pearson_r,
            "pearson_p": self.pearson_p,
            "spearman_rho": self.spearman_rho,
            "spearman_p": self.spearman_p,
            "strength": self.strength,
            "verdict": self.verdict,
        }

    def plot(self, ax: Any = None) -> Any:
        """Average spend (log scale) by repeat purchases."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.scatter(self.data["frequency"], self.data["monetary_value"], s=6, alpha=0.3)
        ax.set_yscale("log")
        ax.set_xlabel("repeat purchases (frequency)")
        ax.set_ylabel("average spend per repeat purchase")
        ax.set_title(f"Spearman rho = {self.spearman_rho:.2f}, Pearson r = {self.pearson_r:.2f}")
        return ax

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(repr(self))}</b></p><p>{html.escape(self.verdict)}</p>" + self.summary().to_html(index=False)

    def __repr__(self) -> str:
        return (f"IndependenceCheck(n={self.n:,}, pearson_r={self.pearson_r:.3f}, "
                f"spearman_rho={self.spearman_rho:.3f}, strength={self.strength!r})")


def independence_check(summary: pd.DataFrame, *, warn: bool = True) -> IndependenceCheck:
    """Test the Gamma-Gamma assumption that average spend does not depend on frequency.

    Parameters
    ----------
    summary : pandas.DataFrame
        With ``frequency`` and ``monetary_value`` (see :func:`rfm_summary`); customers with
        ``frequency > 0`` and ``monetary_value > 0`` are used.
    warn : bool, default True
        Emit a :class:`~workbench.core.errors.StatisticalWarning` when the correlation is material.

    Returns
    -------
    IndependenceCheck

    Raises
    ------
    AnalysisError
        Missing columns or fewer than 3 usable customers.
    """
    _summary_columns(summary, ["frequency", "monetary_value"], "independence_check")
    x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
    m = summary["monetary_value"].to_numpy(dtype="float64", na_value=np.nan)
    use = (x > 0) & np.isfinite(m) & (m > 0)
    n = int(use.sum())
    if n < 3:
        raise AnalysisError(
            f"independence_check: {n} customers with a repeat purchase and positive spend; at least "
            f"3 are needed; move {CALIBRATION_KEY} later"
        )
    x, m = x[use], m[use]
    pr = stats.pearsonr(x, m)
    sr = stats.spearmanr(x, m)
    r, rho = float(pr.statistic), float(sr.statistic)
    pr_p, sr_p = float(pr.pvalue), float(sr.pvalue)
    big = max(abs(r), abs(rho))
    strength = "negligible" if big < 0.1 else ("weak" if big < 0.3 else "material")
    sig = "statistically significant" if min(pr_p, sr_p) < 0.05 else "not statistically significant"
    head = (f"Among {n:,} repeat customers, frequency and average spend have Pearson r = {r:.2f} "
            f"(p = {pr_p:.2g}) and Spearman rho = {rho:.2f} (p = {sr_p:.2g}): {sig}, {strength}. ")
    if strength == "negligible":
        tail = "The Gamma-Gamma independence assumption looks reasonable."
    elif strength == "weak":
        tail = ("The correlation is weak: Gamma-Gamma can be used, but expected spend may be slightly "
                "biased for the most and least frequent buyers.")
    else:
        tail = ("The Gamma-Gamma model assumes spend is independent of frequency; that is doubtful "
                "here, so its spend and CLV figures are biased - report them with this caveat or use "
                "a simpler average-spend CLV (analyses.segmentation.clv.method: simple).")
    verdict = head + tail
    if warn and strength == "material":
        warnings.warn(verdict, StatisticalWarning, stacklevel=2)
    data = pd.DataFrame({"frequency": x, "monetary_value": m}, index=summary.index[use])
    return IndependenceCheck(n, r, pr_p, rho, sr_p, strength, verdict, data)


# --------------------------------------------------------------------------------------------
# Holdout check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutComparison:
    """Predicted vs actual holdout repeat purchases (see :func:`holdout_comparison`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per calibration-frequency bin (see :meth:`summary`).
    customers : pandas.DataFrame
        One row per customer: ``frequency``, ``actual``, ``predicted``.
    model : str
        Model label.
    """

    table: pd.DataFrame
    customers: pd.DataFrame = field(repr=False)
    model: str = ""

    def summary(self) -> pd.DataFrame:
        """Bins ``0 .. k-1, k+`` of calibration repeat purchases: ``frequency``, ``n_customers``,
        ``actual`` and ``predicted`` (mean holdout repeat purchases per customer), ``error``
        (predicted - actual).
        """
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``frequency``, ``actual``, ``predicted``, ``error``."""
        return self.customers.copy()

    def metrics(self) -> dict[str, Any]:
        """MAE per customer, MAE over the bins (weighted by customers), totals (JSON-able)."""
        c, t = self.customers, self.table
        tot_a, tot_p = float(c["actual"].sum()), float(c["predicted"].sum())
        return {
            "model": self.model,
            "n_customers": len(c),
            "mae_customer": float(np.mean(np.abs(c["predicted"] - c["actual"]))),
            "mae_bins": float(np.average(np.abs(t["error"]), weights=t["n_customers"])),
            "actual_total": tot_a,
            "predicted_total": tot_p,
            "ape_total": abs(tot_p - tot_a) / tot_a if tot_a > 0 else None,
        }

    def plot(self, ax: Any = None) -> Any:
        """Mean holdout repeat purchases by calibration frequency: actual vs predicted."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        pos = np.arange(len(self.table))
        ax.plot(pos, self.table["actual"], marker="o", label="actual")
        ax.plot(pos, self.table["predicted"], marker="s", linestyle="--", label=self.model or "model")
        ax.set_xticks(pos, self.table["frequency"])
        ax.set_xlabel("repeat purchases in the calibration window")
        ax.set_ylabel("mean repeat purchases in the holdout")
        ax.set_title("Conditional expectations: holdout check")
        ax.legend()
        return ax

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(repr(self))}</b></p>" + self.table.to_html(index=False)

    def __repr__(self) -> str:
        m = self.metrics()
        return (f"HoldoutComparison({self.model}, customers={m['n_customers']:,}, "
                f"mae_customer={m['mae_customer']:.3f}, actual={m['actual_total']:,.0f}, "
                f"predicted={m['predicted_total']:,.0f})")


def holdout_comparison(model: _TransactionModel, summary: pd.DataFrame, *, max_frequency: int = 7) -> HoldoutComparison:
    """Compare a fitted purchase model's conditional predictions with the holdout.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted on the calibration columns of ``summary``.
    summary : pandas.DataFrame
        From :func:`rfm_summary` with ``observation_end`` (``frequency_holdout``,
        ``duration_holdout``).
    max_frequency : int, default 7
        Customers with at least this many calibration repeat purchases share the last bin.

    Returns
    -------
    HoldoutComparison
        ``.summary()``: one row per bin with counts, mean actual and predicted holdout repeat
        purchases; ``.metrics()``: MAE.

    Raises
    ------
    AnalysisError
        The summary has no holdout columns or the model is not fitted.
    """
    if not isinstance(model, _TransactionModel):
        raise AnalysisError("holdout_comparison: model must be a fitted BetaGeoModel or ParetoNBDModel")
    model._check_fitted()
    _summary_columns(summary, ["frequency_holdout", "duration_holdout"], "holdout_comparison")
    x, tx, T = _rfm_arrays(summary, "holdout_comparison")
    dur = summary["duration_holdout"].to_numpy(dtype="float64")
    actual = summary["frequency_holdout"].to_numpy(dtype="float64")
    pred = model._conditional(dur, x, tx, T)
    k = int(max_frequency)
    b = np.minimum(x, k).astype(int)
    n = np.bincount(b, minlength=k + 1)
    keep = n > 0
    with np.errstate(invalid="ignore"):
        act_m = np.bincount(b, weights=actual, minlength=k + 1) / n
        pred_m = np.bincount(b, weights=pred, minlength=k + 1) / n
    labels = np.array([str(i) for i in range(k)] + [f"{k}+"])
    table = pd.DataFrame(
        {"frequency": labels[keep], "n_customers": n[keep], "actual": act_m[keep], "predicted": pred_m[keep]}
    )
    table["error"] = table["predicted"] - table["actual"]
    customers = pd.DataFrame({"frequency": x.astype("int64"), "actual": actual, "predicted": pred}, index=summary.index)
    customers["error"] = customers["predicted"] - customers["actual"]
    return HoldoutComparison(table, customers, model._label)


@dataclass(frozen=True)
class TrackingCurve:
    """Cumulative repeat purchases over time: actual vs model (see :func:`tracking_curve`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per time point (see :meth:`to_frame`).
    calibration_t, observation_t : float
        Time of the calibration and observation ends since the first cohort day, in
        ``time_unit``.
    time_unit : str
    model : str
    """

    frame: pd.DataFrame
    calibration_t: float
    observation_t: float
    time_unit: str
    model: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per time point: ``t`` (time units since the first cohort day), ``date``,
        ``actual_cum``, ``predicted_cum``, ``actual``, ``predicted`` (increments since the previous
        point), ``holdout`` (bool: after the calibration end).
        """
        return self.frame.copy()

    def _at(self, t: float) -> tuple[float, float]:
        row = self.frame.loc[np.isclose(self.frame["t"], t)].iloc[-1]
        return float(row["actual_cum"]), float(row["predicted_cum"])

    def metrics(self) -> dict[str, Any]:
        """Absolute percentage errors of the cumulative curve at the calibration and observation
        ends, MAPE of the cumulative curve over the holdout points, and of the holdout increments
        (JSON-able).
        """
        ac, pc = self._at(self.calibration_t)
        ao, po = self._at(self.observation_t)
        h = self.frame[self.frame["holdout"]]
        hold_a = h["actual_cum"] - ac
        hold_p = h["predicted_cum"] - pc
        with np.errstate(divide="ignore", invalid="ignore"):
            ape_cum = np.abs(h["predicted_cum"] - h["actual_cum"]) / h["actual_cum"]
            ape_inc = np.abs(h["predicted"] - h["actual"]) / h["actual"]
        return {
            "model": self.model,
            "time_unit": self.time_unit,
            "actual_calibration_end": ac,
            "predicted_calibration_end": pc,
            "ape_calibration_end": abs(pc - ac) / ac if ac > 0 else None,
            "actual_observation_end": ao,
            "predicted_observation_end": po,
            "ape_observation_end": abs(po - ao) / ao if ao > 0 else None,
            "ape_holdout_total": float(abs(hold_p.iloc[-1] - hold_a.iloc[-1]) / hold_a.iloc[-1]) if len(h) and hold_a.iloc[-1] > 0 else None,
            "mape_holdout_cumulative": float(np.mean(ape_cum[np.isfinite(ape_cum)])) if len(h) else None,
            "mape_holdout_incremental": float(np.mean(ape_inc[np.isfinite(ape_inc)])) if len(h) else None,
        }

    def summary(self) -> pd.DataFrame:
        """Actual vs predicted cumulative repeat purchases at the calibration and observation
        ends: ``point``, ``t``, ``actual``, ``predicted``, ``ape``.
        """
        rows = []
        for name, t in (("calibration_end", self.calibration_t), ("observation_end", self.observation_t)):
            a, p = self._at(t)
            rows.append({"point": name, "t": t, "actual": a, "predicted": p, "ape": abs(p - a) / a if a > 0 else np.nan})
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, *, cumulative: bool = True) -> Any:
        """Actual vs predicted repeat purchases over time (cumulative or per period), with the
        calibration end marked.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        f = self.frame
        a, p = ("actual_cum", "predicted_cum") if cumulative else ("actual", "predicted")
        ax.plot(f["t"], f[a], label="actual")
        ax.plot(f["t"], f[p], linestyle="--", label=self.model or "model")
        ax.axvline(self.calibration_t, color="grey", linestyle=":", label="calibration end")
        ax.set_xlabel(f"{self.time_unit} since the first cohort day")
        ax.set_ylabel(("cumulative " if cumulative else "") + "repeat purchases")
        ax.set_title("Tracking: repeat purchases, actual vs model")
        ax.legend()
        return ax

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(repr(self))}</b></p>" + self.summary().to_html(index=False)

    def __repr__(self) -> str:
        m = self.metrics()
        ape = m["ape_observation_end"]
        return (f"TrackingCurve({self.model}, points={len(self.frame)}, {self.time_unit}, "
                f"ape_observation_end={ape:.1%})" if ape is not None else f"TrackingCurve({self.model}, points={len(self.frame)})")


def tracking_curve(
    model: _TransactionModel,
    orders: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any,
    time_unit: TimeUnit | None = None,
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    amount_col: str | None = None,
    cohort: Literal["calibration", "all"] = "calibration",
) -> TrackingCurve:
    """Cumulative repeat purchases per time unit, actual vs the model's unconditional forecast.

    Each customer enters at their first purchase day ``c``; the model's cumulative forecast at
    time ``t`` is ``sum_customers E[X(t - c)]`` (:meth:`expected_purchases_new`). Purchase days
    follow :func:`rfm_summary` (same-day purchases are one, refunds and negative amounts are not
    purchases); a purchase on day ``d`` counts from ``t = d``, so the cumulative count at the
    calibration end equals the summary's total ``frequency``.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    orders : pandas.DataFrame
        The orders the summary was built from.
    calibration_end, observation_end : date-like
        Calibration and observation ends (inclusive days).
    time_unit : {"days", "weeks", "months"}, optional
        Default: the model's (from the summary it was fitted on), else weeks.
    customer_col, time_col : str
        Column names.
    amount_col : str, optional
        Amount column: pass it (as to :func:`rfm_summary`) so negative amounts are not counted
        as purchases; refund flags (``is_refund`` / ``status``) apply either way.
    cohort : {"calibration", "all"}, default "calibration"
        Track the customers whose first purchase is on or before ``calibration_end`` (those the
        model was fitted on), or also customers acquired in the holdout (as ``lifetimes``
        ``expected_cumulative_transactions``).

    Returns
    -------
    TrackingCurve
        ``.to_frame()`` per time unit, ``.metrics()`` with the percentage errors at the
        calibration and observation ends, ``.plot()``.

    Raises
    ------
    AnalysisError
        ``time_unit`` differs from the model's; ``observation_end`` not after
        ``calibration_end`` or after the data.
    """
    if not isinstance(model, _TransactionModel):
        raise AnalysisError("tracking_curve: model must be a fitted BetaGeoModel or ParetoNBDModel")
    model._check_fitted()
    unit_name = time_unit or model.time_unit_ or "weeks"
    if model.time_unit_ and unit_name != model.time_unit_:
        raise AnalysisError(
            f"tracking_curve: time_unit {unit_name!r} differs from the model's {model.time_unit_!r}; "
            "pass the unit the summary was built with"
        )
    unit = _unit_days(unit_name)
    if cohort not in ("calibration", "all"):
        raise AnalysisError(f"tracking_curve: cohort must be 'calibration' or 'all', got {cohort!r}")
    pdays = _purchase_days(orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col,
                           period="day", time_unit=unit_name)
    cal_day, obs_day = _day_of(calibration_end), _day_of(observation_end)
    _, last_data = _raw_day_range(orders, time_col)
    if obs_day <= cal_day:
        raise AnalysisError(f"tracking_curve: observation_end {_date_str(obs_day)} must be after calibration_end {_date_str(cal_day)}")
    if obs_day > last_data:
        raise AnalysisError(
            f"tracking_curve: observation_end {_date_str(obs_day)} is after the last order day "
            f"{_date_str(last_data)}; set it on or before the data end"
        )
    c, d = pdays.customer, pdays.day
    keep = d <= obs_day
    c, d = c[keep], d[keep]
    first = np.full(len(pdays.ids), np.iinfo(np.int64).max)
    np.minimum.at(first, c, d)
    in_cohort = first <= (cal_day if cohort == "calibration" else obs_day)
    if not in_cohort.any():
        raise AnalysisError(f"tracking_curve: no customer's first purchase is on or before {_date_str(cal_day)}")
    start = int(first[in_cohort].min())
    sel = in_cohort[c]
    c, d = c[sel], d[sel]
    repeat_days = d[d != first[c]] - start
    cohort_days, cohort_n = np.unique(first[in_cohort] - start, return_counts=True)
    tau_c, tau_o = float(cal_day - start), float(obs_day - start)
    grid = np.unique(np.concatenate([np.arange(1, int(tau_o // unit) + 1) * unit, [tau_c, tau_o]]))
    actual_cum = np.searchsorted(np.sort(repeat_days), grid, side="right").astype("float64")
    elapsed = (grid[:, None] - cohort_days[None, :]) / unit
    pred_cum = (np.asarray(model.expected_purchases_new(np.maximum(elapsed, 0.0))) * (elapsed > 0)) @ cohort_n
    frame = pd.DataFrame(
        {
            "t": grid / unit,
            "date": pd.to_datetime(np.datetime64(start, "D") + np.round(grid).astype("int64").astype("timedelta64[D]")).as_unit("ns"),
            "actual_cum": actual_cum,
            "predicted_cum": pred_cum,
        }
    )
    frame["actual"] = frame["actual_cum"].diff().fillna(frame["actual_cum"])
    frame["predicted"] = frame["predicted_cum"].diff().fillna(frame["predicted_cum"])
    frame["holdout"] = grid > tau_c
    return TrackingCurve(frame, tau_c / unit, tau_o / unit, unit_name, model._label)


# --------------------------------------------------------------------------------------------
# Simulators
# --------------------------------------------------------------------------------------------


def _params(params: Mapping[str, float] | Sequence[float], names: Sequence[str], what: str) -> list[float]:
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise AnalysisError(f"{what}: params lacks {', '.join(missing)}; give {', '.join(names)}")
        vals = [float(params[n]) for n in names]
    else:
        vals = [float(v) for v in params]
        if len(vals) != len(names):
            raise AnalysisError(f"{what}: expected {len(names)} params ({', '.join(names)}), got {len(vals)}")
    bad = [n for n, v in zip(names, vals, strict=True) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise AnalysisError(f"{what}: params must be positive, got {', '.join(f'{n}={v}' for n, v in zip(names, vals, strict=True) if n in bad)}")
    return vals


def _T_array(n: int, T: Any) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise AnalysisError("T must be finite and >= 0")
    return arr


def simulate_bgnbd(n: int, params: Mapping[str, float] | Sequence[float], *, T: Any,
                   random_state: int | None = None) -> pd.DataFrame:
    """Draw customers from the BG/NBD model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``r, alpha, a, b``.
    T : float or array-like of length n
        Time since each customer's first purchase.
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per customer (index ``customer_id`` 0..n-1): ``frequency``, ``recency``, ``T``
        and the truth ``lam`` (purchase rate), ``p`` (dropout probability), ``alive``.
    """
    r, alpha, a, b = _params(params, ("r", "alpha", "a", "b"), "simulate_bgnbd")
    rng = np.random.default_rng(random_state)
    TT = _T_array(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    N = rng.poisson(lam * TT)  # purchase opportunities in (0, T] while the process runs
    K = rng.geometric(p)  # the K-th repeat purchase is the last
    x = np.minimum(N, K)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = TT[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)  # x-th of N uniform times
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": tx, "T": TT, "lam": lam, "p": p, "alive": N < K},
        index=pd.RangeIndex(n, name="customer_id"),
    )


def simulate_pareto_nbd(n: int, params: Mapping[str, float] | Sequence[float], *, T: Any,
                        random_state: int | None = None) -> pd.DataFrame:
    """Draw customers from the Pareto/NBD model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``r, alpha, s, beta``.
    T : float or array-like of length n
        Time since each customer's first purchase.
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T`` and the truth ``lam``, ``mu`` (dropout rate),
        ``lifetime``, ``alive``; index ``customer_id`` 0..n-1.
    """
    r, alpha, s, beta = _params(params, ("r", "alpha", "s", "beta"), "simulate_pareto_nbd")
    rng = np.random.default_rng(random_state)
    TT = _T_array(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    life = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    active = np.minimum(life, TT)
    x = rng.poisson(lam * active)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = active[pos] * rng.beta(x[pos], 1.0)  # the last of x uniform times
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": tx, "T": TT, "lam": lam, "mu": mu, "lifetime": life,
         "alive": life > TT},
        index=pd.RangeIndex(n, name="customer_id"),
    )


def simulate_gamma_gamma(n: int, params: Mapping[str, float] | Sequence[float], *, frequency: Any,
                         random_state: int | None = None) -> pd.DataFrame:
    """Draw average spends from the Gamma-Gamma model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``p, q, v``.
    frequency : int or array-like of length n
        Repeat purchases averaged per customer (>= 1).
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``monetary_value`` and the truth ``nu`` (scale of the customer's spend) and
        ``mean_spend`` (``p / nu``); index ``customer_id`` 0..n-1.
    """
    p, q, v = _params(params, ("p", "q", "v"), "simulate_gamma_gamma")
    rng = np.random.default_rng(random_state)
    x = np.broadcast_to(np.asarray(frequency, dtype="int64"), (n,)).copy()
    if (x < 1).any():
        raise AnalysisError("simulate_gamma_gamma: frequency must be >= 1")
    nu = rng.gamma(q, 1.0 / v, n)
    total = rng.gamma(p * x, 1.0 / nu)
    return pd.DataFrame(
        {"frequency": x, "monetary_value": total / x, "nu": nu, "mean_spend": p / nu},
        index=pd.RangeIndex(n, name="customer_id"),
    )


# --------------------------------------------------------------------------------------------
# One call for the notebook: CLV per customer with the honest check
# --------------------------------------------------------------------------------------------


def _margin_share(orders: pd.DataFrame, *, margin_col: str | None, default: float) -> tuple[float, str]:
    """Margin as a share of revenue: from the orders' margin column when there is one."""
    if margin_col and margin_col in orders:
        pos = orders[(orders["amount"] > 0) & orders[margin_col].notna()]
        if len(pos) and pos["amount"].sum() > 0:
            share = float(pos[margin_col].sum() / pos["amount"].sum())
            if 0 < share <= 1:
                return share, f"{share:.1%} (from the orders' {margin_col} column)"
    return float(default), f"{default:.0%} (analyses.segmentation.clv.margin)"


@dataclass(frozen=True)
class CLVResult:
    """Customer lifetime value per customer, the fitted models and the honest check.

    Attributes
    ----------
    method : {"models", "simple"}
    customers : pandas.DataFrame
        One row per customer: ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``, ``expected_purchases``, ``probability_alive``,
        ``expected_order_value``, ``clv`` (models); or the simple-formula columns and ``clv``.
    model, spend_model : fitted models or None
    holdout : HoldoutComparison or None
        Predicted vs actual holdout purchases by calibration frequency.
    tracking : TrackingCurve or None
    independence : IndependenceCheck or None
        Gamma-Gamma's assumption (frequency and spend independent), tested.
    margin : float
    notes : tuple of str
        Assumptions and exclusions, in words.
    """

    method: str
    customers: pd.DataFrame
    model: Any = None
    spend_model: Any = None
    holdout: Any = None
    tracking: Any = None
    independence: Any = None
    margin: float = 1.0
    horizon_months: float = 12.0
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Per-customer table (see the class docstring)."""
        return self.customers.copy()

    def summary(self) -> pd.DataFrame:
        """Parameter estimates with standard errors and 95 % intervals (models), or the CLV
        distribution (simple)."""
        if self.method == "models":
            parts = [self.model.summary().assign(model=self.model._label)]
            if self.spend_model is not None:
                parts.append(self.spend_model.summary().assign(model="Gamma-Gamma"))
            out = pd.concat(parts)
            return out[["model"] + [c for c in out.columns if c != "model"]]
        return self.customers["clv"].describe().to_frame("clv").T

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file."""
        clv = self.customers["clv"]
        out: dict[str, Any] = {
            "method": self.method,
            "customers": int(len(clv)),
            "clv_total": float(clv.sum()),
            "clv_mean": float(clv.mean()) if len(clv) else None,
            "margin": self.margin,
            "horizon_months": self.horizon_months,
        }
        if self.model is not None:
            out["model"] = self.model.metrics()
        if self.spend_model is not None:
            out["spend_model"] = self.spend_model.metrics()
        if self.holdout is not None:
            out["holdout"] = self.holdout.metrics()
        if self.tracking is not None:
            out["tracking"] = self.tracking.metrics()
        if self.independence is not None:
            out["independence"] = self.independence.metrics()
        return out

    def finding(self, *, currency: str = "¥") -> str:
        """What the CLV numbers mean for the business."""
        c = self.customers
        if c.empty:
            return "No customers to value."
        clv = c["clv"].sort_values(ascending=False)
        top = max(1, int(round(0.1 * len(clv))))
        share = clv.iloc[:top].sum() / clv.sum() if clv.sum() > 0 else float("nan")
        text = (f"Expected value over the next {self.horizon_months:g} months at {self.margin:.0%} margin: "
                f"{currency}{clv.sum():,.0f} in all, {currency}{clv.mean():,.0f} per customer on average; "
                f"the top 10 % of customers hold {share:.0%} of it. ")
        if "probability_alive" in c:
            alive = c["probability_alive"]
            text += (f"{(alive < 0.5).mean():.0%} of customers are more likely gone than active "
                     f"(P(alive) < 50 %); they are where win-back budgets go, not full-price acquisition.")
        if self.model is not None and not getattr(self.model, "converged_", True):
            text += " Warning: the purchase model did not converge; treat the numbers with care."
        return text

    def holdout_finding(self) -> str:
        """How well the forecast matched the holdout period."""
        if self.holdout is None:
            return ("No holdout check: set analyses.segmentation.clv.calibration_end to a date before "
                    "as_of to fit on the earlier period and compare with what customers did afterwards.")
        m = self.holdout.metrics()
        t = self.tracking.metrics() if self.tracking is not None else {}
        parts = [f"Fitted on data to the calibration end and compared with the holdout: "
                 f"mean absolute error of holdout repeat purchases per customer {m['mae_customer']:.2f}"]
        if "predicted_total" in m and "actual_total" in m and m["actual_total"]:
            parts.append(f"total predicted {m['predicted_total']:,.0f} vs actual {m['actual_total']:,.0f} "
                         f"({m['predicted_total'] / m['actual_total'] - 1:+.1%})")
        if t.get("ape_calibration_end") is not None:
            parts.append(f"cumulative repeat purchases off by {t['ape_calibration_end']:.1%} at the calibration end")
        if t.get("mape_holdout_cumulative") is not None:
            parts.append(f"by {t['mape_holdout_cumulative']:.1%} on average over the holdout weeks")
        return "; ".join(parts) + "."

    def _repr_html_(self) -> str:
        return self.summary().to_html()

    def __repr__(self) -> str:
        return f"CLVResult(method={self.method!r}, customers={len(self.customers):,})"


def customer_value(
    orders: pd.DataFrame,
    *,
    as_of: Any,
    params: Any,
    margin_col: str | None = None,
    customers: pd.DataFrame | None = None,
) -> CLVResult:
    """Customer lifetime value as of a date, by the method the params choose.

    ``params.method == "models"``: the purchase model (``params.model``: BG/NBD or Pareto/NBD) and
    Gamma-Gamma are fitted on all data up to ``as_of``; CLV is the discounted margin over
    ``params.horizon_months``. When ``params.calibration_end`` is set, the same models are also
    fitted on data up to it and checked against the period from it to ``as_of``.
    ``params.method == "simple"``: :func:`workbench.segmentation.segments.simple_clv` on the engine
    features.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical cleaned orders.
    as_of : date
    params : CLVParams
        ``analyses.segmentation.clv``.
    margin_col : str, optional
        Orders' margin column; its share of revenue replaces ``params.margin``.
    customers : pandas.DataFrame, optional
        For the simple formula's tenure and acquisition channel.

    Returns
    -------
    CLVResult

    Raises
    ------
    AnalysisError
        Too few repeat customers, or a calibration end outside the data.
    """
    margin, margin_note = _margin_share(orders, margin_col=margin_col, default=params.margin)
    notes = [f"margin {margin_note}", f"horizon {params.horizon_months:g} months",
             f"annual discount rate {params.discount_rate:.0%}"]
    if params.method == "simple":
        from workbench.data.features import customer_features
        from workbench.segmentation.segments import simple_clv

        feats = customer_features(orders, as_of=as_of, customers=customers)
        table = simple_clv(
            feats, margin=margin, expected_lifetime_years=params.expected_lifetime_years,
            discount_rate=params.discount_rate, acquisition_cost=params.acquisition_cost,
            acquisition_cost_by_channel=params.acquisition_cost_by_channel or None,
        )  # fmt: skip
        return CLVResult("simple", table, margin=margin, horizon_months=params.expected_lifetime_years * 12,
                         notes=tuple(notes))
    model_cls = BetaGeoModel if params.model == "bgnbd" else ParetoNBDModel
    summary = rfm_summary(orders, calibration_end=as_of, time_unit=params.time_unit)
    excluded = getattr(summary, "attrs", {}).get("excluded")
    if excluded:
        notes.append(f"excluded from the spend model: {excluded}")
    model = model_cls().fit(summary)
    per_month = 365.25 / 12 / _unit_days(params.time_unit)
    pred = model.predict(summary, t=params.horizon_months * per_month)
    spend = None
    table = summary.join(pred)
    if (summary["frequency"] > 0).sum() >= 20:
        spend = GammaGammaModel().fit(summary)
        table["expected_order_value"] = spend.conditional_expected_average_profit(
            summary["frequency"], summary["monetary_value"]
        )
        table["clv"] = spend.customer_lifetime_value(
            model, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
            time=int(round(params.horizon_months)), discount_rate=params.discount_rate,
            time_unit=params.time_unit, margin=margin,
        )  # fmt: skip
    independence = independence_check(summary, warn=False) if spend is not None else None
    holdout = tracking = None
    if params.calibration_end is not None:
        cal = rfm_summary(orders, calibration_end=params.calibration_end, observation_end=as_of,
                          time_unit=params.time_unit)
        cal_model = model_cls().fit(cal)
        holdout = holdout_comparison(cal_model, cal)
        tracking = tracking_curve(cal_model, orders, calibration_end=params.calibration_end,
                                  observation_end=as_of, time_unit=params.time_unit)
    table = table.reset_index()
    return CLVResult("models", table, model=model, spend_model=spend, holdout=holdout, tracking=tracking,
                     independence=independence, margin=margin, horizon_months=params.horizon_months,
                     notes=tuple(notes))


def value_potential_grid(current: pd.Series, future_value: pd.Series, *, cuts: Sequence[float] = (0.8, 0.95)) -> pd.DataFrame:
    """Current value class against future value class (both ABC by cumulative share).

    Parameters
    ----------
    current : pandas.Series
        Current ABC class per customer (index ``customer_id``).
    future_value : pandas.Series
        Forecast value (e.g. CLV) per customer (index ``customer_id``).
    cuts : sequence of float
        Cumulative share cut points, as for the current classes.

    Returns
    -------
    pandas.DataFrame
        Customer counts: rows current class, columns future class.
    """
    v = future_value.dropna().clip(lower=0).sort_values(ascending=False)
    total = v.sum()
    before = (v.cumsum() - v) / total if total > 0 else pd.Series(1.0, index=v.index)
    before = before.groupby(v).transform("min")  # tied values share the class of the tied block
    labels = [chr(ord("A") + i) for i in range(len(cuts) + 1)]
    future = pd.Series(labels[-1], index=v.index)
    for i, c in reversed(list(enumerate(cuts))):
        future[before < c] = labels[i]
    future[v <= 0] = labels[-1]
    both = pd.DataFrame({"current": current, "future": future}).dropna()
    grid = pd.crosstab(both["current"], both["future"]).reindex(index=labels, columns=labels, fill_value=0)
    grid.index.name, grid.columns.name = "current class", "future class"
    return grid


def plot_value_potential(grid: pd.DataFrame, ax: Any = None) -> Any:
    """Heatmap of :func:`value_potential_grid`."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    sns.heatmap(grid, annot=True, fmt=",d", cmap="Blues", cbar=False, ax=ax)
    ax.set_title("current value x future value (customers)")
    return ax
