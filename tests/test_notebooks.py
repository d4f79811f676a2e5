"""Committed notebooks: no outputs, a tagged parameters cell with defaults that run as they are,
no logic defined in notebooks: no functions, classes, loops or comprehensions."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from report_fixture import parameter_values

from workbench.run.registry import ANALYSES, NOTEBOOK_DIR

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Notebooks are narration and calls: no loops, no comprehensions (a guard ``if`` is fine).
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"
    names = {p.name for p in NOTEBOOKS}
    assert "01_data_profiling.ipynb" in names
    for p in NOTEBOOKS:
        assert p.name in {a.notebook for a in ANALYSES.values()}, f"{p.name} is not registered in analyses.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert dirty == [], f"{path.name}: cells {dirty} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_and_thin_notebook(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    src = "".join(tagged[0]["source"])
    tree = ast.parse(src)
    names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in ([node.target] if isinstance(node, ast.AnnAssign) else node.targets) if isinstance(t, ast.Name)}
    assert {"params_file", "run_dir"} <= names
    # defaults must be literals (no derived values), and the default params file must exist
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        assert value is None or isinstance(value, ast.Constant), ast.dump(node)
    default = parameter_values(path)["params_file"]
    assert (path.parent / default).resolve().exists(), f"default params_file {default} does not exist"
    for body in _code(path):
        defs = [n for n in ast.walk(body) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
        assert not defs, "logic belongs in src/workbench, not in notebooks"
        loops = [type(n).__name__ for n in ast.walk(body) if isinstance(n, LOOPS)]
        assert not loops, f"{path.name}: {loops} in a code cell; loops and comprehensions belong in src/workbench"


def _code(path: Path, *, parameters: bool = True) -> list[ast.Module]:
    """The notebook's code cells, parsed (IPython magics and shell lines left out), with or
    without the cell tagged ``parameters``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [ast.parse("".join(line for line in c["source"] if not line.lstrip().startswith(("%", "!"))))
            for c in nb["cells"] if c["cell_type"] == "code"
            and (parameters or "parameters" not in c.get("metadata", {}).get("tags", []))]


def _is_session_start(node: ast.AST) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Attribute) and func.attr == "start" and getattr(func.value, "id", "") == "session"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_reach_only_session_start(path: Path):
    """``params_file`` and ``run_dir`` are read once, by ``session.start(params_file,
    run_dir=run_dir, ...)``: so the notebook runs the same code whether the runner injects its
    values or JupyterLab keeps the defaults, and the interactive run below (run_dir empty) and
    the runner's run of every notebook on the defaults' params file
    (tests/test_browser.py::test_every_notebook_ran_ok_on_its_default_params_file) cover both."""
    cells = _code(path, parameters=False)
    starts = [n for cell in cells for n in ast.walk(cell) if _is_session_start(n)]
    assert len(starts) == 1, f"{path.name}: {len(starts)} session.start calls, expected one"
    (start,) = starts
    assert [getattr(a, "id", None) for a in start.args] == ["params_file"], ast.dump(start)
    assert {k.arg: getattr(k.value, "id", None) for k in start.keywords if k.arg == "run_dir"} == {"run_dir": "run_dir"}
    in_start = {id(n) for n in ast.walk(start)}
    elsewhere = [n.id for cell in cells for n in ast.walk(cell)
                 if isinstance(n, ast.Name) and n.id in {"params_file", "run_dir"} and id(n) not in in_start]
    assert elsewhere == [], f"{path.name}: {elsewhere} used outside session.start"


#: Run here as JupyterLab would (the first: it reads the intake into reports/<name>-interactive);
#: the runner runs every notebook on the same params file (tests/test_browser.py).
INTERACTIVE = [p for p in NOTEBOOKS if p.name == "01_data_profiling.ipynb"]


@pytest.mark.parametrize("path", INTERACTIVE, ids=lambda p: p.name)
def test_defaults_run_as_they_are(path: Path):
    """Opened in JupyterLab and run top to bottom, unchanged (cwd = notebooks/), the notebook
    works on the bundled example with its parameters-cell defaults (run_dir empty)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
