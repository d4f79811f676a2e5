"""Date rules every analysis shares."""

from __future__ import annotations

import datetime as dt

import pandas as pd

__all__ = ["end_of"]


def end_of(as_of: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    """First instant after the as-of day: data "up to ``as_of``" means ``time < end_of(as_of)``.

    Examples
    --------
    >>> end_of("2025-09-30")
    Timestamp('2025-10-01 00:00:00')
    """
    return pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)
