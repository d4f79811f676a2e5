"""Protocol cases of ``workbench.forecast``: one small forecast on the 600-customer base."""

from __future__ import annotations

from functools import lru_cache

from protocol_cases._data import AS_OF, small_base, table
from workbench import forecast
from workbench.forecast.acquisition import SeriesModel
from workbench.forecast.existing import ExistingPart

HORIZON = 8


@lru_cache(maxsize=1)
def _series() -> forecast.PeriodSeries:
    return forecast.period_series(table("orders"), as_of=AS_OF, period="month", horizon=HORIZON)


@lru_cache(maxsize=1)
def _calendar() -> forecast.RetailCalendar:
    s = _series()
    return forecast.retail_calendar(s.edges(HORIZON), period="month", history=s.n_periods)


@lru_cache(maxsize=1)
def _forecast() -> forecast.SalesForecast:
    return forecast.sales_forecast(_series(), _calendar(), horizon=HORIZON, n_draws=100, seed=1)


def _backtest() -> forecast.Backtest:
    return forecast.backtest(_series(), _calendar(), periods=6, step=3, n_draws=100, seed=1)


def _tracking() -> forecast.Tracking:
    check = forecast.truth_check(_forecast(), small_base().truth)
    assert check is not None
    return check


CASES = {
    forecast.PeriodSeries: _series,
    forecast.RetailCalendar: _calendar,
    forecast.SalesForecast: _forecast,
    ExistingPart: lambda: _forecast().existing,
    SeriesModel: lambda: _forecast().acquisition,
    forecast.Backtest: _backtest,
    forecast.Scenarios: lambda: forecast.scenarios(_forecast(), retention=0.05, acquisition=0.1, order_value=-0.02),
    forecast.GroupForecast: lambda: forecast.forecast_by_group(_forecast(), table("customers"), by="acquisition_channel"),
    forecast.Tracking: _tracking,
}
