"""Per element and neighbour elements: which symmetry functions a pair or triplet feeds.

Built once per :class:`~nnp_ref.descriptors.symmetry_functions.SymmetryFunctionSet`
from its parameter table, so that the kernel's inner loops
(``nnp_ref.descriptors.terms``) visit only the functions a neighbour (or a
pair of neighbours) of given elements contributes to, with its weight, and
compute a shared r_jk leg or cutoff once per triplet.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.terms import (
    ALPHA,
    CTYPE,
    ETA,
    KIND,
    KIND_NARROW,
    KIND_RADIAL,
    RC,
    RS,
    TYPE,
    neighbour_weight,
)


def build_neighbour_index(table_esq, n_s_e, Znum_e):
    """Which functions a neighbour (pair) contributes to, with what weight, for the kernel.

    ``radial_ees[e, f, :radial_count_ee[e, f]]``: radial functions of central
    element e to which a neighbour of element f contributes, with weights
    ``radial_w_ees`` (:func:`~nnp_ref.descriptors.terms.neighbour_weight`);
    ``angular_eees[e, f, g, :angular_count_eee[e, f, g]]``: angular functions
    of e to which a neighbour pair of elements (f, g) contributes, weights
    ``angular_w_eees``; ``leg_id_eees`` / ``cut_id_eees``: functions of e with
    equal ids share the whole r_jk leg / its cutoff (computed once per
    triplet); ``rjk_limit_eee[e, f, g]``: no angular function of e for the
    pair (f, g) contributes when r_jk >= this (inf if a wide type needs no
    r_jk limit). Returned as the tuple the kernel takes.
    """
    n_e, s_max, _ = table_esq.shape
    radial_ees = np.zeros((n_e, n_e, s_max), dtype=np.int64)
    radial_count_ee = np.zeros((n_e, n_e), dtype=np.int64)
    radial_w_ees = np.zeros((n_e, n_e, s_max))
    angular_eees = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    angular_count_eee = np.zeros((n_e, n_e, n_e), dtype=np.int64)
    angular_w_eees = np.zeros((n_e, n_e, n_e, s_max))
    leg_id_eees = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    cut_id_eees = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    rjk_limit_eee = np.zeros((n_e, n_e, n_e))
    for e in range(n_e):
        leg_ids, cut_ids = _shared_leg_ids(table_esq[e], n_s_e[e])
        for s in range(n_s_e[e]):
            row = table_esq[e, s]
            for f in range(n_e):
                if row[KIND] == KIND_RADIAL:
                    w = neighbour_weight(row, f, -1, Znum_e[f], 0.0)
                    if w != 0.0:
                        q = radial_count_ee[e, f]
                        radial_ees[e, f, q], radial_w_ees[e, f, q] = s, w
                        radial_count_ee[e, f] += 1
                    continue
                for g in range(n_e):
                    w = neighbour_weight(row, f, g, Znum_e[f], Znum_e[g])
                    if w != 0.0:
                        q = angular_count_eee[e, f, g]
                        angular_eees[e, f, g, q], angular_w_eees[e, f, g, q] = s, w
                        leg_id_eees[e, f, g, q] = leg_ids[s]
                        cut_id_eees[e, f, g, q] = cut_ids[s]
                        angular_count_eee[e, f, g] += 1
                        limit = row[RC] if row[KIND] == KIND_NARROW else np.inf
                        rjk_limit_eee[e, f, g] = max(rjk_limit_eee[e, f, g], limit)
    radial = (radial_ees, radial_count_ee, radial_w_ees)
    angular = (
        angular_eees,
        angular_count_eee,
        angular_w_eees,
        leg_id_eees,
        cut_id_eees,
    )
    return radial, angular, rjk_limit_eee


def _shared_leg_ids(table_sq, n_s):
    """Ids of the r_jk leg (cutoff, r_c, alpha, eta, r_s) and of its cutoff, per function.

    Equal ids: the same leg / cutoff. Compact types never share (their leg
    is their own polynomial), as in :func:`~nnp_ref.descriptors.terms.same_cutoff`.
    """
    legs, cuts = {}, {}
    leg_ids = np.zeros(n_s, dtype=np.int64)
    cut_ids = np.zeros(n_s, dtype=np.int64)
    for s in range(n_s):
        row = table_sq[s]
        cut = (row[RC], row[CTYPE], row[ALPHA]) if row[TYPE] < 20 else ("compact", s)
        leg = (*cut, row[ETA], row[RS])
        cut_ids[s] = cuts.setdefault(cut, len(cuts))
        leg_ids[s] = legs.setdefault(leg, len(legs))
    return leg_ids, cut_ids


__all__ = ["build_neighbour_index"]
