"""Cox proportional hazards shared by the analyses (churn, service): the fit, its checks and the
proportional-hazards test, on a design matrix the analysis builds.

:func:`fit_phreg` fits statsmodels ``PHReg`` (Efron ties) and returns the term table with hazard
ratios, intervals and Holm-adjusted p-values; :func:`check_design` stops on too few events per
term, constant or collinear terms (:func:`collinear_terms`); :func:`ph_test` correlates the
Schoenfeld residuals with the rank of event time. The analysis (``churn.cox_model``,
``service.service_churn``) turns its table into the design matrix and the terms.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.stats import holm

__all__ = ["check_design", "collinear_terms", "fit_phreg", "ph_test"]


def collinear_terms(X: np.ndarray, *, tol: float = 1e-8) -> list[int]:
    """Columns of a design matrix that are linear combinations of earlier columns (with an
    intercept), found by a pivot-free QR scan: column j is redundant when its residual on the
    columns kept so far is (numerically) zero.

    Examples
    --------
    >>> collinear_terms(np.array([[1., 0., 1.], [0., 1., 1.], [1., 1., 2.], [0., 0., 0.]]))
    [2]
    """
    Xc = np.asarray(X, dtype="float64")
    Xc = Xc - Xc.mean(axis=0)
    kept: list[int] = []
    redundant: list[int] = []
    basis = np.zeros((Xc.shape[0], 0))
    for j in range(Xc.shape[1]):
        v = Xc[:, j]
        norm_v = np.linalg.norm(v)
        if norm_v == 0:
            redundant.append(j)
            continue
        r = v - basis @ (basis.T @ v) if basis.shape[1] else v
        if np.linalg.norm(r) <= tol * norm_v * max(1.0, np.sqrt(Xc.shape[0])) or np.linalg.norm(r) / norm_v < 1e-6:
            redundant.append(j)
            continue
        basis = np.column_stack([basis, r / np.linalg.norm(r)])
        kept.append(j)
    return redundant


def check_design(
    X: np.ndarray, terms: list[dict[str, Any]], covariates: list[str], *, n_events: int, min_events: int
) -> None:
    """Enough events per term, no constant and no collinear terms."""
    k = X.shape[1]
    if n_events < min_events * k:
        raise AnalysisError(
            f"cox_model: {n_events:,} events for {k} model terms from covariates {', '.join(covariates)}; need "
            f"min_events={min_events} events per term ({min_events * k:,}). Drop some covariates "
            f"(categorical ones cost one term per level) or lower min_events"
        )
    const = X.std(axis=0) == 0
    if const.any():
        names = [terms[j]["term"] for j in np.flatnonzero(const)]
        raise AnalysisError(f"cox_model: term(s) {', '.join(names)} are constant; drop them from covariates=")
    redundant = collinear_terms(X)
    if redundant:
        names = [terms[j]["term"] for j in redundant]
        raise AnalysisError(
            f"cox_model: term(s) {', '.join(names)} are exact combinations of other terms (collinear covariates, e.g. "
            "'No internet service' levels repeated across service columns); drop one of the overlapping covariates "
            f"from covariates= ({', '.join(covariates)})"
        )


def fit_phreg(
    time: np.ndarray,
    X: np.ndarray,
    ev: np.ndarray,
    strata: np.ndarray | None,
    terms: list[dict[str, Any]],
    *,
    confidence: float,
) -> tuple[Any, pd.DataFrame]:
    """Fit ``PHReg`` (Efron ties); the fit and its term table with hazard ratios and Holm p-values."""
    from scipy.stats import norm
    from statsmodels.duration.hazard_regression import PHReg

    model = PHReg(time, X, status=ev, strata=strata, ties="efron")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit()
    params = np.asarray(res.params, dtype="float64")
    bse = np.asarray(res.bse, dtype="float64")
    if not (np.isfinite(params).all() and np.isfinite(bse).all()) or (np.abs(params) > 15).any():
        worst = terms[int(np.nanargmax(np.abs(np.nan_to_num(params, nan=np.inf))))]["term"]
        raise AnalysisError(
            f"cox_model: the fit did not converge (term {worst!r} diverges, a sign of separation or collinearity); "
            "drop or merge that covariate in covariates="
        )
    z = norm.ppf(1 - (1 - confidence) / 2)
    pvals = 2 * norm.sf(np.abs(params / bse))
    out = pd.DataFrame(terms)
    out["coef"] = params
    out["se"] = bse
    out["hr"] = np.exp(params)
    out["hr_lower"] = np.exp(params - z * bse)
    out["hr_upper"] = np.exp(params + z * bse)
    out["p"] = pvals
    out["p_holm"] = holm(pvals)
    cols = ["term", "covariate", "level", "reference", "coef", "se", "hr", "hr_lower", "hr_upper", "p", "p_holm", "per"]
    return res, out[cols]


def ph_test(res: Any, time: np.ndarray, event: np.ndarray, terms: list[dict[str, Any]]) -> pd.DataFrame:
    """Correlation of Schoenfeld residuals with the rank of event time, per term; worst term per covariate."""
    from scipy.stats import pearsonr, rankdata

    sr = np.asarray(res.schoenfeld_residuals)
    m = (event == 1) & np.isfinite(sr).all(axis=1)
    rows = []
    if m.sum() < 3:
        return pd.DataFrame(columns=["covariate", "terms", "rho", "p", "p_holm", "violated"])
    rt = rankdata(time[m])
    for j, term in enumerate(terms):
        x = sr[m, j]
        if np.nanstd(x) == 0:
            r, p = 0.0, 1.0
        else:
            r, p = pearsonr(rt, x)
        rows.append({"covariate": term["covariate"], "term": term["term"], "rho": float(r), "p": float(p)})
    per_term = pd.DataFrame(rows)
    g = per_term.groupby("covariate", sort=False)
    out = pd.DataFrame(
        {
            "terms": g["term"].apply(lambda s: ", ".join(s)),
            "rho": g["rho"].apply(lambda s: float(s.iloc[np.argmax(np.abs(s.to_numpy()))])),
            # Bonferroni within a covariate's dummies, then Holm across covariates
            "p": g["p"].apply(lambda s: float(min(1.0, s.min() * len(s)))),
        }
    ).reset_index()
    out["p_holm"] = holm(out["p"])
    return out
