"""A neighbour list reused across MD steps: pairs within cutoff + skin (a Verlet list).

L. Verlet, Phys. Rev. 159, 98 (1967); M. P. Allen, D. J. Tildesley,
Computer Simulation of Liquids (2nd ed., 2017), sec. 5.3.

The list is built with the radius r_c + skin. As long as no atom has moved
more than skin/2 since that build, two atoms now closer than r_c were
closer than r_c + skin then (each moved at most skin/2), so every pair
within r_c is in the list. Each call recomputes the pair vectors from the
current positions,

    D_pc = R_nc[j_p] - R_nc[i_p] + S_pc @ cell_cc,

and keeps the pairs with |D| < r_c (one small kernel, :func:`select_pairs`:
an MD step of a small cluster must not spend its time in NumPy calls). The
pairs are kept in one canonical order (by i, then j, then the shift S),
fixed at each build: the list given to the descriptors is then the same,
pair by pair and bit by bit, whether it was rebuilt this step or ten steps
ago, and so are the forces.
The cell must not change between calls (NVE, NVT).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.neighbours import NeighbourList, neighbour_list


def canonical_order(nl: NeighbourList) -> NeighbourList:
    """The same pairs sorted by (i, j, S_x, S_y, S_z); offsets unchanged."""
    order = np.lexsort((nl.S_pc[:, 2], nl.S_pc[:, 1], nl.S_pc[:, 0], nl.j_p, nl.i_p))
    return NeighbourList(
        nl.i_p[order], nl.j_p[order], nl.S_pc[order], nl.D_pc[order], nl.d_p[order], nl.offsets_n1
    )


def pairs_within(R_nc, cell_cc, i_p, j_p, S_pc, cutoff) -> NeighbourList:
    """The pairs of (i_p, j_p, S_pc) with |R_j - R_i + S @ cell| < cutoff, in their order.

    ``i_p`` must be sorted (the list's pairs grouped by central atom).
    """
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    arrays = select_pairs(R_nc, cell_cc, i_p, j_p, S_pc, float(cutoff))
    return NeighbourList(*arrays)


@kernel
def select_pairs(R_nc, cell_cc, i_p, j_p, S_pc, cutoff):
    """``i_p, j_p, S_pc, D_pc, d_p, offsets_n1`` of the pairs with d_p < cutoff.

    D_pc = R_j - R_i + S @ cell for every stored pair (first pass, which
    also counts the kept pairs of every atom), then the kept ones copied in
    their order (second pass).
    """
    n, n_all = R_nc.shape[0], i_p.shape[0]
    cut2 = cutoff * cutoff
    D_all = np.empty((n_all, 3))
    offsets_n1 = np.zeros(n + 1, dtype=np.int64)
    for p in range(n_all):
        i, j = i_p[p], j_p[p]
        for c in range(3):
            shift = S_pc[p, 0] * cell_cc[0, c] + S_pc[p, 1] * cell_cc[1, c]
            shift += S_pc[p, 2] * cell_cc[2, c]
            D_all[p, c] = R_nc[j, c] - R_nc[i, c] + shift  # D = R_j - R_i + S @ cell
        d2 = D_all[p, 0] ** 2 + D_all[p, 1] ** 2 + D_all[p, 2] ** 2
        offsets_n1[i + 1] += d2 < cut2
    for i in range(n):
        offsets_n1[i + 1] += offsets_n1[i]
    m = offsets_n1[n]
    i_q, j_q = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    S_qc, D_qc, d_q = np.empty((m, 3), dtype=np.int64), np.empty((m, 3)), np.empty(m)
    q = 0
    for p in range(n_all):
        d2 = D_all[p, 0] ** 2 + D_all[p, 1] ** 2 + D_all[p, 2] ** 2
        if d2 < cut2:
            i_q[q], j_q[q], d_q[q] = i_p[p], j_p[p], np.sqrt(d2)
            for c in range(3):  # element by element: row slices cost seconds of compile time
                S_qc[q, c], D_qc[q, c] = S_pc[p, c], D_all[p, c]
            q += 1
    return i_q, j_q, S_qc, D_qc, d_q, offsets_n1


class SkinNeighbourList:
    """Verlet list of one structure with a fixed cell: ``update(R_nc)`` -> pairs within cutoff.

    ``skin`` (Å): extra radius of the stored list; it is rebuilt when an atom
    has moved more than skin/2 since the last build (``n_builds`` counts the
    builds). ``always_rebuild=True`` rebuilds at every call (a fresh list,
    same pair order: for tests and comparisons).
    """

    def __init__(self, cutoff, skin, cell_cc, pbc_c, always_rebuild=False):
        if not skin >= 0.0:
            raise ValueError(f"skin must be >= 0 Å, got {skin}")
        self.cutoff = float(cutoff)
        self.skin = float(skin)
        self.cell_cc = np.ascontiguousarray(cell_cc, dtype=np.float64)
        self.pbc_c = np.asarray(pbc_c, dtype=bool)
        self.always_rebuild = always_rebuild
        self.n_builds = 0
        self._R_ref_nc = None
        self._pairs = None  # (i_p, j_p, S_pc) within cutoff + skin at _R_ref_nc

    def needs_rebuild(self, R_nc) -> bool:
        """True if never built, or an atom moved more than skin/2 since the last build."""
        if self.always_rebuild or self._R_ref_nc is None or len(R_nc) != len(self._R_ref_nc):
            return True
        dR_nc = R_nc - self._R_ref_nc
        return bool(np.einsum("nc,nc->n", dR_nc, dR_nc).max() > (0.5 * self.skin) ** 2)

    def update(self, R_nc) -> NeighbourList:
        """Pairs within the cutoff at positions ``R_nc`` (rebuilding the list if needed)."""
        R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
        if self.needs_rebuild(R_nc):
            nl = neighbour_list(R_nc, self.cell_cc, self.pbc_c, self.cutoff + self.skin)
            nl = canonical_order(nl)
            self._pairs = (nl.i_p, nl.j_p, nl.S_pc)
            self._R_ref_nc = R_nc.copy()
            self.n_builds += 1
        return pairs_within(R_nc, self.cell_cc, *self._pairs, self.cutoff)


__all__ = ["SkinNeighbourList", "canonical_order", "pairs_within", "select_pairs"]
