"""Cross-sell and next purchase (notebook ``07_cross_sell.ipynb``): what sells together, what a
customer buys next, who is about to buy.

One call per notebook section:

1. :func:`basket_lines` the purchase lines at the analysis level (product from ``order_items``,
   or category: ``order_items.category`` / ``orders.product_category``).
2. :func:`association_rules` frequent itemsets and rules (support, confidence, lift with
   interval, conviction, leverage, one-sided Fisher exact test corrected across rules), counted
   as Ibis expressions in the run's engine.
3. :func:`sequence_rules` "A, then B within N days" (rate vs base rate, lift with interval,
   median days A -> B); :func:`category_transitions` the first -> second purchase matrix.
4. :func:`next_best_offers` the next best category per customer by expected value, as a
   CRM-ready list (pseudonymized keys, consent respected).
5. :func:`fit_propensity` propensity for a target item or event, or the look-alike of seed
   customers, on the shared time-safe scorer (:mod:`workbench.modeling.propensity`), evaluated out
   of time against a recency-frequency baseline.
6. :func:`key_findings` the summary; :func:`planted_check` the planted rules of the synthetic data.

Modules
-------
``lines``       :class:`BasketLines`, :func:`basket_lines`
``rules``       :class:`BasketRules`, :func:`association_rules`, :func:`frequent_itemsets`
``sequences``   :class:`SequenceRules`, :func:`sequence_rules`, :class:`Transitions`, :func:`category_transitions`
``next_best``   :class:`NextBestList`, :func:`next_best_offers`
``propensity``  :class:`PropensityModel`, :func:`fit_propensity`, :func:`propensity_frame`
``summary``     :func:`key_findings`, :class:`PlantedCheck`, :func:`planted_check`
"""

from __future__ import annotations

from workbench.core.lazy import export_names, lazy_exports

#: Module -> the public names it defines; each is imported on first use
#: (:mod:`workbench.core.lazy`), so importing ``workbench.cross_sell.params`` stays cheap.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "workbench.cross_sell.lines": ("BasketLines", "basket_lines"),
    "workbench.cross_sell.next_best": ("NextBestList", "next_best_offers"),
    "workbench.cross_sell.propensity": ("PropensityModel", "fit_propensity", "propensity_frame"),
    "workbench.cross_sell.rules": ("BasketRules", "association_rules", "frequent_itemsets"),
    "workbench.cross_sell.sequences": (
        "SequenceRules", "Transitions", "category_transitions", "sequence_rules"
    ),
    "workbench.cross_sell.summary": (
        "PlantedCheck", "default_target", "key_findings", "planted_check"
    ),
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = export_names(_EXPORTS)
