"""End to end: a dataset with personal data of every kind planted in all five tables, mapped and
unmapped, as text and as numbers; every analysis runs; no raw value is found in any file the run
writes (HTML, notebooks, CSV, Parquet, JSON), and run.json says what was treated where."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pii_fixture import write_pii_dataset

from workbench.run.execute import STATUS_OK, run_all

TEXT_SUFFIXES = {".html", ".ipynb", ".json", ".csv", ".txt", ".md"}


@pytest.fixture(scope="module")
def pii_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("pii")
    params, planted = write_pii_dataset(root / "data")
    result = run_all([params], reports_dir=root / "reports", progress=False)[0]
    return {"result": result, "planted": planted, "root": root}


def file_text(path: Path) -> str:
    """Everything a reader of the file could see, as text."""
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return "\n".join([" ".join(map(str, frame.columns))]
                         + [" ".join(map(str, frame[c].tolist())) for c in frame.columns])
    if path.suffix in TEXT_SUFFIXES:
        return path.read_text(encoding="utf-8-sig", errors="replace")
    return ""


def test_every_analysis_runs_on_data_full_of_personal_data(pii_run):
    result = pii_run["result"]
    assert result.status == STATUS_OK, [(a.key, a.status, a.error) for a in result.analyses]
    assert {a.key for a in result.analyses} >= {"data_profiling", "segmentation", "churn", "campaign"}


def test_no_raw_personal_value_in_any_file_of_the_run(pii_run):
    run_dir = pii_run["result"].run_dir
    files = [p for p in run_dir.rglob("*") if p.is_file() and (p.suffix in TEXT_SUFFIXES or p.suffix == ".parquet")]
    assert len(files) > 20
    kinds = {p.suffix for p in files}
    assert {".html", ".ipynb", ".json", ".csv", ".parquet"} <= kinds
    leaks = []
    for path in files:
        text = file_text(path)
        for kind, values in pii_run["planted"].items():
            hit = next((v for v in values if v in text), None)
            if hit is not None:
                leaks.append(f"{path.relative_to(run_dir)}: {kind} {hit!r}")
    assert leaks == []


def test_run_json_records_personal_columns_and_the_manifest(pii_run):
    run_dir = pii_run["result"].run_dir
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    found = {(p["table"], p["kind"]) for p in record["personal_data"]}
    for table in ("customers", "orders", "campaign_contacts", "events", "tickets"):
        assert any(t == table for t, _ in found), f"nothing found in {table}"
    assert {k for _, k in found} >= {"name", "phone", "email", "id_number", "bank_card", "address"}
    assert all("value" not in p and set(p) >= {"detected_by", "treatment"} for p in record["personal_data"])
    files = {e["path"]: e for e in record["files"]}
    assert "intake/orders.parquet" in files and files["intake/orders.parquet"]["rows"] > 0
    written = [e for e in record["files"] if e.get("personal_data")]
    assert written, "no file lists its personal-data columns"
    treatments = {(c, v) for e in written for c, v in e["personal_data"].items()}
    # personal columns are masked or pseudonymized wherever they are written; customer keys stay
    # raw in the run's internal tables (they join them) and are pseudonyms in every list handed out
    keys = {"customer_id", "customer_key"}
    assert {v for c, v in treatments if c not in keys} <= {"mask", "pseudonymize"}
    lists = [e for e in written if Path(e["path"]).stem in {"retention_list", "targeting_list", "customer_tags"}]
    assert len(lists) == 6  # CSV and Parquet of each
    assert all(v == "pseudonymize" for e in lists for c, v in e["personal_data"].items() if c in keys)
    assert len(record["inputs"]) == 5 and all(len(f["sha256"]) == 64 for f in record["inputs"])


def test_customers_without_consent_are_in_no_list(pii_run):
    from workbench.core.privacy import pseudonymize

    customers = pd.read_csv(pii_run["root"] / "data" / "customers.csv", encoding="gbk", dtype=str)
    refused = set(pseudonymize(customers.loc[customers["同意营销"] == "否", "会员ID"], salt="crm-workbench"))
    assert len(refused) > 30
    run_dir = pii_run["result"].run_dir
    lists = [p for p in run_dir.rglob("*.csv") if p.stem in {"retention_list", "targeting_list"}]
    assert {p.stem for p in lists} == {"retention_list", "targeting_list"}
    for path in lists:
        frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str)
        keys = set(frame["customer_id" if "customer_id" in frame else "customer_key"])
        assert keys and not keys & refused, path.name


def test_each_report_says_where_its_data_came_from(pii_run):
    for analysis in pii_run["result"].analyses:
        html = analysis.html.read_text(encoding="utf-8")
        assert "Where the data came from" in html
        assert "orders" in html.split("Where the data came from", 1)[1]
