"""Params section ``analyses.forecast``."""

from __future__ import annotations

from workbench.core.params import AnalysisSection

__all__ = ["ForecastParams"]


class ForecastParams(AnalysisSection):
    """Options of the sales forecast analysis (``analyses.forecast``)."""
