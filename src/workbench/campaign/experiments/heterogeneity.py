"""Effect of one arm by subgroup, with an interaction test (:func:`heterogeneity`)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.experiments._common import (
    TABLE,
    arm_labels,
    campaign_name,
    check_one_campaign,
    diff_proportions,
    fmt_abs,
    fmt_ci,
    is_binary,
    metric_arrays,
    metric_word,
    require_columns,
)
from workbench.core.errors import AnalysisError, StatisticalWarning, did_you_mean, format_examples
from workbench.data.labels import cluster_label
from workbench.report import i18n
from workbench.report.fmt import num
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import holm, welch

__all__ = ["HeterogeneityResult", "heterogeneity"]


@dataclass(frozen=True, eq=False, repr=False)
class HeterogeneityResult(Result):
    """Effect of one arm by subgroup (see :func:`heterogeneity`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per subgroup plus ``(all)``: ``subgroup``, ``n``, ``control_n``, ``arm_mean``,
        ``control_mean``, ``diff``, ``diff_low``, ``diff_high`` (95 %), ``ci_method``,
        ``p_value``, ``p_holm`` (Holm across subgroups), ``significant``.
    by, arm_name, control, metric, campaign : str
    interaction_test : str
        Name of the interaction test.
    interaction_stat, interaction_df, interaction_p : float
        Joint Wald test of the arm x subgroup interaction terms.
    lr_test : dict
        Logistic likelihood-ratio test of the interaction (binary metrics; empty otherwise).
    alpha : float
    """

    table: pd.DataFrame
    by: str
    arm_name: str
    control: str
    metric: str
    campaign: str
    interaction_test: str
    interaction_stat: float
    interaction_df: int
    interaction_p: float
    lr_test: dict[str, Any] = field(default_factory=dict)
    alpha: float = 0.05
    binary: bool = True

    def summary(self) -> pd.DataFrame:
        """Effect per subgroup with CIs and Holm-adjusted p-values."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Interaction test and subgroup effects (JSON-able)."""
        return {
            "campaign": self.campaign, "by": self.by, "arm": self.arm_name, "metric": self.metric,
            "interaction_test": self.interaction_test, "interaction_stat": num(self.interaction_stat),
            "interaction_df": int(self.interaction_df), "interaction_p": num(self.interaction_p),
            "lr_test": {k: (num(v) if not isinstance(v, str) else v) for k, v in self.lr_test.items()},
            "subgroups": {
                str(r.subgroup): {"n": int(r.n), "control_n": int(r.control_n), "diff": num(r.diff),
                                  "diff_ci": [num(r.diff_low), num(r.diff_high)], "p_holm": num(r.p_holm)}
                for r in self.table.itertuples()
            },
        }  # fmt: skip

    def finding(self) -> str:
        """Whether the effect differs by subgroup, from the numbers."""
        b = self.binary
        sub = self.table.loc[self.table["subgroup"] != "(all)"].dropna(subset=["diff"])
        word = metric_word(self.metric)
        if sub.empty:
            return i18n.t("campaign.subgroups.none")
        hi, lo = sub.loc[sub["diff"].idxmax()], sub.loc[sub["diff"].idxmin()]
        text = i18n.t("campaign.subgroups.range", arm=self.arm_name, metric=word, by=self.by,
                      low=fmt_abs(lo["diff"], binary=b), low_group=subgroup_label(lo["subgroup"]),
                      high=fmt_abs(hi["diff"], binary=b), high_group=subgroup_label(hi["subgroup"]),
                      ci=fmt_ci(hi["diff_low"], hi["diff_high"], binary=b))  # fmt: skip
        differs = np.isfinite(self.interaction_p) and self.interaction_p < self.alpha
        text += " " + i18n.t("campaign.subgroups.differs" if differs else "campaign.subgroups.same",
                             p=f"{self.interaction_p:.2g}")  # fmt: skip
        sig = [subgroup_label(v) for v in sub.loc[sub["significant"], "subgroup"].astype(str)]
        if sig:
            text += " " + i18n.t("campaign.subgroups.significant", n=len(sub), groups=", ".join(sig))
        return text

    @property
    def strongest(self) -> dict[str, Any] | None:
        """The subgroup with the largest effect (``subgroup``, ``diff``, ``diff_low``,
        ``diff_high``) and whether the interaction test supports a difference (``differs``)."""
        sub = self.table.loc[self.table["subgroup"] != "(all)"].dropna(subset=["diff"])
        if sub.empty:
            return None
        hi = sub.loc[sub["diff"].idxmax()]
        differs = bool(np.isfinite(self.interaction_p) and self.interaction_p < self.alpha)
        return {"subgroup": str(hi["subgroup"]), "diff": float(hi["diff"]), "diff_low": float(hi["diff_low"]),
                "diff_high": float(hi["diff_high"]), "differs": differs}  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        """Forest plot: effect and 95 % CI per subgroup, overall effect as a line."""
        import seaborn as sns

        t = self.table
        ax = new_axes(ax, figsize=(6.5, 1 + 0.45 * len(t)))
        y = np.arange(len(t))[::-1]
        labels = [f"{subgroup_label(s)} (n={int(n) + int(m):,})"
                  for s, n, m in zip(t["subgroup"], t["n"], t["control_n"], strict=True)]  # fmt: skip
        overall, one = i18n.t("campaign.subgroups.legend_overall"), i18n.t("campaign.subgroups.legend_subgroup")
        kind = np.where(t["subgroup"] == "(all)", overall, one)
        sns.scatterplot(x=t["diff"].to_numpy(), y=y, hue=kind, style=kind, markers={overall: "D", one: "s"},
                        ax=ax, s=55, zorder=3, palette={overall: "black", one: "#4C72B0"})  # fmt: skip
        ax.errorbar(t["diff"], y, xerr=error_bar_lengths(t["diff"], t["diff_low"], t["diff_high"]), fmt="none",
                    ecolor="grey", capsize=3)  # fmt: skip
        ax.axvline(0, color="black", lw=0.8)
        allrow = t.loc[t["subgroup"] == "(all)"]
        if len(allrow):
            ax.axvline(float(allrow["diff"].iloc[0]), ls="--", color="grey", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels(labels)
        ax.set_xlabel(i18n.t("campaign.subgroups.axis", arm=self.arm_name, control=self.control,
                             metric=metric_word(self.metric)))  # fmt: skip
        ax.set_title(i18n.t("campaign.subgroups.title", campaign=self.campaign, by=self.by,
                            p=f"{self.interaction_p:.2g}"))  # fmt: skip
        return ax

    def __repr__(self) -> str:
        return (
            f"HeterogeneityResult(campaign={self.campaign!r}, arm={self.arm_name!r}, by={self.by!r}, "
            f"subgroups={int((self.table['subgroup'] != '(all)').sum())}, interaction_p={self.interaction_p:.3g})"
        )


def heterogeneity(
    contacts: pd.DataFrame,
    *,
    by: str,
    control: str,
    arm_name: str,
    metric: str = "converted",
    arm: str = "arm",
    alpha: float = 0.05,
    max_levels: int = 30,
) -> HeterogeneityResult:
    """Effect of one arm against control by subgroup, with an interaction test.

    Per subgroup: the difference (binary: Wald interval, Newcombe when a count is zero;
    otherwise Welch), its test, and Holm across subgroups. The interaction test is the joint
    Wald test of the arm x subgroup terms in a linear model ``y ~ subgroup + arm + arm:subgroup``
    with HC1 robust standard errors (additive scale, the scale of the forest plot); for binary
    metrics also the likelihood-ratio test of the same terms in a logistic model. Looking at
    many subgroups finds "effects" by chance, so a :class:`StatisticalWarning` reminds of it.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign with the subgroup column merged in.
    by : str
        Subgroup column; numeric columns
        with more than 10 values are cut into quartiles; blanks form ``(missing)``.
    control : str
        Control arm.
    arm_name : str
        Treated arm to compare.
    metric : str, default 'converted'
    arm : str, default 'arm'
    alpha : float, default 0.05
    max_levels : int, default 30

    Returns
    -------
    HeterogeneityResult

    Raises
    ------
    AnalysisError
        Columns missing, no control arm, unknown ``arm_name``, too many subgroups.
    """
    check_one_campaign(contacts)
    labels, arms = arm_labels(contacts, arm, control)
    if arm_name not in arms[1:]:
        raise AnalysisError(
            f"{TABLE}.{arm}: arm {arm_name!r} not found; treated arms: {format_examples(arms[1:])}"
            f"{did_you_mean(arm_name, arms[1:])} (change arm_name=)"
        )
    require_columns(contacts, [metric], what="metric", option="metric")
    require_columns(contacts, [by], what="subgroup", option="by")
    campaign = campaign_name(contacts)
    y, ok = metric_arrays(contacts, metric, labels)
    lab = labels.to_numpy()
    keep = ok & np.isin(lab, [control, arm_name])
    y = y[keep]
    t = lab[keep] == arm_name
    g = _subgroup_labels(contacts[by], by, max_levels).to_numpy()[keep]
    binary = is_binary(y)
    levels = sorted(pd.unique(g).tolist(), key=str)
    table = _subgroup_table(y, t, g, levels, binary=binary, alpha=alpha)
    usable = [lev for lev in levels if ((g == lev) & t).sum() >= 1 and ((g == lev) & ~t).sum() >= 1]
    dropped = [lev for lev in levels if lev not in usable]
    if dropped:
        warnings.warn(
            i18n.t("campaign.warn.subgroups_dropped", campaign=campaign, by=by, groups=format_examples(dropped)),
            StatisticalWarning,
            stacklevel=2,
        )
    stat, df_, p_int, lr = np.nan, max(len(usable) - 1, 0), np.nan, {}
    if len(usable) >= 2:
        stat, p_int, lr = _interaction_tests(y, t, g, usable, binary=binary)
    if len(levels) > 1:
        warnings.warn(
            i18n.t("campaign.warn.subgroups_many", campaign=campaign, arm=repr(arm_name), n=len(levels), by=repr(by)),
            StatisticalWarning,
            stacklevel=2,
        )
    name = "joint Wald test of arm x subgroup interaction (linear model, HC1 robust SE)"
    return HeterogeneityResult(
        table, by, arm_name, control, metric, campaign, name, stat, df_, p_int, lr, alpha, binary
    )


def subgroup_label(value: Any) -> str:
    """A subgroup as a reader sees it: the workbench's ``(all)`` / ``(missing)`` in the run's
    language, a segmentation cluster name translated (:func:`workbench.data.labels.cluster_label`),
    a value of the data as it is."""
    cluster = cluster_label(value)
    return cluster if cluster != str(value) else i18n.category("subgroup", value)


def _subgroup_labels(s: pd.Series, by: str, max_levels: int) -> pd.Series:
    """Subgroup of every row: quartiles of a many-valued number, else the values (blank = ``(missing)``)."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype) and s.nunique() > 10:
        q = pd.qcut(s.astype("float64"), 4, duplicates="drop")
        out = q.astype(str).where(q.notna(), "(missing)")
        return out
    out = s.astype(object).where(s.notna(), "(missing)").astype(str)
    if out.nunique() > max_levels:
        raise AnalysisError(
            f"{TABLE}.{by}: {out.nunique()} subgroups, more than max_levels={max_levels}; pass a coarser column as "
            "by= (e.g. a segment or class)"
        )
    return out


def _subgroup_table(
    y: np.ndarray, t: np.ndarray, g: np.ndarray, levels: list[Any], *, binary: bool, alpha: float
) -> pd.DataFrame:
    """Effect per subgroup (and ``(all)``) with interval, p-value and Holm across subgroups."""
    rows = []
    for lev in ["(all)"] + levels:
        m = np.ones(y.size, bool) if lev == "(all)" else g == lev
        y1, y0 = y[m & t], y[m & ~t]
        row: dict[str, Any] = {"subgroup": lev, "n": int(y1.size), "control_n": int(y0.size)}
        if y1.size < 2 or y0.size < 2:
            rows.append({**row, "ci_method": "too few customers", "p_value": np.nan})
            continue
        if binary:
            r = diff_proportions(y1.sum(), y1.size, y0.sum(), y0.size, alpha=alpha)
            row.update(arm_mean=float(r["p1"][0]), control_mean=float(r["p0"][0]), diff=float(r["diff"][0]),
                       diff_low=float(r["low"][0]), diff_high=float(r["high"][0]), p_value=float(r["p_value"][0]),
                       ci_method="Newcombe (zero count)" if r["zero"][0] else "Wald")  # fmt: skip
        else:
            w = welch(y1, y0, alpha=alpha)
            row.update(arm_mean=w["m1"], control_mean=w["m0"], diff=w["diff"], diff_low=w["low"],
                       diff_high=w["high"], p_value=w["p_value"], ci_method="Welch t")  # fmt: skip
        rows.append(row)
    cols = ["subgroup", "n", "control_n", "arm_mean", "control_mean", "diff", "diff_low", "diff_high", "ci_method",
            "p_value"]  # fmt: skip
    table = pd.DataFrame(rows).reindex(columns=cols)
    sub = table["subgroup"] != "(all)"
    table["p_holm"] = np.nan
    table.loc[sub, "p_holm"] = holm(table.loc[sub, "p_value"].to_numpy(dtype="float64"))
    table.loc[~sub, "p_holm"] = table.loc[~sub, "p_value"]
    table["significant"] = (table["p_holm"] < alpha).fillna(False).astype(bool)
    return table


def _interaction_tests(
    y: np.ndarray, t: np.ndarray, g: np.ndarray, usable: list[Any], *, binary: bool
) -> tuple[float, float, dict[str, Any]]:
    """Joint Wald test (OLS, HC1) of the arm x subgroup terms and, for a binary metric, the
    logistic likelihood-ratio test of the same terms: (statistic, p-value, LR test dict)."""
    import statsmodels.api as sm

    stat, p_int, lr = np.nan, np.nan, {}
    m = np.isin(g, usable)
    yy, tt, gg = y[m], t[m].astype(float), g[m]
    D = np.column_stack([(gg == lev).astype(float) for lev in usable[1:]])
    X = np.column_stack([np.ones(yy.size), D, tt, D * tt[:, None]])
    k = D.shape[1]
    idx = np.arange(X.shape[1] - k, X.shape[1])
    R = np.zeros((k, X.shape[1]))
    R[np.arange(k), idx] = 1
    try:
        res = sm.OLS(yy, X).fit(cov_type="HC1")
        w = res.wald_test(R, scalar=True)
        stat, p_int = float(w.statistic), float(w.pvalue)
    except (np.linalg.LinAlgError, ValueError):  # pragma: no cover - singular designs
        pass
    if binary:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                full = sm.GLM(yy, X, family=sm.families.Binomial()).fit()
                red = sm.GLM(yy, X[:, : X.shape[1] - k], family=sm.families.Binomial()).fit()
            lrs = float(2 * (full.llf - red.llf))
            lr = {"test": "likelihood-ratio, logistic model arm x subgroup", "stat": lrs, "df": k,
                  "p_value": float(sps.chi2.sf(max(lrs, 0.0), k))}  # fmt: skip
        except Exception:  # pragma: no cover - separation etc.
            lr = {}
    return stat, p_int, lr
