"""Tables kept in the engine: large tables that never become pandas frames.

A table with more rows than ``engine.resident_rows`` is *resident*: intake writes its canonical,
typed, personal-data-treated columns to a Parquet file (microsecond timestamps, so Spark reads it
too) and hands on a :class:`ResidentFrame` instead of a DataFrame. Code that supports resident
tables reads it through the run's engine (``workbench.data.engine.as_table(con, frame)``) and
brings back only customer-level or aggregated results. Code that does not support them fails
loudly on first use (:class:`ResidentTableError`, naming the table, its size and the params key),
never silently on an empty or partial frame.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "orders.parquet"
>>> pd.DataFrame({"order_id": ["a", "b"], "amount": [1.0, 2.5]}).to_parquet(p)
>>> r = ResidentFrame.of(p, table="orders")
>>> len(r), r.shape, r.columns
(2, (2, 2), ('order_id', 'amount'))
>>> r.groupby("order_id")
Traceback (most recent call last):
...
workbench.core.resident.ResidentTableError: table orders (2 rows) is kept in the engine (engine.resident_rows); ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.errors import WorkbenchError

RESIDENT_KEY = "engine.resident_rows"
"""Params key of the row count above which a table stays in the engine."""


class ResidentTableError(WorkbenchError, AttributeError):
    """A step used a resident table as if it were a pandas frame."""


@dataclass(frozen=True)
class ResidentFrame:
    """A table kept in the engine: a Parquet file (or folder of parts) and what it holds.

    Parameters
    ----------
    path : Path
        The Parquet file or folder (canonical columns, typed, personal data treated).
    rows : int
        Row count.
    columns : tuple of str
        Column names, in order.
    dtypes : dict of str to str
        Arrow type of each column (``"string"``, ``"double"``, ``"timestamp[us]"`` …).
    table : str
        Contract table name, for messages (``orders``).
    """

    path: Path
    rows: int
    columns: tuple[str, ...]
    dtypes: dict[str, str] = field(default_factory=dict)
    table: str = "table"

    @classmethod
    def of(cls, path: Path | str, *, table: str) -> ResidentFrame:
        """Describe a Parquet file or folder from its footer (reads no rows).

        Parameters
        ----------
        path : Path or str
            Parquet file or folder of part files.
        table : str
            Contract table name.
        """
        import pyarrow.dataset as ds

        path = Path(path)
        dataset = ds.dataset(str(path), format="parquet")
        schema = dataset.schema
        return cls(path=path, rows=int(dataset.count_rows()), columns=tuple(schema.names),
                   dtypes={f.name: str(f.type) for f in schema}, table=table)

    def __len__(self) -> int:
        return self.rows

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``, as a DataFrame's."""
        return (self.rows, len(self.columns))

    def _refuse(self, what: str) -> ResidentTableError:
        return ResidentTableError(
            f"table {self.table} ({self.rows:,} rows) is kept in the engine ({RESIDENT_KEY}); "
            f"this step used it as a pandas frame ({what}). Pass it to a function that takes "
            f"con= (the run's engine), or raise {RESIDENT_KEY} above {self.rows:,} to hold it in memory"
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in {"path", "rows", "columns", "dtypes", "table"}:
            raise AttributeError(name)
        raise self._refuse(f".{name}")

    def __getitem__(self, key: Any) -> Any:
        raise self._refuse(f"[{key!r}]")

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` rows as a DataFrame with intake's dtypes (reads only those)."""
        import pyarrow.dataset as ds

        return _intake_frame(ds.dataset(str(self.path), format="parquet").head(n))

    def to_pandas(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The whole table (or ``columns``) as a DataFrame with the dtypes the pandas intake gives
        it (:func:`arrow_to_frame`): only for a table known to fit."""
        import pyarrow.dataset as ds

        return _intake_frame(ds.dataset(str(self.path), format="parquet").to_table(columns=columns))


def arrow_to_frame(table: Any) -> pd.DataFrame:
    """An Arrow table as a frame with intake's dtypes: text ``string`` (missing = ``pd.NA``),
    integers ``Int64``, flags ``boolean``, numbers ``float64``, times ``datetime64``.

    Examples
    --------
    >>> import pyarrow as pa
    >>> f = arrow_to_frame(pa.table({"a": pa.array([1, None]), "b": ["x", None], "c": [True, None]}))
    >>> [str(t) for t in f.dtypes]
    ['Int64', 'string', 'boolean']
    """
    import pyarrow as pa

    text = pd.StringDtype("pyarrow")
    mapping = {pa.string(): text, pa.large_string(): text, pa.string_view(): text, pa.bool_(): pd.BooleanDtype(),
               pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
               pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
               pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}  # fmt: skip
    return table.to_pandas(types_mapper=mapping.get, ignore_metadata=True)


def _intake_frame(table: Any) -> pd.DataFrame:
    """An Arrow table read from a resident Parquet as the pandas intake would hold it: by its pandas
    metadata when it was written with them, else by :func:`arrow_to_frame`."""
    if b"pandas" in (table.schema.metadata or {}):
        return table.to_pandas()
    return arrow_to_frame(table)


ENGINE_MEMORY_LIMIT = "2GB"
"""DuckDB memory of one step on a resident table (intake, personal-data treatment) when
``engine.memory_limit`` is not set; it spills to disk beyond it."""


def duckdb_connection(database: Path | str = ":memory:", *, threads: int | None = None,
                      memory_limit: str | None = None, temp_directory: Path | None = None) -> Any:
    """A private DuckDB connection for a step on a resident table: bounded memory
    (:data:`ENGINE_MEMORY_LIMIT` by default), spilling to ``temp_directory``, times in UTC and
    no progress bar (it prints to stdout, the notebook's output).

    Parameters
    ----------
    database : Path or str, default ":memory:"
        A database file for staging, or in memory.
    threads, memory_limit : optional
        ``engine.threads`` and ``engine.memory_limit``.
    temp_directory : Path, optional
        Where DuckDB spills beyond its memory.
    """
    import duckdb

    config: dict[str, Any] = {"memory_limit": memory_limit or ENGINE_MEMORY_LIMIT, "preserve_insertion_order": True}
    if threads:
        config["threads"] = threads
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    con = duckdb.connect(str(database), config=config)
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


def is_resident(data: Any) -> bool:
    """Whether ``data`` is a table kept in the engine."""
    return isinstance(data, ResidentFrame)


def materialize(data: pd.DataFrame | ResidentFrame) -> pd.DataFrame:
    """A DataFrame of ``data``: itself, or a resident table read whole (code paths that hold the
    table in memory anyway)."""
    return data.to_pandas() if isinstance(data, ResidentFrame) else data
