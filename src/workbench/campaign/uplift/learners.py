"""Uplift models: the estimator (:class:`UpliftModel`, scikit-learn style) and its result
(:class:`UpliftModels`).

Design: :class:`UpliftModel` is an estimator, not a result: ``__init__`` stores the options
(``learner``, ``test_size``, ``max_rows``, ``propensity``, ``random_state``), ``fit(udata)``
returns ``self`` with learned attributes ending in ``_`` (``design_``, ``estimators_``,
``propensity_``, ``held_out_`` ...), and :meth:`UpliftModel.predict_uplift` scores any frame
with the feature columns. It has no ``summary``/``finding``. :class:`UpliftModels` is the
:class:`~workbench.report.results.Result` that wraps one fitted estimator for the notebook
(summary, finding, plot, metrics); :func:`fit_uplift` is the one-line convenience returning it.

Models
------
*T-learner* (two models): ``mu1(x) = E[Y | x, treated]`` fitted on treated rows, ``mu0(x)`` on
control rows; ``tau(x) = mu1(x) - mu0(x)``.

*X-learner* (Kuenzel, Sekhon, Bickel & Yu 2019, PNAS 116(10)): the same ``mu0``, ``mu1``; imputed
effects ``D1 = Y - mu0(x)`` on treated rows and ``D0 = mu1(x) - Y`` on control rows, regressed on
``x`` to give ``tau1(x)``, ``tau0(x)``; ``tau(x) = e(x) tau0(x) + (1 - e(x)) tau1(x)`` with the
propensity ``e(x)``: the randomization share (known, or the observed share of treated rows) or a
logistic regression of the arm on the features (``propensity='estimated'``).

Learners: ``hgb`` - scikit-learn ``HistGradientBoostingClassifier`` / ``...Regressor`` (native
missing values and categories); ``logistic`` - ``LogisticRegression`` / ``Ridge`` on standardized
numbers (median-imputed, with missing indicators) and one-hot categories.

Large campaigns: above ``max_rows`` contacts the models are fitted on a seeded stratified
subsample of ``max_rows`` rows (stated in the summary and the finding); predictions for the
targeting list run on every candidate.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.campaign.uplift._common import (
    LABEL,
    MAX_LEVELS,
    MIN_ROWS_PER_ARM_ERROR,
    MODELS,
    fmt_g,
    group_effect,
    points,
)
from workbench.campaign.uplift.data import UpliftData
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.data.threads import limit_threads
from workbench.report.fmt import num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import seed_ints

__all__ = ["UpliftModel", "UpliftModels", "fit_uplift"]


@dataclass(frozen=True)
class _Design:
    """How feature columns become a numeric matrix."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    levels: Mapping[str, tuple[str, ...]]
    medians: Mapping[str, float]
    means: Mapping[str, float]
    stds: Mapping[str, float]

    @classmethod
    def learn(
        cls, frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
    ) -> _Design:
        levels: dict[str, tuple[str, ...]] = {}
        for c in categorical:
            vc = frame[c].dropna().astype(str).value_counts()
            levels[c] = tuple(vc.index[:MAX_LEVELS])
        med, mean, std = {}, {}, {}
        for c in numeric:
            v = pd.to_numeric(frame[c], errors="coerce").astype("float64")
            m = float(v.median()) if v.notna().any() else 0.0
            med[c] = m
            filled = v.fillna(m)
            mean[c] = float(filled.mean())
            s = float(filled.std(ddof=0))
            std[c] = s if s > 0 else 1.0
        return cls(tuple(numeric), tuple(categorical), levels, med, mean, std)

    def _codes(self, frame: pd.DataFrame, c: str) -> np.ndarray:
        """Level codes 0..k-1, k = other (seen rarely or never), -1 = missing."""
        s = frame[c]
        lv = self.levels[c]
        codes = pd.Categorical(
            s.astype("string").astype(object).where(s.notna(), None), categories=list(lv)
        ).codes
        codes = codes.astype(np.int64)
        other = s.notna().to_numpy() & (codes < 0)
        codes[other] = len(lv)
        return codes

    def matrix(
        self, frame: pd.DataFrame, kind: Literal["hgb", "logistic"]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Feature matrix and the boolean mask of categorical columns (for HGB)."""
        cols: list[np.ndarray] = []
        cat_mask: list[bool] = []
        for c in self.numeric:
            v = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
            if kind == "hgb":
                cols.append(v)
                cat_mask.append(False)
            else:
                miss = np.isnan(v)
                cols.append((np.where(miss, self.medians[c], v) - self.means[c]) / self.stds[c])
                cols.append(miss.astype("float64"))  # missing indicator
                cat_mask.extend([False, False])
        for c in self.categorical:
            codes = self._codes(frame, c)
            if kind == "hgb":
                cols.append(np.where(codes < 0, np.nan, codes.astype("float64")))
                cat_mask.append(True)
            else:
                k = len(self.levels[c]) + 2  # levels, other, missing
                idx = np.where(codes < 0, k - 1, codes)
                onehot = np.zeros((len(frame), k))
                onehot[np.arange(len(frame)), idx] = 1.0
                cols.extend(onehot[:, j] for j in range(k))
                cat_mask.extend([False] * k)
        if not cols:
            return np.zeros((len(frame), 0)), np.zeros(0, dtype=bool)
        return np.column_stack(cols), np.asarray(cat_mask, dtype=bool)


def _estimator(
    kind: Literal["hgb", "logistic"],
    task: Literal["classify", "regress"],
    cat_mask: np.ndarray,
    seed: int,
):
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind == "hgb":
        opts = dict(
            learning_rate=0.05,
            max_iter=200,
            max_leaf_nodes=15,
            min_samples_leaf=50,
            l2_regularization=1.0,
            early_stopping=True,
            validation_fraction=0.15,
            n_iter_no_change=10,
            categorical_features=cat_mask if cat_mask.any() else None,
            random_state=seed,
        )
        return (
            HistGradientBoostingClassifier(**opts)
            if task == "classify"
            else HistGradientBoostingRegressor(**opts)
        )
    if task == "classify":
        return LogisticRegression(C=1.0, max_iter=2000)
    return Ridge(alpha=1.0)


class UpliftModel:
    """T-learner and X-learner of one randomized campaign as one scikit-learn-style estimator.

    ``__init__`` stores the options only; :meth:`fit` splits the rows of an :class:`UpliftData`
    into train / held-out (stratified by arm x outcome, seeded), fits the models on the train
    rows and predicts the held-out rows; :meth:`predict_uplift` scores any frame with the
    feature columns (the candidates of the next campaign, later).

    Parameters
    ----------
    learner : {'hgb', 'logistic'}, default 'hgb'
        ``hgb``: histogram gradient boosting; ``logistic``: logistic regression for the outcome
        models and ridge regression for the X-learner's effect models (linear effects).
    test_size : float, default 0.3
        Held-out share, stratified by arm x outcome; between 0.05 and 0.6.
    max_rows : int, default 200,000
        Above this many contacts a seeded stratified subsample of ``max_rows`` is used.
    propensity : float or {'observed', 'estimated'}, default 'observed'
        Treated share for the X-learner: a number (the planned randomization share), the share
        of treated rows in the training split, or a logistic regression of the arm on the
        features (for imperfect randomization).
    random_state : int, optional
        Seed of the split, the subsample and the learners (:func:`workbench.stats.seed_ints`).

    Attributes
    ----------
    data_ : UpliftData
        The data fitted on.
    design_ : _Design
        Feature design learned on the training rows.
    estimators_ : dict
        ``mu0``, ``mu1`` (outcome models), ``tau0``, ``tau1`` (X-learner effect models),
        ``propensity`` (propensity model or None).
    propensity_ : float
        Treated share used by the X-learner when the propensity is not estimated.
    propensity_kind_ : str
        ``known``, ``observed`` or ``estimated``.
    held_out_ : pandas.DataFrame
        Held-out rows: ``customer_id``, ``treated``, ``outcome``, ``t_learner``, ``x_learner``.
    n_train_, n_available_ : int
        Rows fitted on; rows available.
    """

    def __init__(
        self,
        *,
        learner: Literal["hgb", "logistic"] = "hgb",
        test_size: float = 0.3,
        max_rows: int = 200_000,
        propensity: float | Literal["observed", "estimated"] = "observed",
        random_state: int | None = None,
    ) -> None:
        self.learner = learner
        self.test_size = test_size
        self.max_rows = max_rows
        self.propensity = propensity
        self.random_state = random_state

    def __repr__(self) -> str:
        return (
            f"UpliftModel(learner={self.learner!r}, test_size={self.test_size}, max_rows={self.max_rows:,}, "
            f"propensity={self.propensity!r}, random_state={self.random_state!r})"
        )

    def _check_options(self) -> None:
        if self.learner not in ("hgb", "logistic"):
            raise AnalysisError(f"learner must be 'hgb' or 'logistic', got {self.learner!r}")
        if not 0.05 < self.test_size < 0.6:
            raise AnalysisError(f"test_size must be between 0.05 and 0.6, got {self.test_size}")
        if isinstance(self.propensity, str):
            if self.propensity not in ("observed", "estimated"):
                raise AnalysisError(
                    f"propensity must be a number, 'observed' or 'estimated', got {self.propensity!r}"
                )
        elif not 0 < float(self.propensity) < 1:
            raise AnalysisError(f"propensity must be between 0 and 1, got {self.propensity}")
        if self.max_rows < 2 * MIN_ROWS_PER_ARM_ERROR * 2:
            raise AnalysisError(
                f"max_rows must be at least {4 * MIN_ROWS_PER_ARM_ERROR}, got {self.max_rows}"
            )

    def fit(self, data: UpliftData) -> UpliftModel:
        """Fit the T-learner and the X-learner on a stratified train split of ``data``.

        Parameters
        ----------
        data : UpliftData
            From :func:`uplift_data`.

        Returns
        -------
        UpliftModel
            ``self``, fitted; the held-out rows are predicted in ``held_out_``.

        Raises
        ------
        AnalysisError
            An option out of range (see the class parameters).
        """
        from sklearn.model_selection import train_test_split

        self._check_options()
        seeds = seed_ints(self.random_state, 8)
        f = data.frame
        strata = _strata(data)
        n_avail = len(f)
        idx = np.arange(n_avail)
        if n_avail > self.max_rows:
            idx, _ = train_test_split(
                idx, train_size=self.max_rows, stratify=strata, random_state=seeds[0]
            )
            idx = np.sort(idx)
        tr, te = train_test_split(
            idx, test_size=self.test_size, stratify=strata[idx], random_state=seeds[1]
        )
        tr, te = np.sort(tr), np.sort(te)
        train = f.iloc[tr]
        self.data_ = data
        self.design_ = _Design.learn(train, data.numeric_features, data.categorical_features)
        self.estimators_ = self._fit_learners(train, data.binary, seeds)
        self.propensity_, self.propensity_kind_ = self._fit_propensity(train)
        self.n_train_ = len(tr)
        self.n_available_ = n_avail
        test = f.iloc[te]
        pred = self.predict_uplift(test)
        self.held_out_ = pd.DataFrame(
            {
                "customer_id": test["customer_id"].to_numpy(),
                "treated": test["treated"].to_numpy(),
                "outcome": test["outcome"].to_numpy(),
                "t_learner": pred["t_learner"].to_numpy(),
                "x_learner": pred["x_learner"].to_numpy(),
            }
        )
        return self

    def _fit_learners(self, train: pd.DataFrame, binary: bool, seeds: list[int]) -> dict[str, Any]:
        """Outcome models ``mu0``, ``mu1`` and the X-learner's effect models ``tau0``, ``tau1``."""
        X, cat_mask = self.design_.matrix(train, self.learner)
        t = train["treated"].to_numpy()
        y = train["outcome"].to_numpy(dtype="float64")
        task = "classify" if binary else "regress"

        def fit(task_: str, Xs: np.ndarray, ys: np.ndarray, seed: int) -> Any:
            est = _estimator(self.learner, task_, cat_mask, seed)  # type: ignore[arg-type]
            with warnings.catch_warnings(), limit_threads(len(ys)):
                warnings.simplefilter("ignore", category=UserWarning)
                return est.fit(Xs, ys.astype(np.int64) if task_ == "classify" else ys)

        def mu(est: Any, Xs: np.ndarray) -> np.ndarray:
            return est.predict_proba(Xs)[:, 1] if binary else est.predict(Xs)

        mu0 = fit(task, X[~t], y[~t], seeds[2])
        mu1 = fit(task, X[t], y[t], seeds[3])
        d1 = y[t] - mu(mu0, X[t])
        d0 = mu(mu1, X[~t]) - y[~t]
        tau1 = fit("regress", X[t], d1, seeds[4])
        tau0 = fit("regress", X[~t], d0, seeds[5])
        return {"mu0": mu0, "mu1": mu1, "tau0": tau0, "tau1": tau1, "propensity": None}

    def _fit_propensity(self, train: pd.DataFrame) -> tuple[float, str]:
        """The X-learner's treated share and its kind; fits the propensity model when estimated."""
        t = train["treated"].to_numpy()
        if self.propensity == "estimated":
            from sklearn.linear_model import LogisticRegression

            Xl, _ = self.design_.matrix(train, "logistic")
            est = LogisticRegression(C=1.0, max_iter=2000).fit(Xl, t.astype(np.int64))
            # fitted on the logistic design; applied to a frame, whatever the learner's matrix
            self.estimators_["propensity"] = _PropensityOnFrame(est, self.design_)
            return float(t.mean()), "estimated"
        if self.propensity == "observed":
            return float(t.mean()), "observed"
        return float(self.propensity), "known"

    def predict_uplift(self, frame: pd.DataFrame, *, model: str | None = None) -> pd.DataFrame:
        """Predicted uplift per row of ``frame`` (any frame with the feature columns).

        Parameters
        ----------
        frame : pandas.DataFrame
            Rows to score; needs the feature columns the models were fitted on.
        model : {'t_learner', 'x_learner'}, optional
            Only this model (faster on large frames); default both, plus ``mu0`` and ``mu1``.

        Returns
        -------
        pandas.DataFrame
            Same index as ``frame``: ``customer_id`` (when present), ``t_learner``,
            ``x_learner`` (predicted change of the outcome with the contact), ``mu0``, ``mu1``
            (predicted outcome without / with the contact; T-learner parts).

        Raises
        ------
        AnalysisError
            Feature columns are missing or an unknown model.
        """
        if model is not None and model not in MODELS:
            raise AnalysisError(
                f"model must be one of {', '.join(MODELS)}, got {model!r}{did_you_mean(model, MODELS)}"
            )
        features = self.data_.features
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise AnalysisError(
                f"candidate table: feature column(s) {', '.join(map(repr, missing))} missing "
                f"({len(frame):,} rows); the models were fitted on {', '.join(features)}; build the "
                "candidates the same way as the training features (or fit on other feature_columns=)"
            )
        X, _ = self.design_.matrix(frame, self.learner)
        with limit_threads(len(frame)):
            return self._predict_matrix(frame, X, model)

    def _mu(self, name: str, X: np.ndarray) -> np.ndarray:
        est = self.estimators_[name]
        if self.data_.binary:
            return est.predict_proba(X)[:, 1]
        return est.predict(X)

    def _predict_matrix(
        self, frame: pd.DataFrame, X: np.ndarray, model: str | None
    ) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        if "customer_id" in frame.columns:
            out["customer_id"] = frame["customer_id"]
        if model in (None, "t_learner"):
            mu0 = self._mu("mu0", X)
            mu1 = self._mu("mu1", X)
            out["t_learner"] = mu1 - mu0
        if model in (None, "x_learner"):
            tau0 = self.estimators_["tau0"].predict(X)
            tau1 = self.estimators_["tau1"].predict(X)
            if self.estimators_.get("propensity") is not None:
                e = np.clip(self.estimators_["propensity"].predict_frame(frame), 0.01, 0.99)
            else:
                e = np.full(len(frame), self.propensity_)
            out["x_learner"] = e * tau0 + (1 - e) * tau1
        if model is None:
            out["mu0"] = mu0
            out["mu1"] = mu1
        return out


class _PropensityOnFrame:
    """A propensity model fitted on the logistic design (applied to the frame, not the matrix)."""

    def __init__(self, est: Any, design: _Design) -> None:
        self.est = est
        self.design = design

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        X, _ = self.design.matrix(frame, "logistic")
        return self.est.predict_proba(X)[:, 1]


def _strata(data: UpliftData) -> np.ndarray:
    f = data.frame
    pos = (f["outcome"].to_numpy() > 0) if data.binary else (f["outcome"].to_numpy() != 0)
    return f["treated"].to_numpy().astype(np.int64) * 2 + pos.astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class UpliftModels(Result):
    """Fitted T-learner and X-learner (see :func:`fit_uplift`).

    Attributes
    ----------
    estimator : UpliftModel
        The fitted estimator. Its options and learned attributes read through properties:
        ``data``, ``learner``, ``design``, ``estimators`` (``mu0``, ``mu1`` outcome models,
        ``tau0``, ``tau1`` X-learner effect models, ``propensity`` model or None),
        ``propensity``, ``propensity_kind`` (``known`` / ``observed`` / ``estimated``),
        ``held_out`` (held-out rows: ``customer_id``, ``treated``, ``outcome`` and one
        prediction column per model), ``n_train``, ``n_available``, ``max_rows``,
        ``test_size``, ``random_state``.
    """

    estimator: UpliftModel

    @property
    def data(self) -> UpliftData:
        """The data the models were fitted on."""
        return self.estimator.data_

    @property
    def learner(self) -> str:
        """``hgb`` or ``logistic``."""
        return self.estimator.learner

    @property
    def design(self) -> _Design:
        """How the feature columns become the model matrix (learned on the training rows)."""
        return self.estimator.design_

    @property
    def estimators(self) -> dict[str, Any]:
        """The fitted scikit-learn models: ``mu0``, ``mu1``, ``tau0``, ``tau1``, ``propensity``."""
        return self.estimator.estimators_

    @property
    def propensity(self) -> float:
        """Share treated used by the X-learner (when not estimated)."""
        return self.estimator.propensity_

    @property
    def propensity_kind(self) -> str:
        """``known``, ``observed`` or ``estimated``."""
        return self.estimator.propensity_kind_

    @property
    def held_out(self) -> pd.DataFrame:
        """Held-out rows with one prediction column per model."""
        return self.estimator.held_out_

    @property
    def n_train(self) -> int:
        """Rows used to fit."""
        return self.estimator.n_train_

    @property
    def n_available(self) -> int:
        """Rows available (more than fit + held-out when subsampled)."""
        return self.estimator.n_available_

    @property
    def max_rows(self) -> int:
        """Cap on the rows used (fit + held-out)."""
        return int(self.estimator.max_rows)

    @property
    def test_size(self) -> float:
        """Held-out share."""
        return float(self.estimator.test_size)

    @property
    def random_state(self) -> int | None:
        """Seed of the split, the subsample and the learners."""
        return self.estimator.random_state

    @property
    def models(self) -> tuple[str, ...]:
        """Model names (columns of :meth:`predict`)."""
        return MODELS

    @property
    def subsampled(self) -> bool:
        """Whether the models were fitted on a subsample (more rows than ``max_rows``)."""
        return self.n_train + len(self.held_out) < self.n_available

    def predict(self, frame: pd.DataFrame, *, model: str | None = None) -> pd.DataFrame:
        """Predicted uplift per row of ``frame``: :meth:`UpliftModel.predict_uplift`."""
        return self.estimator.predict_uplift(frame, model=model)

    def summary(self) -> pd.DataFrame:
        """One row per model: ``model``, ``learner``, ``n_train``, ``n_held_out``,
        ``mean_predicted_uplift`` (held-out), ``sd_predicted_uplift``, ``share_positive``
        (predicted uplift > 0), ``observed_uplift`` (held-out, difference of means) with
        ``ci_low``, ``ci_high``."""
        h = self.held_out
        eff = group_effect(
            h["treated"].to_numpy(), h["outcome"].to_numpy(), None, self.data.binary
        ).iloc[0]
        rows = []
        for m in MODELS:
            p = h[m].to_numpy()
            rows.append(
                {
                    "model": m,
                    "learner": self.learner,
                    "n_train": self.n_train,
                    "n_held_out": len(h),
                    "mean_predicted_uplift": float(p.mean()),
                    "sd_predicted_uplift": float(p.std(ddof=1)),
                    "share_positive": float((p > 0).mean()),
                    "observed_uplift": float(eff["observed_uplift"]),
                    "ci_low": float(eff["ci_low"]),
                    "ci_high": float(eff["ci_high"]),
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Held-out rows with predictions (copy)."""
        return self.held_out.copy()

    def metrics(self) -> dict[str, Any]:
        """Fit sizes, learner, propensity and held-out prediction summary (JSON-able)."""
        s = self.summary().set_index("model")
        return {
            "learner": self.learner,
            "n_available": self.n_available,
            "n_train": self.n_train,
            "n_held_out": len(self.held_out),
            "subsampled": self.subsampled,
            "max_rows": self.max_rows,
            "test_size": self.test_size,
            "propensity": num(self.propensity),
            "propensity_kind": self.propensity_kind,
            "random_state": self.random_state,
            **{
                m: {
                    "mean_predicted_uplift": num(s.loc[m, "mean_predicted_uplift"]),
                    "sd_predicted_uplift": num(s.loc[m, "sd_predicted_uplift"]),
                    "share_positive": num(s.loc[m, "share_positive"]),
                }
                for m in MODELS
            },
        }

    def finding(self) -> str:
        """How the models were fitted and whether their average agrees with the experiment."""
        s = self.summary().set_index("model")
        diff = points if self.data.binary else fmt_g
        learner = t("campaign.uplift_models.learner_hgb" if self.learner == "hgb" else "campaign.uplift_models.learner_linear")
        text = t("campaign.uplift_models.fitted", learner=learner, n_train=f"{self.n_train:,}",
                 n_held=f"{len(self.held_out):,}")  # fmt: skip
        if self.subsampled:
            text += t("campaign.uplift_models.subsampled", n_available=f"{self.n_available:,}",
                      max_rows=f"{self.max_rows:,}")  # fmt: skip
        obs = s.iloc[0]
        text += t("campaign.uplift_models.held_out", uplift=diff(obs["observed_uplift"]), low=diff(obs["ci_low"]),
                  high=diff(obs["ci_high"]), t_mean=diff(s.loc["t_learner", "mean_predicted_uplift"]),
                  x_mean=diff(s.loc["x_learner", "mean_predicted_uplift"]),
                  share=pct(s.loc["x_learner", "share_positive"], 0))  # fmt: skip
        return text

    def plot(self, ax: Any = None) -> Any:
        """Distribution of predicted uplift on the held-out rows, one line per model, with the
        observed average uplift marked. Returns a matplotlib Axes."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(6, 3.5))
        long = self.held_out.melt(
            value_vars=list(MODELS), var_name="model", value_name="predicted uplift"
        )
        long["model"] = long["model"].map(LABEL)
        sns.histplot(
            data=long,
            x="predicted uplift",
            hue="model",
            element="step",
            stat="density",
            common_norm=False,
            ax=ax,
        )
        obs = float(self.summary()["observed_uplift"].iloc[0])
        ax.axvline(obs, color="black", ls="--", lw=1)
        ax.text(obs, ax.get_ylim()[1] * 0.95, " observed average", fontsize=8, va="top")
        ax.set_title("Predicted uplift on held-out contacts")
        return ax

    def __repr__(self) -> str:
        return (
            f"UpliftModels(learner={self.learner!r}, n_train={self.n_train:,}, "
            f"n_held_out={len(self.held_out):,}, subsampled={self.subsampled})"
        )


def fit_uplift(
    data: UpliftData,
    *,
    learner: Literal["hgb", "logistic"] = "hgb",
    test_size: float = 0.3,
    max_rows: int = 200_000,
    propensity: float | Literal["observed", "estimated"] = "observed",
    random_state: int | None = None,
) -> UpliftModels:
    """Fit a T-learner and an X-learner on a stratified train split; keep a held-out split.

    The one-line convenience for ``UpliftModels(UpliftModel(...).fit(data))``; the options are
    those of :class:`UpliftModel`.

    Returns
    -------
    UpliftModels

    Raises
    ------
    AnalysisError
        Unknown learner, ``test_size`` outside (0.05, 0.6), propensity outside (0, 1).
    """
    estimator = UpliftModel(
        learner=learner,
        test_size=test_size,
        max_rows=max_rows,
        propensity=propensity,
        random_state=random_state,
    )
    return UpliftModels(estimator.fit(data))
