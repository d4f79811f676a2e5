"""Issue 11, intake side: what a new user's files did (out-of-range dates, a header written twice,
mixed currencies, an Excel file named .csv, a ;-separated CSV, a header-only file, consent flags)
ends in a result or a message naming table, column, rows, examples and the params key."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from workbench.core.contract import (
    TABLES,
    apply_contract,
    out_of_range_column,
    parse_amounts,
    parse_dates,
)
from workbench.core.errors import ContractError, DataQualityWarning
from workbench.core.io import _detect_format, load_tables
from workbench.core.parsing import currency_code, parse_datetime
from workbench.data.cleaning import clean_tables
from workbench.run import cli
from workbench.run.params import params_from_dict

HEADER = ("订单号", "会员ID", "下单时间", "实付金额")
COLS = {"order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额"}
ROWS = [("o1", "c1", "2024-03-05", "12.5"), ("o2", "c2", "2024-03-06", "20"), ("o3", "c1", "2024-03-07", "7")]


def _csv(path: Path, rows=ROWS, header=HEADER, sep=",") -> Path:
    path.write_text("\n".join(sep.join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def _params(tmp_path: Path, path: Path, columns=COLS, **extra):
    return params_from_dict(
        {"name": "t", "as_of": "2024-12-31",
         "tables": {"orders": {"path": str(path), "columns": columns, **extra}}},
        base_dir=tmp_path,
    )  # fmt: skip


def _files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


# 1. out-of-range dates -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["2999-01-01", "0001-01-01", "9999-12-31", "2999/1/1", "29990101", "2999年1月1日"])
def test_out_of_range_date_is_counted_not_unparseable(value):
    r = parse_dates(pd.Series(["2024-03-05", value, "abc", ""]))
    assert r.out_of_range.tolist() == [False, True, False, False]
    assert r.bad.tolist() == [False, False, True, False]
    assert str(r.values.dtype) == "datetime64[ns]" and pd.isna(r.values.iloc[1])
    _, bad = parse_datetime(pd.Series([value]))  # the two-value form counts it as not a date
    assert bad.tolist() == [True]


def test_out_of_range_typed_dates_excel_and_parquet_style():
    objs = pd.Series([dt.datetime(2999, 1, 1), dt.datetime(2024, 1, 1)], dtype=object)
    assert parse_dates(objs).out_of_range.tolist() == [True, False]
    typed = pd.Series(pd.to_datetime(["2999-01-01", "2024-01-01"]))  # datetime64[us]
    r = parse_dates(typed)
    assert r.out_of_range.tolist() == [True, False] and str(r.values.dtype) == "datetime64[ns]"


def test_intake_reports_out_of_range_dates_and_keeps_their_text(tmp_path):
    rows = [*ROWS, ("o4", "c2", "2999-01-01", "5"), ("o5", "c2", "0001-01-01", "6")]
    # 2 of 5 rows: far above max_unparseable_share, but they are not unparseable
    with pytest.warns(DataQualityWarning, match=r"orders\.order_time \(from '下单时间'\): 2 of 5 rows.*"
                                                r"'2999-01-01', '0001-01-01'.*cleaning\.out_of_range_dates"):
        t = load_tables(_params(tmp_path, _csv(tmp_path / "o.csv", rows)))["orders"]
    rep = t.report().set_index("column")
    assert rep.loc["order_time", "n_out_of_range"] == 2
    assert rep.loc["order_time", "n_unparseable"] == 0
    assert "'2999-01-01'" in rep.loc["order_time", "out_of_range_examples"]
    marker = out_of_range_column("order_time")
    assert t.frame[marker].tolist()[3:] == ["2999-01-01", "0001-01-01"]
    assert t.frame["order_time"].isna().sum() == 2


@pytest.mark.parametrize(("mode", "rows_out", "flag"), [("drop", 3, False), ("flag", 3, True), ("keep", 3, False)])
def test_cleaning_handles_out_of_range_dates(mode, rows_out, flag):
    raw = pd.DataFrame({
        "id": ["1", "2", "3", "4"], "c": ["a", "b", "b", "c"],
        "t": ["2024-01-01", "2999-01-01", "2024-01-02", "2024-01-03"], "a": ["1", "2", "3", "4"],
    })  # fmt: skip
    with pytest.warns(DataQualityWarning):
        t = apply_contract(raw, "orders", columns={"order_id": "id", "customer_id": "c", "order_time": "t", "amount": "a"})
    res = clean_tables({"orders": t}, as_of="2024-12-31", data_end="2025-01-01", out_of_range_dates=mode)
    row = res.log().set_index("rule").loc["out_of_range_dates"]
    assert row["params_key"] == "cleaning.out_of_range_dates"
    assert "order_time 1, e.g. '2999-01-01'" in row["detail"]
    assert row["rows_touched"] == (0 if mode == "keep" else 1)
    out = res.tables["orders"]
    assert len(out) == rows_out  # a row without its order time goes (here or by missing_required)
    assert ("flag_out_of_range_date" in out) is flag
    assert (out_of_range_column("order_time") in out) is (mode != "drop")


def test_out_of_range_date_in_a_customer_column_is_blanked_not_dropped():
    raw = pd.DataFrame({"id": ["c1", "c2"], "s": ["2999-01-01", "2024-01-01"]})
    with pytest.warns(DataQualityWarning):
        t = apply_contract(raw, "customers", columns={"customer_id": "id", "signup_date": "s"})
    res = clean_tables({"customers": t}, as_of="2024-12-31")
    assert len(res.tables["customers"]) == 2
    assert res.tables["customers"]["signup_date"].isna().tolist() == [True, False]
    detail = res.log().set_index("rule").loc["out_of_range_dates", "detail"]
    assert "signup_date" in detail and "'2999-01-01'" in detail


def test_validate_survives_out_of_range_dates(tmp_path, capsys):
    data = _csv(tmp_path / "o.csv", [*ROWS, ("o4", "c2", "2999-01-01", "5")])
    params = tmp_path / "p.yaml"
    params.write_text(
        f"name: t\nas_of: 2024-12-31\ntables:\n  orders:\n    path: {data.name}\n"
        "    columns: {order_id: 订单号, customer_id: 会员ID, order_time: 下单时间, amount: 实付金额}\n",
        encoding="utf-8",
    )
    with pytest.warns(DataQualityWarning):
        assert cli.main(["validate", "-p", str(params)]) == 0


# 2. a header written twice --------------------------------------------------------------------


def test_mapped_duplicate_header_stops_with_positions(tmp_path):
    header = ("订单号", "会员ID", "下单时间", "实付金额", "实付金额")
    rows = [(*r, "99") for r in ROWS]
    with pytest.raises(ContractError) as err:
        load_tables(_params(tmp_path, _csv(tmp_path / "o.csv", rows, header)))
    msg = str(err.value)
    assert msg.startswith("orders: ")
    assert "'实付金额' 2 times (columns 4, 5)" in msg
    assert "tables.orders.columns.amount" in msg and "'实付金额.1'" in msg


def test_mapping_the_later_duplicate_by_its_name_works(tmp_path):
    header = ("订单号", "会员ID", "下单时间", "实付金额", "实付金额")
    rows = [(*r, "99") for r in ROWS]
    with pytest.warns(DataQualityWarning, match="kept as its own extra column"):
        t = load_tables(_params(tmp_path, _csv(tmp_path / "o.csv", rows, header), {**COLS, "amount": "实付金额.1"}))
    assert t["orders"].frame["amount"].tolist() == [99.0, 99.0, 99.0]


def test_unmapped_duplicate_header_kept_under_two_names_with_warning(tmp_path):
    header = (*HEADER, "备注", "备注")
    rows = [(*r, "x", "z") for r in ROWS]
    with pytest.warns(DataQualityWarning, match=r"'备注' 2 times \(columns 5, 6\).*'备注', '备注.1'"):
        t = load_tables(_params(tmp_path, _csv(tmp_path / "o.csv", rows, header)))["orders"]
    assert t.frame["备注"].tolist() == ["x"] * 3 and t.frame["备注.1"].tolist() == ["z"] * 3


def test_duplicate_header_in_excel(tmp_path):
    path = tmp_path / "o.xlsx"
    pd.DataFrame([list(r) + ["1"] for r in ROWS], columns=[*HEADER, "实付金额"]).to_excel(path, index=False)
    with pytest.raises(ContractError, match=r"columns 4, 5"):
        load_tables(_params(tmp_path, path))


# 3. mixed currencies --------------------------------------------------------------------------


def test_currency_markers_recognised():
    r = parse_amounts(pd.Series(["¥12.5", "$3", "€4", "USD 5", "CNY 20", "12元", "RMB 8", "9", "5美元"]))
    assert r.values.tolist() == [12.5, 3.0, 4.0, 5.0, 20.0, 12.0, 8.0, 9.0, 5.0]
    assert r.currency.fillna("-").tolist() == ["CNY", "USD", "EUR", "USD", "CNY", "CNY", "CNY", "-", "USD"]
    assert (currency_code("¥"), currency_code("$"), currency_code("pts")) == ("CNY", "USD", None)


def test_mixed_currencies_stop_with_counts_examples_and_rows(tmp_path):
    amounts = ["¥12.5", "$3", "€4", "USD 5", "CNY 20", "12元", "RMB 8"]
    rows = [(f"o{i}", "c1", "2024-03-05", a) for i, a in enumerate(amounts)]
    with pytest.raises(ContractError) as err:
        load_tables(_params(tmp_path, _csv(tmp_path / "o.csv", rows)))
    msg = str(err.value)
    assert msg.startswith("orders.amount (from '实付金额'): 7 of 7 rows")
    assert "CNY ×4" in msg and "USD ×2" in msg and "EUR ×1" in msg
    assert "'€4'; data row 3" in msg
    assert "split the file by currency or convert" in msg and "currency" in msg


def test_one_currency_is_fine_and_warns_when_not_the_params_currency(tmp_path):
    rows = [(f"o{i}", "c1", "2024-03-05", a) for i, a in enumerate(["$3", "$4.5", "7"])]
    path = _csv(tmp_path / "o.csv", rows)
    with pytest.warns(DataQualityWarning, match=r"every currency marker is USD.*params currency is '¥'"):
        t = load_tables(_params(tmp_path, path))["orders"]
    assert t.frame["amount"].tolist() == [3.0, 4.5, 7.0]
    assert t.report().set_index("column").loc["amount", "currencies"] == "USD×2"
    p = params_from_dict(
        {"name": "t", "as_of": "2024-12-31", "currency": "$", "tables": {"orders": {"path": str(path), "columns": COLS}}},
        base_dir=tmp_path,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)
        load_tables(p)


# 4. an Excel file named .csv ------------------------------------------------------------------


def test_xlsx_named_csv_is_read_as_excel_with_warning(tmp_path):
    xlsx = tmp_path / "real.xlsx"
    pd.DataFrame([list(r) for r in ROWS], columns=list(HEADER)).to_excel(xlsx, index=False)
    path = tmp_path / "x.csv"
    shutil.copy(xlsx, path)
    assert _detect_format(path) == "excel"
    before = _files(tmp_path)
    with pytest.warns(DataQualityWarning, match=r"x\.csv is an Excel workbook despite its \.csv extension"):
        t = load_tables(_params(tmp_path, path))["orders"]
    assert t.source["format"] == "excel" and len(t.frame) == 3
    assert _files(tmp_path) == before, "inputs are never modified, nothing written next to them"


def test_old_xls_magic_detected_and_unreadable_is_clear(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert _detect_format(path) == "excel"
    with pytest.warns(DataQualityWarning), pytest.raises(ContractError, match=r"cannot read .* as excel"):
        load_tables(_params(tmp_path, path))


def test_excel_content_with_format_csv_says_so(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame([list(r) for r in ROWS], columns=list(HEADER)).to_excel(path, index=False, engine="openpyxl")
    with pytest.raises(ContractError, match=r"Excel workbook but tables\.orders\.format is csv"):
        load_tables(_params(tmp_path, path, format="csv"))


# 5. a ;-separated CSV read with the default sep ---------------------------------------------------


@pytest.mark.parametrize(("sep", "shown"), [(";", '";"'), ("\t", '"\\\\t"'), ("|", '"\\|"')])
def test_other_delimiter_sniffed_when_every_mapped_header_is_found(tmp_path, sep, shown):
    path = _csv(tmp_path / "o.csv", sep=sep)
    with pytest.warns(DataQualityWarning, match=f"Set tables.orders.sep: {shown}"):
        t = load_tables(_params(tmp_path, path))["orders"]
    assert t.frame["amount"].tolist() == [12.5, 20.0, 7.0]
    assert t.source["sep"] == sep


def test_other_delimiter_with_a_wrong_mapping_names_sep_and_columns(tmp_path):
    path = _csv(tmp_path / "o.csv", sep=";")
    with pytest.raises(ContractError, match=r"looks \";\"-separated.*'实付'.*tables\.orders\.sep"):
        load_tables(_params(tmp_path, path, {**COLS, "amount": "实付"}))


# 6. a header but no rows ----------------------------------------------------------------------


def test_header_only_file_rejected(tmp_path):
    path = _csv(tmp_path / "o.csv", rows=[])
    with pytest.raises(ContractError, match=r"^orders: file .*o\.csv has a header but no rows.*tables\.orders\.path"):
        load_tables(_params(tmp_path, path))


def test_empty_file_rejected(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"")
    with pytest.raises(ContractError, match=r"is empty \(0 bytes\)"):
        load_tables(_params(tmp_path, path))


def test_validate_fails_on_header_only_file(tmp_path, capsys):
    data = _csv(tmp_path / "o.csv", rows=[])
    params = tmp_path / "p.yaml"
    params.write_text(
        f"name: t\nas_of: 2024-12-31\ntables:\n  orders:\n    path: {data.name}\n"
        "    columns: {order_id: 订单号, customer_id: 会员ID, order_time: 下单时间, amount: 实付金额}\n",
        encoding="utf-8",
    )
    assert cli.main(["validate", "-p", str(params)]) != 0
    err = capsys.readouterr().err
    assert "has a header but no rows" in err and "Traceback" not in err


# 7. consent -----------------------------------------------------------------------------------


def test_marketing_consent_column_in_contract():
    spec = TABLES["customers"].column("marketing_consent")
    assert spec.type == "bool" and not spec.required and "never put in targeting" in spec.description
    assert TABLES["customers"].column("marketing_opt_out").type == "bool"


def test_consent_mapped_and_opt_out_derived():
    raw = pd.DataFrame({"id": ["c1", "c2", "c3"], "ok": ["是", "否", ""], "out": ["yes", "no", ""]})
    t = apply_contract(raw, "customers", columns={"customer_id": "id", "marketing_consent": "ok"})
    assert t.frame["marketing_consent"].tolist() == [True, False, pd.NA]
    t = apply_contract(raw, "customers", columns={"customer_id": "id", "marketing_opt_out": "out"})
    assert t.frame["marketing_consent"].tolist() == [False, True, pd.NA]
    assert t.report().set_index("column").loc["marketing_consent", "source"] == "@not marketing_opt_out"
