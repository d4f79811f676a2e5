"""Constants and small helpers of the propensity scorer (:mod:`workbench.modeling.propensity`).

Model names and thresholds, the 0/1 label parser, the rank AUC, equal-size groups, the
stratified subsample, the raw-column readers of the design matrix and the short number wording
the analyses use in their reasons. Analyses (churn, cross_sell) import these from here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, format_examples
from workbench.data.numbers import to_number

__all__ = [
    "MODEL_NAMES", "MIN_TRAIN_ROWS", "MIN_TRAIN_CLASS", "MIN_TEST_CLASS", "CALIBRATION_SHARE",
    "IMPORTANCE_SAMPLE", "IMPORTANCE_REPEATS", "MISSING_LEVEL", "binary_label", "auc_binary",
    "equal_groups", "stratified_subsample", "numeric_col", "cat_col", "nice", "short_number",
    "short_numbers",
]  # fmt: skip

#: Model names, in the order of every table (logistic first: the explainable one).
MODEL_NAMES: tuple[str, ...] = ("logistic", "hgb")
#: Fewest rows of the training / held-out frame, and fewest of each class in them.
MIN_TRAIN_ROWS: int = 50
MIN_TRAIN_CLASS: int = 10
MIN_TEST_CLASS: int = 5
#: Share of the training rows set aside to test calibration and fit the calibrator.
CALIBRATION_SHARE: float = 0.2
#: Held-out rows on which permutation importance is measured (a seeded sample above this).
IMPORTANCE_SAMPLE: int = 10_000
IMPORTANCE_REPEATS: int = 3
MISSING_LEVEL = "(missing)"

_LABEL_WORDS: dict[str, float] = {
    "1": 1.0, "0": 0.0, "yes": 1.0, "no": 0.0, "y": 1.0, "n": 0.0, "true": 1.0, "false": 0.0,
    "是": 1.0, "否": 0.0, "流失": 1.0, "未流失": 0.0, "1.0": 1.0, "0.0": 0.0,
}  # fmt: skip


def binary_label(
    values: pd.Series, *, label: str, table: str = "frame", kind: str = "0/1 label",
    option: str = "label=",
) -> pd.Series:
    """0/1 float Series (NaN for missing) from bool, 0/1 numbers or yes/no text.

    Parameters
    ----------
    values : pandas.Series
    label : str
        Column name (for the message).
    table : str, default "frame"
        Frame name (for the message).
    kind : str, default "0/1 label"
        What the label is, in the message (``0/1 churn label``).
    option : str, default "label="
        The option to change, named in the message.

    Raises
    ------
    AnalysisError
        A value is none of those.

    Examples
    --------
    >>> binary_label(pd.Series(["yes", "no", None]), label="y").tolist()
    [1.0, 0.0, nan]
    """
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        out = pd.to_numeric(s, errors="coerce").astype("float64")
        bad = out.notna() & ~out.isin([0.0, 1.0])
    else:
        txt = s.astype("string").str.strip().str.lower()
        out = txt.map(_LABEL_WORDS).astype("float64")
        bad = txt.notna() & out.isna()
    if bad.any():
        ex = s[bad].head(20).tolist()
        raise AnalysisError(
            f"{table}.{label}: {int(bad.sum()):,} of {len(s):,} rows are not a {kind}, "
            f"e.g. {format_examples(ex)}; the label must be 0/1, true/false or yes/no "
            f"(fix the data or {option})"
        )
    return out


def auc_binary(y: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC (Mann-Whitney, ties count one half); NaN with one class only.

    Examples
    --------
    >>> auc_binary(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    from scipy.stats import rankdata

    y = np.asarray(y, dtype=bool)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(score)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def equal_groups(order_by: np.ndarray, groups: int, *, descending: bool = False) -> np.ndarray:
    """Group id (0 .. groups-1) of each row: rows sorted by ``order_by`` (stable) cut into
    ``groups`` groups of (nearly) equal size, group 0 the lowest (or highest) values."""
    n = len(order_by)
    order = np.argsort(-order_by if descending else order_by, kind="stable")
    gid = np.empty(n, dtype=np.int64)
    gid[order] = np.arange(n) * groups // n
    return gid


def stratified_subsample(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted row positions of a stratified sample of ``n`` rows (class shares kept)."""
    idx = []
    total = len(y)
    for cls in (0, 1):
        pos = np.flatnonzero(y == cls)
        k = int(round(n * len(pos) / total))
        idx.append(rng.choice(pos, size=min(k, len(pos)), replace=False))
    return np.sort(np.concatenate(idx))


def numeric_col(frame: pd.DataFrame, c: str, *, what: str = "frame", noun: str = "propensity",
                exclude_option: str = "model.exclude=") -> np.ndarray:
    """Column ``c`` as float64 (booleans 0/1, missing NaN).

    Raises
    ------
    AnalysisError
        Values that are not numbers.
    """
    s = frame[c]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    out = to_number(s, name=f"{noun} {what}.{c}", scan=20, fix=f"fix the data or add {c} to {exclude_option}")
    return out.to_numpy(dtype="float64", na_value=np.nan)


def cat_col(frame: pd.DataFrame, c: str) -> pd.Series:
    """Column ``c`` as text levels, missing as the ``(missing)`` level."""
    s = frame[c]
    return s.astype(object).where(s.notna(), MISSING_LEVEL).astype(str)


def nice(col: str) -> str:
    """A column name as words (``tenure_months`` -> ``tenure months``)."""
    return str(col).replace("_", " ")


def short_number(v: float) -> str:
    """A number as a reader says it: ``1,234``, ``12.5``, ``0.37``; ``n/a`` when missing.

    Examples
    --------
    >>> short_number(1234.4), short_number(12.46), short_number(0.3712)
    ('1,234', '12.5', '0.37')
    """
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    if a >= 100 or float(v).is_integer():
        return f"{v:,.0f}"
    if a >= 1:
        return f"{v:,.1f}"
    return f"{v:.2g}"


def short_numbers(v: pd.Series) -> pd.Series:
    """:func:`short_number` of each value (vectorized per distinct value)."""
    arr = v.astype("float64")
    uniq, inv = np.unique(arr.to_numpy(), return_inverse=True)
    txt = np.array([short_number(float(u)) for u in uniq], dtype=object)
    return pd.Series(txt[inv.ravel()], index=v.index, dtype=object)
