"""Personal data of resident tables: found on a seeded sample read from Parquet, treated in DuckDB.

A resident table (:class:`workbench.core.resident.ResidentFrame`, more rows than
``engine.resident_rows``) never becomes a pandas frame, so intake treats it without one:

* **Detection** runs the pandas code (:func:`workbench.core.pii.detect_personal_data`) on
  :class:`ParquetSample`, which hands it, per column, exactly the rows
  :func:`workbench.core.pii.sample_values` would pick from the whole column for the same seed
  (:func:`workbench.core.pii.sample_positions` draws them; only the drawn rows are read). The
  findings (kind, share, rows checked) are therefore the pandas path's.
* **Treatment** (:func:`protect_resident`) computes the treated value of each *distinct* raw value
  with the pandas functions themselves (:func:`workbench.core.privacy.protect_table`: masks, HMAC
  pseudonyms; :func:`workbench.core.privacy.mask_in_text` inside free text), streamed from DuckDB
  in batches into a small mapping table, joins it to the table in DuckDB and writes the treated
  table to Parquet (microsecond timestamps, row order kept). One copy of every rule: nothing is
  re-implemented in SQL. Python holds one batch of distinct values at a time; DuckDB's joins and
  sort spill to disk beyond ``memory_limit``. Free text is masked the same way: per distinct text,
  so a column of mostly distinct texts costs one regex pass per row, in batches, never the column
  in memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.pii import PersonalColumn, sample_positions
from workbench.core.privacy import mask_in_text, protect_table
from workbench.core.resident import (
    ENGINE_MEMORY_LIMIT,
    ResidentFrame,
    arrow_to_frame,
    duckdb_connection,
)
from workbench.core.scan import _ident, _lit

__all__ = ["ENGINE_MEMORY_LIMIT", "MAP_BATCH_ROWS", "arrow_to_frame", "pandas_metadata", "ParquetSample",
           "treat_parquet", "protect_resident"]

MAP_BATCH_ROWS = 262_144
"""Distinct values handed to the Python treatment at a time."""

_ROW = "file_row_number"
Mapper = Callable[[pd.Series], pd.Series]


def _single_file(path: Path) -> Path:
    if not Path(path).is_file():
        raise ValueError(f"{path}: a resident table is treated from one Parquet file, not a folder of parts")
    return Path(path)


class ParquetSample:
    """The content sample of every column of a Parquet table, as :func:`detect_personal_data` reads it.

    ``sample[column]`` is the Series :func:`workbench.core.pii.sample_values` would return for
    that column of the whole table (same rows, same order, the row positions as index, intake's
    dtypes), read without loading the column: the positions are drawn first, then only those rows
    are fetched (one pass over the file for all columns without missing values). Pass the object
    where a frame is expected: it has ``columns`` and ``[column]``.

    Parameters
    ----------
    path : Path
        One Parquet file.
    size : int
        Values per column at most (``privacy.detect_sample``).
    seed : int
        Seed of the sample.
    """

    def __init__(self, path: Path | str, *, size: int, seed: int) -> None:
        import pyarrow.parquet as pq

        self.path = _single_file(Path(path))
        meta = pq.ParquetFile(self.path)
        self.rows = int(meta.metadata.num_rows)
        self.columns: list[str] = list(meta.schema_arrow.names)
        if _ROW in self.columns:
            raise ValueError(f"{self.path}: a column named {_ROW!r} clashes with DuckDB's row number; rename it")
        self.size, self.seed = size, seed
        self._fetched: list[pd.DataFrame] = []  # every column at drawn positions, indexed by position
        self._samples: dict[str, pd.Series] = {}
        self._con: Any = None

    def __getitem__(self, column: str) -> pd.Series:
        if column not in self._samples:
            if column not in self.columns:
                raise KeyError(column)
            pos = sample_positions(self.rows, size=self.size, seed=self.seed,
                                   present=lambda p: self._at(p)[column].notna().to_numpy(dtype=bool),
                                   present_positions=lambda: self._present(column))  # fmt: skip
            self._samples[column] = self._at(pos)[column].rename(column)
        return self._samples[column]

    def non_missing(self, column: str) -> int:
        """Non-missing values of ``column`` in the whole table."""
        return int(self._query(f"SELECT count({_ident(column)}) FROM {self._source()}").fetchone()[0])

    def close(self) -> None:
        """Close the DuckDB connection (reopened when needed)."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def _connection(self) -> Any:
        if self._con is None:
            self._con = duckdb_connection(threads=1)
        return self._con

    def _query(self, sql: str) -> Any:
        return self._connection().execute(sql)

    def _source(self, *, rows: bool = False) -> str:
        return f"read_parquet({_lit(str(self.path))}{', file_row_number=true' if rows else ''})"

    def _at(self, pos: np.ndarray) -> pd.DataFrame:
        """Every column at the sorted positions ``pos`` (from a fetch already made when it holds them)."""
        for frame in self._fetched:
            if len(pos) <= len(frame) and np.isin(pos, frame.index.to_numpy()).all():
                return frame.loc[pos]
        import pyarrow as pa

        con = self._connection()
        con.register("_wanted", pa.table({"p": pa.array(np.asarray(pos, dtype=np.int64))}))
        try:
            got = con.sql(f"SELECT * FROM {self._source(rows=True)} WHERE {_ROW} IN (SELECT p FROM _wanted) "
                          f"ORDER BY {_ROW}").to_arrow_table()  # fmt: skip
        finally:
            con.unregister("_wanted")
        frame = arrow_to_frame(got.drop_columns([_ROW]))
        frame.index = pd.Index(got.column(_ROW).to_numpy(), dtype=np.int64)
        self._fetched.append(frame)
        return frame

    def _present(self, column: str) -> np.ndarray:
        """Sorted positions of every non-missing value of ``column``."""
        got = self._query(f"SELECT {_ROW} FROM {self._source(rows=True)} WHERE {_ident(column)} IS NOT NULL "
                          f"ORDER BY {_ROW}").fetchnumpy()  # fmt: skip
        return np.asarray(got[_ROW], dtype=np.int64)


def _write_mapping(con: Any, source: str, column: str, mapper: Mapper, dest: Path, *, batch_rows: int) -> None:
    """``raw`` -> ``treated`` for every distinct non-missing value of ``column``, into ``dest``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    q = _ident(column)
    reader = con.sql(f"SELECT DISTINCT {q} AS raw FROM {source} WHERE {q} IS NOT NULL").to_arrow_reader(batch_rows)
    schema = pa.schema([reader.schema.field(0), pa.field("treated", pa.large_string())])
    with pq.ParquetWriter(dest, schema) as writer:
        for batch in reader:
            raw = batch.column(0)
            treated = mapper(arrow_to_frame(pa.table({"raw": raw}))["raw"].rename(column))
            arr = pa.array(treated.astype(object).where(treated.notna(), None).to_numpy(), type=pa.large_string())
            writer.write_table(pa.table([raw, arr], schema=schema))


def _select_list(con: Any, source: str, mapped: Sequence[str], drop: Collection[str]) -> list[str]:
    """Output columns in order: treated ones from their mapping, nanosecond times in microseconds."""
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    out = []
    for col, kind in types.items():
        q = _ident(col)
        if col in drop:
            continue
        if col in mapped:
            out.append(f"m{mapped.index(col)}.treated AS {q}")
        elif kind.startswith("TIMESTAMP_NS"):
            out.append(f"CAST(t.{q} AS TIMESTAMP) AS {q}")
        else:
            out.append(f"t.{q}")
    return out


def pandas_metadata(con: Any, query: str) -> str:
    """The ``pandas`` Parquet metadata of ``query``'s columns with intake's dtypes, so that
    ``pandas.read_parquet`` gives the dtypes of the pandas path's cached tables (``string``,
    ``boolean``: missing values ``pd.NA``). Pass it to ``COPY ... (FORMAT parquet, KV_METADATA
    {pandas: ...})``."""
    import pyarrow as pa

    empty = arrow_to_frame(con.sql(f"{query} LIMIT 0").to_arrow_table())
    return pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"].decode("utf-8")


def treat_parquet(
    src: Path,
    dest: Path,
    *,
    mappers: Mapping[str, Mapper],
    drop: Collection[str] = (),
    threads: int | None = None,
    memory_limit: str | None = None,
    batch_rows: int = MAP_BATCH_ROWS,
) -> None:
    """Write ``src`` to ``dest`` with ``mappers`` applied per distinct value and ``drop`` left out.

    Each mapper receives a batch of distinct non-missing raw values (intake's dtypes, see
    :func:`arrow_to_frame`) and returns their treated text, same length and order; missing values
    stay missing. The mapping is joined in DuckDB; rows keep their order, timestamps are written
    in microseconds. ``dest`` appears complete or not at all (written beside it, then renamed).

    Parameters
    ----------
    src, dest : Path
        Parquet file to read; Parquet file to write (may be ``src``).
    mappers : mapping of str to callable
        Column -> function of a Series of distinct values.
    drop : collection of str
        Columns left out.
    threads, memory_limit
        DuckDB settings (``engine.threads``, ``engine.memory_limit``; default
        :data:`ENGINE_MEMORY_LIMIT`).
    batch_rows : int
        Distinct values per mapper call.
    """
    src, dest = _single_file(src), Path(dest)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.stem}-", dir=dest.parent))
    con = duckdb_connection(threads=threads, memory_limit=memory_limit, temp_directory=work / "spill")
    try:
        source = f"read_parquet({_lit(str(src))}, file_row_number=true)"
        mapped = list(mappers)
        joins = []
        for i, col in enumerate(mapped):
            path = work / f"map{i}.parquet"
            _write_mapping(con, f"read_parquet({_lit(str(src))})", col, mappers[col], path, batch_rows=batch_rows)
            joins.append(f"LEFT JOIN read_parquet({_lit(str(path))}) m{i} ON t.{_ident(col)} = m{i}.raw")
        select = ", ".join(_select_list(con, f"read_parquet({_lit(str(src))})", mapped, drop))
        query = f"SELECT {select} FROM {source} t {' '.join(joins)}"
        tmp = work / "out.parquet"
        con.execute(f"COPY ({query} ORDER BY t.{_ROW}) TO {_lit(str(tmp))} "
                    f"(FORMAT parquet, KV_METADATA {{pandas: {_lit(pandas_metadata(con, query))}}})")  # fmt: skip
        con.close()
        os.replace(tmp, dest)
    finally:
        con.close()
        shutil.rmtree(work, ignore_errors=True)


def _nanoseconds(path: Path) -> bool:
    """Whether a Parquet file holds timestamps finer than microseconds (Spark rejects them)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    return any(pa.types.is_timestamp(f.type) and f.type.unit == "ns" for f in pq.read_schema(path))


def _treatment_plan(
    frame: ResidentFrame, table: str, detections: Sequence[PersonalColumn], privacy: Any
) -> tuple[dict[str, Mapper], list[str], list[PersonalColumn]]:
    """Mappers, dropped columns and records of :func:`protect_table` for a resident table.

    :func:`protect_table` itself decides: run on the table's empty frame it gives the records and
    the columns it drops; each treated column's mapper is :func:`protect_table` on the distinct
    values of that column alone.
    """
    import pyarrow.parquet as pq

    empty = arrow_to_frame(pq.read_schema(frame.path).empty_table())
    kept, records = protect_table(empty, table, detections, privacy=privacy)
    drop = [c for c in empty.columns if c not in kept.columns]
    by_column = {d.column: d for d in detections if d.table == table}
    mappers: dict[str, Mapper] = {}
    for rec in records:
        if rec.treatment in ("keep", "drop"):
            continue
        det = by_column[rec.column]

        def treat(values: pd.Series, det: PersonalColumn = det) -> pd.Series:
            return protect_table(values.to_frame(det.column), table, [det], privacy=privacy)[0][det.column]

        mappers[rec.column] = treat
    return mappers, drop, records


def protect_resident(
    frame: ResidentFrame,
    table: str,
    detections: Sequence[PersonalColumn],
    *,
    privacy: Any,
    dest: Path,
    mask_text: Sequence[str] = (),
    threads: int | None = None,
    memory_limit: str | None = None,
) -> tuple[ResidentFrame, list[PersonalColumn]]:
    """:func:`workbench.core.privacy.protect_table` for a resident table, run in DuckDB.

    Parameters
    ----------
    frame : ResidentFrame
        The untreated table (one Parquet file). When its file is intake's own untreated copy
        (``<table>.raw.parquet``) it is deleted once ``dest`` is written.
    table : str
        Contract table name.
    detections : sequence of PersonalColumn
        From :func:`workbench.core.pii.detect_personal_data` (on a :class:`ParquetSample`).
    privacy : PrivacyParams
        The ``privacy`` params section.
    dest : Path
        Parquet file of the treated table (``<intake>/<table>.parquet``).
    mask_text : sequence of str
        Free-text columns whose personal data is masked inside the text
        (:func:`workbench.core.privacy.mask_in_text`).
    threads, memory_limit
        DuckDB settings (``engine.threads``, ``engine.memory_limit``).

    Returns
    -------
    frame : ResidentFrame
        The treated table at ``dest``.
    records : list of PersonalColumn
        As :func:`protect_table` returns them.
    """
    src, dest = _single_file(frame.path), Path(dest)
    mappers, drop, records = _treatment_plan(frame, table, detections, privacy)
    for col in mask_text:
        mappers[col] = mask_in_text
    own = src.name.endswith(".raw.parquet") and src.resolve() != dest.resolve()
    if own and not mappers and not drop and not _nanoseconds(src):
        os.replace(src, dest)  # nothing to treat: intake's own copy becomes the table as it is
    elif mappers or drop or src.resolve() != dest.resolve() or _nanoseconds(src):
        treat_parquet(src, dest, mappers=mappers, drop=drop, threads=threads, memory_limit=memory_limit)
    if own and src.exists():
        src.unlink()
    return ResidentFrame.of(dest, table=table), records
