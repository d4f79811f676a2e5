"""The report's key findings (:func:`key_findings`) and, on synthetic data, the check of the
planted rules against what the analysis recovered (:func:`planted_check`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.cross_sell.lines import BasketLines
from workbench.cross_sell.next_best import NextBestList
from workbench.cross_sell.propensity import PropensityModel
from workbench.cross_sell.rules import BasketRules
from workbench.cross_sell.sequences import SequenceRules, Transitions
from workbench.report.fmt import count, money, num, pct
from workbench.report.i18n import category, t
from workbench.report.results import Result
from workbench.report.summary import KeyFinding

__all__ = ["PlantedCheck", "default_target", "key_findings", "planted_check"]


def default_target(rules: BasketRules | None, baskets: BasketLines) -> str:
    """The propensity target when ``propensity.target`` is not set: the consequent of the strongest
    significant single-item rule, else the item in most baskets."""
    sig = rules.significant() if rules is not None else None
    if sig is not None and (sig["size"] == 2).any():
        return rules.top_consequent()
    return baskets.top_item()


def key_findings(
    *,
    rules: BasketRules | None = None,
    sequences: SequenceRules | None = None,
    transitions: Transitions | None = None,
    propensity: PropensityModel | None = None,
    lookalike: PropensityModel | None = None,
    offers: NextBestList | None = None,
) -> list[KeyFinding | None]:
    """Three to six key findings of the cross-sell analysis, in the run's language.

    The strongest significant basket rule; the strongest sequence with its timing; the
    propensity model against the recency-frequency baseline; the look-alike model; the
    next-best-offer list. ``None`` for a section that did not run or found nothing.

    Returns
    -------
    list of KeyFinding or None
    """
    return [
        _rule(rules) if rules is not None else None,
        _sequence(sequences) if sequences is not None else None,
        _model(propensity, "propensity") if propensity is not None else None,
        _model(lookalike, "lookalike") if lookalike is not None else None,
        _offers(offers) if offers is not None else None,
    ]


def _rule(rules: BasketRules) -> KeyFinding | None:
    sig = rules.significant()
    if sig.empty:
        return None
    r = sig.iloc[0]
    return KeyFinding(
        t("cross_sell.summary.rule", antecedent=r.antecedent, consequent=r.consequent, lift=f"{r.lift:.1f}",
          low=f"{r.lift_low:.1f}", high=f"{r.lift_high:.1f}", confidence=pct(r.confidence)),
        t("cross_sell.summary.rule_action", antecedent=r.antecedent, consequent=r.consequent),
    )


def _sequence(seq: SequenceRules) -> KeyFinding | None:
    s = seq.summary()
    s = s[s["first"] != s["then"]]
    if s.empty:
        return None
    r = s.iloc[0]
    return KeyFinding(
        t("cross_sell.summary.sequence", first=r["first"], then=r["then"], days=seq.info["within_days"],
          rate=pct(r["rate"]), lift=f"{r['lift']:.1f}", median=f"{r['median_days']:.0f}"),
        t("cross_sell.summary.sequence_action", first=r["first"], then=r["then"], median=f"{r['median_days']:.0f}"),
    )


def _model(m: PropensityModel, kind: str) -> KeyFinding:
    b = m.baseline
    tab = m.evaluation.table.set_index("model").loc[m.best]
    lt = m.evaluation.lift
    top = lt[lt["model"] == m.best].iloc[0]
    what = t(f"cross_sell.propensity.mode.{m.info['mode']}", target=m.info["target_text"], days=m.info["horizon_days"])
    return KeyFinding(
        t("cross_sell.summary.model", what=what, auc=f"{tab['roc_auc']:.3f}", baseline=f"{b['auc_baseline']:.3f}",
          diff=f"{b['diff']:+.3f}", low=f"{b['diff_low']:+.3f}", high=f"{b['diff_high']:+.3f}", lift=f"{top['lift']:.1f}"),
        t(f"cross_sell.summary.{kind}_action", n=count(max(1, len(m.scores) // 10))),
    )


def _offers(o: NextBestList) -> KeyFinding:
    return KeyFinding(
        t("cross_sell.summary.offers", n=count(o.info["on_list"]), value=money(float(o.export["expected_value"].sum()))),
        t("cross_sell.summary.offers_action"),
    )


@dataclass(frozen=True, eq=False, repr=False)
class PlantedCheck(Result):
    """Planted rules of the synthetic generator next to the estimates (see :func:`planted_check`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``check``, ``rule``, ``planted``, ``estimate``, ``ci_low``, ``ci_high``, ``recovered``.
    """

    table: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """The table, the check named in the reader's language."""
        return self.table.assign(check=self.table["check"].map(lambda c: category("cross_sell_check", c)))

    def metrics(self) -> dict[str, Any]:
        """Planted, estimated, recovered per check (JSON-able)."""
        return {r.check: {"planted": num(r.planted), "estimate": num(r.estimate), "recovered": bool(r.recovered)}
                for r in self.table.itertuples()}

    def finding(self) -> str:
        """How many planted rules were recovered."""
        return t("cross_sell.planted.finding", n=int(self.table["recovered"].sum()), total=len(self.table))

    def __repr__(self) -> str:
        return f"PlantedCheck(checks={len(self.table)}, recovered={int(self.table['recovered'].sum())})"


def planted_check(
    truth: dict[str, Any] | None,
    *,
    rules: BasketRules | None = None,
    sequences: SequenceRules | None = None,
    lookalike: PropensityModel | None = None,
) -> PlantedCheck | None:
    """The generator's planted rules (``ground_truth.json`` -> ``baskets``) against the estimates:
    basket lift inside its interval, sequence rule significant with its median delay within 2 days
    of the planted one, look-alike AUC above the baseline. ``None`` without truth."""
    b = (truth or {}).get("baskets")
    if not b:
        return None
    rows = []
    br = b["basket_rule"]
    r = rules.rule(br["antecedent"], br["consequent"]) if rules is not None else None
    if rules is not None:
        est = (float(r.lift), float(r.lift_low), float(r.lift_high)) if r is not None else (np.nan, np.nan, np.nan)
        rows.append({"check": "basket_lift", "rule": f"{br['antecedent']} → {br['consequent']}", "planted": br["lift"],
                     "estimate": est[0], "ci_low": est[1], "ci_high": est[2],
                     "recovered": bool(r is not None and r.lift_low <= br["lift"] <= r.lift_high and r.significant)})
    sq = b["sequence"]
    s = sequences.rule(sq["first"], sq["then"]) if sequences is not None else None
    if s is not None and sq.get("median_days") is not None:
        rows.append({"check": "sequence_delay", "rule": f"{sq['first']} → {sq['then']}", "planted": sq["median_days"],
                     "estimate": float(s["median_days"]), "ci_low": np.nan, "ci_high": np.nan,
                     "recovered": bool(s["significant"] and abs(s["median_days"] - sq["median_days"]) <= 2)})
    if lookalike is not None:
        bl = lookalike.baseline
        rows.append({"check": "lookalike_auc", "rule": " / ".join(b["life_event"]["signals"]),
                     "planted": np.nan, "estimate": float(bl["diff"]), "ci_low": float(bl["diff_low"]),
                     "ci_high": float(bl["diff_high"]), "recovered": bool(bl["diff_low"] > 0)})
    return PlantedCheck(table=pd.DataFrame(rows)) if rows else None
