"""Personal data: keyed pseudonyms, masks for every kind, and the treatment of detected columns.

Reports and exported artifacts never show personal data raw unless the params allow it
(``privacy.allow_personal_data``, ``privacy.allow_raw_keys``). Masks keep just enough of a value
to recognise its shape (``138****5678``, ``z***@example.com``, ``张*``) and are idempotent (a
masked value masks to itself). Pseudonyms are HMAC-SHA256 of the value keyed by the secret
(``privacy.secret()``), deterministic for one secret, so tables pseudonymized with the same
secret still join, and not recomputable without it.

:func:`protect_table` applies the treatment of each column found by
:func:`workbench.core.pii.detect_personal_data`; :func:`protect` is the one-call version (detect,
treat, pseudonymize keys) taking the fields of the ``privacy`` params.

Everything works on the distinct values of a column and maps back, so a 10-million-row column
with one million customers costs one million hashes, not ten.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.contract import TABLES
from workbench.core.params import DEFAULT_SECRET
from workbench.core.pii import (
    FALLBACK_KIND,
    PENDING,
    PII_KINDS,
    PersonalColumn,
    detect_column,
    detect_personal_data,
    header_kind,
    phone_digits,
)

__all__ = [
    "mask_in_text",
    "MaskKind",
    "MASK_KINDS",
    "PSEUDONYM_PREFIX",
    "pseudonymize",
    "mask_value",
    "mask_series",
    "pii_kind",
    "contract_pii_kinds",
    "protect_table",
    "protect",
]

MaskKind = Literal["name", "phone", "email", "id_number", "bank_card", "address", "generic"]
MASK_KINDS: tuple[str, ...] = (*PII_KINDS, "generic")
#: Prefix of the pseudonyms :func:`protect_table` writes, by kind (customer keys get ``C``).
PSEUDONYM_PREFIX: dict[str, str] = {
    "name": "N", "phone": "P", "email": "E", "id_number": "I", "bank_card": "B", "address": "A",
}  # fmt: skip
_KEY_PREFIX = "C"


def pseudonymize(keys: pd.Series, *, salt: str, prefix: str = "C", length: int = 12) -> pd.Series:
    """Replace keys by keyed pseudonyms: ``prefix`` + the first ``length`` hex digits of
    ``HMAC-SHA256(salt, key)``.

    The same key and secret always give the same pseudonym, so tables pseudonymized with one
    secret still join; another secret gives unrelated pseudonyms, and without the secret a
    pseudonym cannot be recomputed from a guessed key. Each distinct key is hashed once.

    Parameters
    ----------
    keys : pandas.Series
        Keys of any dtype (compared as text: ``1001`` and ``"1001"`` give the same pseudonym).
    salt : str
        Secret key of the HMAC (``privacy.secret()``).
    prefix : str, default "C"
        Text put before the hex digits.
    length : int, default 12
        Hex digits kept (1-64).

    Returns
    -------
    pandas.Series
        Pseudonyms, pandas ``string`` dtype, same index; missing keys stay missing.

    Raises
    ------
    ValueError
        ``length`` outside 1-64.

    Examples
    --------
    >>> s = pseudonymize(pd.Series(["1001", None]), salt="s")
    >>> s.iloc[0].startswith("C"), len(s.iloc[0]), pd.isna(s.iloc[1])
    (True, 13, True)
    """
    if not 1 <= length <= 64:
        raise ValueError(f"length must be between 1 and 64, got {length}")
    digest = hmac_sha256_hex(salt.encode("utf-8"))
    return _map_distinct(keys, lambda k: prefix + digest(str(k).encode("utf-8"))[:length])


def hmac_sha256_hex(key: bytes) -> Callable[[bytes], str]:
    """HMAC-SHA256 under one ``key`` as a function of the message, hex digest (RFC 2104).

    The key's inner and outer hash states are computed once and copied per message, which is
    about twice as fast as ``hmac.new`` per value on millions of keys, with the same digests.

    Parameters
    ----------
    key : bytes
        The secret.

    Returns
    -------
    callable
        ``message -> hex digest`` (64 characters).

    Examples
    --------
    >>> import hmac
    >>> hmac_sha256_hex(b"s")(b"1001") == hmac.new(b"s", b"1001", hashlib.sha256).hexdigest()
    True
    """
    block = hashlib.sha256().block_size
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(message: bytes) -> str:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.hexdigest()

    return digest


def _map_distinct(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """``func`` applied once per distinct non-missing value, mapped back; ``string`` dtype."""
    return _map_uniques(values, lambda uniques: [func(u) for u in uniques.tolist()])  # tolist: no per-item Arrow access


def _map_uniques(values: pd.Series, func: Callable[[np.ndarray], list[Any]]) -> pd.Series:
    """``func`` applied to the distinct non-missing values at once (one result each, in their
    order), mapped back; ``string`` dtype."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = func(uniques)
    out = np.full(len(codes), None, dtype=object)
    ok = codes >= 0
    if len(mapped):
        out[ok] = mapped[codes[ok]]
    return pd.Series(out, index=values.index, name=values.name, dtype="string")


# --- masks ---------------------------------------------------------------------------------

def _mask_name(text: str) -> str:
    # keep the first character (the family name in Chinese) and the spaces
    return text[0] + "".join(" " if ch == " " else "*" for ch in text[1:])


def _mask_phone(text: str, digits: str | None = None) -> str:
    # digits: phone_digits(text) when the caller computed it for many values at once
    digits = re.sub(r"\D", "", phone_digits(pd.Series([text])).iloc[0] if digits is None else digits)
    if len(digits) >= 8:
        return digits[:3] + "****" + digits[-4:]
    if len(digits) >= 3:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * max(len(text), 1)


def _mask_email(text: str) -> str:
    if "@" not in text:
        return _mask_generic(text)
    local, _, domain = text.rpartition("@")
    return (local[:1] or "*") + "***@" + domain


def _mask_id_number(text: str) -> str:
    t = text.replace(" ", "")
    if len(t) >= 8:
        return t[:3] + "*" * (len(t) - 7) + t[-4:]
    return "*" * len(t)


def _mask_bank_card(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 8:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * max(len(digits), 1)


def _mask_address(text: str) -> str:
    # keep the province/city prefix up to the first 市 or 区 (上海市***), else 3 characters
    cut = re.search(r"[市区]", text)
    keep = text[: cut.end()] if cut and cut.end() <= 10 else text[:3].rstrip()
    return keep + "***"


def _mask_generic(text: str) -> str:
    if len(text) <= 1:
        return "*"
    return text[0] + "***"


_MASKERS: dict[str, Callable[[str], str]] = {
    "name": _mask_name,
    "phone": _mask_phone,
    "email": _mask_email,
    "id_number": _mask_id_number,
    "bank_card": _mask_bank_card,
    "address": _mask_address,
    "generic": _mask_generic,
}
# what each mask writes: a value of that shape is already masked and stays as it is
_GENERIC_SHAPE = r"\*|[^*]\*{3}"
_MASKED: dict[str, re.Pattern[str]] = {
    "name": re.compile(r"[^*\s][* ]*\*"),
    "phone": re.compile(r"\d{3}\*{4}\d{4}|\*+\d{0,2}"),
    "email": re.compile(rf"[^@]?\*{{3}}@.*|{_GENERIC_SHAPE}"),
    "id_number": re.compile(r".{3}\*+.{4}|\*+"),
    "bank_card": re.compile(r"\*+\d{0,4}"),
    "address": re.compile(r".*\*{3}"),
    "generic": re.compile(_GENERIC_SHAPE),
}


def _text(value: Any) -> str:
    """A value as stripped text; integral floats without ``.0`` (a phone read as a number)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _check_kind(kind: str) -> None:
    if kind not in _MASKERS:
        raise ValueError(f"kind must be one of {', '.join(MASK_KINDS)}; got {kind!r}")


def mask_value(kind: str, value: Any) -> Any:
    """Mask one personal value; a value already masked is returned unchanged.

    Parameters
    ----------
    kind : {'name', 'phone', 'email', 'id_number', 'bank_card', 'address', 'generic'}
        What the value is. ``name`` keeps the first character (``王小明`` -> ``王**``); ``phone``
        keeps the first 3 and last 4 digits (``13812345678``, ``+86 138-1234-5678`` or the
        number ``13812345678.0`` -> ``138****5678``); ``email`` keeps the first character and
        the domain (``z***@example.com``); ``id_number`` keeps the first 3 and last 4 characters
        (the birth date in a Chinese ID is hidden); ``bank_card`` keeps the last 4 digits
        (``************1234``); ``address`` keeps the prefix up to the first 市 or 区, else 3
        characters (``上海市***``); ``generic`` keeps the first character (``北***``).
    value : object
        The value; missing values are returned unchanged.

    Returns
    -------
    str or missing
        The masked text. Masking is idempotent: ``mask_value(k, mask_value(k, v))`` equals
        ``mask_value(k, v)``.

    Raises
    ------
    ValueError
        Unknown ``kind``.

    Examples
    --------
    >>> mask_value("phone", "13812345678")
    '138****5678'
    >>> mask_value("phone", 13812345678.0)
    '138****5678'
    >>> mask_value("email", "zhang.san@example.com")
    'z***@example.com'
    >>> mask_value("name", "张三")
    '张*'
    >>> mask_value("address", "上海市浦东新区张江路100号")
    '上海市***'
    """
    _check_kind(kind)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    text = _text(value)
    if not text or _MASKED[kind].fullmatch(text):
        return text
    return _MASKERS[kind](text)


def mask_series(series: pd.Series, kind: str) -> pd.Series:
    """Mask every value of a column (each distinct value is masked once).

    Parameters
    ----------
    series : pandas.Series
        Values of any dtype.
    kind : {'name', 'phone', 'email', 'id_number', 'bank_card', 'address', 'generic'}
        See :func:`mask_value`.

    Returns
    -------
    pandas.Series
        Masked text, pandas ``string`` dtype, same index and name; missing stays missing.

    Raises
    ------
    ValueError
        Unknown ``kind``.
    """
    _check_kind(kind)
    if kind == "phone":  # phone_digits once over the distinct values, not once per value
        return _map_uniques(series, _mask_phones)
    return _map_distinct(series, lambda u: mask_value(kind, u))


def _mask_phones(uniques: np.ndarray) -> list[Any]:
    """:func:`mask_value` of kind ``phone`` of each of ``uniques`` (none missing)."""
    texts = [_text(u) for u in uniques]
    digits = phone_digits(pd.Series(texts, dtype=object)).tolist() if texts else []
    return [t if not t or _MASKED["phone"].fullmatch(t) else _mask_phone(t, d) for t, d in zip(texts, digits, strict=True)]


def pii_kind(column: str, values: pd.Series | None = None) -> MaskKind:
    """Which mask suits a personal-data column.

    The header decides first (``phone``, ``收货地址``, ``address``: see
    :func:`workbench.core.pii.header_kind`); other columns are recognised from their values
    (:func:`workbench.core.pii.detect_column`); else ``generic``.

    Parameters
    ----------
    column : str
        Column name or header.
    values : pandas.Series, optional
        The column's values, for columns whose name says nothing.

    Returns
    -------
    str
        One of :data:`MASK_KINDS`.
    """
    kind = header_kind(column)
    if kind is None and values is not None:
        found = detect_column(column, values)
        kind = found.kind if found is not None else None
    return kind or "generic"  # type: ignore[return-value]


def contract_pii_kinds(table: str) -> dict[str, str]:
    """The contract's PII columns of ``table`` and their kinds (``{"phone": "phone", ...}``),
    for ``detect_personal_data(canonical_pii=...)``.

    Raises
    ------
    KeyError
        ``table`` is not a contract table.
    """
    spec = _spec(table)
    return {c.name: header_kind(c.name) or FALLBACK_KIND for c in spec.columns if c.pii}


def _spec(table: str) -> Any:
    if table not in TABLES:
        raise KeyError(f"{table!r} is not a contract table; choose one of {sorted(TABLES)}")
    return TABLES[table]


# --- treatment -----------------------------------------------------------------------------

def _pseudonym_text(kind: str, values: pd.Series) -> pd.Series:
    """The text hashed for a personal value: phones as their digits, e-mails in lower case, so
    ``138-1234-5678`` and ``13812345678`` get one pseudonym."""
    text = values.map(_text, na_action="ignore")
    if kind == "phone":
        return phone_digits(text.astype("string")).where(values.notna())
    if kind == "email":
        return text.str.lower()
    return text


def protect_table(
    frame: pd.DataFrame,
    table: str,
    detections: Sequence[PersonalColumn],
    *,
    allow_personal_data: bool = False,
    treatment: Mapping[str, str] | None = None,
    secret: str = DEFAULT_SECRET,
    key_columns: Sequence[str] = ("customer_id",),
    privacy: Any | None = None,
) -> tuple[pd.DataFrame, list[PersonalColumn]]:
    """Apply the treatment of each detected personal-data column.

    A column's treatment is the one ``privacy.columns`` forced (the record's ``treatment``
    when not ``pending``), else ``treatment[kind]``: ``mask`` (:func:`mask_series`),
    ``pseudonymize`` (HMAC with ``secret``, prefix by kind: :data:`PSEUDONYM_PREFIX`) or
    ``drop``. Customer key columns (``key_columns``) are never masked or dropped: a key column
    found to hold personal data (phone numbers used as member IDs) is pseudonymized with prefix
    ``C``, exactly as :func:`pseudonymize` does elsewhere, so joins across tables still work;
    its record says ``pseudonymize``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table (not modified).
    table : str
        Contract table name (records of other tables are ignored).
    detections : sequence of PersonalColumn
        From :func:`workbench.core.pii.detect_personal_data`; columns not in ``frame`` are
        skipped.
    allow_personal_data : bool, default False
        Keep everything raw (treatment ``keep``).
    treatment : mapping of str to str, optional
        Kind -> ``mask``, ``pseudonymize`` or ``drop`` (``privacy.treatment``); a kind not in it
        and ``None`` mean ``mask``.
    secret : str, default the workbench's default secret
        Key of the pseudonyms (``privacy.secret()``).
    key_columns : sequence of str, default ("customer_id",)
        Customer key columns.
    privacy : PrivacyParams, optional
        The ``privacy`` params section instead of the three options above: its
        ``allow_personal_data``, ``treatment`` and ``secret()`` are used.

    Returns
    -------
    frame : pandas.DataFrame
        A new frame: treated columns replaced (``string`` dtype), dropped ones removed.
    records : list of PersonalColumn
        The detections of this table in ``frame``, with ``treatment`` filled in.

    Raises
    ------
    ValueError
        A treatment other than mask, pseudonymize or drop.
    """
    if privacy is not None:
        allow_personal_data = privacy.allow_personal_data
        treatment = privacy.treatment
        secret = privacy.secret()
    treatment = treatment or {}
    out = frame.copy(deep=False)  # copy-on-write: columns are replaced, never written in place
    records: list[PersonalColumn] = []
    for rec in detections:
        if rec.table != table or rec.column not in frame:
            continue
        if allow_personal_data:
            records.append(rec.treated("keep"))
            continue
        how = rec.treatment if rec.treatment != PENDING else treatment.get(rec.kind, "mask")
        col = rec.column
        if col in key_columns:
            how = "pseudonymize"
            out[col] = pseudonymize(frame[col], salt=secret, prefix=_KEY_PREFIX)
        elif how == "mask":
            out[col] = mask_series(frame[col], rec.kind)
        elif how == "pseudonymize":
            prefix = PSEUDONYM_PREFIX.get(rec.kind, "X")
            out[col] = pseudonymize(_pseudonym_text(rec.kind, frame[col]), salt=secret, prefix=prefix)
        elif how == "drop":
            out = out.drop(columns=[col])
        else:
            raise ValueError(
                f"{table}.{col}: treatment must be mask, pseudonymize or drop; got {how!r}"
            )
        records.append(rec.treated(how))
    return out, records


def protect(
    frame: pd.DataFrame,
    table: str,
    *,
    allow_personal_data: bool = False,
    allow_raw_keys: bool = False,
    salt: str = DEFAULT_SECRET,
    secret_env: str | None = None,
    treatment: Mapping[str, str] | None = None,
    columns: Mapping[str, str] | None = None,
    detect_sample: int = 2000,
    detect_min_share: float = 0.5,
    key_columns: Sequence[str] = ("customer_id",),
) -> pd.DataFrame:
    """Make a table safe to show or export: treat personal data and pseudonymize customer keys.

    Personal-data columns are found by :func:`workbench.core.pii.detect_personal_data` (contract
    PII columns, headers, content) and treated by :func:`protect_table` unless
    ``allow_personal_data``. The contract's id columns (``customer_id``, ``order_id`` ...) and
    ``key_columns`` are never masked: key columns present in the frame are replaced by
    :func:`pseudonymize` pseudonyms unless ``allow_raw_keys``. The options are the fields of the
    ``privacy`` params (``protect(frame, t, **P.privacy.model_dump())``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical frame (not modified).
    table : str
        Contract table name.
    allow_personal_data : bool, default False
        Keep names, phones, e-mails, ID numbers, bank cards and addresses raw.
    allow_raw_keys : bool, default False
        Keep customer keys raw instead of pseudonyms.
    salt : str, default the workbench's default secret
        Secret of the pseudonyms.
    secret_env : str, optional
        Environment variable whose value, when set, is the secret instead of ``salt``.
    treatment : mapping of str to str, optional
        Kind -> mask, pseudonymize or drop (``privacy.treatment``); None masks every kind, so the
        frame keeps its columns.
    columns : mapping of str to str, optional
        ``privacy.columns`` overrides (``"table.column"`` -> treatment or ``not_personal``).
    detect_sample, detect_min_share
        Content detection settings (``privacy.detect_sample``, ``privacy.detect_min_share``).
    key_columns : sequence of str, default ("customer_id",)
        Columns holding customer keys.

    Returns
    -------
    pandas.DataFrame
        A copy with the same index (and the same columns unless a treatment is ``drop``).

    Raises
    ------
    KeyError
        ``table`` is not a contract table.
    """
    spec = _spec(table)
    secret = (os.environ.get(secret_env) if secret_env else None) or salt
    keys = set(key_columns) | {c.name for c in spec.columns if c.type == "id"}
    out = frame
    if not allow_personal_data:
        found = detect_personal_data(
            frame, table, canonical_pii=contract_pii_kinds(table), overrides=columns,
            sample=detect_sample, min_share=detect_min_share,
        )  # fmt: skip
        found = [d for d in found if d.column not in keys]
        out, _ = protect_table(frame, table, found, treatment=treatment, secret=secret, key_columns=())
    out = out.copy()
    if not allow_raw_keys:
        for col in key_columns:
            if col in out:
                out[col] = pseudonymize(frame[col], salt=secret)
    return out


def mask_in_text(texts: pd.Series) -> pd.Series:
    """Mask phone numbers, e-mails, ID numbers, bank cards and names INSIDE free texts.

    The text stays readable (a complaint still says what went wrong); each match of
    :data:`workbench.core.pii.TEXT_PATTERNS` is replaced by its kind's mask (``138****5678``,
    ``a***@x.com``, ``张**``). Missing values stay missing; distinct texts are masked once.

    Examples
    --------
    >>> mask_in_text(pd.Series(["我是张伟，请回电13812345678，邮箱zw@qq.com"])).iloc[0]
    '我是张*，请回电138****5678，邮箱z***@qq.com'
    """
    return _map_uniques(texts, _mask_in_texts)


def _mask_in_texts(uniques: np.ndarray) -> list[Any]:
    """:func:`mask_in_text` of each of ``uniques``: the kinds in the order of ``TEXT_PATTERNS``,
    each on the text the previous left; each distinct match masked once (phones together, so
    :func:`phone_digits` runs once per kind, not once per match)."""
    from workbench.core.pii import TEXT_PATTERNS

    out = list(uniques)
    for kind, rx in TEXT_PATTERNS.items():
        found = list(dict.fromkeys(m.group(0) for t in out if isinstance(t, str) for m in rx.finditer(t)))
        if not found:
            continue
        if kind == "phone":
            digits = phone_digits(pd.Series(found, dtype=object)).tolist()
            masks = {m: _mask_phone(m, d) for m, d in zip(found, digits, strict=True)}
        else:
            masks = {m: _MASKERS[kind](m) for m in found}
        out = [rx.sub(lambda m, masks=masks: masks[m.group(0)], t) if isinstance(t, str) else t for t in out]
    return out

