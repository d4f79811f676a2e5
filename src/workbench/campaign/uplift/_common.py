"""Constants and small statistics shared by the uplift modules: the model names, the data
thresholds, and the observed effect of a group of treated and control rows (Newcombe interval
for a binary outcome, Welch otherwise)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.report.fmt import NA, num
from workbench.stats import wilson_interval

#: Model names, in the order of every table.
MODELS: tuple[str, ...] = ("t_learner", "x_learner")
LABEL = {"t_learner": "T-learner", "x_learner": "X-learner"}

TABLE = "campaign_contacts"
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
CONTACT_COLUMNS: tuple[str, ...] = (
    "arm", "delivered", "opened", "clicked", "visited", "converted", "revenue",
)  # fmt: skip


def fmt_g(x: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (a continuous outcome); missing -> ``'n/a'``."""
    v = num(x)
    return NA if v is None else f"{v:.{digits}g}"


def points(x: Any, digits: int = 1) -> str:
    """A difference of two rates in percentage points, in the run's language (``'7.7 pp'`` /
    ``'7.7个百分点'``); missing -> ``'n/a'``."""
    from workbench.report.i18n import t

    v = num(x)
    return NA if v is None else t("campaign.units.pp", value=f"{100 * v:.{digits}f}")


def diff_ci(
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


def diff_mean_ci(
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


def group_effect(
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
        d, lo, hi, p = diff_ci(s1, n1, s0, n0)
    else:
        q1 = np.bincount(g[t], weights=y[t] ** 2, minlength=n_groups)
        q0 = np.bincount(g[~t], weights=y[~t] ** 2, minlength=n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            m1, m0 = s1 / n1, s0 / n0
            v1 = (q1 - n1 * m1**2) / (n1 - 1)
            v0 = (q0 - n0 * m0**2) / (n0 - 1)
        d, lo, hi, p = diff_mean_ci(m1, v1, n1, m0, v0, n0)
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
