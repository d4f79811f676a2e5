"""The thresholds of one profiling run, as a plain frozen dataclass.

The public functions (:func:`~workbench.profiling.profile.profile_tables`,
:func:`~workbench.profiling.tables.profile_table`) take these as keyword-only options; their
names and defaults equal the fields of :class:`~workbench.profiling.params.ProfilingParams`, so a
notebook passes ``**P.analyses.data_profiling.model_dump(exclude={"enabled"})``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from workbench.core.errors import did_you_mean

__all__ = ["ProfilingOptions", "make_options"]


@dataclass(frozen=True)
class ProfilingOptions:
    """Thresholds of the alerts and sizes of the samples (see the ``profiling`` module docstring).

    Attributes
    ----------
    top_n : int
        Most frequent values kept per column; missing-pattern rows kept per table.
    high_cardinality_threshold : int
        Distinct values above which a category column raises ``high_cardinality``.
    high_correlation_threshold : float
        ``|Spearman rho|`` or Cramér's V above which a pair raises ``high_correlation``.
    skewness_threshold : float
        ``|skewness|`` above which a numeric column raises ``skewed``.
    imbalance_threshold : float
        ``1 - H / log(k)`` above which a category raises ``imbalance``.
    missing_threshold : float
        Share of missing values above which a column raises ``missing``.
    zeros_threshold : float
        Share of zeros above which a numeric column raises ``zeros``.
    rare_level_share : float
        Levels rarer than this share are counted as rare.
    outlier_iqr_k : float
        Outliers lie outside ``[p25 - k*IQR, p75 + k*IQR]``.
    spike_z : float
        Robust z of a day's row count that marks a spike day.
    correlation_sample : int
        Rows sampled for correlations and charts.
    """

    top_n: int = 10
    high_cardinality_threshold: int = 50
    high_correlation_threshold: float = 0.9
    skewness_threshold: float = 20.0
    imbalance_threshold: float = 0.5
    missing_threshold: float = 0.05
    zeros_threshold: float = 0.1
    rare_level_share: float = 0.01
    outlier_iqr_k: float = 3.0
    spike_z: float = 4.0
    correlation_sample: int = 200_000


def make_options(**options: Any) -> ProfilingOptions:
    """The :class:`ProfilingOptions` of the keyword options a profiling function was given.

    Parameters
    ----------
    **options
        Any of the fields of :class:`ProfilingOptions`; the others keep their defaults.

    Returns
    -------
    ProfilingOptions

    Raises
    ------
    TypeError
        An option that is not a field, with a did-you-mean.
    """
    names = [f.name for f in fields(ProfilingOptions)]
    for name in options:
        if name not in names:
            raise TypeError(f"unknown profiling option {name!r}{did_you_mean(name, names)}; "
                            f"options: {', '.join(names)}")
    return ProfilingOptions(**options)
