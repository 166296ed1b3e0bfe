"""Neighbour list of a small finite structure: every pair tested in one Numba kernel, no cell list.

For a molecule or a cluster of a few dozen atoms the cell list of
:mod:`nnp_ref.descriptors.neighbours` finds all atoms in one or a few bins
anyway, and its Python layer (search basis, bin grid, image checks) costs
more than testing all n (n - 1) ordered pairs. Same convention and order
of output: ``D_pc = R_nc[j_p] - R_nc[i_p]``, ``d_p = |D_pc| < cutoff``, S = 0,
full list sorted by ``i_p`` and, within an atom, by ``j_p`` (the cell list's
order when all atoms share one bin). Two passes, as the cell list: count
the pairs of every atom, then fill arrays of the exact size.
``neighbours.neighbour_list`` calls it for finite structures of at most
:data:`~nnp_ref.descriptors.neighbours.ALL_PAIRS_MAX_ATOMS` atoms, after the same
validation.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.jit import kernel


@kernel
def count_all_pairs(R_nc, cutoff):
    """Number of atoms j != i with |R_j - R_i| < cutoff, for every atom i."""
    n = R_nc.shape[0]
    cut2 = cutoff * cutoff
    count_n = np.zeros(n, dtype=np.int64)
    for i in range(n):
        count = 0
        for j in range(n):
            Dx = R_nc[j, 0] - R_nc[i, 0]
            Dy = R_nc[j, 1] - R_nc[i, 1]
            Dz = R_nc[j, 2] - R_nc[i, 2]
            count += Dx * Dx + Dy * Dy + Dz * Dz < cut2
        count_n[i] = count - 1  # the atom itself (D = 0)
    return count_n


@kernel
def fill_all_pairs(R_nc, cutoff, offsets_n1):
    """``i_p, j_p, D_pc, d_p`` of the pairs counted by :func:`count_all_pairs`, j ascending."""
    n = R_nc.shape[0]
    cut2 = cutoff * cutoff
    n_pairs = offsets_n1[n]
    i_p = np.empty(n_pairs, dtype=np.int64)
    j_p = np.empty(n_pairs, dtype=np.int64)
    D_pc = np.empty((n_pairs, 3))
    d_p = np.empty(n_pairs)
    for i in range(n):
        p = offsets_n1[i]
        for j in range(n):
            Dx = R_nc[j, 0] - R_nc[i, 0]
            Dy = R_nc[j, 1] - R_nc[i, 1]
            Dz = R_nc[j, 2] - R_nc[i, 2]
            d2 = Dx * Dx + Dy * Dy + Dz * Dz
            if j == i or d2 >= cut2:
                continue
            if p == offsets_n1[i + 1]:
                raise RuntimeError("neighbour list: pair count and fill passes disagree")
            i_p[p] = i
            j_p[p] = j
            D_pc[p, 0] = Dx
            D_pc[p, 1] = Dy
            D_pc[p, 2] = Dz
            d_p[p] = np.sqrt(d2)
            p += 1
    return i_p, j_p, D_pc, d_p


__all__ = ["count_all_pairs", "fill_all_pairs"]
