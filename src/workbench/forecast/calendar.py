"""The Chinese retail calendar as regressors per period.

Events: Spring Festival (the official holiday, a different date each year), 618 (June 18),
Double 11 (双11, November 11), Double 12 (双12, December 12), the other national holidays
(official days off) and their make-up working days (调休). The official holidays and make-up
days come from the ``chinesecalendar`` package (import ``chinese_calendar``), which knows only the
years it was released for: periods in other years get no holiday regressors, and the result says
which years (:attr:`RetailCalendar.unknown_years`). Weekly: 618 / 双11 / 双12 are indicators of the
week containing the day; monthly: those months are left to the yearly seasonality terms (a month
indicator would be the same as the month), and holidays are counted in days.

Annual seasonality enters as Fourier terms (``sin``/``cos`` of the day of year, ``fourier``
pairs), so a forecast needs only a year of history to pick it up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["RetailCalendar", "retail_calendar", "EVENTS"]

#: Events of the Chinese retail calendar (codes; labels in ``categories.forecast_event``).
EVENTS = ("spring_festival", "d618", "d1111", "d1212", "national_holiday", "makeup_workday")
_FIXED = {"d618": (6, 18), "d1111": (11, 11), "d1212": (12, 12)}


def _holiday_tables() -> tuple[dict[dt.date, str], set[dt.date], tuple[int, int]]:
    """Official holidays (day -> holiday name), make-up working days, and the years known."""
    try:
        import chinese_calendar as cc
    except ImportError:  # pragma: no cover - a declared dependency
        return {}, set(), (0, -1)
    holidays = {d: str(name) for d, name in cc.holidays.items()}
    makeup = {d for d in cc.workdays if d.weekday() >= 5}
    years = sorted({d.year for d in holidays})
    return holidays, makeup, (years[0], years[-1])


@dataclass(frozen=True, repr=False)
class RetailCalendar(Result):
    """Calendar regressors per period (see :func:`retail_calendar`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per period: ``period_start``, the event columns (:data:`EVENTS`) and the
        Fourier columns ``sin1, cos1, ...``.
    events : tuple of str
        The events with any day in the periods (the ones the models can use).
    unknown_years : tuple of int
        Years of the periods the holiday data do not cover (no Spring Festival / holiday /
        make-up regressors there).
    known_years : (int, int)
        First and last year the ``chinesecalendar`` package knows.
    kind : {"china", "none"}
    """

    frame: pd.DataFrame
    events: tuple[str, ...]
    unknown_years: tuple[int, ...]
    known_years: tuple[int, int]
    kind: str = "china"
    fourier: int = field(default=3)

    def regressors(self, rows: slice | None = None, *, season: bool = True) -> pd.DataFrame:
        """The model columns (events used, plus Fourier terms when ``season``) of some periods."""
        cols = list(self.events) + ([c for c in self.frame.columns if c[:3] in ("sin", "cos")] if season else [])
        out = self.frame[cols].astype("float64")
        return out.iloc[rows].reset_index(drop=True) if rows is not None else out

    def summary(self) -> pd.DataFrame:
        """Per event: ``event`` (label), ``periods`` with it, ``used`` in the models."""
        rows = []
        for ev in EVENTS:
            n = int((self.frame[ev] > 0).sum()) if ev in self.frame else 0
            rows.append({"event": category("forecast_event", ev), "periods": n, "used": ev in self.events})
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """Every period's regressors."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Events used and years without holiday data (JSON-able)."""
        return {"kind": self.kind, "events": list(self.events), "unknown_years": list(self.unknown_years),
                "known_years": list(self.known_years)}

    def finding(self) -> str:
        """Which events were used, and the years the holiday data do not know."""
        if self.kind == "none":
            return t("forecast.calendar.none")
        used = t("forecast.calendar.sep").join(category("forecast_event", e) for e in self.events) or t("forecast.calendar.no_events")
        text = t("forecast.calendar.used", events=used)
        if self.unknown_years:
            text += t("forecast.calendar.unknown", years=t("forecast.calendar.sep").join(str(y) for y in self.unknown_years),
                      first=self.known_years[0], last=self.known_years[1])
        return text

    def plot(self, ax: Any = None) -> Any:
        """Event days per period."""
        ax = new_axes(ax, figsize=(9, 3))
        x = self.frame["period_start"]
        for i, ev in enumerate(self.events):
            ax.bar(x, self.frame[ev], width=5, bottom=0, alpha=0.7, color=f"C{i}", label=category("forecast_event", ev))
        ax.set_title(t("forecast.calendar.title"))
        ax.set_ylabel(t("forecast.calendar.y"))
        if self.events:
            ax.legend(fontsize=8, ncol=3)
        return ax


def retail_calendar(edges: Any, *, period: Literal["week", "month"] = "week", kind: Literal["china", "none"] = "china",
                    fourier: int = 3, history: int | None = None, horizon: int = 0) -> RetailCalendar:
    """Event regressors and Fourier terms for every period between consecutive ``edges``.

    Parameters
    ----------
    edges : sequence of date-like
        Period boundaries (history and forecast periods), as from ``PeriodSeries.edges``.
    period : {"week", "month"}
    kind : {"china", "none"}
        ``"none"``: no events (a base outside China), Fourier terms only.
    fourier : int, default 3
        Pairs of annual Fourier terms.
    history : int, optional
        Periods that are history (the rest are forecast periods); an event counts as used only
        when it falls in the history at least once (a model cannot learn it otherwise).
    horizon : int, default 0
        Unused (kept for symmetry with the series' edges).

    Returns
    -------
    RetailCalendar
    """
    e = pd.DatetimeIndex(edges)
    starts, ends = e[:-1], e[1:]
    days = pd.date_range(starts[0], ends[-1] - pd.Timedelta(days=1), freq="D")
    k = np.searchsorted(ends.to_numpy(), days.to_numpy(), side="right")
    n = len(starts)
    frame = pd.DataFrame({"period_start": starts})
    unknown: tuple[int, ...] = ()
    known = (0, -1)
    if kind == "china":
        holidays, makeup, known = _holiday_tables()
        dd = days.date
        is_sf = np.array([holidays.get(d) == "Spring Festival" for d in dd])
        is_hol = np.array([d in holidays and holidays[d] != "Spring Festival" and d.weekday() < 5 for d in dd])
        is_mk = np.array([d in makeup for d in dd])
        frame["spring_festival"] = np.bincount(k[is_sf], minlength=n).astype("float64")
        frame["national_holiday"] = np.bincount(k[is_hol], minlength=n).astype("float64")
        frame["makeup_workday"] = np.bincount(k[is_mk], minlength=n).astype("float64")
        for ev, (mo, dy) in _FIXED.items():
            hit = (days.month == mo) & (days.day == dy)
            frame[ev] = np.bincount(k[hit], minlength=n).astype("float64") if period == "week" else 0.0
        years = sorted(set(days.year))
        unknown = tuple(int(y) for y in years if not known[0] <= y <= known[1])
    else:
        for ev in EVENTS:
            frame[ev] = 0.0
    mid = starts + (ends - starts) / 2
    doy = 2 * np.pi * (mid.day_of_year.to_numpy() - 1) / 365.25
    for j in range(1, fourier + 1):
        frame[f"sin{j}"] = np.sin(j * doy)
        frame[f"cos{j}"] = np.cos(j * doy)
    hist = frame.iloc[: history if history is not None else n]
    used = tuple(ev for ev in EVENTS if ev in hist and hist[ev].gt(0).any() and hist[ev].nunique() > 1)
    return RetailCalendar(frame, used, unknown, known, kind, fourier)
