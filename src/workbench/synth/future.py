"""What the base does after ``as_of``: the truth a sales forecast is scored against.

An extension of :func:`workbench.synth.generate` (see :mod:`workbench.synth.extensions`). The base
generator already simulates the existing customers' orders to ``end``, so their purchases after
``as_of`` are in ``orders``; sign-ups stop at ``as_of``. This extension adds, **in the truth only**
(no table changes, so no other analysis sees customers it could not have known), the customers
who would have signed up after ``as_of``: sign-ups continue with the base's intensity (growth
times seasonality, the same number per unit of intensity as before ``as_of``), each new customer
takes the order rate, mean spend and dropout hazard of an existing customer drawn at random, and
buys as a Poisson process with the seasonal intensity until dropout or ``end``, amounts lognormal
around their mean (as the base orders).

The truth (``truth["future"]``) holds, for every whole week (ending on the weekday of ``as_of``)
and calendar month between ``as_of`` and ``end``: revenue, purchases (purchase days, as the
forecast counts them: refunds and non-positive amounts left out, one purchase per customer and
day) and active customers, for the existing customers (from ``orders``) and the new ones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.synth._common import _Clock, _Season
from workbench.synth.spec import AMOUNT_SIGMA, SIGNUP_GROWTH_PER_YEAR

if TYPE_CHECKING:
    from workbench.synth.simulate import SynthData

__all__ = ["simulate_future"]

STREAM = 104
DAYS_PER_MONTH = 365.25 / 12


def _new_customers(rng: np.random.Generator, data: SynthData, clock: _Clock, season: _Season) -> pd.DataFrame:
    """Sign-ups after ``as_of`` and their purchase days (customer, day, amount)."""
    g = np.log1p(SIGNUP_GROWTH_PER_YEAR) / 365.25
    days = np.arange(int(np.ceil(clock.t_end)))
    w = np.exp(g * days) * season.daily[: len(days)]
    n_hist = int(np.ceil(clock.t_asof))
    per_weight = len(data.customers) / w[:n_hist].sum()
    fut = days[n_hist:]
    n_new = int(rng.poisson(per_weight * w[n_hist:].sum())) if len(fut) else 0
    if n_new == 0:
        return pd.DataFrame({"customer": [], "day": [], "amount": []})
    p = w[n_hist:] / w[n_hist:].sum()
    signup = fut[rng.choice(len(fut), size=n_new, p=p)] + rng.random(n_new)
    tc = data.truth_customers
    donor = rng.integers(0, len(tc), n_new)
    rate = tc["order_rate_per_month"].to_numpy()[donor] / DAYS_PER_MONTH
    mean_value = tc["mean_order_value"].to_numpy()[donor]
    hazard = tc["hazard_per_month"].to_numpy()[donor] / DAYS_PER_MONTH
    dropout = signup + rng.exponential(size=n_new) / np.maximum(hazard, 1e-12)
    owner, t = season.process(rng, signup, np.minimum(dropout, clock.t_end), rate, daytime=False)
    amount = np.maximum(np.round(rng.lognormal(np.log(mean_value[owner]) - AMOUNT_SIGMA**2 / 2, AMOUNT_SIGMA), 2), 1.0)
    day = clock.t0 + pd.to_timedelta(np.floor(t), unit="D")
    frame = pd.DataFrame({"customer": owner, "day": day, "amount": amount})
    return frame.groupby(["customer", "day"], sort=False)["amount"].sum().reset_index()


def _existing(data: SynthData, as_of: pd.Timestamp) -> pd.DataFrame:
    o = data.orders
    keep = (~o["is_refund"].astype(bool)) & (o["amount"] > 0) & (o["order_time"] >= as_of + pd.Timedelta(days=1))
    frame = pd.DataFrame({"customer": o.loc[keep, "customer_id"].to_numpy(), "day": o.loc[keep, "order_time"].dt.normalize().to_numpy(),
                          "amount": o.loc[keep, "amount"].to_numpy()})
    return frame.groupby(["customer", "day"], sort=False)["amount"].sum().reset_index()


def _edges(as_of: pd.Timestamp, end: pd.Timestamp, period: str) -> pd.DatetimeIndex:
    first = as_of + pd.Timedelta(days=1)
    last = end + pd.Timedelta(days=1)
    if period == "week":
        return pd.DatetimeIndex(first + pd.to_timedelta(np.arange(0, (last - first).days // 7 + 1) * 7, unit="D"))
    month0 = first if first.day == 1 else first + pd.offsets.MonthBegin(1)
    months = pd.date_range(month0, last, freq="MS")
    return pd.DatetimeIndex(months)


def _per_period(pdays: pd.DataFrame, edges: pd.DatetimeIndex) -> dict[str, list[float]]:
    n = max(len(edges) - 1, 0)
    k = np.searchsorted(edges.to_numpy(), pdays["day"].to_numpy(), side="right") - 1
    ok = (k >= 0) & (k < n)
    k, sub = k[ok], pdays[ok]
    active = pd.Series(sub["customer"].to_numpy()).groupby(k).nunique().reindex(range(n), fill_value=0)
    return {"revenue": np.round(np.bincount(k, weights=sub["amount"].to_numpy(), minlength=n), 2).tolist(),
            "orders": np.bincount(k, minlength=n).astype(float).tolist(),
            "active_customers": active.astype(float).tolist()}


def simulate_future(data: SynthData, *, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Truth of the periods after ``as_of`` (no tables: new customers stay in the truth).

    Parameters
    ----------
    data : SynthData
        The simulated base (and the tables of the extensions run before this one).
    seed : int
        The generator's seed; this module's stream is ``[seed, 104]``.

    Returns
    -------
    (dict, dict)
        No tables, and the truth: ``new_customers`` (sign-ups after ``as_of``), and per
        ``week`` / ``month``: ``period_start`` and, for ``existing`` and ``new`` customers,
        ``revenue``, ``orders`` (purchase days) and ``active_customers`` per period.
    """
    gen = data.truth.get("generator", {})
    start, end, as_of = (pd.Timestamp(gen.get(k, d)) for k, d in (("start", "2023-01-01"), ("end", "2025-12-31"), ("as_of", "2025-09-30")))
    clock = _Clock(start, float((end - start).days + 1), float((as_of - start).days + 1))
    season = _Season(clock)
    rng = np.random.default_rng([int(seed), STREAM])
    new = _new_customers(rng, data, clock, season)
    old = _existing(data, as_of)
    truth: dict[str, Any] = {
        "description": "purchases after as_of: existing customers from orders, new customers (signed up after as_of) "
                       "simulated here and kept in the truth only; purchase days, refunds and non-positive amounts left out",
        "as_of": str(as_of.date()), "end": str(end.date()),
        "new_customers": int(new["customer"].nunique()) if len(new) else 0,
    }
    for period in ("week", "month"):
        edges = _edges(as_of, end, period)
        truth[period] = {"period_start": [str(d.date()) for d in edges[:-1]],
                         "existing": _per_period(old, edges), "new": _per_period(new, edges)}
    return {}, truth
