r"""Chain rule from dE/dG to forces and virial: the sparse-derivative kernels.

With the sparse derivatives of ``nnp_ref.descriptors.symmetry_functions``
(pair p = (i, j, S): dGdR_psc[p] = dG_{i s}/dD_p, D_p = R_j - R_i + S @ cell,
self term dGself_nsc[i] = -sum_{p: i_p = i} dGdR_psc[p]):

    F_k = -sum_i sum_s dE/dG_is dG_is/dR_k                   (assemble_forces)
    dE/d eps_ab = sum_p D_pa dE/dD_pb                         (assemble_virial)

or, with the pair gradients dE/dD_p = sum_s dE/dG_{i_p s} dGdR_psc[p] formed
first (contract_pairs; the memory-lean path keeps only these 3 numbers per
pair), the same forces and virial from pair_forces and pair_virial.
force_adjoint is the transpose of assemble_forces (force training).

Threads: the memory-lean path runs contract_pairs block by block of atoms on
threads (each atom owns its pairs' rows); the final pass over pairs,
pair_forces, is serial (0.4 ms for the 10^5 pairs of the water box).
Behler, J. Chem. Phys. 134, 074106 (2011); Singraber et al., JCTC 15, 1827 (2019).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.jit import kernel


@kernel
def assemble_forces(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p):
    """F_k = -sum_i sum_s dE/dG_is dG_is/dR_k from the sparse derivatives.

    Self term: atom i moves its own functions (dGself_nsc); pair term: pair
    p = (i, j) carries dG_{i s}/dR_j and scatters onto atom j.
    """
    n, s_max = dEdG_ns.shape
    F_nc = np.zeros((n, 3))
    for i in range(n):
        x, y, z = F_nc[i, 0], F_nc[i, 1], F_nc[i, 2]  # sums in registers, same order
        for s in range(s_max):
            x -= dEdG_ns[i, s] * dGself_nsc[i, s, 0]
            y -= dEdG_ns[i, s] * dGself_nsc[i, s, 1]
            z -= dEdG_ns[i, s] * dGself_nsc[i, s, 2]
        F_nc[i, 0], F_nc[i, 1], F_nc[i, 2] = x, y, z
    for p in range(i_p.shape[0]):
        i, j = i_p[p], j_p[p]
        x, y, z = F_nc[j, 0], F_nc[j, 1], F_nc[j, 2]
        for s in range(s_max):
            x -= dEdG_ns[i, s] * dGdR_psc[p, s, 0]
            y -= dEdG_ns[i, s] * dGdR_psc[p, s, 1]
            z -= dEdG_ns[i, s] * dGdR_psc[p, s, 2]
        F_nc[j, 0], F_nc[j, 1], F_nc[j, 2] = x, y, z
    return F_nc


@kernel
def assemble_virial(dEdG_ns, dGdR_psc, i_p, D_pc):
    """dE/d eps_ab = sum_p D_pa dE/dD_pb, dE/dD_pb = sum_s dE/dG_{i_p s} dGdR_psb.

    G_i depends on the positions only through its pair vectors D_p, which a
    homogeneous strain maps to D_p (1 + eps); this is the virial of the pair
    terms, and the stress is sigma = (1/V) dE/d eps.
    """
    s_max = dEdG_ns.shape[1]
    dEdeps_cc = np.zeros((3, 3))
    for p in range(i_p.shape[0]):
        i = i_p[p]
        for s in range(s_max):
            for b in range(3):
                dEdD = dEdG_ns[i, s] * dGdR_psc[p, s, b]
                for a in range(3):
                    dEdeps_cc[a, b] += D_pc[p, a] * dEdD
    return dEdeps_cc


@kernel
def pair_forces(dEdD_pc, i_p, j_p, n):
    """F_k from the pair gradients dE/dD_p (the memory-lean path), one pass over the pairs.

    G_i depends on R_j only through D_p = R_j - R_i + S @ cell, so pair p
    pushes atom j by -dE/dD_p and atom i by +dE/dD_p (dD_p/dR_i = -1):
        F_k = -sum_{p: j_p = k} dE/dD_p + sum_{p: i_p = k} dE/dD_p.
    """
    F_nc = np.zeros((n, 3))
    for p in range(i_p.shape[0]):
        for c in range(3):
            F_nc[j_p[p], c] -= dEdD_pc[p, c]
            F_nc[i_p[p], c] += dEdD_pc[p, c]
    return F_nc


@kernel
def pair_virial(dEdD_pc, D_pc):
    """dE/d eps_ab = sum_p D_pa dE/dD_pb (see :func:`assemble_virial`), from the pair gradients."""
    dEdeps_cc = np.zeros((3, 3))
    for p in range(D_pc.shape[0]):
        for a in range(3):
            for b in range(3):
                dEdeps_cc[a, b] += D_pc[p, a] * dEdD_pc[p, b]
    return dEdeps_cc


@kernel
def force_adjoint(dL_dF_nc, dGdR_psc, dGself_nsc, i_p, j_p):
    """V_is = sum_k sum_c dG_is/dR_kc * dL/dF_kc: the adjoint of :func:`assemble_forces`.

    Force training needs dL/dw = sum_k dL/dF_k . dF_k/dw with
    F_k = -sum_is dE_i/dG_is dG_is/dR_k, i.e. dL/dw = -sum_is d(dE_i/dG_is)/dw V_is:
    the network's force-training product (``network.force_training_gradient``)
    with this V.
    """
    n = dGself_nsc.shape[0]
    s_max = dGself_nsc.shape[1]
    V_ns = np.zeros((n, s_max))
    for i in range(n):
        gx, gy, gz = dL_dF_nc[i, 0], dL_dF_nc[i, 1], dL_dF_nc[i, 2]  # registers
        for s in range(s_max):
            V_ns[i, s] += dGself_nsc[i, s, 0] * gx
            V_ns[i, s] += dGself_nsc[i, s, 1] * gy
            V_ns[i, s] += dGself_nsc[i, s, 2] * gz
    for p in range(i_p.shape[0]):
        i, j = i_p[p], j_p[p]
        gx, gy, gz = dL_dF_nc[j, 0], dL_dF_nc[j, 1], dL_dF_nc[j, 2]
        for s in range(s_max):
            V_ns[i, s] += dGdR_psc[p, s, 0] * gx
            V_ns[i, s] += dGdR_psc[p, s, 1] * gy
            V_ns[i, s] += dGdR_psc[p, s, 2] * gz
    return V_ns


@kernel
def contract_pairs(dEdG_bs, dGdR_psc, offsets_b1, dEdD_pc):
    """dE/dD_p = sum_s dE/dG_{i_p s} dG_{i_p s}/dD_p for the pairs of one block (into dEdD_pc).

    ``dGdR_psc`` and ``dEdD_pc`` hold the block's pairs, atom b of the block
    the rows offsets_b1[b]:offsets_b1[b+1], ``dEdG_bs`` the block's atoms.
    """
    for b in range(offsets_b1.shape[0] - 1):
        for p in range(offsets_b1[b], offsets_b1[b + 1]):
            x, y, z = dEdD_pc[p, 0], dEdD_pc[p, 1], dEdD_pc[p, 2]  # sums in registers
            for s in range(dGdR_psc.shape[1]):
                x += dEdG_bs[b, s] * dGdR_psc[p, s, 0]
                y += dEdG_bs[b, s] * dGdR_psc[p, s, 1]
                z += dEdG_bs[b, s] * dGdR_psc[p, s, 2]
            dEdD_pc[p, 0], dEdD_pc[p, 1], dEdD_pc[p, 2] = x, y, z


__all__ = [
    "assemble_forces",
    "assemble_virial",
    "contract_pairs",
    "force_adjoint",
    "pair_forces",
    "pair_virial",
]
