"""Tables as a report shows them (scaffold: replaced by the report-table formatter)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

__all__ = ["format_table", "install_table_formatter"]


def format_table(frame: pd.DataFrame, *, max_columns: int = 8, max_rows: int = 30,
                 write_full: Callable[[pd.DataFrame], str] | None = None) -> str:
    """HTML of a table for a report (see the module docstring)."""
    return frame.to_html(index=False)


def install_table_formatter(*, max_columns: int = 8, max_rows: int = 30,
                            write_full: Callable[[pd.DataFrame], str] | None = None) -> bool:
    """Make IPython show every DataFrame through :func:`format_table`; False outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    ip = get_ipython()
    if ip is None:
        return False
    formatter = ip.display_formatter.formatters["text/html"]
    formatter.for_type(pd.DataFrame, lambda df: format_table(df, max_columns=max_columns, max_rows=max_rows,
                                                             write_full=write_full))
    return True
