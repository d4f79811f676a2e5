"""Protocol cases of the shared layers: cleaning, the run layer and the generator."""

from __future__ import annotations

from pathlib import Path

from protocol_cases._data import AS_OF, small_base
from workbench.data.cleaning import CleanResult, clean_tables
from workbench.run.execute import AnalysisResult, RunResult
from workbench.run.provenance import ArtifactRef, InputFile, Provenance
from workbench.synth import SynthData


def _synth_data() -> SynthData:
    return small_base()


def _clean_result() -> CleanResult:
    tables = {name: frame.copy() for name, frame in small_base().tables.items()}
    return clean_tables(tables, as_of=AS_OF, launch_date="2023-01-01")


def _run_result() -> RunResult:
    analyses = (
        AnalysisResult("data_profiling", "Data profiling", "ok", seconds=4.2),
        AnalysisResult("churn", "Churn", "failed", seconds=1.5, error="ValueError: <b>bad</b> & worse"),
        AnalysisResult("campaign", "Campaign", "skipped (needs churn, which failed)"),
    )
    return RunResult(
        dataset="tiny", params_file=Path("/tmp/tiny.yaml"), status="failed", title="Tiny shop",
        as_of=AS_OF, run_dir=Path("/tmp/reports/tiny-20250101-000000"), analyses=analyses,
    )  # fmt: skip


def _provenance() -> Provenance:
    inputs = (InputFile("orders", "/data/shop/orders.csv", "ab" * 32, 1234, 0),
              InputFile("customers", "/data/shop/会员.xlsx", "cd" * 32, 99, 0))
    read = (ArtifactRef("data_profiling", "clean_orders.parquet",
                        Path("/r/shop-1/01_data_profiling/artifacts/clean_orders.parquet"), "shop-1", "ef" * 32,
                        "2025-01-01T00:00:00"),)
    return Provenance(inputs, read, "ef" * 32, ("segmentation/segments.parquet (none from these inputs)",))


CASES = {SynthData: _synth_data, CleanResult: _clean_result, RunResult: _run_result, Provenance: _provenance}
