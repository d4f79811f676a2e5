"""Churners who left unhappy (a bad service experience before leaving) vs those who drifted away."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import Text, neutral, purchase_mask
from workbench.churn.frame import ChurnFrame
from workbench.core.dates import end_of
from workbench.core.errors import AnalysisError
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["ChurnReasons", "unhappy_vs_drift"]

#: Days of the recent and the previous spending window (half-years) before the last purchase.
_HALF_YEAR, _YEAR = 182.6, 365.25
_TABLE_COLUMNS = [
    "customer_id", "reason", "n_bad_tickets", "n_complaints", "n_low_csat", "n_slow", "last_bad_ticket_at",
    "last_purchase", "spend_recent", "spend_before", "spend_change", "spend_dropped", "duration_months",
    "days_ticket_to_last_purchase",
]  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class ChurnReasons(Result):
    """Churners split into those who left unhappy and those who drifted away (see :func:`unhappy_vs_drift`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per churner: ``customer_id``, ``reason`` (``unhappy``/``drift``), ``n_bad_tickets``,
        ``n_complaints``, ``n_low_csat``, ``n_slow``, ``last_bad_ticket_at``, ``spend_recent``,
        ``spend_before``, ``spend_change``, ``spend_dropped``, ``duration_months``,
        ``days_ticket_to_last_purchase``.
    profile : pandas.DataFrame
        One row per reason: customers, share with Wilson interval, mean tenure at churn, median
        days from the last bad ticket to the last purchase, mean spend, share with a spend drop.
    rule : str
    """

    table: pd.DataFrame
    profile: pd.DataFrame
    rule: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The profile per reason (reasons in words)."""
        return self.profile.assign(reason=self.profile["reason"].map(_reason_label))

    def to_frame(self) -> pd.DataFrame:
        """One row per churner."""
        return self.table.copy()

    def agreement(self, truth: pd.Series) -> pd.DataFrame:
        """Confusion table of the assigned reason against a true reason (e.g. the generator's
        ``truth_customers.churn_reason``), indexed by ``customer_id``; churners only."""
        tr = truth.rename("truth")
        m = self.table.set_index("customer_id")[["reason"]].join(tr, how="left")
        out = pd.crosstab(m["reason"], m["truth"].fillna("(unknown)"), margins=True)
        return out.rename(index=_reason_label, columns=_reason_label)

    def metrics(self) -> dict[str, Any]:
        """Counts and shares per reason (JSON-able)."""
        return {
            "rule": neutral(self.rule),
            "reasons": {
                str(r.reason): {
                    "customers": int(r.customers),
                    "share": num(r.share),
                    "mean_tenure_months": num(r.mean_tenure_months),
                }
                for r in self.profile.itertuples()
            },  # fmt: skip
        }

    def finding(self) -> str:
        """How many churners left unhappy vs drifted, and how they differ, from the numbers."""
        p = self.profile.set_index("reason")
        parts = []
        if "unhappy" in p.index:
            u = p.loc["unhappy"]
            parts.append(t("churn.reasons.unhappy", n=count(u["customers"]), share=pct(u["share"]), low=pct(u["lower"]),
                           high=pct(u["upper"]), rule=self.rule))
            if pd.notna(u["median_days_ticket_to_last_purchase"]):
                parts.append(t("churn.reasons.window", days=f"{u['median_days_ticket_to_last_purchase']:.0f}"))
        if "drift" in p.index:
            d = p.loc["drift"]
            if pd.notna(d["share_spend_dropped"]):
                parts.append(t("churn.reasons.drift_spend", n=count(d["customers"]), share=pct(d["share"]),
                               dropped=pct(d["share_spend_dropped"])))
            else:
                parts.append(t("churn.reasons.drift", n=count(d["customers"]), share=pct(d["share"])))
        if {"unhappy", "drift"} <= set(p.index):
            parts.append(t("churn.reasons.tenure", unhappy=f"{p.loc['unhappy', 'mean_tenure_months']:.1f}",
                           drift=f"{p.loc['drift', 'mean_tenure_months']:.1f}"))
        parts += map(str, self.notes)
        return t("churn.join").join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Churners per reason, split by whether spending dropped first.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(6, 3.5))
        d = self.table.assign(
            spend=np.where(self.table["spend_dropped"].fillna(False), t("churn.reasons.plot.dropped"),
                           t("churn.reasons.plot.no_drop")),
            reason=self.table["reason"].map(_reason_label),
        )
        sns.countplot(data=d, x="reason", hue="spend", ax=ax)
        ax.set_title(t("churn.reasons.plot.title"))
        ax.set_xlabel(t("churn.reasons.plot.xlabel"))
        ax.set_ylabel(t("churn.reasons.plot.ylabel"))
        if ax.get_legend() is not None:
            ax.get_legend().set_title("")
        return ax

    def __repr__(self) -> str:
        vc = self.table["reason"].value_counts()
        unhappy, drift = int(vc.get("unhappy", 0)), int(vc.get("drift", 0))
        return f"ChurnReasons(churners={len(self.table):,}, unhappy={unhappy:,}, drift={drift:,})"


def _reason_label(value: Any) -> str:
    """A reason code (``unhappy``, ``drift``, ``All``, ``(unknown)``) in words."""
    return category("churn_reason", value)


def unhappy_vs_drift(
    frame: ChurnFrame,
    *,
    tickets: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    lookback_days: int = 90,
    csat_max: float = 2,
    slow_response_hours: float = 24,
    spend_drop: float = 0.5,
    as_of: Any = None,
    confidence: float = 0.95,
) -> ChurnReasons:
    """Split churners into those who left unhappy and those who drifted away.

    A churner left **unhappy** when a bad service experience falls in the ``lookback_days``
    before their last activity (last purchase on or before ``as_of``; ``as_of`` without orders)
    or between it and ``as_of``: a complaint (``is_complaint``) rated at or below ``csat_max``,
    any ticket rated at or below ``csat_max``, or a first response slower than
    ``slow_response_hours``. The others **drifted**. Independently, the spending trajectory is
    measured: spend in the half-year before the last purchase vs the half-year before that;
    ``spend_dropped`` when it fell by at least ``spend_drop``.

    Parameters
    ----------
    frame : ChurnFrame
    tickets : pandas.DataFrame or None
        Canonical tickets (``customer_id``, ``opened_at``; ``is_complaint``, ``satisfaction``,
        ``first_response_at`` when present).
    orders : pandas.DataFrame or None
        Canonical orders (for last activity and spend trajectory).
    lookback_days : int, default 90
        Service history before leaving that counts.
    csat_max : float, default 2
        Satisfaction at or below this is a bad experience.
    slow_response_hours : float, default 24
        A first response slower than this is a bad experience.
    spend_drop : float, default 0.5
        Spend fell by at least this share (last vs previous half-year): ``spend_dropped``.
    as_of : date, optional
        Default ``frame.as_of``.
    confidence : float, default 0.95
        Level of the Wilson intervals of the shares.

    Returns
    -------
    ChurnReasons

    Raises
    ------
    AnalysisError
        Neither tickets nor orders.
    """
    if tickets is None and orders is None:
        raise AnalysisError("unhappy_vs_drift needs service tickets (tickets=) or orders (orders=)")
    as_of = pd.Timestamp(as_of if as_of is not None else frame.as_of).normalize()
    end = end_of(as_of)
    ch = frame.table.loc[frame.table["churned"] == 1, ["customer_id", "duration_months"]].reset_index(drop=True)
    notes: list[str] = []
    if orders is not None:
        ch = _step_spending(ch, orders, end=end, spend_drop=spend_drop)
        anchor = ch["last_purchase"].fillna(as_of)
    else:
        ch["last_purchase"] = pd.NaT
        for col in ("spend_recent", "spend_before", "spend_change"):
            ch[col] = np.nan
        ch["spend_dropped"] = pd.array([pd.NA] * len(ch), dtype="boolean")
        anchor = pd.Series(as_of, index=ch.index)
        notes.append(Text("churn.reasons.note.no_orders"))
    for col in ("n_complaints", "n_low_csat", "n_slow", "n_bad_tickets"):
        ch[col] = 0
    ch["last_bad_ticket_at"] = pd.NaT
    if tickets is not None:
        ch = _step_bad_tickets(
            ch, tickets, anchor=anchor, end=end, lookback_days=lookback_days, csat_max=csat_max,
            slow_response_hours=slow_response_hours,
        )  # fmt: skip
        rule = Text("churn.reasons.rule.tickets", csat_max=f"{csat_max:g}", hours=f"{slow_response_hours:g}",
                    days=lookback_days)
    else:
        rule = Text("churn.reasons.rule.none")
        notes.append(Text("churn.reasons.note.no_tickets"))
    ch["reason"] = np.where(ch["n_bad_tickets"] > 0, "unhappy", "drift")
    ch["days_ticket_to_last_purchase"] = (ch["last_purchase"] - ch["last_bad_ticket_at"]).dt.total_seconds() / 86400
    profile = _step_profile(ch, confidence=confidence)
    return ChurnReasons(table=ch[_TABLE_COLUMNS], profile=profile, rule=rule, notes=notes)


def _step_spending(ch: pd.DataFrame, orders: pd.DataFrame, *, end: pd.Timestamp, spend_drop: float) -> pd.DataFrame:
    """Last purchase before ``end`` and spend in the half-year before it vs the half-year before that."""
    buy = purchase_mask(orders)
    ot = pd.to_datetime(orders["order_time"], errors="coerce")
    o = pd.DataFrame({"customer_id": orders["customer_id"].to_numpy(), "t": ot.to_numpy(),
                      "amount": orders["amount"].to_numpy()})[(buy & (ot < end)).to_numpy()]  # fmt: skip
    o = o[o["customer_id"].isin(ch["customer_id"])]
    last = o.groupby("customer_id")["t"].max().rename("last_purchase")
    ch = ch.merge(last, on="customer_id", how="left")
    o = o.merge(last, on="customer_id")
    age_d = (o["last_purchase"] - o["t"]).dt.total_seconds() / 86400
    recent = o.loc[age_d <= _HALF_YEAR].groupby("customer_id")["amount"].sum().rename("spend_recent")
    before = (
        o.loc[(age_d > _HALF_YEAR) & (age_d <= _YEAR)].groupby("customer_id")["amount"].sum().rename("spend_before")
    )
    ch = ch.merge(recent, on="customer_id", how="left").merge(before, on="customer_id", how="left")
    ch["spend_recent"] = ch["spend_recent"].fillna(0.0)
    ch["spend_change"] = np.where(ch["spend_before"] > 0, ch["spend_recent"] / ch["spend_before"] - 1, np.nan)
    dropped = np.where(ch["spend_before"] > 0, ch["spend_change"] <= -spend_drop, pd.NA)
    ch["spend_dropped"] = pd.array(dropped, dtype="boolean")
    return ch


def _step_bad_tickets(
    ch: pd.DataFrame,
    tickets: pd.DataFrame,
    *,
    anchor: pd.Series,
    end: pd.Timestamp,
    lookback_days: int,
    csat_max: float,
    slow_response_hours: float,
) -> pd.DataFrame:
    """Bad tickets of each churner from ``lookback_days`` before its anchor (last activity) to ``end``."""
    opened = pd.to_datetime(tickets["opened_at"], errors="coerce")
    tk = pd.DataFrame({"customer_id": tickets["customer_id"].to_numpy(), "opened": opened.to_numpy()})
    csat = pd.to_numeric(tickets["satisfaction"], errors="coerce") if "satisfaction" in tickets else np.nan
    tk["low"] = (pd.Series(csat, index=tickets.index) <= csat_max).to_numpy()
    comp = tickets["is_complaint"].fillna(False).astype(bool) if "is_complaint" in tickets else False
    tk["complaint_bad"] = (pd.Series(comp, index=tickets.index) & tk["low"].to_numpy()).to_numpy()
    if "first_response_at" in tickets:
        frh = (pd.to_datetime(tickets["first_response_at"], errors="coerce") - opened).dt.total_seconds() / 3600
        tk["slow"] = (frh > slow_response_hours).to_numpy()
    else:
        tk["slow"] = False
    tk = tk.merge(pd.DataFrame({"customer_id": ch["customer_id"], "anchor": anchor.to_numpy()}), on="customer_id")
    win = (tk["opened"] >= tk["anchor"] - pd.Timedelta(days=lookback_days)) & (tk["opened"] < end)
    tk = tk[win.to_numpy()]
    tk["bad"] = tk["low"] | tk["complaint_bad"] | tk["slow"]
    agg = tk.groupby("customer_id").agg(
        n_complaints=("complaint_bad", "sum"),
        n_low_csat=("low", "sum"),
        n_slow=("slow", "sum"),
        n_bad_tickets=("bad", "sum"),
    )
    agg["last_bad_ticket_at"] = tk[tk["bad"]].groupby("customer_id")["opened"].max()
    ch = ch.drop(columns=list(agg.columns)).merge(agg.reset_index(), on="customer_id", how="left")
    for col in ("n_complaints", "n_low_csat", "n_slow", "n_bad_tickets"):
        ch[col] = ch[col].fillna(0).astype("int64")
    return ch


def _step_profile(ch: pd.DataFrame, *, confidence: float) -> pd.DataFrame:
    """One row per reason: customers, share with a Wilson interval, tenure, timing and spending."""
    n = len(ch)
    rows = []
    for reason in ("unhappy", "drift"):
        g = ch[ch["reason"] == reason]
        k = len(g)
        lo, hi = wilson_interval(k, n, confidence=confidence)
        sd = g["spend_dropped"].dropna()
        rows.append(
            {
                "reason": reason, "customers": k, "share": k / n if n else np.nan, "lower": float(lo[0]),
                "upper": float(hi[0]), "mean_tenure_months": float(g["duration_months"].mean()),
                "median_days_ticket_to_last_purchase": float(g["days_ticket_to_last_purchase"].median()),
                "mean_spend_recent": float(g["spend_recent"].mean()),
                "share_spend_dropped": float(sd.astype(bool).mean()) if len(sd) else np.nan,
            }
        )  # fmt: skip
    return pd.DataFrame(rows)
