"""Shared driver of the step benchmarks (``bench_churn.py``, ``bench_campaign.py``).

Each step runs in a fresh Python process (``python -c STEP step folder work extra``) that prints
one JSON line with its seconds and peak memory; objects a step hands to the next are pickled in
``work``. This module runs the steps, collects the lines and prints the markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def parse_args(doc: str | None, steps: list[str], argv: list[str] | None) -> argparse.Namespace:
    """The common command line: ``--orders``, ``--steps``, ``--profile``, ``--timeout``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=float, default=1e7, help="order rows of the synthetic base (default 1e7)")
    ap.add_argument("--steps", nargs="+", choices=steps, metavar="STEP", help=f"run only these: {', '.join(steps)}")
    ap.add_argument("--profile", nargs="+", default=[], choices=steps, metavar="STEP",
                    help="print cProfile top functions of these steps")  # fmt: skip
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before a step is stopped (default 1800)")
    return ap.parse_args(argv)


def base_folder(orders: float) -> Path:
    """The synthetic base of ``bench_foundation.py`` at this size (written first when missing)."""
    folder = OUT / f"orders_{int(orders):.0e}"
    if not (folder / "orders.parquet").exists():
        subprocess.run([sys.executable, str(HERE / "bench_foundation.py"), "--orders", str(int(orders))],
                       check=True)  # fmt: skip
    return folder


def run_step(script: str, step: str, folder: Path, work: Path, timeout: float, **extra: object) -> dict:
    """Run one step of ``script`` in a fresh process and return its JSON line (or a failure record)."""
    t = time.perf_counter()
    try:
        res = subprocess.run(
            [sys.executable, "-c", script, step, str(folder), str(work), json.dumps(extra)],
            capture_output=True, text=True, check=False, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"step": step, "seconds": f"> {timeout:.0f} (timeout)", "peak_mb": None, "rows": None}
    if extra.get("profile"):
        print(res.stderr[-12000:], file=sys.stderr)
    if res.returncode != 0:
        print(f"step {step} failed after {time.perf_counter() - t:.0f} s:\n{res.stderr[-3000:]}", file=sys.stderr)
        return {"step": step, "seconds": "failed", "peak_mb": None, "rows": None}
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_steps(script: str, args: argparse.Namespace, steps: list[str], labels: dict[str, str], *,
              folder: Path, work: Path) -> int:  # fmt: skip
    """Run the chosen steps in order, print each JSON line and the markdown table; 0 when every
    step ran."""
    work.mkdir(parents=True, exist_ok=True)
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  load average at start: {os.getloadavg()}")
    rows = []
    for step in args.steps or steps:
        r = run_step(script, step, folder, work, args.timeout, profile=step in args.profile)
        r["load_avg_1m"] = round(os.getloadavg()[0], 2)
        rows.append(r)
        print(json.dumps(r, default=str), flush=True)
    print(f"load average at end: {os.getloadavg()}")
    print("\n| step | rows | seconds | peak memory (MB) |\n|---|---:|---:|---:|")
    for r in rows:
        n = f"{r['rows']:,}" if isinstance(r.get("rows"), int) else "-"
        mb = f"{r['peak_mb']:,}" if isinstance(r.get("peak_mb"), int) else "-"
        print(f"| {labels[r['step']]} | {n} | {r['seconds']} | {mb} |")
    return 0 if all(isinstance(r.get("peak_mb"), int) for r in rows) else 1
