"""Univariate churn drivers: churn rate per level of each feature, a chi-square test per
feature, Holm across features, Cramér's V; and the default Cox covariates chosen from them."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import (
    MISSING,
    Text,
    level_text,
    levels,
    neutral,
    rate_rows,
    skip_warning,
)
from workbench.churn.frame import ChurnFrame
from workbench.core.errors import AnalysisError, StatisticalWarning, did_you_mean
from workbench.report.fmt import num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import holm

__all__ = [
    "ChurnDrivers",
    "churn_drivers",
    "default_cox_covariates",
    "is_controllable",
    "NOT_CONTROLLABLE",
    "BEHAVIOUR_COLUMNS",
]

#: Columns the business cannot act on: demographics and time already spent. Used as the default
#: when ``controllable`` is not given (everything else counts as controllable).
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
        """The per-feature table (worst levels and kinds as a reader reads them)."""
        out = self.table.copy()
        out["worst_level"] = out["worst_level"].map(level_text)
        out["kind"] = out["kind"].map(lambda k: category("churn_feature_kind", k))
        return out

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
                r.feature: {
                    "p_holm": num(r.p_holm),
                    "cramers_v": num(r.cramers_v),
                    "worst_level": str(r.worst_level),
                    "worst_rate": num(r.worst_rate),
                    "controllable": bool(r.controllable),
                }
                for r in self.table.itertuples()
            },  # fmt: skip
            "skipped": neutral(list(self.skipped)),
        }

    def finding(self) -> str:
        """The strongest drivers and their worst levels, from the numbers."""
        sig = self.top(3)
        n_sig = int((self.table["p_holm"] < 1 - self.confidence).sum())
        parts = [t("churn.drivers.count", n_sig=n_sig, n=len(self.table), alpha=f"{1 - self.confidence:g}")]
        for r in sig.itertuples():
            parts.append(t("churn.drivers.driver", feature=r.feature, v=f"{r.cramers_v:.2f}",
                           worst=level_text(r.worst_level), rate=pct(r.worst_rate), low=pct(r.worst_lower),
                           high=pct(r.worst_upper), overall=pct(self.overall_rate), direction=r.direction))
        ctl = self.top(1, controllable=True)
        if len(ctl):
            parts.append(t("churn.drivers.controllable", feature=ctl.iloc[0]["feature"]))
        parts.append(t("churn.drivers.associations"))
        parts += map(str, self.skipped)
        return t("churn.join").join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Cramér's V per feature (bars, significant ones coloured).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        top = self.table.head(20)
        ax = new_axes(ax, figsize=(7, 0.3 * len(top) + 1.2))
        sig = np.where(top["p_holm"] < 1 - self.confidence, t("churn.plot.significant"), t("churn.plot.not_significant"))
        sns.barplot(x=top["cramers_v"].to_numpy(), y=top["feature"].to_numpy(), hue=sig, dodge=False, ax=ax)
        ax.set_xlabel(t("churn.drivers.plot.xlabel"))
        ax.set_ylabel("")
        ax.set_title(t("churn.drivers.plot.title"))
        return ax

    def __repr__(self) -> str:
        n_sig = int((self.table["p_holm"] < 1 - self.confidence).sum())
        return f"ChurnDrivers(features={len(self.table)}, significant={n_sig})"


def is_controllable(col: str, controllable: list[str] | None) -> bool:
    """Whether the business can act on ``col``: listed in ``controllable``, or (by default) not in
    :data:`NOT_CONTROLLABLE`."""
    if controllable is not None:
        return col in controllable
    return col not in NOT_CONTROLLABLE


def _driver_row(col: str, kind: str, lv: pd.DataFrame, *, n_rows: int, overall: float) -> dict[str, Any]:
    """Chi-square test, Cramér's V, worst level and direction of one feature (``lv``: its rate rows)."""
    from scipy.stats import chi2_contingency

    if ((lv["rate"] == 0) | (lv["rate"] == 1)).all():
        shown = ", ".join(f"{a}: {pct(b)}" for a, b in zip(lv["level"][:4], lv["rate"][:4], strict=False))
        raise AnalysisError(
            f"churn frame.{col}: every level has 0 % or 100 % churn ({shown}); "
            f"the column encodes the label. Drop it from columns="
        )
    ct = np.column_stack([lv["customers"] - lv["churners"], lv["churners"]])
    stat, p, dof, exp = chi2_contingency(ct, correction=False)
    n = ct.sum()
    v = float(np.sqrt(stat / n)) if n else np.nan  # 2 columns: min(r, c) - 1 = 1
    big = lv[lv["customers"] >= max(30, 0.01 * n_rows)]
    w = (big if len(big) else lv).sort_values("rate").iloc[-1]
    if kind == "numeric":
        known = lv[lv["level"] != MISSING]
        lo_r, hi_r = known["rate"].iloc[0], known["rate"].iloc[-1]
        way = "more" if hi_r > lo_r else "less"
        direction = t(f"churn.drivers.direction.{way}", column=col, low=pct(lo_r), high=pct(hi_r))
    else:
        b = (big if len(big) else lv).sort_values("rate").iloc[0]
        direction = t("churn.drivers.direction.levels", worst=level_text(w["level"]), best=level_text(b["level"]),
                      rate=pct(b["rate"]))
    return {
        "feature": col, "kind": kind, "levels": len(lv), "test": t("churn.drivers.test"),
        "statistic": float(stat), "df": int(dof), "p": float(p), "cramers_v": v,
        "worst_level": w["level"], "worst_rate": float(w["rate"]), "worst_lower": float(w["lower"]),
        "worst_upper": float(w["upper"]), "overall_rate": overall, "direction": direction,
        "_sparse": float((exp < 5).mean()),
    }  # fmt: skip


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
        Features; default :meth:`ChurnFrame.features`.
    numeric_bins : int, default 5
        Quantile bins of numeric features; missing values are a
        level of their own.
    max_levels : int, default 30
        Categorical features with more levels are skipped with a warning.
    confidence : float, default 0.95
    controllable : list of str, optional
        Features the business can act on; default: all but
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
    tab = frame.table
    cols = columns if columns is not None else frame.features()
    missing = [c for c in cols if c not in tab.columns]
    if missing:
        raise AnalysisError(
            f"churn frame: driver column(s) {', '.join(map(repr, missing))} not found"
            f"{did_you_mean(str(missing[0]), list(map(str, tab.columns)))}; fix columns="
        )
    y = tab["churned"].to_numpy(dtype="int64")
    overall = float(y.mean())
    rows, level_rows, skipped = [], [], []
    for col in cols:
        lab, kind = levels(tab[col], bins=numeric_bins, max_levels=max_levels)
        if lab is None:
            skipped.append(skip_warning(col, tab[col].nunique(), max_levels))
            continue
        if lab.nunique() < 2:
            skipped.append(Text("churn.drivers.one_level", column=col))
            continue
        lv = rate_rows(lab, y, column=col, confidence=confidence)
        lv.insert(0, "feature", col)
        row = _driver_row(col, kind, lv, n_rows=len(tab), overall=overall)
        sparse_cells = row.pop("_sparse")
        rows.append({**row, "controllable": is_controllable(col, controllable), "sparse_cells": sparse_cells})
        level_rows.append(lv)
    if not rows:
        raise AnalysisError("churn_drivers: no usable feature; pass columns=")
    tab = pd.DataFrame(rows)
    tab.insert(tab.columns.get_loc("p") + 1, "p_holm", holm(tab["p"]))
    sparse = tab[tab["sparse_cells"] > 0.2]
    if len(sparse):
        warnings.warn(
            t("churn.drivers.sparse", features=", ".join(sparse["feature"])),
            StatisticalWarning,
            stacklevel=2,
        )
    tab = tab.sort_values(["p_holm", "cramers_v"], ascending=[True, False]).reset_index(drop=True)
    tab = tab.sort_values("cramers_v", ascending=False, key=lambda s: s.where(tab["p_holm"] < 1 - confidence, -1))
    return ChurnDrivers(
        table=tab.reset_index(drop=True), levels=pd.concat(level_rows, ignore_index=True), overall_rate=overall,
        confidence=confidence, skipped=skipped,
    )  # fmt: skip


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
    """Cox covariates when none are given: the ``n`` strongest
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
    return pd.get_dummies(col.astype("string").fillna(MISSING), prefix=name, drop_first=True, dtype=float)


def _redundant(table: pd.DataFrame, chosen: list[str], feature: str) -> bool:
    """True when some column of ``feature``'s design block is an exact combination of the
    design of ``chosen`` (and of its own other columns)."""
    from workbench.churn.cox import collinear_terms

    before = pd.concat([_design_block(table[c], c) for c in chosen], axis=1)
    own = _design_block(table[feature], feature)
    X = np.column_stack([before.to_numpy(), own.to_numpy()])
    return any(j >= before.shape[1] for j in collinear_terms(X))
