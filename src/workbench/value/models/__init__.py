"""The "buy till you die" models, fitted by maximum likelihood, one module per model.

* :class:`BetaGeoModel` (BG/NBD, Fader, Hardie & Lee 2005a) and :class:`ParetoNBDModel`
  (Pareto/NBD, Schmittlein, Morrison & Colombo 1987) model the number and timing of repeat
  purchases and the chance a customer is still "alive".
* :class:`GammaGammaModel` (Fader, Hardie & Lee 2005b) models the average spend per purchase and,
  combined with a purchase model, gives :meth:`GammaGammaModel.customer_lifetime_value`.
* :func:`simulate_bgnbd`, :func:`simulate_pareto_nbd` and :func:`simulate_gamma_gamma` draw data
  from the models with known parameters (used by the coverage tests).

Each model is an estimator (``fit(summary) -> self``, learned attributes ending in ``_``) and, once
fitted, a result of its parameters (``summary()``, ``metrics()``, ``finding()``, ``plot()``).

Known answers
-------------
On the CDNOW 1/10 sample (2,357 customers, calibration through 1997-09-30, weeks) Fader, Hardie
& Lee (2005a) report BG/NBD r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (log-likelihood
-9582.4) and Pareto/NBD r = 0.553, alpha = 10.58, s = 0.606, beta = 11.67 (-9595.0). These
figures are for the 1/10 sample, not for the full 23,570-customer log; the tests compare the
full log with ``lifetimes`` and the sample with the published figures.
"""

from workbench.value.models.beta_geo import BetaGeoModel, simulate_bgnbd
from workbench.value.models.gamma_gamma import GammaGammaModel, simulate_gamma_gamma
from workbench.value.models.pareto_nbd import ParetoNBDModel, simulate_pareto_nbd

__all__ = [
    "BetaGeoModel",
    "ParetoNBDModel",
    "GammaGammaModel",
    "simulate_bgnbd",
    "simulate_pareto_nbd",
    "simulate_gamma_gamma",
]
