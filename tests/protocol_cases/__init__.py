"""Builders of one small instance of every result class, for ``tests/test_protocol.py``.

One module per subpackage of ``workbench``; each defines ``CASES``: result class -> a function
without arguments that builds an instance on a small fixture (``_data.small_base``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

CASES: dict[type, Callable[[], object]] = {}
for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        CASES.update(importlib.import_module(f"{__name__}.{_info.name}").CASES)
