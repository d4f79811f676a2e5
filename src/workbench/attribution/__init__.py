"""Channel attribution (``notebooks/05_channel_attribution.ipynb``): journeys, top paths, the eight
models side by side, channel economics, when and where, and the actions that follow.

See ``docs/ARCHITECTURE.md`` ("Adding an analysis"); the engine work (journeys) is in
:mod:`workbench.attribution.journeys`, the model maths on the small path table in
:mod:`workbench.attribution.markov` and :mod:`workbench.attribution.models`.
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.attribution.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.attribution.economics": ("ChannelEconomics", "channel_economics"),
    "workbench.attribution.journeys": ("OTHER", "Journeys", "build_journeys", "touchpoints"),
    "workbench.attribution.markov": ("markov_structure", "removal_effects", "shapley_values"),
    "workbench.attribution.models": (
        "RULE_MODELS", "ModelComparison", "PathModel", "compare_models"
    ),
    "workbench.attribution.paths": ("JourneyShape", "PathsResult", "journey_shape", "top_paths"),
    "workbench.attribution.recommend": (
        "Recommendation", "key_findings", "recommend", "run_metrics"
    ),
    "workbench.attribution.when": ("Regions", "TimeSlots", "regions", "time_slots"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
