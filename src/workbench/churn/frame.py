"""Churn, descriptive part: who leaves, how many, when and why.

One call per notebook section, each returning a result object (``summary()``, ``finding()``,
``plot()``, ``metrics()``):

1. :func:`churn_frame`: one row per eligible customer with the churn label, a survival time
   (``duration_months``, ``event``), the cohort and covariates known at ``as_of``.
2. :func:`churn_rates`: churn rate overall and by group with Wilson intervals.
3. :func:`cohort_retention`: acquisition month x months since, from orders (or survival).
4. Survival curves, hazard by tenure and the Cox model live in :mod:`workbench.churn.survival`.
5. :func:`churn_drivers`: univariate drivers, chi-square test per feature, Holm, Cramér's V.
6. :func:`unhappy_vs_drift`: churners who left unhappy (bad service) vs those who drifted away.
7. :func:`recommendations`: actions computed from the numbers.

Two kinds of business are handled (``analyses.churn.label.kind``):

- **contractual**: the customer table says who left (a 0/1 or yes/no flag column) and for how
  long they were a customer (an end date, or a tenure column as in IBM Telco).
- **non_contractual** (retail): nobody says they left. Among customers with a purchase on or
  before ``as_of``, a churner is one with no purchase in the ``inactivity_days`` after it
  (``definition: inactivity``), or with a CLV-model P(alive) below ``p_alive_threshold``
  (``definition: p_alive``, from the segmentation artifact). The survival time is observed
  only up to the last purchase: months from sign-up to the last purchase for churners, and to
  ``as_of`` for the others (censored). The true dropout lies somewhere after the last purchase,
  so hazard ratios from this time are attenuated when purchase rates are low (see the README).

Only data on or before ``as_of`` feeds the covariates; the label alone uses the window after.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn.params import ChurnLabelParams, UnhappyChurnParams
from workbench.core.errors import AnalysisError, StatisticalWarning, format_examples
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import holm, wilson_interval

__all__ = [
    "ChurnFrame",
    "ChurnRates",
    "CohortRetention",
    "ChurnDrivers",
    "ChurnReasons",
    "Recommendations",
    "churn_frame",
    "churn_rates",
    "cohort_retention",
    "churn_drivers",
    "unhappy_vs_drift",
    "recommendations",
    "model_frames",
    "default_cox_covariates",
    "BEHAVIOUR_COLUMNS",
    "current_customers",
    "segment_column",
    "SEGMENT_COLUMNS",
    "NOT_CONTROLLABLE",
    "MONTH_DAYS",
]

#: Days per month used for every duration in months.
MONTH_DAYS = 30.4375
#: Columns the business cannot act on: demographics and time already spent. Used as the default
#: when ``analyses.churn.controllable`` is not set (everything else counts as controllable).
NOT_CONTROLLABLE: tuple[str, ...] = (
    "gender", "age", "age_at_signup", "birth_date", "city", "province", "SeniorCitizen", "Partner",
    "Dependents", "cohort", "tenure_months", "tenure_days", "duration_months", "first_order",
    # purchase behaviour is a symptom of churn, not a lever
    "recency_days", "n_orders", "n_purchase_days", "monetary_sum", "monetary_mean", "monetary_net", "gap_mean_days",
    "gap_median_days", "gap_max_days", "btyd_frequency", "btyd_recency_days", "btyd_T_days", "n_channels",
    "n_refunds", "refund_amount", "refund_share", "refund_amount_share", "probability_alive", "clv", "r", "f", "m",
    "total_charges", "expected_purchases", "expected_order_value", "cluster", "cluster_name", "rfm_segment",
    "abc_class", "btyd_T_days", "share_app", "share_web", "share_store", "share_mini_program", "flag_extreme",
)  # fmt: skip
#: Never features: keys, personal data, the label and dates.
_NOT_FEATURES = {
    "customer_id", "churned", "event", "duration_months", "name", "phone", "email", "start_date",
    "signup_date", "birth_date", "first_order", "last_order", "last_ticket_at", "churn_date", "end_date",
}  # fmt: skip
_TRUE = {"1", "1.0", "true", "t", "yes", "y", "是", "流失", "已流失", "churned", "churn"}
_FALSE = {"0", "0.0", "false", "f", "no", "n", "否", "未流失", "在网", "active", "retained"}
_MISSING = "(missing)"


def _end_of(as_of: Any) -> pd.Timestamp:
    return pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1)


def _binary(s: pd.Series, *, column: str, params_key: str) -> pd.Series:
    """0/1 (nullable Int64) from booleans, 0/1 numbers or yes/no text; otherwise AnalysisError."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("Int64")
    if pd.api.types.is_numeric_dtype(s):
        vals = s.dropna()
        bad = vals[~vals.isin([0, 1])]
        if len(bad):
            raise AnalysisError(
                f"customers.{column}: {len(bad):,} of {len(s):,} rows are not a binary churn label (0/1, yes/no), "
                f"e.g. {format_examples(bad.tolist())}; fix the column or {params_key}"
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
            f"e.g. {format_examples(bad.tolist())}; fix the column or {params_key}"
        )
    return out


def _months(a: pd.Series, b: pd.Series | pd.Timestamp) -> pd.Series:
    return (b - a).dt.total_seconds() / 86400.0 / MONTH_DAYS


def _purchase_mask(orders: pd.DataFrame) -> pd.Series:
    """Purchase lines: positive amount, not flagged as refund (same rule as workbench.data.features)."""
    m = orders["amount"] > 0
    if "is_refund" in orders.columns:
        m &= ~orders["is_refund"].fillna(False).astype(bool)
    if "status" in orders.columns:
        st = orders["status"].astype("string").str.lower().fillna("")
        m &= ~(st.str.contains("refund") | st.str.contains("退"))
    return m.fillna(False).astype(bool)


# ============================================================================================
# 1. The churn frame
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ChurnFrame(Result):
    """Customers with their churn label, survival time and covariates (see :func:`churn_frame`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per eligible customer: ``customer_id``, ``churned`` (0/1), ``duration_months``,
        ``event`` (0/1, equal to ``churned``), ``start_date`` and ``cohort`` (when dates exist),
        customer covariates, order features as of ``as_of``, segment and ticket columns.
    kind : str
        ``contractual`` or ``non_contractual``.
    definition : str
        The label in words.
    as_of : pandas.Timestamp
    window_days : int or None
        Inactivity window (non-contractual, ``inactivity``).
    n_input : int
        Customers in the input table.
    notes : list of str
        What was excluded, filled or derived (e.g. blank ``total_charges``).
    """

    table: pd.DataFrame
    kind: str
    definition: str
    as_of: pd.Timestamp
    window_days: int | None
    n_input: int
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        """Eligible customers."""
        return len(self.table)

    @property
    def n_churned(self) -> int:
        """Churners."""
        return int(self.table["churned"].sum())

    @property
    def rate(self) -> float:
        """Overall churn rate."""
        return self.n_churned / self.n if self.n else float("nan")

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        """Wilson interval of the overall churn rate."""
        lo, hi = wilson_interval(self.n_churned, self.n, confidence=confidence)
        return float(lo[0]), float(hi[0])

    def features(self) -> list[str]:
        """Columns usable as drivers or covariates (not keys, label, dates or personal data)."""
        t = self.table
        out = []
        for c in t.columns:
            if c in _NOT_FEATURES or pd.api.types.is_datetime64_any_dtype(t[c]):
                continue
            if self.definition.startswith("P(alive)") and c == "probability_alive":
                continue
            if t[c].nunique(dropna=True) < 2:
                continue
            out.append(c)
        return out

    def summary(self) -> pd.DataFrame:
        """One row: customers, churners, churn rate with its 95 % Wilson interval, definition."""
        lo, hi = self.interval()
        return pd.DataFrame(
            [
                {
                    "customers": self.n,
                    "churners": self.n_churned,
                    "churn_rate": self.rate,
                    "lower": lo,
                    "upper": hi,
                    "kind": self.kind,
                    "definition": self.definition,
                    "as_of": self.as_of.date().isoformat(),
                }
            ]
        )

    def to_frame(self) -> pd.DataFrame:
        """The per-customer table (a copy)."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Sizes, churn rate with interval, definition and notes (JSON-able)."""
        lo, hi = self.interval()
        return {
            "kind": self.kind,
            "definition": self.definition,
            "as_of": self.as_of.date().isoformat(),
            "window_days": self.window_days,
            "n_input": self.n_input,
            "n_customers": self.n,
            "n_churned": self.n_churned,
            "churn_rate": num(self.rate),
            "churn_rate_lower": num(lo),
            "churn_rate_upper": num(hi),
            "notes": list(self.notes),
        }

    def finding(self) -> str:
        """The churn rate in words, with what the label means."""
        lo, hi = self.interval()
        text = (
            f"{pct(self.rate)} of {self.n:,} customers churned ({self.n_churned:,}; 95% CI {pct(lo)} to {pct(hi)}). "
            f"Churn here means: {self.definition}."
        )
        if self.n < self.n_input:
            text += f" {self.n_input - self.n:,} of {self.n_input:,} customers were not eligible (see notes)."
        return " ".join([text, *self.notes])

    def __repr__(self) -> str:
        return (
            f"ChurnFrame(kind={self.kind!r}, customers={self.n:,}, churned={self.n_churned:,}, "
            f"rate={self.rate:.1%}, as_of={self.as_of.date()})"
        )


def churn_frame(
    customers: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    as_of: Any,
    label: ChurnLabelParams | None = None,
    segments: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    launch_date: Any = None,
    unhappy: UnhappyChurnParams | None = None,
) -> ChurnFrame:
    """Build the per-customer churn table.

    Parameters
    ----------
    customers : pandas.DataFrame
        Canonical customers (``customer_id``; optional ``signup_date``, ``birth_date``, ``age``,
        categorical columns, and for contractual data the flag / end date / tenure columns).
    orders : pandas.DataFrame, optional
        Canonical orders; required for non-contractual churn. Features as of ``as_of`` are added
        (:func:`workbench.data.features.customer_features`).
    as_of : date
        Analysis date. Features use data up to the end of this day; the non-contractual label
        uses the ``inactivity_days`` after it. Call again with an earlier date to build an
        out-of-time training set.
    label : ChurnLabelParams, optional
        ``analyses.churn.label`` (default: non-contractual, 90 days of inactivity).
    segments : pandas.DataFrame, optional
        Segmentation artifact (``customer_id`` plus ``abc_class``, ``rfm_segment``,
        ``cluster_name``, ``clv``, ``probability_alive`` ...), joined by ``customer_id``.
    tickets : pandas.DataFrame, optional
        Canonical service tickets; aggregates of tickets opened on or before ``as_of`` are added:
        ``n_tickets``, ``n_complaints``, ``n_bad_tickets`` (satisfaction <= ``csat_max``),
        ``mean_satisfaction``, ``first_response_hours``, ``last_ticket_at``.
    launch_date : date, optional
        Business launch; sign-up dates before it are treated as unknown.
    unhappy : UnhappyChurnParams, optional
        For ``csat_max`` of the ticket aggregates (default 2).

    Returns
    -------
    ChurnFrame

    Raises
    ------
    AnalysisError
        Missing label column, a label that is not binary, no orders for non-contractual churn,
        an inactivity window longer than the data after ``as_of``, no churners or only churners.
    """
    label = label or ChurnLabelParams()
    unhappy = unhappy or UnhappyChurnParams()
    as_of = pd.Timestamp(as_of).normalize()
    end = _end_of(as_of)
    if "customer_id" not in customers.columns:
        raise AnalysisError("customers: column 'customer_id' not found; map it in tables.customers.columns")
    n_input = len(customers)
    notes: list[str] = []
    c = customers.drop(columns=[x for x in ("name", "phone", "email") if x in customers.columns])
    dup = c["customer_id"].duplicated()
    if dup.any():
        notes.append(f"{int(dup.sum()):,} duplicate customer_id rows dropped (first kept).")
        c = c[~dup]
    c = c.reset_index(drop=True)
    if "signup_date" in c.columns:
        sd = pd.to_datetime(c["signup_date"], errors="coerce")
        if launch_date is not None:
            pre = sd < pd.Timestamp(launch_date)
            if pre.any():
                notes.append(f"{int(pre.sum()):,} sign-up dates before the launch {pd.Timestamp(launch_date).date()} treated as unknown.")
                sd = sd.mask(pre)
        c["signup_date"] = sd
        late = sd >= end
        if late.any():
            notes.append(f"{int(late.sum()):,} customers who signed up after as_of excluded.")
            c = c[~late.to_numpy()].reset_index(drop=True)
    if "birth_date" in c.columns:
        bd = pd.to_datetime(c["birth_date"], errors="coerce")
        ref = c["signup_date"] if "signup_date" in c.columns else pd.Series(as_of, index=c.index)
        age = (ref - bd).dt.days / 365.25
        c["age_at_signup" if "signup_date" in c.columns else "age"] = age.where((age >= 10) & (age <= 110))
    kind = label.kind
    if kind == "contractual":
        table, definition, window = _contractual(c, orders, as_of=as_of, label=label, notes=notes)
    else:
        table, definition, window = _non_contractual(c, orders, as_of=as_of, label=label, segments=segments, notes=notes)
    if segments is not None:
        table = _join_segments(table, segments, notes=notes)
    if tickets is not None:
        table = table.merge(_ticket_features(tickets, end=end, csat_max=unhappy.csat_max), on="customer_id", how="left")
        for col in ("n_tickets", "n_complaints", "n_bad_tickets"):
            table[col] = table[col].fillna(0).astype("int64")
    if "start_date" in table.columns:
        table["cohort"] = table["start_date"].dt.to_period("M").astype(str).where(table["start_date"].notna())
    k = int(table["churned"].sum())
    key = "analyses.churn.label.flag_column" if kind == "contractual" else "analyses.churn.label.inactivity_days"
    if len(table) == 0:
        raise AnalysisError(f"churn frame: no eligible customer as of {as_of.date()}; check as_of and {key}")
    if k == 0 or k == len(table):
        raise AnalysisError(
            f"churn frame.churned: {'no' if k == 0 else 'every'} one of the {len(table):,} eligible customers churned "
            f"as of {as_of.date()} ({definition}); churn cannot be analysed. Check {key} and as_of"
        )
    table["event"] = table["churned"].astype("int64")
    first = ["customer_id", "churned", "duration_months", "event"] + [x for x in ("start_date", "cohort") if x in table]
    table = table[first + [x for x in table.columns if x not in first]]
    return ChurnFrame(
        table=table, kind=kind, definition=definition, as_of=as_of, window_days=window, n_input=n_input, notes=notes
    )


def _order_features(orders: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    from workbench.data.features import customer_features

    cust = customers[["customer_id"] + (["signup_date"] if "signup_date" in customers.columns else [])]
    f = customer_features(orders, as_of=as_of.date(), customers=cust)
    return f


def _contractual(
    c: pd.DataFrame, orders: pd.DataFrame | None, *, as_of: pd.Timestamp, label: ChurnLabelParams, notes: list[str]
) -> tuple[pd.DataFrame, str, None]:
    flag = label.flag_column
    if flag not in c.columns:
        raise AnalysisError(
            f"customers: churn flag column {flag!r} not found (columns: {', '.join(map(str, c.columns[:15]))}); "
            "map it in tables.customers.columns or set analyses.churn.label.flag_column"
        )
    y = _binary(c[flag], column=flag, params_key="analyses.churn.label.flag_column")
    if y.isna().any():
        notes.append(f"{int(y.isna().sum()):,} customers without a churn flag ({flag}) excluded.")
    t = c.assign(churned=y)[y.notna().to_numpy()].reset_index(drop=True)
    t["churned"] = t["churned"].astype("int64")
    if flag != "churned":
        t = t.drop(columns=[flag])
    end = _end_of(as_of)
    ed, ten = label.end_date_column, label.tenure_column
    if ed and ed in t.columns and "signup_date" in t.columns:
        stop = pd.to_datetime(t[ed], errors="coerce")
        stop = stop.where(t["churned"].eq(1) & stop.notna(), end)
        t["duration_months"] = _months(t["signup_date"], stop)
        t["start_date"] = t["signup_date"]
        how = f"months from signup_date to {ed} (or to as_of for those still customers)"
    elif ten and ten in t.columns:
        t["duration_months"] = pd.to_numeric(t[ten], errors="coerce").astype("float64")
        if "signup_date" in t.columns:
            t["start_date"] = t["signup_date"]
        how = f"{ten}"
    else:
        t["duration_months"] = np.nan
        notes.append(
            "No survival time: neither an end date with signup_date nor a tenure column "
            "(analyses.churn.label.end_date_column / tenure_column); survival analyses are not available."
        )
        how = "n/a"
    # cumulative amounts are blank for customers with zero tenure (not billed yet): 0, reported
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
            notes.append(
                f"customers.{col}: {int(na.sum()):,} of {len(t):,} blank, {int(zero.sum()):,} of them with tenure 0 "
                "(new customers not billed yet): set to 0."
            )
        rest = na & ~zero
        if rest.any():
            notes.append(f"customers.{col}: {int(rest.sum()):,} blank with tenure > 0, left missing.")
    if orders is not None:
        f = _order_features(orders, t, as_of)
        t = t.merge(f.drop(columns=[x for x in f.columns if x in t.columns and x != "customer_id"]), on="customer_id", how="left")
    definition = f"the churn flag {flag} says the customer left (survival time: {how})"
    return t, definition, None


def _non_contractual(
    c: pd.DataFrame,
    orders: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp,
    label: ChurnLabelParams,
    segments: pd.DataFrame | None,
    notes: list[str],
) -> tuple[pd.DataFrame, str, int | None]:
    if orders is None:
        raise AnalysisError(
            "churn frame: non-contractual churn is inferred from orders, but no orders table was given; "
            "load tables.orders or set analyses.churn.label.kind: contractual"
        )
    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(f"orders: column {col!r} not found; map it in tables.orders.columns")
    end = _end_of(as_of)
    ot = pd.to_datetime(orders["order_time"], errors="coerce")
    buy = _purchase_mask(orders) & ot.notna()
    f = _order_features(orders, c, as_of)
    f = f[f["n_orders"] > 0]
    t = c.merge(f.drop(columns=[x for x in f.columns if x in c.columns and x != "customer_id"]), on="customer_id", how="inner")
    n_no = len(c) - len(t)
    if n_no:
        notes.append(f"{n_no:,} customers without a purchase on or before {as_of.date()} are not eligible.")
    window: int | None = None
    if label.definition == "inactivity":
        window = int(label.inactivity_days)
        last = ot[buy].max()
        need = as_of + pd.Timedelta(days=window)
        if pd.isna(last) or last.normalize() < need:
            possible = max(int((last.normalize() - as_of).days), 0) if pd.notna(last) else 0
            raise AnalysisError(
                f"orders.order_time: the last order is on {last.date() if pd.notna(last) else 'n/a'}, but the churn "
                f"window needs data to {need.date()} ({window} days after as_of {as_of.date()}); at most {possible} "
                "days are possible. Lower analyses.churn.label.inactivity_days or use an earlier as_of"
            )
        wend = end + pd.Timedelta(days=window)
        active = pd.unique(orders.loc[(buy & (ot >= end) & (ot < wend)).to_numpy(), "customer_id"])
        t["churned"] = (~t["customer_id"].isin(active)).astype("int64")
        definition = (
            f"no purchase in the {window} days after {as_of.date()} ({(end).date()} to "
            f"{(wend - pd.Timedelta(days=1)).date()}), among customers with a purchase on or before {as_of.date()}"
        )
    else:
        if segments is None or "probability_alive" not in segments.columns:
            raise AnalysisError(
                "churn frame: analyses.churn.label.definition is p_alive but no segments table with a "
                "'probability_alive' column was given (run the segmentation notebook with CLV models first)"
            )
        pa = segments[["customer_id", "probability_alive"]].drop_duplicates("customer_id")
        t = t.merge(pa, on="customer_id", how="left")
        na = t["probability_alive"].isna()
        if na.any():
            notes.append(f"{int(na.sum()):,} eligible customers without a P(alive) excluded.")
            t = t[~na.to_numpy()].reset_index(drop=True)
        thr = label.p_alive_threshold
        t["churned"] = (t["probability_alive"] < thr).astype("int64")
        definition = f"P(alive) from the CLV model below {thr:g} (analyses.churn.label.p_alive_threshold)"
    start = t["signup_date"].fillna(t["first_order"]) if "signup_date" in t.columns else t["first_order"]
    t["start_date"] = start
    stop = t["last_order"].where(t["churned"].eq(1), end)
    dur = _months(start, stop)
    neg = dur < 0
    if neg.any():
        notes.append(f"{int(neg.sum()):,} customers with a last purchase before their sign-up date: duration set to 0.")
        dur = dur.clip(lower=0)
    t["duration_months"] = dur
    notes.append(
        "Survival time: months from sign-up to the last purchase for churners (the dropout itself is not "
        "observed), to as_of for the others (censored)."
    )
    return t, definition, window


def _join_segments(table: pd.DataFrame, segments: pd.DataFrame, *, notes: list[str]) -> pd.DataFrame:
    if "customer_id" not in segments.columns:
        raise AnalysisError("segments: column 'customer_id' not found in the segmentation artifact")
    seg = segments.drop_duplicates("customer_id")
    keep = [x for x in seg.columns if x == "customer_id" or x not in table.columns]
    out = table.merge(seg[keep], on="customer_id", how="left")
    matched = out["customer_id"].isin(seg["customer_id"]).mean() if len(out) else 0
    if matched < 0.9:
        notes.append(f"Only {pct(matched)} of customers found in the segments artifact (joined by raw customer_id).")
    return out


def _ticket_features(tickets: pd.DataFrame, *, end: pd.Timestamp, csat_max: float) -> pd.DataFrame:
    if "customer_id" not in tickets.columns or "opened_at" not in tickets.columns:
        raise AnalysisError("tickets: columns 'customer_id' and 'opened_at' are needed; map them in tables.tickets.columns")
    tk = tickets[pd.to_datetime(tickets["opened_at"], errors="coerce") < end]
    opened = pd.to_datetime(tk["opened_at"])
    csat = pd.to_numeric(tk["satisfaction"], errors="coerce") if "satisfaction" in tk else pd.Series(np.nan, index=tk.index)
    comp = tk["is_complaint"].fillna(False).astype(bool) if "is_complaint" in tk else pd.Series(False, index=tk.index)
    if "first_response_at" in tk:
        frh = (pd.to_datetime(tk["first_response_at"], errors="coerce") - opened).dt.total_seconds() / 3600
    else:
        frh = pd.Series(np.nan, index=tk.index)
    d = pd.DataFrame(
        {
            "customer_id": tk["customer_id"].to_numpy(),
            "n_tickets": 1,
            "n_complaints": comp.to_numpy().astype("int64"),
            "n_bad_tickets": (csat <= csat_max).to_numpy().astype("int64"),
            "mean_satisfaction": csat.to_numpy(),
            "first_response_hours": frh.to_numpy(),
            "last_ticket_at": opened.to_numpy(),
        }
    )
    return (
        d.groupby("customer_id", sort=False)
        .agg(
            n_tickets=("n_tickets", "sum"), n_complaints=("n_complaints", "sum"), n_bad_tickets=("n_bad_tickets", "sum"),
            mean_satisfaction=("mean_satisfaction", "mean"), first_response_hours=("first_response_hours", "median"),
            last_ticket_at=("last_ticket_at", "max"),
        )  # fmt: skip
        .reset_index()
    )


# ============================================================================================
# Shared: levels of a column (categories, or quantile bins of a number)
# ============================================================================================


def _levels(s: pd.Series, *, bins: int, max_levels: int) -> tuple[pd.Series | None, str]:
    """Text level per row and the kind (``categorical``/``numeric``); None when too many levels."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) and s.nunique() > max(bins, 10):
        x = s.astype("float64")
        codes, edges = pd.qcut(x, bins, labels=False, retbins=True, duplicates="drop")
        # readable, ordered labels: "1: 0 to 1.47", "2: 1.47 to 3" (bins include their upper edge)
        names = [f"{i + 1}: {_fmt_edge(edges[i])} to {_fmt_edge(edges[i + 1])}" for i in range(len(edges) - 1)]
        lab = pd.Series(np.asarray(names, dtype=object)[np.nan_to_num(codes, nan=0).astype(int)], index=s.index)
        lab[np.isnan(codes)] = _MISSING
        return lab.astype(str), "numeric"
    lab = s.astype("string").fillna(_MISSING).astype(str)
    if lab.nunique() > max_levels:
        return None, "categorical"
    return lab, "categorical"


def _fmt_edge(v: float) -> str:
    """Bin edge for a label: 3 significant digits, thousands separated, no ``-0``."""
    if not np.isfinite(v):
        return str(v)
    v = 0.0 if abs(v) < 1e-9 else float(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def _skip_warning(column: str, n_levels: int, max_levels: int) -> str:
    msg = (
        f"column {column!r} has {n_levels:,} levels (more than analyses.churn.max_levels = {max_levels}); skipped. "
        "Group it into fewer levels or raise analyses.churn.max_levels"
    )
    warnings.warn(msg, StatisticalWarning, stacklevel=3)
    return msg


# ============================================================================================
# 2. Churn rates by group
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ChurnRates(Result):
    """Churn rate overall and by group (see :func:`churn_rates`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per column and level (first row: ``column`` = ``all``): ``column``, ``level``,
        ``customers``, ``churners``, ``rate``, ``lower``, ``upper`` (Wilson), ``share_of_churners``.
    confidence : float
    skipped : list of str
        Why columns were left out.
    """

    table: pd.DataFrame
    confidence: float
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The rates table."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The rates table."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Rates with intervals by column and level (JSON-able)."""
        out: dict[str, Any] = {}
        for r in self.table.itertuples():
            out.setdefault(str(r.column), {})[str(r.level)] = {
                "customers": int(r.customers), "rate": num(r.rate), "lower": num(r.lower), "upper": num(r.upper),
            }  # fmt: skip
        return {"rates": out, "skipped": list(self.skipped)}

    def finding(self) -> str:
        """Overall rate and, per column, the worst level when it stands out, from the numbers."""
        t = self.table
        allr = t[t["column"] == "all"].iloc[0]
        parts = [f"Overall churn {pct(allr['rate'])} ({self.confidence:.0%} CI {pct(allr['lower'])} to {pct(allr['upper'])})."]
        for col, g in t[t["column"] != "all"].groupby("column", sort=False):
            g = g[g["customers"] >= 30]
            if len(g) < 2:
                continue
            w, b = g.loc[g["rate"].idxmax()], g.loc[g["rate"].idxmin()]
            if w["lower"] > b["upper"]:
                parts.append(
                    f"By {col}: {w['level']} churns most ({pct(w['rate'])}, CI {pct(w['lower'])} to {pct(w['upper'])}), "
                    f"{b['level']} least ({pct(b['rate'])})."
                )
            else:
                parts.append(f"By {col}: no level clearly differs (intervals overlap).")
        parts += self.skipped
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Churn rate with interval per level, one panel per column.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.table[self.table["column"] != "all"]
        cols = list(dict.fromkeys(t["column"]))
        overall = float(self.table.loc[self.table["column"] == "all", "rate"].iloc[0])
        if ax is not None and len(cols) <= 1:
            axes = [ax]
            fig = ax.figure
        else:
            n = max(len(cols), 1)
            heights = [max(1.5, 0.3 * (t["column"] == c).sum() + 0.8) for c in cols] or [2]
            fig, axes = plt.subplots(n, 1, figsize=(7, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False)
            axes = list(axes[:, 0])
        for a, col in zip(axes, cols, strict=False):
            g = t[t["column"] == col]
            sns.barplot(x=g["rate"].to_numpy(), y=g["level"].astype(str).to_numpy(), ax=a, color="tab:blue", alpha=0.7)
            a.errorbar(g["rate"], np.arange(len(g)), xerr=[g["rate"] - g["lower"], g["upper"] - g["rate"]], fmt="none",
                       ecolor="black", capsize=2)  # fmt: skip
            a.axvline(overall, color="tab:red", ls="--", lw=1)
            a.set_ylabel(col)
            a.set_xlabel("churn rate (95% CI); dashed: overall")
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        cols = [c for c in dict.fromkeys(self.table["column"]) if c != "all"]
        return f"ChurnRates(columns={cols}, rows={len(self.table)})"


def _rate_rows(labels: pd.Series, y: np.ndarray, *, column: str, confidence: float) -> pd.DataFrame:
    g = pd.DataFrame({"level": labels.to_numpy(), "y": y}).groupby("level", sort=True)["y"].agg(["size", "sum"])
    lo, hi = wilson_interval(g["sum"], g["size"], confidence=confidence)
    total = y.sum()
    return pd.DataFrame(
        {
            "column": column,
            "level": g.index.astype(str),
            "customers": g["size"].to_numpy().astype("int64"),
            "churners": g["sum"].to_numpy().astype("int64"),
            "rate": (g["sum"] / g["size"]).to_numpy(),
            "lower": lo,
            "upper": hi,
            "share_of_churners": (g["sum"] / total).to_numpy() if total else np.nan,
        }
    )


def churn_rates(
    frame: ChurnFrame,
    *,
    by: list[str],
    confidence: float = 0.95,
    max_levels: int = 30,
    numeric_bins: int = 5,
) -> ChurnRates:
    """Churn rate overall and per level of each ``by`` column, with Wilson intervals.

    Parameters
    ----------
    frame : ChurnFrame
    by : list of str
        Columns (``analyses.churn.group_by``); absent ones are skipped and said so. Numbers with
        many values are cut into ``numeric_bins`` quantile bins.
    confidence : float, default 0.95
    max_levels : int, default 30
        Columns with more levels are skipped with a :class:`StatisticalWarning`.

    Returns
    -------
    ChurnRates
    """
    t = frame.table
    y = t["churned"].to_numpy(dtype="int64")
    rows = [_rate_rows(pd.Series(["all"] * len(t)), y, column="all", confidence=confidence)]
    skipped = []
    for col in by:
        if col not in t.columns:
            skipped.append(f"{col}: not in the data, skipped.")
            continue
        lab, _ = _levels(t[col], bins=numeric_bins, max_levels=max_levels)
        if lab is None:
            skipped.append(_skip_warning(col, t[col].nunique(), max_levels))
            continue
        rows.append(_rate_rows(lab, y, column=col, confidence=confidence))
    return ChurnRates(table=pd.concat(rows, ignore_index=True), confidence=confidence, skipped=skipped)


# ============================================================================================
# 3. Cohort retention
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class CohortRetention(Result):
    """Retention by acquisition cohort (see :func:`cohort_retention`).

    Attributes
    ----------
    available : bool
        False for snapshot data without dates; ``table`` then holds Kaplan-Meier retention by
        tenure month instead.
    basis : str
        ``purchases`` (share of the cohort buying in month k), ``survival`` (share still a
        customer in month k) or ``tenure`` (no cohorts, KM retention by tenure).
    sizes : pandas.Series
        Customers per cohort.
    active : pandas.DataFrame
        Cohort x months since acquisition: customers counted as retained (NaN where not yet
        observed).
    rates : pandas.DataFrame
        ``active / sizes``.
    table : pandas.DataFrame
        Long form: ``cohort``, ``months_since``, ``customers``, ``retained``, ``rate``.
    """

    available: bool
    basis: str
    sizes: pd.Series
    active: pd.DataFrame
    rates: pd.DataFrame
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """Retention at months 1, 3, 6 and 12 per cohort (or by tenure when no cohorts)."""
        if self.basis == "tenure":
            return self.table.copy()
        cols = [k for k in (1, 3, 6, 12) if k in self.rates.columns]
        out = self.rates[cols].rename(columns=lambda k: f"month_{k}")
        out.insert(0, "customers", self.sizes)
        return out.reset_index()

    def to_frame(self) -> pd.DataFrame:
        """The long table."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Mean retention at months 1, 3, 6, 12 weighted by cohort size (JSON-able)."""
        out: dict[str, Any] = {"available": self.available, "basis": self.basis, "cohorts": len(self.sizes)}
        for k in (1, 3, 6, 12):
            out[f"retention_month_{k}"] = num(self._mean_at(k))
        return out

    def _mean_at(self, k: int) -> float:
        if self.basis == "tenure":
            r = self.table[self.table["months_since"] == k]
            return float(r["rate"].iloc[0]) if len(r) else float("nan")
        if k not in self.active.columns:
            return float("nan")
        a = self.active[k]
        ok = a.notna()
        return float(a[ok].sum() / self.sizes[ok].sum()) if ok.any() else float("nan")

    def finding(self) -> str:
        """How retention decays, and whether recent cohorts do better or worse, from the numbers."""
        what = {"purchases": "buy again", "survival": "are still customers", "tenure": "are still customers"}[self.basis]
        parts = []
        if not self.available:
            parts.append(
                "Cohort retention needs sign-up or order dates, which this snapshot does not have; shown instead: "
                "the share still a customer by tenure month (Kaplan-Meier)."
            )
        m1, m3, m12 = self._mean_at(1), self._mean_at(3), self._mean_at(12)
        parts.append(f"On average {pct(m1)} of a cohort {what} in month 1, {pct(m3)} in month 3 and {pct(m12)} in month 12.")
        if self.basis != "tenure" and 3 in self.active.columns:
            r3 = self.rates[3].dropna()
            big = self.sizes.loc[r3.index] >= 30
            r3 = r3[big]
            if len(r3) >= 6:
                early, late = r3.iloc[: len(r3) // 2].mean(), r3.iloc[len(r3) // 2 :].mean()
                if abs(late - early) >= 0.03:
                    trend = "better" if late > early else "worse"
                    parts.append(
                        f"Recent cohorts retain {trend} at month 3 ({pct(late)} vs {pct(early)} for the older half)."
                    )
        parts += self.notes
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of retention (cohort x months since), annotated with retained counts when small enough.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if self.basis == "tenure":
            if ax is None:
                _, ax = plt.subplots(figsize=(7, 4))
            sns.lineplot(data=self.table, x="months_since", y="rate", drawstyle="steps-post", ax=ax)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("tenure (months)")
            ax.set_ylabel("share still a customer")
            ax.set_title("Retention by tenure (no cohort dates)")
            return ax
        r = self.rates
        if ax is None:
            _, ax = plt.subplots(figsize=(min(2 + 0.45 * r.shape[1], 18), min(1.5 + 0.35 * r.shape[0], 14)))
        annot = self.active.map(lambda v: "" if pd.isna(v) else f"{int(v)}") if r.size <= 400 else False
        ylabels = [f"{c} (n={int(n):,})" for c, n in self.sizes.items()]
        sns.heatmap(r, ax=ax, cmap="viridis", vmin=0, vmax=float(np.nanmax(r.to_numpy())) if r.size else 1,
                    annot=annot, fmt="", annot_kws={"fontsize": 6}, yticklabels=ylabels,
                    cbar_kws={"label": "retention"})  # fmt: skip
        ax.set_xlabel("months since acquisition")
        ax.set_ylabel("cohort (acquisition month)")
        ax.set_title(f"Cohort retention ({self.basis}); numbers: customers retained")
        return ax

    def __repr__(self) -> str:
        return f"CohortRetention(basis={self.basis!r}, cohorts={len(self.sizes)}, available={self.available})"


def _month_index(ts: pd.Series) -> np.ndarray:
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype="int64")


def cohort_retention(
    frame: ChurnFrame,
    orders: pd.DataFrame | None = None,
    *,
    max_months: int | None = None,
) -> CohortRetention:
    """Retention by acquisition month and months since acquisition.

    With ``orders``: the share of each cohort (customers of the churn frame by the month of
    ``start_date``) with a purchase in calendar month k after acquisition (month 0 = the
    acquisition month), from orders on or before ``as_of``. Without orders but with dates and
    durations: the share still a customer k months on. Without dates (e.g. Telco): no cohorts;
    Kaplan-Meier retention by tenure month is returned with ``available=False``.

    Parameters
    ----------
    frame : ChurnFrame
    orders : pandas.DataFrame, optional
        Canonical orders.
    max_months : int, optional
        Last month since acquisition shown (default: all observed).

    Returns
    -------
    CohortRetention
    """
    t = frame.table
    end = _end_of(frame.as_of)
    if "start_date" not in t.columns or t["start_date"].isna().all():
        from workbench.churn.survival import kaplan_meier

        if t["duration_months"].isna().all():
            raise AnalysisError("churn frame: neither dates nor durations; cohort retention is not available")
        km = kaplan_meier(t, group=None)
        c = km.curves
        top = int(np.floor(c["time"].max())) if max_months is None else int(max_months)
        grid = np.arange(0, top + 1)
        idx = np.searchsorted(c["time"].to_numpy(), grid, side="right") - 1
        tab = pd.DataFrame(
            {"cohort": "all", "months_since": grid, "customers": len(t), "retained": np.nan,
             "rate": c["survival"].to_numpy()[idx]}
        )  # fmt: skip
        return CohortRetention(
            available=False, basis="tenure", sizes=pd.Series({"all": len(t)}), active=pd.DataFrame(),
            rates=pd.DataFrame(), table=tab,
        )  # fmt: skip
    start = t["start_date"]
    ok = start.notna()
    cust = pd.DataFrame({"customer_id": t.loc[ok, "customer_id"].to_numpy(), "m0": _month_index(start[ok])})
    last_m = int(_month_index(pd.Series([frame.as_of]))[0])
    sizes_by_m = cust.groupby("m0").size()
    notes: list[str] = []
    if orders is not None:
        buy = _purchase_mask(orders)
        ot = pd.to_datetime(orders["order_time"], errors="coerce")
        o = pd.DataFrame({"customer_id": orders.loc[buy & (ot < end), "customer_id"].to_numpy(),
                          "m": _month_index(ot[buy & (ot < end)])})  # fmt: skip
        o = o.merge(cust, on="customer_id", how="inner")
        o["k"] = o["m"] - o["m0"]
        o = o[o["k"] >= 0].drop_duplicates(["customer_id", "k"])
        active = o.groupby(["m0", "k"]).size().unstack("k")
        basis = "purchases"
        notes.append("Cohorts hold the customers of the churn frame (those with a purchase by as_of).")
    else:
        if t["duration_months"].isna().all():
            raise AnalysisError("churn frame: no orders and no durations; cohort retention is not available")
        d = pd.DataFrame({"m0": cust["m0"].to_numpy(), "dur": t.loc[ok, "duration_months"].to_numpy()})
        ks = np.arange(0, last_m - int(cust["m0"].min()) + 1)
        alive = (d["dur"].to_numpy()[:, None] >= ks[None, :]).astype("int64")
        active = pd.DataFrame(alive, columns=ks).groupby(d["m0"].to_numpy()).sum()
        basis = "survival"
    # months not yet observed (cohort m0 + k beyond as_of's month) are NaN, observed zeros stay 0
    ks = np.arange(0, last_m - int(sizes_by_m.index.min()) + 1)
    active = active.reindex(index=sizes_by_m.index, columns=ks).fillna(0)
    unobserved = (sizes_by_m.index.to_numpy()[:, None] + ks[None, :]) > last_m
    active = active.mask(unobserved)
    if max_months is not None:
        active = active.loc[:, active.columns <= max_months]
    labels = [f"{m // 12}-{m % 12 + 1:02d}" for m in sizes_by_m.index]
    active.index = labels
    sizes = pd.Series(sizes_by_m.to_numpy(), index=labels, name="customers")
    rates = active.div(sizes, axis=0)
    long = active.stack().rename("retained").reset_index()
    long.columns = ["cohort", "months_since", "retained"]
    long["customers"] = long["cohort"].map(sizes)
    long["rate"] = long["retained"] / long["customers"]
    return CohortRetention(
        available=True, basis=basis, sizes=sizes, active=active, rates=rates,
        table=long[["cohort", "months_since", "customers", "retained", "rate"]], notes=notes,
    )  # fmt: skip


# ============================================================================================
# 5. Univariate drivers
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ChurnDrivers(Result):
    """Univariate churn drivers (see :func:`churn_drivers`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per feature, strongest first: ``feature``, ``kind`` (categorical/numeric),
        ``levels``, ``test`` (Pearson chi-square test of independence), ``statistic``, ``df``,
        ``p``, ``p_holm``, ``cramers_v``, ``worst_level``, ``worst_rate``, ``worst_lower``,
        ``worst_upper``, ``overall_rate``, ``direction``, ``controllable``, ``sparse_cells``
        (share of expected counts below 5).
    levels : pandas.DataFrame
        One row per feature and level: as :class:`ChurnRates` plus ``feature``.
    overall_rate : float
    confidence : float
    skipped : list of str
    """

    table: pd.DataFrame
    levels: pd.DataFrame
    overall_rate: float
    confidence: float
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The per-feature table."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The per-level table."""
        return self.levels.copy()

    def top(self, n: int = 5, *, controllable: bool | None = None) -> pd.DataFrame:
        """The ``n`` strongest significant drivers (Holm), optionally only (non-)controllable ones."""
        t = self.table[self.table["p_holm"] < 1 - self.confidence]
        if controllable is not None:
            t = t[t["controllable"] == controllable]
        return t.head(n)

    def metrics(self) -> dict[str, Any]:
        """Test results per feature (JSON-able)."""
        return {
            "overall_rate": num(self.overall_rate),
            "features": {
                r.feature: {"p_holm": num(r.p_holm), "cramers_v": num(r.cramers_v), "worst_level": str(r.worst_level),
                            "worst_rate": num(r.worst_rate), "controllable": bool(r.controllable)}
                for r in self.table.itertuples()
            },  # fmt: skip
            "skipped": list(self.skipped),
        }

    def finding(self) -> str:
        """The strongest drivers and their worst levels, from the numbers."""
        sig = self.top(3)
        n_sig = int((self.table["p_holm"] < 1 - self.confidence).sum())
        parts = [
            f"{n_sig} of {len(self.table)} features are associated with churn (chi-square test, Holm-adjusted "
            f"p < {1 - self.confidence:g})."
        ]
        for r in sig.itertuples():
            parts.append(
                f"{r.feature} (Cramér's V {r.cramers_v:.2f}): churn is highest for {r.worst_level} at {pct(r.worst_rate)} "
                f"(CI {pct(r.worst_lower)} to {pct(r.worst_upper)}) vs {pct(self.overall_rate)} overall; {r.direction}."
            )
        ctl = self.top(1, controllable=True)
        if len(ctl):
            parts.append(f"The strongest driver the business controls: {ctl.iloc[0]['feature']}.")
        parts.append("These are associations, not causes: confounded features move together (see the Cox model).")
        parts += self.skipped
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Cramér's V per feature (bars, significant ones coloured).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.table.head(20)
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.3 * len(t) + 1.2))
        sig = np.where(t["p_holm"] < 1 - self.confidence, "significant (Holm)", "not significant")
        sns.barplot(x=t["cramers_v"].to_numpy(), y=t["feature"].to_numpy(), hue=sig, dodge=False, ax=ax)
        ax.set_xlabel("Cramér's V (association with churn)")
        ax.set_ylabel("")
        ax.set_title("Churn drivers, one feature at a time")
        return ax

    def __repr__(self) -> str:
        n_sig = int((self.table["p_holm"] < 1 - self.confidence).sum())
        return f"ChurnDrivers(features={len(self.table)}, significant={n_sig})"


def _is_controllable(col: str, controllable: list[str] | None) -> bool:
    if controllable is not None:
        return col in controllable
    return col not in NOT_CONTROLLABLE


def churn_drivers(
    frame: ChurnFrame,
    *,
    columns: list[str] | None = None,
    numeric_bins: int = 5,
    max_levels: int = 30,
    confidence: float = 0.95,
    controllable: list[str] | None = None,
) -> ChurnDrivers:
    """Churn rate by level of each feature, a chi-square test per feature, Holm across features.

    Parameters
    ----------
    frame : ChurnFrame
    columns : list of str, optional
        Features (``analyses.churn.drivers``); default :meth:`ChurnFrame.features`.
    numeric_bins : int, default 5
        Quantile bins of numeric features (``analyses.churn.numeric_bins``); missing values are a
        level of their own.
    max_levels : int, default 30
        Categorical features with more levels are skipped with a warning.
    confidence : float, default 0.95
    controllable : list of str, optional
        Features the business can act on (``analyses.churn.controllable``); default: all but
        :data:`NOT_CONTROLLABLE` (demographics and time already spent).

    Returns
    -------
    ChurnDrivers

    Raises
    ------
    AnalysisError
        A requested column is missing, or a feature separates churners perfectly (every level 0 %
        or 100 %: a leak of the label).
    """
    from scipy.stats import chi2_contingency

    t = frame.table
    cols = columns if columns is not None else frame.features()
    missing = [c for c in cols if c not in t.columns]
    if missing:
        raise AnalysisError(
            f"churn frame: driver column(s) {', '.join(map(repr, missing))} not found; fix analyses.churn.drivers"
        )
    y = t["churned"].to_numpy(dtype="int64")
    overall = float(y.mean())
    rows, level_rows, skipped = [], [], []
    for col in cols:
        lab, kind = _levels(t[col], bins=numeric_bins, max_levels=max_levels)
        if lab is None:
            skipped.append(_skip_warning(col, t[col].nunique(), max_levels))
            continue
        if lab.nunique() < 2:
            skipped.append(f"{col}: one level only, skipped.")
            continue
        lv = _rate_rows(lab, y, column=col, confidence=confidence)
        lv.insert(0, "feature", col)
        if ((lv["rate"] == 0) | (lv["rate"] == 1)).all():
            raise AnalysisError(
                f"churn frame.{col}: every level has 0 % or 100 % churn ({', '.join(f'{a}: {pct(b)}' for a, b in zip(lv['level'][:4], lv['rate'][:4], strict=False))}); "
                f"the column encodes the label. Drop it from analyses.churn.drivers"
            )
        ct = np.column_stack([lv["customers"] - lv["churners"], lv["churners"]])
        stat, p, dof, exp = chi2_contingency(ct, correction=False)
        n = ct.sum()
        v = float(np.sqrt(stat / n)) if n else np.nan  # 2 columns: min(r, c) - 1 = 1
        big = lv[lv["customers"] >= max(30, 0.01 * len(t))]
        w = (big if len(big) else lv).sort_values("rate").iloc[-1]
        if kind == "numeric":
            known = lv[lv["level"] != _MISSING]
            lo_r, hi_r = known["rate"].iloc[0], known["rate"].iloc[-1]
            direction = f"higher {col} goes with {'more' if hi_r > lo_r else 'less'} churn ({pct(lo_r)} in the lowest bin, {pct(hi_r)} in the highest)"
        else:
            b = (big if len(big) else lv).sort_values("rate").iloc[0]
            direction = f"{w['level']} worst, {b['level']} best ({pct(b['rate'])})"
        rows.append(
            {
                "feature": col, "kind": kind, "levels": len(lv), "test": "Pearson chi-square test of independence",
                "statistic": float(stat), "df": int(dof), "p": float(p), "cramers_v": v,
                "worst_level": w["level"], "worst_rate": float(w["rate"]), "worst_lower": float(w["lower"]),
                "worst_upper": float(w["upper"]), "overall_rate": overall, "direction": direction,
                "controllable": _is_controllable(col, controllable), "sparse_cells": float((exp < 5).mean()),
            }
        )  # fmt: skip
        level_rows.append(lv)
    if not rows:
        raise AnalysisError("churn_drivers: no usable feature; set analyses.churn.drivers")
    tab = pd.DataFrame(rows)
    tab.insert(tab.columns.get_loc("p") + 1, "p_holm", holm(tab["p"]))
    sparse = tab[tab["sparse_cells"] > 0.2]
    if len(sparse):
        warnings.warn(
            f"chi-square approximation doubtful for {', '.join(sparse['feature'])} (over 20 % of expected counts below 5)",
            StatisticalWarning,
            stacklevel=2,
        )
    tab = tab.sort_values(["p_holm", "cramers_v"], ascending=[True, False]).reset_index(drop=True)
    tab = tab.sort_values("cramers_v", ascending=False, key=lambda s: s.where(tab["p_holm"] < 1 - confidence, -1))
    return ChurnDrivers(
        table=tab.reset_index(drop=True), levels=pd.concat(level_rows, ignore_index=True), overall_rate=overall,
        confidence=confidence, skipped=skipped,
    )  # fmt: skip


# ============================================================================================
# 6. Unhappy vs drifted churners
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ChurnReasons(Result):
    """Churners split into those who left unhappy and those who drifted away (see :func:`unhappy_vs_drift`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per churner: ``customer_id``, ``reason`` (``unhappy``/``drift``), ``n_bad_tickets``,
        ``n_complaints``, ``n_low_csat``, ``n_slow``, ``last_bad_ticket_at``, ``spend_recent``,
        ``spend_before``, ``spend_change``, ``spend_dropped``, ``duration_months``,
        ``days_ticket_to_last_purchase``.
    profile : pandas.DataFrame
        One row per reason: customers, share with Wilson interval, mean tenure at churn, median
        days from the last bad ticket to the last purchase, mean spend, share with a spend drop.
    rule : str
    """

    table: pd.DataFrame
    profile: pd.DataFrame
    rule: str
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The profile per reason."""
        return self.profile.copy()

    def to_frame(self) -> pd.DataFrame:
        """One row per churner."""
        return self.table.copy()

    def agreement(self, truth: pd.Series) -> pd.DataFrame:
        """Confusion table of the assigned reason against a true reason (e.g. the generator's
        ``truth_customers.churn_reason``), indexed by ``customer_id``; churners only."""
        tr = truth.rename("truth")
        m = self.table.set_index("customer_id")[["reason"]].join(tr, how="left")
        return pd.crosstab(m["reason"], m["truth"].fillna("(unknown)"), margins=True)

    def metrics(self) -> dict[str, Any]:
        """Counts and shares per reason (JSON-able)."""
        return {
            "rule": self.rule,
            "reasons": {
                str(r.reason): {"customers": int(r.customers), "share": num(r.share),
                                "mean_tenure_months": num(r.mean_tenure_months)}
                for r in self.profile.itertuples()
            },  # fmt: skip
        }

    def finding(self) -> str:
        """How many churners left unhappy vs drifted, and how they differ, from the numbers."""
        p = self.profile.set_index("reason")
        parts = []
        if "unhappy" in p.index:
            u = p.loc["unhappy"]
            parts.append(
                f"{int(u['customers']):,} churners ({pct(u['share'])}, CI {pct(u['lower'])} to {pct(u['upper'])}) "
                f"left unhappy: {self.rule}."
            )
            if pd.notna(u["median_days_ticket_to_last_purchase"]):
                parts.append(
                    f"Their last purchase came a median {u['median_days_ticket_to_last_purchase']:.0f} days after the "
                    "bad experience: service recovery has a short window."
                )
        if "drift" in p.index:
            d = p.loc["drift"]
            parts.append(
                f"{int(d['customers']):,} ({pct(d['share'])}) drifted away without a bad service experience"
                + (f"; {pct(d['share_spend_dropped'])} of them had cut their spending first" if pd.notna(d["share_spend_dropped"]) else "")
                + "."
            )
        if {"unhappy", "drift"} <= set(p.index):
            parts.append(
                f"Unhappy churners had been customers {p.loc['unhappy', 'mean_tenure_months']:.1f} months on average, "
                f"drifters {p.loc['drift', 'mean_tenure_months']:.1f}."
            )
        parts += self.notes
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Churners per reason, split by whether spending dropped first.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        d = self.table.assign(spend=np.where(self.table["spend_dropped"].fillna(False), "spend dropped", "no drop / unknown"))
        sns.countplot(data=d, x="reason", hue="spend", ax=ax)
        ax.set_title("Why churners left: unhappy (bad service) vs drifted")
        ax.set_ylabel("churners")
        return ax

    def __repr__(self) -> str:
        vc = self.table["reason"].value_counts()
        return f"ChurnReasons(churners={len(self.table):,}, unhappy={int(vc.get('unhappy', 0)):,}, drift={int(vc.get('drift', 0)):,})"


def unhappy_vs_drift(
    frame: ChurnFrame,
    *,
    tickets: pd.DataFrame | None,
    orders: pd.DataFrame | None,
    params: UnhappyChurnParams | None = None,
    as_of: Any = None,
    confidence: float = 0.95,
) -> ChurnReasons:
    """Split churners into those who left unhappy and those who drifted away.

    A churner left **unhappy** when a bad service experience falls in the ``lookback_days``
    before their last activity (last purchase on or before ``as_of``; ``as_of`` without orders)
    or between it and ``as_of``: a complaint (``is_complaint``) rated at or below ``csat_max``,
    any ticket rated at or below ``csat_max``, or a first response slower than
    ``slow_response_hours``. The others **drifted**. Independently, the spending trajectory is
    measured: spend in the half-year before the last purchase vs the half-year before that;
    ``spend_dropped`` when it fell by at least ``spend_drop``.

    Parameters
    ----------
    frame : ChurnFrame
    tickets : pandas.DataFrame or None
        Canonical tickets (``customer_id``, ``opened_at``; ``is_complaint``, ``satisfaction``,
        ``first_response_at`` when present).
    orders : pandas.DataFrame or None
        Canonical orders (for last activity and spend trajectory).
    params : UnhappyChurnParams, optional
        ``analyses.churn.unhappy``.
    as_of : date, optional
        Default ``frame.as_of``.

    Returns
    -------
    ChurnReasons

    Raises
    ------
    AnalysisError
        Neither tickets nor orders.
    """
    params = params or UnhappyChurnParams()
    if tickets is None and orders is None:
        raise AnalysisError("unhappy_vs_drift needs service tickets (tables.tickets) or orders (tables.orders)")
    as_of = pd.Timestamp(as_of if as_of is not None else frame.as_of).normalize()
    end = _end_of(as_of)
    ch = frame.table.loc[frame.table["churned"] == 1, ["customer_id", "duration_months"]].reset_index(drop=True)
    notes: list[str] = []
    last = None
    if orders is not None:
        buy = _purchase_mask(orders)
        ot = pd.to_datetime(orders["order_time"], errors="coerce")
        o = pd.DataFrame({"customer_id": orders["customer_id"].to_numpy(), "t": ot.to_numpy(),
                          "amount": orders["amount"].to_numpy()})[(buy & (ot < end)).to_numpy()]  # fmt: skip
        o = o[o["customer_id"].isin(ch["customer_id"])]
        last = o.groupby("customer_id")["t"].max().rename("last_purchase")
        ch = ch.merge(last, on="customer_id", how="left")
        o = o.merge(last, on="customer_id")
        age_d = (o["last_purchase"] - o["t"]).dt.total_seconds() / 86400
        recent = o.loc[age_d <= 182.6].groupby("customer_id")["amount"].sum().rename("spend_recent")
        before = o.loc[(age_d > 182.6) & (age_d <= 365.25)].groupby("customer_id")["amount"].sum().rename("spend_before")
        ch = ch.merge(recent, on="customer_id", how="left").merge(before, on="customer_id", how="left")
        ch["spend_recent"] = ch["spend_recent"].fillna(0.0)
        ch["spend_change"] = np.where(ch["spend_before"] > 0, ch["spend_recent"] / ch["spend_before"] - 1, np.nan)
        ch["spend_dropped"] = pd.array(np.where(ch["spend_before"] > 0, ch["spend_change"] <= -params.spend_drop, pd.NA), dtype="boolean")
        anchor = ch["last_purchase"].fillna(as_of)
    else:
        ch["last_purchase"] = pd.NaT
        for col in ("spend_recent", "spend_before", "spend_change"):
            ch[col] = np.nan
        ch["spend_dropped"] = pd.array([pd.NA] * len(ch), dtype="boolean")
        anchor = pd.Series(as_of, index=ch.index)
        notes.append("No orders: the spending trajectory is unknown and last activity is taken as as_of.")
    ch["n_complaints"] = 0
    ch["n_low_csat"] = 0
    ch["n_slow"] = 0
    ch["n_bad_tickets"] = 0
    ch["last_bad_ticket_at"] = pd.NaT
    if tickets is not None:
        opened = pd.to_datetime(tickets["opened_at"], errors="coerce")
        tk = pd.DataFrame({"customer_id": tickets["customer_id"].to_numpy(), "opened": opened.to_numpy()})
        csat = pd.to_numeric(tickets["satisfaction"], errors="coerce") if "satisfaction" in tickets else np.nan
        tk["low"] = (pd.Series(csat, index=tickets.index) <= params.csat_max).to_numpy()
        comp = tickets["is_complaint"].fillna(False).astype(bool) if "is_complaint" in tickets else False
        tk["complaint_bad"] = (pd.Series(comp, index=tickets.index) & tk["low"].to_numpy()).to_numpy()
        if "first_response_at" in tickets:
            frh = (pd.to_datetime(tickets["first_response_at"], errors="coerce") - opened).dt.total_seconds() / 3600
            tk["slow"] = (frh > params.slow_response_hours).to_numpy()
        else:
            tk["slow"] = False
        tk = tk.merge(pd.DataFrame({"customer_id": ch["customer_id"], "anchor": anchor.to_numpy()}), on="customer_id")
        win = (tk["opened"] >= tk["anchor"] - pd.Timedelta(days=params.lookback_days)) & (tk["opened"] < end)
        tk = tk[win.to_numpy()]
        tk["bad"] = tk["low"] | tk["complaint_bad"] | tk["slow"]
        agg = tk.groupby("customer_id").agg(
            n_complaints=("complaint_bad", "sum"), n_low_csat=("low", "sum"), n_slow=("slow", "sum"), n_bad_tickets=("bad", "sum")
        )
        agg["last_bad_ticket_at"] = tk[tk["bad"]].groupby("customer_id")["opened"].max()
        ch = ch.drop(columns=list(agg.columns)).merge(agg.reset_index(), on="customer_id", how="left")
        for col in ("n_complaints", "n_low_csat", "n_slow", "n_bad_tickets"):
            ch[col] = ch[col].fillna(0).astype("int64")
        rule = (
            f"a complaint or ticket rated <= {params.csat_max:g}, or a first response slower than "
            f"{params.slow_response_hours:g} h, in the {params.lookback_days} days before the last purchase or after it"
        )
    else:
        rule = "no ticket data: every churner counted as drift"
        notes.append("No service tickets: nobody can be classified as unhappy; all churners count as drift.")
    ch["reason"] = np.where(ch["n_bad_tickets"] > 0, "unhappy", "drift")
    ch["days_ticket_to_last_purchase"] = (ch["last_purchase"] - ch["last_bad_ticket_at"]).dt.total_seconds() / 86400
    n = len(ch)
    rows = []
    for reason in ("unhappy", "drift"):
        g = ch[ch["reason"] == reason]
        k = len(g)
        lo, hi = wilson_interval(k, n, confidence=confidence)
        sd = g["spend_dropped"].dropna()
        rows.append(
            {
                "reason": reason, "customers": k, "share": k / n if n else np.nan, "lower": float(lo[0]),
                "upper": float(hi[0]), "mean_tenure_months": float(g["duration_months"].mean()),
                "median_days_ticket_to_last_purchase": float(g["days_ticket_to_last_purchase"].median()),
                "mean_spend_recent": float(g["spend_recent"].mean()),
                "share_spend_dropped": float(sd.astype(bool).mean()) if len(sd) else np.nan,
            }
        )  # fmt: skip
    cols = ["customer_id", "reason", "n_bad_tickets", "n_complaints", "n_low_csat", "n_slow", "last_bad_ticket_at",
            "last_purchase", "spend_recent", "spend_before", "spend_change", "spend_dropped", "duration_months",
            "days_ticket_to_last_purchase"]  # fmt: skip
    return ChurnReasons(table=ch[cols], profile=pd.DataFrame(rows), rule=rule, notes=notes)


# ============================================================================================
# 7. Recommendations
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class Recommendations(Result):
    """Actions computed from the churn results (see :func:`recommendations`)."""

    items: list[str]
    facts: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """One row per recommendation."""
        return pd.DataFrame({"recommendation": self.items})

    def finding(self) -> str:
        """The recommendations as one paragraph."""
        return " ".join(self.items)

    def metrics(self) -> dict[str, Any]:
        """The figures behind the recommendations (JSON-able)."""
        return {k: (num(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in self.facts.items()}

    def plot(self, ax: Any = None) -> Any:  # pragma: no cover - text only
        """No chart: recommendations are text."""
        return ax

    def __repr__(self) -> str:
        return f"Recommendations(items={len(self.items)})"


def recommendations(
    *,
    drivers: ChurnDrivers,
    hazard: Any,
    cox: Any = None,
    reasons: ChurnReasons | None = None,
    value_at_risk: pd.DataFrame | None = None,
    controllable: list[str] | None = None,
    currency: str = "¥",
) -> Recommendations:
    """Recommendations from the numbers: the biggest controllable driver, when churn peaks, where
    the value at risk is, and how many churners left unhappy.

    Parameters
    ----------
    drivers : ChurnDrivers
    hazard : HazardResult
        From :func:`workbench.churn.survival.hazard_by_tenure`.
    cox : CoxResult, optional
        Confirms whether the driver holds once other covariates are fixed.
    reasons : ChurnReasons, optional
    value_at_risk : pandas.DataFrame, optional
        Value at risk by segment from the retention list (``segment``, ``value_at_risk``; other
        column names: the first text column and the first numeric column are used).
    controllable : list of str, optional
        ``analyses.churn.controllable``; default all but :data:`NOT_CONTROLLABLE`.

    Returns
    -------
    Recommendations
    """
    items: list[str] = []
    facts: dict[str, Any] = {}
    t = drivers.table.copy()
    t["controllable"] = [_is_controllable(f, controllable) for f in t["feature"]]
    sig = t[(t["p_holm"] < 1 - drivers.confidence) & t["controllable"]]
    if len(sig):
        r = sig.iloc[0]
        facts.update(top_driver=r["feature"], top_driver_worst_level=str(r["worst_level"]), top_driver_rate=float(r["worst_rate"]))
        text = (
            f"Act on {r['feature']} first: it is the strongest driver the business controls (Cramér's V "
            f"{r['cramers_v']:.2f}); customers with {r['feature']} = {r['worst_level']} churn at {pct(r['worst_rate'])} "
            f"vs {pct(drivers.overall_rate)} overall."
        )
        if cox is not None:
            rows = cox.table[cox.table["covariate"] == r["feature"]]
            if len(rows):
                s = rows[rows["p_holm"] < 1 - cox.confidence]
                text += (
                    " The Cox model confirms it with the other covariates held fixed."
                    if len(s) else " But the Cox model does not confirm it once other covariates are held fixed: check confounding."
                )  # fmt: skip
        items.append(text)
    else:
        items.append("No controllable feature is clearly associated with churn; look at service and offer data next.")
    pk = getattr(hazard, "peak", {}) or {}
    if np.isfinite(pk.get("hazard", np.nan)):
        facts.update(peak_start=pk["start"], peak_end=pk["end"], peak_hazard=pk["hazard"])
        items.append(
            f"Time retention contacts for tenure {pk['start']:g}-{pk['end']:g} months, where the hazard peaks "
            f"({pct(pk['hazard'])} of those still there leave within {hazard.width:g} months); reach customers "
            "just before it."
        )
    if value_at_risk is not None and len(value_at_risk):
        v = value_at_risk
        seg_col = "segment" if "segment" in v else next(c for c in v.columns if not pd.api.types.is_numeric_dtype(v[c]))
        val_col = "value_at_risk" if "value_at_risk" in v else next(c for c in v.columns if pd.api.types.is_numeric_dtype(v[c]))
        top = v.sort_values(val_col, ascending=False).iloc[0]
        share = float(top[val_col] / v[val_col].sum()) if v[val_col].sum() else np.nan
        facts.update(top_value_segment=str(top[seg_col]), top_value_at_risk=float(top[val_col]))
        items.append(
            f"Prioritise segment {top[seg_col]}: it holds the most value at risk ({currency}{top[val_col]:,.0f}, "
            f"{pct(share)} of the total)."
        )
    if reasons is not None:
        p = reasons.profile.set_index("reason")
        if "unhappy" in p.index and p.loc["unhappy", "customers"] > 0:
            facts.update(unhappy_share=float(p.loc["unhappy", "share"]))
            items.append(
                f"{pct(p.loc['unhappy', 'share'])} of churners left after a bad service experience: follow up every "
                "complaint rated low within days (service recovery), and fix the slowest response queues."
            )
    return Recommendations(items=items, facts=facts)


def model_frames(
    frame: ChurnFrame,
    customers: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    tickets: pd.DataFrame | None = None,
    label: ChurnLabelParams | None = None,
    launch_date: Any = None,
    unhappy: UnhappyChurnParams | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Training and held-out frames for the churn models, time-safe.

    Non-contractual churn with the inactivity definition: the training frame is built as of
    ``as_of - inactivity_days`` (features before it, labels from the window that ends at
    ``as_of``) and the held-out frame is ``frame`` itself (features before ``as_of``, labels
    after it): an out-of-time test, never a random split across time. Segment columns of the
    segmentation artifacts are computed at ``as_of`` and would leak into the earlier training
    frame, so the held-out frame keeps only the training frame's columns.

    Contractual (snapshot) data, or the ``p_alive`` definition: ``(frame.table, None)``, and the
    models hold out a stratified share.

    Returns
    -------
    (train, test) : tuple of DataFrame and DataFrame or None
    """
    label = label or ChurnLabelParams()
    if frame.kind != "non_contractual" or label.definition != "inactivity" or orders is None:
        return frame.table, None
    earlier = frame.as_of - pd.Timedelta(days=label.inactivity_days)
    train = churn_frame(
        customers, orders, as_of=earlier, label=label, tickets=tickets, launch_date=launch_date, unhappy=unhappy
    ).table
    test = frame.table[[c for c in frame.table.columns if c in train.columns]]
    return train, test


def current_customers(frame: ChurnFrame) -> pd.DataFrame:
    """Customers to score for retention: contractual data keeps those who have not left
    (``churned == 0``); non-contractual data keeps every eligible customer (their label lies in
    the future window)."""
    t = frame.table
    if frame.kind == "contractual":
        return t[t["churned"] == 0].reset_index(drop=True)
    return t.reset_index(drop=True)


#: Segment columns tried, in order, for the retention list and value at risk by segment.
SEGMENT_COLUMNS: tuple[str, ...] = ("cluster_name", "rfm_segment", "abc_class", "plan", "member_level")


def segment_column(table: pd.DataFrame) -> str | None:
    """The first column of :data:`SEGMENT_COLUMNS` present in ``table`` (``None`` if none)."""
    return next((c for c in SEGMENT_COLUMNS if c in table.columns), None)


#: Columns that are symptoms of leaving or of the survival time itself (purchase behaviour up to
#: the last purchase, tenure, model outputs): never default Cox covariates, since the survival
#: time of non-contractual churners ends at their last purchase.
BEHAVIOUR_COLUMNS: frozenset[str] = frozenset({
    "recency_days", "n_orders", "n_purchase_days", "monetary_sum", "monetary_mean", "monetary_net", "gap_mean_days",
    "gap_median_days", "gap_max_days", "btyd_frequency", "btyd_recency_days", "btyd_T_days", "tenure_days",
    "tenure_months", "total_charges", "n_refunds", "refund_amount", "refund_share", "refund_amount_share",
    "probability_alive", "clv", "expected_purchases", "expected_order_value", "r", "f", "m", "rfm_segment",
    "cluster", "cluster_name", "abc_class", "cohort", "last_ticket_at", "n_channels",
})  # fmt: skip


def default_cox_covariates(drivers: ChurnDrivers, n: int = 6, *, table: pd.DataFrame | None = None) -> list[str]:
    """Cox covariates when ``analyses.churn.cox_covariates`` is not set: the ``n`` strongest
    significant drivers that are not purchase behaviour, tenure or model outputs
    (:data:`BEHAVIOUR_COLUMNS`), strongest first. With ``table`` (the churn frame's table), a
    driver whose levels are exact combinations of those already chosen is skipped (e.g. Telco's
    'No internet service' level repeated across the service columns), so the Cox design stays
    full rank."""
    t = drivers.table
    t = t[(t["p_holm"] < 1 - drivers.confidence) & ~t["feature"].isin(BEHAVIOUR_COLUMNS)]
    t = t[~t["feature"].astype(str).str.startswith("share_")]
    chosen: list[str] = []
    for feature in t["feature"].astype(str):
        if len(chosen) == n:
            break
        if table is not None and chosen and feature in table and _redundant(table, chosen, feature):
            continue
        chosen.append(feature)
    return chosen


def _design_block(col: pd.Series, name: str) -> pd.DataFrame:
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        return pd.DataFrame({name: col.astype("float64").fillna(col.astype("float64").median())})
    return pd.get_dummies(col.astype("string").fillna(_MISSING), prefix=name, drop_first=True, dtype=float)


def _redundant(table: pd.DataFrame, chosen: list[str], feature: str) -> bool:
    """True when some column of ``feature``'s design block is an exact combination of the
    design of ``chosen`` (and of its own other columns)."""
    from workbench.churn.survival import collinear_terms

    before = pd.concat([_design_block(table[c], c) for c in chosen], axis=1)
    own = _design_block(table[feature], feature)
    X = np.column_stack([before.to_numpy(), own.to_numpy()])
    return any(j >= before.shape[1] for j in collinear_terms(X))
