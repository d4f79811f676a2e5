"""Held-out evaluation of the uplift models: Qini and uplift curves, the Qini coefficient with a
bootstrap interval, AUUC and observed uplift by predicted decile (:func:`evaluate_uplift`).

Rows are sorted by predicted uplift, highest first; at each cut-off with ``n_t``, ``n_c``
treated and control rows and ``y_t``, ``y_c`` outcome sums above it:

* Qini curve ``Q = y_t - y_c n_t / n_c`` (Radcliffe 2007): incremental outcomes among the
  treated rows targeted so far;
* uplift curve ``U = (y_t / n_t - y_c / n_c) (n_t + n_c)``: incremental outcomes if everyone
  targeted so far were contacted (cumulative incremental gain);

against the share of held-out rows targeted (ties in the score are one step). Random targeting
is the straight line to the curve's end point. **Qini coefficient** = (area under the model's
Qini curve - area under the random line) / (area under the perfect Qini curve - area under the
random line); the perfect curve puts treated responders first and control responders last (for a
continuous outcome: treated rows by descending and control rows by ascending outcome). It is 0
for random ranking and 1 for perfect ranking; real campaigns score a few hundredths to a few
tenths because the perfect curve knows every outcome. **AUUC** = area under the uplift curve with
the y-axis divided by the number of held-out rows (incremental outcomes per customer of the
base, averaged over all targeting depths); ``auuc_vs_random`` subtracts the random line's area
(half the overall effect). The 95 % interval of the Qini coefficient is a percentile bootstrap
over held-out rows (predictions fixed: evaluation noise, not model refit noise).

Observed uplift per predicted decile: difference of proportions with Newcombe's hybrid Wilson
interval (binary outcome) or a Welch interval (continuous outcome), a two-sided z-test per decile
and Holm's correction across the deciles of a model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.campaign._common import error_bar_lengths
from workbench.campaign.uplift._common import LABEL, MODELS, fmt_g, group_effect, points
from workbench.campaign.uplift.learners import UpliftModels
from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.report.fmt import num, pct
from workbench.report.i18n import t as tr
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import bootstrap_ci, holm, seed_ints

__all__ = ["UpliftEvaluation", "evaluate_uplift", "uplift_curves", "qini_coefficient"]


def _ends(sorted_score: np.ndarray) -> np.ndarray:
    """Last position of each block of tied scores in a sorted score array."""
    if sorted_score.size == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(sorted_score) != 0)
    return np.append(change, sorted_score.size - 1)


def _curve(
    ts: np.ndarray, ys: np.ndarray, ws: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share targeted, Qini and uplift curve (absolute, weighted) of sorted rows, with (0, 0)."""
    wt = ws * ts
    wc = ws - wt
    nt = np.cumsum(wt)[ends]
    nc = np.cumsum(wc)[ends]
    yt = np.cumsum(wt * ys)[ends]
    yc = np.cumsum(wc * ys)[ends]
    total = nt[-1] + nc[-1] if nt.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(nc > 0, nt / nc, 0.0)
        qini = yt - yc * ratio
        rt = np.where(nt > 0, yt / nt, 0.0)
        rc = np.where(nc > 0, yc / nc, 0.0)
        upl = np.where((nt > 0) & (nc > 0), (rt - rc) * (nt + nc), 0.0)
        x = (nt + nc) / total if total > 0 else np.zeros_like(nt)
    return np.concatenate([[0.0], x]), np.concatenate([[0.0], qini]), np.concatenate([[0.0], upl])


class _Ranked:
    """Rows sorted by a score, ready for weighted curves."""

    def __init__(self, score: np.ndarray, treated: np.ndarray, y: np.ndarray) -> None:
        self.order = np.argsort(-np.asarray(score, dtype="float64"), kind="mergesort")
        s = np.asarray(score, dtype="float64")[self.order]
        self.ends = _ends(s)
        self.ts = np.asarray(treated, dtype="float64")[self.order]
        self.ys = np.asarray(y, dtype="float64")[self.order]

    def curve(self, w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ws = np.ones_like(self.ts) if w is None else np.asarray(w, dtype="float64")[self.order]
        return _curve(self.ts, self.ys, ws, self.ends)


def _trapz(y: np.ndarray, x: np.ndarray) -> float:
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2.0))


def _qini_from(model: _Ranked, perfect: _Ranked, w: np.ndarray | None = None) -> float:
    x, q, _ = model.curve(w)
    xp, qp, _ = perfect.curve(w)
    rand = q[-1] / 2.0
    den = _trapz(qp, xp) - rand
    if not den > 0:
        return float("nan")
    return float((_trapz(q, x) - rand) / den)


def _perfect_score(treated: np.ndarray, y: np.ndarray) -> np.ndarray:
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(y, dtype="float64")
    return np.where(t, y, -y)


def uplift_curves(score: Any, treated: Any, outcome: Any) -> pd.DataFrame:
    """Qini and uplift curves of a ranking (see the module docstring for the definitions).

    Parameters
    ----------
    score : array-like
        Predicted uplift (higher = target first); ties are one step.
    treated : array-like of bool
        Contacted (treatment arm) or not (control).
    outcome : array-like of float
        Observed outcome.

    Returns
    -------
    pandas.DataFrame
        One row per cut-off plus the origin: ``share_targeted`` (0..1), ``qini`` (incremental
        outcomes among targeted treated rows), ``uplift`` (incremental outcomes if all targeted
        rows were contacted), ``qini_random``, ``uplift_random`` (random targeting).

    Examples
    --------
    >>> c = uplift_curves([0.9, 0.5, 0.1, 0.0], [True, False, True, False], [1, 0, 0, 1])
    >>> c["qini"].round(2).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    r = _Ranked(
        np.asarray(score, dtype="float64"),
        np.asarray(treated, dtype=bool),
        np.asarray(outcome, dtype="float64"),
    )
    x, q, u = r.curve()
    return pd.DataFrame(
        {
            "share_targeted": x,
            "qini": q,
            "uplift": u,
            "qini_random": x * q[-1],
            "uplift_random": x * u[-1],
        }
    )


def qini_coefficient(score: Any, treated: Any, outcome: Any) -> float:
    """Qini coefficient: (model area - random area) / (perfect area - random area) of the Qini
    curve; 0 = random ranking, 1 = perfect ranking, negative = worse than random.

    Examples
    --------
    >>> t, y = [True, True, False, False], [1, 0, 0, 1]
    >>> qini_coefficient([4, 3, 2, 1], t, y)  # treated responder first, control responder last
    1.0
    """
    t = np.asarray(treated, dtype=bool)
    y = np.asarray(outcome, dtype="float64")
    return _qini_from(
        _Ranked(np.asarray(score, dtype="float64"), t, y), _Ranked(_perfect_score(t, y), t, y)
    )


def _deciles(pred: np.ndarray, bins: int) -> np.ndarray:
    """Decile 1 = highest predicted uplift; tied predictions share a decile."""
    r = pd.Series(-pred).rank(method="average").to_numpy()
    return np.clip(np.ceil(r / len(pred) * bins), 1, bins).astype(np.int64)


@dataclass(frozen=True, eq=False, repr=False)
class UpliftEvaluation(Result):
    """Held-out evaluation of the uplift models (see :func:`evaluate_uplift`).

    Attributes
    ----------
    models : UpliftModels
    table : pandas.DataFrame
        One row per model (see :meth:`summary`).
    curves : pandas.DataFrame
        Long: ``model``, ``share_targeted`` (grid of 201 points), ``qini``, ``uplift``
        (absolute, held-out rows), plus rows ``model == 'random'``.
    decile_table : pandas.DataFrame
        See :meth:`deciles`.
    bootstrap : int
    random_state : int or None
    """

    models: UpliftModels
    table: pd.DataFrame
    curves: pd.DataFrame
    decile_table: pd.DataFrame
    bootstrap: int
    random_state: int | None

    @property
    def best_model(self) -> str:
        """Model with the highest Qini coefficient."""
        return str(self.table.sort_values("qini_coefficient", ascending=False)["model"].iloc[0])

    def summary(self) -> pd.DataFrame:
        """One row per model: ``model``, ``qini_coefficient`` with ``qini_ci_low``,
        ``qini_ci_high`` (95 % bootstrap), ``beats_random`` (interval above 0),
        ``qini_area_vs_random`` and ``auuc``, ``auuc_random``, ``auuc_vs_random`` (areas with the
        y-axis in incremental outcomes per held-out customer), ``top_30pct_share`` (share of the
        incremental outcomes of contacting everyone that the top 30 % bring), ``n_held_out``."""
        return self.table.copy()

    def deciles(self) -> pd.DataFrame:
        """Observed uplift by predicted decile (1 = highest predicted), per model: ``model``,
        ``decile``, ``n_treated``, ``n_control``, ``mean_treated``, ``mean_control``,
        ``observed_uplift`` with 95 % ``ci_low``, ``ci_high`` (Newcombe / Welch),
        ``mean_predicted``, ``p_value`` (z / Welch test of zero uplift) and ``p_holm`` (Holm
        across the deciles of the model)."""
        return self.decile_table.copy()

    def to_frame(self) -> pd.DataFrame:
        """The curves (long format)."""
        return self.curves.copy()

    def metrics(self) -> dict[str, Any]:
        """Per-model Qini coefficient with interval, AUUC and decile uplifts (JSON-able)."""
        out: dict[str, Any] = {
            "n_held_out": len(self.models.held_out),
            "bootstrap": self.bootstrap,
            "random_state": self.random_state,
            "best_model": self.best_model,
        }
        for row in self.table.itertuples():
            d = self.decile_table[self.decile_table["model"] == row.model]
            out[row.model] = {
                "qini_coefficient": num(row.qini_coefficient),
                "qini_ci": [num(row.qini_ci_low), num(row.qini_ci_high)],
                "beats_random": bool(row.beats_random),
                "qini_area_vs_random": num(row.qini_area_vs_random),
                "auuc": num(row.auuc),
                "auuc_random": num(row.auuc_random),
                "auuc_vs_random": num(row.auuc_vs_random),
                "top_30pct_share": num(row.top_30pct_share),
                "decile_uplift": [num(v) for v in d["observed_uplift"]],
            }
        return out

    def finding(self) -> str:
        """Which model ranks best, whether it beats random targeting, and what the top deciles show."""
        binary = self.models.data.binary
        diff = points if binary else fmt_g
        t = self.table.set_index("model")
        best = self.best_model
        b = t.loc[best]
        n = len(self.models.held_out)
        parts = [tr("campaign.uplift.best", n=f"{n:,}", model=LABEL[best], qini=f"{b['qini_coefficient']:.3f}",
                    low=f"{b['qini_ci_low']:.3f}", high=f"{b['qini_ci_high']:.3f}")]  # fmt: skip
        if b["beats_random"]:
            parts.append(tr("campaign.uplift.beats_random"))
        elif b["qini_ci_high"] < 0:
            parts.append(tr("campaign.uplift.worse"))
        else:
            parts.append(tr("campaign.uplift.not_shown"))
        other = [m for m in MODELS if m != best][0]
        parts.append(tr("campaign.uplift.other", model=LABEL[other], qini=f"{t.loc[other, 'qini_coefficient']:.3f}"))
        d = self.decile_table[self.decile_table["model"] == best].set_index("decile")
        if len(d):
            top, bottom = d.iloc[0], d.iloc[-1]
            parts.append(tr("campaign.uplift.deciles", top=diff(top["observed_uplift"]), low=diff(top["ci_low"]),
                            high=diff(top["ci_high"]), bottom=diff(bottom["observed_uplift"])))  # fmt: skip
        share = b["top_30pct_share"]
        if num(share) is not None and b["beats_random"]:
            parts.append(tr("campaign.uplift.top30", share=pct(share, 0), outcome=self.models.data.outcome))
        return " ".join(parts)

    def plot(self, ax: Any = None) -> Any:
        """Qini curve and uplift curve per model against random targeting (two panels).

        Parameters
        ----------
        ax : Axes or sequence of two Axes, optional
            One Axes: the Qini curve only; two: both panels; none: a new two-panel figure.

        Returns
        -------
        matplotlib.figure.Figure or matplotlib.axes.Axes
            The figure of the two panels, or the one Axes given.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        elif isinstance(ax, plt.Axes):
            self._curve_panel(ax, "qini")
            return ax
        else:
            axes = list(ax)
            fig = axes[0].figure
        self._curve_panel(axes[0], "qini")
        self._curve_panel(axes[1], "uplift")
        fig.tight_layout()
        return fig

    def _curve_panel(self, ax: Any, col: str) -> None:
        """One curve (``qini`` or ``uplift``) of every model and the random line."""
        import seaborn as sns

        c = self.curves.copy()
        random = tr("campaign.uplift.random")
        c["model"] = c["model"].map(lambda m: random if m == "random" else LABEL.get(m, m))
        styles = {v: (1, 0) if v != random else (4, 2) for v in c["model"].unique()}
        out_name = self.models.data.outcome
        title = tr(f"campaign.uplift.title_{col}", outcome=out_name)
        sns.lineplot(
            data=c, x="share_targeted", y=col, hue="model", style="model", dashes=styles, ax=ax
        )
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel(tr("campaign.uplift.axis_share"))
        ax.set_ylabel(tr("campaign.uplift.axis_incremental", outcome=out_name))
        ax.set_title(title, fontsize=10)
        if col == "qini":
            q = self.table.set_index("model")["qini_coefficient"]
            ax.legend(
                [f"{LABEL[m]} (Qini {q[m]:.3f})" for m in MODELS] + [random],
                loc="best",
                fontsize=8,
            )

    def plot_deciles(self, ax: Any = None) -> Any:
        """Observed uplift (95 % CI) and mean predicted uplift by predicted decile, per model.
        Returns a matplotlib Axes."""
        import seaborn as sns

        ax = new_axes(ax, figsize=(8, 4))
        d = self.decile_table
        pal = sns.color_palette(n_colors=len(MODELS))
        width = 0.8 / len(MODELS)
        for i, m in enumerate(MODELS):
            s = d[d["model"] == m]
            x = s["decile"].to_numpy() + (i - (len(MODELS) - 1) / 2) * width
            ax.bar(
                x,
                s["observed_uplift"],
                width=width,
                color=pal[i],
                alpha=0.75,
                label=tr("campaign.uplift.legend_observed", model=LABEL[m]),
            )
            ax.errorbar(
                x,
                s["observed_uplift"],
                yerr=error_bar_lengths(s["observed_uplift"], s["ci_low"], s["ci_high"]),
                fmt="none",
                color="black",
                lw=0.8,
                capsize=2,
            )
            ax.plot(
                x,
                s["mean_predicted"],
                "D",
                color=pal[i],
                markeredgecolor="black",
                ms=5,
                label=tr("campaign.uplift.legend_predicted", model=LABEL[m]),
            )
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xticks(range(1, int(d["decile"].max()) + 1))
        ax.set_xlabel(tr("campaign.uplift.axis_decile"))
        ax.set_ylabel(tr("campaign.uplift.axis_uplift", outcome=self.models.data.outcome))
        ax.set_title(tr("campaign.uplift.title_deciles"))
        ax.legend(fontsize=8, ncol=2)
        return ax

    def __repr__(self) -> str:
        q = self.table.set_index("model")["qini_coefficient"]
        return (
            f"UpliftEvaluation(n_held_out={len(self.models.held_out):,}, "
            + ", ".join(f"qini_{m.split('_')[0]}={q[m]:.3f}" for m in MODELS)
            + ")"
        )


def evaluate_uplift(
    models: UpliftModels,
    *,
    bootstrap: int = 200,
    bins: int = 10,
    random_state: int | None = None,
) -> UpliftEvaluation:
    """Evaluate the uplift models on the held-out rows.

    Parameters
    ----------
    models : UpliftModels
        From :func:`fit_uplift`.
    bootstrap : int, default 200
        Resamples of the held-out rows for the Qini coefficient interval (0 = none)
    bins : int, default 10
        Groups of predicted uplift for :meth:`UpliftEvaluation.deciles`.
    random_state : int, optional
        Seed of the bootstrap.

    Returns
    -------
    UpliftEvaluation

    Raises
    ------
    AnalysisError
        ``bins`` outside 2..50 or ``bootstrap`` negative.

    Warns
    -----
    StatisticalWarning
        Fewer than 30 treated or control rows per decile.
    """
    if not 2 <= bins <= 50:
        raise AnalysisError(f"bins must be between 2 and 50, got {bins}")
    if bootstrap < 0:
        raise AnalysisError(f"bootstrap must be >= 0, got {bootstrap}")
    h = models.held_out
    t = h["treated"].to_numpy(dtype=bool)
    y = h["outcome"].to_numpy(dtype="float64")
    n = len(h)
    binary = models.data.binary
    perfect = _Ranked(_perfect_score(t, y), t, y)
    grid = np.linspace(0, 1, 201)
    seeds = seed_ints(random_state, len(MODELS))
    rows, curve_parts, dec_parts = [], [], []
    for i, m in enumerate(MODELS):
        pred = h[m].to_numpy(dtype="float64")
        ranked = _Ranked(pred, t, y)
        x, q, u = ranked.curve()
        coef = _qini_from(ranked, perfect)
        if bootstrap:
            lo, hi, _ = bootstrap_ci(
                lambda idx, r=ranked: _qini_from(r, perfect, np.bincount(idx, minlength=n)),
                n,
                n_boot=bootstrap,
                random_state=seeds[i],
            )
        else:
            lo = hi = float("nan")
        auuc = _trapz(u, x) / n
        auuc_rand = u[-1] / 2 / n
        top30 = float(np.interp(0.3, x, u) / u[-1]) if u[-1] > 0 else float("nan")
        rows.append(
            {
                "model": m,
                "qini_coefficient": coef,
                "qini_ci_low": lo,
                "qini_ci_high": hi,
                "beats_random": bool(lo > 0) if bootstrap else bool(coef > 0),
                "qini_area_vs_random": (_trapz(q, x) - q[-1] / 2) / n,
                "auuc": auuc,
                "auuc_random": auuc_rand,
                "auuc_vs_random": auuc - auuc_rand,
                "top_30pct_share": top30,
                "n_held_out": n,
            }
        )
        curve_parts.append(
            pd.DataFrame(
                {
                    "model": m,
                    "share_targeted": grid,
                    "qini": np.interp(grid, x, q),
                    "uplift": np.interp(grid, x, u),
                }
            )
        )
        if i == 0:
            curve_parts.append(
                pd.DataFrame(
                    {
                        "model": "random",
                        "share_targeted": grid,
                        "qini": grid * q[-1],
                        "uplift": grid * u[-1],
                    }
                )
            )
        dec_parts.append(_decile_effects(m, pred, t, y, bins=bins, binary=binary))
    decile_table = pd.concat(dec_parts, ignore_index=True)
    small = int(((decile_table["n_treated"] < 30) | (decile_table["n_control"] < 30)).sum())
    if small:
        warnings.warn(
            tr("campaign.warn.small_deciles", n=small, total=len(decile_table)),
            StatisticalWarning,
            stacklevel=2,
        )
    return UpliftEvaluation(
        models=models,
        table=pd.DataFrame(rows),
        curves=pd.concat(curve_parts, ignore_index=True),
        decile_table=decile_table,
        bootstrap=int(bootstrap),
        random_state=random_state,
    )


def _decile_effects(
    model: str, pred: np.ndarray, t: np.ndarray, y: np.ndarray, *, bins: int, binary: bool
) -> pd.DataFrame:
    """Observed uplift per decile of predicted uplift of one model, with Holm across its deciles."""
    dec = _deciles(pred, bins)
    g = group_effect(t, y, dec - 1, binary, n_groups=bins)
    g.insert(0, "decile", np.arange(1, bins + 1))
    g.insert(0, "model", model)
    counts = np.maximum(np.bincount(dec - 1, minlength=bins), 1)
    g["mean_predicted"] = np.bincount(dec - 1, weights=pred, minlength=bins) / counts
    g["p_holm"] = holm(g["p_value"].to_numpy())
    return g
