"""Experiment statistics for campaign evaluation (notebook ``04_campaign_evaluation``).

One call per notebook section, each returning a result object with ``summary()``, ``finding()``,
``plot()`` and ``metrics()``:

1. :func:`srm_test` - sample-ratio mismatch (chi-square goodness of fit against the planned split).
2. :func:`balance_table` - covariate balance between arms (standardized mean differences).
3. :func:`compare_arms` - every metric, every arm against control: difference with 95 % CI,
   relative lift with a delta-method CI, the test used, p-value and Holm correction.
4. :func:`cuped` - CUPED variance reduction with a pre-period covariate.
5. :func:`power_plan` - power, minimum detectable effect and sample size for the next test.
6. :func:`heterogeneity` - effect by subgroup (forest plot) with an interaction test.
7. :func:`observational_effect` - campaigns without a control group: propensity-score (IPW)
   estimate of the ATT / ATE with an overlap check and balance after weighting.

Input of 1-6 is the contacts of **one** campaign, one row per customer: ``arm`` plus outcome
columns (``visited``, ``converted`` 0/1 or boolean, possibly nullable; ``revenue``), the
pre-period covariate and any merged covariate / segment columns. The control arm name is
params key ``analyses.campaign.control_arm``; options live under
``analyses.campaign.experiment.*``. Inputs are never modified.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    ParamsError,
    StatisticalWarning,
    format_examples,
)
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm, wilson_interval

__all__ = [
    "SRMResult",
    "BalanceResult",
    "ArmComparison",
    "CupedResult",
    "PowerPlan",
    "HeterogeneityResult",
    "ObservationalResult",
    "srm_test",
    "balance_table",
    "compare_arms",
    "cuped",
    "power_plan",
    "heterogeneity",
    "observational_effect",
    "diff_proportions",
    "srm_pvalues",
]

TABLE = "campaign_contacts"
KEY_CONTROL = "analyses.campaign.control_arm"
KEY_EXP = "analyses.campaign.experiment"
SMD_FLAG = 0.1

_METRIC_WORDS = {
    "visited": "visit rate",
    "converted": "conversion rate",
    "revenue": "revenue per customer",
    "opened": "open rate",
    "clicked": "click rate",
    "delivered": "delivery rate",
}


# --------------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------------


def _z(alpha: float) -> float:
    return float(sps.norm.ppf(1 - alpha / 2))


def _campaign_name(contacts: pd.DataFrame) -> str:
    if "campaign_id" in contacts.columns:
        ids = contacts["campaign_id"].dropna().unique()
        if len(ids) == 1:
            return str(ids[0])
    return "campaign"


def _check_one_campaign(contacts: pd.DataFrame) -> None:
    if "campaign_id" in contacts.columns:
        ids = pd.Series(contacts["campaign_id"].dropna().unique()).astype(str).tolist()
        if len(ids) > 1:
            raise AnalysisError(
                f"{TABLE}: rows of {len(ids)} campaigns ({format_examples(ids)}); experiment statistics "
                "compare the arms of one campaign - filter the contacts to one campaign_id first "
                "(params key analyses.campaign.campaigns lists the campaigns to evaluate)"
            )


def _require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str, key: str | None = None) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hint = f"; change params key {key}" if key else ""
        raise AnalysisError(
            f"{TABLE}: {what} column(s) {format_examples(missing)} not found; columns present: "
            f"{format_examples(list(frame.columns), limit=12)}{hint}"
        )


def _arms(contacts: pd.DataFrame, arm: str, control: str | None) -> tuple[pd.Series, list[str]]:
    """Arm labels as strings and the arms found (control first, then the others sorted)."""
    _require_columns(contacts, [arm], what="arm")
    labels = contacts[arm]
    if labels.isna().any():
        n_na = int(labels.isna().sum())
        raise AnalysisError(
            f"{TABLE}.{arm}: {n_na:,} of {len(labels):,} rows have no arm; fix the contacts "
            f"(every contacted customer needs an arm)"
        )
    labels = labels.astype(str)
    found = sorted(labels.unique().tolist())
    if control is not None:
        if control not in found:
            raise AnalysisError(
                f"{TABLE}.{arm} of {_campaign_name(contacts)}: no control arm {control!r}; arms found: "
                f"{format_examples(found, limit=10)}. Set params key {KEY_CONTROL} to the hold-out arm, "
                "or use observational_effect() for a campaign without a control group"
            )
        if len(found) < 2:
            raise AnalysisError(
                f"{TABLE}.{arm} of {_campaign_name(contacts)}: only one arm ({found[0]!r}); a comparison "
                f"needs the control arm ({KEY_CONTROL}) and at least one treated arm"
            )
        found = [control] + [a for a in found if a != control]
    return labels, found


def _as_float(values: pd.Series, *, column: str) -> np.ndarray:
    """Outcome column as float64 with NaN for missing (booleans, nullable ints and floats)."""
    s = values
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            ex = s[bad].head(5).tolist()
            raise AnalysisError(
                f"{TABLE}.{column}: {int(bad.sum()):,} of {len(s):,} rows are not numbers or 0/1, "
                f"e.g. {format_examples(ex)}; fix the column or drop it from {KEY_EXP}.metrics"
            )
        s = conv
    return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def _is_binary(x: np.ndarray) -> bool:
    ok = x[~np.isnan(x)]
    return ok.size > 0 and bool(np.isin(ok, (0.0, 1.0)).all())


def diff_proportions(
    k1: np.ndarray | float,
    n1: np.ndarray | float,
    k0: np.ndarray | float,
    n0: np.ndarray | float,
    *,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Difference of two proportions ``k1/n1 - k0/n0`` with its interval and test (vectorized).

    The interval is the unpooled Wald interval, or Newcombe's hybrid score interval (method 10,
    from the two Wilson intervals) when either arm has zero successes or zero failures (the
    Wald standard error is then 0 and the interval degenerate). The test is the two-proportion
    z-test with pooled variance; with a zero count Fisher's exact test is used instead. The
    relative lift ``p1 / p0 - 1`` gets a delta-method interval on the log ratio (NaN when
    either arm has zero successes).

    Parameters
    ----------
    k1, n1, k0, n0 : array-like
        Successes and trials of the arm and of the control.
    alpha : float, default 0.05

    Returns
    -------
    dict of numpy.ndarray
        ``p1``, ``p0``, ``diff``, ``low``, ``high``, ``rel``, ``rel_low``, ``rel_high``,
        ``p_value``, ``zero`` (bool: Newcombe interval / Fisher test used).

    Examples
    --------
    >>> r = diff_proportions(30, 100, 20, 100)
    >>> round(float(r["diff"][0]), 3), round(float(r["low"][0]), 3), round(float(r["high"][0]), 3)
    (0.1, -0.019, 0.219)
    """
    k1, n1, k0, n0 = (np.atleast_1d(np.asarray(v, dtype="float64")) for v in (k1, n1, k0, n0))
    k1, n1, k0, n0 = np.broadcast_arrays(k1, n1, k0, n0)
    z = _z(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = k1 / n1, k0 / n0
        d = p1 - p0
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        lo, hi = d - z * se, d + z * se
        zero = (k1 == 0) | (k0 == 0) | (k1 == n1) | (k0 == n0)
        if zero.any():
            l1, u1 = wilson_interval(k1, n1, confidence=1 - alpha)
            l0, u0 = wilson_interval(k0, n0, confidence=1 - alpha)
            nlo = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
            nhi = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
            lo, hi = np.where(zero, nlo, lo), np.where(zero, nhi, hi)
        pp = (k1 + k0) / (n1 + n0)
        se0 = np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0))
        zstat = d / se0
        pval = 2 * sps.norm.sf(np.abs(zstat))
        pval = np.where(se0 > 0, pval, 1.0)
        rr = p1 / p0
        se_log = np.sqrt((1 - p1) / k1 + (1 - p0) / k0)  # = (1-p)/(n p)
        ok = (k1 > 0) & (k0 > 0)
        rel = np.where(k0 > 0, rr - 1, np.nan)
        rel_lo = np.where(ok, np.exp(np.log(rr) - z * se_log) - 1, np.nan)
        rel_hi = np.where(ok, np.exp(np.log(rr) + z * se_log) - 1, np.nan)
    if zero.any():
        for i in np.flatnonzero(zero & (n1 > 0) & (n0 > 0)):
            table = [[k1[i], n1[i] - k1[i]], [k0[i], n0[i] - k0[i]]]
            pval[i] = sps.fisher_exact(np.asarray(table, dtype=np.int64))[1]
    return {
        "p1": p1, "p0": p0, "diff": d, "low": lo, "high": hi, "rel": rel, "rel_low": rel_lo,
        "rel_high": rel_hi, "p_value": pval, "zero": zero,
    }  # fmt: skip


def _welch(y1: np.ndarray, y0: np.ndarray, alpha: float) -> dict[str, float]:
    """Welch difference of means with t interval, p-value and delta-method relative lift."""
    n1, n0 = y1.size, y0.size
    m1, m0 = float(y1.mean()), float(y0.mean())
    v1 = float(y1.var(ddof=1)) if n1 > 1 else np.nan
    v0 = float(y0.var(ddof=1)) if n0 > 1 else np.nan
    s1, s0 = v1 / n1, v0 / n0
    se = math.sqrt(s1 + s0) if np.isfinite(s1 + s0) else np.nan
    d = m1 - m0
    if se > 0:
        df = (s1 + s0) ** 2 / (s1**2 / (n1 - 1) + s0**2 / (n0 - 1))
        tq = float(sps.t.ppf(1 - alpha / 2, df))
        p = float(2 * sps.t.sf(abs(d) / se, df))
    else:
        df, tq, p = np.nan, np.nan, (1.0 if d == 0 else np.nan)
    rel, rlo, rhi = np.nan, np.nan, np.nan
    if m0 != 0:
        rel = m1 / m0 - 1
    if m1 > 0 and m0 > 0:
        sl = math.sqrt(s1 / m1**2 + s0 / m0**2)
        z = _z(alpha)
        rlo, rhi = math.exp(math.log(m1 / m0) - z * sl) - 1, math.exp(math.log(m1 / m0) + z * sl) - 1
    return {
        "m1": m1, "m0": m0, "diff": d, "se": se, "df": df, "low": d - tq * se, "high": d + tq * se,
        "p_value": p, "rel": rel, "rel_low": rlo, "rel_high": rhi,
    }  # fmt: skip


def _weighted_mean_var(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    if w is None:
        return float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else np.nan
    sw = w.sum()
    m = float((w * x).sum() / sw)
    v = float((w * (x - m) ** 2).sum() / sw)
    return m, v


def _covariate_matrix(
    frame: pd.DataFrame, covariates: Sequence[str], *, max_levels: int = 20
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric design: numeric/bool columns as they are, categoricals one-hot (top levels).

    Returns the frame (one column per numeric covariate or ``col=level``) and a map
    column -> kind (``numeric`` / ``binary`` / ``level``).
    """
    cols: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            x = s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            cols[c] = x
            kinds[c] = "binary" if _is_binary(x) else "numeric"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            x = (s - s.min()).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan) / 86400.0
            cols[c] = x
            kinds[c] = "numeric"
        else:
            lab = s.astype(object).where(s.notna(), "(missing)").astype(str)
            counts = lab.value_counts()
            top = counts.index[:max_levels].tolist()
            if len(counts) > max_levels:
                lab = lab.where(lab.isin(top), "(other)")
                top = top + ["(other)"]
            for lev in top:
                name = f"{c}={lev}"
                cols[name] = (lab == lev).to_numpy(dtype="float64")
                kinds[name] = "level"
    return pd.DataFrame(cols, index=frame.index), kinds


def _smd_table(
    X: pd.DataFrame, t: np.ndarray, c: np.ndarray, w: np.ndarray | None = None
) -> pd.DataFrame:
    """Standardized mean differences of every column of ``X`` between masks ``t`` and ``c``.

    The denominator is ``sqrt((var_t + var_c) / 2)`` of the *unweighted* groups so weighting
    changes only the numerator (the usual convention for balance after weighting).
    """
    rows = []
    for col in X.columns:
        x = X[col].to_numpy()
        ok = ~np.isnan(x)
        xt, xc = x[t & ok], x[c & ok]
        if xt.size == 0 or xc.size == 0:
            rows.append((col, np.nan, np.nan, np.nan))
            continue
        mt, vt = _weighted_mean_var(xt, None)
        mc, vc = _weighted_mean_var(xc, None)
        if w is not None:
            mt, _ = _weighted_mean_var(xt, w[t & ok])
            mc, _ = _weighted_mean_var(xc, w[c & ok])
        sd = math.sqrt(np.nan_to_num((vt + vc) / 2))
        smd = (mt - mc) / sd if sd > 0 else (0.0 if mt == mc else np.inf)
        rows.append((col, mt, mc, smd))
    return pd.DataFrame(rows, columns=["covariate", "mean_treated", "mean_control", "smd"])


def _metric_word(metric: str) -> str:
    return _METRIC_WORDS.get(metric, metric)


def _fmt_abs(v: float, *, binary: bool, currency: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    if binary:
        return f"{100 * v:.1f} points"
    return f"{currency}{v:,.2f}"


def _fmt_ci(lo: float, hi: float, *, binary: bool, currency: str) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "n/a"
    if binary:
        return f"{100 * lo:.1f} to {100 * hi:.1f} points"
    return f"{currency}{lo:,.2f} to {currency}{hi:,.2f}"


def _fmt_level(v: float, *, binary: bool, currency: str) -> str:
    if not np.isfinite(v):
        return "n/a"
    return pct(v, 2) if binary else f"{currency}{v:,.2f}"


def _new_ax(ax: Any, size: tuple[float, float] = (6.5, 4)) -> Any:
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


# --------------------------------------------------------------------------------------------
# 1. sample-ratio mismatch
# --------------------------------------------------------------------------------------------


def srm_pvalues(counts: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Chi-square goodness-of-fit p-values of arm counts against planned shares (vectorized).

    Parameters
    ----------
    counts : array, shape (..., k)
        Customers per arm (last axis = arms).
    shares : array, shape (k,)
        Planned shares (normalised to sum 1).

    Returns
    -------
    numpy.ndarray
        p-values, shape ``counts.shape[:-1]`` (``k - 1`` degrees of freedom).

    Examples
    --------
    >>> round(float(srm_pvalues(np.array([5000, 5000]), np.array([0.5, 0.5]))), 3)
    1.0
    """
    counts = np.asarray(counts, dtype="float64")
    shares = np.asarray(shares, dtype="float64")
    shares = shares / shares.sum()
    n = counts.sum(axis=-1, keepdims=True)
    expected = n * shares
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.where(expected > 0, (counts - expected) ** 2 / expected, 0.0).sum(axis=-1)
    return sps.chi2.sf(chi2, counts.shape[-1] - 1)


@dataclass(frozen=True, eq=False, repr=False)
class SRMResult(Result):
    """Sample-ratio mismatch test of one campaign (see :func:`srm_test`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per arm: ``arm``, ``n``, ``share``, ``share_low``, ``share_high`` (Wilson 95 %),
        ``planned_share``, ``expected_n``, ``deviation`` (n - expected).
    chi2, dof, p_value : float
        Pearson chi-square goodness-of-fit statistic, degrees of freedom, p-value.
    alpha : float
        Level below which a mismatch is declared (``analyses.campaign.experiment.srm_alpha``).
    campaign : str
    planned_source : str
        ``params`` or ``equal shares (default)``.
    size_ratio : float
        Largest arm / smallest arm.
    """

    table: pd.DataFrame
    chi2: float
    dof: int
    p_value: float
    alpha: float
    campaign: str
    planned_source: str
    size_ratio: float

    @property
    def mismatch(self) -> bool:
        """True when the split differs from the plan (p < alpha)."""
        return bool(self.p_value < self.alpha)

    def summary(self) -> pd.DataFrame:
        """Per arm: observed vs planned counts and shares."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`summary`."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Test statistic, p-value, verdict and counts (JSON-able)."""
        return {
            "campaign": self.campaign,
            "test": "chi-square goodness of fit",
            "chi2": num(self.chi2),
            "dof": int(self.dof),
            "p_value": num(self.p_value),
            "alpha": num(self.alpha),
            "mismatch": self.mismatch,
            "size_ratio": num(self.size_ratio),
            "n": {str(r.arm): int(r.n) for r in self.table.itertuples()},
            "planned_share": {str(r.arm): num(r.planned_share) for r in self.table.itertuples()},
        }

    def finding(self) -> str:
        """Whether the split can be trusted, from the numbers."""
        t = self.table
        parts = ", ".join(
            f"{r.arm} {int(r.n):,} ({pct(r.share)} vs {pct(r.planned_share)} planned)" for r in t.itertuples()
        )
        if self.mismatch:
            worst = t.iloc[int(np.argmax(np.abs(t["deviation"].to_numpy())))]
            return (
                f"Sample-ratio mismatch in {self.campaign}: {parts}; chi-square p = {self.p_value:.2g} "
                f"< {self.alpha:g}. {worst['arm']} is off by {int(worst['deviation']):+,} customers. The arms are "
                "not the random split that was planned, so the effect estimates below are not trustworthy: check "
                "assignment, delivery logging, filters applied after assignment and missing rows before using them."
            )
        return (
            f"The split of {self.campaign} matches the plan ({self.planned_source}): {parts}; chi-square p = "
            f"{self.p_value:.2g}, no sign of a sample-ratio mismatch."
        )

    def plot(self, ax: Any = None) -> Any:
        """Observed share per arm with Wilson 95 % interval; planned share as a marker line."""
        import seaborn as sns

        ax = _new_ax(ax, (5.5, 3.5))
        t = self.table
        sns.barplot(data=t, x="arm", y="share", ax=ax, color="#4C72B0", alpha=0.8)
        x = np.arange(len(t))
        ax.errorbar(x, t["share"], yerr=[t["share"] - t["share_low"], t["share_high"] - t["share"]],
                    fmt="none", ecolor="black", capsize=4)  # fmt: skip
        ax.scatter(x, t["planned_share"], marker="_", s=900, color="crimson", zorder=5, label="planned")
        ax.set_ylabel("share of customers")
        ax.set_title(f"{self.campaign}: split (SRM p = {self.p_value:.2g})")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (
            f"SRMResult(campaign={self.campaign!r}, arms={len(self.table)}, n={int(self.table['n'].sum()):,}, "
            f"p={self.p_value:.3g}, mismatch={self.mismatch})"
        )


def _planned_for(
    planned_split: Mapping[str, Any] | None, campaign: str, arms: list[str]
) -> tuple[dict[str, float], str]:
    if not planned_split:
        return {a: 1 / len(arms) for a in arms}, "equal shares (default)"
    plan: Mapping[str, Any] = planned_split
    if all(isinstance(v, Mapping) for v in planned_split.values()):
        if campaign not in planned_split:
            return {a: 1 / len(arms) for a in arms}, "equal shares (campaign not in planned_split)"
        plan = planned_split[campaign]
    key = f"{KEY_EXP}.planned_split.{campaign}"
    bad = {k: v for k, v in plan.items() if not isinstance(v, (int, float)) or v < 0}
    if bad or sum(plan.values()) <= 0:
        raise ParamsError(f"{key}: shares must be non-negative numbers with a positive sum, got {dict(plan)!r}")
    unknown = [a for a in arms if a not in plan]
    if unknown:
        raise ParamsError(
            f"{key}: arm(s) {format_examples(unknown)} of {TABLE} have no planned share; planned arms: "
            f"{format_examples(list(plan))}"
        )
    total = float(sum(plan.values()))
    return {str(a): float(v) / total for a, v in plan.items()}, "params"


def srm_test(
    contacts: pd.DataFrame,
    *,
    planned_split: Mapping[str, Any] | None = None,
    arm: str = "arm",
    alpha: float = 0.001,
) -> SRMResult:
    """Sample-ratio mismatch: does the arm split match the planned split?

    Pearson chi-square goodness-of-fit test of the customers per arm against ``n * share``.
    A p-value below ``alpha`` (default 0.001: SRM checks run on every test, so a strict level
    keeps false alarms rare) raises a :class:`StatisticalWarning`: the randomization or the data
    pipeline is broken and the effect estimates cannot be trusted. Arms of very different sizes
    (largest / smallest > 5) warn too - the smallest arm limits the precision of every
    comparison.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign, one row per customer, with column ``arm``.
    planned_split : mapping, optional
        ``{arm: share}`` or ``{campaign_id: {arm: share}}`` (params key
        ``analyses.campaign.experiment.planned_split``); shares are normalised. Default: equal
        shares (also when the campaign is not listed). Planned arms absent from the data count 0.
    arm : str, default 'arm'
        Arm column.
    alpha : float, default 0.001
        Params key ``analyses.campaign.experiment.srm_alpha``.

    Returns
    -------
    SRMResult

    Raises
    ------
    AnalysisError
        No arm column, missing arms, or several campaigns in ``contacts``.
    ParamsError
        An arm in the data has no planned share.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["control"] * 500 + ["treatment"] * 500})
    >>> srm_test(df).mismatch
    False
    """
    if not 0 < alpha < 1:
        raise ParamsError(f"{KEY_EXP}.srm_alpha: must be in (0, 1), got {alpha!r}")
    _check_one_campaign(contacts)
    labels, found = _arms(contacts, arm, None)
    if not found:
        raise AnalysisError(f"{TABLE}: no rows to test for a sample-ratio mismatch")
    campaign = _campaign_name(contacts)
    plan, source = _planned_for(planned_split, campaign, found)
    arms = list(plan)
    counts = labels.value_counts().reindex(arms, fill_value=0).to_numpy(dtype="float64")
    shares = np.array([plan[a] for a in arms])
    n = counts.sum()
    lo, hi = wilson_interval(counts, np.full(counts.shape, n))
    table = pd.DataFrame(
        {
            "arm": arms, "n": counts.astype(int), "share": counts / n, "share_low": lo, "share_high": hi,
            "planned_share": shares, "expected_n": n * shares, "deviation": counts - n * shares,
        }
    )  # fmt: skip
    if len(arms) < 2:
        chi2, p = 0.0, 1.0
    else:
        expected = n * shares
        chi2 = float(np.where(expected > 0, (counts - expected) ** 2 / np.where(expected > 0, expected, 1), 0).sum())
        p = float(srm_pvalues(counts, shares))
    pos = counts[counts > 0]
    ratio = float(pos.max() / pos.min()) if pos.size else np.nan
    res = SRMResult(table, chi2, len(arms) - 1, p, alpha, campaign, source, ratio)
    if res.mismatch:
        warnings.warn(
            "SAMPLE-RATIO MISMATCH - results are not trustworthy. " + res.finding(),
            StatisticalWarning,
            stacklevel=2,
        )
    if np.isfinite(ratio) and ratio > 5:
        small = table.loc[table["n"] > 0].sort_values("n").iloc[0]
        warnings.warn(
            f"{campaign}: arms of very different sizes (largest / smallest = {ratio:.1f}); the smallest arm "
            f"{small['arm']!r} has {int(small['n']):,} customers and limits the precision of every comparison",
            StatisticalWarning,
            stacklevel=2,
        )
    return res


# --------------------------------------------------------------------------------------------
# 2. covariate balance
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class BalanceResult(Result):
    """Covariate balance between each arm and control (see :func:`balance_table`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per arm and covariate (categoricals one row per level ``col=level``): ``arm``,
        ``covariate``, ``kind``, ``mean_arm``, ``mean_control``, ``smd``, ``imbalanced``.
    control : str
    campaign : str
    threshold : float
        |SMD| above which a covariate is flagged (0.1).
    """

    table: pd.DataFrame
    control: str
    campaign: str
    threshold: float = SMD_FLAG

    @property
    def n_imbalanced(self) -> int:
        """Rows with |SMD| above the threshold."""
        return int(self.table["imbalanced"].sum())

    def summary(self) -> pd.DataFrame:
        """The balance table, largest |SMD| first."""
        t = self.table.copy()
        return t.reindex(t["smd"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The balance table in covariate order."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Max |SMD| and the flagged covariates (JSON-able)."""
        t = self.table
        return {
            "campaign": self.campaign,
            "threshold": self.threshold,
            "max_abs_smd": num(t["smd"].abs().max()) if len(t) else None,
            "n_imbalanced": self.n_imbalanced,
            "imbalanced": [f"{r.arm}: {r.covariate}" for r in t.loc[t["imbalanced"]].itertuples()],
        }

    def finding(self) -> str:
        """Whether the arms are comparable, from the numbers."""
        t = self.table
        if t.empty:
            return "No covariates to check."
        mx = t.iloc[int(np.nanargmax(t["smd"].abs().to_numpy()))]
        if self.n_imbalanced == 0:
            return (
                f"The arms of {self.campaign} are balanced: all {t['covariate'].nunique()} covariates have "
                f"|SMD| <= {self.threshold:g} (largest {abs(mx['smd']):.3f}, {mx['covariate']} in {mx['arm']}), "
                "as randomization should give."
            )
        bad = t.loc[t["imbalanced"]]
        items = ", ".join(f"{r.covariate} ({r.arm}, SMD {r.smd:+.2f})" for r in bad.head(5).itertuples())
        return (
            f"{len(bad)} covariate(s) differ between arms by more than {self.threshold:g} SD: {items}. With random "
            "assignment this should be rare; check the assignment, and prefer the CUPED / adjusted estimate."
        )

    def plot(self, ax: Any = None) -> Any:
        """Love plot: SMD per covariate and arm, with the ±0.1 band."""
        import seaborn as sns

        t = self.summary()
        ax = _new_ax(ax, (6, 0.9 + 0.28 * max(t["covariate"].nunique(), 2)))
        sns.scatterplot(data=t, x="smd", y="covariate", hue="arm", ax=ax, s=45)
        for v in (-self.threshold, self.threshold):
            ax.axvline(v, ls="--", color="grey", lw=1)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(f"standardized mean difference vs {self.control}")
        ax.set_ylabel("")
        ax.set_title(f"{self.campaign}: covariate balance")
        return ax

    def __repr__(self) -> str:
        mx = self.table["smd"].abs().max() if len(self.table) else float("nan")
        return (
            f"BalanceResult(campaign={self.campaign!r}, covariates={self.table['covariate'].nunique()}, "
            f"max_abs_smd={mx:.3f}, imbalanced={self.n_imbalanced})"
        )


def balance_table(
    contacts: pd.DataFrame,
    *,
    covariates: Sequence[str],
    control: str,
    arm: str = "arm",
    threshold: float = SMD_FLAG,
) -> BalanceResult:
    """Standardized mean differences of covariates between each arm and control.

    SMD = (mean_arm - mean_control) / sqrt((var_arm + var_control) / 2); binary and one-hot
    categorical levels use the same formula on 0/1 values. Missing numeric values are left out
    per covariate; missing categorical values form a ``(missing)`` level. |SMD| > 0.1 is flagged.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign with the covariate columns merged in.
    covariates : sequence of str
        Columns to check (``analyses.campaign.experiment.balance_covariates``).
    control : str
        Control arm (``analyses.campaign.control_arm``).
    arm : str, default 'arm'
    threshold : float, default 0.1

    Returns
    -------
    BalanceResult

    Raises
    ------
    AnalysisError
        Covariate columns missing, no control arm, only one arm.
    """
    _check_one_campaign(contacts)
    labels, arms = _arms(contacts, arm, control)
    covariates = list(covariates)
    if not covariates:
        raise AnalysisError(f"{TABLE}: no covariates given for the balance check; set {KEY_EXP}.balance_covariates")
    _require_columns(contacts, covariates, what="covariate", key=f"{KEY_EXP}.balance_covariates")
    X, kinds = _covariate_matrix(contacts, covariates)
    lab = labels.to_numpy()
    c = lab == control
    parts = []
    for a in arms[1:]:
        t = _smd_table(X, lab == a, c)
        t.insert(0, "arm", a)
        parts.append(t)
    table = pd.concat(parts, ignore_index=True).rename(columns={"mean_treated": "mean_arm"})
    table.insert(2, "kind", table["covariate"].map(kinds))
    table["imbalanced"] = table["smd"].abs() > threshold
    return BalanceResult(table, control, _campaign_name(contacts), threshold)


# --------------------------------------------------------------------------------------------
# 3. arm comparison
# --------------------------------------------------------------------------------------------

_COMPARE_COLUMNS = [
    "metric", "arm", "n", "control_n", "control_mean", "arm_mean", "diff", "diff_low", "diff_high",
    "rel_lift", "rel_low", "rel_high", "test", "ci_method", "p_value", "p_holm", "significant",
]  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class ArmComparison(Result):
    """Every metric, every arm against control (see :func:`compare_arms`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per metric and arm: ``metric``, ``arm``, ``n``, ``control_n``, ``control_mean``,
        ``arm_mean``, ``diff``, ``diff_low``, ``diff_high`` (95 % CI), ``rel_lift``, ``rel_low``,
        ``rel_high`` (delta-method CI on the log ratio), ``test``, ``ci_method``, ``p_value``,
        ``p_holm`` (Holm across all arms and metrics), ``significant`` (p_holm < alpha).
    control : str
    campaign : str
    alpha : float
    binary : dict
        metric -> True when 0/1.
    skipped : tuple of str
        Metrics asked for but not in the contacts.
    random_state : int or None
    """

    table: pd.DataFrame
    control: str
    campaign: str
    alpha: float
    binary: dict[str, bool]
    skipped: tuple[str, ...] = ()
    random_state: int | None = None

    def summary(self) -> pd.DataFrame:
        """The comparison table (one row per metric and arm)."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`summary`."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Per metric and arm: means, difference, CI, relative lift, p-values (JSON-able)."""
        out: dict[str, Any] = {
            "campaign": self.campaign, "control": self.control, "alpha": self.alpha,
            "random_state": self.random_state, "skipped": list(self.skipped), "comparisons": {},
        }  # fmt: skip
        for r in self.table.itertuples():
            out["comparisons"].setdefault(r.metric, {})[r.arm] = {
                "n": int(r.n), "control_n": int(r.control_n), "control_mean": num(r.control_mean),
                "arm_mean": num(r.arm_mean), "diff": num(r.diff), "diff_ci": [num(r.diff_low), num(r.diff_high)],
                "rel_lift": num(r.rel_lift), "rel_ci": [num(r.rel_low), num(r.rel_high)], "test": r.test,
                "p_value": num(r.p_value), "p_holm": num(r.p_holm), "significant": bool(r.significant),
            }  # fmt: skip
        return out

    def finding(self, *, currency: str = "¥") -> str:
        """One sentence per metric and arm, in business words."""
        out = []
        for r in self.table.itertuples():
            b = self.binary.get(r.metric, False)
            word = _metric_word(r.metric)
            verb = "raised" if r.diff > 0 else "lowered" if r.diff < 0 else "did not change"
            rel = f", {r.rel_lift:+.0%} relative" if np.isfinite(r.rel_lift) else ""
            sig = (
                "significant after Holm correction"
                if r.significant
                else "not significant after Holm correction - could be chance"
            )
            out.append(
                f"{r.arm} {verb} the {word} by {_fmt_abs(abs(r.diff), binary=b, currency=currency)} "
                f"(95 % CI {_fmt_ci(r.diff_low, r.diff_high, binary=b, currency=currency)}; "
                f"{_fmt_level(r.arm_mean, binary=b, currency=currency)} vs "
                f"{_fmt_level(r.control_mean, binary=b, currency=currency)} in {self.control}{rel}), {sig}."
            )
        return " ".join(out)

    def plot(self, ax: Any = None, *, metric: str | None = None, relative: bool = False) -> Any:
        """Differences vs control with 95 % CIs.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw here (one metric, or ``relative=True``).
        metric : str, optional
            Draw only this metric.
        relative : bool, default False
            Relative lifts of all metrics on one axis (comparable across metrics).

        Returns
        -------
        matplotlib.axes.Axes or matplotlib.figure.Figure
            An Axes for one panel; a Figure with one panel per metric otherwise.
        """
        import matplotlib.pyplot as plt

        t = self.table if metric is None else self.table.loc[self.table["metric"] == metric]
        if relative:
            ax = _new_ax(ax, (6.5, 0.8 + 0.45 * len(t)))
            self._panel(ax, t.assign(label=t["metric"] + " · " + t["arm"]), "rel_lift", "rel_low", "rel_high")
            ax.set_xlabel(f"relative lift vs {self.control}")
            return ax
        metrics = t["metric"].unique().tolist()
        if len(metrics) == 1 or ax is not None:
            ax = _new_ax(ax, (6.5, 1 + 0.5 * len(t)))
            self._panel(ax, t.assign(label=t["arm"]), "diff", "diff_low", "diff_high")
            ax.set_title(f"{self.campaign}: {_metric_word(metrics[0])}" if len(metrics) == 1 else self.campaign)
            return ax
        fig, axes = plt.subplots(len(metrics), 1, figsize=(6.5, 1.6 * len(metrics) + 0.4 * len(t)), squeeze=False)
        for a, m in zip(axes[:, 0], metrics, strict=True):
            sub = t.loc[t["metric"] == m]
            self._panel(a, sub.assign(label=sub["arm"]), "diff", "diff_low", "diff_high")
            a.set_title(_metric_word(m))
        fig.suptitle(f"{self.campaign}: difference vs {self.control} (95 % CI)")
        fig.tight_layout()
        return fig

    @staticmethod
    def _panel(ax: Any, t: pd.DataFrame, col: str, lo: str, hi: str) -> None:
        import seaborn as sns

        y = np.arange(len(t))
        hue = t["significant"].map({True: "significant", False: "n.s."}).to_numpy()
        sns.scatterplot(x=t[col].to_numpy(), y=y, hue=hue, palette={"significant": "#C44E52", "n.s.": "#4C72B0"},
                        ax=ax, s=50, zorder=3)  # fmt: skip
        ax.errorbar(t[col], y, xerr=[t[col] - t[lo], t[hi] - t[col]], fmt="none", ecolor="grey", capsize=3)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(y)
        ax.set_yticklabels(t["label"].tolist())
        ax.set_ylim(-0.7, len(t) - 0.3)

    def __repr__(self) -> str:
        return (
            f"ArmComparison(campaign={self.campaign!r}, control={self.control!r}, "
            f"metrics={self.table['metric'].nunique()}, arms={self.table['arm'].nunique()}, "
            f"significant={int(self.table['significant'].sum())}/{len(self.table)})"
        )


def _metric_arrays(contacts: pd.DataFrame, metric: str, labels: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    y = _as_float(contacts[metric], column=metric)
    lab = labels.to_numpy()
    ok = ~np.isnan(y)
    if not ok.all():
        per_arm = pd.Series(lab[~ok]).value_counts()
        warnings.warn(
            f"{TABLE}.{metric}: {int((~ok).sum()):,} of {y.size:,} rows are blank and left out "
            f"(by arm: {', '.join(f'{k} {v:,}' for k, v in per_arm.items())})",
            DataQualityWarning,
            stacklevel=3,
        )
    return y, ok


def compare_arms(
    contacts: pd.DataFrame,
    *,
    control: str,
    metrics: Sequence[str] | None = None,
    arm: str = "arm",
    revenue_method: Literal["welch", "bootstrap", "mann_whitney"] = "welch",
    bootstrap: int = 2000,
    alpha: float = 0.05,
    random_state: int | None = None,
) -> ArmComparison:
    """Compare every treated arm with control on every metric.

    * **Binary metrics** (0/1 or boolean): difference of proportions with the unpooled Wald 95 %
      interval and the two-proportion z-test (pooled). When an arm has zero successes (or all)
      the Wald interval collapses: Newcombe's hybrid score interval (from Wilson intervals) and
      Fisher's exact test are used instead, with a :class:`StatisticalWarning`.
    * **Other metrics** (revenue): difference of means with ``revenue_method``: ``welch`` (Welch
      t interval and test), ``bootstrap`` (percentile interval from ``bootstrap`` resamples of
      the rows, seeded; p-value from the centred bootstrap distribution) or ``mann_whitney``
      (Mann-Whitney U test of the distributions; Welch interval of the mean difference).
    * **Relative lift** ``arm_mean / control_mean - 1`` with a delta-method interval on the log
      ratio (NaN when a mean is not positive).
    * **Holm** correction across all arms and metrics; ``significant`` is ``p_holm < alpha``.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign, one row per customer: ``arm`` and the metric columns (blank
        values are left out per metric with a :class:`DataQualityWarning`).
    control : str
        Control arm (``analyses.campaign.control_arm``).
    metrics : sequence of str, optional
        Outcome columns (``analyses.campaign.experiment.metrics``); missing ones are skipped.
        Default ``visited``, ``converted``, ``revenue``.
    arm : str, default 'arm'
    revenue_method : {'welch', 'bootstrap', 'mann_whitney'}, default 'welch'
        ``analyses.campaign.experiment.revenue_method``.
    bootstrap : int, default 2000
        Resamples for ``revenue_method='bootstrap'`` (``analyses.campaign.experiment.bootstrap``).
    alpha : float, default 0.05
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    ArmComparison

    Raises
    ------
    AnalysisError
        No control arm / one arm only (names the arms found and ``analyses.campaign.control_arm``),
        no metric column present, a metric column that is not numeric.
    """
    if revenue_method not in ("welch", "bootstrap", "mann_whitney"):
        raise ParamsError(
            f"{KEY_EXP}.revenue_method: must be one of 'welch', 'bootstrap', 'mann_whitney', got {revenue_method!r}"
        )
    if not 0 < alpha < 1:
        raise ParamsError(f"{KEY_EXP}.alpha: must be in (0, 1), got {alpha!r}")
    _check_one_campaign(contacts)
    labels, arms = _arms(contacts, arm, control)
    campaign = _campaign_name(contacts)
    wanted = list(metrics) if metrics is not None else ["visited", "converted", "revenue"]
    present = [m for m in wanted if m in contacts.columns]
    skipped = tuple(m for m in wanted if m not in contacts.columns)
    if not present:
        raise AnalysisError(
            f"{TABLE}: none of the metric columns {format_examples(wanted)} is present "
            f"(columns: {format_examples(list(contacts.columns), limit=12)}); set {KEY_EXP}.metrics"
        )
    lab = labels.to_numpy()
    rows: list[dict[str, Any]] = []
    binary: dict[str, bool] = {}
    for metric in present:
        y, ok = _metric_arrays(contacts, metric, labels)
        is_bin = _is_binary(y)
        binary[metric] = is_bin
        c = ok & (lab == control)
        y0 = y[c]
        for a in arms[1:]:
            t = ok & (lab == a)
            y1 = y[t]
            row: dict[str, Any] = {"metric": metric, "arm": a, "n": int(y1.size), "control_n": int(y0.size)}
            if y1.size == 0 or y0.size == 0:
                empty = a if y1.size == 0 else control
                warnings.warn(
                    f"{campaign}, arm {empty!r}, metric {metric!r}: no non-blank values; comparison left empty",
                    StatisticalWarning,
                    stacklevel=2,
                )
                rows.append({**row, "test": "none (no data)", "ci_method": "", "p_value": np.nan})
                continue
            if is_bin:
                r = diff_proportions(y1.sum(), y1.size, y0.sum(), y0.size, alpha=alpha)
                zero = bool(r["zero"][0])
                row.update(
                    control_mean=float(r["p0"][0]), arm_mean=float(r["p1"][0]), diff=float(r["diff"][0]),
                    diff_low=float(r["low"][0]), diff_high=float(r["high"][0]), rel_lift=float(r["rel"][0]),
                    rel_low=float(r["rel_low"][0]), rel_high=float(r["rel_high"][0]), p_value=float(r["p_value"][0]),
                    test="Fisher exact" if zero else "two-proportion z",
                    ci_method="Newcombe hybrid score (Wilson)" if zero else "Wald (unpooled)",
                )  # fmt: skip
                if zero:
                    which = [
                        f"{name} has {'zero' if k == 0 else 'only'} {'successes' if k == 0 else 'successes'}"
                        for name, k, n in ((a, y1.sum(), y1.size), (control, y0.sum(), y0.size))
                        if k == 0 or k == n
                    ]
                    warnings.warn(
                        f"{campaign}, arm {a!r}, metric {metric!r}: {'; '.join(which)} - the z-test and the "
                        "delta-method lift interval are unreliable. The difference uses Newcombe's hybrid score "
                        "interval (from Wilson intervals) and Fisher's exact test; the relative lift is left "
                        "without an interval.",
                        StatisticalWarning,
                        stacklevel=2,
                    )
            else:
                w = _welch(y1, y0, alpha)
                row.update(
                    control_mean=w["m0"], arm_mean=w["m1"], diff=w["diff"], diff_low=w["low"],
                    diff_high=w["high"], rel_lift=w["rel"], rel_low=w["rel_low"], rel_high=w["rel_high"],
                    p_value=w["p_value"], test="Welch t", ci_method="Welch t",
                )  # fmt: skip
                if revenue_method == "mann_whitney":
                    row["p_value"] = float(sps.mannwhitneyu(y1, y0, alternative="two-sided").pvalue)
                    row["test"] = "Mann-Whitney U"
                elif revenue_method == "bootstrap":
                    yy = np.concatenate([y1, y0])
                    tt = np.r_[np.ones(y1.size, bool), np.zeros(y0.size, bool)]

                    def stat(idx: np.ndarray, yy: np.ndarray = yy, tt: np.ndarray = tt) -> float:
                        ti = tt[idx]
                        yi = yy[idx]
                        n1 = ti.sum()
                        if n1 == 0 or n1 == ti.size:
                            return np.nan
                        return float(yi[ti].mean() - yi[~ti].mean())

                    lo, hi, draws = bootstrap_ci(
                        stat, yy.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state
                    )
                    d = draws[np.isfinite(draws)]
                    centred = d - d.mean()
                    row.update(
                        diff_low=lo, diff_high=hi, test=f"bootstrap ({bootstrap} resamples)",
                        ci_method="percentile bootstrap",
                        p_value=float(max((np.abs(centred) >= abs(w["diff"])).mean(), 1 / (d.size + 1))),
                    )  # fmt: skip
            rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=_COMPARE_COLUMNS)
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype="float64"))
    table["significant"] = (table["p_holm"] < alpha).fillna(False).astype(bool)
    return ArmComparison(table, control, campaign, alpha, binary, skipped, random_state)


# --------------------------------------------------------------------------------------------
# 4. CUPED
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class CupedResult(Result):
    """CUPED-adjusted arm differences (see :func:`cuped`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per treated arm: ``arm``, ``n``, ``control_n``, ``diff``, ``diff_low``,
        ``diff_high``, ``p_value`` (unadjusted, Welch) and ``diff_cuped``, ``cuped_low``,
        ``cuped_high``, ``p_cuped`` (adjusted, Welch), ``ci_width_ratio`` (adjusted / unadjusted).
    metric, covariate, control, campaign : str
    theta : float
        Pooled within-arm regression slope of the metric on the covariate.
    rho : float
        Pooled within-arm correlation of metric and covariate.
    variance_reduction : float
        Achieved ``1 - var(adjusted) / var(unadjusted)`` within arms (about rho²).
    n_imputed : int
        Rows with a blank covariate, set to the covariate mean (no adjustment for them).
    """

    table: pd.DataFrame
    metric: str
    covariate: str
    control: str
    campaign: str
    theta: float
    rho: float
    variance_reduction: float
    n_imputed: int = 0
    binary: bool = False

    def summary(self) -> pd.DataFrame:
        """Unadjusted and CUPED-adjusted difference per arm side by side."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`summary`."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """theta, rho, variance reduction and the two intervals per arm (JSON-able)."""
        return {
            "campaign": self.campaign, "metric": self.metric, "covariate": self.covariate, "theta": num(self.theta),
            "rho": num(self.rho), "variance_reduction": num(self.variance_reduction),
            "remaining_variance_share": num(1 - self.rho**2), "n_imputed": self.n_imputed,
            "arms": {
                str(r.arm): {
                    "diff": num(r.diff), "diff_ci": [num(r.diff_low), num(r.diff_high)],
                    "diff_cuped": num(r.diff_cuped),
                    "cuped_ci": [num(r.cuped_low), num(r.cuped_high)], "ci_width_ratio": num(r.ci_width_ratio),
                }
                for r in self.table.itertuples()
            },
        }  # fmt: skip

    def finding(self, *, currency: str = "¥") -> str:
        """How much sharper the estimate got, from the numbers."""
        word = _metric_word(self.metric)
        b = self.binary
        out = [
            f"Adjusting the {word} for {self.covariate} (CUPED, correlation {self.rho:.2f}) removed "
            f"{pct(self.variance_reduction)} of its variance."
        ]
        for r in self.table.itertuples():
            out.append(
                f"{r.arm}: {_fmt_abs(r.diff_cuped, binary=b, currency=currency)} (95 % CI "
                f"{_fmt_ci(r.cuped_low, r.cuped_high, binary=b, currency=currency)}) instead of "
                f"{_fmt_abs(r.diff, binary=b, currency=currency)} "
                f"({_fmt_ci(r.diff_low, r.diff_high, binary=b, currency=currency)}); the interval is "
                f"{pct(1 - r.ci_width_ratio)} narrower."
            )
        if self.variance_reduction < 0.05:
            out.append(f"{self.covariate} predicts the {word} too weakly for CUPED to help much.")
        return " ".join(out)

    def plot(self, ax: Any = None) -> Any:
        """Unadjusted vs CUPED interval per arm."""
        import seaborn as sns

        t = self.table
        long = pd.concat(
            [
                pd.DataFrame({"arm": t["arm"], "estimate": "unadjusted", "diff": t["diff"], "low": t["diff_low"],
                              "high": t["diff_high"]}),
                pd.DataFrame({"arm": t["arm"], "estimate": "CUPED", "diff": t["diff_cuped"], "low": t["cuped_low"],
                              "high": t["cuped_high"]}),
            ],
            ignore_index=True,
        )  # fmt: skip
        long["y"] = np.r_[np.arange(len(t)) - 0.12, np.arange(len(t)) + 0.12]
        ax = _new_ax(ax, (6.5, 1.2 + 0.6 * len(t)))
        sns.scatterplot(data=long, x="diff", y="y", hue="estimate", ax=ax, s=50, zorder=3)
        ax.errorbar(long["diff"], long["y"], xerr=[long["diff"] - long["low"], long["high"] - long["diff"]],
                    fmt="none", ecolor="grey", capsize=3)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(np.arange(len(t)))
        ax.set_yticklabels(t["arm"].tolist())
        ax.set_ylabel("")
        ax.set_xlabel(f"difference in {_metric_word(self.metric)} vs {self.control} (95 % CI)")
        ax.set_title(f"{self.campaign}: CUPED with {self.covariate} (variance -{pct(self.variance_reduction)})")
        return ax

    def __repr__(self) -> str:
        return (
            f"CupedResult(campaign={self.campaign!r}, metric={self.metric!r}, covariate={self.covariate!r}, "
            f"rho={self.rho:.3f}, variance_reduction={self.variance_reduction:.1%})"
        )


def cuped(
    contacts: pd.DataFrame,
    *,
    control: str,
    metric: str,
    covariate: str,
    arm: str = "arm",
    alpha: float = 0.05,
) -> CupedResult:
    """CUPED: reduce the variance of an arm difference with a pre-period covariate.

    ``y_adj = y - theta * (x - mean(x))`` where ``theta = cov(y, x) / var(x)`` is pooled across
    arms from within-arm deviations (so the treatment effect does not leak into theta). Because
    ``x`` is measured before assignment, the adjusted difference estimates the same effect with
    variance shrunk by about ``1 - rho²``. Both differences use Welch's t interval.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign with ``arm``, the metric and the covariate.
    control : str
        ``analyses.campaign.control_arm``.
    metric : str
        Outcome column.
    covariate : str
        Pre-period column (``analyses.campaign.experiment.cuped_covariate``); blank values are
        set to the covariate mean (those rows are not adjusted) with a warning.
    arm : str, default 'arm'
    alpha : float, default 0.05

    Returns
    -------
    CupedResult

    Raises
    ------
    AnalysisError
        Columns missing, no control arm, a constant covariate.
    """
    _check_one_campaign(contacts)
    labels, arms = _arms(contacts, arm, control)
    _require_columns(contacts, [metric], what="metric", key=f"{KEY_EXP}.metrics")
    _require_columns(contacts, [covariate], what="CUPED covariate", key=f"{KEY_EXP}.cuped_covariate")
    campaign = _campaign_name(contacts)
    y, ok = _metric_arrays(contacts, metric, labels)
    x = _as_float(contacts[covariate], column=covariate)
    lab = labels.to_numpy()[ok]
    y, x = y[ok], x[ok]
    miss = np.isnan(x)
    n_imp = int(miss.sum())
    if n_imp == x.size:
        raise AnalysisError(f"{TABLE}.{covariate}: all values blank; set {KEY_EXP}.cuped_covariate to another column")
    if n_imp:
        warnings.warn(
            f"{TABLE}.{covariate}: {n_imp:,} of {x.size:,} rows blank, set to the mean (not adjusted)",
            DataQualityWarning,
            stacklevel=2,
        )
        x = np.where(miss, np.nanmean(x), x)
    codes = pd.factorize(lab)[0]
    k = codes.max() + 1
    cnt = np.bincount(codes, minlength=k)
    xm = np.bincount(codes, x, minlength=k) / cnt
    ym = np.bincount(codes, y, minlength=k) / cnt
    dx, dy = x - xm[codes], y - ym[codes]
    sxx, syy, sxy = float(dx @ dx), float(dy @ dy), float(dx @ dy)
    if sxx <= 0:
        raise AnalysisError(
            f"{TABLE}.{covariate}: constant within arms, CUPED cannot use it; set {KEY_EXP}.cuped_covariate "
            "to a pre-period column that varies between customers"
        )
    theta = sxy / sxx
    rho = sxy / math.sqrt(sxx * syy) if syy > 0 else 0.0
    y_adj = y - theta * (x - x.mean())
    ra = y_adj - (np.bincount(codes, y_adj, minlength=k) / cnt)[codes]
    vr = 1 - float(ra @ ra) / syy if syy > 0 else 0.0
    rows = []
    c = lab == control
    for a in arms[1:]:
        t = lab == a
        if t.sum() < 2 or c.sum() < 2:
            continue
        u = _welch(y[t], y[c], alpha)
        v = _welch(y_adj[t], y_adj[c], alpha)
        rows.append(
            {
                "arm": a, "n": int(t.sum()), "control_n": int(c.sum()), "diff": u["diff"], "diff_low": u["low"],
                "diff_high": u["high"], "p_value": u["p_value"], "diff_cuped": v["diff"], "cuped_low": v["low"],
                "cuped_high": v["high"], "p_cuped": v["p_value"],
                "ci_width_ratio": (v["high"] - v["low"]) / (u["high"] - u["low"]) if u["high"] > u["low"] else np.nan,
            }
        )  # fmt: skip
    table = pd.DataFrame(rows)
    return CupedResult(table, metric, covariate, control, campaign, theta, rho, vr, n_imp, _is_binary(y))


# --------------------------------------------------------------------------------------------
# 5. power planning
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class PowerPlan(Result):
    """Power, minimum detectable effect and sample sizes (see :func:`power_plan`).

    Attributes
    ----------
    design : pandas.DataFrame
        One row per relative lift: ``relative_lift``, ``absolute_lift``, ``treated_value``,
        ``n_per_arm_needed`` (equal arms), ``n_total_needed`` (all arms of this design),
        ``power_at_observed_n``.
    observed : pandas.DataFrame
        One row per treated arm: ``arm``, ``n``, ``control_n``, ``power_for_target``,
        ``mde_absolute``, ``mde_relative`` (at the wanted power).
    metric, control, campaign : str
    base : float
        Control rate (binary) or mean.
    sd : float
        Control standard deviation (NaN for binary metrics).
    binary : bool
    power, target_lift, alpha : float
    n_arms : int
    """

    design: pd.DataFrame
    observed: pd.DataFrame
    metric: str
    control: str
    campaign: str
    base: float
    sd: float
    binary: bool
    power: float
    target_lift: float
    alpha: float
    n_arms: int

    def summary(self) -> pd.DataFrame:
        """The design table (sample size needed per relative lift)."""
        return self.design.copy()

    def to_frame(self) -> pd.DataFrame:
        """Power and MDE of this test per arm."""
        return self.observed.copy()

    def metrics(self) -> dict[str, Any]:
        """Base rate, MDE and sample sizes (JSON-able)."""
        tgt = self.design.loc[np.isclose(self.design["relative_lift"], self.target_lift)]
        return {
            "campaign": self.campaign, "metric": self.metric, "base": num(self.base), "power": self.power,
            "alpha": self.alpha, "target_lift": self.target_lift,
            "n_per_arm_needed_for_target": int(tgt["n_per_arm_needed"].iloc[0]) if len(tgt) else None,
            "arms": {
                str(r.arm): {"n": int(r.n), "power_for_target": num(r.power_for_target),
                             "mde_absolute": num(r.mde_absolute), "mde_relative": num(r.mde_relative)}
                for r in self.observed.itertuples()
            },
        }  # fmt: skip

    def finding(self) -> str:
        """What this test could detect and what the next one needs, from the numbers."""
        word = _metric_word(self.metric)
        base = pct(self.base, 2) if self.binary else f"{self.base:,.2f}"
        out = [f"With a control {word} of {base}:"]
        for r in self.observed.itertuples():
            out.append(
                f"{r.arm} ({int(r.n):,} vs {int(r.control_n):,}) had {pct(r.power_for_target, 0)} power to detect a "
                f"{self.target_lift:.0%} lift; the smallest lift it could reliably detect ({self.power:.0%} power) "
                f"is {r.mde_relative:.1%} ({_fmt_abs(r.mde_absolute, binary=self.binary, currency='')})."
            )
        tgt = self.design.loc[np.isclose(self.design["relative_lift"], self.target_lift)]
        if len(tgt):
            out.append(
                f"To detect a {self.target_lift:.0%} lift with {self.power:.0%} power next time, plan "
                f"{int(tgt['n_per_arm_needed'].iloc[0]):,} customers per arm "
                f"({int(tgt['n_total_needed'].iloc[0]):,} for {self.n_arms} arms)."
            )
        return " ".join(out)

    def plot(self, ax: Any = None) -> Any:
        """Power against relative lift at the observed sample size, target and MDE marked."""
        import seaborn as sns

        ax = _new_ax(ax, (6, 4))
        d = self.design
        sns.lineplot(data=d, x="relative_lift", y="power_at_observed_n", marker="o", ax=ax)
        ax.axhline(self.power, ls="--", color="grey", lw=1)
        ax.axvline(self.target_lift, ls=":", color="crimson", lw=1, label=f"target {self.target_lift:.0%}")
        if len(self.observed):
            mde = float(self.observed["mde_relative"].max())
            ax.axvline(mde, ls="--", color="#4C72B0", lw=1, label=f"MDE {mde:.1%}")
        ax.set_xlabel("relative lift")
        ax.set_ylabel("power at the observed n")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"{self.campaign}: power for {_metric_word(self.metric)}")
        ax.legend()
        return ax

    def __repr__(self) -> str:
        return (
            f"PowerPlan(campaign={self.campaign!r}, metric={self.metric!r}, base={self.base:.4g}, "
            f"target_lift={self.target_lift:.0%}, power={self.power:.0%})"
        )


def power_plan(
    contacts: pd.DataFrame,
    *,
    control: str,
    metric: str,
    arm: str = "arm",
    power: float = 0.8,
    target_lift: float = 0.1,
    alpha: float = 0.05,
    lifts: Sequence[float] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5),
) -> PowerPlan:
    """Power and minimum detectable effect of this test, and sample sizes for the next one.

    Binary metrics use Cohen's h (``statsmodels`` ``proportion_effectsize``) with
    ``NormalIndPower``; other metrics Cohen's d = lift * mean / sd with ``TTestIndPower``; both
    two-sided at ``alpha``. Base rate, mean and sd come from the control arm.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign.
    control : str
        ``analyses.campaign.control_arm``.
    metric : str
        Outcome column.
    arm : str, default 'arm'
    power : float, default 0.8
        ``analyses.campaign.experiment.power``.
    target_lift : float, default 0.1
        Relative lift to detect (``analyses.campaign.experiment.target_lift``); always in the
        design table.
    alpha : float, default 0.05
    lifts : sequence of float
        Further relative lifts for the design table.

    Returns
    -------
    PowerPlan

    Raises
    ------
    AnalysisError
        No control arm, metric missing, a control base of 0 (no lift is defined).
    """
    from statsmodels.stats.power import NormalIndPower, TTestIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    if not 0 < power < 1:
        raise ParamsError(f"{KEY_EXP}.power: must be in (0, 1), got {power!r}")
    if not target_lift > 0:
        raise ParamsError(f"{KEY_EXP}.target_lift: must be > 0, got {target_lift!r}")
    _check_one_campaign(contacts)
    labels, arms = _arms(contacts, arm, control)
    _require_columns(contacts, [metric], what="metric", key=f"{KEY_EXP}.metrics")
    campaign = _campaign_name(contacts)
    y, ok = _metric_arrays(contacts, metric, labels)
    lab = labels.to_numpy()
    y0 = y[ok & (lab == control)]
    binary = _is_binary(y)
    base = float(y0.mean()) if y0.size else np.nan
    sd = np.nan if binary else (float(y0.std(ddof=1)) if y0.size > 1 else np.nan)
    if not np.isfinite(base) or base <= 0 or (binary and base >= 1) or (not binary and not sd > 0):
        raise AnalysisError(
            f"{campaign}, metric {metric!r}: control {control!r} has base {base!r}; power for a relative lift needs a "
            "control rate strictly between 0 and 1 (or a positive mean with spread)"
        )
    engine = NormalIndPower() if binary else TTestIndPower()

    def effect(lift: float) -> float:
        if binary:
            p1 = min(base * (1 + lift), 1 - 1e-9)
            return float(abs(proportion_effectsize(p1, base)))
        return float(lift * base / sd)

    def lift_of(es: float) -> float:
        if binary:
            p1 = math.sin(es / 2 + math.asin(math.sqrt(base))) ** 2
            return p1 / base - 1
        return es * sd / base

    all_lifts = sorted(set(float(v) for v in lifts) | {float(target_lift)})
    sizes = [(a, int((ok & (lab == a)).sum())) for a in arms[1:]]
    n0 = int(y0.size)
    n1_min = min((n for _, n in sizes), default=0)
    rows = []
    for lift in all_lifts:
        es = effect(lift)
        need = float(engine.solve_power(effect_size=es, alpha=alpha, power=power, ratio=1.0, alternative="two-sided"))
        pw = (
            float(engine.power(effect_size=es, nobs1=n1_min, alpha=alpha, ratio=n0 / n1_min, alternative="two-sided"))
            if n1_min > 1
            else np.nan
        )
        rows.append(
            {
                "relative_lift": lift, "absolute_lift": base * lift, "treated_value": base * (1 + lift),
                "n_per_arm_needed": int(math.ceil(need)), "n_total_needed": int(math.ceil(need)) * len(arms),
                "power_at_observed_n": pw,
            }
        )  # fmt: skip
    obs = []
    for a, n1 in sizes:
        if n1 < 2:
            continue
        es_t = effect(target_lift)
        pw = float(engine.power(effect_size=es_t, nobs1=n1, alpha=alpha, ratio=n0 / n1, alternative="two-sided"))
        es_mde = float(engine.solve_power(nobs1=n1, alpha=alpha, power=power, ratio=n0 / n1, alternative="two-sided"))
        rel = lift_of(es_mde)
        obs.append({"arm": a, "n": n1, "control_n": n0, "power_for_target": pw, "mde_absolute": rel * base,
                    "mde_relative": rel})  # fmt: skip
    return PowerPlan(
        pd.DataFrame(rows), pd.DataFrame(obs), metric, control, campaign, base, sd, binary, power, target_lift, alpha,
        len(arms),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# 6. heterogeneity
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class HeterogeneityResult(Result):
    """Effect of one arm by subgroup (see :func:`heterogeneity`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subgroup plus ``(all)``: ``subgroup``, ``n``, ``control_n``, ``arm_mean``,
        ``control_mean``, ``diff``, ``diff_low``, ``diff_high`` (95 %), ``ci_method``,
        ``p_value``, ``p_holm`` (Holm across subgroups), ``significant``.
    by, arm_name, control, metric, campaign : str
    interaction_test : str
        Name of the interaction test.
    interaction_stat, interaction_df, interaction_p : float
        Joint Wald test of the arm x subgroup interaction terms.
    lr_test : dict
        Logistic likelihood-ratio test of the interaction (binary metrics; empty otherwise).
    alpha : float
    """

    table: pd.DataFrame
    by: str
    arm_name: str
    control: str
    metric: str
    campaign: str
    interaction_test: str
    interaction_stat: float
    interaction_df: int
    interaction_p: float
    lr_test: dict[str, Any] = field(default_factory=dict)
    alpha: float = 0.05
    binary: bool = True

    def summary(self) -> pd.DataFrame:
        """Effect per subgroup with CIs and Holm-adjusted p-values."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Same as :meth:`summary`."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Interaction test and subgroup effects (JSON-able)."""
        return {
            "campaign": self.campaign, "by": self.by, "arm": self.arm_name, "metric": self.metric,
            "interaction_test": self.interaction_test, "interaction_stat": num(self.interaction_stat),
            "interaction_df": int(self.interaction_df), "interaction_p": num(self.interaction_p),
            "lr_test": {k: (num(v) if not isinstance(v, str) else v) for k, v in self.lr_test.items()},
            "subgroups": {
                str(r.subgroup): {"n": int(r.n), "control_n": int(r.control_n), "diff": num(r.diff),
                                  "diff_ci": [num(r.diff_low), num(r.diff_high)], "p_holm": num(r.p_holm)}
                for r in self.table.itertuples()
            },
        }  # fmt: skip

    def finding(self, *, currency: str = "¥") -> str:
        """Whether the effect differs by subgroup, from the numbers."""
        b = self.binary
        sub = self.table.loc[self.table["subgroup"] != "(all)"].dropna(subset=["diff"])
        word = _metric_word(self.metric)
        if sub.empty:
            return "No subgroup has customers in both arms."
        hi, lo = sub.loc[sub["diff"].idxmax()], sub.loc[sub["diff"].idxmin()]
        text = (
            f"Effect of {self.arm_name} on the {word} by {self.by}: from "
            f"{_fmt_abs(lo['diff'], binary=b, currency=currency)} in {lo['subgroup']} to "
            f"{_fmt_abs(hi['diff'], binary=b, currency=currency)} in {hi['subgroup']} "
            f"(95 % CI {_fmt_ci(hi['diff_low'], hi['diff_high'], binary=b, currency=currency)}). "
        )
        if np.isfinite(self.interaction_p) and self.interaction_p < self.alpha:
            text += (
                "The interaction test says the effect really differs between subgroups "
                f"(p = {self.interaction_p:.2g}): "
                "target the subgroups where it is largest."
            )
        else:
            text += (
                f"The interaction test finds no reliable difference between subgroups (p = {self.interaction_p:.2g}); "
                "differences between the subgroup estimates may be chance - do not re-target on them."
            )
        sig = sub.loc[sub["significant"], "subgroup"].astype(str).tolist()
        if sig:
            text += f" Significant after Holm across {len(sub)} subgroups: {', '.join(sig)}."
        return text

    def plot(self, ax: Any = None) -> Any:
        """Forest plot: effect and 95 % CI per subgroup, overall effect as a line."""
        import seaborn as sns

        t = self.table
        ax = _new_ax(ax, (6.5, 1 + 0.45 * len(t)))
        y = np.arange(len(t))[::-1]
        labels = [f"{s} (n={int(n) + int(m):,})" for s, n, m in zip(t["subgroup"], t["n"], t["control_n"], strict=True)]
        kind = np.where(t["subgroup"] == "(all)", "overall", "subgroup")
        sns.scatterplot(x=t["diff"].to_numpy(), y=y, hue=kind, style=kind, markers={"overall": "D", "subgroup": "s"},
                        ax=ax, s=55, zorder=3, palette={"overall": "black", "subgroup": "#4C72B0"})  # fmt: skip
        ax.errorbar(t["diff"], y, xerr=[t["diff"] - t["diff_low"], t["diff_high"] - t["diff"]], fmt="none",
                    ecolor="grey", capsize=3)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        allrow = t.loc[t["subgroup"] == "(all)"]
        if len(allrow):
            ax.axvline(float(allrow["diff"].iloc[0]), ls="--", color="grey", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel(f"{self.arm_name} - {self.control}: {_metric_word(self.metric)} (95 % CI)")
        ax.set_title(f"{self.campaign}: effect by {self.by} (interaction p = {self.interaction_p:.2g})")
        return ax

    def __repr__(self) -> str:
        return (
            f"HeterogeneityResult(campaign={self.campaign!r}, arm={self.arm_name!r}, by={self.by!r}, "
            f"subgroups={int((self.table['subgroup'] != '(all)').sum())}, interaction_p={self.interaction_p:.3g})"
        )


def _subgroup_labels(s: pd.Series, by: str, max_levels: int) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) and s.nunique() > 10:
        q = pd.qcut(s.astype("float64"), 4, duplicates="drop")
        out = q.astype(str).where(q.notna(), "(missing)")
        return out
    out = s.astype(object).where(s.notna(), "(missing)").astype(str)
    if out.nunique() > max_levels:
        raise AnalysisError(
            f"{TABLE}.{by}: {out.nunique()} subgroups, more than {max_levels}; use a coarser column in "
            f"{KEY_EXP}.heterogeneity_by (e.g. a segment or class)"
        )
    return out


def heterogeneity(
    contacts: pd.DataFrame,
    *,
    by: str,
    control: str,
    arm_name: str,
    metric: str = "converted",
    arm: str = "arm",
    alpha: float = 0.05,
    max_levels: int = 30,
) -> HeterogeneityResult:
    """Effect of one arm against control by subgroup, with an interaction test.

    Per subgroup: the difference (binary: Wald interval, Newcombe when a count is zero;
    otherwise Welch), its test, and Holm across subgroups. The interaction test is the joint
    Wald test of the arm x subgroup terms in a linear model ``y ~ subgroup + arm + arm:subgroup``
    with HC1 robust standard errors (additive scale, the scale of the forest plot); for binary
    metrics also the likelihood-ratio test of the same terms in a logistic model. Looking at
    many subgroups finds "effects" by chance, so a :class:`StatisticalWarning` reminds of it.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign with the subgroup column merged in.
    by : str
        Subgroup column (``analyses.campaign.experiment.heterogeneity_by``); numeric columns
        with more than 10 values are cut into quartiles; blanks form ``(missing)``.
    control : str
        ``analyses.campaign.control_arm``.
    arm_name : str
        Treated arm to compare.
    metric : str, default 'converted'
    arm : str, default 'arm'
    alpha : float, default 0.05
    max_levels : int, default 30

    Returns
    -------
    HeterogeneityResult

    Raises
    ------
    AnalysisError
        Columns missing, no control arm, unknown ``arm_name``, too many subgroups.
    """
    import statsmodels.api as sm

    _check_one_campaign(contacts)
    labels, arms = _arms(contacts, arm, control)
    if arm_name not in arms[1:]:
        raise AnalysisError(
            f"{TABLE}.{arm}: arm {arm_name!r} not found; treated arms: {format_examples(arms[1:])} "
            "(params key analyses.campaign.uplift.treatment_arm)"
        )
    _require_columns(contacts, [metric], what="metric", key=f"{KEY_EXP}.metrics")
    _require_columns(contacts, [by], what="subgroup", key=f"{KEY_EXP}.heterogeneity_by")
    campaign = _campaign_name(contacts)
    y, ok = _metric_arrays(contacts, metric, labels)
    lab = labels.to_numpy()
    keep = ok & np.isin(lab, [control, arm_name])
    y = y[keep]
    t = lab[keep] == arm_name
    g = _subgroup_labels(contacts[by], by, max_levels).to_numpy()[keep]
    binary = _is_binary(y)
    levels = sorted(pd.unique(g).tolist(), key=str)
    rows = []
    for lev in ["(all)"] + levels:
        m = np.ones(y.size, bool) if lev == "(all)" else g == lev
        y1, y0 = y[m & t], y[m & ~t]
        row: dict[str, Any] = {"subgroup": lev, "n": int(y1.size), "control_n": int(y0.size)}
        if y1.size < 2 or y0.size < 2:
            rows.append({**row, "ci_method": "too few customers", "p_value": np.nan})
            continue
        if binary:
            r = diff_proportions(y1.sum(), y1.size, y0.sum(), y0.size, alpha=alpha)
            row.update(arm_mean=float(r["p1"][0]), control_mean=float(r["p0"][0]), diff=float(r["diff"][0]),
                       diff_low=float(r["low"][0]), diff_high=float(r["high"][0]), p_value=float(r["p_value"][0]),
                       ci_method="Newcombe (zero count)" if r["zero"][0] else "Wald")  # fmt: skip
        else:
            w = _welch(y1, y0, alpha)
            row.update(arm_mean=w["m1"], control_mean=w["m0"], diff=w["diff"], diff_low=w["low"],
                       diff_high=w["high"], p_value=w["p_value"], ci_method="Welch t")  # fmt: skip
        rows.append(row)
    cols = ["subgroup", "n", "control_n", "arm_mean", "control_mean", "diff", "diff_low", "diff_high", "ci_method",
            "p_value"]  # fmt: skip
    table = pd.DataFrame(rows).reindex(columns=cols)
    sub = table["subgroup"] != "(all)"
    table["p_holm"] = np.nan
    table.loc[sub, "p_holm"] = holm(table.loc[sub, "p_value"].to_numpy(dtype="float64"))
    table.loc[~sub, "p_holm"] = table.loc[~sub, "p_value"]
    table["significant"] = (table["p_holm"] < alpha).fillna(False).astype(bool)

    # interaction: levels with both arms present
    usable = [lev for lev in levels if ((g == lev) & t).sum() >= 1 and ((g == lev) & ~t).sum() >= 1]
    dropped = [lev for lev in levels if lev not in usable]
    if dropped:
        warnings.warn(
            f"{campaign}, {by}: subgroup(s) {format_examples(dropped)} lack one of the arms and are left out of the "
            "interaction test",
            StatisticalWarning,
            stacklevel=2,
        )
    stat, df_, p_int, lr = np.nan, max(len(usable) - 1, 0), np.nan, {}
    if len(usable) >= 2:
        m = np.isin(g, usable)
        yy, tt, gg = y[m], t[m].astype(float), g[m]
        D = np.column_stack([(gg == lev).astype(float) for lev in usable[1:]])
        X = np.column_stack([np.ones(yy.size), D, tt, D * tt[:, None]])
        k = D.shape[1]
        idx = np.arange(X.shape[1] - k, X.shape[1])
        R = np.zeros((k, X.shape[1]))
        R[np.arange(k), idx] = 1
        try:
            res = sm.OLS(yy, X).fit(cov_type="HC1")
            w = res.wald_test(R, scalar=True)
            stat, p_int = float(w.statistic), float(w.pvalue)
        except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - singular designs
            pass
        if binary:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    full = sm.GLM(yy, X, family=sm.families.Binomial()).fit()
                    red = sm.GLM(yy, X[:, : X.shape[1] - k], family=sm.families.Binomial()).fit()
                lrs = float(2 * (full.llf - red.llf))
                lr = {"test": "likelihood-ratio, logistic model arm x subgroup", "stat": lrs, "df": k,
                      "p_value": float(sps.chi2.sf(max(lrs, 0.0), k))}  # fmt: skip
            except Exception:  # pragma: no cover - separation etc.
                lr = {}
    if len(levels) > 1:
        warnings.warn(
            f"{campaign}: the effect of {arm_name!r} was estimated in {len(levels)} subgroups of {by!r}. The more "
            "subgroups one looks at, the more 'significant' ones appear by chance: p-values are Holm-adjusted, and "
            "a subgroup difference counts only when the interaction test supports it (and ideally a new test "
            "confirms it).",
            StatisticalWarning,
            stacklevel=2,
        )
    name = "joint Wald test of arm x subgroup interaction (linear model, HC1 robust SE)"
    return HeterogeneityResult(
        table, by, arm_name, control, metric, campaign, name, stat, df_, p_int, lr, alpha, binary
    )


# --------------------------------------------------------------------------------------------
# 7. observational comparison (no control group)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class ObservationalResult(Result):
    """Propensity-score (IPW) effect of a campaign without a control group.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per estimate: ``estimate`` (``naive difference``, ``IPW ATT``, ``IPW ATE``),
        ``value``, ``low``, ``high`` (95 %), ``method``, ``evidence`` (``weaker evidence``).
    balance : pandas.DataFrame
        Per covariate column: ``covariate``, ``smd_before``, ``smd_after``, ``imbalanced_after``.
    propensity : pandas.DataFrame
        Per row kept: ``treated``, ``propensity``, ``weight_att``, ``weight_ate``.
    overlap : dict
        ``support`` (low, high), ``share_treated_outside``, ``share_control_outside``,
        ``n_trimmed_treated``, ``n_trimmed_control``, ``trim``, ``ess_control_att``.
    outcome, estimand : str
    n_treated, n_control : int
    random_state : int or None
    bootstrap : int
    """

    estimates: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.DataFrame
    overlap: dict[str, Any]
    outcome: str
    estimand: str
    n_treated: int
    n_control: int
    random_state: int | None
    bootstrap: int
    binary: bool = True

    def estimate(self, which: str | None = None) -> float:
        """Point estimate of ``IPW ATT`` / ``IPW ATE`` / ``naive difference`` (default: the estimand)."""
        which = which or f"IPW {self.estimand}"
        return float(self.estimates.set_index("estimate").loc[which, "value"])

    def summary(self) -> pd.DataFrame:
        """Naive and weighted estimates with 95 % intervals, labelled weaker evidence."""
        return self.estimates.copy()

    def to_frame(self) -> pd.DataFrame:
        """Per row: treated flag, propensity and weights."""
        return self.propensity.copy()

    def metrics(self) -> dict[str, Any]:
        """Estimates, overlap and balance figures (JSON-able)."""
        return {
            "outcome": self.outcome, "estimand": self.estimand, "n_treated": self.n_treated,
            "n_control": self.n_control, "random_state": self.random_state, "bootstrap": self.bootstrap,
            "evidence": "weaker evidence (observational)",
            "estimates": {r.estimate: {"value": num(r.value), "ci": [num(r.low), num(r.high)], "method": r.method}
                          for r in self.estimates.itertuples()},
            "overlap": {k: (num(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in self.overlap.items()
                        if k != "support"} | {"support": [num(v) for v in self.overlap["support"]]},
            "max_abs_smd_before": num(self.balance["smd_before"].abs().max()),
            "max_abs_smd_after": num(self.balance["smd_after"].abs().max()),
        }  # fmt: skip

    def finding(self, *, currency: str = "¥") -> str:
        """The adjusted effect with its caveats, from the numbers."""
        b = self.binary
        e = self.estimates.set_index("estimate")
        naive, adj = e.loc["naive difference"], e.loc[f"IPW {self.estimand}"]
        word = _metric_word(self.outcome)
        who = "contacted customers" if self.estimand == "ATT" else "all customers"
        text = (
            f"Weaker evidence (observational, no control group): after weighting the comparison customers to look "
            f"like the {who} (propensity score, IPW), the campaign's effect on the {word} is "
            f"{_fmt_abs(adj['value'], binary=b, currency=currency)} (95 % bootstrap CI "
            f"{_fmt_ci(adj['low'], adj['high'], binary=b, currency=currency)})"
            f", against a naive difference of {_fmt_abs(naive['value'], binary=b, currency=currency)}"
        )
        if abs(adj["value"]) < 0.5 * abs(naive["value"]):
            text += ": most of the naive gap is who was chosen, not what the campaign did. "
        else:
            text += ". "
        mx = float(self.balance["smd_after"].abs().max())
        text += (
            f"After weighting the largest covariate imbalance is |SMD| {mx:.2f}"
            + (" (balanced). " if mx <= SMD_FLAG else " - still imbalanced, so the estimate is biased. ")
        )
        text += (
            "Only measured differences are adjusted for; a randomized hold-out group in the next campaign would "
            "settle the effect."
        )
        return text

    def plot(self, ax: Any = None) -> Any:
        """Propensity distributions by group (overlap) and balance before/after weighting.

        Returns a Figure with two panels, or draws the overlap panel on ``ax`` when given.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        p = self.propensity.assign(group=np.where(self.propensity["treated"], "contacted", "comparison"))
        if ax is not None:
            sns.histplot(data=p, x="propensity", hue="group", stat="density", common_norm=False, bins=40, ax=ax)
            return ax
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 0.8 + max(3.5, 0.3 * len(self.balance))))
        sns.histplot(data=p, x="propensity", hue="group", stat="density", common_norm=False, bins=40, ax=a1,
                     element="step")  # fmt: skip
        lo, hi = self.overlap["support"]
        for v in (lo, hi):
            a1.axvline(v, ls=":", color="grey")
        a1.set_title("overlap of propensity scores")
        long = self.balance.melt(id_vars="covariate", value_vars=["smd_before", "smd_after"], var_name="when",
                                 value_name="smd")  # fmt: skip
        long["when"] = long["when"].map({"smd_before": "before weighting", "smd_after": "after weighting"})
        sns.scatterplot(data=long, x="smd", y="covariate", hue="when", ax=a2, s=45)
        for v in (-SMD_FLAG, SMD_FLAG):
            a2.axvline(v, ls="--", color="grey", lw=1)
        a2.axvline(0, color="black", lw=0.8)
        a2.set_title("covariate balance (SMD)")
        a2.set_ylabel("")
        fig.suptitle(f"Observational comparison ({self.estimand}) - weaker evidence")
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return (
            f"ObservationalResult(outcome={self.outcome!r}, estimand={self.estimand}, treated={self.n_treated:,}, "
            f"control={self.n_control:,}, estimate={self.estimate():.4g}, evidence='weaker')"
        )


def _design_for_propensity(X: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    """Standardized numeric design; non-negative skewed numeric columns also enter as log1p."""
    cols = []
    for c in X.columns:
        x = X[c].to_numpy(dtype="float64")
        cols.append(x)
        if kinds[c] == "numeric" and np.nanmin(x) >= 0 and pd.Series(x).skew() > 1:
            cols.append(np.log1p(x))
    Z = np.column_stack(cols)
    sd = Z.std(axis=0)
    keep = sd > 0
    Z = Z[:, keep]
    return (Z - Z.mean(axis=0)) / sd[keep]


def _logit_propensity(Z: np.ndarray, t: np.ndarray, *, ridge: float = 1e-4, max_iter: int = 50) -> np.ndarray:
    """Logistic regression of ``t`` on ``Z`` (plus intercept) by Newton-Raphson; fitted probabilities.

    A tiny ridge penalty on the slopes keeps the fit finite under (quasi-)separation. Newton on a
    handful of columns converges in a few steps, which keeps the bootstrap (one refit per
    resample) fast.
    """
    X = np.column_stack([np.ones(Z.shape[0]), Z])
    y = t.astype("float64")
    beta = np.zeros(X.shape[1])
    beta[0] = math.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9))
    pen = np.full(X.shape[1], ridge * X.shape[0])
    pen[0] = 0.0
    def objective(b: np.ndarray) -> float:  # penalized log-likelihood
        eta = X @ b
        return float(y @ eta - np.logaddexp(0, eta).sum() - 0.5 * (pen * b * b).sum())

    obj = objective(beta)
    for _ in range(max_iter):
        mu = 1 / (1 + np.exp(-np.clip(X @ beta, -35, 35)))
        w = mu * (1 - mu)
        grad = X.T @ (y - mu) - pen * beta
        hess = (X * w[:, None]).T @ X + np.diag(pen + 1e-10)
        step = np.linalg.solve(hess, grad)
        for _ in range(40):  # step halving: Newton on a logistic can overshoot far from the optimum
            new = objective(beta + step)
            if new >= obj - 1e-12:
                break
            step = step / 2
        beta, obj = beta + step, new
        if np.max(np.abs(step)) < 1e-8:
            break
    return 1 / (1 + np.exp(-np.clip(X @ beta, -35, 35)))


def _ipw(
    Z: np.ndarray, t: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Fit the logistic propensity and return (propensity, ATT, ATE) by Hajek-weighted means."""
    e = np.clip(_logit_propensity(Z, t), 1e-6, 1 - 1e-6)
    att, ate = _ipw_estimates(e, t, y)
    return e, att, ate


def _ipw_estimates(e: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    wc = e / (1 - e)
    att = float(y[t].mean() - (wc[~t] * y[~t]).sum() / wc[~t].sum())
    w1, w0 = 1 / e[t], 1 / (1 - e[~t])
    ate = float((w1 * y[t]).sum() / w1.sum() - (w0 * y[~t]).sum() / w0.sum())
    return att, ate


def observational_effect(
    frame: pd.DataFrame,
    *,
    treated: str,
    outcome: str,
    covariates: Sequence[str],
    estimand: Literal["ATT", "ATE"] = "ATT",
    trim: float = 0.01,
    bootstrap: int = 500,
    alpha: float = 0.05,
    random_state: int | None = None,
) -> ObservationalResult:
    """Effect of a campaign without a control group: propensity-score weighting (IPW).

    The comparison is **observational** (a :class:`StatisticalWarning` says so): contacted
    customers were chosen, e.g. for their past spend, so the naive difference mixes the
    campaign's effect with who was chosen. A logistic propensity model ``P(treated | X)``
    (Newton-Raphson, tiny ridge) is fit on the covariates (standardized; non-negative
    right-skewed numeric columns also enter as ``log1p``; categoricals one-hot), rows with
    propensity outside ``[trim, 1 - trim]`` are
    dropped (counted in ``overlap``), and

    * ATT = mean(y | treated) - weighted mean(y | comparison) with weights ``e / (1 - e)``;
    * ATE = weighted means with ``1 / e`` and ``1 / (1 - e)``;

    both as Hajek (normalised) weighted means, which equals using stabilized weights
    (``P(T) / e``, ``(1 - P(T)) / (1 - e)``). The interval is a percentile bootstrap over rows
    that refits the propensity model in every resample (``bootstrap`` resamples, seeded).
    Balance after weighting is reported as weighted SMDs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer: the contacted customers (``treated`` true) **and** the comparison
        customers (``treated`` false): customers eligible at the contact date but not contacted
        (e.g. active customers signed up before the contact). Covariates must be measured
        **before** the contact (pre-period revenue, frequency, recency, tenure, segment ...); the
        outcome over the same window for both groups (e.g. any purchase in the 14 days after the
        contact date, from orders).
    treated : str
        Boolean (or 0/1) column: contacted.
    outcome : str
        Outcome column (0/1 or numeric).
    covariates : sequence of str
        Pre-contact covariates. Blank numeric values are set to the median with an extra
        ``<col>_missing`` indicator (warned).
    estimand : {'ATT', 'ATE'}, default 'ATT'
        Headline estimate (both are computed).
    trim : float, default 0.01
        Drop rows with propensity below ``trim`` or above ``1 - trim`` (0 keeps all).
    bootstrap : int, default 500
        Resamples for the interval.
    alpha : float, default 0.05
    random_state : int, optional

    Returns
    -------
    ObservationalResult

    Raises
    ------
    AnalysisError
        Columns missing, no treated or no comparison rows, blank outcome or treatment.
    """
    if estimand not in ("ATT", "ATE"):
        raise ParamsError(f"estimand: must be 'ATT' or 'ATE', got {estimand!r}")
    if not 0 <= trim < 0.5:
        raise ParamsError(f"trim: must be in [0, 0.5), got {trim!r}")
    covariates = list(covariates)
    _require_columns(frame, [treated, outcome, *covariates], what="observational")
    if not covariates:
        raise AnalysisError("observational_effect: no covariates; the comparison needs pre-contact covariates")
    tr = frame[treated]
    if tr.isna().any():
        raise AnalysisError(f"{treated}: {int(tr.isna().sum()):,} of {len(tr):,} rows blank; every row must be 0/1")
    t_all = _as_float(tr, column=treated)
    if not _is_binary(t_all):
        raise AnalysisError(f"{treated}: must be boolean or 0/1, e.g. {format_examples(tr.head(5).tolist())}")
    t_all = t_all.astype(bool)
    n_t, n_c = int(t_all.sum()), int((~t_all).sum())
    if n_t == 0 or n_c == 0:
        raise AnalysisError(
            f"observational_effect: {n_t:,} contacted and {n_c:,} comparison rows; both groups are needed (the "
            "comparison group is the eligible customers who were not contacted)"
        )
    y_all = _as_float(frame[outcome], column=outcome)
    if np.isnan(y_all).any():
        raise AnalysisError(
            f"{outcome}: {int(np.isnan(y_all).sum()):,} of {y_all.size:,} rows blank; measure the outcome for every "
            "row (0 when nothing happened)"
        )
    warnings.warn(
        f"Observational comparison: {n_t:,} contacted customers vs {n_c:,} not contacted, without randomization. "
        "The estimate adjusts only for the covariates given and is weaker evidence than a randomized test.",
        StatisticalWarning,
        stacklevel=2,
    )
    X, kinds = _covariate_matrix(frame, covariates)
    for c in list(X.columns):
        miss = X[c].isna().to_numpy()
        if miss.any():
            warnings.warn(f"{c}: {int(miss.sum()):,} of {miss.size:,} rows blank, set to the median (with an "
                          "indicator)", DataQualityWarning, stacklevel=2)  # fmt: skip
            X[c] = X[c].fillna(X[c].median())
            X[f"{c}_missing"] = miss.astype(float)
            kinds[f"{c}_missing"] = "binary"
    Z_all = _design_for_propensity(X, kinds)
    e_all, _, _ = _ipw(Z_all, t_all, y_all)
    keep = (e_all >= trim) & (e_all <= 1 - trim) if trim > 0 else np.ones(e_all.size, bool)
    lo_sup = max(e_all[t_all].min(), e_all[~t_all].min())
    hi_sup = min(e_all[t_all].max(), e_all[~t_all].max())
    outside = (e_all < lo_sup) | (e_all > hi_sup)
    t, y, Z, Xk = t_all[keep], y_all[keep], Z_all[keep], X.loc[keep]
    if t.sum() == 0 or (~t).sum() == 0:
        raise AnalysisError(f"observational_effect: no overlap left after trimming at {trim}; lower trim")
    e, att, ate = _ipw(Z, t, y)
    wc = e / (1 - e)
    ess = float(wc[~t].sum() ** 2 / (wc[~t] ** 2).sum())
    overlap = {
        "support": (float(lo_sup), float(hi_sup)),
        "share_treated_outside": float(outside[t_all].mean()),
        "share_control_outside": float(outside[~t_all].mean()),
        "n_trimmed_treated": int((~keep & t_all).sum()),
        "n_trimmed_control": int((~keep & ~t_all).sum()),
        "trim": trim,
        "ess_control_att": ess,
    }
    if overlap["share_treated_outside"] > 0.05 or overlap["n_trimmed_treated"] > 0.05 * n_t:
        warnings.warn(
            f"Weak overlap: {pct(overlap['share_treated_outside'])} of contacted customers lie outside the comparison "
            f"group's propensity range and {overlap['n_trimmed_treated']:,} were trimmed; the estimate describes the "
            "contacted customers who have comparable non-contacted customers only.",
            StatisticalWarning,
            stacklevel=2,
        )
    if ess < 50:
        warnings.warn(f"Effective comparison sample after weighting is only {ess:.0f} customers; the estimate is "
                      "fragile.", StatisticalWarning, stacklevel=2)  # fmt: skip
    w_att = np.where(t, 1.0, wc)
    pt = t.mean()
    w_ate = np.where(t, pt / e, (1 - pt) / (1 - e))
    before = _smd_table(Xk, t, ~t)
    after = _smd_table(Xk, t, ~t, w_att if estimand == "ATT" else w_ate)
    balance = pd.DataFrame({"covariate": before["covariate"], "smd_before": before["smd"], "smd_after": after["smd"]})
    balance["imbalanced_after"] = balance["smd_after"].abs() > SMD_FLAG

    draws: list[tuple[float, float]] = []

    def stat(idx: np.ndarray) -> float:
        ti = t[idx]
        if ti.all() or not ti.any():
            draws.append((np.nan, np.nan))
            return np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, a1, a2 = _ipw(Z[idx], ti, y[idx])
        draws.append((a1, a2))
        return a1 if estimand == "ATT" else a2

    try:  # many small matrix products: BLAS threads only add overhead (and thrash on busy machines)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            bootstrap_ci(stat, t.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        bootstrap_ci(stat, t.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state)
    dr = np.asarray(draws)
    q = [alpha / 2, 1 - alpha / 2]

    def ci(col: int) -> tuple[float, float]:
        v = dr[:, col]
        v = v[np.isfinite(v)]
        return (float(np.quantile(v, q[0])), float(np.quantile(v, q[1]))) if v.size else (np.nan, np.nan)

    binary = _is_binary(y)
    if binary:
        nd = diff_proportions(y_all[t_all].sum(), n_t, y_all[~t_all].sum(), n_c, alpha=alpha)
        naive = (float(nd["diff"][0]), float(nd["low"][0]), float(nd["high"][0]), "difference of proportions (Wald)")
    else:
        w = _welch(y_all[t_all], y_all[~t_all], alpha)
        naive = (w["diff"], w["low"], w["high"], "difference of means (Welch)")
    est = pd.DataFrame(
        [
            ("naive difference", *naive, "no adjustment - biased by selection"),
            ("IPW ATT", att, *ci(0), f"IPW, weights e/(1-e), bootstrap {bootstrap}", "weaker evidence"),
            ("IPW ATE", ate, *ci(1), f"IPW, stabilized weights, bootstrap {bootstrap}", "weaker evidence"),
        ],
        columns=["estimate", "value", "low", "high", "method", "evidence"],
    )
    prop = pd.DataFrame(
        {"treated": t, "propensity": e, "weight_att": w_att, "weight_ate": w_ate}, index=frame.index[keep]
    )
    return ObservationalResult(est, balance, prop, overlap, outcome, estimand, int(t.sum()), int((~t).sum()),
                               random_state, bootstrap, binary)  # fmt: skip
