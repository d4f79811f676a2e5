"""The artifacts of the profiling analysis: the cleaned tables, safe to share."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench.core.privacy import protect

__all__ = ["clean_artifacts"]


def clean_artifacts(
    tables: Mapping[str, pd.DataFrame], *, allow_personal_data: bool = False
) -> dict[str, pd.DataFrame]:
    """The cleaned tables as artifacts: ``clean_<table>`` -> the table with personal data masked.

    Customer keys stay raw (later analyses join on them); personal-data columns are masked
    unless ``allow_personal_data`` (``privacy.allow_personal_data``).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Cleaned canonical tables by contract name (``CleanResult.tables``).
    allow_personal_data : bool, default False
        Keep personal data raw.

    Returns
    -------
    dict of str to DataFrame
        In table order; for ``session.save_artifacts``.
    """
    return {
        f"clean_{name}": protect(frame, name, allow_personal_data=allow_personal_data, key_columns=())
        for name, frame in tables.items()
    }
