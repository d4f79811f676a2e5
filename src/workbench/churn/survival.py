"""Survival analysis of customer lifetimes: when do customers leave, and what changes the hazard.

Three views on one per-customer table with a duration (months) and an event flag (1 = left,
0 = still a customer, i.e. censored), as built by :func:`workbench.churn.frame.churn_frame`:

- :func:`kaplan_meier`: survival curves with pointwise confidence bands (statsmodels
  ``SurvfuncRight``, Greenwood variance, log-log transformed band), median lifetime with its
  interval, and the log-rank test between groups (``survdiff``).
- :func:`hazard_by_tenure`: an actuarial life table; the share of customers at risk at the start
  of each tenure interval who leave during it, with a Wilson interval, and the peak window.
- :func:`cox_model`: Cox proportional hazards (statsmodels ``PHReg``, Efron ties): hazard ratios
  with confidence intervals, and a check of the proportional-hazards assumption (correlation of
  Schoenfeld residuals with the rank of event time per covariate, Holm-adjusted).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import holm, wilson_interval

__all__ = [
    "KaplanMeierResult",
    "HazardResult",
    "CoxResult",
    "kaplan_meier",
    "hazard_by_tenure",
    "cox_model",
    "survival_inputs",
    "hazard_ratio_check",
    "collinear_terms",
    "hazard_ratio_check_finding",
    "GENERATOR_ALIASES",
    "OTHER_LEVEL",
]

#: Label of the lumped rare levels of a grouping column.
OTHER_LEVEL = "(other)"
_MISSING = "(missing)"


# ============================================================================================
# Input checks shared by the three analyses
# ============================================================================================


def survival_inputs(
    table: pd.DataFrame, *, duration: str = "duration_months", event: str = "event", table_name: str = "churn frame"
) -> tuple[np.ndarray, np.ndarray]:
    """Validated duration and event arrays of a per-customer table.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer.
    duration, event : str
        Column names: duration (non-negative number) and event (0/1 or boolean).

    Returns
    -------
    (duration, event) : tuple of numpy.ndarray
        ``float64`` durations and ``int64`` events, rows with a missing value dropped.

    Raises
    ------
    AnalysisError
        A column is missing, durations are negative, events are not 0/1, or no row is left.
    """
    for col in (duration, event):
        if col not in table.columns:
            raise AnalysisError(
                f"{table_name}: column {col!r} not found (columns: {', '.join(map(str, table.columns[:12]))}); "
                "survival needs a duration and an event column (see analyses.churn.label.tenure_column)"
            )
    d = pd.to_numeric(table[duration], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    e_raw = table[event]
    e = pd.to_numeric(e_raw.astype("float64") if e_raw.dtype == bool else e_raw, errors="coerce")
    e = e.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isin(e[~np.isnan(e)], (0.0, 1.0))
    if bad.any():
        ex = pd.Series(e_raw[~np.isnan(e)][bad]).head(5).tolist()
        raise AnalysisError(f"{table_name}.{event}: {int(bad.sum()):,} rows are not 0/1, e.g. {ex}")
    neg = d < 0
    if neg.any():
        raise AnalysisError(
            f"{table_name}.{duration}: {int(neg.sum()):,} rows have a negative duration, e.g. "
            f"{d[neg][:5].tolist()}; check the sign-up and end dates (analyses.churn.label)"
        )
    ok = ~(np.isnan(d) | np.isnan(e))
    if not ok.any():
        raise AnalysisError(f"{table_name}: no row has both {duration!r} and {event!r}")
    return d[ok], e[ok].astype("int64")


def _group_labels(values: pd.Series, *, column: str, max_levels: int) -> tuple[pd.Series, list[str]]:
    """Text labels of a grouping column; beyond ``max_levels`` the smallest levels are lumped."""
    notes: list[str] = []
    s = values.astype("string").fillna(_MISSING).astype(str)
    counts = s.value_counts()
    if len(counts) > max_levels:
        keep = counts.index[: max_levels - 1]
        warnings.warn(
            f"column {column!r} has {len(counts):,} levels; kept the {max_levels - 1} largest and lumped the rest "
            f"({int(counts.iloc[max_levels - 1:].sum()):,} customers) into {OTHER_LEVEL!r}; "
            "raise analyses.churn.max_levels or group the column first",
            StatisticalWarning,
            stacklevel=3,
        )
        notes.append(f"{column}: {len(counts):,} levels, smallest lumped into {OTHER_LEVEL}")
        s = s.where(s.isin(keep), OTHER_LEVEL)
    return s, notes


# ============================================================================================
# Kaplan-Meier
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class KaplanMeierResult(Result):
    """Kaplan-Meier survival curves (see :func:`kaplan_meier`).

    Attributes
    ----------
    curves : pandas.DataFrame
        One row per group and event time: ``group``, ``time``, ``at_risk``, ``events``,
        ``survival``, ``lower``, ``upper`` (pointwise band); each group starts at time 0 with 1.
    medians : pandas.DataFrame
        One row per group: ``group``, ``customers``, ``events``, ``median``, ``median_lower``,
        ``median_upper`` (NaN when the curve never falls to 0.5 or the bound is not reached),
        ``survival_12``, ``survival_12_lower``, ``survival_12_upper`` (at ``horizon``).
    logrank : dict or None
        ``test``, ``statistic``, ``df``, ``p`` between groups (None with one group).
    group : str or None
    confidence : float
    horizon : float
        Months at which survival is reported in ``medians``.
    time_unit : str
    notes : list of str
    """

    curves: pd.DataFrame
    medians: pd.DataFrame
    logrank: dict[str, Any] | None
    group: str | None
    confidence: float
    horizon: float = 12.0
    time_unit: str = "months"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Per group: customers, events, median lifetime with interval, survival at ``horizon``."""
        return self.medians.copy()

    def to_frame(self) -> pd.DataFrame:
        """The curves (one row per group and event time)."""
        return self.curves.copy()

    def survival_at(self, t: float) -> pd.DataFrame:
        """Survival (with band) of each group at time ``t``: ``group``, ``survival``, ``lower``, ``upper``."""
        c = self.curves[self.curves["time"] <= t]
        return c.groupby("group", sort=False).tail(1)[["group", "survival", "lower", "upper"]].reset_index(drop=True)

    def metrics(self) -> dict[str, Any]:
        """Medians, survival at the horizon and the log-rank test (JSON-able)."""
        return {
            "group": self.group,
            "horizon": num(self.horizon),
            "groups": {
                str(r.group): {
                    "customers": int(r.customers),
                    "events": int(r.events),
                    "median": num(r.median),
                    "median_lower": num(r.median_lower),
                    "median_upper": num(r.median_upper),
                    "survival_at_horizon": num(r.survival_h),
                }
                for r in self.medians.rename(columns={f"survival_{self._h}": "survival_h"}).itertuples()
            },
            "logrank": None if self.logrank is None else {k: (num(v) if k != "test" else v) for k, v in self.logrank.items()},
        }

    @property
    def _h(self) -> str:
        return f"{self.horizon:g}"

    def finding(self) -> str:
        """How long customers stay and whether groups differ, from the numbers."""
        m = self.medians
        h = self._h
        u = self.time_unit
        parts = []
        if self.group is None or len(m) == 1:
            r = m.iloc[0]
            parts.append(self._median_text(r))
            parts.append(f"{pct(r[f'survival_{h}'])} are still customers after {h} {u}.")
        else:
            s = m.sort_values(f"survival_{h}")
            worst, best = s.iloc[0], s.iloc[-1]
            parts.append(
                f"By {self.group}: after {h} {u}, {pct(worst[f'survival_{h}'])} of {worst.group!r} customers remain "
                f"vs {pct(best[f'survival_{h}'])} of {best.group!r}."
            )
            parts.append(self._median_text(worst, label=repr(worst.group)))
            if self.logrank is not None:
                p = self.logrank["p"]
                verdict = "differ" if p < 1 - self.confidence else "do not differ detectably"
                parts.append(
                    f"The curves {verdict} (log-rank test, chi-square {self.logrank['statistic']:.1f} on "
                    f"{self.logrank['df']} df, p = {p:.2g})."
                )
        parts.extend(self.notes)
        return " ".join(parts)

    def _median_text(self, r: Any, label: str = "customers") -> str:
        u = self.time_unit
        if pd.isna(r["median"]):
            return f"Fewer than half of {label} have left yet, so their median lifetime is beyond the data."
        lo = "?" if pd.isna(r["median_lower"]) else f"{r['median_lower']:.1f}"
        hi = "beyond the data" if pd.isna(r["median_upper"]) else f"{r['median_upper']:.1f}"
        return f"Half of {label} have left by {r['median']:.1f} {u} ({self.confidence:.0%} CI {lo} to {hi})."

    def plot(self, ax: Any = None) -> Any:
        """Step survival curves with shaded confidence bands.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4.5))
        groups = list(self.medians["group"])
        palette = sns.color_palette(n_colors=max(len(groups), 1))
        for color, g in zip(palette, groups, strict=False):
            c = self.curves[self.curves["group"] == g]
            sns.lineplot(
                x=c["time"].to_numpy(), y=c["survival"].to_numpy(), drawstyle="steps-post", ax=ax,
                color=color, label=str(g), errorbar=None,
            )  # fmt: skip
            ax.fill_between(c["time"], c["lower"], c["upper"], step="post", color=color, alpha=0.15, lw=0)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"tenure ({self.time_unit})")
        ax.set_ylabel("share still a customer")
        title = "Kaplan-Meier survival" + (f" by {self.group}" if self.group else "")
        if self.logrank is not None:
            title += f" (log-rank p = {self.logrank['p']:.2g})"
        ax.set_title(title)
        if self.group is None and ax.get_legend() is not None:
            ax.get_legend().remove()
        return ax

    def __repr__(self) -> str:
        n = int(self.medians["customers"].sum())
        return f"KaplanMeierResult(group={self.group!r}, groups={len(self.medians)}, customers={n:,})"


def _km_one(time: np.ndarray, status: np.ndarray, *, confidence: float, horizon: float) -> tuple[pd.DataFrame, dict]:
    from scipy.stats import norm
    from statsmodels.duration.survfunc import SurvfuncRight

    alpha = 1 - confidence
    z = norm.ppf(1 - alpha / 2)
    sf = SurvfuncRight(time, status)
    s = np.asarray(sf.surv_prob, dtype="float64")
    se = np.asarray(sf.surv_prob_se, dtype="float64")
    # log(-log S) band (Kalbfleisch-Prentice), the default of most survival packages
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = np.log(-np.log(s))
        se_ll = se / (s * np.abs(np.log(s)))
        lower = np.exp(-np.exp(ll + z * se_ll))
        upper = np.exp(-np.exp(ll - z * se_ll))
    edge = (s >= 1) | (s <= 0) | ~np.isfinite(se_ll)
    lower = np.where(edge, s, lower)
    upper = np.where(edge, s, upper)
    curve = pd.DataFrame(
        {
            "time": np.r_[0.0, sf.surv_times],
            "at_risk": np.r_[len(time), sf.n_risk],
            "events": np.r_[0, sf.n_events],
            "survival": np.r_[1.0, s],
            "lower": np.r_[1.0, lower],
            "upper": np.r_[1.0, upper],
        }
    )
    med = med_lo = med_hi = np.nan
    if (s <= 0.5).any():
        med = float(sf.quantile(0.5))
    if status.sum() > 0:
        try:
            lo, hi = sf.quantile_ci(0.5, alpha=alpha)
            med_lo, med_hi = float(lo), float(hi)
        except (ValueError, IndexError, ZeroDivisionError):  # pragma: no cover - statsmodels edge cases
            pass
    at = curve[curve["time"] <= horizon].iloc[-1]
    if time.max() < horizon:  # nobody followed that long: survival unknown there
        at = pd.Series({"survival": np.nan, "lower": np.nan, "upper": np.nan})
    row = {
        "customers": int(len(time)),
        "events": int(status.sum()),
        "median": med,
        "median_lower": med_lo,
        "median_upper": med_hi,
        "survival_h": float(at["survival"]),
        "survival_h_lower": float(at["lower"]),
        "survival_h_upper": float(at["upper"]),
    }
    return curve, row


def kaplan_meier(
    table: pd.DataFrame,
    *,
    duration: str = "duration_months",
    event: str = "event",
    group: str | None = None,
    confidence: float = 0.95,
    horizon: float = 12.0,
    max_levels: int = 30,
    min_group_size: int = 1,
    time_unit: str = "months",
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves, median lifetimes and the log-rank test.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer (e.g. ``ChurnFrame.table``).
    duration, event : str
        Duration column (months) and event column (1 = left, 0 = censored).
    group : str, optional
        Curves per level of this column (``analyses.churn.survival_group``); missing values form
        their own level ``(missing)``.
    confidence : float, default 0.95
        Level of the pointwise bands and the median intervals.
    horizon : float, default 12
        Survival at this duration is reported per group.
    max_levels : int, default 30
        Beyond this many levels the smallest are lumped into ``(other)`` with a warning
        (``analyses.churn.max_levels``).
    min_group_size : int, default 1
        Levels with fewer customers are lumped into ``(other)``.

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    AnalysisError
        Missing columns, negative durations, non-0/1 events, or a group column that is absent.

    Examples
    --------
    >>> t = pd.DataFrame({"duration_months": [1, 2, 3, 4], "event": [1, 0, 1, 1]})
    >>> kaplan_meier(t).curves["survival"].round(3).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must be between 0 and 1, got {confidence!r}")
    if group is not None and group not in table.columns:
        raise AnalysisError(
            f"churn frame: grouping column {group!r} not found; set analyses.churn.survival_group to one of "
            f"{', '.join(map(str, table.columns[:15]))}"
        )
    cols = [duration, event] + ([group] if group else [])
    t = table[cols]
    d, e = survival_inputs(t, duration=duration, event=event)
    ok = pd.to_numeric(t[duration], errors="coerce").notna() & pd.to_numeric(
        t[event].astype("float64") if t[event].dtype == bool else t[event], errors="coerce"
    ).notna()
    notes: list[str] = []
    if int((~ok).sum()):
        notes.append(f"{int((~ok).sum()):,} customers without a duration or event were left out.")
    if group is None:
        labels = pd.Series(["all"] * len(d))
    else:
        labels, extra = _group_labels(t.loc[ok.to_numpy(), group].reset_index(drop=True), column=group, max_levels=max_levels)
        notes += extra
        if min_group_size > 1:
            vc = labels.value_counts()
            small = vc.index[vc < min_group_size]
            if len(small):
                labels = labels.where(~labels.isin(small), OTHER_LEVEL)
    curves, rows = [], []
    order = labels.value_counts().index.tolist()
    lab = labels.to_numpy()
    for g in order:
        m = lab == g
        c, r = _km_one(d[m], e[m], confidence=confidence, horizon=horizon)
        c.insert(0, "group", g)
        curves.append(c)
        rows.append({"group": g, **r})
    med = pd.DataFrame(rows)
    h = f"{horizon:g}"
    med = med.rename(
        columns={"survival_h": f"survival_{h}", "survival_h_lower": f"survival_{h}_lower", "survival_h_upper": f"survival_{h}_upper"}
    )
    logrank = None
    if len(order) > 1:
        from statsmodels.duration.survfunc import survdiff

        codes = pd.Categorical(lab, categories=order).codes
        if e.sum() > 0:
            stat, p = survdiff(d, e, codes)
            logrank = {"test": "log-rank", "statistic": float(stat), "df": len(order) - 1, "p": float(p)}
    return KaplanMeierResult(
        curves=pd.concat(curves, ignore_index=True),
        medians=med,
        logrank=logrank,
        group=group,
        confidence=confidence,
        horizon=float(horizon),
        time_unit=time_unit,
        notes=notes,
    )


# ============================================================================================
# Life-table hazard
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class HazardResult(Result):
    """Interval hazard over tenure (see :func:`hazard_by_tenure`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tenure interval: ``start``, ``end``, ``entering``, ``events``, ``censored``,
        ``at_risk`` (actuarial: entering minus half the censored), ``hazard`` (share of those at
        risk who leave in the interval), ``lower``, ``upper`` (Wilson), ``hazard_per_month``,
        ``survival`` (at the interval end).
    width : float
        Interval width in months.
    peak : dict
        The interval with the highest hazard among those with at least ``min_at_risk`` at risk:
        ``start``, ``end``, ``hazard``, ``lower``, ``upper``.
    overall_rate : float
        Events per customer-month over the whole follow-up.
    confidence : float
    min_at_risk : int
    """

    table: pd.DataFrame
    width: float
    peak: dict[str, Any]
    overall_rate: float
    confidence: float
    min_at_risk: int
    time_unit: str = "months"

    def summary(self) -> pd.DataFrame:
        """The life table (one row per tenure interval)."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The life table."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Peak window, overall rate and the interval hazards (JSON-able)."""
        return {
            "width_months": num(self.width),
            "overall_rate_per_month": num(self.overall_rate),
            "peak": {k: num(v) for k, v in self.peak.items()},
            "intervals": [
                {"start": num(r.start), "end": num(r.end), "hazard": num(r.hazard), "at_risk": num(r.at_risk)}
                for r in self.table.itertuples()
            ],
        }

    def finding(self) -> str:
        """When customers leave, from the numbers."""
        t = self.table
        ok = t[t["at_risk"] >= self.min_at_risk]
        if ok.empty or not np.isfinite(self.peak.get("hazard", np.nan)):
            return "Too few customers at risk in any tenure interval to estimate the hazard."
        pk = self.peak
        u = self.time_unit
        first = ok.iloc[0]
        later = ok.iloc[1:]
        text = (
            f"Churn risk peaks at {pk['start']:g}-{pk['end']:g} {u} of tenure: {pct(pk['hazard'])} of the customers "
            f"still there at its start leave within it ({self.confidence:.0%} CI {pct(pk['lower'])} to "
            f"{pct(pk['upper'])}), against {pct(self.overall_rate * self.width)} per {self.width:g} {u} on average."
        )
        if len(later):
            later_h = later["events"].sum() / later["at_risk"].sum()
            ratio = first["hazard"] / later_h if later_h > 0 else np.nan
            if np.isfinite(ratio) and ratio >= 1.5:
                text += (
                    f" The first {first['end']:g} {u} are the most fragile ({pct(first['hazard'])} leave, "
                    f"{ratio:.1f}x the later rate): onboarding is where retention is won."
                )
            elif np.isfinite(ratio) and ratio <= 1 / 1.5:
                text += f" New customers are safer than established ones ({pct(first['hazard'])} leave in the first interval)."
        jumps = ok[(ok["lower"] > ok["hazard"].shift(1)) & (ok["hazard"].shift(1) > 0)]
        if len(jumps):
            j = jumps.iloc[0]
            text += (
                f" The hazard jumps at {j['start']:g} {u} (e.g. a contract or promotion ending): "
                "contact customers before that point."
            )
        return text

    def plot(self, ax: Any = None) -> Any:
        """Interval hazard with its confidence interval; the peak is highlighted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        t = self.table[self.table["at_risk"] > 0]
        mid = (t["start"] + t["end"]) / 2
        sns.lineplot(x=mid.to_numpy(), y=t["hazard"].to_numpy(), marker="o", ax=ax, errorbar=None)
        ax.fill_between(mid, t["lower"], t["upper"], alpha=0.2, lw=0)
        if np.isfinite(self.peak.get("start", np.nan)):
            ax.axvspan(self.peak["start"], self.peak["end"], color="tab:red", alpha=0.1, label="peak")
            ax.legend()
        ax.set_xlabel(f"tenure ({self.time_unit})")
        ax.set_ylabel(f"share leaving within {self.width:g} {self.time_unit}")
        ax.set_title("When customers leave: hazard by tenure (life table)")
        ax.set_ylim(bottom=0)
        return ax

    def __repr__(self) -> str:
        return (
            f"HazardResult(intervals={len(self.table)}, width={self.width:g} {self.time_unit}, "
            f"peak={self.peak.get('start', float('nan')):g}-{self.peak.get('end', float('nan')):g})"
        )


def hazard_by_tenure(
    table: pd.DataFrame,
    *,
    duration: str = "duration_months",
    event: str = "event",
    width: float | None = None,
    max_time: float | None = None,
    confidence: float = 0.95,
    min_at_risk: int = 100,
    time_unit: str = "months",
) -> HazardResult:
    """Actuarial life table: the hazard of leaving in each tenure interval.

    An event at duration ``t`` falls in the interval ``[start, end)`` that holds ``t``; so do
    censored customers, who count as half at risk in it (actuarial assumption). The hazard is
    ``events / at_risk`` with a Wilson interval.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer.
    duration, event : str
    width : float, optional
        Interval width in months; default 1 when the follow-up is at most 36 months, else 3.
    max_time : float, optional
        Last interval end; default the largest duration.
    confidence : float, default 0.95
    min_at_risk : int, default 100
        Intervals with fewer at risk are not candidates for the peak; the peak is the interval
        with the largest lower confidence bound (robust to noisy intervals with few at risk).

    Returns
    -------
    HazardResult

    Examples
    --------
    >>> t = pd.DataFrame({"duration_months": [0.5, 0.5, 1.5, 2.5], "event": [1, 0, 1, 0]})
    >>> hazard_by_tenure(t, width=1, min_at_risk=1).table["hazard"].round(3).tolist()
    [0.286, 0.5, 0.0]
    """
    d, e = survival_inputs(table, duration=duration, event=event)
    top = float(max_time) if max_time is not None else float(d.max())
    if width is None:
        width = 1.0 if top <= 36 else 3.0
    if width <= 0:
        raise AnalysisError(f"hazard_by_tenure: width must be positive, got {width!r}")
    n_int = max(int(np.floor(top / width)) + 1, 1)
    keep = d < n_int * width
    k = np.minimum(np.floor(d / width).astype("int64"), n_int - 1)
    k_all = np.where(keep, k, n_int - 1)
    ev_i = np.bincount(k_all[keep & (e == 1)], minlength=n_int).astype("float64")
    cens_i = np.bincount(k_all[~((e == 1) & keep)], minlength=n_int).astype("float64")
    leaving = ev_i + cens_i
    entering = len(d) - np.r_[0.0, np.cumsum(leaving)[:-1]]
    at_risk = entering - cens_i / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        hz = np.where(at_risk > 0, ev_i / at_risk, np.nan)
    lo, hi = wilson_interval(ev_i, np.maximum(at_risk, 0), confidence=confidence)
    surv = np.cumprod(1 - np.nan_to_num(hz))
    start = np.arange(n_int) * width
    out = pd.DataFrame(
        {
            "start": start,
            "end": start + width,
            "entering": entering.astype("int64"),
            "events": ev_i.astype("int64"),
            "censored": cens_i.astype("int64"),
            "at_risk": at_risk,
            "hazard": hz,
            "lower": lo,
            "upper": hi,
            "hazard_per_month": -np.log1p(-np.minimum(hz, 1 - 1e-12)) / width,
            "survival": surv,
        }
    )
    out = out[out["entering"] > 0].reset_index(drop=True)
    cand = out[out["at_risk"] >= min_at_risk]
    if cand.empty:
        peak = {"start": np.nan, "end": np.nan, "hazard": np.nan, "lower": np.nan, "upper": np.nan}
    else:
        # the peak is where the hazard is surely highest: the largest lower confidence bound, so a
        # noisy late interval with few customers at risk does not win on its point estimate
        r = cand.loc[cand["lower"].idxmax()]
        peak = {k2: float(r[k2]) for k2 in ("start", "end", "hazard", "lower", "upper")}
    exposure = float(np.minimum(d, n_int * width).sum())
    rate = float(e.sum() / exposure) if exposure > 0 else float("nan")
    return HazardResult(
        table=out, width=float(width), peak=peak, overall_rate=rate, confidence=confidence,
        min_at_risk=int(min_at_risk), time_unit=time_unit,
    )  # fmt: skip


# ============================================================================================
# Cox proportional hazards
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class CoxResult(Result):
    """Cox proportional-hazards model (see :func:`cox_model`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model term: ``term`` (``column=level`` for a category, the column name for a
        number), ``covariate``, ``level``, ``reference``, ``coef``, ``se``, ``hr``, ``hr_lower``,
        ``hr_upper``, ``p``, ``p_holm``, ``per`` (the unit of a numeric covariate's ratio).
    ph_check : pandas.DataFrame
        One row per covariate: ``covariate``, ``terms``, ``rho`` (largest absolute correlation of
        a term's Schoenfeld residuals with the rank of event time), ``p`` (smallest term p),
        ``p_holm`` (Holm across covariates), ``violated``.
    covariates : list of str
    strata : str or None
    n : int
        Customers in the fit.
    n_events : int
    n_dropped : int
        Customers left out for a missing covariate.
    sampled_from : int or None
        Rows before subsampling (``max_rows``), None when all rows were used.
    confidence : float
    llf : float
        Partial log-likelihood.
    notes : list of str
    """

    table: pd.DataFrame
    ph_check: pd.DataFrame
    covariates: list[str]
    strata: str | None
    n: int
    n_events: int
    n_dropped: int
    sampled_from: int | None
    confidence: float
    llf: float
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Hazard ratios with intervals and p-values, one row per term."""
        return self.table[["term", "hr", "hr_lower", "hr_upper", "p", "p_holm", "reference", "per"]].copy()

    def to_frame(self) -> pd.DataFrame:
        """All term columns."""
        return self.table.copy()

    def hazard_ratios(self) -> pd.Series:
        """Hazard ratio by term (``acquisition_channel=referral``, ``age_at_signup``)."""
        return self.table.set_index("term")["hr"]

    def intervals(self) -> pd.DataFrame:
        """``hr``, ``hr_lower``, ``hr_upper`` indexed by term."""
        return self.table.set_index("term")[["hr", "hr_lower", "hr_upper"]]

    def metrics(self) -> dict[str, Any]:
        """Hazard ratios with intervals, PH check and sample sizes (JSON-able)."""
        return {
            "n": self.n,
            "n_events": self.n_events,
            "n_dropped": self.n_dropped,
            "sampled_from": self.sampled_from,
            "strata": self.strata,
            "hazard_ratios": {
                r.term: {"hr": num(r.hr), "lower": num(r.hr_lower), "upper": num(r.hr_upper), "p": num(r.p)}
                for r in self.table.itertuples()
            },
            "ph_violations": [str(c) for c in self.ph_check.loc[self.ph_check["violated"], "covariate"]],
        }

    def finding(self) -> str:
        """The strongest hazard ratios and the PH check, with what to do, from the numbers."""
        t = self.table
        alpha = 1 - self.confidence
        sig = t[t["p_holm"] < alpha].copy()
        parts = [
            f"Cox model on {self.n:,} customers ({self.n_events:,} left)"
            + (f", stratified by {self.strata}" if self.strata else "")
            + "."
        ]
        if self.sampled_from:
            parts.append(
                f"It was fitted on a random sample of {self.n:,} of {self.sampled_from:,} customers "
                "(raise max_rows for all)."
            )
        if sig.empty:
            parts.append("No covariate changes the hazard detectably once the others are held fixed.")
        else:
            sig["strength"] = np.abs(np.log(sig["hr"]))
            for r in sig.sort_values("strength", ascending=False).head(3).itertuples():
                what = (
                    f"{r.covariate} = {r.level} (vs {r.reference})" if isinstance(r.level, str)
                    else f"each {r.per} more {r.covariate}" if r.reference == "" else f"{r.covariate} (yes vs no)"
                )  # fmt: skip
                change = (
                    f"{r.hr:.2f}x the hazard ({pct(r.hr - 1, 0)} more)" if r.hr > 1
                    else f"{r.hr:.2f}x the hazard ({pct(1 - r.hr, 0)} less)"
                )  # fmt: skip
                parts.append(
                    f"{what}: {change}, {self.confidence:.0%} CI {r.hr_lower:.2f} to {r.hr_upper:.2f}."
                )
        bad = self.ph_check[self.ph_check["violated"]]
        if len(bad):
            cols = ", ".join(map(str, bad["covariate"]))
            cat = [c for c in bad["covariate"] if self.table.loc[self.table["covariate"] == c, "level"].map(
                lambda v: isinstance(v, str)).any()]  # fmt: skip
            advice = (
                f"stratify by it (analyses.churn.cox_strata: {cat[0]})" if cat
                else "split follow-up time (separate models before/after a cut) or add a time interaction"
            )
            parts.append(
                f"The proportional-hazards assumption fails for {cols} (Schoenfeld residuals trend with time, "
                f"Holm-adjusted p < {alpha:g}): its effect changes over tenure, so its single hazard ratio is an "
                f"average; {advice}."
            )
        else:
            parts.append("The proportional-hazards check finds no covariate whose effect drifts over tenure.")
        parts.extend(self.notes)
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Forest plot: hazard ratio and interval per term on a log axis.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.table.iloc[::-1].reset_index(drop=True)
        if ax is None:
            _, ax = plt.subplots(figsize=(6.5, 0.35 * len(t) + 1.2))
        sig = t["p_holm"] < 1 - self.confidence
        sns.scatterplot(x=t["hr"].to_numpy(), y=t["term"].to_numpy(), hue=np.where(sig, "significant (Holm)", "not"),
                        ax=ax, zorder=3)  # fmt: skip
        ax.hlines(t["term"], t["hr_lower"], t["hr_upper"], color="grey")
        ax.axvline(1, color="black", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel(f"hazard ratio ({self.confidence:.0%} CI, log scale)")
        ax.set_ylabel("")
        ax.set_title("Cox model: what raises (>1) or lowers (<1) the hazard of leaving")
        return ax

    def __repr__(self) -> str:
        return (
            f"CoxResult(covariates={len(self.covariates)}, terms={len(self.table)}, n={self.n:,}, "
            f"events={self.n_events:,}, strata={self.strata!r})"
        )


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _design(
    t: pd.DataFrame,
    covariates: list[str],
    *,
    event: np.ndarray,
    reference: dict[str, Any],
    scale: dict[str, float],
    max_levels: int,
    min_level_size: int,
) -> tuple[np.ndarray, list[dict[str, Any]], list[str]]:
    """Design matrix: numbers as they are (divided by ``scale``), booleans 0/1, categories one
    dummy per level but the reference. Rejects levels without events or with only events."""
    cols, terms, notes = [], [], []
    for c in covariates:
        s = t[c]
        if pd.api.types.is_bool_dtype(s) or (_is_numeric(s) and set(pd.unique(s.dropna())) <= {0, 1}):
            x = s.astype("float64").to_numpy()
            cols.append(x)
            terms.append({"term": c, "covariate": c, "level": None, "reference": "0/False", "per": "1"})
            _separation_check(c, pd.Series(np.where(x == 1, "1", "0")), event)
            continue
        if _is_numeric(s):
            sc = float(scale.get(c, 1.0))
            cols.append(s.astype("float64").to_numpy() / sc)
            terms.append({"term": c, "covariate": c, "level": None, "reference": "", "per": f"{sc:g}"})
            continue
        lab = s.astype("string").astype(str)
        vc = lab.value_counts()
        if len(vc) > max_levels:
            raise AnalysisError(
                f"churn frame.{c}: {len(vc):,} levels is too many for a Cox covariate (limit {max_levels}, "
                f"analyses.churn.max_levels); group it or drop it from analyses.churn.cox_covariates"
            )
        small = vc.index[vc < min_level_size]
        if len(small) and len(small) < len(vc):
            notes.append(f"{c}: {len(small)} level(s) with fewer than {min_level_size} customers lumped into {OTHER_LEVEL}.")
            lab = lab.where(~lab.isin(small), OTHER_LEVEL)
            vc = lab.value_counts()
        if len(vc) < 2:
            raise AnalysisError(
                f"churn frame.{c}: only one level ({vc.index[0]!r}) among the customers in the model; "
                "drop it from analyses.churn.cox_covariates"
            )
        _separation_check(c, lab, event)
        ref = reference.get(c, vc.index[0])
        if ref not in vc.index:
            raise AnalysisError(
                f"churn frame.{c}: reference level {ref!r} not found; levels are {', '.join(map(repr, vc.index[:10]))}"
            )
        for lvl in sorted(vc.index, key=lambda v: (-vc[v], str(v))):
            if lvl == ref:
                continue
            cols.append((lab == lvl).to_numpy(dtype="float64"))
            terms.append({"term": f"{c}={lvl}", "covariate": c, "level": lvl, "reference": str(ref), "per": ""})
    return np.column_stack(cols), terms, notes


def _separation_check(column: str, labels: pd.Series, event: np.ndarray) -> None:
    ev = pd.Series(event, index=labels.index).groupby(labels.to_numpy()).agg(["size", "sum"])
    zero = ev[ev["sum"] == 0]
    full = ev[ev["sum"] == ev["size"]]
    if len(zero) or len(full):
        bits = [f"{lvl!r}: {int(r['size']):,} customers, none left" for lvl, r in zero.head(3).iterrows()]
        bits += [f"{lvl!r}: {int(r['size']):,} customers, all left" for lvl, r in full.head(3).iterrows()]
        raise AnalysisError(
            f"churn frame.{column}: (quasi-)complete separation, {'; '.join(bits)}; the Cox fit would diverge "
            f"(hazard ratio 0 or infinite). Drop {column!r} from analyses.churn.cox_covariates, merge the level with "
            "another, or use it as analyses.churn.cox_strata"
        )


def _ph_test(res: Any, time: np.ndarray, event: np.ndarray, terms: list[dict[str, Any]]) -> pd.DataFrame:
    """Correlation of Schoenfeld residuals with the rank of event time, per term; worst term per covariate."""
    from scipy.stats import pearsonr, rankdata

    sr = np.asarray(res.schoenfeld_residuals)
    m = (event == 1) & np.isfinite(sr).all(axis=1)
    rows = []
    if m.sum() < 3:
        return pd.DataFrame(columns=["covariate", "terms", "rho", "p", "p_holm", "violated"])
    rt = rankdata(time[m])
    for j, term in enumerate(terms):
        x = sr[m, j]
        if np.nanstd(x) == 0:
            r, p = 0.0, 1.0
        else:
            r, p = pearsonr(rt, x)
        rows.append({"covariate": term["covariate"], "term": term["term"], "rho": float(r), "p": float(p)})
    per_term = pd.DataFrame(rows)
    g = per_term.groupby("covariate", sort=False)
    out = pd.DataFrame(
        {
            "terms": g["term"].apply(lambda s: ", ".join(s)),
            "rho": g["rho"].apply(lambda s: float(s.iloc[np.argmax(np.abs(s.to_numpy()))])),
            # Bonferroni within a covariate's dummies, then Holm across covariates
            "p": g["p"].apply(lambda s: float(min(1.0, s.min() * len(s)))),
        }
    ).reset_index()
    out["p_holm"] = holm(out["p"])
    return out


def collinear_terms(X: np.ndarray, *, tol: float = 1e-8) -> list[int]:
    """Columns of a design matrix that are linear combinations of earlier columns (with an
    intercept), found by a pivot-free QR scan: column j is redundant when its residual on the
    columns kept so far is (numerically) zero.

    Examples
    --------
    >>> collinear_terms(np.array([[1., 0., 1.], [0., 1., 1.], [1., 1., 2.], [0., 0., 0.]]))
    [2]
    """
    Xc = np.asarray(X, dtype="float64")
    Xc = Xc - Xc.mean(axis=0)
    kept: list[int] = []
    redundant: list[int] = []
    basis = np.zeros((Xc.shape[0], 0))
    for j in range(Xc.shape[1]):
        v = Xc[:, j]
        norm_v = np.linalg.norm(v)
        if norm_v == 0:
            redundant.append(j)
            continue
        r = v - basis @ (basis.T @ v) if basis.shape[1] else v
        if np.linalg.norm(r) <= tol * norm_v * max(1.0, np.sqrt(Xc.shape[0])) or np.linalg.norm(r) / norm_v < 1e-6:
            redundant.append(j)
            continue
        basis = np.column_stack([basis, r / np.linalg.norm(r)])
        kept.append(j)
    return redundant


def cox_model(
    table: pd.DataFrame,
    *,
    covariates: list[str],
    duration: str = "duration_months",
    event: str = "event",
    strata: str | None = None,
    reference: dict[str, Any] | None = None,
    scale: dict[str, float] | None = None,
    min_events: int = 10,
    max_levels: int = 30,
    min_level_size: int = 20,
    max_rows: int | None = 200_000,
    confidence: float = 0.95,
    random_state: int | None = None,
) -> CoxResult:
    """Cox proportional-hazards model with a proportional-hazards check.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer (``ChurnFrame.table``).
    covariates : list of str
        Columns in the model (``analyses.churn.cox_covariates``). Numbers enter linearly (see
        ``scale``), booleans and 0/1 numbers as one indicator, other columns as one indicator per
        level against ``reference`` (default: the most frequent level).
    duration, event : str
    strata : str, optional
        Separate baseline hazard per level of this column (``analyses.churn.cox_strata``); use it
        for a covariate that fails the PH check or for a known segment.
    reference : dict, optional
        Column -> reference level.
    scale : dict, optional
        Column -> unit of its hazard ratio, e.g. ``{"age_at_signup": 10}`` for "per 10 years".
    min_events : int, default 10
        Events needed per model term (``analyses.churn.min_events``).
    max_levels : int, default 30
    min_level_size : int, default 20
        Smaller levels are lumped into ``(other)`` (a level that small gives a useless ratio).
    max_rows : int, optional
        Fit on a seeded random sample of this many rows when the table is larger (the finding
        says so); ``None`` for all rows.
    confidence : float, default 0.95
    random_state : int, optional
        Seed of the subsample.

    Returns
    -------
    CoxResult

    Raises
    ------
    AnalysisError
        Missing or constant covariates, too few events per term, a level without events or with
        only events (separation), a fit that does not converge.
    """
    from scipy.stats import norm
    from statsmodels.duration.hazard_regression import PHReg

    covariates = list(dict.fromkeys(covariates))
    if not covariates:
        raise AnalysisError("cox_model: no covariates; set analyses.churn.cox_covariates")
    missing = [c for c in covariates + ([strata] if strata else []) if c not in table.columns]
    if missing:
        raise AnalysisError(
            f"churn frame: column(s) {', '.join(map(repr, missing))} not found; fix analyses.churn.cox_covariates "
            f"or analyses.churn.cox_strata (available: {', '.join(map(str, table.columns[:20]))})"
        )
    if strata in covariates:
        raise AnalysisError(f"cox_model: {strata!r} is both a covariate and the strata; remove it from one of them")
    survival_inputs(table, duration=duration, event=event)
    t = table[[duration, event, *covariates] + ([strata] if strata else [])]
    t = t.assign(**{event: t[event].astype("float64")}) if t[event].dtype == bool else t
    ok = t.notna().all(axis=1)
    n_dropped = int((~ok).sum())
    notes: list[str] = []
    if n_dropped:
        na = t.isna().sum()
        na = na[na > 0]
        notes.append(
            f"{n_dropped:,} customers with a missing value were left out ("
            + ", ".join(f"{k}: {int(v):,}" for k, v in na.items()) + ")."
        )
        if n_dropped > 0.2 * len(t):
            warnings.warn(
                f"cox_model: {n_dropped:,} of {len(t):,} customers have a missing covariate and are left out",
                StatisticalWarning,
                stacklevel=2,
            )
    t = t[ok]
    sampled_from = None
    if max_rows is not None and len(t) > max_rows:
        rng = np.random.default_rng(random_state)
        idx = np.sort(rng.choice(len(t), size=int(max_rows), replace=False))
        sampled_from = len(t)
        t = t.iloc[idx]
    t = t.reset_index(drop=True)
    time = t[duration].astype("float64").to_numpy()
    ev = t[event].astype("float64").to_numpy().astype("int64")
    n_ev = int(ev.sum())
    if n_ev == 0 or n_ev == len(ev):
        raise AnalysisError(
            f"churn frame.{event}: {'no customer left' if n_ev == 0 else 'every customer left'} among the "
            f"{len(ev):,} in the Cox model; a hazard model needs both (check analyses.churn.label)"
        )
    X, terms, extra = _design(
        t, covariates, event=ev, reference=reference or {}, scale=scale or {},
        max_levels=max_levels, min_level_size=min_level_size,
    )  # fmt: skip
    notes += extra
    k = X.shape[1]
    if n_ev < min_events * k:
        raise AnalysisError(
            f"cox_model: {n_ev:,} events for {k} model terms from covariates {', '.join(covariates)}; need "
            f"{min_events} events per term ({min_events * k:,}, analyses.churn.min_events). Drop some covariates "
            f"(categorical ones cost one term per level) or lower analyses.churn.min_events"
        )
    const = X.std(axis=0) == 0
    if const.any():
        names = [terms[j]["term"] for j in np.flatnonzero(const)]
        raise AnalysisError(f"cox_model: term(s) {', '.join(names)} are constant; drop them from analyses.churn.cox_covariates")
    redundant = collinear_terms(X)
    if redundant:
        names = [terms[j]["term"] for j in redundant]
        raise AnalysisError(
            f"cox_model: term(s) {', '.join(names)} are exact combinations of other terms (collinear covariates, e.g. "
            "'No internet service' levels repeated across service columns); drop one of the overlapping covariates "
            f"from analyses.churn.cox_covariates ({', '.join(covariates)})"
        )
    st = None
    if strata:
        st = t[strata].astype("string").fillna(_MISSING).astype(str).to_numpy()
    # a tiny positive floor: statsmodels treats time 0 like any other time, but keep it explicit
    time_fit = np.maximum(time, 1e-6)
    model = PHReg(time_fit, X, status=ev, strata=st, ties="efron")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit()
    params = np.asarray(res.params, dtype="float64")
    bse = np.asarray(res.bse, dtype="float64")
    if not (np.isfinite(params).all() and np.isfinite(bse).all()) or (np.abs(params) > 15).any():
        worst = terms[int(np.nanargmax(np.abs(np.nan_to_num(params, nan=np.inf))))]["term"]
        raise AnalysisError(
            f"cox_model: the fit did not converge (term {worst!r} diverges, a sign of separation or collinearity); "
            "drop or merge that covariate in analyses.churn.cox_covariates"
        )
    z = norm.ppf(1 - (1 - confidence) / 2)
    pvals = 2 * norm.sf(np.abs(params / bse))
    out = pd.DataFrame(terms)
    out["coef"] = params
    out["se"] = bse
    out["hr"] = np.exp(params)
    out["hr_lower"] = np.exp(params - z * bse)
    out["hr_upper"] = np.exp(params + z * bse)
    out["p"] = pvals
    out["p_holm"] = holm(pvals)
    out = out[["term", "covariate", "level", "reference", "coef", "se", "hr", "hr_lower", "hr_upper", "p", "p_holm", "per"]]
    ph = _ph_test(res, time_fit, ev, terms)
    ph["violated"] = ph["p_holm"] < 1 - confidence
    return CoxResult(
        table=out, ph_check=ph, covariates=covariates, strata=strata, n=len(t), n_events=n_ev,
        n_dropped=n_dropped, sampled_from=sampled_from, confidence=confidence, llf=float(res.llf), notes=notes,
    )  # fmt: skip


#: How the synthetic generator's hazard-ratio names map onto model terms (``churn.hazard_ratios``
#: in ``ground_truth.json``): membership is silver or gold vs non_member, age is per 10 years.
GENERATOR_ALIASES: dict[str, list[str]] = {
    "is_member": ["member_level=silver", "member_level=gold"],
    "age_per_10_years": ["age_at_signup"],
}


def hazard_ratio_check(cox: CoxResult, truth: dict[str, float], *, aliases: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Compare estimated hazard ratios with known true ones (synthetic data).

    Parameters
    ----------
    cox : CoxResult
        Fitted model (terms named ``column=level`` or ``column``).
    truth : dict
        True hazard ratio by name, e.g. the generator's ``churn.hazard_ratios``.
    aliases : dict, optional
        Truth name -> model terms it stands for (e.g. ``is_member`` ->
        ``['member_level=silver', 'member_level=gold']``); default :data:`GENERATOR_ALIASES`.
        Names not found are reported with ``term`` missing.

    Returns
    -------
    pandas.DataFrame
        One row per (truth name, term): ``truth_name``, ``term``, ``true_hr``, ``hr``,
        ``hr_lower``, ``hr_upper``, ``covered`` (true ratio inside the interval), ``same_side``
        (estimate on the same side of 1 as the truth, or truth = 1).
    """
    est = cox.intervals()
    aliases = GENERATOR_ALIASES if aliases is None else aliases
    rows = []
    for name, true_hr in truth.items():
        terms = aliases.get(name, [name])
        for term in terms:
            if term in est.index:
                hr, lo, hi = (float(v) for v in est.loc[term, ["hr", "hr_lower", "hr_upper"]])
            else:
                hr = lo = hi = float("nan")
            same = bool(true_hr == 1.0 or (hr - 1.0) * (true_hr - 1.0) > 0) if np.isfinite(hr) else False
            rows.append({
                "truth_name": name, "term": term if term in est.index else None, "true_hr": float(true_hr),
                "hr": hr, "hr_lower": lo, "hr_upper": hi,
                "covered": bool(np.isfinite(lo) and lo <= true_hr <= hi), "same_side": same,
            })  # fmt: skip
    return pd.DataFrame(rows)


def hazard_ratio_check_finding(check: pd.DataFrame) -> str:
    """One paragraph on a :func:`hazard_ratio_check` table: how many true ratios the intervals
    cover, how many estimates point the right way, and what attenuation means."""
    found = check[check["term"].notna()]
    if found.empty:
        return "None of the true hazard ratios has a matching model term (check the Cox covariates)."
    covered, same = int(found["covered"].sum()), int(found["same_side"].sum())
    n = len(found)
    toward_one = found[(found["true_hr"] != 1) & ~found["covered"]]
    attenuated = toward_one[(np.log(toward_one["hr"]).abs() < np.log(toward_one["true_hr"]).abs())]
    text = (f"The 95 % intervals cover {covered} of {n} true hazard ratios; {same} of {n} estimates lie on the "
            f"same side of 1 as the truth.")
    if len(attenuated):
        text += (f" {len(attenuated)} of the misses are pulled toward 1 ({', '.join(attenuated['term'].astype(str))}): "
                 "in retail data the moment a customer drops out is not observed, only the last purchase, and "
                 "some customers counted as churned are merely slow buyers still alive. Effects are diluted, so "
                 "read the ratios for direction and ranking, not as exact sizes.")
    return text
