"""Writing a generated base to files the way Chinese CRM/ERP exports look.

:func:`write_example` writes GBK CSV with Chinese headers, UTF-8-with-BOM CSV, Excel and Parquet
with planted data-quality defects (recorded in the truth), or clean canonical Parquet files.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.synth._common import _Clock, _ids, _join, _jsonable, _num_str, _p, _str, _take
from workbench.synth.layout import (
    _NOTE_PARTS,
    _NOTE_SHARE,
    _ORDER_DATE_STYLES,
    _SIGNUP_DATE_STYLES,
    CANONICAL_FILES,
    DEFECT_SPEC,
    EXPORT_COLUMNS,
    EXPORT_FILES,
    EXTRA_CUSTOMER_COLUMNS,
    OPTIONAL_TABLES,
)
from workbench.synth.readme import _readme
from workbench.synth.simulate import SynthData, _check_args, generate
from workbench.synth.spec import _STREAMS, CITIES

__all__ = ["write_example", "example_params"]


def _fmt_money(values: np.ndarray, *, yuan: bool = False) -> pa.Array:
    """Money as text with two decimals: ``1234.50``; ``yuan`` gives ``￥1,234.50``."""
    v = np.asarray(values, dtype=np.float64)
    cents = np.round(np.abs(v) * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    if yuan:
        g0, g1, g2 = whole % 1000, (whole // 1000) % 1000, whole // 1_000_000

        def pad3(x: np.ndarray) -> pa.Array:
            return pc.utf8_lpad(_num_str(x), 3, "0")

        w = pc.if_else(
            pa.array(whole >= 1_000_000),
            _join(_num_str(g2), ",", pad3(g1), ",", pad3(g0)),
            pc.if_else(
                pa.array(whole >= 1000), _join(_num_str(g1), ",", pad3(g0)), _num_str(whole)
            ),
        )
        body = _join("￥", w)
    else:
        body = _num_str(whole)
    sign = pc.if_else(pa.array(v < 0), pa.scalar("-"), pa.scalar(""))
    return _join(sign, body, ".", pc.utf8_lpad(_num_str(frac), 2, "0"))


def _fmt_dates(ts: np.ndarray, style: str) -> pa.Array:
    """Format ``datetime64`` values in one of the export styles (NaT -> null)."""
    arr = pa.array(np.asarray(ts).astype("datetime64[s]"))
    formats = {
        "2024-03-05 14:22:05": "%Y-%m-%d %H:%M:%S",
        "2024-03-05 14:22": "%Y-%m-%d %H:%M",
        "2024-03-05": "%Y-%m-%d",
        "20240305": "%Y%m%d",
        "2024年03月05日": "%Y年%m月%d日",
    }
    if style in formats:
        return pc.strftime(arr, format=formats[style])
    ymd = _join(_num_str(pc.year(arr)), "/", _num_str(pc.month(arr)), "/", _num_str(pc.day(arr)))
    if style == "2024/3/5":
        return ymd
    if style == "2024/3/5 14:22":
        return _join(ymd, " ", pc.strftime(arr, format="%H:%M"))
    raise ValueError(f"unknown date style {style!r}")


def _fmt_mixed_dates(ts: np.ndarray, styles: list[str], codes: np.ndarray) -> pa.Array:
    """Format each value in the style ``styles[codes[i]]``."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    parts = []
    for k, style in enumerate(styles):
        sel = order[sorted_codes == k]
        parts.append(_fmt_dates(ts[sel], style))
    joined = pa.concat_arrays(parts)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    return pc.take(joined, pa.array(inverse))


def _write_gzip(path: Path, data: bytes) -> None:
    """Gzip ``data`` byte-deterministically (no file name, mtime 0)."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
    ):
        gz.write(data)


def _csv_bytes(frame: pd.DataFrame, *, encoding: str, bom: bool = False) -> bytes:
    text = frame.to_csv(index=False, lineterminator="\n")
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def _pick(rng: np.random.Generator, pool: np.ndarray, k: int) -> np.ndarray:
    """``k`` distinct elements of ``pool`` (fewer when the pool is smaller), sorted."""
    k = int(min(max(k, 0), pool.size))
    return np.sort(rng.choice(pool, size=k, replace=False)) if k else pool[:0]


def _export_orders(
    data: SynthData, rng: np.random.Generator, *, defects: bool, clock: _Clock
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The orders export (Chinese headers, text values) and what was planted.

    Steps, in the order they draw from ``rng``: extra rows (orphans, future and pre-launch
    dates, extreme spenders), text values (mixed date styles, ``￥`` money strings), in-place
    defects (unflagged refunds, unparseable amounts), exact duplicates.
    """
    o = data.orders
    n = len(o)
    purchase_rows = np.flatnonzero(~o["is_refund"].to_numpy())
    refund_rows = np.flatnonzero(o["is_refund"].to_numpy())
    info: dict[str, Any] = {"n_rows_clean": n}
    src_rows, kinds = _step_extra_rows(o, rng, purchase_rows, defects=defects)
    extra = _step_extra_frame(o, rng, src_rows, kinds, clock=clock)
    k = len(extra)
    full = pd.concat([o, extra], ignore_index=True) if k else o
    out, codes = _step_order_text(full, rng, n_clean=n, defects=defects)
    styles = list(_ORDER_DATE_STYLES)
    style_counts = dict(
        zip(styles, np.bincount(codes, minlength=len(styles)).tolist(), strict=True)
    )
    if not defects:
        info.update({"n_rows_written": len(full), "date_styles": style_counts})
        return out, info
    out, planted = _step_order_defects(out, rng, purchase_rows, refund_rows, src_rows, n_clean=n, n_extra=k)
    info.update(_orders_defect_info(o, out, extra, kinds, planted, style_counts))
    return out, info


def _step_extra_rows(
    o: pd.DataFrame, rng: np.random.Generator, purchase_rows: np.ndarray, *, defects: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Source rows and kinds of the extra rows: orphans, future, pre-launch, extreme spenders."""
    n = len(o)
    extra_src: list[np.ndarray] = []
    extra_kind: list[str] = []
    if defects:
        n_orphan = int(round(DEFECT_SPEC["orders_orphan_share"] * n))
        src = _pick(rng, purchase_rows, n_orphan)
        extra_src.append(src)
        extra_kind += ["orphan"] * src.size
        for kind, count in (
            ("future", DEFECT_SPEC["orders_future_dates"]),
            ("prelaunch", DEFECT_SPEC["orders_prelaunch_dates"]),
        ):
            src = _pick(rng, purchase_rows, count)
            extra_src.append(src)
            extra_kind += [kind] * src.size
        # extreme spenders: distinct customers, one absurd order each
        first_rows = purchase_rows[
            np.unique(o["customer_id"].to_numpy()[purchase_rows], return_index=True)[1]
        ]
        src = _pick(rng, first_rows, DEFECT_SPEC["orders_extreme_spenders"])
        extra_src.append(src)
        extra_kind += ["extreme"] * src.size
    src_rows = np.concatenate(extra_src) if extra_src else np.zeros(0, np.int64)
    return src_rows, np.array(extra_kind, dtype=object)


def _step_extra_frame(
    o: pd.DataFrame, rng: np.random.Generator, src_rows: np.ndarray, kinds: np.ndarray, *, clock: _Clock
) -> pd.DataFrame:
    """The extra rows as canonical values: new order ids, then each kind's defect."""
    n = len(o)
    extra = o.iloc[src_rows].reset_index(drop=True).copy()
    k = len(extra)
    extra["order_id"] = _str(_ids("O", np.arange(n + 1, n + k + 1), 10)) if k else extra["order_id"]
    if not k:
        return extra
    is_orphan = kinds == "orphan"
    orphan_ids = 9_000_000 + rng.choice(1_000_000, size=int(is_orphan.sum()), replace=False)
    cust_ids = extra["customer_id"].to_numpy(dtype=object)
    cust_ids[is_orphan] = np.asarray(_ids("C", orphan_ids, 7).to_pylist(), dtype=object)
    extra["customer_id"] = pd.Series(cust_ids, dtype="str")
    times = extra["order_time"].to_numpy().copy()
    fut = kinds == "future"
    fut_days = clock.t_end + 365 + rng.random(int(fut.sum())) * 300
    times[fut] = clock.to_datetime(fut_days)
    pre = kinds == "prelaunch"
    pre_vals = np.array(
        [pd.Timestamp(v).to_datetime64() for v in DEFECT_SPEC["prelaunch_values"]]
    )
    times[pre] = pre_vals[np.arange(int(pre.sum())) % pre_vals.size].astype("datetime64[ns]")
    extra["order_time"] = times
    ext = kinds == "extreme"
    amounts = extra["amount"].to_numpy().copy()
    ext_vals = np.array(DEFECT_SPEC["extreme_amounts"])
    amounts[ext] = ext_vals[np.arange(int(ext.sum())) % ext_vals.size]
    extra["amount"] = amounts
    margin = extra["margin"].to_numpy().copy()
    margin[ext] = np.round(amounts[ext] * 0.3, 2)
    extra["margin"] = margin
    disc = extra["discount"].to_numpy().copy()
    disc[ext] = 0.0
    extra["discount"] = disc
    return extra


def _step_order_text(
    full: pd.DataFrame, rng: np.random.Generator, *, n_clean: int, defects: bool
) -> tuple[pd.DataFrame, np.ndarray]:
    """Orders as text under Chinese headers: dates in mixed styles, money with some ￥ strings."""
    m = len(full)
    styles = list(_ORDER_DATE_STYLES)
    if defects:
        codes = rng.choice(len(styles), size=m, p=_p(_ORDER_DATE_STYLES.values()))
        codes[n_clean:] = 0  # extra rows keep the main style so their dates stay readable
    else:
        codes = np.zeros(m, dtype=np.int64)
    when = _fmt_mixed_dates(full["order_time"].to_numpy(), styles, codes)
    amount = full["amount"].to_numpy()
    yuan = (
        (rng.random(m) < DEFECT_SPEC["orders_money_string_share"]) if defects else np.zeros(m, bool)
    )
    money = pc.if_else(pa.array(yuan), _fmt_money(amount, yuan=True), _fmt_money(amount))
    cols = EXPORT_COLUMNS["orders"]
    out = pd.DataFrame(
        {
            cols["order_id"]: full["order_id"],
            cols["customer_id"]: full["customer_id"],
            cols["order_time"]: _str(when),
            cols["amount"]: _str(money),
            cols["channel"]: full["channel"],
            cols["status"]: full["status"],
            cols["is_refund"]: _str(
                _take(["否", "是"], full["is_refund"].to_numpy().astype(np.int8))
            ),
            cols["quantity"]: _str(_num_str(full["quantity"].to_numpy())),
            cols["discount"]: _str(_fmt_money(full["discount"].to_numpy())),
            cols["margin"]: _str(_fmt_money(full["margin"].to_numpy())),
            cols["product_category"]: full["product_category"],
        }
    )
    return out, codes


def _step_order_defects(
    out: pd.DataFrame,
    rng: np.random.Generator,
    purchase_rows: np.ndarray,
    refund_rows: np.ndarray,
    src_rows: np.ndarray,
    *,
    n_clean: int,
    n_extra: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """In-place defects on clean rows, then exact duplicates right after their original.

    Returns the rows in file order and the clean-row positions of each planted defect
    (``neg``, ``bad`` with ``bad_vals``, ``dup``).
    """
    n, k, m = n_clean, n_extra, len(out)
    cols = EXPORT_COLUMNS["orders"]
    # unflagged negative refunds, unparseable amounts
    neg = _pick(rng, refund_rows, DEFECT_SPEC["orders_negative_not_refund"])
    out.loc[neg, cols["status"]] = "paid"
    out.loc[neg, cols["is_refund"]] = "否"
    free = np.setdiff1d(purchase_rows, src_rows)
    # a fixed handful, but never more than 0.2 % of the rows (the intake tolerates 1 %)
    bad = _pick(rng, free, min(DEFECT_SPEC["orders_unparseable_amounts"], max(1, int(0.002 * n))))
    bad_vals = np.array(DEFECT_SPEC["unparseable_values"], dtype=object)[
        np.arange(bad.size) % len(DEFECT_SPEC["unparseable_values"])
    ]
    out.loc[bad, cols["amount"]] = bad_vals
    # exact duplicates of untouched clean rows, right after their original
    free = np.setdiff1d(np.arange(n), np.concatenate([neg, bad, src_rows]))
    dup = _pick(rng, free, int(round(DEFECT_SPEC["orders_exact_duplicate_share"] * n)))
    pos = np.concatenate([np.arange(n, dtype=np.float64), rng.random(k) * n, dup + 0.5])
    rows = np.concatenate([np.arange(m), dup])
    order = np.argsort(pos, kind="stable")
    out = out.iloc[rows[order]].reset_index(drop=True)
    return out, {"neg": neg, "bad": bad, "bad_vals": bad_vals, "dup": dup}


def _orders_defect_info(
    o: pd.DataFrame,
    out: pd.DataFrame,
    extra: pd.DataFrame,
    kinds: np.ndarray,
    planted: dict[str, np.ndarray],
    style_counts: dict[str, int],
) -> dict[str, Any]:
    """What was planted in the orders export, with the affected keys (for the truth)."""
    k = len(extra)
    neg, bad, bad_vals, dup = planted["neg"], planted["bad"], planted["bad_vals"], planted["dup"]
    amount_text = out[EXPORT_COLUMNS["orders"]["amount"]]
    ids = extra["order_id"].tolist() if k else []
    kinds_l = kinds.tolist()

    def of(kind: str) -> list[str]:
        return [i for i, kk in zip(ids, kinds_l, strict=True) if kk == kind]

    return {
            "n_rows_written": int(len(out)),
            "exact_duplicate_rows": {"count": int(dup.size), "order_ids": o["order_id"].iloc[dup].tolist()},
            "orphan_customer_rows": {
                "count": len(of("orphan")),
                "order_ids": of("orphan"),
                "customer_ids": extra["customer_id"][kinds == "orphan"].tolist() if k else [],
            },
            "future_dates": {
                "count": len(of("future")), "order_ids": of("future"),
                "values": [str(v) for v in extra["order_time"][kinds == "future"]] if k else [],
            },
            "prelaunch_dates": {
                "count": len(of("prelaunch")), "order_ids": of("prelaunch"),
                "values": [str(v) for v in extra["order_time"][kinds == "prelaunch"]] if k else [],
            },
            "extreme_spenders": {
                "count": len(of("extreme")), "order_ids": of("extreme"),
                "customer_ids": extra["customer_id"][kinds == "extreme"].tolist() if k else [],
                "amounts": extra["amount"][kinds == "extreme"].tolist() if k else [],
            },
            "negative_not_refund": {
                "count": int(neg.size), "order_ids": o["order_id"].iloc[neg].tolist(),
                "note": "refund lines written with status 'paid' and 是否退款 '否'",
            },
            "unparseable_amounts": {
                "count": int(bad.size), "order_ids": o["order_id"].iloc[bad].tolist(),
                "values": bad_vals.tolist(),
            },
            "money_strings": {
                "count": int(amount_text.str.startswith("￥").sum()) + int(amount_text.str.startswith("-￥").sum()),
                "example": "￥1,234.50",
            },
            "date_styles": {s: int(c) for s, c in style_counts.items()},
            "date_styles_note": "counts before duplicating rows; styles without a time drop the time of day",
    }  # fmt: skip


def _notes(rng: np.random.Generator, n: int) -> pa.Array:
    """High-cardinality free text (``备注``), blank for most customers."""
    part = rng.integers(0, len(_NOTE_PARTS), n)
    num = rng.integers(100_000, 100_000_000, n)
    text = _join(
        _take([p[0] for p in _NOTE_PARTS], part),
        _num_str(num),
        _take([p[1] for p in _NOTE_PARTS], part),
    )
    return pc.if_else(pa.array(rng.random(n) < _NOTE_SHARE), text, pa.scalar(""))


def _export_customers(
    data: SynthData, rng: np.random.Generator, *, defects: bool
) -> tuple[pd.DataFrame, dict[str, Any]]:
    c = data.customers
    n = len(c)
    cols = EXPORT_COLUMNS["customers"]
    styles = list(_SIGNUP_DATE_STYLES)
    codes = (
        rng.choice(len(styles), size=n, p=_p(_SIGNUP_DATE_STYLES.values()))
        if defects
        else np.zeros(n, np.int64)
    )
    out = pd.DataFrame(
        {
            cols["customer_id"]: c["customer_id"],
            cols["name"]: c["name"],
            cols["phone"]: c["phone"],
            cols["email"]: c["email"],
            cols["gender"]: c["gender"],
            cols["birth_date"]: _str(_fmt_dates(c["birth_date"].to_numpy(), "2024-03-05")),
            cols["city"]: c["city"],
            cols["signup_date"]: _str(_fmt_mixed_dates(c["signup_date"].to_numpy(), styles, codes)),
            cols["acquisition_channel"]: c["acquisition_channel"],
            cols["member_level"]: c["member_level"],
        }
    )
    info: dict[str, Any] = {
        "n_rows_clean": n,
        "date_styles": dict(
            zip(styles, np.bincount(codes, minlength=len(styles)).tolist(), strict=True)
        ),
    }
    if not defects:
        info["n_rows_written"] = n
        return out, info
    out[EXTRA_CUSTOMER_COLUMNS[0]] = "中国"
    out[EXTRA_CUSTOMER_COLUMNS[1]] = _str(_notes(rng, n))
    everyone = np.arange(n)
    n_dup = max(1, int(round(DEFECT_SPEC["customers_duplicate_key_share"] * n)))
    dup = _pick(rng, everyone, n_dup)
    rest = np.setdiff1d(everyone, dup)
    ph_vals = np.array(DEFECT_SPEC["placeholders"], dtype=object)
    placeholders: dict[str, Any] = {}
    for canon in ("gender", "city"):
        rows = _pick(rng, rest, int(round(DEFECT_SPEC["customers_placeholder_share"] * n)))
        vals = ph_vals[rng.integers(0, ph_vals.size, rows.size)]
        out.loc[rows, cols[canon]] = vals
        placeholders[canon] = {
            "header": cols[canon],
            "count": int(rows.size),
            "values": {str(v): int((vals == v).sum()) for v in ph_vals},
            "customer_ids": c["customer_id"].iloc[rows].tolist(),
        }
    # duplicate keys: the same customer again with another city
    copies = out.iloc[dup].copy()
    city_list = np.array(list(CITIES), dtype=object)
    orig_code = pd.Categorical(c["city"].iloc[dup], categories=list(CITIES)).codes
    shift = rng.integers(1, city_list.size, dup.size)
    copies[cols["city"]] = city_list[(orig_code + shift) % city_list.size]
    pos = np.concatenate([everyone.astype(np.float64), rng.random(dup.size) * n])
    both = pd.concat([out, copies], ignore_index=True)
    out = both.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
    info.update(
        {
            "n_rows_written": int(len(out)),
            "duplicate_keys": {
                "count": int(dup.size),
                "customer_ids": c["customer_id"].iloc[dup].tolist(),
                "note": "each appears twice: the original row and a copy with another city",
            },
            "placeholders": placeholders,
            "constant_column": {"header": EXTRA_CUSTOMER_COLUMNS[0], "value": "中国"},
            "free_text_column": {
                "header": EXTRA_CUSTOMER_COLUMNS[1],
                "non_blank": int((out[EXTRA_CUSTOMER_COLUMNS[1]] != "").sum()),
                "distinct": int(out[EXTRA_CUSTOMER_COLUMNS[1]].nunique()),
            },
        }
    )
    return out, info


def _export_events(data: SynthData) -> pd.DataFrame:
    e = data.events
    out = e.copy()
    out["event_time"] = _str(_fmt_dates(e["event_time"].to_numpy(), "2024-03-05 14:22:05"))
    return out


def _write_xlsx(path: Path, frame: pd.DataFrame) -> None:
    """Excel via openpyxl, with fixed timestamps inside so the bytes are reproducible."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append(list(frame.columns))
    columns = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            columns.append([None if pd.isna(v) else v for v in s.dt.to_pydatetime()])
        elif pd.api.types.is_integer_dtype(s):
            columns.append(s.astype(object).tolist())
        else:
            columns.append(s.astype(object).where(s.notna(), None).tolist())
    for row in zip(*columns, strict=True):
        ws.append(list(row))
    fixed = pd.Timestamp("2026-01-01").to_pydatetime()
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps "modified" and zip entry times with the current time: pin them
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                payload = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>2026-01-01T00:00:00Z\g<2>",
                    payload,
                )
            info = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, payload)


def _export_tickets(data: SynthData) -> pd.DataFrame:
    t = data.tickets
    cols = EXPORT_COLUMNS["tickets"]
    out = t.rename(columns=cols)
    out[cols["is_complaint"]] = _str(
        _take(["否", "是"], t["is_complaint"].to_numpy().astype(np.int8))
    )
    return out


def example_params(
    out_dir: str | Path,
    *,
    formats: str = "export",
    name: str = "example",
    as_of: str = "2025-09-30",
    launch_date: str = "2023-01-01",
    seed: int = 42,
) -> dict[str, Any]:
    """Params mapping (as in ``params/*.yaml``) for files written by :func:`write_example`.

    Parameters
    ----------
    out_dir : str or Path
        Folder the files were written to (absolute paths are used).
    formats : {"export", "canonical"}, default "export"
        Which layout was written.
    name, as_of, launch_date, seed
        Top-level params values.

    Returns
    -------
    dict
        Ready for :func:`workbench.core.params.params_from_dict`.
    """
    _check_formats(formats)
    out = Path(out_dir).resolve()
    files = EXPORT_FILES if formats == "export" else CANONICAL_FILES
    tables = {}
    written = _written_columns(out)
    for table, fname in files.items():
        if table in OPTIONAL_TABLES and not (out / fname).exists():
            continue
        mapping = (
            EXPORT_COLUMNS[table] if formats == "export" else {c: c for c in EXPORT_COLUMNS[table]}
        )
        mapping = {c: h for c, h in mapping.items() if c in written.get(table, mapping)}
        if formats == "canonical" and table == "customers":
            mapping = {**mapping, "age": "age"}
        tables[table] = {"path": str(out / fname), "columns": dict(mapping)}
    return {
        "name": name,
        "title": "示例 CRM 数据 · synthetic example",
        "as_of": as_of,
        "launch_date": launch_date,
        "seed": seed,
        "tables": tables,
    }


def _written_columns(out: Path) -> dict[str, dict[str, str]]:
    """Table -> columns of the files in ``out`` as ``ground_truth.json`` records them ({} if absent)."""
    try:
        files = json.loads((out / "ground_truth.json").read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError):
        return {}
    return {t: f.get("columns", {}) for t, f in files.items() if isinstance(f, dict)}


def _check_formats(formats: str) -> None:
    if formats not in ("export", "canonical"):
        raise ValueError(f"formats must be one of 'export', 'canonical', got {formats!r}")


def write_example(
    out_dir: str | Path,
    *,
    n_customers: int,
    seed: int = 42,
    defects: bool = True,
    formats: str = "export",
    **kw: Any,
) -> dict[str, Any]:
    """Generate a customer base and write it to files with its ground truth.

    Parameters
    ----------
    out_dir : str or Path
        Folder to write to (created if missing; files of the same names are replaced).
    n_customers : int
        Customers to simulate.
    seed : int, default 42
        Seed; the same seed writes identical CSV/Parquet/JSON content (gzip with ``mtime=0``).
    defects : bool, default True
        Plant data-quality defects in the export files (recorded in ``truth["defects"]``).
        Ignored for ``formats="canonical"``, which writes the clean tables.
    formats : {"export", "canonical"}, default "export"
        ``"export"``: files as Chinese exports look (``customers.csv.gz`` GBK with Chinese
        headers, ``orders.csv.gz`` UTF-8 with BOM, ``campaign_contacts.parquet``,
        ``events.csv.gz``, ``tickets.xlsx``) plus ``README.md``. ``"canonical"``: the five
        tables as Parquet with canonical column names (fast, for benchmarks).
    **kw
        Passed to :func:`generate` (``start``, ``end``, ``as_of``).

    Returns
    -------
    dict
        ``out_dir``, ``formats``, ``seed``, ``n_customers``, ``defects``, ``files`` (table ->
        path), ``rows`` (table -> rows written), ``truth`` and ``truth_customers`` paths.

    Raises
    ------
    ValueError
        Unknown ``formats`` or invalid :func:`generate` arguments.
    """
    _check_formats(formats)
    unknown = set(kw) - {"start", "end", "as_of"}
    if unknown:
        raise TypeError(
            f"unexpected keyword argument(s) {sorted(unknown)}; allowed: start, end, as_of"
        )
    data = generate(n_customers, seed=seed, **kw)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = data.truth["generator"]
    clock = _check_args(n_customers, seed, g["start"], g["end"], g["as_of"])
    rng = np.random.default_rng(
        np.random.SeedSequence(int(seed)).spawn(len(_STREAMS))[_STREAMS.index("export")]
    )
    truth = copy.deepcopy(data.truth)
    if formats == "canonical":
        files, rows = _write_canonical(data, out, truth)
    else:
        files, rows = _write_export(data, out, truth, rng, defects=defects, clock=clock)
    truth = _jsonable(truth)
    (out / "ground_truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    data.truth_customers.to_parquet(out / "truth_customers.parquet", index=False)
    if formats == "export":
        (out / "README.md").write_text(_readme(truth, rows, defects=defects), encoding="utf-8")
    return {
        "out_dir": str(out),
        "formats": formats,
        "seed": int(seed),
        "n_customers": int(n_customers),
        "defects": bool(defects) and formats == "export",
        "files": files,
        "rows": rows,
        "truth": str(out / "ground_truth.json"),
        "truth_customers": str(out / "truth_customers.parquet"),
    }


def _write_canonical(data: SynthData, out: Path, truth: dict[str, Any]) -> tuple[dict[str, str], dict[str, int]]:
    """The five clean tables as Parquet with canonical names; records the files in ``truth``."""
    files: dict[str, str] = {}
    rows: dict[str, int] = {}
    for table, fname in CANONICAL_FILES.items():
        if table not in data.tables:
            continue
        frame = data.tables[table]
        frame.to_parquet(out / fname, index=False)
        files[table], rows[table] = str(out / fname), len(frame)
    truth["defects"] = {"planted": False, "note": "canonical Parquet files are clean"}
    truth["files"] = {
        t: {"path": f, "columns": {c: c for c in data.tables[t].columns}}
        for t, f in CANONICAL_FILES.items()
        if t in data.tables
    }
    return files, rows


def _write_export(
    data: SynthData, out: Path, truth: dict[str, Any], rng: np.random.Generator, *, defects: bool, clock: _Clock
) -> tuple[dict[str, str], dict[str, int]]:
    """The files as Chinese exports look; records the defects and files in ``truth``."""
    orders, o_info = _export_orders(data, rng, defects=defects, clock=clock)
    customers, c_info = _export_customers(data, rng, defects=defects)
    _write_gzip(out / EXPORT_FILES["customers"], _csv_bytes(customers, encoding="gbk"))
    _write_gzip(out / EXPORT_FILES["orders"], _csv_bytes(orders, encoding="utf-8", bom=True))
    data.campaign_contacts.to_parquet(out / EXPORT_FILES["campaign_contacts"], index=False)
    _write_gzip(
        out / EXPORT_FILES["events"], _csv_bytes(_export_events(data), encoding="utf-8")
    )
    _write_xlsx(out / EXPORT_FILES["tickets"], _export_tickets(data))
    rows = {
        "customers": len(customers), "orders": len(orders),
        "campaign_contacts": len(data.campaign_contacts), "events": len(data.events),
        "tickets": len(data.tickets),
    }  # fmt: skip
    for table in OPTIONAL_TABLES:
        if table in data.extra_tables:
            frame = data.extra_tables[table].rename(columns=EXPORT_COLUMNS[table])
            raw = _csv_bytes(frame, encoding="utf-8")
            path = out / EXPORT_FILES[table]
            if path.suffix == ".gz":
                _write_gzip(path, raw)
            else:
                path.write_bytes(raw)
            rows[table] = len(frame)
        else:
            (out / EXPORT_FILES[table]).unlink(missing_ok=True)
    files = {t: str(out / f) for t, f in EXPORT_FILES.items() if t in rows}
    truth["defects"] = {
        "planted": bool(defects),
        "spec": DEFECT_SPEC,
        "orders": o_info,
        "customers": c_info,
    }
    truth["files"] = {
        t: {
            "path": f,
            "encoding": {"customers": "gbk", "orders": "utf-8-sig", "events": "utf-8"}.get(t),
            "columns": {c: h for c, h in EXPORT_COLUMNS[t].items() if c in data.tables[t].columns},
        }
        for t, f in EXPORT_FILES.items()
        if t in rows
    }
    if defects:
        truth["files"]["customers"]["extra_columns"] = list(EXTRA_CUSTOMER_COLUMNS)
    return files, rows
