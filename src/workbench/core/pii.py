"""Personal data detection: which columns of a table hold names, phones, e-mails, ID numbers,
bank card numbers or addresses, found by header (Chinese and English synonyms) and by content
(a seeded sample of the values), for every column, mapped or not.

The rules, in the order they are tried for one column:

1. **Header.** The source header is normalised (lower case, no spaces, underscores, dashes or
   bracketed notes) and compared with synonym lists (``手机号``, ``收货地址``, ``customer_name``,
   ``e-mail`` ...). Business names that merely contain a personal word (``商品名称``,
   ``product_name``, ``customer_id``) are not synonyms.
2. **Content.** At most ``sample`` non-missing values, drawn with a seeded generator (a
   10-million-row column costs the sample, not the column), are checked against one rule per
   kind; the kind whose share of matches is highest and at least ``min_share`` wins, provided its
   sanity check passes:

   * ``phone``: mainland mobile numbers (``1[3-9]`` + 9 digits, optional ``+86``/``86``/``0086``,
     spaces or dashes, also numbers and ``1.38E10`` text). Sanity: among 20 or more distinct
     matches at least 3 carrier prefixes (first 3 digits), distinct 7-digit number segments for
     at least 20 % of them, and values not monotone in row order (sequential order numbers
     ``13800000001, 13800000002 ...`` fail all three).
   * ``id_number``: 18-character resident ID numbers with a valid province code, a birth date
     ``YYYYMMDD`` between 1900 and today and the ISO 7064 MOD 11-2 check character.
   * ``email``: ``local@domain.tld``.
   * ``bank_card``: 16-19 digits passing the Luhn check (random numbers pass one time in ten,
     well under ``min_share``).
   * ``address``: Chinese (two or more of 省 市 区 县 镇 乡 村 路 街 道 巷 弄 号 栋 单元 室 and a digit
     or 8+ characters; ``上海市`` alone is not an address) or English (``12 Main Street``,
     ``Apt 4``); the values must vary (below).
   * ``name``: 2-4 Han characters starting with one of the common surnames (or a compound
     surname such as 欧阳); the values must vary: distinct values at least 30 % of the checked
     ones or at least 200, so categories (``金卡``, ``成都``) are not names.

   Datetime and boolean columns are never checked (not by header either: ``是否有手机号`` is a
   flag, not a phone).
3. :func:`detect_personal_data` adds the contract's PII columns (``detected_by="contract"``) and
   the ``privacy.columns`` overrides of the params.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "FREE_TEXT_COLUMNS",
    "TEXT_PATTERNS",
    "personal_data_in_text",
    "PersonalColumn",
    "PII_KINDS",
    "PENDING",
    "Detection",
    "normalize_header",
    "header_kind",
    "phone_digits",
    "sample_positions",
    "sample_values",
    "content_shares",
    "detect_column",
    "detect_personal_data",
]

PII_KINDS: tuple[str, ...] = ("name", "phone", "email", "id_number", "bank_card", "address")
DetectedBy = Literal["contract", "header", "content", "params"]
#: ``PersonalColumn.treatment`` of a detection that has not been treated yet.
PENDING = "pending"
#: Kind given to a column that ``privacy.columns`` forces to be personal but whose values match
#: no rule: its mask keeps the first characters (``上海市***``, ``abc***``).
FALLBACK_KIND = "address"
_TREATMENTS = ("mask", "pseudonymize", "drop")


@dataclass(frozen=True)
class PersonalColumn:
    """One column found to hold personal data, and what intake did with it.

    Attributes
    ----------
    table : str
        Contract table (``orders``).
    column : str
        Column name after intake (canonical name, or the file's header for unmapped columns).
    header : str
        The header in the source file (same as ``column`` for unmapped columns).
    kind : str
        One of :data:`PII_KINDS`.
    detected_by : {'contract', 'header', 'content', 'params'}
        Why: a contract PII column (``name``, ``phone``...), a header synonym (``手机号``), the
        values (``share`` of the checked sample matched), or ``privacy.columns`` in the params.
    share : float or None
        Share of the checked non-missing values that match the kind's content rule (None when
        the column was empty or not checked).
    n_checked : int
        Non-missing values checked by content.
    treatment : {'mask', 'pseudonymize', 'drop', 'keep', 'pending'}
        What intake did (``keep`` only when ``privacy.allow_personal_data``); ``pending`` straight
        out of :func:`detect_personal_data` unless ``privacy.columns`` forced a treatment.
    """

    table: str
    column: str
    header: str
    kind: str
    detected_by: DetectedBy
    share: float | None
    n_checked: int
    treatment: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for ``intake.json`` and ``run.json``)."""
        return asdict(self)

    def treated(self, treatment: str) -> PersonalColumn:
        """A copy with ``treatment`` filled in."""
        return replace(self, treatment=treatment)


class Detection(NamedTuple):
    """What :func:`detect_column` found: ``(kind, detected_by, share, n_checked)``."""

    kind: str
    detected_by: DetectedBy
    share: float | None
    n_checked: int


# --- headers -------------------------------------------------------------------------------

_HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "姓名", "会员姓名", "客户姓名", "真实姓名", "客户名称", "会员名称", "联系人", "收货人",
        "收件人", "买家姓名", "联系人姓名", "收货人姓名", "收件人姓名", "名字",
        "name", "customername", "fullname", "firstname", "lastname", "surname", "givenname",
        "familyname", "contact", "contactname", "contactperson", "membername", "buyername",
        "recipientname", "receivername", "consigneename", "clientname", "realname",
    ),
    "phone": (
        "手机", "手机号", "手机号码", "电话", "联系电话", "收货人电话", "收件人电话", "联系方式",
        "移动电话", "电话号码", "联系手机", "固定电话", "座机",
        "phone", "mobile", "tel", "telephone", "cell", "cellphone", "phonenumber", "phoneno",
        "mobilephone", "mobileno", "mobilenumber", "telno", "contactphone", "customerphone",
    ),
    "email": (
        "邮箱", "电子邮箱", "邮件", "电子邮件", "邮箱地址", "邮件地址", "电子邮件地址",
        "email", "mail", "emailaddress", "mailaddress", "customeremail", "contactemail",
    ),
    "id_number": (
        "身份证", "身份证号", "身份证号码", "证件号", "证件号码", "护照号", "护照号码",
        "idnumber", "idno", "idcard", "idcardno", "idcardnumber", "nationalid", "nationalidnumber",
        "passport", "passportno", "passportnumber", "ssn", "socialsecuritynumber",
    ),
    "bank_card": (
        "银行卡", "银行卡号", "卡号", "银行账号", "银行账户", "信用卡号",
        "bankcard", "bankcardno", "bankcardnumber", "cardnumber", "cardno", "creditcard",
        "creditcardnumber", "iban", "accountnumber", "bankaccount", "bankaccountnumber",
    ),
    "address": (
        "地址", "联系地址", "收货地址", "家庭住址", "详细地址", "住址", "收件地址", "通讯地址",
        "居住地址", "家庭地址", "送货地址",
        "address", "street", "streetaddress", "homeaddress", "shippingaddress", "billingaddress",
        "deliveryaddress", "postaladdress", "mailingaddress", "addressline1", "addressline2",
    ),
}  # fmt: skip
_HEADER_KIND: dict[str, str] = {s: kind for kind, syns in _HEADER_SYNONYMS.items() for s in syns}
# Chinese headers ending in a personal word (收货人手机号, 买家邮箱); tried in this order, so
# 邮箱地址 is an e-mail and 身份证地址 an address
_HEADER_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("邮箱地址", "email"), ("邮件地址", "email"), ("邮箱", "email"),
    ("身份证号码", "id_number"), ("身份证号", "id_number"), ("身份证", "id_number"),
    ("证件号码", "id_number"), ("证件号", "id_number"), ("护照号码", "id_number"), ("护照号", "id_number"),
    ("银行卡号", "bank_card"), ("银行卡", "bank_card"), ("银行账号", "bank_card"),
    ("手机号码", "phone"), ("手机号", "phone"), ("手机", "phone"), ("电话号码", "phone"),
    ("电话", "phone"), ("联系方式", "phone"),
    ("地址", "address"), ("住址", "address"),
    ("姓名", "name"),
)  # fmt: skip
_BRACKETED = re.compile(r"[(（\[【<《][^)）\]】>》]*[)）\]】>》]")
_SEPARATORS = re.compile(r"[\s_\-–—.·:：/\\()（）\[\]【】<>《》]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")


def normalize_header(header: str) -> str:
    """Header as compared with the synonyms: lower case, bracketed notes, spaces, underscores,
    dashes and brackets removed.

    Examples
    --------
    >>> normalize_header(" Customer_Name ")
    'customername'
    >>> normalize_header("手机号（必填）")
    '手机号'
    """
    text = str(header).strip().lower()
    stripped = _BRACKETED.sub("", text)
    return _SEPARATORS.sub("", stripped or text)


def header_kind(header: str) -> str | None:
    """The personal-data kind a header names, or None.

    Parameters
    ----------
    header : str
        Source header or column name (``联系电话``, ``customer_name``, ``E-Mail``).

    Returns
    -------
    str or None
        One of :data:`PII_KINDS`.

    Examples
    --------
    >>> header_kind("收货人手机号"), header_kind("E-Mail"), header_kind("商品名称")
    ('phone', 'email', None)
    """
    norm = normalize_header(header)
    if not norm:
        return None
    if norm in _HEADER_KIND:
        return _HEADER_KIND[norm]
    if _CJK.search(norm):
        for suffix, kind in _HEADER_SUFFIXES:
            if norm.endswith(suffix):
                return kind
    return None


# --- sampling and value text ---------------------------------------------------------------

def sample_positions(
    n: int,
    *,
    size: int,
    seed: int,
    present: Callable[[np.ndarray], np.ndarray],
    present_positions: Callable[[], np.ndarray],
) -> np.ndarray:
    """Row positions of the seeded sample of :func:`sample_values`, for a column of ``n`` rows
    that need not be in memory (a Parquet file: :mod:`workbench.core.privacy_engine`).

    Positions are drawn first (a few rounds of growing draws for sparse columns); only whether
    the drawn rows are missing is asked for, so a long column costs the sample, not the column.

    Parameters
    ----------
    n : int
        Rows of the column.
    size : int
        Non-missing values wanted at most.
    seed : int
        Seed of the sample.
    present : callable
        Sorted positions -> boolean array, True where the value is not missing.
    present_positions : callable
        () -> sorted positions of every non-missing value (asked only of sparse columns).

    Returns
    -------
    numpy.ndarray
        Sorted positions of at most ``size`` non-missing values.

    Examples
    --------
    >>> s = pd.Series([1.0, None, 3.0, 4.0])
    >>> sample_positions(4, size=10, seed=0, present=lambda p: s.iloc[p].notna().to_numpy(),
    ...                  present_positions=lambda: np.flatnonzero(s.notna())).tolist()
    [0, 2, 3]
    """
    if n <= size:
        return present_positions()
    rng = np.random.default_rng(seed)
    got = np.empty(0, dtype=np.int64)
    for take in (size, 8 * size, 64 * size):
        if take >= n:
            break
        drawn = np.sort(rng.choice(n, size=take, replace=False))
        got = drawn[present(drawn)]
        if len(got) >= size:
            break
    if len(got) < size:  # a sparse column: every non-missing value is a candidate
        got = present_positions()
    if len(got) > size:
        got = got[np.sort(rng.choice(len(got), size=size, replace=False))]
    return got


def sample_values(values: pd.Series, *, size: int = 2000, seed: int = 0) -> pd.Series:
    """A seeded sample of at most ``size`` non-missing values, in row order.

    Positions are drawn first (a few rounds of growing draws for sparse columns), so a long
    column costs the sample, not the column (:func:`sample_positions`).

    Parameters
    ----------
    values : pandas.Series
    size : int, default 2000
    seed : int, default 0

    Returns
    -------
    pandas.Series
        The sampled values with their original index.
    """
    picked = sample_positions(
        len(values), size=size, seed=seed,
        present=lambda pos: values.iloc[pos].notna().to_numpy(dtype=bool),
        present_positions=lambda: np.flatnonzero(values.notna().to_numpy(dtype=bool)),
    )  # fmt: skip
    return values.iloc[picked]


def _as_text(values: pd.Series) -> pd.Series:
    """Values as stripped text; integral numbers without ``.0`` (``13812345678.0`` -> digits)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(str)
    if pd.api.types.is_integer_dtype(values):
        return values.astype("int64").astype(str) if values.dtype.kind != "u" else values.astype(str)
    if pd.api.types.is_float_dtype(values):
        x = values.to_numpy(dtype=float)
        integral = np.isfinite(x) & (np.floor(x) == x) & (np.abs(x) < 9e18)
        text = values.astype(str).to_numpy(dtype=object)
        text[integral] = x[integral].astype(np.int64).astype(str)
        return pd.Series(text, index=values.index, dtype=object)
    return values.astype(str).str.strip()


_SCI = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d{1,2}$")
_PHONE_NOISE = re.compile(r"[\s\-()（）]")
_PHONE_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[3-9]\d{9}$)")
_PHONE = re.compile(r"^1[3-9]\d{9}$")


def phone_digits(text: pd.Series) -> pd.Series:
    """Phone text reduced to its digits: spaces, dashes and brackets removed, ``1.38E10``
    expanded, a ``+86``/``86``/``0086`` country prefix dropped before a mainland mobile number.

    Parameters
    ----------
    text : pandas.Series
        Text values (see :func:`sample_values`; numbers as digit text).

    Returns
    -------
    pandas.Series
        Cleaned text, same index (``+86 138-1234-5678`` -> ``13812345678``).
    """
    out = text.astype(str).str.replace(_PHONE_NOISE, "", regex=True)
    sci = out.str.match(_SCI)
    if sci.any():
        num = pd.to_numeric(out[sci], errors="coerce")
        ok = num.notna() & (num == np.floor(num))
        out.loc[ok[ok].index] = num[ok].astype("int64").astype(str)
    return out.str.replace(_PHONE_PREFIX, "", regex=True)


# --- content rules -------------------------------------------------------------------------

_EMAIL = re.compile(r"^[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+$")
_ID = re.compile(r"^[1-8]\d{16}[\dX]$")
_ID_PROVINCES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83 91".split()
)
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = np.array(list("10X98765432"))
_CARD = re.compile(r"^\d{16,19}$")
_CN_ADDRESS_MARKERS = re.compile(r"单元|[省市区县镇乡村路街道巷弄号栋室]")
_EN_ADDRESS = re.compile(
    r"(?i)^\d+[a-z]?\s+(?:[a-z0-9.'\-]+\s+){0,4}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl)\b"
    r"|\b(?:apt|apartment|suite)\.?\s*#?\d+"
)
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵周吴徐孙马朱胡林郭何高罗郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏"
    "程吕丁沈任姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝"
    "龚邵万钱严覃武戚莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房"
    "滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戈皮奚卫刁闫"
)
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 南宫 西门".split()
)
_HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
_MIN_DISTINCT_SHARE = 0.3
_MIN_DISTINCT = 200


def _id_valid(text: pd.Series) -> np.ndarray:
    """Resident ID numbers: province code, birth date and MOD 11-2 check character."""
    t = text.str.replace(r"\s", "", regex=True).str.upper()
    ok = t.str.match(_ID).to_numpy(dtype=bool).copy()
    if not ok.any():
        return ok
    ids = t[ok]
    digits = np.frombuffer("".join(ids.str[:17]).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    check = _ID_CHECK[(digits * _ID_WEIGHTS).sum(axis=1) % 11]
    birth = pd.to_datetime(ids.str[6:14], format="%Y%m%d", errors="coerce")
    good = (
        (check == ids.str[17].to_numpy())
        & ids.str[:2].isin(_ID_PROVINCES).to_numpy()
        & (birth >= pd.Timestamp("1900-01-01")).to_numpy()
        & (birth <= pd.Timestamp(dt.date.today())).to_numpy()
    )
    ok[np.flatnonzero(ok)] = good
    return ok


def _luhn(text: pd.Series) -> np.ndarray:
    """16-19 digit numbers passing the Luhn check (spaces and dashes ignored)."""
    t = text.str.replace(r"[\s\-]", "", regex=True)
    ok = t.str.match(_CARD).to_numpy(dtype=bool).copy()
    lengths = t.str.len().to_numpy()
    for length in range(16, 20):
        rows = np.flatnonzero(ok & (lengths == length))
        if not len(rows):
            continue
        d = np.frombuffer("".join(t.iloc[rows]).encode("ascii"), dtype=np.uint8).reshape(-1, length) - 48
        d = d[:, ::-1].astype(np.int64)
        d[:, 1::2] *= 2
        d[:, 1::2] -= 9 * (d[:, 1::2] > 9)
        ok[rows] = d.sum(axis=1) % 10 == 0
    return ok


def _phones_plausible(numbers: pd.Series) -> bool:
    """Matched phone numbers look like many people's, not a sequence of order numbers."""
    distinct = numbers.drop_duplicates()
    if len(distinct) < 20:
        return True
    if distinct.str[:3].nunique() < 3 or distinct.str[:7].nunique() < 0.2 * len(distinct):
        return False
    steps = np.diff(numbers.astype("int64").to_numpy())
    steps = steps[steps != 0]  # repeated numbers (one customer's order lines) say nothing
    return len(steps) < 20 or max((steps > 0).mean(), (steps < 0).mean()) < 0.95


def _varied(matched: pd.Series, n_checked: int) -> bool:
    """Free text about people varies: enough distinct values among the matches."""
    distinct = matched.nunique()
    return distinct >= _MIN_DISTINCT_SHARE * n_checked or distinct >= _MIN_DISTINCT


def _name_hits(text: pd.Series) -> np.ndarray:
    han = text.str.match(_HAN_NAME).to_numpy(dtype=bool)
    surname = text.str[:1].isin(_SURNAMES).to_numpy() | text.str[:2].isin(_COMPOUND_SURNAMES).to_numpy()
    return han & surname


def _address_hits(text: pd.Series) -> np.ndarray:
    markers = text.str.count(_CN_ADDRESS_MARKERS.pattern)
    chinese = (markers >= 2) & (text.str.contains(r"\d", regex=True) | (text.str.len() >= 8))
    english = text.str.contains(_EN_ADDRESS, regex=True)
    return (chinese | english).to_numpy(dtype=bool)


def content_shares(values: pd.Series, *, sample: int = 2000, seed: int = 0) -> tuple[dict[str, float], set[str], int]:
    """Share of a seeded sample matching each kind's content rule.

    Parameters
    ----------
    values : pandas.Series
        The column (any dtype; numbers are compared as their digits).
    sample : int, default 2000
        Non-missing values checked at most.
    seed : int, default 0
        Seed of the sample.

    Returns
    -------
    shares : dict
        Kind -> share of the checked values matching (every kind of :data:`PII_KINDS`).
    plausible : set of str
        Kinds whose sanity check passed (phones not sequential, names and addresses varied).
    n_checked : int
        Values checked; 0 for an empty column (shares are then 0).
    """
    picked = sample_values(values, size=sample, seed=seed)
    n = len(picked)
    if n == 0:
        return dict.fromkeys(PII_KINDS, 0.0), set(), 0
    text = _as_text(picked).reset_index(drop=True)
    hits: dict[str, np.ndarray] = {}
    phones = phone_digits(text)
    hits["phone"] = phones.str.match(_PHONE).to_numpy(dtype=bool)
    hits["email"] = text.str.match(_EMAIL).to_numpy(dtype=bool)
    hits["id_number"] = _id_valid(text)
    hits["bank_card"] = _luhn(text)
    if pd.api.types.is_numeric_dtype(picked):
        hits["address"] = hits["name"] = np.zeros(n, dtype=bool)
    else:
        hits["address"] = _address_hits(text)
        hits["name"] = _name_hits(text)
    plausible = {"email", "id_number", "bank_card"}
    if hits["phone"].any() and _phones_plausible(phones[hits["phone"]]):
        plausible.add("phone")
    for kind in ("address", "name"):
        if hits[kind].any() and _varied(text[hits[kind]], n):
            plausible.add(kind)
    return {k: float(hits[k].mean()) for k in PII_KINDS}, plausible, n


def _never_checked(values: pd.Series) -> bool:
    return pd.api.types.is_bool_dtype(values) or pd.api.types.is_datetime64_any_dtype(values)


def detect_column(
    name: str, values: pd.Series, *, sample: int = 2000, min_share: float = 0.5, seed: int = 0
) -> Detection | None:
    """Whether one column holds personal data, by header first, then by content.

    Parameters
    ----------
    name : str
        The header in the source file (or the column name).
    values : pandas.Series
        The column's values.
    sample : int, default 2000
        Non-missing values checked by content at most (``privacy.detect_sample``).
    min_share : float, default 0.5
        Share of the checked values that must match for a content detection
        (``privacy.detect_min_share``).
    seed : int, default 0
        Seed of the sample.

    Returns
    -------
    Detection or None
        ``(kind, detected_by, share, n_checked)``: ``detected_by`` is ``header`` when the header
        names the kind (``share`` is then the content share of that kind, possibly low, e.g. for
        values already masked) or ``content``; None for datetime/bool columns and columns that
        match nothing.

    Examples
    --------
    >>> detect_column("备注", pd.Series(["13812345678", "13987654321"]))
    Detection(kind='phone', detected_by='content', share=1.0, n_checked=2)
    >>> detect_column("商品名称", pd.Series(["T恤", "帽子"])) is None
    True
    """
    if _never_checked(values):
        return None
    shares, plausible, n = content_shares(values, sample=sample, seed=seed)
    kind = header_kind(name)
    if kind is not None:
        return Detection(kind, "header", shares[kind] if n else None, n)
    best = [k for k in PII_KINDS if k in plausible and shares[k] >= min_share]
    if not best:
        return None
    top = max(best, key=lambda k: shares[k])  # ties keep PII_KINDS order
    return Detection(top, "content", shares[top], n)


def _override(overrides: Mapping[str, str], table: str, column: str, header: str) -> str | None:
    for key in (f"{table}.{column}", f"{table}.{header}"):
        if key in overrides:
            return overrides[key]
    return None


def detect_personal_data(
    frame: pd.DataFrame,
    table: str,
    *,
    headers: Mapping[str, str] | None = None,
    canonical_pii: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
    sample: int = 2000,
    min_share: float = 0.5,
    seed: int = 0,
) -> list[PersonalColumn]:
    """Every column of a table that holds personal data, mapped or not.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table after intake (canonical columns, then the unmapped extra columns).
    table : str
        Contract table name (for the records and the ``overrides`` keys).
    headers : mapping of str to str, optional
        Column -> header in the source file (``{"phone": "手机号"}``); a column not in it is its
        own header. Headers are matched first, then the column name.
    canonical_pii : mapping of str to str, optional
        Contract PII column -> kind (``{"phone": "phone", "address": "address"}``); such
        columns are always personal (``detected_by="contract"``).
    overrides : mapping of str to str, optional
        ``privacy.columns``: ``"table.column"`` or ``"table.header"`` -> ``mask``,
        ``pseudonymize``, ``drop`` or ``not_personal``. ``not_personal`` removes a detection
        (even a contract one); a treatment forces one (``detected_by="params"`` when nothing else
        found the column, with the kind of the best content match, else ``address``, whose mask
        keeps only the first characters).
    sample, min_share, seed
        See :func:`detect_column` (``privacy.detect_sample``, ``privacy.detect_min_share``).

    Returns
    -------
    list of PersonalColumn
        In column order; ``treatment`` is the override's when one was given, else ``pending``
        (:func:`workbench.core.privacy.protect_table` fills it in).
    """
    headers = headers or {}
    canonical_pii = canonical_pii or {}
    overrides = overrides or {}
    found: list[PersonalColumn] = []
    for column in frame.columns:
        col = str(column)
        header = str(headers.get(col, col))
        forced = _override(overrides, table, col, header)
        if forced == "not_personal":
            continue
        values = frame[column]
        det = _detect_one(col, header, values, canonical_pii, sample=sample, min_share=min_share, seed=seed)
        if det is None and forced in _TREATMENTS:
            det = _forced_kind(values, sample=sample, seed=seed)
        if det is None:
            continue
        treatment = forced if forced in _TREATMENTS else PENDING
        found.append(PersonalColumn(table, col, header, *det, treatment=treatment))
    return found


def _detect_one(
    column: str, header: str, values: pd.Series, canonical_pii: Mapping[str, str], *,
    sample: int, min_share: float, seed: int,
) -> Detection | None:
    """Contract PII column, else header, else column name, else content."""
    if column in canonical_pii:
        kind = canonical_pii[column]
        if _never_checked(values):
            return Detection(kind, "contract", None, 0)
        shares, _, n = content_shares(values, sample=sample, seed=seed)
        return Detection(kind, "contract", shares[kind] if n else None, n)
    if header != column and header_kind(header) is None and header_kind(column) is not None:
        header = column
    return detect_column(header, values, sample=sample, min_share=min_share, seed=seed)


def _forced_kind(values: pd.Series, *, sample: int, seed: int) -> Detection:
    """The kind of a column the params force to be personal: best content match, else address."""
    if _never_checked(values):
        return Detection(FALLBACK_KIND, "params", None, 0)
    shares, _, n = content_shares(values, sample=sample, seed=seed)
    best = max(PII_KINDS, key=lambda k: shares[k])
    kind = best if shares[best] > 0 else FALLBACK_KIND
    return Detection(kind, "params", shares[kind] if n else None, n)


# --- personal data inside free text ------------------------------------------------------------

#: Contract columns of free text (what customers write): personal data in them is masked inside
#: the text (:func:`workbench.core.privacy.mask_in_text`), never the whole value.
FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {"tickets": ("text",), "feedback": ("text",)}

#: Unanchored patterns of personal data inside a text, by kind (the order in which masks apply:
#: ID numbers and bank cards before phones, so a phone pattern never eats part of a longer number).
TEXT_PATTERNS: dict[str, re.Pattern[str]] = {
    "email": re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"),
    "id_number": re.compile(r"(?<!\d)[1-8]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?!\d)"),
    "bank_card": re.compile(r"(?<!\d)(?:\d[ \-]?){15,18}\d(?!\d)"),
    "phone": re.compile(r"(?<![\d*])(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?!\d)"),
    "name": re.compile(
        r"(?:(?<=我是)|(?<=我叫)|(?<=姓名[:：])|(?<=联系人[:：])|(?<=本人))[\u4e00-\u9fff]{2,3}(?=[，,。.\s!！]|$)"
        r"|(?:(?<=This is )|(?<=My name is )|(?<=I am )|(?<=I'm ))[A-Z\u4e00-\u9fff][\w\u4e00-\u9fff]*(?: [A-Z][a-z]+)?"
    ),
}


def personal_data_in_text(values: pd.Series, *, sample: int = 2000, seed: int = 0) -> dict[str, int]:
    """How many texts of a seeded sample hold each kind of personal data (:data:`TEXT_PATTERNS`).

    Examples
    --------
    >>> personal_data_in_text(pd.Series(["请回电13812345678", "my mail: a.b@x.com", "fine"]))["phone"]
    1
    """
    text = sample_values(values, size=sample, seed=seed).astype(str)
    return {kind: int(text.str.contains(rx, regex=True).sum()) for kind, rx in TEXT_PATTERNS.items()}

