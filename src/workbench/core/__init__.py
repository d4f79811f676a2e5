"""Core layer: errors, params, the data contract, intake, privacy. Imports nothing above it.

Modules: :mod:`~workbench.core.errors`, :mod:`~workbench.core.params`,
:mod:`~workbench.core.contract` (tables, intake) with its value parsers in
:mod:`~workbench.core.parsing`, :mod:`~workbench.core.io`, :mod:`~workbench.core.privacy`,
:mod:`~workbench.core.dates`.
"""
