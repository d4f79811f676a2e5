"""Who counts as a churner, and for how long they were a customer.

Two kinds of business (:attr:`ChurnLabel.kind`):

- **contractual**: the customer table says who left (a 0/1 or yes/no flag column) and for how
  long they were a customer (an end date, or a tenure column as in IBM Telco).
- **non_contractual** (retail): nobody says they left. Among customers with a purchase on or
  before ``as_of``, a churner is one with no purchase in the ``inactivity_days`` after it
  (``definition="inactivity"``), or with a CLV-model P(alive) below ``p_alive_threshold``
  (``definition="p_alive"``, from the segmentation artifact). The survival time is observed
  only up to the last purchase: months from sign-up to the last purchase for churners, and to
  ``as_of`` for the others (censored). The true dropout lies somewhere after the last purchase,
  so hazard ratios from this time are attenuated when purchase rates are low (see the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from workbench.churn._common import Text, months_between, purchase_mask
from workbench.core.dates import end_of
from workbench.core.errors import AnalysisError, format_examples
from workbench.report.fmt import count

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = ["ChurnLabel", "contractual_label", "non_contractual_label", "order_features"]

_TRUE = {"1", "1.0", "true", "t", "yes", "y", "是", "流失", "已流失", "churned", "churn"}
_FALSE = {"0", "0.0", "false", "f", "no", "n", "否", "未流失", "在网", "active", "retained"}


@dataclass(frozen=True)
class ChurnLabel:
    """How churn is defined.

    Attributes
    ----------
    kind : {"contractual", "non_contractual"}
        contractual: a churn flag (and end date or tenure) in the customers table;
        non_contractual: inferred from orders.
    definition : {"inactivity", "p_alive"}
        non_contractual: no purchase in ``inactivity_days`` after as_of, or P(alive) below
        ``p_alive_threshold``.
    inactivity_days : int
        non_contractual: the window after as_of.
    p_alive_threshold : float
        ``definition="p_alive"``: churned below this.
    flag_column : str
        contractual: 0/1 or yes/no churn column in customers.
    end_date_column : str or None
        contractual: date the customer left (optional; gives survival times).
    tenure_column : str or None
        contractual: tenure in months when there are no dates (e.g. Telco).

    Examples
    --------
    >>> ChurnLabel(kind="contractual", tenure_column="tenure_months").flag_column
    'churned'
    """

    kind: Literal["contractual", "non_contractual"] = "non_contractual"
    definition: Literal["inactivity", "p_alive"] = "inactivity"
    inactivity_days: int = 90
    p_alive_threshold: float = 0.5
    flag_column: str = "churned"
    end_date_column: str | None = "churn_date"
    tenure_column: str | None = "tenure_months"


def _binary(s: pd.Series, *, column: str) -> pd.Series:
    """0/1 (nullable Int64) from booleans, 0/1 numbers or yes/no text; otherwise AnalysisError."""
    fix = f"fix the column or label.flag_column={column!r}"
    if pd.api.types.is_bool_dtype(s):
        return s.astype("Int64")
    if pd.api.types.is_numeric_dtype(s):
        vals = s.dropna()
        bad = vals[~vals.isin([0, 1])]
        if len(bad):
            raise AnalysisError(
                f"customers.{column}: {len(bad):,} of {len(s):,} rows are not a binary churn label (0/1, yes/no), "
                f"e.g. {format_examples(bad.tolist())}; {fix}"
            )
        return s.astype("float64").round().astype("Int64")
    txt = s.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=s.index, dtype="Int64")
    out[txt.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = 1
    out[txt.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = 0
    bad = s[out.isna() & s.notna()]
    if len(bad):
        raise AnalysisError(
            f"customers.{column}: {len(bad):,} of {len(s):,} rows are not a binary churn label (0/1, yes/no, 是/否), "
            f"e.g. {format_examples(bad.tolist())}; {fix}"
        )
    return out


def order_features(
    orders: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp, *, con: ibis.BaseBackend | None = None
) -> pd.DataFrame:
    """Order features of ``customers`` as of ``as_of`` (:func:`workbench.data.features.customer_features`),
    computed on ``con`` (default a fresh in-memory DuckDB)."""
    from workbench.data.features import customer_features

    cust = customers[["customer_id"] + (["signup_date"] if "signup_date" in customers.columns else [])]
    return customer_features(orders, as_of=as_of.date(), customers=cust, con=con)


# --------------------------------------------------------------------------------------------
# contractual
# --------------------------------------------------------------------------------------------


def contractual_label(
    c: pd.DataFrame,
    orders: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    label: ChurnLabel,
    notes: list[str],
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, Text, None]:
    """Label and survival time from the churn flag, end date or tenure columns of ``c`` (order
    features, when orders are given, computed on ``con``).

    Returns
    -------
    (table, definition, window) : the labelled table, the label in words, None
    """
    flag = label.flag_column
    if flag not in c.columns:
        raise AnalysisError(
            f"customers: churn flag column {flag!r} not found (columns: {', '.join(map(str, c.columns[:15]))}); "
            "map it in the table's columns or set label.flag_column"
        )
    y = _binary(c[flag], column=flag)
    if y.isna().any():
        notes.append(Text("churn.frame.note.no_flag", n=count(y.isna().sum()), flag=flag))
    t = c.assign(churned=y)[y.notna().to_numpy()].reset_index(drop=True)
    t["churned"] = t["churned"].astype("int64")
    if flag != "churned":
        t = t.drop(columns=[flag])
    t, how = _step_contract_duration(t, as_of=as_of, label=label, notes=notes)
    _step_fill_blank_totals(t, notes=notes)
    if orders is not None:
        f = order_features(orders, t, as_of, con=con)
        t = t.merge(
            f.drop(columns=[x for x in f.columns if x in t.columns and x != "customer_id"]),
            on="customer_id",
            how="left",
        )
    return t, Text("churn.frame.definition.flag", flag=flag, how=how), None


def _step_contract_duration(
    t: pd.DataFrame, *, as_of: pd.Timestamp, label: ChurnLabel, notes: list[str]
) -> tuple[pd.DataFrame, Text | str]:
    """``duration_months`` (and ``start_date``) from an end date with sign-up dates, or a tenure column."""
    end = end_of(as_of)
    ed, ten = label.end_date_column, label.tenure_column
    if ed and ed in t.columns and "signup_date" in t.columns:
        stop = pd.to_datetime(t[ed], errors="coerce")
        stop = stop.where(t["churned"].eq(1) & stop.notna(), end)
        t["duration_months"] = months_between(t["signup_date"], stop)
        t["start_date"] = t["signup_date"]
        return t, Text("churn.frame.how.end_date", column=ed)
    if ten and ten in t.columns:
        t["duration_months"] = pd.to_numeric(t[ten], errors="coerce").astype("float64")
        if "signup_date" in t.columns:
            t["start_date"] = t["signup_date"]
        return t, f"{ten}"
    t["duration_months"] = np.nan
    notes.append(Text("churn.frame.note.no_duration"))
    return t, Text("churn.frame.how.none")


def _step_fill_blank_totals(t: pd.DataFrame, *, notes: list[str]) -> None:
    """Cumulative amounts are blank for customers with zero tenure (not billed yet): set to 0, in place."""
    dur = t["duration_months"]
    for col in [x for x in t.columns if (x.startswith("total") or x.endswith("_sum"))]:
        if not pd.api.types.is_numeric_dtype(t[col]):
            continue
        na = t[col].isna()
        if not na.any():
            continue
        zero = na & dur.eq(0)
        if zero.any():
            t.loc[zero.to_numpy(), col] = 0.0
            notes.append(Text("churn.frame.note.blank_zero", column=col, blank=count(na.sum()), n=count(len(t)),
                              zero=count(zero.sum())))
        rest = na & ~zero
        if rest.any():
            notes.append(Text("churn.frame.note.blank_rest", column=col, n=count(rest.sum())))


# --------------------------------------------------------------------------------------------
# non-contractual
# --------------------------------------------------------------------------------------------


def non_contractual_label(
    c: pd.DataFrame,
    orders: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    label: ChurnLabel,
    segments: pd.DataFrame | None,
    notes: list[str],
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, Text, int | None]:
    """Label (inactivity window or P(alive)) and observed survival time of customers who bought by ``as_of``
    (order features computed on ``con``, default a fresh in-memory DuckDB).

    Returns
    -------
    (table, definition, window) : the labelled table, the label in words, the window in days or None
    """
    if orders is None:
        raise AnalysisError(
            "churn frame: non-contractual churn is inferred from orders, but no orders table was given; "
            "pass orders or use label.kind='contractual'"
        )
    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(f"orders: column {col!r} not found; map it in the orders table's columns")
    f = order_features(orders, c, as_of, con=con)
    f = f[f["n_orders"] > 0]
    t = c.merge(
        f.drop(columns=[x for x in f.columns if x in c.columns and x != "customer_id"]), on="customer_id", how="inner"
    )
    n_no = len(c) - len(t)
    if n_no:
        notes.append(Text("churn.frame.note.no_purchase", n=count(n_no), as_of=as_of))
    window: int | None = None
    if label.definition == "inactivity":
        window = int(label.inactivity_days)
        t, definition = _step_inactivity(t, orders, as_of=as_of, window=window)
    else:
        t, definition = _step_p_alive(t, segments, threshold=label.p_alive_threshold, notes=notes)
    _step_observed_duration(t, end=end_of(as_of), notes=notes)
    return t, definition, window


def _step_inactivity(
    t: pd.DataFrame, orders: pd.DataFrame, *, as_of: pd.Timestamp, window: int
) -> tuple[pd.DataFrame, Text]:
    """Churned: no purchase in the ``window`` days after ``as_of`` (the orders must reach that far)."""
    end = end_of(as_of)
    ot = pd.to_datetime(orders["order_time"], errors="coerce")
    buy = purchase_mask(orders) & ot.notna()
    last = ot[buy].max()
    need = as_of + pd.Timedelta(days=window)
    if pd.isna(last) or last.normalize() < need:
        possible = max(int((last.normalize() - as_of).days), 0) if pd.notna(last) else 0
        raise AnalysisError(
            f"orders.order_time: the last order is on {last.date() if pd.notna(last) else 'n/a'}, but the churn "
            f"window needs data to {need.date()} ({window} days after as_of {as_of.date()}); at most {possible} "
            "days are possible. Lower label.inactivity_days or use an earlier as_of"
        )
    wend = end + pd.Timedelta(days=window)
    active = pd.unique(orders.loc[(buy & (ot >= end) & (ot < wend)).to_numpy(), "customer_id"])
    t["churned"] = (~t["customer_id"].isin(active)).astype("int64")
    definition = Text("churn.frame.definition.inactivity", window=window, as_of=as_of, start=end,
                      end=wend - pd.Timedelta(days=1))
    return t, definition


def _step_p_alive(
    t: pd.DataFrame, segments: pd.DataFrame | None, *, threshold: float, notes: list[str]
) -> tuple[pd.DataFrame, Text]:
    """Churned: P(alive) from the segmentation artifact below ``threshold``."""
    if segments is None or "probability_alive" not in segments.columns:
        raise AnalysisError(
            "churn frame: label.definition is 'p_alive' but no segments table with a "
            "'probability_alive' column was given (run the segmentation notebook with CLV models first)"
        )
    pa = segments[["customer_id", "probability_alive"]].drop_duplicates("customer_id")
    t = t.merge(pa, on="customer_id", how="left")
    na = t["probability_alive"].isna()
    if na.any():
        notes.append(Text("churn.frame.note.no_p_alive", n=count(na.sum())))
        t = t[~na.to_numpy()].reset_index(drop=True)
    t["churned"] = (t["probability_alive"] < threshold).astype("int64")
    return t, Text("churn.frame.definition.p_alive", threshold=f"{threshold:g}")


def _step_observed_duration(t: pd.DataFrame, *, end: pd.Timestamp, notes: list[str]) -> None:
    """``start_date`` and ``duration_months``: sign-up (or first order) to the last purchase, or to as_of; in place."""
    start = t["signup_date"].fillna(t["first_order"]) if "signup_date" in t.columns else t["first_order"]
    t["start_date"] = start
    stop = t["last_order"].where(t["churned"].eq(1), end)
    dur = months_between(start, stop)
    neg = dur < 0
    if neg.any():
        notes.append(Text("churn.frame.note.negative_duration", n=count(neg.sum())))
        dur = dur.clip(lower=0)
    t["duration_months"] = dur
    notes.append(Text("churn.frame.note.observed_time"))
