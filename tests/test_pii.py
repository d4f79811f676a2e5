"""Personal data detection: headers, content rules with their negatives, overrides, the fixture."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pii_fixture import PLANTED_COLUMNS, luhn_card, valid_id_number, write_pii_dataset

from workbench.core.io import load_tables
from workbench.core.pii import (
    PENDING,
    PII_KINDS,
    Detection,
    content_shares,
    detect_column,
    detect_personal_data,
    header_kind,
    normalize_header,
    sample_values,
)
from workbench.core.privacy import contract_pii_kinds
from workbench.run.params import load_params

ROOT = Path(__file__).resolve().parents[1]
_PREFIXES = np.array([130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 158, 159,
                      166, 176, 177, 180, 182, 186, 187, 188, 189, 198, 199])  # fmt: skip


def _phones(n: int = 400, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    return [f"{rng.choice(_PREFIXES)}{rng.integers(0, 10**8):08d}" for _ in range(n)]


def _kind(values, name: str = "col") -> str | None:
    found = detect_column(name, pd.Series(values))
    return None if found is None else found.kind


# --- headers -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("姓名", "name"), ("会员姓名", "name"), ("客户名称", "name"), ("联系人", "name"), ("收货人", "name"),
        ("买家姓名", "name"), ("Customer Name", "name"), ("full_name", "name"), ("First-Name", "name"),
        ("last name", "name"), ("contact", "name"), ("name", "name"),
        ("手机", "phone"), ("手机号码", "phone"), ("联系电话", "phone"), ("收件人电话", "phone"),
        ("联系方式", "phone"), ("移动电话", "phone"), ("收货人手机号", "phone"), ("手机号（必填）", "phone"),
        ("Phone", "phone"), ("mobile", "phone"), ("TEL", "phone"), ("telephone", "phone"), ("cell", "phone"),
        ("身份证", "id_number"), ("身份证号码", "id_number"), ("证件号码", "id_number"), ("护照号", "id_number"),
        ("ID Number", "id_number"), ("id_card", "id_number"), ("national id", "id_number"),
        ("passport", "id_number"), ("SSN", "id_number"),
        ("邮箱", "email"), ("电子邮箱", "email"), ("邮件", "email"), ("E-Mail", "email"), ("email", "email"),
        ("mail", "email"), ("邮箱地址", "email"),
        ("地址", "address"), ("收货地址", "address"), ("家庭住址", "address"), ("详细地址", "address"),
        ("住址", "address"), ("Address", "address"), ("street", "address"),
        ("银行卡", "bank_card"), ("银行卡号", "bank_card"), ("卡号", "bank_card"), ("银行账号", "bank_card"),
        ("bank card", "bank_card"), ("card_number", "bank_card"), ("IBAN", "bank_card"),
        ("account number", "bank_card"),
    ],
)  # fmt: skip
def test_header_synonyms(header, kind):
    assert header_kind(header) == kind


@pytest.mark.parametrize(
    "header",
    ["商品名称", "product_name", "event_name", "campaign_name", "channel_name", "store_name", "customer_id",
     "order_id", "会员ID", "订单号", "城市", "city", "渠道", "session_id", "ticket_id", "品类", "实付金额",
     "下单时间", "会员等级", "campaign_id", "备注", ""],
)  # fmt: skip
def test_header_negatives(header):
    assert header_kind(header) is None


def test_normalize_header():
    assert normalize_header("  Customer_Name ") == "customername"
    assert normalize_header("手机号（选填）") == "手机号"
    assert normalize_header("e-mail [work]") == "email"


# --- phones --------------------------------------------------------------------------------

def test_phones_in_every_format():
    phones = _phones()
    assert _kind(phones) == "phone"
    assert _kind([f"+86 {p[:3]} {p[3:7]} {p[7:]}" for p in phones]) == "phone"
    assert _kind([f"{p[:3]}-{p[3:7]}-{p[7:]}" for p in phones]) == "phone"
    assert _kind([f"0086{p}" for p in phones]) == "phone"
    assert _kind([f"86{p}" for p in phones]) == "phone"
    assert _kind(pd.Series(phones).astype("int64")) == "phone"
    assert _kind(pd.Series(phones).astype("int64").astype(float)) == "phone"
    assert _kind([f"{float(p):.10E}" for p in phones]) == "phone"  # 1.3812345678E+10 from Excel


def test_phones_shared_by_order_lines_still_phones():
    # one customer's phone on each of their order lines, lines grouped by customer
    phones = np.repeat(_phones(60), 8)
    assert _kind(phones) == "phone"


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(np.arange(13800000001, 13800005001)),  # sequential order numbers, as numbers
        pd.Series(np.arange(13800000001, 13800005001)).astype(str),  # ... and as text
        pd.Series(np.arange(13800005000, 13800000000, -1)),  # descending
        pd.Series(np.arange(13000000000, 19900000000, 1_380_000)),  # spread out but monotone
        pd.Series([f"139{n:08d}" for n in np.random.default_rng(2).integers(0, 10**8, 3000)]),  # one prefix
        pd.Series(np.random.default_rng(3).uniform(1, 5000, 3000).round(2)),  # money
        pd.Series(np.random.default_rng(4).integers(1, 20, 3000)),  # quantities
        pd.Series(np.random.default_rng(5).integers(1_600_000_000, 1_760_000_000, 3000)),  # unix s
        pd.Series(np.random.default_rng(6).integers(1_600_000_000_000, 1_760_000_000_000, 3000)),  # ms
        pd.Series(pd.date_range("2023-01-01", periods=1000).strftime("%Y%m%d").astype(int)),  # dates
        pd.Series(pd.date_range("2023-01-01", periods=1000).strftime("%Y-%m-%d")),
    ],
)
def test_phone_negatives(values):
    assert detect_column("col", values) is None


# --- ID numbers, e-mails, bank cards -------------------------------------------------------

def _ids(n: int = 300, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    births = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 20000, n), unit="D")
    return [valid_id_number("310104", b.strftime("%Y%m%d"), int(rng.integers(1, 999))) for b in births]


def test_id_numbers_with_check_character():
    assert _kind(["11010519491231002X"] * 3 + _ids(3)) == "id_number"  # the textbook example
    assert _kind(_ids()) == "id_number"
    assert _kind([i.lower() for i in _ids()]) == "id_number"  # lower-case x
    assert _kind(pd.Series(_ids()).str[:17] + "0") != "id_number"  # wrong check characters mostly


def test_random_18_digit_order_numbers_are_not_ids():
    rng = np.random.default_rng(7)
    orders = ["".join(map(str, rng.integers(0, 10, 18))) for _ in range(3000)]
    assert detect_column("col", pd.Series(orders)) is None
    assert content_shares(pd.Series(orders))[0]["id_number"] < 0.01


def test_emails():
    assert _kind([f"user{i}@example.com" for i in range(50)]) == "email"
    assert _kind(["a.b+c@mail.qq.com", "zhang_san@163.com", "x@y.cn"]) == "email"
    assert _kind(["not an email", "a@b", "@example.com"]) is None


def _cards(n: int = 400, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [luhn_card("622202" + "".join(map(str, rng.integers(0, 10, 9 + 3 * (i % 2))))) for i in range(n)]


def test_bank_cards_pass_luhn():
    cards = _cards()
    assert {len(c) for c in cards} == {16, 19}
    assert _kind(cards) == "bank_card"
    assert _kind(["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111"]) == "bank_card"
    assert _kind(pd.Series([c for c in cards if len(c) == 16]).astype("int64")) == "bank_card"


def test_random_long_order_numbers_are_not_cards():
    rng = np.random.default_rng(8)
    orders = pd.Series(["".join(map(str, rng.integers(1, 10, 16 + i % 4))) for i in range(3000)])
    share = content_shares(orders)[0]["bank_card"]
    assert 0.05 < share < 0.15  # about one in ten pass Luhn by chance ...
    assert detect_column("col", orders) is None  # ... well under min_share
    sequential = pd.Series(np.arange(6_222_000_000_000_000, 6_222_000_000_003_000))
    assert detect_column("col", sequential) is None


# --- addresses and names -------------------------------------------------------------------

def test_chinese_and_english_addresses():
    rng = np.random.default_rng(9)
    cn = [f"上海市浦东新区{r}路{rng.integers(1, 999)}号{rng.integers(1, 30)}栋" for r in ("张江", "世纪", "川沙") * 100]
    assert _kind(cn) == "address"
    assert _kind([f"广东省深圳市南山区科技园{i}栋{i % 7 + 1}单元{i}室" for i in range(100)]) == "address"
    assert _kind([f"{i} Main Street" for i in range(1, 100)]) == "address"
    assert _kind([f"Apt {i}, {i * 3} Oak Ave" for i in range(1, 100)]) == "address"


def test_city_names_are_not_addresses():
    cities = ["上海市", "北京", "北京市", "深圳", "广州市", "杭州", "成都市"] * 100
    assert detect_column("col", pd.Series(cities)) is None
    assert content_shares(pd.Series(["上海市", "北京", "北京市朝阳区"]))[0]["address"] == 0.0


def test_chinese_names_need_a_surname_and_variety():
    rng = np.random.default_rng(10)
    given = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英")
    names = [
        s + "".join(rng.choice(given, int(rng.integers(1, 3))))
        for s in rng.choice(list("王李张刘陈杨黄赵周吴徐孙马朱胡林郭何高罗"), 500)
    ]
    assert _kind(names) == "name"
    assert _kind(["欧阳娜娜", "司马光明", "诸葛亮", "上官婉儿"] * 2 + names[:4]) == "name"


@pytest.mark.parametrize(
    "values",
    [
        ["上海", "北京", "深圳", "成都", "武汉", "南京", "西安"] * 300,  # 城市 (成, 武 are surnames)
        ["服装", "美妆", "家居", "食品", "数码", "母婴"] * 300,  # product categories
        ["金卡", "银卡", "白金卡", "普通会员", "钻石卡"] * 300,  # member levels (金, 白 are surnames)
        ["质量", "投诉", "咨询", "物流", "退款"] * 300,  # ticket topics
        ["男", "女"] * 300,
    ],
)
def test_categories_are_not_names(values):
    assert detect_column("col", pd.Series(values)) is None


# --- precedence, dtypes, sampling ----------------------------------------------------------

def test_header_gives_the_kind_and_content_the_share():
    masked = pd.Series(["138****5678", "139****4321", None])
    assert detect_column("手机号", masked) == Detection("phone", "header", 0.0, 2)
    assert detect_column("邮箱", pd.Series([None, None], dtype="string")) == Detection("email", "header", None, 0)
    # content finds phones under a header that says nothing
    found = detect_column("备注", pd.Series(_phones(50)))
    assert found.kind == "phone" and found.detected_by == "content" and found.share == 1.0


def test_datetime_and_bool_columns_are_never_checked():
    assert detect_column("是否有手机号", pd.Series([True, False] * 50)) is None
    assert detect_column("col", pd.Series(pd.date_range("2024-01-01", periods=100))) is None


def test_sample_is_seeded_and_bounded():
    values = pd.Series(np.arange(100_000)).where(lambda s: s % 3 != 0)
    a = sample_values(values, size=500, seed=1)
    assert len(a) == 500 and a.notna().all() and a.index.is_monotonic_increasing
    assert a.equals(sample_values(values, size=500, seed=1))
    assert not a.equals(sample_values(values, size=500, seed=2))
    sparse = pd.Series([None] * 50_000 + ["a@b.com"] * 10)
    assert len(sample_values(sparse, size=100)) == 10


def test_ten_million_rows_cost_the_sample():
    big = pd.Series(np.tile(np.array(_phones(1000), dtype=object), 10_000))
    start = time.perf_counter()
    found = detect_column("col", big)
    assert time.perf_counter() - start < 1.0
    assert found == Detection("phone", "content", 1.0, 2000)


# --- whole tables --------------------------------------------------------------------------

def _orders_frame() -> pd.DataFrame:
    n = 300
    return pd.DataFrame(
        {
            "order_id": [f"O{i:06d}" for i in range(n)],
            "customer_id": [f"C{i % 50:04d}" for i in range(n)],
            "channel": ["app", "web", "store"] * 100,
            "收货人手机": _phones(n),
            "note": [f"user{i}@example.com" for i in range(n)],
            "amount": np.linspace(10, 500, n),
        }
    )


def test_detect_personal_data_covers_mapped_and_unmapped_columns():
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "phone": ["13812345678", None], "city": ["上海", "北京"]})
    found = detect_personal_data(customers, "customers", headers={"phone": "联系方式", "city": "城市"},
                                 canonical_pii={"phone": "phone", "name": "name"})  # fmt: skip
    assert [(f.column, f.header, f.kind, f.detected_by, f.share, f.n_checked, f.treatment) for f in found] == [
        ("phone", "联系方式", "phone", "contract", 1.0, 1, PENDING)
    ]
    orders = detect_personal_data(_orders_frame(), "orders")
    assert [(f.column, f.kind, f.detected_by) for f in orders] == [
        ("收货人手机", "phone", "header"), ("note", "email", "content"),
    ]
    assert all(f.table == "orders" and f.kind in PII_KINDS for f in orders)


def test_overrides_remove_or_force_detections():
    frame = _orders_frame().assign(remark=["VIP", "x"] * 150, 地址备注=["上海市***"] * 300)
    found = detect_personal_data(
        frame, "orders",
        headers={"channel": "渠道"},
        overrides={"orders.note": "not_personal", "orders.收货人手机": "pseudonymize",
                   "orders.remark": "drop", "orders.渠道": "mask"},
    )  # fmt: skip
    got = {f.column: (f.kind, f.detected_by, f.treatment) for f in found}
    assert "note" not in got
    assert got["收货人手机"] == ("phone", "header", "pseudonymize")
    assert got["remark"] == ("address", "params", "drop")  # nothing matched: the generic kind
    assert got["channel"] == ("address", "params", "mask")  # keyed by the source header
    contract = detect_personal_data(
        pd.DataFrame({"name": ["张三"]}), "customers", canonical_pii={"name": "name"},
        overrides={"customers.name": "not_personal"},
    )  # fmt: skip
    assert contract == []


def test_forced_column_takes_its_best_content_kind():
    values = ["13812345678", "x", "y", "z"]  # 25 % phones: under min_share
    frame = pd.DataFrame({"备注": values})
    assert detect_personal_data(frame, "orders") == []
    (forced,) = detect_personal_data(frame, "orders", overrides={"orders.备注": "mask"})
    assert (forced.kind, forced.detected_by, forced.share, forced.n_checked) == ("phone", "params", 0.25, 4)


# --- the planted-personal-data fixture -----------------------------------------------------

@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("pii")
    start = time.perf_counter()
    params_path, values = write_pii_dataset(folder, seed=0)
    elapsed = time.perf_counter() - start
    params = load_params(params_path)
    return {"folder": folder, "params": params, "values": values, "elapsed": elapsed,
            "tables": load_tables(params)}  # fmt: skip


def _detect(loaded) -> dict[str, list]:
    out = {}
    for name, lt in loaded.items():
        headers = {c.column: c.source for c in lt.columns}
        out[name] = detect_personal_data(lt.frame, name, headers=headers, canonical_pii=contract_pii_kinds(name))
    return out


def test_fixture_plants_every_kind_in_every_table(planted):
    assert planted["elapsed"] < 3
    assert set(planted["values"]) == set(PII_KINDS)
    for table, columns in PLANTED_COLUMNS.items():
        assert sorted(columns.values()) == sorted(PII_KINDS), table
    customers = (planted["folder"] / "customers.csv").read_bytes().decode("gbk")
    assert customers.startswith("会员ID,姓名,手机号")
    text = "".join(p.read_text(encoding="gbk" if p.name == "customers.csv" else "utf-8-sig")
                   for p in planted["folder"].glob("*.csv"))  # fmt: skip
    text += pd.read_parquet(planted["folder"] / "campaign_contacts.parquet").to_csv(index=False)
    for kind, values in planted["values"].items():
        assert values and all(v in text for v in values[:50]), kind
    phones = planted["values"]["phone"]
    assert any(v.startswith("+86 ") for v in phones) and any(v.count("-") == 2 for v in phones)
    assert any(v.startswith("0086") for v in phones)
    loaded = planted["tables"]
    assert pd.api.types.is_integer_dtype(loaded["campaign_contacts"].frame["手机"])  # typed as numbers
    assert pd.api.types.is_string_dtype(loaded["orders"].frame["手机号"])  # long digit strings stay text
    assert len(loaded["customers"].frame) == 300 and len(loaded["orders"].frame) > 1500
    assert set(loaded["campaign_contacts"].frame["arm"]) >= {"control", "treatment"}
    assert {"converted", "revenue"} <= set(loaded["campaign_contacts"].frame)


def test_fixture_params_enable_the_analyses(planted):
    analyses = planted["params"].analyses
    assert all(getattr(analyses, k).enabled for k in ("data_profiling", "segmentation", "churn", "campaign"))


def test_detection_finds_every_planted_column_and_nothing_else(planted):
    detected = _detect(planted["tables"])
    for table, found in detected.items():
        got = {f.header: f.kind for f in found}
        assert got == PLANTED_COLUMNS[table], table
    by = {(t, f.header): f.detected_by for t, fs in detected.items() for f in fs}
    assert by[("customers", "手机号")] == "contract" and by[("orders", "手机号")] == "header"
    assert by[("events", "ref")] == "content" and by[("events", "memo")] == "content"


def test_planted_columns_are_found_by_content_alone(planted):
    for table, columns in PLANTED_COLUMNS.items():
        lt = planted["tables"][table]
        source = {c.source: c.column for c in lt.columns}
        for header, kind in columns.items():
            found = detect_column("col", lt.frame[source[header]])
            assert found is not None and found.kind == kind, (table, header)


def test_no_false_detection_in_the_bundled_example():
    loaded = load_tables(load_params(ROOT / "params" / "example.yaml"))
    found = {t: [(f.column, f.detected_by) for f in fs] for t, fs in _detect(loaded).items()}
    assert found == {
        "customers": [("name", "contract"), ("phone", "contract"), ("email", "contract")],
        "orders": [], "campaign_contacts": [], "events": [], "tickets": [], "spend": [], "order_items": [],
        "feedback": [],
    }  # fmt: skip
