"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987): likelihood, model and
simulator.

The Pareto/NBD likelihood needs ``2F1(k, b; k + 1; z)`` (Fader & Hardie 2005, note 009). Written
directly, that function overflows for long histories (``b = r + x`` with ``x`` in the hundreds),
the difference of two such terms cancels, and scipy's ``hyp2f1`` returns NaN for large ``k``
with ``z`` near 1 - why ``lifetimes`` returns NaN for, e.g., 300 purchases in the first 10 of
5,000 weeks. Here it is evaluated through Euler's transformation ``2F1(k, b; k+1; z) =
(1-z)^(1-b) 2F1(1, k+1-b; k+1; z)``, whose second factor lies in ``[1, 1/(1-z)]``, and the
difference in log space with ``expm1``; where scipy still fails (NaN or a value outside that
range) the integral behind it is computed by composite Gauss-Legendre quadrature on panels over
which the integrand falls by at most ``e^2``. Both routes agree with adaptive quadrature to
1e-10 in log; the log-likelihood stays finite for any history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln, hyp2f1

from workbench.report.i18n import t
from workbench.value.models.base import _grouped, _params, _patterns, _T_array, _TransactionModel

__all__ = ["ParetoNBDModel", "simulate_pareto_nbd"]


# Pareto/NBD
# --------------------------------------------------------------------------------------------


def _pnbd_log_g(r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log G(t)``, ``G(t) = integral_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    ``G(t) = 2F1(k, b; k+1; z) / (k (m+t)^k)`` with ``k = r+s+x``, ``m = max(alpha, beta)``,
    ``z = |alpha-beta| / (m+t)`` and ``b = s+1`` (alpha >= beta) or ``r+x`` (alpha < beta);
    Euler's transformation ``2F1(k, b; k+1; z) = (1-z)^(1-b) 2F1(1, k+1-b; k+1; z)`` leaves a
    factor in ``[1, 1/(1-z)]`` and puts the large power in log space.
    """
    k = r + s + x
    if alpha >= beta:
        m, mn, bb = alpha, beta, np.full_like(x, s + 1.0)
    else:
        m, mn, bb = beta, alpha, r + x
    z = (m - mn) / (m + t)
    log1mz = np.log(mn + t) - np.log(m + t)
    with np.errstate(invalid="ignore", over="ignore"):
        h = hyp2f1(1.0, k + 1.0 - bb, k + 1.0, z)
        # 1 <= h <= 1/(1-z); scipy returns NaN for large k with z near 1: flag for quadrature
        bad = ~np.isfinite(h) | (h < 1.0 - 1e-12) | (np.log(np.maximum(h, 1e-300)) > -log1mz + 1e-12)
    out = (1.0 - bb) * log1mz + np.log(np.where(bad, 1.0, h)) - np.log(k) - k * np.log(m + t)
    return np.where(bad, np.nan, out)


_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(12)


def _pnbd_log_integral_quad(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
                            T: np.ndarray, *, max_panels: int = 200) -> np.ndarray:
    """``log integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` by composite Gauss-Legendre.

    The log-integrand is convex and decreasing; each panel starts at ``u`` and is
    ``2 / |d log f / du|(u)`` wide, so the integrand falls by at most ``e^2`` across it and 12
    nodes integrate it to machine precision. Panels march until ``T`` or until the integrand has
    fallen below ``e^-50`` of its start. The fallback where the hypergeometric route fails.
    """
    a1 = (r + x)[:, None]
    l0 = -(r + x) * np.log(alpha + tx) - (s + 1) * np.log(beta + tx)
    u = tx.astype("float64").copy()
    total = np.zeros(len(x))
    for _ in range(max_panels):
        rate = (r + x) / (alpha + u) + (s + 1) / (beta + u)
        width = np.minimum(2.0 / rate, T - u)
        live = width > 0
        if not live.any():
            break
        nodes = u[:, None] + (_GL_NODES[None, :] + 1.0) * 0.5 * width[:, None]
        logf = -a1 * np.log(alpha + nodes) - (s + 1) * np.log(beta + nodes) - l0[:, None]
        total += np.where(live, np.exp(logf) @ _GL_WEIGHTS * 0.5 * width, 0.0)
        u = u + np.maximum(width, 0.0)
        end = -(r + x) * np.log(alpha + u) - (s + 1) * np.log(beta + u) - l0
        u = np.where(end < -50.0, T, u)
    with np.errstate(divide="ignore"):
        return l0 + np.log(total)


def _pnbd_fix(log_i: np.ndarray, r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
              T: np.ndarray) -> np.ndarray:
    """Replace the entries the hypergeometric route could not evaluate by quadrature."""
    bad = np.isnan(log_i)
    if bad.any():
        log_i = log_i.copy()
        log_i[bad] = _pnbd_log_integral_quad(r, alpha, s, beta, x[bad], tx[bad], T[bad])
    return log_i


def _log_diff(g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
    """``log(exp(g1) - exp(g2))`` for ``g2 <= g1`` (-inf when equal)."""
    with np.errstate(divide="ignore"):
        return g1 + np.log(-np.expm1(np.minimum(g2 - g1, 0.0)))


def _pnbd_log_integral(r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray,
                       T: np.ndarray) -> np.ndarray:
    """``log integral_{t_x}^{T} (alpha+u)^-(r+x) (beta+u)^-(s+1) du`` = ``log(G(t_x) - G(T))``
    (-inf when ``t_x == T``); see :func:`_pnbd_log_g`.
    """
    x, tx, T = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype="float64")) for v in (x, tx, T)))
    log_i = _log_diff(_pnbd_log_g(r, alpha, s, beta, x, tx), _pnbd_log_g(r, alpha, s, beta, x, T))
    return _pnbd_fix(log_i, r, alpha, s, beta, x, tx, T)


@dataclass(frozen=True)
class _PNBDData:
    """Distinct patterns with lookups of their distinct (x, t_x) and (x, T) pairs."""

    x: np.ndarray
    tx: np.ndarray
    w: np.ndarray
    xs: np.ndarray
    wx: np.ndarray
    a_x: np.ndarray  # distinct (x, t_x) pairs
    a_t: np.ndarray
    ia: np.ndarray
    b_x: np.ndarray  # distinct (x, T) pairs
    b_t: np.ndarray
    ib: np.ndarray
    uT: np.ndarray
    iT: np.ndarray

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> _PNBDData:
        (x, tx, T), w = _patterns(x, tx, T)
        xs, ix = _grouped(x)
        a_x, a_t, ia = _pairs(x, tx)
        b_x, b_t, ib = _pairs(x, T)
        uT, iT = _grouped(T)
        return cls(x, tx, w, xs, np.bincount(ix, weights=w), a_x, a_t, ia, b_x, b_t, ib, uT, iT)


def _pairs(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (x, t) pairs and the index of each row into them."""
    _, ix = np.unique(x, return_inverse=True)
    _, it = np.unique(t, return_inverse=True)
    key = ix.ravel() * (int(it.max()) + 1) + it.ravel()
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return x[first], t[first], inv.ravel()


def _pnbd_ll_total(theta: np.ndarray, data: _PNBDData) -> float:
    r, alpha, s, beta = np.exp(theta)
    x, w = data.x, data.w
    first = -(r + x) * np.log(alpha + data.uT)[data.iT] - s * np.log(beta + data.uT)[data.iT]
    log_i = _log_diff(_pnbd_log_g(r, alpha, s, beta, data.a_x, data.a_t)[data.ia],
                      _pnbd_log_g(r, alpha, s, beta, data.b_x, data.b_t)[data.ib])
    log_i = _pnbd_fix(log_i, r, alpha, s, beta, x, data.tx, data.uT[data.iT])
    const = np.dot(data.wx, gammaln(r + data.xs) - gammaln(r)) + w.sum() * (r * np.log(alpha) + s * np.log(beta))
    return float(const + np.dot(w, np.logaddexp(first, np.log(s) + log_i)))


def _pnbd_ll(theta: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005, note 009, eq. 18, written as
    ``lnG(r+x) - lnG(r) + r ln alpha + s ln beta + log((alpha+T)^-(r+x) (beta+T)^-s + s I)``,
    ``I`` from :func:`_pnbd_log_integral`)."""
    r, alpha, s, beta = np.exp(theta)
    first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    log_i = _pnbd_log_integral(r, alpha, s, beta, x, tx, T)
    return (gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            + np.logaddexp(first, np.log(s) + log_i))


def _pow_ratio(s: float, u: np.ndarray) -> np.ndarray:
    """``(1 - (1+u)^-(s-1)) / (s-1)`` (``log1p(u)`` at ``s = 1``)."""
    d = s - 1.0
    if abs(d) < 1e-10:
        return np.log1p(u)
    return -np.expm1(-d * np.log1p(u)) / d


@dataclass(eq=False, repr=False, kw_only=True)
class ParetoNBDModel(_TransactionModel):
    """Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987).

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    their lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase needed to fit.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, central-difference
        gradient of the stable log-likelihood).
    initial_params : mapping, optional
        Starting values ``{"r", "alpha", "s", "beta"}``.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``s``, ``beta`` (``alpha``, ``beta`` in the summary's time unit).
    standard_errors_, confidence_intervals_, covariance_, log_likelihood_, converged_, n_iter_,
    n_customers_, n_repeat_customers_, time_unit_, rfm_info_
        As in :class:`BetaGeoModel`.

    Notes
    -----
    The log-likelihood is evaluated in log space with a transformed hypergeometric function and a
    quadrature fallback (see the module notes), so it stays finite for long histories (``T`` of
    thousands of weeks, ``frequency`` in the hundreds), where ``lifetimes`` can return NaN. On the CDNOW 1/10 sample
    Fader, Hardie & Lee (2005a) report r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67.
    """

    _param_names = ("r", "alpha", "s", "beta")
    _label = "Pareto/NBD"
    _hessian_step = 1e-4

    def finding(self) -> str:
        """The fit in words, with the mean purchase rate and the mean dropout rate."""
        if not hasattr(self, "params_"):
            return self._fit_finding()
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        return t("value.model.pareto_nbd", fit=self._fit_finding(), rate=f"{r / alpha:.3g}",
                 unit=self._unit(singular=True), dropout=f"{s / beta:.3g}")

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        return _PNBDData.build(x, tx, T)

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        with np.errstate(over="ignore", invalid="ignore"):
            val = -_pnbd_ll_total(theta, data)
        return val if np.isfinite(val) else np.inf

    def _start(self, data: Any) -> np.ndarray:
        lt = np.log(max(float(np.max(data.uT)), 1e-3)) - 1.0
        return np.array([0.0, lt, 0.0, lt])

    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters (finite for any history)."""
        self._check_fitted()
        theta = np.log([self.params_[p] for p in self._param_names])
        x, tx, TT = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T)))
        return _pnbd_ll(theta, x, tx, TT)

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        with np.errstate(divide="ignore"):
            return np.log(s) + _pnbd_log_integral(r, alpha, s, beta, x, tx, T) - first

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        p_alive = expit(-self._log_odds_dead(x, tx, T))
        out = p_alive * (r + x) / (alpha + T) * (beta + T) * _pow_ratio(s, t / (beta + T))
        return np.where(t > 0, out, 0.0)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        r, alpha, s, beta = (self.params_[p] for p in self._param_names)
        return r / alpha * beta * _pow_ratio(s, t / beta)

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        return simulate_pareto_nbd(len(T), self.params_, T=T, random_state=random_state)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma

def simulate_pareto_nbd(n: int, params: Mapping[str, float] | Sequence[float], *, T: Any,
                        random_state: int | None = None) -> pd.DataFrame:
    """Draw customers from the Pareto/NBD model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``r, alpha, s, beta``.
    T : float or array-like of length n
        Time since each customer's first purchase.
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``T`` and the truth ``lam``, ``mu`` (dropout rate),
        ``lifetime``, ``alive``; index ``customer_id`` 0..n-1.
    """
    r, alpha, s, beta = _params(params, ("r", "alpha", "s", "beta"), "simulate_pareto_nbd")
    rng = np.random.default_rng(random_state)
    TT = _T_array(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    mu = rng.gamma(s, 1.0 / beta, n)
    life = rng.exponential(1.0 / np.maximum(mu, 1e-300))
    active = np.minimum(life, TT)
    x = rng.poisson(lam * active)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = active[pos] * rng.beta(x[pos], 1.0)  # the last of x uniform times
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": tx, "T": TT, "lam": lam, "mu": mu, "lifetime": life,
         "alive": life > TT},
        index=pd.RangeIndex(n, name="customer_id"),
    )

