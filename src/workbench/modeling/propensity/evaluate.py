"""Held-out performance of a fitted :class:`~workbench.modeling.propensity.scorer.PropensityScorer`.

:func:`evaluate_scorer` measures both models on the held-out rows of their split (ROC AUC with a
bootstrap interval, PR AUC, Brier score and skill, Hosmer-Lemeshow and Spiegelhalter tests, lift
and gains by decile, permutation importance) and returns the pieces as a
:class:`ScorerEvaluation` (plain data, no wording: each analysis wraps it in its own Result).
:func:`lift_table` is the lift / gains table, :func:`auc_difference` the paired bootstrap
interval of the AUC difference of two scores on the same rows (model vs baseline).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.data.threads import limit_threads
from workbench.modeling.propensity.calibration import (
    calibration_points,
    hosmer_lemeshow,
    spiegelhalter,
)
from workbench.modeling.propensity.common import (
    IMPORTANCE_REPEATS,
    IMPORTANCE_SAMPLE,
    MODEL_NAMES,
    auc_binary,
    equal_groups,
)
from workbench.stats import bootstrap_ci

__all__ = ["ScorerEvaluation", "auc_difference", "evaluate_scorer", "fast_auc_stat", "lift_table", "permutation_auc_drops"]


def lift_table(y: Sequence[float] | np.ndarray, score: Sequence[float] | np.ndarray, *, bins: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (decile 1 = highest scores).

    Rows are sorted by score, highest first (ties in their original order), and cut into
    ``bins`` groups of (nearly) equal size.

    Parameters
    ----------
    y : array-like
        0/1 outcomes.
    score : array-like
        Predicted probability (or any score, higher = likelier).
    bins : int, default 10

    Returns
    -------
    pandas.DataFrame
        One row per decile: ``decile``, ``customers``, ``positives``, ``rate``, ``lift``
        (rate / overall rate), ``cum_customers_share``, ``cum_positives_share`` (gain),
        ``cum_lift``.

    Examples
    --------
    >>> t = lift_table([1, 1, 0, 1, 0, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], bins=5)
    >>> t["positives"].tolist(), t["lift"].round(3).tolist()[:2]
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
                "positives": ch.round().astype(np.int64),
                "rate": rate,
                "lift": rate / base,
                "cum_customers_share": np.cumsum(cnt) / n,
                "cum_positives_share": np.cumsum(ch) / y.sum(),
                "cum_lift": (np.cumsum(ch) / np.cumsum(cnt)) / base,
            }
        )
    return out


def fast_auc_stat(y: np.ndarray, score: np.ndarray) -> Callable[[np.ndarray], float]:
    """AUC of a bootstrap resample from its row positions in O(n) (scores grouped once)."""
    uniq, gid = np.unique(score, return_inverse=True)
    gid = gid.ravel()
    g = len(uniq)
    pos = np.asarray(y).astype(bool)
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


def auc_difference(
    y: np.ndarray, score: np.ndarray, baseline: np.ndarray, *, bootstrap: int = 500, random_state: int | None = 0
) -> dict[str, float]:
    """AUC of ``score`` minus AUC of ``baseline`` on the same rows, with a paired percentile
    bootstrap interval (the same resamples for both).

    Returns
    -------
    dict
        ``auc``, ``auc_baseline``, ``diff``, ``diff_low``, ``diff_high``, ``bootstrap``.

    Examples
    --------
    >>> y = np.array([0, 0, 1, 1] * 25)
    >>> d = auc_difference(y, y + 0.0, np.zeros(100), bootstrap=50)
    >>> d["diff"], d["diff_low"] > 0.4
    (0.5, True)
    """
    y = np.asarray(y)
    auc_s, auc_b = auc_binary(y, score), auc_binary(y, baseline)
    out = {"auc": auc_s, "auc_baseline": auc_b, "diff": auc_s - auc_b, "bootstrap": int(bootstrap)}
    if bootstrap <= 0:
        return {**out, "diff_low": float("nan"), "diff_high": float("nan")}
    fs, fb = fast_auc_stat(y, np.asarray(score)), fast_auc_stat(y, np.asarray(baseline))
    _, _, ds = bootstrap_ci(fs, len(y), n_boot=bootstrap, random_state=random_state)
    _, _, db = bootstrap_ci(fb, len(y), n_boot=bootstrap, random_state=random_state)
    dd = ds - db
    dd = dd[np.isfinite(dd)]
    return {**out, "diff_low": float(np.quantile(dd, 0.025)), "diff_high": float(np.quantile(dd, 0.975))}


@dataclass(frozen=True)
class ScorerEvaluation:
    """The held-out figures of both models (plain data; see :func:`evaluate_scorer`).

    Attributes
    ----------
    table : pandas.DataFrame
        Per model: ``model``, ``roc_auc`` with ``roc_auc_low``/``roc_auc_high``, ``pr_auc``,
        ``base_rate``, ``brier``, ``brier_skill``, ``hl_p``, ``spiegelhalter_p``,
        ``calibrated``, ``top_decile_lift``.
    comparison : dict
        ``diff`` (gradient boosting - logistic AUC), ``diff_low``, ``diff_high``, ``models``.
    curves : dict
        Model -> {'roc': DataFrame, 'pr': DataFrame}.
    calibration : pandas.DataFrame
        Calibration-curve points of both models.
    lift : pandas.DataFrame
        :func:`lift_table` per model (column ``model``).
    importance : pandas.DataFrame
        ``model``, ``feature``, ``auc_drop``, ``std``, ``ci_low``, ``ci_high``.
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


def evaluate_scorer(
    scorer: Any,
    *,
    bootstrap: int = 500,
    importance_sample: int = IMPORTANCE_SAMPLE,
    importance_repeats: int = IMPORTANCE_REPEATS,
    random_state: int | None = 42,
) -> ScorerEvaluation:
    """Measure both models of a fitted scorer on the held-out rows of its split.

    ROC AUC with a percentile bootstrap interval (``bootstrap`` resamples of the held-out rows,
    the same resamples for both models, so their difference gets a paired interval); PR AUC
    (average precision) next to the base rate it must beat; Brier score and its skill vs always
    predicting the training base rate; Hosmer-Lemeshow (deciles, external validation: 10 df) and
    Spiegelhalter calibration tests; lift and cumulative gains by decile; permutation importance
    (scikit-learn, held-out AUC, on a seeded sample of at most ``importance_sample`` rows).

    Parameters
    ----------
    scorer : PropensityScorer
        Fitted.
    bootstrap : int, default 500
        Resamples of the AUC interval; 0 for none.
    importance_sample : int, default 10_000
    importance_repeats : int, default 3
    random_state : int or None, default 42

    Returns
    -------
    ScorerEvaluation
    """
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
    return ScorerEvaluation(
        table=pd.DataFrame(rows), comparison=comparison, curves=curves, calibration=pd.concat(calib, ignore_index=True),
        lift=pd.concat(lifts, ignore_index=True), importance=importance, info=info,
    )


def _step_model_row(
    y: np.ndarray, p: np.ndarray, *, model: str, bootstrap: int, seed: int, brier_ref: float, calibrated: bool
) -> tuple[dict[str, Any], np.ndarray, pd.DataFrame]:
    """One model's row of the table, its bootstrap AUC draws and its lift table."""
    from sklearn.metrics import average_precision_score, brier_score_loss

    if bootstrap > 0:
        lo, hi, draws = bootstrap_ci(fast_auc_stat(y, p), len(y), n_boot=bootstrap, random_state=seed)
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
    design = scorer.design_.transform(Xi, warn_unseen=False)
    imps = []
    for m in MODEL_NAMES:
        with limit_threads(n_imp):
            drops = permutation_auc_drops(
                scorer.models_[m], design, yi, groups=scorer.design_.groups, features=feats,
                n_repeats=repeats, random_state=seeds[1],
            )  # fmt: skip
        mean, std = drops.mean(axis=1), drops.std(axis=1)
        se = std / math.sqrt(max(repeats, 1))
        imps.append(
            pd.DataFrame(
                {
                    "model": m,
                    "feature": feats,
                    "auc_drop": mean,
                    "std": std,
                    "ci_low": mean - tcrit * se,
                    "ci_high": mean + tcrit * se,
                }
            ).sort_values("auc_drop", ascending=False)
        )
    return pd.concat(imps, ignore_index=True), n_imp


def permutation_auc_drops(
    model: Any,
    design: np.ndarray,
    y: np.ndarray,
    *,
    groups: Sequence[str],
    features: Sequence[str],
    n_repeats: int,
    random_state: int,
) -> np.ndarray:
    """Held-out ROC AUC lost when each raw feature is shuffled, computed on its design matrix.

    The numbers of scikit-learn's ``permutation_importance(..., scoring="roc_auc")`` on the raw
    frame with the design applied inside the model (the same seeds, the same shuffles): the
    design is row by row, so shuffling a raw column's rows shuffles the rows of its design
    columns (a categorical feature's dummies together), and the frame is encoded once instead
    of once per feature and repeat.

    Parameters
    ----------
    model : fitted classifier
        With ``predict_proba``; column 1 is the positive class.
    design : ndarray of shape (n_rows, n_design_columns)
        The encoded rows (:meth:`Design.transform`).
    y : ndarray
        0/1 labels of the rows.
    groups : sequence of str
        The raw feature of each design column (:attr:`Design.groups`).
    features : sequence of str
        The raw features, in the order of the result's rows.
    n_repeats : int
        Shuffles per feature.
    random_state : int

    Returns
    -------
    ndarray of shape (n_features, n_repeats)
        Baseline AUC minus the AUC with the feature shuffled, per repeat.
    """
    from sklearn.metrics import roc_auc_score

    baseline = roc_auc_score(y, model.predict_proba(design)[:, 1])
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    group_of = np.asarray(groups)
    drops = np.empty((len(features), n_repeats))
    for i, feature in enumerate(features):
        cols = np.flatnonzero(group_of == feature)
        shuffled, order, rs = design.copy(), np.arange(len(design)), np.random.RandomState(seed)
        for r in range(n_repeats):
            rs.shuffle(order)  # one generator per feature, shuffles compounding: scikit-learn's way
            shuffled[:, cols] = shuffled[:, cols][order]  # only this feature's columns move
            drops[i, r] = baseline - roc_auc_score(y, model.predict_proba(shuffled)[:, 1])
    return drops


def _thin(df: pd.DataFrame, n: int = 400) -> pd.DataFrame:
    """At most ``n`` evenly spaced points of a curve (first and last kept)."""
    if len(df) <= n:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, n).round().astype(int))
    return df.iloc[idx].reset_index(drop=True)
