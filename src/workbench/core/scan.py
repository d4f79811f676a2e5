"""Intake of large plain CSV files through DuckDB, in bounded memory.

:func:`scan_csv` lets DuckDB read a CSV (every value as text, exactly as ``pandas.read_csv`` with
``dtype=str`` reads it) and does the cheap strict parse of each mapped column in SQL: trimmed text
with placeholders as missing, plain numbers, ISO dates (``2024-03-05[ 14:22[:05]]``) and yes/no
words. A value the strict parse does not take (``2024/3/5``, ``2024年03月05日``, ``￥1,234.50``,
``(12.00)``, ``2999-01-01``, text that is no date at all) is a *leftover*: its raw text comes back
to pandas, one batch of rows at a time, and goes through the contract's own parser
(:func:`workbench.core.contract._parse_column`), so values, counts, examples, warnings and errors
are those of the pandas intake. pandas only ever holds the typed columns and the leftovers, never
the raw text of every column.

A CSV in another encoding (GBK/GB18030 ...) is first copied to a temporary UTF-8 file, a block at
a time. What DuckDB cannot read as the pandas intake would (a row with more or fewer fields, a
stray quote) raises :class:`ScanUnsupported`, and the caller reads the file with pandas instead.

The result is a :class:`ScannedTable`, which :func:`workbench.core.contract.apply_contract`
takes in place of a DataFrame.
"""

from __future__ import annotations

import codecs
import gzip
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["BATCH_ROWS", "ScanUnsupported", "ScannedTable", "csv_source_sql", "scan_csv"]

BATCH_ROWS = 1_000_000
#: DuckDB memory of one scan (its buffers; the typed frame is pandas').
SCAN_MEMORY_LIMIT = "512MB"
"""Rows per batch streamed from DuckDB (the leftovers of one batch are parsed together)."""

_NULL_SENTINEL = "\x01\x02workbench-no-null\x02\x01"  # keeps empty fields as '' (pandas' na_filter=False)
_OK, _BLANK, _LEFT = 0, 1, 2
_TEXT_TYPES = ("id", "category", "text")


class ScanUnsupported(Exception):
    """DuckDB cannot read this file the way the pandas intake does; read it with pandas."""


@cache
def _whitespace() -> str:
    """The characters ``str.strip`` removes (what :func:`workbench.core.parsing.clean_text` strips)."""
    return "".join(chr(i) for i in range(0x3001) if chr(i).isspace())


def _lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _ident(name: str) -> str:
    """A SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


@dataclass
class _Plan:
    """How one mapped column is scanned: the SQL of its strict candidate value.

    The scan query has three levels: ``r{i}`` raw text and ``c{i}`` cleaned text; then ``b{i}``
    (blank or placeholder) and ``x{i}`` (the strict parse, NULL where it does not take the
    value); then the typed value, the status (0 ok, 1 blank, 2 leftover), the placeholder text
    and the raw text of a leftover.
    """

    header: str
    type: str
    candidate: str  # strict parse of c{i}; NULL when not taken
    word_wins: bool = False  # bool: a yes/no word is a value even when it is a placeholder (无)


def _clean_sql(col: str) -> str:
    """``clean_text`` in SQL: strip, full-width spaces to spaces, strip again. The full clean
    (slow in DuckDB with its set of characters) runs only on a value that may need it: one
    starting or ending with a control character, a space or a Unicode space, or holding a
    full-width space."""
    ws = _lit(_whitespace())
    codes = ", ".join(str(ord(ch)) for ch in _whitespace() if ord(ch) > 32)
    edge = f"(ord({col}) <= 32 OR ord({col}) IN ({codes}) OR ord(right({col}, 1)) <= 32 OR ord(right({col}, 1)) IN ({codes}))"
    full = f"trim(replace(trim({col}, {ws}), '\u3000', ' '), {ws})"
    return f"CASE WHEN {edge} OR contains({col}, '\u3000') THEN {full} ELSE {col} END"


def _plan_column(header: str, i: int, spec_type: str, *, options: Mapping[str, Any]) -> _Plan:
    """The strict candidate of one column (``c{i}`` is its cleaned text)."""
    c = f"c{i}"
    if spec_type in _TEXT_TYPES:
        return _Plan(header, spec_type, c)
    if spec_type in ("money", "number"):
        # plain decimals of at most 15 characters: DuckDB and pandas read them to the same double
        plain = f"length({c}) <= 15 AND regexp_full_match({c}, '-?[0-9]*\\.?[0-9]*')"
        return _Plan(header, spec_type, f"CASE WHEN {plain} THEN TRY_CAST({c} AS DOUBLE) END")
    if spec_type == "datetime":
        if options.get("date_format"):  # the analyst's format goes first: pandas parses every value
            return _Plan(header, spec_type, "NULL::TIMESTAMP")
        parse = (f"CASE length({c}) WHEN 19 THEN try_strptime({c}, '%Y-%m-%d %H:%M:%S') "
                 f"WHEN 16 THEN try_strptime({c}, '%Y-%m-%d %H:%M') WHEN 10 THEN try_strptime({c}, '%Y-%m-%d') END")  # fmt: skip
        # ISO shape only (fixed positions), and years far inside what datetime64[ns] holds
        iso = f"substr({c}, 5, 1) = '-' AND substr({c}, 8, 1) = '-' AND substr({c}, 1, 4) BETWEEN '1700' AND '2199'"
        return _Plan(header, spec_type, f"CASE WHEN {iso} THEN {parse} END")
    if spec_type == "bool":
        from workbench.core.parsing import DEFAULT_FALSE_VALUES, DEFAULT_TRUE_VALUES

        tv = _in_sql(sorted({str(v).lower() for v in options.get("true_values") or DEFAULT_TRUE_VALUES}))
        fv = _in_sql(sorted({str(v).lower() for v in options.get("false_values") or DEFAULT_FALSE_VALUES}))
        plain = f"(strlen({c}) = length({c}) OR lower({c}) = {c})"  # ASCII or without case
        value = (f"CASE WHEN {plain} AND lower({c}) IN {tv} THEN TRUE "
                 f"WHEN {plain} AND lower({c}) IN {fv} THEN FALSE END")  # fmt: skip
        return _Plan(header, spec_type, value, word_wins=True)
    raise ValueError(f"unknown column type {spec_type!r}")  # pragma: no cover - guarded by the contract


def _in_sql(values: Sequence[str]) -> str:
    """``(...)`` list for ``IN`` (never empty)."""
    return "(" + ", ".join(_lit(v) for v in values) + ")" if values else "(NULL)"


def _scan_sql(source: str, plans: Sequence[_Plan], placeholders: Sequence[str], keep: Sequence[str] = ()) -> str:
    """The scan query over ``source`` (see :class:`_Plan`).

    Per column it returns ``v{i}`` (the typed value), ``s{i}`` (0 ok, 1 missing or empty,
    2 leftover, ``3 + k`` the k-th placeholder: blank unless a yes/no word took it) and ``l{i}``
    (the raw text of a leftover, else NULL); the columns ``keep`` of ``source`` pass through
    (first).
    """
    kept = "".join(f"{_ident(k)}, " for k in keep)
    if not plans:
        return f"SELECT {kept}1 AS one FROM {source}"
    ph = [str(p) for p in placeholders]
    in_ph = _in_sql(ph)
    phs = "[" + ", ".join(_lit(p) for p in ph) + "]"
    # a value can only be a placeholder when its first character starts one (ord('') is -1):
    # one integer test spares most values the comparison with every placeholder
    firsts = ", ".join(sorted({str(ord(p[0])) if p else "-1" for p in ph}))
    is_ph = (lambda i: f"(ord(c{i}) IN ({firsts}) AND c{i} IN {in_ph})") if ph else (lambda i: "FALSE")
    level1 = ", ".join(f"{_ident(p.header)} AS r{i}, {_clean_sql(_ident(p.header))} AS c{i}" for i, p in enumerate(plans))
    level2 = ", ".join(f"r{i}, c{i}, (c{i} IS NULL OR {is_ph(i)}) AS b{i}, {p.candidate} AS x{i}"
                       for i, p in enumerate(plans))  # fmt: skip
    kind = "UTINYINT" if len(ph) < 250 else "USMALLINT"
    parts = []
    for i, p in enumerate(plans):
        which = f"CASE WHEN c{i} IS NULL OR c{i} = '' THEN {_BLANK} ELSE 2 + list_position({phs}, c{i}) END"
        if p.word_wins:
            value = f"x{i}"
            status = f"CASE WHEN b{i} THEN {which} WHEN x{i} IS NOT NULL THEN {_OK} ELSE {_LEFT} END"
        else:
            value = f"CASE WHEN NOT b{i} THEN x{i} END"
            status = f"CASE WHEN b{i} THEN {which} WHEN x{i} IS NOT NULL THEN {_OK} ELSE {_LEFT} END"
        parts.append(f"{value} AS v{i}, ({status})::{kind} AS s{i}, "
                     f"CASE WHEN x{i} IS NULL AND NOT b{i} THEN r{i} END AS l{i}")  # fmt: skip
    return f"SELECT {kept}{', '.join(parts)} FROM (SELECT {kept}{level2} FROM (SELECT {kept}{level1} FROM {source}))"


@dataclass
class _Column:
    """One scanned column, gathered batch by batch."""

    plan: _Plan
    values: list[Any] = field(default_factory=list)  # arrow chunks of the typed values
    status: list[np.ndarray] = field(default_factory=list)  # per batch: blank or placeholder, bit-packed
    sizes: list[range] = field(default_factory=list)  # rows per batch
    counts: dict[str, int] = field(default_factory=dict)
    left_pos: list[np.ndarray] = field(default_factory=list)
    left_raw: list[pd.Series] = field(default_factory=list)
    left_parsed: list[Any] = field(default_factory=list)  # contract._Parsed of each batch's leftovers


def _raw_dtype() -> pd.StringDtype:
    """The dtype ``pandas.read_csv(dtype=str)`` gives text columns."""
    return pd.StringDtype("pyarrow", na_value=np.nan)


def _to_text(arr: Any, dtype: Any) -> pd.Series:
    """An Arrow string array as a pandas Series of ``dtype``."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks == 0:
        arr = pa.array([], type=pa.large_string())
    if arr.type != pa.large_string():  # pandas' Arrow strings are large_string
        arr = arr.cast(pa.large_string())
    return pd.Series(arr.to_pandas(types_mapper={pa.large_string(): dtype}.get), dtype=dtype)


def _null_text(n: int, dtype: Any) -> pd.Series:
    """``n`` missing values of a text ``dtype`` (built by Arrow: far faster than pandas' repeat)."""
    import pyarrow as pa

    return _to_text(pa.nulls(n, pa.large_string()), dtype)


class ScannedTable:
    """A CSV read by DuckDB, standing in for the raw DataFrame of the pandas intake.

    It offers what :func:`workbench.core.contract.apply_contract` uses of a raw table:
    ``columns``, ``index``, ``shape``, ``len()``, ``table[header]`` (the raw text of one column,
    read again from the file) and :meth:`parse_column` (the parse of a mapped column, done in the
    scan).

    Attributes
    ----------
    columns : pandas.Index
        Headers as pandas names them (``amount.1`` for a repeat, ``Unnamed: 3`` for a blank one).
    """

    def __init__(self, con: Any, source_sql: str, columns: list[str], n_rows: int,
                 parsed: dict[tuple[str, str], _Column], tmpdir: Path | None) -> None:  # fmt: skip
        self._con = con
        self._source_sql = source_sql
        self.columns = pd.Index(columns, dtype=object)
        self._n = n_rows
        self._parsed = parsed
        self._tmpdir = tmpdir

    def __len__(self) -> int:
        return self._n

    @property
    def index(self) -> pd.RangeIndex:
        """Row positions ``0 .. n-1``."""
        return pd.RangeIndex(self._n)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return self._n, len(self.columns)

    def __getitem__(self, header: str) -> pd.Series:
        """The raw text of one column, as ``pandas.read_csv(dtype=str)`` gives it."""
        if header not in self.columns:
            raise KeyError(header)
        arr = self._con.sql(f"SELECT {_ident(header)} FROM {self._source_sql}").to_arrow_table().column(0)
        return _to_text(arr, _raw_dtype()).rename(header)

    def parse_column(self, header: str, spec_type: str, *, opts: Mapping[str, Any],
                     placeholders: Sequence[str]) -> tuple[Any, pd.Series]:  # fmt: skip
        """The parse of a mapped column and its raw text where the parse needed it.

        Returns
        -------
        parsed : workbench.core.contract._Parsed
            As :func:`workbench.core.contract._parse_column` returns it for the whole column.
        raw : pandas.Series
            Raw text of the leftover rows (every row that is unparseable, out of range or carries
            a currency marker), indexed by row position; the checks look at no other row.
        """
        got = self._parsed.pop((header, spec_type), None)  # assembled once, then let go
        if got is None:
            from workbench.core.contract import _parse_column

            raw = self[header]
            return _parse_column(raw, spec_type, opts=opts, placeholders=placeholders), raw
        return _assemble(got, self._n)

    def close(self) -> None:
        """Close the DuckDB connection and remove the temporary UTF-8 copy, if any."""
        self._con.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None


def _utf8_copy(path: Path, encoding: str, folder: Path) -> Path:
    """Copy a CSV in ``encoding`` (gzip allowed) to a UTF-8 file in ``folder``, a block at a time.

    Raises
    ------
    UnicodeDecodeError
        The file is not valid ``encoding``.
    """
    out = folder / "utf8.csv"
    opener = gzip.open if path.suffix == ".gz" else open
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    with opener(path, "rb") as src, open(out, "w", encoding="utf-8", newline="") as dst:
        while block := src.read(16 * 1024 * 1024):
            dst.write(decoder.decode(block))
        dst.write(decoder.decode(b"", final=True))
    return out


def csv_source_sql(path: Path, *, sep: str, columns: Sequence[str]) -> str:
    """The DuckDB ``read_csv`` of a UTF-8 CSV (gzip allowed) with a header row: every field as
    text, as ``pandas.read_csv(dtype=str, keep_default_na=False)`` reads it (empty fields stay
    ``''``), and an error on a row with other field counts or a stray quote.

    Parameters
    ----------
    path : Path
        The file.
    sep : str
        One-character delimiter.
    columns : sequence of str
        The header row as pandas names it.
    """
    spec = "{" + ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in columns) + "}"
    return (f"read_csv({_lit(str(path))}, header=true, auto_detect=false, delim={_lit(sep)}, "
            f"quote='\"', escape='\"', nullstr={_lit(_NULL_SENTINEL)}, columns={spec}, "
            f"compression='auto', strict_mode=true)")  # fmt: skip


def scan_csv(
    path: Path,
    *,
    encoding: str,
    sep: str,
    columns: list[str],
    plan: Sequence[tuple[str, str]],
    placeholders: Sequence[str],
    options: Mapping[str, Any],
    batch_rows: int | None = None,
    threads: int | None = None,
) -> ScannedTable:
    """Read a CSV with DuckDB and parse the planned columns (strict SQL, then the contract's
    parser for the leftovers, batch by batch).

    Parameters
    ----------
    path : Path
        CSV or CSV.GZ file with a header row.
    encoding : str
        Python codec of the file; anything but UTF-8 is copied to a temporary UTF-8 file first.
    sep : str
        One-character delimiter.
    columns : list of str
        The header row as pandas names it (the number of fields of every row).
    plan : sequence of (str, str)
        Header and contract type of each mapped column to parse.
    placeholders : sequence of str
        Texts meaning "no value".
    options : mapping
        ``date_format``, ``true_values``, ``false_values``.
    batch_rows : int, optional
        Rows per streamed batch (default :data:`BATCH_ROWS`).
    threads : int, optional
        DuckDB threads (default: DuckDB's, one per core).

    Returns
    -------
    ScannedTable

    Raises
    ------
    ScanUnsupported
        DuckDB cannot read the file as pandas would (rows with other field counts, stray
        quotes, invalid text): the caller reads it with pandas, which gives today's error.
    """
    import duckdb

    tmpdir: Path | None = None
    target = path
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf-8-sig", "utf8", "ascii"):
        tmpdir = Path(tempfile.mkdtemp(prefix="workbench-scan-"))
        try:
            target = _utf8_copy(path, encoding, tmpdir)
        except (UnicodeDecodeError, LookupError) as err:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise ScanUnsupported(str(err)) from None
    source = csv_source_sql(target, sep=sep, columns=columns)
    config: dict[str, Any] = {"memory_limit": SCAN_MEMORY_LIMIT}
    if threads:
        config["threads"] = threads
    # the scan streams: DuckDB needs buffers for a few batches, not the file (its default, 80 % of
    # the machine, let it cache about 0.9 GB beside the typed frame at 10M rows)
    con = duckdb.connect(config=config)
    con.execute("SET arrow_large_buffer_size = true")  # large_string: what pandas' Arrow strings hold
    plans = [_plan_column(h, i, t, options=options) for i, (h, t) in enumerate(dict.fromkeys(plan))]
    try:
        n, cols = _stream(con, source, plans, batch_rows or BATCH_ROWS, placeholders, options)
    except (duckdb.Error, UnicodeDecodeError) as err:
        con.close()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise ScanUnsupported(str(err).splitlines()[0]) from None
    parsed = {(c.plan.header, c.plan.type): c for c in cols}
    return ScannedTable(con, source, columns, n, parsed, tmpdir)


def _stream(con: Any, source: str, plans: list[_Plan], batch_rows: int,
            placeholders: Sequence[str], options: Mapping[str, Any]) -> tuple[int, list[_Column]]:  # fmt: skip
    """Run the scan query and gather each column batch by batch; return rows and columns.

    Each batch's typed values are copied out of it (DuckDB's Arrow batch lives as long as any of
    its columns), its statuses kept, its placeholders counted and its leftovers parsed by the
    contract's parser.
    """
    import pyarrow as pa

    from workbench.core.contract import _parse_column

    sql = _scan_sql(source, plans, placeholders)
    reader = con.sql(sql).to_arrow_reader(batch_rows)
    cols = [_Column(p) for p in plans]
    ph = [str(p) for p in placeholders]
    n = 0
    for batch in reader:
        rows = batch.num_rows
        for i, col in enumerate(cols):
            col.values.append(pa.concat_arrays([batch.column(f"v{i}")]))  # a copy: frees the batch
            col.sizes.append(range(rows))
            status = batch.column(f"s{i}").to_numpy(zero_copy_only=False)
            col.status.append(np.packbits((status == _BLANK) | (status > _LEFT)))  # blank unless a word took it
            hits = np.bincount(status, minlength=3 + len(ph))[3:]
            for k in np.flatnonzero(hits):
                col.counts[ph[k]] = col.counts.get(ph[k], 0) + int(hits[k])
            left = np.flatnonzero(status == _LEFT)
            if len(left):
                raw = _to_text(batch.column(f"l{i}").take(pa.array(left)), _raw_dtype())
                raw.index = pd.Index(left + n)
                col.left_pos.append(left + n)
                col.left_raw.append(raw)
                col.left_parsed.append(_parse_column(raw, col.plan.type, opts=options, placeholders=placeholders))
        n += rows
    return n, cols


def _typed(col: _Column) -> pd.Series:
    """The typed values of a column, every batch together, in the dtype the pandas intake gives."""
    import pyarrow as pa

    kind = col.plan.type
    arrow_type = {"money": pa.float64(), "number": pa.float64(), "datetime": pa.timestamp("us"),
                  "bool": pa.bool_()}.get(kind, pa.large_string())  # fmt: skip
    arr = pa.chunked_array([c for c in col.values if len(c)], type=arrow_type)
    col.values.clear()
    if kind in _TEXT_TYPES:
        return _to_text(arr, pd.StringDtype())
    if kind in ("money", "number"):
        return pd.Series(arr.to_numpy(), dtype="float64")
    if kind == "datetime":
        return pd.Series(arr.to_numpy(), dtype="datetime64[us]").astype("datetime64[ns]")
    return pd.Series(arr.to_pandas(types_mapper={pa.bool_(): pd.BooleanDtype()}.get), dtype="boolean")


def _assemble(col: _Column, n: int) -> tuple[Any, pd.Series]:
    """The column's ``_Parsed`` and raw text: SQL results, the leftovers' parse put in.

    The raw text holds the leftover rows only (indexed by row position): the checks look at no
    other rows. The currency markers are only made when a leftover carries one.
    """
    from workbench.core.contract import _Parsed

    index = pd.RangeIndex(n)
    values = _typed(col).set_axis(index)
    blank = np.concatenate([np.unpackbits(b, count=len(v)).astype(bool) for b, v in zip(col.status, col.sizes, strict=True)]
                           ) if col.status else np.zeros(0, dtype=bool)  # fmt: skip
    col.status.clear()
    blank &= values.isna().to_numpy()
    bad = np.zeros(n, dtype=bool)
    oor = np.zeros(n, dtype=bool) if col.plan.type == "datetime" else None
    currency = None
    if col.plan.type == "money" and any(g.currency is not None and g.currency.notna().any() for g in col.left_parsed):
        currency = _null_text(n, pd.StringDtype()).set_axis(index)
    counts = dict(sorted(col.counts.items(), key=lambda kv: -kv[1]))
    for pos, got in zip(col.left_pos, col.left_parsed, strict=True):
        values.iloc[pos] = got.values.to_numpy()
        blank[pos] = got.blank.to_numpy(dtype=bool)
        bad[pos] = got.bad.to_numpy(dtype=bool)
        if oor is not None and got.out_of_range is not None:
            oor[pos] = got.out_of_range.to_numpy(dtype=bool)
        if currency is not None and got.currency is not None:
            currency.iloc[pos] = got.currency.to_numpy()
        for k, v in got.counts.items():
            counts[k] = counts.get(k, 0) + v
    raw = pd.concat(col.left_raw) if col.left_raw else pd.Series([], index=pd.Index([], dtype="int64"), dtype=_raw_dtype())
    col.left_raw.clear()
    col.left_parsed.clear()
    parsed = _Parsed(values, pd.Series(blank, index=index), pd.Series(bad, index=index), counts,
                     None if oor is None else pd.Series(oor, index=index), currency)  # fmt: skip
    return parsed, raw
