"""Deterministic synthetic CRM data with a documented ground truth.

:func:`generate` simulates a customer base and returns the five contract tables (canonical
column names, clean) together with the truth that produced them; :func:`write_example` writes
them the way Chinese CRM/ERP exports look (GBK CSV with Chinese headers, UTF-8-with-BOM CSV,
Excel, Parquet) with planted data-quality defects, or as clean canonical Parquet files.

The model, in the order it is simulated (every number below is a module constant and is copied
into ``truth``):

* **Customers.** Four latent segments (:data:`SEGMENT_SPEC`: ``vip``, ``loyal``,
  ``occasional``, ``bargain``) with documented shares. Each customer's order rate and mean order
  value are the segment's times a gamma multiplier of mean 1 (shapes
  :data:`RATE_GAMMA_SHAPE`, :data:`SPEND_GAMMA_SHAPE`), so spend is skewed within a segment.
  Sign-up times fall in ``[start, as_of]`` with intensity growing by
  :data:`SIGNUP_GROWTH_PER_YEAR` and following the seasonality. Baseline covariates (known at
  sign-up): acquisition channel, member level, gender, age; plus fake name, phone, e-mail, city.
* **Seasonality.** Calendar intensity ``s(t)``: month factors (:data:`MONTH_FACTORS`), special
  days (:data:`SPECIAL_DAYS`: 11-11 "双11" spike, 6-18, 12-12) and a Chinese New Year dip
  (:data:`CNY_DIP`), normalised to mean 1 within each calendar year.
* **Dropout.** A latent exponential lifetime from sign-up with hazard
  ``base_hazard[segment] * exp(beta . x)`` (:data:`HAZARD_RATIOS`, reference levels in
  :data:`HAZARD_REFERENCE`). Complaint tickets arrive as a Poisson process (rate by segment);
  from the first complaint with CSAT <= :data:`BAD_CSAT_MAX` on, the hazard is multiplied by
  :data:`BAD_COMPLAINT_FACTOR` (a time-varying covariate). The segment acts as an unobserved
  frailty.
* **Orders.** Between sign-up and ``min(dropout, end)`` purchases arrive as an inhomogeneous
  Poisson process with intensity ``rate_i * s(t)`` (simulated exactly by a time change, which is
  equivalent to thinning). Amount ~ lognormal around the customer's mean times a category price
  factor; discount, quantity and margin by segment and category (:data:`CATEGORY_SPEC`);
  channel drawn from the customer's own channel probabilities (Dirichlet around the segment's).
  :data:`REFUND_RATE` of purchases get a later refund line (new ``order_id``, negative amount,
  status ``refunded``).
* **Campaigns** (:data:`CAMPAIGN_SPEC`): ``spring_coupon_2025`` (SMS, randomized 50/50),
  ``summer_email_2025`` (e-mail, arms A/B/control) among customers active at contact, with
  ``converted ~ Bernoulli(p0_i + tau[arm, segment])`` where ``p0_i`` is ``p0[segment]`` scaled
  by the customer's pre-period purchases relative to the segment mean (mean ``p0[segment]``,
  :data:`CAMPAIGN_ENGAGEMENT_FLOOR`); each tracked conversion is a purchase inserted into
  ``orders``. ``vip_call_2025`` (phone) has no control group: customers are selected with a
  propensity rising with their 90-day pre-period revenue, and a call adds a purchase with
  probability ``tau[segment]``; its ``converted`` / ``revenue`` are read from the orders in the
  window, so the effect is only identified by adjusting for past spend.
* **Tickets.** The complaint tickets above plus service tickets following a share of purchases.
* **Events.** Sessions per customer (Poisson, by segment) within the active period, each a
  funnel ``exposure -> visit -> add_to_cart -> checkout -> order`` with step conversion by channel
  (:data:`FUNNEL_STEP_CONVERSION`); clicks of the randomized campaigns open campaign sessions.

Modules: :mod:`~workbench.synth.spec` (the parameters above), this module (customers,
lifetimes, background orders, refunds, tickets, events and :func:`generate`),
:mod:`~workbench.synth.campaigns`, :mod:`~workbench.synth.frames` (canonical tables),
:mod:`~workbench.synth.truth` and :mod:`~workbench.synth.export` (:func:`write_example`).

Everything is vectorised NumPy (no loop over customers or orders), driven by independent
streams spawned from one :class:`numpy.random.SeedSequence`: the same ``seed`` gives identical
tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench.report.results import Result
from workbench.synth._common import _Clock, _ids, _p, _Season, _time_of_day
from workbench.synth.campaigns import _simulate_campaigns
from workbench.synth.frames import _frames
from workbench.synth.lines import _concat_lines, _lines, _order_attributes
from workbench.synth.spec import (
    _EMAIL_DOMAIN_P,
    _EMAIL_DOMAINS,
    _PHONE_SECOND,
    _PHONE_SECOND_P,
    _STREAMS,
    _SURNAMES,
    ACQUISITION_CHANNELS,
    AGE_REFERENCE,
    AGE_SPEC,
    BAD_COMPLAINT_FACTOR,
    BAD_CSAT_MAX,
    CAMPAIGN_SPEC,
    CATEGORY_SPEC,
    CHANNEL_CONCENTRATION,
    CHANNELS,
    CITIES,
    CSAT_COMPLAINT,
    CSAT_SERVICE,
    DAYS_PER_MONTH,
    FUNNEL_STEP_CONVERSION,
    FUNNEL_STEP_MINUTES,
    FUNNEL_STEPS,
    GENDERS,
    HAZARD_RATIOS,
    HAZARD_REFERENCE,
    MEMBER_LEVELS,
    PARTIAL_REFUND_SHARE,
    PRE_PERIOD_DAYS,
    RATE_GAMMA_SHAPE,
    REFUND_RATE,
    SEGMENT_CHANNEL_PROBS,
    SEGMENT_SPEC,
    SEGMENTS,
    SERVICE_TICKET_RATE,
    SIGNUP_GROWTH_PER_YEAR,
    SPEND_GAMMA_SHAPE,
    TICKET_CATEGORIES,
    TICKET_CHANNELS,
    TICKET_SPEC,
    UNRESOLVED_SHARE,
)
from workbench.synth.truth import _truth

__all__ = [
    "SynthData",
    "generate",
    "SEGMENTS",
    "SEGMENT_SPEC",
    "CHANNELS",
    "CATEGORY_SPEC",
    "HAZARD_RATIOS",
    "HAZARD_REFERENCE",
    "CAMPAIGN_SPEC",
    "FUNNEL_STEPS",
    "FUNNEL_STEP_CONVERSION",
    "PRE_PERIOD_DAYS",
    "REFUND_RATE",
    "TICKET_CHANNELS",
    "UNRESOLVED_SHARE",
]

_MAX_CUSTOMERS = 8_000_000  # ids C1000001..C8999999; C9xxxxxx is kept for orphan defects


@dataclass(frozen=True, eq=False)
class SynthData(Result):
    """A generated customer base: five canonical tables plus the truth behind them.

    Attributes
    ----------
    customers, orders, campaign_contacts, events, tickets : pandas.DataFrame
        Clean tables with the canonical column names of :data:`workbench.core.contract.TABLES`.
    extra_tables : dict of str to DataFrame
        Tables the extensions add (:mod:`workbench.synth.extensions`: ``spend``, ``order_items``,
        ``feedback``).
    truth : dict
        JSON-able ground truth (segments, seasonality, churn model and realised churn rates,
        campaigns, funnel, refunds, tickets; ``defects`` is filled by :func:`write_example`).
    truth_customers : pandas.DataFrame
        One row per customer: latent segment, own rate and mean spend, preferred channel,
        hazard, dropout date, churn labels and reason.
    """

    customers: pd.DataFrame
    orders: pd.DataFrame
    campaign_contacts: pd.DataFrame
    events: pd.DataFrame
    tickets: pd.DataFrame
    truth: dict[str, Any]
    truth_customers: pd.DataFrame
    extra_tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    #: The five base contract tables, in the order of the files written by ``write_example``.
    TABLE_NAMES: ClassVar[tuple[str, ...]] = (
        "customers", "orders", "campaign_contacts", "events", "tickets",
    )  # fmt: skip

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every contract table by name: the five base tables, then the extensions' (``spend`` ...)."""
        return {**{name: getattr(self, name) for name in self.TABLE_NAMES}, **self.extra_tables}

    def summary(self) -> pd.DataFrame:
        """Rows and columns per table.

        Returns
        -------
        pandas.DataFrame
            One row per table: ``table``, ``rows``, ``columns``.
        """
        return pd.DataFrame(
            [{"table": k, "rows": len(v), "columns": v.shape[1]} for k, v in self.tables.items()]
        )

    def metrics(self) -> dict[str, Any]:
        """Rows per table and the generator's seed and size.

        Returns
        -------
        dict
            ``rows`` (table -> rows), ``seed``, ``n_customers``, ``as_of``.
        """
        g = self.truth.get("generator", {})
        return {
            "rows": {k: len(v) for k, v in self.tables.items()},
            "seed": g.get("seed"),
            "n_customers": g.get("n_customers"),
            "as_of": g.get("as_of"),
        }

    def finding(self) -> str:
        """One sentence: how many customers, orders and the simulated period."""
        g = self.truth.get("generator", {})
        return (
            f"Synthetic base of {len(self.customers):,} customers and {len(self.orders):,} order "
            f"lines from {g.get('start')} to {g.get('end')} (as of {g.get('as_of')}, seed {g.get('seed')})."
        )

    def __repr__(self) -> str:
        g = self.truth.get("generator", {})
        return (
            f"SynthData(customers={len(self.customers):,}, orders={len(self.orders):,}, "
            f"seed={g.get('seed')}, as_of={g.get('as_of')})"
        )


def _simulate_customers(
    rng: np.random.Generator, n: int, clock: _Clock, season: _Season
) -> dict[str, np.ndarray]:
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    seg = rng.choice(len(SEGMENTS), size=n, p=_p(s["share"] for s in spec)).astype(np.int8)
    # sign-up: intensity exp(g t) * s(t) on [start, as_of]
    n_days = int(np.ceil(clock.t_asof))
    g = np.log1p(SIGNUP_GROWTH_PER_YEAR) / 365.25
    w = np.exp(g * np.arange(n_days)) * season.daily[:n_days]
    cdf = np.cumsum(w) / w.sum()
    day = np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), n_days - 1)
    signup = day + _time_of_day(rng, n)
    signup = np.minimum(signup, clock.t_asof - 1e-6)
    rate_mult = rng.gamma(RATE_GAMMA_SHAPE, 1.0 / RATE_GAMMA_SHAPE, n)
    spend_mult = rng.gamma(SPEND_GAMMA_SHAPE, 1.0 / SPEND_GAMMA_SHAPE, n)
    alpha = np.array([SEGMENT_CHANNEL_PROBS[s] for s in SEGMENTS])[seg] * CHANNEL_CONCENTRATION
    gam = rng.gamma(alpha)
    ch_probs = gam / gam.sum(axis=1, keepdims=True)
    gender = rng.choice(len(GENDERS), size=n, p=_p(GENDERS.values())).astype(np.int8)
    age = np.clip(
        rng.normal(AGE_SPEC["mean"], AGE_SPEC["sd"], n), AGE_SPEC["low"], AGE_SPEC["high"]
    )
    acq = rng.choice(len(ACQUISITION_CHANNELS), size=n, p=_p(ACQUISITION_CHANNELS.values())).astype(
        np.int8
    )
    member = rng.choice(len(MEMBER_LEVELS), size=n, p=_p(MEMBER_LEVELS.values())).astype(np.int8)
    city = rng.choice(len(CITIES), size=n, p=_p(CITIES.values())).astype(np.int8)
    birth = np.floor(signup - age * 365.25)
    return {
        "seg": seg,
        "signup": signup,
        "rate_mult": rate_mult,
        "spend_mult": spend_mult,
        "rate": np.array([s["order_rate_per_month"] for s in spec])[seg] * rate_mult,
        "mean_value": np.array([s["mean_order_value"] for s in spec])[seg] * spend_mult,
        "ch_probs": ch_probs,
        "preferred": ch_probs.argmax(axis=1).astype(np.int8),
        "gender": gender,
        "age_signup": age,
        "acq": acq,
        "member": member,
        "city": city,
        "birth": birth,
        "surname": rng.choice(len(_SURNAMES), size=n, p=_p(s[2] for s in _SURNAMES)),
        "given1": rng.integers(0, 10_000, n),
        "given2": rng.integers(0, 10_000, n),
        "given_len": np.where(rng.random(n) < 0.75, 2, 1).astype(np.int8),
        "phone2": rng.choice(len(_PHONE_SECOND), size=n, p=_p(_PHONE_SECOND_P)),
        "phone_rest": rng.integers(0, 1_000_000_000, n),
        "email_kind": (rng.random(n) < 0.35).astype(np.int8),  # 1: numeric QQ address
        "email_num": rng.integers(10_000, 10_000_000_000, n),
        "email_domain": rng.choice(len(_EMAIL_DOMAINS), size=n, p=_p(_EMAIL_DOMAIN_P)),
    }


def _hazard_ratio(cust: dict[str, np.ndarray]) -> np.ndarray:
    acq_levels = list(ACQUISITION_CHANNELS)
    acq_hr = np.array([HAZARD_RATIOS.get(f"acquisition_channel={lvl}", 1.0) for lvl in acq_levels])
    hr = acq_hr[cust["acq"]]
    hr = hr * np.where(cust["member"] > 0, HAZARD_RATIOS["is_member"], 1.0)
    hr = hr * np.where(cust["gender"] == list(GENDERS).index("女"), HAZARD_RATIOS["gender=女"], 1.0)
    hr = hr * HAZARD_RATIOS["age_per_10_years"] ** ((cust["age_signup"] - AGE_REFERENCE) / 10.0)
    return hr


def _simulate_lifetimes(
    rng: np.random.Generator, cust: dict[str, np.ndarray], clock: _Clock
) -> dict[str, np.ndarray]:
    n = cust["seg"].size
    a = cust["signup"]
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    hr = _hazard_ratio(cust)
    h0 = np.array([s["base_hazard_per_month"] for s in spec])[cust["seg"]]
    h = h0 * hr / DAYS_PER_MONTH  # per day, before any bad complaint
    # potential complaints on [signup, end): homogeneous Poisson by segment
    c_rate = np.array([s["complaint_rate_per_month"] for s in spec])[cust["seg"]] / DAYS_PER_MONTH
    k = rng.poisson(c_rate * (clock.t_end - a))
    c_owner = np.repeat(np.arange(n, dtype=np.int32), k)
    c_time = a[c_owner] + rng.random(c_owner.size) * (clock.t_end - a)[c_owner]
    c_csat = rng.choice(5, size=c_owner.size, p=_p(CSAT_COMPLAINT)).astype(np.int8) + 1
    c_bad = c_csat <= BAD_CSAT_MAX
    first_bad = np.full(n, np.inf)
    np.minimum.at(first_bad, c_owner[c_bad], c_time[c_bad])
    # latent dropout: cumulative hazard h (t - a) before the first bad complaint, factor after
    e = rng.exponential(size=n)
    l1 = h * (first_bad - a)  # inf without a bad complaint
    before = a + e / h
    after = first_bad + (e - np.minimum(l1, e)) / (BAD_COMPLAINT_FACTOR * h)
    dropout = np.where(e < l1, before, after)
    active_end = np.minimum(dropout, clock.t_end)
    keep = c_time < active_end[c_owner]
    c_owner, c_time, c_csat, c_bad = c_owner[keep], c_time[keep], c_csat[keep], c_bad[keep]
    last_bad = np.full(n, -np.inf)
    np.maximum.at(last_bad, c_owner[c_bad], c_time[c_bad])
    return {
        "hazard_ratio": hr,
        "hazard_per_month": h * DAYS_PER_MONTH,
        "first_bad": np.where(first_bad < active_end, first_bad, np.inf),
        "last_bad": last_bad,
        "dropout": dropout,
        "active_end": active_end,
        "c_owner": c_owner,
        "c_time": c_time,
        "c_csat": c_csat,
    }


def _simulate_refunds(
    rng: np.random.Generator, base: dict[str, np.ndarray], clock: _Clock
) -> dict[str, np.ndarray]:
    sel = np.flatnonzero(rng.random(base["owner"].size) < REFUND_RATE)
    t = base["t"][sel] + 1.0 + rng.random(sel.size) * 20.0
    share = np.where(
        rng.random(sel.size) < PARTIAL_REFUND_SHARE, 0.2 + 0.7 * rng.random(sel.size), 1.0
    )
    keep = t < clock.t_end
    sel, t, share = sel[keep], t[keep], share[keep]
    amount = -np.round(base["amount"][sel] * share, 2)
    attrs = {
        "amount": amount,
        "channel": base["channel"][sel],
        "cat": base["cat"][sel],
        "qty": -base["qty"][sel],
        "discount": np.zeros(sel.size),
        "margin": -np.round(base["margin"][sel] * share, 2),
    }
    return _lines(base["owner"][sel], t, attrs, kind=2)


def _simulate_tickets(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    base: dict[str, np.ndarray],
    clock: _Clock,
) -> dict[str, np.ndarray]:
    sel = np.flatnonzero(rng.random(base["owner"].size) < SERVICE_TICKET_RATE)
    s_time = base["t"][sel] + 0.1 + rng.random(sel.size) * 9.9
    keep = s_time < clock.t_end
    s_owner, s_time = base["owner"][sel][keep], s_time[keep]
    ns, nc = s_owner.size, life["c_owner"].size
    owner = np.concatenate([s_owner, life["c_owner"]])
    opened = np.concatenate([s_time, life["c_time"]])
    complaint = np.concatenate([np.zeros(ns, bool), np.ones(nc, bool)])
    csat = np.concatenate(
        [rng.choice(5, size=ns, p=_p(CSAT_SERVICE)).astype(np.int8) + 1, life["c_csat"]]
    )
    categories = list(TICKET_CATEGORIES)
    cat = np.empty(ns + nc, dtype=np.int8)
    channel = np.empty(ns + nc, dtype=np.int8)
    first = np.empty(ns + nc)
    resolved = np.empty(ns + nc)
    for kind, mask in (("service", ~complaint), ("complaint", complaint)):
        spec = TICKET_SPEC[kind]
        k = int(mask.sum())
        levels = [categories.index(c) for c in spec["categories"]]
        cat[mask] = np.array(levels)[
            rng.choice(len(levels), size=k, p=_p(spec["categories"].values()))
        ]
        channel[mask] = rng.choice(len(TICKET_CHANNELS), size=k, p=_p(spec["channel_probs"]))
        first[mask] = (
            opened[mask]
            + rng.lognormal(np.log(spec["first_response_median_minutes"]), 1.0, k) / 1440.0
        )
        resolved[mask] = (
            first[mask] + rng.lognormal(np.log(spec["resolution_median_hours"]), 0.8, k) / 24.0
        )
    resolved = np.where(rng.random(ns + nc) < UNRESOLVED_SHARE, np.nan, resolved)
    first = np.where(first < clock.t_end, first, np.nan)
    resolved = np.where(resolved < clock.t_end, resolved, np.nan)
    order = np.argsort(opened, kind="stable")
    return {
        "owner": owner[order], "opened": opened[order], "first": first[order],
        "resolved": resolved[order], "csat": csat[order], "channel": channel[order],
        "cat": cat[order], "complaint": complaint[order], "categories": np.array(categories),
    }  # fmt: skip


def _simulate_events(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    clock: _Clock,
    season: _Season,
) -> dict[str, np.ndarray]:
    online = [CHANNELS.index(c) for c in FUNNEL_STEP_CONVERSION]
    sess_rate = np.array([SEGMENT_SPEC[s]["sessions_mean"] for s in SEGMENTS])[cust["seg"]]
    a, b = cust["signup"], life["active_end"]
    width = season.S(b) - season.S(a)
    # sessions_mean sessions over the whole active period: rate per unit of seasonal time
    owner, t0 = season.process(rng, a, b, sess_rate / np.maximum(width, 1e-9))
    probs = cust["ch_probs"][:, online]
    cum = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(owner.size)
    ch = np.zeros(owner.size, dtype=np.int8)
    for j in range(len(online) - 1):
        ch += u > cum[owner, j]
    campaign = np.full(owner.size, -1, dtype=np.int8)
    # campaign sessions: clicks of the randomized campaigns
    if contacts:
        clicked = contacts["clicked"] & ~contacts["flags_na"]
        c_owner = contacts["owner"][clicked]
        c_code = contacts["campaign"][clicked]
        names = list(CAMPAIGN_SPEC)
        c_ch = np.array(
            [
                list(FUNNEL_STEP_CONVERSION).index(
                    CAMPAIGN_SPEC[names[c]].get("session_channel", "web")
                )
                for c in range(len(names))
            ]
        )[c_code]
        c_t0 = (
            contacts["contact"][clicked]
            + np.minimum(rng.exponential(3.0, c_owner.size), 48.0) / 24.0
        )
        keep = c_t0 < clock.t_end
        owner = np.concatenate([owner, c_owner[keep]])
        t0 = np.concatenate([t0, c_t0[keep]])
        ch = np.concatenate([ch, c_ch[keep].astype(np.int8)])
        campaign = np.concatenate([campaign, c_code[keep]])
    # funnel depth: consecutive successes of the step conversions
    steps = FUNNEL_STEPS[1:]
    p = np.array([[FUNNEL_STEP_CONVERSION[c][s] for s in steps] for c in FUNNEL_STEP_CONVERSION])[
        ch
    ]
    ok = rng.random(p.shape) < p
    depth = np.cumprod(ok, axis=1).sum(axis=1)
    order = np.lexsort((owner, t0))
    owner, t0, ch, campaign, depth = (
        owner[order],
        t0[order],
        ch[order],
        campaign[order],
        depth[order],
    )
    n_ev = depth + 1
    sess = np.repeat(np.arange(owner.size), n_ev)
    first_row = np.concatenate([[0], np.cumsum(n_ev)[:-1]])
    step = np.arange(sess.size) - first_row[sess]
    mean_gap = np.array([0.0, *(FUNNEL_STEP_MINUTES[s] for s in steps)])[step]
    gap = np.where(step > 0, rng.exponential(1.0, sess.size) * mean_gap + 10.0 / 60.0, 0.0) / 1440.0
    cs = np.cumsum(gap)
    t = t0[sess] + cs - cs[first_row][sess]
    return {
        "sess_owner": owner, "sess_t0": t0, "sess_ch": ch, "sess_campaign": campaign,
        "depth": depth, "sess": sess, "step": step.astype(np.int8), "t": t, "online": np.array(online),
    }  # fmt: skip


def _check_args(n_customers: int, seed: int, start: str, end: str, as_of: str) -> _Clock:
    if isinstance(n_customers, bool) or not isinstance(n_customers, (int, np.integer)):
        raise TypeError(
            f"n_customers must be an int, got {type(n_customers).__name__} {n_customers!r}"
        )
    if not 1 <= n_customers <= _MAX_CUSTOMERS:
        raise ValueError(f"n_customers must be in [1, {_MAX_CUSTOMERS:,}], got {n_customers!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    try:
        t0, t_end, t_asof = (pd.Timestamp(x).normalize() for x in (start, end, as_of))
    except (ValueError, TypeError) as err:
        raise ValueError(f"start, end and as_of must be dates (YYYY-MM-DD): {err}") from None
    if not t0 < t_asof < t_end:
        raise ValueError(
            f"dates must satisfy start < as_of < end, got start={start!r}, as_of={as_of!r}, end={end!r}"
        )
    day = pd.Timedelta(days=1)
    return _Clock(t0=t0, t_end=(t_end - t0) / day + 1.0, t_asof=(t_asof - t0) / day + 1.0)


def generate(
    n_customers: int,
    *,
    seed: int = 42,
    start: str = "2023-01-01",
    end: str = "2025-12-31",
    as_of: str = "2025-09-30",
) -> SynthData:
    """Simulate a CRM customer base with known ground truth.

    Parameters
    ----------
    n_customers : int
        Customers to simulate (1 .. 8,000,000). About 10 order lines per customer come out
        with the default dates.
    seed : int, default 42
        Seed of every random draw; the same seed gives identical tables.
    start, end : str, default "2023-01-01", "2025-12-31"
        First and last day of the simulated period (business launch and export date).
    as_of : str, default "2025-09-30"
        Analysis date: sign-ups fall in ``[start, as_of]``; churn truth uses the 90 days after.

    Returns
    -------
    SynthData
        Clean canonical tables, ``truth`` (JSON-able) and ``truth_customers``.

    Raises
    ------
    TypeError
        ``n_customers`` is not an int.
    ValueError
        ``n_customers`` out of range, negative ``seed``, or dates not ``start < as_of < end``.

    Examples
    --------
    >>> data = generate(500, seed=1)
    >>> sorted(data.tables)
    ['campaign_contacts', 'customers', 'events', 'orders', 'tickets']
    >>> data.truth["segments"]["vip"]["share"]
    0.08
    """
    clock = _check_args(n_customers, seed, start, end, as_of)
    n = int(n_customers)
    streams = np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))
    rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)}
    season = _Season(clock)

    cust = _simulate_customers(rng["customers"], n, clock, season)
    life = _simulate_lifetimes(rng["lifetimes"], cust, clock)
    owner, t = season.process(
        rng["orders"], cust["signup"], life["active_end"], cust["rate"] / DAYS_PER_MONTH
    )
    base = _lines(owner, t, _order_attributes(rng["orders"], cust, owner), kind=0)
    contacts, inserted, camp_truth = _simulate_campaigns(rng["campaigns"], cust, life, base, clock)
    refunds = _simulate_refunds(rng["refunds"], base, clock)
    tickets = _simulate_tickets(rng["tickets"], cust, life, base, clock)
    events = _simulate_events(rng["events"], cust, life, contacts, clock, season)
    lines = _concat_lines([base, *inserted, refunds])
    del base, inserted, refunds
    order = np.argsort(lines["t"], kind="stable")
    for key in list(lines):
        lines[key] = lines[key][order]
    del order

    cid = _ids("C", np.arange(1_000_001, 1_000_001 + n), 7)
    frames = _frames(cust, lines, contacts, tickets, events, cid, clock)
    truth, truth_customers = _truth(
        cust, life, lines, contacts, tickets, events, camp_truth, cid, clock,
        n=n, seed=int(seed), start=start, end=end, as_of=as_of,
    )  # fmt: skip
    from workbench.synth.extensions import extend  # the extensions import SynthData from here

    return extend(SynthData(**frames, truth=truth, truth_customers=truth_customers), seed=int(seed))
