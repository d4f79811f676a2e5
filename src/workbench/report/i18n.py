"""What a reader sees, in the run's language: one message catalog per language.

The catalogs are YAML files under ``report/locales/<language>/``, one file per area
(``common.yaml``, ``churn.yaml`` ...). Keys are dotted paths prefixed by the file's stem
(``churn.yaml`` -> ``churn.rates.finding``), except two shared namespaces that any file may add to:

``columns``
    Table column labels (``columns.churn_rate: 流失率``), looked up by :func:`label`.
``categories``
    Category labels the workbench makes (``categories.rfm_segment.champions``), by :func:`category`.
``figures``
    Figure captions by the name a notebook saves the figure under (``figures.churn_rates``).

Every key exists in every language (``tests/test_i18n.py``). Templates use ``str.format`` fields
filled with figures already formatted by :mod:`workbench.report.fmt`::

    t("churn.rates.finding", rate=fmt.pct(0.21), group="app")

The language is a run setting (``report.language`` in the params, ``--lang`` on the CLI), read
from :func:`workbench.report.fmt.settings` like the currency; outside a run it is English.

Examples
--------
>>> from workbench.report import fmt
>>> with fmt.use(language="zh"):
...     date_text("2025-09-30")
'2025年9月30日'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

__all__ = [
    "LANGUAGES",
    "language",
    "t",
    "has",
    "label",
    "category",
    "date_text",
    "catalog",
    "Text",
    "neutral",
]

#: Report languages; the first is the fallback of a key missing in another.
LANGUAGES: tuple[str, ...] = ("en", "zh")

#: Namespaces shared by every catalog file (not prefixed by the file's stem).
SHARED_NAMESPACES: tuple[str, ...] = ("columns", "categories", "figures")

_LOCALES = Path(__file__).resolve().parent / "locales"
#: libyaml's safe loader when PyYAML has it (ten times faster on the catalogs: half a second of
#: every notebook's start), else the pure-Python one; the same trees either way.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Keys defined twice with different text while loading (the first file, by name, wins);
#: ``tests/test_i18n.py`` requires none.
CONFLICTS: list[str] = []


def language() -> str:
    """The language in force (the run's ``report.language``; ``"en"`` outside a run)."""
    from workbench.report.fmt import settings

    return settings().language


def _flatten(tree: Mapping[str, Any], prefix: str, out: dict[str, str], source: Path) -> None:
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            _flatten(value, path, out, source)
        else:
            text = "" if value is None else str(value)
            if path in out and out[path] != text:
                CONFLICTS.append(f"{source.parent.name}/{source.name}: {path!r} already defined as {out[path]!r}")
                continue
            out[path] = text


@cache
def catalog(lang: str) -> dict[str, str]:
    """Every message of one language: dotted key -> template.

    Parameters
    ----------
    lang : {"en", "zh"}

    Returns
    -------
    dict of str to str
    """
    if lang not in LANGUAGES:
        raise ValueError(f"report language {lang!r} is not one of {', '.join(LANGUAGES)} (params: report.language)")
    out: dict[str, str] = {}
    for path in sorted((_LOCALES / lang).glob("*.yaml")):
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or {}
        for top, value in tree.items():
            prefix = "" if top in SHARED_NAMESPACES else path.stem
            _flatten({top: value}, prefix, out, path)
    return out


def has(key: str) -> bool:
    """Whether the catalog of the language in force (or English) holds ``key``."""
    return key in catalog(language()) or key in catalog(LANGUAGES[0])


def t(key: str, /, **values: Any) -> str:
    """The message ``key`` in the run's language, with its fields filled.

    Parameters
    ----------
    key : str
        Dotted catalog key (``churn.rates.finding``).
    **values
        Fields of the template, already formatted (``rate=fmt.pct(x)``).

    Returns
    -------
    str
        The text; a key missing in the language falls back to English, and a key missing
        everywhere raises ``KeyError`` (a catalog defect the tests catch).
    """
    messages = catalog(language())
    template = messages.get(key)
    if template is None:
        template = catalog(LANGUAGES[0]).get(key)
    if template is None:
        raise KeyError(f"message {key!r} is in no catalog (src/workbench/report/locales/*/)")
    return template.format_map(values) if values else template


def _humanize(name: str) -> str:
    text = re.sub(r"[_\s]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else text


def label(column: Any) -> str:
    """The reader's label of a table column: ``columns.<name>`` in the catalog, else the name
    with underscores as spaces and a capital first letter (a user's own column stays as is)."""
    name = str(column)
    key = f"columns.{name}"
    if has(key):
        return t(key)
    return _humanize(name) if re.fullmatch(r"[a-z0-9_]+", name) else name


def category(group: str, value: Any) -> str:
    """The reader's label of a category the workbench makes (``category("rfm_segment",
    "champions")`` -> ``重要价值客户`` in Chinese); unknown values stay as they are."""
    key = f"categories.{group}.{value}"
    return t(key) if has(key) else str(value)


def date_text(value: Any) -> str:
    """A date as text in the run's language: ``2025年9月30日`` (zh) or ``30 Sep 2025`` (en).

    Parameters
    ----------
    value : date, datetime, Timestamp or ISO string
        Missing values give an empty string.
    """
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if hasattr(value, "date") and callable(value.date):
        value = value.date()
    if language() == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value.strftime('%b')} {value.year}"


class Text(str):
    """A catalog message in the run's language (it *is* that string) that keeps its key and
    values, so ``metrics()`` can record it language-neutrally (:meth:`neutral`).

    Values are strings already formatted (``fmt.pct``, ``fmt.count``), dates (written with
    :func:`workbench.report.i18n.date_text`, ISO in the neutral form) or other ``Text``.

    Examples
    --------
    >>> from workbench.report import fmt
    >>> with fmt.use(language="zh"):
    ...     note = Text("common.summary.title")
    ...     str(note), note.neutral()
    ('摘要', 'Summary')
    """

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Text:
        obj = super().__new__(cls, t(key, **{k: _shown(v, neutral=False) for k, v in values.items()}))
        obj.key, obj.values = key, values
        return obj

    def __reduce__(self) -> tuple[Any, ...]:
        return (_text, (self.key, self.values))

    def neutral(self) -> str:
        """The message in English with ISO dates, whatever the run's language (for ``metrics.json``)."""
        from workbench.report import fmt

        with fmt.use(language="en"):
            return t(self.key, **{k: _shown(v, neutral=True) for k, v in self.values.items()})


def _text(key: str, values: dict[str, Any]) -> Text:
    return Text(key, **values)


def _shown(value: Any, *, neutral: bool) -> str:
    if isinstance(value, Text):
        return value.neutral() if neutral else str(value)
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat() if neutral else date_text(value)
    return str(value)


def neutral(value: Any) -> Any:
    """``value.neutral()`` for a :class:`Text`, else ``value`` (lists: each item)."""
    if isinstance(value, list):
        return [neutral(v) for v in value]
    return value.neutral() if isinstance(value, Text) else value
