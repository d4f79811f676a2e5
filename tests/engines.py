"""Engines for tests: a fresh DuckDB, and one Spark ``local[2]`` session shared by the whole test run.

Spark tests are skipped only when pyspark is not installed *and* the ``CI`` environment variable
is unset; in CI a missing pyspark (or Java) fails them, so the Spark route is always proven there::

    from engines import duckdb_con, spark_con, assert_frames_equal_across

    def test_same_on_spark():
        assert_frames_equal_across(duckdb_con(), spark_con(), lambda con: my_fn(data, con=con))
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Sequence
from functools import lru_cache

import ibis
import numpy as np
import pandas as pd
import pytest
from spark_archive import java_options

from workbench.data import engine

__all__ = ["SPARK_TEST_CONFIG", "duckdb_con", "spark_con", "require_spark", "assert_frames_equal_across", "assert_same_frame"]


#: Spark settings for short local runs on small tables: one JIT tier and the serial collector start
#: the JVM and its first queries faster, and so does the archive of Spark's classes once ``make
#: test`` has made it (:mod:`spark_archive`); no web UI to start. (The four Spark notebooks alone
#: on two cores: 118 s -> 102 s with the first two flags, one shuffle partition and adaptive
#: execution off.)
SPARK_TEST_CONFIG = {
    "spark.driver.extraJavaOptions": java_options(),
    "spark.ui.enabled": "false",
}


def duckdb_con(**options) -> ibis.BaseBackend:
    """A new in-memory DuckDB (options as :func:`workbench.data.engine.connect`)."""
    return engine.connect(**options)


def require_spark() -> None:
    """Skip the calling test when pyspark is missing, unless running in CI (then fail)."""
    if not engine.spark_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI: pyspark is not installed; {engine.SPARK_INSTALL}")
        pytest.skip(f"pyspark not installed ({engine.SPARK_INSTALL})")


@lru_cache(maxsize=1)
def _spark() -> ibis.BaseBackend:
    con = engine.connect(
        backend="spark", master="local[2]",
        config={**SPARK_TEST_CONFIG, "spark.sql.shuffle.partitions": "2",
                "spark.default.parallelism": "2", "spark.driver.memory": "1g"},
    )  # fmt: skip
    atexit.register(engine.close, con)
    return con


def spark_con() -> ibis.BaseBackend:
    """The test run's Spark ``local[2]`` session, started once (about 10 s) and kept.

    Skips (fails in CI) when pyspark is not installed.
    """
    require_spark()
    return _spark()


def assert_same_frame(a: pd.DataFrame, b: pd.DataFrame, *, by: Sequence[str] | None = None, rtol: float = 1e-9) -> None:
    """Equal frames up to row order and engine dtypes: same columns, same rows after sorting by
    ``by`` (default every column), numbers equal to ``rtol``, missing where missing."""
    assert sorted(a.columns) == sorted(b.columns), f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    assert len(a) == len(b), f"rows differ: {len(a)} vs {len(b)}"
    cols = list(a.columns)
    keys = list(by) if by is not None else cols
    a = a[cols].sort_values(keys, kind="stable").reset_index(drop=True)
    b = b[cols].sort_values(keys, kind="stable").reset_index(drop=True)
    for col in cols:
        x, y = a[col], b[col]
        assert (x.isna().to_numpy() == y.isna().to_numpy()).all(), f"{col}: missing values differ"
        keep = x.notna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(x) or pd.api.types.is_datetime64_any_dtype(y):
            xs = pd.to_datetime(x[keep]).dt.tz_localize(None).astype("datetime64[us]")
            ys = pd.to_datetime(y[keep]).dt.tz_localize(None).astype("datetime64[us]")
            assert (xs.to_numpy() == ys.to_numpy()).all(), f"{col}: times differ"
        elif pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            np.testing.assert_allclose(x[keep].astype(float), y[keep].astype(float), rtol=rtol, err_msg=col)
        else:
            assert x[keep].astype(str).tolist() == y[keep].astype(str).tolist(), f"{col}: values differ"


def assert_frames_equal_across(
    con_a: ibis.BaseBackend,
    con_b: ibis.BaseBackend,
    fn: Callable[[ibis.BaseBackend], pd.DataFrame],
    *,
    by: Sequence[str] | None = None,
    rtol: float = 1e-9,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run ``fn(con)`` on two engines and check the frames are equal (:func:`assert_same_frame`).

    Returns
    -------
    (frame on con_a, frame on con_b)
    """
    a, b = fn(con_a), fn(con_b)
    assert_same_frame(a, b, by=by, rtol=rtol)
    return a, b
