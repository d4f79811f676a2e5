"""The index page: runs grouped by dataset, key findings, headline figures and their change since
the previous run of the dataset, in English and Chinese. Hand-written run folders, no kernel."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from workbench.report import fmt
from workbench.run import index

FOLDERS = {"data_profiling": "01_data_profiling", "segmentation": "02_segmentation_value",
           "churn": "03_churn", "campaign": "04_campaign_evaluation"}


def churn_metrics(rate: float, customers: int, net: float, *, findings: bool = True) -> dict[str, Any]:
    metrics: dict[str, Any] = {
        "frame": {"churn_rate": rate, "n_customers": customers},
        "evaluation": {"best": "hgb", "models": {"hgb": {"roc_auc": 0.81234}, "logistic": {"roc_auc": 0.7}}},
        "retention": {"expected net value": net},
    }
    if findings:
        metrics["summary"] = {"key_findings": [
            {"text": f"CHURN-FINDING rate {rate}", "action": "CALL-THE-AT-RISK"},
        ]}  # fmt: skip
    return metrics


def campaign_metrics(uplifts: list[float], revenues: list[float]) -> dict[str, Any]:
    arms = {f"arm{i}": {"diff": d} for i, d in enumerate(uplifts)}
    return {
        "campaigns": {"n_contacts": 2000},
        "comparisons": {"spring": {"comparisons": {"converted": arms, "visited": {"a": {"diff": 0.9}}}}},
        "incremental": {"arms": [{"incremental_revenue": r} for r in revenues]},
        "kpis": {"targets_met": 3},
    }


def write_run(reports: Path, name: str, started: str, analyses: dict[str, tuple[str, dict[str, Any] | None]],
              *, dataset: str = "shop", language: str = "en", currency: str = "$", pdf: bool = False) -> None:
    """A run folder: run.json and, per ok analysis with metrics, its metrics.json."""
    run_dir = reports / name
    entries = []
    for key, (status, metrics) in analyses.items():
        folder = FOLDERS[key]
        entry = {"key": key, "title": key, "status": status, "seconds": 2.0,
                 "notebook": f"{folder}/notebook.ipynb", "html": f"{folder}/report.html",
                 "metrics": None, "error": None if status == "ok" else "ValueError: boom"}
        if metrics is not None:
            (run_dir / folder).mkdir(parents=True)
            (run_dir / folder / "metrics.json").write_text(json.dumps({"metrics": metrics}), encoding="utf-8")
            entry["metrics"] = f"{folder}/metrics.json"
        if pdf:
            entry["pdf"] = f"{folder}/report.pdf"
        entries.append(entry)
    run_dir.mkdir(parents=True, exist_ok=True)
    record = {"dataset": dataset, "title": f"{dataset} title", "as_of": started[:10], "run_dir": name,
              "language": language, "currency": currency, "started": started, "finished": started,
              "status": "ok" if all(s == "ok" for s, _ in analyses.values()) else "failed",
              "error": None, "analyses": entries}
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture()
def reports(tmp_path: Path) -> Path:
    """shop: three runs (the middle one's churn failed); park: one run, newer than all of shop."""
    root = tmp_path / "reports"
    write_run(root, "shop-20250101-090000", "2025-01-01T09:00:00+00:00", {
        "churn": ("ok", churn_metrics(0.25, 1000, 5000.0)),
        "campaign": ("ok", campaign_metrics([0.02, 0.05], [1000.0, 500.0])),
    })  # fmt: skip
    write_run(root, "shop-20250201-090000", "2025-02-01T09:00:00+00:00", {
        "churn": ("failed", None),
        "campaign": ("ok", campaign_metrics([0.04], [2000.0])),
    })  # fmt: skip
    write_run(root, "shop-20250301-090000", "2025-03-01T09:00:00+00:00", {
        "churn": ("ok", churn_metrics(0.30, 1200, 4500.0, findings=False)),
        "campaign": ("ok", campaign_metrics([0.04], [2000.0])),
    }, pdf=True)  # fmt: skip
    write_run(root, "park-20250401-090000", "2025-04-01T09:00:00+00:00", {
        "churn": ("ok", churn_metrics(0.10, 50, 100.0)),
    }, dataset="park", language="zh", currency="¥")  # fmt: skip
    return root


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment (style and tags removed)."""
    fragment = re.sub(r"<style>.*?</style>", "", fragment, flags=re.DOTALL)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", fragment)))


def _section(page: str, element_id: str) -> str:
    """One analysis block of the page: from its ``id`` to the next analysis or the run's end."""
    start = page.index(f'id="{element_id}"')
    ends = [i for i in (page.find('class="analysis"', start), page.find("</article>", start)) if i > 0]
    return page[start:min(ends)]


def _row(fragment: str, label: str) -> str:
    """The text of the headline table row labelled ``label``."""
    for row in re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.DOTALL):
        text = _text(row).strip()
        if text.startswith(label):
            return text
    raise AssertionError(f"no row {label!r} in {_text(fragment)[:400]}")


def test_runs_grouped_by_dataset_newest_first(reports: Path) -> None:
    page = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    park, shop = page.index('id="ds-park"'), page.index('id="ds-shop"')
    assert park < shop, "the dataset with the newest run comes first"
    shop_html = page[shop:]
    runs = [shop_html.index(f'id="shop-2025{m}01-090000"') for m in ("03", "02", "01")]
    assert runs == sorted(runs), "newest run first within the dataset"
    assert "park-20250401-090000" not in shop_html
    assert "3 run(s), latest 1 Mar 2025 09:00" in _text(shop_html)
    assert "Earlier runs of this dataset (2)" in _text(shop_html)


def test_change_since_the_previous_run_with_that_analysis(reports: Path) -> None:
    page = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    churn = _section(page, "shop-20250301-090000-churn")
    # the churn of February failed: the change is against January
    assert _row(churn, "Churn rate") == "Churn rate 30.0 % 25.0 % ↑ +5.0 pp (+20.0 %)"
    assert _row(churn, "Customers in the churn analysis") == "Customers in the churn analysis 1,200 1,000 ↑ +200 (+20.0 %)"
    assert _row(churn, "Expected net value of the retention list") == \
        "Expected net value of the retention list $4,500 $5,000 ↓ -$500 (-10.0 %)"
    assert _row(churn, "AUC of the best churn model") == "AUC of the best churn model 0.812 0.812 → 0.000 (0.0 %)"
    assert 'class="bad" title="up">↑ +5.0 pp' in churn, "more churn is bad news"
    assert 'class="bad" title="down">↓ -$500' in churn
    assert "1 Jan 2025 09:00, as of 1 Jan 2025" in _text(churn)
    campaign = _section(page, "shop-20250301-090000-campaign")
    # against February (its latest earlier ok run): the same figures
    assert _row(campaign, "Largest conversion uplift of an arm") == "Largest conversion uplift of an arm 4.0 pp 4.0 pp → 0.0 pp (0.0 %)"
    older = _section(page, "shop-20250201-090000-campaign")
    # February against January: the largest arm uplift 5 -> 4 pp, revenue 1,500 -> 2,000
    assert _row(older, "Largest conversion uplift of an arm") == \
        "Largest conversion uplift of an arm 4.0 pp 5.0 pp ↓ -1.0 pp (-20.0 %)"
    assert _row(older, "Incremental revenue of the campaigns") == \
        "Incremental revenue of the campaigns $2,000 $1,500 ↑ +$500 (+33.3 %)"
    assert 'class="good" title="up">↑ +$500' in older


def test_first_run_has_no_change_and_failed_analysis_no_figures(reports: Path) -> None:
    page = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    first = _section(page, "shop-20250101-090000-churn")
    assert "Previous run" not in first and "↑" not in first and "↓" not in first
    assert "First run of this dataset with this analysis" in first
    failed = _section(page, "shop-20250201-090000-churn")
    assert "<table" not in failed and "ValueError: boom" in failed
    assert 'class="status failed"' in failed


def test_key_findings_links_and_pdf(reports: Path) -> None:
    page = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    first = _section(page, "shop-20250101-090000-churn")
    assert "CHURN-FINDING rate 0.25" in first and "→ CALL-THE-AT-RISK" in first
    newest = _section(page, "shop-20250301-090000-churn")
    assert "CHURN-FINDING" not in newest, "no summary recorded: no findings shown"
    assert 'href="shop-20250301-090000/03_churn/report.pdf">PDF</a>' in newest
    assert 'href="shop-20250301-090000/03_churn/report.html">Report</a>' in newest
    assert "report.pdf" not in first


def test_no_figure_with_more_than_three_decimals(reports: Path) -> None:
    page = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    text = _text(page.split("<body>", 1)[1])
    assert not re.search(r"\d[.,]\d{4,}", text.replace("CHURN-FINDING rate 0.25", ""))
    assert "0.812" in text and "0.81234" not in text


def test_chinese_labels_and_page_language(reports: Path) -> None:
    page = index.rebuild_index(reports, language="zh").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    churn = _section(page, "shop-20250301-090000-churn")
    assert "客户流失" in churn and "完成" in churn
    assert _row(churn, "流失率") == "流失率 30.0 % 25.0 % ↑ +5.0 pp (+20.0 %)"
    assert "本次" in churn and "上次" in churn and "变化" in churn
    assert "2025年1月1日 09:00" in _text(churn)
    park = _section(page, "park-20250401-090000-churn")
    assert "¥100" in _row(park, "挽留名单的预期净收益"), "each run's own currency"
    assert "font-family: \"WB CJK\"" in page, "the page's Chinese glyphs are embedded"
    english = index.rebuild_index(reports, language="en").read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "流失率" not in english and "Churn rate" in english


def test_page_language_defaults_to_the_newest_run(reports: Path) -> None:
    page = index.rebuild_index(reports).read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page, "park, the newest run, was in Chinese"


def test_headline_rows_known_answers() -> None:
    rows = index.headline_rows("segmentation",
                               {"abc": {"n_customers": 900, "top_20pct_share": 0.6512},
                                "clv": {"clv_total": 12345.6, "clv_mean": 13.717}},
                               {"abc": {"n_customers": 1000, "top_20pct_share": 0.7}},
                               currency="€")  # fmt: skip
    by = {r["label"]: r for r in rows}
    assert by["Customers"]["value"] == "900"
    assert by["Customers"]["change"]["absolute"] == "-100" and by["Customers"]["change"]["relative"] == "-10.0 %"
    assert by["Customers"]["change"]["tone"] == "bad"
    assert by["Revenue share of the top 20 % of customers"]["change"]["absolute"] == "-4.9 pp"
    assert by["Revenue share of the top 20 % of customers"]["change"]["tone"] == "neutral"
    assert by["CLV of the base"]["value"] == "€12,346" and by["CLV of the base"]["change"] is None
    assert index.headline_rows("segmentation", None) == []
    assert index.headline_rows("no_such_analysis", {"x": 1}) == []


def test_money_change_only_in_the_same_currency() -> None:
    rows = index.headline_rows("churn", churn_metrics(0.2, 10, 300.0), churn_metrics(0.2, 10, 200.0),
                               currency="$", previous_currency="¥")
    by = {r["label"]: r for r in rows}
    assert by["Expected net value of the retention list"]["change"] is None
    assert by["Churn rate"]["change"]["absolute"] == "0.0 pp"


def test_status_text_in_both_languages() -> None:
    assert index.status_text("skipped (needs churn, which was skipped)") == \
        "skipped (needs Churn analysis, which was skipped)"
    assert index.status_text("failed: ValueError: x") == "failed: ValueError: x"
    with fmt.use(language="zh"):
        assert index.status_text("ok") == "完成"
        assert index.status_text("skipped (needs data_profiling, which failed)") == "已跳过（所依赖的“数据概况与质量”失败）"
        assert index.status_text("failed: ValueError: x") == "失败: ValueError: x"
        assert index.analysis_title("campaign") == "营销活动评估"
        assert index.analysis_title("unknown_key", "Fallback") == "Fallback"


def test_empty_index_in_chinese(tmp_path: Path) -> None:
    page = index.rebuild_index(tmp_path / "r", language="zh").read_text(encoding="utf-8")
    assert "还没有运行记录" in page and '<html lang="zh-CN">' in page
