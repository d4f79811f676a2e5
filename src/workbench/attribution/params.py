"""Params section ``analyses.attribution``."""

from __future__ import annotations

from workbench.core.params import AnalysisSection

__all__ = ["AttributionParams"]


class AttributionParams(AnalysisSection):
    """Options of the channel attribution analysis (``analyses.attribution``)."""
