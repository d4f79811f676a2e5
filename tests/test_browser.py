"""The rendered reports in a real browser: headless Chromium (Playwright) at 1,280 px.

For every report of a real run of the bundled example (Chinese) and of IBM Telco (English):
nothing scrolls sideways, every image loaded, every contents link lands on a heading, the
summary comes first, Chinese is drawn with the embedded CJK face, and the console stays clean.
Full-page screenshots are saved next to each report (``<analysis>/screenshot.png``).

Playwright drives the system's Chromium (``/usr/bin/chromium``; ``playwright install`` is never
needed). Without Playwright or Chromium the tests skip, unless ``CI`` is set: then they fail.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from report_fixture import parameter_values, reports_of

from workbench.run.pdf import CHROMIUM_FLAGS, CHROMIUM_INSTALL, find_chromium, write_pdf
from workbench.run.registry import ANALYSES, NOTEBOOK_DIR
from workbench.run.status import STATUS_OK

WIDTH = 1280

#: Every problem a page can have, found in one evaluation (empty lists when all is well).
PAGE_CHECKS = r"""
() => {
  const main = document.querySelector('main');
  const box = main.getBoundingClientRect();
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\s+/).join('.') : '');
  const all = Array.from(main.querySelectorAll('*')).filter(shown);
  const scrolling = all.filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
      .map(e => `${name(e)} ${e.scrollWidth}>${e.clientWidth}`);
  const outside = all.filter(e => { const r = e.getBoundingClientRect(); return r.right > box.right + 1 || r.left < box.left - 1; })
      .map(e => `${name(e)} right=${Math.round(e.getBoundingClientRect().right)} main=${Math.round(box.right)}`);
  const images = Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0))
      .map(i => (i.getAttribute('src') || '').slice(0, 40));
  const links = Array.from(document.querySelectorAll('#toc a')).map(a => a.getAttribute('href'));
  const dangling = links.filter(h => { const id = h.slice(1);
      return !h.startsWith('#') || !(document.getElementById(id) || document.getElementById(decodeURIComponent(id))); });
  const summary = document.getElementById('summary');
  const toc = document.getElementById('toc');
  const sections = Array.from(main.querySelectorAll('h2[id]')).filter(h => !h.closest('#summary, #toc'));
  const before = (a, b) => !!(a && b && (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
  return {
    lang: document.documentElement.lang,
    docWidth: document.documentElement.scrollWidth,
    scrolling, outside, images, links, dangling,
    summary: !!summary, toc: !!toc,
    summaryFirst: !!summary && before(summary, toc) && sections.every(h => before(summary, h)),
    cjk: /[\u2e80-\u9fff\uff00-\uffef]/.test(main.innerText),
  };
}
"""

#: The embedded face: loaded, and drawing the page's first six ideographs one em wide each
#: (Noto Sans CJK's advance; a missing glyph falls back to another width).
FONT_CHECK = r"""
async () => {
  await document.fonts.ready;
  const faces = Array.from(document.fonts).filter(f => f.family.replace(/"/g, '') === 'WB CJK');
  const text = (document.querySelector('main').innerText.match(/[\u4e00-\u9fff]/g) || []).slice(0, 6).join('');
  const canvas = document.createElement('canvas').getContext('2d');
  canvas.font = '20px "WB CJK"';
  const width = canvas.measureText(text).width;
  canvas.font = '20px monospace';
  const fallback = canvas.measureText(text).width;
  const sample = Array.from(document.querySelectorAll('main h1, main h2, main p, main li'))
      .find(e => /[\u4e00-\u9fff]/.test(e.textContent));
  return {statuses: faces.map(f => f.status), text, width, fallback,
          family: sample ? getComputedStyle(sample).fontFamily : null};
}
"""


def _chromium() -> str:
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else (find_chromium() or "")


def require_browser() -> None:
    """Skip without Playwright or Chromium, unless ``CI`` is set (then fail)."""
    problems = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append('playwright is not installed (pip install -e ".[dev]")')
    if not _chromium():
        problems.append(f"no Chromium: {CHROMIUM_INSTALL}")
    if problems:
        if os.environ.get("CI"):
            pytest.fail("CI: " + "; ".join(problems))
        pytest.skip("; ".join(problems))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (listed first, so a missing one skips before
    the runs start)."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        args = [f for f in CHROMIUM_FLAGS if f != "--headless"]
        chromium = p.chromium.launch(executable_path=_chromium(), args=args)
        yield chromium
        chromium.close()


def look(browser: Any, page_file: Path) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Open a report at 1,280 px: the page checks, the font check and the console's errors;
    saves ``screenshot.png`` next to it."""
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri(), wait_until="load")
    fonts = page.evaluate(FONT_CHECK)
    checks = page.evaluate(PAGE_CHECKS)
    page.screenshot(path=str(page_file.parent / "screenshot.png"), full_page=True)
    context.close()
    return checks, fonts, errors


def problems_of(checks: dict[str, Any], fonts: dict[str, Any], errors: list[str], lang: str) -> list[str]:
    """What is wrong with one page, in words (empty when nothing)."""
    found = []
    if checks["lang"] != lang:
        found.append(f"<html lang={checks['lang']!r}>, expected {lang!r}")
    if checks["docWidth"] > WIDTH:
        found.append(f"the page scrolls sideways: {checks['docWidth']} px wide")
    found += [f"scrolls: {e}" for e in checks["scrolling"][:5]]
    found += [f"wider than the page: {e}" for e in checks["outside"][:5]]
    found += [f"image not loaded: {e}" for e in checks["images"]]
    if not checks["toc"] or not checks["links"]:
        found.append("no #toc with links")
    found += [f"contents link to nothing: {h}" for h in checks["dangling"]]
    if not checks["summary"]:
        found.append("no #summary")
    elif not checks["summaryFirst"]:
        found.append("#summary does not come before the contents and every section")
    if checks["cjk"]:
        if fonts["statuses"] != ["loaded"]:
            found.append(f"embedded CJK face not loaded: {fonts['statuses']}")
        expected = 20 * len(fonts["text"])
        if fonts["text"] and (abs(fonts["width"] - expected) > 1 or fonts["width"] == fonts["fallback"]):
            found.append(f"Chinese not drawn in the CJK face: {fonts['text']!r} at 20 px is {fonts['width']} px "
                         f"wide, not {expected} (fallback font: {fonts['fallback']})")
        if fonts["family"] is not None and not fonts["family"].startswith('"WB CJK"'):
            found.append(f"Chinese text's font stack does not start with the CJK face: {fonts['family']}")
    found += [f"console: {e}" for e in errors]
    return found


def assert_pages_read_well(browser: Any, run_dir: Path, lang: str) -> None:
    problems = {}
    for key, page_file in reports_of(run_dir).items():
        found = problems_of(*look(browser, page_file), lang)
        assert (page_file.parent / "screenshot.png").stat().st_size > 10_000
        if found:
            problems[key] = found
    assert not problems, "\n".join(f"{k}: {p}" for k, ps in problems.items() for p in ps)


def test_every_notebook_ran_ok_on_its_default_params_file(example_run):
    """The run behind these pages ran every registered notebook, each on the params file its
    parameters cell names (resolved from notebooks/, as JupyterLab does), and each ended ok.
    With tests/test_notebooks.py (params_file and run_dir reach only ``session.start``, and
    01 run there as JupyterLab would, run_dir empty) this is the proof that every notebook's
    defaults run as they are, without a second run of the example."""
    record = json.loads((example_run / "run.json").read_text(encoding="utf-8"))
    statuses = {a["key"]: a["status"] for a in record["analyses"]}
    assert statuses == dict.fromkeys(ANALYSES, STATUS_OK), [(a["key"], a["error"]) for a in record["analyses"]]
    for a in record["analyses"]:
        default = (NOTEBOOK_DIR / parameter_values(NOTEBOOK_DIR / ANALYSES[a["key"]].notebook)["params_file"]).resolve()
        given = parameter_values(example_run / a["notebook"], "injected-parameters")
        assert Path(given["params_file"]) == default, (a["key"], given, default)
        assert set(given) == {"params_file", "run_dir"}, given


def test_example_reports_in_chinese_read_well(browser, example_run):
    assert_pages_read_well(browser, example_run, "zh-CN")


def test_telco_reports_in_english_read_well(browser, telco_run):
    assert_pages_read_well(browser, telco_run, "en")


def test_report_prints_to_a4_pdf(browser, example_run, tmp_path):
    page_file = next(iter(reports_of(example_run).values()))
    pdf = write_pdf(page_file, tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    boxes = set(re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data))
    assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes), boxes
    assert len(re.findall(rb"/Type /Page\b", data)) >= 2


def test_pdf_without_chromium_says_what_to_install(tmp_path, monkeypatch):
    from workbench.core.errors import WorkbenchError

    page_file = tmp_path / "report.html"
    page_file.write_text("<html><body>x</body></html>", encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_CHROMIUM", str(tmp_path / "no-such-browser"))
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(WorkbenchError, match="apt-get install chromium"):
        write_pdf(page_file)


# ---- the page's text, without a browser -------------------------------------------------------



def _prose_checks(run_dir: Path, lang: str) -> list[str]:
    """Issue 13's goals on each report's HTML: at least 60 % Chinese letters in zh prose (at
    most 5 % in en), no English sentence in a zh page, no table number with more than three
    decimals, the summary first and the contents present."""
    from workbench.report import audit

    problems = []
    for key, page in reports_of(run_dir).items():
        html = page.read_text(encoding="utf-8")
        letters = audit.prose_letters(html, terms=audit.TECHNICAL_TERMS)
        if lang == "zh" and letters.han_share < 0.6:
            problems.append(f"{key}: {100 * letters.han_share:.1f} % Chinese letters in the prose (< 60 %)")
        if lang == "zh" and letters.english_runs:
            problems.append(f"{key}: English in a Chinese page: {letters.english_runs[:3]}")
        if lang == "en" and letters.han_share > 0.05:
            problems.append(f"{key}: {100 * letters.han_share:.1f} % Chinese letters in an English page (> 5 %)")
        if audit.max_decimals(html) > 3:
            problems.append(f"{key}: a table number with {audit.max_decimals(html)} decimals")
        outline = audit.page_outline(html)
        if outline[:1] != ["summary"] or "toc" not in outline:
            problems.append(f"{key}: page starts {outline[:3]} (summary first, then the contents)")
    return problems


def test_example_prose_is_chinese_and_tables_read_well(example_run):
    assert _prose_checks(example_run, "zh") == []


def test_telco_prose_is_english_and_tables_read_well(telco_run):
    assert _prose_checks(telco_run, "en") == []
