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
from workbench.core.resident import ResidentFrame, is_resident
from workbench.report import fmt
from workbench.report.i18n import category, t
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



def _kind(kind: str, *, article: bool = False) -> str:
    """A kind of personal data in words (``phone number``; ``a phone number`` with ``article``),
    in the run's language; an unknown kind as it is."""
    key = f"profiling.personal.{'a_kind' if article else 'kind'}.{kind}"
    return t(key) if kind in PII_KINDS else kind


def _treated(treatment: str) -> str:
    """What intake did, in words (``categories.pii_treatment``: ``masked`` ...)."""
    return category("pii_treatment", treatment)


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
    if kind:
        return t("profiling.personal.hidden_kind", kind=category("pii_kind", kind))
    return t("profiling.personal.hidden")


def personal_columns(
    table: str, frame: pd.DataFrame | ResidentFrame, personal_data: Sequence[PersonalColumn] | None = None
) -> dict[str, str | None]:
    """The personal-data columns of one table and their kind.

    Parameters
    ----------
    table : str
        Table name.
    frame : pandas.DataFrame or ResidentFrame
        The table (for the fallback; a table kept in the engine is judged on the seeded content
        sample intake uses, read from its Parquet).
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
    if is_resident(frame):
        from workbench.core.privacy_engine import ParquetSample

        view = ParquetSample(frame.path, size=_FALLBACK_SAMPLE, seed=0)
        try:
            found = pii_columns(table, view)  # type: ignore[arg-type]
        finally:
            view.close()
    else:
        found = pii_columns(table, frame)
    return {c: (c if c in PII_KINDS else None) for c in found}


_FALLBACK_SAMPLE = 2000
"""Values per column the standalone check of a resident table reads (as ``detect_personal_data``'s default)."""


def _reason(pc: PersonalColumn) -> str:
    """Why a column counts as personal data, without any of its values."""
    label = _kind(pc.kind)
    if pc.detected_by == "contract":
        return t("profiling.personal.reason.contract", kind=label)
    if pc.detected_by == "header":
        return t("profiling.personal.reason.header", header=repr(pc.header), a_kind=_kind(pc.kind, article=True))
    if pc.detected_by == "params":
        return t("profiling.personal.reason.params", kind=label)
    if pc.share is None:
        return t("profiling.personal.reason.content", kind=label)
    return t("profiling.personal.reason.content_share", share=fmt.pct(pc.share), n=f"{pc.n_checked:,}",
             a_kind=_kind(pc.kind, article=True))


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
        df["treated"] = [_treated(pc.treatment) for pc in self.columns]
        return df

    def summary(self) -> pd.DataFrame:
        """One row per column, in words (the run's language): ``table``, ``column``,
        ``source_header``, ``kind``, ``found_by`` (with the share of matching values for
        content), ``treatment``."""
        df = self.to_frame()
        return pd.DataFrame(
            {
                "table": df["table"],
                "column": df["column"],
                "source_header": df["header"],
                "kind": df["kind"].map(lambda k: category("pii_kind", k)),
                "found_by": df["reason"],
                "treatment": df["treated"],
            }
        )

    def warnings(self) -> list[str]:
        """The warnings of the section: raw personal data allowed, default pseudonym secret."""
        out = []
        if self.allow_personal_data:
            out.append(t("profiling.personal.warn_raw"))
        if self.default_secret:
            out.append(t("profiling.personal.warn_secret", env=self.secret_env))
        return out

    def finding(self) -> str:
        """Columns and tables with personal data, how they were treated, and the warnings."""
        return t("profiling.sep.sentence").join([_finding_text(self), *self.warnings()])

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
        return plot_personal_data(counts.rename(index=lambda k: category("pii_kind", k),
                                                columns=lambda c: category("pii_treatment", c)), ax)

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



def _finding_text(rep: PersonalDataReport) -> str:
    """The finding of :class:`PersonalDataReport` without its warnings."""
    n, tables = len(rep.columns), rep.tables
    if not n:
        return t("profiling.personal.finding.none")
    by = _counts(rep.columns, "treatment", TREATMENTS)
    done = [x for x in TREATMENTS[:3] if x in by]
    words = [t(f"profiling.personal.treated_short.{x}") for x in done]
    detail = t("profiling.sep.list_comma").join(
        t("profiling.personal.finding.count", n=f"{by[x]:,}", what=w) for x, w in zip(done, words, strict=True))
    kept = by.get("keep", 0)
    text = t("profiling.personal.finding.head",
             columns=t(f"profiling.personal.columns_n.{'one' if n == 1 else 'other'}", n=f"{n:,}"),
             tables=t(f"profiling.personal.tables_n.{'one' if len(tables) == 1 else 'other'}", n=len(tables)))
    if not kept and words:
        verbs = (t("profiling.sep.list_comma").join(words[:-1]) + t("profiling.sep.or") + words[-1]
                 if len(words) > 1 else words[0])
        more = t("profiling.personal.finding.detail", detail=detail) if len(done) > 1 else ""
        text += t("profiling.personal.finding.all_treated", verbs=verbs, detail=more)
    else:
        before = t("profiling.personal.finding.before", detail=detail) if detail else ""
        text += t("profiling.personal.finding.kept", before=before, kept=f"{kept:,}")
    if not rep.allow_personal_data:
        text += t("profiling.personal.finding.counts_only")
    return text
