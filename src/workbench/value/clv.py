"""Customer lifetime value as of a date: the one call of the segmentation notebook
(:func:`customer_value`), and the current x future value grid."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.resident import ResidentFrame
from workbench.data import engine
from workbench.data.features import customer_features, fetch_frame
from workbench.data.orders import AsOfCheck, check_as_of
from workbench.report import fmt
from workbench.report.i18n import date_text, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.value.diagnostics import (
    HoldoutComparison,
    TrackingCurve,
    holdout_comparison,
    independence_check,
    tracking_curve,
)
from workbench.value.models.base import _TransactionModel
from workbench.value.models.beta_geo import BetaGeoModel
from workbench.value.models.gamma_gamma import GammaGammaModel
from workbench.value.models.pareto_nbd import ParetoNBDModel
from workbench.value.simple import simple_clv
from workbench.value.summary import TimeUnit, _unit_days, rfm_summary

__all__ = ["CLVResult", "customer_value", "value_potential_grid", "plot_value_potential",
           "mean_interval"]


def mean_interval(values: pd.Series | np.ndarray) -> tuple[float, float, float]:
    """Mean of per-customer values with its 95 % interval, by the normal approximation over
    customers (``mean +- 1.96 sd / sqrt(n)``); missing values are left out.

    Returns
    -------
    (mean, low, high)
        NaN when there is no finite value (the bounds also with a single one).

    Examples
    --------
    >>> [round(v, 3) for v in mean_interval(pd.Series([1.0, 2.0, 3.0, None]))]
    [2.0, 0.868, 3.132]
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    mean = float(v.mean())
    half = float(1.959963984540054 * v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")
    return mean, mean - half, mean + half


# --------------------------------------------------------------------------------------------
# One call for the notebook: CLV per customer with the honest check
# --------------------------------------------------------------------------------------------


def _margin_share(orders: pd.DataFrame | ir.Table, *, margin_col: str | None, default: float) -> tuple[float, str]:
    """Margin as a share of revenue: from the orders' margin column when there is one (an
    engine table: summed there)."""
    if margin_col and margin_col in orders.columns:
        if isinstance(orders, ir.Table):
            use = (orders.amount > 0).fill_null(False) & orders[margin_col].notnull()
            row = fetch_frame(orders.aggregate(n=orders.count(where=use), margin=orders[margin_col].sum(where=use),
                                          amount=orders.amount.sum(where=use))).iloc[0]
            n, margin_sum, amount_sum = int(row["n"]), row["margin"], row["amount"]
        else:
            pos = orders[(orders["amount"] > 0) & orders[margin_col].notna()]
            n, margin_sum, amount_sum = len(pos), pos[margin_col].sum(), pos["amount"].sum()
        if n and amount_sum > 0:
            share = float(margin_sum / amount_sum)
            if 0 < share <= 1:
                return share, f"{share:.1%} (from the orders' {margin_col} column)"
    return float(default), f"{default:.0%} (margin={default:g})"


@dataclass(frozen=True)
class CLVResult(Result):
    """Customer lifetime value per customer, the fitted models and the honest check.

    Attributes
    ----------
    method : {"models", "simple"}
    customers : pandas.DataFrame
        One row per customer: ``customer_id``, ``frequency``, ``recency``, ``T``,
        ``monetary_value``, ``expected_purchases``, ``probability_alive``,
        ``expected_order_value``, ``clv`` (models); or the simple-formula columns and ``clv``.
    model, spend_model : fitted models or None
    holdout : HoldoutComparison or None
        Predicted vs actual holdout purchases by calibration frequency.
    tracking : TrackingCurve or None
    independence : IndependenceCheck or None
        Gamma-Gamma's assumption (frequency and spend independent), tested.
    margin : float
    notes : tuple of str
        Assumptions and exclusions, in words.
    as_of_check : AsOfCheck or None
        Whether the orders reach ``as_of`` (:func:`workbench.data.orders.check_as_of`); when
        stale, the finding starts with the warning and the holdout check is skipped.
    holdout_note : str
        Why there is no holdout check although ``calibration_end`` was set (empty otherwise).
    """

    method: str
    customers: pd.DataFrame
    model: Any = None
    spend_model: Any = None
    holdout: Any = None
    tracking: Any = None
    independence: Any = None
    margin: float = 1.0
    horizon_months: float = 12.0
    notes: tuple[str, ...] = ()
    as_of_check: AsOfCheck | None = None
    holdout_note: str = ""
    calibration_end: Any = None

    def to_frame(self) -> pd.DataFrame:
        """Per-customer table (see the class docstring)."""
        return self.customers.copy()

    def per_customer(self) -> pd.Series:
        """CLV per customer: a Series named ``clv`` indexed by ``customer_id`` (the input of
        :func:`value_potential_grid`)."""
        return self.customers.set_index("customer_id")["clv"].copy()

    def summary(self) -> pd.DataFrame:
        """Parameter estimates with standard errors and 95 % intervals (models), or the CLV
        distribution (simple)."""
        if self.method == "models":
            parts = [self.model.summary().assign(model=self.model._label)]
            if self.spend_model is not None:
                parts.append(self.spend_model.summary().assign(model="Gamma-Gamma"))
            out = pd.concat(parts)
            return out[["model"] + [c for c in out.columns if c != "model"]]
        return self.customers["clv"].describe().to_frame("clv").T

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file."""
        clv = self.customers["clv"]
        out: dict[str, Any] = {
            "method": self.method,
            "customers": int(len(clv)),
            "clv_total": float(clv.sum()),
            "clv_mean": float(clv.mean()) if len(clv) else None,
            "margin": self.margin,
            "horizon_months": self.horizon_months,
        }
        if self.model is not None:
            out["model"] = self.model.metrics()
        if self.spend_model is not None:
            out["spend_model"] = self.spend_model.metrics()
        if self.holdout is not None:
            out["holdout"] = self.holdout.metrics()
        if self.tracking is not None:
            out["tracking"] = self.tracking.metrics()
        if self.independence is not None:
            out["independence"] = self.independence.metrics()
        if self.as_of_check is not None:
            out.update(self.as_of_check.metrics())
        if self.holdout_note:
            out["holdout_skipped"] = self.holdout_note
        return out

    def _as_of_warning(self) -> str:
        """The stale-as_of warning with what it does to CLV (empty when the data reaches as_of)."""
        if self.as_of_check is None or not self.as_of_check.stale:
            return ""
        return t("value.clv.stale", message=self.as_of_check.reader_message, gap=fmt.count(self.as_of_check.gap_days))

    @property
    def failed(self) -> bool:
        """Whether there is no CLV forecast: customers to value but no finite CLV (a purchase
        model that did not converge gives missing values, which must not read as zero)."""
        clv = pd.to_numeric(self.customers["clv"], errors="coerce") if "clv" in self.customers else pd.Series([])
        return len(self.customers) > 0 and not np.isfinite(clv.to_numpy(dtype="float64")).any()

    def mean_interval(self) -> tuple[float, float, float]:
        """Mean CLV per customer with its 95 % interval (:func:`mean_interval`)."""
        return mean_interval(self.customers["clv"])

    def top_share(self, share: float = 0.1) -> float:
        """Share of the total CLV held by the top ``share`` of customers (NaN without a positive total)."""
        clv = self.customers["clv"].sort_values(ascending=False)
        top = max(1, int(round(share * len(clv))))
        return float(clv.iloc[:top].sum() / clv.sum()) if clv.sum() > 0 else float("nan")

    def finding(self) -> str:
        """What the CLV numbers mean for the business (money in the run's currency); a model that
        did not converge (no finite CLV) is said so, never shown as a zero value."""
        c = self.customers
        if c.empty:
            return (self._as_of_warning() + t("value.clv.none")).strip()
        if self.failed:
            label = getattr(self.model, "_label", "") or self.method
            return (self._as_of_warning() + t("value.clv.failed", model=label)).strip()
        clv = c["clv"]
        months = f"{self.horizon_months:g}"
        text = self._as_of_warning() + t("value.clv.head", months=months, margin=fmt.pct(self.margin, 0),
                                         total=fmt.money(clv.sum()), mean=fmt.money(clv.mean()),
                                         top_share=fmt.pct(self.top_share(), 0))
        if "probability_alive" in c:
            text += t("value.clv.alive", gone=fmt.pct((c["probability_alive"] < 0.5).mean(), 0))
        if self.model is not None and not getattr(self.model, "converged_", True):
            text += t("value.clv.not_converged")
        return text

    def holdout_finding(self) -> str:
        """How well the forecast matched the holdout period (:meth:`HoldoutComparison.finding`)."""
        if self.holdout is None and self.holdout_note:
            if self.as_of_check is not None and self.calibration_end is not None:
                return _holdout_skip_note(self.as_of_check, calibration_end=self.calibration_end) or self.holdout_note
            return self.holdout_note
        if self.holdout is None:
            return t("value.clv.no_holdout")
        return self.holdout.finding()

    def plot(self, ax: Any = None) -> Any:
        """Histogram of CLV per customer.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(7, 4))
        clv = self.customers["clv"].to_numpy(dtype="float64")
        ax.hist(clv[np.isfinite(clv)], bins=50)
        xlabel = (t("value.clv.x_months", months=f"{self.horizon_months:g}") if self.method == "models"
                  else t("value.clv.x_lifetime"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(t("value.clv.y"))
        ax.set_title(t("value.clv.title", method=self.method))
        return ax

    def __repr__(self) -> str:
        return f"CLVResult(method={self.method!r}, customers={len(self.customers):,})"


def customer_value(
    orders: pd.DataFrame | ResidentFrame | ir.Table,
    *,
    as_of: Any,
    method: Literal["models", "simple"] = "models",
    model: Literal["bgnbd", "pareto_nbd"] = "bgnbd",
    time_unit: TimeUnit = "weeks",
    horizon_months: float = 12,
    discount_rate: float = 0.10,
    margin: float = 0.30,
    calibration_end: Any = None,
    expected_lifetime_years: float = 3.0,
    acquisition_cost: float = 0.0,
    acquisition_cost_by_channel: Mapping[str, float] | None = None,
    margin_col: str | None = None,
    customers: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
    as_of_check: AsOfCheck | None = None,
) -> CLVResult:
    """Customer lifetime value as of a date, by the model or the simple formula.

    ``method="models"``: the purchase model (``model``: BG/NBD or Pareto/NBD) and Gamma-Gamma
    are fitted on all data up to ``as_of``; CLV is the discounted margin over ``horizon_months``.
    When ``calibration_end`` is set, the same purchase model is also fitted on data up to it and
    checked against the period from it to ``as_of``. ``method="simple"``:
    :func:`workbench.value.simple.simple_clv` on the customer features. The keywords are the
    fields of :class:`workbench.value.params.CLVParams` (``**params.model_dump()``).

    Parameters
    ----------
    orders : pandas.DataFrame, ResidentFrame or ibis Table
        Canonical cleaned orders. A table kept in the engine (a resident table of the run, or an
        Ibis table) is read there once and summarized there (the BTYD summary, the holdout
        split, the tracking counts, the as-of check and the margin share): only customer-level
        and per-day aggregates come back.
    as_of : date
    method : {"models", "simple"}, default "models"
    model : {"bgnbd", "pareto_nbd"}, default "bgnbd"
        Purchase model of ``method="models"``.
    time_unit : {"days", "weeks", "months"}, default "weeks"
        Time unit of the purchase model.
    horizon_months : float, default 12
        CLV horizon of ``method="models"``.
    discount_rate : float, default 0.10
        Annual discount rate.
    margin : float, default 0.30
        Gross margin on revenue, used when the orders have no ``margin_col``.
    calibration_end : date, optional
        End of the calibration period of the holdout check (``method="models"``).
    expected_lifetime_years, acquisition_cost, acquisition_cost_by_channel
        The simple formula's lifetime and acquisition costs (see :func:`simple_clv`).
    margin_col : str, optional
        Orders' margin column; its share of revenue replaces ``margin`` (ignored when the orders
        have no such column).
    customers : pandas.DataFrame, optional
        For the simple formula's tenure and acquisition channel.
    con : Ibis backend, optional
        Engine of the simple formula's customer features and of orders kept in the engine (the
        run's ``ctx.engine``); default a fresh in-memory DuckDB.
    as_of_check : AsOfCheck, optional
        :func:`~workbench.data.orders.check_as_of` of the same orders and ``as_of``, when the
        caller has it (saves a pass over the orders); default: checked here.

    Returns
    -------
    CLVResult

    Raises
    ------
    AnalysisError
        Too few repeat customers, or a calibration end outside the data.

    Notes
    -----
    ``as_of`` long after the last purchase (:func:`workbench.data.orders.check_as_of`) does not
    stop the analysis: the result carries the check, its finding starts with the warning, and the
    holdout check is skipped (its "actual" purchases would be missing data, not zero purchases).
    """
    if not isinstance(orders, pd.DataFrame):  # kept in the engine: read its Parquet once
        con = con if con is not None else engine.connect()
        orders = engine.as_table(con, orders)
    share, margin_note = _margin_share(orders, margin_col=margin_col, default=margin)
    notes = [f"margin {margin_note}", f"horizon {horizon_months:g} months", f"annual discount rate {discount_rate:.0%}"]
    if as_of_check is None or as_of_check.as_of != pd.Timestamp(as_of).normalize():
        as_of_check = check_as_of(orders, as_of, warn=False, con=con)
    if method == "simple":
        feats = customer_features(orders, as_of=as_of, customers=customers, con=con)
        table = simple_clv(
            feats, margin=share, expected_lifetime_years=expected_lifetime_years, discount_rate=discount_rate,
            acquisition_cost=acquisition_cost, acquisition_cost_by_channel=acquisition_cost_by_channel or None,
        )  # fmt: skip
        return CLVResult("simple", table, margin=share, horizon_months=expected_lifetime_years * 12, notes=tuple(notes),
                         as_of_check=as_of_check)
    model_cls = _MODELS[model]
    summary = rfm_summary(orders, calibration_end=as_of, time_unit=time_unit, con=con)
    excluded = getattr(summary, "attrs", {}).get("excluded")
    if excluded:
        notes.append(f"excluded from the spend model: {excluded}")
    fitted, spend, table = _step_model_value(
        summary, model_cls, time_unit=time_unit, horizon_months=horizon_months, discount_rate=discount_rate,
        margin=share,
    )  # fmt: skip
    independence = independence_check(summary, warn=False) if spend is not None else None
    holdout = tracking = None
    with fmt.use(language="en"):  # recorded in metrics.json: language-neutral
        holdout_note = _holdout_skip_note(as_of_check, calibration_end=calibration_end)
    if calibration_end is not None and not holdout_note:
        holdout, tracking = _step_holdout_check(orders, model_cls, as_of=as_of, calibration_end=calibration_end,
                                                time_unit=time_unit, con=con)
    return CLVResult("models", table.reset_index(), model=fitted, spend_model=spend, holdout=holdout,
                     tracking=tracking, independence=independence, margin=share, horizon_months=horizon_months,
                     notes=tuple(notes), as_of_check=as_of_check, holdout_note=holdout_note,
                     calibration_end=calibration_end)


def _holdout_skip_note(check: AsOfCheck, *, calibration_end: Any) -> str:
    """Why the holdout check is skipped when the holdout period runs past the data (else empty)."""
    if calibration_end is None or not check.stale or check.last_purchase is None:
        return ""
    en = fmt.settings().language == "en"
    day = (lambda d: str(pd.Timestamp(d).date())) if en else date_text
    return t("value.clv.holdout_skipped", start=day(calibration_end), end=day(check.as_of),
             gap=fmt.count(check.gap_days), last=day(check.last_purchase))


#: Purchase model class by the ``model`` keyword of :func:`customer_value`.
_MODELS: dict[str, type[_TransactionModel]] = {"bgnbd": BetaGeoModel, "pareto_nbd": ParetoNBDModel}


def _step_model_value(
    summary: pd.DataFrame,
    model_cls: type[_TransactionModel],
    *,
    time_unit: str,
    horizon_months: float,
    discount_rate: float,
    margin: float,
) -> tuple[_TransactionModel, GammaGammaModel | None, pd.DataFrame]:
    """Fit the purchase model (and Gamma-Gamma with 20+ repeat customers); predictions and CLV."""
    fitted = model_cls().fit(summary)
    per_month = 365.25 / 12 / _unit_days(time_unit)
    table = summary.join(fitted.predict(summary, t=horizon_months * per_month))
    spend = None
    if (summary["frequency"] > 0).sum() >= 20:
        spend = GammaGammaModel().fit(summary)
        table["expected_order_value"] = spend.conditional_expected_average_profit(
            summary["frequency"], summary["monetary_value"]
        )
        table["clv"] = spend.customer_lifetime_value(
            fitted, summary["frequency"], summary["recency"], summary["T"], summary["monetary_value"],
            time=int(round(horizon_months)), discount_rate=discount_rate, time_unit=time_unit, margin=margin,
        )  # fmt: skip
    return fitted, spend, table


def _step_holdout_check(
    orders: pd.DataFrame | ir.Table, model_cls: type[_TransactionModel], *, as_of: Any, calibration_end: Any,
    time_unit: str, con: ibis.BaseBackend | None = None,
) -> tuple[HoldoutComparison, TrackingCurve]:
    """Fit the purchase model on data to ``calibration_end``; compare with the period to ``as_of``."""
    cal = rfm_summary(orders, calibration_end=calibration_end, observation_end=as_of, time_unit=time_unit, con=con)
    cal_model = model_cls().fit(cal)
    tracking = tracking_curve(cal_model, orders, calibration_end=calibration_end, observation_end=as_of,
                              time_unit=time_unit, con=con)
    return holdout_comparison(cal_model, cal, tracking=tracking), tracking


def value_potential_grid(current: pd.Series, future_value: pd.Series, *, cuts: Sequence[float] = (0.8, 0.95)) -> pd.DataFrame:
    """Current value class against future value class (both ABC by cumulative share).

    Parameters
    ----------
    current : pandas.Series
        Current ABC class per customer (index ``customer_id``).
    future_value : pandas.Series
        Forecast value (e.g. CLV) per customer (index ``customer_id``).
    cuts : sequence of float
        Cumulative share cut points, as for the current classes.

    Returns
    -------
    pandas.DataFrame
        Customer counts: rows current class, columns future class.
    """
    v = future_value.dropna().clip(lower=0).sort_values(ascending=False, kind="stable")
    x = v.to_numpy(dtype=float)
    total = float(x.sum())
    before = (np.cumsum(x) - x) / total if total > 0 else np.ones(len(x))
    if len(x):  # tied values share the class of the tied block: the share before its first member
        starts = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
        before = before[np.repeat(starts, np.diff(np.r_[starts, len(x)]))]
    labels = [chr(ord("A") + i) for i in range(len(cuts) + 1)]
    code = np.full(len(x), len(cuts))
    for i, c in reversed(list(enumerate(cuts))):
        code[before < c] = i
    code[x <= 0] = len(cuts)
    cur = current.reindex(v.index)
    keep = cur.notna().to_numpy()
    grid = pd.crosstab(pd.Categorical(cur.to_numpy()[keep], categories=labels),
                       pd.Categorical(np.asarray(labels, dtype=object)[code[keep]], categories=labels),
                       dropna=False).reindex(index=labels, columns=labels, fill_value=0)
    grid.index.name, grid.columns.name = t("value.grid.current"), t("value.grid.future")
    return grid


def plot_value_potential(grid: pd.DataFrame, ax: Any = None) -> Any:
    """Heatmap of :func:`value_potential_grid`."""
    import seaborn as sns

    ax = new_axes(ax, figsize=(5, 4))
    sns.heatmap(grid, annot=True, fmt=",d", cmap="Blues", cbar=False, ax=ax)
    ax.set_title(t("value.grid.title"))
    return ax
