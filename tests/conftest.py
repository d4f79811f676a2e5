"""Shared test fixtures, and the order the test files are handed to the xdist workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# One BLAS/OpenMP thread per process, set before numpy loads (here, in the workers, and in every
# kernel or subprocess a test starts, which inherit it). Two workers on two cores, each with its
# kernels, a DuckDB subprocess or a JVM beside it: a second OpenBLAS thread per process only
# spins. Measured on the forecast backtest of tests/protocol_cases: 90 s -> 8.5 s on a busy
# machine. An explicit setting in the environment wins.
for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import matplotlib  # noqa: E402 (after the thread settings)
import pytest  # noqa: E402

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

# The run fixtures, defined once here: a session fixture bound in several test modules would be
# one fixture per module, each made on its own.
from report_fixture import example_run, example_runs, telco_run  # noqa: E402, F401

ROOT = Path(__file__).resolve().parents[1]

#: The files that share the example run and its variants (``report_fixture.example_runs``): one
#: unit of work for the scheduler (:func:`pytest_xdist_make_scheduler`).
SHARED_RUN = ("test_spark_run.py", "test_resident_run.py", "test_browser.py", "test_example_run.py")
SHARED_RUN_GROUP = "example_run"

#: The files whose tests take the longest (a notebook run, a Spark run or a browser), slowest
#: first. ``make test`` gives each worker a whole file (the files of :data:`SHARED_RUN` as one);
#: handing these out first lets the many quick files fill the other worker meanwhile, instead of
#: one long file starting last and running alone at the end. A file not listed keeps its place
#: after them.
SLOW_FIRST = (
    *SHARED_RUN,
    "test_privacy_run.py",
    "test_notebooks.py",
    "test_engine_ibis.py",
    "test_runner.py",
    "test_protocol.py",
    "test_profile_engine.py",
    "test_engine.py",
    "test_cross_sell.py",
    "test_defects_found.py",
    "test_attribution.py",
    "test_forecast.py",
    "test_cli.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Keep the order below when xdist splits the run by file: its default re-sorts files by
    their number of tests, which puts the few-but-slow ones last."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``--dist loadfile``, hand out whole files, but the files of :data:`SHARED_RUN` together,
    to one worker, so the session fixture they share is made once. (xdist's ``loadgroup`` would
    do it from ``xdist_group`` marks, but under pytest 9 its group suffix never reaches the
    scheduler, and it splits unmarked files into single tests.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FileOrShared(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            file = super()._split_scope(nodeid)
            return SHARED_RUN_GROUP if Path(file).name in SHARED_RUN else file

    return FileOrShared(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the files of :data:`SLOW_FIRST` first, in that order (stable: tests within a file,
    and the other files, keep their order)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))


@pytest.fixture
def root() -> Path:
    """Project root."""
    return ROOT
