"""Real rendered reports for the tests that look at pages, and the runs the engine tests compare
with them: one run of the bundled example (in Chinese, ``params/example.yaml``: every analysis,
about 1.5 minutes) and one of IBM Telco (in English, ``params/telco.yaml``: profiling and churn,
about 20 s), each made once per test session.

The example run is also the reference of two variants of it, made at the same time in other
processes (:func:`example_runs`): the same params with Spark (``engine: {backend: spark, master:
"local[2]"}``, the four first analyses, ``tests/test_spark_run.py``) and with resident tables
(``engine: {resident_rows: 1000}``, profiling and segmentation, ``tests/test_resident_run.py``).
The test files that use them go to one xdist worker together (``conftest.SHARED_RUN``), so the
reference is computed once.

``tests/conftest.py`` imports the fixtures, so every test module can name them (one definition:
a session fixture bound in several modules would be made once per module). Each returns the run
folder (``<reports>/<dataset>-<time>/``, with ``run.json`` and one folder per analysis holding
``report.html``).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engines import SPARK_TEST_CONFIG
from spark_archive import stop_jvm

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["example_run", "example_runs", "telco_run", "run_reports", "reports_of", "parameter_values", "variant"]

EXAMPLE = ROOT / "params" / "example.yaml"
#: Each variant of the example run: the analyses it runs and its ``engine:`` section.
SPARK_ANALYSES = ("data_profiling", "segmentation", "churn", "campaign")
RESIDENT_ANALYSES = ("data_profiling", "segmentation")
RESIDENT_ROWS = 1000
#: The Spark variant's settings: the tests' own (:data:`engines.SPARK_TEST_CONFIG`) and one
#: shuffle partition per query on tables of a few thousand rows.
SPARK_CONFIG = {**SPARK_TEST_CONFIG, "spark.sql.shuffle.partitions": "1", "spark.default.parallelism": "1"}


def run_reports(params_file: Path, reports_dir: Path) -> Path:
    """Run every analysis ``params_file`` enables through the batch runner (papermill, as
    ``workbench run-all`` does) and return the run folder."""
    from workbench.run import execute

    (result,) = execute.run_all([params_file], reports_dir=reports_dir, progress=False)
    assert result.run_dir is not None, f"{params_file.name}: {result.error}"
    return result.run_dir


def write_params(path: Path, params: dict[str, Any]) -> Path:
    """Write a params dict as YAML (Chinese kept as text) and return the path."""
    import yaml

    path.write_text(yaml.safe_dump(params, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def statuses(run_dir: Path) -> dict[str, str]:
    """Status of each analysis of a run, from its ``run.json``."""
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {a["key"]: a["status"] for a in record["analyses"]}


def example_params(engine: dict[str, Any], analyses: tuple[str, ...]) -> dict[str, Any]:
    """The bundled example's params with absolute paths, ``engine`` as given and only ``analyses``
    enabled."""
    import yaml

    params = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for table in params["tables"].values():
        table["path"] = str((EXAMPLE.parent / table["path"]).resolve())
    params["ground_truth"] = str((EXAMPLE.parent / params["ground_truth"]).resolve())
    params["engine"] = engine
    for key, section in params["analyses"].items():
        section["enabled"] = key in analyses
    return params


def _start(params_file: Path, reports_dir: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Run ``params_file`` through the batch runner in another process (its output in ``log``;
    ``env``: more environment variables for it)."""
    script = "import sys; from workbench.run.execute import run_all; run_all([sys.argv[1]], reports_dir=sys.argv[2], progress=False)"
    with log.open("w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-c", script, str(params_file), str(reports_dir)],
            stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, env={**os.environ, "PYTHONIOENCODING": "utf-8", **(env or {})},
        )  # fmt: skip


def _spark_gateway() -> tuple[Any, dict[str, str]]:
    """Start one Spark JVM (a py4j gateway, no Spark context yet) for the Spark variant's
    notebooks, and the environment that makes pyspark in its processes use it.

    pyspark connects to a running gateway when ``PYSPARK_GATEWAY_PORT`` and
    ``PYSPARK_GATEWAY_SECRET`` are set (as under ``spark-submit``) instead of starting a JVM. The
    variant's notebooks run one after the other, each opening and stopping its own Spark session
    in this JVM as the product does, so each after the first skips the JVM start and the first
    queries' JIT warm-up: the four notebooks alone took 223 -> 177 CPU s and 211 -> 174 s
    (2026-12-03, a slow machine). The in-process tests' sessions (:mod:`engines`) still start
    their JVM the usual way. Returns ``(gateway, env)``; ``(None, {})`` when no JVM started
    (stop it with :func:`spark_archive.stop_jvm`).
    """
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    try:
        gateway = launch_gateway(SparkConf().set("spark.driver.extraJavaOptions", SPARK_TEST_CONFIG["spark.driver.extraJavaOptions"]))
    except Exception:  # the notebooks then start their own JVM, and say why it fails
        return None, {}
    params = gateway.gateway_parameters
    return gateway, {"PYSPARK_GATEWAY_PORT": str(params.port), "PYSPARK_GATEWAY_SECRET": params.auth_token}


def _finish(name: str, process: subprocess.Popen, reports_dir: Path, log: Path, timeout: int) -> Path | str:
    """The run folder of a started run, or why there is none (the end of its output)."""
    try:
        ended = f"ended with {process.wait(timeout=timeout)}"
    except subprocess.TimeoutExpired:
        process.kill()
        ended = f"was killed after {timeout} s"
    runs = [p for p in reports_dir.iterdir() if (p / "run.json").exists()] if reports_dir.exists() else []
    if ended == "ended with 0" and len(runs) == 1:
        return runs[0]
    return f"the {name} run {ended}:\n{log.read_text(encoding='utf-8')[-3000:]}"


@pytest.fixture(scope="session")
def example_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bundled example run in this process, and its variants at the same time, each in its
    own process: ``"spark"`` (when pyspark is installed; ``"spark_events"`` is the folder of its
    Spark event logs, one per notebook) and ``"resident"`` (``"resident_params"`` is its params
    file). A variant that failed holds the end of its output instead of its run folder (see
    :func:`variant`)."""
    from workbench.data import engine

    root = tmp_path_factory.mktemp("example_runs")
    out: dict[str, Any] = {}
    variants: dict[str, dict[str, Any]] = {}
    gateway, env = None, {}
    if engine.spark_available():
        gateway, env = _spark_gateway()
        events = root / "spark-events"
        events.mkdir()
        log_to = {"spark.eventLog.enabled": "true", "spark.eventLog.dir": events.as_uri(),
                  "spark.eventLog.compress": "false", "spark.eventLog.rolling.enabled": "false"}  # one JSON file per session
        config = {**SPARK_CONFIG, **log_to}
        variants["spark"] = example_params({"backend": "spark", "master": "local[2]", "config": config}, SPARK_ANALYSES)
        out["spark_events"] = events
    variants["resident"] = example_params({"backend": "duckdb", "resident_rows": RESIDENT_ROWS}, RESIDENT_ANALYSES)
    started = {}
    for name, params in variants.items():
        out[f"{name}_params"] = write_params(root / f"{name}.yaml", params)
        started[name] = _start(out[f"{name}_params"], root / name, root / f"{name}.log", env if name == "spark" else None)
    try:
        out["example"] = run_reports(EXAMPLE, root / "example")
    finally:
        for name, process in started.items():
            out[name] = _finish(name, process, root / name, root / f"{name}.log", timeout=900)
        if gateway is not None:
            stop_jvm(gateway, timeout=60)
    return out


def variant(runs: dict[str, Any], name: str) -> Path:
    """The run folder of a variant of :func:`example_runs`; fails the test with the end of its
    output when it has none."""
    got = runs[name]
    if not isinstance(got, Path):
        pytest.fail(got, pytrace=False)
    return got


def reports_of(run_dir: Path) -> dict[str, Path]:
    """Analysis key -> its ``report.html``, for every analysis in the run's ``run.json``
    (fails when an analysis has no report)."""
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    pages = {a["key"]: run_dir / a["html"] for a in record["analyses"] if a.get("html")}
    missing = [a["key"] for a in record["analyses"] if not a.get("html")]
    assert not missing, f"no report.html for {missing}: {[a.get('error') for a in record['analyses']]}"
    assert pages, f"{run_dir.name}: no analysis ran"
    return pages


def parameter_values(notebook: Path, tag: str = "parameters") -> dict[str, Any]:
    """Name -> literal value of each assignment in the code cell tagged ``tag`` (the committed
    defaults; ``"injected-parameters"``: the values papermill gave an executed notebook)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code" and tag in c.get("metadata", {}).get("tags", [])]
    values = {}
    for node in ast.parse("".join(cell["source"])).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        for target in targets:
            if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
                values[target.id] = ast.literal_eval(node.value)
    return values


@pytest.fixture(scope="session")
def example_run(example_runs: dict[str, Any]) -> Path:
    """The bundled example (Chinese reports), run once for the session; its run folder."""
    return example_runs["example"]


@pytest.fixture(scope="session")
def telco_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """IBM Telco (English reports), run once for the session; its run folder."""
    return run_reports(ROOT / "params" / "telco.yaml", tmp_path_factory.mktemp("reports"))
