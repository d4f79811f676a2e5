"""Service and voice of the customer: see ``docs/ARCHITECTURE.md`` ("Adding an analysis")."""

from __future__ import annotations

__all__: list[str] = []
