"""Customer-service KPIs: satisfaction, first response and resolution per channel, with intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.report import fmt
from workbench.report.i18n import category, label, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["ServiceKPIs", "service_kpis"]

_COLUMNS = (
    "tickets", "csat_n", "csat_mean", "csat_low", "csat_high",
    "satisfied", "satisfied_share", "satisfied_low", "satisfied_high",
    "first_response_median_h", "first_response_p90_h",
    "resolved", "resolution_rate", "resolution_low", "resolution_high", "resolve_median_h",
)  # fmt: skip


@dataclass(frozen=True)
class ServiceKPIs(Result):
    """Customer-service KPIs per group and overall (see :func:`service_kpis`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group, then ``overall`` (columns in :func:`service_kpis`).
    by : str
        The grouping column (first column of the table).
    confidence : float
        Level of the intervals.
    satisfied_min : float
        Lowest score that counts as satisfied.
    """

    table: pd.DataFrame
    by: str = "channel"
    confidence: float = 0.95
    satisfied_min: float = 4.0

    def to_frame(self) -> pd.DataFrame:
        """The KPI table: one row per group, then ``overall`` (codes, as in the artifacts)."""
        return self.table.copy()

    def summary(self) -> pd.DataFrame:
        """The KPI table as a reader sees it: the ``overall`` and ``(missing)`` rows labelled in
        the run's language (``categories.service_group``)."""
        out = self.table.copy()
        if len(out):
            out[self.by] = out[self.by].map(lambda g: category("service_group", g))
        return out

    def _overall(self) -> pd.Series | None:
        rows = self.table[self.table[self.by] == "overall"] if len(self.table) else self.table
        return rows.iloc[-1] if len(rows) else None

    def metrics(self) -> dict[str, Any]:
        """Overall tickets, satisfaction, resolution and first response (JSON-able)."""
        o = self._overall()
        if o is None:
            return {"tickets": 0}
        return {
            "tickets": int(o["tickets"]),
            "csat_mean": fmt.num(o["csat_mean"]),
            "satisfied_share": fmt.num(o["satisfied_share"]),
            "resolution_rate": fmt.num(o["resolution_rate"]),
            "first_response_median_h": fmt.num(o["first_response_median_h"]),
        }

    def finding(self) -> str:
        """Overall CSAT and resolution, and the group with the lowest satisfaction."""
        kpis = self.table.set_index(self.by) if len(self.table) else self.table
        if kpis.empty or "overall" not in kpis.index:
            return t("profiling.service.none")
        o = kpis.loc["overall"]
        text = t("profiling.service.finding", tickets=f"{int(o['tickets']):,}", mean=f"{o['csat_mean']:.2f}",
                 level=f"{self.confidence * 100:g}", low=f"{o['csat_low']:.2f}", high=f"{o['csat_high']:.2f}",
                 satisfied=f"{o['satisfied_share']:.0%}", resolved=f"{o['resolution_rate']:.0%}",
                 res_low=f"{o['resolution_low']:.0%}", res_high=f"{o['resolution_high']:.0%}",
                 response=f"{o['first_response_median_h']:.1f}")
        ch = kpis.drop(index="overall")
        ch = ch[ch["csat_n"] > 0]
        if len(ch) > 1:
            worst = ch["csat_mean"].idxmin()
            w = ch.loc[worst]
            separated = w["csat_high"] < o["csat_low"]
            text += t("profiling.service.lowest_below" if separated else "profiling.service.lowest_overlaps",
                      group=category("service_group", worst), mean=f"{w['csat_mean']:.2f}",
                      low=_two(w["csat_low"]), high=_two(w["csat_high"]))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Mean satisfaction per group with its interval (overall as a dashed line).

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(7, 3.5))
        groups = self.table[self.table[self.by] != "overall"]
        groups = groups[groups["csat_n"] > 0]
        if groups.empty:
            ax.text(0.5, 0.5, t("profiling.service.no_scores"), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        mean = groups["csat_mean"].to_numpy(dtype="float64")
        err = np.vstack([mean - groups["csat_low"].to_numpy(dtype="float64"),
                         groups["csat_high"].to_numpy(dtype="float64") - mean])  # fmt: skip
        ax.barh(groups[self.by].map(lambda g: category("service_group", g)).astype(str), mean, xerr=np.nan_to_num(err), capsize=3)
        o = self._overall()
        if o is not None and pd.notna(o["csat_mean"]):
            ax.axvline(o["csat_mean"], color="black", ls="--", lw=1, label=category("service_group", "overall"))
            ax.legend(loc="lower right")
        ax.invert_yaxis()
        ax.set_xlabel(t("profiling.service.axis"))
        ax.set_title(t("profiling.service.title", by=label(self.by)))
        return ax

    def __repr__(self) -> str:
        o = self._overall()
        tickets = 0 if o is None else int(o["tickets"])
        return f"ServiceKPIs(by={self.by!r}, groups={max(len(self.table) - 1, 0)}, tickets={tickets:,})"


def _two(x: Any) -> str:
    """A score with two decimals; a missing one (a single scored ticket has no interval) as n/a."""
    v = fmt.num(x)
    return t("profiling.common.na") if v is None else f"{v:.2f}"


def _hours(tickets: pd.DataFrame, col: str) -> np.ndarray:
    """Hours from ``opened_at`` to ``col`` (NaN when either is missing or absent)."""
    if col not in tickets or "opened_at" not in tickets:
        return np.full(len(tickets), np.nan)
    d = (tickets[col] - tickets["opened_at"]) / pd.Timedelta(hours=1)
    return d.to_numpy(dtype="float64", na_value=np.nan)


def _ticket_frame(tickets: pd.DataFrame, by: str, satisfied_min: float) -> pd.DataFrame:
    """One row per ticket: group, score, satisfied, first-response and resolution hours, resolved."""
    n = len(tickets)
    if by in tickets:
        group = tickets[by].astype("string").fillna("(missing)").to_numpy(dtype=object)
    else:
        group = np.full(n, "overall", dtype=object)
    score = (
        pd.to_numeric(tickets["satisfaction"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if "satisfaction" in tickets
        else np.full(n, np.nan)
    )
    ttr = _hours(tickets, "resolved_at")
    resolved = tickets["resolved_at"].notna().to_numpy() if "resolved_at" in tickets else np.zeros(n, dtype=bool)
    return pd.DataFrame(
        {"group": group, "score": score, "sat": np.where(np.isnan(score), np.nan, score >= satisfied_min),
         "frt": _hours(tickets, "first_response_at"), "ttr": np.where(resolved, ttr, np.nan), "resolved": resolved},
        index=tickets.index,
    )  # fmt: skip


def _aggregate(d: pd.DataFrame) -> dict[str, Any]:
    """Counts, CSAT moments and time medians of a group of tickets."""
    return {
        "tickets": len(d),
        "csat_n": int(d["score"].notna().sum()),
        "csat_mean": d["score"].mean(),
        "csat_sd": d["score"].std(ddof=1),
        "satisfied": int(np.nansum(d["sat"].to_numpy())),
        "first_response_median_h": d["frt"].median(),
        "first_response_p90_h": d["frt"].quantile(0.9),
        "resolved": int(d["resolved"].sum()),
        "resolve_median_h": d["ttr"].median(),
    }


def service_kpis(
    tickets: pd.DataFrame,
    *,
    by: str = "channel",
    satisfied_min: float = 4.0,
    confidence: float = 0.95,
) -> ServiceKPIs:
    """Customer-service KPIs per channel and overall, with confidence intervals.

    Parameters
    ----------
    tickets : pandas.DataFrame
        Canonical tickets: ``opened_at`` and optionally ``first_response_at``, ``resolved_at``,
        ``satisfaction`` and the ``by`` column.
    by : str, default "channel"
        Grouping column (missing values grouped as ``(missing)``); without it only the overall
        row is returned.
    satisfied_min : float, default 4.0
        Scores at or above it count as satisfied (CSAT 4-5 of 5).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    ServiceKPIs
        Its table (:meth:`ServiceKPIs.to_frame`) has one row per group, then ``overall``:
        ``tickets``; ``csat_n``, ``csat_mean``, ``csat_low``, ``csat_high`` (Student t
        interval); ``satisfied``, ``satisfied_share``, ``satisfied_low``, ``satisfied_high``
        (Wilson interval, among scored tickets);
        ``first_response_median_h``, ``first_response_p90_h`` (hours from opening to first
        response); ``resolved``, ``resolution_rate``, ``resolution_low``, ``resolution_high``
        (Wilson, resolved = ``resolved_at`` present); ``resolve_median_h`` (hours, resolved
        tickets).

    Examples
    --------
    >>> service_kpis(tickets_frame).finding()  # doctest: +SKIP
    """
    from scipy import stats as sps

    df = _ticket_frame(tickets, by, satisfied_min)
    rows = []
    if by in tickets:
        for g, d in df.groupby("group", sort=True):
            rows.append({by: g, **_aggregate(d)})
    rows.append({by: "overall", **_aggregate(df)})
    out = pd.DataFrame(rows)
    alpha = 1 - confidence
    m = out["csat_n"].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        tcrit = np.where(m > 1, sps.t.ppf(1 - alpha / 2, np.maximum(m - 1, 1)), np.nan)
        half = tcrit * out["csat_sd"].to_numpy() / np.sqrt(m)
    out["csat_low"] = out["csat_mean"] - half
    out["csat_high"] = out["csat_mean"] + half
    with np.errstate(invalid="ignore", divide="ignore"):
        out["satisfied_share"] = out["satisfied"] / out["csat_n"].where(out["csat_n"] > 0)
        out["resolution_rate"] = out["resolved"] / out["tickets"].where(out["tickets"] > 0)
    out["satisfied_low"], out["satisfied_high"] = wilson_interval(out["satisfied"], out["csat_n"],
                                                                  confidence=confidence)
    out["resolution_low"], out["resolution_high"] = wilson_interval(out["resolved"], out["tickets"],
                                                                    confidence=confidence)
    table = out[[by, *_COLUMNS]].reset_index(drop=True)
    return ServiceKPIs(table=table, by=by, confidence=confidence, satisfied_min=satisfied_min)
