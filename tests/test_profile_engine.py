"""The profile computed in the engine (``con=``) gives the numbers of the pandas profile: on the
bundled example tables and on a hand-made orders table with missing values, NaN and infinite
amounts, zeros, negatives, refunds, exact duplicate rows, repeated keys and future and pre-launch
dates. Presentation differences are documented in :mod:`workbench.profiling.queries` (ties
between equally frequent values listed by value, the engine's dtype names, the memory estimate)
and tolerated here; on a table larger than ``correlation_sample`` the sample statistics come
from a seeded engine sample, and the profile says so."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pytest
from engines import duckdb_con, spark_con

from workbench.core.contract import LoadedTable
from workbench.core.errors import WorkbenchError
from workbench.core.io import load_tables
from workbench.core.pii import PersonalColumn
from workbench.data import engine
from workbench.profiling import profile_table, profile_tables
from workbench.profiling.queries import APPROXIMATE
from workbench.run.params import load_params

KW = dict(as_of="2024-06-30", launch_date="2023-01-01", data_end="2025-01-01", random_state=7)
#: columns whose engine value differs by design (type names; the top value when counts tie)
PRESENTATION = {"dtype", "top"}
#: alert kinds whose examples are listed by value in the engine (ties / row order)
EXAMPLES_BY_VALUE = {"duplicate_keys", "orphan_orders", "orphan_rows", "customers_without_orders", "unique",
                     "high_cardinality", "constant"}  # fmt: skip


def hand_orders(n: int = 40) -> pd.DataFrame:
    """Orders with every defect the profile counts, in known numbers."""
    i = np.arange(n)
    frame = pd.DataFrame(
        {
            "order_id": [f"O{k:03d}" for k in i],
            "customer_id": [f"C{k % 7}" if k % 9 else None for k in i],
            "order_time": pd.to_datetime("2024-01-01") + pd.to_timedelta(i * 5, unit="D"),
            "amount": (i * 3.5 + 1).astype("float64"),
            "channel": ["app", "web", "store", "app"] * (n // 4),
            "status": ["paid"] * (n - 4) + ["refunded", "退款", " Returned ", "paid"],
            "is_refund": [False] * (n - 4) + [True, False, False, False],
            "quantity": (i % 3).astype("int64"),  # zeros
        }
    )
    frame.loc[3, "amount"] = np.nan
    frame.loc[5, "amount"] = -20.0  # negative, not a refund
    frame.loc[6, "amount"] = 0.0
    frame.loc[8, "amount"] = np.inf
    frame.loc[10, "channel"] = None
    frame.loc[12, "order_time"] = pd.Timestamp("2030-02-01 10:00")  # future
    frame.loc[13, "order_time"] = pd.Timestamp("1999-12-31")  # before launch
    frame.loc[14, "order_time"] = pd.NaT
    frame.loc[20, "order_id"] = "O019"  # repeated key
    frame = frame.iloc[[*range(n), 30, 31]].reset_index(drop=True)  # two exact copies
    frame["quantity"] = frame["quantity"].astype("Int64")
    frame["channel"] = frame["channel"].astype("string")
    return frame


def hand_customers() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{k}" for k in range(6)] + ["C99"],
                         "city": ["北京", "上海", None, "广州", "深圳", "北京", "上海"]})  # fmt: skip


def _loaded(name: str, frame: pd.DataFrame) -> LoadedTable:
    return LoadedTable(name=name, frame=frame, source={}, columns=[])


@lru_cache(maxsize=1)
def example_tables() -> dict[str, LoadedTable]:
    return load_tables(load_params("params/example.yaml"))


def _missing(v) -> bool:
    return v is None or (np.ndim(v) == 0 and bool(pd.isna(v)))


def _close(a, b, *, rtol: float = 1e-9) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        return bool(np.isclose(float(a), float(b), rtol=rtol, atol=1e-12))
    return bool(a == b)


def assert_same_stats(pa: pd.DataFrame, en: pd.DataFrame, *, rtol: float = 1e-9, skip: set[str] = frozenset()) -> None:
    assert list(pa.index) == list(en.index)
    assert list(pa.columns) == list(en.columns)
    bad = [(col, c, pa.at[col, c], en.at[col, c]) for c in pa.columns if c not in PRESENTATION | set(skip)
           for col in pa.index if not _close(pa.at[col, c], en.at[col, c], rtol=rtol)]  # fmt: skip
    assert not bad, bad[:10]


def assert_same_alerts(pa: pd.DataFrame, en: pd.DataFrame) -> None:
    keys = ["severity", "table", "column", "kind", "n_rows"]
    left = pa.sort_values(keys).reset_index(drop=True)
    right = en.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(left[keys], right[keys])
    same_text = ~left["kind"].isin(EXAMPLES_BY_VALUE)
    pd.testing.assert_series_equal(left.loc[same_text, "message"], right.loc[same_text, "message"])


def assert_same_tops(a, b) -> None:
    """Top values: the same counts; the same values where a count is not tied."""
    assert set(a) == set(b)
    for col in a:
        ta, tb = a[col], b[col]
        np.testing.assert_array_equal(ta["count"].to_numpy(), tb["count"].to_numpy())
        untied = ~ta["count"].duplicated(keep=False).to_numpy()
        if len(ta) and ta["count"].iloc[-1] == ta["count"].max():
            continue  # all tied (an id column): any order
        assert list(ta["value"][untied][:-1]) == list(tb["value"][untied][:-1]), col


def test_example_tables_same_numbers_in_the_engine():
    tables = example_tables()
    pa = profile_tables(tables, **KW)
    con = duckdb_con()
    en = profile_tables(tables, con=con, **KW)
    assert set(pa.profiles) == set(en.profiles)
    for name, tp in pa.profiles.items():
        te = en.profiles[name]
        assert te.engine == "duckdb" and tp.engine is None
        assert_same_stats(tp.stats, te.stats)
        assert_same_tops(tp.top_values, te.top_values)
        assert (tp.n_rows, tp.n_columns, tp.n_duplicate_rows, tp.n_duplicate_keys, tp.n_missing_cells) == (
            te.n_rows, te.n_columns, te.n_duplicate_rows, te.n_duplicate_keys, te.n_missing_cells)
        pd.testing.assert_frame_equal(tp.missing_patterns, te.missing_patterns)
        pd.testing.assert_frame_equal(tp.spearman, te.spearman, rtol=1e-9)
        pd.testing.assert_frame_equal(tp.cramers, te.cramers, rtol=1e-9)
        for col, daily in tp.daily_counts.items():
            pd.testing.assert_series_equal(daily, te.daily_counts[col], check_index_type=False, check_freq=False)
            pd.testing.assert_frame_equal(tp.spikes[col], te.spikes[col], check_dtype=False)
            assert tp.date_windows[col] == te.date_windows[col]
        assert te.sample_rows == tp.sample_rows == tp.n_rows and te.sample_note() == ""
    assert_same_alerts(pa.alerts(), en.alerts())
    pd.testing.assert_frame_equal(pa.summary(), en.summary())
    assert pa.crm == en.crm
    pd.testing.assert_frame_equal(pa.references.drop(columns="examples"), en.references.drop(columns="examples"))
    top_a, top_e = pa.top_spenders, en.top_spenders
    np.testing.assert_allclose(top_a["spend"], top_e["spend"], rtol=1e-9)
    np.testing.assert_allclose(top_a["robust_z"], top_e["robust_z"], rtol=1e-9)
    assert list(top_a["customer_id"].astype(str)[:5]) == list(top_e["customer_id"].astype(str)[:5])
    assert pa.findings()[1:] == en.findings()[1:]  # the overview names the memory (an estimate in the engine)
    engine.close(con)


def test_hand_made_orders_same_numbers_and_known_counts():
    orders, customers = hand_orders(), hand_customers()
    tables = {"orders": _loaded("orders", orders), "customers": _loaded("customers", customers)}
    pa = profile_tables(tables, **KW)
    en = profile_tables(tables, con=duckdb_con(), **KW)
    for name in tables:
        assert_same_stats(pa.profiles[name].stats, en.profiles[name].stats)
        assert_same_tops(pa.profiles[name].top_values, en.profiles[name].top_values)
        pd.testing.assert_frame_equal(pa.profiles[name].missing_patterns, en.profiles[name].missing_patterns)
    assert_same_alerts(pa.alerts(), en.alerts())
    assert pa.crm == en.crm
    st, tp = en.profiles["orders"].stats, en.profiles["orders"]
    n = len(orders)
    assert tp.n_rows == n == 42
    assert tp.n_duplicate_rows == 2  # the two copies
    assert tp.n_duplicate_keys == 1  # O019 again, not counting the copies
    amount = st.loc["amount"]
    assert (amount["n_missing"], amount["n_infinite"], amount["n_zeros"], amount["n_negative"]) == (1, 1, 1, 1)
    finite = orders["amount"][np.isfinite(orders["amount"])]
    assert amount["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert amount["std"] == pytest.approx(finite.std(), rel=1e-12)
    assert amount["skewness"] == pytest.approx(finite.skew(), rel=1e-9)
    assert amount["kurtosis"] == pytest.approx(finite.kurt(), rel=1e-9)
    assert amount["p95"] == pytest.approx(finite.quantile(0.95), rel=1e-12)
    assert st.loc["quantity", "n_zeros"] == int((orders["quantity"] == 0).sum())
    ot = st.loc["order_time"]
    assert (ot["n_future"], ot["n_prelaunch"], ot["n_missing"]) == (1, 1, 1)
    kinds = set(en.alerts()["kind"])
    assert {"duplicates", "duplicate_keys", "future_dates", "prelaunch_dates", "infinite", "negative_amounts",
            "refunds", "orphan_orders", "customers_without_orders"} <= kinds  # fmt: skip
    refunds = en.alerts(kind="refunds")
    assert refunds["n_rows"].iloc[0] == 3  # is_refund, 退款, " Returned "
    assert en.profiles["orders"].top_values["channel"]["value"].iloc[0] == "app"


def test_sampled_statistics_come_from_a_seeded_engine_sample_and_say_so():
    rng = np.random.default_rng(1)
    n = 6000
    frame = pd.DataFrame({"customer_id": [f"C{k}" for k in range(n)], "x": rng.normal(size=n),
                          "city": rng.choice(["a", "b", "c"], size=n)})  # fmt: skip
    frame["y"] = frame["x"] * 2 + rng.normal(scale=0.1, size=n)
    frame.loc[::7, "y"] = np.nan
    con = duckdb_con()
    a = profile_table(frame, con=con, name="customers", correlation_sample=1000, **KW)
    b = profile_table(frame, con=con, name="customers", correlation_sample=1000, **KW)
    full = profile_table(_loaded("customers", frame), **KW)
    assert 900 <= a.sample_rows <= 1000 and a.sampled
    assert "seeded sample of" in a.sample_note() and f"of {n:,} rows" in a.sample_note()
    pd.testing.assert_frame_equal(a.spearman, b.spearman)  # same seed, same sample
    assert a.spearman.loc["x", "y"] > 0.99
    assert_same_stats(full.stats, a.stats)  # counts and moments still over every row
    assert len(a.nullity_sample) <= 1000


def test_ibis_table_and_parquet_inputs(tmp_path):
    frame = hand_orders()
    path = tmp_path / "orders.parquet"
    engine.to_microseconds(frame).to_parquet(path)
    con = duckdb_con()
    from_path = profile_table(path, con=con, name="orders", **KW)
    from_ibis = profile_table(engine.as_table(con, path), name="orders", **KW)
    pandas = profile_table(_loaded("orders", frame), **KW)
    assert_same_stats(pandas.stats, from_path.stats)
    assert_same_stats(from_path.stats, from_ibis.stats)
    assert from_path.source["format"] == "parquet"
    prof = profile_tables({"orders": engine.as_table(con, path)}, **KW)  # the table's own engine
    assert prof.profiles["orders"].engine == "duckdb"
    with pytest.raises(WorkbenchError, match="name="):
        profile_table(engine.as_table(con, path), **KW)


def test_personal_data_hidden_in_the_engine_path():
    frame = pd.DataFrame({"customer_id": ["C1", "C2", "C3"], "phone": ["13812345678", "13987654321", None]})
    pii = [PersonalColumn("customers", "phone", "手机号", "phone", "contract", 1.0, 3, "keep")]
    tp = profile_table(frame, con=duckdb_con(), name="customers", personal_data=pii, **KW)
    row = tp.stats.loc["phone"]
    assert row["kind"] == "personal" and "values hidden" in row["top"]
    assert (row["n_missing"], row["n_distinct"]) == (1, 2)
    assert "phone" not in tp.top_values
    text = " ".join(tp.alerts_frame()["message"]) + " ".join(map(str, tp.stats.to_numpy().ravel()))
    assert "13812345678" not in text


def test_same_numbers_on_spark():
    con = spark_con()
    orders, customers = hand_orders(), hand_customers()
    tables = {"orders": _loaded("orders", orders), "customers": _loaded("customers", customers)}
    pa = profile_tables(tables, **KW)
    sp = profile_tables(tables, con=con, **KW)
    for name in tables:  # quantiles too: Spark's percentile interpolates as numpy
        assert_same_stats(pa.profiles[name].stats, sp.profiles[name].stats)
        assert_same_tops(pa.profiles[name].top_values, sp.profiles[name].top_values)
    assert sp.profiles["orders"].engine == "spark"
    assert sp.profiles["orders"].approximate == APPROXIMATE["spark"] == ()
    assert_same_alerts(pa.alerts(), sp.alerts())
    assert pa.crm == sp.crm
