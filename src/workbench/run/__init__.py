"""Run layer: the analysis registry, the notebook session, execution, HTML reports and the CLI.

Modules: :mod:`~workbench.run.registry` (which analyses exist), :mod:`~workbench.run.params`
(the root params model built from the registry), :mod:`~workbench.run.session` (what a notebook
calls), :mod:`~workbench.run.execute` (``run_analysis`` / ``run_all``),
:mod:`~workbench.run.kernel`, :mod:`~workbench.run.html` (``report.html``),
:mod:`~workbench.run.index` (run folders, ``run.json``, ``index.html``),
:mod:`~workbench.run.status` and :mod:`~workbench.run.cli`.
"""
