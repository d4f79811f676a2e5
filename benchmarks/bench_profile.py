"""Benchmark of the data profile on large tables: the engine path in bounded memory.

Not a test: it prints seconds and peak memory of :func:`workbench.profiling.profile_tables` with
the engine path (``con=``, DuckDB) on a synthetic orders table of ``--rows`` rows and its
customers (one per ten orders), both Parquet with microsecond timestamps.

    .venv/bin/python benchmarks/bench_profile.py --rows 1e6
    .venv/bin/python benchmarks/bench_profile.py --rows 1e7 --rows 1e8 --memory-limit 12GB

The Parquet files are written by DuckDB itself (``COPY (SELECT ... FROM range(N)) TO ...``: a few
seconds for 10M rows, values from ``hash`` of the row number, so the same size gives the same file) and cached
outside the repository under ``--cache`` (default ``<temp>/crm-workbench-bench``). The orders
carry the defects the profile looks for: missing values, zeros, negative amounts, refunds,
exact duplicate rows, repeated order ids, future and pre-launch dates, orphan customers.

Each size is profiled in its own Python process (``--child``), which reports its seconds and the
kernel's peak resident set (``VmHWM``): the engine's memory and pandas' together.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AS_OF = "2025-09-30"
LAUNCH = "2023-01-01"
DATA_END = "2026-01-01"
SEED = 42

ORDERS_SQL = """
COPY (
  WITH base AS (
    SELECT i, CASE WHEN i % 5000 = 1 THEN i - 1 ELSE i END AS j   -- every 5,000th row an exact copy
    FROM range({n}) t(i)
  )
  SELECT
    'O' || lpad(CAST(CASE WHEN j % 1000 = 7 THEN j - 1 ELSE j END AS VARCHAR), 11, '0') AS order_id,
    'C' || lpad(CAST(h(j, 1) % {orders_customers} AS VARCHAR), 9, '0') AS customer_id,
    CASE
      WHEN j % 100003 = 11 THEN TIMESTAMP '2030-01-01' + to_seconds(CAST(h(j, 2) % 86400 AS BIGINT))
      WHEN j % 100003 = 12 THEN TIMESTAMP '1900-01-01'
      ELSE TIMESTAMP '2023-01-01' + to_seconds(CAST(h(j, 2) % (1000 * 86400) AS BIGINT))
    END AS order_time,
    CASE
      WHEN j % 211 = 0 THEN NULL
      WHEN j % 997 = 0 THEN -round(exp(2 + 3 * (h(j, 3) % 10000) / 10000.0), 2)
      ELSE round(exp(2 + 3 * (h(j, 3) % 10000) / 10000.0), 2)
    END AS amount,
    CASE WHEN j % 97 = 0 THEN NULL ELSE ['app', 'web', 'mini_program', 'store'][1 + h(j, 4) % 4] END AS channel,
    CASE h(j, 5) % 25 WHEN 0 THEN 'refunded' WHEN 1 THEN 'cancelled' ELSE 'paid' END AS status,
    h(j, 5) % 25 = 0 AS is_refund,
    CAST(1 + h(j, 6) % 5 AS BIGINT) AS quantity,
    CASE WHEN h(j, 7) % 3 = 0 THEN 0.0 ELSE round(exp(2 + 3 * (h(j, 3) % 10000) / 10000.0) * 0.1, 2) END
      AS discount,
    round(exp(2 + 3 * (h(j, 3) % 10000) / 10000.0) * 0.3, 2) AS margin,
    ['apparel', 'beauty', 'food', 'home', 'digital', 'baby', 'sports', 'books'][1 + h(j, 8) % 8]
      AS product_category
  FROM base
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""

CUSTOMERS_SQL = """
COPY (
  SELECT
    'C' || lpad(CAST(i AS VARCHAR), 9, '0') AS customer_id,
    TIMESTAMP '2023-01-01' + to_seconds(CAST(h(i, 11) % (1000 * 86400) AS BIGINT)) AS signup_date,
    ['北京', '上海', '广州', '深圳', '杭州', '成都'][1 + h(i, 12) % 6] AS city,
    CASE WHEN i % 50 = 0 THEN NULL ELSE ['app', 'web', 'store'][1 + h(i, 13) % 3] END AS acquisition_channel
  FROM range({n}) t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd)
"""


def ensure_data(cache: Path, rows: int) -> tuple[Path, Path, float]:
    """The cached orders and customers Parquet of ``rows`` orders (written when missing), and the
    seconds it took to write them (0 when cached)."""
    import duckdb

    folder = cache / f"profile_orders_{rows}"
    orders, customers = folder / "orders.parquet", folder / "customers.parquet"
    if orders.exists() and customers.exists():
        return orders, customers, 0.0
    folder.mkdir(parents=True, exist_ok=True)
    n_customers = max(1, rows // 10)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("CREATE MACRO h(a, b) AS CAST(hash(a, b) % 1000000007 AS BIGINT)")  # deterministic, signed
    tmp_o, tmp_c = orders.with_suffix(".tmp"), customers.with_suffix(".tmp")
    # 1 % of the orders' customer ids are not in customers (orphans)
    con.execute(ORDERS_SQL.format(n=rows, orders_customers=int(n_customers * 1.01) + 1, path=tmp_o))
    con.execute(CUSTOMERS_SQL.format(n=n_customers, path=tmp_c))
    con.close()
    tmp_o.rename(orders)
    tmp_c.rename(customers)
    return orders, customers, time.perf_counter() - t0


def vmhwm_mb() -> float | None:
    """The kernel's peak resident set of this process (``VmHWM``), MB; None when not on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def child(orders: Path, customers: Path, *, threads: int | None, memory_limit: str | None, sample: int) -> dict:
    """Profile the two tables through the engine path; seconds, peak memory and a few figures."""
    from workbench.data import engine
    from workbench.profiling import profile_tables

    t0 = time.perf_counter()
    con = engine.connect(threads=threads, memory_limit=memory_limit)
    prof = profile_tables(
        {"customers": customers, "orders": orders}, con=con, as_of=AS_OF, launch_date=LAUNCH,
        data_end=DATA_END, random_state=SEED, correlation_sample=sample,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    tp = prof.profiles["orders"]
    al = prof.alerts()
    out = {
        "seconds": round(seconds, 2),
        "peak_rss_mb": vmhwm_mb(),
        "orders_rows": tp.n_rows,
        "sample_rows": tp.sample_rows,
        "alerts": len(al),
        "alert_kinds": sorted(set(al["kind"])),
        "duplicate_rows": tp.n_duplicate_rows,
        "duplicate_keys": tp.n_duplicate_keys,
        "note": tp.sample_note(),
    }
    engine.close(con)
    return out


def run_size(rows: int, args: argparse.Namespace) -> dict:
    """Write (or reuse) the data of one size and profile it in a fresh process."""
    orders, customers, made = ensure_data(args.cache, rows)
    cmd = [sys.executable, __file__, "--child", str(orders), str(customers), "--sample-rows", str(args.sample_rows)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise SystemExit(f"profiling {rows:,} rows failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out.update(rows=rows, write_seconds=round(made, 2), parquet_mb=round(orders.stat().st_size / 2**20, 1))
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=float, action="append", help="order rows (repeatable); default 1e6")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "crm-workbench-bench")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    ap.add_argument("--memory-limit", default=None, help="DuckDB memory_limit, e.g. 8GB (default: DuckDB's)")
    ap.add_argument("--sample-rows", type=int, default=200_000, help="correlation_sample (rows of the sample)")
    ap.add_argument("--child", nargs=2, type=Path, metavar=("ORDERS", "CUSTOMERS"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, threads=args.threads, memory_limit=args.memory_limit,
                               sample=args.sample_rows)))  # fmt: skip
        return
    sizes = [int(r) for r in (args.rows or [1e6])]
    print(f"{'orders':>13} {'parquet MB':>10} {'write s':>8} {'profile s':>9} {'peak RSS MB':>11} "
          f"{'dup rows':>9} {'dup keys':>9} {'alerts':>6}")  # fmt: skip
    for rows in sizes:
        r = run_size(rows, args)
        peak = f"{r['peak_rss_mb']:,.0f}" if r["peak_rss_mb"] is not None else "n/a"
        print(f"{r['rows']:>13,} {r['parquet_mb']:>10,.1f} {r['write_seconds']:>8.1f} {r['seconds']:>9.1f} "
              f"{peak:>11} {r['duplicate_rows']:>9,} {r['duplicate_keys']:>9,} {r['alerts']:>6}")  # fmt: skip
        if r["note"]:
            print(f"{'':>13} {r['note']}")
    print(f"alert kinds: {', '.join(r['alert_kinds'])}")


if __name__ == "__main__":
    main()
