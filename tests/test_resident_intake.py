"""Intake of large tables in the engine (``load_tables(..., resident_dir=)``): the bundled example's
orders and events written as Parquet, plain CSV and a DuckDB table, read with
``engine.resident_rows: 0`` (every table resident) against the pandas path: the same typed
values, reports, sources, warnings and errors."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from workbench.core import engine_intake
from workbench.core.errors import ContractError
from workbench.core.io import load_tables
from workbench.core.resident import ResidentFrame
from workbench.run.params import params_from_dict

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = yaml.safe_load((ROOT / "params" / "example.yaml").read_text(encoding="utf-8"))
TABLES = ("orders", "events")


def _params(paths: dict[str, Path], *, resident: bool, tables: dict[str, Any] | None = None, **extra: Any) -> Any:
    """The example's params for ``paths`` (table -> file), resident or not."""
    spec = {t: {**EXAMPLE["tables"][t], "path": str(p), **((tables or {}).get(t, {}))} for t, p in paths.items()}
    data = {"name": "example", "as_of": EXAMPLE["as_of"], "currency": EXAMPLE["currency"], "tables": spec,
            "engine": {"resident_rows": 0 if resident else None}, **extra}  # fmt: skip
    return params_from_dict(data, base_dir=ROOT / "params")


def _both(paths: dict[str, Path], tmp: Path, **kw: Any) -> tuple[dict, dict, list[str], list[str]]:
    """Load ``paths`` by pandas and resident; return both results and their warnings."""
    with warnings.catch_warnings(record=True) as wa:
        warnings.simplefilter("always")
        a = load_tables(_params(paths, resident=False, **kw))
    with warnings.catch_warnings(record=True) as wb:
        warnings.simplefilter("always")
        b = load_tables(_params(paths, resident=True, **kw), resident_dir=tmp / "intake")
    return a, b, sorted(str(w.message) for w in wa), sorted(str(w.message) for w in wb)


def _assert_same_frame(pandas_frame: pd.DataFrame, resident: ResidentFrame) -> None:
    """Same columns, the same logical dtypes (timestamps up to ns/us) and the same values."""
    got = resident.to_pandas()
    assert list(got.columns) == list(pandas_frame.columns)
    assert len(got) == len(pandas_frame)
    for c in pandas_frame.columns:
        want, have = pandas_frame[c], got[c]
        if pd.api.types.is_datetime64_any_dtype(want):
            assert str(resident.dtypes[c]) == "timestamp[us]", c
            pd.testing.assert_series_equal(have.astype("datetime64[ns]"), want, check_names=False)
        elif pd.api.types.is_float_dtype(want):
            assert resident.dtypes[c] == "double", c
            pd.testing.assert_series_equal(have, want, check_names=False)
        elif pd.api.types.is_bool_dtype(want):
            assert resident.dtypes[c] == "bool", c
            pd.testing.assert_series_equal(have.astype("boolean"), want, check_names=False)
        else:
            assert pd.api.types.is_string_dtype(want), (c, want.dtype)
            assert resident.dtypes[c] in ("string", "large_string"), c
            pd.testing.assert_series_equal(have.astype("string"), want.astype("string"), check_names=False)


def _assert_same(a: dict, b: dict, names: tuple[str, ...] = TABLES) -> None:
    for t in names:
        assert isinstance(b[t].frame, ResidentFrame), t
        assert b[t].frame.path.name == f"{t}.raw.parquet"
        _assert_same_frame(a[t].frame, b[t].frame)
        assert b[t].columns == a[t].columns, t
        assert b[t].source == a[t].source, t


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """orders and events as all-text Parquet, typed Parquet (DuckDB's guess), plain CSV and a
    DuckDB table."""
    tmp = tmp_path_factory.mktemp("sources")
    out: dict[str, dict[str, Path]] = {"parquet": {}, "typed": {}, "csv": {}, "duckdb": {}}
    con = duckdb.connect()
    db = tmp / "crm.duckdb"
    for t in TABLES:
        raw = ROOT / "data" / "example" / f"{t}.csv.gz"
        out["parquet"][t] = tmp / f"{t}.parquet"
        out["typed"][t] = tmp / f"{t}_typed.parquet"
        out["csv"][t] = tmp / f"{t}.csv"
        out["duckdb"][t] = db
        con.execute(f"COPY (SELECT * FROM read_csv('{raw}', all_varchar=true)) TO '{out['parquet'][t]}' (FORMAT parquet)")
        con.execute(f"COPY (SELECT * FROM read_csv('{raw}')) TO '{out['typed'][t]}' (FORMAT parquet)")
        pd.read_csv(raw, dtype=str, keep_default_na=False).to_csv(out["csv"][t], index=False)
    con.close()
    with duckdb.connect(str(db)) as dcon:
        for t in TABLES:
            dcon.execute(f"CREATE TABLE {t} AS SELECT * FROM read_parquet('{out['typed'][t]}')")
    return out


@pytest.mark.parametrize("kind", ["parquet", "typed", "csv"])
def test_resident_equals_pandas_path(sources: dict, kind: str, tmp_path: Path) -> None:
    a, b, wa, wb = _both(sources[kind], tmp_path)
    _assert_same(a, b)
    assert wb == wa
    assert "resident" in repr(b["orders"]) and "resident" not in repr(a["orders"])
    # the example's orders carry ￥ amounts: leftovers parsed by pandas, merged back in the engine
    amount = next(c for c in b["orders"].columns if c.column == "amount")
    assert amount.currencies and amount.currencies["CNY"] > 0


def test_resident_duckdb_table(sources: dict, tmp_path: Path) -> None:
    tables = {t: {"table": t} for t in TABLES}
    a, b, wa, wb = _both(sources["duckdb"], tmp_path, tables=tables)
    _assert_same(a, b)


def test_small_batches_merge_the_same(sources: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leftovers parsed a few rows at a time give the same table and reports."""
    monkeypatch.setattr(engine_intake, "BATCH_ROWS", 1000)  # the ~5,000 leftover amounts in 5 batches
    a, b, _, _ = _both({"orders": sources["csv"]["orders"]}, tmp_path)
    _assert_same(a, b, ("orders",))


def test_bundled_example_gbk_and_excel_stay_in_pandas(tmp_path: Path) -> None:
    """With every table resident-sized, the GBK customers CSV and the Excel tickets stay
    DataFrames; the UTF-8 (BOM, gzip) orders become resident with the same figures."""
    from workbench.run.params import load_params

    p = load_params(ROOT / "params" / "example.yaml", overrides={"engine": {"resident_rows": 0}})
    got = load_tables(p, ["customers", "tickets", "orders"], resident_dir=tmp_path)
    assert isinstance(got["customers"].frame, pd.DataFrame) and got["customers"].source["encoding"] == "gb18030"
    assert isinstance(got["tickets"].frame, pd.DataFrame)
    assert isinstance(got["orders"].frame, ResidentFrame)
    want = load_tables(load_params(ROOT / "params" / "example.yaml"), ["orders"])["orders"]
    _assert_same_frame(want.frame, got["orders"].frame)
    assert got["orders"].columns == want.columns and got["orders"].source == want.source


def test_under_the_threshold_stays_in_pandas(sources: dict, tmp_path: Path) -> None:
    p = _params({"orders": sources["parquet"]["orders"]}, resident=True, engine={"resident_rows": 49_888})
    got = load_tables(p, resident_dir=tmp_path)["orders"]
    assert isinstance(got.frame, pd.DataFrame) and len(got.frame) == 49_888
    assert not list(tmp_path.glob("*.parquet"))


def _messy_csv(tmp: Path, edits: dict[tuple[int, str], str]) -> Path:
    """The example orders as plain CSV with some cells replaced (row position, header)."""
    frame = pd.read_csv(ROOT / "data" / "example" / "orders.csv.gz", dtype=str, keep_default_na=False)
    for col in dict.fromkeys(col for _, col in edits):  # one assignment per column, not per cell
        rows = [row for row, c in edits if c == col]
        frame.loc[rows, col] = [edits[row, col] for row in rows]
    path = tmp / "orders_messy.csv"
    frame.to_csv(path, index=False)
    return path


def test_messy_values_within_tolerance_same_report(tmp_path: Path) -> None:
    """Dates and amounts the strict SQL leaves (slashes, Chinese dates, out of range, text,
    parentheses) give the same values, counts, examples, marker column and warnings."""
    edits = {(3, "下单时间"): "2024/3/5", (10, "下单时间"): "2024年03月05日", (11, "下单时间"): "not a date",
             (20, "下单时间"): "2999-01-01", (21, "下单时间"): "0001-01-01", (30, "实付金额"): "(12.00)",
             (31, "实付金额"): "abc", (40, "是否退款"): "无", (41, "是否退款"): "maybe", (50, "数量"): "未知"}  # fmt: skip
    path = _messy_csv(tmp_path, edits)
    a, b, wa, wb = _both({"orders": path}, tmp_path)
    _assert_same(a, b, ("orders",))
    assert wb == wa and any("2999-01-01" in w and "data rows 21, 22" in w for w in wb)
    reports = {c.column: c for c in b["orders"].columns}
    assert reports["order_time"].n_unparseable == 1 and reports["order_time"].examples == ["not a date"]
    assert reports["order_time"].n_out_of_range == 2
    assert reports["amount"].n_unparseable == 6 and "abc" in reports["amount"].examples  # the example plants 5
    assert reports["quantity"].placeholders == {"未知": 1}
    got = b["orders"].frame.to_pandas()
    assert got.loc[3, "order_time"] == pd.Timestamp("2024-03-05") and got.loc[30, "amount"] == -12.0
    assert got.loc[20, "order_time_out_of_range"] == "2999-01-01" and not bool(got.loc[40, "is_refund"])


@pytest.mark.parametrize(
    "edits",
    [
        {(i, "下单时间"): f"bad date {i}" for i in range(0, 2000, 3)},  # beyond intake.max_unparseable_share
        {(5, "实付金额"): "$12.00", (9, "实付金额"): "US$3"},  # CNY and USD in one column
        {(i, "会员ID"): "未知" for i in range(49_888)},  # a required column entirely blank
    ],
    ids=["unparseable", "currencies", "blank-required"],
)
def test_messy_errors_are_the_pandas_errors(tmp_path: Path, edits: dict) -> None:
    path = _messy_csv(tmp_path, edits)
    with pytest.raises(ContractError) as want:
        load_tables(_params({"orders": path}, resident=False))
    with pytest.raises(ContractError) as got:
        load_tables(_params({"orders": path}, resident=True), resident_dir=tmp_path / "intake")
    assert str(got.value) == str(want.value)
    assert not (tmp_path / "intake" / "orders.raw.parquet").exists()


def test_gbk_csv_stays_in_pandas(tmp_path: Path) -> None:
    frame = pd.read_csv(ROOT / "data" / "example" / "orders.csv.gz", dtype=str, keep_default_na=False)
    path = tmp_path / "orders_gbk.csv"
    frame.to_csv(path, index=False, encoding="gbk")
    got = load_tables(_params({"orders": path}, resident=True), resident_dir=tmp_path / "intake")["orders"]
    assert isinstance(got.frame, pd.DataFrame) and got.source["encoding"] == "gb18030"
    assert not (tmp_path / "intake" / "orders.raw.parquet").exists()


def test_index_and_constant_columns(sources: dict, tmp_path: Path) -> None:
    tables = {"orders": {"columns": {**EXAMPLE["tables"]["orders"]["columns"], "order_id": "@index"},
                         "constants": {"channel": "app"}, "keep_extra_columns": False}}  # fmt: skip
    del tables["orders"]["columns"]["channel"]
    a, b, _, _ = _both({"orders": sources["parquet"]["orders"]}, tmp_path, tables=tables)
    _assert_same(a, b, ("orders",))


def test_unmapped_columns_to_infer_stay_in_pandas(sources: dict, tmp_path: Path) -> None:
    """Extra columns are typed by inference on the whole column: not done in the engine yet, so
    such a table is read by pandas as before (same figures, not resident)."""
    columns = dict(EXAMPLE["tables"]["orders"]["columns"])
    del columns["margin"]
    got = load_tables(_params({"orders": sources["parquet"]["orders"]}, resident=True,
                              tables={"orders": {"columns": columns}}), resident_dir=tmp_path)["orders"]  # fmt: skip
    assert isinstance(got.frame, pd.DataFrame) and "毛利" in got.frame.columns
    got = load_tables(_params({"orders": sources["parquet"]["orders"]}, resident=True,
                              tables={"orders": {"columns": columns, "keep_extra_columns": False}}),
                      resident_dir=tmp_path)["orders"]  # fmt: skip
    assert isinstance(got.frame, ResidentFrame) and "毛利" not in got.frame.columns
