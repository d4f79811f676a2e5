"""Synthetic data generator: determinism, documented truth realised, files as exports look."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench import synth
from workbench.core.contract import TABLES, check_references, parse_datetime, parse_money
from workbench.core.io import load_tables
from workbench.run.params import load_params, params_from_dict
from workbench.synth import spec as synth_spec

N = 2000
SEED = 11


@pytest.fixture(scope="module")
def data() -> synth.SynthData:
    return synth.generate(N, seed=SEED)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("synth_export")
    summary = synth.write_example(out, n_customers=N, seed=SEED)
    truth = json.loads((out / "ground_truth.json").read_text(encoding="utf-8"))
    return out, summary, truth


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


# --------------------------------------------------------------------------------------------
# generate()
# --------------------------------------------------------------------------------------------


def test_same_seed_same_tables_other_seed_differs():
    a = synth.generate(400, seed=5)
    b = synth.generate(400, seed=5)
    c = synth.generate(400, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    pd.testing.assert_frame_equal(a.truth_customers, b.truth_customers)
    assert json.dumps(a.truth, sort_keys=True) == json.dumps(b.truth, sort_keys=True)
    assert len(a.orders) != len(c.orders) or not a.orders["amount"].equals(c.orders["amount"])
    assert not a.customers["name"].equals(c.customers["name"])


def test_canonical_columns_and_keys(data):
    for name, frame in data.tables.items():
        spec = TABLES[name]
        assert set(frame.columns) <= set(spec.names), name
        assert set(spec.required) <= set(frame.columns), name
        assert frame[spec.required].notna().all().all(), name
        if spec.key:
            assert not frame.duplicated(list(spec.key)).any(), name
    ids = set(data.customers["customer_id"])
    for name in ("orders", "campaign_contacts", "events", "tickets"):
        assert data.tables[name]["customer_id"].isin(ids).all(), name
    assert data.customers["phone"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert data.customers["email"].str.contains("@").all()
    assert set(data.customers["gender"]) == {"男", "女"}
    assert set(data.orders["channel"]) == set(synth.CHANNELS)
    assert set(data.orders["product_category"]) == set(synth.CATEGORY_SPEC)
    assert list(data.truth_customers["customer_id"]) == list(data.customers["customer_id"])


def test_segment_shares_and_behaviour(data):
    seg = data.truth_customers["segment"]
    for name, spec in synth.SEGMENT_SPEC.items():
        share = (seg == name).mean()
        se = np.sqrt(spec["share"] * (1 - spec["share"]) / N)
        assert abs(share - spec["share"]) < 4 * se, name
    real = data.truth["segments"]
    # realised purchase rate per active month and mean amount near the documented values
    for name, spec in synth.SEGMENT_SPEC.items():
        assert real[name]["purchases_per_active_month"] == pytest.approx(
            spec["order_rate_per_month"], rel=0.15
        )
        assert real[name]["mean_amount"] == pytest.approx(spec["mean_order_value"], rel=0.15)
    means = [real[s]["mean_amount"] for s in ("bargain", "occasional", "loyal", "vip")]
    assert means == sorted(means)


def test_orders_within_lifetimes_and_refunds(data):
    o = data.orders
    tc = data.truth_customers.set_index("customer_id")
    signup = data.customers.set_index("customer_id")["signup_date"]
    purchases = o[~o["is_refund"]]
    assert (
        purchases["order_time"].to_numpy() >= signup.loc[purchases["customer_id"]].to_numpy()
    ).all()
    drop = tc.loc[purchases["customer_id"], "dropout_date"].to_numpy()
    assert (pd.isna(drop) | (purchases["order_time"].to_numpy() <= drop)).all()
    assert (o["order_time"] < pd.Timestamp("2026-01-01")).all()
    assert (purchases["amount"] > 0).all()
    refunds = o[o["is_refund"]]
    assert (refunds["amount"] < 0).all() and (refunds["status"] == "refunded").all()
    assert set(purchases["status"]) == {"paid"}
    share = len(refunds) / data.truth["orders"]["n_background_purchases"]
    assert share == pytest.approx(synth_spec.REFUND_RATE, abs=0.01)
    assert o["order_time"].is_monotonic_increasing
    # margin about 30 % of the amount
    assert purchases["margin"].sum() / purchases["amount"].sum() == pytest.approx(0.3, abs=0.05)


def test_seasonality_november_peak(data):
    p = data.orders[~data.orders["is_refund"]]
    month = p["order_time"].dt.to_period("M")
    counts = month.value_counts()
    for year in (2024, 2025):
        nov = counts[pd.Period(f"{year}-11", "M")] / 30
        octo = counts[pd.Period(f"{year}-10", "M")] / 31
        assert nov > 1.3 * octo
    day = p["order_time"].dt.strftime("%m-%d")
    assert (day == "11-11").sum() > 3 * (day == "11-04").sum()


def test_churn_truth_matches_orders(data):
    o, tc = data.orders, data.truth_customers.set_index("customer_id")
    p = o[~o["is_refund"]]
    as_of_end = pd.Timestamp("2025-10-01")
    before = set(p.loc[p["order_time"] < as_of_end, "customer_id"])
    window = set(
        p.loc[
            (p["order_time"] >= as_of_end) & (p["order_time"] < as_of_end + pd.Timedelta(days=90)),
            "customer_id",
        ]
    )
    churn = data.truth["churn"]
    for seg in synth.SEGMENTS:
        ids = [c for c in tc.index[tc["segment"] == seg] if c in before]
        rate = np.mean([c not in window for c in ids])
        assert rate == pytest.approx(churn["churn_rate_by_segment"][seg], abs=1e-6)
    assert churn["hazard_ratios"]["acquisition_channel=paid_social"] == 1.6
    assert churn["reference_levels"]["acquisition_channel"] == "organic"
    assert set(tc["churn_reason"]) <= {"unhappy", "drift", "alive"}
    assert (tc["churn_reason"] == "alive").eq(tc["dropout_date"].isna()).all()
    assert not (tc["churned_in_window"] & tc["purchased_in_window"]).any()


def test_hazard_ratio_direction(data):
    cust = data.customers.set_index("customer_id")
    tc = data.truth_customers.set_index("customer_id")
    end = pd.Timestamp("2026-01-01")
    stop = tc["dropout_date"].fillna(end)
    exposure = (stop - cust["signup_date"]).dt.days.clip(lower=1)
    event = tc["dropout_date"].notna()

    def rate(mask: pd.Series) -> float:
        return event[mask].sum() / exposure[mask].sum()

    ch = cust["acquisition_channel"]
    assert rate(ch == "paid_social") > 1.2 * rate(ch == "organic")
    assert rate(ch == "referral") < rate(ch == "organic")
    member = cust["member_level"] != "non_member"
    assert rate(member) < rate(~member)
    assert (
        tc["hazard_ratio"][ch == "paid_social"].median()
        > tc["hazard_ratio"][ch == "organic"].median()
    )


def test_randomized_campaigns_recover_tau(data):
    cc = data.campaign_contacts
    seg = data.truth_customers.set_index("customer_id")["segment"]
    for cid in ("spring_coupon_2025", "summer_email_2025"):
        spec = synth.CAMPAIGN_SPEC[cid]
        rows = cc[cc["campaign_id"] == cid].assign(
            segment=lambda d: seg.loc[d["customer_id"]].to_numpy()
        )
        shares = rows["arm"].value_counts(normalize=True)
        for arm, planned in spec["planned_split"].items():
            assert shares[arm] == pytest.approx(planned, abs=0.05)
        control = rows["arm"] == "control"
        assert rows.loc[control, ["delivered", "opened", "clicked"]].isna().all().all()
        assert rows.loc[~control, "delivered"].notna().all()
        assert (rows.loc[control, "cost"] == 0).all() and (
            rows.loc[~control, "cost"] == spec["cost_per_contact"]
        ).all()
        assert (rows.loc[~rows["converted"], "revenue"] == 0).all()
        assert (rows.loc[rows["converted"], "revenue"] > 0).all()
        truth = data.truth["campaigns"][cid]
        assert truth["planned_split"] == pytest.approx(spec["planned_split"])
        z = []
        for arm, taus in spec["tau"].items():
            for s, tau in taus.items():
                t = rows[(rows["segment"] == s) & (rows["arm"] == arm)]["converted"]
                c = rows[(rows["segment"] == s) & control]["converted"]
                diff = t.mean() - c.mean()
                se = np.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
                assert diff == pytest.approx(truth["segments"][s]["realised_diff"][arm], abs=1e-6)
                z.append((diff - tau) / se)
        assert np.all(np.abs(z) < 4), z


def test_campaign_conversions_are_orders_and_pre_period(data):
    cc = data.campaign_contacts
    o = data.orders[~data.orders["is_refund"]]
    spring = cc[(cc["campaign_id"] == "spring_coupon_2025") & cc["converted"]]
    merged = spring.merge(o, on="customer_id", suffixes=("", "_o"))
    inside = merged[
        (merged["order_time"] >= merged["contact_time"])
        & (merged["order_time"] <= merged["contact_time"] + pd.Timedelta(days=14))
    ]
    hit = inside.groupby("customer_id").apply(
        lambda d: np.isclose(d["amount"], d["revenue"]).any(), include_groups=False
    )
    assert hit.reindex(spring["customer_id"]).fillna(False).all()
    summer = cc[cc["campaign_id"] == "summer_email_2025"]
    m = summer[["customer_id", "contact_time", "pre_period_revenue"]].merge(o, on="customer_id")
    lo = m["contact_time"] - pd.Timedelta(days=synth_spec.PRE_PERIOD_DAYS)
    m = m[(m["order_time"] >= lo) & (m["order_time"] < m["contact_time"])]
    pre = m.groupby("customer_id")["amount"].sum().reindex(summer["customer_id"]).fillna(0.0)
    close = np.isclose(pre.to_numpy(), summer["pre_period_revenue"].to_numpy(), atol=0.02)
    assert close.mean() > 0.99
    assert np.corrcoef(summer["revenue"], summer["pre_period_revenue"])[0, 1] > 0.1
    vip = cc[cc["campaign_id"] == "vip_call_2025"]
    assert set(vip["arm"]) == {"treatment"}
    assert vip["pre_period_revenue"].median() > summer["pre_period_revenue"].median()


def test_events_funnel(data):
    # the touchpoints extension adds marketing touches (ad_touch, no session): the funnel is the rest
    touch = data.events["event_name"] == "ad_touch"
    assert touch.any() and data.events.loc[touch, "session_id"].isna().all()
    e = data.events[~touch]
    assert set(e["event_name"]) <= set(synth.FUNNEL_STEPS)
    assert set(e["channel"]) <= set(synth.FUNNEL_STEP_CONVERSION)
    step = e["event_name"].map({s: i for i, s in enumerate(synth.FUNNEL_STEPS)})
    g = e.assign(step=step).groupby("session_id")
    assert (g["step"].min() == 0).all()
    assert (g["step"].max() + 1 == g.size()).all()  # steps are consecutive from exposure
    ordered = e.assign(step=step).sort_values(["session_id", "step"])
    dt = ordered.groupby("session_id")["event_time"].diff().dropna()
    assert (dt >= pd.Timedelta(0)).all() and (dt < pd.Timedelta(hours=6)).all()
    assert 4 <= len(e) / N <= 9
    real = data.truth["funnel"]["realised"]["app"]["step_conversion"]["visit"]
    assert real == pytest.approx(synth.FUNNEL_STEP_CONVERSION["app"]["visit"], abs=0.05)
    assert e["campaign_id"].notna().sum() > 0


def test_tickets(data):
    t = data.tickets
    assert (
        t["first_response_at"].dropna() >= t.loc[t["first_response_at"].notna(), "opened_at"]
    ).all()
    r = t["resolved_at"].notna()
    assert (t.loc[r, "resolved_at"] >= t.loc[r, "first_response_at"]).all()
    assert (~r).mean() == pytest.approx(synth_spec.UNRESOLVED_SHARE, abs=0.03)
    assert (
        t.loc[t["is_complaint"], "satisfaction"].mean()
        < t.loc[~t["is_complaint"], "satisfaction"].mean() - 1
    )
    resp = (t["first_response_at"] - t["opened_at"]).dt.total_seconds()
    assert resp[t["is_complaint"]].median() > resp[~t["is_complaint"]].median()
    assert set(t["channel"]) <= set(synth_spec.TICKET_CHANNELS)


def test_kmeans_recovers_segments(data):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score
    from sklearn.preprocessing import StandardScaler

    as_of_end = pd.Timestamp("2025-10-01")
    p = data.orders[(~data.orders["is_refund"]) & (data.orders["order_time"] < as_of_end)]
    f = p.groupby("customer_id").agg(
        n=("amount", "size"), m=("amount", "mean"), last=("order_time", "max")
    )
    x = np.column_stack([np.log(f["n"]), np.log(f["m"]), (as_of_end - f["last"]).dt.days])
    labels = KMeans(4, n_init=10, random_state=0).fit_predict(StandardScaler().fit_transform(x))
    seg = data.truth_customers.set_index("customer_id").loc[f.index, "segment"]
    assert adjusted_rand_score(seg, labels) > 0.3


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_customers"):
        synth.generate(0)
    with pytest.raises(ValueError, match="start < as_of < end"):
        synth.generate(10, as_of="2026-06-30")
    with pytest.raises(ValueError, match="formats"):
        synth.write_example("unused", n_customers=10, formats="xml")


# --------------------------------------------------------------------------------------------
# write_example()
# --------------------------------------------------------------------------------------------


def test_export_encodings_and_headers(export):
    out, summary, _ = export
    raw = gzip.decompress((out / "customers.csv.gz").read_bytes())
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.decode("gb18030").splitlines()[0].split(",")
    assert header == [*synth.EXPORT_COLUMNS["customers"].values(), "国家", "备注"]
    orders_raw = gzip.decompress((out / "orders.csv.gz").read_bytes())
    assert orders_raw.startswith(b"\xef\xbb\xbf")
    assert orders_raw.decode("utf-8-sig").splitlines()[0].split(",") == list(
        synth.EXPORT_COLUMNS["orders"].values()
    )
    events_raw = gzip.decompress((out / "events.csv.gz").read_bytes())
    assert not events_raw.startswith(b"\xef\xbb\xbf")
    for name in ("customers.csv.gz", "orders.csv.gz", "events.csv.gz"):
        assert (out / name).read_bytes()[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0
    tickets = pd.read_excel(out / "tickets.xlsx", engine="calamine")
    assert list(tickets.columns) == list(synth.EXPORT_COLUMNS["tickets"].values())
    assert set(tickets["是否投诉"]) == {"是", "否"}
    cc = pd.read_parquet(out / "campaign_contacts.parquet")
    assert list(cc.columns) == list(synth.EXPORT_COLUMNS["campaign_contacts"])
    assert summary["rows"]["tickets"] == len(tickets)
    assert (out / "README.md").read_text(encoding="utf-8").startswith("# Synthetic CRM example")
    assert (out / "truth_customers.parquet").exists()


def test_planted_defects_match_truth(export):
    out, summary, truth = export
    d = truth["defects"]
    assert d["planted"] is True
    orders = _read_csv(out / "orders.csv.gz", "utf-8-sig")
    customers = _read_csv(out / "customers.csv.gz", "gb18030")
    od, cd = d["orders"], d["customers"]
    assert len(orders) == od["n_rows_written"] == summary["rows"]["orders"]
    assert orders.duplicated().sum() == od["exact_duplicate_rows"]["count"] > 0
    dup_ids = orders.loc[orders.duplicated(), "订单号"]
    assert sorted(dup_ids) == sorted(od["exact_duplicate_rows"]["order_ids"])
    orphan = ~orders["会员ID"].isin(customers["会员ID"])
    assert orphan.sum() == od["orphan_customer_rows"]["count"] > 0
    assert orders.loc[orphan, "会员ID"].str.match(r"^C9\d{6}$").all()
    assert orders["实付金额"].str.contains("￥").sum() == od["money_strings"]["count"]
    share = od["money_strings"]["count"] / len(orders)
    assert 0.07 < share < 0.13
    amount, bad = parse_money(orders["实付金额"])
    assert bad.sum() == od["unparseable_amounts"]["count"] == 5
    assert bad.mean() < 0.01
    assert sorted(orders.loc[bad, "订单号"]) == sorted(od["unparseable_amounts"]["order_ids"])
    neg_paid = (amount < 0) & (orders["订单状态"] == "paid")
    assert neg_paid.sum() == od["negative_not_refund"]["count"] == 10
    assert (orders.loc[neg_paid, "是否退款"] == "否").all()
    when, bad_dates = parse_datetime(orders["下单时间"])
    assert not bad_dates.any()
    assert (when > pd.Timestamp("2026-01-01")).sum() == od["future_dates"]["count"] == 5
    assert (when < pd.Timestamp("2023-01-01")).sum() == od["prelaunch_dates"]["count"] == 5
    assert (amount >= 888888).sum() == od["extreme_spenders"]["count"] == 3
    styles = (
        orders["下单时间"]
        .str.extract(r"^(\d{8})$|(年)|(/)|^(\d{4}-\d\d-\d\d \d\d:\d\d)$")
        .notna()
        .sum()
    )
    assert (styles > 0).all()  # every alternative style is present
    # customers
    assert len(customers) == cd["n_rows_written"]
    assert customers["会员ID"].duplicated().sum() == cd["duplicate_keys"]["count"] > 0
    dups = customers[customers["会员ID"].duplicated(keep=False)].groupby("会员ID")["城市"].nunique()
    assert (dups == 2).all()
    for header, key in (("性别", "gender"), ("城市", "city")):
        n_ph = customers[header].isin(["未知", "N/A", ""]).sum()
        assert n_ph == cd["placeholders"][key]["count"]
        assert 0.02 < n_ph / len(customers) < 0.04
    assert customers["国家"].nunique() == 1
    assert customers["备注"].nunique() > 0.2 * len(customers)
    signup, bad_signup = parse_datetime(customers["注册日期"])
    assert not bad_signup.any()
    assert (
        customers["注册日期"].str.contains("年").any()
        and customers["注册日期"].str.fullmatch(r"\d{8}").any()
    )


def test_export_loads_through_the_contract(export):
    out, summary, truth = export
    params = params_from_dict(synth.example_params(out))
    tables = load_tables(params)
    assert set(tables) == set(synth.EXPORT_FILES)
    for name, t in tables.items():
        assert len(t.frame) == summary["rows"][name], name
        rep = t.report().set_index("column")
        assert (rep["n_unparseable"] <= 0.01 * rep["n_rows"]).all(), name
    orders = tables["orders"].frame
    assert orders["amount"].isna().sum() == 5
    assert orders["is_refund"].notna().all()
    refs = check_references({k: v.frame for k, v in tables.items()}).set_index("table")
    assert (
        refs.loc["orders", "n_unmatched"]
        == truth["defects"]["orders"]["orphan_customer_rows"]["count"]
    )
    assert refs.drop(index="orders")["n_unmatched"].eq(0).all()
    cust = tables["customers"].frame
    assert cust["member_level"].notna().all()  # no level reads as a placeholder
    # main-style order times parse back to the clean values
    clean = synth.generate(N, seed=SEED).orders.set_index("order_id")["order_time"]
    o = orders.dropna(subset=["order_time"]).drop_duplicates("order_id").set_index("order_id")
    common = o.index.intersection(clean.index)
    same_day = o.loc[common, "order_time"].dt.normalize() == clean.loc[common].dt.normalize()
    assert same_day.mean() > 0.999


def test_export_is_byte_deterministic(tmp_path):
    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    a = synth.write_example(tmp_path / "a", n_customers=300, seed=3)
    b = synth.write_example(tmp_path / "b", n_customers=300, seed=3)
    assert digest(Path(a["out_dir"])) == digest(Path(b["out_dir"]))


def test_canonical_format(tmp_path):
    summary = synth.write_example(
        tmp_path, n_customers=300, seed=2, defects=False, formats="canonical"
    )
    data = synth.generate(300, seed=2)
    for name, fname in synth.CANONICAL_FILES.items():
        frame = pd.read_parquet(tmp_path / fname)
        assert list(frame.columns) == list(data.tables[name].columns)
        assert len(frame) == len(data.tables[name]) == summary["rows"][name]
    truth = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    assert truth["defects"]["planted"] is False
    tables = load_tables(params_from_dict(synth.example_params(tmp_path, formats="canonical")))
    assert len(tables["orders"].frame) == len(data.orders)


def test_params_example_yaml_matches_the_writer(root):
    params = load_params(root / "params" / "example.yaml", check_files=False)
    assert params.name == "example" and str(params.as_of) == "2025-09-30" and params.seed == 42
    for name, fname in synth.EXPORT_FILES.items():
        src = params.tables[name]
        assert dict(src.columns) == synth.EXPORT_COLUMNS[name], name
        assert params.resolve(src.path) == (root / "data" / "example" / fname).resolve()


def test_truth_json_serialisable(data):
    text = json.dumps(data.truth, ensure_ascii=False)
    back = json.load(io.StringIO(text))
    assert set(back) >= {
        "generator",
        "segments",
        "churn",
        "campaigns",
        "funnel",
        "seasonality",
        "defects",
    }
    assert back["generator"]["seed"] == SEED


def test_bundled_example_is_what_the_generator_makes(root, tmp_path):
    """data/example is exactly `workbench synth --customers 5000 --seed 42` (no stale copy)."""
    synth.write_example(tmp_path, n_customers=5000, seed=42)
    for name in ("customers.csv.gz", "orders.csv.gz", "events.csv.gz", "spend.csv", "order_items.csv.gz",
                 "feedback.csv.gz"):
        assert (tmp_path / name).read_bytes() == (root / "data" / "example" / name).read_bytes(), name
    fresh_tickets = pd.read_excel(tmp_path / "tickets.xlsx", engine="calamine")
    pd.testing.assert_frame_equal(fresh_tickets, pd.read_excel(root / "data" / "example" / "tickets.xlsx", engine="calamine"))
    for name in ("campaign_contacts.parquet", "truth_customers.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / name), pd.read_parquet(root / "data" / "example" / name))
    fresh = json.loads((tmp_path / "ground_truth.json").read_text(encoding="utf-8"))
    bundled = json.loads((root / "data" / "example" / "ground_truth.json").read_text(encoding="utf-8"))
    fresh.pop("files", None), bundled.pop("files", None)
    assert fresh == bundled
