"""Small statistical helpers shared by the churn and campaign analyses.

Everything here is vectorized and pure: proportions with Wilson intervals, Holm's step-down
correction, percentile bootstrap intervals with an explicit seed, and JSON/format helpers the
result objects use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = ["wilson_interval", "holm", "bootstrap_ci", "seed_ints", "welch"]


def wilson_interval(
    successes: Sequence[float] | np.ndarray | pd.Series | float,
    trials: Sequence[float] | np.ndarray | pd.Series | float,
    *,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (vectorized).

    Parameters
    ----------
    successes, trials : array-like or scalar
        Counts; ``trials == 0`` gives NaN bounds.
    confidence : float, default 0.95

    Returns
    -------
    (low, high) : tuple of numpy.ndarray

    Examples
    --------
    >>> lo, hi = wilson_interval(1869, 7043)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2552, 0.2758)
    """
    from scipy.stats import norm

    k = np.atleast_1d(np.asarray(successes, dtype="float64"))
    n = np.atleast_1d(np.asarray(trials, dtype="float64"))
    z = norm.ppf(1 - (1 - confidence) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    bad = ~(n > 0)
    # the interval always holds the estimate (at 0 % and 100 % rounding put it a hair outside)
    lo = np.where(bad, np.nan, np.clip(np.minimum(centre - half, p), 0, 1))
    hi = np.where(bad, np.nan, np.clip(np.maximum(centre + half, p), 0, 1))
    return lo, hi


def holm(pvalues: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control); NaN stays NaN.

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="mergesort")
    adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def bootstrap_ci(
    statistic: Callable[[np.ndarray], float],
    n: int,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    random_state: int | None = None,
) -> tuple[float, float, np.ndarray]:
    """Percentile bootstrap interval of ``statistic(indices)`` over ``n`` resampled rows.

    Parameters
    ----------
    statistic : callable
        Takes an integer index array (a resample of ``range(n)``) and returns a float.
    n : int
        Number of rows.
    n_boot : int
        Resamples.
    random_state : int, optional
        Seed (``numpy.random.default_rng``).

    Returns
    -------
    (low, high, draws)
        Bounds (NaN draws are ignored) and the draws.
    """
    rng = np.random.default_rng(random_state)
    draws = np.array([statistic(rng.integers(0, n, n)) for _ in range(n_boot)], dtype="float64")
    a = (1 - confidence) / 2
    ok = draws[np.isfinite(draws)]
    if ok.size == 0:
        return float("nan"), float("nan"), draws
    return float(np.quantile(ok, a)), float(np.quantile(ok, 1 - a)), draws


def seed_ints(random_state: int | None, n: int) -> list[int]:
    """``n`` independent integer seeds from one ``random_state`` (``numpy.random.SeedSequence``
    spawning), for the separate random steps of one analysis."""
    ss = np.random.SeedSequence(random_state)
    return [int(np.random.default_rng(c).integers(0, 2**31 - 1)) for c in ss.spawn(n)]


def welch(a: np.ndarray, b: np.ndarray, *, alpha: float = 0.05) -> dict[str, float]:
    """Welch's unequal-variance comparison of two means, ``mean(a) - mean(b)``.

    Parameters
    ----------
    a, b : numpy.ndarray
        The two samples (1-D, no NaN).
    alpha : float, default 0.05
        Two-sided level of the t interval.

    Returns
    -------
    dict
        ``m1``, ``m0`` (the means), ``diff``, ``se`` (Welch standard error; NaN when a sample
        has fewer than two values), ``df`` (Welch-Satterthwaite), ``low``/``high`` (t interval)
        and ``p_value`` (two-sided; 1 when both samples are constant and equal).

    Examples
    --------
    >>> r = welch(np.array([1.0, 2, 3, 4]), np.array([1.0, 1, 2, 2]))
    >>> round(r["diff"], 2), round(r["se"], 3)
    (1.0, 0.707)
    """
    from scipy import stats as sps

    n1, n0 = a.size, b.size
    m1, m0 = float(a.mean()), float(b.mean())
    v1 = float(a.var(ddof=1)) if n1 > 1 else np.nan
    v0 = float(b.var(ddof=1)) if n0 > 1 else np.nan
    s1, s0 = v1 / n1, v0 / n0
    se = math.sqrt(s1 + s0) if np.isfinite(s1 + s0) else np.nan
    d = m1 - m0
    if se > 0:
        df = (s1 + s0) ** 2 / (s1**2 / (n1 - 1) + s0**2 / (n0 - 1))
        tq = float(sps.t.ppf(1 - alpha / 2, df))
        p = float(2 * sps.t.sf(abs(d) / se, df))
    else:
        df, tq, p = np.nan, np.nan, (1.0 if d == 0 else np.nan)
    return {"m1": m1, "m0": m0, "diff": d, "se": se, "df": df, "low": d - tq * se, "high": d + tq * se, "p_value": p}
