"""Chart theme with a CJK font, so Chinese labels and values render in every figure.

The font is Noto Sans CJK SC, shipped by the PyPI package ``noto-cjk-sans-otc`` (a declared
dependency): nothing is installed by hand and nothing is downloaded at run time.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib

__all__ = ["CJK_FONT", "register_cjk_font", "set_theme", "PALETTE"]

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
