"""Paths: top paths with conversion rates, path length and time to conversion, channel transitions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.attribution.journeys import Journeys
from workbench.report import i18n
from workbench.report.fmt import count, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["JourneyShape", "PathsResult", "journey_shape", "top_paths"]

_START, _CONV, _NULL = "(start)", "(conversion)", "(no conversion)"


@dataclass(frozen=True, repr=False)
class PathsResult(Result):
    """Top paths and the channel transitions (see :func:`top_paths`).

    Attributes
    ----------
    table : pandas.DataFrame
        The most frequent paths: ``path``, ``journeys``, ``conversions``, ``conversion_rate``
        with ``ci_low``/``ci_high`` (Wilson), ``revenue``, ``share_of_conversions``.
    transitions : pandas.DataFrame
        ``from``, ``to``, ``n``, ``probability`` (of ``to`` after ``from``).
    n_journeys, n_conversions, n_paths : int
    untracked_conversions : int
    lookback_days : float
    confidence : float
    """

    table: pd.DataFrame
    transitions: pd.DataFrame
    n_journeys: int
    n_conversions: int
    n_paths: int
    untracked_conversions: int
    lookback_days: float
    confidence: float

    def summary(self) -> pd.DataFrame:
        """The top paths."""
        return self.table.copy()

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of transition probabilities: from a channel (rows) to the next step (columns)."""
        tr = self.transitions
        rows = [_START, *sorted(set(tr["from"]) - {_START})]
        cols = [*sorted(set(tr["to"]) - {_CONV, _NULL}), _CONV, _NULL]
        m = tr.pivot_table(index="from", columns="to", values="probability", aggfunc="sum").reindex(index=rows,
                                                                                                   columns=cols)
        ax = new_axes(ax, figsize=(0.9 * len(cols) + 3, 0.5 * len(rows) + 2))
        v = m.to_numpy(float)
        im = ax.imshow(np.nan_to_num(v), cmap="Purples", vmin=0, vmax=1, aspect="auto")
        ax.grid(False)
        for (r, c), x in np.ndenumerate(v):
            if np.isfinite(x) and x >= 0.005:
                ax.text(c, r, pct(x, 0), ha="center", va="center", fontsize=8, color="white" if x > 0.6 else "black")
        lab = {_START: i18n.t("attribution.paths.start"), _CONV: i18n.t("attribution.paths.conversion"),
               _NULL: i18n.t("attribution.paths.no_conversion")}  # fmt: skip
        ax.set_xticks(range(len(cols)), [lab.get(c, c) for c in cols], rotation=30, ha="right")
        ax.set_yticks(range(len(rows)), [lab.get(r, r) for r in rows])
        ax.set_xlabel(i18n.t("attribution.paths.to"))
        ax.set_ylabel(i18n.t("attribution.paths.from"))
        ax.set_title(i18n.t("attribution.paths.plot_title"))
        ax.figure.colorbar(im, ax=ax, fraction=0.04)
        return ax

    def metrics(self) -> dict[str, Any]:
        return {"n_journeys": self.n_journeys, "n_conversions": self.n_conversions, "n_paths": self.n_paths,
                "untracked_conversions": self.untracked_conversions,
                "top_path": str(self.table["path"].iloc[0]) if len(self.table) else None}  # fmt: skip

    def finding(self) -> str:
        t = self.table
        best = t[t["journeys"] >= 30].sort_values("conversion_rate", ascending=False)
        best = best.iloc[0] if len(best) else t.sort_values("conversion_rate", ascending=False).iloc[0]
        rate = self.n_conversions / max(self.n_journeys, 1)
        return i18n.t("attribution.paths.finding", n=count(self.n_journeys), conv=count(self.n_conversions),
                      rate=pct(rate), paths=count(self.n_paths), top=t["path"].iloc[0],
                      top_n=count(t["journeys"].iloc[0]), best=best["path"], rate_best=pct(best["conversion_rate"]),
                      low=pct(best["ci_low"]), high=pct(best["ci_high"]),
                      untracked=count(self.untracked_conversions), lookback=f"{self.lookback_days:g}")  # fmt: skip


def top_paths(journeys: Journeys, *, top: int = 15, confidence: float = 0.95) -> PathsResult:
    """The most frequent paths with their conversion rates, and the channel transitions.

    Parameters
    ----------
    journeys : Journeys
    top : int, default 15
        Paths shown.
    confidence : float, default 0.95

    Returns
    -------
    PathsResult
    """
    jt = journeys.journeys
    g = jt.groupby("path").agg(journeys=("jid", "size"), conversions=("converted", "sum"), revenue=("value", "sum"))
    g = g.sort_values(["journeys", "conversions"], ascending=False).reset_index()
    lo, hi = wilson_interval(g["conversions"], g["journeys"], confidence=confidence)
    g["conversion_rate"] = g["conversions"] / g["journeys"]
    g["ci_low"], g["ci_high"] = lo, hi
    g["share_of_conversions"] = g["conversions"] / max(int(jt["converted"].sum()), 1)
    cols = ["path", "journeys", "conversions", "conversion_rate", "ci_low", "ci_high", "revenue",
            "share_of_conversions"]  # fmt: skip
    tr = journeys.transitions.rename(columns={"frm": "from"}).groupby(["from", "to"], as_index=False)["n"].sum()
    tr["probability"] = tr["n"] / tr.groupby("from")["n"].transform("sum")
    return PathsResult(table=g[cols].head(top).reset_index(drop=True), transitions=tr, n_journeys=len(jt),
                       n_conversions=int(jt["converted"].sum()), n_paths=len(g),
                       untracked_conversions=journeys.untracked_conversions, lookback_days=journeys.lookback_days,
                       confidence=confidence)  # fmt: skip


@dataclass(frozen=True, repr=False)
class JourneyShape(Result):
    """Path length and time to conversion (see :func:`journey_shape`).

    Attributes
    ----------
    lengths : pandas.DataFrame
        ``touches`` (1 .. 10, 10 = ten or more), ``journeys``, ``conversions``, ``conversion_rate``
        with ``ci_low``/``ci_high``.
    days : pandas.DataFrame
        Converting journeys by whole days from first touch to conversion: ``days``, ``conversions``,
        ``share``.
    median_days, p90_days, mean_touches_converting, mean_touches_other : float
    """

    lengths: pd.DataFrame
    days: pd.DataFrame
    median_days: float
    p90_days: float
    mean_touches_converting: float
    mean_touches_other: float

    def summary(self) -> pd.DataFrame:
        """Conversion rate by path length."""
        return self.lengths.copy()

    def to_frame(self) -> pd.DataFrame:
        """Days from first touch to conversion."""
        return self.days.copy()

    def plot(self, ax: Any = None) -> Any:
        """Conversion rate by path length (bars, with the interval); the median days to conversion in the title."""
        ax = new_axes(ax, figsize=(8, 4))
        L = self.lengths
        ax.bar(L["touches"].astype(str), L["conversion_rate"], color="#4C72B0",
               yerr=[L["conversion_rate"] - L["ci_low"], L["ci_high"] - L["conversion_rate"]], capsize=3)  # fmt: skip
        ax.set_xlabel(i18n.t("attribution.shape.touches"))
        ax.set_ylabel(i18n.label("conversion_rate"))
        ax.set_title(i18n.t("attribution.shape.plot_title", median=f"{self.median_days:.1f}"))
        ax.yaxis.set_major_formatter(lambda v, _: pct(v, 0))
        return ax

    def metrics(self) -> dict[str, Any]:
        return {"median_days_to_conversion": self.median_days, "p90_days_to_conversion": self.p90_days,
                "mean_touches_converting": self.mean_touches_converting,
                "mean_touches_other": self.mean_touches_other}  # fmt: skip

    def finding(self) -> str:
        return i18n.t("attribution.shape.finding", conv=f"{self.mean_touches_converting:.2f}",
                      other=f"{self.mean_touches_other:.2f}", median=f"{self.median_days:.1f}",
                      p90=f"{self.p90_days:.1f}")  # fmt: skip


def journey_shape(journeys: Journeys, *, confidence: float = 0.95) -> JourneyShape:
    """Path length and time-to-conversion distributions.

    Parameters
    ----------
    journeys : Journeys
    confidence : float, default 0.95

    Returns
    -------
    JourneyShape
    """
    jt = journeys.journeys
    n = jt["n_touches"].clip(upper=10)
    L = jt.assign(touches=n).groupby("touches").agg(journeys=("jid", "size"), conversions=("converted", "sum"))
    L = L.reset_index()
    L["conversion_rate"] = L["conversions"] / L["journeys"]
    L["ci_low"], L["ci_high"] = wilson_interval(L["conversions"], L["journeys"], confidence=confidence)
    c = jt[jt["converted"]]
    d = (pd.to_datetime(c["conv_time"]) - pd.to_datetime(c["first_time"])).dt.total_seconds() / 86400
    days = np.floor(d).astype(int).value_counts().sort_index().rename_axis("days").rename("conversions").reset_index()
    days["share"] = days["conversions"] / max(len(c), 1)
    conv = jt["converted"].to_numpy(bool)
    return JourneyShape(lengths=L, days=days, median_days=float(d.median()) if len(d) else float("nan"),
                        p90_days=float(d.quantile(0.9)) if len(d) else float("nan"),
                        mean_touches_converting=float(jt.loc[conv, "n_touches"].mean()),
                        mean_touches_other=float(jt.loc[~conv, "n_touches"].mean()))  # fmt: skip

