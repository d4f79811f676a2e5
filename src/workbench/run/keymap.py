"""Acting on a pseudonymized list: turn its pseudonyms back into the real customer keys, written
only on explicit request and never under ``reports/``.

Retention and targeting lists carry keyed pseudonyms (HMAC-SHA256 with the privacy secret), so
they can be handed around with the reports. The CRM team needs the real keys to act: this
module recomputes the pseudonym of every key of the inputs with the same secret (nothing is
stored in the run folder), joins the list on it and writes the list with a ``raw_<column>``
column to a path outside the reports folder.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from workbench.core.errors import WorkbenchError
from workbench.core.io import load_tables, write_excel_csv
from workbench.core.params import DatasetParams
from workbench.run.manifest import read_written_table

__all__ = ["key_map", "raw_key_lookup"]


def raw_key_lookup(params: DatasetParams, *, column: str = "customer_id") -> pd.DataFrame:
    """Every customer key of the inputs with the forms it takes in reports.

    Parameters
    ----------
    params : DatasetParams
        Validated params (the secret comes from ``privacy``).
    column : str, default "customer_id"
        Key column.

    Returns
    -------
    pandas.DataFrame
        Columns ``raw`` (the key in the source files), ``intake`` (the key after intake: equal to
        ``raw`` unless the key itself looked personal and was pseudonymized) and ``pseudonym``
        (the key in pseudonymized lists); one row per distinct key.
    """
    from workbench.core.privacy import pseudonymize
    from workbench.run.intake import protect_loaded

    parts = []
    for table in load_tables(params).values():
        if column not in table.frame:
            continue
        # only the key column: detection and treatment are per column, so it is treated as in the
        # run without masking every other column of the table again
        keys_only = replace(table, frame=table.frame[[column]])
        treated, _ = protect_loaded(keys_only, params, seed=params.seed)
        if column not in treated.frame:
            continue
        parts.append(pd.DataFrame({"raw": table.frame[column].astype("string"),
                                   "intake": treated.frame[column].astype("string")}))
    if not parts:
        raise WorkbenchError(f"no table of the params has a {column!r} column to map keys from")
    keys = pd.concat(parts, ignore_index=True).dropna().drop_duplicates()
    return keys.assign(pseudonym=pseudonymize(keys["intake"], salt=params.privacy.secret())).reset_index(drop=True)


def _inside_reports(path: Path, reports_dir: Path) -> bool:
    path = path.resolve()
    if reports_dir.resolve() in [path, *path.parents]:
        return True
    return any((parent / "run.json").exists() or parent.name == "reports" for parent in path.parents)


def _read_list(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise WorkbenchError(f"list file not found: {path}")
    return read_written_table(path)


def key_map(params: DatasetParams, list_path: str | Path, out: str | Path, *, column: str = "customer_id",
            reports_dir: str | Path = "reports") -> tuple[Path, int, int]:
    """Write ``list_path`` with the real keys added, to ``out`` (outside the reports folder).

    Parameters
    ----------
    params : DatasetParams
        The params of the run that made the list (same inputs, same secret).
    list_path : path
        A retention, targeting or tag list (CSV or Parquet) from a run folder.
    out : path
        Where to write the list with real keys (CSV, UTF-8 with BOM). Refused under
        ``reports_dir`` or any run folder.
    column : str, default "customer_id"
        The list's key column.
    reports_dir : path, default "reports"
        The reports folder to keep raw keys out of.

    Returns
    -------
    tuple of (Path, int, int)
        The file written, the rows mapped and the rows whose key was not found.

    Raises
    ------
    WorkbenchError
        ``out`` is inside the reports folder, the list has no ``column``, or no key matched
        (another dataset's list, or another secret).
    """
    out = Path(out)
    if _inside_reports(out, Path(reports_dir)):
        raise WorkbenchError(f"keymap: {out} is inside a reports folder; real keys must not be written there: "
                             "choose a path outside reports/ (e.g. a folder only the CRM team can read)")
    frame = _read_list(Path(list_path))
    if column not in frame:
        raise WorkbenchError(f"keymap: {list_path} has no column {column!r}; its columns: {list(frame.columns)} "
                             "(pass --column)")
    lookup = raw_key_lookup(params, column=column)
    by_pseudonym = dict(zip(lookup["pseudonym"], lookup["raw"], strict=True))
    by_intake = dict(zip(lookup["intake"], lookup["raw"], strict=True))
    keys = frame[column].astype("string")
    raw = keys.map(by_pseudonym).fillna(keys.map(by_intake))
    n_found = int(raw.notna().sum())
    if n_found == 0 and len(frame):
        raise WorkbenchError(f"keymap: none of the {len(frame):,} keys of {list_path} is a key or pseudonym of "
                             f"{params.name}'s inputs; was the list made from these params and the same secret "
                             f"(privacy.salt or ${params.privacy.secret_env})?")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.insert(frame.columns.get_loc(column) + 1, f"raw_{column}", raw)
    write_excel_csv(frame, out)
    return out, n_found, int(len(frame) - n_found)
