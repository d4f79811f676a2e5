"""Benchmark: intake of a large orders table kept in the engine (``load_tables(..., resident_dir=)``).

Not a test: prints seconds and peak memory (VmHWM of the process) of
``workbench.core.io.load_tables`` on one synthetic orders table, each run in its own fresh process:
the source as Parquet (all text columns, as an export holds them) or as a plain UTF-8 CSV, read
resident (mapping, typing and checks in DuckDB, the typed table written to Parquet) or, for
comparison, by the DuckDB scan into pandas (``scan``). ``--messy`` writes a share of amounts as
``￥1,234.50`` and of dates as ``2024/3/5``, which the strict SQL leaves to the pandas parsers.
The source is made by DuckDB once and cached (``$WORKBENCH_BENCH_CACHE``, default
``~/.cache/workbench-bench``).

    .venv/bin/python benchmarks/bench_resident_intake.py --orders 1e7 --messy 0.01
    .venv/bin/python benchmarks/bench_resident_intake.py --orders 1e7 --runs parquet:resident,csv:resident,csv:scan
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from bench_intake import COLUMNS, HEADERS, bench_cache, run_path, size_args

ROOT = Path(__file__).resolve().parent.parent
STEP = textwrap.dedent(
    """
    import json, resource, sys, tempfile, time, warnings
    from pathlib import Path
    warnings.filterwarnings("ignore")
    path, how, cols = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    from workbench.run.params import params_from_dict
    from workbench.core.io import load_tables
    p = params_from_dict({"name": "bench", "as_of": "2025-09-30", "engine": {"resident_rows": 0},
                          "tables": {"orders": {"path": path, "columns": cols}}})
    out = Path(tempfile.mkdtemp(prefix="bench-resident-"))
    t0 = time.perf_counter()
    if how == "resident":
        t = load_tables(p, resident_dir=out)["orders"]
    else:
        t = load_tables(p, scan=True)["orders"]
    seconds = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    status = open("/proc/self/status").read()
    hwm = int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1]) / 1024
    bad = {c.column: c.n_unparseable for c in t.columns if c.n_unparseable}
    import shutil; shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"seconds": seconds, "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": hwm, "rows": len(t.frame), "kind": type(t.frame).__name__,
                      "unparseable": bad}))
    """
)


def write_orders(folder: Path, n: int, *, messy: float) -> dict[str, Path]:
    """Write ``n`` synthetic order rows as an all-text Parquet file and a UTF-8 CSV (by DuckDB)."""
    import duckdb

    pq, csv = folder / f"orders_{n}_{messy:g}.parquet", folder / f"orders_{n}_{messy:g}.csv"
    if pq.exists() and csv.exists():
        return {"parquet": pq, "csv": csv}
    h = [f'"{x}"' for x in HEADERS]
    sql = f"""
        SELECT 'O' || lpad(CAST(i + 1 AS VARCHAR), 10, '0') AS {h[0]},
               'C' || CAST(1000000 + hash(i) % {max(1, n // 10)} AS VARCHAR) AS {h[1]},
               CASE WHEN hash(i * 3) % 10000 < {messy * 10000} THEN strftime(t, '%Y/%-m/%-d')
                    ELSE strftime(t, '%Y-%m-%d %H:%M:%S') END AS {h[2]},
               CASE WHEN hash(i * 5) % 10000 < {messy * 10000} THEN '￥' || printf('%.2f', a)
                    ELSE printf('%.2f', a) END AS {h[3]},
               ['app', 'web', '小程序', '门店'][1 + (hash(i * 7) % 4)::BIGINT] AS {h[4]},
               ['paid', 'paid', 'paid', 'refunded', 'cancelled'][1 + (hash(i * 11) % 5)::BIGINT] AS {h[5]},
               CASE WHEN hash(i * 13) % 20 = 0 THEN '是' ELSE '否' END AS {h[6]},
               CAST(1 + hash(i * 17) % 4 AS VARCHAR) AS {h[7]},
               printf('%.2f', a * 0.1) AS {h[8]}, printf('%.2f', a * 0.4) AS {h[9]},
               ['服装', '家居', '美妆', '食品', '数码'][1 + (hash(i * 19) % 5)::BIGINT] AS {h[10]}
        FROM (SELECT i, TIMESTAMP '2023-01-01' + to_seconds(CAST(hash(i * 23) % 94608000 AS BIGINT)) AS t,
                     round((hash(i * 29) % 200000) / 100.0, 2) AS a FROM range({n}) r(i))
    """
    with duckdb.connect(config={"memory_limit": "2GB"}) as con:
        con.execute(f"COPY ({sql}) TO '{pq}.part' (FORMAT parquet)")
        con.execute(f"COPY (SELECT * FROM read_parquet('{pq}.part')) TO '{csv}.part' (FORMAT csv, HEADER)")
    Path(f"{pq}.part").replace(pq)
    Path(f"{csv}.part").replace(csv)
    return {"parquet": pq, "csv": csv}


def main(argv: list[str] | None = None) -> int:
    """Write (or reuse) the sources, run each intake and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size_args(ap)
    ap.add_argument("--runs", default="parquet:resident,csv:resident", help="source:how, how = resident or scan")
    args = ap.parse_args(argv)
    n = int(args.orders)
    files = write_orders(bench_cache(), n, messy=args.messy)
    print(f"\n{n:,} orders, messy share {args.messy:g}\n")
    print("| source | intake | seconds | CPU seconds | peak memory (MB) | rows | frame | unparseable |\n"
          "|---|---|---:|---:|---:|---:|---|---|")
    for item in args.runs.split(","):
        kind, how = item.strip().split(":")
        r = run_path(files[kind], how, step=STEP, columns=COLUMNS)
        print(f"| {kind} ({files[kind].stat().st_size / 2**20:,.0f} MB) | {how} | {r['seconds']:.1f} | {r['cpu']:.1f} | "
              f"{r['peak_mb']:,.0f} | {r['rows']:,} | {r['kind']} | {r['unparseable'] or '-'} |", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
