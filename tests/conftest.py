"""Shared test fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def root() -> Path:
    """Project root."""
    return ROOT


#: The slowest files (each a minute or more: whole runs of the bundled data), scheduled first.
#: ``make test`` runs ``pytest -n 2 --dist loadfile --no-loadscope-reorder``: the two workers
#: start with the first two files and take two more each before the fast files (xdist's default
#: order, most tests first, would leave the Spark run, which has few tests, for the end).
SLOW_FIRST = ("test_spark_run.py", "test_browser.py", "test_privacy_run.py", "test_notebooks.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the :data:`SLOW_FIRST` files first, in that order; the rest keep theirs."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
