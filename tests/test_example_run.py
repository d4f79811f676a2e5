"""The profiling notebook end to end on the bundled example (generated data with every planted
defect, Chinese params), read from the session's example run (:func:`report_fixture.example_run`,
shared with the Spark, resident and browser tests: ``conftest.SHARED_RUN``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from conftest import SHARED_RUN
from report_fixture import statuses

from workbench.run.execute import STATUS_OK

TABLES = ("customers", "orders", "campaign_contacts", "events", "tickets")


def test_profiling_notebook_end_to_end(example_run):
    assert statuses(example_run)["data_profiling"] == STATUS_OK
    out = example_run / "01_data_profiling"
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "jp-InputArea-editor" not in html and 'class="input_area"' not in html  # no code in the report
    assert "数据概况与质量" in html and "清洗" in html  # the example's params render in Chinese
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["metrics"]["alerts"]["total"] > 0  # the planted defects are alerted
    for name in TABLES:
        assert (out / "artifacts" / f"clean_{name}.parquet").exists(), name
    assert (out / "artifacts" / "customer_features.parquet").exists()
    phones = pd.read_parquet(out / "artifacts" / "clean_customers.parquet")["phone"].dropna()
    assert len(phones) > 1000 and not phones.str.fullmatch(r"1[3-9]\d{9}").any()  # masked


def test_every_file_using_the_example_run_is_scheduled_with_it():
    """A test file taking the example run but missing from ``conftest.SHARED_RUN`` would make the
    whole run again on another xdist worker (minutes), and still pass."""
    here = Path(__file__).parent
    uses = re.compile(r"def \w+\([^)]*\bexample_runs?\b")
    users = {p.name for p in here.glob("test_*.py") if uses.search(p.read_text(encoding="utf-8"))}
    assert {"test_example_run.py", "test_spark_run.py", "test_browser.py"} <= users
    assert users <= set(SHARED_RUN), users - set(SHARED_RUN)
