"""Run layer: the analysis registry, the notebook session, execution, HTML reports and the CLI."""
