"""Uplift models on randomized campaign data and the targeting list (notebook
``04_campaign_evaluation.ipynb``).

Who should get the next campaign? A randomized campaign tells how much the contact changed the
outcome *on average*; uplift models estimate the change *per customer* from the customer's
features, so the next campaign can go to the customers it moves most.

One call per notebook section:

1. :func:`uplift_data` (``data.py``) joins the contacts of one campaign (a treatment arm and the
   control arm) to a customer-level feature table and validates it -> :class:`UpliftData`.
2. :func:`fit_uplift` (``learners.py``) splits the rows into train / held-out (stratified by
   arm x outcome, seeded) and fits a two-model T-learner and an X-learner -> :class:`UpliftModels`,
   the result wrapping the fitted estimator :class:`UpliftModel` (``fit(udata) -> self``,
   ``predict_uplift(frame)``; see ``learners.py`` for the design).
3. :func:`evaluate_uplift` (``evaluate.py``) scores the held-out rows: Qini and uplift curves,
   their areas against random targeting, a bootstrap interval of the Qini coefficient and
   observed uplift by predicted decile -> :class:`UpliftEvaluation`.
4. :func:`targeting_list` (``targeting.py``) ranks a candidate base by expected incremental
   profit ``uplift x value_per_conversion - contact_cost`` -> :class:`TargetingList`.

Constants and the observed-effect statistics shared by them live in ``_common.py``. Options are
plain keywords; a problem with the data raises :class:`~workbench.core.errors.AnalysisError`
naming the keyword. Money in findings uses the run's currency (:func:`workbench.report.fmt.money`).
"""

from workbench.campaign.uplift._common import (
    LEAK_SHARE,
    MAX_LEVELS,
    MIN_POSITIVES_ERROR,
    MIN_POSITIVES_WARN,
    MIN_ROWS_PER_ARM_ERROR,
    MIN_ROWS_PER_ARM_WARN,
    MODELS,
)
from workbench.campaign.uplift._common import diff_ci as _diff_ci  # noqa: F401 - used by the tests
from workbench.campaign.uplift.data import UpliftData, uplift_data
from workbench.campaign.uplift.evaluate import (
    UpliftEvaluation,
    evaluate_uplift,
    qini_coefficient,
    uplift_curves,
)
from workbench.campaign.uplift.learners import (
    UpliftModel,
    UpliftModels,
    fit_uplift,
)
from workbench.campaign.uplift.targeting import TargetingList, targeting_list
from workbench.data.threads import SINGLE_THREAD_ROWS

__all__ = [
    "MODELS",
    "MIN_ROWS_PER_ARM_ERROR",
    "MIN_ROWS_PER_ARM_WARN",
    "MIN_POSITIVES_ERROR",
    "MIN_POSITIVES_WARN",
    "MAX_LEVELS",
    "LEAK_SHARE",
    "SINGLE_THREAD_ROWS",
    "UpliftData",
    "uplift_data",
    "UpliftModel",
    "UpliftModels",
    "fit_uplift",
    "UpliftEvaluation",
    "evaluate_uplift",
    "uplift_curves",
    "qini_coefficient",
    "TargetingList",
    "targeting_list",
]
