"""Campaign contacts: validation, outcomes and the design of each campaign
(notebook ``04_campaign_evaluation.ipynb``, first step).

:func:`prepare_contacts` validates the contacts, fills the outcome columns from the tracked
columns or by attribution from orders (:func:`workbench.campaign.attribution.attribute_orders`)
and states each campaign's design (randomized with a control arm, or observational). KPIs are in
:mod:`workbench.campaign.kpi`, the incremental return in :mod:`workbench.campaign.returns`.

Definitions
-----------
Attribution (``outcome_source="orders"``)
    An order counts for a contact when it belongs to the contact's customer and
    ``contact_time < order_time <= contact_time + window_days`` and ``order_time <= data end``
    (``as_of`` end of day when given, else the last order time). Refund lines (``is_refund``
    true, a negative ``amount``, or a ``status`` meaning refunded/cancelled) never count.
    ``orders`` = number of such orders, ``converted`` = at least one, ``revenue`` = their sum.
    A customer contacted by two campaigns with overlapping windows credits the same order to
    both (last-touch de-duplication is not attempted; the notes say when windows overlap).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from workbench.campaign._common import TABLE, arm_counts_text, control_hint, flag, naive_time
from workbench.campaign.attribution import attribute_orders
from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    StatisticalWarning,
    closest,
    did_you_mean,
    format_examples,
)
from workbench.report.fmt import count, num
from workbench.report.i18n import Text, category, neutral, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result

if TYPE_CHECKING:  # pragma: no cover
    import ibis

__all__ = ["ARM_SIZE_RATIO_WARN", "MIN_ARM_CONTACTS", "CampaignData", "prepare_contacts"]

#: Smallest arm under this share of the largest arm of a campaign: a warning.
ARM_SIZE_RATIO_WARN: float = 0.05
#: Arms with fewer contacts get a warning (intervals too wide to act on).
MIN_ARM_CONTACTS: int = 100
#: Arm names that read as a hold-out group (lower case), besides names close to ``control_arm``.
_HOLDOUT_WORDS: frozenset[str] = frozenset({"ctrl", "ctl", "hold", "holdout", "no contact", "none", "baseline", "对照组"})


@dataclass(frozen=True, eq=False, repr=False)
class CampaignData(Result):
    """Validated campaign contacts with outcomes (see :func:`prepare_contacts`).

    Attributes
    ----------
    contacts : pandas.DataFrame
        One row per contact: the input columns plus ``converted`` (bool), ``revenue`` (float),
        ``orders`` (float; attributed orders, or the conversion flag when outcomes come from
        columns), ``outcome_source`` and ``window_complete`` (bool: the whole attribution
        window lies before the data end; NA without ``contact_time``). With orders given,
        ``attributed_orders``, ``attributed_converted`` and ``attributed_revenue`` are
        always added (for comparison with tracked columns). Input ``converted``/``revenue``
        replaced by attribution are kept as ``converted_column``/``revenue_column``.
    designs : pandas.DataFrame
        One row per campaign: ``campaign_id``, ``design`` (randomized / observational),
        ``arms``, ``control_arm`` (None when absent), ``n_contacts``, ``n_arms``,
        ``outcome_source`` (columns / orders), ``first_contact``, ``last_contact``,
        ``window_complete_share``.
    notes : tuple of str
        What was checked, decided or dropped, in plain words.
    control_arm, window_days, data_end
        Settings used.
    agreement : pandas.DataFrame, optional
        Per campaign: tracked vs order-attributed conversions.
    control_problem : str, optional
        Set when ``control_arm`` names no arm of any campaign although the arms suggest a
        hold-out: the message :meth:`require_control` raises.
    """

    contacts: pd.DataFrame
    designs: pd.DataFrame
    notes: tuple[str, ...]
    control_arm: str | None
    window_days: float
    data_end: pd.Timestamp | None = None
    agreement: pd.DataFrame | None = None
    control_problem: str | None = None

    def require_control(self) -> None:
        """Raise :attr:`control_problem` (an AnalysisError naming the arms and ``control_arm=``)
        when ``control_arm`` matches no arm of any campaign; called by every estimate that
        relies on the designs (experiments, CUPED, subgroups, observational, uplift)."""
        if self.control_problem:
            raise AnalysisError(self.control_problem)

    def summary(self) -> pd.DataFrame:
        """The design table (one row per campaign; design and outcome source labelled in the
        run's language, codes in ``designs``)."""
        d = self.designs
        return d.assign(design=[category("campaign_design", v) for v in d["design"]],
                        outcome_source=[category("outcome_source", v) for v in d["outcome_source"]])

    def to_frame(self) -> pd.DataFrame:
        """Per contact (see ``contacts``)."""
        return self.contacts.copy()

    def design(self, campaign_id: str) -> dict[str, Any]:
        """The design row of one campaign as a dict."""
        row = self.designs.loc[self.designs["campaign_id"] == campaign_id]
        if row.empty:
            raise AnalysisError(
                f"campaign {campaign_id!r} is not in the data; campaigns: "
                f"{', '.join(map(str, self.designs['campaign_id']))}"
                f"{did_you_mean(campaign_id, self.designs['campaign_id'])}"
            )
        return row.iloc[0].to_dict()

    @property
    def randomized(self) -> list[str]:
        """Campaigns with a control arm (and at least one other arm)."""
        return self.designs.loc[self.designs["design"] == "randomized", "campaign_id"].tolist()

    @property
    def observational(self) -> list[str]:
        """Campaigns without a control arm."""
        return self.designs.loc[self.designs["design"] == "observational", "campaign_id"].tolist()

    def plot(self, ax: Any = None) -> Any:
        """Contacts per campaign and arm (stacked bars; the control arm hatched)."""
        counts = self.contacts.groupby(["campaign_id", "arm"]).size().unstack(fill_value=0)
        ax = new_axes(ax, figsize=(7, 0.5 * max(len(counts), 1) + 1.5))
        left = np.zeros(len(counts))
        for arm in counts.columns:
            v = counts[arm].to_numpy(float)
            ax.barh(counts.index.astype(str), v, left=left, label=str(arm),
                    hatch="//" if arm == self.control_arm else None)  # fmt: skip
            left += v
        ax.set_xlabel(t("campaign.contacts.axis"))
        ax.set_title(t("campaign.contacts.title"))
        ax.legend(loc="lower right", fontsize=8)
        return ax

    def finding(self) -> str:
        d = self.designs
        designs = t("campaign.contacts.design_sep").join(
            t("campaign.contacts.design", campaign=r.campaign_id, design=category("campaign_design", r.design),
              arms=count(r.n_arms), source=category("outcome_source", r.outcome_source))
            for r in d.itertuples()
        )  # fmt: skip
        parts = [t("campaign.contacts.finding", contacts=count(len(self.contacts)), campaigns=count(len(d)),
                   designs=designs)]  # fmt: skip
        obs = self.observational
        if self.control_problem:
            parts.append(t("campaign.contacts.control_problem", arm=repr(self.control_arm)))
        if obs and self.control_arm is None:
            parts.append(t("campaign.contacts.no_holdout"))
        elif obs:
            parts.append(t("campaign.contacts.observational", campaigns=", ".join(obs), arm=repr(self.control_arm)))
        if self.agreement is not None and not self.agreement.empty:
            a = self.agreement
            worst = a.iloc[int(np.argmax(np.abs(a["attributed_conversions"] - a["column_conversions"])))]
            parts.append(t("campaign.contacts.agreement", campaign=worst["campaign_id"],
                           tracked=count(worst["column_conversions"]),
                           attributed=count(worst["attributed_conversions"])))  # fmt: skip
        inc = self.contacts["window_complete"].eq(False).sum() if "window_complete" in self.contacts else 0
        if inc:
            parts.append(t("campaign.contacts.window_open", n=count(inc)))
        return " ".join(parts)

    def metrics(self) -> dict[str, Any]:
        """Sizes, settings, each campaign's design and, with orders, its order-attributed
        outcomes (``attributed``: orders, conversions, revenue; None without orders)."""
        attributed = self._attributed()
        return {
            "n_contacts": int(len(self.contacts)),
            "window_days": num(self.window_days),
            "data_end": None if self.data_end is None else str(self.data_end),
            "campaigns": {
                str(r.campaign_id): {
                    "design": r.design,
                    "arms": list(r.arms),
                    "control_arm": r.control_arm,
                    "n_contacts": int(r.n_contacts),
                    "outcome_source": r.outcome_source,
                    "attributed": attributed.get(str(r.campaign_id)) if attributed is not None else None,
                }
                for r in self.designs.itertuples()
            },
            "notes": neutral(list(self.notes)),  # English whatever the report language
        }

    def _attributed(self) -> dict[str, dict[str, Any]] | None:
        """Per campaign: orders, conversions and revenue attributed from the orders (contacts
        with a contact time); None when no orders were given."""
        c = self.contacts
        if "attributed_orders" not in c.columns:
            return None
        g = c[c["attributed_orders"].notna()].groupby(c["campaign_id"].astype(str))
        sums = pd.DataFrame({
            "orders": g["attributed_orders"].sum(),
            "conversions": g["attributed_converted"].sum(),
            "revenue": g["attributed_revenue"].sum(),
        })  # fmt: skip
        return {str(k): {"orders": int(r.orders), "conversions": int(r.conversions), "revenue": num(round(r.revenue, 2))}
                for k, r in sums.iterrows()}  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"CampaignData({len(self.contacts):,} contacts, {len(self.designs)} campaigns, "
            f"randomized={len(self.randomized)}, window={self.window_days:g} d)"
        )


# ============================================================================================
# prepare_contacts as named steps over one working state
# ============================================================================================


@dataclass
class _Prep:
    """What the steps of :func:`prepare_contacts` build up."""

    df: pd.DataFrame
    control_arm: str | None
    window_days: float
    outcome_source: str
    orders: pd.DataFrame | None
    n_in: int
    credit_rule: str = "last_touch"
    notes: list[str] = field(default_factory=list)
    has_time: bool = False
    data_end: pd.Timestamp | None = None
    designs: pd.DataFrame | None = None
    sources: dict[str, str] = field(default_factory=dict)
    use: pd.Series | None = None
    agreement: pd.DataFrame | None = None
    control_problem: str | None = None
    con: ibis.BaseBackend | None = None

    def warn(self, msg: str, category: type[Warning]) -> None:
        warnings.warn(msg, category, stacklevel=4)
        self.notes.append(msg)


def _step_validate(contacts: pd.DataFrame) -> pd.DataFrame:
    """Required columns present and not blank; ids as text."""
    missing = [c for c in ("customer_id", "campaign_id", "arm") if c not in contacts.columns]
    if missing:
        raise AnalysisError(
            f"{TABLE}: required column(s) {', '.join(missing)} missing "
            f"(columns: {', '.join(map(str, contacts.columns))}); map them under tables.{TABLE}.columns"
        )
    df = contacts.copy()
    n_in = len(df)
    if n_in == 0:
        raise AnalysisError(f"{TABLE}: the table has no rows")
    for col in ("customer_id", "campaign_id", "arm"):
        blank = df[col].isna()
        if blank.any():
            raise AnalysisError(
                f"{TABLE}.{col}: {int(blank.sum()):,} of {n_in:,} rows blank (row labels e.g. "
                f"{format_examples(df.index[blank])}); fill them or drop them (cleaning.missing_required: drop)"
            )
    df["campaign_id"] = df["campaign_id"].astype(str)
    df["arm"] = df["arm"].astype(str)
    return df


def _step_campaigns(s: _Prep, campaigns: Sequence[str] | None) -> None:
    """Keep the campaigns asked for; an id not in the data stops with a did-you-mean."""
    seen = sorted(s.df["campaign_id"].unique())
    if campaigns is None:
        return
    unknown = [c for c in campaigns if str(c) not in seen]
    if unknown:
        raise AnalysisError(
            "; ".join(
                f"campaigns=: campaign {u!r} is not in {TABLE}{did_you_mean(u, seen)}; "
                f"campaigns in the data: {', '.join(seen)}"
                for u in unknown
            )
        )
    s.df = s.df.loc[s.df["campaign_id"].isin([str(c) for c in campaigns])]
    s.notes.append(Text("campaign.notes.kept", campaigns=", ".join(map(str, campaigns)), n=count(len(s.df)),
                        total=count(s.n_in)))


def _step_contact_time(s: _Prep) -> None:
    """Contact times as naive datetimes when the column exists."""
    s.has_time = "contact_time" in s.df.columns
    if s.has_time:
        s.df["contact_time"] = naive_time(s.df["contact_time"])


def _step_duplicates(s: _Prep) -> None:
    """A customer in two arms of one campaign stops; repeats in one arm keep the earliest."""
    df = s.df
    key = df[["campaign_id", "customer_id"]]
    dup_all = key.duplicated(keep=False)
    if not dup_all.any():
        return
    n_arms = df.loc[dup_all].groupby(["campaign_id", "customer_id"], sort=False)["arm"].nunique()
    cross = n_arms[n_arms > 1]
    if len(cross):
        ex = [f"{cid} in {camp}" for camp, cid in cross.index[:5]]
        rows = int(df.set_index(["campaign_id", "customer_id"]).index.isin(cross.index).sum())
        raise AnalysisError(
            f"{TABLE}: {len(cross):,} customer(s) ({rows:,} rows) are in two or more arms of the same "
            f"campaign, e.g. {', '.join(ex)}; arms must not overlap (fix the assignment export; there is no "
            f"option to choose an arm)"
        )
    before = len(df)
    ordered = df.sort_values(["contact_time"], kind="stable") if s.has_time else df
    s.df = ordered.drop_duplicates(["campaign_id", "customer_id"], keep="first").sort_index(kind="stable")
    s.warn(
        Text("campaign.warn.repeated_contacts", table=TABLE, n=count(before - len(s.df)),
          examples=format_examples(key.loc[dup_all, "customer_id"])),
        DataQualityWarning,
    )


def _step_data_end(s: _Prep, as_of: Any) -> None:
    """Data end: the end of the ``as_of`` day, else the last order time."""
    orders = s.orders
    if as_of is not None:
        s.data_end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    elif orders is not None and "order_time" in orders.columns and len(orders):
        s.data_end = naive_time(orders["order_time"]).max()
    if orders is not None and as_of is not None and "order_time" in orders.columns:
        late = int((naive_time(orders["order_time"]) > s.data_end).sum())
        if late:
            s.notes.append(Text("campaign.notes.late_orders", n=count(late), date=s.data_end.date()))


def _looks_like_control(arm: str, control_arm: str | None) -> bool:
    """An arm name that reads as a hold-out: close to ``control_arm`` or a usual hold-out word."""
    a = str(arm).strip().lower()
    if control_arm is not None and closest(a, [str(control_arm).lower()]) is not None:
        return True
    return a in _HOLDOUT_WORDS or any(w in a for w in ("control", "holdout", "hold-out", "hold_out", "hold out", "对照"))


def _check_control_arm(s: _Prep, arms_by: pd.Series) -> bool:
    """Whether ``control_arm`` names an arm of at least one campaign, and what to say if not.

    A campaign without the control arm while others have it is observational (warned per
    campaign). When no campaign has it at all, the setting is suspect: ``s.control_problem``
    gets the message (the arms with their rows, a did-you-mean, ``control_arm=``) that every
    estimate relying on the designs raises (:meth:`CampaignData.require_control`), unless the data
    genuinely have no hold-out: every campaign has a single arm and none reads as a control;
    then one warning says the experimental comparison is skipped. ``control_arm=None`` says so
    explicitly (a note).

    Returns
    -------
    bool
        True when the campaigns without the control arm are to be warned about one by one.
    """
    counts = s.df["arm"].value_counts()
    if s.control_arm is None:
        s.notes.append(Text("campaign.notes.no_control"))
        return False
    if s.control_arm in counts.index:
        return True
    single = all(len(arms) == 1 for arms in arms_by)
    lookalike = [a for a in counts.index if _looks_like_control(a, s.control_arm)]
    if single and not lookalike:
        s.warn(
            Text("campaign.warn.single_arms", table=TABLE, arm=repr(s.control_arm), arms=arm_counts_text(counts)),
            StatisticalWarning,
        )
        return False
    per_campaign = "; ".join(f"{c}: {', '.join(map(repr, arms))}" for c, arms in arms_by.items())
    unsuggested = [a for a in lookalike if a != closest(s.control_arm, counts.index)]
    s.control_problem = (
        f"{TABLE}.arm: {control_hint(s.control_arm, counts)}"
        + (f" ({format_examples(unsuggested)} also reads like a hold-out)" if unsuggested else "")
        + f". Arms per campaign: {per_campaign}. Left as it is, the hold-out rows would count as contacted "
        "customers and no campaign could be compared with its hold-out; if no campaign has a hold-out, set "
        "control_arm=None"
    )
    return True


def _step_designs(s: _Prep) -> None:
    """One design row per campaign: randomized with the control arm, else observational."""
    df, control_arm = s.df, s.control_arm
    arms_by = df.groupby("campaign_id", sort=True)["arm"].agg(lambda v: tuple(sorted(v.unique())))
    warn_each = _check_control_arm(s, arms_by)
    designs = []
    for camp, arms in arms_by.items():
        n_sub = int((df["campaign_id"] == camp).sum())
        if control_arm is not None and arms == (control_arm,):
            raise AnalysisError(
                f"{TABLE}: campaign {camp!r} has only the control arm {control_arm!r} ({n_sub:,} rows): "
                "nobody was treated; leave it out with campaigns= or fix control_arm="
            )
        has_ctl = control_arm is not None and control_arm in arms
        if not has_ctl and warn_each:
            s.warn(
                Text("campaign.warn.no_control_arm", campaign=repr(camp), arm=repr(control_arm), arms=", ".join(arms),
                  hint=did_you_mean(control_arm, arms)),
                StatisticalWarning,
            )
        designs.append({
            "campaign_id": camp, "design": "randomized" if has_ctl else "observational", "arms": arms,
            "control_arm": control_arm if has_ctl else None, "n_contacts": n_sub, "n_arms": len(arms),
        })  # fmt: skip
    s.designs = pd.DataFrame(designs)


def _step_outcome_sources(s: _Prep) -> None:
    """Per campaign: outcomes from the tracked columns or attributed from orders."""
    df = s.df
    has_conv = "converted" in df.columns
    if has_conv:
        df["converted"] = flag(df["converted"])
    if "revenue" in df.columns:
        df["revenue"] = pd.to_numeric(df["revenue"], errors="coerce")
    for camp in s.designs["campaign_id"]:
        m = df["campaign_id"] == camp
        complete = has_conv and not df.loc[m, "converted"].isna().any()
        if s.outcome_source == "columns":
            if not has_conv:
                raise AnalysisError(
                    f"{TABLE}: column 'converted' is missing but outcome_source='columns'; map it under "
                    f"tables.{TABLE}.columns or attribute outcomes from orders (outcome_source='orders')"
                )
            if not complete:
                bad = df.loc[m & df["converted"].isna(), "customer_id"]
                raise AnalysisError(
                    f"{TABLE}.converted: {len(bad):,} rows of campaign {camp!r} blank (customers e.g. "
                    f"{format_examples(bad)}); use outcome_source='orders' to attribute them from orders"
                )
            s.sources[camp] = "columns"
        elif s.outcome_source == "orders" or not complete:
            if s.orders is None:
                why = "outcome_source is 'orders'" if s.outcome_source == "orders" else "'converted' is not tracked"
                raise AnalysisError(
                    f"{TABLE}: campaign {camp!r}: {why}, so outcomes must be attributed from orders, but no "
                    "orders table was given; load tables.orders or change outcome_source="
                )
            if not s.has_time:
                raise AnalysisError(
                    f"{TABLE}: column 'contact_time' is needed to attribute orders to contacts (campaign {camp!r}); "
                    f"map it under tables.{TABLE}.columns or use outcome_source='columns'"
                )
            s.sources[camp] = "orders"
        else:
            s.sources[camp] = "columns"
    s.designs["outcome_source"] = s.designs["campaign_id"].map(s.sources)
    df["outcome_source"] = df["campaign_id"].map(s.sources).astype(object)
    if s.has_time:
        need = df["contact_time"].isna() & df["outcome_source"].eq("orders")
        if need.any():
            raise AnalysisError(
                f"{TABLE}.contact_time: {int(need.sum()):,} of {len(df):,} rows blank in campaigns attributed from "
                f"orders (customers e.g. {format_examples(df.loc[need, 'customer_id'])}); fill them or use "
                "outcome_source='columns'"
            )


def _agreement(df: pd.DataFrame) -> pd.DataFrame | None:
    """Per campaign: tracked vs order-attributed conversions (rows with both known)."""
    ok = df["converted"].notna() & df["contact_time"].notna()
    if not ok.any():
        return None
    g = df.loc[ok].groupby("campaign_id")
    out = pd.DataFrame(
        {
            "contacts": g.size(),
            "column_conversions": g["converted"].sum().astype(int),
            "attributed_conversions": g["attributed_converted"].sum().astype(int),
            "both": g.apply(
                lambda v: int((v["converted"].astype(bool) & v["attributed_converted"].astype(bool)).sum())
            ),
        }
    ).reset_index()
    out["flag_without_order"] = out["column_conversions"] - out["both"]
    out["order_without_flag"] = out["attributed_conversions"] - out["both"]
    return out


def _warn_converted_before_contact(s: _Prep) -> None:
    """Tracked conversions with no order at all after the contact, although the customer has orders."""
    df, orders = s.df, s.orders
    o_time = naive_time(orders["order_time"])
    last = (
        pd.Series(o_time.to_numpy(), index=orders["customer_id"].astype("string").to_numpy()).groupby(level=0).max()
    )
    cust_last = df["customer_id"].astype("string").map(last)
    bad = (
        df["converted"].fillna(False).astype(bool)
        & df["contact_time"].notna()
        & cust_last.notna()
        & (cust_last <= df["contact_time"])
    )
    if bad.any():
        s.warn(
            Text("campaign.warn.converted_without_order", table=TABLE, n=count(bad.sum()),
              examples=format_examples(df.loc[bad, "customer_id"])),
            DataQualityWarning,
        )


def _step_attribution(s: _Prep) -> None:
    """With orders and contact times: attributed outcomes per contact, compared with tracked flags."""
    df = s.df
    has_conv = "converted" in df.columns
    if not (s.orders is not None and s.has_time and df["contact_time"].notna().any()):
        s.use = pd.Series(False, index=df.index)
        return
    att = attribute_orders(df, s.orders, window_days=s.window_days, data_end=s.data_end, con=s.con,
                           credit_rule=s.credit_rule)
    df["attributed_orders"] = att["orders"].where(df["contact_time"].notna())
    df["attributed_converted"] = att["converted"].astype("boolean").mask(df["contact_time"].isna())
    df["attributed_revenue"] = att["revenue"].where(df["contact_time"].notna())
    s.use = df["outcome_source"].eq("orders")
    if has_conv:
        s.agreement = _agreement(df)
        _warn_converted_before_contact(s)
    if s.use.any():
        if has_conv:
            df["converted_column"] = df["converted"]
        if "revenue" in df.columns:
            df["revenue_column"] = df["revenue"]


def _step_outcome_columns(s: _Prep, input_columns: pd.Index) -> None:
    """``converted``, ``revenue`` and ``orders`` from their source per campaign."""
    df, use = s.df, s.use
    has_conv = "converted" in df.columns
    conv = df["converted"].astype("boolean") if has_conv else pd.Series(pd.NA, index=df.index, dtype="boolean")
    rev = df["revenue"] if "revenue" in df.columns else pd.Series(np.nan, index=df.index)
    n_ord = conv.astype("Float64").astype("float64")
    if use.any():
        conv = conv.mask(use, df["attributed_converted"])
        rev = rev.mask(use, df["attributed_revenue"])
        n_ord = n_ord.mask(use, df["attributed_orders"])
    df["converted"] = conv.fillna(False).astype(bool)
    df["revenue"] = rev.astype("float64")
    df["orders"] = n_ord.astype("float64")
    if "revenue" not in input_columns:
        col_camps = [c for c, src in s.sources.items() if src == "columns"]
        if col_camps:
            s.notes.append(Text("campaign.notes.revenue_not_tracked", campaigns=", ".join(col_camps)))


def _step_window_completeness(s: _Prep) -> None:
    """Flag contacts whose attribution window runs past the data end; first/last contact per campaign."""
    df, designs, data_end = s.df, s.designs, s.data_end
    if s.has_time and data_end is not None:
        end = df["contact_time"] + pd.Timedelta(days=float(s.window_days))
        wc = (end <= data_end).astype("boolean").mask(df["contact_time"].isna())
        df["window_complete"] = wc
        after = df["contact_time"] > data_end
        for camp in designs["campaign_id"]:
            m = df["campaign_id"] == camp
            if m.any() and after[m].all() and s.sources[camp] == "orders":
                raise AnalysisError(
                    f"{TABLE}.contact_time: all {int(m.sum()):,} contacts of campaign {camp!r} are after the data end "
                    f"{data_end} (e.g. {format_examples(df.loc[m, 'contact_time'])}): no outcome can be observed; move as_of "
                    "or leave the campaign out with campaigns="
                )
        inc = wc.eq(False)
        if inc.any():
            by_c = df.loc[inc].groupby("campaign_id").size()
            s.warn(
                Text("campaign.warn.window_past_end", table=TABLE, n=count(inc.sum()), total=count(len(df)),
                  days=f"{s.window_days:g}", end=str(data_end), by=", ".join(f"{k}: {v:,}" for k, v in by_c.items()),
                  examples=format_examples(df.loc[inc, "contact_time"].astype(str))),
                StatisticalWarning,
            )
    else:
        df["window_complete"] = pd.array([pd.NA] * len(df), dtype="boolean")
    g = df.groupby("campaign_id")
    designs["first_contact"] = designs["campaign_id"].map(g["contact_time"].min() if s.has_time else {})
    designs["last_contact"] = designs["campaign_id"].map(g["contact_time"].max() if s.has_time else {})
    share = g["window_complete"].apply(lambda v: float(v.dropna().astype(bool).mean()) if v.notna().any() else np.nan)
    designs["window_complete_share"] = designs["campaign_id"].map(share).astype("float64")


def _step_overlapping_windows(s: _Prep) -> None:
    """Note contacts within another campaign's window for the same customer."""
    df = s.df
    if not (s.has_time and len(s.designs) > 1 and s.use.any()):
        return
    t = df.loc[df["contact_time"].notna(), ["customer_id", "campaign_id", "contact_time"]].sort_values(
        ["customer_id", "contact_time"]
    )
    gap = t.groupby("customer_id")["contact_time"].diff()
    overlap = int((gap < pd.Timedelta(days=float(s.window_days))).sum())
    if overlap:
        s.notes.append(Text("campaign.notes.overlap", n=count(overlap), days=f"{s.window_days:g}"))


def _step_arm_sizes(s: _Prep) -> None:
    """Warn on arms of very different sizes, small arms and arms without a conversion."""
    sizes = s.df.groupby(["campaign_id", "arm"]).agg(n=("converted", "size"), conv=("converted", "sum"))
    for camp, g in sizes.groupby(level=0):
        n = g["n"].droplevel(0)
        if len(n) > 1 and n.min() < ARM_SIZE_RATIO_WARN * n.max():
            s.warn(
                Text("campaign.warn.arm_sizes", campaign=repr(camp), sizes=", ".join(f"{a}: {v:,}" for a, v in n.items())),
                StatisticalWarning,
            )
        small = n[n < MIN_ARM_CONTACTS]
        if len(small):
            s.warn(
                Text("campaign.warn.small_arms", campaign=repr(camp), arms=", ".join(f"{a} ({v:,})" for a, v in small.items()),
                  min=MIN_ARM_CONTACTS),
                StatisticalWarning,
            )
        zero = g["conv"].droplevel(0)
        zero = zero[zero == 0]
        if len(zero):
            s.warn(
                Text("campaign.warn.zero_conversions", campaign=repr(camp), arms=", ".join(map(str, zero.index)),
                  source=category("outcome_source", s.sources[camp])),
                StatisticalWarning,
            )


def _joined(items: Sequence[Text]) -> Text | str:
    """Messages joined by ``campaign.notes.join`` ("; " / "；"), kept as one :class:`Text` (so the
    note stays language-neutral in ``metrics.json``); no items: an empty string."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return Text("campaign.notes.join", first=items[0], rest=_joined(items[1:]))


def prepare_contacts(
    contacts: pd.DataFrame,
    *,
    orders: pd.DataFrame | None = None,
    control_arm: str | None = "control",
    campaigns: Sequence[str] | None = None,
    window_days: float = 14,
    outcome_source: Literal["auto", "columns", "orders"] = "auto",
    as_of: Any = None,
    con: ibis.BaseBackend | None = None,
    credit_rule: Literal["last_touch", "fractional", "every"] = "last_touch",
) -> CampaignData:
    """Validate campaign contacts, fill their outcomes and state each campaign's design.

    Checks (errors stop, warnings flag):

    * ``customer_id``, ``campaign_id``, ``arm`` present and not blank (error);
    * ``campaigns`` lists only campaign ids in the data (error naming ``campaigns=``, did-you-mean);
    * a customer in two arms of one campaign (error naming rows and examples); the same
      customer twice in one arm keeps the earliest contact (DataQualityWarning);
    * a campaign whose only arm is the control arm (error); a campaign without the control arm
      while other campaigns have it is allowed and flagged ``observational`` (StatisticalWarning
      listing the arms seen);
    * ``control_arm`` in no campaign at all: every campaign is warned about as above and
      ``control_problem`` holds the error (the arms with their rows, a did-you-mean,
      ``control_arm=``) that the estimates raise (:meth:`CampaignData.require_control`), unless
      every campaign has a single arm and none reads as a hold-out (one StatisticalWarning: the
      experimental comparison is skipped) or ``control_arm`` is None (a note);
    * arms of very different sizes (smallest < 5 % of largest) or under 100 contacts, and an arm
      without a single conversion (StatisticalWarning; the formal SRM test is in experiments);
    * attribution windows not fully observed: ``contact_time + window_days`` after the data end
      (StatisticalWarning, ``window_complete`` False); every contact of a campaign after the data
      end (error);
    * tracked ``converted`` flags of customers without any order after the contact although
      orders exist (DataQualityWarning: the conversion precedes the contact or is missing).

    Parameters
    ----------
    contacts : pandas.DataFrame
        The ``campaign_contacts`` table (canonical columns).
    orders : pandas.DataFrame, optional
        The ``orders`` table; needed for ``outcome_source="orders"``.
    control_arm : str or None, default "control"
        Name of the hold-out arm, the same in every campaign; None when no campaign has one.
    campaigns : sequence of str, optional
        Campaign ids to keep; default all.
    window_days : float, default 14
        Attribution window in days (positive; validated by the params model).
    outcome_source : {"auto", "columns", "orders"}
        ``auto``: per campaign, the tracked ``converted`` column when it is present and complete,
        else attribution from orders.
    as_of : date-like, optional
        Data end: orders after the end of this day are not used. Default: last order time.
    con : ibis.BaseBackend, optional
        Engine of the attribution range join (DuckDB or Spark; the run's ``ctx.engine``); default
        a fresh in-memory DuckDB.
    credit_rule : {"last_touch", "fractional", "every"}, default "last_touch"
        An order inside the windows of several contacts of its customer goes to the latest
        contact, in equal shares to each, or whole to each (the old double count); see
        :func:`workbench.campaign.attribution.attribute_orders`.

    Returns
    -------
    CampaignData

    Raises
    ------
    AnalysisError
        See the checks above.
    """
    s = _Prep(df=_step_validate(contacts), control_arm=control_arm, window_days=float(window_days),
              outcome_source=outcome_source, orders=orders, n_in=len(contacts), con=con,
              credit_rule=credit_rule)  # fmt: skip
    _step_campaigns(s, campaigns)
    _step_contact_time(s)
    _step_duplicates(s)
    _step_data_end(s, as_of)
    _step_designs(s)
    _step_outcome_sources(s)
    _step_attribution(s)
    _step_outcome_columns(s, contacts.columns)
    _step_window_completeness(s)
    _step_overlapping_windows(s)
    _step_arm_sizes(s)
    sources = [Text("campaign.notes.from_columns", campaign=c) if src == "columns"
               else Text("campaign.notes.from_orders", campaign=c, days=f"{s.window_days:g}")
               for c, src in s.sources.items()]  # fmt: skip
    s.notes.append(Text("campaign.notes.outcomes", sources=_joined(sources)))
    return CampaignData(
        contacts=s.df.reset_index(drop=True),
        designs=s.designs,
        notes=tuple(s.notes),
        control_arm=control_arm,
        window_days=float(window_days),
        data_end=s.data_end,
        agreement=s.agreement,
        control_problem=s.control_problem,
    )
