"""Order lines as parallel arrays (owner, time, amount, attributes), shared by every simulation step."""

from __future__ import annotations

import numpy as np

from workbench.synth._common import _bincount, _p
from workbench.synth.spec import (
    AMOUNT_SIGMA,
    CATEGORY_SPEC,
    CHANNELS,
    MARGIN_RATE_SD,
    SEGMENT_SPEC,
    SEGMENTS,
)


def _order_attributes(
    rng: np.random.Generator,
    cust: dict[str, np.ndarray],
    owner: np.ndarray,
    amount: np.ndarray | None = None,
    channel: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Category, amount, channel, quantity, discount and margin of purchase lines."""
    m = owner.size
    cats = list(CATEGORY_SPEC.values())
    shares = _p(c["share"] for c in cats)
    factor = np.array([c["price_factor"] for c in cats])
    factor = factor / (shares @ factor)
    cat = rng.choice(len(cats), size=m, p=shares).astype(np.int8)
    if amount is None:
        mu = np.log(cust["mean_value"][owner] * factor[cat]) - AMOUNT_SIGMA**2 / 2
        amount = rng.lognormal(mu, AMOUNT_SIGMA)
    amount = np.maximum(np.round(amount, 2), 1.0)
    if channel is None:
        cum = np.cumsum(cust["ch_probs"], axis=1).astype(np.float32)
        u = rng.random(m, dtype=np.float32)
        channel = np.zeros(m, dtype=np.int8)
        for j in range(len(CHANNELS) - 1):
            channel += u > cum[owner, j]
    qty = 1 + rng.poisson(np.array([c["extra_items"] for c in cats])[cat])
    spec = [SEGMENT_SPEC[s] for s in SEGMENTS]
    seg = cust["seg"][owner]
    mean_d = np.array([s["discount_share"] for s in spec])[seg]
    no_d = np.array([s["no_discount_prob"] for s in spec])[seg]
    d = rng.beta(2.0, 2.0 * (1 - mean_d) / mean_d)
    d = np.where(rng.random(m) < no_d, 0.0, np.minimum(d, 0.8))
    discount = np.round(amount * d / (1 - d), 2)
    rate = np.array([c["margin_rate"] for c in cats])[cat] + rng.normal(0, MARGIN_RATE_SD, m)
    margin = np.round(amount * np.clip(rate, 0.02, 0.8), 2)
    return {
        "amount": amount, "channel": channel.astype(np.int8), "cat": cat,
        "qty": qty.astype(np.int64), "discount": discount, "margin": margin,
    }  # fmt: skip


def _lines(
    owner: np.ndarray, t: np.ndarray, attrs: dict[str, np.ndarray], kind: int, campaign: int = -1
) -> dict[str, np.ndarray]:
    m = owner.size
    return {
        "owner": owner.astype(np.int32), "t": t, **attrs,
        "kind": np.full(m, kind, dtype=np.int8), "campaign": np.full(m, campaign, dtype=np.int8),
    }  # fmt: skip


def _concat_lines(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def _window_sum(
    parts: list[dict[str, np.ndarray]], n: int, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per customer: purchase count and amount with ``lo_i <= t < hi_i`` (purchases only)."""
    count = np.zeros(n, dtype=np.int64)
    total = np.zeros(n)
    for lines in parts:
        o, t = lines["owner"], lines["t"]
        sel = (lines["kind"] != 2) & (t >= lo[o]) & (t < hi[o])
        count += _bincount(o[sel], n)
        total += _bincount(o[sel], n, lines["amount"][sel])
    return count, total
