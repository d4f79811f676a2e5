"""The profile's statistics as queries in the engine, for tables too large for pandas.

:func:`workbench.profiling.tables.profile_table` with an engine table (``con=``, or an Ibis
table) computes every statistic here with aggregate queries, and brings into pandas only
aggregates, the top values, daily counts, a few examples and one seeded sample of at most
``correlation_sample`` rows. Memory stays bounded by the engine (DuckDB spills to disk beyond its
``memory_limit``), not by the table.

What is computed where:

- **in the engine, over every row**: rows, missing and distinct values (exact: a ``GROUP BY``
  per column), top values (``GROUP BY ... ORDER BY count DESC LIMIT top_n``), rare levels and
  imbalance, minimum, maximum, mean, standard deviation, skewness and kurtosis (two passes:
  mean, then central moments), quantiles (``quantile`` - exact linear interpolation on DuckDB,
  as numpy), zeros, negatives, infinite values, outliers, date ranges, rows per day, future,
  pre-launch and after-``as_of`` dates, missing-value patterns, exact duplicate rows, duplicate
  keys, refunds and negative amounts, and the cross-table checks (orphan rows, customers without
  orders, extreme spenders);
- **on a seeded sample** of at most ``correlation_sample`` rows (every row of a smaller table):
  Spearman correlations, Cramér's V, the nullity correlation and matrix, the histograms'
  values, and the content check for personal data when intake's detections are not given.

Differences from the pandas path, all in presentation, none in the counts: ties between equally
frequent top values (and repeated keys, unmatched keys) are listed by value, not by first
appearance; the 1,000 rows of the missing-value matrix come from the sample; ``dtype`` is the
engine's type; ``memory_bytes`` estimates the table's size in Arrow (8 bytes a number or
timestamp, 1 a yes/no, the characters of a text plus 4), not pandas' deep memory. Quantiles and
medians are exact on DuckDB (``quantile_cont``) and Spark (``percentile``); :data:`APPROXIMATE`
lists what an engine computes approximately (nothing today).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.contract import TABLES
from workbench.data.cleaning import _MAD_SCALE, _MEANAD_SCALE
from workbench.data.engine import backend_name
from workbench.data.orders import REFUND_STATUSES
from workbench.profiling.alerts import fmt_value
from workbench.profiling.columns import (
    NUM_QUANTILES,
    ColumnFacts,
    TableContext,
    column_kind,
    entropy_imbalance,
    is_single_key,
    numeric_row,
    outlier_bounds,
    top_frame,
    wants_numeric,
)
from workbench.profiling.dates import DateFacts, checks_launch, daily_series

__all__ = [
    "APPROXIMATE",
    "EngineFacts",
    "stored_flavour",
    "table_facts",
    "duplicate_rows",
    "duplicates",
    "missing_pattern_counts",
    "seeded_sample",
    "refund_expr",
    "order_counts",
    "unmatched_keys",
    "spender_scores_expr",
    "arrow_bytes",
]

APPROXIMATE: dict[str, tuple[str, ...]] = {"duckdb": (), "spark": ()}
"""Statistics each engine computes approximately (none: quantiles and medians are exact, DuckDB's
``quantile_cont`` and Spark's ``percentile`` both interpolate linearly, as numpy); an engine not
listed is assumed exact."""

_EXAMPLES = 5
_DAY_US = 86_400_000_000
_MAX_DOUBLE = float(np.finfo(np.float64).max)


def stored_flavour(dtype: dt.DataType) -> str:
    """How an engine column is stored: ``bool``, ``number``, ``datetime`` or ``other`` (as
    :func:`workbench.profiling.columns.flavour` for pandas)."""
    if dtype.is_boolean():
        return "bool"
    if dtype.is_numeric():
        return "number"
    if dtype.is_timestamp() or dtype.is_date():
        return "datetime"
    return "other"


def _lit_time(ts: pd.Timestamp) -> ir.Value:
    """A timestamp literal in microseconds (what the engine holds)."""
    return ibis.timestamp(ts.floor("us").to_pydatetime())


def _missing(col: ir.Column) -> ir.BooleanValue:
    """Missing: NULL, or NaN for floating columns (pandas counts NaN as missing)."""
    if col.type().is_floating():
        return col.isnull() | col.isnan()
    return col.isnull()


def _isinf(x: ir.FloatingValue) -> ir.BooleanValue:
    """Infinite, as every engine reads it (Ibis' ``isinf`` finds none on Spark)."""
    return x.abs() > _MAX_DOUBLE


def _finite(col: ir.Column) -> ir.FloatingColumn:
    """The column as float64 with every value that is not finite (NULL, NaN, infinite) NULL:
    the aggregates then skip them without a filter each."""
    x = col.cast("float64")
    return ibis.ifelse(x.isnan() | _isinf(x), ibis.null("float64"), x)


def _first(expr: ir.Table) -> dict[str, Any]:
    """The one row of an aggregate, as a dict."""
    return expr.to_pandas().iloc[0].to_dict()


def _int(v: Any) -> int:
    return 0 if v is None or (isinstance(v, float) and np.isnan(v)) else int(v)


@dataclass(frozen=True)
class EngineFacts:
    """What :func:`table_facts` finds in one engine table.

    Attributes
    ----------
    n : int
        Rows.
    columns : dict of str to ColumnFacts
    memory_bytes : int
        :func:`arrow_bytes` estimate.
    """

    n: int
    columns: dict[str, ColumnFacts]
    memory_bytes: int


def arrow_bytes(stored: str, n: int, text_chars: int) -> int:
    """Estimated bytes of a column in Arrow: 8 a number or timestamp, 1 a yes/no, the characters
    of a text plus a 4-byte offset."""
    if stored == "bool":
        return n
    if stored in ("number", "datetime"):
        return 8 * n
    return int(text_chars) + 4 * n


def _as_time(col: ir.Column) -> ir.Column:
    return col.cast("timestamp") if col.type().is_date() else col


def _first_pass(t: ir.Table, ctx: TableContext, plan: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """One aggregate over every row: rows, valid values, text sizes, date ranges and counts, and
    the first numeric pass (finite values, mean, extremes, quantiles, zeros, negatives)."""
    aggs: dict[str, ir.Scalar] = {"n": t.count()}
    for i, (col, (stored, kind)) in enumerate(plan.items()):
        c = t[col]
        aggs[f"v{i}"] = c.count(where=~_missing(c)) if c.type().is_floating() else c.count()
        if stored == "other":
            aggs[f"len{i}"] = c.cast("string").length().sum()
        if ctx.hides(col):
            continue
        if stored == "datetime":
            ct = _as_time(c)
            aggs[f"dmin{i}"] = ct.min()
            aggs[f"dmax{i}"] = ct.max()
            aggs[f"fut{i}"] = ct.count(where=ct > _lit_time(ctx.end))
            if ctx.launch is not None and checks_launch(col):
                aggs[f"pre{i}"] = ct.count(where=ct < _lit_time(ctx.launch))
            if ctx.as_of_end is not None:
                aggs[f"aft{i}"] = ct.count(where=ct > _lit_time(ctx.as_of_end))
        elif wants_numeric(kind, stored):
            x = _finite(c)
            aggs[f"m{i}"] = x.count()
            aggs[f"inf{i}"] = _isinf(c.cast("float64")).sum()
            aggs[f"mean{i}"] = x.mean()
            aggs[f"min{i}"] = x.min()
            aggs[f"max{i}"] = x.max()
            aggs[f"q{i}"] = x.quantile(list(NUM_QUANTILES))
            aggs[f"zero{i}"] = x.count(where=x == 0)
            aggs[f"neg{i}"] = x.count(where=x < 0)
            aggs[f"frac{i}"] = x.count(where=x % 1 != 0)
    return _first(t.aggregate(**aggs))


def _second_pass(
    t: ir.Table, plan: Mapping[str, tuple[str, str]], first: Mapping[str, Any], k: float
) -> dict[str, Any]:
    """Central moments and outliers of the numeric columns (needs the means and quartiles)."""
    aggs: dict[str, ir.Scalar] = {}
    for i, col in enumerate(plan):
        if _int(first.get(f"m{i}")) == 0:
            continue
        x = _finite(t[col])
        d = x - float(first[f"mean{i}"])
        qs = list(first[f"q{i}"])
        lo, hi = outlier_bounds(float(qs[2]), float(qs[4]), k)
        aggs[f"m2_{i}"] = (d * d).mean()
        aggs[f"m3_{i}"] = (d * d * d).mean()
        aggs[f"m4_{i}"] = (d * d * d * d).mean()
        aggs[f"out{i}"] = x.count(where=(x < lo) | (x > hi))
    return _first(t.aggregate(**aggs)) if aggs else {}


def _value_counts(t: ir.Table, col: str) -> ir.Table:
    """``v`` (the value), ``c`` (its rows), one row per non-missing value."""
    c = t[col]
    return t.filter(~_missing(c)).group_by(v=c).aggregate(c=ibis._.count())


def _levels(
    t: ir.Table, ctx: TableContext, col: str, n_valid: int
) -> tuple[int, pd.DataFrame, int, float, tuple[Any, ...]]:
    """Distinct values, top values, rare levels, imbalance and repeated keys of one column, from
    one ``GROUP BY`` (shared by the two branches of the query)."""
    g = _value_counts(t, col)
    share = ctx.options.rare_level_share
    stats = g.aggregate(
        nd=g.count(),
        rare=g.c.count(where=g.c.cast("float64") / n_valid < share),
        clogc=(g.c.cast("float64") * g.c.cast("float64").ln()).sum(),
    )
    top = g.order_by([ibis.desc("c"), "v"]).limit(ctx.options.top_n)
    res = top.cross_join(stats).to_pandas()
    nd = int(res["nd"].iloc[0])
    tv = top_frame(res["v"].tolist(), res["c"].to_numpy(), n_valid)
    imb = entropy_imbalance(nd, n_valid, float(res["clogc"].iloc[0]))
    examples: tuple[Any, ...] = ()
    if is_single_key(ctx, col) and n_valid > nd:
        dup = g.filter(g.c > 1).order_by([ibis.desc("c"), "v"]).limit(_EXAMPLES).to_pandas()
        examples = tuple(fmt_value(v) for v in dup["v"])
    return nd, tv, int(res["rare"].iloc[0]), imb, examples


def _n_distinct(t: ir.Table, col: str) -> int:
    c = t[col]
    return int(t.filter(~_missing(c)).select(c).distinct().count().to_pandas())


def _date_facts(t: ir.Table, ctx: TableContext, col: str, i: int, first: Mapping[str, Any], n: int) -> DateFacts:
    """Rows per day, range, implausible-date counts and examples of one datetime column."""
    ct = _as_time(t[col])
    days = t.filter(ct.notnull()).group_by(d=ct.truncate("D")).aggregate(c=ibis._.count()).to_pandas()
    day_index = pd.to_datetime(days["d"]).to_numpy().astype("datetime64[us]").astype("int64") // _DAY_US
    n_future, n_pre = _int(first.get(f"fut{i}")), _int(first.get(f"pre{i}"))
    fut_ex: tuple[Any, ...] = ()
    pre_ex: tuple[Any, ...] = ()
    if n_future:
        late = t.filter(ct > _lit_time(ctx.end)).select(x=ct).order_by(ibis.desc("x")).limit(3).to_pandas()
        fut_ex = tuple(fmt_value(pd.Timestamp(v)) for v in reversed(late["x"].tolist()))
    if n_pre and ctx.launch is not None:
        early = t.filter(ct < _lit_time(ctx.launch)).select(x=ct).order_by("x").limit(3).to_pandas()
        pre_ex = tuple(fmt_value(pd.Timestamp(v)) for v in early["x"])
    return DateFacts(
        daily=daily_series(day_index, days["c"].to_numpy(), col), n=n,
        vmin=pd.Timestamp(first[f"dmin{i}"]), vmax=pd.Timestamp(first[f"dmax{i}"]),
        n_future=n_future, n_prelaunch=n_pre, n_after_as_of=_int(first.get(f"aft{i}")),
        future_examples=fut_ex, prelaunch_examples=pre_ex,
    )  # fmt: skip


def table_facts(t: ir.Table, ctx: TableContext) -> EngineFacts:
    """The :class:`~workbench.profiling.columns.ColumnFacts` of every column of an engine table.

    Parameters
    ----------
    t : ibis Table
    ctx : TableContext
        Its ``n`` is not used (the query counts the rows).

    Returns
    -------
    EngineFacts
    """
    schema = t.schema()
    plan: dict[str, tuple[str, str]] = {}
    for col in t.columns:
        stored = stored_flavour(schema[col])
        plan[col] = (stored, column_kind(ctx, col, stored)[1])
    first = _first_pass(t, ctx, plan)
    n = int(first["n"])
    second = _second_pass(t, plan, first, ctx.options.outlier_iqr_k)
    columns: dict[str, ColumnFacts] = {}
    memory = 0
    for i, (col, (stored, kind)) in enumerate(plan.items()):
        dtype = str(schema[col])
        n_valid = int(first[f"v{i}"])
        memory += arrow_bytes(stored, n, _int(first.get(f"len{i}")))
        if ctx.hides(col) or stored == "datetime" or not n_valid:
            nd = _n_distinct(t, col) if n_valid else 0
            dates = None
            if stored == "datetime" and n_valid and not ctx.hides(col):
                dates = _date_facts(t, ctx, col, i, first, n)
            columns[col] = ColumnFacts(dtype, stored, n_valid, nd, dates=dates)
            continue
        nd, top, rare, imb, examples = _levels(t, ctx, col, n_valid)
        numeric = None
        if wants_numeric(kind, stored):
            m = _int(first.get(f"m{i}"))
            numeric = numeric_row(
                m=m, n_infinite=_int(first.get(f"inf{i}")), mean=first.get(f"mean{i}") or 0.0,
                m2=second.get(f"m2_{i}", 0.0), m3=second.get(f"m3_{i}", 0.0), m4=second.get(f"m4_{i}", 0.0),
                vmin=first.get(f"min{i}") or 0.0, vmax=first.get(f"max{i}") or 0.0,
                quantiles=list(first[f"q{i}"]) if m else (), n_zeros=_int(first.get(f"zero{i}")),
                n_negative=_int(first.get(f"neg{i}")), n_outliers=_int(second.get(f"out{i}")),
                integer_valued=_int(first.get(f"frac{i}")) == 0, k=ctx.options.outlier_iqr_k,
            )  # fmt: skip
        key_dups = n_valid - nd if is_single_key(ctx, col) else 0
        columns[col] = ColumnFacts(dtype, stored, n_valid, nd, top=top, n_rare_levels=rare, imbalance=imb,
                                   key_dups=key_dups, key_examples=examples, numeric=numeric)  # fmt: skip
    return EngineFacts(n=n, columns=columns, memory_bytes=memory)


def duplicate_rows(t: ir.Table, n: int) -> int:
    """Rows that are an exact copy of an earlier row: ``n`` minus the distinct rows."""
    return n - int(t.distinct().count().to_pandas())


def duplicates(t: ir.Table, n: int, key: Sequence[str], *, distinct_rows: bool) -> tuple[int, int, list[Any]]:
    """Exact duplicate rows and rows repeating the key of an earlier row, in one query.

    Keys are counted among the rows with a complete key, after dropping exact duplicate rows when
    ``distinct_rows`` (as the pandas path and cleaning count them).

    Returns
    -------
    (int, int, list)
        Exact duplicate rows (0 unless ``distinct_rows``), rows repeating a key, and up to 5
        repeated keys by value (``"a/b"`` for a key of several columns).
    """
    rows = t.distinct() if distinct_rows else t
    g = rows.group_by(list(key)).aggregate(_c=ibis._.count())
    complete = ibis.and_(*[g[c].notnull() for c in key])
    stats = g.aggregate(_all=g._c.sum(), _keyed=g._c.sum(where=complete), _keys=g.count(where=complete))
    ex = g.filter(complete & (g._c > 1)).order_by(list(key)).limit(_EXAMPLES)
    ex = ex.select(**{f"_k{j}": ex[c] for j, c in enumerate(key)}, _j=ibis.literal(1))
    res = stats.mutate(_j=ibis.literal(1)).left_join(ex, "_j").to_pandas()
    n_dup_rows = n - _int(res["_all"].iloc[0]) if distinct_rows else 0
    key_dups = _int(res["_keyed"].iloc[0]) - _int(res["_keys"].iloc[0])
    found = res.dropna(subset=["_k0"]).sort_values([f"_k{j}" for j in range(len(key))]) if key_dups else res.iloc[:0]
    if len(key) == 1:
        return n_dup_rows, key_dups, [fmt_value(v) for v in found["_k0"]]
    cols = [f"_k{j}" for j in range(len(key))]
    return n_dup_rows, key_dups, ["/".join(map(str, r)) for r in found[cols].itertuples(index=False)]


def missing_pattern_counts(t: ir.Table, cols: Sequence[str], *, limit: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
    """Rows per combination of missing ``cols`` (bit ``j`` set = ``cols[j]`` missing).

    Returns
    -------
    (codes, counts) : numpy.ndarray of int64
        The ``limit`` most common combinations.
    """
    flags = {f"m{j}": _missing(t[c]) for j, c in enumerate(cols)}
    g = t.group_by(**flags).aggregate(rows=ibis._.count()).order_by(ibis.desc("rows")).limit(limit).to_pandas()
    codes = np.zeros(len(g), dtype=np.int64)
    for j in range(len(cols)):
        codes |= g[f"m{j}"].to_numpy(dtype=bool).astype(np.int64) << j
    return codes, g["rows"].to_numpy(dtype=np.int64)


def seeded_sample(t: ir.Table, n: int, size: int, random_state: int | None) -> pd.DataFrame:
    """At most ``size`` rows of the table, drawn by the engine with ``random_state`` (every row
    when ``n <= size``): a Bernoulli sample of ``size / n`` of the rows, cut to ``size`` with
    the same seed when it overshoots."""
    if n <= size:
        return t.to_pandas()
    frame = t.sample(size / n, seed=random_state).to_pandas()
    if len(frame) > size:
        rng = np.random.default_rng(random_state)
        frame = frame.iloc[np.sort(rng.choice(len(frame), size=size, replace=False))]
    return frame.reset_index(drop=True)


def refund_expr(t: ir.Table) -> ir.BooleanValue:
    """Refund lines in the engine, as :func:`workbench.data.orders.refund_mask`: ``is_refund``
    true or ``status`` (stripped, lower-cased) one of :data:`~workbench.data.orders.REFUND_STATUSES`."""
    mask = ibis.literal(False)
    if "is_refund" in t.columns:
        mask = mask | t.is_refund.cast("boolean").fill_null(False)
    if "status" in t.columns:
        mask = mask | t.status.cast("string").strip().lower().isin(list(REFUND_STATUSES)).fill_null(False)
    return mask


def order_counts(t: ir.Table) -> dict[str, Any]:
    """Refund lines (and their amount total) and negative amounts not marked as refunds, with 5
    examples of the latter (in the engine's row order)."""
    ref = refund_expr(t)
    aggs: dict[str, ir.Scalar] = {"refunds": ref.sum()}
    if "amount" in t.columns:
        amount = t.amount.cast("float64")
        aggs["refund_total"] = amount.sum(where=ref)
        aggs["negative"] = amount.count(where=(amount < 0) & ~ref)
    out = _first(t.aggregate(**aggs))
    out["examples"] = []
    if _int(out.get("negative")):
        amount = t.amount.cast("float64")
        rows = t.filter((amount < 0) & ~ref).select(a=amount).limit(_EXAMPLES).to_pandas()
        out["examples"] = rows["a"].tolist()
    return out


def unmatched_keys(rows: ir.Table, col: str, target: ir.Table, t_col: str, *, limit: int = _EXAMPLES) -> tuple[int, list[Any]]:
    """Rows whose ``col`` has a value missing from ``target.t_col``, and up to ``limit`` such
    values (by value)."""
    keys = target.filter(target[t_col].notnull()).select(k=target[t_col]).distinct()
    have = rows.filter(rows[col].notnull())
    miss = have.filter(~have[col].isin(keys.k))
    n = int(miss.count().to_pandas())
    if not n:
        return 0, []
    ex = miss.select(v=miss[col]).distinct().order_by("v").limit(limit).to_pandas()
    return n, ex["v"].tolist()


def spender_scores_expr(orders: ir.Table) -> tuple[ir.Table, float, float]:
    """Total spend per customer and the median and scale of its logarithm, as
    :func:`workbench.data.cleaning.spender_scores` and :func:`~workbench.data.cleaning.robust_z`
    compute them (spend: positive ``amount`` of lines that are not refunds).

    Returns
    -------
    (scores, median, scale)
        ``scores``: an engine table, one row per customer: ``customer_id``, ``spend``,
        ``orders``, ``log_spend`` (NULL without positive spend); the robust z of a customer is
        ``(log_spend - median) / scale`` (0 when ``scale`` is 0).
    """
    amount = orders.amount.cast("float64")
    use = (amount > 0) & ~refund_expr(orders)
    per = (
        orders.filter(orders.customer_id.notnull())
        .group_by("customer_id")
        .aggregate(spend=amount.sum(where=use), orders=ibis._.count())
    )
    per = per.mutate(spend=per.spend.fill_null(0.0))
    per = per.mutate(log_spend=ibis.ifelse(per.spend > 0, per.spend.ln(), ibis.null("float64")))
    med_v = _first(per.aggregate(m=per.log_spend.median()))["m"]
    if med_v is None or pd.isna(med_v):
        return per, float("nan"), 0.0
    med = float(med_v)
    dev = (per.log_spend - med).abs()
    spread = _first(per.aggregate(mad=dev.median(), mean=dev.mean()))
    scale = _MAD_SCALE * float(spread["mad"])
    if scale == 0:
        scale = _MEANAD_SCALE * float(spread["mean"])
    return per, med, scale


def reference_pairs(tables: Mapping[str, ir.Table]) -> list[tuple[str, str, str, str]]:
    """The contract's references present among ``tables``: (table, column, target table, target
    column)."""
    out = []
    for name, t in tables.items():
        spec = TABLES.get(name)
        if spec is None:
            continue
        for col, target in spec.references.items():
            t_table, t_col = target.split(".")
            if t_table in tables and col in t.columns and t_col in tables[t_table].columns:
                out.append((name, col, t_table, t_col))
    return out


def engine_of(t: ir.Table) -> str:
    """The workbench's name of the engine a table is bound to."""
    return backend_name(t.get_backend())
