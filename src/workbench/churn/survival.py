"""Survival analysis of customer lifetimes: when do customers leave.

Two views on one per-customer table with a duration (months) and an event flag (1 = left,
0 = still a customer, i.e. censored), as built by :func:`workbench.churn.frame.churn_frame`:

- :func:`kaplan_meier`: survival curves with pointwise confidence bands (statsmodels
  ``SurvfuncRight``, Greenwood variance, log-log transformed band), median lifetime with its
  interval, and the log-rank test between groups (``survdiff``).
- :func:`hazard_by_tenure`: an actuarial life table; the share of customers at risk at the start
  of each tenure interval who leave during it, with a Wilson interval, and the peak window.

What changes the hazard (the Cox model) is in :mod:`workbench.churn.cox`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import MISSING, Text, attribute_columns, level_text, unit
from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    did_you_mean,
)
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = [
    "KaplanMeierResult",
    "HazardResult",
    "kaplan_meier",
    "hazard_by_tenure",
    "survival_inputs",
    "OTHER_LEVEL",
]

#: Label of the lumped rare levels of a grouping column.
OTHER_LEVEL = "(other)"


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
                "survival needs a duration and an event column (pass duration= and event=)"
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
            f"{d[neg][:5].tolist()}; check the sign-up and end dates of the churn label"
        )
    ok = ~(np.isnan(d) | np.isnan(e))
    if not ok.any():
        raise AnalysisError(f"{table_name}: no row has both {duration!r} and {event!r}")
    return d[ok], e[ok].astype("int64")


def _group_labels(values: pd.Series, *, column: str, max_levels: int) -> tuple[pd.Series, list[str]]:
    """Text labels of a grouping column; beyond ``max_levels`` the smallest levels are lumped."""
    notes: list[str] = []
    s = values.astype("string").fillna(MISSING).astype(str)
    counts = s.value_counts()
    if len(counts) > max_levels:
        keep = counts.index[: max_levels - 1]
        warnings.warn(
            t("churn.km.lumped_warning", column=repr(column), n=count(len(counts)), keep=max_levels - 1,
              lumped=count(counts.iloc[max_levels - 1 :].sum()), other=repr(level_text(OTHER_LEVEL)),
              max_levels=max_levels),
            StatisticalWarning,
            stacklevel=3,
        )
        notes.append(Text("churn.km.lumped", column=column, n=count(len(counts)), other=level_text(OTHER_LEVEL)))
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
        return self.medians.assign(group=self.medians["group"].map(level_text))

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
            "logrank": None
            if self.logrank is None
            else {k: (num(v) if k != "test" else v) for k, v in self.logrank.items()},
        }

    @property
    def _h(self) -> str:
        return f"{self.horizon:g}"

    def finding(self) -> str:
        """How long customers stay and whether groups differ, from the numbers."""
        m = self.medians
        h = self._h
        u = unit(self.time_unit)
        parts = []
        if self.group is None or len(m) == 1:
            r = m.iloc[0]
            parts.append(self._median_text(r))
            parts.append(t("churn.km.still", share=pct(r[f"survival_{h}"]), h=h, unit=u))
        else:
            s = m.sort_values(f"survival_{h}")
            worst, best = s.iloc[0], s.iloc[-1]
            parts.append(t("churn.km.by_group", group=self.group, h=h, unit=u, worst_share=pct(worst[f"survival_{h}"]),
                           worst=repr(level_text(worst.group)), best_share=pct(best[f"survival_{h}"]),
                           best=repr(level_text(best.group))))
            parts.append(self._median_text(worst, label=repr(level_text(worst.group))))
            if self.logrank is not None:
                p = self.logrank["p"]
                verdict = "differ" if p < 1 - self.confidence else "same"
                parts.append(t(f"churn.km.logrank.{verdict}", statistic=f"{self.logrank['statistic']:.1f}",
                               df=self.logrank["df"], p=f"{p:.2g}"))
        parts.extend(map(str, self.notes))
        return t("churn.join").join(parts)

    def _median_text(self, r: Any, label: str | None = None) -> str:
        label = t("churn.km.customers") if label is None else label
        if pd.isna(r["median"]):
            return t("churn.km.median_beyond", label=label)
        lo = "?" if pd.isna(r["median_lower"]) else f"{r['median_lower']:.1f}"
        hi = t("churn.km.beyond_data") if pd.isna(r["median_upper"]) else f"{r['median_upper']:.1f}"
        return t("churn.km.median", label=label, median=f"{r['median']:.1f}", unit=unit(self.time_unit),
                 level=pct(self.confidence, 0), low=lo, high=hi)

    def plot(self, ax: Any = None) -> Any:
        """Step survival curves with shaded confidence bands.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(7, 4.5))
        groups = list(self.medians["group"])
        palette = sns.color_palette(n_colors=max(len(groups), 1))
        for color, g in zip(palette, groups, strict=False):
            c = self.curves[self.curves["group"] == g]
            sns.lineplot(
                x=c["time"].to_numpy(), y=c["survival"].to_numpy(), drawstyle="steps-post", ax=ax,
                color=color, label=level_text(g), errorbar=None,
            )  # fmt: skip
            ax.fill_between(c["time"], c["lower"], c["upper"], step="post", color=color, alpha=0.15, lw=0)
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(t("churn.plot.tenure", unit=unit(self.time_unit)))
        ax.set_ylabel(t("churn.km.plot.ylabel"))
        title = t("churn.km.plot.title_by", group=self.group) if self.group else t("churn.km.plot.title")
        if self.logrank is not None:
            title += t("churn.km.plot.logrank", p=f"{self.logrank['p']:.2g}")
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
        Curves per level of this column; missing values form
        their own level ``(missing)``. A column that is not in ``table`` gives one curve for all
        customers, with a warning and a note.
    confidence : float, default 0.95
        Level of the pointwise bands and the median intervals.
    horizon : float, default 12
        Survival at this duration is reported per group.
    max_levels : int, default 30
        Beyond this many levels the smallest are lumped into ``(other)`` with a warning
    min_group_size : int, default 1
        Levels with fewer customers are lumped into ``(other)``.

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    AnalysisError
        Missing columns, negative durations, non-0/1 events.

    Warns
    -----
    DataQualityWarning
        ``group`` is not a column (one curve for all customers instead).

    Examples
    --------
    >>> t = pd.DataFrame({"duration_months": [1, 2, 3, 4], "event": [1, 0, 1, 1]})
    >>> kaplan_meier(t).curves["survival"].round(3).tolist()
    [1.0, 0.75, 0.375, 0.0]
    """
    if not 0 < confidence < 1:
        raise AnalysisError(f"confidence must be between 0 and 1, got {confidence!r}")
    notes: list[str] = []
    if group is not None and group not in table.columns:
        from workbench.churn.drivers import BEHAVIOUR_COLUMNS

        options = attribute_columns(table, exclude=BEHAVIOUR_COLUMNS | {duration, event})[:15]
        hint = did_you_mean(group, list(map(str, table.columns)))
        msg = (Text("churn.km.no_group.options", group=repr(group), hint=hint, options=", ".join(options)) if options
               else Text("churn.km.no_group.none", group=repr(group), hint=hint))
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
        notes.append(msg)
        group = None
    cols = [duration, event] + ([group] if group else [])
    t = table[cols]
    d, e = survival_inputs(t, duration=duration, event=event)
    ok = (
        pd.to_numeric(t[duration], errors="coerce").notna()
        & pd.to_numeric(t[event].astype("float64") if t[event].dtype == bool else t[event], errors="coerce").notna()
    )
    if int((~ok).sum()):
        notes.append(Text("churn.km.left_out", n=count((~ok).sum())))
    if group is None:
        labels = pd.Series(["all"] * len(d))
    else:
        labels, extra = _group_labels(
            t.loc[ok.to_numpy(), group].reset_index(drop=True), column=group, max_levels=max_levels
        )
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
        columns={
            "survival_h": f"survival_{h}",
            "survival_h_lower": f"survival_{h}_lower",
            "survival_h_upper": f"survival_{h}_upper",
        }
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
        tab = self.table
        ok = tab[tab["at_risk"] >= self.min_at_risk]
        if ok.empty or not np.isfinite(self.peak.get("hazard", np.nan)):
            return t("churn.hazard.too_few")
        pk = self.peak
        u = unit(self.time_unit)
        first = ok.iloc[0]
        later = ok.iloc[1:]
        text = t("churn.hazard.peak", start=f"{pk['start']:g}", end=f"{pk['end']:g}", unit=u, hazard=pct(pk["hazard"]),
                 level=pct(self.confidence, 0), low=pct(pk["lower"]), high=pct(pk["upper"]),
                 average=pct(self.overall_rate * self.width), width=f"{self.width:g}")
        if len(later):
            later_h = later["events"].sum() / later["at_risk"].sum()
            ratio = first["hazard"] / later_h if later_h > 0 else np.nan
            if np.isfinite(ratio) and ratio >= 1.5:
                text += t("churn.hazard.fragile", end=f"{first['end']:g}", unit=u, hazard=pct(first["hazard"]),
                          ratio=f"{ratio:.1f}")
            elif np.isfinite(ratio) and ratio <= 1 / 1.5:
                text += t("churn.hazard.safer", hazard=pct(first["hazard"]))
        jumps = ok[(ok["lower"] > ok["hazard"].shift(1)) & (ok["hazard"].shift(1) > 0)]
        if len(jumps):
            text += t("churn.hazard.jump", start=f"{jumps.iloc[0]['start']:g}", unit=u)
        return text

    def plot(self, ax: Any = None) -> Any:
        """Interval hazard with its confidence interval; the peak is highlighted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(7, 4))
        tab = self.table[self.table["at_risk"] > 0]
        mid = (tab["start"] + tab["end"]) / 2
        sns.lineplot(x=mid.to_numpy(), y=tab["hazard"].to_numpy(), marker="o", ax=ax, errorbar=None)
        ax.fill_between(mid, tab["lower"], tab["upper"], alpha=0.2, lw=0)
        if np.isfinite(self.peak.get("start", np.nan)):
            ax.axvspan(self.peak["start"], self.peak["end"], color="tab:red", alpha=0.1, label=t("churn.hazard.plot.peak"))
            ax.legend()
        u = unit(self.time_unit)
        ax.set_xlabel(t("churn.plot.tenure", unit=u))
        ax.set_ylabel(t("churn.hazard.plot.ylabel", width=f"{self.width:g}", unit=u))
        ax.set_title(t("churn.hazard.plot.title"))
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
