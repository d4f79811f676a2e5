"""Correlations: Spearman between numeric columns, Cramér's V between category columns.

Both use the sampled rows of a table (at most ``correlation_sample``); a pair above
``high_correlation_threshold`` raises one ``high_correlation`` alert.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.profiling.alerts import Alert
from workbench.report.i18n import t

__all__ = ["cramers_v", "spearman_matrix", "cramers_matrix", "correlation_pairs"]


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramér's V of two factorised columns (codes ``-1`` = missing).

    Uses Bergsma's correction as ydata-profiling does: ``phi2 = max(0, chi2/n - (k-1)(r-1)/(n-1))``
    over ``min(k~ - 1, r~ - 1)`` with ``r~ = r - (r-1)^2/(n-1)``.

    Parameters
    ----------
    a, b : numpy.ndarray of int
        Codes of the two columns, same length.

    Returns
    -------
    float
        Between 0 and 1; NaN when a column has one level or fewer than 2 rows.
    """
    ok = (a >= 0) & (b >= 0)
    a, b = a[ok], b[ok]
    n = a.size
    if n < 2:
        return float("nan")
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    r, k = int(a.max()) + 1, int(b.max()) + 1
    if r < 2 or k < 2:
        return float("nan")
    table = np.bincount(a * k + b, minlength=r * k).reshape(r, k).astype("float64")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)))
    phi2 = chi2 / n
    phi2corr = max(0.0, phi2 - (k - 1.0) * (r - 1.0) / (n - 1.0))
    rcorr = r - (r - 1.0) ** 2 / (n - 1.0)
    kcorr = k - (k - 1.0) ** 2 / (n - 1.0)
    denom = min(kcorr - 1.0, rcorr - 1.0)
    if denom <= 0:
        return 1.0
    return float(min(1.0, math.sqrt(phi2corr / denom)))


def _high_pairs(table: str, mat: pd.DataFrame, threshold: float, *, method: str) -> list[Alert]:
    """One ``high_correlation`` alert per pair of ``mat`` whose absolute value exceeds ``threshold``."""
    cols = list(mat.columns)
    alerts: list[Alert] = []
    for i, a in enumerate(cols):
        for b in cols[i + 1 :]:
            r = mat.loc[a, b]
            if pd.notna(r) and abs(r) > threshold:
                alerts.append(Alert(table, a, "high_correlation", "info",
                                    t(f"profiling.alerts.high_correlation_{method}", a=f"{table}.{a}",
                                      b=f"{table}.{b}", r=f"{r:.2f}"),
                                    0, None, (b,)))  # fmt: skip
    return alerts


def spearman_matrix(
    table: str, sample: pd.DataFrame, columns: Sequence[str], *, threshold: float
) -> tuple[pd.DataFrame, list[Alert]]:
    """Spearman rank correlations of the numeric ``columns`` and the pairs above ``threshold``.

    Parameters
    ----------
    table : str
    sample : pandas.DataFrame
        Sampled rows of the table.
    columns : sequence of str
        Numeric columns with more than one value.
    threshold : float
        ``|rho|`` above which a pair raises ``high_correlation``.

    Returns
    -------
    (matrix, alerts)
        Square matrix (empty for fewer than two columns) and the alerts.
    """
    cols = list(columns)
    if len(cols) < 2:
        return pd.DataFrame(), []
    mat = sample[cols].astype("float64").corr(method="spearman", min_periods=10)
    return mat, _high_pairs(table, mat, threshold, method="spearman")


def cramers_matrix(
    table: str, sample: pd.DataFrame, columns: Sequence[str], *, threshold: float
) -> tuple[pd.DataFrame, list[Alert]]:
    """Cramér's V of the category ``columns`` and the pairs above ``threshold`` (see :func:`spearman_matrix`).

    ``columns`` are category and yes/no columns with 2 to ``high_cardinality_threshold`` levels.
    """
    cols = list(columns)
    if len(cols) < 2:
        return pd.DataFrame(), []
    codes = {c: pd.factorize(sample[c], use_na_sentinel=True)[0] for c in cols}
    mat = np.eye(len(cols))
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            mat[i, j] = mat[j, i] = cramers_v(codes[a], codes[cols[j]])
    frame = pd.DataFrame(mat, index=cols, columns=cols)
    return frame, _high_pairs(table, frame, threshold, method="cramers_v")


def correlation_pairs(spearman: pd.DataFrame, cramers: pd.DataFrame) -> pd.DataFrame:
    """One row per column pair of the two matrices, strongest first.

    Parameters
    ----------
    spearman, cramers : pandas.DataFrame
        Square matrices (either may be empty).

    Returns
    -------
    pandas.DataFrame
        ``column_a``, ``column_b``, ``method`` (``spearman`` or ``cramers_v``), ``value``.
    """
    rows = []
    for label, mat in (("spearman", spearman), ("cramers_v", cramers)):
        cols = list(mat.columns)
        for i, a in enumerate(cols):
            for b in cols[i + 1 :]:
                rows.append({"column_a": a, "column_b": b, "method": label, "value": mat.loc[a, b]})
    df = pd.DataFrame(rows, columns=["column_a", "column_b", "method", "value"])
    if df.empty:
        return df
    df["_abs"] = df["value"].abs()
    return df.sort_values("_abs", ascending=False).drop(columns="_abs").reset_index(drop=True)
