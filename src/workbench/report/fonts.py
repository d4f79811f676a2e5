"""A CJK web font for reports: the Noto Sans CJK SC glyphs a page uses, as an ``@font-face``.

A report must show Chinese in any browser, also on a machine without CJK fonts (a headless
Chromium on a server prints boxes). The runtime dependency ``noto-cjk-sans-otc`` ships Noto Sans
CJK as one OpenType collection; :func:`cjk_font_face` cuts from its Simplified Chinese member the
glyphs of the characters in the page (a report uses a few hundred, so the subset is a small
fraction of the 19 MB collection) and returns the CSS rule with the font embedded as base64,
limited by ``unicode-range`` to those characters so Latin text keeps the page's own font.

Examples
--------
>>> cjk_characters("Churn 流失率：21 %")
'失流率：'
>>> cjk_font_face("no Chinese here")
''
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

__all__ = ["CJK_FAMILY", "cjk_characters", "cjk_font_face", "cjk_font_data"]

#: The font family name of the embedded face (first in the report's font stacks).
CJK_FAMILY = "WB CJK"

#: Name of the Simplified Chinese member of the Noto Sans CJK collection.
_SC_NAME = "Noto Sans CJK SC"

#: Code points from here on are CJK (radicals, punctuation, kana, ideographs, full-width forms);
#: everything below is left to the page's Latin font.
_CJK_START = 0x2E80


def cjk_characters(text: str) -> str:
    """The distinct CJK characters of ``text``, sorted by code point.

    Parameters
    ----------
    text : str

    Returns
    -------
    str
        Characters from U+2E80 on (CJK punctuation, ideographs, full-width forms), each once.
    """
    return "".join(sorted({c for c in text if ord(c) >= _CJK_START and not 0xD800 <= ord(c) <= 0xDFFF}))


@contextmanager
def _sc_font() -> Iterator[object]:
    """The Simplified Chinese font of the bundled Noto Sans CJK collection (a fresh copy).

    A context manager: the collection's file is closed on exit (an open file left to the
    garbage collector raises a ``ResourceWarning`` wherever it happens to be collected).
    """
    import noto_cjk_sans_otc
    from fontTools.ttLib import TTCollection

    collection = TTCollection(noto_cjk_sans_otc.FONT_PATH, lazy=True)
    try:
        for font in collection.fonts:
            if font["name"].getDebugName(1) == _SC_NAME:
                yield font
                return
        raise LookupError(f"{_SC_NAME} is not in {noto_cjk_sans_otc.FONT_PATH}")  # pragma: no cover
    finally:
        collection.close()


def _flavor() -> tuple[str, str]:
    """The web-font container to write: WOFF2 when brotli is installed, else WOFF (zlib)."""
    try:
        import brotli  # noqa: F401
    except ImportError:
        return "woff", "woff"
    return "woff2", "woff2"


@lru_cache(maxsize=32)
def cjk_font_data(characters: str) -> tuple[bytes, str]:
    """The subset of Noto Sans CJK SC holding ``characters``, as a web font.

    Hinting, glyph names and layout features are dropped (CJK text set horizontally needs
    none); cached by character set for the process (every report of a run shares most of them).

    Parameters
    ----------
    characters : str
        From :func:`cjk_characters`.

    Returns
    -------
    (bytes, str)
        The font file and its CSS ``format()`` name (``"woff2"`` or ``"woff"``).
    """
    from fontTools import subset

    flavor, css_format = _flavor()
    options = subset.Options()
    options.flavor = flavor
    options.hinting = False
    options.desubroutinize = False
    options.layout_features = []
    options.name_IDs = [1, 2]
    options.glyph_names = False
    options.notdef_outline = True
    buffer = io.BytesIO()
    with _sc_font() as font:
        subsetter = subset.Subsetter(options=options)
        subsetter.populate(unicodes=[ord(c) for c in characters])
        subsetter.subset(font)
        font.flavor = flavor
        font.save(buffer)
    return buffer.getvalue(), css_format


def _unicode_range(characters: str) -> str:
    """CSS ``unicode-range`` of the characters, consecutive code points merged (``U+4E00-4E03``)."""
    points = sorted({ord(c) for c in characters})
    ranges: list[tuple[int, int]] = []
    for point in points:
        if ranges and point == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], point)
        else:
            ranges.append((point, point))
    return ",".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in ranges)


def cjk_font_face(text: str, *, family: str = CJK_FAMILY) -> str:
    """A CSS ``@font-face`` embedding the CJK glyphs ``text`` needs, or ``""`` when it has none.

    Parameters
    ----------
    text : str
        The page's text (tags may be left in: only CJK characters count).
    family : str, default "WB CJK"
        The family name to declare; put it first in the page's ``font-family`` lists.

    Returns
    -------
    str
        ``@font-face { font-family: "WB CJK"; src: url(data:font/woff;base64,...) ... }``; the
        face is the regular weight, so the browser draws bold text (headings, table headers)
        by emboldening it.
    """
    characters = cjk_characters(text)
    if not characters:
        return ""
    data, css_format = cjk_font_data(characters)
    encoded = base64.b64encode(data).decode("ascii")
    return (f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: 400; '
            f"font-display: block; src: url(data:font/{css_format};base64,{encoded}) "
            f'format("{css_format}"); unicode-range: {_unicode_range(characters)}; }}')
