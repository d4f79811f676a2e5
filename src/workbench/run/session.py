"""The notebook side of a run: params, tables, artifacts, figures and metrics in one object.

A notebook's setup cell is one call::

    ctx = session.start(params_file, run_dir=run_dir, analysis="data_profiling")

Run folder layout (``reports/<name>-<YYYYmmdd-HHMMSS>/``)::

    run.json                     what ran, when, with which params, and how it ended
    intake/<table>.parquet       tables after the contract (read once per run)
    intake/intake.json           per-table source info and per-column intake reports
    01_data_profiling/           one folder per analysis
        notebook.ipynb           executed notebook (kept when it fails, error visible)
        report.html              self-contained rendering without code, for managers
        figures/*.png
        artifacts/*.parquet|csv  outputs later analyses read (e.g. clean_orders.parquet)
        metrics.json             machine-readable figures of the run

Run interactively (JupyterLab, ``run_dir`` empty), the run folder is
``reports/<name>-interactive/``.
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from workbench.core.contract import ColumnReport, LoadedTable
from workbench.core.errors import WorkbenchError
from workbench.core.io import load_tables
from workbench.core.params import CleaningParams, PrivacyParams
from workbench.run.params import Params, load_params
from workbench.run.registry import get_analysis

__all__ = ["RunContext", "start", "params_hint", "save_intake", "read_intake", "find_artifact", "to_jsonable"]

PROJECT_ROOT = Path(__file__).resolve().parents[3]


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars, timestamps and containers into JSON-able Python values."""
    import numpy as np

    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (pd.Timestamp, pd.Timedelta)):
        return None if pd.isna(value) else str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def save_intake(tables: dict[str, LoadedTable], folder: Path) -> None:
    """Write intake results (parquet per table plus ``intake.json``)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {}
    for name, t in tables.items():
        t.frame.to_parquet(folder / f"{name}.parquet", index=False)
        meta[name] = {"source": t.source, "columns": [c.__dict__ for c in t.columns]}
    (folder / "intake.json").write_text(
        json.dumps(to_jsonable(meta), ensure_ascii=False, indent=2), encoding="utf-8"
    )


def read_intake(folder: Path, names: list[str] | None = None) -> dict[str, LoadedTable] | None:
    """Read intake results written by :func:`save_intake`; ``None`` when absent or incomplete."""
    meta_path = folder / "intake.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    wanted = names if names is not None else list(meta)
    if any(n not in meta or not (folder / f"{n}.parquet").exists() for n in wanted):
        return None
    out = {}
    for n in wanted:
        frame = pd.read_parquet(folder / f"{n}.parquet")
        cols = [ColumnReport(**c) for c in meta[n]["columns"]]
        out[n] = LoadedTable(name=n, frame=frame, source=meta[n]["source"], columns=cols)
    return out


def find_artifact(run_dir: Path, analysis: str, name: str) -> Path | None:
    """Locate an artifact of an earlier analysis: first in this run, then in the latest earlier
    run of the same dataset.

    Parameters
    ----------
    run_dir : Path
        Current run folder.
    analysis : str
        Analysis key that wrote it (``data_profiling``).
    name : str
        Artifact file name (``clean_orders.parquet``).

    Returns
    -------
    Path or None
    """
    folder = get_analysis(analysis).folder
    here = run_dir / folder / "artifacts" / name
    if here.exists():
        return here
    prefix = run_dir.name.rsplit("-", 2)[0]
    candidates = sorted(
        (p for p in run_dir.parent.glob(f"{prefix}-*") if p != run_dir),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for cand in candidates:
        path = cand / folder / "artifacts" / name
        if path.exists():
            return path
    return None


@dataclass
class RunContext:
    """What a notebook needs during a run.

    Attributes
    ----------
    params : Params
        Validated params.
    run_dir : Path
        The run folder.
    analysis : str
        Key of the analysis this notebook is.
    metrics : dict
        Figures recorded with :meth:`record`; written by :meth:`finish`.
    """

    params: Params
    run_dir: Path
    analysis: str
    params_file: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    _tables: dict[str, LoadedTable] | None = None

    @property
    def out_dir(self) -> Path:
        """This analysis's folder in the run."""
        return self.run_dir / get_analysis(self.analysis).folder

    @property
    def figures_dir(self) -> Path:
        """Where figures are saved."""
        return self.out_dir / "figures"

    @property
    def artifacts_dir(self) -> Path:
        """Where artifacts are saved."""
        return self.out_dir / "artifacts"

    @property
    def seed(self) -> int:
        """The run's seed (``params.seed``)."""
        return self.params.seed

    def tables(self, names: list[str] | None = None) -> dict[str, LoadedTable]:
        """Tables after intake (read once per run and cached in ``intake/``).

        Parameters
        ----------
        names : list of str, optional
            Tables wanted; default every table in the params.
        """
        wanted = list(self.params.tables) if names is None else names
        if self._tables is None or any(n not in self._tables for n in wanted):
            cached = read_intake(self.run_dir / "intake", wanted)
            if cached is None:
                cached = load_tables(self.params, wanted)
                save_intake(cached, self.run_dir / "intake")
            self._tables = {**(self._tables or {}), **cached}
        return {n: self._tables[n] for n in wanted}

    def clean_tables(self) -> dict[str, pd.DataFrame]:
        """Cleaned tables: the data-profiling artifacts when they exist (this run or the latest
        earlier run of this dataset), else the cleaning step run here with the same params."""
        out: dict[str, pd.DataFrame] = {}
        for name in self.params.tables:
            path = find_artifact(self.run_dir, "data_profiling", f"clean_{name}.parquet")
            if path is None:
                out = {}
                break
            out[name] = pd.read_parquet(path)
        if out:
            return out
        from workbench.data.cleaning import clean_tables

        result = clean_tables(
            self.tables(), as_of=self.params.as_of, launch_date=self.params.launch_date,
            **self.params.cleaning.model_dump(),
        )  # fmt: skip
        return dict(result.tables)

    def artifact(self, analysis: str, name: str) -> pd.DataFrame | None:
        """An earlier analysis's artifact (this run, else the latest earlier run of this dataset),
        or ``None`` when it was never written (e.g. segmentation not enabled).

        Parameters
        ----------
        analysis : str
            Analysis key that writes it (``segmentation``).
        name : str
            File name (``segments.parquet``).
        """
        path = find_artifact(self.run_dir, analysis, name)
        return None if path is None else pd.read_parquet(path)

    def truth(self) -> pd.DataFrame | None:
        """Synthetic data only: the generator's per-customer truth (``ground_truth`` param), else
        ``None``. Used for recovery checks shown next to the estimates, never as an input."""
        if self.params.ground_truth is None:
            return None
        return pd.read_parquet(self.params.resolve(self.params.ground_truth))

    def truth_summary(self) -> dict[str, Any] | None:
        """Synthetic data only: ``ground_truth.json`` beside the truth file, else ``None``."""
        if self.params.ground_truth is None:
            return None
        path = self.params.resolve(self.params.ground_truth).with_name("ground_truth.json")
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def save_artifact(self, name: str, frame: pd.DataFrame, *, csv: bool = False) -> Path:
        """Write ``frame`` as ``artifacts/<name>.parquet`` (and ``.csv`` in UTF-8 with BOM so
        Excel opens Chinese text, when ``csv``). Returns the parquet path."""
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        path = self.artifacts_dir / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        if csv:
            frame.to_csv(self.artifacts_dir / f"{name}.csv", index=False, encoding="utf-8-sig")
        return path

    def save_artifacts(self, frames: Mapping[str, pd.DataFrame], *, csv: bool = False) -> list[Path]:
        """Write each frame as an artifact under its key (see :meth:`save_artifact`)."""
        return [self.save_artifact(name, frame, csv=csv) for name, frame in frames.items()]

    def savefig(self, fig: Any, name: str) -> Path:
        """Save a matplotlib figure (or an Axes's figure) as ``figures/<name>.png``."""
        fig = getattr(fig, "figure", fig)
        self.figures_dir.mkdir(parents=True, exist_ok=True)
        path = self.figures_dir / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        return path

    def show(self, fig: Any, name: str) -> None:
        """Save a figure as ``figures/<name>.png``, display it here (so figures appear in the
        order the notebook makes them) and close it. ``None`` figures are skipped."""
        if fig is None:
            return
        import matplotlib.pyplot as plt

        fig = getattr(fig, "figure", fig)
        self.savefig(fig, name)
        try:
            from IPython.display import display

            display(fig)
        finally:
            plt.close(fig)

    def show_all(self, figures: Mapping[str, Any]) -> None:
        """Save and display each figure under its key, in order (see :meth:`show`)."""
        for name, fig in figures.items():
            self.show(fig, name)

    def record(self, **values: Any) -> None:
        """Record figures for ``metrics.json``."""
        self.metrics.update(values)

    def finish(self) -> Path:
        """Write ``metrics.json`` (recorded figures plus run facts) and return its path."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        payload = {
            "analysis": self.analysis,
            "dataset": self.params.name,
            "params_file": str(self.params_file),
            "as_of": str(self.params.as_of),
            "seed": self.params.seed,
            "seconds": round(time.time() - self.started, 2),
            "metrics": self.metrics,
        }
        path = self.out_dir / "metrics.json"
        path.write_text(json.dumps(to_jsonable(payload), ensure_ascii=False, indent=2), encoding="utf-8")
        return path


_OPTION = re.compile(r"(?<![\w.])([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)=")


def _field_paths(model: type[BaseModel], prefix: str) -> dict[str, list[str]]:
    """Field name -> dotted params keys where it occurs, through nested sections."""
    out: dict[str, list[str]] = {}
    for name, info in model.model_fields.items():
        key = f"{prefix}.{name}"
        out.setdefault(name, []).append(key)
        sub = info.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):
            for inner, keys in _field_paths(sub, key).items():
                out.setdefault(inner, []).extend(keys)
    return out


#: The shared sections every analysis's notebook may meet (``clean_tables(**P.cleaning...)``).
_SHARED_SECTIONS: tuple[tuple[type[BaseModel], str], ...] = ((CleaningParams, "cleaning"), (PrivacyParams, "privacy"))


def params_hint(message: str, section: type[BaseModel], prefix: str) -> str:
    """The message with the params key of each option it names (library code names options by
    their keyword, ``max_levels=30``; the analyst edits ``analyses.churn.max_levels``). An option
    the analysis's section does not have is looked up in the shared ``cleaning`` and ``privacy``
    sections (``duplicate_keys=`` -> ``cleaning.duplicate_keys``).

    Parameters
    ----------
    message : str
        An error or warning text.
    section : type
        The analysis's params section (the registry's ``params``).
    prefix : str
        Its key path (``analyses.churn``).

    Returns
    -------
    str
        ``message`` plus ``" (params: analyses.churn.max_levels)"`` when an option resolves to
        exactly one key; unchanged otherwise.

    Examples
    --------
    >>> from workbench.churn.params import ChurnParams
    >>> params_hint("more than max_levels=30 levels", ChurnParams, "analyses.churn")
    'more than max_levels=30 levels (params: analyses.churn.max_levels)'
    """
    paths = _field_paths(section, prefix)
    shared: dict[str, list[str]] = {}
    for model, key in _SHARED_SECTIONS:
        for name, keys_ in _field_paths(model, key).items():
            shared.setdefault(name, []).extend(keys_)
    keys: list[str] = []
    for token in _OPTION.findall(message):
        last = token.split(".")[-1]
        for table in (paths, shared):
            found = [k for k in table.get(last, []) if k.endswith("." + token)]
            if found:
                break
        if len(found) == 1 and found[0] not in keys and found[0] not in message:
            keys.append(found[0])
    return f"{message} (params: {', '.join(keys)})" if keys else message


def _warning_formatter(section: type[BaseModel], prefix: str) -> Any:
    """Warnings in reports: the class and the message (with params keys), without file paths."""

    def format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                       line: str | None = None) -> str:
        return f"{category.__name__}: {params_hint(str(message), section, prefix)}\n"

    return format_warning


def _quiet_workbench_errors(section: type[BaseModel], prefix: str) -> None:
    """In IPython, show WorkbenchError as its message only (what to fix, with the params key of
    each option it names), not a traceback."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is None:
        return

    def handler(shell, etype, evalue, tb, tb_offset=None):
        print(f"{etype.__name__}: {params_hint(str(evalue), section, prefix)}")
        return None

    ip.set_custom_exc((WorkbenchError,), handler)


def start(params_file: str | Path, *, run_dir: str | Path = "", analysis: str) -> RunContext:
    """Start an analysis: load and validate params, set the chart theme, prepare the run folder.

    Parameters
    ----------
    params_file : path
        The params YAML (relative paths are taken from the current directory).
    run_dir : path, optional
        The run folder given by the runner; empty in JupyterLab, then
        ``reports/<name>-interactive``.
    analysis : str
        Key of the calling analysis (``data_profiling``).

    Returns
    -------
    RunContext

    Raises
    ------
    ParamsError
        The params file is invalid.
    """
    from workbench.report import fmt, plotting

    section = get_analysis(analysis).params
    prefix = f"analyses.{analysis}"
    params = load_params(params_file)
    fmt.configure(currency=params.currency)
    run = Path(run_dir) if run_dir else PROJECT_ROOT / "reports" / f"{params.name}-interactive"
    run.mkdir(parents=True, exist_ok=True)
    plotting.set_theme()
    warnings.filterwarnings("default", category=UserWarning, module="workbench")
    warnings.formatwarning = _warning_formatter(section, prefix)
    pd.set_option("display.max_columns", 50)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_colwidth", 160)
    _quiet_workbench_errors(section, prefix)
    return RunContext(params=params, run_dir=run, analysis=analysis, params_file=Path(params_file).resolve())
