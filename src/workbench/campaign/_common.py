"""Small helpers shared by the campaign modules: time and flag columns, table names, the arms
of the contacts, the marketing consent of customers and the lengths of interval error bars."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.core.errors import did_you_mean
from workbench.data.consent import CONSENT, consent_by_customer, flag

__all__ = [
    "TABLE", "FLAGS", "CONSENT", "naive_time", "flag", "arm_counts_text", "control_hint", "consent_by_customer",
    "error_bar_lengths",
]  # fmt: skip

#: Contract table of the campaign contacts.
TABLE = "campaign_contacts"
#: Yes/no engagement columns of the contacts, in funnel order.
FLAGS: tuple[str, ...] = ("delivered", "opened", "clicked", "visited", "converted")


def naive_time(s: pd.Series) -> pd.Series:
    """Datetime series without time zone (UTC when it had one), nanosecond resolution.

    Parameters
    ----------
    s : pandas.Series
        Datetimes, or values ``pandas.to_datetime`` reads (others become NaT).

    Returns
    -------
    pandas.Series of ``datetime64[ns]``
    """
    s = pd.to_datetime(s, errors="coerce")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[ns]")


def arm_counts_text(counts: Mapping[str, int] | pd.Series) -> str:
    """Arms with their number of rows, largest first: ``'ctrl' (1,467), 'treatment' (1,421)``.

    Examples
    --------
    >>> arm_counts_text({"treatment": 5, "ctrl": 7})
    "'ctrl' (7), 'treatment' (5)"
    """
    items = sorted(dict(counts).items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    return ", ".join(f"{str(a)!r} ({int(n):,})" for a, n in items)


def control_hint(control_arm: str, arms: Mapping[str, int] | pd.Series) -> str:
    """Why ``control_arm`` matches no arm and what to change, for an error message: the arms
    found with their rows, a did-you-mean and the ``control_arm=`` option.

    Examples
    --------
    >>> control_hint("control", {"ctrl": 10, "treatment": 12})
    "no arm is named 'control'; arms found: 'treatment' (12), 'ctrl' (10) (did you mean 'ctrl'?); set control_arm= to the hold-out arm"
    """
    return (
        f"no arm is named {control_arm!r}; arms found: {arm_counts_text(arms)}"
        f"{did_you_mean(control_arm, [str(a) for a in dict(arms)])}; set control_arm= to the hold-out arm"
    )


def error_bar_lengths(value: object, low: object, high: object) -> np.ndarray:
    """Lengths of interval error bars below and above each estimate, for ``errorbar(xerr=...)``.

    Rounding (a Wilson bound of ``1 - 1e-16`` for a rate of exactly 1) or an interval that does
    not contain its estimate would give negative lengths, which matplotlib refuses: they are 0.
    Missing bounds stay NaN (no bar).

    Returns
    -------
    numpy.ndarray
        Shape ``(2, n)``: ``value - low`` and ``high - value``, at least 0.

    Examples
    --------
    >>> error_bar_lengths([1.0, 0.0], [0.98, 0.0], [1.0 - 1e-16, 0.02]).round(2).tolist()
    [[0.02, 0.0], [0.0, 0.02]]
    """
    v, lo, hi = (np.asarray(a, dtype="float64").reshape(-1) for a in (value, low, high))
    return np.vstack([np.maximum(v - lo, 0.0), np.maximum(hi - v, 0.0)])  # NaN stays NaN
