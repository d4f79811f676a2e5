"""The targeting list: candidate customers ranked by expected incremental profit of a contact,
``predicted uplift x value_per_conversion - contact_cost``, checked on the held-out contacts
(:func:`targeting_list`).

Marketing consent: when the candidates carry ``marketing_consent`` (``customers`` column),
customers whose consent is false never enter the list (``require_consent=True``, the default) and
the result counts them; a blank consent is *unknown*: those customers stay in the list, marked
by a blank ``marketing_consent`` cell, and are counted separately so the CRM can check them
before sending. Without the column the list is as before and nothing is said about consent."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.campaign._common import CONSENT, flag
from workbench.campaign.uplift._common import MODELS, TABLE, fmt_g, group_effect, points
from workbench.campaign.uplift.data import UpliftData
from workbench.campaign.uplift.learners import UpliftModels
from workbench.core.errors import AnalysisError, did_you_mean, format_examples
from workbench.report.fmt import money, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["TargetingList", "targeting_list"]


@dataclass(frozen=True, eq=False, repr=False)
class TargetingList(Result):
    """Customers ranked by expected incremental profit (see :func:`targeting_list`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per candidate, best first (see :meth:`to_frame`).
    model : str
        Model whose predictions rank the customers.
    value_per_conversion, contact_cost : float
    value_source, cost_source : str
        ``given`` or where the default came from.
    keys : str
        ``pseudonymized`` or ``raw``.
    held_out_check : pandas.DataFrame
        Observed uplift on the held-out contacts the rule would / would not contact.
    binary : bool
    outcome : str
    consent_tracked : bool
        The candidates had a ``marketing_consent`` column.
    require_consent : bool
        Customers without consent were left out.
    n_no_consent : int
        Candidates whose consent is false (left out unless ``require_consent`` is false).
    n_consent_unknown : int
        Candidates with a blank consent: kept in the list, marked by a blank ``marketing_consent``.
    """

    table: pd.DataFrame
    model: str
    value_per_conversion: float
    contact_cost: float
    value_source: str
    cost_source: str
    keys: str
    held_out_check: pd.DataFrame
    binary: bool
    outcome: str
    consent_tracked: bool = False
    require_consent: bool = True
    n_no_consent: int = 0
    n_consent_unknown: int = 0

    @property
    def break_even_uplift(self) -> float:
        """Uplift at which a contact pays for itself: ``contact_cost / value_per_conversion``."""
        return (
            self.contact_cost / self.value_per_conversion
            if self.value_per_conversion
            else float("nan")
        )

    def to_frame(self) -> pd.DataFrame:
        """The list for CRM import, best first: ``rank``, ``customer_id`` (pseudonym unless raw
        keys are allowed), ``predicted_uplift``, ``expected_profit`` (uplift x value - cost),
        ``contact`` (expected profit > 0), ``cumulative_profit``, ``cumulative_share``; with a
        consent column also ``marketing_consent`` (true, or blank = unknown)."""
        return self.table.copy()

    def contact_list(self) -> pd.DataFrame:
        """Only the rows worth contacting (expected profit > 0)."""
        return self.table[self.table["contact"]].reset_index(drop=True)

    def summary(self) -> pd.DataFrame:
        """One row per group (``contact``, ``do not contact``, ``all``): ``customers``,
        ``share``, ``mean_predicted_uplift``, ``expected_incremental`` (sum of predicted uplift),
        ``expected_profit``, and the held-out check: ``held_out_n``, ``held_out_uplift`` with
        ``held_out_ci_low``, ``held_out_ci_high`` and ``held_out_profit_per_contact``
        (observed uplift x value - cost). With ``require_consent`` and candidates without
        consent, a last row ``excluded: no marketing consent`` counts them (other figures blank)."""
        return self._groups().assign(group=lambda d: [category("targeting_group", g) for g in d["group"]])

    def _groups(self) -> pd.DataFrame:
        """The rows of :meth:`summary` with the group codes (``contact``, ``do not contact``,
        ``all``, ``excluded: no marketing consent``)."""
        tb = self.table
        n = len(tb)
        rows = []
        for name, mask in (
            ("contact", tb["contact"].to_numpy()),
            ("do not contact", ~tb["contact"].to_numpy()),
            ("all", np.ones(n, dtype=bool)),
        ):
            s = tb.loc[mask]
            rows.append(
                {
                    "group": name,
                    "customers": int(mask.sum()),
                    "share": float(mask.mean()) if n else float("nan"),
                    "mean_predicted_uplift": float(s["predicted_uplift"].mean())
                    if len(s)
                    else float("nan"),
                    "expected_incremental": float(s["predicted_uplift"].sum()),
                    "expected_profit": float(s["expected_profit"].sum()),
                }
            )
        out = pd.DataFrame(rows).merge(self.held_out_check, on="group", how="left")
        if self.consent_tracked and self.require_consent and self.n_no_consent:
            out = pd.concat(
                [out, pd.DataFrame({"group": ["excluded: no marketing consent"], "customers": [self.n_no_consent]})],
                ignore_index=True,
            )
        return out

    def metrics(self) -> dict[str, Any]:
        """Shares, totals, value and cost, held-out check (JSON-able)."""
        s = self._groups().set_index("group")
        best_i = (
            int(np.argmax(self.table["cumulative_profit"].to_numpy())) if len(self.table) else 0
        )
        return {
            "model": self.model,
            "candidates": len(self.table),
            "n_contact": int(s.loc["contact", "customers"]),
            "share_contact": num(s.loc["contact", "share"]),
            "expected_profit_contact": num(s.loc["contact", "expected_profit"]),
            "expected_profit_everyone": num(s.loc["all", "expected_profit"]),
            "expected_incremental_contact": num(s.loc["contact", "expected_incremental"]),
            "value_per_conversion": num(self.value_per_conversion),
            "value_source": self.value_source,
            "contact_cost": num(self.contact_cost),
            "cost_source": self.cost_source,
            "break_even_uplift": num(self.break_even_uplift),
            "best_share": num(self.table["cumulative_share"].iloc[best_i])
            if len(self.table)
            else None,
            "keys": self.keys,
            "held_out_uplift_contact": num(s.loc["contact", "held_out_uplift"]),
            "held_out_uplift_contact_ci": [
                num(s.loc["contact", "held_out_ci_low"]),
                num(s.loc["contact", "held_out_ci_high"]),
            ],
            "held_out_profit_per_contact": num(s.loc["contact", "held_out_profit_per_contact"]),
            "held_out_uplift_skip": num(s.loc["do not contact", "held_out_uplift"]),
            **(self._consent_metrics() if self.consent_tracked else {}),
        }

    def _consent_metrics(self) -> dict[str, Any]:
        """The consent figures (only when the candidates had a consent column)."""
        return {
            "require_consent": self.require_consent,
            "n_excluded_no_consent": self.n_no_consent if self.require_consent else 0,
            "n_no_consent_included": 0 if self.require_consent else self.n_no_consent,
            "n_consent_unknown": self.n_consent_unknown,
        }

    def _consent_text(self) -> str:
        """What the list did with marketing consent, in words (empty without a consent column)."""
        if not self.consent_tracked:
            return ""
        parts = []
        if self.n_no_consent and self.require_consent:
            parts.append(t("campaign.targeting.consent_left_out", n=f"{self.n_no_consent:,}"))
        elif self.n_no_consent:
            parts.append(t("campaign.targeting.consent_included", n=f"{self.n_no_consent:,}"))
        else:
            parts.append(t("campaign.targeting.consent_all"))
        if self.n_consent_unknown:
            parts.append(t("campaign.targeting.consent_unknown", n=f"{self.n_consent_unknown:,}"))
        return " " + t("campaign.targeting.consent", parts=t("campaign.targeting.consent_sep").join(parts))

    def finding(self) -> str:
        """Who to contact and what it is expected to earn, with the held-out check."""
        s = self._groups().set_index("group")
        c, a = s.loc["contact"], s.loc["all"]
        diff = points if self.binary else fmt_g
        unit = t("campaign.targeting.unit_conversion") if self.binary else t("campaign.targeting.unit_value",
                                                                              outcome=self.outcome)
        text = t("campaign.targeting.finding", n=f"{int(c['customers']):,}", total=f"{int(a['customers']):,}",
                 share=pct(c["share"], 0), model=self.model.replace("_", "-"), value=money(self.value_per_conversion, 2),
                 unit=unit, cost=money(self.contact_cost, 2), break_even=diff(self.break_even_uplift, 2),
                 profit=money(c["expected_profit"], 2), everyone=money(a["expected_profit"], 2))  # fmt: skip
        hn = c.get("held_out_n")
        if num(hn) and hn > 0:
            lo, hi = c["held_out_ci_low"], c["held_out_ci_high"]
            text += " " + t("campaign.targeting.check", uplift=diff(c["held_out_uplift"]), low=diff(lo), high=diff(hi))
            sk = s.loc["do not contact"]
            if num(sk.get("held_out_n")) and sk["held_out_n"] >= 50:
                text += t("campaign.targeting.check_skipped", uplift=diff(sk["held_out_uplift"]))
            elif num(sk.get("held_out_n")) and sk["held_out_n"] > 0:
                text += t("campaign.targeting.check_few", n=int(sk["held_out_n"]))
            text += t("campaign.targeting.check_end")
            if num(lo) is not None and lo * self.value_per_conversion - self.contact_cost > 0:
                text += " " + t("campaign.targeting.lower_pays")
            elif num(hi) is not None and hi * self.value_per_conversion - self.contact_cost < 0:
                text += " " + t("campaign.targeting.upper_loses")
            else:
                text += " " + t("campaign.targeting.uncertain")
        if self.value_source != "given" or self.cost_source != "given":
            text += " " + t("campaign.targeting.sources", unit=unit, value=category("value_source", self.value_source),
                            cost=category("value_source", self.cost_source))  # fmt: skip
        return text + self._consent_text()

    def plot(self, ax: Any = None) -> Any:
        """Cumulative expected incremental profit against the share of the base contacted
        (best first); the maximum is marked. Returns a matplotlib Axes."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(6, 4))
        tb = self.table
        step = max(1, len(tb) // 2000)
        sub = pd.concat(
            [
                pd.DataFrame({"cumulative_share": [0.0], "cumulative_profit": [0.0]}),
                tb.iloc[::step],
                tb.iloc[[-1]],
            ]
        )
        sns.lineplot(
            data=sub,
            x="cumulative_share",
            y="cumulative_profit",
            ax=ax,
            label=t("campaign.targeting.legend_ranked"),
        )
        ax.plot(
            [0, 1],
            [0, float(tb["cumulative_profit"].iloc[-1])],
            ls="--",
            color="grey",
            lw=1,
            label=t("campaign.targeting.legend_random"),
        )
        i = int(np.argmax(tb["cumulative_profit"].to_numpy()))
        ax.scatter(
            [tb["cumulative_share"].iloc[i]],
            [tb["cumulative_profit"].iloc[i]],
            color="black",
            zorder=5,
        )
        ax.annotate(
            t("campaign.targeting.best", share=f"{tb['cumulative_share'].iloc[i]:.0%}",
              profit=f"{tb['cumulative_profit'].iloc[i]:,.0f}"),
            (tb["cumulative_share"].iloc[i], tb["cumulative_profit"].iloc[i]),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize=8,
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel(t("campaign.targeting.axis_x"))
        ax.set_ylabel(t("campaign.targeting.axis_y"))
        ax.set_title(t("campaign.targeting.title"))
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        n = len(self.table)
        k = int(self.table["contact"].sum())
        return (
            f"TargetingList(model={self.model!r}, candidates={n:,}, contact={k:,} "
            f"({k / n if n else float('nan'):.1%}), keys={self.keys!r})"
        )


def targeting_list(
    models: UpliftModels,
    candidates: pd.DataFrame,
    *,
    value_per_conversion: float | None = None,
    contact_cost: float | None = None,
    salt: str | None = None,
    allow_raw_keys: bool = False,
    model: Literal["t_learner", "x_learner"] = "x_learner",
    require_consent: bool = True,
) -> TargetingList:
    """Rank candidate customers by expected incremental profit of a contact.

    ``expected_profit = predicted_uplift x value_per_conversion - contact_cost``; customers with
    a positive expected profit are worth contacting. The same rule is applied to the held-out
    contacts of the experiment to check, with observed outcomes, that the selected customers
    really respond more.

    Parameters
    ----------
    models : UpliftModels
        From :func:`fit_uplift`.
    candidates : pandas.DataFrame
        One row per customer with ``customer_id`` and the feature columns of the models (e.g.
        all customers with features at the as-of date). Not modified.
    value_per_conversion : float, optional
        Value of one incremental conversion;
        default the mean revenue of treated converters (for a continuous outcome: 1, the outcome
        is the value).
    contact_cost : float, optional
        Cost of one contact; default the mean cost
        of a treated contact.
    salt : str, optional
        Salt for :func:`workbench.core.privacy.pseudonymize` (the privacy salt); required unless
        ``allow_raw_keys``.
    allow_raw_keys : bool, default False
        Keep raw customer keys.
    model : {'t_learner', 'x_learner'}, default 'x_learner'
    require_consent : bool, default True
        When ``candidates`` has a ``marketing_consent`` column (true / false / blank), leave out
        the customers whose consent is false. Blank (unknown) consent is kept and counted. No
        column: no consent check.

    Returns
    -------
    TargetingList

    Raises
    ------
    AnalysisError
        Unknown model, no value or cost known, negative cost, non-positive value, no salt,
        ``customer_id`` missing or repeated, feature columns missing, no candidate with consent.
    """
    from workbench.core.privacy import pseudonymize

    if model not in MODELS:
        raise AnalysisError(
            f"model must be one of {', '.join(MODELS)}, got {model!r}{did_you_mean(model, MODELS)}"
        )
    data = models.data
    value, value_src, cost, cost_src = _value_and_cost(data, value_per_conversion, contact_cost)
    if not allow_raw_keys and not salt:
        raise AnalysisError(
            "targeting list: customer keys are pseudonymized but no salt was given; pass salt= (the privacy salt) "
            "or allow_raw_keys=True to export raw keys"
        )
    if "customer_id" not in candidates.columns:
        raise AnalysisError(
            f"candidate table: column 'customer_id' is missing ({len(candidates):,} rows; columns: "
            f"{', '.join(map(str, candidates.columns))})"
        )
    dup = candidates["customer_id"].duplicated()
    if dup.any():
        raise AnalysisError(
            f"candidate table: {int(dup.sum()):,} of {len(candidates):,} rows repeat a customer_id, "
            f"e.g. {format_examples(candidates.loc[dup, 'customer_id'])}; one row per customer is expected"
        )
    consent = flag(candidates[CONSENT]) if CONSENT in candidates.columns else None
    no_consent = consent.eq(False).fillna(False).to_numpy(dtype=bool) if consent is not None else None
    if no_consent is not None and require_consent:
        if no_consent.all():
            raise AnalysisError(
                f"candidate table.{CONSENT}: all {len(candidates):,} candidates have no marketing consent (false), so "
                "nobody can be targeted; check the consent column or, for an analysis that is never sent, "
                "require_consent=False"
            )
        candidates, consent = candidates.loc[~no_consent], consent[~no_consent]
    pred = models.predict(candidates, model=model)
    upl = pred[model].to_numpy(dtype="float64")
    profit = upl * value - cost
    order = np.argsort(-profit, kind="mergesort")
    keys = candidates["customer_id"].iloc[order].reset_index(drop=True)
    keys = keys.astype("string") if allow_raw_keys else pseudonymize(keys, salt=str(salt))
    n = len(order)
    p_sorted = profit[order]
    table = pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "customer_id": keys,
            "predicted_uplift": upl[order],
            "expected_profit": p_sorted,
            "contact": p_sorted > 0,
            "cumulative_profit": np.cumsum(p_sorted),
            "cumulative_share": np.arange(1, n + 1) / n if n else np.zeros(0),
        }
    )
    if consent is not None:
        table[CONSENT] = consent.iloc[order].reset_index(drop=True)

    check = _held_out_check(models, model, value=value, cost=cost)
    return TargetingList(
        table=table,
        model=model,
        value_per_conversion=value,
        contact_cost=cost,
        value_source=value_src,
        cost_source=cost_src,
        keys="raw" if allow_raw_keys else "pseudonymized",
        held_out_check=check,
        binary=data.binary,
        outcome=data.outcome,
        consent_tracked=consent is not None,
        require_consent=bool(require_consent),
        n_no_consent=int(no_consent.sum()) if no_consent is not None else 0,
        n_consent_unknown=int(consent.isna().sum()) if consent is not None else 0,
    )


def _value_and_cost(
    data: UpliftData, value_per_conversion: float | None, contact_cost: float | None
) -> tuple[float, str, float, str]:
    """Value per conversion and cost per contact, given or from the contacts, with their sources."""
    if value_per_conversion is None:
        if data.value_per_conversion is None:
            raise AnalysisError(
                f"{TABLE}: no revenue of treated converters to derive the value per conversion from; "
                "pass value_per_conversion="
            )
        value, value_src = (
            float(data.value_per_conversion),
            ("mean revenue of treated converters" if data.binary else "1 (the outcome is a value)"),
        )
    else:
        value, value_src = float(value_per_conversion), "given"
    if contact_cost is None:
        if data.contact_cost is None:
            raise AnalysisError(
                f"{TABLE}.cost: no cost column to derive the cost per contact from; pass contact_cost="
            )
        cost, cost_src = float(data.contact_cost), "mean cost of a treated contact"
    else:
        cost, cost_src = float(contact_cost), "given"
    if not value > 0 or not math.isfinite(value):
        raise AnalysisError(f"value_per_conversion must be positive, got {value}")
    if not cost >= 0 or not math.isfinite(cost):
        raise AnalysisError(f"contact_cost must be >= 0, got {cost}")
    return value, value_src, cost, cost_src


def _held_out_check(models: UpliftModels, model: str, *, value: float, cost: float) -> pd.DataFrame:
    """Observed uplift on the held-out contacts the rule would / would not contact, and all."""
    h = models.held_out
    sel = h[model].to_numpy(dtype="float64") * value - cost > 0
    t = h["treated"].to_numpy(dtype=bool)
    y = h["outcome"].to_numpy(dtype="float64")
    g = group_effect(t, y, np.where(sel, 0, 1), models.data.binary, n_groups=2)
    allg = group_effect(t, y, None, models.data.binary)
    check = pd.concat([g, allg], ignore_index=True)
    check.insert(0, "group", ["contact", "do not contact", "all"])
    check["held_out_n"] = check["n_treated"] + check["n_control"]
    check = check.rename(
        columns={
            "observed_uplift": "held_out_uplift",
            "ci_low": "held_out_ci_low",
            "ci_high": "held_out_ci_high",
        }
    )
    check["held_out_profit_per_contact"] = check["held_out_uplift"] * value - cost
    return check[
        [
            "group",
            "held_out_n",
            "held_out_uplift",
            "held_out_ci_low",
            "held_out_ci_high",
            "held_out_profit_per_contact",
        ]
    ]
