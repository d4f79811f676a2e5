"""Charts of the profiling report: missing values, numeric histograms, dates, correlations, alerts.

Each function draws one table's chart from its :class:`~workbench.profiling.tables.TableProfile`;
:class:`FigureMap` makes the figures of all tables one at a time, as a notebook shows them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes

if TYPE_CHECKING:
    from workbench.profiling.tables import TableProfile

__all__ = [
    "FigureMap",
    "plot_missing_bar",
    "plot_missing",
    "plot_numeric",
    "plot_dates",
    "plot_correlations",
    "plot_alerts",
    "plot_personal_data",
]


class FigureMap(Mapping[str, Any]):
    """Figure name -> figure, each drawn only when it is looked up.

    A session's ``show_all`` saves, shows and closes the figures one by one, so at most one of
    them is open at a time however many tables and date columns there are.

    Parameters
    ----------
    makers : mapping of str to callable
        Figure name -> function without arguments that draws it (a Figure or an Axes).
    """

    def __init__(self, makers: Mapping[str, Callable[[], Any]]) -> None:
        self._makers = dict(makers)

    def __getitem__(self, name: str) -> Any:
        return self._makers[name]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def __repr__(self) -> str:
        return f"FigureMap({', '.join(self._makers)})"


def _nothing(ax: Any, text: str) -> Any:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return ax


def plot_missing_bar(tp: TableProfile, ax: Any = None) -> Any:
    """Missing share per column of one table (horizontal bars, labelled above 0 %).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(8, max(2.5, 0.3 * tp.n_columns + 1)))
    share = tp.stats["p_missing"].astype(float)
    df = pd.DataFrame({"column": share.index.astype(str), "missing": share.to_numpy() * 100})
    sns.barplot(data=df, x="missing", y="column", ax=ax, color=sns.color_palette()[0])
    ax.set_xlabel(t("profiling.plots.missing_axis"))
    ax.set_ylabel("")
    ax.set_xlim(0, 100)
    ax.set_title(t("profiling.plots.missing_title", table=tp.name))
    for i, v in enumerate(df["missing"]):
        if v > 0:
            ax.text(min(v + 1, 92), i, f"{v:.1f}%", va="center", fontsize=8)
    return ax


def plot_missing(tp: TableProfile, ax: Any = None, *, kind: Literal["bar", "matrix", "heatmap"] = "bar") -> Any:
    """Missing values of one table: share per column, where they are, or their correlation.

    Parameters
    ----------
    tp : TableProfile
    ax : matplotlib.axes.Axes, optional
    kind : {'bar', 'matrix', 'heatmap'}, default 'bar'
        ``bar``: missing share per column; ``matrix``: missingness of up to 1,000 evenly
        spaced rows (dark = missing); ``heatmap``: nullity correlation.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    if kind == "bar":
        return plot_missing_bar(tp, ax)
    ax = new_axes(ax, figsize=(8, 4.5))
    data = tp.nullity_sample if kind == "matrix" else tp.nullity_corr
    if data.empty:
        return _nothing(ax, t("profiling.plots.no_missing" if kind == "matrix" else "profiling.plots.few_gaps"))
    if kind == "matrix":
        sns.heatmap(data.astype(int), cbar=False, cmap="Greys", vmin=0, vmax=1, ax=ax, yticklabels=False)
        ax.set_ylabel(t("profiling.plots.matrix_axis"))
        ax.set_title(t("profiling.plots.matrix_title", table=tp.name))
    else:
        sns.heatmap(data, vmin=-1, vmax=1, cmap="RdBu_r", annot=len(data) <= 12, fmt=".2f", ax=ax, square=True)
        ax.set_title(t("profiling.plots.nullity_title", table=tp.name))
    return ax


def _histogram(ax: Any, col: str, x: np.ndarray, st: pd.Series, bins: int) -> None:
    """One histogram: log x axis for a skewed positive column, sign-log for a skewed one."""
    import seaborn as sns

    skew = st.get("skewness", np.nan)
    skewed = pd.notna(skew) and abs(skew) > 2 and x.size > 1
    if skewed and x.min() > 0:
        edges = np.logspace(np.log10(x.min()), np.log10(x.max()), bins + 1) if x.max() > x.min() else bins
        sns.histplot(x, bins=edges, ax=ax)
        ax.set_xscale("log")
        ax.set_title(t("profiling.plots.log_scale", column=col))
    elif skewed:
        sns.histplot(np.sign(x) * np.log1p(np.abs(x)), bins=bins, ax=ax)
        ax.set_title(t("profiling.plots.sign_log", column=col))
    else:
        sns.histplot(x, bins=bins, ax=ax)
        ax.set_title(col)
    ax.set_xlabel("")
    if pd.notna(st.get("median")) and (not skewed or x.min() > 0):
        ax.axvline(st["median"], color="black", ls="--", lw=1)


def plot_numeric(tp: TableProfile, columns: Sequence[str] | None = None, *, bins: int = 40) -> Any:
    """Histograms of numeric columns (sampled rows); log-scaled x axis when a column is
    skewed (|skewness| > 2) and positive, symmetric log when it also has zeros or negatives.

    Parameters
    ----------
    tp : TableProfile
    columns : sequence of str, optional
        Default: every numeric column.
    bins : int, default 40

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    KeyError
        A column that is not numeric.
    """
    import matplotlib.pyplot as plt

    cols = list(columns) if columns is not None else list(tp.numeric_sample.columns)
    unknown = [c for c in cols if c not in tp.numeric_sample.columns]
    if unknown:
        raise KeyError(f"not numeric columns of {tp.name}: {', '.join(unknown)}")
    ncol = min(3, max(1, len(cols)))
    nrow = max(1, math.ceil(len(cols) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False)
    for ax, col in zip(axes.ravel(), cols, strict=False):
        x = tp.numeric_sample[col].to_numpy()
        x = x[np.isfinite(x)]
        if x.size == 0:
            ax.set_title(t("profiling.plots.no_values", column=col))
            continue
        _histogram(ax, col, x, tp.stats.loc[col], bins)
    for ax in axes.ravel()[len(cols):]:
        ax.set_axis_off()
    fig.suptitle(t("profiling.plots.numeric_title", table=tp.name, n=f"{len(tp.numeric_sample):,}"))
    fig.tight_layout()
    return fig


def plot_dates(tp: TableProfile, column: str, ax: Any = None, *, freq: Literal["D", "M"] = "D",
               coverage: pd.DataFrame | None = None) -> Any:
    """Rows per day (spike days marked) or per month (empty months marked) of a datetime column.

    Parameters
    ----------
    tp : TableProfile
    column : str
        A datetime column with values.
    ax : matplotlib.axes.Axes, optional
    freq : {'D', 'M'}, default 'D'
    coverage : pandas.DataFrame, optional
        The monthly coverage (``freq='M'``; :meth:`DataProfile.date_coverage`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.dates as mdates

    ax = new_axes(ax, figsize=(9, 3.5))
    if freq == "M":
        cov = coverage
        width = cov["month"].dt.days_in_month.to_numpy() * 0.85
        ax.bar(cov["month"], cov["rows"], width=width, align="edge")
        for m in cov.loc[cov["gap"], "month"]:
            ax.axvspan(m, m + pd.offsets.MonthBegin(1), color="#c0392b", alpha=0.2, lw=0)
        if cov["gap"].any():
            ax.text(0.01, 0.97, t("profiling.plots.gap_note"), transform=ax.transAxes, va="top", fontsize=8)
        ax.set_ylabel(t("profiling.plots.rows_per_month"))
    else:
        lo, hi = tp.date_windows[column]
        daily = tp.daily_counts[column].loc[lo:hi]
        ax.plot(daily.index, daily.to_numpy(), lw=0.8)
        sp = tp.spikes.get(column)
        if sp is not None and len(sp):
            ax.scatter(sp["day"], sp["rows"], color="#c0392b", zorder=3, s=18, label=t("profiling.plots.spike_day"))
            ax.legend(loc="upper left")
        ax.set_ylabel(t("profiling.plots.rows_per_day"))
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_title(t("profiling.plots.dates_title", column=f"{tp.name}.{column}",
                   per=t("profiling.plots.rows_per_month" if freq == "M" else "profiling.plots.rows_per_day")))
    return ax


def plot_correlations(mat: pd.DataFrame, table: str, ax: Any = None, *,
                      method: Literal["spearman", "cramers_v"] = "spearman") -> Any:
    """Heatmap of a Spearman (numeric) or Cramér's V (categorical) matrix.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import seaborn as sns

    ax = new_axes(ax, figsize=(6, 5))
    if mat.empty:
        return _nothing(ax, t("profiling.plots.few_to_correlate"))
    vmin = -1 if method == "spearman" else 0
    sns.heatmap(mat, vmin=vmin, vmax=1, cmap="RdBu_r" if method == "spearman" else "Blues",
                annot=len(mat) <= 12, fmt=".2f", square=True, ax=ax)  # fmt: skip
    ax.set_title(t(f"profiling.plots.correlation_title_{method}", table=table))
    return ax


def plot_alerts(counts: pd.DataFrame, ax: Any = None) -> Any:
    """Alerts per table by severity (stacked bars).

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per table, one column per severity (``error``, ``warning``, ``info``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(7, 3.5))
    counts = counts.rename(columns=lambda s: category("severity", s))
    counts.plot.barh(stacked=True, ax=ax, color=["#c0392b", "#e67e22", "#7f8c8d"])
    ax.invert_yaxis()
    ax.set_xlabel(t("profiling.plots.alerts_axis"))
    ax.set_ylabel("")
    ax.set_title(t("profiling.plots.alerts_title"))
    return ax


def plot_personal_data(counts: pd.DataFrame, ax: Any = None) -> Any:
    """Personal-data columns per kind, stacked by treatment (labels are kinds, never values).

    Parameters
    ----------
    counts : pandas.DataFrame
        One row per kind, one column per treatment, both as labels in the run's language
        (``categories.pii_kind``, ``categories.pii_treatment``), cells = columns; empty when no
        personal data was found.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, figsize=(7, max(2.5, 0.4 * len(counts) + 1.5)))
    if counts.empty:
        return _nothing(ax, t("profiling.plots.no_personal"))
    colors = {category("pii_treatment", k): v for k, v in
              {"mask": "#2980b9", "pseudonymize": "#27ae60", "drop": "#7f8c8d", "keep": "#c0392b"}.items()}
    counts.plot.barh(stacked=True, ax=ax, color=[colors.get(str(c), "#8e44ad") for c in counts.columns])
    ax.invert_yaxis()
    ax.set_xlabel(t("profiling.plots.personal_axis"))
    ax.set_ylabel("")
    ax.set_title(t("profiling.plots.personal_title"))
    return ax
