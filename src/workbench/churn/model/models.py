"""The fitted churn models as a result: :class:`ChurnModels` and :func:`fit_churn_models`.

Estimator and result are two objects. :class:`~workbench.churn.model.scorer.ChurnScorer` is the
estimator (options in ``__init__``, ``fit`` -> self, ``predict_proba``, learned attributes ending
in ``_``); it has no ``summary`` or ``finding``. :class:`ChurnModels` is the Result that wraps one
fitted scorer (``models.estimator``, as uplift's ``UpliftModels.estimator``) for the notebook: the split and calibration table, the logistic
odds ratios, a forest plot, the metrics and the finding. :func:`fit_churn_models` is the one-line
convenience that builds and fits the scorer and returns its :class:`ChurnModels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.churn.model._common import MODEL_NAMES, model_title, nice
from workbench.churn.model.features import FeatureSpec
from workbench.churn.model.scorer import ChurnScorer
from workbench.modeling.propensity.reasons import odds_table
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["ChurnModels", "fit_churn_models", "odds_table"]


@dataclass(frozen=True, eq=False, repr=False)
class ChurnModels(Result):
    """Both fitted churn models and their split (see :func:`fit_churn_models`).

    Attributes
    ----------
    estimator : ChurnScorer
        The fitted scorer (``estimator.models_``, ``estimator.logistic_``, ``estimator.design_``, ...).
    odds : pandas.DataFrame
        Odds ratios of the logistic model (see :meth:`odds_ratios`).
    """

    estimator: ChurnScorer
    odds: pd.DataFrame

    # -- the scorer's learned attributes the notebook and tests read ----------------------
    @property
    def spec(self) -> FeatureSpec:
        """Features used."""
        return self.estimator.spec_

    @property
    def split(self) -> dict[str, Any]:
        """``kind`` (``out_of_time`` or ``stratified_holdout``), ``test_size``, row counts, base
        rates, ``subsampled`` (training rows used of those available)."""
        return self.estimator.split_

    @property
    def calibration(self) -> pd.DataFrame:
        """Per model: test used to decide, p-value, calibrated (bool), method."""
        return self.estimator.calibration_

    @property
    def test(self) -> pd.DataFrame:
        """The held-out frame (copy of the rows), for :func:`evaluate_churn_models`."""
        return self.estimator.test_

    @property
    def y_test(self) -> np.ndarray:
        """Held-out labels (0/1)."""
        return self.estimator.y_test_

    # -------------------------------------------------------------------------------------
    def predict_proba(self, frame: pd.DataFrame) -> pd.DataFrame:
        """P(churn) of each row by each model.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with the feature columns (not modified); e.g. the base at the as-of date.

        Returns
        -------
        pandas.DataFrame
            Same index as ``frame``; one column per model (``logistic``, ``hgb``).
        """
        s = self.estimator
        X = s.design_.transform(frame, what="scoring frame")
        return pd.DataFrame({m: s.predict_design(X, model=m) for m in MODEL_NAMES}, index=frame.index)

    def odds_ratios(self) -> pd.DataFrame:
        """Odds ratios of the logistic model with 95 % Wald intervals.

        Numeric features: odds ratio per one standard deviation (``per``) of the training
        rows; missing-indicators and levels: vs the reference (median-filled / most frequent
        level). Standard errors come from the sandwich covariance of the L2-penalized fit
        (close to the usual ones when the penalty is light); p-values are Wald tests, Holm
        adjusted over all terms.

        Returns
        -------
        pandas.DataFrame
            One row per term, largest odds ratio first: ``term``, ``feature``, ``per``,
            ``coef``, ``std_err``, ``odds_ratio``, ``ci_low``, ``ci_high``, ``p_value``,
            ``p_holm`` (``per`` in words; :meth:`to_frame` keeps the codes).
        """
        return self.odds.assign(per=self.odds["per"].map(per_text))

    def to_frame(self) -> pd.DataFrame:
        """The full odds-ratio table, ``per`` as codes (``yes vs no``, ``+1 SD (12.3)``, ``vs <level>``)."""
        return self.odds.copy()

    def summary(self) -> pd.DataFrame:
        """Per model: ``model``, ``n_train``, ``n_test``, ``split``, ``calibration_test``,
        ``calibration_p``, ``calibrated``, ``calibration_method``."""
        rows = []
        for m in MODEL_NAMES:
            c = self.calibration.set_index("model").loc[m]
            rows.append(
                {
                    "model": model_title(m),
                    "n_train": self.split["n_train_used"],
                    "n_test": self.split["n_test"],
                    "split": category("churn_split", self.split["kind"]),
                    "calibration_test": t(f"churn.model.calibration_test.{_CALIBRATION_TESTS.get(c['test'], 'other')}",
                                          test=c["test"]),
                    "calibration_p": c["p_value"],
                    "calibrated": bool(c["calibrated"]),
                    "calibration_method": category("churn_calibration", c["method"]),
                }
            )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, Any]:
        """Split, calibration decisions and the odds ratios (JSON-able)."""
        return {
            "split": {k: (num(v) if isinstance(v, float) else v) for k, v in self.split.items()},
            "C": num(float(self.estimator.C)),
            "random_state": self.estimator.random_state,
            "calibration": {
                r.model: {"test": r.test, "p_value": num(r.p_value), "calibrated": bool(r.calibrated),
                          "method": r.method}
                for r in self.calibration.itertuples()
            },
            "odds_ratios": {
                r.term: {"odds_ratio": num(r.odds_ratio), "ci_low": num(r.ci_low), "ci_high": num(r.ci_high),
                         "p_holm": num(r.p_holm)}
                for r in self.odds.itertuples()
            },
        }

    def finding(self) -> str:
        """How the models were trained and what the logistic model says, in words."""
        s = self.split
        if s["kind"] == "out_of_time":
            text = t("churn.model.split.out_of_time", n_train=count(s["n_train"]), n_test=count(s["n_test"]))
        else:
            text = t("churn.model.split.holdout", n_train=count(s["n_train"]), share=pct(s["test_size"], 0),
                     n_test=count(s["n_test"]))
        if s["n_train_used"] < s["n_train"]:
            text += t("churn.model.split.sampled", n=count(s["n_train_used"]))
        odds = self.odds
        sig = odds[odds["p_holm"] < 0.05]
        up = sig[sig["odds_ratio"] > 1].head(3)
        down = sig[sig["odds_ratio"] < 1].sort_values("odds_ratio").head(3)
        sep = t("churn.model.odds.sep")
        if len(up):
            text += t("churn.model.odds.raisers", terms=sep.join(_odds_text(r) for r in up.itertuples()))
        if len(down):
            text += t("churn.model.odds.protectors", terms=sep.join(_odds_text(r) for r in down.itertuples()))
        cal = self.calibration[self.calibration["calibrated"]]
        if len(cal):
            text += t("churn.model.recalibrated", models=t("churn.model.and").join(model_title(m) for m in cal["model"]),
                      methods=", ".join(sorted(set(cal["method"]))))
        return text

    def plot(self, ax: Any = None, *, top: int = 20) -> Any:
        """Forest plot of the logistic odds ratios (log scale) with 95 % intervals.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        o = self.odds.copy()
        o["size"] = np.abs(np.log(o["odds_ratio"]))
        o = o.sort_values("size", ascending=False).head(top).sort_values("odds_ratio")
        ax = new_axes(ax, figsize=(6.5, 0.32 * len(o) + 1.2))
        o["label"] = [term_words(r) for r in o.itertuples()]
        sns.scatterplot(data=o, x="odds_ratio", y="label", ax=ax, color="C0", zorder=3)
        ax.hlines(o["label"], o["ci_low"], o["ci_high"], color="C0", lw=1.5)
        ax.axvline(1, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel(t("churn.model.odds.plot.xlabel"))
        ax.set_ylabel("")
        ax.set_title(t("churn.model.odds.plot.title"))
        return ax

    def __repr__(self) -> str:
        c = self.calibration
        cal = ",".join(m for m, flag in zip(c["model"], c["calibrated"], strict=True) if flag)
        return (
            f"ChurnModels(split={self.split['kind']!r}, n_train={self.split['n_train_used']:,}, "
            f"n_test={self.split['n_test']:,}, features={len(self.spec.features)}, calibrated={cal or 'none'})"
        )


def fit_churn_models(
    train: pd.DataFrame,
    *,
    spec: FeatureSpec,
    test: pd.DataFrame | None = None,
    test_size: float = 0.25,
    C: float = 1.0,
    calibrate: Literal["auto", "always", "never"] = "auto",
    max_rows: int = 200_000,
    leakage_auc: float = 0.98,
    random_state: int | None = 42,
) -> ChurnModels:
    """Fit the logistic regression and gradient boosting churn models on the same split.

    ``ChurnScorer(...).fit(train, spec=spec, test=test)`` wrapped as a result; the options are
    those of :class:`~workbench.churn.model.scorer.ChurnScorer` (params section
    ``analyses.churn.model``: ``test_size``, ``logistic_C``, ``calibrate``, ``max_rows``,
    ``leakage_auc``).

    Parameters
    ----------
    train : pandas.DataFrame
        Per-customer churn frame with the label and the features of ``spec`` (not modified).
    spec : FeatureSpec
        From :func:`prepare_features`.
    test : pandas.DataFrame, optional
        Out-of-time held-out frame; default: a stratified ``test_size`` split of ``train``.
    test_size, C, calibrate, max_rows, leakage_auc, random_state
        See :class:`~workbench.churn.model.scorer.ChurnScorer`.

    Returns
    -------
    ChurnModels

    Raises
    ------
    AnalysisError
        Label missing or not binary; one class only in training or held-out rows; too few rows;
        a feature that alone separates the classes (leakage); bad ``calibrate``.
    """
    scorer = ChurnScorer(
        C=C, calibrate=calibrate, max_rows=max_rows, leakage_auc=leakage_auc, test_size=test_size,
        random_state=random_state,
    ).fit(train, spec=spec, test=test)
    return ChurnModels(estimator=scorer, odds=odds_table(scorer))


def term_words(r: Any) -> str:
    """An odds-ratio row as words: ``tenure months (+1 SD)``, ``plan: Two year``."""
    if r.per.startswith("+1 SD"):
        return t("churn.model.term.sd", feature=nice(r.feature))
    if r.per == "missing vs present":
        return t("churn.model.term.missing", feature=nice(r.feature))
    if r.per == "yes vs no":
        return t("churn.model.term.yes", feature=nice(r.feature))
    return t("churn.model.term.level", feature=nice(r.feature), level=r.term.split("=", 1)[1])


def _odds_text(r: Any) -> str:
    return t("churn.model.odds.item", term=term_words(r), odds=f"{r.odds_ratio:.2f}", low=f"{r.ci_low:.2f}",
             high=f"{r.ci_high:.2f}")


#: Calibration tests the scorer records (its own words, kept in metrics) -> catalog key.
_CALIBRATION_TESTS = {
    "Spiegelhalter z on a calibration share of training (Holm)": "spiegelhalter",
    "none (calibrate=always)": "always",
    "none (calibrate=never)": "never",
}


def per_text(per: str) -> str:
    """The unit of an odds ratio (``per`` codes of :func:`odds_table`) in words."""
    if per.startswith("+1 SD"):
        return t("churn.model.per.sd", sd=per[len("+1 SD ("):-1])
    if per == "missing vs present":
        return t("churn.model.per.missing")
    if per == "yes vs no":
        return t("churn.model.per.yes")
    return t("churn.model.per.vs", reference=per[len("vs "):])

