"""The cleaning rules on resident tables (:mod:`workbench.core.resident`), as Ibis expressions.

:func:`workbench.data.cleaning.clean_tables` hands a run with at least one resident table to
:func:`clean_resident`: each rule runs, table by table in the same order, in the engine for a
resident table and on pandas (the unchanged steps of :mod:`workbench.data.cleaning`) for the
others, so the log is the pandas path's line for line. A resident table never becomes a pandas
frame; only counts, a few example values, the extreme spenders' ids and, when the orders are in
pandas but the customers resident, the customers' ids come back.

Row order. The pandas rules that pick one of several rows (``drop_exact_duplicates`` keeps the
first copy, ``duplicate_keys`` the first or last row of a key, ``impute`` "mode" breaks ties by
first appearance) read the frame's order, which is the source's. In the engine that order is
explicit: a row's position in its Parquet (file name, then row within the file) becomes the column
``_wb_pos`` when the table is opened, every such choice is a minimum or maximum of it, and the
cleaned table is written in that order (``clean_<name>.parquet``, microsecond timestamps).

The table itself stays one expression over its Parquet, run in full once, when it is written;
between rules the engine keeps only small results (``Table.cache``): the later copies of exact
duplicates, the duplicated keys, the orphan and the extreme customers, which the expression joins
to. Each rule's counts are one aggregate query (projection push-down reads only its columns).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.contract import OUT_OF_RANGE_SUFFIX, TABLES
from workbench.core.errors import ContractError, example_values, format_examples
from workbench.core.parsing import DATETIME_RANGE
from workbench.core.resident import ResidentFrame
from workbench.data import cleaning as cl
from workbench.data import engine
from workbench.data.orders import refund_mask_expr
from workbench.report import fmt, i18n

__all__ = ["EngineTable", "clean_resident", "open_table", "write_table"]

POS = "_wb_pos"
"""The column holding a row's position in its Parquet (dropped when the table is written)."""

_say, _fmt_n, _Log = cl._say, cl._fmt_n, cl._Log
_Frames = dict[str, "pd.DataFrame | EngineTable"]


@dataclass
class EngineTable:
    """A resident table while it is cleaned: its current Ibis expression and row count.

    Attributes
    ----------
    name : str
        Contract table name.
    expr : ibis Table
        The table so far, with the position column ``_wb_pos``.
    rows : int
        Its row count (kept up to date by every rule, so no rule counts it again).
    """

    name: str
    expr: ir.Table
    rows: int
    _cached: list[ir.Table] = dataclasses.field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """The table's own columns (without ``_wb_pos``)."""
        return [c for c in self.expr.columns if c != POS]

    def update(self, expr: ir.Table, rows: int | None = None) -> None:
        """Replace the expression (and the row count when it changed)."""
        self.expr = expr
        if rows is not None:
            self.rows = int(rows)

    def hold(self, small: ir.Table) -> ir.Table:
        """Keep a small computed result (``Table.cache``) the expression is built on, until
        :meth:`release`."""
        self._cached.append(small)
        return small

    def release(self) -> None:
        """Free what :meth:`hold` kept."""
        for t in self._cached:
            try:
                t.release()
            except Exception:  # pragma: no cover - already gone with its connection
                pass
        self._cached.clear()


# --------------------------------------------------------------------------------------------
# Small expression helpers
# --------------------------------------------------------------------------------------------


def _count(mask: ir.BooleanValue) -> ir.IntegerScalar:
    """Rows where ``mask`` is true (missing counts as false)."""
    return mask.fill_null(False).cast("int64").sum()


def _row(expr: ir.Table) -> dict[str, Any]:
    """The one row of an aggregate as plain Python values (a missing sum is 0)."""
    got = expr.to_pandas().iloc[0].to_dict()
    return {k: (0 if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in got.items()}


def _missing(col: ir.Value) -> ir.BooleanValue:
    """Missing as pandas sees it: null, or NaN in a float column."""
    miss = col.isnull()
    return miss | col.isnan().fill_null(False) if col.type().is_floating() else miss


def _negative(t: ir.Table) -> ir.BooleanValue:
    """:func:`workbench.data.orders.negative_amount_mask` in the engine."""
    return (t.amount < 0).fill_null(False) & ~refund_mask_expr(t)


def _first_values(t: ir.Table, col: str, mask: ir.BooleanValue, limit: int = 5) -> list[Any]:
    """:func:`workbench.core.errors.example_values` of ``t[col][mask]``: the first distinct
    values by position."""
    f = t.filter([mask, t[col].notnull()])
    hits = f.group_by(col).aggregate(_wb_first=f[POS].min())
    return hits.order_by("_wb_first").limit(limit).to_pandas()[col].tolist()


def _temp_name() -> str:
    return f"wb_clean_{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------------
# Reading and writing
# --------------------------------------------------------------------------------------------


def open_table(con: ibis.BaseBackend, frame: ResidentFrame, name: str) -> EngineTable:
    """Read a resident table in the engine with each row's position as ``_wb_pos``.

    The position is the row's place in the Parquet: its row number in the file, and for a folder
    of part files the file name first (DuckDB ``file_row_number``, Spark ``_metadata.row_index``).
    """
    folder = Path(frame.path).is_dir()
    if engine.backend_name(con) == "spark":
        from pyspark.sql import functions as F

        df = con._session.read.parquet(str(frame.path))
        df = df.select("*", F.col("_metadata.file_path").alias("_wb_file"), F.col("_metadata.row_index").alias("_wb_row"))
        view = _temp_name()
        df.createOrReplaceTempView(view)
        t = con.table(view)
    else:
        source = f"{frame.path}/**/*.parquet" if folder else str(frame.path)
        t = con.read_parquet(source, table_name=_temp_name(), file_row_number=True, filename=folder)
        t = t.rename({"_wb_row": "file_row_number", **({"_wb_file": "filename"} if folder else {})})
        if not folder:
            t = t.mutate(_wb_file=ibis.literal(""))
    if folder:  # file rank (a small window over the file names) x 2^40 + row in the file
        files = t.select("_wb_file").distinct()
        files = files.mutate(_wb_rank=ibis.row_number().over(order_by=files._wb_file).cast("int64"))
        t = t.inner_join(files, "_wb_file")
        pos = t._wb_rank * (2**40) + t._wb_row.cast("int64")
        t = t.mutate(**{POS: pos}).drop("_wb_rank")
    else:
        t = t.mutate(**{POS: t._wb_row.cast("int64")})
    t = t.drop("_wb_file", "_wb_row")
    return EngineTable(name=name, expr=t, rows=len(frame))


def write_table(con: ibis.BaseBackend, table: EngineTable, out_dir: Path) -> ResidentFrame:
    """Write a cleaned table as ``out_dir/clean_<name>.parquet`` in source order (microsecond
    timestamps) through the engine, and describe it."""
    path = Path(out_dir) / f"clean_{table.name}.parquet"
    # written beside, then moved: the table may be read from the very file it replaces
    part = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}")
    expr = table.expr.order_by(POS).drop(POS)
    if engine.backend_name(con) == "spark":
        # Spark's default INT96 timestamps are not what the other engines read
        con._session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        expr.to_parquet(str(part), mode="overwrite")
    else:
        expr.to_parquet(str(part))
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    part.rename(path)
    return ResidentFrame.of(path, table=table.name)


# --------------------------------------------------------------------------------------------
# The rules, one resident table at a time (the pandas steps' log lines, same words)
# --------------------------------------------------------------------------------------------


def exact_duplicates(et: EngineTable, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 1: keep the first copy (lowest position) of rows equal in every column."""
    n, key = et.rows, "cleaning.drop_exact_duplicates"
    if not rules.drop_exact_duplicates:
        log.add(et.name, "drop_exact_duplicates", key, n, n, 0, _say("off"))
        return
    t = et.expr
    groups = t.group_by(et.columns).aggregate(_wb_n=t.count(), _wb_first=t[POS].min())
    copies = groups.filter(groups._wb_n > 1).drop("_wb_n")
    # the later copies' positions (few): a null-safe join of the copied rows back to the table
    same = [t[c].identical_to(copies[c]) for c in et.columns]
    later = t.inner_join(copies, same).select(_wb_drop=t[POS], _wb_first=copies._wb_first)
    later = later.filter(later._wb_drop != later._wb_first).select("_wb_drop").cache()
    k = int(later.count().to_pandas())
    if k:
        et.hold(later)
        et.update(t.anti_join(later, t[POS] == later._wb_drop), n - k)
    else:
        later.release()
    log.add(et.name, "drop_exact_duplicates", key, n, n - k, k, _say("exact_duplicates", rows=_fmt_n(k, n)))


def out_of_range_dates(et: EngineTable, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 2: dates intake could not hold (their text in ``<date>_out_of_range``)."""
    rule, key, n, t = "out_of_range_dates", "cleaning.out_of_range_dates", et.rows, et.expr
    cols = et.columns
    sfx = len(OUT_OF_RANGE_SUFFIX)
    markers = {c[:-sfx]: c for c in cols if c.endswith(OUT_OF_RANGE_SUFFIX) and c[:-sfx] in cols}
    counts = _row(t.aggregate(**{f"_n{i}": _count(t[m].notnull()) for i, m in enumerate(markers.values())})) if markers else {}
    masks = {d: t[m].notnull() for i, (d, m) in enumerate(markers.items()) if counts[f"_n{i}"]}
    if not masks:
        log.add(et.name, rule, key, n, n, 0, _say("no_out_of_range"))
        if markers:
            et.update(t.drop(*markers.values()))
        return
    sizes = {d: int(counts[f"_n{i}"]) for i, d in enumerate(markers) if d in masks}
    per_col = i18n.t("profiling.sep.clause").join(
        _say("out_of_range_column", column=d, n=f"{sizes[d]:,}",
             examples=format_examples(_first_values(t, markers[d], m), 3))
        for d, m in masks.items()
    )  # fmt: skip
    lo, hi = (d.date() for d in DATETIME_RANGE)
    apply_date_rule(et, masks, mode=rules.out_of_range_dates, flag_col="flag_out_of_range_date",
                    what=_say("with_dates_outside", start=lo, end=hi), own_what=_say("out_of_range"),
                    per_col=per_col, rule=rule, log=log, note=i18n.t("profiling.sep.clause") + per_col)  # fmt: skip
    if rules.out_of_range_dates == "drop":
        et.update(et.expr.drop(*markers.values()))


def missing_required(et: EngineTable, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 3: rows missing a required contract column."""
    spec, n, t, key = TABLES.get(et.name), et.rows, et.expr, "cleaning.missing_required"
    req = [c for c in (spec.required if spec else []) if c in et.columns]
    if not req:
        log.add(et.name, "missing_required", key, n, n, 0, _say("no_required"))
        return
    miss = {c: _missing(t[c]) for c in req}
    bad = reduce(lambda a, b: a | b, miss.values())
    got = _row(t.aggregate(_k=_count(bad), **{f"_m{i}": _count(m) for i, m in enumerate(miss.values())}))
    k = int(got["_k"])
    per_col = ", ".join(f"{c} {int(got[f'_m{i}']):,}" for i, c in enumerate(req) if got[f"_m{i}"])
    if rules.missing_required == "drop" and k:
        et.update(t.filter(~bad), n - k)
        detail = _say("required_dropped", rows=_fmt_n(k, n), columns=per_col)
    elif k:
        detail = _say("required_kept", rows=_fmt_n(k, n), columns=per_col)
    else:
        detail = _say("required_complete", columns=", ".join(req))
    log.add(et.name, "missing_required", key, n, et.rows, k if rules.missing_required == "drop" else 0, detail)


def duplicate_keys(et: EngineTable, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 4: rows sharing a primary key; ``keep_first``/``keep_last`` keep the lowest/highest
    position of each key (the row pandas keeps), ``flag`` marks them all."""
    spec, n, t, param = TABLES.get(et.name), et.rows, et.expr, "cleaning.duplicate_keys"
    key = list(spec.key) if spec else []
    if not key or any(c not in et.columns for c in key):
        log.add(et.name, "duplicate_keys", param, n, n, 0, _say("no_key"))
        return
    has_key = reduce(lambda a, b: a & b, [~_missing(t[c]) for c in key])
    f = t.filter(has_key)
    groups = f.group_by(key).aggregate(_wb_n=f.count(), _wb_first=f[POS].min(), _wb_last=f[POS].max())
    dups = groups.filter(groups._wb_n > 1).cache()
    got = _row(dups.aggregate(_inv=dups._wb_n.sum(), _keys=dups.count()))
    n_involved, n_keys, label = int(got["_inv"]), int(got["_keys"]), ", ".join(key)
    if n_involved == 0:
        dups.release()
        log.add(et.name, "duplicate_keys", param, n, n, 0, _say("key_unique", key=label))
        return
    _resolve_keys(et, et.hold(dups), key, rules.duplicate_keys, n_involved=n_involved, n_keys=n_keys, log=log)


def _resolve_keys(et: EngineTable, dups: ir.Table, key: list[str], mode: str, *, n_involved: int, n_keys: int,
                  log: _Log) -> None:  # fmt: skip
    """:func:`duplicate_keys` once the duplicated keys (``dups``: count, first and last position) are known."""
    n, t, param, label = et.rows, et.expr, "cleaning.duplicate_keys", ", ".join(key)
    if mode == "error":
        first = dups.order_by("_wb_first").limit(5).to_pandas()
        ex = first[key[0]] if len(key) == 1 else first[key].astype(str).agg("/".join, axis=1)
        raise ContractError(
            et.name,
            f"share a key value with another row ({n_keys:,} {label} values appear more than "
            f"once); set duplicate_keys= to keep_first, keep_last or flag to resolve them",
            column=label, n_rows=n_involved, n_total=n, examples=example_values(ex),
        )  # fmt: skip
    keep = "first" if mode == "keep_first" else "last"
    d = dups.select(*[dups[c].name(f"_wb_k{i}") for i, c in enumerate(key)], _wb_keep=dups[f"_wb_{keep}"])
    j = t.left_join(d, [t[c] == d[f"_wb_k{i}"] for i, c in enumerate(key)]).select(*t.columns, "_wb_keep")
    if mode == "flag":
        j = j.mutate(flag_duplicate_key=j._wb_keep.notnull()).drop("_wb_keep")
        et.update(j.select(*et.columns, "flag_duplicate_key", POS))
        log.add(et.name, "duplicate_keys", param, n, n, n_involved,
                _say("keys_flagged", rows=_fmt_n(n_involved, n), key=label))  # fmt: skip
        return
    k = n_involved - n_keys
    et.update(j.filter(j._wb_keep.isnull() | (j[POS] == j._wb_keep)).drop("_wb_keep"), n - k)
    log.add(et.name, "duplicate_keys", param, n, n - k, k, _say(f"keys_dropped_{keep}", rows=_fmt_n(k, n), key=label))


def dates(et: EngineTable, *, rule: str, mode: str, bound: pd.Timestamp | None, after: bool, log: _Log) -> None:
    """Rules 5 and 6: dates after ``data_end`` / before ``launch_date``."""
    key, n, t = f"cleaning.{rule}", et.rows, et.expr
    if bound is None:
        log.add(et.name, rule, key, n, n, 0, _say("no_launch"))
        return
    cols = [c for c in et.columns if t[c].type().is_timestamp() and (after or c not in cl._NO_LAUNCH_CHECK)]
    cols = [c for c in cols if not c.startswith("flag_")]
    if not cols:
        log.add(et.name, rule, key, n, n, 0, _say("no_dates"))
        return
    # pandas: value > end of day (…23:59:59.999999999) == value >= the next midnight
    edge = ibis.timestamp((bound + pd.Timedelta(1, "ns")).to_pydatetime() if after else bound.to_pydatetime())
    masks = {c: ((t[c] >= edge) if after else (t[c] < edge)).fill_null(False) for c in cols}
    got = _row(t.aggregate(**{f"_m{i}": _count(m) for i, m in enumerate(masks.values())}))
    where, day = ("after" if after else "before"), i18n.date_text(bound)
    per_col = ", ".join(f"{c} {int(got[f'_m{i}']):,}" for i, c in enumerate(cols) if got[f"_m{i}"])
    if not any(got.values()):
        log.add(et.name, rule, key, n, n, 0, _say(f"no_dates_{where}", date=day))
        return
    apply_date_rule(et, masks, mode=mode, flag_col="flag_future_date" if after else "flag_prelaunch_date",
                    what=_say(f"with_dates_{where}", date=day), own_what=_say(f"own_{where}", date=day),
                    per_col=per_col, rule=rule, log=log)  # fmt: skip


def apply_date_rule(
    et: EngineTable, masks: Mapping[str, ir.BooleanValue], *, mode: str, flag_col: str, what: str,
    own_what: str, per_col: str, rule: str, log: _Log, note: str = "",
) -> None:  # fmt: skip
    """:func:`workbench.data.cleaning._apply_date_rule` in the engine: drop the rows whose own time
    is bad and blank the other bad dates, flag the rows, or keep them."""
    key, n, t, name = f"cleaning.{rule}", et.rows, et.expr, et.name
    any_bad = reduce(lambda a, b: a | b, masks.values())
    own = cl.EVENT_TIME_COLUMNS.get(name)
    drop = masks.get(own) if own is not None else None
    others = [c for c in masks if c != own]
    got = _row(t.aggregate(_k=_count(any_bad), **({} if drop is None else {"_d": _count(drop)}),
                           **{f"_b{i}": _count(masks[c] if drop is None else masks[c] & ~drop) for i, c in enumerate(others)}))  # fmt: skip
    k, n_drop = int(got["_k"]), int(got.get("_d", 0))
    if mode == "keep":
        log.add(name, rule, key, n, n, 0, _say("dates_kept", rows=_fmt_n(k, n), what=what, columns=per_col))
        return
    if mode == "flag":
        et.update(t.mutate(**{flag_col: any_bad}).relocate(POS, after=flag_col))
        log.add(name, rule, key, n, n, k, _say("dates_flagged", rows=_fmt_n(k, n), what=what, columns=per_col, flag=flag_col))
        return
    blank = {c: int(got[f"_b{i}"]) for i, c in enumerate(others) if got[f"_b{i}"]}
    out = t.mutate(**{c: ibis.ifelse(masks[c], ibis.null(t[c].type()), t[c]) for c in blank})
    if drop is not None:
        out = out.filter(~drop)
    et.update(out, n - n_drop)
    detail = _say("dates_dropped", rows=_fmt_n(n_drop, n), column=own, what=own_what) if n_drop else ""
    if blank:
        detail += (i18n.t("profiling.sep.clause") if detail else "") + _say(
            "dates_blanked", columns=", ".join(f"{c} {v:,}" for c, v in blank.items()))
    log.add(name, rule, key, n, n - n_drop, k, detail + note)


def negative_amounts(et: EngineTable, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 7: negative amounts not marked as refunds: mark them, drop them or keep them."""
    key, n, t = "cleaning.negative_amounts", et.rows, et.expr
    neg = _negative(t) if "amount" in et.columns else ibis.literal(False)
    k = int(_row(t.aggregate(_k=_count(neg)))["_k"]) if "amount" in et.columns else 0
    mode = rules.negative_amounts
    if k == 0:
        log.add("orders", "negative_amounts", key, n, n, 0, _say("no_negative"))
    elif mode == "keep":
        log.add("orders", "negative_amounts", key, n, n, 0, _say("negative_kept", rows=_fmt_n(k, n)))
    elif mode == "drop":
        et.update(t.filter(~neg), n - k)
        log.add("orders", "negative_amounts", key, n, n - k, k, _say("negative_dropped", rows=_fmt_n(k, n)))
    else:
        fix: dict[str, ir.Value] = {"is_refund": ibis.ifelse(neg, True, t.is_refund) if "is_refund" in et.columns else neg}
        status_note = ""
        if "status" in et.columns:
            fix["status"] = ibis.ifelse(neg, "refunded", t.status)
            status_note = _say("negative_status")
        out = t.mutate(**fix)
        et.update(out.select(*[c for c in out.columns if c != POS], POS))
        log.add("orders", "negative_amounts", key, n, n, k, _say("negative_refund", rows=_fmt_n(k, n), status=status_note))


def _ids_table(con: ibis.BaseBackend, customers: pd.DataFrame | EngineTable) -> ir.Table:
    """The distinct known customer ids, as a one-column engine table ``_wb_cid``."""
    t = customers.expr if isinstance(customers, EngineTable) else engine.as_table(con, customers[["customer_id"]])
    return t.filter(t.customer_id.notnull()).select(_wb_cid=t.customer_id).distinct()


def _mark(t: ir.Table, ids: ir.Table, flag: str) -> ir.Table:
    """``t`` with the boolean ``flag``: its ``customer_id`` is one of ``ids._wb_cid`` (a left join;
    Spark takes no IN-subquery in a projection)."""
    j = t.left_join(ids, t.customer_id == ids._wb_cid)
    return j.mutate(**{flag: j._wb_cid.notnull()}).drop("_wb_cid")


def orphans(et: EngineTable, customers: pd.DataFrame | EngineTable | None, rules: cl.CleaningRules,
            log: _Log, con: ibis.BaseBackend) -> None:  # fmt: skip
    """Rule 8: orders whose customer is not in the customers table."""
    key, n, t = "cleaning.orphan_orders", et.rows, et.expr
    cust_cols = [] if customers is None else (customers.columns if isinstance(customers, EngineTable) else list(customers.columns))
    if "customer_id" not in cust_cols:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("no_customers"))
        return
    # the orphan customers (customer level) with their row counts, then a join with that small table
    ids = _ids_table(con, customers)
    known = t.filter(t.customer_id.notnull())
    per = known.group_by("customer_id").aggregate(_wb_n=known.count())
    lost = et.hold(per.anti_join(ids, per.customer_id == ids._wb_cid).cache())
    got = _row(lost.aggregate(_k=lost._wb_n.sum(), _c=lost.count()))
    k, n_cust, mode = int(got["_k"]), int(got["_c"]), rules.orphan_orders
    marked = _mark(t, lost.select(_wb_cid=lost.customer_id), "_wb_orphan")
    orphan = marked._wb_orphan
    what = _say("orphans", rows=_fmt_n(k, n), n=f"{n_cust:,}")
    if k == 0:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("no_orphans"))
    elif mode == "drop":
        et.update(marked.filter(~orphan).drop("_wb_orphan"), n - k)
        log.add("orders", "orphan_orders", key, n, n - k, k, _say("orphans_dropped", what=what))
    elif mode == "flag":
        out = marked.mutate(flag_orphan=orphan).drop("_wb_orphan")
        et.update(out.select(*[c for c in out.columns if c != POS], POS))
        log.add("orders", "orphan_orders", key, n, n, k, _say("orphans_flagged", what=what))
    else:
        log.add("orders", "orphan_orders", key, n, n, 0, _say("orphans_kept", what=what))


def extreme_ids(t: ir.Table, *, mad_z: float) -> ir.Table:
    """:func:`workbench.data.cleaning.extreme_spenders` in the engine: the ids (``_wb_cid``) of
    customers whose log total spend has a robust z above ``mad_z``, with exact medians (the MAD,
    or the mean absolute deviation when it is 0, as :func:`~workbench.data.cleaning.robust_z`)."""
    use = t.customer_id.notnull() & (t.amount > 0).fill_null(False) & ~refund_mask_expr(t)
    f = t.filter(use)
    spend = f.group_by("customer_id").aggregate(_wb_spend=f.amount.sum())
    spend = spend.filter(spend._wb_spend > 0)
    scores = spend.select(_wb_cid=spend.customer_id, _wb_log=spend._wb_spend.ln()).cache()
    try:
        med = _row(scores.aggregate(_m=scores._wb_log.median(), _n=scores.count()))
        above = ibis.literal(False)
        if med["_n"]:
            dev = (scores._wb_log - float(med["_m"])).abs()
            got = _row(scores.aggregate(_mad=dev.median(), _mean=dev.mean()))
            scale = cl._MAD_SCALE * float(got["_mad"])
            if scale == 0:
                scale = cl._MEANAD_SCALE * float(got["_mean"])
            if scale != 0:  # else every z is 0
                above = (scores._wb_log - float(med["_m"])) / scale > mad_z
        return scores.filter(above).select("_wb_cid").cache()
    finally:
        scores.release()


def extreme(et: EngineTable, customers: pd.DataFrame | EngineTable | None, rules: cl.CleaningRules,
            log: _Log, con: ibis.BaseBackend) -> pd.DataFrame | EngineTable | None:  # fmt: skip
    """Rule 9: extreme spenders: flag (orders and customers), drop their orders or cap their
    amounts. Returns the customers (flagged or as they were)."""
    if not {"customer_id", "amount"} <= set(et.columns):
        return customers
    ids = et.hold(extreme_ids(et.expr, mad_z=rules.extreme_spender_mad_z))
    return _extreme_with(et, ids, customers, rules, log, con)


def _extreme_with(et: EngineTable, ids: ir.Table, customers: pd.DataFrame | EngineTable | None,
                  rules: cl.CleaningRules, log: _Log, con: ibis.BaseBackend) -> pd.DataFrame | EngineTable | None:  # fmt: skip
    """:func:`extreme` once the extreme spenders' ids are known."""
    key, n, t, mode = "cleaning.extreme_spenders", et.rows, et.expr, rules.extreme_spenders
    n_ids = int(ids.count().to_pandas())
    marked = _mark(t, ids, "_wb_ext")
    k = int(_row(marked.aggregate(_k=_count(marked._wb_ext)))["_k"]) if n_ids else 0
    z = f"{rules.extreme_spender_mad_z:g}"
    who = _say("extreme_who", n=f"{n_ids:,}", z=z)
    if n_ids == 0:
        log.add("orders", "extreme_spenders", key, n, n, 0, _say("no_extreme", z=z))
    elif mode == "keep":
        log.add("orders", "extreme_spenders", key, n, n, 0, _say("extreme_kept", who=who, rows=f"{k:,}"))
    elif mode == "flag":
        out = marked.mutate(flag_extreme=marked._wb_ext).drop("_wb_ext")
        et.update(out.select(*[c for c in out.columns if c != POS], POS))
        log.add("orders", "extreme_spenders", key, n, n, k, _say("extreme_flagged", rows=_fmt_n(k, n), who=who))
        customers = flag_customers(customers, ids, log=log, con=con)
    elif mode == "drop":
        et.update(marked.filter(~marked._wb_ext).drop("_wb_ext"), n - k)
        log.add("orders", "extreme_spenders", key, n, n - k, k, _say("extreme_dropped", rows=_fmt_n(k, n), who=who))
    else:
        _cap(et, marked, who=who, log=log)
    return customers


def _cap(et: EngineTable, marked: ir.Table, *, who: str, log: _Log) -> None:
    """Cap the extreme spenders' amounts at the 99.9th percentile of the others' positive amounts."""
    key, n = "cleaning.extreme_spenders", et.rows
    others = marked.filter([~marked._wb_ext, (marked.amount > 0).fill_null(False)])
    got = _row(others.aggregate(_n=others.count(), _q=others.amount.quantile(0.999)))
    if not got["_n"]:
        log.add("orders", "extreme_spenders", key, n, n, 0, _say("extreme_not_capped", who=who))
        return
    cap = float(got["_q"])
    over = marked._wb_ext & (marked.amount > cap).fill_null(False)
    k = int(_row(marked.aggregate(_k=_count(over)))["_k"])
    et.update(marked.mutate(amount=ibis.ifelse(over, cap, marked.amount)).drop("_wb_ext"))
    log.add("orders", "extreme_spenders", key, n, n, k,
            _say("extreme_capped", n=f"{k:,}", who=who, cap=fmt.money(cap, 2)))  # fmt: skip


def flag_customers(customers: pd.DataFrame | EngineTable | None, ids: ir.Table | pd.Series,
                   *, log: _Log | None, con: ibis.BaseBackend) -> pd.DataFrame | EngineTable | None:  # fmt: skip
    """Add ``flag_extreme`` to the customers (resident or pandas) for the extreme spenders' ids
    (an engine table ``_wb_cid`` or the ids themselves), logging the customers' line."""
    cols = [] if customers is None else (customers.columns if isinstance(customers, EngineTable) else list(customers.columns))
    if "customer_id" not in cols:
        return customers
    key = "cleaning.extreme_spenders"
    if isinstance(customers, EngineTable):
        if isinstance(ids, pd.Series):
            ids = engine.as_table(con, pd.DataFrame({"_wb_cid": ids.astype("string")}))
        out = _mark(customers.expr, ids, "flag_extreme")
        customers.update(out.select(*[c for c in out.columns if c != POS], POS))
        n, m = customers.rows, int(_row(out.aggregate(_m=_count(out.flag_extreme)))["_m"])
    else:
        wanted = ids if isinstance(ids, pd.Series) else ids.to_pandas()["_wb_cid"]
        customers = customers.copy()
        mask = cl.fast_isin(customers["customer_id"], wanted)
        customers["flag_extreme"] = pd.array(mask, dtype="boolean")
        n, m = len(customers), int(mask.sum())
    if log is not None:
        log.add("customers", "extreme_spenders", key, n, n, m, _say("extreme_customers_flagged", rows=_fmt_n(m, n)))
    return customers


def impute(et: EngineTable, target: str, how: str, log: _Log) -> None:
    """Rule 10 for one ``"table.column"`` of a resident table (statistics from the cleaned table;
    ``mode`` ties go to the value seen first)."""
    key, fix = f"cleaning.impute.{target}", f"; fix the data or impute={{{target!r}: {how!r}}}"
    name, col = target.split(".", 1)
    n, t = et.rows, et.expr
    if col not in et.columns:
        raise ContractError(name, f"has no column {col!r} to impute; columns: {', '.join(et.columns)}{fix}", column=col)
    s, dtype = t[col], t[col].type()
    numeric = dtype.is_numeric() and not dtype.is_boolean()
    miss = _missing(s)
    k = int(_row(t.aggregate(_k=_count(miss)))["_k"])
    value: Any
    if how == "median":
        if not numeric:
            raise ContractError(name, f"cannot be imputed by median: it is not numeric ({dtype}){fix}", column=col)
        f = t.filter(~miss)
        got = _row(f.aggregate(_v=f[col].median(), _n=f.count()))
        value = float(got["_v"]) if got["_n"] else np.nan
    elif how == "zero":
        if not (dtype.is_boolean() or numeric):
            raise ContractError(name, f"cannot be imputed by zero: it is not numeric or yes/no ({dtype}){fix}", column=col)
        value = False if dtype.is_boolean() else 0.0
    elif how == "unknown":
        if numeric or dtype.is_timestamp() or dtype.is_date() or dtype.is_boolean():
            raise ContractError(name, f"cannot be imputed by 'unknown': it is not text ({dtype}); use median, mode or zero{fix}",
                                column=col)  # fmt: skip
        value = "unknown"
    else:  # mode: the most frequent value, ties to the first seen
        f = t.filter(~miss)
        top = f.group_by(col).aggregate(_wb_n=f.count(), _wb_first=f[POS].min())
        got_top = top.order_by([ibis.desc("_wb_n"), "_wb_first"]).limit(1).to_pandas()
        value = got_top[col].iloc[0] if len(got_top) else np.nan  # a numpy scalar, shown as pandas shows it
    if k == 0 or pd.isna(value):
        log.add(name, f"impute {how}", key, n, n, 0, _say("impute_none" if k == 0 else "impute_empty"))
        return
    fill = ibis.literal(value.item() if isinstance(value, np.generic) else value).cast(dtype)
    out = t.mutate(**{col: ibis.ifelse(miss, fill, s)})
    et.update(out)
    shown = f"{value:,.4g}" if isinstance(value, float) else repr(value)
    log.add(name, f"impute {how}", key, n, n, k, _say("imputed", rows=_fmt_n(k, n), value=shown))


# --------------------------------------------------------------------------------------------
# The run: pandas steps for pandas tables, the rules above for resident ones
# --------------------------------------------------------------------------------------------


def _each_table(frames: _Frames, on_pandas: Callable[[dict[str, pd.DataFrame]], None],
                on_engine: Callable[[EngineTable], None]) -> None:  # fmt: skip
    """Run a per-table rule on every table in order: the pandas step on a one-table mapping, or
    the engine rule."""
    for name, frame in frames.items():
        if isinstance(frame, EngineTable):
            on_engine(frame)
        else:
            sub = {name: frame}
            on_pandas(sub)
            frames[name] = sub[name]


def _customer_ids(customers: EngineTable) -> pd.DataFrame:
    """The ids of resident customers, for a pandas rule on pandas orders (customer level)."""
    return customers.expr.select("customer_id").to_pandas() if "customer_id" in customers.columns else pd.DataFrame()


def _cross_table(frames: _Frames, rules: cl.CleaningRules, log: _Log, con: ibis.BaseBackend, step: int) -> None:
    """Rules 7 to 9 (orders, and for 8 and 9 the customers)."""
    orders, customers = frames.get("orders"), frames.get("customers")
    if orders is None:
        return
    if isinstance(orders, EngineTable):
        if step == 7:
            negative_amounts(orders, rules, log)
        elif step == 8:
            orphans(orders, customers, rules, log, con)
        elif customers is not None:
            frames["customers"] = extreme(orders, customers, rules, log, con)
        else:
            extreme(orders, None, rules, log, con)
        return
    pandas_step = {7: cl._step_negative_amounts, 8: cl._step_orphans, 9: cl._step_extreme}[step]
    sub: dict[str, pd.DataFrame] = {"orders": orders}
    if isinstance(customers, EngineTable):
        sub["customers"] = _customer_ids(customers)
    elif customers is not None:
        sub["customers"] = customers
    pandas_step(sub, rules, log)
    frames["orders"] = sub["orders"]
    if isinstance(customers, EngineTable):
        if step == 9 and "flag_extreme" in sub["customers"]:
            flagged = sub["customers"].loc[sub["customers"]["flag_extreme"].to_numpy(dtype=bool), "customer_id"]
            flag_customers(customers, flagged, log=None, con=con)  # the pandas step logged it
    elif customers is not None:
        frames["customers"] = sub["customers"]


def _impute_all(frames: _Frames, rules: cl.CleaningRules, log: _Log) -> None:
    """Rule 10, target by target, in the engine or on pandas."""
    for target, how in rules.impute.items():
        name = target.split(".", 1)[0]
        frame = frames.get(name) if "." in target else None
        if isinstance(frame, EngineTable):
            impute(frame, target, how, log)
            continue
        sub = {name: frame} if frame is not None else {}
        cl._step_impute(sub, dataclasses.replace(rules, impute={target: how}), log)
        if frame is not None:
            frames[name] = sub[name]


def clean_resident(
    tables: Mapping[str, pd.DataFrame | ResidentFrame],
    rules: cl.CleaningRules,
    log: _Log,
    *,
    data_end: pd.Timestamp,
    launch: pd.Timestamp | None,
    con: ibis.BaseBackend | None = None,
    out_dir: str | Path | None = None,
) -> dict[str, pd.DataFrame | ResidentFrame]:
    """Clean tables of which some are resident: the steps of :func:`~workbench.data.cleaning.clean_tables`
    in its order, each table in the engine or on pandas.

    Parameters
    ----------
    tables : mapping of str to DataFrame or ResidentFrame
        Canonical tables (the DataFrames are copies the steps may replace).
    rules : CleaningRules
    log : the cleaning log
        Filled in, line for line as the pandas path.
    data_end, launch : pandas.Timestamp
        The bounds of rules 5 and 6 (``data_end`` as the pandas path's: the end of the day).
    con : ibis backend, optional
        The engine; default a new DuckDB, closed at the end.
    out_dir : path, optional
        Where ``clean_<name>.parquet`` is written; default a new temporary folder.

    Returns
    -------
    dict of str to DataFrame or ResidentFrame
        The cleaned tables, in the input order; a resident table stays resident.
    """
    own = con is None
    con = engine.connect() if con is None else con
    folder = Path(tempfile.mkdtemp(prefix="crm-workbench-clean-") if out_dir is None else out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    frames: _Frames = {n: open_table(con, f, n) if isinstance(f, ResidentFrame) else f for n, f in tables.items()}
    try:
        steps: list[Callable[[], None]] = [
            lambda: _each_table(frames, lambda s: cl._step_exact_duplicates(s, rules, log), lambda e: exact_duplicates(e, rules, log)),
            lambda: _each_table(frames, lambda s: cl._step_out_of_range_dates(s, rules, log), lambda e: out_of_range_dates(e, rules, log)),
            lambda: _each_table(frames, lambda s: cl._step_missing_required(s, rules, log), lambda e: missing_required(e, rules, log)),
            lambda: _each_table(frames, lambda s: cl._step_duplicate_keys(s, rules, log), lambda e: duplicate_keys(e, rules, log)),
            *[
                (lambda rule=rule, mode=mode, bound=bound, after=after: _each_table(
                    frames,
                    lambda s: cl._step_dates(s, rule=rule, mode=mode, bound=bound, after=after, log=log),
                    lambda e: dates(e, rule=rule, mode=mode, bound=bound, after=after, log=log)))
                for rule, mode, bound, after in (("future_dates", rules.future_dates, data_end, True),
                                                 ("prelaunch_dates", rules.prelaunch_dates, launch, False))
            ],
            lambda: _cross_table(frames, rules, log, con, 7),
            lambda: _cross_table(frames, rules, log, con, 8),
            lambda: _cross_table(frames, rules, log, con, 9),
            lambda: _impute_all(frames, rules, log),
        ]  # fmt: skip
        for i, step in enumerate(steps, start=1):
            log.step = i
            step()
        return {n: write_table(con, f, folder) if isinstance(f, EngineTable) else f.reset_index(drop=True)
                for n, f in frames.items()}  # fmt: skip
    finally:
        for f in frames.values():
            if isinstance(f, EngineTable):
                f.release()
        if own:
            engine.close(con)
