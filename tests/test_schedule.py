"""run-all's schedule: job slots by priority, what follows what, estimates from earlier runs,
analyses of one dataset side by side; and the cheap imports the notebooks start with."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest

from workbench.report import fmt
from workbench.run import execute
from workbench.run.execute import AnalysisResult
from workbench.run.registry import ANALYSES, Analysis
from workbench.run.schedule import (
    DEFAULT_SECONDS,
    Slots,
    critical_paths,
    estimate_seconds,
    predecessors,
)
from workbench.run.status import STATUS_OK


def _pick(*keys: str) -> list[Analysis]:
    return [ANALYSES[k] for k in ANALYSES if k in keys]


def test_free_slot_goes_to_the_highest_priority_waiting():
    slots = Slots(1)
    order: list[float] = []
    queued = threading.Barrier(4)

    def waiter(priority: float) -> None:
        queued.wait()
        with slots.hold(priority):
            order.append(priority)

    with slots.hold(0.0):
        threads = [threading.Thread(target=waiter, args=(p,)) for p in (1.0, 3.0, 2.0)]
        for thread in threads:
            thread.start()
        queued.wait()
        time.sleep(0.3)  # all three wait for the one slot
    for thread in threads:
        thread.join(5)
    assert order == [3.0, 2.0, 1.0]
    assert slots.free == 1


def test_at_most_n_hold_a_slot():
    slots = Slots(2)
    busy, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with slots.hold():
            with lock:
                busy[0] += 1
                peak[0] = max(peak[0], busy[0])
            time.sleep(0.05)
            with lock:
                busy[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert peak[0] == 2
    with pytest.raises(ValueError, match="n >= 1"):
        Slots(0)


def test_predecessors_follow_dependencies_and_artifacts_read():
    after = predecessors(list(ANALYSES.values()))
    assert after["data_profiling"] == set()
    assert after["forecast"] == {"data_profiling"}
    assert after["churn"] == {"data_profiling", "segmentation"}  # reads segments.parquet
    assert after["campaign"] == {"data_profiling", "segmentation"}
    assert after["service"] == {"data_profiling", "churn", "segmentation"}
    # segmentation not in the run: churn waits for profiling only; service still for churn
    after = predecessors(_pick("data_profiling", "churn", "service"))
    assert after["churn"] == {"data_profiling"}
    assert after["service"] == {"data_profiling", "churn"}


def test_critical_path_is_own_seconds_plus_longest_chain_after():
    chosen = _pick("data_profiling", "segmentation", "churn", "service", "forecast")
    seconds = {"data_profiling": 10, "segmentation": 8, "churn": 6, "service": 4, "forecast": 15}
    paths = critical_paths(chosen, seconds)
    assert paths == {"service": 4.0, "churn": 10.0, "segmentation": 18.0, "forecast": 15.0,
                     "data_profiling": 28.0}


def _write_run(folder, name: str, started: str, analyses: list[dict]) -> None:
    folder.mkdir(parents=True)
    record = {"dataset": name, "started": started, "analyses": analyses}
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")


def test_estimates_come_from_the_newest_ok_run_of_the_dataset(tmp_path):
    _write_run(tmp_path / "shop-1", "shop", "2026-01-01T00:00:00", [
        {"key": "forecast", "status": "ok", "seconds": 40.0},
        {"key": "churn", "status": "ok", "seconds": 9.0},
    ])
    _write_run(tmp_path / "shop-2", "shop", "2026-02-01T00:00:00", [
        {"key": "forecast", "status": "ok", "seconds": 30.0},
        {"key": "churn", "status": "failed", "seconds": 1.0},
    ])
    _write_run(tmp_path / "other-1", "other", "2026-03-01T00:00:00", [
        {"key": "forecast", "status": "ok", "seconds": 99.0},
    ])
    got = estimate_seconds(tmp_path, "shop", ["forecast", "churn", "service"])
    assert got == {"forecast": 30.0, "churn": 9.0, "service": DEFAULT_SECONDS["service"]}
    assert estimate_seconds(tmp_path / "missing", "shop", ["churn"]) == {"churn": DEFAULT_SECONDS["churn"]}


def test_side_by_side_respects_the_order_and_keeps_registry_order():
    chosen = list(ANALYSES.values())
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    lock = threading.Lock()

    def run(analysis: Analysis, head: str, done) -> AnalysisResult:
        with lock:
            started[analysis.key] = time.perf_counter()
        assert {r.key for r in done} == predecessors(chosen)[analysis.key]
        time.sleep(0.05)
        with lock:
            ended[analysis.key] = time.perf_counter()
        return AnalysisResult(analysis.key, analysis.title, STATUS_OK)

    results: list[AnalysisResult] = []
    execute._run_side_by_side(chosen, run, "shop", results)
    assert [r.key for r in results] == list(ANALYSES)
    for key, before in predecessors(chosen).items():
        assert all(ended[b] <= started[key] for b in before), key
    # forecast and segmentation both wait for profiling only: they overlap
    assert started["forecast"] < ended["segmentation"] and started["segmentation"] < ended["forecast"]


def test_side_by_side_reraises_a_bug_after_the_others_ended():
    chosen = _pick("data_profiling", "segmentation", "forecast")

    def run(analysis: Analysis, head: str, done) -> AnalysisResult:
        if analysis.key == "segmentation":
            raise RuntimeError("bug in the runner")
        return AnalysisResult(analysis.key, analysis.title, STATUS_OK)

    results: list[AnalysisResult] = []
    with pytest.raises(RuntimeError, match="bug in the runner"):
        execute._run_side_by_side(chosen, run, "shop", results)
    assert [r.key for r in results] == ["data_profiling", "forecast"]


def test_report_settings_of_a_use_block_hold_in_its_thread_only():
    seen: dict[str, str] = {}
    inside = threading.Barrier(2)

    def render(language: str) -> None:
        with fmt.use(language=language):
            inside.wait()  # both blocks open at once
            seen[language] = fmt.settings().language
            inside.wait()

    threads = [threading.Thread(target=render, args=(lang,)) for lang in ("zh", "en")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert seen == {"zh": "zh", "en": "en"}
    assert fmt.settings().language == "en"


def test_configure_inside_a_use_block_ends_with_the_block():
    before = fmt.settings()
    with fmt.use(language="zh"):
        fmt.configure(currency="$")
        assert fmt.settings() == fmt.ReportSettings(currency="$", language="zh")
    assert fmt.settings() == before


def test_session_import_leaves_the_analysis_models_unimported():
    """A notebook's session import reaches every analysis's params only: the analyses' own
    modules (the attribution and CLV models pull in scipy.stats) wait for their first use."""
    modules = ("workbench.attribution.models", "workbench.attribution.when", "workbench.campaign.sections",
               "workbench.churn.cox", "workbench.cross_sell.rules", "workbench.forecast.backtest",
               "workbench.service.voice", "workbench.segmentation.findings", "workbench.value.diagnostics",
               "workbench.profiling.profile", "scipy.stats")
    code = f"import sys, workbench.run.session\nprint([m for m in {modules!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_exports_named_like_their_module_stay_the_function():
    import importlib

    from workbench import attribution, forecast

    for module in ("workbench.attribution.recommend", "workbench.forecast.backtest"):
        importlib.import_module(module)  # the import system names the module on its package
    assert callable(forecast.backtest) and forecast.backtest.__module__ == "workbench.forecast.backtest"
    assert callable(attribution.recommend)
    assert "compare_models" in dir(attribution)
    assert forecast.periods.__name__ == "workbench.forecast.periods"  # a submodule on use
    with pytest.raises(AttributeError, match="no attribute 'no_such_thing'"):
        attribution.no_such_thing  # noqa: B018
