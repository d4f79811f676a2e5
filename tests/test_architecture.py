"""The layout holds: layers import downward only, no analysis reaches into another, and no
module or function grows past the sizes ``docs/ARCHITECTURE.md`` sets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workbench

SRC = Path(workbench.__file__).resolve().parent
MODULES = sorted(p for p in SRC.rglob("*.py"))

#: What each top-level part of ``workbench`` may import from ``workbench`` (besides itself).
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "stats": set(),
    "report": {"core"},
    "data": {"core", "report", "stats"},
    "value": {"core", "data", "report", "stats"},
    "profiling": {"core", "data", "report", "stats"},
    "segmentation": {"core", "data", "report", "stats", "value"},
    "modeling": {"core", "data", "report", "stats"},
    "churn": {"core", "data", "report", "stats", "modeling"},
    "campaign": {"core", "data", "report", "stats"},
    "attribution": {"core", "data", "report", "stats"},
    "forecast": {"core", "data", "report", "stats", "value"},
    "cross_sell": {"core", "data", "report", "stats", "modeling"},
    "service": {"core", "data", "report", "stats", "modeling"},
    "synth": {"core", "report"},
    "run": {"core", "data", "report", "stats", "profiling", "segmentation", "value", "modeling", "churn", "campaign",
            "attribution", "forecast", "cross_sell", "service", "synth"},
}
MAX_MODULE_LINES = 1200
MAX_FUNCTION_LINES = 150


def _part(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py") if rel.parts else ""


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "workbench" and len(parts) > 1:
                out.add(parts[1])
    return out


@pytest.mark.parametrize("path", [p for p in MODULES if _part(p) in ALLOWED], ids=lambda p: str(p.relative_to(SRC)))
def test_layers_import_downward_only(path: Path):
    part = _part(path)
    wrong = sorted(_imports(path) - ALLOWED[part] - {part} - {"__init__"})
    wrong = [w for w in wrong if w in ALLOWED]
    assert wrong == [], f"{path.relative_to(SRC)} ({part}) imports {wrong}; see docs/ARCHITECTURE.md"


def test_every_part_is_placed():
    parts = {_part(p) for p in MODULES} - {"__init__"}
    assert parts <= set(ALLOWED), f"parts without a layer rule: {parts - set(ALLOWED)}"


def test_no_module_over_the_limit():
    big = {str(p.relative_to(SRC)): n for p in MODULES if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert big == {}, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_function_over_the_limit():
    long = {}
    for p in MODULES:
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(SRC)}:{node.name}"] = n
    assert long == {}, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
