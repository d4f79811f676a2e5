"""Net Promoter Score from feedback: promoters, passives, detractors with intervals, and what
detractors write."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.core.errors import AnalysisError
from workbench.report.fmt import count, num, pct
from workbench.report.i18n import category, t
from workbench.report.plotting import new_axes
from workbench.report.results import Result
from workbench.service._common import check_columns
from workbench.service.voice import quotes
from workbench.stats import wilson_interval

__all__ = ["NPSResult", "nps_score", "nps_interval"]


def nps_interval(promoters: int, detractors: int, n: int, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """NPS (points, -100..100) with a normal interval from the multinomial variance
    ``(p + d - (p - d)^2) / n``.

    Examples
    --------
    >>> [round(x, 1) for x in nps_interval(50, 20, 100)]
    [30.0, 14.7, 45.3]
    """
    from scipy.stats import norm

    if n == 0:
        return float("nan"), float("nan"), float("nan")
    p, d = promoters / n, detractors / n
    est = p - d
    se = np.sqrt(max(p + d - est**2, 0.0) / n)
    z = norm.ppf(1 - (1 - confidence) / 2)
    return float(100 * est), float(100 * max(est - z * se, -1.0)), float(100 * min(est + z * se, 1.0))


@dataclass(frozen=True, eq=False, repr=False)
class NPSResult(Result):
    """NPS overall and by channel (see :func:`nps_score`).

    Attributes
    ----------
    table : pandas.DataFrame
        ``level`` (all, then channels), ``n``, ``promoters``, ``passives``, ``detractors`` (shares)
        with Wilson ``_low``/``_high`` for promoters and detractors, ``nps`` with
        ``nps_low``/``nps_high`` (points).
    detractor_topics : pandas.DataFrame
        ``topic``, ``n``, ``share`` among detractors' texts, ``share_others``.
    detractor_quotes : list of str
        What detractors write (masked).
    """

    table: pd.DataFrame
    detractor_topics: pd.DataFrame
    detractor_quotes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        out = self.table.copy()
        out["level"] = [category("service_level", v) for v in out["level"]]
        names = {"level": "channel", **{f"{k}{s}": f"{k}_share{s}" for k in ("promoters", "passives", "detractors")
                                        for s in ("", "_low", "_high")}}
        return out.rename(columns=names)

    def detractors(self) -> pd.DataFrame:
        """What detractors write about, for display: topic, texts, share, share among the others."""
        out = self.detractor_topics.copy()
        out["topic"] = [category("service_level", v) for v in out["topic"]]
        return out.rename(columns={"topic": "text_topic"})

    def metrics(self) -> dict[str, Any]:
        a = self.table.iloc[0]
        return {
            "n": int(a["n"]), "nps": num(a["nps"]), "nps_low": num(a["nps_low"]), "nps_high": num(a["nps_high"]),
            "promoters": num(a["promoters"]), "passives": num(a["passives"]), "detractors": num(a["detractors"]),
            "by_channel": {str(r["level"]): num(r["nps"]) for _, r in self.table.iloc[1:].iterrows()},
            "detractor_topics": {str(r["topic"]): num(r["share"]) for _, r in self.detractor_topics.iterrows()},
        }  # fmt: skip

    def finding(self) -> str:
        a = self.table.iloc[0]
        text = t("service.nps.finding", n=count(a["n"]), nps=f"{a['nps']:+.0f}", low=f"{a['nps_low']:+.0f}",
                 high=f"{a['nps_high']:+.0f}", promoters=pct(a["promoters"]), detractors=pct(a["detractors"]))  # fmt: skip
        if len(self.detractor_topics):
            top = self.detractor_topics.iloc[0]
            text += t("service.nps.detractor_topic", topic=category("service_level", top["topic"]),
                      share=pct(top["share"]), others=pct(top["share_others"]))  # fmt: skip
        return text

    def plot(self, ax: Any = None) -> Any:
        d = self.table
        ax = new_axes(ax, figsize=(8, 0.5 * len(d) + 1.5))
        labels = [category("service_level", v) for v in d["level"]][::-1]
        left = np.zeros(len(d))
        for k, c in (("detractors", "#C44E52"), ("passives", "#BBBBBB"), ("promoters", "#55A868")):
            v = d[k].to_numpy()[::-1]
            ax.barh(labels, v, left=left, color=c, label=t(f"service.nps.{k}"))
            left += v
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: pct(v, 0))
        ax.legend(loc="lower right")
        ax.set_title(t("service.nps.title"))
        ax.set_xlabel(t("service.nps.share"))
        return ax

    def __repr__(self) -> str:
        return f"NPSResult(n={int(self.table.iloc[0]['n']):,})"


def _row(level: str, s: pd.Series, confidence: float) -> dict[str, Any]:
    n = int(s.size)
    p, d = int((s >= 9).sum()), int((s <= 6).sum())
    r: dict[str, Any] = {"level": level, "n": n, "promoters": p / n, "passives": (n - p - d) / n, "detractors": d / n}
    for k, x in (("promoters", p), ("detractors", d)):
        lo, hi = wilson_interval(x, n, confidence=confidence)
        r[f"{k}_low"], r[f"{k}_high"] = float(lo[0]), float(hi[0])
    r["nps"], r["nps_low"], r["nps_high"] = nps_interval(p, d, n, confidence=confidence)
    return r


def nps_score(
    feedback: pd.DataFrame,
    *,
    topics: pd.DataFrame | None = None,
    min_group: int = 30,
    confidence: float = 0.95,
    n_quotes: int = 5,
) -> NPSResult:
    """NPS from the 0-10 ``nps`` answers of the feedback table.

    Parameters
    ----------
    feedback : pandas.DataFrame
        Canonical feedback (``nps``; optional ``channel``, ``feedback_id``, ``text``).
    topics : pandas.DataFrame, optional
        ``SentimentResult.scores`` (``source``, ``item_id``, ``topic``): what detractors write about.
    min_group : int, default 30
        Channels with fewer answers are left out of the by-channel rows.
    confidence : float, default 0.95
    n_quotes : int, default 5

    Raises
    ------
    AnalysisError
        No ``nps`` column, or values outside 0-10.
    """
    check_columns(feedback, "feedback", ("nps",))
    s = pd.to_numeric(feedback["nps"], errors="coerce")
    bad = s.notna() & ((s < 0) | (s > 10))
    if bad.any():
        raise AnalysisError(
            f"feedback.nps: {int(bad.sum()):,} of {len(s):,} values outside 0-10 (e.g. "
            f"{', '.join(map(str, s[bad].head(3)))}); NPS needs the 0-10 likelihood to recommend: map another "
            "column in tables.feedback.columns.nps"
        )
    fb = feedback[s.notna().to_numpy()].assign(nps=s[s.notna()])
    if len(fb) == 0:
        raise AnalysisError("feedback.nps: no answer given; map the 0-10 score in tables.feedback.columns.nps")
    rows = [_row("all", fb["nps"], confidence)]
    if "channel" in fb:
        for ch, g in fb.groupby(fb["channel"].astype(str), sort=True):
            if len(g) >= min_group:
                rows.append(_row(str(ch), g["nps"], confidence))
    det = fb[fb["nps"] <= 6]
    dt = pd.DataFrame(columns=["topic", "n", "share", "share_others"])
    if topics is not None and "feedback_id" in fb and len(det):
        tp = topics[topics["source"] == "feedback"].set_index("item_id")["topic"]
        is_det = fb["feedback_id"].astype(str).isin(det["feedback_id"].astype(str))
        lab = fb["feedback_id"].astype(str).map(tp)
        a = lab[is_det.to_numpy()].value_counts()
        b = lab[~is_det.to_numpy()].value_counts(normalize=True)
        dt = pd.DataFrame({"topic": a.index.astype(str), "n": a.to_numpy().astype("int64")})
        dt["share"] = dt["n"] / max(int(a.sum()), 1)
        dt["share_others"] = dt["topic"].map(b).fillna(0.0).to_numpy()
    q = quotes(det["text"], n=n_quotes) if "text" in det else []
    return NPSResult(table=pd.DataFrame(rows), detractor_topics=dt.reset_index(drop=True), detractor_quotes=q)
