"""Campaigns without a control group: propensity-score (IPW) estimate of the ATT / ATE with an
overlap check and balance after weighting (:func:`observational_effect`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.campaign.experiments._common import (
    SMD_FLAG,
    as_float,
    covariate_matrix,
    diff_proportions,
    fmt_abs,
    fmt_ci,
    is_binary,
    metric_word,
    require_columns,
    smd_table,
)
from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    format_examples,
)
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, welch

__all__ = ["ObservationalResult", "observational_effect"]


@dataclass(frozen=True, eq=False, repr=False)
class ObservationalResult(Result):
    """Propensity-score (IPW) effect of a campaign without a control group.

    Attributes
    ----------
    estimates : pandas.DataFrame
        One row per estimate: ``estimate`` (``naive difference``, ``IPW ATT``, ``IPW ATE``),
        ``value``, ``low``, ``high`` (95 %), ``method``, ``evidence`` (``weaker evidence``).
    balance : pandas.DataFrame
        Per covariate column: ``covariate``, ``smd_before``, ``smd_after``, ``imbalanced_after``.
    propensity : pandas.DataFrame
        Per row kept: ``treated``, ``propensity``, ``weight_att``, ``weight_ate``.
    overlap : dict
        ``support`` (low, high), ``share_treated_outside``, ``share_control_outside``,
        ``n_trimmed_treated``, ``n_trimmed_control``, ``trim``, ``ess_control_att``.
    outcome, estimand : str
    n_treated, n_control : int
    random_state : int or None
    bootstrap : int
    """

    estimates: pd.DataFrame
    balance: pd.DataFrame
    propensity: pd.DataFrame
    overlap: dict[str, Any]
    outcome: str
    estimand: str
    n_treated: int
    n_control: int
    random_state: int | None
    bootstrap: int
    binary: bool = True

    def estimate(self, which: str | None = None) -> float:
        """Point estimate of ``IPW ATT`` / ``IPW ATE`` / ``naive difference`` (default: the estimand)."""
        which = which or f"IPW {self.estimand}"
        return float(self.estimates.set_index("estimate").loc[which, "value"])

    def summary(self) -> pd.DataFrame:
        """Naive and weighted estimates with 95 % intervals, labelled weaker evidence (the
        estimate and evidence labels in the run's language; codes in ``estimates``)."""
        e = self.estimates
        return e.assign(estimate=[i18n.category("obs_estimate", v) for v in e["estimate"]],
                        evidence=[i18n.category("evidence", v) for v in e["evidence"]])

    def to_frame(self) -> pd.DataFrame:
        """Per row: treated flag, propensity and weights."""
        return self.propensity.copy()

    def metrics(self) -> dict[str, Any]:
        """Estimates, overlap and balance figures (JSON-able)."""
        return {
            "outcome": self.outcome, "estimand": self.estimand, "n_treated": self.n_treated,
            "n_control": self.n_control, "random_state": self.random_state, "bootstrap": self.bootstrap,
            "evidence": "weaker evidence (observational)",
            "estimates": {r.estimate: {"value": num(r.value), "ci": [num(r.low), num(r.high)], "method": i18n.neutral(r.method)}
                          for r in self.estimates.itertuples()},
            "overlap": {k: (num(v) if isinstance(v, (int, float, np.floating)) else v) for k, v in self.overlap.items()
                        if k != "support"} | {"support": [num(v) for v in self.overlap["support"]]},
            "max_abs_smd_before": num(self.balance["smd_before"].abs().max()),
            "max_abs_smd_after": num(self.balance["smd_after"].abs().max()),
        }  # fmt: skip

    def finding(self) -> str:
        """The adjusted effect with its caveats, from the numbers."""
        b = self.binary
        e = self.estimates.set_index("estimate")
        naive, adj = e.loc["naive difference"], e.loc[f"IPW {self.estimand}"]
        word = metric_word(self.outcome)
        who = i18n.t("campaign.observational.who_att" if self.estimand == "ATT" else "campaign.observational.who_ate")
        text = i18n.t("campaign.observational.finding", who=who, metric=word, effect=fmt_abs(adj["value"], binary=b),
                      ci=fmt_ci(adj["low"], adj["high"], binary=b), naive=fmt_abs(naive["value"], binary=b))
        mostly = abs(adj["value"]) < 0.5 * abs(naive["value"])
        text += i18n.t("campaign.observational.selection" if mostly else "campaign.observational.end")
        mx = float(self.balance["smd_after"].abs().max())
        text += " " + i18n.t("campaign.observational.balanced" if mx <= SMD_FLAG else "campaign.observational.imbalanced",
                             smd=f"{mx:.2f}")  # fmt: skip
        return text + " " + i18n.t("campaign.observational.caveat")

    def plot(self, ax: Any = None) -> Any:
        """Propensity distributions by group (overlap) and balance before/after weighting.

        Returns a Figure with two panels, or draws the overlap panel on ``ax`` when given.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        p = self.propensity.assign(group=np.where(self.propensity["treated"], i18n.category("obs_group", "contacted"),
                                                  i18n.category("obs_group", "comparison")))
        if ax is not None:
            sns.histplot(data=p, x="propensity", hue="group", stat="density", common_norm=False, bins=40, ax=ax)
            return ax
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 0.8 + max(3.5, 0.3 * len(self.balance))))
        sns.histplot(data=p, x="propensity", hue="group", stat="density", common_norm=False, bins=40, ax=a1,
                     element="step")  # fmt: skip
        lo, hi = self.overlap["support"]
        for v in (lo, hi):
            a1.axvline(v, ls=":", color="grey")
        a1.set_title(i18n.t("campaign.observational.overlap_title"))
        long = self.balance.melt(id_vars="covariate", value_vars=["smd_before", "smd_after"], var_name="when",
                                 value_name="smd")  # fmt: skip
        long["when"] = long["when"].map({"smd_before": i18n.t("campaign.observational.before"),
                                         "smd_after": i18n.t("campaign.observational.after")})
        sns.scatterplot(data=long, x="smd", y="covariate", hue="when", ax=a2, s=45)
        for v in (-SMD_FLAG, SMD_FLAG):
            a2.axvline(v, ls="--", color="grey", lw=1)
        a2.axvline(0, color="black", lw=0.8)
        a2.set_title(i18n.t("campaign.observational.balance_title"))
        a2.set_ylabel("")
        fig.suptitle(i18n.t("campaign.observational.title", estimand=self.estimand))
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return (
            f"ObservationalResult(outcome={self.outcome!r}, estimand={self.estimand}, treated={self.n_treated:,}, "
            f"control={self.n_control:,}, estimate={self.estimate():.4g}, evidence='weaker')"
        )


def _design_for_propensity(X: pd.DataFrame, kinds: dict[str, str]) -> np.ndarray:
    """Standardized numeric design; non-negative skewed numeric columns also enter as log1p."""
    cols = []
    for c in X.columns:
        x = X[c].to_numpy(dtype="float64")
        cols.append(x)
        if kinds[c] == "numeric" and np.nanmin(x) >= 0 and pd.Series(x).skew() > 1:
            cols.append(np.log1p(x))
    Z = np.column_stack(cols)
    sd = Z.std(axis=0)
    keep = sd > 0
    Z = Z[:, keep]
    return (Z - Z.mean(axis=0)) / sd[keep]


def _logit_propensity(Z: np.ndarray, t: np.ndarray, *, ridge: float = 1e-4, max_iter: int = 50) -> np.ndarray:
    """Logistic regression of ``t`` on ``Z`` (plus intercept) by Newton-Raphson; fitted probabilities.

    A tiny ridge penalty on the slopes keeps the fit finite under (quasi-)separation. Newton on a
    handful of columns converges in a few steps, which keeps the bootstrap (one refit per
    resample) fast.
    """
    X = np.column_stack([np.ones(Z.shape[0]), Z])
    y = t.astype("float64")
    beta = np.zeros(X.shape[1])
    beta[0] = math.log((y.mean() + 1e-9) / (1 - y.mean() + 1e-9))
    pen = np.full(X.shape[1], ridge * X.shape[0])
    pen[0] = 0.0
    def objective(b: np.ndarray) -> float:  # penalized log-likelihood
        eta = X @ b
        return float(y @ eta - np.logaddexp(0, eta).sum() - 0.5 * (pen * b * b).sum())

    obj = objective(beta)
    for _ in range(max_iter):
        mu = 1 / (1 + np.exp(-np.clip(X @ beta, -35, 35)))
        w = mu * (1 - mu)
        grad = X.T @ (y - mu) - pen * beta
        hess = (X * w[:, None]).T @ X + np.diag(pen + 1e-10)
        step = np.linalg.solve(hess, grad)
        for _ in range(40):  # step halving: Newton on a logistic can overshoot far from the optimum
            new = objective(beta + step)
            if new >= obj - 1e-12:
                break
            step = step / 2
        beta, obj = beta + step, new
        if np.max(np.abs(step)) < 1e-8:
            break
    return 1 / (1 + np.exp(-np.clip(X @ beta, -35, 35)))


def _ipw(
    Z: np.ndarray, t: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, float, float]:
    """Fit the logistic propensity and return (propensity, ATT, ATE) by Hajek-weighted means."""
    e = np.clip(_logit_propensity(Z, t), 1e-6, 1 - 1e-6)
    att, ate = _ipw_estimates(e, t, y)
    return e, att, ate


def _ipw_estimates(e: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    wc = e / (1 - e)
    att = float(y[t].mean() - (wc[~t] * y[~t]).sum() / wc[~t].sum())
    w1, w0 = 1 / e[t], 1 / (1 - e[~t])
    ate = float((w1 * y[t]).sum() / w1.sum() - (w0 * y[~t]).sum() / w0.sum())
    return att, ate


def observational_effect(
    frame: pd.DataFrame,
    *,
    treated: str,
    outcome: str,
    covariates: Sequence[str],
    estimand: Literal["ATT", "ATE"] = "ATT",
    trim: float = 0.01,
    bootstrap: int = 500,
    alpha: float = 0.05,
    random_state: int | None = None,
) -> ObservationalResult:
    """Effect of a campaign without a control group: propensity-score weighting (IPW).

    The comparison is **observational** (a :class:`StatisticalWarning` says so): contacted
    customers were chosen, e.g. for their past spend, so the naive difference mixes the
    campaign's effect with who was chosen. A logistic propensity model ``P(treated | X)``
    (Newton-Raphson, tiny ridge) is fit on the covariates (standardized; non-negative
    right-skewed numeric columns also enter as ``log1p``; categoricals one-hot), rows with
    propensity outside ``[trim, 1 - trim]`` are
    dropped (counted in ``overlap``), and

    * ATT = mean(y | treated) - weighted mean(y | comparison) with weights ``e / (1 - e)``;
    * ATE = weighted means with ``1 / e`` and ``1 / (1 - e)``;

    both as Hajek (normalised) weighted means, which equals using stabilized weights
    (``P(T) / e``, ``(1 - P(T)) / (1 - e)``). The interval is a percentile bootstrap over rows
    that refits the propensity model in every resample (``bootstrap`` resamples, seeded).
    Balance after weighting is reported as weighted SMDs.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer: the contacted customers (``treated`` true) **and** the comparison
        customers (``treated`` false): customers eligible at the contact date but not contacted
        (e.g. active customers signed up before the contact). Covariates must be measured
        **before** the contact (pre-period revenue, frequency, recency, tenure, segment ...); the
        outcome over the same window for both groups (e.g. any purchase in the 14 days after the
        contact date, from orders).
    treated : str
        Boolean (or 0/1) column: contacted.
    outcome : str
        Outcome column (0/1 or numeric).
    covariates : sequence of str
        Pre-contact covariates. Blank numeric values are set to the median with an extra
        ``<col>_missing`` indicator (warned).
    estimand : {'ATT', 'ATE'}, default 'ATT'
        Headline estimate (both are computed).
    trim : float, default 0.01
        Drop rows with propensity below ``trim`` or above ``1 - trim`` (0 keeps all).
    bootstrap : int, default 500
        Resamples for the interval.
    alpha : float, default 0.05
    random_state : int, optional

    Returns
    -------
    ObservationalResult

    Raises
    ------
    AnalysisError
        Columns missing, no treated or no comparison rows, blank outcome or treatment.
    """
    covariates = list(covariates)
    t_all, y_all = _check_inputs(frame, treated=treated, outcome=outcome, covariates=covariates)
    n_t, n_c = int(t_all.sum()), int((~t_all).sum())
    warnings.warn(
        i18n.t("campaign.warn.observational", treated=f"{n_t:,}", control=f"{n_c:,}"),
        StatisticalWarning,
        stacklevel=2,
    )
    X, kinds = _imputed_covariates(frame, covariates)
    Z_all = _design_for_propensity(X, kinds)
    e_all, _, _ = _ipw(Z_all, t_all, y_all)
    keep = (e_all >= trim) & (e_all <= 1 - trim) if trim > 0 else np.ones(e_all.size, bool)
    t, y, Z, Xk = t_all[keep], y_all[keep], Z_all[keep], X.loc[keep]
    if t.sum() == 0 or (~t).sum() == 0:
        raise AnalysisError(f"observational_effect: no overlap left after trimming at trim={trim}; lower trim")
    e, att, ate = _ipw(Z, t, y)
    overlap = _overlap(e_all, t_all, keep, e, t, trim=trim)
    w_att = np.where(t, 1.0, e / (1 - e))
    pt = t.mean()
    w_ate = np.where(t, pt / e, (1 - pt) / (1 - e))
    before = smd_table(Xk, t, ~t)
    after = smd_table(Xk, t, ~t, w_att if estimand == "ATT" else w_ate)
    balance = pd.DataFrame({"covariate": before["covariate"], "smd_before": before["smd"], "smd_after": after["smd"]})
    balance["imbalanced_after"] = balance["smd_after"].abs() > SMD_FLAG
    ci_att, ci_ate = _bootstrap_ipw(Z, t, y, estimand=estimand, bootstrap=bootstrap, alpha=alpha,
                                    random_state=random_state)  # fmt: skip
    binary = is_binary(y)
    naive = _naive_difference(y_all, t_all, binary=binary, alpha=alpha)
    methods = [naive[3], i18n.Text("campaign.observational.method_att", bootstrap=bootstrap),
               i18n.Text("campaign.observational.method_ate", bootstrap=bootstrap)]  # fmt: skip
    est = pd.DataFrame(
        [
            ("naive difference", *naive[:3], "no adjustment - biased by selection"),
            ("IPW ATT", att, *ci_att, "weaker evidence"),
            ("IPW ATE", ate, *ci_ate, "weaker evidence"),
        ],
        columns=["estimate", "value", "low", "high", "evidence"],
    )
    # object dtype keeps the i18n.Text methods (metrics() records them in English)
    est.insert(4, "method", pd.Series(methods, dtype=object))
    prop = pd.DataFrame(
        {"treated": t, "propensity": e, "weight_att": w_att, "weight_ate": w_ate}, index=frame.index[keep]
    )
    return ObservationalResult(est, balance, prop, overlap, outcome, estimand, int(t.sum()), int((~t).sum()),
                               random_state, bootstrap, binary)  # fmt: skip


def _check_inputs(
    frame: pd.DataFrame, *, treated: str, outcome: str, covariates: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """The treated flags (bool) and the outcome (float) of every row, after the input checks."""
    require_columns(frame, [treated, outcome, *covariates], what="observational")
    if not covariates:
        raise AnalysisError("observational_effect: no covariates; the comparison needs pre-contact covariates")
    tr = frame[treated]
    if tr.isna().any():
        raise AnalysisError(f"{treated}: {int(tr.isna().sum()):,} of {len(tr):,} rows blank; every row must be 0/1")
    t_all = as_float(tr, column=treated)
    if not is_binary(t_all):
        raise AnalysisError(f"{treated}: must be boolean or 0/1, e.g. {format_examples(tr.head(5).tolist())}")
    t_all = t_all.astype(bool)
    n_t, n_c = int(t_all.sum()), int((~t_all).sum())
    if n_t == 0 or n_c == 0:
        raise AnalysisError(
            f"observational_effect: {n_t:,} contacted and {n_c:,} comparison rows; both groups are needed (the "
            "comparison group is the eligible customers who were not contacted)"
        )
    y_all = as_float(frame[outcome], column=outcome)
    if np.isnan(y_all).any():
        raise AnalysisError(
            f"{outcome}: {int(np.isnan(y_all).sum()):,} of {y_all.size:,} rows blank; measure the outcome for every "
            "row (0 when nothing happened)"
        )
    return t_all, y_all


def _imputed_covariates(frame: pd.DataFrame, covariates: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Covariate design with blank numbers set to the median plus a ``<col>_missing`` indicator."""
    X, kinds = covariate_matrix(frame, covariates)
    for c in list(X.columns):
        miss = X[c].isna().to_numpy()
        if miss.any():
            warnings.warn(i18n.t("campaign.warn.blank_covariate", column=c, n=f"{int(miss.sum()):,}",
                                 total=f"{miss.size:,}"), DataQualityWarning, stacklevel=3)  # fmt: skip
            X[c] = X[c].fillna(X[c].median())
            X[f"{c}_missing"] = miss.astype(float)
            kinds[f"{c}_missing"] = "binary"
    return X, kinds


def _overlap(
    e_all: np.ndarray, t_all: np.ndarray, keep: np.ndarray, e: np.ndarray, t: np.ndarray, *, trim: float
) -> dict[str, Any]:
    """Common support, trimmed rows and the effective comparison sample; warns when weak."""
    lo_sup = max(e_all[t_all].min(), e_all[~t_all].min())
    hi_sup = min(e_all[t_all].max(), e_all[~t_all].max())
    outside = (e_all < lo_sup) | (e_all > hi_sup)
    wc = e / (1 - e)
    ess = float(wc[~t].sum() ** 2 / (wc[~t] ** 2).sum())
    overlap = {
        "support": (float(lo_sup), float(hi_sup)),
        "share_treated_outside": float(outside[t_all].mean()),
        "share_control_outside": float(outside[~t_all].mean()),
        "n_trimmed_treated": int((~keep & t_all).sum()),
        "n_trimmed_control": int((~keep & ~t_all).sum()),
        "trim": trim,
        "ess_control_att": ess,
    }
    if overlap["share_treated_outside"] > 0.05 or overlap["n_trimmed_treated"] > 0.05 * int(t_all.sum()):
        warnings.warn(
            i18n.t("campaign.warn.weak_overlap", share=pct(overlap["share_treated_outside"]),
                   trimmed=f"{overlap['n_trimmed_treated']:,}"),
            StatisticalWarning,
            stacklevel=3,
        )
    if ess < 50:
        warnings.warn(i18n.t("campaign.warn.small_ess", ess=f"{ess:.0f}"), StatisticalWarning, stacklevel=3)
    return overlap


def _bootstrap_ipw(
    Z: np.ndarray, t: np.ndarray, y: np.ndarray, *, estimand: str, bootstrap: int, alpha: float,
    random_state: int | None,
) -> tuple[tuple[float, float], tuple[float, float]]:  # fmt: skip
    """Percentile bootstrap intervals of the ATT and the ATE, refitting the propensity per resample."""
    draws: list[tuple[float, float]] = []

    def stat(idx: np.ndarray) -> float:
        ti = t[idx]
        if ti.all() or not ti.any():
            draws.append((np.nan, np.nan))
            return np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, a1, a2 = _ipw(Z[idx], ti, y[idx])
        draws.append((a1, a2))
        return a1 if estimand == "ATT" else a2

    try:  # many small matrix products: BLAS threads only add overhead (and thrash on busy machines)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            bootstrap_ci(stat, t.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state)
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        bootstrap_ci(stat, t.size, n_boot=bootstrap, confidence=1 - alpha, random_state=random_state)
    dr = np.asarray(draws)
    q = [alpha / 2, 1 - alpha / 2]

    def ci(col: int) -> tuple[float, float]:
        v = dr[:, col]
        v = v[np.isfinite(v)]
        return (float(np.quantile(v, q[0])), float(np.quantile(v, q[1]))) if v.size else (np.nan, np.nan)

    return ci(0), ci(1)


def _naive_difference(
    y_all: np.ndarray, t_all: np.ndarray, *, binary: bool, alpha: float
) -> tuple[float, float, float, str]:
    """Unadjusted contacted - comparison difference: (value, low, high, method)."""
    if binary:
        nd = diff_proportions(y_all[t_all].sum(), int(t_all.sum()), y_all[~t_all].sum(), int((~t_all).sum()),
                              alpha=alpha)  # fmt: skip
        return (float(nd["diff"][0]), float(nd["low"][0]), float(nd["high"][0]),
                i18n.Text("campaign.observational.method_wald"))  # fmt: skip
    w = welch(y_all[t_all], y_all[~t_all], alpha=alpha)
    return w["diff"], w["low"], w["high"], i18n.Text("campaign.observational.method_welch")
