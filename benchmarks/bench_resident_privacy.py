"""Benchmark: personal data of a resident orders table, found and treated in DuckDB.

Not a test: writes (once, with DuckDB) an orders-like Parquet file of ``--orders`` rows whose
``customer_id`` has ``--customers`` distinct values, then, in a fresh process, runs
``workbench.run.intake.protect_loaded`` on it as a resident table with
``privacy.columns: {orders.customer_id: pseudonymize}`` (and ``--phones``: a phone column masked
too). Prints seconds and peak memory (VmHWM) of that process; run it under ``/usr/bin/time -v``
for the same figure from outside. The file is cached outside the repository
(``$WORKBENCH_BENCH_CACHE``, default ``~/.cache/workbench-bench``).

    .venv/bin/python benchmarks/bench_resident_privacy.py --orders 1e7 --customers 1e6
    /usr/bin/time -v .venv/bin/python benchmarks/bench_resident_privacy.py --orders 1e7 --step
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def cache_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_BENCH_CACHE", Path.home() / ".cache" / "workbench-bench"))


def write_orders(path: Path, *, orders: int, customers: int, phones: bool) -> None:
    """An orders-like Parquet file written by DuckDB (microsecond timestamps, no pandas)."""
    import duckdb

    path.parent.mkdir(parents=True, exist_ok=True)
    phone = (", '1' || (3 + (hash(i * 7) % 7))::VARCHAR || lpad((hash(i * 13) % 1000000000)::VARCHAR, 9, '0') "
             "AS phone") if phones else ""  # fmt: skip
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.execute(f"""
            COPY (SELECT 'O' || lpad(i::VARCHAR, 10, '0') AS order_id,
                         'U' || lpad((hash(i) % {customers})::VARCHAR, 8, '0') AS customer_id,
                         TIMESTAMP '2023-01-01' + to_seconds((hash(i * 3) % 86400000)::BIGINT) AS order_time,
                         round(((hash(i * 5) % 100000) / 100.0)::DOUBLE, 2) AS amount,
                         ['app', 'web', 'store', 'mini'][1 + (i % 4)::INT] AS channel {phone}
                  FROM range({orders}) t(i))
            TO '{path}' (FORMAT parquet)""")


def step(raw: Path, out_dir: Path) -> dict:
    """protect_loaded on the resident table (this process: its peak memory is the figure)."""
    from workbench.core.contract import LoadedTable
    from workbench.core.resident import ResidentFrame
    from workbench.run.intake import protect_loaded
    from workbench.run.params import load_params

    params = load_params(ROOT / "params" / "example.yaml")
    params = params.model_copy(update={"privacy": params.privacy.model_copy(
        update={"columns": {"orders.customer_id": "pseudonymize"}})})
    work = out_dir / "orders.raw.parquet"
    shutil.copyfile(raw, work)
    table = LoadedTable(name="orders", frame=ResidentFrame.of(work, table="orders"), source=str(raw), columns=[])
    start = time.perf_counter()
    got, found = protect_loaded(table, params, seed=params.seed)
    seconds = time.perf_counter() - start
    hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM"))  # fmt: skip
    return {"rows": got.frame.rows, "seconds": round(seconds, 1), "peak_rss_mb": round(hwm / 1024),
            "found": [(pc.column, pc.kind, pc.detected_by, pc.treatment) for pc in found],
            "raw_left": work.exists()}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=float, default=1e7)
    ap.add_argument("--customers", type=float, default=1e6)
    ap.add_argument("--phones", action="store_true", help="add a phone column (masked: one mask per distinct phone)")
    ap.add_argument("--step", action="store_true", help="run the treatment in this process (for /usr/bin/time -v)")
    args = ap.parse_args()
    orders, customers = int(args.orders), int(args.customers)
    raw = cache_dir() / f"resident_orders_{orders}_{customers}{'_phones' if args.phones else ''}.parquet"
    if not raw.exists():
        start = time.perf_counter()
        write_orders(raw, orders=orders, customers=customers, phones=args.phones)
        print(f"wrote {raw} in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    out_dir = cache_dir() / "resident_privacy_run"
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    if args.step:
        print(json.dumps(step(raw, out_dir)))
        return
    cmd = [sys.executable, __file__, "--orders", str(orders), "--customers", str(customers), "--step"]
    if args.phones:
        cmd.append("--phones")
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
