"""Which analysis runs when: job slots shared by every dataset of a command, longest work first.

``run-all --jobs N`` keeps at most ``N`` notebooks (or intakes) running at a time, across
datasets and, where the analyses' dependencies allow, within one dataset: after data profiling,
the example's forecast, cross-sell and segmentation need not wait for one another. A free slot
goes to the waiting task with the longest estimated work still ahead of it (its own seconds plus
the longest chain of analyses that wait for it), the classic longest-path-first list schedule, so
the long chains start early and the short notebooks fill the gaps at the end.

The seconds come from the newest earlier run of the same dataset under the reports folder
(``run.json``), else from :data:`DEFAULT_SECONDS`. Estimates only order the waiting tasks: no
result depends on them.

Examples
--------
>>> from workbench.run.registry import ANALYSES
>>> chosen = [ANALYSES[k] for k in ("data_profiling", "segmentation", "churn", "forecast")]
>>> sorted(predecessors(chosen)["churn"])
['data_profiling', 'segmentation']
>>> paths = critical_paths(chosen, {"data_profiling": 10, "segmentation": 10, "churn": 5, "forecast": 20})
>>> paths["data_profiling"], paths["segmentation"], paths["forecast"]
(30.0, 15.0, 20.0)
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.run.registry import Analysis
from workbench.run.status import STATUS_OK

__all__ = ["DEFAULT_SECONDS", "INTAKE_SECONDS", "Slots", "predecessors", "critical_paths", "estimate_seconds"]

#: Seconds an analysis takes on the bundled example when no earlier run of the dataset says
#: better (two notebooks at a time on two cores); only their order matters.
DEFAULT_SECONDS: dict[str, float] = {
    "data_profiling": 15.0,
    "segmentation": 15.0,
    "churn": 15.0,
    "campaign": 20.0,
    "attribution": 10.0,
    "forecast": 30.0,
    "cross_sell": 15.0,
    "service": 10.0,
}

#: Seconds assumed for a dataset's intake (before its first analysis).
INTAKE_SECONDS = 3.0

#: Seconds assumed for an analysis missing from :data:`DEFAULT_SECONDS`.
_UNKNOWN_SECONDS = 15.0


class Slots:
    """At most ``n`` holders at a time; waiting threads get a slot highest priority first
    (equal priorities: first come, first served).

    Parameters
    ----------
    n : int
        Number of slots (``--jobs``), at least 1.

    Examples
    --------
    >>> slots = Slots(2)
    >>> with slots.hold(priority=5.0):
    ...     slots.free
    1
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"Slots needs n >= 1, got {n}")
        self._free = n
        self._waiting: list[tuple[float, int]] = []
        self._tickets = itertools.count()
        self._cond = threading.Condition()

    @property
    def free(self) -> int:
        """Slots not held right now."""
        with self._cond:
            return self._free

    @contextlib.contextmanager
    def hold(self, priority: float = 0.0) -> Iterator[None]:
        """Wait for a slot (higher ``priority`` first) and hold it for the block."""
        with self._cond:
            ticket = (-float(priority), next(self._tickets))
            heapq.heappush(self._waiting, ticket)
            while not (self._free > 0 and self._waiting[0] == ticket):
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._free -= 1
            self._cond.notify_all()  # the next waiter may take another free slot
        try:
            yield
        finally:
            with self._cond:
                self._free += 1
                self._cond.notify_all()


def predecessors(selected: Sequence[Analysis]) -> dict[str, set[str]]:
    """For each analysis, the selected analyses it must start after: those it depends on
    (``depends_on``) and those whose artifacts it reads when they ran (``reads``), followed
    transitively through analyses that are not selected.

    Parameters
    ----------
    selected : sequence of Analysis
        The analyses of one run, in registry order.

    Returns
    -------
    dict
        Key -> set of keys (each a selected analysis).
    """
    from workbench.run import registry

    known = {**registry.ANALYSES, **{a.key: a for a in selected}}
    chosen = {a.key for a in selected}

    def before(key: str, seen: frozenset[str] = frozenset()) -> set[str]:
        analysis = known.get(key)
        direct = set(analysis.depends_on) | set(analysis.reads) if analysis is not None else set()
        out: set[str] = set()
        for dep in direct - seen:
            out |= {dep} if dep in chosen else set()
            out |= before(dep, seen | {key})
        return out & chosen

    return {a.key: before(a.key) for a in selected}


def critical_paths(selected: Sequence[Analysis], seconds: Mapping[str, float]) -> dict[str, float]:
    """For each analysis, its seconds plus the longest chain of selected analyses that must
    start after it (the work that cannot begin before it ends).

    Parameters
    ----------
    selected : sequence of Analysis
    seconds : mapping
        Estimated seconds per analysis key (missing: 15).

    Returns
    -------
    dict
        Key -> seconds.
    """
    after = predecessors(selected)
    paths: dict[str, float] = {}

    def path(key: str) -> float:
        if key not in paths:
            successors = [k for k, before in after.items() if key in before]
            own = float(seconds.get(key, _UNKNOWN_SECONDS))
            paths[key] = own + max((path(k) for k in successors), default=0.0)
        return paths[key]

    for a in selected:
        path(a.key)
    return paths


def estimate_seconds(reports_dir: str | Path, dataset: str, keys: Sequence[str]) -> dict[str, float]:
    """Seconds per analysis of ``dataset``: from its newest earlier run under ``reports_dir``
    that ran the analysis without error, else :data:`DEFAULT_SECONDS`.

    Parameters
    ----------
    reports_dir : path
    dataset : str
        ``params.name``.
    keys : sequence of str
        Analysis keys wanted.

    Returns
    -------
    dict
        Key -> seconds (every key of ``keys``).
    """
    from workbench.run.index import read_runs

    found: dict[str, float] = {}
    try:
        runs = [r for r in read_runs(reports_dir) if r.get("dataset") == dataset]
    except OSError:
        runs = []
    for record in runs:  # newest first
        for entry in record.get("analyses") or []:
            _take_seconds(found, entry)
    return {k: found.get(k, DEFAULT_SECONDS.get(k, _UNKNOWN_SECONDS)) for k in keys}


def _take_seconds(found: dict[str, float], entry: Any) -> None:
    """Keep ``entry``'s seconds when it is an ok analysis not seen yet (runs come newest first)."""
    if not isinstance(entry, Mapping) or entry.get("status") != STATUS_OK:
        return
    key, seconds = entry.get("key"), entry.get("seconds")
    if isinstance(key, str) and key not in found and isinstance(seconds, int | float) and seconds > 0:
        found[key] = float(seconds)
