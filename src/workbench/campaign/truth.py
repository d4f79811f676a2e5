"""Synthetic data only: do the estimated subgroup effects cover the generator's true effects?"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["truth_effect_check"]


def truth_effect_check(het: Any, truth_campaign: dict[str, Any], arm: str) -> pd.DataFrame:
    """Synthetic data: does each subgroup's 95 % interval hold the generator's true effect?

    Parameters
    ----------
    het : HeterogeneityResult
        :func:`workbench.campaign.experiments.heterogeneity` by ``true_segment`` (the latent segment).
    truth_campaign : dict
        ``ground_truth.json`` ``campaigns.<id>``; ``tau[arm][segment]`` is the true effect on
        conversion.
    arm : str
        Arm compared with control.

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``true_effect``, ``estimate``, ``low``, ``high``, ``covered``.
    """
    tau = truth_campaign.get("tau", {}).get(arm, {})
    s = het.summary()
    s = s[s["subgroup"].astype(str).isin(tau)]
    out = pd.DataFrame({
        "segment": s["subgroup"].astype(str).to_numpy(),
        "true_effect": [float(tau[g]) for g in s["subgroup"].astype(str)],
        "estimate": s["diff"].to_numpy(), "low": s["diff_low"].to_numpy(), "high": s["diff_high"].to_numpy(),
    })  # fmt: skip
    out["covered"] = (out["low"] <= out["true_effect"]) & (out["true_effect"] <= out["high"])
    return out
