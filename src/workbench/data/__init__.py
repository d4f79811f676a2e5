"""Data layer: cleaning rules, order predicates and customer features shared by the analyses.

Modules: :mod:`~workbench.data.orders` (refund / purchase predicates),
:mod:`~workbench.data.cleaning` (the cleaning rules, :class:`~workbench.data.cleaning.CleanResult`)
and :mod:`~workbench.data.features` (customer features as engine expressions).
"""
