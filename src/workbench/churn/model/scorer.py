"""The churn scoring estimator: :class:`ChurnScorer`, the shared time-safe
:class:`~workbench.modeling.propensity.scorer.PropensityScorer` with churn's words.

``ChurnScorer(...).fit(train, spec=spec, test=None)`` returns ``self``; ``predict_proba(frame,
model="logistic" | "hgb")`` returns P(stays), P(churns). Everything it does (out-of-time or
stratified split, leakage stop, logistic + gradient boosting, calibration decision) is the
shared scorer's; see its documentation for the options and learned attributes.
"""

from __future__ import annotations

from workbench.churn.model._common import CHURN_WORDING
from workbench.modeling.propensity.design import Wording
from workbench.modeling.propensity.scorer import PropensityScorer

__all__ = ["ChurnScorer"]


class ChurnScorer(PropensityScorer):
    """Logistic regression and histogram gradient boosting churn models fitted on one split.

    The shared :class:`~workbench.modeling.propensity.scorer.PropensityScorer` (same options:
    ``C``, ``calibrate``, ``max_rows``, ``leakage_auc``, ``test_size``, ``random_state``; same
    learned attributes ``spec_``, ``design_``, ``logistic_``, ``models_``, ``calibration_``,
    ``split_``, ``test_``, ``X_test_``, ``y_test_``, ``coef_cov_``, ``x_mean_``,
    ``train_base_rate_``, ``classes_``) whose messages speak of churners, the churn frame and the
    ``analyses.churn`` options.
    """

    wording: Wording = CHURN_WORDING
