"""Profiling never shows a value of a personal-data column, raw or masked (issue 11), and its
personal-data section lists what intake found, why and how it was treated, with right counts."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.text import Text

from workbench import profiling
from workbench.core.contract import ColumnReport, LoadedTable, apply_contract
from workbench.core.pii import PersonalColumn
from workbench.core.privacy import mask_value
from workbench.profiling.personal import hidden_label, personal_columns

matplotlib.use("Agg")

AS_OF = "2024-06-30"
NAMES = ["张三丰", "李四光", "王五常", "赵六顺", "钱七宝", "孙八戒"]
PHONES = ["13812345678", "13987654321", "13700001111", "13655556666", "13522223333", "13399990000"]
PHONES_INT = [15811112222, 15833334444, 15855556666, 15877778888, 15899990000, 15800001234]
ADDRESSES = ["北京市朝阳区建国路88号", "上海市浦东新区世纪大道100号", "广州市天河区体育西路1号",
             "深圳市南山区科技园2号", "杭州市西湖区文三路3号", "成都市武侯区天府大道4号"]  # fmt: skip
UNREADABLE = ["158-1111-222x", "电话待补"]  # intake could not read these phone values

PERSONAL = [
    PersonalColumn("customers", "name", "姓名", "name", "contract", 1.0, 6, "mask"),
    PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 6, "mask"),
    PersonalColumn("customers", "电话", "电话", "phone", "content", 1.0, 6, "pseudonymize"),
    PersonalColumn("customers", "收货地址", "收货地址", "address", "header", None, 0, "mask"),
    PersonalColumn("orders", "email", "邮箱", "email", "header", None, 0, "drop"),
    PersonalColumn("orders", "备注", "备注", "phone", "content", 0.62, 2000, "pseudonymize"),
]


def _customers() -> LoadedTable:
    raw = pd.DataFrame(
        {
            "会员ID": [f"C{i}" for i in range(1, 7)],
            "姓名": NAMES,
            "手机号": PHONES,
            "电话": pd.Series(PHONES_INT, dtype="int64"),
            "收货地址": ADDRESSES,
            "城市": ["北京", "上海", "广州", "深圳", "杭州", "成都"],
        }
    )
    t = apply_contract(raw, "customers", columns={"customer_id": "会员ID", "name": "姓名", "phone": "手机号", "city": "城市"})
    # the intake report of 电话 names two values it could not read (a phone's own examples)
    reports = [r if r.column != "电话" else ColumnReport("customers", "电话", "电话", "number", 6, n_unparseable=2,
                                                         examples=list(UNREADABLE)) for r in t.columns]  # fmt: skip
    return LoadedTable(t.name, t.frame, t.source, reports)


def _forbidden() -> list[str]:
    """Every raw and masked value, and the int64 phones as the profile would format them."""
    raw = NAMES + PHONES + ADDRESSES + UNREADABLE + [str(p) for p in PHONES_INT]
    masked = [mask_value("name", v) for v in NAMES] + [mask_value("phone", v) for v in PHONES + PHONES_INT]
    masked += [mask_value("generic", v) for v in ADDRESSES]
    formatted = [f"{p:,}" for p in PHONES_INT] + [f"{float(p):.6g}" for p in PHONES_INT]
    return raw + masked + formatted


def _assert_no_value(text: str) -> None:
    leaked = [v for v in _forbidden() if v in text]
    assert leaked == [], f"personal values shown: {leaked}"


@pytest.fixture(scope="module")
def prof() -> profiling.DataProfile:
    return profiling.profile_tables({"customers": _customers()}, as_of=AS_OF, personal_data=PERSONAL, random_state=0)


def _figure_text(fig: object) -> str:
    fig = fig.figure if hasattr(fig, "figure") and not isinstance(fig, plt.Figure) else fig
    texts = [t.get_text() for t in fig.findobj(Text)]
    plt.close("all")
    return " ".join(texts)


def test_profile_and_alerts_show_no_personal_value(prof):
    tp = prof.profiles["customers"]
    al = prof.alerts()
    text = " ".join([
        prof.to_frame().to_string(), prof.summary().to_string(), prof.finding(), prof._repr_html_(),
        tp.to_frame().to_string(), tp.summary().to_string(), tp.finding(), tp._repr_html_(),
        al.to_string(), al.to_csv(index=False),  # the notebook saves this frame as alerts.csv
        " ".join(prof.findings()), prof.section_finding("alerts"), repr(prof.all_alerts),
        prof.columns("customers").to_csv(), profiling.intake_report({"customers": _customers()},
                                                                     personal_data=PERSONAL).to_csv(),
    ])  # fmt: skip
    _assert_no_value(text)
    assert "13812345678" in _customers().frame.to_string()  # the check would see them


def test_personal_columns_show_counts_and_a_label_only(prof):
    tp = prof.profiles["customers"]
    assert set(tp.pii) == {"name", "phone", "电话", "收货地址"}
    assert not set(tp.pii) & set(tp.top_values)
    st = tp.stats
    assert st.loc["电话", "top"] == "personal data (phone), values hidden"
    assert st.loc["收货地址", "top"] == "personal data (address), values hidden"
    assert (st.loc[list(tp.pii), "kind"] == "personal").all()
    assert st.loc[list(tp.pii), ["n_missing", "n_distinct"]].to_numpy().tolist() == [[0, 6]] * 4
    for stat in ("min", "max", "mean", "median", "date_min"):
        assert stat not in st or st.loc[list(tp.pii), stat].isna().all(), stat
    assert "电话" not in tp.numeric_sample and "电话" not in tp.spearman
    with pytest.raises(KeyError, match="personal data"):
        prof.top_values("customers", "电话")
    pd_alerts = prof.alerts(kind="personal_data").set_index("column")["message"]
    assert pd_alerts["电话"].endswith("personal data (phone), values hidden in this report (counts only)")
    assert set(prof.alerts(kind=["unique", "high_cardinality", "skewed"])["column"]) & set(tp.pii) == set()
    unread = prof.alerts(kind="unparseable").set_index("column")
    assert unread.loc["电话", "examples"] == "" and "values hidden" in unread.loc["电话", "message"]


def test_charts_show_no_personal_value(prof):
    text = " ".join(_figure_text(f) for f in (prof.plot_numeric("customers"), prof.plot_missing("customers"),
                                              prof.plot(), prof.profiles["customers"].plot()))  # fmt: skip
    _assert_no_value(text)
    assert "电话" not in text.split("missing")[0]  # no histogram of the int64 phones


def test_constant_personal_column_names_no_value():
    t = _customers()
    frame = t.frame.assign(phone="13812345678")
    prof = profiling.profile_tables({"customers": LoadedTable(t.name, frame, t.source, t.columns)}, as_of=AS_OF,
                                    personal_data=PERSONAL)  # fmt: skip
    const = prof.alerts(kind="constant")
    assert list(const["column"]) == ["phone"] and const["examples"].iloc[0] == ""
    assert "hidden: personal data" in const["message"].iloc[0]
    _assert_no_value(prof.alerts().to_csv())


def test_standalone_use_hides_contract_columns_and_allowed_shows_raw():
    prof = profiling.profile_tables({"customers": _customers()}, as_of=AS_OF)  # no detections given
    tp = prof.profiles["customers"]
    assert {"name", "phone"} <= set(tp.pii) and not {"name", "phone"} & set(tp.top_values)
    assert personal_columns("customers", _customers().frame, None)["name"] == "name"
    raw = profiling.profile_tables({"customers": _customers()}, as_of=AS_OF, personal_data=PERSONAL,
                                   allow_personal_data=True)  # fmt: skip
    assert raw.top_values("customers", "phone")["value"].iloc[0] in PHONES
    assert "shown raw" in " ".join(raw.alerts(kind="personal_data")["message"])
    assert hidden_label(None) == "personal data, values hidden"


def test_section_lists_columns_reasons_and_treatments_never_values():
    rep = profiling.personal_data_section(PERSONAL, allow_personal_data=False, default_secret=False)
    s = rep.summary()
    assert list(s.columns) == ["table", "column", "source_header", "kind", "found_by", "treatment"]
    assert list(s["column"]) == ["name", "phone", "电话", "收货地址", "email", "备注"]
    assert list(s["treatment"]) == ["masked", "masked", "pseudonymized (keyed)", "masked", "dropped",
                                    "pseudonymized (keyed)"]  # fmt: skip
    assert s["found_by"].iloc[0] == "contract column (name)"
    assert s["found_by"].iloc[3] == "header '收货地址' is an address synonym"
    assert s["found_by"].iloc[5] == "content: 62.0 % of 2,000 checked values look like a phone number"
    assert rep.finding() == ("6 columns in 2 tables hold personal data; all masked, pseudonymized or dropped "
                             "before analysis (3 masked, 2 pseudonymized, 1 dropped); none shown raw. This "
                             "report shows their counts only, never their values.")  # fmt: skip
    assert "WARNING" not in rep.finding()
    text = " ".join([s.to_string(), rep.to_frame().to_csv(), rep.finding(), rep._repr_html_(), repr(rep),
                     str(rep.metrics()), _figure_text(rep.plot())])  # fmt: skip
    _assert_no_value(text)
    assert repr(rep) == "PersonalDataReport(columns=6, tables=2)"


def test_section_metrics_count_kinds_and_treatments():
    m = profiling.personal_data_section(PERSONAL, allow_personal_data=False, default_secret=True).metrics()
    assert m["columns"] == 6 and m["tables"] == 2
    assert m["by_kind"] == {"name": 1, "phone": 3, "email": 1, "address": 1}
    assert m["by_treatment"] == {"mask": 3, "pseudonymize": 2, "drop": 1}
    assert m["by_detected_by"] == {"contract": 2, "header": 2, "content": 2}
    assert m["by_table"] == {"customers": 4, "orders": 2}
    assert m["default_secret"] is True and m["allow_personal_data"] is False


def test_section_warns_loudly():
    kept = [PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 6, "keep")]
    rep = profiling.personal_data_section(kept, allow_personal_data=True, default_secret=True, secret_env="MY_KEY")
    text = rep.finding()
    assert text.startswith("1 column in 1 table hold personal data; 1 kept raw because "
                           "privacy.allow_personal_data is true.")  # fmt: skip
    assert "WARNING: privacy.allow_personal_data is true" in text
    assert "WARNING: pseudonyms use the shipped default secret: set privacy.salt or the MY_KEY" in text
    assert len(rep.warnings()) == 2
    none = profiling.personal_data_section([], allow_personal_data=False, default_secret=False)
    assert none.finding().startswith("No personal data found") and none.metrics()["columns"] == 0
    assert none.summary().empty and none.plot() is not None
    plt.close("all")


def test_clean_artifacts_neither_masks_twice_nor_brings_back_a_dropped_column():
    treated = pd.DataFrame({"customer_id": ["C1"], "phone": ["138****5678"], "email": [None]})
    out = profiling.clean_artifacts({"customers": treated}, personal_data=[
        PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 1, "mask"),
        PersonalColumn("customers", "email", "邮箱", "email", "contract", None, 0, "drop")])  # fmt: skip
    assert list(out["clean_customers"].columns) == ["customer_id", "phone"]
    assert out["clean_customers"]["phone"].tolist() == ["138****5678"]
    assert treated.columns.tolist() == ["customer_id", "phone", "email"]  # input untouched
    fallback = profiling.clean_artifacts({"customers": pd.DataFrame({"customer_id": ["C1"], "phone": ["13812345678"]})})
    assert fallback["clean_customers"]["phone"].iloc[0] != "13812345678"
