"""Marketing touchpoints with known per-channel effects, and the spend table (channel attribution).

An extension of :func:`workbench.synth.generate` (see :mod:`workbench.synth.extensions`): it reads
the simulated base and returns the ``events`` table with touchpoint rows added (event name
:data:`TOUCH_EVENT`, which no funnel step uses) and a new ``spend`` table, drawing from its own
random stream (102) so the base tables stay as they are.

The model
---------
Journeys are drawn from a known first-order absorbing Markov chain over :data:`CHANNELS`: the
first channel from :data:`START`, then from channel ``i`` the next channel with
:data:`TRANSITIONS` ``[i]``, a conversion with :data:`CONVERT` ``[i]``, else the journey ends
without one. So the true removal effects (the conversion probability lost when a channel is
taken out, its transitions sent to "no conversion") and the true Shapley values of the game
"conversion probability with only the channels of ``S``" are computed exactly from the
parameters (linear algebra, :func:`chain_truth`) and stored in the truth.

Each converting journey ends at a real purchase order of a real customer in the year before
``as_of`` (its touches on whole days between the customer's previous purchase, or sign-up, and
the order, at most :data:`MAX_SPAN_DAYS` earlier); each non-converting journey belongs to another
customer, with no purchase from its first touch to :data:`QUIET_DAYS` after its last. One
journey per customer, so an analysis that splits a customer's touches at purchases and uses a
lookback of at least :data:`MAX_SPAN_DAYS` days recovers the journeys exactly.

Planted "when and where": converting journeys' touches fall more in the evening
(:data:`HOURS_CONVERTING`) and on weekends; orders of customers in :data:`CITY_WEIGHT` cities
are picked for conversions more (or less) often. Spend per week, channel and campaign is the
touches times a cost per touch (:data:`COST_PER_TOUCH`, gamma noise), so the channel economics
are planted too: ``display`` starts journeys that others finish (under-credited by last touch),
``search`` finishes them (over-credited).
"""

from __future__ import annotations

from itertools import combinations
from math import factorial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from workbench.synth.simulate import SynthData

__all__ = [
    "CHANNELS",
    "COST_PER_TOUCH",
    "CONVERT",
    "START",
    "STREAM",
    "TOUCH_EVENT",
    "TRANSITIONS",
    "chain_truth",
    "simulate_touchpoints",
]

STREAM = 102
#: ``events.event_name`` of a marketing touchpoint (not a funnel step).
TOUCH_EVENT = "ad_touch"
#: Marketing channels of the touchpoints.
CHANNELS: tuple[str, ...] = ("display", "social", "search", "email", "affiliate", "direct")
#: Probability that a journey starts at each channel.
START = np.array([0.30, 0.25, 0.20, 0.10, 0.05, 0.10])
#: Probability of moving from channel i (row) to channel j (column).
TRANSITIONS = np.array(
    [
        [0.10, 0.10, 0.30, 0.05, 0.00, 0.10],  # display leads on to search
        [0.05, 0.15, 0.20, 0.00, 0.00, 0.10],  # social
        [0.00, 0.00, 0.10, 0.05, 0.00, 0.10],  # search
        [0.00, 0.00, 0.10, 0.10, 0.00, 0.10],  # email
        [0.00, 0.00, 0.05, 0.00, 0.00, 0.05],  # affiliate
        [0.00, 0.00, 0.05, 0.00, 0.00, 0.05],  # direct
    ]
)
#: Probability of converting right after a touch of each channel.
CONVERT = np.array([0.03, 0.05, 0.25, 0.15, 0.20, 0.30])
#: Mean cost of one touch by channel (direct costs nothing).
COST_PER_TOUCH = {"display": 4.7, "social": 9.5, "search": 23.0, "email": 3.0, "affiliate": 27.0, "direct": 0.0}
#: Impressions per touch by channel (clicks are the touches).
IMPRESSIONS_PER_TOUCH = {"display": 40, "social": 25, "search": 8, "email": 3, "affiliate": 10, "direct": 1}
#: Sampling weight of a city's orders for conversions (others 1).
CITY_WEIGHT = {"杭州": 2.0, "成都": 1.6, "西安": 0.5}
#: Touch hour distributions (relative weights for hours 0..23).
HOURS_CONVERTING = np.array([1, 1, 1, 1, 1, 1, 2, 3, 4, 5, 5, 5, 6, 5, 5, 5, 5, 6, 7, 9, 14, 16, 14, 6], float)
HOURS_OTHER = np.array([1, 1, 1, 1, 1, 1, 2, 4, 7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7, 5, 3], float)
#: Chance that a converting journey's touch moves to a weekend day drawn instead (when one is).
WEEKEND_PULL = 0.6
MAX_SPAN_DAYS = 25
QUIET_DAYS = 31
#: Share of the customers with an eligible order that get a converting journey (at most).
CONVERTING_SHARE = 0.5


def _absorb(start: np.ndarray, trans: np.ndarray, conv: np.ndarray, keep: np.ndarray) -> float:
    """Conversion probability of the chain with only the channels in ``keep`` (others: no conversion)."""
    k = np.flatnonzero(keep)
    if k.size == 0:
        return 0.0
    q = trans[np.ix_(k, k)]
    x = np.linalg.solve(np.eye(k.size) - q, conv[k])
    return float(start[k] @ x)


def chain_truth(start: np.ndarray, trans: np.ndarray, conv: np.ndarray, channels: tuple[str, ...]) -> dict[str, Any]:
    """Exact attribution figures of an absorbing first-order chain.

    Parameters
    ----------
    start, trans, conv : numpy.ndarray
        Start probabilities (K), channel-to-channel transitions (K x K), conversion after each
        channel (K); the rest of each row ends the journey without conversion.
    channels : tuple of str

    Returns
    -------
    dict
        ``p_convert``; per channel ``removal_effect``, ``markov_share`` (removal effects
        normalised), ``shapley_share`` (Shapley values of v(S) = conversion probability with
        only S, normalised), ``last_touch_share`` and ``first_touch_share`` (expected shares of
        conversions), ``visits_per_journey``.
    """
    kk = len(channels)
    every = np.ones(kk, bool)
    p = _absorb(start, trans, conv, every)
    removal = np.array([1 - _absorb(start, trans, conv, every & (np.arange(kk) != i)) / p for i in range(kk)])
    value = {}
    for r in range(kk + 1):
        for s in combinations(range(kk), r):
            m = np.zeros(kk, bool)
            m[list(s)] = True
            value[s] = _absorb(start, trans, conv, m)
    shap = np.zeros(kk)
    for i in range(kk):
        others = [j for j in range(kk) if j != i]
        for r in range(kk):
            w = factorial(r) * factorial(kk - r - 1) / factorial(kk)
            for s in combinations(others, r):
                shap[i] += w * (value[tuple(sorted((*s, i)))] - value[s])
    visits = start @ np.linalg.inv(np.eye(kk) - trans)
    last = visits * conv / p
    first = start * np.linalg.solve(np.eye(kk) - trans, conv) / p
    return {
        "p_convert": p,
        "channels": list(channels),
        "removal_effect": dict(zip(channels, removal.tolist(), strict=True)),
        "markov_share": dict(zip(channels, (removal / removal.sum()).tolist(), strict=True)),
        "shapley_share": dict(zip(channels, (shap / shap.sum()).tolist(), strict=True)),
        "last_touch_share": dict(zip(channels, last.tolist(), strict=True)),
        "first_touch_share": dict(zip(channels, first.tolist(), strict=True)),
        "visits_per_journey": dict(zip(channels, visits.tolist(), strict=True)),
    }


def _walk(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` journeys from the chain: (journey, channel code) per touch in order, converted per journey."""
    kk = len(CHANNELS)
    cum = np.cumsum(np.column_stack([TRANSITIONS, CONVERT]), axis=1)
    state = rng.choice(kk, size=n, p=START)
    alive = np.arange(n)
    conv = np.zeros(n, bool)
    jour, chan, step = [alive], [state], 0
    while alive.size and step < 200:
        u = rng.random(alive.size)
        nxt = (u[:, None] >= cum[state]).sum(axis=1)  # 0..K-1 channel, K convert, K+1 end
        conv[alive[nxt == kk]] = True
        go = nxt < kk
        alive, state = alive[go], nxt[go]
        jour.append(alive)
        chan.append(state)
        step += 1
    j, c = np.concatenate(jour), np.concatenate(chan)
    pos = np.concatenate([np.full(a.size, i) for i, a in enumerate(jour)])
    order = np.lexsort((pos, j))
    return j[order], c[order], conv


def _purchases(data: SynthData) -> pd.DataFrame:
    """Purchase lines (positive amount, not a refund line or status: the rule of
    ``workbench.data.orders.purchase_mask``) with customer code, time and previous purchase."""
    o = data.orders
    status = o["status"].astype("string").str.lower().fillna("")
    keep = (o["amount"] > 0) & ~o["is_refund"].astype(bool) & ~(status.str.contains("refund") | status.str.contains("退"))
    cust = data.customers
    code = pd.Series(np.arange(len(cust)), index=cust["customer_id"].to_numpy())
    p = pd.DataFrame({"order_id": o.loc[keep, "order_id"].to_numpy(),
                      "c": code.reindex(o.loc[keep, "customer_id"].to_numpy()).to_numpy(),
                      "t": o.loc[keep, "order_time"].to_numpy()})  # fmt: skip
    p = p.sort_values(["c", "t"], kind="stable").reset_index(drop=True)
    signup = cust["signup_date"].to_numpy()[p["c"].to_numpy()]
    prev = p.groupby("c")["t"].shift(1)
    p["prev"] = prev.fillna(pd.Series(signup)).to_numpy()
    return p


def _touch_days(rng: np.random.Generator, n: int, span: np.ndarray, end_day: np.ndarray, pull: float) -> np.ndarray:
    """Whole days ``1..span`` before ``end_day`` per touch; with ``pull``, weekends preferred."""
    d1 = 1 + np.floor(rng.random(n) * span).astype(np.int64)
    d2 = 1 + np.floor(rng.random(n) * span).astype(np.int64)
    wd = lambda d: ((end_day - d) + 3) % 7 >= 5  # noqa: E731 (day 0 = 1970-01-01, a Thursday)
    take2 = wd(d2) & ~wd(d1) & (rng.random(n) < pull)
    return np.where(take2, d2, d1)


def _place(rng: np.random.Generator, data: SynthData, conv: np.ndarray, jour: np.ndarray) -> dict[str, np.ndarray]:
    """Customer, touch times and the order of each journey (converting ones end at an order)."""
    as_of = pd.Timestamp(data.truth["generator"]["as_of"])
    p = _purchases(data)
    day = lambda t: (pd.to_datetime(t).to_numpy().astype("datetime64[D]").astype(np.int64))  # noqa: E731
    od, prevd = day(p["t"]), day(p["prev"])
    lo = day([as_of - pd.Timedelta(days=365)])[0]
    t = pd.to_datetime(p["t"])
    elig = ((t > as_of - pd.Timedelta(days=365 - MAX_SPAN_DAYS)) & (t <= as_of) & (od - prevd >= 3)).to_numpy()
    city = data.customers["city"].to_numpy()[p["c"].to_numpy()]
    w = np.where(elig, pd.Series(city).map(CITY_WEIGHT).fillna(1.0).to_numpy(), 0.0)
    n_conv = int(conv.sum())
    # one order per customer: sample with weights, keep the first per customer, top up
    idx = rng.choice(len(p), size=min(len(p), 4 * n_conv + 10), replace=False, p=w / w.sum())
    idx = idx[~pd.Series(p["c"].to_numpy()[idx]).duplicated().to_numpy()][:n_conv]
    conv_ix = np.flatnonzero(conv)[: idx.size]
    n_cust = len(data.customers)
    cust_of = np.full(conv.size, -1)
    order_of = np.full(conv.size, -1)
    end_day = np.zeros(conv.size, np.int64)
    span = np.zeros(conv.size, np.int64)
    cust_of[conv_ix] = p["c"].to_numpy()[idx]
    order_of[conv_ix] = idx
    end_day[conv_ix] = od[idx]
    span[conv_ix] = np.minimum(MAX_SPAN_DAYS, od[idx] - prevd[idx] - 1)
    # non-converting: other customers, no purchase from the first touch to QUIET_DAYS after the end
    null_ix = np.flatnonzero(~conv)
    free = np.setdiff1d(np.arange(n_cust), cust_of[conv_ix])
    key = p["c"].to_numpy() * 10**6 + od
    pending, asof_d = null_ix, day([as_of])[0]
    for _ in range(8):
        if pending.size == 0 or free.size == 0:
            break
        cand = rng.choice(free, size=min(free.size, pending.size), replace=False)
        e = rng.integers(lo + MAX_SPAN_DAYS, asof_d - QUIET_DAYS, cand.size)
        s = rng.integers(1, MAX_SPAN_DAYS + 1, cand.size)
        a = np.searchsorted(key, cand * 10**6 + e - s)
        b = np.searchsorted(key, cand * 10**6 + e + QUIET_DAYS, side="right")
        ok = a == b
        put = pending[: cand.size][ok]
        cust_of[put], end_day[put], span[put] = cand[ok], e[ok] + 1, s[ok]
        free = np.setdiff1d(free, cand[ok])
        pending = np.setdiff1d(pending, put)
    placed = cust_of >= 0
    tj = placed[jour]
    jj = jour[tj]
    conv_t = conv[jj]
    d = _touch_days(rng, jj.size, span[jj], end_day[jj], np.where(conv_t, WEEKEND_PULL, 0.0))
    hour = np.where(conv_t, rng.choice(24, jj.size, p=HOURS_CONVERTING / HOURS_CONVERTING.sum()),
                    rng.choice(24, jj.size, p=HOURS_OTHER / HOURS_OTHER.sum()))  # fmt: skip
    secs = (end_day[jj] - d) * 86400 + hour * 3600 + rng.integers(0, 3600, jj.size)
    return {"placed": placed, "touch_keep": tj, "journey": jj, "secs": secs, "customer": cust_of,
            "order": order_of, "purchases": p}  # fmt: skip


def _ordered_times(journey: np.ndarray, secs: np.ndarray) -> np.ndarray:
    """Touch times sorted within each journey (the chain's order is kept, times rearranged)."""
    return secs[np.lexsort((secs, journey))]  # touches are grouped by journey already


def _spend(touches: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Weekly spend per channel and campaign: touches x cost per touch (gamma noise)."""
    week = touches["event_time"].dt.to_period("W-SUN").dt.start_time
    g = touches.assign(date=week).groupby(["date", "channel", "campaign_id"], dropna=False).size().rename("clicks")
    g = g.reset_index()
    g = g[g["channel"] != "direct"].reset_index(drop=True)
    cpt = g["channel"].map(COST_PER_TOUCH).to_numpy(float)
    cost = np.round(g["clicks"].to_numpy() * cpt * rng.gamma(20.0, 1 / 20.0, len(g)), 2)
    imp = g["clicks"].to_numpy() * g["channel"].map(IMPRESSIONS_PER_TOUCH).to_numpy()
    return pd.DataFrame({"date": g["date"].astype("datetime64[ns]"), "channel": g["channel"].astype("str"),
                         "campaign_id": g["campaign_id"].astype("str"), "cost": cost,
                         "impressions": imp.astype(np.int64), "clicks": g["clicks"].astype(np.int64)})  # fmt: skip


def simulate_touchpoints(data: SynthData, *, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Touchpoint events from the known chain, and the spend table.

    Parameters
    ----------
    data : SynthData
        The simulated base.
    seed : int
        The generator's seed (combined with :data:`STREAM`).

    Returns
    -------
    (dict, dict)
        ``events`` (the base events plus the touchpoint rows, sorted by customer and time) and
        ``spend``; the truth (``truth["touchpoints"]``): the chain, its exact attribution figures
        (:func:`chain_truth`), the journeys realised, the planted hours, weekends and cities,
        spend per channel in the year before ``as_of``, the ROI each channel would have at its
        true Markov share of the tracked margin, and the channels last touch over- and
        under-credits.
    """
    rng = np.random.default_rng([seed, STREAM])
    truth = chain_truth(START, TRANSITIONS, CONVERT, CHANNELS)
    n_cust = len(data.customers)
    n = int(max(10, 0.5 * n_cust))
    jour, chan, conv = _walk(rng, n)
    pl = _place(rng, data, conv, jour)
    jj, secs = pl["journey"], _ordered_times(pl["journey"], pl["secs"])
    ch = np.asarray(CHANNELS)[chan[pl["touch_keep"]]]
    when = pd.to_datetime(secs, unit="s").astype("datetime64[ns]")
    quarter = pd.DatetimeIndex(when).to_period("Q").astype(str).str.lower()
    camp = pd.Series(np.char.add(np.char.add(ch.astype(str), "_"), np.asarray(quarter, dtype=str)))
    camp[ch == "direct"] = None
    touches = pd.DataFrame({
        "customer_id": data.customers["customer_id"].to_numpy()[pl["customer"][jj]],
        "event_time": when, "event_name": TOUCH_EVENT, "channel": ch, "session_id": None,
        "campaign_id": camp.to_numpy(),
    })  # fmt: skip
    ev = data.events
    events = pd.concat([ev, touches.astype({c: ev[c].dtype for c in ev.columns if c != "event_time"})],
                       ignore_index=True)  # fmt: skip
    events = events.sort_values(["customer_id", "event_time"], kind="stable").reset_index(drop=True)
    spend = _spend(touches, rng)
    placed, p = pl["placed"], pl["purchases"]
    conv_orders = p.loc[pl["order"][placed & conv], "order_id"].tolist()
    as_of = pd.Timestamp(data.truth["generator"]["as_of"])
    in_year = spend[spend["date"] > as_of - pd.Timedelta(days=365)]
    spend_by = in_year.groupby("channel")["cost"].sum().round(2)
    o = data.orders.set_index("order_id")
    tracked_margin = float(o.loc[conv_orders, "margin"].sum())
    roi_true = {c: (truth["markov_share"][c] * tracked_margin - float(spend_by[c])) / float(spend_by[c])
                for c in spend_by.index if spend_by[c] > 0}  # fmt: skip
    over = max(CHANNELS, key=lambda c: truth["last_touch_share"][c] - truth["markov_share"][c])
    under = min(CHANNELS, key=lambda c: truth["last_touch_share"][c] - truth["markov_share"][c])
    truth.update({
        "event_name": TOUCH_EVENT, "start": START.tolist(), "transitions": TRANSITIONS.tolist(),
        "convert": CONVERT.tolist(), "journeys": int(placed.sum()),
        "converting_journeys": int((placed & conv).sum()), "touches": len(touches),
        "converting_order_ids_sample": conv_orders[:20], "max_span_days": MAX_SPAN_DAYS,
        "quiet_days": QUIET_DAYS, "hours_converting": HOURS_CONVERTING.tolist(),
        "hours_other": HOURS_OTHER.tolist(), "weekend_pull": WEEKEND_PULL, "city_weight": CITY_WEIGHT,
        "cost_per_touch": COST_PER_TOUCH, "spend_by_channel": spend_by.to_dict(),
        "tracked_margin": round(tracked_margin, 2), "roi_at_true_shares": roi_true,
        "over_credited_by_last_touch": over, "under_credited_by_last_touch": under,
    })  # fmt: skip
    return {"events": events, "spend": spend}, truth
