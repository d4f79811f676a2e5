"""The registry of analyses: which notebook, which tables, which analyses it builds on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from workbench.attribution.params import AttributionParams
from workbench.campaign.params import CampaignParams
from workbench.churn.params import ChurnParams
from workbench.core.errors import ParamsError, did_you_mean
from workbench.core.params import AnalysisSection
from workbench.cross_sell.params import CrossSellParams
from workbench.forecast.params import ForecastParams
from workbench.profiling.params import ProfilingParams
from workbench.segmentation.params import SegmentationParams
from workbench.service.params import ServiceParams

__all__ = ["Analysis", "ANALYSES", "NOTEBOOK_DIR", "get_analysis"]

#: Folder of the analysis notebooks (``notebooks/`` at the project root).
NOTEBOOK_DIR = Path(__file__).resolve().parents[3] / "notebooks"


@dataclass(frozen=True)
class Analysis:
    """One analysis notebook.

    Attributes
    ----------
    key : str
        Name used on the command line and in ``analyses.<key>`` params.
    notebook : str
        File name in ``notebooks/``.
    title : str
        Human title for reports.
    tables : tuple of str
        Contract tables it needs (at least one of ``any_tables`` when that is set).
    params : type
        Its params section, ``analyses.<key>`` (an :class:`AnalysisSection`).
    any_tables : tuple of str
        It needs at least one of these tables (besides all of ``tables``).
    depends_on : tuple of str
        Analyses whose artifacts it reads; in ``run-all`` it is skipped when one of them failed.
    reads : tuple of str
        Analyses whose artifacts it reads when they ran (``ctx.artifact``), but can do without:
        in a run it starts after them, and is not skipped when they failed.
    """

    key: str
    notebook: str
    title: str
    params: type[BaseModel] = AnalysisSection
    tables: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    any_tables: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()

    @property
    def path(self) -> Path:
        """Path of the notebook file."""
        return NOTEBOOK_DIR / self.notebook

    @property
    def folder(self) -> str:
        """Name of this analysis's folder inside a run folder (``01_data_profiling``)."""
        return Path(self.notebook).stem


ANALYSES: dict[str, Analysis] = {
    a.key: a
    for a in (
        Analysis("data_profiling", "01_data_profiling.ipynb", "Data profiling and quality", ProfilingParams),
        Analysis(
            "segmentation", "02_segmentation_value.ipynb", "Segmentation and customer value", SegmentationParams,
            tables=("orders",), depends_on=("data_profiling",),
        ),
        Analysis(
            "churn", "03_churn.ipynb", "Churn analysis", ChurnParams,
            tables=("customers",), depends_on=("data_profiling",), reads=("segmentation",),
        ),
        Analysis(
            "campaign", "04_campaign_evaluation.ipynb", "Campaign evaluation", CampaignParams,
            tables=("campaign_contacts",), depends_on=("data_profiling",), reads=("segmentation",),
        ),
        Analysis(
            "attribution", "05_channel_attribution.ipynb", "Channel attribution", AttributionParams,
            tables=("orders",), any_tables=("events", "campaign_contacts"), depends_on=("data_profiling",),
        ),
        Analysis(
            "forecast", "06_sales_forecast.ipynb", "Sales forecast", ForecastParams,
            tables=("orders",), depends_on=("data_profiling",),
        ),
        Analysis(
            "cross_sell", "07_cross_sell.ipynb", "Cross-sell and propensity", CrossSellParams,
            tables=("orders",), depends_on=("data_profiling",),
        ),
        Analysis(
            "service", "08_service_voice.ipynb", "Service and voice of the customer", ServiceParams,
            any_tables=("tickets", "feedback"), depends_on=("data_profiling", "churn"),
        ),
    )
}


def get_analysis(key: str) -> Analysis:
    """Look up an analysis by key, with a did-you-mean on a typo.

    Raises
    ------
    workbench.core.errors.ParamsError
        Unknown key.
    """
    if key in ANALYSES:
        return ANALYSES[key]
    raise ParamsError(f"unknown analysis {key!r}{did_you_mean(key, ANALYSES)} (known: {', '.join(ANALYSES)})")
