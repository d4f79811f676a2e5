"""The report page (run/html.py) without a browser: language, language cells, summary first,
the table of contents, the translated frame and the embedded CJK font (report/fonts.py).

The notebooks are built by hand with their outputs (no kernel), so every case runs in about a
second.
"""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from workbench.report import fonts
from workbench.run.html import render_report

#: A 1x1 PNG, as an executed cell's image output holds it.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

SUMMARY_ZH = ('<section id="summary" class="wb-summary"><h2>摘要</h2><ol class="wb-key-findings">'
              '<li><span class="wb-finding">流失率为 21.0 %。</span></li></ol></section>')
SUMMARY_EN = ('<section id="summary" class="wb-summary"><h2>Summary</h2><ol class="wb-key-findings">'
              '<li><span class="wb-finding">Churn is 21.0 %.</span></li></ol></section>')
TABLE = "<table><thead><tr><th>渠道 channel</th><th>n</th></tr></thead><tbody><tr><td>app</td><td>12</td></tr></tbody></table>"


def _md(source: str, *tags: str) -> nbformat.NotebookNode:
    return new_markdown_cell(source, metadata={"tags": list(tags)} if tags else {})


def _html_output(code: str, html: str, *tags: str) -> nbformat.NotebookNode:
    cell = new_code_cell(code, metadata={"tags": list(tags)} if tags else {})
    cell.outputs = [new_output("display_data", data={"text/html": html, "text/plain": "<HTML>"})]
    return cell


def converted_notebook() -> nbformat.NotebookNode:
    """A notebook as the converted ones look: title, parameters, setup, two sections with a cell
    per language, a table, a figure, a warning on stderr, and the summary cell last."""
    params = new_code_cell('params_file = "params/example.yaml"', metadata={"tags": ["parameters"]})
    figure = new_code_cell("ctx.show(fig, 'rates')")
    figure.outputs = [new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
                      new_output("display_data", data={"text/html": '<p class="wb-caption">图 1：流失率</p>'}),
                      new_output("stream", name="stderr", text="UserWarning: leftover\n")]
    return new_notebook(cells=[
        _md("# Churn: who leaves", "lang-en"),
        _md("# 客户流失分析", "lang-zh"),
        params,
        _html_output("ctx = session.start()", "<p><strong>setup line</strong></p>"),
        _md("## 1. How many leave?", "lang-en"),
        _md("## 1. 有多少客户流失？", "lang-zh"),
        _html_output("rates.summary()", TABLE),
        figure,
        _md("## 2. What to do", "lang-en"),
        _md("## 2. 怎么办", "lang-zh"),
        _html_output("ctx.summarize(churn.key_findings(...));", SUMMARY_ZH, "summary"),
    ])


def render(tmp_path: Path, nb: nbformat.NotebookNode, language: str, **kwargs) -> str:
    path = tmp_path / f"{language}.ipynb"
    nbformat.write(nb, str(path))
    kwargs.setdefault("title", "Example · Churn")
    out = render_report(path, tmp_path / f"{language}.html", language=language, **kwargs)
    return out.read_text(encoding="utf-8")


def ids(page: str) -> set[str]:
    import html

    return {html.unescape(v) for v in re.findall(r'\bid="([^"]*)"', page)}


def toc_hrefs(page: str) -> list[str]:
    import html

    nav = re.search(r'<nav id="toc".*?</nav>', page, re.DOTALL)
    assert nav, "no <nav id=toc>"
    return [html.unescape(h) for h in re.findall(r'href="#([^"]*)"', nav.group(0))]


def main_text(page: str) -> str:
    return re.sub(r"<style.*?</style>", "", page, flags=re.DOTALL)


def test_chinese_report_keeps_chinese_cells_and_puts_summary_then_toc_after_title(tmp_path):
    page = render(tmp_path, converted_notebook(), "zh")
    assert '<html lang="zh-CN">' in page
    body = main_text(page)
    assert "客户流失分析" in body and "有多少客户流失" in body
    assert "Churn: who leaves" not in body and "How many leave" not in body
    order = [body.index(s) for s in ("客户流失分析", 'id="summary"', '<nav id="toc"', "setup line", '<h2 id="1.-')]
    assert order == sorted(order), order
    assert body.count('id="summary"') == 1


def test_english_report_drops_chinese_cells(tmp_path):
    nb = converted_notebook()
    nb.cells[-1].outputs[0].data["text/html"] = SUMMARY_EN
    page = render(tmp_path, nb, "en")
    assert '<html lang="en">' in page
    body = main_text(page)
    assert "How many leave" in body and "有多少客户流失" not in body and "客户流失分析" not in body
    assert body.index("Churn: who leaves") < body.index('id="summary"') < body.index('<nav id="toc"')


def test_toc_is_numbered_and_every_link_resolves(tmp_path):
    page = render(tmp_path, converted_notebook(), "zh")
    hrefs = toc_hrefs(page)
    assert len(hrefs) == 2  # the two sections; the summary's and the sources' headings are not sections
    assert set(hrefs) <= ids(page)
    nav = re.search(r'<nav id="toc".*?</nav>', page, re.DOTALL).group(0)
    assert "<ol>" in nav and "<h2>目录</h2>" in nav
    assert re.findall(r"<li><a [^>]*>([^<]*)</a>", nav) == ["有多少客户流失？", "怎么办"]  # numbers come from <ol>


def test_heading_without_id_gets_one(tmp_path):
    nb = converted_notebook()
    nb.cells.insert(7, _html_output("display(HTML(...))", "<h2>Output heading</h2>"))
    page = render(tmp_path, nb, "en")
    hrefs = toc_hrefs(page)
    assert "wb-section-2" in hrefs and set(hrefs) <= ids(page)


def test_notebook_not_yet_converted_keeps_its_order(tmp_path):
    """No lang tags, no summary cell: nothing is dropped or moved; the contents follow the title."""
    nb = new_notebook(cells=[_md("# 客户流失分析 · Churn"), _html_output("x", "<p>first output</p>"),
                             _md("## 1. Rates"), _md("## 2. Survival")])
    page = render(tmp_path, nb, "zh")
    body = main_text(page)
    order = [body.index(s) for s in ("客户流失分析", '<nav id="toc"', "first output", '<h2 id="1.-Rates"', '<h2 id="2.-Survival"')]
    assert order == sorted(order)
    assert 'id="summary"' not in body
    assert len(toc_hrefs(page)) == 2 and set(toc_hrefs(page)) <= ids(page)


def test_frame_is_translated(tmp_path):
    provenance = {"fingerprint": "abc123",
                  "inputs": [{"table": "orders", "path": "/data/orders.csv", "sha256": "f" * 64}],
                  "artifacts_read": [{"analysis": "segmentation", "name": "segments.parquet",
                                      "run": "example-1", "fingerprint": "e" * 64}]}
    facts = [("Dataset", "example"), ("As of", "2025-09-30"), ("Own label", "x")]
    zh = render(tmp_path, converted_notebook(), "zh", facts=facts, status="failed: ValueError: bad",
                provenance=provenance)
    assert "<dt>数据集</dt><dd>example</dd>" in zh
    assert "<dt>分析基准日</dt><dd>2025年9月30日</dd>" in zh
    assert "<dt>Own label</dt>" in zh
    assert '<dt>状态</dt><dd><span class="wb-status wb-failed">失败: ValueError: bad</span>' in zh
    assert "<h2>数据来源</h2>" in zh and "<th>校验和（SHA-256）</th>" in zh
    assert "<td>输入文件</td><td>orders</td><td>orders.csv</td>" in zh and "运行 example-1" in zh
    assert "输入指纹 <code>abc123</code>" in zh
    en = render(tmp_path, converted_notebook(), "en", facts=facts, provenance=provenance)
    assert "<dt>As of</dt><dd>30 Sep 2025</dd>" in en and "<h2>Where the data came from</h2>" in en
    assert '<span class="wb-status wb-ok">ok</span>' in en


def test_page_embeds_the_cjk_glyphs_it_uses(tmp_path):
    from fontTools.ttLib import TTFont

    page = render(tmp_path, converted_notebook(), "zh")
    face = re.search(r'@font-face \{ font-family: "WB CJK";.*?base64,([A-Za-z0-9+/=]+)\).*?unicode-range: ([^;]+);',
                     page, re.DOTALL)
    assert face, "no embedded CJK face"
    font = TTFont(io.BytesIO(base64.b64decode(face.group(1))))
    cmap = font.getBestCmap()
    for char in "客户流失分析有多少怎么办摘要目录渠道。？":
        assert ord(char) in cmap, char
    assert ord("甲") not in cmap  # only what the page uses
    assert "U+" in face.group(2)
    assert re.search(r'--wb-font: "WB CJK"', page)


def test_english_page_without_cjk_embeds_no_font(tmp_path):
    nb = converted_notebook()
    nb.cells[-1].outputs[0].data["text/html"] = SUMMARY_EN
    nb.cells[6].outputs[0].data["text/html"] = TABLE.replace("渠道 ", "")
    nb.cells[7].outputs[1].data["text/html"] = '<p class="wb-caption">Figure 1. Churn rates</p>'
    page = render(tmp_path, nb, "en")
    assert "@font-face" not in page


def test_font_face_ranges_and_characters():
    assert fonts.cjk_characters("丁一七 a，") == "一丁七，"
    face = fonts.cjk_font_face("一丁七")
    assert "unicode-range: U+4E00-4E01,U+4E03;" in face
    assert fonts.cjk_font_face("plain text · – →") == ""


@pytest.mark.parametrize("language", ["fr", "EN"])
def test_unknown_language_is_refused(tmp_path, language):
    with pytest.raises(ValueError, match="report.language"):
        render(tmp_path, converted_notebook(), language)


def test_only_the_long_column_of_a_too_wide_table_may_break_inside_words(tmp_path):
    long_word = "x" * 120  # about 925 px at 13 px: wider than the page's budget by itself
    wide = ("<table><thead><tr><th>rate</th><th>n</th><th>note</th></tr></thead><tbody>"
            f"<tr><td>0.398711</td><td>4033</td><td>{long_word}</td></tr></tbody></table>")
    nb = converted_notebook()
    nb.cells[6].outputs[0].data["text/html"] = wide + TABLE
    page = render(tmp_path, nb, "zh")
    assert '<th class="wb-break wb-break-print">note</th>' in page
    assert f'<td class="wb-break wb-break-print">{long_word}</td>' in page
    assert "<td>0.398711</td><td>4033</td>" in page and "<th>rate</th><th>n</th>" in page
    assert "<td>app</td><td>12</td>" in page  # the small table is left alone


def test_figure_takes_its_caption_as_alt_text(tmp_path):
    page = render(tmp_path, converted_notebook(), "zh")
    assert re.search(r'<img alt="图 1：流失率"[^>]* src="data:image/png;base64,', page)


def test_contract_columns_and_params_keys_are_set_as_code():
    from workbench.run.html import _with_identifiers_as_code

    page = ('<head><style>p.x{}</style></head><body><p>缺失最多的是 events.campaign_id，'
            '（cleaning.drop_exact_duplicates）见 orders.csv</p><code>orders.amount</code>'
            '<img alt="orders.amount"></body>')
    out = _with_identifiers_as_code(page)
    assert "<code>events.campaign_id</code>" in out and "<code>cleaning.drop_exact_duplicates</code>" in out
    assert "orders.csv" in out and "<code>orders.csv</code>" not in out  # a file name stays text
    assert out.count("<code>orders.amount</code>") == 1 and 'alt="orders.amount"' in out
    assert "<style>p.x{}</style>" in out
