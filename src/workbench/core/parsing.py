"""Value parsers of the data contract: raw export values to typed Series.

Each parser takes a Series and returns ``(parsed Series, mask of unparseable values)``; input that
is already typed (numbers, datetimes from Parquet/Excel/DuckDB) passes through. They are applied
by :func:`workbench.core.contract.apply_contract` (and re-exported there); analysis code that
meets a raw flag or amount uses them too, so each word list and format exists once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_PLACEHOLDERS",
    "DEFAULT_TRUE_VALUES",
    "DEFAULT_FALSE_VALUES",
    "DATETIME_RANGE",
    "CURRENCY_MARKERS",
    "DateParse",
    "MoneyParse",
    "clean_text",
    "currency_code",
    "parse_dates",
    "parse_datetime",
    "parse_amounts",
    "parse_money",
    "parse_number",
    "parse_bool",
]

DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "", "未知", "不详", "无", "暂无", "空", "N/A", "NA", "n/a", "na", "#N/A", "NULL", "null",
    "None", "none", "NaN", "nan", "-", "--", "—", "?", "unknown", "Unknown",
)  # fmt: skip
DEFAULT_TRUE_VALUES: tuple[str, ...] = (
    "1", "true", "t", "yes", "y", "是", "有", "已", "对", "真", "1.0",
)  # fmt: skip
DEFAULT_FALSE_VALUES: tuple[str, ...] = (
    "0", "false", "f", "no", "n", "否", "无", "未", "假", "0.0",
)  # fmt: skip



_DATE_RE = re.compile(
    r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})日?"
    r"(?:[ T]+(?P<H>\d{1,2})[:时点](?P<M>\d{1,2})(?:[:分](?P<S>\d{1,2})(?:\.(?P<f>\d+))?秒?|分)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?$"
)
_COMPACT_RE = re.compile(r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?)?$")
_FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y%m%d", "%Y/%m/%d")
_EXCEL_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")


def clean_text(values: pd.Series, placeholders: tuple[str, ...] | list[str]) -> tuple[pd.Series, pd.Series, dict[str, int]]:
    """Strip text and turn placeholders into missing values.

    Parameters
    ----------
    values : pandas.Series
        Raw values (any dtype).
    placeholders : sequence of str
        Texts meaning "no value" (compared after stripping whitespace).

    Returns
    -------
    text : pandas.Series
        String series (pandas ``string`` dtype) with placeholders as ``<NA>``.
    blank : pandas.Series of bool
        True where the value was missing or a placeholder.
    counts : dict
        Placeholder text -> rows (only non-empty placeholders).
    """
    text = values.astype("string").str.strip()
    text = text.str.replace("\u3000", " ", regex=False).str.strip()
    ph = text.isin(list(placeholders))
    counts: dict[str, int] = {}
    if ph.any():
        vc = text[ph].value_counts()
        counts = {str(k): int(v) for k, v in vc.items() if str(k) != ""}
    blank = ph | text.isna()
    text = text.mask(blank)
    return text, blank.fillna(True).astype(bool), counts


DATETIME_RANGE: tuple[pd.Timestamp, pd.Timestamp] = (pd.Timestamp.min, pd.Timestamp.max)
"""The dates ``datetime64[ns]`` can hold (1677-09-21 .. 2262-04-11); a valid calendar date outside
it (``2999-01-01``, ``0001-01-01``, ``9999-12-31``) is *out of range*, not unparseable."""


class DateParse(NamedTuple):
    """Result of :func:`parse_dates`.

    Attributes
    ----------
    values : pandas.Series
        ``datetime64[ns]``; missing where blank, unparseable or out of range.
    bad : pandas.Series of bool
        A non-blank value that is not a date.
    out_of_range : pandas.Series of bool
        A valid date outside :data:`DATETIME_RANGE` (now missing in ``values``).
    """

    values: pd.Series
    bad: pd.Series
    out_of_range: pd.Series


def _assemble(parts: pd.DataFrame) -> pd.Series:
    """Date parts (``y m d H M S`` text) to ``datetime64[us]`` (NaT for an invalid date)."""
    num = parts.apply(pd.to_numeric, errors="coerce")
    for col in ("H", "M", "S"):
        if col not in num:
            num[col] = 0
        num[col] = num[col].fillna(0)
    frame = pd.DataFrame(
        {
            "year": num["y"],
            "month": num["m"],
            "day": num["d"],
            "hour": num["H"],
            "minute": num["M"],
            "second": num["S"],
        }
    )
    ok = frame.notna().all(axis=1)
    out = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[us]")
    if ok.any():
        got = pd.to_datetime(frame.loc[ok].astype("int64"), errors="coerce")
        out.loc[ok] = got.astype("datetime64[us]")
    return out


def _typed_dates(values: pd.Series) -> pd.Series:
    """Already typed datetimes (any unit, naive or aware) as naive ``datetime64[us]``."""
    out = values
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_convert(None)
    return out.astype("datetime64[us]")


def parse_dates(
    values: pd.Series,
    *,
    date_format: str | None = None,
    placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS,
) -> DateParse:
    """Parse dates and times written in mixed formats within one column.

    Recognised without a format: ``2024-03-05``, ``2024/3/5``, ``2024.3.5``,
    ``2024-03-05 14:22[:05]``, ``2024-03-05T14:22:05Z``, ``20240305``, ``20240305142205``,
    ``2024年03月05日 [14时22分]``, Excel serial day numbers (``45356``) and values already typed as
    dates. Ambiguous day/month-first styles (``05/03/2024``) need ``date_format``. A valid date
    that ``datetime64[ns]`` cannot hold (``2999-01-01``, ``0001-01-01``; see
    :data:`DATETIME_RANGE`) is reported in ``out_of_range``, not in ``bad``.

    Parameters
    ----------
    values : pandas.Series
        Raw values.
    date_format : str, optional
        A strftime format; when given it is tried first and the automatic rules fill the rest.
    placeholders : sequence of str
        Texts meaning "no value".

    Returns
    -------
    DateParse
        ``values`` (``datetime64[ns]``, timezone-naive), ``bad`` and ``out_of_range`` masks.

    Examples
    --------
    >>> r = parse_dates(pd.Series(["2024/3/5", "2999-01-01", "abc", "未知"]))
    >>> r.values.dt.strftime("%Y-%m-%d").tolist(), r.bad.tolist(), r.out_of_range.tolist()
    (['2024-03-05', nan, nan, nan], [False, False, True, False], [False, True, False, False])
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values.dt.tz_convert(None) if getattr(values.dt, "tz", None) is not None else values
        if str(out.dtype) == "datetime64[ns]":  # cannot be out of range; keep the nanoseconds
            return DateParse(out, pd.Series(False, index=values.index), pd.Series(False, index=values.index))
        out = _typed_dates(out)
        blank = out.isna()
    else:
        out, blank = _parse_date_text(values, date_format=date_format, placeholders=placeholders)
    lo, hi = DATETIME_RANGE
    oor = out.notna() & ((out < lo) | (out > hi))
    bad = (~blank) & out.isna()
    return DateParse(out.mask(oor).astype("datetime64[ns]"), bad.astype(bool), oor.astype(bool))


def _parse_date_text(
    values: pd.Series, *, date_format: str | None, placeholders: tuple[str, ...] | list[str]
) -> tuple[pd.Series, pd.Series]:
    """Text (or a mix of text and date objects) to ``datetime64[us]``; return it and the blank mask."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    if values.dtype == object:
        is_ts = values.notna() & values.map(lambda v: isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "year"))
        if is_ts.any():
            got = pd.to_datetime(values[is_ts].astype(object), errors="coerce")
            if not pd.api.types.is_datetime64_any_dtype(got):  # mixed time zones
                got = pd.to_datetime(values[is_ts].astype(object), errors="coerce", utc=True)
            out.loc[is_ts] = _typed_dates(got)
    else:
        is_ts = pd.Series(False, index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        text, blank, _ = clean_text(values.astype("Float64").astype("string").str.replace(r"\.0$", "", regex=True), placeholders)
    else:
        text, blank, _ = clean_text(values.mask(is_ts), placeholders)
    todo = ~blank & ~is_ts
    if date_format and todo.any():
        got = pd.to_datetime(text[todo], format=date_format, errors="coerce")
        out.loc[got.index[got.notna()]] = got[got.notna()].astype("datetime64[us]")
        todo = todo & out.isna()
    if todo.any():
        # fast path: common exact formats via the C parser, each tried only when a sample of the
        # values still unparsed matches it; the regex rules below take whatever is left
        for fmt in _FAST_FORMATS:
            rest_idx = todo[todo].index
            if len(rest_idx) == 0:
                break
            sample = text[rest_idx[:2000]]
            if pd.to_datetime(sample, format=fmt, errors="coerce").notna().any():
                got = pd.to_datetime(text[rest_idx], format=fmt, errors="coerce")
                ok = got.notna()
                out.loc[got.index[ok]] = got[ok].astype("datetime64[us]")
                todo = todo & out.isna()
    if todo.any():
        _parse_date_rules(text[todo], out)
    return out, blank & ~is_ts


def _parse_date_rules(sub: pd.Series, out: pd.Series) -> None:
    """The regex rules (``2024年3月5日``, ``20240305``, Excel serials) for the values the fast
    formats left; writes into ``out``."""
    parts = sub.str.extract(_DATE_RE)
    hit = parts["y"].notna()
    if hit.any():
        out.loc[parts.index[hit]] = _assemble(parts.loc[hit, ["y", "m", "d", "H", "M", "S"]])
    rest = sub[~hit]
    if len(rest):
        parts = rest.str.extract(_COMPACT_RE)
        hit2 = parts["y"].notna()
        if hit2.any():
            out.loc[parts.index[hit2]] = _assemble(parts.loc[hit2])
        rest = rest[~hit2]
    if len(rest):
        serial = rest.str.match(_EXCEL_SERIAL_RE).fillna(False).astype(bool)
        if serial.any():
            days = pd.to_numeric(rest[serial], errors="coerce").astype(float)
            plausible = days.between(20000, 80000)  # 1954 .. 2119
            idx = days.index[plausible]
            got = pd.Timestamp("1899-12-30") + pd.to_timedelta(days[plausible], unit="D")
            out.loc[idx] = got.astype("datetime64[us]")


def parse_datetime(
    values: pd.Series,
    *,
    date_format: str | None = None,
    placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS,
) -> tuple[pd.Series, pd.Series]:
    """Parse dates (:func:`parse_dates`) and return ``(parsed, bad)``.

    Here ``bad`` also holds the out-of-range dates (``2999-01-01``): a caller that must tell them
    apart from text that is not a date uses :func:`parse_dates`.

    Parameters
    ----------
    values : pandas.Series
        Raw values.
    date_format : str, optional
        A strftime format tried first.
    placeholders : sequence of str
        Texts meaning "no value".

    Returns
    -------
    parsed : pandas.Series
        ``datetime64[ns]`` (timezone-naive).
    bad : pandas.Series of bool
        True where a non-blank value is not a date ``datetime64[ns]`` can hold.

    Examples
    --------
    >>> s = pd.Series(["2024/3/5", "2024-03-05 14:22", "20240305", "2024年03月05日", "未知"])
    >>> parse_datetime(s)[0].dt.strftime("%Y-%m-%d %H:%M").tolist()[:4]
    ['2024-03-05 00:00', '2024-03-05 14:22', '2024-03-05 00:00', '2024-03-05 00:00']
    """
    got = parse_dates(values, date_format=date_format, placeholders=placeholders)
    return got.values, got.bad | got.out_of_range


def _parse_float(
    values: pd.Series,
    *,
    placeholders: tuple[str, ...] | list[str],
    rest: Callable[[pd.Series], pd.Series],
) -> tuple[pd.Series, pd.Series]:
    """Text to float: plain numbers go straight through the C parser; only the values it cannot
    read are NFKC-normalised (when not ASCII) and handed to ``rest`` to clean and parse."""
    text, blank, _ = clean_text(values, placeholders)
    num = pd.to_numeric(text, errors="coerce").astype("float64")
    todo = (~blank) & num.isna()
    if todo.any():
        t = text[todo]
        if not t.str.isascii().all():
            t = t.str.normalize("NFKC")
        got = rest(t)
        num.loc[got.index] = got
    return num, (~blank) & num.isna()


CURRENCY_MARKERS: tuple[tuple[str, str], ...] = (
    ("USD", r"US\$|USD|美元|美金"),
    ("HKD", r"HK\$|HKD|港币|港元"),
    ("EUR", r"€|EUR|欧元"),
    ("GBP", r"£|GBP|英镑"),
    ("JPY", r"JPY|円|日元"),
    ("CNY", r"[¥￥]|RMB|CNY|人民币|元|圆|块"),
    ("USD", r"\$"),
)
"""ISO code and the markers that mean it (checked in this order, case-insensitive, after NFKC
normalisation: ``美元`` is USD before ``元`` is CNY, ``HK$`` is HKD before ``$`` is USD)."""
_CURRENCY_RES = tuple((code, re.compile(rx, re.IGNORECASE)) for code, rx in CURRENCY_MARKERS)
_MONEY_STRIP = re.compile(
    "|".join(rx for _, rx in CURRENCY_MARKERS) + r"|[,，\s]", re.IGNORECASE
)


class MoneyParse(NamedTuple):
    """Result of :func:`parse_amounts`.

    Attributes
    ----------
    values : pandas.Series of float64
        Amounts; NaN where blank or unparseable.
    bad : pandas.Series of bool
        A non-blank value that is not an amount.
    currency : pandas.Series of str
        ISO code of the currency marker a value carries (``CNY`` for ``¥12``, ``12元``,
        ``RMB 8``; ``USD`` for ``$3``), ``<NA>`` where it carries none.
    """

    values: pd.Series
    bad: pd.Series
    currency: pd.Series


def currency_code(marker: str) -> str | None:
    """The ISO code of a currency symbol, code or word (``"¥"`` -> ``"CNY"``), or None.

    Parameters
    ----------
    marker : str
        What the params ``currency`` or a value holds.

    Returns
    -------
    str or None

    Examples
    --------
    >>> currency_code("¥"), currency_code("$"), currency_code("EUR"), currency_code("pts")
    ('CNY', 'USD', 'EUR', None)
    """
    import unicodedata

    text = unicodedata.normalize("NFKC", str(marker))
    for code, rx in _CURRENCY_RES:
        if rx.search(text):
            return code
    return None


def _currencies(t: pd.Series) -> pd.Series:
    """Currency code per value (first marker of :data:`CURRENCY_MARKERS` found), ``<NA>`` for none."""
    out = pd.Series(pd.NA, index=t.index, dtype="string")
    for code, rx in _CURRENCY_RES:
        hit = out.isna() & t.str.contains(rx, regex=True).fillna(False).astype(bool)
        out = out.mask(hit, code)
    return out


def parse_amounts(
    values: pd.Series, *, placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS
) -> MoneyParse:
    """Parse money amounts such as ``￥1,234.50``, ``1234.5元``, ``USD 5``, ``(12.00)``, ``-3.5``
    and note the currency marker each carries.

    Parentheses and a trailing minus mean negative. Full-width digits are normalised. The
    markers are stripped whatever the currency: whether one column mixes currencies is the
    caller's check (:func:`workbench.core.contract.apply_contract` stops on it).

    Parameters
    ----------
    values : pandas.Series
        Raw values (numbers pass through, with no currency).
    placeholders : sequence of str
        Texts meaning "no value".

    Returns
    -------
    MoneyParse
        ``values``, ``bad`` and ``currency`` (ISO code per value).

    Examples
    --------
    >>> r = parse_amounts(pd.Series(["¥12.5", "$3", "12元", "7", "abc"]))
    >>> r.values.tolist(), r.currency.tolist()
    ([12.5, 3.0, 12.0, 7.0, nan], ['CNY', 'USD', 'CNY', <NA>, <NA>])
    """
    currency = pd.Series(pd.NA, index=values.index, dtype="string")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return MoneyParse(values.astype("float64"), pd.Series(False, index=values.index), currency)

    def rest(t: pd.Series) -> pd.Series:
        currency.loc[t.index] = _currencies(t)
        neg = t.str.match(r"^\(.*\)$").fillna(False) | t.str.endswith("-").fillna(False)
        t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.rstrip("-")
        got = pd.to_numeric(t.str.replace(_MONEY_STRIP, "", regex=True), errors="coerce").astype("float64")
        return got.where(~neg.astype(bool), -got.abs())

    num, bad = _parse_float(values, placeholders=placeholders, rest=rest)
    return MoneyParse(num, bad, currency)


def parse_money(
    values: pd.Series, *, placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS
) -> tuple[pd.Series, pd.Series]:
    """Parse money amounts (:func:`parse_amounts`) and return ``(parsed, bad)``.

    Returns
    -------
    parsed : pandas.Series of float64
    bad : pandas.Series of bool
        True where a non-blank value could not be parsed.

    Examples
    --------
    >>> parse_money(pd.Series(["￥1,234.50", "(12.00)", "3元", "abc"]))[0].tolist()
    [1234.5, -12.0, 3.0, nan]
    """
    got = parse_amounts(values, placeholders=placeholders)
    return got.values, got.bad


def parse_number(
    values: pd.Series, *, placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS
) -> tuple[pd.Series, pd.Series]:
    """Parse plain numbers (thousands separators and percent signs allowed; ``5%`` -> 0.05)."""
    if pd.api.types.is_numeric_dtype(values):  # booleans included: True -> 1.0
        return values.astype("float64"), pd.Series(False, index=values.index)

    def rest(t: pd.Series) -> pd.Series:
        t = t.str.replace(r"[,\s]", "", regex=True)
        pct = t.str.endswith("%").fillna(False).astype(bool)
        got = pd.to_numeric(t.str.rstrip("%"), errors="coerce").astype("float64")
        return got.where(~pct, got / 100.0)

    return _parse_float(values, placeholders=placeholders, rest=rest)


def parse_bool(
    values: pd.Series,
    *,
    true_values: tuple[str, ...] | list[str] = DEFAULT_TRUE_VALUES,
    false_values: tuple[str, ...] | list[str] = DEFAULT_FALSE_VALUES,
    placeholders: tuple[str, ...] | list[str] = DEFAULT_PLACEHOLDERS,
) -> tuple[pd.Series, pd.Series]:
    """Parse yes/no flags (``Yes``/``No``, ``是``/``否``, ``1``/``0``, ``True``/``False``).

    The one yes/no word list of the package: use it wherever a flag column is read.

    * ``bool`` / ``boolean`` Series pass through (missing stays ``<NA>``).
    * Numbers are read through their text: ``1``/``0`` and ``1.0``/``0.0`` are in the default
      word lists, so 0/1 columns (int or float) parse; missing numbers are blank (``<NA>``);
      any other number (``2``, ``0.5``) is unparseable.
    * Text is stripped and compared case-insensitively with ``true_values`` /
      ``false_values``; placeholders (:data:`DEFAULT_PLACEHOLDERS`) are blank, except those
      that are also a word (``无`` means False).

    Parameters
    ----------
    values : pandas.Series
        Raw flags (bool, numeric or text).
    true_values, false_values : sequence of str, default :data:`DEFAULT_TRUE_VALUES`, :data:`DEFAULT_FALSE_VALUES`
        Words meaning yes / no (case-insensitive).
    placeholders : sequence of str, default :data:`DEFAULT_PLACEHOLDERS`
        Texts meaning "no value".

    Returns
    -------
    parsed : pandas.Series of pandas ``boolean`` dtype (nullable)
        True / False, ``<NA>`` where blank or unparseable.
    bad : pandas.Series of bool
        True where a non-blank value is not a yes/no word.

    Examples
    --------
    >>> parse_bool(pd.Series(["是", "否", "", "maybe"]))[0].tolist()
    [True, False, <NA>, <NA>]
    >>> parse_bool(pd.Series([1, 0, None]))[0].tolist()
    [True, False, <NA>]
    >>> parse_bool(pd.Series([True, False]))[1].tolist()
    [False, False]
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    tv = {str(v).lower() for v in true_values}
    fv = {str(v).lower() for v in false_values}
    # a value that is both a placeholder and a false word ("无") counts as False
    ph = [p for p in placeholders if p.lower() not in fv and p.lower() not in tv]
    text, blank, _ = clean_text(values, ph)
    low = text.str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out = out.mask(low.isin(tv).fillna(False).astype(bool), True)
    out = out.mask(low.isin(fv).fillna(False).astype(bool), False)
    bad = (~blank) & out.isna()
    return out, bad
