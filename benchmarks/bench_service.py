"""Benchmark of the service analysis at scale: seconds and peak memory per step on N tickets with
text (default 1,000,000).

    .venv/bin/python benchmarks/bench_service.py                    # 1M tickets
    .venv/bin/python benchmarks/bench_service.py --tickets 100000   # measure a smaller size first

The tickets are the synthetic base's (20,000 customers, ``synth.service_text``) resampled to N
rows with new ticket ids, customers spread over N / 0.7 keys and opening times jittered by up to a
week; every text gets a reference number (``#12345678``) so (nearly) every text is distinct, as in real data (the
analysis deduplicates texts, and template texts would otherwise repeat). Steps: masking personal
data inside the text (intake), KPIs, Pareto, collecting and segmenting the texts (jieba), topics
(TF-IDF + NMF fitted on 200,000), sentiment (shipped model / VADER), the per-customer flags and
the weekly monitor. Peak memory is the largest resident set size seen during the step (sampled
every 50 ms) minus the size at its start.
"""

from __future__ import annotations

import argparse
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def _rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


class Step:
    """Time a step and sample its peak resident memory."""

    def __init__(self, name: str, rows: list[dict]) -> None:
        self.name, self.rows = name, rows

    def __enter__(self) -> Step:
        self.start_rss = self.peak = _rss_mib()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        self.t0 = time.perf_counter()
        return self

    def _sample(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc: object) -> None:
        sec = time.perf_counter() - self.t0
        self.stop.set()
        self.thread.join()
        self.rows.append({"step": self.name, "seconds": round(sec, 1), "peak_mib": round(self.peak - self.start_rss)})
        print(f"  {self.name:<22} {sec:8.1f} s  +{self.peak - self.start_rss:7.0f} MiB", flush=True)


def tickets_at(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` tickets with text resampled from a 20,000-customer synthetic base, and its feedback."""
    from workbench.synth import generate

    d = generate(20_000, seed=42)
    base, fb = d.tables["tickets"], d.tables["feedback"]
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(base), size=n)
    tk = base.iloc[pick].reset_index(drop=True)
    jitter = pd.to_timedelta(rng.integers(0, 7 * 86400, size=n), unit="s")
    tk["ticket_id"] = pd.Series([f"T{i:09d}" for i in range(n)], dtype="str")
    tk["customer_id"] = pd.Series([f"C{i:09d}" for i in rng.integers(0, max(int(n / 0.7), 1), size=n)], dtype="str")
    for c in ("opened_at", "first_response_at", "resolved_at"):
        tk[c] = tk[c] + jitter
    order = pd.Series(rng.integers(10**7, 10**8, size=n)).astype(str)
    tk["text"] = tk["text"].astype(str) + " #" + order.to_numpy()
    return tk, fb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=1_000_000)
    args = ap.parse_args()
    import sys

    sys.path.insert(0, str(ROOT / "src"))
    warnings.simplefilter("ignore")
    from workbench import service
    from workbench.core.privacy import mask_in_text

    rows: list[dict] = []
    print(f"service benchmark: {args.tickets:,} tickets with text")
    t_all = time.perf_counter()
    with Step("build tickets", rows):
        tk, fb = tickets_at(args.tickets)
    as_of = "2025-12-31"
    with Step("mask text (intake)", rows):
        tk["text"] = mask_in_text(tk["text"])
    with Step("performance", rows):
        perf = service.service_performance(tk, as_of=as_of)
    with Step("pareto", rows):
        service.problem_pareto(perf.tickets)
    with Step("collect + jieba", rows):
        texts = service.collect_texts(tk, fb, as_of=as_of)
    with Step("topics", rows):
        topics = service.text_topics(texts, n_topics=8)
    with Step("sentiment", rows):
        sent = service.text_sentiment(texts, topics=topics.assignment)
    with Step("flags", rows):
        service.service_flags(perf.tickets, sentiment=sent.scores, complaints=tk.set_index("ticket_id")["is_complaint"],
                              as_of=as_of)  # fmt: skip
    with Step("monitor", rows):
        service.weekly_monitor(sent.scores)
    total = time.perf_counter() - t_all
    print("\n| step | seconds | peak MiB |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['step']} | {r['seconds']:.1f} | {r['peak_mib']:,} |")
    print(f"| total | {total:.1f} | max RSS {_rss_mib():,.0f} MiB now |")
    print(f"distinct texts: {texts['clean'].nunique():,} of {len(texts):,}; topics: {', '.join(topics.topics['topic'])}")


if __name__ == "__main__":
    main()
