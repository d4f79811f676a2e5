"""Models shared by more than one analysis (propensity scoring, survival): no analysis imports another.

``propensity``  the time-safe scorer churn and cross_sell share (:mod:`workbench.modeling.propensity`)
"""

from __future__ import annotations

__all__: list[str] = ["propensity"]
