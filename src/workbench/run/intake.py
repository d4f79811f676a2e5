"""Intake of a run: read the tables, find and treat personal data, cache the result in the run.

Every column of every table, mapped or not, is checked for personal data (by header and by
content, :mod:`workbench.core.pii`) and treated as ``privacy.treatment`` says (mask, keyed
pseudonym or drop, :mod:`workbench.core.privacy`) before anything else sees it. What is cached
in ``<run>/intake/`` and everything computed from it is therefore already safe to write.
``intake/intake.json`` records per table the source, the per-column intake report, the personal
columns found (never their values) and the input files' checksums; a cache is reused only when
those checksums and the params are unchanged.

A table with more rows than ``engine.resident_rows`` stays in the engine when ``take_in`` is given
the run's ``intake/`` folder (``resident_dir``): read into ``<table>.raw.parquet``, checked on the
same seeded sample and treated in DuckDB to the same values as a pandas table
(:mod:`workbench.core.privacy_engine`), written to ``<table>.parquet`` (the untreated file
deleted) and handed on as a :class:`~workbench.core.resident.ResidentFrame`; the cache keeps that
file as it is and hands it back resident (``read_intake(..., resident_rows=)``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.contract import ColumnReport, LoadedTable
from workbench.core.io import load_tables
from workbench.core.params import DatasetParams
from workbench.core.pii import PersonalColumn
from workbench.core.resident import ResidentFrame, is_resident
from workbench.data.engine import to_microseconds
from workbench.run.provenance import InputFile, fingerprint, input_files, read_json_object

__all__ = ["Intake", "take_in", "protect_loaded", "save_intake", "read_intake", "known_inputs", "read_meta", "merge_personal",
           "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, timestamps and containers into JSON-able Python values."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return None if pd.isna(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass
class Intake:
    """Tables after intake and privacy treatment, with what was found and where they came from.

    Attributes
    ----------
    tables : dict of str to LoadedTable
        Treated tables (personal data masked, pseudonymized or dropped unless allowed); a
        resident table's ``frame`` is a :class:`~workbench.core.resident.ResidentFrame`.
    personal : list of PersonalColumn
        Personal-data columns found, with the reason and the treatment (no values).
    inputs : list of InputFile
        Input files with checksums.
    fingerprint : str
        Fingerprint of inputs and params (:func:`workbench.run.provenance.fingerprint`).
    """

    tables: dict[str, LoadedTable]
    personal: list[PersonalColumn] = field(default_factory=list)
    inputs: list[InputFile] = field(default_factory=list)
    fingerprint: str = ""


def _headers(table: LoadedTable) -> dict[str, str]:
    """Column after intake -> header in the source file (generated columns left out)."""
    return {c.column: c.source for c in table.columns if not str(c.source).startswith("@")}


def protect_loaded(
    table: LoadedTable, params: DatasetParams, *, seed: int, dest: Path | None = None
) -> tuple[LoadedTable, list[PersonalColumn]]:
    """Find personal data in every column of one table and treat it as the params say.

    A resident table (:class:`~workbench.core.resident.ResidentFrame`) is checked on the same
    seeded sample read from its Parquet file and treated in DuckDB
    (:mod:`workbench.core.privacy_engine`): same findings, same treated values, never in pandas.

    Parameters
    ----------
    table : LoadedTable
        A table as the contract read it (not modified; a resident table's untreated
        ``<table>.raw.parquet`` is deleted once treated).
    params : DatasetParams
        Validated params (``privacy`` section used; ``engine`` for a resident table's DuckDB).
    seed : int
        Seed of the content sample.
    dest : Path, optional
        Resident tables only: the treated table's Parquet file; default ``<table>.parquet``
        beside the untreated file (the run's ``intake/``).

    Returns
    -------
    tuple of (LoadedTable, list of PersonalColumn)
        The treated table (intake report examples of personal columns removed) and the
        personal columns found.
    """
    from workbench.core.pii import FREE_TEXT_COLUMNS, PENDING, detect_personal_data
    from workbench.core.privacy import contract_pii_kinds, mask_in_text, protect_table
    from workbench.core.privacy_engine import ParquetSample, protect_resident

    p = params.privacy
    resident = is_resident(table.frame)
    view: Any = ParquetSample(table.frame.path, size=p.detect_sample, seed=seed) if resident else table.frame
    try:
        detections = detect_personal_data(
            view, table.name, headers=_headers(table), canonical_pii=contract_pii_kinds(table.name),
            overrides=p.columns, sample=p.detect_sample, min_share=p.detect_min_share, seed=seed,
        )  # fmt: skip
        free_text = [c for c in FREE_TEXT_COLUMNS.get(table.name, ()) if c in table.frame.columns]
        forced = {d.column for d in detections if d.treatment != PENDING}
        detections = [d for d in detections if d.column not in free_text or d.column in forced]
        texts = _free_text_findings(view, table, [c for c in free_text if c not in forced], params, seed=seed)
    finally:
        if resident:
            view.close()
    masked = [pc.column for pc in texts if pc.treatment == "mask"]
    if resident:
        frame, personal = protect_resident(
            table.frame, table.name, detections, privacy=p, mask_text=masked,
            dest=dest or table.frame.path.with_name(f"{table.name}.parquet"),
            threads=params.engine.threads, memory_limit=params.engine.memory_limit,
        )  # fmt: skip
    else:
        frame, personal = protect_table(table.frame, table.name, detections, privacy=p)
        for col in masked:  # the frame is intake's own copy
            frame[col] = mask_in_text(frame[col])
    personal += texts
    hidden = {pc.column for pc in personal}
    columns = [replace(c, examples=["(personal data, hidden)"] if c.examples else []) if c.column in hidden else c
               for c in table.columns]
    return LoadedTable(name=table.name, frame=frame, source=table.source, columns=columns), personal


def _free_text_findings(
    view: Any, table: LoadedTable, columns: list[str], params: DatasetParams, *, seed: int
) -> list[PersonalColumn]:
    """Personal data inside the free-text ``columns`` of ``view`` (a frame, or the
    :class:`~workbench.core.privacy_engine.ParquetSample` of a resident table): one record per
    column that holds any (kind: the most frequent), treatment ``mask`` unless allowed."""
    from workbench.core.pii import personal_data_in_text

    p = params.privacy
    out: list[PersonalColumn] = []
    headers = _headers(table)
    for col in columns:
        found = personal_data_in_text(view[col], sample=p.detect_sample, seed=seed)
        if not any(found.values()):
            continue
        present = view.non_missing(col) if is_resident(table.frame) else int(view[col].notna().sum())
        n_checked = min(present, p.detect_sample)
        kind = max(found, key=found.__getitem__)
        share = found[kind] / n_checked if n_checked else None
        treatment = "keep" if p.allow_personal_data else "mask"
        out.append(PersonalColumn(table.name, col, str(headers.get(col, col)), kind, "content", share, n_checked,
                                  treatment=treatment))  # fmt: skip
    return out


def take_in(
    params: DatasetParams,
    names: Sequence[str] | None = None,
    *,
    known: Sequence[dict] = (),
    resident_dir: Path | None = None,
) -> Intake:
    """Read tables through the contract, then find and treat personal data in every column.

    Parameters
    ----------
    params : DatasetParams
        Validated params.
    names : sequence of str, optional
        Tables; default every table of the params.
    known : sequence of dict, optional
        Earlier input-file records whose checksums may be reused (same path, size and time).
    resident_dir : Path, optional
        The run's ``intake/`` folder: a table with more rows than ``engine.resident_rows`` is
        kept there as Parquet (``<table>.parquet``, treated) and handed on as a
        :class:`~workbench.core.resident.ResidentFrame`. None: every table in pandas.

    Returns
    -------
    Intake

    Raises
    ------
    ContractError
        A table cannot be read or does not meet the contract.
    """
    wanted = list(params.tables) if names is None else list(names)
    files = input_files(params, known=known)
    raw = load_tables(params, wanted, resident_dir=resident_dir)
    tables: dict[str, LoadedTable] = {}
    personal: list[PersonalColumn] = []
    for name in list(raw):
        # each untreated table is let go once treated: never two copies of every table at once
        dest = resident_dir / f"{name}.parquet" if resident_dir is not None else None
        tables[name], found = protect_loaded(raw.pop(name), params, seed=params.seed, dest=dest)
        personal.extend(found)
    return Intake(tables, personal, files, fingerprint(files, params))


def save_intake(intake: Intake, folder: Path) -> None:
    """Write treated tables (``<table>.parquet``) and ``intake.json`` into ``folder``.

    A resident table is already a treated Parquet file: it is not rewritten (copied only when
    it lies outside ``folder``), and ``intake.json`` records it as resident with its rows.
    """
    folder.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {"_fingerprint": intake.fingerprint, "_inputs": [f.as_dict() for f in intake.inputs],
                            "_personal_data": [pc.as_dict() for pc in intake.personal]}
    old = read_meta(folder)
    if old.get("_fingerprint") == intake.fingerprint:  # tables added to the same intake
        meta = {**old, **meta, "_inputs": _merge_inputs(old.get("_inputs", []), meta["_inputs"]),
                "_personal_data": [pc.as_dict() for pc in merge_personal(
                    [PersonalColumn(**p) for p in old.get("_personal_data", [])], intake.personal)]}
    for name, t in intake.tables.items():
        meta[name] = {"source": t.source, "columns": [c.__dict__ for c in t.columns]}
        dest = folder / f"{name}.parquet"
        if is_resident(t.frame):
            if t.frame.path.resolve() != dest.resolve():
                shutil.copyfile(t.frame.path, dest)
            meta[name].update(resident=True, rows=t.frame.rows)
        else:
            to_microseconds(t.frame).to_parquet(dest, index=False)  # Spark reads it
    (folder / "intake.json").write_text(json.dumps(to_jsonable(meta), ensure_ascii=False, indent=2), encoding="utf-8")


def _merge_inputs(old: list[dict], new: list[dict]) -> list[dict]:
    return list({f["table"]: f for f in [*old, *new]}.values())


def merge_personal(old: Sequence[PersonalColumn], new: Sequence[PersonalColumn]) -> list[PersonalColumn]:
    """Personal-data records of two reads of a run's tables, one per table and column (the
    newer record wins)."""
    return list({(p.table, p.column): p for p in [*old, *new]}.values())


def read_meta(folder: Path) -> dict[str, Any]:
    """``intake.json`` of ``folder`` as a dict (empty when absent or unreadable)."""
    return read_json_object(folder / "intake.json")


def known_inputs(folder: Path) -> list[dict]:
    """Input-file records of the intake cached in ``folder`` (for checksum reuse)."""
    return list(read_meta(folder).get("_inputs", []))


def read_intake(
    folder: Path, names: Sequence[str], *, fingerprint: str, resident_rows: int | None = None
) -> Intake | None:
    """The intake cached in ``folder`` when it holds ``names`` and was made from the same inputs.

    Parameters
    ----------
    folder : Path
        ``<run>/intake``.
    names : sequence of str
        Tables wanted.
    fingerprint : str
        Fingerprint of the current inputs and params.
    resident_rows : int, optional
        ``engine.resident_rows``: a cached table with more rows (read from its Parquet footer)
        comes back as a :class:`~workbench.core.resident.ResidentFrame`; None: every table as a
        DataFrame.

    Returns
    -------
    Intake or None
        ``None`` when absent, incomplete, or made from other inputs.
    """
    meta = read_meta(folder)
    if meta.get("_fingerprint") != fingerprint:
        return None
    if any(n not in meta or not (folder / f"{n}.parquet").exists() for n in names):
        return None
    tables = {}
    for n in names:
        cols = [ColumnReport(**c) for c in meta[n]["columns"]]
        tables[n] = LoadedTable(name=n, frame=_read_table(folder / f"{n}.parquet", n, resident_rows),
                                source=meta[n]["source"], columns=cols)
    personal = [PersonalColumn(**p) for p in meta.get("_personal_data", [])]
    inputs = [InputFile(**f) for f in meta.get("_inputs", [])]
    return Intake(tables, personal, inputs, fingerprint)


def _read_table(path: Path, name: str, resident_rows: int | None) -> pd.DataFrame | ResidentFrame:
    """A cached table: resident when it has more than ``resident_rows`` rows, else a DataFrame."""
    if resident_rows is not None:
        frame = ResidentFrame.of(path, table=name)
        if frame.rows > resident_rows:
            return frame
    return pd.read_parquet(path)
