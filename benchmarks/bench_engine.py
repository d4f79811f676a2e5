"""Benchmark of customer features: the Ibis route against pandas and a hand-written DuckDB query.

Not a test: it prints seconds, peak memory and ratios, side by side, for the same features on the
same synthetic orders Parquet (microsecond timestamps, so Spark reads it too):

- ``ibis``: :func:`workbench.data.features.customer_features` on DuckDB (the library's route);
- ``pandas``: an idiomatic pandas groupby of the same features, reading the Parquet with pandas;
- ``duckdb_sql``: one hand-written DuckDB SQL query of the same features;
- ``spark`` (``--spark``): the Ibis route on Spark ``local[2]``.

Every method runs in its own Python process (its peak memory is its own: the largest resident
set of the process and its children, sampled with psutil, and the kernel's ``VmHWM``), the median
of ``--repeat`` runs is printed; every method's numbers are checked equal to the Ibis route's on a
seeded sample of customers (rtol 1e-9).

    .venv/bin/python benchmarks/bench_engine.py --orders 1e6
    .venv/bin/python benchmarks/bench_engine.py --orders 1e6 --orders 1e7 --spark

The orders are made once by :func:`workbench.synth.write_example` (about 10.5 orders per customer,
channels, refunds, amounts) and cached outside the repository, under ``--cache`` (default
``<temp>/crm-workbench-bench``), keyed by size and seed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

AS_OF = "2025-09-30"
ORDER_COLUMNS = ["customer_id", "order_time", "amount", "channel", "status", "is_refund"]
METHODS = ("ibis", "pandas", "duckdb_sql")
LABELS = {
    "ibis": "Ibis route on DuckDB (`customer_features`)",
    "pandas": "idiomatic pandas groupby",
    "duckdb_sql": "hand-written DuckDB SQL query",
    "spark": "Ibis route on Spark local[2]",
}
SAMPLE = 20_000  # customers compared between methods


# --- the synthetic data -------------------------------------------------------------------------


def make_data(folder: Path, n_orders: int, seed: int) -> dict:
    """Write ``orders.parquet`` and ``customers.parquet`` (microsecond timestamps) into ``folder``.

    Runs :func:`workbench.synth.write_example` with about ``n_orders / 10.5`` customers into a
    scratch folder, then keeps the two tables needed here with timestamps cast to microseconds.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from workbench.synth import write_example

    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="synth-", dir=folder))
    try:
        write_example(scratch, n_customers=max(1000, int(n_orders / 10.5)), seed=seed, defects=False, formats="canonical")
        rows = {}
        for name in ("orders", "customers"):
            table = pq.read_table(scratch / f"{name}.parquet")
            schema = pa.schema(
                [pa.field(f.name, pa.timestamp("us")) if pa.types.is_timestamp(f.type) else f for f in table.schema]
            )
            pq.write_table(table.cast(schema), folder / f"{name}.parquet", row_group_size=1_000_000)
            rows[name] = table.num_rows
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    meta = {"target_orders": n_orders, "seed": seed, "rows": rows}
    (folder / "meta.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
    return meta


def ensure_data(cache: Path, n_orders: int, seed: int) -> tuple[Path, dict]:
    """The cached data folder for a size and seed, made in a fresh process when missing."""
    folder = cache / f"orders_{n_orders}_seed{seed}"
    if not (folder / "meta.json").exists():
        t = time.perf_counter()
        print(f"making {n_orders:,} orders (seed {seed}) in {folder} ...", flush=True)
        code = f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_engine as b; "
        code += f"b.make_data(__import__('pathlib').Path({str(folder)!r}), {n_orders}, {seed})"
        subprocess.run([sys.executable, "-c", code], check=True)
        print(f"  made in {time.perf_counter() - t:.0f} s", flush=True)
    return folder, json.loads((folder / "meta.json").read_text(encoding="utf-8"))


# --- (b) idiomatic pandas ------------------------------------------------------------------------


def pandas_features(folder: Path, as_of: str = AS_OF):
    """The customer features with pandas alone: read the Parquet, filter, groupby, merge."""
    import pandas as pd

    asof = pd.Timestamp(as_of).normalize()
    o = pd.read_parquet(folder / "orders.parquet", columns=ORDER_COLUMNS)
    o = o[(o["order_time"] < asof + pd.Timedelta(days=1)) & o["customer_id"].notna() & o["amount"].notna()]
    status = o["status"].fillna("").str.lower()
    refund = (
        (o["amount"] < 0)
        | o["is_refund"].fillna(False).astype(bool)
        | status.str.contains("refund", regex=False)
        | status.str.contains("退", regex=False)
    )
    p = o[~refund & (o["amount"] > 0)].assign(day=lambda d: d["order_time"].dt.normalize())
    r = o[refund]

    feats = p.groupby("customer_id").agg(
        first_order=("order_time", "min"),
        last_order=("order_time", "max"),
        n_orders=("amount", "size"),
        monetary_sum=("amount", "sum"),
        monetary_mean=("amount", "mean"),
        first_day=("day", "min"),
        last_day=("day", "max"),
    )
    days = p[["customer_id", "day"]].drop_duplicates().sort_values(["customer_id", "day"])
    days["gap"] = days.groupby("customer_id")["day"].diff().dt.days
    gaps = days.groupby("customer_id").agg(
        n_purchase_days=("day", "size"),
        gap_mean_days=("gap", "mean"),
        gap_median_days=("gap", "median"),
        gap_max_days=("gap", "max"),
    )
    refunds = r.assign(refund=r["amount"].abs()).groupby("customer_id").agg(
        n_refunds=("refund", "size"), refund_amount=("refund", "sum")
    )
    counts = p.assign(channel=p["channel"].fillna("(missing)")).groupby(["customer_id", "channel"]).size().unstack(fill_value=0)
    counts = counts[sorted(counts.columns)]
    mix = counts.div(counts.sum(axis=1), axis=0).rename(columns=lambda c: f"share_{_safe(c)}")
    mix.insert(0, "n_channels", (counts > 0).sum(axis=1))
    mix.insert(0, "preferred_channel", counts.idxmax(axis=1))  # first maximum: alphabetical tie-break
    feats = feats.join(gaps).join(refunds).join(mix)

    cust = pd.read_parquet(folder / "customers.parquet", columns=["customer_id", "signup_date"])
    cust = cust[cust["signup_date"].isna() | (cust["signup_date"].dt.normalize() <= asof)]
    cust = cust.drop_duplicates("customer_id")
    out = cust.merge(feats, how="left", left_on="customer_id", right_index=True)
    for col in ("n_orders", "n_purchase_days", "n_refunds", "n_channels"):
        out[col] = out[col].fillna(0).astype("int64")
    for col in ("monetary_sum", "refund_amount"):
        out[col] = out[col].fillna(0.0)
    out["monetary_net"] = out["monetary_sum"] - out["refund_amount"]
    out["refund_share"] = (out["n_refunds"] / out["n_orders"]).where(out["n_orders"] > 0)
    out["refund_amount_share"] = (out["refund_amount"] / out["monetary_sum"]).where(out["monetary_sum"] > 0)
    out["recency_days"] = (asof - out["last_day"]).dt.days
    out["btyd_frequency"] = (out["n_purchase_days"] - 1).clip(lower=0)
    out["btyd_recency_days"] = (out["last_day"] - out["first_day"]).dt.days
    out["btyd_T_days"] = (asof - out["first_day"]).dt.days
    out["tenure_days"] = (asof - out["signup_date"].dt.normalize().fillna(out["first_day"])).dt.days
    out = out.drop(columns=["first_day", "last_day", "signup_date"])
    return out.sort_values("customer_id").reset_index(drop=True)


# --- (c) one hand-written DuckDB query ---------------------------------------------------------------


def duckdb_sql(folder: Path, channels: list[str], as_of: str = AS_OF) -> str:
    """One DuckDB query of the same features, as an analyst who knows SQL writes it."""
    shares = ",\n".join(
        f"  count(*) FILTER (WHERE channel = '{c}') / count(*) AS \"share_{_safe(c)}\"" for c in channels
    )
    return textwrap.dedent(
        f"""
        WITH lines AS (
          SELECT customer_id, order_time, amount, coalesce(channel, '(missing)') AS channel,
                 amount < 0 OR coalesce(is_refund, false)
                   OR contains(lower(coalesce(status, '')), 'refund')
                   OR contains(lower(coalesce(status, '')), '退') AS refund
          FROM read_parquet('{folder / "orders.parquet"}')
          WHERE order_time < DATE '{as_of}' + INTERVAL 1 DAY
            AND customer_id IS NOT NULL AND amount IS NOT NULL
        ),
        p AS (SELECT *, CAST(order_time AS DATE) AS day FROM lines WHERE NOT refund AND amount > 0),
        agg AS (
          SELECT customer_id, min(order_time) AS first_order, max(order_time) AS last_order,
                 count(*) AS n_orders, count(DISTINCT day) AS n_purchase_days,
                 sum(amount) AS monetary_sum, avg(amount) AS monetary_mean,
                 min(day) AS first_day, max(day) AS last_day, count(DISTINCT channel) AS n_channels,
          {shares}
          FROM p GROUP BY customer_id
        ),
        gaps AS (
          SELECT customer_id, avg(gap) AS gap_mean_days, median(gap) AS gap_median_days,
                 max(gap) AS gap_max_days
          FROM (
            SELECT customer_id, day - lag(day) OVER (PARTITION BY customer_id ORDER BY day) AS gap
            FROM (SELECT DISTINCT customer_id, day FROM p)
          ) WHERE gap IS NOT NULL GROUP BY customer_id
        ),
        pref AS (
          SELECT customer_id, first(channel ORDER BY n DESC, channel) AS preferred_channel
          FROM (SELECT customer_id, channel, count(*) AS n FROM p GROUP BY ALL) GROUP BY customer_id
        ),
        r AS (
          SELECT customer_id, count(*) AS n_refunds, sum(abs(amount)) AS refund_amount
          FROM lines WHERE refund GROUP BY customer_id
        ),
        c AS (
          SELECT customer_id, first(signup_date) AS signup_date
          FROM read_parquet('{folder / "customers.parquet"}')
          WHERE signup_date IS NULL OR CAST(signup_date AS DATE) <= DATE '{as_of}'
          GROUP BY customer_id
        )
        SELECT c.customer_id, first_order, last_order, coalesce(n_orders, 0) AS n_orders,
               coalesce(n_purchase_days, 0) AS n_purchase_days,
               coalesce(monetary_sum, 0) AS monetary_sum, monetary_mean,
               coalesce(n_refunds, 0) AS n_refunds, coalesce(refund_amount, 0) AS refund_amount,
               gap_mean_days, gap_median_days, gap_max_days, preferred_channel,
               coalesce(n_channels, 0) AS n_channels,
               {", ".join(f'"share_{_safe(c)}"' for c in channels)},
               coalesce(monetary_sum, 0) - coalesce(refund_amount, 0) AS monetary_net,
               CASE WHEN n_orders > 0 THEN coalesce(n_refunds, 0) / n_orders END AS refund_share,
               CASE WHEN monetary_sum > 0 THEN coalesce(refund_amount, 0) / monetary_sum END
                 AS refund_amount_share,
               DATE '{as_of}' - last_day AS recency_days,
               greatest(coalesce(n_purchase_days, 0) - 1, 0) AS btyd_frequency,
               last_day - first_day AS btyd_recency_days,
               DATE '{as_of}' - first_day AS btyd_T_days,
               DATE '{as_of}' - coalesce(CAST(signup_date AS DATE), first_day) AS tenure_days
        FROM c LEFT JOIN agg USING (customer_id) LEFT JOIN gaps USING (customer_id)
          LEFT JOIN pref USING (customer_id) LEFT JOIN r ON r.customer_id = agg.customer_id
        ORDER BY c.customer_id
        """
    )


def _safe(name: str) -> str:
    from workbench.data.features import _safe as safe

    return safe(name)


# --- one method in its own process -------------------------------------------------------------------


def run_method(method: str, folder: Path, repeat: int, result_path: Path) -> dict:
    """Time ``method`` ``repeat`` times in this process; write its last result to ``result_path``."""
    import warnings

    warnings.filterwarnings("ignore")
    # imports before the clock: every method pays only for its own work
    import duckdb
    import ibis  # noqa: F401
    import pandas as pd

    from workbench.data import engine
    from workbench.data.features import customer_features

    setup = 0.0
    if method == "spark":
        t = time.perf_counter()
        con = engine.connect(
            backend="spark", master="local[2]",
            config={"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "8", "spark.driver.memory": "4g"},
        )  # fmt: skip
        setup = time.perf_counter() - t
    if method == "duckdb_sql":
        channels = sorted(
            pd.read_parquet(folder / "orders.parquet", columns=["channel"])["channel"].fillna("(missing)").unique()
        )

    def once() -> pd.DataFrame:
        if method == "ibis":
            duck = engine.connect()
            orders = engine.as_table(duck, folder / "orders.parquet", name="orders")
            customers = engine.as_table(duck, folder / "customers.parquet", name="customers")
            return customer_features(orders, as_of=AS_OF, customers=customers, con=duck)
        if method == "spark":
            orders = engine.as_table(con, folder / "orders.parquet", name="orders")
            customers = engine.as_table(con, folder / "customers.parquet", name="customers")
            return customer_features(orders, as_of=AS_OF, customers=customers, con=con)
        if method == "pandas":
            return pandas_features(folder)
        raw = duckdb.connect()
        raw.execute("SET enable_progress_bar = false")
        return raw.execute(duckdb_sql(folder, channels)).df()

    seconds, frame = [], None
    for _ in range(repeat):
        frame = None
        t = time.perf_counter()
        frame = once()
        seconds.append(time.perf_counter() - t)
    frame.to_parquet(result_path, index=False)
    out = {"method": method, "seconds": seconds, "customers": len(frame), "setup_seconds": setup}
    out["vmhwm_mb"] = _vmhwm_mb()
    if method == "spark":
        engine.close(con)
    return out


def _vmhwm_mb(pid: int | str = "self") -> float | None:
    """The kernel's peak resident set (``VmHWM``) of a process, MB; None when not on Linux."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def measure(method: str, folder: Path, repeat: int, result_path: Path) -> dict:
    """Run one method in a fresh process; sample the resident memory of it and its children."""
    code = (
        f"import sys, json; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_engine as b; "
        f"from pathlib import Path; print('RESULT ' + json.dumps(b.run_method({method!r}, Path({str(folder)!r}), "
        f"{repeat}, Path({str(result_path)!r}))))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0.0
    try:
        import psutil

        ps = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss + sum(c.memory_info().rss for c in ps.children(recursive=True))
                peak = max(peak, rss / 2**20)
            except psutil.Error:
                pass
            time.sleep(0.05)
    except ImportError:
        pass
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{stderr[-3000:]}")
    res = json.loads(stdout.rsplit("RESULT ", 1)[1].splitlines()[0])
    res["peak_mb"] = max(peak, res.get("vmhwm_mb") or 0.0)
    return res


# --- equality ------------------------------------------------------------------------------------------


def assert_same_numbers(ref, other, *, name: str, sample: int = SAMPLE, seed: int = 0, rtol: float = 1e-9) -> int:
    """Check ``other`` has the columns, customers and numbers of ``ref`` on a seeded sample."""
    import numpy as np
    import pandas as pd

    assert sorted(ref.columns) == sorted(other.columns), f"{name}: columns differ {set(ref.columns) ^ set(other.columns)}"
    assert len(ref) == len(other), f"{name}: {len(other):,} customers, the Ibis route has {len(ref):,}"
    ids = ref["customer_id"].sample(min(sample, len(ref)), random_state=seed)
    a = ref.set_index("customer_id").loc[ids]
    b = other.set_index("customer_id").loc[ids, a.columns]
    for col in a.columns:
        x, y = a[col], b[col]
        assert (x.isna().to_numpy() == y.isna().to_numpy()).all(), f"{name}.{col}: missing values differ"
        keep = x.notna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(x):
            xs = pd.to_datetime(x[keep]).dt.tz_localize(None).astype("datetime64[us]")
            ys = pd.to_datetime(y[keep]).dt.tz_localize(None).astype("datetime64[us]")
            assert (xs.to_numpy() == ys.to_numpy()).all(), f"{name}.{col}: times differ"
        elif pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            np.testing.assert_allclose(x[keep].astype(float), y[keep].astype(float), rtol=rtol, err_msg=f"{name}.{col}")
        else:
            assert x[keep].astype(str).tolist() == y[keep].astype(str).tolist(), f"{name}.{col}: values differ"
    return len(ids)


# --- main ---------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table of figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=float, action="append", help="target order rows (repeatable); default 1e6")
    ap.add_argument("--spark", action="store_true", help="also time the Ibis route on Spark local[2]")
    ap.add_argument("--repeat", type=int, default=3, help="runs per method, the median is shown (default 3)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the synthetic data (default 1)")
    ap.add_argument("--only", nargs="+", choices=[*METHODS, "spark"], help="run only these methods")
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "crm-workbench-bench",
        help="folder for the synthetic data, outside the repository (default <temp>/crm-workbench-bench)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    sizes = [int(s) for s in (args.orders or [1e6])]
    methods = list(args.only or [*METHODS, *(["spark"] if args.spark else [])])
    if "ibis" not in methods:
        methods.insert(0, "ibis")  # the reference for equal numbers and ratios
    import pandas as pd

    try:
        import psutil  # noqa: F401

        how = "psutil samples of the process tree and VmHWM"
    except ImportError:
        how = "VmHWM of the process (psutil not installed; Spark's JVM not counted)"
    print(f"cores: {os.cpu_count()}  python: {sys.version.split()[0]}  repeat: {args.repeat}  peak memory: {how}")
    rows = []
    for target in sizes:
        folder, meta = ensure_data(args.cache, target, args.seed)
        n_orders, n_cust = meta["rows"]["orders"], meta["rows"]["customers"]
        print(f"\n{n_orders:,} orders, {n_cust:,} customers ({folder})", flush=True)
        ref = None
        for method in methods:
            res = measure(method, folder, args.repeat, folder / f"result_{method}.parquet")
            frame = pd.read_parquet(folder / f"result_{method}.parquet")
            checked = "reference"
            if method == "ibis":
                ref = frame
            else:
                checked = f"equal on {assert_same_numbers(ref, frame, name=method):,} customers"
            res.update(orders=n_orders, customers_total=n_cust, median=statistics.median(res["seconds"]), checked=checked)
            rows.append(res)
            print(
                f"  {method:11} {res['median']:7.2f} s (runs {', '.join(f'{s:.2f}' for s in res['seconds'])})"
                f"  peak {res['peak_mb']:,.0f} MB  {checked}", flush=True,
            )  # fmt: skip

    print("\n| orders | customers | method | seconds (median) | peak memory (MB) | vs pandas | vs DuckDB SQL |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for r in rows:
        same = [x for x in rows if x["orders"] == r["orders"]]
        base = {x["method"]: x["median"] for x in same}
        vs_pd = f"{base['pandas'] / r['median']:.1f}×" if "pandas" in base else "–"
        vs_sql = f"{base['duckdb_sql'] / r['median']:.1f}×" if "duckdb_sql" in base else "–"
        print(
            f"| {r['orders']:,} | {r['customers']:,} | {LABELS[r['method']]} | {r['median']:.2f} | "
            f"{r['peak_mb']:,.0f} | {vs_pd} | {vs_sql} |"
        )
    print("\nvs pandas / vs DuckDB SQL: that method's seconds divided by this row's (above 1×: this row is faster).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
