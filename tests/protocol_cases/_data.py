"""Small shared fixtures for the protocol cases (built once per test session)."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from workbench.synth import generate

AS_OF = "2025-09-30"


@lru_cache(maxsize=1)
def small_base():
    """A 600-customer synthetic base (all five tables, clean canonical frames)."""
    return generate(600, seed=3)


def table(name: str) -> pd.DataFrame:
    """A copy of one table of the small base."""
    return small_base().tables[name].copy()
