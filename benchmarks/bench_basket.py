"""Market basket rules: the workbench (Ibis on DuckDB) against mlxtend ``fpgrowth`` + ``association_rules``.

Usage::

    .venv/bin/python benchmarks/bench_basket.py                       # 1M baskets: seconds, memory, agreement
    .venv/bin/python benchmarks/bench_basket.py --baskets 200000
    .venv/bin/python benchmarks/bench_basket.py --make-reference      # rewrite tests/fixtures/mlxtend_reference.json

``mlxtend`` is a reference, never a project dependency: it runs in a subprocess in its own virtual
environment ``benchmarks/.venv-mlxtend``, created on first use (pip, pins in ``MLXTEND_PINS``).
Both sides get the same baskets (a Parquet file of ``order_id``, ``item``) and the same thresholds
(minimum support, itemsets up to three items, every confidence); the script prints the seconds of
each, the workbench's peak memory, and whether the rules (antecedent, consequent, support,
confidence, lift) are the same. ``--make-reference`` stores mlxtend's rules on the order lines of
``workbench.synth.generate(2000, seed=7)`` so ``tests/test_cross_sell.py`` checks the equality
without mlxtend.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-mlxtend"
MLXTEND_PINS = ["mlxtend==0.23.4", "pandas==2.2.3", "numpy==2.1.3", "pyarrow==18.1.0", "scikit-learn==1.6.1"]
REFERENCE = ROOT / "tests" / "fixtures" / "mlxtend_reference.json"
REFERENCE_RECIPE = {"n_customers": 2000, "seed": 7, "min_support": 0.002, "max_len": 3}

MLXTEND_SCRIPT = r"""
import json, sys, time
import pandas as pd
from mlxtend.frequent_patterns import association_rules, fpgrowth
lines = pd.read_parquet(sys.argv[1]).drop_duplicates()
min_support, max_len = float(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
onehot = pd.crosstab(lines["order_id"], lines["item"]).astype(bool)
t1 = time.perf_counter()
freq = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=max_len)
try:
    rules = association_rules(freq, num_itemsets=len(onehot), metric="confidence", min_threshold=0.0)
except TypeError:
    rules = association_rules(freq, metric="confidence", min_threshold=0.0)
t2 = time.perf_counter()
out = [{"antecedent": " + ".join(sorted(r.antecedents)), "consequent": " + ".join(sorted(r.consequents)),
        "support": float(r.support), "confidence": float(r.confidence), "lift": float(r.lift)}
       for r in rules.itertuples()]
import mlxtend
print(json.dumps({"rules": out, "n_itemsets": int(len(freq)), "encode_seconds": t1 - t0,
                  "rules_seconds": t2 - t1, "mlxtend": mlxtend.__version__}))
"""


def ensure_mlxtend(python: str | None = None) -> str:
    """A python with mlxtend; create ``benchmarks/.venv-mlxtend`` on first use."""
    if python:
        return python
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        (VENV / ".gitignore").write_text("*\n")  # never commit the environment
        subprocess.run([str(py), "-m", "pip", "install", "-q", *MLXTEND_PINS], check=True)
    return str(py)


def run_mlxtend(python: str, lines: pd.DataFrame, *, min_support: float, max_len: int) -> dict:
    """mlxtend's rules of ``lines`` (``order_id``, ``item``), run in the reference environment."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.parquet"
        lines[["order_id", "item"]].to_parquet(path, index=False)
        res = subprocess.run([python, "-c", MLXTEND_SCRIPT, str(path), str(min_support), str(max_len)],
                             capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"mlxtend script failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def workbench_rules(lines: pd.DataFrame, *, min_support: float, max_len: int, con=None) -> pd.DataFrame:
    """The workbench's rules of ``lines`` with mlxtend's thresholds (every confidence, no minimum count)."""
    from workbench.cross_sell import BasketLines, association_rules

    frame = lines.assign(customer_id="c", order_time=pd.Timestamp("2025-01-01"), value=0.0)
    b = BasketLines(frame[["order_id", "customer_id", "order_time", "item", "value"]], "product", "bench")
    return association_rules(b, min_support=min_support, min_count=1, min_confidence=0.0, max_len=max_len,
                             con=con).rules


def compare(ours: pd.DataFrame, ref: list[dict]) -> dict:
    """Same rules and the largest absolute difference of support, confidence and lift."""
    r = pd.DataFrame(ref)
    key = ["antecedent", "consequent"]
    m = ours.merge(r, on=key, how="outer", suffixes=("", "_ref"), indicator=True)
    both = m[m["_merge"] == "both"]
    diff = max(float((both[c] - both[f"{c}_ref"]).abs().max()) if len(both) else 0.0
               for c in ("support", "confidence", "lift"))
    return {"ours": int(len(ours)), "mlxtend": int(len(r)), "only_ours": int((m["_merge"] == "left_only").sum()),
            "only_mlxtend": int((m["_merge"] == "right_only").sum()), "max_abs_diff": diff}


def synthetic_baskets(n: int, *, seed: int = 0, n_items: int = 40) -> pd.DataFrame:
    """``n`` baskets of 1 + Poisson(1.5) items (Zipf-like popularity) with a planted pair."""
    rng = np.random.default_rng(seed)
    w = 1 / np.arange(1, n_items + 1) ** 0.8
    k = 1 + rng.poisson(1.5, n)
    order = np.repeat(np.arange(n), k)
    item = rng.choice(n_items, size=len(order), p=w / w.sum())
    plant = rng.random(n) < 0.02
    order = np.concatenate([order, np.flatnonzero(plant), np.flatnonzero(plant)])
    item = np.concatenate([item, np.full(plant.sum(), n_items), np.full(plant.sum(), n_items + 1)])
    names = np.array([f"item_{i:02d}" for i in range(n_items + 2)], dtype=object)
    return pd.DataFrame({"order_id": order.astype(np.int64), "item": names[item]}).drop_duplicates()


def reference_lines() -> pd.DataFrame:
    """The order lines of the reference recipe (product level)."""
    from workbench.cross_sell import basket_lines
    from workbench.synth.simulate import generate

    d = generate(REFERENCE_RECIPE["n_customers"], seed=REFERENCE_RECIPE["seed"])
    return basket_lines(d.orders, d.extra_tables["order_items"]).lines[["order_id", "item"]]


def make_reference(python: str, cmd: str) -> Path:
    """Run mlxtend on the reference lines and store its rules."""
    lines = reference_lines()
    out = run_mlxtend(python, lines, min_support=REFERENCE_RECIPE["min_support"], max_len=REFERENCE_RECIPE["max_len"])
    payload = {"command": cmd, "recipe": REFERENCE_RECIPE, "mlxtend": out["mlxtend"], "n_baskets": int(lines["order_id"].nunique()),
               "rules": sorted(out["rules"], key=lambda r: (r["antecedent"], r["consequent"]))}
    REFERENCE.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return REFERENCE


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baskets", type=int, default=1_000_000)
    ap.add_argument("--min-support", type=float, default=0.001)
    ap.add_argument("--python", help="python of an environment with mlxtend (default: benchmarks/.venv-mlxtend)")
    ap.add_argument("--make-reference", action="store_true")
    args = ap.parse_args(argv)
    python = ensure_mlxtend(args.python)
    if args.make_reference:
        print(f"wrote {make_reference(python, '.venv/bin/python benchmarks/bench_basket.py --make-reference')}")
        return 0
    from workbench.data import engine

    lines = synthetic_baskets(args.baskets)
    print(f"{args.baskets:,} baskets, {len(lines):,} lines, {lines['item'].nunique()} items, "
          f"min_support {args.min_support}, itemsets up to 3")
    con = engine.connect()
    t0 = time.perf_counter()
    ours = workbench_rules(lines, min_support=args.min_support, max_len=3, con=con)
    t_ours = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ref = run_mlxtend(python, lines, min_support=args.min_support, max_len=3)
    cmp = compare(ours, ref["rules"])
    t_ref = ref["rules_seconds"]
    print(f"workbench (Ibis/DuckDB, tests included): {t_ours:.2f} s, peak memory {peak:,.0f} MB")
    print(f"mlxtend {ref['mlxtend']} fpgrowth + association_rules: {t_ref:.2f} s (+ {ref['encode_seconds']:.2f} s one-hot encoding)")
    print(f"speed-up: {t_ref / t_ours:.1f}x (with encoding {(t_ref + ref['encode_seconds']) / t_ours:.1f}x)")
    print(f"rules: workbench {cmp['ours']:,}, mlxtend {cmp['mlxtend']:,}, only workbench {cmp['only_ours']}, "
          f"only mlxtend {cmp['only_mlxtend']}, max |difference| of support/confidence/lift {cmp['max_abs_diff']:.2e}")
    return 0 if cmp["only_ours"] == cmp["only_mlxtend"] == 0 and cmp["max_abs_diff"] < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
