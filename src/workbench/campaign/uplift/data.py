"""Uplift models on randomized campaign data and the targeting list (notebook
``04_campaign_evaluation.ipynb``, params ``analyses.campaign.uplift``).

Who should get the next campaign? A randomized campaign tells how much the contact changed the
outcome *on average*; uplift models estimate the change *per customer* from the customer's
features, so the next campaign can go to the customers it moves most.

One call per notebook section:

1. :func:`uplift_data` joins the contacts of one campaign (a treatment arm and the control arm)
   to a customer-level feature table and validates it -> :class:`UpliftData`.
2. :func:`fit_uplift` splits the rows into train / held-out (stratified by arm x outcome, seeded)
   and fits a two-model T-learner and an X-learner -> :class:`UpliftModels`.
3. :func:`evaluate_uplift` scores the held-out rows: Qini and uplift curves, their areas against
   random targeting, a bootstrap interval of the Qini coefficient and observed uplift by predicted
   decile -> :class:`UpliftEvaluation`.
4. :func:`targeting_list` ranks a candidate base by expected incremental profit
   ``uplift x value_per_conversion - contact_cost`` -> :class:`TargetingList`.

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

Evaluation (held-out rows only)
-------------------------------
Rows are sorted by predicted uplift, highest first; at each cut-off with ``n_t``, ``n_c``
treated and control rows and ``y_t``, ``y_c`` outcome sums above it:

* Qini curve ``Q = y_t - y_c n_t / n_c`` (Radcliffe 2007): incremental outcomes among the
  treated rows targeted so far;
* uplift curve ``U = (y_t / n_t - y_c / n_c) (n_t + n_c)``: incremental outcomes if everyone
  targeted so far were contacted (cumulative incremental gain);

against the share of held-out rows targeted (ties in the score are one step). Random targeting
is the straight line to the curve's end point. **Qini coefficient** = (area under the model's
Qini curve - area under the random line) / (area under the perfect Qini curve - area under the
random line); the perfect curve puts treated responders first and control responders last (for a
continuous outcome: treated rows by descending and control rows by ascending outcome). It is 0
for random ranking and 1 for perfect ranking; real campaigns score a few hundredths to a few
tenths because the perfect curve knows every outcome. **AUUC** = area under the uplift curve with
the y-axis divided by the number of held-out rows (incremental outcomes per customer of the
base, averaged over all targeting depths); ``auuc_vs_random`` subtracts the random line's area
(half the overall effect). The 95 % interval of the Qini coefficient is a percentile bootstrap
over held-out rows (predictions fixed: evaluation noise, not model refit noise).

Observed uplift per predicted decile: difference of proportions with Newcombe's hybrid Wilson
interval (binary outcome) or a Welch interval (continuous outcome), a two-sided z-test per decile
and Holm's correction across the deciles of a model.

Large campaigns: above ``max_rows`` contacts the models are fitted on a seeded stratified
subsample of ``max_rows`` rows (stated in the summary and the finding); predictions for the
targeting list run on every candidate.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    format_examples,
)
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm, seed_ints, wilson_interval

__all__ = [
    "MODELS",
    "UpliftData",
    "uplift_data",
    "UpliftModels",
    "fit_uplift",
    "UpliftEvaluation",
    "evaluate_uplift",
    "uplift_curves",
    "qini_coefficient",
    "TargetingList",
    "targeting_list",
]

#: Model names, in the order of every table.
MODELS: tuple[str, ...] = ("t_learner", "x_learner")
_LABEL = {"t_learner": "T-learner", "x_learner": "X-learner"}

_TABLE = "campaign_contacts"
_KEY = "analyses.campaign.uplift"
#: Fewer rows than this in an arm: no model (error).
MIN_ROWS_PER_ARM_ERROR: int = 50
#: Fewer rows than this in an arm: uplift is too noisy to learn (StatisticalWarning).
MIN_ROWS_PER_ARM_WARN: int = 200
#: Fewer positives than this in an arm (binary outcome): error / warning.
MIN_POSITIVES_ERROR: int = 5
MIN_POSITIVES_WARN: int = 30
#: Categorical features keep this many most frequent levels; the rest become "other".
MAX_LEVELS: int = 50
#: A feature equal to a contacts column on this share of rows is a copy of the outcome or arm.
LEAK_SHARE: float = 0.99
#: Contacts columns a feature must not copy (post-treatment information).
_CONTACT_COLUMNS: tuple[str, ...] = (
    "arm", "delivered", "opened", "clicked", "visited", "converted", "revenue",
)  # fmt: skip


# ============================================================================================
# helpers
# ============================================================================================


def _fmt(x: Any, digits: int = 3) -> str:
    v = num(x)
    return "n/a" if v is None else f"{v:.{digits}g}"


def _pp(x: Any, digits: int = 1) -> str:
    """Percentage points: 0.0412 -> '4.1 pp'."""
    v = num(x)
    return "n/a" if v is None else f"{100 * v:.{digits}f} pp"


def _money(x: Any, currency: str = "") -> str:
    v = num(x)
    return "n/a" if v is None else f"{currency}{v:,.2f}"


def _diff_ci(
    k1: np.ndarray, n1: np.ndarray, k0: np.ndarray, n0: np.ndarray, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Difference of proportions ``k1/n1 - k0/n0``: Newcombe hybrid Wilson interval and the
    pooled two-proportion z-test p-value (vectorized)."""
    from scipy.stats import norm

    k1, n1, k0, n0 = (np.asarray(a, dtype="float64") for a in (k1, n1, k0, n0))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = k1 / n1, k0 / n0
        l1, u1 = wilson_interval(k1, n1, confidence=confidence)
        l0, u0 = wilson_interval(k0, n0, confidence=confidence)
        d = p1 - p0
        lo = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
        hi = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
        pool = (k1 + k0) / (n1 + n0)
        se = np.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0))
        p = np.where(se > 0, 2 * norm.sf(np.abs(d) / se), np.where(d == 0, 1.0, 0.0))
    p = np.where((n1 > 0) & (n0 > 0), p, np.nan)
    return d, lo, hi, p


def _diff_mean_ci(
    m1: np.ndarray, v1: np.ndarray, n1: np.ndarray, m0: np.ndarray, v0: np.ndarray, n0: np.ndarray,
    *, confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Difference of means with a Welch interval and p-value (vectorized)."""
    from scipy.stats import t as tdist

    m1, v1, n1, m0, v0, n0 = (np.asarray(a, dtype="float64") for a in (m1, v1, n1, m0, v0, n0))
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v0 / n0
        se = np.sqrt(a + b)
        df = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n0 - 1))
        d = m1 - m0
        q = tdist.ppf(1 - (1 - confidence) / 2, df)
        p = np.where(se > 0, 2 * tdist.sf(np.abs(d) / se, df), np.where(d == 0, 1.0, 0.0))
    return d, d - q * se, d + q * se, p


def _group_effect(
    treated: np.ndarray, y: np.ndarray, groups: np.ndarray | None, binary: bool, n_groups: int = 1
) -> pd.DataFrame:
    """Per group: n and mean of both arms, observed uplift with interval and p-value."""
    g = np.zeros(len(y), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    t = treated.astype(bool)
    y = y.astype("float64")
    n1 = np.bincount(g[t], minlength=n_groups).astype(float)
    n0 = np.bincount(g[~t], minlength=n_groups).astype(float)
    s1 = np.bincount(g[t], weights=y[t], minlength=n_groups)
    s0 = np.bincount(g[~t], weights=y[~t], minlength=n_groups)
    if binary:
        d, lo, hi, p = _diff_ci(s1, n1, s0, n0)
    else:
        q1 = np.bincount(g[t], weights=y[t] ** 2, minlength=n_groups)
        q0 = np.bincount(g[~t], weights=y[~t] ** 2, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            m1, m0 = s1 / n1, s0 / n0
            v1 = (q1 - n1 * m1**2) / (n1 - 1)
            v0 = (q0 - n0 * m0**2) / (n0 - 1)
        d, lo, hi, p = _diff_mean_ci(m1, v1, n1, m0, v0, n0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame(
            {
                "n_treated": n1.astype(np.int64),
                "n_control": n0.astype(np.int64),
                "mean_treated": s1 / n1,
                "mean_control": s0 / n0,
                "observed_uplift": d,
                "ci_low": lo,
                "ci_high": hi,
                "p_value": p,
            }
        )


def _examples(values: Any) -> str:
    return format_examples(list(pd.Series(values).head(20)))


# ============================================================================================
# feature design (learned once on the training rows, applied to any frame)
# ============================================================================================


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
    def learn(cls, frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> _Design:
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
        codes = pd.Categorical(s.astype("string").astype(object).where(s.notna(), None), categories=list(lv)).codes
        codes = codes.astype(np.int64)
        other = s.notna().to_numpy() & (codes < 0)
        codes[other] = len(lv)
        return codes

    def matrix(self, frame: pd.DataFrame, kind: Literal["hgb", "logistic"]) -> tuple[np.ndarray, np.ndarray]:
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


#: Below this many rows gradient boosting runs single-threaded: faster on small data and immune to
#: OpenMP slow-downs when other processes share the cores.
SINGLE_THREAD_ROWS: int = 50_000


def _threads(n_rows: int) -> Any:
    """Context limiting OpenMP to one thread for small data (no-op for large data)."""
    import contextlib

    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="openmp") if n_rows < SINGLE_THREAD_ROWS else contextlib.nullcontext()


def _estimator(kind: Literal["hgb", "logistic"], task: Literal["classify", "regress"], cat_mask: np.ndarray, seed: int):
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
        return HistGradientBoostingClassifier(**opts) if task == "classify" else HistGradientBoostingRegressor(**opts)
    if task == "classify":
        return LogisticRegression(C=1.0, max_iter=2000)
    return Ridge(alpha=1.0)


# ============================================================================================
# 1. data
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class UpliftData(Result):
    """Contacts of one randomized campaign joined to customer features (see :func:`uplift_data`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per contact: ``customer_id``, ``treated`` (bool), ``outcome`` (float), then the
        feature columns.
    campaign : str or None
        Campaign id (None when the contacts have no ``campaign_id`` column).
    treatment_arm, control_arm : str
        Arms compared.
    outcome : str
        Outcome column of ``campaign_contacts``.
    binary : bool
        Outcome is 0/1 (classifiers) rather than continuous (regressors).
    numeric_features, categorical_features : tuple of str
        Features used.
    dropped_features : dict
        Feature -> why it is not used.
    n_contacts : int
        Contacts of the two arms before the join.
    n_without_features : int
        Contacts dropped because the feature table has no row for the customer.
    n_missing_outcome : int
        Contacts dropped because the outcome is missing.
    value_per_conversion : float or None
        Mean ``revenue`` of treated converters (binary outcome with a ``revenue`` column); 1.0
        for a continuous outcome (already a value).
    contact_cost : float or None
        Mean ``cost`` of a treated contact (``cost`` column).
    """

    frame: pd.DataFrame
    campaign: str | None
    treatment_arm: str
    control_arm: str
    outcome: str
    binary: bool
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    dropped_features: dict[str, str] = field(default_factory=dict)
    n_contacts: int = 0
    n_without_features: int = 0
    n_missing_outcome: int = 0
    value_per_conversion: float | None = None
    contact_cost: float | None = None

    @property
    def features(self) -> tuple[str, ...]:
        """All feature columns used (numeric first)."""
        return self.numeric_features + self.categorical_features

    def effect(self) -> pd.DataFrame:
        """Average effect of the treatment arm: one row with ``n_treated``, ``n_control``,
        ``mean_treated``, ``mean_control``, ``observed_uplift``, ``ci_low``, ``ci_high`` (95 %,
        Newcombe for a binary outcome, Welch otherwise) and ``p_value``."""
        f = self.frame
        return _group_effect(f["treated"].to_numpy(), f["outcome"].to_numpy(), None, self.binary)

    def summary(self) -> pd.DataFrame:
        """One row per arm: ``arm``, ``contacts``, ``positives`` (binary outcome),
        ``outcome_mean`` with a 95 % interval (Wilson for a binary outcome, t otherwise)."""
        from scipy.stats import t as tdist

        f = self.frame
        rows = []
        for arm, is_t in ((self.treatment_arm, True), (self.control_arm, False)):
            y = f.loc[f["treated"] == is_t, "outcome"].to_numpy(dtype="float64")
            n = len(y)
            m = float(y.mean()) if n else float("nan")
            if self.binary:
                lo, hi = wilson_interval(y.sum(), n)
                lo_, hi_ = float(lo[0]), float(hi[0])
            else:
                se = float(y.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
                q = float(tdist.ppf(0.975, max(n - 1, 1)))
                lo_, hi_ = m - q * se, m + q * se
            rows.append(
                {
                    "arm": arm,
                    "role": "treatment" if is_t else "control",
                    "contacts": n,
                    "positives": int((y > 0).sum()),
                    "outcome_mean": m,
                    "ci_low": lo_,
                    "ci_high": hi_,
                }
            )
        return pd.DataFrame(rows)

    def feature_table(self) -> pd.DataFrame:
        """One row per candidate feature: ``feature``, ``kind`` (numeric / categorical /
        dropped), ``missing_share``, ``reason`` (why dropped)."""
        f = self.frame
        rows = [
            {"feature": c, "kind": "numeric", "missing_share": float(f[c].isna().mean()), "reason": ""}
            for c in self.numeric_features
        ]
        rows += [
            {"feature": c, "kind": "categorical", "missing_share": float(f[c].isna().mean()), "reason": ""}
            for c in self.categorical_features
        ]
        rows += [{"feature": c, "kind": "dropped", "missing_share": np.nan, "reason": r} for c, r in self.dropped_features.items()]
        return pd.DataFrame(rows, columns=["feature", "kind", "missing_share", "reason"])

    def to_frame(self) -> pd.DataFrame:
        """The joined rows (copy)."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Rows, arms, effect and features (JSON-able)."""
        e = self.effect().iloc[0]
        s = self.summary().set_index("role")
        return {
            "campaign": self.campaign,
            "treatment_arm": self.treatment_arm,
            "control_arm": self.control_arm,
            "outcome": self.outcome,
            "binary": self.binary,
            "n_rows": len(self.frame),
            "n_treated": int(s.loc["treatment", "contacts"]),
            "n_control": int(s.loc["control", "contacts"]),
            "n_contacts": self.n_contacts,
            "n_without_features": self.n_without_features,
            "n_missing_outcome": self.n_missing_outcome,
            "mean_treated": num(e["mean_treated"]),
            "mean_control": num(e["mean_control"]),
            "observed_uplift": num(e["observed_uplift"]),
            "observed_uplift_ci": [num(e["ci_low"]), num(e["ci_high"])],
            "p_value": num(e["p_value"]),
            "features": list(self.features),
            "dropped_features": dict(self.dropped_features),
            "value_per_conversion": num(self.value_per_conversion),
            "contact_cost": num(self.contact_cost),
        }

    def finding(self) -> str:
        """Size of the experiment and the average effect, in words."""
        e = self.effect().iloc[0]
        what = f"{self.outcome} rate" if self.binary else f"mean {self.outcome}"
        fmt = pct if self.binary else _fmt
        diff = _pp if self.binary else _fmt
        sig = "clearly" if e["p_value"] < 0.05 else "not clearly"
        text = (
            f"{len(self.frame):,} contacts of {self.campaign or 'the campaign'} with features: "
            f"{int(e['n_treated']):,} in {self.treatment_arm!r}, {int(e['n_control']):,} in {self.control_arm!r}. "
            f"The {what} is {fmt(e['mean_treated'])} with the contact and {fmt(e['mean_control'])} without: "
            f"an average uplift of {diff(e['observed_uplift'])} (95 % CI {diff(e['ci_low'])} to "
            f"{diff(e['ci_high'])}), {sig} different from zero. "
            f"{len(self.features)} customer features are available to find who responds more than average."
        )
        if self.dropped_features:
            text += f" Not used: {', '.join(f'{k} ({v})' for k, v in list(self.dropped_features.items())[:6])}."
        return text

    def plot(self, ax: Any = None) -> Any:
        """Outcome by arm with 95 % intervals. Returns a matplotlib Axes."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(5, 3.5))
        s = self.summary()
        sns.barplot(data=s, x="arm", y="outcome_mean", hue="role", dodge=False, ax=ax, legend=False)
        ax.errorbar(
            np.arange(len(s)),
            s["outcome_mean"],
            yerr=[s["outcome_mean"] - s["ci_low"], s["ci_high"] - s["outcome_mean"]],
            fmt="none",
            color="black",
            capsize=4,
        )
        ax.set_ylabel(f"{self.outcome} rate" if self.binary else f"mean {self.outcome}")
        ax.set_xlabel("")
        ax.set_title(f"{self.campaign or 'campaign'}: {self.outcome} by arm (95 % CI)")
        return ax

    def __repr__(self) -> str:
        s = self.summary().set_index("role")
        return (
            f"UpliftData(campaign={self.campaign!r}, outcome={self.outcome!r}, "
            f"treated={int(s.loc['treatment', 'contacts']):,}, control={int(s.loc['control', 'contacts']):,}, "
            f"features={len(self.features)})"
        )


def _as_outcome(values: pd.Series, outcome: str) -> tuple[pd.Series, bool]:
    """Outcome as float and whether it is binary; raises on non-numbers."""
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").astype("float64"), True
    if not pd.api.types.is_numeric_dtype(s.dtype):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            raise AnalysisError(
                f"{_TABLE}.{outcome}: {int(bad.sum()):,} of {len(s):,} rows are not numbers or true/false, "
                f"e.g. {_examples(s[bad])}; choose a numeric or 0/1 outcome with {_KEY}.outcome"
            )
        s = conv
    s = s.astype("float64")
    vals = s.dropna()
    binary = bool(vals.isin([0.0, 1.0]).all())
    return s, binary


def _agrees(a: np.ndarray, b: np.ndarray, rare: np.ndarray) -> bool:
    """``a == b`` on >= LEAK_SHARE of rows and on >= 90 % of the rows where ``b`` is not its
    most common value (so a feature that is merely mostly 0 does not copy a rare outcome)."""
    eq = a == b
    if float(eq.mean()) < LEAK_SHARE:
        return False
    return bool(rare.sum() == 0 or float(eq[rare].mean()) >= 0.9)


def _leak_reason(feat: pd.Series, contacts: pd.DataFrame) -> str | None:
    """Why ``feat`` carries post-contact information, else None.

    A feature copies a contacts column (arm, opened, visited, converted, revenue, ...) when it
    equals it, or is non-zero exactly when it is (``spend`` vs ``converted``), on >= 99 % of the
    rows including >= 90 % of the rows where the column is not its most common value; a
    feature with at most 50 values copies the arm when its values sort rows into arms (>= 99 %
    of rows in the majority arm of their value).
    """
    a = feat.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(a.dtype) or pd.api.types.is_bool_dtype(a.dtype)
    for c in _CONTACT_COLUMNS:
        if c not in contacts.columns:
            continue
        b = contacts[c].reset_index(drop=True)
        ok = (a.notna() & b.notna()).to_numpy()
        if ok.sum() < 0.5 * len(a) or ok.sum() == 0:
            continue
        aa, bb = a[ok], b[ok]
        b_num = pd.api.types.is_numeric_dtype(bb.dtype) or pd.api.types.is_bool_dtype(bb.dtype)
        if numeric and b_num:
            av = aa.astype("float64").to_numpy()
            bv = bb.astype("float64").to_numpy()
            mode = pd.Series(bv).mode().iloc[0]
            rare = bv != mode
            if _agrees(np.round(av, 6), np.round(bv, 6), rare):
                return f"copies {_TABLE}.{c} (post-contact information)"
            if _agrees(av != 0, bv != 0, rare):
                return f"is non-zero exactly when {_TABLE}.{c} is (post-contact information)"
        elif not numeric and not b_num:
            av = aa.astype(str).to_numpy()
            bv = bb.astype(str).to_numpy()
            mode = pd.Series(bv).mode().iloc[0]
            if _agrees(av, bv, bv != mode):
                return f"copies {_TABLE}.{c} (post-contact information)"
    if "arm" in contacts.columns and a.nunique(dropna=True) <= MAX_LEVELS:
        arm = contacts["arm"].astype("string").reset_index(drop=True)
        ok = (a.notna() & arm.notna()).to_numpy()
        if ok.sum() >= 0.5 * len(a):
            tab = pd.crosstab(a[ok].astype(str), arm[ok])
            if tab.shape[1] > 1 and tab.max(axis=1).sum() >= LEAK_SHARE * tab.to_numpy().sum():
                return f"sorts rows into {_TABLE}.arm (post-assignment information)"
    return None


def uplift_data(
    contacts: pd.DataFrame,
    features: pd.DataFrame,
    *,
    treatment_arm: str | None = None,
    control_arm: str = "control",
    outcome: str = "converted",
    feature_columns: Sequence[str] | None = None,
    campaign: str | None = None,
) -> UpliftData:
    """Join the contacts of one randomized campaign to customer features and check them.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Canonical ``campaign_contacts``: ``customer_id``, ``arm``, the outcome column; optional
        ``campaign_id``, ``cost`` (default contact cost), ``revenue`` (default value per
        conversion). Not modified.
    features : pandas.DataFrame
        One row per customer: ``customer_id`` and features known *before* the contact (e.g.
        :func:`workbench.data.features.customer_features` as of the day before the campaign, or the
        extra columns of ``customers``). Datetime and id-like text columns are dropped; columns
        that copy a contacts column (arm, outcome) are dropped with a warning.
    treatment_arm : str, optional
        Arm compared with control (``analyses.campaign.uplift.treatment_arm``); default the
        largest arm other than control.
    control_arm : str, default "control"
        Hold-out arm (``analyses.campaign.control_arm``).
    outcome : str, default "converted"
        0/1 outcome (classifiers) or a numeric one such as ``revenue`` (regressors)
        (``analyses.campaign.uplift.outcome``).
    feature_columns : sequence of str, optional
        Features to use (``analyses.campaign.uplift.features``); default every usable column.
    campaign : str, optional
        ``campaign_id`` to use (``analyses.campaign.uplift.campaign``); default the largest
        campaign that has both arms.

    Returns
    -------
    UpliftData

    Raises
    ------
    AnalysisError
        Missing columns, unknown campaign or arm, an arm with fewer than 50 rows or fewer than 5
        positives, an outcome that is not numeric, duplicated customers within the campaign,
        feature columns not in the feature table, no contact with features, no usable feature.

    Warns
    -----
    StatisticalWarning
        Fewer than 200 rows or 30 positives in an arm.
    DataQualityWarning
        Contacts without features or without outcome were dropped; a feature copies the outcome.
    """
    for col in ("customer_id", "arm", outcome):
        if col not in contacts.columns:
            key = f"{_KEY}.outcome" if col == outcome else f"tables.{_TABLE}.columns.{col}"
            raise AnalysisError(
                f"{_TABLE}: column {col!r} is missing ({len(contacts):,} rows; columns: "
                f"{', '.join(map(str, contacts.columns))}); map it or change {key}"
            )
    if "customer_id" not in features.columns:
        raise AnalysisError(
            f"feature table: column 'customer_id' is missing (columns: {', '.join(map(str, features.columns))}); "
            "build it with workbench.data.features.customer_features"
        )
    dup = features["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"feature table: {int(dup.sum()):,} of {len(features):,} rows repeat a customer_id, "
            f"e.g. {_examples(features.loc[dup, 'customer_id'])}; it must have one row per customer"
        )

    cc = contacts
    if "campaign_id" in cc.columns:
        camp_ids = cc["campaign_id"].astype("string")
        known = camp_ids.dropna().unique().tolist()
        if campaign is None:
            # the largest campaign with both arms; else with the control arm; else the largest (the arm
            # checks below then list the arms that exist)
            sizes = list(camp_ids.value_counts().index)
            if not sizes:
                raise AnalysisError(f"{_TABLE}.campaign_id: no campaign in {len(cc):,} rows; check the table")
            arm_s = cc["arm"].astype("string")
            with_c = set(camp_ids[(arm_s == control_arm).fillna(False)].dropna())
            with_t = set(camp_ids[(arm_s == treatment_arm).fillna(False)].dropna()) if treatment_arm else set(sizes)
            cands = [c for c in sizes if c in with_c and c in with_t] or [c for c in sizes if c in with_c] or sizes
            campaign = str(cands[0])
        elif campaign not in known:
            raise AnalysisError(
                f"{_TABLE}.campaign_id: campaign {campaign!r} not found ({len(cc):,} rows; campaigns: "
                f"{format_examples(known, 10)}); change {_KEY}.campaign"
            )
        cc = cc.loc[(camp_ids == campaign).fillna(False).to_numpy()]
    elif campaign is not None:
        raise AnalysisError(
            f"{_TABLE}: no campaign_id column, so campaign {campaign!r} cannot be selected; "
            f"map tables.{_TABLE}.columns.campaign_id or set {_KEY}.campaign: null"
        )

    arm = cc["arm"].astype("string")
    counts = arm.value_counts()
    arms_txt = ", ".join(f"{a!r} ({n:,})" for a, n in counts.items())
    where = f"{_TABLE}.arm" + (f" (campaign {campaign!r})" if campaign else "")
    if control_arm not in counts.index:
        raise AnalysisError(
            f"{where}: control arm {control_arm!r} not found among {len(cc):,} rows; arms: {arms_txt}; "
            "change analyses.campaign.control_arm"
        )
    if treatment_arm is None:
        others = [a for a in counts.index if a != control_arm]
        if not others:
            raise AnalysisError(
                f"{where}: only the control arm {control_arm!r} is present ({len(cc):,} rows); "
                f"uplift needs a treatment arm; check {_KEY}.campaign"
            )
        treatment_arm = str(others[0])
    elif treatment_arm not in counts.index:
        raise AnalysisError(
            f"{where}: treatment arm {treatment_arm!r} not found among {len(cc):,} rows; arms: {arms_txt}; "
            f"change {_KEY}.treatment_arm"
        )
    keep = arm.isin([treatment_arm, control_arm]).fillna(False).to_numpy()
    cc = cc.loc[keep]
    n_contacts = len(cc)
    dupc = cc["customer_id"].duplicated()
    if dupc.any():
        raise AnalysisError(
            f"{where}: {int(dupc.sum()):,} of {n_contacts:,} contacts repeat a customer_id within the campaign, "
            f"e.g. {_examples(cc.loc[dupc, 'customer_id'])}; one contact per customer and campaign is expected"
        )

    y, binary = _as_outcome(cc[outcome], outcome)
    treated = (cc["arm"].astype("string") == treatment_arm).to_numpy(dtype=bool)

    # value per conversion and cost per contact, from the contacts
    value = None
    if not binary:
        value = 1.0
    elif "revenue" in cc.columns:
        rev = pd.to_numeric(cc["revenue"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        sel = treated & (y.to_numpy() == 1) & np.isfinite(rev) & (rev > 0)
        if sel.any():
            value = float(rev[sel].mean())
    cost = None
    if "cost" in cc.columns:
        cst = pd.to_numeric(cc["cost"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ok = treated & np.isfinite(cst)
        if ok.any():
            cost = float(cst[ok].mean())

    base = pd.DataFrame(
        {
            "customer_id": cc["customer_id"].to_numpy(),
            "treated": treated,
            "outcome": y.to_numpy(dtype="float64"),
        }
    )
    miss_y = np.isnan(base["outcome"].to_numpy())
    n_missing_outcome = int(miss_y.sum())
    if n_missing_outcome:
        warnings.warn(
            f"{_TABLE}.{outcome}: {n_missing_outcome:,} of {n_contacts:,} contacts have no outcome and are left out",
            DataQualityWarning,
            stacklevel=2,
        )

    # candidate features
    dropped: dict[str, str] = {}
    if feature_columns is not None:
        missing = [c for c in feature_columns if c not in features.columns]
        if missing:
            raise AnalysisError(
                f"feature table: feature column(s) {', '.join(map(repr, missing))} not found "
                f"({len(features):,} rows; columns: {', '.join(map(str, features.columns))}); change {_KEY}.features"
            )
        cand = [c for c in feature_columns if c != "customer_id"]
    else:
        cand = [c for c in features.columns if c != "customer_id"]

    # join: contacts keep their order; features by customer_id (compared as text)
    fkey = features["customer_id"].astype("string")
    pos = pd.Index(fkey).get_indexer(base["customer_id"].astype("string"))
    has = pos >= 0
    n_without = int((~has).sum())
    ok_rows = has & ~miss_y
    if not ok_rows.any():
        raise AnalysisError(
            f"{_TABLE}.customer_id: none of the {n_contacts:,} contacts has a row in the feature table "
            f"(contacts e.g. {_examples(base['customer_id'])}; features e.g. {_examples(features['customer_id'])}); "
            "build the features for the same customers and keys"
        )
    if n_without:
        warnings.warn(
            f"{_TABLE}.customer_id: {n_without:,} of {n_contacts:,} contacts have no row in the feature table "
            f"(e.g. {_examples(base.loc[~has, 'customer_id'])}) and are left out",
            DataQualityWarning,
            stacklevel=2,
        )
    feat_rows = features.iloc[pos[ok_rows]].reset_index(drop=True)
    contacts_ok = cc.iloc[np.flatnonzero(ok_rows)].reset_index(drop=True)
    base = base.loc[ok_rows].reset_index(drop=True)

    numeric: list[str] = []
    categorical: list[str] = []
    n = len(base)
    for c in cand:
        s = feat_rows[c]
        if c in ("treated", "outcome"):
            dropped[c] = "reserved name"
            continue
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
            dropped[c] = "date/time (use a number of days instead)"
            continue
        if s.notna().sum() == 0:
            dropped[c] = "all missing"
            continue
        if s.nunique(dropna=True) < 2:
            dropped[c] = "constant"
            continue
        leak = _leak_reason(s, contacts_ok)
        if leak:
            dropped[c] = leak
            warnings.warn(
                f"feature {c!r} {leak} and is not used: it would leak the outcome into the model",
                DataQualityWarning,
                stacklevel=2,
            )
            continue
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            numeric.append(c)
            continue
        nun = s.nunique(dropna=True)
        if nun > MAX_LEVELS and nun > 0.5 * s.notna().sum():
            dropped[c] = f"id-like text ({nun:,} distinct values)"
            continue
        categorical.append(c)
    if not numeric and not categorical:
        raise AnalysisError(
            f"feature table: no usable feature among {len(cand):,} column(s) "
            f"({'; '.join(f'{k}: {v}' for k, v in list(dropped.items())[:8]) or 'none given'}); "
            f"set {_KEY}.features or build features with workbench.data.features.customer_features"
        )
    frame = pd.concat(
        [base, feat_rows[numeric + categorical].reset_index(drop=True)], axis=1
    )
    for c in numeric:
        if pd.api.types.is_bool_dtype(frame[c].dtype):
            frame[c] = frame[c].astype("Float64").astype("float64")

    # enough rows and positives per arm?
    t = frame["treated"].to_numpy()
    yy = frame["outcome"].to_numpy()
    for name, mask, role_key in (
        (treatment_arm, t, f"{_KEY}.treatment_arm"),
        (control_arm, ~t, "analyses.campaign.control_arm"),
    ):
        k = int(mask.sum())
        pos_k = int((yy[mask] > 0).sum()) if binary else int((yy[mask] != 0).sum())
        if k < MIN_ROWS_PER_ARM_ERROR:
            raise AnalysisError(
                f"{where}: arm {name!r} has {k:,} contacts with features and outcome (of {n:,}); "
                f"at least {MIN_ROWS_PER_ARM_ERROR} per arm are needed to learn uplift; check {role_key}"
            )
        if pos_k < MIN_POSITIVES_ERROR:
            what = "positive" if binary else "non-zero"
            raise AnalysisError(
                f"{_TABLE}.{outcome}: {pos_k:,} of {k:,} contacts in arm {name!r} are {what}; uplift cannot be "
                f"learned from (almost) no responders; choose a more frequent outcome with {_KEY}.outcome"
            )
        if k < MIN_ROWS_PER_ARM_WARN or (binary and pos_k < MIN_POSITIVES_WARN):
            warnings.warn(
                f"{where}: arm {name!r} has only {k:,} contacts and {pos_k:,} positives; individual uplift "
                f"estimates will be very noisy (about {MIN_ROWS_PER_ARM_WARN} contacts and "
                f"{MIN_POSITIVES_WARN} responders per arm are a minimum)",
                StatisticalWarning,
                stacklevel=2,
            )
    return UpliftData(
        frame=frame,
        campaign=campaign,
        treatment_arm=str(treatment_arm),
        control_arm=str(control_arm),
        outcome=outcome,
        binary=binary,
        numeric_features=tuple(numeric),
        categorical_features=tuple(categorical),
        dropped_features=dropped,
        n_contacts=n_contacts,
        n_without_features=n_without,
        n_missing_outcome=n_missing_outcome,
        value_per_conversion=value,
        contact_cost=cost,
    )


# ============================================================================================
# 2. models
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class UpliftModels(Result):
    """Fitted T-learner and X-learner (see :func:`fit_uplift`).

    Attributes
    ----------
    data : UpliftData
        The data they were fitted on.
    learner : str
        ``hgb`` or ``logistic``.
    estimators : dict
        ``mu0``, ``mu1`` (outcome models), ``tau0``, ``tau1`` (X-learner effect models) and
        ``propensity`` (fitted model or None).
    propensity : float
        Share treated used by the X-learner (when not estimated).
    propensity_kind : str
        ``known``, ``observed`` or ``estimated``.
    held_out : pandas.DataFrame
        Held-out rows: ``customer_id``, ``treated``, ``outcome`` and one prediction column per
        model.
    n_train, n_available : int
        Rows used to fit; rows available (more than ``n_train + len(held_out)`` when subsampled).
    max_rows : int
        Cap on the rows used (fit + held-out).
    test_size : float
    random_state : int or None
    """

    data: UpliftData
    learner: str
    design: _Design
    estimators: dict[str, Any]
    propensity: float
    propensity_kind: str
    held_out: pd.DataFrame
    n_train: int
    n_available: int
    max_rows: int
    test_size: float
    random_state: int | None

    @property
    def models(self) -> tuple[str, ...]:
        """Model names (columns of :meth:`predict`)."""
        return MODELS

    @property
    def subsampled(self) -> bool:
        """Whether the models were fitted on a subsample (more rows than ``max_rows``)."""
        return self.n_train + len(self.held_out) < self.n_available

    def _mu(self, name: str, X: np.ndarray) -> np.ndarray:
        est = self.estimators[name]
        if self.data.binary:
            return est.predict_proba(X)[:, 1]
        return est.predict(X)

    def predict(self, frame: pd.DataFrame, *, model: str | None = None) -> pd.DataFrame:
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
            raise AnalysisError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
        missing = [c for c in self.data.features if c not in frame.columns]
        if missing:
            raise AnalysisError(
                f"candidate table: feature column(s) {', '.join(map(repr, missing))} missing "
                f"({len(frame):,} rows); the models were fitted on {', '.join(self.data.features)}; build the "
                f"candidates the same way as the training features or change {_KEY}.features"
            )
        X, _ = self.design.matrix(frame, self.learner)  # type: ignore[arg-type]
        with _threads(len(frame)):
            return self._predict_matrix(frame, X, model)

    def _predict_matrix(self, frame: pd.DataFrame, X: np.ndarray, model: str | None) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        if "customer_id" in frame.columns:
            out["customer_id"] = frame["customer_id"]
        if model in (None, "t_learner"):
            mu0 = self._mu("mu0", X)
            mu1 = self._mu("mu1", X)
            out["t_learner"] = mu1 - mu0
        if model in (None, "x_learner"):
            tau0 = self.estimators["tau0"].predict(X)
            tau1 = self.estimators["tau1"].predict(X)
            if self.estimators.get("propensity") is not None:
                e = np.clip(self.estimators["propensity"].predict_frame(frame), 0.01, 0.99)
            else:
                e = np.full(len(frame), self.propensity)
            out["x_learner"] = e * tau0 + (1 - e) * tau1
        if model is None:
            out["mu0"] = mu0
            out["mu1"] = mu1
        return out

    def summary(self) -> pd.DataFrame:
        """One row per model: ``model``, ``learner``, ``n_train``, ``n_held_out``,
        ``mean_predicted_uplift`` (held-out), ``sd_predicted_uplift``, ``share_positive``
        (predicted uplift > 0), ``observed_uplift`` (held-out, difference of means) with
        ``ci_low``, ``ci_high``."""
        h = self.held_out
        eff = _group_effect(h["treated"].to_numpy(), h["outcome"].to_numpy(), None, self.data.binary).iloc[0]
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
        diff = _pp if self.data.binary else _fmt
        text = (
            f"Two uplift models ({'gradient boosting' if self.learner == 'hgb' else 'logistic/linear'} learners) were "
            f"fitted on {self.n_train:,} contacts and checked on {len(self.held_out):,} held-out contacts "
            f"they never saw."
        )
        if self.subsampled:
            text += (
                f" The campaign has {self.n_available:,} contacts; a seeded random subsample of {self.max_rows:,} "
                f"(stratified by arm and outcome) was used to keep the fit fast (params {_KEY}.max_rows)."
            )
        obs = s.iloc[0]
        text += (
            f" On the held-out contacts the observed average uplift is {diff(obs['observed_uplift'])} "
            f"(95 % CI {diff(obs['ci_low'])} to {diff(obs['ci_high'])}); the models predict on average "
            f"{diff(s.loc['t_learner', 'mean_predicted_uplift'])} (T-learner) and "
            f"{diff(s.loc['x_learner', 'mean_predicted_uplift'])} (X-learner), and a positive effect for "
            f"{pct(s.loc['x_learner', 'share_positive'], 0)} of customers (X-learner). "
            "Whether they rank customers well is checked with the Qini curve."
        )
        return text

    def plot(self, ax: Any = None) -> Any:
        """Distribution of predicted uplift on the held-out rows, one line per model, with the
        observed average uplift marked. Returns a matplotlib Axes."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        long = self.held_out.melt(value_vars=list(MODELS), var_name="model", value_name="predicted uplift")
        long["model"] = long["model"].map(_LABEL)
        sns.histplot(data=long, x="predicted uplift", hue="model", element="step", stat="density", common_norm=False, ax=ax)
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


def _strata(data: UpliftData) -> np.ndarray:
    f = data.frame
    pos = (f["outcome"].to_numpy() > 0) if data.binary else (f["outcome"].to_numpy() != 0)
    return f["treated"].to_numpy().astype(np.int64) * 2 + pos.astype(np.int64)


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

    Parameters
    ----------
    data : UpliftData
        From :func:`uplift_data`.
    learner : {'hgb', 'logistic'}, default 'hgb'
        ``hgb``: histogram gradient boosting; ``logistic``: logistic regression for the outcome
        models and ridge regression for the X-learner's effect models (linear effects)
        (``analyses.campaign.uplift.learner``).
    test_size : float, default 0.3
        Held-out share, stratified by arm x outcome (``analyses.campaign.uplift.test_size``).
    max_rows : int, default 200,000
        Above this many contacts a seeded stratified subsample of ``max_rows`` is used
        (``analyses.campaign.uplift.max_rows``).
    propensity : float or {'observed', 'estimated'}, default 'observed'
        Treated share for the X-learner: a number (the planned randomization share), the share
        of treated rows in the training split, or a logistic regression of the arm on the
        features (for imperfect randomization).
    random_state : int, optional
        Seed of the split, the subsample and the learners.

    Returns
    -------
    UpliftModels

    Raises
    ------
    AnalysisError
        Unknown learner, ``test_size`` outside (0.05, 0.6), propensity outside (0, 1).
    """
    from sklearn.model_selection import train_test_split

    if learner not in ("hgb", "logistic"):
        raise AnalysisError(f"learner must be 'hgb' or 'logistic', got {learner!r}; change {_KEY}.learner")
    if not 0.05 < test_size < 0.6:
        raise AnalysisError(f"test_size must be between 0.05 and 0.6, got {test_size}; change {_KEY}.test_size")
    if isinstance(propensity, str):
        if propensity not in ("observed", "estimated"):
            raise AnalysisError(f"propensity must be a number, 'observed' or 'estimated', got {propensity!r}")
    elif not 0 < float(propensity) < 1:
        raise AnalysisError(f"propensity must be between 0 and 1, got {propensity}")
    if max_rows < 2 * MIN_ROWS_PER_ARM_ERROR * 2:
        raise AnalysisError(f"max_rows must be at least {4 * MIN_ROWS_PER_ARM_ERROR}, got {max_rows}; change {_KEY}.max_rows")

    seeds = seed_ints(random_state, 8)
    f = data.frame
    strata = _strata(data)
    n_avail = len(f)
    idx = np.arange(n_avail)
    if n_avail > max_rows:
        idx, _ = train_test_split(idx, train_size=max_rows, stratify=strata, random_state=seeds[0])
        idx = np.sort(idx)
    tr, te = train_test_split(idx, test_size=test_size, stratify=strata[idx], random_state=seeds[1])
    tr, te = np.sort(tr), np.sort(te)
    train = f.iloc[tr]
    design = _Design.learn(train, data.numeric_features, data.categorical_features)
    X, cat_mask = design.matrix(train, learner)
    t = train["treated"].to_numpy()
    y = train["outcome"].to_numpy(dtype="float64")
    task = "classify" if data.binary else "regress"

    def fit(task_: str, Xs: np.ndarray, ys: np.ndarray, seed: int) -> Any:
        est = _estimator(learner, task_, cat_mask, seed)  # type: ignore[arg-type]
        with warnings.catch_warnings(), _threads(len(ys)):
            warnings.simplefilter("ignore", category=UserWarning)
            return est.fit(Xs, ys.astype(np.int64) if task_ == "classify" else ys)

    def mu(est: Any, Xs: np.ndarray) -> np.ndarray:
        return est.predict_proba(Xs)[:, 1] if data.binary else est.predict(Xs)

    mu0 = fit(task, X[~t], y[~t], seeds[2])
    mu1 = fit(task, X[t], y[t], seeds[3])
    d1 = y[t] - mu(mu0, X[t])
    d0 = mu(mu1, X[~t]) - y[~t]
    tau1 = fit("regress", X[t], d1, seeds[4])
    tau0 = fit("regress", X[~t], d0, seeds[5])
    prop_est = None
    if propensity == "estimated":
        from sklearn.linear_model import LogisticRegression

        Xl, _ = design.matrix(train, "logistic")
        prop_est = LogisticRegression(C=1.0, max_iter=2000).fit(Xl, t.astype(np.int64))
        e_val = float(t.mean())
        kind = "estimated"
    elif propensity == "observed":
        e_val = float(t.mean())
        kind = "observed"
    else:
        e_val = float(propensity)
        kind = "known"
    estimators = {"mu0": mu0, "mu1": mu1, "tau0": tau0, "tau1": tau1, "propensity": None}
    models = UpliftModels(
        data=data,
        learner=learner,
        design=design,
        estimators=estimators,
        propensity=e_val,
        propensity_kind=kind,
        held_out=pd.DataFrame(),
        n_train=len(tr),
        n_available=n_avail,
        max_rows=int(max_rows),
        test_size=float(test_size),
        random_state=random_state,
    )
    if prop_est is not None:
        # the propensity model uses the logistic design; wrap so predict() can call it on the hgb matrix
        estimators["propensity"] = _PropensityOnFrame(prop_est, design)
    test = f.iloc[te]
    pred = models.predict(test)
    held = pd.DataFrame(
        {
            "customer_id": test["customer_id"].to_numpy(),
            "treated": test["treated"].to_numpy(),
            "outcome": test["outcome"].to_numpy(),
            "t_learner": pred["t_learner"].to_numpy(),
            "x_learner": pred["x_learner"].to_numpy(),
        }
    )
    object.__setattr__(models, "held_out", held)
    return models


class _PropensityOnFrame:
    """A propensity model fitted on the logistic design (applied to the frame, not the matrix)."""

    def __init__(self, est: Any, design: _Design) -> None:
        self.est = est
        self.design = design

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        X, _ = self.design.matrix(frame, "logistic")
        return self.est.predict_proba(X)[:, 1]


# ============================================================================================
# 3. evaluation
# ============================================================================================


def _ends(sorted_score: np.ndarray) -> np.ndarray:
    """Last position of each block of tied scores in a sorted score array."""
    if sorted_score.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(sorted_score) != 0)
    return np.append(change, sorted_score.size - 1)


def _curve(
    ts: np.ndarray, ys: np.ndarray, ws: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share targeted, Qini and uplift curve (absolute, weighted) of sorted rows, with (0, 0)."""
    wt = ws * ts
    wc = ws - wt
    nt = np.cumsum(wt)[ends]
    nc = np.cumsum(wc)[ends]
    yt = np.cumsum(wt * ys)[ends]
    yc = np.cumsum(wc * ys)[ends]
    total = nt[-1] + nc[-1] if nt.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(nc > 0, nt / nc, 0.0)
        qini = yt - yc * ratio
        rt = np.where(nt > 0, yt / nt, 0.0)
        rc = np.where(nc > 0, yc / nc, 0.0)
        upl = np.where((nt > 0) & (nc > 0), (rt - rc) * (nt + nc), 0.0)
        x = (nt + nc) / total if total > 0 else np.zeros_like(nt)
    return np.concatenate([[0.0], x]), np.concatenate([[0.0], qini]), np.concatenate([[0.0], upl])


class _Ranked:
    """Rows sorted by a score, ready for weighted curves."""

    def __init__(self, score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> None:
        self.order = np.argsort(-np.asarray(score, dtype="float64"), kind="mergesort")
        s = np.asarray(score, dtype="float64")[self.order]
        self.ends = _ends(s)
        self.ts = np.asarray(treated, dtype="float64")[self.order]
        self.ys = np.asarray(y, dtype="float64")[self.order]

    def curve(self, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ws = np.ones_like(self.ts) if w is None else np.asarray(w, dtype="float64")[self.order]
        return _curve(self.ts, self.ys, ws, self.ends)


def _trapz(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _qini_from(model: _Ranked, perfect: _Ranked, w: np.ndarray | None = None) -> float:
    x, q, _ = model.curve(w)
    xp, qp, _ = perfect.curve(w)
    rand = q[-1] / 2.0
    den = _trapz(qp, xp) - rand
    if not den > 0:
        return float("nan")
    return float((_trapz(q, x) - rand) / den)


def _perfect_score(treated: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(y, dtype="float64")
    return np.where(t, y, -y)


def uplift_curves(score: Any, treated: Any, outcome: Any) -> pd.DataFrame:
    """Qini and uplift curves of a ranking (see the module docstring for the definitions).

    Parameters
    ----------
    score : array-like
        Predicted uplift (higher = target first); ties are one step.
    treated : array-like of bool
        Contacted (treatment arm) or not (control).
    outcome : array-like of float
        Observed outcome.

    Returns
    -------
    pandas.DataFrame
        One row per cut-off plus the origin: ``share_targeted`` (0..1), ``qini`` (incremental
        outcomes among targeted treated rows), ``uplift`` (incremental outcomes if all targeted
        rows were contacted), ``qini_random``, ``uplift_random`` (random targeting).

    Examples
    --------
    >>> c = uplift_curves([0.9, 0.5, 0.1, 0.0], [True, False, True, False], [1, 0, 0, 1])
    >>> c["qini"].round(2).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    r = _Ranked(np.asarray(score, dtype="float64"), np.asarray(treated, dtype=bool), np.asarray(outcome, dtype="float64"))
    x, q, u = r.curve()
    return pd.DataFrame({"share_targeted": x, "qini": q, "uplift": u, "qini_random": x * q[-1], "uplift_random": x * u[-1]})


def qini_coefficient(score: Any, treated: Any, outcome: Any) -> float:
    """Qini coefficient: (model area - random area) / (perfect area - random area) of the Qini
    curve; 0 = random ranking, 1 = perfect ranking, negative = worse than random.

    Examples
    --------
    >>> t, y = [True, True, False, False], [1, 0, 0, 1]
    >>> qini_coefficient([4, 3, 2, 1], t, y)  # treated responder first, control responder last
    1.0
    """
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(outcome, dtype="float64")
    return _qini_from(_Ranked(np.asarray(score, dtype="float64"), t, y), _Ranked(_perfect_score(t, y), t, y))


def _deciles(pred: np.ndarray, bins: int) -> np.ndarray:
    """Decile 1 = highest predicted uplift; tied predictions share a decile."""
    r = pd.Series(-pred).rank(method="average").to_numpy()
    return np.clip(np.ceil(r / len(pred) * bins), 1, bins).astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class UpliftEvaluation(Result):
    """Held-out evaluation of the uplift models (see :func:`evaluate_uplift`).

    Attributes
    ----------
    models : UpliftModels
    table : pandas.DataFrame
        One row per model (see :meth:`summary`).
    curves : pandas.DataFrame
        Long: ``model``, ``share_targeted`` (grid of 201 points), ``qini``, ``uplift``
        (absolute, held-out rows), plus rows ``model == 'random'``.
    decile_table : pandas.DataFrame
        See :meth:`deciles`.
    bootstrap : int
    random_state : int or None
    """

    models: UpliftModels
    table: pd.DataFrame
    curves: pd.DataFrame
    decile_table: pd.DataFrame
    bootstrap: int
    random_state: int | None

    @property
    def best_model(self) -> str:
        """Model with the highest Qini coefficient."""
        return str(self.table.sort_values("qini_coefficient", ascending=False)["model"].iloc[0])

    def summary(self) -> pd.DataFrame:
        """One row per model: ``model``, ``qini_coefficient`` with ``qini_ci_low``,
        ``qini_ci_high`` (95 % bootstrap), ``beats_random`` (interval above 0),
        ``qini_area_vs_random`` and ``auuc``, ``auuc_random``, ``auuc_vs_random`` (areas with the
        y-axis in incremental outcomes per held-out customer), ``top_30pct_share`` (share of the
        incremental outcomes of contacting everyone that the top 30 % bring), ``n_held_out``."""
        return self.table.copy()

    def deciles(self) -> pd.DataFrame:
        """Observed uplift by predicted decile (1 = highest predicted), per model: ``model``,
        ``decile``, ``n_treated``, ``n_control``, ``mean_treated``, ``mean_control``,
        ``observed_uplift`` with 95 % ``ci_low``, ``ci_high`` (Newcombe / Welch),
        ``mean_predicted``, ``p_value`` (z / Welch test of zero uplift) and ``p_holm`` (Holm
        across the deciles of the model)."""
        return self.decile_table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The curves (long format)."""
        return self.curves.copy()

    def metrics(self) -> dict[str, Any]:
        """Per-model Qini coefficient with interval, AUUC and decile uplifts (JSON-able)."""
        out: dict[str, Any] = {
            "n_held_out": len(self.models.held_out),
            "bootstrap": self.bootstrap,
            "random_state": self.random_state,
            "best_model": self.best_model,
        }
        for row in self.table.itertuples():
            d = self.decile_table[self.decile_table["model"] == row.model]
            out[row.model] = {
                "qini_coefficient": num(row.qini_coefficient),
                "qini_ci": [num(row.qini_ci_low), num(row.qini_ci_high)],
                "beats_random": bool(row.beats_random),
                "qini_area_vs_random": num(row.qini_area_vs_random),
                "auuc": num(row.auuc),
                "auuc_random": num(row.auuc_random),
                "auuc_vs_random": num(row.auuc_vs_random),
                "top_30pct_share": num(row.top_30pct_share),
                "decile_uplift": [num(v) for v in d["observed_uplift"]],
            }
        return out

    def finding(self) -> str:
        """Which model ranks best, whether it beats random targeting, and what the top deciles show."""
        binary = self.models.data.binary
        diff = _pp if binary else _fmt
        t = self.table.set_index("model")
        best = self.best_model
        b = t.loc[best]
        n = len(self.models.held_out)
        parts = [
            f"On {n:,} held-out contacts the {_LABEL[best]} ranks customers best: Qini coefficient "
            f"{b['qini_coefficient']:.3f} (95 % bootstrap CI {b['qini_ci_low']:.3f} to {b['qini_ci_high']:.3f}; "
            f"0 = random targeting, 1 = perfect)."
        ]
        if b["beats_random"]:
            parts.append("That is better than random targeting: the model finds customers who respond more than average.")
        elif b["qini_ci_high"] < 0:
            parts.append("That is worse than random targeting: do not use this ranking.")
        else:
            parts.append(
                "The interval includes 0, so the ranking is not shown to beat random targeting; target by "
                "simpler rules or run a larger test before relying on it."
            )
        other = [m for m in MODELS if m != best][0]
        parts.append(f"The {_LABEL[other]} scores {t.loc[other, 'qini_coefficient']:.3f}.")
        d = self.decile_table[self.decile_table["model"] == best].set_index("decile")
        if len(d):
            top, bottom = d.iloc[0], d.iloc[-1]
            parts.append(
                f"Observed uplift is {diff(top['observed_uplift'])} in the top decile (95 % CI {diff(top['ci_low'])} "
                f"to {diff(top['ci_high'])}) and {diff(bottom['observed_uplift'])} in the bottom decile."
            )
        share = b["top_30pct_share"]
        if num(share) is not None and b["beats_random"]:
            parts.append(
                f"Contacting only the top 30 % would bring about {pct(share, 0)} of the extra "
                f"'{self.models.data.outcome}' outcomes that contacting everyone brings."
            )
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Qini curve and uplift curve per model against random targeting (two panels).

        Parameters
        ----------
        ax : sequence of two Axes, optional

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        else:
            axes = list(ax)
            fig = axes[0].figure
        c = self.curves.copy()
        c["model"] = c["model"].map(lambda m: _LABEL.get(m, m))
        styles = {v: (1, 0) if v != "random" else (4, 2) for v in c["model"].unique()}
        out_name = self.models.data.outcome
        for a, col, title in (
            (axes[0], "qini", f"Qini curve: incremental {out_name} among contacted"),
            (axes[1], "uplift", f"Uplift curve: incremental {out_name} if all targeted were contacted"),
        ):
            sns.lineplot(data=c, x="share_targeted", y=col, hue="model", style="model", dashes=styles, ax=a)
            a.axhline(0, color="grey", lw=0.5)
            a.set_xlabel("share of customers targeted (highest predicted uplift first)")
            a.set_ylabel(f"incremental {out_name} (held-out)")
            a.set_title(title, fontsize=10)
        q = self.table.set_index("model")["qini_coefficient"]
        axes[0].legend(
            [f"{_LABEL[m]} (Qini {q[m]:.3f})" for m in MODELS] + ["random"], loc="best", fontsize=8
        )
        fig.tight_layout()
        return fig

    def plot_deciles(self, ax: Any = None) -> Any:
        """Observed uplift (95 % CI) and mean predicted uplift by predicted decile, per model.
        Returns a matplotlib Axes."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
        d = self.decile_table
        pal = sns.color_palette(n_colors=len(MODELS))
        width = 0.8 / len(MODELS)
        for i, m in enumerate(MODELS):
            s = d[d["model"] == m]
            x = s["decile"].to_numpy() + (i - (len(MODELS) - 1) / 2) * width
            ax.bar(x, s["observed_uplift"], width=width, color=pal[i], alpha=0.75, label=f"{_LABEL[m]} observed")
            ax.errorbar(
                x,
                s["observed_uplift"],
                yerr=[s["observed_uplift"] - s["ci_low"], s["ci_high"] - s["observed_uplift"]],
                fmt="none",
                color="black",
                lw=0.8,
                capsize=2,
            )
            ax.plot(x, s["mean_predicted"], "D", color=pal[i], markeredgecolor="black", ms=5, label=f"{_LABEL[m]} predicted")
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xticks(range(1, int(d["decile"].max()) + 1))
        ax.set_xlabel("decile of predicted uplift (1 = highest)")
        ax.set_ylabel(f"uplift in {self.models.data.outcome}")
        ax.set_title("Observed uplift by predicted decile (held-out, 95 % CI)")
        ax.legend(fontsize=8, ncol=2)
        return ax

    def __repr__(self) -> str:
        q = self.table.set_index("model")["qini_coefficient"]
        return (
            f"UpliftEvaluation(n_held_out={len(self.models.held_out):,}, "
            + ", ".join(f"qini_{m.split('_')[0]}={q[m]:.3f}" for m in MODELS)
            + ")"
        )


def evaluate_uplift(
    models: UpliftModels,
    *,
    bootstrap: int = 200,
    bins: int = 10,
    random_state: int | None = None,
) -> UpliftEvaluation:
    """Evaluate the uplift models on the held-out rows.

    Parameters
    ----------
    models : UpliftModels
        From :func:`fit_uplift`.
    bootstrap : int, default 200
        Resamples of the held-out rows for the Qini coefficient interval (0 = none)
        (``analyses.campaign.uplift.bootstrap``).
    bins : int, default 10
        Groups of predicted uplift for :meth:`UpliftEvaluation.deciles`.
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    UpliftEvaluation

    Raises
    ------
    AnalysisError
        ``bins`` outside 2..50 or ``bootstrap`` negative.

    Warns
    -----
    StatisticalWarning
        Fewer than 30 treated or control rows per decile.
    """
    if not 2 <= bins <= 50:
        raise AnalysisError(f"bins must be between 2 and 50, got {bins}")
    if bootstrap < 0:
        raise AnalysisError(f"bootstrap must be >= 0, got {bootstrap}; change {_KEY}.bootstrap")
    h = models.held_out
    t = h["treated"].to_numpy(dtype=bool)
    y = h["outcome"].to_numpy(dtype="float64")
    n = len(h)
    binary = models.data.binary
    perfect = _Ranked(_perfect_score(t, y), t, y)
    grid = np.linspace(0, 1, 201)
    seeds = seed_ints(random_state, len(MODELS))
    rows, curve_parts, dec_parts = [], [], []
    for i, m in enumerate(MODELS):
        pred = h[m].to_numpy(dtype="float64")
        ranked = _Ranked(pred, t, y)
        x, q, u = ranked.curve()
        coef = _qini_from(ranked, perfect)
        if bootstrap:
            lo, hi, _ = bootstrap_ci(
                lambda idx, r=ranked: _qini_from(r, perfect, np.bincount(idx, minlength=n)),
                n,
                n_boot=bootstrap,
                random_state=seeds[i],
            )
        else:
            lo = hi = float("nan")
        auuc = _trapz(u, x) / n
        auuc_rand = u[-1] / 2 / n
        top30 = float(np.interp(0.3, x, u) / u[-1]) if u[-1] > 0 else float("nan")
        rows.append(
            {
                "model": m,
                "qini_coefficient": coef,
                "qini_ci_low": lo,
                "qini_ci_high": hi,
                "beats_random": bool(lo > 0) if bootstrap else bool(coef > 0),
                "qini_area_vs_random": (_trapz(q, x) - q[-1] / 2) / n,
                "auuc": auuc,
                "auuc_random": auuc_rand,
                "auuc_vs_random": auuc - auuc_rand,
                "top_30pct_share": top30,
                "n_held_out": n,
            }
        )
        curve_parts.append(
            pd.DataFrame({"model": m, "share_targeted": grid, "qini": np.interp(grid, x, q), "uplift": np.interp(grid, x, u)})
        )
        if i == 0:
            curve_parts.append(pd.DataFrame({"model": "random", "share_targeted": grid, "qini": grid * q[-1], "uplift": grid * u[-1]}))
        dec = _deciles(pred, bins)
        g = _group_effect(t, y, dec - 1, binary, n_groups=bins)
        g.insert(0, "decile", np.arange(1, bins + 1))
        g.insert(0, "model", m)
        g["mean_predicted"] = np.bincount(dec - 1, weights=pred, minlength=bins) / np.maximum(np.bincount(dec - 1, minlength=bins), 1)
        g["p_holm"] = holm(g["p_value"].to_numpy())
        dec_parts.append(g)
    decile_table = pd.concat(dec_parts, ignore_index=True)
    small = int(((decile_table["n_treated"] < 30) | (decile_table["n_control"] < 30)).sum())
    if small:
        warnings.warn(
            f"{small} of {len(decile_table)} model deciles have fewer than 30 treated or control held-out rows; "
            "their observed uplift is very uncertain (use fewer bins or a larger test_size)",
            StatisticalWarning,
            stacklevel=2,
        )
    return UpliftEvaluation(
        models=models,
        table=pd.DataFrame(rows),
        curves=pd.concat(curve_parts, ignore_index=True),
        decile_table=decile_table,
        bootstrap=int(bootstrap),
        random_state=random_state,
    )


# ============================================================================================
# 4. targeting list
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class TargetingList(Result):
    """Customers ranked by expected incremental profit (see :func:`targeting_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate, best first (see :meth:`to_frame`).
    model : str
        Model whose predictions rank the customers.
    value_per_conversion, contact_cost : float
    value_source, cost_source : str
        ``given`` or where the default came from.
    keys : str
        ``pseudonymized`` or ``raw``.
    held_out_check : pandas.DataFrame
        Observed uplift on the held-out contacts the rule would / would not contact.
    binary : bool
    outcome : str
    """

    table: pd.DataFrame
    model: str
    value_per_conversion: float
    contact_cost: float
    value_source: str
    cost_source: str
    keys: str
    held_out_check: pd.DataFrame
    binary: bool
    outcome: str

    @property
    def break_even_uplift(self) -> float:
        """Uplift at which a contact pays for itself: ``contact_cost / value_per_conversion``."""
        return self.contact_cost / self.value_per_conversion if self.value_per_conversion else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """The list for CRM import, best first: ``rank``, ``customer_id`` (pseudonym unless raw
        keys are allowed), ``predicted_uplift``, ``expected_profit`` (uplift x value - cost),
        ``contact`` (expected profit > 0), ``cumulative_profit``, ``cumulative_share``."""
        return self.table.copy()

    def contact_list(self) -> pd.DataFrame:
        """Only the rows worth contacting (expected profit > 0)."""
        return self.table[self.table["contact"]].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per group (``contact``, ``do not contact``, ``all``): ``customers``,
        ``share``, ``mean_predicted_uplift``, ``expected_incremental`` (sum of predicted uplift),
        ``expected_profit``, and the held-out check: ``held_out_n``, ``held_out_uplift`` with
        ``held_out_ci_low``, ``held_out_ci_high`` and ``held_out_profit_per_contact``
        (observed uplift x value - cost)."""
        t = self.table
        n = len(t)
        rows = []
        for name, mask in (
            ("contact", t["contact"].to_numpy()),
            ("do not contact", ~t["contact"].to_numpy()),
            ("all", np.ones(n, dtype=bool)),
        ):
            s = t.loc[mask]
            rows.append(
                {
                    "group": name,
                    "customers": int(mask.sum()),
                    "share": float(mask.mean()) if n else float("nan"),
                    "mean_predicted_uplift": float(s["predicted_uplift"].mean()) if len(s) else float("nan"),
                    "expected_incremental": float(s["predicted_uplift"].sum()),
                    "expected_profit": float(s["expected_profit"].sum()),
                }
            )
        out = pd.DataFrame(rows)
        return out.merge(self.held_out_check, on="group", how="left")

    def metrics(self) -> dict[str, Any]:
        """Shares, totals, value and cost, held-out check (JSON-able)."""
        s = self.summary().set_index("group")
        best_i = int(np.argmax(self.table["cumulative_profit"].to_numpy())) if len(self.table) else 0
        return {
            "model": self.model,
            "candidates": len(self.table),
            "n_contact": int(s.loc["contact", "customers"]),
            "share_contact": num(s.loc["contact", "share"]),
            "expected_profit_contact": num(s.loc["contact", "expected_profit"]),
            "expected_profit_everyone": num(s.loc["all", "expected_profit"]),
            "expected_incremental_contact": num(s.loc["contact", "expected_incremental"]),
            "value_per_conversion": num(self.value_per_conversion),
            "value_source": self.value_source,
            "contact_cost": num(self.contact_cost),
            "cost_source": self.cost_source,
            "break_even_uplift": num(self.break_even_uplift),
            "best_share": num(self.table["cumulative_share"].iloc[best_i]) if len(self.table) else None,
            "keys": self.keys,
            "held_out_uplift_contact": num(s.loc["contact", "held_out_uplift"]),
            "held_out_uplift_contact_ci": [num(s.loc["contact", "held_out_ci_low"]), num(s.loc["contact", "held_out_ci_high"])],
            "held_out_profit_per_contact": num(s.loc["contact", "held_out_profit_per_contact"]),
            "held_out_uplift_skip": num(s.loc["do not contact", "held_out_uplift"]),
        }

    def finding(self, *, currency: str = "") -> str:
        """Who to contact and what it is expected to earn, with the held-out check."""
        s = self.summary().set_index("group")
        c, a = s.loc["contact"], s.loc["all"]
        diff = _pp if self.binary else _fmt
        unit = "conversion" if self.binary else f"unit of {self.outcome}"
        text = (
            f"Contact {int(c['customers']):,} of {int(a['customers']):,} customers ({pct(c['share'], 0)}): for them the "
            f"predicted uplift ({self.model.replace('_', '-')}) times {_money(self.value_per_conversion, currency)} per "
            f"{unit} exceeds the {_money(self.contact_cost, currency)} contact cost (break-even uplift "
            f"{diff(self.break_even_uplift, 2)}). Expected incremental profit: {_money(c['expected_profit'], currency)}, "
            f"against {_money(a['expected_profit'], currency)} if everyone were contacted."
        )
        hn = c.get("held_out_n")
        if num(hn) and hn > 0:
            lo, hi = c["held_out_ci_low"], c["held_out_ci_high"]
            text += (
                f" Check on held-out contacts: the customers this rule selects showed an observed uplift of "
                f"{diff(c['held_out_uplift'])} (95 % CI {diff(lo)} to {diff(hi)})"
            )
            sk = s.loc["do not contact"]
            if num(sk.get("held_out_n")) and sk["held_out_n"] >= 50:
                text += f", those it skips {diff(sk['held_out_uplift'])}"
            elif num(sk.get("held_out_n")) and sk["held_out_n"] > 0:
                text += f"; it skips only {int(sk['held_out_n'])} held-out contacts, too few to compare"
            text += "."
            if num(lo) is not None and lo * self.value_per_conversion - self.contact_cost > 0:
                text += " Even the lower bound pays for the contact."
            elif num(hi) is not None and hi * self.value_per_conversion - self.contact_cost < 0:
                text += " Even the upper bound does not pay for the contact: do not rely on this list."
            else:
                text += " The interval includes break-even, so the profit is not certain; consider a test on the list."
        if self.value_source != "given" or self.cost_source != "given":
            text += (
                f" Value per {unit}: {self.value_source}; contact cost: {self.cost_source} "
                f"(set {_KEY}.value_per_conversion / {_KEY}.contact_cost to override)."
            )
        return text

    def plot(self, ax: Any = None) -> Any:
        """Cumulative expected incremental profit against the share of the base contacted
        (best first); the maximum is marked. Returns a matplotlib Axes."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table
        step = max(1, len(t) // 2000)
        sub = pd.concat([pd.DataFrame({"cumulative_share": [0.0], "cumulative_profit": [0.0]}), t.iloc[::step], t.iloc[[-1]]])
        sns.lineplot(data=sub, x="cumulative_share", y="cumulative_profit", ax=ax, label="ranked by predicted uplift")
        ax.plot([0, 1], [0, float(t["cumulative_profit"].iloc[-1])], ls="--", color="grey", lw=1, label="random order")
        i = int(np.argmax(t["cumulative_profit"].to_numpy()))
        ax.scatter([t["cumulative_share"].iloc[i]], [t["cumulative_profit"].iloc[i]], color="black", zorder=5)
        ax.annotate(
            f"contact {t['cumulative_share'].iloc[i]:.0%}: {t['cumulative_profit'].iloc[i]:,.0f}",
            (t["cumulative_share"].iloc[i], t["cumulative_profit"].iloc[i]),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize=8,
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("share of candidates contacted (best first)")
        ax.set_ylabel("expected incremental profit")
        ax.set_title("Targeting list: cumulative expected profit")
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        n = len(self.table)
        k = int(self.table["contact"].sum())
        return (
            f"TargetingList(model={self.model!r}, candidates={n:,}, contact={k:,} "
            f"({k / n if n else float('nan'):.1%}), keys={self.keys!r})"
        )


def targeting_list(
    models: UpliftModels,
    candidates: pd.DataFrame,
    *,
    value_per_conversion: float | None = None,
    contact_cost: float | None = None,
    salt: str | None = None,
    allow_raw_keys: bool = False,
    model: Literal["t_learner", "x_learner"] = "x_learner",
) -> TargetingList:
    """Rank candidate customers by expected incremental profit of a contact.

    ``expected_profit = predicted_uplift x value_per_conversion - contact_cost``; customers with
    a positive expected profit are worth contacting. The same rule is applied to the held-out
    contacts of the experiment to check, with observed outcomes, that the selected customers
    really respond more.

    Parameters
    ----------
    models : UpliftModels
        From :func:`fit_uplift`.
    candidates : pandas.DataFrame
        One row per customer with ``customer_id`` and the feature columns of the models (e.g.
        all customers with features at the as-of date). Not modified.
    value_per_conversion : float, optional
        Value of one incremental conversion (``analyses.campaign.uplift.value_per_conversion``);
        default the mean revenue of treated converters (for a continuous outcome: 1, the outcome
        is the value).
    contact_cost : float, optional
        Cost of one contact (``analyses.campaign.uplift.contact_cost``); default the mean cost
        of a treated contact.
    salt : str, optional
        Salt for :func:`workbench.core.privacy.pseudonymize` (``privacy.salt``); required unless
        ``allow_raw_keys``.
    allow_raw_keys : bool, default False
        Keep raw customer keys (``privacy.allow_raw_keys``).
    model : {'t_learner', 'x_learner'}, default 'x_learner'

    Returns
    -------
    TargetingList

    Raises
    ------
    AnalysisError
        Unknown model, no value or cost known, negative cost, non-positive value, no salt,
        ``customer_id`` missing or repeated, feature columns missing.
    """
    from workbench.core.privacy import pseudonymize

    if model not in MODELS:
        raise AnalysisError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    data = models.data
    if value_per_conversion is None:
        if data.value_per_conversion is None:
            raise AnalysisError(
                f"{_TABLE}: no revenue of treated converters to derive the value per conversion from; "
                f"set {_KEY}.value_per_conversion"
            )
        value, value_src = float(data.value_per_conversion), (
            "mean revenue of treated converters" if data.binary else "1 (the outcome is a value)"
        )
    else:
        value, value_src = float(value_per_conversion), "given"
    if contact_cost is None:
        if data.contact_cost is None:
            raise AnalysisError(
                f"{_TABLE}.cost: no cost column to derive the cost per contact from; set {_KEY}.contact_cost"
            )
        cost, cost_src = float(data.contact_cost), "mean cost of a treated contact"
    else:
        cost, cost_src = float(contact_cost), "given"
    if not value > 0 or not math.isfinite(value):
        raise AnalysisError(f"value_per_conversion must be positive, got {value}; set {_KEY}.value_per_conversion")
    if not cost >= 0 or not math.isfinite(cost):
        raise AnalysisError(f"contact_cost must be >= 0, got {cost}; set {_KEY}.contact_cost")
    if not allow_raw_keys and not salt:
        raise AnalysisError(
            "targeting list: customer keys are pseudonymized but no salt was given; set privacy.salt "
            "(or privacy.allow_raw_keys: true to export raw keys)"
        )
    if "customer_id" not in candidates.columns:
        raise AnalysisError(
            f"candidate table: column 'customer_id' is missing ({len(candidates):,} rows; columns: "
            f"{', '.join(map(str, candidates.columns))})"
        )
    dup = candidates["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"candidate table: {int(dup.sum()):,} of {len(candidates):,} rows repeat a customer_id, "
            f"e.g. {_examples(candidates.loc[dup, 'customer_id'])}; one row per customer is expected"
        )
    pred = models.predict(candidates, model=model)
    upl = pred[model].to_numpy(dtype="float64")
    profit = upl * value - cost
    order = np.argsort(-profit, kind="mergesort")
    keys = candidates["customer_id"].iloc[order].reset_index(drop=True)
    keys = keys.astype("string") if allow_raw_keys else pseudonymize(keys, salt=str(salt))
    n = len(order)
    p_sorted = profit[order]
    table = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "customer_id": keys,
            "predicted_uplift": upl[order],
            "expected_profit": p_sorted,
            "contact": p_sorted > 0,
            "cumulative_profit": np.cumsum(p_sorted),
            "cumulative_share": np.arange(1, n + 1) / n if n else np.zeros(0),
        }
    )

    h = models.held_out
    sel = h[model].to_numpy(dtype="float64") * value - cost > 0
    t = h["treated"].to_numpy(dtype=bool)
    y = h["outcome"].to_numpy(dtype="float64")
    g = _group_effect(t, y, np.where(sel, 0, 1), data.binary, n_groups=2)
    allg = _group_effect(t, y, None, data.binary)
    check = pd.concat([g, allg], ignore_index=True)
    check.insert(0, "group", ["contact", "do not contact", "all"])
    check["held_out_n"] = check["n_treated"] + check["n_control"]
    check = check.rename(
        columns={"observed_uplift": "held_out_uplift", "ci_low": "held_out_ci_low", "ci_high": "held_out_ci_high"}
    )
    check["held_out_profit_per_contact"] = check["held_out_uplift"] * value - cost
    check = check[
        ["group", "held_out_n", "held_out_uplift", "held_out_ci_low", "held_out_ci_high", "held_out_profit_per_contact"]
    ]
    return TargetingList(
        table=table,
        model=model,
        value_per_conversion=value,
        contact_cost=cost,
        value_source=value_src,
        cost_source=cost_src,
        keys="raw" if allow_raw_keys else "pseudonymized",
        held_out_check=check,
        binary=data.binary,
        outcome=data.outcome,
    )
