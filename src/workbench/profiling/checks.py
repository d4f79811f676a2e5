"""CRM checks: refunds and negative amounts in orders, and the checks across tables (orphan rows,
customers without orders, extreme spenders)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.contract import check_references
from workbench.data.cleaning import fast_isin, negative_amount_mask, refund_mask, spender_scores
from workbench.profiling import queries
from workbench.profiling.alerts import Alert, fmt_number, rows_text
from workbench.report import fmt
from workbench.report.i18n import t

__all__ = [
    "CrossChecks",
    "SPENDER_COLUMNS",
    "order_alerts",
    "order_alerts_of",
    "reference_alerts",
    "without_orders_alert",
    "extreme_alert",
    "cross_table_checks",
    "engine_cross_table_checks",
    "crm_counts",
]

SPENDER_COLUMNS = ["customer_id", "spend", "orders", "log_spend", "robust_z"]
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
    ref = refund_mask(orders).to_numpy()
    total = None
    if "amount" in orders:
        amounts = orders["amount"].to_numpy(dtype="float64", na_value=np.nan)
        total = float(np.nansum(amounts[ref]))
    neg = negative_amount_mask(orders).to_numpy()
    ex = orders.loc[neg, "amount"].head(5).tolist() if neg.any() else []
    return order_alerts_of(len(orders), int(ref.sum()), total, int(neg.sum()), ex, list(orders.columns))


def order_alerts_of(
    n: int, refunds: int, refund_total: float | None, negative: int, examples: Sequence[float], columns: Sequence[str]
) -> list[Alert]:
    """The alerts of :func:`order_alerts` from the counts (pandas or engine).

    Parameters
    ----------
    n : int
        Order rows.
    refunds : int
        Refund lines.
    refund_total : float or None
        Their amount total (None without an ``amount`` column).
    negative : int
        Negative amounts not marked as refunds.
    examples : sequence of float
        A few of them.
    columns : sequence of str
        The orders' columns.

    Returns
    -------
    list of Alert
    """
    out: list[Alert] = []
    if refunds:
        total = "" if refund_total is None else t("profiling.alerts.refund_total", amount=fmt.money(refund_total))
        out.append(Alert("orders", "is_refund" if "is_refund" in columns else "status", "refunds", "info",
                         t("profiling.alerts.refunds", rows=rows_text(refunds, n), total=total),
                         refunds, refunds / n))  # fmt: skip
    if negative:
        ex = list(examples)
        out.append(Alert("orders", "amount", "negative_amounts", "warning",
                         t("profiling.alerts.negative_amounts", rows=rows_text(negative, n),
                           examples=", ".join(fmt_number(v) for v in ex)),
                         negative, negative / n, tuple(ex)))  # fmt: skip
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


def reference_alerts(refs: pd.DataFrame) -> tuple[list[Alert], dict[str, int]]:
    """``orphan_orders`` / ``orphan_rows`` from the reference check."""
    alerts: list[Alert] = []
    crm: dict[str, int] = {}
    for r in refs.itertuples():
        if r.n_unmatched:
            kind = "orphan_orders" if r.table == "orders" else "orphan_rows"
            alerts.append(Alert(r.table, r.column, kind, "warning",
                                t("profiling.alerts.orphans", table=r.table,
                                  rows=rows_text(int(r.n_unmatched), int(r.n_rows)), column=r.column,
                                  target=r.references.split(".")[0], examples=r.examples),
                                int(r.n_unmatched), r.n_unmatched / r.n_rows if r.n_rows else None,
                                _examples(r.examples)))  # fmt: skip
            crm[kind] = crm.get(kind, 0) + int(r.n_unmatched)
    return alerts, crm


def _without_orders(customers: pd.DataFrame, orders: pd.DataFrame) -> Alert | None:
    """``customers_without_orders``: customers whose key never appears in the orders."""
    cust = customers["customer_id"]
    no_orders = cust.notna().to_numpy() & ~fast_isin(cust, orders["customer_id"].unique())
    return without_orders_alert(int(no_orders.sum()), len(cust), cust[no_orders].head(5).tolist())


def without_orders_alert(k: int, n: int, examples: Sequence[Any]) -> Alert | None:
    """The ``customers_without_orders`` alert of ``k`` of ``n`` customers (None when ``k`` is 0)."""
    if not k:
        return None
    return Alert("customers", "customer_id", "customers_without_orders", "info",
                 t("profiling.alerts.customers_without_orders", rows=rows_text(k, n, "customers")),
                 k, k / n, tuple(examples))  # fmt: skip


def extreme_alert(rows_ext: int, n_orders: int, extreme: pd.DataFrame, extreme_z: float) -> Alert:
    """``extreme_spenders``: customers whose log total spend has a robust z above ``extreme_z``
    (``rows_ext`` of the ``n_orders`` order rows are theirs)."""
    ids = extreme["customer_id"]
    ex = [f"{c} ({fmt.money(s)})" for c, s in zip(ids.head(3), extreme["spend"].head(3), strict=True)]
    return Alert("orders", "customer_id", "extreme_spenders", "warning",
                 t("profiling.alerts.extreme_spenders", n=f"{len(extreme):,}", z=f"{extreme_z:g}",
                   rows=f"{rows_ext:,}", examples=", ".join(ex)),
                 len(extreme), rows_ext / n_orders, tuple(ids.head(5).tolist()))  # fmt: skip


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
    alerts, crm = reference_alerts(refs)
    extreme = pd.DataFrame(columns=SPENDER_COLUMNS)
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
            rows_ext = int(fast_isin(orders["customer_id"], extreme["customer_id"]).sum())
            alerts.append(extreme_alert(rows_ext, len(orders), extreme, extreme_z))
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


def engine_cross_table_checks(tables: Mapping[str, ir.Table], *, extreme_z: float) -> CrossChecks:
    """:func:`cross_table_checks` with every count computed in the engine.

    Parameters
    ----------
    tables : mapping of str to ibis Table
        Canonical tables by contract name (any subset), on one engine.
    extreme_z : float

    Returns
    -------
    CrossChecks
        As :func:`cross_table_checks`; example keys are listed by value, and the customers
        tied on spend by ``customer_id``.
    """
    rows = []
    for name, col, t_table, t_col in queries.reference_pairs(tables):
        t = tables[name]
        k, ex = queries.unmatched_keys(t, col, tables[t_table], t_col)
        rows.append({"table": name, "column": col, "references": f"{t_table}.{t_col}",
                     "n_rows": int(t.count().to_pandas()), "n_unmatched": k,
                     "examples": ", ".join(map(repr, ex))})  # fmt: skip
    refs = pd.DataFrame(rows, columns=["table", "column", "references", "n_rows", "n_unmatched", "examples"])
    alerts, crm = reference_alerts(refs)
    extreme = pd.DataFrame(columns=SPENDER_COLUMNS)
    top_spenders = extreme.copy()
    orders = tables.get("orders")
    if orders is not None and {"customer_id", "amount"} <= set(orders.columns):
        customers = tables.get("customers")
        if customers is not None and "customer_id" in customers.columns:
            k, ex = queries.unmatched_keys(customers, "customer_id", orders, "customer_id")
            alert = without_orders_alert(k, int(customers.count().to_pandas()), ex)
            if alert is not None:
                alerts.append(alert)
                crm["customers_without_orders"] = alert.n_rows
        scores, med, scale = queries.spender_scores_expr(orders)
        z = (scores.log_spend - med) / scale if scale > 0 else ibis.ifelse(scores.log_spend.notnull(), 0.0, None)
        scored = scores.mutate(robust_z=z)
        ranked = scored.order_by([ibis.desc("log_spend"), "customer_id"])
        top_spenders = ranked.limit(20).to_pandas()[SPENDER_COLUMNS]
        extreme = ranked.filter(scored.robust_z > extreme_z).to_pandas()[SPENDER_COLUMNS]
        if len(extreme):
            ids = scored.filter(scored.robust_z > extreme_z).select("customer_id")
            rows_ext = int(orders.filter(orders.customer_id.isin(ids.customer_id)).count().to_pandas())
            alerts.append(extreme_alert(rows_ext, int(orders.count().to_pandas()), extreme, extreme_z))
            crm["extreme_spenders"] = len(extreme)
    return CrossChecks(alerts=tuple(alerts), references=refs, extreme=extreme, top_spenders=top_spenders, crm=crm)
