"""Missing values: which combinations of columns are missing together, and how their gaps correlate."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["PATTERN_COLUMNS", "missing_patterns", "patterns_frame", "pattern_edges", "nullity", "missing_columns", "nullity_rows"]

_NULLITY_ROWS = 1000
PATTERN_COLUMNS = ["missing_columns", "n_missing_columns", "rows", "share"]


def missing_patterns(frame: pd.DataFrame, cols: list[str], top_n: int) -> pd.DataFrame:
    """Top combinations of missing columns over all rows (bit codes, vectorised).

    Parameters
    ----------
    frame : pandas.DataFrame
    cols : list of str
        Columns with missing values, most missing first (at most 62 are used).
    top_n : int
        Combinations to keep.

    Returns
    -------
    pandas.DataFrame
        ``missing_columns`` (``(none)`` = complete rows), ``n_missing_columns``, ``rows``, ``share``.
    """
    n = len(frame)
    cols = cols[:62]
    edge = pattern_edges(n, cols)
    if edge is not None:
        return edge
    codes = np.zeros(n, dtype=np.int64)
    for j, c in enumerate(cols):
        codes |= frame[c].isna().to_numpy(dtype=bool).astype(np.int64) << j
    if len(cols) <= 20:
        counts = np.bincount(codes, minlength=1)
        uniq = np.flatnonzero(counts)
        counts = counts[uniq]
    else:
        uniq, counts = np.unique(codes, return_counts=True)
    return patterns_frame(uniq, counts, cols, n, top_n)


def pattern_edges(n: int, cols: list[str]) -> pd.DataFrame | None:
    """The patterns of a table without rows (none) or without missing values (one: complete
    rows); None otherwise."""
    if n == 0:
        return pd.DataFrame(columns=PATTERN_COLUMNS)
    if not cols:
        return pd.DataFrame([{"missing_columns": "(none)", "n_missing_columns": 0, "rows": n, "share": 1.0}])
    return None


def patterns_frame(uniq: np.ndarray, counts: np.ndarray, cols: list[str], n: int, top_n: int) -> pd.DataFrame:
    """The table of :func:`missing_patterns` from the rows of each combination.

    Parameters
    ----------
    uniq : numpy.ndarray of int64
        Combinations as bit codes (bit ``j`` set: ``cols[j]`` missing), each once.
    counts : numpy.ndarray of int
        Rows of each.
    cols : list of str
    n : int
        Rows of the table.
    top_n : int
        Combinations to keep (most rows first; ties by code).

    Returns
    -------
    pandas.DataFrame
    """
    order = np.lexsort((uniq, -counts))[:top_n]
    rows = []
    for u, cnt in zip(uniq[order], counts[order], strict=True):
        names = [c for j, c in enumerate(cols) if (int(u) >> j) & 1]
        rows.append(
            {
                "missing_columns": ", ".join(names) if names else "(none)",
                "n_missing_columns": len(names),
                "rows": int(cnt),
                "share": int(cnt) / n,
            }
        )
    return pd.DataFrame(rows, columns=PATTERN_COLUMNS)


def nullity(
    frame: pd.DataFrame, sample: pd.DataFrame, stats: pd.DataFrame
) -> tuple[list[str], pd.DataFrame, pd.DataFrame]:
    """Columns with gaps, the correlation of their missingness, and a sample for the matrix chart.

    Parameters
    ----------
    frame : pandas.DataFrame
        The whole table.
    sample : pandas.DataFrame
        Its sampled rows (for the correlation).
    stats : pandas.DataFrame
        Per-column statistics (``n_missing``).

    Returns
    -------
    (columns, nullity_corr, nullity_sample)
        Columns with missing values, most missing first; the correlation of the missingness
        indicators of the partly missing ones (sampled rows); the missingness of up to 1,000
        evenly spaced rows.
    """
    n = len(frame)
    miss_cols, nullity_corr = missing_columns(sample, stats, n)
    if nullity_corr is None:
        return miss_cols, pd.DataFrame(), pd.DataFrame()
    return miss_cols, nullity_corr, nullity_rows(frame, miss_cols)


def missing_columns(sample: pd.DataFrame, stats: pd.DataFrame, n: int) -> tuple[list[str], pd.DataFrame | None]:
    """Columns with missing values (most missing first) and the correlation of the missingness of
    the partly missing ones over ``sample`` (None when no column is partly missing)."""
    miss_cols = stats.index[stats["n_missing"] > 0].tolist() if len(stats) else []
    miss_cols = sorted(miss_cols, key=lambda c: -int(stats.loc[c, "n_missing"]))
    partial = [c for c in miss_cols if int(stats.loc[c, "n_missing"]) < n]
    if not partial:
        return miss_cols, None
    ind = sample[partial].isna().astype("float64")
    ind = ind.loc[:, ind.std() > 0]
    return miss_cols, ind.corr() if ind.shape[1] >= 2 else pd.DataFrame()


def nullity_rows(frame: pd.DataFrame, miss_cols: list[str]) -> pd.DataFrame:
    """The missingness of ``miss_cols`` in up to 1,000 evenly spaced rows of ``frame``."""
    n = len(frame)
    pos = np.unique(np.linspace(0, n - 1, min(n, _NULLITY_ROWS)).astype(int))
    return frame.iloc[pos][miss_cols].isna().reset_index(drop=True)
