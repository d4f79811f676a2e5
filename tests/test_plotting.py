"""Charts render Chinese text with the bundled font: no missing glyphs."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
from matplotlib import font_manager

from workbench.report import plotting


def test_cjk_font_is_bundled_and_used():
    plotting.set_theme()
    path = font_manager.findfont(font_manager.FontProperties(family=plotting.CJK_FONT), fallback_to_default=False)
    assert "NotoSansCJK" in path


def test_chinese_figure_renders_without_missing_glyphs(tmp_path):
    plotting.set_theme()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        ax.bar(["华东", "华南", "小程序", "门店"], [3, -1, 2, 5])
        ax.set_title("客户价值分层 · 实付金额 ￥1,234.50 −5%")
        ax.set_xlabel("渠道")
        fig.savefig(tmp_path / "cjk.png")
        plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from" in str(w.message) or "Glyph" in str(w.message)]
    assert missing == []
    assert (tmp_path / "cjk.png").stat().st_size > 5000


def test_without_theme_glyphs_would_be_missing(tmp_path):
    """The check above can fail: DejaVu alone lacks Chinese glyphs."""
    import matplotlib

    with matplotlib.rc_context({"font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"]}):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig, ax = plt.subplots()
            ax.set_title("客户")
            fig.savefig(tmp_path / "x.png")
            plt.close(fig)
    assert any("missing from" in str(w.message) for w in caught)
