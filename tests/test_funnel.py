"""Funnels: generator truth reproduced exactly, and hand-made ordering cases."""

from __future__ import annotations

import json
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench.campaign.funnel import funnel
from workbench.core.errors import AnalysisError, ParamsError
from workbench.stats import wilson_interval
from workbench.synth import simulate as synth

matplotlib.use("Agg")

STEPS = ["exposure", "visit", "add_to_cart", "checkout", "order"]


@pytest.fixture(scope="module")
def synth_data() -> synth.SynthData:
    return synth.generate(5000, seed=42)


def _ev(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """rows: (customer_id, session_id, event_time, event_name, channel)."""
    df = pd.DataFrame(
        rows, columns=["customer_id", "session_id", "event_time", "event_name", "channel"]
    )
    df["event_time"] = pd.to_datetime(df["event_time"])
    return df


HAND = _ev(
    [
        # s1: full funnel in order
        ("a", "s1", "2025-01-01 10:00:00", "exposure", "app"),
        ("a", "s1", "2025-01-01 10:01:00", "visit", "app"),
        ("a", "s1", "2025-01-01 10:05:00", "add_to_cart", "app"),
        ("a", "s1", "2025-01-01 10:08:00", "checkout", "app"),
        ("a", "s1", "2025-01-01 10:10:00", "order", "app"),
        # s2: order before checkout -> stops at add_to_cart; checkout at the same second as cart -> no
        ("b", "s2", "2025-01-01 11:00:00", "exposure", "web"),
        ("b", "s2", "2025-01-01 11:02:00", "visit", "web"),
        ("b", "s2", "2025-01-01 11:03:00", "order", "web"),
        ("b", "s2", "2025-01-01 11:04:00", "add_to_cart", "web"),
        ("b", "s2", "2025-01-01 11:04:00", "checkout", "web"),
        # s3: visit before exposure does not count; a later visit does (3 h later)
        ("c", "s3", "2025-01-01 08:00:00", "visit", "web"),
        ("c", "s3", "2025-01-01 09:00:00", "exposure", "web"),
        ("c", "s3", "2025-01-01 12:00:00", "visit", "web"),
        # s4: exposure only; an unrelated event name is ignored
        ("d", "s4", "2025-01-01 09:00:00", "exposure", "app"),
        ("d", "s4", "2025-01-01 09:01:00", "search", "app"),
        # s5: customer a again: cart and checkout in a new session without exposure (session unit: nothing)
        ("a", "s5", "2025-01-02 09:00:00", "add_to_cart", "app"),
    ]
)


def test_hand_case_session_unit() -> None:
    f = funnel(HAND, steps=STEPS, unit="session")
    assert f.table["reached"].tolist() == [4, 3, 2, 1, 1]
    assert f.table["dropped"].tolist() == [0, 1, 1, 1, 0]
    lo, hi = wilson_interval(3, 4)
    assert f.table.loc[1, "step_rate"] == pytest.approx(0.75)
    assert f.table.loc[1, "step_rate_low"] == pytest.approx(lo[0])
    assert f.table.loc[4, "overall_rate"] == pytest.approx(0.25)
    tm = f.timing().set_index("step")
    # exposure -> visit: s1 1 min, s2 2 min, s3 180 min -> median 2 min
    assert tm.loc["visit", "median_minutes"] == pytest.approx(2.0)
    assert tm.loc["visit", "units"] == 3
    assert tm.loc["add_to_cart", "median_minutes"] == pytest.approx(3.0)  # 4 and 2 min
    assert f.leaks["largest_drop_units"] == 1
    assert f.leaks["lowest_rate_step"] == "checkout"  # 1 of 2 pass (visit 3/4, cart 2/3, order 1/1)
    # max_step_hours: the 3-hour visit of s3 no longer counts
    f2 = funnel(HAND, steps=STEPS, unit="session", max_step_hours=1)
    assert f2.table["reached"].tolist() == [4, 2, 2, 1, 1]


def test_hand_case_customer_unit_and_groups() -> None:
    f = funnel(HAND, steps=STEPS, unit="customer", by=["channel"])
    # customer a: full funnel in s1 (s5 adds nothing new); b: to add_to_cart; c: to visit; d: exposure only
    assert f.table["reached"].tolist() == [4, 3, 2, 1, 1]
    g = f.by_group().set_index(["channel", "step"])["reached"]
    assert g.loc[("app", "order")] == 1 and g.loc[("app", "exposure")] == 2
    assert g.loc[("web", "add_to_cart")] == 1 and g.loc[("web", "checkout")] == 0
    seg = pd.DataFrame({"customer_id": ["a", "b", "c"], "tier": ["gold", "gold", "silver"]})
    f3 = funnel(HAND, steps=STEPS, unit="session", by=["tier"], segments=seg)
    g3 = f3.by_group().set_index(["tier", "step"])["reached"]
    assert g3.loc[("gold", "exposure")] == 2 and g3.loc[("gold", "order")] == 1
    assert g3.loc[("(missing)", "exposure")] == 1  # customer d has no segment row


def test_synthetic_truth_reproduced_exactly(synth_data) -> None:
    f = funnel(synth_data.events, steps=STEPS, unit="session", by=["channel"])
    truth = synth_data.truth["funnel"]["realised"]
    g = f.by_group()
    for ch, t in truth.items():
        got = g[g["channel"] == ch].set_index("step")["reached"].astype(int).to_dict()
        assert got == t["reached"], ch
        rates = g[g["channel"] == ch].set_index("step")["step_rate"]
        for step, r in t["step_conversion"].items():
            assert rates[step] == pytest.approx(r, abs=1e-6)
    assert int(f.table["reached"].iloc[0]) == synth_data.truth["funnel"]["n_sessions"]
    # the set step conversions lie inside the Wilson intervals in most cells (12 cells, 95 % each)
    inside = 0
    for ch, rates in synth_data.truth["funnel"]["step_conversion"].items():
        sub = g[g["channel"] == ch].set_index("step")
        inside += sum(
            sub.loc[s, "step_rate_low"] <= p <= sub.loc[s, "step_rate_high"]
            for s, p in rates.items()
        )
    assert inside >= 10
    # channels really differ at the first step (web 0.30 vs app 0.45 vs mini 0.50)
    assert f.tests.set_index("step").loc["visit", "p_holm"] < 1e-10
    # steps take the set mean minutes plus 10 s (exponential): the median is log(2) * mean + 10 s
    tm = f.timing()
    tm = tm[tm["channel"] == "(all)"].set_index("step")
    for step, mean in synth_data.truth["funnel"]["step_minutes_mean"].items():
        assert tm.loc[step, "median_minutes"] == pytest.approx(np.log(2) * mean + 1 / 6, rel=0.15)
    assert "biggest leak is exposure -> visit" in f.finding()
    json.dumps(f.metrics())
    f.plot()
    f.plot_by_group()
    assert repr(f).startswith("FunnelResult(20,909 sessions")


def test_missing_step_names_event_names(synth_data) -> None:
    with pytest.raises(
        AnalysisError,
        match=r"'purchase' never occur.*'exposure' \(\d.*fix steps=",
    ):
        funnel(synth_data.events, steps=["exposure", "visit", "purchase"])
    with pytest.raises(AnalysisError, match=r"did you mean 'add_to_cart'"):
        funnel(synth_data.events, steps=["exposure", "add_to_card"])


def test_bad_params_and_columns(tmp_path) -> None:
    from workbench.run.params import params_from_dict

    for steps, message in ((["exposure"], "at least two steps"), (["exposure", "visit", "exposure"], "appear twice")):
        doc = {"name": "t", "as_of": "2024-12-31", "tables": {}, "analyses": {"campaign": {"funnel": {"steps": steps}}}}
        with pytest.raises(ParamsError, match=r"analyses\.campaign\.funnel\.steps.*" + message):
            params_from_dict(doc, base_dir=tmp_path, check_files=False)
    with pytest.raises(AnalysisError, match="at least two steps"):
        funnel(HAND, steps=["exposure"])
    with pytest.raises(AnalysisError, match="appear twice"):
        funnel(HAND, steps=["exposure", "visit", "exposure"])
    with pytest.raises(AnalysisError, match="session_id.*unit: customer"):
        funnel(HAND.drop(columns="session_id"), steps=STEPS)
    with pytest.raises(AnalysisError, match=r"group column 'chanel'.*did you mean 'channel'"):
        funnel(HAND, steps=STEPS, by=["chanel"])


def test_input_not_modified_and_missing_times_dropped() -> None:
    ev = HAND.copy()
    ev.loc[0, "event_time"] = pd.NaT
    before = ev.copy()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        f = funnel(ev, steps=STEPS)
    pd.testing.assert_frame_equal(ev, before)
    assert any("no session_id or no event_time" in str(w.message) for w in rec)
    assert f.table["reached"].iloc[0] == 3  # s1 lost its exposure
