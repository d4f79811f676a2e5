"""Benchmark of the foundation: intake, profiling and the engine feature build on synthetic data.

Not a test: it prints seconds and peak memory (max resident set size) for each step at each size.
Every step runs in a fresh Python process, so the peak memory is that step's own.

    .venv/bin/python benchmarks/bench_foundation.py                 # 1M and 10M orders
    .venv/bin/python benchmarks/bench_foundation.py --orders 1e6    # one size
    .venv/bin/python benchmarks/bench_foundation.py --ydata         # + ydata-profiling on 1M rows
    .venv/bin/python benchmarks/bench_foundation.py --sql --orders 1e8   # the DuckDB-written base

``--sql`` writes the base with DuckDB alone (:func:`write_sql_base`: ``COPY (SELECT ... FROM
range(n))``, values from ``hash`` of the row number, in bounded memory: 100M orders and 10M
customers in a few minutes) instead of the Python simulator, whose planted truth the benchmarks of
scale do not need; it lands in ``out/sql_orders_<n>/``.

``--ydata`` compares with ydata-profiling (``minimal=True``) on the same 1M-row orders table. That
package pins pandas < 3, so it is never a project dependency: it is installed into its own
virtual environment ``benchmarks/.venv-ydata`` on first use (from PyPI, by pip).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

#: Days from 2023-01-01 to the last order day 2025-12-31, and to the last sign-up 2025-09-30.
_ORDER_DAYS, _SIGNUP_DAYS = 1095, 1003

# A customer's traits are functions of its number c, so orders and customers agree without a
# join: sign-up day, lifetime (exponential, mean ~400 days), spend level and preferred channel.
# Row j of the orders picks its customer by a skewed draw (u^2: a few buy often, most rarely) and
# a time uniform in the customer's active span (sign-up to the end of life or of the data).
_CUSTOMER_TRAITS = f"""
CREATE MACRO u(a, b) AS (hash(a, b) % 1000000007) / 1000000007.0;  -- fine enough for 10M customers
CREATE MACRO signup_day(c) AS CAST(floor(u(c, 11) * {_SIGNUP_DAYS}) AS BIGINT);
CREATE MACRO span_days(c) AS greatest(1, least({_ORDER_DAYS} - signup_day(c),
    CAST(floor(-400 * ln(1 - 0.999 * u(c, 12))) AS BIGINT)));
CREATE MACRO spend(c) AS exp(3.5 + 1.2 * (u(c, 13) + u(c, 14) + u(c, 15) - 1.5));
CREATE MACRO pick(c, k) AS ['app', 'web', 'mini_program', 'store'][1 + CAST(hash(c, k) % 4 AS BIGINT)];
"""

_ORDERS_SQL = """
COPY (
  WITH o AS (
    SELECT j, CAST(floor({customers} * u(j, 1) * u(j, 1)) AS BIGINT) AS c FROM range({n}) t(j)
  )
  SELECT
    'O' || lpad(CAST(j AS VARCHAR), 11, '0') AS order_id,
    'C' || lpad(CAST(c AS VARCHAR), 9, '0') AS customer_id,
    TIMESTAMP '2023-01-01' + to_days(signup_day(c)) + to_seconds(CAST(floor(u(j, 2) * span_days(c) * 86400) AS BIGINT))
      AS order_time,
    CASE WHEN u(j, 3) < 0.03 THEN -1 ELSE 1 END * round(spend(c) * exp(0.5 * (u(j, 4) - 0.5)), 2) AS amount,
    CASE WHEN u(j, 5) < 0.7 THEN pick(c, 16) ELSE pick(j, 6) END AS channel,
    CASE WHEN u(j, 3) < 0.03 THEN 'refunded' ELSE 'paid' END AS status,
    u(j, 3) < 0.03 AS is_refund,
    round(0.3 * spend(c) * exp(0.5 * (u(j, 4) - 0.5)) * (0.8 + 0.4 * u(j, 7)), 2) AS margin
  FROM o
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
"""

_CUSTOMERS_SQL = """
COPY (
  SELECT
    'C' || lpad(CAST(c AS VARCHAR), 9, '0') AS customer_id,
    TIMESTAMP '2023-01-01' + to_days(signup_day(c)) AS signup_date,
    ['女', '男'][1 + CAST(hash(c, 21) % 2 AS BIGINT)] AS gender,
    ['北京', '上海', '广州', '深圳', '杭州', '成都'][1 + CAST(hash(c, 22) % 6 AS BIGINT)] AS city,
    ['organic', 'search', 'social', 'referral'][1 + CAST(hash(c, 23) % 4 AS BIGINT)] AS acquisition_channel,
    ['non_member', 'silver', 'gold'][1 + CAST(hash(c, 24) % 3 AS BIGINT)] AS member_level
  FROM range({customers}) t(c)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)
"""


def write_sql_base(folder: Path, orders: int, *, memory_limit: str = "4GB") -> dict:
    """Write ``orders.parquet`` (``orders`` rows) and ``customers.parquet`` (one per ten orders)
    with DuckDB alone, in bounded memory; microsecond timestamps, as the engine reads them.

    Parameters
    ----------
    folder : Path
        Created when missing; the files are written under temporary names and renamed.
    orders : int
        Order rows.
    memory_limit : str, default "4GB"
        DuckDB's memory limit while writing.

    Returns
    -------
    dict
        ``orders``, ``customers`` and ``seconds``.
    """
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    customers = max(1000, orders // 10)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(_CUSTOMER_TRAITS)
    for name, sql in (("orders", _ORDERS_SQL), ("customers", _CUSTOMERS_SQL)):
        tmp = folder / f"{name}.parquet.tmp"
        con.execute(sql.format(n=orders, customers=customers, path=tmp))
        tmp.rename(folder / f"{name}.parquet")
    con.close()
    return {"orders": orders, "customers": customers, "seconds": round(time.perf_counter() - t0, 1)}
YDATA_VENV = HERE / ".venv-ydata"

STEP = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    step, folder, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    t0 = time.perf_counter()
    if step == "synth":
        from workbench.synth import write_example
        write_example(folder, n_customers=extra["customers"], seed=1, defects=False, formats="canonical")
        import pandas as pd
        info = {"orders": len(pd.read_parquet(folder + "/orders.parquet", columns=["order_id"]))}
    elif step == "intake_csv":
        import pandas as pd
        from workbench.run.params import params_from_dict
        from workbench.core.io import load_tables
        cols = {c: c for c in ["order_id", "customer_id", "order_time", "amount", "channel", "status", "is_refund"]}
        p = params_from_dict({"name": "bench", "as_of": "2025-09-30",
                              "tables": {"orders": {"path": folder + "/orders.csv.gz", "columns": cols}}})
        t = load_tables(p)["orders"]
        info = {"rows": len(t.frame)}
    elif step == "profiling":
        import pandas as pd
        from workbench.core.contract import LoadedTable, ColumnReport
        from workbench import profiling
        frame = pd.read_parquet(folder + "/orders.parquet")
        cust = pd.read_parquet(folder + "/customers.parquet")
        t0 = time.perf_counter()
        tables = {
            "orders": LoadedTable("orders", frame, {"path": "orders.parquet"}, []),
            "customers": LoadedTable("customers", cust, {"path": "customers.parquet"}, []),
        }
        prof = profiling.profile_tables(tables, as_of="2025-09-30", launch_date="2023-01-01", random_state=0)
        alerts = prof.alerts()
        info = {"rows": len(frame), "alerts": len(alerts)}
    elif step == "features":
        from workbench.data.features import connect, customer_features
        con = connect()
        orders = con.read_parquet(folder + "/orders.parquet", table_name="orders")
        customers = con.read_parquet(folder + "/customers.parquet", table_name="customers")
        f = customer_features(orders, as_of="2025-09-30", customers=customers, con=con)
        info = {"customers": len(f)}
    elif step == "ydata":
        import pandas as pd
        from ydata_profiling import ProfileReport
        frame = pd.read_parquet(folder + "/orders.parquet")
        t0 = time.perf_counter()
        ProfileReport(frame, minimal=True, progress_bar=False).to_file(folder + "/ydata.html")
        info = {"rows": len(frame)}
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"step": step, "seconds": round(seconds, 1), "peak_mb": round(peak_mb), **info}))
    """
)


def run_step(step: str, folder: Path, python: str = sys.executable, **extra: object) -> dict:
    """Run one step in a fresh process and return its JSON line."""
    res = subprocess.run(
        [python, "-c", STEP, step, str(folder), json.dumps(extra)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        raise RuntimeError(f"step {step} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def ensure_ydata() -> str:
    """Create the separate ydata-profiling environment if missing; return its python."""
    py = YDATA_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(YDATA_VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "ydata-profiling", "pyarrow"], check=True)
    return str(py)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=float, action="append", help="target order rows (repeatable); default 1e6 and 1e7")
    ap.add_argument("--ydata", action="store_true", help="also time ydata-profiling (minimal=True) on the 1M table")
    ap.add_argument("--csv", action="store_true", help="also time CSV intake (parsing) at each size")
    ap.add_argument("--sql", action="store_true", help="only write the DuckDB base (write_sql_base) of each size")
    args = ap.parse_args(argv)
    if args.sql:
        for target in [int(s) for s in (args.orders or [1e6, 1e7])]:
            folder = OUT / f"sql_orders_{target:.0e}"
            if not (folder / "orders.parquet").exists():
                print({"folder": str(folder), **write_sql_base(folder, target)}, flush=True)
        return 0
    sizes = [int(s) for s in (args.orders or [1e6, 1e7])]
    OUT.mkdir(exist_ok=True)
    rows = []
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}")
    for target in sizes:
        folder = OUT / f"orders_{target:.0e}"
        customers = max(1000, int(target / 10.5))  # the generator makes ~10 orders per customer
        if not (folder / "orders.parquet").exists():
            r = run_step("synth", folder, customers=customers)
            rows.append({"size": target, **r})
            print(rows[-1], flush=True)
        steps = ["profiling", "features"] + (["intake_csv"] if args.csv else [])
        if args.csv and not (folder / "orders.csv.gz").exists():
            import pandas as pd

            pd.read_parquet(folder / "orders.parquet").to_csv(folder / "orders.csv.gz", index=False)
        for step in steps:
            r = run_step(step, folder)
            rows.append({"size": target, **r})
            print(rows[-1], flush=True)
        if args.ydata and target == sizes[0]:
            t = time.perf_counter()
            py = ensure_ydata()
            r = run_step("ydata", folder, python=py)
            rows.append({"size": target, **r, "setup_seconds": round(time.perf_counter() - t - r["seconds"], 1)})
            print(rows[-1], flush=True)
    print("\n| orders | step | seconds | peak memory (MB) |\n|---:|---|---:|---:|")
    for r in rows:
        print(f"| {r['size']:,} | {r['step']} | {r['seconds']} | {r['peak_mb']:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
