"""When and where: conversion rate and value of journeys by the hour and weekday of their last touch,
and by the customer's region, with intervals and chi-square tests that the differences are not chance.

A journey counts once, at its last touch (the moment an offer or ad reached the customer last);
the rate is converting journeys over journeys (Wilson interval). The tests: Pearson's chi-square
test of independence of conversion and hour band (six four-hour bands), of conversion and
weekday, and of conversion and region; Holm-adjusted over the slot tests, and per region a
two-proportion z-test against all other regions, Holm-adjusted over the regions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, norm

from workbench.attribution.journeys import OTHER, Journeys
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.report import i18n
from workbench.report.fmt import count, pct, pvalue
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import holm, wilson_interval

__all__ = ["Regions", "TimeSlots", "regions", "time_slots"]

#: Heatmap cells with fewer journeys than this are left blank.
MIN_CELL = 5
_BANDS = ("00-04", "04-08", "08-12", "12-16", "16-20", "20-24")


def _chi2(groups: np.ndarray, converted: np.ndarray) -> tuple[float, int, float]:
    """Chi-square test of independence of conversion and ``groups`` (statistic, dof, p)."""
    tab = pd.crosstab(groups, converted)
    tab = tab.loc[tab.sum(axis=1) > 0]
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        return float("nan"), 0, float("nan")
    chi2, p, dof, _ = chi2_contingency(tab.to_numpy())
    return float(chi2), int(dof), float(p)


def _rate_table(frame: pd.DataFrame, by: list[str], confidence: float) -> pd.DataFrame:
    g = frame.groupby(by, observed=True).agg(journeys=("converted", "size"), conversions=("converted", "sum"),
                                              revenue=("value", "sum")).reset_index()  # fmt: skip
    g["conversion_rate"] = g["conversions"] / g["journeys"]
    g["ci_low"], g["ci_high"] = wilson_interval(g["conversions"], g["journeys"], confidence=confidence)
    g["revenue_per_journey"] = g["revenue"] / g["journeys"]
    return g


@dataclass(frozen=True, repr=False)
class TimeSlots(Result):
    """Journeys by hour and weekday of the last touch (see :func:`time_slots`).

    Attributes
    ----------
    grid : pandas.DataFrame
        ``weekday`` (0 = Monday), ``hour``, ``journeys``, ``conversions``, ``conversion_rate``,
        ``ci_low``, ``ci_high``, ``revenue``, ``revenue_per_journey``.
    slots : pandas.DataFrame
        The same by ``band`` (four hours) and ``day_type`` (``weekday`` / ``weekend``).
    tests : pandas.DataFrame
        ``test`` (``hour_band``, ``weekday``), ``chi2``, ``dof``, ``p_value``, ``p_holm``.
    confidence : float
    """

    grid: pd.DataFrame
    slots: pd.DataFrame
    tests: pd.DataFrame
    confidence: float

    def summary(self) -> pd.DataFrame:
        """Per four-hour band and day type: journeys, conversion rate with interval, revenue per journey."""
        s = self.slots.copy()
        s["day_type"] = [i18n.category("attribution_day", d) for d in s["day_type"]]
        return s

    def to_frame(self) -> pd.DataFrame:
        return self.grid.copy()

    def best(self) -> pd.Series:
        """The slot (band and day type) with the highest conversion rate among slots with 20+ journeys."""
        s = self.slots[self.slots["journeys"] >= 20]
        s = s if len(s) else self.slots
        return s.loc[s["conversion_rate"].idxmax()]

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the conversion rate by weekday (rows) and hour (columns); cells with fewer
        than :data:`MIN_CELL` journeys are left blank."""
        ax = new_axes(ax, figsize=(11, 3.8))
        g = self.grid.assign(rate=self.grid["conversion_rate"].where(self.grid["journeys"] >= MIN_CELL))
        m = g.pivot(index="weekday", columns="hour", values="rate").reindex(index=range(7), columns=range(24))
        im = ax.imshow(m.to_numpy(float), cmap="YlGn", aspect="auto", vmin=0)
        ax.grid(False)
        ax.set_yticks(range(7), [i18n.category("weekday", d) for d in range(7)])
        ax.set_xticks(range(0, 24, 2), [str(h) for h in range(0, 24, 2)])
        ax.set_xlabel(i18n.t("attribution.when.hour"))
        ax.set_title(i18n.t("attribution.when.plot_title"))
        ax.figure.colorbar(im, ax=ax, fraction=0.03, label=i18n.label("conversion_rate"))
        return ax

    def metrics(self) -> dict[str, Any]:
        b = self.best()
        return {"best_band": str(b["band"]), "best_day_type": str(b["day_type"]),
                "best_rate": float(b["conversion_rate"]),
                "p_holm": dict(zip(self.tests["test"], self.tests["p_holm"].astype(float), strict=True))}  # fmt: skip

    def finding(self) -> str:
        b = self.best()
        tt = self.tests.set_index("test")
        overall = self.grid["conversions"].sum() / max(self.grid["journeys"].sum(), 1)
        return i18n.t("attribution.when.finding", band=b["band"], day=i18n.category("attribution_day", b["day_type"]),
                      rate=pct(b["conversion_rate"]), low=pct(b["ci_low"]), high=pct(b["ci_high"]),
                      overall=pct(overall), p_hour=pvalue(tt.loc["hour_band", "p_holm"]),
                      p_day=pvalue(tt.loc["weekday", "p_holm"]))  # fmt: skip


def time_slots(journeys: Journeys, *, confidence: float = 0.95) -> TimeSlots:
    """Conversion rate and value by hour and weekday of the journeys' last touch.

    Parameters
    ----------
    journeys : Journeys
    confidence : float, default 0.95

    Returns
    -------
    TimeSlots
    """
    jt = journeys.journeys.assign(weekday=lambda d: d["last_weekday"].astype(int),
                                  hour=lambda d: d["last_hour"].astype(int))  # fmt: skip
    jt["band"] = np.asarray(_BANDS)[jt["hour"].to_numpy() // 4]
    jt["day_type"] = np.where(jt["weekday"] >= 5, "weekend", "weekday")
    grid = _rate_table(jt, ["weekday", "hour"], confidence)
    slots = _rate_table(jt, ["band", "day_type"], confidence)
    conv = jt["converted"].to_numpy(bool)
    t1, t2 = _chi2(jt["band"].to_numpy(), conv), _chi2(jt["weekday"].to_numpy(), conv)
    tests = pd.DataFrame({"test": ["hour_band", "weekday"], "chi2": [t1[0], t2[0]], "dof": [t1[1], t2[1]],
                          "p_value": [t1[2], t2[2]]})  # fmt: skip
    tests["p_holm"] = holm(tests["p_value"].fillna(1.0))
    return TimeSlots(grid=grid, slots=slots, tests=tests, confidence=confidence)


@dataclass(frozen=True, repr=False)
class Regions(Result):
    """Journeys by the customer's region (see :func:`regions`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``region``, ``journeys``, ``conversions``, ``conversion_rate``, ``ci_low``, ``ci_high``,
        ``revenue``, ``revenue_per_journey``, ``p_value`` (against all other regions),
        ``p_holm``.
    column : str
    chi2, dof, p_value : float
        Chi-square test of independence of conversion and region.
    lumped : int
        Regions with too few journeys, lumped into ``other``.
    missing : int
        Journeys of customers without a region (left out).
    confidence : float
    """

    table: pd.DataFrame
    column: str
    chi2: float
    dof: int
    p_value: float
    lumped: int
    missing: int
    confidence: float

    def summary(self) -> pd.DataFrame:
        """Per region: journeys, conversion rate with interval, revenue per journey, Holm-adjusted p-value."""
        out = self.table.rename(columns={"region": self.column})
        out[self.column] = [i18n.category("attribution_region", r) for r in out[self.column]]
        return out

    def plot(self, ax: Any = None) -> Any:
        """Conversion rate by region with its interval, and the overall rate."""
        t = self.table.sort_values("conversion_rate")
        ax = new_axes(ax, figsize=(7, 0.35 * len(t) + 1.8))
        y = np.arange(len(t))
        ax.errorbar(t["conversion_rate"], y, xerr=[t["conversion_rate"] - t["ci_low"], t["ci_high"] - t["conversion_rate"]],
                    fmt="o", capsize=3)  # fmt: skip
        overall = t["conversions"].sum() / max(t["journeys"].sum(), 1)
        ax.axvline(overall, color="grey", ls="--", lw=0.8, label=i18n.t("attribution.where.overall"))
        ax.set_yticks(y, [i18n.category("attribution_region", r) for r in t["region"]])
        ax.xaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_xlabel(i18n.label("conversion_rate"))
        ax.set_title(i18n.t("attribution.where.plot_title", column=i18n.label(self.column)))
        ax.legend(loc="lower right")
        return ax

    def metrics(self) -> dict[str, Any]:
        return {"column": self.column, "chi2": self.chi2, "dof": self.dof, "p_value": self.p_value,
                "best": str(self.table.loc[self.table["conversion_rate"].idxmax(), "region"])}  # fmt: skip

    def finding(self) -> str:
        t = self.table
        hi, lo = t.loc[t["conversion_rate"].idxmax()], t.loc[t["conversion_rate"].idxmin()]
        key = "attribution.where.finding" if self.p_value < 0.05 else "attribution.where.chance"
        return i18n.t(key, column=i18n.label(self.column), best=hi["region"], rate=pct(hi["conversion_rate"]),
                      low=pct(hi["ci_low"]), high=pct(hi["ci_high"]), worst=lo["region"],
                      worst_rate=pct(lo["conversion_rate"]), p=pvalue(self.p_value), dof=count(self.dof))  # fmt: skip


def regions(journeys: Journeys, customers: pd.DataFrame, *, column: str = "city", min_journeys: int = 30,
            confidence: float = 0.95) -> Regions:  # fmt: skip
    """Conversion rate by the customers' region (or city), with tests.

    Parameters
    ----------
    journeys : Journeys
    customers : pandas.DataFrame
        ``customer_id`` and ``column``.
    column : str, default "city"
    min_journeys : int, default 30
        Regions with fewer journeys are lumped into ``other``.
    confidence : float, default 0.95

    Returns
    -------
    Regions

    Raises
    ------
    AnalysisError
        ``customers`` has no such column.
    """
    if column not in customers.columns:
        raise AnalysisError(f"customers: no column {column!r}{did_you_mean(column, customers.columns)} for the region "
                            f"view (columns: {', '.join(map(str, customers.columns))}); set region_column=")  # fmt: skip
    reg = customers.drop_duplicates("customer_id").set_index(customers["customer_id"].drop_duplicates().astype(str))
    jt = journeys.journeys
    r = jt["customer_id"].astype(str).map(reg[column].astype("string"))
    known = r.notna().to_numpy()
    jt, r = jt.loc[known], r[known]
    n = r.value_counts()
    small = n.index[n < min_journeys]
    r = r.where(~r.isin(small), OTHER)
    frame = jt.assign(region=r.to_numpy())
    table = _rate_table(frame, ["region"], confidence)
    k, nn = table["conversions"].to_numpy(float), table["journeys"].to_numpy(float)
    K, N = k.sum(), nn.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k / nn, (K - k) / (N - nn)
        pool = K / N
        z = (p1 - p2) / np.sqrt(pool * (1 - pool) * (1 / nn + 1 / (N - nn)))
    table["p_value"] = np.where(np.isfinite(z), 2 * norm.sf(np.abs(z)), np.nan)
    table["p_holm"] = holm(table["p_value"].fillna(1.0))
    chi2, dof, p = _chi2(frame["region"].to_numpy(), frame["converted"].to_numpy(bool))
    return Regions(table=table.sort_values("journeys", ascending=False).reset_index(drop=True), column=column,
                   chi2=chi2, dof=dof, p_value=p, lumped=len(small), missing=int((~known).sum()),
                   confidence=confidence)  # fmt: skip
