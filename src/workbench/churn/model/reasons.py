"""Per-customer churn reasons in words: :func:`churn_reasons` (section 4 of the churn model)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.churn._common import level_text
from workbench.churn.model._common import (
    MODEL_NAMES,
    cat_col,
    nice,
    numeric_col,
    short_number,
    short_numbers,
)
from workbench.churn.model.models import ChurnModels
from workbench.churn.model.scorer import ChurnScorer
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.modeling.propensity.reasons import top_contributions
from workbench.report.i18n import t

__all__ = ["REASON_PHRASES", "churn_reasons"]

#: Numeric features with their own wording in reasons (``churn.reason.phrase.<column>.high`` /
#: ``.low`` in the catalog, ``{v}`` the customer's value); other columns read
#: "<column> <value> (high|low; average <mean>)".
REASON_PHRASES: tuple[str, ...] = (
    "recency_days", "tenure_months", "tenure_days", "n_orders", "frequency", "monetary_sum", "monetary_mean",
    "monthly_charges", "total_charges", "n_refunds", "gap_mean_days", "age", "n_complaints", "n_purchase_days",
    "btyd_frequency", "btyd_recency_days", "btyd_T_days", "clv",
)  # fmt: skip


def reason_phrases() -> dict[str, tuple[str, str]]:
    """Column -> (text when high, text when low) of :data:`REASON_PHRASES` in the run's language."""
    key = "churn.reason.phrase.{}.{}"
    return {c: (t(key.format(c, "high"), v="{v}"), t(key.format(c, "low"), v="{v}")) for c in REASON_PHRASES}


def churn_reasons(
    models: ChurnModels,
    frame: pd.DataFrame,
    *,
    n: int = 3,
    model: str = "logistic",
    phrases: Mapping[str, tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """P(churn) and the top factors raising each customer's risk, in words.

    A factor's contribution is ``coef * (x - reference)`` on the logistic model's log-odds
    scale, the reference being the average training customer (mean of each design column:
    standardized numeric value, level share, missing share); the contributions of one feature
    (its levels, its missing-indicator) are summed, so "plan: Month-to-month" is a reason when
    that level carries more risk than the average mix of plans. The ``n`` largest positive
    contributions are the reasons; a customer with fewer factors above the average gets
    empty reasons.

    Parameters
    ----------
    models : ChurnModels
        From :func:`fit_churn_models`.
    frame : pandas.DataFrame
        Customers to score (id column and features; not modified).
    n : int, default 3
        Reasons per customer (``analyses.churn.model.n_reasons``).
    model : {'logistic', 'hgb'}, default 'logistic'
        Model giving ``p_churn`` (the reasons always come from the logistic model).
    phrases : mapping, optional
        Extra wording: column -> (text when high, text when low), ``{v}`` for the value.

    Returns
    -------
    pandas.DataFrame
        One row per customer, highest risk first: ``customer_id``, ``p_churn``,
        ``reason_1`` ... ``reason_n`` (text or missing), ``log_odds_1`` ... (contribution).

    Raises
    ------
    AnalysisError
        Unknown ``model``, ``n`` < 1, or feature columns missing in ``frame``.
    """
    if model not in MODEL_NAMES:
        raise AnalysisError(
            f"churn_reasons: model={model!r} must be one of {', '.join(MODEL_NAMES)}{did_you_mean(model, MODEL_NAMES)}"
        )
    if n < 1:
        raise AnalysisError(f"n={n}: churn_reasons needs at least 1 reason per customer (model.n_reasons=)")
    scorer = models.estimator
    d = scorer.design_
    idc = scorer.spec_.id_column
    if idc not in frame.columns:
        raise AnalysisError(f"churn scoring frame ({len(frame):,} rows) has no key column {idc!r}")
    p = scorer.predict_proba(frame, model=model)[:, 1]
    X = d.transform(frame, what="scoring frame", warn_unseen=False)
    feats, top, vals = top_contributions(scorer, X, n=n)
    k = top.shape[1]
    words = {**reason_phrases(), **(phrases or {})}
    out = pd.DataFrame({"customer_id": frame[idc].to_numpy(), "p_churn": p}, index=frame.index)
    for r in range(n):
        txt = pd.Series(pd.NA, index=frame.index, dtype="string")
        lo = np.full(len(frame), np.nan)
        if r < k:
            pos = vals[:, r] > 1e-9
            for fi, feat in enumerate(feats):
                mask = pos & (top[:, r] == fi)
                if mask.any():
                    txt[mask] = _reason_text(scorer, frame.loc[mask], feat, words).to_numpy()
            lo = np.where(pos, vals[:, r], np.nan)
        out[f"reason_{r + 1}"] = txt
        out[f"log_odds_{r + 1}"] = lo
    out = out.sort_values("p_churn", ascending=False, kind="stable")
    return out.reset_index(drop=True)


def _reason_text(scorer: ChurnScorer, rows: pd.DataFrame, feat: str, words: Mapping[str, tuple[str, str]]) -> pd.Series:
    """The reason ``feat`` in words for each of ``rows`` (value, and high or low vs the average)."""
    d = scorer.design_
    spec = scorer.spec_
    if feat in spec.categorical:
        levels = cat_col(rows, feat)
        shown = {v: t("churn.reason.level", feature=nice(feat), level=level_text(v)) for v in levels.unique()}
        return levels.map(shown)
    v = pd.Series(numeric_col(rows, feat), index=rows.index)
    j = d.columns.index(feat)
    med = float(scorer.x_mean_[j] * d.sds[feat] + d.means[feat])  # training mean (imputed values)
    out = pd.Series("", index=rows.index, dtype=object)
    isna = v.isna()
    if isna.any():
        out[isna] = t("churn.reason.unknown", feature=nice(feat))
    ok = ~isna
    if not ok.any():
        return out
    vv = v[ok]
    if feat in spec.boolean:
        out[ok] = np.where(vv > 0.5, t("churn.reason.yes", feature=nice(feat)), t("churn.reason.no", feature=nice(feat)))
        return out
    high = (vv > med).to_numpy()
    txt = short_numbers(vv)
    if feat in words:
        hi_t, lo_t = words[feat]
    else:
        hi_t, lo_t = (t(f"churn.reason.{way}", feature=nice(feat), v="{v}", average=short_number(med))
                      for way in ("high", "low"))
    hi_parts = hi_t.split("{v}")
    lo_parts = lo_t.split("{v}")
    res = np.where(high, hi_parts[0] + txt + (hi_parts[1] if len(hi_parts) > 1 else ""),
                   lo_parts[0] + txt + (lo_parts[1] if len(lo_parts) > 1 else ""))
    out[ok] = res
    return out
