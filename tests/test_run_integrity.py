"""A run only reads its own inputs: artifacts and intake caches are reused only when made from
the same input files and params; every report says where its data came from; run.json lists
every file written; real keys come back only through `workbench keymap`, outside reports/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from workbench.core.errors import WorkbenchError
from workbench.core.privacy import pseudonymize
from workbench.run import session
from workbench.run.keymap import key_map
from workbench.run.manifest import build_manifest
from workbench.run.params import load_params
from workbench.run.provenance import fingerprint, input_files

ORDERS = (
    "订单号,会员ID,下单时间,实付金额\n"
    "A1,C1,2024-01-05 10:00,12.50\n"
    "A2,C2,2024-02-06 11:00,30\n"
    "A3,C1,2024-03-07 12:00,7.25\n"
)


def write_shop(folder: Path, name: str, csv: str = ORDERS) -> Path:
    """A one-table dataset ``name`` in ``folder``; returns the params path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}_orders.csv").write_text(csv, encoding="utf-8")
    params = folder / f"{name}.yaml"
    params.write_text(
        f"name: {name}\nas_of: 2024-12-31\ntables:\n  orders:\n    path: {name}_orders.csv\n"
        "    columns: {order_id: 订单号, customer_id: 会员ID, order_time: 下单时间, amount: 实付金额}\n",
        encoding="utf-8",
    )
    return params


def profiled_run(params: Path, run_dir: Path) -> session.RunContext:
    """What the profiling notebook leaves behind: clean artifacts recorded with the inputs."""
    ctx = session.start(params, run_dir=run_dir, analysis="data_profiling")
    ctx.save_artifacts({f"clean_{n}": t.frame for n, t in ctx.tables().items()})
    ctx.finish()
    return ctx


def total(ctx: session.RunContext) -> float:
    return float(ctx.clean_tables()["orders"]["amount"].sum())


def test_same_inputs_reuse_the_artifact_and_say_from_which_run(tmp_path):
    params = write_shop(tmp_path / "data", "shop")
    reports = tmp_path / "reports"
    profiled_run(params, reports / "shop-20250101-000000")
    later = session.start(params, run_dir=reports / "shop-20250102-000000", analysis="segmentation")
    assert total(later) == pytest.approx(49.75)
    prov = later.provenance()
    assert [r.run for r in prov.read] == ["shop-20250101-000000"]
    assert prov.inputs[0].table == "orders" and len(prov.inputs[0].sha256) == 64
    assert "shop-20250101-000000" in prov.finding()


def test_changed_inputs_never_reuse_an_earlier_artifact(tmp_path):
    params = write_shop(tmp_path / "data", "shop")
    reports = tmp_path / "reports"
    profiled_run(params, reports / "shop-20250101-000000")
    # amounts x 100: the earlier clean_orders must not be read
    (tmp_path / "data" / "shop_orders.csv").write_text(ORDERS.replace(",12.50", ",1250").replace(",30\n", ",3000\n")
                                                       .replace(",7.25", ",725"), encoding="utf-8")
    later = session.start(params, run_dir=reports / "shop-20250102-000000", analysis="segmentation")
    assert total(later) == pytest.approx(4975.0)
    prov = later.provenance()
    assert prov.read == () and any("clean_" in r for r in prov.recomputed)


def test_changed_params_never_reuse_an_earlier_artifact(tmp_path):
    params = write_shop(tmp_path / "data", "shop")
    reports = tmp_path / "reports"
    profiled_run(params, reports / "shop-20250101-000000")
    params.write_text(params.read_text(encoding="utf-8").replace("as_of: 2024-12-31", "as_of: 2024-06-30"),
                      encoding="utf-8")
    later = session.start(params, run_dir=reports / "shop-20250102-000000", analysis="segmentation")
    assert later.artifact("data_profiling", "clean_orders.parquet") is None


def test_a_dataset_never_reads_the_artifacts_of_a_dataset_whose_name_it_prefixes(tmp_path):
    eu = write_shop(tmp_path / "eu", "shop-eu", csv=ORDERS.replace("12.50", "99"))
    shop = write_shop(tmp_path / "cn", "shop")
    reports = tmp_path / "reports"
    profiled_run(eu, reports / "shop-eu-20250101-000000")
    ctx = session.start(shop, run_dir=reports / "shop-20250102-000000", analysis="segmentation")
    assert ctx.artifact("data_profiling", "clean_orders.parquet") is None
    assert total(ctx) == pytest.approx(49.75)


def test_intake_cache_of_a_run_folder_is_not_used_after_the_inputs_change(tmp_path):
    params = write_shop(tmp_path / "data", "shop")
    run_dir = tmp_path / "reports" / "shop-interactive"
    first = session.start(params, run_dir=run_dir, analysis="data_profiling")
    assert len(first.tables()["orders"].frame) == 3
    (tmp_path / "data" / "shop_orders.csv").write_text(ORDERS + "A4,C3,2024-04-01 09:00,5\n", encoding="utf-8")
    again = session.start(params, run_dir=run_dir, analysis="data_profiling")
    assert len(again.tables()["orders"].frame) == 4


def test_fingerprint_ignores_titles_but_not_numbers(tmp_path):
    path = write_shop(tmp_path, "shop")
    base = load_params(path)
    retitled = base.model_copy(update={"title": "another title"})
    moved = base.model_copy(update={"seed": 7})
    files = input_files(base)
    assert fingerprint(files, base) == fingerprint(files, retitled)
    assert fingerprint(files, base) != fingerprint(files, moved)


def test_metrics_json_records_the_provenance(tmp_path):
    params = write_shop(tmp_path / "data", "shop")
    ctx = profiled_run(params, tmp_path / "reports" / "shop-20250101-000000")
    payload = json.loads((ctx.out_dir / "metrics.json").read_text(encoding="utf-8"))
    inputs = payload["provenance"]["inputs"]
    assert inputs[0]["path"].endswith("shop_orders.csv") and len(inputs[0]["sha256"]) == 64


def test_manifest_lists_every_file_with_columns_rows_and_treatments(tmp_path):
    run = tmp_path / "shop-20250101-000000"
    (run / "02_segmentation" / "artifacts").mkdir(parents=True)
    keys = pseudonymize(pd.Series(["C1", "C2"]), salt="s")
    pd.DataFrame({"customer_id": keys, "phone": ["138****5678", None]}).to_parquet(
        run / "02_segmentation" / "artifacts" / "tags.parquet")
    pd.DataFrame({"customer_id": ["C1"], "x": [1]}).to_csv(run / "02_segmentation" / "artifacts" / "raw.csv",
                                                           index=False)
    (run / "run.json").write_text("{}", encoding="utf-8")
    personal = [{"table": "customers", "column": "phone", "header": "手机号", "treatment": "mask"}]
    files = {e["path"]: e for e in build_manifest(run, personal)}
    assert "run.json" not in files
    tags = files["02_segmentation/artifacts/tags.parquet"]
    assert tags["rows"] == 2 and tags["columns"] == ["customer_id", "phone"]
    assert tags["personal_data"] == {"phone": "mask", "customer_id": "pseudonymize"}
    assert files["02_segmentation/artifacts/raw.csv"]["personal_data"] == {"customer_id": "raw"}


def test_keymap_turns_pseudonyms_into_real_keys_only_outside_reports(tmp_path):
    path = write_shop(tmp_path / "data", "shop")
    params = load_params(path)
    listing = tmp_path / "reports" / "shop-1" / "03_churn" / "artifacts" / "retention_list.csv"
    listing.parent.mkdir(parents=True)
    pd.DataFrame({"customer_id": pseudonymize(pd.Series(["C2", "C1"]), salt=params.privacy.secret()),
                  "score": [0.9, 0.5]}).to_csv(listing, index=False, encoding="utf-8-sig")
    with pytest.raises(WorkbenchError, match="inside a reports folder"):
        key_map(params, listing, tmp_path / "reports" / "keys.csv", reports_dir=tmp_path / "reports")
    out, found, missing = key_map(params, listing, tmp_path / "private" / "keys.csv",
                                  reports_dir=tmp_path / "reports")
    mapped = pd.read_csv(out, encoding="utf-8-sig")
    assert (found, missing) == (2, 0)
    assert mapped["raw_customer_id"].tolist() == ["C2", "C1"]
    other = params.model_copy(update={"privacy": params.privacy.model_copy(update={"salt": "another secret"})})
    with pytest.raises(WorkbenchError, match="same secret"):
        key_map(other, listing, tmp_path / "private" / "keys2.csv", reports_dir=tmp_path / "reports")


def forecast_run(params: Path, run_dir: Path, as_of: str, value: float) -> session.RunContext:
    """A forecast run of ``params`` at ``as_of`` that saves a one-row ``forecast`` artifact."""
    params.write_text(re.sub(r"as_of: \S+", f"as_of: {as_of}", params.read_text(encoding="utf-8")), encoding="utf-8")
    ctx = session.start(params, run_dir=run_dir, analysis="forecast")
    ctx.save_artifact("forecast", pd.DataFrame({"period_start": [pd.Timestamp(as_of)], "forecast": [value]}))
    ctx.finish()
    return ctx


def test_earlier_forecast_of_the_same_dataset_is_found_for_tracking_never_reused(tmp_path):
    shop = write_shop(tmp_path / "cn", "shop")
    eu = write_shop(tmp_path / "eu", "shop-eu")
    reports = tmp_path / "reports"
    forecast_run(shop, reports / "shop-20240401-000000", "2024-03-31", 1.0)
    first = forecast_run(shop, reports / "shop-20240701-000000", "2024-06-30", 2.0)
    forecast_run(eu, reports / "shop-eu-20240901-000000", "2024-08-31", 3.0)  # another dataset, closer as_of
    forecast_run(shop, reports / "shop-20250201-000000", "2025-01-31", 4.0)  # a later as_of: not earlier
    shop.write_text(shop.read_text(encoding="utf-8").replace("as_of: 2025-01-31", "as_of: 2024-12-31"), encoding="utf-8")
    now = session.start(shop, run_dir=reports / "shop-20250101-000000", analysis="forecast")
    found = now.earlier_artifact("forecast.parquet")
    assert found is not None and found.run == "shop-20240701-000000" and found.as_of == "2024-06-30"
    assert found.frame["forecast"].tolist() == [2.0]
    assert found.ref.fingerprint == first.fingerprint != now.fingerprint
    # listed under "where the data came from", with the run that made it and its own fingerprint
    read = now.provenance().metrics()["artifacts_read"]
    assert [(r["run"], r["name"], r["fingerprint"]) for r in read] == [("shop-20240701-000000", "forecast.parquet", first.fingerprint)]
    # reuse stays same-inputs only
    assert now.artifact("forecast", "forecast.parquet") is None
    # the other dataset's run is never taken, even as the only one with an artifact
    lone = tmp_path / "lone"
    forecast_run(eu, lone / "shop-eu-20240901-000000", "2024-08-31", 3.0)
    assert session.start(shop, run_dir=lone / "shop-20250101-000000", analysis="forecast").earlier_artifact("forecast.parquet") is None
    # a run of the same as_of is not earlier: at 2024-06-30 the earlier one is the March run
    shop.write_text(shop.read_text(encoding="utf-8").replace("as_of: 2024-12-31", "as_of: 2024-06-30"), encoding="utf-8")
    again = session.start(shop, run_dir=reports / "shop-20240702-000000", analysis="forecast").earlier_artifact("forecast.parquet")
    assert again is not None and (again.run, again.as_of, again.frame["forecast"].tolist()) == ("shop-20240401-000000", "2024-03-31", [1.0])
