"""Does service drive churn? Churn rates and hazard ratios (the shared Cox model, controlling for
tenure and value) by complaint, negative sentiment, slow first response and unresolved tickets;
the value at risk in unhappy customers; the service-recovery list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.core.privacy import pseudonymize
from workbench.data.consent import consent_by_customer
from workbench.modeling.cox import check_design, fit_phreg
from workbench.report.fmt import count, interval, money, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.service._common import check_columns
from workbench.stats import holm, wilson_interval

__all__ = ["ServiceChurn", "RecoveryList", "service_flags", "service_churn", "recovery_list", "FLAGS"]

#: Customer flags over the lookback window, in the order they are shown.
FLAGS: tuple[str, ...] = ("complaint", "negative", "slow_response", "unresolved", "unresolved_negative")


def service_flags(
    perf_tickets: pd.DataFrame,
    *,
    sentiment: pd.DataFrame | None = None,
    complaints: pd.Series | None = None,
    as_of: Any,
    lookback_days: int = 180,
    slow_response_hours: float = 4.0,
) -> pd.DataFrame:
    """Per customer with a ticket in the ``lookback_days`` up to ``as_of``: which service
    experiences they had.

    Parameters
    ----------
    perf_tickets : pandas.DataFrame
        ``ServicePerformance.tickets`` (``ticket_id``, ``customer_id``, ``opened_at``, times,
        ``resolved``, ``category``).
    sentiment : pandas.DataFrame, optional
        ``SentimentResult.scores`` (ticket rows: ``item_id`` = ticket id, ``sentiment``, ``topic``).
    complaints : pandas.Series, optional
        ``tickets.is_complaint`` by ticket id.
    as_of : date
    lookback_days : int, default 180
    slow_response_hours : float, default 4

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``n_tickets``, one 0/1 column per :data:`FLAGS`, ``last_contact``,
        ``last_topic`` (of the latest unresolved negative ticket, else the latest ticket).
    """
    end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
    d = perf_tickets[(perf_tickets["opened_at"] < end) & (perf_tickets["opened_at"] >= end - pd.Timedelta(days=lookback_days))]
    d = d.copy()
    tid = d["ticket_id"].astype(str) if "ticket_id" in d else pd.Series("", index=d.index)
    neg = pd.Series(False, index=d.index)
    topic = pd.Series("(none)", index=d.index, dtype=object)
    if sentiment is not None:
        s = sentiment[sentiment["source"] == "ticket"].drop_duplicates("item_id").set_index("item_id")
        neg = tid.map(s["sentiment"]).eq("negative")
        topic = tid.map(s["topic"]).fillna("(none)")
    d["complaint"] = tid.map(complaints).fillna(False).astype(bool) if complaints is not None else False
    d["negative"] = neg.to_numpy()
    d["slow_response"] = (d["first_response_hours"] > slow_response_hours).to_numpy() | d["first_response_hours"].isna().to_numpy()
    d["unresolved"] = ~d["resolved"].astype(bool)
    d["unresolved_negative"] = d["unresolved"] & d["negative"]
    d["topic"] = topic.to_numpy()
    d = d.sort_values("opened_at", kind="stable")
    g = d.groupby("customer_id", sort=False)
    out = g[list(FLAGS)].max().astype("int64")
    out.insert(0, "n_tickets", g.size().astype("int64"))
    out["last_contact"] = g["opened_at"].max()
    un = d[d["unresolved_negative"]].groupby("customer_id")["topic"].last()
    out["last_topic"] = un.reindex(out.index).fillna(g["topic"].last())
    return out.reset_index()


@dataclass(frozen=True, eq=False, repr=False)
class ServiceChurn(Result):
    """Churn by service experience (see :func:`service_churn`).

    Attributes
    ----------
    rates : pandas.DataFrame
        One row per flag: ``flag``, ``n_with``, ``churn_rate_with`` (+ ``_low``/``_high``),
        ``n_without``, ``churn_rate_without`` (+ intervals), ``churn_rate_difference``.
    hazards : pandas.DataFrame
        One row per flag: ``flag``, ``hr``, ``hr_low``, ``hr_high``, ``p``, ``p_holm`` (Holm across
        flags), ``n``, ``n_events``; each from a Cox model of that flag plus the log of value (the
        survival time is tenure, so tenure is the time scale).
    value_at_risk : dict
        ``customers``, ``value`` (total value of customers with an unresolved negative or a negative
        contact), ``expected_loss`` (value times their churn rate).
    population, value_column : str
    lookback_days : int
    """

    rates: pd.DataFrame
    hazards: pd.DataFrame
    value_at_risk: dict[str, Any]
    population: str
    value_column: str
    lookback_days: int
    n: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        out = self.rates.merge(self.hazards[["flag", "hr", "hr_low", "hr_high", "p_holm"]], on="flag", how="left")
        out["flag"] = [category("service_flag", f) for f in out["flag"]]
        return out.rename(columns={"flag": "service_flag"})

    def to_frame(self) -> pd.DataFrame:
        return self.rates.merge(self.hazards, on="flag", how="left")

    def metrics(self) -> dict[str, Any]:
        h = self.hazards.set_index("flag")
        r = self.rates.set_index("flag")
        return {
            "n": self.n, "population": self.population, "lookback_days": self.lookback_days,
            "hazard_ratios": {f: {k: num(h.loc[f, k]) for k in ("hr", "hr_low", "hr_high", "p_holm")} for f in h.index},
            "churn_rates": {f: {k: num(r.loc[f, k]) for k in ("churn_rate_with", "churn_rate_without", "n_with")} for f in r.index},
            "value_at_risk": {k: num(v) for k, v in self.value_at_risk.items()},
        }  # fmt: skip

    def finding(self) -> str:
        h = self.hazards.dropna(subset=["hr"]).sort_values("p_holm")
        if not len(h):
            return t("service.churn.none", n=count(self.n))
        top = h.iloc[0]
        r = self.rates.set_index("flag").loc[top["flag"]]
        text = t(
            "service.churn.finding", n=count(self.n), flag=category("service_flag", top["flag"]),
            hr=interval(top["hr"], top["hr_low"], top["hr_high"], kind="num", digits=2),
            with_=pct(r["churn_rate_with"]), without=pct(r["churn_rate_without"]),
            signif=t("service.churn.significant" if top["p_holm"] < 0.05 else "service.churn.not_significant"),
        )  # fmt: skip
        v = self.value_at_risk
        return text + t("service.churn.value", customers=count(v["customers"]), value=money(v["value"]),
                        loss=money(v["expected_loss"]))  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        d = self.hazards.dropna(subset=["hr"]).iloc[::-1]
        ax = new_axes(ax, figsize=(7, 0.5 * len(d) + 1.5))
        y = np.arange(len(d))
        ax.errorbar(d["hr"], y, xerr=[d["hr"] - d["hr_low"], d["hr_high"] - d["hr"]], fmt="o", color="#4C72B0", capsize=3)
        ax.axvline(1, color="grey", linestyle="--", linewidth=0.8)
        ax.set_yticks(y, [category("service_flag", f) for f in d["flag"]])
        ax.set_xscale("log")
        ax.set_xlabel(t("service.churn.hr_axis"))
        ax.set_title(t("service.churn.title"))
        return ax

    def __repr__(self) -> str:
        return f"ServiceChurn(customers={self.n:,})"


def _cox_one(t_: pd.DataFrame, flag: str, value: str, confidence: float, min_events: int) -> dict[str, Any]:
    X = np.column_stack([t_[flag].to_numpy(dtype="float64"), np.log1p(t_[value].clip(lower=0).to_numpy(dtype="float64"))])
    terms = [{"term": flag, "covariate": flag, "level": None, "reference": "0", "per": "1"},
             {"term": f"log1p({value})", "covariate": value, "level": None, "reference": "", "per": "1"}]  # fmt: skip
    ev = t_["event"].to_numpy(dtype="int64")
    row: dict[str, Any] = {"flag": flag, "n": len(t_), "n_events": int(ev.sum())}
    try:
        check_design(X, terms, [flag, value], n_events=int(ev.sum()), min_events=min_events)
        if t_[flag].sum() == 0 or ev[t_[flag].to_numpy() == 1].sum() == 0:
            raise AnalysisError(f"service churn: no churner with {flag}")
        _, out = fit_phreg(np.maximum(t_["duration_months"].to_numpy(dtype="float64"), 1e-6), X, ev, None, terms,
                           confidence=confidence)  # fmt: skip
    except AnalysisError:
        return {**row, "hr": np.nan, "hr_low": np.nan, "hr_high": np.nan, "p": np.nan}
    r = out.iloc[0]
    return {**row, "hr": float(r["hr"]), "hr_low": float(r["hr_lower"]), "hr_high": float(r["hr_upper"]), "p": float(r["p"])}


def service_churn(
    frame: pd.DataFrame,
    flags: pd.DataFrame,
    *,
    population: str = "contacted",
    value_column: str = "auto",
    lookback_days: int = 180,
    min_events: int = 10,
    confidence: float = 0.95,
) -> ServiceChurn:
    """Churn rates and hazard ratios by service experience.

    Parameters
    ----------
    frame : pandas.DataFrame
        The churn frame (the churn analysis' ``churn_frame`` artifact: ``customer_id``, ``event``,
        ``duration_months``, value columns).
    flags : pandas.DataFrame
        :func:`service_flags`.
    population : {'contacted', 'all'}, default 'contacted'
        ``contacted``: customers with a ticket in the lookback window (compares how contacts
        went among those who made one); ``all``: every customer in the frame (no ticket = 0).
    value_column : str, default 'auto'
        Value control and value at risk: ``clv`` if present, else ``monetary_sum``.
    lookback_days : int
        The window the flags were built on (for the finding).
    min_events : int, default 10
    confidence : float, default 0.95

    Raises
    ------
    AnalysisError
        Frame columns missing, a value column not found, no customer left after the join.
    """
    check_columns(frame, "churn_frame", ("customer_id", "event", "duration_months"),
                  option=" (the churn analysis writes this artifact)")  # fmt: skip
    if value_column == "auto":
        value_column = next((c for c in ("clv", "monetary_sum", "monetary_net") if c in frame.columns), "")
    if value_column not in frame.columns:
        raise AnalysisError(
            f"churn_frame: value column {value_column!r} not found (have {', '.join(map(str, frame.columns[:12]))}); "
            "set churn.value_column="
        )
    how = "inner" if population == "contacted" else "left"
    t_ = frame[["customer_id", "event", "duration_months", value_column]].merge(flags, on="customer_id", how=how)
    t_ = t_.dropna(subset=["event", "duration_months"])
    for f in FLAGS:
        t_[f] = t_[f].fillna(0).astype("int64")
    t_[value_column] = pd.to_numeric(t_[value_column], errors="coerce").fillna(0.0)
    if len(t_) == 0:
        raise AnalysisError(
            "service churn: no customer of the churn frame had a ticket in the lookback window "
            f"(churn.lookback_days={lookback_days}); the customer keys may not match, or use churn.population=all"
        )
    rates, hazards = [], []
    ev = t_["event"].astype(int).to_numpy()
    for f in FLAGS:
        m = t_[f].to_numpy() == 1
        r: dict[str, Any] = {"flag": f}
        for side, mask in (("with", m), ("without", ~m)):
            k, n = int(ev[mask].sum()), int(mask.sum())
            lo, hi = wilson_interval(k, n, confidence=confidence)
            r[f"n_{side}"], r[f"churn_rate_{side}"] = n, (k / n if n else np.nan)
            r[f"churn_rate_{side}_low"], r[f"churn_rate_{side}_high"] = float(lo[0]), float(hi[0])
        r["churn_rate_difference"] = r["churn_rate_with"] - r["churn_rate_without"]
        rates.append(r)
        hazards.append(_cox_one(t_, f, value_column, confidence, min_events))
    hz = pd.DataFrame(hazards)
    ok = hz["p"].notna()
    hz["p_holm"] = np.nan
    hz.loc[ok, "p_holm"] = holm(hz.loc[ok, "p"].to_numpy())
    unhappy = (t_["unresolved_negative"] == 1) | (t_["negative"] == 1)
    val = float(t_.loc[unhappy, value_column].sum())
    rate = float(ev[unhappy.to_numpy()].mean()) if unhappy.any() else 0.0
    var = {"customers": int(unhappy.sum()), "value": val, "churn_rate": rate, "expected_loss": val * rate}
    return ServiceChurn(rates=pd.DataFrame(rates), hazards=hz, value_at_risk=var, population=population,
                        value_column=value_column, lookback_days=lookback_days, n=len(t_))  # fmt: skip


@dataclass(frozen=True, eq=False, repr=False)
class RecoveryList(Result):
    """Customers with an unresolved negative contact, for a service-recovery call (see
    :func:`recovery_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        The export: ``rank``, ``customer_key`` (pseudonym, or ``customer_id`` with raw keys),
        ``n_tickets``, ``last_contact``, ``topic``, ``value``, ``churn_risk_rate`` (the group's churn
        rate), ``priority`` (value times risk).
    n_candidates, n_no_consent, n_unknown_consent : int
    key : str
        ``pseudonym`` or ``raw``.
    """

    table: pd.DataFrame
    n_candidates: int
    n_no_consent: int
    n_unknown_consent: int
    key: str

    def summary(self) -> pd.DataFrame:
        out = self.table.head(20).copy()
        out["topic"] = [category("service_level", v) for v in out["topic"]]
        return out.rename(columns={"topic": "text_topic", "priority": "recovery_priority"})

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def metrics(self) -> dict[str, Any]:
        return {"n_listed": len(self.table), "n_candidates": self.n_candidates, "n_no_consent": self.n_no_consent,
                "n_unknown_consent": self.n_unknown_consent, "key": self.key,
                "value_listed": num(self.table["value"].sum()) if len(self.table) else 0.0}  # fmt: skip

    def finding(self) -> str:
        return t("service.recovery.finding", n=count(len(self.table)), candidates=count(self.n_candidates),
                 no_consent=count(self.n_no_consent), value=money(self.table["value"].sum() if len(self.table) else 0),
                 key=t(f"service.recovery.key.{self.key}"))  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax, figsize=(7, 3.5))
        if len(self.table):
            vc = self.table["topic"].astype(str).value_counts().head(8).iloc[::-1]
            ax.barh([category("service_level", v) for v in vc.index], vc.to_numpy(), color="#C44E52")
        ax.set_xlabel(t("service.recovery.customers"))
        ax.set_title(t("service.recovery.title"))
        return ax

    def __repr__(self) -> str:
        return f"RecoveryList(listed={len(self.table):,})"


def recovery_list(
    flags: pd.DataFrame,
    frame: pd.DataFrame | None = None,
    *,
    customers: pd.DataFrame | None = None,
    churn_risk: float | None = None,
    value_column: str = "auto",
    salt: str,
    allow_raw_keys: bool = False,
    top_n: int | None = 500,
) -> RecoveryList:
    """Customers with an unresolved negative contact, most valuable first; pseudonymized keys,
    customers without marketing consent left out (unknown consent stays on the list and is counted).

    Parameters
    ----------
    flags : pandas.DataFrame
        :func:`service_flags`.
    frame : pandas.DataFrame, optional
        Churn frame (value, and only its customers: those who have not left for good).
    customers : pandas.DataFrame, optional
        Canonical customers (``marketing_consent`` when present).
    churn_risk : float, optional
        Churn rate of customers with an unresolved negative contact (``ServiceChurn.rates``).
    value_column : str, default 'auto'
    salt : str
        ``privacy.secret()``.
    allow_raw_keys : bool, default False
        ``privacy.allow_raw_keys``: keep ``customer_id`` instead of the pseudonym.
    top_n : int, optional
        At most this many rows.
    """
    c = flags[flags["unresolved_negative"] == 1].copy()
    n_cand = len(c)
    if frame is not None:
        if value_column == "auto":
            value_column = next((x for x in ("clv", "monetary_sum", "monetary_net") if x in frame.columns), "")
        if value_column:
            c = c.merge(frame[["customer_id", value_column]].rename(columns={value_column: "value"}), on="customer_id",
                        how="inner")  # fmt: skip
    if "value" not in c:
        c["value"] = 0.0
    n_no = n_unknown = 0
    cons = consent_by_customer(customers)
    if cons is None:
        cons = consent_by_customer(frame)
    if cons is not None:
        cv = c["customer_id"].astype("string").map(cons)
        no = cv.eq(False).fillna(False).to_numpy(dtype=bool)
        n_no, n_unknown = int(no.sum()), int(cv.isna().sum())
        c = c[~no]
    risk = float(churn_risk) if churn_risk is not None and np.isfinite(churn_risk) else np.nan
    c["churn_risk_rate"] = risk
    c["priority"] = c["value"].fillna(0) * (risk if np.isfinite(risk) else 1.0)
    c = c.sort_values(["priority", "last_contact"], ascending=[False, False]).head(top_n or len(c))
    key = "raw" if allow_raw_keys else "pseudonym"
    keys = c["customer_id"].astype(str) if allow_raw_keys else pseudonymize(c["customer_id"], salt=salt)
    out = pd.DataFrame({
        "rank": np.arange(1, len(c) + 1), "customer_key": keys.to_numpy(), "n_tickets": c["n_tickets"].to_numpy(),
        "last_contact": c["last_contact"].to_numpy(), "topic": c["last_topic"].astype(str).to_numpy(),
        "value": c["value"].to_numpy(dtype="float64"), "churn_risk_rate": c["churn_risk_rate"].to_numpy(),
        "priority": c["priority"].to_numpy(dtype="float64"),
    })  # fmt: skip
    return RecoveryList(table=out, n_candidates=n_cand, n_no_consent=n_no, n_unknown_consent=n_unknown, key=key)
