"""Chart theme with a CJK font, so Chinese labels and values render in every figure, and the
one preamble every ``plot(ax=None)`` starts with.

The font is Noto Sans CJK SC, shipped by the PyPI package ``noto-cjk-sans-otc`` (a declared
dependency): nothing is installed by hand and nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import matplotlib
import pandas as pd

__all__ = ["CJK_FONT", "register_cjk_font", "set_theme", "PALETTE", "new_axes", "bar_chart"]

CJK_FONT = "Noto Sans CJK SC"
PALETTE = "deep"


@lru_cache(maxsize=1)
def register_cjk_font() -> str:
    """Register the bundled Noto Sans CJK font with matplotlib and return its family name."""
    import noto_cjk_sans_otc
    from matplotlib import font_manager

    path = str(noto_cjk_sans_otc.FONT_PATH)
    font_manager.fontManager.addfont(path)
    return CJK_FONT


def set_theme(*, context: str = "notebook", font_scale: float = 1.0) -> None:
    """Apply the workbench's seaborn theme with the CJK font first in the fallback list.

    Parameters
    ----------
    context : str, default "notebook"
        seaborn plotting context.
    font_scale : float, default 1.0
        Font size multiplier.
    """
    import seaborn as sns

    family = register_cjk_font()
    sns.set_theme(context=context, style="whitegrid", palette=PALETTE, font_scale=font_scale)
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [family, "DejaVu Sans"]
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["figure.dpi"] = 100
    matplotlib.rcParams["figure.figsize"] = (8, 4.5)


def new_axes(ax: Any = None, *, figsize: tuple[float, float] | None = None) -> Any:
    """The axes a ``plot(ax=None)`` draws on: ``ax`` itself, or one new figure of ``figsize``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
    figsize : (width, height), optional
        Inches; matplotlib's default when omitted.

    Returns
    -------
    matplotlib.axes.Axes
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def bar_chart(frame: pd.DataFrame, *, value: str | None = None, label: str | None = None,
              ax: Any = None, title: str = "") -> Any:
    """Horizontal bars of one numeric column of ``frame``, labelled by another column.

    Parameters
    ----------
    frame : DataFrame
    value : str, optional
        Numeric column (default: the first numeric one).
    label : str, optional
        Label column (default: the first non-numeric one, else the row number).
    ax : matplotlib.axes.Axes, optional
    title : str

    Returns
    -------
    matplotlib.axes.Axes
    """
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])
               and not pd.api.types.is_bool_dtype(frame[c])]
    other = [c for c in frame.columns if c not in numeric]
    value = value or (numeric[0] if numeric else None)
    label = label or (other[0] if other else None)
    head = frame.head(20)
    ax = new_axes(ax, figsize=(7, 0.3 * max(len(head), 1) + 1.2))
    if value is None or head.empty:
        ax.text(0.5, 0.5, "nothing to chart", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    labels = head[label].astype(str).to_numpy() if label else [str(i) for i in range(len(head))]
    ax.barh(labels, pd.to_numeric(head[value], errors="coerce").fillna(0).to_numpy())
    ax.invert_yaxis()
    ax.set_xlabel(str(value))
    if title:
        ax.set_title(title)
    return ax
