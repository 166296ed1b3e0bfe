r"""Virials of the structures of a batch and the adjoint that stress training needs.

The stress of structure b follows from the pair vectors D_p = R_j + S - R_i
(``nnp_ref.model.potential.assemble_virial``): under a homogeneous strain
D_p -> D_p (1 + eps), so

    W_b,ab := dE_b/d eps_ab = sum_{p in b} D_pa dE/dD_pb,
    dE/dD_pb = sum_s dE_{i_p}/dG_{i_p s} dG_{i_p s}/dR_{j_p b}   (= dGdR_psb)
    sigma_b = W_b / V_b                                            (ASE's sign)

W_b is linear in dE/dG. For a loss L(sigma) with g_b,ab = dL/dsigma_b,ab the
chain rule gives dL/dw = sum_is d(dE_i/dG_is)/dw U_is with the adjoint

    U_is = dL/d(dE_i/dG_is) = sum_{p: i_p = i} sum_ab (g_{b(i),ab} / V_b) D_pa dGdR_psb

which is the same contraction the forces need (``potential.force_adjoint``
gives the force adjoint V); ``atomic_energy.dEdG_weight_gradient`` turns
either into a weight gradient. This is the stress-training route of
SIMPLE-NN / KLIFF written out for the sparse derivatives.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def batch_virials(dEdG_ns, dGdR_psc, i_p, D_pc, struct_n, n_structures):
    """W_bab = sum_{p in b} D_pa sum_s dE/dG_{i_p s} dGdR_psb, shape (B, 3, 3), eV."""
    s_max = dEdG_ns.shape[1]
    W_bcc = np.zeros((n_structures, 3, 3))
    for p in range(i_p.shape[0]):
        i = i_p[p]
        b_ = struct_n[i]
        for s in range(s_max):
            for b in range(3):
                dEdD = dEdG_ns[i, s] * dGdR_psc[p, s, b]  # dE/dD_pb, one function
                for a in range(3):
                    W_bcc[b_, a, b] += D_pc[p, a] * dEdD
    return W_bcc


@njit(cache=True)
def virial_adjoint(dL_dW_bcc, dGdR_psc, i_p, D_pc, struct_n, n_atoms):
    """U_is = sum_{p: i_p = i} sum_ab dL/dW_{b(i),ab} D_pa dGdR_psb, shape (n, s_max).

    The transpose of :func:`batch_virials` with respect to dE/dG: for any
    dE/dG, sum_is U_is dEdG_is = sum_bab dL/dW_bab W_bab.
    """
    s_max = dGdR_psc.shape[1]
    U_ns = np.zeros((n_atoms, s_max))
    for p in range(i_p.shape[0]):
        i = i_p[p]
        b_ = struct_n[i]
        for b in range(3):
            t = 0.0  # sum_a dL/dW_ab D_pa
            for a in range(3):
                t += dL_dW_bcc[b_, a, b] * D_pc[p, a]
            for s in range(s_max):
                U_ns[i, s] += t * dGdR_psc[p, s, b]
    return U_ns
