"""Protocol cases of the report layer."""

from __future__ import annotations

from workbench.report.summary import KeyFinding, ReportSummary


def _report_summary() -> ReportSummary:
    return ReportSummary.of(
        [KeyFinding("21.3 % of customers left (95 % CI 19.8–22.9).", "Call the 300 at highest risk first."),
         ("Revenue is concentrated: 20 % of customers make 71 % of it.", ""), None],
        quality="Data quality: 5 tables, 98,000 rows read.", quality_href="../01_data_profiling/report.html",
    )


CASES = {ReportSummary: _report_summary}
