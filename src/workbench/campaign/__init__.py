"""Campaign evaluation: contacts, KPIs, experiments, uplift and funnels
(``notebooks/04_campaign_evaluation.ipynb``)."""

from workbench.campaign.contacts import *  # noqa: F403
