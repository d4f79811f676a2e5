"""Rolling-origin backtest of total revenue: the forecast against seasonal naive and plain ETS.

Origins at ``n - K, n - K + step, ...`` (``n`` history periods, ``K`` = ``periods``); from each,
every method forecasts the periods up to the end of the history, refitted on the data up to
the origin only. Errors over all (origin, period) pairs: MAPE and MASE (mean absolute error over
the in-sample mean absolute error of the seasonal naive forecast up to the origin, lag one year;
lag one period when the history up to the origin is not longer than a year), and the share of actuals inside the forecast's 80 % and 95 % intervals (with a Wilson interval).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.forecast.acquisition import fit_series_model
from workbench.forecast.calendar import RetailCalendar
from workbench.forecast.model import sales_forecast
from workbench.forecast.periods import PeriodSeries
from workbench.report import fmt
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["Backtest", "backtest", "METHODS"]

#: Methods compared (codes; labels in ``categories.forecast_method``).
METHODS = ("forecast", "seasonal_naive", "ets")


@dataclass(frozen=True, repr=False)
class Backtest(Result):
    """Errors of the rolling-origin backtest (see :func:`backtest`).

    Attributes
    ----------
    predictions : pandas.DataFrame
        One row per origin and period: ``origin`` (last history day), ``period_start``, ``step``,
        ``actual``, one column per method, ``lo80``, ``hi80``, ``lo95``, ``hi95``, ``scale`` (the
        MASE denominator at that origin).
    models : pandas.DataFrame
        The purchase model fitted at each origin: ``origin``, ``param``, ``estimate``, ``lower``,
        ``upper`` (95 % Wald), the calibration models the backtest checks.
    """

    predictions: pd.DataFrame
    models: pd.DataFrame = field(repr=False)

    def errors(self) -> pd.DataFrame:
        """Per method: ``method``, ``mape``, ``mase``, ``n``."""
        p = self.predictions
        rows = []
        for m in METHODS:
            err = (p[m] - p["actual"]).abs()
            mape = float((err / p["actual"].where(p["actual"] > 0)).mean())
            rows.append({"method": m, "mape": mape, "mase": float((err / p["scale"]).mean()), "n": len(p)})
        return pd.DataFrame(rows)

    def coverage(self) -> pd.DataFrame:
        """Per level: ``level``, ``coverage`` with a Wilson 95 % interval, ``n``."""
        p = self.predictions
        rows = []
        for lvl in (80, 95):
            hit = int(((p["actual"] >= p[f"lo{lvl}"]) & (p["actual"] <= p[f"hi{lvl}"])).sum())
            lo, hi = (float(np.ravel(v)[0]) for v in wilson_interval(hit, len(p)))
            rows.append({"level": lvl / 100, "coverage": hit / len(p), "ci_low": lo, "ci_high": hi, "n": len(p)})
        return pd.DataFrame(rows)

    def winner(self) -> tuple[str, str, float]:
        """The method with the smallest MASE, the runner-up, and the winner's MASE relative
        reduction against it."""
        e = self.errors().sort_values("mase").reset_index(drop=True)
        best, second = e.iloc[0], e.iloc[1]
        return str(best["method"]), str(second["method"]), float(1 - best["mase"] / second["mase"]) if second["mase"] > 0 else 0.0

    def summary(self) -> pd.DataFrame:
        """Per method (label): ``method``, ``mape``, ``mase``, and the forecast's coverage."""
        e = self.errors()
        cov = self.coverage().set_index("level")["coverage"]
        e["coverage_80"] = np.where(e["method"] == "forecast", cov[0.8], np.nan)
        e["coverage_95"] = np.where(e["method"] == "forecast", cov[0.95], np.nan)
        e["method"] = [category("forecast_method", m) for m in e["method"]]
        return e.drop(columns="n")

    def to_frame(self) -> pd.DataFrame:
        """Every (origin, period) prediction."""
        return self.predictions.copy()

    def metrics(self) -> dict[str, Any]:
        """MAPE, MASE per method, coverage, winner (JSON-able)."""
        e = self.errors().set_index("method")
        cov = self.coverage().set_index("level")
        w, second, gain = self.winner()
        return {"n": len(self.predictions), "origins": int(self.predictions["origin"].nunique()),
                "mape": e["mape"].to_dict(), "mase": e["mase"].to_dict(),
                "coverage_80": float(cov.loc[0.8, "coverage"]), "coverage_95": float(cov.loc[0.95, "coverage"]),
                "winner": w, "runner_up": second, "mase_reduction": gain}

    def finding(self) -> str:
        """Which method wins, by how much, and whether the intervals are honest."""
        m = self.metrics()
        return t("forecast.backtest.finding", origins=m["origins"], n=m["n"], winner=category("forecast_method", m["winner"]),
                 mase=f"{m['mase'][m['winner']]:.2f}", second=category("forecast_method", m["runner_up"]),
                 mase2=f"{m['mase'][m['runner_up']]:.2f}", gain=fmt.pct(m["mase_reduction"]),
                 mape=fmt.pct(m["mape"]["forecast"]), cov80=fmt.pct(m["coverage_80"]), cov95=fmt.pct(m["coverage_95"]))

    def plot(self, ax: Any = None) -> Any:
        """Actual revenue and each method's forecast from the first origin."""
        ax = new_axes(ax, figsize=(9, 4))
        p = self.predictions
        act = p.drop_duplicates("period_start").sort_values("period_start")
        ax.plot(act["period_start"], act["actual"], color="black", label=t("forecast.backtest.actual"))
        first = p[p["origin"] == p["origin"].min()]
        ax.fill_between(first["period_start"], first["lo80"], first["hi80"], color="C1", alpha=0.25, label=t("forecast.forecast.band80"))
        for i, m in enumerate(METHODS):
            ax.plot(first["period_start"], first[m], linestyle="-" if m == "forecast" else "--", color=f"C{i + 1}",
                    label=category("forecast_method", m))
        ax.set_title(t("forecast.backtest.title"))
        ax.set_ylabel(category("forecast_measure", "revenue"))
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
        return ax


def _naive(y: np.ndarray, steps: int, season: int) -> np.ndarray:
    lag = season if len(y) >= season else 1
    idx = len(y) - lag + (np.arange(steps) % lag)
    return y[idx]


def _scale(y: np.ndarray, season: int) -> float:
    lag = season if len(y) > season else 1
    d = np.abs(y[lag:] - y[:-lag])
    return float(d.mean()) if len(d) and d.mean() > 0 else 1.0


def _model_rows(fc: Any, origin: pd.Timestamp) -> pd.DataFrame:
    s = fc.existing.model.summary()
    return s.assign(origin=origin)[["origin", "param", "estimate", "lower", "upper"]]


def backtest(series: PeriodSeries, calendar: RetailCalendar, *, periods: int = 13, step: int = 4, model: str = "bgnbd",
             n_draws: int = 300, seed: int = 0, new_customers: bool = True) -> Backtest:
    """Rolling-origin backtest over the last ``periods`` periods of the history.

    Parameters
    ----------
    series : PeriodSeries
    calendar : RetailCalendar
        Covering at least the history.
    periods : int
        K, the periods at the end of the history that are forecast.
    step : int
        Periods between origins.
    model, n_draws, seed, new_customers
        As in :func:`sales_forecast`.

    Returns
    -------
    Backtest

    Raises
    ------
    AnalysisError
        The history left before the first origin is shorter than a seasonal cycle.
    """
    n = len(series.frame)
    if n - periods < series.season:
        raise AnalysisError(
            f"backtest: {n} {series.period}s of history leave {n - periods} before the first origin, fewer than the "
            f"seasonal cycle of {series.season}; lower backtest_periods= (now {periods})"
        )
    y = series.frame["revenue"].to_numpy()
    rows, models = [], []
    for o in range(n - periods, n, step):
        sub = series.truncate(o)
        h = n - o
        fc = sales_forecast(sub, calendar, horizon=h, model=model, n_draws=n_draws, seed=seed, new_customers=new_customers)
        rev = fc.measure("revenue")
        ets = fit_series_model(y[:o], horizon=h, season=series.season, candidates=("ets_aadn",), n_draws=n_draws,
                               random_state=seed).paths.mean(axis=0)
        rows.append(pd.DataFrame({
            "origin": sub.origin, "period_start": series.frame["period_start"].iloc[o:].to_numpy(), "step": np.arange(1, h + 1),
            "actual": y[o:], "forecast": rev["forecast"].to_numpy(), "seasonal_naive": _naive(y[:o], h, series.season),
            "ets": ets, "lo80": rev["lo80"].to_numpy(), "hi80": rev["hi80"].to_numpy(), "lo95": rev["lo95"].to_numpy(),
            "hi95": rev["hi95"].to_numpy(), "scale": _scale(y[:o], series.season),
        }))
        models.append(_model_rows(fc, sub.origin))
    return Backtest(pd.concat(rows, ignore_index=True), pd.concat(models, ignore_index=True))
