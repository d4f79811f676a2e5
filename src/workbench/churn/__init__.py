"""Churn: labels, rates, cohorts, drivers, survival and the churn model (``notebooks/03_churn.ipynb``)."""

from workbench.churn.frame import *  # noqa: F403
