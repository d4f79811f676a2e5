"""Churn rates by group (with Wilson intervals) and cohort retention (cohorts by first-purchase
month with orders, counted in the engine on DuckDB or Spark; by acquisition month from contract
durations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.churn._common import (
    Text,
    level_text,
    levels,
    neutral,
    purchase_mask,
    rate_rows,
    skip_warning,
)
from workbench.churn.frame import ChurnFrame
from workbench.core.dates import end_of
from workbench.core.errors import AnalysisError
from workbench.data.engine import as_table, close, connect
from workbench.data.features import purchases_expr
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["ChurnRates", "CohortRetention", "churn_rates", "cohort_retention"]


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
        """The rates table, the levels the workbench made (``all``, bins, ``(missing)``) in words."""
        out = self.table.copy()
        out["column"] = out["column"].map(lambda c: category("churn_level", c))
        out["level"] = out["level"].map(level_text)
        return out

    def to_frame(self) -> pd.DataFrame:
        """The rates table with the level codes."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Rates with intervals by column and level (JSON-able)."""
        out: dict[str, Any] = {}
        for r in self.table.itertuples():
            out.setdefault(str(r.column), {})[str(r.level)] = {
                "customers": int(r.customers), "rate": num(r.rate), "lower": num(r.lower), "upper": num(r.upper),
            }  # fmt: skip
        return {"rates": out, "skipped": neutral(list(self.skipped))}

    def finding(self) -> str:
        """Overall rate and, per column, the worst level when it stands out, from the numbers."""
        tab = self.table
        allr = tab[tab["column"] == "all"].iloc[0]
        parts = [t("churn.rates.overall", rate=pct(allr["rate"]), level=pct(self.confidence, 0),
                   low=pct(allr["lower"]), high=pct(allr["upper"]))]
        for col, w, b in self._extremes():
            if w["lower"] > b["upper"]:
                parts.append(t("churn.rates.worst", column=col, worst=level_text(w["level"]), rate=pct(w["rate"]),
                               low=pct(w["lower"]), high=pct(w["upper"]), best=level_text(b["level"]),
                               best_rate=pct(b["rate"])))
            else:
                parts.append(t("churn.rates.no_difference", column=col))
        parts += map(str, self.skipped)
        return t("churn.join").join(parts)

    def _extremes(self) -> list[tuple[Any, pd.Series, pd.Series]]:
        """Per grouping column with two or more levels of at least 30 customers: the column, its
        level with the highest rate and its level with the lowest."""
        tab = self.table
        out = []
        for col, g in tab[tab["column"] != "all"].groupby("column", sort=False):
            g = g[g["customers"] >= 30]
            if len(g) >= 2:
                out.append((col, g.loc[g["rate"].idxmax()], g.loc[g["rate"].idxmin()]))
        return out

    def worst_group(self) -> dict[str, Any] | None:
        """The level that loses most among those that clearly differ (its interval above the
        best level's of the same column, at least 30 customers each): ``column``, ``level``,
        ``rate``, ``lower``, ``upper``, ``customers``, ``best_level``, ``best_rate``; None when
        no level stands out."""
        found = []
        for col, w, b in self._extremes():
            if w["lower"] > b["upper"]:
                found.append({"column": str(col), "level": str(w["level"]), "rate": float(w["rate"]),
                              "lower": float(w["lower"]), "upper": float(w["upper"]),
                              "customers": int(w["customers"]), "best_level": str(b["level"]),
                              "best_rate": float(b["rate"])})  # fmt: skip
        return max(found, key=lambda r: r["rate"] - r["best_rate"]) if found else None

    def plot(self, ax: Any = None) -> Any:
        """Churn rate with interval per level, one panel per column.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        tab = self.table[self.table["column"] != "all"]
        cols = list(dict.fromkeys(tab["column"]))
        overall = float(self.table.loc[self.table["column"] == "all", "rate"].iloc[0])
        if ax is not None and len(cols) <= 1:
            axes = [ax]
            fig = ax.figure
        else:
            n = max(len(cols), 1)
            heights = [max(1.5, 0.3 * (tab["column"] == c).sum() + 0.8) for c in cols] or [2]
            fig, axes = plt.subplots(
                n,
                1,
                figsize=(7, sum(heights)),
                gridspec_kw={"height_ratios": heights},
                squeeze=False,
            )
            axes = list(axes[:, 0])
        for a, col in zip(axes, cols, strict=False):
            g = tab[tab["column"] == col]
            sns.barplot(
                x=g["rate"].to_numpy(),
                y=g["level"].map(level_text).to_numpy(),
                ax=a,
                color="tab:blue",
                alpha=0.7,
            )
            a.errorbar(g["rate"], np.arange(len(g)), xerr=[g["rate"] - g["lower"], g["upper"] - g["rate"]], fmt="none",
                       ecolor="black", capsize=2)  # fmt: skip
            a.axvline(overall, color="tab:red", ls="--", lw=1)
            a.set_ylabel(col)
            a.set_xlabel(t("churn.rates.plot.xlabel"))
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        cols = [c for c in dict.fromkeys(self.table["column"]) if c != "all"]
        return f"ChurnRates(columns={cols}, rows={len(self.table)})"


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
        Columns; absent ones are skipped and said so. Numbers with
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
    rows = [rate_rows(pd.Series(["all"] * len(t)), y, column="all", confidence=confidence)]
    skipped = []
    for col in by:
        if col not in t.columns:
            skipped.append(Text("churn.rates.absent", column=col))
            continue
        lab, _ = levels(t[col], bins=numeric_bins, max_levels=max_levels)
        if lab is None:
            skipped.append(skip_warning(col, t[col].nunique(), max_levels))
            continue
        rows.append(rate_rows(lab, y, column=col, confidence=confidence))
    return ChurnRates(
        table=pd.concat(rows, ignore_index=True), confidence=confidence, skipped=skipped
    )


@dataclass(frozen=True, eq=False, repr=False)
class CohortRetention(Result):
    """Cohort retention (see :func:`cohort_retention`).

    Attributes
    ----------
    available : bool
        False for snapshot data without dates; ``table`` then holds Kaplan-Meier retention by
        tenure month instead.
    basis : str
        ``purchases`` (cohorts by first-purchase month; share of the cohort buying in calendar
        month k after it, month 0 = 100 % by definition), ``survival`` (cohorts by acquisition
        month; share still a customer in month k) or ``tenure`` (no cohorts, KM retention by tenure).
    sizes : pandas.Series
        Customers per cohort.
    active : pandas.DataFrame
        Cohort x months since the cohort's start: customers counted as retained (NaN where not
        yet fully observed by ``as_of``).
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

    @property
    def definition(self) -> Text:
        """What a cohort and its month k are, in words (in the run's language)."""
        return Text(f"churn.cohorts.definition.{self.basis}")

    def summary(self) -> pd.DataFrame:
        """Retention at months 1, 3, 6 and 12 per cohort (or by tenure when no cohorts)."""
        if self.basis == "tenure":
            return self.table.assign(cohort=self.table["cohort"].map(lambda c: category("churn_level", c)))
        cols = [k for k in (1, 3, 6, 12) if k in self.rates.columns]
        out = self.rates[cols].rename(columns=lambda k: f"month_{k}")
        out.insert(0, "customers", self.sizes)
        return out.rename_axis("cohort").reset_index()

    def to_frame(self) -> pd.DataFrame:
        """The long table."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Mean retention at months 1, 3, 6, 12 weighted by cohort size (JSON-able)."""
        out: dict[str, Any] = {
            "available": self.available,
            "basis": self.basis,
            "cohorts": len(self.sizes),
            "definition": self.definition.neutral(),
        }
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
        parts = [t("churn.cohorts.definition_line", definition=self.definition)]
        if not self.available:
            parts.append(t("churn.cohorts.no_dates"))
        m1, m3, m12 = self._mean_at(1), self._mean_at(3), self._mean_at(12)
        what = "purchases" if self.basis == "purchases" else "survival"
        parts.append(t(f"churn.cohorts.average.{what}", m1=pct(m1), m3=pct(m3), m12=pct(m12)))
        if self.basis != "tenure" and 3 in self.active.columns:
            r3 = self.rates[3].dropna()
            big = self.sizes.loc[r3.index] >= 30
            r3 = r3[big]
            if len(r3) >= 6:
                early, late = r3.iloc[: len(r3) // 2].mean(), r3.iloc[len(r3) // 2 :].mean()
                if abs(late - early) >= 0.03:
                    trend = "better" if late > early else "worse"
                    parts.append(t(f"churn.cohorts.trend.{trend}", late=pct(late), early=pct(early)))
        parts += map(str, self.notes)
        return t("churn.join").join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of retention (cohort x months since), annotated with retained counts when small enough.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        if self.basis == "tenure":
            ax = new_axes(ax, figsize=(7, 4))
            sns.lineplot(data=self.table, x="months_since", y="rate", drawstyle="steps-post", ax=ax)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(t("churn.cohorts.plot.tenure_x"))
            ax.set_ylabel(t("churn.cohorts.plot.tenure_y"))
            ax.set_title(t("churn.cohorts.plot.tenure_title"))
            return ax
        r = self.rates
        ax = new_axes(
            ax, figsize=(min(2 + 0.45 * r.shape[1], 18), min(1.5 + 0.35 * r.shape[0], 14))
        )
        annot = (
            self.active.map(lambda v: "" if pd.isna(v) else f"{int(v)}") if r.size <= 400 else False
        )
        ylabels = [f"{c} (n={int(n):,})" for c, n in self.sizes.items()]
        sns.heatmap(r, ax=ax, cmap="viridis", vmin=0, vmax=float(np.nanmax(r.to_numpy())) if r.size else 1,
                    annot=annot, fmt="", annot_kws={"fontsize": 6}, yticklabels=ylabels,
                    cbar_kws={"label": t("churn.cohorts.plot.colorbar")})  # fmt: skip
        ax.set_xlabel(t(f"churn.cohorts.plot.{self.basis}.x"))
        ax.set_ylabel(t(f"churn.cohorts.plot.{self.basis}.y"))
        ax.set_title(t(f"churn.cohorts.plot.{self.basis}.title"))
        return ax

    def __repr__(self) -> str:
        return f"CohortRetention(basis={self.basis!r}, cohorts={len(self.sizes)}, available={self.available})"


def _month_index(ts: pd.Series) -> np.ndarray:
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype="int64")


def cohort_retention(
    frame: ChurnFrame,
    orders: pd.DataFrame | ir.Table | None = None,
    *,
    max_months: int | None = None,
    con: ibis.BaseBackend | None = None,
) -> CohortRetention:
    """Cohort retention: by first-purchase month with orders, by acquisition month without.

    With ``orders``: each customer of the churn frame with a purchase on or before ``as_of`` is
    in the cohort of the calendar month of their first purchase; month k is the share of the
    cohort with a purchase in the k-th calendar month after it. Month 0 is 100 % for every
    cohort, so every row starts from the same point (a cohort by sign-up month that only held
    buyers would show young cohorts near 100 % and old ones low: a selection effect, not loyalty).
    Frame customers without a purchase by ``as_of`` are left out and counted in the notes.
    Without orders but with dates and durations: cohorts by acquisition month (``start_date``),
    every frame customer in the denominator, and the share still a customer k months on. Without
    dates (e.g. Telco): no cohorts; Kaplan-Meier retention by tenure month is returned with
    ``available=False``. A month k counts as observed only when the calendar month ended by
    ``as_of`` (month 0 always).

    Parameters
    ----------
    frame : ChurnFrame
    orders : pandas.DataFrame or ibis Table, optional
        Canonical orders; an Ibis table stays in the engine (only cohort x month counts come back).
    max_months : int, optional
        Last month since the cohort's start shown (default: all observed).
    con : ibis.BaseBackend, optional
        Engine counting the purchases (DuckDB or Spark); default the backend of Ibis ``orders``,
        else a fresh in-memory DuckDB.

    Returns
    -------
    CohortRetention

    Examples
    --------
    >>> from workbench.churn.frame import ChurnFrame
    >>> t = pd.DataFrame({"customer_id": ["a", "b"], "churned": [0, 1], "duration_months": [3.0, 1.0],
    ...                   "event": [0, 1], "start_date": pd.to_datetime(["2024-01-10", "2024-01-20"])})
    >>> f = ChurnFrame(table=t, kind="non_contractual", definition="x", as_of=pd.Timestamp("2024-03-31"),
    ...                window_days=90, n_input=2)
    >>> o = pd.DataFrame({"customer_id": ["a", "b", "a"], "amount": [1.0, 1.0, 1.0],
    ...                   "order_time": pd.to_datetime(["2024-01-10", "2024-01-20", "2024-03-02"])})
    >>> cohort_retention(f, o).rates.loc["2024-01"].tolist()
    [1.0, 0.0, 0.5]
    """
    t = frame.table
    if orders is None and ("start_date" not in t.columns or t["start_date"].isna().all()):
        return _tenure_retention(t, max_months=max_months)
    last_m = _last_observed_month(frame.as_of)
    notes: list[str] = []
    if orders is not None:
        active, sizes_by_m, basis = _purchase_cohorts(
            t, orders, end=end_of(frame.as_of), notes=notes, con=con
        )
    else:
        active, sizes_by_m, basis = _duration_cohorts(t, last_m=last_m)
    # months not yet fully observed (cohort m0 + k after the last complete month) are NaN; month 0 stays
    ks = np.arange(0, max(last_m - int(sizes_by_m.index.min()), 0) + 1)
    active = active.reindex(index=sizes_by_m.index, columns=ks).fillna(0)
    unobserved = ((sizes_by_m.index.to_numpy()[:, None] + ks[None, :]) > last_m) & (ks[None, :] > 0)
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


def _tenure_retention(t: pd.DataFrame, *, max_months: int | None) -> CohortRetention:
    """No dates: Kaplan-Meier retention by tenure month (``available=False``)."""
    from workbench.churn.survival import kaplan_meier

    if t["duration_months"].isna().all():
        raise AnalysisError(
            "churn frame: neither dates nor durations; cohort retention is not available"
        )
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


def _last_observed_month(as_of: pd.Timestamp) -> int:
    """Month index of the last calendar month that ended by the end of ``as_of``."""
    m = int(_month_index(pd.Series([as_of]))[0])
    return m if (as_of + pd.Timedelta(days=1)).day == 1 else m - 1


def _purchase_cohorts(
    t: pd.DataFrame,
    orders: pd.DataFrame | ir.Table,
    *,
    end: pd.Timestamp,
    notes: list[str],
    con: ibis.BaseBackend | None = None,
) -> tuple[pd.DataFrame, pd.Series, str]:
    """Buyers per (first-purchase month, months since) and cohort sizes, from purchases before ``end``.

    The purchases are counted in the engine (``con``; default the backend of Ibis ``orders``, else a
    fresh DuckDB): one row per customer of the frame and calendar month with a purchase, grouped
    by first-purchase month and months since it; only the cohort x month counts come back.
    """
    own = con is None and not isinstance(orders, ir.Table)
    if con is None:
        con = ibis.get_backend(orders) if isinstance(orders, ir.Table) else connect()
    try:
        counts = con.to_pandas(_cohort_counts_expr(con, t, orders, end=end))
    finally:
        if own:
            close(con)
    if counts.empty:
        raise AnalysisError(
            f"cohort retention: none of the {len(t):,} customers of the churn frame has a purchase on or before as_of"
        )
    counts = counts.astype({"m0": "int64", "k": "int64", "n": "int64"}).sort_values(["m0", "k"])
    active = counts.set_index(["m0", "k"])["n"].unstack("k")
    zero = counts[counts["k"] == 0]
    sizes = pd.Series(zero["n"].to_numpy(), index=pd.Index(zero["m0"].to_numpy(), name="m0"))
    n_out = len(t) - int(sizes.sum())  # frame customers (one row each) without a purchase by as_of
    if n_out:
        notes.append(Text("churn.cohorts.note.no_purchase", n=count(n_out), total=count(len(t))))
    return active, sizes, "purchases"


def _cohort_counts_expr(con: ibis.BaseBackend, t: pd.DataFrame, orders: pd.DataFrame | ir.Table, *,
                        end: pd.Timestamp) -> ir.Table:  # fmt: skip
    """Engine table ``m0`` (first-purchase month index), ``k`` (months since), ``n`` (customers):
    purchase lines (:func:`workbench.churn._common.purchase_mask`, or
    :func:`workbench.data.features.purchases_expr` for Ibis orders) before ``end`` of the frame's
    customers."""
    if isinstance(orders, ir.Table):
        buys, _ = purchases_expr(orders, as_of=end - pd.Timedelta(days=1))  # lines before end
        o = buys.select(
            customer_id=buys.customer_id.cast("string"), ts=buys.order_time.cast("timestamp")
        )
    else:
        ot = pd.to_datetime(orders["order_time"], errors="coerce")
        keep = purchase_mask(orders) & (ot < end)
        o = as_table(con, pd.DataFrame({"customer_id": orders.loc[keep, "customer_id"].astype("string").to_numpy(),
                                        "ts": ot[keep].to_numpy()}))  # fmt: skip
    ids = t["customer_id"].dropna().astype("string").drop_duplicates()
    cust = as_table(con, pd.DataFrame({"_cid": ids.to_numpy()}))
    o = o.filter(o.customer_id.isin(cust._cid))
    o = o.select("customer_id", m=o.ts.year() * 12 + o.ts.month() - 1).distinct()
    o = o.mutate(m0=o.m.min().over(group_by=o.customer_id))
    o = o.mutate(k=o.m - o.m0)
    return o.group_by(["m0", "k"]).aggregate(n=o.count())


def _duration_cohorts(t: pd.DataFrame, *, last_m: int) -> tuple[pd.DataFrame, pd.Series, str]:
    """Customers still there per (acquisition month, months since), every frame customer with a
    start date in the denominator."""
    if t["duration_months"].isna().all():
        raise AnalysisError(
            "churn frame: no orders and no durations; cohort retention is not available"
        )
    ok = t["start_date"].notna()
    m0 = _month_index(t.loc[ok, "start_date"])
    d = pd.DataFrame({"m0": m0, "dur": t.loc[ok, "duration_months"].to_numpy()})
    ks = np.arange(0, max(last_m - int(m0.min()), 0) + 1)
    alive = (d["dur"].to_numpy()[:, None] >= ks[None, :]).astype("int64")
    active = pd.DataFrame(alive, columns=ks).groupby(d["m0"].to_numpy()).sum()
    return active, d.groupby("m0").size(), "survival"
