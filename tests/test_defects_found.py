"""Every defect the generator plants is found by profiling and handled by cleaning, with the
counts the ground truth records. (The profiling notebook end to end on such data:
``tests/test_example_run.py``, on the bundled example's run.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from workbench import profiling
from workbench.core.io import load_tables
from workbench.data import cleaning
from workbench.run.params import load_params
from workbench.synth import write_example

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def synth_params(tmp_path_factory) -> Path:
    """A small synthetic base written as exports, and a params file for it (example.yaml's
    mapping with the paths pointed at the new files)."""
    folder = tmp_path_factory.mktemp("synth")
    write_example(folder / "data", n_customers=1200, seed=7)
    doc = yaml.safe_load((ROOT / "params" / "example.yaml").read_text(encoding="utf-8"))
    for t in doc["tables"].values():
        t["path"] = str(folder / "data" / Path(t["path"]).name)
    doc["ground_truth"] = str(folder / "data" / "truth_customers.parquet")
    doc["name"] = "tiny"
    path = folder / "tiny.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def truth(synth_params) -> dict:
    return json.loads((synth_params.parent / "data" / "ground_truth.json").read_text(encoding="utf-8"))["defects"]


@pytest.fixture(scope="module")
def profiled(synth_params):
    params = load_params(synth_params)
    tables = load_tables(params)
    prof = profiling.profile_tables(
        tables, **params.analyses.data_profiling.model_dump(exclude={"enabled"}), as_of=params.as_of,
        launch_date=params.launch_date, extreme_z=params.cleaning.extreme_spender_mad_z,
        random_state=0,
    )  # fmt: skip
    return params, tables, prof


def _alert(prof, kind, table, column=None):
    al = prof.alerts(kind=kind, table=table)
    if column is not None:
        al = al[al["column"] == column]
    assert len(al) == 1, f"expected one {kind} alert on {table}.{column}, got:\n{al}"
    return al.iloc[0]


def test_intake_counts_planted_text_defects(profiled, truth):
    _, tables, _ = profiled
    rep = tables["orders"].report().set_index("column")
    assert rep.loc["amount", "n_unparseable"] == truth["orders"]["unparseable_amounts"]["count"]
    crep = tables["customers"].report().set_index("column")
    for col in ("gender", "city"):
        assert crep.loc[col, "n_blank"] >= truth["customers"]["placeholders"][col]["count"]


def test_each_planted_defect_raises_its_alert(profiled, truth):
    _, _, prof = profiled
    o, c = truth["orders"], truth["customers"]
    assert _alert(prof, "duplicates", "orders").n_rows == o["exact_duplicate_rows"]["count"]
    assert _alert(prof, "duplicate_keys", "customers", "customer_id").n_rows == c["duplicate_keys"]["count"]
    assert _alert(prof, "orphan_orders", "orders").n_rows == o["orphan_customer_rows"]["count"]
    assert _alert(prof, "negative_amounts", "orders").n_rows == o["negative_not_refund"]["count"]
    assert _alert(prof, "future_dates", "orders", "order_time").n_rows == o["future_dates"]["count"]
    assert _alert(prof, "prelaunch_dates", "orders", "order_time").n_rows == o["prelaunch_dates"]["count"]
    assert _alert(prof, "unparseable", "orders", "amount").n_rows == o["unparseable_amounts"]["count"]
    assert _alert(prof, "constant", "customers", c["constant_column"]["header"]).n_rows > 0
    assert set(prof.extreme["customer_id"]) == set(o["extreme_spenders"]["customer_ids"])
    for col in ("gender", "city"):
        # blanks and placeholder texts (未知, N/A) alike become missing and are counted
        assert _alert(prof, "placeholder", "customers", col).n_rows == c["placeholders"][col]["count"]
    pii = set(prof.alerts(kind="personal_data")["column"])
    assert {"name", "phone", "email"} <= pii
    assert _alert(prof, "refunds", "orders").n_rows > 0


def test_personal_data_never_shown_raw(profiled, synth_params):
    _, tables, prof = profiled
    phones = set(tables["customers"].frame["phone"].dropna().head(50))
    text = prof.alerts().to_string() + prof.columns("customers").to_string()
    text += "".join(prof.top_values("customers", c).to_string() for c in ("name", "phone", "email")
                    if c in prof.profiles["customers"].top_values)
    assert not any(p in text for p in phones)


def test_cleaning_touches_exactly_the_planted_rows(profiled, truth):
    params, tables, _ = profiled
    res = cleaning.clean_tables(tables, as_of=params.as_of, launch_date=params.launch_date,
                                 **params.cleaning.model_dump())
    log = res.log().set_index(["table", "rule"])["rows_touched"]
    o, c = truth["orders"], truth["customers"]
    assert log[("orders", "drop_exact_duplicates")] == o["exact_duplicate_rows"]["count"]
    assert log[("customers", "duplicate_keys")] == c["duplicate_keys"]["count"]
    assert log[("orders", "future_dates")] == o["future_dates"]["count"]
    assert log[("orders", "prelaunch_dates")] == o["prelaunch_dates"]["count"]
    assert log[("orders", "negative_amounts")] == o["negative_not_refund"]["count"]
    assert log[("orders", "orphan_orders")] == o["orphan_customer_rows"]["count"]
    clean = res.tables
    assert clean["customers"]["customer_id"].is_unique
    assert not clean["orders"].duplicated().any()
    assert len(tables["orders"].frame) == truth["orders"]["n_rows_written"]  # input untouched
