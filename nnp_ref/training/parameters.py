"""Flat parameter vector of all elements' networks (n2p2 ``update_strategy`` 0).

w = concat over elements (the potential's order) of each network's flat
vector, itself concat(W_1.ravel(), b_1, W_2.ravel(), b_2, ...) as in n2p2's
``weights.ZZZ.data`` (``nnp_ref.model.network``).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential


def n_parameters(potential: Potential) -> int:
    """Length of the flat vector: sum over elements of the networks' parameters."""
    return sum(nn.n_parameters(potential.networks[e]) for e in potential.elements)


def get_parameters(potential: Potential) -> np.ndarray:
    """w = concat over elements (potential order) of each network's flat vector (n2p2 order)."""
    return np.concatenate([nn.to_flat(potential.networks[e]) for e in potential.elements])


def set_parameters(potential: Potential, w) -> None:
    """Write the flat vector ``w`` into the networks, in place."""
    w = np.asarray(w, dtype=np.float64)
    expected = n_parameters(potential)
    if w.shape != (expected,):
        raise ValueError(f"parameter vector has {w.size} entries, the networks {expected}")
    start = 0
    for e in potential.elements:
        net = potential.networks[e]
        for W, b in zip(net.weights, net.biases):
            W[...] = w[start : start + W.size].reshape(W.shape)
            start += W.size
            b[...] = w[start : start + b.size]
            start += b.size


def weight_mask(potential: Potential) -> np.ndarray:
    """Boolean mask of the flat vector: True for weights, False for biases (L2 acts on weights)."""
    parts = []
    for e in potential.elements:
        for W, b in zip(potential.networks[e].weights, potential.networks[e].biases):
            parts += [np.ones(W.size, bool), np.zeros(b.size, bool)]
    return np.concatenate(parts)
