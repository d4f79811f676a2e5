"""The notebook session names the params key of an option a library message mentions."""

from __future__ import annotations

from workbench.campaign.params import CampaignParams
from workbench.churn.params import ChurnParams
from workbench.profiling.params import ProfilingParams
from workbench.run.session import params_hint


def test_option_keyword_gets_its_params_key_through_nested_sections():
    assert params_hint("more than max_levels=30 levels", ChurnParams, "analyses.churn") == (
        "more than max_levels=30 levels (params: analyses.churn.max_levels)"
    )
    assert params_hint("no column: fix label.flag_column='x'", ChurnParams, "analyses.churn").endswith(
        "(params: analyses.churn.label.flag_column)"
    )
    text = params_hint("set cuped_covariate= to a pre-period column", CampaignParams, "analyses.campaign")
    assert text.endswith("(params: analyses.campaign.experiment.cuped_covariate)")


def test_shared_cleaning_options_get_their_params_key():
    text = params_hint("set duplicate_keys= to keep_first", ProfilingParams, "analyses.data_profiling")
    assert text == "set duplicate_keys= to keep_first (params: cleaning.duplicate_keys)"


def test_unknown_or_ambiguous_options_and_named_keys_are_left_alone():
    assert params_hint("x=3 is odd", ChurnParams, "analyses.churn") == "x=3 is odd"
    already = "fix analyses.churn.max_levels: max_levels=30"
    assert params_hint(already, ChurnParams, "analyses.churn") == already
    # `enabled` exists in several nested sections of campaign: no single key to name
    assert params_hint("enabled=False", CampaignParams, "analyses.campaign") == "enabled=False"


def test_show_draws_a_figure_once_and_displays_the_saved_png(tmp_path, monkeypatch):
    """The notebook shows the PNG it saved (drawn once), as large on screen as a figure drawn at
    ``figure.dpi``, and closes the figure."""
    from pathlib import Path

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import display as ipy

    from workbench.run.params import load_params
    from workbench.run.session import FIGURE_DPI, RunContext

    example = Path(__file__).resolve().parents[1] / "params" / "example.yaml"
    ctx = RunContext(params=load_params(example), run_dir=tmp_path, analysis="churn", params_file=example)
    shown = []
    monkeypatch.setattr(ipy, "display", lambda *objs, **kw: shown.extend(objs))
    draws = []
    fig, ax = plt.subplots(figsize=(4, 2))
    ax.plot([0, 1], [1, 0])
    fig.canvas.mpl_connect("draw_event", lambda event: draws.append(event))
    ctx.show(ax, "line")
    saved = ctx.figures_dir / "line.png"
    (image,) = [o for o in shown if isinstance(o, ipy.Image)]
    assert image.data == saved.read_bytes()
    assert len(draws) == 2  # savefig with a tight box draws twice; displaying the figure drew twice more
    pixels = int.from_bytes(image.data[16:20], "big")
    assert abs(pixels - 4 * FIGURE_DPI) < 0.15 * 4 * FIGURE_DPI  # tight bounding box, about 4 in
    assert image.width == round(pixels * matplotlib.rcParams["figure.dpi"] / FIGURE_DPI)
    assert not plt.fignum_exists(fig.number)
