"""Propensity for a target event and the look-alike of seed customers, on the shared time-safe scorer
(:mod:`workbench.modeling.propensity`): :func:`propensity_frame`, :func:`fit_propensity`,
:class:`PropensityModel`.

Out of time: the model is trained on customers as they were at ``as_of - 2 h`` with the target in
the next ``h`` days, tested on customers as they were at ``as_of - h`` with the target in the
``h`` days up to ``as_of``, and then scores the base at ``as_of``. Features: recency, frequency,
spend, tenure, purchase gaps and how often each of the top items was bought. The baseline is a
logistic model on recency and frequency alone, fitted on the same rows; the AUC difference gets a
paired bootstrap interval on the held-out rows.

Look-alike mode (``new_only=True``): the target is the first purchase of any seed item; only
customers who never bought one are in the frames, so the model learns what the seeds looked like
*before* they became seeds and scores who resembles them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, did_you_mean
from workbench.cross_sell.lines import BasketLines
from workbench.data import engine
from workbench.data.features import customer_features
from workbench.modeling.propensity import (
    Features,
    PropensityScorer,
    ScorerEvaluation,
    Wording,
    auc_difference,
    evaluate_scorer,
    lift_table,
    top_contributions,
)
from workbench.modeling.propensity.common import short_number
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["PropensityModel", "PropensityScorerXS", "fit_propensity", "propensity_frame"]

BASE_FEATURES = ("recency_days", "n_orders", "monetary_sum", "monetary_mean", "tenure_days", "gap_mean_days")
BASELINE_FEATURES = ("recency_days", "n_orders")
ITEM_PREFIX = "n_item_"


class PropensityScorerXS(PropensityScorer):
    """The shared scorer with the cross-sell words in its messages."""

    wording: Wording = Wording(
        noun="propensity", label_kind="0/1 target label", positive="buyers", negative="non-buyers",
        label_option="propensity.target=", window_option="a longer propensity.horizon_days= window",
        options="propensity.", unseen_key="cross_sell.propensity.warn.unseen",
    )


def _items_before(lines: pd.DataFrame, day_end: pd.Timestamp, items: Sequence[str]) -> pd.DataFrame:
    past = lines[(lines["order_time"] < day_end) & lines["item"].isin(items)]
    wide = past.groupby(["customer_id", "item"], observed=True).size().unstack(fill_value=0)
    wide = wide.reindex(columns=list(items), fill_value=0)
    wide.columns = [f"{ITEM_PREFIX}{i}" for i in range(len(items))]
    return wide


def propensity_frame(
    baskets: BasketLines,
    orders: pd.DataFrame,
    *,
    cutoff: pd.Timestamp,
    horizon_days: int,
    target: Sequence[str] | str,
    items: Sequence[str],
    new_only: bool = False,
    events: pd.DataFrame | None = None,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """One row per customer with a purchase up to ``cutoff``: features as of ``cutoff`` and
    ``target`` (0/1: the target happened in the ``horizon_days`` after it).

    Parameters
    ----------
    baskets : BasketLines
    orders : pandas.DataFrame
        Canonical orders (features).
    cutoff : Timestamp
    horizon_days : int
    target : str or sequence of str
        Items at the baskets' level, or ``"event:<event_name>"`` (needs ``events``).
    items : sequence of str
        Items whose past purchase counts are features (column ``n_item_<k>``, k = position).
    new_only : bool, default False
        Keep only customers who never bought a target item up to ``cutoff`` (look-alike).
    events, customers : pandas.DataFrame, optional
    con : Ibis backend, optional

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, the features, ``target``.
    """
    con = con or engine.connect(threads=1)
    cutoff = pd.Timestamp(cutoff).normalize()
    day_end = cutoff + pd.Timedelta(days=1)  # features: up to the end of the cut-off day; target: after it
    orders_before = orders[orders["order_time"] < day_end]
    feats = customer_features(orders_before, as_of=cutoff.date(), customers=None, con=con)
    feats = feats[feats["n_orders"] > 0].set_index("customer_id")
    fr = feats[[c for c in BASE_FEATURES if c in feats.columns]].copy()
    fr = fr.join(_items_before(baskets.lines, day_end, items), how="left").fillna(
        {f"{ITEM_PREFIX}{i}": 0 for i in range(len(items))})
    end = day_end + pd.Timedelta(days=horizon_days)
    if isinstance(target, str) and target.startswith("event:"):
        name = target.split(":", 1)[1]
        ev = events[(events["event_name"] == name) & (events["event_time"] >= day_end) & (events["event_time"] < end)]
        hit = set(ev["customer_id"])
        before: set[Any] = set()
    else:
        tg = [target] if isinstance(target, str) else list(target)
        li = baskets.lines[baskets.lines["item"].isin(tg)]
        hit = set(li.loc[(li["order_time"] >= day_end) & (li["order_time"] < end), "customer_id"])
        before = set(li.loc[li["order_time"] < day_end, "customer_id"])
    if new_only:
        fr = fr[~fr.index.isin(before)]
    fr["target"] = fr.index.isin(hit).astype("int64")
    return fr.reset_index()


@dataclass(frozen=True, eq=False, repr=False)
class PropensityModel(Result):
    """A fitted propensity (or look-alike) model, its out-of-time evaluation and today's scores.

    Attributes
    ----------
    estimator : PropensityScorer
        Fitted (``estimator.models_``, ``estimator.design_`` ...).
    evaluation : ScorerEvaluation
        Held-out figures of both models.
    baseline : dict
        AUC of the recency-frequency baseline and the difference (best model - baseline) with its
        paired bootstrap interval.
    scores : pandas.DataFrame
        The base at ``as_of``: ``customer_id``, ``p_target``, ``reason_1..3`` (highest first).
    info : dict
        Mode, target, horizon, cut-offs, item names of the item features.
    """

    estimator: PropensityScorer
    evaluation: ScorerEvaluation
    baseline: dict[str, Any]
    scores: pd.DataFrame
    info: dict[str, Any]

    @property
    def best(self) -> str:
        """Gradient boosting when its AUC is clearly higher than the logistic model's, else logistic."""
        return "hgb" if self.evaluation.comparison.get("diff_low", -1) > 0 else "logistic"

    def summary(self) -> pd.DataFrame:
        """Per model and the baseline: ``model``, ``roc_auc`` (with interval), ``pr_auc``,
        ``target_rate`` (base rate of the held-out rows), ``brier_skill``, ``top_decile_lift``."""
        tab = self.evaluation.table
        cols = ["model", "roc_auc", "roc_auc_low", "roc_auc_high", "pr_auc", "base_rate", "brier_skill", "top_decile_lift"]
        b = self.baseline
        base = pd.DataFrame([{"model": "baseline", "roc_auc": b["auc_baseline"], "roc_auc_low": np.nan,
                              "roc_auc_high": np.nan, "pr_auc": np.nan, "base_rate": tab["base_rate"].iloc[0],
                              "brier_skill": np.nan, "top_decile_lift": b["baseline_top_decile_lift"]}])
        out = pd.concat([tab[cols], base], ignore_index=True).rename(columns={"base_rate": "target_rate"})
        return out.assign(model=out["model"].map(lambda m: category("propensity_model", m)))

    def to_frame(self) -> pd.DataFrame:
        """Today's scores with reasons (customer ids as in the data)."""
        return self.scores.copy()

    def metrics(self) -> dict[str, Any]:
        """AUCs, the baseline comparison and the split (JSON-able)."""
        tab = self.evaluation.table.set_index("model")
        return {
            **{k: (num(v) if isinstance(v, float) else v) for k, v in self.info.items() if k != "item_names"},
            "split": {k: (num(v) if isinstance(v, float) else v) for k, v in self.estimator.split_.items()},
            "auc": {m: num(float(tab.loc[m, "roc_auc"])) for m in tab.index},
            "best": self.best,
            "baseline": {k: num(v) if isinstance(v, float) else v for k, v in self.baseline.items() if k != "lift"},
        }

    def finding(self) -> str:
        """What the model adds over recency and frequency, in words."""
        b, i = self.baseline, self.info
        tab = self.evaluation.table.set_index("model")
        best = tab.loc[self.best]
        what = t(f"cross_sell.propensity.mode.{i['mode']}", target=i["target_text"], days=i["horizon_days"])
        text = t("cross_sell.propensity.finding", what=what, n=count(i["n_test"]), base=pct(best["base_rate"]),
                 model=category("propensity_model", self.best), auc=f"{best['roc_auc']:.3f}",
                 low=f"{best['roc_auc_low']:.3f}", high=f"{best['roc_auc_high']:.3f}",
                 baseline=f"{b['auc_baseline']:.3f}", diff=f"{b['diff']:+.3f}", dlow=f"{b['diff_low']:+.3f}",
                 dhigh=f"{b['diff_high']:+.3f}")
        key = "beats" if b["diff_low"] > 0 else "no_gain"
        lt = self.evaluation.lift
        top = lt[lt["model"] == self.best].iloc[0]
        text += t(f"cross_sell.propensity.{key}", lift=f"{top['lift']:.1f}", share=pct(top["cum_positives_share"], 0))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Cumulative gains of the best model and the baseline on the held-out rows."""
        ax = new_axes(ax, figsize=(5.6, 4.6))
        lt = self.evaluation.lift
        for name, frame in (("model", lt[lt["model"] == self.best]), ("baseline", self.baseline["lift"])):
            x = np.r_[0, frame["cum_customers_share"].to_numpy()]
            y = np.r_[0, frame["cum_positives_share"].to_numpy()]
            lab = category("propensity_model", self.best if name == "model" else "baseline")
            ax.plot(x, y, marker="o", label=lab)
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("cross_sell.propensity.plot.random"))
        ax.set_xlabel(t("cross_sell.propensity.plot.contacted"))
        ax.set_ylabel(t("cross_sell.propensity.plot.reached"))
        ax.set_title(t("cross_sell.propensity.plot.title"))
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        return f"PropensityModel(mode={self.info['mode']!r}, n_test={self.info['n_test']:,}, best={self.best!r})"


def _reason_words(feature: str, value: float, item_names: Sequence[str]) -> str:
    if feature.startswith(ITEM_PREFIX):
        return t("cross_sell.propensity.reason.item", item=item_names[int(feature[len(ITEM_PREFIX):])], n=short_number(value))
    return t(f"cross_sell.propensity.feature.{feature}", v=short_number(value))


def _scores(scorer: PropensityScorer, frame: pd.DataFrame, model: str, item_names: Sequence[str], n: int = 3) -> pd.DataFrame:
    X = scorer.design_.transform(frame, what="scoring frame", warn_unseen=False)
    p = scorer.predict_design(X, model=model)
    feats, top, vals = top_contributions(scorer, X, n=n)
    out = pd.DataFrame({"customer_id": frame["customer_id"].to_numpy(), "p_target": p})
    for r in range(top.shape[1]):
        names = np.array(feats, dtype=object)[top[:, r]]
        txt = [(_reason_words(f, float(frame[f].iloc[k]), item_names) if vals[k, r] > 1e-9 else None)
               for k, f in enumerate(names)]
        out[f"reason_{r + 1}"] = pd.array(txt, dtype="string")
    return out.sort_values("p_target", ascending=False, kind="stable").reset_index(drop=True)


def fit_propensity(
    baskets: BasketLines,
    orders: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str | None = None,
    target: Sequence[str] | str,
    horizon_days: int = 90,
    mode: Literal["propensity", "lookalike"] = "propensity",
    top_items: int = 30,
    events: pd.DataFrame | None = None,
    C: float = 1.0,
    calibrate: Literal["auto", "always", "never"] = "auto",
    bootstrap: int = 300,
    max_rows: int = 200_000,
    random_state: int | None = 42,
    con: ibis.BaseBackend | None = None,
) -> PropensityModel:
    """Fit, evaluate out of time and apply a propensity (or look-alike) model (module docstring).

    Parameters
    ----------
    baskets : BasketLines
    orders : pandas.DataFrame
    as_of : date, optional
        Default: the last order date.
    target : str or sequence of str
        Item(s) at the baskets' level (look-alike: the seed items), or ``"event:<event_name>"``.
    horizon_days : int, default 90
        Target window (look-alike: the seed window).
    mode : {'propensity', 'lookalike'}
    top_items : int, default 30
    events : pandas.DataFrame, optional
        Needed for an event target.
    C, calibrate, bootstrap, max_rows, random_state
        Options of the shared scorer and its evaluation.
    con : Ibis backend, optional

    Returns
    -------
    PropensityModel

    Raises
    ------
    AnalysisError
        Unknown target item or event; the shared scorer's checks (one class, too few rows, leakage).
    """
    lines = baskets.lines
    known = sorted(lines["item"].astype(str).unique())
    tg = [target] if isinstance(target, str) else list(target)
    is_event = len(tg) == 1 and tg[0].startswith("event:")
    if is_event:
        name = tg[0].split(":", 1)[1]
        if events is None or name not in set(events["event_name"]):
            have = [] if events is None else sorted(events["event_name"].astype(str).unique())
            raise AnalysisError(
                f"propensity.target={tg[0]!r}: events has no event_name {name!r} (event names: "
                f"{', '.join(have[:15]) or 'no events table'}){did_you_mean(name, have)}"
            )
    else:
        bad = [x for x in tg if x not in known]
        if bad:
            raise AnalysisError(
                f"propensity target {', '.join(map(repr, bad))} is not a {baskets.level} in {baskets.source} (e.g. "
                f"{', '.join(known[:10])}){did_you_mean(bad[0], known)}; fix propensity.target= / lookalike.seed_items="
            )
    as_of = pd.Timestamp(as_of) if as_of is not None else lines["order_time"].max().normalize()
    h = pd.Timedelta(days=horizon_days)
    pop = lines["item"].value_counts()
    items = [i for i in pop.index[:top_items] if (mode != "lookalike" or i not in tg)]
    kw = {"horizon_days": horizon_days, "target": tg[0] if is_event else tg, "items": items,
          "new_only": mode == "lookalike", "events": events, "con": con}
    train = propensity_frame(baskets, orders, cutoff=as_of - 2 * h, **kw)
    test = propensity_frame(baskets, orders, cutoff=as_of - h, **kw)
    now = propensity_frame(baskets, orders, cutoff=as_of, **kw)
    feats = [c for c in train.columns if c not in ("customer_id", "target") and train[c].nunique() > 1]
    spec = Features(label="target", id_column="customer_id", numeric=tuple(feats))
    scorer = PropensityScorerXS(C=C, calibrate=calibrate, max_rows=max_rows, random_state=random_state)
    scorer.fit(train, spec=spec, test=test)
    ev = evaluate_scorer(scorer, bootstrap=bootstrap, importance_sample=5000, importance_repeats=2,
                         random_state=random_state)
    base_spec = Features(label="target", id_column="customer_id", numeric=tuple(f for f in BASELINE_FEATURES if f in feats))
    base = PropensityScorerXS(C=C, calibrate="never", max_rows=max_rows, random_state=random_state)
    base.fit(train, spec=base_spec, test=test)
    p_base = base.predict_design(base.X_test_, model="logistic")
    best = "hgb" if ev.comparison.get("diff_low", -1) > 0 else "logistic"
    p_best = scorer.predict_design(scorer.X_test_, model=best)
    diff = auc_difference(scorer.y_test_, p_best, p_base, bootstrap=bootstrap, random_state=random_state)
    base_lift = lift_table(scorer.y_test_, p_base)
    baseline = {**diff, "features": list(base_spec.numeric), "lift": base_lift,
                "baseline_top_decile_lift": float(base_lift["lift"].iloc[0])}
    names = [str(i) for i in items]
    text = tg[0].split(":", 1)[1] if is_event else t("cross_sell.list_sep").join(tg)
    info = {"mode": mode, "target": tg, "target_text": text, "horizon_days": int(horizon_days),
            "as_of": str(as_of.date()), "train_cutoff": str((as_of - 2 * h).date()),
            "test_cutoff": str((as_of - h).date()), "n_train": int(len(train)), "n_test": int(len(test)),
            "n_scored": int(len(now)), "level": baskets.level, "item_names": names,
            "baseline": "logistic on recency_days and n_orders"}
    scores = _scores(scorer, now, best, names)
    return PropensityModel(estimator=scorer, evaluation=ev, baseline={k: v for k, v in baseline.items()},
                           scores=scores, info=info)
