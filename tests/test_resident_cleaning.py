"""Cleaning resident tables (kept in the engine as Parquet): the same rules as Ibis expressions give
the pandas path's tables (up to nanosecond vs microsecond timestamps), in the same row order, and
the same log, finding and metrics: on the bundled example with every table resident, and on the
hand-made tables of ``test_cleaning`` whose planted defects have known counts; on DuckDB and on
Spark ``local[2]``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from engines import assert_same_frame, duckdb_con, spark_con
from test_cleaning import AS_OF, DATA_END, LAUNCH, make_tables

from workbench.core.contract import TABLES, LoadedTable
from workbench.core.errors import ContractError
from workbench.core.io import load_tables
from workbench.core.resident import ResidentFrame, is_resident
from workbench.data import engine
from workbench.data.cleaning import clean_tables
from workbench.run.params import load_params

#: every mode that is not a default, and one of each imputation
OTHER_MODES = dict(
    duplicate_keys="keep_first", orphan_orders="drop", negative_amounts="drop", future_dates="flag",
    prelaunch_dates="keep", extreme_spenders="cap",
)  # fmt: skip


@lru_cache(maxsize=1)
def example() -> tuple[dict[str, LoadedTable], dict]:
    params = load_params("params/example.yaml")
    kw = dict(as_of=params.as_of, launch_date=params.launch_date, data_end="2026-01-01", **params.cleaning.model_dump())
    return load_tables(params), kw


def resident(tables: dict, folder: Path, names: tuple[str, ...] | None = None) -> dict:
    """The tables with ``names`` (default all) forced resident: Parquet in microseconds."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, t in tables.items():
        frame = t.frame if isinstance(t, LoadedTable) else t
        if names is None or name in names:
            path = folder / f"{name}.parquet"
            engine.to_microseconds(frame).to_parquet(path)
            out[name] = ResidentFrame.of(path, table=name)
        else:
            out[name] = frame
    return out


def assert_same_cleaning(a, b) -> None:
    """Equal tables (same rows in the same order, by value), log, finding and metrics."""
    pd.testing.assert_frame_equal(a.log(), b.log())
    assert a.finding() == b.finding()
    assert a.metrics() == b.metrics()
    assert list(a.tables) == list(b.tables)
    for name, x in a.tables.items():
        y = b.tables[name].to_pandas() if is_resident(b.tables[name]) else b.tables[name]
        assert list(x.columns) == list(y.columns), name
        key = [c for c in (TABLES[name].key if name in TABLES else ()) if c in x]
        by = key if key and not x.duplicated(key).any() else list(x.columns)
        assert_same_frame(x, y, by=by)
        first = x.columns[0]  # the source order is kept
        assert x[first].astype(str).tolist() == y[first].astype(str).tolist(), f"{name}: row order differs"


@pytest.mark.parametrize("modes", [{}, OTHER_MODES], ids=["defaults", "other_modes"])
def test_example_with_every_table_resident_cleans_as_pandas(tmp_path, modes):
    tables, kw = example()
    kw = {**kw, **modes, "impute": {"customers.city": "mode", "orders.quantity": "median", "customers.gender": "unknown"}}
    expected = clean_tables(tables, **kw)
    got = clean_tables(resident(tables, tmp_path / "in"), out_dir=tmp_path / "out", **kw)
    assert all(is_resident(t) for t in got.tables.values())
    assert_same_cleaning(expected, got)
    lg = got.log().set_index(["table", "rule"])["rows_touched"]
    assert lg["orders", "drop_exact_duplicates"] == 247 and lg["customers", "duplicate_keys"] == 20
    path = tmp_path / "out" / "clean_orders.parquet"
    assert got.tables["orders"].path == path
    assert str(pq.read_schema(path).field("order_time").type) == "timestamp[us]"
    assert "_wb_pos" not in got.tables["orders"].columns


def test_planted_defects_have_their_counts_in_the_engine(tmp_path):
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, impute={"customers.age": "median"})
    got = clean_tables(resident(tables, tmp_path), out_dir=tmp_path / "out", **kw)
    lg = got.log().set_index(["table", "rule"])["rows_touched"]
    planted = {("orders", "drop_exact_duplicates"): 2, ("orders", "missing_required"): 1,
               ("orders", "duplicate_keys"): 1, ("orders", "future_dates"): 1, ("orders", "prelaunch_dates"): 1,
               ("orders", "negative_amounts"): 1, ("orders", "orphan_orders"): 2, ("orders", "extreme_spenders"): 1,
               ("customers", "extreme_spenders"): 1, ("customers", "future_dates"): 1,
               ("customers", "prelaunch_dates"): 1, ("customers", "impute median"): 2}  # fmt: skip
    assert {k: int(lg[k]) for k in planted} == planted
    orders = got.tables["orders"].to_pandas()
    assert len(orders) == 10 and orders["order_id"].is_unique
    assert orders.loc[orders["order_id"] == "O05", "customer_id"].tolist() == ["C04"]  # keep_last
    o06 = orders[orders["order_id"] == "O06"].iloc[0]
    assert bool(o06["is_refund"]) and o06["status"] == "refunded"
    assert orders.loc[orders["flag_orphan"], "order_id"].tolist() == ["O07", "O08"]
    assert orders.loc[orders["flag_extreme"], "customer_id"].tolist() == ["C08"]
    customers = got.tables["customers"].to_pandas()
    assert len(customers) == 20 and customers["signup_date"].isna().sum() == 2
    assert customers.loc[customers["flag_extreme"], "customer_id"].tolist() == ["C08"]
    assert "orders: 6 of 16 rows dropped" in got.finding()
    assert_same_cleaning(clean_tables(tables, **kw), got)


@pytest.mark.parametrize(
    "modes",
    [
        dict(duplicate_keys="keep_first", orphan_orders="drop", negative_amounts="drop", extreme_spenders="drop",
             future_dates="flag", prelaunch_dates="flag", missing_required="keep"),
        dict(duplicate_keys="flag", orphan_orders="keep", negative_amounts="keep", extreme_spenders="cap",
             future_dates="keep", drop_exact_duplicates=False),
        dict(extreme_spenders="keep", extreme_spender_mad_z=100.0, impute={"customers.city": "mode",
             "orders.amount": "zero", "customers.phone": "unknown", "nowhere.x": "zero"}),
    ],
    ids=["drop_and_flag", "flag_keep_cap", "keep_impute"],
)  # fmt: skip
@pytest.mark.parametrize("which", [None, ("orders",), ("customers",)], ids=["all", "orders", "customers"])
def test_other_modes_and_mixed_tables_clean_as_pandas(tmp_path, modes, which):
    """Every mode, with both tables resident, only the orders, or only the customers."""
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, **modes)
    got = clean_tables(resident(tables, tmp_path, which), out_dir=tmp_path / "out", **kw)
    assert [name for name, t in got.tables.items() if is_resident(t)] == list(which or tables)
    assert_same_cleaning(clean_tables(tables, **kw), got)


def test_keep_first_and_the_cap_pick_the_pandas_row_and_value(tmp_path):
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, duplicate_keys="keep_first", extreme_spenders="cap")
    got = clean_tables(resident(tables, tmp_path), out_dir=tmp_path / "out", **kw)
    orders = got.tables["orders"].to_pandas()
    assert orders.loc[orders["order_id"] == "O05", "customer_id"].tolist() == ["C03"]
    others = [100, 120, 80, 50, 70, 75, 90]  # positive amounts left of the other customers (O02, O09 once)
    cap = pd.Series(others, dtype=float).quantile(0.999)
    assert orders.loc[orders["order_id"] == "O12", "amount"].item() == pytest.approx(cap)


def test_duplicate_keys_error_is_the_pandas_error(tmp_path):
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, duplicate_keys="error")
    with pytest.raises(ContractError) as pandas_err:
        clean_tables(tables, **kw)
    with pytest.raises(ContractError) as engine_err:
        clean_tables(resident(tables, tmp_path), out_dir=tmp_path / "out", **kw)
    assert str(engine_err.value) == str(pandas_err.value)
    assert "O05" in str(engine_err.value) and "duplicate_keys=" in str(engine_err.value)


def test_a_given_engine_is_used_and_left_open(tmp_path):
    tables = make_tables()
    con = duckdb_con()
    got = clean_tables(resident(tables, tmp_path, ("orders",)), as_of=AS_OF, launch_date=LAUNCH,
                       data_end=DATA_END, con=con, out_dir=tmp_path / "out")  # fmt: skip
    assert int(con.read_parquet(str(got.tables["orders"].path)).count().to_pandas()) == 10
    engine.close(con)


def test_a_folder_of_parts_is_read_in_file_then_row_order(tmp_path):
    """Parts named in order: keep_last keeps the row of the later part, as pandas on the whole."""
    tables = make_tables()
    orders = engine.to_microseconds(tables["orders"].frame)
    folder = tmp_path / "orders"
    folder.mkdir()
    orders.iloc[6:].to_parquet(folder / "part-1.parquet")  # written first, read second
    orders.iloc[:6].to_parquet(folder / "part-0.parquet")  # the O05 row of C03 here, of C04 in part-1
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
    mixed = {"customers": tables["customers"].frame, "orders": ResidentFrame.of(folder, table="orders")}
    got = clean_tables(mixed, out_dir=tmp_path / "out", **kw)
    cleaned = got.tables["orders"].to_pandas()
    assert cleaned.loc[cleaned["order_id"] == "O05", "customer_id"].tolist() == ["C04"]
    assert_same_cleaning(clean_tables(tables, **kw), got)


def test_the_same_on_spark(tmp_path):
    """Resident orders with pandas customers on Spark: Spark writes a folder of parts with
    microsecond timestamps, which DuckDB reads back in order."""
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
    got = clean_tables(resident(tables, tmp_path, ("orders",)), con=spark_con(), out_dir=tmp_path / "out", **kw)
    path = got.tables["orders"].path
    assert path.is_dir() and got.tables["orders"].dtypes["order_time"] == "timestamp[us]"
    assert_same_cleaning(clean_tables(tables, **kw), got)
    again = clean_tables({"orders": got.tables["orders"]}, out_dir=tmp_path / "again", as_of=AS_OF, data_end=DATA_END)
    assert again.tables["orders"].to_pandas()["order_id"].tolist() == got.tables["orders"].to_pandas()["order_id"].tolist()


@pytest.mark.parametrize("mode", ["drop", "flag", "keep"])
def test_out_of_range_dates_in_the_engine(tmp_path, mode):
    """A year-2999 order time (blank, its text kept by intake) and a year-0001 sign-up date."""
    from hand_fixtures import ORDER_MAP, ORDER_ROWS

    from workbench.core.contract import apply_contract

    tables = make_tables()
    raw = pd.DataFrame([*ORDER_ROWS, ("O14", "C01", "2999-01-01", "10", "paid", "否", "app")], columns=list(ORDER_MAP.values()))
    with pytest.warns(Warning, match="outside"):
        tables["orders"] = apply_contract(raw, "orders", columns=ORDER_MAP)
    customers = tables["customers"].frame.copy()
    customers["signup_date_out_of_range"] = pd.array([None] * 19 + ["0001-01-01"], dtype="string")
    tables["customers"] = LoadedTable(name="customers", frame=customers, source={}, columns=[])
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, out_of_range_dates=mode)
    got = clean_tables(resident(tables, tmp_path), out_dir=tmp_path / "out", **kw)
    lg = got.log().set_index(["table", "rule"])
    assert lg.loc[("orders", "out_of_range_dates"), "rows_touched"] == (0 if mode == "keep" else 1)
    assert "'2999-01-01'" in lg.loc[("orders", "out_of_range_dates"), "detail"]
    assert_same_cleaning(clean_tables(tables, **kw), got)


def test_a_cleaned_table_can_be_cleaned_again_in_place(tmp_path):
    """The output replaces the file it is read from only once written (``clean_orders.parquet``
    cleaned again into the same folder): the second pass finds nothing left to drop."""
    tables = make_tables()
    kw = dict(as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, orphan_orders="drop")
    first = clean_tables(resident(tables, tmp_path, ("orders",)), out_dir=tmp_path, **kw)
    rows = first.tables["orders"].to_pandas()
    second = clean_tables({"orders": first.tables["orders"]}, out_dir=tmp_path, **kw)
    assert second.tables["orders"].path == first.tables["orders"].path
    assert_same_frame(second.tables["orders"].to_pandas(), rows, by=["order_id"])
    lg = second.log()
    assert (lg["rows_before"] == lg["rows_after"]).all() and len(rows) == 8
