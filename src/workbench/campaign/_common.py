"""Small helpers shared by the campaign modules: time and flag columns, table names."""

from __future__ import annotations

import pandas as pd

from workbench.core.contract import parse_bool

__all__ = ["TABLE", "FLAGS", "naive_time", "flag"]

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


def flag(s: pd.Series) -> pd.Series:
    """A yes/no column as nullable booleans, blanks kept as NA.

    Booleans pass through, numbers are true when non-zero, text is read with the data
    contract's word lists (:func:`workbench.core.contract.parse_bool`; unknown words are NA).

    Parameters
    ----------
    s : pandas.Series

    Returns
    -------
    pandas.Series of ``boolean`` dtype
    """
    if s.dtype == bool or isinstance(s.dtype, pd.BooleanDtype):
        return s.astype("boolean")
    if pd.api.types.is_numeric_dtype(s):
        return (s != 0).astype("boolean").mask(s.isna())
    parsed, _ = parse_bool(s)
    return parsed
