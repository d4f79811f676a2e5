"""Values that must be numbers: one conversion with one error naming the rows that are not."""

from __future__ import annotations

import pandas as pd

from workbench.core.errors import AnalysisError, format_examples

__all__ = ["to_number"]


def to_number(values: pd.Series, *, name: str, fix: str, noun: str = "numbers", scan: int | None = None) -> pd.Series:
    """``values`` through :func:`pandas.to_numeric`; an error when a present value is not a number.

    Parameters
    ----------
    values : pandas.Series
        Any dtype; missing values stay missing.
    name : str
        Table and column for the message (``"campaign_contacts.revenue"``).
    fix : str
        What to do, ending the message (``"pass a numeric column as outcome="``).
    noun : str, default "numbers"
        What the values should be (``"numbers or 0/1"``).
    scan : int, optional
        Examples come from the first ``scan`` bad rows (all by default).

    Returns
    -------
    pandas.Series
        Same index; float or int dtype.

    Raises
    ------
    AnalysisError
        ``<name>: <k> of <n> rows are not <noun>, e.g. <examples>; <fix>``.

    Examples
    --------
    >>> to_number(pd.Series(["1", "2.5", None]), name="t.x", fix="fix t.x").tolist()
    [1.0, 2.5, nan]
    """
    conv = pd.to_numeric(values, errors="coerce")
    bad = conv.isna() & values.notna()
    if bad.any():
        ex = values[bad] if scan is None else values[bad].head(scan)
        raise AnalysisError(
            f"{name}: {int(bad.sum()):,} of {len(values):,} rows are not {noun}, "
            f"e.g. {format_examples(ex)}; {fix}"
        )
    return conv
