"""Intake of large tables in the engine: contract mapping, typing and checks in DuckDB, the typed
table written straight to Parquet, never a pandas frame of the table.

:func:`intake_resident` takes a Parquet file, a DuckDB database table or a plain UTF-8 CSV (read
as :func:`workbench.core.scan.csv_source_sql` reads it: every field as text), counts its rows
cheaply (Parquet footer, DuckDB count, the CSV's staging copy) and, above
``engine.resident_rows``, runs the contract there:

* mapped text columns go through the strict SQL parse of :mod:`workbench.core.scan` (its
  :func:`~workbench.core.scan._plan_column` plans, its :func:`~workbench.core.scan._scan_sql`
  query); columns the source already types (numbers, timestamps, flags) are taken as the pandas
  parsers take them;
* a value the strict parse does not take (a *leftover*: ``2024/3/5``, ``￥1,234.50``,
  ``2999-01-01``, text that is no date) is streamed to pandas with the other leftovers, one batch
  of rows at a time, and parsed by the contract's own parser
  (:func:`workbench.core.contract._parse_column`); its value goes back to the engine in a small
  table (row -> value, out-of-range text) joined in the final query;
* the checks are the contract's (:func:`workbench.core.contract.judge_column` on the
  :class:`~workbench.core.contract.ColumnFacts` of the SQL counts and the leftovers), so reports,
  warnings and errors are those of the pandas intake;
* the typed table is written by ``COPY ... (FORMAT parquet)`` to ``<dir>/<table>.raw.parquet``
  (microsecond timestamps).

What the engine cannot take as the pandas intake would (a CSV DuckDB cannot read strictly, a
column type without an engine rule, unmapped columns to infer) gives None: the caller reads the
table with pandas as before.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.contract import (
    TABLES,
    ColumnFacts,
    ColumnReport,
    ColumnSpec,
    LoadedTable,
    TableSpec,
    _parse_column,
    _step_check_mapping,
    _step_constant_column,
    column_facts,
    judge_column,
    out_of_range_column,
)
from workbench.core.errors import example_values
from workbench.core.parsing import DATETIME_RANGE
from workbench.core.resident import ENGINE_MEMORY_LIMIT, ResidentFrame, duckdb_connection
from workbench.core.scan import (
    BATCH_ROWS,
    _ident,
    _lit,
    _Plan,
    _plan_column,
    _raw_dtype,
    _scan_sql,
    _to_text,
)

__all__ = ["RESIDENT_SUFFIX", "ENGINE_MEMORY_LIMIT", "Unresident", "intake_resident"]

RESIDENT_SUFFIX = ".raw.parquet"
"""File name ending of a resident table written by intake (``orders.raw.parquet``)."""


_ROW = "__workbench_row"
_INT_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_NUM_TYPES = _INT_TYPES + ("FLOAT", "DOUBLE", "REAL")
_TIME_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATE", "TIMESTAMP WITH TIME ZONE")
_SQL_TYPES = {"money": "DOUBLE", "number": "DOUBLE", "datetime": "TIMESTAMP", "bool": "BOOLEAN"}


class Unresident(Exception):
    """The engine cannot take this table as the pandas intake would: read it with pandas."""


@dataclass
class _Source:
    """An open source: connection, relation (row number first), headers and their types."""

    con: Any
    relation: str
    types: dict[str, str]
    rows: int
    scratch: Path


@dataclass
class _Mapped:
    """One mapped column in the engine: its plan index, contract column and header."""

    i: int
    col: ColumnSpec
    header: str
    plan: _Plan | None  # None: a column the source types (its SQL is in ``typed``)
    typed: str | None = None
    facts: ColumnFacts | None = None
    fixed: bool = False  # has leftovers: its values are joined from fix{i}
    report: ColumnReport | None = None


@dataclass
class _Job:
    """Everything one resident intake needs."""

    table: str
    spec: TableSpec
    src: Any  # TableSource
    placeholders: tuple[str, ...]
    options: dict[str, Any]
    prefix: str
    mapped: list[_Mapped] = field(default_factory=list)


def _sql_type(duck: str) -> str:
    """A DuckDB type name without its parameters (``DECIMAL(18,2)`` -> ``DECIMAL``)."""
    return duck.split("(")[0].strip().upper()


def _connect(scratch: Path, *, threads: int | None, memory_limit: str | None) -> Any:
    """A staging DuckDB in ``scratch`` that spills there too."""
    return duckdb_connection(scratch / "staging.duckdb", threads=threads, memory_limit=memory_limit,
                             temp_directory=scratch / "spill")


def _open_source(fmt: str, path: Path, src: Any, *, csv: Mapping[str, Any] | None, limit: int,
                 scratch: Path, engine: Any) -> _Source | None:  # fmt: skip
    """Open the source in DuckDB with a row number; None when it has ``limit`` rows or fewer.

    Raises
    ------
    Unresident
        DuckDB cannot read it as the pandas intake does.
    """
    import duckdb

    if fmt == "parquet" and path.is_file():
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(path).metadata.num_rows
        if rows <= limit:
            return None
        index = [c for c in (pq.read_schema(path).pandas_metadata or {}).get("index_columns", []) if isinstance(c, str)]
        con = _connect(scratch, threads=engine.threads, memory_limit=engine.memory_limit)
        drop = ", ".join(_ident(c) for c in ["file_row_number", *index])
        relation = (f"(SELECT file_row_number AS {_ROW}, * EXCLUDE ({drop}) "
                    f"FROM read_parquet({_lit(str(path))}, file_row_number = true))")  # fmt: skip
    elif fmt == "duckdb" and src.table:
        con = _connect(scratch, threads=engine.threads, memory_limit=engine.memory_limit)
        con.execute(f"ATTACH {_lit(str(path))} AS src (READ_ONLY)")
        base = f"src.{_ident(src.table)}"
        try:
            rows = con.execute(f"SELECT count(*) FROM {base}").fetchall()[0][0]
        except duckdb.Error as err:
            con.close()
            raise Unresident(str(err).splitlines()[0]) from None
        relation = f"(SELECT rowid AS {_ROW}, * FROM {base})"
        if rows <= limit:
            con.close()
            return None
    elif fmt == "csv" and csv is not None:
        con = _connect(scratch, threads=engine.threads, memory_limit=engine.memory_limit)
        try:  # a staging copy in read order: rowid is the row number
            con.execute(f"CREATE TABLE raw AS SELECT * FROM {csv['source']}")
        except (duckdb.Error, UnicodeDecodeError) as err:
            con.close()
            raise Unresident(str(err).splitlines()[0]) from None
        rows = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
        if rows <= limit:
            con.close()
            return None
        relation = f"(SELECT rowid AS {_ROW}, * FROM raw)"
    else:
        raise Unresident(f"format {fmt}")
    try:
        desc = con.execute(f"DESCRIBE SELECT * EXCLUDE ({_ROW}) FROM {relation}").fetchall()
    except duckdb.Error as err:
        con.close()
        raise Unresident(str(err).splitlines()[0]) from None
    return _Source(con, relation, {str(r[0]): str(r[1]) for r in desc}, int(rows), scratch)


def _typed_sql(header: str, kind: str, duck: str) -> tuple[str, str] | None:
    """``(value SQL, text SQL)`` of a column the source types, as the pandas parsers take it
    (None when they would read it through its text: cast to VARCHAR first)."""
    t, h = _sql_type(duck), _ident(header)
    if kind in ("money", "number") and (t in _NUM_TYPES or t == "DECIMAL" or (kind == "number" and t == "BOOLEAN")):
        return f"CASE WHEN isnan(CAST({h} AS DOUBLE)) THEN NULL ELSE CAST({h} AS DOUBLE) END", f"CAST({h} AS VARCHAR)"
    if kind == "datetime" and t in _TIME_TYPES:
        return f"CAST({h} AS TIMESTAMP)", f"CAST(CAST({h} AS TIMESTAMP) AS VARCHAR)"
    if kind == "bool" and t == "BOOLEAN":
        return h, f"CAST({h} AS VARCHAR)"
    return None


def _plan_all(job: _Job, source: _Source) -> str:
    """The parsed relation: the row number and ``v/s/l`` per mapped column (see
    :func:`workbench.core.scan._scan_sql`).

    Raises
    ------
    Unresident
        A mapped column whose source type has no engine rule.
    """
    columns = job.src.columns
    text_cols: list[str] = []  # the projection the strict text plans read
    plans: list[_Plan] = []
    typed: list[str] = []
    for col in job.spec.columns:
        header = columns.get(col.name)
        if header is None or header == "@index":
            continue
        duck = source.types[header]
        i = len(job.mapped)
        got = None if _sql_type(duck) == "VARCHAR" else _typed_sql(header, col.type, duck)
        if got is not None:
            value, text = got
            lo, hi = _lit(str(DATETIME_RANGE[0].ceil("us"))), _lit(str(DATETIME_RANGE[1].floor("us")))
            oor = f"({value}) NOT BETWEEN TIMESTAMP {lo} AND TIMESTAMP {hi}" if col.type == "datetime" else "FALSE"
            typed.append(f"CASE WHEN {oor} THEN NULL ELSE {value} END AS v{i}, "
                         f"(CASE WHEN ({value}) IS NULL THEN 1 WHEN {oor} THEN 2 ELSE 0 END)::UTINYINT AS s{i}, "
                         f"CASE WHEN {oor} THEN {text} END AS l{i}")  # fmt: skip
            job.mapped.append(_Mapped(i, col, header, None, typed=header))
            continue
        t = _sql_type(duck)
        if t != "VARCHAR" and not (t in _INT_TYPES and col.type in ("id", "category", "text", "bool")):
            raise Unresident(f"column {header!r} of type {duck} for a {col.type} column")
        alias = f"t{i}"
        text_cols.append(f"CAST({_ident(header)} AS VARCHAR) AS {alias}")
        plan = _plan_column(alias, len(plans), col.type, options=job.options)
        plans.append(plan)
        job.mapped.append(_Mapped(i, col, header, plan))
    keep = [_ROW] + sorted({m.typed for m in job.mapped if m.typed is not None})
    inner = f"(SELECT {', '.join([_ident(k) for k in keep] + text_cols)} FROM {source.relation})"
    scan = _scan_sql(inner, plans, job.placeholders, keep=keep)
    # rename the scan's v{k}/s{k}/l{k} (k = plan position) to the mapped index i
    renames = []
    k = 0
    for m in job.mapped:
        if m.plan is not None:
            renames.append(f"v{k} AS v{m.i}, s{k} AS s{m.i}, l{k} AS l{m.i}")
            k += 1
    select = ", ".join([_ident(_ROW)] + renames + typed)
    return f"SELECT {select} FROM ({scan})"


def _sql_facts(job: _Job, con: Any, n: int) -> None:
    """Each mapped column's :class:`ColumnFacts` from the SQL statuses (blank, placeholder
    counts); leftovers are added by :func:`_leftovers`."""
    aggs = []
    for m in job.mapped:
        aggs.append(f"histogram(s{m.i})")
        aggs.append(f"count(*) FILTER (WHERE s{m.i} > 2 AND v{m.i} IS NOT NULL)")  # a yes/no word took it
    row = con.execute(f"SELECT {', '.join(aggs)} FROM parsed").fetchall()[0] if aggs else ()
    ph = [str(p) for p in job.placeholders]
    for k, m in enumerate(job.mapped):
        hist = {int(s): int(c) for s, c in (row[2 * k] or {}).items()}
        taken = int(row[2 * k + 1])
        counts: dict[str, int] = {}
        for s, c in sorted(hist.items(), key=lambda kv: -kv[1]):
            if s > 2 and ph[s - 3] != "":
                counts[ph[s - 3]] = counts.get(ph[s - 3], 0) + c
        blank = hist.get(1, 0) + sum(c for s, c in hist.items() if s > 2) - taken
        m.facts = ColumnFacts(n, n_blank=blank, placeholders=counts)
        m.fixed = hist.get(2, 0) > 0


def _leftovers(job: _Job, con: Any, batch_rows: int) -> None:
    """Parse the leftovers with the contract's parser, one batch of rows at a time: add their
    facts, and put their values (and out-of-range text) in ``fix{i}`` tables."""
    import pyarrow as pa

    todo = [m for m in job.mapped if m.fixed]
    if not todo:
        return
    writer = con.cursor()  # the reader keeps ``con`` busy; the fix tables live in the staging file
    for m in todo:
        writer.execute(f"CREATE OR REPLACE TABLE fix{m.i} (r BIGINT, v {_SQL_TYPES[m.col.type]}, oor VARCHAR)")
    where = " OR ".join(f"s{m.i} = 2" for m in todo)
    cols = ", ".join(f"l{m.i}" for m in todo)
    reader = con.sql(f"SELECT {_ident(_ROW)}, {cols} FROM parsed WHERE {where}").to_arrow_reader(batch_rows)
    for batch in reader:
        rows = batch.column(0).to_numpy(zero_copy_only=False).astype(np.int64)
        for m in todo:
            arr = batch.column(f"l{m.i}")
            hit = np.flatnonzero(arr.is_valid().to_numpy(zero_copy_only=False))
            if not len(hit):
                continue
            pos = rows[hit]
            raw = _to_text(arr.take(pa.array(hit)), _raw_dtype()).set_axis(pd.Index(pos))
            parsed = _parse_column(raw, m.col.type, opts=job.options, placeholders=job.placeholders)
            assert m.facts is not None
            m.facts.merge(column_facts(parsed, raw, pos, n_rows=m.facts.n_rows))
            oor = parsed.out_of_range if parsed.out_of_range is not None else pd.Series(False, index=raw.index)
            keep = (parsed.values.notna() | oor).to_numpy(dtype=bool)
            if keep.any():
                fix = pa.table({"r": pa.array(pos[keep]), "v": pa.Array.from_pandas(parsed.values[keep]),
                                "oor": pa.Array.from_pandas(raw[keep].where(oor[keep]), type=pa.string())})  # fmt: skip
                writer.register("fix_batch", fix)
                writer.execute(f"INSERT INTO fix{m.i} SELECT r, CAST(v AS {_SQL_TYPES[m.col.type]}), oor FROM fix_batch")
                writer.unregister("fix_batch")
    writer.close()


def _raw_examples(con: Any, relation: str, header: str) -> list[Any]:
    """The first distinct raw values of a column, as ``raw[src].astype(str)`` shows them."""
    got = con.execute(f"SELECT r FROM (SELECT coalesce(CAST({_ident(header)} AS VARCHAR), 'nan') AS r, "
                      f"min({_ident(_ROW)}) AS m FROM {relation} GROUP BY 1) ORDER BY m LIMIT 5").fetchall()  # fmt: skip
    return example_values([r[0] for r in got])


def _constant_sql(job: _Job, col: ColumnSpec, value: Any, n: int) -> tuple[str, ColumnReport]:
    """The SQL literal of a constant column (parsed by the contract) and its report."""
    stub = pd.DataFrame(index=pd.RangeIndex(1))
    values, report = _step_constant_column(stub, job.spec, col, value, options=job.options)
    report.n_rows = n
    v = values.iloc[0]
    if pd.isna(v):
        lit = f"NULL::{_SQL_TYPES.get(col.type, 'VARCHAR')}"
    elif col.type == "datetime":
        lit = f"TIMESTAMP {_lit(pd.Timestamp(v).isoformat(sep=' '))}"
    elif col.type in ("money", "number"):
        lit = f"CAST({float(v)!r} AS DOUBLE)"
    elif col.type == "bool":
        lit = "TRUE" if bool(v) else "FALSE"
    else:
        lit = _lit(str(v))
    return lit, report


def _output_sql(job: _Job, n: int, index_cols: Sequence[str], constants: Mapping[str, tuple[str, ColumnReport]]
                ) -> tuple[str, list[ColumnReport]]:  # fmt: skip
    """The final query (canonical columns in contract order, then the out-of-range texts) and
    the column reports in the same order."""
    by_name = {m.col.name: m for m in job.mapped}
    select: list[str] = []
    reports: list[ColumnReport] = []
    joins: list[str] = []
    markers: list[str] = []
    for col in job.spec.columns:
        name = _ident(col.name)
        if col.name in index_cols:
            select.append(f"CAST(p.{_ident(_ROW)} + 1 AS VARCHAR) AS {name}")
            reports.append(ColumnReport(job.table, col.name, "@index", col.type, n))
        elif col.name in by_name:
            m = by_name[col.name]
            if m.fixed:
                joins.append(f"LEFT JOIN fix{m.i} f{m.i} ON f{m.i}.r = p.{_ident(_ROW)}")
                select.append(f"CASE WHEN p.s{m.i} = 2 THEN f{m.i}.v ELSE p.v{m.i} END AS {name}")
            else:
                select.append(f"p.v{m.i} AS {name}")
            assert m.report is not None
            reports.append(m.report)
            if m.report.n_out_of_range:
                markers.append(f"f{m.i}.oor AS {_ident(out_of_range_column(col.name))}")
        elif col.name in constants:
            lit, report = constants[col.name]
            select.append(f"{lit} AS {name}")
            reports.append(report)
    names = [r.column for r in reports]
    if job.table == "customers" and "marketing_opt_out" in names and "marketing_consent" not in names:
        select.append('NOT "marketing_opt_out" AS "marketing_consent"')
        reports.append(ColumnReport(job.table, "marketing_consent", "@not marketing_opt_out", "bool", n))
    order = f" ORDER BY p.{_ident(_ROW)}" if joins else ""
    sql = f"SELECT {', '.join(select + markers)} FROM parsed p {' '.join(joins)}{order}"
    return sql, reports


def intake_resident(
    fmt: str,
    path: Path,
    src: Any,
    params: Any,
    *,
    table: str,
    prefix: str,
    info: dict[str, Any],
    out_dir: Path,
    csv: Mapping[str, Any] | None = None,
    batch_rows: int | None = None,
) -> LoadedTable | None:
    """Map, type and check one table in DuckDB and write it to ``out_dir/<table>.raw.parquet``.

    Parameters
    ----------
    fmt : {'parquet', 'duckdb', 'csv'}
        The source's format (as :func:`workbench.core.io.read_raw` decides it).
    path : Path
        The source.
    src : TableSource
        Params of the table.
    params : DatasetParams
        The dataset params (placeholders, ``intake``, ``currency``, ``engine``).
    table, prefix : str
        Contract table name and its params key (``tables.orders``).
    info : dict
        The ``source`` of the result, as the pandas intake gives it (``rows``, ``columns`` are
        added).
    out_dir : Path
        Where the resident table is written.
    csv : mapping, optional
        For a CSV: ``source`` (the ``read_csv`` SQL).
    batch_rows : int, optional
        Leftover rows parsed per batch (default :data:`workbench.core.scan.BATCH_ROWS`).

    Returns
    -------
    LoadedTable or None
        None when the table has ``engine.resident_rows`` rows or fewer.

    Raises
    ------
    Unresident
        The engine cannot take the table as the pandas intake would.
    ContractError
        As the pandas intake raises it.
    """
    limit = params.engine.resident_rows
    if limit is None or table not in TABLES:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir / f".{table}.intake"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        source = _open_source(fmt, path, src, csv=csv, limit=limit, scratch=scratch, engine=params.engine)
        if source is None:
            return None
        try:
            return _run(source, src, params, table=table, prefix=prefix, info=info, out_dir=out_dir,
                        batch_rows=batch_rows or BATCH_ROWS)  # fmt: skip
        finally:
            source.con.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run(source: _Source, src: Any, params: Any, *, table: str, prefix: str, info: dict[str, Any],
         out_dir: Path, batch_rows: int) -> LoadedTable:  # fmt: skip
    """:func:`intake_resident` once the source is open and known to be large."""
    import duckdb

    spec = TABLES[table]
    job = _Job(table, spec, src, tuple(params.placeholders),
               {"date_format": src.date_format, "true_values": src.true_values, "false_values": src.false_values},
               prefix)  # fmt: skip
    headers = list(source.types)
    _step_check_mapping(pd.DataFrame(columns=headers), spec, columns=src.columns, constants=dict(src.constants or {}),
                        prefix=prefix)  # fmt: skip
    if src.keep_extra_columns and set(headers) - set(src.columns.values()):
        raise Unresident("unmapped columns to infer")
    n = source.rows
    con = source.con
    parsed_sql = _plan_all(job, source)
    try:
        con.execute(f"CREATE TEMP VIEW parsed AS {parsed_sql}")
        _sql_facts(job, con, n)
        _leftovers(job, con, batch_rows)
    except duckdb.Error as err:
        raise Unresident(str(err).splitlines()[0]) from None
    for m in job.mapped:
        assert m.facts is not None
        m.report = judge_column(m.facts, spec, m.col, m.header,
                                raw_examples=lambda h=m.header: _raw_examples(con, source.relation, h),
                                max_unparseable_share=params.intake.max_unparseable_share, prefix=prefix,
                                currency=params.currency)  # fmt: skip
    index_cols = [c for c, h in src.columns.items() if h == "@index"]
    constants = {c.name: _constant_sql(job, c, src.constants[c.name], n) for c in spec.columns
                 if c.name in (src.constants or {}) and c.name not in src.columns}  # fmt: skip
    sql, reports = _output_sql(job, n, index_cols, constants)
    out = out_dir / f"{table}{RESIDENT_SUFFIX}"
    tmp = out.with_name(out.name + ".part")
    con.execute(f"COPY ({sql}) TO {_lit(str(tmp))} (FORMAT parquet)")
    tmp.replace(out)
    frame = ResidentFrame.of(out, table=table)
    return LoadedTable(name=table, frame=frame, source={**info, "rows": n, "columns": len(headers)}, columns=reports)
