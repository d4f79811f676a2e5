"""The segmentation notebook's calls on resident orders give the pandas figures.

The bundled example's clean orders, written to Parquet (microsecond timestamps) and wrapped as a
:class:`~workbench.core.resident.ResidentFrame`, go through every function the notebook passes
``orders`` to (the features, the as-of check, the RFM migration, customer value with its BTYD
summary, holdout split, tracking curve, independence check and Gamma-Gamma inputs): each result's
``metrics()`` and ``to_frame()`` must equal the pandas run's to a relative 1e-9, while any pandas
read of the orders' Parquet fails. A small hand-made table covers the edge cases the example does
not have (no customer, no time, zero and missing amounts, unflagged negative amounts, refund
statuses, several lines a day, weekly periods).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from engines import assert_same_frame, duckdb_con, spark_con

from workbench import segmentation, value
from workbench.core.errors import AnalysisError
from workbench.core.io import load_tables
from workbench.core.resident import ResidentFrame
from workbench.data import engine
from workbench.data.cleaning import clean_tables
from workbench.data.features import customer_features
from workbench.data.orders import check_as_of
from workbench.run.params import load_params

ROOT = Path(__file__).resolve().parents[1]
RTOL = 1e-9
TIMINGS = {"fit_seconds"}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The example's params, clean orders (pandas and resident) and clean customers."""
    params = load_params(ROOT / "params" / "example.yaml")
    tables = load_tables(params, ["orders", "customers"])
    clean = clean_tables(tables, as_of=params.as_of, launch_date=params.launch_date, **params.cleaning.model_dump())
    orders = engine.to_microseconds(clean.tables["orders"])
    path = tmp_path_factory.mktemp("resident_seg") / "orders.parquet"
    orders.to_parquet(path)
    return {"params": params, "orders": orders, "resident": ResidentFrame.of(path, table="orders"),
            "customers": clean.tables["customers"]}


@pytest.fixture
def no_pandas_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any read of a resident table into pandas fails."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the resident orders were read into pandas")

    monkeypatch.setattr(ResidentFrame, "to_pandas", refuse)
    monkeypatch.setattr(pd, "read_parquet", refuse)


def assert_close(a: Any, b: Any, path: str = "") -> None:
    """Equal JSON-like figures, numbers to RTOL; timings left out."""
    if isinstance(a, dict):
        keys = set(a) - TIMINGS
        assert keys == set(b) - TIMINGS, f"{path}: keys differ: {keys ^ (set(b) - TIMINGS)}"
        for k in keys:
            assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12), (path, a, b)
    else:
        assert a == b, (path, a, b)


def test_check_as_of_in_the_engine(example: dict[str, Any], no_pandas_read: None) -> None:
    con = duckdb_con()
    for day in ("2025-09-30", "2029-01-01"):  # the data reach as_of; as_of years after the data
        a = check_as_of(example["orders"], day, warn=False)
        b = check_as_of(example["resident"], day, warn=False, con=con)
        assert b == a
    assert b.stale and b.typical_gap_days == a.typical_gap_days > 0


def test_features_and_migration_in_the_engine(example: dict[str, Any], no_pandas_read: None) -> None:
    P, con = example["params"], duckdb_con()
    S = P.analyses.segmentation
    feats = customer_features(example["resident"], as_of=P.as_of, customers=example["customers"], con=con)
    assert_same_frame(customer_features(example["orders"], as_of=P.as_of, customers=example["customers"]), feats)
    options = S.rfm.model_dump(exclude={"migration_from"})
    a = segmentation.rfm_migration(example["orders"], example["customers"], from_date=S.rfm.migration_from,
                                   to_date=P.as_of, **options)
    b = segmentation.rfm_migration(example["resident"], example["customers"], from_date=S.rfm.migration_from,
                                   to_date=P.as_of, **options, con=con)
    assert_close(a.metrics(), b.metrics())
    assert a.metrics()["n_new"] > 0
    assert_same_frame(a.to_frame().astype(str), b.to_frame().astype(str))
    c = segmentation.rfm_migration(example["resident"], example["customers"], from_date=S.rfm.migration_from,
                                   to_date=P.as_of, **options, con=con, to_features=feats)  # the notebook's call
    assert_same_frame(a.to_frame().astype(str), c.to_frame().astype(str))


def test_customer_value_in_the_engine(example: dict[str, Any], no_pandas_read: None) -> None:
    P = example["params"]
    clv = P.analyses.segmentation.clv.model_dump()
    a = value.customer_value(example["orders"], as_of=P.as_of, **clv, margin_col="margin")
    con = duckdb_con()
    check = check_as_of(example["resident"], P.as_of, warn=False, con=con)  # the notebook's, reused
    b = value.customer_value(example["resident"], as_of=P.as_of, **clv, margin_col="margin", con=con, as_of_check=check)
    assert b.holdout is not None and b.tracking is not None and b.independence is not None
    assert_close(a.metrics(), b.metrics())
    assert_same_frame(a.to_frame(), b.to_frame())
    assert_same_frame(a.holdout.to_frame(), b.holdout.to_frame())
    assert_same_frame(a.holdout.summary(), b.holdout.summary())
    assert_same_frame(a.tracking.to_frame(), b.tracking.to_frame())
    assert_same_frame(a.independence.to_frame(), b.independence.to_frame())
    assert a.notes == b.notes and "from the orders' margin column" in b.notes[0]
    assert a.finding() == b.finding() and a.holdout_finding() == b.holdout_finding()


def test_simple_customer_value_in_the_engine(example: dict[str, Any], no_pandas_read: None) -> None:
    P = example["params"]
    clv = {**P.analyses.segmentation.clv.model_dump(), "method": "simple"}
    a = value.customer_value(example["orders"], as_of=P.as_of, **clv, customers=example["customers"])
    b = value.customer_value(example["resident"], as_of=P.as_of, **clv, customers=example["customers"],
                             con=duckdb_con())
    assert_close(a.metrics(), b.metrics())
    assert_same_frame(a.to_frame(), b.to_frame())


def edge_orders() -> pd.DataFrame:
    """Lines the example lacks: no customer, no time, zero / missing / unflagged negative amounts,
    refund statuses without the flag, three lines on one day, purchases across week bounds."""
    t = pd.to_datetime
    rows = [
        ("a", "2024-01-01 09:00", 10.1), ("a", "2024-01-01 12:00", 20.2), ("a", "2024-01-01 18:00", 0.3),
        ("a", "2024-01-03", 7.7), ("a", "2024-01-08", 0.0), ("a", "2024-02-10", 5.5), ("a", "2024-03-05", 1.25),
        ("b", "2024-01-07", 3.0), ("b", "2024-01-08", np.nan), ("b", "2024-02-20", -4.0),
        ("b", "2024-03-02", 9.9), ("c", "2024-02-29", 12.0), ("c", "2024-03-01", 13.0),
        (None, "2024-01-02", 99.0), ("d", None, 5.0), ("d", "2024-01-15", 6.0), ("d", "2024-01-20", 6.0),
        ("e", "2024-03-03", 8.0), ("e", "2024-03-04", 2.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_time", "amount"])
    frame["order_time"] = t(frame["order_time"], format="ISO8601").astype("datetime64[us]")
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["status"] = pd.array(["paid"] * len(frame), dtype="string")
    frame.loc[16, "status"] = " 退款 "  # a refund by status alone (stripped, as refund_mask reads it)
    frame["is_refund"] = pd.array([False] * len(frame), dtype="boolean")
    frame.loc[5, "is_refund"] = pd.NA
    frame.loc[10, "is_refund"] = True
    return frame


@pytest.mark.parametrize(
    "options",
    [
        {"calibration_end": "2024-03-31"},
        {"calibration_end": "2024-02-15", "observation_end": "2024-03-05"},
        {"calibration_end": "2024-02-15", "observation_end": "2024-03-05", "period": "unit"},
        {"calibration_end": "2024-02-15", "observation_end": "2024-03-05", "time_unit": "days", "period": "unit"},
        {"calibration_end": "2024-02-15", "observation_end": "2024-03-05", "time_unit": "months"},
    ],
)
def test_rfm_summary_edge_cases(tmp_path: Path, options: dict[str, Any]) -> None:
    frame = edge_orders()
    frame.to_parquet(tmp_path / "o.parquet")
    resident = ResidentFrame.of(tmp_path / "o.parquet", table="orders")
    a = value.rfm_summary(frame, **options)
    b = value.rfm_summary(resident, **options, con=duckdb_con())
    assert b.attrs == a.attrs
    assert b.attrs["rfm"]["n_negative_rows"] == 1 and b.attrs["rfm"]["n_refund_rows"] == 2
    assert list(b.index) == list(a.index) and list(b.columns) == list(a.columns)
    assert_same_frame(a.reset_index(), b.reset_index())


def test_rfm_summary_hand_computed(tmp_path: Path) -> None:
    """Customer a in days: purchase days Jan 1 (three lines), Jan 3, Jan 8 (zero amount), Feb 10,
    Mar 5 -> frequency 4; the spend of the repeat days with a positive amount: (7.7 + 5.5 + 1.25) / 3."""
    edge_orders().to_parquet(tmp_path / "o.parquet")
    s = value.rfm_summary(ResidentFrame.of(tmp_path / "o.parquet", table="orders"), calibration_end="2024-03-31",
                          time_unit="days", con=duckdb_con())
    a = s.loc["a"]
    assert (a["frequency"], a["recency"], a["T"]) == (4, 64.0, 90.0)
    assert a["monetary_value"] == pytest.approx((7.7 + 5.5 + 1.25) / 3, rel=1e-12)
    assert "d" in s.index and s.loc["d", "frequency"] == 0  # the refund by status is no purchase


@pytest.mark.filterwarnings("ignore::workbench.core.errors.StatisticalWarning")
def test_tracking_curve_all_cohort(tmp_path: Path) -> None:
    frame = edge_orders()
    frame.to_parquet(tmp_path / "o.parquet")
    resident = ResidentFrame.of(tmp_path / "o.parquet", table="orders")
    cal = value.rfm_summary(frame, calibration_end="2024-02-15", observation_end="2024-03-05", time_unit="days")
    model = value.BetaGeoModel(min_repeat_customers=1).fit(cal)
    for kw in ({"cohort": "all", "amount_col": "amount"}, {}):
        a = value.tracking_curve(model, frame, calibration_end="2024-02-15", observation_end="2024-03-05", **kw)
        b = value.tracking_curve(model, resident, calibration_end="2024-02-15", observation_end="2024-03-05", **kw,
                                 con=duckdb_con())
        assert_same_frame(a.to_frame(), b.to_frame())
        assert_close(a.metrics(), b.metrics())


def test_engine_errors_name_the_column(tmp_path: Path) -> None:
    text_times = edge_orders().assign(order_time=lambda f: f["order_time"].astype("string"))
    text_times.to_parquet(tmp_path / "text.parquet")
    edge_orders().to_parquet(tmp_path / "o.parquet")
    con = duckdb_con()
    with pytest.raises(AnalysisError, match=r"orders\.order_time: the engine path needs a date or timestamp"):
        value.rfm_summary(ResidentFrame.of(tmp_path / "text.parquet", table="orders"), calibration_end="2024-03-31",
                          con=con)
    resident = ResidentFrame.of(tmp_path / "o.parquet", table="orders")
    for options in ({"calibration_end": "2023-06-30"}, {"calibration_end": "2024-02-15", "observation_end": "2024-06-30"}):
        with pytest.raises(AnalysisError) as pandas_error:
            value.rfm_summary(edge_orders(), **options)
        with pytest.raises(AnalysisError) as engine_error:
            value.rfm_summary(resident, **options, con=con)
        assert str(engine_error.value) == str(pandas_error.value)


def test_summary_and_as_of_on_spark(tmp_path: Path) -> None:
    """Spark has no ordered aggregate: the spend sums go through sorted (day, total) pairs."""
    con = spark_con()
    frame = edge_orders()
    frame.to_parquet(tmp_path / "o.parquet")
    resident = ResidentFrame.of(tmp_path / "o.parquet", table="orders")
    options = {"calibration_end": "2024-02-15", "observation_end": "2024-03-05", "period": "unit"}
    a, b = value.rfm_summary(frame, **options), value.rfm_summary(resident, **options, con=con)
    assert b.attrs == a.attrs
    assert_same_frame(a.reset_index(), b.reset_index())
    assert check_as_of(resident, "2024-12-31", warn=False, con=con) == check_as_of(frame, "2024-12-31", warn=False)
