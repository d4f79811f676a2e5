"""Constants and small helpers of :mod:`workbench.churn.model`.

The generic ones (model names and thresholds, the rank AUC, equal groups, the column readers,
the short number wording) live in :mod:`workbench.modeling.propensity.common`, shared with
cross_sell, and are re-exported here; what is churn's own: the churn wording of the shared
scorer's messages (:data:`CHURN_WORDING`), the outcome-name pattern, the model titles, and the
label parser and column reader with churn's words.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from workbench.modeling.propensity.common import (
    CALIBRATION_SHARE,
    IMPORTANCE_REPEATS,
    IMPORTANCE_SAMPLE,
    MIN_TEST_CLASS,
    MIN_TRAIN_CLASS,
    MIN_TRAIN_ROWS,
    MISSING_LEVEL,
    MODEL_NAMES,
    auc_binary,
    cat_col,
    equal_groups,
    nice,
    short_number,
    short_numbers,
    stratified_subsample,
)
from workbench.modeling.propensity.common import binary_label as _binary_label
from workbench.modeling.propensity.common import numeric_col as _numeric_col
from workbench.modeling.propensity.design import Wording

__all__ = [
    "CALIBRATION_SHARE", "CHURN_WORDING", "IMPORTANCE_REPEATS", "IMPORTANCE_SAMPLE", "LEAK_NAME_RE",
    "MIN_TEST_CLASS", "MIN_TRAIN_CLASS", "MIN_TRAIN_ROWS", "MISSING_LEVEL", "MODEL_NAMES", "MODEL_TITLES",
    "auc_binary", "binary_label", "cat_col", "equal_groups", "model_title", "nice", "numeric_col",
    "short_number", "short_numbers", "stratified_subsample",
]  # fmt: skip

MODEL_TITLES: dict[str, str] = {"logistic": "logistic regression", "hgb": "gradient boosting"}

#: How the shared scorer's messages speak of churn (frames, classes, the options to change).
CHURN_WORDING = Wording(
    noun="churn", label_kind="0/1 churn label", positive="churners", negative="non-churners",
    label_option="label.flag_column=", window_option="a longer label.inactivity_days= window",
    options="model.", unseen_key="churn.model.warn.unseen",
)


def model_title(model: str) -> str:
    """A model's name as a reader reads it (``categories.churn_model.<name>``)."""
    from workbench.report.i18n import category

    return category("churn_model", model)


#: Column names that carry the outcome (never features): survival time, event flag, churn date...
LEAK_NAME_RE = re.compile(
    r"(^|_)(duration|event|churn\w*|dropout\w*|end_date|left_date|cancel\w*|p_alive|label|target|"
    r"truth|reason|churned_in_window)($|_)",
    re.IGNORECASE,
)


def binary_label(values: pd.Series, *, label: str, table: str = "churn frame") -> pd.Series:
    """0/1 float Series from bool, 0/1 numbers or yes/no text (the shared parser, churn's words)."""
    return _binary_label(values, label=label, table=table, kind=CHURN_WORDING.label_kind,
                         option=CHURN_WORDING.label_option)


def numeric_col(frame: pd.DataFrame, c: str, *, what: str = "frame") -> np.ndarray:
    """Column ``c`` as float64 (the shared reader, churn's words)."""
    return _numeric_col(frame, c, what=what, noun="churn", exclude_option=CHURN_WORDING.opt("exclude"))
