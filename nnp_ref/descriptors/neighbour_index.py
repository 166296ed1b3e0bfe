"""Per element and neighbour elements: which symmetry functions a pair or triplet feeds.

Built once per :class:`~nnp_ref.descriptors.symmetry_functions.SymmetryFunctionSet`
from its parameter table, so that the kernel's inner loops
(``nnp_ref.descriptors.terms``) visit only the functions a neighbour (or a
pair of neighbours) of given elements contributes to, with its weight.

Radial legs. Many functions share their radial part R(r) = exp(-eta (r - r_s)^2)
f_c(r) (same r_c, cutoff type, alpha, eta, r_s; for compact types the same
polynomial): a radial function and the angular functions of one eta do. Each
distinct R is a *leg* k of the central element; the kernel computes R_k(r) once
per pair and leg (``Rleg_lk``), not once per pair and function.

Radial groups. The angular functions of a central element e and neighbour
elements (f, g) that share their leg and kind (narrow/wide) form a *radial
group* r: their radial product R_k(r_l) R_k(r_m) [R_k(r_lm)] is the same, only
the angular factor (zeta, lambda) differs. Per triplet the kernel computes the
product once per group and then loops over the group's members q (n2p2 does
the same: ``SymGrpExpAngn``, ``SymGrpExpAngw`` in ``src/libnnp``).

Angular factors. Across groups the same angular factor recurs: a potential
has a few (zeta, lambda) (water: 4, Cu2S: 4) but many radial groups. Each
distinct angular factor of (e, f, g), (zeta, lambda) for the exponential
types and (subtype, theta_l, theta_r) for the compact ones, is an *angle* t:
per triplet the kernel computes A_t(cos theta) and its derivative once, and
each member q reads its angle ``member_angle_eeeq``.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.terms import (
    ALPHA,
    ANG_L,
    ANG_R,
    CTYPE,
    E1,
    E2,
    ETA,
    KIND,
    KIND_NARROW,
    KIND_RADIAL,
    LAM,
    RC,
    RL,
    RS,
    SUBTYPE,
    TYPE,
    ZETA,
)


def neighbour_weight(row, e_j, e_k, zeta_j, zeta_k):
    """Weight of a neighbour (radial, k < 0) or neighbour pair (angular).

    Element-resolved types: 1 if the element(s) match (either order for
    angular), else 0. Weighted types: Z_j (radial) or Z_j Z_k (angular).
    """
    t = np.int64(row[TYPE])
    if t == 12 or t == 23:
        return zeta_j
    if t == 13 or t == 24 or t == 25:
        return zeta_j * zeta_k
    e1 = np.int64(row[E1])
    e2 = np.int64(row[E2])
    if e_k < 0:
        return 1.0 if e_j == e1 else 0.0
    if (e_j == e1 and e_k == e2) or (e_j == e2 and e_k == e1):
        return 1.0
    return 0.0


def radial_legs(table_sq, n_s):
    """Leg id of every function, ordered so that legs sharing a cutoff are consecutive.

    Returns ``leg_s`` (leg of function s), ``leg_row_k`` (a function s whose
    table row holds leg k's parameters) and ``leg_cut_k`` (cutoff id of leg k:
    equal ids share f_c(r); compact legs have their own). Exponential legs are
    keyed by (r_c, cutoff type, alpha, eta, r_s), compact ones by (r_l, r_c, subtype).
    """
    keys = []
    for s in range(n_s):
        row = table_sq[s]
        if row[TYPE] >= 20:
            cut = ("compact", row[RL], row[RC], row[SUBTYPE])
            keys.append((cut, cut))
        else:
            cut = ("exp", row[RC], row[CTYPE], row[ALPHA])
            keys.append((cut, ("exp", row[ETA], row[RS])))
    distinct = sorted(set(keys), key=lambda key: (str(key[0]), str(key[1])))
    leg_of_key = {key: k for k, key in enumerate(distinct)}
    cut_of_key = {}
    leg_s = np.array([leg_of_key[key] for key in keys], dtype=np.int64)
    leg_row_k = np.zeros(len(distinct), dtype=np.int64)
    leg_cut_k = np.zeros(len(distinct), dtype=np.int64)
    for s in reversed(range(n_s)):
        leg_row_k[leg_s[s]] = s
    for k, key in enumerate(distinct):
        leg_cut_k[k] = cut_of_key.setdefault(key[0], len(cut_of_key))
    return leg_s, leg_row_k, leg_cut_k


def angle_key(row):
    """Parameters of an angular function's angular factor: equal keys, equal A(cos theta).

    (zeta, lambda) for the exponential types (3, 9, 13: the prefactor
    2^(1 - zeta) follows from zeta); (subtype, theta_l, theta_r) for the compact ones.
    """
    if row[TYPE] >= 20:
        return ("compact", row[SUBTYPE], row[ANG_L], row[ANG_R])
    return ("exp", row[ZETA], row[LAM])


def build_neighbour_index(table_esq, n_s_e, Znum_e):
    """Which functions a neighbour (pair) contributes to, with what weight, for the kernel.

    Returns the tuple ``(legs, radial, angular, rjk_limit_eee)`` the kernel takes:

    - ``legs = (n_legs_e, leg_row_ek, leg_cut_ek, leg_used_eek)``: legs of every
      central element (:func:`radial_legs`, padded); ``leg_used_eek[e, f, k]``:
      a function of e fed by a neighbour of element f uses leg k (else the
      kernel skips that leg for such a neighbour);
    - ``radial = (radial_ees, radial_leg_ees, radial_count_ee, radial_w_ees)``:
      the radial functions ``radial_ees[e, f, :radial_count_ee[e, f]]`` of
      central element e to which a neighbour of element f contributes, their
      legs and weights (:func:`neighbour_weight`);
    - ``angular = (group_count_eee, group_leg_eeer, group_narrow_eeer,
      group_stop_eeer, member_s_eeeq, member_w_eeeq, member_angle_eeeq,
      angle_count_eee, angle_row_eeet)``: the radial groups r of
      the angular functions of e for a neighbour pair of elements (f, g), in
      either order; group r's members are the slots
      ``group_stop_eeer[e, f, g, r-1] .. group_stop_eeer[e, f, g, r]`` (from 0
      for r = 0) of ``member_s_eeeq`` (function), ``member_w_eeeq`` (weight)
      and ``member_angle_eeeq`` (its angle t); the angles
      t < ``angle_count_eee[e, f, g]`` are the distinct angular factors, each
      with a function ``angle_row_eeet[e, f, g, t]`` whose row holds its parameters;
    - ``rjk_limit_eee[e, f, g]``: no angular function of e for the pair (f, g)
      contributes when r_jk >= this (inf if a wide type needs no r_jk limit).
    """
    n_e, s_max, _ = table_esq.shape
    per_element = [radial_legs(table_esq[e], n_s_e[e]) for e in range(n_e)]
    k_max = max(len(rows) for _, rows, _ in per_element)
    n_legs_e = np.array([len(rows) for _, rows, _ in per_element], dtype=np.int64)
    leg_row_ek = np.zeros((n_e, k_max), dtype=np.int64)
    leg_cut_ek = np.zeros((n_e, k_max), dtype=np.int64)
    leg_used_eek = np.zeros((n_e, n_e, k_max), dtype=np.bool_)
    radial_ees = np.zeros((n_e, n_e, s_max), dtype=np.int64)
    radial_leg_ees = np.zeros((n_e, n_e, s_max), dtype=np.int64)
    radial_count_ee = np.zeros((n_e, n_e), dtype=np.int64)
    radial_w_ees = np.zeros((n_e, n_e, s_max))
    group_count_eee = np.zeros((n_e, n_e, n_e), dtype=np.int64)
    group_leg_eeer = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    group_narrow_eeer = np.zeros((n_e, n_e, n_e, s_max), dtype=np.bool_)
    group_stop_eeer = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    member_s_eeeq = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    member_w_eeeq = np.zeros((n_e, n_e, n_e, s_max))
    member_angle_eeeq = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    angle_count_eee = np.zeros((n_e, n_e, n_e), dtype=np.int64)
    angle_row_eeet = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    rjk_limit_eee = np.zeros((n_e, n_e, n_e))
    for e in range(n_e):
        leg_s, leg_row_k, leg_cut_k = per_element[e]
        leg_row_ek[e, : len(leg_row_k)] = leg_row_k
        leg_cut_ek[e, : len(leg_cut_k)] = leg_cut_k
        for f in range(n_e):
            for s in range(n_s_e[e]):
                row = table_esq[e, s]
                if row[KIND] != KIND_RADIAL:
                    continue
                w = neighbour_weight(row, f, -1, Znum_e[f], 0.0)
                if w != 0.0:
                    q = radial_count_ee[e, f]
                    radial_ees[e, f, q], radial_leg_ees[e, f, q] = s, leg_s[s]
                    radial_w_ees[e, f, q] = w
                    radial_count_ee[e, f] += 1
                    leg_used_eek[e, f, leg_s[s]] = True
            for g in range(n_e):
                groups = _radial_groups(table_esq[e], n_s_e[e], leg_s, leg_cut_k, f, g, Znum_e)
                q, angles = 0, {}
                for r, (leg, narrow, members) in enumerate(groups):
                    group_leg_eeer[e, f, g, r], group_narrow_eeer[e, f, g, r] = leg, narrow
                    leg_used_eek[e, f, leg] = leg_used_eek[e, g, leg] = True
                    for s, w in members:
                        member_s_eeeq[e, f, g, q], member_w_eeeq[e, f, g, q] = s, w
                        key = angle_key(table_esq[e, s])
                        if key not in angles:
                            angle_row_eeet[e, f, g, len(angles)] = s
                            angles[key] = len(angles)
                        member_angle_eeeq[e, f, g, q] = angles[key]
                        q += 1
                    group_stop_eeer[e, f, g, r] = q
                    limit = table_esq[e, members[0][0], RC] if narrow else np.inf
                    rjk_limit_eee[e, f, g] = max(rjk_limit_eee[e, f, g], limit)
                group_count_eee[e, f, g] = len(groups)
                angle_count_eee[e, f, g] = len(angles)
    legs = (n_legs_e, leg_row_ek, leg_cut_ek, leg_used_eek)
    radial = (radial_ees, radial_leg_ees, radial_count_ee, radial_w_ees)
    angular = (
        group_count_eee,
        group_leg_eeer,
        group_narrow_eeer,
        group_stop_eeer,
        member_s_eeeq,
        member_w_eeeq,
        member_angle_eeeq,
        angle_count_eee,
        angle_row_eeet,
    )
    return legs, radial, angular, rjk_limit_eee


def _radial_groups(table_sq, n_s, leg_s, leg_cut_k, f, g, Znum_e):
    """[(leg, narrow, [(s, w), ...]), ...]: the angular functions fed by neighbours (f, g).

    Grouped by (leg, narrow); groups ordered by the cutoff of their leg (so a
    triplet computes a shared f_c(r_jk) once), members in table order.
    """
    groups = {}
    for s in range(n_s):
        row = table_sq[s]
        if row[KIND] == KIND_RADIAL:
            continue
        w = neighbour_weight(row, f, g, Znum_e[f], Znum_e[g])
        if w != 0.0:
            key = (int(leg_s[s]), bool(row[KIND] == KIND_NARROW))
            groups.setdefault(key, []).append((s, w))
    order = sorted(groups, key=lambda key: (leg_cut_k[key[0]], key))
    return [(leg, narrow, groups[leg, narrow]) for leg, narrow in order]


__all__ = ["build_neighbour_index", "neighbour_weight", "radial_legs"]
