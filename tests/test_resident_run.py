"""Resident tables end to end: the bundled example run with ``engine: {resident_rows: 1000}`` (orders
and events kept in the engine as Parquet, never pandas frames) gives the figures of the normal run.

Two runs of the bundled ``params/example.yaml`` through the real runner, at the same time
(:func:`report_fixture.example_runs`): the normal one (its own params, default
``engine.resident_rows``: every table in pandas; also the browser tests' run) and the resident
one, the profiling and segmentation notebooks only, its params differing only in ``engine:`` and
the analyses enabled. Every figure of their ``metrics.json`` must agree to a relative 1e-9, the keys the
metrics snapshot leaves out aside (timings, paths, ``data_end`` = the day of the run, and
``memory_mb``, which differs by design: the engine path estimates a table's size in Arrow, the
pandas path measures pandas' deep memory, :mod:`workbench.profiling.queries`).

Equal figures would not notice a notebook that quietly read the orders whole into pandas, so the
last tests ask the session of the resident run for its tables (``ResidentFrame``s) and run the
profiling notebook's calls on them while any pandas read of their Parquet fails.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import report_fixture
from report_fixture import statuses, variant

from workbench import profiling
from workbench.core.errors import WorkbenchError
from workbench.core.resident import ResidentFrame, is_resident
from workbench.data import cleaning, features
from workbench.run import session
from workbench.run.execute import STATUS_OK

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from metrics_snapshot import _same, flatten  # noqa: E402  (the snapshot's own comparison)

ANALYSES = report_fixture.RESIDENT_ANALYSES
NOTEBOOK_DIRS = ("01_data_profiling", "02_segmentation_value")
RESIDENT_ROWS = report_fixture.RESIDENT_ROWS
KEPT = ("orders", "events")
RTOL = 1e-9


@pytest.fixture(scope="module")
def runs(example_runs: dict[str, Any]) -> dict[str, Path]:
    return {"normal": example_runs["example"], "resident": variant(example_runs, "resident"),
            "params": example_runs["resident_params"]}


def metric_differences(normal: dict[str, Any], resident: dict[str, Any]) -> list[str]:
    """``key: normal=… resident=…`` for every figure that differs (the snapshot's keys)."""
    a, b = flatten(normal), flatten(resident)
    missing = "<missing>"
    return [f"{key}: normal={a.get(key, missing)!r} resident={b.get(key, missing)!r}"
            for key in sorted(set(a) | set(b))
            if not (key in a and key in b and _same(a[key], b[key], RTOL))]  # fmt: skip


def test_both_runs_end_well(runs):
    for kind in ("normal", "resident"):
        got = statuses(runs[kind])
        assert {k: got.get(k) for k in ANALYSES} == dict.fromkeys(ANALYSES, STATUS_OK), (kind, got)


def test_orders_and_events_were_kept_in_the_engine(runs):
    kept = json.loads((runs["resident"] / "intake" / "intake.json").read_text(encoding="utf-8"))
    plain = json.loads((runs["normal"] / "intake" / "intake.json").read_text(encoding="utf-8"))
    for name in KEPT:
        assert kept[name].get("resident") is True, (name, {k: v for k, v in kept[name].items() if k != "columns"})
        assert kept[name]["rows"] > RESIDENT_ROWS
        assert not plain[name].get("resident"), name
    assert not list((runs["resident"] / "intake").glob("*.raw.parquet")), "untreated copies left in intake/"


@pytest.mark.parametrize("notebook", NOTEBOOK_DIRS)
def test_resident_run_gives_the_same_metrics(runs, notebook):
    normal = json.loads((runs["normal"] / notebook / "metrics.json").read_text(encoding="utf-8"))
    resident = json.loads((runs["resident"] / notebook / "metrics.json").read_text(encoding="utf-8"))
    assert len(flatten(normal["metrics"])) > 50, "too few metrics recorded to compare"
    assert metric_differences(normal["metrics"], resident["metrics"]) == []


def test_metric_differences_names_key_and_both_values():
    a = {"tables": {"orders": {"rows": 3, "memory_mb": 1.0, "share": 0.25}}, "seconds": 1.0}
    b = {"tables": {"orders": {"rows": 4, "memory_mb": 2.0, "share": 0.25 * (1 + 1e-12)}}, "seconds": 9.0}
    assert metric_differences(a, b) == ["tables.orders.rows: normal=3 resident=4"]
    assert metric_differences({"x": 0.1}, {"x": 0.1 * (1 + 1e-8)}) == [f"x: normal=0.1 resident={0.1 * (1 + 1e-8)!r}"]


def _resident_asked(notebook: str, method: str) -> set[str]:
    """Tables a notebook's calls of ``ctx.<method>(..., resident=(...))`` accept resident."""
    import ast

    nb = json.loads((ROOT / "notebooks" / notebook).read_text(encoding="utf-8"))
    out: set[str] = set()
    for cell in (c for c in nb["cells"] if c["cell_type"] == "code"):
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method:
                out |= {v for k in node.keywords if k.arg == "resident" for v in ast.literal_eval(k.value)}
    return out


def test_notebooks_ask_for_resident_tables():
    assert _resident_asked("01_data_profiling.ipynb", "tables") == set(KEPT)
    assert "orders" in _resident_asked("02_segmentation_value.ipynb", "clean_tables")


# --------------------------------------------------------------------------------------------
# the session hands the notebooks resident tables, and their calls never read them into pandas
# --------------------------------------------------------------------------------------------


def test_session_returns_resident_tables_only_where_asked(runs):
    ctx = session.start(runs["params"], run_dir=runs["resident"], analysis="segmentation")
    tables = ctx.tables(list(KEPT), resident=("orders",))
    assert isinstance(tables["orders"].frame, ResidentFrame) and len(tables["orders"].frame) > RESIDENT_ROWS
    assert isinstance(tables["events"].frame, pd.DataFrame)  # not asked for: read whole
    clean = ctx.clean_tables(resident=("orders",))
    assert isinstance(clean["orders"], ResidentFrame)
    assert clean["orders"].path == runs["resident"] / "01_data_profiling" / "artifacts" / "clean_orders.parquet"
    assert all(isinstance(f, pd.DataFrame) for n, f in clean.items() if n != "orders")
    ctx.close_engine()


def test_tables_taken_in_pandas_are_the_normal_runs(runs):
    """A resident table a notebook takes in pandas is the frame of the normal run, dtypes included
    (text ``string`` and flags ``boolean`` with ``pd.NA``, as the pandas intake gives them); so
    are the cleaned tables."""
    ctx = session.start(runs["params"], run_dir=runs["resident"], analysis="churn")
    for name, table in ctx.tables().items():
        pd.testing.assert_frame_equal(table.frame, pd.read_parquet(runs["normal"] / "intake" / f"{name}.parquet"))
    artifacts = runs["normal"] / "01_data_profiling" / "artifacts"
    for name, frame in ctx.clean_tables().items():
        pd.testing.assert_frame_equal(frame.reset_index(drop=True),
                                      pd.read_parquet(artifacts / f"clean_{name}.parquet").reset_index(drop=True))


def test_unknown_resident_table_is_named(runs):
    ctx = session.start(runs["params"], run_dir=runs["resident"], analysis="segmentation")
    with pytest.raises(WorkbenchError, match=r"resident='oders' is not a contract table.*orders"):
        ctx.tables(resident=("oders",))


@pytest.fixture
def no_pandas_reads(monkeypatch: pytest.MonkeyPatch):
    """Fail any read into pandas (``to_pandas``, ``pd.read_parquet``) of the Parquet files the
    test adds to the returned set."""
    guarded: set[Path] = set()

    real_to_pandas = ResidentFrame.to_pandas

    def refuse(self: ResidentFrame, columns: Any = None) -> pd.DataFrame:
        if self.path.resolve() in guarded:
            raise AssertionError(f"{self.table} ({self.rows:,} rows) read into pandas")
        return real_to_pandas(self, columns)

    real = pd.read_parquet

    def read_parquet(path: Any, *args: Any, **kwargs: Any) -> pd.DataFrame:
        if isinstance(path, (str, Path)) and Path(path).resolve() in guarded:
            raise AssertionError(f"{path} read into pandas")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(ResidentFrame, "to_pandas", refuse)
    monkeypatch.setattr(pd, "read_parquet", read_parquet)
    return guarded


def test_profiling_calls_keep_resident_tables_in_the_engine(runs, no_pandas_reads, tmp_path):
    """The profiling notebook's calls on the resident tables, any pandas read of them refused
    (a correlation sample smaller than the tables, so the sample is one)."""
    ctx = session.start(runs["params"], run_dir=runs["resident"], analysis="data_profiling")
    P = ctx.params
    tables = ctx.tables(resident=KEPT)
    kept = {n: t.frame for n, t in tables.items() if is_resident(t.frame)}
    assert set(kept) == set(KEPT)
    no_pandas_reads.update(f.path.resolve() for f in kept.values())
    personal = ctx.personal_data()
    options = {**P.analyses.data_profiling.model_dump(exclude={"enabled"}), "correlation_sample": 500}
    prof = profiling.profile_tables(tables, **options, as_of=P.as_of, launch_date=P.launch_date, personal_data=personal,
                                    extreme_z=P.cleaning.extreme_spender_mad_z, random_state=P.seed,
                                    con=ctx.engine, engine_tables="resident")  # fmt: skip
    assert {n for n, tp in prof.profiles.items() if tp.engine} == set(KEPT)
    assert 0 < prof.profiles["orders"].sample_rows <= 500  # a seeded Bernoulli sample, cut to 500
    assert all(prof.profiles[n].sample_note() in prof.section_finding("missing") for n in KEPT)  # said so
    assert len(prof.spenders(10)) == 10
    assert len(profiling.intake_report(tables, personal_data=personal)) > 0
    cleaned = cleaning.clean_tables(tables, as_of=P.as_of, launch_date=P.launch_date, con=ctx.engine,
                                    out_dir=tmp_path, **P.cleaning.model_dump())  # fmt: skip
    assert all(is_resident(cleaned.tables[n]) for n in KEPT)
    no_pandas_reads.update(cleaned.tables[n].path.resolve() for n in KEPT)
    shared = profiling.clean_artifacts(cleaned.tables, personal_data=personal)
    assert shared["clean_orders"] is cleaned.tables["orders"]
    feats = features.customer_features(cleaned.tables["orders"], as_of=P.as_of, customers=cleaned.tables["customers"],
                                       con=ctx.engine)  # fmt: skip
    normal = pd.read_parquet(runs["normal"] / "01_data_profiling" / "artifacts" / "customer_features.parquet")
    pd.testing.assert_frame_equal(feats, normal, check_exact=False, rtol=RTOL, check_dtype=False)
    ctx.close_engine()


# --------------------------------------------------------------------------------------------
# the session's parts on a small shop (engine.resident_rows: 2)
# --------------------------------------------------------------------------------------------

SHOP = (
    "order_id,customer_id,order_time,amount\n"
    "A1,C1,2024-01-05 10:00,12.50\n"
    "A2,C2,2024-02-06 11:00,30\n"
    "A3,C1,2024-03-07 12:00,7.25\n"
    "A4,C3,2024-04-08 13:00,5\n"
)


def shop(folder: Path, *, resident_rows: int | None = 2) -> Path:
    """A one-table dataset (a plain UTF-8 CSV of 4 orders); returns the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "orders.csv").write_text(SHOP, encoding="utf-8")
    params = folder / "shop.yaml"
    params.write_text(
        f"name: shop\nas_of: 2024-12-31\nengine:\n  resident_rows: {'null' if resident_rows is None else resident_rows}\n"
        "tables:\n  orders:\n    path: orders.csv\n"
        "    columns: {order_id: order_id, customer_id: customer_id, order_time: order_time, amount: amount}\n",
        encoding="utf-8",
    )
    return params


def test_tables_resident_only_where_asked(tmp_path):
    ctx = session.start(shop(tmp_path), run_dir=tmp_path / "run", analysis="data_profiling")
    kept = ctx.tables(resident=("orders",))["orders"].frame
    assert isinstance(kept, ResidentFrame) and kept.rows == 4
    assert kept.path.parent == tmp_path / "run" / "intake"
    again = session.start(shop(tmp_path), run_dir=tmp_path / "run", analysis="segmentation")
    frame = again.tables()["orders"].frame  # from the cache, not asked resident: pandas
    assert isinstance(frame, pd.DataFrame)
    assert frame["amount"].tolist() == [12.5, 30.0, 7.25, 5.0]
    pd.testing.assert_frame_equal(frame, kept.head(10), check_dtype=False)
    assert str(frame["order_id"].dtype) == "string"  # the pandas intake's text dtype (missing: pd.NA)


def test_small_or_unlimited_tables_stay_in_pandas(tmp_path):
    for rows, folder in ((10, "big_limit"), (None, "no_limit")):
        ctx = session.start(shop(tmp_path / folder, resident_rows=rows), run_dir=tmp_path / folder / "run",
                            analysis="data_profiling")  # fmt: skip
        assert isinstance(ctx.tables(resident=("orders",))["orders"].frame, pd.DataFrame), folder


def test_clean_tables_recomputed_in_the_engine_when_resident(tmp_path):
    ctx = session.start(shop(tmp_path), run_dir=tmp_path / "run", analysis="segmentation")
    kept = ctx.clean_tables(resident=("orders",))["orders"]  # no profiling artifacts: cleaned here
    assert isinstance(kept, ResidentFrame) and kept.path.parent == ctx.resident_dir
    plain = ctx.clean_tables()["orders"]
    assert isinstance(plain, pd.DataFrame)
    pd.testing.assert_frame_equal(plain.reset_index(drop=True), kept.head(10), check_dtype=False)
    assert str(plain["customer_id"].dtype) == "string"
    ctx.close_engine()


def test_resident_artifact_put_in_place_recorded_and_read_back(tmp_path):
    from workbench.run.manifest import build_manifest

    params = shop(tmp_path)
    ctx = session.start(params, run_dir=tmp_path / "run", analysis="data_profiling")
    kept = ctx.tables(resident=("orders",))["orders"].frame
    path = ctx.save_artifact("clean_orders", kept)
    assert path == ctx.artifacts_dir / "clean_orders.parquet" and kept.path.exists()  # the source stays usable
    assert ResidentFrame.of(path, table="orders").to_pandas().equals(kept.head(10))  # the same rows and dtypes
    records = json.loads((ctx.artifacts_dir / "artifacts.json").read_text(encoding="utf-8"))
    assert records["clean_orders.parquet"]["fingerprint"] == ctx.fingerprint
    with pytest.raises(WorkbenchError, match=r"kept in the engine \(engine.resident_rows\).*not as CSV"):
        ctx.save_artifact("clean_orders", kept, csv=True)
    ctx.finish()
    entry = next(e for e in build_manifest(tmp_path / "run") if e["path"].endswith("artifacts/clean_orders.parquet"))
    assert (entry["rows"], entry["columns"][:2]) == (4, ["order_id", "customer_id"])
    later = session.start(params, run_dir=tmp_path / "run", analysis="segmentation")
    read = later.clean_tables(resident=("orders",))["orders"]
    assert isinstance(read, ResidentFrame) and read.path == path
    assert isinstance(later.clean_tables()["orders"], pd.DataFrame)


def test_resident_artifact_of_parts_is_copied_as_a_folder(tmp_path):
    ctx = session.start(shop(tmp_path), run_dir=tmp_path / "run", analysis="data_profiling")
    parts = tmp_path / "parts"
    parts.mkdir()
    pd.DataFrame({"customer_id": ["a", "b"]}).to_parquet(parts / "part-0.parquet")
    pd.DataFrame({"customer_id": ["c"]}).to_parquet(parts / "part-1.parquet")
    path = ctx.save_artifact("ids", ResidentFrame.of(parts, table="customers"))
    assert path.is_dir() and sorted(pd.read_parquet(path)["customer_id"]) == ["a", "b", "c"]
    path = ctx.save_artifact("ids", ResidentFrame.of(parts / "part-1.parquet", table="customers"))  # replaced
    assert path.is_file() and pd.read_parquet(path)["customer_id"].tolist() == ["c"]


def test_profile_mixed_resident_in_the_engine_the_rest_in_pandas(tmp_path):
    """``engine_tables="resident"``: nothing resident is the pandas profile itself; resident
    orders are profiled in the engine (same numbers, the memory an estimate), the customers stay
    in pandas, and the cross-table checks count the same."""
    from engines import duckdb_con
    from test_profile_engine import (
        KW,
        _loaded,
        assert_same_alerts,
        assert_same_stats,
        hand_customers,
        hand_orders,
    )

    orders, customers = hand_orders(), hand_customers()
    tables = {"orders": _loaded("orders", orders), "customers": _loaded("customers", customers)}
    pandas_only = profiling.profile_tables(tables, **KW)
    con = duckdb_con()
    same = profiling.profile_tables(tables, con=con, engine_tables="resident", **KW)
    assert [tp.engine for tp in same.profiles.values()] == [None, None]
    assert same.metrics() == pandas_only.metrics()
    orders.to_parquet(tmp_path / "orders.parquet", index=False)
    kept = {**tables, "orders": _loaded("orders", ResidentFrame.of(tmp_path / "orders.parquet", table="orders"))}
    mixed = profiling.profile_tables(kept, con=con, engine_tables="resident", **KW)
    assert {n: tp.engine for n, tp in mixed.profiles.items()} == {"orders": "duckdb", "customers": None}
    for name in tables:
        assert_same_stats(pandas_only.profiles[name].stats, mixed.profiles[name].stats)
    assert_same_alerts(pandas_only.alerts(), mixed.alerts())
    assert mixed.crm == pandas_only.crm
    drop = {"memory_mb"}
    assert ({n: {k: v for k, v in m.items() if k not in drop} for n, m in mixed.metrics()["tables"].items()}
            == {n: {k: v for k, v in m.items() if k not in drop} for n, m in pandas_only.metrics()["tables"].items()})
    alone = profiling.profile_tables(kept, **KW)  # no con: a fresh DuckDB for the resident table
    assert alone.profiles["orders"].engine == "duckdb" and alone.crm == pandas_only.crm
    with pytest.raises(WorkbenchError, match="engine_tables='some' is not one of 'all', 'resident'"):
        profiling.profile_tables(kept, con=con, engine_tables="some", **KW)
