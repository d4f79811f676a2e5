"""Experiment statistics for campaign evaluation (notebook ``04_campaign_evaluation``).

One call per notebook section, each returning a :class:`~workbench.report.results.Result`:

1. :func:`srm_test` (``srm.py``) - sample-ratio mismatch (chi-square goodness of fit against the
   planned split).
2. :func:`balance_table` (``balance.py``) - covariate balance between arms (standardized mean
   differences).
3. :func:`compare_arms` (``compare.py``) - every metric, every arm against control: difference
   with 95 % CI, relative lift with a delta-method CI, the test used, p-value and Holm correction.
4. :func:`cuped` (``cuped.py``) - CUPED variance reduction with a pre-period covariate.
5. :func:`power_plan` (``power.py``) - power, minimum detectable effect and sample size for the
   next test.
6. :func:`heterogeneity` (``heterogeneity.py``) - effect by subgroup (forest plot) with an
   interaction test.
7. :func:`observational_effect` (``observational.py``) - campaigns without a control group:
   propensity-score (IPW) estimate of the ATT / ATE with an overlap check and balance after
   weighting.

Shared helpers (arm labels, outcome arrays, SMDs, :func:`diff_proportions`, the Welch comparison
with a relative lift on top of :func:`workbench.stats.welch`) live in ``_common.py``.

Input of 1-6 is the contacts of **one** campaign, one row per customer: ``arm`` plus outcome
columns (``visited``, ``converted`` 0/1 or boolean, possibly nullable; ``revenue``), the
pre-period covariate and any merged covariate / segment columns. Options are plain keywords
(validated once in the params models); a problem with the data raises
:class:`~workbench.core.errors.AnalysisError` naming the keyword. Inputs are never modified;
findings read the run's currency from :func:`workbench.report.fmt.settings`.
"""

from workbench.campaign.experiments._common import diff_proportions
from workbench.campaign.experiments.balance import BalanceResult, balance_table
from workbench.campaign.experiments.compare import ArmComparison, compare_arms
from workbench.campaign.experiments.cuped import CupedResult, cuped
from workbench.campaign.experiments.heterogeneity import HeterogeneityResult, heterogeneity
from workbench.campaign.experiments.observational import ObservationalResult, observational_effect
from workbench.campaign.experiments.power import PowerPlan, power_plan
from workbench.campaign.experiments.srm import SRMResult, srm_pvalues, srm_test

__all__ = [
    "SRMResult",
    "BalanceResult",
    "ArmComparison",
    "CupedResult",
    "PowerPlan",
    "HeterogeneityResult",
    "ObservationalResult",
    "srm_test",
    "balance_table",
    "compare_arms",
    "cuped",
    "power_plan",
    "heterogeneity",
    "observational_effect",
    "diff_proportions",
    "srm_pvalues",
]
