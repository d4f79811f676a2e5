"""Sample-ratio mismatch: does the arm split of one campaign match the planned split?"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.experiments._common import (
    TABLE,
    arm_labels,
    campaign_name,
    check_one_campaign,
)
from workbench.core.errors import AnalysisError, StatisticalWarning, did_you_mean, format_examples
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["SRMResult", "srm_test", "srm_pvalues"]


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
        Level below which a mismatch is declared.
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
        parts = i18n.t("campaign.srm.sep").join(
            i18n.t("campaign.srm.arm", arm=r.arm, n=f"{int(r.n):,}", share=pct(r.share), planned=pct(r.planned_share))
            for r in t.itertuples()
        )
        if self.mismatch:
            worst = t.iloc[int(np.argmax(np.abs(t["deviation"].to_numpy())))]
            return i18n.t("campaign.srm.mismatch", campaign=self.campaign, arms=parts, p=f"{self.p_value:.2g}",
                          alpha=f"{self.alpha:g}", arm=worst["arm"], off=f"{int(worst['deviation']):+,}")
        return i18n.t("campaign.srm.ok", campaign=self.campaign, source=i18n.category("plan_source", self.planned_source),
                      arms=parts, p=f"{self.p_value:.2g}")

    def plot(self, ax: Any = None) -> Any:
        """Observed share per arm with Wilson 95 % interval; planned share as a marker line."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(5.5, 3.5))
        t = self.table
        sns.barplot(data=t, x="arm", y="share", ax=ax, color="#4C72B0", alpha=0.8)
        x = np.arange(len(t))
        ax.errorbar(x, t["share"], yerr=error_bar_lengths(t["share"], t["share_low"], t["share_high"]),
                    fmt="none", ecolor="black", capsize=4)  # fmt: skip
        ax.scatter(x, t["planned_share"], marker="_", s=900, color="crimson", zorder=5,
                   label=i18n.t("campaign.srm.legend_planned"))  # fmt: skip
        ax.set_ylabel(i18n.t("campaign.srm.axis"))
        ax.set_xlabel(i18n.label("arm"))
        ax.set_title(i18n.t("campaign.srm.title", campaign=self.campaign, p=f"{self.p_value:.2g}"))
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
    bad = {k: v for k, v in plan.items() if not isinstance(v, (int, float)) or v < 0}
    if bad or sum(plan.values()) <= 0:
        raise AnalysisError(
            f"planned_split for {campaign}: shares must be non-negative numbers with a positive sum, got {dict(plan)!r}"
        )
    unknown = [a for a in arms if a not in plan]
    if unknown:
        raise AnalysisError(
            f"planned_split for {campaign}: arm(s) {format_examples(unknown)} of {TABLE} have no planned share; "
            f"planned arms: {format_examples(list(plan))}{did_you_mean(unknown[0], plan)}"
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
        ``{arm: share}`` or ``{campaign_id: {arm: share}}``; shares are normalised. Default: equal
        shares (also when the campaign is not listed). Planned arms absent from the data count 0.
    arm : str, default 'arm'
        Arm column.
    alpha : float, default 0.001
        Test level.

    Returns
    -------
    SRMResult

    Raises
    ------
    AnalysisError
        No arm column, missing arms, or several campaigns in ``contacts``.
        An arm in the data has no planned share, or the planned shares are not a split.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["control"] * 500 + ["treatment"] * 500})
    >>> srm_test(df).mismatch
    False
    """
    check_one_campaign(contacts)
    labels, found = arm_labels(contacts, arm, None)
    if not found:
        raise AnalysisError(f"{TABLE}: no rows to test for a sample-ratio mismatch")
    campaign = campaign_name(contacts)
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
            i18n.t("campaign.warn.srm") + " " + res.finding(),
            StatisticalWarning,
            stacklevel=2,
        )
    if np.isfinite(ratio) and ratio > 5:
        small = table.loc[table["n"] > 0].sort_values("n").iloc[0]
        warnings.warn(
            i18n.t("campaign.warn.srm_sizes", campaign=campaign, ratio=f"{ratio:.1f}", arm=repr(small["arm"]),
                   n=f"{int(small['n']):,}"),
            StatisticalWarning,
            stacklevel=2,
        )
    return res
