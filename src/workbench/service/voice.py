"""Sentiment of what customers write, with a confidence, by topic, channel and source."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import DataQualityWarning
from workbench.core.privacy import mask_in_text
from workbench.report.fmt import count, interval, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.service.sentiment import score_sentiment
from workbench.stats import wilson_interval

__all__ = ["SentimentResult", "text_sentiment", "quotes"]

_LABELS = ("negative", "neutral", "positive")


def quotes(texts: pd.Series, *, n: int = 5, max_chars: int = 120) -> list[str]:
    """Up to ``n`` distinct example texts for a report, personal data masked inside them
    (:func:`workbench.core.privacy.mask_in_text`, again: intake already did), cut to ``max_chars``."""
    s = texts.dropna().astype(str).drop_duplicates().head(n)
    masked = mask_in_text(s).astype(str)
    return [m if len(m) <= max_chars else m[: max_chars - 1] + "…" for m in masked]


@dataclass(frozen=True, eq=False, repr=False)
class SentimentResult(Result):
    """Sentiment of each text and the split by group (see :func:`text_sentiment`).

    Attributes
    ----------
    scores : pandas.DataFrame
        Per text (the texts frame's index): ``source``, ``item_id``, ``customer_id``, ``time``,
        ``channel``, ``topic``, ``language``, ``p_positive``, ``sentiment``, ``confidence``,
        ``scorer``.
    table : pandas.DataFrame
        ``dimension`` (all/source/topic/channel), ``level``, ``n``, ``negative``, ``neutral``,
        ``positive`` shares, ``negative_low``/``negative_high`` (Wilson), ``mean_confidence``.
    examples : dict of str to list of str
        Masked example texts per label (the most confident).
    """

    scores: pd.DataFrame
    table: pd.DataFrame
    examples: dict[str, list[str]]

    def by(self, dimension: str) -> pd.DataFrame:
        return self.table[self.table["dimension"] == dimension].reset_index(drop=True)

    def table_by(self, dimension: str) -> pd.DataFrame:
        """Rows of one dimension for display (``channel``, ``source``, ``topic``), shares named as such."""
        out = self.by(dimension).drop(columns=["dimension"])
        out["level"] = [category("service_level", v) for v in out["level"]]
        names = {"level": {"topic": "text_topic"}.get(dimension, dimension), "negative": "negative_share",
                 "negative_low": "negative_share_low", "negative_high": "negative_share_high",
                 "neutral": "neutral_share", "positive": "positive_share"}
        return out.rename(columns=names)

    def summary(self) -> pd.DataFrame:
        out = self.table[self.table["dimension"].isin(["all", "topic"])].drop(columns=["dimension"]).reset_index(drop=True)
        out["level"] = [category("service_level", v) for v in out["level"]]
        names = {"level": "text_topic", "negative": "negative_share", "negative_low": "negative_share_low",
                 "negative_high": "negative_share_high", "neutral": "neutral_share", "positive": "positive_share"}
        return out.rename(columns=names)

    def to_frame(self) -> pd.DataFrame:
        return self.scores

    def metrics(self) -> dict[str, Any]:
        a = self.table[self.table["dimension"] == "all"].iloc[0]
        return {
            "n": int(a["n"]), **{f"{k}_share": num(a[k]) for k in _LABELS},
            "mean_confidence": num(a["mean_confidence"]),
            "by_scorer": {str(k): int(v) for k, v in self.scores["scorer"].value_counts().items()},
            "negative_by_topic": {str(r["level"]): num(r["negative"]) for _, r in self.by("topic").iterrows()},
            "negative_by_channel": {str(r["level"]): num(r["negative"]) for _, r in self.by("channel").iterrows()},
        }  # fmt: skip

    def finding(self) -> str:
        a = self.table[self.table["dimension"] == "all"].iloc[0]
        topics = self.by("topic").sort_values("negative", ascending=False)
        worst = topics.iloc[0] if len(topics) else a
        return t(
            "service.sentiment.finding", n=count(a["n"]),
            negative=interval(a["negative"], a["negative_low"], a["negative_high"]), positive=pct(a["positive"]),
            topic=category("service_level", worst["level"]),
            topic_negative=interval(worst["negative"], worst["negative_low"], worst["negative_high"]),
        )  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        d = self.by("topic").sort_values("negative")
        ax = new_axes(ax, figsize=(8, 0.5 * len(d) + 1.5))
        left = np.zeros(len(d))
        colors = {"negative": "#C44E52", "neutral": "#BBBBBB", "positive": "#55A868"}
        labels = [category("service_level", v) for v in d["level"]]
        for k in _LABELS:
            ax.barh(labels, d[k], left=left, color=colors[k], label=t(f"service.sentiment.label.{k}"))
            left += d[k].to_numpy()
        ax.xaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_xlim(0, 1)
        ax.legend(loc="lower right")
        ax.set_xlabel(t("service.sentiment.share"))
        ax.set_title(t("service.sentiment.title"))
        return ax

    def __repr__(self) -> str:
        return f"SentimentResult(texts={len(self.scores):,})"


def _split(d: pd.DataFrame, dimension: str, key: pd.Series | None, confidence: float) -> list[dict[str, Any]]:
    groups = [("all", d)] if key is None else list(d.groupby(key, sort=True))
    rows = []
    for level, g in groups:
        n = len(g)
        r: dict[str, Any] = {"dimension": dimension, "level": str(level), "n": n}
        for k in _LABELS:
            r[k] = float((g["sentiment"] == k).mean()) if n else np.nan
        lo, hi = wilson_interval(int((g["sentiment"] == "negative").sum()), n, confidence=confidence)
        r["negative_low"], r["negative_high"] = float(lo[0]), float(hi[0])
        r["mean_confidence"] = float(g["confidence"].mean())
        rows.append(r)
    return rows


def text_sentiment(
    texts: pd.DataFrame,
    *,
    topics: pd.Series | None = None,
    neutral_band: float = 0.15,
    confidence: float = 0.95,
    n_examples: int = 3,
) -> SentimentResult:
    """Score every text (Chinese model or VADER) and split by source, topic and channel.

    Parameters
    ----------
    texts : pandas.DataFrame
        :func:`~workbench.service.text.collect_texts` output.
    topics : pandas.Series, optional
        ``TextTopics.assignment`` (same index).
    neutral_band : float, default 0.15
        Probabilities of positive within this of 0.5 are neutral.
    confidence : float, default 0.95
    n_examples : int, default 3
        Masked example texts kept per label.
    """
    s = score_sentiment(texts["clean"], prepared=texts, neutral_band=neutral_band)
    d = texts[["source", "item_id", "customer_id", "time", "channel"]].copy()
    d["topic"] = topics.reindex(texts.index).to_numpy() if topics is not None else "(all)"
    d = pd.concat([d, s], axis=1)
    mixed = int((d["language"] == "mixed").sum())
    if mixed:
        warnings.warn(t("service.warn.mixed_texts", n=count(mixed), share=pct(mixed / len(d))), DataQualityWarning,
                      stacklevel=2)  # fmt: skip
    rows = _split(d, "all", None, confidence)
    for dim in ("source", "topic", "channel"):
        rows += _split(d, dim, d[dim], confidence)
    examples = {}
    for k in _LABELS:
        pick = d[d["sentiment"] == k].sort_values("confidence", ascending=False)
        examples[k] = quotes(texts.loc[pick.index, "clean"], n=n_examples)
    return SentimentResult(scores=d, table=pd.DataFrame(rows), examples=examples)
