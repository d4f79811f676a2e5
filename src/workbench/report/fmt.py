"""Formatting of figures for findings, tables and ``metrics.json``: one copy of each rule.

Run settings (the dataset's currency, later the report language) come from the run, not from
hard-coded defaults: :func:`configure` is called once by ``session.start`` with the params, and
every formatter and result reads :func:`settings`. Outside a run the defaults hold.

Examples
--------
>>> pct(0.2654)
'26.5 %'
>>> with use(currency="$"):
...     money(1234.5)
'$1,234'
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

__all__ = [
    "ReportSettings",
    "settings",
    "configure",
    "use",
    "num",
    "pct",
    "pp",
    "money",
    "count",
    "decimal",
    "decimal_places",
    "interval",
    "pvalue",
    "p_text",
    "NA",
]

#: How a missing figure is written in text.
NA = "n/a"


@dataclass(frozen=True)
class ReportSettings:
    """What a run decides about how figures read.

    Attributes
    ----------
    currency : str
        Symbol put before money (the params' ``currency``).
    language : {"en", "zh"}
        Language of everything a reader sees (the params' ``report.language``); see
        :mod:`workbench.report.i18n`.
    """

    currency: str = "¥"
    language: str = "en"


_current = ReportSettings()

#: Settings of a :func:`use` block, per thread: the runner renders reports of datasets in
#: different languages side by side (``run-all --jobs 2``), each thread in its own block.
_local = threading.local()


def settings() -> ReportSettings:
    """The settings in force (this thread's :func:`use` block's, else the run's, or the
    defaults outside a run)."""
    inner = getattr(_local, "settings", None)
    return _current if inner is None else inner


def configure(**changes: Any) -> ReportSettings:
    """Set run settings for the rest of the process (``session.start`` calls it once).

    Parameters
    ----------
    **changes
        Fields of :class:`ReportSettings` (``currency="$"``).

    Returns
    -------
    ReportSettings
        The settings now in force.
    """
    global _current
    inner = getattr(_local, "settings", None)
    if inner is not None:  # inside a use() block: the change ends with the block
        _local.settings = replace(inner, **changes)
        return _local.settings
    _current = replace(_current, **changes)
    return _current


@contextmanager
def use(**changes: Any) -> Iterator[ReportSettings]:
    """Settings for one block only (tests, or one table in another currency); the block's
    settings hold in this thread only."""
    before = getattr(_local, "settings", None)
    _local.settings = replace(settings(), **changes)
    try:
        yield _local.settings
    finally:
        _local.settings = before


def num(x: Any) -> float | None:
    """JSON-able float: NaN, inf and non-numbers become ``None``.

    Examples
    --------
    >>> num("1.5"), num(float("nan")), num(None)
    (1.5, None, None)
    """
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def pct(x: Any, digits: int = 1) -> str:
    """Share as a percentage: ``0.2654 -> '26.5 %'``; missing -> ``'n/a'``."""
    v = num(x)
    return NA if v is None else f"{100 * v:.{digits}f} %"


def pp(x: Any, digits: int = 1) -> str:
    """Difference of two shares in percentage points: ``0.0766 -> '7.7 pp'``."""
    v = num(x)
    return NA if v is None else f"{100 * v:.{digits}f} pp"


def money(x: Any, digits: int = 0, *, currency: str | None = None) -> str:
    """Money with the run's currency and thousands separators: ``1234.5 -> '¥1,234'``.

    Parameters
    ----------
    x : number
        Amount; missing -> ``'n/a'``.
    digits : int, default 0
        Decimals.
    currency : str, optional
        Symbol; default the run's (:func:`settings`). ``""`` for a bare amount.
    """
    v = num(x)
    if v is None:
        return NA
    cur = settings().currency if currency is None else currency
    sign = "-" if v < 0 else ""
    return f"{sign}{cur}{abs(v):,.{digits}f}"


def count(x: Any) -> str:
    """Whole number with thousands separators: ``12345 -> '12,345'``."""
    v = num(x)
    return NA if v is None else f"{round(v):,}"


def decimal_places(x: float) -> int:
    """Decimals that give a figure about three significant digits, never more than three:
    0 from 100 on, 1 from 10, 2 from 1, 3 below 1 (``0.777``, ``5.33``, ``32.5``, ``556``)."""
    a = abs(x)
    if a == 0 or a >= 100 or not math.isfinite(a):
        return 0
    return min(3, 2 - math.floor(math.log10(a)))


def decimal(x: Any, *, na: str = NA) -> str:
    """A plain figure for a table: about three significant digits, at most three decimals,
    thousands separators; a non-zero figure that would read ``0.000`` is ``'< 0.001'``.

    Examples
    --------
    >>> decimal(0.77662), decimal(5.3333), decimal(14017.29), decimal(0.000123), decimal(-0.0001)
    ('0.777', '5.33', '14,017', '< 0.001', '> -0.001')
    """
    v = num(x)
    if v is None:
        return na
    v += 0.0  # no "-0"
    if v != 0 and round(abs(v), 3) == 0:
        return "< 0.001" if v > 0 else "> -0.001"
    return f"{v:,.{decimal_places(v)}f}"


def interval(estimate: Any, low: Any, high: Any, *, kind: str = "pct", digits: int = 1, na: str = NA) -> str:
    """An estimate with its interval: ``'10.7 % (9.2–12.4)'``.

    Parameters
    ----------
    estimate, low, high : number
    kind : {"pct", "pp", "money", "num"}
        How the figures read.
    digits : int, default 1
    na : str, default ``NA``
        How a missing figure reads (report tables use the catalog's ``common.na``).
    """
    if kind in ("pct", "pp"):
        scale, unit = 100.0, " %" if kind == "pct" else " pp"
    else:
        scale, unit = 1.0, ""
    vals = [num(v) for v in (estimate, low, high)]
    if vals[0] is None:
        return na

    def f(v: float | None) -> str:
        if v is None:
            return na
        if kind == "money":
            return money(v, digits)
        return f"{scale * v:,.{digits}f}"

    head = f(vals[0]) + unit
    if vals[1] is None and vals[2] is None:
        return head
    return f"{head} ({f(vals[1])}–{f(vals[2])})"


def pvalue(p: Any) -> str:
    """A p-value as a reader wants it: ``'< 0.001'``, ``'0.032'``, ``'0.41'``."""
    v = num(p)
    if v is None:
        return NA
    if v < 0.001:
        return "< 0.001"
    if v < 0.01:
        return f"{v:.3f}"
    return f"{v:.2f}"


def p_text(p: Any) -> str:
    """A p-value in a sentence: ``'p < 0.001'``, ``'p = 0.032'`` (see :func:`pvalue`)."""
    text = pvalue(p)
    return f"p {text}" if text.startswith("<") or text == NA else f"p = {text}"
