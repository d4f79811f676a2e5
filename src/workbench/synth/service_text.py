"""Ticket text and the ``feedback`` table with planted topics and sentiment (voice of the customer).

An extension of :func:`workbench.synth.generate` (see :mod:`workbench.synth.extensions`): it reads
the simulated base and returns new or replacement tables plus their truth, drawing from its own
random stream so the base tables stay as they are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from workbench.synth.simulate import SynthData

__all__ = ["simulate_service_text"]


def simulate_service_text(data: SynthData, *, seed: int) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """Tables and truth of this extension (issue 17: to be built).

    Parameters
    ----------
    data : SynthData
        The simulated base (and the tables of the extensions run before this one).
    seed : int
        The generator's seed; combine it with this module's own stream number.

    Returns
    -------
    (dict, dict)
        Tables by contract name (new ones, or a replacement of a base table) and JSON-able truth
        (stored as ``truth["service_text"]``).
    """
    return {}, {}
