"""Tables as a report shows them: every DataFrame a report displays goes through :func:`format_table`.

``session.start`` installs it as IPython's HTML formatter of DataFrames
(:func:`install_table_formatter`), so a notebook's ``display(result.summary())`` reads the same
in every report. The rules, one copy each:

Index
    A named index (or MultiIndex) becomes ordinary leading columns; an unnamed index of row
    numbers (a RangeIndex, or integers left by a filter) is dropped; another unnamed index (the
    feature names of ``describe().T``) is kept as a leading column without a header.
Headers
    :func:`workbench.report.i18n.label` of the machine name (``columns.<name>`` in the catalogs);
    the levels of MultiIndex columns are joined with `` · ``.
Values, by kind (:func:`column_kind`, from the column's name and dtype)
    ``pct``: shares, rates, uplifts, ROI (``*_rate``, ``*share*``, ``*_pct``, ``*ratio`` in [0, 1]
    ...) as ``12.3 %`` (two decimals when the column's typical value is below 1 %);
    ``money``: revenue, spend, cost, CLV, AOV, profit, price, ``*_value`` above 1 (a bare
    ``value`` is any figure) ... with the run's currency
    (:func:`workbench.report.fmt.money`; cents when the typical amount is below 100);
    ``pvalue``: ``p``, ``p_value``, ``p_adj``, ``*_p`` via :func:`workbench.report.fmt.pvalue`;
    ``count``: integers, and floats that are all whole, with thousands separators;
    ``float``: :func:`workbench.report.fmt.decimal`: about three significant digits and **never
    more than three decimals**; a non-zero figure that would read ``0.000`` reads ``< 0.001``;
    ``date``: datetimes as ISO dates (``2025-09-30``), the time of day dropped;
    ``bool``: Yes/No in the run's language; ``text``: as it is (escaped).
    Every missing value (NaN, None, NaT, ``"n/a"``, ``""``) is the catalog's ``common.na``.
Intervals
    An estimate ``X`` with bounds ``X_low``/``X_high`` (``_lower``/``_upper``, ``_ci_low``/
    ``_ci_high``), or bare ``ci_low``/``ci_high``, ``lower``/``upper``, ``low``/``high`` for the
    estimate before them, shows as one column ``X (95 % CI)``: ``10.7 % (9.2–12.4)``. The
    estimate is the first candidate by name that lies within its bounds in every row.
Size
    At most ``max_columns`` columns (the first ones: keys and headline figures) and ``max_rows``
    rows; a cut table is written whole by ``write_full`` (which returns the link of a CSV) and a
    note under the table says what is shown.
HTML
    ``<table class="wb-table">``; numeric cells and headers carry ``class="wb-num"`` (right-aligned
    by :data:`TABLE_CSS`); every label and value is escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.report import fmt
from workbench.report.i18n import label, t

__all__ = ["TABLE_CSS", "column_kind", "format_table", "install_table_formatter", "report_table"]

#: Styles of the report tables (the report page includes them once).
TABLE_CSS = """
table.wb-table { border-collapse: collapse; margin: 4px 0 2px; font-size: 0.92em; max-width: 100%; }
table.wb-table th, table.wb-table td { padding: 3px 10px; border-bottom: 1px solid #e3e3e3;
  text-align: left; vertical-align: top; overflow-wrap: anywhere; }
table.wb-table th { border-bottom: 2px solid #999; font-weight: 600; }
table.wb-table .wb-num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.wb-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
p.wb-table-note { font-size: 0.85em; color: #555; margin: 2px 0 12px; }
"""

WriteFull = Callable[[pd.DataFrame], str]

_options: dict[str, Any] = {"max_columns": 8, "max_rows": 30, "write_full": None}

_NA_TEXT = frozenset({"", "nan", "NaN", "None", "n/a", "N/A", "NaT", "<NA>"})
_P_NAMES = frozenset({"p", "pvalue", "p_value", "p_val", "p_adj", "p_adjusted", "p_holm", "p_bh", "p_fdr",
                      "p_bonferroni", "p_raw", "p_cuped", "q_value"})
_PCT_TOKENS = frozenset({"share", "rate", "rates", "pct", "percent", "percentage", "conversion", "retention",
                         "uplift", "roi", "ape", "mape", "survival", "hazard", "power", "ctr", "cr", "prob",
                         "probability", "proportion"})
_MONEY_TOKENS = frozenset({"revenue", "clv", "ltv", "spend", "spending", "cost", "costs", "monetary", "amount",
                           "aov", "margin", "profit", "sales", "price", "cac", "cpa", "basket", "gmv", "arpu",
                           "income", "payment", "budget", "money", "refund"})
_UNITLESS_FIRST = frozenset({"smd", "z", "zscore", "log", "corr", "cohen", "cohens", "hr", "or"})
_RATIO_NOT_SHARE = frozenset({"hazard", "odds", "risk", "likelihood", "incidence", "rate", "size"})
_PCT_ZH = re.compile("率|占比|比例|比重|份额|百分比")
_MONEY_ZH = re.compile("金额|收入|营收|销售额|价格|单价|成本|利润|消费|毛利|价值|费用|营业额")
_BOUND_SUFFIXES = (("_ci_low", "_ci_high"), ("_ci_lower", "_ci_upper"), ("_low", "_high"),
                   ("_lower", "_upper"), ("_lo", "_hi"))
_BARE_BOUNDS = (("ci_low", "ci_high"), ("ci_lower", "ci_upper"), ("lower", "upper"), ("low", "high"),
                ("lo", "hi"))
_NOT_ESTIMATES = frozenset({"se", "sd", "std", "std_err", "stderr", "standard_error", "z", "t", "statistic", "df"})
_NUMERIC_KINDS = frozenset({"pct", "money", "pvalue", "count", "float"})


@dataclass(frozen=True)
class _Column:
    """One column to show: its machine name (for the kind), header and values."""

    name: str
    header: str
    values: pd.Series


@dataclass(frozen=True)
class _Interval:
    """An estimate and its bounds shown as one column."""

    estimate: _Column
    low: _Column
    high: _Column


# ---------------------------------------------------------------- columns and kinds


def _text_name(key: Any) -> str:
    parts = key if isinstance(key, tuple) else (key,)
    return "_".join(str(p) for p in parts if p is not None and str(p) != "")


def _header(key: Any) -> str:
    if isinstance(key, tuple):
        return " · ".join(label(p) for p in key if p is not None and str(p) != "")
    return "" if key is None else label(key)


def _is_row_numbers(index: pd.Index) -> bool:
    if isinstance(index, pd.MultiIndex) or index.name is not None:
        return False
    return isinstance(index, pd.RangeIndex) or pd.api.types.is_integer_dtype(index.dtype)


def _columns(frame: pd.DataFrame) -> list[_Column]:
    """Index levels (unless row numbers) then the columns, each with a plain positional index."""
    out: list[_Column] = []
    if not _is_row_numbers(frame.index):
        for i, name in enumerate(frame.index.names):
            values = pd.Series(frame.index.get_level_values(i))
            out.append(_Column(_text_name(name), _header(name), values.reset_index(drop=True)))
    for j, key in enumerate(frame.columns):
        out.append(_Column(_text_name(key), _header(key), frame.iloc[:, j].reset_index(drop=True)))
    return out


def _scalar_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() in _NA_TEXT
    return bool(pd.api.types.is_scalar(value) and pd.isna(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_))


def _numbers(values: pd.Series) -> pd.Series | None:
    """The column as floats when it holds numbers only (missing allowed), else None."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        return pd.to_numeric(values, errors="coerce").astype(float)
    present = [v for v in values if not _scalar_missing(v)]
    if values.dtype == object and present and all(_is_number(v) for v in present):
        return pd.Series([np.nan if _scalar_missing(v) else float(v) for v in values], dtype=float)
    return None


def _finite(x: pd.Series) -> np.ndarray:
    a = x.to_numpy(dtype=float)
    return a[np.isfinite(a)]


def _numeric_kind(name: str, x: pd.Series) -> str:
    n = name.lower()
    tokens = [tok for tok in re.split(r"[_\s]+", n) if tok]
    vals = _finite(x)
    in_unit = bool(len(vals)) and bool(np.all((vals >= 0) & (vals <= 1)))
    if n in _P_NAMES or n.endswith(("_p", "_p_value", "_pvalue")) or "p值" in n:
        return "pvalue"
    ratio = next((i for i, tok in enumerate(tokens) if tok.endswith("ratio")), None)
    unitless = (tokens[:1] and tokens[0] in _UNITLESS_FIRST) or (
        ratio is not None and ratio > 0 and tokens[ratio - 1] in _RATIO_NOT_SHARE)
    if not unitless:
        lift = "lift" in tokens and tokens[0] in ("rel", "relative", "absolute", "abs")
        proportion = tokens[:1] == ["p"] and in_unit
        if lift or proportion or _PCT_TOKENS.intersection(tokens) or _PCT_ZH.search(n) or (ratio is not None and in_unit):
            return "pct"
        big = bool(len(vals)) and float(np.max(np.abs(vals))) > 1
        valued = len(tokens) > 1 and tokens[-1] == "value" and big  # mean_value, not a bare "value"
        if _MONEY_TOKENS.intersection(tokens) or _MONEY_ZH.search(n) or valued:
            return "money"
    if len(vals) and np.all(vals == np.round(vals)):
        return "count"
    return "float"


def column_kind(name: str, values: pd.Series) -> str:
    """How a column's values read in a report table.

    Parameters
    ----------
    name : str
        The column's machine name (``churn_rate``, ``revenue``, ``p_holm`` ...).
    values : Series

    Returns
    -------
    {"bool", "date", "pct", "money", "pvalue", "count", "float", "text"}

    Examples
    --------
    >>> column_kind("churn_rate", pd.Series([0.2, 0.3])), column_kind("revenue", pd.Series([12.5]))
    ('pct', 'money')
    >>> column_kind("hazard_ratio", pd.Series([0.8])), column_kind("p_holm", pd.Series([0.01]))
    ('float', 'pvalue')
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return "date"
    x = _numbers(values)
    if x is not None:
        return _numeric_kind(name, x)
    present = [v for v in values if not _scalar_missing(v)]
    if present and all(isinstance(v, (bool, np.bool_)) for v in present):
        return "bool"
    if present and all(isinstance(v, (dt.date, pd.Timestamp)) for v in present):
        return "date"
    return "text"


# ---------------------------------------------------------------- intervals


def _within(est: pd.Series, low: pd.Series, high: pd.Series) -> bool:
    e, lo, hi = (pd.to_numeric(s, errors="coerce").to_numpy(dtype=float) for s in (est, low, high))
    rows = np.isfinite(e) & np.isfinite(lo) & np.isfinite(hi)
    if not rows.any():
        return True
    tol = 1e-9 * np.maximum(1.0, np.abs(e[rows]))
    return bool(np.all((lo[rows] - tol <= e[rows]) & (e[rows] <= hi[rows] + tol)))


def _bounds(columns: Sequence[_Column]) -> list[tuple[int, int, str | None]]:
    """Pairs of bound columns (positions) with their stem (None for bare ``ci_low``/``lower`` ...)."""
    where = {c.name: i for i, c in reversed(list(enumerate(columns)))}
    pairs: list[tuple[int, int, str | None]] = []
    for i, col in enumerate(columns):
        for lo_name, hi_name in _BARE_BOUNDS:
            if col.name == lo_name and hi_name in where:
                pairs.append((i, where[hi_name], None))
                break
        else:
            for lo_suffix, hi_suffix in _BOUND_SUFFIXES:
                stem = col.name[: -len(lo_suffix)]
                if col.name.endswith(lo_suffix) and stem and stem + hi_suffix in where:
                    pairs.append((i, where[stem + hi_suffix], stem))
                    break
    return pairs


def _estimate_for(columns: Sequence[_Column], lo: int, hi: int, stem: str | None, taken: set[int]) -> int | None:
    def usable(i: int) -> bool:
        c = columns[i]
        x = None if i in taken or i in (lo, hi) or c.name in _NOT_ESTIMATES else _numbers(c.values)
        return x is not None and _numeric_kind(c.name, x) != "pvalue"

    if stem is None:
        before = list(range(min(lo, hi) - 1, -1, -1))
        candidates = [i for i, c in enumerate(columns) if c.name == "estimate"] + before
    else:
        exact = [i for i, c in enumerate(columns) if c.name == stem]
        starts = [i for i, c in enumerate(columns) if c.name.startswith(stem + "_")]
        ends = [i for i, c in enumerate(columns) if c.name.endswith("_" + stem)]
        candidates = exact + starts + ends
    for i in candidates:
        if usable(i) and _within(columns[i].values, columns[lo].values, columns[hi].values):
            return i
    return None


def _merge_intervals(columns: list[_Column]) -> list[_Column | _Interval]:
    """Replace each estimate that has bounds by an :class:`_Interval` and drop the bounds."""
    bound_cols = {i for lo, hi, _ in _bounds(columns) for i in (lo, hi)}
    merged: dict[int, tuple[int, int]] = {}
    dropped: set[int] = set()
    for lo, hi, stem in _bounds(columns):
        est = _estimate_for(columns, lo, hi, stem, set(merged) | dropped | bound_cols - {lo, hi})
        if est is not None and lo not in dropped and hi not in dropped:
            merged[est] = (lo, hi)
            dropped.update((lo, hi))
    out: list[_Column | _Interval] = []
    for i, col in enumerate(columns):
        if i in merged:
            lo, hi = merged[i]
            out.append(_Interval(col, columns[lo], columns[hi]))
        elif i not in dropped:
            out.append(col)
    return out


# ---------------------------------------------------------------- cells


def _typical(x: pd.Series) -> float:
    vals = np.abs(_finite(x))
    vals = vals[vals > 0]
    return float(np.median(vals)) if len(vals) else 0.0


def _digits(kind: str, x: pd.Series) -> int:
    """Decimals of a whole pct or money column (one figure per column reads evenly)."""
    typical = _typical(x)
    if kind == "pct":
        return 2 if 0 < typical < 0.01 else 1
    if kind == "money":
        return 2 if 0 < typical < 100 else 0
    return 0


def _number_text(v: float, kind: str, digits: int) -> str:
    if kind == "pct":
        return fmt.pct(v, digits)
    if kind == "money":
        return fmt.money(v, digits)
    if kind == "pvalue":
        return fmt.pvalue(v)
    if kind == "count":
        return fmt.count(v)
    return fmt.decimal(v)


def _value_text(value: Any, kind: str) -> str:
    """A non-numeric cell (bool, date or text), or a number met in a text column."""
    if isinstance(value, (bool, np.bool_)):
        return t("tables.yes") if value else t("tables.no")
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if _is_number(value):
        return fmt.count(value) if float(value).is_integer() else fmt.decimal(value)
    if isinstance(value, (tuple, list, set, frozenset)):
        return ", ".join(str(v) for v in value)
    return str(value)


def _cells(col: _Column) -> tuple[list[str], bool]:
    na = t("common.na")
    kind = column_kind(col.name, col.values)
    x = _numbers(col.values)
    if kind in _NUMERIC_KINDS and x is not None:
        digits = _digits(kind, x)
        return [na if not np.isfinite(v) else _number_text(float(v), kind, digits) for v in x], True
    return [na if _scalar_missing(v) else _value_text(v, kind) for v in col.values], False


def _interval_cells(item: _Interval) -> list[str]:
    na = t("common.na")
    est, low, high = (_numbers(c.values) for c in (item.estimate, item.low, item.high))
    joint = pd.concat([est, low, high], ignore_index=True)
    kind = _numeric_kind(item.estimate.name, joint)
    if kind == "pvalue":
        kind = "float"
    digits = _digits(kind, est)
    out = []
    for e, lo, hi in zip(est, low, high, strict=True):
        if kind in ("pct", "money"):
            out.append(fmt.interval(e, lo, hi, kind=kind, digits=digits, na=na))
        else:
            places = 0 if kind == "count" or not np.isfinite(e) else fmt.decimal_places(e)
            out.append(fmt.interval(e, lo, hi, kind="num", digits=places, na=na))
    return out


# ---------------------------------------------------------------- the table


def _note(shown: tuple[int, int], total: tuple[int, int], href: str | None) -> str:
    (cols, rows), (total_cols, total_rows) = shown, total
    if cols < total_cols and rows < total_rows:
        cut = t("tables.note.both", columns=fmt.count(cols), total_columns=fmt.count(total_cols),
                rows=fmt.count(rows), total_rows=fmt.count(total_rows))
    elif cols < total_cols:
        cut = t("tables.note.columns", shown=fmt.count(cols), total=fmt.count(total_cols))
    else:
        cut = t("tables.note.rows", shown=fmt.count(rows), total=fmt.count(total_rows))
    if href is None:
        return html.escape(t("tables.note.no_link", cut=cut))
    mark = "\ue000"
    anchor = f'<a href="{html.escape(href, quote=True)}">{html.escape(t("tables.note.link_text"))}</a>'
    return html.escape(t("tables.note.link", cut=cut, link=mark)).replace(mark, anchor)


def format_table(frame: pd.DataFrame, *, max_columns: int = 8, max_rows: int = 30,
                 write_full: WriteFull | None = None, caption: str | None = None) -> str:
    """HTML of a table for a report (the rules are in the module docstring).

    Parameters
    ----------
    frame : DataFrame
        Any table; it is not changed.
    max_columns : int, default 8
        Columns shown (after the index became columns and intervals were merged); the first ones.
    max_rows : int, default 30
        Rows shown; the first ones.
    write_full : callable, optional
        Called once with ``frame`` when the table is cut; returns the link of the full table
        (``RunContext.save_full_table``). Without it the note only says the table was cut.
    caption : str, optional
        Text of the table's ``<caption>``.

    Returns
    -------
    str
        ``<div class="wb-table-block">`` holding ``<table class="wb-table">`` and, when cut,
        ``<p class="wb-table-note">``.

    Examples
    --------
    >>> html_text = format_table(pd.DataFrame({"churn_rate": [0.123]}))
    >>> "12.3 %" in html_text
    True
    """
    items = _merge_intervals(_columns(frame))
    total = (len(items), len(frame))
    items = items[:max_columns]
    rows = min(len(frame), max_rows)
    head = ['<div class="wb-table-block"><table class="wb-table">']
    if caption:
        head.append(f"<caption>{html.escape(caption)}</caption>")
    headers, columns = [], []
    for item in items:
        if isinstance(item, _Interval):
            text, cells, numeric = t("tables.interval", label=item.estimate.header), _interval_cells(item), True
        else:
            (cells, numeric), text = _cells(item), item.header
        css = ' class="wb-num"' if numeric else ""
        headers.append(f"<th{css}>{html.escape(text)}</th>")
        columns.append([f"<td{css}>{html.escape(c)}</td>" for c in cells[:rows]])
    body = ["<tr>" + "".join(col[r] for col in columns) + "</tr>" for r in range(rows)]
    parts = head + ["<thead><tr>", *headers, "</tr></thead><tbody>", *body, "</tbody></table>"]
    if (len(items), rows) != total:
        href = None
        if write_full is not None:
            try:
                href = write_full(frame)
            except OSError:  # a report still shows the cut table
                href = None
        parts.append(f'<p class="wb-table-note">{_note((len(items), rows), total, href)}</p>')
    parts.append("</div>")
    return "".join(parts)


def report_table(frame: pd.DataFrame, *, caption: str | None = None) -> str:
    """:func:`format_table` with the run's limits and CSV writer (set by
    :func:`install_table_formatter`; the defaults outside a run)."""
    return format_table(frame, caption=caption, **_options)


def install_table_formatter(*, max_columns: int = 8, max_rows: int = 30,
                            write_full: WriteFull | None = None) -> bool:
    """Make IPython show every DataFrame through :func:`format_table` with these limits (also
    used by :func:`report_table`, hence by results and ``display_frames``).

    Returns
    -------
    bool
        False outside IPython (the limits are still set).
    """
    _options.update(max_columns=max_columns, max_rows=max_rows, write_full=write_full)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    if ip is None:
        return False
    formatter = ip.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, report_table)
    return True
