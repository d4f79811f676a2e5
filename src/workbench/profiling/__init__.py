"""Data profiling and quality (``notebooks/01_data_profiling.ipynb``)."""

from workbench.profiling.profile import *  # noqa: F403
