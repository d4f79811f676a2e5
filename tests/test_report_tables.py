"""Report tables (``workbench.report.tables``): labels, values by kind, intervals, cuts and notes,
on hand-built frames with known answers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from workbench.report import fmt
from workbench.report import tables as tables_mod
from workbench.report.i18n import label
from workbench.report.results import Result
from workbench.report.tables import column_kind, format_table, install_table_formatter, report_table

CELL = re.compile(r"<(t[hd])(\s[^>]*)?>(.*?)</\1>", re.S)


def parse(text: str) -> tuple[list[str], list[list[str]], str | None]:
    """Headers, body rows (cell texts, unescaped) and the note's text of one formatted table."""
    head, _, rest = text.partition("</thead>")
    body = rest.partition("</tbody>")[0]
    headers = [html.unescape(m.group(3)) for m in CELL.finditer(head)]
    rows = [[html.unescape(m.group(3)) for m in CELL.finditer(row)] for row in body.split("</tr>") if "<td" in row]
    note = re.search(r'<p class="wb-table-note">(.*?)</p>', text, re.S)
    return headers, rows, None if note is None else html.unescape(re.sub(r"<[^>]+>", "", note.group(1)))


def column(text: str, header: str) -> list[str]:
    headers, rows, _ = parse(text)
    j = headers.index(header)
    return [row[j] for row in rows]


def test_labels_follow_the_language() -> None:
    frame = pd.DataFrame({"customers": [10], "churn_rate": [0.2], "p_value": [0.5], "my_own_col": ["x"]})
    with fmt.use(language="en"):
        assert parse(format_table(frame))[0] == ["Customers", "Churn rate", "p-value", "My own col"]
    with fmt.use(language="zh"):
        assert parse(format_table(frame))[0] == ["客户数", "流失率", "p 值", "My own col"]


def test_multiindex_columns_join_their_labels() -> None:
    frame = pd.DataFrame([[1, 0.25]], columns=pd.MultiIndex.from_tuples([("customers", "2024"), ("share", "2024")]))
    text = format_table(frame)
    assert parse(text)[0] == ["Customers · 2024", "Share · 2024"]
    assert parse(text)[1] == [["1", "25.0 %"]]


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("churn_rate", [0.2, 0.31], "pct"),
        ("revenue_share", [0.4, 0.6], "pct"),
        ("gap_pct", [0.1, -0.2], "pct"),
        ("rel_lift", [0.85, 1.9], "pct"),
        ("ci_width_ratio", [0.97], "pct"),
        ("hazard_ratio", [0.8, 0.9], "float"),
        ("size_ratio", [3.5], "float"),
        ("revenue", [12.5, 99.0], "money"),
        ("mean_value", [2400.0], "money"),
        ("treated_value", [0.13], "float"),
        ("value", [600.0], "count"),
        ("smd_monetary_mean", [-0.13], "float"),
        ("p_holm", [0.01], "pvalue"),
        ("hl_p", [0.2], "pvalue"),
        ("p_missing", [0.1], "pct"),
        ("orders", [11.0, 3.0], "count"),
        ("hr", [0.78], "float"),
        ("流失率", [0.2], "pct"),
        ("实付金额", [30.0], "money"),
    ],
)
def test_column_kind_from_name_and_values(name: str, values: list[float], kind: str) -> None:
    assert column_kind(name, pd.Series(values)) == kind


def test_column_kind_from_dtype() -> None:
    assert column_kind("share", pd.Series([True, False])) == "bool"
    assert column_kind("when", pd.to_datetime(pd.Series(["2025-01-02"]))) == "date"
    assert column_kind("share", pd.Series(["a", "b"])) == "text"


def test_percentages() -> None:
    frame = pd.DataFrame({"share": [0.1234, 0.5], "tiny_rate": [0.00123, 0.0042]})
    text = format_table(frame)
    assert column(text, "Share") == ["12.3 %", "50.0 %"]
    assert column(text, "Tiny rate") == ["0.12 %", "0.42 %"]


def test_money_uses_the_run_currency() -> None:
    frame = pd.DataFrame({"revenue": [1234.5, 1_000_000.0], "aov": [12.5, 3.456], "cpa": [-8.0, 120.0]})
    with fmt.use(currency="$"):
        text = format_table(frame)
    assert column(text, "Revenue") == ["$1,234", "$1,000,000"]
    assert column(text, "Average order value") == ["$12.50", "$3.46"]
    assert column(text, "Cost per acquisition") == ["-$8.00", "$120.00"]
    with fmt.use(currency="¥", language="zh"):
        assert column(format_table(frame), "营收") == ["¥1,234", "¥1,000,000"]


def test_pvalues_counts_and_floats() -> None:
    frame = pd.DataFrame({"p_value": [0.0004, 0.0042, 0.41], "customers": [1234567, 12, 0],
                          "statistic": [0.77662, 14017.29, 0.000123], "z": [-0.0001, 0.0, 5.3333]})
    text = format_table(frame)
    assert column(text, "p-value") == ["< 0.001", "0.004", "0.41"]
    assert column(text, "Customers") == ["1,234,567", "12", "0"]
    assert column(text, "Statistic") == ["0.777", "14,017", "< 0.001"]
    assert column(text, "Z") == ["> -0.001", "0", "5.33"]


def test_booleans_dates_and_text() -> None:
    frame = pd.DataFrame({"significant": [True, False], "first_seen": pd.to_datetime(["2025-03-10 09:00", "2025-03-15 00:00"]),
                          "segment": ["<b>vip</b>", "a & b"]})
    text = format_table(frame)
    assert column(text, "Significant") == ["Yes", "No"]
    assert column(text, "First seen") == ["2025-03-10", "2025-03-15"]
    assert column(text, "Segment") == ["<b>vip</b>", "a & b"]
    assert "&lt;b&gt;vip&lt;/b&gt;" in text and "<b>" not in text
    with fmt.use(language="zh"):
        assert column(format_table(frame), "显著") == ["是", "否"]


def test_every_missing_value_reads_the_same() -> None:
    frame = pd.DataFrame({"share": [np.nan, 0.5], "revenue": [None, 3.0], "segment": ["n/a", None],
                          "model": [pd.NA, "nan"], "when": pd.to_datetime([None, "2025-01-01"]),
                          "significant": pd.array([pd.NA, True], dtype="boolean")})
    text = format_table(frame)
    _, rows, _ = parse(text)
    assert rows[0] == ["–"] * 6
    assert not re.search(r"\bnan\b|NaN|None|n/a|NaT|&lt;NA", text)


def test_interval_merged_into_one_column() -> None:
    frame = pd.DataFrame({"segment": ["a", "b"], "churn_rate": [0.107, 0.2], "churn_rate_low": [0.092, np.nan],
                          "churn_rate_high": [0.124, np.nan], "odds": [0.7766, 1.2], "odds_lower": [0.5668, 0.9],
                          "odds_upper": [1.064, 1.6]})
    text = format_table(frame)
    headers, rows, note = parse(text)
    assert headers == ["Segment", "Churn rate (95 % CI)", "Odds (95 % CI)"]
    assert rows[0] == ["a", "10.7 % (9.2–12.4)", "0.777 (0.567–1.064)"]
    assert rows[1] == ["b", "20.0 %", "1.20 (0.90–1.60)"]
    assert note is None
    with fmt.use(language="zh"):
        assert parse(format_table(frame))[0][1] == "流失率（95% 置信区间）"


def test_bare_bounds_belong_to_the_estimate_within_them() -> None:
    frame = pd.DataFrame({"param": ["r"], "estimate": [0.857], "se": [0.082], "lower": [0.697], "upper": [1.018]})
    assert parse(format_table(frame)) == ([label("param"), "Estimate (95 % CI)", label("se")],
                                          [["r", "0.857 (0.697–1.018)", "0.082"]], None)
    # the count ``contacts`` is not within the share's bounds: the share is the estimate
    frame = pd.DataFrame({"contacts": [99], "contacts_share": [0.529], "contacts_low": [0.458],
                          "contacts_high": [0.600], "revenue": [5809.0], "revenue_low": [-2003.3],
                          "revenue_high": [13621.3]})
    with fmt.use(currency="$"):
        headers, rows, _ = parse(format_table(frame))
    assert headers == ["Contacts", "Contacts share (95 % CI)", "Revenue (95 % CI)"]
    assert rows == [["99", "52.9 % (45.8–60.0)", "$5,809 (-$2,003–$13,621)"]]


def test_bounds_without_a_fitting_estimate_stay_columns() -> None:
    frame = pd.DataFrame({"rate": [0.9], "ci_low": [0.1], "ci_high": [0.2]})
    assert parse(format_table(frame))[0] == ["Rate", "CI low", "CI high"]


def test_wide_table_is_cut_and_written_once() -> None:
    frame = pd.DataFrame({f"col_{i}": [i] for i in range(23)})
    calls: list[pd.DataFrame] = []

    def write_full(full: pd.DataFrame) -> str:
        calls.append(full)
        return "tables/table-01.csv"

    text = format_table(frame, max_columns=8, write_full=write_full)
    headers, rows, note = parse(text)
    assert headers == [f"Col {i}" for i in range(8)] and rows == [[str(i) for i in range(8)]]
    assert len(calls) == 1 and calls[0] is frame
    assert note == "Showing 8 of 23 columns; full table: CSV"
    assert '<p class="wb-table-note">' in text and '<a href="tables/table-01.csv">CSV</a>' in text
    with fmt.use(language="zh"):
        assert parse(format_table(frame, max_columns=8))[2] == "显示 23 列中的 8 列；未保存完整表格。"


def test_long_table_is_cut_with_the_same_note() -> None:
    frame = pd.DataFrame({"customers": range(512), "share": 0.5})
    calls: list[pd.DataFrame] = []
    text = format_table(frame, max_rows=30, write_full=lambda f: calls.append(f) or "t.csv")
    _, rows, note = parse(text)
    assert len(rows) == 30 and rows[-1] == ["29", "50.0 %"]
    assert note == "Showing 30 of 512 rows; full table: CSV" and len(calls) == 1
    wide = pd.DataFrame({f"col_{i}": range(512) for i in range(23)})
    assert parse(format_table(wide))[2] == "Showing 8 of 23 columns and 30 of 512 rows; the full table was not saved."
    assert parse(format_table(frame.head(30), write_full=lambda f: calls.append(f) or "t.csv"))[2] is None
    assert len(calls) == 1


def test_index_rules() -> None:
    plain = pd.DataFrame({"share": [0.5, 0.25]}, index=[3, 7])  # row numbers left by a filter
    assert parse(format_table(plain))[0] == ["Share"]
    assert parse(format_table(plain.reset_index(drop=True)))[0] == ["Share"]
    named = pd.DataFrame({"customers": [5, 6]}, index=pd.Index(["app", "web"], name="channel"))
    assert parse(format_table(named)) == (["Channel", "Customers"], [["app", "5"], ["web", "6"]], None)
    multi = named.set_index(pd.MultiIndex.from_tuples([("a", "app"), ("b", "web")], names=["segment", "channel"]))
    assert parse(format_table(multi))[0] == ["Segment", "Channel", "Customers"]
    features = pd.DataFrame({"mean": [1.5]}, index=["age"])  # describe().T: the index names the rows
    assert parse(format_table(features)) == (["", "Mean"], [["age", "1.50"]], None)


def test_table_markup() -> None:
    text = format_table(pd.DataFrame({"segment": ["a"], "customers": [3]}), caption="Top <3>")
    assert text.startswith('<div class="wb-table-block"><table class="wb-table"><caption>Top &lt;3&gt;</caption>')
    assert '<th>Segment</th><th class="wb-num">Customers</th>' in text
    assert '<td>a</td><td class="wb-num">3</td>' in text


def test_no_number_has_more_than_three_decimals() -> None:
    rng = np.random.default_rng(7)
    magnitude = 10.0 ** rng.integers(-8, 9, size=(200, 6))
    values = rng.normal(size=(200, 6)) * magnitude
    frame = pd.DataFrame(values, columns=["statistic", "estimate", "estimate_low", "estimate_high", "mean_value", "share"])
    frame["estimate_low"] = frame["estimate"] - np.abs(frame["estimate_low"])
    frame["estimate_high"] = frame["estimate"] + np.abs(frame["estimate_high"])
    text = re.sub(r"<[^>]+>", " ", format_table(frame, max_rows=500))
    numbers = re.findall(r"\d[\d,]*\.\d+", text)
    assert numbers, "the table shows decimals"
    assert not [n for n in numbers if len(n.split(".")[1]) > 3]
    assert not re.search(r"\d[eE][+-]?\d", text)


@dataclass(frozen=True, repr=False)
class _Rates(Result):
    frame: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        return self.frame

    def finding(self) -> str:
        return "Churn <rose>."


def test_result_html_uses_the_report_table() -> None:
    result = _Rates(pd.DataFrame({"churn_rate": [0.107], "churn_rate_low": [0.092], "churn_rate_high": [0.124]}))
    text = result._repr_html_()
    assert text.startswith("<p><b>_Rates(rows=1)</b></p><p>Churn &lt;rose&gt;.</p>")
    assert parse(text) == (["Churn rate (95 % CI)"], [["10.7 % (9.2–12.4)"]], None)


def test_installed_limits_apply_to_report_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables_mod, "_options", dict(tables_mod._options))
    calls: list[pd.DataFrame] = []
    assert install_table_formatter(max_columns=2, max_rows=5, write_full=lambda f: calls.append(f) or "x.csv") is False
    frame = pd.DataFrame({"a": range(9), "b": 1, "c": 2})
    _, rows, note = parse(report_table(frame))
    assert len(rows) == 5 and len(rows[0]) == 2 and len(calls) == 1
    assert note == "Showing 2 of 3 columns and 5 of 9 rows; full table: CSV"


def test_display_frames_captions_each_table(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    from workbench.report import display_frames

    shown: list[str] = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    display_frames({"orders: 订单": pd.DataFrame({"share": [0.5, 0.1]}), "empty": pd.DataFrame()}, head=1)
    assert len(shown) == 1
    assert "<caption>orders: 订单</caption>" in shown[0]
    assert parse(shown[0])[1] == [["50.0 %"]]
