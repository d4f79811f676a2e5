"""CRM checks: refunds and negative amounts in orders, and the checks across tables (orphan rows,
customers without orders, extreme spenders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.core.contract import check_references
from workbench.data.cleaning import fast_isin, negative_amount_mask, refund_mask, spender_scores
from workbench.profiling.alerts import Alert, fmt_number, rows_text

__all__ = ["CrossChecks", "order_alerts", "cross_table_checks", "crm_counts"]

_SPENDER_COLUMNS = ["customer_id", "spend", "orders", "log_spend", "robust_z"]
_TABLE_CRM_KINDS = ("refunds", "negative_amounts", "future_dates", "prelaunch_dates")


def order_alerts(orders: pd.DataFrame) -> list[Alert]:
    """Refund lines (``refunds``) and negative amounts not marked as refunds (``negative_amounts``).

    Parameters
    ----------
    orders : pandas.DataFrame
        Canonical orders.

    Returns
    -------
    list of Alert
    """
    out: list[Alert] = []
    n = len(orders)
    ref = refund_mask(orders).to_numpy()
    k = int(ref.sum())
    if k:
        total = ""
        if "amount" in orders:
            amounts = orders["amount"].to_numpy(dtype="float64", na_value=np.nan)
            total = f", amount total {fmt_number(float(np.nansum(amounts[ref])))}"
        out.append(Alert("orders", "is_refund" if "is_refund" in orders else "status", "refunds", "info",
                         f"orders: {rows_text(k, n)} are refund lines (is_refund or a refund status){total}",
                         k, k / n))  # fmt: skip
    neg = negative_amount_mask(orders).to_numpy()
    k = int(neg.sum())
    if k:
        ex = orders.loc[neg, "amount"].head(5).tolist()
        out.append(Alert("orders", "amount", "negative_amounts", "warning",
                         f"orders.amount: {rows_text(k, n)} are negative but not marked as refunds, e.g. "
                         f"{', '.join(fmt_number(v) for v in ex)}; see cleaning.negative_amounts",
                         k, k / n, tuple(ex)))  # fmt: skip
    return out


@dataclass(frozen=True)
class CrossChecks:
    """What :func:`cross_table_checks` finds.

    Attributes
    ----------
    alerts : tuple of Alert
    references : pandas.DataFrame
        :func:`workbench.core.contract.check_references` result.
    extreme : pandas.DataFrame
        Extreme spenders (``customer_id``, ``spend``, ``orders``, ``log_spend``, ``robust_z``).
    top_spenders : pandas.DataFrame
        The 20 customers with the highest robust z of log spend.
    crm : dict of str to int
        Rows (or customers) per cross-table CRM kind.
    """

    alerts: tuple[Alert, ...]
    references: pd.DataFrame
    extreme: pd.DataFrame
    top_spenders: pd.DataFrame
    crm: dict[str, int] = field(default_factory=dict)


def _examples(text: object) -> tuple[str, ...]:
    """The example keys of a reference-check row (``"'C1', 'C2'"``) as a tuple."""
    return tuple(x.strip().strip("'") for x in str(text).split(",") if x.strip())


def _reference_alerts(refs: pd.DataFrame) -> tuple[list[Alert], dict[str, int]]:
    """``orphan_orders`` / ``orphan_rows`` from the reference check."""
    alerts: list[Alert] = []
    crm: dict[str, int] = {}
    for r in refs.itertuples():
        if r.n_unmatched:
            kind = "orphan_orders" if r.table == "orders" else "orphan_rows"
            alerts.append(Alert(r.table, r.column, kind, "warning",
                                f"{r.table}: {rows_text(int(r.n_unmatched), int(r.n_rows))} have a {r.column} not in "
                                f"{r.references.split('.')[0]}, e.g. {r.examples}",
                                int(r.n_unmatched), r.n_unmatched / r.n_rows if r.n_rows else None,
                                _examples(r.examples)))  # fmt: skip
            crm[kind] = crm.get(kind, 0) + int(r.n_unmatched)
    return alerts, crm


def _without_orders(customers: pd.DataFrame, orders: pd.DataFrame) -> Alert | None:
    """``customers_without_orders``: customers whose key never appears in the orders."""
    cust = customers["customer_id"]
    no_orders = cust.notna().to_numpy() & ~fast_isin(cust, orders["customer_id"].unique())
    k = int(no_orders.sum())
    if not k:
        return None
    return Alert("customers", "customer_id", "customers_without_orders", "info",
                 f"customers: {rows_text(k, len(cust), 'customers')} have no orders",
                 k, k / len(cust), tuple(cust[no_orders].head(5).tolist()))  # fmt: skip


def _extreme_alert(orders: pd.DataFrame, extreme: pd.DataFrame, extreme_z: float) -> Alert:
    """``extreme_spenders``: customers whose log total spend has a robust z above ``extreme_z``."""
    ids = extreme["customer_id"]
    rows_ext = int(fast_isin(orders["customer_id"], ids).sum())
    ex = [f"{c} ({fmt_number(s)})" for c, s in zip(ids.head(3), extreme["spend"].head(3), strict=True)]
    return Alert("orders", "customer_id", "extreme_spenders", "warning",
                 f"orders: {len(extreme):,} customer(s) have an extreme total spend (robust z of log spend "
                 f"> {extreme_z:g}; {rows_ext:,} order rows), e.g. {', '.join(ex)}; see cleaning.extreme_spenders",
                 len(extreme), rows_ext / len(orders), tuple(ids.head(5).tolist()))  # fmt: skip


def cross_table_checks(frames: Mapping[str, pd.DataFrame], *, extreme_z: float) -> CrossChecks:
    """The checks across tables: orphan rows, customers without orders, extreme spenders.

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Canonical tables by contract name (any subset).
    extreme_z : float
        Robust z of log total spend above which a customer is an extreme spender.

    Returns
    -------
    CrossChecks
    """
    refs = check_references(frames)
    alerts, crm = _reference_alerts(refs)
    extreme = pd.DataFrame(columns=_SPENDER_COLUMNS)
    top_spenders = extreme.copy()
    orders = frames.get("orders")
    if orders is not None and {"customer_id", "amount"} <= set(orders.columns):
        if "customers" in frames and "customer_id" in frames["customers"]:
            alert = _without_orders(frames["customers"], orders)
            if alert is not None:
                alerts.append(alert)
                crm["customers_without_orders"] = alert.n_rows
        scores = spender_scores(orders).sort_values("robust_z", ascending=False, na_position="last")
        top_spenders = scores.head(20).reset_index(drop=True)
        extreme = scores[scores["robust_z"] > extreme_z].reset_index(drop=True)
        if len(extreme):
            alerts.append(_extreme_alert(orders, extreme, extreme_z))
            crm["extreme_spenders"] = len(extreme)
    return CrossChecks(alerts=tuple(alerts), references=refs, extreme=extreme, top_spenders=top_spenders, crm=crm)


def crm_counts(cross: Mapping[str, int], table_alerts: Sequence[Alert]) -> dict[str, int]:
    """Rows per CRM kind: the cross-table counts plus refunds, negative amounts and implausible
    dates summed over the table alerts.

    Parameters
    ----------
    cross : mapping of str to int
        :attr:`CrossChecks.crm`.
    table_alerts : sequence of Alert
        The alerts of every table profile, in table order.

    Returns
    -------
    dict of str to int
    """
    crm = dict(cross)
    for a in table_alerts:
        if a.kind in _TABLE_CRM_KINDS:
            crm[a.kind] = crm.get(a.kind, 0) + a.n_rows
    return crm
