"""The campaign and churn engine computations as Ibis expressions: attribution of orders to
contacts, funnels and cohort retention give the same numbers on DuckDB and on Spark ``local[2]``,
from pandas frames and from engine tables; plus hand-computed cases."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from engines import assert_same_frame, duckdb_con, spark_con

from workbench.campaign.attribution import attribute_orders
from workbench.campaign.funnel import DEFAULT_STEPS, FunnelResult, funnel
from workbench.churn import churn_frame, cohort_retention
from workbench.churn.frame import ChurnFrame
from workbench.churn.label import ChurnLabel
from workbench.data.engine import as_table
from workbench.synth import generate

STEPS = list(DEFAULT_STEPS)


@pytest.fixture(scope="module")
def synth():
    return generate(400, seed=7)


@pytest.fixture(scope="module")
def spark():
    return spark_con()


# ---------------------------------------------------------------- attribution


def _hand_contacts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "b", "c"],
            "contact_time": pd.to_datetime(["2025-01-01", "2025-01-05", None, "2025-01-10"]),
        },
        index=[10, 11, 12, 13],
    )


def _hand_orders() -> pd.DataFrame:
    rows = [  # customer, time, amount, is_refund, status
        ("a", "2025-01-02", 10.0, False, "paid"),  # contact 10
        ("a", "2025-01-05", 20.0, False, "paid"),  # contact 10; not 11 (not after its contact time)
        ("a", "2025-01-15", 5.0, False, None),  # contact 10 (window end, included) and 11
        (
            "a",
            "2025-01-19",
            7.0,
            False,
            "paid",
        ),  # contact 11 (its window end); data_end is this day
        ("a", "2025-01-10", 100.0, True, "paid"),  # refund line: never
        ("a", "2025-01-11", 50.0, False, " Cancelled "),  # cancelled: never
        ("a", "2025-01-12", -3.0, False, "paid"),  # negative amount: never
        ("a", "2025-01-13", 60.0, False, "已退款"),  # refund status: never
        ("b", "2025-01-02", 9.0, False, "paid"),  # contact 12 has no time: 0
        ("c", "2025-01-11", 4.0, False, "paid"),  # contact 13
        ("c", "2025-01-20", 8.0, False, "paid"),  # after data_end: ignored
    ]
    o = pd.DataFrame(rows, columns=["customer_id", "order_time", "amount", "is_refund", "status"])
    o["order_time"] = pd.to_datetime(o["order_time"])
    return o


# credit_rule "last_touch" (the default): the 2025-01-15 order, in the windows of contacts 10
# and 11, counts once, for the later contact 11
HAND_ATTRIBUTION = pd.DataFrame(
    {
        "orders": [2, 2, 0, 1],
        "converted": [True, True, False, True],
        "revenue": [30.0, 12.0, 0.0, 4.0],
    },
    index=[10, 11, 12, 13],
)
# credit_rule "every": the old double count (the 2025-01-15 order for both contacts)
HAND_EVERY = pd.DataFrame(
    {
        "orders": [3, 2, 0, 1],
        "converted": [True, True, False, True],
        "revenue": [35.0, 12.0, 0.0, 4.0],
    },
    index=[10, 11, 12, 13],
)


def test_attribution_hand_case_every_route(spark) -> None:
    c, o = _hand_contacts(), _hand_orders()
    kw = {"window_days": 14, "data_end": pd.Timestamp("2025-01-19")}
    pd.testing.assert_frame_equal(attribute_orders(c, o, **kw), HAND_ATTRIBUTION)
    pd.testing.assert_frame_equal(attribute_orders(c, o, credit_rule="every", **kw), HAND_EVERY)
    # orders as an engine table: the purchase rule runs in the engine (Spark: this route only; the
    # pandas route is compared with DuckDB below)
    duck = duckdb_con()
    pd.testing.assert_frame_equal(attribute_orders(c, o, con=duck, **kw), HAND_ATTRIBUTION)
    for con in (duck, spark):
        pd.testing.assert_frame_equal(
            attribute_orders(c, as_table(con, o), con=con, **kw), HAND_ATTRIBUTION
        )
    # contacts as an engine table: the result names the contacts
    con = duckdb_con()
    got = attribute_orders(as_table(con, c), o, con=con, **kw)
    assert got.set_index("customer_id").loc["c", "revenue"] == 4.0
    assert got["orders"].sum() == 5


def test_attribution_same_on_duckdb_and_spark(synth, spark) -> None:
    contacts, orders = synth.campaign_contacts, synth.orders
    a = attribute_orders(contacts, orders, window_days=10, con=duckdb_con())
    b = attribute_orders(contacts, orders, window_days=10, con=spark)
    assert a["orders"].sum() > 0
    assert_same_frame(a.reset_index(), b.reset_index())
    c = attribute_orders(contacts, as_table(spark, orders), window_days=10, con=spark)
    assert_same_frame(a.reset_index(), c.reset_index())


# ---------------------------------------------------------------- funnel


def _frames(f: FunnelResult) -> list[pd.DataFrame]:
    return [f.table, f.groups, f.timing_table, f.tests]


def _assert_same_funnel(a: FunnelResult, b: FunnelResult) -> None:
    assert a.n_events == b.n_events and a.notes == b.notes
    for x, y in zip(_frames(a), _frames(b), strict=True):
        if len(x) or len(y):
            assert_same_frame(x, y)


def test_funnel_hand_case_group_from_first_step_with_a_value(spark) -> None:
    """s1: the first exposure has no channel, the next one says app -> s1 is app; its visit 6 min
    after the first exposure. s2: web, no visit. s3: no channel at all -> (missing). s4: a visit
    before the exposure does not count; s5 has no exposure (not in the funnel)."""
    rows = [
        ("x", "s1", "2025-01-01 10:00", "exposure", None),
        ("x", "s1", "2025-01-01 10:05", "exposure", "app"),
        ("x", "s1", "2025-01-01 10:06", "visit", "web"),
        ("y", "s2", "2025-01-01 11:00", "exposure", "web"),
        ("z", "s3", "2025-01-01 12:00", "exposure", None),
        ("z", "s3", "2025-01-01 12:30", "visit", None),
        ("w", "s4", "2025-01-01 08:00", "visit", "web"),
        ("w", "s4", "2025-01-01 09:00", "exposure", "web"),
        ("v", "s5", "2025-01-01 09:00", "visit", "app"),
    ]
    ev = pd.DataFrame(
        rows, columns=["customer_id", "session_id", "event_time", "event_name", "channel"]
    )
    ev["event_time"] = pd.to_datetime(ev["event_time"])
    for con in (duckdb_con(), spark):
        f = funnel(ev, steps=["exposure", "visit"], by=["channel"], con=con)
        assert f.table["reached"].tolist() == [4, 2]
        g = f.by_group().set_index(["channel", "step"])["reached"].to_dict()
        assert g == {
            ("web", "exposure"): 2, ("web", "visit"): 0, ("app", "exposure"): 1, ("app", "visit"): 1,
            ("(missing)", "exposure"): 1, ("(missing)", "visit"): 1,
        }  # fmt: skip
        assert f.by_group()["channel"].tolist()[::2] == [
            "web",
            "(missing)",
            "app",
        ]  # by units, then name
        tm = f.timing().set_index("channel")
        assert tm.loc["(all)", "median_minutes"] == pytest.approx(18.0)  # 6 and 30 min
        assert tm.loc["app", "mean_minutes"] == pytest.approx(6.0)
        assert f.n_events == 9


def test_funnel_same_on_duckdb_and_spark(synth, spark) -> None:
    ev = synth.events
    seg = synth.customers[["customer_id", "member_level"]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = funnel(ev, steps=STEPS, by=["channel"], con=duckdb_con())
        b = funnel(ev, steps=STEPS, by=["channel"], con=spark)
        _assert_same_funnel(a, b)
        # customers, an event and a segment group, a step window; events as an engine table on Spark
        kw = {
            "unit": "customer",
            "by": ["channel", "member_level"],
            "segments": seg,
            "max_step_hours": 0.1,
        }
        a = funnel(ev, steps=STEPS, con=duckdb_con(), **kw)
        b = funnel(as_table(spark, ev), steps=STEPS, con=spark, **kw)
    assert a.table["reached"].iloc[-1] > 0 and len(a.groups) > 10
    _assert_same_funnel(a, b)


# ---------------------------------------------------------------- cohort retention


def test_cohort_retention_hand_case(spark) -> None:
    """Cohort 2024-01: a (also buys in March), b; cohort 2024-02: c (April line is a refund);
    d never buys; e is not in the frame. April is complete (as_of 2024-04-30)."""
    t = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churned": [0, 1, 1, 1],
                      "duration_months": [3.0, 1.0, 2.0, 1.0], "event": [0, 1, 1, 1]})  # fmt: skip
    frame = ChurnFrame(table=t, kind="non_contractual", definition="x", as_of=pd.Timestamp("2024-04-30"),
                       window_days=90, n_input=4)  # fmt: skip
    o = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "c", "c", "e"],
            "order_time": pd.to_datetime(
                [
                    "2024-01-03",
                    "2024-01-20",
                    "2024-03-09",
                    "2024-01-31",
                    "2024-02-01",
                    "2024-02-27",
                    "2024-04-02",
                    "2024-02-02",
                ]
            ),  # fmt: skip
            "amount": [5.0, 6.0, 7.0, 8.0, 9.0, 1.0, 2.0, 3.0],
            "is_refund": [False, False, False, False, False, False, True, False],
        }
    )
    for con in (None, duckdb_con(), spark):
        for orders in (o,) if con is None else (o, as_table(con, o)):
            cr = cohort_retention(frame, orders, con=con)
            assert cr.sizes.to_dict() == {"2024-01": 2, "2024-02": 1}
            r = cr.rates
            np.testing.assert_allclose(r.loc["2024-01"].to_numpy(), [1.0, 0.0, 0.5, 0.0])
            np.testing.assert_allclose(r.loc["2024-02"].to_numpy(), [1.0, 0.0, 0.0, np.nan])
            assert cr.notes == ["1 of 4 customers have no purchase by as_of and are in no cohort."]


def test_cohort_retention_same_on_duckdb_and_spark(synth, spark) -> None:
    f = churn_frame(synth.customers, synth.orders, as_of="2025-09-30", label=ChurnLabel())
    a = cohort_retention(f, synth.orders, con=duckdb_con())
    b = cohort_retention(f, synth.orders, con=spark)
    c = cohort_retention(f, as_table(spark, synth.orders), con=spark)
    assert len(a.sizes) > 12
    for other in (b, c):
        pd.testing.assert_series_equal(a.sizes, other.sizes)
        assert_same_frame(a.table, other.table, by=["cohort", "months_since"])
        assert a.notes == other.notes
