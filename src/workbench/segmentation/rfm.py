"""RFM: recency, frequency and monetary scores and the named segments on the r x f grid.

:func:`rfm_scores` scores the buyers of a feature table and names their segments with a segment
map (:data:`DEFAULT_SEGMENT_MAP` or the analyst's rules); :func:`check_segment_map` shows which
rule every score cell matches.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.data.frames import need_columns
from workbench.data.orders import AsOfCheck
from workbench.report.fmt import count, money, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.segmentation._common import (
    NO_PURCHASE,
    check_unique_ids,
    eval_condition,
    rank_scores,
    segment_label,
)

__all__ = ["DEFAULT_SEGMENT_MAP", "RFM_CLASSES", "RFMResult", "check_segment_map", "rfm_scores"]

#: The classic 8 RFM classes of Chinese CRM practice (R, F and M each "high" when the buyer's
#: score is above the mean score of all buyers, else "low"): code -> (R high, F high, M high).
#: Their labels are ``categories.rfm_class.<code>`` (重要价值客户 ... 一般挽留客户).
RFM_CLASSES: dict[str, tuple[bool, bool, bool]] = {
    "important_value": (True, True, True),
    "important_development": (True, False, True),
    "important_retention": (False, True, True),
    "important_winback": (False, False, True),
    "general_value": (True, True, False),
    "general_development": (True, False, False),
    "general_retention": (False, True, False),
    "general_winback": (False, False, False),
}

#: The usual 11 RFM segments on the recency x frequency grid (scores 1..5, 5 = best). Each of
#: the 25 (r, f) cells matches exactly one rule (see :func:`check_segment_map`). Same format as
#: the params key ``analyses.segmentation.rfm.segment_map``: name -> rule on ``r``, ``f``, ``m``.
DEFAULT_SEGMENT_MAP: dict[str, str] = {
    "champions": "r == 5 and f >= 4",
    "loyal customers": "3 <= r <= 4 and f >= 4",
    "potential loyalists": "r >= 4 and 2 <= f <= 3",
    "new customers": "r == 5 and f == 1",
    "promising": "r == 4 and f == 1",
    "need attention": "r == 3 and f == 3",
    "about to sleep": "r == 3 and f <= 2",
    "at risk": "r <= 2 and 3 <= f <= 4",
    "can't lose them": "r <= 2 and f == 5",
    "hibernating": "r <= 2 and f <= 2 and r + f >= 3",
    "lost": "r == 1 and f == 1",
}

_SEGMAP_KEY = "segment_map="


def _uses_m(segment_map: Mapping[str, str]) -> bool:
    return any(re.search(r"\bm\b", str(rule)) for rule in segment_map.values())


def _eval_rule(frame: pd.DataFrame, name: str, rule: str, *, allowed: str) -> np.ndarray:
    """Evaluate one segment rule to a boolean array (missing -> False)."""
    return eval_condition(
        frame, rule, what=f"segment {name!r}", key=f"{_SEGMAP_KEY} (segment {name!r})",
        empty="the rule must be a non-empty text like 'r >= 4 and f >= 4'",
        unknown=f"uses an unknown name ({{err}}); rules may use {allowed}", constant_ok=True,
        hint=" (write a comparison like 'r >= 4')",
    )  # fmt: skip


def check_segment_map(segment_map: Mapping[str, str] | None = None, *, bins: int = 5) -> pd.DataFrame:
    """Evaluate a segment map on every possible score cell.

    Parameters
    ----------
    segment_map : mapping of str to str, optional
        Segment name -> rule on ``r``, ``f`` (and ``m``), evaluated with
        :meth:`pandas.DataFrame.eval`. Default :data:`DEFAULT_SEGMENT_MAP`, which is written on
        the 1..5 scale: with other ``bins`` its rules see the scores rescaled to 1..5
        (``ceil(score * 5 / bins)``).
    bins : int, default 5
        Score levels.

    Returns
    -------
    pandas.DataFrame
        One row per cell (``bins**2`` cells of ``r``, ``f``; ``bins**3`` with ``m`` when a rule
        uses ``m``): ``r``, ``f`` (, ``m``), ``n_matches`` (rules that match), ``matches``
        (their names, map order), ``segment`` (first match, the one assigned; missing when none).

    Raises
    ------
    AnalysisError
        A rule cannot be evaluated (names the segment and the params key).

    Examples
    --------
    >>> grid = check_segment_map()
    >>> len(grid), int(grid["n_matches"].max()), int(grid["n_matches"].min())
    (25, 1, 1)
    """
    default = segment_map is None
    smap = dict(DEFAULT_SEGMENT_MAP if default else segment_map)
    if not smap:
        raise AnalysisError(f"the segment map is empty; give at least one rule or remove {_SEGMAP_KEY}")
    levels = np.arange(1, bins + 1)
    dims = ["r", "f", "m"] if _uses_m(smap) else ["r", "f"]
    mesh = np.meshgrid(*([levels] * len(dims)), indexing="ij")
    grid = pd.DataFrame({d: m.ravel() for d, m in zip(dims, mesh, strict=True)})
    ev = grid.copy()
    if default and bins != 5:
        for d in dims:
            ev[d] = np.ceil(ev[d] * 5 / bins).astype(np.int64)
    hits = np.column_stack(
        [_eval_rule(ev, name, rule, allowed=", ".join(dims) + f" (scores 1..{bins})") for name, rule in smap.items()]
    )
    names = np.array(list(smap), dtype=object)
    grid["n_matches"] = hits.sum(axis=1)
    grid["matches"] = [", ".join(names[row]) for row in hits]
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), -1)
    grid["segment"] = pd.Series([names[i] if i >= 0 else None for i in first], dtype="object")
    return grid


@dataclass(frozen=True, eq=False, repr=False)
class RFMResult(Result):
    """RFM scores and named segments (see :func:`rfm_scores`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per customer: ``customer_id``, ``recency_days``, ``n_orders``,
        ``monetary_sum``, ``r``, ``f``, ``m`` (nullable Int64; missing without purchase),
        ``rfm_cell`` (e.g. ``"545"``), ``rfm_score`` (r + f + m), ``segment`` (categorical in
        map order, then ``"no purchase"``).
    segment_map : dict
        The map in force.
    default_map : bool
        Whether it is :data:`DEFAULT_SEGMENT_MAP`.
    bins : int
    method : str
        ``quantile`` or ``thresholds``.
    unused_levels : dict
        Score levels no buyer got, per dimension (``{"r": [], "f": [1, 2], "m": []}``).
    overlaps : pandas.DataFrame
        Cells matched by more than one rule (first match wins).
    grid : pandas.DataFrame
        :func:`check_segment_map` of the map.
    as_of_check : AsOfCheck or None
        Whether the orders reach the as-of date; when stale, the finding starts with the warning.
    """

    table: pd.DataFrame
    segment_map: dict[str, str]
    default_map: bool
    bins: int
    method: str
    unused_levels: dict[str, list[int]]
    overlaps: pd.DataFrame
    grid: pd.DataFrame
    as_of_check: AsOfCheck | None = None

    @property
    def n_buyers(self) -> int:
        """Customers with at least one purchase (scored)."""
        return int(self.table["r"].notna().sum())

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ids, raw R/F/M values, scores, cell, score sum and segment."""
        return self.table.copy()

    def segments(self) -> pd.Series:
        """Segment per customer, indexed by ``customer_id``."""
        return self.table.set_index("customer_id")["segment"]

    def rfm_classes(self) -> pd.Series:
        """The classic 8-class RFM reading per buyer (:data:`RFM_CLASSES`): R, F and M each
        "high" when the buyer's score is above the mean score of all buyers. Codes (labels via
        ``categories.rfm_class``), indexed by ``customer_id``; buyers only.

        Examples
        --------
        >>> f = pd.DataFrame({"customer_id": list("ab"), "recency_days": [5.0, 90],
        ...                   "n_orders": [5, 1], "monetary_sum": [500.0, 20]})
        >>> rfm_scores(f, bins=2, segment_map={"all": "r >= 1"}).rfm_classes().tolist()
        ['important_value', 'general_winback']
        """
        b = self.table.dropna(subset=["r"])
        high = {d: (b[d].astype(float) > b[d].astype(float).mean()).to_numpy() for d in ("r", "f", "m")}
        code = {v: k for k, v in RFM_CLASSES.items()}
        out = [code[(bool(r), bool(f), bool(m))] for r, f, m in zip(high["r"], high["f"], high["m"], strict=True)]
        return pd.Series(pd.Categorical(out, categories=list(RFM_CLASSES)), index=b["customer_id"].to_numpy(),
                         name="rfm_class")

    def class_summary(self) -> pd.DataFrame:
        """One row per class of :meth:`rfm_classes` (all 8, in :data:`RFM_CLASSES` order):
        ``rfm_class`` (label in the run's language), ``customers``, ``share`` (of buyers),
        ``revenue_share``, ``revenue_per_customer``."""
        cls = self.rfm_classes()
        money_ = self.table.set_index("customer_id")["monetary_sum"].reindex(cls.index)
        g = money_.groupby(cls.to_numpy(), observed=False)
        out = pd.DataFrame({"customers": g.size(), "revenue": g.sum()}).reindex(list(RFM_CLASSES), fill_value=0)
        total = float(out["revenue"].sum())
        out["share"] = out["customers"] / max(len(cls), 1)
        out["revenue_share"] = out["revenue"] / total if total > 0 else np.nan
        out["revenue_per_customer"] = out["revenue"] / out["customers"].replace(0, np.nan)
        out = out.reset_index(names="rfm_class")
        out["rfm_class"] = out["rfm_class"].map(lambda v: category("rfm_class", v))
        return out[["rfm_class", "customers", "share", "revenue_share", "revenue_per_customer"]]

    def summary(self) -> pd.DataFrame:
        """One row per segment (map order, ``no purchase`` last; empty segments kept), segment
        names in the run's language (``categories.rfm_segment``; :meth:`metrics` keeps the codes).

        Returns
        -------
        pandas.DataFrame
            ``segment``, ``customers``, ``share``, ``revenue``, ``revenue_share``, ``mean_r``,
            ``mean_f``, ``mean_m`` (mean scores), ``mean_recency_days``,
            ``orders_per_customer``, ``revenue_per_customer``.
        """
        out = self._by_segment()
        out["segment"] = out["segment"].map(segment_label)
        return out

    def _by_segment(self) -> pd.DataFrame:
        """:meth:`summary` with the segment codes."""
        t = self.table
        g = t.groupby("segment", observed=False)
        out = pd.DataFrame(
            {
                "customers": g.size(),
                "revenue": g["monetary_sum"].sum(),
                "mean_r": g["r"].mean(),
                "mean_f": g["f"].mean(),
                "mean_m": g["m"].mean(),
                "mean_recency_days": g["recency_days"].mean(),
                "orders_per_customer": g["n_orders"].mean(),
                "revenue_per_customer": g["monetary_sum"].mean(),
            }
        )
        n = len(t)
        rev = float(t["monetary_sum"].sum())
        out.insert(1, "share", out["customers"] / n if n else np.nan)
        out.insert(3, "revenue_share", out["revenue"] / rev if rev > 0 else np.nan)
        out = out.reset_index()
        out["segment"] = out["segment"].astype(str)
        for c in ("mean_r", "mean_f", "mean_m"):
            out[c] = out[c].astype(float)
        return out

    def grid_counts(self) -> pd.DataFrame:
        """Buyers per (r, f) cell: rows r = bins..1, columns f = 1..bins."""
        b = self.table.dropna(subset=["r"])
        levels = list(range(1, self.bins + 1))
        ct = pd.crosstab(b["r"].astype(int), b["f"].astype(int))
        return ct.reindex(index=levels[::-1], columns=levels, fill_value=0)

    def metrics(self) -> dict[str, Any]:
        """Counts, shares and unused score levels (JSON-able)."""
        s = self._by_segment()
        return {
            "method": self.method,
            "bins": self.bins,
            "default_map": self.default_map,
            "n_customers": len(self.table),
            "n_buyers": self.n_buyers,
            "n_no_purchase": int((self.table["segment"] == NO_PURCHASE).sum()),
            "unused_levels": {k: [int(x) for x in v] for k, v in self.unused_levels.items()},
            "overlapping_cells": len(self.overlaps),
            **(self.as_of_check.metrics() if self.as_of_check is not None else {}),
            "segments": {
                row.segment: {
                    "customers": int(row.customers),
                    "share": num(row.share),
                    "revenue_share": num(row.revenue_share),
                }
                for row in s.itertuples()
            },
        }

    def finding(self) -> str:
        """Who brings the revenue and who is slipping away, from the numbers."""
        s = self._by_segment().set_index("segment")
        buyers = s.drop(index=NO_PURCHASE, errors="ignore")
        buyers = buyers[buyers["customers"] > 0]
        if buyers.empty:
            return t("segmentation.rfm.none")
        top = buyers["revenue_share"].idxmax()
        big = buyers["customers"].idxmax()
        text = ""
        if self.as_of_check is not None and self.as_of_check.stale:
            text = t("segmentation.rfm.stale", message=self.as_of_check.reader_message,
                     gap=count(self.as_of_check.gap_days))
            text += t("segmentation.rfm.stale_thresholds" if self.method == "thresholds" else "segmentation.rfm.stale_quantile")
        text += t("segmentation.rfm.top", top=segment_label(top), revenue_share=pct(s.loc[top, "revenue_share"], 0),
                  share=pct(s.loc[top, "share"], 0), per_customer=money(s.loc[top, "revenue_per_customer"]))
        if big != top:
            text += t("segmentation.rfm.big", big=segment_label(big), share=pct(s.loc[big, "share"], 0),
                      revenue_share=pct(s.loc[big, "revenue_share"], 0))
        risky = self.risky_segments()
        if risky:
            text += t("segmentation.rfm.risky", share=pct(s.loc[risky, "share"].sum(), 0),
                      names=t("segmentation.rfm.risky_sep").join(map(segment_label, risky)),
                      revenue_share=pct(s.loc[risky, "revenue_share"].sum(), 0))
        if NO_PURCHASE in s.index and s.loc[NO_PURCHASE, "customers"] > 0:
            text += t("segmentation.rfm.no_purchase", share=pct(s.loc[NO_PURCHASE, "share"], 0))
        unused = {k: v for k, v in self.unused_levels.items() if v}
        if unused:
            levels = "; ".join(t("segmentation.rfm.unused_level", dim=k.upper(), levels=", ".join(map(str, v)))
                               for k, v in unused.items())
            text += t("segmentation.rfm.unused", levels=levels)
        return text.strip()

    def risky_segments(self) -> list[str]:
        """The fading segments of the default map that have buyers (``at risk``, ``can't lose
        them``, ``about to sleep``): the win-back target."""
        s = self._by_segment().set_index("segment")
        return [x for x in ("at risk", "can't lose them", "about to sleep") if x in s.index and s.loc[x, "customers"] > 0]

    def plot(self, ax: Any = None) -> Any:
        """Heatmap of the r x f grid: buyers per cell, annotated with segment name and count.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(1.5 * self.bins + 2, 1.1 * self.bins + 1))
        counts = self.grid_counts()
        g = self.grid
        names: dict[tuple[int, int], str] = {}
        for (r, f), sub in g.groupby(["r", "f"]):
            segs = sub["segment"].dropna().unique()
            names[(int(r), int(f))] = (segment_label(segs[0]) if len(segs) == 1
                                       else (t("segmentation.rfm.mixed") if len(segs) else "-"))
        labels = np.array(
            [[f"{names.get((r, f), '')}\n{counts.loc[r, f]:,}" for f in counts.columns] for r in counts.index],
            dtype=object,
        )
        sns.heatmap(counts, annot=labels, fmt="", cmap="Blues", cbar_kws={"label": t("segmentation.rfm.cbar")}, ax=ax,
                    annot_kws={"fontsize": 7}, linewidths=0.5)
        ax.set_xlabel(t("segmentation.rfm.x"))
        ax.set_ylabel(t("segmentation.rfm.y"))
        ax.set_title(t("segmentation.rfm.title", buyers=count(self.n_buyers)))
        return ax

    def __repr__(self) -> str:
        n_seg = int((self._by_segment()["customers"] > 0).sum())
        return (
            f"RFMResult(method={self.method!r}, bins={self.bins}, customers={len(self.table):,}, "
            f"buyers={self.n_buyers:,}, segments={n_seg})"
        )


def _thresholds(values: np.ndarray, thresholds: Sequence[float], bins: int, *, invert: bool, key: str) -> np.ndarray:
    t = np.asarray(list(thresholds), dtype=float)
    if len(t) != bins - 1:
        raise AnalysisError(
            f"{key} needs {bins - 1} thresholds for bins={bins} (got {len(t)}: {list(thresholds)}); fix {key}="
        )
    if np.any(np.diff(t) <= 0):
        raise AnalysisError(f"{key} must be strictly ascending; got {list(thresholds)}; fix {key}=")
    if invert:  # recency: value <= t[0] -> bins (most recent), ..., value > t[-1] -> 1
        return (bins - np.searchsorted(t, values, side="left")).astype(np.int64)
    return (1 + np.searchsorted(t, values, side="right")).astype(np.int64)


def rfm_scores(
    features: pd.DataFrame,
    *,
    method: Literal["quantile", "thresholds"] = "quantile",
    bins: int = 5,
    recency_thresholds: Sequence[float] | None = None,
    frequency_thresholds: Sequence[float] | None = None,
    monetary_thresholds: Sequence[float] | None = None,
    segment_map: Mapping[str, str] | None = None,
    as_of_check: AsOfCheck | None = None,
) -> RFMResult:
    """RFM scores (recency, frequency, monetary) and named segments.

    R is ``recency_days`` (inverted: the most recent buyers get the highest score), F is
    ``n_orders``, M is ``monetary_sum``. Only customers with at least one order are scored;
    customers without orders get segment ``"no purchase"`` and missing scores.

    **Quantile method and ties.** Each value is scored by its rank percentile among buyers, with
    tied values sharing their average rank: ``score = 1 + floor(bins * (pct - 1e-9))``, clipped to
    1..bins. Equal values therefore always get equal scores and no score is ever missing, however
    heavy the ties. The price is that when one value dominates some levels stay unused: if 80 % of
    buyers bought once they all sit at the 40th percentile and get F = 3, and F = 1, 2 are never
    given. Unused levels are reported in ``.metrics()["unused_levels"]`` (and, for this method,
    warned about); use ``method: thresholds`` to fix the cut points yourself.

    **Thresholds method.** ``bins - 1`` ascending thresholds per dimension: for F and M a value
    below the first threshold scores 1, at or above the last scores ``bins``; for recency (days) a
    value at or below the first threshold scores ``bins``, above the last scores 1.

    **Segments.** The map (``segment_map``, default :data:`DEFAULT_SEGMENT_MAP`) is name ->
    rule on ``r``, ``f``, ``m`` evaluated with :meth:`pandas.DataFrame.eval`, in map order; the
    first matching rule wins.

    Parameters
    ----------
    features : pandas.DataFrame
        Customer features with ``customer_id``, ``recency_days``, ``n_orders``,
        ``monetary_sum``.
    method : {'quantile', 'thresholds'}, default 'quantile'
        How values become scores (``analyses.segmentation.rfm.method``).
    bins : int, default 5
        Score levels 1..bins.
    recency_thresholds, frequency_thresholds, monetary_thresholds : sequence of float, optional
        ``bins - 1`` ascending cut points each; required with ``method='thresholds'``.
    segment_map : mapping of str to str, optional
        Segment name -> rule on ``r``, ``f``, ``m``; default :data:`DEFAULT_SEGMENT_MAP`.
    as_of_check : AsOfCheck, optional
        :func:`workbench.data.orders.check_as_of` of the orders the features came from; a stale
        as-of date is stated at the start of the finding (recency is measured from it).

    Returns
    -------
    RFMResult

    Raises
    ------
    AnalysisError
        Missing columns, no buyer, bad thresholds, a rule that cannot be evaluated, or a map that
        leaves buyers without a segment (how many, example cells, the params key).

    Warns
    -----
    StatisticalWarning
        Overlapping rules (cells listed; first match wins) or unused score levels.

    Examples
    --------
    >>> f = pd.DataFrame({"customer_id": list("abcd"), "recency_days": [5.0, 40, 200, None],
    ...                   "n_orders": [6, 2, 1, 0], "monetary_sum": [900.0, 150, 40, 0]})
    >>> r = rfm_scores(f, bins=3, segment_map={"best": "r == 3", "rest": "r < 3"})
    >>> r.to_frame()["segment"].astype(str).tolist()
    ['best', 'rest', 'rest', 'no purchase']
    """
    need_columns(features, ["customer_id", "recency_days", "n_orders", "monetary_sum"], what="RFM scores")
    check_unique_ids(features, what="RFM scores")
    bins = int(bins)
    n_orders = pd.to_numeric(features["n_orders"], errors="coerce").fillna(0)
    buyer = (n_orders >= 1).to_numpy()
    if not buyer.any():
        raise AnalysisError(f"RFM scores: none of the {len(features):,} customers has an order up to the as-of date")
    thresholds = {"recency_thresholds": recency_thresholds, "frequency_thresholds": frequency_thresholds,
                  "monetary_thresholds": monetary_thresholds}  # fmt: skip
    r, f, m = _step_scores(features.loc[buyer], n_orders[buyer], method=method, bins=bins, thresholds=thresholds)
    levels = set(range(1, bins + 1))
    unused = {k: sorted(levels - set(np.unique(v).tolist())) for k, v in (("r", r), ("f", f), ("m", m))}
    default = segment_map is None
    smap = dict(DEFAULT_SEGMENT_MAP if default else segment_map)
    grid = check_segment_map(None if default else smap, bins=bins)
    seg, overlaps = _step_segments(grid, r, f, m, bins=bins)
    if method == "quantile" and any(unused.values()):
        which = "; ".join(t("segmentation.rfm.unused_which", dim=k.upper(), levels=v) for k, v in unused.items() if v)
        warnings.warn(
            t("segmentation.rfm.unused_warning", method=method, which=which),
            StatisticalWarning,
            stacklevel=2,
        )
    table = _step_table(features, n_orders, buyer, r, f, m, seg, smap=smap, bins=bins)
    return RFMResult(
        table=table,
        segment_map=smap,
        default_map=default,
        bins=bins,
        method=method,
        unused_levels=unused,
        overlaps=overlaps,
        grid=grid,
        as_of_check=as_of_check,
    )


def _step_scores(
    b: pd.DataFrame, freq: pd.Series, *, method: str, bins: int, thresholds: Mapping[str, Sequence[float] | None]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R, F and M scores of the buyers ``b`` by rank percentile or by thresholds."""
    rec = pd.to_numeric(b["recency_days"], errors="coerce")
    if rec.isna().any():
        raise AnalysisError(
            f"RFM scores: {int(rec.isna().sum()):,} buyers have no recency_days "
            f"(e.g. {', '.join(map(repr, b.loc[rec.isna(), 'customer_id'].head(3)))}); rebuild the features"
        )
    freq = freq.astype(float)
    mon = pd.to_numeric(b["monetary_sum"], errors="coerce").fillna(0.0)
    if method == "quantile":
        return rank_scores(rec, bins, invert=True), rank_scores(freq, bins), rank_scores(mon, bins)
    missing = [f"{k}=" for k, v in thresholds.items() if v is None]
    if missing:
        raise AnalysisError(
            f"RFM method 'thresholds' needs thresholds for R, F and M; missing: {', '.join(missing)} "
            "(or set rfm.method='quantile')"
        )
    r = _thresholds(rec.to_numpy(float), thresholds["recency_thresholds"], bins, invert=True,
                    key="recency_thresholds")
    f = _thresholds(freq.to_numpy(float), thresholds["frequency_thresholds"], bins, invert=False,
                    key="frequency_thresholds")
    m = _thresholds(mon.to_numpy(float), thresholds["monetary_thresholds"], bins, invert=False,
                    key="monetary_thresholds")  # fmt: skip
    return r, f, m


def _step_segments(
    grid: pd.DataFrame, r: np.ndarray, f: np.ndarray, m: np.ndarray, *, bins: int
) -> tuple[np.ndarray, pd.DataFrame]:
    """Segment of each buyer from its grid cell; raise on uncovered cells, warn on overlaps."""
    dims = [d for d in ("r", "f", "m") if d in grid.columns]
    # cell index of each buyer in the grid (grid is in lexicographic order of dims)
    code = np.zeros(len(r), dtype=np.int64)
    for d, v in zip(("r", "f", "m"), (r, f, m), strict=True):
        if d in dims:
            code = code * bins + (v - 1)
    seg_of_cell = grid["segment"].to_numpy(dtype=object)
    seg = seg_of_cell[code]
    unassigned = pd.isna(seg)
    if unassigned.any():
        cells = grid.loc[grid["segment"].isna()]
        cells = cells[cells.index.isin(np.unique(code[unassigned]))]
        ex = ", ".join(
            "(" + ", ".join(f"{d}={int(row[d])}" for d in dims) + ")" for _, row in cells.head(5).iterrows()
        )
        raise AnalysisError(
            f"the segment map leaves {int(unassigned.sum()):,} of {len(r):,} buyers without a segment, "
            f"in {len(cells)} score cell(s), e.g. {ex}; add rules covering them (or a catch-all last rule "
            f"like 'r >= 1') in {_SEGMAP_KEY}"
        )
    overlaps = grid.loc[grid["n_matches"] > 1].reset_index(drop=True)
    if len(overlaps):
        ex = "; ".join(
            "(" + ", ".join(f"{d}={int(row[d])}" for d in dims) + f"): {row['matches']}"
            for _, row in overlaps.head(5).iterrows()
        )
        warnings.warn(
            t("segmentation.rfm.overlap_warning", n=len(overlaps), cells=len(grid), examples=ex),
            StatisticalWarning,
            stacklevel=3,
        )
    return seg, overlaps


def _cell_labels(r: np.ndarray, f: np.ndarray, m: np.ndarray, *, sep: str) -> np.ndarray:
    """``"{r}{sep}{f}{sep}{m}"`` per customer, formatted once per distinct cell (at most bins³),
    not once per customer.

    Examples
    --------
    >>> _cell_labels(np.array([5, 1, 5]), np.array([4, 1, 4]), np.array([3, 2, 3]), sep="").tolist()
    ['543', '112', '543']
    """
    r, f, m = (np.asarray(v, dtype=np.int64) for v in (r, f, m))
    if not len(r):
        return np.empty(0, dtype=object)
    lo = min(int(r.min()), int(f.min()), int(m.min()))
    width = max(int(r.max()), int(f.max()), int(m.max())) - lo + 1
    key = ((r - lo) * width + (f - lo)) * width + (m - lo)  # one integer per cell
    cells, inverse = np.unique(key, return_inverse=True)
    a, rest = np.divmod(cells, width * width)
    b, c = np.divmod(rest, width)
    labels = np.array([f"{x + lo}{sep}{y + lo}{sep}{z + lo}" for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True)],
                      dtype=object)
    return labels[inverse]


def _step_table(
    features: pd.DataFrame,
    n_orders: pd.Series,
    buyer: np.ndarray,
    r: np.ndarray,
    f: np.ndarray,
    m: np.ndarray,
    seg: np.ndarray,
    *,
    smap: Mapping[str, str],
    bins: int,
) -> pd.DataFrame:
    """Per-customer table: raw values, nullable scores (missing without purchase), cell, segment."""
    n = len(features)

    def _full(v: np.ndarray) -> pd.array:
        out = np.zeros(n, dtype=np.int64)
        out[buyer] = v
        arr = pd.array(out, dtype="Int64")
        arr[~buyer] = pd.NA
        return arr

    cats = [*smap, NO_PURCHASE] if NO_PURCHASE not in smap else list(smap)
    segment = np.full(n, NO_PURCHASE, dtype=object)
    segment[buyer] = seg
    table = pd.DataFrame(
        {
            "customer_id": features["customer_id"].to_numpy(),
            "recency_days": pd.to_numeric(features["recency_days"], errors="coerce").to_numpy(float),
            "n_orders": n_orders.to_numpy(),
            "monetary_sum": pd.to_numeric(features["monetary_sum"], errors="coerce").fillna(0.0).to_numpy(float),
            "r": _full(r),
            "f": _full(f),
            "m": _full(m),
        }
    )
    sep = "" if bins < 10 else "-"
    cell = np.full(n, None, dtype=object)
    cell[buyer] = _cell_labels(r, f, m, sep=sep)
    table["rfm_cell"] = pd.array(cell, dtype="string")
    table["rfm_score"] = table["r"] + table["f"] + table["m"]
    table["segment"] = pd.Categorical(segment, categories=cats)
    return table
