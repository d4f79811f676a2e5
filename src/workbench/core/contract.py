"""The data contract: named tables, their columns, types and rules, and the intake that maps an
analyst's own file onto them.

Every notebook goes through this module. The value parsers it applies live in
:mod:`workbench.core.parsing` (re-exported here). After :func:`apply_contract`, code uses only canonical
column names (``customer_id``, ``order_time``, ``amount`` ...), whatever the headers were in the
source (``会员ID``, ``下单时间``, ``实付金额``).

Parsing copes with what real exports contain: mixed date formats in one column (``2024/3/5``,
``2024-03-05 14:22``, ``20240305``, ``2024年03月05日``, Excel serial numbers), amounts such as
``￥1,234.50`` or ``(12.00)``, placeholders (``未知``, ``N/A``, blanks) and yes/no flags in
Chinese or English. Values that cannot be parsed become missing and are counted per column; above
a tolerance the intake stops with a :class:`~workbench.core.errors.ContractError` that names the
table, column, source header, rows, examples and params key.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import (
    ContractError,
    DataQualityWarning,
    did_you_mean,
    example_values,
    format_examples,
)
from workbench.core.parsing import (
    DATETIME_RANGE,
    DEFAULT_FALSE_VALUES,
    DEFAULT_PLACEHOLDERS,
    DEFAULT_TRUE_VALUES,
    clean_text,
    currency_code,
    parse_amounts,
    parse_bool,
    parse_dates,
    parse_datetime,
    parse_money,
    parse_number,
)
from workbench.core.resident import ResidentFrame

__all__ = [
    "ColumnSpec",
    "TableSpec",
    "TABLES",
    "DEFAULT_PLACEHOLDERS",
    "DEFAULT_TRUE_VALUES",
    "DEFAULT_FALSE_VALUES",
    "ColumnReport",
    "LoadedTable",
    "OUT_OF_RANGE_SUFFIX",
    "out_of_range_column",
    "apply_contract",
    "parse_dates",
    "parse_datetime",
    "parse_amounts",
    "parse_money",
    "parse_number",
    "parse_bool",
    "clean_text",
    "check_references",
    "pii_columns",
    "fast_isin",
]

ColumnType = Literal["id", "datetime", "money", "number", "bool", "category", "text"]


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column of a contract table.

    Attributes
    ----------
    name : str
        Canonical name used by all code after intake.
    type : {'id', 'datetime', 'money', 'number', 'bool', 'category', 'text'}
        Logical type; decides the parser.
    required : bool
        The mapping must provide it.
    pii : bool
        Personal data (name, phone, e-mail, ID number): never shown raw in reports unless
        ``privacy.allow_personal_data`` is true.
    description : str
        What the column holds, shown in docs and errors.
    """

    name: str
    type: ColumnType
    required: bool = False
    pii: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """A contract table: columns, primary key and references to other tables."""

    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        """Return the spec of canonical column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        """Canonical column names in contract order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]


def _c(name: str, type_: ColumnType, description: str = "", **kw: Any) -> ColumnSpec:
    return ColumnSpec(name=name, type=type_, description=description, **kw)


TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        name="customers",
        description="One row per customer: identity, sign-up, demographics, contract.",
        key=("customer_id",),
        columns=(
            _c("customer_id", "id", "customer key", required=True),
            _c("signup_date", "datetime", "registration / first contract date"),
            _c("name", "text", "customer name", pii=True),
            _c("phone", "text", "phone number", pii=True),
            _c("email", "text", "e-mail address", pii=True),
            _c("id_number", "text", "national ID or passport number", pii=True),
            _c("address", "text", "postal address", pii=True),
            _c("gender", "category", "gender"),
            _c("birth_date", "datetime", "date of birth"),
            _c("age", "number", "age in years"),
            _c("city", "category", "city"),
            _c("region", "category", "region / province"),
            _c("acquisition_channel", "category", "how the customer was acquired"),
            _c("member_level", "category", "loyalty tier"),
            _c("plan", "category", "product plan / contract type"),
            _c("tenure_months", "number", "months as a customer (snapshot data)"),
            _c("monthly_charges", "money", "recurring charge per month"),
            _c("total_charges", "money", "charges to date"),
            _c("churned", "bool", "explicit churn flag (contractual business)"),
            _c("churn_date", "datetime", "date the contract ended"),
            _c("marketing_consent", "bool",
               "the customer agreed to marketing contact; false = never put in targeting or retention lists"),
            _c("marketing_opt_out", "bool",
               "the customer opted out of marketing contact (the inverse of marketing_consent; when only "
               "this is mapped, intake derives marketing_consent = not marketing_opt_out)"),
        ),
    ),
    "orders": TableSpec(
        name="orders",
        description="One row per order line or refund line.",
        key=("order_id",),
        references={"customer_id": "customers.customer_id"},
        columns=(
            _c("order_id", "id", "order key", required=True),
            _c("customer_id", "id", "customer key", required=True),
            _c("order_time", "datetime", "when the order was placed", required=True),
            _c("amount", "money", "amount paid; refunds negative or flagged", required=True),
            _c("channel", "category", "sales channel"),
            _c("status", "category", "order status (paid, refunded, cancelled ...)"),
            _c("is_refund", "bool", "refund line flag"),
            _c("quantity", "number", "items in the order"),
            _c("discount", "money", "discount granted"),
            _c("margin", "money", "gross margin of the order"),
            _c("product_category", "category", "main product category"),
        ),
    ),
    "campaign_contacts": TableSpec(
        name="campaign_contacts",
        description="One row per customer and campaign: arm, contact, cost and outcomes.",
        key=("campaign_id", "customer_id"),
        references={"customer_id": "customers.customer_id"},
        columns=(
            _c("customer_id", "id", "customer key", required=True),
            _c("campaign_id", "category", "campaign name or key", required=True),
            _c("arm", "category", "experiment arm (treatment name or control)", required=True),
            _c("contact_time", "datetime", "when the contact was sent"),
            _c("channel", "category", "contact channel (sms, e-mail, app push, call)"),
            _c("cost", "money", "cost of the contact"),
            _c("delivered", "bool", "message delivered"),
            _c("opened", "bool", "message opened"),
            _c("clicked", "bool", "link clicked"),
            _c("visited", "bool", "visited the site/store after contact"),
            _c("converted", "bool", "bought in the outcome window"),
            _c("revenue", "money", "revenue in the outcome window"),
            _c("pre_period_revenue", "money", "revenue before the campaign (CUPED covariate)"),
        ),
    ),
    "events": TableSpec(
        name="events",
        description="One row per behavioural event (funnel steps).",
        references={"customer_id": "customers.customer_id"},
        columns=(
            _c("customer_id", "id", "customer key", required=True),
            _c("event_time", "datetime", "when it happened", required=True),
            _c("event_name", "category", "event / funnel step name", required=True),
            _c("channel", "category", "channel or platform"),
            _c("session_id", "id", "session key"),
            _c("campaign_id", "category", "campaign the event is attributed to"),
        ),
    ),
    "tickets": TableSpec(
        name="tickets",
        description="One row per customer-service ticket.",
        key=("ticket_id",),
        references={"customer_id": "customers.customer_id"},
        columns=(
            _c("ticket_id", "id", "ticket key"),
            _c("customer_id", "id", "customer key", required=True),
            _c("opened_at", "datetime", "when the ticket was opened", required=True),
            _c("first_response_at", "datetime", "first agent response"),
            _c("resolved_at", "datetime", "when it was resolved (blank: unresolved)"),
            _c("satisfaction", "number", "satisfaction score (CSAT, e.g. 1-5)"),
            _c("channel", "category", "service channel"),
            _c("category", "category", "ticket topic"),
            _c("is_complaint", "bool", "ticket is a complaint"),
            _c("text", "text", "what the customer wrote (free text; personal data in it is masked at intake)"),
        ),
    ),
    "spend": TableSpec(
        name="spend",
        description="Marketing spend per day or week and channel (optionally per campaign).",
        columns=(
            _c("date", "datetime", "first day of the period the cost covers (day or week)", required=True),
            _c("channel", "category", "marketing channel, as in events and campaign_contacts", required=True),
            _c("campaign_id", "category", "campaign the cost belongs to"),
            _c("cost", "money", "spend in the period", required=True),
            _c("impressions", "number", "ad impressions in the period"),
            _c("clicks", "number", "clicks in the period"),
        ),
    ),
    "order_items": TableSpec(
        name="order_items",
        description="One row per product line of an order (market baskets).",
        references={"order_id": "orders.order_id"},
        columns=(
            _c("order_id", "id", "order key (orders.order_id)", required=True),
            _c("product_id", "id", "product key (SKU)", required=True),
            _c("product_name", "text", "product name"),
            _c("category", "category", "product category"),
            _c("quantity", "number", "units bought"),
            _c("price", "money", "line amount paid"),
        ),
    ),
    "feedback": TableSpec(
        name="feedback",
        description="One row per review or survey answer: rating, NPS score and text.",
        key=("feedback_id",),
        references={"customer_id": "customers.customer_id"},
        columns=(
            _c("feedback_id", "id", "feedback key"),
            _c("customer_id", "id", "customer key", required=True),
            _c("feedback_time", "datetime", "when it was given", required=True),
            _c("channel", "category", "where it was given (app review, survey, social media ...)"),
            _c("text", "text", "what the customer wrote (personal data in it is masked at intake)"),
            _c("rating", "number", "star rating (e.g. 1-5)"),
            _c("nps", "number", "likelihood to recommend, 0-10"),
        ),
    ),
}

@dataclass
class ColumnReport:
    """What intake did to one column.

    Attributes
    ----------
    table, column : str
        Contract table and canonical column (or extra column name).
    source : str
        Header in the source file, or ``@index`` / ``@const`` for generated columns.
    type : str
        Logical type parsed to.
    n_rows : int
        Rows in the table.
    n_blank : int
        Rows that were blank or a placeholder (now missing).
    n_unparseable : int
        Rows whose value could not be parsed (now missing).
    examples : list
        A few unparseable values.
    placeholders : dict
        Placeholder text -> count.
    extra : bool
        An unmapped source column kept as it is.
    n_out_of_range : int
        Dates outside what ``datetime64[ns]`` holds (``2999-01-01``): blank in the column, the
        source text in :func:`out_of_range_column`; not counted as unparseable.
    out_of_range_examples : list
        A few of them.
    currencies : dict
        Money columns: ISO code of each currency marker found (``¥``, ``USD``, ``元``) -> rows.
    """

    table: str
    column: str
    source: str
    type: str
    n_rows: int
    n_blank: int = 0
    n_unparseable: int = 0
    examples: list[Any] = field(default_factory=list)
    placeholders: dict[str, int] = field(default_factory=dict)
    extra: bool = False
    n_out_of_range: int = 0
    out_of_range_examples: list[Any] = field(default_factory=list)
    currencies: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as a plain dict (for DataFrames and JSON)."""
        return {
            "table": self.table,
            "column": self.column,
            "source": self.source,
            "type": self.type,
            "extra": self.extra,
            "n_rows": self.n_rows,
            "n_blank": self.n_blank,
            "n_unparseable": self.n_unparseable,
            "examples": ", ".join(map(repr, self.examples)),
            "placeholders": ", ".join(f"{k!r}×{v}" for k, v in self.placeholders.items()),
            "n_out_of_range": self.n_out_of_range,
            "out_of_range_examples": ", ".join(map(repr, self.out_of_range_examples)),
            "currencies": ", ".join(f"{k}×{v}" for k, v in self.currencies.items()),
        }


@dataclass
class LoadedTable:
    """A table after intake: canonical typed frame plus what was done to get it.

    Attributes
    ----------
    name : str
        Contract table name.
    frame : pandas.DataFrame or ResidentFrame
        Canonical columns (typed), then extra columns kept from the source; a table with more
        rows than ``engine.resident_rows`` read with ``load_tables(..., resident_dir=)`` stays
        in the engine (:class:`~workbench.core.resident.ResidentFrame`, a Parquet file).
    source : dict
        Path, format, encoding, sheet/table and rows read.
    columns : list of ColumnReport
        Per-column intake report.
    """

    name: str
    frame: pd.DataFrame | ResidentFrame
    source: dict[str, Any]
    columns: list[ColumnReport]

    @property
    def spec(self) -> TableSpec:
        """The contract spec of this table."""
        return TABLES[self.name]

    def report(self) -> pd.DataFrame:
        """Intake report: one row per column."""
        return pd.DataFrame([c.as_dict() for c in self.columns])

    def __repr__(self) -> str:
        rows, cols = self.frame.shape  # a DataFrame's or a ResidentFrame's
        kept = ", resident" if isinstance(self.frame, ResidentFrame) else ""
        return f"LoadedTable({self.name!r}, rows={rows:,}, columns={cols}{kept})"


OUT_OF_RANGE_SUFFIX = "_out_of_range"
"""Suffix of the text column intake adds next to a date column holding out-of-range dates."""


def out_of_range_column(column: str) -> str:
    """Name of the column holding the source text of ``column``'s out-of-range dates.

    Intake blanks a date ``datetime64[ns]`` cannot hold (``2999-01-01``) and keeps its text in
    this column (``<NA>`` on the other rows); the cleaning rule ``out_of_range_dates`` drops,
    flags or keeps those rows.

    Examples
    --------
    >>> out_of_range_column("order_time")
    'order_time_out_of_range'
    """
    return f"{column}{OUT_OF_RANGE_SUFFIX}"


@dataclass(frozen=True)
class _Parsed:
    """One parsed column: values, masks (blank, unparseable, out of range), placeholder counts
    and, for money, the currency marker per value."""

    values: pd.Series
    blank: pd.Series
    bad: pd.Series
    counts: dict[str, int]
    out_of_range: pd.Series | None = None
    currency: pd.Series | None = None


def _parse_column(
    raw: pd.Series,
    spec_type: str,
    *,
    opts: Mapping[str, Any],
    placeholders: tuple[str, ...] | list[str],
) -> _Parsed:
    """Parse one column to its contract type."""
    _, blank, counts = clean_text(raw, placeholders) if not pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_datetime64_any_dtype(raw) else (None, raw.isna(), {})
    oor = currency = None
    if spec_type == "datetime":
        out, bad, oor = parse_dates(raw, date_format=opts.get("date_format"), placeholders=placeholders)
    elif spec_type == "money":
        out, bad, currency = parse_amounts(raw, placeholders=placeholders)
    elif spec_type == "number":
        out, bad = parse_number(raw, placeholders=placeholders)
    elif spec_type == "bool":
        out, bad = parse_bool(
            raw,
            true_values=opts.get("true_values") or DEFAULT_TRUE_VALUES,
            false_values=opts.get("false_values") or DEFAULT_FALSE_VALUES,
            placeholders=placeholders,
        )
        blank = blank & out.isna()
    elif spec_type == "id":
        if pd.api.types.is_float_dtype(raw):
            raw = raw.astype("Int64")
        out, blank, counts = clean_text(raw, placeholders)
        out = out.str.replace(r"\.0$", "", regex=True) if pd.api.types.is_numeric_dtype(raw) else out
        bad = pd.Series(False, index=raw.index)
    else:  # category / text
        out, blank, counts = clean_text(raw, placeholders)
        bad = pd.Series(False, index=raw.index)
    return _Parsed(out, blank.astype(bool), bad.astype(bool), counts, oor, currency)


_IDENTIFIER_RE = re.compile(r"^\+?\d[\d \-]*\d$")


def _identifier_share(sample: pd.Series) -> float:
    """Share of values that are long digit strings (11+ digits, maybe with ``+``, spaces or
    dashes): identifiers such as phone, ID or card numbers, which must stay text (as numbers a
    19-digit card loses digits and ``+86 138 ...`` becomes one number)."""
    text = sample.astype("string").str.strip()
    digits = text.str.count(r"\d")
    return float((text.str.match(_IDENTIFIER_RE) & (digits >= 11)).mean()) if len(text) else 0.0


def _infer_extra(raw: pd.Series, placeholders: tuple[str, ...] | list[str]) -> tuple[pd.Series, str]:
    """Type an unmapped extra column: number, datetime, bool or category/text."""
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_datetime64_any_dtype(raw):
        return raw, "number" if pd.api.types.is_numeric_dtype(raw) else "datetime"
    text, blank, _ = clean_text(raw, placeholders)
    n = int((~blank).sum())
    if n == 0:
        return text, "text"
    # decide on a sample first, so a text column is not run through every parser in full
    sample = raw[~blank].head(2000)
    if _identifier_share(sample) >= 0.9:  # phones, ID and card numbers, long order numbers
        return text, "category" if text.nunique() <= max(50, 0.5 * n) else "text"
    if parse_number(sample, placeholders=placeholders)[1].mean() <= 0.001:
        num, bad = parse_number(raw, placeholders=placeholders)
        if bad.sum() <= 0.001 * n:
            return num, "number"
    low = text.str.lower()
    vals = set(low.dropna().unique()[:10])
    if len(vals) <= 2 and vals <= {v.lower() for v in DEFAULT_TRUE_VALUES + DEFAULT_FALSE_VALUES}:
        b, _ = parse_bool(raw, placeholders=placeholders)
        return b, "bool"
    if text.str.len().median() >= 6 and parse_datetime(sample, placeholders=placeholders)[1].mean() <= 0.001:
        dt, badd = parse_datetime(raw, placeholders=placeholders)
        if badd.sum() <= 0.001 * n:
            return dt, "datetime"
    return text, "category" if text.nunique() <= max(50, 0.5 * n) else "text"


def apply_contract(
    raw: pd.DataFrame,
    table: str,
    *,
    columns: Mapping[str, str],
    constants: Mapping[str, Any] | None = None,
    keep_extra_columns: bool = True,
    placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS,
    max_unparseable_share: float = 0.01,
    options: Mapping[str, Any] | None = None,
    source: Mapping[str, Any] | None = None,
    params_prefix: str | None = None,
    currency: str | None = None,
) -> LoadedTable:
    """Map a raw table onto the contract and parse every column to its type.

    Parameters
    ----------
    raw : pandas.DataFrame or workbench.core.scan.ScannedTable
        The table as read (never modified); a CSV scanned by DuckDB
        (:func:`workbench.core.scan.scan_csv`) brings its mapped columns already parsed.
    table : str
        Contract table name, one of :data:`TABLES`.
    columns : mapping
        Canonical name -> source header. The special source ``@index`` numbers the rows from 1
        (for files without a key, e.g. an order log without order ids).
    constants : mapping, optional
        Canonical name -> constant value for columns the file does not have (e.g. a single
        campaign's ``campaign_id``).
    keep_extra_columns : bool, default True
        Keep unmapped source columns (typed by inference) after the canonical ones.
    placeholders : sequence of str
        Texts that mean "no value".
    max_unparseable_share : float, default 0.01
        Largest share of non-blank values per column allowed to be unparseable; above it the
        intake stops. Below it the values become missing and are reported.
    options : mapping, optional
        ``date_format``, ``true_values``, ``false_values``.
    source : mapping, optional
        Where the raw table came from (kept in the result).
    params_prefix : str, optional
        Params path of this table (``tables.orders``) for error messages.
    currency : str, optional
        The report currency (params ``currency``, ``¥``); a money column whose markers all name
        another currency gets a warning.

    Returns
    -------
    LoadedTable
        Dates ``datetime64[ns]`` cannot hold (``2999-01-01``) are blank and counted
        (``ColumnReport.n_out_of_range``); their text is kept in :func:`out_of_range_column`.
        When only ``marketing_opt_out`` is mapped, ``marketing_consent`` is its negation.

    Raises
    ------
    ContractError
        Unknown table or canonical column, a required column not mapped, a mapped header not in
        the file, too many unparseable values, a required column entirely empty, or a money
        column with amounts in more than one currency.

    Warns
    -----
    DataQualityWarning
        Out-of-range dates; a money column in another currency than ``currency``.
    """
    if table not in TABLES:
        raise ContractError(table, f"is not a contract table; choose one of {sorted(TABLES)}")
    spec = TABLES[table]
    prefix = params_prefix or f"tables.{table}"
    options = dict(options or {})
    constants = dict(constants or {})
    headers = _step_check_mapping(raw, spec, columns=columns, constants=constants, prefix=prefix)
    out: dict[str, pd.Series] = {}
    reports: list[ColumnReport] = []
    markers: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name in columns:
            values, report, marker = _step_mapped_column(
                raw, spec, col, columns[col.name], options=options, placeholders=placeholders,
                max_unparseable_share=max_unparseable_share, prefix=prefix, currency=currency,
            )  # fmt: skip
            if marker is not None:
                markers[out_of_range_column(col.name)] = marker
        elif col.name in constants:
            values, report = _step_constant_column(raw, spec, col, constants[col.name], options=options)
        else:
            continue
        out[col.name] = values
        reports.append(report)
    _step_derived_consent(spec, out, reports)
    out.update(markers)
    if keep_extra_columns:
        _step_extra_columns(raw, spec, headers, columns=columns, placeholders=placeholders, out=out, reports=reports)
    frame = pd.DataFrame(out, index=raw.index, copy=False).reset_index(drop=True)  # copy-on-write: no copy
    return LoadedTable(name=table, frame=frame, source=dict(source or {}), columns=reports)


def _step_check_mapping(
    raw: pd.DataFrame,
    spec: TableSpec,
    *,
    columns: Mapping[str, str],
    constants: Mapping[str, Any],
    prefix: str,
) -> list[str]:
    """Check the column mapping against the contract and the file; return the file's headers.

    Raises
    ------
    ContractError
        An unknown canonical column, a required column not mapped, or a mapped header that is
        not in the file (each with a did-you-mean).
    """
    table = spec.name
    unknown = [c for c in list(columns) + list(constants) if c not in spec.names]
    if unknown:
        hints = [f"{u!r}{did_you_mean(u, spec.names)}" for u in unknown]
        raise ContractError(
            table,
            f"maps unknown canonical column(s) {', '.join(hints)}; the contract columns are "
            f"{', '.join(spec.names)}",
            params_key=f"{prefix}.columns",
        )
    missing = [c for c in spec.required if c not in columns and c not in constants]
    if missing:
        raise ContractError(
            table,
            f"required column(s) {', '.join(missing)} not mapped; add them under "
            f"{prefix}.columns as  canonical_name: <header in your file>",
            params_key=f"{prefix}.columns",
        )
    headers = [str(h) for h in raw.columns]
    absent = [(c, h) for c, h in columns.items() if h != "@index" and h not in headers]
    if absent:
        parts = [f"{c} -> {h!r}{did_you_mean(h, headers, cutoff=0.5)}" for c, h in absent]
        raise ContractError(
            table,
            f"mapped header(s) not found in the file: {'; '.join(parts)}. The file's headers "
            f"are: {', '.join(headers[:30])}",
            params_key=f"{prefix}.columns",
        )
    return headers


def _step_mapped_column(
    raw: pd.DataFrame,
    spec: TableSpec,
    col: ColumnSpec,
    src: str,
    *,
    options: Mapping[str, Any],
    placeholders: tuple[str, ...] | list[str],
    max_unparseable_share: float,
    prefix: str,
    currency: str | None = None,
) -> tuple[pd.Series, ColumnReport, pd.Series | None]:
    """Parse one mapped column (``@index`` numbers the rows); stop on too many bad values.

    Returns
    -------
    values : pandas.Series
    report : ColumnReport
    marker : pandas.Series or None
        For a date column with out-of-range dates: their source text (``<NA>`` elsewhere).

    Raises
    ------
    ContractError
        More unparseable values than ``max_unparseable_share``, a required column that is
        entirely blank, or amounts in more than one currency.
    """
    table, n = spec.name, len(raw)
    if src == "@index":
        values = pd.Series(np.arange(1, n + 1), index=raw.index).astype("string")
        return values, ColumnReport(table, col.name, "@index", col.type, n), None
    parsed, text = _parsed_column(raw, src, col.type, opts=options, placeholders=placeholders)
    facts = column_facts(parsed, text, np.arange(n))
    report = judge_column(facts, spec, col, src, raw_examples=lambda: example_values(raw[src].astype(str)),
                          max_unparseable_share=max_unparseable_share, prefix=prefix, currency=currency)  # fmt: skip
    marker = None
    if report.n_out_of_range:
        assert parsed.out_of_range is not None
        marker = text.astype("string").where(parsed.out_of_range)
    return parsed.values, report, marker


@dataclass
class ColumnFacts:
    """What the checks of one mapped column need, gathered from its parse (whole, or batch by
    batch: :meth:`merge`), so a table parsed in the engine is judged as a pandas frame is.

    Attributes
    ----------
    n_rows, n_blank, n_bad : int
        Rows; blank or placeholder rows; unparseable rows.
    bad_examples : list of str
        First distinct unparseable raw values (up to 5, in row order).
    placeholders : dict
        Placeholder text -> rows.
    n_oor : int
        Out-of-range dates; ``oor_examples`` and ``oor_rows`` (0-based positions) the first 5.
    currencies : dict
        Currency code -> rows; ``currency_examples`` and ``currency_rows`` the first 5 of each.
    """

    n_rows: int
    n_blank: int = 0
    n_bad: int = 0
    bad_examples: list[Any] = field(default_factory=list)
    placeholders: dict[str, int] = field(default_factory=dict)
    n_oor: int = 0
    oor_examples: list[Any] = field(default_factory=list)
    oor_rows: list[int] = field(default_factory=list)
    currencies: dict[str, int] = field(default_factory=dict)
    currency_examples: dict[str, list[Any]] = field(default_factory=dict)
    currency_rows: dict[str, list[int]] = field(default_factory=dict)

    def merge(self, other: ColumnFacts) -> None:
        """Add the facts of another batch of rows of the same column (``n_rows`` stays)."""
        self.n_blank += other.n_blank
        self.n_bad += other.n_bad
        self.bad_examples = _first(self.bad_examples + other.bad_examples)
        for k, v in other.placeholders.items():
            self.placeholders[k] = self.placeholders.get(k, 0) + v
        self.n_oor += other.n_oor
        self.oor_examples = _first(self.oor_examples + other.oor_examples)
        self.oor_rows = (self.oor_rows + other.oor_rows)[:5]
        for code, k in other.currencies.items():
            self.currencies[code] = self.currencies.get(code, 0) + k
            self.currency_examples[code] = _first(self.currency_examples.get(code, []) + other.currency_examples[code])
            self.currency_rows[code] = (self.currency_rows.get(code, []) + other.currency_rows[code])[:5]
        self.currencies = dict(sorted(self.currencies.items(), key=lambda kv: -kv[1]))


def _first(values: list[Any], limit: int = 5) -> list[Any]:
    """The first ``limit`` distinct values of a list, in order."""
    return list(dict.fromkeys(values))[:limit]


def column_facts(parsed: _Parsed, text: pd.Series, positions: np.ndarray, n_rows: int | None = None) -> ColumnFacts:
    """The :class:`ColumnFacts` of a parse.

    Parameters
    ----------
    parsed : _Parsed
        The parse (:func:`_parse_column`) of some rows of a column.
    text : pandas.Series
        Their raw text (at least the rows that are unparseable, out of range or carry a
        currency marker; aligned on ``parsed``'s index).
    positions : numpy.ndarray
        0-based row position in the table of each parsed row.
    n_rows : int, optional
        Rows of the table (default: the rows parsed).
    """
    bad = parsed.bad
    facts = ColumnFacts(len(bad) if n_rows is None else n_rows, n_blank=int(parsed.blank.sum()),
                        n_bad=int(bad.sum()), placeholders=dict(parsed.counts))  # fmt: skip
    if facts.n_bad:
        facts.bad_examples = example_values(text[bad].astype(str))
    oor = parsed.out_of_range
    if oor is not None and oor.any():
        facts.n_oor = int(oor.sum())
        facts.oor_examples = example_values(text.astype("string").where(oor)[oor])
        facts.oor_rows = positions[oor.to_numpy(dtype=bool)][:5].tolist()
    if parsed.currency is not None:
        codes = parsed.currency
        for code, k in codes.value_counts().items():
            hit = (codes == code).fillna(False).astype(bool)
            facts.currencies[str(code)] = int(k)
            facts.currency_examples[str(code)] = example_values(text[hit].astype(str))
            facts.currency_rows[str(code)] = positions[hit.to_numpy(dtype=bool)][:5].tolist()
    return facts


def judge_column(
    facts: ColumnFacts,
    spec: TableSpec,
    col: ColumnSpec,
    src: str,
    *,
    raw_examples: Any,
    max_unparseable_share: float,
    prefix: str,
    currency: str | None = None,
) -> ColumnReport:
    """The checks of one mapped column on its :class:`ColumnFacts`: stop on too many
    unparseable values, a required column entirely blank or mixed currencies; warn on
    out-of-range dates and another currency than the report's. Returns the column's report.

    ``raw_examples`` is a callable giving the first distinct raw values of the column (asked only
    for a required column that is entirely blank).
    """
    table, n = spec.name, facts.n_rows
    n_bad = facts.n_bad
    n_nonblank = n - facts.n_blank
    examples = facts.bad_examples if n_bad else []
    if n_bad and n_bad > max_unparseable_share * max(n_nonblank, 1):
        raise ContractError(
            table,
            f"cannot be read as {col.type} ({n_bad / max(n_nonblank, 1):.1%} of non-blank "
            f"values, tolerance {max_unparseable_share:.1%})",
            column=col.name,
            source_column=src,
            n_rows=n_bad,
            n_total=n,
            examples=examples,
            params_key=(
                f"{prefix}.columns.{col.name} (or {prefix}.date_format, "
                f"intake.max_unparseable_share)"
                if col.type == "datetime"
                else f"{prefix}.columns.{col.name} (or intake.max_unparseable_share)"
            ),
        )
    if col.required and n_nonblank == 0 and n > 0:
        raise ContractError(
            table,
            "is required but every value is blank or a placeholder",
            column=col.name,
            source_column=src,
            n_rows=n,
            n_total=n,
            examples=raw_examples(),
            params_key=f"{prefix}.columns.{col.name}",
        )
    report = ColumnReport(
        table, col.name, src, col.type, n,
        n_blank=facts.n_blank, n_unparseable=n_bad, examples=examples, placeholders=facts.placeholders,
    )  # fmt: skip
    if facts.n_oor:
        _warn_out_of_range(facts, report, prefix=prefix)
    if col.type == "money":
        report.currencies = _check_currencies(facts, report, prefix=prefix, currency=currency)
    return report


def _parsed_column(
    raw: Any, src: str, spec_type: str, *, opts: Mapping[str, Any], placeholders: tuple[str, ...] | list[str]
) -> tuple[_Parsed, pd.Series]:
    """The parse of column ``src`` and its raw text: a DataFrame's column through
    :func:`_parse_column`; a :class:`workbench.core.scan.ScannedTable` gives the parse done in its
    scan and the raw text of the rows the checks look at (unparseable, out of range, currency)."""
    parse = getattr(raw, "parse_column", None)
    if parse is not None:
        return parse(src, spec_type, opts=opts, placeholders=placeholders)
    text = raw[src]
    return _parse_column(text, spec_type, opts=opts, placeholders=placeholders), text


def _row_numbers(rows: list[int], total: int, limit: int = 5) -> str:
    """``data rows 3, 8, 12`` (1 = the first row after the header) of the first ``limit`` of
    ``rows`` (0-based positions), ``...`` when ``total`` is larger."""
    pos = [r + 1 for r in rows[:limit]]
    more = " ..." if total > limit else ""
    return "data row" + ("s" if len(pos) > 1 else "") + " " + ", ".join(map(str, pos)) + more


def _where(report: ColumnReport) -> str:
    """``orders.order_time (from '下单时间')`` for a message."""
    where = f"{report.table}.{report.column}"
    return where + (f" (from {report.source!r})" if report.source != report.column else "")


def _warn_out_of_range(facts: ColumnFacts, report: ColumnReport, *, prefix: str) -> None:
    """Count the out-of-range dates in ``report`` and warn."""
    report.n_out_of_range = facts.n_oor
    report.out_of_range_examples = list(facts.oor_examples)
    lo, hi = (d.date() for d in DATETIME_RANGE)
    warnings.warn(
        f"{_where(report)}: {report.n_out_of_range:,} of {report.n_rows:,} rows hold a date outside "
        f"{lo}..{hi} ({_row_numbers(facts.oor_rows, facts.n_oor)}), e.g. "
        f"{format_examples(report.out_of_range_examples)}; they are blank in {report.column} and "
        f"kept as text in {out_of_range_column(report.column)}. The cleaning rule "
        f"cleaning.out_of_range_dates drops, flags or keeps them; or fix the file "
        f"({prefix}.columns.{report.column})",
        DataQualityWarning,
        stacklevel=5,
    )


def _check_currencies(facts: ColumnFacts, report: ColumnReport, *, prefix: str, currency: str | None) -> dict[str, int]:
    """Currency code -> rows of a money column; stop when it mixes currencies, warn when its one
    currency is not the report currency.

    Raises
    ------
    ContractError
        More than one currency among the values' markers.
    """
    counts = dict(facts.currencies)
    if len(counts) > 1:
        parts = []
        for code, k in counts.items():
            parts.append(f"{code} ×{k:,} (e.g. {format_examples(facts.currency_examples[code], 3)}; "
                         f"{_row_numbers(facts.currency_rows[code], k, 3)})")  # fmt: skip
        raise ContractError(
            report.table,
            f"carry a currency marker, in {len(counts)} currencies: {', '.join(parts)}. Amounts in different currencies cannot be added up: split "
            f"the file by currency or convert the amounts to one currency before intake (the "
            f"params key currency is only the currency reports show)",
            column=report.column,
            source_column=report.source,
            n_rows=sum(counts.values()),
            n_total=report.n_rows,
            params_key=f"{prefix}.columns.{report.column} / currency",
        )
    want = currency_code(currency) if currency else None
    if len(counts) == 1 and want is not None and next(iter(counts)) != want:
        code = next(iter(counts))
        warnings.warn(
            f"{_where(report)}: every currency marker is {code} (e.g. "
            f"{format_examples(facts.currency_examples[code], 3)}) but the params currency is "
            f"{currency!r} ({want}); reports will show the amounts as {currency}. Set currency: to "
            f"the symbol of {code} if the amounts are in {code}",
            DataQualityWarning,
            stacklevel=5,
        )
    return counts


def _step_constant_column(
    raw: pd.DataFrame, spec: TableSpec, col: ColumnSpec, value: Any, *, options: Mapping[str, Any]
) -> tuple[pd.Series, ColumnReport]:
    """A column the file does not have, filled with one constant (parsed to the column's type)."""
    n = len(raw)
    parsed = _parse_column(
        pd.Series([value] * n, index=raw.index, dtype=object), col.type, opts=options, placeholders=()
    )
    return parsed.values, ColumnReport(spec.name, col.name, f"@const {value!r}", col.type, n)


def _step_derived_consent(spec: TableSpec, out: dict[str, pd.Series], reports: list[ColumnReport]) -> None:
    """``marketing_consent = not marketing_opt_out`` when only the opt-out is mapped."""
    if spec.name != "customers" or "marketing_opt_out" not in out or "marketing_consent" in out:
        return
    opt_out = out["marketing_opt_out"].astype("boolean")
    out["marketing_consent"] = ~opt_out
    reports.append(ColumnReport(spec.name, "marketing_consent", "@not marketing_opt_out", "bool", len(opt_out),
                                n_blank=int(opt_out.isna().sum())))  # fmt: skip


def _step_extra_columns(
    raw: pd.DataFrame,
    spec: TableSpec,
    headers: list[str],
    *,
    columns: Mapping[str, str],
    placeholders: tuple[str, ...] | list[str],
    out: dict[str, pd.Series],
    reports: list[ColumnReport],
) -> None:
    """Append the unmapped source columns to ``out``/``reports``, typed by inference."""
    used = set(columns.values())
    for h in headers:
        if h in used or h in out:
            continue
        values, kind = _infer_extra(raw[h], placeholders)
        out[h] = values
        reports.append(ColumnReport(spec.name, h, h, kind, len(raw), n_blank=int(values.isna().sum()), extra=True))


def fast_isin(values: pd.Series, lookup: pd.Series | np.ndarray | pd.Index) -> np.ndarray:
    """``values.isin(lookup)`` as a numpy bool array, via a pyarrow hash lookup when both hold
    text (pandas' ``isin`` on Arrow strings converts the lookup values to Python objects one by
    one, which dominates on millions of keys). Missing values never match.

    Parameters
    ----------
    values : pandas.Series
    lookup : array-like

    Returns
    -------
    numpy.ndarray of bool
    """
    lk = pd.Series(lookup).dropna()
    if not len(lk) or not len(values):
        return np.zeros(len(values), dtype=bool)
    if pd.api.types.is_string_dtype(values) and pd.api.types.is_string_dtype(lk):
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            va = pa.array(values, from_pandas=True)
            vs = pa.array(lk.unique(), from_pandas=True)
            if vs.type != va.type:
                vs = vs.cast(va.type)
            out = pc.is_in(va, value_set=vs).to_numpy(zero_copy_only=False)
            return np.asarray(out, dtype=bool)
        except (pa.ArrowException, TypeError, ValueError):  # pragma: no cover - odd types
            pass
    return values.isin(lk).to_numpy(dtype=bool) & values.notna().to_numpy()


def check_references(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Count rows whose foreign key has no match in the referenced table.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Canonical frames by contract table name.

    Returns
    -------
    pandas.DataFrame
        One row per reference present: ``table``, ``column``, ``references``, ``n_rows``,
        ``n_unmatched``, ``examples``.
    """
    rows = []
    for name, frame in tables.items():
        spec = TABLES.get(name)
        if spec is None:
            continue
        for col, target in spec.references.items():
            t_table, t_col = target.split(".")
            if t_table not in tables or col not in frame or t_col not in tables[t_table]:
                continue
            keys = frame[col].dropna()
            miss = pd.Series(~fast_isin(keys, tables[t_table][t_col]), index=keys.index)
            rows.append(
                {
                    "table": name,
                    "column": col,
                    "references": target,
                    "n_rows": int(len(frame)),
                    "n_unmatched": int(miss.sum()),
                    "examples": ", ".join(map(repr, keys[miss].unique()[:5].tolist())),
                }
            )
    return pd.DataFrame(
        rows, columns=["table", "column", "references", "n_rows", "n_unmatched", "examples"]
    )


def pii_columns(table: str, frame: pd.DataFrame) -> list[str]:
    """Columns of ``frame`` holding personal data: contract PII columns plus any column whose
    header or values look personal (:func:`workbench.core.pii.detect_personal_data`).

    Parameters
    ----------
    table : str
        Contract table name.
    frame : pandas.DataFrame
        Canonical frame.

    Returns
    -------
    list of str
    """
    from workbench.core.pii import detect_personal_data

    canonical = {c.name: c.name for c in TABLES[table].columns if c.pii}
    return [pc.column for pc in detect_personal_data(frame, table, canonical_pii=canonical)]
