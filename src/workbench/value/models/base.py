"""Shared machinery of the BTYD models: input checks, the maximum-likelihood fit and the
fitted-model base classes (:class:`_FittedModel`, :class:`_TransactionModel`).

Every model is fitted in log-parameter space with L-BFGS-B on the mean negative log-likelihood of
the distinct customer patterns (identical ``frequency, recency, T`` rows are weighted, not
repeated). Standard errors come from the inverse Hessian of the total negative log-likelihood
(central differences of the gradient in log space, mapped to the natural scale by the delta
method); confidence intervals are 95 % Wald intervals ``estimate +- 1.96 se`` on the natural
scale, as in ``lifetimes``.
"""

from __future__ import annotations

import contextlib
import math
import time as _time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit

from workbench.core.errors import AnalysisError, StatisticalWarning, format_examples
from workbench.report.i18n import t as _t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.value.summary import CALIBRATION_KEY

_Z95 = 1.959963984540054
_LOG_BOUND = 30.0  # log-parameters are kept in [-30, 30]


# --------------------------------------------------------------------------------------------
# Inputs of the models
# --------------------------------------------------------------------------------------------


def _index_of(*values: Any) -> pd.Index | None:
    for v in values:
        if isinstance(v, pd.Series):
            return v.index
    return None


def _wrap(result: np.ndarray, index: pd.Index | None, name: str) -> Any:
    """Series when an input was a Series, a float for scalar input, else an array."""
    if index is not None and np.ndim(result) == 1 and len(result) == len(index):
        return pd.Series(result, index=index, name=name)
    if np.ndim(result) == 0:
        return float(result)
    return result


def _summary_columns(summary: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(summary, pd.DataFrame):
        raise AnalysisError(f"{what}: summary must be a DataFrame from rfm_summary, got {type(summary).__name__}")
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise AnalysisError(
            f"{what}: summary has no column(s) {', '.join(repr(c) for c in missing)} (have "
            f"{format_examples(summary.columns, limit=12)}); build it with rfm_summary"
            + (" and observation_end=" if any(c.endswith("_holdout") for c in missing) else "")
        )


def _bad_rows(summary: pd.DataFrame, mask: np.ndarray, what: str, problem: str) -> None:
    if mask.any():
        ex = list(summary.index[mask][:5])
        raise AnalysisError(
            f"{what}: {int(mask.sum()):,} of {len(summary):,} customers {problem}, e.g. customer(s) "
            f"{format_examples(ex)}; build the summary with rfm_summary"
        )


def _rfm_arrays(summary: pd.DataFrame, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    _summary_columns(summary, ["frequency", "recency", "T"], what)
    x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
    tx = summary["recency"].to_numpy(dtype="float64", na_value=np.nan)
    T = summary["T"].to_numpy(dtype="float64", na_value=np.nan)
    if len(x) == 0:
        raise AnalysisError(f"{what}: the summary has no customers; check {CALIBRATION_KEY}")
    _bad_rows(summary, ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(T)), what, "have a missing or infinite frequency, recency or T")
    _bad_rows(summary, (x < 0) | (x != np.round(x)), what, "have a frequency that is not a whole number >= 0")
    _bad_rows(summary, (tx < 0) | (tx > T * (1 + 1e-12) + 1e-12), what, "have recency < 0 or recency > T")
    _bad_rows(summary, (x == 0) & (tx > 0), what, "have no repeat purchase but recency > 0")
    return x, tx, T


def _check_repeat(x: np.ndarray, summary: pd.DataFrame, minimum: int, what: str) -> None:
    n_rep = int((x > 0).sum())
    cal = summary.attrs.get("rfm", {}).get("calibration_end") if hasattr(summary, "attrs") else None
    move = f"calibration_end={cal}" if cal else CALIBRATION_KEY
    if n_rep == 0:
        raise AnalysisError(
            f"{what}: every one of the {len(x):,} customers made a single purchase in the calibration "
            f"window: there is no repeat purchase to learn from. Use a longer calibration window: move "
            f"{move} later, or use the simple CLV formula "
            "(clv.method='simple')"
        )
    if n_rep < minimum:
        raise AnalysisError(
            f"{what}: only {n_rep:,} of {len(x):,} customers made a repeat purchase (frequency > 0) in "
            f"the calibration window; at least {minimum} are needed to fit the model. Use a longer "
            f"calibration window: move {move} later"
        )


def _patterns(*cols: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Distinct rows of the columns and how many customers share each."""
    key = np.zeros(len(cols[0]), dtype="int64")
    for col in cols:
        _, inv = np.unique(col, return_inverse=True)
        key = key * (int(inv.max()) + 1 if len(inv) else 1) + inv
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    return [np.asarray(col)[first] for col in cols], counts.astype("float64")


def _grouped(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and the index of each element into them."""
    u, inv = np.unique(values, return_inverse=True)
    return u, inv.ravel()


# --------------------------------------------------------------------------------------------
# Fitting machinery
# --------------------------------------------------------------------------------------------


def _fd_gradient(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    g = np.empty_like(theta)
    for j in range(len(theta)):
        e = np.zeros_like(theta)
        e[j] = h
        g[j] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def _fd_hessian(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, h: float) -> np.ndarray:
    k = len(theta)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return (H + H.T) / 2


def _single_thread_blas() -> contextlib.AbstractContextManager[Any]:
    """Keep BLAS on one thread while optimizing: L-BFGS-B makes many tiny BLAS calls, and waking
    a BLAS thread pool for each is ~10x slower than the fit itself on a busy machine."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


@dataclass(eq=False, repr=False, kw_only=True)
class _FittedModel(Result):
    """Shared fit / report machinery of the CLV models (not public).

    A model is an estimator: the dataclass fields are its options (``__init__`` stores them and
    nothing else), :meth:`fit` returns ``self`` and sets the learned attributes ending in ``_``.
    Once fitted it is also a result of its parameters: ``summary()`` (the parameter table),
    ``metrics()``, ``to_frame()`` and the one-line repr live here; each public model adds its
    ``finding()`` on top of :meth:`_fit_finding`. The dataclass is not frozen because
    :meth:`fit` sets the learned attributes.

    Parameters
    ----------
    min_repeat_customers : int, default 20
        Fewest customers with a repeat purchase needed to fit.
    maxiter : int, default 2000
        Iteration limit of the optimizer.
    initial_params : mapping, optional
        Starting values of every parameter.
    """

    min_repeat_customers: int = 20
    maxiter: int = 2000
    initial_params: Mapping[str, float] | None = None

    _param_names: ClassVar[tuple[str, ...]] = ()
    _label: ClassVar[str] = ""
    _hessian_step: ClassVar[float] = 1e-5

    # -- to implement ------------------------------------------------------------------------
    def _nll(self, theta: np.ndarray, data: tuple[np.ndarray, ...]) -> float:  # total NLL
        raise NotImplementedError

    def _nll_grad(self, theta: np.ndarray, data: tuple[np.ndarray, ...]) -> tuple[float, np.ndarray]:
        f = self._nll(theta, data)
        return f, _fd_gradient(lambda t: self._nll(t, data), theta)

    def _start(self, data: tuple[np.ndarray, ...]) -> np.ndarray:
        raise NotImplementedError

    # -- fitting -----------------------------------------------------------------------------
    def _optimize(self, data: tuple[np.ndarray, ...], n_customers: int) -> None:
        names = self._param_names
        if self.initial_params is not None:
            missing = [p for p in names if p not in self.initial_params]
            if missing:
                raise AnalysisError(f"{self._label}: initial_params lacks {', '.join(missing)}; give all of {', '.join(names)}")
            theta0 = np.log([float(self.initial_params[p]) for p in names])
        else:
            theta0 = self._start(data)
        scale = float(n_customers)

        def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = self._nll_grad(theta, data)
            if not np.isfinite(f):
                return 1e300, np.zeros_like(theta)
            return f / scale, g / scale

        t0 = _time.perf_counter()
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(names)
        opts = {"maxiter": self.maxiter, "ftol": 1e-14, "gtol": 1e-9, "maxcor": 20}
        with _single_thread_blas():
            res = optimize.minimize(fun, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
            n_iter = int(res.nit)
            if not res.success and n_iter < self.maxiter:  # one restart from where it stopped
                res2 = optimize.minimize(fun, res.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
                n_iter += int(res2.nit)
                if res2.fun <= res.fun:
                    res = res2
        theta = np.asarray(res.x, dtype="float64")
        grad_norm = float(np.max(np.abs(fun(theta)[1])))
        converged = bool(res.success) or grad_norm < 1e-6
        self.fit_seconds_ = _time.perf_counter() - t0
        self.n_iter_ = n_iter
        self.converged_ = converged
        self.optimizer_message_ = str(res.message)
        params = np.exp(theta)
        self.params_ = {p: float(v) for p, v in zip(names, params, strict=True)}
        self.log_likelihood_ = float(-self._nll(theta, data))
        H = _fd_hessian(lambda t: self._nll_grad(t, data)[1], theta, self._hessian_step)
        self.hessian_log_ = H
        cov = np.full((len(names), len(names)), np.nan)
        try:
            eig = np.linalg.eigvalsh(H)
            if eig.min() <= 0:
                raise np.linalg.LinAlgError
            cov_log = np.linalg.inv(H)
            cov = params[:, None] * cov_log * params[None, :]
        except np.linalg.LinAlgError:
            warnings.warn(
                _t("value.model.hessian", model=self._label, key=CALIBRATION_KEY),
                StatisticalWarning,
                stacklevel=3,
            )
        self.covariance_ = cov
        se = np.sqrt(np.diag(cov))
        self.standard_errors_ = {p: float(v) for p, v in zip(names, se, strict=True)}
        self.confidence_intervals_ = {
            p: (float(v - _Z95 * s), float(v + _Z95 * s)) for p, v, s in zip(names, params, se, strict=True)
        }
        if not converged:
            warnings.warn(
                _t("value.model.not_converged", model=self._label, n_iter=n_iter, message=self.optimizer_message_,
                   grad=f"{grad_norm:.2g}", maxiter=self.maxiter, key=CALIBRATION_KEY),
                StatisticalWarning,
                stacklevel=3,
            )
        at_bound = [p for p, t in zip(names, theta, strict=True) if abs(t) > _LOG_BOUND - 1]
        if at_bound:
            warnings.warn(
                _t("value.model.at_bound", model=self._label, params=", ".join(at_bound),
                   values=", ".join(f"{p}={self.params_[p]:.3g}" for p in at_bound)),
                StatisticalWarning,
                stacklevel=3,
            )

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise AnalysisError(f"{self._label}: call fit(summary) first")

    # -- reporting ---------------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Estimates of the model's parameters with standard errors and 95 % Wald intervals.

        Returns
        -------
        pandas.DataFrame
            One row per parameter: ``param``, ``estimate``, ``se``, ``lower``, ``upper``.
        """
        self._check_fitted()
        rows = [
            {
                "param": p,
                "estimate": self.params_[p],
                "se": self.standard_errors_[p],
                "lower": self.confidence_intervals_[p][0],
                "upper": self.confidence_intervals_[p][1],
            }
            for p in self._param_names
        ]
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The parameter table (``summary()``) plus the covariance matrix columns ``cov_<param>``."""
        out = self.summary()
        for j, p in enumerate(self._param_names):
            out[f"cov_{p}"] = self.covariance_[:, j]
        return out

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        self._check_fitted()
        k = len(self._param_names)
        n = int(self.n_customers_)
        ll = self.log_likelihood_
        out: dict[str, Any] = {
            "model": self._label,
            "n_customers": n,
            "n_repeat_customers": int(self.n_repeat_customers_),
            "params": dict(self.params_),
            "standard_errors": {p: (v if np.isfinite(v) else None) for p, v in self.standard_errors_.items()},
            "confidence_intervals": {
                p: ([lo, hi] if np.isfinite(lo) and np.isfinite(hi) else None)
                for p, (lo, hi) in self.confidence_intervals_.items()
            },
            "log_likelihood": ll,
            "aic": 2 * k - 2 * ll,
            "bic": k * math.log(max(n, 1)) - 2 * ll,
            "converged": bool(self.converged_),
            "n_iter": int(self.n_iter_),
            "fit_seconds": round(float(self.fit_seconds_), 4),
            "time_unit": self.time_unit_,
        }
        if self.rfm_info_:
            out["rfm"] = dict(self.rfm_info_)
        return out

    def _fit_finding(self) -> str:
        """The fit in words (the public ``finding()``): customers, estimates, convergence."""
        if not hasattr(self, "params_"):
            return _t("value.model.not_fitted", model=self._label)
        ps = ", ".join(f"{p} = {v:.3g}" for p, v in self.params_.items())
        text = _t("value.model.fit", model=self._label, n=f"{self.n_customers_:,}", repeat=f"{self.n_repeat_customers_:,}",
                  params=ps, ll=f"{self.log_likelihood_:,.1f}")
        if not self.converged_:
            text += _t("value.model.fit_not_converged")
        return text

    def _unit(self, *, singular: bool = False) -> str:
        """The model's time unit in the run's language (``weeks``, or ``week`` with ``singular``)."""
        unit = self.time_unit_ or "time units"
        if singular:
            unit = unit.removesuffix("s")
        return _t(f"value.unit.{unit}") if unit in ("days", "weeks", "months", "day", "week", "month",
                                                    "time units", "time unit") else unit

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            return f"{name}(unfitted)"
        ps = ", ".join(f"{p}={v:.4g}" for p, v in self.params_.items())
        return f"{name}(n={self.n_customers_:,}, {ps}, log_likelihood={self.log_likelihood_:.2f})"


@dataclass(eq=False, repr=False, kw_only=True)
class _TransactionModel(_FittedModel):
    """Purchase-count model fitted on frequency / recency / T."""

    def fit(self, summary: pd.DataFrame) -> Self:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        summary : pandas.DataFrame
            One row per customer with ``frequency``, ``recency`` and ``T`` (see
            :func:`rfm_summary`).

        Returns
        -------
        self

        Raises
        ------
        AnalysisError
            Missing columns or impossible values; fewer than ``min_repeat_customers`` customers
            with a repeat purchase (every customer with a single purchase included).

        Warns
        -----
        StatisticalWarning
            The optimizer did not converge, a parameter ran to the edge of the search range, or
            the Hessian is not positive definite (no standard errors).
        """
        x, tx, T = _rfm_arrays(summary, f"{self._label} fit")
        _check_repeat(x, summary, self.min_repeat_customers, f"{self._label} fit")
        self.n_customers_ = len(x)
        self.n_repeat_customers_ = int((x > 0).sum())
        info = dict(summary.attrs.get("rfm", {})) if hasattr(summary, "attrs") else {}
        self.rfm_info_ = info
        self.time_unit_ = info.get("time_unit")
        self._optimize(self._prepare(x, tx, T), len(x))
        return self

    def _prepare(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Any:
        (ux, utx, uT), w = _patterns(x, tx, T)
        return (ux, utx, uT, w)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _log_odds_dead(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected repeat purchases in the next ``t`` time units given a customer's history.

        Parameters
        ----------
        t : float or array-like
            Length of the future window, in the fitted time unit.
        frequency, recency, T : array-like
            History (as in :func:`rfm_summary`).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
            Same shape as the broadcast inputs (a Series when an input was one).
        """
        self._check_fitted()
        index = _index_of(frequency, recency, T, t)
        args = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (t, frequency, recency, T)))
        out = self._conditional(*args)
        return _wrap(out, index, "expected_purchases")

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """Probability that a customer with this history has not dropped out at ``T``.

        Parameters
        ----------
        frequency, recency, T : array-like
            History (as in :func:`rfm_summary`).

        Returns
        -------
        float, numpy.ndarray or pandas.Series
        """
        self._check_fitted()
        index = _index_of(frequency, recency, T)
        x, tx, TT = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (frequency, recency, T)))
        return _wrap(expit(-self._log_odds_dead(x, tx, TT)), index, "probability_alive")

    def expected_purchases_new(self, t: Any) -> Any:
        """Unconditional expected repeat purchases ``E[X(t)]`` of a customer ``t`` units after
        their first purchase (the building block of the tracking curve).

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the fitted time unit.

        Returns
        -------
        float or numpy.ndarray
        """
        self._check_fitted()
        index = _index_of(t)
        tt = np.asarray(t, dtype="float64")
        out = np.where(tt > 0, self._unconditional(np.maximum(tt, 0.0)), 0.0)
        return _wrap(out, index, "expected_purchases_new")

    def predict(self, summary: pd.DataFrame, *, t: float) -> pd.DataFrame:
        """Per-customer predictions for the next ``t`` time units.

        Parameters
        ----------
        summary : pandas.DataFrame
            From :func:`rfm_summary`.
        t : float
            Future window, in the fitted time unit.

        Returns
        -------
        pandas.DataFrame
            One row per customer (index of ``summary``): ``expected_purchases``,
            ``probability_alive``.
        """
        x, tx, T = _rfm_arrays(summary, f"{self._label} predict")
        return pd.DataFrame(
            {
                "expected_purchases": self._conditional(np.full_like(x, float(t)), x, tx, T),
                "probability_alive": expit(-self._log_odds_dead(x, tx, T)),
            },
            index=summary.index,
        )

    def _simulate(self, T: np.ndarray, random_state: int | None) -> pd.DataFrame:
        raise NotImplementedError

    def frequency_fit(self, summary: pd.DataFrame, *, max_frequency: int = 7, n_draws: int = 20,
                      random_state: int | None = 0) -> pd.DataFrame:
        """Customers by calibration repeat purchases: observed vs expected under the model.

        The expected counts are averaged over ``n_draws`` simulations of the same customers
        (their ``T``) with the fitted parameters.

        Returns
        -------
        pandas.DataFrame
            One row per frequency ``0 .. max_frequency-1`` and ``max_frequency+``:
            ``frequency``, ``observed``, ``expected``.
        """
        x, _, T = _rfm_arrays(summary, f"{self._label} frequency_fit")
        rng = np.random.default_rng(random_state)
        TT = np.tile(T, n_draws)
        sim = self._simulate(TT, int(rng.integers(2**31)))
        k = max_frequency
        obs = np.bincount(np.minimum(x, k).astype(int), minlength=k + 1)
        exp_ = np.bincount(np.minimum(sim["frequency"].to_numpy(), k).astype(int), minlength=k + 1) / n_draws
        labels = [str(i) for i in range(k)] + [f"{k}+"]
        return pd.DataFrame({"frequency": labels, "observed": obs, "expected": exp_})

    def plot(self, ax: Any = None, *, summary: pd.DataFrame | None = None) -> Any:
        """Expected repeat purchases of a new customer over time, ``E[X(t)]``; with ``summary``,
        the observed vs expected histogram of calibration repeat purchases instead.
        """
        self._check_fitted()
        ax = new_axes(ax, figsize=(7, 4))
        unit = self.time_unit_ or "time units"
        if summary is not None:
            fr = self.frequency_fit(summary)
            pos = np.arange(len(fr))
            ax.bar(pos - 0.2, fr["observed"], width=0.4, label=_t("value.model.observed"))
            ax.bar(pos + 0.2, fr["expected"], width=0.4, label=_t("value.model.simulated", model=self._label))
            ax.set_xticks(pos, fr["frequency"])
            ax.set_xlabel(_t("value.model.freq_x"))
            ax.set_ylabel(_t("value.model.freq_y"))
            ax.set_title(_t("value.model.freq_title", model=self._label))
        else:
            tmax = 104.0 if unit == "weeks" else (730.0 if unit == "days" else 24.0)
            t = np.linspace(0, tmax, 200)
            ax.plot(t, self.expected_purchases_new(t))
            ax.set_xlabel(_t("value.model.new_x", unit=self._unit()))
            ax.set_ylabel(_t("value.model.new_y"))
            ax.set_title(_t("value.model.new_title", model=self._label))
        if summary is not None:
            ax.legend()
        return ax


# --------------------------------------------------------------------------------------------
# Parameters of the simulators
# --------------------------------------------------------------------------------------------


def _params(params: Mapping[str, float] | Sequence[float], names: Sequence[str], what: str) -> list[float]:
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise AnalysisError(f"{what}: params lacks {', '.join(missing)}; give {', '.join(names)}")
        vals = [float(params[n]) for n in names]
    else:
        vals = [float(v) for v in params]
        if len(vals) != len(names):
            raise AnalysisError(f"{what}: expected {len(names)} params ({', '.join(names)}), got {len(vals)}")
    bad = [n for n, v in zip(names, vals, strict=True) if not (np.isfinite(v) and v > 0)]
    if bad:
        raise AnalysisError(f"{what}: params must be positive, got {', '.join(f'{n}={v}' for n, v in zip(names, vals, strict=True) if n in bad)}")
    return vals


def _T_array(n: int, T: Any) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(T, dtype="float64"), (n,)).copy()
    if (arr < 0).any() or not np.isfinite(arr).all():
        raise AnalysisError("T must be finite and >= 0")
    return arr


