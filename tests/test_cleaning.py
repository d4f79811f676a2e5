"""Cleaning: every rule touches exactly the rows planted for it; inputs stay unchanged."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from workbench.core.contract import apply_contract
from workbench.core.errors import ContractError
from workbench.core.params import CleaningParams
from workbench.data.cleaning import (
    CleaningRules,
    clean_tables,
    extreme_spenders,
    fast_isin,
    negative_amount_mask,
    refund_mask,
    robust_z,
)

AS_OF = "2024-06-30"
LAUNCH = "2020-01-01"
DATA_END = "2026-01-01"

from hand_fixtures import ORDER_MAP, ORDER_ROWS  # noqa: E402


def make_tables():
    """Orders and customers after intake, with the planted defects above."""
    raw_orders = pd.DataFrame(ORDER_ROWS, columns=list(ORDER_MAP.values()))
    n = 20
    signup = [f"2023-{(i % 12) + 1:02d}-15" for i in range(n)]
    signup[0] = "1970-01-01"  # before launch
    signup[1] = "2030-05-01"  # future
    age = [str(20 + i) for i in range(n)]
    age[2], age[3] = "未知", "abc"  # placeholder and unparseable -> 2 missing (10 %)
    raw_customers = pd.DataFrame(
        {
            "会员ID": [f"C{i:02d}" for i in range(1, n + 1)],
            "注册日期": signup,
            "手机号": [f"138{i:08d}" for i in range(n)],
            "年龄": age,
            "城市": ["北京", "上海", "广州", "深圳"] * 5,
        }
    )
    customers = apply_contract(
        raw_customers, "customers",
        columns={"customer_id": "会员ID", "signup_date": "注册日期", "phone": "手机号", "age": "年龄", "city": "城市"},
        max_unparseable_share=0.1,
    )  # fmt: skip
    orders = apply_contract(raw_orders, "orders", columns=ORDER_MAP)
    return {"customers": customers, "orders": orders}


def _touched(res, table, rule):
    lg = res.log()
    row = lg[(lg["table"] == table) & (lg["rule"] == rule)]
    assert len(row) == 1, f"no single log row for {table}/{rule}: {lg}"
    return int(row["rows_touched"].iloc[0])


def test_default_rules_touch_the_planted_rows_and_leave_inputs_alone():
    tables = make_tables()
    before = {k: t.frame.copy() for k, t in tables.items()}
    res = clean_tables(tables, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, impute={"customers.age": "median"})

    assert _touched(res, "orders", "drop_exact_duplicates") == 2
    assert _touched(res, "orders", "missing_required") == 1
    assert _touched(res, "orders", "duplicate_keys") == 1
    assert _touched(res, "orders", "future_dates") == 1
    assert _touched(res, "orders", "prelaunch_dates") == 1
    assert _touched(res, "orders", "negative_amounts") == 1
    assert _touched(res, "orders", "orphan_orders") == 2
    assert _touched(res, "orders", "extreme_spenders") == 1
    assert _touched(res, "customers", "extreme_spenders") == 1
    assert _touched(res, "customers", "future_dates") == 1
    assert _touched(res, "customers", "prelaunch_dates") == 1
    assert _touched(res, "customers", "impute median") == 2
    assert _touched(res, "customers", "drop_exact_duplicates") == 0

    for k, frame in before.items():
        pd.testing.assert_frame_equal(tables[k].frame, frame)

    orders = res.tables["orders"]
    assert len(orders) == 16 - 2 - 1 - 1 - 1 - 1
    assert orders["order_id"].is_unique
    # keep_last kept the second O05 row (customer C04)
    assert orders.loc[orders["order_id"] == "O05", "customer_id"].tolist() == ["C04"]
    # the negative line became a refund
    o06 = orders[orders["order_id"] == "O06"].iloc[0]
    assert bool(o06["is_refund"]) and o06["status"] == "refunded"
    assert orders.loc[orders["flag_orphan"].astype(bool), "order_id"].tolist() == ["O07", "O08"]
    assert orders.loc[orders["flag_extreme"].astype(bool), "customer_id"].tolist() == ["C08"]
    assert orders["order_time"].between("2020-01-01", DATA_END).all()

    customers = res.tables["customers"]
    assert len(customers) == 20  # a wrong sign-up date blanks the date, it does not drop the customer
    assert customers["signup_date"].isna().sum() == 2
    assert customers["age"].isna().sum() == 0
    ages = [20 + i for i in range(20) if i not in (2, 3)]
    assert customers.loc[2, "age"] == pytest.approx(np.median(ages))
    assert customers.loc[customers["flag_extreme"].astype(bool), "customer_id"].tolist() == ["C08"]

    s = res.summary()
    assert s.loc["orders", "rows_in"] == 16 and s.loc["orders", "rows_out"] == 10
    m = res.metrics()
    assert m["rows_touched"]["orders.drop_exact_duplicates"] == 2 and m["rows_out"]["orders"] == 10
    assert list(res.log().columns) == [
        "step", "table", "rule", "params_key", "rows_before", "rows_after", "rows_touched", "detail",
    ]  # fmt: skip
    assert "rows_touched" in res._repr_html_() and repr(res).startswith("CleanResult(")
    assert "orders: 6 of 16 rows dropped" in res.finding()


def test_alternative_modes():
    tables = make_tables()
    rules = dict(
        duplicate_keys="keep_first", orphan_orders="drop", negative_amounts="drop",
        future_dates="flag", prelaunch_dates="keep", extreme_spenders="drop", missing_required="keep",
    )  # fmt: skip
    res = clean_tables(tables, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, **rules)
    orders = res.tables["orders"]
    assert _touched(res, "orders", "missing_required") == 0
    assert orders.loc[orders["order_id"] == "O05", "customer_id"].tolist() == ["C03"]
    assert _touched(res, "orders", "future_dates") == 1
    assert orders.loc[orders["flag_future_date"].astype(bool), "order_id"].tolist() == ["O10"]
    assert _touched(res, "orders", "prelaunch_dates") == 0 and "O11" in set(orders["order_id"])
    assert _touched(res, "orders", "negative_amounts") == 1 and "O06" not in set(orders["order_id"])
    assert _touched(res, "orders", "orphan_orders") == 2 and "C99" not in set(orders["customer_id"])
    assert _touched(res, "orders", "extreme_spenders") == 1 and "C08" not in set(orders["customer_id"])


def test_duplicate_keys_flag_marks_every_row_sharing_a_key():
    res = clean_tables(make_tables(), duplicate_keys="flag", as_of=AS_OF, data_end=DATA_END)
    orders = res.tables["orders"]
    assert orders.loc[orders["flag_duplicate_key"].astype(bool), "order_id"].tolist() == ["O05", "O05"]
    assert _touched(res, "orders", "duplicate_keys") == 2
    assert "skipped" in res.log().query("rule == 'prelaunch_dates'")["detail"].iloc[0]


def test_cap_extreme_spender_amounts():
    res = clean_tables(make_tables(), extreme_spenders="cap", as_of=AS_OF,
                       launch_date=LAUNCH, data_end=DATA_END)  # fmt: skip
    orders = res.tables["orders"]
    others = orders.loc[(orders["customer_id"] != "C08") & (orders["amount"] > 0), "amount"]
    capped = orders.loc[orders["customer_id"] == "C08", "amount"].iloc[0]
    assert capped == pytest.approx(np.quantile(others, 0.999))
    assert _touched(res, "orders", "extreme_spenders") == 1


def test_duplicate_keys_error_names_table_column_rows_and_params_key():
    with pytest.raises(ContractError) as err:
        clean_tables(make_tables(), duplicate_keys="error", as_of=AS_OF, data_end=DATA_END)
    msg = str(err.value)
    assert err.value.table == "orders" and err.value.column == "order_id"
    assert "orders.order_id" in msg and "set duplicate_keys= to keep_first" in msg and "'O05'" in msg
    assert "2 of 13 rows" in msg  # after dropping the exact duplicates and the row without amount


def test_impute_rules_and_their_errors():
    tables = make_tables()
    res = clean_tables(tables, impute={"orders.channel": "mode", "customers.city": "unknown"},
                       as_of=AS_OF, data_end=DATA_END)  # fmt: skip
    assert _touched(res, "orders", "impute mode") == 0
    with pytest.raises(ContractError, match=r"impute=\{'customers\.city': 'median'\}"):
        clean_tables(tables, impute={"customers.city": "median"}, as_of=AS_OF)
    with pytest.raises(ContractError, match="has no column 'nope'"):
        clean_tables(tables, impute={"customers.nope": "zero"}, as_of=AS_OF)


def test_rules_are_the_cleaning_params_keywords():
    assert asdict(CleaningRules()) == CleaningParams().model_dump()
    with pytest.raises(TypeError, match="unknown cleaning rule 'duplicate_key' .*did you mean 'duplicate_keys'"):
        clean_tables(make_tables(), as_of=AS_OF, duplicate_key="flag")
    with pytest.raises(ValueError, match="orphan_orders='remove' is not a rule; choose one of drop, flag, keep"):
        clean_tables(make_tables(), as_of=AS_OF, orphan_orders="remove")
    with pytest.raises(ValueError, match="extreme_spender_mad_z=0 must be > 0"):
        clean_tables(make_tables(), as_of=AS_OF, extreme_spender_mad_z=0)


def test_plain_dataframes_are_accepted():
    frames = {k: t.frame for k, t in make_tables().items()}
    res = clean_tables(frames, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END)
    assert len(res.tables["orders"]) == 10


def test_crm_masks_and_robust_z():
    orders = make_tables()["orders"].frame
    assert refund_mask(orders).sum() == 1
    assert negative_amount_mask(orders).tolist() == [i == 7 for i in range(16)]
    # (x - median) / (1.4826 * MAD): median 3, MAD 1
    np.testing.assert_allclose(robust_z([1.0, 2.0, 3.0, 4.0, 100.0]), np.array([-2, -1, 0, 1, 97]) / 1.4826)
    ext = extreme_spenders(orders, mad_z=8.0)
    assert ext["customer_id"].tolist() == ["C08"]
    assert ext["robust_z"].iloc[0] == pytest.approx((np.log(1e6) - np.log(110)) / (1.4826 * (np.log(180) - np.log(110))))


def test_fast_isin_matches_pandas():
    a = pd.Series(["a", "b", None, "c"], dtype="string")
    b = pd.Series(["c", "a", None], dtype="string")
    assert fast_isin(a, b).tolist() == [True, False, False, True]
    assert fast_isin(pd.Series([1, 2]), [2]).tolist() == [False, True]
