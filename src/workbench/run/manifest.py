"""The manifest of a run folder: every file written, its columns and rows, and how the personal
data in it was treated. Written into ``run.json`` under ``files`` when a run ends."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["build_manifest", "read_written_table", "PSEUDONYM_RE"]

#: What a keyed pseudonym looks like (:func:`workbench.core.privacy.pseudonymize`).
PSEUDONYM_RE = re.compile(r"^[A-Z][0-9a-f]{12}$")
_TABLE_SUFFIXES = (".parquet", ".csv")
_MAX_CSV_BYTES = 200 * 2**20


def read_written_table(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A table the workbench wrote: Parquet, or CSV in UTF-8 with BOM read as text.

    Parameters
    ----------
    path : Path
        ``.parquet`` or ``.csv`` file.
    columns : sequence of str, optional
        Parquet only: read just these columns.

    Returns
    -------
    pandas.DataFrame
    """
    if path.suffix == ".parquet":
        return pd.read_parquet(path, columns=None if columns is None else list(columns))
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def _table_facts(path: Path, key_columns: Sequence[str]) -> tuple[list[str], int, pd.DataFrame] | None:
    """Columns, rows and the key columns' values of a written table; None when it cannot be
    read. Parquet answers from its footer and reads the key columns only, so a 10M-row intake
    table is not loaded whole at the end of a run."""
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            meta = pq.read_metadata(path)
            columns = [str(c) for c in meta.schema.to_arrow_schema().names]
            keys = read_written_table(path, [k for k in key_columns if k in columns])
            return columns, int(meta.num_rows), keys
        if path.stat().st_size <= _MAX_CSV_BYTES:
            frame = read_written_table(path)
            return [str(c) for c in frame.columns], int(len(frame)), frame
    except Exception:  # a manifest never fails a run
        return None
    return None


def _key_treatment(values: pd.Series) -> str:
    """``pseudonymize`` when every key looks like a pseudonym, else ``raw``."""
    keys = values.dropna().astype(str)
    keys = keys[keys != ""]
    if keys.empty:
        return "empty"
    return "pseudonymize" if keys.str.match(PSEUDONYM_RE).all() else "raw"


def _personal_columns(columns: Sequence[str], keys: pd.DataFrame, personal: Mapping[str, str],
                      key_columns: Sequence[str]) -> dict[str, str]:
    out = {c: personal[c] for c in columns if c in personal}
    for key in key_columns:
        if key in keys.columns:
            out[key] = _key_treatment(keys[key])
    return out


def build_manifest(
    run_dir: Path,
    personal: Sequence[Mapping[str, Any]] = (),
    *,
    key_columns: Sequence[str] = ("customer_id", "customer_key"),
) -> list[dict[str, Any]]:
    """Every file under ``run_dir``: path, bytes; for tables also columns, rows and the personal
    data columns with their treatment.

    Parameters
    ----------
    run_dir : Path
        The run folder.
    personal : sequence of dict
        Personal-data records of the intake (:meth:`workbench.core.pii.PersonalColumn.as_dict`);
        a written column with the same name carries that record's treatment (``mask``,
        ``pseudonymize``; a dropped column is absent).
    key_columns : sequence of str, default ("customer_id", "customer_key")
        Customer key columns: reported as ``pseudonymize`` when every value is a pseudonym,
        else ``raw``.

    Returns
    -------
    list of dict
        One entry per file, sorted by path; ``run.json`` itself is left out.
    """
    treatments = {str(p["column"]): str(p["treatment"]) for p in personal if p.get("treatment") != "drop"}
    treatments.update({str(p["header"]): str(p["treatment"]) for p in personal
                       if p.get("treatment") != "drop" and p.get("header")})
    dropped = sorted({f"{p['table']}.{p['column']}" for p in personal if p.get("treatment") == "drop"})
    entries = []
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(run_dir).as_posix()
        if rel in {"run.json", "run.json.tmp"}:
            continue
        entry: dict[str, Any] = {"path": rel, "bytes": path.stat().st_size}
        if path.suffix in _TABLE_SUFFIXES:
            facts = _table_facts(path, key_columns)
            if facts is not None:
                columns, rows, keys = facts
                entry.update(columns=columns, rows=rows,
                             personal_data=_personal_columns(columns, keys, treatments, key_columns))
                if path.parent.name == "intake" and dropped:
                    entry["dropped"] = [d for d in dropped if d.startswith(f"{path.stem}.")]
        entries.append(entry)
    return entries
