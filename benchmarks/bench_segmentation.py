"""Benchmark: the whole segmentation notebook on a large synthetic base.

Not a test: prints wall seconds and the peak memory (largest resident set of the runner and its
notebook kernel). Uses the canonical Parquet base that ``bench_foundation.py`` writes (about 1M
customers and 10M orders by default) and runs ``workbench run segmentation`` on it.

    .venv/bin/python benchmarks/bench_segmentation.py                 # ~1M customers
    .venv/bin/python benchmarks/bench_segmentation.py --orders 1e6    # ~95k customers
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=float, default=1e7, help="order rows of the synthetic base (default 1e7)")
    args = ap.parse_args(argv)
    target = int(args.orders)
    folder = HERE / "out" / f"orders_{target:.0e}"
    if not (folder / "orders.parquet").exists():
        subprocess.run([sys.executable, str(HERE / "bench_foundation.py"), "--orders", str(target)], check=True)
    cols = {
        "customers": ["customer_id", "signup_date", "gender", "city", "acquisition_channel", "member_level"],
        "orders": ["order_id", "customer_id", "order_time", "amount", "channel", "status", "is_refund", "margin"],
    }
    doc = {
        "name": f"bench-seg-{target:.0e}".replace("+", ""),
        "as_of": "2025-09-30",
        "launch_date": "2023-01-01",
        "tables": {t: {"path": str(folder / f"{t}.parquet"), "columns": {c: c for c in cs}, "keep_extra_columns": False}
                   for t, cs in cols.items()},
        "analyses": {"data_profiling": {"enabled": False}, "segmentation": {
            "enabled": True, "clustering": {"k": 4}, "clv": {"calibration_end": "2025-03-31"}}},
    }
    params = HERE / "out" / f"{doc['name']}.yaml"
    params.write_text(yaml.safe_dump(doc), encoding="utf-8")
    t0 = time.perf_counter()
    res = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "workbench"), "run", "segmentation", "-p", str(params),
         "--reports", str(HERE / "out" / "reports"), "--no-progress"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(res.stdout[-1500:], res.stderr[-1500:] if res.returncode else "")
    print("\n| orders | customers | step | seconds | peak memory (MB) |\n|---:|---:|---|---:|---:|")
    import pandas as pd

    n_cust = len(pd.read_parquet(folder / "customers.parquet", columns=["customer_id"]))
    print(f"| {target:,} | {n_cust:,} | segmentation notebook (intake + cleaning + all sections) "
          f"| {seconds:.0f} | {peak:,.0f} |")
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
