"""The synthetic CRM base with planted truth."""

from workbench.synth.simulate import *  # noqa: F403
