"""Marketing consent of customers: who may be put on a list handed to marketing.

Every list the workbench hands out (retention, targeting, next best offers, service recovery)
leaves out customers whose ``marketing_consent`` is false; one reading of the column serves them
all (:func:`consent_by_customer`).
"""

from __future__ import annotations

import pandas as pd

from workbench.core.contract import parse_bool

__all__ = ["CONSENT", "flag", "consent_by_customer"]

#: Customers column: may the customer be contacted for marketing (true / false / blank = unknown)?
CONSENT = "marketing_consent"


def flag(s: pd.Series) -> pd.Series:
    """A yes/no column as nullable booleans, blanks kept as NA.

    Booleans pass through, numbers are true when non-zero, text is read with the data
    contract's word lists (:func:`workbench.core.contract.parse_bool`; unknown words are NA).

    Parameters
    ----------
    s : pandas.Series

    Returns
    -------
    pandas.Series of ``boolean`` dtype
    """
    if s.dtype == bool or isinstance(s.dtype, pd.BooleanDtype):
        return s.astype("boolean")
    if pd.api.types.is_numeric_dtype(s):
        return (s != 0).astype("boolean").mask(s.isna())
    parsed, _ = parse_bool(s)
    return parsed



def consent_by_customer(customers: pd.DataFrame | None) -> pd.Series | None:
    """Marketing consent per customer, the most restrictive row winning.

    Parameters
    ----------
    customers : pandas.DataFrame or None
        Customers with ``customer_id`` and, optionally, :data:`CONSENT` (booleans, 0/1 or yes/no
        words; blank = unknown).

    Returns
    -------
    pandas.Series or None
        ``boolean`` values indexed by ``customer_id`` as text: False when any row of the customer
        says no, True when a row says yes and none says no, NA when every row is blank. None
        when there is no consent column (or no customers table).

    Examples
    --------
    >>> c = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "marketing_consent": [True, False, None, True]})
    >>> consent_by_customer(c).tolist()
    [False, <NA>, True]
    """
    if customers is None or CONSENT not in customers.columns or "customer_id" not in customers.columns:
        return None
    f = flag(customers[CONSENT])
    no = f.eq(False).fillna(False).to_numpy(dtype=bool)
    yes = f.eq(True).fillna(False).to_numpy(dtype=bool)
    key = customers["customer_id"].astype("string").to_numpy()
    g = pd.DataFrame({"no": no, "yes": yes}, index=pd.Index(key, name="customer_id")).groupby(level=0).any()
    out = pd.Series(pd.NA, index=g.index, dtype="boolean", name=CONSENT)
    out[g["yes"].to_numpy()] = True
    out[g["no"].to_numpy()] = False
    return out
