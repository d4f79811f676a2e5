"""Small array helpers of the generator: the time axis, seasonality, Arrow string shaping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.synth.spec import CNY_DATES, CNY_DIP, HOUR_WEIGHTS, MONTH_FACTORS, SPECIAL_DAYS


@dataclass(frozen=True)
class _Clock:
    """Time axis in float days since ``start`` midnight."""

    t0: pd.Timestamp
    t_end: float  # end of the ``end`` day
    t_asof: float  # end of the ``as_of`` day

    def days(self, when: str | pd.Timestamp) -> float:
        return (pd.Timestamp(when) - self.t0) / pd.Timedelta(days=1)

    def to_datetime(self, days: np.ndarray) -> np.ndarray:
        """Float days -> ``datetime64[ns]`` (whole seconds); non-finite -> NaT."""
        days = np.asarray(days, dtype=np.float64)
        ok = np.isfinite(days)
        ns = np.full(days.shape, np.iinfo(np.int64).min, dtype=np.int64)
        ns[ok] = self.t0.value + np.floor(days[ok] * 86400.0).astype(np.int64) * 1_000_000_000
        return ns.view("datetime64[ns]")


def _p(weights: Any) -> np.ndarray:
    w = np.asarray(list(weights), dtype=np.float64)
    return w / w.sum()


def _str(values: pa.Array | np.ndarray) -> pd.Series:
    """Arrow-backed pandas string column."""
    return pd.Series(values, dtype="str")


def _take(labels: tuple[str, ...] | list[str], codes: np.ndarray) -> pa.Array:
    """Labels by integer code (vectorised, in Arrow)."""
    return pc.take(pa.array(list(labels), type=pa.string()), pa.array(np.asarray(codes)))


def _join(*parts: Any) -> pa.Array:
    """Concatenate string arrays/scalars element-wise."""
    return pc.binary_join_element_wise(*parts, "")


def _num_str(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values)), pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers."""
    return _join(prefix, pc.utf8_lpad(_num_str(numbers.astype(np.int64)), width, "0"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if not np.isfinite(v) else round(v, 6)
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(value) else str(pd.Timestamp(value))
    return value


def _bincount(idx: np.ndarray, n: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(idx, weights=weights, minlength=n)


def _rates(num: np.ndarray, den: np.ndarray) -> list[float | None]:
    return [float(a / b) if b else None for a, b in zip(num, den, strict=True)]


def _season_daily(t0: pd.Timestamp, n_days: int) -> np.ndarray:
    """Daily intensity factor for days ``0..n_days-1`` after ``t0`` (mean 1 per calendar year)."""
    last = t0 + pd.Timedelta(days=n_days)
    dates = pd.date_range(f"{t0.year}-01-01", f"{last.year}-12-31", freq="D")
    month = dates.month.to_numpy()
    day = dates.day.to_numpy()
    year = dates.year.to_numpy()
    f = np.array([MONTH_FACTORS[m] for m in range(1, 13)])[month - 1]
    for md, mult in SPECIAL_DAYS.items():
        m, d = (int(x) for x in md.split("-"))
        f = np.where((month == m) & (day == d), f * mult, f)
    for y in np.unique(year):
        if int(y) in CNY_DATES:
            cny = pd.Timestamp(CNY_DATES[int(y)])
            lo = cny - pd.Timedelta(days=CNY_DIP["days_before"])
            hi = cny + pd.Timedelta(days=CNY_DIP["days_after"])
            f = np.where((dates >= lo) & (dates <= hi), f * CNY_DIP["multiplier"], f)
    # normalise to mean 1 within each calendar year
    years, inv = np.unique(year, return_inverse=True)
    means = np.bincount(inv, weights=f) / np.bincount(inv)
    f = f / means[inv]
    first = int((t0.normalize() - dates[0]) / pd.Timedelta(days=1))
    return f[first : first + n_days]


def _time_of_day(rng: np.random.Generator, size: int) -> np.ndarray:
    hour = rng.choice(24, size=size, p=_p(HOUR_WEIGHTS))
    return (hour + rng.random(size)) / 24.0


class _Season:
    """Cumulative seasonal intensity on the day grid, for time-changed Poisson processes."""

    def __init__(self, clock: _Clock) -> None:
        self.n_days = int(np.ceil(clock.t_end)) + 1
        self.daily = _season_daily(clock.t0, self.n_days)
        self.grid = np.arange(self.n_days + 1, dtype=np.float64)
        self.cum = np.concatenate([[0.0], np.cumsum(self.daily)])

    def S(self, t: np.ndarray) -> np.ndarray:
        """Integrated intensity from ``start`` to ``t`` (days)."""
        return np.interp(t, self.grid, self.cum)

    def S_inv(self, u: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`S`."""
        return np.interp(u, self.cum, self.grid)

    def process(
        self,
        rng: np.random.Generator,
        a: np.ndarray,
        b: np.ndarray,
        rate_per_day: np.ndarray,
        *,
        daytime: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Points of independent Poisson processes with intensity ``rate_i * s(t)`` on
        ``[a_i, b_i)`` (time change of a unit-rate process; equivalent to thinning).

        With ``daytime`` the time of day is redrawn from :data:`HOUR_WEIGHTS` (kept when it
        stays inside the interval). Returns the owner index (int32) and the times, grouped by
        owner but not sorted within an owner.
        """
        sa = self.S(a)
        sb = self.S(np.maximum(a, b))
        width = sb - sa
        counts = rng.poisson(rate_per_day * width)
        owner = np.repeat(np.arange(a.size, dtype=np.int32), counts)
        u = sa[owner] + rng.random(owner.size) * width[owner]
        t = self.S_inv(u)
        if daytime and owner.size:
            t2 = np.floor(t) + _time_of_day(rng, owner.size)
            inside = (t2 >= a[owner]) & (t2 < b[owner])
            t = np.where(inside, t2, t)
        return owner, t
