"""Exceptions and warnings that name what to fix.

Every error a user can provoke through data or params is a :class:`WorkbenchError`. Its message
names the table, the column (and the analyst's own header), the rows affected with a few example
values, and the params key to change. Statistical caveats are warnings of their own classes so a
notebook can show them and a test can catch them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "WorkbenchError",
    "ParamsError",
    "ContractError",
    "AnalysisError",
    "DataQualityWarning",
    "StatisticalWarning",
    "format_examples",
    "did_you_mean",
    "closest",
    "example_values",
]


class WorkbenchError(Exception):
    """Base class of all errors raised for bad input (data or params)."""


class ParamsError(WorkbenchError):
    """The params file is wrong: unknown key, wrong type, missing file.

    Parameters
    ----------
    problems : sequence of str
        One line per problem, each starting with the key path (``tables.orders.path``).
    source : str, optional
        The params file the problems were found in.
    """

    def __init__(self, problems: Sequence[str] | str, *, source: str | None = None) -> None:
        if isinstance(problems, str):
            problems = [problems]
        self.problems = list(problems)
        self.source = source
        head = f"params file {source}" if source else "params"
        lines = [f"{head}: {len(self.problems)} problem(s)"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ContractError(WorkbenchError):
    """A table does not meet the data contract.

    Parameters
    ----------
    table : str
        Contract table name (``orders``).
    message : str
        What is wrong.
    column : str, optional
        Canonical column name.
    source_column : str, optional
        The analyst's header the column was mapped from (``实付金额``).
    n_rows : int, optional
        Rows affected.
    n_total : int, optional
        Rows in the table.
    examples : iterable, optional
        A few offending values.
    params_key : str, optional
        The params key to change (``tables.orders.columns.amount``).
    """

    def __init__(
        self,
        table: str,
        message: str,
        *,
        column: str | None = None,
        source_column: str | None = None,
        n_rows: int | None = None,
        n_total: int | None = None,
        examples: Iterable[Any] | None = None,
        params_key: str | None = None,
    ) -> None:
        self.table = table
        self.column = column
        self.source_column = source_column
        self.n_rows = n_rows
        self.n_total = n_total
        self.examples = list(examples) if examples is not None else []
        self.params_key = params_key
        where = table if column is None else f"{table}.{column}"
        if source_column and source_column != column:
            where += f" (from {source_column!r})"
        text = f"{where}: "
        if n_rows is not None:
            text += f"{n_rows:,}" + (f" of {n_total:,}" if n_total is not None else "") + " rows "
        text += message
        if self.examples:
            text += f", e.g. {format_examples(self.examples)}"
        if params_key:
            text += f"; fix the data or params key {params_key}"
        self.detail = message
        super().__init__(text)


class AnalysisError(WorkbenchError):
    """An analysis cannot run on this data as configured (too few rows, one class only, ...)."""


class DataQualityWarning(UserWarning):
    """Data can be used but something in it deserves the analyst's attention."""


class StatisticalWarning(UserWarning):
    """A statistical assumption is doubtful or an estimate is fragile."""


def format_examples(values: Iterable[Any], limit: int = 5) -> str:
    """Format a few example values for an error message.

    Parameters
    ----------
    values : iterable
        Values to show; only the first distinct ``limit`` are used.
    limit : int, default 5
        How many to show.

    Returns
    -------
    str
        Comma-separated ``repr`` of the values.

    Examples
    --------
    >>> format_examples(["abc", "—", "abc"])
    "'abc', '—'"
    """
    seen: list[Any] = []
    for v in values:
        if v not in seen:
            seen.append(v)
        if len(seen) >= limit:
            break
    return ", ".join(repr(v) for v in seen)


def example_values(values: Any, limit: int = 5) -> list[Any]:
    """The first ``limit`` distinct non-missing values, in order of appearance.

    Parameters
    ----------
    values : pandas.Series or array-like
        Values to pick examples from (e.g. the rows that failed a check).
    limit : int, default 5
        How many to return at most.

    Returns
    -------
    list
        Up to ``limit`` values (for a message: :func:`format_examples`).

    Examples
    --------
    >>> example_values(["abc", None, "—", "abc", "x"], limit=2)
    ['abc', '—']
    """
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    return series.dropna().drop_duplicates().head(limit).tolist()


def closest(name: Any, choices: Iterable[Any], *, cutoff: float = 0.6) -> str | None:
    """The choice most similar to ``name`` (``difflib``), or None when none is close enough.

    Parameters
    ----------
    name : str
        What was given.
    choices : iterable
        What is allowed.
    cutoff : float, default 0.6
        ``difflib`` similarity a suggestion needs.

    Returns
    -------
    str or None

    Examples
    --------
    >>> closest("oders", ["orders", "customers"])
    'orders'
    """
    import difflib

    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=cutoff)
    return close[0] if close else None


def did_you_mean(name: Any, choices: Iterable[Any], *, cutoff: float = 0.6) -> str:
    """A did-you-mean hint for a name that is not among ``choices`` (empty when none is close).

    Parameters
    ----------
    name : str
        What was given.
    choices : iterable
        What is allowed.
    cutoff : float, default 0.6
        ``difflib`` similarity a suggestion needs.

    Returns
    -------
    str
        ``" (did you mean 'orders'?)"`` or ``""``.

    Examples
    --------
    >>> did_you_mean("oders", ["orders", "customers"])
    " (did you mean 'orders'?)"
    """
    close = closest(name, choices, cutoff=cutoff)
    return f" (did you mean {close!r}?)" if close is not None else ""
