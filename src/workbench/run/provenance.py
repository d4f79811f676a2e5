"""Where a run's data came from: checksums of the inputs, fingerprints of artifacts, and the
artifacts an analysis read.

A run only ever reads its own inputs. Every artifact is written with the **fingerprint** of the
inputs it was made from: the SHA-256 of each input file's bytes plus the SHA-256 of the params
(everything but the title, the description and the engine). An analysis reuses an earlier artifact only when its
fingerprint equals the current one, first in its own run folder, then in any other run folder
next to it (whatever its name); never by a folder-name match.

Hashing a file costs about a second per gigabyte; a file whose path, size and modification time
are unchanged since the run's intake keeps the checksum recorded there.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.core.params import DatasetParams
from workbench.report.results import Result

__all__ = [
    "InputFile",
    "ArtifactRef",
    "Provenance",
    "file_checksum",
    "input_files",
    "params_checksum",
    "fingerprint",
    "record_artifact",
    "find_artifact",
    "read_json_object",
    "find_earlier_artifact",
]

#: Params keys that do not change any number: titles shown in reports, and the engine (DuckDB and
#: Spark give the same numbers; tests/test_engine*.py hold them to it).
_COSMETIC_KEYS = ("title", "description", "engine")
_ARTIFACTS_JSON = "artifacts.json"


@dataclass(frozen=True)
class InputFile:
    """One input file of a run.

    Attributes
    ----------
    table : str
        Contract table it feeds.
    path : str
        Absolute path.
    sha256 : str
        Checksum of the file's bytes.
    bytes : int
        Size.
    mtime_ns : int
        Modification time when hashed (lets a later step reuse the checksum).
    """

    table: str
    path: str
    sha256: str
    bytes: int
    mtime_ns: int

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for ``intake.json``, ``run.json`` and ``metrics.json``)."""
        return asdict(self)


@dataclass(frozen=True)
class ArtifactRef:
    """An artifact found for reuse: where it is and which run made it."""

    analysis: str
    name: str
    path: Path
    run: str
    fingerprint: str
    written: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict with the path as text."""
        return {**asdict(self), "path": str(self.path)}


def file_checksum(path: str | Path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (bounded memory).

    Parameters
    ----------
    path : path
        The file.
    chunk : int, default 1 MiB
        Read size.

    Returns
    -------
    str
        64 hex digits.
    """
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def input_files(
    params: DatasetParams,
    names: Sequence[str] | None = None,
    *,
    known: Sequence[Mapping[str, Any] | InputFile] = (),
) -> list[InputFile]:
    """The input files of ``params`` (or of ``names`` of its tables) with their checksums.

    Parameters
    ----------
    params : DatasetParams
        Validated params.
    names : sequence of str, optional
        Tables; default every table.
    known : sequence of InputFile or dict, optional
        Earlier records (or their :meth:`InputFile.as_dict`): a file with the same path, size and
        modification time keeps its checksum instead of being hashed again.

    Returns
    -------
    list of InputFile
        In table order; a missing file is skipped (intake reports it).
    """
    records = [k.as_dict() if isinstance(k, InputFile) else k for k in known]
    seen = {(k["path"], k["bytes"], k["mtime_ns"]): k["sha256"] for k in records}
    out = []
    for table in names if names is not None else list(params.tables):
        path = params.resolve(params.tables[table].path)
        if not path.is_file():
            continue
        stat = path.stat()
        sha = seen.get((str(path), stat.st_size, stat.st_mtime_ns)) or file_checksum(path)
        out.append(InputFile(table, str(path), sha, stat.st_size, stat.st_mtime_ns))
    return out


def params_checksum(params: DatasetParams) -> str:
    """SHA-256 of the params that shape the numbers (all keys but ``title``, ``description`` and
    ``engine``).

    Parameters
    ----------
    params : DatasetParams
        Validated params (the root model with ``analyses`` included).

    Returns
    -------
    str
        64 hex digits; equal for params files that differ only in comments, key order or titles.
    """
    data = params.model_dump(mode="json", exclude=set(_COSMETIC_KEYS))
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def fingerprint(files: Sequence[InputFile], params: DatasetParams) -> str:
    """The fingerprint of a run's inputs: the input checksums (with their tables) and the params.

    Parameters
    ----------
    files : sequence of InputFile
        From :func:`input_files`.
    params : DatasetParams
        Validated params.

    Returns
    -------
    str
        64 hex digits.
    """
    parts = sorted(f"{f.table}:{f.sha256}" for f in files) + [params_checksum(params)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file holding an object, as a dict; empty when absent, unreadable or not an object
    (run records are best-effort: a damaged one means "nothing recorded", never a crash).

    Parameters
    ----------
    path : Path
        ``intake.json``, ``artifacts.json``, ``run.json``.

    Returns
    -------
    dict
    """
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}


def _read_records(artifacts_dir: Path) -> dict[str, Any]:
    return read_json_object(artifacts_dir / _ARTIFACTS_JSON)


def record_artifact(artifacts_dir: Path, file_name: str, *, fingerprint: str, run: str) -> None:
    """Note in ``artifacts.json`` which inputs an artifact file was made from.

    Parameters
    ----------
    artifacts_dir : Path
        The analysis's ``artifacts`` folder.
    file_name : str
        The artifact's file name (``clean_orders.parquet``).
    fingerprint : str
        :func:`fingerprint` of the run's inputs.
    run : str
        Name of the run folder that wrote it.
    """
    records = _read_records(artifacts_dir)
    records[file_name] = {"fingerprint": fingerprint, "run": run,
                          "written": dt.datetime.now().isoformat(timespec="seconds")}
    tmp = artifacts_dir / (_ARTIFACTS_JSON + ".tmp")
    tmp.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(artifacts_dir / _ARTIFACTS_JSON)


def find_artifact(
    run_dir: Path, folder: str, analysis: str, name: str, *, fingerprint: str
) -> ArtifactRef | None:
    """An artifact made from the same inputs: in this run, else in another run folder beside it.

    Parameters
    ----------
    run_dir : Path
        Current run folder.
    folder : str
        The analysis's folder in a run (``01_data_profiling``).
    analysis : str
        Analysis key that wrote it.
    name : str
        Artifact file name (``clean_orders.parquet``).
    fingerprint : str
        The current inputs' :func:`fingerprint`; only an artifact recorded with it is returned.

    Returns
    -------
    ArtifactRef or None
        Newest match first (this run wins); ``None`` when no run made it from these inputs.
    """
    others = sorted((p for p in run_dir.parent.iterdir() if p.is_dir() and p != run_dir),
                    key=lambda p: p.stat().st_mtime, reverse=True) if run_dir.parent.exists() else []
    for cand in [run_dir, *others]:
        artifacts = cand / folder / "artifacts"
        rec = _read_records(artifacts).get(name)
        if rec and rec.get("fingerprint") == fingerprint and (artifacts / name).exists():
            return _ref(analysis, name, artifacts, rec)
    return None


def _ref(analysis: str, name: str, artifacts: Path, rec: Mapping[str, Any]) -> ArtifactRef:
    """The reference to artifact ``name`` in ``artifacts`` from its ``artifacts.json`` record."""
    return ArtifactRef(analysis, name, artifacts / name, str(rec.get("run", artifacts.parent.parent.name)),
                       str(rec.get("fingerprint", "")), str(rec.get("written", "")))


def _run_facts(run_dir: Path, folder: str) -> tuple[str | None, str | None]:
    """Dataset name and ``as_of`` of an analysis in a run folder: its ``metrics.json``, else the
    run's ``run.json`` (``None`` for what neither records)."""
    facts = read_json_object(run_dir / folder / "metrics.json")
    record = read_json_object(run_dir / "run.json")
    dataset = facts.get("dataset") or record.get("dataset")
    as_of = facts.get("as_of") or record.get("as_of")
    return (str(dataset) if dataset else None), (str(as_of) if as_of else None)


def find_earlier_artifact(run_dir: Path, folder: str, analysis: str, name: str, *, dataset: str,
                          as_of: Any) -> tuple[ArtifactRef, str] | None:
    """The newest artifact ``name`` of ``analysis`` (in ``folder``) from another run folder beside
    ``run_dir`` whose run was of the same ``dataset`` with an ``as_of`` before this one.

    Unlike :func:`find_artifact` the fingerprint need not match (the data have grown since): it is
    something to compare with, never a result to reuse. The dataset name and ``as_of`` come from
    that run's ``metrics.json`` or ``run.json``; a run that records neither is never taken.

    Returns
    -------
    (ArtifactRef, str) or None
        The one with the latest ``as_of`` (then the latest written) and that ``as_of`` (ISO
        date); ``None`` when no earlier run of the dataset wrote it.
    """
    now = pd.Timestamp(str(as_of))
    found: list[tuple[pd.Timestamp, str, ArtifactRef]] = []
    for cand in (run_dir.parent.iterdir() if run_dir.parent.exists() else []):
        if not cand.is_dir() or cand.resolve() == run_dir.resolve():
            continue
        artifacts = cand / folder / "artifacts"
        rec = _read_records(artifacts).get(name)
        if not isinstance(rec, dict) or not (artifacts / name).is_file():
            continue
        their_dataset, their_as_of = _run_facts(cand, folder)
        if their_dataset != dataset or their_as_of is None:
            continue
        try:
            then = pd.Timestamp(their_as_of)
        except ValueError:
            continue
        if then < now:
            ref = _ref(analysis, name, cand / folder / "artifacts", rec)
            found.append((then, ref.written, ref))
    if not found:
        return None
    then, _, ref = max(found, key=lambda f: (f[0], f[1]))
    return ref, str(then.date())




@dataclass(frozen=True, repr=False)
class Provenance(Result):
    """Where an analysis's data came from: input files with checksums, artifacts it read.

    Attributes
    ----------
    inputs : tuple of InputFile
        The run's input files.
    read : tuple of ArtifactRef
        Artifacts of earlier analyses this one read (with the run that wrote each).
    fingerprint : str
        Fingerprint of the inputs.
    recomputed : tuple of str
        Artifacts not found for these inputs and computed here instead.
    """

    inputs: tuple[InputFile, ...]
    read: tuple[ArtifactRef, ...]
    fingerprint: str
    recomputed: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """One row per input file and per artifact read: what, where, checksum, which run."""
        rows = [{"kind": "input", "what": f.table, "where": Path(f.path).name, "checksum": f.sha256[:12],
                 "run": "", "bytes": f.bytes} for f in self.inputs]
        rows += [{"kind": "artifact", "what": f"{r.analysis}/{r.name}", "where": r.path.name,
                  "checksum": r.fingerprint[:12], "run": r.run, "bytes": None} for r in self.read]
        return pd.DataFrame(rows, columns=["kind", "what", "where", "checksum", "run", "bytes"])

    def metrics(self) -> dict[str, Any]:
        """Inputs, artifacts read and the fingerprint, JSON-able."""
        return {"fingerprint": self.fingerprint, "inputs": [f.as_dict() for f in self.inputs],
                "artifacts_read": [r.as_dict() for r in self.read], "recomputed": list(self.recomputed)}

    def finding(self) -> str:
        """One sentence: how many input files, which artifacts came from which run."""
        text = f"{len(self.inputs)} input file(s), fingerprint {self.fingerprint[:12]}"
        reused = [r for r in self.read if r.fingerprint == self.fingerprint]
        compared = [r for r in self.read if r.fingerprint != self.fingerprint]
        if reused:
            runs = sorted({r.run for r in reused})
            text += f"; {len(reused)} artifact(s) read from run(s) {', '.join(runs)}, made from the same inputs"
        if compared:
            runs = sorted({r.run for r in compared})
            text += (f"; {len(compared)} artifact(s) of earlier run(s) {', '.join(runs)} compared with this "
                     "one (other inputs: never reused as results)")
        if self.recomputed:
            text += f"; recomputed here (no artifact from these inputs): {', '.join(self.recomputed)}"
        return text + "."
