"""Markov chain removal effects and Shapley values on a table of unique paths (numpy, exact).

Markov (order ``k``)
--------------------
A state is the last ``k`` channels of a path (fewer at its start). Transition probabilities are
the observed counts out of each state (weighted by journeys); ``(start)`` leads to each path's
first state and each path's last state leads to ``(conversion)`` or ``(no conversion)``. The
probability of conversion from the start is solved exactly on the absorbing chain,
``P = pi (I - Q)^-1 r`` (a sparse LU factorisation, no simulation: the same paths always give
the same numbers). Removing a channel sends every transition into a state that holds it to
``(no conversion)``; its removal effect is ``1 - P_without / P``. With revenue as the value the
reward of a state is its conversions' revenue per transition out of it, so ``P`` becomes the
expected revenue of a journey and the removal effect the share of it lost.

Shapley
-------
The game is ``v(S)`` = conversions (or revenue) of the journeys whose channels all lie in ``S``
(for a Markov chain generator: the conversion probability with only the channels of ``S``). The
Shapley value is computed exactly over all ``2^K`` coalitions (a subset-sum transform) up to
``max_exact`` channels, and from seeded random permutations above.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

__all__ = ["MarkovStructure", "markov_structure", "removal_effects", "shapley_values"]


@dataclass(frozen=True)
class MarkovStructure:
    """The states and transitions of a set of unique paths for one chain order.

    Attributes
    ----------
    order : int
    n_states : int
    state_mask : numpy.ndarray
        Per state: a boolean row of the channels it holds (states x K).
    first : numpy.ndarray
        Per unique path: its first state.
    last : numpy.ndarray
        Per unique path: its last state.
    step_path, step_from, step_to : numpy.ndarray
        One entry per transition between states inside a path.
    """

    order: int
    n_states: int
    state_mask: np.ndarray
    first: np.ndarray
    last: np.ndarray
    step_path: np.ndarray
    step_from: np.ndarray
    step_to: np.ndarray


def markov_structure(paths: list[np.ndarray], n_channels: int, order: int) -> MarkovStructure:
    """States and transitions of ``paths`` (lists of channel codes) for a chain of ``order``.

    Examples
    --------
    >>> s = markov_structure([np.array([0, 1]), np.array([1])], 2, 1)
    >>> s.n_states, s.first.tolist(), s.last.tolist()
    (2, [0, 1], [1, 1])
    """
    index: dict[tuple[int, ...], int] = {}
    first, last, sp_, sf, st = [], [], [], [], []
    for u, path in enumerate(paths):
        codes = [int(c) for c in path]
        prev = -1
        for i in range(len(codes)):
            key = tuple(codes[max(0, i - order + 1) : i + 1])
            s = index.setdefault(key, len(index))
            if prev < 0:
                first.append(s)
            else:
                sp_.append(u)
                sf.append(prev)
                st.append(s)
            prev = s
        last.append(prev)
    mask = np.zeros((len(index), n_channels), bool)
    for key, s in index.items():
        mask[s, list(key)] = True
    a = lambda v: np.asarray(v, dtype=np.int64)  # noqa: E731
    return MarkovStructure(order, len(index), mask, a(first), a(last), a(sp_), a(sf), a(st))


def _solve(q: sp.csr_matrix, rhs: np.ndarray, start: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``start[keep] (I - Q[keep, keep])^-1 rhs[keep]`` for each column of ``rhs``."""
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return np.zeros(rhs.shape[1])
    sub = q[idx][:, idx]
    a = (sp.identity(idx.size, format="csc") - sub.tocsc()).tocsc()
    x = splu(a).solve(np.ascontiguousarray(rhs[idx]))
    return start[idx] @ x


def removal_effects(
    structure: MarkovStructure, w_conv: np.ndarray, w_null: np.ndarray, w_values: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Removal effects by channel, with conversions and with values (revenue, margin) as the worth.

    Parameters
    ----------
    structure : MarkovStructure
    w_conv, w_null : numpy.ndarray
        Per unique path: converting and non-converting journeys (weights: bootstrap counts allowed).
    w_values : numpy.ndarray, optional
        Per unique path (rows) and value (columns): revenue, margin ... of the converting journeys.

    Returns
    -------
    (p, removal)
        ``p``: conversion probability, then the expected value per journey of each value column
        (1 + m,); ``removal``: removal effects, channels x (1 + m) (0 where ``p`` is 0).

    Examples
    --------
    >>> s = markov_structure([np.array([0, 1]), np.array([1])], 2, 1)
    >>> p, rem = removal_effects(s, np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([[10.0], [0.0]]))
    >>> round(float(p[0]), 3), [round(float(x), 3) for x in rem[:, 0]]
    (0.5, [0.5, 1.0])
    """
    n = structure.n_states
    vals = np.zeros((len(w_conv), 0)) if w_values is None else np.asarray(w_values, float).reshape(len(w_conv), -1)
    total = w_conv + w_null
    start = np.bincount(structure.first, weights=total, minlength=n)
    steps_w = total[structure.step_path]
    conv = np.bincount(structure.last, weights=w_conv, minlength=n)
    null = np.bincount(structure.last, weights=w_null, minlength=n)
    value = np.column_stack([np.bincount(structure.last, weights=vals[:, j], minlength=n) for j in range(vals.shape[1])]
                            ) if vals.shape[1] else np.zeros((n, 0))  # fmt: skip
    out = np.bincount(structure.step_from, weights=steps_w, minlength=n) + conv + null
    safe = np.where(out > 0, out, 1.0)
    q = sp.coo_matrix((steps_w / safe[structure.step_from], (structure.step_from, structure.step_to)),
                      shape=(n, n)).tocsr()  # fmt: skip
    rhs = np.column_stack([conv / safe, value / safe[:, None]])
    pi = start / max(start.sum(), 1e-300)
    p = _solve(q, rhs, pi, np.ones(n, bool))
    k = structure.state_mask.shape[1]
    rem = np.zeros((k, rhs.shape[1]))
    for c in range(k):
        pc = _solve(q, rhs, pi, ~structure.state_mask[:, c])
        with np.errstate(invalid="ignore", divide="ignore"):
            rem[c] = np.where(p > 0, 1 - pc / np.where(p > 0, p, 1), 0.0)
    return p, rem


def shapley_values(
    masks: np.ndarray, weights: np.ndarray, n_channels: int, *, max_exact: int = 12, samples: int = 2000,
    random_state: int | None = 0,
) -> np.ndarray:
    """Shapley values of the game "worth of the journeys whose channels all lie in S".

    Parameters
    ----------
    masks : numpy.ndarray of int
        Per unique path: its channels as a bit mask.
    weights : numpy.ndarray
        Per unique path: conversions (or revenue) of its journeys.
    n_channels : int
    max_exact : int, default 12
        Exact over all coalitions up to this many channels.
    samples : int, default 2000
        Permutations sampled above ``max_exact``.
    random_state : int, optional

    Returns
    -------
    numpy.ndarray
        Per channel (sums to the total worth).

    Examples
    --------
    >>> shapley_values(np.array([0b01, 0b11]), np.array([2.0, 1.0]), 2).tolist()
    [2.5, 0.5]
    """
    k = n_channels
    masks = np.asarray(masks, dtype=np.int64)
    if k <= max_exact:
        v = np.bincount(masks, weights=weights, minlength=1 << k).astype(float)
        full = np.arange(1 << k, dtype=np.int64)
        for i in range(k):  # subset sums: v[S] = worth of the journeys inside S
            has = (full >> i) & 1 == 1
            v[has] += v[full[has] ^ (1 << i)]
        size = np.bitwise_count(full).astype(np.int64)
        w = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])
        phi = np.zeros(k)
        for i in range(k):
            without = full[(full >> i) & 1 == 0]
            phi[i] = float((w[size[without]] * (v[without | (1 << i)] - v[without])).sum())
        return phi
    rng = np.random.default_rng(random_state)
    phi = np.zeros(k)
    for _ in range(samples):
        perm = rng.permutation(k)
        prefix = np.cumsum(np.left_shift(1, perm.astype(np.int64)))
        inside = (masks[None, :] & ~prefix[:, None]) == 0
        worth = inside.astype(float) @ weights
        phi[perm] += np.diff(np.r_[0.0, worth])
    return phi / samples
