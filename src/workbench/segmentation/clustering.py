"""Clustering of customers on their features: k-means and a Gaussian mixture, k chosen by
silhouette and BIC, bootstrap stability, profiles and names, and a PCA projection.

:func:`cluster_customers` runs the pipeline as named steps (``_step_*``); :func:`adjusted_rand`
compares two labelings.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, StatisticalWarning
from workbench.data.frames import need_columns
from workbench.data.labels import cluster_label, feature_text
from workbench.data.threads import limit_threads
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.stats import seed_ints

__all__ = ["GMM_REG_COVAR", "STABILITY_SAMPLE", "PROJECTION_SAMPLE", "SILHOUETTE_CHUNK_MB", "ClusterResult",
           "adjusted_rand", "cluster_customers", "cluster_label"]


#: Variance floor added to the GMM covariances (standardized units): a spike of tied values
#: (all one-time buyers share ``n_orders == 1``) cannot collapse a component to zero width.
GMM_REG_COVAR: float = 1e-2
#: Rows of the base sample on which bootstrap stability is measured.
STABILITY_SAMPLE: int = 20_000
#: Points drawn in the PCA projection plot.
PROJECTION_SAMPLE: int = 5_000
#: Memory (MB) of one block of the silhouette sample's distance matrix (never held whole: 10,000
#: rows would take 800 MB).
SILHOUETTE_CHUNK_MB: int = 64


def adjusted_rand(labels: Any, truth: Any) -> float:
    """Adjusted Rand index between two labelings (1 = identical partitions, about 0 = chance).

    Parameters
    ----------
    labels, truth : array-like or pandas.Series
        Two Series are aligned on their index (e.g. both indexed by ``customer_id``); arrays
        must have the same length. Pairs with a missing value are dropped.

    Returns
    -------
    float

    Raises
    ------
    AnalysisError
        Fewer than 2 labelled pairs.

    Examples
    --------
    >>> adjusted_rand([0, 0, 1, 1], ["a", "a", "b", "b"])
    1.0
    """
    from sklearn.metrics import adjusted_rand_score

    if isinstance(labels, pd.Series) and isinstance(truth, pd.Series):
        a, b = labels.align(truth, join="inner")
    else:
        a, b = pd.Series(np.asarray(labels)), pd.Series(np.asarray(truth))
        if len(a) != len(b):
            raise AnalysisError(f"adjusted_rand: labels ({len(a):,}) and truth ({len(b):,}) differ in length")
    ok = a.notna().to_numpy() & b.notna().to_numpy()
    if ok.sum() < 2:
        raise AnalysisError(f"adjusted_rand: only {int(ok.sum())} labelled pairs to compare")
    return float(adjusted_rand_score(b[ok].astype(str).to_numpy(), a[ok].astype(str).to_numpy()))


def _make_model(method: str, k: int, seed: int) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    if method == "kmeans":
        return KMeans(n_clusters=k, n_init=10, random_state=seed)
    return GaussianMixture(n_components=k, covariance_type="full", reg_covar=GMM_REG_COVAR, random_state=seed)


def _fit(method: str, k: int, seed: int, X: np.ndarray, notes: list[str]) -> Any:
    from sklearn.exceptions import ConvergenceWarning

    model = _make_model(method, k, seed)  # imports sklearn's OpenMP and BLAS libraries before they are limited
    with warnings.catch_warnings(record=True) as caught, limit_threads(len(X), user_api=None):
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(X)
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        notes.append(f"{method} k={k} did not converge")
    return model


@dataclass(frozen=True, eq=False, repr=False)
class ClusterResult(Result):
    """Customer clusters (see :func:`cluster_customers`).

    Attributes
    ----------
    labels : pandas.DataFrame
        One row per customer of the input: ``customer_id``, ``cluster`` (1..k, 1 = largest; missing
        when not clustered), ``cluster_name``, and ``cluster_<method>`` for every method fitted.
    profiles : pandas.DataFrame
        One row per cluster of the chosen method: ``cluster``, ``cluster_name``, ``customers``,
        ``share``, ``revenue_share``, ``mean_<feature>`` (original units) and ``smd_<feature>``
        (standardized mean difference from the whole base, in the transformed units the
        clustering saw).
    selection : pandas.DataFrame
        One row per method and k: ``method``, ``k``, ``silhouette``, ``bic`` (GMM), ``inertia``
        (k-means), ``chosen``.
    method : str
        The chosen method (highest silhouette of its chosen solution).
    k : dict
        Chosen k per method.
    silhouette : dict
        Silhouette of the chosen solution per method (same seeded sample for all).
    stability : pandas.DataFrame
        Bootstrap adjusted Rand index per method and resample (``method``, ``draw``, ``ari``).
    features : tuple of str
    logged : tuple of str
        Features that were log1p-transformed.
    center, scale : dict
        Mean and standard deviation (transformed units) used to standardize.
    models : dict
        Fitted estimators per method (sklearn).
    label_maps : dict
        Per method, estimator label -> cluster number (1 = largest).
    names : dict
        Per method, cluster number -> descriptive name.
    projection : pandas.DataFrame
        Seeded sample for the PCA plot: ``pc1``, ``pc2``, ``cluster``, ``cluster_name``.
    explained_variance : tuple of float
        Variance share of the two principal components.
    n_total, n_clustered, n_fit : int
        Input rows, rows with complete features, rows of the k-search sample.
    random_state : int or None
    notes : tuple of str
        Convergence notes.
    seconds : dict
        Wall time per step.
    """

    labels: pd.DataFrame
    profiles: pd.DataFrame
    selection: pd.DataFrame
    method: str
    k: dict[str, int]
    silhouette: dict[str, float]
    stability: pd.DataFrame
    features: tuple[str, ...]
    logged: tuple[str, ...]
    center: dict[str, float]
    scale: dict[str, float]
    models: dict[str, Any]
    label_maps: dict[str, dict[int, int]]
    names: dict[str, dict[int, str]]
    projection: pd.DataFrame
    explained_variance: tuple[float, float]
    n_total: int
    n_clustered: int
    n_fit: int
    random_state: int | None
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def n_clusters(self) -> int:
        """k of the chosen method."""
        return int(self.k[self.method])

    def stability_mean(self, method: str | None = None) -> float:
        """Mean bootstrap ARI of a method (default: the chosen one); NaN without bootstrap."""
        s = self.stability[self.stability["method"] == (method or self.method)]["ari"]
        return float(s.mean()) if len(s) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Per customer: ``customer_id``, ``cluster``, ``cluster_name``, ``cluster_<method>``."""
        return self.labels.copy()

    def segments(self) -> pd.Series:
        """Cluster name per customer, indexed by ``customer_id`` (missing when not clustered)."""
        return self.labels.set_index("customer_id")["cluster_name"].rename("segment")

    def summary(self) -> pd.DataFrame:
        """Cluster profiles: size, share, revenue share, feature means and SMDs; the cluster name
        in the run's language (:func:`cluster_label`; :attr:`profiles` keeps the code)."""
        out = self.profiles.copy()
        out["cluster_name"] = out["cluster_name"].map(cluster_label)
        return out

    def predict(self, features: pd.DataFrame, *, method: str | None = None) -> pd.Series:
        """Assign customers of another feature table to these clusters.

        Parameters
        ----------
        features : pandas.DataFrame
            Features with ``customer_id`` and the clustering features.
        method : str, optional
            Fitted method to use (default: the chosen one).

        Returns
        -------
        pandas.Series
            Cluster number (Int64) indexed by ``customer_id``; missing where a feature is missing.
        """
        method = method or self.method
        need_columns(features, ["customer_id", *self.features], what="cluster assignment",
                      key="features=")
        X, ok = _transform(features, self.features, self.logged, self.center, self.scale)
        out = pd.array(np.zeros(len(features), dtype=np.int64), dtype="Int64")
        out[~ok] = pd.NA
        if ok.any():
            raw = self.models[method].predict(X[ok])
            out[ok] = np.vectorize(self.label_maps[method].get)(raw)
        return pd.Series(out, index=features["customer_id"].to_numpy(), name="cluster")

    def metrics(self) -> dict[str, Any]:
        """Chosen method and k, silhouettes, stability, cluster sizes (JSON-able)."""
        return {
            "method": self.method,
            "k": {m: int(v) for m, v in self.k.items()},
            "silhouette": {m: num(v) for m, v in self.silhouette.items()},
            "stability_ari": {m: num(self.stability_mean(m)) for m in self.k},
            "features": list(self.features),
            "logged": list(self.logged),
            "n_total": int(self.n_total),
            "n_clustered": int(self.n_clustered),
            "n_fit": int(self.n_fit),
            "random_state": self.random_state,
            "clusters": {
                str(row.cluster_name): {"customers": int(row.customers), "share": num(row.share),
                                        "revenue_share": num(row.revenue_share)}
                for row in self.profiles.itertuples()
            },
        }

    def finding(self) -> str:
        """What the clusters are and how much to trust them."""
        p = self.profiles
        stab = self.stability_mean()
        text = t("segmentation.cluster.head", k=self.n_clusters, method=category("cluster_method", self.method),
                 silhouette=f"{self.silhouette[self.method]:.2f}",
                 stability=t("segmentation.cluster.stability", ari=f"{stab:.2f}") if math.isfinite(stab) else "")
        big = p.iloc[p["customers"].argmax()]
        text += t("segmentation.cluster.big", name=cluster_label(big.cluster_name), share=pct(big.share, 0),
                  revenue_share=pct(big.revenue_share, 0))
        if p["revenue_share"].notna().any():
            rich = p.iloc[p["revenue_share"].fillna(-1).argmax()]
            if rich.cluster != big.cluster:
                text += t("segmentation.cluster.rich", name=cluster_label(rich.cluster_name), share=pct(rich.share, 0),
                          revenue_share=pct(rich.revenue_share, 0))
        if math.isfinite(stab) and stab < 0.6:
            text += t("segmentation.cluster.unstable")
        elif self.silhouette[self.method] < 0.25:
            text += t("segmentation.cluster.overlap")
        return text.strip()

    def plot(self, ax: Any = None) -> Any:
        """2-D PCA projection of a seeded sample, coloured by cluster.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        ax = new_axes(ax, figsize=(7, 5))
        pr = self.projection.assign(cluster_name=self.projection["cluster_name"].map(cluster_label))
        order = [cluster_label(x) for x in self.profiles["cluster_name"]]
        sns.scatterplot(data=pr, x="pc1", y="pc2", hue="cluster_name", hue_order=order, s=8, alpha=0.5,
                        linewidth=0, ax=ax)
        ev = self.explained_variance
        ax.set_xlabel(t("segmentation.cluster.pc1", share=f"{ev[0]:.0%}"))
        ax.set_ylabel(t("segmentation.cluster.pc2", share=f"{ev[1]:.0%}"))
        ax.set_title(t("segmentation.cluster.title", method=category("cluster_method", self.method), k=self.n_clusters))
        ax.legend(title=t("segmentation.cluster.legend"), fontsize=7, title_fontsize=8, markerscale=2, loc="best")
        return ax

    def plot_k_selection(self) -> Any:
        """Silhouette (both methods) and BIC (GMM) against k, chosen k marked.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import matplotlib.pyplot as plt
        import seaborn as sns

        fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
        sel = self.selection.assign(method=self.selection["method"].map(lambda v: category("cluster_method", v)))
        sns.lineplot(data=sel, x="k", y="silhouette", hue="method", marker="o", ax=axes[0])
        if axes[0].get_legend() is not None:
            axes[0].get_legend().set_title(t("segmentation.cluster.method"))
        axes[0].set_title(t("segmentation.cluster.silhouette_title"))
        g = sel[self.selection["method"] == "gmm"]
        if len(g):
            sns.lineplot(data=g, x="k", y="bic", marker="o", ax=axes[1], color=sns.color_palette()[1])
            axes[1].axvline(self.k["gmm"], color="grey", ls=":")
        else:
            axes[1].text(0.5, 0.5, t("segmentation.cluster.no_gmm"), ha="center", va="center",
                         transform=axes[1].transAxes)
        axes[1].set_title(t("segmentation.cluster.bic_title"))
        if "kmeans" in self.k:
            axes[0].axvline(self.k["kmeans"], color="grey", ls=":")
        for a in axes:
            a.xaxis.get_major_locator().set_params(integer=True)
        fig.tight_layout()
        return fig

    def plot_profiles(self, ax: Any = None) -> Any:
        """Heatmap of standardized mean differences (cluster x feature).

        Returns
        -------
        matplotlib.axes.Axes
        """
        import seaborn as sns

        smd = self.summary().set_index("cluster_name")[[f"smd_{c}" for c in self.features]]
        smd.columns = [feature_text(c) for c in self.features]
        ax = new_axes(ax, figsize=(1.3 * len(self.features) + 3, 0.5 * len(smd) + 1.5))
        sns.heatmap(smd, annot=True, fmt=".2f", cmap="RdBu_r", center=0, ax=ax, annot_kws={"fontsize": 7})
        ax.set_ylabel("")
        ax.set_title(t("segmentation.cluster.smd_title"))
        return ax

    def __repr__(self) -> str:
        return (
            f"ClusterResult(method={self.method!r}, k={self.n_clusters}, customers={self.n_clustered:,}, "
            f"silhouette={self.silhouette[self.method]:.3f}, stability={self.stability_mean():.2f})"
        )


def _transform(
    features: pd.DataFrame,
    cols: Sequence[str],
    logged: Sequence[str],
    center: Mapping[str, float],
    scale: Mapping[str, float],
) -> tuple[np.ndarray, np.ndarray]:
    X = np.column_stack([pd.to_numeric(features[c], errors="coerce").to_numpy(dtype=float) for c in cols])
    ok = np.isfinite(X).all(axis=1)
    for j, c in enumerate(cols):
        if c in logged:
            X[:, j] = np.log1p(np.clip(X[:, j], 0, None))
        X[:, j] = (X[:, j] - center[c]) / scale[c]
    return X, ok


def _cluster_name(smd: pd.Series, used: set[str]) -> str:
    order = smd.abs().sort_values(ascending=False, kind="stable").index
    parts = [f"{'high' if smd[c] > 0 else 'low'} {c}" for c in order[:2]]
    name = " · ".join(parts)
    i = 2
    while name in used and i < len(order):  # add the next feature until unique
        c = order[i]
        name += f" · {'high' if smd[c] > 0 else 'low'} {c}"
        i += 1
    base, j = name, 2
    while name in used:
        name = f"{base} ({j})"
        j += 1
    return name


def cluster_customers(
    data: pd.DataFrame,
    *,
    features: Sequence[str] = ("recency_days", "n_orders", "monetary_mean"),
    log_transform: Literal["auto", "none", "all"] = "auto",
    methods: Sequence[Literal["kmeans", "gmm"]] = ("kmeans", "gmm"),
    k_min: int = 2,
    k_max: int = 8,
    k: int | None = None,
    silhouette_sample: int = 10_000,
    bootstrap: int = 20,
    random_state: int | None,
    fit_sample: int = 200_000,
    buyers_only: bool = False,
) -> ClusterResult:
    """Cluster customers on their features with k-means and a Gaussian mixture.

    Steps: select ``features`` (of the buyers only with ``buyers_only``); leave out rows with a
    missing or infinite value (warned, cluster missing); log1p features that are non-negative and skewed (``|skew| > 1``) when
    ``log_transform="auto"`` (``"all"``: every non-negative feature; ``"none"``); standardize
    (mean 0, sd 1 over the clustered rows). For each k in ``k_min..k_max`` (only ``k``
    when given) fit KMeans (``n_init=10``) and a full-covariance GaussianMixture (variance floor
    :data:`GMM_REG_COVAR`) on a seeded sample of at most ``fit_sample`` rows, silhouette on a
    seeded sample of ``silhouette_sample`` of those, BIC for the mixture. k-means takes the
    k with the best silhouette, the mixture the lowest BIC. The chosen method is the one whose
    chosen solution has the higher silhouette (ties: order of ``methods``). All rows are
    then assigned by the fitted models; clusters are numbered 1..k by size.

    Speed: the silhouettes of all fits come from one pass over the sample's distances, and fits on
    fewer than :data:`~workbench.data.threads.SINGLE_THREAD_ROWS` rows run with one OpenMP and one
    BLAS thread (the same models; two threads per pool on busy cores made the example 7-35x slower).

    Stability: ``bootstrap`` resamples (with replacement) of a seeded base sample of at
    most :data:`STABILITY_SAMPLE` rows; each is refit at the chosen k and its labels on the
    original base points are compared with the chosen solution's by the adjusted Rand index.

    Profiles: per cluster size, share, revenue share (``monetary_sum`` when present), each
    feature's mean and standardized mean difference (mean of the standardized, transformed
    feature; 0 = like the base). The name joins the two most distinctive features
    (largest ``|SMD|``), e.g. ``"high monetary_mean · low recency_days"``.

    Parameters
    ----------
    data : pandas.DataFrame
        Customer features (``customer_id`` and the clustering features), usually buyers only.
    features : sequence of str, default ("recency_days", "n_orders", "monetary_mean")
        Clustering features (``analyses.segmentation.clustering.features``).
    log_transform : {'auto', 'none', 'all'}, default 'auto'
        Which non-negative features get log1p (``auto``: the skewed ones).
    methods : sequence of {'kmeans', 'gmm'}, default ('kmeans', 'gmm')
    k_min, k_max : int, default 2, 8
        Range of k searched.
    k : int, optional
        Fix k instead of searching.
    silhouette_sample : int, default 10_000
        Rows on which silhouettes are computed.
    bootstrap : int, default 20
        Bootstrap resamples for stability (0: none).
    random_state : int or None
        Seed of every sample and fit (the params ``seed``).
    fit_sample : int, default 200_000
        Rows used for the k search; larger bases are assigned with the fitted models.
    buyers_only : bool, default False
        Cluster only customers with ``n_orders > 0`` (the others are left out of the result).

    Returns
    -------
    ClusterResult

    Raises
    ------
    AnalysisError
        Missing or non-numeric features, a constant feature, ``k_min > k_max``, or fewer
        complete rows than needed (all naming the params key).

    Warns
    -----
    StatisticalWarning
        Rows left out for missing values; models that did not converge.
    """
    t_start = time.perf_counter()
    seconds: dict[str, float] = {}
    if buyers_only:
        need_columns(data, ["n_orders"], what="clustering of buyers")
        data = data[data["n_orders"] > 0]
    cols, methods, ks = _step_options(data, features=features, methods=methods, k_min=k_min, k_max=k_max, k=k)
    mx = _step_matrix(data, cols, log_transform=log_transform, need=max(max(ks) + 1, 10))
    seeds = seed_ints(random_state, 6)
    rng_fit, rng_sil, rng_boot, rng_proj = (np.random.default_rng(s) for s in seeds[:4])
    model_seed = seeds[4]
    X = mx.X
    Xf, Xs = _step_samples(X, rng_fit, rng_sil, fit_sample=int(fit_sample), silhouette_sample=int(silhouette_sample))
    seconds["prepare"] = time.perf_counter() - t_start

    notes: list[str] = []
    # One OpenMP and one BLAS thread on small data (each fit also limits itself by its own rows):
    # the same models, without threads waiting on each other when the cores are busy (a busy
    # 2-core machine took 14-70 s on the 4,033 example customers with two threads, 2 s with one).
    _make_model(methods[0], ks[0], model_seed)  # loads the libraries to limit
    with limit_threads(len(Xf), user_api=None):
        selection, fitted = _step_k_search(methods, ks, Xf, Xs, model_seed, notes, seconds)
        chosen_k, sil_chosen, best = _step_choose(selection, methods, ks)

        t0 = time.perf_counter()
        models = {m: fitted[(m, chosen_k[m])] for m in methods}
        label_maps, assigned = _step_assign(models, chosen_k, X)
        seconds["assign"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        names, profiles_by = _step_profiles(data, mx, cols, assigned)
        labels = _step_labels(data["customer_id"].to_numpy(), mx.ok, methods, assigned, names, best, chosen_k[best])
        seconds["profiles"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        stability = _step_stability(models, chosen_k, Xf, rng_boot, seeds[5], int(bootstrap), notes)
        seconds["bootstrap"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        projection, evr = _step_projection(X, Xf, assigned[best], names[best], rng_proj, model_seed, len(cols))
        seconds["projection"] = time.perf_counter() - t0
    seconds["total"] = time.perf_counter() - t_start
    _warn_not_converged(notes)
    return ClusterResult(
        labels=labels,
        profiles=profiles_by[best],
        selection=selection,
        method=best,
        k=chosen_k,
        silhouette=sil_chosen,
        stability=stability,
        features=tuple(cols),
        logged=tuple(mx.logged),
        center={c: float(mx.center[j]) for j, c in enumerate(cols)},
        scale={c: float(mx.scale[j]) for j, c in enumerate(cols)},
        models=models,
        label_maps=label_maps,
        names=names,
        projection=projection,
        explained_variance=evr,
        n_total=len(data),
        n_clustered=len(X),
        n_fit=len(Xf),
        random_state=random_state,
        notes=tuple(dict.fromkeys(notes)),
        seconds=seconds,
    )


def _warn_not_converged(notes: Sequence[str]) -> None:
    """One StatisticalWarning for all fits that did not converge."""
    if notes:
        warnings.warn(
            t("segmentation.cluster.not_converged", n=len(notes), example=notes[0]),
            StatisticalWarning,
            stacklevel=3,
        )


def _step_options(
    data: pd.DataFrame, *, features: Sequence[str], methods: Sequence[str], k_min: int, k_max: int, k: int | None
) -> tuple[list[str], list[str], list[int]]:
    """Check the options against the table; return the feature columns, methods and the k to try."""
    cols = list(dict.fromkeys(features))
    key = "features="
    if not cols:
        raise AnalysisError(f"no clustering features given; fix {key}")
    need_columns(data, ["customer_id", *cols], what="clustering", key=key)
    non_num = [c for c in cols if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
    if non_num:
        raise AnalysisError(
            f"clustering features must be numeric; {', '.join(non_num)} are not "
            f"({', '.join(str(data[c].dtype) for c in non_num)}); fix {key}"
        )
    methods = list(dict.fromkeys(methods))
    if not methods:
        raise AnalysisError("no clustering method; fix methods= (kmeans, gmm)")
    if k is None and k_min > k_max:
        raise AnalysisError(f"k_min ({k_min}) is larger than k_max ({k_max}); fix k_max=")
    ks = [int(k)] if k is not None else list(range(k_min, k_max + 1))
    return cols, methods, ks


def _step_samples(
    X: np.ndarray, rng_fit: np.random.Generator, rng_sil: np.random.Generator, *, fit_sample: int,
    silhouette_sample: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded rows of the k search (at most ``fit_sample``) and, of those, of the silhouettes."""
    n_ok = len(X)
    Xf = X[np.sort(rng_fit.choice(n_ok, size=fit_sample, replace=False))] if n_ok > fit_sample else X
    n_fit = len(Xf)
    sil_idx = np.sort(rng_sil.choice(n_fit, size=min(silhouette_sample, n_fit), replace=False))
    return Xf, Xf[sil_idx]


@dataclass(frozen=True)
class _Matrix:
    """The clustered rows: ``ok`` marks complete rows of the input, ``Xr`` their raw values,
    ``X`` the transformed and standardized ones."""

    ok: np.ndarray
    Xr: np.ndarray
    X: np.ndarray
    logged: list[str]
    center: np.ndarray
    scale: np.ndarray


def _step_matrix(data: pd.DataFrame, cols: list[str], *, log_transform: str, need: int) -> _Matrix:
    """Complete rows (others warned about), log1p of skewed features, standardization."""
    key = "features="
    raw = np.column_stack([pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float) for c in cols])
    ok = np.isfinite(raw).all(axis=1)
    n_total, n_ok = len(data), int(ok.sum())
    if n_ok < n_total:
        miss = {c: int((~np.isfinite(raw[:, j])).sum()) for j, c in enumerate(cols)}
        miss_s = ", ".join(f"{c}: {v:,}" for c, v in miss.items() if v)
        warnings.warn(
            t("segmentation.cluster.left_out", n=count(n_total - n_ok), total=count(n_total), missing=miss_s),
            StatisticalWarning,
            stacklevel=3,
        )
    if n_ok < need:
        raise AnalysisError(
            f"clustering needs at least {need} customers with complete features; got {n_ok:,} of {n_total:,}; "
            f"fix {key} or k_max="
        )
    Xr = raw[ok]
    logged: list[str] = []
    for j, c in enumerate(cols):
        col = Xr[:, j]
        nonneg = bool(col.min() >= 0)
        if log_transform == "all" and nonneg:
            logged.append(c)
        elif log_transform == "auto" and nonneg and abs(float(pd.Series(col).skew())) > 1:
            logged.append(c)
    X = Xr.copy()
    for j, c in enumerate(cols):
        if c in logged:
            X[:, j] = np.log1p(X[:, j])
    center = X.mean(axis=0)
    scale = X.std(axis=0)
    const = [c for j, c in enumerate(cols) if not scale[j] > 1e-12]
    if const:
        raise AnalysisError(f"clustering feature(s) {', '.join(const)} are constant over the customers; fix {key}")
    return _Matrix(ok=ok, Xr=Xr, X=(X - center) / scale, logged=logged, center=center, scale=scale)


def _step_k_search(
    methods: list[str],
    ks: list[int],
    Xf: np.ndarray,
    Xs: np.ndarray,
    model_seed: int,
    notes: list[str],
    seconds: dict[str, float],
) -> tuple[pd.DataFrame, dict[tuple[str, int], Any]]:
    """Fit every method at every k; silhouette on the sample ``Xs`` (all fits in one pass over its
    distances), BIC and inertia."""
    rows = []
    fitted: dict[tuple[str, int], Any] = {}
    on_sample: list[np.ndarray] = []
    t0 = time.perf_counter()
    for method in methods:
        for k in ks:
            model = _fit(method, k, model_seed, Xf, notes)
            fitted[(method, k)] = model
            on_sample.append(model.predict(Xs))
            rows.append(
                {
                    "method": method,
                    "k": k,
                    "bic": float(model.bic(Xf)) if method == "gmm" else np.nan,
                    "inertia": float(model.inertia_) if method == "kmeans" else np.nan,
                }
            )
        seconds[f"k_search_{method}"] = time.perf_counter() - t0
        t0 = time.perf_counter()
    selection = pd.DataFrame(rows)
    selection.insert(2, "silhouette", _silhouettes(Xs, on_sample))
    seconds["silhouette"] = time.perf_counter() - t0
    return selection, fitted


def _silhouettes(X: np.ndarray, labelings: Sequence[np.ndarray]) -> list[float]:
    """Mean silhouette of each labeling of the rows ``X``, in one pass over their distances.

    The same figure as ``sklearn.metrics.silhouette_score(X, labels)`` (to rounding: the sums of
    distances to each cluster come from one matrix product for all labelings instead of a
    ``bincount`` per row and labeling), with the Euclidean distances computed once, in blocks of
    :data:`SILHOUETTE_CHUNK_MB`, instead of once per labeling. Members of a one-customer cluster
    score 0; a labeling with a single cluster (or as many clusters as rows) gets NaN.

    Parameters
    ----------
    X : numpy.ndarray
        Rows (n x features).
    labelings : sequence of numpy.ndarray
        Cluster labels of the n rows, one array per fitted model.

    Returns
    -------
    list of float
    """
    from sklearn.metrics import pairwise_distances_chunked

    n = len(X)
    codes, sizes, offsets = [], [], [0]
    for lab in labelings:
        _, code = np.unique(np.asarray(lab), return_inverse=True)
        codes.append(code.ravel())
        sizes.append(np.bincount(code.ravel()).astype(float))
        offsets.append(offsets[-1] + len(sizes[-1]))
    onehot = np.zeros((n, offsets[-1]))
    rows = np.arange(n)
    for code, off in zip(codes, offsets, strict=False):
        onehot[rows, off + code] = 1.0
    sums = np.empty((n, offsets[-1]))  # distance of each row to all members of each cluster
    start = 0
    for block in pairwise_distances_chunked(X, working_memory=SILHOUETTE_CHUNK_MB):
        sums[start : start + len(block)] = block @ onehot
        start += len(block)
    out: list[float] = []
    for code, size, off in zip(codes, sizes, offsets, strict=False):
        if not 2 <= len(size) <= n - 1:
            out.append(float("nan"))
            continue
        dist = sums[:, off : off + len(size)].copy()
        own = (rows, code)
        with np.errstate(divide="ignore", invalid="ignore"):
            intra = dist[own] / (size - 1)[code]
            dist[own] = np.inf
            inter = (dist / size).min(axis=1)
            sil = (inter - intra) / np.maximum(intra, inter)
        out.append(float(np.mean(np.nan_to_num(sil))))
    return out


def _step_choose(
    selection: pd.DataFrame, methods: list[str], ks: list[int]
) -> tuple[dict[str, int], dict[str, float], str]:
    """k per method (k-means: best silhouette, GMM: lowest BIC) and the method with the better silhouette.

    Marks the chosen rows in ``selection`` (column ``chosen``).
    """
    chosen_k: dict[str, int] = {}
    for method in methods:
        sel = selection[selection["method"] == method]
        if len(ks) == 1:
            chosen_k[method] = ks[0]
        elif method == "kmeans":
            chosen_k[method] = int(sel.loc[sel["silhouette"].fillna(-2).idxmax(), "k"])
        else:
            chosen_k[method] = int(sel.loc[sel["bic"].idxmin(), "k"])
    selection["chosen"] = [chosen_k[m] == k for m, k in zip(selection["method"], selection["k"], strict=True)]
    sil_chosen = {
        m: float(selection.loc[(selection["method"] == m) & (selection["k"] == chosen_k[m]), "silhouette"].iloc[0])
        for m in methods
    }
    best = max(methods, key=lambda m: (np.nan_to_num(sil_chosen[m], nan=-2.0), -methods.index(m)))
    return chosen_k, sil_chosen, best


def _step_assign(
    models: dict[str, Any], chosen_k: dict[str, int], X: np.ndarray
) -> tuple[dict[str, dict[int, int]], dict[str, np.ndarray]]:
    """Assign every clustered row with each method's chosen model; clusters numbered 1..k by size."""
    label_maps: dict[str, dict[int, int]] = {}
    assigned: dict[str, np.ndarray] = {}
    for m, model in models.items():
        lab = model.predict(X)
        counts = np.bincount(lab, minlength=chosen_k[m])
        order = np.lexsort((np.arange(len(counts)), -counts))
        lmap = {int(old): int(new) for new, old in enumerate(order, start=1)}
        label_maps[m] = lmap
        assigned[m] = np.vectorize(lmap.get, otypes=[np.int64])(lab)
    return label_maps, assigned


def _step_profiles(
    data: pd.DataFrame, mx: _Matrix, cols: list[str], assigned: dict[str, np.ndarray]
) -> tuple[dict[str, dict[int, str]], dict[str, pd.DataFrame]]:
    """Per method: cluster sizes, shares, revenue share, feature means and SMDs, and names."""
    revenue = (
        pd.to_numeric(data["monetary_sum"], errors="coerce").to_numpy(dtype=float)[mx.ok]
        if "monetary_sum" in data.columns
        else None
    )
    n_ok = len(mx.X)
    names: dict[str, dict[int, str]] = {}
    profiles_by: dict[str, pd.DataFrame] = {}
    for m, num_ in assigned.items():
        df = pd.DataFrame(mx.Xr, columns=[f"mean_{c}" for c in cols])
        for j, c in enumerate(cols):
            df[f"smd_{c}"] = mx.X[:, j]
        df["cluster"] = num_
        g = df.groupby("cluster")
        prof = g.mean()
        prof.insert(0, "customers", g.size())
        prof.insert(1, "share", prof["customers"] / n_ok)
        if revenue is not None and np.nansum(revenue) > 0:
            rev = pd.Series(revenue).groupby(num_).sum()
            prof.insert(2, "revenue_share", rev.reindex(prof.index).to_numpy() / np.nansum(revenue))
        else:
            prof.insert(2, "revenue_share", np.nan)
        used: set[str] = set()
        nm: dict[int, str] = {}
        for cl in prof.index:
            smd = pd.Series({c: prof.loc[cl, f"smd_{c}"] for c in cols})
            nm[int(cl)] = _cluster_name(smd, used)
            used.add(nm[int(cl)])
        names[m] = nm
        prof.insert(0, "cluster_name", [nm[int(c)] for c in prof.index])
        profiles_by[m] = prof.reset_index()
    return names, profiles_by


def _step_labels(
    ids: np.ndarray,
    ok: np.ndarray,
    methods: list[str],
    assigned: dict[str, np.ndarray],
    names: dict[str, dict[int, str]],
    best: str,
    k_best: int,
) -> pd.DataFrame:
    """Per input row: ``customer_id``, ``cluster`` and ``cluster_name`` (chosen method), ``cluster_<method>``."""
    n_total = len(ids)
    labels = pd.DataFrame({"customer_id": ids})
    for m in methods:
        col = pd.array(np.zeros(n_total, dtype=np.int64), dtype="Int64")
        col[ok] = assigned[m]
        col[~ok] = pd.NA
        labels[f"cluster_{m}"] = col
    labels["cluster"] = labels[f"cluster_{best}"]
    cname = np.full(n_total, None, dtype=object)
    cname[ok] = np.array([names[best][int(c)] for c in range(1, k_best + 1)], dtype=object)[assigned[best] - 1]
    labels["cluster_name"] = pd.Categorical(cname, categories=[names[best][c] for c in sorted(names[best])])
    return labels[["customer_id", "cluster", "cluster_name", *[f"cluster_{m}" for m in methods]]]


def _step_stability(
    models: dict[str, Any],
    chosen_k: dict[str, int],
    Xf: np.ndarray,
    rng_boot: np.random.Generator,
    boot_seed: int,
    bootstrap: int,
    notes: list[str],
) -> pd.DataFrame:
    """Bootstrap ARI per method: refit on resamples of a seeded base sample, compare labels."""
    stab_rows = []
    if bootstrap > 0:
        from sklearn.metrics import adjusted_rand_score

        n_fit = len(Xf)
        base_idx = np.sort(rng_boot.choice(n_fit, size=min(STABILITY_SAMPLE, n_fit), replace=False))
        Xb = Xf[base_idx]
        boot_seeds = seed_ints(boot_seed, bootstrap)
        for m, model in models.items():
            ref = model.predict(Xb)
            for i, s in enumerate(boot_seeds):
                rs = np.random.default_rng(s)
                idx = rs.integers(0, len(Xb), len(Xb))
                mb = _fit(m, chosen_k[m], s, Xb[idx], notes)
                stab_rows.append({"method": m, "draw": i + 1, "ari": float(adjusted_rand_score(ref, mb.predict(Xb)))})
    return pd.DataFrame(stab_rows, columns=["method", "draw", "ari"])


def _step_projection(
    X: np.ndarray,
    Xf: np.ndarray,
    labels: np.ndarray,
    names: dict[int, str],
    rng_proj: np.random.Generator,
    model_seed: int,
    n_features: int,
) -> tuple[pd.DataFrame, tuple[float, float]]:
    """PCA (fitted on the k-search rows) of a seeded sample, for the projection plot."""
    from sklearn.decomposition import PCA

    n_ok = len(X)
    pca = PCA(n_components=min(2, n_features), random_state=model_seed).fit(Xf)
    p_idx = np.sort(rng_proj.choice(n_ok, size=min(PROJECTION_SAMPLE, n_ok), replace=False))
    pcs = pca.transform(X[p_idx])
    if pcs.shape[1] == 1:
        pcs = np.column_stack([pcs[:, 0], np.zeros(len(pcs))])
    evr = list(pca.explained_variance_ratio_) + [0.0] * (2 - pca.n_components_)
    lab_p = labels[p_idx]
    projection = pd.DataFrame(
        {"pc1": pcs[:, 0], "pc2": pcs[:, 1], "cluster": lab_p, "cluster_name": [names[int(c)] for c in lab_p]}
    )
    return projection, (float(evr[0]), float(evr[1]))
