"""CUPED: the arm differences of one campaign with the variance a pre-period covariate explains
taken out (:func:`cuped`)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.experiments._common import (
    TABLE,
    arm_labels,
    as_float,
    campaign_name,
    check_one_campaign,
    fmt_abs,
    fmt_ci,
    is_binary,
    metric_arrays,
    metric_word,
    require_columns,
)
from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import welch

__all__ = ["CupedResult", "cuped"]


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

    def finding(self) -> str:
        """How much sharper the estimate got, from the numbers."""
        word = metric_word(self.metric)
        b = self.binary
        out = [i18n.t("campaign.cuped.finding", metric=word, covariate=self.covariate, rho=f"{self.rho:.2f}",
                      reduction=pct(self.variance_reduction))]  # fmt: skip
        for r in self.table.itertuples():
            out.append(i18n.t("campaign.cuped.arm", arm=r.arm, cuped=fmt_abs(r.diff_cuped, binary=b),
                              cuped_ci=fmt_ci(r.cuped_low, r.cuped_high, binary=b), diff=fmt_abs(r.diff, binary=b),
                              diff_ci=fmt_ci(r.diff_low, r.diff_high, binary=b),
                              narrower=pct(1 - r.ci_width_ratio)))  # fmt: skip
        if self.variance_reduction < 0.05:
            out.append(i18n.t("campaign.cuped.weak", covariate=self.covariate, metric=word))
        return " ".join(out)

    def plot(self, ax: Any = None) -> Any:
        """Unadjusted vs CUPED interval per arm."""
        import seaborn as sns

        t = self.table
        long = pd.concat(
            [
                pd.DataFrame({"arm": t["arm"], "estimate": i18n.t("campaign.cuped.unadjusted"), "diff": t["diff"], "low": t["diff_low"],
                              "high": t["diff_high"]}),
                pd.DataFrame({"arm": t["arm"], "estimate": "CUPED", "diff": t["diff_cuped"], "low": t["cuped_low"],
                              "high": t["cuped_high"]}),
            ],
            ignore_index=True,
        )  # fmt: skip
        long["y"] = np.r_[np.arange(len(t)) - 0.12, np.arange(len(t)) + 0.12]
        ax = new_axes(ax, figsize=(6.5, 1.2 + 0.6 * len(t)))
        sns.scatterplot(data=long, x="diff", y="y", hue="estimate", ax=ax, s=50, zorder=3)
        ax.errorbar(long["diff"], long["y"], xerr=error_bar_lengths(long["diff"], long["low"], long["high"]),
                    fmt="none", ecolor="grey", capsize=3)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(np.arange(len(t)))
        ax.set_yticklabels(t["arm"].tolist())
        ax.set_ylabel("")
        ax.set_xlabel(i18n.t("campaign.cuped.axis", metric=metric_word(self.metric), control=self.control))
        ax.set_title(i18n.t("campaign.cuped.title", campaign=self.campaign, covariate=self.covariate,
                            reduction=pct(self.variance_reduction)))  # fmt: skip
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
        Control arm.
    metric : str
        Outcome column.
    covariate : str
        Pre-period column; blank values are
        set to the covariate mean (those rows are not adjusted) with a warning.
    arm : str, default 'arm'
    alpha : float, default 0.05

    Returns
    -------
    CupedResult

    Raises
    ------
    AnalysisError
        Columns missing, no control arm, a metric or covariate blank on every row, a constant
        covariate.
    """
    check_one_campaign(contacts)
    labels, arms = arm_labels(contacts, arm, control)
    require_columns(contacts, [metric], what="metric", option="metric")
    require_columns(contacts, [covariate], what="CUPED covariate", option="covariate")
    campaign = campaign_name(contacts)
    if not contacts[metric].notna().any():
        raise AnalysisError(
            f"{TABLE}.{metric} of {campaign}: all {len(contacts):,} rows blank (the metric is not tracked), so "
            f"there is nothing to adjust; pass a tracked metric= (the covariate {covariate!r} is not the problem)"
        )
    y, ok = metric_arrays(contacts, metric, labels)
    x = as_float(contacts[covariate], column=covariate)
    lab = labels.to_numpy()[ok]
    y, x = y[ok], x[ok]
    miss = np.isnan(x)
    n_imp = int(miss.sum())
    if n_imp == x.size:
        raise AnalysisError(
            f"{TABLE}.{covariate} of {campaign}: all {x.size:,} rows with a {metric!r} value are blank; "
            "pass another covariate="
        )
    if n_imp:
        warnings.warn(
            i18n.t("campaign.warn.blank_cuped", table=TABLE, covariate=covariate, n=f"{n_imp:,}", total=f"{x.size:,}"),
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
            f"{TABLE}.{covariate}: constant within arms, CUPED cannot use it; pass covariate= "
            "a pre-period column that varies between customers"
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
        u = welch(y[t], y[c], alpha=alpha)
        v = welch(y_adj[t], y_adj[c], alpha=alpha)
        rows.append(
            {
                "arm": a, "n": int(t.sum()), "control_n": int(c.sum()), "diff": u["diff"], "diff_low": u["low"],
                "diff_high": u["high"], "p_value": u["p_value"], "diff_cuped": v["diff"], "cuped_low": v["low"],
                "cuped_high": v["high"], "p_cuped": v["p_value"],
                "ci_width_ratio": (v["high"] - v["low"]) / (u["high"] - u["low"]) if u["high"] > u["low"] else np.nan,
            }
        )  # fmt: skip
    table = pd.DataFrame(rows)
    return CupedResult(table, metric, covariate, control, campaign, theta, rho, vr, n_imp, is_binary(y))
