"""The profiling report reads in Chinese or English: every key in both catalogs, key findings
with hand-counted numbers on the hand-made tables, and Chinese texts without English sentences."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_profiling import (
    AS_OF,
    DATA_END,
    LAUNCH,
    OPTIONS,
    make_customers,
    make_events,
    make_orders,
)

from workbench import profiling
from workbench.core.pii import PII_KINDS, PersonalColumn
from workbench.data.cleaning import clean_tables
from workbench.profiling.alerts import ALERT_KINDS, SEVERITIES
from workbench.report import fmt, i18n

SRC = Path(__file__).resolve().parents[1] / "src" / "workbench"
FIELDS = re.compile(r"\{(\w+)\}")
PERSONAL = [PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 20, "mask")]


def _tables():
    return {"customers": make_customers(), "orders": make_orders(), "events": make_events()}


def _tickets() -> pd.DataFrame:
    opened = pd.Timestamp("2024-01-01 09:00")
    return pd.DataFrame({
        "ticket_id": [f"T{i}" for i in range(12)], "customer_id": ["C01"] * 12, "opened_at": [opened] * 12,
        "first_response_at": [opened + pd.Timedelta(hours=h) for h in range(1, 11)] + [pd.NaT, opened],
        "resolved_at": [opened + pd.Timedelta(hours=24)] * 8 + [pd.NaT, pd.NaT] + [opened + pd.Timedelta(hours=2)] * 2,
        "satisfaction": [5, 5, 4, 4, 4, 4, 4, 4, 2, 1, np.nan, 3], "channel": ["app"] * 10 + ["phone"] * 2,
    })  # fmt: skip


def _findings(language: str) -> list[str]:
    """Key findings and actions, section findings, alert messages and cleaning details of the
    hand-made tables, in ``language``."""
    with fmt.use(language=language, currency="¥"):
        tables = _tables()
        prof = profiling.profile_tables(tables, **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END,
                                        personal_data=PERSONAL, random_state=0)  # fmt: skip
        cleaned = clean_tables(tables, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
        personal = profiling.personal_data_section(PERSONAL, allow_personal_data=False, default_secret=False)
        kpis = profiling.service_kpis(_tickets())
        keys = [f for f in profiling.key_findings(prof, cleaned=cleaned, personal=personal, service=kpis) if f]
        texts = [x for f in keys for x in (f.text, f.action)]
        texts += [prof.section_finding(s) for s in ("overview", "alerts", "missing", "duplicates", "distributions",
                                                   "dates", "correlations", "crm")]  # fmt: skip
        texts += [cleaned.finding(), personal.finding(), kpis.finding(), prof.profiles["orders"].finding()]
        texts += list(prof.alerts()["message"]) + list(cleaned.log()["detail"])
        texts += list(prof.alert_table()["kind"]) + list(personal.summary()["found_by"])
    return texts


@pytest.fixture(scope="module")
def key_en():
    tables = _tables()
    prof = profiling.profile_tables(tables, **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END,
                                    personal_data=PERSONAL, random_state=0)  # fmt: skip
    cleaned = clean_tables(tables, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
    personal = profiling.personal_data_section(PERSONAL, allow_personal_data=False, default_secret=True)
    with fmt.use(currency="¥"):
        return prof, profiling.key_findings(prof, cleaned=cleaned, personal=personal,
                                            service=profiling.service_kpis(_tickets()))  # fmt: skip


def test_every_profiling_key_is_in_both_catalogs_with_the_same_fields():
    en, zh = i18n.catalog("en"), i18n.catalog("zh")
    ours = [k for k in en if k.startswith("profiling.")]
    assert len(ours) > 200
    for k in ours + [k for k in zh if k.startswith("profiling.")]:
        assert k in en and k in zh, k
        assert sorted(set(FIELDS.findall(en[k]))) == sorted(set(FIELDS.findall(zh[k]))), k
    assert not [c for c in i18n.CONFLICTS if "profiling.yaml" in c]


def _literal_keys() -> set[str]:
    """Every literal ``profiling.*`` key the profiling package and the cleaning step look up."""
    keys = set()
    files = [*(SRC / "profiling").glob("*.py"), SRC / "data" / "cleaning.py"]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                value = node.args[0].value
                if name in ("t", "say", "plural") and isinstance(value, str) and value.startswith("profiling."):
                    keys.add(value)
                elif name == "_say" and isinstance(value, str):
                    keys.add(f"profiling.cleaning.{value}")
    return keys


def test_every_key_the_code_uses_exists():
    keys = _literal_keys()
    assert len(keys) > 150
    for lang in i18n.LANGUAGES:
        cat = i18n.catalog(lang)
        missing = [k for k in keys if k not in cat and f"{k}.one" not in cat]
        assert missing == [], (lang, missing)
        for kind in ALERT_KINDS:
            assert f"categories.alert_kind.{kind}" in cat, kind
        for s in SEVERITIES:
            assert f"categories.severity.{s}" in cat and f"profiling.severity_count.{s}.one" in cat
        for k in PII_KINDS:
            assert {f"profiling.personal.kind.{k}", f"profiling.personal.a_kind.{k}", f"categories.pii_kind.{k}"} <= set(cat)


def test_key_findings_numbers_on_the_hand_made_tables(key_en):
    prof, findings = key_en
    cleaning_f, alerts_f, personal_f, dates_f, service_f = findings
    assert 3 <= len([f for f in findings if f]) <= 6
    # orders: 2 exact duplicates, 1 missing amount, 1 repeated O05, 1 future, 1 pre-launch = 6 of 156 rows
    assert cleaning_f.text.startswith("Cleaning removed 6 of 156 rows (3.8 %), most by the rule "
                                      "drop_exact_duplicates on orders (2 rows)")  # fmt: skip
    # flagged or corrected: customers 2 blanked sign-up dates + C08 flagged; orders 1 negative made a
    # refund, 2 orphans, 1 extreme-spender row
    assert "flagged or corrected 7 more rows" in cleaning_f.text
    assert "cleaning.drop_exact_duplicates" in cleaning_f.action
    n = len(prof.alerts())
    assert alerts_f.text.startswith(f"{n} data-quality alerts (2 errors, 12 warnings)")
    assert "on orders.amount, 1 row." in alerts_f.text and alerts_f.action.startswith("Resolve the errors")
    assert personal_f.text == ("1 column in 1 table hold personal data; intake treated them before any analysis "
                               "(1 masked).")  # fmt: skip
    assert "WORKBENCH_SECRET" not in personal_f.action  # nothing was pseudonymized
    assert dates_f.text == ("orders.order_time covers 5 Jan 2024 to 2 May 2024 (5 months): no month without rows, "
                            "0 spike days. 2 dates lie in the future or before the launch date.")  # fmt: skip
    # 12 tickets, CSAT of 11 scored: (37 + 3) / 11 = 3.64; 10 of 12 resolved; first responses 0..10 h -> 5.0 h
    assert service_f.text.startswith("12 service tickets: mean satisfaction 3.64 (")
    assert "83.3 % resolved, median first response 5.0 h. Lowest satisfaction: phone, 3.00." in service_f.text
    assert service_f.action.startswith("Keep monitoring")  # one phone score: no interval, not clearly lower


def test_key_findings_in_chinese_use_chinese_dates_and_separators():
    with fmt.use(language="zh"):
        tables = _tables()
        prof = profiling.profile_tables(tables, **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END,
                                        random_state=0)  # fmt: skip
        cleaned = clean_tables(tables, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
        cleaning_f, alerts_f, _, dates_f, _ = profiling.key_findings(prof, cleaned=cleaned)
    assert cleaning_f.text.startswith("清洗共删除 156 行中的 6 行（3.8 %）")
    assert dates_f.text.startswith("orders.order_time 覆盖2024年1月5日至2024年5月2日（5 个月）：没有空白月份")
    assert f"数据质量告警 {len(prof.alerts())} 条（错误 2 条，警告 12 条）" in alerts_f.text


_LATIN_SENTENCE = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,]+[A-Za-z][a-z]+){2,}\b")
#: Latin words that may stay in a Chinese text: technical terms, data values of the fixtures
_ALLOWED = {"Spearman", "rho", "Cram", "V", "CI", "app", "web", "mini", "ios", "pc", "wx", "phone", "paid",
            "refunded", "personal"}  # fmt: skip


def _prose(text: str) -> str:
    """The text without identifiers (``orders.amount``, ``cleaning.future_dates``, ``flag_orphan``),
    quoted values, dates and numbers: what is left is prose."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", str(text))
    text = re.sub(r"[\w.]*[._=][\w.]*|\d[\d,.:%-]*", " ", text)
    return text


def test_chinese_texts_have_no_english_sentence():
    texts = _findings("zh")
    assert len(texts) > 60
    for text in texts:
        prose = _prose(text)
        assert not _LATIN_SENTENCE.search(prose), text
    joined = "".join(_prose(x) for x in texts)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", joined))
    latin = len(re.findall(r"[A-Za-z]", joined))
    assert cjk / (cjk + latin) > 0.8, (cjk, latin)
    en = "".join(_prose(x) for x in _findings("en"))
    assert len(re.findall(r"[\u4e00-\u9fff]", en)) / max(len(re.findall(r"[A-Za-z]", en)), 1) < 0.05


def test_english_findings_start_with_a_capital_and_dates_read_in_the_language():
    texts = _findings("en")
    sentences = texts[:2 * 5] + texts[10:22]
    # a sentence starts with a capital, a figure, or the table or column it is about
    assert all(s[:1].isupper() or s[:1].isdigit() or re.match(r"[a-z_]+(\.\w+ |: )", s) for s in sentences), sentences
    with fmt.use(language="zh"):
        tables = _tables()
        prof = profiling.profile_tables(tables, **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
        future = prof.alerts(kind="future_dates", table="orders")["message"].iloc[0]
        assert "晚于今天（2026年1月1日）" in future and "有 1 行（共 16 行，6.2%）" in future
        assert prof.columns("customers").loc["phone", "top"] == "个人信息（手机号），已隐藏其值"
        labelled = prof.alert_table(kind="duplicates")
        assert labelled["kind"].tolist() == ["完全重复行"] and labelled["severity"].tolist() == ["警告"]
        assert prof.alerts(kind="duplicates")["kind"].tolist() == ["duplicates"]  # the codes stay
    assert prof.metrics()["alerts"]["by_kind"]["duplicates"] == 1


def test_money_in_texts_uses_the_run_currency():
    with fmt.use(currency="$"):
        prof = profiling.profile_tables(_tables(), **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
    ext = prof.alerts(kind="extreme_spenders")["message"].iloc[0]
    assert "C08 ($1,000,000)" in ext
    refunds = prof.alerts(kind="refunds")["message"].iloc[0]
    assert refunds.endswith("amount total -$30")
