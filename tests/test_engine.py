"""The engine: params, DuckDB settings, tables without create_table, and the same numbers on Spark.

The Spark tests share one ``local[2]`` session (:func:`engines.spark_con`); they are skipped only
when pyspark is missing outside CI.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from engines import assert_frames_equal_across, assert_same_frame, duckdb_con, spark_con
from protocol_cases._data import AS_OF, small_base

from workbench.core.errors import ParamsError, WorkbenchError
from workbench.core.params import EngineParams
from workbench.data import engine
from workbench.data.features import customer_features, purchases_expr, register
from workbench.run.params import load_params
from workbench.run.session import RunContext

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "params" / "example.yaml"


# ---------------------------------------------------------------------------------------------
# params
# ---------------------------------------------------------------------------------------------


def test_engine_params_default_to_embedded_duckdb():
    p = load_params(EXAMPLE)
    assert p.engine == EngineParams()
    assert (p.engine.backend, p.engine.database, p.engine.master) == ("duckdb", ":memory:", "local[*]")
    assert p.engine.threads is None and p.engine.memory_limit is None and p.engine.config == {}


@pytest.mark.parametrize(
    ("engine_section", "expected"),
    [
        ({"backend": "sprak"}, "engine.backend: Input should be 'duckdb' or 'spark' (got 'sprak')"),
        ({"bakend": "spark"}, "engine.bakend: unknown key; did you mean 'engine.backend'?"),
        ({"threads": 0}, "engine.threads: Input should be greater than or equal to 1"),
        ({"memory_limit": "4 gigs"}, "engine.memory_limit: Value error, must be a size such as '4GB'"),
        ({"database": " "}, "engine.database: Value error"),
    ],
)
def test_engine_params_errors_name_the_key(engine_section, expected):
    with pytest.raises(ParamsError) as err:
        load_params(EXAMPLE, overrides={f"engine.{k}": v for k, v in engine_section.items()})
    assert expected in str(err.value)


def test_engine_params_database_resolved_against_the_params_folder_and_config_as_text():
    p = load_params(EXAMPLE, overrides={"engine.database": "cache/run.duckdb",
                                        "engine.config": {"spark.executor.instances": 4, "spark.x.enabled": True}})
    assert p.engine.database_path(p.base_dir) == str((EXAMPLE.parent / "cache" / "run.duckdb").resolve())
    assert EngineParams().database_path("/anywhere") == ":memory:"
    assert p.engine.config == {"spark.executor.instances": "4", "spark.x.enabled": "true"}


# ---------------------------------------------------------------------------------------------
# connect
# ---------------------------------------------------------------------------------------------


def _setting(con, name: str) -> str:
    return str(con.raw_sql(f"SELECT current_setting('{name}')").fetchone()[0])


def test_duckdb_threads_and_memory_limit_are_applied(tmp_path):
    con = duckdb_con(threads=1, memory_limit="512MB")
    assert _setting(con, "threads") == "1"
    default = _setting(duckdb_con(), "memory_limit")
    limit = _setting(con, "memory_limit")
    assert limit != default and limit.startswith("488.")  # DuckDB shows 512 MB as 488.2 MiB
    engine.close(con)
    db = tmp_path / "base.duckdb"
    con = engine.connect(database=db)
    con.raw_sql("CREATE TABLE t AS SELECT 1 AS x")
    engine.close(con)
    assert db.exists()


def test_connect_errors_name_the_option_and_the_params_key(monkeypatch):
    with pytest.raises(WorkbenchError, match=r"backend='sprak' .*did you mean 'spark'"):
        engine.connect(backend="sprak")
    with pytest.raises(WorkbenchError, match=r"memory_limit='lots'"):
        engine.connect(memory_limit="lots")
    monkeypatch.setattr(engine, "spark_available", lambda: False)
    with pytest.raises(WorkbenchError) as err:
        engine.connect_params(EngineParams(backend="spark"))
    text = str(err.value)
    assert "engine.backend='spark'" in text and "pyspark" in text and 'pip install -e ".[spark]"' in text


def test_spark_settings_keep_everything_out_of_the_working_directory():
    master, settings = engine._spark_settings(
        master="local[*]", threads=2, memory_limit="4GB", config={"spark.executor.memory": "8g"}, warehouse="/tmp/w"
    )
    assert master == "local[2]"
    assert settings["spark.sql.warehouse.dir"] == "/tmp/w"
    assert settings["spark.sql.catalogImplementation"] == "in-memory"
    assert settings["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert settings["spark.sql.session.timeZone"] == "UTC"
    assert settings["spark.driver.memory"] == "4096m"
    assert settings["spark.executor.memory"] == "8g"
    cluster, settings = engine._spark_settings(master="spark://h:7077", threads=2, memory_limit=None, config={},
                                               warehouse="/tmp/w")  # fmt: skip
    assert cluster == "spark://h:7077" and "spark.sql.shuffle.partitions" not in settings


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------


def test_as_table_dataframe_is_a_view_with_microseconds_and_real_nulls():
    con = duckdb_con()
    frame = pd.DataFrame({
        "customer_id": ["a", None, "b"],
        "mixed": pd.Series([1, "x", None], dtype=object),
        "t": pd.to_datetime(["2024-01-01 10:00:00", "2024-01-02 00:00:00", None]).as_unit("ns"),
    })  # fmt: skip
    t = engine.as_table(con, frame, name="demo")
    assert str(t.schema()["t"]) == "timestamp(6)"
    out = t.to_pandas()
    assert out["customer_id"].isna().tolist() == [False, True, False]
    assert out["mixed"].tolist()[:2] == ["1", "x"] and pd.isna(out["mixed"].iloc[2])
    # the same name is replaced; no name gives a new view
    again = engine.as_table(con, frame.iloc[:1], name="demo")
    assert int(again.count().to_pandas()) == 1 and int(con.table("demo").count().to_pandas()) == 1
    assert engine.as_table(con, frame).get_name() != "demo"
    assert engine.as_table(con, t) is t
    assert not frame["t"].dtype == "datetime64[us]"  # the input is not changed


def test_as_table_reads_files_in_the_engine(tmp_path):
    con = duckdb_con()
    frame = pd.DataFrame({"customer_id": ["a", "b"], "amount": [1.5, 2.0]})
    frame.to_parquet(tmp_path / "o.parquet", index=False)
    frame.to_csv(tmp_path / "o.csv", index=False)
    assert engine.as_table(con, tmp_path / "o.parquet").amount.sum().to_pandas() == 3.5
    assert engine.as_table(con, str(tmp_path / "o.csv"), name="o_csv").amount.sum().to_pandas() == 3.5
    with pytest.raises(WorkbenchError, match="file not found"):
        engine.as_table(con, tmp_path / "missing.parquet")
    (tmp_path / "o.xlsx").write_bytes(b"")
    with pytest.raises(WorkbenchError, match=r"Parquet \(\.parquet\) or CSV"):
        engine.as_table(con, tmp_path / "o.xlsx")
    assert set(register(con, {"orders": frame})) == {"orders"}


def test_to_microseconds_keeps_time_zones_and_leaves_other_frames_alone():
    f = pd.DataFrame({"a": pd.to_datetime(["2024-01-01"]).as_unit("ns"),
                      "b": pd.to_datetime(["2024-01-01"]).tz_localize("Asia/Shanghai").as_unit("ns"), "c": [1]})
    out = engine.to_microseconds(f)
    assert str(out["a"].dtype) == "datetime64[us]" and str(out["b"].dtype) == "datetime64[us, Asia/Shanghai]"
    assert out["b"].iloc[0] == f["b"].iloc[0]
    assert engine.to_microseconds(out) is out


# ---------------------------------------------------------------------------------------------
# the run's engine and artifacts
# ---------------------------------------------------------------------------------------------


def _ctx(tmp_path: Path, **engine_overrides) -> RunContext:
    params = load_params(EXAMPLE, overrides={f"engine.{k}": v for k, v in engine_overrides.items()})
    return RunContext(params=params, run_dir=tmp_path, analysis="data_profiling", params_file=EXAMPLE)


def test_session_opens_one_engine_from_params_and_finish_closes_it(tmp_path):
    ctx = _ctx(tmp_path, threads=1)
    con = ctx.engine
    assert ctx.engine is con and _setting(con, "threads") == "1"
    ctx.finish()
    assert ctx._engine is None
    with pytest.raises(Exception):  # noqa: B017 - closed: any query fails
        con.raw_sql("SELECT 1")


def test_session_engine_error_names_the_params_key(tmp_path, monkeypatch):
    monkeypatch.setattr(engine, "spark_available", lambda: False)
    with pytest.raises(WorkbenchError, match=r"engine\.backend='spark'"):
        _ctx(tmp_path, backend="spark").engine  # noqa: B018


def _artifact(tmp_path: Path) -> Path:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "last_order": pd.to_datetime(["2024-01-01 10:00", "2024-02-01 00:00"]).as_unit("ns")})
    return _ctx(tmp_path).save_artifact("demo", frame, csv=True)


def test_artifacts_are_written_with_microsecond_timestamps(tmp_path):
    path = _artifact(tmp_path)
    assert pq.read_schema(path).field("last_order").type.unit == "us"
    assert (path.parent / "demo.csv").exists()


# ---------------------------------------------------------------------------------------------
# the same numbers on Spark
# ---------------------------------------------------------------------------------------------


def _orders_with_gaps() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The small base's orders with blank customer ids and blank channels."""
    base = small_base()
    orders = base.tables["orders"].copy()
    orders.loc[orders.index[:7], "customer_id"] = None
    orders.loc[orders.index[7:40], "channel"] = None
    return orders, base.tables["customers"]


@pytest.fixture(scope="module")
def features_on_both() -> tuple[pd.DataFrame, pd.DataFrame]:
    orders, customers = _orders_with_gaps()
    return assert_frames_equal_across(
        duckdb_con(), spark_con(), lambda con: customer_features(orders, as_of=AS_OF, customers=customers, con=con),
        by=["customer_id"],
    )  # fmt: skip


def test_customer_features_equal_on_duckdb_and_spark(features_on_both):
    on_duckdb, on_spark = features_on_both
    assert len(on_spark) == len(small_base().tables["customers"]["customer_id"].unique())
    assert on_spark["customer_id"].notna().all()
    assert "NaN" not in set(on_spark["customer_id"]) and "nan" not in set(on_spark["customer_id"])
    assert not [c for c in on_spark.columns if "nan" in c.lower()]
    assert "share_missing" in on_spark.columns and on_spark["share_missing"].gt(0).any()


def test_purchases_expr_equal_on_duckdb_and_spark():
    orders, _ = _orders_with_gaps()

    def split(con):
        purchases, refunds = purchases_expr(engine.as_table(con, orders, name="orders"), as_of=AS_OF)
        return pd.concat([
            purchases.aggregate(n=purchases.count(), amount=purchases.amount.sum()).to_pandas().assign(kind="purchase"),
            refunds.aggregate(n=refunds.count(), amount=refunds.amount.sum()).to_pandas().assign(kind="refund"),
        ])  # fmt: skip

    on_duckdb, _ = assert_frames_equal_across(duckdb_con(), spark_con(), split, by=["kind"])
    assert on_duckdb["n"].sum() < len(orders)  # blank customers are left out


def test_spark_reads_run_artifacts_and_explains_nanosecond_parquet(tmp_path):
    con = spark_con()
    path = _artifact(tmp_path)
    back = engine.as_table(con, path).to_pandas()
    assert_same_frame(back, pd.read_parquet(path), by=["customer_id"])
    nanos = tmp_path / "nanos.parquet"
    pd.DataFrame({"t": pd.to_datetime(["2024-01-01"]).as_unit("ns")}).to_parquet(nanos)
    with pytest.raises(WorkbenchError, match="nanoseconds"):
        engine.as_table(con, nanos).to_pandas()


def test_spark_leaves_no_warehouse_in_the_working_directory():
    con = spark_con()
    warehouse = con._session.conf.get("spark.sql.warehouse.dir")
    assert str(Path.cwd()) not in warehouse.removeprefix("file:")
    assert not (Path.cwd() / "spark-warehouse").exists() and not (Path.cwd() / "metastore_db").exists()
    assert engine.backend_name(con) == "spark"


def test_session_spark_engine_leaves_a_running_session_running(tmp_path):
    shared = spark_con()
    ctx = _ctx(tmp_path, backend="spark", master="local[2]")
    assert engine.backend_name(ctx.engine) == "spark"
    assert int(engine.as_table(ctx.engine, pd.DataFrame({"x": [1, 2]})).x.sum().to_pandas()) == 3
    ctx.finish()  # closes the run's connection, not the session the tests share
    assert int(engine.as_table(shared, pd.DataFrame({"x": [1]})).count().to_pandas()) == 1


def test_spark_takes_frames_whose_text_columns_come_in_several_chunks():
    # pd.concat of Arrow-backed text columns gives chunked arrays, which Spark's createDataFrame rejects
    frame = pd.concat([pd.DataFrame({"customer_id": ["a", "b"], "n": [1, 2]}),
                       pd.DataFrame({"customer_id": ["c", None], "n": [3, 4]})], ignore_index=True)
    got = engine.as_table(spark_con(), frame, name="chunked").to_pandas().sort_values("n")
    assert got["customer_id"].tolist()[:3] == ["a", "b", "c"] and pd.isna(got["customer_id"].iloc[3])
