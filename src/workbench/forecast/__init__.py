"""Sales forecast (notebook ``06_sales_forecast.ipynb``): revenue, orders and active customers for
the coming weeks or months, with intervals and an honest backtest.

* :mod:`~workbench.forecast.periods` - orders as a series of whole periods (:func:`period_series`).
* :mod:`~workbench.forecast.calendar` - the Chinese retail calendar as regressors (:func:`retail_calendar`).
* :mod:`~workbench.forecast.existing` - existing customers: BTYD period by period x Gamma-Gamma.
* :mod:`~workbench.forecast.acquisition` - new customers: ETS or SARIMAX by AICc.
* :mod:`~workbench.forecast.model` - both joined with 80 % / 95 % intervals (:func:`sales_forecast`).
* :mod:`~workbench.forecast.backtest` - rolling origin against seasonal naive and plain ETS.
* :mod:`~workbench.forecast.scenarios` - what-if scenarios, the split by group, tracking.
* :mod:`~workbench.forecast.truth` - synthetic data: the forecast against the generator's truth.
* :mod:`~workbench.forecast.findings` - :func:`key_findings`.
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.forecast.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.forecast.backtest": ("METHODS", "Backtest", "backtest"),
    "workbench.forecast.calendar": ("EVENTS", "RetailCalendar", "retail_calendar"),
    "workbench.forecast.findings": ("key_findings",),
    "workbench.forecast.model": ("QUANTILES", "SalesForecast", "sales_forecast"),
    "workbench.forecast.periods": ("SEASON", "PeriodSeries", "period_series", "purchases"),
    "workbench.forecast.scenarios": (
        "GroupForecast", "Scenarios", "Tracking", "forecast_by_group", "scenarios",
        "track_forecast"
    ),
    "workbench.forecast.truth": ("truth_check", "truth_totals"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
