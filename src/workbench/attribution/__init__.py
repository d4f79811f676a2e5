"""Channel attribution (``notebooks/05_channel_attribution.ipynb``): journeys, top paths, the eight
models side by side, channel economics, when and where, and the actions that follow.

See ``docs/ARCHITECTURE.md`` ("Adding an analysis"); the engine work (journeys) is in
:mod:`workbench.attribution.journeys`, the model maths on the small path table in
:mod:`workbench.attribution.markov` and :mod:`workbench.attribution.models`.
"""

from __future__ import annotations

from workbench.attribution.economics import ChannelEconomics, channel_economics
from workbench.attribution.journeys import OTHER, Journeys, build_journeys, touchpoints
from workbench.attribution.markov import markov_structure, removal_effects, shapley_values
from workbench.attribution.models import RULE_MODELS, ModelComparison, PathModel, compare_models
from workbench.attribution.paths import JourneyShape, PathsResult, journey_shape, top_paths
from workbench.attribution.recommend import Recommendation, key_findings, recommend, run_metrics
from workbench.attribution.when import Regions, TimeSlots, regions, time_slots

__all__ = [
    "OTHER",
    "RULE_MODELS",
    "ChannelEconomics",
    "JourneyShape",
    "Journeys",
    "ModelComparison",
    "PathModel",
    "PathsResult",
    "Recommendation",
    "Regions",
    "TimeSlots",
    "build_journeys",
    "channel_economics",
    "compare_models",
    "journey_shape",
    "key_findings",
    "markov_structure",
    "recommend",
    "regions",
    "removal_effects",
    "run_metrics",
    "shapley_values",
    "time_slots",
    "top_paths",
    "touchpoints",
]
