"""The small pieces the profiling texts are built from, in the run's language.

Every sentence of the profiling report is a catalog message (``profiling.*`` in
``report/locales/<language>/profiling.yaml``, :func:`workbench.report.i18n.t`); these helpers
give the parts several messages share: "3 of 20 rows (15.0%)", list separators, a plural
choice, the "e.g. ..." tail, a column named with its source header.

Examples
--------
>>> rows_text(3, 20)
'3 of 20 rows (15.0%)'
>>> from workbench.report import fmt
>>> with fmt.use(language="zh"):
...     rows_text(3, 20)
'3 行（共 20 行，15.0%）'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from workbench.report.i18n import t

__all__ = ["rows_text", "join", "clauses", "plural", "eg", "where", "severity_counts"]


def rows_text(n: int, total: int, unit: str = "rows") -> str:
    """``"3 of 20 rows (15.0%)"``, or ``"3 rows"`` when the total is 0.

    Parameters
    ----------
    n, total : int
    unit : {"rows", "values", "customers", "non_missing_rows", "non_missing_values"}
        What is counted (``profiling.unit.<unit>`` in the catalog).
    """
    word = t(f"profiling.unit.{unit}")
    if total:
        return t("profiling.common.rows_of", n=f"{n:,}", total=f"{total:,}", unit=word, share=f"{n / total:.1%}")
    return t("profiling.common.rows", n=f"{n:,}", unit=word)


def join(items: Iterable[Any]) -> str:
    """Items as one list: ``a, b, c`` (English) or ``a、b、c`` (Chinese)."""
    return t("profiling.sep.list").join(map(str, items))


def clauses(items: Iterable[Any]) -> str:
    """Clauses as one sentence: ``a; b`` (English) or ``a；b`` (Chinese)."""
    return t("profiling.sep.clause").join(map(str, items))


def plural(key: str, n: int, /, **values: Any) -> str:
    """The message ``<key>.one`` when ``n`` is 1, else ``<key>.other`` (field ``n`` formatted)."""
    return t(f"{key}.{'one' if n == 1 else 'other'}", n=f"{n:,}", **values)


def eg(examples: Iterable[Any], *, quote: bool = True) -> str:
    """The tail ``", e.g. 'a', 'b'"`` of a message (empty when there are no examples)."""
    items = [repr(x) if quote else str(x) for x in examples]
    return t("profiling.common.eg", examples=", ".join(items)) if items else ""


def where(table: str, col: str, source: str | None = None) -> str:
    """How messages name a column: ``orders.amount``, plus ``(from 实付金额)`` when renamed."""
    name = f"{table}.{col}"
    if source and source != col and not source.startswith("@"):
        return t("profiling.common.where_from", name=name, source=source)
    return name


def severity_counts(counts: dict[str, int], severities: Iterable[str], *, zeros: bool = True) -> str:
    """``"2 errors, 0 warnings, 5 info"`` in the run's language (zero counts left out unless ``zeros``)."""
    parts = [plural(f"profiling.severity_count.{s}", int(counts.get(s, 0)))
             for s in severities if zeros or counts.get(s, 0)]  # fmt: skip
    return t("profiling.sep.list_comma").join(parts)
