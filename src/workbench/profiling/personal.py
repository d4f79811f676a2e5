"""Personal data in the profiling report: which columns hold it and how intake treated them.

:func:`personal_data_section` turns the intake's detections
(:class:`workbench.core.pii.PersonalColumn`, one per column found) into a
:class:`PersonalDataReport`: which columns of which tables, why (contract column, header synonym,
content with the share of matching values, or the params), and what intake did (masked,
pseudonymized, dropped, or kept raw because ``privacy.allow_personal_data``). It never holds a
value of such a column.

:func:`personal_columns` gives the personal columns of one table for the rest of the profile,
which shows only their counts (missing, distinct) and :func:`hidden_label` instead of values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from workbench.core.contract import TABLES, pii_columns
from workbench.core.pii import PII_KINDS, PersonalColumn
from workbench.report import fmt
from workbench.report.results import Result

__all__ = [
    "PersonalDataReport",
    "personal_data_section",
    "personal_columns",
    "hidden_label",
    "TREATMENTS",
]

TREATMENTS: tuple[str, ...] = ("mask", "pseudonymize", "drop", "keep")
"""What intake may do to a personal-data column, in report order."""

_KIND_LABELS: dict[str, str] = {
    "name": "name",
    "phone": "phone number",
    "email": "e-mail address",
    "id_number": "ID number",
    "bank_card": "bank card number",
    "address": "address",
}
_TREATED: dict[str, str] = {
    "mask": "masked",
    "pseudonymize": "pseudonymized (keyed)",
    "drop": "dropped",
    "keep": "kept raw (privacy.allow_personal_data)",
}


def hidden_label(kind: str | None) -> str:
    """What the profile shows instead of the values of a personal-data column.

    Parameters
    ----------
    kind : str or None
        Kind of personal data (:data:`workbench.core.pii.PII_KINDS`), None when unknown.

    Returns
    -------
    str
        ``"personal data (phone), values hidden"``, or ``"personal data, values hidden"``.

    Examples
    --------
    >>> hidden_label("phone")
    'personal data (phone), values hidden'
    """
    return f"personal data ({kind}), values hidden" if kind else "personal data, values hidden"


def personal_columns(
    table: str, frame: pd.DataFrame, personal_data: Sequence[PersonalColumn] | None = None
) -> dict[str, str | None]:
    """The personal-data columns of one table and their kind.

    Parameters
    ----------
    table : str
        Table name.
    frame : pandas.DataFrame
        The table (for the fallback).
    personal_data : sequence of PersonalColumn, optional
        What intake found in every table (``ctx.personal_data()``); the entries of ``table`` are
        used, whatever their treatment. When omitted (standalone use), the contract's personal
        columns and extra columns that look personal
        (:func:`workbench.core.contract.pii_columns`) are used, for contract tables only.

    Returns
    -------
    dict of str to str or None
        Column -> kind of personal data (None when the fallback cannot tell), in the order found.
    """
    if personal_data is not None:
        return {pc.column: pc.kind for pc in personal_data if pc.table == table}
    if table not in TABLES:
        return {}
    return {c: (c if c in PII_KINDS else None) for c in pii_columns(table, frame)}


def _a(label: str) -> str:
    """``label`` with its indefinite article (``a phone number``, ``an address``)."""
    return f"{'an' if label[:1].lower() in 'aeiou' or label.startswith('ID') else 'a'} {label}"


def _reason(pc: PersonalColumn) -> str:
    """Why a column counts as personal data, without any of its values."""
    label = _KIND_LABELS.get(pc.kind, pc.kind)
    if pc.detected_by == "contract":
        return f"contract column ({label})"
    if pc.detected_by == "header":
        return f"header {pc.header!r} is {_a(label)} synonym"
    if pc.detected_by == "params":
        return f"listed in privacy.columns ({label})"
    if pc.share is None:
        return f"content ({label})"
    return f"content: {fmt.pct(pc.share)} of {pc.n_checked:,} checked values look like {_a(label)}"


def _counts(columns: Sequence[PersonalColumn], field: str, order: Sequence[str]) -> dict[str, int]:
    """Columns per value of ``field`` (known values in ``order`` first, zeros left out)."""
    values = [getattr(pc, field) for pc in columns]
    keys = list(order) + sorted({v for v in values if v not in order})
    return {k: values.count(k) for k in keys if values.count(k)}


@dataclass(frozen=True)
class PersonalDataReport(Result):
    """The personal-data section of the profiling report (see :func:`personal_data_section`).

    Attributes
    ----------
    columns : tuple of PersonalColumn
        One per column found, in the order given.
    allow_personal_data : bool
        ``privacy.allow_personal_data``: personal data is kept and shown raw.
    default_secret : bool
        Pseudonyms use the secret shipped with the workbench.
    secret_env : str
        The environment variable that sets the secret (named in the warning).
    """

    columns: tuple[PersonalColumn, ...]
    allow_personal_data: bool = False
    default_secret: bool = False
    secret_env: str = "WORKBENCH_SECRET"

    @property
    def tables(self) -> list[str]:
        """Tables with at least one personal-data column, in order of appearance."""
        return list(dict.fromkeys(pc.table for pc in self.columns))

    def to_frame(self) -> pd.DataFrame:
        """Every detection with its figures.

        Returns
        -------
        pandas.DataFrame
            One row per column: ``table``, ``column``, ``header``, ``kind``, ``detected_by``,
            ``share``, ``n_checked``, ``treatment``, ``reason``, ``treated``.
        """
        cols = ["table", "column", "header", "kind", "detected_by", "share", "n_checked", "treatment"]
        df = pd.DataFrame([pc.as_dict() for pc in self.columns], columns=cols)
        df["reason"] = [_reason(pc) for pc in self.columns]
        df["treated"] = [_TREATED.get(pc.treatment, pc.treatment) for pc in self.columns]
        return df

    def summary(self) -> pd.DataFrame:
        """One row per column, in words: ``table``, ``column``, ``source header``, ``kind``,
        ``found by`` (with the share of matching values for content), ``treatment``."""
        df = self.to_frame()
        return pd.DataFrame(
            {
                "table": df["table"],
                "column": df["column"],
                "source header": df["header"],
                "kind": df["kind"],
                "found by": df["reason"],
                "treatment": df["treated"],
            }
        )

    def warnings(self) -> list[str]:
        """The warnings of the section: raw personal data allowed, default pseudonym secret."""
        out = []
        if self.allow_personal_data:
            out.append("WARNING: privacy.allow_personal_data is true: personal data is kept raw and shown "
                       "in reports and artifacts.")  # fmt: skip
        if self.default_secret:
            out.append(f"WARNING: pseudonyms use the shipped default secret: set privacy.salt or the "
                       f"{self.secret_env} environment variable.")  # fmt: skip
        return out

    def finding(self) -> str:
        """Columns and tables with personal data, how they were treated, and the warnings."""
        n, tables = len(self.columns), self.tables
        if not n:
            text = "No personal data found in any column (checked by header and by content)."
        else:
            by = _counts(self.columns, "treatment", TREATMENTS)
            done = [t for t in TREATMENTS[:3] if t in by]
            words = [_TREATED[t].split(" (")[0] for t in done]
            detail = ", ".join(f"{by[t]} {w}" for t, w in zip(done, words, strict=True))
            kept = by.get("keep", 0)
            text = (f"{n} column{'s' if n != 1 else ''} in {len(tables)} table{'s' if len(tables) != 1 else ''} "
                    f"hold personal data")  # fmt: skip
            if not kept and words:
                verbs = ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0]
                text += f"; all {verbs} before analysis{f' ({detail})' if len(done) > 1 else ''}; none shown raw."
            else:
                text += (f"; {detail + ' before analysis, ' if detail else ''}{kept} kept raw because "
                         "privacy.allow_personal_data is true.")  # fmt: skip
            if not self.allow_personal_data:
                text += " This report shows their counts only, never their values."
        return " ".join([text, *self.warnings()])

    def metrics(self) -> dict[str, Any]:
        """Columns and tables with personal data; columns per kind, treatment, reason and table."""
        return {
            "columns": len(self.columns),
            "tables": len(self.tables),
            "by_kind": _counts(self.columns, "kind", PII_KINDS),
            "by_treatment": _counts(self.columns, "treatment", TREATMENTS),
            "by_detected_by": _counts(self.columns, "detected_by", ("contract", "header", "content", "params")),
            "by_table": _counts(self.columns, "table", self.tables),
            "allow_personal_data": bool(self.allow_personal_data),
            "default_secret": bool(self.default_secret),
        }

    def plot(self, ax: Any = None) -> Any:
        """Personal-data columns per kind, stacked by treatment.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from workbench.profiling.plots import plot_personal_data

        df = self.to_frame()
        counts = pd.DataFrame()
        if len(df):
            counts = pd.crosstab(df["kind"], df["treatment"])
            kinds = [k for k in PII_KINDS if k in counts.index] + [k for k in counts.index if k not in PII_KINDS]
            treatments = [t for t in TREATMENTS if t in counts] + [t for t in counts if t not in TREATMENTS]
            counts = counts.loc[kinds, treatments]
        return plot_personal_data(counts, ax)

    def __repr__(self) -> str:
        return f"PersonalDataReport(columns={len(self.columns)}, tables={len(self.tables)})"


def personal_data_section(
    columns: Sequence[PersonalColumn],
    *,
    allow_personal_data: bool,
    default_secret: bool,
    secret_env: str = "WORKBENCH_SECRET",
) -> PersonalDataReport:
    """The personal-data section of the profiling report.

    Parameters
    ----------
    columns : sequence of PersonalColumn
        What intake found and did, one per column (``ctx.personal_data()``).
    allow_personal_data : bool
        ``privacy.allow_personal_data`` (the finding warns when true).
    default_secret : bool
        ``privacy.default_secret``: pseudonyms use the shipped secret (the finding warns).
    secret_env : str, default "WORKBENCH_SECRET"
        ``privacy.secret_env``, named in the warning.

    Returns
    -------
    PersonalDataReport
        Which columns, why and how treated; never a value.

    Examples
    --------
    >>> rep = personal_data_section(ctx.personal_data(), allow_personal_data=P.privacy.allow_personal_data,
    ...                             default_secret=P.privacy.default_secret)  # doctest: +SKIP
    >>> rep.summary()  # doctest: +SKIP
    """
    return PersonalDataReport(
        columns=tuple(columns),
        allow_personal_data=allow_personal_data,
        default_secret=default_secret,
        secret_env=secret_env,
    )

