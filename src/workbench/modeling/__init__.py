"""Models shared by more than one analysis (propensity scoring, survival): no analysis imports another."""

from __future__ import annotations

__all__: list[str] = []
