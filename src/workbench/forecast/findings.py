"""The key findings of the sales forecast report (summary first)."""

from __future__ import annotations

from typing import Any

from workbench.report import fmt
from workbench.report.i18n import category, t
from workbench.report.summary import KeyFinding

__all__ = ["key_findings"]


def key_findings(forecast: Any, *, backtest: Any | None = None, scenarios: Any | None = None,
                 tracking: Any | None = None, truth: Any | None = None, calendar: Any | None = None) -> list[KeyFinding | None]:
    """Three to six findings with their numbers and the action each suggests.

    Parameters
    ----------
    forecast : SalesForecast
    backtest : Backtest, optional
    scenarios : Scenarios, optional
    tracking : Tracking, optional
        An earlier forecast against what happened.
    truth : Tracking, optional
        Synthetic data: the forecast against the simulated truth.
    calendar : RetailCalendar, optional

    Returns
    -------
    list of KeyFinding or None
    """
    m = forecast.metrics()
    r = m["revenue"]
    share = m["revenue_existing"] / max(m["revenue_existing"] + m["revenue_new"], 1e-12)
    out: list[KeyFinding | None] = [
        KeyFinding(t("forecast.key.total", n=forecast.horizon, period=category("forecast_period", forecast.series.period),
                     revenue=fmt.money(r["forecast"]), lo=fmt.money(r["lo80"]), hi=fmt.money(r["hi80"])),
                   t("forecast.key.total_action", lo=fmt.money(r["lo80"]))),
        KeyFinding(t("forecast.key.existing", share=fmt.pct(share), new=fmt.money(m["revenue_new"])),
                   t("forecast.key.existing_action" if share >= 0.5 else "forecast.key.new_action")),
    ]
    if backtest is not None:
        b = backtest.metrics()
        won = b["winner"] == "forecast"
        out.append(KeyFinding(
            t("forecast.key.backtest", winner=category("forecast_method", b["winner"]), gain=fmt.pct(b["mase_reduction"]),
              second=category("forecast_method", b["runner_up"]), cov80=fmt.pct(b["coverage_80"]), cov95=fmt.pct(b["coverage_95"])),
            t("forecast.key.backtest_action_ok" if won else "forecast.key.backtest_action_bad")))
    if scenarios is not None:
        f = scenarios.frame.set_index("scenario")
        single = f.drop(index=["base", "combined"])
        best = single["impact"].idxmax()
        out.append(KeyFinding(
            t("forecast.key.scenario", scenario=category("forecast_scenario", best), change=fmt.pct(single.loc[best, "change_pct"]),
              impact=fmt.money(single.loc[best, "impact"]), lo=fmt.money(single.loc[best, "impact_lo95"]),
              hi=fmt.money(single.loc[best, "impact_hi95"])),
            t("forecast.key.scenario_action", scenario=category("forecast_scenario", best))))
    if tracking is not None:
        k = tracking.metrics()
        out.append(KeyFinding(t("forecast.key.tracking", run=k["run"] or "-", n=k["n"], mape=fmt.pct(k["mape"]),
                                    within=fmt.pct(k["within_80"]), within95=fmt.pct(k["within_95"])),
                              t("forecast.key.tracking_action")))
    if truth is not None:
        k = truth.metrics()
        out.append(KeyFinding(t("forecast.key.truth", n=k["n"], mape=fmt.pct(k["mape"]), within=fmt.pct(k["within_80"]),
                                within95=fmt.pct(k["within_95"])), t("forecast.key.truth_action")))
    if calendar is not None and calendar.unknown_years:
        out.append(KeyFinding(calendar.finding(), t("forecast.key.calendar_action")))
    return out
