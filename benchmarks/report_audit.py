"""Audit the rendered reports of the newest run of each dataset: the language of their prose, the
most decimals a table number shows, and whether each opens with the summary and the contents.

    .venv/bin/python benchmarks/report_audit.py [--reports reports]

Prints one line per report: dataset, analysis, language (the page's ``<html lang>``), Chinese share of the prose's
letters (issue 13's goal: at least 60 % in zh, at most 5 % in en), runs of four or more English
words outside the technical terms, the most decimals in a table, and whether ``#summary`` comes
first and ``#toc`` exists. Exits 1 when a report misses a goal.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from workbench.report import audit


def newest_runs(reports: Path) -> list[Path]:
    """The newest run folder of each dataset under ``reports`` (by ``run.json``'s dataset)."""
    newest: dict[str, Path] = {}
    for run_json in sorted(reports.glob("*/run.json")):
        if run_json.parent.name.endswith("-interactive"):
            continue
        dataset = json.loads(run_json.read_text(encoding="utf-8")).get("dataset", run_json.parent.name)
        newest[dataset] = run_json.parent
    return [newest[k] for k in sorted(newest)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    failed = 0
    print(f"{'dataset':<10} {'analysis':<24} {'lang':<4} {'中文 %':>7} {'EN runs':>7} {'decimals':>8}  summary toc")
    for run in newest_runs(args.reports):
        record = json.loads((run / "run.json").read_text(encoding="utf-8"))
        for report in sorted(run.glob("*/report.html")):
            html = report.read_text(encoding="utf-8")
            found = re.search(r'<html[^>]*\blang="([a-zA-Z]+)', html)
            lang = found.group(1).lower() if found else "en"
            letters = audit.prose_letters(html, terms=audit.TECHNICAL_TERMS)
            outline = audit.page_outline(html)
            decimals = audit.max_decimals(html)
            summary_first = bool(outline) and outline[0] == "summary"
            ok = (letters.han_share >= 0.6 if lang == "zh" else letters.han_share <= 0.05) and decimals <= 3 \
                and summary_first and "toc" in outline
            failed += not ok
            print(f"{record.get('dataset', run.name):<10} {report.parent.name:<24} {lang:<4} "
                  f"{100 * letters.han_share:>6.1f}% {len(letters.english_runs):>7} {decimals:>8}  "
                  f"{'yes' if summary_first else 'no':<7} {'yes' if 'toc' in outline else 'no'}"
                  f"{'' if ok else '  <- misses a goal'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
