"""The honest checks of the BTYD models: the holdout comparison, the tracking curve and the
Gamma-Gamma independence check."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.report import fmt
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.value.models.base import _rfm_arrays, _summary_columns, _TransactionModel
from workbench.value.summary import (
    CALIBRATION_KEY,
    TimeUnit,
    _date_str,
    _day_of,
    _purchase_days,
    _raw_day_range,
    _unit_days,
)

__all__ = [
    "IndependenceCheck", "independence_check", "HoldoutComparison", "holdout_comparison",
    "TrackingCurve", "tracking_curve",
]



# Independence check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndependenceCheck(Result):
    """Correlation between purchase frequency and average spend (see :func:`independence_check`).

    Attributes
    ----------
    n : int
        Repeat customers with a positive ``monetary_value``.
    pearson_r, pearson_p, spearman_rho, spearman_p : float
        Correlations and their two-sided p-values (scipy ``pearsonr`` / ``spearmanr``).
    strength : {"negligible", "weak", "material"}
        From the larger of ``|r|`` and ``|rho|``: < 0.1, < 0.3, otherwise.
    data : pandas.DataFrame
        ``frequency`` and ``monetary_value`` of the customers used.
    """

    n: int
    pearson_r: float
    pearson_p: float
    spearman_rho: float
    spearman_p: float
    strength: str
    data: pd.DataFrame = field(repr=False)

    @property
    def verdict(self) -> str:
        """The plain-language conclusion (same as :meth:`finding`)."""
        return self.finding()

    @property
    def ok(self) -> bool:
        """True unless the correlation is material (|r| or |rho| >= 0.3)."""
        return self.strength != "material"

    def summary(self) -> pd.DataFrame:
        """One row per test: ``test``, ``statistic``, ``p_value``, ``n``."""
        return pd.DataFrame(
            {
                "test": ["pearson", "spearman"],
                "statistic": [self.pearson_r, self.spearman_rho],
                "p_value": [self.pearson_p, self.spearman_p],
                "n": [self.n, self.n],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """The customers tested (``frequency``, ``monetary_value``)."""
        return self.data.copy()

    def metrics(self) -> dict[str, Any]:
        """Figures for the metrics file (JSON-able)."""
        return {
            "n": self.n,
            "pearson_r": self.pearson_r,
            "pearson_p": self.pearson_p,
            "spearman_rho": self.spearman_rho,
            "spearman_p": self.spearman_p,
            "strength": self.strength,
            "verdict": self._verdict_en(),
        }

    def _verdict_en(self) -> str:
        with fmt.use(language="en"):  # recorded in metrics.json: language-neutral
            return self.finding()

    def finding(self) -> str:
        """Whether the Gamma-Gamma independence assumption holds, in words (the run's language)."""
        significant = min(self.pearson_p, self.spearman_p) < 0.05
        sig = t("value.independence.significant" if significant else "value.independence.not_significant")
        head = t("value.independence.head", n=fmt.count(self.n), r=f"{self.pearson_r:.2f}", pr=f"{self.pearson_p:.2g}",
                 rho=f"{self.spearman_rho:.2f}", prho=f"{self.spearman_p:.2g}", sig=sig,
                 strength=t(f"value.independence.strength.{self.strength}"))  # fmt: skip
        return head + t(f"value.independence.tail.{self.strength}")

    def plot(self, ax: Any = None) -> Any:
        """Average spend (log scale) by repeat purchases."""
        ax = new_axes(ax, figsize=(6, 4))
        ax.scatter(self.data["frequency"], self.data["monetary_value"], s=6, alpha=0.3)
        ax.set_yscale("log")
        ax.set_xlabel(t("value.independence.x"))
        ax.set_ylabel(t("value.independence.y"))
        ax.set_title(t("value.independence.title", rho=f"{self.spearman_rho:.2f}", r=f"{self.pearson_r:.2f}"))
        return ax

    def __repr__(self) -> str:
        return (f"IndependenceCheck(n={self.n:,}, pearson_r={self.pearson_r:.3f}, "
                f"spearman_rho={self.spearman_rho:.3f}, strength={self.strength!r})")


def independence_check(summary: pd.DataFrame, *, warn: bool = True) -> IndependenceCheck:
    """Test the Gamma-Gamma assumption that average spend does not depend on frequency.

    Parameters
    ----------
    summary : pandas.DataFrame
        With ``frequency`` and ``monetary_value`` (see :func:`rfm_summary`); customers with
        ``frequency > 0`` and ``monetary_value > 0`` are used.
    warn : bool, default True
        Emit a :class:`~workbench.core.errors.StatisticalWarning` when the correlation is material.

    Returns
    -------
    IndependenceCheck

    Raises
    ------
    AnalysisError
        Missing columns or fewer than 3 usable customers.
    """
    _summary_columns(summary, ["frequency", "monetary_value"], "independence_check")
    x = summary["frequency"].to_numpy(dtype="float64", na_value=np.nan)
    m = summary["monetary_value"].to_numpy(dtype="float64", na_value=np.nan)
    use = (x > 0) & np.isfinite(m) & (m > 0)
    n = int(use.sum())
    if n < 3:
        raise AnalysisError(
            f"independence_check: {n} customers with a repeat purchase and positive spend; at least "
            f"3 are needed; move {CALIBRATION_KEY} later"
        )
    x, m = x[use], m[use]
    pr = stats.pearsonr(x, m)
    sr = stats.spearmanr(x, m)
    r, rho = float(pr.statistic), float(sr.statistic)
    pr_p, sr_p = float(pr.pvalue), float(sr.pvalue)
    big = max(abs(r), abs(rho))
    strength = "negligible" if big < 0.1 else ("weak" if big < 0.3 else "material")
    data = pd.DataFrame({"frequency": x, "monetary_value": m}, index=summary.index[use])
    check = IndependenceCheck(n, r, pr_p, rho, sr_p, strength, data)
    if warn and strength == "material":
        warnings.warn(check.finding(), StatisticalWarning, stacklevel=2)
    return check


def _unit_text(unit: Any) -> str:
    """A time unit (``weeks``) in the run's language."""
    return t(f"value.unit.{unit}") if unit in ("days", "weeks", "months") else str(unit)


# --------------------------------------------------------------------------------------------
# Holdout check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldoutComparison(Result):
    """Predicted vs actual holdout repeat purchases (see :func:`holdout_comparison`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per calibration-frequency bin (see :meth:`summary`).
    customers : pandas.DataFrame
        One row per customer: ``frequency``, ``actual``, ``predicted``.
    model : str
        Model label.
    tracking : TrackingCurve or None
        The tracking curve of the same calibration fit; its errors join the finding.
    calibration : BetaGeoModel or ParetoNBDModel or None
        The calibration-period model the check checks; :meth:`estimates` shows its parameters.
    """

    table: pd.DataFrame
    customers: pd.DataFrame = field(repr=False)
    model: str = ""
    tracking: TrackingCurve | None = field(default=None, repr=False)
    calibration: Any = field(default=None, repr=False)

    def estimates(self) -> pd.DataFrame | None:
        """The calibration-period model's parameter estimates with standard errors and 95 %
        intervals (``param``, ``estimate``, ``se``, ``lower``, ``upper``), to stand beside the
        check; ``None`` when the model was not kept."""
        return None if self.calibration is None else self.calibration.summary()

    def summary(self) -> pd.DataFrame:
        """Bins ``0 .. k-1, k+`` of calibration repeat purchases: ``frequency``, ``n_customers``,
        ``actual`` and ``predicted`` (mean holdout repeat purchases per customer), ``error``
        (predicted - actual).
        """
        return self.table.copy()

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``frequency``, ``actual``, ``predicted``, ``error``."""
        return self.customers.copy()

    def metrics(self) -> dict[str, Any]:
        """MAE per customer, MAE over the bins (weighted by customers), totals (JSON-able)."""
        c, t = self.customers, self.table
        tot_a, tot_p = float(c["actual"].sum()), float(c["predicted"].sum())
        return {
            "model": self.model,
            "n_customers": len(c),
            "mae_customer": float(np.mean(np.abs(c["predicted"] - c["actual"]))),
            "mae_bins": float(np.average(np.abs(t["error"]), weights=t["n_customers"])),
            "actual_total": tot_a,
            "predicted_total": tot_p,
            "ape_total": abs(tot_p - tot_a) / tot_a if tot_a > 0 else None,
        }

    def plot(self, ax: Any = None) -> Any:
        """Mean holdout repeat purchases by calibration frequency: actual vs predicted."""
        ax = new_axes(ax, figsize=(7, 4))
        pos = np.arange(len(self.table))
        ax.plot(pos, self.table["actual"], marker="o", label=t("value.holdout.actual"))
        ax.plot(pos, self.table["predicted"], marker="s", linestyle="--", label=self.model or t("value.holdout.model"))
        ax.set_xticks(pos, self.table["frequency"])
        ax.set_xlabel(t("value.holdout.x"))
        ax.set_ylabel(t("value.holdout.y"))
        ax.set_title(t("value.holdout.title"))
        ax.legend()
        return ax

    def finding(self) -> str:
        """How well the forecast of the calibration fit matched the holdout period."""
        m = self.metrics()
        tr = self.tracking.metrics() if self.tracking is not None else {}
        parts = [t("value.holdout.head", mae=f"{m['mae_customer']:.2f}")]
        if m["actual_total"]:
            parts.append(t("value.holdout.total", predicted=f"{m['predicted_total']:,.0f}",
                           actual=f"{m['actual_total']:,.0f}", diff=f"{m['predicted_total'] / m['actual_total'] - 1:+.1%}"))
        if tr.get("ape_calibration_end") is not None:
            parts.append(t("value.holdout.cal_end", ape=f"{tr['ape_calibration_end']:.1%}"))
        if tr.get("mape_holdout_cumulative") is not None:
            parts.append(t("value.holdout.mape", mape=f"{tr['mape_holdout_cumulative']:.1%}"))
        return t("value.holdout.sep").join(parts) + t("value.holdout.end")

    def __repr__(self) -> str:
        m = self.metrics()
        return (f"HoldoutComparison({self.model}, customers={m['n_customers']:,}, "
                f"mae_customer={m['mae_customer']:.3f}, actual={m['actual_total']:,.0f}, "
                f"predicted={m['predicted_total']:,.0f})")


def holdout_comparison(
    model: _TransactionModel,
    summary: pd.DataFrame,
    *,
    max_frequency: int = 7,
    tracking: TrackingCurve | None = None,
) -> HoldoutComparison:
    """Compare a fitted purchase model's conditional predictions with the holdout.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted on the calibration columns of ``summary``.
    summary : pandas.DataFrame
        From :func:`rfm_summary` with ``observation_end`` (``frequency_holdout``,
        ``duration_holdout``).
    max_frequency : int, default 7
        Customers with at least this many calibration repeat purchases share the last bin.
    tracking : TrackingCurve, optional
        The :func:`tracking_curve` of the same model; its errors are added to the finding.

    Returns
    -------
    HoldoutComparison
        ``.summary()``: one row per bin with counts, mean actual and predicted holdout repeat
        purchases; ``.metrics()``: MAE.

    Raises
    ------
    AnalysisError
        The summary has no holdout columns or the model is not fitted.
    """
    if not isinstance(model, _TransactionModel):
        raise AnalysisError("holdout_comparison: model must be a fitted BetaGeoModel or ParetoNBDModel")
    model._check_fitted()
    _summary_columns(summary, ["frequency_holdout", "duration_holdout"], "holdout_comparison")
    x, tx, T = _rfm_arrays(summary, "holdout_comparison")
    dur = summary["duration_holdout"].to_numpy(dtype="float64")
    actual = summary["frequency_holdout"].to_numpy(dtype="float64")
    pred = model._conditional(dur, x, tx, T)
    k = int(max_frequency)
    b = np.minimum(x, k).astype(int)
    n = np.bincount(b, minlength=k + 1)
    keep = n > 0
    with np.errstate(invalid="ignore"):
        act_m = np.bincount(b, weights=actual, minlength=k + 1) / n
        pred_m = np.bincount(b, weights=pred, minlength=k + 1) / n
    labels = np.array([str(i) for i in range(k)] + [f"{k}+"])
    table = pd.DataFrame(
        {"frequency": labels[keep], "n_customers": n[keep], "actual": act_m[keep], "predicted": pred_m[keep]}
    )
    table["error"] = table["predicted"] - table["actual"]
    customers = pd.DataFrame({"frequency": x.astype("int64"), "actual": actual, "predicted": pred}, index=summary.index)
    customers["error"] = customers["predicted"] - customers["actual"]
    return HoldoutComparison(table, customers, model._label, tracking, model)


@dataclass(frozen=True)
class TrackingCurve(Result):
    """Cumulative repeat purchases over time: actual vs model (see :func:`tracking_curve`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per time point (see :meth:`to_frame`).
    calibration_t, observation_t : float
        Time of the calibration and observation ends since the first cohort day, in
        ``time_unit``.
    time_unit : str
    model : str
    """

    frame: pd.DataFrame
    calibration_t: float
    observation_t: float
    time_unit: str
    model: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per time point: ``t`` (time units since the first cohort day), ``date``,
        ``actual_cum``, ``predicted_cum``, ``actual``, ``predicted`` (increments since the previous
        point), ``holdout`` (bool: after the calibration end).
        """
        return self.frame.copy()

    def _at(self, t: float) -> tuple[float, float]:
        row = self.frame.loc[np.isclose(self.frame["t"], t)].iloc[-1]
        return float(row["actual_cum"]), float(row["predicted_cum"])

    def metrics(self) -> dict[str, Any]:
        """Absolute percentage errors of the cumulative curve at the calibration and observation
        ends, MAPE of the cumulative curve over the holdout points, and of the holdout increments
        (JSON-able).
        """
        ac, pc = self._at(self.calibration_t)
        ao, po = self._at(self.observation_t)
        h = self.frame[self.frame["holdout"]]
        hold_a = h["actual_cum"] - ac
        hold_p = h["predicted_cum"] - pc
        with np.errstate(divide="ignore", invalid="ignore"):
            ape_cum = np.abs(h["predicted_cum"] - h["actual_cum"]) / h["actual_cum"]
            ape_inc = np.abs(h["predicted"] - h["actual"]) / h["actual"]
        return {
            "model": self.model,
            "time_unit": self.time_unit,
            "actual_calibration_end": ac,
            "predicted_calibration_end": pc,
            "ape_calibration_end": abs(pc - ac) / ac if ac > 0 else None,
            "actual_observation_end": ao,
            "predicted_observation_end": po,
            "ape_observation_end": abs(po - ao) / ao if ao > 0 else None,
            "ape_holdout_total": float(abs(hold_p.iloc[-1] - hold_a.iloc[-1]) / hold_a.iloc[-1]) if len(h) and hold_a.iloc[-1] > 0 else None,
            "mape_holdout_cumulative": float(np.mean(ape_cum[np.isfinite(ape_cum)])) if len(h) else None,
            "mape_holdout_incremental": float(np.mean(ape_inc[np.isfinite(ape_inc)])) if len(h) else None,
        }

    def summary(self) -> pd.DataFrame:
        """Actual vs predicted cumulative repeat purchases at the calibration and observation
        ends: ``point``, ``t``, ``actual``, ``predicted``, ``ape``.
        """
        rows = []
        for name, at in (("calibration_end", self.calibration_t), ("observation_end", self.observation_t)):
            a, p = self._at(at)
            rows.append({"point": name, "t": at, "actual": a, "predicted": p, "ape": abs(p - a) / a if a > 0 else np.nan})
        return pd.DataFrame(rows)

    def plot(self, ax: Any = None, *, cumulative: bool = True) -> Any:
        """Actual vs predicted repeat purchases over time (cumulative or per period), with the
        calibration end marked.
        """
        ax = new_axes(ax, figsize=(8, 4))
        f = self.frame
        a, p = ("actual_cum", "predicted_cum") if cumulative else ("actual", "predicted")
        ax.plot(f["t"], f[a], label=t("value.tracking.actual"))
        ax.plot(f["t"], f[p], linestyle="--", label=self.model or t("value.tracking.model"))
        ax.axvline(self.calibration_t, color="grey", linestyle=":", label=t("value.tracking.calibration_end"))
        ax.set_xlabel(t("value.tracking.x", unit=_unit_text(self.time_unit)))
        ax.set_ylabel(t("value.tracking.y_cumulative" if cumulative else "value.tracking.y"))
        ax.set_title(t("value.tracking.title"))
        ax.legend()
        return ax

    def finding(self) -> str:
        """How far the model's cumulative repeat purchases are from the actual ones."""
        m = self.metrics()
        text = t("value.tracking.finding", model=self.model or t("value.tracking.the_model"),
                 predicted=f"{m['predicted_observation_end']:,.0f}", actual=f"{m['actual_observation_end']:,.0f}")
        if m["ape_observation_end"] is not None:
            text += t("value.tracking.off", ape=f"{m['ape_observation_end']:.1%}")
        if m["ape_calibration_end"] is not None:
            text += t("value.tracking.cal_end", ape=f"{m['ape_calibration_end']:.1%}")
        return text + t("value.tracking.end")

    def __repr__(self) -> str:
        m = self.metrics()
        ape = m["ape_observation_end"]
        return (f"TrackingCurve({self.model}, points={len(self.frame)}, {self.time_unit}, "
                f"ape_observation_end={ape:.1%})" if ape is not None else f"TrackingCurve({self.model}, points={len(self.frame)})")


def tracking_curve(
    model: _TransactionModel,
    orders: pd.DataFrame,
    *,
    calibration_end: Any,
    observation_end: Any,
    time_unit: TimeUnit | None = None,
    customer_col: str = "customer_id",
    time_col: str = "order_time",
    amount_col: str | None = None,
    cohort: Literal["calibration", "all"] = "calibration",
    con: Any = None,
) -> TrackingCurve:
    """Cumulative repeat purchases per time unit, actual vs the model's unconditional forecast.

    Each customer enters at their first purchase day ``c``; the model's cumulative forecast at
    time ``t`` is ``sum_customers E[X(t - c)]`` (:meth:`expected_purchases_new`). Purchase days
    follow :func:`rfm_summary` (same-day purchases are one, refunds and negative amounts are not
    purchases); a purchase on day ``d`` counts from ``t = d``, so the cumulative count at the
    calibration end equals the summary's total ``frequency``.

    Parameters
    ----------
    model : BetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    orders : pandas.DataFrame, ResidentFrame or ibis Table
        The orders the summary was built from.
    calibration_end, observation_end : date-like
        Calibration and observation ends (inclusive days).
    time_unit : {"days", "weeks", "months"}, optional
        Default: the model's (from the summary it was fitted on), else weeks.
    customer_col, time_col : str
        Column names.
    amount_col : str, optional
        Amount column: pass it (as to :func:`rfm_summary`) so negative amounts are not counted
        as purchases; refund flags (``is_refund`` / ``status``) apply either way.
    cohort : {"calibration", "all"}, default "calibration"
        Track the customers whose first purchase is on or before ``calibration_end`` (those the
        model was fitted on), or also customers acquired in the holdout (as ``lifetimes``
        ``expected_cumulative_transactions``).
    con : Ibis backend, optional
        Engine of ``orders`` when they are kept there (a :class:`~workbench.core.resident.ResidentFrame`
        or an Ibis table): the purchase days are counted there; default a new in-memory DuckDB.

    Returns
    -------
    TrackingCurve
        ``.to_frame()`` per time unit, ``.metrics()`` with the percentage errors at the
        calibration and observation ends, ``.plot()``.

    Raises
    ------
    AnalysisError
        ``time_unit`` differs from the model's; ``observation_end`` not after
        ``calibration_end`` or after the data.
    """
    if not isinstance(model, _TransactionModel):
        raise AnalysisError("tracking_curve: model must be a fitted BetaGeoModel or ParetoNBDModel")
    model._check_fitted()
    unit_name = time_unit or model.time_unit_ or "weeks"
    if model.time_unit_ and unit_name != model.time_unit_:
        raise AnalysisError(
            f"tracking_curve: time_unit {unit_name!r} differs from the model's {model.time_unit_!r}; "
            "pass the unit the summary was built with"
        )
    unit = _unit_days(unit_name)
    if cohort not in ("calibration", "all"):
        raise AnalysisError(f"tracking_curve: cohort must be 'calibration' or 'all', got {cohort!r}")
    cal_day, obs_day = _day_of(calibration_end), _day_of(observation_end)
    cohort_end = cal_day if cohort == "calibration" else obs_day
    columns = {"customer_col": customer_col, "time_col": time_col, "amount_col": amount_col}
    if isinstance(orders, pd.DataFrame):
        counts = _tracking_counts(orders, obs_day=obs_day, cohort_end=cohort_end, **columns)
    else:  # a table kept in the engine: counts by day come back, never the lines
        from workbench.value.summary_engine import as_engine_table, tracking_counts_engine

        counts = tracking_counts_engine(as_engine_table(orders, con), obs_day=obs_day, cohort_end=cohort_end, **columns)
    if obs_day <= cal_day:
        raise AnalysisError(f"tracking_curve: observation_end {_date_str(obs_day)} must be after calibration_end {_date_str(cal_day)}")
    if obs_day > counts.last_data:
        raise AnalysisError(
            f"tracking_curve: observation_end {_date_str(obs_day)} is after the last order day "
            f"{_date_str(counts.last_data)}; set it on or before the data end"
        )
    if len(counts.cohort_days) == 0:
        raise AnalysisError(f"tracking_curve: no customer's first purchase is on or before {_date_str(cal_day)}")
    frame, tau_c, tau_o = _tracking_frame(model, counts, cal_day=cal_day, obs_day=obs_day, unit=unit)
    return TrackingCurve(frame, tau_c / unit, tau_o / unit, unit_name, model._label)


def _tracking_counts(
    orders: pd.DataFrame, *, obs_day: int, cohort_end: int, customer_col: str, time_col: str, amount_col: str | None
) -> Any:
    """The tracking curve's counts by day from a pandas frame (as the engine's
    :func:`workbench.value.summary_engine.tracking_counts_engine`)."""
    from workbench.value.summary_engine import TrackingCounts

    pdays = _purchase_days(orders, customer_col=customer_col, time_col=time_col, amount_col=amount_col,
                           period="day", time_unit="days")
    _, last_data = _raw_day_range(orders, time_col)
    c, d = pdays.customer, pdays.day
    keep = d <= obs_day
    c, d = c[keep], d[keep]
    first = np.full(len(pdays.ids), np.iinfo(np.int64).max)
    np.minimum.at(first, c, d)
    in_cohort = first <= cohort_end
    sel = in_cohort[c]
    c, d = c[sel], d[sel]
    repeat_days, repeat_n = np.unique(d[d != first[c]], return_counts=True)
    cohort_days, cohort_n = np.unique(first[in_cohort], return_counts=True)
    return TrackingCounts(repeat_days.astype("int64"), repeat_n.astype("int64"), cohort_days.astype("int64"),
                          cohort_n.astype("int64"), int(last_data))


def _tracking_frame(model: _TransactionModel, counts: Any, *, cal_day: int, obs_day: int,
                    unit: float) -> tuple[pd.DataFrame, float, float]:
    """Actual and predicted cumulative repeat purchases per time unit from the counts by day;
    also the calibration and observation ends in days since the first cohort day."""
    start = int(counts.cohort_days.min())
    cohort_days, cohort_n = counts.cohort_days - start, counts.cohort_n
    tau_c, tau_o = float(cal_day - start), float(obs_day - start)
    grid = np.unique(np.concatenate([np.arange(1, int(tau_o // unit) + 1) * unit, [tau_c, tau_o]]))
    # repeat purchases on or before each grid point: the running total of the counts by day
    running = np.concatenate([[0], np.cumsum(counts.repeat_n)])
    actual_cum = running[np.searchsorted(counts.repeat_days - start, grid, side="right")].astype("float64")
    elapsed = (grid[:, None] - cohort_days[None, :]) / unit
    pred_cum = (np.asarray(model.expected_purchases_new(np.maximum(elapsed, 0.0))) * (elapsed > 0)) @ cohort_n
    frame = pd.DataFrame(
        {
            "t": grid / unit,
            "date": pd.to_datetime(np.datetime64(start, "D") + np.round(grid).astype("int64").astype("timedelta64[D]")).as_unit("ns"),
            "actual_cum": actual_cum,
            "predicted_cum": pred_cum,
        }
    )
    frame["actual"] = frame["actual_cum"].diff().fillna(frame["actual_cum"])
    frame["predicted"] = frame["predicted_cum"].diff().fillna(frame["predicted_cum"])
    frame["holdout"] = grid > tau_c
    return frame, tau_c, tau_o
