"""Order lines (``order_items``) with planted basket, sequence and life-event rules (cross-sell).

An extension of :func:`workbench.synth.generate` (see :mod:`workbench.synth.extensions`): it reads
the simulated base and returns new or replacement tables plus their truth, drawing from its own
random stream so the base tables stay as they are.

Every purchase order (refund lines get none) gets a first line from its own
``product_category`` and ``Poisson(extra_items)`` more lines from the whole catalogue; the line
prices (``price`` = line amount) split the order's ``amount`` in proportion to list price times
quantity, so they add up to it. Three rules are planted on top, with their strength in the truth:

- **basket rule** 奶粉 → 纸尿裤: 纸尿裤 joins a basket with 奶粉 with probability ``p1`` and any
  other basket with ``p0``, ``p1`` chosen from the realised 奶粉 share ``a`` so that the lift
  ``p1 / (a p1 + (1 - a) p0)`` is :data:`BASKET_LIFT`;
- **sequence** 咖啡机 then 咖啡豆: the customer's next purchase order within
  :data:`SEQUENCE_DAYS` days after one with 咖啡机 gets 咖啡豆 with probability
  :data:`SEQUENCE_P` (the realised median delay is stored);
- **life event** (a baby): :data:`LIFE_EVENT_SHARE` of customers have an event day; in the
  :data:`LIFE_EVENT_PRE_DAYS` days before it their orders carry the signal products
  (孕妇护肤霜, 叶酸), after it the baby products (奶粉, 婴儿辅食, 湿巾): earlier purchases signal
  who becomes a first-time baby buyer (the look-alike mode).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from workbench.synth.simulate import SynthData

__all__ = ["CATALOGUE", "simulate_baskets"]

#: Stream number of this extension.
STREAM = 103
#: Products by category: name -> (list price, weight in the random pool; 0 = planted only).
CATALOGUE: dict[str, dict[str, tuple[float, float]]] = {
    "服装": {"T恤": (79, 3), "牛仔裤": (199, 2), "连衣裙": (259, 2), "运动鞋": (399, 1.5), "外套": (499, 1),
             "袜子": (29, 3), "婴儿连体衣": (89, 0)},
    "美妆": {"口红": (229, 2), "面霜": (329, 2), "洗面奶": (89, 3), "防晒霜": (159, 2), "面膜": (99, 3),
             "孕妇护肤霜": (199, 0)},
    "食品": {"咖啡豆": (89, 2), "零食礼包": (59, 3), "牛奶": (69, 3), "大米": (49, 2), "茶叶": (159, 1.5),
             "奶粉": (299, 0), "婴儿辅食": (69, 0), "叶酸": (59, 0)},
    "数码": {"耳机": (299, 2), "手机壳": (39, 3), "充电器": (99, 3), "智能手表": (999, 1), "咖啡机": (699, 1)},
    "家居": {"毛巾": (39, 3), "收纳盒": (49, 3), "台灯": (129, 2), "床品四件套": (399, 1), "纸尿裤": (129, 0),
             "湿巾": (19, 0)},
}  # fmt: skip
BASKET_A, BASKET_B = "奶粉", "纸尿裤"
BASKET_LIFT: float = 3.0
#: Share of baskets without 奶粉 that hold 纸尿裤, and the share of non-event baskets with 奶粉.
BASKET_P0: float = 0.02
BASKET_A_OTHER: float = 0.003
SEQ_A, SEQ_B = "咖啡机", "咖啡豆"
SEQUENCE_DAYS: int = 30
SEQUENCE_P: float = 0.6
LIFE_EVENT_SHARE: float = 0.10
LIFE_EVENT_PRE_DAYS: int = 270
LIFE_EVENT_SIGNALS: tuple[str, ...] = ("孕妇护肤霜", "叶酸")
LIFE_EVENT_PRODUCTS: tuple[str, ...] = ("奶粉", "婴儿辅食", "湿巾")
SIGNAL_P, SIGNAL_OTHER, BABY_P = 0.6, 0.001, 0.5


def _catalogue() -> pd.DataFrame:
    rows = [(cat, name, price, w) for cat, items in CATALOGUE.items() for name, (price, w) in items.items()]
    cat = pd.DataFrame(rows, columns=["category", "product_name", "list_price", "weight"])
    cat["product_id"] = [f"P{i + 1:04d}" for i in range(len(cat))]
    return cat


def simulate_baskets(data: SynthData, *, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The ``order_items`` table of the purchase orders and the truth of the planted rules.

    Parameters
    ----------
    data : SynthData
        The simulated base (and the tables of the extensions run before this one).
    seed : int
        The generator's seed; combined with stream 103.

    Returns
    -------
    (dict, dict)
        ``{"order_items": DataFrame}`` and the truth (stored as ``truth["baskets"]``).
    """
    rng = np.random.default_rng([seed, STREAM])
    cat = _catalogue()
    orders = data.orders
    buy = orders[~orders["is_refund"].to_numpy(dtype=bool)]
    if buy.empty:
        return {}, {}
    pid = {n: i for i, n in enumerate(cat["product_name"])}
    order_pos, prod = _random_lines(buy, cat, rng)
    event_day, in_pre, in_post = _life_event(buy, rng)
    order_pos, prod = _add(order_pos, prod, np.flatnonzero(in_pre & (rng.random(len(buy)) < SIGNAL_P)), pid["孕妇护肤霜"])
    order_pos, prod = _add(order_pos, prod, np.flatnonzero(in_pre & (rng.random(len(buy)) < SIGNAL_P)), pid["叶酸"])
    other = ~in_pre
    for name in ("孕妇护肤霜", "叶酸"):
        order_pos, prod = _add(order_pos, prod, np.flatnonzero(other & (rng.random(len(buy)) < SIGNAL_OTHER)), pid[name])
    for name in LIFE_EVENT_PRODUCTS:
        p = np.where(in_post, BABY_P, BASKET_A_OTHER if name == BASKET_A else SIGNAL_OTHER)
        order_pos, prod = _add(order_pos, prod, np.flatnonzero(rng.random(len(buy)) < p), pid[name])
    has_a = np.zeros(len(buy), dtype=bool)
    has_a[order_pos[prod == pid[BASKET_A]]] = True
    a = float(has_a.mean())
    p1 = BASKET_LIFT * (1 - a) * BASKET_P0 / (1 - BASKET_LIFT * a)
    order_pos, prod = _add(order_pos, prod, np.flatnonzero(rng.random(len(buy)) < np.where(has_a, p1, BASKET_P0)),
                           pid[BASKET_B])
    order_pos, prod, delays = _sequence(buy, order_pos, prod, pid, rng)
    items = _frame(buy, cat, order_pos, prod, rng)
    truth = {
        "n_products": len(cat),
        "basket_rule": {"antecedent": BASKET_A, "consequent": BASKET_B, "lift": BASKET_LIFT, "p_with": p1,
                        "p_without": BASKET_P0, "antecedent_share": a},
        "sequence": {"first": SEQ_A, "then": SEQ_B, "within_days": SEQUENCE_DAYS, "p": SEQUENCE_P,
                     "n_planted": int(len(delays)),
                     "median_days": float(np.median(delays)) if len(delays) else None},
        "life_event": {"share": LIFE_EVENT_SHARE, "pre_days": LIFE_EVENT_PRE_DAYS,
                       "signals": list(LIFE_EVENT_SIGNALS), "products": list(LIFE_EVENT_PRODUCTS),
                       "n_customers": int(np.isfinite(event_day).sum())},
    }
    return {"order_items": items}, truth


def _random_lines(buy: pd.DataFrame, cat: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Order position and product of the random lines: one from the order's category, then
    ``Poisson(extra_items)`` from the whole pool (weights of the catalogue)."""
    from workbench.synth.spec import CATEGORY_SPEC

    n = len(buy)
    w = cat["weight"].to_numpy(dtype=float)
    cats = list(CATALOGUE)
    code = pd.Categorical(buy["product_category"], categories=cats).codes
    first = np.empty(n, dtype=np.int64)
    for k, c in enumerate(cats):
        rows = np.flatnonzero(code == k)
        pool = np.flatnonzero((cat["category"] == c).to_numpy() & (w > 0))
        first[rows] = rng.choice(pool, size=len(rows), p=w[pool] / w[pool].sum())
    rows = np.flatnonzero(code < 0)
    pool = np.flatnonzero(w > 0)
    first[rows] = rng.choice(pool, size=len(rows), p=w[pool] / w[pool].sum())
    extra_rate = np.array([CATEGORY_SPEC.get(c, {"extra_items": 0.5})["extra_items"] for c in cats] + [0.5])
    k_extra = np.minimum(rng.poisson(extra_rate[code]), 4)
    pos = np.repeat(np.arange(n), k_extra)
    extra = rng.choice(pool, size=len(pos), p=w[pool] / w[pool].sum())
    return np.concatenate([np.arange(n), pos]), np.concatenate([first, extra])


def _add(order_pos: np.ndarray, prod: np.ndarray, rows: np.ndarray, product: int) -> tuple[np.ndarray, np.ndarray]:
    """Lines of ``product`` added to the orders at positions ``rows``."""
    return np.concatenate([order_pos, rows]), np.concatenate([prod, np.full(len(rows), product)])


def _days(buy: pd.DataFrame) -> np.ndarray:
    t = buy["order_time"].to_numpy(dtype="datetime64[s]").astype(np.int64)
    return t / 86400.0


def _life_event(buy: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event day of each order's customer (NaN: none) and whether the order falls in the signal
    window before it or after it."""
    days = _days(buy)
    cust, inv = np.unique(buy["customer_id"].to_numpy(dtype=object).astype(str), return_inverse=True)
    lo, hi = days.min() + LIFE_EVENT_PRE_DAYS, days.max() + 90
    ev = np.where(rng.random(len(cust)) < LIFE_EVENT_SHARE, rng.uniform(lo, hi, len(cust)), np.nan)
    e = ev[inv]
    with np.errstate(invalid="ignore"):
        pre = (days >= e - LIFE_EVENT_PRE_DAYS) & (days < e)
        post = days >= e
    return ev, pre, post


def _sequence(
    buy: pd.DataFrame, order_pos: np.ndarray, prod: np.ndarray, pid: dict[str, int], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """咖啡豆 added to the next purchase order (within the window) after an order with 咖啡机."""
    days = _days(buy)
    cust = buy["customer_id"].to_numpy(dtype=object).astype(str)
    order = np.lexsort((days, cust))
    nxt = np.full(len(buy), -1)
    same = cust[order[1:]] == cust[order[:-1]]
    nxt[order[:-1][same]] = order[1:][same]
    a_rows = np.unique(order_pos[prod == pid[SEQ_A]])
    b = nxt[a_rows]
    ok = b >= 0
    a_rows, b = a_rows[ok], b[ok]
    gap = days[b] - days[a_rows]
    take = (gap <= SEQUENCE_DAYS) & (gap > 0) & (rng.random(len(b)) < SEQUENCE_P)
    order_pos, prod = _add(order_pos, prod, b[take], pid[SEQ_B])
    return order_pos, prod, gap[take]


def _frame(
    buy: pd.DataFrame, cat: pd.DataFrame, order_pos: np.ndarray, prod: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The table: one line per (order, product), prices splitting each order's amount."""
    key = order_pos * 1000 + prod
    _, first = np.unique(key, return_index=True)
    keep = np.sort(first)
    order_pos, prod = order_pos[keep], prod[keep]
    srt = np.lexsort((prod, order_pos))
    order_pos, prod = order_pos[srt], prod[srt]
    qty = 1 + rng.poisson(0.3, len(prod))
    w = cat["list_price"].to_numpy(dtype=float)[prod] * qty * rng.lognormal(0, 0.2, len(prod))
    tot = np.bincount(order_pos, weights=w, minlength=len(buy))
    amount = buy["amount"].to_numpy(dtype=float)
    price = np.round(amount[order_pos] * w / tot[order_pos], 2)
    diff = amount - np.bincount(order_pos, weights=price, minlength=len(buy))
    is_first = np.r_[True, order_pos[1:] != order_pos[:-1]]
    price[is_first] += np.round(diff[order_pos[is_first]], 2)
    return pd.DataFrame(
        {
            "order_id": pd.array(buy["order_id"].to_numpy(dtype=object)[order_pos], dtype="str"),
            "product_id": pd.array(cat["product_id"].to_numpy(dtype=object)[prod], dtype="str"),
            "product_name": pd.array(cat["product_name"].to_numpy(dtype=object)[prod], dtype="str"),
            "category": pd.array(cat["category"].to_numpy(dtype=object)[prod], dtype="str"),
            "quantity": qty.astype(np.int64),
            "price": np.round(price, 2),
        }
    )
