r"""The r_jk factors of a small finite structure: once per atom pair, not once per triplet.

A narrow angular function (types 3, 13 and the compact narrow ones) of atom i
has, in every triplet (i, j, k), the factor R_k(r_jk) of its leg (radial legs:
``nnp_ref.descriptors.neighbour_index``). In a structure without periodic
images r_jk is the distance of two atoms, the same for every central atom that
sees both: in the 24-atom (H2O)_8 cluster an atom pair is in the triplets of up
to 22 central atoms, and the exponentials of R_k(r_jk) were a fifth of the
kernel's time. For such structures the kernel reads R_k(r_jk) and dR_k/dr
from a table over atom pairs, built once per call from the neighbour list:
O(n^2) exponentials instead of O(n^3).

The table ``R_jkq[j, k, q]`` has one column q per (central element e, leg k)
that a narrow radial group uses (``column_ek[e, k]``, -1 for other legs), and
a row for every pair (j, k) of the neighbour list (zero elsewhere: a triplet
whose r_jk is below the cutoff always has its pair (j, k) in the list). Used
when the list has no image pairs (every cell shift zero, so a pair of atoms is
one pair) and at most :data:`TABLE_MAX_ATOMS` atoms; otherwise the kernel
computes R_k(r_jk) per triplet as before (an empty table). Same numbers to
rounding: the table takes r_jk = |R_k - R_j| from the list, the triplet loop
|D_ik - D_ij| (``tests/test_pair_table.py``: 1e-13 relative).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.terms import RC, leg_cutoff, radial_factor

#: Largest structure (atoms) that gets a pair table: n^2 rows of a few columns.
TABLE_MAX_ATOMS = 150


def narrow_leg_columns(index) -> np.ndarray:
    """``(column_ek, used_eeek)``: table columns of the narrow legs, and where they are read.

    ``column_ek[e, k]``: the column of central element e's leg k (-1: no narrow
    group uses it); ``used_eeek[e, f, g, k]``: a narrow group of e for neighbour
    elements (f, g) uses leg k, so the entries of an (f, g) atom pair in that
    column are read (the others are never computed). From the radial groups of
    ``build_neighbour_index``.
    """
    (n_legs_e, _, _, _), _, angular, _ = index
    group_count_eee, group_leg_eeer, group_narrow_eeer = angular[0], angular[1], angular[2]
    n_e, k_max = len(n_legs_e), max(int(n_legs_e.max()), 1)
    column_ek = np.full((n_e, k_max), -1, dtype=np.int64)
    used_eeek = np.zeros((n_e, n_e, n_e, k_max), dtype=np.bool_)
    q = 0
    for e in range(n_e):
        for f in range(n_e):
            for g in range(n_e):
                for r in range(group_count_eee[e, f, g]):
                    k = group_leg_eeer[e, f, g, r]
                    if not group_narrow_eeer[e, f, g, r]:
                        continue
                    used_eeek[e, f, g, k] = used_eeek[e, g, f, k] = True
                    if column_ek[e, k] < 0:
                        column_ek[e, k] = q
                        q += 1
    return column_ek, used_eeek


@kernel
def fill_pair_table(table_esq, legs, columns, elem_n, i_p, j_p, d_p, R_jkq, dR_jkq):
    """R_jkq[j, k, q], dR_jkq[j, k, q] = R_k(r_jk), dR_k/dr(r_jk) of column q = column_ek[e, k].

    The leg's own cutoff and radial factor (``terms.leg_cutoff``,
    ``terms.radial_factor``): the numbers the triplet loop would compute.
    Each atom pair once (the list holds (j, k) and (k, j) with the same
    distance), only the columns its elements' narrow groups read (``columns`` =
    :func:`narrow_leg_columns`), legs sharing a cutoff share f_c(r) (as
    ``terms.pair_legs``). ``legs`` = (n_legs_e, leg_row_ek, leg_cut_ek, ...)
    of ``build_neighbour_index``.
    """
    n_legs_e, leg_row_ek, leg_cut_ek = legs[0], legs[1], legs[2]
    column_ek, used_eeek = columns
    for e in range(column_ek.shape[0]):
        table_sq = table_esq[e]
        for p in range(d_p.shape[0]):
            j, k_atom, r = i_p[p], j_p[p], d_p[p]
            if j > k_atom:
                continue
            f, g = elem_n[j], elem_n[k_atom]
            fc, dfc, last_cut = 1.0, 0.0, -1
            for k in range(n_legs_e[e]):
                q = column_ek[e, k]
                s = leg_row_ek[e, k]
                if q < 0 or not used_eeek[e, f, g, k] or r >= table_sq[s, RC]:
                    continue
                if leg_cut_ek[e, k] != last_cut:
                    fc, dfc = leg_cutoff(r, table_sq, s)
                    last_cut = leg_cut_ek[e, k]
                R, dR = radial_factor(r, table_sq, s, fc, dfc)
                R_jkq[j, k_atom, q], dR_jkq[j, k_atom, q] = R, dR
                R_jkq[k_atom, j, q], dR_jkq[k_atom, j, q] = R, dR


def empty_pair_table(column_ek):
    """The table of a structure that has none: every column -1, no rows."""
    no_rows = np.zeros((0, 0, 0))
    return np.full_like(column_ek, -1), no_rows, no_rows


def pair_table(table_esq, index, columns, elem_n, nl):
    """``(column_ek, R_jkq, dR_jkq)`` for the kernel: a table, or an empty one (see above).

    ``columns`` = :func:`narrow_leg_columns` of ``index``; ``elem_n`` the atoms' elements.
    """
    column_ek = columns[0]
    n_columns, n_atoms = int(column_ek.max()) + 1, len(elem_n)
    if n_columns == 0 or n_atoms > TABLE_MAX_ATOMS or nl.S_pc.any():
        return empty_pair_table(column_ek)
    R_jkq = np.zeros((n_atoms, n_atoms, n_columns))
    dR_jkq = np.zeros((n_atoms, n_atoms, n_columns))
    legs, ij = index[0], (nl.i_p, nl.j_p, nl.d_p)
    fill_pair_table(table_esq, legs, columns, elem_n, *ij, R_jkq, dR_jkq)
    return column_ek, R_jkq, dR_jkq


__all__ = [
    "TABLE_MAX_ATOMS",
    "empty_pair_table",
    "fill_pair_table",
    "narrow_leg_columns",
    "pair_table",
]
