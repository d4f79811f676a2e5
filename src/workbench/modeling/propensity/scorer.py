"""The time-safe propensity estimator: :class:`PropensityScorer` (``fit`` -> self, ``predict_proba``).

scikit-learn style: ``__init__`` stores the options only; :meth:`PropensityScorer.fit` checks
the split, learns the design matrix, stops on leakage, fits the logistic regression and the
gradient boosting model, decides on calibration and sets the learned attributes (names ending
in ``_``); :meth:`PropensityScorer.predict_proba` scores any frame with the feature columns.
Churn (``churn.model.ChurnScorer``) and cross-sell propensity both fit this one estimator; a
subclass only sets :attr:`PropensityScorer.wording`, the words its messages use.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, Self

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, did_you_mean, format_examples
from workbench.data.threads import limit_threads
from workbench.modeling.propensity.calibration import spiegelhalter
from workbench.modeling.propensity.common import (
    CALIBRATION_SHARE,
    MIN_TEST_CLASS,
    MIN_TRAIN_CLASS,
    MIN_TRAIN_ROWS,
    MODEL_NAMES,
    auc_binary,
    binary_label,
    cat_col,
    stratified_subsample,
)
from workbench.modeling.propensity.design import Design, SpecLike, Wording
from workbench.stats import holm

__all__ = ["PropensityScorer"]

_CALIBRATE = ("auto", "always", "never")


class PropensityScorer:
    """Logistic regression and histogram gradient boosting models of a 0/1 outcome fitted on one split.

    Time-safe evaluation: for data with dates fit on an out-of-time pair, ``train`` built at
    ``as_of - window`` and ``test`` built at ``as_of``; for snapshot data (Telco) pass one frame
    and a stratified ``test_size`` share is held out. Never split one dated history at random.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 strength of the logistic regression (numeric features are standardized).
    calibrate : {'auto', 'always', 'never'}, default 'auto'
        ``auto``: each model is fitted on 80 % of the training rows and its predictions on the
        other 20 % (stratified, seeded) are tested with Spiegelhalter's z (Holm over the two
        models); a model failing at 5 % is calibrated with ``CalibratedClassifierCV`` on those
        20 % (isotonic from 2,000 rows, else sigmoid), otherwise refitted on all training rows.
        ``always`` calibrates both that way; ``never`` fits on all training rows. The held-out
        rows are never used. Odds ratios and reasons always come from a logistic fit on all
        training rows.
    max_rows : int, default 200_000
        Larger training sets are subsampled (seeded, stratified).
    leakage_auc : float, default 0.98
        Single-feature AUC at or above which a feature is taken for leakage.
    test_size : float, default 0.25
        Held-out share of the stratified split (when no ``test`` frame is given).
    random_state : int or None, default 42
        Seed of the split, the subsample, the boosting and the calibration folds.

    Attributes
    ----------
    spec_ : SpecLike
        Features used.
    design_ : Design
        Encoding learned on the training rows.
    logistic_ : sklearn LogisticRegression
        Uncalibrated logistic fit on all training rows (odds ratios and reasons).
    models_ : dict
        Model name (``logistic``, ``hgb``) -> fitted estimator used for predictions
        (calibrated when so decided).
    calibration_ : pandas.DataFrame
        Per model: ``model``, ``test`` used to decide, ``p_value``, ``calibrated``, ``method``.
    split_ : dict
        ``kind`` (``out_of_time`` or ``stratified_holdout``), ``test_size``, row counts, base
        rates, ``subsampled``, ``random_state``.
    test_ : pandas.DataFrame
        The held-out frame (a copy of the rows).
    X_test_, y_test_ : numpy.ndarray
        Held-out design matrix and 0/1 labels.
    coef_cov_ : numpy.ndarray
        Sandwich covariance of the logistic coefficients (intercept first).
    x_mean_ : numpy.ndarray
        Mean of each design column over the training rows (the reasons' reference customer).
    train_base_rate_ : float
        Event rate of the training rows used.
    classes_ : numpy.ndarray
        ``[0, 1]``: the columns of :meth:`predict_proba`.
    """

    _estimator_type = "classifier"
    #: Words of the messages (frame name, classes, options); subclasses set their own.
    wording: Wording = Wording()

    def __init__(
        self,
        *,
        C: float = 1.0,
        calibrate: Literal["auto", "always", "never"] = "auto",
        max_rows: int = 200_000,
        leakage_auc: float = 0.98,
        test_size: float = 0.25,
        random_state: int | None = 42,
    ) -> None:
        self.C = C
        self.calibrate = calibrate
        self.max_rows = max_rows
        self.leakage_auc = leakage_auc
        self.test_size = test_size
        self.random_state = random_state

    def __repr__(self) -> str:
        state = "fitted" if hasattr(self, "models_") else "not fitted"
        return (
            f"{type(self).__name__}(C={self.C}, calibrate={self.calibrate!r}, max_rows={self.max_rows:,}, "
            f"random_state={self.random_state}, {state})"
        )

    # -------------------------------------------------------------------------------------
    def fit(self, train: pd.DataFrame, *, spec: SpecLike, test: pd.DataFrame | None = None) -> Self:
        """Fit both models on ``train`` (held out: ``test``, or a stratified share of ``train``).

        Parameters
        ----------
        train : pandas.DataFrame
            Per-customer frame with the label and the features of ``spec`` (not modified).
        spec : SpecLike
            From the analysis (churn's ``prepare_features``, or :class:`Features`).
        test : pandas.DataFrame, optional
            Out-of-time held-out frame; default: a stratified split of ``train``.

        Returns
        -------
        PropensityScorer
            ``self``, fitted.

        Raises
        ------
        AnalysisError
            Label missing or not binary; one class only in training or held-out rows; too few
            rows; a feature that alone separates the classes (leakage); a bad option.
        """
        self._check_options()
        w = self.wording
        _check_label_columns(spec.label, train=train, test=test, w=w)
        train_fr, test_fr, y_tr, y_te, kind = self._step_split(train, test, spec)
        _check_classes(train_fr, test_fr, y_tr, y_te, w=w)
        n_train = len(y_tr)
        train_fr, y_tr = self._step_subsample(train_fr, y_tr)
        design = Design.learn(train_fr, spec, w)
        _check_leakage(train_fr, y_tr, design, leakage_auc=self.leakage_auc)
        X_tr = design.transform(train_fr, what="training frame")
        X_te = design.transform(test_fr, what="test frame")  # checks columns and unseen levels now
        seeds = np.random.SeedSequence(self.random_state).generate_state(4)
        with limit_threads(len(y_tr)):  # one OpenMP thread on small data: same models, no thrashing
            logit = _fit_quietly("logistic", X_tr, y_tr, C=self.C, seed=int(seeds[0]))
            models, cal_rows = self._step_models(X_tr, y_tr, logit, seeds)

        self.spec_ = spec
        self.design_ = design
        self.logistic_ = logit
        self.models_ = models
        self.calibration_ = pd.DataFrame(cal_rows)
        self.split_ = self._split_info(kind, n_train=n_train, y_tr=y_tr, y_te=y_te)
        self.test_ = test_fr
        self.X_test_ = X_te
        self.y_test_ = y_te
        self.coef_cov_ = _logistic_cov(X_tr, logit.predict_proba(X_tr)[:, 1], self.C)
        self.x_mean_ = X_tr.mean(axis=0)
        self.train_base_rate_ = float(y_tr.mean())
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, frame: pd.DataFrame, *, model: str = "logistic") -> np.ndarray:
        """Probabilities of the outcome being 0 and 1 for each row of ``frame``.

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows with the feature columns (not modified), e.g. the base at the as-of date.
        model : {'logistic', 'hgb'}, default 'logistic'
            Which fitted model scores (``hgb``: gradient boosting).

        Returns
        -------
        numpy.ndarray
            Shape ``(len(frame), 2)``: columns ``classes_`` = 0, 1 (the event).

        Raises
        ------
        AnalysisError
            Not fitted, unknown ``model``, or feature columns missing in ``frame``.
        """
        self._check_model(model)
        X = self.design_.transform(frame, what="scoring frame")
        return self.models_[model].predict_proba(X)

    def predict_design(self, X: np.ndarray, *, model: str = "logistic") -> np.ndarray:
        """P(event) of rows already encoded with :attr:`design_` (e.g. :attr:`X_test_`)."""
        self._check_model(model)
        return self.models_[model].predict_proba(X)[:, 1]

    # -------------------------------------------------------------------------------------
    def _check_model(self, model: str) -> None:
        if not hasattr(self, "models_"):
            raise AnalysisError(f"{type(self).__name__} is not fitted yet; call fit(train, spec=...) first")
        if model not in MODEL_NAMES:
            raise AnalysisError(
                f"model={model!r} is not a {self.wording.noun} model (models: {', '.join(MODEL_NAMES)})"
                f"{did_you_mean(model, MODEL_NAMES)}"
            )

    def _check_options(self) -> None:
        if self.calibrate not in _CALIBRATE:
            raise AnalysisError(
                f"calibrate={self.calibrate!r} must be 'auto', 'always' or 'never' ({self.wording.opt('calibrate')})"
                f"{did_you_mean(self.calibrate, _CALIBRATE)}"
            )
        if not 0 < self.test_size < 1:
            raise AnalysisError(f"test_size={self.test_size} must be between 0 and 1 ({self.wording.opt('test_size')})")

    def _step_split(
        self, train: pd.DataFrame, test: pd.DataFrame | None, spec: SpecLike
    ) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray, str]:
        """Training and held-out rows with their labels, and the kind of split."""
        from sklearn.model_selection import train_test_split

        w = self.wording
        y_all = _labels(train, spec, "training frame", w)
        if test is not None:
            return train, test.copy(), y_all, _labels(test, spec, "test frame", w), "out_of_time"
        counts = np.bincount(y_all, minlength=2)
        if counts.min() < 2:
            _one_class(counts, "training frame", len(train), w)
        tr_idx, te_idx = train_test_split(
            np.arange(len(train)), test_size=self.test_size, stratify=y_all, random_state=self.random_state
        )
        tr_idx, te_idx = np.sort(tr_idx), np.sort(te_idx)
        return train.iloc[tr_idx], train.iloc[te_idx].copy(), y_all[tr_idx], y_all[te_idx], "stratified_holdout"

    def _step_subsample(self, train_fr: pd.DataFrame, y_tr: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
        """A seeded stratified sample of ``max_rows`` training rows when there are more."""
        if len(y_tr) <= self.max_rows:
            return train_fr, y_tr
        sub = stratified_subsample(y_tr, self.max_rows, np.random.default_rng(self.random_state))
        return train_fr.iloc[sub], y_tr[sub]

    def _step_models(
        self, X_tr: np.ndarray, y_tr: np.ndarray, logit: Any, seeds: np.ndarray
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The scoring models (calibrated where decided) and one calibration row per model."""
        if self.calibrate == "never":
            models = {"logistic": logit, "hgb": _fit_quietly("hgb", X_tr, y_tr, C=self.C, seed=int(seeds[0]))}
            rows = [
                {"model": m, "test": "none (calibrate=never)", "p_value": float("nan"), "calibrated": False,
                 "method": "none"}
                for m in MODEL_NAMES
            ]
            return models, rows
        return self._step_calibrate(X_tr, y_tr, logit, seeds)

    def _step_calibrate(
        self, X_tr: np.ndarray, y_tr: np.ndarray, logit: Any, seeds: np.ndarray
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Decide on and fit calibrators on a stratified calibration share of the training rows
        (the held-out rows are never touched)."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.frozen import FrozenEstimator
        from sklearn.model_selection import train_test_split

        fit_idx, cal_idx = train_test_split(
            np.arange(len(y_tr)), test_size=CALIBRATION_SHARE, stratify=y_tr, random_state=int(seeds[1])
        )
        part = {m: _fit_quietly(m, X_tr[fit_idx], y_tr[fit_idx], C=self.C, seed=int(seeds[0])) for m in MODEL_NAMES}
        p_cal = {m: part[m].predict_proba(X_tr[cal_idx])[:, 1] for m in MODEL_NAMES}
        y_cal = y_tr[cal_idx]
        method = "isotonic" if len(cal_idx) >= 2000 else "sigmoid"
        if self.calibrate == "auto":
            raw_p = [spiegelhalter(y_cal, p_cal[m])[1] for m in MODEL_NAMES]
            p_adj = holm(np.nan_to_num(np.asarray(raw_p), nan=1.0))
            decide = {m: bool(p_adj[i] < 0.05) for i, m in enumerate(MODEL_NAMES)}
            tests = {m: ("Spiegelhalter z on a calibration share of training (Holm)", float(p_adj[i]))
                     for i, m in enumerate(MODEL_NAMES)}
        else:
            decide = {m: True for m in MODEL_NAMES}
            tests = {m: ("none (calibrate=always)", float("nan")) for m in MODEL_NAMES}
        models: dict[str, Any] = {}
        rows = []
        for m in MODEL_NAMES:
            if decide[m]:
                models[m] = CalibratedClassifierCV(FrozenEstimator(part[m]), method=method).fit(X_tr[cal_idx], y_cal)
            else:
                models[m] = logit if m == "logistic" else _fit_quietly(m, X_tr, y_tr, C=self.C, seed=int(seeds[0]))
            rows.append({"model": m, "test": tests[m][0], "p_value": tests[m][1], "calibrated": decide[m],
                         "method": method if decide[m] else "none"})
        return models, rows

    def _split_info(self, kind: str, *, n_train: int, y_tr: np.ndarray, y_te: np.ndarray) -> dict[str, Any]:
        return {
            "kind": kind,
            "test_size": float(self.test_size) if kind == "stratified_holdout" else None,
            "n_train": int(n_train),
            "n_train_used": int(len(y_tr)),
            "n_test": int(len(y_te)),
            "base_rate_train": float(y_tr.mean()),
            "base_rate_test": float(y_te.mean()),
            "subsampled": bool(n_train > self.max_rows),
            "random_state": self.random_state,
        }


# ============================================================================================
# fitting steps
# ============================================================================================


def _check_label_columns(label: str, *, train: pd.DataFrame, test: pd.DataFrame | None, w: Wording) -> None:
    for name, fr in (("training frame", train), ("test frame", test)):
        if fr is not None and label not in fr.columns:
            raise AnalysisError(
                f"{w.noun} {name} ({len(fr):,} rows) has no label column {label!r}; "
                f"fix {w.label_option}"
            )


def _labels(fr: pd.DataFrame, spec: SpecLike, what: str, w: Wording) -> np.ndarray:
    """0/1 labels of ``fr``; every row must have one."""
    label = spec.label
    y = binary_label(fr[label], label=label, table=f"{w.noun} {what}", kind=w.label_kind, option=w.label_option)
    if y.isna().any():
        ex = fr.loc[y.isna(), spec.id_column].head(5).tolist() if spec.id_column in fr else []
        raise AnalysisError(
            f"{w.noun} {what}.{label}: {int(y.isna().sum()):,} of {len(fr):,} rows have no label"
            + (f" (e.g. customers {format_examples(ex)})" if ex else "")
            + "; keep only customers whose outcome is known (eligible at the as-of date)"
        )
    return y.to_numpy(dtype="int64")


def _one_class(counts: np.ndarray, what: str, n: int, w: Wording) -> None:
    only = w.positive if counts[0] == 0 else w.negative
    raise AnalysisError(
        f"{w.noun} {what}: all {n:,} rows are {only} (one class only); a {w.noun} model needs both - check "
        f"the label ({w.label_option}) and the as-of date / window of the frame"
    )


def _check_classes(
    train_fr: pd.DataFrame, test_fr: pd.DataFrame, y_tr: np.ndarray, y_te: np.ndarray, *, w: Wording
) -> None:
    """Both classes, enough of each, and enough training rows."""
    for y, what, fr, k in (
        (y_tr, "training rows", train_fr, MIN_TRAIN_CLASS),
        (y_te, "held-out rows", test_fr, MIN_TEST_CLASS),
    ):
        counts = np.bincount(y, minlength=2)
        if counts.min() == 0:
            _one_class(counts, what, len(fr), w)
        if counts.min() < k:
            raise AnalysisError(
                f"{w.noun} {what}: only {counts[1]:,} {w.positive} and {counts[0]:,} {w.negative}; a model "
                f"needs at least {k} of each - use more customers, {w.window_option}, or a different "
                f"{w.opt('test_size')}"
            )
    if len(y_tr) < MIN_TRAIN_ROWS:
        raise AnalysisError(
            f"{w.noun} training rows: {len(y_tr):,} customers are too few for a model (need {MIN_TRAIN_ROWS})"
        )


def _check_leakage(frame: pd.DataFrame, y: np.ndarray, design: Design, *, leakage_auc: float) -> None:
    """Stop when one feature alone (nearly) separates the two classes."""
    spec = design.spec
    w = design.wording
    worst: list[tuple[float, str]] = []
    for c in spec.numeric:
        v = design._num(frame, c)
        a = auc_binary(y, np.where(np.isnan(v), design.medians[c], v))
        worst.append((max(a, 1 - a), c))
    for c in spec.categorical:
        s = cat_col(frame, c)
        rate = pd.Series(y).groupby(s.to_numpy()).transform("mean").to_numpy()
        a = auc_binary(y, rate)
        worst.append((max(a, 1 - a), c))
    hits = sorted([w for w in worst if np.isfinite(w[0]) and w[0] >= leakage_auc], reverse=True)
    if not hits:
        return
    auc, col = hits[0]
    same = ""
    try:
        lab = binary_label(frame[col], label=col)
        if lab.notna().all() and (np.array_equal(lab.to_numpy(), y) or np.array_equal(1 - lab.to_numpy(), y)):
            same = " - it is the label under another name"
    except AnalysisError:
        pass
    others = f" (also: {', '.join(f'{c} {a:.3f}' for a, c in hits[1:5])})" if len(hits) > 1 else ""
    raise AnalysisError(
        f"{w.noun} frame.{col}: this feature alone separates {w.positive} from {w.negative} in "
        f"{len(y):,} training rows (single-feature ROC AUC {auc:.3f} >= leakage_auc = "
        f"{leakage_auc}){same}{others}. A feature that good is almost always recorded after the "
        f"outcome (leakage); add {col!r} to {w.opt('exclude')} (or raise {w.opt('leakage_auc')} if it is "
        f"truly known before the as-of date)"
    )


def _new_model(kind: str, *, C: float, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if kind == "logistic":
        return LogisticRegression(C=C, max_iter=5000)
    return HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=15, random_state=seed,
    )


def _fit_quietly(kind: str, X: np.ndarray, y: np.ndarray, *, C: float, seed: int) -> Any:
    """A new ``logistic`` or ``hgb`` model fitted on ``X``, ``y`` (numeric RuntimeWarnings muted)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        return _new_model(kind, C=C, seed=seed).fit(X, y)


def _logistic_cov(X: np.ndarray, p: np.ndarray, C: float) -> np.ndarray:
    """Sandwich covariance of the L2-penalized logistic fit (intercept first, unpenalized)."""
    Xa = np.column_stack([np.ones(len(X)), X])
    w = p * (1 - p)
    info = (Xa * w[:, None]).T @ Xa
    pen = np.full(Xa.shape[1], 1.0 / C)
    pen[0] = 0.0
    H = info + np.diag(pen)
    Hi = np.linalg.pinv(H)
    return Hi @ info @ Hi
