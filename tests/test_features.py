"""Engine features against a hand-computed fixture."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.data.features import customer_features


@pytest.fixture
def orders():
    return pd.DataFrame(
        {
            "order_id": [str(i) for i in range(1, 10)],
            "customer_id": ["a", "a", "a", "a", "b", "b", "c", "a", "d"],
            "order_time": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-01 15:00", "2024-01-11 09:00", "2024-01-31 23:59",
                 "2024-01-05 00:00", "2024-01-06 00:00", "2024-03-01 00:00", "2024-02-15 00:00",
                 "2024-01-20 00:00"]
            ),  # fmt: skip
            "amount": [10.0, 20.0, 30.0, 40.0, 50.0, -50.0, 5.0, 999.0, 0.0],
            "channel": ["app", "web", "app", "app", "store", None, "app", "web", "app"],
            "is_refund": [False, False, False, False, False, True, False, False, False],
        }
    )


@pytest.fixture
def customers():
    return pd.DataFrame(
        {"customer_id": ["a", "b", "c", "d", "e"],
         "signup_date": pd.to_datetime(["2023-12-01", None, "2024-01-01", "2024-01-15", "2024-05-01"])}
    )  # fmt: skip


def test_features_hand_computed(orders, customers):
    f = customer_features(orders, as_of="2024-01-31", customers=customers).set_index("customer_id")
    # e signs up after as_of: excluded; c and d have no purchase by as_of (d's is 0.00)
    assert list(f.index) == ["a", "b", "c", "d"]
    a = f.loc["a"]
    # a: 10, 20 (same day), 30 (Jan 11), 40 (Jan 31 23:59, inside as_of day); Feb order excluded
    assert a.n_orders == 4 and a.n_purchase_days == 3
    assert a.monetary_sum == 100.0 and a.monetary_mean == 25.0
    assert a.recency_days == 0 and a.tenure_days == 61  # from sign-up 2023-12-01
    assert a.gap_mean_days == pytest.approx(15.0) and a.gap_max_days == 20  # gaps 10, 20
    assert a.btyd_frequency == 2 and a.btyd_recency_days == 30 and a.btyd_T_days == 30
    assert a.preferred_channel == "app" and a.share_app == pytest.approx(0.75)
    assert a.share_web == pytest.approx(0.25) and a.n_channels == 2
    b = f.loc["b"]
    assert b.n_orders == 1 and b.n_refunds == 1 and b.refund_amount == 50.0
    assert b.monetary_net == 0.0 and b.refund_share == 1.0
    assert b.tenure_days == 26  # no sign-up date: from first purchase
    assert f.loc["c", "n_orders"] == 0 and f.loc["c", "monetary_sum"] == 0.0
    assert f.loc["d", "n_orders"] == 0  # zero-amount line is not a purchase
    assert pd.isna(f.loc["c", "recency_days"])


def test_as_of_cuts_future(orders):
    early = customer_features(orders, as_of="2024-01-10").set_index("customer_id")
    assert early.loc["a", "n_orders"] == 2 and "c" not in early.index
    late = customer_features(orders, as_of="2024-12-31").set_index("customer_id")
    assert late.loc["a", "n_orders"] == 5 and late.loc["a", "monetary_sum"] == 1099.0


def test_status_marks_refunds(orders):
    o = orders.drop(columns="is_refund").assign(status=["paid"] * 5 + ["已退款"] + ["paid"] * 3)
    o.loc[5, "amount"] = 50.0  # refund written as a positive amount with a refund status
    f = customer_features(o, as_of="2024-01-31").set_index("customer_id")
    assert f.loc["b", "n_orders"] == 1 and f.loc["b", "n_refunds"] == 1
