"""Privacy: pseudonyms and masks, with hand-written expected values."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from workbench.core.params import PrivacyParams
from workbench.core.privacy import mask_series, mask_value, pii_kind, protect, pseudonymize


def test_pseudonymize_is_deterministic_salted_and_keeps_missing():
    keys = pd.Series(["C001", "C002", "C001", None], dtype="string")
    a = pseudonymize(keys, salt="s1")
    b = pseudonymize(keys, salt="s1")
    c = pseudonymize(keys, salt="s2")
    expected = "C" + hashlib.sha256(b"s1C001").hexdigest()[:12]
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
    assert pii_kind("address") == "generic"
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
