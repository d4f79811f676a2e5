"""Campaign data preparation, KPIs against targets and incremental return
(notebook ``04_campaign_evaluation.ipynb``; arm comparisons live in ``experiments.py``).

Notebook order: :func:`prepare_contacts` (validate, fill the outcome columns from the tracked
columns or by attribution from orders, design per campaign) -> :func:`kpi_table` (reach,
delivery, open, click-through, visit and conversion rates with Wilson intervals, orders,
revenue, cost, ROI, CPA, revenue per contact, engagement score; actual vs target) ->
:func:`incremental_return` (incremental conversions, revenue and profit of each treatment arm
against the control arm, with intervals).

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
Rates
    ``delivery_rate = delivered / contacts`` (contacts with a known delivered flag);
    ``open_rate = opened / delivered``; ``ctr`` (click-through rate) ``= clicked / delivered``;
    ``click_to_open_rate = clicked / opened``; ``visit_rate = visited / contacts``;
    ``conversion_rate = converted / contacts``. When ``delivered`` is not tracked the open and
    click rates use the contacts with a known flag as denominator. Blank flags (e.g. the
    control arm, which was never sent anything) are left out of numerator and denominator.
Money
    ``roi = (margin * revenue - cost) / cost``; ``cpa = cost / conversions``;
    ``revenue_per_contact = revenue / contacts``. Engagement score = mean over contacts of
    ``sum(weight_k * flag_k)`` (blank flags count 0).
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import (
    AnalysisError,
    DataQualityWarning,
    ParamsError,
    StatisticalWarning,
    format_examples,
)
from workbench.report.fmt import num, pct
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm, wilson_interval

__all__ = [
    "KPI_DEFINITIONS",
    "CampaignData",
    "prepare_contacts",
    "attribute_orders",
    "KPIResult",
    "kpi_table",
    "IncrementalReturn",
    "incremental_return",
    "campaign_frame",
    "observational_frame",
    "truth_effect_check",
    "customer_covariates",
    "pre_campaign_covariates",
    "BALANCE_DEFAULTS",
]

_TABLE = "campaign_contacts"
_KEY = "analyses.campaign"
_FLAGS = ("delivered", "opened", "clicked", "visited", "converted")
_REFUND_STATUS = frozenset(
    {
        "refunded",
        "refund",
        "returned",
        "cancelled",
        "canceled",
        "void",
        "已退款",
        "退款",
        "已取消",
        "取消",
        "退货",
    }
)
#: Smallest arm under this share of the largest arm of a campaign: a warning.
ARM_SIZE_RATIO_WARN: float = 0.05
#: Arms with fewer contacts get a warning (intervals too wide to act on).
MIN_ARM_CONTACTS: int = 100

#: KPI name -> (description, better direction). Names accepted in ``analyses.campaign.targets``.
KPI_DEFINITIONS: dict[str, tuple[str, str]] = {
    "contacts": ("contacts (reach)", "higher"),
    "delivery_rate": ("delivered / contacts", "higher"),
    "open_rate": ("opened / delivered", "higher"),
    "ctr": ("click-through rate: clicked / delivered", "higher"),
    "click_to_open_rate": ("clicked / opened", "higher"),
    "visit_rate": ("visited / contacts", "higher"),
    "conversion_rate": ("converted / contacts", "higher"),
    "conversions": ("contacts that converted", "higher"),
    "orders": ("attributed orders", "higher"),
    "revenue": ("attributed revenue", "higher"),
    "cost": ("campaign cost", "lower"),
    "roi": ("(margin x revenue - cost) / cost", "higher"),
    "cpa": ("cost per acquisition: cost / conversions", "lower"),
    "revenue_per_contact": ("revenue / contacts", "higher"),
    "engagement_score": ("mean weighted sum of engagement flags per contact", "higher"),
}
#: Columns of the wide KPI summary.
_MAIN_KPIS: tuple[str, ...] = (
    "contacts", "delivery_rate", "open_rate", "ctr", "visit_rate", "conversion_rate", "conversion_rate_low",
    "conversion_rate_high", "orders", "revenue", "cost", "roi", "cpa", "revenue_per_contact", "engagement_score",
)  # fmt: skip
_RATES = (
    "delivery_rate",
    "open_rate",
    "ctr",
    "click_to_open_rate",
    "visit_rate",
    "conversion_rate",
)


# ============================================================================================
# helpers
# ============================================================================================


def _examples(values: Any, limit: int = 5) -> str:
    return format_examples(list(pd.Series(values).head(50)), limit=limit)


def _naive(s: pd.Series) -> pd.Series:
    """Datetime series without time zone (UTC when it had one)."""
    s = pd.to_datetime(s, errors="coerce")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    return s.astype("datetime64[ns]")


def _flag(s: pd.Series) -> pd.Series:
    """Boolean flag with NA kept (nullable boolean)."""
    if s.dtype == bool or isinstance(s.dtype, pd.BooleanDtype):
        return s.astype("boolean")
    if pd.api.types.is_numeric_dtype(s):
        return (s != 0).astype("boolean").mask(s.isna())
    low = s.astype("string").str.strip().str.lower()
    out = low.isin(["1", "true", "t", "yes", "y", "是", "1.0"]).astype("boolean")
    return out.mask(low.isna())


def _did_you_mean(name: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _money(x: float | None) -> str:
    if x is None or not math.isfinite(float(x)):
        return "n/a"
    return f"{float(x):,.0f}"


# ============================================================================================
# 1. preparation and attribution
# ============================================================================================


def attribute_orders(
    contacts: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    window_days: float = 14,
    data_end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Orders, conversion and revenue attributed to each contact (DuckDB range join).

    Parameters
    ----------
    contacts : pandas.DataFrame
        ``customer_id``, ``contact_time``; one row per contact.
    orders : pandas.DataFrame
        ``customer_id``, ``order_time``, ``amount``; ``is_refund`` and ``status`` when present.
    window_days : float, default 14
        An order counts when ``contact_time < order_time <= contact_time + window_days``.
    data_end : Timestamp, optional
        Orders after this are ignored (default: none ignored).

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``contacts``: ``orders`` (int), ``converted`` (bool),
        ``revenue`` (float). Contacts without ``contact_time`` get 0.

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a"], "contact_time": pd.to_datetime(["2025-01-01"])})
    >>> o = pd.DataFrame({"customer_id": ["a", "a"], "order_time": pd.to_datetime(["2025-01-02", "2025-02-01"]),
    ...                   "amount": [10.0, 5.0]})
    >>> attribute_orders(c, o, window_days=14)["revenue"].tolist()
    [10.0]
    """
    import duckdb

    for col in ("customer_id", "order_time", "amount"):
        if col not in orders.columns:
            raise AnalysisError(
                f"orders: column {col!r} is needed to attribute campaign outcomes "
                f"(columns: {', '.join(map(str, orders.columns))}); map it under tables.orders.columns "
                f"or set {_KEY}.outcome_source: columns"
            )
    c = pd.DataFrame(
        {
            "rid": np.arange(len(contacts), dtype=np.int64),
            "customer_id": contacts["customer_id"].astype("string").to_numpy(dtype=object),
            "t0": _naive(contacts["contact_time"]).to_numpy(),
        }
    )
    c["t1"] = c["t0"] + pd.Timedelta(days=float(window_days))
    keep = pd.Series(True, index=orders.index)
    amount = pd.to_numeric(orders["amount"], errors="coerce")
    keep &= amount.fillna(0) >= 0
    if "is_refund" in orders.columns:
        keep &= ~_flag(orders["is_refund"]).fillna(False).astype(bool)
    if "status" in orders.columns:
        keep &= ~orders["status"].astype("string").str.strip().str.lower().isin(
            _REFUND_STATUS
        ).fillna(False)
    o_time = _naive(orders["order_time"])
    keep &= o_time.notna()
    if data_end is not None:
        keep &= o_time <= pd.Timestamp(data_end)
    o = pd.DataFrame(
        {
            "customer_id": orders.loc[keep, "customer_id"].astype("string").to_numpy(dtype=object),
            "t": o_time[keep].to_numpy(),
            "amount": amount[keep].fillna(0).to_numpy(dtype="float64"),
        }
    )
    con = duckdb.connect()
    try:
        con.register("c", c)
        con.register("o", o)
        res = con.execute(
            """
            SELECT c.rid, count(o.t) AS n, coalesce(sum(o.amount), 0.0) AS rev
            FROM c JOIN o
              ON o.customer_id = c.customer_id AND o.t > c.t0 AND o.t <= c.t1
            GROUP BY c.rid
            """
        ).df()
    finally:
        con.close()
    n = np.zeros(len(c), dtype=np.int64)
    rev = np.zeros(len(c), dtype="float64")
    rid = res["rid"].to_numpy(dtype=np.int64)
    n[rid] = res["n"].to_numpy(dtype=np.int64)
    rev[rid] = np.round(res["rev"].to_numpy(dtype="float64"), 2)
    return pd.DataFrame({"orders": n, "converted": n > 0, "revenue": rev}, index=contacts.index)


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
    """

    contacts: pd.DataFrame
    designs: pd.DataFrame
    notes: tuple[str, ...]
    control_arm: str
    window_days: float
    data_end: pd.Timestamp | None = None
    agreement: pd.DataFrame | None = None

    def summary(self) -> pd.DataFrame:
        """The design table (one row per campaign)."""
        return self.designs.copy()

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
                f"{_did_you_mean(campaign_id, self.designs['campaign_id'])}"
            )
        return row.iloc[0].to_dict()

    @property
    def randomized(self) -> list[str]:
        """Campaigns with a control arm (and at least one other arm)."""
        return self.designs.loc[self.designs["design"] == "randomized", "campaign_id"].tolist()

    def finding(self) -> str:
        d = self.designs
        parts = [
            f"{len(self.contacts):,} contacts in {len(d)} campaign(s): "
            + "; ".join(
                f"{r.campaign_id} {r.design} ({r.n_arms} arm(s), outcomes from {r.outcome_source})"
                for r in d.itertuples()
            )
            + "."
        ]
        obs = d.loc[d["design"] == "observational", "campaign_id"].tolist()
        if obs:
            parts.append(
                f"{', '.join(obs)} had no {self.control_arm!r} hold-out: their conversion and revenue are "
                "what contacted customers did, not what the campaign caused."
            )
        if self.agreement is not None and not self.agreement.empty:
            a = self.agreement
            worst = a.iloc[
                int(np.argmax(np.abs(a["attributed_conversions"] - a["column_conversions"])))
            ]
            parts.append(
                f"Tracked vs order-attributed conversions differ most in {worst['campaign_id']}: "
                f"{int(worst['column_conversions']):,} tracked vs {int(worst['attributed_conversions']):,} "
                "attributed (orders in the window also include purchases the customer would have made anyway)."
            )
        inc = (
            self.contacts["window_complete"].eq(False).sum()
            if "window_complete" in self.contacts
            else 0
        )
        if inc:
            parts.append(
                f"{int(inc):,} contacts have an attribution window running past the data end."
            )
        return " ".join(parts)

    def metrics(self) -> dict[str, Any]:
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
                }
                for r in self.designs.itertuples()
            },
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        return (
            f"CampaignData({len(self.contacts):,} contacts, {len(self.designs)} campaigns, "
            f"randomized={len(self.randomized)}, window={self.window_days:g} d)"
        )


def prepare_contacts(
    contacts: pd.DataFrame,
    *,
    orders: pd.DataFrame | None = None,
    control_arm: str = "control",
    campaigns: Sequence[str] | None = None,
    window_days: float = 14,
    outcome_source: Literal["auto", "columns", "orders"] = "auto",
    as_of: Any = None,
) -> CampaignData:
    """Validate campaign contacts, fill their outcomes and state each campaign's design.

    Checks (errors stop, warnings flag):

    * ``customer_id``, ``campaign_id``, ``arm`` present and not blank (error);
    * ``campaigns`` lists only campaign ids in the data (ParamsError, did-you-mean);
    * a customer in two arms of one campaign (error naming rows and examples); the same
      customer twice in one arm keeps the earliest contact (DataQualityWarning);
    * a campaign whose only arm is the control arm (error); a campaign without the control arm
      is allowed and flagged ``observational`` (StatisticalWarning listing the arms seen);
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
    control_arm : str, default "control"
        Name of the hold-out arm (``analyses.campaign.control_arm``).
    campaigns : sequence of str, optional
        Campaign ids to keep (``analyses.campaign.campaigns``); default all.
    window_days : float, default 14
        Attribution window (``analyses.campaign.attribution_window_days``).
    outcome_source : {"auto", "columns", "orders"}
        ``auto``: per campaign, the tracked ``converted`` column when it is present and complete,
        else attribution from orders (``analyses.campaign.outcome_source``).
    as_of : date-like, optional
        Data end: orders after the end of this day are not used. Default: last order time.

    Returns
    -------
    CampaignData

    Raises
    ------
    AnalysisError, ParamsError
        See the checks above.
    """
    if outcome_source not in ("auto", "columns", "orders"):
        raise ParamsError(
            f"{_KEY}.outcome_source: must be auto, columns or orders (got {outcome_source!r})"
        )
    if not window_days or window_days <= 0:
        raise ParamsError(f"{_KEY}.attribution_window_days: must be positive (got {window_days!r})")
    missing = [c for c in ("customer_id", "campaign_id", "arm") if c not in contacts.columns]
    if missing:
        raise AnalysisError(
            f"{_TABLE}: required column(s) {', '.join(missing)} missing "
            f"(columns: {', '.join(map(str, contacts.columns))}); map them under tables.{_TABLE}.columns"
        )
    notes: list[str] = []
    df = contacts.copy()
    n_in = len(df)
    if n_in == 0:
        raise AnalysisError(f"{_TABLE}: the table has no rows")
    for col in ("customer_id", "campaign_id", "arm"):
        blank = df[col].isna()
        if blank.any():
            rows = df.index[blank]
            raise AnalysisError(
                f"{_TABLE}.{col}: {int(blank.sum()):,} of {n_in:,} rows blank (row labels e.g. "
                f"{_examples(rows)}); fill them or drop them (cleaning.missing_required: drop)"
            )
    df["campaign_id"] = df["campaign_id"].astype(str)
    df["arm"] = df["arm"].astype(str)

    # campaigns param --------------------------------------------------------------------------
    seen = sorted(df["campaign_id"].unique())
    if campaigns is not None:
        unknown = [c for c in campaigns if str(c) not in seen]
        if unknown:
            raise ParamsError(
                [
                    f"{_KEY}.campaigns: campaign {u!r} is not in {_TABLE}{_did_you_mean(u, seen)}; "
                    f"campaigns in the data: {', '.join(seen)}"
                    for u in unknown
                ]
            )
        df = df.loc[df["campaign_id"].isin([str(c) for c in campaigns])]
        notes.append(
            f"kept campaigns {', '.join(map(str, campaigns))} ({len(df):,} of {n_in:,} contacts)"
        )

    # contact time -----------------------------------------------------------------------------
    has_time = "contact_time" in df.columns
    if has_time:
        df["contact_time"] = _naive(df["contact_time"])

    # duplicates ---------------------------------------------------------------------------------
    key = df[["campaign_id", "customer_id"]]
    dup_all = key.duplicated(keep=False)
    if dup_all.any():
        n_arms = (
            df.loc[dup_all].groupby(["campaign_id", "customer_id"], sort=False)["arm"].nunique()
        )
        cross = n_arms[n_arms > 1]
        if len(cross):
            ex = [f"{cid} in {camp}" for camp, cid in cross.index[:5]]
            rows = int(df.set_index(["campaign_id", "customer_id"]).index.isin(cross.index).sum())
            raise AnalysisError(
                f"{_TABLE}: {len(cross):,} customer(s) ({rows:,} rows) are in two or more arms of the same "
                f"campaign, e.g. {', '.join(ex)}; arms must not overlap (fix the assignment export; there is no "
                f"params option to choose an arm)"
            )
        order_cols = ["contact_time"] if has_time else []
        before = len(df)
        df = (df.sort_values(order_cols, kind="stable") if order_cols else df).drop_duplicates(
            ["campaign_id", "customer_id"], keep="first"
        )
        df = df.sort_index(kind="stable")
        msg = (
            f"{_TABLE}: {before - len(df):,} repeated contacts of the same customer in the same arm and campaign "
            f"dropped (kept the earliest), e.g. {_examples(key.loc[dup_all, 'customer_id'])}"
        )
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
        notes.append(msg)

    # data end ---------------------------------------------------------------------------------
    data_end: pd.Timestamp | None = None
    if as_of is not None:
        data_end = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    elif orders is not None and "order_time" in orders.columns and len(orders):
        data_end = _naive(orders["order_time"]).max()
    if orders is not None and as_of is not None and "order_time" in orders.columns:
        late = int((_naive(orders["order_time"]) > data_end).sum())
        if late:
            notes.append(
                f"{late:,} orders after as_of {data_end.date()} are not used for attribution"
            )

    # designs per campaign ---------------------------------------------------------------------
    arms_by = df.groupby("campaign_id", sort=True)["arm"].agg(lambda s: tuple(sorted(s.unique())))
    all_arms = sorted({a for t in arms_by for a in t})
    if control_arm not in all_arms:
        no_ctl_hint = _did_you_mean(control_arm, all_arms)
    else:
        no_ctl_hint = ""
    designs = []
    for camp, arms in arms_by.items():
        sub = df.loc[df["campaign_id"] == camp]
        if arms == (control_arm,):
            raise AnalysisError(
                f"{_TABLE}: campaign {camp!r} has only the control arm {control_arm!r} ({len(sub):,} rows): "
                f"nobody was treated; drop it via {_KEY}.campaigns or fix {_KEY}.control_arm"
            )
        has_ctl = control_arm in arms
        if not has_ctl:
            msg = (
                f"campaign {camp!r} has no arm named {control_arm!r} (arms seen: {', '.join(arms)}){no_ctl_hint}; "
                f"it is evaluated as observational (no causal effect). If one of these arms is the hold-out, "
                f"set {_KEY}.control_arm"
            )
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)
        designs.append(
            {
                "campaign_id": camp,
                "design": "randomized" if has_ctl else "observational",
                "arms": arms,
                "control_arm": control_arm if has_ctl else None,
                "n_contacts": len(sub),
                "n_arms": len(arms),
            }
        )
    designs_df = pd.DataFrame(designs)

    # outcomes ---------------------------------------------------------------------------------
    has_conv = "converted" in df.columns
    if has_conv:
        df["converted"] = _flag(df["converted"])
    if "revenue" in df.columns:
        df["revenue"] = pd.to_numeric(df["revenue"], errors="coerce")
    sources: dict[str, str] = {}
    for camp in designs_df["campaign_id"]:
        m = df["campaign_id"] == camp
        complete = has_conv and not df.loc[m, "converted"].isna().any()
        if outcome_source == "columns":
            if not has_conv:
                raise AnalysisError(
                    f"{_TABLE}: column 'converted' is missing but {_KEY}.outcome_source is 'columns'; map it "
                    f"under tables.{_TABLE}.columns or set {_KEY}.outcome_source: orders (needs orders)"
                )
            if not complete:
                bad = df.loc[m & df["converted"].isna(), "customer_id"]
                raise AnalysisError(
                    f"{_TABLE}.converted: {len(bad):,} rows of campaign {camp!r} blank (customers e.g. "
                    f"{_examples(bad)}); set {_KEY}.outcome_source: orders to attribute them from orders"
                )
            sources[camp] = "columns"
        elif outcome_source == "orders" or not complete:
            if orders is None:
                why = (
                    "outcome_source is 'orders'"
                    if outcome_source == "orders"
                    else "'converted' is not tracked"
                )
                raise AnalysisError(
                    f"{_TABLE}: campaign {camp!r}: {why}, so outcomes must be attributed from orders, but no "
                    f"orders table was given; load tables.orders or set {_KEY}.outcome_source"
                )
            if not has_time:
                raise AnalysisError(
                    f"{_TABLE}: column 'contact_time' is needed to attribute orders to contacts (campaign {camp!r}); "
                    f"map it under tables.{_TABLE}.columns or set {_KEY}.outcome_source: columns"
                )
            sources[camp] = "orders"
        else:
            sources[camp] = "columns"
    designs_df["outcome_source"] = designs_df["campaign_id"].map(sources)
    df["outcome_source"] = df["campaign_id"].map(sources).astype(object)

    if has_time:
        nat = df["contact_time"].isna()
        need = nat & df["outcome_source"].eq("orders")
        if need.any():
            raise AnalysisError(
                f"{_TABLE}.contact_time: {int(need.sum()):,} of {len(df):,} rows blank in campaigns attributed from "
                f"orders (customers e.g. {_examples(df.loc[need, 'customer_id'])}); fill them or set "
                f"{_KEY}.outcome_source: columns"
            )

    agreement = None
    if orders is not None and has_time and df["contact_time"].notna().any():
        att = attribute_orders(df, orders, window_days=window_days, data_end=data_end)
        df["attributed_orders"] = att["orders"].where(df["contact_time"].notna())
        df["attributed_converted"] = (
            att["converted"].astype("boolean").mask(df["contact_time"].isna())
        )
        df["attributed_revenue"] = att["revenue"].where(df["contact_time"].notna())
        use = df["outcome_source"].eq("orders")
        if has_conv:
            # compare tracked flags with attribution, per campaign
            ok = df["converted"].notna() & df["contact_time"].notna()
            if ok.any():
                g = df.loc[ok].groupby("campaign_id")
                agreement = pd.DataFrame(
                    {
                        "contacts": g.size(),
                        "column_conversions": g["converted"].sum().astype(int),
                        "attributed_conversions": g["attributed_converted"].sum().astype(int),
                        "both": g.apply(
                            lambda s: int(
                                (
                                    s["converted"].astype(bool)
                                    & s["attributed_converted"].astype(bool)
                                ).sum()
                            )
                        ),
                    }
                ).reset_index()
                agreement["flag_without_order"] = (
                    agreement["column_conversions"] - agreement["both"]
                )
                agreement["order_without_flag"] = (
                    agreement["attributed_conversions"] - agreement["both"]
                )
            # tracked conversions with no order at all after the contact, although the customer has orders
            o_time = _naive(orders["order_time"])
            last = (
                pd.Series(
                    o_time.to_numpy(), index=orders["customer_id"].astype("string").to_numpy()
                )
                .groupby(level=0)
                .max()
            )
            cust_last = df["customer_id"].astype("string").map(last)
            bad = (
                df["converted"].fillna(False).astype(bool)
                & df["contact_time"].notna()
                & cust_last.notna()
                & (cust_last <= df["contact_time"])
            )
            if bad.any():
                msg = (
                    f"{_TABLE}.converted: {int(bad.sum()):,} contacts flagged converted whose customer has no order "
                    f"after the contact (the conversion precedes the contact or is missing from orders), e.g. "
                    f"{_examples(df.loc[bad, 'customer_id'])}; check contact_time or set {_KEY}.outcome_source: orders"
                )
                warnings.warn(msg, DataQualityWarning, stacklevel=2)
                notes.append(msg)
        if use.any():
            if has_conv:
                df["converted_column"] = df["converted"]
            if "revenue" in df.columns:
                df["revenue_column"] = df["revenue"]
    else:
        use = pd.Series(False, index=df.index)

    conv = (
        df["converted"].astype("boolean")
        if has_conv
        else pd.Series(pd.NA, index=df.index, dtype="boolean")
    )
    rev = df["revenue"] if "revenue" in df.columns else pd.Series(np.nan, index=df.index)
    n_ord = conv.astype("Float64").astype("float64")
    if use.any():
        conv = conv.mask(use, df["attributed_converted"])
        rev = rev.mask(use, df["attributed_revenue"])
        n_ord = n_ord.mask(use, df["attributed_orders"])
    df["converted"] = conv.fillna(False).astype(bool)
    df["revenue"] = rev.astype("float64")
    df["orders"] = n_ord.astype("float64")
    if "revenue" not in contacts.columns:
        col_camps = [c for c, s in sources.items() if s == "columns"]
        if col_camps:
            notes.append(
                f"revenue not tracked for {', '.join(col_camps)} (no revenue column): revenue KPIs are n/a"
            )

    # window completeness ------------------------------------------------------------------------
    if has_time and data_end is not None:
        end = df["contact_time"] + pd.Timedelta(days=float(window_days))
        wc = (end <= data_end).astype("boolean").mask(df["contact_time"].isna())
        df["window_complete"] = wc
        after = df["contact_time"] > data_end
        for camp in designs_df["campaign_id"]:
            m = df["campaign_id"] == camp
            if m.any() and after[m].all() and sources[camp] == "orders":
                raise AnalysisError(
                    f"{_TABLE}.contact_time: all {int(m.sum()):,} contacts of campaign {camp!r} are after the data end "
                    f"{data_end} (e.g. {_examples(df.loc[m, 'contact_time'])}): no outcome can be observed; move as_of "
                    f"or drop the campaign via {_KEY}.campaigns"
                )
        inc = wc.eq(False)
        if inc.any():
            by_c = df.loc[inc].groupby("campaign_id").size()
            msg = (
                f"{_TABLE}.contact_time: {int(inc.sum()):,} of {len(df):,} contacts have an attribution window "
                f"({window_days:g} days) ending after the data end {data_end} ("
                + ", ".join(f"{k}: {v:,}" for k, v in by_c.items())
                + f"; e.g. {_examples(df.loc[inc, 'contact_time'].astype(str))}); their conversions are undercounted. "
                f"Use a later as_of or a shorter {_KEY}.attribution_window_days"
            )
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)
    else:
        df["window_complete"] = pd.array([pd.NA] * len(df), dtype="boolean")
    designs_df["first_contact"] = designs_df["campaign_id"].map(
        df.groupby("campaign_id")["contact_time"].min() if has_time else {}
    )
    designs_df["last_contact"] = designs_df["campaign_id"].map(
        df.groupby("campaign_id")["contact_time"].max() if has_time else {}
    )
    designs_df["window_complete_share"] = (
        designs_df["campaign_id"]
        .map(
            df.groupby("campaign_id")["window_complete"].apply(
                lambda s: float(s.dropna().astype(bool).mean()) if s.notna().any() else np.nan
            )
        )
        .astype("float64")
    )

    # overlapping windows between campaigns ----------------------------------------------------
    if has_time and len(designs_df) > 1 and use.any():
        t = df.loc[
            df["contact_time"].notna(), ["customer_id", "campaign_id", "contact_time"]
        ].sort_values(["customer_id", "contact_time"])
        gap = t.groupby("customer_id")["contact_time"].diff()
        overlap = int((gap < pd.Timedelta(days=float(window_days))).sum())
        if overlap:
            notes.append(
                f"{overlap:,} contacts follow another campaign's contact of the same customer within "
                f"{window_days:g} days: orders in the overlap count for both campaigns"
            )

    # arm sizes and zero conversions -----------------------------------------------------------
    sizes = df.groupby(["campaign_id", "arm"]).agg(
        n=("converted", "size"), conv=("converted", "sum")
    )
    for camp, g in sizes.groupby(level=0):
        n = g["n"].droplevel(0)
        if len(n) > 1 and n.min() < ARM_SIZE_RATIO_WARN * n.max():
            msg = (
                f"campaign {camp!r}: arm sizes differ widely ({', '.join(f'{a}: {v:,}' for a, v in n.items())}); "
                "check the assignment (experiments.srm_check tests the planned split)"
            )
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)
        small = n[n < MIN_ARM_CONTACTS]
        if len(small):
            msg = (
                f"campaign {camp!r}: arm(s) {', '.join(f'{a} ({v:,})' for a, v in small.items())} have fewer than "
                f"{MIN_ARM_CONTACTS} contacts; their rates have wide intervals"
            )
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)
        zero = g["conv"].droplevel(0)
        zero = zero[zero == 0]
        if len(zero):
            msg = (
                f"campaign {camp!r}: no conversion at all in arm(s) {', '.join(map(str, zero.index))} "
                f"(outcomes from {sources[camp]}); rates of 0 have one-sided intervals and ratios are undefined"
            )
            warnings.warn(msg, StatisticalWarning, stacklevel=2)
            notes.append(msg)

    notes.append(
        "outcomes: "
        + "; ".join(
            f"{c} from {'tracked columns' if s == 'columns' else f'orders within {window_days:g} days after contact'}"
            for c, s in sources.items()
        )
    )
    return CampaignData(
        contacts=df.reset_index(drop=True),
        designs=designs_df,
        notes=tuple(notes),
        control_arm=control_arm,
        window_days=float(window_days),
        data_end=data_end,
        agreement=agreement,
    )


# ============================================================================================
# 2. KPIs against targets
# ============================================================================================


def _check_targets(targets: Mapping[str, float]) -> dict[str, float]:
    problems = []
    out: dict[str, float] = {}
    for k, v in (targets or {}).items():
        if k not in KPI_DEFINITIONS:
            problems.append(
                f"{_KEY}.targets.{k}: unknown KPI{_did_you_mean(k, list(KPI_DEFINITIONS))}; "
                f"KPIs: {', '.join(KPI_DEFINITIONS)}"
            )
            continue
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            problems.append(f"{_KEY}.targets.{k}: target must be a number (got {v!r})")
    if problems:
        raise ParamsError(problems)
    return out


@dataclass(frozen=True, eq=False, repr=False)
class KPIResult(Result):
    """Campaign KPIs per group, with intervals and targets (see :func:`kpi_table`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per group: the ``by`` columns, ``contacts``, counts (``delivered``, ``opened``,
        ``clicked``, ``visited``, ``conversions``, ``orders``), money (``revenue``, ``cost``),
        each rate in :data:`KPI_DEFINITIONS` with ``<rate>_low``/``<rate>_high`` (95 % Wilson),
        ``roi``, ``cpa``, ``revenue_per_contact``, ``engagement_score``.
    by : tuple of str
        Grouping columns used.
    targets : dict
        KPI -> target.
    margin : float
        Margin used for ROI.
    engagement_weights : dict
        Flag -> weight actually used (flags absent from the data dropped).
    control_arm : str
        Rows of this arm are left out of the target comparison.
    notes : tuple of str
    """

    table: pd.DataFrame
    by: tuple[str, ...]
    targets: dict[str, float]
    margin: float
    engagement_weights: dict[str, float]
    control_arm: str = "control"
    notes: tuple[str, ...] = ()

    def summary(self, wide: bool = True) -> pd.DataFrame:
        """Headline KPIs, one row per group (``wide=False``: the long table of :meth:`to_frame`)."""
        if not wide:
            return self.to_frame()
        cols = list(self.by) + [c for c in _MAIN_KPIS if c in self.table.columns]
        return self.table[cols].copy()

    def to_frame(self) -> pd.DataFrame:
        """Long table: the ``by`` columns, ``kpi``, ``value``, ``low``, ``high`` (rates only),
        ``definition``."""
        rows = []
        for kpi, (definition, _) in KPI_DEFINITIONS.items():
            if kpi not in self.table.columns:
                continue
            part = self.table[list(self.by)].copy()
            part["kpi"] = kpi
            part["value"] = self.table[kpi].astype("float64")
            part["low"] = self.table[f"{kpi}_low"] if f"{kpi}_low" in self.table else np.nan
            part["high"] = self.table[f"{kpi}_high"] if f"{kpi}_high" in self.table else np.nan
            part["definition"] = definition
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    def targets_table(self) -> pd.DataFrame:
        """Actual vs target for each target KPI and each group but the control arm.

        Columns: the ``by`` columns, ``kpi``, ``actual``, ``low``, ``high`` (rates: 95 % Wilson),
        ``target``, ``gap`` (actual - target), ``gap_pct`` (gap / target), ``better``
        (higher / lower), ``status`` (met / missed / n/a) and ``mark`` (✓ / ✗ / –);
        ``ci_includes_target`` says when the interval cannot tell met from missed.
        """
        cols = list(self.by) + [
            "kpi",
            "actual",
            "low",
            "high",
            "target",
            "gap",
            "gap_pct",
            "better",
        ]
        if not self.targets:
            return pd.DataFrame(columns=[*cols, "status", "mark", "ci_includes_target"])
        t = self.table
        if "arm" in self.by:
            t = t.loc[t["arm"].astype(str) != str(self.control_arm)]
        rows = []
        for kpi, target in self.targets.items():
            part = t[list(self.by)].copy()
            part["kpi"] = kpi
            part["actual"] = t[kpi].astype("float64") if kpi in t else np.nan
            part["low"] = t[f"{kpi}_low"] if f"{kpi}_low" in t else np.nan
            part["high"] = t[f"{kpi}_high"] if f"{kpi}_high" in t else np.nan
            part["target"] = target
            part["better"] = KPI_DEFINITIONS[kpi][1]
            rows.append(part)
        out = pd.concat(rows, ignore_index=True)
        out["gap"] = out["actual"] - out["target"]
        out["gap_pct"] = np.where(out["target"] != 0, out["gap"] / out["target"].abs(), np.nan)
        higher = out["better"] == "higher"
        met = np.where(higher, out["actual"] >= out["target"], out["actual"] <= out["target"])
        known = out["actual"].notna()
        out["status"] = np.where(~known, "n/a", np.where(met, "met", "missed"))
        out["mark"] = out["status"].map({"met": "✓", "missed": "✗", "n/a": "–"})
        out["ci_includes_target"] = (out["low"] <= out["target"]) & (out["target"] <= out["high"])
        return out[[*cols, "status", "mark", "ci_includes_target"]]

    def styled_targets(self) -> Any:
        """:meth:`targets_table` as a pandas Styler: met green, missed red, rates as percent."""
        t = self.targets_table()

        def colour(v: str) -> str:
            return {"met": "background-color: #d8f0d8", "missed": "background-color: #f8d7d7"}.get(
                v, ""
            )

        rate_rows = t["kpi"].isin(_RATES)
        sty = t.style.map(colour, subset=["status"]).hide(axis="index")
        fmt_pct = {c: (lambda v: pct(v)) for c in ("actual", "low", "high", "target", "gap")}
        sty = sty.format(fmt_pct, subset=pd.IndexSlice[t.index[rate_rows], list(fmt_pct)])
        sty = sty.format(
            "{:,.2f}",
            subset=pd.IndexSlice[t.index[~rate_rows], ["actual", "target", "gap"]],
            na_rep="n/a",
        )
        return sty.format(lambda v: pct(v), subset=["gap_pct"])

    def _labels(self) -> pd.Series:
        return self.table[list(self.by)].astype(str).agg(" · ".join, axis=1)

    def plot(self, ax: Any = None, *, kpi: str = "conversion_rate") -> Any:
        """Bar chart of one KPI per group (rates with 95 % Wilson intervals; target as a line)."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        if kpi not in self.table.columns:
            raise AnalysisError(
                f"KPI {kpi!r} not in the table{_did_you_mean(kpi, list(KPI_DEFINITIONS))}"
            )
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.45 * len(self.table) + 1.5))
        d = pd.DataFrame({"group": self._labels(), "value": self.table[kpi].astype("float64")})
        sns.barplot(data=d, y="group", x="value", ax=ax, color=sns.color_palette()[0], orient="h")
        if f"{kpi}_low" in self.table:
            lo, hi = (
                self.table[f"{kpi}_low"].to_numpy(float),
                self.table[f"{kpi}_high"].to_numpy(float),
            )
            v = d["value"].to_numpy(float)
            ax.errorbar(
                v, np.arange(len(d)), xerr=[v - lo, hi - v], fmt="none", ecolor="black", capsize=3
            )
            from matplotlib.ticker import PercentFormatter

            # decimals follow the axis range, so rates under 2 % do not all read "1 %"
            ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=None))
        if kpi in self.targets:
            ax.axvline(
                self.targets[kpi], color="crimson", ls="--", label=f"target {self.targets[kpi]:g}"
            )
            ax.legend(loc="lower right")
        ax.set_xlabel(f"{kpi} ({KPI_DEFINITIONS[kpi][0]})")
        ax.set_ylabel(" · ".join(self.by))
        ax.set_title(f"{kpi} by {' · '.join(self.by)}")
        return ax

    def plot_targets(self) -> Any:
        """One panel per target KPI: actual per group (bars, green met / red missed) and the target line."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.targets_table()
        kpis = list(self.targets)
        if not kpis:
            raise AnalysisError(f"no targets set; add KPI -> target under {_KEY}.targets")
        n_groups = t[list(self.by)].drop_duplicates().shape[0]
        fig, axes = plt.subplots(1, len(kpis), figsize=(4 * len(kpis), 0.4 * n_groups + 2),
                                 squeeze=False)  # fmt: skip
        for ax, kpi in zip(axes[0], kpis, strict=True):
            d = t.loc[t["kpi"] == kpi].copy()
            d["group"] = d[list(self.by)].astype(str).agg(" · ".join, axis=1)
            palette = {"met": "#4c9a4c", "missed": "#c44e52", "n/a": "#bbbbbb"}
            sns.barplot(
                data=d,
                y="group",
                x="actual",
                hue="status",
                palette=palette,
                dodge=False,
                ax=ax,
                orient="h",
            )
            ax.axvline(self.targets[kpi], color="black", ls="--")
            ax.set_title(f"{kpi} (target {self.targets[kpi]:g})")
            ax.set_xlabel(KPI_DEFINITIONS[kpi][0])
            ax.set_ylabel("")
            if ax.get_legend() is not None:
                ax.get_legend().remove()
        fig.tight_layout()
        return fig

    def finding(self) -> str:
        t = self.table
        parts = []
        if "conversion_rate" in t and t["conversion_rate"].notna().any():
            lab = self._labels()
            i_hi, i_lo = (
                int(t["conversion_rate"].to_numpy(float).argmax()),
                int(np.nanargmin(t["conversion_rate"])),
            )
            parts.append(
                f"Conversion rate ranges from {pct(t['conversion_rate'].iloc[i_lo])} ({lab.iloc[i_lo]}) to "
                f"{pct(t['conversion_rate'].iloc[i_hi])} ({lab.iloc[i_hi]})."
            )
        if "roi" in t and t["roi"].notna().any():
            lab = self._labels()
            neg = t["roi"] < 0
            parts.append(
                f"Gross ROI (margin {self.margin:g}, attributed revenue, not incremental) is negative for "
                f"{int(neg.sum())} of {int(t['roi'].notna().sum())} groups"
                + (
                    f", e.g. {lab[neg].iloc[0]} ({t.loc[neg, 'roi'].iloc[0]:.2f})"
                    if neg.any()
                    else ""
                )
                + "."
            )
        tt = self.targets_table()
        if len(tt):
            known = tt[tt["status"] != "n/a"]
            missed = known[known["status"] == "missed"]
            parts.append(f"Targets: {int((known['status'] == 'met').sum())} of {len(known)} met.")
            if len(missed):
                worst = missed.iloc[
                    int(
                        np.argmin(
                            np.where(missed["better"] == "higher", 1, -1)
                            * missed["gap_pct"].fillna(0)
                        )
                    )
                ]
                g = " · ".join(str(worst[b]) for b in self.by)
                fmt = pct if worst["kpi"] in _RATES else (lambda v: f"{v:,.2f}")
                parts.append(
                    f"Furthest from target: {worst['kpi']} in {g} ({fmt(worst['actual'])} vs {fmt(worst['target'])})."
                )
        return " ".join(parts)

    def metrics(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "by": list(self.by),
            "margin": self.margin,
            "targets": dict(self.targets),
            "groups": [],
        }
        for _, r in self.table.iterrows():
            out["groups"].append(
                {
                    **{b: str(r[b]) for b in self.by},
                    **{k: num(r[k]) for k in KPI_DEFINITIONS if k in r.index},
                }
            )
        tt = self.targets_table()
        out["targets_met"] = int((tt["status"] == "met").sum()) if len(tt) else 0
        out["targets_known"] = int((tt["status"] != "n/a").sum()) if len(tt) else 0
        return out

    def __repr__(self) -> str:
        return f"KPIResult({len(self.table)} groups by {', '.join(self.by)}, {len(self.targets)} targets)"


def kpi_table(
    data: CampaignData,
    *,
    by: Sequence[str] = ("campaign_id", "channel", "arm"),
    targets: Mapping[str, float] | None = None,
    engagement_weights: Mapping[str, float] | None = None,
    margin: float = 0.3,
    confidence: float = 0.95,
) -> KPIResult:
    """Campaign KPIs per group with Wilson intervals, and actual vs target.

    Parameters
    ----------
    data : CampaignData
        From :func:`prepare_contacts`.
    by : sequence of str, default ("campaign_id", "channel", "arm")
        Grouping columns of the contacts; missing ones (e.g. ``channel``) are skipped with a note.
    targets : mapping, optional
        KPI name -> target (``analyses.campaign.targets``); names from :data:`KPI_DEFINITIONS`.
    engagement_weights : mapping, optional
        Flag column -> weight (``analyses.campaign.engagement_weights``); default opened 1,
        clicked 2, visited 3, converted 5. Flags absent from the data are skipped.
    margin : float, default 0.3
        Gross margin on revenue for ROI (``analyses.campaign.margin``).
    confidence : float, default 0.95
        Level of the Wilson intervals.

    Returns
    -------
    KPIResult

    Raises
    ------
    ParamsError
        Unknown KPI in ``targets`` or unknown column in ``engagement_weights`` (did-you-mean).
    AnalysisError
        None of the ``by`` columns exists.
    """
    if not 0 < margin <= 1:
        raise ParamsError(f"{_KEY}.margin: must be in (0, 1] (got {margin!r})")
    tg = _check_targets(targets or {})
    c = data.contacts
    notes: list[str] = []
    by_ok = tuple(b for b in by if b in c.columns)
    skipped = [b for b in by if b not in c.columns]
    if skipped:
        notes.append(f"grouping column(s) {', '.join(skipped)} not in {_TABLE}: skipped")
    if not by_ok:
        raise AnalysisError(
            f"kpi_table: none of the grouping columns {', '.join(by)} is in {_TABLE} "
            f"(columns: {', '.join(map(str, c.columns))})"
        )
    weights = dict(
        engagement_weights
        if engagement_weights is not None
        else {"opened": 1.0, "clicked": 2.0, "visited": 3.0, "converted": 5.0}
    )
    bad = [k for k in weights if k not in _FLAGS and k not in c.columns]
    if bad:
        raise ParamsError(
            [
                f"{_KEY}.engagement_weights.{k}: not a flag column{_did_you_mean(k, list(_FLAGS))}; "
                f"flags: {', '.join(_FLAGS)}"
                for k in bad
            ]
        )
    absent = [k for k in weights if k not in c.columns]
    if absent:
        notes.append(
            f"engagement flags {', '.join(absent)} not tracked: left out of the engagement score"
        )
    weights = {k: float(v) for k, v in weights.items() if k in c.columns}

    def fl(col: str) -> pd.Series:
        return (
            _flag(c[col]) if col in c.columns else pd.Series(pd.NA, index=c.index, dtype="boolean")
        )

    dlv, opn, clk, vis = fl("delivered"), fl("opened"), fl("clicked"), fl("visited")
    has_dlv = "delivered" in c.columns

    def cnt(x: pd.Series) -> np.ndarray:
        return x.fillna(False).astype(bool).to_numpy(dtype=np.int64)

    base_open = (dlv.fillna(False).astype(bool) & opn.notna()) if has_dlv else opn.notna()
    base_click = (dlv.fillna(False).astype(bool) & clk.notna()) if has_dlv else clk.notna()
    eng = np.zeros(len(c))
    for k, w in weights.items():
        eng += w * cnt(_flag(c[k]))
    x = pd.DataFrame(
        {
            "contacts": 1,
            "delivered_known": dlv.notna().to_numpy(dtype=np.int64),
            "delivered": cnt(dlv),
            "open_base": base_open.to_numpy(dtype=np.int64),
            "opened": cnt(opn & base_open),
            "click_base": base_click.to_numpy(dtype=np.int64),
            "clicked": cnt(clk & base_click),
            "cto_base": cnt(opn & clk.notna()),
            "cto_clicked": cnt(opn & clk),
            "visit_base": vis.notna().to_numpy(dtype=np.int64),
            "visited": cnt(vis),
            "conversions": c["converted"].astype(bool).to_numpy(dtype=np.int64),
            "orders": c["orders"].astype("float64"),
            "revenue": c["revenue"].astype("float64"),
            "cost": pd.to_numeric(c["cost"], errors="coerce") if "cost" in c.columns else np.nan,
            "engagement": eng,
        }
    )
    for b in by_ok:
        x[b] = c[b].astype(str).to_numpy()
    g = x.groupby(list(by_ok), sort=True, observed=True)
    counts = g[
        ["contacts", "delivered_known", "delivered", "open_base", "opened", "click_base", "clicked", "cto_base",
         "cto_clicked", "visit_base", "visited", "conversions"]
    ].sum()  # fmt: skip
    money = g[["orders", "revenue", "cost"]].sum(min_count=1)
    t = pd.concat(
        [counts, money, g["engagement"].mean().rename("engagement_score")], axis=1
    ).reset_index()
    rate_defs = {
        "delivery_rate": ("delivered", "delivered_known"),
        "open_rate": ("opened", "open_base"),
        "ctr": ("clicked", "click_base"),
        "click_to_open_rate": ("cto_clicked", "cto_base"),
        "visit_rate": ("visited", "visit_base"),
        "conversion_rate": ("conversions", "contacts"),
    }
    for rate, (k, n) in rate_defs.items():
        kk, nn = t[k].to_numpy(float), t[n].to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            t[rate] = np.where(nn > 0, kk / np.where(nn > 0, nn, 1), np.nan)
        lo, hi = wilson_interval(kk, nn, confidence=confidence)
        t[f"{rate}_low"], t[f"{rate}_high"] = lo, hi
    cost = t["cost"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        t["roi"] = np.where(
            cost > 0,
            (margin * t["revenue"].to_numpy(float) - cost) / np.where(cost > 0, cost, 1),
            np.nan,
        )
        conv = t["conversions"].to_numpy(float)
        t["cpa"] = np.where((conv > 0) & (cost > 0), cost / np.where(conv > 0, conv, 1), np.nan)
        t["revenue_per_contact"] = t["revenue"].to_numpy(float) / t["contacts"].to_numpy(float)
    t = t.drop(columns=["cto_base", "cto_clicked"]).rename(
        columns={
            "open_base": "open_denominator",
            "click_base": "click_denominator",
            "visit_base": "visit_denominator",
        }
    )
    if "cost" not in c.columns:
        notes.append("no cost column: cost, ROI and CPA are n/a")
    return KPIResult(
        table=t,
        by=by_ok,
        targets=tg,
        margin=float(margin),
        engagement_weights=weights,
        control_arm=data.control_arm,
        notes=tuple(notes),
    )


# ============================================================================================
# 3. incremental return against the control arm
# ============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class IncrementalReturn(Result):
    """Incremental conversions, revenue and profit of each treatment arm (see :func:`incremental_return`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per randomized campaign and treatment arm: ``campaign_id``, ``arm``,
        ``contacts``, ``control_contacts``, ``cr_arm``, ``cr_control``, ``rpc_arm``,
        ``rpc_control`` (revenue per contact), ``incremental_conversions``,
        ``incremental_revenue``, ``incremental_margin``, ``incremental_cost``,
        ``incremental_profit``, ``incremental_roi``, each estimate with ``_low``/``_high``,
        ``p_value`` (profit = 0, Welch z-test), ``p_holm`` (Holm over all arms), ``ci_method``.
    margin, confidence, random_state, n_boot
        Settings used.
    notes : tuple of str
    """

    table: pd.DataFrame
    margin: float
    confidence: float
    random_state: int | None
    n_boot: int
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Headline: per arm, incremental conversions, revenue, profit and ROI with intervals."""
        cols = [
            "campaign_id", "arm", "contacts", "cr_arm", "cr_control", "incremental_conversions",
            "incremental_conversions_low", "incremental_conversions_high", "incremental_revenue",
            "incremental_revenue_low", "incremental_revenue_high", "incremental_cost", "incremental_profit",
            "incremental_profit_low", "incremental_profit_high", "incremental_roi", "incremental_roi_low",
            "incremental_roi_high", "p_holm",
        ]  # fmt: skip
        return self.table[[c for c in cols if c in self.table.columns]].copy()

    def to_frame(self) -> pd.DataFrame:
        """The full table (see ``table``)."""
        return self.table.copy()

    def plot(self, ax: Any = None) -> Any:
        """Incremental profit per arm with its interval; the zero line is break-even."""
        import matplotlib.pyplot as plt
        import seaborn as sns

        t = self.table
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.5 * max(len(t), 1) + 1.5))
        if t.empty:
            ax.text(
                0.5, 0.5, "no randomized campaign", ha="center", va="center", transform=ax.transAxes
            )
            return ax
        lab = t["campaign_id"].astype(str) + " · " + t["arm"].astype(str)
        what = (
            "incremental_profit" if t["incremental_profit"].notna().any() else "incremental_margin"
        )
        v = t[what].to_numpy(float)
        lo, hi = t[f"{what}_low"].to_numpy(float), t[f"{what}_high"].to_numpy(float)
        colours = [
            "#4c9a4c" if a > 0 else ("#c44e52" if b < 0 else "#999999")
            for a, b in zip(lo, hi, strict=True)
        ]
        sns.barplot(x=v, y=lab, hue=lab, palette=colours, legend=False, ax=ax, orient="h")
        ax.errorbar(
            v, np.arange(len(t)), xerr=[v - lo, hi - v], fmt="none", ecolor="black", capsize=3
        )
        ax.axvline(0, color="black", lw=1)
        if what == "incremental_profit":
            ax.set_xlabel(
                f"incremental profit (margin {self.margin:g} x incremental revenue - incremental cost)"
            )
        else:
            ax.set_xlabel(
                f"incremental margin (margin {self.margin:g} x incremental revenue; cost not tracked)"
            )
        ax.set_ylabel("")
        ax.set_title(f"Incremental return vs control ({100 * self.confidence:.0f} % interval)")
        return ax

    def finding(self) -> str:
        t = self.table
        if t.empty:
            return "No randomized campaign (with a control arm): incremental return cannot be estimated here."
        parts = []
        for r in t.itertuples():
            if not math.isfinite(r.incremental_cost):
                parts.append(
                    f"{r.campaign_id} {r.arm}: {r.incremental_conversions:+,.0f} conversions "
                    f"({r.incremental_conversions_low:+,.0f} to {r.incremental_conversions_high:+,.0f}) and "
                    f"{_money(r.incremental_revenue)} revenue beyond control, i.e. {_money(r.incremental_margin)} "
                    f"margin ({_money(r.incremental_margin_low)} to {_money(r.incremental_margin_high)}); cost is not "
                    "tracked, so profit is unknown: the campaign pays off if it cost less than the margin."
                )
                continue
            lo, hi = r.incremental_profit_low, r.incremental_profit_high
            verdict = (
                "pays off"
                if lo > 0
                else ("loses money" if hi < 0 else "cannot be told from break-even")
            )
            parts.append(
                f"{r.campaign_id} {r.arm}: {r.incremental_conversions:+,.0f} conversions "
                f"({r.incremental_conversions_low:+,.0f} to {r.incremental_conversions_high:+,.0f}) and "
                f"{_money(r.incremental_revenue)} revenue beyond control; profit {_money(r.incremental_profit)} "
                f"({_money(lo)} to {_money(hi)}) on {_money(r.incremental_cost)} cost: it {verdict}."
            )
        return " ".join(parts)

    def metrics(self) -> dict[str, Any]:
        keys = [
            "incremental_conversions",
            "incremental_revenue",
            "incremental_profit",
            "incremental_roi",
        ]
        return {
            "margin": self.margin,
            "confidence": self.confidence,
            "random_state": self.random_state,
            "n_boot": self.n_boot,
            "arms": [
                {
                    "campaign_id": str(r["campaign_id"]),
                    "arm": str(r["arm"]),
                    **{k: num(r[k]) for k in keys},
                    **{f"{k}_low": num(r[f"{k}_low"]) for k in keys},
                    **{f"{k}_high": num(r[f"{k}_high"]) for k in keys},
                    "p_holm": num(r["p_holm"]),
                }
                for _, r in self.table.iterrows()
            ],
        }

    def __repr__(self) -> str:
        return f"IncrementalReturn({len(self.table)} arm(s) vs control, margin={self.margin:g}, n_boot={self.n_boot})"


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Difference of means and its Welch standard error."""
    d = float(a.mean() - b.mean())
    se = (
        math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        if a.size > 1 and b.size > 1
        else float("nan")
    )
    return d, se


def incremental_return(
    data: CampaignData,
    *,
    margin: float = 0.3,
    random_state: int | None = None,
    bootstrap: int = 1000,
    confidence: float = 0.95,
) -> IncrementalReturn:
    """Incremental return of each treatment arm of the randomized campaigns against control.

    Per arm with ``n`` contacts: incremental conversions ``= (CR_arm - CR_control) * n``,
    incremental revenue ``= (RPC_arm - RPC_control) * n``, incremental margin ``= margin *
    incremental revenue``, incremental cost ``= (cost per contact_arm - _control) * n``,
    incremental profit ``= incremental margin - incremental cost`` and incremental ROI ``=
    profit / cost``. Intervals of conversions, revenue and profit: difference of means with
    Welch's standard error (normal, delta method); profit is also tested against 0 (Welch
    z-test, Holm-adjusted over all arms). The ROI interval is a seeded percentile bootstrap of
    the contacts of arm and control (``bootstrap`` resamples), or profit interval / cost when
    ``bootstrap=0`` or the cost per contact is fixed.

    Parameters
    ----------
    data : CampaignData
        From :func:`prepare_contacts`.
    margin : float, default 0.3
        Gross margin on revenue (``analyses.campaign.margin``).
    random_state : int, optional
        Seed of the bootstrap (params ``seed``).
    bootstrap : int, default 1000
        Resamples for the ROI interval; 0 for the delta method only.
    confidence : float, default 0.95

    Returns
    -------
    IncrementalReturn
        Empty table (with a note) when no campaign has a control arm.
    """
    from scipy.stats import norm

    if not 0 < margin <= 1:
        raise ParamsError(f"{_KEY}.margin: must be in (0, 1] (got {margin!r})")
    c = data.contacts
    z = float(norm.ppf(1 - (1 - confidence) / 2))
    notes: list[str] = []
    has_cost = "cost" in c.columns
    if not has_cost:
        notes.append(
            "no cost column: incremental cost, profit and ROI are n/a (incremental margin is shown)"
        )
    rows = []
    for camp in data.randomized:
        sub = c.loc[c["campaign_id"] == camp]
        ctl = sub.loc[sub["arm"] == data.control_arm]
        for arm in sorted(sub["arm"].unique()):
            if arm == data.control_arm:
                continue
            trt = sub.loc[sub["arm"] == arm]
            both = pd.concat([trt, ctl])
            is_t = np.r_[np.ones(len(trt), bool), np.zeros(len(ctl), bool)]
            conv = both["converted"].astype(float).to_numpy()
            rev = both["revenue"].astype(float).to_numpy()
            cost = (
                pd.to_numeric(both["cost"], errors="coerce").fillna(0).to_numpy(float)
                if has_cost
                else np.zeros(len(both))
            )
            if np.isnan(rev).any():
                notes.append(
                    f"{camp} {arm}: revenue not tracked for some contacts; revenue and profit are n/a"
                )
            n = len(trt)
            prof = margin * rev - cost
            d_conv, se_conv = _welch(conv[is_t], conv[~is_t])
            d_rev, se_rev = _welch(rev[is_t], rev[~is_t])
            d_cost = float(cost[is_t].mean() - cost[~is_t].mean())
            d_prof, se_prof = _welch(prof[is_t], prof[~is_t])
            inc_cost = d_cost * n
            inc_prof = d_prof * n
            roi = inc_prof / inc_cost if inc_cost > 0 else float("nan")
            p = (
                float(2 * norm.sf(abs(d_prof / se_prof)))
                if se_prof and se_prof > 0
                else float("nan")
            )
            fixed_cost = np.ptp(cost[is_t]) == 0 and np.ptp(cost[~is_t]) == 0
            if inc_cost > 0 and (bootstrap == 0 or fixed_cost):
                roi_lo, roi_hi = (
                    (inc_prof - z * se_prof * n) / inc_cost,
                    (inc_prof + z * se_prof * n) / inc_cost,
                )
                method = "Welch normal (delta method); ROI = profit interval / fixed cost"
            elif inc_cost > 0:
                ti, ci = np.flatnonzero(is_t), np.flatnonzero(~is_t)

                def stat(idx: np.ndarray, ti: np.ndarray = ti, ci: np.ndarray = ci, prof: np.ndarray = prof,
                         cost: np.ndarray = cost, is_t: np.ndarray = is_t, n: int = n) -> float:  # fmt: skip
                    m = is_t[idx]
                    if m.all() or not m.any():
                        return float("nan")
                    dc = cost[idx][m].mean() - cost[idx][~m].mean()
                    return (
                        float((prof[idx][m].mean() - prof[idx][~m].mean()) / dc)
                        if dc > 0
                        else float("nan")
                    )

                roi_lo, roi_hi, _ = bootstrap_ci(
                    stat,
                    len(both),
                    n_boot=bootstrap,
                    confidence=confidence,
                    random_state=random_state,
                )
                method = (
                    f"Welch normal (delta method); ROI percentile bootstrap ({bootstrap} resamples)"
                )
            else:
                roi_lo = roi_hi = float("nan")
                method = "Welch normal (delta method); no incremental cost, ROI n/a"
            rows.append(
                {
                    "campaign_id": camp, "arm": arm, "contacts": n, "control_contacts": len(ctl),
                    "cr_arm": conv[is_t].mean(), "cr_control": conv[~is_t].mean(),
                    "rpc_arm": rev[is_t].mean(), "rpc_control": rev[~is_t].mean(),
                    "incremental_conversions": d_conv * n,
                    "incremental_conversions_low": (d_conv - z * se_conv) * n,
                    "incremental_conversions_high": (d_conv + z * se_conv) * n,
                    "incremental_revenue": d_rev * n,
                    "incremental_revenue_low": (d_rev - z * se_rev) * n,
                    "incremental_revenue_high": (d_rev + z * se_rev) * n,
                    "incremental_margin": margin * d_rev * n,
                    "incremental_margin_low": margin * (d_rev - z * se_rev) * n,
                    "incremental_margin_high": margin * (d_rev + z * se_rev) * n,
                    "incremental_cost": inc_cost,
                    "incremental_profit": inc_prof,
                    "incremental_profit_low": (d_prof - z * se_prof) * n,
                    "incremental_profit_high": (d_prof + z * se_prof) * n,
                    "incremental_roi": roi, "incremental_roi_low": roi_lo, "incremental_roi_high": roi_hi,
                    "p_value": p, "ci_method": method,
                }
            )  # fmt: skip
    cols = [
        "campaign_id", "arm", "contacts", "control_contacts", "cr_arm", "cr_control", "rpc_arm", "rpc_control",
        "incremental_conversions", "incremental_conversions_low", "incremental_conversions_high",
        "incremental_revenue", "incremental_revenue_low", "incremental_revenue_high", "incremental_margin",
        "incremental_margin_low", "incremental_margin_high", "incremental_cost", "incremental_profit",
        "incremental_profit_low", "incremental_profit_high",
        "incremental_roi", "incremental_roi_low", "incremental_roi_high", "p_value", "ci_method",
    ]  # fmt: skip
    t = pd.DataFrame(rows, columns=cols)
    if not has_cost:
        unknown = [
            c
            for c in cols
            if c.startswith(("incremental_cost", "incremental_profit", "incremental_roi"))
        ]
        t[unknown] = np.nan
        t["p_value"] = np.nan
    t["p_holm"] = holm(t["p_value"].to_numpy(float)) if len(t) else pd.Series(dtype=float)
    obs = data.designs.loc[data.designs["design"] == "observational", "campaign_id"].tolist()
    if obs:
        notes.append(
            f"{', '.join(obs)}: no control arm, so no incremental return here (see the observational "
            "estimates in experiments)"
        )
    if not data.randomized:
        warnings.warn(
            f"no campaign has a control arm named {data.control_arm!r}; incremental return needs one "
            f"({_KEY}.control_arm)",
            StatisticalWarning,
            stacklevel=2,
        )
    return IncrementalReturn(
        table=t, margin=float(margin), confidence=float(confidence), random_state=random_state,
        n_boot=int(bootstrap), notes=tuple(notes),
    )  # fmt: skip


# ============================================================================================
# frames for the experiment statistics (one campaign at a time)
# ============================================================================================


def campaign_frame(
    data: CampaignData,
    campaign_id: str,
    *,
    customers: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
    truth: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Contacts of one campaign with customer covariates and segments joined on ``customer_id``.

    Parameters
    ----------
    data : CampaignData
        From :func:`prepare_contacts`.
    campaign_id : str
        Campaign to take.
    customers : DataFrame, optional
        Customer columns (personal-data columns ``name``, ``phone``, ``email`` are not joined).
    segments : DataFrame, optional
        Segmentation artifact (``segments.parquet``: ``abc_class``, ``rfm_segment``, ``cluster_name``, ...).
    truth : DataFrame, optional
        Synthetic data only: the generator's per-customer truth; its ``segment`` is joined as
        ``true_segment`` for recovery checks.

    Returns
    -------
    pandas.DataFrame
        One row per contact of the campaign; contact columns win over joined ones.

    Raises
    ------
    AnalysisError
        Unknown campaign id.
    """
    c = data.contacts
    if campaign_id not in set(c["campaign_id"].astype(str)):
        known = ", ".join(sorted(c["campaign_id"].astype(str).unique()))
        raise AnalysisError(f"{_TABLE}: campaign {campaign_id!r} not found (campaigns: {known}); fix {_KEY}.campaigns")
    out = c[c["campaign_id"].astype(str) == campaign_id].reset_index(drop=True)
    for extra in (customers, segments):
        if extra is None:
            continue
        cols = [x for x in extra.columns if x not in out.columns and x not in ("name", "phone", "email")]
        if cols:
            out = out.merge(extra.drop_duplicates("customer_id")[["customer_id", *cols]], on="customer_id", how="left")
    if truth is not None and "segment" in truth:
        out = out.merge(truth[["customer_id", "segment"]].rename(columns={"segment": "true_segment"}),
                        on="customer_id", how="left")  # fmt: skip
    return out


def observational_frame(
    data: CampaignData,
    campaign_id: str,
    *,
    orders: pd.DataFrame,
    customers: pd.DataFrame,
    window_days: float | None = None,
    pre_days: int = 90,
) -> pd.DataFrame:
    """The comparison for a campaign without a control group: contacted vs not contacted.

    Rows are every customer signed up by the first contact of the campaign. ``treated`` marks the
    contacted. Each customer gets a reference time (their contact time; for the others the
    campaign's first contact), and, read from the orders (purchases only, refunds excluded):
    ``pre_period_revenue`` in the ``pre_days`` before it, ``converted`` (any purchase in the
    ``window_days`` after it) and ``revenue`` in that window; plus ``n_orders``, ``recency_days``
    and ``tenure_days`` as of the day before the campaign (never bought: 0 orders, recency =
    tenure). This is the input of :func:`workbench.campaign.experiments.observational_effect`.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id``, ``treated``, ``t_ref``, ``pre_period_revenue``,
        ``converted``, ``revenue``, ``n_orders``, ``recency_days``, ``tenure_days``.
    """
    from workbench.data.features import customer_features

    window = float(window_days if window_days is not None else data.window_days)
    contacts = data.contacts
    vip = contacts[contacts["campaign_id"].astype(str) == campaign_id]
    if vip.empty or "contact_time" not in vip or vip["contact_time"].isna().all():
        raise AnalysisError(
            f"{_TABLE}: campaign {campaign_id!r} has no contact_time; an observational comparison needs the "
            "contact date (map tables.campaign_contacts.columns.contact_time)"
        )
    t0 = vip["contact_time"].min()
    cust = customers.drop_duplicates("customer_id")
    if "signup_date" in cust:
        cust = cust[cust["signup_date"].isna() | (cust["signup_date"] <= t0)]
    ref = pd.DataFrame({"customer_id": cust["customer_id"].to_numpy()})
    ref = ref.merge(vip[["customer_id", "contact_time"]].drop_duplicates("customer_id"), on="customer_id", how="left")
    ref["treated"] = ref["contact_time"].notna()
    ref["t_ref"] = ref["contact_time"].fillna(t0)
    o = orders
    keep = o["amount"] > 0
    if "is_refund" in o:
        keep &= ~o["is_refund"].fillna(False).astype(bool)
    o = o.loc[keep, ["customer_id", "order_time", "amount"]]
    m = o.merge(ref[["customer_id", "t_ref"]], on="customer_id")
    pre = m[(m["order_time"] >= m["t_ref"] - pd.Timedelta(days=pre_days)) & (m["order_time"] < m["t_ref"])]
    win = m[(m["order_time"] >= m["t_ref"]) & (m["order_time"] < m["t_ref"] + pd.Timedelta(days=window))]
    ref["pre_period_revenue"] = ref["customer_id"].map(pre.groupby("customer_id")["amount"].sum()).fillna(0.0)
    ref["converted"] = ref["customer_id"].isin(win["customer_id"])
    ref["revenue"] = ref["customer_id"].map(win.groupby("customer_id")["amount"].sum()).fillna(0.0)
    feats = customer_features(orders, as_of=(t0 - pd.Timedelta(days=1)).date(), customers=customers)
    ref = ref.merge(feats[["customer_id", "n_orders", "recency_days", "tenure_days"]], on="customer_id", how="left")
    ref["n_orders"] = ref["n_orders"].fillna(0)
    ref["tenure_days"] = ref["tenure_days"].fillna(0)
    ref["recency_days"] = ref["recency_days"].fillna(ref["tenure_days"])
    return ref.drop(columns=["contact_time"])


def truth_effect_check(het: Any, truth_campaign: dict[str, Any], arm: str) -> pd.DataFrame:
    """Synthetic data: does each subgroup's 95 % interval hold the generator's true effect?

    Parameters
    ----------
    het : HeterogeneityResult
        :func:`workbench.campaign.experiments.heterogeneity` by ``true_segment`` (the latent segment).
    truth_campaign : dict
        ``ground_truth.json`` ``campaigns.<id>``; ``tau[arm][segment]`` is the true effect on
        conversion.
    arm : str
        Arm compared with control.

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``true_effect``, ``estimate``, ``low``, ``high``, ``covered``.
    """
    tau = truth_campaign.get("tau", {}).get(arm, {})
    s = het.summary()
    s = s[s["subgroup"].astype(str).isin(tau)]
    out = pd.DataFrame({
        "segment": s["subgroup"].astype(str).to_numpy(),
        "true_effect": [float(tau[g]) for g in s["subgroup"].astype(str)],
        "estimate": s["diff"].to_numpy(), "low": s["diff_low"].to_numpy(), "high": s["diff_high"].to_numpy(),
    })  # fmt: skip
    out["covered"] = (out["low"] <= out["true_effect"]) & (out["true_effect"] <= out["high"])
    return out


def customer_covariates(customers: pd.DataFrame | None, orders: pd.DataFrame | None = None, *, as_of: Any) -> pd.DataFrame:
    """Customer-level covariates known at ``as_of``, for uplift models and targeting.

    With orders: the engine features of :func:`workbench.data.features.customer_features` (purchases
    strictly up to ``as_of``) joined with the customer columns; without: the customer columns.
    Personal-data columns (``name``, ``phone``, ``email``) and dates are dropped.

    Parameters
    ----------
    customers : DataFrame or None
    orders : DataFrame, optional
    as_of : date-like
        For training, the day before the campaign's first contact; for scoring, the as-of date.

    Returns
    -------
    pandas.DataFrame
        One row per customer, ``customer_id`` first.
    """
    from workbench.data.features import customer_features

    if orders is not None:
        out = customer_features(orders, as_of=pd.Timestamp(as_of).date(), customers=customers)
    elif customers is not None:
        out = customers.drop_duplicates("customer_id").reset_index(drop=True)
    else:
        raise AnalysisError("uplift needs customer covariates: add a customers or orders table to tables")
    drop = [c for c in out.columns if c in ("name", "phone", "email") or pd.api.types.is_datetime64_any_dtype(out[c])]
    return out.drop(columns=drop)


#: Covariates checked for balance between arms when ``experiment.balance_covariates`` is not set
#: (those present are used).
BALANCE_DEFAULTS: tuple[str, ...] = (
    "pre_period_revenue", "acquisition_channel", "member_level", "gender", "age", "city", "plan",
    "recency", "history", "newbie", "zip_code",
)  # fmt: skip


def pre_campaign_covariates(
    data: CampaignData, campaign_id: str, *, customers: pd.DataFrame | None, orders: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Customer covariates as of the day before the campaign's first contact (the training
    features of uplift models), via :func:`customer_covariates`. Without a contact time (e.g.
    Hillstrom), the customer columns as given (they describe customers before the test)."""
    first = data.design(campaign_id).get("first_contact")
    if orders is None or first is None or pd.isna(first):
        return customer_covariates(customers, None, as_of=None)
    return customer_covariates(customers, orders, as_of=pd.Timestamp(first).normalize() - pd.Timedelta(days=1))
