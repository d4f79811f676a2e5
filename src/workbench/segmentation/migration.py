"""RFM migration: how customers moved between RFM segments from one as-of date to another."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.core.resident import ResidentFrame
from workbench.data import engine
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import date_text, language, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.segmentation._common import NO_PURCHASE, NOT_YET_CUSTOMER, segment_label
from workbench.segmentation.rfm import RFMResult, rfm_scores

__all__ = ["MigrationResult", "rfm_migration"]


@dataclass(frozen=True, eq=False, repr=False)
class MigrationResult(Result):
    """How customers moved between RFM segments from one as-of date to another
    (see :func:`rfm_migration`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer at ``to_date``: ``customer_id``, ``from_segment``, ``to_segment``.
    counts : pandas.DataFrame
        From-segment (rows, including ``"not yet a customer"`` and ``"no purchase"``) x
        to-segment (columns) customer counts.
    shares : pandas.DataFrame
        The same, as shares of each row.
    from_date, to_date : pandas.Timestamp
    from_rfm, to_rfm : RFMResult
        The two RFM results.
    """

    table: pd.DataFrame
    counts: pd.DataFrame
    shares: pd.DataFrame
    from_date: pd.Timestamp
    to_date: pd.Timestamp
    from_rfm: RFMResult
    to_rfm: RFMResult

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``customer_id``, ``from_segment``, ``to_segment``."""
        return self.table.copy()

    def matrix(self, *, normalize: bool = False) -> pd.DataFrame:
        """From x to matrix of counts, or row shares with ``normalize=True``."""
        return (self.shares if normalize else self.counts).copy()

    def summary(self) -> pd.DataFrame:
        """One row per from-segment: ``from_segment``, ``customers``, ``stayed``,
        ``stayed_share``, ``main_destination`` (largest other to-segment) and its
        ``main_destination_share``; segment names in the run's language."""
        out = self._by_segment()
        for c in ("from_segment", "main_destination"):
            out[c] = out[c].map(lambda v: None if v is None else segment_label(v))
        return out

    def _by_segment(self) -> pd.DataFrame:
        """:meth:`summary` with the segment codes."""
        rows = []
        for seg in self.counts.index:
            row = self.counts.loc[seg]
            n = int(row.sum())
            stayed = int(row.get(seg, 0))
            others = row.drop(labels=[seg], errors="ignore")
            dest = others.idxmax() if len(others) and others.max() > 0 else None
            rows.append(
                {
                    "from_segment": seg,
                    "customers": n,
                    "stayed": stayed if seg in row.index else 0,
                    "stayed_share": stayed / n if n and seg in row.index else np.nan,
                    "main_destination": dest,
                    "main_destination_share": int(others.max()) / n if n and dest is not None else np.nan,
                }
            )
        return pd.DataFrame(rows)

    def metrics(self) -> dict[str, Any]:
        """Counts matrix and the share of earlier buyers keeping their segment (JSON-able)."""
        from_buyers = self.table[~self.table["from_segment"].isin([NOT_YET_CUSTOMER, NO_PURCHASE])]
        same = (from_buyers["from_segment"].astype(str) == from_buyers["to_segment"].astype(str)).mean()
        return {
            "from_date": str(self.from_date.date()),
            "to_date": str(self.to_date.date()),
            "n_customers": len(self.table),
            "n_new": int((self.table["from_segment"] == NOT_YET_CUSTOMER).sum()),
            "stayed_share_of_buyers": num(same) if len(from_buyers) else None,
            "counts": {
                str(i): {str(c): int(v) for c, v in row.items() if v} for i, row in self.counts.iterrows()
            },
        }

    def finding(self) -> str:
        """Plain-language movement of the best segment and of newcomers."""
        s = self._by_segment().set_index("from_segment")
        seg = self.best_segment()
        zh = language() == "zh"
        parts = []
        if seg is not None:
            row = self.shares.loc[seg].drop(labels=[seg], errors="ignore").sort_values(ascending=False)
            txt = t("segmentation.migration.best", n=count(s.loc[seg, "customers"]), seg=segment_label(seg),
                    stayed=pct(s.loc[seg, "stayed_share"], 0))
            moves = [t("segmentation.migration.move", share=pct(v, 0), dest=segment_label(k))
                     for k, v in row.head(2).items() if v > 0]
            sep = t("segmentation.portrait.sep")
            parts.append(txt + (sep + sep.join(moves) if moves else "") + t("segmentation.portrait.end"))
        if NOT_YET_CUSTOMER in s.index and s.loc[NOT_YET_CUSTOMER, "customers"] > 0:
            parts.append(t("segmentation.migration.new", n=count(s.loc[NOT_YET_CUSTOMER, "customers"]),
                           date=date_text(self.from_date) if zh else str(self.from_date.date()),
                           dest=segment_label(s.loc[NOT_YET_CUSTOMER, "main_destination"]),
                           share=pct(s.loc[NOT_YET_CUSTOMER, "main_destination_share"], 0)))
        m = self.metrics()["stayed_share_of_buyers"]
        if m is not None:
            parts.append(t("segmentation.migration.overall", share=pct(m, 0)))
        if self.from_rfm.method == "quantile":
            parts.append(t("segmentation.migration.relative"))
        return ("" if zh else " ").join(parts)

    def best_segment(self) -> str | None:
        """The first segment of the map (the best, e.g. ``champions``) with earlier buyers; None
        when there is none."""
        s = self._by_segment().set_index("from_segment")
        order = [x for x in self.from_rfm.segment_map if x in s.index and s.loc[x, "customers"] > 0]
        return order[0] if order else None

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the row shares (from-segment rows, to-segment columns), annotated in %.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        sh = self.shares.rename(index=segment_label, columns=segment_label)
        ax = new_axes(ax, figsize=(1.0 * sh.shape[1] + 3, 0.5 * sh.shape[0] + 2))
        sns.heatmap(100 * sh, annot=True, fmt=".0f", cmap="Blues", vmin=0, vmax=100, ax=ax,
                    cbar_kws={"label": t("segmentation.migration.cbar")}, annot_kws={"fontsize": 7}, linewidths=0.5)
        ax.set_xlabel(t("segmentation.migration.x", date=date_text(self.to_date)))
        ax.set_ylabel(t("segmentation.migration.y", date=date_text(self.from_date)))
        ax.set_title(t("segmentation.migration.title"))
        return ax

    def __repr__(self) -> str:
        return (
            f"MigrationResult({self.from_date.date()} -> {self.to_date.date()}, customers={len(self.table):,}, "
            f"segments={self.counts.shape[0]}x{self.counts.shape[1]})"
        )


def _check_to_features(later: pd.DataFrame, earlier: pd.DataFrame) -> None:
    """Raise when features passed as ``to_features`` cannot be the later base of ``earlier``.

    Parameters
    ----------
    later, earlier : pandas.DataFrame
        Features at ``to_date`` and at ``from_date``.

    Raises
    ------
    AnalysisError
        Columns of the earlier features missing, a customer twice, or a customer of the earlier
        base missing from the later one (a later base holds every earlier customer).
    """
    missing = [c for c in earlier.columns if c not in later.columns]
    if missing:
        raise AnalysisError(
            f"rfm_migration: to_features lacks the feature columns {missing[:5]}; pass the frame of "
            "customer_features(orders, as_of=to_date, customers=customers) or leave to_features out"
        )
    ids = later["customer_id"]
    if ids.duplicated().any():
        raise AnalysisError(
            f"rfm_migration: to_features has customers twice, e.g. {ids[ids.duplicated()].head(3).tolist()}; "
            "pass one row per customer (customer_features' output)"
        )
    gone = ~earlier["customer_id"].isin(ids)
    if gone.any():
        raise AnalysisError(
            f"rfm_migration: {int(gone.sum()):,} customers of the from_date base are not in to_features, "
            f"e.g. {earlier['customer_id'][gone].head(3).tolist()}: it was built on other orders or customers; "
            "pass the features of the same tables at to_date, or leave to_features out"
        )


def rfm_migration(
    orders: pd.DataFrame | ResidentFrame | ir.Table,
    customers: pd.DataFrame | None = None,
    *,
    from_date: Any,
    to_date: Any,
    con: Any = None,
    to_features: pd.DataFrame | None = None,
    **rfm_options: Any,
) -> MigrationResult:
    """RFM segments at two as-of dates and the from x to migration matrix.

    Features are built twice with :func:`workbench.data.features.customer_features` (at ``from_date``
    and at ``to_date``) and scored with :func:`rfm_scores` each time. Customers in the later base
    but not in the earlier one are ``"not yet a customer"`` at ``from_date`` (signed up, or first
    bought, in between); customers without a purchase are ``"no purchase"``. With the quantile
    method scores are relative to each date's base; use thresholds for absolute moves.

    Parameters
    ----------
    orders : pandas.DataFrame, ResidentFrame or ibis Table
        Canonical cleaned orders; a table kept in the engine is read there once (both feature
        builds run there; only the customer-level features come back).
    customers : pandas.DataFrame, optional
        Canonical customers (adds customers without purchases).
    from_date, to_date : date-like
        Earlier and later as-of dates (``analyses.segmentation.rfm.migration_from`` and
        ``as_of``).
    con : Ibis backend, optional
        Engine passed to :func:`~workbench.data.features.customer_features` (and holding
        ``orders`` when they are kept there); default a new in-memory DuckDB.
    to_features : pandas.DataFrame, optional
        The features at ``to_date`` already built by the caller with the same ``orders`` and
        ``customers`` (the notebook's ``feats``): only the ``from_date`` features are then built,
        one pass over the orders instead of two. Checked: one row per customer, the columns RFM
        needs.
    **rfm_options
        Options of :func:`~workbench.segmentation.rfm.rfm_scores` (``method``, ``bins``,
        ``recency_thresholds``, ``frequency_thresholds``, ``monetary_thresholds``,
        ``segment_map``), the same at both dates.

    Returns
    -------
    MigrationResult

    Raises
    ------
    AnalysisError
        ``from_date`` not before ``to_date``, or any :func:`rfm_scores` error.
    """
    from workbench.data.features import customer_features

    t0, t1 = pd.Timestamp(from_date).normalize(), pd.Timestamp(to_date).normalize()
    if not t0 < t1:
        raise AnalysisError(
            f"migration needs from_date before to_date; got {t0.date()} and {t1.date()}; "
            "fix migration_from="
        )
    if not isinstance(orders, pd.DataFrame):  # kept in the engine: read its Parquet once
        con = con if con is not None else engine.connect()
        orders = engine.as_table(con, orders)
    f0 = customer_features(orders, as_of=t0, customers=customers, con=con)
    if to_features is None:
        f1 = customer_features(orders, as_of=t1, customers=customers, con=con)
    else:
        _check_to_features(to_features, f0)
        f1 = to_features
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if (f0["n_orders"] > 0).any():
            r0 = rfm_scores(f0, **rfm_options)
        else:
            raise AnalysisError(
                f"migration: no customer has purchased by from_date {t0.date()}; "
                "choose a later migration_from="
            )
        r1 = rfm_scores(f1, **rfm_options)
    seen: set[str] = set()
    for w in caught:  # each caveat once, not once per date
        if str(w.message) not in seen:
            seen.add(str(w.message))
            warnings.warn(w.message, w.category, stacklevel=2)
    s0 = r0.segments().astype(object)
    s1 = r1.segments().astype(object)
    from_seg = s0.reindex(s1.index).fillna(NOT_YET_CUSTOMER)
    table = pd.DataFrame(
        {"customer_id": s1.index.to_numpy(), "from_segment": from_seg.to_numpy(), "to_segment": s1.to_numpy()}
    )
    names = list(r1.segment_map)
    row_order = [NOT_YET_CUSTOMER, NO_PURCHASE, *names]
    col_order = [NO_PURCHASE, *names]
    counts = pd.crosstab(table["from_segment"], table["to_segment"])
    rows = [x for x in row_order if x in counts.index]
    cols = [x for x in col_order if x in counts.columns]
    counts = counts.reindex(index=rows, columns=cols, fill_value=0)
    counts.index.name, counts.columns.name = "from_segment", "to_segment"
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0)
    table["from_segment"] = pd.Categorical(table["from_segment"], categories=row_order)
    table["to_segment"] = pd.Categorical(table["to_segment"], categories=col_order)
    return MigrationResult(table=table, counts=counts, shares=shares, from_date=t0, to_date=t1,
                           from_rfm=r0, to_rfm=r1)


