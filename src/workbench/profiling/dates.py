"""Dates: rows per day of each datetime column, its plausible window, empty months and spike days.

A datetime column's *plausible window* runs from the first to the last day with rows between the
launch date (not for birth dates) and today or ``data_end``; gaps and spikes are looked for inside
it, so one 1970 or 2030 date does not stretch it. Dates after ``data_end`` are ``future_dates``,
before the launch date ``prelaunch_dates``, after ``as_of`` ``after_as_of`` (event-time columns
only: they serve as outcome windows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data.cleaning import EVENT_TIME_COLUMNS
from workbench.profiling.alerts import Alert, fmt_number, fmt_value, rows_text
from workbench.report.i18n import date_text, t

__all__ = ["DateColumn", "DateFacts", "day_spikes", "daily_series", "date_facts", "dates_from_facts", "profile_dates",
           "monthly_coverage"]

_DAY_NS = 86_400_000_000_000
NOT_ACTIVITY = frozenset({"birth_date"})
"""Datetime columns that are not activity: their gaps and spikes mean nothing."""


@dataclass(frozen=True)
class DateColumn:
    """What :func:`profile_dates` finds in one datetime column.

    Attributes
    ----------
    daily : pandas.Series
        Rows per day over the whole observed range.
    window : (Timestamp, Timestamp)
        The plausible window.
    spikes : pandas.DataFrame
        Spike days (see :func:`day_spikes`).
    stats : dict
        ``date_min``, ``date_max``, ``span_days``, ``n_gap_months``, ``n_spike_days``,
        ``n_future``, ``n_prelaunch``, ``n_after_as_of``.
    alerts : list of Alert
    """

    daily: pd.Series
    window: tuple[pd.Timestamp, pd.Timestamp]
    spikes: pd.DataFrame
    stats: dict[str, Any]
    alerts: list[Alert] = field(default_factory=list)


def day_spikes(counts: pd.Series, z: float, *, window: int = 29) -> pd.DataFrame:
    """Spike days: days whose count stands out from the surrounding weeks.

    ``z = (c - b) / scale`` where ``b`` is the centred rolling median of the daily counts over
    ``window`` days (the local baseline, so a growing business or a seasonal peak is not a run of
    spikes) and ``scale = max(1.4826 * MAD(c - b), sqrt(max(b, 1)))`` - the MAD of the residuals,
    with a Poisson floor that keeps sparse tables (a handful of rows a day) from marking every
    non-empty day. Days with ``z > spike_z`` are spikes.
    """
    cols = ["day", "rows", "baseline", "robust_z", "times_baseline"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    c = counts.to_numpy(dtype="float64")
    base = (
        pd.Series(c).rolling(window, center=True, min_periods=1).median().to_numpy()
        if c.size > 1
        else c.copy()
    )
    resid = c - base
    mad = float(np.median(np.abs(resid - np.median(resid))))
    scale = np.maximum(1.4826 * mad, np.sqrt(np.maximum(base, 1.0)))
    zs = resid / scale
    hit = zs > z
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(base[hit] > 0, c[hit] / base[hit], np.nan)
    out = pd.DataFrame(
        {
            "day": counts.index[hit],
            "rows": c[hit].astype("int64"),
            "baseline": base[hit],
            "robust_z": zs[hit],
            "times_baseline": times,
        },
        columns=cols,
    )
    return out.sort_values("robust_z", ascending=False).reset_index(drop=True)


def _window(
    daily: pd.Series, col: str, *, launch: pd.Timestamp | None, end: pd.Timestamp
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First to last day with rows between the launch date and ``end`` (whole range when none)."""
    lo_b = launch.normalize() if launch is not None and col not in NOT_ACTIVITY else daily.index[0]
    plausible = daily.loc[lo_b : end.normalize()]
    nz = np.flatnonzero(plausible.to_numpy())
    if nz.size:
        return plausible.index[nz[0]], plausible.index[nz[-1]]
    return daily.index[0], daily.index[-1]


@dataclass(frozen=True)
class DateFacts:
    """The counts one datetime column's profile is built from, however they were computed.

    :func:`date_facts` computes them from the column's values (pandas);
    :mod:`workbench.profiling.queries` with queries in the engine.

    Attributes
    ----------
    daily : pandas.Series
        Rows per day from the first to the last day with a value (days without rows: 0).
    n : int
        Rows of the table.
    vmin, vmax : pandas.Timestamp
        Earliest and latest value.
    n_future, n_prelaunch, n_after_as_of : int
        Values after ``end``, before the launch date (birth dates excepted), after the as-of day.
    future_examples : tuple
        The (up to) 3 latest future values, earliest first.
    prelaunch_examples : tuple
        The (up to) 3 earliest pre-launch values, earliest first.
    """

    daily: pd.Series
    n: int
    vmin: pd.Timestamp
    vmax: pd.Timestamp
    n_future: int = 0
    n_prelaunch: int = 0
    n_after_as_of: int = 0
    future_examples: tuple[Any, ...] = ()
    prelaunch_examples: tuple[Any, ...] = ()


def daily_series(days: np.ndarray, counts: np.ndarray, col: str) -> pd.Series:
    """Rows per day over the whole range of ``days`` (days since 1970-01-01), empty days as 0.

    Parameters
    ----------
    days : numpy.ndarray of int
        Days (any order, each once).
    counts : numpy.ndarray of int
        Rows on each of them.
    col : str
        Name of the series.

    Returns
    -------
    pandas.Series
        Index: every day from the first to the last (datetime64[ns]).
    """
    days = np.asarray(days, dtype="int64")
    dmin, dmax = int(days.min()), int(days.max())
    out = np.zeros(dmax - dmin + 1, dtype="int64")
    out[days - dmin] = np.asarray(counts, dtype="int64")
    return pd.Series(out, index=pd.to_datetime(np.arange(dmin, dmax + 1), unit="D"), name=col)


def checks_launch(col: str) -> bool:
    """Whether dates of ``col`` before the launch date are implausible (not for birth dates)."""
    return col != "birth_date"


def date_facts(
    col: str, values: np.ndarray, *, end: pd.Timestamp, launch: pd.Timestamp | None, as_of_end: pd.Timestamp | None
) -> DateFacts:
    """The :class:`DateFacts` of a column's values (numpy, vectorised).

    Parameters
    ----------
    col : str
        Column name.
    values : numpy.ndarray of datetime64[ns]
        The values (NaT = missing); at least one is not missing.
    end, launch, as_of_end : pandas.Timestamp or None
        See :func:`profile_dates`.

    Returns
    -------
    DateFacts
    """
    v = values
    iv = v.view("i8")[~np.isnat(v)]
    day = iv // _DAY_NS
    dmin = int(day.min())
    counts = np.bincount(day - dmin)
    days = np.arange(dmin, dmin + counts.size)
    end64 = np.datetime64(end.to_datetime64(), "ns")
    future = v > end64
    n_future = int(future.sum())
    n_pre, pre_ex = 0, ()
    if launch is not None and checks_launch(col):
        lv = np.datetime64(launch.to_datetime64(), "ns")
        pre = v < lv
        n_pre = int(pre.sum())
        pre_ex = tuple(fmt_value(pd.Timestamp(t)) for t in np.sort(v[pre])[:3]) if n_pre else ()
    n_after = int((v > np.datetime64(as_of_end.to_datetime64(), "ns")).sum()) if as_of_end is not None else 0
    return DateFacts(
        daily=daily_series(days, counts, col), n=len(v), vmin=pd.Timestamp(iv.min()), vmax=pd.Timestamp(iv.max()),
        n_future=n_future, n_prelaunch=n_pre, n_after_as_of=n_after,
        future_examples=tuple(fmt_value(pd.Timestamp(t)) for t in np.sort(v[future])[-3:]) if n_future else (),
        prelaunch_examples=pre_ex,
    )  # fmt: skip


def profile_dates(
    table: str,
    col: str,
    values: np.ndarray,
    *,
    where: str,
    spike_z: float,
    end: pd.Timestamp,
    launch: pd.Timestamp | None,
    as_of_end: pd.Timestamp | None,
) -> DateColumn:
    """Daily counts, plausible window, spike days, date statistics and date alerts of one column.

    Parameters
    ----------
    table, col : str
        Table and column.
    values : numpy.ndarray of datetime64[ns]
        The column's values (NaT = missing); at least one is not missing.
    where : str
        How messages name the column.
    spike_z : float
        Robust z of a day's count that marks a spike.
    end : pandas.Timestamp
        Last plausible instant (later dates are ``future_dates``).
    launch : pandas.Timestamp or None
        Launch date (earlier dates are ``prelaunch_dates``, birth dates excepted).
    as_of_end : pandas.Timestamp or None
        Last instant of the as-of day (later rows are counted as ``n_after_as_of``).

    Returns
    -------
    DateColumn
    """
    facts = date_facts(col, values, end=end, launch=launch, as_of_end=as_of_end)
    return dates_from_facts(table, col, facts, where=where, spike_z=spike_z, end=end, launch=launch,
                            as_of_end=as_of_end)  # fmt: skip


def dates_from_facts(
    table: str,
    col: str,
    facts: DateFacts,
    *,
    where: str,
    spike_z: float,
    end: pd.Timestamp,
    launch: pd.Timestamp | None,
    as_of_end: pd.Timestamp | None,
) -> DateColumn:
    """The :class:`DateColumn` of a column's :class:`DateFacts` (see :func:`profile_dates`)."""
    n, daily = facts.n, facts.daily
    lo, hi = _window(daily, col, launch=launch, end=end)
    inside = daily.loc[lo:hi]
    monthly = inside.groupby(inside.index.to_period("M")).sum()
    activity = col not in NOT_ACTIVITY
    sp = day_spikes(inside, spike_z) if activity else day_spikes(inside.iloc[:0], spike_z)
    n_future, n_pre, n_after = facts.n_future, facts.n_prelaunch, facts.n_after_as_of
    vmin, vmax = facts.vmin, facts.vmax
    n_gaps = int((monthly == 0).sum()) if activity else 0
    stats = {
        "date_min": vmin,
        "date_max": vmax,
        "span_days": (vmax - vmin) / pd.Timedelta(days=1),
        "n_gap_months": n_gaps,
        "n_spike_days": len(sp),
        "n_future": n_future,
        "n_prelaunch": n_pre,
        "n_after_as_of": n_after,
    }
    alerts: list[Alert] = []
    if n_future:
        ex = list(facts.future_examples)
        alerts.append(Alert(table, col, "future_dates", "warning",
                            t("profiling.alerts.future_dates", where=where, rows=rows_text(n_future, n),
                              end=date_text(end), examples=", ".join(map(str, ex))),
                            n_future, n_future / n, tuple(ex)))  # fmt: skip
    if n_pre and launch is not None:
        ex = list(facts.prelaunch_examples)
        alerts.append(Alert(table, col, "prelaunch_dates", "warning",
                            t("profiling.alerts.prelaunch_dates", where=where, rows=rows_text(n_pre, n),
                              launch=date_text(launch), examples=", ".join(map(str, ex))),
                            n_pre, n_pre / n, tuple(ex)))  # fmt: skip
    if n_after and EVENT_TIME_COLUMNS.get(table) == col:
        alerts.append(Alert(table, col, "after_as_of", "info",
                            t("profiling.alerts.after_as_of", where=where, rows=rows_text(n_after, n),
                              as_of=date_text(as_of_end)),
                            n_after, n_after / n))  # fmt: skip
    if n_gaps:
        gap_months = [str(p) for p in monthly.index[monthly.to_numpy() == 0][:5]]
        alerts.append(Alert(table, col, "date_gaps", "info",
                            t("profiling.alerts.date_gaps", where=where, n=n_gaps, months=len(monthly),
                              start=date_text(lo), end=date_text(hi), examples=", ".join(gap_months)),
                            n_gaps, None, tuple(gap_months)))  # fmt: skip
    if len(sp) and activity:
        top_day = sp.iloc[0]
        alerts.append(Alert(table, col, "spike_days", "info",
                            t("profiling.alerts.spike_days", where=where, n=len(sp), z=f"{spike_z:g}",
                              day=date_text(top_day["day"]), rows=f"{int(top_day['rows']):,}",
                              baseline=fmt_number(top_day["baseline"])),
                            int(sp["rows"].sum()), int(sp["rows"].sum()) / n,
                            tuple(str(d.date()) for d in sp["day"].head(5))))  # fmt: skip
    return DateColumn(daily=daily, window=(lo, hi), spikes=sp, stats=stats, alerts=alerts)


def monthly_coverage(
    daily: pd.Series, spikes: pd.DataFrame | None, window: tuple[pd.Timestamp, pd.Timestamp] | None = None
) -> pd.DataFrame:
    """Rows per month of a column's daily counts, with empty months and spike days marked.

    Parameters
    ----------
    daily : pandas.Series
        Rows per day (:attr:`DateColumn.daily`).
    spikes : pandas.DataFrame or None
        Spike days (``day`` column).
    window : (Timestamp, Timestamp), optional
        Keep only these days (the plausible window); the whole range when omitted.

    Returns
    -------
    pandas.DataFrame
        One row per month: ``month`` (first day), ``rows``, ``share``, ``gap`` (no rows),
        ``spike_days``.
    """
    if window is not None:
        daily = daily.loc[window[0] : window[1]]
    monthly = daily.groupby(daily.index.to_period("M")).sum()
    sp_month = (
        pd.Series(1, index=pd.DatetimeIndex(spikes["day"]).to_period("M")).groupby(level=0).sum()
        if spikes is not None and len(spikes)
        else pd.Series(dtype="int64")
    )
    total = int(monthly.sum())
    return pd.DataFrame(
        {
            "month": monthly.index.to_timestamp(),
            "rows": monthly.to_numpy(dtype="int64"),
            "share": monthly.to_numpy() / total if total else 0.0,
            "gap": monthly.to_numpy() == 0,
            "spike_days": sp_month.reindex(monthly.index, fill_value=0).to_numpy(dtype="int64"),
        }
    )
