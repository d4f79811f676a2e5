"""The summary every report opens with: three to six key findings, each with the action it
suggests, and one line on data quality linking to the profiling report.

An analysis computes its key findings from its results (``churn.key_findings(...)``); the
notebook's last cell, tagged ``summary``, shows them with ``ctx.summarize(...)``, and the report
renderer moves that cell to the top of the page as ``<section id="summary">``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from workbench.report.i18n import t
from workbench.report.results import Result

__all__ = ["KeyFinding", "ReportSummary", "MAX_KEY_FINDINGS"]

#: A summary shows at most this many findings (the strongest first).
MAX_KEY_FINDINGS = 6


@dataclass(frozen=True)
class KeyFinding:
    """One key finding of a report.

    Attributes
    ----------
    text : str
        What the numbers say, with the numbers (in the run's language).
    action : str
        What to do about it (in the run's language); empty when nothing follows.
    """

    text: str
    action: str = ""


@dataclass(frozen=True, repr=False)
class ReportSummary(Result):
    """The key findings of one report, plus one line on data quality.

    Attributes
    ----------
    findings : tuple of KeyFinding
        In order of importance; at most :data:`MAX_KEY_FINDINGS` are kept.
    quality : str
        One line on the data's quality (in the run's language); empty when unknown.
    quality_href : str
        Link to the profiling report, relative to this report; empty when there is none.
    """

    findings: tuple[KeyFinding, ...] = field(default_factory=tuple)
    quality: str = ""
    quality_href: str = ""

    @classmethod
    def of(cls, findings: Iterable[KeyFinding | tuple[str, str] | None], *, quality: str = "",
           quality_href: str = "") -> ReportSummary:
        """Build from findings, leaving out ``None`` (a section that did not run) and keeping
        the first :data:`MAX_KEY_FINDINGS`."""
        kept = [f if isinstance(f, KeyFinding) else KeyFinding(*f) for f in findings if f]
        return cls(findings=tuple(kept[:MAX_KEY_FINDINGS]), quality=quality, quality_href=quality_href)

    def summary(self) -> pd.DataFrame:
        """One row per key finding: the finding and its action."""
        return pd.DataFrame({t("common.summary.finding"): [f.text for f in self.findings],
                             t("common.summary.action"): [f.action for f in self.findings]})

    def finding(self) -> str:
        """The key findings as one paragraph."""
        return " ".join(f.text for f in self.findings)

    def metrics(self) -> dict[str, Any]:
        """The findings and actions as text, for ``metrics.json`` and the index page."""
        return {"key_findings": [{"text": f.text, "action": f.action} for f in self.findings],
                "quality": self.quality}

    def section_html(self) -> str:
        """The page's ``<section id="summary">``: the numbered findings with their actions and
        the data-quality line with its link (escaped)."""
        items = []
        for f in self.findings:
            action = (f' <span class="wb-action">{html.escape(t("common.summary.action_prefix"))}'
                      f"{html.escape(f.action)}</span>") if f.action else ""
            items.append(f'<li><span class="wb-finding">{html.escape(f.text)}</span>{action}</li>')
        quality = ""
        if self.quality:
            link = (f' <a href="{html.escape(self.quality_href)}">{html.escape(t("common.summary.quality_link"))}</a>'
                    if self.quality_href else "")
            quality = f'<p class="wb-quality">{html.escape(self.quality)}{link}</p>'
        return (f'<section id="summary" class="wb-summary"><h2>{html.escape(t("common.summary.title"))}</h2>'
                f'<ol class="wb-key-findings">{"".join(items)}</ol>{quality}</section>')
