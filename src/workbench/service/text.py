"""What customers write: the texts of tickets and feedback in one frame, checked, tokenized,
with keywords and topics (TF-IDF and non-negative matrix factorisation, named by top words)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError, DataQualityWarning
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.service.tokens import prepare_texts, topic_tokens

__all__ = ["TextTopics", "collect_texts", "has_text", "text_checks", "text_topics", "NO_TOPIC"]

#: Topic of a text with no known word.
NO_TOPIC = "(none)"


def _source(frame: pd.DataFrame | None, source: str, id_col: str, time_col: str) -> pd.DataFrame | None:
    if frame is None or "text" not in frame.columns:
        return None
    out = pd.DataFrame({
        "source": source, "item_id": frame[id_col].astype(str).to_numpy() if id_col in frame else np.arange(len(frame)).astype(str),
        "customer_id": frame["customer_id"].to_numpy(), "time": pd.to_datetime(frame[time_col], errors="coerce").to_numpy(),
        "channel": frame["channel"].astype("string").fillna("(missing)").to_numpy() if "channel" in frame else "(missing)",
        "text": frame["text"].to_numpy(),
    })  # fmt: skip
    return out


def has_text(*frames: pd.DataFrame | None) -> bool:
    """Whether any of the tables has a ``text`` column with a non-blank value."""
    return any(
        f is not None and "text" in f.columns and f["text"].astype("string").str.strip().fillna("").ne("").any()
        for f in frames
    )


def text_checks(texts: pd.DataFrame) -> dict[str, str]:
    """The counts of :func:`collect_texts` (``attrs["checks"]``), formatted for the setup line."""
    c = texts.attrs.get("checks", {})
    return {"n": count(c.get("n_texts", len(texts))), "empty": count(c.get("n_empty", 0)),
            "long": count(c.get("n_truncated", 0)), "emoji": count(c.get("n_emoji", 0)),
            "mixed": count(c.get("n_mixed", 0))}  # fmt: skip


def collect_texts(
    tickets: pd.DataFrame | None = None,
    feedback: pd.DataFrame | None = None,
    *,
    max_chars: int = 2000,
    as_of: Any = None,
) -> pd.DataFrame:
    """Ticket and feedback texts in one frame, cleaned, with language and tokens.

    Parameters
    ----------
    tickets, feedback : pandas.DataFrame, optional
        Canonical tables with a ``text`` column (personal data already masked at intake).
    max_chars : int, default 2000
        Texts longer than this are cut (a pasted log or a repeated paragraph); a warning says how
        many.
    as_of : date, optional
        Texts written after it are left out.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty text: ``source`` (ticket/feedback), ``item_id``, ``customer_id``,
        ``time``, ``channel``, ``text``, ``clean``, ``language``, ``tokens``, ``truncated``,
        ``has_emoji``. ``attrs["checks"]`` counts empty, long, emoji and mixed-language texts.

    Raises
    ------
    AnalysisError
        No table with a ``text`` column, or every text empty or whitespace.
    """
    parts = [p for p in (_source(tickets, "ticket", "ticket_id", "opened_at"),
                         _source(feedback, "feedback", "feedback_id", "feedback_time")) if p is not None]  # fmt: skip
    if not parts:
        raise AnalysisError(
            "service text: neither tickets nor feedback has a 'text' column; map tables.tickets.columns.text or "
            "tables.feedback.columns.text, or turn the section off with text.enabled=false"
        )
    d = pd.concat(parts, ignore_index=True)
    if as_of is not None:
        d = d[~(d["time"] > pd.Timestamp(as_of).normalize() + pd.Timedelta(days=1))].reset_index(drop=True)
    prep = prepare_texts(d["text"], max_chars=max_chars)
    d = pd.concat([d, prep], axis=1)
    empty = d["language"] == "empty"
    checks = {"n_texts": len(d), "n_empty": int(empty.sum()), "n_truncated": int(d["truncated"].sum()),
              "n_emoji": int(d["has_emoji"].sum()), "n_mixed": int((d["language"] == "mixed").sum()),
              "languages": {k: int(v) for k, v in d.loc[~empty, "language"].value_counts().items()}}  # fmt: skip
    if empty.all():
        ex = ", ".join(map(repr, d["text"].head(3)))
        raise AnalysisError(
            f"service text: all {len(d):,} texts of {', '.join(sorted(set(d['source'])))} are empty or whitespace "
            f"(e.g. {ex}); check the mapping of tables.<table>.columns.text"
        )
    if checks["n_empty"]:
        warnings.warn(t("service.warn.empty_texts", n=count(checks["n_empty"]), total=count(len(d))),
                      DataQualityWarning, stacklevel=2)  # fmt: skip
    if checks["n_truncated"]:
        warnings.warn(t("service.warn.long_texts", n=count(checks["n_truncated"]), max_chars=f"{max_chars:,}"),
                      DataQualityWarning, stacklevel=2)  # fmt: skip
    d = d[~empty.to_numpy()].reset_index(drop=True)
    d.attrs["checks"] = checks
    return d


@dataclass(frozen=True, eq=False, repr=False)
class TextTopics(Result):
    """Keywords and topics of the texts (see :func:`text_topics`).

    Attributes
    ----------
    topics : pandas.DataFrame
        One row per topic: ``topic`` (its name, the top three words joined by ``·``), ``words``
        (top ten), ``n``, ``share``.
    keywords : pandas.DataFrame
        ``word``, ``weight`` (mean TF-IDF), ``documents``.
    assignment : pandas.Series
        Topic name per text (index of the texts frame; ``(none)`` without a known word).
    n_fit : int
        Texts the topic model was fitted on (a seeded sample when more than ``max_fit_rows``).
    """

    topics: pd.DataFrame
    keywords: pd.DataFrame
    assignment: pd.Series
    n_fit: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        return self.topics[["topic", "n", "share", "words"]].rename(columns={"topic": "text_topic", "words": "top_words"})

    def to_frame(self) -> pd.DataFrame:
        return self.assignment.rename("topic").to_frame()

    def metrics(self) -> dict[str, Any]:
        return {
            "n_topics": len(self.topics), "n_fit": self.n_fit,
            "topics": {str(r["topic"]): num(r["share"]) for _, r in self.topics.iterrows()},
            "keywords": self.keywords["word"].head(15).tolist(),
            "none_share": num((self.assignment == NO_TOPIC).mean()),
        }  # fmt: skip

    def finding(self) -> str:
        top = self.topics.iloc[0]
        return t("service.topics.finding", k=count(len(self.topics)), topic=top["topic"], share=pct(top["share"]),
                 keywords="、".join(self.keywords["word"].head(8)))  # fmt: skip

    def plot(self, ax: Any = None) -> Any:
        ax = new_axes(ax, figsize=(8, 0.5 * len(self.topics) + 1.5))
        d = self.topics.iloc[::-1]
        ax.barh(d["topic"], d["share"], color="#4C72B0")
        ax.xaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.set_xlabel(t("service.topics.share"))
        ax.set_title(t("service.topics.title"))
        return ax

    def __repr__(self) -> str:
        return f"TextTopics(topics={len(self.topics)}, texts={len(self.assignment):,})"


def text_topics(
    texts: pd.DataFrame,
    *,
    n_topics: int = 6,
    max_features: int = 5000,
    min_df: int = 3,
    max_fit_rows: int = 200_000,
    random_state: int | None = 0,
) -> TextTopics:
    """Keywords (TF-IDF) and topics (NMF on TF-IDF) of tokenized texts.

    Parameters
    ----------
    texts : pandas.DataFrame
        :func:`collect_texts` output (``tokens``).
    n_topics : int, default 6
    max_features : int, default 5000
        Vocabulary: the most frequent words appearing in at least ``min_df`` texts.
    min_df : int, default 3
    max_fit_rows : int, default 200000
        Fit the topic model on a seeded sample of this many texts (all texts are assigned).
    random_state : int, optional

    Raises
    ------
    AnalysisError
        Fewer distinct words than topics (too few or too short texts): lower ``n_topics`` or
        ``min_df``.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    tokens = texts["tokens"].map(topic_tokens)
    vec = TfidfVectorizer(analyzer=list, min_df=min(min_df, max(1, len(texts) // 10)), max_features=max_features,
                          sublinear_tf=True)  # fmt: skip
    try:
        X = vec.fit_transform(tokens)
    except ValueError:
        X = None
    if X is None or X.shape[1] < max(n_topics, 2):
        raise AnalysisError(
            f"service text: {0 if X is None else X.shape[1]:,} distinct words in {len(texts):,} texts, fewer than "
            f"n_topics={n_topics}; lower text.n_topics or text.min_df"
        )
    words = np.array(vec.get_feature_names_out(), dtype=object)
    rng = np.random.default_rng(random_state)
    fit_idx = rng.choice(X.shape[0], size=max_fit_rows, replace=False) if X.shape[0] > max_fit_rows else slice(None)
    nmf = NMF(n_components=n_topics, init="nndsvda", random_state=random_state, max_iter=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nmf.fit(X[fit_idx])
        W = nmf.transform(X)
    top = np.argsort(-nmf.components_, axis=1)[:, :10]
    names = ["·".join(words[row[:3]]) for row in top]
    names = [f"{n} ({i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]
    has = W.max(axis=1) > 0
    assign = np.where(has, np.array(names, dtype=object)[W.argmax(axis=1)], NO_TOPIC)
    assignment = pd.Series(assign, index=texts.index, name="topic")
    vc = assignment[assignment != NO_TOPIC].value_counts()
    topics = pd.DataFrame({"topic": names, "words": ["、".join(words[row]) for row in top]})
    topics["n"] = topics["topic"].map(vc).fillna(0).astype("int64")
    topics["share"] = topics["n"] / max(len(assignment), 1)
    topics = topics.sort_values("n", ascending=False).reset_index(drop=True)
    mean_w = np.asarray(X.mean(axis=0)).ravel()
    docs = np.asarray((X > 0).sum(axis=0)).ravel()
    order = np.argsort(-mean_w)[:30]
    keywords = pd.DataFrame({"word": words[order], "weight": mean_w[order], "documents": docs[order].astype("int64")})
    n_fit = int(X.shape[0] if isinstance(fit_idx, slice) else len(fit_idx))
    return TextTopics(topics=topics, keywords=keywords, assignment=assignment, n_fit=n_fit)
