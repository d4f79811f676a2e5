"""Frames the experiment and uplift statistics read: one campaign's contacts with customer
covariates, the comparison group of a campaign without control, and covariates as of a date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench.campaign._common import TABLE
from workbench.core.errors import AnalysisError, did_you_mean
from workbench.data.cleaning import refund_mask

if TYPE_CHECKING:
    import ibis

    from workbench.campaign.contacts import CampaignData

__all__ = [
    "BALANCE_DEFAULTS",
    "campaign_frame",
    "customer_covariates",
    "observational_frame",
    "pre_campaign_covariates",
    "present",
    "tracked",
]


def present(columns: Any, frame: pd.DataFrame) -> list[str]:
    """The names of ``columns`` that are columns of ``frame``, in the given order.

    Examples
    --------
    >>> present(["a", "x", "b"], pd.DataFrame(columns=["b", "a"]))
    ['a', 'b']
    """
    return [c for c in (columns or ()) if c in frame]


def tracked(columns: Any, frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The names of ``columns`` that are columns of ``frame`` with at least one non-blank value,
    and those that are columns but blank on every row (e.g. ``revenue`` when the contacts have no
    revenue column: :func:`~workbench.campaign.contacts.prepare_contacts` fills it with NaN).

    Returns
    -------
    (tracked, blank) : tuple of lists of str, both in the given order

    Examples
    --------
    >>> tracked(["a", "x", "b"], pd.DataFrame({"a": [1.0, None], "b": [None, None]}))
    (['a'], ['b'])
    """
    cols = present(columns, frame)
    return [c for c in cols if frame[c].notna().any()], [c for c in cols if not frame[c].notna().any()]


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
        raise AnalysisError(
            f"{TABLE}: campaign {campaign_id!r} not found (campaigns: {known})"
            f"{did_you_mean(campaign_id, c['campaign_id'].astype(str).unique())}; fix campaign_id="
        )
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
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """The comparison for a campaign without a control group: contacted vs not contacted.

    Rows are every customer signed up by the first contact of the campaign. ``treated`` marks the
    contacted. Each customer gets a reference time (their contact time; for the others the
    campaign's first contact), and, read from the orders (purchases only, refunds excluded):
    ``pre_period_revenue`` in the ``pre_days`` before it, ``converted`` (any purchase in the
    ``window_days`` after it) and ``revenue`` in that window; plus ``n_orders``, ``recency_days``
    and ``tenure_days`` as of the day before the campaign (never bought: 0 orders, recency =
    tenure), computed on ``con`` (default a fresh in-memory DuckDB). This is the input of
    :func:`workbench.campaign.experiments.observational_effect`.

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
            f"{TABLE}: campaign {campaign_id!r} has no contact_time; an observational comparison needs the "
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
    keep = (orders["amount"] > 0) & ~refund_mask(orders)
    o = orders.loc[keep, ["customer_id", "order_time", "amount"]]
    m = o.merge(ref[["customer_id", "t_ref"]], on="customer_id")
    pre = m[(m["order_time"] >= m["t_ref"] - pd.Timedelta(days=pre_days)) & (m["order_time"] < m["t_ref"])]
    win = m[(m["order_time"] >= m["t_ref"]) & (m["order_time"] < m["t_ref"] + pd.Timedelta(days=window))]
    ref["pre_period_revenue"] = ref["customer_id"].map(pre.groupby("customer_id")["amount"].sum()).fillna(0.0)
    ref["converted"] = ref["customer_id"].isin(win["customer_id"])
    ref["revenue"] = ref["customer_id"].map(win.groupby("customer_id")["amount"].sum()).fillna(0.0)
    feats = customer_features(orders, as_of=(t0 - pd.Timedelta(days=1)).date(), customers=customers, con=con)
    ref = ref.merge(feats[["customer_id", "n_orders", "recency_days", "tenure_days"]], on="customer_id", how="left")
    ref["n_orders"] = ref["n_orders"].fillna(0)
    ref["tenure_days"] = ref["tenure_days"].fillna(0)
    ref["recency_days"] = ref["recency_days"].fillna(ref["tenure_days"])
    return ref.drop(columns=["contact_time"])


def customer_covariates(
    customers: pd.DataFrame | None,
    orders: pd.DataFrame | None = None,
    *,
    as_of: Any,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
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
    con : Ibis backend, optional
        Engine of the order features (the run's ``ctx.engine``); default a fresh in-memory DuckDB.

    Returns
    -------
    pandas.DataFrame
        One row per customer, ``customer_id`` first.
    """
    from workbench.data.features import customer_features

    if orders is not None:
        out = customer_features(orders, as_of=pd.Timestamp(as_of).date(), customers=customers, con=con)
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
    data: CampaignData,
    campaign_id: str,
    *,
    customers: pd.DataFrame | None,
    orders: pd.DataFrame | None = None,
    con: ibis.BaseBackend | None = None,
) -> pd.DataFrame:
    """Customer covariates as of the day before the campaign's first contact (the training
    features of uplift models), via :func:`customer_covariates`. Without a contact time (e.g.
    Hillstrom), the customer columns as given (they describe customers before the test)."""
    first = data.design(campaign_id).get("first_contact")
    if orders is None or first is None or pd.isna(first):
        return customer_covariates(customers, None, as_of=None)
    return customer_covariates(customers, orders, as_of=pd.Timestamp(first).normalize() - pd.Timedelta(days=1), con=con)
