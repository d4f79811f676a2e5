"""Benchmark of the channel attribution steps, and the ``channelattribution`` reference.

Generates a synthetic base (``--customers``, default 1,000,000: about 8M events with the
touchpoints), then times each step of the analysis on DuckDB (journeys from the events and orders
in the engine, then the models on the path table) and prints seconds and peak memory (the
process's peak resident set, reset before each step through ``/proc/self/clear_refs``, and how
much above the resident set before the step it went):

    .venv/bin/python benchmarks/bench_attribution.py                        # 1M customers
    .venv/bin/python benchmarks/bench_attribution.py --customers 100000 --bootstrap 50 --threads 1
    .venv/bin/python benchmarks/bench_attribution.py --make-reference       # rewrite the fixture
    .venv/bin/python benchmarks/bench_attribution.py --compare              # agreement with the fixture

``--make-reference`` builds the journeys of the bundled example's generator (5,000 customers,
seed 42), aggregates them to the path table the ``channelattribution`` package reads (path,
conversions, revenue, non-conversions) and runs its Markov model (orders 1-3, conversions and
revenue, ``nsim_start`` ``--nsim``) in its own virtual environment
``benchmarks/.venv-channelattribution`` (created on first use with pip from PyPI; the package
needs matplotlib to import), never a project dependency. The path table, the package's output,
its version, the script and the command go to ``tests/fixtures/channelattribution_reference.json``,
which ``tests/test_attribution_reference.py`` checks :func:`workbench.attribution.removal_effects`
against (within 1 %). ``--compare`` prints the same comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FIXTURE = ROOT / "tests" / "fixtures" / "channelattribution_reference.json"
VENV = HERE / ".venv-channelattribution"
PINS = ["channelattribution==2.2.5", "matplotlib"]

# Runs under the reference interpreter: python -c REFERENCE_SCRIPT <paths json> <nsim>; prints JSON.
REFERENCE_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import ChannelAttribution as ca
    from importlib.metadata import version

    paths = pd.DataFrame(json.loads(open(sys.argv[1]).read()))
    nsim = float(sys.argv[2])
    out = {"version": version("ChannelAttribution"), "nsim_start": nsim, "orders": {}}
    for order in (1, 2, 3):
        r = ca.markov_model(paths, "path", "total_conversions", var_value="total_conversion_value",
                            var_null="total_null", order=order, nsim_start=nsim, out_more=True, sep=">",
                            seed=0, conv_par=0.005, verbose=False, flg_pro=False)
        res, rem = r["result"], r["removal_effects"]
        out["orders"][str(order)] = {
            "total_conversions": dict(zip(res["channel_name"], res["total_conversions"].astype(float))),
            "total_conversion_value": dict(zip(res["channel_name"], res["total_conversion_value"].astype(float))),
            "removal_effects_conversion": dict(zip(rem["channel_name"], rem["removal_effects_conversion"].astype(float))),
            "removal_effects_conversion_value": dict(zip(rem["channel_name"],
                                                         rem["removal_effects_conversion_value"].astype(float))),
        }
    print(json.dumps(out))
    """
)


def _peak_reset() -> None:
    """Reset the process's peak resident set (Linux), so the next reading is one step's peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _status_mb(field: str) -> float:
    """``VmHWM`` (peak) or ``VmRSS`` (current) resident set of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _step(name: str, fn: Callable[[], Any], rows: list[dict[str, Any]]) -> Any:
    _peak_reset()
    before = _status_mb("VmRSS")
    t = time.perf_counter()
    out = fn()
    peak = _status_mb("VmHWM")
    rows.append({"step": name, "seconds": round(time.perf_counter() - t, 2), "peak_mb": round(peak),
                 "added_mb": round(peak - before)})  # fmt: skip
    print(f"  {name:<28} {rows[-1]['seconds']:>8.2f} s  {peak:>7,.0f} MB peak ({peak - before:+,.0f} MB)", flush=True)
    return out


def bench(customers: int, *, bootstrap: int, threads: int | None, seed: int) -> list[dict[str, Any]]:
    """Time the steps on a generated base; returns one row per step."""
    from workbench import attribution as A
    from workbench.data.engine import close, connect
    from workbench.synth import generate

    warnings.simplefilter("ignore")
    rows: list[dict[str, Any]] = []
    print(f"channel attribution, {customers:,} customers, bootstrap {bootstrap}, threads {threads or 'all'}")
    d = _step("generate (synthetic base)", lambda: generate(customers, seed=seed), rows)
    print(f"  events: {len(d.events):,} ({(d.events['event_name'] == 'ad_touch').sum():,} touchpoints), "
          f"orders: {len(d.orders):,}")  # fmt: skip
    con = connect(threads=threads)
    try:
        j = _step("journeys (engine)", lambda: A.build_journeys(d.events, d.orders, data_end="2025-09-30", con=con), rows)
    finally:
        close(con)
    print(f"  journeys: {len(j.journeys):,}, converting {int(j.journeys['converted'].sum()):,}, "
          f"paths {j.journeys['path'].nunique():,}")  # fmt: skip
    _step("top paths + shape", lambda: (A.top_paths(j), A.journey_shape(j)), rows)
    m = _step("eight models, no bootstrap", lambda: A.compare_models(j, bootstrap=0), rows)
    m = _step(f"eight models, bootstrap {bootstrap}", lambda: A.compare_models(j, bootstrap=bootstrap), rows)
    _step("channel economics (monthly)", lambda: A.channel_economics(j, m, d.tables["spend"]), rows)
    _step("time slots + regions", lambda: (A.time_slots(j), A.regions(j, d.customers)), rows)
    print(f"  total {sum(r['seconds'] for r in rows[1:]):.1f} s without the generator")
    return rows


def path_table(customers: int = 5000, seed: int = 42) -> list[dict[str, Any]]:
    """The path table of the generator's journeys (as the example: 5,000 customers, seed 42)."""
    from workbench import attribution as A
    from workbench.synth import generate

    warnings.simplefilter("ignore")
    d = generate(customers, seed=seed)
    jt = A.build_journeys(d.events, d.orders, data_end="2025-09-30").journeys
    g = jt.assign(conv=jt["converted"].astype(int), null=(~jt["converted"]).astype(int),
                  val=jt["value"].where(jt["converted"], 0.0))  # fmt: skip
    g = g.groupby("path", as_index=False).agg(total_conversions=("conv", "sum"), total_conversion_value=("val", "sum"),
                                              total_null=("null", "sum"))  # fmt: skip
    return [{"path": p, "total_conversions": int(c), "total_conversion_value": round(float(v), 2), "total_null": int(n)}
            for p, c, v, n in g.itertuples(index=False)]  # fmt: skip


def _venv_python() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PINS], check=True)
    return py


def make_reference(nsim: float, python: str | None) -> None:
    """Run the reference model and write the fixture."""
    py = Path(python) if python else _venv_python()
    paths = path_table()
    tmp = HERE / "out" / "attribution_paths.json"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_text(json.dumps(paths))
    t = time.perf_counter()
    res = subprocess.run([str(py), "-c", REFERENCE_SCRIPT, str(tmp), str(nsim)], check=True, capture_output=True,
                         text=True)  # fmt: skip
    seconds = time.perf_counter() - t
    ref = json.loads(res.stdout.strip().splitlines()[-1])
    FIXTURE.write_text(json.dumps({
        "source": "ChannelAttribution markov_model on the journeys of workbench.synth.generate(5000, seed=42)",
        "command": "benchmarks/bench_attribution.py --make-reference --nsim " + f"{nsim:g}",
        "reference_seconds": round(seconds, 1), "script": REFERENCE_SCRIPT, "paths": paths, **ref,
    }, indent=1, ensure_ascii=False) + "\n")  # fmt: skip
    print(f"wrote {FIXTURE.relative_to(ROOT)} (ChannelAttribution {ref['version']}, {seconds:.1f} s)")


def compare() -> list[dict[str, Any]]:
    """Our exact removal effects against the fixture's, per order and channel (relative differences)."""
    import numpy as np

    from workbench.attribution import markov_structure, removal_effects

    ref = json.loads(FIXTURE.read_text())
    paths = ref["paths"]
    chans = sorted({c.strip() for p in paths for c in p["path"].split(">")})
    code = {c: i for i, c in enumerate(chans)}
    seqs = [np.array([code[c.strip()] for c in p["path"].split(">")]) for p in paths]
    conv = np.array([p["total_conversions"] for p in paths], float)
    null = np.array([p["total_null"] for p in paths], float)
    value = np.array([p["total_conversion_value"] for p in paths], float)
    rows = []
    for order, r in ref["orders"].items():
        _, rem = removal_effects(markov_structure(seqs, len(chans), int(order)), conv, null, value[:, None])
        ours_c = rem[:, 0] / rem[:, 0].sum() * conv.sum()
        ours_v = rem[:, 1] / rem[:, 1].sum() * value.sum()
        for i, c in enumerate(chans):
            rows.append({"order": int(order), "channel": c, "ours": ours_c[i], "theirs": r["total_conversions"][c],
                         "rel_diff": ours_c[i] / r["total_conversions"][c] - 1, "ours_value": ours_v[i],
                         "theirs_value": r["total_conversion_value"][c],
                         "rel_diff_value": ours_v[i] / r["total_conversion_value"][c] - 1,
                         "removal_ours": rem[i, 0], "removal_theirs": r["removal_effects_conversion"][c]})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--bootstrap", type=int, default=50)
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default all)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--make-reference", action="store_true")
    ap.add_argument("--compare", action="store_true")
    ap.add_argument("--nsim", type=float, default=1e7, help="reference: simulations of channelattribution")
    ap.add_argument("--python", default=None, help="reference: an interpreter that has ChannelAttribution")
    a = ap.parse_args(argv)
    if a.make_reference:
        make_reference(a.nsim, a.python)
        a.compare = True
    if a.compare:
        rows = compare()
        print(f"{'order':>5} {'channel':<10} {'ours':>9} {'theirs':>9} {'diff':>7} {'value diff':>10}")
        for r in rows:
            print(f"{r['order']:>5} {r['channel']:<10} {r['ours']:>9.2f} {r['theirs']:>9.2f} {100 * r['rel_diff']:>6.2f}%"
                  f" {100 * r['rel_diff_value']:>9.2f}%")  # fmt: skip
        print(f"largest difference: conversions {100 * max(abs(r['rel_diff']) for r in rows):.2f} %, "
              f"revenue {100 * max(abs(r['rel_diff_value']) for r in rows):.2f} %")
        return
    os.environ.setdefault("MPLBACKEND", "Agg")
    bench(a.customers, bootstrap=a.bootstrap, threads=a.threads, seed=a.seed)


if __name__ == "__main__":
    main()
