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
