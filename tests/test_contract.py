"""Contract: parsers, mapping, and the messages for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.core.contract import (
    TABLES,
    apply_contract,
    check_references,
    parse_bool,
    parse_datetime,
    parse_money,
    parse_number,
    pii_columns,
)
from workbench.core.errors import ContractError


def test_mixed_date_formats_in_one_column():
    s = pd.Series(
        ["2024/3/5", "2024-03-05 14:22", "20240305", "2024年03月05日", "2024年3月5日 8时05分",
         "2024-03-05T14:22:05Z", "2024.03.05", "45356", "未知", "", None, "abc", "2024-13-45"]
    )  # fmt: skip
    out, bad = parse_datetime(s)
    expect = ["2024-03-05 00:00:00", "2024-03-05 14:22:00", "2024-03-05 00:00:00",
              "2024-03-05 00:00:00", "2024-03-05 08:05:00", "2024-03-05 14:22:05",
              "2024-03-05 00:00:00", "2024-03-05 00:00:00"]  # fmt: skip
    assert out.iloc[:8].dt.strftime("%Y-%m-%d %H:%M:%S").tolist() == expect
    assert out.iloc[8:].isna().all()
    # placeholders and blanks are missing, not bad; junk and impossible dates are bad
    assert bad.tolist() == [False] * 11 + [True, True]


def test_explicit_date_format_for_day_first():
    out, bad = parse_datetime(pd.Series(["05/03/2024", "2024-03-06"]), date_format="%d/%m/%Y")
    assert out.dt.strftime("%Y-%m-%d").tolist() == ["2024-03-05", "2024-03-06"]
    assert not bad.any()


def test_typed_dates_pass_through():
    s = pd.Series(pd.to_datetime(["2024-01-01", None]))
    out, bad = parse_datetime(s)
    assert out.iloc[0] == pd.Timestamp("2024-01-01") and pd.isna(out.iloc[1]) and not bad.any()


def test_money_strings():
    s = pd.Series(["￥1,234.50", "¥ 99", "(12.00)", "3元", "RMB 1,000", "-5", "12.5-", "１２３", "abc", "N/A"])
    out, bad = parse_money(s)
    np.testing.assert_allclose(out.iloc[:8], [1234.5, 99, -12, 3, 1000, -5, -12.5, 123])
    assert bad.tolist() == [False] * 8 + [True, False]


def test_numbers_and_percent():
    out, bad = parse_number(pd.Series(["1,200", "5%", " 7 ", "x"]))
    np.testing.assert_allclose(out.iloc[:3], [1200, 0.05, 7])
    assert bad.tolist() == [False, False, False, True]


def test_bools_chinese_and_english():
    out, bad = parse_bool(pd.Series(["是", "否", "Yes", "no", "1", "0", "未知", "maybe"]))
    assert out.iloc[:6].tolist() == [True, False, True, False, True, False]
    assert pd.isna(out.iloc[6]) and pd.isna(out.iloc[7])
    assert bad.tolist() == [False] * 7 + [True]


def _orders_raw(n_bad: int = 0) -> pd.DataFrame:
    amounts = ["￥1,234.50", "20", "30", "-5"] * 25
    for i in range(n_bad):
        amounts[i] = "abc"
    return pd.DataFrame(
        {
            "订单号": [f"o{i}" for i in range(100)],
            "会员ID": ["c1", "c2"] * 50,
            "下单时间": ["2024/3/5", "20240306", "2024年03月07日", "2024-03-08 10:00"] * 25,
            "实付金额": amounts,
            "备注": ["x"] * 100,
        }
    )


MAPPING = {"order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额"}


def test_mapping_chinese_headers_to_contract():
    raw = _orders_raw()
    before = raw.copy()
    t = apply_contract(raw, "orders", columns=MAPPING)
    assert list(t.frame.columns[:4]) == ["order_id", "customer_id", "order_time", "amount"]
    assert "备注" in t.frame.columns  # extra columns are kept
    assert t.frame["amount"].sum() == pytest.approx(25 * (1234.5 + 20 + 30 - 5))
    assert t.frame["order_time"].notna().all()
    pd.testing.assert_frame_equal(raw, before)  # input never modified
    rep = t.report().set_index("column")
    assert rep.loc["amount", "source"] == "实付金额"


def test_few_unparseable_values_are_reported_not_fatal():
    t = apply_contract(_orders_raw(n_bad=1), "orders", columns=MAPPING, max_unparseable_share=0.02)
    rep = t.report().set_index("column")
    assert rep.loc["amount", "n_unparseable"] == 1
    assert "'abc'" in rep.loc["amount", "examples"]


def test_too_many_unparseable_values_name_table_column_rows_and_key():
    with pytest.raises(ContractError) as err:
        apply_contract(_orders_raw(n_bad=3), "orders", columns=MAPPING)
    msg = str(err.value)
    for part in ("orders.amount", "实付金额", "3 of 100 rows", "'abc'", "tables.orders.columns.amount"):
        assert part in msg, (part, msg)


def test_required_column_not_mapped():
    with pytest.raises(ContractError, match=r"required column\(s\) amount not mapped.*tables.orders.columns"):
        apply_contract(_orders_raw(), "orders", columns={k: v for k, v in MAPPING.items() if k != "amount"})


def test_mapped_header_missing_gets_did_you_mean():
    bad = {**MAPPING, "amount": "实付金"}
    with pytest.raises(ContractError, match=r"amount -> '实付金' \(did you mean '实付金额'\?\)"):
        apply_contract(_orders_raw(), "orders", columns=bad)


def test_unknown_canonical_column_did_you_mean():
    with pytest.raises(ContractError, match=r"'ammount' \(did you mean 'amount'\?\)"):
        apply_contract(_orders_raw(), "orders", columns={**MAPPING, "ammount": "实付金额"})


def test_required_column_all_blank():
    raw = _orders_raw()
    raw["下单时间"] = "未知"
    with pytest.raises(ContractError, match=r"orders.order_time.*every value is blank"):
        apply_contract(raw, "orders", columns=MAPPING)


def test_index_and_constants():
    raw = pd.DataFrame({"segment": ["A", "B", "A"], "visit": [1, 0, 1]})
    t = apply_contract(
        raw, "campaign_contacts",
        columns={"customer_id": "@index", "arm": "segment", "visited": "visit"},
        constants={"campaign_id": "c1"}, keep_extra_columns=False,
    )  # fmt: skip
    assert t.frame["customer_id"].tolist() == ["1", "2", "3"]
    assert t.frame["campaign_id"].tolist() == ["c1"] * 3
    assert t.frame["visited"].tolist() == [True, False, True]


def test_references_and_pii():
    customers = pd.DataFrame({"customer_id": ["a", "b"], "phone": ["13812345678", None],
                              "mobile2": ["13912345678", "13712345678"]})
    orders = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "z", "z"]})
    ref = check_references({"customers": customers, "orders": orders})
    assert ref.loc[0, "n_unmatched"] == 2 and "'z'" in ref.loc[0, "examples"]
    assert set(pii_columns("customers", customers)) == {"phone", "mobile2"}


def test_every_table_has_a_required_key_column():
    # customer tables carry customer_id; order_items reaches customers through orders; spend is
    # an aggregate per channel and period (no customer in it)
    for spec in TABLES.values():
        assert spec.required
        if spec.name == "spend":
            assert "customer_id" not in spec.names and {"date", "channel", "cost"} <= set(spec.required)
        elif spec.name == "order_items":
            assert spec.references == {"order_id": "orders.order_id"}
        else:
            assert "customer_id" in spec.required
