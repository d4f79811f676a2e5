"""Agreement of the clusters with the generator's true segments (synthetic data only)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.report import fmt
from workbench.report.fmt import num
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.segmentation.clustering import ClusterResult, adjusted_rand

__all__ = ["TruthAgreement", "truth_agreement"]


@dataclass(frozen=True, eq=False, repr=False)
class TruthAgreement(Result):
    """Adjusted Rand index between the chosen clusters and the true segments (see :func:`truth_agreement`).

    Attributes
    ----------
    ari : float or None
        Adjusted Rand index; ``None`` without ground truth.
    n : int
        Customers compared (in both the clusters and the truth).
    n_segments : int
        True segments in the ground truth (0 without it).
    """

    ari: float | None
    n: int
    n_segments: int = 0

    @property
    def has_truth(self) -> bool:
        """Whether a ground truth was compared."""
        return self.ari is not None

    def summary(self) -> pd.DataFrame:
        """One row: ``true_segments``, ``customers``, ``ari``."""
        return pd.DataFrame({"true_segments": [self.n_segments], "customers": [self.n], "ari": [num(self.ari)]})

    def metrics(self) -> dict[str, Any]:
        """``ari``, ``n`` and the finding as ``text`` (the keys the run recorded under ``truth``;
        the text in English, metrics being language-neutral)."""
        with fmt.use(language="en"):
            text = self.finding()
        return {"ari": self.ari, "n": int(self.n), "text": text}

    def finding(self) -> str:
        """The agreement in words, or that there is nothing to compare with."""
        if self.ari is None:
            return t("segmentation.truth.none")
        return t("segmentation.truth.finding", segments=self.n_segments, ari=f"{self.ari:.2f}", n=fmt.count(self.n))

    def plot(self, ax: Any = None) -> Any:
        """The ARI as one bar on the 0..1 scale (an empty chart without ground truth).

        Returns
        -------
        matplotlib.axes.Axes
        """
        ax = new_axes(ax, figsize=(5, 1.6))
        ax.barh(["ARI"], [self.ari if self.ari is not None else 0.0])
        ax.set_xlim(min(0.0, self.ari or 0.0), 1)
        ax.set_title(t("segmentation.truth.title") if self.has_truth else t("segmentation.truth.title_none"))
        return ax

    def __repr__(self) -> str:
        ari = "None" if self.ari is None else f"{self.ari:.3f}"
        return f"TruthAgreement(ari={ari}, customers={self.n:,}, true_segments={self.n_segments})"


def truth_agreement(clusters: ClusterResult, *, ground_truth: str | Path | None) -> TruthAgreement:
    """Agreement of the clusters with known true segments (synthetic data only).

    Parameters
    ----------
    clusters : ClusterResult
    ground_truth : path or None
        ``truth_customers.parquet`` with ``customer_id`` and ``segment`` (params ``ground_truth``).

    Returns
    -------
    TruthAgreement
        ``ari`` (adjusted Rand index on the customers in both, or None without ground truth) and ``n``.
    """
    if ground_truth is None:
        return TruthAgreement(ari=None, n=0)
    truth = pd.read_parquet(ground_truth, columns=["customer_id", "segment"]).set_index("customer_id")["segment"]
    labels = clusters.labels.set_index("customer_id")["cluster"]
    common = labels.index.intersection(truth.index)
    ari = adjusted_rand(labels.loc[common], truth.loc[common])
    return TruthAgreement(ari=ari, n=int(len(common)), n_segments=int(truth.nunique()))
