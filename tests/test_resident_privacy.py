"""Personal data of resident tables (kept in the engine as Parquet): found on the same seeded sample
and treated to the same values as the pandas path, in DuckDB, with no raw value left on disk.

Every table of the bundled example and of the planted-personal-data fixture is forced resident
(its contract-read frame written to ``<table>.raw.parquet``, as ``load_tables(resident_dir=...)``
writes it) and compared with the pandas path: the personal columns found, and the treated table as
the cache holds it (Parquet read back by pandas, dtypes included).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pii_fixture import write_pii_dataset

import workbench.run.intake as intake_mod
from workbench.core.contract import LoadedTable
from workbench.core.pii import TEXT_PATTERNS, sample_values
from workbench.core.privacy_engine import ParquetSample, treat_parquet
from workbench.core.resident import ResidentFrame, is_resident
from workbench.data.engine import to_microseconds
from workbench.run.intake import Intake, protect_loaded, read_intake, save_intake, take_in
from workbench.run.params import load_params

ROOT = Path(__file__).resolve().parents[1]


def _resident(table: LoadedTable, folder: Path) -> LoadedTable:
    """``table`` as load_tables hands on a resident one: its untreated frame in ``<name>.raw.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / f"{table.name}.raw.parquet"
    to_microseconds(table.frame).to_parquet(raw, index=False)
    return LoadedTable(name=table.name, frame=ResidentFrame.of(raw, table=table.name), source=table.source,
                       columns=table.columns)  # fmt: skip


def _cached(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A pandas-path table as the intake cache holds it (what save_intake writes, read back)."""
    to_microseconds(frame).to_parquet(path, index=False)
    return pd.read_parquet(path)


def _with_privacy(params, **changes):
    return params.model_copy(update={"privacy": params.privacy.model_copy(update=changes)})


def _text_values(path: Path) -> set[str]:
    """Every text value of every column of a Parquet file (what a reader of it could see)."""
    frame = pd.read_parquet(path)
    out: set[str] = set(map(str, frame.columns))
    for col in frame.columns:
        out |= {str(v) for v in frame[col].dropna().unique()}
    return out


# --- the sample ---------------------------------------------------------------------------------

@pytest.mark.parametrize("share", [1.0, 0.5, 0.03, 0.001, 0.0])
def test_parquet_sample_takes_the_rows_sample_values_takes(tmp_path, share):
    # 0.03: the first draw is short, the second (8x) fills it; 0.001: every non-missing row
    rng = np.random.default_rng(3)
    n = 30_000
    keep = rng.random(n) < share
    frame = pd.DataFrame({
        "text": pd.Series(np.where(keep, [f"v{i}" for i in range(n)], None), dtype="string"),
        "number": pd.Series(np.where(keep, rng.integers(0, 10**11, n), 0)).astype("Int64").where(keep),
        "full": np.arange(n, dtype=float),
    })  # fmt: skip
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    sample = ParquetSample(tmp_path / "t.parquet", size=200, seed=7)
    try:
        for col in frame.columns:
            want = sample_values(frame[col], size=200, seed=7)
            got = sample[col]
            assert got.index.tolist() == want.index.tolist(), col
            assert got.tolist() == want.tolist() and str(got.dtype) == str(want.dtype), col
        assert len(sample["full"]) == 200
        assert sample.non_missing("text") == int(keep.sum())
    finally:
        sample.close()


# --- the bundled example ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example():
    from workbench.core.io import load_tables

    params = load_params(ROOT / "params" / "example.yaml")
    return params, load_tables(params)


PRIVACY_CASES = {  # privacy settings, tables compared (None: every table)
    "default": ({}, None),
    # customer keys pseudonymized (orders.customer_id joins customers'), phones hashed, names dropped
    "pseudonymize": ({"treatment": {"phone": "pseudonymize", "name": "drop", "email": "mask"},
                      "columns": {"orders.customer_id": "pseudonymize", "customers.customer_id": "pseudonymize",
                                  "customers.备注": "drop"}}, ("customers", "orders", "tickets")),
    "allowed": ({"allow_personal_data": True}, ("customers", "tickets")),
}  # fmt: skip


@pytest.mark.parametrize("case", list(PRIVACY_CASES))
def test_every_example_table_resident_gives_the_pandas_findings_and_values(example, tmp_path, case):
    params, tables = example
    changes, names = PRIVACY_CASES[case]
    params = _with_privacy(params, **changes)
    for name in names or tables:
        table = tables[name]
        want, want_found = protect_loaded(table, params, seed=params.seed)
        resident = _resident(table, tmp_path / "intake")
        got, got_found = protect_loaded(resident, params, seed=params.seed)
        assert got_found == want_found, name
        assert got.columns == want.columns, name
        assert is_resident(got.frame) and got.frame.path == tmp_path / "intake" / f"{name}.parquet"
        assert not resident.frame.path.exists(), f"{name}: the untreated copy is left"
        pd.testing.assert_frame_equal(got.frame.to_pandas(), _cached(want.frame, tmp_path / f"{name}.pandas.parquet"),
                                      obj=name)  # fmt: skip
    if case == "pseudonymize":
        orders = pd.read_parquet(tmp_path / "intake" / "orders.parquet", columns=["customer_id"])["customer_id"]
        customers = pd.read_parquet(tmp_path / "intake" / "customers.parquet")
        assert orders.dropna().str.fullmatch(r"C[0-9a-f]{12}").all()
        assert orders.dropna().isin(customers["customer_id"]).mean() > 0.95  # the keys still join
        assert "name" not in customers and "备注" not in customers
        assert customers["phone"].dropna().str.fullmatch(r"P[0-9a-f]{12}").all()


def test_treated_example_tables_hold_no_raw_phone_or_email(example, tmp_path):
    params, tables = example
    raw = tables["customers"].frame
    phones, emails = set(raw["phone"].dropna()), set(raw["email"].dropna())
    assert len(phones) > 4000 and len(emails) > 4000
    for name in ("customers", "tickets", "feedback"):
        got, found = protect_loaded(_resident(tables[name], tmp_path), params, seed=params.seed)
        values = _text_values(got.frame.path)
        assert not values & phones and not values & emails, name
        assert {pc.treatment for pc in found} == {"mask"}
    texts = pd.read_parquet(tmp_path / "tickets.parquet")["text"].dropna()
    raw_texts = tables["tickets"].frame["text"].dropna()
    assert raw_texts.str.contains(TEXT_PATTERNS["phone"]).sum() > 20  # there were phones to mask
    assert not texts.str.contains(TEXT_PATTERNS["phone"]).any()
    assert not texts.str.contains(TEXT_PATTERNS["email"]).any()
    assert list(tmp_path.glob("*.raw.parquet")) == [] and list(tmp_path.glob(".*")) == []


# --- every kind of personal data, mapped and unmapped, text and numbers ---------------------------

def test_planted_personal_data_is_treated_alike_and_never_left_raw(tmp_path):
    params_path, planted = write_pii_dataset(tmp_path / "data", seed=0)
    params = load_params(params_path)
    from workbench.core.io import load_tables

    for name, table in load_tables(params).items():
        want, want_found = protect_loaded(table, params, seed=params.seed)
        got, got_found = protect_loaded(_resident(table, tmp_path / "intake"), params, seed=params.seed)
        assert got_found == want_found and len(got_found) >= 5, name
        assert "drop" in {pc.treatment for pc in got_found}, name  # bank cards are dropped
        pd.testing.assert_frame_equal(got.frame.to_pandas(), _cached(want.frame, tmp_path / f"{name}.p.parquet"),
                                      obj=name)  # fmt: skip
        values = "\n".join(_text_values(got.frame.path))
        leaks = [(kind, v) for kind, vs in planted.items() for v in vs if v in values]
        assert leaks == [], name


# --- the engine step itself ---------------------------------------------------------------------

def test_treat_parquet_keeps_row_order_types_and_missing_values(tmp_path):
    n = 50_000
    rng = np.random.default_rng(0)
    keys = pd.Series([f"k{i}" for i in rng.integers(0, 700, n)], dtype="string").where(rng.random(n) > 0.1)
    frame = pd.DataFrame({"key": keys, "amount": rng.random(n),
                          "t": pd.date_range("2024-01-01", periods=n, freq="min").as_unit("ns"), "gone": 1})
    frame.to_parquet(tmp_path / "in.parquet", index=False)  # nanoseconds, as pandas writes them
    calls: list[int] = []

    def upper(values: pd.Series) -> pd.Series:
        calls.append(len(values))
        return values.str.upper()

    treat_parquet(tmp_path / "in.parquet", tmp_path / "out.parquet", mappers={"key": upper}, drop=["gone"],
                  batch_rows=256)  # fmt: skip
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert list(out.columns) == ["key", "amount", "t"]
    assert str(out["t"].dtype) == "datetime64[us]" and out["t"].is_monotonic_increasing
    assert out["amount"].tolist() == frame["amount"].tolist()
    assert out["key"].isna().tolist() == keys.isna().tolist()
    assert out["key"].dropna().tolist() == keys.dropna().str.upper().tolist()
    assert sum(calls) == keys.nunique() and max(calls) <= 256  # once per distinct value, in batches
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.parquet", "out.parquet"]  # no work files left


def test_a_file_not_made_by_intake_is_never_deleted(example, tmp_path):
    params, tables = example
    own = tmp_path / "spend_source.parquet"
    to_microseconds(tables["spend"].frame).to_parquet(own, index=False)
    table = LoadedTable(name="spend", frame=ResidentFrame.of(own, table="spend"), source="x",
                        columns=tables["spend"].columns)  # fmt: skip
    got, _ = protect_loaded(table, params, seed=params.seed, dest=tmp_path / "intake.parquet")
    assert own.exists() and got.frame.path == tmp_path / "intake.parquet"


# --- the cache --------------------------------------------------------------------------------------

def test_save_and_read_intake_keep_resident_tables_in_place(example, tmp_path):
    params, tables = example
    folder = tmp_path / "intake"
    treated, personal = {}, []
    for name in ("customers", "orders"):
        t = _resident(tables[name], folder) if name == "orders" else tables[name]
        treated[name], found = protect_loaded(t, params, seed=params.seed)
        personal += found
    resident_file = folder / "orders.parquet"
    stamp = resident_file.stat().st_mtime_ns
    os.utime(resident_file, ns=(stamp - 10**9, stamp - 10**9))  # an older time: a rewrite would show
    save_intake(Intake(treated, personal, [], "fp"), folder)
    assert resident_file.stat().st_mtime_ns == stamp - 10**9, "save_intake rewrote the resident table"
    meta = intake_mod.read_meta(folder)
    assert meta["orders"]["resident"] is True and meta["orders"]["rows"] == len(tables["orders"].frame)
    assert "resident" not in meta["customers"]

    n_orders, n_customers = len(tables["orders"].frame), len(tables["customers"].frame)
    back = read_intake(folder, ["customers", "orders"], fingerprint="fp", resident_rows=n_customers)
    assert is_resident(back.tables["orders"].frame) and len(back.tables["orders"].frame) == n_orders
    assert isinstance(back.tables["customers"].frame, pd.DataFrame)
    assert back.personal == personal and back.tables["orders"].columns == treated["orders"].columns
    pd.testing.assert_frame_equal(back.tables["orders"].frame.to_pandas(), treated["orders"].frame.to_pandas())
    pd.testing.assert_frame_equal(back.tables["customers"].frame, pd.read_parquet(folder / "customers.parquet"))
    plain = read_intake(folder, ["orders"], fingerprint="fp")  # resident_rows None: today's behaviour
    assert isinstance(plain.tables["orders"].frame, pd.DataFrame) and len(plain.tables["orders"].frame) == n_orders
    assert read_intake(folder, ["orders"], fingerprint="other", resident_rows=0) is None


def test_save_intake_copies_a_resident_table_kept_elsewhere(example, tmp_path):
    params, tables = example
    got, found = protect_loaded(_resident(tables["spend"], tmp_path / "elsewhere"), params, seed=params.seed)
    save_intake(Intake({"spend": got}, found, [], "fp"), tmp_path / "intake")
    back = read_intake(tmp_path / "intake", ["spend"], fingerprint="fp", resident_rows=10)
    assert is_resident(back.tables["spend"].frame)
    pd.testing.assert_frame_equal(back.tables["spend"].frame.to_pandas(), got.frame.to_pandas())


def test_take_in_hands_resident_dir_to_the_intake_and_treats_there(example, tmp_path, monkeypatch):
    params, tables = example
    seen: dict[str, object] = {}

    def fake_load_tables(p, names, *, resident_dir=None):  # what load_tables does with resident_dir
        seen["resident_dir"] = resident_dir
        return {n: _resident(tables[n], resident_dir) if len(tables[n].frame) > 10_000 else tables[n] for n in names}

    monkeypatch.setattr(intake_mod, "load_tables", fake_load_tables)
    monkeypatch.setattr(intake_mod, "input_files", lambda p, known=(): [])
    folder = tmp_path / "intake"
    got = take_in(params, ["orders", "spend"], resident_dir=folder)
    assert seen["resident_dir"] == folder
    assert is_resident(got.tables["orders"].frame) and got.tables["orders"].frame.path == folder / "orders.parquet"
    assert isinstance(got.tables["spend"].frame, pd.DataFrame)
    assert sorted(p.name for p in folder.iterdir()) == ["orders.parquet"]


def test_resident_table_errors_name_the_file(tmp_path):
    (tmp_path / "parts").mkdir()
    with pytest.raises(ValueError, match=re.escape("one Parquet file, not a folder")):
        ParquetSample(tmp_path / "parts", size=10, seed=0)


def _same_values(a: pd.DataFrame, b: pd.DataFrame, name: str) -> None:
    """Equal column by column, text compared as text (a file the engine wrote unchanged may read
    back as ``str`` where the pandas cache reads ``string``)."""
    assert list(a.columns) == list(b.columns) and len(a) == len(b), name
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_string_dtype(x) or pd.api.types.is_string_dtype(y) or x.dtype == object:
            x, y = x.astype(object).where(x.notna(), None), y.astype(object).where(y.notna(), None)
            assert x.tolist() == y.tolist(), f"{name}.{col}"
        else:
            pd.testing.assert_series_equal(x, y, check_dtype=False, obj=f"{name}.{col}")


def test_take_in_with_engine_intake_matches_the_pandas_intake(example, tmp_path):
    # the whole chain: load_tables(resident_dir=) keeps them in DuckDB, then privacy treats them there
    params, _ = example
    names = ["orders", "campaign_contacts", "feedback"]  # UTF-8 CSV, Parquet, free text with e-mails
    small = params.model_copy(update={"engine": params.engine.model_copy(update={"resident_rows": 1000})})
    small = _with_privacy(small, columns={"orders.customer_id": "pseudonymize"})
    want = take_in(_with_privacy(params, columns={"orders.customer_id": "pseudonymize"}), names)
    got = take_in(small, names, resident_dir=tmp_path / "intake")
    assert got.personal == want.personal and any(pc.column == "text" for pc in got.personal)
    for name in names:
        assert is_resident(got.tables[name].frame), name
        assert got.tables[name].columns == want.tables[name].columns, name
        _same_values(got.tables[name].frame.to_pandas(), _cached(want.tables[name].frame, tmp_path / "p.parquet"), name)
    assert sorted(p.name for p in (tmp_path / "intake").iterdir()) == sorted(f"{n}.parquet" for n in names)
