"""The data of an uplift model: the contacts of one randomized campaign (a treatment arm and the
control arm) joined to customer features known before the contact (:func:`uplift_data`)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.campaign._common import CONSENT, arm_counts_text, error_bar_lengths
from workbench.campaign.uplift._common import (
    CONTACT_COLUMNS,
    LEAK_SHARE,
    MAX_LEVELS,
    MIN_POSITIVES_ERROR,
    MIN_POSITIVES_WARN,
    MIN_ROWS_PER_ARM_ERROR,
    MIN_ROWS_PER_ARM_WARN,
    TABLE,
    fmt_g,
    group_effect,
    points,
)
from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    did_you_mean,
    format_examples,
)
from workbench.data.numbers import to_number
from workbench.report import i18n
from workbench.report.fmt import num, pct
from workbench.report.i18n import Text, category, neutral, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import wilson_interval

__all__ = ["UpliftData", "uplift_data"]


@dataclass(frozen=True, eq=False, repr=False)
class UpliftData(Result):
    """Contacts of one randomized campaign joined to customer features (see :func:`uplift_data`).

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per contact: ``customer_id``, ``treated`` (bool), ``outcome`` (float), then the
        feature columns.
    campaign : str or None
        Campaign id (None when the contacts have no ``campaign_id`` column).
    treatment_arm, control_arm : str
        Arms compared.
    outcome : str
        Outcome column of ``campaign_contacts``.
    binary : bool
        Outcome is 0/1 (classifiers) rather than continuous (regressors).
    numeric_features, categorical_features : tuple of str
        Features used.
    dropped_features : dict
        Feature -> why it is not used.
    n_contacts : int
        Contacts of the two arms before the join.
    n_without_features : int
        Contacts dropped because the feature table has no row for the customer.
    n_missing_outcome : int
        Contacts dropped because the outcome is missing.
    value_per_conversion : float or None
        Mean ``revenue`` of treated converters (binary outcome with a ``revenue`` column); 1.0
        for a continuous outcome (already a value).
    contact_cost : float or None
        Mean ``cost`` of a treated contact (``cost`` column).
    """

    frame: pd.DataFrame
    campaign: str | None
    treatment_arm: str
    control_arm: str
    outcome: str
    binary: bool
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    dropped_features: dict[str, str] = field(default_factory=dict)
    n_contacts: int = 0
    n_without_features: int = 0
    n_missing_outcome: int = 0
    value_per_conversion: float | None = None
    contact_cost: float | None = None

    @property
    def features(self) -> tuple[str, ...]:
        """All feature columns used (numeric first)."""
        return self.numeric_features + self.categorical_features

    def effect(self) -> pd.DataFrame:
        """Average effect of the treatment arm: one row with ``n_treated``, ``n_control``,
        ``mean_treated``, ``mean_control``, ``observed_uplift``, ``ci_low``, ``ci_high`` (95 %,
        Newcombe for a binary outcome, Welch otherwise) and ``p_value``."""
        f = self.frame
        return group_effect(f["treated"].to_numpy(), f["outcome"].to_numpy(), None, self.binary)

    def summary(self) -> pd.DataFrame:
        """One row per arm: ``arm``, ``contacts``, ``positives`` (binary outcome),
        ``outcome_mean`` with a 95 % interval (Wilson for a binary outcome, t otherwise)."""
        from scipy.stats import t as tdist

        f = self.frame
        rows = []
        for arm, is_t in ((self.treatment_arm, True), (self.control_arm, False)):
            y = f.loc[f["treated"] == is_t, "outcome"].to_numpy(dtype="float64")
            n = len(y)
            m = float(y.mean()) if n else float("nan")
            if self.binary:
                lo, hi = wilson_interval(y.sum(), n)
                lo_, hi_ = float(lo[0]), float(hi[0])
            else:
                se = float(y.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
                q = float(tdist.ppf(0.975, max(n - 1, 1)))
                lo_, hi_ = m - q * se, m + q * se
            rows.append(
                {
                    "arm": arm,
                    "role": category("arm_role", "treatment" if is_t else "control"),
                    "contacts": n,
                    "positives": int((y > 0).sum()),
                    "outcome_mean": m,
                    "ci_low": lo_,
                    "ci_high": hi_,
                }
            )
        return pd.DataFrame(rows)

    def feature_table(self) -> pd.DataFrame:
        """One row per candidate feature: ``feature``, ``kind`` (numeric / categorical /
        dropped), ``missing_share``, ``reason`` (why dropped)."""
        f = self.frame
        rows = [
            {
                "feature": c,
                "kind": "numeric",
                "missing_share": float(f[c].isna().mean()),
                "reason": "",
            }
            for c in self.numeric_features
        ]
        rows += [
            {
                "feature": c,
                "kind": "categorical",
                "missing_share": float(f[c].isna().mean()),
                "reason": "",
            }
            for c in self.categorical_features
        ]
        rows += [
            {"feature": c, "kind": "dropped", "missing_share": np.nan, "reason": r}
            for c, r in self.dropped_features.items()
        ]
        return pd.DataFrame(rows, columns=["feature", "kind", "missing_share", "reason"])

    def to_frame(self) -> pd.DataFrame:
        """The joined rows (copy)."""
        return self.frame.copy()

    def metrics(self) -> dict[str, Any]:
        """Rows, arms, effect and features (JSON-able)."""
        e = self.effect().iloc[0]
        s = self.summary().set_index("role")
        return {
            "campaign": self.campaign,
            "treatment_arm": self.treatment_arm,
            "control_arm": self.control_arm,
            "outcome": self.outcome,
            "binary": self.binary,
            "n_rows": len(self.frame),
            "n_treated": int(s.loc["treatment", "contacts"]),
            "n_control": int(s.loc["control", "contacts"]),
            "n_contacts": self.n_contacts,
            "n_without_features": self.n_without_features,
            "n_missing_outcome": self.n_missing_outcome,
            "mean_treated": num(e["mean_treated"]),
            "mean_control": num(e["mean_control"]),
            "observed_uplift": num(e["observed_uplift"]),
            "observed_uplift_ci": [num(e["ci_low"]), num(e["ci_high"])],
            "p_value": num(e["p_value"]),
            "features": list(self.features),
            "dropped_features": {k: neutral(v) for k, v in self.dropped_features.items()},
            "value_per_conversion": num(self.value_per_conversion),
            "contact_cost": num(self.contact_cost),
        }

    def finding(self) -> str:
        """Size of the experiment and the average effect, in words."""
        e = self.effect().iloc[0]
        what = t("campaign.uplift_data.rate" if self.binary else "campaign.uplift_data.mean", outcome=self.outcome)
        fmt = pct if self.binary else fmt_g
        diff = points if self.binary else fmt_g
        sig = t("campaign.uplift_data.clearly" if e["p_value"] < 0.05 else "campaign.uplift_data.not_clearly")
        text = t("campaign.uplift_data.finding", n=f"{len(self.frame):,}",
                 campaign=self.campaign or t("campaign.uplift_data.the_campaign"), n_treated=f"{int(e['n_treated']):,}",
                 treatment=repr(self.treatment_arm), n_control=f"{int(e['n_control']):,}",
                 control=repr(self.control_arm), what=what, treated=fmt(e["mean_treated"]),
                 control_level=fmt(e["mean_control"]), uplift=diff(e["observed_uplift"]), low=diff(e["ci_low"]),
                 high=diff(e["ci_high"]), sig=sig, features=len(self.features))  # fmt: skip
        if self.dropped_features:
            items = [t("campaign.uplift_data.dropped_item", feature=k, reason=v)
                     for k, v in list(self.dropped_features.items())[:6]]  # fmt: skip
            text += t("campaign.uplift_data.not_used", features=t("campaign.uplift_data.dropped_sep").join(items))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Outcome by arm with 95 % intervals. Returns a matplotlib Axes."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(5, 3.5))
        s = self.summary()
        sns.barplot(data=s, x="arm", y="outcome_mean", hue="role", dodge=False, ax=ax, legend=False)
        ax.errorbar(
            np.arange(len(s)),
            s["outcome_mean"],
            yerr=error_bar_lengths(s["outcome_mean"], s["ci_low"], s["ci_high"]),
            fmt="none",
            color="black",
            capsize=4,
        )
        ax.set_ylabel(f"{self.outcome} rate" if self.binary else f"mean {self.outcome}")
        ax.set_xlabel("")
        ax.set_title(f"{self.campaign or 'campaign'}: {self.outcome} by arm (95 % CI)")
        return ax

    def __repr__(self) -> str:
        s = self.summary().set_index("role")
        return (
            f"UpliftData(campaign={self.campaign!r}, outcome={self.outcome!r}, "
            f"treated={int(s.loc['treatment', 'contacts']):,}, control={int(s.loc['control', 'contacts']):,}, "
            f"features={len(self.features)})"
        )


def _as_outcome(values: pd.Series, outcome: str) -> tuple[pd.Series, bool]:
    """Outcome as float and whether it is binary; raises on non-numbers."""
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64").astype("float64"), True
    if not pd.api.types.is_numeric_dtype(s.dtype):
        s = to_number(s, name=f"{TABLE}.{outcome}", noun="numbers or true/false",
                      fix="pass a numeric or 0/1 column as outcome=")
    s = s.astype("float64")
    vals = s.dropna()
    binary = bool(vals.isin([0.0, 1.0]).all())
    return s, binary


def _agrees(a: np.ndarray, b: np.ndarray, rare: np.ndarray) -> bool:
    """``a == b`` on >= LEAK_SHARE of rows and on >= 90 % of the rows where ``b`` is not its
    most common value (so a feature that is merely mostly 0 does not copy a rare outcome)."""
    eq = a == b
    if float(eq.mean()) < LEAK_SHARE:
        return False
    return bool(rare.sum() == 0 or float(eq[rare].mean()) >= 0.9)


def _leak_reason(feat: pd.Series, contacts: pd.DataFrame) -> str | None:
    """Why ``feat`` carries post-contact information, else None.

    A feature copies a contacts column (arm, opened, visited, converted, revenue, ...) when it
    equals it, or is non-zero exactly when it is (``spend`` vs ``converted``), on >= 99 % of the
    rows including >= 90 % of the rows where the column is not its most common value; a
    feature with at most 50 values copies the arm when its values sort rows into arms (>= 99 %
    of rows in the majority arm of their value).
    """
    a = feat.reset_index(drop=True)
    numeric = pd.api.types.is_numeric_dtype(a.dtype) or pd.api.types.is_bool_dtype(a.dtype)
    for c in CONTACT_COLUMNS:
        if c not in contacts.columns:
            continue
        b = contacts[c].reset_index(drop=True)
        ok = (a.notna() & b.notna()).to_numpy()
        if ok.sum() < 0.5 * len(a) or ok.sum() == 0:
            continue
        aa, bb = a[ok], b[ok]
        b_num = pd.api.types.is_numeric_dtype(bb.dtype) or pd.api.types.is_bool_dtype(bb.dtype)
        if numeric and b_num:
            av = aa.astype("float64").to_numpy()
            bv = bb.astype("float64").to_numpy()
            mode = pd.Series(bv).mode().iloc[0]
            rare = bv != mode
            if _agrees(np.round(av, 6), np.round(bv, 6), rare):
                return Text("campaign.uplift_data.drop.copies", column=f"{TABLE}.{c}")
            if _agrees(av != 0, bv != 0, rare):
                return Text("campaign.uplift_data.drop.nonzero", column=f"{TABLE}.{c}")
        elif not numeric and not b_num:
            av = aa.astype(str).to_numpy()
            bv = bb.astype(str).to_numpy()
            mode = pd.Series(bv).mode().iloc[0]
            if _agrees(av, bv, bv != mode):
                return Text("campaign.uplift_data.drop.copies", column=f"{TABLE}.{c}")
    if "arm" in contacts.columns and a.nunique(dropna=True) <= MAX_LEVELS:
        arm = contacts["arm"].astype("string").reset_index(drop=True)
        ok = (a.notna() & arm.notna()).to_numpy()
        if ok.sum() >= 0.5 * len(a):
            tab = pd.crosstab(a[ok].astype(str), arm[ok])
            if tab.shape[1] > 1 and tab.max(axis=1).sum() >= LEAK_SHARE * tab.to_numpy().sum():
                return Text("campaign.uplift_data.drop.sorts_arms", column=f"{TABLE}.arm")
    return None


def uplift_data(
    contacts: pd.DataFrame,
    features: pd.DataFrame,
    *,
    treatment_arm: str | None = None,
    control_arm: str = "control",
    outcome: str = "converted",
    feature_columns: Sequence[str] | None = None,
    campaign: str | None = None,
) -> UpliftData:
    """Join the contacts of one randomized campaign to customer features and check them.

    The steps: check the columns, select the campaign, select the two arms, read the outcome,
    value and cost, join the features, select the usable features, check the arm sizes.

    Parameters
    ----------
    contacts : pandas.DataFrame
        Canonical ``campaign_contacts``: ``customer_id``, ``arm``, the outcome column; optional
        ``campaign_id``, ``cost`` (default contact cost), ``revenue`` (default value per
        conversion). Not modified.
    features : pandas.DataFrame
        One row per customer: ``customer_id`` and features known *before* the contact (e.g.
        :func:`workbench.data.features.customer_features` as of the day before the campaign, or the
        extra columns of ``customers``). Datetime and id-like text columns are dropped; columns
        that copy a contacts column (arm, outcome) are dropped with a warning.
    treatment_arm : str, optional
        Arm compared with control; default the largest arm other than control.
    control_arm : str, default "control"
        Hold-out arm.
    outcome : str, default "converted"
        0/1 outcome (classifiers) or a numeric one such as ``revenue`` (regressors).
    feature_columns : sequence of str, optional
        Features to use; default every usable column but ``marketing_consent`` (a permission,
        not a customer trait).
    campaign : str, optional
        ``campaign_id`` to use; default the largest campaign that has both arms.

    Returns
    -------
    UpliftData

    Raises
    ------
    AnalysisError
        Missing columns, unknown campaign or arm, an arm with fewer than 50 rows or fewer than 5
        positives, an outcome that is not numeric, duplicated customers within the campaign,
        feature columns not in the feature table, no contact with features, no usable feature.
        The message names the keyword to change.

    Warns
    -----
    StatisticalWarning
        Fewer than 200 rows or 30 positives in an arm.
    DataQualityWarning
        Contacts without features or without outcome were dropped; a feature copies the outcome.
    """
    _step_check_columns(contacts, features, outcome)
    cc, campaign = _step_campaign(
        contacts, campaign, control_arm=control_arm, treatment_arm=treatment_arm
    )
    where = f"{TABLE}.arm" + (f" (campaign {campaign!r})" if campaign else "")
    cc, treatment_arm = _step_arms(cc, where, control_arm=control_arm, treatment_arm=treatment_arm)
    n_contacts = len(cc)
    y, binary = _as_outcome(cc[outcome], outcome)
    treated = (cc["arm"].astype("string") == treatment_arm).to_numpy(dtype=bool)
    value, cost = _step_value_and_cost(cc, y, treated, binary)
    base = pd.DataFrame(
        {
            "customer_id": cc["customer_id"].to_numpy(),
            "treated": treated,
            "outcome": y.to_numpy(dtype="float64"),
        }
    )
    miss_y = np.isnan(base["outcome"].to_numpy())
    n_missing_outcome = int(miss_y.sum())
    if n_missing_outcome:
        warnings.warn(
            t("campaign.warn.no_outcome", table=TABLE, outcome=outcome, n=f"{n_missing_outcome:,}",
              total=f"{n_contacts:,}"),
            DataQualityWarning,
            stacklevel=2,
        )
    cand = _step_candidates(features, feature_columns)
    base, feat_rows, contacts_ok, n_without = _step_join(base, features, cc, miss_y)
    numeric, categorical, dropped = _step_select_features(cand, feat_rows, contacts_ok)
    frame = pd.concat([base, feat_rows[numeric + categorical].reset_index(drop=True)], axis=1)
    for c in numeric:
        if pd.api.types.is_bool_dtype(frame[c].dtype):
            frame[c] = frame[c].astype("Float64").astype("float64")
    shown = (t("campaign.warn.uplift_where_campaign", table=TABLE, campaign=repr(campaign)) if campaign
             else f"{TABLE}.arm")  # fmt: skip
    _step_check_arm_sizes(
        frame, where, binary=binary, outcome=outcome, arms=(str(treatment_arm), control_arm), shown=shown
    )
    return UpliftData(
        frame=frame,
        campaign=campaign,
        treatment_arm=str(treatment_arm),
        control_arm=str(control_arm),
        outcome=outcome,
        binary=binary,
        numeric_features=tuple(numeric),
        categorical_features=tuple(categorical),
        dropped_features=dropped,
        n_contacts=n_contacts,
        n_without_features=n_without,
        n_missing_outcome=n_missing_outcome,
        value_per_conversion=value,
        contact_cost=cost,
    )


def _step_check_columns(contacts: pd.DataFrame, features: pd.DataFrame, outcome: str) -> None:
    """The contacts have ``customer_id``, ``arm`` and the outcome; the features one row per customer."""
    for col in ("customer_id", "arm", outcome):
        if col not in contacts.columns:
            hint = (
                f"change outcome={outcome!r}{did_you_mean(outcome, contacts.columns)}"
                if col == outcome
                else "map it in the table's columns"
            )
            raise AnalysisError(
                f"{TABLE}: column {col!r} is missing ({len(contacts):,} rows; columns: "
                f"{', '.join(map(str, contacts.columns))}); {hint}"
            )
    if "customer_id" not in features.columns:
        raise AnalysisError(
            f"feature table: column 'customer_id' is missing (columns: {', '.join(map(str, features.columns))}); "
            "build it with workbench.data.features.customer_features"
        )
    dup = features["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"feature table: {int(dup.sum()):,} of {len(features):,} rows repeat a customer_id, "
            f"e.g. {format_examples(features.loc[dup, 'customer_id'])}; it must have one row per customer"
        )


def _step_campaign(
    cc: pd.DataFrame, campaign: str | None, *, control_arm: str, treatment_arm: str | None
) -> tuple[pd.DataFrame, str | None]:
    """The rows of one campaign: ``campaign``, or the largest campaign with both arms (else with
    the control arm, else the largest: the arm checks then list the arms that exist)."""
    if "campaign_id" not in cc.columns:
        if campaign is not None:
            raise AnalysisError(
                f"{TABLE}: no campaign_id column, so campaign={campaign!r} cannot be selected; "
                "map the campaign_id column or pass campaign=None"
            )
        return cc, None
    camp_ids = cc["campaign_id"].astype("string")
    known = camp_ids.dropna().unique().tolist()
    if campaign is None:
        sizes = list(camp_ids.value_counts().index)
        if not sizes:
            raise AnalysisError(
                f"{TABLE}.campaign_id: no campaign in {len(cc):,} rows; check the table"
            )
        arm_s = cc["arm"].astype("string")
        with_c = set(camp_ids[(arm_s == control_arm).fillna(False)].dropna())
        with_t = (
            set(camp_ids[(arm_s == treatment_arm).fillna(False)].dropna())
            if treatment_arm
            else set(sizes)
        )
        cands = (
            [c for c in sizes if c in with_c and c in with_t]
            or [c for c in sizes if c in with_c]
            or sizes
        )
        campaign = str(cands[0])
    elif campaign not in known:
        raise AnalysisError(
            f"{TABLE}.campaign_id: campaign {campaign!r} not found ({len(cc):,} rows; campaigns: "
            f"{format_examples(known, 10)}); change campaign={campaign!r}{did_you_mean(campaign, known)}"
        )
    return cc.loc[(camp_ids == campaign).fillna(False).to_numpy()], campaign


def _step_arms(
    cc: pd.DataFrame, where: str, *, control_arm: str, treatment_arm: str | None
) -> tuple[pd.DataFrame, str]:
    """The rows of the treatment and control arm (default treatment: the largest other arm);
    one contact per customer."""
    arm = cc["arm"].astype("string")
    counts = arm.value_counts()
    arms_txt = arm_counts_text(counts)
    if control_arm not in counts.index:
        raise AnalysisError(
            f"{where}: control arm {control_arm!r} not found among {len(cc):,} rows; arms: {arms_txt}; "
            f"change control_arm={control_arm!r}{did_you_mean(control_arm, counts.index)}"
        )
    if treatment_arm is None:
        others = [a for a in counts.index if a != control_arm]
        if not others:
            raise AnalysisError(
                f"{where}: only the control arm {control_arm!r} is present ({len(cc):,} rows); "
                "uplift needs a treatment arm; check campaign="
            )
        treatment_arm = str(others[0])
    elif treatment_arm not in counts.index:
        raise AnalysisError(
            f"{where}: treatment arm {treatment_arm!r} not found among {len(cc):,} rows; arms: {arms_txt}; "
            f"change treatment_arm={treatment_arm!r}{did_you_mean(treatment_arm, counts.index)}"
        )
    cc = cc.loc[arm.isin([treatment_arm, control_arm]).fillna(False).to_numpy()]
    dupc = cc["customer_id"].duplicated()
    if dupc.any():
        raise AnalysisError(
            f"{where}: {int(dupc.sum()):,} of {len(cc):,} contacts repeat a customer_id within the campaign, "
            f"e.g. {format_examples(cc.loc[dupc, 'customer_id'])}; one contact per customer and campaign is expected"
        )
    return cc, treatment_arm


def _step_value_and_cost(
    cc: pd.DataFrame, y: pd.Series, treated: np.ndarray, binary: bool
) -> tuple[float | None, float | None]:
    """Value per conversion (mean revenue of treated converters; 1 for a continuous outcome) and
    cost per contact (mean ``cost`` of a treated contact), from the contacts."""
    value = None
    if not binary:
        value = 1.0
    elif "revenue" in cc.columns:
        rev = pd.to_numeric(cc["revenue"], errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan
        )
        sel = treated & (y.to_numpy() == 1) & np.isfinite(rev) & (rev > 0)
        if sel.any():
            value = float(rev[sel].mean())
    cost = None
    if "cost" in cc.columns:
        cst = pd.to_numeric(cc["cost"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        ok = treated & np.isfinite(cst)
        if ok.any():
            cost = float(cst[ok].mean())
    return value, cost


def _step_candidates(features: pd.DataFrame, feature_columns: Sequence[str] | None) -> list[str]:
    """Candidate feature columns: ``feature_columns`` (all present) or every column but the key."""
    if feature_columns is None:  # consent is a permission, not a trait that predicts the response
        return [c for c in features.columns if c not in ("customer_id", CONSENT)]
    missing = [c for c in feature_columns if c not in features.columns]
    if missing:
        raise AnalysisError(
            f"feature table: feature column(s) {', '.join(map(repr, missing))} not found "
            f"({len(features):,} rows; columns: {', '.join(map(str, features.columns))}); change "
            f"feature_columns={list(feature_columns)!r}{did_you_mean(missing[0], features.columns)}"
        )
    return [c for c in feature_columns if c != "customer_id"]


def _step_join(
    base: pd.DataFrame, features: pd.DataFrame, cc: pd.DataFrame, miss_y: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """Contacts (in their order) with an outcome and a feature row (matched on ``customer_id``
    as text): (base rows, feature rows, contact rows, contacts without features)."""
    n_contacts = len(base)
    fkey = features["customer_id"].astype("string")
    pos = pd.Index(fkey).get_indexer(base["customer_id"].astype("string"))
    has = pos >= 0
    n_without = int((~has).sum())
    ok_rows = has & ~miss_y
    if not ok_rows.any():
        raise AnalysisError(
            f"{TABLE}.customer_id: none of the {n_contacts:,} contacts has a row in the feature table "
            f"(contacts e.g. {format_examples(base['customer_id'])}; features e.g. "
            f"{format_examples(features['customer_id'])}); build the features for the same customers and keys"
        )
    if n_without:
        warnings.warn(
            t("campaign.warn.no_features", table=TABLE, n=f"{n_without:,}", total=f"{n_contacts:,}",
              examples=format_examples(base.loc[~has, "customer_id"])),
            DataQualityWarning,
            stacklevel=3,
        )
    feat_rows = features.iloc[pos[ok_rows]].reset_index(drop=True)
    contacts_ok = cc.iloc[np.flatnonzero(ok_rows)].reset_index(drop=True)
    return base.loc[ok_rows].reset_index(drop=True), feat_rows, contacts_ok, n_without


def _step_select_features(
    cand: list[str], feat_rows: pd.DataFrame, contacts_ok: pd.DataFrame
) -> tuple[list[str], list[str], dict[str, str]]:
    """Numeric and categorical features, and why the others are dropped (dates, constant, all
    missing, id-like text, post-contact information)."""
    numeric: list[str] = []
    categorical: list[str] = []
    dropped: dict[str, str] = {}
    for c in cand:
        s = feat_rows[c]
        if c in ("treated", "outcome"):
            dropped[c] = Text("campaign.uplift_data.drop.reserved")
            continue
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or isinstance(s.dtype, pd.PeriodDtype):
            dropped[c] = Text("campaign.uplift_data.drop.date")
            continue
        if s.notna().sum() == 0:
            dropped[c] = Text("campaign.uplift_data.drop.all_missing")
            continue
        if s.nunique(dropna=True) < 2:
            dropped[c] = Text("campaign.uplift_data.drop.constant")
            continue
        leak = _leak_reason(s, contacts_ok)
        if leak:
            dropped[c] = leak
            warnings.warn(
                t("campaign.warn.feature_leak", feature=repr(c), reason=leak),
                DataQualityWarning,
                stacklevel=3,
            )
            continue
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            numeric.append(c)
            continue
        nun = s.nunique(dropna=True)
        if nun > MAX_LEVELS and nun > 0.5 * s.notna().sum():
            dropped[c] = Text("campaign.uplift_data.drop.id_like", n=f"{nun:,}")
            continue
        categorical.append(c)
    if not numeric and not categorical:
        raise AnalysisError(
            f"feature table: no usable feature among {len(cand):,} column(s) "
            f"({'; '.join(f'{k}: {neutral(v)}' for k, v in list(dropped.items())[:8]) or 'none given'}); "
            "pass feature_columns= or build features with workbench.data.features.customer_features"
        )
    return numeric, categorical, dropped


def _step_check_arm_sizes(
    frame: pd.DataFrame, where: str, *, binary: bool, outcome: str, arms: tuple[str, str], shown: str
) -> None:
    """Enough rows and positives per arm to learn uplift (error, naming ``where``), or to learn it
    well (warning, naming ``shown``: ``where`` in the run's language)."""
    t = frame["treated"].to_numpy()
    yy = frame["outcome"].to_numpy()
    n = len(frame)
    for name, mask, option in ((arms[0], t, "treatment_arm"), (arms[1], ~t, "control_arm")):
        k = int(mask.sum())
        pos_k = int((yy[mask] > 0).sum()) if binary else int((yy[mask] != 0).sum())
        if k < MIN_ROWS_PER_ARM_ERROR:
            raise AnalysisError(
                f"{where}: arm {name!r} has {k:,} contacts with features and outcome (of {n:,}); "
                f"at least {MIN_ROWS_PER_ARM_ERROR} per arm are needed to learn uplift; check {option}="
            )
        if pos_k < MIN_POSITIVES_ERROR:
            what = "positive" if binary else "non-zero"
            raise AnalysisError(
                f"{TABLE}.{outcome}: {pos_k:,} of {k:,} contacts in arm {name!r} are {what}; uplift cannot be "
                "learned from (almost) no responders; pass a more frequent outcome="
            )
        if k < MIN_ROWS_PER_ARM_WARN or (binary and pos_k < MIN_POSITIVES_WARN):
            warnings.warn(
                i18n.t("campaign.warn.noisy_arm", where=shown, arm=repr(name), n=f"{k:,}", positives=f"{pos_k:,}",
                  min_rows=MIN_ROWS_PER_ARM_WARN, min_positives=MIN_POSITIVES_WARN),
                StatisticalWarning,
                stacklevel=3,
            )
