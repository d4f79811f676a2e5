"""The same run on Spark: ``engine: {backend: spark, master: "local[2]"}`` runs the profiling,
segmentation, churn and campaign analyses and gives the same metrics and artifacts as DuckDB.

The bundled example (every section of the four notebooks exercised: cohorts, attribution, the
observational campaign, uplift, targeting, the funnel) is run through the real runner twice: with
its own params on DuckDB, which is also the browser tests' run, and with the same params but
``engine:`` pointing at Spark (:func:`report_fixture.example_runs`, both at once). Each notebook
opens its own Spark session (a JVM start and a slow first query each) and writes a Spark event log,
which proves its computations ran on Spark. CI runs it (``.ci/run``: a missing pyspark fails).
Equal metrics would not notice a call that forgot ``con=`` (it would run on a fresh DuckDB and give
the same numbers), so the last tests count the queries each notebook-level function runs on the
connection it is given.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
import report_fixture
from engines import assert_same_frame, duckdb_con, require_spark
from report_fixture import statuses, variant

from workbench import campaign, churn
from workbench.run.execute import STATUS_OK
from workbench.synth import generate

ANALYSES = report_fixture.SPARK_ANALYSES
NOTEBOOK_DIRS = ("01_data_profiling", "02_segmentation_value", "03_churn", "04_campaign_evaluation")
#: Facts about the run, not results: where the params file is, what was read when, how long it took.
RUN_FACTS = {"provenance", "params_file", "engine"}
TIME_KEY = re.compile(r"^(seconds|wall_time|started|finished|written)$|_seconds$")
RTOL = 1e-6


@pytest.fixture(scope="module")
def runs(example_runs: dict[str, Any]) -> dict[str, Any]:
    require_spark()
    return {"duckdb": example_runs["example"], "spark": variant(example_runs, "spark"),
            "events": example_runs["spark_events"]}


def flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of nested dicts and lists as ``("a.b[2].c", value)``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from flatten(item, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from flatten(item, f"{prefix}[{i}]")
    else:
        yield prefix, value


def _is_time(key: str) -> bool:
    leaf = re.sub(r"\[\d+\]$", "", key.rsplit(".", 1)[-1])
    return key.split(".", 1)[0].split("[", 1)[0] in RUN_FACTS or bool(TIME_KEY.search(leaf))


def _same(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def metric_differences(duckdb: dict[str, Any], spark: dict[str, Any]) -> list[str]:
    """``key: duckdb=… spark=…`` for every leaf that differs (time keys and run facts skipped)."""
    a, b = dict(flatten(duckdb)), dict(flatten(spark))
    missing = "<missing>"
    return [
        f"{key}: duckdb={a.get(key, missing)!r} spark={b.get(key, missing)!r}"
        for key in sorted(set(a) | set(b))
        if not _is_time(key) and not (key in a and key in b and _same(a[key], b[key]))
    ]


def test_every_analysis_runs_on_both_engines(runs):
    for engine in ("duckdb", "spark"):
        got = statuses(runs[engine])
        assert {k: got.get(k) for k in ANALYSES} == dict.fromkeys(ANALYSES, STATUS_OK), (engine, got)


def test_each_notebook_computed_on_spark(runs):
    logs = [p for p in runs["events"].iterdir() if p.is_file()]
    assert len(logs) == len(ANALYSES), f"one Spark application per notebook expected, found {[p.name for p in logs]}"
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert '"spark.master":"local[2]"' in text.replace(" ", ""), path.name
        assert "SparkListenerSQLExecutionStart" in text, f"{path.name}: no query ran on Spark"


@pytest.mark.parametrize("notebook", NOTEBOOK_DIRS)
def test_spark_gives_the_same_metrics(runs, notebook):
    duckdb = json.loads((runs["duckdb"] / notebook / "metrics.json").read_text(encoding="utf-8"))
    spark = json.loads((runs["spark"] / notebook / "metrics.json").read_text(encoding="utf-8"))
    assert len(dict(flatten(duckdb["metrics"]))) > 50, "too few metrics recorded to compare"
    assert (duckdb["engine"]["backend"], spark["engine"]) == ("duckdb", {"backend": "spark", "master": "local[2]"})
    assert metric_differences(duckdb, spark) == []


@pytest.mark.parametrize("notebook", NOTEBOOK_DIRS)
def test_spark_gives_the_same_artifacts(runs, notebook):
    files = sorted((runs["duckdb"] / notebook / "artifacts").glob("*.parquet"))
    assert files, f"{notebook}: no Parquet artifacts"
    for path in files:
        a, b = pd.read_parquet(path), pd.read_parquet(runs["spark"] / notebook / "artifacts" / path.name)
        assert list(a.columns) == list(b.columns), path.name
        assert (a.dtypes == b.dtypes).all(), (path.name, a.dtypes[a.dtypes != b.dtypes].to_dict())
        assert_same_frame(a, b, rtol=RTOL)


def test_metric_differences_names_key_and_both_values():
    a = {"metrics": {"churn": {"rate": 0.1, "n": 3, "label": "x"}}, "seconds": "1.0", "provenance": {"f": "a"}}
    b = {"metrics": {"churn": {"rate": 0.1 + 1e-9, "n": 4, "label": "x"}}, "seconds": "9.0", "provenance": {"f": "b"}}
    assert metric_differences(a, b) == ["metrics.churn.n: duckdb=3 spark=4"]
    assert metric_differences({"x": {"fit_seconds": 1}, "y": [1, None]}, {"x": {"fit_seconds": 2}, "y": [1]}) == [
        "y[1]: duckdb=None spark='<missing>'"
    ]


# --------------------------------------------------------------------------------------------
# each notebook-level function computes on the connection it is given
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base():
    return generate(n_customers=400, seed=3)


class QueryCount:
    """A DuckDB connection that counts the queries run on it (every way Ibis runs one)."""

    METHODS = ("execute", "to_pyarrow", "to_pyarrow_batches", "to_pandas", "raw_sql", "sql")

    def __init__(self) -> None:
        self.con, self.n = duckdb_con(), 0
        for name in self.METHODS:
            setattr(self.con, name, self._counted(getattr(self.con, name)))

    def _counted(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            self.n += 1
            return method(*args, **kwargs)

        return run

    def ran(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, int]:
        """``fn(*args, con=self.con, **kwargs)`` and the queries it ran here."""
        before = self.n
        out = fn(*args, con=self.con, **kwargs)
        return out, self.n - before


def test_churn_functions_compute_on_the_connection_given(base):
    q = QueryCount()
    frame, n = q.ran(churn.churn_frame, base.customers, base.orders, as_of="2025-09-30", tickets=base.tickets)
    assert n > 0, "churn_frame did not use con="
    _, n = q.ran(churn.model_frames, frame, base.customers, base.orders, tickets=base.tickets)
    assert n > 0, "model_frames did not use con="
    assert q.ran(churn.cohort_retention, frame, base.orders)[1] > 0, "cohort_retention did not use con="


@pytest.mark.filterwarnings("ignore::workbench.core.errors.StatisticalWarning")
@pytest.mark.filterwarnings("ignore::workbench.core.errors.DataQualityWarning")
def test_campaign_functions_compute_on_the_connection_given(base):
    q = QueryCount()
    data, n = q.ran(campaign.prepare_contacts, base.campaign_contacts, orders=base.orders, as_of="2025-09-30")
    assert n > 0, "prepare_contacts did not use con= (attribution)"
    _, n = q.ran(campaign.observational_effects, data, orders=base.orders, customers=base.customers, bootstrap=50)
    assert n > 0, "observational_effects did not use con="
    upl, n = q.ran(campaign.uplift_section, data, customers=base.customers, orders=base.orders, bootstrap=0, random_state=0)
    assert n > 0, "uplift_section did not use con="
    _, n = q.ran(campaign.targeting, upl, customers=base.customers, orders=base.orders, as_of="2025-09-30", salt="s")
    assert n > 0, "targeting did not use con="
