"""What-if scenarios on the forecast, by segment or channel, and tracking against an earlier run.

* :func:`scenarios` - retention up ``x`` (the existing customers' purchases times ``1 + x``),
  acquisition up ``y`` (the new customers' revenue times ``1 + y``), order value change ``z``
  (all revenue times ``1 + z``), alone and combined: the horizon's revenue and its change
  against the base forecast, with intervals from the same draws (paired, so the change's
  interval is the scenario's own uncertainty, not two forecasts' added up).
* :func:`forecast_by_group` - the forecast split by a customer attribute: the existing
  customers' part by each group's share of the expected revenue (per period, from the
  per-customer BTYD x Gamma-Gamma expectations), the new customers' part by the group's share of
  the last year's first purchases; the intervals scale the total's draws by those shares.
* :func:`track_forecast` - an earlier forecast of the same dataset against the periods that have
  since happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, format_examples
from workbench.forecast.model import SalesForecast, interval_frame
from workbench.forecast.periods import PeriodSeries
from workbench.report import fmt
from workbench.report.i18n import category, date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["Scenarios", "scenarios", "GroupForecast", "forecast_by_group", "Tracking", "track_forecast", "compare_forecast",
           "EarlierForecast"]


@dataclass(frozen=True, repr=False)
class Scenarios(Result):
    """Revenue over the horizon under each scenario (see :func:`scenarios`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per scenario: ``scenario`` (code), ``change_pct`` (its size), ``revenue``
        (mean), ``revenue_lo95``, ``revenue_hi95``, ``impact`` (mean change against the base),
        ``impact_lo80``, ``impact_hi80``, ``impact_lo95``, ``impact_hi95``.
    """

    frame: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """The table with scenario labels."""
        out = self.frame.copy()
        out["scenario"] = [category("forecast_scenario", s) for s in out["scenario"]]
        return out

    def to_frame(self) -> pd.DataFrame:
        """The table with scenario codes."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Impact per scenario with its 95 % interval (JSON-able)."""
        return {r.scenario: {"change": float(r.change_pct), "impact": float(r.impact), "impact_lo95": float(r.impact_lo95),
                             "impact_hi95": float(r.impact_hi95)} for r in self.frame.itertuples()}

    def finding(self) -> str:
        """The largest single lever and the combined impact."""
        single = self.frame[~self.frame["scenario"].isin(["base", "combined"])]
        parts = [t("forecast.scenarios.item", scenario=category("forecast_scenario", r.scenario), change=fmt.pct(r.change_pct),
                   impact=fmt.money(r.impact), lo=fmt.money(r.impact_lo95), hi=fmt.money(r.impact_hi95))
                 for r in single.itertuples() if r.change_pct != 0]
        comb = self.frame[self.frame["scenario"] == "combined"].iloc[0]
        return t("forecast.scenarios.finding", items=t("forecast.calendar.sep").join(parts) or t("forecast.scenarios.none"),
                 impact=fmt.money(comb["impact"]), lo=fmt.money(comb["impact_lo95"]), hi=fmt.money(comb["impact_hi95"]))

    def plot(self, ax: Any = None) -> Any:
        """Impact per scenario with 80 % and 95 % intervals."""
        ax = new_axes(ax, figsize=(7, 3.5))
        f = self.frame[self.frame["scenario"] != "base"].reset_index(drop=True)
        y = np.arange(len(f))
        ax.hlines(y, f["impact_lo95"], f["impact_hi95"], color="C0", linewidth=1.5)
        ax.hlines(y, f["impact_lo80"], f["impact_hi80"], color="C0", linewidth=5, alpha=0.6)
        ax.plot(f["impact"], y, "o", color="C1")
        ax.axvline(0, color="grey", linewidth=0.8)
        ax.set_yticks(y, [category("forecast_scenario", s) for s in f["scenario"]])
        ax.set_xlabel(t("forecast.scenarios.x"))
        ax.set_title(t("forecast.scenarios.title"))
        return ax


def scenarios(forecast: SalesForecast, *, retention: float = 0.0, acquisition: float = 0.0, order_value: float = 0.0) -> Scenarios:
    """Revenue over the horizon when retention, acquisition or order value change.

    Parameters
    ----------
    forecast : SalesForecast
    retention : float
        Relative change of the existing customers' purchases (0.05 = +5 %).
    acquisition : float
        Relative change of the new customers (0.10 = +10 %).
    order_value : float
        Relative change of the value of every purchase.

    Returns
    -------
    Scenarios
    """
    ex = forecast.draws["revenue_existing"].sum(axis=1)
    new = forecast.draws["revenue_new"].sum(axis=1)
    base = ex + new
    cases = {"base": (0.0, (0, 0, 0)), "retention": (retention, (retention, 0, 0)),
             "acquisition": (acquisition, (0, acquisition, 0)), "order_value": (order_value, (0, 0, order_value)),
             "combined": (float((1 + retention) * (1 + acquisition) * (1 + order_value) - 1), (retention, acquisition, order_value))}
    rows = []
    for name, (change, (r, a, v)) in cases.items():
        rev = (ex * (1 + r) + new * (1 + a)) * (1 + v)
        q = interval_frame(np.column_stack([rev, rev - base]))
        rows.append({"scenario": name, "change_pct": change, "revenue": q.loc[0, "forecast"], "revenue_lo95": q.loc[0, "lo95"],
                     "revenue_hi95": q.loc[0, "hi95"], "impact": q.loc[1, "forecast"], "impact_lo80": q.loc[1, "lo80"],
                     "impact_hi80": q.loc[1, "hi80"], "impact_lo95": q.loc[1, "lo95"], "impact_hi95": q.loc[1, "hi95"]})
    return Scenarios(pd.DataFrame(rows))


@dataclass(frozen=True, repr=False)
class GroupForecast(Result):
    """The horizon's revenue per group (see :func:`forecast_by_group`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per group and period: ``group``, ``period_start``, ``forecast``, ``lo80``,
        ``hi80``, ``lo95``, ``hi95``.
    totals : pandas.DataFrame
        One row per group over the horizon: ``group``, ``forecast``, intervals, ``share``.
    by : str
        The attribute.
    """

    frame: pd.DataFrame
    totals: pd.DataFrame
    by: str = ""

    def summary(self) -> pd.DataFrame:
        """Per group over the horizon: ``group``, ``revenue`` and its bounds, ``share``."""
        out = self.totals[["group", "forecast", "lo80", "hi80", "lo95", "hi95", "share"]]
        return out.rename(columns={c: f"revenue_{c}" for c in ("lo80", "hi80", "lo95", "hi95")} | {"forecast": "revenue"})

    def to_frame(self) -> pd.DataFrame:
        """Per group and period."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Forecast and share per group (JSON-able)."""
        return {"by": self.by, "groups": {str(r.group): {"forecast": float(r.forecast), "share": float(r.share)}
                                          for r in self.totals.itertuples()}}

    def finding(self) -> str:
        """The largest group and its share."""
        top = self.totals.sort_values("forecast", ascending=False).iloc[0]
        return t("forecast.groups.finding", by=self.by, group=str(top["group"]), revenue=fmt.money(top["forecast"]),
                 share=fmt.pct(top["share"]), n=len(self.totals))

    def plot(self, ax: Any = None) -> Any:
        """Revenue forecast per period, stacked by group."""
        ax = new_axes(ax, figsize=(9, 4))
        wide = self.frame.pivot(index="period_start", columns="group", values="forecast")
        ax.stackplot(wide.index, wide.T.to_numpy(), labels=[str(c) for c in wide.columns], alpha=0.8)
        ax.set_title(t("forecast.groups.title", by=self.by))
        ax.set_ylabel(category("forecast_measure", "revenue"))
        ax.legend(fontsize=8, ncol=2)
        return ax


def forecast_by_group(forecast: SalesForecast, customers: pd.DataFrame, *, by: str, customer_col: str = "customer_id") -> GroupForecast:
    """Split the revenue forecast by a customer attribute.

    Parameters
    ----------
    forecast : SalesForecast
    customers : pandas.DataFrame
        One row per customer with ``customer_col`` and ``by``; customers without a value are ``"-"``.
    by : str
        The column to split by (``acquisition_channel``, a segment column).
    customer_col : str

    Returns
    -------
    GroupForecast

    Raises
    ------
    AnalysisError
        ``by`` is not a column of ``customers``.
    """
    if customers is None or by not in customers.columns or customer_col not in customers.columns:
        have = format_examples(list(customers.columns), limit=12) if customers is not None else "no customers table"
        raise AnalysisError(f"customers: no column {by!r} to split the forecast by (have {have}); fix group_by=")
    groups = customers.drop_duplicates(customer_col).set_index(customer_col)[by]
    part = forecast.existing
    g = pd.Series(groups).reindex(part.customers).astype("string").fillna("-").to_numpy()
    labels, inv = np.unique(g, return_inverse=True)
    weights = part.per_customer * part.spend[:, None]
    share_ex = np.vstack([np.bincount(inv, weights=weights[:, k], minlength=len(labels)) for k in range(weights.shape[1])]).T
    share_ex = share_ex / np.maximum(share_ex.sum(axis=0, keepdims=True), 1e-12)
    pdays = forecast.series.purchase_days
    recent = pdays[(pdays["day"] == pdays["first"]) & (pdays["day"] > forecast.series.origin - pd.Timedelta(days=365))]
    rg = pd.Series(groups).reindex(recent["customer_id"]).astype("string").fillna("-")
    counts = rg.value_counts()
    share_new = np.array([counts.get(lbl, 0) for lbl in labels], dtype="float64")
    share_new = share_new / share_new.sum() if share_new.sum() > 0 else np.full(len(labels), 1 / len(labels))
    ex, new = forecast.draws["revenue_existing"], forecast.draws["revenue_new"]
    starts = forecast.measure("revenue")["period_start"]
    rows, tots = [], []
    for j, lbl in enumerate(labels):
        d = ex * share_ex[j][None, :] + new * share_new[j]
        q = interval_frame(d)
        rows.append(q.assign(group=lbl, period_start=starts.to_numpy()))
        tq = interval_frame(d.sum(axis=1)[:, None]).assign(group=lbl)
        tots.append(tq)
    frame = pd.concat(rows, ignore_index=True)[["group", "period_start", "forecast", "lo80", "hi80", "lo95", "hi95"]]
    totals = pd.concat(tots, ignore_index=True)
    totals["share"] = totals["forecast"] / totals["forecast"].sum()
    return GroupForecast(frame, totals, by)


@dataclass(frozen=True, repr=False)
class Tracking(Result):
    """An earlier forecast against what happened (see :func:`track_forecast`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per period now past: ``period_start``, ``actual``, ``forecast``, ``lo80``,
        ``hi80``, ``lo95``, ``hi95``, ``error`` (forecast - actual), ``within_80``, ``within_95``.
    made : str
        Origin of the earlier forecast.
    run : str
        The run that made it (empty when not known).
    """

    frame: pd.DataFrame
    made: str = ""
    run: str = ""

    def summary(self) -> pd.DataFrame:
        """The periods: ``period_start``, ``actual``, ``forecast``, the 80 % and 95 % bounds and
        ``inside``: whether the actual fell inside the 80 % interval, the 95 % interval only, or
        outside both (labels; the flags ``within_80``/``within_95`` are in :meth:`to_frame`)."""
        f = self.frame
        code = np.where(f["within_80"], "in80", np.where(f["within_95"], "in95", "outside"))
        out = f[["period_start", "actual", "forecast", "lo80", "hi80", "lo95", "hi95"]].copy()
        out["inside"] = [category("forecast_inside", c) for c in code]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Every column of the periods (see the class docstring)."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Periods, MAPE, total error and coverage (JSON-able)."""
        f = self.frame
        return {"made": self.made, "run": self.run, "n": len(f),
                "mape": float((f["error"].abs() / f["actual"].where(f["actual"] > 0)).mean()),
                "total_error": float(f["error"].sum() / max(f["actual"].sum(), 1e-12)),
                "within_80": float(f["within_80"].mean()), "within_95": float(f["within_95"].mean())}

    def finding(self) -> str:
        """How far off the earlier forecast was, and how often its intervals held the actual."""
        m = self.metrics()
        values = {"made": date_text(self.made), "n": m["n"], "mape": fmt.pct(m["mape"]), "total": fmt.pct(m["total_error"]),
                  "within": fmt.pct(m["within_80"]), "within95": fmt.pct(m["within_95"])}
        if self.run:
            return t("forecast.tracking.finding", run=self.run, **values)
        return t("forecast.tracking.finding_made", **values)

    def plot(self, ax: Any = None) -> Any:
        """Actual and earlier forecast with its 80 % and 95 % bands; actuals outside the 95 % band
        hollow."""
        ax = new_axes(ax, figsize=(8, 3.5))
        f = self.frame
        ax.fill_between(f["period_start"], f["lo95"], f["hi95"], color="C1", alpha=0.15, label=t("forecast.forecast.band95"))
        ax.fill_between(f["period_start"], f["lo80"], f["hi80"], color="C1", alpha=0.3, label=t("forecast.forecast.band80"))
        ax.plot(f["period_start"], f["forecast"], color="C1", label=t("forecast.forecast.line"))
        inside = f["within_95"].to_numpy(dtype=bool)
        ax.plot(f["period_start"], f["actual"], color="black", label=t("forecast.backtest.actual"))
        ax.scatter(f["period_start"][inside], f["actual"][inside], color="black", zorder=3)
        if (~inside).any():
            ax.scatter(f["period_start"][~inside], f["actual"][~inside], facecolors="white", edgecolors="black", zorder=3,
                       label=t("forecast.tracking.outside"))
        ax.set_title(t("forecast.tracking.title"))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        return ax


class EarlierForecast(Protocol):
    """What :func:`track_forecast` reads of an earlier run's forecast (``ctx.earlier_artifact``)."""

    frame: pd.DataFrame
    run: str
    as_of: str


def _actuals(series: PeriodSeries, periods: pd.DataFrame, measure: str) -> np.ndarray:
    """Per period ``[period_start, period_end]`` (days), the measure from the purchase days."""
    p = series.purchase_days
    day = p["day"].to_numpy()
    out = np.zeros(len(periods))
    for i, (lo, hi) in enumerate(zip(periods["period_start"], periods["period_end"], strict=True)):
        inside = (day >= np.datetime64(lo)) & (day <= np.datetime64(hi))
        if measure == "revenue":
            out[i] = float(p["amount"].to_numpy()[inside].sum())
        elif measure == "orders":
            out[i] = float(inside.sum())
        else:
            out[i] = float(p["customer_id"][inside].nunique())
    return out


def track_forecast(earlier: EarlierForecast | pd.DataFrame | None, series: PeriodSeries, *,
                   measure: str = "revenue") -> Tracking | None:
    """Compare an earlier forecast (the ``forecast`` artifact of an earlier run of the same
    dataset, ``ctx.earlier_artifact("forecast.parquet")``) with the periods of it that have
    happened by the current origin.

    The actuals are counted over each forecast period's own days (``period_start`` to
    ``period_end``) from the current purchase days, so the periods need not line up with the
    current run's (weeks ending on another weekday, when ``as_of`` moved by days).

    Parameters
    ----------
    earlier : EarlierForecast, pandas.DataFrame or None
        ``ctx.earlier_artifact(...)`` (its ``frame``, ``run``), or the rows of
        :meth:`SalesForecast.to_frame` (``period_start``, ``period_end``, ``measure``,
        ``forecast``, intervals, ``origin``); ``None`` when there is none.
    series : PeriodSeries
        The current history.
    measure : {"revenue", "orders", "active_customers"}

    Returns
    -------
    Tracking or None
        ``None`` when there is no earlier forecast or none of its periods has ended by the
        current origin.
    """
    run = "" if earlier is None or isinstance(earlier, pd.DataFrame) else str(earlier.run)
    frame = earlier if earlier is None or isinstance(earlier, pd.DataFrame) else earlier.frame
    if frame is None or frame.empty:
        return None
    e = frame[frame["measure"] == measure].copy()
    e["period_start"] = pd.to_datetime(e["period_start"])
    if "period_end" in e:
        e["period_end"] = pd.to_datetime(e["period_end"])
    else:  # rows without their end: the current run's periods starting on the same day
        e = e.merge(series.frame[["period_start", "period_end"]], on="period_start", how="inner")
    e = e[(e["period_end"] <= series.origin) & (e["period_start"] >= series.purchase_days["day"].min())]
    if e.empty:
        return None
    e = e.sort_values("period_start").reset_index(drop=True)
    e["actual"] = _actuals(series, e, measure)
    made = str(pd.Timestamp(e["origin"].iloc[0]).date()) if "origin" in e else ""
    return compare_forecast(e, made, run=run)


def compare_forecast(f: pd.DataFrame, made: str, *, run: str = "") -> Tracking:
    """A :class:`Tracking` of rows with ``period_start``, ``actual``, ``forecast`` and the intervals."""
    f = f.copy()
    f["error"] = f["forecast"] - f["actual"]
    f["within_80"] = (f["actual"] >= f["lo80"]) & (f["actual"] <= f["hi80"])
    f["within_95"] = (f["actual"] >= f["lo95"]) & (f["actual"] <= f["hi95"])
    cols = ["period_start", "actual", "forecast", "lo80", "hi80", "lo95", "hi95", "error", "within_80", "within_95"]
    return Tracking(f[cols].reset_index(drop=True), made, run)
