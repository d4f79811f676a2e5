"""Readers: encodings, Excel, Parquet, DuckDB, gzip; the raw file is never modified."""

from __future__ import annotations

import gzip
import hashlib

import duckdb
import pandas as pd
import pytest

from workbench.core.errors import ContractError, ParamsError
from workbench.core.io import detect_encoding, load_tables
from workbench.run.params import params_from_dict

ROWS = [
    ("会员ID", "下单时间", "实付金额", "订单号", "渠道"),
    ("c1", "2024/3/5", "￥1,234.50", "o1", "小程序"),
    ("c2", "20240306", "20", "o2", "门店"),
    ("c1", "2024年03月07日", "未知", "o3", "小程序"),
]
COLS = {"customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额", "order_id": "订单号", "channel": "渠道"}


def _write_csv(path, encoding, *, bom=False, gz=False):
    text = "\n".join(",".join(f'"{v}"' if "," in v else v for v in r) for r in ROWS) + "\n"
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if gz:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def _params(tmp_path, path, **extra):
    return params_from_dict(
        {"name": "t", "as_of": "2024-12-31", "tables": {"orders": {"path": str(path), "columns": COLS, **extra}}},
        base_dir=tmp_path,
    )


@pytest.mark.parametrize(
    ("encoding", "bom", "gz", "expected"),
    [
        ("utf-8", False, False, "utf-8"),
        ("utf-8", True, False, "utf-8-sig"),
        ("gbk", False, False, "gb18030"),
        ("gb18030", False, True, "gb18030"),
        ("utf-8", True, True, "utf-8-sig"),
    ],
)
def test_csv_encodings_detected_and_read(tmp_path, encoding, bom, gz, expected):
    path = _write_csv(tmp_path / ("o.csv.gz" if gz else "o.csv"), encoding, bom=bom, gz=gz)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert detect_encoding(path) == expected
    t = load_tables(_params(tmp_path, path))["orders"]
    assert t.source["encoding"] == expected
    assert t.frame["channel"].tolist() == ["小程序", "门店", "小程序"]
    assert t.frame["amount"].iloc[0] == 1234.5 and pd.isna(t.frame["amount"].iloc[2])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # raw file untouched


def test_wrong_explicit_encoding_is_a_clear_error(tmp_path):
    path = _write_csv(tmp_path / "o.csv", "gbk")
    with pytest.raises(ContractError, match=r"not valid utf-8.*tables.orders.encoding"):
        load_tables(_params(tmp_path, path, encoding="utf-8"))


def test_excel_with_typed_and_text_cells(tmp_path):
    frame = pd.DataFrame(
        {
            "会员ID": ["c1", "c2", "c3"],
            "下单时间": [pd.Timestamp("2024-03-05 10:00"), "2024/3/6", "20240307"],
            "实付金额": [1234.5, "￥20.00", 30],
            "订单号": ["o1", "o2", "o3"],
            "渠道": ["app", "门店", None],
        }
    )
    path = tmp_path / "orders.xlsx"
    frame.to_excel(path, index=False)
    t = load_tables(_params(tmp_path, path))["orders"]
    assert t.source["format"] == "excel"
    assert t.frame["order_time"].dt.strftime("%Y-%m-%d").tolist() == ["2024-03-05", "2024-03-06", "2024-03-07"]
    assert t.frame["amount"].tolist() == [1234.5, 20.0, 30.0]


def test_parquet_and_duckdb(tmp_path):
    frame = pd.DataFrame(
        {"会员ID": ["c1", "c2"], "下单时间": pd.to_datetime(["2024-01-01", "2024-01-02"]),
         "实付金额": [1.5, 2.5], "订单号": ["o1", "o2"], "渠道": ["a", "b"]}
    )  # fmt: skip
    pq = tmp_path / "o.parquet"
    frame.to_parquet(pq)
    assert load_tables(_params(tmp_path, pq))["orders"].frame["amount"].sum() == 4.0
    db = tmp_path / "crm.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE TABLE orders AS SELECT * FROM frame")
    t = load_tables(_params(tmp_path, db, table="orders"))["orders"]
    assert t.source["format"] == "duckdb" and t.frame["order_time"].iloc[1] == pd.Timestamp("2024-01-02")
    with pytest.raises(ContractError, match="needs a table name.*tables.orders.table"):
        load_tables(_params(tmp_path, db))


def test_whitespace_separated_log_with_index_key(tmp_path):
    path = tmp_path / "log.txt"
    path.write_text(" customer_id  date n  dollars\n 00001 19970101  1   11.77\n 00002 19970112  2   12.00\n")
    p = params_from_dict(
        {"name": "t", "as_of": "1998-06-30", "tables": {"orders": {
            "path": str(path), "sep": "whitespace",
            "columns": {"order_id": "@index", "customer_id": "customer_id", "order_time": "date", "amount": "dollars"}}}},
        base_dir=tmp_path,
    )  # fmt: skip
    f = load_tables(p)["orders"].frame
    assert f["customer_id"].tolist() == ["00001", "00002"]  # leading zeros kept
    assert f["order_id"].tolist() == ["1", "2"]
    assert f["order_time"].dt.strftime("%Y-%m-%d").tolist() == ["1997-01-01", "1997-01-12"]


def test_missing_file_named(tmp_path):
    with pytest.raises(ParamsError, match=r"tables.orders.path: file not found: .*nope.csv"):
        _params(tmp_path, tmp_path / "nope.csv")


def test_bundled_real_datasets_load(root):
    from workbench.run.params import load_params

    telco = load_tables(load_params(root / "params" / "telco.yaml"))["customers"]
    assert len(telco.frame) == 7043
    assert int(telco.frame["churned"].sum()) == 1869
    rep = telco.report().set_index("column")
    assert rep.loc["total_charges", "n_blank"] == 11  # the 11 blank TotalCharges are counted
    cdnow = load_tables(load_params(root / "params" / "cdnow.yaml"))["orders"]
    assert len(cdnow.frame) == 69659 and cdnow.frame["customer_id"].nunique() == 23570
    hill = load_tables(load_params(root / "params" / "hillstrom.yaml"))["campaign_contacts"]
    assert hill.frame["arm"].value_counts().to_dict() == {
        "Womens E-Mail": 21387, "Mens E-Mail": 21307, "No E-Mail": 21306}  # fmt: skip
