"""The ``workbench`` command: run analyses in batch, validate inputs, make example data.

Exit codes: 0 everything ran; 1 an analysis failed or was skipped; 2 bad input (params, data,
unknown analysis or command-line usage); 130 interrupted. Input errors print ``error: <message>``
naming what to fix, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.core.errors import WorkbenchError

__all__ = ["main", "build_parser"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130

_DESCRIPTION = """\
crm-workbench: run the CRM analysis notebooks on a dataset described by a params file and hand
out self-contained HTML reports (no code shown) plus the executed notebooks.

Each run writes reports/<name>-<YYYYmmdd-HHMMSS>/ (run.json, intake/, one folder per analysis
with notebook.ipynb, report.html, metrics.json) and refreshes reports/index.html.
"""

_EPILOG = """\
examples:
  workbench validate -p params/example.yaml
  workbench run data_profiling -p params/example.yaml
  workbench run-all -p params/example.yaml -p params/cdnow.yaml
  workbench synth --customers 5000 --seed 42 --out data/example
  workbench keymap -p params/example.yaml --list reports/<run>/03_churn/artifacts/retention_list.csv --out ~/private/keys.csv
  workbench list
  workbench index

exit codes: 0 ok, 1 an analysis failed or was skipped, 2 bad input, 130 interrupted.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Keep the examples' line breaks; show defaults that say something (not None or flags)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def _wrap(text: str) -> str:
    """A description paragraph wrapped for the terminal (the formatter keeps text as is)."""
    import textwrap

    return textwrap.fill(text, width=92)


def _add_reports(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports", metavar="DIR", default="reports", type=Path,
                   help="folder holding run folders and index.html")


def _add_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no per-cell progress bar (for logs and CI)")


def _add_language(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--lang", dest="language", choices=["zh", "en"], default=None,
                   help=f"language of {what}")


def _add_report_options(p: argparse.ArgumentParser) -> None:
    _add_language(p, "the reports and the index, overriding report.language of every params file")
    p.add_argument("--pdf", action="store_true",
                   help="also write report.pdf next to each report.html (headless Chromium; as "
                        "report.pdf: true in the params); a PDF that fails is a note, not a failure")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``workbench`` with one sub-command per task.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(prog="workbench", description=_DESCRIPTION, epilog=_EPILOG,
                                     formatter_class=_Formatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "run", formatter_class=_Formatter,
        help="run one analysis notebook on one dataset",
        description=_wrap("Run one analysis notebook on one dataset (whether or not the params enable "
                    "it): validate params, read the tables once, execute the notebook, render "
                    "report.html without code and update reports/index.html."),
        epilog="examples:\n"
               "  workbench run data_profiling -p params/example.yaml\n"
               "  workbench run churn -p params/telco.yaml --reports /tmp/reports --no-progress\n"
               "  workbench run churn -p params/telco.yaml --lang zh --pdf\n"
               "  workbench run segmentation -p params/example.yaml "
               "--run-dir reports/example-20250630-101500",
    )  # fmt: skip
    p.add_argument("analysis", metavar="ANALYSIS",
                   help="analysis key, see `workbench list` (data_profiling, segmentation, ...)")
    p.add_argument("-p", "--params", required=True, type=Path, metavar="PARAMS.yaml",
                   help="params file of the dataset")
    p.add_argument("--run-dir", type=Path, metavar="DIR", default=None,
                   help="re-run into this existing run folder instead of a new one")
    _add_reports(p)
    _add_progress(p)
    _add_report_options(p)
    p.set_defaults(handler=_cmd_run)

    p = sub.add_parser(
        "run-all", formatter_class=_Formatter,
        help="run every enabled analysis for one or more datasets",
        description=_wrap("Run every analysis each params file enables (analyses.<key>.enabled), in "
                    "registry order, one run folder per params file. An invalid params file or "
                    "rejected data stops only that dataset; a failed analysis skips only the "
                    "analyses that depend on it. Ends with a summary table."),
        epilog="examples:\n"
               "  workbench run-all -p params/example.yaml\n"
               "  workbench run-all -p params/cdnow.yaml -p params/telco.yaml --no-progress\n"
               "  workbench run-all -p params/example.yaml --only data_profiling segmentation\n"
               "  workbench run-all -p params/example.yaml -p params/telco.yaml --lang en --pdf\n"
               "  workbench run-all -p params/example.yaml -p params/telco.yaml --jobs 2",
    )  # fmt: skip
    p.add_argument("-p", "--params", required=True, action="append", type=Path,
                   metavar="PARAMS.yaml", help="params file; repeat for more datasets")
    p.add_argument("--only", nargs="+", metavar="KEY", default=None,
                   help="run only these analyses (of those the params enable)")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="notebooks run side by side, across datasets and within one where the "
                        "analyses' dependencies allow, longest chain first (default 1: one "
                        "dataset after the other, analyses in order)")
    _add_reports(p)
    _add_progress(p)
    _add_report_options(p)
    p.set_defaults(handler=_cmd_run_all)

    p = sub.add_parser(
        "validate", formatter_class=_Formatter,
        help="check a params file and its data without running notebooks",
        description=_wrap("Validate the params file and take in every table it declares, as a run "
                    "would; print per table the source file, format, encoding, rows and per "
                    "mapped column the source header, blanks, placeholders and unparseable "
                    "values. Exit 0 when the input is usable, 2 otherwise."),
        epilog="examples:\n"
               "  workbench validate -p params/example.yaml\n"
               "  workbench validate -p params/my_shop.yaml",
    )  # fmt: skip
    p.add_argument("-p", "--params", required=True, type=Path, metavar="PARAMS.yaml",
                   help="params file to check")
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser(
        "keymap", formatter_class=_Formatter,
        help="add the real customer keys to a pseudonymized list (written outside reports/)",
        description=_wrap("Retention, targeting and tag lists carry keyed pseudonyms. Recompute the "
                    "pseudonym of every key of the dataset's inputs with the same secret, join the "
                    "list on it and write the list with a raw_<column> column to --out, which must "
                    "lie outside the reports folder. Nothing is stored in the run folder."),
        epilog="example:\n"
               "  workbench keymap -p params/example.yaml "
               "--list reports/example-20251001-090000/03_churn/artifacts/retention_list.csv "
               "--out ~/crm_private/retention_keys.csv",
    )  # fmt: skip
    p.add_argument("-p", "--params", required=True, type=Path, metavar="PARAMS.yaml",
                   help="params file of the run that made the list")
    p.add_argument("--list", dest="list_path", required=True, type=Path, metavar="FILE",
                   help="the list (CSV or Parquet) with pseudonymized keys")
    p.add_argument("--out", required=True, type=Path, metavar="FILE", help="where to write it with real keys")
    p.add_argument("--column", default="customer_id", help="the list's key column")
    _add_reports(p)
    p.set_defaults(handler=_cmd_keymap)

    p = sub.add_parser(
        "synth", formatter_class=_Formatter,
        help="write a synthetic example dataset",
        description=_wrap("Write a deterministic synthetic CRM dataset (customers, orders, campaign "
                    "contacts, ...) with known ground truth, by default with realistic defects "
                    "(placeholders, duplicates, refunds, bad dates) for the pipeline to handle."),
        epilog="examples:\n"
               "  workbench synth --customers 5000 --seed 42 --out data/example\n"
               "  workbench synth --customers 500 --seed 1 --out /tmp/clean --no-defects "
               "--format canonical",
    )  # fmt: skip
    p.add_argument("--customers", type=int, default=5000, metavar="N", help="number of customers")
    p.add_argument("--seed", type=int, default=42, metavar="S", help="random seed")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-defects", dest="defects", action="store_false",
                   help="write clean data (no injected data-quality defects)")
    p.add_argument("--format", dest="formats", choices=["export", "canonical"], default="export",
                   help="export: files as CRM/ERP systems export them (GBK/BOM CSV with Chinese "
                        "headers, Excel, Parquet); canonical: clean Parquet with contract names")
    p.set_defaults(handler=_cmd_synth)

    p = sub.add_parser(
        "list", formatter_class=_Formatter,
        help="list the analyses",
        description=_wrap("List the registered analyses: key, title, notebook, whether the notebook "
                    "file exists and which analyses each depends on."),
        epilog="example:\n  workbench list",
    )  # fmt: skip
    p.set_defaults(handler=_cmd_list)

    p = sub.add_parser(
        "index", formatter_class=_Formatter,
        help="rebuild reports/index.html",
        description=_wrap("Rebuild the index page over every run folder found in the reports folder: "
                    "runs grouped by dataset, newest first, each analysis's status, links, key "
                    "findings and headline figures with their change since the previous run."),
        epilog="examples:\n  workbench index\n  workbench index --reports /tmp/reports --lang zh",
    )  # fmt: skip
    _add_reports(p)
    _add_language(p, "the index page (default: the language of the newest run)")
    p.set_defaults(handler=_cmd_index)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 ok, 1 an analysis failed or was skipped, 2 bad input, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_INPUT
    try:
        return args.handler(args)
    except WorkbenchError as err:
        _err(f"error: {err}")
        return EXIT_INPUT
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED


# ----------------------------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------------------------


def _cmd_run(args: argparse.Namespace) -> int:
    from workbench.run.execute import run_analysis

    result = run_analysis(args.analysis, args.params, run_dir=args.run_dir,
                          reports_dir=args.reports, progress=args.progress,
                          language=args.language, pdf=args.pdf)
    return _report([result], args.reports)


def _cmd_run_all(args: argparse.Namespace) -> int:
    from workbench.run.execute import run_all

    results = run_all(args.params, reports_dir=args.reports, only=args.only,
                      progress=args.progress, language=args.language, pdf=args.pdf, jobs=args.jobs)
    return _report(results, args.reports)


def _report(results: list[Any], reports_dir: Path) -> int:
    """Print the summary table and what failed; return the exit code."""
    from workbench.run.execute import STATUS_FAILED, STATUS_INVALID, summary_table

    table = summary_table(results).drop(columns="error")
    print()
    print(_frame_text(table.fillna("")))
    index = Path(reports_dir) / "index.html"
    if index.exists():
        print(f"\nindex: {index}")
    for r in results:
        for a in r.analyses:
            if a.note:
                _err(f"note: {r.dataset} · {a.key}: {a.note}")
    invalid = [r for r in results if r.status == STATUS_INVALID]
    for r in invalid:
        _err(f"error: {r.dataset}: {r.error}")
    failed = [(r, a) for r in results for a in r.failed]
    for r, a in failed:
        if a.status == STATUS_FAILED:
            _err(f"failed: {r.dataset} · {a.key} ({a.error})")
        else:
            _err(f"skipped: {r.dataset} · {a.key} ({a.status.removeprefix('skipped (')}")
    if invalid:
        return EXIT_INPUT
    return EXIT_FAILED if failed else EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    from workbench.run.intake import take_in
    from workbench.run.params import load_params

    params = load_params(args.params)
    print(f"params ok: {args.params} · dataset {params.name} · as of {params.as_of}")
    intake = take_in(params)
    tables = intake.tables
    for name, table in tables.items():
        print()
        print(_table_header(name, table.source, len(table.frame)))
        print(_frame_text(_column_rows(table.columns)))
        extras = [c.column for c in table.columns if c.extra]
        if extras:
            shown = ", ".join(extras[:8]) + (" ..." if len(extras) > 8 else "")
            print(f"  + {len(extras)} extra column(s) kept: {shown}")
    for pc in intake.personal:
        why = pc.detected_by if pc.share is None else f"{pc.detected_by}, {pc.share:.0%} of {pc.n_checked:,} values"
        print(f"  personal data: {pc.table}.{pc.column} ({pc.kind}; {why}) -> {pc.treatment}")
    print(f"\nok: {len(tables)} table(s) meet the contract")
    return EXIT_OK


def _table_header(name: str, source: dict[str, Any], rows: int) -> str:
    """``orders: data/orders.csv · csv · utf-8 · 1,234 rows (6 columns in the file)``."""
    parts = [f"{name}: {source.get('path', '?')}", str(source.get("format", "?"))]
    if source.get("encoding"):
        parts.append(str(source["encoding"]))
    if source.get("sheet") is not None:
        parts.append(f"sheet {source['sheet']}")
    if source.get("table"):
        parts.append(f"table {source['table']}")
    parts.append(f"{rows:,} rows ({source.get('columns', '?')} columns in the file)")
    return " · ".join(parts)


def _column_rows(columns: list[Any]) -> Any:
    """Intake report of the mapped (contract) columns as a frame for printing."""
    import pandas as pd

    rows = []
    for c in columns:
        if c.extra:
            continue
        placeholders = ", ".join(f"{k!r}×{v}" for k, v in (c.placeholders or {}).items())
        examples = ", ".join(repr(v) for v in (c.examples or [])[:3])
        rows.append({
            "column": c.column,
            "from": c.source,
            "type": c.type,
            "blank": c.n_blank,
            "placeholders": placeholders,
            "unparseable": c.n_unparseable,
            "e.g.": examples,
        })
    return pd.DataFrame(rows)


def _cmd_keymap(args: argparse.Namespace) -> int:
    from workbench.run.keymap import key_map
    from workbench.run.params import load_params

    params = load_params(args.params)
    out, found, missing = key_map(params, args.list_path, args.out.expanduser(), column=args.column,
                                  reports_dir=args.reports)
    print(f"wrote {out}: {found:,} row(s) with real keys" + (f", {missing:,} not found" if missing else ""))
    _err(f"note: {out} holds real customer keys; keep it where only the CRM team can read it")
    return EXIT_OK


def _cmd_synth(args: argparse.Namespace) -> int:
    try:
        from workbench.synth.export import write_example
    except ImportError as err:
        raise WorkbenchError(f"the synthetic data generator is not available: {err}") from None
    if args.customers < 1:
        raise WorkbenchError(f"--customers must be at least 1 (got {args.customers})")
    written = write_example(args.out, n_customers=args.customers, seed=args.seed,
                            defects=args.defects, formats=args.formats)
    print(f"wrote synthetic data ({args.customers:,} customers, seed {args.seed}) to {args.out}")
    if isinstance(written, dict):
        for key, value in written.items():
            print(f"  {key}: {value}")
    elif isinstance(written, (list, tuple)):
        for value in written:
            print(f"  {value}")
    return EXIT_OK


def _cmd_list(args: argparse.Namespace) -> int:
    import pandas as pd

    from workbench.run.registry import ANALYSES

    rows = [{
        "analysis": a.key,
        "title": a.title,
        "notebook": a.notebook,
        "exists": "yes" if a.path.exists() else "MISSING",
        "needs tables": ", ".join(a.tables) or "-",
        "depends on": ", ".join(a.depends_on) or "-",
    } for a in ANALYSES.values()]  # fmt: skip
    print(_frame_text(pd.DataFrame(rows)))
    return EXIT_OK


def _cmd_index(args: argparse.Namespace) -> int:
    from workbench.run.index import read_runs, rebuild_index

    path = rebuild_index(args.reports, language=args.language)
    print(f"wrote {path} ({len(read_runs(args.reports))} run(s))")
    return EXIT_OK


# ----------------------------------------------------------------------------------------------
# Output helpers
# ----------------------------------------------------------------------------------------------


def _frame_text(frame: Any) -> str:
    """A frame as aligned text (CJK headers counted double width)."""
    import pandas as pd

    if frame.empty:
        return "(none)"
    with pd.option_context("display.unicode.east_asian_width", True, "display.max_colwidth", 120,
                           "display.width", 250, "display.max_rows", 500):
        return frame.to_string(index=False)


def _err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
