"""One query engine per run: embedded DuckDB by default, or Spark when a base outgrows one machine.

Every computation on orders and events is an `Ibis <https://ibis-project.org>`_ expression run on
the connection this module opens; the same expression runs unchanged on DuckDB and on Spark. A
library function takes it as ``con=`` (``None``: a fresh in-memory DuckDB); a notebook passes the
run's connection, ``ctx.engine``, opened from the ``engine:`` section of the params.

Data reaches the engine through :func:`as_table`:

- a pandas DataFrame becomes a temporary view (timestamps as microseconds, strings as strings:
  missing values stay missing, never the text ``"NaN"``); nothing is written anywhere;
- a Parquet or CSV path is read by the engine itself, without passing through pandas.

Spark reads Parquet timestamps in microseconds only; :func:`to_microseconds` makes a frame safe to
write for it (the run writes every artifact that way).
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.core.errors import WorkbenchError, did_you_mean
from workbench.core.resident import ResidentFrame

if TYPE_CHECKING:  # pragma: no cover
    from workbench.core.params import EngineParams

__all__ = [
    "BACKENDS",
    "SPARK_INSTALL",
    "connect",
    "connect_params",
    "close",
    "as_table",
    "to_microseconds",
    "spark_available",
    "backend_name",
]

#: Engines the workbench runs on (``engine.backend``).
BACKENDS: tuple[str, ...] = ("duckdb", "spark")
#: How to get Spark's Python package.
SPARK_INSTALL = 'pip install -e ".[spark]"  (or ".[dev]", which includes it)'
#: DuckDB / Spark memory sizes: a number and a unit (``4GB``, ``512MB``, ``2GiB``).
MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)
APP_NAME = "crm-workbench"

# what close() must undo for a Spark connection this module opened (keyed by id of the backend)
_OPENED: dict[int, dict[str, Any]] = {}


def spark_available() -> bool:
    """True when pyspark can be imported (Spark also needs Java 17 on the machine).

    Returns
    -------
    bool
    """
    return importlib.util.find_spec("pyspark") is not None


def backend_name(con: ibis.BaseBackend) -> str:
    """The workbench's name of a connection's engine: ``"duckdb"``, ``"spark"`` or Ibis's name."""
    name = getattr(con, "name", "")
    return "spark" if name == "pyspark" else name


def _check_options(backend: str, threads: int | None, memory_limit: str | None) -> None:
    if backend not in BACKENDS:
        raise WorkbenchError(
            f"backend={backend!r} is not an engine the workbench runs on{did_you_mean(backend, BACKENDS)}; "
            f"choose one of {', '.join(BACKENDS)}"
        )
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise WorkbenchError(f"threads={threads!r} must be a whole number of threads, at least 1 (or None: all cores)")
    if memory_limit is not None and not MEMORY.match(str(memory_limit)):
        raise WorkbenchError(f"memory_limit={memory_limit!r} must be a size such as '4GB', '512MB' or '2GiB' (or None)")


def connect(
    *,
    backend: str = "duckdb",
    database: str | Path = ":memory:",
    threads: int | None = None,
    memory_limit: str | None = None,
    master: str = "local[*]",
    config: Mapping[str, Any] | None = None,
) -> ibis.BaseBackend:
    """Open the query engine through Ibis.

    Parameters
    ----------
    backend : {"duckdb", "spark"}, default "duckdb"
        Embedded DuckDB (nothing to start) or Spark (pyspark; Java 17).
    database : str or Path, default ":memory:"
        DuckDB only: in memory, or a database file.
    threads : int, optional
        Engine threads. DuckDB: ``SET threads``; Spark: ``local[threads]`` when ``master`` is
        ``local[*]``. Default: all cores.
    memory_limit : str, optional
        Memory the engine may use, e.g. ``"4GB"``. DuckDB: ``SET memory_limit`` (it spills to
        disk beyond it); Spark: ``spark.driver.memory`` unless ``config`` sets it.
    master : str, default "local[*]"
        Spark only: ``local[n]`` or a cluster URL (``spark://host:7077``, ``yarn``).
    config : mapping, optional
        Spark only: extra settings (``{"spark.executor.memory": "8g"}``); applied last.

    Returns
    -------
    ibis.BaseBackend
        Close it with :func:`close` (the run does so in ``ctx.finish()``).

    Raises
    ------
    WorkbenchError
        Unknown backend or bad option; Spark asked for but pyspark not installed or Java missing.

    Examples
    --------
    >>> con = connect(threads=1, memory_limit="1GB")
    >>> con.raw_sql("SELECT current_setting('threads')").fetchone()[0]
    1
    >>> close(con)
    """
    _check_options(backend, threads, memory_limit)
    if backend == "spark":
        return _connect_spark(master=master, threads=threads, memory_limit=memory_limit, config=config or {})
    con = ibis.duckdb.connect(str(database))
    if threads is not None:
        con.raw_sql(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        con.raw_sql(f"SET memory_limit = '{str(memory_limit).strip()}'")
    return con


def connect_params(engine: EngineParams, *, base_dir: str | Path = ".") -> ibis.BaseBackend:
    """Open the engine the params' ``engine:`` section describes.

    Parameters
    ----------
    engine : EngineParams
        The validated section (``params.engine``).
    base_dir : path, default "."
        Folder a relative ``engine.database`` is resolved against (the params file's folder).

    Returns
    -------
    ibis.BaseBackend

    Raises
    ------
    WorkbenchError
        As :func:`connect`, naming the ``engine.*`` key.
    """
    try:
        return connect(
            backend=engine.backend, database=engine.database_path(base_dir), threads=engine.threads,
            memory_limit=engine.memory_limit, master=engine.master, config=engine.config,
        )  # fmt: skip
    except WorkbenchError as err:
        text = re.sub(r"(?<![\w.])(backend|threads|memory_limit|master|config)=", r"engine.\1=", str(err))
        raise WorkbenchError(text) from err.__cause__


def _memory_to_spark(size: str) -> str:
    """``"4GB"`` -> ``"4g"`` (Spark's JVM size units)."""
    m = MEMORY.match(size)
    assert m is not None  # checked before
    number, unit = float(m.group(1)), m.group(2).lower().rstrip("ib") or "b"
    mib = number * {"b": 1 / 2**20, "k": 1 / 1024, "m": 1, "g": 1024, "t": 1024**2}[unit]
    return f"{max(1, round(mib))}m"


def _spark_settings(
    *, master: str, threads: int | None, memory_limit: str | None, config: Mapping[str, Any], warehouse: str
) -> tuple[str, dict[str, str]]:
    """The master URL and every setting of the session :func:`connect` builds."""
    if threads is not None and master.replace(" ", "") == "local[*]":
        master = f"local[{int(threads)}]"
    settings = {
        "spark.app.name": APP_NAME,
        "spark.sql.session.timeZone": "UTC",
        # with Arrow off, missing strings reach Spark as the text "NaN"
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        # never ./spark-warehouse, never a Hive metastore_db in the working directory
        "spark.sql.warehouse.dir": warehouse,
        "spark.sql.catalogImplementation": "in-memory",
        "spark.ui.showConsoleProgress": "false",
    }
    if master.startswith("local"):
        # one machine: a few shuffle partitions (two per core), not Spark's 200
        cores = re.match(r"local\[(\d+)", master)
        settings["spark.sql.shuffle.partitions"] = str(2 * (int(cores.group(1)) if cores else os.cpu_count() or 2))
    if memory_limit is not None:
        settings["spark.driver.memory"] = _memory_to_spark(memory_limit)
    settings.update({str(k): _spark_value(v) for k, v in config.items()})
    return master, settings


def _spark_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _connect_spark(*, master: str, threads: int | None, memory_limit: str | None, config: Mapping[str, Any]) -> Any:
    if not spark_available():
        raise WorkbenchError(
            f"backend='spark' needs pyspark, which is not installed; install it with {SPARK_INSTALL}, "
            "or choose backend='duckdb'"
        )
    from pyspark.sql import SparkSession

    # pyspark 4.0 under pandas 3: chatter in every report, not the analyst's concern
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module="pyspark")
    # Spark's Python workers must run this interpreter (the venv), not the system python3
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    warehouse = tempfile.mkdtemp(prefix="crm-workbench-spark-")
    atexit.register(shutil.rmtree, warehouse, True)
    master, settings = _spark_settings(
        master=master, threads=threads, memory_limit=memory_limit, config=config, warehouse=warehouse
    )
    owned = SparkSession.getActiveSession() is None
    builder = SparkSession.builder.master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as err:  # the JVM did not start
        shutil.rmtree(warehouse, ignore_errors=True)
        raise WorkbenchError(
            f"backend='spark' with master={master!r}: Spark did not start ({type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no message'}); Spark needs Java 17 (java on PATH or "
            "JAVA_HOME set) and, for a cluster, a reachable master URL"
        ) from err
    session.sparkContext.setLogLevel("WARN")
    for key, value in settings.items():  # runtime SQL settings on a session that already existed
        if key.startswith("spark.sql.") and key not in ("spark.sql.warehouse.dir", "spark.sql.catalogImplementation"):
            with contextlib.suppress(Exception):
                session.conf.set(key, value)
    con = ibis.pyspark.connect(session)
    # the entry holds the backend, so its id stays its own until close()
    _OPENED[id(con)] = {"con": con, "owned": owned, "warehouse": warehouse, "session": session}
    return con


def close(con: ibis.BaseBackend | None) -> None:
    """Close a connection from :func:`connect`: DuckDB disconnects; a Spark session is stopped
    only when :func:`connect` started it (a session that already ran is left running), and its
    temporary warehouse folder is removed.

    Parameters
    ----------
    con : ibis.BaseBackend or None
        ``None`` does nothing.
    """
    if con is None:
        return
    if backend_name(con) == "spark":
        info = _OPENED.pop(id(con), None)
        if info is not None and info["con"] is con:
            if info["owned"]:
                with contextlib.suppress(Exception):
                    info["session"].stop()
            shutil.rmtree(info["warehouse"], ignore_errors=True)
        return  # a session this module did not start is left running
    with contextlib.suppress(Exception):
        con.disconnect()


def to_microseconds(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every datetime column in microseconds (time zones kept).

    Spark rejects Parquet timestamps in nanoseconds (``PARQUET_TYPE_ILLEGAL``); microseconds are
    what every engine reads. Times finer than a microsecond are cut.

    Parameters
    ----------
    frame : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A new frame when a column changed, else ``frame`` itself.

    Examples
    --------
    >>> f = pd.DataFrame({"t": pd.to_datetime(["2024-01-01"]).as_unit("ns")})
    >>> str(to_microseconds(f)["t"].dtype)
    'datetime64[us]'
    """
    changes = {}
    for col in frame.columns:
        dtype = frame[col].dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            if dtype.unit != "us":
                changes[col] = frame[col].dt.as_unit("us")
        elif pd.api.types.is_datetime64_dtype(dtype) and dtype != "datetime64[us]":
            changes[col] = frame[col].astype("datetime64[us]")
    return frame.assign(**changes) if changes else frame


def _engine_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Microsecond timestamps; object columns as text (mixed types do not go through Arrow)."""
    out = to_microseconds(frame)
    text = {c: "string" for c in out.columns if out[c].dtype == object}
    out = out.astype(text) if text else out
    if not isinstance(out.index, pd.RangeIndex) or out.index.start != 0 or out.index.step != 1:
        out = out.reset_index(drop=True)
    return out


def _view_name(name: str | None) -> str:
    if name is not None:
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise WorkbenchError(f"name={name!r} is not a table name for the engine (letters, digits, _)")
        return name
    return f"wb_{uuid.uuid4().hex[:12]}"


def _read_path(con: ibis.BaseBackend, path: Path, name: str | None) -> ir.Table:
    if not path.exists():
        raise WorkbenchError(f"{path}: file not found")
    suffix = path.suffix.lower()
    kind = "parquet" if path.is_dir() or suffix in (".parquet", ".pq") else "csv" if suffix in (".csv", ".tsv", ".txt") else None
    if kind is None:
        raise WorkbenchError(f"{path}: the engine reads Parquet (.parquet) or CSV (.csv) files, not {suffix or 'this file'}")
    table_name = _view_name(name)
    try:
        if kind == "parquet":
            return con.read_parquet(str(path), table_name=table_name)
        return con.read_csv(str(path), table_name=table_name)
    except Exception as err:
        if "PARQUET_TYPE_ILLEGAL" in str(err) or "NANOS" in str(err):
            raise WorkbenchError(
                f"{path}: Parquet timestamps in nanoseconds, which Spark cannot read; write the file with "
                "microsecond timestamps (workbench.data.engine.to_microseconds, as the run's artifacts are)"
            ) from err
        raise


def as_table(con: ibis.BaseBackend, data: pd.DataFrame | ResidentFrame | str | Path | ir.Table, *, name: str | None = None) -> ir.Table:
    """Make data an engine table of ``con``.

    Parameters
    ----------
    con : ibis.BaseBackend
        The engine (:func:`connect`).
    data : pandas.DataFrame, ResidentFrame, str, Path or ibis Table
        A resident table (:mod:`workbench.core.resident`) is read from its Parquet; a DataFrame becomes a temporary view (timestamps as microseconds; object columns as
        text; no table is created, nothing is written); a ``.parquet`` file or folder or a ``.csv``
        file is read by the engine without passing through pandas; an Ibis table is returned as
        it is.
    name : str, optional
        View name; a view of that name is replaced. Default: a new unique name.

    Returns
    -------
    ibis Table
        Bound to ``con``: ``.to_pandas()`` runs there.

    Raises
    ------
    WorkbenchError
        A path that is missing or not Parquet/CSV; Parquet Spark cannot read.

    Examples
    --------
    >>> con = connect()
    >>> t = as_table(con, pd.DataFrame({"customer_id": ["a", None]}), name="demo")
    >>> int(t.customer_id.isnull().sum().to_pandas())
    1
    """
    if isinstance(data, ir.Table):
        return data
    if isinstance(data, ResidentFrame):
        return _read_path(con, data.path, name)
    if isinstance(data, (str, Path)):
        return _read_path(con, Path(data).expanduser(), name)
    if not isinstance(data, pd.DataFrame):
        raise WorkbenchError(f"as_table needs a DataFrame, a Parquet/CSV path or an Ibis table, not {type(data).__name__}")
    frame = _engine_ready(data)
    view = _view_name(name)
    if backend_name(con) == "duckdb":
        import pyarrow as pa

        # a temporary view over the Arrow data: replaced (and freed) when the name is reused
        con.con.register(view, pa.Table.from_pandas(frame, preserve_index=False))
        return con.table(view)
    # Spark's createDataFrame takes one Arrow array per column: merge chunked text columns (a
    # frame built by pd.concat holds several chunks, which Spark rejects with a TypeError)
    return con.create_view(view, ibis.memtable(_one_chunk(frame)), overwrite=True)


def _one_chunk(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every Arrow-backed column in a single chunk."""
    import pyarrow as pa

    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    return table.to_pandas(types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_string(t) or pa.types.is_large_string(t) else None)
