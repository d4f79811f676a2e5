"""Covariate balance between the arms of one campaign (standardized mean differences)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.campaign.experiments._common import (
    SMD_FLAG,
    TABLE,
    arm_labels,
    campaign_name,
    check_one_campaign,
    covariate_matrix,
    require_columns,
    smd_table,
)
from workbench.core.errors import AnalysisError
from workbench.report import i18n
from workbench.report.fmt import num
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["BalanceResult", "balance_table"]


@dataclass(frozen=True, eq=False, repr=False)
class BalanceResult(Result):
    """Covariate balance between each arm and control (see :func:`balance_table`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per arm and covariate (categoricals one row per level ``col=level``): ``arm``,
        ``covariate``, ``kind``, ``mean_arm``, ``mean_control``, ``smd``, ``imbalanced``.
    control : str
    campaign : str
    threshold : float
        |SMD| above which a covariate is flagged (0.1).
    """

    table: pd.DataFrame
    control: str
    campaign: str
    threshold: float = SMD_FLAG

    @property
    def n_imbalanced(self) -> int:
        """Rows with |SMD| above the threshold."""
        return int(self.table["imbalanced"].sum())

    def summary(self) -> pd.DataFrame:
        """The balance table, largest |SMD| first."""
        t = self.table.copy()
        return t.reindex(t["smd"].abs().sort_values(ascending=False).index).reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The balance table in covariate order."""
        return self.table.copy()

    def metrics(self) -> dict[str, Any]:
        """Max |SMD| and the flagged covariates (JSON-able)."""
        t = self.table
        return {
            "campaign": self.campaign,
            "threshold": self.threshold,
            "max_abs_smd": num(t["smd"].abs().max()) if len(t) else None,
            "n_imbalanced": self.n_imbalanced,
            "imbalanced": [f"{r.arm}: {r.covariate}" for r in t.loc[t["imbalanced"]].itertuples()],
        }

    def finding(self) -> str:
        """Whether the arms are comparable, from the numbers."""
        t = self.table
        if t.empty:
            return i18n.t("campaign.balance.none")
        mx = t.iloc[int(np.nanargmax(t["smd"].abs().to_numpy()))]
        if self.n_imbalanced == 0:
            return i18n.t("campaign.balance.ok", campaign=self.campaign, n=t["covariate"].nunique(),
                          threshold=f"{self.threshold:g}", largest=f"{abs(mx['smd']):.3f}", covariate=mx["covariate"],
                          arm=mx["arm"])  # fmt: skip
        bad = t.loc[t["imbalanced"]]
        items = i18n.t("campaign.balance.sep").join(
            i18n.t("campaign.balance.item", covariate=r.covariate, arm=r.arm, smd=f"{r.smd:+.2f}")
            for r in bad.head(5).itertuples()
        )
        return i18n.t("campaign.balance.imbalanced", n=len(bad), threshold=f"{self.threshold:g}", items=items)

    def plot(self, ax: Any = None) -> Any:
        """Love plot: SMD per covariate and arm, with the ±0.1 band."""
        import seaborn as sns

        t = self.summary()
        ax = new_axes(ax, figsize=(6, 0.9 + 0.28 * max(t["covariate"].nunique(), 2)))
        sns.scatterplot(data=t, x="smd", y="covariate", hue="arm", ax=ax, s=45)
        for v in (-self.threshold, self.threshold):
            ax.axvline(v, ls="--", color="grey", lw=1)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel(i18n.t("campaign.balance.axis", control=self.control))
        ax.set_ylabel("")
        ax.set_title(i18n.t("campaign.balance.title", campaign=self.campaign))
        return ax

    def __repr__(self) -> str:
        mx = self.table["smd"].abs().max() if len(self.table) else float("nan")
        return (
            f"BalanceResult(campaign={self.campaign!r}, covariates={self.table['covariate'].nunique()}, "
            f"max_abs_smd={mx:.3f}, imbalanced={self.n_imbalanced})"
        )


def balance_table(
    contacts: pd.DataFrame,
    *,
    covariates: Sequence[str],
    control: str,
    arm: str = "arm",
    threshold: float = SMD_FLAG,
) -> BalanceResult:
    """Standardized mean differences of covariates between each arm and control.

    SMD = (mean_arm - mean_control) / sqrt((var_arm + var_control) / 2); binary and one-hot
    categorical levels use the same formula on 0/1 values. Missing numeric values are left out
    per covariate; missing categorical values form a ``(missing)`` level. |SMD| > 0.1 is flagged.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Contacts of one campaign with the covariate columns merged in.
    covariates : sequence of str
        Columns to check.
    control : str
        Control arm.
    arm : str, default 'arm'
    threshold : float, default 0.1

    Returns
    -------
    BalanceResult

    Raises
    ------
    AnalysisError
        Covariate columns missing, no control arm, only one arm.
    """
    check_one_campaign(contacts)
    labels, arms = arm_labels(contacts, arm, control)
    covariates = list(covariates)
    if not covariates:
        raise AnalysisError(f"{TABLE}: no covariates given for the balance check; pass covariates=[...]")
    require_columns(contacts, covariates, what="covariate", option="covariates")
    X, kinds = covariate_matrix(contacts, covariates)
    lab = labels.to_numpy()
    c = lab == control
    parts = []
    for a in arms[1:]:
        t = smd_table(X, lab == a, c)
        t.insert(0, "arm", a)
        parts.append(t)
    table = pd.concat(parts, ignore_index=True).rename(columns={"mean_treated": "mean_arm"})
    table.insert(2, "kind", table["covariate"].map(kinds))
    table["imbalanced"] = table["smd"].abs() > threshold
    return BalanceResult(table, control, campaign_name(contacts), threshold)
