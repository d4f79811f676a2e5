"""Per-customer reasons of a propensity score and the logistic odds-ratio table.

:func:`top_contributions` gives, for each row, the features that raise its log-odds most above
the average training customer (``coef * (x - mean)`` summed over a feature's design columns);
each analysis words them in its own catalog. :func:`odds_table` lists the logistic model's odds
ratios with Wald intervals (sandwich standard errors) and Holm-adjusted p-values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.modeling.propensity.common import short_number
from workbench.stats import holm

__all__ = ["odds_table", "top_contributions"]


def top_contributions(scorer: Any, X: np.ndarray, *, n: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The ``n`` largest feature contributions of each row of a design matrix.

    A factor's contribution is ``coef * (x - reference)`` on the logistic model's log-odds scale,
    the reference being the average training customer (mean of each design column), so a row's
    contributions add up to its log-odds minus the log-odds at the average; the contributions of
    one feature (its levels, its missing-indicator) are summed.

    Parameters
    ----------
    scorer : PropensityScorer
        Fitted.
    X : numpy.ndarray
        Rows encoded with ``scorer.design_``.
    n : int
        Contributions per row.

    Returns
    -------
    (features, top, values)
        Feature names; per row the positions (into ``features``) of its ``min(n, features)``
        largest contributions, largest first; and those contributions.
    """
    d = scorer.design_
    coef = scorer.logistic_.coef_[0]
    contrib_cols = (X - scorer.x_mean_) * coef
    feats = list(dict.fromkeys(d.groups))
    gidx = np.array([feats.index(g) for g in d.groups])
    G = np.zeros((len(X), len(feats)))
    np.add.at(G.T, gidx, contrib_cols.T)
    k = min(n, len(feats))
    top = np.argsort(-G, axis=1, kind="stable")[:, :k]
    return feats, top, np.take_along_axis(G, top, axis=1)


def odds_table(scorer: Any) -> pd.DataFrame:
    """Odds ratios of the fitted scorer's logistic model with 95 % Wald intervals.

    Numeric features: odds ratio per one training standard deviation (``per`` = ``+1 SD (sd)``);
    0/1 features ``yes vs no``; missing-indicators ``missing vs present``; levels ``vs <reference>``.
    p-values are Wald tests on the sandwich covariance, Holm adjusted over all terms.

    Returns
    -------
    pandas.DataFrame
        ``term``, ``feature``, ``per``, ``coef``, ``std_err``, ``odds_ratio``, ``ci_low``,
        ``ci_high``, ``p_value``, ``p_holm``; largest odds ratio first.
    """
    from scipy.stats import norm

    design = scorer.design_
    coef, cov = scorer.logistic_.coef_[0], scorer.coef_cov_

    se = np.sqrt(np.clip(np.diag(cov)[1:], 0, None))
    z = norm.ppf(0.975)
    pers = []
    for col, grp in zip(design.columns, design.groups, strict=True):
        if col == grp and grp in design.spec.boolean:
            pers.append("yes vs no")
        elif col == grp:
            pers.append(f"+1 SD ({short_number(design.sds[grp])})")
        elif col.endswith(" (missing)"):
            pers.append("missing vs present")
        else:
            pers.append(f"vs {design.reference[grp]}")
    with np.errstate(divide="ignore", invalid="ignore"):
        pv = 2 * norm.sf(np.abs(coef / se))
    out = pd.DataFrame(
        {
            "term": list(design.columns),
            "feature": list(design.groups),
            "per": pers,
            "coef": coef,
            "std_err": se,
            "odds_ratio": np.exp(coef),
            "ci_low": np.exp(coef - z * se),
            "ci_high": np.exp(coef + z * se),
            "p_value": pv,
        }
    )
    out["p_holm"] = holm(out["p_value"].to_numpy())
    return out.sort_values("odds_ratio", ascending=False, kind="stable").reset_index(drop=True)
