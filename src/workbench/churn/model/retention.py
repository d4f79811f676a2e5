"""Value at risk and the retention list: :func:`value_at_risk`, :class:`RetentionList` and
:func:`retention_list` (section 5 of the churn model).

Money in findings and charts takes the run's currency (:func:`workbench.report.fmt.settings`).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.churn._common import CONSENT_COLUMN, level_text
from workbench.churn.frame import SEGMENT_COLUMNS, segment_column
from workbench.core.errors import AnalysisError, DataQualityWarning, did_you_mean, format_examples
from workbench.report.fmt import count, money, num, pct, settings
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["SEGMENT_COLUMNS", "ITEMS", "value_at_risk", "RetentionList", "retention_list"]

#: Headline figures of a retention list: code -> its name in ``metrics.json`` (language-neutral;
#: the reader's label is ``churn.retention.item.<code>``).
ITEMS: dict[str, str] = {
    "scored": "customers scored",
    "worth": "worth contacting (expected net value > 0)",
    "worth_share": "share of the base worth contacting",
    "no_consent": "excluded: no marketing consent",
    "no_consent_worth": "excluded: no marketing consent, though worth contacting",
    "unknown_on_list": "on the list with unknown consent",
    "on_list": "on the list",
    "expected_churners": "expected churners on the list",
    "value_at_risk_list": "value at risk on the list (sum p x value)",
    "expected_saved": "expected value saved",
    "contact_cost": "contact cost",
    "expected_net_value": "expected net value",
    "value_at_risk_base": "value at risk, whole base (sum p x value)",
    "save_rate": "assumed save rate",
    "cost_per_contact": "cost per contact",
}


def value_at_risk(
    frame: pd.DataFrame,
    *,
    source: Literal["auto", "clv", "formula"] = "auto",
    formula: str = "monetary_sum",
    id_column: str = "customer_id",
) -> pd.Series:
    """Value at risk per customer: the ``clv`` column when present (``auto``/``clv``), else a
    pandas expression over the customer columns (``analyses.churn.retention.value_formula``).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per customer (not modified).
    source : {'auto', 'clv', 'formula'}, default 'auto'
        ``analyses.churn.retention.value_source``.
    formula : str, default "monetary_sum"
        e.g. ``"monetary_sum"`` or ``"monthly_charges * 12"``.
    id_column : str, default "customer_id"

    Returns
    -------
    pandas.Series
        Float values indexed by customer key, named after their source (``clv`` or the formula).

    Raises
    ------
    AnalysisError
        ``clv`` wanted but absent; the formula fails or does not give numbers.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": ["a", "b"], "monthly_charges": [10.0, 20.0]})
    >>> value_at_risk(f, formula="monthly_charges * 12").tolist()
    [120.0, 240.0]
    """
    if id_column not in frame.columns:
        raise AnalysisError(f"value at risk: frame ({len(frame):,} rows) has no key column {id_column!r}")
    if source not in ("auto", "clv", "formula"):
        raise AnalysisError(
            f"source={source!r} must be 'auto', 'clv' or 'formula' (retention.value_source=)"
            f"{did_you_mean(source, ('auto', 'clv', 'formula'))}"
        )
    if source == "clv" or (source == "auto" and "clv" in frame.columns):
        if "clv" not in frame.columns:
            raise AnalysisError(
                f"retention.value_source='clv' but the frame ({len(frame):,} rows) has no clv column; run the "
                f"segmentation notebook first (its CLV artifact) or set retention.value_source='formula'"
            )
        v = pd.to_numeric(frame["clv"], errors="coerce")
        name = "clv"
    else:
        try:
            v = frame.eval(formula, engine="python")
        except Exception as exc:  # any failure of a user expression is a params problem
            raise AnalysisError(
                f"retention.value_formula={formula!r} cannot be evaluated on the customer frame: {exc}; "
                f"columns available: {', '.join(map(str, frame.columns))}"
            ) from exc
        if np.isscalar(v):
            v = pd.Series(float(v), index=frame.index)
        if not isinstance(v, pd.Series) or not pd.api.types.is_numeric_dtype(v.dtype):
            raise AnalysisError(f"retention.value_formula={formula!r} does not give one number per customer")
        name = formula
    return pd.Series(v.to_numpy(dtype="float64", na_value=np.nan), index=frame[id_column].to_numpy(), name=name)


@dataclass(frozen=True, eq=False, repr=False)
class RetentionList(Result):
    """Customers ranked by the expected net value of a retention contact (see
    :func:`retention_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        Every scored customer, best first (raw keys; internal), with ``on_list`` and, when the
        customers carry consent, ``marketing_consent`` (True, False or missing = unknown).
    export : pandas.DataFrame
        The list to import into the CRM: customers worth contacting (capped at ``top_n``), never
        one whose ``marketing_consent`` is False.
    assumptions : dict
        ``save_rate``, ``contact_cost``, ``value`` (source), ``top_n``, ``key`` (pseudonym/raw),
        ``consent`` (the consent column used, or None).
    """

    table: pd.DataFrame
    export: pd.DataFrame
    assumptions: dict[str, Any]

    def to_frame(self) -> pd.DataFrame:
        """The export frame: ``rank``, ``customer_key`` (pseudonym, or ``customer_id`` when raw
        keys are allowed), ``p_churn``, ``value_at_risk``, ``expected_loss``
        (``p * value``), ``expected_saved`` (``* save_rate``), ``contact_cost``,
        ``expected_net_value``, ``segment`` (when given), ``reason_1`` ..."""
        return self.export.copy()

    @property
    def has_consent(self) -> bool:
        """Whether the customers carried a consent column (``marketing_consent``)."""
        return "marketing_consent" in self.table.columns

    def consent_counts(self) -> dict[str, int]:
        """Scored customers without marketing consent (``no_consent``), of them worth contacting
        (``no_consent_worth``), and listed customers whose consent is unknown (``unknown_on_list``);
        empty without a consent column."""
        if not self.has_consent:
            return {}
        t = self.table
        no = t["marketing_consent"].eq(False).fillna(False).to_numpy(dtype=bool)
        worth = (t["expected_net_value"] > 0).to_numpy()
        unknown = t["marketing_consent"].isna().to_numpy() & t["on_list"].to_numpy(dtype=bool)
        return {"no_consent": int(no.sum()), "no_consent_worth": int((no & worth).sum()),
                "unknown_on_list": int(unknown.sum())}  # fmt: skip

    def figures(self) -> dict[str, float]:
        """The headline figures by code (:data:`ITEMS`; consent codes only when the customers
        carry ``marketing_consent``)."""
        tab = self.table
        e = self.export
        n = len(tab)
        consent = self.consent_counts()
        out: dict[str, float] = {
            "scored": n,
            "worth": int((tab["expected_net_value"] > 0).sum()),
            "worth_share": (tab["expected_net_value"] > 0).mean() if n else np.nan,
        }
        if consent:
            out |= {"no_consent": consent["no_consent"], "no_consent_worth": consent["no_consent_worth"],
                    "unknown_on_list": consent["unknown_on_list"]}  # fmt: skip
        return out | {
            "on_list": len(e),
            "expected_churners": float(e["p_churn"].sum()),
            "value_at_risk_list": float(e["expected_loss"].sum()),
            "expected_saved": float(e["expected_saved"].sum()),
            "contact_cost": float(e["contact_cost"].sum()),
            "expected_net_value": float(e["expected_net_value"].sum()),
            "value_at_risk_base": float(tab["expected_loss"].sum()),
            "save_rate": self.assumptions["save_rate"],
            "cost_per_contact": self.assumptions["contact_cost"],
        }

    def summary(self) -> pd.DataFrame:
        """Headline figures as ``item`` (in words), ``value`` rows (with consent rows when the
        customers carry ``marketing_consent``)."""
        rows = [(t(f"churn.retention.item.{code}"), v) for code, v in self.figures().items()]
        return pd.DataFrame(rows, columns=["item", "value"])

    def by_segment(self) -> pd.DataFrame:
        """Value at risk by segment (whole base): ``segment``, ``customers``,
        ``expected_churners``, ``value``, ``value_at_risk`` (sum p x value), ``share_of_risk``,
        ``on_list``, ``expected_net_value`` (of those on the list); largest risk first."""
        t = self.table.copy()
        if "segment" not in t.columns:
            t["segment"] = "all customers"
        t["on_list"] = t["customer_id"].isin(self._listed_ids)
        t["net_listed"] = np.where(t["on_list"], t["expected_net_value"], 0.0)
        g = t.groupby("segment", observed=True, dropna=False)
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "expected_churners": g["p_churn"].sum(),
                "value": g["value_at_risk"].sum(),
                "value_at_risk": g["expected_loss"].sum(),
                "on_list": g["on_list"].sum(),
                "expected_net_value": g["net_listed"].sum(),
            }
        )
        total = out["value_at_risk"].sum()
        out["share_of_risk"] = out["value_at_risk"] / total if total > 0 else np.nan
        out = out.reset_index().sort_values("value_at_risk", ascending=False).reset_index(drop=True)
        out["segment"] = out["segment"].astype(str)
        return out[["segment", "customers", "expected_churners", "value", "value_at_risk", "share_of_risk",
                    "on_list", "expected_net_value"]]

    @property
    def _listed_ids(self) -> set[Any]:
        return set(self.table.loc[self.table["on_list"].to_numpy(dtype=bool), "customer_id"])

    def metrics(self) -> dict[str, Any]:
        """Headline figures and assumptions (JSON-able)."""
        return {
            **{ITEMS[code]: num(v) for code, v in self.figures().items()},
            "assumptions": {k: (num(v) if isinstance(v, float) else v) for k, v in self.assumptions.items()},
        }

    def finding(self) -> str:
        """Who to contact and what it is worth, with its assumptions, in words."""
        s = self.figures()
        a = self.assumptions
        n_worth = int(s["worth"])
        consent = self.consent_counts()
        consent_text = ""
        if consent:
            consent_text = t("churn.retention.consent.none", n=count(consent["no_consent"]),
                             worth=count(consent["no_consent_worth"]))
            if consent["unknown_on_list"]:
                consent_text += t("churn.retention.consent.unknown", n=count(consent["unknown_on_list"]))
        if n_worth == 0:
            return t("churn.retention.nobody", save_rate=pct(a["save_rate"], 0),
                     cost=money(a["contact_cost"], 2)) + consent_text
        text = t("churn.retention.worth", n=count(n_worth), share=pct(s["worth_share"]), cost=money(a["contact_cost"], 2))
        n_allowed = n_worth - consent.get("no_consent_worth", 0)
        if len(self.export) < n_allowed:
            text += t("churn.retention.capped", n=count(len(self.export)))
        text += t("churn.retention.value", n=count(len(self.export)), net=money(s["expected_net_value"]),
                  saved=money(s["expected_saved"]), cost=money(s["contact_cost"]), save_rate=pct(a["save_rate"], 0),
                  value=a["value"])
        text += consent_text
        if s["worth_share"] > 0.5:
            text += t("churn.retention.half", value=a["value"])
        seg = self.by_segment()
        if "segment" in self.table.columns and len(seg) > 1:
            top = seg.iloc[0]
            text += t("churn.retention.segment", segment=level_text(top["segment"]), value=money(top["value_at_risk"]),
                      share=pct(top["share_of_risk"], 0))
        return text

    def plot(self, ax: Any = None) -> Any:
        """Cumulative expected net value vs number of customers contacted (best first).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(6.5, 4.2))
        ev = self.table["expected_net_value"].to_numpy()
        cum = np.concatenate([[0.0], np.cumsum(ev)])
        x = np.arange(len(cum))
        if len(cum) > 2000:
            idx = np.unique(np.linspace(0, len(cum) - 1, 2000).round().astype(int))
            x, cum_p = x[idx], cum[idx]
        else:
            cum_p = cum
        sns.lineplot(x=x, y=cum_p, ax=ax, label=t("churn.retention.plot.curve"))
        k = len(self.export)
        ax.axvline(k, color="C3", ls="--", lw=1, label=t("churn.retention.plot.list", n=count(k)))
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xlabel(t("churn.retention.plot.xlabel"))
        ax.set_ylabel(t("churn.retention.plot.ylabel", currency=settings().currency))
        ax.set_title(t("churn.retention.plot.title"))
        ax.legend(loc="best", fontsize=8)
        return ax

    def __repr__(self) -> str:
        return (
            f"RetentionList(listed={len(self.export):,}, of={len(self.table):,}, "
            f"expected_net_value={float(self.export['expected_net_value'].sum()):,.0f})"
        )


def retention_list(
    scores: pd.DataFrame,
    *,
    value: pd.Series | str | float,
    save_rate: float,
    contact_cost: float,
    salt: str,
    allow_raw_keys: bool = False,
    top_n: int | None = None,
    segments: pd.Series | str | None = None,
    customers: pd.DataFrame | None = None,
    consent: str | None = CONSENT_COLUMN,
) -> RetentionList:
    """Rank customers by the expected net value of a retention contact.

    ``expected_net_value = p_churn * value_at_risk * save_rate - contact_cost``. Customers with
    a positive expected net value are worth contacting; the list holds them, best first (at most
    ``top_n``). Keys are pseudonymized with :func:`workbench.core.privacy.pseudonymize` unless raw
    keys are allowed. Money is written in the run's currency.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``customer_id``, ``p_churn`` and optionally ``reason_*`` (e.g. from
        :func:`churn_reasons`); not modified.
    value : Series, str or float
        Value at risk: a Series indexed by ``customer_id`` (e.g. :func:`value_at_risk`), a column
        of ``scores``/``customers`` or a pandas expression over them, or one number for all.
    save_rate : float
        Assumed share of contacted churners kept (``analyses.churn.retention.save_rate``).
    contact_cost : float
        Cost per contact (``analyses.churn.retention.contact_cost``).
    salt : str
        ``privacy.salt``.
    allow_raw_keys : bool, default False
        ``privacy.allow_raw_keys``: export raw ``customer_id`` instead of pseudonyms.
    top_n : int, optional
        Cap the list (``analyses.churn.retention.top_n``).
    segments : Series or str, optional
        Segment per customer (Series indexed by ``customer_id``, or a column name of
        ``scores``/``customers`` such as ``cluster_name`` or ``abc_class``; ``"auto"``: the first
        of :data:`workbench.churn.frame.SEGMENT_COLUMNS` present, else none) - ``analyses.churn.retention.segment_column``.
    customers : pandas.DataFrame, optional
        Customer columns (with ``customer_id``) for ``value`` formulas and ``segments``.
    consent : str or None, default "marketing_consent"
        Boolean column of ``scores``/``customers`` saying whether a customer agreed to marketing
        contacts. Customers with False are never on the list (they stay in the whole-base value at
        risk and are counted in the summary, finding and metrics); missing values mean unknown:
        listed, counted, and exported in a ``marketing_consent`` column. Absent column or None:
        no consent rule and nothing said.

    Returns
    -------
    RetentionList

    Raises
    ------
    AnalysisError
        Missing columns, probabilities outside [0, 1], bad save rate or cost, bad value formula.
    """
    p = _step_check_scores(scores, save_rate=save_rate, contact_cost=contact_cost, top_n=top_n)
    base = _step_join_customers(scores, customers)
    v, value_desc = _step_value(scores, base, value)
    t = pd.DataFrame({"customer_id": scores["customer_id"].to_numpy(), "p_churn": p, "value_at_risk": v.to_numpy()})
    seg = _step_segments(scores["customer_id"], base, segments)
    if seg is not None:
        t["segment"] = seg
    t["expected_loss"] = t["p_churn"] * t["value_at_risk"]
    t["expected_saved"] = t["expected_loss"] * save_rate
    t["contact_cost"] = float(contact_cost)
    t["expected_net_value"] = t["expected_saved"] - t["contact_cost"]
    consent_col = consent if consent is not None and consent in base.columns else None
    if consent_col is not None:
        t["marketing_consent"] = _step_consent(base[consent_col], column=consent_col)
    reasons = [c for c in scores.columns if re.fullmatch(r"reason_\d+", str(c))]
    for c in reasons:
        t[c] = scores[c].to_numpy()
    t = t.sort_values(["expected_net_value", "p_churn"], ascending=[False, False], kind="stable").reset_index(drop=True)
    allowed = (t["expected_net_value"] > 0).to_numpy(copy=True)
    if consent_col is not None:
        allowed &= ~t["marketing_consent"].eq(False).fillna(False).to_numpy(dtype=bool)
    pick = np.flatnonzero(allowed)
    if top_n is not None:
        pick = pick[: int(top_n)]
    t["on_list"] = False
    t.loc[pick, "on_list"] = True
    export, key_kind = _step_export(t.iloc[pick].copy(), reasons, salt=salt, allow_raw_keys=allow_raw_keys)
    assumptions = {
        "save_rate": float(save_rate),
        "contact_cost": float(contact_cost),
        "value": value_desc,
        "top_n": top_n,
        "key": key_kind,
        "formula": "p_churn x value_at_risk x save_rate - contact_cost",
        "consent": consent_col,
    }
    return RetentionList(table=t, export=export, assumptions=assumptions)


def _step_check_scores(scores: pd.DataFrame, *, save_rate: float, contact_cost: float, top_n: int | None) -> np.ndarray:
    """The options and the scores (one row per customer, probabilities in [0, 1]); ``p_churn``."""
    for c in ("customer_id", "p_churn"):
        if c not in scores.columns:
            raise AnalysisError(
                f"retention list: scores ({len(scores):,} rows) need column {c!r} (columns: "
                f"{', '.join(map(str, scores.columns))}); use churn_reasons(...)"
            )
    if not 0 < save_rate <= 1:
        raise AnalysisError(f"save_rate={save_rate} must be in (0, 1] (retention.save_rate=)")
    if contact_cost < 0 or not math.isfinite(contact_cost):
        raise AnalysisError(f"contact_cost={contact_cost} must be a non-negative number (retention.contact_cost=)")
    if top_n is not None and top_n < 1:
        raise AnalysisError(f"top_n={top_n} must be at least 1 (retention.top_n=)")
    dup = scores["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"retention list: {int(dup.sum()):,} of {len(scores):,} score rows repeat a customer_id, e.g. "
            f"{format_examples(scores.loc[dup, 'customer_id'].head(10))}; score each customer once"
        )
    p = pd.to_numeric(scores["p_churn"], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~((p >= 0) & (p <= 1))
    if bad.any():
        raise AnalysisError(
            f"retention list: {int(bad.sum()):,} of {len(p):,} rows have p_churn outside [0, 1] or missing, e.g. "
            f"{format_examples(scores.loc[bad, 'p_churn'].head(10))}"
        )
    return p


def _step_join_customers(scores: pd.DataFrame, customers: pd.DataFrame | None) -> pd.DataFrame:
    """``scores`` with the customer columns it lacks (same index as ``scores``)."""
    if customers is None:
        return scores
    if "customer_id" not in customers.columns:
        raise AnalysisError("retention list: customers frame needs a customer_id column")
    extra = [c for c in customers.columns if c not in scores.columns or c == "customer_id"]
    base = scores.merge(customers[extra], on="customer_id", how="left", validate="one_to_one")
    base.index = scores.index
    return base


def _step_value(scores: pd.DataFrame, base: pd.DataFrame, value: pd.Series | str | float) -> tuple[pd.Series, str]:
    """Value at risk per score row (missing and negative values warned and counted as 0) and
    how it was given."""
    ids = scores["customer_id"]
    if isinstance(value, pd.Series):
        v = ids.map(value)
        value_desc = str(value.name or "given values")
        if v.isna().all() and len(value) == len(scores):
            v = pd.Series(value.to_numpy(), index=scores.index)
    elif isinstance(value, str):
        vs = value_at_risk(base, source="formula", formula=value)
        v = pd.Series(vs.to_numpy(), index=scores.index)
        value_desc = value
    else:
        v = pd.Series(float(value), index=scores.index)
        value_desc = f"{money(float(value), 2)} per customer"
    v = pd.to_numeric(v, errors="coerce").astype("float64")
    nv = v.isna()
    if nv.any():
        warnings.warn(
            t("churn.retention.warn.no_value", n=count(nv.sum()), total=count(len(v)),
              examples=format_examples(ids[nv].head(5))),
            DataQualityWarning,
            stacklevel=3,
        )
        v = v.fillna(0.0)
    neg = v < 0
    if neg.any():
        warnings.warn(
            t("churn.retention.warn.negative", n=count(neg.sum()), examples=format_examples(ids[neg].head(5))),
            DataQualityWarning,
            stacklevel=3,
        )
        v = v.clip(lower=0)
    return v, value_desc


def _step_consent(values: pd.Series, *, column: str) -> np.ndarray:
    """Consent as True / False / missing (unknown); AnalysisError for values that are not flags."""
    if pd.api.types.is_bool_dtype(values) or values.isna().all():
        return values.astype("boolean").to_numpy()
    text = values.astype("string").str.strip().str.lower()
    known = {"true": True, "1": True, "1.0": True, "yes": True, "false": False, "0": False, "0.0": False, "no": False}
    flags = text.map(known)
    bad = text.notna() & flags.isna()
    if bad.any():
        raise AnalysisError(
            f"customers.{column}: {int(bad.sum()):,} of {len(values):,} rows are not true/false, e.g. "
            f"{format_examples(values[bad].head(5))}; map a boolean column (consent=)"
        )
    return flags.astype("boolean").to_numpy()


def _step_segments(ids: pd.Series, base: pd.DataFrame, segments: pd.Series | str | None) -> np.ndarray | None:
    """Segment label per score row (``(none)`` when missing), or ``None`` without segments."""
    if isinstance(segments, str) and segments == "auto":
        segments = segment_column(base)
    if segments is None:
        return None
    if isinstance(segments, str):
        if segments not in base.columns:
            raise AnalysisError(
                f"retention list: segments={segments!r} is not a column (columns: "
                f"{', '.join(map(str, base.columns))}){did_you_mean(segments, [str(c) for c in base.columns])}"
            )
        seg = base[segments].to_numpy()
    else:
        seg = ids.map(segments).to_numpy()
    return pd.Series(seg).astype(object).where(pd.notna(seg), "(none)").astype(str).to_numpy()


def _step_export(
    listed: pd.DataFrame, reasons: list[str], *, salt: str, allow_raw_keys: bool
) -> tuple[pd.DataFrame, str]:
    """The CRM import frame of the listed customers (pseudonymized keys unless raw keys are
    allowed) and the kind of key."""
    if allow_raw_keys:
        key_col, key_kind = "customer_id", "raw"
    else:
        from workbench.core.privacy import pseudonymize

        listed.insert(0, "customer_key", pseudonymize(listed["customer_id"], salt=salt).to_numpy())
        listed = listed.drop(columns="customer_id")
        key_col, key_kind = "customer_key", "pseudonym"
    listed.insert(0, "rank", np.arange(1, len(listed) + 1))
    cols = ["rank", key_col, "p_churn", "value_at_risk", "expected_loss", "expected_saved", "contact_cost",
            "expected_net_value"] + [c for c in ("segment", "marketing_consent") if c in listed.columns] + reasons
    return listed[cols].reset_index(drop=True), key_kind
