"""Alerts: what in the data deserves the analyst's attention, and the rules of the column alerts.

Each :class:`Alert` has a ``kind`` and a ``severity`` (``error`` > ``warning`` > ``info``).
The kinds shared with ydata-profiling follow its definitions; its default thresholds are quoted,
the thresholds used are those of :class:`~workbench.profiling.options.ProfilingOptions` (the
params section ``analyses.data_profiling``):

``missing`` (warning; error for a required contract column)
    Share of missing values > ``missing_threshold`` (ydata: > 1 %).
``empty`` (warning)
    Every value missing.
``constant`` (warning)
    Exactly one distinct non-missing value (ydata: ``n_distinct == 1``).
``unique`` (info)
    Every row has a different value (ydata: ``n_distinct == n``). Raised for text, category and
    id columns and integer-valued numbers, not for the table's own key (being unique is its
    job) nor for real-valued numbers and timestamps, where distinct values are normal.
``high_cardinality`` (info)
    A category column with more than ``high_cardinality_threshold`` distinct values (ydata: 50).
``imbalance`` (info)
    Category or yes/no column with ``1 - H / log(k)`` > ``imbalance_threshold`` (ydata: 0.5),
    where ``H`` is the entropy of the value shares and ``k`` the number of distinct values; 0 is
    a uniform spread, 1 a single value.
``skewed`` (info)
    Numeric column with ``|skewness| >`` ``skewness_threshold`` (ydata: 20); skewness is the
    adjusted Fisher-Pearson coefficient (as pandas ``skew``).
``zeros`` (info)
    Share of zeros among non-missing values > ``zeros_threshold`` (ydata: > 1 %).
``infinite`` (warning)
    Infinite values present.
``high_correlation`` (info)
    A pair with ``|Spearman rho|`` or Cramér's V above ``high_correlation_threshold`` (one alert
    per pair; Cramér's V with the bias correction ydata uses).
``duplicates`` (warning)
    Rows that are an exact copy of an earlier row (ydata: any duplicate row).

Kinds of the workbench: ``duplicate_keys`` (error: rows repeating the key of an earlier row,
from :attr:`TableSpec.key`), ``unparseable`` (warning) and ``placeholder`` (info) from the intake
report, ``personal_data`` (info), ``date_gaps`` and ``spike_days`` (info), ``after_as_of``
(info: rows later than ``as_of``, used as outcome windows), and the CRM checks ``refunds``
(info), ``negative_amounts``, ``future_dates``, ``prelaunch_dates``, ``orphan_orders`` (orders),
``orphan_rows`` (tickets, events, campaign contacts), ``extreme_spenders`` (warning) and
``customers_without_orders`` (info).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.contract import ColumnReport
from workbench.profiling.options import ProfilingOptions
from workbench.profiling.personal import hidden_label
from workbench.profiling.words import eg, rows_text
from workbench.report.i18n import category, t

__all__ = [
    "Alert",
    "ALERT_KINDS",
    "SEVERITIES",
    "CRM_KINDS",
    "Severity",
    "alerts_frame",
    "column_alerts",
    "intake_alerts",
    "rows_text",
    "alert_labels",
]

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[str, ...] = ("error", "warning", "info")
_SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}

ALERT_KINDS: dict[str, str] = {
    "missing": "share of missing values above profiling.missing_threshold",
    "empty": "every value missing",
    "constant": "a single distinct value",
    "unique": "every row a different value",
    "high_cardinality": "category with more distinct values than profiling.high_cardinality_threshold",
    "imbalance": "1 - normalised entropy above profiling.imbalance_threshold",
    "skewed": "|skewness| above profiling.skewness_threshold",
    "zeros": "share of zeros above profiling.zeros_threshold",
    "infinite": "infinite values",
    "high_correlation": "|Spearman rho| or Cramér's V above profiling.high_correlation_threshold",
    "duplicates": "exact copies of an earlier row",
    "duplicate_keys": "rows repeating the key of an earlier row",
    "unparseable": "values that could not be parsed at intake (now missing)",
    "placeholder": "placeholder texts turned into missing values at intake",
    "personal_data": "column holds personal data",
    "date_gaps": "months without rows inside the date range",
    "spike_days": "days whose row count has a robust z above profiling.spike_z",
    "after_as_of": "rows later than as_of (outcome windows only)",
    "future_dates": "dates after today",
    "prelaunch_dates": "dates before launch_date",
    "refunds": "refund lines (is_refund or a refund status)",
    "negative_amounts": "negative amounts not marked as refunds",
    "orphan_orders": "orders whose customer_id is not in customers",
    "orphan_rows": "rows whose customer_id is not in customers (tickets, events, contacts)",
    "customers_without_orders": "customers with no order",
    "extreme_spenders": "customers whose log total spend has a robust z above the threshold",
}
"""Alert kinds and what raises them."""

CRM_KINDS: tuple[str, ...] = (
    "refunds", "negative_amounts", "future_dates", "prelaunch_dates", "after_as_of",
    "orphan_orders", "orphan_rows", "customers_without_orders", "extreme_spenders",
    "placeholder", "unparseable", "personal_data",
)  # fmt: skip
"""Alert kinds of the CRM checks (beyond ydata-profiling's)."""

_TEXT_KINDS = ("categorical", "text", "id")


@dataclass(frozen=True)
class Alert:
    """One finding about the data that deserves the analyst's attention.

    Attributes
    ----------
    table : str
        Contract table name.
    column : str or None
        Column concerned (``None`` for table-level alerts; for pairs the first column).
    kind : str
        One of :data:`ALERT_KINDS`.
    severity : {'error', 'warning', 'info'}
        ``error``: breaks the contract or biases every analysis until cleaned; ``warning``:
        likely wrong, check it; ``info``: worth knowing.
    message : str
        Plain-language sentence with the counts and share.
    n_rows : int
        Rows (or customers, or values) concerned.
    share : float or None
        ``n_rows`` as a share of the table's rows.
    examples : tuple
        A few example values (none for personal data unless ``privacy.allow_personal_data``).
    """

    table: str
    column: str | None
    kind: str
    severity: Severity
    message: str
    n_rows: int = 0
    share: float | None = None
    examples: tuple[Any, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The alert as a plain dict (examples joined into one string)."""
        return {
            "severity": self.severity,
            "table": self.table,
            "column": self.column,
            "kind": self.kind,
            "message": self.message,
            "n_rows": self.n_rows,
            "share": self.share,
            "examples": ", ".join(map(repr, self.examples)),
        }

    def __repr__(self) -> str:
        return f"Alert({self.severity}: {self.message})"


def alerts_frame(alerts: Sequence[Alert], order: Sequence[str] | None = None) -> pd.DataFrame:
    """Alerts as a table, most severe first, then in table ``order``, then most rows first.

    Parameters
    ----------
    alerts : sequence of Alert
    order : sequence of str, optional
        Table names in the order to list them.

    Returns
    -------
    pandas.DataFrame
        One row per alert: ``severity``, ``table``, ``column``, ``kind``, ``message``,
        ``n_rows``, ``share``, ``examples``.
    """
    cols = ["severity", "table", "column", "kind", "message", "n_rows", "share", "examples"]
    if not alerts:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame([a.as_dict() for a in alerts], columns=cols)
    t_rank = {t: i for i, t in enumerate(order or [])}
    df["_s"] = df["severity"].map(_SEV_RANK)
    df["_t"] = df["table"].map(lambda t: t_rank.get(t, len(t_rank)))
    df = df.sort_values(["_s", "_t", "n_rows"], ascending=[True, True, False], kind="stable")
    return df.drop(columns=["_s", "_t"]).reset_index(drop=True)


def fmt_number(x: Any) -> str:
    """A number for a message: whole numbers with thousands separators, else 3 significant digits."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return t("profiling.common.na")
    x = float(x)
    if abs(x) >= 1000 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:,.3g}"


def fmt_value(v: Any) -> Any:
    """A value for a table or message: numpy scalars as Python, midnight timestamps as dates."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, pd.Timestamp):
        return str(v.date()) if v == v.normalize() else str(v)
    return v



def column_alerts(
    table: str,
    col: str,
    where: str,
    row: Mapping[str, Any],
    *,
    key: tuple[str, ...],
    options: ProfilingOptions,
    is_pii: bool,
    allow_personal_data: bool,
    top: pd.DataFrame | None,
    pii_kind: str | None = None,
) -> list[Alert]:
    """The ydata-style alerts of one column (see the module docstring for definitions).

    Parameters
    ----------
    table, col : str
        Table and column.
    where : str
        How messages name the column (``orders.amount (from 实付金额)``).
    row : mapping
        The column's statistics (a row of :attr:`TableProfile.stats`).
    key : tuple of str
        The table's key (a key column is not ``unique``-alerted).
    options : ProfilingOptions
    is_pii, allow_personal_data : bool
        Whether the column holds personal data and whether it may be shown raw; when it may
        not, no alert names a value of it.
    top : pandas.DataFrame or None
        The column's top values (examples; None for hidden columns).
    pii_kind : str, optional
        Kind of personal data (``phone``), named in the ``personal_data`` alert.

    Returns
    -------
    list of Alert
    """
    out: list[Alert] = []
    kind = row["kind"]
    n, n_valid, n_missing = row["n"], row["n_valid"], row["n_missing"]
    n_distinct = row["n_distinct"]
    hidden = is_pii and not allow_personal_data
    if is_pii:
        what = (t("profiling.personal.what_kind", kind=category("pii_kind", pii_kind)) if pii_kind
                else t("profiling.personal.what"))
        text = (t("profiling.alerts.personal_data_raw", where=where, what=what) if allow_personal_data
                else t("profiling.alerts.personal_data_hidden", where=where, hidden=hidden_label(pii_kind)))
        out.append(Alert(table, col, "personal_data", "info", text, n_valid, n_valid / n if n else None))
    if n == 0:
        return out
    if n_valid == 0:
        out.append(Alert(table, col, "empty", "warning", t("profiling.alerts.empty", where=where, n=f"{n:,}"), n, 1.0))
        return out
    if row["p_missing"] > options.missing_threshold:
        sev: Severity = "error" if row.get("required") else "warning"
        key = "profiling.alerts.missing_required" if row.get("required") else "profiling.alerts.missing"
        out.append(Alert(table, col, "missing", sev, t(key, where=where, rows=rows_text(n_missing, n)),
                         n_missing, n_missing / n))  # fmt: skip
    examples = tuple(top["value"].head(3)) if top is not None and not hidden else ()
    if n_distinct == 1 and not str(row.get("source") or "").startswith("@const"):
        value = t("profiling.alerts.hidden_value") if hidden else repr(examples[0] if examples else row.get("date_min"))
        out.append(Alert(table, col, "constant", "warning",
                         t("profiling.alerts.constant", where=where, value=value, n=f"{n_valid:,}"),
                         n_valid, n_valid / n, examples[:1]))  # fmt: skip
    is_key = col in key
    unique_kind = kind in _TEXT_KINDS or (kind == "numeric" and row.get("integer_valued", False))
    if n_distinct == n and n > 1 and not is_key and unique_kind:
        out.append(Alert(table, col, "unique", "info", t("profiling.alerts.unique", where=where, n=f"{n:,}"),
                         n, 1.0, examples))  # fmt: skip
    if kind == "categorical" and n_distinct > options.high_cardinality_threshold:
        out.append(Alert(table, col, "high_cardinality", "info",
                         t("profiling.alerts.high_cardinality", where=where, n=f"{n_distinct:,}",
                           threshold=options.high_cardinality_threshold),
                         n_distinct, None, examples))  # fmt: skip
    imb = row.get("imbalance")
    if kind in ("categorical", "bool") and imb is not None and imb > options.imbalance_threshold and n_distinct > 1:
        out.append(Alert(table, col, "imbalance", "info",
                         t("profiling.alerts.imbalance", where=where, score=f"{imb:.2f}",
                           threshold=f"{options.imbalance_threshold:g}", top=repr(row["top"]),
                           rows=rows_text(row["top_count"], n_valid, "non_missing_rows")),
                         int(row["top_count"]), row["top_count"] / n, examples[:1]))  # fmt: skip
    if kind == "numeric":
        skew = row.get("skewness")
        if skew is not None and pd.notna(skew) and abs(skew) > options.skewness_threshold:
            out.append(Alert(table, col, "skewed", "info",
                             t("profiling.alerts.skewed", where=where, skew=f"{skew:.1f}",
                               threshold=f"{options.skewness_threshold:g}", median=fmt_number(row.get("median")),
                               p99=fmt_number(row.get("p99")), max=fmt_number(row.get("max"))),
                             n_valid, None))  # fmt: skip
        pz = row.get("p_zeros")
        if pz is not None and pz > options.zeros_threshold:
            out.append(Alert(table, col, "zeros", "info",
                             t("profiling.alerts.zeros", where=where,
                               rows=rows_text(int(row["n_zeros"]), n_valid, "non_missing_values")),
                             int(row["n_zeros"]), row["n_zeros"] / n))  # fmt: skip
        if row.get("n_infinite"):
            out.append(Alert(table, col, "infinite", "warning",
                             t("profiling.alerts.infinite", where=where, rows=rows_text(int(row["n_infinite"]), n)),
                             int(row["n_infinite"]), row["n_infinite"] / n))  # fmt: skip
    return out



def intake_alerts(
    table: str,
    col: str,
    where: str,
    rep: ColumnReport,
    n_rows: int | pd.Series,
    *,
    is_pii: bool,
    allow_personal_data: bool,
    pii_kind: str | None = None,
) -> list[Alert]:
    """The ``unparseable`` and ``placeholder`` alerts of one column, from its intake report.

    Parameters
    ----------
    table, col, where : str
        Table, column, and how messages name the column.
    rep : ColumnReport
        What intake did to the column.
    n_rows : int or pandas.Series
        Rows of the table (or the column, for its length).
    is_pii, allow_personal_data : bool
        Whether the column holds personal data and whether it may be shown raw; when it may
        not, the unreadable values are counted, not shown.
    pii_kind : str, optional
        Kind of personal data, named instead of the values.

    Returns
    -------
    list of Alert
    """
    out: list[Alert] = []
    n = n_rows if isinstance(n_rows, int) else len(n_rows)
    n_ph = int(sum(rep.placeholders.values()))
    if rep.n_unparseable:
        hidden = is_pii and not allow_personal_data
        ex = [] if hidden else list(rep.examples)
        tail = t("profiling.common.hidden_tail", hidden=hidden_label(pii_kind)) if hidden else eg(ex[:5])
        out.append(Alert(table, col, "unparseable", "warning",
                         t("profiling.alerts.unparseable", where=where, rows=rows_text(rep.n_unparseable, n, "values"),
                           type=category("logical_type", rep.type), eg=tail),
                         rep.n_unparseable, rep.n_unparseable / n if n else None, tuple(ex[:5])))  # fmt: skip
    if n_ph:
        # blank-or-placeholder rows: the placeholder texts plus empty cells
        n_bl = max(int(rep.n_blank), n_ph)
        parts = sorted(rep.placeholders.items(), key=lambda kv: -kv[1])[:5]
        phs = ", ".join(f"{k!r}×{v:,}" for k, v in parts)
        if n_bl > n_ph:
            phs += ", " + t("profiling.alerts.blank_count", n=f"{n_bl - n_ph:,}")
        out.append(Alert(table, col, "placeholder", "info",
                         t("profiling.alerts.placeholder", where=where, rows=rows_text(n_bl, n), placeholders=phs),
                         n_bl, n_bl / n if n else None, tuple(rep.placeholders)[:5]))  # fmt: skip
    return out


def alert_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """An alerts table as a reader sees it: severity and kind as labels in the run's language
    (``categories.severity`` and ``categories.alert_kind``); the codes stay in :func:`alerts_frame`.

    Parameters
    ----------
    frame : pandas.DataFrame
        From :func:`alerts_frame` (or a filtered copy).

    Returns
    -------
    pandas.DataFrame
        The same rows and columns.
    """
    out = frame.copy()
    if len(out):
        out["severity"] = out["severity"].map(lambda s: category("severity", s))
        out["kind"] = out["kind"].map(lambda k: category("alert_kind", k))
    return out
