"""Profiling: every planted defect raises its alert with the right count; statistics match
hand or numpy values; clean columns raise nothing; service KPIs match statsmodels."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from workbench.core.contract import apply_contract
from workbench.profiling import (
    Alert,
    DataProfile,
    ProfilingOptions,
    cramers_v,
    profile_table,
    profile_tables,
    service_kpis,
)
from workbench.profiling.params import ProfilingParams
from workbench.report.plotting import set_theme

matplotlib.use("Agg")

AS_OF = "2024-06-30"
LAUNCH = "2020-01-01"
DATA_END = "2026-01-01"
# skewness above 20 needs hundreds of rows; the 20-row table plants a skewness of about 4.4
PARAMS = ProfilingParams(skewness_threshold=3.0)
OPTIONS = PARAMS.model_dump(exclude={"enabled"})  # the keyword options of profile_table(s)

from hand_fixtures import ORDER_MAP, ORDER_ROWS  # noqa: E402

POINTS = [5, 0, 12, 1000, 3, 0, 9, 14, 1, 0, 7, 11, 2, 15, 0, 6, 13, 4, 10, 8]  # zeros 20 %, skewed


def make_customers():
    n = 20
    signup = [f"2023-{(i % 12) + 1:02d}-15" for i in range(n)]
    signup[0] = "1970-01-01"
    signup[1] = "2030-05-01"
    age = [str(20 + i) for i in range(n)]
    age[2], age[3] = "未知", "abc"  # 10 % missing: one placeholder, one unparseable
    raw = pd.DataFrame(
        {
            "会员ID": [f"C{i:02d}" for i in range(1, n + 1)],
            "注册日期": signup,
            "手机号": [f"138{i:08d}" for i in range(n)],
            "年龄": age,
            "城市": ["北京", "上海", "广州", "深圳"] * 5,  # clean
            "来源": ["app"] * 19 + ["web"],  # 95/5 imbalance
            "国家": ["CN"] * n,  # constant (extra column)
            "券码": [f"K{i:02d}" for i in range(n)],  # unique (extra column)
            "积分": [str(v) for v in POINTS],  # zeros + skew (extra column)
        }
    )
    return apply_contract(
        raw, "customers",
        columns={"customer_id": "会员ID", "signup_date": "注册日期", "phone": "手机号", "age": "年龄",
                 "city": "城市", "acquisition_channel": "来源"},
        max_unparseable_share=0.1, source={"path": "/data/会员.csv", "format": "csv", "encoding": "gb18030"},
    )  # fmt: skip


def make_orders():
    raw = pd.DataFrame(ORDER_ROWS, columns=list(ORDER_MAP.values()))
    return apply_contract(raw, "orders", columns=ORDER_MAP)


def event_days():
    days = list(pd.date_range("2024-01-01", "2024-02-29")) + list(pd.date_range("2024-04-01", "2024-05-10"))
    days += [pd.Timestamp("2024-04-15")] * 20  # spike day; March has no rows
    return days


def make_events():
    days = event_days()
    n = len(days)  # 120
    channel = [["app", "web", "mini"][i % 3] for i in range(n)]
    raw = pd.DataFrame(
        {
            "cid": ["C77"] * 5 + [f"C0{(i % 3) + 1}" for i in range(5, n)],  # 5 orphan rows
            "time": [d.strftime("%Y-%m-%d") for d in days],
            "event": [f"evt{i % 60:02d}" for i in range(n)],  # 60 levels: high cardinality
            "channel": channel,
            "platform": [{"app": "ios", "web": "pc", "mini": "wx"}[c] for c in channel],  # V = 1
        }
    )
    return apply_contract(
        raw, "events", columns={"customer_id": "cid", "event_time": "time", "event_name": "event", "channel": "channel"}
    )


@pytest.fixture(scope="module")
def prof() -> DataProfile:
    tables = {"customers": make_customers(), "orders": make_orders(), "events": make_events()}
    return profile_tables(tables, **OPTIONS, as_of=AS_OF, launch_date=LAUNCH, data_end=DATA_END, random_state=0)


def _alerts(prof, table, kind, column=None):
    al = prof.alerts(kind=kind, table=table)
    if column is not None:
        al = al[al["column"] == column]
    return al


def _one(prof, table, kind, column=None):
    al = _alerts(prof, table, kind, column)
    assert len(al) == 1, f"expected one {kind} alert on {table}.{column}, got {al.to_dict('records')}"
    return al.iloc[0]


def test_column_alerts_fire_with_counts(prof):
    assert _one(prof, "customers", "constant", "国家")["n_rows"] == 20
    assert _one(prof, "customers", "unique", "券码")["n_rows"] == 20
    imb = _one(prof, "customers", "imbalance", "acquisition_channel")
    assert imb["n_rows"] == 19 and "19 of 20" in imb["message"]
    zeros = _one(prof, "customers", "zeros", "积分")
    assert zeros["n_rows"] == 4 and "20.0%" in zeros["message"]
    assert _one(prof, "customers", "skewed", "积分")["n_rows"] == 20
    miss = _one(prof, "customers", "missing", "age")
    assert miss["n_rows"] == 2 and miss["severity"] == "warning" and "2 of 20 rows (10.0%)" in miss["message"]
    assert _one(prof, "customers", "placeholder", "age")["n_rows"] == 1
    unp = _one(prof, "customers", "unparseable", "age")
    assert unp["n_rows"] == 1 and "'abc'" in unp["message"] and "(from 年龄)" in unp["message"]
    assert "personal data" in _one(prof, "customers", "personal_data", "phone")["message"]
    # a required column with 1 of 16 missing (6.25 %) is an error
    req = _one(prof, "orders", "missing", "amount")
    assert req["severity"] == "error" and req["n_rows"] == 1
    assert _one(prof, "events", "high_cardinality", "event_name")["n_rows"] == 60


def test_table_and_crm_alerts_fire_with_counts(prof):
    assert _one(prof, "orders", "duplicates")["n_rows"] == 2
    dk = _one(prof, "orders", "duplicate_keys")
    assert dk["n_rows"] == 1 and dk["severity"] == "error" and "'O05'" in dk["message"]
    assert _one(prof, "orders", "refunds")["n_rows"] == 1
    neg = _one(prof, "orders", "negative_amounts")
    assert neg["n_rows"] == 1 and "-20" in neg["message"]
    assert _one(prof, "orders", "future_dates", "order_time")["n_rows"] == 1
    assert _one(prof, "orders", "prelaunch_dates", "order_time")["n_rows"] == 1
    assert _one(prof, "customers", "future_dates", "signup_date")["n_rows"] == 1
    assert _one(prof, "customers", "prelaunch_dates", "signup_date")["n_rows"] == 1
    assert _one(prof, "orders", "after_as_of", "order_time")["n_rows"] == 1
    assert _one(prof, "orders", "orphan_orders")["n_rows"] == 2
    assert _one(prof, "events", "orphan_rows")["n_rows"] == 5
    assert _one(prof, "customers", "customers_without_orders")["n_rows"] == 12  # C09..C20
    ext = _one(prof, "orders", "extreme_spenders")
    assert ext["n_rows"] == 1 and "C08" in ext["message"]
    assert prof.extreme["customer_id"].tolist() == ["C08"]
    assert prof.spenders(2)["customer_id"].tolist()[0] == "C08" and len(prof.spenders(2)) == 2
    assert prof.crm["orphan_orders"] == 2 and prof.crm["refunds"] == 1


def test_clean_columns_raise_no_alert(prof):
    al = prof.alerts()
    for table, col in [("customers", "city"), ("orders", "channel"), ("customers", "age")]:
        kinds = set(al.loc[(al["table"] == table) & (al["column"] == col), "kind"])
        if col == "age":
            kinds -= {"missing", "placeholder", "unparseable"}
        assert not kinds, f"{table}.{col} raised {kinds}"
    # no duplicates in a table without any
    assert _alerts(prof, "customers", "duplicates").empty and _alerts(prof, "customers", "duplicate_keys").empty


def test_numeric_statistics_match_numpy(prof):
    st = prof.columns("customers").loc["积分"]
    x = np.array(POINTS, dtype=float)
    assert st["kind"] == "numeric" and st["n_valid"] == 20 and st["n_distinct"] == 17
    assert st["mean"] == pytest.approx(x.mean())
    assert st["std"] == pytest.approx(x.std(ddof=1))
    for name, q in [("p1", 0.01), ("p5", 0.05), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p95", 0.95), ("p99", 0.99)]:
        assert st[name] == pytest.approx(np.quantile(x, q)), name
    assert st["min"] == 0 and st["max"] == 1000
    assert st["skewness"] == pytest.approx(sps.skew(x, bias=False))
    assert st["skewness"] == pytest.approx(pd.Series(x).skew())
    assert st["kurtosis"] == pytest.approx(sps.kurtosis(x, bias=False))
    assert st["n_zeros"] == 4 and st["p_zeros"] == pytest.approx(0.2) and st["n_negative"] == 0
    q1, q3 = np.quantile(x, [0.25, 0.75])
    assert st["n_outliers"] == int(((x < q1 - 3 * (q3 - q1)) | (x > q3 + 3 * (q3 - q1))).sum()) == 1
    age = prof.columns("customers").loc["age"]
    assert age["n_missing"] == 2 and age["p_missing"] == pytest.approx(0.1)
    assert age["n_placeholders"] == 1 and age["n_unparseable"] == 1
    ch = prof.columns("customers").loc["acquisition_channel"]
    p = np.array([0.95, 0.05])
    assert ch["imbalance"] == pytest.approx(1 + (p * np.log(p)).sum() / np.log(2))
    assert ch["top"] == "app" and ch["top_count"] == 19


def test_date_statistics_gaps_and_spikes(prof):
    cov = prof.date_coverage("events", "event_time")
    assert cov["rows"].tolist() == [31, 29, 0, 50, 10]
    assert cov["gap"].tolist() == [False, False, True, False, False]
    assert cov["spike_days"].tolist() == [0, 0, 0, 1, 0]
    sp = prof.spike_days("events", "event_time")
    assert sp["day"].tolist() == [pd.Timestamp("2024-04-15")] and sp["rows"].tolist() == [21]
    assert _one(prof, "events", "date_gaps", "event_time")["n_rows"] == 1
    assert _one(prof, "events", "spike_days", "event_time")["n_rows"] == 21
    st = prof.columns("orders").loc["order_time"]
    assert st["date_min"] == pd.Timestamp("1970-01-01") and st["date_max"] == pd.Timestamp("2030-01-01")
    assert st["n_future"] == 1 and st["n_prelaunch"] == 1 and st["n_gap_months"] == 0
    # the plausible window ignores the 1970 and 2030 rows
    assert prof.date_coverage("orders", "order_time")["month"].dt.strftime("%Y-%m").tolist() == [
        "2024-01", "2024-02", "2024-03", "2024-04", "2024-05",
    ]  # fmt: skip
    assert len(prof.date_coverage("orders", "order_time", full=True)) > 700


def test_duplicates_missing_patterns_and_correlations(prof):
    ov = prof.overview()
    assert ov.loc["orders", "duplicate_rows"] == 2 and ov.loc["orders", "duplicate_keys"] == 1
    assert ov.loc["customers", "file"] == "会员.csv" and ov.loc["customers", "encoding"] == "gb18030"
    assert ov.loc["customers", "rows"] == 20 and ov.loc["customers", "columns"] == 9
    mp = prof.missing_patterns("customers")
    assert mp[["missing_columns", "rows"]].values.tolist() == [["(none)", 18], ["age", 2]]
    v = prof.correlations("events", method="cramers_v")
    assert v.loc["channel", "platform"] == pytest.approx(1.0)
    hc = _one(prof, "events", "high_correlation", "channel")
    assert "platform" in hc["message"]
    pairs = prof.correlations("events")
    assert list(pairs.columns) == ["column_a", "column_b", "method", "value"]


def test_cramers_v_hand_values():
    a = np.array([0, 0, 1, 1] * 25)
    assert cramers_v(a, a) == pytest.approx(1.0)
    # independent 2x2 table (25 in each cell): chi2 = 0 -> V = 0
    b = np.array([0, 1, 0, 1] * 25)
    assert cramers_v(a, b) == pytest.approx(0.0)
    assert np.isnan(cramers_v(a, np.zeros(100, dtype=int)))


def test_personal_data_is_hidden_unless_allowed(prof):
    with pytest.raises(KeyError, match="personal data"):
        prof.top_values("customers", "phone")  # not even masked values (issue 11)
    assert prof.columns("customers").loc["phone", "top"] == "personal data (phone), values hidden"
    assert "13800000000" not in prof.alerts().to_string()
    raw = profile_table(make_customers(), **OPTIONS, allow_personal_data=True)
    assert raw.top_values["phone"]["value"].iloc[0] == "13800000000"
    assert "shown raw" in " ".join(a.message for a in raw.alerts if a.kind == "personal_data")


def test_result_object_outputs(prof):
    assert isinstance(prof.all_alerts[0], Alert)
    al = prof.alerts()
    sev = al["severity"].map({"error": 0, "warning": 1, "info": 2})
    assert sev.is_monotonic_increasing
    f = prof.findings()
    assert len(f) == 6 and all(isinstance(s, str) and s for s in f)
    assert "2 exact duplicate rows" in f[2] and "1 row repeating the order_id of an earlier row" in f[2]
    assert "12 customers without orders" in f[5]
    m = prof.metrics()
    json.dumps(m)
    assert m["tables"]["orders"]["rows"] == 16 and m["alerts"]["by_kind"]["duplicates"] == 1
    assert m["alerts"]["total"] == len(al)
    s = prof.summary()
    assert s.loc["orders", "errors"] == 2  # duplicate key, missing required amount
    assert repr(prof).startswith("DataProfile(tables=3, rows=156,")
    assert "<table" in prof._repr_html_()
    assert set(prof.to_frame()["table"]) == {"customers", "orders", "events"}
    with pytest.raises(KeyError, match="no profile for table 'tickets'"):
        prof.columns("tickets")


def test_plots_return_matplotlib_objects(prof):
    set_theme()  # the CJK font of the workbench theme
    try:
        assert isinstance(prof.plot_missing("customers"), plt.Axes)
        assert isinstance(prof.plot_missing("customers", kind="matrix"), plt.Axes)
        assert isinstance(prof.plot_numeric("customers"), plt.Figure)
        assert isinstance(prof.plot_dates("events", "event_time"), plt.Axes)
        assert isinstance(prof.plot_dates("events", "event_time", freq="M"), plt.Axes)
        assert isinstance(prof.plot_correlations("events", method="cramers_v"), plt.Axes)
        assert isinstance(prof.plot(), plt.Axes)
    finally:
        plt.close("all")


def test_sampling_is_seeded():
    frame = pd.DataFrame({"x": np.arange(5000.0), "y": np.arange(5000.0)[::-1] ** 2,
                          "t": pd.date_range("2024-01-01", periods=5000, freq="h")})  # fmt: skip
    t = apply_contract(frame, "orders", columns={"order_id": "x", "customer_id": "x", "order_time": "t", "amount": "y"})
    a = profile_table(t, correlation_sample=1000, random_state=1)
    b = profile_table(t, correlation_sample=1000, random_state=1)
    assert a.sample_rows == 1000
    pd.testing.assert_frame_equal(a.numeric_sample, b.numeric_sample)


def test_service_kpis_intervals_match_hand_values():
    opened = pd.Timestamp("2024-01-01 09:00")
    n = 10
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"T{i}" for i in range(n + 2)],
            "customer_id": ["C1"] * (n + 2),
            "opened_at": [opened] * (n + 2),
            "first_response_at": [opened + pd.Timedelta(hours=h) for h in range(1, n + 1)] + [pd.NaT, opened],
            "resolved_at": [opened + pd.Timedelta(hours=24)] * 8 + [pd.NaT, pd.NaT] + [opened + pd.Timedelta(hours=2)] * 2,
            "satisfaction": [5, 5, 4, 4, 4, 4, 4, 4, 2, 1, np.nan, 3],
            "channel": ["app"] * n + ["phone"] * 2,
        }
    )
    kpis = service_kpis(tickets)
    k = kpis.to_frame().set_index("channel")
    app = k.loc["app"]
    assert app["tickets"] == 10 and app["satisfied"] == 8 and app["csat_n"] == 10
    # Wilson 95 % for 8/10: (0.4902, 0.9433)
    assert app["satisfied_low"] == pytest.approx(0.4902, abs=1e-4)
    assert app["satisfied_high"] == pytest.approx(0.9433, abs=1e-4)
    lo, hi = proportion_confint(8, 10, alpha=0.05, method="wilson")
    assert (app["satisfied_low"], app["satisfied_high"]) == pytest.approx((lo, hi))
    x = np.array([5, 5, 4, 4, 4, 4, 4, 4, 2, 1.0])
    half = sps.t.ppf(0.975, 9) * x.std(ddof=1) / np.sqrt(10)
    assert app["csat_mean"] == pytest.approx(3.7)
    assert (app["csat_low"], app["csat_high"]) == pytest.approx((3.7 - half, 3.7 + half))
    assert app["first_response_median_h"] == pytest.approx(5.5)
    assert app["first_response_p90_h"] == pytest.approx(np.quantile(np.arange(1, 11), 0.9))
    assert app["resolution_rate"] == pytest.approx(0.8) and app["resolve_median_h"] == pytest.approx(24)
    lo, hi = proportion_confint(8, 10, alpha=0.05, method="wilson")
    assert app["resolution_low"] == pytest.approx(lo)
    overall = k.loc["overall"]
    assert overall["tickets"] == 12 and overall["csat_n"] == 11 and overall["resolved"] == 10
    assert k.index.tolist() == ["app", "phone", "overall"]
    assert kpis.finding().startswith("12 tickets; mean satisfaction") and kpis.metrics()["tickets"] == 12


def test_options_are_the_params_section():
    """The keyword options of profile_table(s) are the fields of analyses.data_profiling, with
    the same defaults; an unknown one is named with a did-you-mean."""
    assert ProfilingOptions().__dict__ == ProfilingParams().model_dump(exclude={"enabled"})
    with pytest.raises(TypeError, match="did you mean 'top_n'"):
        profile_table(make_customers(), topn=5)


def test_section_findings(prof):
    assert prof.finding() == prof.section_finding("overview") == prof.findings()[0]
    assert prof.section_finding("alerts").startswith(f"{len(prof.alerts())} alerts")
    assert "Strongest pair per table" in prof.section_finding("correlations")
    with pytest.raises(KeyError, match="did you mean 'dates'"):
        prof.section_finding("date")
