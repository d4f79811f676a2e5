"""How many OpenMP (and BLAS) threads a model fit may use: one for small data.

On a few thousand rows the thread start-up of scikit-learn's gradient boosting costs more than it
saves, and on a machine whose cores are busy with other processes OpenMP threads wait on each
other (a 600-row churn fit took 41 s at load 14 and 2.7 s single-threaded). Clustering suffers the
same from both pools: k-means runs on OpenMP, the Gaussian mixture's small solves on OpenBLAS
(the 4,033-customer example took 14-70 s with two threads per pool on a busy 2-core machine,
2 s with one). The fitted models are the same either way.
"""

from __future__ import annotations

import contextlib
from typing import Any, Literal

__all__ = ["SINGLE_THREAD_ROWS", "limit_threads"]

#: Below this many rows gradient boosting runs single-threaded: faster on small data and immune to
#: OpenMP slow-downs when other processes share the cores.
SINGLE_THREAD_ROWS: int = 50_000


def limit_threads(n_rows: int, *, user_api: Literal["openmp", "blas"] | None = "openmp") -> Any:
    """Context limiting a thread pool to one thread for fewer than :data:`SINGLE_THREAD_ROWS` rows.

    Parameters
    ----------
    n_rows : int
        Rows of the fit (or prediction).
    user_api : {'openmp', 'blas'} or None, default 'openmp'
        Pool to limit (threadpoolctl's ``user_api``); ``None`` limits every pool, OpenMP and BLAS.

    Returns
    -------
    contextlib.AbstractContextManager
        ``threadpoolctl.threadpool_limits(1, user_api)`` for small data, else a no-op.

    Examples
    --------
    >>> with limit_threads(100, user_api=None):
    ...     pass
    """
    from threadpoolctl import threadpool_limits

    if n_rows < SINGLE_THREAD_ROWS:
        return threadpool_limits(limits=1, user_api=user_api)
    return contextlib.nullcontext()
