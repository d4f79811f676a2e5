"""Every result follows the one protocol, in the spirit of scikit-learn's ``check_estimator``.

Each class in ``src/workbench`` that defines ``summary`` or ``finding`` must be a
:class:`workbench.report.results.Result` dataclass, and must have a builder in
``tests/protocol_cases/`` that makes one on a small fixture. Each built result is then checked
method by method: types, JSON-able metrics, a ``finding`` without arguments, a chart, one
HTML view (the base class's, which escapes), and a one-line repr.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import pkgutil
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from protocol_cases import CASES

import workbench
from workbench.report.results import Result
from workbench.run.session import to_jsonable

SRC = Path(workbench.__file__).resolve().parent


def _import_all() -> None:
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        importlib.import_module(info.name)


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


_import_all()
#: Every Result subclass in the package; private ones (``_FittedModel``) are shared bases.
ALL_RESULTS = {c for c in _subclasses(Result) if c.__module__.startswith("workbench.")}
RESULT_CLASSES = sorted(
    (c for c in ALL_RESULTS if not c.__name__.startswith("_")), key=lambda c: f"{c.__module__}.{c.__qualname__}"
)


def _classes_with_summary_or_finding() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                methods = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
                if methods & {"summary", "finding"}:
                    module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
                    found.append(f"{module.removesuffix('.__init__')}.{node.name}")
    return found


def test_every_class_with_summary_or_finding_is_a_result():
    names = {f"{c.__module__}.{c.__qualname__}" for c in ALL_RESULTS} | {"workbench.report.results.Result"}
    outside = [n for n in _classes_with_summary_or_finding() if n not in names]
    assert outside == [], f"these define summary/finding but do not inherit Result: {outside}"


def test_every_result_has_a_protocol_case():
    missing = [f"{c.__module__}.{c.__qualname__}" for c in RESULT_CLASSES if c not in CASES]
    assert missing == [], f"add a builder to tests/protocol_cases/ for: {missing}"


@pytest.mark.parametrize("cls", RESULT_CLASSES, ids=lambda c: c.__qualname__)
def test_result_follows_the_protocol(cls: type):
    assert dataclasses.is_dataclass(cls), f"{cls.__name__} is not a dataclass"
    assert cls._repr_html_ is Result._repr_html_, f"{cls.__name__} writes its own _repr_html_"
    assert list(inspect.signature(cls.finding).parameters) == ["self"], "finding() takes no arguments"
    assert "ax" in inspect.signature(cls.plot).parameters, "plot(ax=None)"
    obj = CASES[cls]()
    assert type(obj) is cls

    summary = obj.summary()
    assert isinstance(summary, pd.DataFrame) and len(summary.columns) > 0
    assert isinstance(obj.to_frame(), pd.DataFrame)

    metrics = obj.metrics()
    assert isinstance(metrics, dict)
    json.dumps(to_jsonable(metrics), allow_nan=False)

    text = obj.finding()
    assert isinstance(text, str)

    line = repr(obj)
    assert "\n" not in line and line.startswith(cls.__name__) and len(line) <= 200, line

    page = obj._repr_html_()
    assert isinstance(page, str) and "<table" in page

    drawn = obj.plot()
    assert isinstance(drawn, (plt.Axes, plt.Figure)), type(drawn)
    fig, ax = plt.subplots()
    assert obj.plot(ax=ax) is not None
    plt.close("all")
