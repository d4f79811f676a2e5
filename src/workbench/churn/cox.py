"""Cox proportional hazards: what changes the hazard of leaving, holding the other covariates fixed.

:func:`cox_model` fits statsmodels ``PHReg`` (Efron ties): hazard ratios with confidence
intervals, and a check of the proportional-hazards assumption (correlation of Schoenfeld
residuals with the rank of event time per covariate, Holm-adjusted). :func:`hazard_ratio_check`
compares the estimates with known true ratios (synthetic data).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.churn._common import MISSING, Text, attribute_columns, level_text, neutral
from workbench.churn.survival import OTHER_LEVEL, survival_inputs
from workbench.core.errors import AnalysisError, StatisticalWarning, did_you_mean
from workbench.modeling.cox import check_design, collinear_terms, fit_phreg, ph_test
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = [
    "CoxResult",
    "HazardRatioCheck",
    "cox_model",
    "hazard_ratio_check",
    "collinear_terms",
    "GENERATOR_ALIASES",
]


@dataclass(frozen=True, eq=False, repr=False)
class CoxResult(Result):
    """Cox proportional-hazards model (see :func:`cox_model`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model term: ``term`` (``column=level`` for a category, the column name for a
        number), ``covariate``, ``level``, ``reference``, ``coef``, ``se``, ``hr``, ``hr_lower``,
        ``hr_upper``, ``p``, ``p_holm``, ``per`` (the unit of a numeric covariate's ratio).
    ph_check : pandas.DataFrame
        One row per covariate: ``covariate``, ``terms``, ``rho`` (largest absolute correlation of
        a term's Schoenfeld residuals with the rank of event time), ``p`` (smallest term p),
        ``p_holm`` (Holm across covariates), ``violated``.
    covariates : list of str
    strata : str or None
    n : int
        Customers in the fit.
    n_events : int
    n_dropped : int
        Customers left out for a missing covariate.
    sampled_from : int or None
        Rows before subsampling (``max_rows``), None when all rows were used.
    confidence : float
    llf : float
        Partial log-likelihood.
    notes : list of str
    skipped : str
        Why no model was fitted (no covariates); empty for a fitted model. A skipped result has
        empty tables and says why in its finding and chart.
    """

    table: pd.DataFrame
    ph_check: pd.DataFrame
    covariates: list[str]
    strata: str | None
    n: int
    n_events: int
    n_dropped: int
    sampled_from: int | None
    confidence: float
    llf: float
    notes: list[str] = field(default_factory=list)
    skipped: str = ""

    def summary(self) -> pd.DataFrame:
        """Hazard ratios with intervals and p-values, one row per term."""
        return self.table[["term", "hr", "hr_lower", "hr_upper", "p", "p_holm", "reference", "per"]].copy()

    def to_frame(self) -> pd.DataFrame:
        """All term columns."""
        return self.table.copy()

    def hazard_ratios(self) -> pd.Series:
        """Hazard ratio by term (``acquisition_channel=referral``, ``age_at_signup``)."""
        return self.table.set_index("term")["hr"]

    def intervals(self) -> pd.DataFrame:
        """``hr``, ``hr_lower``, ``hr_upper`` indexed by term."""
        return self.table.set_index("term")[["hr", "hr_lower", "hr_upper"]]

    def metrics(self) -> dict[str, Any]:
        """Hazard ratios with intervals, PH check and sample sizes (JSON-able)."""
        return {
            "skipped": neutral(self.skipped) or None,
            "n": self.n,
            "n_events": self.n_events,
            "n_dropped": self.n_dropped,
            "sampled_from": self.sampled_from,
            "strata": self.strata,
            "hazard_ratios": {
                r.term: {"hr": num(r.hr), "lower": num(r.hr_lower), "upper": num(r.hr_upper), "p": num(r.p)}
                for r in self.table.itertuples()
            },
            "ph_violations": [str(c) for c in self.ph_check.loc[self.ph_check["violated"], "covariate"]],
        }

    def finding(self) -> str:
        """The strongest hazard ratios and the PH check, with what to do, from the numbers."""
        if self.skipped:
            return self.skipped
        tab = self.table
        alpha = 1 - self.confidence
        sig = tab[tab["p_holm"] < alpha].copy()
        key = "churn.cox.fitted_strata" if self.strata else "churn.cox.fitted"
        parts = [t(key, n=count(self.n), events=count(self.n_events), strata=self.strata)]
        if self.sampled_from:
            parts.append(t("churn.cox.sampled", n=count(self.n), total=count(self.sampled_from)))
        if sig.empty:
            parts.append(t("churn.cox.none_significant"))
        else:
            sig["strength"] = np.abs(np.log(sig["hr"]))
            for r in sig.sort_values("strength", ascending=False).head(3).itertuples():
                parts.append(t("churn.cox.term", what=self.term_text(r), change=hazard_change(r.hr),
                               level=pct(self.confidence, 0), low=f"{r.hr_lower:.2f}", high=f"{r.hr_upper:.2f}"))
        bad = self.ph_check[self.ph_check["violated"]]
        if len(bad):
            cols = t("churn.list_sep").join(map(str, bad["covariate"]))
            cat = [c for c in bad["covariate"] if self.table.loc[self.table["covariate"] == c, "level"].map(
                lambda v: isinstance(v, str)).any()]  # fmt: skip
            advice = t("churn.cox.advice.stratify", strata=repr(cat[0])) if cat else t("churn.cox.advice.split")
            parts.append(t("churn.cox.ph_fails", columns=cols, alpha=f"{alpha:g}", advice=advice))
        else:
            parts.append(t("churn.cox.ph_ok"))
        parts.extend(map(str, self.notes))
        return t("churn.join").join(parts)

    @staticmethod
    def term_text(r: Any) -> str:
        """A term row as words: ``member_level = gold (vs non_member)``, ``each 10 more age_at_signup``."""
        if isinstance(r.level, str):
            return t("churn.cox.what.level", covariate=r.covariate, level=level_text(r.level),
                     reference=level_text(r.reference))
        if r.reference == "":
            return t("churn.cox.what.numeric", per=r.per, covariate=r.covariate)
        return t("churn.cox.what.flag", covariate=r.covariate)

    def plot(self, ax: Any = None) -> Any:
        """Forest plot: hazard ratio and interval per term on a log axis.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        if self.skipped:
            ax = new_axes(ax, figsize=(6.5, 1.6))
            ax.text(0.5, 0.5, t("churn.cox.plot.skipped"), ha="center", va="center")
            ax.set_axis_off()
            return ax
        tab = self.table.iloc[::-1].reset_index(drop=True)
        ax = new_axes(ax, figsize=(6.5, 0.35 * len(tab) + 1.2))
        sig = tab["p_holm"] < 1 - self.confidence
        sns.scatterplot(x=tab["hr"].to_numpy(), y=tab["term"].to_numpy(),
                        hue=np.where(sig, t("churn.plot.significant"), t("churn.plot.not_significant")),
                        ax=ax, zorder=3)  # fmt: skip
        ax.hlines(tab["term"], tab["hr_lower"], tab["hr_upper"], color="grey")
        ax.axvline(1, color="black", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel(t("churn.cox.plot.xlabel", level=pct(self.confidence, 0)))
        ax.set_ylabel("")
        ax.set_title(t("churn.cox.plot.title"))
        return ax

    def __repr__(self) -> str:
        return (
            f"CoxResult(covariates={len(self.covariates)}, terms={len(self.table)}, n={self.n:,}, "
            f"events={self.n_events:,}, strata={self.strata!r})"
        )


def hazard_change(hr: float) -> str:
    """A hazard ratio in words: ``1.60x the hazard (60 % more)``."""
    if hr > 1:
        return t("churn.cox.change.more", hr=f"{hr:.2f}", pct=pct(hr - 1, 0))
    return t("churn.cox.change.less", hr=f"{hr:.2f}", pct=pct(1 - hr, 0))


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _design(
    t: pd.DataFrame,
    covariates: list[str],
    *,
    event: np.ndarray,
    reference: dict[str, Any],
    scale: dict[str, float],
    max_levels: int,
    min_level_size: int,
) -> tuple[np.ndarray, list[dict[str, Any]], list[str]]:
    """Design matrix: numbers as they are (divided by ``scale``), booleans 0/1, categories one
    dummy per level but the reference. Rejects levels without events or with only events."""
    cols, terms, notes = [], [], []
    for c in covariates:
        s = t[c]
        if pd.api.types.is_bool_dtype(s) or (_is_numeric(s) and set(pd.unique(s.dropna())) <= {0, 1}):
            x = s.astype("float64").to_numpy()
            cols.append(x)
            terms.append({"term": c, "covariate": c, "level": None, "reference": "0/False", "per": "1"})
            _separation_check(c, pd.Series(np.where(x == 1, "1", "0")), event)
            continue
        if _is_numeric(s):
            sc = float(scale.get(c, 1.0))
            cols.append(s.astype("float64").to_numpy() / sc)
            terms.append({"term": c, "covariate": c, "level": None, "reference": "", "per": f"{sc:g}"})
            continue
        lab = s.astype("string").astype(str)
        vc = lab.value_counts()
        if len(vc) > max_levels:
            raise AnalysisError(
                f"churn frame.{c}: {len(vc):,} levels is too many for a Cox covariate (max_levels={max_levels}); "
                "group it or drop it from covariates="
            )
        small = vc.index[vc < min_level_size]
        if len(small) and len(small) < len(vc):
            notes.append(Text("churn.cox.note.lumped", column=c, n=len(small), min_size=min_level_size,
                              other=level_text(OTHER_LEVEL)))
            lab = lab.where(~lab.isin(small), OTHER_LEVEL)
            vc = lab.value_counts()
        if len(vc) < 2:
            raise AnalysisError(
                f"churn frame.{c}: only one level ({vc.index[0]!r}) among the customers in the model; "
                "drop it from covariates="
            )
        _separation_check(c, lab, event)
        ref = reference.get(c, vc.index[0])
        if ref not in vc.index:
            raise AnalysisError(
                f"churn frame.{c}: reference level {ref!r} (reference=) not found"
                f"{did_you_mean(ref, list(map(str, vc.index)))}; levels are {', '.join(map(repr, vc.index[:10]))}"
            )
        for lvl in sorted(vc.index, key=lambda v: (-vc[v], str(v))):
            if lvl == ref:
                continue
            cols.append((lab == lvl).to_numpy(dtype="float64"))
            terms.append({"term": f"{c}={lvl}", "covariate": c, "level": lvl, "reference": str(ref), "per": ""})
    return np.column_stack(cols), terms, notes


def _separation_check(column: str, labels: pd.Series, event: np.ndarray) -> None:
    ev = pd.Series(event, index=labels.index).groupby(labels.to_numpy()).agg(["size", "sum"])
    zero = ev[ev["sum"] == 0]
    full = ev[ev["sum"] == ev["size"]]
    if len(zero) or len(full):
        bits = [f"{lvl!r}: {int(r['size']):,} customers, none left" for lvl, r in zero.head(3).iterrows()]
        bits += [f"{lvl!r}: {int(r['size']):,} customers, all left" for lvl, r in full.head(3).iterrows()]
        raise AnalysisError(
            f"churn frame.{column}: (quasi-)complete separation, {'; '.join(bits)}; the Cox fit would diverge "
            f"(hazard ratio 0 or infinite). Drop {column!r} from covariates=, merge the level with "
            "another, or use it as strata="
        )


def cox_model(
    table: pd.DataFrame,
    *,
    covariates: list[str] | None,
    duration: str = "duration_months",
    event: str = "event",
    strata: str | None = None,
    reference: dict[str, Any] | None = None,
    scale: dict[str, float] | None = None,
    min_events: int = 10,
    max_levels: int = 30,
    min_level_size: int = 20,
    max_rows: int | None = 200_000,
    confidence: float = 0.95,
    random_state: int | None = None,
) -> CoxResult:
    """Cox proportional-hazards model with a proportional-hazards check.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per customer (``ChurnFrame.table``).
    covariates : list of str or None
        Columns in the model; none (an empty list, e.g. when no driver qualifies as a default
        covariate) gives a skipped result that says why, with a :class:`StatisticalWarning`.
        Numbers enter linearly (see ``scale``), booleans and 0/1 numbers as
        one indicator, other columns as one indicator per level against ``reference`` (default:
        the most frequent level).
    duration, event : str
    strata : str, optional
        Separate baseline hazard per level of this column; use it for a covariate that fails the
        PH check or for a known segment.
    reference : dict, optional
        Column -> reference level.
    scale : dict, optional
        Column -> unit of its hazard ratio, e.g. ``{"age_at_signup": 10}`` for "per 10 years".
    min_events : int, default 10
        Events needed per model term.
    max_levels : int, default 30
    min_level_size : int, default 20
        Smaller levels are lumped into ``(other)`` (a level that small gives a useless ratio).
    max_rows : int, optional
        Fit on a seeded random sample of this many rows when the table is larger (the finding
        says so); ``None`` for all rows.
    confidence : float, default 0.95
    random_state : int, optional
        Seed of the subsample.

    Returns
    -------
    CoxResult

    Raises
    ------
    AnalysisError
        Missing or constant covariates, too few events per term, a level without events or with
        only events (separation), a fit that does not converge.
    """
    covariates = list(dict.fromkeys(covariates or []))
    if not covariates:
        return _skipped(table, duration=duration, event=event, strata=strata, confidence=confidence)
    _step_check_columns(table, covariates, strata=strata)
    survival_inputs(table, duration=duration, event=event)
    notes: list[str] = []
    t, n_dropped, sampled_from = _step_rows(
        table, [duration, event, *covariates] + ([strata] if strata else []), event=event, max_rows=max_rows,
        random_state=random_state, notes=notes,
    )  # fmt: skip
    time = t[duration].astype("float64").to_numpy()
    ev = t[event].astype("float64").to_numpy().astype("int64")
    n_ev = int(ev.sum())
    if n_ev == 0 or n_ev == len(ev):
        raise AnalysisError(
            f"churn frame.{event}: {'no customer left' if n_ev == 0 else 'every customer left'} among the "
            f"{len(ev):,} in the Cox model; a hazard model needs both (check the churn label)"
        )
    X, terms, extra = _design(
        t, covariates, event=ev, reference=reference or {}, scale=scale or {},
        max_levels=max_levels, min_level_size=min_level_size,
    )  # fmt: skip
    notes += extra
    check_design(X, terms, covariates, n_events=n_ev, min_events=min_events)
    st = t[strata].astype("string").fillna(MISSING).astype(str).to_numpy() if strata else None
    # a tiny positive floor: statsmodels treats time 0 like any other time, but keep it explicit
    time_fit = np.maximum(time, 1e-6)
    res, out = fit_phreg(time_fit, X, ev, st, terms, confidence=confidence)
    ph = ph_test(res, time_fit, ev, terms)
    ph["violated"] = ph["p_holm"] < 1 - confidence
    return CoxResult(
        table=out, ph_check=ph, covariates=covariates, strata=strata, n=len(t), n_events=n_ev,
        n_dropped=n_dropped, sampled_from=sampled_from, confidence=confidence, llf=float(res.llf), notes=notes,
    )  # fmt: skip


_TERM_COLUMNS = ["term", "covariate", "level", "reference", "coef", "se", "hr", "hr_lower", "hr_upper", "p",
                 "p_holm", "per"]  # fmt: skip
_PH_COLUMNS = ["covariate", "terms", "rho", "p", "p_holm", "violated"]


def _skipped(table: pd.DataFrame, *, duration: str, event: str, strata: str | None, confidence: float) -> CoxResult:
    """A Cox result without a model: no covariates were given and none qualified as a default."""
    from workbench.churn.drivers import BEHAVIOUR_COLUMNS

    usable = attribute_columns(table, exclude=BEHAVIOUR_COLUMNS | {duration, event})[:8]
    reason = (Text("churn.cox.skipped.candidates", candidates=", ".join(usable)) if usable
              else Text("churn.cox.skipped.none"))
    warnings.warn(reason, StatisticalWarning, stacklevel=3)
    n_ev = int(pd.to_numeric(table[event], errors="coerce").fillna(0).sum()) if event in table else 0
    return CoxResult(
        table=pd.DataFrame(columns=_TERM_COLUMNS), ph_check=pd.DataFrame(columns=_PH_COLUMNS), covariates=[],
        strata=strata, n=len(table), n_events=n_ev, n_dropped=0, sampled_from=None, confidence=confidence,
        llf=float("nan"), skipped=reason,
    )  # fmt: skip


def _step_check_columns(table: pd.DataFrame, covariates: list[str], *, strata: str | None) -> None:
    """Covariates present, and not also the strata."""
    missing = [c for c in covariates + ([strata] if strata else []) if c not in table.columns]
    if missing:
        raise AnalysisError(
            f"churn frame: column(s) {', '.join(map(repr, missing))} not found"
            f"{did_you_mean(str(missing[0]), list(map(str, table.columns)))}; fix covariates= or strata= "
            f"(available: {', '.join(map(str, table.columns[:20]))})"
        )
    if strata in covariates:
        raise AnalysisError(f"cox_model: {strata!r} is both a covariate and the strata; remove it from one of them")


def _step_rows(
    table: pd.DataFrame,
    columns: list[str],
    *,
    event: str,
    max_rows: int | None,
    random_state: int | None,
    notes: list[str],
) -> tuple[pd.DataFrame, int, int | None]:
    """Complete rows of ``columns``, subsampled to ``max_rows``: (rows, dropped, rows before sampling)."""
    t = table[columns]
    t = t.assign(**{event: t[event].astype("float64")}) if t[event].dtype == bool else t
    ok = t.notna().all(axis=1)
    n_dropped = int((~ok).sum())
    if n_dropped:
        na = t.isna().sum()
        na = na[na > 0]
        notes.append(Text("churn.cox.note.missing", n=count(n_dropped),
                          columns=", ".join(f"{k}: {int(v):,}" for k, v in na.items())))
        if n_dropped > 0.2 * len(t):
            warnings.warn(
                Text("churn.cox.warn.missing", n=count(n_dropped), total=count(len(t))),
                StatisticalWarning,
                stacklevel=3,
            )
    t = t[ok]
    sampled_from = None
    if max_rows is not None and len(t) > max_rows:
        rng = np.random.default_rng(random_state)
        idx = np.sort(rng.choice(len(t), size=int(max_rows), replace=False))
        sampled_from = len(t)
        t = t.iloc[idx]
    return t.reset_index(drop=True), n_dropped, sampled_from


#: How the synthetic generator's hazard-ratio names map onto model terms (``churn.hazard_ratios``
#: in ``ground_truth.json``): membership is silver or gold vs non_member, age is per 10 years.
GENERATOR_ALIASES: dict[str, list[str]] = {
    "is_member": ["member_level=silver", "member_level=gold"],
    "age_per_10_years": ["age_at_signup"],
}


@dataclass(frozen=True, eq=False, repr=False)
class HazardRatioCheck(Result):
    """Estimated hazard ratios against known true ones (see :func:`hazard_ratio_check`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (truth name, term): ``truth_name``, ``term`` (None when no model term
        matches), ``true_hr``, ``hr``, ``hr_lower``, ``hr_upper``, ``covered`` (true ratio inside
        the interval), ``same_side`` (estimate on the same side of 1 as the truth, or truth = 1).
    confidence : float
        Level of the Cox intervals.
    """

    table: pd.DataFrame
    confidence: float = 0.95

    @property
    def found(self) -> pd.DataFrame:
        """Rows with a matching model term."""
        if "term" not in self.table:
            return pd.DataFrame(
                columns=["truth_name", "term", "true_hr", "hr", "hr_lower", "hr_upper", "covered", "same_side"]
            )
        return self.table[self.table["term"].notna()]

    def summary(self) -> pd.DataFrame:
        """The comparison table."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """How many true ratios are covered and on the right side of 1 (JSON-able)."""
        f = self.found
        return {"n_compared": len(f), "n_covered": int(f["covered"].sum()), "n_same_side": int(f["same_side"].sum())}

    def finding(self) -> str:
        """How many true ratios the intervals cover, how many estimates point the right way, and
        what attenuation means."""
        found = self.found
        if found.empty:
            return t("churn.hr_check.none")
        covered, same = int(found["covered"].sum()), int(found["same_side"].sum())
        n = len(found)
        toward_one = found[(found["true_hr"] != 1) & ~found["covered"]]
        attenuated = toward_one[(np.log(toward_one["hr"]).abs() < np.log(toward_one["true_hr"]).abs())]
        text = t("churn.hr_check.cover", level=pct(self.confidence, 0), covered=covered, n=n, same=same)
        if len(attenuated):
            text += t("churn.hr_check.attenuated", n=len(attenuated), terms=", ".join(attenuated["term"].astype(str)))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Estimated ratio with interval (bars) and the true ratio (marker) per term, log scale.

        Returns
        -------
        matplotlib.axes.Axes
        """
        f = self.found.iloc[::-1].reset_index(drop=True)
        ax = new_axes(ax, figsize=(6.5, 0.35 * max(len(f), 1) + 1.2))
        if f.empty:
            ax.text(0.5, 0.5, t("churn.hr_check.plot.empty"), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
            return ax
        labels = f["term"].astype(str).to_numpy()
        ax.hlines(labels, f["hr_lower"], f["hr_upper"], color="grey")
        ax.scatter(f["hr"], labels, color="tab:blue", label=t("churn.hr_check.plot.estimate"), zorder=3)
        ax.scatter(f["true_hr"], labels, color="tab:red", marker="x", label=t("churn.hr_check.plot.truth"), zorder=4)
        ax.axvline(1, color="black", lw=0.8, ls="--")
        ax.set_xscale("log")
        ax.set_xlabel(t("churn.hr_check.plot.xlabel"))
        ax.set_title(t("churn.hr_check.plot.title"))
        ax.legend()
        return ax

    def __repr__(self) -> str:
        f = self.found
        return f"HazardRatioCheck(compared={len(f)}, covered={int(f['covered'].sum())})"


def hazard_ratio_check(
    cox: CoxResult, truth: dict[str, float], *, aliases: dict[str, list[str]] | None = None
) -> HazardRatioCheck:
    """Compare estimated hazard ratios with known true ones (synthetic data).

    Parameters
    ----------
    cox : CoxResult
        Fitted model (terms named ``column=level`` or ``column``).
    truth : dict
        True hazard ratio by name, e.g. the generator's ``churn.hazard_ratios``.
    aliases : dict, optional
        Truth name -> model terms it stands for (e.g. ``is_member`` ->
        ``['member_level=silver', 'member_level=gold']``); default :data:`GENERATOR_ALIASES`.
        Names not found are reported with ``term`` missing.

    Returns
    -------
    HazardRatioCheck
        Its ``table``: one row per (truth name, term).
    """
    est = cox.intervals()
    aliases = GENERATOR_ALIASES if aliases is None else aliases
    rows = []
    for name, true_hr in truth.items():
        terms = aliases.get(name, [name])
        for term in terms:
            if term in est.index:
                hr, lo, hi = (float(v) for v in est.loc[term, ["hr", "hr_lower", "hr_upper"]])
            else:
                hr = lo = hi = float("nan")
            same = bool(true_hr == 1.0 or (hr - 1.0) * (true_hr - 1.0) > 0) if np.isfinite(hr) else False
            rows.append({
                "truth_name": name, "term": term if term in est.index else None, "true_hr": float(true_hr),
                "hr": hr, "hr_lower": lo, "hr_upper": hi,
                "covered": bool(np.isfinite(lo) and lo <= true_hr <= hi), "same_side": same,
            })  # fmt: skip
    return HazardRatioCheck(table=pd.DataFrame(rows), confidence=cox.confidence)
