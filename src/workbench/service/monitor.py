"""Monitoring (舆情监测): the weekly share of negative contacts and of each topic, with a spike
alert (robust z over a trailing window) so a team sees a problem the week it starts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["Monitoring", "weekly_monitor", "robust_z"]


def robust_z(
    values: np.ndarray, *, counts: np.ndarray | None = None, window: int = 8, min_history: int = 4
) -> np.ndarray:
    """Robust z of each share against the ``window`` shares before it: ``(x - median) / scale``
    with ``scale = max(1.4826 MAD, sqrt(median (1 - median) / n))`` when ``counts`` (the week's
    texts ``n``) are given, else ``max(1.4826 MAD, 0.01)``: a flat history or a small week never
    makes sampling noise look like a spike. NaN with fewer than ``min_history`` earlier values.

    Examples
    --------
    >>> z = robust_z(np.array([0.10, 0.11, 0.09, 0.10, 0.12, 0.10, 0.30]), window=6)
    >>> round(float(z[-1]), 1)
    20.0
    """
    x = np.asarray(values, dtype="float64")
    z = np.full(x.size, np.nan)
    for i in range(x.size):
        h = x[max(0, i - window) : i]
        h = h[np.isfinite(h)]
        if h.size < min_history or not np.isfinite(x[i]):
            continue
        med = np.median(h)
        floor = np.sqrt(max(med * (1 - med), 1e-4) / counts[i]) if counts is not None and counts[i] > 0 else 0.01
        z[i] = (x[i] - med) / max(1.4826 * np.median(np.abs(h - med)), floor)
    return z


@dataclass(frozen=True, eq=False, repr=False)
class Monitoring(Result):
    """Weekly shares with spike alerts (see :func:`weekly_monitor`).

    Attributes
    ----------
    weekly : pandas.DataFrame
        ``week`` (Monday), ``series`` (``negative`` or ``topic:<name>``), ``n`` (texts that week),
        ``k`` (of them in the series), ``share``, ``z``, ``alert``.
    alerts : pandas.DataFrame
        The alert rows, newest first.
    window, threshold, min_count : options used
    """

    weekly: pd.DataFrame
    alerts: pd.DataFrame
    window: int
    threshold: float
    min_count: int

    def summary(self) -> pd.DataFrame:
        out = self.alerts[["week", "series", "n", "k", "share", "z"]].head(15).copy()
        out["series"] = [self._series_label(s) for s in out["series"]]
        return out.rename(columns={"week": "monitor_week", "series": "monitor_series", "k": "n_series", "z": "robust_z"})

    def to_frame(self) -> pd.DataFrame:
        return self.weekly

    @staticmethod
    def _series_label(s: str) -> str:
        return category("service_level", s.split(":", 1)[1]) if s.startswith("topic:") else t("service.monitor.negative")

    def metrics(self) -> dict[str, Any]:
        neg = self.weekly[self.weekly["series"] == "negative"]
        return {
            "n_weeks": int(neg["week"].nunique()), "n_alerts": len(self.alerts),
            "alerts": [{"week": str(pd.Timestamp(r["week"]).date()), "series": str(r["series"]), "z": num(r["z"]),
                        "share": num(r["share"])} for _, r in self.alerts.head(10).iterrows()],
            "last_week_negative_share": num(neg["share"].iloc[-1]) if len(neg) else None,
            "options": {"window": self.window, "threshold": self.threshold, "min_count": self.min_count},
        }  # fmt: skip

    def finding(self) -> str:
        neg = self.weekly[self.weekly["series"] == "negative"]
        if not len(self.alerts):
            return t("service.monitor.quiet", weeks=count(neg["week"].nunique()), threshold=f"{self.threshold:g}",
                     share=pct(neg["share"].iloc[-1]) if len(neg) else "–")  # fmt: skip
        a = self.alerts.iloc[0]
        return t("service.monitor.finding", n=count(len(self.alerts)), week=date_text(a["week"]),
                 series=self._series_label(a["series"]), share=pct(a["share"]), z=f"{a['z']:.1f}",
                 threshold=f"{self.threshold:g}")  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax, figsize=(9, 4))
        neg = self.weekly[self.weekly["series"] == "negative"]
        ax.plot(neg["week"], neg["share"], color="#C44E52", label=t("service.monitor.negative"))
        topics = self.weekly[self.weekly["series"].str.startswith("topic:")]
        top = topics.groupby("series")["k"].sum().sort_values(ascending=False).index[:4]
        for s in top:
            d = topics[topics["series"] == s]
            ax.plot(d["week"], d["share"], linewidth=1, alpha=0.8, label=self._series_label(s))
        al = self.alerts
        if len(al):
            ax.scatter(al["week"], al["share"], marker="^", s=60, color="black", zorder=5, label=t("service.monitor.alert"))
        ax.yaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_ylabel(t("service.monitor.share"))
        ax.set_xlabel(t("service.monitor.week"))
        ax.set_title(t("service.monitor.title"))
        ax.legend(loc="upper left", fontsize=8)
        return ax

    def __repr__(self) -> str:
        return f"Monitoring(weeks={self.weekly['week'].nunique()}, alerts={len(self.alerts)})"


def weekly_monitor(
    scores: pd.DataFrame,
    *,
    window: int = 8,
    threshold: float = 3.0,
    min_count: int = 5,
    min_texts: int = 20,
    last_weeks: int | None = 104,
) -> Monitoring:
    """Weekly shares of negative texts and of each topic, and their spikes.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``SentimentResult.scores`` (``time``, ``sentiment``, ``topic``).
    window : int, default 8
        Trailing weeks the robust z compares with.
    threshold : float, default 3
        Alert when the robust z reaches it.
    min_count : int, default 5
        ... and at least this many texts of the series that week.
    min_texts : int, default 20
        Weeks with fewer texts are not scored (too noisy).
    last_weeks : int, optional
        Only the latest weeks (None: all).
    """
    d = scores.dropna(subset=["time"])
    week = pd.to_datetime(d["time"]).dt.to_period("W-SUN").dt.start_time
    frame = pd.DataFrame({"week": week.to_numpy(), "negative": (d["sentiment"] == "negative").to_numpy(),
                          "topic": d["topic"].astype(str).to_numpy()})  # fmt: skip
    weeks = pd.date_range(frame["week"].min(), frame["week"].max(), freq="7D")
    if last_weeks:
        weeks = weeks[-last_weeks:]
    n = frame.groupby("week").size().reindex(weeks, fill_value=0)
    series = {"negative": frame.groupby("week")["negative"].sum().reindex(weeks, fill_value=0)}
    for tp, g in frame[frame["topic"] != "(none)"].groupby("topic"):
        series[f"topic:{tp}"] = g.groupby("week").size().reindex(weeks, fill_value=0)
    rows = []
    for name, k in series.items():
        share = (k / n.where(n >= min_texts)).to_numpy(dtype="float64")
        z = robust_z(share, counts=n.to_numpy(dtype="float64"), window=window)
        rows.append(pd.DataFrame({"week": weeks, "series": name, "n": n.to_numpy(), "k": k.to_numpy(), "share": share,
                                  "z": z}))  # fmt: skip
    weekly = pd.concat(rows, ignore_index=True)
    weekly["alert"] = (weekly["z"] >= threshold) & (weekly["k"] >= min_count)
    alerts = weekly[weekly["alert"]].sort_values(["week", "z"], ascending=[False, False]).reset_index(drop=True)
    return Monitoring(weekly=weekly, alerts=alerts, window=window, threshold=threshold, min_count=min_count)
