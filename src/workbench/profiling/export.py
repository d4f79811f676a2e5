"""The artifacts of the profiling analysis: the cleaned tables, safe to share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from workbench.core.pii import PersonalColumn
from workbench.core.privacy import protect

__all__ = ["clean_artifacts"]


def clean_artifacts(
    tables: Mapping[str, pd.DataFrame],
    *,
    allow_personal_data: bool = False,
    personal_data: Sequence[PersonalColumn] | None = None,
) -> dict[str, pd.DataFrame]:
    """The cleaned tables as artifacts: ``clean_<table>`` -> the table, personal data treated.

    Customer keys stay raw (later analyses join on them).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Cleaned canonical tables by contract name (``CleanResult.tables``).
    allow_personal_data : bool, default False
        Keep personal data raw (``privacy.allow_personal_data``); used only without
        ``personal_data``.
    personal_data : sequence of PersonalColumn, optional
        What intake found and did (``ctx.personal_data()``). The tables were treated at intake,
        so they are exported as they are: nothing is masked again, and a column intake dropped
        is left out even if a later step brought it back. Without it (standalone use) the
        personal-data columns of :func:`workbench.core.privacy.protect` are masked here unless
        ``allow_personal_data``.

    Returns
    -------
    dict of str to DataFrame
        In table order; for ``session.save_artifacts``.
    """
    if personal_data is None:
        return {
            f"clean_{name}": protect(frame, name, allow_personal_data=allow_personal_data, key_columns=())
            for name, frame in tables.items()
        }
    dropped = {(pc.table, pc.column) for pc in personal_data if pc.treatment == "drop"}
    return {
        f"clean_{name}": frame.drop(columns=[c for c in frame.columns if (name, c) in dropped])
        for name, frame in tables.items()
    }
