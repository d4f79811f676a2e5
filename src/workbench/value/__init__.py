"""Customer value (notebook ``02_segmentation_value.ipynb``): the "buy till you die" models for
non-contractual businesses (customers can leave silently), their honest checks, and CLV.

* :mod:`~workbench.value.summary` - :func:`rfm_summary` shapes orders into one row per customer.
* :mod:`~workbench.value.models` - BG/NBD, Pareto/NBD and Gamma-Gamma (one module each) and their
  simulators.
* :mod:`~workbench.value.diagnostics` - :func:`holdout_comparison`, :func:`tracking_curve` and
  :func:`independence_check`.
* :mod:`~workbench.value.clv` - :func:`customer_value` (CLV per customer as of a date) and the
  current x future value grid.
* :mod:`~workbench.value.periods` - the models period by period and draws of their parameters
  (the sales forecast).
* :mod:`~workbench.value.simple` - the simple CLV formula, per customer and per segment.
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so a caller of one module (``value.summary``) does not import
#: the models and their scipy.stats.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.value.clv": (
        "CLVResult", "customer_value", "mean_interval", "plot_value_potential",
        "value_potential_grid"
    ),
    "workbench.value.diagnostics": (
        "HoldoutComparison", "IndependenceCheck", "TrackingCurve", "holdout_comparison",
        "independence_check", "tracking_curve"
    ),
    "workbench.value.models": (
        "BetaGeoModel", "GammaGammaModel", "ParetoNBDModel", "simulate_bgnbd",
        "simulate_gamma_gamma", "simulate_pareto_nbd"
    ),
    "workbench.value.periods": (
        "conditional_repeat_by_period", "expected_repeat_by_period", "parameter_draws",
        "with_params"
    ),
    "workbench.value.simple": ("SimpleCLVResult", "annuity_factor", "simple_clv", "simple_clv_by_segment"),
    "workbench.value.summary": ("TIME_UNITS", "rfm_summary"),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
