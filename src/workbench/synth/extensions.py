"""Extensions of the simulated base: one module per analysis that needs tables or truth of its own.

Each extension is a function ``(data, *, seed) -> (tables, truth)``. :func:`extend` runs them in
order: a table named like one of the five base tables replaces it (ticket text added to
``tickets``), any other contract table is added (``spend``, ``order_items``, ``feedback``), and the
truth goes under the extension's name. Each draws from its own random stream
(``np.random.default_rng([seed, <its number>])``), so adding one leaves the others' draws alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pandas as pd

from workbench.synth.baskets import simulate_baskets
from workbench.synth.future import simulate_future
from workbench.synth.service_text import simulate_service_text
from workbench.synth.simulate import SynthData
from workbench.synth.touchpoints import simulate_touchpoints

__all__ = ["EXTENSIONS", "extend"]

Extension = Callable[..., tuple[dict[str, pd.DataFrame], dict[str, Any]]]

#: The extensions in the order they run (name -> function).
EXTENSIONS: dict[str, Extension] = {
    "service_text": simulate_service_text,
    "touchpoints": simulate_touchpoints,
    "baskets": simulate_baskets,
    "future": simulate_future,
}


def extend(data: SynthData, *, seed: int) -> SynthData:
    """Run every extension on ``data``.

    Parameters
    ----------
    data : SynthData
        The simulated base.
    seed : int
        The generator's seed.

    Returns
    -------
    SynthData
        With base tables replaced, new tables in ``extra_tables`` and ``truth[<extension>]``.
    """
    for name, simulate in EXTENSIONS.items():
        tables, truth = simulate(data, seed=seed)
        base = {k: v for k, v in tables.items() if k in SynthData.TABLE_NAMES}
        extra = {**data.extra_tables, **{k: v for k, v in tables.items() if k not in SynthData.TABLE_NAMES}}
        full_truth = {**data.truth, name: truth} if truth else data.truth
        data = dataclasses.replace(data, **base, extra_tables=extra, truth=full_truth)
    return data
