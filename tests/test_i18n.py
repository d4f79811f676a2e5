"""The message catalogs: every key in every language with the same fields, no key defined twice,
Chinese text in the Chinese catalog, and the formatting rules of the language layer."""

from __future__ import annotations

import re
import string

import pytest

from workbench.report import fmt, i18n

HAN = re.compile(r"[\u4e00-\u9fff]")
#: Latin words a Chinese message may keep: technical terms, units and placeholders' neighbours.
TERMS = {
    "rfm", "clv", "auc", "roi", "roas", "cpa", "bg", "nbd", "cox", "qini", "kpi", "srm", "cuped", "wilson",
    "holm", "p", "ci", "csv", "html", "pdf", "id", "ab", "abc", "pareto", "gamma", "ks", "sla", "nps", "csat",
    "k", "pp", "vs", "hr", "or", "km", "log", "rank", "shap", "uplift", "sku", "app", "top", "sha", "utf",
    "gbk", "excel", "parquet", "duckdb", "spark", "ibis", "pii", "pipl", "hmac", "x", "t", "n", "r", "f", "m",
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_is_in_every_language() -> None:
    keys = {lang: set(i18n.catalog(lang)) for lang in i18n.LANGUAGES}
    for lang in i18n.LANGUAGES:
        for other in i18n.LANGUAGES:
            missing = sorted(keys[other] - keys[lang])
            assert not missing, f"{len(missing)} key(s) of {other} missing in {lang}: {missing[:20]}"


def test_every_message_has_the_same_fields_in_every_language() -> None:
    en = i18n.catalog("en")
    for lang in i18n.LANGUAGES[1:]:
        other = i18n.catalog(lang)
        wrong = [k for k in en if k in other and _fields(en[k]) != _fields(other[k])]
        assert not wrong, f"fields differ between en and {lang}: {[(k, en[k], other[k]) for k in wrong[:10]]}"


def test_no_key_is_defined_twice_with_different_text() -> None:
    for lang in i18n.LANGUAGES:
        i18n.catalog(lang)
    assert i18n.CONFLICTS == []


def test_chinese_messages_are_chinese() -> None:
    """A zh message with letters holds Chinese characters and no English word outside the
    technical terms (an untranslated copy of the English text fails here)."""
    untranslated = []
    for key, text in i18n.catalog("zh").items():
        body = re.sub(r"\{[^}]*\}", " ", text)
        body = re.sub(r"`[^`]*`|https?://\S+|<[^>]+>|[a-z_]+\.[a-z_.]+", " ", body)  # code, links, params keys
        words = [w for w in re.findall(r"[A-Za-z]+", body) if w.lower() not in TERMS]
        if words and not HAN.search(body):
            untranslated.append((key, text))
        elif len(words) >= 4 and re.search(r"[A-Za-z]+(\s+[A-Za-z]+){3,}", body):
            untranslated.append((key, text))
    assert not untranslated, f"{len(untranslated)} zh message(s) look English: {untranslated[:10]}"


def test_templates_fill() -> None:
    """Every template formats with its own fields (no stray brace breaks a report at run time)."""
    for lang in i18n.LANGUAGES:
        for key, text in i18n.catalog(lang).items():
            try:
                text.format_map({name: "x" for name in _fields(text)})
            except (ValueError, IndexError, KeyError) as err:
                pytest.fail(f"{lang} {key}: {text!r} does not format: {err}")


def test_language_follows_the_run_setting() -> None:
    assert i18n.t("common.summary.title") == "Summary"
    with fmt.use(language="zh"):
        assert i18n.t("common.summary.title") == "摘要"
        assert i18n.date_text("2025-09-30") == "2025年9月30日"
    assert i18n.date_text("2025-09-30") == "30 Sep 2025"


def test_labels_fall_back_to_a_readable_name() -> None:
    assert i18n.label("some_new_column") == "Some new column"
    assert i18n.label("会员等级") == "会员等级"  # the user's own column stays as it is
    assert i18n.category("no_such_group", "Beijing") == "Beijing"


def test_a_missing_key_is_a_defect() -> None:
    with pytest.raises(KeyError, match="no catalog"):
        i18n.t("nowhere.to.be.found")


def test_unknown_language_names_the_params_key() -> None:
    with pytest.raises(ValueError, match="report.language"):
        i18n.catalog("fr")
