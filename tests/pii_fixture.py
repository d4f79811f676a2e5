"""A small analysable CRM dataset with personal data of every kind planted in every table.

:func:`write_pii_dataset` writes five CSV files (customers GBK-encoded with Chinese headers, like
a shop export) and a params YAML, and returns every planted raw value by kind, so a test can grep
every output file of a run for them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.synth import generate

__all__ = ["write_pii_dataset", "PLANTED_COLUMNS", "valid_id_number", "luhn_card"]

#: table -> header -> kind of every planted personal-data column (mapped or not).
PLANTED_COLUMNS: dict[str, dict[str, str]] = {
    "customers": {"姓名": "name", "手机号": "phone", "邮箱": "email", "身份证号": "id_number",
                  "地址": "address", "银行卡号": "bank_card"},
    "orders": {"收货人": "name", "手机号": "phone", "收货地址": "address", "买家邮箱": "email",
               "证件号码": "id_number", "卡号": "bank_card"},
    "campaign_contacts": {"full_name": "name", "手机": "phone", "email": "email", "address": "address",
                          "id_card": "id_number", "bank_card": "bank_card"},
    # "ref" and "memo" say nothing: found by content only
    "events": {"customer_name": "name", "ref": "phone", "邮箱": "email", "收件地址": "address",
               "memo": "id_number", "card_number": "bank_card"},
    "tickets": {"客户姓名": "name", "联系电话": "phone", "电子邮箱": "email", "身份证号": "id_number",
                "联系地址": "address", "银行卡号": "bank_card"},
}  # fmt: skip

_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_REGIONS = ("110101", "310104", "440305", "330106", "510107", "420102", "320102")
_DISTRICTS = ("浦东新", "朝阳", "海淀", "天河", "南山", "西湖", "武侯", "江汉", "鼓楼")
_ROADS = ("中山", "人民", "解放", "建设", "长江", "和平", "新华", "友谊")
_STREETS = ("Main Street", "Oak Ave", "Park Rd", "Elm Street", "River Rd")


def valid_id_number(region: str, birth: str, seq: int) -> str:
    """An 18-character resident ID number with its ISO 7064 MOD 11-2 check character."""
    body = f"{region}{birth}{seq:03d}"
    return body + "10X98765432"[int((np.array(list(body), dtype=int) * _ID_WEIGHTS).sum() % 11)]


def luhn_card(body: str) -> str:
    """``body`` plus its Luhn check digit."""
    digits = [int(c) for c in reversed(body)]
    total = sum(d * 2 - 9 * (d * 2 > 9) if i % 2 == 0 else d for i, d in enumerate(digits))
    return body + str((10 - total % 10) % 10)


def _people(customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One row of personal values per customer (raw, unformatted)."""
    n = len(customers)
    births = pd.to_datetime(customers["birth_date"]).fillna(pd.Timestamp("1990-01-01")).dt.strftime("%Y%m%d")
    ids = [valid_id_number(_REGIONS[rng.integers(len(_REGIONS))], b, int(rng.integers(1, 999))) for b in births]
    bins = ("622202", "621700", "622848", "625807")
    cards = [
        luhn_card(bins[i % 4] + "".join(map(str, rng.integers(0, 10, 9 if i % 3 else 12))))
        for i in range(n)
    ]
    addresses = [
        f"{city}市{_DISTRICTS[rng.integers(len(_DISTRICTS))]}区{_ROADS[rng.integers(len(_ROADS))]}路"
        f"{rng.integers(1, 999)}号{rng.integers(1, 30)}栋{rng.integers(1, 2500)}室"
        for city in customers["city"].astype(str)
    ]
    english = [
        f"{rng.integers(1, 999)} {_STREETS[rng.integers(len(_STREETS))]}, Apt {rng.integers(1, 60)}"
        for _ in range(n)
    ]
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].astype(str).to_numpy(),
            "name": customers["name"].astype(str).to_numpy(),
            "phone": customers["phone"].astype(str).to_numpy(),
            "email": customers["email"].astype(str).to_numpy(),
            "id_number": ids,
            "bank_card": cards,
            "address": addresses,
            "address_en": english,
        }
    )


def _phone_styles(phones: pd.Series, styles: tuple[str, ...]) -> pd.Series:
    """Phones written in rotating styles: plain, ``+86 138 1234 5678``, ``138-1234-5678`` ..."""
    out = []
    for i, p in enumerate(phones.astype(str)):
        style = styles[i % len(styles)]
        out.append({
            "plain": p,
            "spaced": f"+86 {p[:3]} {p[3:7]} {p[7:]}",
            "dashed": f"{p[:3]}-{p[3:7]}-{p[7:]}",
            "prefixed": f"+86-{p}",
            "zero": f"0086{p}",
        }[style])  # fmt: skip
    return pd.Series(out, index=phones.index)


def _card_styles(cards: pd.Series) -> pd.Series:
    return pd.Series(
        [c if i % 2 else " ".join(c[j:j + 4] for j in range(0, len(c), 4)) for i, c in enumerate(cards)],
        index=cards.index,
    )


def _fmt_time(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d %H:%M:%S")


def _flag(values: pd.Series) -> pd.Series:
    return values.map({True: "1", False: "0"}).astype(object).where(values.notna(), "")


def _frames(seed: int) -> dict[str, pd.DataFrame]:
    data = generate(300, seed=seed, start="2024-01-01", end="2025-12-31", as_of="2025-09-30")
    rng = np.random.default_rng(seed)
    people = _people(data.customers, rng).set_index("customer_id")
    c = data.customers
    customers = pd.DataFrame({
        "会员ID": c["customer_id"], "姓名": c["name"],
        "手机号": _phone_styles(c["phone"], ("plain", "spaced", "dashed", "plain")),
        "邮箱": c["email"], "身份证号": people["id_number"].to_numpy(),
        "地址": people["address"].to_numpy(), "银行卡号": _card_styles(people["bank_card"]).to_numpy(),
        "性别": c["gender"], "出生日期": pd.to_datetime(c["birth_date"]).dt.strftime("%Y-%m-%d"),
        "城市": c["city"], "注册日期": _fmt_time(c["signup_date"]),
        "获客渠道": c["acquisition_channel"], "会员等级": c["member_level"],
        "同意营销": np.where(rng.random(len(c)) < 0.25, "否", "是"),
    })  # fmt: skip
    o = data.orders
    op = people.loc[o["customer_id"].astype(str)].reset_index(drop=True)
    orders = pd.DataFrame({
        "订单号": o["order_id"], "会员ID": o["customer_id"], "下单时间": _fmt_time(o["order_time"]),
        "实付金额": o["amount"].round(2), "渠道": o["channel"], "订单状态": o["status"],
        "是否退款": o["is_refund"].map({True: "是", False: "否"}), "数量": o["quantity"],
        "品类": o["product_category"],
        "收货人": op["name"], "手机号": op["phone"],  # plain digits: read as numbers
        "收货地址": op["address"], "买家邮箱": op["email"], "证件号码": op["id_number"], "卡号": op["bank_card"],
    })  # fmt: skip
    k = data.campaign_contacts
    kp = people.loc[k["customer_id"].astype(str)].reset_index(drop=True)
    contacts = k.assign(contact_time=_fmt_time(k["contact_time"]))
    for col in ("delivered", "opened", "clicked", "visited", "converted"):
        contacts[col] = _flag(k[col])
    contacts = contacts.assign(
        full_name=kp["name"], 手机=kp["phone"], email=kp["email"], address=kp["address_en"],
        id_card=kp["id_number"], bank_card=kp["bank_card"],
    )  # fmt: skip
    e = data.events
    ep = people.loc[e["customer_id"].astype(str)].reset_index(drop=True)
    events = e.assign(
        event_time=_fmt_time(e["event_time"]), customer_name=ep["name"],
        ref=_phone_styles(ep["phone"], ("spaced", "zero", "plain")), 邮箱=ep["email"],
        收件地址=ep["address"], memo=ep["id_number"], card_number=ep["bank_card"],
    )  # fmt: skip
    t = data.tickets
    tp = people.loc[t["customer_id"].astype(str)].reset_index(drop=True)
    tickets = pd.DataFrame({
        "工单号": t["ticket_id"], "会员ID": t["customer_id"], "创建时间": _fmt_time(t["opened_at"]),
        "首次响应时间": _fmt_time(t["first_response_at"]), "解决时间": _fmt_time(t["resolved_at"]),
        "满意度": t["satisfaction"], "渠道": t["channel"], "类型": t["category"],
        "是否投诉": t["is_complaint"].map({True: "是", False: "否"}),
        "客户姓名": tp["name"], "联系电话": _phone_styles(tp["phone"], ("dashed", "prefixed")),
        "电子邮箱": tp["email"], "身份证号": tp["id_number"], "联系地址": tp["address"],
        "银行卡号": _card_styles(tp["bank_card"]),
    })  # fmt: skip
    return {"customers": customers, "orders": orders, "campaign_contacts": contacts,
            "events": events, "tickets": tickets}  # fmt: skip


_FILES = {"customers": ("customers.csv", "gbk"), "orders": ("orders.csv", "utf-8-sig"),
          "campaign_contacts": ("campaign_contacts.parquet", "utf-8"), "events": ("events.csv", "utf-8"),
          "tickets": ("tickets.csv", "utf-8")}  # fmt: skip
_MAPPINGS = {
    "customers": {"customer_id": "会员ID", "name": "姓名", "phone": "手机号", "email": "邮箱",
                  "id_number": "身份证号", "address": "地址", "gender": "性别", "birth_date": "出生日期",
                  "city": "城市", "signup_date": "注册日期", "acquisition_channel": "获客渠道",
                  "member_level": "会员等级", "marketing_consent": "同意营销"},
    "orders": {"order_id": "订单号", "customer_id": "会员ID", "order_time": "下单时间", "amount": "实付金额",
               "channel": "渠道", "status": "订单状态", "is_refund": "是否退款", "quantity": "数量",
               "product_category": "品类"},
    "campaign_contacts": {c: c for c in ("customer_id", "campaign_id", "arm", "contact_time", "channel",
                                         "cost", "delivered", "opened", "clicked", "visited", "converted",
                                         "revenue", "pre_period_revenue")},
    "events": {c: c for c in ("customer_id", "event_time", "event_name", "channel", "session_id",
                              "campaign_id")},
    "tickets": {"ticket_id": "工单号", "customer_id": "会员ID", "opened_at": "创建时间",
                "first_response_at": "首次响应时间", "resolved_at": "解决时间", "satisfaction": "满意度",
                "channel": "渠道", "category": "类型", "is_complaint": "是否投诉"},
}  # fmt: skip
_ANALYSES = """\
analyses:
  data_profiling: {enabled: true}
  segmentation:
    enabled: true
    clustering: {k: 3}
    clv: {calibration_end: 2025-03-31}
  churn:
    enabled: true
    label: {kind: non_contractual, definition: inactivity, inactivity_days: 90}
    group_by: [acquisition_channel, member_level, gender]
  campaign:
    enabled: true
    control_arm: control
    uplift: {campaign: spring_coupon_2025, treatment_arm: treatment}
"""


def _params_yaml() -> str:
    lines = [
        "name: pii_fixture",
        'title: "Planted personal data"',
        "as_of: 2025-09-30",
        "launch_date: 2024-01-01",
        "seed: 7",
        "tables:",
    ]
    for table, (file, encoding) in _FILES.items():
        lines += [f"  {table}:", f"    path: {file}", f"    encoding: {encoding}", "    columns:"]
        lines += [f"      {canon}: {header}" for canon, header in _MAPPINGS[table].items()]
    return "\n".join(lines) + "\n" + _ANALYSES


def _planted(frames: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    """Kind -> every distinct raw value written, plus the bare digits of phones and cards."""
    found: dict[str, set[str]] = {}
    for table, cols in PLANTED_COLUMNS.items():
        for header, kind in cols.items():
            values = frames[table][header].dropna().astype(str)
            found.setdefault(kind, set()).update(values)
            if kind in ("phone", "bank_card"):
                digits = values.str.replace(r"\D", "", regex=True)
                if kind == "phone":
                    digits = digits.str[-11:]
                found[kind].update(digits)
    return {kind: sorted(v) for kind, v in found.items()}


def write_pii_dataset(folder: Path, *, seed: int = 0) -> tuple[Path, dict[str, list[str]]]:
    """Write the planted-personal-data dataset and its params file.

    About 300 customers, 2,400 order lines over 2024-2025, three campaigns (two with a control
    arm, converted and revenue), funnel events and tickets. Every table carries a column of every
    personal-data kind (:data:`PLANTED_COLUMNS`): in customers five are mapped contract columns;
    the rest are unmapped extras, some as text, some as numbers (campaign_contacts.parquet holds 手机
    as int64), phones also as ``+86 138 1234 5678``, ``138-1234-5678``,
    ``+86-138...`` and ``0086138...``.

    Parameters
    ----------
    folder : pathlib.Path
        Created if missing; receives ``customers.csv`` (GBK) ... ``tickets.csv`` and
        ``pii_fixture.yaml``.
    seed : int, default 0
        Seed of the synthetic base and the planted values.

    Returns
    -------
    params : pathlib.Path
        The params file.
    planted : dict of str to list of str
        Kind -> every distinct planted value as written (and the bare digits of phones and bank
        cards, as they appear once read as numbers).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = _frames(seed)
    for table, (file, encoding) in _FILES.items():
        if file.endswith(".parquet"):  # a typed source: the phones are int64 numbers
            typed = frames[table].assign(手机=pd.to_numeric(frames[table]["手机"]).astype("int64"))
            typed.to_parquet(folder / file, index=False)
        else:
            frames[table].to_csv(folder / file, index=False, encoding=encoding)
    params = folder / "pii_fixture.yaml"
    params.write_text(_params_yaml(), encoding="utf-8")
    return params, _planted(frames)
