"""Order-line predicates: which lines are refunds, which are purchases (pandas); and whether
the orders reach the analysis date (:func:`check_as_of`).

The one pandas definition of a refund line and a purchase line; every analysis that reads
canonical orders in pandas uses these. (The engine features in :mod:`workbench.data.features`
split orders the same way in Ibis, where a negative amount also counts as a refund line.)
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import DataQualityWarning
from workbench.report import fmt
from workbench.report.i18n import date_text, t

__all__ = [
    "REFUND_STATUSES",
    "refund_mask",
    "purchase_mask",
    "negative_amount_mask",
    "AsOfCheck",
    "check_as_of",
    "AS_OF_MIN_GAP_DAYS",
    "AS_OF_GAP_FACTOR",
]

#: Smallest gap (days) between the last purchase and ``as_of`` that :func:`check_as_of` flags.
AS_OF_MIN_GAP_DAYS = 180
#: A gap is also flagged only beyond this many typical (median) inter-purchase times.
AS_OF_GAP_FACTOR = 3.0

REFUND_STATUSES: tuple[str, ...] = (
    "refunded", "refund", "returned", "return", "chargeback",
    "退款", "已退款", "退款成功", "退货", "已退货", "退货退款",
)  # fmt: skip
"""Order ``status`` values (compared lower-cased, stripped) that mark a refund line."""


def refund_mask(orders: pd.DataFrame) -> pd.Series:
    """Rows marked as refund lines.

    A row is a refund when ``is_refund`` is true or ``status`` (lower-cased) is one of
    :data:`REFUND_STATUSES`.

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders (``is_refund`` and ``status`` optional).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``.

    Examples
    --------
    >>> refund_mask(pd.DataFrame({"status": ["paid", "已退款", None]})).tolist()
    [False, True, False]
    """
    mask = np.zeros(len(orders), dtype=bool)
    if "is_refund" in orders:
        mask |= orders["is_refund"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    if "status" in orders:
        codes, uniques = pd.factorize(orders["status"], use_na_sentinel=True)
        if len(uniques):
            hit = np.array([str(u).strip().lower() in REFUND_STATUSES for u in uniques])
            mask |= (codes >= 0) & hit[np.maximum(codes, 0)]
    return pd.Series(mask, index=orders.index)


def purchase_mask(orders: pd.DataFrame) -> pd.Series:
    """Purchase lines, by the rule of the engine's customer features
    (:func:`workbench.data.features.purchases_expr`): a positive ``amount``, ``is_refund`` not
    true, and a ``status`` that does not contain "refund" or "退".

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders with ``amount`` (``is_refund`` and ``status`` optional).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``; a missing amount is not a purchase.

    Examples
    --------
    >>> lines = pd.DataFrame({"amount": [10.0, -5.0, 0.0, 8.0], "status": ["paid", "paid", "paid", "退货中"]})
    >>> purchase_mask(lines).tolist()
    [True, False, False, False]
    """
    m = orders["amount"] > 0
    if "is_refund" in orders.columns:
        m &= ~orders["is_refund"].fillna(False).astype(bool)
    if "status" in orders.columns:
        st = orders["status"].astype("string").str.lower().fillna("")
        m &= ~(st.str.contains("refund") | st.str.contains("退"))
    return m.fillna(False).astype(bool)


def refund_mask_expr(orders: Any) -> Any:
    """:func:`refund_mask` as an engine (Ibis) expression: ``is_refund`` true, or a ``status``
    (stripped, lower-cased) in :data:`REFUND_STATUSES`; missing counts as not a refund.

    Parameters
    ----------
    orders : ibis Table
        Canonical orders (``is_refund`` and ``status`` optional).

    Returns
    -------
    ibis BooleanValue
    """
    import ibis

    mask = ibis.literal(False)
    if "is_refund" in orders.columns:
        mask = mask | orders.is_refund.fill_null(False)
    if "status" in orders.columns:
        mask = mask | orders.status.cast("string").strip().lower().isin(list(REFUND_STATUSES)).fill_null(False)
    return mask


def negative_amount_mask(orders: pd.DataFrame) -> pd.Series:
    """Rows with a negative ``amount`` that are not marked as refunds (see :func:`refund_mask`).

    Returns
    -------
    pandas.Series of bool
        Same index as ``orders``; all False without an ``amount`` column.
    """
    if "amount" not in orders:
        return pd.Series(False, index=orders.index)
    amount = pd.to_numeric(orders["amount"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return pd.Series((amount < 0) & ~refund_mask(orders).to_numpy(), index=orders.index)


@dataclass(frozen=True)
class AsOfCheck:
    """Whether the orders reach the analysis date (see :func:`check_as_of`).

    Attributes
    ----------
    as_of : pandas.Timestamp
    last_purchase : pandas.Timestamp or None
        Latest purchase line in the orders (any date, also after ``as_of``); None without one.
    gap_days : int
        Days from the last purchase's day to ``as_of`` (0 or negative when the data reaches it).
    typical_gap_days : float or None
        Median days between two purchase days of the same customer (None without repeat buyers).
    threshold_days : int
        Largest gap accepted: ``max(AS_OF_MIN_GAP_DAYS, AS_OF_GAP_FACTOR x typical_gap_days)``.
    """

    as_of: pd.Timestamp
    last_purchase: pd.Timestamp | None
    gap_days: int
    typical_gap_days: float | None
    threshold_days: int

    @property
    def stale(self) -> bool:
        """True when ``as_of`` lies further after the last purchase than ``threshold_days``."""
        return self.last_purchase is not None and self.gap_days > self.threshold_days

    @property
    def message(self) -> str:
        """What is wrong and what to change (empty when not :attr:`stale`)."""
        if not self.stale or self.last_purchase is None:
            return ""
        typical = (
            f"{AS_OF_GAP_FACTOR:g} x the median {self.typical_gap_days:,.0f} days between a customer's purchases"
            if self.typical_gap_days is not None
            else "no repeat purchases to measure a typical gap"
        )
        last = self.last_purchase.date().isoformat()
        return (
            f"orders.order_time: the last purchase is on {last}, {self.gap_days:,} days before as_of "
            f"{self.as_of.date().isoformat()} (more than the {self.threshold_days:,} days accepted: the larger of "
            f"{AS_OF_MIN_GAP_DAYS} days and {typical}). Every customer then looks silent for at least "
            f"{self.gap_days:,} days because the data ends, not because customers left: recency, P(alive), CLV "
            f"and churn describe the end of the extract. Set the params key as_of to a date on or shortly after "
            f"{last}, or load newer orders."
        )

    @property
    def reader_message(self) -> str:
        """:attr:`message` in the run's language, with dates as the reader writes them (empty
        when not :attr:`stale`); :attr:`message` stays English for errors and metrics."""
        if not self.stale or self.last_purchase is None:
            return ""
        typical = (t("data.stale.typical", factor=f"{AS_OF_GAP_FACTOR:g}", days=f"{self.typical_gap_days:,.0f}")
                   if self.typical_gap_days is not None else t("data.stale.no_typical"))
        english = fmt.settings().language == "en"
        last = self.last_purchase.date().isoformat() if english else date_text(self.last_purchase)
        as_of = self.as_of.date().isoformat() if english else date_text(self.as_of)
        return t("data.stale.message", last=last, gap=fmt.count(self.gap_days), as_of=as_of,
                 threshold=fmt.count(self.threshold_days), min_gap=AS_OF_MIN_GAP_DAYS, typical=typical)

    def metrics(self) -> dict[str, Any]:
        """JSON-able figures (``as_of_gap_days``, ``as_of_threshold_days``, ``as_of_stale``)."""
        return {
            "last_purchase": None if self.last_purchase is None else self.last_purchase.date().isoformat(),
            "as_of_gap_days": self.gap_days,
            "as_of_threshold_days": self.threshold_days,
            "as_of_stale": self.stale,
        }


def check_as_of(orders: Any, as_of: Any, *, warn: bool = True, con: Any = None) -> AsOfCheck:
    """Check that the orders reach ``as_of``: a date long after the last purchase makes every
    customer look lapsed.

    The gap from the last purchase day to ``as_of`` is flagged when it exceeds
    ``max(AS_OF_MIN_GAP_DAYS, AS_OF_GAP_FACTOR x typical gap)``, the typical gap being the median
    number of days between two purchase days of the same customer (a business whose customers
    buy twice a year gets a longer allowance than a grocery).

    Parameters
    ----------
    orders : pandas.DataFrame, ResidentFrame or ibis Table
        Canonical orders with ``customer_id``, ``order_time`` and ``amount``. A table kept in the
        engine (:class:`~workbench.core.resident.ResidentFrame`, or an Ibis table) is checked
        there: only the last purchase day and the median gap come back.
    as_of : date
        The analysis date (params key ``as_of``).
    warn : bool, default True
        Emit a :class:`DataQualityWarning` with :attr:`AsOfCheck.message` when the gap is too
        long (callers that put the message in their own result pass False).
    con : Ibis backend, optional
        Engine of a table kept there; default a new in-memory DuckDB.

    Returns
    -------
    AsOfCheck

    Examples
    --------
    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "amount": [5.0, 7.0],
    ...                   "order_time": pd.to_datetime(["2025-01-01", "2025-01-31"])})
    >>> c = check_as_of(o, "2029-01-01", warn=False)
    >>> (c.gap_days, c.threshold_days, c.stale)
    (1431, 180, True)
    """
    day = pd.Timestamp(as_of).normalize()
    if isinstance(orders, pd.DataFrame):
        found = _last_day_and_gap(orders)
    else:
        found = _last_day_and_gap_engine(orders, con)
    if found is None:
        return AsOfCheck(day, None, 0, None, AS_OF_MIN_GAP_DAYS)
    last, typical = found
    threshold = int(max(AS_OF_MIN_GAP_DAYS, np.ceil(AS_OF_GAP_FACTOR * typical) if typical is not None else 0))
    check = AsOfCheck(day, last, int((day - last).days), typical, threshold)
    if warn and check.stale:
        warnings.warn(check.reader_message, DataQualityWarning, stacklevel=2)
    return check


def _last_day_and_gap(orders: pd.DataFrame) -> tuple[pd.Timestamp, float | None] | None:
    """The last purchase day and the median days between a customer's purchase days (None
    without repeat buyers); None without any purchase line."""
    times = pd.to_datetime(orders["order_time"], errors="coerce")
    buy = purchase_mask(orders).to_numpy() & times.notna().to_numpy()
    if not buy.any():
        return None
    days = pd.DataFrame({"c": orders["customer_id"].to_numpy()[buy], "d": times[buy].dt.normalize().to_numpy()})
    days = days.drop_duplicates().sort_values(["c", "d"])
    gaps = days.groupby("c", sort=False)["d"].diff().dt.days.dropna()
    typical = float(gaps.median()) if len(gaps) else None
    return pd.Timestamp(days["d"].max()), typical


def _last_day_and_gap_engine(orders: Any, con: Any) -> tuple[pd.Timestamp, float | None] | None:
    """:func:`_last_day_and_gap` in the engine: the purchase lines of :func:`purchase_mask`,
    their distinct (customer, day) pairs, one lag per customer; two numbers come back."""
    import ibis
    import ibis.expr.types as ir

    from workbench.data import engine
    from workbench.data.features import fetch_frame, refund_status_expr

    o = orders if isinstance(orders, ir.Table) else engine.as_table(con if con is not None else engine.connect(), orders)
    cond = [o.order_time.notnull(), (o.amount > 0).fill_null(False)]
    if "is_refund" in o.columns:
        cond.append(~o.is_refund.fill_null(False))
    if "status" in o.columns:
        cond.append(~refund_status_expr(o.status))
    d = o.filter(cond).select(c=o.customer_id, d=o.order_time.date()).distinct()
    last = fetch_frame(d.aggregate(last=d.d.max())).iloc[0]["last"]
    if pd.isna(last):
        return None
    g = d.filter(d.c.notnull())
    g = g.mutate(gap=g.d.delta(g.d.lag().over(ibis.window(group_by="c", order_by="d")), unit="day"))
    row = fetch_frame(g.aggregate(n=g.gap.count(), typical=g.gap.median())).iloc[0]
    typical = float(row["typical"]) if int(row["n"]) else None
    return pd.Timestamp(last).normalize(), typical
