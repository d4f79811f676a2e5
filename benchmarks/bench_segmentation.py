"""Benchmark: the segmentation notebook with resident orders at 1M, 10M and 100M orders.

Not a test: prints wall seconds and peak memory per size, as a table. The base is the DuckDB-written
Parquet of ``bench_foundation.write_sql_base`` (one customer per ten orders: 100M orders, 10M
customers), made on first use under ``benchmarks/out/sql_orders_<n>/``.

Two modes:

``--mode notebook`` (default)
    ``workbench run segmentation`` on a params file over that Parquet with
    ``engine.resident_rows`` small, so the orders stay in the engine from intake on: intake,
    privacy, cleaning and every section of the notebook. Peak memory is the largest resident set
    of the runner and its notebook kernel.
``--mode library``
    The notebook's library calls, in its order and with its options, on the Parquet directly
    (orders a :class:`~workbench.core.resident.ResidentFrame`, customers pandas), in a fresh
    process per size; seconds per step, and the process's peak resident set (``VmHWM``: pandas
    and the engine together). No intake, cleaning, charts or report.

    .venv/bin/python benchmarks/bench_segmentation.py --mode library --orders 1e6 --orders 1e7
    .venv/bin/python benchmarks/bench_segmentation.py --mode library --engine-only --orders 1e8 --memory-limit 10GB
    .venv/bin/python benchmarks/bench_segmentation.py --orders 1e6 --orders 1e7 --orders 1e8 --memory-limit 12GB
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AS_OF, LAUNCH, MIGRATION_FROM, CALIBRATION_END = "2025-09-30", "2023-01-01", "2025-06-30", "2025-03-31"
COLUMNS = {
    "customers": ["customer_id", "signup_date", "gender", "city", "acquisition_channel", "member_level"],
    "orders": ["order_id", "customer_id", "order_time", "amount", "channel", "status", "is_refund", "margin"],
}


def ensure_base(orders: int) -> Path:
    """The folder with ``orders.parquet`` and ``customers.parquet`` of ``orders`` rows (written
    by DuckDB when missing)."""
    sys.path.insert(0, str(HERE))
    from bench_foundation import OUT, write_sql_base

    folder = OUT / f"sql_orders_{orders:.0e}"
    if not (folder / "orders.parquet").exists() or not (folder / "customers.parquet").exists():
        print({"wrote": str(folder), **write_sql_base(folder, orders)}, flush=True)
    return folder


def params_doc(folder: Path, orders: int, *, memory_limit: str | None, threads: int | None) -> dict[str, Any]:
    """The params of the benchmark run: the Parquet base, orders resident, segmentation only."""
    engine: dict[str, Any] = {"backend": "duckdb", "resident_rows": 100_000}
    if memory_limit:
        engine["memory_limit"] = memory_limit
    if threads:
        engine["threads"] = threads
    return {
        "name": f"bench-seg-{orders:.0e}".replace("+", ""),
        "as_of": AS_OF,
        "launch_date": LAUNCH,
        "engine": engine,
        "tables": {t: {"path": str(folder / f"{t}.parquet"), "columns": {c: c for c in cs}, "keep_extra_columns": False}
                   for t, cs in COLUMNS.items()},
        "analyses": {"data_profiling": {"enabled": False}, "segmentation": {
            "enabled": True, "rfm": {"migration_from": MIGRATION_FROM}, "clustering": {"k": 4},
            "clv": {"calibration_end": CALIBRATION_END},
            "tags": {"high_value": "monetary_sum > 5000", "lapsed_vip": "abc_class == 'A' and recency_days > 180"}}},
    }  # fmt: skip


def run_notebook(orders: int, args: argparse.Namespace) -> dict[str, Any]:
    """``workbench run segmentation`` on the base of ``orders`` rows; seconds and peak memory."""
    folder = ensure_base(orders)
    doc = params_doc(folder, orders, memory_limit=args.memory_limit, threads=args.threads)
    params = HERE / "out" / f"{doc['name']}.yaml"
    params.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    t0 = time.perf_counter()
    res = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "workbench"), "run", "segmentation", "-p", str(params),
         "--reports", str(HERE / "out" / "reports"), "--no-progress"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    if res.returncode:
        print(res.stdout[-2000:], res.stderr[-3000:], file=sys.stderr)
    # ru_maxrss of the children: the largest of the runner and its kernel (each size runs alone)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"orders": orders, "customers": _customers(folder), "steps": {"notebook": round(seconds, 1)},
            "seconds": round(seconds, 1), "peak_mb": round(peak), "ok": res.returncode == 0}


def _customers(folder: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(folder / "customers.parquet").metadata.num_rows


def vmhwm_mb() -> float:
    """This process's peak resident set (``VmHWM``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def library_child(folder: Path, orders: int, memory_limit: str | None, threads: int | None,
                  engine_only: bool = False) -> dict[str, Any]:
    """The notebook's library calls on the Parquet base, timed step by step (``engine_only``:
    only the passes over the orders: the features, the as-of check and the BTYD summaries)."""
    import warnings

    warnings.filterwarnings("ignore")
    import pandas as pd

    from workbench import segmentation, value
    from workbench.core.resident import ResidentFrame
    from workbench.data import engine, features
    from workbench.data.orders import check_as_of
    from workbench.run.params import params_from_dict

    P = params_from_dict(params_doc(folder, orders, memory_limit=memory_limit, threads=threads))
    S = P.analyses.segmentation
    steps: dict[str, float] = {}
    mark = time.perf_counter()

    def step(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        steps[name] = round(now - mark, 2)
        mark = now
        print(f"{name}: {steps[name]} s, peak {vmhwm_mb():,.0f} MB", file=sys.stderr, flush=True)  # progress

    con = engine.connect(threads=threads, memory_limit=memory_limit)
    resident = ResidentFrame.of(folder / "orders.parquet", table="orders")
    customers = pd.read_parquet(folder / "customers.parquet")
    step("read customers")
    feats = features.customer_features(resident, as_of=P.as_of, customers=customers, con=con)
    step("customer_features")
    as_of_check = check_as_of(resident, P.as_of, warn=False, con=con)
    step("check_as_of")
    if engine_only:
        summary = value.rfm_summary(resident, calibration_end=P.as_of, time_unit=S.clv.time_unit, con=con)
        step("rfm_summary")
        value.rfm_summary(resident, calibration_end=S.clv.calibration_end, observation_end=P.as_of,
                          time_unit=S.clv.time_unit, con=con)
        step("rfm_summary with holdout")
        engine.close(con)
        return {"orders": resident.rows, "customers": len(customers), "steps": steps,
                "seconds": round(sum(steps.values()), 1), "peak_mb": round(vmhwm_mb()), "ok": True,
                "clv_customers": len(summary), "holdout": True}
    abc = segmentation.abc_classes(feats, measure=S.abc.measure, cuts=S.abc.cuts)
    rfm = segmentation.rfm_scores(feats, **S.rfm.model_dump(exclude={"migration_from"}), as_of_check=as_of_check)
    step("abc + rfm")
    segmentation.rfm_migration(resident, customers, from_date=S.rfm.migration_from, to_date=P.as_of,
                               **S.rfm.model_dump(exclude={"migration_from"}), con=con, to_features=feats)  # as the notebook
    step("rfm_migration")
    clusters = segmentation.cluster_customers(feats, **S.clustering.model_dump(), random_state=P.seed, buyers_only=True)
    step("cluster_customers")
    clv = value.customer_value(resident, as_of=P.as_of, **S.clv.model_dump(), margin_col="margin", con=con,
                               as_of_check=as_of_check)
    step("customer_value")
    value.simple_clv_by_segment(
        feats, rfm.segments(), margin=S.clv.margin, expected_lifetime_years=S.clv.expected_lifetime_years,
        discount_rate=S.clv.discount_rate, acquisition_cost=S.clv.acquisition_cost,
        acquisition_cost_by_channel=S.clv.acquisition_cost_by_channel,
    )  # fmt: skip
    value.value_potential_grid(abc.segments(), clv.per_customer(), cuts=S.abc.cuts)
    step("simple CLV + value grid")
    clv_frame = clv.to_frame()
    segmentation.tag_table(feats, abc=abc, rfm=rfm, clusters=clusters, clv=clv_frame, tags=S.tags,
                           allow_raw_keys=P.privacy.allow_raw_keys, salt=P.privacy.salt, customers=customers)
    segmentation.segment_artifact(feats, abc=abc, rfm=rfm, clusters=clusters, clv=clv_frame)
    segmentation.portraits(feats, rfm.segments(), customers)
    step("tags + artifact + portraits")
    engine.close(con)
    return {"orders": resident.rows, "customers": len(customers), "steps": steps,
            "seconds": round(sum(steps.values()), 1), "peak_mb": round(vmhwm_mb()), "ok": True,
            "clv_customers": len(clv_frame), "holdout": clv.holdout is not None}


def run_library(orders: int, args: argparse.Namespace) -> dict[str, Any]:
    """:func:`library_child` in a fresh process."""
    folder = ensure_base(orders)
    cmd = [sys.executable, __file__, "--child", str(folder), "--orders", str(orders)]
    if args.memory_limit:
        cmd += ["--memory-limit", args.memory_limit]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.engine_only:
        cmd += ["--engine-only"]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        print(res.stderr[-3000:], file=sys.stderr)
        return {"orders": orders, "customers": _customers(folder), "steps": {}, "seconds": float("nan"),
                "peak_mb": float("nan"), "ok": False}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark at each size and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=float, action="append", help="order rows (repeatable); default 1e6 and 1e7")
    ap.add_argument("--mode", choices=("notebook", "library"), default="notebook")
    ap.add_argument("--memory-limit", default=None, help="engine memory_limit, e.g. 12GB (default: DuckDB's)")
    ap.add_argument("--threads", type=int, default=None, help="engine threads (default: all cores)")
    ap.add_argument("--engine-only", action="store_true",
                    help="library mode: only the passes over the orders (features, as-of check, BTYD summaries)")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(library_child(args.child, int(args.orders[0]), args.memory_limit, args.threads,
                                       args.engine_only)))
        return 0
    rows = []
    for orders in [int(o) for o in (args.orders or [1e6, 1e7])]:
        r = (run_library if args.mode == "library" else run_notebook)(orders, args)
        rows.append(r)
        print(json.dumps(r), flush=True)
    print(f"\nmode: {args.mode}{' (engine passes only)' if args.engine_only else ''}\n\n| orders | customers | seconds | peak memory (MB) | steps (s) |\n|---:|---:|---:|---:|---|")
    for r in rows:
        steps = ", ".join(f"{k} {v}" for k, v in r["steps"].items()) if r["ok"] else "FAILED"
        print(f"| {r['orders']:,} | {r['customers']:,} | {r['seconds']} | {r['peak_mb']:,} | {steps} |")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
