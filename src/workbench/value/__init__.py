"""Customer value: BTYD models (BG/NBD, Pareto/NBD, Gamma-Gamma), diagnostics and CLV."""

from workbench.value.clv import *  # noqa: F403
