"""Held-out performance of the churn models: :class:`ChurnEvaluation`,
:func:`evaluate_churn_models` and :func:`lift_table` (section 3 of the churn model)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn.model._common import (
    IMPORTANCE_REPEATS,
    IMPORTANCE_SAMPLE,
    MODEL_NAMES,
    auc_binary,
    equal_groups,
    model_title,
)
from workbench.churn.model.calibration import calibration_points, hosmer_lemeshow, spiegelhalter
from workbench.churn.model.design import Design
from workbench.churn.model.models import ChurnModels
from workbench.core.errors import AnalysisError
from workbench.data.threads import limit_threads
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import bootstrap_ci

__all__ = ["ChurnEvaluation", "evaluate_churn_models", "lift_table"]


def lift_table(y: Sequence[float] | np.ndarray, score: Sequence[float] | np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (decile 1 = highest scores).

    Rows are sorted by score, highest first (ties in their original order), and cut into
    ``bins`` groups of (nearly) equal size.

    Parameters
    ----------
    y : array-like
        0/1 outcomes.
    score : array-like
        Predicted risk.
    bins : int, default 10

    Returns
    -------
    pandas.DataFrame
        One row per decile: ``decile``, ``customers``, ``churners``, ``churn_rate``, ``lift``
        (rate / overall rate), ``cum_customers_share``, ``cum_churners_share`` (gain),
        ``cum_lift``.

    Examples
    --------
    >>> t = lift_table([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], bins=5)
    >>> t["churners"].tolist(), t["lift"].round(3).tolist()[:2]
    ([2, 1, 0, 0, 0], [3.333, 1.667])
    """
    y = np.asarray(y, dtype="float64")
    s = np.asarray(score, dtype="float64")
    n = len(y)
    if n == 0:
        raise AnalysisError("lift_table: no rows")
    dec = equal_groups(s, bins, descending=True)
    cnt = np.bincount(dec, minlength=bins).astype(float)
    ch = np.bincount(dec, weights=y, minlength=bins)
    base = y.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = ch / cnt
        out = pd.DataFrame(
            {
                "decile": np.arange(1, bins + 1),
                "customers": cnt.astype(np.int64),
                "churners": ch.round().astype(np.int64),
                "churn_rate": rate,
                "lift": rate / base,
                "cum_customers_share": np.cumsum(cnt) / n,
                "cum_churners_share": np.cumsum(ch) / y.sum(),
                "cum_lift": (np.cumsum(ch) / np.cumsum(cnt)) / base,
            }
        )
    return out



def _fast_auc_stat(y: np.ndarray, score: np.ndarray) -> Callable[[np.ndarray], float]:
    """AUC of a bootstrap resample from its row positions in O(n) (scores grouped once)."""
    uniq, gid = np.unique(score, return_inverse=True)
    gid = gid.ravel()
    g = len(uniq)
    pos = y.astype(bool)
    n = len(y)

    def stat(idx: np.ndarray) -> float:
        w = np.bincount(idx, minlength=n).astype(float)
        P = np.bincount(gid, weights=w * pos, minlength=g)
        N = np.bincount(gid, weights=w * ~pos, minlength=g)
        tp, tn = P.sum(), N.sum()
        if tp == 0 or tn == 0:
            return float("nan")
        below = np.cumsum(N) - N
        return float(np.sum(P * (below + 0.5 * N)) / (tp * tn))

    return stat



@dataclass(frozen=True, eq=False, repr=False)
class ChurnEvaluation(Result):
    """Held-out performance of the churn models (see :func:`evaluate_churn_models`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per model: ROC AUC with bootstrap CI, PR AUC, base rate, Brier, Brier skill, calibration.
    comparison : dict
        AUC difference (gradient boosting - logistic) with its paired bootstrap CI.
    curves : dict
        Model -> {'roc': DataFrame(fpr, tpr), 'pr': DataFrame(recall, precision)}.
    calibration : pandas.DataFrame
        Calibration curve points: ``model``, ``bin``, ``mean_predicted``, ``observed``, ``n``.
    lift : pandas.DataFrame
        :func:`lift_table` per model (column ``model``).
    importance : pandas.DataFrame
        Permutation importance on held-out rows: ``model``, ``feature``, ``auc_drop``,
        ``std``, ``ci_low``, ``ci_high``.
    info : dict
        Split, bootstrap and sample sizes.
    """

    table: pd.DataFrame
    comparison: dict[str, Any]
    curves: dict[str, dict[str, pd.DataFrame]]
    calibration: pd.DataFrame
    lift: pd.DataFrame
    importance: pd.DataFrame
    info: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """Per model: ``model`` (its name in words), ``roc_auc``, ``roc_auc_low``, ``roc_auc_high``,
        ``pr_auc``, ``base_rate``, ``brier``, ``brier_skill``, ``hl_p`` (Hosmer-Lemeshow),
        ``spiegelhalter_p``, ``calibrated``, ``top_decile_lift``."""
        return self.table.assign(model=self.table["model"].map(model_title))

    def to_frame(self) -> pd.DataFrame:
        """Lift and gains by decile for both models."""
        return self.lift.copy()

    @property
    def best(self) -> str:
        """Model to use: gradient boosting only when its AUC is clearly higher (CI of the
        difference above 0), else the explainable logistic model."""
        return "hgb" if self.comparison.get("diff_low", -1) > 0 else "logistic"

    def metrics(self) -> dict[str, Any]:
        """Per-model figures, comparison, importance (JSON-able)."""
        return {
            "models": {
                r["model"]: {k: (num(v) if not isinstance(v, (str, bool)) else v) for k, v in r.items() if k != "model"}
                for r in self.table.to_dict("records")
            },
            "comparison": {k: num(v) if isinstance(v, float) else v for k, v in self.comparison.items()},
            "best": self.best,
            "importance": {
                f"{r.model}:{r.feature}": num(r.auc_drop) for r in self.importance.itertuples()
            },
            **{k: v for k, v in self.info.items()},
        }

    def finding(self) -> str:
        """What the held-out numbers mean for targeting, in words."""
        tab = self.table.set_index("model")
        i = self.info
        lg, hg = tab.loc["logistic"], tab.loc["hgb"]
        where = t("churn.eval.where.out_of_time" if i["split"] == "out_of_time" else "churn.eval.where.holdout",
                  n=count(i["n_test"]))
        text = t("churn.eval.auc", where=where, base=pct(lg["base_rate"]), share=pct(lg["roc_auc"], 0),
                 auc=f"{lg['roc_auc']:.3f}", low=f"{lg['roc_auc_low']:.3f}", high=f"{lg['roc_auc_high']:.3f}",
                 hgb=f"{hg['roc_auc']:.3f}", hgb_low=f"{hg['roc_auc_low']:.3f}", hgb_high=f"{hg['roc_auc_high']:.3f}")
        c = self.comparison
        if c["diff_low"] > 0:
            text += t("churn.eval.compare.hgb", diff=f"{c['diff']:.3f}", low=f"{c['diff_low']:.3f}",
                      high=f"{c['diff_high']:.3f}")
        elif c["diff_high"] < 0:
            text += t("churn.eval.compare.logistic", diff=f"{c['diff']:+.3f}")
        else:
            text += t("churn.eval.compare.noise", diff=f"{c['diff']:+.3f}", low=f"{c['diff_low']:+.3f}",
                      high=f"{c['diff_high']:+.3f}")
        b = self.best
        lt = self.lift[self.lift["model"] == b]
        top, top3 = lt.iloc[0], lt.iloc[min(2, len(lt) - 1)]
        text += t("churn.eval.lift", model=model_title(b), share=pct(top["cum_churners_share"], 0),
                  lift=f"{top['lift']:.1f}", share30=pct(top3["cum_churners_share"], 0))
        bt = tab.loc[b]
        text += t("churn.eval.brier", skill=pct(bt["brier_skill"], 0))
        if bt["hl_p"] < 0.05:
            text += t("churn.eval.calibration_off", p=f"{bt['hl_p']:.3g}")
        else:
            text += t("churn.eval.calibration_ok")
        if bt["calibrated"]:
            text += t("churn.eval.recalibrated", model=model_title(b))
        imp = self.importance[self.importance["model"] == b].head(3)
        if len(imp):
            text += t("churn.eval.importance", features=t("churn.list_sep").join(
                f"{r.feature} ({r.auc_drop:.3f})" for r in imp.itertuples()))
        if i.get("n_train_used", 0) < i.get("n_train", 0):
            text += t("churn.eval.sampled", n=count(i["n_train_used"]), total=count(i["n_train"]))
        return text

    def top_decile(self) -> pd.Series:
        """The first lift row (riskiest 10 %) of the model to use (:attr:`best`): ``lift``,
        ``cum_churners_share``, ``churn_rate`` ..."""
        return self.lift[self.lift["model"] == self.best].iloc[0]

    def plot(self, ax: Any = None) -> Any:
        """ROC and precision-recall curves of both models (two panels).

        Parameters
        ----------
        ax : Axes or sequence of two Axes, optional
            Two Axes: ROC and precision-recall; one Axes: the ROC curve only; default a new
            figure with both panels.

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes
            The figure of both panels, or the one Axes given.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        single = ax is not None and not isinstance(ax, (list, tuple, np.ndarray))
        if ax is None:
            fig, ax = plt.subplots(1, 2, figsize=(11, 4.6))
        elif not single:
            fig = ax[0].figure
        tab = self.table.set_index("model")
        roc = pd.concat(
            [c["roc"].assign(model=f"{model_title(m)} (AUC {tab.loc[m, 'roc_auc']:.3f})")
             for m, c in self.curves.items()]
        )
        pr = pd.concat(
            [c["pr"].assign(model=f"{model_title(m)} (AP {tab.loc[m, 'pr_auc']:.3f})") for m, c in self.curves.items()]
        )
        roc_ax = ax if single else ax[0]
        sns.lineplot(data=roc, x="false positive rate", y="true positive rate", hue="model", ax=roc_ax,
                     estimator=None, sort=False)
        roc_ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        roc_ax.set_xlabel(t("churn.eval.plot.fpr"))
        roc_ax.set_ylabel(t("churn.eval.plot.tpr"))
        roc_ax.set_title(t("churn.eval.plot.roc"))
        _legend_title(roc_ax)
        if single:
            return roc_ax
        sns.lineplot(data=pr, x="recall", y="precision", hue="model", ax=ax[1], estimator=None, sort=False)
        ax[1].axhline(tab["base_rate"].iloc[0], ls="--", color="grey", lw=1, label=t("churn.eval.plot.base_rate"))
        ax[1].set_ylim(0, 1.02)
        ax[1].set_xlabel(t("churn.eval.plot.recall"))
        ax[1].set_ylabel(t("churn.eval.plot.precision"))
        ax[1].set_title(t("churn.eval.plot.pr"))
        ax[1].legend(fontsize=8)
        return fig

    def plot_calibration(self, ax: Any = None) -> Any:
        """Calibration curve: observed churn rate vs mean predicted probability, by decile.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(5.2, 5))
        c = self.calibration.copy()
        c["model"] = c["model"].map(model_title)
        sns.lineplot(data=c, x="mean_predicted", y="observed", hue="model", marker="o", ax=ax, estimator=None,
                     sort=False)
        hi = float(max(c["mean_predicted"].max(), c["observed"].max(), 0.05))
        ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=1, label=t("churn.eval.plot.perfect"))
        ax.set_xlabel(t("churn.eval.plot.mean_predicted"))
        ax.set_ylabel(t("churn.eval.plot.observed"))
        ax.set_title(t("churn.eval.plot.calibration"))
        _legend_title(ax)
        return ax

    def plot_lift(self, ax: Any = None) -> Any:
        """Lift by decile (bars) and cumulative gains (curve) of both models.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            fig, ax = plt.subplots(1, 2, figsize=(11, 4.4))
        else:
            fig = ax[0].figure
        lt = self.lift.copy()
        lt["model"] = lt["model"].map(model_title)
        sns.barplot(data=lt, x="decile", y="lift", hue="model", ax=ax[0])
        ax[0].axhline(1, ls="--", color="grey", lw=1)
        ax[0].set_xlabel(t("churn.eval.plot.decile"))
        ax[0].set_ylabel(t("churn.eval.plot.lift"))
        ax[0].set_title(t("churn.eval.plot.lift_title"))
        _legend_title(ax[0])
        g = pd.concat(
            [pd.DataFrame({"cum_customers_share": [0.0], "cum_churners_share": [0.0], "model": [m]})
             for m in lt["model"].unique()] + [lt[["cum_customers_share", "cum_churners_share", "model"]]]
        ).sort_values(["model", "cum_customers_share"])
        sns.lineplot(data=g, x="cum_customers_share", y="cum_churners_share", hue="model", marker="o", ax=ax[1],
                     estimator=None, sort=False)
        ax[1].plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label=t("churn.eval.plot.random"))
        ax[1].set_xlabel(t("churn.eval.plot.contacted"))
        ax[1].set_ylabel(t("churn.eval.plot.reached"))
        ax[1].set_title(t("churn.eval.plot.gains"))
        _legend_title(ax[1])
        return fig

    def plot_importance(self, ax: Any = None, *, top: int = 15) -> Any:
        """Permutation importance (held-out AUC lost when a feature is shuffled), both models.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        imp = self.importance.copy()
        keep = imp.groupby("feature")["auc_drop"].max().sort_values(ascending=False).head(top).index
        imp = imp[imp["feature"].isin(keep)]
        imp["model"] = imp["model"].map(model_title)
        ax = new_axes(ax, figsize=(6.5, 0.35 * len(keep) + 1.5))
        sns.barplot(data=imp, y="feature", x="auc_drop", hue="model", order=list(keep), ax=ax)
        ax.set_xlabel(t("churn.eval.plot.auc_drop"))
        ax.set_ylabel("")
        ax.set_title(t("churn.eval.plot.importance"))
        _legend_title(ax)
        return ax

    def __repr__(self) -> str:
        t = self.table.set_index("model")
        return (
            f"ChurnEvaluation(n_test={self.info['n_test']:,}, base_rate={t['base_rate'].iloc[0]:.3f}, "
            f"auc_logistic={t.loc['logistic', 'roc_auc']:.3f}, auc_hgb={t.loc['hgb', 'roc_auc']:.3f})"
        )



def evaluate_churn_models(
    models: ChurnModels,
    *,
    bootstrap: int = 500,
    importance_sample: int = IMPORTANCE_SAMPLE,
    importance_repeats: int = IMPORTANCE_REPEATS,
    random_state: int | None = 42,
) -> ChurnEvaluation:
    """Measure both models on the held-out rows of their split.

    ROC AUC with a percentile bootstrap interval (``bootstrap`` resamples of the held-out rows,
    the same resamples for both models, so their difference gets a paired interval); PR AUC
    (average precision) next to the base rate it must beat; Brier score and its skill vs always
    predicting the training base rate; Hosmer-Lemeshow (deciles, external validation: 10 df) and
    Spiegelhalter calibration tests; lift and cumulative gains by decile; permutation importance
    (scikit-learn, held-out AUC, on a seeded sample of at most ``importance_sample`` rows).

    Parameters
    ----------
    models : ChurnModels
        From :func:`fit_churn_models`.
    bootstrap : int, default 500
        Resamples of the AUC interval (``analyses.churn.model.bootstrap``); 0 for none.
    importance_sample : int, default 10_000
        Held-out rows used for permutation importance.
    importance_repeats : int, default 3
        Shuffles per feature.
    random_state : int or None, default 42

    Returns
    -------
    ChurnEvaluation
    """
    scorer = models.estimator
    y = scorer.y_test_
    ss = np.random.SeedSequence(random_state).generate_state(3)
    brier_ref = float(np.mean((y - scorer.train_base_rate_) ** 2))
    calibrated = scorer.calibration_.set_index("model")["calibrated"]
    rows, curves, calib, lifts, draws = [], {}, [], [], {}
    for m in MODEL_NAMES:
        p = scorer.predict_design(scorer.X_test_, model=m)
        row, draws[m], lift = _step_model_row(y, p, model=m, bootstrap=bootstrap, seed=int(ss[0]),
                                              brier_ref=brier_ref, calibrated=bool(calibrated[m]))
        rows.append(row)
        lifts.append(lift)
        curves[m] = _step_curves(y, p)
        calib.append(calibration_points(y, p, model=m))
    comparison = _step_comparison(rows, draws, bootstrap=bootstrap)
    importance, n_imp = _step_importance(scorer, y, sample=importance_sample, repeats=importance_repeats,
                                         seeds=(int(ss[1]), int(ss[2])))
    info = {
        "split": scorer.split_["kind"],
        "n_test": int(len(y)),
        "n_train": scorer.split_["n_train"],
        "n_train_used": scorer.split_["n_train_used"],
        "bootstrap": int(bootstrap),
        "importance_rows": int(n_imp),
        "importance_repeats": int(importance_repeats),
        "random_state": random_state,
        "brier_reference": "always predicting the training base rate",
    }
    return ChurnEvaluation(
        table=pd.DataFrame(rows), comparison=comparison, curves=curves, calibration=pd.concat(calib, ignore_index=True),
        lift=pd.concat(lifts, ignore_index=True), importance=importance, info=info,
    )


def _step_model_row(
    y: np.ndarray, p: np.ndarray, *, model: str, bootstrap: int, seed: int, brier_ref: float, calibrated: bool
) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """One model's row of the table, its bootstrap AUC draws and its lift table."""
    from sklearn.metrics import average_precision_score, brier_score_loss

    if bootstrap > 0:
        lo, hi, draws = bootstrap_ci(_fast_auc_stat(y, p), len(y), n_boot=bootstrap, random_state=seed)
    else:
        lo, hi, draws = float("nan"), float("nan"), np.array([])
    brier = float(brier_score_loss(y, p))
    _, _, hl_p = hosmer_lemeshow(y, p)
    _, sp_p = spiegelhalter(y, p)
    lift = lift_table(y, p).assign(model=model)
    row = {
        "model": model,
        "roc_auc": auc_binary(y, p),
        "roc_auc_low": lo,
        "roc_auc_high": hi,
        "pr_auc": float(average_precision_score(y, p)),
        "base_rate": float(y.mean()),
        "brier": brier,
        "brier_skill": 1 - brier / brier_ref if brier_ref > 0 else float("nan"),
        "hl_p": hl_p,
        "spiegelhalter_p": sp_p,
        "calibrated": calibrated,
        "top_decile_lift": float(lift["lift"].iloc[0]),
    }
    return row, draws, lift


def _step_curves(y: np.ndarray, p: np.ndarray) -> dict[str, pd.DataFrame]:
    """ROC and precision-recall curve points (at most 400 each)."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    fpr, tpr, _ = roc_curve(y, p)
    prec, rec, _ = precision_recall_curve(y, p)
    return {
        "roc": _thin(pd.DataFrame({"false positive rate": fpr, "true positive rate": tpr})),
        "pr": _thin(pd.DataFrame({"recall": rec, "precision": prec})),
    }


def _step_comparison(rows: list[dict[str, Any]], draws: dict[str, np.ndarray], *, bootstrap: int) -> dict[str, Any]:
    """AUC difference gradient boosting - logistic with its paired bootstrap interval."""
    comparison: dict[str, Any] = {"diff": rows[1]["roc_auc"] - rows[0]["roc_auc"], "models": "hgb - logistic"}
    if bootstrap > 0:
        dd = draws["hgb"] - draws["logistic"]
        dd = dd[np.isfinite(dd)]
        comparison["diff_low"], comparison["diff_high"] = float(np.quantile(dd, 0.025)), float(np.quantile(dd, 0.975))
    else:
        comparison["diff_low"], comparison["diff_high"] = float("nan"), float("nan")
    return comparison


def _step_importance(
    scorer: Any, y: np.ndarray, *, sample: int, repeats: int, seeds: tuple[int, int]
) -> tuple[pd.DataFrame, int]:
    """Permutation importance on the raw feature columns of a seeded held-out sample (a level
    shuffle moves all its dummies), and the number of rows it used."""
    from scipy.stats import t as student_t
    from sklearn.inspection import permutation_importance

    test = scorer.test_
    rng = np.random.default_rng(seeds[0])
    n_imp = min(len(test), sample)
    sel = np.sort(rng.choice(len(test), size=n_imp, replace=False)) if n_imp < len(test) else np.arange(len(test))
    feats = scorer.spec_.features
    Xi = test.iloc[sel][feats].reset_index(drop=True)
    yi = y[sel]
    columns = ["model", "feature", "auc_drop", "std", "ci_low", "ci_high"]
    if len(np.unique(yi)) != 2:
        return pd.DataFrame(columns=columns), n_imp
    tcrit = float(student_t.ppf(0.975, repeats - 1)) if repeats > 1 else float("nan")
    imps = []
    for m in MODEL_NAMES:
        with limit_threads(n_imp):
            r = permutation_importance(
                _FrameClassifier(scorer.design_, scorer.models_[m]), Xi, yi, scoring="roc_auc",
                n_repeats=repeats, random_state=seeds[1],
            )
        se = r.importances_std / math.sqrt(max(repeats, 1))
        imps.append(
            pd.DataFrame(
                {
                    "model": m,
                    "feature": feats,
                    "auc_drop": r.importances_mean,
                    "std": r.importances_std,
                    "ci_low": r.importances_mean - tcrit * se,
                    "ci_high": r.importances_mean + tcrit * se,
                }
            ).sort_values("auc_drop", ascending=False)
        )
    return pd.concat(imps, ignore_index=True), n_imp


class _FrameClassifier:
    """One fitted model on raw frame columns, for scikit-learn's ``permutation_importance``."""

    _estimator_type = "classifier"

    def __init__(self, design: Design, model: Any) -> None:
        self.design = design
        self.model = model
        self.classes_ = np.array([0, 1])

    def fit(self, X: Any, y: Any = None) -> _FrameClassifier:  # pragma: no cover - never refitted
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_proba(self.design.transform(X, warn_unseen=False))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def _legend_title(ax: Any) -> None:
    """The legend of a chart coloured by model says so in the run's language."""
    if ax.get_legend() is not None:
        ax.get_legend().set_title(t("churn.eval.plot.model"))


def _thin(df: pd.DataFrame, n: int = 400) -> pd.DataFrame:
    """At most ``n`` evenly spaced points of a curve (first and last kept)."""
    if len(df) <= n:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, n).round().astype(int))
    return df.iloc[idx].reset_index(drop=True)

