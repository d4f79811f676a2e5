"""The ground truth of a generated base: the JSON-able ``truth`` and ``truth_customers``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from workbench.synth._common import _bincount, _Clock, _jsonable, _rates, _str, _take
from workbench.synth.spec import (
    ACQUISITION_CHANNELS,
    AGE_REFERENCE,
    AGE_SPEC,
    AMOUNT_SIGMA,
    BAD_COMPLAINT_FACTOR,
    BAD_CSAT_MAX,
    CATEGORY_SPEC,
    CHANNEL_CONCENTRATION,
    CHANNELS,
    CHURN_WINDOW_DAYS,
    CITIES,
    CNY_DATES,
    CNY_DIP,
    CSAT_COMPLAINT,
    CSAT_SERVICE,
    DAYS_PER_MONTH,
    FUNNEL_STEP_CONVERSION,
    FUNNEL_STEP_MINUTES,
    FUNNEL_STEPS,
    GENDERS,
    GENERATOR_VERSION,
    HAZARD_RATIOS,
    HAZARD_REFERENCE,
    HOUR_WEIGHTS,
    MARGIN_RATE_SD,
    MEMBER_LEVELS,
    MONTH_FACTORS,
    PARTIAL_REFUND_SHARE,
    RATE_GAMMA_SHAPE,
    REFUND_RATE,
    SEGMENT_CHANNEL_PROBS,
    SEGMENT_SPEC,
    SEGMENTS,
    SERVICE_TICKET_RATE,
    SIGNUP_GROWTH_PER_YEAR,
    SPECIAL_DAYS,
    SPEND_GAMMA_SHAPE,
    TICKET_SPEC,
    UNHAPPY_DAYS,
    UNRESOLVED_SHARE,
)


def _truth(
    cust: dict[str, np.ndarray],
    life: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    contacts: dict[str, np.ndarray],
    tickets: dict[str, np.ndarray],
    events: dict[str, np.ndarray],
    camp_truth: dict[str, Any],
    cid: pa.Array,
    clock: _Clock,
    *,
    n: int,
    seed: int,
    start: str,
    end: str,
    as_of: str,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """The truth (documented parameters and what was realised) and one row per customer.

    The sections are built one step each, in the order they appear in ``ground_truth.json``.
    """
    lab = _step_labels(cust, life, lines, clock, n)
    truth: dict[str, Any] = {
        "generator": {
            "module": "workbench.synth",
            "version": GENERATOR_VERSION,
            "seed": seed,
            "n_customers": n,
            "start": str(pd.Timestamp(start).date()),
            "end": str(pd.Timestamp(end).date()),
            "as_of": str(pd.Timestamp(as_of).date()),
            "time_unit_month_days": DAYS_PER_MONTH,
        },
        "segments": _step_segments(cust, life, lines, lab, n),
        "heterogeneity": {
            "rate_gamma_shape": RATE_GAMMA_SHAPE,
            "spend_gamma_shape": SPEND_GAMMA_SHAPE,
            "amount_lognormal_sigma": AMOUNT_SIGMA,
            "note": "customer rate = segment rate * Gamma(shape, 1/shape); mean order value likewise",
        },
        "customers": _step_customers(cust, n, start=start, as_of=as_of),
        "seasonality": _step_seasonality(lines, lab, clock),
        "orders": _step_orders(lines, lab),
        "refunds": _step_refunds(lines),
        "churn": _step_churn(cust, life, lab, clock),
        "channels": {
            "values": list(CHANNELS),
            "segment_channel_probs": {
                s: dict(zip(CHANNELS, SEGMENT_CHANNEL_PROBS[s], strict=True)) for s in SEGMENTS
            },
            "dirichlet_concentration": CHANNEL_CONCENTRATION,
            "preferred_channel": "argmax of the customer's own channel probabilities (truth_customers)",
        },
        "campaigns": camp_truth,
        "funnel": _step_funnel(events, n),
        "tickets": _step_tickets(tickets),
        "defects": {"planted": False},
    }
    return _jsonable(truth), _step_truth_customers(cust, life, lab, cid, clock)


_REASONS = ["unhappy", "drift", "alive"]


def _step_labels(
    cust: dict[str, np.ndarray], life: dict[str, np.ndarray], lines: dict[str, np.ndarray], clock: _Clock, n: int
) -> dict[str, Any]:
    """Per-customer labels the sections share: purchases, activity around as_of, churn."""
    purchase = lines["kind"] != 2
    o, t = lines["owner"], lines["t"]
    before = _bincount(o[purchase & (t < clock.t_asof)], n) > 0
    w_end = clock.t_asof + CHURN_WINDOW_DAYS
    in_window = _bincount(o[purchase & (t >= clock.t_asof) & (t < w_end)], n) > 0
    dropped = life["dropout"] < clock.t_end
    unhappy = dropped & (life["dropout"] - life["last_bad"] <= UNHAPPY_DAYS)
    return {
        "purchase": purchase,
        "n_purch": _bincount(o[purchase], n),
        "before": before,
        "w_end": w_end,
        "in_window": in_window,
        "dropped": dropped,
        "alive_asof": life["dropout"] >= clock.t_asof,
        "churned_in_window": ~in_window & (life["dropout"] < w_end),
        "reason_code": np.where(~dropped, 2, np.where(unhappy, 0, 1)),
        # non-contractual churn label among customers with a purchase
        "churn_nc": before & ~in_window,
    }


def _by_seg(seg: np.ndarray, values: np.ndarray, mask: np.ndarray | None = None) -> dict[str, float | None]:
    """Mean of ``values`` per segment (over ``mask``); None for an empty segment."""
    m = np.ones(seg.size, bool) if mask is None else mask
    num = _bincount(seg[m], len(SEGMENTS), values[m].astype(np.float64))
    den = _bincount(seg[m], len(SEGMENTS))
    return dict(zip(SEGMENTS, _rates(num, den), strict=True))


def _step_segments(
    cust: dict[str, np.ndarray], life: dict[str, np.ndarray], lines: dict[str, np.ndarray], lab: dict[str, Any], n: int
) -> dict[str, Any]:
    """Each segment's documented spec plus its realised size, purchases and amounts."""
    seg = cust["seg"]
    seg_n = _bincount(seg, len(SEGMENTS))
    purchase, n_purch = lab["purchase"], lab["n_purch"]
    amount_p = lines["amount"][purchase]
    seg_lines = seg[lines["owner"][purchase]]
    months_active = np.maximum(life["active_end"] - cust["signup"], 0) / DAYS_PER_MONTH
    segments = {}
    for s_i, s in enumerate(SEGMENTS):
        in_s = seg == s_i
        amt = amount_p[seg_lines == s_i]
        segments[s] = {
            **SEGMENT_SPEC[s],
            "channel_probs": dict(zip(CHANNELS, SEGMENT_CHANNEL_PROBS[s], strict=True)),
            "n": int(seg_n[s_i]),
            "realised_share": float(seg_n[s_i] / n),
            "purchases_per_customer": float(n_purch[in_s].mean()) if in_s.any() else None,
            "purchases_per_active_month": (
                float(n_purch[in_s].sum() / months_active[in_s].sum())
                if months_active[in_s].sum() > 0
                else None
            ),
            "mean_amount": float(amt.mean()) if amt.size else None,
            "median_amount": float(np.median(amt)) if amt.size else None,
        }
    return segments


def _step_customers(cust: dict[str, np.ndarray], n: int, *, start: str, as_of: str) -> dict[str, Any]:
    """Covariate shares and the sign-up model."""
    return {
        "n": n,
        "signup_growth_per_year": SIGNUP_GROWTH_PER_YEAR,
        "signup_window": [str(pd.Timestamp(start).date()), str(pd.Timestamp(as_of).date())],
        "acquisition_channel_shares": ACQUISITION_CHANNELS,
        "member_level_shares": MEMBER_LEVELS,
        "gender_shares": GENDERS,
        "age_at_signup": AGE_SPEC,
        "city_shares": CITIES,
        "preferred_channel_counts": dict(
            zip(CHANNELS, _bincount(cust["preferred"], len(CHANNELS)).tolist(), strict=True)
        ),
        "covariates_independent_of_segment": True,
    }


def _step_seasonality(lines: dict[str, np.ndarray], lab: dict[str, Any], clock: _Clock) -> dict[str, Any]:
    """The seasonality model and the purchases per calendar month as realised."""
    months = clock.to_datetime(lines["t"][lab["purchase"]]).astype("datetime64[M]")
    m0 = np.datetime64(clock.t0.strftime("%Y-%m"), "M")
    m_counts = (
        _bincount((months - m0).astype(np.int64), 0) if months.size else np.zeros(0, np.int64)
    )
    return {
        "month_factors": MONTH_FACTORS,
        "special_days": SPECIAL_DAYS,
        "cny_dip": CNY_DIP,
        "cny_dates": {
            str(y): d
            for y, d in CNY_DATES.items()
            if clock.t0.year <= y <= (clock.t0 + pd.Timedelta(days=clock.t_end)).year
        },
        "normalisation": "daily factors divided by their mean within each calendar year",
        "hour_weights": list(HOUR_WEIGHTS),
        "monthly_purchases": {str(m0 + i): int(c) for i, c in enumerate(m_counts)},
    }


def _step_orders(lines: dict[str, np.ndarray], lab: dict[str, Any]) -> dict[str, Any]:
    """Order line counts by kind, category and channel; the amount model."""
    purchase = lab["purchase"]
    amount_p = lines["amount"][purchase]
    cats = list(CATEGORY_SPEC)
    cat_counts = _bincount(lines["cat"][purchase], len(cats))
    ch_counts = _bincount(lines["channel"][purchase], len(CHANNELS))
    return {
        "n_lines": int(lines["owner"].size),
        "n_purchases": int(purchase.sum()),
        "n_background_purchases": int((lines["kind"] == 0).sum()),
        "n_campaign_purchases": int((lines["kind"] == 1).sum()),
        "n_refund_lines": int((lines["kind"] == 2).sum()),
        "amount_model": "lognormal(log(mean_i * price_factor[category]) - sigma^2/2, sigma)",
        "mean_purchase_amount": float(amount_p.mean()) if amount_p.size else None,
        "categories": CATEGORY_SPEC,
        "category_counts": dict(zip(cats, cat_counts.tolist(), strict=True)),
        "channels": list(CHANNELS),
        "channel_counts": dict(zip(CHANNELS, ch_counts.tolist(), strict=True)),
        "margin_rate_sd": MARGIN_RATE_SD,
        "status_values": {"purchase": "paid", "refund": "refunded"},
    }


def _step_refunds(lines: dict[str, np.ndarray]) -> dict[str, Any]:
    """The refund model and the refunds realised."""
    refunds = lines["kind"] == 2
    n_base = int((lines["kind"] == 0).sum())
    return {
        "rate": REFUND_RATE,
        "partial_share": PARTIAL_REFUND_SHARE,
        "delay_days": [1, 21],
        "applies_to": "background purchases (not campaign purchases); refunds after end are dropped",
        "n_refund_lines": int(refunds.sum()),
        "realised_rate": float(refunds.sum() / n_base) if n_base else None,
        "refunded_amount": float(-lines["amount"][refunds].sum()),
    }


def _step_churn(
    cust: dict[str, np.ndarray], life: dict[str, np.ndarray], lab: dict[str, Any], clock: _Clock
) -> dict[str, Any]:
    """The hazard model, churn reasons and the churn rates realised in the window after as_of."""
    seg = cust["seg"]
    before, churn_nc, w_end = lab["before"], lab["churn_nc"], lab["w_end"]
    return {
        "model": (
            "latent exponential lifetime from sign-up; hazard = base_hazard_per_month[segment] "
            "* prod(hazard_ratios) * (bad_complaint_factor after the first complaint with "
            "CSAT <= csat_max); covariates as of sign-up; the segment is an unobserved frailty"
        ),
        "base_hazard_per_month": {
            s: SEGMENT_SPEC[s]["base_hazard_per_month"] for s in SEGMENTS
        },
        "hazard_ratios": HAZARD_RATIOS,
        "reference_levels": HAZARD_REFERENCE,
        "age_reference_years": AGE_REFERENCE,
        "bad_complaint": {
            "csat_max": BAD_CSAT_MAX,
            "hazard_factor": BAD_COMPLAINT_FACTOR,
            "applies": "from the first bad complaint on, for the rest of the lifetime",
            "complaint_rate_per_month": {
                s: SEGMENT_SPEC[s]["complaint_rate_per_month"] for s in SEGMENTS
            },
            "customers_with_bad_complaint": int(np.isfinite(life["first_bad"]).sum()),
        },
        "unhappy_days": UNHAPPY_DAYS,
        "churn_reasons": {
            "unhappy": f"dropped out (before end) within {UNHAPPY_DAYS} days after a bad complaint",
            "drift": "dropped out before end otherwise",
            "alive": "no dropout before end",
        },
        "churn_reason_counts": dict(
            zip(_REASONS, _bincount(lab["reason_code"], 3).tolist(), strict=True)
        ),
        "window_days": CHURN_WINDOW_DAYS,
        "window": [
            str(clock.t0 + pd.Timedelta(days=clock.t_asof)),
            str(clock.t0 + pd.Timedelta(days=w_end)),
        ],
        "definition": (
            f"no purchase in the {CHURN_WINDOW_DAYS} days after as_of, among customers with a "
            "purchase on or before as_of (realised from the generated orders)"
        ),
        "n_eligible": int(before.sum()),
        "n_eligible_by_segment": dict(
            zip(SEGMENTS, _bincount(seg[before], len(SEGMENTS)).tolist(), strict=True)
        ),
        "churn_rate_overall": float(churn_nc[before].mean()) if before.any() else None,
        "churn_rate_by_segment": _by_seg(seg, churn_nc, before),
        "latent_churned_in_window_rate_by_segment": _by_seg(seg, lab["churned_in_window"], before),
        "alive_at_as_of_share_by_segment": _by_seg(seg, lab["alive_asof"]),
        "dropped_out_before_end_share_by_segment": _by_seg(seg, lab["dropped"]),
        "mean_hazard_ratio": float(life["hazard_ratio"].mean()),
    }


def _step_funnel(events: dict[str, np.ndarray], n: int) -> dict[str, Any]:
    """The funnel model and the step conversion realised per channel."""
    depth, sess_ch = events["depth"], events["sess_ch"]
    funnel_real = {}
    for c_i, c in enumerate(FUNNEL_STEP_CONVERSION):
        d = depth[sess_ch == c_i]
        reach = [int((d >= k).sum()) for k in range(len(FUNNEL_STEPS))]
        funnel_real[c] = {
            "sessions": reach[0],
            "reached": dict(zip(FUNNEL_STEPS, reach, strict=True)),
            "step_conversion": {
                FUNNEL_STEPS[k]: (reach[k] / reach[k - 1] if reach[k - 1] else None)
                for k in range(1, len(FUNNEL_STEPS))
            },
        }
    return {
        "steps": list(FUNNEL_STEPS),
        "step_conversion": FUNNEL_STEP_CONVERSION,
        "step_minutes_mean": FUNNEL_STEP_MINUTES,
        "sessions_mean_by_segment": {s: SEGMENT_SPEC[s]["sessions_mean"] for s in SEGMENTS},
        "session_channel": "customer's channel probabilities restricted to app/web/mini_program",
        "campaign_sessions": "one session per click of a randomized campaign, within 48 h of contact",
        "n_sessions": int(depth.size),
        "n_campaign_sessions": int((events["sess_campaign"] >= 0).sum()),
        "n_events": int(events["t"].size),
        "events_per_customer": float(events["t"].size / n),
        "realised": funnel_real,
        "note": "funnel 'order' events are a behavioural sample, not matched to orders rows",
    }


def _step_tickets(tickets: dict[str, np.ndarray]) -> dict[str, Any]:
    """Ticket counts and the complaint / CSAT model."""
    return {
        "n": int(tickets["owner"].size),
        "n_complaints": int(tickets["complaint"].sum()),
        "n_bad_complaints": int(
            (tickets["complaint"] & (tickets["csat"] <= BAD_CSAT_MAX)).sum()
        ),
        "service_ticket_rate_per_purchase": SERVICE_TICKET_RATE,
        "unresolved_share": UNRESOLVED_SHARE,
        "csat_probs": {"complaint": list(CSAT_COMPLAINT), "service": list(CSAT_SERVICE)},
        "spec": TICKET_SPEC,
    }


def _step_truth_customers(
    cust: dict[str, np.ndarray], life: dict[str, np.ndarray], lab: dict[str, Any], cid: pa.Array, clock: _Clock
) -> pd.DataFrame:
    """One row per customer: latent segment, rates, hazard, dropout and churn labels."""
    return pd.DataFrame(
        {
            "customer_id": _str(cid),
            "segment": _str(_take(list(SEGMENTS), cust["seg"])),
            "order_rate_per_month": cust["rate"],
            "mean_order_value": cust["mean_value"],
            "rate_multiplier": cust["rate_mult"],
            "spend_multiplier": cust["spend_mult"],
            "preferred_channel": _str(_take(list(CHANNELS), cust["preferred"])),
            **{f"p_{c}": cust["ch_probs"][:, j] for j, c in enumerate(CHANNELS)},
            "hazard_ratio": life["hazard_ratio"],
            "hazard_per_month": life["hazard_per_month"],
            "first_bad_complaint_at": clock.to_datetime(life["first_bad"]),
            "dropout_date": clock.to_datetime(np.where(lab["dropped"], life["dropout"], np.nan)),
            "alive_at_as_of": lab["alive_asof"],
            "n_purchases": lab["n_purch"],
            "purchased_before_as_of": lab["before"],
            "purchased_in_window": lab["in_window"],
            "churned_in_window": lab["churned_in_window"],
            "churn_reason": _str(_take(_REASONS, lab["reason_code"])),
        }
    )
