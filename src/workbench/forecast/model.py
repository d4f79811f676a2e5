"""The sales forecast: existing customers (BTYD x Gamma-Gamma) plus new customers (ETS/SARIMAX).

:func:`sales_forecast` joins the draws of both parts period by period: revenue, orders (purchase
days) and active customers, each with its mean and 80 % / 95 % prediction intervals (quantiles of
the draws, never below 0).

New customers acquired in a future period buy their first purchase there (at the mean first
purchase of the last year, winsorized at its 99th percentile) and repeat from the middle of that period on as the BTYD model's
unconditional expectation ``E[X(t)]`` says, at the Gamma-Gamma population mean spend, times the
same calendar index as the existing customers. Active customers are purchases divided by the
purchases per active customer of the last year's periods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.forecast.acquisition import SeriesModel, fit_series_model
from workbench.forecast.calendar import RetailCalendar
from workbench.forecast.existing import ExistingPart, existing_customers
from workbench.forecast.periods import MEASURES, PeriodSeries
from workbench.report import fmt
from workbench.report.i18n import category, date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["SalesForecast", "sales_forecast", "QUANTILES", "interval_frame"]

#: Quantiles of the draws: 95 % and 80 % intervals and the median.
QUANTILES = {"lo95": 0.025, "lo80": 0.10, "median": 0.5, "hi80": 0.90, "hi95": 0.975}


def interval_frame(draws: np.ndarray) -> pd.DataFrame:
    """Mean and the :data:`QUANTILES` of ``(n_draws, n)`` draws, one row per column."""
    q = np.quantile(draws, list(QUANTILES.values()), axis=0)
    out = pd.DataFrame({"forecast": draws.mean(axis=0)})
    for name, row in zip(QUANTILES, q, strict=True):
        out[name] = row
    return out


@dataclass(frozen=True, repr=False)
class SalesForecast(Result):
    """Revenue, orders and active customers per future period (see :func:`sales_forecast`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per period and measure: ``period_start``, ``period_end``, ``measure``
        (``revenue``, ``orders``, ``active_customers``), ``forecast`` (mean of the draws), ``lo95``,
        ``lo80``, ``median``, ``hi80``, ``hi95``, ``existing`` and ``new`` (means of the parts),
        ``origin`` (the artifact a later run tracks).
    draws : dict of str to numpy.ndarray
        ``(n_draws, horizon)`` per component: ``revenue_existing``, ``revenue_new``,
        ``orders_existing``, ``orders_new``, ``acquisitions``, ``active``.
    series : PeriodSeries
        The history.
    existing : ExistingPart
    acquisition : SeriesModel
    calendar : RetailCalendar
    per_active : float
        Purchases per active customer and period (last year).
    """

    frame: pd.DataFrame
    draws: dict[str, np.ndarray] = field(repr=False)
    series: PeriodSeries = field(repr=False)
    existing: ExistingPart = field(repr=False)
    acquisition: SeriesModel = field(repr=False)
    calendar: RetailCalendar = field(repr=False)
    per_active: float = 1.0

    @property
    def horizon(self) -> int:
        """Forecast periods."""
        return int(self.frame["period_start"].nunique())

    def measure(self, name: str = "revenue") -> pd.DataFrame:
        """The rows of one measure."""
        return self.frame[self.frame["measure"] == name].reset_index(drop=True)

    def totals(self) -> pd.DataFrame:
        """Per measure, the whole horizon: ``measure``, ``forecast``, intervals (from the draws of
        the sums, so the periods' correlation is kept)."""
        sums = {"revenue": self.draws["revenue_existing"] + self.draws["revenue_new"],
                "orders": self.draws["orders_existing"] + self.draws["orders_new"]}
        out = interval_frame(np.column_stack([v.sum(axis=1) for v in sums.values()]))
        out.insert(0, "measure", list(sums))
        return out

    def summary(self) -> pd.DataFrame:
        """Revenue per period: ``period_start``, ``revenue`` (mean of the draws), its 80 % and 95 %
        bounds (``revenue_lo80`` ...), ``revenue_existing``, ``revenue_new``."""
        rev = self.measure("revenue")
        out = rev[["period_start", "forecast", "lo80", "hi80", "lo95", "hi95", "existing", "new"]]
        return out.rename(columns={c: f"revenue_{c}" for c in ("lo80", "hi80", "lo95", "hi95", "existing", "new")} | {"forecast": "revenue"})

    def totals_summary(self) -> pd.DataFrame:
        """:meth:`totals` with the measures' labels."""
        out = self.totals()
        out["measure"] = [category("forecast_measure", m) for m in out["measure"]]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Every period and measure (see the class docstring)."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Totals over the horizon with intervals, the parts and the chosen models (JSON-able)."""
        tot = self.totals().set_index("measure")
        rev = self.measure("revenue")
        return {
            "horizon": self.horizon, "period": self.series.period, "origin": str(self.series.origin.date()),
            "revenue": {k: float(v) for k, v in tot.loc["revenue"].items()},
            "orders": {k: float(v) for k, v in tot.loc["orders"].items()},
            "revenue_existing": float(rev["existing"].sum()), "revenue_new": float(rev["new"].sum()),
            "acquisition_model": self.acquisition.name,
            "btyd": {"model": self.existing.model._label, **self.existing.model.params_},
            "gamma_gamma": dict(self.existing.spend_model.params_),
            "seasonal_model_sd": self.existing.index.model_sd,
        }

    def finding(self) -> str:
        """The horizon's revenue with its interval and how much comes from existing customers."""
        m = self.metrics()
        r = m["revenue"]
        share = m["revenue_existing"] / max(m["revenue_existing"] + m["revenue_new"], 1e-12)
        return t("forecast.forecast.finding", n=self.horizon, period=category("forecast_period", self.series.period),
                 start=date_text(self.frame["period_start"].iloc[0]), revenue=fmt.money(r["forecast"]),
                 lo=fmt.money(r["lo80"]), hi=fmt.money(r["hi80"]), lo95=fmt.money(r["lo95"]), hi95=fmt.money(r["hi95"]),
                 existing=fmt.pct(share), orders=fmt.count(m["orders"]["forecast"]))

    def plot(self, ax: Any = None, *, measure: str = "revenue") -> Any:
        """History and forecast with the 80 % and 95 % bands."""
        ax = new_axes(ax, figsize=(9, 4))
        hist = self.series.frame.tail(2 * self.series.season)
        ax.plot(hist["period_start"], hist[measure], color="C0", label=t("forecast.forecast.history"))
        rows = self.measure(measure)
        x = rows["period_start"]
        ax.fill_between(x, rows["lo95"], rows["hi95"], color="C1", alpha=0.18, label=t("forecast.forecast.band95"))
        ax.fill_between(x, rows["lo80"], rows["hi80"], color="C1", alpha=0.35, label=t("forecast.forecast.band80"))
        ax.plot(x, rows["forecast"], color="C1", label=t("forecast.forecast.line"))
        ax.set_title(t("forecast.forecast.title", measure=category("forecast_measure", measure)))
        ax.set_ylabel(category("forecast_measure", measure))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        return ax


def _new_repeat_kernel(part: ExistingPart, series: PeriodSeries, horizon: int) -> np.ndarray:
    """``K[j, k]``: expected repeat purchases in period ``k`` of one customer acquired mid-period ``j``."""
    edges = series.edges(horizon)[-(horizon + 1):]
    day = (edges - edges[0]).days.to_numpy().astype("float64")
    mid = (day[:-1] + day[1:]) / 2
    lag = (day[None, 1:] - mid[:, None]) / 7.0, (day[None, :-1] - mid[:, None]) / 7.0
    ex = part.model.expected_purchases_new
    hi = np.where(lag[0] > 0, np.asarray(ex(np.maximum(lag[0], 0.0))), 0.0)
    lo = np.where(lag[1] > 0, np.asarray(ex(np.maximum(lag[1], 0.0))), 0.0)
    return hi - lo


def _last_year(series: PeriodSeries) -> pd.DataFrame:
    return series.frame.tail(series.season)


def _amounts(series: PeriodSeries, first: bool) -> pd.Series:
    """The last year's first (or repeat) purchase amounts, winsorized at the 99th percentile (one
    mistyped order of a million must not set the value of every new customer); every year's when
    the last has none."""
    p = series.purchase_days
    kind = (p["day"] == p["first"]) if first else (p["day"] != p["first"])
    out = p.loc[kind & (p["day"] > series.origin - pd.Timedelta(days=365)), "amount"]
    if len(out) < 2:
        out = p.loc[kind, "amount"]
    return out.clip(upper=out.quantile(0.99)) if len(out) else pd.Series([0.0])


def _new_part(part: ExistingPart, series: PeriodSeries, acq: SeriesModel, horizon: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the new customers' purchases and revenue per period.

    Their repeat purchases take the existing customers' draws of the calendar index (one
    calendar for everyone), and each purchase's amount its spread: a first purchase's the last
    year's first purchases', a repeat purchase's the spread of every repeat purchase (between
    customers and within, as a new customer's own mean is not known yet).
    """
    first = _amounts(series, first=True)
    first_value, first_sd = float(first.mean()), float(first.std(ddof=1)) if len(first) > 1 else 0.0
    repeat = _amounts(series, first=False)
    repeat_sd = float(repeat.std(ddof=1)) if len(repeat) > 1 else 0.0
    gg = part.spend_model.params_
    pop_spend = gg["v"] * gg["p"] / (gg["q"] - 1) if gg["q"] > 1 else float(np.mean(part.spend))
    kernel = _new_repeat_kernel(part, series, horizon)
    a = rng.poisson(acq.paths).astype("float64") if acq.paths.max() < 1e7 else np.round(acq.paths)
    season = np.exp(part.season) if part.season.shape == a.shape else np.exp(part.index.mean)[None, :]
    rep = rng.poisson((a @ kernel) * season).astype("float64")
    noise = np.sqrt(a) * first_sd * rng.standard_normal(a.shape) + np.sqrt(rep) * repeat_sd * rng.standard_normal(a.shape)
    return a + rep, np.maximum(a * first_value + rep * pop_spend + noise, 0.0)


def sales_forecast(series: PeriodSeries, calendar: RetailCalendar, *, horizon: int, model: str = "bgnbd",
                   n_draws: int = 500, seed: int = 0, new_customers: bool = True) -> SalesForecast:
    """Forecast revenue, orders and active customers for ``horizon`` periods after the origin.

    Parameters
    ----------
    series : PeriodSeries
        History (:func:`period_series`).
    calendar : RetailCalendar
        Regressors of the history and at least ``horizon`` periods after it.
    horizon : int
        Periods ahead.
    model : {"bgnbd", "pareto_nbd"}
        Purchase model of the existing customers.
    n_draws : int
        Draws of the intervals.
    seed : int
    new_customers : bool, default True
        Add the customers acquired after the origin (else the existing base only).

    Returns
    -------
    SalesForecast

    Raises
    ------
    AnalysisError
        ``horizon`` longer than the history, the calendar too short, too few repeat buyers.
    """
    n = len(series.frame)
    if horizon > n:
        raise AnalysisError(f"forecast: horizon={horizon} {series.period}s is longer than the history ({n} {series.period}s); shorten horizon=")
    if len(calendar.frame) < n + horizon:
        raise AnalysisError(f"forecast: the calendar has {len(calendar.frame)} periods, need {n + horizon}; build it on series.edges(horizon)")
    cal = RetailCalendar(calendar.frame.iloc[: n + horizon].reset_index(drop=True), calendar.events,
                         calendar.unknown_years, calendar.known_years, calendar.kind, calendar.fourier)
    rng = np.random.default_rng([seed, 1515])
    part = existing_customers(series, cal, horizon=horizon, model=model, n_draws=n_draws, random_state=seed)
    acq = fit_series_model(series.frame["new_customers"].to_numpy(), horizon=horizon, season=series.season,
                           exog=cal.regressors(slice(0, n)), exog_future=cal.regressors(slice(n, n + horizon)),
                           n_draws=n_draws, random_state=int(rng.integers(2**31)))
    if not new_customers:
        acq = SeriesModel(acq.name, acq.candidates, np.zeros_like(acq.paths), acq.history)
    new_orders, new_rev = _new_part(part, series, acq, horizon, rng)
    last = _last_year(series)
    per_active = float(last["orders"].sum() / max(last["active_customers"].sum(), 1.0))
    draws = {"revenue_existing": part.revenue, "revenue_new": new_rev, "orders_existing": part.orders,
             "orders_new": new_orders, "acquisitions": acq.paths,
             "active": (part.orders + new_orders) / per_active}
    return SalesForecast(_frame(series, horizon, draws), draws, series, part, acq, cal, per_active)


def _frame(series: PeriodSeries, horizon: int, draws: dict[str, np.ndarray]) -> pd.DataFrame:
    edges = series.edges(horizon)[-(horizon + 1):]
    parts = {"revenue": ("revenue_existing", "revenue_new"), "orders": ("orders_existing", "orders_new")}
    rows = []
    for measure in MEASURES:
        if measure == "active_customers":
            total, ex, new = draws["active"], draws["orders_existing"], draws["orders_new"]
            scale = total.mean(axis=0) / np.maximum((ex + new).mean(axis=0), 1e-12)  # purchases -> customers
            ex_m, new_m = ex.mean(axis=0) * scale, new.mean(axis=0) * scale
        else:
            ex, new = draws[parts[measure][0]], draws[parts[measure][1]]
            total, ex_m, new_m = ex + new, ex.mean(axis=0), new.mean(axis=0)
        block = interval_frame(total)
        block.insert(0, "measure", measure)
        block.insert(0, "period_end", edges[1:] - pd.Timedelta(days=1))
        block.insert(0, "period_start", edges[:-1])
        block["existing"], block["new"] = ex_m, new_m
        block["origin"] = series.origin
        rows.append(block)
    return pd.concat(rows, ignore_index=True)
