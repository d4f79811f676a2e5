"""Service performance: CSAT, response and resolution times, resolution, first-contact
resolution, repeat contacts and SLA breaches, overall and by channel, category and month."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.report.fmt import count, interval, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.service._common import check_columns, group_levels, median_interval, ticket_times
from workbench.stats import wilson_interval

__all__ = ["ServicePerformance", "service_performance", "repeat_contacts"]

_RATES = ("csat_rate", "resolution_rate", "fcr_rate", "repeat_rate", "sla_first_breach_rate", "sla_resolution_breach_rate")


def repeat_contacts(tickets: pd.DataFrame, *, fcr_days: int) -> pd.Series:
    """Whether the same customer opened another ticket on the same category within ``fcr_days``
    days after each ticket (same index).

    Examples
    --------
    >>> tk = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "category": ["x", "x", "y", "x"],
    ...                    "opened_at": pd.to_datetime(["2025-01-01", "2025-01-03", "2025-01-04", "2025-01-01"])})
    >>> repeat_contacts(tk, fcr_days=7).tolist()
    [True, False, False, False]
    """
    cat = tickets["category"].astype("string").fillna("") if "category" in tickets.columns else pd.Series("", index=tickets.index)
    d = pd.DataFrame({"c": tickets["customer_id"].astype(str).to_numpy(), "k": cat.to_numpy(),
                      "t": pd.to_datetime(tickets["opened_at"]).to_numpy()}, index=tickets.index)  # fmt: skip
    d = d.sort_values(["c", "k", "t"], kind="stable")
    same = (d["c"].shift(-1) == d["c"]) & (d["k"].shift(-1) == d["k"])
    gap = d["t"].shift(-1) - d["t"]
    rep = same & (gap <= pd.Timedelta(days=fcr_days))
    return rep.reindex(tickets.index).fillna(False).astype(bool)


@dataclass(frozen=True, eq=False, repr=False)
class ServicePerformance(Result):
    """Service KPIs with 95 % intervals (see :func:`service_performance`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per ``dimension`` (``all``, ``channel``, ``category``, ``month``) and ``level``:
        ``n``; ``csat_rate`` (share of rated tickets at or above ``csat_good``), ``mean_satisfaction``;
        ``first_response_hours`` and ``resolution_hours`` (medians) with ``_low``/``_high``;
        ``resolution_rate``, ``fcr_rate`` (resolved with no repeat contact on the same category
        within ``fcr_days``), ``repeat_rate``, ``sla_first_breach_rate``, ``sla_resolution_breach_rate`` with
        Wilson ``_low``/``_high``.
    tickets : pandas.DataFrame
        Per ticket: ``ticket_id``, ``channel``, ``category``, ``month``, times, flags.
    fcr_days, sla_first_response_hours, sla_resolution_hours, csat_good : options used
    """

    table: pd.DataFrame
    tickets: pd.DataFrame
    fcr_days: int
    sla_first_response_hours: float
    sla_resolution_hours: float
    csat_good: float
    notes: list[str] = field(default_factory=list)

    def overall(self) -> pd.Series:
        """The ``all`` row."""
        return self.table[self.table["dimension"] == "all"].iloc[0]

    def by(self, dimension: str) -> pd.DataFrame:
        """Rows of one dimension (``channel``, ``category``, ``month``)."""
        return self.table[self.table["dimension"] == dimension].reset_index(drop=True)

    def table_by(self, dimension: str) -> pd.DataFrame:
        """Rows of one dimension for display: the level under the dimension's own column name
        (``channel``, ``ticket_category``, ``month``)."""
        out = self.by(dimension).drop(columns=["dimension"])
        out["level"] = [category("service_level", v) for v in out["level"]]
        return out.rename(columns={"level": {"category": "ticket_category"}.get(dimension, dimension)})

    def summary(self) -> pd.DataFrame:
        cols = ["level", "n", "csat_rate", "csat_rate_low", "csat_rate_high", "first_response_hours", "resolution_rate",
                "resolution_rate_low", "resolution_rate_high", "fcr_rate", "fcr_rate_low", "fcr_rate_high", "sla_first_breach_rate"]
        out = self.table[self.table["dimension"].isin(["all", "channel"])][cols].reset_index(drop=True)
        out["level"] = [category("service_level", v) for v in out["level"]]
        return out.rename(columns={"level": "channel"})

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def metrics(self) -> dict[str, Any]:
        o = self.overall()
        out = {k: num(o[k]) for k in ("n", "csat_rate", "mean_satisfaction", "first_response_hours", "resolution_hours",
                                       *_RATES)}  # fmt: skip
        out["n"] = int(o["n"])
        out["by_channel"] = {str(r["level"]): {k: num(r[k]) for k in ("n", "csat_rate", "fcr_rate", "first_response_hours")}
                             for _, r in self.by("channel").iterrows()}  # fmt: skip
        out["options"] = {"fcr_days": self.fcr_days, "sla_first_response_hours": self.sla_first_response_hours,
                          "sla_resolution_hours": self.sla_resolution_hours, "csat_good": self.csat_good}  # fmt: skip
        return out

    def finding(self) -> str:
        o = self.overall()
        ch = self.by("channel").dropna(subset=["fcr_rate"])
        worst = ch.sort_values("fcr_rate").iloc[0] if len(ch) else None
        text = t(
            "service.performance.finding", n=count(o["n"]),
            csat=interval(o["csat_rate"], o["csat_rate_low"], o["csat_rate_high"]),
            frt=f"{o['first_response_hours']:.1f}", fcr=interval(o["fcr_rate"], o["fcr_rate_low"], o["fcr_rate_high"]),
            days=self.fcr_days, breach=pct(o["sla_first_breach_rate"]), sla=f"{self.sla_first_response_hours:g}",
        )  # fmt: skip
        if worst is not None and len(ch) > 1:
            text += t("service.performance.worst", channel=category("service_level", worst["level"]),
                      fcr=interval(worst["fcr_rate"], worst["fcr_rate_low"], worst["fcr_rate_high"]))  # fmt: skip
        return text

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax, figsize=(8, 4))
        m = self.by("month")
        if len(m):
            x = np.arange(len(m))
            for col, key in (("csat_rate", "csat_rate"), ("fcr_rate", "fcr_rate"), ("sla_first_breach_rate", "sla_first_breach_rate")):
                ax.plot(x, m[col], marker="o", label=t(f"service.performance.series.{key}"))
                ax.fill_between(x, m[f"{col}_low"], m[f"{col}_high"], alpha=0.15)
            step = max(1, len(m) // 12)
            ax.set_xticks(x[::step], m["level"].iloc[::step], rotation=45, ha="right")
            ax.legend(loc="best")
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_title(t("service.performance.title"))
        ax.set_xlabel(t("service.performance.month"))
        ax.set_ylabel(t("service.performance.share"))
        return ax

    def __repr__(self) -> str:
        return f"ServicePerformance(tickets={len(self.tickets):,}, rows={len(self.table)})"


def _rows(d: pd.DataFrame, dimension: str, key: pd.Series | None, confidence: float) -> list[dict[str, Any]]:
    groups = [("all", d)] if key is None else list(d.groupby(key, sort=True))
    rows = []
    for level, g in groups:
        r: dict[str, Any] = {"dimension": dimension, "level": str(level), "n": len(g)}
        rated = g["satisfaction"].notna()
        r["mean_satisfaction"] = float(g["satisfaction"].mean()) if rated.any() else np.nan
        for col, k, n in (
            ("csat_rate", int(g.loc[rated, "good"].sum()), int(rated.sum())),
            ("resolution_rate", int(g["resolved"].sum()), len(g)),
            ("fcr_rate", int(g["fcr_ok"].sum()), len(g)),
            ("repeat_rate", int(g["repeat"].sum()), len(g)),
            ("sla_first_breach_rate", int(g["first_breach"].sum()), int(g["first_response_hours"].notna().sum() + g["no_response"].sum())),
            ("sla_resolution_breach_rate", int(g["resolution_breach"].sum()), int(g["resolution_hours"].notna().sum() + g["open_late"].sum())),
        ):
            lo, hi = wilson_interval(k, n, confidence=confidence)
            r[col], r[f"{col}_low"], r[f"{col}_high"] = (k / n if n else np.nan), float(lo[0]), float(hi[0])
        for col in ("first_response_hours", "resolution_hours"):
            r[col], r[f"{col}_low"], r[f"{col}_high"] = median_interval(g[col].to_numpy(), confidence=confidence)
        rows.append(r)
    return rows


def service_performance(
    tickets: pd.DataFrame,
    *,
    fcr_days: int = 7,
    sla_first_response_hours: float = 4.0,
    sla_resolution_hours: float = 48.0,
    csat_good: float = 4,
    max_levels: int = 30,
    as_of: Any = None,
    confidence: float = 0.95,
) -> ServicePerformance:
    """Service KPIs overall and by channel, category and month.

    Parameters
    ----------
    tickets : pandas.DataFrame
        Canonical tickets (``customer_id``, ``opened_at``; optional ``first_response_at``,
        ``resolved_at``, ``satisfaction``, ``channel``, ``category``).
    fcr_days : int, default 7
        A ticket is resolved at first contact when it is resolved and the customer opens no other
        ticket on the same category within this many days.
    sla_first_response_hours, sla_resolution_hours : float
        Service levels: a first response (a resolution) later than this is a breach; a ticket
        without one that is older than the limit at ``as_of`` is a breach too.
    csat_good : float, default 4
        Satisfaction at or above this counts as satisfied (CSAT = share satisfied of rated).
    max_levels : int, default 30
        Channels / categories beyond the most frequent ``max_levels`` are grouped as ``(other)``.
    as_of : date, optional
        Tickets opened after it are left out; default the last ticket.
    confidence : float, default 0.95

    Returns
    -------
    ServicePerformance

    Raises
    ------
    AnalysisError
        Tickets without ``customer_id`` / ``opened_at``, or no ticket by ``as_of``.
    """
    check_columns(tickets, "tickets", ("customer_id", "opened_at"))
    times = ticket_times(tickets)
    end = (pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)) if as_of is not None else times["opened_at"].max()
    keep = (times["opened_at"] <= end).to_numpy()
    tk, times = tickets[keep], times[keep]
    check_columns(tk, "tickets", ())
    d = times.copy()
    d["customer_id"] = tk["customer_id"].to_numpy()
    d["channel"] = group_levels(tk["channel"], column="tickets.channel", max_levels=max_levels) if "channel" in tk else "(all)"
    d["category"] = group_levels(tk["category"], column="tickets.category", max_levels=max_levels) if "category" in tk else "(all)"
    d["month"] = d["opened_at"].dt.to_period("M").astype(str)
    sat = pd.to_numeric(tk["satisfaction"], errors="coerce") if "satisfaction" in tk else pd.Series(np.nan, index=tk.index)
    d["satisfaction"] = sat.to_numpy()
    d["good"] = (sat >= csat_good).to_numpy()
    d["repeat"] = repeat_contacts(d.assign(category=d["category"]), fcr_days=fcr_days).to_numpy()
    d["fcr_ok"] = d["resolved"] & ~d["repeat"]
    age_h = (end - d["opened_at"]).dt.total_seconds() / 3600
    d["no_response"] = d["first_response_hours"].isna() & (age_h > sla_first_response_hours)
    d["open_late"] = d["resolution_hours"].isna() & (age_h > sla_resolution_hours)
    d["first_breach"] = (d["first_response_hours"] > sla_first_response_hours) | d["no_response"]
    d["resolution_breach"] = (d["resolution_hours"] > sla_resolution_hours) | d["open_late"]
    rows = _rows(d, "all", None, confidence)
    for dim in ("channel", "category", "month"):
        rows += _rows(d, dim, d[dim], confidence)
    if "ticket_id" in tk:
        d.insert(0, "ticket_id", tk["ticket_id"].to_numpy())
    return ServicePerformance(
        table=pd.DataFrame(rows), tickets=d.reset_index(drop=True), fcr_days=fcr_days,
        sla_first_response_hours=sla_first_response_hours, sla_resolution_hours=sla_resolution_hours,
        csat_good=csat_good,
    )  # fmt: skip
