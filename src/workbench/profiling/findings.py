"""The plain-language finding of each section of the profiling report, computed from the numbers.

Each function takes a :class:`~workbench.profiling.profile.DataProfile` and returns one sentence
or a few; :data:`SECTIONS` maps section names to them (:meth:`DataProfile.section_finding`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from workbench.profiling.alerts import SEVERITIES, fmt_number
from workbench.profiling.words import clauses, join, plural, severity_counts
from workbench.report import fmt
from workbench.report.i18n import category, date_text, t

if TYPE_CHECKING:
    from workbench.profiling.profile import DataProfile

__all__ = ["SECTIONS", "SUMMARY_SECTIONS"]


def overview(prof: DataProfile) -> str:
    """Tables, rows, size and alerts by severity."""
    if not prof.profiles:
        return t("profiling.findings.overview_none")
    parts = [
        t("profiling.findings.overview_table", table=n, rows=f"{tp.n_rows:,}", columns=tp.n_columns,
          mb=f"{tp.memory_bytes / 2**20:,.1f}")
        for n, tp in prof.profiles.items()
    ]
    counts = prof.alerts()["severity"].value_counts()
    total = sum(tp.n_rows for tp in prof.profiles.values())
    return t("profiling.findings.overview", tables=plural("profiling.findings.tables_n", len(prof.profiles)),
             rows=f"{total:,}", parts=clauses(parts), severities=severity_counts(counts.to_dict(), SEVERITIES))


def missing(prof: DataProfile) -> str:
    """Missing cells overall, the columns with most gaps, required columns with gaps, and which
    tables' missing-value matrix came from a seeded sample."""
    cells = sum(tp.n_rows * tp.n_columns for tp in prof.profiles.values())
    missing = sum(tp.n_missing_cells for tp in prof.profiles.values())
    if missing == 0:
        return t("profiling.findings.missing_none")
    worst = []
    for name, tp in prof.profiles.items():
        st = tp.stats[tp.stats["n_missing"] > 0]
        worst.extend((float(r.p_missing), f"{name}.{c}", int(r.n_missing)) for c, r in st.iterrows())
    worst.sort(reverse=True)
    top = t("profiling.sep.list_comma").join(
        t("profiling.findings.missing_column", column=c, share=f"{p:.1%}", rows=plural("profiling.findings.rows_n", m))
        for p, c, m in worst[:3])
    req = prof.alerts(kind="missing", severity="error")
    extra = t("profiling.findings.missing_required", columns=join(req["table"] + "." + req["column"])) if len(req) else ""
    notes = prof.sample_notes()  # the patterns count every row; the matrix and nullity correlation a sample
    tail = t("profiling.findings.sample_tail", notes=clauses(notes)) if notes else ""
    return t("profiling.findings.missing", missing=f"{missing:,}", cells=f"{cells:,}", share=f"{missing / cells:.1%}",
             top=top, required=extra) + tail


def duplicates(prof: DataProfile) -> str:
    """Exact duplicate rows and repeated keys per table."""
    parts = []
    for name, tp in prof.profiles.items():
        bits = []
        if tp.n_duplicate_rows:
            bits.append(plural("profiling.findings.duplicate_rows", tp.n_duplicate_rows))
        if tp.n_duplicate_keys:
            bits.append(plural("profiling.findings.duplicate_keys", tp.n_duplicate_keys, key=", ".join(tp.key)))
        if bits:
            share = (tp.n_duplicate_rows + tp.n_duplicate_keys) / tp.n_rows
            parts.append(t("profiling.findings.duplicates_table", table=name, what=t("profiling.sep.and").join(bits),
                           share=f"{share:.2%}"))
    if not parts:
        return t("profiling.findings.duplicates_none")
    return t("profiling.findings.duplicates", parts=clauses(parts))


_DISTRIBUTION_KINDS = ("constant", "skewed", "zeros", "imbalance", "high_cardinality", "high_correlation")


def distributions(prof: DataProfile) -> str:
    """Constant, skewed, zero-heavy, imbalanced, high-cardinality and correlated columns."""
    al = prof.alerts(kind=list(_DISTRIBUTION_KINDS))
    if al.empty:
        return t("profiling.findings.distributions_none")
    parts = []
    for k in _DISTRIBUTION_KINDS:
        sub = al[al["kind"] == k]
        if len(sub):
            cols = join((sub["table"] + "." + sub["column"].astype(str)).head(4))
            more = t("profiling.findings.more", n=len(sub) - 4) if len(sub) > 4 else ""
            parts.append(t("profiling.findings.distribution_kind", label=t(f"profiling.findings.distribution.{k}"),
                           columns=cols, more=more))
    skewed = prof.alerts(kind="skewed")
    tail = ""
    if len(skewed):
        tb, c = skewed.iloc[0]["table"], skewed.iloc[0]["column"]
        st = prof.profiles[tb].stats.loc[c]
        tail = t("profiling.findings.skewed_tail", column=f"{tb}.{c}", median=fmt_number(st["median"]),
                 p99=fmt_number(st["p99"]), max=fmt_number(st["max"]))
    return t("profiling.findings.distributions", parts=clauses(parts), tail=tail)


def _date_part(prof: DataProfile, name: str, col: str) -> str:
    """One datetime column's range, empty months, spike days and implausible dates."""
    tp = prof.profiles[name]
    st = tp.stats.loc[col]
    lo, hi = tp.date_windows[col]
    bits = [t("profiling.findings.date_range", column=f"{name}.{col}", start=date_text(st["date_min"]),
              end=date_text(st["date_max"]))]
    if st.get("n_gap_months"):
        bits.append(plural("profiling.findings.date_gaps", int(st["n_gap_months"]), start=date_text(lo),
                           end=date_text(hi)))
    sp = tp.spikes.get(col)
    if sp is not None and len(sp):
        bits.append(plural("profiling.findings.date_spikes", len(sp), day=date_text(sp.iloc[0]["day"]),
                           rows=f"{int(sp.iloc[0]['rows']):,}", baseline=fmt_number(sp.iloc[0]["baseline"])))
    if st.get("n_future"):
        bits.append(t("profiling.findings.date_future", n=f"{int(st['n_future']):,}"))
    if st.get("n_prelaunch"):
        bits.append(t("profiling.findings.date_prelaunch", n=f"{int(st['n_prelaunch']):,}"))
    return t("profiling.sep.list_comma").join(bits)


def dates(prof: DataProfile) -> str:
    """Range, empty months, spike days and implausible dates of every datetime column."""
    parts = [_date_part(prof, name, col) for name, tp in prof.profiles.items() for col in tp.daily_counts]
    if not parts:
        return t("profiling.findings.dates_none")
    return t("profiling.findings.dates", parts=clauses(parts))


_CRM_FINDING_KINDS = ("refunds", "negative_amounts", "orphan_orders", "orphan_rows", "customers_without_orders",
                      "extreme_spenders", "future_dates", "prelaunch_dates")


def crm(prof: DataProfile) -> str:
    """Refunds, negative amounts, orphans, customers without orders, extreme spenders, dates."""
    c = prof.crm
    bits = [t(f"profiling.findings.crm.{k}", n=f"{c[k]:,}", z=f"{prof.extreme_z:g}")
            for k in _CRM_FINDING_KINDS if c.get(k)]
    tail = ""
    if not c.get("extreme_spenders") and len(prof.top_spenders) and pd.notna(prof.top_spenders["robust_z"].iloc[0]):
        top = prof.top_spenders.iloc[0]
        tail = t("profiling.findings.crm_no_extreme", z=f"{top['robust_z']:.1f}", customer=top["customer_id"],
                 spend=fmt.money(top["spend"]), threshold=f"{prof.extreme_z:g}")
    if not bits:
        return t("profiling.findings.crm_none", tail=tail)
    return t("profiling.findings.crm_text", parts=clauses(bits), tail=tail)


def alerts(prof: DataProfile) -> str:
    """How many alerts of each severity, and the most serious ones."""
    al = prof.alerts()
    if al.empty:
        return t("profiling.findings.alerts_none")
    sev = al["severity"].value_counts().to_dict()
    top = al[al["severity"] == al["severity"].iloc[0]].head(3)
    worst = clauses(f"{r.table}.{r.column or '*'}: {category('alert_kind', r.kind)}" for r in top.itertuples())
    return t("profiling.findings.alerts", n=f"{len(al):,}", severities=severity_counts(sev, SEVERITIES, zeros=False),
             worst=worst)


def correlations(prof: DataProfile) -> str:
    """Pairs above the correlation threshold, and the strongest pair of each table."""
    parts = []
    for name in prof.profiles:
        pairs = prof.correlations(name)
        if len(pairs):
            top = pairs.iloc[0]
            parts.append(t("profiling.findings.correlation_pair", table=name, a=top.column_a, b=top.column_b,
                           method=t(f"profiling.findings.method.{top.method}"), value=f"{top.value:.2f}"))
    if not parts:
        return t("profiling.findings.correlations_none")
    thr = f"{prof.options.high_correlation_threshold:g}"
    high = prof.alerts(kind="high_correlation")
    head = (plural("profiling.findings.correlations_high", len(high), threshold=thr) if len(high)
            else t("profiling.findings.correlations_low", threshold=thr))
    notes = prof.sample_notes()
    tail = t("profiling.findings.sample_tail", notes=clauses(notes)) if notes else ""
    return head + t("profiling.findings.correlations", parts=clauses(parts), tail=tail)


SECTIONS: dict[str, Callable[[DataProfile], str]] = {
    "overview": overview,
    "alerts": alerts,
    "missing": missing,
    "duplicates": duplicates,
    "distributions": distributions,
    "dates": dates,
    "correlations": correlations,
    "crm": crm,
}
"""Section name -> its finding."""

SUMMARY_SECTIONS: tuple[str, ...] = ("overview", "missing", "duplicates", "distributions", "dates", "crm")
"""The sections of the report's summary list (:meth:`DataProfile.findings`)."""
