"""Engine features against a hand-computed fixture."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.data import features
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


def _orders(rows):
    """Orders from (customer, time, amount, channel) tuples."""
    frame = pd.DataFrame(rows, columns=["customer_id", "order_time", "amount", "channel"])
    return frame.assign(order_time=pd.to_datetime(frame["order_time"], format="ISO8601"), order_id=[str(i) for i in range(len(frame))])


def test_gaps_between_distinct_days_without_a_window_for_the_mean():
    o = _orders([
        ("a", "2024-01-01 09:00", 1.0, "app"), ("a", "2024-01-02", 1.0, "app"),
        ("a", "2024-01-10 08:00", 1.0, "app"), ("a", "2024-01-10 20:00", 1.0, "app"),
        ("s", "2024-01-05 10:00", 1.0, "web"), ("s", "2024-01-05 11:00", 1.0, "web"),
        ("o", "2024-01-07", 1.0, "web"),
    ])  # fmt: skip
    f = customer_features(o, as_of="2024-01-31").set_index("customer_id")
    a = f.loc["a"]  # days 1, 2, 10: gaps 1 and 8 (the second Jan-10 order is the same day)
    assert a.n_orders == 4 and a.n_purchase_days == 3 and a.btyd_frequency == 2
    assert a.gap_mean_days == 4.5 and a.gap_median_days == 4.5 and a.gap_max_days == 8
    for c in ("s", "o"):  # one purchase day: no gap at all, even with two orders that day
        assert f.loc[c, "n_purchase_days"] == 1
        assert f.loc[c, ["gap_mean_days", "gap_median_days", "gap_max_days"]].isna().all()


def test_preferred_channel_ties_alphabetical_and_missing_channel():
    o = _orders([
        ("a", "2024-01-01", 5.0, "web"), ("a", "2024-01-02", 5.0, "app"),  # tie: app
        ("b", "2024-01-01", 5.0, None), ("b", "2024-01-02", 5.0, None), ("b", "2024-01-03", 5.0, "web"),
        ("c", "2024-01-01", -5.0, "store"),  # a refund only: not a customer with purchases
    ])  # fmt: skip
    f = customer_features(o, as_of="2024-01-31").set_index("customer_id")
    assert list(f.index) == ["a", "b"]
    assert [c for c in f.columns if c.startswith("share_")] == ["share_missing", "share_app", "share_web"]
    assert f.loc["a", "preferred_channel"] == "app" and f.loc["a", "n_channels"] == 2
    assert f.loc["b", "preferred_channel"] == "(missing)" and f.loc["b", "n_channels"] == 2
    assert f.loc["b", "share_missing"] == pytest.approx(2 / 3) and f.loc["b", "share_app"] == 0.0


def test_channels_of_purchases_only(orders):
    o = orders.assign(channel=orders["channel"].where(orders["customer_id"] != "b", "refund_desk"))
    o.loc[4, "channel"] = "store"  # b's purchase; b's refund line stays at refund_desk
    chans = features.purchase_channels_expr(features.register(features.connect(), {"o": o})["o"], as_of="2024-01-31")
    assert sorted(chans.to_pandas()["channel"]) == ["app", "store", "web"]


def test_fetch_gives_the_frame_ibis_gives(orders, customers):
    con = features.connect()
    t = features.register(con, {"orders": orders, "customers": customers})
    expr = features.customer_features_expr(
        t["orders"], as_of="2024-01-31", customers=t["customers"], channels=["(missing)", "app", "store", "web"]
    )
    pd.testing.assert_frame_equal(features._fetch(expr), expr.to_pandas())


def test_same_numbers_on_spark(orders, customers):
    from engines import assert_frames_equal_across, duckdb_con, spark_con

    spark = spark_con()
    assert_frames_equal_across(
        duckdb_con(), spark, lambda con: customer_features(orders, as_of="2024-01-31", customers=customers, con=con),
        by=["customer_id"],
    )  # fmt: skip
