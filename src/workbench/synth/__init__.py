"""The synthetic CRM base with planted truth.

:mod:`~workbench.synth.spec` holds the model's parameters, :mod:`~workbench.synth.simulate` the
latent customer simulation and :func:`generate`, :mod:`~workbench.synth.campaigns` the campaigns,
:mod:`~workbench.synth.truth` the ground truth and :mod:`~workbench.synth.export` the files
(:func:`write_example`; their layout in :mod:`~workbench.synth.layout`).
"""

from workbench.synth.export import example_params, write_example
from workbench.synth.layout import CANONICAL_FILES, DEFECT_SPEC, EXPORT_COLUMNS, EXPORT_FILES
from workbench.synth.simulate import SynthData, generate
from workbench.synth.spec import (
    CAMPAIGN_SPEC,
    CATEGORY_SPEC,
    CHANNELS,
    FUNNEL_STEP_CONVERSION,
    FUNNEL_STEPS,
    HAZARD_RATIOS,
    HAZARD_REFERENCE,
    SEGMENT_SPEC,
    SEGMENTS,
)

__all__ = [
    "SynthData",
    "generate",
    "write_example",
    "example_params",
    "SEGMENTS",
    "SEGMENT_SPEC",
    "CHANNELS",
    "CATEGORY_SPEC",
    "HAZARD_RATIOS",
    "HAZARD_REFERENCE",
    "CAMPAIGN_SPEC",
    "FUNNEL_STEPS",
    "FUNNEL_STEP_CONVERSION",
    "EXPORT_FILES",
    "EXPORT_COLUMNS",
    "CANONICAL_FILES",
    "DEFECT_SPEC",
]
