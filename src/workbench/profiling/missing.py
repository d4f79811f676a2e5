"""Missing values: which combinations of columns are missing together, and how their gaps correlate."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["missing_patterns", "nullity"]

_NULLITY_ROWS = 1000


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
    out_cols = ["missing_columns", "n_missing_columns", "rows", "share"]
    n = len(frame)
    if n == 0:
        return pd.DataFrame(columns=out_cols)
    cols = cols[:62]
    if not cols:
        return pd.DataFrame([{"missing_columns": "(none)", "n_missing_columns": 0, "rows": n, "share": 1.0}])
    codes = np.zeros(n, dtype=np.int64)
    for j, c in enumerate(cols):
        codes |= frame[c].isna().to_numpy(dtype=bool).astype(np.int64) << j
    if len(cols) <= 20:
        counts = np.bincount(codes, minlength=1)
        uniq = np.flatnonzero(counts)
        counts = counts[uniq]
    else:
        uniq, counts = np.unique(codes, return_counts=True)
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
    return pd.DataFrame(rows, columns=out_cols)


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
    miss_cols = stats.index[stats["n_missing"] > 0].tolist() if len(stats) else []
    miss_cols = sorted(miss_cols, key=lambda c: -int(stats.loc[c, "n_missing"]))
    partial = [c for c in miss_cols if int(stats.loc[c, "n_missing"]) < n]
    if not partial:
        return miss_cols, pd.DataFrame(), pd.DataFrame()
    ind = sample[partial].isna().astype("float64")
    ind = ind.loc[:, ind.std() > 0]
    nullity_corr = ind.corr() if ind.shape[1] >= 2 else pd.DataFrame()
    pos = np.unique(np.linspace(0, n - 1, min(n, _NULLITY_ROWS)).astype(int))
    nullity_sample = frame.iloc[pos][miss_cols].isna()
    return miss_cols, nullity_corr, nullity_sample.reset_index(drop=True)
