"""Params section ``analyses.cross_sell``."""

from __future__ import annotations

from workbench.core.params import AnalysisSection

__all__ = ["CrossSellParams"]


class CrossSellParams(AnalysisSection):
    """Options of the cross-sell and propensity analysis (``analyses.cross_sell``)."""
