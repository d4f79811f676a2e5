"""Personal data: pseudonymize customer keys and mask names, phones, e-mails and ID numbers.

Reports and exported artifacts never show personal data raw unless the params allow it
(``privacy.allow_personal_data``, ``privacy.allow_raw_keys``). Masks keep just enough of a value
to recognise its shape (``138****5678``, ``z***@example.com``, ``张*``); pseudonyms are
deterministic for a given salt, so tables pseudonymized with the same salt still join.

Everything works on the distinct values of a column and maps back, so a 10-million-row column
with one million customers costs one million hashes, not ten.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.contract import TABLES, pii_columns

__all__ = [
    "MaskKind",
    "MASK_KINDS",
    "pseudonymize",
    "mask_value",
    "mask_series",
    "pii_kind",
    "protect",
]

MaskKind = Literal["name", "phone", "email", "id_number", "generic"]
MASK_KINDS: tuple[str, ...] = ("name", "phone", "email", "id_number", "generic")

_CANONICAL_KIND: dict[str, MaskKind] = {
    "name": "name",
    "phone": "phone",
    "email": "email",
    "id_number": "id_number",
    "address": "generic",
}
_PHONE_RE = re.compile(r"^(?:\+?86[- ]?)?1[3-9]\d{9}$")
_EMAIL_RE = re.compile(r"^[\w.+-]+@[\w-]+\.[\w.]+$")
_ID_RE = re.compile(r"^\d{17}[\dXx]$")


def pseudonymize(keys: pd.Series, *, salt: str, prefix: str = "C", length: int = 12) -> pd.Series:
    """Replace keys by deterministic pseudonyms: ``prefix`` + the first ``length`` hex digits of
    ``sha256(salt + key)``.

    The same key and salt always give the same pseudonym, so tables pseudonymized with one salt
    still join; another salt gives unrelated pseudonyms. Each distinct key is hashed once.

    Parameters
    ----------
    keys : pandas.Series
        Keys of any dtype (compared as text: ``1001`` and ``"1001"`` give the same pseudonym).
    salt : str
        Secret mixed into the hash (``privacy.salt``).
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
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    salt_b = salt.encode("utf-8")
    hashed = np.array(
        [prefix + hashlib.sha256(salt_b + str(k).encode("utf-8")).hexdigest()[:length] for k in uniques],
        dtype=object,
    )
    out = np.full(len(codes), None, dtype=object)
    ok = codes >= 0
    if len(hashed):
        out[ok] = hashed[codes[ok]]
    return pd.Series(out, index=keys.index, name=keys.name, dtype="string")


def _mask_name(text: str) -> str:
    # keep the first character (the family name in Chinese) and the spaces
    return text[0] + "".join(" " if ch == " " else "*" for ch in text[1:])


def _mask_phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
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


def _mask_generic(text: str) -> str:
    if len(text) <= 1:
        return "*"
    return text[0] + "***"


_MASKERS = {
    "name": _mask_name,
    "phone": _mask_phone,
    "email": _mask_email,
    "id_number": _mask_id_number,
    "generic": _mask_generic,
}


def mask_value(kind: str, value: Any) -> Any:
    """Mask one personal value.

    Parameters
    ----------
    kind : {'name', 'phone', 'email', 'id_number', 'generic'}
        What the value is. ``name`` keeps the first character (``张三`` -> ``张*``); ``phone``
        keeps the first 3 and last 4 digits (``13812345678`` -> ``138****5678``, a ``+86``
        prefix dropped); ``email`` keeps the first character and the domain
        (``z***@example.com``); ``id_number`` keeps the first 3 and last 4 characters (the birth
        date in a Chinese ID is hidden); ``generic`` keeps the first character (``北***``).
    value : object
        The value; missing values are returned unchanged.

    Returns
    -------
    str or missing
        The masked text.

    Raises
    ------
    ValueError
        Unknown ``kind``.

    Examples
    --------
    >>> mask_value("phone", "13812345678")
    '138****5678'
    >>> mask_value("email", "zhang.san@example.com")
    'z***@example.com'
    >>> mask_value("name", "张三")
    '张*'
    """
    if kind not in _MASKERS:
        raise ValueError(f"kind must be one of {', '.join(MASK_KINDS)}; got {kind!r}")
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    text = str(value).strip()
    if not text:
        return text
    return _MASKERS[kind](text)


def mask_series(series: pd.Series, kind: str) -> pd.Series:
    """Mask every value of a column (each distinct value is masked once).

    Parameters
    ----------
    series : pandas.Series
        Values of any dtype.
    kind : {'name', 'phone', 'email', 'id_number', 'generic'}
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
    if kind not in _MASKERS:
        raise ValueError(f"kind must be one of {', '.join(MASK_KINDS)}; got {kind!r}")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    masked = np.array([mask_value(kind, u) for u in uniques], dtype=object)
    out = np.full(len(codes), None, dtype=object)
    ok = codes >= 0
    if len(masked):
        out[ok] = masked[codes[ok]]
    return pd.Series(out, index=series.index, name=series.name, dtype="string")


def pii_kind(column: str, values: pd.Series | None = None) -> MaskKind:
    """Guess which mask suits a personal-data column.

    Canonical contract columns map by name (``name``, ``phone``, ``email``, ``id_number``;
    ``address`` -> ``generic``). Other columns are recognised from their values (a sample of
    200): Chinese mobile numbers, e-mail addresses, 18-character ID numbers; else ``generic``.

    Parameters
    ----------
    column : str
        Column name.
    values : pandas.Series, optional
        The column's values, for extra columns.

    Returns
    -------
    str
        One of ``name``, ``phone``, ``email``, ``id_number``, ``generic``.
    """
    if column in _CANONICAL_KIND:
        return _CANONICAL_KIND[column]
    if values is not None:
        sample = values.dropna().astype(str).str.strip().head(200)
        if len(sample):
            for kind, rx in (("phone", _PHONE_RE), ("email", _EMAIL_RE), ("id_number", _ID_RE)):
                if sample.str.match(rx).mean() > 0.5:
                    return kind  # type: ignore[return-value]
    return "generic"


def protect(
    frame: pd.DataFrame,
    table: str,
    *,
    allow_personal_data: bool = False,
    allow_raw_keys: bool = False,
    salt: str = "crm-workbench",
    key_columns: Sequence[str] = ("customer_id",),
) -> pd.DataFrame:
    """Make a table safe to show or export: mask personal data and pseudonymize customer keys.

    Personal-data columns are those of :func:`workbench.core.contract.pii_columns` (contract PII
    columns plus extra columns whose values look like phones, e-mails or ID numbers); they are
    masked unless ``allow_personal_data``. Key columns present in the frame are replaced by
    :func:`pseudonymize` pseudonyms (keyed by ``salt``) unless ``allow_raw_keys``. The options
    are the fields of the ``privacy`` params (``protect(frame, t, **P.privacy.model_dump())``).

    Parameters
    ----------
    frame : pandas.DataFrame
        Canonical frame (not modified).
    table : str
        Contract table name.
    allow_personal_data : bool, default False
        Keep names, phones, e-mails and ID numbers raw.
    allow_raw_keys : bool, default False
        Keep customer keys raw instead of pseudonyms.
    salt : str, default "crm-workbench"
        Secret of the pseudonyms.
    key_columns : sequence of str, default ("customer_id",)
        Columns holding customer keys.

    Returns
    -------
    pandas.DataFrame
        A copy with the same columns and index.

    Raises
    ------
    KeyError
        ``table`` is not a contract table.
    """
    if table not in TABLES:
        raise KeyError(f"{table!r} is not a contract table; choose one of {sorted(TABLES)}")
    out = frame.copy()
    if not allow_personal_data:
        for col in pii_columns(table, frame):
            out[col] = mask_series(frame[col], pii_kind(col, frame[col]))
    if not allow_raw_keys:
        for col in key_columns:
            if col in out:
                out[col] = pseudonymize(frame[col], salt=salt)
    return out
