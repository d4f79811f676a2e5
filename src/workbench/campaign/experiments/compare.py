"""Every metric, every arm against control: differences with intervals, relative lifts, tests
and Holm's correction (:func:`compare_arms`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.experiments._common import (
    TABLE,
    arm_labels,
    campaign_name,
    check_one_campaign,
    diff_proportions,
    fmt_abs,
    fmt_ci,
    fmt_level,
    is_binary,
    metric_arrays,
    metric_word,
    sentence,
    welch_lift,
)
from workbench.core.errors import AnalysisError, StatisticalWarning, format_examples
from workbench.report import i18n
from workbench.report.fmt import num
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm

__all__ = ["ArmComparison", "compare_arms"]

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
        """Headline, one row per metric and arm: ``metric`` (its business name), ``arm``, the
        control and arm means, the difference with its 95 % CI and the Holm p-value."""
        cols = ["metric", "arm", "control_mean", "arm_mean", "diff", "diff_low", "diff_high", "p_holm"]
        return self.table[cols].assign(metric=self.table["metric"].map(metric_word))

    def to_frame(self) -> pd.DataFrame:
        """The full comparison table (see ``table``; metric codes)."""
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

    def finding(self) -> str:
        """One sentence per metric and arm, in business words."""
        out = []
        for r in self.table.itertuples():
            b = self.binary.get(r.metric, False)
            verb = "raised" if r.diff > 0 else "lowered" if r.diff < 0 else "unchanged"
            rel = t("campaign.compare.relative", rel=f"{r.rel_lift:+.0%}") if np.isfinite(r.rel_lift) else ""
            sig = t("campaign.compare.significant" if r.significant else "campaign.compare.not_significant")
            out.append(sentence(t(f"campaign.compare.{verb}", arm=r.arm, metric=metric_word(r.metric),
                         diff=fmt_abs(abs(r.diff), binary=b), ci=fmt_ci(r.diff_low, r.diff_high, binary=b),
                         arm_level=fmt_level(r.arm_mean, binary=b), control_level=fmt_level(r.control_mean, binary=b),
                         control=self.control, relative=rel, significance=sig)))  # fmt: skip
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
            ax = new_axes(ax, figsize=(6.5, 0.8 + 0.45 * len(t)))
            self._panel(ax, t.assign(label=t["metric"].map(metric_word) + " · " + t["arm"]), "rel_lift", "rel_low",
                        "rel_high")  # fmt: skip
            ax.set_xlabel(i18n.t("campaign.compare.axis_relative", control=self.control))
            return ax
        metrics = t["metric"].unique().tolist()
        if len(metrics) == 1 or ax is not None:
            ax = new_axes(ax, figsize=(6.5, 1 + 0.5 * len(t)))
            self._panel(ax, t.assign(label=t["arm"]), "diff", "diff_low", "diff_high")
            ax.set_title(f"{self.campaign}: {metric_word(metrics[0])}" if len(metrics) == 1 else self.campaign)
            return ax
        fig, axes = plt.subplots(len(metrics), 1, figsize=(6.5, 1.6 * len(metrics) + 0.4 * len(t)), squeeze=False)
        for a, m in zip(axes[:, 0], metrics, strict=True):
            sub = t.loc[t["metric"] == m]
            self._panel(a, sub.assign(label=sub["arm"]), "diff", "diff_low", "diff_high")
            a.set_title(metric_word(m))
        fig.suptitle(i18n.t("campaign.compare.title", campaign=self.campaign, control=self.control))
        fig.tight_layout()
        return fig

    @staticmethod
    def _panel(ax: Any, t: pd.DataFrame, col: str, lo: str, hi: str) -> None:
        import seaborn as sns

        y = np.arange(len(t))
        yes, no = i18n.t("campaign.compare.legend_significant"), i18n.t("campaign.compare.legend_not_significant")
        hue = t["significant"].map({True: yes, False: no}).to_numpy()
        sns.scatterplot(x=t[col].to_numpy(), y=y, hue=hue, palette={yes: "#C44E52", no: "#4C72B0"},
                        ax=ax, s=50, zorder=3)  # fmt: skip
        ax.errorbar(t[col], y, xerr=error_bar_lengths(t[col], t[lo], t[hi]), fmt="none", ecolor="grey", capsize=3)
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
        Control arm.
    metrics : sequence of str, optional
        Outcome columns; missing ones are skipped.
        Default ``visited``, ``converted``, ``revenue``.
    arm : str, default 'arm'
    revenue_method : {'welch', 'bootstrap', 'mann_whitney'}, default 'welch'
        Test of the non-binary metrics.
    bootstrap : int, default 2000
        Resamples for ``revenue_method='bootstrap'``.
    alpha : float, default 0.05
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    ArmComparison

    Raises
    ------
    AnalysisError
        No control arm / one arm only (names the arms found and ``control``),
        no metric column present, a metric column that is not numeric.
    """
    check_one_campaign(contacts)
    labels, arms = arm_labels(contacts, arm, control)
    campaign = campaign_name(contacts)
    wanted = list(metrics) if metrics is not None else ["visited", "converted", "revenue"]
    present = [m for m in wanted if m in contacts.columns]
    skipped = tuple(m for m in wanted if m not in contacts.columns)
    if not present:
        raise AnalysisError(
            f"{TABLE}: none of the metric columns {format_examples(wanted)} is present "
            f"(columns: {format_examples(list(contacts.columns), limit=12)}); change metrics="
        )
    lab = labels.to_numpy()
    rows: list[dict[str, Any]] = []
    binary: dict[str, bool] = {}
    for metric in present:
        y, ok = metric_arrays(contacts, metric, labels)
        binary[metric] = is_binary(y)
        y0 = y[ok & (lab == control)]
        for a in arms[1:]:
            y1 = y[ok & (lab == a)]
            row: dict[str, Any] = {"metric": metric, "arm": a, "n": int(y1.size), "control_n": int(y0.size)}
            where = t("campaign.warn.where", campaign=campaign, arm=repr(a), metric=repr(metric))
            if y1.size == 0 or y0.size == 0:
                empty = a if y1.size == 0 else control
                warnings.warn(
                    t("campaign.warn.no_values",
                      where=t("campaign.warn.where", campaign=campaign, arm=repr(empty), metric=repr(metric))),
                    StatisticalWarning,
                    stacklevel=2,
                )
                rows.append({**row, "test": "none (no data)", "ci_method": "", "p_value": np.nan})
            elif binary[metric]:
                rows.append({**row, **_binary_row(y1, y0, alpha=alpha, names=(a, control), where=where)})
            else:
                opts = {"method": revenue_method, "bootstrap": bootstrap, "alpha": alpha, "random_state": random_state}
                rows.append({**row, **_amount_row(y1, y0, **opts)})
    table = pd.DataFrame(rows).reindex(columns=_COMPARE_COLUMNS)
    table["p_holm"] = holm(table["p_value"].to_numpy(dtype="float64"))
    table["significant"] = (table["p_holm"] < alpha).fillna(False).astype(bool)
    return ArmComparison(table, control, campaign, alpha, binary, skipped, random_state)


def _binary_row(
    y1: np.ndarray, y0: np.ndarray, *, alpha: float, names: tuple[str, str], where: str
) -> dict[str, Any]:
    """Difference of proportions of one arm against control (Newcombe / Fisher with a zero count)."""
    r = diff_proportions(y1.sum(), y1.size, y0.sum(), y0.size, alpha=alpha)
    zero = bool(r["zero"][0])
    if zero:
        which = [
            t("campaign.warn.zero_successes" if k == 0 else "campaign.warn.only_successes", name=name)
            for name, k, n in ((names[0], y1.sum(), y1.size), (names[1], y0.sum(), y0.size))
            if k == 0 or k == n
        ]
        warnings.warn(
            t("campaign.warn.newcombe", where=where, which=t("campaign.warn.sep").join(which)),
            StatisticalWarning,
            stacklevel=3,
        )
    return dict(
        control_mean=float(r["p0"][0]), arm_mean=float(r["p1"][0]), diff=float(r["diff"][0]),
        diff_low=float(r["low"][0]), diff_high=float(r["high"][0]), rel_lift=float(r["rel"][0]),
        rel_low=float(r["rel_low"][0]), rel_high=float(r["rel_high"][0]), p_value=float(r["p_value"][0]),
        test="Fisher exact" if zero else "two-proportion z",
        ci_method="Newcombe hybrid score (Wilson)" if zero else "Wald (unpooled)",
    )  # fmt: skip


def _amount_row(
    y1: np.ndarray, y0: np.ndarray, *, method: str, bootstrap: int, alpha: float, random_state: int | None
) -> dict[str, Any]:
    """Difference of means of one arm against control: Welch, with the Mann-Whitney test or a
    percentile bootstrap interval instead when ``method`` says so."""
    w = welch_lift(y1, y0, alpha)
    row = dict(
        control_mean=w["m0"], arm_mean=w["m1"], diff=w["diff"], diff_low=w["low"],
        diff_high=w["high"], rel_lift=w["rel"], rel_low=w["rel_low"], rel_high=w["rel_high"],
        p_value=w["p_value"], test="Welch t", ci_method="Welch t",
    )  # fmt: skip
    if method == "mann_whitney":
        row["p_value"] = float(sps.mannwhitneyu(y1, y0, alternative="two-sided").pvalue)
        row["test"] = "Mann-Whitney U"
    elif method == "bootstrap":
        row.update(_bootstrap_diff(y1, y0, w["diff"], bootstrap=bootstrap, alpha=alpha, random_state=random_state))
    return row


def _bootstrap_diff(
    y1: np.ndarray, y0: np.ndarray, diff: float, *, bootstrap: int, alpha: float, random_state: int | None
) -> dict[str, Any]:
    """Percentile bootstrap interval of a difference of means (rows resampled) and the p-value
    from the centred bootstrap distribution."""
    yy = np.concatenate([y1, y0])
    tt = np.r_[np.ones(y1.size, bool), np.zeros(y0.size, bool)]

    def stat(idx: np.ndarray) -> float:
        ti = tt[idx]
        yi = yy[idx]
        n1 = ti.sum()
        if n1 == 0 or n1 == ti.size:
            return np.nan
        return float(yi[ti].mean() - yi[~ti].mean())

    lo, hi, draws = bootstrap_ci(stat, yy.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state)
    d = draws[np.isfinite(draws)]
    centred = d - d.mean()
    return dict(
        diff_low=lo, diff_high=hi, test=f"bootstrap ({bootstrap} resamples)", ci_method="percentile bootstrap",
        p_value=float(max((np.abs(centred) >= abs(diff)).mean(), 1 / (d.size + 1))),
    )  # fmt: skip
