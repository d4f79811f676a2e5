"""Next best category per customer, ranked by expected value, as a CRM-ready list
(:func:`next_best_offers`, :class:`NextBestList`).

For every customer and every item they have not bought yet: P(buys it) is the highest confidence
of a significant single-item rule "X -> item" whose X they have bought; the expected value is that
probability times the item's mean line value. Each customer gets the item of highest expected
value; the list is sorted by it. Keys are pseudonymized (HMAC with the run's salt) unless raw keys
are allowed; customers whose ``marketing_consent`` is false are never listed (counted), unknown
consent is listed and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.cross_sell.lines import BasketLines
from workbench.cross_sell.rules import BasketRules
from workbench.data.consent import consent_by_customer
from workbench.report.fmt import count, money, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["NextBestList", "next_best_offers"]


@dataclass(frozen=True, eq=False, repr=False)
class NextBestList(Result):
    """The next-best-offer list (see :func:`next_best_offers`).

    Attributes
    ----------
    export : pandas.DataFrame
        The CRM import: ``rank``, ``customer_key`` (or ``customer_id`` with raw keys), ``offer``,
        ``p_buy``, ``item_value``, ``expected_value``, ``because`` (the item bought that makes the
        offer), ``marketing_consent`` when known.
    info : dict
        Counts: customers with an offer, excluded for no consent, unknown consent, key kind.
    """

    export: pd.DataFrame
    info: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """Per offered item: ``offer``, ``customers``, ``mean_p``, ``expected_value`` (sum)."""
        g = self.export.groupby("offer", observed=True)
        out = pd.DataFrame({"customers": g.size(), "mean_p": g["p_buy"].mean(), "expected_value": g["expected_value"].sum()})
        return out.sort_values("expected_value", ascending=False).reset_index()

    def to_frame(self) -> pd.DataFrame:
        """The CRM import frame."""
        return self.export.copy()

    def metrics(self) -> dict[str, Any]:
        """Counts and totals (JSON-able)."""
        return {**self.info, "expected_value_total": num(float(self.export["expected_value"].sum())),
                "offers": {r.offer: int(r.customers) for r in self.summary().itertuples()}}

    def finding(self) -> str:
        """Who gets which offer and what it is worth, in words."""
        i = self.info
        s = self.summary()
        text = t("cross_sell.next_best.finding", n=count(i["on_list"]), scored=count(i["customers"]),
                 value=money(float(self.export["expected_value"].sum())))
        if len(s):
            top = s.iloc[0]
            text += t("cross_sell.next_best.top", offer=top["offer"], n=count(top["customers"]), p=pct(top["mean_p"]))
        if i["no_consent"]:
            text += t("cross_sell.next_best.consent", n=count(i["no_consent"]))
        if i["unknown_consent"]:
            text += t("cross_sell.next_best.unknown", n=count(i["unknown_consent"]))
        return text + t(f"cross_sell.next_best.keys.{i['key_kind']}")

    def plot(self, ax: Any = None) -> Any:
        """Expected value by offered item."""
        s = self.summary().head(15).iloc[::-1]
        ax = new_axes(ax, figsize=(6.5, 0.35 * max(len(s), 3) + 1.2))
        ax.barh(s["offer"].astype(str), s["expected_value"], color="C2")
        ax.set_xlabel(t("cross_sell.next_best.plot.xlabel"))
        ax.set_title(t("cross_sell.next_best.plot.title"))
        return ax

    def __repr__(self) -> str:
        return f"NextBestList(on_list={self.info['on_list']:,}, key={self.info['key_kind']!r})"


def next_best_offers(
    rules: BasketRules,
    baskets: BasketLines,
    *,
    customers: pd.DataFrame | None = None,
    salt: str,
    allow_raw_keys: bool = False,
    min_confidence: float = 0.05,
    top_n: int | None = None,
) -> NextBestList:
    """The next best item per customer from the rules (see module docstring).

    Parameters
    ----------
    rules : BasketRules
        At the level of the offers (usually category).
    baskets : BasketLines
        The same level: who bought what, and each item's mean line value.
    customers : pandas.DataFrame, optional
        With ``marketing_consent`` (bool; missing = unknown).
    salt : str
        Pseudonym key (``privacy.salt``).
    allow_raw_keys : bool, default False
    min_confidence : float, default 0.05
    top_n : int, optional

    Returns
    -------
    NextBestList

    Raises
    ------
    AnalysisError
        No significant single-item rule reaches ``min_confidence``.
    """
    r = rules.significant()
    r = r[(r["size"] == 2) & (r["confidence"] >= min_confidence)][["antecedent", "consequent", "confidence"]]
    if r.empty:
        raise AnalysisError(
            f"no significant rule X -> Y reaches next_best.min_confidence={min_confidence} at {baskets.level} "
            "level, so there is nothing to offer; lower next_best.min_confidence= or basket.min_count="
        )
    lines = baskets.lines
    bought = lines[["customer_id", "item"]].drop_duplicates()
    value = lines.groupby("item", observed=True)["value"].mean()
    cand = bought.merge(r, left_on="item", right_on="antecedent")
    cand = cand.merge(bought.rename(columns={"item": "consequent"}).assign(_has=True), on=["customer_id", "consequent"],
                      how="left")
    cand = cand[cand["_has"].isna()]
    cand = cand.sort_values("confidence", ascending=False, kind="stable").drop_duplicates(["customer_id", "consequent"])
    cand = cand.assign(item_value=cand["consequent"].map(value).to_numpy(dtype=float))
    cand["expected_value"] = cand["confidence"] * cand["item_value"]
    best = cand.sort_values(["expected_value", "customer_id"], ascending=[False, True], kind="stable")
    best = best.drop_duplicates("customer_id")
    out = pd.DataFrame({"customer_id": best["customer_id"].to_numpy(), "offer": best["consequent"].to_numpy(),
                        "p_buy": best["confidence"].to_numpy(), "item_value": best["item_value"].to_numpy(),
                        "expected_value": best["expected_value"].to_numpy(), "because": best["antecedent"].to_numpy()})
    no_consent = unknown = 0
    consent = consent_by_customer(customers)
    if consent is not None:
        flag = out["customer_id"].astype("string").map(consent).astype("boolean")
        no_consent = int(flag.eq(False).fillna(False).sum())
        out = out.assign(marketing_consent=flag)[~flag.eq(False).fillna(False).to_numpy(dtype=bool)]
        unknown = int(out["marketing_consent"].isna().sum())
    if top_n is not None:
        out = out.head(top_n)
    n_cust = int(bought["customer_id"].nunique())
    if allow_raw_keys:
        key_kind = "raw"
    else:
        from workbench.core.privacy import pseudonymize

        out.insert(0, "customer_key", pseudonymize(out["customer_id"], salt=salt).to_numpy())
        out = out.drop(columns="customer_id")
        key_kind = "pseudonym"
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    info = {"customers": n_cust, "on_list": int(len(out)), "no_consent": no_consent, "unknown_consent": unknown,
            "key_kind": key_kind, "level": baskets.level, "min_confidence": float(min_confidence),
            "share_on_list": float(len(out) / n_cust) if n_cust else 0.0}
    return NextBestList(export=out.reset_index(drop=True), info=info)


