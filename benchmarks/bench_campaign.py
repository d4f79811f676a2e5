"""Benchmark of the campaign notebook's steps on the large synthetic base (1.27M contacts, 9.7M orders,
10M events).

Not a test: it prints seconds and peak memory (max resident set size) of each step. Every step runs
in a fresh Python process (``python -c STEP``) so its peak memory is its own; the objects a step
hands to the next (campaign data, campaign frames, covariates, uplift models) are pickled to
``benchmarks/out/bench_campaign/``. Loading a step's inputs (Parquet or pickle) is not in its
seconds (it is printed as ``load_s`` in the JSON line) but is in its peak memory.

Outcomes are attributed from the orders (``outcome_source='orders'``, 14-day window, as of
2025-09-30). Experiment statistics run on each randomized campaign (the step's seconds are the
sum over them); the observational comparison is for ``vip_call_2025``. The funnel runs on 10M
events: the base's 6.8M plus a copy of its first 3.2M rows with ``session_id`` and ``customer_id``
suffixed ``_b`` (written once to ``events_10m.parquet``; the build is not timed).

    .venv/bin/python benchmarks/bench_campaign.py                       # all steps
    .venv/bin/python benchmarks/bench_campaign.py --steps funnel        # some steps (their inputs must exist)
    .venv/bin/python benchmarks/bench_campaign.py --profile attribution # cProfile top functions of a step

The base is the one ``bench_foundation.py --orders 1e7`` writes (``benchmarks/out/orders_1e+07``).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import stepbench

OUT = stepbench.OUT
EVENTS_ROWS = 10_000_000

STEP = textwrap.dedent(
    """
    import json, pickle, resource, sys, time, warnings
    warnings.filterwarnings("ignore")
    step, folder, work, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    import pandas as pd
    from workbench import campaign
    from workbench.campaign import experiments
    from workbench.campaign import funnel
    from workbench.campaign import uplift
    from workbench.campaign.params import CampaignParams
    AS_OF, OBS = "2025-09-30", "vip_call_2025"
    K = CampaignParams()
    E, U, F = K.experiment, K.uplift, K.funnel

    def read(name):
        return pd.read_parquet(f"{folder}/{name}.parquet")

    def load(name):
        with open(f"{work}/{name}.pkl", "rb") as f:
            return pickle.load(f)

    t_load = time.perf_counter()
    if step == "attribution":
        contacts, orders = read("campaign_contacts"), read("orders")
        def run():
            data = campaign.prepare_contacts(contacts, orders=orders, control_arm=K.control_arm, window_days=14,
                                             outcome_source="orders", as_of=AS_OF)
            return {"rows": len(contacts), "orders": len(orders), "randomized": data.randomized}, {"data": data}
    elif step in ("kpi_table", "incremental_return"):
        data = load("data")
        def run():
            if step == "kpi_table":
                k = campaign.kpi_table(data, targets=K.targets, engagement_weights=K.engagement_weights,
                                       margin=K.margin)
                return {"rows": len(data.contacts), "kpi_rows": len(k.summary())}, {}
            r = campaign.incremental_return(data, margin=K.margin, random_state=0)
            return {"rows": len(data.contacts), "arms": len(r.summary())}, {}
    elif step == "campaign_frames":
        data, customers = load("data"), read("customers")
        def run():
            frames = {cid: campaign.campaign_frame(data, cid, customers=customers) for cid in data.randomized}
            return {"rows": sum(map(len, frames.values()))}, {"frames": frames}
    elif step in ("srm_test", "compare_arms_welch", "compare_arms_bootstrap", "cuped", "power_plan",
                  "heterogeneity"):
        frames = load("frames")
        ctl = K.control_arm
        def one(frame):
            if step == "srm_test":
                experiments.srm_test(frame, planned_split=E.planned_split.get(frame["campaign_id"].iat[0]),
                                     alpha=E.srm_alpha).summary()
            elif step.startswith("compare_arms"):
                experiments.compare_arms(frame, control=ctl, metrics=[m for m in E.metrics if m in frame],
                                         revenue_method=step.split("_")[-1], bootstrap=E.bootstrap, alpha=E.alpha,
                                         random_state=0).summary()
            elif step == "cuped":
                for metric in ("revenue", "converted"):
                    experiments.cuped(frame, control=ctl, metric=metric, covariate=E.cuped_covariate,
                                      alpha=E.alpha).summary()
            elif step == "power_plan":
                experiments.power_plan(frame, control=ctl, metric="converted", power=E.power,
                                       target_lift=E.target_lift, alpha=E.alpha).summary()
            else:
                for arm in sorted(set(frame["arm"]) - {ctl}):
                    experiments.heterogeneity(frame, by="member_level", control=ctl, arm_name=arm,
                                              alpha=E.alpha).summary()
        def run():
            per = {}
            for cid, frame in frames.items():
                t = time.perf_counter()
                one(frame)
                per[cid] = round(time.perf_counter() - t, 1)
            return {"rows": sum(map(len, frames.values())), "per_campaign_s": per}, {}
    elif step == "observational_frame":
        data, orders, customers = load("data"), read("orders"), read("customers")
        def run():
            comp = campaign.observational_frame(data, OBS, orders=orders, customers=customers)
            return {"rows": len(comp), "treated": int(comp["treated"].sum())}, {"comparison": comp}
    elif step == "observational_effect":
        comp = load("comparison")
        def run():
            r = experiments.observational_effect(comp, treated="treated", outcome="converted",
                                                 covariates=E.observational_covariates, estimand=E.ipw_estimand,
                                                 trim=E.ipw_trim, bootstrap=500, random_state=0)
            r.summary()
            return {"rows": len(comp)}, {}
    elif step == "pre_campaign_covariates":
        data, orders, customers = load("data"), read("orders"), read("customers")
        cid = U.campaign or data.randomized[0]
        def run():
            feats = campaign.pre_campaign_covariates(data, cid, customers=customers, orders=orders)
            return {"rows": len(feats), "campaign": cid}, {"features": feats}
    elif step == "uplift_data":
        data, feats = load("data"), load("features")
        cid = U.campaign or data.randomized[0]
        def run():
            ud = uplift.uplift_data(campaign.campaign_frame(data, cid), feats, treatment_arm=U.treatment_arm,
                                    control_arm=K.control_arm, outcome=U.outcome, feature_columns=U.features,
                                    campaign=cid)
            return {"rows": len(ud.frame)}, {"udata": ud}
    elif step == "fit_uplift":
        ud = load("udata")
        def run():
            m = uplift.fit_uplift(ud, learner=U.learner, test_size=U.test_size, max_rows=200_000,
                                  propensity=U.propensity, random_state=0)
            return {"rows": len(ud.frame), "n_train": m.n_train, "held_out": len(m.held_out)}, {"umodels": m}
    elif step == "evaluate_uplift":
        m = load("umodels")
        def run():
            ev = uplift.evaluate_uplift(m, bootstrap=200, random_state=0)
            ev.summary()
            return {"rows": len(m.held_out)}, {}
    elif step == "customer_covariates":
        orders, customers = read("orders"), read("customers")
        def run():
            cand = campaign.customer_covariates(customers, orders, as_of=AS_OF)
            return {"rows": len(cand)}, {"candidates": cand}
    elif step == "targeting_list":
        m, ud, cand = load("umodels"), load("udata"), load("candidates")
        def run():
            t = uplift.targeting_list(m, cand, value_per_conversion=U.value_per_conversion
                                      or K.margin * ud.value_per_conversion, contact_cost=U.contact_cost,
                                      salt="bench", model=U.targeting_model)
            return {"rows": len(cand), "listed": len(t.to_frame())}, {}
    elif step == "funnel":
        events = pd.read_parquet(f"{folder}/events_10m.parquet")
        def run():
            r = funnel.funnel(events, steps=F.steps, unit="session", by=["channel"],
                              max_step_hours=F.max_step_hours)
            r.summary()
            return {"rows": len(events)}, {}
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
    "attribution", "kpi_table", "incremental_return", "campaign_frames", "srm_test", "compare_arms_welch",
    "compare_arms_bootstrap", "cuped", "power_plan", "heterogeneity", "observational_frame",
    "observational_effect", "pre_campaign_covariates", "uplift_data", "fit_uplift", "evaluate_uplift",
    "customer_covariates", "targeting_list", "funnel",
]  # fmt: skip

LABELS = {
    "attribution": "(a) prepare_contacts, outcomes attributed from orders",
    "kpi_table": "(b) kpi_table",
    "incremental_return": "(b) incremental_return",
    "campaign_frames": "(c) campaign_frame x randomized campaigns",
    "srm_test": "(c) srm_test",
    "compare_arms_welch": "(c) compare_arms (welch)",
    "compare_arms_bootstrap": "(c) compare_arms (bootstrap 2000)",
    "cuped": "(c) cuped (revenue, converted)",
    "power_plan": "(c) power_plan",
    "heterogeneity": "(c) heterogeneity by member_level, each arm",
    "observational_frame": "(c) observational_frame vip_call_2025",
    "observational_effect": "(c) observational_effect (IPW, bootstrap 500)",
    "pre_campaign_covariates": "(d) pre_campaign_covariates",
    "uplift_data": "(d) uplift_data",
    "fit_uplift": "(d) fit_uplift (max_rows 200k)",
    "evaluate_uplift": "(d) evaluate_uplift (bootstrap 200)",
    "customer_covariates": "(d) customer_covariates (all customers, as of)",
    "targeting_list": "(d) targeting_list (all customers)",
    "funnel": "(e) funnel by session and channel",
}


BUILD_EVENTS = textwrap.dedent(
    """
    import sys
    import pandas as pd
    folder, rows = sys.argv[1], int(sys.argv[2])
    ev = pd.read_parquet(folder + "/events.parquet")
    extra = ev.iloc[: max(0, rows - len(ev))].copy()
    for col in ("session_id", "customer_id"):
        extra[col] = extra[col] + "_b"
    pd.concat([ev, extra], ignore_index=True).to_parquet(folder + "/events_10m.parquet", index=False)
    """
)


def build_events(folder: Path) -> None:
    """Write ``events_10m.parquet``: the events plus a suffixed copy of their first rows, 10M in all.

    In a child process: a large resident set here would be inherited by every step (fork + exec
    keep the parent's peak in the child's ``ru_maxrss``) and inflate their peak memory.
    """
    subprocess.run([sys.executable, "-c", BUILD_EVENTS, str(folder), str(EVENTS_ROWS)], check=True)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of figures."""
    args = stepbench.parse_args(__doc__, STEPS, argv)
    folder = stepbench.base_folder(args.orders)
    if not (folder / "events_10m.parquet").exists():
        build_events(folder)
    work = OUT / "bench_campaign"
    return stepbench.run_steps(STEP, args, STEPS, LABELS, folder=folder, work=work)


if __name__ == "__main__":
    sys.exit(main())
