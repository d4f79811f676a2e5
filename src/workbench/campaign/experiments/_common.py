"""Small helpers shared by the experiment statistics: arm labels, outcome arrays, covariate
designs, standardized mean differences, the two-sample comparisons and the text of figures.

Inputs are the contacts of **one** campaign, one row per customer (``arm`` plus outcome and
covariate columns); nothing here modifies them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from workbench.campaign._common import arm_counts_text
from workbench.core.errors import AnalysisError, DataQualityWarning, did_you_mean, format_examples
from workbench.data.numbers import to_number
from workbench.report.fmt import NA, money, pct
from workbench.report.i18n import has, t
from workbench.stats import welch, wilson_interval

__all__ = ["diff_proportions"]

TABLE = "campaign_contacts"
#: |SMD| above which a covariate counts as imbalanced.
SMD_FLAG = 0.1



def z_quantile(alpha: float) -> float:
    """Two-sided normal quantile ``z_{1 - alpha/2}``."""
    return float(sps.norm.ppf(1 - alpha / 2))


def campaign_name(contacts: pd.DataFrame) -> str:
    """The one ``campaign_id`` of the contacts, else ``'campaign'``."""
    if "campaign_id" in contacts.columns:
        ids = contacts["campaign_id"].dropna().unique()
        if len(ids) == 1:
            return str(ids[0])
    return "campaign"


def check_one_campaign(contacts: pd.DataFrame) -> None:
    """Raise when the contacts hold rows of several campaigns."""
    if "campaign_id" in contacts.columns:
        ids = pd.Series(contacts["campaign_id"].dropna().unique()).astype(str).tolist()
        if len(ids) > 1:
            raise AnalysisError(
                f"{TABLE}: rows of {len(ids)} campaigns ({format_examples(ids)}); experiment statistics "
                "compare the arms of one campaign - filter the contacts to one campaign_id first"
            )


def require_columns(frame: pd.DataFrame, columns: Sequence[str], *, what: str, option: str | None = None) -> None:
    """Raise naming the missing columns (and the option keyword that chose them)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hint = f"; change {option}={missing[0]!r}{did_you_mean(missing[0], frame.columns)}" if option else ""
        raise AnalysisError(
            f"{TABLE}: {what} column(s) {format_examples(missing)} not found; columns present: "
            f"{format_examples(list(frame.columns), limit=12)}{hint}"
        )


def arm_labels(contacts: pd.DataFrame, arm: str, control: str | None) -> tuple[pd.Series, list[str]]:
    """Arm labels as strings and the arms found (control first, then the others sorted)."""
    require_columns(contacts, [arm], what="arm", option="arm")
    labels = contacts[arm]
    if labels.isna().any():
        n_na = int(labels.isna().sum())
        raise AnalysisError(
            f"{TABLE}.{arm}: {n_na:,} of {len(labels):,} rows have no arm; fix the contacts "
            f"(every contacted customer needs an arm)"
        )
    labels = labels.astype(str)
    found = sorted(labels.unique().tolist())
    if control is not None:
        if control not in found:
            raise AnalysisError(
                f"{TABLE}.{arm} of {campaign_name(contacts)}: no control arm {control!r}; arms found: "
                f"{format_examples(found, limit=10)} (rows: {arm_counts_text(labels.value_counts())})"
                f"{did_you_mean(control, found)}. Pass control= the "
                "hold-out arm (control_arm= of the campaign section), or use observational_effect() for a campaign "
                "without a control group"
            )
        if len(found) < 2:
            raise AnalysisError(
                f"{TABLE}.{arm} of {campaign_name(contacts)}: only one arm ({found[0]!r}); a comparison "
                f"needs the control arm (control={control!r}) and at least one treated arm"
            )
        found = [control] + [a for a in found if a != control]
    return labels, found


def as_float(values: pd.Series, *, column: str) -> np.ndarray:
    """Outcome column as float64 with NaN for missing (booleans, nullable ints and floats)."""
    s = values
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = to_number(s, name=f"{TABLE}.{column}", noun="numbers or 0/1", scan=5,
                      fix="fix the column or leave it out of the metrics")
    return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)


def is_binary(x: np.ndarray) -> bool:
    """All non-missing values are 0 or 1 (and there is at least one)."""
    ok = x[~np.isnan(x)]
    return ok.size > 0 and bool(np.isin(ok, (0.0, 1.0)).all())


def metric_arrays(
    contacts: pd.DataFrame, metric: str, labels: pd.Series, *, stacklevel: int = 3
) -> tuple[np.ndarray, np.ndarray]:
    """A metric as float and the mask of non-blank rows; blanks are warned about by arm."""
    y = as_float(contacts[metric], column=metric)
    lab = labels.to_numpy()
    ok = ~np.isnan(y)
    if not ok.all():
        per_arm = pd.Series(lab[~ok]).value_counts()
        warnings.warn(
            t("campaign.warn.blank_metric", table=TABLE, metric=metric, n=f"{int((~ok).sum()):,}", total=f"{y.size:,}",
              by=", ".join(f"{k} {v:,}" for k, v in per_arm.items())),
            DataQualityWarning,
            stacklevel=stacklevel,
        )
    return y, ok


def diff_proportions(
    k1: np.ndarray | float,
    n1: np.ndarray | float,
    k0: np.ndarray | float,
    n0: np.ndarray | float,
    *,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Difference of two proportions ``k1/n1 - k0/n0`` with its interval and test (vectorized).

    The interval is the unpooled Wald interval, or Newcombe's hybrid score interval (method 10,
    from the two Wilson intervals) when either arm has zero successes or zero failures (the
    Wald standard error is then 0 and the interval degenerate). The test is the two-proportion
    z-test with pooled variance; with a zero count Fisher's exact test is used instead. The
    relative lift ``p1 / p0 - 1`` gets a delta-method interval on the log ratio (NaN when
    either arm has zero successes).

    Parameters
    ----------
    k1, n1, k0, n0 : array-like
        Successes and trials of the arm and of the control.
    alpha : float, default 0.05

    Returns
    -------
    dict of numpy.ndarray
        ``p1``, ``p0``, ``diff``, ``low``, ``high``, ``rel``, ``rel_low``, ``rel_high``,
        ``p_value``, ``zero`` (bool: Newcombe interval / Fisher test used).

    Examples
    --------
    >>> r = diff_proportions(30, 100, 20, 100)
    >>> round(float(r["diff"][0]), 3), round(float(r["low"][0]), 3), round(float(r["high"][0]), 3)
    (0.1, -0.019, 0.219)
    """
    k1, n1, k0, n0 = (np.atleast_1d(np.asarray(v, dtype="float64")) for v in (k1, n1, k0, n0))
    k1, n1, k0, n0 = np.broadcast_arrays(k1, n1, k0, n0)
    z = z_quantile(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p0 = k1 / n1, k0 / n0
        d = p1 - p0
        se = np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
        lo, hi = d - z * se, d + z * se
        zero = (k1 == 0) | (k0 == 0) | (k1 == n1) | (k0 == n0)
        if zero.any():
            l1, u1 = wilson_interval(k1, n1, confidence=1 - alpha)
            l0, u0 = wilson_interval(k0, n0, confidence=1 - alpha)
            nlo = d - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2)
            nhi = d + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)
            lo, hi = np.where(zero, nlo, lo), np.where(zero, nhi, hi)
        pp = (k1 + k0) / (n1 + n0)
        se0 = np.sqrt(pp * (1 - pp) * (1 / n1 + 1 / n0))
        zstat = d / se0
        pval = 2 * sps.norm.sf(np.abs(zstat))
        pval = np.where(se0 > 0, pval, 1.0)
        rr = p1 / p0
        se_log = np.sqrt((1 - p1) / k1 + (1 - p0) / k0)  # = (1-p)/(n p)
        ok = (k1 > 0) & (k0 > 0)
        rel = np.where(k0 > 0, rr - 1, np.nan)
        rel_lo = np.where(ok, np.exp(np.log(rr) - z * se_log) - 1, np.nan)
        rel_hi = np.where(ok, np.exp(np.log(rr) + z * se_log) - 1, np.nan)
    if zero.any():
        for i in np.flatnonzero(zero & (n1 > 0) & (n0 > 0)):
            table = [[k1[i], n1[i] - k1[i]], [k0[i], n0[i] - k0[i]]]
            pval[i] = sps.fisher_exact(np.asarray(table, dtype=np.int64))[1]
    return {
        "p1": p1, "p0": p0, "diff": d, "low": lo, "high": hi, "rel": rel, "rel_low": rel_lo,
        "rel_high": rel_hi, "p_value": pval, "zero": zero,
    }  # fmt: skip


def welch_lift(y1: np.ndarray, y0: np.ndarray, alpha: float) -> dict[str, float]:
    """:func:`workbench.stats.welch` plus the relative lift ``m1 / m0 - 1`` with a delta-method
    interval on the log ratio (``rel``, ``rel_low``, ``rel_high``; NaN when a mean is not positive)."""
    w = welch(y1, y0, alpha=alpha)
    m1, m0 = w["m1"], w["m0"]
    rel, rlo, rhi = np.nan, np.nan, np.nan
    if m0 != 0:
        rel = m1 / m0 - 1
    if m1 > 0 and m0 > 0:
        s1 = float(y1.var(ddof=1)) / y1.size if y1.size > 1 else np.nan
        s0 = float(y0.var(ddof=1)) / y0.size if y0.size > 1 else np.nan
        sl = math.sqrt(s1 / m1**2 + s0 / m0**2)
        z = z_quantile(alpha)
        rlo, rhi = math.exp(math.log(m1 / m0) - z * sl) - 1, math.exp(math.log(m1 / m0) + z * sl) - 1
    return {**w, "rel": rel, "rel_low": rlo, "rel_high": rhi}


def weighted_mean_var(x: np.ndarray, w: np.ndarray | None) -> tuple[float, float]:
    """Mean and variance (ddof 1 unweighted; the weighted population variance with weights)."""
    if w is None:
        return float(x.mean()), float(x.var(ddof=1)) if x.size > 1 else np.nan
    sw = w.sum()
    m = float((w * x).sum() / sw)
    v = float((w * (x - m) ** 2).sum() / sw)
    return m, v


def covariate_matrix(
    frame: pd.DataFrame, covariates: Sequence[str], *, max_levels: int = 20
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Numeric design: numeric/bool columns as they are, categoricals one-hot (top levels).

    Returns the frame (one column per numeric covariate or ``col=level``) and a map
    column -> kind (``numeric`` / ``binary`` / ``level``).
    """
    cols: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            x = s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
            cols[c] = x
            kinds[c] = "binary" if is_binary(x) else "numeric"
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            x = (s - s.min()).dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan) / 86400.0
            cols[c] = x
            kinds[c] = "numeric"
        else:
            lab = s.astype(object).where(s.notna(), "(missing)").astype(str)
            counts = lab.value_counts()
            top = counts.index[:max_levels].tolist()
            if len(counts) > max_levels:
                lab = lab.where(lab.isin(top), "(other)")
                top = top + ["(other)"]
            for lev in top:
                name = f"{c}={lev}"
                cols[name] = (lab == lev).to_numpy(dtype="float64")
                kinds[name] = "level"
    return pd.DataFrame(cols, index=frame.index), kinds


def smd_table(X: pd.DataFrame, t: np.ndarray, c: np.ndarray, w: np.ndarray | None = None) -> pd.DataFrame:
    """Standardized mean differences of every column of ``X`` between masks ``t`` and ``c``.

    The denominator is ``sqrt((var_t + var_c) / 2)`` of the *unweighted* groups so weighting
    changes only the numerator (the usual convention for balance after weighting).
    """
    rows = []
    for col in X.columns:
        x = X[col].to_numpy()
        ok = ~np.isnan(x)
        xt, xc = x[t & ok], x[c & ok]
        if xt.size == 0 or xc.size == 0:
            rows.append((col, np.nan, np.nan, np.nan))
            continue
        mt, vt = weighted_mean_var(xt, None)
        mc, vc = weighted_mean_var(xc, None)
        if w is not None:
            mt, _ = weighted_mean_var(xt, w[t & ok])
            mc, _ = weighted_mean_var(xc, w[c & ok])
        sd = math.sqrt(np.nan_to_num((vt + vc) / 2))
        smd = (mt - mc) / sd if sd > 0 else (0.0 if mt == mc else np.inf)
        rows.append((col, mt, mc, smd))
    return pd.DataFrame(rows, columns=["covariate", "mean_treated", "mean_control", "smd"])


def metric_word(metric: str) -> str:
    """Business name of a metric column in the run's language (``converted`` -> ``conversion
    rate``; ``campaign.metric.<column>``); another column keeps its name."""
    key = f"campaign.metric.{metric}"
    return t(key) if has(key) else str(metric)


def sentence(text: str) -> str:
    """A sentence starting with a capital letter (a finding that opens with an arm name of the
    data, ``treatment raised ...`` -> ``Treatment raised ...``)."""
    from workbench.report.i18n import language

    return text[:1].upper() + text[1:] if language() == "en" else text


def fmt_abs(v: float, *, binary: bool, currency: str | None = None) -> str:
    """A difference: percentage points of a rate, money otherwise (the run's currency)."""
    if not np.isfinite(v):
        return NA
    if binary:
        return t("campaign.units.points", value=f"{100 * v:.1f}")
    return money(v, 2, currency=currency)


def fmt_ci(lo: float, hi: float, *, binary: bool) -> str:
    """An interval of a difference, in the words of :func:`fmt_abs`."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return NA
    if binary:
        return t("campaign.units.points_range", low=f"{100 * lo:.1f}", high=f"{100 * hi:.1f}")
    return t("campaign.units.range", low=money(lo, 2), high=money(hi, 2))


def fmt_level(v: float, *, binary: bool) -> str:
    """A rate (percent, 2 decimals) or a mean amount (money)."""
    if not np.isfinite(v):
        return NA
    return pct(v, 2) if binary else money(v, 2)
