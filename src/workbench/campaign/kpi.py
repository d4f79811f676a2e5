"""Campaign KPIs per campaign, channel and arm, with Wilson intervals, against targets.

Rates
    ``delivery_rate = delivered / contacts`` (contacts with a known delivered flag);
    ``open_rate = opened / delivered``; ``ctr`` (click-through rate) ``= clicked / delivered``;
    ``click_to_open_rate = clicked / opened``; ``visit_rate = visited / contacts``;
    ``conversion_rate = converted / contacts``. When ``delivered`` is not tracked the open and
    click rates use the contacts with a known flag as denominator. Blank flags (e.g. the
    control arm, which was never sent anything) are left out of numerator and denominator.
Money
    ``roi = (margin * revenue - cost) / cost``; ``cpa = cost / conversions``;
    ``revenue_per_contact = revenue / contacts``. ROI and CPA are shown only where the cost is
    tracked and not negligible: a group whose cost is blank or 0 has ``cost_status``
    ``not_tracked``, one whose cost is under ``min_cost_share`` (default 1 %) of its revenue
    ``negligible`` (an e-mail at a fraction of a cent gives an ROI of several hundred, which says
    only that the cost was not booked); both get ROI, CPA and the gap to an ROI / CPA target
    blank. Engagement score = mean over contacts of
    ``sum(weight_k * flag_k)`` (blank flags count 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.campaign._common import FLAGS, TABLE, error_bar_lengths, flag
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, label, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

if TYPE_CHECKING:
    from workbench.campaign.contacts import CampaignData

__all__ = ["KPI_DEFINITIONS", "COST_STATUSES", "MIN_COST_SHARE", "KPIResult", "kpi_definition", "kpi_table", "cost_status"]

#: KPI name -> (description, better direction). Names accepted as ``targets``.
KPI_DEFINITIONS: dict[str, tuple[str, str]] = {
    "contacts": ("contacts (reach)", "higher"),
    "delivery_rate": ("delivered / contacts", "higher"),
    "open_rate": ("opened / delivered", "higher"),
    "ctr": ("click-through rate: clicked / delivered", "higher"),
    "click_to_open_rate": ("clicked / opened", "higher"),
    "visit_rate": ("visited / contacts", "higher"),
    "conversion_rate": ("converted / contacts", "higher"),
    "conversions": ("contacts that converted", "higher"),
    "orders": ("attributed orders", "higher"),
    "revenue": ("attributed revenue", "higher"),
    "cost": ("campaign cost", "lower"),
    "roi": ("(margin x revenue - cost) / cost", "higher"),
    "cpa": ("cost per acquisition: cost / conversions", "lower"),
    "revenue_per_contact": ("revenue / contacts", "higher"),
    "engagement_score": ("mean weighted sum of engagement flags per contact", "higher"),
}
#: KPIs of the headline summary after the grouping columns, in order (at most eight columns).
_HEADLINE_KPIS: tuple[str, ...] = ("contacts", "conversion_rate", "revenue", "roi", "cpa")
_MAX_HEADLINE = 8
#: Default of ``min_cost_share``: a cost under 1 % of the revenue it is set against is negligible.
MIN_COST_SHARE = 0.01
#: Values of ``cost_status``: whether ROI and CPA mean something for a group.
COST_STATUSES: tuple[str, ...] = ("tracked", "negligible", "not_tracked")
_RATES = (
    "delivery_rate",
    "open_rate",
    "ctr",
    "click_to_open_rate",
    "visit_rate",
    "conversion_rate",
)



def kpi_definition(kpi: str) -> str:
    """How a KPI is computed, in the run's language (``campaign.kpi.definition.<kpi>``)."""
    return t(f"campaign.kpi.definition.{kpi}")


def cost_status(cost: Any, revenue: Any, *, min_cost_share: float = MIN_COST_SHARE) -> np.ndarray:
    """Whether a cost makes ROI and cost per acquisition meaningful (vectorized).

    Parameters
    ----------
    cost, revenue : array-like
        Cost and the revenue it is set against (attributed, or incremental).
    min_cost_share : float, default 0.01
        A cost under this share of ``|revenue|`` is negligible. 0: every positive cost counts.

    Returns
    -------
    numpy.ndarray of str
        ``not_tracked`` (cost blank or not positive), ``negligible`` (under the share of
        revenue) or ``tracked``.

    Examples
    --------
    >>> cost_status([0.0, 10.96, 71.0, 5.0], [100.0, 20052.0, 1000.0, -50.0]).tolist()
    ['not_tracked', 'negligible', 'tracked', 'tracked']
    """
    c = np.asarray(cost, dtype="float64")
    r = np.abs(np.nan_to_num(np.asarray(revenue, dtype="float64"), nan=0.0))
    with np.errstate(invalid="ignore"):
        tracked = np.isfinite(c) & (c > 0)
        small = tracked & (c < min_cost_share * r)
    return np.where(~tracked, "not_tracked", np.where(small, "negligible", "tracked"))


def _check_targets(targets: Mapping[str, float]) -> dict[str, float]:
    """Targets as floats; an unknown KPI or a non-number stops, naming ``targets``."""
    problems = []
    out: dict[str, float] = {}
    for k, v in (targets or {}).items():
        if k not in KPI_DEFINITIONS:
            problems.append(
                f"targets.{k}: unknown KPI{did_you_mean(k, list(KPI_DEFINITIONS))}; KPIs: {', '.join(KPI_DEFINITIONS)}"
            )
            continue
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            problems.append(f"targets.{k}: target must be a number (got {v!r})")
    if problems:
        raise AnalysisError("; ".join(problems))
    return out


@dataclass(frozen=True, eq=False, repr=False)
class KPIResult(Result):
    """Campaign KPIs per group, with intervals and targets (see :func:`kpi_table`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group: the ``by`` columns, ``contacts``, counts (``delivered``, ``opened``,
        ``clicked``, ``visited``, ``conversions``, ``orders``), money (``revenue``, ``cost``),
        each rate in :data:`KPI_DEFINITIONS` with ``<rate>_low``/``<rate>_high`` (95 % Wilson),
        ``cost_share`` (cost / revenue), ``cost_status`` (:data:`COST_STATUSES`), ``roi`` and
        ``cpa`` (NaN unless the cost is ``tracked``), ``revenue_per_contact``,
        ``engagement_score``.
    by : tuple of str
        Grouping columns used.
    targets : dict
        KPI -> target.
    margin : float
        Margin used for ROI.
    engagement_weights : dict
        Flag -> weight actually used (flags absent from the data dropped).
    control_arm : str or None
        Rows of this arm are left out of the target comparison (None: no hold-out).
    notes : tuple of str
    min_cost_share : float
        Cost below this share of the group's revenue is negligible (ROI and CPA not shown).
    """

    table: pd.DataFrame
    by: tuple[str, ...]
    targets: dict[str, float]
    margin: float
    engagement_weights: dict[str, float]
    control_arm: str | None = "control"
    notes: tuple[str, ...] = ()
    min_cost_share: float = MIN_COST_SHARE

    def summary(self) -> pd.DataFrame:
        """Headline KPIs, one row per group: the ``by`` columns and, up to eight columns in all,
        ``contacts``, ``conversion_rate``, ``revenue``, ``roi``, ``cpa`` (the full table is
        :meth:`to_frame`). ROI and CPA are blank where the cost is not tracked or negligible."""
        kpis = [c for c in _HEADLINE_KPIS if c in self.table.columns]
        cols = (list(self.by) + kpis)[: max(_MAX_HEADLINE, len(self.by) + 1)]
        return self.table[cols].copy()

    def to_frame(self) -> pd.DataFrame:
        """The full KPI table, one row per group (see ``table``)."""
        return self.table.copy()

    def long_table(self) -> pd.DataFrame:
        """Long table: the ``by`` columns, ``kpi``, ``value``, ``low``, ``high`` (rates only),
        ``definition`` (in the run's language)."""
        rows = []
        for kpi in KPI_DEFINITIONS:
            if kpi not in self.table.columns:
                continue
            part = self.table[list(self.by)].copy()
            part["kpi"] = kpi
            part["value"] = self.table[kpi].astype("float64")
            part["low"] = self.table[f"{kpi}_low"] if f"{kpi}_low" in self.table else np.nan
            part["high"] = self.table[f"{kpi}_high"] if f"{kpi}_high" in self.table else np.nan
            part["definition"] = kpi_definition(kpi)
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    def targets_table(self) -> pd.DataFrame:
        """Actual vs target for each target KPI and each group but the control arm.

        Columns: the ``by`` columns, ``kpi``, ``actual``, ``low``, ``high`` (rates: 95 % Wilson),
        ``target``, ``gap`` (actual - target), ``gap_pct`` (gap / target), ``better``
        (higher / lower), ``status`` (met / missed / n/a) and ``mark`` (✓ / ✗ / –);
        ``ci_includes_target`` says when the interval cannot tell met from missed. ROI and CPA
        of a group whose cost is not tracked or negligible are n/a (no gap).
        """
        cols = list(self.by) + [
            "kpi",
            "actual",
            "low",
            "high",
            "target",
            "gap",
            "gap_pct",
            "better",
        ]
        if not self.targets:
            return pd.DataFrame(columns=[*cols, "status", "mark", "ci_includes_target"])
        t = self.table
        if "arm" in self.by and self.control_arm is not None:
            t = t.loc[t["arm"].astype(str) != str(self.control_arm)]
        rows = []
        for kpi, target in self.targets.items():
            part = t[list(self.by)].copy()
            part["kpi"] = kpi
            part["actual"] = t[kpi].astype("float64") if kpi in t else np.nan
            part["low"] = t[f"{kpi}_low"] if f"{kpi}_low" in t else np.nan
            part["high"] = t[f"{kpi}_high"] if f"{kpi}_high" in t else np.nan
            part["target"] = target
            part["better"] = KPI_DEFINITIONS[kpi][1]
            rows.append(part)
        out = pd.concat(rows, ignore_index=True)
        out["gap"] = out["actual"] - out["target"]
        out["gap_pct"] = np.where(out["target"] != 0, out["gap"] / out["target"].abs(), np.nan)
        higher = out["better"] == "higher"
        met = np.where(higher, out["actual"] >= out["target"], out["actual"] <= out["target"])
        known = out["actual"].notna()
        out["status"] = np.where(~known, "n/a", np.where(met, "met", "missed"))
        out["mark"] = out["status"].map({"met": "✓", "missed": "✗", "n/a": "–"})
        out["ci_includes_target"] = (out["low"] <= out["target"]) & (out["target"] <= out["high"])
        return out[[*cols, "status", "mark", "ci_includes_target"]]

    def styled_targets(self) -> Any:
        """The target comparison for the page (a pandas Styler): the ``by`` columns, KPI,
        actual, target, gap to target and status (met green, missed red), labels in the run's
        language, rates as percent and "–" where a figure is not meaningful."""
        tt = self.targets_table()
        rate_rows = tt["kpi"].isin(_RATES).to_numpy()
        view = tt[[*self.by, "kpi", "actual", "target", "gap_pct", "status"]].copy()
        view["kpi"] = [category("campaign_kpi", k) for k in tt["kpi"]]
        view["status"] = [f"{m} {category('kpi_status', s)}" for m, s in zip(tt["mark"], tt["status"], strict=True)]
        na = t("common.na")
        for c in ("actual", "target"):
            view[c] = [na if num(v) is None else (pct(v) if r else f"{v:,.2f}")
                       for v, r in zip(tt[c], rate_rows, strict=True)]  # fmt: skip
        view["gap_pct"] = [na if num(v) is None else pct(v) for v in tt["gap_pct"]]
        colours = {"met": "background-color: #d8f0d8", "missed": "background-color: #f8d7d7"}
        fill = pd.DataFrame("", index=view.index, columns=view.columns)
        fill["status"] = [colours.get(s, "") for s in tt["status"]]
        view.columns = [label(c) for c in view.columns]
        fill.columns = view.columns
        return view.style.apply(lambda _: fill, axis=None).hide(axis="index")

    def _labels(self) -> pd.Series:
        return self.table[list(self.by)].astype(str).agg(" · ".join, axis=1)

    def plot(self, ax: Any = None, *, kpi: str = "conversion_rate") -> Any:
        """Bar chart of one KPI per group (rates with 95 % Wilson intervals; target as a line)."""
        import seaborn as sns

        if kpi not in self.table.columns:
            raise AnalysisError(
                f"KPI {kpi!r} not in the table{did_you_mean(kpi, list(KPI_DEFINITIONS))}"
            )
        ax = new_axes(ax, figsize=(8, 0.45 * len(self.table) + 1.5))
        d = pd.DataFrame({"group": self._labels(), "value": self.table[kpi].astype("float64")})
        sns.barplot(data=d, y="group", x="value", ax=ax, color=sns.color_palette()[0], orient="h")
        if f"{kpi}_low" in self.table:
            lo, hi = (
                self.table[f"{kpi}_low"].to_numpy(float),
                self.table[f"{kpi}_high"].to_numpy(float),
            )
            v = d["value"].to_numpy(float)
            ax.errorbar(
                v, np.arange(len(d)), xerr=error_bar_lengths(v, lo, hi), fmt="none", ecolor="black", capsize=3
            )
            from matplotlib.ticker import PercentFormatter

            # decimals follow the axis range, so rates under 2 % do not all read "1 %"
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
        if kpi in self.targets:
            ax.axvline(self.targets[kpi], color="crimson", ls="--",
                       label=t("campaign.kpi.target_line", target=f"{self.targets[kpi]:g}"))  # fmt: skip
            ax.legend(loc="lower right")
        name = category("campaign_kpi", kpi)
        by = " · ".join(label(b) for b in self.by)
        ax.set_xlabel(t("campaign.kpi.axis", kpi=name, definition=kpi_definition(kpi)))
        ax.set_ylabel(by)
        ax.set_title(t("campaign.kpi.title", kpi=name, by=by))
        return ax

    def plot_targets(self) -> Any:
        """One panel per target KPI: actual per group (bars, green met / red missed) and the target line."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        tt = self.targets_table()
        kpis = list(self.targets)
        if not kpis:
            raise AnalysisError("no targets set; pass targets={kpi: target, ...} to kpi_table")
        n_groups = tt[list(self.by)].drop_duplicates().shape[0]
        fig, axes = plt.subplots(1, len(kpis), figsize=(4 * len(kpis), 0.4 * n_groups + 2),
                                 squeeze=False)  # fmt: skip
        for ax, kpi in zip(axes[0], kpis, strict=True):
            d = tt.loc[tt["kpi"] == kpi].copy()
            d["group"] = d[list(self.by)].astype(str).agg(" · ".join, axis=1)
            palette = {"met": "#4c9a4c", "missed": "#c44e52", "n/a": "#bbbbbb"}
            sns.barplot(
                data=d,
                y="group",
                x="actual",
                hue="status",
                palette=palette,
                dodge=False,
                ax=ax,
                orient="h",
            )
            ax.axvline(self.targets[kpi], color="black", ls="--")
            ax.set_title(t("campaign.kpi.target_title", kpi=category("campaign_kpi", kpi),
                           target=f"{self.targets[kpi]:g}"))  # fmt: skip
            ax.set_xlabel(kpi_definition(kpi))
            ax.set_ylabel("")
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        fig.tight_layout()
        return fig

    def figures(self) -> dict[str, Any]:
        """The report's charts by file name: ``kpi_targets`` (when targets are set), ``kpi_conversion``."""
        out: dict[str, Any] = {}
        if self.targets:
            out["kpi_targets"] = self.plot_targets()
        out["kpi_conversion"] = self.plot()
        return out

    def cost_text(self) -> str:
        """Whether cost is tracked, in words: empty when every treated group's cost is
        (ROI and CPA shown), else which groups have no meaningful cost."""
        tb = self.table
        if "arm" in self.by and self.control_arm is not None:
            tb = tb.loc[tb["arm"].astype(str) != str(self.control_arm)]
        if tb.empty or (tb["cost_status"] == "tracked").all():
            return ""
        if (tb["cost_status"] == "not_tracked").all():
            return t("campaign.kpi.cost_not_tracked")
        off = int((tb["cost_status"] != "tracked").sum())
        return t("campaign.kpi.cost_negligible", n=count(off), total=count(len(tb)),
                 share=pct(self.min_cost_share, 0 if self.min_cost_share >= 0.01 else 1))  # fmt: skip

    def finding(self) -> str:
        tb = self.table
        parts = []
        if "conversion_rate" in tb and tb["conversion_rate"].notna().any():
            lab = self._labels()
            i_hi, i_lo = (
                int(tb["conversion_rate"].to_numpy(float).argmax()),
                int(np.nanargmin(tb["conversion_rate"])),
            )
            parts.append(t("campaign.kpi.conversion_range", low=pct(tb["conversion_rate"].iloc[i_lo]),
                           low_group=lab.iloc[i_lo], high=pct(tb["conversion_rate"].iloc[i_hi]),
                           high_group=lab.iloc[i_hi]))  # fmt: skip
        if "roi" in tb and tb["roi"].notna().any():
            lab = self._labels()
            neg = tb["roi"] < 0
            example = (t("campaign.kpi.roi_example", group=lab[neg].iloc[0], roi=f"{tb.loc[neg, 'roi'].iloc[0]:.2f}")
                       if neg.any() else "")  # fmt: skip
            parts.append(t("campaign.kpi.roi_negative", margin=f"{self.margin:g}", n=count(neg.sum()),
                           total=count(tb["roi"].notna().sum()), example=example))  # fmt: skip
        parts.append(self.cost_text())
        tt = self.targets_table()
        if len(tt):
            known = tt[tt["status"] != "n/a"]
            missed = known[known["status"] == "missed"]
            parts.append(t("campaign.kpi.targets_met", met=count((known["status"] == "met").sum()),
                           known=count(len(known))))  # fmt: skip
            if len(missed):
                sign = np.where(missed["better"] == "higher", 1, -1)
                worst = missed.iloc[int(np.argmin(sign * missed["gap_pct"].fillna(0)))]
                g = " · ".join(str(worst[b]) for b in self.by)
                f = pct if worst["kpi"] in _RATES else (lambda v: f"{v:,.2f}")
                parts.append(t("campaign.kpi.furthest", kpi=category("campaign_kpi", worst["kpi"]), group=g,
                               actual=f(worst["actual"]), target=f(worst["target"])))  # fmt: skip
        return " ".join(p for p in parts if p)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "by": list(self.by),
            "margin": self.margin,
            "min_cost_share": self.min_cost_share,
            "targets": dict(self.targets),
            "groups": [],
        }
        for _, r in self.table.iterrows():
            out["groups"].append(
                {
                    **{b: str(r[b]) for b in self.by},
                    **{k: num(r[k]) for k in KPI_DEFINITIONS if k in r.index},
                    "cost_status": str(r["cost_status"]),
                }
            )
        tt = self.targets_table()
        out["targets_met"] = int((tt["status"] == "met").sum()) if len(tt) else 0
        out["targets_known"] = int((tt["status"] != "n/a").sum()) if len(tt) else 0
        return out

    def __repr__(self) -> str:
        return f"KPIResult({len(self.table)} groups by {', '.join(self.by)}, {len(self.targets)} targets)"


def _contact_counts(c: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """Per contact: 0/1 counts of each flag and its denominator, outcomes, cost and engagement."""

    def fl(col: str) -> pd.Series:
        return (
            flag(c[col]) if col in c.columns else pd.Series(pd.NA, index=c.index, dtype="boolean")
        )

    dlv, opn, clk, vis = fl("delivered"), fl("opened"), fl("clicked"), fl("visited")
    has_dlv = "delivered" in c.columns

    def cnt(x: pd.Series) -> np.ndarray:
        return x.fillna(False).astype(bool).to_numpy(dtype=np.int64)

    base_open = (dlv.fillna(False).astype(bool) & opn.notna()) if has_dlv else opn.notna()
    base_click = (dlv.fillna(False).astype(bool) & clk.notna()) if has_dlv else clk.notna()
    eng = np.zeros(len(c))
    for k, w in weights.items():
        eng += w * cnt(flag(c[k]))
    x = pd.DataFrame(
        {
            "contacts": 1,
            "delivered_known": dlv.notna().to_numpy(dtype=np.int64),
            "delivered": cnt(dlv),
            "open_base": base_open.to_numpy(dtype=np.int64),
            "opened": cnt(opn & base_open),
            "click_base": base_click.to_numpy(dtype=np.int64),
            "clicked": cnt(clk & base_click),
            "cto_base": cnt(opn & clk.notna()),
            "cto_clicked": cnt(opn & clk),
            "visit_base": vis.notna().to_numpy(dtype=np.int64),
            "visited": cnt(vis),
            "conversions": c["converted"].astype(bool).to_numpy(dtype=np.int64),
            "orders": c["orders"].astype("float64"),
            "revenue": c["revenue"].astype("float64"),
            "cost": pd.to_numeric(c["cost"], errors="coerce") if "cost" in c.columns else np.nan,
            "engagement": eng,
        }
    )
    return x


def _add_rates(t: pd.DataFrame, *, margin: float, confidence: float, min_cost_share: float) -> pd.DataFrame:
    """Rates with Wilson intervals, the cost status, ROI, CPA and revenue per contact from the
    summed counts (ROI and CPA only where the cost status is ``tracked``)."""
    rate_defs = {
        "delivery_rate": ("delivered", "delivered_known"),
        "open_rate": ("opened", "open_base"),
        "ctr": ("clicked", "click_base"),
        "click_to_open_rate": ("cto_clicked", "cto_base"),
        "visit_rate": ("visited", "visit_base"),
        "conversion_rate": ("conversions", "contacts"),
    }
    for rate, (k, n) in rate_defs.items():
        kk, nn = t[k].to_numpy(float), t[n].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t[rate] = np.where(nn > 0, kk / np.where(nn > 0, nn, 1), np.nan)
        lo, hi = wilson_interval(kk, nn, confidence=confidence)
        t[f"{rate}_low"], t[f"{rate}_high"] = lo, hi
    cost = t["cost"].to_numpy(float)
    rev = t["revenue"].to_numpy(float)
    t["cost_share"] = np.where(rev > 0, cost / np.where(rev > 0, rev, 1.0), np.nan)
    t["cost_status"] = cost_status(cost, t["revenue"], min_cost_share=min_cost_share)
    ok = (t["cost_status"] == "tracked").to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t["roi"] = np.where(
            ok,
            (margin * t["revenue"].to_numpy(float) - cost) / np.where(cost > 0, cost, 1),
            np.nan,
        )
        conv = t["conversions"].to_numpy(float)
        t["cpa"] = np.where((conv > 0) & ok, cost / np.where(conv > 0, conv, 1), np.nan)
        t["revenue_per_contact"] = t["revenue"].to_numpy(float) / t["contacts"].to_numpy(float)
    t = t.drop(columns=["cto_base", "cto_clicked"]).rename(
        columns={
            "open_base": "open_denominator",
            "click_base": "click_denominator",
            "visit_base": "visit_denominator",
        }
    )
    return t


def kpi_table(
    data: CampaignData,
    *,
    by: Sequence[str] = ("campaign_id", "channel", "arm"),
    targets: Mapping[str, float] | None = None,
    engagement_weights: Mapping[str, float] | None = None,
    margin: float = 0.3,
    confidence: float = 0.95,
    min_cost_share: float = MIN_COST_SHARE,
) -> KPIResult:
    """Campaign KPIs per group with Wilson intervals, and actual vs target.

    Parameters
    ----------
    data : CampaignData
        From :func:`prepare_contacts`.
    by : sequence of str, default ("campaign_id", "channel", "arm")
        Grouping columns of the contacts; missing ones (e.g. ``channel``) are skipped with a note.
    targets : mapping, optional
        KPI name -> target; names from :data:`KPI_DEFINITIONS`.
    engagement_weights : mapping, optional
        Flag column -> weight; default opened 1,
        clicked 2, visited 3, converted 5. Flags absent from the data are skipped.
    margin : float, default 0.3
        Gross margin on revenue for ROI, in (0, 1] (validated by the params model).
    confidence : float, default 0.95
        Level of the Wilson intervals.
    min_cost_share : float, default 0.01
        A group's cost under this share of its attributed revenue is negligible: its ROI, CPA
        and their gap to target are left blank, as where cost is not tracked (see
        :func:`cost_status`; params ``analyses.campaign.min_cost_share``).

    Returns
    -------
    KPIResult

    Raises
    ------
    AnalysisError
        Unknown KPI in ``targets``, a key of ``engagement_weights`` that is neither a flag nor a
        column of the contacts (did-you-mean), or none of the ``by`` columns exists.
    """
    tg = _check_targets(targets or {})
    c = data.contacts
    notes: list[str] = []
    by_ok = tuple(b for b in by if b in c.columns)
    skipped = [b for b in by if b not in c.columns]
    if skipped:
        notes.append(f"grouping column(s) {', '.join(skipped)} not in {TABLE}: skipped")
    if not by_ok:
        raise AnalysisError(
            f"kpi_table: none of the grouping columns {', '.join(by)} is in {TABLE} "
            f"(columns: {', '.join(map(str, c.columns))})"
        )
    weights = dict(
        engagement_weights
        if engagement_weights is not None
        else {"opened": 1.0, "clicked": 2.0, "visited": 3.0, "converted": 5.0}
    )
    bad = [k for k in weights if k not in FLAGS and k not in c.columns]
    if bad:
        raise AnalysisError(
            "; ".join(
                f"engagement_weights.{k}: not a flag column of the contacts{did_you_mean(k, list(FLAGS))}; "
                f"flags: {', '.join(FLAGS)}"
                for k in bad
            )
        )
    absent = [k for k in weights if k not in c.columns]
    if absent:
        notes.append(
            f"engagement flags {', '.join(absent)} not tracked: left out of the engagement score"
        )
    weights = {k: float(v) for k, v in weights.items() if k in c.columns}

    x = _contact_counts(c, weights)
    for b in by_ok:
        x[b] = c[b].astype(str).to_numpy()
    g = x.groupby(list(by_ok), sort=True, observed=True)
    counts = g[
        ["contacts", "delivered_known", "delivered", "open_base", "opened", "click_base", "clicked", "cto_base",
         "cto_clicked", "visit_base", "visited", "conversions"]
    ].sum()  # fmt: skip
    money = g[["orders", "revenue", "cost"]].sum(min_count=1)
    t = pd.concat(
        [counts, money, g["engagement"].mean().rename("engagement_score")], axis=1
    ).reset_index()
    t = _add_rates(t, margin=margin, confidence=confidence, min_cost_share=min_cost_share)
    if "cost" not in c.columns:
        notes.append("no cost column: cost, ROI and CPA are n/a")
    return KPIResult(
        table=t,
        by=by_ok,
        targets=tg,
        margin=float(margin),
        engagement_weights=weights,
        control_arm=data.control_arm,
        notes=tuple(notes),
        min_cost_share=float(min_cost_share),
    )
