"""Calibration tests of predicted churn probabilities: the shared ones of
:mod:`workbench.modeling.propensity.calibration` (Spiegelhalter, Hosmer-Lemeshow, curve points)."""

from workbench.modeling.propensity.calibration import (
    calibration_points,
    hosmer_lemeshow,
    spiegelhalter,
)

__all__ = ["spiegelhalter", "hosmer_lemeshow", "calibration_points"]
