"""Churn rates by group (with Wilson intervals) and retention by acquisition cohort."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import levels, purchase_mask, rate_rows, skip_warning
from workbench.churn.frame import ChurnFrame
from workbench.core.dates import end_of
from workbench.core.errors import AnalysisError
from workbench.report.fmt import num, pct
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
        parts = [
            f"Overall churn {pct(allr['rate'])} ({self.confidence:.0%} CI {pct(allr['lower'])} to "
            f"{pct(allr['upper'])})."
        ]
        for col, g in t[t["column"] != "all"].groupby("column", sort=False):
            g = g[g["customers"] >= 30]
            if len(g) < 2:
                continue
            w, b = g.loc[g["rate"].idxmax()], g.loc[g["rate"].idxmin()]
            if w["lower"] > b["upper"]:
                parts.append(
                    f"By {col}: {w['level']} churns most ({pct(w['rate'])}, CI {pct(w['lower'])} to "
                    f"{pct(w['upper'])}), "
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
            fig, axes = plt.subplots(
                n, 1, figsize=(7, sum(heights)), gridspec_kw={"height_ratios": heights}, squeeze=False
            )
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
            skipped.append(f"{col}: not in the data, skipped.")
            continue
        lab, _ = levels(t[col], bins=numeric_bins, max_levels=max_levels)
        if lab is None:
            skipped.append(skip_warning(col, t[col].nunique(), max_levels))
            continue
        rows.append(rate_rows(lab, y, column=col, confidence=confidence))
    return ChurnRates(table=pd.concat(rows, ignore_index=True), confidence=confidence, skipped=skipped)


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
        what = {"purchases": "buy again", "survival": "are still customers", "tenure": "are still customers"}[
            self.basis
        ]
        parts = []
        if not self.available:
            parts.append(
                "Cohort retention needs sign-up or order dates, which this snapshot does not have; shown instead: "
                "the share still a customer by tenure month (Kaplan-Meier)."
            )
        m1, m3, m12 = self._mean_at(1), self._mean_at(3), self._mean_at(12)
        parts.append(
            f"On average {pct(m1)} of a cohort {what} in month 1, {pct(m3)} in month 3 and {pct(m12)} in month 12."
        )
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
        import seaborn as sns

        if self.basis == "tenure":
            ax = new_axes(ax, figsize=(7, 4))
            sns.lineplot(data=self.table, x="months_since", y="rate", drawstyle="steps-post", ax=ax)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("tenure (months)")
            ax.set_ylabel("share still a customer")
            ax.set_title("Retention by tenure (no cohort dates)")
            return ax
        r = self.rates
        ax = new_axes(ax, figsize=(min(2 + 0.45 * r.shape[1], 18), min(1.5 + 0.35 * r.shape[0], 14)))
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
    end = end_of(frame.as_of)
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
        buy = purchase_mask(orders)
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
