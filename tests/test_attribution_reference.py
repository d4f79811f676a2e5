"""The exact Markov removal effects against the ``channelattribution`` package (its Markov model
run by ``benchmarks/bench_attribution.py --make-reference`` in its own environment, stored in
``tests/fixtures/channelattribution_reference.json``): the same path table, orders 1 to 3,
conversions and revenue, within 1 %."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_attribution import FIXTURE, compare  # noqa: E402


def test_fixture_is_the_package_run_on_the_generator_paths() -> None:
    ref = json.loads(FIXTURE.read_text())
    assert ref["version"] == "2.2.5" and ref["nsim_start"] >= 1e6
    assert sorted(ref["orders"]) == ["1", "2", "3"]
    assert sum(p["total_conversions"] for p in ref["paths"]) > 500


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_agree_with_channelattribution(order: int) -> None:
    rows = [r for r in compare() if r["order"] == order]
    assert len(rows) == 6
    for r in rows:
        assert abs(r["rel_diff"]) < 0.01, r
        assert abs(r["rel_diff_value"]) < 0.01, r
        assert abs(r["removal_ours"] / r["removal_theirs"] - 1) < 0.01, r
