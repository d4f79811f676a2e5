"""Benchmark of the sales forecast, and its ``lifetimes`` reference.

Two jobs:

* ``--make-reference``: on the CDNOW master log (calibration through 1997-09-30, weeks), fit
  ``lifetimes`` 0.11.3's BG/NBD and run ``expected_cumulative_transactions`` (``freq='D'``,
  ``freq_multiplier=7``, 78 weeks from the first purchase day); its differences over the 39
  holdout weeks are stored in ``tests/fixtures/lifetimes_forecast_reference.json`` with the
  script, which ``tests/test_forecast.py`` checks :func:`workbench.value.expected_repeat_by_period`
  against (0.5 %). ``lifetimes`` runs in ``benchmarks/.venv-lifetimes`` exactly as in
  ``bench_clv.py`` (created on first use).
* default: time the forecast pipeline (the notebook's calls, from orders to backtest and
  scenarios) on a synthetic base of ``--customers`` customers (default 1,000,000) and print seconds
  per step and peak resident memory, and the per-week agreement with the reference.

    .venv/bin/python benchmarks/bench_forecast.py --make-reference
    .venv/bin/python benchmarks/bench_forecast.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_clv import CALIBRATION_END, CDNOW, ensure_lifetimes, run_lifetimes  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "lifetimes_forecast_reference.json"
WEEKS = 78  # 1997-01-01 + 78 weeks = 1998-07-01: the calibration 39 weeks and the 39 holdout weeks

# Runs under lifetimes' interpreter: python -c REFERENCE_SCRIPT <cdnow path> <calibration end> <weeks>
REFERENCE_SCRIPT = textwrap.dedent(
    '''
    import json, sys, warnings
    import numpy as np, pandas as pd
    import lifetimes
    from lifetimes import BetaGeoFitter
    from lifetimes.utils import calibration_and_holdout_data, expected_cumulative_transactions

    warnings.filterwarnings("ignore")
    path, cal_end, weeks = sys.argv[1], sys.argv[2], int(sys.argv[3])
    raw = pd.read_csv(path, sep=r"\\s+", dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    summ = calibration_and_holdout_data(raw, "customer_id", "date", cal_end, "1998-06-30", freq="D",
                                        freq_multiplier=7, monetary_value_col="dollar_value")
    bgf = BetaGeoFitter().fit(summ["frequency_cal"], summ["recency_cal"], summ["T_cal"])
    ect = expected_cumulative_transactions(bgf, raw, "date", "customer_id", weeks * 7, freq="D",
                                           freq_multiplier=7)
    pred = ect["predicted"].to_numpy()
    act = ect["actual"].to_numpy()
    print(json.dumps({
        "versions": {"lifetimes": lifetimes.__version__, "numpy": np.__version__, "pandas": pd.__version__},
        "bgnbd_params": {k: float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")},
        "start": str(raw["date"].min().date()),
        "predicted_cumulative": pred.tolist(),
        "actual_cumulative": act.tolist(),
        "predicted_per_week": np.diff(np.concatenate([[0.0], pred])).tolist(),
        "actual_per_week": np.diff(np.concatenate([[0.0], act])).tolist(),
    }))
    '''
)


def make_reference(python: str, command: str) -> Path:
    """Write the fixture of lifetimes' period-by-period expected repeat transactions on CDNOW."""
    import hashlib

    out = run_lifetimes(python, REFERENCE_SCRIPT, str(CDNOW), CALIBRATION_END, str(WEEKS))
    out = {
        "description": (
            "lifetimes 0.11.3 BG/NBD fitted on the CDNOW master log (calibration through "
            f"{CALIBRATION_END}, weeks, summary by calibration_and_holdout_data(freq='D', freq_multiplier=7)); "
            f"expected_cumulative_transactions(t={WEEKS * 7}, freq='D', freq_multiplier=7) from the first "
            "purchase day; weeks 40..78 are the 39 holdout weeks; checked by tests/test_forecast.py"
        ),
        "command": command,
        "data": {"path": "data/raw/cdnow_master.txt.gz", "sha256": hashlib.sha256(CDNOW.read_bytes()).hexdigest(),
                 "calibration_end": CALIBRATION_END, "weeks": WEEKS, "holdout_weeks": WEEKS // 2},
        **out,
        "script": REFERENCE_SCRIPT,
        "script_usage": f"python -c SCRIPT data/raw/cdnow_master.txt.gz {CALIBRATION_END} {WEEKS}",
    }
    FIXTURE.write_text(json.dumps(out, indent=1) + "\n")
    return FIXTURE


def agreement() -> float:
    """Largest relative difference over the 39 holdout weeks between ours and the fixture."""
    import numpy as np
    import pandas as pd

    from workbench.value import BetaGeoModel, expected_repeat_by_period, rfm_summary

    ref = json.loads(FIXTURE.read_text())
    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    s = rfm_summary(raw, calibration_end=CALIBRATION_END, time_col="date", amount_col="dollar_value")
    model = BetaGeoModel().fit(s)
    start = pd.Timestamp(ref["start"])
    edges = start + pd.to_timedelta(np.arange(WEEKS + 1) * 7, unit="D")
    ours = expected_repeat_by_period(model, s["first_purchase"], edges)
    theirs = np.asarray(ref["predicted_per_week"])
    hold = slice(WEEKS // 2, WEEKS)
    return float(np.max(np.abs(ours[hold] / theirs[hold] - 1)))


def bench(n_customers: int, seed: int) -> dict[str, float]:
    """Seconds per step of the forecast on a synthetic base (the notebook's calls)."""
    import warnings

    from workbench import forecast
    from workbench.synth import generate

    t = time.perf_counter()
    data = generate(n_customers, seed=seed)
    out = {"generate": time.perf_counter() - t}
    orders = data.orders
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        series = forecast.period_series(orders, as_of="2025-09-30", period="week")
        out["series"] = time.perf_counter() - t
        print(f"  series {out['series']:.1f} s", flush=True)
        t = time.perf_counter()
        cal = forecast.retail_calendar(series.edges(13), period="week", history=len(series.frame))
        out["calendar"] = time.perf_counter() - t
        t = time.perf_counter()
        fc = forecast.sales_forecast(series, cal, horizon=13, seed=seed)
        out["forecast"] = time.perf_counter() - t
        print(f"  forecast {out['forecast']:.1f} s", flush=True)
        t = time.perf_counter()
        forecast.backtest(series, cal, periods=13, step=4, seed=seed)
        out["backtest"] = time.perf_counter() - t
        t = time.perf_counter()
        forecast.scenarios(fc, retention=0.05, acquisition=0.1, order_value=0.03)
        out["scenarios"] = time.perf_counter() - t
    out["total_forecast"] = time.perf_counter() - t0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak RSS of the process (KiB on Linux)
    out["rows"] = float(len(orders))
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the reference, or run the benchmark, and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-reference", action="store_true", help=f"write {FIXTURE.relative_to(ROOT)}")
    ap.add_argument("--python", help="python of an environment with lifetimes (default: benchmarks/.venv-lifetimes)")
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)
    if args.make_reference:
        python = ensure_lifetimes(args.python)
        cmd = ".venv/bin/python benchmarks/bench_forecast.py --make-reference" + (f" --python {args.python}" if args.python else "")
        print(f"wrote {make_reference(python, cmd)}")
        return 0
    if FIXTURE.exists():
        print(f"CDNOW holdout weeks: largest difference from lifetimes {agreement():.4%}")
    figs = bench(args.customers, args.seed)
    print(f"\n{args.customers:,} customers, {figs.pop('rows'):,.0f} order rows\n")
    print("| step | seconds |\n|---|---:|")
    for k, v in figs.items():
        print(f"| {k} | {v:.1f} |" if k != "peak_mb" else f"| peak memory (MB, resident, generator included) | {v:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
