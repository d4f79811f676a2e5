"""Helpers shared by the segmentation modules: column checks, rank scores, segment series.

Private to :mod:`workbench.segmentation`; the public constants are re-exported by the package.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.report.i18n import category

#: Segment of customers without a purchase up to the as-of date.
NO_PURCHASE = "no purchase"
#: Row of the migration matrix for customers who were not in the base at the earlier date.
NOT_YET_CUSTOMER = "not yet a customer"

_EPS = 1e-9


def segment_label(code: Any) -> str:
    """The reader's name of an RFM segment code (``categories.rfm_segment.<code>``; an
    analyst's own segment name stays as it is)."""
    return category("rfm_segment", code)


def check_unique_ids(frame: pd.DataFrame, *, what: str) -> None:
    """Raise when a ``customer_id`` repeats (the feature table has one row per customer).

    Raises
    ------
    AnalysisError
        How many rows repeat, with examples.
    """
    dup = frame["customer_id"].duplicated()
    if dup.any():
        ex = frame.loc[dup, "customer_id"].head(5).tolist()
        raise AnalysisError(
            f"{what}: {int(dup.sum()):,} of {len(frame):,} rows repeat a customer_id "
            f"(e.g. {', '.join(map(repr, ex))}); the feature table must have one row per customer"
        )


def rank_scores(values: pd.Series, bins: int, *, invert: bool = False) -> np.ndarray:
    """1..bins from the rank percentile with average ranks for ties (equal values, equal score).

    Examples
    --------
    >>> rank_scores(pd.Series([1.0, 2, 2, 3]), 3).tolist()
    [1, 2, 2, 3]
    """
    v = -values.astype(float) if invert else values.astype(float)
    pct = v.rank(method="average", pct=True).to_numpy(dtype=float)
    s = 1 + np.floor(bins * (pct - _EPS))
    return np.clip(s, 1, bins).astype(np.int64)


def eval_condition(
    frame: pd.DataFrame,
    rule: Any,
    *,
    what: str,
    key: str,
    empty: str,
    unknown: str,
    constant_ok: bool,
    hint: str = "",
) -> np.ndarray:
    """Evaluate an analyst's true/false rule on ``frame`` (:meth:`pandas.DataFrame.eval`).

    Parameters
    ----------
    frame : pandas.DataFrame
        The names a rule may use.
    rule : str
        The condition, e.g. ``"r >= 4 and f >= 4"``.
    what : str
        What the rule defines, for messages (``"segment 'x'"``, ``"tag 'vip'"``).
    key : str
        Where to fix it.
    empty : str
        Message for a missing or blank rule.
    unknown : str
        Message tail for an unknown name; ``{err}`` is replaced by the pandas error.
    constant_ok : bool
        Whether a rule without any name (``"True"``) is allowed (it then holds for every row).
    hint : str, default ""
        Added to the message of a rule that does not give true/false values.

    Returns
    -------
    numpy.ndarray of bool
        One value per row; missing counts as False.

    Raises
    ------
    AnalysisError
        A blank rule, an unknown name, a rule that cannot be evaluated or is not true/false.
    """
    if not isinstance(rule, str) or not rule.strip():
        raise AnalysisError(f"{what}: {empty}; fix {key}")
    try:
        res = frame.eval(rule, engine="python")
    except pd.errors.UndefinedVariableError as err:
        raise AnalysisError(f"{what}: rule {rule!r} {unknown.replace('{err}', str(err))}; fix {key}") from None
    except Exception as err:  # any parse/eval problem is the analyst's rule
        raise AnalysisError(f"{what}: rule {rule!r} cannot be evaluated ({err}); fix {key}") from None
    if np.isscalar(res) or getattr(res, "ndim", 1) == 0:
        if not constant_ok:
            raise AnalysisError(f"{what}: rule {rule!r} does not depend on any column; fix {key}")
        if not isinstance(res, (bool, np.bool_)):
            raise AnalysisError(f"{what}: rule {rule!r} is not a true/false condition; fix {key}")
        return np.full(len(frame), bool(res))
    s = pd.Series(res).reset_index(drop=True)
    if not (pd.api.types.is_bool_dtype(s.dtype) or s.isna().all()):
        raise AnalysisError(f"{what}: rule {rule!r} gives {s.dtype} values, not true/false{hint}; fix {key}")
    return s.fillna(False).to_numpy(dtype=bool)
