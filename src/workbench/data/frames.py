"""Shaping helpers for customer-level frames (features, segments) shared by the analyses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.core.errors import AnalysisError

__all__ = ["need_columns", "segment_series", "order_levels"]


def need_columns(frame: pd.DataFrame, cols: Sequence[str], *, what: str, key: str | None = None) -> None:
    """Raise when ``frame`` lacks any of ``cols``.

    Parameters
    ----------
    frame : pandas.DataFrame
    cols : sequence of str
        Required columns.
    what : str
        The analysis, for the message (``"RFM scores"``).
    key : str, optional
        What to fix, when it is an option rather than the feature table.

    Raises
    ------
    AnalysisError
        Naming the missing columns, the table's size and columns.
    """
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        fix = f"; fix {key}" if key else "; build the table with workbench.data.features.customer_features"
        raise AnalysisError(
            f"{what} needs column(s) {', '.join(missing)} in the feature table "
            f"({len(frame):,} rows; columns: {', '.join(map(str, frame.columns))}){fix}"
        )


def segment_series(segments: pd.Series | pd.DataFrame, *, segment_col: str = "segment") -> pd.Series:
    """Customer -> segment as a Series indexed by ``customer_id``.

    Parameters
    ----------
    segments : pandas.Series or pandas.DataFrame
        A Series indexed by ``customer_id``, or a frame with ``customer_id`` and ``segment_col``.
    segment_col : str, default "segment"

    Returns
    -------
    pandas.Series
        Named ``segment``.

    Raises
    ------
    AnalysisError
        Missing columns, another type, or repeated customers.
    """
    if isinstance(segments, pd.DataFrame):
        if "customer_id" not in segments.columns or segment_col not in segments.columns:
            raise AnalysisError(
                f"segments frame needs columns customer_id and {segment_col!r} "
                f"(has {', '.join(map(str, segments.columns))}); pass e.g. rfm.segments()"
            )
        s = segments.set_index("customer_id")[segment_col]
    elif isinstance(segments, pd.Series):
        s = segments
    else:
        raise AnalysisError(
            f"segments must be a Series indexed by customer_id or a DataFrame; got {type(segments).__name__}"
        )
    if s.index.has_duplicates:
        raise AnalysisError(f"segments: {int(s.index.duplicated().sum()):,} customer_id values repeat")
    return s.rename("segment")


def order_levels(s: pd.Series) -> list[Any]:
    """Segment levels: categorical order when categorical, else by size (largest first)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    vc = s.value_counts(dropna=True)
    return list(vc.index)
