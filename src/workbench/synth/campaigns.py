"""Campaign simulation: contacts, the purchases they cause and the campaigns' truth.

Two designs (:data:`workbench.synth.spec.CAMPAIGN_SPEC`): randomized campaigns (arms drawn by
the planned split, conversion ``p0_i + tau[arm, segment]``) and the observational ``vip_call``
(selected by pre-period revenue, no control group).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.synth._common import _bincount, _Clock, _p
from workbench.synth.lines import _lines, _order_attributes, _window_sum
from workbench.synth.spec import (
    CAMPAIGN_ENGAGEMENT_FLOOR,
    CAMPAIGN_REVENUE_SHAPE,
    CAMPAIGN_SPEC,
    PRE_PERIOD_DAYS,
    SEGMENTS,
)


def _simulate_campaigns(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    base: dict[str, np.ndarray],
    clock: _Clock,
) -> tuple[dict[str, np.ndarray], list[dict[str, np.ndarray]], dict[str, Any]]:
    """Contacts, inserted purchase lines and truth of the campaigns.

    Campaigns run in the order of :data:`CAMPAIGN_SPEC`; each sees the purchases inserted by
    the ones before it (pre-period revenue, observational outcomes).
    """
    lines_so_far = [base]
    contacts: list[dict[str, np.ndarray]] = []
    inserted: list[dict[str, np.ndarray]] = []
    truth: dict[str, Any] = {}
    for code, (cid, spec) in enumerate(CAMPAIGN_SPEC.items()):
        c0, c1 = clock.days(spec["contact_start"]), clock.days(spec["contact_end"])
        window = float(spec["outcome_window_days"])
        doc = {k: v for k, v in spec.items() if k not in ("session_channel",)}
        if c0 < 0 or c1 + window > clock.t_end:
            truth[cid] = {**doc, "generated": False, "note": "outside the simulated period"}
            continue
        setup = _step_campaign_setup(rng, cust, life, lines_so_far, spec, clock, c0, c1, window)
        step = _step_randomized if spec["design"] == "randomized" else _step_observational
        contact_rows, new, extra_truth = step(rng, cust, spec, code, setup, lines_so_far)
        contacts.append(contact_rows)
        inserted.append(new)
        lines_so_far.append(new)
        truth[cid] = {**doc, "generated": True, **extra_truth}
    out = {k: np.concatenate([c[k] for c in contacts]) for k in contacts[0]} if contacts else {}
    return out, inserted, truth


def _step_campaign_setup(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    lines_so_far: list[dict[str, np.ndarray]],
    spec: dict[str, Any],
    clock: _Clock,
    c0: float,
    c1: float,
    window: float,
) -> dict[str, Any]:
    """Contact times, the eligible customers, their pre-period purchases, effects and windows."""
    n = cust["seg"].size
    # a day in the contact period, a time between the start's and the end's time of day
    day = np.floor(c0) + rng.integers(0, int(np.floor(c1) - np.floor(c0)) + 1, n)
    h0, h1 = c0 - np.floor(c0), c1 - np.floor(c1)
    contact = day + h0 + rng.random(n) * max(h1 - h0, 0.0)
    eligible = (cust["signup"] <= contact) & (life["dropout"] > contact)
    idx = np.flatnonzero(eligible).astype(np.int32)
    k_pre, pre = _window_sum(lines_so_far, n, contact - PRE_PERIOD_DAYS, contact)
    arms = list(spec["planned_split"])
    tau_tab = np.zeros((len(arms), len(SEGMENTS)))
    for a_i, arm in enumerate(arms):
        for s_i, s in enumerate(SEGMENTS):
            tau_tab[a_i, s_i] = spec["tau"].get(arm, {}).get(s, 0.0)
    cap = np.minimum(
        np.minimum(window, life["dropout"][idx] - contact[idx]), clock.t_end - contact[idx]
    )
    return {"contact": contact, "idx": idx, "k_pre": k_pre, "pre": pre, "arms": arms,
            "tau_tab": tau_tab, "cap": cap, "window": window}  # fmt: skip


def _step_randomized(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    spec: dict[str, Any],
    code: int,
    setup: dict[str, Any],
    lines_so_far: list[dict[str, np.ndarray]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """A randomized campaign: arms by the planned split, conversion ``p0_i + tau[arm, segment]``."""
    seg = cust["seg"]
    contact, idx, k_pre, pre = setup["contact"], setup["idx"], setup["k_pre"], setup["pre"]
    arms, tau_tab, cap = setup["arms"], setup["tau_tab"], setup["cap"]
    m = idx.size
    flags = spec["flag_rates"]
    arm = rng.choice(len(arms), size=m, p=_p(spec["planned_split"].values())).astype(np.int8)
    p0 = _engagement_p0(spec, seg[idx], k_pre[idx])
    p = np.clip(p0 + tau_tab[arm, seg[idx]], 0.0, 0.95)
    converted = rng.random(m) < p
    revenue = np.where(
        converted,
        np.maximum(
            np.round(
                rng.gamma(CAMPAIGN_REVENUE_SHAPE, cust["mean_value"][idx] / CAMPAIGN_REVENUE_SHAPE),
                2,
            ),
            1.0,
        ),
        0.0,
    )
    treated = np.array([a != "control" for a in arms])[arm]
    conv_idx = np.flatnonzero(converted)
    owner = idx[conv_idx]
    t_conv = contact[owner] + rng.random(conv_idx.size) * cap[conv_idx]
    attrs = _order_attributes(rng, cust, owner, amount=revenue[conv_idx], channel=cust["preferred"][owner])
    if spec.get("coupon_value", 0.0):
        attrs["discount"] = np.where(treated[conv_idx], spec["coupon_value"], attrs["discount"])
    new = _lines(owner, t_conv, attrs, kind=1, campaign=code)
    delivered = treated & (rng.random(m) < flags["delivered"])
    opened = delivered & (rng.random(m) < flags["opened"])
    clicked = opened & (rng.random(m) < flags["clicked"])
    v_rate = np.array([flags["visited"][a] for a in arms])[arm]
    visited = converted | (rng.random(m) < v_rate)
    rows = {
        "owner": idx, "campaign": np.full(m, code, np.int8), "arm": arm,
        "contact": contact[idx],
        "cost": np.where(treated, spec["cost_per_contact"], 0.0),
        "delivered": delivered, "opened": opened, "clicked": clicked,
        "delivered_na": ~treated, "flags_na": ~treated,
        "visited": visited, "converted": converted,
        "revenue": revenue, "pre": pre[idx], "p0_i": p0,
    }  # fmt: skip
    truth = _randomized_truth(spec, arms, seg[idx], arm, converted, revenue, p0, pre[idx])
    return rows, new, truth


def _engagement_p0(spec: dict[str, Any], seg: np.ndarray, k_pre: np.ndarray) -> np.ndarray:
    """``p0[segment]`` scaled by pre-period purchases relative to the segment's mean (mean 1)."""
    kp = k_pre.astype(np.float64)
    k_sum = _bincount(seg, len(SEGMENTS), kp)
    k_n = np.maximum(_bincount(seg, len(SEGMENTS)), 1)
    k_mean = k_sum / k_n
    ratio = np.where(k_mean[seg] > 0, kp / np.where(k_mean > 0, k_mean, 1.0)[seg], 1.0)
    engagement = CAMPAIGN_ENGAGEMENT_FLOOR + (1 - CAMPAIGN_ENGAGEMENT_FLOOR) * ratio
    return np.array([spec["p0"][s] for s in SEGMENTS])[seg] * engagement


def _step_observational(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    spec: dict[str, Any],
    code: int,
    setup: dict[str, Any],
    lines_so_far: list[dict[str, np.ndarray]],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, Any]]:
    """The observational campaign: selected by pre-period revenue; outcomes read from the orders."""
    seg = cust["seg"]
    n = seg.size
    contact, idx, pre = setup["contact"], setup["idx"], setup["pre"]
    tau_tab, cap, window = setup["tau_tab"], setup["cap"], setup["window"]
    m = idx.size
    flags = spec["flag_rates"]
    prop = spec["propensity"]
    logit = prop["intercept"] + prop["slope_log1p_pre_period_revenue"] * np.log1p(pre[idx])
    ps = 1.0 / (1.0 + np.exp(-logit))
    chosen = rng.random(m) < ps
    sel = idx[chosen]
    k = sel.size
    tau = tau_tab[0, seg[sel]]
    extra = rng.random(k) < tau
    owner = sel[extra]
    t_extra = contact[owner] + rng.random(owner.size) * cap[chosen][extra]
    amount = rng.gamma(CAMPAIGN_REVENUE_SHAPE, cust["mean_value"][owner] / CAMPAIGN_REVENUE_SHAPE)
    attrs = _order_attributes(rng, cust, owner, amount=amount, channel=cust["preferred"][owner])
    new = _lines(owner, t_extra, attrs, kind=1, campaign=code)
    n_nat, rev_nat = _window_sum(lines_so_far, n, contact, contact + window)
    n_new, rev_new = _window_sum([new], n, contact, contact + window)
    n_all, rev_all = n_nat + n_new, rev_nat + rev_new
    converted = n_all[sel] > 0
    revenue = np.round(rev_all[sel], 2)
    delivered = rng.random(k) < flags["delivered"]
    visited = converted | (rng.random(k) < flags["visited"]["treatment"])
    rows = {
        "owner": sel, "campaign": np.full(k, code, np.int8), "arm": np.zeros(k, np.int8),
        "contact": contact[sel], "cost": np.full(k, spec["cost_per_contact"]),
        "delivered": delivered, "opened": np.zeros(k, bool), "clicked": np.zeros(k, bool),
        "delivered_na": np.zeros(k, bool), "flags_na": np.ones(k, bool),
        "visited": visited, "converted": converted,
        "revenue": revenue, "pre": pre[sel], "p0_i": np.full(k, np.nan),
    }  # fmt: skip
    not_chosen = idx[~chosen]
    truth = {
        "eligibility": "customers active (signed up, not dropped out) at contact",
        "selection": "P(contacted) = 1 / (1 + exp(-(intercept + slope * log1p(pre_period_revenue))))",
        "effect_definition": (
            "a call adds one purchase in the 14-day window with probability tau[segment]; "
            "converted = any purchase in the window, revenue = their sum (read from orders)"
        ),
        **_observational_truth(
            seg, sel, not_chosen, n_nat, rev_nat, converted, revenue, tau, extra, ps[chosen]
        ),
    }
    return rows, new, truth


def _diff_se(
    y: np.ndarray, treated: np.ndarray, control: np.ndarray
) -> tuple[float | None, float | None]:
    a, b = y[treated], y[control]
    if a.size < 2 or b.size < 2:
        return None, None
    return float(a.mean() - b.mean()), float(
        np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    )


def _randomized_truth(
    spec: dict[str, Any],
    arms: list[str],
    seg: np.ndarray,
    arm: np.ndarray,
    converted: np.ndarray,
    revenue: np.ndarray,
    p0_i: np.ndarray,
    pre: np.ndarray,
) -> dict[str, Any]:
    ctrl = arms.index("control")
    by_seg: dict[str, Any] = {}
    for s_i, s in enumerate(SEGMENTS):
        in_s = seg == s_i
        row: dict[str, Any] = {
            "p0": spec["p0"][s],
            "p0_expected": float(p0_i[in_s].mean()) if in_s.any() else None,
            "tau": {a: spec["tau"][a][s] for a in arms if a != "control"},
            "n": {a: int((in_s & (arm == k)).sum()) for k, a in enumerate(arms)},
            "conversions": {
                a: int((in_s & (arm == k) & converted).sum()) for k, a in enumerate(arms)
            },
            "revenue": {a: float(revenue[in_s & (arm == k)].sum()) for k, a in enumerate(arms)},
        }
        row["conversion_rate"] = {
            a: (row["conversions"][a] / row["n"][a] if row["n"][a] else None) for a in arms
        }
        row["realised_diff"], row["realised_se"] = {}, {}
        for k, a in enumerate(arms):
            if k == ctrl:
                continue
            d, se = _diff_se(converted.astype(float), in_s & (arm == k), in_s & (arm == ctrl))
            row["realised_diff"][a], row["realised_se"][a] = d, se
        by_seg[s] = row
    overall = {
        "n": {a: int((arm == k).sum()) for k, a in enumerate(arms)},
        "conversions": {a: int(((arm == k) & converted).sum()) for k, a in enumerate(arms)},
        "revenue": {a: float(revenue[arm == k].sum()) for k, a in enumerate(arms)},
    }
    overall["realised_diff"], overall["realised_se"], overall["tau_expected"] = {}, {}, {}
    for k, a in enumerate(arms):
        if k == ctrl:
            continue
        d, se = _diff_se(converted.astype(float), arm == k, arm == ctrl)
        overall["realised_diff"][a], overall["realised_se"][a] = d, se
        tau_s = np.array([spec["tau"][a][s] for s in SEGMENTS])
        overall["tau_expected"][a] = float(tau_s[seg].mean()) if seg.size else None
    corr = (
        float(np.corrcoef(revenue, pre)[0, 1])
        if seg.size > 2 and pre.std() > 0 and revenue.std() > 0
        else None
    )
    return {
        "eligibility": "customers active (signed up, not dropped out) at their contact time",
        "conversion_model": (
            "converted ~ Bernoulli(p0_i + tau[arm][segment]), p0_i = p0[segment] * (floor + "
            "(1 - floor) * k_i / mean_k[segment]), k_i = purchases in the pre-period; each "
            "conversion is one purchase inserted into orders within the window, amount = revenue"
        ),
        "revenue_model": (
            f"revenue | converted ~ Gamma(shape {CAMPAIGN_REVENUE_SHAPE:g}, mean = customer's mean order value)"
        ),
        "engagement_floor": CAMPAIGN_ENGAGEMENT_FLOOR,
        "control_flags": "delivered/opened/clicked are blank (NA) for control rows",
        "pre_period_revenue": f"purchase amounts in the {PRE_PERIOD_DAYS} days before contact",
        "revenue_pre_period_correlation": corr,
        "segments": by_seg,
        "overall": overall,
    }


def _observational_truth(
    seg: np.ndarray,
    sel: np.ndarray,
    not_chosen: np.ndarray,
    n_nat: np.ndarray,
    rev_nat: np.ndarray,
    converted: np.ndarray,
    revenue: np.ndarray,
    tau: np.ndarray,
    extra: np.ndarray,
    ps: np.ndarray,
) -> dict[str, Any]:
    nat_conv = n_nat[sel] > 0
    by_seg = {}
    for s_i, s in enumerate(SEGMENTS):
        m = seg[sel] == s_i
        mc = seg[not_chosen] == s_i
        by_seg[s] = {
            "n_contacted": int(m.sum()),
            "n_not_contacted_active": int(mc.sum()),
            "extra_purchases": int(extra[m].sum()),
            "conversion_rate": float(converted[m].mean()) if m.any() else None,
            "att_conversion_realised": float(converted[m].mean() - nat_conv[m].mean())
            if m.any()
            else None,
            "att_revenue_realised": float(revenue[m].mean() - rev_nat[sel][m].mean())
            if m.any()
            else None,
            "not_contacted_conversion_rate": float((n_nat[not_chosen][mc] > 0).mean())
            if mc.any()
            else None,
        }
    k = sel.size
    return {
        "n_contacted": int(k),
        "propensity_mean": float(ps.mean()) if k else None,
        "segments": by_seg,
        "overall": {
            "n_contacted": int(k),
            "extra_purchases": int(extra.sum()),
            "att_orders_expected": float(tau.mean()) if k else None,
            "att_conversion_realised": float(converted.mean() - nat_conv.mean()) if k else None,
            "att_revenue_realised": float(revenue.mean() - rev_nat[sel].mean()) if k else None,
            "conversion_rate_contacted": float(converted.mean()) if k else None,
            "conversion_rate_not_contacted_active": float((n_nat[not_chosen] > 0).mean())
            if not_chosen.size
            else None,
            "naive_conversion_difference": (
                float(converted.mean() - (n_nat[not_chosen] > 0).mean())
                if k and not_chosen.size
                else None
            ),
        },
    }
