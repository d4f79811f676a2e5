"""Held-out performance of the churn models: :class:`ChurnEvaluation`,
:func:`evaluate_churn_models` and :func:`lift_table` (section 3 of the churn model)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn.model._common import IMPORTANCE_REPEATS, IMPORTANCE_SAMPLE, model_title
from workbench.churn.model.models import ChurnModels
from workbench.modeling.propensity.evaluate import evaluate_scorer
from workbench.modeling.propensity.evaluate import lift_table as shared_lift_table
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["ChurnEvaluation", "evaluate_churn_models", "lift_table"]


#: Column names of churn's lift table (the shared table says positives / rate).
LIFT_NAMES = {"positives": "churners", "rate": "churn_rate", "cum_positives_share": "cum_churners_share"}


def lift_table(y: Sequence[float] | np.ndarray, score: Sequence[float] | np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (decile 1 = highest scores): the shared
    :func:`~workbench.modeling.propensity.evaluate.lift_table` with churn's column names.

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
    return shared_lift_table(y, score, bins=bins).rename(columns=LIFT_NAMES)


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
    ev = evaluate_scorer(models.estimator, bootstrap=bootstrap, importance_sample=importance_sample,
                         importance_repeats=importance_repeats, random_state=random_state)
    return ChurnEvaluation(
        table=ev.table, comparison=ev.comparison, curves=ev.curves, calibration=ev.calibration,
        lift=ev.lift.rename(columns=LIFT_NAMES), importance=ev.importance, info=ev.info,
    )


def _legend_title(ax: Any) -> None:
    """The legend of a chart coloured by model says so in the run's language."""
    if ax.get_legend() is not None:
        ax.get_legend().set_title(t("churn.eval.plot.model"))
