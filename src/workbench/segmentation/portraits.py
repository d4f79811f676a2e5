"""Segment portraits: size, value, typical basket, channel mix, tenure and demographics per segment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.data.frames import need_columns, order_levels, segment_series
from workbench.report.fmt import money, num, pct
from workbench.report.i18n import t
from workbench.report.results import Result
from workbench.segmentation._common import segment_label

__all__ = ["PortraitResult", "portraits"]


_AGE_BANDS = ["<25", "25-34", "35-44", "45-54", "55+"]


def _top_level(shares: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Most common level per row and its share (missing for rows without data)."""
    has = shares.notna().any(axis=1) & (shares.fillna(0).sum(axis=1) > 0)
    top = pd.Series(None, index=shares.index, dtype=object)
    if has.any():
        top[has] = shares[has].fillna(-1).idxmax(axis=1).astype(object)
    return top, shares.max(axis=1).where(has)


def _age_band(age: pd.Series) -> pd.Categorical:
    a = pd.to_numeric(age, errors="coerce")
    return pd.cut(a, [-np.inf, 25, 35, 45, 55, np.inf], right=False, labels=_AGE_BANDS)


@dataclass(frozen=True, eq=False, repr=False)
class PortraitResult(Result):
    """Portraits of segments (see :func:`portraits`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per segment (see :meth:`summary`).
    channel_mix : pandas.DataFrame
        Segment x channel share of the segment's orders (empty without channel columns).
    demographics : dict of str to DataFrame
        ``gender``, ``age_band``, ``city``: segment x level shares (when customers are given).
    n_customers : int
    """

    table: pd.DataFrame
    channel_mix: pd.DataFrame
    demographics: dict[str, pd.DataFrame]
    n_customers: int

    def summary(self) -> pd.DataFrame:
        """Compact portrait per segment: ``segment``, ``customers``, ``share``, ``revenue_share``,
        ``revenue_per_customer``, ``typical_basket`` (median of customers' mean order value),
        ``orders_per_customer``, ``median_tenure_days``, ``median_recency_days``, ``top_channel``,
        ``top_channel_share``; with customers ``top_gender``, ``top_gender_share``,
        ``median_age``, ``top_age_band``, ``top_city``, ``top_city_share``. Segment names the
        workbench makes read in the run's language (:meth:`metrics` keeps the codes)."""
        out = self.table.copy()
        out["segment"] = out["segment"].map(segment_label)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Compact table joined with the full channel mix and demographic shares (one row per
        segment; columns ``channel_<x>``, ``gender_<x>``, ``age_<band>``, ``city_<x>``)."""
        out = self.table.set_index("segment")
        parts = [out]
        if not self.channel_mix.empty:
            parts.append(self.channel_mix.add_prefix("channel_"))
        for k, df in self.demographics.items():
            parts.append(df.add_prefix({"age_band": "age_"}.get(k, f"{k}_")))
        return pd.concat(parts, axis=1).reset_index(names="segment")

    def metrics(self) -> dict[str, Any]:
        """Per-segment headline figures (JSON-able)."""
        return {
            "n_customers": int(self.n_customers),
            "segments": {
                str(r["segment"]): {
                    k: (num(v) if isinstance(v, (int, float, np.number)) else (None if pd.isna(v) else str(v)))
                    for k, v in r.items()
                    if k != "segment"
                }
                for r in self.table.to_dict("records")
            },
        }

    def finding(self) -> str:
        """A one-line portrait of the most valuable and of the largest segment."""
        tab = self.table.set_index("segment")
        if tab.empty:
            return t("segmentation.portrait.none")
        rich = tab["revenue_share"].fillna(-1).idxmax()
        big = tab["customers"].idxmax()
        text = _portrait_line(tab, rich)
        return text if rich == big else text + t("segmentation.portrait.largest") + _portrait_line(tab, big)

    def plot(self, ax: Any = None) -> Any:
        """Small multiples: customers vs revenue share, typical basket, orders per customer,
        tenure, channel mix and age bands (or recency) per segment.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            When given, only the first panel (share of customers vs of revenue) is drawn on it.

        Returns
        -------
        matplotlib.figure.Figure, or the Axes when ``ax`` is given.
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        tab = self.summary()
        tab["segment"] = tab["segment"].astype(str)
        order = list(tab["segment"])
        long = tab.melt(id_vars="segment", value_vars=["share", "revenue_share"], var_name="measure", value_name="pct")
        long["measure"] = long["measure"].map({"share": t("segmentation.portrait.measure_customers"),
                                               "revenue_share": t("segmentation.portrait.measure_revenue")})
        long["pct"] = 100 * long["pct"]

        def first(a: Any) -> None:
            sns.barplot(data=long, y="segment", x="pct", hue="measure", order=order, ax=a)
            a.set_xlabel(t("segmentation.portrait.pct_total"))
            a.set_ylabel("")
            a.set_title(t("segmentation.portrait.shares_title"))
            if a.get_legend() is not None:
                a.get_legend().set_title("")

        if ax is not None:
            first(ax)
            return ax
        fig, axes = plt.subplots(2, 3, figsize=(15, max(6, 0.7 * len(order) + 4)))
        first(axes[0, 0])
        color = sns.color_palette()[0]
        for a, col, title in (
            (axes[0, 1], "typical_basket", t("segmentation.portrait.basket_title")),
            (axes[0, 2], "orders_per_customer", t("segmentation.portrait.orders_title")),
            (axes[1, 0], "median_tenure_days", t("segmentation.portrait.tenure_title")),
        ):
            sns.barplot(data=tab, y="segment", x=col, order=order, ax=a, color=color)
            a.set_title(title)
            a.set_xlabel("")
            a.set_ylabel("")
            a.set_yticklabels([])
        def mix(a: Any, shares: pd.DataFrame | None, cmap: str, title: str) -> None:
            """A share heatmap per segment; the median recency bars when there is no such table."""
            if shares is not None:
                sns.heatmap(100 * shares.rename(index=segment_label).reindex(order), annot=True, fmt=".0f",
                            cmap=cmap, ax=a, cbar=False, annot_kws={"fontsize": 7})
                a.set_title(title)
            else:
                sns.barplot(data=tab, y="segment", x="median_recency_days", order=order, ax=a, color=color)
                a.set_title(t("segmentation.portrait.recency_title"))
            a.set_ylabel("")
            a.set_yticklabels([])

        mix(axes[1, 1], None if self.channel_mix.empty else self.channel_mix, "Blues",
            t("segmentation.portrait.channel_title"))
        mix(axes[1, 2], self.demographics.get("age_band"), "Greens", t("segmentation.portrait.age_title"))
        fig.suptitle(t("segmentation.portrait.suptitle"))
        fig.tight_layout()
        return fig

    def __repr__(self) -> str:
        return f"PortraitResult(segments={len(self.table)}, customers={self.n_customers:,})"


def _portrait_line(tab: pd.DataFrame, seg: Any) -> str:
    """One segment's portrait in words (``tab``: :attr:`PortraitResult.table` indexed by segment)."""
    r = tab.loc[seg]
    head = t("segmentation.portrait.head", seg=segment_label(seg), share=pct(r["share"], 0),
             revenue_share=pct(r["revenue_share"], 0))
    if pd.notna(r["typical_basket"]):
        head += t("segmentation.portrait.basket", basket=money(r["typical_basket"]),
                  orders=f"{r['orders_per_customer']:.1f}")
    else:
        head += t("segmentation.portrait.no_purchase")
    bits = [head]
    if "top_channel" in tab.columns and pd.notna(r.get("top_channel")):
        bits.append(t("segmentation.portrait.channel", channel=r["top_channel"], share=pct(r["top_channel_share"], 0)))
    if "top_gender" in tab.columns and pd.notna(r.get("top_gender")):
        bits.append(t("segmentation.portrait.gender", gender=r["top_gender"], share=pct(r["top_gender_share"], 0)))
    if "top_age_band" in tab.columns and pd.notna(r.get("top_age_band")):
        bits.append(t("segmentation.portrait.age", band=r["top_age_band"]))
    if "top_city" in tab.columns and pd.notna(r.get("top_city")):
        bits.append(t("segmentation.portrait.city", city=r["top_city"], share=pct(r["top_city_share"], 0)))
    return t("segmentation.portrait.sep").join(bits) + t("segmentation.portrait.end")


def portraits(
    features: pd.DataFrame,
    segments: pd.Series | pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    segment_col: str = "segment",
) -> PortraitResult:
    """Portrait of each segment: size, value, typical basket, channel mix, tenure and, with the
    customers table, gender, age band and city.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features (``customer_id``, ``monetary_sum``, ``n_orders``, ``monetary_mean``,
        ``tenure_days``, ``recency_days``; ``share_<channel>`` or ``preferred_channel``).
    segments : pandas.Series or pandas.DataFrame
        Segment per customer (``rfm.segments()``, ``clusters.segments()``, ``abc.segments()``,
        or a frame with ``customer_id`` and ``segment_col``). Customers of ``features`` without
        a segment are left out.
    customers : pandas.DataFrame, optional
        Canonical customers (``gender``, ``age`` or ``birth_date``, ``city``).
    segment_col : str, default "segment"

    Returns
    -------
    PortraitResult
        Typical basket is the median over the segment's customers of their mean order value;
        channel mix is the share of the segment's orders per channel.

    Raises
    ------
    AnalysisError
        Missing columns, or no customer with a segment.
    """
    need_columns(features, ["customer_id", "monetary_sum", "n_orders"], what="portraits")
    seg = segment_series(segments, segment_col=segment_col)
    levels = order_levels(seg)
    used = {"customer_id", "monetary_sum", "monetary_mean", "n_orders", "tenure_days", "recency_days", "preferred_channel"}
    f = features[[c for c in features.columns if c in used or c.startswith("share_")]].copy()  # only what is read
    f["segment"] = seg.reindex(f["customer_id"]).astype(object).to_numpy()
    f = f[f["segment"].notna()]
    if f.empty:
        raise AnalysisError("portraits: no customer of the feature table has a segment (check the customer_id keys)")
    present = set(pd.unique(f["segment"]))
    levels = [x for x in levels if x in present]
    f["segment"] = pd.Categorical(f["segment"], categories=levels)
    n = len(f)
    g = f.groupby("segment", observed=True)
    rev = float(f["monetary_sum"].sum())
    t = pd.DataFrame({"customers": g.size()})
    t["share"] = t["customers"] / n
    t["revenue_share"] = g["monetary_sum"].sum() / rev if rev > 0 else np.nan
    t["revenue_per_customer"] = g["monetary_sum"].mean()
    t["typical_basket"] = g["monetary_mean"].median() if "monetary_mean" in f else np.nan
    t["orders_per_customer"] = g["n_orders"].mean()
    t["median_tenure_days"] = g["tenure_days"].median() if "tenure_days" in f else np.nan
    t["median_recency_days"] = g["recency_days"].median() if "recency_days" in f else np.nan
    mix = _step_channel_mix(f, t)
    demo = _step_demographics(f, t, customers) if customers is not None and "customer_id" in customers.columns else {}
    t = t.reset_index()
    t["segment"] = t["segment"].astype(object)
    return PortraitResult(table=t, channel_mix=mix, demographics=demo, n_customers=n)




def _step_channel_mix(f: pd.DataFrame, t: pd.DataFrame) -> pd.DataFrame:
    """Segment x channel share of orders (from ``share_<channel>`` weighted by orders, else from
    ``preferred_channel``); adds ``top_channel`` and its share to ``t``."""
    share_cols = [c for c in f.columns if c.startswith("share_")]
    if share_cols:
        w = f[share_cols].fillna(0).mul(f["n_orders"].astype(float), axis=0)
        mix = w.groupby(f["segment"], observed=True).sum()
        mix = mix.div(mix.sum(axis=1).replace(0, np.nan), axis=0)
        mix.columns = [c.removeprefix("share_") for c in share_cols]
    elif "preferred_channel" in f.columns:
        mix = pd.crosstab(f["segment"], f["preferred_channel"], normalize="index")
    else:
        mix = pd.DataFrame()
    if not mix.empty:
        mix.index = mix.index.astype(object)
        mix.columns.name = None
        top, top_share = _top_level(mix)
        t["top_channel"] = top.reindex(t.index.astype(object)).to_numpy()
        t["top_channel_share"] = top_share.reindex(t.index.astype(object)).to_numpy()
    return mix


def _step_demographics(f: pd.DataFrame, t: pd.DataFrame, customers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Segment x level shares of gender, age band and city; adds the top levels and the median
    age to ``t``."""
    demo: dict[str, pd.DataFrame] = {}
    c = customers.drop_duplicates("customer_id").set_index("customer_id")
    cc = pd.DataFrame({"segment": f["segment"].to_numpy()}, index=f["customer_id"].to_numpy())
    if "age" in c.columns:
        age = pd.to_numeric(c["age"], errors="coerce")
    elif "birth_date" in c.columns:
        bd = pd.to_datetime(c["birth_date"], errors="coerce")
        age = (pd.Timestamp.today() - bd).dt.days / 365.25
    else:
        age = None
    for col in ("gender", "city"):
        if col in c.columns:
            cc[col] = c[col].reindex(cc.index).to_numpy()
    if age is not None:
        cc["age"] = age.reindex(cc.index).to_numpy()
        cc["age_band"] = _age_band(cc["age"])
    for col in ("gender", "age_band", "city"):
        if col in cc.columns and cc[col].notna().any():
            ct = pd.crosstab(cc["segment"], cc[col], normalize="index")
            ct.index = ct.index.astype(object)
            ct.columns = ct.columns.astype(str)
            ct.columns.name = None
            demo[col] = ct
            key = t.index.astype(object)
            top, top_share = _top_level(ct)
            t[f"top_{col}"] = top.reindex(key).to_numpy()
            if col != "age_band":
                t[f"top_{col}_share"] = top_share.reindex(key).to_numpy()
    if "age" in cc.columns:
        t["median_age"] = cc.groupby("segment", observed=True)["age"].median()
    return demo
