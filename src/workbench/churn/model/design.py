"""The design matrix of the churn models: the shared :class:`~workbench.modeling.propensity.design.Design`
(median fill with missing-indicators, standardized numbers, dummies vs the most frequent level)."""

from workbench.modeling.propensity.design import Design

__all__ = ["Design"]
