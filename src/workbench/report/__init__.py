"""Report layer: the result protocol (``results``), number formatting (``fmt``), the chart theme
(``plotting``) and the few display helpers notebooks use instead of loops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from workbench.report.i18n import t
from workbench.report.summary import KeyFinding, ReportSummary
from workbench.report.tables import report_table

__all__ = ["bullets", "code_list", "display_frames", "say", "KeyFinding", "ReportSummary", "t"]


def bullets(lines: Sequence[str]) -> Any:
    """A Markdown bullet list of the non-empty lines (for a notebook's findings list).

    Parameters
    ----------
    lines : sequence of str
        Findings or recommendations; empty strings and ``None`` are left out.

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    return Markdown("\n".join(f"- {line}" for line in lines if line))


def code_list(names: Sequence[str]) -> str:
    """Names the reader types (tables, columns) as a Markdown list of code spans.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    str
        ``"`orders`, `customers`"``: set as code, they read as names in a Chinese sentence too.

    Examples
    --------
    >>> code_list(["orders", "order_items"])
    '`orders`, `order_items`'
    """
    return ", ".join(f"`{n}`" for n in names)


def display_frames(frames: Mapping[str, pd.DataFrame], *, head: int | None = None) -> None:
    """Display each table as a report table captioned by its key, in order.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Caption (already in the run's language) -> table; ``None`` or empty tables are skipped.
    head : int, optional
        Show only the first rows of each.
    """
    from IPython.display import HTML, display

    for caption, frame in frames.items():
        if frame is None or len(frame) == 0:
            continue
        display(HTML(report_table(frame.head(head) if head else frame, caption=str(caption))))


def say(key: str, /, **values: Any) -> Any:
    """The catalog message ``key`` in the run's language as Markdown (a notebook's computed
    narrative line: ``display(report.say("churn.setup", ...))``).

    Parameters
    ----------
    key : str
        Catalog key (:func:`workbench.report.i18n.t`).
    **values
        The template's fields, already formatted.

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    return Markdown(t(key, **values))
