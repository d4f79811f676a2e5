"""The BTYD models period by period, and draws from their estimates' sampling distribution.

* :func:`expected_repeat_by_period` - unconditional expected repeat transactions per calendar
  period of customers entering at their first purchase day (the tracking curve differenced; as
  ``lifetimes``' ``expected_cumulative_transactions``).
* :func:`conditional_repeat_by_period` - per customer, the expected repeat transactions in each
  future period given their history (``E[X(t_k) | history] - E[X(t_{k-1}) | history]``).
* :func:`parameter_draws` - parameter vectors drawn from the asymptotic sampling distribution of
  the maximum-likelihood estimates (normal in log-parameters, covariance the inverse Hessian).
* :func:`with_params` - a copy of a fitted model with other parameter values (for the draws).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.value.models.base import _FittedModel, _rfm_arrays, _TransactionModel
from workbench.value.summary import TIME_UNITS

__all__ = ["expected_repeat_by_period", "conditional_repeat_by_period", "parameter_draws", "with_params"]

M = TypeVar("M", bound=_FittedModel)


def _days(values: Any) -> np.ndarray:
    """Day numbers (days since 1970-01-01, float) of date-likes."""
    idx = pd.DatetimeIndex(values)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    return idx.normalize().to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype("int64").astype("float64")


def _unit(model: _TransactionModel) -> float:
    return TIME_UNITS[model.time_unit_ or "weeks"]


def expected_repeat_by_period(model: _TransactionModel, first_purchase: Any, edges: Any) -> np.ndarray:
    """Expected repeat transactions per period of every customer from their first purchase day.

    A customer whose first purchase is on day ``c`` contributes ``E[X((e - c) / unit)]`` at edge
    ``e`` (0 before ``c``); period ``k`` gets the difference between edges ``k`` and ``k + 1``.
    Cohorts are counted by day, so the cost grows with distinct first-purchase days, not
    customers.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted; its time unit (from the summary) converts days.
    first_purchase : array-like of date-like
        One first-purchase day per customer.
    edges : array-like of date-like
        Period boundaries (``K + 1`` of them for ``K`` periods; each period is
        ``[edges[k], edges[k+1])``, days).

    Returns
    -------
    numpy.ndarray
        ``K`` expected repeat transactions.
    """
    model._check_fitted()
    cohort, n = np.unique(_days(first_purchase), return_counts=True)
    e = _days(edges)
    if len(e) < 2:
        raise AnalysisError("expected_repeat_by_period: give at least two period edges")
    elapsed = (e[:, None] - cohort[None, :]) / _unit(model)
    cum = np.asarray(model.expected_purchases_new(np.maximum(elapsed, 0.0))) * (elapsed > 0)
    return np.diff(cum @ n.astype("float64"))


def conditional_repeat_by_period(model: _TransactionModel, summary: pd.DataFrame, offsets: Any) -> np.ndarray:
    """Expected repeat transactions per customer and future period, given each history.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted on ``summary`` (or on a summary with the same time unit).
    summary : pandas.DataFrame
        From :func:`rfm_summary` at the forecast origin (``frequency``, ``recency``, ``T``).
    offsets : array-like of float
        Ends of the future periods after the origin, in the model's time unit, increasing
        (``[1, 2, ..., H]`` for weeks of a weekly model; month ends in weeks for monthly periods).

    Returns
    -------
    numpy.ndarray
        ``(n_customers, H)``: expected repeat transactions of each customer in each period.
        Computed once per distinct (frequency, recency, T) pattern.
    """
    model._check_fitted()
    x, tx, T = _rfm_arrays(summary, "conditional_repeat_by_period")
    t = np.asarray(offsets, dtype="float64")
    if t.ndim != 1 or len(t) == 0 or np.any(np.diff(t) <= 0) or t[0] <= 0:
        raise AnalysisError("conditional_repeat_by_period: offsets must be positive and increasing")
    pats, idx = np.unique(np.stack([x, tx, T], axis=1), axis=0, return_inverse=True)
    ux, utx, uT = (pats[:, j : j + 1] for j in range(3))
    cum = model._conditional(t[None, :], ux, utx, uT)
    per = np.diff(np.concatenate([np.zeros((len(pats), 1)), cum], axis=1), axis=1)
    return per[idx.ravel()]


def parameter_draws(model: _FittedModel, n_draws: int, *, random_state: int | None = 0) -> np.ndarray:
    """Parameter vectors from the sampling distribution of a fitted model's estimates.

    Draws ``log(theta) ~ Normal(log(theta_hat), H^-1)`` with ``H`` the Hessian of the negative
    log-likelihood in log-parameters (the same one the standard errors come from), so every
    draw is positive.

    Parameters
    ----------
    model : fitted BTYD or Gamma-Gamma model
    n_draws : int
    random_state : int, optional

    Returns
    -------
    numpy.ndarray
        ``(n_draws, n_params)`` on the natural scale, columns in the model's parameter order;
        every row the estimate when the Hessian is not positive definite (no uncertainty known:
        the fit already warned).
    """
    model._check_fitted()
    names = model._param_names
    theta = np.log([model.params_[p] for p in names])
    rng = np.random.default_rng(random_state)
    try:
        cov = np.linalg.inv(model.hessian_log_)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.exp(np.tile(theta, (n_draws, 1)))
    return np.exp(rng.multivariate_normal(theta, cov, size=n_draws, method="cholesky"))


def with_params(model: M, params: Mapping[str, float] | np.ndarray) -> M:
    """A shallow copy of a fitted model with other parameter values (its options and fit
    diagnostics unchanged).

    Parameters
    ----------
    model : fitted model
    params : mapping or array in the model's parameter order
    """
    model._check_fitted()
    names = model._param_names
    values = [float(params[p]) for p in names] if isinstance(params, Mapping) else [float(v) for v in params]
    out = copy.copy(model)
    out.params_ = dict(zip(names, values, strict=True))
    return out
