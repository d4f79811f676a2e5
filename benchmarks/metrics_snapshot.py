"""Snapshot the numbers of every ``metrics.json`` a run writes, and compare a later run with it.

A refactor must not change a single figure. Before moving code::

    make run
    .venv/bin/python benchmarks/metrics_snapshot.py save tests/fixtures/metrics_snapshot.json

after it::

    make run
    .venv/bin/python benchmarks/metrics_snapshot.py compare tests/fixtures/metrics_snapshot.json

or, after running some analyses into another folder, ``compare ... --reports DIR --partial``.

Each dataset's newest run folder under ``reports/`` is read (``run.json`` gives the dataset
name). Timings (``seconds``, ``*_seconds``), paths and memory sizes are left out; every other leaf
is flattened to a ``dataset/analysis/key.path`` entry. ``compare`` prints every entry that
changed, appeared or vanished and exits 1 when there is one; floats are equal when they agree to
``--rtol`` (1e-9 by default).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

# data_end is the day of the run (rows dated after it are future-dated), not a figure of the data
IGNORED_KEYS = {"seconds", "params_file", "memory_mb", "started", "finished", "run_dir", "data_end"}


def _ignored(key: str) -> bool:
    return key in IGNORED_KEYS or key.endswith("_seconds") or key.endswith("_path")


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts and lists into ``a.b.0.c`` keys, dropping timings and paths."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if not _ignored(str(k)):
                out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}.{i}"))
    else:
        out[prefix] = value
    return out


def newest_runs(reports: Path) -> dict[str, Path]:
    """Dataset name -> its newest run folder (by folder name, which ends in a timestamp)."""
    runs: dict[str, Path] = {}
    for run_json in sorted(reports.glob("*/run.json")):
        name = json.loads(run_json.read_text(encoding="utf-8")).get("dataset") or run_json.parent.name
        runs[name] = run_json.parent
    return runs


def snapshot(reports: Path) -> dict[str, Any]:
    """Every metric of the newest run of each dataset, flattened."""
    out: dict[str, Any] = {}
    for dataset, run in sorted(newest_runs(reports).items()):
        for path in sorted(run.glob("*/metrics.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            flat = flatten(data.get("metrics", data), f"{dataset}/{data.get('analysis', path.parent.name)}")
            out.update(flat)
    return out


def _same(a: Any, b: Any, rtol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    if math.isnan(a) and math.isnan(b):
        return True
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)


def compare(old: dict[str, Any], new: dict[str, Any], *, rtol: float = 1e-9, partial: bool = False) -> list[str]:
    """Lines describing every difference between two snapshots (empty when equal).

    With ``partial``, only the dataset/analysis pairs present in ``new`` are compared (a run of
    some analyses only)."""
    if partial:
        ran = {"/".join(k.split("/")[:2]).split(".")[0] for k in new}
        old = {k: v for k, v in old.items() if k.split(".")[0] in ran}
    lines = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            lines.append(f"vanished  {key} = {old[key]!r}")
        elif key not in old:
            lines.append(f"new       {key} = {new[key]!r}")
        elif not _same(old[key], new[key], rtol):
            lines.append(f"changed   {key}: {old[key]!r} -> {new[key]!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["save", "compare"])
    parser.add_argument("snapshot", type=Path)
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--partial", action="store_true", help="compare only the analyses that ran")
    args = parser.parse_args(argv)
    current = snapshot(args.reports)
    if not current:
        print(f"no metrics.json under {args.reports}: run `make run` first")
        return 2
    if args.action == "save":
        args.snapshot.parent.mkdir(parents=True, exist_ok=True)
        args.snapshot.write_text(json.dumps(current, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
        print(f"saved {len(current):,} figures from {len(newest_runs(args.reports))} datasets to {args.snapshot}")
        return 0
    old = json.loads(args.snapshot.read_text(encoding="utf-8"))
    diff = compare(old, current, rtol=args.rtol, partial=args.partial)
    print("\n".join(diff))
    texts = sum(1 for k in set(old) & set(current) if isinstance(old[k], str) and old[k] != current[k])
    print(f"{len(old):,} figures in the snapshot, {len(current):,} now, {len(diff)} differences"
          + (f" ({texts} of them texts, {len(diff) - texts} numbers or keys)" if diff else ""))
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
