"""The attribution models side by side, with bootstrap intervals by resampling customers.

Rule-based models credit each converting journey's conversion (and revenue, margin) to its
touches: first touch, last touch, last non-direct touch (skipping ``direct_channels``; a journey of
direct touches only keeps its last), linear (equal shares), time decay (weight ``2^(-age /
half-life)`` of a touch ``age`` days before the conversion) and position-based (first and last
``40 %``, the middle ``20 %`` shared; two touches split first/last pro rata). The data-driven
models: Markov chain removal effects of order 1-3 and Shapley values
(:mod:`workbench.attribution.markov`), each channel's share = its effect over the sum of effects,
times the total.

Intervals: percentile intervals over ``bootstrap`` resamples of customers (all the journeys of a
resampled customer come along), seeded by ``random_state``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench.attribution.journeys import Journeys
from workbench.attribution.markov import markov_structure, removal_effects, shapley_values
from workbench.report import i18n
from workbench.report.fmt import pct, pp
from workbench.report.plotting import new_axes
from workbench.report.results import Result

__all__ = ["RULE_MODELS", "ModelComparison", "PathModel", "compare_models"]

#: The rule-based models, in the order shown.
RULE_MODELS: tuple[str, ...] = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
_WORTH = ("conversions", "revenue", "margin")


@dataclass(frozen=True, eq=False)
class PathModel:
    """Every model's credits as a function of journey weights (precomputed structure).

    Build with :meth:`from_journeys`; :meth:`credit` returns, per model, attributed conversions,
    revenue and margin by channel (3 x K) for journey weights ``w`` (1 = as observed).
    """

    channels: tuple[str, ...]
    path_of: np.ndarray
    paths: tuple[np.ndarray, ...]
    masks: np.ndarray
    converted: np.ndarray
    worth: np.ndarray
    rules: dict[str, sp.csr_matrix]
    structures: dict[int, Any]
    shapley_max_exact: int
    shapley_samples: int
    random_state: int | None

    @classmethod
    def from_journeys(cls, j: Journeys, *, markov_orders: list[int] = (1, 2, 3), shapley_max_exact: int = 12,  # type: ignore[assignment]
                      shapley_samples: int = 2000, random_state: int | None = 0) -> PathModel:  # fmt: skip
        """Unique paths, channel masks, rule credit matrices and Markov structures of ``j``."""
        chans = j.channels
        code = {c: i for i, c in enumerate(chans)}
        jt = j.journeys
        uniq, path_of = np.unique(jt["path"].to_numpy(dtype=object).astype(str), return_inverse=True)
        paths = tuple(np.array([code[c] for c in p.split(" > ")], dtype=np.int64) for p in uniq)
        masks = np.array([int(np.bitwise_or.reduce(np.left_shift(1, np.unique(p)))) for p in paths], dtype=np.int64)
        cr = j.credits
        col = cr["channel"].map(code).to_numpy()
        rules = {m: sp.csr_matrix((cr[m].to_numpy(float), (cr["jid"].to_numpy(), col)), shape=(len(jt), len(chans)))
                 for m in RULE_MODELS}  # fmt: skip
        conv = jt["converted"].to_numpy(bool)
        worth = np.column_stack([conv.astype(float), jt["value"].to_numpy(float) * conv,
                                 jt["margin"].to_numpy(float) * conv])  # fmt: skip
        structures = {k: markov_structure(list(paths), len(chans), k) for k in markov_orders}
        return cls(chans, path_of, paths, masks, conv, worth, rules, structures, shapley_max_exact,
                   shapley_samples, random_state)  # fmt: skip

    @property
    def models(self) -> tuple[str, ...]:
        """Model codes in display order."""
        return (*RULE_MODELS, *(f"markov_{k}" for k in self.structures), "shapley")

    def credit(self, w: np.ndarray | None = None, *, only: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """Attributed conversions, revenue and margin by channel (3 x K) per model, for journey weights ``w``."""
        w = np.ones(len(self.path_of)) if w is None else w
        ww = self.worth * w[:, None]
        out: dict[str, np.ndarray] = {}
        models = only or self.models
        for m in models:
            if m in self.rules:
                out[m] = np.asarray(self.rules[m].T @ ww).T
        u = len(self.paths)
        up = np.column_stack([np.bincount(self.path_of, weights=ww[:, i], minlength=u) for i in range(3)])
        null = np.bincount(self.path_of, weights=w * ~self.converted, minlength=u)
        tot = up.sum(axis=0)
        for k, s in self.structures.items():
            if f"markov_{k}" not in models:
                continue
            _, rem = removal_effects(s, up[:, 0], null, up[:, 1:])
            out[f"markov_{k}"] = _scale(rem.T, tot)
        if "shapley" in models:
            phi = np.vstack([shapley_values(self.masks, up[:, i], len(self.channels), max_exact=self.shapley_max_exact,
                                            samples=self.shapley_samples, random_state=self.random_state)
                             for i in range(3)])  # fmt: skip
            out["shapley"] = _scale(phi, tot)
        return out


def _scale(effects: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Effects (rows: worth) normalised to shares of each row, times the row's total."""
    s = effects.sum(axis=1, keepdims=True)
    out = np.where(s > 0, effects / np.where(s > 0, s, 1), 0.0) * totals[:, None]
    return np.where(np.abs(out) < 1e-9, 0.0, out)  # no "-0" from rounding


def customer_weights(customers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Journey weights of one bootstrap resample of customers (times each customer is drawn)."""
    codes, inv = np.unique(customers, return_inverse=True)
    draws = np.bincount(rng.integers(0, codes.size, codes.size), minlength=codes.size)
    return draws[inv].astype(float)


@dataclass(frozen=True, repr=False)
class ModelComparison(Result):
    """Channel credit of every model (see :func:`compare_models`).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model and channel: ``model``, ``channel``, ``conversions`` with
        ``conversions_low``/``_high``, ``share`` with ``share_low``/``_high`` (of conversions),
        ``revenue`` with interval, ``revenue_share``, ``margin``.
    gaps : pandas.DataFrame
        Per channel: ``last_touch_share``, ``data_driven_share`` (the ``reference`` model),
        ``gap`` (last minus data-driven) with ``gap_low``/``_high``, ``credit`` (``over``,
        ``under`` or ``even``: the interval of the gap excludes 0 or not).
    replicates : dict
        Model -> bootstrap draws (B x 3 x K: conversions, revenue, margin by channel).
    reference : str
        Data-driven model the gaps compare with.
    channels : tuple of str
    n_journeys, n_conversions : int
    bootstrap : int
    confidence : float
    """

    table: pd.DataFrame
    gaps: pd.DataFrame
    replicates: dict[str, np.ndarray]
    reference: str
    channels: tuple[str, ...]
    n_journeys: int
    n_conversions: int
    bootstrap: int
    confidence: float

    def summary(self) -> pd.DataFrame:
        """Share of conversions by channel (rows) and rule-based model (columns ``<model>_share``)."""
        w = self.table.pivot(index="channel", columns="model", values="share")
        w = w[[m for m in RULE_MODELS if m in w.columns]].reindex(list(self.channels))
        w.columns = [f"{c}_share" for c in w.columns]
        return w.reset_index()

    def data_driven(self) -> pd.DataFrame:
        """Share of conversions by channel for the Markov and Shapley models, with intervals
        (columns ``<model>_share``, ``<model>_share_low``, ``<model>_share_high``)."""
        out = pd.DataFrame({"channel": list(self.channels)})
        for m in dict.fromkeys(self.table["model"]):
            if m in RULE_MODELS:
                continue
            g = self.table[self.table["model"] == m].set_index("channel").reindex(list(self.channels))
            for src, suffix in (("share", ""), ("share_low", "_low"), ("share_high", "_high")):
                out[f"{m}_share{suffix}"] = g[src].to_numpy()
        return out

    def credit_table(self) -> pd.DataFrame:
        """Per channel: last touch share against the reference model's, the gap with its interval,
        and whether last touch over- or under-credits the channel."""
        g = self.gaps.rename(columns={"gap": "share_gap", "gap_low": "share_gap_low", "gap_high": "share_gap_high"})
        g["credit"] = [i18n.category("attribution_credit", c) for c in g["credit"]]
        return g

    def to_frame(self) -> pd.DataFrame:
        """Every model and channel with intervals (codes)."""
        return self.table.copy()

    def shares(self, model: str) -> pd.Series:
        """Share of conversions by channel of one model."""
        t = self.table[self.table["model"] == model]
        return pd.Series(t["share"].to_numpy(), index=t["channel"].to_numpy())

    def plot(self, ax: Any = None) -> Any:
        """Heatmap: share of conversions by model (rows) and channel (columns)."""
        ax = new_axes(ax, figsize=(1.2 * len(self.channels) + 3, 0.45 * self.table["model"].nunique() + 1.5))
        w = self.table.pivot(index="model", columns="channel", values="share")
        w = w.reindex(list(dict.fromkeys(self.table["model"])))[list(self.channels)]
        im = ax.imshow(w.to_numpy(float), cmap="Blues", aspect="auto", vmin=0)
        ax.grid(False)
        for (r, c), v in np.ndenumerate(w.to_numpy(float)):
            ax.text(c, r, pct(v, 0), ha="center", va="center", fontsize=8,
                    color="white" if v > 0.6 * np.nanmax(w.to_numpy(float)) else "black")  # fmt: skip
        ax.set_xticks(range(len(w.columns)), list(w.columns), rotation=30, ha="right")
        ax.set_yticks(range(len(w.index)), [i18n.category("attribution_model", m) for m in w.index])
        ax.set_title(i18n.t("attribution.models.plot_title"))
        ax.set_xlabel(i18n.label("channel"))
        ax.figure.colorbar(im, ax=ax, fraction=0.04, label=i18n.t("attribution.models.plot_share"))
        return ax

    def metrics(self) -> dict[str, Any]:
        return {
            "n_journeys": self.n_journeys, "n_conversions": self.n_conversions, "bootstrap": self.bootstrap,
            "reference": self.reference,
            "share": {m: dict(zip(g["channel"], g["share"].round(4), strict=True)) for m, g in self.table.groupby("model")},
            "credit": dict(zip(self.gaps["channel"], self.gaps["credit"], strict=True)),
        }  # fmt: skip

    def finding(self) -> str:
        ref = self.shares(self.reference)
        top = ref.idxmax()
        row = self.table[(self.table["model"] == self.reference) & (self.table["channel"] == top)].iloc[0]
        g = self.gaps.set_index("channel")
        parts = [i18n.t("attribution.models.finding", model=i18n.category("attribution_model", self.reference),
                        channel=top, share=pct(row["share"]), low=pct(row["share_low"]), high=pct(row["share_high"]),
                        n=f"{self.n_conversions:,}")]  # fmt: skip
        over, under = g[g["credit"] == "over"], g[g["credit"] == "under"]
        if len(over):
            c = over["gap"].idxmax()
            parts.append(i18n.t("attribution.models.over", channel=c, gap=pp(over.loc[c, "gap"]),
                                last=pct(over.loc[c, "last_touch_share"]),
                                ref=pct(over.loc[c, "data_driven_share"])))  # fmt: skip
        if len(under):
            c = under["gap"].idxmin()
            parts.append(i18n.t("attribution.models.under", channel=c, gap=pp(-under.loc[c, "gap"]),
                                last=pct(under.loc[c, "last_touch_share"]),
                                ref=pct(under.loc[c, "data_driven_share"])))  # fmt: skip
        if not len(over) and not len(under):
            parts.append(i18n.t("attribution.models.even"))
        return " ".join(parts)


def _interval(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over the first axis (NaN without draws)."""
    if draws.shape[0] == 0:
        nan = np.full(draws.shape[1:], np.nan)
        return nan, nan
    a = (1 - confidence) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column (no spend) stays NaN
        return np.nanquantile(draws, a, axis=0), np.nanquantile(draws, 1 - a, axis=0)


def _share(x: np.ndarray) -> np.ndarray:
    """Rows of (…, K) as shares of their sums."""
    s = x.sum(axis=-1, keepdims=True)
    return np.where(s > 0, x / np.where(s > 0, s, 1), np.nan)


def compare_models(
    journeys: Journeys, *, markov_orders: list[int] = (1, 2, 3), shapley_max_exact: int = 12,  # type: ignore[assignment]
    shapley_samples: int = 2000, bootstrap: int = 200, confidence: float = 0.95, reference: str = "markov_1",
    random_state: int | None = 0,
) -> ModelComparison:  # fmt: skip
    """Credit every channel by the eight models, with bootstrap intervals.

    Parameters
    ----------
    journeys : Journeys
        From :func:`workbench.attribution.build_journeys`.
    markov_orders, shapley_max_exact, shapley_samples, bootstrap, confidence
        As in ``analyses.attribution``.
    reference : str, default "markov_1"
        Data-driven model last touch is compared with (``economics_model``).
    random_state : int, optional
        Seed of the resampling and of the sampled Shapley values.

    Returns
    -------
    ModelComparison
    """
    pm = PathModel.from_journeys(journeys, markov_orders=markov_orders, shapley_max_exact=shapley_max_exact,
                                 shapley_samples=shapley_samples, random_state=random_state)  # fmt: skip
    point = pm.credit()
    rng = np.random.default_rng(random_state)
    cust = journeys.journeys["customer_id"].to_numpy(dtype=object).astype(str)
    reps: dict[str, list[np.ndarray]] = {m: [] for m in pm.models}
    for _ in range(bootstrap):
        draw = pm.credit(customer_weights(cust, rng))
        for m in pm.models:
            reps[m].append(draw[m])
    k = len(pm.channels)
    rep = {m: np.array(v) if v else np.zeros((0, 3, k)) for m, v in reps.items()}
    rows = []
    for m in pm.models:
        lo, hi = _interval(rep[m], confidence)
        slo, shi = _interval(_share(rep[m][:, 0, :]) if len(rep[m]) else np.zeros((0, k)), confidence)
        share = _share(point[m][0])
        for i, c in enumerate(pm.channels):
            rows.append({"model": m, "channel": c, "conversions": point[m][0, i], "conversions_low": lo[0, i],
                         "conversions_high": hi[0, i], "share": share[i], "share_low": slo[i], "share_high": shi[i],
                         "revenue": point[m][1, i], "revenue_low": lo[1, i], "revenue_high": hi[1, i],
                         "revenue_share": _share(point[m][1])[i], "margin": point[m][2, i]})  # fmt: skip
    table = pd.DataFrame(rows)
    ref = reference if reference in pm.models else "markov_1" if "markov_1" in pm.models else "shapley"
    return ModelComparison(table=table, gaps=_gaps(point, rep, ref, pm.channels, confidence), replicates=rep,
                           reference=ref, channels=pm.channels, n_journeys=len(pm.path_of),
                           n_conversions=int(pm.converted.sum()), bootstrap=bootstrap,
                           confidence=confidence)  # fmt: skip


def _gaps(point: dict[str, np.ndarray], rep: dict[str, np.ndarray], ref: str, channels: tuple[str, ...],
          confidence: float) -> pd.DataFrame:  # fmt: skip
    """Last touch share minus the reference model's share, with a paired bootstrap interval."""
    last, dd = _share(point["last_touch"][0]), _share(point[ref][0])
    if len(rep[ref]):
        lo, hi = _interval(_share(rep["last_touch"][:, 0, :]) - _share(rep[ref][:, 0, :]), confidence)
    else:
        lo = hi = np.full(len(channels), np.nan)
    credit = np.where(lo > 0, "over", np.where(hi < 0, "under", "even"))
    return pd.DataFrame({"channel": list(channels), "last_touch_share": last, "data_driven_share": dd,
                         "gap": last - dd, "gap_low": lo, "gap_high": hi, "credit": credit})  # fmt: skip
