"""Params: one YAML file per dataset, typed and validated before anything runs.

This module holds the machinery (strict models, error messages with key paths, loading) and the
sections every analysis shares (tables, intake, cleaning, privacy). Each analysis declares its
own section in ``workbench/<analysis>/params.py``; ``workbench.run.params`` assembles the root
model from the analysis registry.

Nothing else in the package reads YAML. Relative paths in a params file are resolved against the
folder of that file, so the same file works from the project root, from ``notebooks/`` in
JupyterLab, and from papermill.

Errors name the key path, what was expected and what was found; unknown keys get a did-you-mean.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from workbench.core.contract import DEFAULT_PLACEHOLDERS, TABLES
from workbench.core.errors import ParamsError, closest, did_you_mean

P = TypeVar("P", bound=BaseModel)

__all__ = [
    "StrictModel",
    "AnalysisSection",
    "DatasetParams",
    "TableSource",
    "IntakeParams",
    "CleaningParams",
    "PrivacyParams",
    "EngineParams",
    "ReportParams",
    "load_params",
    "params_from_dict",
]


class StrictModel(BaseModel):
    """Base of every params model: unknown keys are errors, defaults are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class AnalysisSection(StrictModel):
    """Base of an analysis's params section (``analyses.<key>``): on or off, plus its options."""

    enabled: bool = True


class TableSource(StrictModel):
    """Where one contract table comes from and how its headers map onto the contract."""

    path: Path = Field(description="file (CSV, Excel, Parquet) or DuckDB database")
    format: Literal["auto", "csv", "excel", "parquet", "duckdb"] = "auto"
    encoding: Literal["auto", "utf-8", "utf-8-sig", "gbk", "gb18030", "gb2312", "big5", "latin-1"] = "auto"
    sep: str = Field(",", description='CSV delimiter; "whitespace" for space-separated logs')
    header: bool = Field(True, description="first row holds the headers")
    column_names: list[str] | None = Field(None, description="headers to use when header: false")
    sheet: str | int | None = Field(None, description="Excel sheet name or index (default: first)")
    table: str | None = Field(None, description="table or view name in a DuckDB database")
    columns: dict[str, str] = Field(description="canonical column -> header in your file")
    constants: dict[str, Any] = Field(default_factory=dict, description="canonical column -> constant")
    date_format: str | None = Field(None, description="strftime format tried before auto-detection")
    true_values: list[str] | None = None
    false_values: list[str] | None = None
    keep_extra_columns: bool = True

    @field_validator("sep")
    @classmethod
    def _sep(cls, v: str) -> str:
        if v not in {"whitespace", "\t", ",", ";", "|"} and len(v) != 1:
            raise ValueError('sep must be one character or "whitespace"')
        return v


class IntakeParams(StrictModel):
    """How raw values are read."""

    placeholders: list[str] = Field(default_factory=lambda: list(DEFAULT_PLACEHOLDERS))
    extra_placeholders: list[str] = Field(default_factory=list, description="added to placeholders")
    max_unparseable_share: float = Field(0.01, ge=0, le=1)


class CleaningParams(StrictModel):
    """Cleaning rules; each is applied and logged with the rows it touched."""

    drop_exact_duplicates: bool = True
    duplicate_keys: Literal["keep_first", "keep_last", "flag", "error"] = "keep_last"
    orphan_orders: Literal["drop", "flag", "keep"] = "flag"
    negative_amounts: Literal["refund", "drop", "keep"] = Field(
        "refund", description="negative amount lines: treat as refunds, drop, or keep as they are"
    )
    out_of_range_dates: Literal["drop", "flag", "keep"] = Field(
        "drop",
        description="dates datetime64[ns] cannot hold (year 2999, 0001): drop the row (own time) or leave the "
        "date blank, flag, or keep blank",
    )
    future_dates: Literal["drop", "flag", "keep"] = "drop"
    prelaunch_dates: Literal["drop", "flag", "keep"] = "drop"
    extreme_spenders: Literal["flag", "drop", "cap", "keep"] = "flag"
    extreme_spender_mad_z: float = Field(
        4.5, gt=0, description="robust z (median/MAD) of log total spend above which a customer is extreme"
    )
    missing_required: Literal["drop", "keep"] = "drop"
    impute: dict[str, Literal["median", "mode", "unknown", "zero"]] = Field(
        default_factory=dict, description='"table.column" -> imputation rule'
    )


PiiKind = Literal["name", "phone", "email", "id_number", "bank_card", "address"]
PiiTreatment = Literal["mask", "pseudonymize", "drop"]
#: The secret shipped with the workbench: pseudonyms made with it can be recomputed by anyone.
DEFAULT_SECRET = "crm-workbench"


def _default_treatments() -> dict[str, str]:
    return {"name": "mask", "phone": "mask", "email": "mask", "id_number": "mask",
            "bank_card": "drop", "address": "mask"}


class PrivacyParams(StrictModel):
    """What personal data may leave the workbench, and how it is treated at intake.

    Every column of every table (mapped or not) is checked for personal data by header and by
    content; detected columns get the treatment of their kind before anything else sees them.
    """

    allow_personal_data: bool = Field(False, description="keep names/phones/e-mails raw in reports and artifacts")
    allow_raw_keys: bool = Field(False, description="export raw customer keys instead of pseudonyms")
    salt: str = Field(DEFAULT_SECRET, description="secret of the keyed pseudonyms (HMAC-SHA256); set your own")
    secret_env: str = Field(
        "WORKBENCH_SECRET", description="environment variable whose value, when set, is the secret instead of salt"
    )
    treatment: dict[PiiKind, PiiTreatment] = Field(
        default_factory=_default_treatments, description="kind of personal data -> mask, pseudonymize or drop"
    )
    columns: dict[str, Literal["mask", "pseudonymize", "drop", "not_personal"]] = Field(
        default_factory=dict,
        description='"table.column" (canonical name or header) -> treatment, or not_personal for a false alarm',
    )
    detect_sample: int = Field(2000, ge=50, description="values per column checked by content (seeded sample)")
    detect_min_share: float = Field(
        0.5, gt=0, le=1, description="share of checked values that must look personal for a content detection"
    )

    @field_validator("treatment")
    @classmethod
    def _all_kinds(cls, v: dict[str, str]) -> dict[str, str]:
        return {**_default_treatments(), **v}

    def secret(self) -> str:
        """The pseudonym secret: the ``secret_env`` environment variable when set, else ``salt``."""
        import os

        return os.environ.get(self.secret_env) or self.salt

    @property
    def default_secret(self) -> bool:
        """True when pseudonyms use the secret shipped with the workbench (reports warn)."""
        return self.secret() == DEFAULT_SECRET


class EngineParams(StrictModel):
    """The query engine of a run (``engine:``): one connection, passed to every computation.

    DuckDB (the default) is embedded: nothing to start. Spark runs the same expressions in local
    mode or on a cluster; models still fit in pandas on the driver.
    """

    backend: Literal["duckdb", "spark"] = Field("duckdb", description="duckdb (embedded) or spark")
    database: str = Field(":memory:", description='duckdb: ":memory:" or a database file (relative to the params file)')
    threads: int | None = Field(None, ge=1, description="engine threads (duckdb; spark: local[n] for local[*]); default all cores")
    memory_limit: str | None = Field(None, description='memory the engine may use, e.g. "4GB" (spark: driver memory)')
    master: str = Field("local[*]", min_length=1, description='spark: "local[n]" or a cluster URL (spark://host:7077, yarn)')
    config: dict[str, str] = Field(default_factory=dict, description="spark: extra settings, e.g. spark.executor.memory: 8g")
    resident_rows: int | None = Field(
        5_000_000, ge=0,
        description="tables with more rows stay in the engine (Parquet in the run's intake/), never in pandas; null: never",
    )

    @field_validator("memory_limit")
    @classmethod
    def _memory_size(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\s*\d+(\.\d+)?\s*([KMGT]i?B|B)\s*", v, flags=re.IGNORECASE):
            raise ValueError("must be a size such as '4GB', '512MB' or '2GiB' (or null: no limit)")
        return v.strip().replace(" ", "") if v is not None else v

    @field_validator("database")
    @classmethod
    def _database(cls, v: str) -> str:
        if not v.strip():
            raise ValueError('database must be ":memory:" or a file path')
        return v

    @field_validator("config", mode="before")
    @classmethod
    def _config_text(cls, v: Any) -> Any:
        # YAML reads `spark.executor.instances: 4` as a number and `...enabled: true` as a bool
        if isinstance(v, dict):
            return {k: (str(x).lower() if isinstance(x, bool) else str(x) if isinstance(x, (int, float)) else x)
                    for k, x in v.items()}
        return v

    def database_path(self, base_dir: Path | str = ".") -> str:
        """``":memory:"``, or the database file resolved against ``base_dir`` (the params folder)."""
        if self.database == ":memory:":
            return self.database
        p = Path(self.database).expanduser()
        return str(p if p.is_absolute() else (Path(base_dir) / p).resolve())


class ReportParams(StrictModel):
    """How reports read (``report:``): the reader's language and the page's limits.

    Everything a reader sees follows ``language`` (headings, narrative, findings, table labels,
    chart text, warnings, the index page); the user's own data values stay as they are.
    """

    language: Literal["en", "zh"] = Field("en", description="zh (简体中文) or en; --lang on the CLI overrides it")
    pdf: bool = Field(False, description="also write report.pdf next to each report.html (headless Chromium); --pdf on the CLI")
    max_table_columns: int = Field(8, ge=2, le=30, description="columns shown in a report table; the full table is linked as CSV")
    max_table_rows: int = Field(30, ge=5, le=500, description="rows shown in a report table before it is cut with a note")


class DatasetParams(StrictModel):
    """The params of one dataset that every analysis shares (the root model adds ``analyses``).

    Attributes
    ----------
    name : str
        Short name of the dataset; used in report folder names.
    title : str
        Title shown in reports.
    as_of : date
        Features and labels use only data up to this date.
    launch_date : date, optional
        When the business started; earlier dates are implausible.
    seed : int
        Seed of every random step.
    tables : dict
        Contract table name -> :class:`TableSource`.
    engine : EngineParams
        The query engine (DuckDB or Spark) the run's computations use.
    report : ReportParams
        The report language and table limits.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    description: str = ""
    as_of: dt.date
    launch_date: dt.date | None = None
    currency: str = "¥"
    seed: int = 42
    tables: dict[str, TableSource]
    ground_truth: Path | None = Field(
        None, description="synthetic data only: per-customer truth file, for recovery checks in reports"
    )
    intake: IntakeParams = Field(default_factory=IntakeParams)
    cleaning: CleaningParams = Field(default_factory=CleaningParams)
    privacy: PrivacyParams = Field(default_factory=PrivacyParams)
    engine: EngineParams = Field(default_factory=EngineParams)
    report: ReportParams = Field(default_factory=ReportParams)
    base_dir: Path = Field(Path("."), exclude=True, description="folder of the params file")

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, v: dict[str, TableSource]) -> dict[str, TableSource]:
        unknown = [k for k in v if k not in TABLES]
        if unknown:
            hints = [f"{u!r}{did_you_mean(u, TABLES)}" for u in unknown]
            raise ValueError(f"unknown table(s) {', '.join(hints)}; contract tables: {', '.join(TABLES)}")
        if not v:
            raise ValueError("at least one table is needed")
        return v

    @model_validator(mode="after")
    def _dates(self) -> DatasetParams:
        if self.launch_date and self.launch_date > self.as_of:
            raise ValueError(f"launch_date {self.launch_date} is after as_of {self.as_of}")
        return self

    def resolve(self, path: Path | str) -> Path:
        """Resolve a path from the params file against the file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def placeholders(self) -> list[str]:
        """Placeholder texts in force (defaults plus extras)."""
        return list(self.intake.placeholders) + list(self.intake.extra_placeholders)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names valid at location ``loc`` (for did-you-mean)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part)
            if field is None:
                return []
            ann = field.annotation
            args = getattr(ann, "__args__", ())
            nxt = None
            for cand in (ann, *args):
                if isinstance(cand, type) and issubclass(cand, BaseModel):
                    nxt = cand
            if nxt is None and args:  # dict[str, Model]
                for cand in args:
                    if isinstance(cand, type) and issubclass(cand, BaseModel):
                        nxt = cand
            current = nxt if nxt is not None else (args[-1] if args else None)
        else:
            # inside a dict[str, Model]: the key is free, step through it
            continue
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _format_errors(err: ValidationError, raw: dict[str, Any], model: type[BaseModel]) -> list[str]:
    lines = []
    for e in err.errors():
        loc = tuple(e["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            choices = _fields_at(model, loc[:-1])
            if loc and loc[0] == "tables" and len(loc) == 3:
                choices = list(TableSource.model_fields)
            close = closest(loc[-1], choices)
            hint = f"; did you mean {'.'.join(map(str, loc[:-1] + (close,)))!r}?" if close else ""
            lines.append(f"{key}: unknown key{hint} (allowed: {', '.join(c for c in choices if c != 'base_dir')})")
        elif e["type"] == "missing":
            lines.append(f"{key}: required key is missing")
        else:
            got = e.get("input")
            got_s = repr(got) if not isinstance(got, dict) else "a mapping"
            lines.append(f"{key}: {e['msg']} (got {got_s})")
    return lines


def params_from_dict(
    data: dict[str, Any], *, model: type[P], base_dir: Path | str = ".", source: str | None = None, check_files: bool = True
) -> P:
    """Validate a params mapping.

    Parameters
    ----------
    data : dict
        Parsed YAML.
    model : type
        The root params model (``workbench.run.params.Params``).
    base_dir : path
        Folder relative paths are resolved against.
    source : str, optional
        File name for error messages.
    check_files : bool, default True
        Check that every table's file exists.

    Returns
    -------
    model

    Raises
    ------
    ParamsError
        Listing every problem with its key path.
    """
    if not isinstance(data, dict):
        raise ParamsError("the file must be a YAML mapping of keys to values", source=source)
    data = {k: v for k, v in data.items() if k != "base_dir"}
    try:
        params = model.model_validate({**data, "base_dir": Path(base_dir).resolve()})
    except ValidationError as err:
        raise ParamsError(_format_errors(err, data, model), source=source) from None
    if check_files:
        problems = []
        if params.ground_truth is not None and not params.resolve(params.ground_truth).exists():
            problems.append(f"ground_truth: file not found: {params.resolve(params.ground_truth)}")
        for name, t in params.tables.items():
            p = params.resolve(t.path)
            if not p.exists():
                problems.append(f"tables.{name}.path: file not found: {p}")
        if problems:
            raise ParamsError(problems, source=source)
    return params


def load_params(
    path: Path | str, *, model: type[P], overrides: dict[str, Any] | None = None, check_files: bool = True
) -> P:
    """Read and validate a params YAML file.

    Parameters
    ----------
    path : path
        The params file.
    model : type
        The root params model (``workbench.run.params.Params``).
    overrides : dict, optional
        Dotted keys -> values applied on top (``{"as_of": "2025-06-30"}``).
    check_files : bool, default True
        Check that data files exist.

    Returns
    -------
    model

    Raises
    ------
    ParamsError
        File missing, not YAML, or not valid.
    """
    p = Path(path)
    if not p.exists():
        raise ParamsError(f"params file not found: {p.resolve()}", source=str(path))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"not valid YAML: {err}", source=str(path)) from None
    for dotted, value in (overrides or {}).items():
        cur = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            cur = cur.setdefault(part, {})
        cur[parts[-1]] = value
    return params_from_dict(data, model=model, base_dir=p.resolve().parent, source=str(path), check_files=check_files)
