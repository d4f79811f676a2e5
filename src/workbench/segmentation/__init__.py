"""Segmentation: ABC/Pareto, RFM, clustering, simple CLV, tags and portraits
(``notebooks/02_segmentation_value.ipynb``)."""

from workbench.segmentation.segments import *  # noqa: F403
