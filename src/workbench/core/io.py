"""Readers: CSV (encoding detected: UTF-8, UTF-8 with BOM, GBK/GB18030), Excel, Parquet and
DuckDB tables, plus :func:`load_tables`, the one intake every notebook goes through; and one
writer, :func:`write_excel_csv`, for the CSV artifacts analysts open in Excel.

What a file is comes from its content before its name: an Excel workbook saved as ``.csv`` is
read as Excel (with a warning). A CSV whose header row reads as one column holding ``;``, a tab
or ``|`` while every mapped header is among its parts is read with that delimiter (with a
warning naming ``tables.<t>.sep``). A header written twice stops the intake when it is mapped and
is kept under two names (with a warning) when it is not. A table with no rows stops the intake.

Raw files are opened read-only and never written.
"""

from __future__ import annotations

import codecs
import gzip
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.contract import TABLES, LoadedTable, apply_contract
from workbench.core.errors import ContractError, DataQualityWarning, format_examples
from workbench.core.params import DatasetParams, TableSource
from workbench.core.scan import ScannedTable, ScanUnsupported, csv_source_sql, scan_csv

__all__ = ["SCAN_MIN_BYTES", "ScanRequest", "detect_encoding", "read_raw", "load_tables"]

_SNIFF_BYTES = 4 * 1024 * 1024

SCAN_MIN_BYTES = 16 * 1024 * 1024
"""CSV files from this size on (uncompressed, a gzip file counts four times its size) are read by
DuckDB (:mod:`workbench.core.scan`) unless ``load_tables(..., scan=False)``; smaller ones by pandas."""


@dataclass(frozen=True)
class ScanRequest:
    """What :func:`read_raw` needs to let DuckDB read and parse a CSV (:func:`workbench.core.scan.scan_csv`).

    Attributes
    ----------
    plan : tuple of (str, str)
        Header and contract type of each mapped column.
    placeholders : tuple of str
        Texts meaning "no value".
    options : dict
        ``date_format``, ``true_values``, ``false_values``.
    always : bool
        Scan whatever the file's size (else only from :data:`SCAN_MIN_BYTES` on).
    """

    plan: tuple[tuple[str, str], ...]
    placeholders: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)
    always: bool = False


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


_EXCEL_EXT = {".xlsx", ".xlsm", ".xls", ".ods"}
_SNIFF_SEPS = (";", "\t", "|", ",")
_SEP_NAMES = {";": '";"', "\t": '"\\t"', "|": '"|"', ",": '","'}  # as written in YAML


def _format_by_extension(path: Path) -> str:
    """The format the file name says (``.gz`` aside); ``csv`` for anything unknown."""
    suffixes = [s.lower() for s in path.suffixes]
    if ".gz" in suffixes:
        suffixes.remove(".gz")
    ext = suffixes[-1] if suffixes else ""
    if ext in _EXCEL_EXT:
        return "excel"
    if ext in {".parquet", ".pq"}:
        return "parquet"
    if ext in {".duckdb", ".db", ".ddb"}:
        return "duckdb"
    return "csv"


def _content_format(path: Path) -> str | None:
    """The format the first bytes say: ``excel`` (an xlsx/xlsm/ods zip, or the OLE2 container of
    an old ``.xls``), ``parquet``, ``html`` (a web page), ``csv`` (text without NUL bytes), or
    None (not recognised)."""
    if path.suffix.lower() == ".gz" or not path.is_file():
        return None
    head = _open_bytes(path, 512)
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile:
            return None
        if any(n.startswith("xl/") for n in names) or "content.xml" in names:
            return "excel"
        return None
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html", b"<table")):
        return "html"
    if head and b"\0" not in head:
        return "csv"
    return None


def _detect_format(path: Path) -> str:
    """The format of a file: its content when recognisable (an Excel workbook named ``x.csv`` is
    ``excel``), else its extension.

    Parameters
    ----------
    path : Path

    Returns
    -------
    str
        ``csv``, ``excel``, ``parquet``, ``duckdb`` or ``html`` (a web page, which cannot be read).
    """
    by_ext = _format_by_extension(path)
    if by_ext == "duckdb":
        return by_ext
    content = _content_format(path)
    return content if content is not None else by_ext


def _check_format(path: Path, src: TableSource, *, table: str, params_prefix: str) -> str:
    """The format to read ``path`` as; warn when the content contradicts the extension.

    Raises
    ------
    ContractError
        The file is a web page, or its content is not the format the params set.
    """
    content = _detect_format(path)
    key = f"{params_prefix}.format"
    if content == "html":
        raise ContractError(
            table,
            f"file {path} is a web page (HTML), not a table file, whatever its extension; open it in "
            f"Excel and save it as .xlsx or .csv, then point {params_prefix}.path at that copy",
            params_key=f"{params_prefix}.path",
        )
    if src.format != "auto":
        if src.format == "csv" and content in {"excel", "parquet"}:
            raise ContractError(
                table,
                f"file {path} is {'an Excel workbook' if content == 'excel' else 'a Parquet file'} "
                f"but {key} is csv; set {key}: {content} (or auto)",
                params_key=key,
            )
        return src.format
    by_ext = _format_by_extension(path)
    if content != by_ext:
        what = {"excel": "an Excel workbook", "parquet": "a Parquet file", "csv": "text"}[content]
        warnings.warn(
            f"{table}: {path.name} is {what} despite its {''.join(path.suffixes) or 'missing'} "
            f"extension; read as {content}. Rename the file, or set {key}: {content} to say so",
            DataQualityWarning,
            stacklevel=3,
        )
    return content


def _csv_options(src: TableSource, enc: str, sep: str) -> dict[str, Any]:
    """``pandas.read_csv`` keywords: every value as text, nothing turned into NaN."""
    kw: dict[str, Any] = {
        "dtype": str,
        "keep_default_na": False,
        "na_filter": False,
        "encoding": enc,
        "compression": "infer",
        "sep": r"\s+" if sep == "whitespace" else sep,
    }
    if not src.header:
        kw["header"] = None
        kw["names"] = src.column_names
    return kw


def _csv_header(path: Path, kw: dict[str, Any]) -> list[str]:
    """The header row as written (pandas renames a repeated header ``amount.1``; this does not)."""
    head = pd.read_csv(path, **{**kw, "header": None, "names": None, "nrows": 1})
    return [str(v) for v in head.iloc[0].tolist()] if len(head) else []


def _sniff_sep(path: Path, src: TableSource, kw: dict[str, Any], *, table: str, params_prefix: str) -> str | None:
    """Another delimiter when the header read with ``src.sep`` is one column holding ``;``, a tab,
    ``|`` or ``,`` and every mapped header is among its parts; None to keep ``src.sep``.

    Raises
    ------
    ContractError
        The header looks separated by another delimiter but not every mapped header is among
        its parts (names the delimiter, ``tables.<t>.sep`` and the headers missing).
    """
    if not src.header or src.sep == "whitespace":
        return None
    header = _csv_header(path, kw)
    if len(header) != 1:
        return None
    mapped = [h for h in src.columns.values() if h != "@index"]
    for cand in _SNIFF_SEPS:
        if cand == src.sep or cand not in header[0]:
            continue
        parts = _csv_header(path, {**kw, "sep": cand})
        missing = [h for h in mapped if h not in parts]
        shown = _SEP_NAMES[cand]
        if not missing:
            warnings.warn(
                f"{table}: the header row of {path.name} is one column with sep {_SEP_NAMES.get(src.sep, repr(src.sep))} "
                f"but splits into {len(parts)} headers with {shown}, among them every mapped one; "
                f"read it as {shown}-separated. Set {params_prefix}.sep: {shown} to say so",
                DataQualityWarning,
                stacklevel=4,
            )
            return cand
        raise ContractError(
            table,
            f"the header row of {path} is one column ({header[0][:120]!r}): the file looks "
            f"{shown}-separated, but then mapped header(s) {format_examples(missing)} are still not "
            f"among its headers {format_examples(parts, 30)}; set {params_prefix}.sep: {shown} and check "
            f"{params_prefix}.columns",
            params_key=f"{params_prefix}.sep",
        )
    return None


def _distinct_names(names: list[str]) -> list[str]:
    """Repeated names made distinct the way pandas does it: ``amount``, ``amount.1`` ..."""
    used = set(names)
    seen: dict[str, int] = {}
    out = []
    for h in names:
        if h not in seen:
            seen[h] = 0
            out.append(h)
            continue
        k = seen[h] + 1
        while f"{h}.{k}" in used:
            k += 1
        seen[h] = k
        used.add(f"{h}.{k}")
        out.append(f"{h}.{k}")
    return out


def _read_excel(path: Path, src: TableSource, sheet: str | int) -> tuple[pd.DataFrame, list[str]]:
    """An Excel sheet as object columns, and its header row as written (empty without one)."""
    frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="calamine", header=None)
    if not src.header:
        if src.column_names:
            frame.columns = src.column_names
        frame.columns = [str(c) for c in frame.columns]
        return frame, []
    if len(frame) == 0:
        return frame, []
    header = ["" if pd.isna(v) else str(v) for v in frame.iloc[0].tolist()]
    header = [h if h else f"Unnamed: {i}" for i, h in enumerate(header)]
    body = frame.iloc[1:].reset_index(drop=True)
    return body.set_axis(header, axis=1), header


def _check_duplicate_headers(
    frame: pd.DataFrame, header: list[str], src: TableSource, *, path: Path, table: str, params_prefix: str
) -> pd.DataFrame:
    """Stop on a header written twice that the params map; keep an unmapped one under distinct
    names (pandas' ``amount.1``), with a warning. Returns the frame with distinct column names.

    Raises
    ------
    ContractError
        A mapped header appears more than once in the file (names the table, header, column
        positions and ``tables.<t>.columns.<canonical>``).
    """
    if len(header) != frame.shape[1]:
        header = [str(c) for c in frame.columns]
    names = [str(c) for c in frame.columns]
    if len(set(names)) < len(names):  # Excel, Parquet, DuckDB: repeated names, make them distinct
        names = _distinct_names(names)
        frame = frame.set_axis(names, axis=1)
    positions: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        positions.setdefault(h, []).append(i)
    mapped = {h: c for c, h in src.columns.items()}
    for h, pos in positions.items():
        if len(pos) < 2 or not h.strip():  # blank headers (trailing commas) are pandas' "Unnamed: i"
            continue
        cols = ", ".join(str(i + 1) for i in pos)
        if h in mapped:
            canon = mapped[h]
            key = f"{params_prefix}.columns.{canon}"
            raise ContractError(
                table,
                f"the file {path.name} has the header {h!r} {len(pos)} times (columns {cols}) and "
                f"{key} maps it, so which column is meant is unclear; rename the headers in your "
                f"export so each is unique, or map the later one by the name intake gives it "
                f"({key}: {names[pos[1]]!r} = column {pos[1] + 1})",
                params_key=key,
            )
        warnings.warn(
            f"{table}: the file {path.name} has the header {h!r} {len(pos)} times (columns {cols}); "
            f"it is not mapped, so each is kept as its own extra column: "
            f"{', '.join(repr(names[i]) for i in pos)}",
            DataQualityWarning,
            stacklevel=3,
        )
    return frame


def _scannable(src: TableSource, kw: dict[str, Any], path: Path, size: int, scan: ScanRequest | None) -> bool:
    """Whether DuckDB reads this CSV: a header row, a one-character delimiter, and large enough
    (or ``scan.always``)."""
    if scan is None or not src.header or len(str(kw["sep"])) != 1:
        return False
    return scan.always or size * (4 if path.suffix == ".gz" else 1) >= SCAN_MIN_BYTES


def _read_csv(
    path: Path, src: TableSource, kw: dict[str, Any], info: dict[str, Any], scan: ScanRequest | None,
    *, size: int, table: str, params_prefix: str,
) -> tuple[pd.DataFrame | ScannedTable, list[str], bool]:
    """A CSV through DuckDB when :func:`_scannable` (pandas when DuckDB cannot read it as pandas
    would), else through pandas. Returns the table, the header row as written and whether the
    duplicate headers are already checked."""
    header = _csv_header(path, kw) if src.header else []
    if _scannable(src, kw, path, size, scan):
        assert scan is not None
        names = [str(c) for c in pd.read_csv(path, **{**kw, "nrows": 0}).columns]
        _check_duplicate_headers(pd.DataFrame(columns=names), header, src, path=path, table=table,
                                 params_prefix=params_prefix)  # fmt: skip
        plan = tuple((h, t) for h, t in scan.plan if h in names)
        try:
            frame = scan_csv(path, encoding=info["encoding"], sep=kw["sep"], columns=names, plan=plan,
                             placeholders=scan.placeholders, options=scan.options)  # fmt: skip
            info["reader"] = "duckdb"
            return frame, header, True
        except ScanUnsupported:
            pass
        return pd.read_csv(path, **kw), header, True
    return pd.read_csv(path, **kw), header, False


def read_raw(
    src: TableSource, *, path: Path, table: str, params_prefix: str, scan: ScanRequest | None = None
) -> tuple[pd.DataFrame | ScannedTable, dict[str, Any]]:
    """Read one source as it is (text columns stay text for the contract parsers).

    The format comes from the content when it is recognisable (:func:`_detect_format`), a CSV's
    delimiter may be sniffed (:func:`_sniff_sep`), and a header written twice is checked
    (:func:`_check_duplicate_headers`). With ``scan``, a large CSV (:data:`SCAN_MIN_BYTES`) is
    read by DuckDB and its mapped columns parsed there (:func:`workbench.core.scan.scan_csv`):
    the result is then a :class:`~workbench.core.scan.ScannedTable` (close it after
    :func:`~workbench.core.contract.apply_contract`).

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
    scan : ScanRequest, optional
        Let DuckDB read and parse a large CSV.

    Returns
    -------
    frame : pandas.DataFrame or ScannedTable
    info : dict
        ``path``, ``format``, ``encoding``, ``sep`` (CSV), ``sheet``, ``rows``, ``columns``,
        ``bytes``; ``reader: duckdb`` when DuckDB read it.

    Raises
    ------
    ContractError
        The file is empty or cannot be read (names the file, the format tried and the params
        key), is a web page, or maps a header the file has twice.

    Warns
    -----
    DataQualityWarning
        The content is not what the extension says, the delimiter was sniffed, or an unmapped
        header appears twice.
    """
    size = path.stat().st_size
    if size == 0:
        raise ContractError(table, f"file {path} is empty (0 bytes): no header, no rows",
                            params_key=f"{params_prefix}.path")  # fmt: skip
    fmt = _check_format(path, src, table=table, params_prefix=params_prefix)
    info: dict[str, Any] = {"path": str(path), "format": fmt, "bytes": size}
    header: list[str] = []
    checked = False
    try:
        if fmt == "csv":
            enc = detect_encoding(path) if src.encoding == "auto" else src.encoding
            info["encoding"] = enc
            kw = _csv_options(src, enc, src.sep)
            sniffed = _sniff_sep(path, src, kw, table=table, params_prefix=params_prefix)
            if sniffed is not None:
                kw = _csv_options(src, enc, sniffed)
                info["sep"] = sniffed
            frame, header, checked = _read_csv(path, src, kw, info, scan, size=size, table=table,
                                               params_prefix=params_prefix)  # fmt: skip
        elif fmt == "excel":
            sheet = 0 if src.sheet is None else src.sheet
            info["sheet"] = sheet
            frame, header = _read_excel(path, src, sheet)
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
    if not checked:
        frame = _check_duplicate_headers(frame, header, src, path=path, table=table, params_prefix=params_prefix)
    info["rows"] = len(frame)
    info["columns"] = int(frame.shape[1])
    return frame, info


def _scan_request(name: str, src: TableSource, params: DatasetParams, scan: bool | None) -> ScanRequest | None:
    """The :class:`ScanRequest` of one table (None when ``scan`` is False)."""
    if scan is False or name not in TABLES:
        return None
    spec = TABLES[name]
    plan = tuple((h, spec.column(c).type) for c, h in src.columns.items() if h != "@index" and c in spec.names)
    options = {"date_format": src.date_format, "true_values": src.true_values, "false_values": src.false_values}
    return ScanRequest(plan, tuple(params.placeholders), options, always=scan is True)


_ENGINE_ENCODINGS = ("utf-8", "utf-8-sig", "utf8", "ascii")


def _engine_encoding(path: Path, src: TableSource) -> str | None:
    """The encoding the pandas intake reports for a CSV DuckDB may read (UTF-8, with or without
    a byte-order mark, or ASCII), from its first bytes only (DuckDB checks the rest); None for
    any other."""
    if src.encoding != "auto":
        return src.encoding if src.encoding.replace("_", "-").lower() in _ENGINE_ENCODINGS else None
    head = _open_bytes(path, _SNIFF_BYTES)
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        (head if len(head) < _SNIFF_BYTES else head[:-4]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "utf-8"


def _engine_csv(path: Path, src: TableSource, info: dict[str, Any], *, limit: int, table: str, prefix: str
                ) -> dict[str, Any] | None:  # fmt: skip
    """What :func:`workbench.core.engine_intake.intake_resident` needs of a plain UTF-8 CSV with
    a header row and a one-character delimiter (sniffed as :func:`read_raw` does); None for
    another CSV, or one too small to hold more than ``limit`` rows."""
    enc = _engine_encoding(path, src) if src.header and src.sep != "whitespace" else None
    if enc is None:
        return None
    kw = _csv_options(src, enc, src.sep)
    sniffed = _sniff_sep(path, src, kw, table=table, params_prefix=prefix)
    if sniffed is not None:
        kw = _csv_options(src, enc, sniffed)
        info["sep"] = sniffed
    if len(str(kw["sep"])) != 1:
        return None
    names = [str(c) for c in pd.read_csv(path, **{**kw, "nrows": 0}).columns]
    if _text_bytes(path, info["bytes"]) < (limit + 2) * max(len(names), 1):  # each row has a byte per field
        return None
    _check_duplicate_headers(pd.DataFrame(columns=names), _csv_header(path, kw), src, path=path, table=table,
                             params_prefix=prefix)  # fmt: skip
    info["encoding"] = enc
    return {"source": csv_source_sql(path, sep=kw["sep"], columns=names)}


def _text_bytes(path: Path, size: int) -> float:
    """Bytes of a CSV's text, or an upper bound: a gzip file's size from its trailer when the
    file is too small to hold 4 GiB of text (deflate packs at most 1,032 bytes into one), so a
    small ``.gz`` is never staged in the engine just to count its rows; else infinity."""
    if path.suffix.lower() != ".gz":
        return float(size)
    if size < 18 or size * 1032 >= 2**32:
        return float("inf")
    with path.open("rb") as fh:
        fh.seek(-4, 2)
        return float(int.from_bytes(fh.read(4), "little"))


def _load_resident(name: str, src: TableSource, params: DatasetParams, *, path: Path, prefix: str,
                   out_dir: Path) -> LoadedTable | None:  # fmt: skip
    """The table kept in the engine (:mod:`workbench.core.engine_intake`) when it is a Parquet
    file, a DuckDB table or a plain UTF-8 CSV with more than ``engine.resident_rows`` rows; None
    to read it with pandas (its warnings are then left to that read)."""
    from workbench.core.engine_intake import Unresident

    if params.engine.resident_rows is None or name not in TABLES or not path.is_file():
        return None
    size = path.stat().st_size
    if size == 0:
        return None
    caught: list[warnings.WarningMessage] = []
    keep = False  # replay the warnings: the table is read (or stops) here, not by pandas
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = _try_resident(name, src, params, path=path, size=size, prefix=prefix, out_dir=out_dir)
        keep = got is not None
        return got
    except Unresident:
        return None
    except ContractError:
        keep = True
        raise
    finally:
        if keep:
            for w in caught:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _try_resident(name: str, src: TableSource, params: DatasetParams, *, path: Path, size: int, prefix: str,
                  out_dir: Path) -> LoadedTable | None:  # fmt: skip
    """:func:`_load_resident` once the file is known to exist (its warnings not yet replayed)."""
    from workbench.core.engine_intake import intake_resident

    fmt = _check_format(path, src, table=name, params_prefix=prefix)
    info: dict[str, Any] = {"path": str(path), "format": fmt, "bytes": size}
    csv = None
    if fmt == "csv":
        csv = _engine_csv(path, src, info, limit=params.engine.resident_rows or 0, table=name, prefix=prefix)
        if csv is None:
            return None
    elif fmt == "duckdb" and src.table:
        info["table"] = src.table
    elif fmt != "parquet":
        return None
    return intake_resident(fmt, path, src, params, table=name, prefix=prefix, info=info, out_dir=out_dir, csv=csv)


def load_tables(
    params: DatasetParams,
    names: Iterable[str] | None = None,
    *,
    scan: bool | None = None,
    resident_dir: Path | None = None,
) -> dict[str, LoadedTable]:
    """Read every table the params declare (or ``names`` of them) and apply the contract.

    Parameters
    ----------
    params : DatasetParams
        Validated params.
    names : iterable of str, optional
        Tables to load; default all tables in the params. Names not in the params raise.
    scan : bool, optional
        Whether DuckDB reads and parses CSV files (:mod:`workbench.core.scan`; same tables,
        reports and errors, far less time and memory on large files): None (default) for files
        from :data:`SCAN_MIN_BYTES` on, True for every CSV with a header row and a one-character
        delimiter, False never.
    resident_dir : Path, optional
        Keep large tables in the engine: a Parquet file, DuckDB table or plain UTF-8 CSV with
        more than ``engine.resident_rows`` rows is mapped, typed and checked in DuckDB
        (:mod:`workbench.core.engine_intake`; same reports, warnings and errors) and written to
        ``resident_dir/<table>.raw.parquet``; its ``frame`` is then a
        :class:`~workbench.core.resident.ResidentFrame`. Other sources (GBK, Excel ...) and
        tables the engine cannot take as pandas would are read as without it.

    Returns
    -------
    dict of str to LoadedTable

    Raises
    ------
    ContractError
        For the first table that cannot be read, has no rows, or does not meet the contract.
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
        if resident_dir is not None:
            kept = _load_resident(name, src, params, path=path, prefix=prefix, out_dir=Path(resident_dir))
            if kept is not None:
                out[name] = kept
                continue
        raw, info = read_raw(src, path=path, table=name, params_prefix=prefix,
                             scan=_scan_request(name, src, params, scan))  # fmt: skip
        try:
            out[name] = _apply(raw, info, name, src, params, path=path, prefix=prefix)
        finally:
            if isinstance(raw, ScannedTable):
                raw.close()
    return out


def _apply(
    raw: pd.DataFrame | ScannedTable, info: dict[str, Any], name: str, src: TableSource, params: DatasetParams,
    *, path: Path, prefix: str,
) -> LoadedTable:
    """Stop on a table without rows, else apply the contract to it."""
    if len(raw) == 0:
        what = "has a header but no rows" if info["columns"] else "has no header and no rows"
        raise ContractError(
            name,
            f"file {path} {what} ({info['columns']} columns, 0 rows); every table in the params "
            f"needs data: export the rows too, or remove {prefix} if the analyses do not need "
            f"this table",
            params_key=f"{prefix}.path",
        )
    return apply_contract(
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
        currency=params.currency,
    )



def write_excel_csv(frame: pd.DataFrame, path: Path | str, *, index: bool = False) -> Path:
    """Write ``frame`` as CSV in UTF-8 with a BOM, so Excel opens Chinese text.

    Arrow's C++ writer does the work (about ten times pandas' ``to_csv`` on a million customers);
    strings are quoted, flags written ``true``/``false``, missing values left empty. A frame
    Arrow cannot hold (an object column of mixed types, nested values) goes through pandas.

    Parameters
    ----------
    frame : pandas.DataFrame
        Flat columns.
    path : Path or str
        Destination (overwritten).
    index : bool, default False
        Write the index as leading columns.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile
    >>> p = write_excel_csv(pd.DataFrame({"客户": ["甲", None], "n": [1, 2]}), Path(tempfile.mkdtemp()) / "t.csv")
    >>> p.read_bytes()[:3] == codecs.BOM_UTF8, pd.read_csv(p, encoding="utf-8-sig")["客户"].tolist()
    (True, ['甲', nan])
    """
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    path = Path(path)
    try:
        table = pa.Table.from_pandas(frame.reset_index() if index else frame, preserve_index=False)
        with path.open("wb") as fh:
            fh.write(codecs.BOM_UTF8)
            pa_csv.write_csv(table, fh, pa_csv.WriteOptions(quoting_style="needed"))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        frame.to_csv(path, index=index, encoding="utf-8-sig")
    return path
