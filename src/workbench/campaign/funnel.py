"""Event funnels: how many sessions (or customers) pass each step, where they leak, how long
the steps take (notebook ``04_campaign_evaluation.ipynb``).

Definition
----------
For each unit (a ``session_id``, or a ``customer_id``) the first step is reached at the unit's
earliest event of that name; step ``k`` is reached at the earliest event named ``steps[k]``
strictly after the time step ``k - 1`` was reached (and, with ``max_step_hours``, no more than
that many hours after it). So a step counts only if every previous step happened earlier, in
order, in the same unit; an ``order`` event without a ``checkout`` before it does not count.
Choosing the earliest qualifying event at each step is the usual funnel convention (Mixpanel,
Amplitude); with ``max_step_hours`` it can, rarely, miss a later in-window path.

Group columns (``by``) are read from the unit's first-step event (event columns such as
``channel``; the value at the unit's earliest first-step event where it is not missing) or joined
by ``customer_id`` from a customer-level ``segments`` frame. All the work runs in the engine as
Ibis expressions (DuckDB, or Spark with ``con=``): one join and aggregation per step over the
events, then one aggregation per group, so tens of millions of events are fine; only per-step
and per-group counts come back.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.campaign._common import naive_time
from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    did_you_mean,
    format_examples,
)
from workbench.data.engine import as_table, close, connect
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import holm, wilson_interval

__all__ = ["DEFAULT_STEPS", "FunnelResult", "funnel", "steps_problem"]

#: Default funnel steps (``analyses.campaign.funnel.steps``).
DEFAULT_STEPS: tuple[str, ...] = ("exposure", "visit", "add_to_cart", "checkout", "order")
_TABLE = "events"
_MISSING = "(missing)"


def _rates(
    k: np.ndarray, n: np.ndarray, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = np.asarray(k, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    lo, hi = wilson_interval(k, n, confidence=confidence)
    return r, lo, hi


def _step_frame(reached: np.ndarray, steps: Sequence[str], confidence: float) -> pd.DataFrame:
    """Per-step table from the reached counts of one group."""
    reached = np.asarray(reached, float)
    prev = np.r_[reached[0], reached[:-1]]
    first = np.full(len(reached), reached[0])
    sr, slo, shi = _rates(reached, prev, confidence)
    orr, olo, ohi = _rates(reached, first, confidence)
    sr[0], slo[0], shi[0] = (1.0, 1.0, 1.0) if reached[0] > 0 else (np.nan, np.nan, np.nan)
    return pd.DataFrame(
        {
            "step_no": np.arange(1, len(steps) + 1),
            "step": list(steps),
            "reached": reached.astype(np.int64),
            "step_rate": sr,
            "step_rate_low": slo,
            "step_rate_high": shi,
            "overall_rate": orr,
            "overall_rate_low": olo,
            "overall_rate_high": ohi,
            "dropped": (prev - reached).astype(np.int64),
            "drop_rate": 1 - sr,
        }
    )


@dataclass(frozen=True, eq=False, repr=False)
class FunnelResult(Result):
    """A funnel (see :func:`funnel`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per step: ``step_no``, ``step``, ``reached`` (units), ``step_rate`` (reached /
        reached at the previous step) with ``_low``/``_high`` (Wilson), ``overall_rate``
        (reached / reached at step 1) with interval, ``dropped`` (units lost since the previous
        step), ``drop_rate``.
    groups : pandas.DataFrame
        The same per group: the ``by`` columns first (empty without ``by``).
    timing_table : pandas.DataFrame
        Minutes from the previous step: ``step``, the ``by`` columns (overall rows have
        ``"(all)"``), ``units``, ``median_minutes``, ``p90_minutes``, ``mean_minutes``.
    tests : pandas.DataFrame
        Per step (2..k) with ``by``: chi-square test of equal step rates across groups:
        ``step``, ``groups``, ``chi2``, ``dof``, ``p_value``, ``p_holm`` (Holm over steps).
    steps, unit, by, max_step_hours, confidence
        Settings used.
    n_events : int
        Events of the funnel steps used.
    notes : tuple of str
    """

    table: pd.DataFrame
    groups: pd.DataFrame
    timing_table: pd.DataFrame
    tests: pd.DataFrame
    steps: tuple[str, ...]
    unit: str
    by: tuple[str, ...]
    max_step_hours: float | None
    confidence: float
    n_events: int
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Per step: units reached, step rate with interval, overall rate with interval, drop-off."""
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Per group and step when grouped, else per step."""
        return self.groups.copy() if len(self.by) else self.table.copy()

    def by_group(self) -> pd.DataFrame:
        """Per group and step: the ``by`` columns and the columns of :meth:`summary`."""
        return self.groups.copy()

    def timing(self) -> pd.DataFrame:
        """Minutes between consecutive steps (median, p90, mean), overall and per group."""
        return self.timing_table.copy()

    @property
    def leaks(self) -> dict[str, Any]:
        """Biggest leak: largest absolute drop (units) and lowest step rate (steps 2..k)."""
        t = self.table.iloc[1:]
        if t.empty or t["reached"].iloc[0] == 0 and t["dropped"].max() == 0:
            return {}
        i_drop = t["dropped"].to_numpy().argmax()
        rates = t["step_rate"].to_numpy(float)
        i_rate = int(np.nanargmin(rates)) if np.isfinite(rates).any() else i_drop
        row_d, row_r = t.iloc[i_drop], t.iloc[i_rate]
        prev = self.table["step"].tolist()
        return {
            "largest_drop_step": str(row_d["step"]),
            "largest_drop_from": prev[int(row_d["step_no"]) - 2],
            "largest_drop_units": int(row_d["dropped"]),
            "largest_drop_step_rate": num(row_d["step_rate"]),
            "lowest_rate_step": str(row_r["step"]),
            "lowest_rate_from": prev[int(row_r["step_no"]) - 2],
            "lowest_step_rate": num(row_r["step_rate"]),
        }

    def finding(self) -> str:
        tb = self.table
        n0 = int(tb["reached"].iloc[0])
        u = i18n.t(f"campaign.funnel.units_{self.unit}")
        if n0 == 0:
            return i18n.t("campaign.funnel.none", units=u, step=repr(self.steps[0]))
        parts = [i18n.t("campaign.funnel.finding", n=f"{n0:,}", units=u, first=repr(self.steps[0]),
                        reached=f"{int(tb['reached'].iloc[-1]):,}", last=repr(self.steps[-1]),
                        rate=pct(tb["overall_rate"].iloc[-1]), level=f"{100 * self.confidence:.0f}",
                        low=pct(tb["overall_rate_low"].iloc[-1]), high=pct(tb["overall_rate_high"].iloc[-1]))]
        lk = self.leaks
        if lk:
            parts.append(i18n.t("campaign.funnel.leak", step_from=lk["largest_drop_from"], step=lk["largest_drop_step"],
                                lost=f"{lk['largest_drop_units']:,}", units=u,
                                rate=pct(lk["largest_drop_step_rate"])))  # fmt: skip
            if lk["lowest_rate_step"] != lk["largest_drop_step"]:
                parts.append(i18n.t("campaign.funnel.weakest", step_from=lk["lowest_rate_from"],
                                    step=lk["lowest_rate_step"], rate=pct(lk["lowest_step_rate"])))  # fmt: skip
            else:
                parts.append(i18n.t("campaign.funnel.also_weakest"))
        if len(self.by) and not self.groups.empty:
            last = self.groups.loc[self.groups["step"] == self.steps[-1]].copy()
            last = last[last["overall_rate"].notna()]
            if len(last) > 1:
                lab = last[list(self.by)].astype(str).agg(" · ".join, axis=1)
                i_hi, i_lo = (
                    int(last["overall_rate"].to_numpy().argmax()),
                    int(last["overall_rate"].to_numpy().argmin()),
                )
                parts.append(i18n.t("campaign.funnel.by", by=" · ".join(i18n.label(b) for b in self.by),
                                    low=pct(last["overall_rate"].iloc[i_lo]), low_group=lab.iloc[i_lo],
                                    high=pct(last["overall_rate"].iloc[i_hi]), high_group=lab.iloc[i_hi]))
            if not self.tests.empty:
                sig = self.tests.loc[self.tests["p_holm"] < 0.05, "step"].tolist()
                parts.append(i18n.t("campaign.funnel.differ", steps=", ".join(sig) if sig
                                    else i18n.t("campaign.funnel.no_step")))  # fmt: skip
        tm = self.timing_table
        if not tm.empty:
            allrows = tm[tm[list(self.by)].eq("(all)").all(axis=1)] if len(self.by) else tm
            allrows = allrows[allrows["median_minutes"].notna()]
            if len(allrows):
                slow = allrows.iloc[int(allrows["median_minutes"].to_numpy().argmax())]
                parts.append(i18n.t("campaign.funnel.slowest", step=slow["step"], median=f"{slow['median_minutes']:.1f}",
                                    p90=f"{slow['p90_minutes']:.1f}"))  # fmt: skip
        return " ".join(parts)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "unit": self.unit,
            "steps": list(self.steps),
            "by": list(self.by),
            "max_step_hours": self.max_step_hours,
            "n_events": int(self.n_events),
            "reached": {str(r.step): int(r.reached) for r in self.table.itertuples()},
            "step_rate": {str(r.step): num(r.step_rate) for r in self.table.itertuples()},
            "overall_rate": num(self.table["overall_rate"].iloc[-1]),
            "leaks": self.leaks,
        }
        if len(self.by):
            g = self.groups
            out["groups"] = {
                " · ".join(map(str, key if isinstance(key, tuple) else (key,))): {
                    str(r.step): int(r.reached) for r in sub.itertuples()
                }
                for key, sub in g.groupby(list(self.by), sort=False)
            }
        return out

    def plot(self, ax: Any = None) -> Any:
        """Funnel bar chart: units reaching each step, labelled with step and overall rates."""
        import seaborn as sns

        t = self.table
        ax = new_axes(ax, figsize=(8, 0.6 * len(t) + 1.5))
        sns.barplot(data=t, y="step", x="reached", ax=ax, color=sns.color_palette()[0], orient="h")
        top = max(float(t["reached"].max()), 1.0)
        for i, r in enumerate(t.itertuples()):
            label = f"{int(r.reached):,}"
            if i > 0:
                label += "  " + i18n.t("campaign.funnel.bar_label", step=pct(r.step_rate), overall=pct(r.overall_rate))
            ax.text(r.reached + 0.01 * top, i, label, va="center", fontsize=9)
        ax.set_xlim(0, top * 1.45)
        lk = self.leaks
        if lk:
            i = self.steps.index(lk["largest_drop_step"])
            ax.patches[i].set_facecolor("#c44e52")
        units = i18n.t(f"campaign.funnel.units_{self.unit}")
        ax.set_xlabel(i18n.t("campaign.funnel.axis", units=units))
        ax.set_ylabel("")
        ax.set_title(i18n.t("campaign.funnel.title", units=units))
        return ax

    def plot_by_group(self, ax: Any = None) -> Any:
        """Overall rate at each step per group (lines, log scale), with Wilson intervals."""
        import seaborn as sns

        if not len(self.by):
            raise AnalysisError("the funnel has no groups; pass by=[...] to funnel")
        g = self.groups.copy()
        g["group"] = g[list(self.by)].astype(str).agg(" · ".join, axis=1)
        ax = new_axes(ax, figsize=(8, 4.5))
        sns.lineplot(data=g, x="step", y="overall_rate", hue="group", marker="o", ax=ax, sort=False)
        for _, sub in g.groupby("group", sort=False):
            ax.fill_between(
                sub["step"], sub["overall_rate_low"], sub["overall_rate_high"], alpha=0.15
            )
        ax.set_yscale("log")
        ax.set_ylabel(i18n.t("campaign.funnel.axis_share", units=i18n.t(f"campaign.funnel.units_{self.unit}")))
        ax.set_xlabel("")
        ax.set_title(i18n.t("campaign.funnel.title_by", by=" · ".join(i18n.label(b) for b in self.by)))
        return ax

    def __repr__(self) -> str:
        return (
            f"FunnelResult({int(self.table['reached'].iloc[0]):,} {self.unit}s, {len(self.steps)} steps, "
            f"overall {pct(self.table['overall_rate'].iloc[-1])}"
            + (f", by {', '.join(self.by)}" if self.by else "")
            + ")"
        )


@dataclass
class _Groups:
    """Where each ``by`` column comes from: the events (``g<i>``) or the segments (``sg<i>``)."""

    by: tuple[str, ...]
    ev_by: list[str]
    seg_cols: list[str]
    seg: pd.DataFrame | None

    def sql_name(self, b: str) -> str:
        return f"g{self.ev_by.index(b)}" if b in self.ev_by else f"sg{self.seg_cols.index(b)}"


def steps_problem(steps: Sequence[str]) -> str | None:
    """What is wrong with a list of funnel steps (fewer than two, or repeated), or None.

    The params model (``FunnelParams.steps``) and :func:`funnel` both ask this.

    Examples
    --------
    >>> steps_problem(["visit", "order", "visit"])
    'step(s) visit appear twice; each step must be a distinct event name'
    """
    steps = [str(s) for s in steps]
    if len(steps) < 2:
        return f"a funnel needs at least two steps (got {steps!r})"
    dup = sorted({s for s in steps if steps.count(s) > 1})
    if dup:
        return f"step(s) {', '.join(dup)} appear twice; each step must be a distinct event name"
    return None


def _check_steps(steps: Sequence[str]) -> list[str]:
    """The steps as text; an unusable list stops, naming ``steps=``."""
    problem = steps_problem(steps)
    if problem:
        raise AnalysisError(f"steps=: {problem}")
    return [str(s) for s in steps]


def _step_groups(
    events: pd.DataFrame, unit_col: str, by: tuple[str, ...], segments: pd.DataFrame | None
) -> _Groups:
    """Check the columns and find each ``by`` column in the events or the segments."""
    missing = [c for c in ("event_time", "event_name", unit_col) if c not in events.columns]
    if missing:
        hint = "; or set unit: customer" if "session_id" in missing else ""
        raise AnalysisError(
            f"{_TABLE}: column(s) {', '.join(missing)} missing (columns: {', '.join(map(str, events.columns))}); "
            f"map them under tables.{_TABLE}.columns{hint}"
        )
    seg = None
    if segments is not None:
        seg = segments.reset_index() if "customer_id" not in segments.columns else segments
        if "customer_id" not in seg.columns:
            raise AnalysisError(
                f"segments: needs a customer_id column or index (columns: {', '.join(map(str, segments.columns))})"
            )
    ev_by = [b for b in by if b in events.columns]
    seg_cols: list[str] = []
    for b in by:
        if b in ev_by:
            continue
        if seg is not None and b in seg.columns:
            seg_cols.append(b)
            continue
        cands = list(events.columns) + (list(seg.columns) if seg is not None else [])
        raise AnalysisError(
            f"funnel: group column {b!r} is neither in {_TABLE} nor in the segments frame{did_you_mean(b, cands)}; "
            "fix by= or pass segments=..."
        )
    if seg_cols and "customer_id" not in events.columns:
        raise AnalysisError(
            f"{_TABLE}: column customer_id is needed to join segment columns {', '.join(seg_cols)}"
        )
    if seg is not None and seg["customer_id"].duplicated().any():
        d = seg.loc[seg["customer_id"].duplicated(), "customer_id"]
        raise AnalysisError(
            f"segments: {len(d):,} customer_id values repeat (e.g. {format_examples(d.head(20))}); one row per customer"
        )
    return _Groups(by=by, ev_by=ev_by, seg_cols=seg_cols, seg=seg)


def _step_event_frame(
    con: ibis.BaseBackend,
    events: pd.DataFrame | ir.Table,
    unit_col: str,
    unit: str,
    groups: _Groups,
) -> ir.Table:
    """The few columns the funnel reads, in the engine: ``u`` and ``name`` (text), ``ts``
    (timestamp), ``customer_id`` (text, when segments are joined per session), ``g<i>``."""
    need_customer = bool(groups.seg_cols) and unit != "customer"
    if isinstance(events, ir.Table):
        t = events.event_time
        cols = {"u": events[unit_col].cast("string"),
                "ts": t if t.type().is_timestamp() else t.cast("timestamp"),
                "name": events.event_name.cast("string")}  # fmt: skip
        if need_customer:
            cols["customer_id"] = events.customer_id.cast("string")
        cols.update({f"g{i}": events[b] for i, b in enumerate(groups.ev_by)})
        return events.select(**cols)
    frame = {
        "u": events[unit_col],
        "ts": naive_time(events["event_time"]),
        "name": events["event_name"],
    }
    if need_customer:
        frame["customer_id"] = events["customer_id"]
    for i, b in enumerate(groups.ev_by):
        frame[f"g{i}"] = events[b]
    ev = as_table(con, pd.DataFrame(frame))
    return ev.mutate(u=ev.u.cast("string"), name=ev.name.cast("string"), **(
        {"customer_id": ev.customer_id.cast("string")} if need_customer else {}))  # fmt: skip


def _n_rows(events: pd.DataFrame | ir.Table) -> int:
    return len(events) if isinstance(events, pd.DataFrame) else int(events.count().to_pandas())


def _step_check_names(
    con: ibis.BaseBackend, ev: ir.Table, steps: list[str], events: pd.DataFrame | ir.Table
) -> pd.DataFrame:
    """Events per name (``name``, ``n``, ``n_bad``: without a unit or a time), most frequent first;
    every step must occur at least once, else name the event names that do occur."""
    bad = ev.u.isnull() | ev.ts.isnull()
    names = con.to_pandas(ev.group_by("name").aggregate(n=ev.count(), n_bad=bad.ifelse(1, 0).sum()))
    names = names.sort_values(["n", "name"], ascending=[False, True], kind="stable")
    present = set(names["name"].dropna())
    absent = [s for s in steps if s not in present]
    if absent:
        seen = ", ".join(f"{r.name!r} ({r.n:,})" for r in names.head(20).itertuples())
        hints = "".join(
            f"; {a!r}:{hint}" for a in absent if (hint := did_you_mean(a, sorted(present)))
        )
        raise AnalysisError(
            f"{_TABLE}.event_name: funnel step(s) {', '.join(map(repr, absent))} never occur in {_n_rows(events):,} "
            f"events; event names that occur: {seen}{hints}; fix steps="
        )
    return names


def _step_load_events(ev: ir.Table, names: pd.DataFrame, steps: list[str], unit_col: str,
                      notes: list[str]) -> tuple[ir.Table, int]:  # fmt: skip
    """The funnel-step events with a unit and a time, and how many they are (from ``names``, the
    counts of :func:`_step_check_names`)."""
    used = names[names["name"].isin(steps)]
    n_bad = int(used["n_bad"].sum())
    n_used = int(used["n"].sum()) - n_bad
    if n_bad:
        msg = (
            f"{_TABLE}: {n_bad:,} of {n_used + n_bad:,} funnel-step events have no {unit_col} or no event_time "
            "and are left out"
        )
        warnings.warn(msg, DataQualityWarning, stacklevel=3)
        notes.append(msg)
    return ev.filter(ev.name.isin(steps), ev.u.notnull(), ev.ts.notnull()), n_used


def _first_value(first: ir.Table, col: str) -> ir.Table:
    """Per unit, ``col`` at the unit's earliest first-step event where it is not missing (ties:
    the smallest value), as ``u``, ``col``."""
    f = first.filter(first[col].notnull())
    f = f.mutate(_rn=ibis.row_number().over(group_by=f.u, order_by=[f.ts, f[col]]))
    return f.filter(f._rn == 0).select("u", col)


def _step_reach(e: ir.Table, steps: list[str], attrs: list[str], max_step_hours: float | None,
                keep: ExitStack) -> ir.Table:  # fmt: skip
    """Per unit reaching step 1: ``u``, ``t1`` .. ``t<k>`` (the time each step was reached in order,
    missing when not) and the ``attrs`` columns read from the unit's first-step events.

    Step k is the earliest step-k event strictly after step k - 1 (and within ``max_step_hours``
    of it), joined only for the units still in the funnel; each step's table is computed once
    and kept (``keep`` releases it), as the next step and the final join both read it.
    """
    first = e.filter(e.name == steps[0])
    r = first.group_by("u").aggregate(t1=first.ts.min())
    win = (
        None
        if max_step_hours is None
        else ibis.interval(microseconds=int(round(max_step_hours * 3600e6)))
    )
    prev = keep.enter_context(r.cache()).select("u", _t="t1")
    reached = []
    for k in range(1, len(steps)):
        ek = e.filter(e.name == steps[k]).select(_eu="u", _ets="ts")
        cond = [ek._eu == prev.u, ek._ets > prev._t]
        if win is not None:
            cond.append(ek._ets <= prev._t + win)
        j = prev.join(ek, cond)
        prev = keep.enter_context(j.group_by("u").aggregate(_t=j._ets.min()).cache())
        reached.append(prev.rename({f"_u{k + 1}": "u", f"t{k + 1}": "_t"}))

    for k, s in enumerate(reached, start=2):
        r = r.left_join(s, r.u == s[f"_u{k}"]).drop(f"_u{k}")
    for col in attrs:
        v = _first_value(first, col).rename(_vu="u")
        r = r.left_join(v, r.u == v._vu).drop("_vu")

    return r


def _step_join_segments(con: ibis.BaseBackend, r: ir.Table, groups: _Groups, unit: str) -> ir.Table:
    """``r`` with the segment columns (``sg<i>``) joined by customer."""
    if not groups.seg_cols:
        return r
    key_cust = "u" if unit == "customer" else "customer_id"
    sg = groups.seg[["customer_id", *groups.seg_cols]].copy()
    sg.columns = ["_seg_customer", *[f"sg{i}" for i in range(len(groups.seg_cols))]]
    sg["_seg_customer"] = sg["_seg_customer"].astype("string")
    seg = as_table(con, sg)
    return r.left_join(seg, seg._seg_customer == r[key_cust].cast("string")).drop("_seg_customer")


def _step_aggregate(con: ibis.BaseBackend, final: ir.Table, steps: list[str],
                    groups: _Groups) -> tuple[pd.DataFrame, pd.DataFrame | None]:  # fmt: skip
    """Reached counts and step timings (minutes), overall and per group."""
    aggs: dict[str, ir.Value] = {f"n{k + 1}": final[f"t{k + 1}"].count() for k in range(len(steps))}
    for k in range(1, len(steps)):
        minutes = final[f"t{k + 1}"].delta(final[f"t{k}"], unit="microsecond") / 6e7
        aggs[f"med{k + 1}"] = minutes.median()
        aggs[f"p90_{k + 1}"] = minutes.quantile(0.9)
        aggs[f"mean{k + 1}"] = minutes.mean()
    overall = con.to_pandas(final.aggregate(**aggs))
    if not groups.by:
        return overall, None
    keys = {b: final[groups.sql_name(b)].cast("string").fill_null(_MISSING) for b in groups.by}
    grouped = con.to_pandas(final.group_by(**keys).aggregate(**aggs))
    grouped = grouped.sort_values(
        ["n1", *groups.by], ascending=[False] + [True] * len(groups.by), kind="stable"
    )
    return overall, grouped.reset_index(drop=True)


def _timing_rows(
    frame: pd.Series, labels: dict[str, Any], steps: list[str]
) -> list[dict[str, Any]]:
    """Minutes from the previous step, one row per step 2..k."""
    return [
        {
            "step": steps[k], "from_step": steps[k - 1], **labels, "units": int(frame[f"n{k + 1}"]),
            "median_minutes": num(frame[f"med{k + 1}"]), "p90_minutes": num(frame[f"p90_{k + 1}"]),
            "mean_minutes": num(frame[f"mean{k + 1}"]),
        }
        for k in range(1, len(steps))
    ]  # fmt: skip


def _step_tables(overall: pd.DataFrame, grouped: pd.DataFrame | None, steps: list[str], by: tuple[str, ...],
                 unit: str, confidence: float, notes: list[str]) -> dict[str, pd.DataFrame]:  # fmt: skip
    """The step, group, timing and test tables of the result."""
    k_steps = len(steps)
    reached = overall[[f"n{k + 1}" for k in range(k_steps)]].iloc[0].to_numpy(float)
    table = _step_frame(reached, steps, confidence)
    trows = _timing_rows(overall.iloc[0], {b: "(all)" for b in by}, steps)
    groups = pd.DataFrame(columns=[*by, *table.columns])
    tests = pd.DataFrame(columns=["step", "groups", "chi2", "dof", "p_value", "p_holm"])
    if by and grouped is not None and len(grouped):
        parts = []
        for _, r in grouped.iterrows():
            f = _step_frame(
                r[[f"n{k + 1}" for k in range(k_steps)]].to_numpy(float), steps, confidence
            )
            parts.append(pd.concat([pd.DataFrame({b: [r[b]] * k_steps for b in by}), f], axis=1))
            trows += _timing_rows(r, {b: r[b] for b in by}, steps)
        groups = pd.concat(parts, ignore_index=True)
        tests = _homogeneity(grouped, steps)
        small = int((grouped["n1"] < 30).sum())
        if small:
            notes.append(
                f"{small} group(s) have fewer than 30 {unit}s at the first step: wide intervals"
            )
    return {"table": table, "groups": groups, "timing_table": pd.DataFrame(trows), "tests": tests}


def funnel(
    events: pd.DataFrame,
    *,
    steps: Sequence[str] = DEFAULT_STEPS,
    unit: Literal["session", "customer"] = "session",
    by: Sequence[str] = (),
    segments: pd.DataFrame | None = None,
    max_step_hours: float | None = None,
    confidence: float = 0.95,
    con: ibis.BaseBackend | None = None,
) -> FunnelResult:
    """Ordered funnel over events, overall and by group (Ibis: DuckDB or Spark).

    Parameters
    ----------
    events : pandas.DataFrame or ibis Table
        The ``events`` table: ``customer_id``, ``event_time``, ``event_name``; ``session_id``
        for ``unit="session"``; any ``by`` columns. An Ibis table stays in the engine.
    steps : sequence of str
        Event names in funnel order, at least two, distinct.
    unit : {"session", "customer"}
        What passes through the funnel.
    by : sequence of str
        Group columns: event columns (value at the unit's first-step event) or columns of
        ``segments``.
    segments : pandas.DataFrame, optional
        Customer-level columns, keyed by a ``customer_id`` column (or index).
    max_step_hours : float, optional
        A step more than this many hours after the previous one does not count (positive;
        validated by the params model).
    confidence : float, default 0.95
        Level of the Wilson intervals.
    con : ibis.BaseBackend, optional
        Engine (DuckDB or Spark); default the backend of ``events`` when it is an Ibis table,
        else a fresh in-memory DuckDB.

    Returns
    -------
    FunnelResult

    Raises
    ------
    AnalysisError
        Fewer than two steps or repeated steps; missing columns; a step that never occurs
        (naming the event names that do occur); a ``by`` column found neither in events nor in
        segments.
    """
    steps = _check_steps(steps)
    by = tuple(str(b) for b in by)
    unit_col = "session_id" if unit == "session" else "customer_id"
    groups = _step_groups(events, unit_col, by, segments)
    notes: list[str] = []
    own = con is None and not isinstance(events, ir.Table)
    if con is None:
        con = ibis.get_backend(events) if isinstance(events, ir.Table) else connect()
    try:
        ev = _step_event_frame(con, events, unit_col, unit, groups)
        names = _step_check_names(con, ev, steps, events)
        e, n_used = _step_load_events(ev, names, steps, unit_col, notes)
        attrs = [f"g{i}" for i in range(len(groups.ev_by))] + (
            ["customer_id"] if "customer_id" in e.columns else []
        )
        # each step's units are computed once (the next step and the final join read them), the
        # per-unit step times too (read overall and per group); all released at the end
        with ExitStack() as keep:
            r = _step_reach(e, steps, attrs, max_step_hours, keep)
            final = keep.enter_context(_step_join_segments(con, r, groups, unit).cache())
            overall, grouped = _step_aggregate(con, final, steps, groups)
    finally:
        if own:
            close(con)
    tables = _step_tables(overall, grouped, steps, by, unit, confidence, notes)
    if max_step_hours is not None:
        notes.append(f"steps more than {max_step_hours:g} h after the previous step do not count")
    res = FunnelResult(
        **tables, steps=tuple(steps), unit=unit, by=by, max_step_hours=max_step_hours,
        confidence=float(confidence), n_events=n_used, notes=tuple(notes),
    )  # fmt: skip
    reached = tables["table"]["reached"].to_numpy()
    if reached[0] > 0 and reached[-1] == 0:
        warnings.warn(
            f"no {unit} reached the last step {steps[-1]!r} in order; check the step order (steps=)",
            StatisticalWarning,
            stacklevel=2,
        )
    return res


def _homogeneity(grouped: pd.DataFrame, steps: Sequence[str]) -> pd.DataFrame:
    """Chi-square test of equal step rates across groups, per step, Holm over steps."""
    from scipy.stats import chi2_contingency

    rows = []
    for k in range(1, len(steps)):
        prev = grouped[f"n{k}"].to_numpy(float)
        cur = grouped[f"n{k + 1}"].to_numpy(float)
        ok = prev > 0
        tab = np.c_[cur[ok], prev[ok] - cur[ok]]
        tab = tab[:, tab.sum(axis=0) > 0] if tab.size else tab
        if ok.sum() < 2 or tab.shape[1] < 2:
            rows.append(
                {
                    "step": steps[k],
                    "groups": int(ok.sum()),
                    "chi2": math.nan,
                    "dof": 0,
                    "p_value": math.nan,
                }
            )
            continue
        chi2, p, dof, _ = chi2_contingency(tab, correction=False)
        rows.append(
            {
                "step": steps[k],
                "groups": int(ok.sum()),
                "chi2": float(chi2),
                "dof": int(dof),
                "p_value": float(p),
            }
        )
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p_value"].to_numpy(float))
    return out
