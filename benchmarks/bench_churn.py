"""Benchmark of the churn notebook's steps on the large synthetic base (~1M customers, ~10M orders).

Not a test: it prints seconds and peak memory (max resident set size) of each step. Every step runs
in a fresh Python process (``python -c STEP``) so its peak memory is its own; the objects a step
hands to the next (churn frame, model frames, fitted models, scores) are pickled to
``benchmarks/out/bench_churn/``. Loading a step's inputs (Parquet or pickle) is not in its seconds
(it is printed as ``load_s`` in the JSON line) but is in its peak memory.

Non-contractual churn as of 2025-09-30, 90-day inactivity window, tickets joined, launch 2023-01-01.

    .venv/bin/python benchmarks/bench_churn.py                      # all steps, ~1M customers
    .venv/bin/python benchmarks/bench_churn.py --steps cox_model    # some steps (their inputs must exist)
    .venv/bin/python benchmarks/bench_churn.py --profile churn_frame   # cProfile top functions of a step

The base is the one ``bench_foundation.py --orders 1e7`` writes (``benchmarks/out/orders_1e+07``).
``fit_churn_models`` fits both models (and decides on calibration with 3-fold out-of-fold
predictions) in one call; the ``fit_logistic_only`` / ``fit_hgb_only`` steps refit a clone of each
fitted estimator on a 200,000-row stratified sample of the training frame to split that time.
"""

from __future__ import annotations

import sys
import textwrap

import stepbench

OUT = stepbench.OUT

STEP = textwrap.dedent(
    """
    import json, pickle, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    step, folder, work, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    import numpy as np
    import pandas as pd
    from workbench import churn
    from workbench.churn import model as churn_model
    from workbench.churn import survival
    from workbench.churn.params import ChurnParams
    AS_OF, LAUNCH = "2025-09-30", "2023-01-01"
    C = ChurnParams()

    def read(name):
        return pd.read_parquet(f"{folder}/{name}.parquet")

    def load(name):
        with open(f"{work}/{name}.pkl", "rb") as f:
            return pickle.load(f)

    t_load = time.perf_counter()
    if step == "churn_frame":
        customers, orders, tickets = read("customers"), read("orders"), read("tickets")
        def run():
            frame = churn.churn_frame(customers, orders, as_of=AS_OF, label=C.label, tickets=tickets,
                                      launch_date=LAUNCH)
            return {"rows": len(frame.table), "churn_rate": round(frame.rate, 4)}, {"frame": frame}
    elif step in ("churn_rates", "churn_drivers", "kaplan_meier", "hazard_by_tenure", "cox_model"):
        frame = load("frame")
        def run():
            t = frame.table
            if step == "churn_rates":
                r = churn.churn_rates(frame, by=C.group_by, max_levels=C.max_levels, numeric_bins=C.numeric_bins)
                return {"rows": len(t), "levels": len(r.summary())}, {}
            if step == "churn_drivers":
                r = churn.churn_drivers(frame, numeric_bins=C.numeric_bins, max_levels=C.max_levels)
                return {"rows": len(t), "features": int(r.summary()["feature"].nunique())
                        if "feature" in r.summary() else len(r.summary())}, {}
            if step == "kaplan_meier":
                r = survival.kaplan_meier(t, group="acquisition_channel", max_levels=C.max_levels)
                return {"rows": len(t), "groups": len(r.summary())}, {}
            if step == "hazard_by_tenure":
                r = survival.hazard_by_tenure(t)
                return {"rows": len(t), "intervals": len(r.summary())}, {}
            r = survival.cox_model(t, covariates=["acquisition_channel", "member_level", "gender", "age_at_signup"],
                                   max_rows=50_000, random_state=0)
            return {"rows": len(t), "fit_rows": int(r.metrics().get("n", 0) or 0)}, {}
    elif step == "model_frames":
        customers, orders, tickets = read("customers"), read("orders"), read("tickets")
        frame = load("frame")
        def run():
            train, test = churn.model_frames(frame, customers, orders, tickets=tickets, label=C.label,
                                             launch_date=LAUNCH)
            return {"rows": len(train), "test_rows": len(test)}, {"train": train, "test": test}
    elif step == "fit_churn_models":
        train, test = load("train"), load("test")
        def run():
            spec = churn_model.prepare_features(train, max_levels=C.max_levels)
            m = churn_model.fit_churn_models(train, spec=spec, test=test, max_rows=200_000, random_state=0)
            cal = m.calibration.set_index("model")["calibrated"].to_dict()
            return {"rows": len(train), "features": len(spec.features), "n_train_used": m.split["n_train_used"],
                    "calibrated": {k: bool(v) for k, v in cal.items()}}, {"models": m}
    elif step in ("fit_logistic_only", "fit_hgb_only"):
        from sklearn.base import clone
        train, models = load("train"), load("models")
        y = train[models.spec.label].astype("int64").to_numpy()
        rng = np.random.default_rng(0)
        n = min(200_000, len(y))
        idx = np.sort(np.concatenate([rng.choice(np.flatnonzero(y == k), round(n * (y == k).mean()), replace=False)
                                      for k in (0, 1)]))
        X, y = models.estimator.design_.transform(train.iloc[idx], what="training frame"), y[idx]
        if step == "fit_logistic_only":
            est = clone(models.estimator.logistic_)
        else:
            m = models.estimator.models_["hgb"]
            est = clone(getattr(m, "estimator", m))
        def run():
            est.fit(X, y)
            return {"rows": len(y), "columns": int(X.shape[1])}, {}
    elif step == "evaluate_churn_models":
        models = load("models")
        def run():
            ev = churn_model.evaluate_churn_models(models, bootstrap=500, random_state=0)
            auc = {k: round(float(v), 4) for k, v in ev.metrics().items() if "auc" in k and isinstance(v, float)}
            return {"rows": len(models.y_test), **auc}, {}
    elif step == "churn_reasons":
        frame, models = load("frame"), load("models")
        candidates = churn.current_customers(frame)
        def run():
            scores = churn_model.churn_reasons(models, candidates, n=C.model.n_reasons)
            return {"rows": len(candidates)}, {"scores": scores}
    elif step == "retention_list":
        frame, scores = load("frame"), load("scores")
        candidates = churn.current_customers(frame)
        R = C.retention
        def run():
            var = churn_model.value_at_risk(candidates, source=R.value_source, formula=R.value_formula)
            r = churn_model.retention_list(scores, value=var, save_rate=R.save_rate, contact_cost=R.contact_cost,
                                           salt="bench", top_n=R.top_n, segments=churn.segment_column(candidates),
                                           customers=candidates)
            return {"rows": len(scores), "listed": len(r.to_frame())}, {}
    else:
        raise SystemExit(f"unknown step {step}")
    t_load = time.perf_counter() - t_load
    t0 = time.perf_counter()
    if extra.get("profile"):
        import cProfile, io, pstats
        prof = cProfile.Profile()
        info, keep = prof.runcall(run)
        s = io.StringIO()
        pstats.Stats(prof, stream=s).sort_stats("cumulative").print_stats(35)
        print(s.getvalue(), file=sys.stderr)
    else:
        info, keep = run()
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, obj in keep.items():
        with open(f"{work}/{name}.pkl", "wb") as f:
            pickle.dump(obj, f, protocol=pickle.HIGHEST_PROTOCOL)
    print(json.dumps({"step": step, "seconds": round(seconds, 1), "peak_mb": round(peak_mb),
                      "load_s": round(t_load, 1), **info}, default=str))
    """
)

STEPS = [
    "churn_frame", "churn_rates", "churn_drivers", "kaplan_meier", "hazard_by_tenure", "cox_model",
    "model_frames", "fit_churn_models", "fit_logistic_only", "fit_hgb_only", "evaluate_churn_models",
    "churn_reasons", "retention_list",
]  # fmt: skip

LABELS = {
    "churn_frame": "(a) churn_frame (features + label + tickets)",
    "churn_rates": "(b) churn_rates",
    "churn_drivers": "(b) churn_drivers",
    "kaplan_meier": "(c) kaplan_meier by acquisition_channel",
    "hazard_by_tenure": "(c) hazard_by_tenure",
    "cox_model": "(c) cox_model (seeded 50k-row subsample)",
    "model_frames": "(d) model_frames (out-of-time training frame)",
    "fit_churn_models": "(d) prepare_features + fit_churn_models (200k subsample)",
    "fit_logistic_only": "(d) of which: logistic refit on 200k rows",
    "fit_hgb_only": "(d) of which: boosting refit on 200k rows",
    "evaluate_churn_models": "(d) evaluate_churn_models (bootstrap 500)",
    "churn_reasons": "(d) churn_reasons (all current customers)",
    "retention_list": "(d) value_at_risk + retention_list",
}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of figures."""
    args = stepbench.parse_args(__doc__, STEPS, argv)
    folder = stepbench.base_folder(args.orders)
    work = OUT / "bench_churn"
    return stepbench.run_steps(STEP, args, STEPS, LABELS, folder=folder, work=work)


if __name__ == "__main__":
    sys.exit(main())
