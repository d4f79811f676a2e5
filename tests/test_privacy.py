"""Privacy: pseudonyms and masks, with hand-written expected values."""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd
import pytest

from workbench.core.params import PrivacyParams
from workbench.core.pii import PENDING, PersonalColumn, detect_personal_data
from workbench.core.privacy import (
    MASK_KINDS,
    contract_pii_kinds,
    mask_series,
    mask_value,
    pii_kind,
    protect,
    protect_table,
    pseudonymize,
)


def test_pseudonymize_is_deterministic_salted_and_keeps_missing():
    keys = pd.Series(["C001", "C002", "C001", None], dtype="string")
    a = pseudonymize(keys, salt="s1")
    b = pseudonymize(keys, salt="s1")
    c = pseudonymize(keys, salt="s2")
    expected = "C" + hmac.new(b"s1", b"C001", hashlib.sha256).hexdigest()[:12]  # keyed, not sha256(salt+key)
    assert a.iloc[0] == expected
    assert a.iloc[0] == a.iloc[2] and a.iloc[0] != a.iloc[1]
    pd.testing.assert_series_equal(a, b)
    assert (a.iloc[:3] != c.iloc[:3]).all()
    assert pd.isna(a.iloc[3])
    assert a.dtype == "string" and a.index.equals(keys.index)


def test_pseudonymize_treats_numbers_as_text():
    assert pseudonymize(pd.Series([1001]), salt="x").iloc[0] == pseudonymize(pd.Series(["1001"]), salt="x").iloc[0]


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("phone", "13812345678", "138****5678"),
        ("phone", "+86 138 1234 5678", "138****5678"),
        ("email", "zhang.san@example.com", "z***@example.com"),
        ("name", "张三", "张*"),
        ("name", "欧阳娜娜", "欧***"),
        ("id_number", "110101199003074518", "110***********4518"),
        ("generic", "北京市朝阳区", "北***"),
        ("name", "王小明", "王**"),
        ("phone", "138-1234-5678", "138****5678"),
        ("phone", "0086 13812345678", "138****5678"),
        ("phone", 13812345678, "138****5678"),
        ("phone", 13812345678.0, "138****5678"),
        ("bank_card", "6222021234561234", "************1234"),
        ("bank_card", "6222 0212 3456 1234", "************1234"),
        ("address", "上海市浦东新区张江路100号", "上海市***"),
        ("address", "广东省深圳市南山区科技园1栋", "广东省深圳市***"),
        ("address", "12 Main Street", "12***"),
        ("id_number", "11010519491231002X", "110***********002X"),
    ],
)
def test_mask_value(kind, value, expected):
    assert mask_value(kind, value) == expected


def test_masks_hide_the_middle_digits():
    masked = mask_value("phone", "13912345678")
    assert "1234" not in masked and masked.count("*") == 4
    masked_id = mask_value("id_number", "110101199003074518")
    assert "19900307" not in masked_id  # the birth date inside a Chinese ID number


def test_mask_value_rejects_unknown_kind_and_keeps_missing():
    with pytest.raises(ValueError, match="kind must be one of"):
        mask_value("passport", "x")
    with pytest.raises(ValueError, match="kind must be one of"):
        mask_series(pd.Series(["x"]), "passport")
    assert mask_value("phone", None) is None
    assert pd.isna(mask_value("phone", pd.NA))


def test_mask_series_maps_distinct_values_and_keeps_missing():
    s = pd.Series(["13812345678", None, "13812345678"], index=[5, 6, 7], name="phone")
    out = mask_series(s, "phone")
    assert out.tolist()[0] == "138****5678" and out.iloc[2] == "138****5678"
    assert pd.isna(out.iloc[1])
    assert out.index.tolist() == [5, 6, 7] and out.name == "phone"


def test_pii_kind_from_name_or_values():
    assert pii_kind("phone") == "phone"
    assert pii_kind("address") == "address"
    assert pii_kind("收货地址") == "address" and pii_kind("银行卡号") == "bank_card"
    assert pii_kind("备注") == "generic"
    assert pii_kind("联系方式", pd.Series(["13812345678", "13987654321"])) == "phone"
    assert pii_kind("邮箱", pd.Series(["a@b.com"])) == "email"


def test_protect_masks_and_pseudonymizes_unless_allowed():
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(["C1", "C2"], dtype="string"),
            "name": pd.Series(["张三", "李四"], dtype="string"),
            "phone": pd.Series(["13812345678", "13987654321"], dtype="string"),
            "city": pd.Series(["北京", "上海"], dtype="string"),
        }
    )
    before = frame.copy()
    out = protect(frame, "customers", salt="k")
    assert out["phone"].tolist() == ["138****5678", "139****4321"]
    assert out["name"].tolist() == ["张*", "李*"]
    assert out["city"].tolist() == ["北京", "上海"]
    assert out["customer_id"].tolist() == pseudonymize(frame["customer_id"], salt="k").tolist()
    pd.testing.assert_frame_equal(frame, before)
    raw = protect(frame, "customers", **PrivacyParams(allow_personal_data=True, allow_raw_keys=True).model_dump())
    pd.testing.assert_frame_equal(raw, frame)


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("name", "张三"), ("name", "John Smith"), ("phone", "13812345678"), ("phone", "12345"),
        ("phone", "+86 138 1234 5678"), ("email", "zhang.san@example.com"), ("email", "@x.com"),
        ("email", "no-at-sign"), ("id_number", "110101199003074518"), ("id_number", "abc"),
        ("bank_card", "6222021234561234"), ("bank_card", "123"), ("address", "北京市朝阳区建国路88号"),
        ("address", "Apt 4, 12 Main Street"), ("generic", "北京"), ("generic", "x"),
    ],
)  # fmt: skip
def test_masking_is_idempotent(kind, value):
    once = mask_value(kind, value)
    assert mask_value(kind, once) == once
    assert mask_series(pd.Series([value, once]), kind).tolist() == [once, once]


def test_every_pii_kind_has_a_mask():
    assert set(MASK_KINDS) == {"name", "phone", "email", "id_number", "bank_card", "address", "generic"}


def _shop_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(["13812345678", "13987654321", "13812345678"], dtype="string"),
            "收货人": ["张三", "李四", "张三"],
            "手机号": [13812345678.0, 13987654321.0, None],
            "银行卡号": ["6222021234561234", "6222021234565678", None],
            "收货地址": ["上海市浦东新区张江路1号", "北京市朝阳区建国路88号", "上海市浦东新区张江路1号"],
            "amount": [10.0, 20.0, 30.0],
        }
    ).set_axis([7, 8, 9])


def test_protect_table_applies_the_treatment_of_each_kind():
    frame = _shop_frame()
    before = frame.copy()
    found = detect_personal_data(frame, "orders")
    assert {f.column: f.kind for f in found} == {
        "customer_id": "phone", "收货人": "name", "手机号": "phone", "银行卡号": "bank_card", "收货地址": "address",
    }  # fmt: skip
    out, records = protect_table(
        frame, "orders", found, secret="k",
        treatment={"name": "mask", "phone": "pseudonymize", "bank_card": "drop", "address": "mask"},
    )  # fmt: skip
    pd.testing.assert_frame_equal(frame, before)
    assert list(out.columns) == ["customer_id", "收货人", "手机号", "收货地址", "amount"]
    assert out.index.tolist() == [7, 8, 9]
    assert out["收货人"].tolist() == ["张*", "李*", "张*"]
    assert out["收货地址"].tolist() == ["上海市***", "北京市***", "上海市***"]
    phone_key = "P" + hmac.new(b"k", b"13812345678", hashlib.sha256).hexdigest()[:12]
    assert out["手机号"].iloc[0] == phone_key and pd.isna(out["手机号"].iloc[2])
    # the customer key looks like phones: pseudonymized like every other key, never masked or dropped
    assert out["customer_id"].tolist() == pseudonymize(frame["customer_id"], salt="k").tolist()
    assert {r.column: r.treatment for r in records} == {
        "customer_id": "pseudonymize", "收货人": "mask", "手机号": "pseudonymize", "银行卡号": "drop",
        "收货地址": "mask",
    }  # fmt: skip
    assert all(isinstance(r, PersonalColumn) and r.table == "orders" for r in records)
    assert all(f.treatment == PENDING for f in found)  # the detections themselves are unchanged


def test_protect_table_keeps_everything_when_allowed_and_honours_forced_treatments():
    frame = _shop_frame()
    found = detect_personal_data(frame, "orders")
    kept, records = protect_table(frame, "orders", found, allow_personal_data=True)
    pd.testing.assert_frame_equal(kept, frame)
    assert {r.treatment for r in records} == {"keep"}
    forced = detect_personal_data(frame, "orders", overrides={"orders.收货人": "drop", "orders.customer_id": "drop"})
    out, records = protect_table(frame, "orders", forced, treatment={"name": "mask"}, secret="k")
    assert "收货人" not in out and "customer_id" in out
    assert {r.column: r.treatment for r in records}["customer_id"] == "pseudonymize"
    # other tables' records and missing columns are skipped; unknown treatments are errors
    other = PersonalColumn("customers", "收货人", "收货人", "name", "header", 1.0, 3, PENDING)
    gone = PersonalColumn("orders", "nope", "nope", "name", "header", 1.0, 3, PENDING)
    assert protect_table(frame, "orders", [other, gone])[1] == []
    bad = PersonalColumn("orders", "收货人", "收货人", "name", "header", 1.0, 3, "shred")
    with pytest.raises(ValueError, match="收货人: treatment must be"):
        protect_table(frame, "orders", [bad])


def test_protect_table_takes_the_privacy_params(monkeypatch):
    frame = _shop_frame()
    found = detect_personal_data(frame, "orders")
    params = PrivacyParams(salt="k", treatment={"phone": "pseudonymize"})
    out, records = protect_table(frame, "orders", found, privacy=params)
    same, _ = protect_table(frame, "orders", found, treatment=params.treatment, secret="k")
    pd.testing.assert_frame_equal(out, same)
    assert "银行卡号" not in out and out["手机号"].iloc[0].startswith("P")
    monkeypatch.setenv(params.secret_env, "other")
    assert protect_table(frame, "orders", found, privacy=params)[0]["手机号"].iloc[0] != out["手机号"].iloc[0]
    kept, records = protect_table(frame, "orders", found, privacy=PrivacyParams(allow_personal_data=True))
    pd.testing.assert_frame_equal(kept, frame)


def test_phone_pseudonyms_ignore_formatting():
    frame = pd.DataFrame({"电话": ["138-1234-5678", "+86 13812345678", 13812345678, "13812345678"]})
    found = detect_personal_data(frame, "tickets")
    out, _ = protect_table(frame, "tickets", found, treatment={"phone": "pseudonymize"}, secret="s")
    assert out["电话"].nunique() == 1 and out["电话"].iloc[0].startswith("P")


def test_contract_pii_kinds():
    assert contract_pii_kinds("customers") == {
        "name": "name", "phone": "phone", "email": "email", "id_number": "id_number", "address": "address",
    }  # fmt: skip
    assert contract_pii_kinds("orders") == {}
    with pytest.raises(KeyError, match="not a contract table"):
        contract_pii_kinds("shops")


def test_protect_takes_the_privacy_params_and_finds_extra_columns(monkeypatch):
    frame = _shop_frame()
    params = PrivacyParams(salt="k")
    out = protect(frame, "orders", **params.model_dump())
    assert "银行卡号" not in out  # the params drop bank card numbers
    assert out["手机号"].tolist()[:2] == ["138****5678", "139****4321"]
    assert out["customer_id"].tolist() == pseudonymize(frame["customer_id"], salt="k").tolist()
    monkeypatch.setenv(params.secret_env, "from-env")
    env = protect(frame, "orders", **params.model_dump())
    assert env["customer_id"].tolist() == pseudonymize(frame["customer_id"], salt="from-env").tolist()
    # the legacy call keeps every column and leaves id columns alone
    legacy = protect(frame, "orders", key_columns=())
    assert list(legacy.columns) == list(frame.columns)
    assert legacy["customer_id"].tolist() == frame["customer_id"].tolist()
    assert legacy["银行卡号"].tolist()[:2] == ["************1234", "************5678"]
