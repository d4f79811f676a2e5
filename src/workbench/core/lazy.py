"""Packages whose public names are imported on first use (PEP 562).

An analysis package re-exports its public functions (``from workbench import attribution;
attribution.compare_models(...)``), but importing the package only to reach its ``params``
module (as the run's registry does for every analysis) must not import its models too: the
attribution models alone pull in ``scipy.stats``, about a second of every notebook's start-up.
A package's ``__init__`` therefore lists its exports by module and hands the lookup to
:func:`lazy_exports`; the first use of a name imports its module.

An export named like a submodule (``forecast.backtest``, the function of the module
``forecast/backtest.py``) stays the export, as with eager imports: importing the submodule
would otherwise put the module under that name on the package.

Examples
--------
>>> getattr_, dir_ = lazy_exports("json", {"json.decoder": ("JSONDecodeError",)})
>>> getattr_("JSONDecodeError").__name__
'JSONDecodeError'
>>> getattr_("no_such_name")
Traceback (most recent call last):
...
AttributeError: module 'json' has no attribute 'no_such_name'
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_exports", "export_names"]


def export_names(exports: Mapping[str, Sequence[str]]) -> list[str]:
    """The names of ``exports`` (module -> names), sorted: a package's ``__all__``.

    Examples
    --------
    >>> export_names({"a.x": ("f", "G"), "a.y": ("h",)})
    ['G', 'f', 'h']
    """
    return sorted(name for names in exports.values() for name in names)


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package that imports its exports on use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping
        Full module name -> the public names it defines (the package's ``__all__``).

    Returns
    -------
    (callable, callable)
        ``__getattr__(name)``: the export, imported from its module and kept on the package;
        a submodule not imported yet (``package.name``) is imported too; anything else raises
        ``AttributeError``. ``__dir__()``: the package's names and its exports.
    """
    where = {name: module for module, names in exports.items() for name in names}
    target = sys.modules[package]
    target.__dict__["_lazy_where"] = where
    target.__class__ = _LazyPackage

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is not None:
            value = getattr(importlib.import_module(module), name)
        elif not name.startswith("__"):
            value = _submodule(package, name)
        else:
            value = None
        if value is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return __getattr__, __dir__


class _LazyPackage(types.ModuleType):
    """A package of :func:`lazy_exports`: the import system's ``setattr(package, "backtest",
    <module backtest>)`` does not hide the export ``backtest``."""

    def __setattr__(self, name: str, value: Any) -> None:
        where = self.__dict__.get("_lazy_where", {})
        if isinstance(value, types.ModuleType) and name in where \
                and value.__name__ == f"{self.__name__}.{name}":
            if where[name] != value.__name__:  # defined elsewhere: __getattr__ imports it on use
                return
            value = getattr(value, name)  # the submodule has run: its export is defined
        super().__setattr__(name, value)


def _submodule(package: str, name: str) -> Any:
    """``package.name`` imported, or None when there is no such module."""
    try:
        return importlib.import_module(f"{package}.{name}")
    except ModuleNotFoundError as err:
        if err.name == f"{package}.{name}":
            return None
        raise
