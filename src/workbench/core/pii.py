"""Personal data detection: which columns of a table hold names, phones, e-mails, ID numbers,
bank card numbers or addresses, found by header (Chinese and English synonyms) and by content
(a seeded sample of the values), for every column, mapped or not.

(Skeleton: the record below is the shared interface; the detectors are being written.)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["PersonalColumn", "PII_KINDS"]

PII_KINDS: tuple[str, ...] = ("name", "phone", "email", "id_number", "bank_card", "address")
DetectedBy = Literal["contract", "header", "content", "params"]


@dataclass(frozen=True)
class PersonalColumn:
    """One column found to hold personal data, and what intake did with it.

    Attributes
    ----------
    table : str
        Contract table (``orders``).
    column : str
        Column name after intake (canonical name, or the file's header for unmapped columns).
    header : str
        The header in the source file (same as ``column`` for unmapped columns).
    kind : str
        One of :data:`PII_KINDS`.
    detected_by : {'contract', 'header', 'content', 'params'}
        Why: a contract PII column (``name``, ``phone``...), a header synonym (``手机号``), the
        values (``share`` of the checked sample matched), or ``privacy.columns`` in the params.
    share : float or None
        Share of the checked non-missing values that match the kind's content rule (None when
        the column was empty or not checked).
    n_checked : int
        Non-missing values checked by content.
    treatment : {'mask', 'pseudonymize', 'drop', 'keep'}
        What intake did (``keep`` only when ``privacy.allow_personal_data``).
    """

    table: str
    column: str
    header: str
    kind: str
    detected_by: DetectedBy
    share: float | None
    n_checked: int
    treatment: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict (for ``intake.json`` and ``run.json``)."""
        return asdict(self)
