"""Real rendered reports for the tests that look at pages: one run of the bundled example (in
Chinese, ``params/example.yaml``: every analysis, a few minutes) and one of IBM Telco (in English,
``params/telco.yaml``: profiling and churn, about 20 s), each made once per test session.

Bind the fixtures in a test module (an assignment, so the test's parameter does not shadow
an import)::

    import report_fixture

    example_run = report_fixture.example_run

Each returns the run folder (``<reports>/<dataset>-<time>/``, with ``run.json`` and one folder
per analysis holding ``report.html``).
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

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["example_run", "telco_run", "run_reports", "reports_of", "parameter_values"]


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


def run_two(beside: Path, beside_reports: Path, here: Path, here_reports: Path, *, log: Path,
            timeout: int = 900) -> tuple[Path, Any]:
    """Run two params files at once: ``beside`` in another process (its output in ``log``),
    ``here`` in this one (so the test can look inside its objects).

    Returns
    -------
    (run folder of ``beside``, the in-process RunResult of ``here``)
    """
    from workbench.run.execute import run_all

    script = "import sys; from workbench.run.execute import run_all; run_all([sys.argv[1]], reports_dir=sys.argv[2], progress=False)"
    with log.open("w", encoding="utf-8") as out:
        other = subprocess.Popen(
            [sys.executable, "-c", script, str(beside), str(beside_reports)],
            stdout=out, stderr=subprocess.STDOUT, cwd=log.parent, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )  # fmt: skip
        try:
            kept = run_all([here], reports_dir=here_reports, progress=False)[0]
            code = other.wait(timeout=timeout)
        finally:
            if other.poll() is None:
                other.kill()
    assert code == 0, f"the run of {beside.name} failed:\n{log.read_text(encoding='utf-8')[-3000:]}"
    (run_dir,) = [p for p in beside_reports.iterdir() if (p / "run.json").exists()]
    return run_dir, kept


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
def example_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example (Chinese reports), run once for the session; its run folder."""
    return run_reports(ROOT / "params" / "example.yaml", tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def telco_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """IBM Telco (English reports), run once for the session; its run folder."""
    return run_reports(ROOT / "params" / "telco.yaml", tmp_path_factory.mktemp("reports"))
