"""BG/NBD purchase model (Fader, Hardie & Lee 2005a): likelihood, model and simulator."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, expit, gammaln, hyp2f1

from workbench.report.i18n import t
from workbench.value.models.base import _grouped, _params, _patterns, _T_array, _TransactionModel

__all__ = ["BetaGeoModel", "simulate_bgnbd"]


@dataclass(frozen=True)
class _BGData:
    """Distinct customer patterns with lookups of their distinct x, recency and T values."""

    x: np.ndarray
    w: np.ndarray
    xs: np.ndarray  # distinct frequencies
    ix: np.ndarray
    wx: np.ndarray  # customers per distinct frequency
    uT: np.ndarray
    iT: np.ndarray
    utx: np.ndarray
    itx: np.ndarray
    rep: np.ndarray  # x > 0

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> _BGData:
        (x, tx, T), w = _patterns(x, tx, T)
        xs, ix = _grouped(x)
        uT, iT = _grouped(T)
        utx, itx = _grouped(tx)
        return cls(x, w, xs, ix, np.bincount(ix, weights=w), uT, iT, utx, itx, x > 0)


def _bgnbd_ll_terms(theta: np.ndarray, data: _BGData, grad: bool) -> tuple[float, np.ndarray | None]:
    """Total BG/NBD log-likelihood and its gradient in log-parameters.

    Per customer ``A1 + A2 + log(exp(A3) + [x>0] exp(A4))`` (Fader, Hardie & Lee 2005a, eq. 6);
    terms depending on ``x`` only are evaluated once per distinct ``x``.
    """
    r, alpha, a, b = np.exp(theta)
    x, w, xs, wx = data.x, data.w, data.xs, data.wx
    la_T = np.log(alpha + data.uT)[data.iT]
    la_tx = np.log(alpha + data.utx)[data.itx]
    # x-only terms, once per distinct x: gammaln(r+x) - gammaln(r) + gammaln(b+x) - gammaln(b)
    # - gammaln(a+b+x) + gammaln(a+b)
    gx = gammaln(r + xs) - gammaln(r) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs) + gammaln(a + b)
    rx = r + x
    # log(e^A3 + e^A4) = A3 + log1p(e^D), D = A4 - A3
    D = np.where(data.rep, np.log(a) - np.log(b + np.maximum(x, 1) - 1) - rx * (la_tx - la_T), -np.inf)
    lse = -rx * la_T + np.logaddexp(0.0, D)
    f = float(np.dot(wx, gx) + w.sum() * r * np.log(alpha) + np.dot(w, lse))
    if not grad:
        return f, None
    q = expit(D)  # weight of the "dropped out after the last purchase" branch
    wq = w * q
    dr_x = np.dot(wx, digamma(r + xs) - digamma(r))
    dr = dr_x + w.sum() * np.log(alpha) - np.dot(w, la_T) - np.dot(wq, la_tx - la_T)
    dalpha = w.sum() * r / alpha - np.dot(w * rx, (1 - q) / (alpha + data.uT[data.iT]) + q / (alpha + data.utx[data.itx]))
    ab_x = np.dot(wx, digamma(a + b) - digamma(a + b + xs))
    da = ab_x + wq.sum() / a
    db = ab_x + np.dot(wx, digamma(b + xs) - digamma(b)) - np.dot(wq, 1.0 / (b + np.maximum(x, 1) - 1))
    return f, np.array([dr * r, dalpha * alpha, da * a, db * b])


def _hyp2f1_euler_bg(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` via Euler's transformation (no overflow)."""
    a = _away_from_one(a)
    c = a + b + x - 1
    return np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)


def _away_from_one(a: float) -> float:
    """BG/NBD expectations divide ``0/0`` at ``a = 1``; a 1e-7 nudge gives the limit to ~1e-7."""
    return a if abs(a - 1.0) > 1e-7 else 1.0 + math.copysign(1e-7, a - 1.0 if a != 1.0 else 1.0)


@dataclass(eq=False, repr=False, kw_only=True)
class BetaGeoModel(_TransactionModel):
    """BG/NBD purchase model (Fader, Hardie & Lee 2005a).

    While alive a customer buys as a Poisson process with rate ``lambda ~ Gamma(r, alpha)``;
    after each repeat purchase they drop out for good with probability ``p ~ Beta(a, b)``.

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase needed to fit.
    maxiter : int, default 2000
        Iteration limit of the optimizer (L-BFGS-B on log-parameters, analytic gradient).
    initial_params : mapping, optional
        Starting values ``{"r", "alpha", "a", "b"}``.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha`` (in the summary's time unit), ``a``, ``b``.
    standard_errors_ : dict
        From the inverse Hessian of the negative log-likelihood (delta method from log space).
    confidence_intervals_ : dict of (lower, upper)
        95 % Wald intervals.
    covariance_ : numpy.ndarray
        Covariance matrix of the estimates (natural scale).
    log_likelihood_ : float
        Total log-likelihood at the estimate (``lifetimes`` reports the mean per customer, in
        rescaled time).
    converged_ : bool
    n_iter_ : int
    n_customers_, n_repeat_customers_ : int
    time_unit_ : str or None
        From the summary's ``attrs`` (see :func:`rfm_summary`).
    rfm_info_ : dict
        What :func:`rfm_summary` left out (refunds, negative and zero amounts).

    Notes
    -----
    On the CDNOW 1/10 sample (2,357 customers, weeks) Fader, Hardie & Lee (2005a) report
    r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, log-likelihood -9582.4.

    Examples
    --------
    >>> data = simulate_bgnbd(2000, {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}, T=39.0, random_state=1)
    >>> model = BetaGeoModel().fit(data)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    """

    _param_names = ("r", "alpha", "a", "b")
    _label = "BG/NBD"

    def finding(self) -> str:
        """The fit in words, with the mean purchase rate and the dropout chance per repeat purchase."""
        if not hasattr(self, "params_"):
            return self._fit_finding()
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        return t("value.model.bgnbd", fit=self._fit_finding(), rate=f"{r / alpha:.3g}", unit=self._unit(singular=True),
                 dropout=f"{a / (a + b):.1%}")

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        return _BGData.build(x, tx, T)

    def _nll(self, theta: np.ndarray, data: Any) -> float:
        return -_bgnbd_ll_terms(theta, data, grad=False)[0]

    def _nll_grad(self, theta: np.ndarray, data: Any) -> tuple[float, np.ndarray]:
        f, g = _bgnbd_ll_terms(theta, data, grad=True)
        return -f, -g

    def _start(self, data: Any) -> np.ndarray:
        T = data.uT
        return np.array([0.0, np.log(max(float(np.max(T)), 1e-3)) - 1.0, 0.0, 0.0])

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        lo = np.log(a) - np.log(b + np.maximum(x, 1) - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        return np.where(x > 0, lo, -np.inf)

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        z = t / (alpha + T + t)
        term = 1.0 - _hyp2f1_euler_bg(r, a, b, x, z)
        a = _away_from_one(a)
        out = (a + b + x - 1) / (a - 1) * term * expit(-self._log_odds_dead(x, tx, T))
        return np.where(t > 0, out, 0.0)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        r, alpha, a, b = (self.params_[p] for p in self._param_names)
        z = t / (alpha + t)
        term = 1.0 - _hyp2f1_euler_bg(r, a, b, np.zeros_like(t), z)
        a = _away_from_one(a)
        return (a + b - 1) / (a - 1) * term

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        return simulate_bgnbd(len(T), self.params_, T=T, random_state=random_state)


# --------------------------------------------------------------------------------------------

def simulate_bgnbd(n: int, params: Mapping[str, float] | Sequence[float], *, T: Any,
                   random_state: int | None = None) -> pd.DataFrame:
    """Draw customers from the BG/NBD model.

    Parameters
    ----------
    n : int
        Customers.
    params : mapping or sequence
        ``r, alpha, a, b``.
    T : float or array-like of length n
        Time since each customer's first purchase.
    random_state : int, optional
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    pandas.DataFrame
        One row per customer (index ``customer_id`` 0..n-1): ``frequency``, ``recency``, ``T``
        and the truth ``lam`` (purchase rate), ``p`` (dropout probability), ``alive``.
    """
    r, alpha, a, b = _params(params, ("r", "alpha", "a", "b"), "simulate_bgnbd")
    rng = np.random.default_rng(random_state)
    TT = _T_array(n, T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    N = rng.poisson(lam * TT)  # purchase opportunities in (0, T] while the process runs
    K = rng.geometric(p)  # the K-th repeat purchase is the last
    x = np.minimum(N, K)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = TT[pos] * rng.beta(x[pos], N[pos] - x[pos] + 1)  # x-th of N uniform times
    return pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": tx, "T": TT, "lam": lam, "p": p, "alive": N < K},
        index=pd.RangeIndex(n, name="customer_id"),
    )

