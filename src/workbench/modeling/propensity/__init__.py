"""The time-safe propensity machinery churn and cross_sell share (one copy).

A :class:`PropensityScorer` fits a regularized logistic regression and histogram gradient
boosting on one split (an out-of-time ``(train, test)`` pair, or a stratified hold-out of one
snapshot), stops on leakage and too few rows, decides on calibration with Spiegelhalter's test,
and scores any frame. :func:`evaluate_scorer` measures it on the held-out rows (AUC with
bootstrap interval, Brier, calibration tests, lift and gains, permutation importance);
:func:`auc_difference` compares it with a baseline score; :func:`top_contributions` gives the
reasons per customer and :func:`odds_table` the logistic odds ratios. An analysis words the
results in its own catalog (:class:`Wording` names its frames, classes and options).

Modules
-------
``common``       constants, label parsing, rank AUC, column readers, number wording
``design``       :class:`Features`, :class:`Wording`, :class:`Design` (the encoding)
``scorer``       :class:`PropensityScorer`, the estimator
``calibration``  :func:`spiegelhalter`, :func:`hosmer_lemeshow`, :func:`calibration_points`
``evaluate``     :func:`evaluate_scorer`, :func:`lift_table`, :func:`auc_difference`
``reasons``      :func:`top_contributions`, :func:`odds_table`
"""

from workbench.modeling.propensity.calibration import (
    calibration_points,
    hosmer_lemeshow,
    spiegelhalter,
)
from workbench.modeling.propensity.common import MODEL_NAMES, auc_binary, binary_label
from workbench.modeling.propensity.design import Design, Features, SpecLike, Wording
from workbench.modeling.propensity.evaluate import (
    ScorerEvaluation,
    auc_difference,
    evaluate_scorer,
    fast_auc_stat,
    lift_table,
)
from workbench.modeling.propensity.reasons import odds_table, top_contributions
from workbench.modeling.propensity.scorer import PropensityScorer

__all__ = [
    "MODEL_NAMES",
    "Design",
    "Features",
    "PropensityScorer",
    "ScorerEvaluation",
    "SpecLike",
    "Wording",
    "auc_binary",
    "auc_difference",
    "binary_label",
    "calibration_points",
    "evaluate_scorer",
    "fast_auc_stat",
    "hosmer_lemeshow",
    "lift_table",
    "odds_table",
    "spiegelhalter",
    "top_contributions",
]
