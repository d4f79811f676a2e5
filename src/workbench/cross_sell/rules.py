"""Frequent itemsets and association rules: :func:`association_rules` and :class:`BasketRules`.

Item, pair and triple counts are Ibis expressions run in the engine (DuckDB by default, Spark with
``engine.backend: spark``), so ten million lines never pass through pandas; only the frequent
itemsets (a few thousand rows) come back. Per rule: support, confidence, lift with a 95 % interval
(log scale: Poisson count of the itemset, margins fixed), conviction, leverage, and a one-sided Fisher exact test of positive
association (the hypergeometric tail of the 2x2 table), corrected across all rules (Holm or
Benjamini-Hochberg).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

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
from workbench.stats import holm

__all__ = ["BasketRules", "association_rules", "frequent_itemsets", "bh"]

SEP = " + "


def bh(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (step-up, monotone, capped at 1).

    Examples
    --------
    >>> bh(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    adj = p[order] * n / np.arange(1, n + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(adj, 1.0)
    return out


def frequent_itemsets(
    lines: pd.DataFrame | Any, *, min_count: int, max_len: int = 3, con: ibis.BaseBackend | None = None
) -> tuple[pd.DataFrame, int]:
    """Itemsets held by at least ``min_count`` baskets, counted in the engine.

    Parameters
    ----------
    lines : pandas.DataFrame or ibis Table
        ``order_id``, ``item`` (duplicates allowed).
    min_count : int
    max_len : {2, 3}
    con : Ibis backend, optional

    Returns
    -------
    (DataFrame, int)
        ``item_a``, ``item_b`` (or missing), ``item_c`` (or missing), ``n`` (baskets), sorted; and
        the number of baskets.
    """
    con = con or engine.connect(threads=1)
    t = engine.as_table(con, lines[["order_id", "item"]] if isinstance(lines, pd.DataFrame) else lines)
    t = t.select(order_id=t.order_id.cast("string"), item=t.item.cast("string")).distinct()
    n_baskets = int(t.order_id.nunique().to_pyarrow().as_py())
    singles = t.group_by("item").agg(n=t.count()).filter(lambda s: s.n >= min_count)
    keep = t.semi_join(singles, "item")
    a = keep.rename(item_a="item")
    b = keep.rename(order_b="order_id", item_b="item")
    pairs = (
        a.join(b, [a.order_id == b.order_b, a.item_a < b.item_b])
        .group_by(["item_a", "item_b"]).agg(n=ibis._.count()).filter(ibis._.n >= min_count)
    )
    frames = [_fetch(singles.rename(item_a="item")), _fetch(pairs)]
    if max_len >= 3 and len(frames[1]):
        c = keep.rename(order_c="order_id", item_c="item")
        pair_items = engine.as_table(con, frames[1][["item_a", "item_b"]])
        ab = a.join(b, [a.order_id == b.order_b, a.item_a < b.item_b]).select("order_id", "item_a", "item_b")
        ab = ab.semi_join(pair_items, ["item_a", "item_b"])
        triples = (
            ab.join(c, [ab.order_id == c.order_c, ab.item_b < c.item_c])
            .group_by(["item_a", "item_b", "item_c"]).agg(n=ibis._.count()).filter(ibis._.n >= min_count)
        )
        frames.append(_fetch(triples))
    out = pd.concat(frames, ignore_index=True)
    for col in ("item_a", "item_b", "item_c"):
        if col not in out:
            out[col] = pd.NA
    out = out[["item_a", "item_b", "item_c", "n"]].astype({"n": "int64"})
    return out.sort_values(["item_a", "item_b", "item_c"], na_position="first").reset_index(drop=True), n_baskets


def _fetch(expr: Any) -> pd.DataFrame:
    return expr.to_pyarrow().to_pandas()


def _rule_rows(sets: pd.DataFrame, n: int) -> pd.DataFrame:
    """Every rule X -> Y of each frequent itemset of two or three items (Y non-empty)."""
    key = {}
    for r in sets.itertuples(index=False):
        items = tuple(x for x in (r.item_a, r.item_b, r.item_c) if isinstance(x, str))
        key[frozenset(items)] = int(r.n)
    rows = []
    for items, n_xy in key.items():
        if len(items) < 2:
            continue
        for k in range(1, len(items)):
            for ante in combinations(sorted(items), k):
                cons = tuple(sorted(items - set(ante)))
                n_x, n_y = key.get(frozenset(ante)), key.get(frozenset(cons))
                if n_x is None or n_y is None:
                    continue
                rows.append((SEP.join(ante), SEP.join(cons), len(items), n_xy, n_x, n_y))
    return pd.DataFrame(rows, columns=["antecedent", "consequent", "size", "n_both", "n_antecedent", "n_consequent"])


def _metrics(r: pd.DataFrame, n: int) -> pd.DataFrame:
    from scipy.stats import hypergeom, norm

    nxy, nx, ny = (r[c].to_numpy(dtype=float) for c in ("n_both", "n_antecedent", "n_consequent"))
    sx, sy, sxy = nx / n, ny / n, nxy / n
    conf = nxy / nx
    lift = conf / sy
    with np.errstate(divide="ignore", invalid="ignore"):
        conviction = np.where(conf < 1, (1 - sy) / (1 - conf), np.inf)
        se = np.sqrt(np.clip(1 / nxy - 1 / n, 0, None))
    z = norm.ppf(0.975)
    p = hypergeom.sf(nxy - 1, n, nx, ny)
    return r.assign(
        support=sxy, confidence=conf, lift=lift, lift_low=lift * np.exp(-z * se), lift_high=lift * np.exp(z * se),
        leverage=sxy - sx * sy, conviction=conviction, antecedent_support=sx, consequent_support=sy,
        p_value=p,
    )


def _productive(rules: pd.DataFrame) -> pd.DataFrame:
    """Flag ``productive``: a pair rule always; a rule of three items only when the lower bound of
    its lift interval exceeds the lift of every pair rule x -> y inside it (x in its antecedent,
    y in its consequent), so a third item that adds nothing does not make a "new" rule."""
    pair = {(r.antecedent, r.consequent): r.lift for r in rules[rules["size"] == 2].itertuples()}
    ok = []
    for r in rules.itertuples():
        if r.size == 2:
            ok.append(True)
            continue
        subs = [pair.get((x, y), np.inf) for x in r.antecedent.split(SEP) for y in r.consequent.split(SEP)]
        ok.append(bool(r.lift_low > max(subs)))
    return rules.assign(productive=ok)


@dataclass(frozen=True, eq=False, repr=False)
class BasketRules(Result):
    """Association rules of the baskets (see :func:`association_rules`).

    Attributes
    ----------
    rules : pandas.DataFrame
        One row per rule: ``antecedent``, ``consequent``, ``size``, counts, ``support``,
        ``confidence``, ``lift`` with ``lift_low``/``lift_high``, ``leverage``, ``conviction``,
        ``p_value`` (one-sided Fisher exact), ``p_adj``, ``productive`` (a three-item rule that
        beats its pair rules), ``significant``; strongest lift first.
    itemsets : pandas.DataFrame
        Frequent itemsets with their counts and support.
    info : dict
        Baskets, items, level, thresholds, correction, alpha.
    """

    rules: pd.DataFrame
    itemsets: pd.DataFrame
    info: dict[str, Any]

    def significant(self) -> pd.DataFrame:
        """Rules with lift above 1 whose corrected p-value is below ``alpha``."""
        return self.rules[self.rules["significant"]]

    def summary(self) -> pd.DataFrame:
        """The ``top`` significant rules: ``antecedent``, ``consequent``, ``n_both``, ``support``,
        ``confidence``, ``lift`` (with interval), ``conviction``, ``leverage``, ``p_adj``."""
        cols = ["antecedent", "consequent", "n_both", "support", "confidence", "lift", "lift_low", "lift_high",
                "conviction", "leverage", "p_adj"]
        return self.significant().head(self.info["top"])[cols].reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """Every rule tested."""
        return self.rules.copy()

    def top_consequent(self) -> str:
        """The consequent of the strongest significant single-item rule (the default propensity target).

        Raises
        ------
        AnalysisError
            No significant rule: name a target with propensity.target=.
        """
        s = self.significant()
        s = s[s["size"] == 2]
        if s.empty:
            raise AnalysisError("no significant basket rule to take a propensity target from; set propensity.target=")
        return str(s.iloc[0]["consequent"])

    def rule(self, antecedent: str, consequent: str) -> pd.Series | None:
        """The row of one rule, or ``None`` when it was not frequent enough."""
        m = self.rules[(self.rules["antecedent"] == antecedent) & (self.rules["consequent"] == consequent)]
        return None if m.empty else m.iloc[0]

    def metrics(self) -> dict[str, Any]:
        """Counts and the top rules (JSON-able)."""
        top = self.significant().head(self.info["top"])
        return {
            **{k: (num(v) if isinstance(v, float) else v) for k, v in self.info.items()},
            "n_rules": int(len(self.rules)),
            "n_significant": int(self.rules["significant"].sum()),
            "top_rules": {f"{r.antecedent} -> {r.consequent}": {"lift": num(r.lift), "confidence": num(r.confidence),
                                                                 "support": num(r.support), "p_adj": num(r.p_adj)}
                          for r in top.itertuples()},
        }

    def finding(self) -> str:
        """How many rules hold and the strongest, in words."""
        i = self.info
        sig = self.significant()
        text = t("cross_sell.rules.counts", baskets=count(i["n_baskets"]), items=count(i["n_items"]),
                 multi=pct(i["multi_item_share"]), rules=count(len(self.rules)), significant=count(len(sig)),
                 correction=t(f"cross_sell.rules.correction.{i['correction']}"))
        if len(sig):
            r = sig.iloc[0]
            text += t("cross_sell.rules.top", antecedent=r.antecedent, consequent=r.consequent,
                      confidence=pct(r.confidence), base=pct(r.consequent_support), lift=f"{r.lift:.2f}",
                      low=f"{r.lift_low:.2f}", high=f"{r.lift_high:.2f}", n=count(r.n_both))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Lift of the top significant rules with 95 % intervals (log scale)."""
        top = self.significant().head(self.info["top"]).iloc[::-1]
        ax = new_axes(ax, figsize=(7, 0.35 * max(len(top), 3) + 1.2))
        labels = [f"{a} → {c}" for a, c in zip(top["antecedent"], top["consequent"], strict=True)]
        ax.hlines(labels, top["lift_low"], top["lift_high"], color="C0", lw=2)
        ax.scatter(top["lift"], labels, color="C0", zorder=3)
        ax.axvline(1, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(t("cross_sell.rules.plot.xlabel"))
        ax.set_title(t("cross_sell.rules.plot.title"))
        return ax

    def __repr__(self) -> str:
        return f"BasketRules(baskets={self.info['n_baskets']:,}, rules={len(self.rules):,}, significant={int(self.rules['significant'].sum()):,})"


def association_rules(
    baskets: BasketLines,
    *,
    min_support: float = 0.001,
    min_count: int = 20,
    min_confidence: float = 0.05,
    max_len: int = 3,
    alpha: float = 0.05,
    correction: Literal["holm", "bh"] = "holm",
    top: int = 15,
    con: ibis.BaseBackend | None = None,
) -> BasketRules:
    """Frequent itemsets (support at least ``min_support`` and ``min_count`` baskets) and the rules
    between them, each tested and the tests corrected across rules.

    Parameters
    ----------
    baskets : BasketLines
        From :func:`~workbench.cross_sell.basket_lines`.
    min_support, min_count : float, int
        An itemset is frequent when held by at least ``max(min_count, ceil(min_support * baskets))``
        baskets.
    min_confidence : float
        Rules below this confidence are dropped before testing.
    max_len : {2, 3}
    alpha : float
        Significance level after the correction.
    correction : {'holm', 'bh'}
    top : int
        Rules in the summary and chart.
    con : Ibis backend, optional

    Returns
    -------
    BasketRules

    Raises
    ------
    AnalysisError
        Every basket holds a single item; no itemset reaches the minimum count.
    """
    lines = baskets.lines
    n_baskets = baskets.n_baskets
    sizes = lines.groupby("order_id", observed=True)["item"].nunique()
    multi = float((sizes >= 2).mean()) if len(sizes) else 0.0
    if multi == 0:
        raise AnalysisError(
            f"{baskets.source}: all {n_baskets:,} baskets hold a single {baskets.level} (no order has two "
            "different items), so nothing is bought together - use order_items with several lines per order, "
            "or level=product"
        )
    threshold = max(int(min_count), int(math.ceil(min_support * n_baskets - 1e-9)))
    sets, n = frequent_itemsets(lines, min_count=threshold, max_len=max_len, con=con)
    rules = _rule_rows(sets, n)
    if rules.empty:
        pair_max = int(sizes.max()) if len(sizes) else 0
        raise AnalysisError(
            f"{baskets.source}: no pair of {baskets.level}s is bought together in at least {threshold:,} of "
            f"{n_baskets:,} baskets (basket.min_count={min_count}, basket.min_support={min_support}; largest "
            f"basket {pair_max} items) - lower basket.min_count= / basket.min_support=, or use level=category"
        )
    rules = _metrics(rules, n)
    rules = _productive(rules[rules["confidence"] >= min_confidence].copy())
    rules["p_adj"] = holm(rules["p_value"].to_numpy()) if correction == "holm" else bh(rules["p_value"].to_numpy())
    rules["significant"] = (rules["p_adj"] < alpha) & (rules["lift"] > 1) & rules["productive"]
    rules = rules.sort_values(["significant", "lift", "n_both"], ascending=[False, False, False], kind="stable")
    sets = sets.assign(support=sets["n"] / n)
    info = {"n_baskets": int(n), "n_items": baskets.n_items, "level": baskets.level, "source": baskets.source,
            "multi_item_share": multi, "min_count": threshold, "min_support": float(min_support),
            "min_confidence": float(min_confidence), "max_len": int(max_len), "correction": correction,
            "alpha": float(alpha), "top": int(top), "test": "one-sided Fisher exact"}
    return BasketRules(rules=rules.reset_index(drop=True), itemsets=sets, info=info)
