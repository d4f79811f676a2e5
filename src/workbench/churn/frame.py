"""The churn frame: one row per eligible customer with the churn label, a survival time
(``duration_months``, ``event``), the cohort and covariates known at ``as_of``.

Only data on or before ``as_of`` feeds the covariates; the label alone uses the window after
(see :mod:`workbench.churn.label` for the two kinds of business).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.churn._common import CONSENT_COLUMN, Text, neutral
from workbench.churn.label import ChurnLabel, contractual_label, non_contractual_label
from workbench.core.dates import end_of
from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.data.orders import check_as_of
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = [
    "ChurnFrame",
    "churn_frame",
    "model_frames",
    "current_customers",
    "segment_column",
    "SEGMENT_COLUMNS",
]

#: Never features: keys, personal data, the label, dates, and the marketing permission (a rule
#: for the retention list, not a reason to leave).
_NOT_FEATURES = {
    "customer_id", "churned", "event", "duration_months", "name", "phone", "email", "start_date",
    "signup_date", "birth_date", "first_order", "last_order", "last_ticket_at", "churn_date", "end_date",
    CONSENT_COLUMN,
}  # fmt: skip
#: Segment columns tried, in order, for the retention list and value at risk by segment (the one
#: list: :func:`segment_column` and ``retention_list(segments="auto")``).
SEGMENT_COLUMNS: tuple[str, ...] = ("cluster_name", "rfm_segment", "abc_class", "plan", "member_level")


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
        The label in words (a :class:`~workbench.churn._common.Text` from :func:`churn_frame`).
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
            if getattr(self.definition, "key", "") == "churn.frame.definition.p_alive" and c == "probability_alive":
                continue
            if t[c].nunique(dropna=True) < 2:
                continue
            out.append(c)
        return out

    #: Columns of :meth:`artifact` (those present): what other analyses need of the frame.
    ARTIFACT_COLUMNS = ("customer_id", "churned", "event", "duration_months", "tenure_days", "monetary_sum",
                        "monetary_net", "n_orders", "recency_days", "clv", "probability_alive", CONSENT_COLUMN,
                        *SEGMENT_COLUMNS)  # fmt: skip

    def artifact(self) -> pd.DataFrame:
        """The frame as the ``churn_frame`` artifact other analyses read (the service analysis'
        hazard ratios): key, label, survival time, value and tenure, consent and segment columns;
        ``attrs``: kind and ``as_of``."""
        cols = [c for c in dict.fromkeys(self.ARTIFACT_COLUMNS) if c in self.table.columns]
        out = self.table[cols].copy()
        out["as_of"] = self.as_of
        return out.reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row: customers, churners, churn rate with its 95 % Wilson interval, definition (the
        kind and the date as a reader reads them)."""
        lo, hi = self.interval()
        return pd.DataFrame(
            [
                {
                    "customers": self.n,
                    "churners": self.n_churned,
                    "churn_rate": self.rate,
                    "lower": lo,
                    "upper": hi,
                    "kind": category("churn_kind", self.kind),
                    "definition": str(self.definition),
                    "as_of": date_text(self.as_of),
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
            "definition": neutral(self.definition),
            "as_of": self.as_of.date().isoformat(),
            "window_days": self.window_days,
            "n_input": self.n_input,
            "n_customers": self.n,
            "n_churned": self.n_churned,
            "churn_rate": num(self.rate),
            "churn_rate_lower": num(lo),
            "churn_rate_upper": num(hi),
            "notes": neutral(list(self.notes)),
        }

    def finding(self) -> str:
        """The churn rate in words, with what the label means."""
        lo, hi = self.interval()
        text = t("churn.frame.finding", rate=pct(self.rate), n=count(self.n), churned=count(self.n_churned),
                 low=pct(lo), high=pct(hi), definition=self.definition)
        if self.n < self.n_input:
            text += t("churn.frame.not_eligible", excluded=count(self.n_input - self.n), n_input=count(self.n_input))
        return t("churn.join").join([text, *map(str, self.notes)])

    def plot(self, ax: Any = None) -> Any:
        """Customers who stayed and who churned (bars), the churn rate with its interval in the title.

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(5, 2.5))
        lo, hi = self.interval()
        ax.barh([t("churn.frame.plot.stayed"), t("churn.frame.plot.churned")], [self.n - self.n_churned, self.n_churned],
                color=["tab:blue", "tab:red"])
        ax.invert_yaxis()
        ax.set_xlabel(t("churn.frame.plot.xlabel"))
        ax.set_title(t("churn.frame.plot.title", rate=pct(self.rate), low=pct(lo), high=pct(hi), as_of=date_text(self.as_of)))
        return ax

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
    label: ChurnLabel | None = None,
    segments: pd.DataFrame | None = None,
    tickets: pd.DataFrame | None = None,
    launch_date: Any = None,
    csat_max: float = 2,
    con: ibis.BaseBackend | None = None,
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
    label : ChurnLabel, optional
        How churn is defined (default: non-contractual, 90 days of inactivity).
    segments : pandas.DataFrame, optional
        Segmentation artifact (``customer_id`` plus ``abc_class``, ``rfm_segment``,
        ``cluster_name``, ``clv``, ``probability_alive`` ...), joined by ``customer_id``.
    tickets : pandas.DataFrame, optional
        Canonical service tickets; aggregates of tickets opened on or before ``as_of`` are added:
        ``n_tickets``, ``n_complaints``, ``n_bad_tickets`` (satisfaction <= ``csat_max``),
        ``mean_satisfaction``, ``first_response_hours``, ``last_ticket_at``.
    launch_date : date, optional
        Business launch; sign-up dates before it are treated as unknown.
    csat_max : float, default 2
        Satisfaction at or below this is a bad ticket (``n_bad_tickets``).
    con : ibis.BaseBackend, optional
        Engine of the order features (DuckDB or Spark; the run's ``ctx.engine``); default a
        fresh in-memory DuckDB.

    Returns
    -------
    ChurnFrame

    Raises
    ------
    AnalysisError
        Missing label column, a label that is not binary, no orders for non-contractual churn,
        an inactivity window longer than the data after ``as_of``, an ``as_of`` long after the last
        purchase with the inactivity label (:func:`workbench.data.orders.check_as_of`), no
        churners or only churners.

    Warns
    -----
    DataQualityWarning
        ``as_of`` long after the last purchase with another label (also in the notes).
    """
    label = label or ChurnLabel()
    as_of = pd.Timestamp(as_of).normalize()
    if "customer_id" not in customers.columns:
        raise AnalysisError("customers: column 'customer_id' not found; map it in the customers table's columns")
    notes: list[str] = []
    if orders is not None:
        _step_as_of(orders, as_of=as_of, label=label, notes=notes)
    c = _step_customers(customers, as_of=as_of, launch_date=launch_date, notes=notes)
    if label.kind == "contractual":
        table, definition, window = contractual_label(c, orders, as_of=as_of, label=label, notes=notes, con=con)
    else:
        table, definition, window = non_contractual_label(
            c, orders, as_of=as_of, label=label, segments=segments, notes=notes, con=con
        )
    if segments is not None:
        table = _join_segments(table, segments, notes=notes)
    if tickets is not None:
        table = table.merge(
            _ticket_features(tickets, end=end_of(as_of), csat_max=csat_max), on="customer_id", how="left"
        )
        for col in ("n_tickets", "n_complaints", "n_bad_tickets"):
            table[col] = table[col].fillna(0).astype("int64")
    if "start_date" in table.columns:
        table["cohort"] = table["start_date"].dt.to_period("M").astype(str).where(table["start_date"].notna())
    _step_check_both_labels(table, label=label, as_of=as_of, definition=definition)
    table["event"] = table["churned"].astype("int64")
    first = ["customer_id", "churned", "duration_months", "event"] + [x for x in ("start_date", "cohort") if x in table]
    table = table[first + [x for x in table.columns if x not in first]]
    return ChurnFrame(
        table=table, kind=label.kind, definition=definition, as_of=as_of, window_days=window,
        n_input=len(customers), notes=notes,
    )  # fmt: skip


def _step_as_of(orders: pd.DataFrame, *, as_of: pd.Timestamp, label: ChurnLabel, notes: list[str]) -> None:
    """Stop (inactivity label) or warn and note (other labels) when ``as_of`` lies long after the
    last purchase: every customer would look lapsed because the data ends."""
    check = check_as_of(orders, as_of, warn=False)
    if not check.stale:
        return
    if label.kind == "non_contractual" and label.definition == "inactivity":
        raise AnalysisError(
            f"{check.message} The churn label needs purchases in the label.inactivity_days= after as_of, "
            "which these orders cannot contain"
        )
    warnings.warn(check.reader_message, DataQualityWarning, stacklevel=3)
    notes.append(Text("churn.frame.note.stale", message=check.message))


def _step_customers(
    customers: pd.DataFrame, *, as_of: pd.Timestamp, launch_date: Any, notes: list[str]
) -> pd.DataFrame:
    """Customers without personal data or duplicate keys, signed up by ``as_of``, with an age."""
    end = end_of(as_of)
    c = customers.drop(columns=[x for x in ("name", "phone", "email") if x in customers.columns])
    dup = c["customer_id"].duplicated()
    if dup.any():
        notes.append(Text("churn.frame.note.duplicates", n=count(dup.sum())))
        c = c[~dup]
    c = c.reset_index(drop=True)
    if "signup_date" in c.columns:
        sd = pd.to_datetime(c["signup_date"], errors="coerce")
        if launch_date is not None:
            pre = sd < pd.Timestamp(launch_date)
            if pre.any():
                notes.append(Text("churn.frame.note.before_launch", n=count(pre.sum()), launch=pd.Timestamp(launch_date)))
                sd = sd.mask(pre)
        c["signup_date"] = sd
        late = sd >= end
        if late.any():
            notes.append(Text("churn.frame.note.late_signup", n=count(late.sum())))
            c = c[~late.to_numpy()].reset_index(drop=True)
    if "birth_date" in c.columns:
        bd = pd.to_datetime(c["birth_date"], errors="coerce")
        ref = c["signup_date"] if "signup_date" in c.columns else pd.Series(as_of, index=c.index)
        age = (ref - bd).dt.days / 365.25
        c["age_at_signup" if "signup_date" in c.columns else "age"] = age.where((age >= 10) & (age <= 110))
    return c


def _step_check_both_labels(table: pd.DataFrame, *, label: ChurnLabel, as_of: pd.Timestamp, definition: str) -> None:
    """Stop unless the eligible customers hold both churners and non-churners."""
    k = int(table["churned"].sum())
    key = "label.flag_column" if label.kind == "contractual" else "label.inactivity_days"
    if len(table) == 0:
        raise AnalysisError(f"churn frame: no eligible customer as of {as_of.date()}; check as_of and {key}")
    if k == 0 or k == len(table):
        raise AnalysisError(
            f"churn frame.churned: {'no' if k == 0 else 'every'} one of the {len(table):,} eligible customers churned "
            f"as of {as_of.date()} ({neutral(definition)}); churn cannot be analysed. Check {key} and as_of"
        )


def _join_segments(table: pd.DataFrame, segments: pd.DataFrame, *, notes: list[str]) -> pd.DataFrame:
    if "customer_id" not in segments.columns:
        raise AnalysisError("segments: column 'customer_id' not found in the segmentation artifact")
    seg = segments.drop_duplicates("customer_id")
    keep = [x for x in seg.columns if x == "customer_id" or x not in table.columns]
    out = table.merge(seg[keep], on="customer_id", how="left")
    matched = out["customer_id"].isin(seg["customer_id"]).mean() if len(out) else 0
    if matched < 0.9:
        notes.append(Text("churn.frame.note.segments_matched", share=pct(matched)))
    return out


def _ticket_features(tickets: pd.DataFrame, *, end: pd.Timestamp, csat_max: float) -> pd.DataFrame:
    if "customer_id" not in tickets.columns or "opened_at" not in tickets.columns:
        raise AnalysisError(
            "tickets: columns 'customer_id' and 'opened_at' are needed; map them in the tickets table's columns"
        )
    tk = tickets[pd.to_datetime(tickets["opened_at"], errors="coerce") < end]
    opened = pd.to_datetime(tk["opened_at"])
    csat = (
        pd.to_numeric(tk["satisfaction"], errors="coerce")
        if "satisfaction" in tk
        else pd.Series(np.nan, index=tk.index)
    )
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
            n_tickets=("n_tickets", "sum"),
            n_complaints=("n_complaints", "sum"),
            n_bad_tickets=("n_bad_tickets", "sum"),
            mean_satisfaction=("mean_satisfaction", "mean"),
            first_response_hours=("first_response_hours", "median"),
            last_ticket_at=("last_ticket_at", "max"),
        )  # fmt: skip
        .reset_index()
    )


def model_frames(
    frame: ChurnFrame,
    customers: pd.DataFrame,
    orders: pd.DataFrame | None = None,
    *,
    tickets: pd.DataFrame | None = None,
    label: ChurnLabel | None = None,
    launch_date: Any = None,
    csat_max: float = 2,
    con: ibis.BaseBackend | None = None,
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

    Parameters
    ----------
    frame : ChurnFrame
    customers, orders, tickets : pandas.DataFrame
        The tables ``frame`` was built from.
    label : ChurnLabel, optional
        The label ``frame`` was built with.
    launch_date : date, optional
    csat_max : float, default 2
    con : ibis.BaseBackend, optional
        As in :func:`churn_frame`.

    Returns
    -------
    (train, test) : tuple of DataFrame and DataFrame or None
    """
    label = label or ChurnLabel()
    if frame.kind != "non_contractual" or label.definition != "inactivity" or orders is None:
        return frame.table, None
    earlier = frame.as_of - pd.Timedelta(days=label.inactivity_days)
    train = churn_frame(
        customers, orders, as_of=earlier, label=label, tickets=tickets, launch_date=launch_date, csat_max=csat_max,
        con=con,
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


def segment_column(table: pd.DataFrame) -> str | None:
    """The first column of :data:`SEGMENT_COLUMNS` present in ``table`` (``None`` if none)."""
    return next((c for c in SEGMENT_COLUMNS if c in table.columns), None)
