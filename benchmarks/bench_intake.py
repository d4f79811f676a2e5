"""Benchmark: CSV intake of a large orders file, pandas path against the DuckDB scan.

Not a test: prints seconds and peak memory (VmHWM of the process) of
``workbench.core.io.load_tables`` on one synthetic orders CSV, each path in its own fresh
process. The file looks like the bundled example's orders export: Chinese headers, UTF-8 with a
byte-order mark, eleven mapped columns, and (``--messy``) a share of amounts written ``￥1,234.50``
and dates written ``2024/3/5`` that the strict SQL parse leaves to the pandas parsers. It is
written once and cached outside the repository (``$WORKBENCH_BENCH_CACHE``, default
``~/.cache/workbench-bench``).

    .venv/bin/python benchmarks/bench_intake.py --orders 1e6
    .venv/bin/python benchmarks/bench_intake.py --orders 1e7 --messy 0.01
    .venv/bin/python benchmarks/bench_intake.py --orders 1e6 --paths scan
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
HEADERS = ["订单号", "会员ID", "下单时间", "实付金额", "渠道", "订单状态", "是否退款", "数量", "优惠金额", "毛利", "品类"]
COLUMNS = dict(zip(
    ["order_id", "customer_id", "order_time", "amount", "channel", "status", "is_refund", "quantity", "discount",
     "margin", "product_category"], HEADERS, strict=True,
))  # fmt: skip

STEP = textwrap.dedent(
    """
    import json, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    path, scan = sys.argv[1], sys.argv[2] == "scan"
    from workbench.run.params import params_from_dict
    from workbench.core.io import load_tables
    cols = json.loads(sys.argv[3])
    p = params_from_dict({"name": "bench", "as_of": "2025-09-30",
                          "tables": {"orders": {"path": path, "columns": cols}}})
    t0 = time.perf_counter()
    t = load_tables(p, scan=scan)["orders"]
    seconds = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    status = open("/proc/self/status").read()
    hwm = int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024
    bad = {c.column: c.n_unparseable for c in t.columns if c.n_unparseable}
    print(json.dumps({"seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": hwm, "rows": len(t.frame), "reader": t.source.get("reader", "pandas"),
                      "unparseable": bad, "frame_mb": t.frame.memory_usage(deep=True).sum() / 2**20}))
    """
)


def write_orders(path: Path, n: int, *, messy: float, seed: int = 7) -> None:
    """Write ``n`` synthetic order rows (UTF-8 with BOM, Chinese headers), in blocks."""
    rng = np.random.default_rng(seed)
    n_cust = max(1, n // 10)
    channels = np.array(["app", "web", "小程序", "门店"])
    statuses = np.array(["paid", "paid", "paid", "refunded", "cancelled"])
    cats = np.array(["服装", "家居", "美妆", "食品", "数码"])
    start = np.datetime64("2023-01-01T00:00:00").astype("datetime64[s]").astype(np.int64)
    span = 3 * 365 * 86400
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(HEADERS) + "\n")
        block = 500_000
        for lo in range(0, n, block):
            k = min(block, n - lo)
            ids = np.char.add("O", np.char.zfill(np.arange(lo + 1, lo + k + 1).astype(str), 10))
            cust = np.char.add("C", (1_000_000 + rng.integers(0, n_cust, k)).astype(str))
            secs = np.sort(rng.integers(start, start + span, k))
            times = np.datetime_as_string(secs.astype("datetime64[s]"), unit="s")
            times = np.char.replace(times, "T", " ")
            amount = np.round(rng.gamma(2.0, 200.0, k), 2)
            amt = np.char.mod("%.2f", amount)
            if messy > 0:
                odd = rng.random(k) < messy
                amt = np.where(odd, np.char.add("￥", amt), amt)
                odd_t = rng.random(k) < messy
                days = np.datetime_as_string(secs.astype("datetime64[s]").astype("datetime64[D]"), unit="D")
                times = np.where(odd_t, np.char.replace(days, "-", "/"), times)
            refund = rng.random(k) < 0.05
            frame_cols = [
                ids, cust, times, amt, channels[rng.integers(0, 4, k)], statuses[rng.integers(0, 5, k)],
                np.where(refund, "是", "否"), rng.integers(1, 5, k).astype(str),
                np.char.mod("%.2f", np.round(amount * rng.random(k) * 0.2, 2)),
                np.char.mod("%.2f", np.round(amount * 0.4, 2)), cats[rng.integers(0, 5, k)],
            ]  # fmt: skip
            lines = frame_cols[0]
            for c in frame_cols[1:]:
                lines = np.char.add(np.char.add(lines, ","), c)
            fh.write("\n".join(lines.tolist()) + "\n")
    tmp.replace(path)


def run_path(path: Path, which: str, *, step: str | None = None, columns: dict | None = None) -> dict:
    """Time one path in a fresh process (``step``: the script it runs, default this file's)."""
    res = subprocess.run(
        [sys.executable, "-c", step or STEP, str(path), which, json.dumps(columns or COLUMNS, ensure_ascii=False)],
        capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if res.returncode:
        raise SystemExit(f"{which} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def size_args(ap: argparse.ArgumentParser) -> None:
    """``--orders`` and ``--messy``, the size and mess of the synthetic orders."""
    ap.add_argument("--orders", type=float, default=1e6, help="order rows (default 1e6)")
    ap.add_argument("--messy", type=float, default=0.0, help="share of amounts and dates in other formats")


def bench_cache() -> Path:
    """Folder of the written sources, kept between runs (``WORKBENCH_BENCH_CACHE``)."""
    cache = Path(os.environ.get("WORKBENCH_BENCH_CACHE", Path.home() / ".cache" / "workbench-bench"))
    cache.mkdir(parents=True, exist_ok=True)
    return cache


def main(argv: list[str] | None = None) -> int:
    """Write (or reuse) the file, run both paths and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size_args(ap)
    ap.add_argument("--paths", default="pandas,scan", help="which paths to run: pandas, scan or both")
    args = ap.parse_args(argv)
    n = int(args.orders)
    path = bench_cache() / f"orders_{n}_{args.messy:g}.csv"
    if not path.exists():
        print(f"writing {path} ...", flush=True)
        write_orders(path, n, messy=args.messy)
    size = path.stat().st_size / 2**20
    print(f"\n{n:,} orders, {size:,.0f} MB, messy share {args.messy:g}\n")
    print("| path | seconds | CPU seconds | peak memory (MB) | typed frame (MB) | rows | unparseable |\n"
          "|---|---:|---:|---:|---:|---:|---|")
    for which in args.paths.split(","):
        r = run_path(path, which.strip())
        print(f"| {which} ({r['reader']}) | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:,.0f} | {r['frame_mb']:,.0f} "
              f"| {r['rows']:,} | {r['unparseable'] or '-'} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
