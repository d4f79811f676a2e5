"""Personal data inside free text: tickets.text and feedback.text survive intake with phones,
e-mails, ID numbers and names masked INSIDE the text (not dropped, not pseudonymized whole), and
every quoted example a report shows is masked."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from workbench import service
from workbench.core.pii import FREE_TEXT_COLUMNS, personal_data_in_text
from workbench.core.privacy import mask_in_text
from workbench.run.intake import take_in
from workbench.run.params import load_params
from workbench.synth import example_params, write_example


def test_mask_in_text_masks_each_kind_and_keeps_the_rest():
    text = ("我是张伟，请回电13812345678或+86 139-1234-5678，邮箱zw@qq.com，身份证110101199003071234，"
            "卡号6222020200112233445，快递太慢了")  # fmt: skip
    out = mask_in_text(pd.Series([text, "This is Wei Zhang. Email me at li.na@example.com", None])).tolist()
    assert out[0] == ("我是张*，请回电138****5678或139****5678，邮箱z***@qq.com，身份证110***********1234，"
                      "卡号***************3445，快递太慢了")  # fmt: skip
    assert "li.na" not in out[1] and "l***@example.com" in out[1] and "Wei" not in out[1]
    assert out[2] is pd.NA or out[2] is None
    # nothing to mask: the text is unchanged
    assert mask_in_text(pd.Series(["订单 20250101 的物流太慢"])).iloc[0] == "订单 20250101 的物流太慢"


def test_counts_of_personal_data_in_text():
    counts = personal_data_in_text(pd.Series(["请回电13812345678", "a@b.cn 与 c@d.cn", "我是李娜，好的", "fine"]))
    assert counts["phone"] == 1 and counts["email"] == 1 and counts["name"] == 1 and counts["id_number"] == 0


def _params(out, **privacy):
    p = example_params(out)
    p["analyses"] = {}
    if privacy:
        p["privacy"] = privacy
    path = out / "params.yaml"
    path.write_text(yaml.safe_dump(p, allow_unicode=True), encoding="utf-8")
    return load_params(path)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("text_privacy")
    write_example(out, n_customers=400, seed=7)
    return out


def test_intake_masks_inside_ticket_and_feedback_text(example):
    from workbench.synth import generate

    base = generate(400, seed=7)
    params = _params(example)
    intake = take_in(params, ["customers", "tickets", "feedback"])
    names = set(base.customers["name"]) - {""}
    phones, emails = set(base.customers["phone"]), set(base.customers["email"])
    for table in FREE_TEXT_COLUMNS:
        text = intake.tables[table].frame["text"]
        assert text.notna().mean() > 0.9, f"{table}.text was dropped or blanked"
        joined = "\n".join(text.dropna().astype(str))
        assert not [p for p in phones if p and p in joined], f"raw phone in {table}.text"
        assert not [e for e in emails if e and e in joined], f"raw e-mail in {table}.text"
        assert not [n for n in names if f"我是{n}" in joined], f"raw name in {table}.text"
        assert "****" in joined and "***@" in joined  # masked, still there
        assert "快递" in joined or "物流" in joined  # the complaint itself survives
    rec = {(p.table, p.column): p for p in intake.personal}
    assert rec[("tickets", "text")].treatment == "mask" and rec[("feedback", "text")].treatment == "mask"


def test_allow_personal_data_keeps_the_text_raw(example):
    params = _params(example, allow_personal_data=True)
    intake = take_in(params, ["tickets"])
    rec = {(p.table, p.column): p for p in intake.personal}
    assert rec[("tickets", "text")].treatment == "keep"
    assert intake.tables["tickets"].frame["text"].str.contains(r"1[3-9]\d{9}", regex=True).any()


def test_a_forced_treatment_of_a_free_text_column_wins(example):
    params = _params(example, columns={"tickets.text": "drop"})
    intake = take_in(params, ["tickets"])
    assert "text" not in intake.tables["tickets"].frame.columns
    assert [(x.column, x.treatment) for x in intake.personal if x.column == "text"] == [("text", "drop")]


def test_quoted_examples_are_masked_again():
    q = service.quotes(pd.Series(["请回电13812345678，物流太慢", "邮箱zw@qq.com，退款没到", "x" * 300]), n=3, max_chars=50)
    assert q[0] == "请回电138****5678，物流太慢" and q[1].startswith("邮箱z***@qq.com")
    assert len(q[2]) == 50 and q[2].endswith("…")
