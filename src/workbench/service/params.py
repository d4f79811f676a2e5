"""Params section ``analyses.service``."""

from __future__ import annotations

from workbench.core.params import AnalysisSection

__all__ = ["ServiceParams"]


class ServiceParams(AnalysisSection):
    """Options of the service and voice of the customer analysis (``analyses.service``)."""
