"""Ticket text and the ``feedback`` table with planted topics and sentiment (voice of the customer).

An extension of :func:`workbench.synth.generate` (see :mod:`workbench.synth.extensions`): it reads
the simulated base and returns new or replacement tables plus their truth, drawing from its own
random stream (``[seed, 101]``) so the base tables stay as they are.

* **Tickets** gain ``text``: each ticket gets a planted topic (:data:`TOPICS`, drawn given its
  category, :data:`CATEGORY_TOPICS`) and a planted sentiment read from its CSAT (1-2 negative,
  3 neutral, 4-5 positive), written from templates in Chinese (:data:`LANGUAGE_SHARES`), English
  or a mix, some with emoji, some quoting the customer's own name, phone or e-mail (personal
  data intake must mask inside the text), a few empty, whitespace-only or very long.
* **Feedback** (reviews and surveys): customers who bought before ``as_of`` leave one or two
  answers; the sentiment is negative for most customers after a bad complaint (the base's
  "unhappy" path), and NPS 0-10 and a 1-5 rating follow the sentiment.
* **The known effect**: the base already makes a complaint with CSAT <= 2 multiply the hazard of
  leaving (``truth["churn"]["bad_complaint"]``); its text is negative, so customers with a
  negative (and with an unresolved negative) ticket before ``as_of`` churn more in the 90-day
  window. The truth stores the realised churn rates with and without, per definition.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from workbench.synth.simulate import SynthData

__all__ = ["simulate_service_text", "TOPICS", "TOPIC_WORDS", "CATEGORY_TOPICS", "LANGUAGE_SHARES"]

STREAM = 101
TOPICS: tuple[str, ...] = ("delivery", "refund", "quality", "account", "price")
#: Words that make a topic (the tests expect a found topic to lead with some of them).
TOPIC_WORDS: dict[str, list[str]] = {
    "delivery": ["快递", "物流", "配送", "到货", "包裹"],
    "refund": ["退款", "退货", "到账", "处理"],
    "quality": ["质量", "做工", "破损", "商品"],
    "account": ["账号", "登录", "验证码", "闪退", "app"],
    "price": ["优惠券", "积分", "价格", "活动"],
}
#: Topic probabilities given the ticket category.
CATEGORY_TOPICS: dict[str, tuple[float, ...]] = {
    "物流": (0.85, 0.05, 0.05, 0.0, 0.05),
    "退款": (0.05, 0.85, 0.05, 0.0, 0.05),
    "质量": (0.05, 0.05, 0.85, 0.0, 0.05),
    "咨询": (0.05, 0.05, 0.0, 0.45, 0.45),
    "投诉": (0.30, 0.20, 0.30, 0.10, 0.10),
}
FEEDBACK_TOPICS: tuple[float, ...] = (0.30, 0.10, 0.35, 0.10, 0.15)
LANGUAGE_SHARES: dict[str, float] = {"zh": 0.85, "en": 0.10, "mixed": 0.05}
SENTIMENTS: tuple[str, ...] = ("negative", "neutral", "positive")
FEEDBACK_CHANNELS: tuple[str, ...] = ("应用商店", "问卷调查", "社交媒体", "电商评价")
FEEDBACK_RATE = 0.35  # customers with a purchase before as_of who leave feedback
SECOND_FEEDBACK = 0.25  # of those, share with a second answer
UNHAPPY_NEGATIVE = 0.85  # feedback after a bad complaint: share negative
FEEDBACK_SENTIMENT = (0.15, 0.20, 0.65)  # otherwise
#: Tickets opened in the RECENT_DAYS before as_of by customers who churn in the 90-day window are
#: written negative with these probabilities (unresolved / resolved): the planted churn effect.
CHURNER_NEGATIVE: dict[str, float] = {"unresolved": 0.9, "resolved": 0.5}
RECENT_DAYS = 180
PII_SHARE = 0.06
EMOJI_SHARE = 0.03
EMPTY_SHARE = 0.01
LONG_SHARE = 0.002

_ZH: dict[tuple[str, str], tuple[str, ...]] = {
    ("delivery", "negative"): ("快递太慢了，等了{n}天还没到货", "物流一直不更新，配送太慢了", "包裹迟迟不到，物流太差"),
    ("delivery", "neutral"): ("想查一下物流，包裹到哪里了", "请问配送大概需要几天到货"),
    ("delivery", "positive"): ("物流很快，第二天就到货了", "快递速度快，配送员态度很好"),
    ("refund", "negative"): ("退款申请了{n}天还没到账，一直没人处理", "退货退款太麻烦，拖了好久还没处理"),
    ("refund", "neutral"): ("请问退款多久能到账", "想了解一下退货退款怎么处理"),
    ("refund", "positive"): ("退款很快就到账了，处理及时", "退货很顺利，退款处理速度快"),
    ("quality", "negative"): ("收到的商品有破损，质量太差了", "用了{n}天就坏了，做工很差"),
    ("quality", "neutral"): ("商品质量一般般，做工还行", "想问一下商品是什么材质的"),
    ("quality", "positive"): ("商品质量很好，做工精致", "质量不错，和描述一致，做工好"),
    ("account", "negative"): ("APP一直闪退，账号登录不上", "收不到验证码，账号没法登录，太烦了"),
    ("account", "neutral"): ("怎么修改账号的登录密码", "请问APP在哪里换绑手机验证码"),
    ("account", "positive"): ("APP很好用，账号登录很方便", "账号登录问题很快就解决了"),
    ("price", "negative"): ("优惠券用不了，价格比别家贵", "积分莫名被扣了，活动就是骗人的"),
    ("price", "neutral"): ("优惠券怎么使用，积分什么时候到", "请问活动价格还有几天"),
    ("price", "positive"): ("优惠券很划算，价格实惠", "积分兑换很方便，活动力度大"),
}
_EN: dict[tuple[str, str], tuple[str, ...]] = {
    ("delivery", "negative"): ("My package is {n} days late, terrible delivery", "Delivery is awfully slow and tracking never updates"),
    ("delivery", "neutral"): ("Where is my parcel? Please check the delivery status",),
    ("delivery", "positive"): ("Fast delivery, the parcel arrived the next day, great",),
    ("refund", "negative"): ("Still no refund after {n} days, this is awful", "The return and refund process is a horrible mess"),
    ("refund", "neutral"): ("How long does a refund take to arrive?",),
    ("refund", "positive"): ("Refund arrived quickly, excellent handling",),
    ("quality", "negative"): ("The product arrived broken, poor quality", "It stopped working after {n} days, bad quality"),
    ("quality", "neutral"): ("What material is the product made of?",),
    ("quality", "positive"): ("Great quality, well made, love it",),
    ("account", "negative"): ("The app keeps crashing and I cannot log in to my account", "No verification code, locked out of my account, so annoying"),
    ("account", "neutral"): ("How do I change the password of my account?",),
    ("account", "positive"): ("The app works great and login is easy",),
    ("price", "negative"): ("The coupon does not work and the price is a rip-off",),
    ("price", "neutral"): ("How do I use the coupon and the points?",),
    ("price", "positive"): ("Great price and a generous coupon, happy",),
}
_ZH_END = {"negative": ("，非常失望。", "，太差劲了！", "，再也不买了。", "。"), "neutral": ("。", "，谢谢。"),
           "positive": ("，很满意！", "，点赞。", "，下次还会再来。")}  # fmt: skip
_MIXED_END = {"negative": (" so disappointed", " really bad"), "neutral": (" thanks", " pls"),
              "positive": (" very good", " nice")}  # fmt: skip
_EMOJI = {"negative": "😡", "neutral": "🤔", "positive": "👍"}


def _pick(rng: np.random.Generator, options: dict[Any, tuple[str, ...]], keys: list[Any]) -> np.ndarray:
    """One template per row from the options of its key (vectorised per distinct key)."""
    out = np.empty(len(keys), dtype=object)
    arr = pd.Series(keys)
    for key, idx in arr.groupby(arr, sort=False).groups.items():
        opts = np.array(options[key], dtype=object)
        out[np.asarray(idx)] = opts[rng.integers(0, len(opts), size=len(idx))]
    return out


def _texts(
    rng: np.random.Generator, topic: np.ndarray, sentiment: np.ndarray, people: pd.DataFrame
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Texts for planted topic / sentiment codes; ``people`` holds name, phone, email per row."""
    k = topic.size
    lang = rng.choice(len(LANGUAGE_SHARES), size=k, p=list(LANGUAGE_SHARES.values()))
    keys = [(TOPICS[a], SENTIMENTS[b]) for a, b in zip(topic, sentiment, strict=True)]
    zh_body = _pick(rng, _ZH, keys)
    en_body = _pick(rng, _EN, keys)
    sent = [SENTIMENTS[b] for b in sentiment]
    zh_end = _pick(rng, _ZH_END, sent)
    mixed_end = _pick(rng, _MIXED_END, sent)
    body = np.where(lang == 0, zh_body + zh_end, np.where(lang == 1, en_body + np.where(pd.Series(en_body).str.endswith("?"), "", "."), zh_body + mixed_end))
    n_days = rng.integers(3, 16, size=k).astype(str)
    text = pd.Series([b.replace("{n}", d) for b, d in zip(body, n_days, strict=True)])
    pii = rng.random(k) < PII_SHARE
    kind = rng.integers(0, 3, size=k)
    name = people["name"].fillna("").to_numpy(dtype=object)
    phone = people["phone"].fillna("").to_numpy(dtype=object)
    email = people["email"].fillna("").to_numpy(dtype=object)
    zh_pii = np.where(kind == 0, "我是" + name + "，", np.where(kind == 1, "请回电" + phone + "，", "邮箱" + email + "，"))
    en_pii = np.where(kind == 0, "This is " + name + ". ", np.where(kind == 1, "Call me at " + phone + ". ",
                                                                     "Email me at " + email + ". "))  # fmt: skip
    prefix = np.where(pii, np.where(lang == 1, en_pii, zh_pii), "")
    emoji = rng.random(k) < EMOJI_SHARE
    suffix = np.where(emoji, np.array([_EMOJI[s] for s in sent], dtype=object), "")
    out = (pd.Series(prefix) + text + pd.Series(suffix)).to_numpy(dtype=object)
    long = rng.random(k) < LONG_SHARE
    out[long] = [(s + " ") * 200 for s in out[long]]
    empty = rng.random(k) < EMPTY_SHARE
    out[empty] = np.where(rng.random(int(empty.sum())) < 0.5, "", "   ")
    flags = {"language": np.array(list(LANGUAGE_SHARES), dtype=object)[lang], "pii": pii & ~empty,
             "emoji": emoji & ~empty, "long": long & ~empty, "empty": empty}  # fmt: skip
    return out, flags


def _ticket_codes(
    rng: np.random.Generator, tickets: pd.DataFrame, churners: np.ndarray, as_of: pd.Timestamp
) -> tuple[np.ndarray, np.ndarray]:
    """Planted topic (given the category) and sentiment (from CSAT; recent tickets of customers who
    churn in the window are written negative, :data:`CHURNER_NEGATIVE`) per ticket."""
    cats = tickets["category"].astype(str).to_numpy()
    topic = np.zeros(len(tickets), dtype=np.int64)
    for cat, probs in CATEGORY_TOPICS.items():
        m = cats == cat
        topic[m] = rng.choice(len(TOPICS), size=int(m.sum()), p=np.asarray(probs) / sum(probs))
    other = ~np.isin(cats, list(CATEGORY_TOPICS))
    topic[other] = rng.integers(0, len(TOPICS), size=int(other.sum()))
    csat = pd.to_numeric(tickets["satisfaction"], errors="coerce").to_numpy()
    sentiment = np.where(csat <= 2, 0, np.where(csat == 3, 1, 2))
    end = as_of + pd.Timedelta(days=1)
    recent = ((tickets["opened_at"] >= end - pd.Timedelta(days=RECENT_DAYS)) & (tickets["opened_at"] < end)).to_numpy()
    unresolved = (tickets["resolved_at"].isna() | (tickets["resolved_at"] >= end)).to_numpy()
    churner = tickets["customer_id"].isin(churners).to_numpy()
    p = np.where(unresolved, CHURNER_NEGATIVE["unresolved"], CHURNER_NEGATIVE["resolved"])
    sentiment = np.where(recent & churner & (rng.random(len(tickets)) < p), 0, sentiment)
    return topic, sentiment


def _feedback(rng: np.random.Generator, data: SynthData, as_of: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The feedback table with its planted topic and sentiment codes."""
    tc = data.truth_customers
    cust = data.customers.set_index("customer_id")
    eligible = tc.loc[tc["purchased_before_as_of"].to_numpy(), "customer_id"].to_numpy()
    givers = eligible[rng.random(eligible.size) < FEEDBACK_RATE]
    again = givers[rng.random(givers.size) < SECOND_FEEDBACK]
    who = np.concatenate([givers, again])
    signup = pd.to_datetime(cust.loc[who, "signup_date"]).to_numpy()
    span = (as_of.to_datetime64() - signup) / np.timedelta64(1, "s")
    when = signup + (rng.random(who.size) * np.maximum(span, 0)).astype("timedelta64[s]")
    bad = pd.to_datetime(tc.set_index("customer_id").loc[who, "first_bad_complaint_at"]).to_numpy()
    unhappy = ~np.isnat(bad) & (bad < when)
    sentiment = np.where(
        unhappy,
        np.where(rng.random(who.size) < UNHAPPY_NEGATIVE, 0, 1),
        rng.choice(3, size=who.size, p=FEEDBACK_SENTIMENT),
    )
    topic = rng.choice(len(TOPICS), size=who.size, p=FEEDBACK_TOPICS)
    people = cust.loc[who, ["name", "phone", "email"]].reset_index(drop=True)
    text, _ = _texts(rng, topic, sentiment, people)
    nps_lo, nps_hi = np.array([0, 7, 9]), np.array([6, 8, 10])
    nps = rng.integers(nps_lo[sentiment], nps_hi[sentiment] + 1)
    flip = rng.random(who.size) < 0.1  # some noise: an answer off its sentiment
    nps = np.where(flip, rng.integers(0, 11, size=who.size), nps)
    rating = np.clip(np.array([1, 3, 4])[sentiment] + rng.integers(0, 2, size=who.size), 1, 5)
    order = np.argsort(when, kind="stable")
    fb = pd.DataFrame(
        {
            "feedback_id": pd.Series([f"F{i:08d}" for i in range(1, who.size + 1)], dtype="str"),
            "customer_id": pd.Series(who[order], dtype="str"),
            "feedback_time": pd.Series(when[order]).astype("datetime64[ns]"),
            "channel": pd.Series(np.array(FEEDBACK_CHANNELS, dtype=object)[rng.integers(0, 4, who.size)], dtype="str"),
            "text": pd.Series(text[order], dtype="str"),
            "rating": rating[order].astype("int64"),
            "nps": nps[order].astype("int64"),
        }
    )
    return fb, topic[order], sentiment[order]


def _effect_truth(data: SynthData, tickets: pd.DataFrame, negative: np.ndarray, as_of: pd.Timestamp) -> dict[str, Any]:
    """Realised 90-day churn (non-contractual label) among customers with a ticket in the
    :data:`RECENT_DAYS` before as_of, with and without a negative (unresolved negative) one."""
    tc = data.truth_customers
    end = as_of + pd.Timedelta(days=1)
    recent = ((tickets["opened_at"] < end) & (tickets["opened_at"] >= end - pd.Timedelta(days=RECENT_DAYS))).to_numpy()
    elig = tc[tc["purchased_before_as_of"].to_numpy() & tc["customer_id"].isin(tickets.loc[recent, "customer_id"])]
    churned = ~elig["purchased_in_window"].to_numpy()
    unresolved = (tickets["resolved_at"].isna() | (tickets["resolved_at"] >= end)).to_numpy()
    out: dict[str, Any] = {"population": "customers who bought before as_of with a ticket in the recent_days before it",
                           "n_customers": int(len(elig))}  # fmt: skip
    for name, mask in (("negative_ticket", negative & recent), ("unresolved_negative_ticket", negative & recent & unresolved)):
        has = elig["customer_id"].isin(tickets.loc[mask, "customer_id"]).to_numpy()
        r1 = float(churned[has].mean()) if has.any() else float("nan")
        r0 = float(churned[~has].mean()) if (~has).any() else float("nan")
        out[name] = {"customers": int(has.sum()), "churn_rate_with": r1, "churn_rate_without": r0,
                     "risk_ratio": r1 / r0 if r0 > 0 else None, "direction": "higher"}  # fmt: skip
    out["mechanism"] = (
        "ticket text is negative for CSAT 1-2; in addition tickets opened in the recent_days before as_of by "
        "customers who churn in the 90-day window (non-contractual label) are written negative with probability "
        "churner_negative (unresolved / resolved), so unresolved negative tickets mark customers who churn more"
    )
    out["recent_days"] = RECENT_DAYS
    out["churner_negative"] = CHURNER_NEGATIVE
    return out


def simulate_service_text(data: SynthData, *, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Ticket text, the feedback table and their truth.

    Parameters
    ----------
    data : SynthData
        The simulated base (and the tables of the extensions run before this one).
    seed : int
        The generator's seed; this module draws from ``default_rng([seed, 101])``.

    Returns
    -------
    (dict, dict)
        ``{"tickets": tickets with text, "feedback": feedback}`` and the JSON-able truth (stored as
        ``truth["service_text"]``): planted topic and sentiment shares, the ticket ids of each
        planted kind of awkward text, and the churn effect.
    """
    rng = np.random.default_rng([seed, STREAM])
    as_of = pd.Timestamp(data.truth["generator"]["as_of"])
    tickets = data.tickets
    people = data.customers.set_index("customer_id").reindex(tickets["customer_id"])[["name", "phone", "email"]]
    tc = data.truth_customers
    churners = tc.loc[(tc["purchased_before_as_of"] & ~tc["purchased_in_window"]).to_numpy(), "customer_id"]
    topic, sentiment = _ticket_codes(rng, tickets, churners.to_numpy(), as_of)
    text, flags = _texts(rng, topic, sentiment, people.reset_index(drop=True))
    out = tickets.assign(text=pd.Series(text, index=tickets.index, dtype="str"))
    fb, fb_topic, fb_sent = _feedback(rng, data, as_of)

    def shares(codes: np.ndarray, names: tuple[str, ...]) -> dict[str, float]:
        return {n: float((codes == i).mean()) if codes.size else 0.0 for i, n in enumerate(names)}

    ids = out["ticket_id"].to_numpy()
    truth = {
        "stream": STREAM,
        "topics": list(TOPICS),
        "topic_words": TOPIC_WORDS,
        "category_topics": {k: list(v) for k, v in CATEGORY_TOPICS.items()},
        "sentiment_rule": "tickets: satisfaction 1-2 negative, 3 neutral, 4-5 positive",
        "tickets": {
            "n": len(out), "topic_shares": shares(topic, TOPICS), "sentiment_shares": shares(sentiment, SENTIMENTS),
            "language_shares": {k: float((flags["language"] == k).mean()) for k in LANGUAGE_SHARES},
            "n_with_personal_data": int(flags["pii"].sum()), "n_emoji": int(flags["emoji"].sum()),
            "n_long": int(flags["long"].sum()), "n_empty": int(flags["empty"].sum()),
            "long_ids": ids[flags["long"]][:20].tolist(), "empty_ids": ids[flags["empty"]][:20].tolist(),
        },
        "feedback": {
            "n": len(fb), "topic_shares": shares(fb_topic, TOPICS), "sentiment_shares": shares(fb_sent, SENTIMENTS),
            "nps_rule": "negative 0-6, neutral 7-8, positive 9-10; 10 % drawn uniformly 0-10",
            "unhappy_negative_share": UNHAPPY_NEGATIVE,
            "nps": float(((fb["nps"] >= 9).mean() - (fb["nps"] <= 6).mean()) * 100) if len(fb) else None,
        },
        "churn_effect": _effect_truth(data, out, sentiment == 0, as_of),
        "planted": {"ticket_topic": topic.tolist() if len(out) <= 50_000 else None,
                    "ticket_sentiment": sentiment.tolist() if len(out) <= 50_000 else None},
    }  # fmt: skip
    return {"tickets": out, "feedback": fb}, truth
