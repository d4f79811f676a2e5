"""The artifacts of the profiling analysis: the cleaned tables, safe to share."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.core.pii import PersonalColumn
from workbench.core.privacy import protect
from workbench.core.resident import RESIDENT_KEY, ResidentFrame, is_resident

__all__ = ["clean_artifacts"]


def clean_artifacts(
    tables: Mapping[str, pd.DataFrame | ResidentFrame],
    *,
    allow_personal_data: bool = False,
    personal_data: Sequence[PersonalColumn] | None = None,
) -> dict[str, pd.DataFrame | ResidentFrame]:
    """The cleaned tables as artifacts: ``clean_<table>`` -> the table, personal data treated.

    Customer keys stay raw (later analyses join on them).

    Parameters
    ----------
    tables : mapping of str to DataFrame or ResidentFrame
        Cleaned canonical tables by contract name (``CleanResult.tables``); a table kept in the
        engine stays a :class:`~workbench.core.resident.ResidentFrame` (its Parquet, never read
        into pandas; ``session.save_artifacts`` puts the file in place).
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
    dict of str to DataFrame or ResidentFrame
        In table order; for ``session.save_artifacts``.

    Raises
    ------
    WorkbenchError
        A table kept in the engine without ``personal_data`` (masking it here would read it
        into pandas; intake treats such a table in the engine).
    """
    if personal_data is None:
        resident = [name for name, frame in tables.items() if is_resident(frame)]
        if resident:
            raise WorkbenchError(
                f"clean_artifacts: table {resident[0]} is kept in the engine ({RESIDENT_KEY}) and cannot be masked "
                f"here; pass personal_data=ctx.personal_data() (intake treated it already)"
            )
        return {
            f"clean_{name}": protect(frame, name, allow_personal_data=allow_personal_data, key_columns=())
            for name, frame in tables.items()
        }
    dropped = {(pc.table, pc.column) for pc in personal_data if pc.treatment == "drop"}
    return {
        f"clean_{name}": _without(frame, [c for c in frame.columns if (name, c) in dropped])
        for name, frame in tables.items()
    }


def _without(frame: pd.DataFrame | ResidentFrame, columns: list[str]) -> pd.DataFrame | ResidentFrame:
    """``frame`` without ``columns``; a resident table is rewritten beside its Parquet
    (``<name>_shared.parquet``) batch by batch, in bounded memory."""
    if not is_resident(frame):
        return frame.drop(columns=columns)
    if not columns:
        return frame
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    source = ds.dataset(str(frame.path), format="parquet")
    keep = [c for c in frame.columns if c not in columns]
    target = frame.path.with_name(f"{frame.path.stem}_shared.parquet")
    schema = pa.schema([source.schema.field(c) for c in keep], metadata=source.schema.metadata)
    with pq.ParquetWriter(target, schema) as writer:
        for batch in source.to_batches(columns=keep):
            writer.write_batch(batch)
    return ResidentFrame.of(target, table=frame.table)
