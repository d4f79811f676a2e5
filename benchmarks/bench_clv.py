"""Benchmark of the CLV models against ``lifetimes`` on the CDNOW log, and the test reference.

Fits BG/NBD and Gamma-Gamma on the CDNOW calibration summary (through 1997-09-30, weeks) with
:mod:`workbench.value` and with ``lifetimes`` 0.11.3 side by side in one run, checks that both
reach the same log-likelihood, and prints seconds and the speed-up (best of ``--repeat`` fits;
the summary shaping is timed separately).

    .venv/bin/python benchmarks/bench_clv.py                    # benchmark
    .venv/bin/python benchmarks/bench_clv.py --repeat 5
    .venv/bin/python benchmarks/bench_clv.py --make-reference   # rewrite tests/fixtures/lifetimes_reference.json

``lifetimes`` needs numpy / pandas / scipy versions older than the project's, so it is never a
project dependency: it runs in a subprocess in its own virtual environment
``benchmarks/.venv-lifetimes``, created on first use (from PyPI, by pip, with the pins in
``LIFETIMES_PINS``); ``--python`` points at another interpreter that has it.

``--make-reference`` runs :data:`REFERENCE_SCRIPT` there and stores its output, together with
the script text and the command, in ``tests/fixtures/lifetimes_reference.json``, which
``tests/test_value.py`` checks the models against.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CDNOW = ROOT / "data" / "raw" / "cdnow_master.txt.gz"
FIXTURE = ROOT / "tests" / "fixtures" / "lifetimes_reference.json"
LIFETIMES_VENV = HERE / ".venv-lifetimes"
LIFETIMES_PINS = ["lifetimes==0.11.3", "numpy==2.2.6", "pandas==2.3.3", "scipy==1.13.1", "autograd==1.9.1", "dill==0.4.1"]
CALIBRATION_END = "1997-09-30"
OBSERVATION_END = "1998-06-30"

# Runs under lifetimes' interpreter: python -c REFERENCE_SCRIPT <cdnow path> <calibration end>
# <observation end>; prints one JSON object.
REFERENCE_SCRIPT = textwrap.dedent(
    '''
    import hashlib, json, os, platform, sys, warnings
    import numpy as np, pandas as pd, scipy
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.datasets import load_cdnow_summary
    from lifetimes.utils import calibration_and_holdout_data

    warnings.filterwarnings("ignore")
    path, cal_end, obs_end = sys.argv[1:4]
    raw = pd.read_csv(path, sep=r"\\s+", dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")

    def digest(ids, f, r, T):
        lines = "\\n".join(f"{i},{int(a)},{b:.9f},{c:.9f}" for i, a, b, c in zip(ids, f, r, T))
        return hashlib.sha256(lines.encode()).hexdigest()

    def stats(s):
        f, r, T = s["frequency_cal"], s["recency_cal"], s["T_cal"]
        return {
            "n_customers": int(len(s)),
            "n_repeat_customers": int((f > 0).sum()),
            "sum_frequency": float(f.sum()), "sum_recency": float(r.sum()), "sum_T": float(T.sum()),
            "sum_monetary_value": float(s["monetary_value_cal"].sum()),
            "sum_frequency_holdout": float(s["frequency_holdout"].sum()),
            "duration_holdout": float(s["duration_holdout"].iloc[0]),
            "frequency_histogram": np.bincount(np.minimum(f.astype(int), 10), minlength=11).tolist(),
            "digest": digest(s.index, f, r, T),
        }

    # the convention of the models: distinct purchase days, recency and T in days / 7
    summ = calibration_and_holdout_data(raw, "customer_id", "date", cal_end, obs_end, freq="D",
                                        freq_multiplier=7, monetary_value_col="dollar_value")
    weekly = calibration_and_holdout_data(raw, "customer_id", "date", cal_end, obs_end, freq="W",
                                          monetary_value_col="dollar_value")
    x = summ["frequency_cal"].to_numpy()
    tx = summ["recency_cal"].to_numpy()
    T = summ["T_cal"].to_numpy()
    n = len(x)
    log_max_T = float(np.log(T.max()))  # lifetimes fits in time rescaled to max(T) = 1

    bgf = BetaGeoFitter().fit(x, tx, T)
    bg_p = [float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")]
    # lifetimes reports the MEAN negative log-likelihood per customer in rescaled time; the
    # total in weeks is -n * mean - sum(x) * log(max T) (the Jacobian of the rescaling)
    bg_ll_conv = float(-n * bgf._negative_log_likelihood_ - x.sum() * log_max_T)
    bg_ll_direct = float(-n * BetaGeoFitter._negative_log_likelihood(np.log(bg_p), x, tx, T, np.ones(n), 0.0))

    np.random.seed(0)  # ParetoNBDFitter starts Nelder-Mead from random values
    pnf = ParetoNBDFitter().fit(x, tx, T, maxiter=20000, tol=1e-10)
    pn_p = [float(pnf.params_[k]) for k in ("r", "alpha", "s", "beta")]
    # ParetoNBDFitter reports the TOTAL negative log-likelihood (divided by mean weight = 1)
    pn_ll_conv = float(-pnf._negative_log_likelihood_ - x.sum() * log_max_T)
    pn_ll_direct = float(ParetoNBDFitter._conditional_log_likelihood(pn_p, x, tx, T).sum())

    rep = (summ["frequency_cal"] > 0) & (summ["monetary_value_cal"] > 0)
    gx = summ.loc[rep, "frequency_cal"].to_numpy()
    gm = summ.loc[rep, "monetary_value_cal"].to_numpy()
    ggf = GammaGammaFitter().fit(gx, gm)
    gg_p = [float(ggf.params_[k]) for k in ("p", "q", "v")]
    gg_ll = float(-len(gx) * ggf._negative_log_likelihood_)  # mean per customer -> total

    pick = ["00001", "00003", "00005", "00018", "00042", "00100", "01000", summ["frequency_cal"].idxmax()]
    sub = summ.loc[pick]
    f_, r_, T_, m_, d_ = (sub[c].to_numpy() for c in ("frequency_cal", "recency_cal", "T_cal",
                                                       "monetary_value_cal", "duration_holdout"))
    clv = ggf.customer_lifetime_value(bgf, sub["frequency_cal"], sub["recency_cal"], sub["T_cal"],
                                      sub["monetary_value_cal"], time=12, discount_rate=0.01, freq="W")
    customers = {
        "customer_id": list(sub.index),
        "frequency": f_.tolist(), "recency": r_.tolist(), "T": T_.tolist(), "monetary_value": m_.tolist(),
        "t": d_.tolist(),
        "bgnbd_expected_purchases": bgf.conditional_expected_number_of_purchases_up_to_time(d_, f_, r_, T_).tolist(),
        "bgnbd_probability_alive": bgf.conditional_probability_alive(f_, r_, T_).tolist(),
        "pareto_nbd_expected_purchases": np.asarray(pnf.conditional_expected_number_of_purchases_up_to_time(d_, f_, r_, T_)).tolist(),
        "pareto_nbd_probability_alive": np.asarray(pnf.conditional_probability_alive(f_, r_, T_)).tolist(),
        "gamma_gamma_expected_average_profit": np.asarray(ggf.conditional_expected_average_profit(f_, m_)).tolist(),
        "clv_bgnbd_12_months_monthly_rate_0.01_4.345_weeks": np.asarray(clv).tolist(),
    }
    tgrid = [1.0, 10.0, 39.0, 78.0]

    # Fader, Hardie & Lee's 1/10 sample: lifetimes ships its summary; the master ids of its
    # customers come from the sample log shipped beside it
    sample_log = os.path.join(os.path.dirname(lifetimes.datasets.__file__), "CDNOW_sample.txt")
    sample_ids = sorted(set(pd.read_csv(sample_log, sep=r"\\s+", header=None, dtype=str)[0]))
    fhl = load_cdnow_summary(index_col=[0])
    fb = BetaGeoFitter().fit(fhl["frequency"], fhl["recency"], fhl["T"])
    fb_ll = float(-len(fhl) * BetaGeoFitter._negative_log_likelihood(
        np.log([fb.params_[k] for k in ("r", "alpha", "a", "b")]), fhl["frequency"].to_numpy(),
        fhl["recency"].to_numpy(), fhl["T"].to_numpy(), np.ones(len(fhl)), 0.0))

    print(json.dumps({
        "versions": {"lifetimes": lifetimes.__version__, "numpy": np.__version__, "pandas": pd.__version__,
                     "scipy": scipy.__version__, "python": platform.python_version()},
        "summary_day": stats(summ),
        "summary_week_periods": stats(weekly),
        "bgnbd": {"params": dict(zip(("r", "alpha", "a", "b"), bg_p)),
                  "standard_errors": {k: float(v) for k, v in bgf.standard_errors_.items()},
                  "log_likelihood": bg_ll_direct, "log_likelihood_from_reported_mean": bg_ll_conv,
                  "reported_negative_log_likelihood": float(bgf._negative_log_likelihood_),
                  "expected_purchases_new": dict(zip(map(str, tgrid), map(float, bgf.expected_number_of_purchases_up_to_time(np.array(tgrid)))))},
        "pareto_nbd": {"params": dict(zip(("r", "alpha", "s", "beta"), pn_p)),
                       "fit_options": "np.random.seed(0); fit(maxiter=20000, tol=1e-10)",
                       "log_likelihood": pn_ll_direct, "log_likelihood_from_reported_total": pn_ll_conv,
                       "reported_negative_log_likelihood": float(pnf._negative_log_likelihood_),
                       "expected_purchases_new": dict(zip(map(str, tgrid), map(float, pnf.expected_number_of_purchases_up_to_time(np.array(tgrid)))))},
        "gamma_gamma": {"params": dict(zip(("p", "q", "v"), gg_p)), "n_customers": int(len(gx)),
                        "standard_errors": {k: float(v) for k, v in ggf.standard_errors_.items()},
                        "log_likelihood": gg_ll, "reported_negative_log_likelihood": float(ggf._negative_log_likelihood_)},
        "customers": customers,
        "fhl_sample": {"customer_ids": sample_ids, "n": int(len(fhl)),
                       "sum_frequency": float(fhl["frequency"].sum()), "sum_recency": float(fhl["recency"].sum()),
                       "sum_T": float(fhl["T"].sum()),
                       "lifetimes_bgnbd": {"params": {k: float(fb.params_[k]) for k in ("r", "alpha", "a", "b")},
                                           "log_likelihood": fb_ll},
                       "published_bgnbd": {"params": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
                                           "log_likelihood": -9582.4},
                       "published_pareto_nbd": {"params": {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67},
                                                "log_likelihood": -9595.0},
                       "source": "Fader, Hardie & Lee (2005a), Marketing Science 24(2) 275-284"},
    }))
    '''
)

# Runs under lifetimes' interpreter: python -c BENCH_SCRIPT <cdnow path> <cal end> <obs end> <repeat>
BENCH_SCRIPT = textwrap.dedent(
    '''
    import json, sys, time, warnings
    import numpy as np, pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import calibration_and_holdout_data
    warnings.filterwarnings("ignore")
    path, cal_end, obs_end, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    raw = pd.read_csv(path, sep=r"\\s+", dtype={"customer_id": str, "date": str})
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    t = time.perf_counter()
    s = calibration_and_holdout_data(raw, "customer_id", "date", cal_end, obs_end, freq="D",
                                     freq_multiplier=7, monetary_value_col="dollar_value")
    shaping = time.perf_counter() - t
    x, tx, T = (s[c].to_numpy() for c in ("frequency_cal", "recency_cal", "T_cal"))
    rep = (x > 0) & (s["monetary_value_cal"].to_numpy() > 0)
    best = {"bgnbd": np.inf, "gamma_gamma": np.inf}
    for _ in range(repeat):
        t = time.perf_counter(); bgf = BetaGeoFitter().fit(x, tx, T); best["bgnbd"] = min(best["bgnbd"], time.perf_counter() - t)
        t = time.perf_counter(); ggf = GammaGammaFitter().fit(x[rep], s["monetary_value_cal"].to_numpy()[rep])
        best["gamma_gamma"] = min(best["gamma_gamma"], time.perf_counter() - t)
    n = len(x)
    bg_ll = float(-n * BetaGeoFitter._negative_log_likelihood(
        np.log([bgf.params_[k] for k in ("r", "alpha", "a", "b")]), x, tx, T, np.ones(n), 0.0))
    gg_ll = float(-int(rep.sum()) * ggf._negative_log_likelihood_)
    print(json.dumps({"shaping": shaping, "bgnbd": best["bgnbd"], "gamma_gamma": best["gamma_gamma"],
                      "bgnbd_ll": bg_ll, "gamma_gamma_ll": gg_ll}))
    '''
)


def ensure_lifetimes(python: str | None = None) -> str:
    """Return a python with lifetimes; create ``benchmarks/.venv-lifetimes`` on first use."""
    if python:
        return python
    py = LIFETIMES_VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(LIFETIMES_VENV)], check=True)
        (LIFETIMES_VENV / ".gitignore").write_text("*\n")  # never commit the environment
        subprocess.run([str(py), "-m", "pip", "install", "-q", *LIFETIMES_PINS], check=True)
    return str(py)


def run_lifetimes(python: str, script: str, *args: str) -> dict:
    """Run a script under lifetimes' interpreter and parse its JSON line."""
    res = subprocess.run([python, "-c", script, *args], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"lifetimes script failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def make_reference(python: str, command: str) -> Path:
    """Write the test reference (lifetimes' fits on CDNOW) with the script that made it."""
    out = run_lifetimes(python, REFERENCE_SCRIPT, str(CDNOW), CALIBRATION_END, OBSERVATION_END)
    import hashlib

    out = {
        "description": (
            "lifetimes 0.11.3 fits on the CDNOW master log (calibration through "
            f"{CALIBRATION_END}, holdout through {OBSERVATION_END}, weeks; summary by "
            "calibration_and_holdout_data(freq='D', freq_multiplier=7)); checked by tests/test_value.py"
        ),
        "command": command,
        "data": {"path": "data/raw/cdnow_master.txt.gz", "sha256": hashlib.sha256(CDNOW.read_bytes()).hexdigest(),
                 "calibration_end": CALIBRATION_END, "observation_end": OBSERVATION_END, "time_unit": "weeks"},
        **out,
        "script": REFERENCE_SCRIPT,
        "script_usage": "python -c SCRIPT data/raw/cdnow_master.txt.gz 1997-09-30 1998-06-30",
    }
    FIXTURE.write_text(json.dumps(out, indent=1) + "\n")
    return FIXTURE


def bench_ours(repeat: int) -> dict:
    """Time the workbench shaping and fits on CDNOW (best of ``repeat``)."""
    import numpy as np
    import pandas as pd

    from workbench.value import BetaGeoModel, GammaGammaModel, rfm_summary

    raw = pd.read_csv(CDNOW, sep=r"\s+", dtype={"customer_id": str, "date": str})
    t = time.perf_counter()
    s = rfm_summary(raw, calibration_end=CALIBRATION_END, observation_end=OBSERVATION_END,
                    time_col="date", amount_col="dollar_value")  # fmt: skip
    shaping = time.perf_counter() - t
    best = {"bgnbd": np.inf, "gamma_gamma": np.inf}
    for _ in range(repeat):
        t = time.perf_counter()
        bg = BetaGeoModel().fit(s)
        best["bgnbd"] = min(best["bgnbd"], time.perf_counter() - t)
        t = time.perf_counter()
        gg = GammaGammaModel().fit(s)
        best["gamma_gamma"] = min(best["gamma_gamma"], time.perf_counter() - t)
    return {"shaping": shaping, **best, "bgnbd_ll": bg.log_likelihood_, "gamma_gamma_ll": gg.log_likelihood_}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or write the reference) and print a table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-reference", action="store_true", help=f"write {FIXTURE.relative_to(ROOT)}")
    ap.add_argument("--python", help="python of an environment with lifetimes (default: benchmarks/.venv-lifetimes)")
    ap.add_argument("--repeat", type=int, default=3, help="fits per model; the best time counts")
    args = ap.parse_args(argv)
    python = ensure_lifetimes(args.python)
    if args.make_reference:
        cmd = ".venv/bin/python benchmarks/bench_clv.py --make-reference" + (f" --python {args.python}" if args.python else "")
        path = make_reference(python, cmd)
        print(f"wrote {path}")
        return 0
    theirs = run_lifetimes(python, BENCH_SCRIPT, str(CDNOW), CALIBRATION_END, OBSERVATION_END, str(args.repeat))
    ours = bench_ours(args.repeat)
    print(f"CDNOW, calibration through {CALIBRATION_END}, weeks; best of {args.repeat} fits\n")
    print("| step | workbench (s) | lifetimes (s) | speed-up | workbench LL | lifetimes LL | LL difference |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    ok = True
    for step, ll in (("shaping", None), ("bgnbd", "bgnbd_ll"), ("gamma_gamma", "gamma_gamma_ll")):
        a, b = ours[step], theirs[step]
        cells = f"| {step} | {a:.3f} | {b:.3f} | {b / a:.1f}x |"
        if ll:
            d = ours[ll] - theirs[ll]
            ok &= d >= -0.01  # ours at least as good as lifetimes' optimum
            cells += f" {ours[ll]:.3f} | {theirs[ll]:.3f} | {d:+.4f} |"
        else:
            cells += " | | |"
        print(cells)
    fit_ours = ours["bgnbd"] + ours["gamma_gamma"]
    fit_theirs = theirs["bgnbd"] + theirs["gamma_gamma"]
    print(f"\nBG/NBD + Gamma-Gamma fit: workbench {fit_ours:.3f} s, lifetimes {fit_theirs:.3f} s, "
          f"speed-up {fit_theirs / fit_ours:.1f}x; log-likelihood check: {'OK' if ok else 'FAILED'}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
