"""What the service analyses share: ticket checks, timing columns, a median's interval."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.report.fmt import count
from workbench.report.i18n import t

__all__ = ["check_columns", "ticket_times", "median_interval", "known_customers", "group_levels", "OTHER"]

#: Level of categories lumped together (beyond ``max_levels``).
OTHER = "(other)"


def check_columns(frame: pd.DataFrame, table: str, needed: tuple[str, ...], *, option: str = "") -> None:
    """Stop when ``needed`` columns are missing, naming the table and what to map."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise AnalysisError(
            f"{table}: column(s) {', '.join(map(repr, missing))} not found (have: {', '.join(map(str, frame.columns[:15]))}); "
            f"map them in tables.{table}.columns{option}"
        )
    if len(frame) == 0:
        raise AnalysisError(f"{table}: the table has no rows; check tables.{table}")


def ticket_times(tickets: pd.DataFrame) -> pd.DataFrame:
    """Opened time, first response and resolution in hours, resolved flag (same index).

    Negative durations (a response logged before the ticket was opened) become missing.
    """
    opened = pd.to_datetime(tickets["opened_at"], errors="coerce")
    out = pd.DataFrame(index=tickets.index)
    out["opened_at"] = opened
    for col, name in (("first_response_at", "first_response_hours"), ("resolved_at", "resolution_hours")):
        if col in tickets.columns:
            h = (pd.to_datetime(tickets[col], errors="coerce") - opened).dt.total_seconds() / 3600
            out[name] = h.where(h >= 0)
        else:
            out[name] = np.nan
    out["resolved"] = tickets["resolved_at"].notna().to_numpy() if "resolved_at" in tickets.columns else False
    return out


def median_interval(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Median with its distribution-free interval (order statistics of the binomial ranks).

    Examples
    --------
    >>> median_interval(np.arange(1.0, 101.0))
    (50.5, 40.0, 60.0)
    """
    from scipy.stats import norm

    x = np.sort(np.asarray(values, dtype="float64"))
    x = x[np.isfinite(x)]
    n = x.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    z = norm.ppf(1 - (1 - confidence) / 2)
    lo = int(np.floor(n / 2 - z * np.sqrt(n) / 2))
    hi = int(np.ceil(n / 2 + z * np.sqrt(n) / 2))
    return float(np.median(x)), float(x[max(lo - 1, 0)]), float(x[min(hi, n) - 1])


def known_customers(frame: pd.DataFrame, customers: pd.DataFrame | None, *, table: str) -> pd.DataFrame:
    """Rows whose ``customer_id`` is in ``customers``; the others are left out with a warning that
    names how many and a few examples (all unknown stops)."""
    if customers is None or "customer_id" not in customers.columns:
        return frame
    known = frame["customer_id"].isin(customers["customer_id"])
    n_bad = int((~known).sum())
    if n_bad == 0:
        return frame
    examples = ", ".join(map(repr, frame.loc[~known, "customer_id"].drop_duplicates().head(3)))
    if n_bad == len(frame):
        raise AnalysisError(
            f"{table}.customer_id: none of the {len(frame):,} rows names a known customer (e.g. {examples}); "
            f"the keys do not match customers.customer_id: check tables.{table}.columns.customer_id"
        )
    warnings.warn(t("service.warn.unknown_customers", table=table, n=count(n_bad), total=count(len(frame)),
                    examples=examples), DataQualityWarning, stacklevel=3)  # fmt: skip
    return frame[known.to_numpy()]


def group_levels(values: pd.Series, *, column: str, max_levels: int) -> pd.Series:
    """Levels of a category column as text; beyond the ``max_levels`` most frequent, ``(other)``
    with a warning (a free-text category column with hundreds of values)."""
    lab = values.astype("string").fillna("(missing)").str.strip().astype(str)
    vc = lab.value_counts()
    if len(vc) <= max_levels:
        return lab
    keep = set(vc.index[:max_levels])
    share = float(vc.iloc[max_levels:].sum() / vc.sum())
    warnings.warn(t("service.warn.many_levels", column=column, n=count(len(vc)), max_levels=max_levels,
                    share=f"{share:.0%}", examples=", ".join(map(repr, vc.index[max_levels:max_levels + 3]))),
                  DataQualityWarning, stacklevel=3)  # fmt: skip
    return lab.where(lab.isin(keep), OTHER)
