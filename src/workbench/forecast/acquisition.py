"""New customers per period: ETS or SARIMAX (statsmodels), chosen by information criterion.

The series (first purchases per period) is modelled on ``log(1 + y)``, so simulated paths stay
non-negative after the back-transform and seasonality acts multiplicatively. Candidates: ETS
with additive errors (no trend; damped additive trend; with yearly seasonality for months when
the history holds two cycles; weekly seasonality is left to the Fourier terms) and SARIMAX ``(1,1,1)`` and ``(1,0,0)`` with a constant, both with the calendar
regressors (events and yearly Fourier terms). The one with the smallest AICc is used; simulated paths
are capped at twice the history's largest value; the same
function forecasts the plain-ETS baseline of the backtest (``candidates=("ets",)`` on revenue).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.report import fmt
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["SeriesModel", "fit_series_model"]


@dataclass(frozen=True, repr=False)
class SeriesModel(Result):
    """A fitted series model, its candidates and simulated paths (see :func:`fit_series_model`).

    Attributes
    ----------
    name : str
        Code of the chosen candidate (``ets_ann``, ``ets_aadn``, ``ets_ana``, ``sarimax_111``,
        ``sarimax_100``).
    candidates : pandas.DataFrame
        ``model``, ``aicc``, ``chosen``.
    paths : numpy.ndarray
        ``(n_draws, horizon)`` simulated future values on the original scale (>= 0).
    """

    name: str
    candidates: pd.DataFrame
    paths: np.ndarray = field(repr=False)
    history: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)

    def summary(self) -> pd.DataFrame:
        """The candidates: ``model`` (label), ``aicc``, ``chosen``."""
        out = self.candidates.copy()
        out["model"] = [category("forecast_model", m) for m in out["model"]]
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per future period: mean and 80 % / 95 % bounds of the simulated paths."""
        q = np.quantile(self.paths, [0.025, 0.1, 0.9, 0.975], axis=0)
        return pd.DataFrame({"step": np.arange(1, self.paths.shape[1] + 1), "forecast": self.paths.mean(axis=0),
                             "lo95": q[0], "lo80": q[1], "hi80": q[2], "hi95": q[3]})

    def metrics(self) -> dict[str, Any]:
        """The chosen model, the AICc of each candidate and the horizon's total (JSON-able)."""
        tot = self.paths.sum(axis=1)
        return {"model": self.name, "aicc": dict(zip(self.candidates["model"], self.candidates["aicc"].astype(float), strict=True)),
                "total": float(tot.mean()), "total_lo80": float(np.quantile(tot, 0.1)), "total_hi80": float(np.quantile(tot, 0.9))}

    def finding(self) -> str:
        """The chosen model and the horizon's new customers."""
        m = self.metrics()
        return t("forecast.acquisition.finding", model=category("forecast_model", self.name), n=len(self.candidates),
                 mean=fmt.count(m["total"]), lo=fmt.count(m["total_lo80"]), hi=fmt.count(m["total_hi80"]))

    def plot(self, ax: Any = None) -> Any:
        """History and simulated future with the 80 % band."""
        ax = new_axes(ax, figsize=(9, 3.5))
        n = len(self.history)
        ax.plot(np.arange(n), self.history, color="C0", label=t("forecast.forecast.history"))
        f = self.to_frame()
        x = n + np.arange(len(f))
        ax.fill_between(x, f["lo80"], f["hi80"], color="C1", alpha=0.3, label=t("forecast.forecast.band80"))
        ax.plot(x, f["forecast"], color="C1", label=t("forecast.forecast.line"))
        ax.set_title(t("forecast.acquisition.title"))
        ax.set_ylabel(category("forecast_measure", "new_customers"))
        ax.legend(fontsize=8)
        return ax


def _ets(y: np.ndarray, kind: str, season: int) -> Any:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    opts: dict[str, Any] = {"error": "add"}
    if kind == "ets_aadn":
        opts.update(trend="add", damped_trend=True)
    if kind == "ets_ana":
        opts.update(seasonal="add", seasonal_periods=season)
    return ETSModel(y, **opts).fit(disp=False, maxiter=200)


def _sarimax(y: np.ndarray, kind: str, exog: np.ndarray | None) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    order, trend = ((1, 1, 1), "n") if kind == "sarimax_111" else ((1, 0, 0), "c")
    return SARIMAX(y, exog=exog, order=order, trend=trend, concentrate_scale=True).fit(disp=False, maxiter=100, cov_type="none")


def _simulate(res: Any, kind: str, horizon: int, n_draws: int, exog_future: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    if kind.startswith("ets"):
        sim = res.simulate(horizon, anchor="end", repetitions=n_draws, rng=rng)
    else:
        sim = res.simulate(horizon, anchor="end", repetitions=n_draws, exog=exog_future, rng=rng)
    arr = np.asarray(sim, dtype="float64").reshape(horizon, -1)
    return arr.T


def fit_series_model(y: np.ndarray, *, horizon: int, season: int, exog: pd.DataFrame | None = None,
                     exog_future: pd.DataFrame | None = None, n_draws: int = 500, random_state: int = 0,
                     candidates: tuple[str, ...] = ("ets_ann", "ets_aadn", "ets_ana", "sarimax_111", "sarimax_100"),
                     log: bool = True) -> SeriesModel:
    """Fit the candidates on a period series, choose by AICc and simulate ``n_draws`` paths.

    Parameters
    ----------
    y : array-like
        History, one value per period (>= 0).
    horizon : int
        Periods to simulate.
    season : int
        Periods per year (52 or 12).
    exog, exog_future : pandas.DataFrame, optional
        Calendar regressors of the history and of the forecast periods (SARIMAX only);
        constant columns are dropped.
    n_draws : int
    random_state : int
    candidates : tuple of str
        Which models may be chosen (seasonal ETS only with two cycles of history).
    log : bool, default True
        Model ``log(1 + y)``.

    Returns
    -------
    SeriesModel

    Raises
    ------
    AnalysisError
        No candidate could be fitted.
    """
    yy = np.asarray(y, dtype="float64")
    z = np.log1p(np.maximum(yy, 0.0)) if log else yy
    X = Xf = None
    if exog is not None and exog_future is not None:
        keep = [c for c in exog.columns if exog[c].nunique() > 1]
        if keep:
            X, Xf = exog[keep].to_numpy(dtype="float64"), exog_future[keep].to_numpy(dtype="float64")
    rows, fits = [], {}
    for kind in candidates:
        if kind == "ets_ana" and (len(z) < 2 * season or season > 12):  # 52 seasonal states: slow, overfit
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = _ets(z, kind, season) if kind.startswith("ets") else _sarimax(z, kind, X)
            aicc = float(res.aicc)
        except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - a failing candidate
            continue
        if np.isfinite(aicc):
            fits[kind] = res
            rows.append({"model": kind, "aicc": aicc})
    if not fits:
        raise AnalysisError("forecast: no series model could be fitted to the new-customer series; check the history (period=)")
    table = pd.DataFrame(rows)
    best = str(table.loc[table["aicc"].idxmin(), "model"])
    table["chosen"] = table["model"] == best
    rng = np.random.default_rng(random_state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        paths = _simulate(fits[best], best, horizon, n_draws, Xf, rng)
    paths = np.expm1(np.clip(paths, -50, 50)) if log else paths
    cap = 2.0 * float(np.max(yy)) if len(yy) and np.max(yy) > 0 else np.inf  # a log-scale walk must not explode
    return SeriesModel(best, table, np.clip(paths, 0.0, cap), yy)
