"""Synthetic data only: the forecast against the generator's truth of the periods after ``as_of``
(``ground_truth.json`` ``future``, :mod:`workbench.synth.future`), a recovery check shown next
to the estimates, never an input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.forecast.model import SalesForecast
from workbench.forecast.scenarios import Tracking, compare_forecast

__all__ = ["truth_totals", "truth_check"]


def truth_totals(truth: dict[str, Any] | None, period: str, measure: str = "revenue") -> pd.DataFrame | None:
    """Per period after ``as_of``: ``period_start``, ``actual`` (existing + new customers), from the
    ``future`` truth; ``None`` without one."""
    fut = (truth or {}).get("future", truth if truth and period in truth else None)
    if not fut or period not in fut:
        return None
    block = fut[period]
    actual = np.asarray(block["existing"][measure], dtype="float64") + np.asarray(block["new"][measure], dtype="float64")
    return pd.DataFrame({"period_start": pd.to_datetime(block["period_start"]), "actual": actual})


def truth_check(forecast: SalesForecast, truth: dict[str, Any] | None, *, measure: str = "revenue") -> Tracking | None:
    """The forecast's periods against the truth (``None`` when the data are not synthetic).

    Parameters
    ----------
    forecast : SalesForecast
    truth : dict or None
        ``ground_truth.json`` (``ctx.truth_summary()``), or its ``future`` block.
    measure : str

    Returns
    -------
    Tracking or None
    """
    tt = truth_totals(truth, forecast.series.period, measure)
    if tt is None:
        return None
    f = forecast.measure(measure).merge(tt, on="period_start", how="inner")
    if f.empty:
        return None
    return compare_forecast(f, str(forecast.series.origin.date()))
