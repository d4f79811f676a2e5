"""Batch runner: run folders, run.json, reports without code, failures, skips and the index.

One real papermill batch (two kernels, ~10 s) is shared by the module; the fixture notebooks in
``tests/fixtures/notebooks`` stand in for the analyses through a patched registry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from workbench.core.errors import WorkbenchError
from workbench.run import execute as runner
from workbench.run import html as report_html
from workbench.run import kernel
from workbench.run import registry as analyses
from workbench.run.registry import Analysis

FIXTURE_NOTEBOOKS = Path(__file__).parent / "fixtures" / "notebooks"

ORDERS_CSV = (
    "订单号,会员ID,下单时间,实付金额\n"
    "A1,C1,2024-01-05 10:00,12.50\n"
    "A2,C2,2024-02-06 11:00,30\n"
    "A3,C1,2024-03-07 12:00,7.25\n"
)


def write_dataset(folder: Path, *, name: str = "tiny", csv: str = ORDERS_CSV, key: str = "tables") -> Path:
    """A tiny params file plus its orders CSV; returns the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_orders.csv").write_text(csv, encoding="utf-8")
    params = folder / f"{name}.yaml"
    params.write_text(
        f"name: {name}\n"
        "title: Tiny shop\n"
        "as_of: 2024-12-31\n"
        f"{key}:\n"
        "  orders:\n"
        f"    path: {name}_orders.csv\n"
        "    columns: {order_id: 订单号, customer_id: 会员ID, order_time: 下单时间, amount: 实付金额}\n"
        "analyses:\n"
        "  segmentation: {enabled: true}\n"
        "  churn: {enabled: true}\n"
        "  campaign: {enabled: true}\n",
        encoding="utf-8",
    )
    return params


def fixture_registry() -> dict[str, Analysis]:
    """Real keys and notebook names (the kernel's session resolves folders with the real
    registry), but: segmentation fails, data_profiling runs after it, churn depends on the
    failure, campaign's notebook does not exist."""
    return {
        "segmentation": Analysis("segmentation", "02_segmentation_value.ipynb", "Fails on purpose"),
        "data_profiling": Analysis("data_profiling", "01_data_profiling.ipynb", "Works"),
        "churn": Analysis("churn", "03_churn.ipynb", "Needs segmentation", depends_on=("segmentation",)),
        "campaign": Analysis("campaign", "04_campaign_evaluation.ipynb", "No notebook",
                             depends_on=("data_profiling",)),
    }


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    """run_all over [bad params, data the contract rejects, a good dataset]."""
    root = tmp_path_factory.mktemp("batch")
    bad_params = write_dataset(root / "bad", name="bad", key="tabels")
    broken = write_dataset(root / "broken", name="broken", csv="订单号,会员ID,下单时间\nA1,C1,2024-01-05\n")
    tiny = write_dataset(root / "tiny")
    reports = root / "reports"
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(analyses, "NOTEBOOK_DIR", FIXTURE_NOTEBOOKS)
        mp.setattr(analyses, "ANALYSES", fixture_registry())
        with contextlib.redirect_stderr(err):
            results = runner.run_all([bad_params, broken, tiny], reports_dir=reports, progress=True)
        yield {"results": results, "reports": reports, "stderr": err.getvalue(), "root": root}


def _tiny(batch) -> runner.RunResult:
    return batch["results"][2]


def _by_key(result: runner.RunResult) -> dict[str, runner.AnalysisResult]:
    return {a.key: a for a in result.analyses}


def test_invalid_params_stop_only_that_dataset(batch):
    bad = batch["results"][0]
    assert bad.status == runner.STATUS_INVALID
    assert bad.run_dir is None and bad.analyses == ()
    assert "did you mean 'tables'" in bad.error
    assert _tiny(batch).analyses, "the next params file still ran"


def test_rejected_data_recorded_as_invalid_input(batch):
    broken = batch["results"][1]
    assert broken.status == runner.STATUS_INVALID
    assert "amount" in broken.error and "orders" in broken.error
    record = json.loads((broken.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "invalid input"
    assert record["error"] == broken.error
    assert record["analyses"] == []
    assert sorted(p.name for p in broken.run_dir.iterdir()) == ["run.json"]


def test_run_folder_layout(batch):
    run_dir = _tiny(batch).run_dir
    assert run_dir.parent == batch["reports"].resolve()
    assert re.fullmatch(r"tiny-\d{8}-\d{6}", run_dir.name)
    files = {p.relative_to(run_dir).as_posix() for p in run_dir.rglob("*") if p.is_file()}
    assert {
        "run.json",
        "intake/orders.parquet",
        "intake/intake.json",
        "01_data_profiling/notebook.ipynb",
        "01_data_profiling/report.html",
        "01_data_profiling/metrics.json",
        "02_segmentation_value/notebook.ipynb",
        "02_segmentation_value/report.html",
    } <= files
    assert not (run_dir / "03_churn").exists()


def test_run_json(batch):
    result = _tiny(batch)
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["dataset"] == "tiny"
    assert record["title"] == "Tiny shop"
    assert record["as_of"] == "2024-12-31"
    assert record["params_file"] == str(batch["root"] / "tiny" / "tiny.yaml")
    assert record["status"] == "failed"
    started = dt.datetime.fromisoformat(record["started"])
    assert dt.datetime.fromisoformat(record["finished"]) >= started
    entries = {a["key"]: a for a in record["analyses"]}
    assert [a["key"] for a in record["analyses"]] == list(fixture_registry())
    ok = entries["data_profiling"]
    assert ok == {
        "key": "data_profiling", "title": "Works", "status": "ok", "seconds": ok["seconds"],
        "notebook": "01_data_profiling/notebook.ipynb", "html": "01_data_profiling/report.html",
        "metrics": "01_data_profiling/metrics.json", "error": None,
    }  # fmt: skip
    assert ok["seconds"] > 0
    assert entries["segmentation"]["status"] == "failed"
    assert entries["segmentation"]["metrics"] is None


def test_kernel_runs_this_interpreter_and_reads_intake(batch):
    metrics = json.loads((_tiny(batch).run_dir / "01_data_profiling/metrics.json").read_text(encoding="utf-8"))
    assert metrics["metrics"]["kernel_python"] == sys.executable
    assert metrics["metrics"]["rows"] == 3


def test_report_has_no_code_and_works_offline(batch):
    html = (_tiny(batch).run_dir / "01_data_profiling/report.html").read_text(encoding="utf-8")
    assert "FIXTURE-OUTPUT orders=3" in html
    assert "jp-InputArea-editor" not in html
    assert 'class="input_area"' not in html
    assert "session.start(" not in html and "ctx.record" not in html
    assert "data:image/png;base64," in html, "figure embedded"
    assert "REMOVED-CELL-OUTPUT" not in html, "remove-cell tag"
    assert "REMOVED-OUTPUT-TEXT" not in html, "remove-output tag"
    assert "<script src=" not in html and "cdnjs" not in html
    # the analysis title comes from the catalog (index.analysis.<key>), dates read as dates
    assert "<title>Tiny shop · Data profiling and quality</title>" in html
    assert "31 Dec 2024" in html and "wb-status wb-ok" in html


def test_failed_notebook_kept_rendered_and_named(batch):
    seg = _by_key(_tiny(batch))["segmentation"]
    assert seg.status == "failed"
    assert seg.error == "ContractError: orders.amount: fixture boom: all amounts are zero"
    nb = nbformat.read(seg.notebook, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "BEFORE-THE-FAILURE" in printed and "fixture boom" in printed
    assert "NEVER-REACHED" not in printed
    html = seg.html.read_text(encoding="utf-8")
    assert "fixture boom: all amounts are zero" in html
    assert "wb-status wb-failed" in html
    assert "raise ContractError" not in html


def test_dependents_skipped_independents_run(batch):
    by_key = _by_key(_tiny(batch))
    assert by_key["data_profiling"].ok, "ran after the failure: it does not depend on it"
    assert by_key["churn"].status == "skipped (needs segmentation, which failed)"
    assert by_key["churn"].html is None
    missing = by_key["campaign"]
    assert missing.status == "failed"
    assert "04_campaign_evaluation.ipynb" in missing.error and "not found" in missing.error
    assert {a.key for a in _tiny(batch).failed} == {"segmentation", "churn", "campaign"}


def test_progress_lines(batch):
    err = batch["stderr"]
    assert "[2/4] tiny · data_profiling …" in err
    assert "[3/4] tiny · churn: skipped (needs segmentation, which failed)" in err
    assert "Executing" in err, "papermill's per-cell bar"


def test_summary_table(batch):
    table = runner.summary_table(batch["results"])
    assert list(table.columns) == ["dataset", "analysis", "status", "seconds", "report", "error"]
    assert table["dataset"].tolist() == ["bad", "broken"] + ["tiny"] * 4
    row = table[table["analysis"] == "data_profiling"].iloc[0]
    assert row["status"] == "ok" and row["report"].endswith("01_data_profiling/report.html")


def test_index_lists_runs_newest_first(batch):
    index = batch["reports"] / "index.html"
    html = index.read_text(encoding="utf-8")
    tiny, broken = _tiny(batch).run_dir.name, batch["results"][1].run_dir.name
    assert html.index(tiny) < html.index(broken)
    assert f'href="{tiny}/01_data_profiling/report.html"' in html
    assert f'href="{tiny}/02_segmentation_value/notebook.ipynb"' in html
    assert 'class="status failed"' in html and 'class="status ok"' in html
    assert "skipped (needs Segmentation and customer value, which failed)" in html
    assert "as of 31 Dec 2024" in html
    assert "<script" not in html and "<link" not in html
    assert runner.rebuild_index(batch["reports"]) == index


# ---- no kernel below ---------------------------------------------------------------------------


def test_new_run_dir_suffix_keeps_dataset_prefix(tmp_path):
    now = dt.datetime(2025, 6, 30, 10, 15, 0)
    first = runner.new_run_dir(tmp_path, "shop-eu", now=now)
    second = runner.new_run_dir(tmp_path, "shop-eu", now=now)
    assert first.name == "shop-eu-20250630-101500"
    assert second.name == "shop-eu-20250630-101500_2"
    # the name is for people; artifacts are found by the fingerprint of their inputs, not by it
    assert second.name.rsplit("-", 2)[0] == "shop-eu"


def test_skip_reason_follows_chains():
    failed = runner.AnalysisResult("a", "A", "failed", error="ValueError: x")
    skipped = runner.AnalysisResult("b", "B", "skipped (needs a, which failed)")
    assert runner._skip_reason(Analysis("b", "b.ipynb", "B", depends_on=("a",)), [failed]) == \
        "skipped (needs a, which failed)"
    assert runner._skip_reason(Analysis("c", "c.ipynb", "C", depends_on=("b",)), [failed, skipped]) == \
        "skipped (needs b, which was skipped)"
    assert runner._skip_reason(Analysis("d", "d.ipynb", "D", depends_on=("zzz",)), [failed]) is None


def test_error_line_of_plain_exceptions(tmp_path):
    from papermill.exceptions import PapermillExecutionError

    err = PapermillExecutionError(cell_index=3, exec_count=3, source="1/0", ename="ZeroDivisionError",
                                  evalue="division by zero\nsecond line", traceback=[])
    assert runner._error_line(err, tmp_path / "none.ipynb") == "ZeroDivisionError: division by zero"
    assert runner._error_line(RuntimeError("kernel died\nmore"), tmp_path / "none.ipynb") == \
        "RuntimeError: kernel died"


def test_kernel_fallback_installs_spec_for_this_python(tmp_path, monkeypatch):
    foreign = tmp_path / "jupyter" / "kernels" / "python3"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(json.dumps({
        "argv": ["/opt/other/bin/python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Other", "language": "python",
    }), encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    assert kernel.kernel_name.__wrapped__() == kernel.FALLBACK_KERNEL
    spec = tmp_path / "prefix/share/jupyter/kernels/crm-workbench/kernel.json"
    if spec.exists():  # not when the environment already holds a valid crm-workbench spec
        assert json.loads(spec.read_text(encoding="utf-8"))["argv"][0] == sys.executable


def test_drop_css_rules_only_touches_styles():
    html = (
        "<style>.a { x: 1; }\n.jp-InputArea-editor { y: 2; }\n"
        "@media (max-width: 1px) { .jp-InputArea-editor { z: 3; } .b { w: 4; } }</style>"
        "<p>.jp-InputArea-editor { text }</p>"
    )
    out = report_html._drop_css_rules(html, "jp-InputArea-editor")
    assert out.count("jp-InputArea-editor") == 1, "only the paragraph text is left"
    assert ".a { x: 1; }" in out and ".b { w: 4; }" in out and "@media (max-width: 1px) {" in out


def test_run_analysis_names_a_missing_notebook(tmp_path, monkeypatch):
    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", tmp_path / "nowhere")
    params = write_dataset(tmp_path)
    with pytest.raises(WorkbenchError, match=r"'churn' not found: .*03_churn\.ipynb"):
        runner.run_analysis("churn", params, reports_dir=tmp_path / "reports")
    assert not (tmp_path / "reports").exists(), "nothing started"


def test_run_all_only_rejects_unknown_keys(tmp_path):
    with pytest.raises(WorkbenchError, match="did you mean 'churn'"):
        runner.run_all([write_dataset(tmp_path)], reports_dir=tmp_path / "r", only=["chrun"])


def test_empty_index(tmp_path):
    html = runner.rebuild_index(tmp_path / "reports").read_text(encoding="utf-8")
    assert "No runs yet" in html


def test_undeclared_table_fails_that_analysis_only(tmp_path, monkeypatch):
    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", FIXTURE_NOTEBOOKS)
    monkeypatch.setattr(analyses, "ANALYSES", {
        "churn": Analysis("churn", "01_data_profiling.ipynb", "Churn", tables=("customers",)),
    })  # fmt: skip
    (result,) = runner.run_all([write_dataset(tmp_path)], reports_dir=tmp_path / "r", progress=False)
    (churn,) = result.analyses
    assert churn.status == "failed"
    assert "tables.customers" in churn.error and "analyses.churn" in churn.error
    assert result.status == "failed"


def test_rerun_into_existing_run_dir_updates_run_json(tmp_path, monkeypatch):
    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", FIXTURE_NOTEBOOKS)
    monkeypatch.setattr(analyses, "ANALYSES", {
        "data_profiling": Analysis("data_profiling", "01_data_profiling.ipynb", "Works"),
        "churn": Analysis("churn", "01_data_profiling.ipynb", "Churn", tables=("customers",)),
    })  # fmt: skip
    run_dir = runner.new_run_dir(tmp_path / "r", "tiny")
    earlier = {"key": "data_profiling", "title": "Works", "status": "ok", "seconds": 3.0,
               "notebook": "01_data_profiling/notebook.ipynb", "html": "01_data_profiling/report.html",
               "metrics": None, "error": None}
    (run_dir / "run.json").write_text(json.dumps({"started": "2025-01-01T10:00:00+00:00",
                                                  "analyses": [earlier]}), encoding="utf-8")
    result = runner.run_analysis("churn", write_dataset(tmp_path), run_dir=run_dir, progress=False)
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert result.run_dir == run_dir.resolve()
    assert record["started"] == "2025-01-01T10:00:00+00:00"
    assert [a["key"] for a in record["analyses"]] == ["data_profiling", "churn"]
    assert record["analyses"][0] == earlier
    assert record["status"] == "failed"
    assert (run_dir / "intake" / "orders.parquet").exists()


# ---- language and PDF ------------------------------------------------------------------------


def test_language_env_sets_and_restores(monkeypatch):
    from workbench.run.session import LANGUAGE_ENV

    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    with runner.language_env("zh"):
        assert os.environ[LANGUAGE_ENV] == "zh"
    assert LANGUAGE_ENV not in os.environ, "unset again"
    monkeypatch.setenv(LANGUAGE_ENV, "en")
    with pytest.raises(RuntimeError), runner.language_env("zh"):
        assert os.environ[LANGUAGE_ENV] == "zh"
        raise RuntimeError
    assert os.environ[LANGUAGE_ENV] == "en", "the earlier value is back, also after an error"
    with runner.language_env(None):
        assert os.environ[LANGUAGE_ENV] == "en", "None leaves it as it is"


def test_run_language_env_over_params(tmp_path, monkeypatch):
    from workbench.core.errors import ParamsError
    from workbench.run.params import load_params
    from workbench.run.session import LANGUAGE_ENV

    params = load_params(write_dataset(tmp_path))
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    assert runner.run_language(params) == "en"
    monkeypatch.setenv(LANGUAGE_ENV, "zh")
    assert runner.run_language(params) == "zh"
    monkeypatch.setenv(LANGUAGE_ENV, "fr")
    with pytest.raises(ParamsError, match="WORKBENCH_LANGUAGE='fr'"):
        runner.run_language(params)
    with pytest.raises(ParamsError, match="--lang"):
        runner.run_all([], language="fr")


def test_report_facts_translated(tmp_path):
    from workbench.report import fmt
    from workbench.run.params import load_params

    params = load_params(write_dataset(tmp_path))
    started = dt.datetime(2025, 6, 30, 10, 15)
    with fmt.use(language="zh"):
        facts = runner._report_facts(params, tmp_path / "tiny.yaml", started, 83.4)
    assert facts == [("数据集", "Tiny shop (tiny)"), ("分析基准日", "2024年12月31日"),
                     ("运行", "2025年6月30日 10:15，用时83秒"), ("参数文件", "tiny.yaml")]
    assert runner._report_facts(params, tmp_path / "tiny.yaml", started, 83.4)[1] == ("As of", "31 Dec 2024")


def test_pdf_failure_is_a_note(tmp_path, monkeypatch):
    import types

    html = tmp_path / "report.html"
    html.write_text("<html></html>", encoding="utf-8")

    def missing_chromium(path, pdf=None):
        (tmp_path / "report.pdf").write_bytes(b"half")
        raise RuntimeError("chromium not found: install it\nsecond line")

    monkeypatch.setitem(sys.modules, "workbench.run.pdf", types.SimpleNamespace(write_pdf=missing_chromium))
    assert runner._write_pdf(html) == "PDF not written: RuntimeError: chromium not found: install it"
    assert not (tmp_path / "report.pdf").exists(), "no half-written PDF left"
    written = []
    monkeypatch.setitem(sys.modules, "workbench.run.pdf",
                        types.SimpleNamespace(write_pdf=lambda path, pdf=None: written.append(path)))
    assert runner._write_pdf(html) is None and written == [html]


def test_record_has_pdf_and_note_only_when_set(tmp_path):
    plain = runner.AnalysisResult("churn", "Churn", "ok").to_record(tmp_path)
    assert "pdf" not in plain and "note" not in plain
    full = runner.AnalysisResult("churn", "Churn", "ok", pdf=tmp_path / "03_churn/report.pdf",
                                 note="PDF not written: x").to_record(tmp_path)
    assert full["pdf"] == "03_churn/report.pdf" and full["note"] == "PDF not written: x"


def _language_probe(folder: Path) -> Path:
    """A notebook that records the language its kernel was given."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell('params_file = ""\nrun_dir = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Probe"),
        params,
        nbformat.v4.new_code_cell(
            "import os\nfrom workbench.report import fmt\nfrom workbench.run import session\n"
            'ctx = session.start(params_file, run_dir=run_dir, analysis="data_profiling")\n'
            'ctx.record(env=os.environ.get("WORKBENCH_LANGUAGE"), language=fmt.settings().language)\n'
            "ctx.finish()"
        ),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "01_data_profiling.ipynb")
    return folder


def test_lang_reaches_the_kernel_and_pdf_failure_is_noted(tmp_path, monkeypatch):
    import types

    from workbench.run.session import LANGUAGE_ENV

    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", _language_probe(tmp_path / "nb"))
    monkeypatch.setattr(analyses, "ANALYSES", {
        "data_profiling": Analysis("data_profiling", "01_data_profiling.ipynb", "Probe"),
    })  # fmt: skip

    def no_chromium(path, pdf=None):
        raise FileNotFoundError("chromium not found")

    monkeypatch.setitem(sys.modules, "workbench.run.pdf", types.SimpleNamespace(write_pdf=no_chromium))
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    reports = tmp_path / "reports"
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        result = runner.run_analysis("data_profiling", write_dataset(tmp_path / "d"), reports_dir=reports,
                                     progress=False, language="zh", pdf=True)
    assert LANGUAGE_ENV not in os.environ, "environment restored"
    (probe,) = result.analyses
    assert probe.ok, probe.error
    recorded = json.loads(probe.metrics.read_text(encoding="utf-8"))["metrics"]
    assert recorded == {"env": "zh", "language": "zh"}
    assert probe.note == "PDF not written: FileNotFoundError: chromium not found" and probe.pdf is None
    record = json.loads((result.run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["language"] == "zh"
    assert record["analyses"][0]["note"] == probe.note
    assert '<html lang="zh-CN"' in probe.html.read_text(encoding="utf-8")
    page = (reports / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "数据概况与质量" in page
    assert "备注：PDF not written" in page


def test_jobs_run_datasets_side_by_side_in_order(tmp_path, monkeypatch):
    """--jobs 2: both datasets run (each its own run folder), results come back in the order
    given, and the one index lists both. Two such runs change neither the process's working
    directory (papermill's cwd= would, and two threads restore each other's) nor MPLBACKEND."""
    first = write_dataset(tmp_path / "one", name="one")
    second = write_dataset(tmp_path / "two", name="two")
    registry = {"data_profiling": Analysis("data_profiling", "01_data_profiling.ipynb", "Works")}
    monkeypatch.setattr(analyses, "NOTEBOOK_DIR", FIXTURE_NOTEBOOKS)
    monkeypatch.setattr(analyses, "ANALYSES", registry)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    reports = tmp_path / "reports"
    cwd = os.getcwd()
    for _ in range(2):
        results = runner.run_all([first, second], reports_dir=reports, progress=False, jobs=2)
        assert [r.dataset for r in results] == ["one", "two"]
        assert [r.status for r in results] == [runner.STATUS_OK, runner.STATUS_OK]
        assert results[0].run_dir != results[1].run_dir
        index = (reports / "index.html").read_text(encoding="utf-8")
        assert results[0].run_dir.name in index and results[1].run_dir.name in index
        assert os.getcwd() == cwd and os.environ["MPLBACKEND"] == "Agg"
    with pytest.raises(runner.ParamsError, match="--jobs"):
        runner.run_all([first], reports_dir=reports, jobs=0)
