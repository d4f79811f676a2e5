"""Intake through DuckDB (``workbench.core.scan``) gives what the pandas intake gives: the same
typed frames, column reports, warnings and errors, on the bundled example's exports (UTF-8 with
BOM, GBK, gzip) and on small hand-made messy files, across batch boundaries."""

from __future__ import annotations

import gzip
import warnings

import pandas as pd
import pytest

from workbench.core import scan
from workbench.core.errors import ContractError
from workbench.core.io import load_tables
from workbench.run.params import load_params, params_from_dict

HEADER = ["订单号", "会员ID", "下单时间", "实付金额", "渠道", "是否退款", "数量", "备注", "积分"]
COLS = {"order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额",
        "channel": "渠道", "is_refund": "是否退款", "quantity": "数量"}  # fmt: skip
ROWS = [
    ["O1", " C1 ", "2024-03-05 14:22:05", "1919.49", "app", "否", "1", "first", "10"],
    ["O2", "C2", "2024/3/5", "￥1,234.50", "小程序", "是", "2", "", "20"],
    ["O3", "C1\u3000", "2024年03月05日", "(12.00)", "\u3000门店\u3000", "无", "1,000", "a,b", "30"],
    ["O4", "C3", "20240306", "3元", "未知", "Y", "5%", '引"号', "40"],
    ["O5", "C4", "45356", "-3.5", "N/A", "n", "", "x", "50"],
    ["O6", "C5", "2999-01-01", "", "web", "", "7", "y", "60"],
    ["O7", "C6", "2024-03-05 14:22", "12", "web", "TRUE", "8", "z", "70"],
    ["O8", "C7", "2024-03-05", "  7.25 ", "—", "False", "-", "w", "80"],
    ["O9", "C8", "2024-02-30", "0.10", "app", "1", "9", "v", "90"],
    ["O10", "C9", "2024-03-05T08:00:00Z", "100", "app", "0", "10", "u", "100"],
]


def _csv(path, rows=ROWS, header=HEADER, encoding="utf-8-sig", gz=False):
    def cell(v):
        return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"') else v

    text = "\n".join(",".join(cell(v) for v in r) for r in [header, *rows]) + "\n"
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def _params(tmp_path, path, columns=COLS, **extra):
    table = {"path": str(path), "columns": columns, **extra.pop("table", {})}
    return params_from_dict({"name": "t", "as_of": "2024-12-31", "tables": {"orders": table}, **extra},
                            base_dir=tmp_path)  # fmt: skip


def _both(params, names=None):
    """Load with pandas and with the scan; return both results (tables and warnings)."""
    out = {}
    for how in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables = load_tables(params, names, scan=how)
        # A ResourceWarning is the garbage collector's, raised wherever it runs: not intake's.
        said = [str(w.message) for w in caught if not issubclass(w.category, ResourceWarning)]
        out[how] = (tables, said)
    return out[False], out[True]


def _assert_same(old, new):
    (t_old, w_old), (t_new, w_new) = old, new
    assert list(t_old) == list(t_new)
    for name in t_old:
        a, b = t_old[name], t_new[name]
        assert b.source.get("reader") == "duckdb", f"{name} was not scanned"
        pd.testing.assert_frame_equal(a.frame, b.frame)
        assert a.columns == b.columns
        assert {k: v for k, v in b.source.items() if k != "reader"} == a.source
    assert w_old == w_new


def _error(params, how):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ContractError) as err:
            load_tables(params, scan=how)
    return str(err.value)


def test_example_exports_same_through_duckdb():
    params = load_params("params/example.yaml")
    old, new = _both(params, ["orders", "customers", "events"])
    _assert_same(old, new)
    assert new[0]["customers"].source["encoding"] == "gb18030"  # copied to UTF-8 for DuckDB


@pytest.mark.parametrize("batch", [None, 3])
def test_messy_file_same_through_duckdb(tmp_path, monkeypatch, batch):
    if batch:
        monkeypatch.setattr(scan, "BATCH_ROWS", batch)
    path = _csv(tmp_path / "o.csv")
    old, new = _both(_params(tmp_path, path, intake={"max_unparseable_share": 0.5}))
    _assert_same(old, new)
    t = new[0]["orders"]
    rep = {c.column: c for c in t.columns}
    assert rep["order_time"].n_out_of_range == 1 and rep["order_time"].n_unparseable >= 1
    assert rep["amount"].currencies == {"CNY": 2}
    assert t.frame["customer_id"].tolist()[:3] == ["C1", "C2", "C1"]
    assert any("2999-01-01" in w for w in new[1])


@pytest.mark.parametrize(("encoding", "gz"), [("utf-8", False), ("gb18030", True), ("utf-8-sig", True)])
def test_encodings_and_gzip_same(tmp_path, encoding, gz):
    path = _csv(tmp_path / ("o.csv.gz" if gz else "o.csv"), encoding=encoding, gz=gz)
    _assert_same(*_both(_params(tmp_path, path, intake={"max_unparseable_share": 0.5})))


def test_options_and_placeholders_same(tmp_path):
    rows = [["O1", "C1", "05/03/2024", "1", "app", "ja", "1", "", "1"],
            ["O2", "C2", "2024-03-06", "2", "缺", "nein", "2", "", "2"],
            ["O3", "C3", "07/03/2024", "3", "app", "ja", "3", "", "3"]]  # fmt: skip
    path = _csv(tmp_path / "o.csv", rows=rows)
    params = _params(tmp_path, path, table={"date_format": "%d/%m/%Y", "true_values": ["ja"],
                                            "false_values": ["nein"]},
                     intake={"extra_placeholders": ["缺"]})  # fmt: skip
    _assert_same(*_both(params))


def test_errors_same_through_duckdb(tmp_path):
    bad_dates = [[f"O{i}", "C1", "not a date", "1", "app", "是", "1", "", "1"] for i in range(5)]
    p = _params(tmp_path, _csv(tmp_path / "a.csv", rows=bad_dates))
    assert _error(p, False) == _error(p, True)
    assert "order_time" in _error(p, True) and "not a date" in _error(p, True)
    mixed = [["O1", "C1", "2024-03-05", "¥1", "app", "是", "1", "", "1"],
             ["O2", "C1", "2024-03-05", "$2", "app", "是", "1", "", "1"]]  # fmt: skip
    p = _params(tmp_path, _csv(tmp_path / "b.csv", rows=mixed))
    assert _error(p, False) == _error(p, True) and "currenc" in _error(p, True)
    blank = [["O1", "", "2024-03-05", "1", "app", "是", "1", "", "1"], ["O2", "未知", "2024-03-05", "1", "app", "是", "1", "", "1"]]
    p = _params(tmp_path, _csv(tmp_path / "c.csv", rows=blank))
    assert _error(p, False) == _error(p, True) and "blank" in _error(p, True)
    p = _params(tmp_path, _csv(tmp_path / "d.csv"), columns={**COLS, "channel": "渠 道"})
    assert _error(p, False) == _error(p, True) and "渠道" in _error(p, True)


def test_rows_duckdb_cannot_read_go_to_pandas(tmp_path):
    path = tmp_path / "o.csv"
    _csv(path)
    path.write_bytes(path.read_bytes() + "O11,C1,2024-03-05,1,app,是,1,x,1,extra\n".encode())
    p = _params(tmp_path, path)
    assert _error(p, False) == _error(p, True)  # pandas' own message: expected 9 fields, saw 10


def test_auto_mode_scans_only_large_files(tmp_path, monkeypatch):
    path = _csv(tmp_path / "o.csv")
    p = _params(tmp_path, path, intake={"max_unparseable_share": 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "reader" not in load_tables(p)["orders"].source
        monkeypatch.setattr("workbench.core.io.SCAN_MIN_BYTES", 1)
        assert load_tables(p)["orders"].source["reader"] == "duckdb"
