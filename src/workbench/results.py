"""The shape every analysis result shares: ``summary()``, ``metrics()``, ``finding()``,
``plot(ax=None)``, an HTML view for notebooks and a one-line ``repr``.

Result classes are frozen dataclasses that inherit :class:`Result` and implement
``summary`` (a DataFrame, the headline table) and ``__repr__``; ``finding`` (text computed
from the numbers) and ``metrics`` (JSON-able figures for ``metrics.json``) when they have them.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

__all__ = ["Result"]


class Result:
    """Mixin for result objects (see module docstring)."""

    def summary(self) -> pd.DataFrame:  # pragma: no cover - interface
        """Headline table."""
        raise NotImplementedError

    def finding(self) -> str:
        """What the numbers mean for the business (plain text)."""
        return ""

    def metrics(self) -> dict[str, Any]:
        """JSON-able figures for the run's metrics file."""
        return {}

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        try:
            text = self.finding()
        except Exception:  # the HTML view must never fail
            text = ""
        if text:
            parts.append(f"<p>{html.escape(text)}</p>")
        parts.append(self.summary().to_html(index=False, float_format=lambda v: f"{v:,.4g}"))
        return "".join(parts)
