"""What customers buy next: "A, then B within N days" (:func:`sequence_rules`) and the first ->
second purchase matrix (:func:`category_transitions`), both counted in the engine (Ibis).

A sequence rule A -> B: of the customers whose first purchase of A leaves ``within_days`` of
follow-up before the last order date, the share who buy B in the ``within_days`` days after it
(``rate``, Wilson 95 % interval), against B's base rate (the same window after a customer's
first purchase of anything); lift = rate / base with a 95 % interval (log scale, delta method);
the median days from A to the first B (the moment to send the offer; for A -> A the
replenishment cycle). Rules are tested with a two-proportion z test, Holm corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.cross_sell.lines import BasketLines
from workbench.data import engine
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import holm, wilson_interval

__all__ = ["SequenceRules", "Transitions", "category_transitions", "sequence_rules"]

_DAY = 86400.0


def _days_between(later: Any, earlier: Any) -> Any:
    # a double before dividing: Spark divides integer seconds as decimals rounded to 8 places
    return (later.epoch_seconds() - earlier.epoch_seconds()).cast("float64") / _DAY


@dataclass(frozen=True, eq=False, repr=False)
class SequenceRules(Result):
    """Sequence rules "A, then B within N days" (see :func:`sequence_rules`).

    Attributes
    ----------
    rules : pandas.DataFrame
        ``first``, ``then``, ``n_first`` (customers with A and full follow-up), ``n_then`` (of them
        buying B in the window), ``rate`` with ``rate_low``/``rate_high``, ``base_rate``, ``lift``
        with ``lift_low``/``lift_high``, ``median_days``, ``p_value``, ``p_holm``, ``significant``.
    info : dict
        Window, customers, thresholds.
    """

    rules: pd.DataFrame
    info: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """The ``top`` significant rules (strongest lift first)."""
        cols = ["first", "then", "n_first", "n_then", "rate", "base_rate", "lift", "lift_low", "lift_high",
                "median_days", "p_holm"]
        s = self.rules[self.rules["significant"]]
        return s.head(self.info["top"])[cols].rename(columns={"base_rate": "base_then_rate"}).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Every rule counted."""
        return self.rules.copy()

    def rule(self, first: str, then: str) -> pd.Series | None:
        """One rule's row, or ``None``."""
        m = self.rules[(self.rules["first"] == first) & (self.rules["then"] == then)]
        return None if m.empty else m.iloc[0]

    def metrics(self) -> dict[str, Any]:
        """Window and the top rules (JSON-able)."""
        top = self.summary()
        return {**{k: (num(v) if isinstance(v, float) else v) for k, v in self.info.items()},
                "n_rules": int(len(self.rules)), "n_significant": int(self.rules["significant"].sum()),
                "top_rules": {f"{r.first} -> {r.then}": {"lift": num(r.lift), "rate": num(r.rate),
                                                         "median_days": num(r.median_days)} for r in top.itertuples()}}

    def finding(self) -> str:
        """The strongest sequence and when to make the offer, in words."""
        s = self.summary()
        text = t("cross_sell.sequences.counts", days=self.info["within_days"], rules=count(len(self.rules)),
                 significant=count(int(self.rules["significant"].sum())))
        cross = s[s["first"] != s["then"]]
        if len(cross):
            r = cross.iloc[0]
            text += t("cross_sell.sequences.top", first=r["first"], then=r["then"], days=self.info["within_days"],
                      rate=pct(r["rate"]), base=pct(r["base_then_rate"]), lift=f"{r['lift']:.2f}",
                      low=f"{r['lift_low']:.2f}", high=f"{r['lift_high']:.2f}", median=f"{r['median_days']:.0f}")
        same = s[s["first"] == s["then"]]
        if len(same):
            r = same.iloc[0]
            text += t("cross_sell.sequences.repeat", item=r["first"], rate=pct(r["rate"]), median=f"{r['median_days']:.0f}")
        return text

    def plot(self, ax: Any = None) -> Any:
        """Lift of the top sequence rules (95 % intervals) against the median days A -> B."""
        s = self.summary().iloc[::-1]
        ax = new_axes(ax, figsize=(7, 0.35 * max(len(s), 3) + 1.2))
        labels = [f"{a} → {b} ({d:.0f} d)" for a, b, d in zip(s["first"], s["then"], s["median_days"], strict=True)]
        ax.hlines(labels, s["lift_low"], s["lift_high"], color="C1", lw=2)
        ax.scatter(s["lift"], labels, color="C1", zorder=3)
        ax.axvline(1, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(t("cross_sell.sequences.plot.xlabel"))
        ax.set_title(t("cross_sell.sequences.plot.title", days=self.info["within_days"]))
        return ax

    def __repr__(self) -> str:
        return f"SequenceRules(within_days={self.info['within_days']}, rules={len(self.rules):,})"


def sequence_rules(
    baskets: BasketLines, *, within_days: int = 30, min_count: int = 20, top: int = 15,
    con: ibis.BaseBackend | None = None,
) -> SequenceRules:
    """Sequence rules "bought A, then B within ``within_days`` days" (see module docstring).

    Parameters
    ----------
    baskets : BasketLines
    within_days : int, default 30
    min_count : int, default 20
        Least customers with A then B for a rule to be kept.
    top : int, default 15
    con : Ibis backend, optional

    Returns
    -------
    SequenceRules

    Raises
    ------
    AnalysisError
        No customer has the follow-up window, or no rule reaches ``min_count``.
    """
    from scipy.stats import norm

    con = con or engine.connect(threads=1)
    li = engine.as_table(con, baskets.lines[["customer_id", "order_time", "item"]])
    end = baskets.lines["order_time"].max()
    cutoff = ibis.literal(pd.Timestamp(end) - pd.Timedelta(days=within_days))
    first = li.group_by(["customer_id", "item"]).agg(t_a=li.order_time.min()).filter(lambda x: x.t_a <= cutoff)
    n_first = first.group_by("item").agg(n_first=ibis._.count())
    start = li.group_by("customer_id").agg(t0=li.order_time.min()).filter(lambda x: x.t0 <= cutoff)
    f = first.rename(item_a="item", cust_a="customer_id")
    j = f.join(li, [f.cust_a == li.customer_id, li.order_time > f.t_a,
                    _days_between(li.order_time, f.t_a) <= within_days])
    hit = j.group_by(["cust_a", "item_a", "item"]).agg(delay=_days_between(j.order_time.min(), j.t_a.max()))
    pairs = hit.group_by(["item_a", "item"]).agg(n_then=ibis._.count(), median_days=hit.delay.median())
    pairs = pairs.filter(ibis._.n_then >= min_count)
    sj = start.join(li, [start.customer_id == li.customer_id, li.order_time > start.t0,
                         _days_between(li.order_time, start.t0) <= within_days])
    base = sj.group_by("item").agg(n_base=sj.customer_id.nunique())
    n_start = int(start.count().to_pyarrow().as_py())
    if n_start == 0:
        raise AnalysisError(
            f"{baskets.source}: no customer has {within_days} days of follow-up before the last order "
            f"({pd.Timestamp(end).date()}); shorten sequences.within_days="
        )
    r = pairs.to_pyarrow().to_pandas().rename(columns={"item_a": "first", "item": "then"})
    if r.empty:
        raise AnalysisError(
            f"{baskets.source}: no sequence A -> B within {within_days} days is followed by at least "
            f"{min_count} customers; lower sequences.min_count= or lengthen sequences.within_days="
        )
    r = r.merge(n_first.to_pyarrow().to_pandas().rename(columns={"item": "first"}), on="first")
    r = r.merge(base.to_pyarrow().to_pandas().rename(columns={"item": "then"}), on="then", how="left")
    r["n_base"] = r["n_base"].fillna(0)
    rate = r["n_then"] / r["n_first"]
    b = (r["n_base"] / n_start).clip(lower=0.5 / n_start)
    lo, hi = wilson_interval(r["n_then"].to_numpy(), r["n_first"].to_numpy())
    se = np.sqrt((1 - rate) / (r["n_first"] * rate) + (1 - b) / (n_start * b))
    pooled = (r["n_then"] + r["n_base"]) / (r["n_first"] + n_start)
    z = (rate - b) / np.sqrt(pooled * (1 - pooled) * (1 / r["n_first"] + 1 / n_start))
    r = r.assign(rate=rate, rate_low=lo, rate_high=hi, base_rate=b, lift=rate / b,
                 lift_low=rate / b * np.exp(-1.96 * se), lift_high=rate / b * np.exp(1.96 * se),
                 p_value=norm.sf(z.to_numpy()))
    r["p_holm"] = holm(r["p_value"].to_numpy())
    r["significant"] = (r["p_holm"] < 0.05) & (r["lift"] > 1)
    r = r.sort_values(["significant", "lift"], ascending=[False, False], kind="stable").reset_index(drop=True)
    cols = ["first", "then", "n_first", "n_then", "rate", "rate_low", "rate_high", "base_rate", "n_base", "lift",
            "lift_low", "lift_high", "median_days", "p_value", "p_holm", "significant"]
    info = {"within_days": int(within_days), "n_customers_base": n_start, "min_count": int(min_count),
            "level": baskets.level, "top": int(top), "test": "two-proportion z (one-sided), Holm",
            "base": "the same window after a customer's first purchase"}
    return SequenceRules(rules=r[cols], info=info)


@dataclass(frozen=True, eq=False, repr=False)
class Transitions(Result):
    """First -> second purchase matrix (see :func:`category_transitions`).

    Attributes
    ----------
    counts : pandas.DataFrame
        Customers by first (rows) and second (columns) purchase item.
    info : dict
    """

    counts: pd.DataFrame
    info: dict[str, Any]

    def shares(self) -> pd.DataFrame:
        """Row shares: of the customers whose first purchase was X, the share whose second was Y."""
        return self.counts.div(self.counts.sum(axis=1).replace(0, np.nan), axis=0)

    def summary(self) -> pd.DataFrame:
        """Per first item: ``first``, ``customers``, ``same_share`` (share buying it again),
        ``top_next`` (most frequent other item), ``top_next_share``."""
        sh = self.shares()
        rows = []
        for item in sh.index:
            other = sh.loc[item].drop(item, errors="ignore")
            rows.append({"first": item, "customers": int(self.counts.loc[item].sum()),
                         "same_share": float(sh.loc[item].get(item, 0.0)),
                         "top_next": other.idxmax() if len(other) else "", "top_next_share": float(other.max()) if len(other) else 0.0})
        return pd.DataFrame(rows).sort_values("customers", ascending=False).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Long table: ``first``, ``second``, ``customers``, ``share``."""
        long = self.counts.stack().rename("customers").reset_index()
        long.columns = ["first", "second", "customers"]
        return long.assign(share=self.shares().stack().to_numpy())

    def metrics(self) -> dict[str, Any]:
        """Customers with a second purchase and the shares (JSON-able)."""
        sh = self.shares()
        return {**self.info, "shares": {f"{a} -> {b}": num(float(sh.loc[a, b])) for a in sh.index for b in sh.columns}}

    def finding(self) -> str:
        """How often the second purchase stays in the first's category, and the top cross move."""
        s = self.summary()
        c = self.counts.to_numpy()
        same = float(np.trace(c) / c.sum()) if c.sum() else 0.0
        text = t("cross_sell.transitions.finding", n=count(self.info["n_customers"]), same=pct(same))
        if len(s):
            top = s.sort_values("top_next_share", ascending=False).iloc[0]
            text += t("cross_sell.transitions.top", first=top["first"], next=top["top_next"], share=pct(top["top_next_share"]))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Heat map of the row shares."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(6.5, 5.2))
        sns.heatmap(self.shares(), annot=True, fmt=".0%", cmap="Blues", cbar=False, ax=ax)
        ax.set_xlabel(t("cross_sell.transitions.plot.second"))
        ax.set_ylabel(t("cross_sell.transitions.plot.first"))
        ax.set_title(t("cross_sell.transitions.plot.title"))
        return ax

    def __repr__(self) -> str:
        return f"Transitions(items={len(self.counts)}, customers={self.info['n_customers']:,})"


def category_transitions(baskets: BasketLines, *, con: ibis.BaseBackend | None = None) -> Transitions:
    """First -> second purchase matrix: each customer's first and second purchase orders, each order
    taken as its largest line's item.

    Parameters
    ----------
    baskets : BasketLines
        Usually at category level.
    con : Ibis backend, optional

    Returns
    -------
    Transitions

    Raises
    ------
    AnalysisError
        No customer has a second purchase order.
    """
    con = con or engine.connect(threads=1)
    li = engine.as_table(con, baskets.lines[["order_id", "customer_id", "order_time", "item", "value"]])
    w = ibis.window(group_by=li.order_id, order_by=[ibis.desc(li.value), li.item])
    main = li.mutate(rk=ibis.row_number().over(w)).filter(ibis._.rk == 0)
    w2 = ibis.window(group_by=main.customer_id, order_by=[main.order_time, main.order_id])
    seq = main.mutate(k=ibis.row_number().over(w2)).filter(ibis._.k <= 1)
    a = seq.filter(seq.k == 0).select(cust="customer_id", first="item")
    b = seq.filter(seq.k == 1).select("customer_id", second="item")
    pair = a.join(b, a.cust == b.customer_id).group_by(["first", "second"]).agg(customers=ibis._.count())
    df = pair.to_pyarrow().to_pandas()
    if df.empty:
        raise AnalysisError(f"{baskets.source}: no customer has a second purchase order, so there is no next purchase")
    counts = df.pivot_table(index="first", columns="second", values="customers", aggfunc="sum", fill_value=0)
    items = sorted(set(counts.index) | set(counts.columns))
    counts = counts.reindex(index=items, columns=items, fill_value=0).astype("int64")
    counts.index.name, counts.columns.name = "first", "second"
    return Transitions(counts=counts, info={"n_customers": int(counts.to_numpy().sum()), "level": baskets.level})
