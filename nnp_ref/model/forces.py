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

Threads: contract_pairs and the force gather run over atoms in parallel
(each atom owns its pairs' rows; the forces of atom k are gathered from the
pairs where k is the centre and, through a transpose of the list, where it
is the neighbour), in the order of the serial code: the same bits on any
number of threads.
Behler, J. Chem. Phys. 134, 074106 (2011); Singraber et al., JCTC 15, 1827 (2019).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.symmetry_functions import use_parallel
from nnp_ref.descriptors.terms import counting_sort


@kernel
def assemble_forces(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p):
    """F_k = -sum_i sum_s dE/dG_is dG_is/dR_k from the sparse derivatives.

    Self term: atom i moves its own functions (dGself_nsc); pair term: pair
    p = (i, j) carries dG_{i s}/dR_j and scatters onto atom j.
    """
    n, s_max = dEdG_ns.shape
    F_nc = np.zeros((n, 3))
    for i in range(n):
        for s in range(s_max):
            for c in range(3):
                F_nc[i, c] -= dEdG_ns[i, s] * dGself_nsc[i, s, c]
    for p in range(i_p.shape[0]):
        i = i_p[p]
        j = j_p[p]
        for s in range(s_max):
            for c in range(3):
                F_nc[j, c] -= dEdG_ns[i, s] * dGdR_psc[p, s, c]
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
def pair_forces_scatter(dEdD_pc, i_p, j_p, n):
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
def neighbour_transpose(j_p, n):
    """(offsets_n1, q_t): the pairs whose neighbour is k are q_t[offsets_n1[k]:offsets_n1[k+1]].

    A stable counting sort of the pairs by j_p (increasing p within each k):
    the transpose of the centre-sorted list, for a gather without races.
    """
    q_t, offsets_n1 = counting_sort(j_p, n)
    return offsets_n1, q_t


def _gather_loop(dEdD_pc, offsets_n1, nb_offsets_n1, q_t):
    """F_k of :func:`pair_forces_scatter`, gathered atom by atom (parallel over k, no races).

    Atom k reads its centre pairs p = offsets_n1[k]..offsets_n1[k+1]-1 (+dE/dD_p)
    and its neighbour pairs q_t[nb_offsets_n1[k]:nb_offsets_n1[k+1]] (-dE/dD_p),
    both in increasing p, merged by p with the neighbour term first at equal p:
    the order in which the scatter adds them, so F is bit for bit the same.
    """
    n = offsets_n1.shape[0] - 1
    F_nc = np.zeros((n, 3))
    for k in prange(n):
        a, a_stop = offsets_n1[k], offsets_n1[k + 1]  # centre pairs of k
        t, t_stop = nb_offsets_n1[k], nb_offsets_n1[k + 1]  # neighbour pairs of k
        while a < a_stop or t < t_stop:
            if t < t_stop and (a == a_stop or q_t[t] <= a):
                for c in range(3):
                    F_nc[k, c] -= dEdD_pc[q_t[t], c]
                t += 1
            else:
                for c in range(3):
                    F_nc[k, c] += dEdD_pc[a, c]
                a += 1
    return F_nc


pair_forces_gather = kernel(parallel=True, tag="parallel")(_gather_loop)


def pair_forces(dEdD_pc, i_p, j_p, n, offsets_n1=None):
    """F_k from the pair gradients dE/dD_p: serial scatter, or a parallel gather.

    The gather (:func:`_gather_loop`) runs when Numba has more than one thread,
    the structure has at least PARALLEL_MIN_ATOMS atoms and the pairs are
    sorted by centre (``offsets_n1``, from ``i_p`` if not given); both give
    the same bits.
    """
    if not use_parallel(n):
        return pair_forces_scatter(dEdD_pc, i_p, j_p, n)
    if offsets_n1 is None:
        if i_p.shape[0] and np.any(i_p[1:] < i_p[:-1]):
            return pair_forces_scatter(dEdD_pc, i_p, j_p, n)
        offsets_n1 = np.searchsorted(i_p, np.arange(n + 1)).astype(np.int64)
    nb_offsets_n1, q_t = neighbour_transpose(j_p, np.int64(n))
    return pair_forces_gather(dEdD_pc, offsets_n1, nb_offsets_n1, q_t)


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
        for s in range(s_max):
            for c in range(3):
                V_ns[i, s] += dGself_nsc[i, s, c] * dL_dF_nc[i, c]
    for p in range(i_p.shape[0]):
        i = i_p[p]
        j = j_p[p]
        for s in range(s_max):
            for c in range(3):
                V_ns[i, s] += dGdR_psc[p, s, c] * dL_dF_nc[j, c]
    return V_ns


def _contract_loop(dEdG_bs, dGdR_psc, offsets_b1, dEdD_pc):
    """dE/dD_p = sum_s dE/dG_{i_p s} dG_{i_p s}/dD_p for the pairs of one block (into dEdD_pc).

    ``dGdR_psc`` and ``dEdD_pc`` hold the block's pairs, atom b of the block
    the rows offsets_b1[b]:offsets_b1[b+1], ``dEdG_bs`` the block's atoms.
    Compiled serial (:data:`contract_pairs`) and parallel over atoms
    (:data:`contract_pairs_parallel`): each atom owns its pairs, no races,
    and every pair's sum runs over s in the same order, so both give the same bits.
    """
    for b in prange(offsets_b1.shape[0] - 1):
        for p in range(offsets_b1[b], offsets_b1[b + 1]):
            for s in range(dGdR_psc.shape[1]):
                for c in range(3):
                    dEdD_pc[p, c] += dEdG_bs[b, s] * dGdR_psc[p, s, c]


contract_pairs = kernel(_contract_loop)
contract_pairs_parallel = kernel(parallel=True, tag="parallel")(_contract_loop)


__all__ = [
    "assemble_forces",
    "assemble_virial",
    "contract_pairs",
    "contract_pairs_parallel",
    "force_adjoint",
    "neighbour_transpose",
    "pair_forces",
    "pair_forces_gather",
    "pair_forces_scatter",
    "pair_virial",
]
