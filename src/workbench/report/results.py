"""The one protocol every analysis result follows.

A result is a frozen dataclass that inherits :class:`Result`. Its methods:

``summary() -> DataFrame``
    The headline table (a few rows a manager reads). Required.
``to_frame() -> DataFrame``
    The full table (per customer, segment, arm ...); by default the summary.
``plot(ax=None) -> Axes``
    The result's chart; by default a bar chart of the summary's first numeric column.
``metrics() -> dict``
    JSON-able figures for the run's ``metrics.json``.
``finding() -> str``
    What the numbers mean for the business, in words computed from them. It takes no
    arguments: currency and other run settings come from :func:`workbench.report.fmt.settings`.
``_repr_html_()``
    The notebook view: the one-line repr, the finding and the summary table
    (:func:`workbench.report.tables.report_table`), all escaped.
``__repr__()``
    One line naming the class and its size.

Estimators (``fit`` -> self, learned attributes ending in ``_``) are not results; what they
produce is.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from workbench.report.tables import report_table

__all__ = ["Result"]


class Result:
    """Base class of every result (see module docstring)."""

    def summary(self) -> pd.DataFrame:  # pragma: no cover - interface
        """Headline table."""
        raise NotImplementedError(f"{type(self).__name__}.summary")

    def to_frame(self) -> pd.DataFrame:
        """Full table; the summary unless a result has more rows to give."""
        return self.summary()

    def plot(self, ax: Any = None) -> Any:
        """Bar chart of the summary's first numeric column, labelled by its first other column.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on; a new figure when omitted.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from workbench.report.plotting import bar_chart

        return bar_chart(self.summary(), ax=ax, title=type(self).__name__)

    def metrics(self) -> dict[str, Any]:
        """JSON-able figures for the run's metrics file."""
        return {}

    def finding(self) -> str:
        """What the numbers mean for the business (plain text)."""
        return ""

    def __repr__(self) -> str:
        try:
            rows = len(self.summary())
        except Exception:  # a repr must never fail
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(rows={rows})"

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        try:
            text = self.finding()
        except Exception:  # the HTML view must never fail
            text = ""
        if text:
            parts.append(f"<p>{html.escape(text)}</p>")
        table = self.summary()
        if isinstance(table, pd.DataFrame):
            parts.append(report_table(table))
        return "".join(parts)
