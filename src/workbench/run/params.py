"""The root params model: the dataset's shared keys (``workbench.core.params``) plus one section
per registered analysis (``analyses.<key>``, the section class named in the registry).

Adding an analysis adds its section here by its registry entry alone; nothing in this file
changes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, create_model

from workbench.core import params as _core
from workbench.core.params import DatasetParams, StrictModel
from workbench.run.registry import ANALYSES

__all__ = ["AnalysesParams", "Params", "load_params", "params_from_dict"]

#: ``analyses:`` in a params file: one field per registered analysis, in run order.
AnalysesParams = create_model(
    "AnalysesParams",
    __base__=StrictModel,
    __doc__="Which analyses run (and their options): one section per registered analysis.",
    **{key: (a.params, Field(default_factory=a.params)) for key, a in ANALYSES.items()},
)


class Params(DatasetParams):
    """All params of one dataset: the shared keys and ``analyses`` (see :class:`DatasetParams`)."""

    analyses: AnalysesParams = Field(default_factory=AnalysesParams)  # type: ignore[valid-type]

    def enabled_analyses(self) -> list[str]:
        """Names of the analyses switched on, in run order."""
        return [name for name in AnalysesParams.model_fields if getattr(self.analyses, name).enabled]


def params_from_dict(
    data: dict[str, Any], *, base_dir: Path | str = ".", source: str | None = None, check_files: bool = True
) -> Params:
    """Validate a params mapping into :class:`Params` (see :func:`workbench.core.params.params_from_dict`)."""
    return _core.params_from_dict(data, model=Params, base_dir=base_dir, source=source, check_files=check_files)


def load_params(
    path: Path | str, *, overrides: dict[str, Any] | None = None, check_files: bool = True
) -> Params:
    """Read and validate a params YAML file into :class:`Params` (see
    :func:`workbench.core.params.load_params`)."""
    return _core.load_params(path, model=Params, overrides=overrides, check_files=check_files)
