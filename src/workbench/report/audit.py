"""Checks of a rendered report's text: which language its prose is in, whether a table number
shows more than three decimals, and whether the page opens with the summary and the contents.

Used by the tests on the bundled reports and by ``benchmarks/report_audit.py`` (which prints the
figures for every report of a run); a person can run it on any ``report.html``.

Prose is the text of paragraphs, list items, headings, captions and table headers; table cells
(data values), code, scripts and styles are left out.

Examples
--------
>>> html = "<h2>摘要</h2><p>流失率 21.3 %（Wilson 区间）</p><table><tr><td>Beijing</td></tr></table>"
>>> letters = prose_letters(html)
>>> letters.han, letters.latin
(7, 6)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["TECHNICAL_TERMS", "ProseLetters", "prose_letters", "max_decimals", "page_outline"]

#: Technical terms that may stay in Latin letters in a Chinese report (lower case): they do not
#: count towards an English run.
TECHNICAL_TERMS = frozenset({
    "rfm", "clv", "auc", "roc", "roi", "cpa", "bg", "nbd", "cox", "qini", "kpi", "srm", "cuped", "wilson",
    "holm", "p", "ci", "csv", "pdf", "id", "abc", "pareto", "gamma", "nps", "csat", "k", "pp", "vs", "kaplan",
    "meier", "log", "rank", "app", "top", "sha", "excel", "parquet", "duckdb", "hmac", "pipl", "t", "x", "s",
    "learner", "uplift", "spearman", "cramér", "gmm", "means", "ipw", "att", "smd", "welch", "efron", "crm",
})

_PROSE_TAGS = {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figcaption", "caption", "th", "dt", "dd", "summary"}
_SKIP_TAGS = {"script", "style", "code", "pre", "td", "svg", "head", "title"}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d,]*\.(\d+)(?![\w.])")


@dataclass
class ProseLetters:
    """Letters in a page's prose.

    Attributes
    ----------
    han : int
        Chinese characters.
    latin : int
        Latin letters.
    english_runs : list of str
        Runs of four or more Latin words in a row (an untranslated sentence in a Chinese page).
    """

    han: int = 0
    latin: int = 0
    english_runs: list[str] = field(default_factory=list)

    @property
    def han_share(self) -> float:
        """Chinese characters as a share of all letters (0 when the prose has none)."""
        total = self.han + self.latin
        return self.han / total if total else 0.0


class _Prose(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.chunks: list[str] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            return
        self.stack.append(tag)
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.stack:
            return
        while self.stack:
            top = self.stack.pop()
            if top == "td" and self._cell is not None:
                self.cells.append("".join(self._cell).strip())
                self._cell = None
            if top == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._cell is not None and "td" in self.stack:
            self._cell.append(data)
        if any(t in _SKIP_TAGS for t in self.stack):
            return
        if any(t in _PROSE_TAGS for t in self.stack):
            self.chunks.append(data)


def _parse(html: str) -> _Prose:
    parser = _Prose()
    parser.feed(html)
    parser.close()
    return parser


def prose_letters(html: str, *, terms: frozenset[str] = frozenset()) -> ProseLetters:
    """Count the Chinese and Latin letters of a page's prose.

    Parameters
    ----------
    html : str
        The page.
    terms : frozenset of str, optional
        Lower-case Latin words that do not count towards an English run (technical terms).

    Returns
    -------
    ProseLetters
    """
    out = ProseLetters()
    for chunk in _parse(html).chunks:
        out.han += len(_HAN.findall(chunk))
        out.latin += len(_LATIN.findall(chunk))
        for run in re.finditer(r"[A-Za-z][A-Za-z'-]*(?:[ ,]+[A-Za-z][A-Za-z'-]*){3,}", chunk):
            words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", run.group(0)) if w.lower() not in terms]
            if len(words) >= 4:
                out.english_runs.append(run.group(0))
    return out


def max_decimals(html: str) -> int:
    """The most decimals any number in a table cell of the page shows (0 when none has any)."""
    return max((len(m.group(1)) for cell in _parse(html).cells for m in _NUMBER.finditer(cell)), default=0)


def page_outline(html: str) -> list[str]:
    """The ids of the page's top-level landmarks in order: ``summary`` and ``toc`` when present,
    then each h2 id (for the check that the summary comes first)."""
    return re.findall(r'<(?:section|nav|h2)\b[^>]*\bid="([^"]+)"', html)
