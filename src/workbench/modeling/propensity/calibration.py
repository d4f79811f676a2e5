"""Calibration of predicted probabilities: Spiegelhalter's z and Hosmer-Lemeshow tests,
and the calibration-curve points (observed rate vs mean prediction by decile)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.modeling.propensity.common import equal_groups

__all__ = ["spiegelhalter", "hosmer_lemeshow", "calibration_points"]


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
    gid = equal_groups(p, g)
    n_g = np.bincount(gid, minlength=g).astype(float)
    o_g = np.bincount(gid, weights=y, minlength=g)
    e_g = np.bincount(gid, weights=p, minlength=g)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (o_g - e_g) ** 2 / (e_g * (1 - e_g / n_g))
    terms = np.where(np.isfinite(terms), terms, 0.0)
    stat = float(terms.sum())
    dof = g if external else max(g - 2, 1)
    return stat, dof, float(chi2.sf(stat, dof))


def calibration_points(y: np.ndarray, p: np.ndarray, *, model: str, bins: int = 10) -> pd.DataFrame:
    """Calibration-curve points of one model: rows sorted by ``p`` cut into ``bins`` equal groups.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``model``, ``bin`` (1 = lowest predictions), ``mean_predicted``,
        ``observed`` (event rate), ``n``.
    """
    gid = equal_groups(p, bins)
    cnt = np.bincount(gid, minlength=bins)
    return pd.DataFrame(
        {
            "model": model,
            "bin": np.arange(1, bins + 1),
            "mean_predicted": np.bincount(gid, weights=p, minlength=bins) / np.maximum(cnt, 1),
            "observed": np.bincount(gid, weights=y, minlength=bins) / np.maximum(cnt, 1),
            "n": cnt,
        }
    )
