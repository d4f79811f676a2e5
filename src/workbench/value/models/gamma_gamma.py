"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005b): likelihood, model, CLV sum and simulator."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.report import fmt
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.value.models.base import (
    _check_repeat,
    _FittedModel,
    _grouped,
    _index_of,
    _params,
    _summary_columns,
    _TransactionModel,
    _wrap,
)
from workbench.value.summary import TIME_UNITS, TimeUnit, _unit_days

__all__ = ["GammaGammaModel", "simulate_gamma_gamma"]


# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GGData:
    """Repeat customers' (x, m) with per-distinct-x weights and the parameter-free sums."""

    x: np.ndarray
    m: np.ndarray
    xs: np.ndarray
    ix: np.ndarray
    wx: np.ndarray  # customers per distinct x
    n: float
    sum_x_logm: float  # sum x log m
    sum_logm: float  # sum log m
    sum_x_logx: float  # sum x log x

    @classmethod
    def build(cls, x: np.ndarray, m: np.ndarray) -> _GGData:
        xs, ix = _grouped(x)
        lm = np.log(m)
        return cls(x, m, xs, ix, np.bincount(ix).astype("float64"), float(len(x)), float(np.dot(x, lm)),
                   float(lm.sum()), float(np.dot(x, np.log(x))))


def _gg_ll_terms(theta: np.ndarray, data: _GGData, grad: bool) -> tuple[float, np.ndarray | None]:
    """Total Gamma-Gamma log-likelihood of the mean spends and its gradient in log-parameters.

    Per customer ``lnG(px+q) - lnG(px) - lnG(q) + q ln v + (px-1) ln m + px ln x - (px+q) ln(xm+v)``
    (Fader, Hardie & Lee 2005b; Hardie's note 025); gamma functions once per distinct ``x``.
    """
    p, q, v = np.exp(theta)
    xs, wx, x = data.xs, data.wx, data.x
    pxs = p * xs
    lxmv = np.log(x * data.m + v)
    pxq = p * x + q
    f = float(np.dot(wx, gammaln(pxs + q) - gammaln(pxs)) - data.n * gammaln(q) + data.n * q * np.log(v)
              + p * data.sum_x_logm - data.sum_logm + p * data.sum_x_logx - np.dot(pxq, lxmv))
    if not grad:
        return f, None
    dig = digamma(pxs + q)
    dp = float(np.dot(wx * xs, dig - digamma(pxs)) + data.sum_x_logm + data.sum_x_logx - np.dot(x, lxmv))
    dq = float(np.dot(wx, dig) - data.n * digamma(q) + data.n * np.log(v) - lxmv.sum())
    dv = float(data.n * q / v - np.sum(pxq / (x * data.m + v)))
    return f, np.array([dp * p, dq * q, dv * v])


@dataclass(eq=False, repr=False, kw_only=True)
class GammaGammaModel(_FittedModel):
    """Gamma-Gamma model of the average spend per purchase (Fader, Hardie & Lee 2005b).

    Each purchase of a customer is ``Gamma(p, nu)``; ``nu ~ Gamma(q, v)`` across customers. The
    model assumes spend is independent of purchase frequency (see :func:`independence_check`).

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase and a positive ``monetary_value`` needed.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, analytic gradient).
    initial_params : mapping, optional
        Starting values ``{"p", "q", "v"}``.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``v``.
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_, n_iter_
        As in :class:`BetaGeoModel`.
    n_customers_ : int
        Customers used (``frequency > 0`` and ``monetary_value > 0``).
    n_excluded_ : int
        Repeat customers left out because their ``monetary_value`` is not positive.
    """

    _param_names = ("p", "q", "v")
    _label = "Gamma-Gamma"

    def finding(self) -> str:
        """The fit in words, with the population mean spend per purchase."""
        if not hasattr(self, "params_"):
            return self._fit_finding()
        p, q, v = (self.params_[k] for k in self._param_names)
        mean = fmt.money(v * p / (q - 1), 2) if q > 1 else t("value.model.mean_undefined")
        return t("value.model.gamma_gamma", fit=self._fit_finding(), mean=mean)

    def fit(self, summary: pd.DataFrame) -> Self:
        """Fit on the customers with a repeat purchase and a positive ``monetary_value``.

        Parameters
        ----------
        summary : pandas.DataFrame
            With ``frequency`` and ``monetary_value`` (see :func:`rfm_summary`).

        Returns
        -------
        self

        Raises
        ------
        AnalysisError
            Missing columns; fewer than ``min_repeat_customers`` usable customers.

        Warns
        -----
        StatisticalWarning
            Not converged; ``q <= 1`` (the population mean spend is infinite and
            :meth:`conditional_expected_average_profit` meaningless).
        """
        what = f"{self._label} fit"
        _summary_columns(summary, ["frequency", "monetary_value"], what)
        x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
        m = summary["monetary_value"].to_numpy(dtype="float64", na_value=np.nan)
        use = (x > 0) & np.isfinite(m) & (m > 0)
        _check_repeat(np.where(use, x, 0.0), summary, self.min_repeat_customers, what)
        self.n_customers_ = int(use.sum())
        self.n_repeat_customers_ = int(use.sum())
        self.n_excluded_ = int(((x > 0) & ~use).sum())
        info = dict(summary.attrs.get("rfm", {})) if hasattr(summary, "attrs") else {}
        self.rfm_info_ = info
        self.time_unit_ = info.get("time_unit")
        self._optimize(_GGData.build(x[use], m[use]), int(use.sum()))
        if self.params_["q"] <= 1:
            warnings.warn(
                t("value.model.gamma_q", q=f"{self.params_['q']:.3g}"),
                StatisticalWarning,
                stacklevel=2,
            )
        return self

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        return -_gg_ll_terms(theta, data, grad=False)[0]

    def _nll_grad(self, theta: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
        f, g = _gg_ll_terms(theta, data, grad=True)
        return -f, -g

    def _start(self, data: Any) -> np.ndarray:
        return np.array([0.0, np.log(2.0), np.log(float(np.mean(data.m)))])

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        out = super().metrics()
        out["n_excluded_nonpositive_monetary"] = int(self.n_excluded_)
        p, q, v = (self.params_[k] for k in self._param_names)
        out["population_mean_spend"] = float(v * p / (q - 1)) if q > 1 else None
        return out

    def conditional_expected_average_profit(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected spend per future purchase given a customer's repeat purchases and mean spend.

        A weighted average of the customer's own mean and the population mean
        ``v p / (q - 1)``; customers without a repeat purchase get the population mean.

        Parameters
        ----------
        frequency, monetary_value : array-like

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        self._check_fitted()
        index = _index_of(frequency, monetary_value)
        x, m = np.broadcast_arrays(np.asarray(frequency, dtype="float64"), np.asarray(monetary_value, dtype="float64"))
        p, q, v = (self.params_[k] for k in self._param_names)
        wgt = p * x / (p * x + q - 1)
        pop = v * p / (q - 1)
        out = (1 - wgt) * pop + wgt * np.where(x > 0, m, 0.0)
        return _wrap(out, index, "expected_average_profit")

    def customer_lifetime_value(
        self,
        transaction_model: _TransactionModel,
        frequency: Any,
        recency: Any,
        T: Any,
        monetary_value: Any,
        *,
        time: int = 12,
        discount_rate: float = 0.10,
        time_unit: TimeUnit | None = None,
        margin: float = 1.0,
        periods_per_month: float | None = None,
    ) -> Any:
        """Discounted expected value of each customer's purchases over the next ``time`` months.

        ``CLV = sum_{i=1..time} margin * E[spend] * (E[X(i f)] - E[X((i-1) f)]) / (1 + d)^i``
        where ``E[X(t)]`` is the transaction model's conditional expected purchases, ``f`` the
        time units per month and ``d = (1 + discount_rate)^(1/12) - 1`` the monthly rate (the
        ``lifetimes`` sum, which takes a monthly rate and 4.345 weeks per month).

        Parameters
        ----------
        transaction_model : BetaGeoModel or ParetoNBDModel
            Fitted purchase model.
        frequency, recency, T, monetary_value : array-like
            Customer histories (see :func:`rfm_summary`).
        time : int, default 12
            Horizon in months.
        discount_rate : float, default 0.10
            Annual discount rate (analyses.segmentation.clv.discount_rate).
        time_unit : {"days", "weeks", "months"}, optional
            Unit of ``recency`` / ``T``; default the transaction model's.
        margin : float, default 1.0
            Share of spend that is profit (analyses.segmentation.clv.margin); 1 gives revenue.
        periods_per_month : float, optional
            Time units per month; default from ``time_unit`` (weeks: 365.25 / 12 / 7 = 4.348).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            One value per customer.
        """
        self._check_fitted()
        if not isinstance(transaction_model, _TransactionModel):
            raise AnalysisError("customer_lifetime_value: transaction_model must be a fitted BetaGeoModel or ParetoNBDModel")
        transaction_model._check_fitted()
        if not (0 <= discount_rate < 1):
            raise AnalysisError(f"discount_rate must be in [0, 1), got {discount_rate}; fix discount_rate=")
        if not (0 < margin <= 1):
            raise AnalysisError(f"margin must be in (0, 1], got {margin}; fix margin=")
        if int(time) != time or time < 1:
            raise AnalysisError(f"time must be a whole number of months >= 1, got {time}")
        unit = time_unit or transaction_model.time_unit_ or "weeks"
        f = periods_per_month if periods_per_month is not None else TIME_UNITS["months"] / _unit_days(unit)
        index = _index_of(frequency, recency, T, monetary_value)
        x, tx, TT, m = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T, monetary_value)))
        spend = np.asarray(self.conditional_expected_average_profit(x, m), dtype="float64")
        monthly = (1 + discount_rate) ** (1 / 12) - 1
        clv = np.zeros(np.broadcast(x).shape)
        prev = np.zeros_like(clv)
        for i in range(1, int(time) + 1):
            cur = transaction_model._conditional(np.full_like(x, i * f), x, tx, TT)
            clv = clv + margin * spend * (cur - prev) / (1 + monthly) ** i
            prev = cur
        return _wrap(clv, index, "clv")

    def _density(self, grid: np.ndarray, x: np.ndarray) -> np.ndarray:
        theta = np.log([self.params_[k] for k in self._param_names])
        xx, gg = np.meshgrid(x, grid)
        p, q, v = np.exp(theta)
        px = p * xx
        lpdf = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(gg)
                + px * np.log(xx) - (px + q) * np.log(xx * gg + v))
        return np.exp(lpdf).mean(axis=1)

    def plot(self, ax: Any = None, *, summary: pd.DataFrame | None = None) -> Any:
        """Density of the average spend of repeat customers: observed (with ``summary``) and
        implied by the model (averaged over the fitted customers' frequencies).
        """
        self._check_fitted()
        ax = new_axes(ax, figsize=(7, 4))
        p, q, v = (self.params_[k] for k in self._param_names)
        if summary is not None:
            x = summary["frequency"].to_numpy(dtype="float64")
            m = summary["monetary_value"].to_numpy(dtype="float64")
            use = (x > 0) & (m > 0)
            x, m = x[use], m[use]
            hi = float(np.quantile(m, 0.99))
            ax.hist(m[m <= hi], bins=60, density=True, alpha=0.5, label=t("value.model.observed"))
        else:
            x = np.array([1.0, 2.0, 4.0])
            hi = float(v * p / max(q - 1, 0.5) * 4)
        grid = np.linspace(hi / 400, hi, 300)
        sample = x if len(x) <= 2000 else np.random.default_rng(0).choice(x, 2000, replace=False)
        ax.plot(grid, self._density(grid, sample), label="Gamma-Gamma")
        ax.set_xlabel(t("value.model.spend_x"))
        ax.set_ylabel(t("value.model.spend_y"))
        ax.set_title(t("value.model.spend_title"))
        ax.legend()
        return ax


# --------------------------------------------------------------------------------------------

def simulate_gamma_gamma(n: int, params: Mapping[str, float] | Sequence[float], *, frequency: Any,
                         random_state: int | None = None) -> pd.DataFrame:
    """Draw average spends from the Gamma-Gamma model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``p, q, v``.
    frequency : int or array-like of length n
        Repeat purchases averaged per customer (>= 1).
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``monetary_value`` and the truth ``nu`` (scale of the customer's spend) and
        ``mean_spend`` (``p / nu``); index ``customer_id`` 0..n-1.
    """
    p, q, v = _params(params, ("p", "q", "v"), "simulate_gamma_gamma")
    rng = np.random.default_rng(random_state)
    x = np.broadcast_to(np.asarray(frequency, dtype="int64"), (n,)).copy()
    if (x < 1).any():
        raise AnalysisError("simulate_gamma_gamma: frequency must be >= 1")
    nu = rng.gamma(q, 1.0 / v, n)
    total = rng.gamma(p * x, 1.0 / nu)
    return pd.DataFrame(
        {"frequency": x, "monetary_value": total / x, "nu": nu, "mean_spend": p / nu},
        index=pd.RangeIndex(n, name="customer_id"),
    )


