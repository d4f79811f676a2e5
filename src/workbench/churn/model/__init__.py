"""Churn prediction, per-customer reasons and the retention list (notebook ``03_churn.ipynb``).

One call per notebook section:

1. :func:`prepare_features` decides which columns of the churn frame are features (numeric,
   categorical) and which are dropped and why (ids, dates, constants, too many levels, names
   that give the outcome away such as ``duration_months``, ``event``, ``churn_date``).
2. :func:`fit_churn_models` fits a regularized logistic regression (odds ratios with 95 %
   intervals, the explainable model) and histogram gradient boosting on the same split: an
   explicit out-of-time ``(train, test)`` pair, or one snapshot frame split stratified. It stops
   on leakage (one feature alone separating churners), a non-binary label, one class only or
   too few rows, and calibrates the probabilities when a calibration test says so.
3. :func:`evaluate_churn_models` measures both on the held-out rows: ROC AUC with a bootstrap
   interval, PR AUC against the base rate, Brier score and skill, calibration (Hosmer-Lemeshow,
   Spiegelhalter), lift and cumulative gains by decile, permutation importance.
4. :func:`churn_reasons` lists for each customer the factors that raise the risk most, in words
   an account manager can read, from the logistic model's contributions
   ``coef * (x - reference)``.
5. :func:`retention_list` ranks customers by expected net value of a retention contact,
   ``P(churn) * value at risk * save rate - contact cost``, with pseudonymized keys, ready for
   CRM import.

Estimator and result
--------------------
Fitting and scoring happen at different times (fit on last quarter's frame, score today's
base), so the models are an estimator: :class:`ChurnScorer` (scikit-learn style: ``__init__``
stores the options, ``fit(train, *, spec, test=None)`` returns ``self`` and sets learned
attributes ending in ``_``, ``predict_proba(frame, *, model="logistic" | "hgb")`` returns an
array). It has no ``summary`` or ``finding``: it is not a result. :func:`fit_churn_models`
builds and fits one and returns :class:`ChurnModels`, the Result that wraps the fitted scorer
(``models.estimator``) with the split, calibration decisions, odds ratios, forest plot, metrics and
finding. :func:`churn_reasons` scores with the scorer's ``predict_proba``.

Modules
-------
``features``     :class:`FeatureSpec`, :func:`prepare_features`
``design``       the design matrix learned on training rows (imputation, scaling, dummies)
``scorer``       :class:`ChurnScorer`, the estimator
``models``       :class:`ChurnModels`, :func:`fit_churn_models`, the odds-ratio table
``calibration``  :func:`spiegelhalter`, :func:`hosmer_lemeshow`, calibration-curve points
``evaluate``     :class:`ChurnEvaluation`, :func:`evaluate_churn_models`, :func:`lift_table`
``reasons``      :func:`churn_reasons`, :data:`REASON_PHRASES`
``retention``    :func:`value_at_risk`, :class:`RetentionList`, :func:`retention_list`
"""

from workbench.churn.model._common import MODEL_NAMES
from workbench.churn.model.calibration import hosmer_lemeshow, spiegelhalter
from workbench.churn.model.evaluate import ChurnEvaluation, evaluate_churn_models, lift_table
from workbench.churn.model.features import FeatureSpec, prepare_features
from workbench.churn.model.models import ChurnModels, fit_churn_models
from workbench.churn.model.reasons import REASON_PHRASES, churn_reasons
from workbench.churn.model.retention import (
    SEGMENT_COLUMNS,
    RetentionList,
    retention_list,
    value_at_risk,
)
from workbench.churn.model.scorer import ChurnScorer

__all__ = [
    "MODEL_NAMES",
    "SEGMENT_COLUMNS",
    "REASON_PHRASES",
    "FeatureSpec",
    "prepare_features",
    "ChurnScorer",
    "ChurnModels",
    "fit_churn_models",
    "ChurnEvaluation",
    "evaluate_churn_models",
    "lift_table",
    "hosmer_lemeshow",
    "spiegelhalter",
    "churn_reasons",
    "value_at_risk",
    "RetentionList",
    "retention_list",
]
