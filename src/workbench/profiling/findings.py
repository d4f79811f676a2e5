"""The plain-language finding of each section of the profiling report, computed from the numbers.

Each function takes a :class:`~workbench.profiling.profile.DataProfile` and returns one sentence
or a few; :data:`SECTIONS` maps section names to them (:meth:`DataProfile.section_finding`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from workbench.profiling.alerts import SEVERITIES, fmt_number

if TYPE_CHECKING:
    from workbench.profiling.profile import DataProfile

__all__ = ["SECTIONS", "SUMMARY_SECTIONS"]


def overview(prof: DataProfile) -> str:
    """Tables, rows, size and alerts by severity."""
    if not prof.profiles:
        return "No tables were profiled."
    parts = [
        f"{n} {tp.n_rows:,} rows × {tp.n_columns} columns ({tp.memory_bytes / 2**20:,.1f} MB)"
        for n, tp in prof.profiles.items()
    ]
    al = prof.alerts()
    counts = al["severity"].value_counts()
    sev = ", ".join(f"{int(counts.get(s, 0))} {s}{'s' if counts.get(s, 0) != 1 else ''}" for s in SEVERITIES)
    total = sum(tp.n_rows for tp in prof.profiles.values())
    return f"{len(prof.profiles)} table(s), {total:,} rows in all: {'; '.join(parts)}. Alerts: {sev}."


def missing(prof: DataProfile) -> str:
    """Missing cells overall, the columns with most gaps, required columns with gaps."""
    cells = sum(tp.n_rows * tp.n_columns for tp in prof.profiles.values())
    missing = sum(tp.n_missing_cells for tp in prof.profiles.values())
    if missing == 0:
        return "Missing values: none - every cell of every table has a value."
    worst = []
    for name, tp in prof.profiles.items():
        st = tp.stats[tp.stats["n_missing"] > 0]
        worst.extend((float(r.p_missing), f"{name}.{c}", int(r.n_missing)) for c, r in st.iterrows())
    worst.sort(reverse=True)
    top = ", ".join(f"{c} {p:.1%} ({m:,} row{'s' if m != 1 else ''})" for p, c, m in worst[:3])
    req = prof.alerts(kind="missing", severity="error")
    extra = f" Required columns with gaps: {', '.join(req['table'] + '.' + req['column'])}." if len(req) else ""
    return f"Missing values: {missing:,} of {cells:,} cells ({missing / cells:.1%}); most in {top}.{extra}"


def duplicates(prof: DataProfile) -> str:
    """Exact duplicate rows and repeated keys per table."""
    parts = []
    for name, tp in prof.profiles.items():
        bits = []
        if tp.n_duplicate_rows:
            bits.append(f"{tp.n_duplicate_rows:,} exact duplicate row{'s' if tp.n_duplicate_rows != 1 else ''}")
        if tp.n_duplicate_keys:
            k = tp.n_duplicate_keys
            bits.append(f"{k:,} {'row' if k == 1 else 'rows'} repeating the {', '.join(tp.key)} of an earlier row")
        if bits:
            share = (tp.n_duplicate_rows + tp.n_duplicate_keys) / tp.n_rows
            parts.append(f"{name} has {' and '.join(bits)} ({share:.2%} of rows)")
    if not parts:
        return "Duplicates: none - no exact duplicate rows and every key is unique."
    return ("Duplicates: " + "; ".join(parts)
            + ". The cleaning step resolves them (cleaning.drop_exact_duplicates, cleaning.duplicate_keys).")


def distributions(prof: DataProfile) -> str:
    """Constant, skewed, zero-heavy, imbalanced, high-cardinality and correlated columns."""
    al = prof.alerts(kind=["skewed", "constant", "imbalance", "zeros", "high_cardinality", "high_correlation"])
    if al.empty:
        return "Distributions: no constant, skewed, zero-heavy, imbalanced or highly correlated columns."
    parts = []
    for k, label in (("constant", "constant"), ("skewed", "highly skewed"), ("zeros", "many zeros"),
                     ("imbalance", "imbalanced"), ("high_cardinality", "high-cardinality"),
                     ("high_correlation", "highly correlated with another column")):  # fmt: skip
        sub = al[al["kind"] == k]
        if len(sub):
            cols = ", ".join((sub["table"] + "." + sub["column"].astype(str)).head(4))
            more = f" and {len(sub) - 4} more" if len(sub) > 4 else ""
            parts.append(f"{label}: {cols}{more}")
    skewed = prof.alerts(kind="skewed")
    tail = ""
    if len(skewed):
        t, c = skewed.iloc[0]["table"], skewed.iloc[0]["column"]
        st = prof.profiles[t].stats.loc[c]
        tail = (f" {t}.{c} has median {fmt_number(st['median'])} but p99 {fmt_number(st['p99'])} and max "
                f"{fmt_number(st['max'])}: use medians and log scales for it.")  # fmt: skip
    return "Distributions - " + "; ".join(parts) + "." + tail


def dates(prof: DataProfile) -> str:
    """Range, empty months, spike days and implausible dates of every datetime column."""
    parts = []
    for name, tp in prof.profiles.items():
        for col in tp.daily_counts:
            st = tp.stats.loc[col]
            lo, hi = tp.date_windows[col]
            bits = [f"{name}.{col} runs {st['date_min'].date()} to {st['date_max'].date()}"]
            if st.get("n_gap_months"):
                bits.append(f"{int(st['n_gap_months'])} empty month(s) between {lo.date()} and {hi.date()}")
            sp = tp.spikes.get(col)
            if sp is not None and len(sp):
                bits.append(f"{len(sp)} spike day(s), strongest {sp.iloc[0]['day'].date()} "
                            f"with {int(sp.iloc[0]['rows']):,} rows "
                            f"(typical {fmt_number(sp.iloc[0]['baseline'])})")
            if st.get("n_future"):
                bits.append(f"{int(st['n_future']):,} after today")
            if st.get("n_prelaunch"):
                bits.append(f"{int(st['n_prelaunch']):,} before launch")
            parts.append(", ".join(bits))
    if not parts:
        return "Dates: no datetime columns."
    return "Dates: " + "; ".join(parts) + "."


def crm(prof: DataProfile) -> str:
    """Refunds, negative amounts, orphans, customers without orders, extreme spenders, dates."""
    c = prof.crm
    bits = []
    labels = (
        ("refunds", "refund lines"),
        ("negative_amounts", "negative amounts not marked as refunds"),
        ("orphan_orders", "orders of unknown customers"),
        ("orphan_rows", "other rows of unknown customers"),
        ("customers_without_orders", "customers without orders"),
        ("extreme_spenders", f"extreme spenders (robust z > {prof.extreme_z:g})"),
        ("future_dates", "future dates"),
        ("prelaunch_dates", "pre-launch dates"),
    )
    for k, label in labels:
        if c.get(k):
            bits.append(f"{c[k]:,} {label}")
    tail = ""
    if not c.get("extreme_spenders") and len(prof.top_spenders) and pd.notna(prof.top_spenders["robust_z"].iloc[0]):
        top = prof.top_spenders.iloc[0]
        tail = (f" No extreme spender: the highest robust z of log spend is {top['robust_z']:.1f} "
                f"({top['customer_id']}, spend {fmt_number(top['spend'])}), below {prof.extreme_z:g}.")  # fmt: skip
    if not bits:
        return "CRM checks: no refunds, negative amounts, orphan rows, extreme spenders or implausible dates." + tail
    return "CRM checks: " + "; ".join(bits) + "." + tail


def alerts(prof: DataProfile) -> str:
    """How many alerts of each severity, and the most serious ones."""
    al = prof.alerts()
    if al.empty:
        return "No alerts: nothing in the data needs a look before analysis."
    sev = al["severity"].value_counts()
    top = al[al["severity"] == al["severity"].iloc[0]].head(3)
    worst = "; ".join(f"{r.table}.{r.column or '*'}: {r.kind}" for r in top.itertuples())
    counts = ", ".join(f"{int(sev.get(s, 0))} {s}" for s in SEVERITIES if sev.get(s, 0))
    return f"{len(al)} alerts ({counts}); the most serious: {worst}."


def correlations(prof: DataProfile) -> str:
    """Pairs above the correlation threshold, and the strongest pair of each table."""
    parts = []
    for name in prof.profiles:
        pairs = prof.correlations(name)
        if len(pairs):
            top = pairs.iloc[0]
            parts.append(f"{name}: {top.column_a} ~ {top.column_b} "
                         f"({'Spearman rho' if top.method == 'spearman' else 'Cramér V'} {top.value:.2f})")
    if not parts:
        return "Correlations: no column pairs to compare."
    thr = prof.options.high_correlation_threshold
    high = prof.alerts(kind="high_correlation")
    head = (f"{len(high)} column(s) correlate above {thr:g} with another: check for duplicated "
            "information or leakage before modelling. " if len(high) else
            f"No pair correlates above {thr:g}. ")
    notes = prof.sample_notes()
    tail = f" ({'; '.join(notes)}.)" if notes else ""
    return head + "Strongest pair per table - " + "; ".join(parts) + "." + tail


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
