"""Readers: CSV (encoding detected: UTF-8, UTF-8 with BOM, GBK/GB18030), Excel, Parquet and
DuckDB tables, plus :func:`load_tables`, the one intake every notebook goes through.

Raw files are opened read-only and never written.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.contract import LoadedTable, apply_contract
from workbench.core.errors import ContractError
from workbench.core.params import DatasetParams, TableSource

__all__ = ["detect_encoding", "read_raw", "load_tables"]

_SNIFF_BYTES = 4 * 1024 * 1024


def _open_bytes(path: Path, n: int | None = None) -> bytes:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return fh.read() if n is None else fh.read(n)


def detect_encoding(path: Path | str) -> str:
    """Detect the text encoding of a CSV file (gzip allowed).

    Order: a UTF-8 byte-order mark -> ``utf-8-sig``; valid UTF-8 -> ``utf-8``; otherwise
    ``gb18030`` (a superset of GBK and GB2312, the encodings Chinese Excel and ERP exports use).
    The first 4 MiB are checked, then the whole file if it is larger and the start was ASCII.

    Parameters
    ----------
    path : path
        CSV or CSV.GZ file.

    Returns
    -------
    str
        A Python codec name.
    """
    path = Path(path)
    head = _open_bytes(path, _SNIFF_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    data = head
    if len(head) == _SNIFF_BYTES and head.isascii():
        data = _open_bytes(path)
    try:
        # a multi-byte sequence may be cut at the sniff boundary
        data.decode("utf-8") if len(data) < _SNIFF_BYTES else data[:-4].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030") if len(data) < _SNIFF_BYTES else data[:-4].decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_format(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if ".gz" in suffixes:
        suffixes.remove(".gz")
    ext = suffixes[-1] if suffixes else ""
    if ext in {".xlsx", ".xlsm", ".xls", ".ods"}:
        return "excel"
    if ext in {".parquet", ".pq"}:
        return "parquet"
    if ext in {".duckdb", ".db", ".ddb"}:
        return "duckdb"
    return "csv"


def read_raw(src: TableSource, *, path: Path, table: str, params_prefix: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read one source as it is (text columns stay text for the contract parsers).

    Parameters
    ----------
    src : TableSource
        Params of the table.
    path : Path
        Resolved file path.
    table : str
        Contract table name, for errors.
    params_prefix : str
        Params key of the table, for errors.

    Returns
    -------
    frame : pandas.DataFrame
    info : dict
        ``path``, ``format``, ``encoding``, ``sheet``, ``rows``, ``columns``, ``bytes``.

    Raises
    ------
    ContractError
        The file cannot be read (names the file, the format tried and the params key).
    """
    fmt = _detect_format(path) if src.format == "auto" else src.format
    info: dict[str, Any] = {"path": str(path), "format": fmt, "bytes": path.stat().st_size}
    try:
        if fmt == "csv":
            enc = detect_encoding(path) if src.encoding == "auto" else src.encoding
            info["encoding"] = enc
            kw: dict[str, Any] = {
                "dtype": str,
                "keep_default_na": False,
                "na_filter": False,
                "encoding": enc,
                "compression": "infer",
            }
            if src.sep == "whitespace":
                kw["sep"] = r"\s+"
            else:
                kw["sep"] = src.sep
            if not src.header:
                kw["header"] = None
                kw["names"] = src.column_names
            frame = pd.read_csv(path, **kw)
        elif fmt == "excel":
            sheet = 0 if src.sheet is None else src.sheet
            info["sheet"] = sheet
            frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="calamine",
                                  header=0 if src.header else None)
            if not src.header and src.column_names:
                frame.columns = src.column_names
            frame.columns = [str(c) for c in frame.columns]
        elif fmt == "parquet":
            frame = pd.read_parquet(path)
        elif fmt == "duckdb":
            import duckdb

            if not src.table:
                raise ContractError(table, f"DuckDB file {path} needs a table name",
                                    params_key=f"{params_prefix}.table")
            info["table"] = src.table
            with duckdb.connect(str(path), read_only=True) as con:
                frame = con.table(src.table).df()
        else:  # pragma: no cover - guarded by the params model
            raise ContractError(table, f"unknown format {fmt!r}", params_key=f"{params_prefix}.format")
    except ContractError:
        raise
    except UnicodeDecodeError as err:
        raise ContractError(
            table,
            f"file {path} is not valid {info.get('encoding')}: {err.reason} at byte {err.start}",
            params_key=f"{params_prefix}.encoding",
        ) from None
    except Exception as err:
        raise ContractError(
            table,
            f"cannot read {path} as {fmt}: {type(err).__name__}: {str(err).splitlines()[0][:300]}",
            params_key=f"{params_prefix}.format / {params_prefix}.sep / {params_prefix}.path",
        ) from None
    info["rows"] = len(frame)
    info["columns"] = int(frame.shape[1])
    return frame, info


def load_tables(params: DatasetParams, names: Iterable[str] | None = None) -> dict[str, LoadedTable]:
    """Read every table the params declare (or ``names`` of them) and apply the contract.

    Parameters
    ----------
    params : DatasetParams
        Validated params.
    names : iterable of str, optional
        Tables to load; default all tables in the params. Names not in the params raise.

    Returns
    -------
    dict of str to LoadedTable

    Raises
    ------
    ContractError
        For the first table that cannot be read or does not meet the contract.
    """
    wanted = list(params.tables) if names is None else list(names)
    out: dict[str, LoadedTable] = {}
    for name in wanted:
        if name not in params.tables:
            raise ContractError(
                name, "is needed by this analysis but not declared in the params",
                params_key=f"tables.{name}",
            )
        src = params.tables[name]
        prefix = f"tables.{name}"
        path = params.resolve(src.path)
        raw, info = read_raw(src, path=path, table=name, params_prefix=prefix)
        out[name] = apply_contract(
            raw,
            name,
            columns=src.columns,
            constants=src.constants,
            keep_extra_columns=src.keep_extra_columns,
            placeholders=params.placeholders,
            max_unparseable_share=params.intake.max_unparseable_share,
            options={
                "date_format": src.date_format,
                "true_values": src.true_values,
                "false_values": src.false_values,
            },
            source=info,
            params_prefix=prefix,
        )
    return out

