"""The ``workbench`` command: help, exit codes, input errors without tracebacks, summaries."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from workbench.run import cli
from workbench.run import execute as runner
from workbench.run import registry as analyses
from workbench.run.registry import Analysis

FIXTURE_NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"
COMMANDS = ["run", "run-all", "validate", "synth", "list", "index"]

ORDERS_CSV = (
    "订单号,会员ID,下单时间,实付金额\n"
    "A1,C1,2024-01-05 10:00,12.50\n"
    "A2,C2,2024-02-06 11:00,—\n"
    "A3,C1,2024-03-07 12:00,7.25\n"
)


def write_dataset(folder: Path, *, name: str = "tiny", csv: str | None = ORDERS_CSV,
                  key: str = "tables", path: str | None = None) -> Path:
    """A tiny params file (and its orders CSV unless ``csv`` is None); returns the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    if csv is not None:
        (folder / f"{name}_orders.csv").write_text(csv, encoding="utf-8")
    params = folder / f"{name}.yaml"
    params.write_text(
        f"name: {name}\n"
        "as_of: 2024-12-31\n"
        f"{key}:\n"
        "  orders:\n"
        f"    path: {path or name + '_orders.csv'}\n"
        "    columns: {order_id: 订单号, customer_id: 会员ID, order_time: 下单时间, amount: 实付金额}\n",
        encoding="utf-8",
    )
    return params


def workbench_script() -> Path:
    script = Path(sys.executable).parent / "workbench"
    if not script.exists():
        pytest.skip("console script not installed next to this interpreter")
    return script


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_for_every_command(command, capsys):
    argv = ["--help"] if command is None else [command, "--help"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: workbench")
    assert "example" in out
    if command is None:
        for name in COMMANDS:
            assert name in out


def test_usage_error_exits_2(capsys):
    assert cli.main(["run"]) == 2
    assert "required" in capsys.readouterr().err


def test_bad_params_key_exit_2_without_traceback(tmp_path):
    params = write_dataset(tmp_path, key="tabels")
    for args in (["validate", "-p", str(params)],
                 ["run-all", "-p", str(params), "--reports", str(tmp_path / "r"), "--no-progress"]):
        proc = subprocess.run([str(workbench_script()), *args], capture_output=True, text=True,
                              cwd=tmp_path, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "did you mean 'tables'" in proc.stderr
        assert "error:" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_data_file_is_named(tmp_path, capsys):
    params = write_dataset(tmp_path, csv=None, path="exports/orders_2024.csv")
    assert cli.main(["validate", "-p", str(params)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "tables.orders.path" in err and "orders_2024.csv" in err


def test_validate_prints_intake_per_table(tmp_path, capsys):
    params = write_dataset(tmp_path)
    assert cli.main(["validate", "-p", str(params)]) == 0
    out = capsys.readouterr().out
    assert "orders: " in out and "tiny_orders.csv" in out
    assert "csv" in out and "utf-8" in out and "3 rows" in out
    assert "订单号" in out and "实付金额" in out
    assert "'—'×1" in out, "placeholder counted"
    assert "ok: 1 table(s)" in out


def test_unknown_analysis_did_you_mean(tmp_path, capsys):
    params = write_dataset(tmp_path)
    assert cli.main(["run", "chrun", "-p", str(params), "--reports", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'churn'" in err and "Traceback" not in err
    assert cli.main(["run-all", "-p", str(params), "--only", "segmentaton"]) == 2
    assert "did you mean 'segmentation'" in capsys.readouterr().err


def test_rejected_data_exit_2_and_next_dataset_runs(tmp_path, capsys):
    broken = write_dataset(tmp_path / "a", name="broken", csv="订单号,会员ID,下单时间\nA1,C1,2024-01-05\n")
    good = write_dataset(tmp_path / "b", name="good")
    reports = tmp_path / "reports"
    # --only an analysis the params do not enable: intake runs, no kernel starts
    code = cli.main(["run-all", "-p", str(broken), "-p", str(good), "--only", "churn",
                     "--reports", str(reports), "--no-progress"])
    assert code == 2
    captured = capsys.readouterr()
    assert "error: broken: orders" in captured.err and "amount" in captured.err
    assert "Traceback" not in captured.err
    assert "good" in captured.out and "nothing to run" in captured.out
    assert (reports / "index.html").exists()
    assert len(list(reports.glob("good-*/intake/orders.parquet"))) == 1


def test_failed_analysis_exit_1_names_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", FIXTURE_NOTEBOOKS)
    monkeypatch.setattr(analyses, "ANALYSES", {
        "data_profiling": Analysis("data_profiling", "01_data_profiling.ipynb", "Works"),
        "segmentation": Analysis("segmentation", "02_segmentation_value.ipynb", "Fails on purpose"),
    })  # fmt: skip
    params = write_dataset(tmp_path)
    reports = tmp_path / "reports"
    code = cli.main(["run", "segmentation", "-p", str(params), "--reports", str(reports), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    assert "failed: tiny · segmentation (ContractError: orders.amount: fixture boom" in captured.err
    assert "Executing" not in captured.err, "--no-progress"
    assert "[1/1] tiny · segmentation …" in captured.err
    for column in ("dataset", "analysis", "status", "seconds", "report"):
        assert column in captured.out
    assert "02_segmentation_value/report.html" in captured.out
    assert "index: " in captured.out
    assert len(list(reports.glob("tiny-*/02_segmentation_value/notebook.ipynb"))) == 1


def test_keyboard_interrupt_exit_130(tmp_path, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_all", interrupted)
    assert cli.main(["run-all", "-p", str(tmp_path / "x.yaml")]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_synth_passes_options(tmp_path, monkeypatch, capsys):
    calls = []

    def write_example(out_dir, **kwargs):
        calls.append((out_dir, kwargs))
        return {"orders": Path(out_dir) / "orders.csv"}

    monkeypatch.setitem(sys.modules, "workbench.synth.export", types.SimpleNamespace(write_example=write_example))
    code = cli.main(["synth", "--customers", "120", "--seed", "7", "--out", str(tmp_path),
                     "--no-defects", "--format", "canonical"])
    assert code == 0
    assert calls == [(tmp_path, {"n_customers": 120, "seed": 7, "defects": False,
                                 "formats": "canonical"})]
    assert "orders.csv" in capsys.readouterr().out


def test_list_and_index(tmp_path, capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for key, analysis in analyses.ANALYSES.items():
        assert key in out and analysis.notebook in out
    assert cli.main(["index", "--reports", str(tmp_path / "reports")]) == 0
    assert "0 run(s)" in capsys.readouterr().out
    assert (tmp_path / "reports" / "index.html").exists()


def test_lang_and_pdf_reach_the_runner(tmp_path, monkeypatch, capsys):
    calls = []

    def fake(name):
        def run(*args, **kwargs):
            calls.append((name, kwargs["language"], kwargs["pdf"]))
            analysis = runner.AnalysisResult("churn", "Churn", "ok", note="PDF not written: RuntimeError: no chromium")
            result = runner.RunResult(dataset="tiny", params_file=tmp_path / "x.yaml", status="ok",
                                      analyses=(analysis,))
            return [result] if name == "run_all" else result
        return run

    monkeypatch.setattr(runner, "run_all", fake("run_all"))
    monkeypatch.setattr(runner, "run_analysis", fake("run_analysis"))
    reports = ["--reports", str(tmp_path / "r")]
    assert cli.main(["run-all", "-p", "x.yaml", "--lang", "zh", "--pdf", *reports]) == 0
    assert cli.main(["run", "churn", "-p", "x.yaml", "--lang", "en", *reports]) == 0
    assert cli.main(["run-all", "-p", "x.yaml", *reports]) == 0
    assert calls == [("run_all", "zh", True), ("run_analysis", "en", False), ("run_all", None, False)]
    err = capsys.readouterr().err
    assert "note: tiny · churn: PDF not written: RuntimeError: no chromium" in err
    assert cli.main(["run-all", "-p", "x.yaml", "--lang", "fr"]) == 2, "zh or en only"


def test_index_lang(tmp_path, capsys):
    reports = tmp_path / "reports"
    assert cli.main(["index", "--reports", str(reports), "--lang", "zh"]) == 0
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "还没有运行记录" in page
    assert cli.main(["index", "--reports", str(reports)]) == 0
    assert '<html lang="en">' in (reports / "index.html").read_text(encoding="utf-8")
