"""Rendering an executed notebook into a self-contained ``report.html`` (no code cells, no CDN).

The page reads in the run's language: the header, the status and "where the data came from"
come from the ``report.*`` catalog keys, and the notebook's narrative cells of the other
language (tagged ``lang-en`` / ``lang-zh``) are left out. The cell tagged ``summary`` (its
output is ``<section id="summary">``) moves up to follow the title, a numbered table of contents
(``<nav id="toc">``) of the page's ``h2`` sections follows it, and the Chinese glyphs the page
uses are embedded as a web font (:mod:`workbench.report.fonts`), so Chinese shows in any
browser, also a headless one on a machine without CJK fonts.
"""

from __future__ import annotations

import html as html_lib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.core.contract import TABLES
from workbench.run.status import STATUS_OK


def import_nbformat() -> Any:
    """``nbformat``, imported without building the parsers of an IRI checker it never uses.

    nbformat imports jsonschema, whose format checkers import ``rfc3987-syntax`` when it is
    installed (JupyterLab's dependencies bring it) and build 38 Lark grammars at import: 1.1 s
    of the 1.4 s it takes to import nbformat, in every runner process. Notebook validation
    checks no ``iri`` formats; the module stays importable for other code (only jsonschema's
    import of it is skipped).

    Returns
    -------
    module
        ``nbformat``.
    """
    import sys

    skip = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if skip:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import fail
    try:
        import nbformat
    finally:
        if skip and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    return nbformat


__all__ = ["render_report", "import_nbformat", "LANGUAGE_TAGS", "SUMMARY_TAG", "HTML_LANG"]


_TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

#: Cell tag of each language's narrative cells (markdown cells exist once per language).
LANGUAGE_TAGS: dict[str, str] = {"en": "lang-en", "zh": "lang-zh"}

#: Cell tag of the notebook's summary cell (``ctx.summarize(...)``), shown first on the page.
SUMMARY_TAG = "summary"

#: The ``<html lang>`` attribute of each report language.
HTML_LANG: dict[str, str] = {"en": "en", "zh": "zh-CN"}

#: Where the table of contents goes: a raw cell put after the summary, replaced after rendering.
_TOC_MARKER = '<div id="wb-toc-marker"></div>'

_H1 = re.compile(r"^\s{0,3}#(?!#)\s|<h1[\s>]", re.MULTILINE | re.IGNORECASE)
_H2 = re.compile(r"<h2\b([^>]*)>(.*?)</h2>", re.DOTALL | re.IGNORECASE)
_TABLE = re.compile(r"<table\b.*?</table>", re.DOTALL | re.IGNORECASE)
_ROW = re.compile(r"<tr\b.*?</tr>", re.DOTALL | re.IGNORECASE)
_CELL = re.compile(r"<(t[hd])\b([^>]*)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)

#: Widths (CSS px) a table may need before its widest columns may break inside words: the
#: page's 1,052 px (``main`` at 1,100 less padding) and A4's 180 mm (680 px), less a margin
#: for the estimate (which comes within about 10 % of the browser's).
_TABLE_BUDGETS: dict[str, float] = {"wb-break": 900.0, "wb-break-print": 600.0}

_SECTION_NUMBER = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.、:：)）](?!\d)|[一二三四五六七八九十]+[、.．])\s*")


def render_report(
    notebook: str | Path,
    html: str | Path,
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    status: str = STATUS_OK,
    provenance: Mapping[str, Any] | None = None,
    language: str | None = None,
) -> Path:
    """Render an executed notebook as a self-contained HTML report without code.

    Uses nbconvert's ``lab`` template with inputs and prompts excluded, images embedded and
    no scripts loaded from a CDN (require.js, MathJax, Mermaid, widgets). Cells tagged
    ``remove-cell`` are dropped, ``remove-output`` lose their outputs, and the narrative cells
    of the other language (``lang-en`` in a Chinese report, ``lang-zh`` in an English one) are
    dropped. The cell tagged ``summary`` moves to follow the title cell(s), then comes
    ``<nav id="toc">``, the numbered contents of the page's ``h2`` sections. A notebook without
    a summary cell keeps its order (the contents then follow the title).

    Parameters
    ----------
    notebook : path
        Executed ``.ipynb``.
    html : path
        Where to write the report.
    title : str
        Page title and heading (params title · analysis title).
    facts : sequence of (str, str)
        Header facts shown under the title (dataset, as of, run time, ...). Labels with a
        ``report.facts.<label>`` key (``"As of"`` -> ``report.facts.as_of``) are translated and
        an ISO date value is written as a date of the language; others are shown as given.
    status : str, default "ok"
        Status shown in the header (``failed: ValueError: ...`` shows red; the status word
        is translated, the error after it is not).
    provenance : dict, optional
        The ``provenance`` entry of the analysis's ``metrics.json``
        (:meth:`workbench.run.provenance.Provenance.metrics`): shown at the end as "where the
        data came from" (input files with checksums, artifacts read with the run that made them).
    language : {"en", "zh"}, optional
        The report's language (the run's ``report.language``, or ``--lang``). Default: the
        ``WORKBENCH_LANGUAGE`` environment variable, else the language in force
        (:func:`workbench.report.fmt.settings`).

    Returns
    -------
    Path
        ``html``.
    """
    nbformat = import_nbformat()

    from workbench.report import fmt
    from workbench.report.i18n import LANGUAGES
    from workbench.run.session import LANGUAGE_ENV

    lang = language or os.environ.get(LANGUAGE_ENV) or fmt.settings().language
    if lang not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)} (params: report.language)")
    nb = nbformat.read(str(notebook), as_version=4)
    nb.metadata["title"] = title
    with fmt.use(language=lang):
        _arrange_cells(nb, lang)
        resources = {
            "metadata": {"path": str(Path(notebook).parent), "name": Path(notebook).stem},
            "workbench": _page_resources(title, facts, status, provenance or {}),
        }
        body, _ = _exporter(lang).from_notebook_node(nb, resources=resources)
        body = _with_toc(body)
    body = _with_identifiers_as_code(_with_image_alts(_TABLE.sub(_fit_table, body)))
    # nbconvert takes ISO 639-1 codes only ("zh"); the page says which Chinese: zh-CN
    body = re.sub(r'<html lang="[^"]*">', f'<html lang="{HTML_LANG[lang]}">', body, count=1)
    body = _with_cjk_font(_drop_css_rules(body, "jp-InputArea-editor"))
    out = Path(html)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def _exporter(language: str) -> Any:
    """nbconvert's HTML exporter with the workbench's template, for one report language."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    other = {tag for lang, tag in LANGUAGE_TAGS.items() if lang != language}
    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {"remove-cell", *other}
    config.TagRemovePreprocessor.remove_all_outputs_tags = {"remove-output"}
    config.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    template = (_TEMPLATE_DIR / "report.html.j2").read_text(encoding="utf-8")
    return HTMLExporter(
        config=config,
        template_name="lab",
        extra_loaders=[DictLoader({"workbench_report.html.j2": template})],
        template_file="workbench_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )


def _tags(cell: Mapping[str, Any]) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []) or [])


def _arrange_cells(nb: Any, language: str) -> None:
    """Summary first, then the contents marker: move the ``summary`` cell to follow the title
    cell(s) of ``language`` and put the table of contents after it (in place).

    The title cells are the first markdown cell with an ``h1`` that the page keeps and the
    markdown ``h1`` cells right after it; with no title the summary goes first. Without a
    summary cell the order stays and the contents follow the title.
    """
    nbformat = import_nbformat()

    dropped = {"remove-cell", *(tag for lang, tag in LANGUAGE_TAGS.items() if lang != language)}
    cells = list(nb.cells)
    summary = next((c for c in reversed(cells) if c.cell_type == "code" and SUMMARY_TAG in _tags(c)), None)
    if summary is not None:
        cells.remove(summary)
    kept = [i for i, c in enumerate(cells) if not _tags(c) & dropped]
    at = 0
    title = next((n for n, i in enumerate(kept) if _is_title(cells[i])), None)
    if title is not None:
        end = title
        while end + 1 < len(kept) and _is_title(cells[kept[end + 1]]):
            end += 1
        at = kept[end] + 1
    marker = nbformat.v4.new_raw_cell(_TOC_MARKER, metadata={"raw_mimetype": "text/html"})
    cells[at:at] = [summary, marker] if summary is not None else [marker]
    nb.cells = cells


def _is_title(cell: Mapping[str, Any]) -> bool:
    """Whether a cell is a title: markdown holding an ``h1`` (``# ...`` or ``<h1>``)."""
    return cell.get("cell_type") == "markdown" and bool(_H1.search(str(cell.get("source", ""))))


def _page_resources(title: str, facts: Sequence[tuple[str, str]], status: str,
                    provenance: Mapping[str, Any]) -> dict[str, Any]:
    """What the template shows around the notebook, translated into the language in force."""
    from workbench.report.i18n import t

    fingerprint = provenance.get("fingerprint")
    fingerprint_html = ""
    if fingerprint:
        text = html_lib.escape(t("report.sources.fingerprint", fingerprint="\x00"))
        fingerprint_html = text.replace("\x00", f"<code>{html_lib.escape(str(fingerprint))}</code>")
    return {
        "title": title,
        "facts": [_fact(name, value) for name, value in facts],
        "status_label": t("report.facts.status"),
        "status": _status_text(status),
        "status_class": "ok" if status == STATUS_OK else "failed",
        "sources": _source_rows(provenance),
        "fingerprint_html": fingerprint_html,
        "labels": {k: t(f"report.sources.{k}") for k in ("title", "kind", "what", "where", "checksum")},
        "css": (_TEMPLATE_DIR / "report.css").read_text(encoding="utf-8"),
    }


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")


def _fact(name: str, value: str) -> tuple[str, str]:
    """A header fact in the language in force: its label from ``report.facts.<name>`` when the
    catalog has it, an ISO date as a date of the language."""
    from workbench.report.i18n import date_text, has, t

    key = f"report.facts.{_key(name)}"
    label = t(key) if has(key) else name
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        text = date_text(text)
    return label, text


def _status_text(status: str) -> str:
    """The status word translated (``report.status.<word>``), the error after a colon as is."""
    from workbench.report.i18n import has, t

    word, sep, rest = status.partition(":")
    key = f"report.status.{_key(word)}"
    return (t(key) if has(key) else word) + sep + rest


def _source_rows(provenance: Mapping[str, Any]) -> list[dict[str, str]]:
    """Rows of the "where the data came from" table: input files, then artifacts read."""
    from workbench.report.i18n import t

    rows = [{"kind": t("report.sources.input"), "what": str(f.get("table", "")),
             "where": Path(str(f.get("path", ""))).name, "checksum": str(f.get("sha256", ""))[:16]}
            for f in provenance.get("inputs", [])]
    mine = provenance.get("fingerprint")
    rows += [{"kind": t("report.sources.artifact"), "what": f"{a.get('analysis')}/{a.get('name')}",
              "where": t("report.sources.run" if a.get("fingerprint") == mine else "report.sources.earlier_run",
                         run=a.get("run")),
              "checksum": str(a.get("fingerprint", ""))[:16]}
             for a in provenance.get("artifacts_read", [])]
    return rows


def _plain(fragment: str) -> str:
    """The text of an HTML fragment (tags and nbconvert's ``¶`` anchor removed, entities read)."""
    fragment = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", fragment, flags=re.DOTALL)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _with_toc(body: str) -> str:
    """Replace the contents marker with ``<nav id="toc">``: one numbered link per ``h2`` after it
    (up to "where the data came from"), giving an ``id`` to a heading that has none."""
    from workbench.report.i18n import t

    start = body.find(_TOC_MARKER)
    if start < 0:  # pragma: no cover - the marker is always inserted
        return body
    head, rest = body[:start], body[start + len(_TOC_MARKER):]
    cut = rest.find('<section class="wb-sources">')
    content, footer = (rest, "") if cut < 0 else (rest[:cut], rest[cut:])
    items: list[str] = []

    def link(match: re.Match[str]) -> str:
        attrs, inner = match.group(1), match.group(2)
        found = re.search(r'\bid="([^"]*)"', attrs)
        if found:
            anchor = html_lib.unescape(found.group(1))
        else:
            anchor = f"wb-section-{len(items) + 1}"
            attrs = f' id="{anchor}"{attrs}'
        text = _SECTION_NUMBER.sub("", _plain(inner)) or _plain(inner)
        items.append(f'<li><a href="#{html_lib.escape(anchor)}">{html_lib.escape(text)}</a></li>')
        return f"<h2{attrs}>{inner}</h2>"

    content = _H2.sub(link, content)
    nav = (f'<nav id="toc" class="wb-toc" aria-label="{html_lib.escape(t("report.toc.title"))}">'
           f'<h2>{html_lib.escape(t("report.toc.title"))}</h2><ol>{"".join(items)}</ol></nav>')
    return head + nav + content + footer


def _text_em(text: str, *, bold: bool) -> float:
    """Estimated width (in em) of the longest unbreakable run of ``text``: words break at
    spaces, CJK text between any two characters."""
    longest = run = 0.0
    for char in text:
        if char.isspace() or ord(char) >= 0x2E80:
            longest, run = max(longest, run, 1.0 if not char.isspace() else 0.0), 0.0
            continue
        run += (0.66 if char.isupper() else 0.3 if char in ".,:;il|!'()" else 0.58) * (1.06 if bold else 1.0)
    return max(longest, run)


def _fit_table(match: re.Match[str]) -> str:
    """Let the widest columns of a table too wide for the page break inside words.

    The narrowest a table can get is the sum of its columns' longest words: when that
    (estimated from the text, font and padding of ``report.css``) exceeds the page, the cells
    of the widest columns get ``wb-break`` (``overflow-wrap: anywhere``) until the rest fits,
    so long labels wrap and the numbers of the other columns stay whole; ``wb-break-print``
    does the same for an A4 page.
    """
    table = match.group(0)
    if table.lower().count("<table") > 1:  # a nested table: left as it is
        return table
    rows = [list(_CELL.finditer(row)) for row in _ROW.findall(table)]
    n = max((len(r) for r in rows), default=0)
    font, pad = (13.0, 20.0) if n < 10 else (12.0, 12.0) if n < 13 else (11.0, 8.0)
    widths = [0.0] * n
    for row in rows:
        for i, cell in enumerate(row):
            em = _text_em(_plain(cell.group(3)), bold=cell.group(1).lower() == "th")
            widths[i] = max(widths[i], em * font + pad)
    classes: dict[int, list[str]] = {}
    for name, budget in _TABLE_BUDGETS.items():
        total = sum(widths)
        for i in sorted(range(n), key=lambda k: -widths[k]):
            if total <= budget:
                break
            total -= max(widths[i] - (3 * font + pad), 0.0)
            classes.setdefault(i, []).append(name)
    if not classes:
        return table

    def mark(row: re.Match[str]) -> str:
        cells = iter(range(n + 1))

        def cell(c: re.Match[str]) -> str:
            extra = classes.get(next(cells), [])
            if not extra:
                return c.group(0)
            tag, attrs, inner = c.group(1), c.group(2), c.group(3)
            if re.search(r'\bclass="', attrs):
                attrs = re.sub(r'\bclass="', f'class="{" ".join(extra)} ', attrs, count=1)
            else:
                attrs = f' class="{" ".join(extra)}"{attrs}'
            return f"<{tag}{attrs}>{inner}</{tag}>"

        return _CELL.sub(cell, row.group(0))

    return _ROW.sub(mark, table)


#: The ``alt`` nbconvert gives an image without one.
_NO_ALT = 'alt="No description has been provided for this image"'


def _with_image_alts(body: str) -> str:
    """Give each figure its caption (``<p class="wb-caption">`` after it, before the next
    image) as ``alt`` text instead of nbconvert's "No description has been provided"."""
    parts = body.split(_NO_ALT)
    for i in range(1, len(parts)):
        after = parts[i]
        caption = re.search(r'<p class="wb-caption">(.*?)</p>', after, re.DOTALL)
        next_image = after.find("<img")
        if caption and (next_image < 0 or caption.start() < next_image):
            alt = html_lib.escape(_plain(caption.group(1)))
            parts[i - 1] += f'alt="{alt}"'
        else:
            parts[i - 1] += _NO_ALT
    return "".join(parts)


#: Names a reader types into params or finds in the data contract: ``orders.order_time``,
#: ``cleaning.drop_exact_duplicates``, ``analyses.churn.max_levels`` (a params key of the shared
#: or analysis sections, or a contract table's column).
_IDENTIFIER = re.compile(
    r"(?<![\w./`-])(?:" + "|".join(sorted(set(TABLES) | {"cleaning", "privacy", "analyses", "intake", "report",
                                                          "engine", "tables", "clv", "label"}, key=len, reverse=True))
    + r")\.(?!(?:csv|tsv|xlsx?|parquet|json|ya?ml|html?|txt|gz|zip|duckdb|db|pdf|png)\b)"  # a file name
    r"[A-Za-z_\u4e00-\u9fff][\w\u4e00-\u9fff.]*[\w\u4e00-\u9fff]"
)
_TEXT_NODES = re.compile(r"(<(script|style|code|pre|textarea|title)\b.*?</\2>|<[^>]+>)|([^<]+)", re.DOTALL | re.IGNORECASE)


def _with_identifiers_as_code(body: str) -> str:
    """Set contract columns and params keys in the page's text as ``<code>`` (they are names to
    look up or type, not prose; a Chinese page reads better with them set apart)."""
    head, sep, rest = body.partition("<body")
    if not sep:
        return body

    def node(match: re.Match[str]) -> str:
        if match.group(3) is None:
            return match.group(0)
        return _IDENTIFIER.sub(lambda m: f"<code>{m.group(0)}</code>", match.group(3))

    return head + sep + _TEXT_NODES.sub(node, rest)


def _with_cjk_font(body: str) -> str:
    """Embed the CJK glyphs of the page's text as the ``WB CJK`` web font (nothing when the
    page has no CJK text)."""
    from workbench.report.fonts import cjk_font_face

    text = html_lib.unescape(re.sub(r"<(style|script)\b.*?</\1>", "", body, flags=re.DOTALL | re.IGNORECASE))
    return body.replace("/*WB-FONT-FACE*/", cjk_font_face(text), 1)


def _drop_css_rules(html: str, selector_part: str) -> str:
    """Remove CSS rules whose selector mentions ``selector_part`` from ``<style>`` blocks.

    Code cells are not rendered, so their editor styles are dead weight; without them the
    report holds no trace of code-input markup at all.
    """
    def clean(match: re.Match[str]) -> str:
        tokens = re.split(r"([{}])", match.group(2))
        kept: list[str] = []
        i = 0
        while i < len(tokens):
            is_rule = tokens[i + 1:i + 2] == ["{"] and tokens[i + 3:i + 4] == ["}"]
            if is_rule and tokens[i] not in "{}" and selector_part in tokens[i]:
                i += 4
                continue
            kept.append(tokens[i])
            i += 1
        return match.group(1) + "".join(kept) + match.group(3)

    return re.sub(r"(<style[^>]*>)(.*?)(</style>)", clean, html, flags=re.DOTALL)
