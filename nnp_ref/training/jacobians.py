r"""Jacobians of single observations for the Kalman filter: dE_b/dw and dF_kc/dw.

The extended Kalman filter (n2p2, Singraber et al., JCTC 15, 1827 (2019))
updates the weights from one observation at a time, so it needs rows of the
Jacobian instead of a loss gradient. With the per-element step of
``nnp_ref.model.atomic_energy`` (E_i = c NN(a G_i + b) + E0):

    dE_b/dw  = sum_{i in b} dE_i/dw                       (energy_weight_gradient, g_i = 1)
    dF_kc/dw = -d/dw sum_is (dE_i/dG_is) V_is,  V_is = dG_is/dR_kc
                                                          (dEdG_weight_gradient)

V for a unit vector at (k, c) is :func:`force_adjoint_components`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from nnp_ref.model.atomic_energy import dEdG_weight_gradient, energy_weight_gradient
from nnp_ref.model.network import n_parameters as _net_parameters
from nnp_ref.model.potential import Potential
from nnp_ref.training.parameters import n_parameters


def energy_jacobian(potential: Potential, batch, pred) -> np.ndarray:
    """dE_b/dw (N_w,) of the total energy of a one-structure batch."""
    if batch.n_structures != 1:
        raise ValueError("energy_jacobian needs a batch of one structure")
    parts = []
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        step = pred.steps[e]
        if step is None:
            parts.append(np.zeros(_net_parameters(net)))
            continue
        ones_a = np.ones(step.E_a.shape[0])  # dE_b/dE_i = 1 for every atom
        parts.append(energy_weight_gradient(net, step, ones_a))
    return np.concatenate(parts)


@njit(cache=True)
def force_adjoint_components(k_m, c_m, dGdR_psc, dGself_nsc, i_p, j_p):
    """V_mis = dG_is/dR_{k_m, c_m}: :func:`~nnp_ref.model.potential.force_adjoint` for unit vectors.

    One slice per selected force component m (atom k_m, direction c_m):
    the self term dGself[k_m, :, c_m] and dGdR[p, :, c_m] of every pair p
    whose neighbour j_p is k_m (scattered to its central atom i_p).
    """
    n_m = k_m.shape[0]
    n, s_max = dGself_nsc.shape[0], dGself_nsc.shape[1]
    V_mns = np.zeros((n_m, n, s_max))
    for m in range(n_m):
        for s in range(s_max):
            V_mns[m, k_m[m], s] += dGself_nsc[k_m[m], s, c_m[m]]
    for p in range(i_p.shape[0]):
        j = j_p[p]
        for m in range(n_m):
            if k_m[m] == j:
                i = i_p[p]
                for s in range(s_max):
                    V_mns[m, i, s] += dGdR_psc[p, s, c_m[m]]
    return V_mns


def force_jacobian(potential: Potential, batch, pred, k_m, c_m) -> np.ndarray:
    """dF_{k_m c_m}/dw, shape (m, N_w): one row per selected force component."""
    k_m = np.ascontiguousarray(k_m, dtype=np.int64)
    c_m = np.ascontiguousarray(c_m, dtype=np.int64)
    V_mns = force_adjoint_components(
        k_m, c_m, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p
    )
    rows = np.zeros((len(k_m), n_parameters(potential)))
    start = 0
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        size = _net_parameters(net)
        idx = batch.idx_e[e]
        step = pred.steps[e]
        if step is not None:
            n_s = batch.G_e[e].shape[1]
            for m in range(len(k_m)):
                V_as = V_mns[m][idx, :n_s]
                if not V_as.any():
                    continue
                rows[m, start : start + size] = -dEdG_weight_gradient(net, step, V_as)
        start += size
    return rows
