"""Churn prediction, per-customer reasons and the retention list (notebook ``03_churn.ipynb``).

One call per notebook section:

1. :func:`prepare_features` decides which columns of the churn frame are features (numeric,
   categorical) and which are dropped and why (ids, dates, constants, too many levels, names
   that give the outcome away such as ``duration_months``, ``event``, ``churn_date``).
2. :func:`fit_churn_models` fits a regularized logistic regression (odds ratios with 95 %
   intervals, the explainable model) and histogram gradient boosting on the same split: an
   explicit out-of-time ``(train, test)`` pair, or one snapshot frame split stratified. It stops
   on leakage (one feature alone separating churners), a non-binary label, one class only or
   too few rows, and calibrates the probabilities when a calibration test says so.
3. :func:`evaluate_churn_models` measures both on the held-out rows: ROC AUC with a bootstrap
   interval, PR AUC against the base rate, Brier score and skill, calibration (Hosmer-Lemeshow,
   Spiegelhalter), lift and cumulative gains by decile, permutation importance.
4. :func:`churn_reasons` lists for each customer the factors that raise the risk most, in words
   an account manager can read, from the logistic model's contributions
   ``coef * (x - reference)``.
5. :func:`retention_list` ranks customers by expected net value of a retention contact,
   ``P(churn) * value at risk * save rate - contact cost``, with pseudonymized keys, ready for
   CRM import.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, DataQualityWarning, format_examples
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm

__all__ = [
    "MODEL_NAMES",
    "SEGMENT_COLUMNS",
    "REASON_PHRASES",
    "FeatureSpec",
    "prepare_features",
    "ChurnModels",
    "fit_churn_models",
    "ChurnEvaluation",
    "evaluate_churn_models",
    "lift_table",
    "hosmer_lemeshow",
    "spiegelhalter",
    "churn_reasons",
    "value_at_risk",
    "RetentionList",
    "retention_list",
]

#: Model names, in the order of every table (logistic first: the explainable one).
MODEL_NAMES: tuple[str, ...] = ("logistic", "hgb")
_MODEL_TITLES = {"logistic": "logistic regression", "hgb": "gradient boosting"}

_KEY = "analyses.churn.model"
_RKEY = "analyses.churn.retention"
#: Fewest rows of the training / held-out frame, and fewest of each class in them.
MIN_TRAIN_ROWS: int = 50
MIN_TRAIN_CLASS: int = 10
MIN_TEST_CLASS: int = 5
#: Share of the training rows set aside to test calibration and fit the calibrator.
CALIBRATION_SHARE: float = 0.2
#: Held-out rows on which permutation importance is measured (a seeded sample above this).
IMPORTANCE_SAMPLE: int = 10_000
IMPORTANCE_REPEATS: int = 3
#: Column names that carry the outcome (never features): survival time, event flag, churn date...
LEAK_NAME_RE = re.compile(
    r"(^|_)(duration|event|churn\w*|dropout\w*|end_date|left_date|cancel\w*|p_alive|label|target|"
    r"truth|reason|churned_in_window)($|_)",
    re.IGNORECASE,
)
_MISSING_LEVEL = "(missing)"
#: Segment columns tried by ``retention_list(segments="auto")``, in order.
SEGMENT_COLUMNS: tuple[str, ...] = ("cluster_name", "abc_class", "rfm_segment", "segment")


# ============================================================================================
# helpers
# ============================================================================================


def _binary_label(values: pd.Series, *, label: str, table: str = "churn frame") -> pd.Series:
    """0/1 float Series (NaN for missing) from bool, 0/1 numbers or yes/no text."""
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = pd.to_numeric(s, errors="coerce").astype("float64")
        bad = out.notna() & ~out.isin([0.0, 1.0])
    else:
        txt = s.astype("string").str.strip().str.lower()
        mapping = {
            "1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0, "true": 1.0, "false": 0.0,
            "是": 1.0, "否": 0.0, "流失": 1.0, "未流失": 0.0, "1.0": 1.0, "0.0": 0.0,
        }
        out = txt.map(mapping).astype("float64")
        bad = txt.notna() & out.isna()
    if bad.any():
        ex = s[bad].head(20).tolist()
        raise AnalysisError(
            f"{table}.{label}: {int(bad.sum()):,} of {len(s):,} rows are not a 0/1 churn label, "
            f"e.g. {format_examples(ex)}; the label must be 0/1, true/false or yes/no "
            f"(fix the data or analyses.churn.label.flag_column)"
        )
    return out


def _auc_binary(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties count one half); NaN with one class only."""
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _stratified_subsample(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row positions of a stratified sample of ``n`` rows (class shares kept)."""
    idx = []
    total = len(y)
    for cls in (0, 1):
        pos = np.flatnonzero(y == cls)
        k = int(round(n * len(pos) / total))
        idx.append(rng.choice(pos, size=min(k, len(pos)), replace=False))
    return np.sort(np.concatenate(idx))


def _nice(col: str) -> str:
    return str(col).replace("_", " ")


def _fmt_num(v: float) -> str:
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.1f}"
    return f"{v:.2g}"


def _fmt_series(v: pd.Series) -> pd.Series:
    """Numbers as short text (vectorized per distinct value)."""
    arr = v.astype("float64")
    uniq, inv = np.unique(arr.to_numpy(), return_inverse=True)
    txt = np.array([_fmt_num(float(u)) for u in uniq], dtype=object)
    return pd.Series(txt[inv.ravel()], index=v.index, dtype=object)


# ============================================================================================
# 1. features
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class FeatureSpec(Result):
    """Which columns of the churn frame are features (see :func:`prepare_features`).

    Attributes
    ----------
    label : str
        0/1 churn label column.
    id_column : str
        Customer key column.
    numeric : tuple of str
        Numeric (and true/false) feature columns.
    categorical : tuple of str
        Categorical feature columns (at most ``max_levels`` levels).
    dropped : dict
        Column -> why it is not a feature.
    missing : dict
        Feature -> rows with a missing value in the frame the spec was built on.
    n_rows : int
        Rows of that frame.
    max_levels : int
        Most levels a categorical feature may have.
    """

    label: str
    id_column: str
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    dropped: dict[str, str]
    missing: dict[str, int]
    n_rows: int
    max_levels: int = 30
    boolean: tuple[str, ...] = ()

    @property
    def features(self) -> list[str]:
        """All feature columns, numeric first."""
        return [*self.numeric, *self.categorical]

    def summary(self) -> pd.DataFrame:
        """One row per column: ``column``, ``role`` (numeric / categorical / dropped),
        ``reason`` (why dropped), ``missing`` (rows; imputed with the training median plus a
        missing-indicator for numeric features, a ``(missing)`` level for categorical ones)."""
        rows = [
            {"column": c, "role": "numeric", "reason": "", "missing": self.missing.get(c, 0)}
            for c in self.numeric
        ]
        rows += [
            {"column": c, "role": "categorical", "reason": "", "missing": self.missing.get(c, 0)}
            for c in self.categorical
        ]
        rows += [{"column": c, "role": "dropped", "reason": r, "missing": 0} for c, r in self.dropped.items()]
        return pd.DataFrame(rows, columns=["column", "role", "reason", "missing"])

    def metrics(self) -> dict[str, Any]:
        """Feature counts, dropped columns with reasons, missing counts (JSON-able)."""
        return {
            "label": self.label,
            "n_rows": int(self.n_rows),
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "dropped": dict(self.dropped),
            "missing": {k: int(v) for k, v in self.missing.items() if v},
        }

    def finding(self) -> str:
        """Which columns the models use and what was left out, in words."""
        text = (
            f"The models use {len(self.numeric)} numeric and {len(self.categorical)} categorical "
            f"columns of {self.n_rows:,} customers."
        )
        leak = [c for c, r in self.dropped.items() if r.startswith("outcome")]
        if leak:
            text += f" Left out because they record the outcome itself: {', '.join(leak)}."
        other = [c for c, r in self.dropped.items() if not r.startswith("outcome")]
        if other:
            text += f" Also left out: {', '.join(f'{c} ({self.dropped[c]})' for c in other[:8])}"
            text += " and more." if len(other) > 8 else "."
        miss = {c: n for c, n in self.missing.items() if n}
        if miss:
            text += " Missing values: " + ", ".join(f"{c} {n:,} rows" for c, n in miss.items())
            text += (
                " (numeric: filled with the training median plus a missing-indicator, so the "
                "model learns what a blank means; categorical: own level)."
            )
        return text

    def __repr__(self) -> str:
        return (
            f"FeatureSpec(label={self.label!r}, numeric={len(self.numeric)}, "
            f"categorical={len(self.categorical)}, dropped={len(self.dropped)}, rows={self.n_rows:,})"
        )


def prepare_features(
    frame: pd.DataFrame,
    *,
    label: str = "churned",
    features: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    max_levels: int = 30,
    id_column: str = "customer_id",
    max_corr: float = 0.99,
) -> FeatureSpec:
    """Decide which columns of the per-customer churn frame are model features.

    A column is dropped (with the reason recorded) when it is the label or the key, listed in
    ``exclude``, a date or time, constant, entirely missing, text with more than
    ``max_levels`` levels (or one level per row: an id), a near-duplicate of another
    numeric column (``max_corr``), or named like the outcome itself
    (``duration_months``, ``event``, ``churn_date``, ``dropout_*``, ``p_alive``, ...: survival
    times and end dates are only known after the customer left).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer: ``id_column``, ``label`` and candidate columns (not modified).
    label : str, default "churned"
        0/1, true/false or yes/no churn label.
    features : sequence of str, optional
        Use only these columns (``analyses.churn.model.features``); default every usable one.
    exclude : sequence of str, default ()
        Never use these (``analyses.churn.model.exclude``).
    max_levels : int, default 30
        Categorical columns with more levels are dropped (``analyses.churn.max_levels``).
    id_column : str, default "customer_id"
        Customer key.
    max_corr : float, default 0.99
        A numeric column correlated at least this much (absolute Pearson r) with one listed
        before it is dropped as a duplicate (e.g. ``btyd_frequency`` = ``n_purchase_days - 1``).

    Returns
    -------
    FeatureSpec

    Raises
    ------
    AnalysisError
        The label column is missing or not binary; a requested feature is missing or records
        the outcome; no usable feature is left.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churned": [1, 0, 1, 0],
    ...     "tenure": [1, 20, 3, 30], "plan": ["m", "y", "m", "y"], "duration_months": [1, 20, 3, 30]})
    >>> spec = prepare_features(f)
    >>> spec.numeric, spec.categorical, spec.dropped["duration_months"][:7]
    (('tenure',), ('plan',), 'outcome')
    """
    if not isinstance(frame, pd.DataFrame):
        raise AnalysisError(f"prepare_features needs a DataFrame, got {type(frame).__name__}")
    if label not in frame.columns:
        raise AnalysisError(
            f"churn frame ({len(frame):,} rows) has no label column {label!r} (columns: "
            f"{', '.join(map(str, frame.columns))}); fix analyses.churn.label.flag_column"
        )
    _binary_label(frame[label], label=label)
    excl = set(exclude)
    dropped: dict[str, str] = {}
    if features is not None:
        missing_cols = [c for c in features if c not in frame.columns]
        if missing_cols:
            raise AnalysisError(
                f"churn frame ({len(frame):,} rows) has no column(s) {', '.join(missing_cols)} "
                f"listed in {_KEY}.features; columns are: {', '.join(map(str, frame.columns))}"
            )
        leaky = [c for c in features if LEAK_NAME_RE.search(str(c)) and c != label]
        if leaky:
            raise AnalysisError(
                f"{_KEY}.features lists {', '.join(leaky)}, which record(s) the outcome (survival "
                f"time, event or end date known only after churn); remove from {_KEY}.features"
            )
        candidates = [c for c in features if c not in (label, id_column)]
        for c in frame.columns:
            if c not in candidates and c not in (label, id_column):
                dropped[str(c)] = "not in analyses.churn.model.features"
    else:
        candidates = [c for c in frame.columns if c not in (label, id_column)]
    if id_column in frame.columns:
        dropped[id_column] = "customer key"
    numeric: list[str] = []
    categorical: list[str] = []
    boolean: list[str] = []
    missing: dict[str, int] = {}
    n = len(frame)
    for c in candidates:
        s = frame[c]
        if c in excl:
            dropped[c] = f"excluded by {_KEY}.exclude"
            continue
        if features is None and LEAK_NAME_RE.search(str(c)):
            dropped[c] = "outcome: named like the survival time, event or churn date"
            continue
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
            dropped[c] = "date/time (use derived days, e.g. recency_days)"
            continue
        nn = int(s.notna().sum())
        if nn == 0:
            dropped[c] = "entirely missing"
            continue
        nunique = int(s.nunique(dropna=True))
        if nunique <= 1 and s.isna().sum() == 0:
            dropped[c] = "constant"
            continue
        if pd.api.types.is_bool_dtype(s.dtype):
            numeric.append(c)
            boolean.append(c)
        elif pd.api.types.is_numeric_dtype(s.dtype):
            numeric.append(c)
            if set(pd.unique(s.dropna())) <= {0, 1}:
                boolean.append(c)
        elif pd.api.types.is_timedelta64_dtype(s.dtype):
            dropped[c] = "time span (convert to days)"
            continue
        else:
            if nunique > max_levels:
                if nunique >= 0.9 * nn and nn > max_levels:
                    dropped[c] = f"looks like an id ({nunique:,} distinct values)"
                else:
                    dropped[c] = f"{nunique:,} levels > analyses.churn.max_levels = {max_levels}"
                continue
            if isinstance(s.dtype, pd.CategoricalDtype) or nunique <= max_levels:
                categorical.append(c)
        missing[c] = int(s.isna().sum())
    # numeric near-duplicates (|r| >= max_corr with a column kept earlier) only split the
    # logistic model's weight between twins; keep the first one
    cont = [c for c in numeric if c not in boolean]
    if len(cont) > 1 and max_corr < 1:
        sample = frame[cont]
        if len(sample) > 100_000:
            sample = sample.sample(100_000, random_state=0)
        corr = sample.apply(pd.to_numeric, errors="coerce").astype("float64").corr(min_periods=10).abs()
        kept: list[str] = []
        for c in cont:
            twins = [k for k in kept if corr.loc[c, k] >= max_corr]
            if twins:
                dropped[c] = f"duplicate of {twins[0]} (|r| = {corr.loc[c, twins[0]]:.3f} >= {max_corr})"
                numeric.remove(c)
                missing.pop(c, None)
            else:
                kept.append(c)
    if not numeric and not categorical:
        raise AnalysisError(
            f"churn frame ({n:,} rows): no usable feature column is left "
            f"(dropped: {', '.join(f'{k} ({v})' for k, v in list(dropped.items())[:10])}); "
            f"add customer features or change {_KEY}.features / {_KEY}.exclude"
        )
    return FeatureSpec(
        label=label,
        id_column=id_column,
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        dropped=dropped,
        missing=missing,
        n_rows=n,
        max_levels=max_levels,
        boolean=tuple(boolean),
    )


# ============================================================================================
# design matrix (learned on the training rows, applied to any frame)
# ============================================================================================


@dataclass(frozen=True, eq=False)
class _Design:
    spec: FeatureSpec
    medians: dict[str, float]
    indicators: tuple[str, ...]  # numeric columns with a missing-indicator
    means: dict[str, float]
    sds: dict[str, float]
    levels: dict[str, tuple[str, ...]]  # categorical -> non-reference levels
    reference: dict[str, str]  # categorical -> reference (most frequent) level
    columns: tuple[str, ...]
    groups: tuple[str, ...]  # design column -> original feature

    @classmethod
    def learn(cls, frame: pd.DataFrame, spec: FeatureSpec) -> _Design:
        medians, means, sds = {}, {}, {}
        indicators = []
        cols: list[str] = []
        groups: list[str] = []
        for c in spec.numeric:
            v = _numeric_col(frame, c)
            med = float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0
            medians[c] = med
            filled = np.where(np.isnan(v), med, v)
            if c in spec.boolean:  # 0/1 kept as is: odds ratio yes vs no
                means[c], sds[c] = 0.0, 1.0
            else:
                means[c] = float(filled.mean())
                sd = float(filled.std())
                sds[c] = sd if sd > 0 else 1.0
            cols.append(c)
            groups.append(c)
            if np.isnan(v).any():
                indicators.append(c)
                cols.append(f"{c} (missing)")
                groups.append(c)
        levels, reference = {}, {}
        for c in spec.categorical:
            s = _cat_col(frame, c)
            vc = s.value_counts()
            ref = str(vc.index[0])
            reference[c] = ref
            lv = tuple(str(x) for x in vc.index[1:])
            levels[c] = lv
            for lvl in lv:
                cols.append(f"{c}={lvl}")
                groups.append(c)
        return cls(spec, medians, tuple(indicators), means, sds, levels, reference, tuple(cols), tuple(groups))

    def transform(self, frame: pd.DataFrame, *, what: str = "frame", warn_unseen: bool = True) -> np.ndarray:
        """Design matrix: standardized numeric columns, 0/1 missing-indicators and dummies."""
        need = [c for c in self.spec.features if c not in frame.columns]
        if need:
            raise AnalysisError(
                f"churn {what} ({len(frame):,} rows) lacks feature column(s) {', '.join(need)} the "
                f"models were trained on; build it like the training frame or add them to {_KEY}.exclude"
            )
        n = len(frame)
        X = np.zeros((n, len(self.columns)), dtype="float64")
        j = 0
        for c in self.spec.numeric:
            v = _numeric_col(frame, c, what=what)
            isna = np.isnan(v)
            X[:, j] = (np.where(isna, self.medians[c], v) - self.means[c]) / self.sds[c]
            j += 1
            if c in self.indicators:
                X[:, j] = isna
                j += 1
        for c in self.spec.categorical:
            s = _cat_col(frame, c)
            lv = self.levels[c]
            codes = pd.Index(list(lv)).get_indexer(s)
            known = set(lv) | {self.reference[c]}
            unseen = ~s.isin(known)
            if warn_unseen and unseen.any():
                warnings.warn(
                    f"churn {what}.{c}: {int(unseen.sum()):,} of {n:,} rows have levels not seen in "
                    f"training, e.g. {format_examples(s[unseen].head(20))}; scored as the reference "
                    f"level {self.reference[c]!r}",
                    DataQualityWarning,
                    stacklevel=3,
                )
            ok = codes >= 0
            X[np.flatnonzero(ok), j + codes[ok]] = 1.0
            j += len(lv)
        return X

    def raw_value(self, frame: pd.DataFrame, c: str) -> np.ndarray:
        return _numeric_col(frame, c)


def _numeric_col(frame: pd.DataFrame, c: str, *, what: str = "frame") -> np.ndarray:
    s = frame[c]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    out = pd.to_numeric(s, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any():
        raise AnalysisError(
            f"churn {what}.{c}: {int(bad.sum()):,} of {len(s):,} rows are not numbers, e.g. "
            f"{format_examples(s[bad].head(20))}; fix the data or add {c} to {_KEY}.exclude"
        )
    return out.to_numpy(dtype="float64", na_value=np.nan)


def _cat_col(frame: pd.DataFrame, c: str) -> pd.Series:
    s = frame[c]
    return s.astype(object).where(s.notna(), _MISSING_LEVEL).astype(str)


# ============================================================================================
# calibration tests
# ============================================================================================


def spiegelhalter(y: Sequence[float] | np.ndarray, p: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Spiegelhalter's z test of calibration: are predicted probabilities right on average and
    in their spread (H0: the probabilities are the true ones)?

    ``z = sum((y - p)(1 - 2p)) / sqrt(sum((1 - 2p)^2 p (1 - p)))``, two-sided normal p-value.

    Returns
    -------
    (z, p_value)

    Examples
    --------
    >>> z, pv = spiegelhalter([1, 0], [0.8, 0.4])
    >>> round(z, 3), round(pv, 3)
    (-0.772, 0.44)
    """
    from scipy.stats import norm

    y = np.asarray(y, dtype="float64")
    p = np.clip(np.asarray(p, dtype="float64"), 1e-12, 1 - 1e-12)
    num_ = np.sum((y - p) * (1 - 2 * p))
    den = math.sqrt(float(np.sum((1 - 2 * p) ** 2 * p * (1 - p))))
    if den <= 1e-12:
        return float("nan"), float("nan")
    z = float(num_ / den)
    return z, float(2 * norm.sf(abs(z)))


def hosmer_lemeshow(
    y: Sequence[float] | np.ndarray, p: Sequence[float] | np.ndarray, *, groups: int = 10, external: bool = True
) -> tuple[float, int, float]:
    """Hosmer-Lemeshow goodness-of-fit test over groups of equal size by predicted probability.

    ``C = sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g))`` on ``groups`` groups; chi-square with
    ``groups`` degrees of freedom on held-out data (``external=True``), ``groups - 2`` on the
    data the model was fitted on.

    Returns
    -------
    (statistic, dof, p_value)

    Examples
    --------
    >>> stat, dof, pv = hosmer_lemeshow([0, 1] * 50, [0.5] * 100, groups=5)
    >>> round(stat, 6), dof, round(pv, 3)
    (0.0, 5, 1.0)
    """
    from scipy.stats import chi2

    y = np.asarray(y, dtype="float64")
    p = np.asarray(p, dtype="float64")
    n = len(y)
    g = int(min(groups, n))
    order = np.argsort(p, kind="stable")
    gid = np.empty(n, dtype=np.int64)
    gid[order] = np.arange(n) * g // n
    n_g = np.bincount(gid, minlength=g).astype(float)
    o_g = np.bincount(gid, weights=y, minlength=g)
    e_g = np.bincount(gid, weights=p, minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (o_g - e_g) ** 2 / (e_g * (1 - e_g / n_g))
    terms = np.where(np.isfinite(terms), terms, 0.0)
    stat = float(terms.sum())
    dof = g if external else max(g - 2, 1)
    return stat, dof, float(chi2.sf(stat, dof))


# ============================================================================================
# 2. fitting
# ============================================================================================


class _Scorer:
    """Frame -> probability for sklearn's permutation_importance (columns of the raw frame)."""

    _estimator_type = "classifier"

    def __init__(self, design: _Design, model: Any) -> None:
        self.design = design
        self.model = model
        self.classes_ = np.array([0, 1])

    def fit(self, X: Any, y: Any = None) -> _Scorer:  # pragma: no cover - never refitted
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


@dataclass(frozen=True, eq=False, repr=False)
class ChurnModels(Result):
    """Both fitted churn models and their split (see :func:`fit_churn_models`).

    Attributes
    ----------
    spec : FeatureSpec
        Features used.
    models : dict
        Model name -> fitted estimator used for predictions (calibrated when so decided).
    logistic : sklearn LogisticRegression
        The uncalibrated logistic fit (odds ratios and reasons).
    split : dict
        ``kind`` (``out_of_time`` or ``stratified_holdout``), ``test_size``, row counts,
        base rates, ``subsampled`` (training rows used of those available).
    calibration : pandas.DataFrame
        Per model: test used to decide, statistic, p-value, calibrated (bool), method.
    test : pandas.DataFrame
        The held-out frame (copy of the rows), for :func:`evaluate_churn_models`.
    X_test : numpy.ndarray
        Held-out design matrix.
    y_test : numpy.ndarray
        Held-out labels (0/1).
    C : float
        Inverse L2 strength of the logistic regression.
    random_state : int or None
        Seed.
    """

    spec: FeatureSpec
    design: _Design
    models: dict[str, Any]
    logistic: Any
    split: dict[str, Any]
    calibration: pd.DataFrame
    test: pd.DataFrame
    X_test: np.ndarray
    y_test: np.ndarray
    coef_cov: np.ndarray
    x_mean: np.ndarray
    C: float
    random_state: int | None
    train_base_rate: float
    _odds: pd.DataFrame = field(default_factory=pd.DataFrame)

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
        X = self.design.transform(frame, what="scoring frame")
        return pd.DataFrame({m: self.models[m].predict_proba(X)[:, 1] for m in MODEL_NAMES}, index=frame.index)

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
            ``p_holm``.
        """
        return self._odds.copy()

    def summary(self) -> pd.DataFrame:
        """Per model: ``model``, ``n_train``, ``n_test``, ``split``, ``calibration_test``,
        ``calibration_p``, ``calibrated``, ``calibration_method``."""
        rows = []
        for m in MODEL_NAMES:
            c = self.calibration.set_index("model").loc[m]
            rows.append(
                {
                    "model": _MODEL_TITLES[m],
                    "n_train": self.split["n_train_used"],
                    "n_test": self.split["n_test"],
                    "split": self.split["kind"],
                    "calibration_test": c["test"],
                    "calibration_p": c["p_value"],
                    "calibrated": bool(c["calibrated"]),
                    "calibration_method": c["method"],
                }
            )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, Any]:
        """Split, calibration decisions and the odds ratios (JSON-able)."""
        return {
            "split": {k: (num(v) if isinstance(v, float) else v) for k, v in self.split.items()},
            "C": num(self.C),
            "random_state": self.random_state,
            "calibration": {
                r.model: {"test": r.test, "p_value": num(r.p_value), "calibrated": bool(r.calibrated),
                          "method": r.method}
                for r in self.calibration.itertuples()
            },
            "odds_ratios": {
                r.term: {"odds_ratio": num(r.odds_ratio), "ci_low": num(r.ci_low), "ci_high": num(r.ci_high),
                         "p_holm": num(r.p_holm)}
                for r in self._odds.itertuples()
            },
        }

    def finding(self) -> str:
        """How the models were trained and what the logistic model says, in words."""
        s = self.split
        if s["kind"] == "out_of_time":
            text = (
                f"Trained on {s['n_train']:,} customers of the earlier period (labels from the window "
                f"after its as-of date) and tested out of time on {s['n_test']:,} customers of the later one."
            )
        else:
            text = (
                f"Trained on {s['n_train']:,} customers and tested on a stratified held-out "
                f"{pct(s['test_size'], 0)} ({s['n_test']:,} customers) the models never saw."
            )
        if s["n_train_used"] < s["n_train"]:
            text += (
                f" Training used a seeded stratified sample of {s['n_train_used']:,} rows "
                f"({_KEY}.max_rows) to keep the run fast."
            )
        odds = self._odds
        sig = odds[odds["p_holm"] < 0.05]
        up = sig[sig["odds_ratio"] > 1].head(3)
        down = sig[sig["odds_ratio"] < 1].sort_values("odds_ratio").head(3)
        if len(up):
            text += " Strongest risk raisers (odds ratio, 95 % CI): " + "; ".join(
                f"{_term_words(r)} {r.odds_ratio:.2f} ({r.ci_low:.2f}-{r.ci_high:.2f})" for r in up.itertuples()
            ) + "."
        if len(down):
            text += " Strongest protectors: " + "; ".join(
                f"{_term_words(r)} {r.odds_ratio:.2f} ({r.ci_low:.2f}-{r.ci_high:.2f})" for r in down.itertuples()
            ) + "."
        cal = self.calibration[self.calibration["calibrated"]]
        if len(cal):
            text += " Probabilities of " + " and ".join(_MODEL_TITLES[m] for m in cal["model"]) + (
                f" were recalibrated ({', '.join(sorted(set(cal['method'])))}, fitted on training rows only)."
            )
        return text

    def plot(self, ax: Any = None, *, top: int = 20) -> Any:
        """Forest plot of the logistic odds ratios (log scale) with 95 % intervals.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        o = self._odds.copy()
        o["size"] = np.abs(np.log(o["odds_ratio"]))
        o = o.sort_values("size", ascending=False).head(top).sort_values("odds_ratio")
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 0.32 * len(o) + 1.2))
        o["label"] = [_term_words(r) for r in o.itertuples()]
        sns.scatterplot(data=o, x="odds_ratio", y="label", ax=ax, color="C0", zorder=3)
        ax.hlines(o["label"], o["ci_low"], o["ci_high"], color="C0", lw=1.5)
        ax.axvline(1, color="grey", ls="--", lw=1)
        ax.set_xscale("log")
        ax.set_xlabel("odds ratio of churn (95 % CI, log scale)")
        ax.set_ylabel("")
        ax.set_title("Logistic model: what raises and lowers churn odds")
        return ax

    def __repr__(self) -> str:
        cal = ",".join(m for m, c in zip(self.calibration["model"], self.calibration["calibrated"], strict=True) if c)
        return (
            f"ChurnModels(split={self.split['kind']!r}, n_train={self.split['n_train_used']:,}, "
            f"n_test={self.split['n_test']:,}, features={len(self.spec.features)}, calibrated={cal or 'none'})"
        )


def _term_words(r: Any) -> str:
    if r.per.startswith("+1 SD"):
        return f"{_nice(r.feature)} (+1 SD)"
    if r.per == "missing vs present":
        return f"{_nice(r.feature)} missing"
    if r.per == "yes vs no":
        return f"{_nice(r.feature)}: yes"
    return f"{_nice(r.feature)}: {r.term.split('=', 1)[1]}"


def _check_leakage(X_frame: pd.DataFrame, y: np.ndarray, spec: FeatureSpec, design: _Design,
                   leakage_auc: float) -> None:
    """Stop when one feature alone (nearly) separates churners from non-churners."""
    worst: list[tuple[float, str]] = []
    for c in spec.numeric:
        v = _numeric_col(X_frame, c)
        v = np.where(np.isnan(v), design.medians[c], v)
        a = _auc_binary(y, v)
        worst.append((max(a, 1 - a), c))
    for c in spec.categorical:
        s = _cat_col(X_frame, c)
        rate = pd.Series(y).groupby(s.to_numpy()).transform("mean").to_numpy()
        a = _auc_binary(y, rate)
        worst.append((max(a, 1 - a), c))
    hits = sorted([w for w in worst if np.isfinite(w[0]) and w[0] >= leakage_auc], reverse=True)
    if hits:
        auc, col = hits[0]
        same = ""
        try:
            lab = _binary_label(X_frame[col], label=col)
            if lab.notna().all() and (np.array_equal(lab.to_numpy(), y) or np.array_equal(1 - lab.to_numpy(), y)):
                same = " - it is the label under another name"
        except AnalysisError:
            pass
        others = f" (also: {', '.join(f'{c} {a:.3f}' for a, c in hits[1:5])})" if len(hits) > 1 else ""
        raise AnalysisError(
            f"churn frame.{col}: this feature alone separates churners from non-churners in "
            f"{len(y):,} training rows (single-feature ROC AUC {auc:.3f} >= {_KEY}.leakage_auc = "
            f"{leakage_auc}){same}{others}. A feature that good is almost always recorded after the "
            f"outcome (leakage); add {col!r} to {_KEY}.exclude (or raise {_KEY}.leakage_auc if it is "
            f"truly known before the as-of date)"
        )


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


def _odds_table(design: _Design, coef: np.ndarray, cov: np.ndarray) -> pd.DataFrame:
    from scipy.stats import norm

    se = np.sqrt(np.clip(np.diag(cov)[1:], 0, None))
    z = norm.ppf(0.975)
    pers = []
    for col, grp in zip(design.columns, design.groups, strict=True):
        if col == grp and grp in design.spec.boolean:
            pers.append("yes vs no")
        elif col == grp:
            pers.append(f"+1 SD ({_fmt_num(design.sds[grp])})")
        elif col.endswith(" (missing)"):
            pers.append("missing vs present")
        else:
            pers.append(f"vs {design.reference[grp]}")
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * norm.sf(np.abs(coef / se))
    out = pd.DataFrame(
        {
            "term": list(design.columns),
            "feature": list(design.groups),
            "per": pers,
            "coef": coef,
            "std_err": se,
            "odds_ratio": np.exp(coef),
            "ci_low": np.exp(coef - z * se),
            "ci_high": np.exp(coef + z * se),
            "p_value": pv,
        }
    )
    out["p_holm"] = holm(out["p_value"].to_numpy())
    return out.sort_values("odds_ratio", ascending=False, kind="stable").reset_index(drop=True)


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

    Time-safe evaluation: for data with dates pass an out-of-time pair, ``train`` built at
    ``as_of - window`` (features before it, labels from the window up to ``as_of``) and
    ``test`` built at ``as_of``. For snapshot data (Telco) pass one frame; a stratified
    ``test_size`` share is held out. Never split one dated history at random across time.

    Parameters
    ----------
    train : pandas.DataFrame
        Per-customer churn frame with the label and the features of ``spec`` (not modified).
    spec : FeatureSpec
        From :func:`prepare_features`.
    test : pandas.DataFrame, optional
        Out-of-time held-out frame; default: a stratified split of ``train``.
    test_size : float, default 0.25
        Held-out share of the stratified split (``analyses.churn.model.test_size``).
    C : float, default 1.0
        Inverse L2 strength of the logistic regression (``analyses.churn.model.logistic_C``);
        numeric features are standardized first.
    calibrate : {'auto', 'always', 'never'}, default 'auto'
        ``auto``: each model is fitted on 80 % of the training rows and its predictions on the
        other 20 % (stratified, seeded) are tested with Spiegelhalter's z (Holm over the two
        models); a model failing at 5 % is calibrated with ``CalibratedClassifierCV`` on those
        20 % (isotonic from 2,000 rows, else sigmoid), otherwise refitted on all training rows.
        ``always`` calibrates both that way; ``never`` fits on all training rows. The held-out
        rows are never used. Odds ratios and reasons always come from a logistic fit on all
        training rows.
    max_rows : int, default 200_000
        Larger training sets are subsampled (seeded, stratified; ``analyses.churn.model.max_rows``).
    leakage_auc : float, default 0.98
        Single-feature AUC at or above which a feature is taken for leakage
        (``analyses.churn.model.leakage_auc``).
    random_state : int or None, default 42
        Seed of the split, the subsample, the boosting and the calibration folds.

    Returns
    -------
    ChurnModels

    Raises
    ------
    AnalysisError
        Label missing or not binary; one class only in training or held-out rows; too few rows;
        a feature that alone separates the classes (leakage); bad ``calibrate``.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    if calibrate not in ("auto", "always", "never"):
        raise AnalysisError(f"{_KEY}.calibrate must be 'auto', 'always' or 'never'; got {calibrate!r}")
    if not 0 < test_size < 1:
        raise AnalysisError(f"{_KEY}.test_size must be between 0 and 1; got {test_size}")
    label = spec.label
    for name, fr in (("training frame", train), ("test frame", test)):
        if fr is not None and label not in fr.columns:
            raise AnalysisError(
                f"churn {name} ({len(fr):,} rows) has no label column {label!r}; "
                f"fix analyses.churn.label.flag_column"
            )

    def labels(fr: pd.DataFrame, what: str) -> np.ndarray:
        y = _binary_label(fr[label], label=label, table=f"churn {what}")
        if y.isna().any():
            ex = fr.loc[y.isna(), spec.id_column].head(5).tolist() if spec.id_column in fr else []
            raise AnalysisError(
                f"churn {what}.{label}: {int(y.isna().sum()):,} of {len(fr):,} rows have no label"
                + (f" (e.g. customers {format_examples(ex)})" if ex else "")
                + "; keep only customers whose outcome is known (eligible at the as-of date)"
            )
        return y.to_numpy(dtype="int64")

    y_all = labels(train, "training frame")
    if test is None:
        counts = np.bincount(y_all, minlength=2)
        if counts.min() < 2:
            _one_class(counts, "training frame", len(train))
        tr_idx, te_idx = train_test_split(
            np.arange(len(train)), test_size=test_size, stratify=y_all, random_state=random_state
        )
        tr_idx, te_idx = np.sort(tr_idx), np.sort(te_idx)
        train_fr = train.iloc[tr_idx]
        test_fr = train.iloc[te_idx].copy()
        y_tr, y_te = y_all[tr_idx], y_all[te_idx]
        kind = "stratified_holdout"
    else:
        train_fr, test_fr = train, test.copy()
        y_tr, y_te = y_all, labels(test, "test frame")
        kind = "out_of_time"
    for y, what, fr, k in ((y_tr, "training rows", train_fr, MIN_TRAIN_CLASS), (y_te, "held-out rows", test_fr,
                                                                                 MIN_TEST_CLASS)):
        counts = np.bincount(y, minlength=2)
        if counts.min() == 0:
            _one_class(counts, what, len(fr))
        if counts.min() < k:
            raise AnalysisError(
                f"churn {what}: only {counts[1]:,} churners and {counts[0]:,} non-churners; a model needs "
                f"at least {k} of each - use more customers, a longer analyses.churn.label.inactivity_days "
                f"window, or a different {_KEY}.test_size"
            )
    if len(y_tr) < MIN_TRAIN_ROWS:
        raise AnalysisError(
            f"churn training rows: {len(y_tr):,} customers are too few for a model (need {MIN_TRAIN_ROWS})"
        )
    n_train = len(y_tr)
    rng = np.random.default_rng(random_state)
    if n_train > max_rows:
        sub = _stratified_subsample(y_tr, max_rows, rng)
        train_fr = train_fr.iloc[sub]
        y_tr = y_tr[sub]
    design = _Design.learn(train_fr, spec)
    _check_leakage(train_fr, y_tr, spec, design, leakage_auc)
    X_tr = design.transform(train_fr, what="training frame")
    X_te = design.transform(test_fr, what="test frame")  # checks columns and unseen levels now

    seeds = np.random.SeedSequence(random_state).generate_state(4)

    def new(m: str) -> Any:
        if m == "logistic":
            return LogisticRegression(C=C, max_iter=5000)
        return HistGradientBoostingClassifier(
            learning_rate=0.1, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
            early_stopping=True, validation_fraction=0.15, n_iter_no_change=15, random_state=int(seeds[0]),
        )

    def fit(m: str, X: np.ndarray, y: np.ndarray) -> Any:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            return new(m).fit(X, y)

    logit = fit("logistic", X_tr, y_tr)  # odds ratios and reasons: always on all training rows
    models: dict[str, Any] = {}
    cal_rows = []
    if calibrate == "never":
        models = {"logistic": logit, "hgb": fit("hgb", X_tr, y_tr)}
        cal_rows = [
            {"model": m, "test": "none (calibrate=never)", "p_value": float("nan"), "calibrated": False,
             "method": "none"}
            for m in MODEL_NAMES
        ]
    else:
        # a stratified calibration share of the training rows: decide on it and fit the calibrator on
        # it; the held-out rows are never touched
        fit_idx, cal_idx = train_test_split(
            np.arange(len(y_tr)), test_size=CALIBRATION_SHARE, stratify=y_tr, random_state=int(seeds[1])
        )
        part = {m: fit(m, X_tr[fit_idx], y_tr[fit_idx]) for m in MODEL_NAMES}
        p_cal = {m: part[m].predict_proba(X_tr[cal_idx])[:, 1] for m in MODEL_NAMES}
        y_cal = y_tr[cal_idx]
        method = "isotonic" if len(cal_idx) >= 2000 else "sigmoid"
        if calibrate == "auto":
            raw_p = [spiegelhalter(y_cal, p_cal[m])[1] for m in MODEL_NAMES]
            p_adj = holm(np.nan_to_num(np.asarray(raw_p), nan=1.0))
            decide = {m: bool(p_adj[i] < 0.05) for i, m in enumerate(MODEL_NAMES)}
            tests = {m: ("Spiegelhalter z on a calibration share of training (Holm)", float(p_adj[i]))
                     for i, m in enumerate(MODEL_NAMES)}
        else:
            decide = {m: True for m in MODEL_NAMES}
            tests = {m: ("none (calibrate=always)", float("nan")) for m in MODEL_NAMES}
        for m in MODEL_NAMES:
            if decide[m]:
                from sklearn.calibration import CalibratedClassifierCV
                from sklearn.frozen import FrozenEstimator

                models[m] = CalibratedClassifierCV(FrozenEstimator(part[m]), method=method).fit(
                    X_tr[cal_idx], y_cal
                )
            else:
                models[m] = logit if m == "logistic" else fit(m, X_tr, y_tr)
            cal_rows.append(
                {"model": m, "test": tests[m][0], "p_value": tests[m][1], "calibrated": decide[m],
                 "method": method if decide[m] else "none"}
            )
    p_fit = logit.predict_proba(X_tr)[:, 1]
    cov = _logistic_cov(X_tr, p_fit, C)
    odds = _odds_table(design, logit.coef_[0], cov)
    split = {
        "kind": kind,
        "test_size": float(test_size) if kind == "stratified_holdout" else None,
        "n_train": int(n_train),
        "n_train_used": int(len(y_tr)),
        "n_test": int(len(y_te)),
        "base_rate_train": float(y_tr.mean()),
        "base_rate_test": float(y_te.mean()),
        "subsampled": bool(n_train > max_rows),
        "random_state": random_state,
    }
    return ChurnModels(
        spec=spec, design=design, models=models, logistic=logit, split=split,
        calibration=pd.DataFrame(cal_rows), test=test_fr, X_test=X_te, y_test=y_te, coef_cov=cov,
        x_mean=X_tr.mean(axis=0), C=float(C),
        random_state=random_state, train_base_rate=float(y_tr.mean()), _odds=odds,
    )


def _one_class(counts: np.ndarray, what: str, n: int) -> None:
    only = "churners" if counts[0] == 0 else "non-churners"
    raise AnalysisError(
        f"churn {what}: all {n:,} rows are {only} (one class only); a churn model needs both - check "
        f"the label (analyses.churn.label) and the as-of date / window of the frame"
    )


# ============================================================================================
# 3. evaluation
# ============================================================================================


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
    order = np.argsort(-s, kind="stable")
    dec = np.empty(n, dtype=np.int64)
    dec[order] = np.arange(n) * bins // n
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


def _fast_auc_stat(y: np.ndarray, score: np.ndarray):
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
        """Per model: ``model``, ``roc_auc``, ``roc_auc_low``, ``roc_auc_high``, ``pr_auc``,
        ``base_rate``, ``brier``, ``brier_skill``, ``hl_p`` (Hosmer-Lemeshow), ``spiegelhalter_p``,
        ``calibrated``, ``top_decile_lift``."""
        return self.table.copy()

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
        t = self.table.set_index("model")
        i = self.info
        lg = t.loc["logistic"]
        where = (
            f"{i['n_test']:,} customers of the later period (out of time)"
            if i["split"] == "out_of_time"
            else f"{i['n_test']:,} held-out customers (stratified split)"
        )
        text = (
            f"On {where}, with a churn base rate of {pct(lg['base_rate'])}, the logistic model ranks a "
            f"random churner above a random stayer {pct(lg['roc_auc'], 0)} of the time (ROC AUC "
            f"{lg['roc_auc']:.3f}, 95 % CI {lg['roc_auc_low']:.3f}-{lg['roc_auc_high']:.3f}); gradient "
            f"boosting {t.loc['hgb', 'roc_auc']:.3f} ({t.loc['hgb', 'roc_auc_low']:.3f}-"
            f"{t.loc['hgb', 'roc_auc_high']:.3f})."
        )
        c = self.comparison
        if c["diff_low"] > 0:
            text += (
                f" Gradient boosting is clearly better (AUC +{c['diff']:.3f}, CI {c['diff_low']:.3f} to "
                f"{c['diff_high']:.3f}): use it for scoring, the logistic model to explain."
            )
        elif c["diff_high"] < 0:
            text += f" The logistic model is clearly better (AUC {c['diff']:+.3f} for boosting): use it."
        else:
            text += (
                f" The difference ({c['diff']:+.3f}, CI {c['diff_low']:+.3f} to {c['diff_high']:+.3f}) is "
                f"within noise, so the explainable logistic model is enough."
            )
        b = self.best
        lt = self.lift[self.lift["model"] == b]
        top = lt.iloc[0]
        top3 = lt.iloc[min(2, len(lt) - 1)]
        text += (
            f" Contacting the riskiest 10 % by the {_MODEL_TITLES[b]} reaches {pct(top['cum_churners_share'], 0)} "
            f"of churners ({top['lift']:.1f}x the base rate); the riskiest 30 % reach "
            f"{pct(top3['cum_churners_share'], 0)}."
        )
        bt = t.loc[b]
        text += f" Brier skill vs the base rate is {pct(bt['brier_skill'], 0)}."
        if bt["hl_p"] < 0.05:
            text += (
                f" Calibration is off on held-out data (Hosmer-Lemeshow p = {bt['hl_p']:.3g}): treat the "
                f"probabilities as a ranking, not exact shares."
            )
        else:
            text += " Predicted probabilities match observed churn (calibration tests pass)."
        if bt["calibrated"]:
            text += f" ({_MODEL_TITLES[b].capitalize()} probabilities were recalibrated on training rows.)"
        imp = self.importance[self.importance["model"] == b].head(3)
        if len(imp):
            text += " Most important features (AUC lost when shuffled): " + ", ".join(
                f"{r.feature} ({r.auc_drop:.3f})" for r in imp.itertuples()
            ) + "."
        if i.get("n_train_used", 0) < i.get("n_train", 0):
            text += f" Trained on a seeded sample of {i['n_train_used']:,} of {i['n_train']:,} rows."
        return text

    def plot(self, ax: Any = None) -> Any:
        """ROC and precision-recall curves of both models (two panels).

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
            fig, ax = plt.subplots(1, 2, figsize=(11, 4.6))
        else:
            fig = ax[0].figure
        t = self.table.set_index("model")
        roc = pd.concat(
            [c["roc"].assign(model=f"{_MODEL_TITLES[m]} (AUC {t.loc[m, 'roc_auc']:.3f})")
             for m, c in self.curves.items()]
        )
        pr = pd.concat(
            [c["pr"].assign(model=f"{_MODEL_TITLES[m]} (AP {t.loc[m, 'pr_auc']:.3f})") for m, c in self.curves.items()]
        )
        sns.lineplot(data=roc, x="false positive rate", y="true positive rate", hue="model", ax=ax[0],
                     estimator=None, sort=False)
        ax[0].plot([0, 1], [0, 1], ls="--", color="grey", lw=1)
        ax[0].set_title("ROC curve (held-out)")
        sns.lineplot(data=pr, x="recall", y="precision", hue="model", ax=ax[1], estimator=None, sort=False)
        ax[1].axhline(t["base_rate"].iloc[0], ls="--", color="grey", lw=1, label="base rate")
        ax[1].set_ylim(0, 1.02)
        ax[1].set_title("Precision-recall (held-out)")
        ax[1].legend(fontsize=8)
        return fig

    def plot_calibration(self, ax: Any = None) -> Any:
        """Calibration curve: observed churn rate vs mean predicted probability, by decile.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(5.2, 5))
        c = self.calibration.copy()
        c["model"] = c["model"].map(_MODEL_TITLES)
        sns.lineplot(data=c, x="mean_predicted", y="observed", hue="model", marker="o", ax=ax, estimator=None,
                     sort=False)
        hi = float(max(c["mean_predicted"].max(), c["observed"].max(), 0.05))
        ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=1, label="perfect")
        ax.set_xlabel("mean predicted P(churn)")
        ax.set_ylabel("observed churn rate")
        ax.set_title("Calibration (held-out, deciles)")
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
        lt["model"] = lt["model"].map(_MODEL_TITLES)
        sns.barplot(data=lt, x="decile", y="lift", hue="model", ax=ax[0])
        ax[0].axhline(1, ls="--", color="grey", lw=1)
        ax[0].set_xlabel("risk decile (1 = highest risk)")
        ax[0].set_title("Lift by decile")
        g = pd.concat(
            [pd.DataFrame({"cum_customers_share": [0.0], "cum_churners_share": [0.0], "model": [m]})
             for m in lt["model"].unique()] + [lt[["cum_customers_share", "cum_churners_share", "model"]]]
        ).sort_values(["model", "cum_customers_share"])
        sns.lineplot(data=g, x="cum_customers_share", y="cum_churners_share", hue="model", marker="o", ax=ax[1],
                     estimator=None, sort=False)
        ax[1].plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random")
        ax[1].set_xlabel("share of customers contacted (riskiest first)")
        ax[1].set_ylabel("share of churners reached")
        ax[1].set_title("Cumulative gains")
        return fig

    def plot_importance(self, ax: Any = None, *, top: int = 15) -> Any:
        """Permutation importance (held-out AUC lost when a feature is shuffled), both models.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        imp = self.importance.copy()
        keep = imp.groupby("feature")["auc_drop"].max().sort_values(ascending=False).head(top).index
        imp = imp[imp["feature"].isin(keep)]
        imp["model"] = imp["model"].map(_MODEL_TITLES)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 0.35 * len(keep) + 1.5))
        sns.barplot(data=imp, y="feature", x="auc_drop", hue="model", order=list(keep), ax=ax)
        ax.set_xlabel("held-out ROC AUC lost when shuffled")
        ax.set_ylabel("")
        ax.set_title("Permutation importance")
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
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import (
        average_precision_score,
        brier_score_loss,
        precision_recall_curve,
        roc_curve,
    )

    y = models.y_test
    test = models.test
    X = models.X_test
    probs = {m: models.models[m].predict_proba(X)[:, 1] for m in MODEL_NAMES}
    ss = np.random.SeedSequence(random_state).generate_state(3)
    base_ref = models.train_base_rate
    brier_ref = float(np.mean((y - base_ref) ** 2))
    rows, curves, calib, lifts, draws = [], {}, [], [], {}
    cal = models.calibration.set_index("model")
    for m in MODEL_NAMES:
        p = probs[m]
        auc = _auc_binary(y, p)
        if bootstrap > 0:
            lo, hi, d = bootstrap_ci(_fast_auc_stat(y, p), len(y), n_boot=bootstrap, random_state=int(ss[0]))
        else:
            lo, hi, d = float("nan"), float("nan"), np.array([])
        draws[m] = d
        brier = float(brier_score_loss(y, p))
        _, _, hl_p = hosmer_lemeshow(y, p)
        _, sp_p = spiegelhalter(y, p)
        lt = lift_table(y, p).assign(model=m)
        lifts.append(lt)
        rows.append(
            {
                "model": m,
                "roc_auc": auc,
                "roc_auc_low": lo,
                "roc_auc_high": hi,
                "pr_auc": float(average_precision_score(y, p)),
                "base_rate": float(y.mean()),
                "brier": brier,
                "brier_skill": 1 - brier / brier_ref if brier_ref > 0 else float("nan"),
                "hl_p": hl_p,
                "spiegelhalter_p": sp_p,
                "calibrated": bool(cal.loc[m, "calibrated"]),
                "top_decile_lift": float(lt["lift"].iloc[0]),
            }
        )
        fpr, tpr, _ = roc_curve(y, p)
        prec, rec, _ = precision_recall_curve(y, p)
        curves[m] = {
            "roc": _thin(pd.DataFrame({"false positive rate": fpr, "true positive rate": tpr})),
            "pr": _thin(pd.DataFrame({"recall": rec, "precision": prec})),
        }
        n = len(y)
        order = np.argsort(p, kind="stable")
        gid = np.empty(n, dtype=np.int64)
        gid[order] = np.arange(n) * 10 // n
        cnt = np.bincount(gid, minlength=10)
        calib.append(
            pd.DataFrame(
                {
                    "model": m,
                    "bin": np.arange(1, 11),
                    "mean_predicted": np.bincount(gid, weights=p, minlength=10) / np.maximum(cnt, 1),
                    "observed": np.bincount(gid, weights=y, minlength=10) / np.maximum(cnt, 1),
                    "n": cnt,
                }
            )
        )
    comparison: dict[str, Any] = {"diff": rows[1]["roc_auc"] - rows[0]["roc_auc"], "models": "hgb - logistic"}
    if bootstrap > 0:
        dd = draws["hgb"] - draws["logistic"]
        dd = dd[np.isfinite(dd)]
        comparison["diff_low"], comparison["diff_high"] = float(np.quantile(dd, 0.025)), float(np.quantile(dd, 0.975))
    else:
        comparison["diff_low"], comparison["diff_high"] = float("nan"), float("nan")
    # permutation importance on raw feature columns (a level shuffle moves all its dummies)
    from scipy.stats import t as student_t

    rng = np.random.default_rng(int(ss[1]))
    n_imp = min(len(test), importance_sample)
    sel = np.sort(rng.choice(len(test), size=n_imp, replace=False)) if n_imp < len(test) else np.arange(len(test))
    feats = models.spec.features
    Xi = test.iloc[sel][feats].reset_index(drop=True)
    yi = y[sel]
    imps = []
    if len(np.unique(yi)) == 2:
        for m in MODEL_NAMES:
            r = permutation_importance(
                _Scorer(models.design, models.models[m]), Xi, yi, scoring="roc_auc",
                n_repeats=importance_repeats, random_state=int(ss[2]),
            )
            tcrit = float(student_t.ppf(0.975, importance_repeats - 1)) if importance_repeats > 1 else float("nan")
            se = r.importances_std / math.sqrt(max(importance_repeats, 1))
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
    importance = pd.concat(imps, ignore_index=True) if imps else pd.DataFrame(
        columns=["model", "feature", "auc_drop", "std", "ci_low", "ci_high"])
    info = {
        "split": models.split["kind"],
        "n_test": int(len(y)),
        "n_train": models.split["n_train"],
        "n_train_used": models.split["n_train_used"],
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


def _thin(df: pd.DataFrame, n: int = 400) -> pd.DataFrame:
    """At most ``n`` evenly spaced points of a curve (first and last kept)."""
    if len(df) <= n:
        return df
    idx = np.unique(np.linspace(0, len(df) - 1, n).round().astype(int))
    return df.iloc[idx].reset_index(drop=True)


# ============================================================================================
# 4. per-customer reasons
# ============================================================================================

#: Wording of numeric features in reasons: column -> (text when high, text when low); ``{v}``
#: is the customer's value. Other columns read "<column> <value> (high|low; typical <median>)".
REASON_PHRASES: dict[str, tuple[str, str]] = {
    "recency_days": ("no purchase for {v} days", "bought {v} days ago"),
    "tenure_months": ("tenure {v} months (long)", "tenure {v} months (short)"),
    "tenure_days": ("customer for {v} days (long)", "customer for only {v} days (new)"),
    "n_orders": ("{v} orders (many)", "only {v} orders"),
    "frequency": ("{v} repeat purchases (many)", "only {v} repeat purchases"),
    "monetary_sum": ("spent {v} in total (high)", "spent only {v} in total"),
    "monetary_mean": ("average order {v} (high)", "average order only {v}"),
    "monthly_charges": ("monthly charges {v} (high)", "monthly charges {v} (low)"),
    "total_charges": ("total charges {v} (high)", "total charges only {v}"),
    "n_refunds": ("{v} refunds", "{v} refunds (few)"),
    "gap_mean_days": ("{v} days between purchases on average (long)", "{v} days between purchases (short)"),
    "age": ("age {v}", "age {v} (young)"),
    "n_complaints": ("{v} complaints", "{v} complaints (few)"),
    "n_purchase_days": ("bought on {v} days (many)", "bought on only {v} days"),
    "btyd_frequency": ("{v} repeat purchase days (many)", "only {v} repeat purchase days"),
    "btyd_recency_days": ("first and last purchase {v} days apart", "first and last purchase only {v} days apart"),
    "btyd_T_days": ("first purchase {v} days ago", "first purchase only {v} days ago"),
    "clv": ("expected value {v} (high)", "expected value only {v}"),
}


def churn_reasons(
    models: ChurnModels,
    frame: pd.DataFrame,
    *,
    n: int = 3,
    model: str = "logistic",
    phrases: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """P(churn) and the top factors raising each customer's risk, in words.

    A factor's contribution is ``coef * (x - reference)`` on the logistic model's log-odds
    scale, the reference being the average training customer (mean of each design column:
    standardized numeric value, level share, missing share); the contributions of one feature
    (its levels, its missing-indicator) are summed, so "plan: Month-to-month" is a reason when
    that level carries more risk than the average mix of plans. The ``n`` largest positive
    contributions are the reasons; a customer with fewer factors above the average gets
    empty reasons.

    Parameters
    ----------
    models : ChurnModels
        From :func:`fit_churn_models`.
    frame : pandas.DataFrame
        Customers to score (id column and features; not modified).
    n : int, default 3
        Reasons per customer (``analyses.churn.model.n_reasons``).
    model : {'logistic', 'hgb'}, default 'logistic'
        Model giving ``p_churn`` (the reasons always come from the logistic model).
    phrases : mapping, optional
        Extra wording: column -> (text when high, text when low), ``{v}`` for the value.

    Returns
    -------
    pandas.DataFrame
        One row per customer, highest risk first: ``customer_id``, ``p_churn``,
        ``reason_1`` ... ``reason_n`` (text or missing), ``log_odds_1`` ... (contribution).

    Raises
    ------
    AnalysisError
        Unknown ``model``, ``n`` < 1, or feature columns missing in ``frame``.
    """
    if model not in MODEL_NAMES:
        raise AnalysisError(f"churn_reasons: model must be one of {', '.join(MODEL_NAMES)}; got {model!r}")
    if n < 1:
        raise AnalysisError(f"{_KEY}.n_reasons must be at least 1; got {n}")
    d = models.design
    idc = models.spec.id_column
    if idc not in frame.columns:
        raise AnalysisError(f"churn scoring frame ({len(frame):,} rows) has no key column {idc!r}")
    X = d.transform(frame, what="scoring frame")
    p = models.models[model].predict_proba(X)[:, 1]
    coef = models.logistic.coef_[0]
    # reference: the average training customer (design-column means), so the contributions of a
    # customer add up to their log-odds minus the log-odds at the average
    contrib_cols = (X - models.x_mean) * coef
    feats = list(dict.fromkeys(d.groups))
    gidx = np.array([feats.index(g) for g in d.groups])
    G = np.zeros((len(frame), len(feats)))
    np.add.at(G.T, gidx, contrib_cols.T)
    k = min(n, len(feats))
    top = np.argsort(-G, axis=1, kind="stable")[:, :k]
    vals = np.take_along_axis(G, top, axis=1)
    words = {**REASON_PHRASES, **(phrases or {})}
    out = pd.DataFrame({"customer_id": frame[idc].to_numpy(), "p_churn": p}, index=frame.index)
    for r in range(n):
        txt = pd.Series(pd.NA, index=frame.index, dtype="string")
        lo = np.full(len(frame), np.nan)
        if r < k:
            pos = vals[:, r] > 1e-9
            for fi, feat in enumerate(feats):
                mask = pos & (top[:, r] == fi)
                if mask.any():
                    txt[mask] = _reason_text(models, frame.loc[mask], feat, words).to_numpy()
            lo = np.where(pos, vals[:, r], np.nan)
        out[f"reason_{r + 1}"] = txt
        out[f"log_odds_{r + 1}"] = lo
    out = out.sort_values("p_churn", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _reason_text(models: ChurnModels, rows: pd.DataFrame, feat: str, words: Mapping[str, tuple[str, str]]) -> pd.Series:
    d = models.design
    spec = models.spec
    if feat in spec.categorical:
        return f"{_nice(feat)}: " + _cat_col(rows, feat)
    v = pd.Series(_numeric_col(rows, feat), index=rows.index)
    j = d.columns.index(feat)
    med = float(models.x_mean[j] * d.sds[feat] + d.means[feat])  # training mean (imputed values)
    out = pd.Series("", index=rows.index, dtype=object)
    isna = v.isna()
    if isna.any():
        out[isna] = f"{_nice(feat)} unknown"
    ok = ~isna
    if not ok.any():
        return out
    vv = v[ok]
    if feat in spec.boolean:
        out[ok] = np.where(vv > 0.5, f"{_nice(feat)}: yes", f"{_nice(feat)}: no")
        return out
    high = (vv > med).to_numpy()
    txt = _fmt_series(vv)
    if feat in words:
        hi_t, lo_t = words[feat]
        hi_parts = hi_t.split("{v}")
        lo_parts = lo_t.split("{v}")
        res = np.where(high, hi_parts[0] + txt + (hi_parts[1] if len(hi_parts) > 1 else ""),
                       lo_parts[0] + txt + (lo_parts[1] if len(lo_parts) > 1 else ""))
    else:
        res = np.where(high, _nice(feat) + " " + txt + f" (high; average {_fmt_num(med)})",
                       _nice(feat) + " " + txt + f" (low; average {_fmt_num(med)})")
    out[ok] = res
    return out


# ============================================================================================
# 5. retention list
# ============================================================================================


def value_at_risk(
    frame: pd.DataFrame,
    *,
    source: Literal["auto", "clv", "formula"] = "auto",
    formula: str = "monetary_sum",
    id_column: str = "customer_id",
) -> pd.Series:
    """Value at risk per customer: the ``clv`` column when present (``auto``/``clv``), else a
    pandas expression over the customer columns (``analyses.churn.retention.value_formula``).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer (not modified).
    source : {'auto', 'clv', 'formula'}, default 'auto'
        ``analyses.churn.retention.value_source``.
    formula : str, default "monetary_sum"
        e.g. ``"monetary_sum"`` or ``"monthly_charges * 12"``.
    id_column : str, default "customer_id"

    Returns
    -------
    pandas.Series
        Float values indexed by customer key, named after their source (``clv`` or the formula).

    Raises
    ------
    AnalysisError
        ``clv`` wanted but absent; the formula fails or does not give numbers.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b"], "monthly_charges": [10.0, 20.0]})
    >>> value_at_risk(f, formula="monthly_charges * 12").tolist()
    [120.0, 240.0]
    """
    if id_column not in frame.columns:
        raise AnalysisError(f"value at risk: frame ({len(frame):,} rows) has no key column {id_column!r}")
    if source not in ("auto", "clv", "formula"):
        raise AnalysisError(f"{_RKEY}.value_source must be auto, clv or formula; got {source!r}")
    if source == "clv" or (source == "auto" and "clv" in frame.columns):
        if "clv" not in frame.columns:
            raise AnalysisError(
                f"{_RKEY}.value_source is 'clv' but the frame ({len(frame):,} rows) has no clv column; run the "
                f"segmentation notebook first (its CLV artifact) or set {_RKEY}.value_source: formula"
            )
        v = pd.to_numeric(frame["clv"], errors="coerce")
        name = "clv"
    else:
        try:
            v = frame.eval(formula, engine="python")
        except Exception as exc:  # any failure of a user expression is a params problem
            raise AnalysisError(
                f"{_RKEY}.value_formula {formula!r} cannot be evaluated on the customer frame: {exc}; "
                f"columns available: {', '.join(map(str, frame.columns))}"
            ) from exc
        if np.isscalar(v):
            v = pd.Series(float(v), index=frame.index)
        if not isinstance(v, pd.Series) or not pd.api.types.is_numeric_dtype(v.dtype):
            raise AnalysisError(f"{_RKEY}.value_formula {formula!r} does not give one number per customer")
        name = formula
    return pd.Series(v.to_numpy(dtype="float64", na_value=np.nan), index=frame[id_column].to_numpy(), name=name)


@dataclass(frozen=True, eq=False, repr=False)
class RetentionList(Result):
    """Customers ranked by the expected net value of a retention contact (see
    :func:`retention_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        Every scored customer, best first (raw keys; internal).
    export : pandas.DataFrame
        The list to import into the CRM: customers worth contacting (capped at ``top_n``).
    assumptions : dict
        ``save_rate``, ``contact_cost``, ``value`` (source), ``top_n``, ``key`` (pseudonym/raw).
    """

    table: pd.DataFrame
    export: pd.DataFrame
    assumptions: dict[str, Any]
    currency: str = "¥"

    def to_frame(self) -> pd.DataFrame:
        """The export frame: ``rank``, ``customer_key`` (pseudonym, or ``customer_id`` when raw
        keys are allowed), ``p_churn``, ``value_at_risk``, ``expected_loss``
        (``p * value``), ``expected_saved`` (``* save_rate``), ``contact_cost``,
        ``expected_net_value``, ``segment`` (when given), ``reason_1`` ..."""
        return self.export.copy()

    def summary(self) -> pd.DataFrame:
        """Headline figures as ``item``, ``value`` rows."""
        t = self.table
        e = self.export
        n = len(t)
        rows = [
            ("customers scored", n),
            ("worth contacting (expected net value > 0)", int((t["expected_net_value"] > 0).sum())),
            ("share of the base worth contacting", (t["expected_net_value"] > 0).mean() if n else np.nan),
            ("on the list", len(e)),
            ("expected churners on the list", float(e["p_churn"].sum())),
            ("value at risk on the list (sum p x value)", float(e["expected_loss"].sum())),
            ("expected value saved", float(e["expected_saved"].sum())),
            ("contact cost", float(e["contact_cost"].sum())),
            ("expected net value", float(e["expected_net_value"].sum())),
            ("value at risk, whole base (sum p x value)", float(t["expected_loss"].sum())),
            ("assumed save rate", self.assumptions["save_rate"]),
            ("cost per contact", self.assumptions["contact_cost"]),
        ]
        return pd.DataFrame(rows, columns=["item", "value"])

    def by_segment(self) -> pd.DataFrame:
        """Value at risk by segment (whole base): ``segment``, ``customers``,
        ``expected_churners``, ``value``, ``value_at_risk`` (sum p x value), ``share_of_risk``,
        ``on_list``, ``expected_net_value`` (of those on the list); largest risk first."""
        t = self.table.copy()
        if "segment" not in t.columns:
            t["segment"] = "all customers"
        t["on_list"] = t["customer_id"].isin(self._listed_ids)
        t["net_listed"] = np.where(t["on_list"], t["expected_net_value"], 0.0)
        g = t.groupby("segment", observed=True, dropna=False)
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "expected_churners": g["p_churn"].sum(),
                "value": g["value_at_risk"].sum(),
                "value_at_risk": g["expected_loss"].sum(),
                "on_list": g["on_list"].sum(),
                "expected_net_value": g["net_listed"].sum(),
            }
        )
        total = out["value_at_risk"].sum()
        out["share_of_risk"] = out["value_at_risk"] / total if total > 0 else np.nan
        out = out.reset_index().sort_values("value_at_risk", ascending=False).reset_index(drop=True)
        out["segment"] = out["segment"].astype(str)
        return out[["segment", "customers", "expected_churners", "value", "value_at_risk", "share_of_risk",
                    "on_list", "expected_net_value"]]

    @property
    def _listed_ids(self) -> set[Any]:
        return set(self.table["customer_id"].iloc[: len(self.export)])

    def metrics(self) -> dict[str, Any]:
        """Headline figures and assumptions (JSON-able)."""
        s = self.summary()
        return {
            **{r.item: num(r.value) for r in s.itertuples()},
            "assumptions": {k: (num(v) if isinstance(v, float) else v) for k, v in self.assumptions.items()},
        }

    def finding(self) -> str:
        """Who to contact and what it is worth, with its assumptions, in words."""
        s = self.summary().set_index("item")["value"]
        c = self.currency
        a = self.assumptions
        n_worth = int(s["worth contacting (expected net value > 0)"])
        if n_worth == 0:
            return (
                f"No customer is worth a retention contact: even the riskiest one's expected saved value "
                f"(P(churn) x value x save rate {pct(a['save_rate'], 0)}) is below the {c}{a['contact_cost']:,.2f} "
                f"contact cost. Lower the cost or target a better save rate."
            )
        text = (
            f"{n_worth:,} customers ({pct(s['share of the base worth contacting'])} of the base) are worth a "
            f"retention contact: their expected saved value exceeds the {c}{a['contact_cost']:,.2f} contact cost. "
        )
        if len(self.export) < n_worth:
            text += f"The list is capped at the best {len(self.export):,} (analyses.churn.retention.top_n). "
        text += (
            f"Contacting the {len(self.export):,} on the list is worth {c}{s['expected net value']:,.0f} net in "
            f"expectation ({c}{s['expected value saved']:,.0f} saved minus {c}{s['contact cost']:,.0f} cost), "
            f"assuming {pct(a['save_rate'], 0)} of contacted churners are saved and value = {a['value']}. "
            f"The save rate is an assumption: measure it with a control group that is not contacted."
        )
        if s["share of the base worth contacting"] > 0.5:
            text += (
                f" More than half the base clears the bar: check that the value at risk ({a['value']}) is a "
                f"value still to come (CLV), not past spend, and that the cost per contact is complete."
            )
        seg = self.by_segment()
        if "segment" in self.table.columns and len(seg) > 1:
            top = seg.iloc[0]
            text += (
                f" Segment {top['segment']} carries the most value at risk ({c}{top['value_at_risk']:,.0f}, "
                f"{pct(top['share_of_risk'], 0)} of the total): retention budget belongs there first."
            )
        return text

    def plot(self, ax: Any = None) -> Any:
        """Cumulative expected net value vs number of customers contacted (best first).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 4.2))
        ev = self.table["expected_net_value"].to_numpy()
        cum = np.concatenate([[0.0], np.cumsum(ev)])
        x = np.arange(len(cum))
        if len(cum) > 2000:
            idx = np.unique(np.linspace(0, len(cum) - 1, 2000).round().astype(int))
            x, cum_p = x[idx], cum[idx]
        else:
            cum_p = cum
        sns.lineplot(x=x, y=cum_p, ax=ax, label="cumulative expected net value")
        k = len(self.export)
        ax.axvline(k, color="C3", ls="--", lw=1, label=f"list: {k:,} customers")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel("customers contacted (highest expected net value first)")
        ax.set_ylabel(f"expected net value ({self.currency})")
        ax.set_title("Retention: value of contacting the top N")
        ax.legend(loc="best", fontsize=8)
        return ax

    def __repr__(self) -> str:
        return (
            f"RetentionList(listed={len(self.export):,}, of={len(self.table):,}, "
            f"expected_net_value={float(self.export['expected_net_value'].sum()):,.0f})"
        )


def retention_list(
    scores: pd.DataFrame,
    *,
    value: pd.Series | str | float,
    save_rate: float,
    contact_cost: float,
    salt: str,
    allow_raw_keys: bool = False,
    top_n: int | None = None,
    segments: pd.Series | str | None = None,
    customers: pd.DataFrame | None = None,
    currency: str = "¥",
) -> RetentionList:
    """Rank customers by the expected net value of a retention contact.

    ``expected_net_value = p_churn * value_at_risk * save_rate - contact_cost``. Customers with
    a positive expected net value are worth contacting; the list holds them, best first (at most
    ``top_n``). Keys are pseudonymized with :func:`workbench.core.privacy.pseudonymize` unless raw
    keys are allowed.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``customer_id``, ``p_churn`` and optionally ``reason_*`` (e.g. from
        :func:`churn_reasons`); not modified.
    value : Series, str or float
        Value at risk: a Series indexed by ``customer_id`` (e.g. :func:`value_at_risk`), a column
        of ``scores``/``customers`` or a pandas expression over them, or one number for all.
    save_rate : float
        Assumed share of contacted churners kept (``analyses.churn.retention.save_rate``).
    contact_cost : float
        Cost per contact (``analyses.churn.retention.contact_cost``).
    salt : str
        ``privacy.salt``.
    allow_raw_keys : bool, default False
        ``privacy.allow_raw_keys``: export raw ``customer_id`` instead of pseudonyms.
    top_n : int, optional
        Cap the list (``analyses.churn.retention.top_n``).
    segments : Series or str, optional
        Segment per customer (Series indexed by ``customer_id``, or a column name of
        ``scores``/``customers`` such as ``cluster_name`` or ``abc_class``; ``"auto"``: the first
        of :data:`SEGMENT_COLUMNS` present, else none) - ``analyses.churn.retention.segment_column``.
    customers : pandas.DataFrame, optional
        Customer columns (with ``customer_id``) for ``value`` formulas and ``segments``.
    currency : str, default "¥"

    Returns
    -------
    RetentionList

    Raises
    ------
    AnalysisError
        Missing columns, probabilities outside [0, 1], bad save rate or cost, bad value formula.
    """
    for c in ("customer_id", "p_churn"):
        if c not in scores.columns:
            raise AnalysisError(
                f"retention list: scores ({len(scores):,} rows) need column {c!r} (columns: "
                f"{', '.join(map(str, scores.columns))}); use churn_reasons(...)"
            )
    if not 0 < save_rate <= 1:
        raise AnalysisError(f"{_RKEY}.save_rate must be in (0, 1]; got {save_rate}")
    if contact_cost < 0 or not math.isfinite(contact_cost):
        raise AnalysisError(f"{_RKEY}.contact_cost must be a non-negative number; got {contact_cost}")
    if top_n is not None and top_n < 1:
        raise AnalysisError(f"{_RKEY}.top_n must be at least 1; got {top_n}")
    dup = scores["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"retention list: {int(dup.sum()):,} of {len(scores):,} score rows repeat a customer_id, e.g. "
            f"{format_examples(scores.loc[dup, 'customer_id'].head(10))}; score each customer once"
        )
    p = pd.to_numeric(scores["p_churn"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        raise AnalysisError(
            f"retention list: {int(bad.sum()):,} of {len(p):,} rows have p_churn outside [0, 1] or missing, e.g. "
            f"{format_examples(scores.loc[bad, 'p_churn'].head(10))}"
        )
    ids = scores["customer_id"]
    base = scores
    if customers is not None:
        if "customer_id" not in customers.columns:
            raise AnalysisError("retention list: customers frame needs a customer_id column")
        extra = [c for c in customers.columns if c not in scores.columns or c == "customer_id"]
        base = scores.merge(customers[extra], on="customer_id", how="left", validate="one_to_one")
        base.index = scores.index
    # value at risk
    if isinstance(value, pd.Series):
        v = ids.map(value)
        value_desc = str(value.name or "given values")
        if v.isna().all() and len(value) == len(scores):
            v = pd.Series(value.to_numpy(), index=scores.index)
    elif isinstance(value, str):
        vs = value_at_risk(base, source="formula", formula=value)
        v = pd.Series(vs.to_numpy(), index=scores.index)
        value_desc = value
    else:
        v = pd.Series(float(value), index=scores.index)
        value_desc = f"{currency}{float(value):,.2f} per customer"
    v = pd.to_numeric(v, errors="coerce").astype("float64")
    nv = v.isna()
    if nv.any():
        warnings.warn(
            f"retention list: {int(nv.sum()):,} of {len(v):,} customers have no value at risk (e.g. "
            f"{format_examples(ids[nv].head(5))}); counted as 0, so they are not listed",
            DataQualityWarning,
            stacklevel=2,
        )
        v = v.fillna(0.0)
    neg = v < 0
    if neg.any():
        warnings.warn(
            f"retention list: {int(neg.sum()):,} customers have a negative value at risk (e.g. "
            f"{format_examples(ids[neg].head(5))}); counted as 0",
            DataQualityWarning,
            stacklevel=2,
        )
        v = v.clip(lower=0)
    t = pd.DataFrame({"customer_id": ids.to_numpy(), "p_churn": p, "value_at_risk": v.to_numpy()})
    if isinstance(segments, str) and segments == "auto":
        segments = next((c for c in SEGMENT_COLUMNS if c in base.columns), None)
    if segments is not None:
        if isinstance(segments, str):
            if segments not in base.columns:
                raise AnalysisError(
                    f"retention list: segment column {segments!r} not found (columns: "
                    f"{', '.join(map(str, base.columns))})"
                )
            seg = base[segments].to_numpy()
        else:
            seg = ids.map(segments).to_numpy()
        t["segment"] = pd.Series(seg).astype(object).where(pd.notna(seg), "(none)").astype(str).to_numpy()
    t["expected_loss"] = t["p_churn"] * t["value_at_risk"]
    t["expected_saved"] = t["expected_loss"] * save_rate
    t["contact_cost"] = float(contact_cost)
    t["expected_net_value"] = t["expected_saved"] - t["contact_cost"]
    reasons = [c for c in scores.columns if re.fullmatch(r"reason_\d+", str(c))]
    for c in reasons:
        t[c] = scores[c].to_numpy()
    t = t.sort_values(["expected_net_value", "p_churn"], ascending=[False, False], kind="stable").reset_index(drop=True)
    worth = int((t["expected_net_value"] > 0).sum())
    k = worth if top_n is None else min(worth, int(top_n))
    e = t.iloc[:k].copy()
    if allow_raw_keys:
        key_col, key_kind = "customer_id", "raw"
    else:
        from workbench.core.privacy import pseudonymize

        e.insert(0, "customer_key", pseudonymize(e["customer_id"], salt=salt).to_numpy())
        e = e.drop(columns="customer_id")
        key_col, key_kind = "customer_key", "pseudonym"
    e.insert(0, "rank", np.arange(1, k + 1))
    cols = ["rank", key_col, "p_churn", "value_at_risk", "expected_loss", "expected_saved", "contact_cost",
            "expected_net_value"] + (["segment"] if "segment" in e.columns else []) + reasons
    assumptions = {
        "save_rate": float(save_rate),
        "contact_cost": float(contact_cost),
        "value": value_desc,
        "top_n": top_n,
        "key": key_kind,
        "formula": "p_churn x value_at_risk x save_rate - contact_cost",
    }
    return RetentionList(table=t, export=e[cols].reset_index(drop=True), assumptions=assumptions, currency=currency)
