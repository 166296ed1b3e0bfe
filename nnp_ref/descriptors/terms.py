r"""The symmetry functions of one atom, one small Numba kernel per equation.

The parameter table ``table_sq`` (function s of the central element, column
q, columns named below) is built in ``nnp_ref.descriptors.symmetry_functions``,
whose module docstring gives the formulas of every type. Here atom i's pairs
l = 0 .. n_nb-1 (its rows of the neighbour list, pair vectors D_l = D_ij,
distances r_l, unit vectors u_l = D_l / r_l) are turned into

    G_s      = sum_l w_l R_s(r_l)                                   (radial)
             + sum_{l<m} w_lm A_s(cos theta_lm) R_s(r_l) R_s(r_m) R_s(r_lm)   (angular)

and, because G_i depends on the positions only through its pair vectors,
into the derivatives ``dGdD_lsc[l, s]`` = dG_s/dD_l (when
``with_derivatives``). The results go to ``out`` =
(with_derivatives, G_s, dGdD_lsc), rows of the caller's arrays.

Sharing (``nnp_ref.descriptors.neighbour_index``): the radial part R_k of
functions with equal (r_c, cutoff, eta, r_s) is one *leg* k, computed once
per pair; angular functions of one leg and kind form a *radial group* whose
product R_k(r_l) R_k(r_m) R_k(r_lm) is computed once per triplet; neighbours
are visited in element blocks so element pairs without functions cost nothing.

Calls. The per-atom helpers (legs, radial terms, the sort, self and strain
terms, ``atom_terms`` itself) are inlined into the kernel (``@kernel(inline=True)``):
a call passing tuples of arrays costs a reference count per array, 1.4 us
per atom in all, a tenth of the 24-atom water cluster's time. The triplet
loop ``angular_terms`` stays a call (inlining it cost 1-3 s more compile time).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.compact import angular_code, compact_function
from nnp_ref.descriptors.cutoff import cutoff_function
from nnp_ref.descriptors.jit import kernel

# Columns of the parameter table.
TYPE, E1, E2, RC, ETA, RS, ZETA, LAM, CTYPE, ALPHA, RL, ANG_L, ANG_R, SUBTYPE, KIND, PREF = range(
    16
)
N_COLUMNS = 16
# Values of column KIND: which sum a function belongs to.
KIND_RADIAL, KIND_NARROW, KIND_WIDE = 0, 1, 2


# ---------------------------------------------------------------------------
# One function, one distance or angle.
# ---------------------------------------------------------------------------


@kernel
def leg_cutoff(r, table_sq, s):
    """Cutoff part f_c(r), f_c'(r) of function s's leg (1, 0 for compact types, whose
    polynomial vanishes at r_c by itself). Rows are indexed, not sliced, in the
    kernels' hot loops: a row view costs a reference count each time."""
    if table_sq[s, TYPE] >= 20.0:
        return 1.0, 0.0
    return cutoff_function(r, table_sq[s, RC], table_sq[s, ALPHA], np.int64(table_sq[s, CTYPE]))


@kernel
def radial_factor(r, table_sq, s, fc, dfc):
    r"""Radial factor of function s's leg and its derivative d/dr, given the leg's cutoff.

    Exponential types:  R(r) = exp(-eta (r - r_s)^2) f_c(r)
        dR/dr = [-2 eta (r - r_s) f_c(r) + f_c'(r)] exp(-eta (r - r_s)^2)
    Compact types (20-25): R(r) = C(r; r_l, r_c), n2p2's compact polynomial.
    Both vanish for r >= r_c. ``fc, dfc`` = :func:`leg_cutoff` (r, table_sq, s),
    passed in so that functions sharing a cutoff compute it once per distance.
    """
    if r >= table_sq[s, RC]:
        return 0.0, 0.0
    if table_sq[s, TYPE] >= 20.0:
        subtype = np.int64(table_sq[s, SUBTYPE])
        return compact_function(r, table_sq[s, RL], table_sq[s, RC], subtype)
    eta = table_sq[s, ETA]
    x = r - table_sq[s, RS]
    gauss = np.exp(-eta * x * x)
    return gauss * fc, gauss * (dfc - 2.0 * eta * x * fc)


@kernel
def whole_power(x, n):
    """x^n for a whole number n >= 0, by repeated squaring (x^13 = x^8 x^4 x)."""
    result = 1.0
    while n > 0:
        if n & 1:
            result *= x
        x *= x
        n >>= 1
    return result


@kernel
def real_power(x, a):
    """x^a for x > 0: :func:`whole_power` when a is a whole number up to 64, else pow().

    Same value as ``x ** a`` (to rounding); the common zeta = 1, 2, 4, 16 of
    the angular functions then cost a few multiplications instead of pow().
    """
    if a == np.floor(a) and 0.0 <= a <= 64.0:
        return whole_power(x, np.int64(a))
    return x**a


@kernel
def angular_factor(cos_theta, zeta, lam, prefactor):
    r"""Angular factor of the exponential angular types and its derivative d/d(cos theta).

    Behler 2011, eq. 9: A = 2^(1-zeta) (1 + lambda cos)^zeta,
        dA/dcos = 2^(1-zeta) zeta lambda (1 + lambda cos)^(zeta-1),
    with ``prefactor`` = 2^(1-zeta). As n2p2, 1 + lambda cos <= 0 gives 0 with
    derivative 0. Scalar arguments, so that it is inlined into the triplet loop.
    """
    base = 1.0 + lam * cos_theta
    if base <= 0.0:
        return 0.0, 0.0  # as n2p2: term and derivative 0 at cos = -1/lambda
    power = real_power(base, zeta - 1.0)  # (1 + lambda cos)^(zeta - 1)
    return prefactor * power * base, prefactor * zeta * lam * power


@kernel
def compact_angular_factor(cos_theta, table_sq, s):
    r"""Angular factor of the compact angular types and its derivative d/d(cos theta).

    A = C(theta; theta_l, theta_r) with theta = arccos(cos) in degrees,
    dA/dcos = C'(theta) dtheta/dcos, dtheta/dcos = -(180/pi)/sin theta,
    using the subtype's symmetric core (n2p2 drops the "a" of "p2a" here).
    As n2p2, exactly collinear triplets give 0.
    """
    if cos_theta <= -1.0 or cos_theta >= 1.0:
        return 0.0, 0.0  # n2p2 skips exactly collinear triplets here
    theta = np.arccos(cos_theta) * (180.0 / np.pi)
    code = angular_code(np.int64(table_sq[s, SUBTYPE]))
    value, dvalue = compact_function(theta, table_sq[s, ANG_L], table_sq[s, ANG_R], code)
    sin_theta = np.sqrt(1.0 - cos_theta * cos_theta)
    return value, -dvalue * (180.0 / np.pi) / sin_theta


# ---------------------------------------------------------------------------
# All functions of one atom.
# ---------------------------------------------------------------------------


@kernel(inline=True)
def counting_sort(keys_a, n_keys, order_a, start_k1):
    """Stable counting sort of integer keys in [0, n_keys), into ``order_a`` and ``start_k1``.

    The items with key k are ``order_a[start_k1[k]:start_k1[k + 1]]``, in their
    original order (``order_a`` has at least len(keys_a) slots, ``start_k1``
    n_keys + 1). Used for the neighbours of an atom by element: the triplet
    loop then skips whole element pairs without functions. While items are
    placed, start_k1[k] walks through block k; one shift afterwards restores it.
    """
    for k in range(n_keys + 1):
        start_k1[k] = 0
    for a in range(keys_a.shape[0]):
        start_k1[keys_a[a] + 1] += 1
    for k in range(n_keys):
        start_k1[k + 1] += start_k1[k]
    for a in range(keys_a.shape[0]):
        order_a[start_k1[keys_a[a]]] = a
        start_k1[keys_a[a]] += 1  # now the start of block k + 1
    for k in range(n_keys, 0, -1):
        start_k1[k] = start_k1[k - 1]
    start_k1[0] = 0


@kernel(inline=True)
def pair_legs(d_l, elem_l, table_sq, leg_row_k, leg_cut_k, leg_used_fk, Rleg_lk, dRleg_lk):
    """Radial legs R_k(r_l) and dR_k/dr of every leg k for every pair l.

    ``leg_row_k[k]`` is a function whose row holds leg k's parameters; legs
    with equal ``leg_cut_k`` are consecutive and share the cutoff f_c(r_l).
    Only the legs some function uses for the neighbour's element f
    (``leg_used_fk[f, k]``) are computed; the others are set to 0 and never read
    (water: 10 of 14 legs per pair).
    """
    for l in range(d_l.shape[0]):
        r, f = d_l[l], elem_l[l]
        fc, dfc, last_cut = 1.0, 0.0, -1
        for k in range(leg_row_k.shape[0]):
            if not leg_used_fk[f, k]:
                Rleg_lk[l, k], dRleg_lk[l, k] = 0.0, 0.0
                continue
            s = leg_row_k[k]
            if leg_cut_k[k] != last_cut:
                fc, dfc = leg_cutoff(r, table_sq, s)
                last_cut = leg_cut_k[k]
            Rleg_lk[l, k], dRleg_lk[l, k] = radial_factor(r, table_sq, s, fc, dfc)


@kernel(inline=True)
def radial_terms(e, elem_l, radial, leg, geometry, out):
    r"""Radial functions G_s += w_l R_s(r_l) and their derivatives.

    Since dr/dD = D / r = u:   dG_s/dD_l = w_l R_s'(r_l) u_l  (to dGdD_lsc[l, s]).
    ``radial`` = (radial_ees, radial_leg_ees, radial_count_ee, radial_w_ees)
    from ``build_neighbour_index``; ``leg`` = (Rleg_lk, dRleg_lk, ...);
    ``geometry`` = (D_lc, d_l, u_lc); ``out`` = (with_derivatives, G_s, dGdD_lsc).
    """
    radial_ees, radial_leg_ees, radial_count_ee, radial_w_ees = radial
    Rleg_lk, dRleg_lk = leg[0], leg[1]
    u_lc = geometry[2]
    with_derivatives, G_s, dGdD_lsc = out
    for l in range(u_lc.shape[0]):
        f = elem_l[l]
        u_l = (u_lc[l, 0], u_lc[l, 1], u_lc[l, 2])  # a tuple: no reload after each store
        for q in range(radial_count_ee[e, f]):
            s, k = radial_ees[e, f, q], radial_leg_ees[e, f, q]
            if Rleg_lk[l, k] == 0.0:
                continue
            w = radial_w_ees[e, f, q]
            G_s[s] += w * Rleg_lk[l, k]
            if with_derivatives:
                for c in range(3):
                    dGdD_lsc[l, s, c] += w * dRleg_lk[l, k] * u_l[c]


@kernel
def triplet_vectors(D_lc, d_l, u_lc, l, m, cos_theta, r_lm):
    r"""The geometry's derivatives for one triplet (l, m): five 3-vectors (tuples).

    dcos/dD_l = (u_m - cos u_l) / r_l,  dcos/dD_m = (u_l - cos u_m) / r_m,
    u_l = dr_l/dD_l,  u_m = dr_m/dD_m,  u_lm = (D_m - D_l) / r_lm = dr_lm/dD_m = -dr_lm/dD_l.
    Tuples, not an array: they stay in registers while the members store into dG/dD.
    """
    inv_r_lm = 1.0 / r_lm if r_lm > 0.0 else 0.0
    u_l = (u_lc[l, 0], u_lc[l, 1], u_lc[l, 2])
    u_m = (u_lc[m, 0], u_lc[m, 1], u_lc[m, 2])
    r_l, r_m = d_l[l], d_l[m]
    dcos_l = (
        (u_m[0] - cos_theta * u_l[0]) / r_l,
        (u_m[1] - cos_theta * u_l[1]) / r_l,
        (u_m[2] - cos_theta * u_l[2]) / r_l,
    )
    dcos_m = (
        (u_l[0] - cos_theta * u_m[0]) / r_m,
        (u_l[1] - cos_theta * u_m[1]) / r_m,
        (u_l[2] - cos_theta * u_m[2]) / r_m,
    )
    u_lm = (
        (D_lc[m, 0] - D_lc[l, 0]) * inv_r_lm,
        (D_lc[m, 1] - D_lc[l, 1]) * inv_r_lm,
        (D_lc[m, 2] - D_lc[l, 2]) * inv_r_lm,
    )
    return dcos_l, dcos_m, u_l, u_m, u_lm


@kernel
def product_gradient(P, dP_dr_l, dP_dr_m, dP_dr_lm, vectors):
    r"""P dcos/dD_l, P dcos/dD_m, dP/dD_l, dP/dD_m of a radial product P(r_l, r_m, r_lm).

    With the vectors of :func:`triplet_vectors` (dcos_l, dcos_m, u_l, u_m, u_lm):

        dP/dD_l = dP/dr_l u_l - dP/dr_lm u_lm,   dP/dD_m = dP/dr_m u_m + dP/dr_lm u_lm

    so that a term T = w A(cos theta) P has dT/dD_x = w (A' P dcos/dD_x + A dP/dD_x):
    two 3-vectors per function, the rest once per radial group. Four 3-tuples.
    """
    dcos_l, dcos_m, u_l, u_m, u_lm = vectors
    return (
        (P * dcos_l[0], P * dcos_l[1], P * dcos_l[2]),
        (P * dcos_m[0], P * dcos_m[1], P * dcos_m[2]),
        (
            dP_dr_l * u_l[0] - dP_dr_lm * u_lm[0],
            dP_dr_l * u_l[1] - dP_dr_lm * u_lm[1],
            dP_dr_l * u_l[2] - dP_dr_lm * u_lm[2],
        ),
        (
            dP_dr_m * u_m[0] + dP_dr_lm * u_lm[0],
            dP_dr_m * u_m[1] + dP_dr_lm * u_lm[1],
            dP_dr_m * u_m[2] + dP_dr_lm * u_lm[2],
        ),
    )


@kernel
def angular_terms(e, blocks, table_sq, angular, rjk_limit_eee, leg, pairs_jk, geometry, out, work):
    r"""Angular functions: every pair of neighbours l < m of atom i, and their derivatives.

    Neighbours come in element blocks (``blocks`` = :func:`counting_sort` of their elements):
    element pairs (f, g) of the central element e without functions are
    skipped whole, and for each l the m of block g with r_lm^2 below the pair's
    r_jk limit^2 are listed first; only they are triplets. Per triplet,
    cos theta = u_l . u_m and r_lm = |D_m - D_l|; the narrow groups' factors
    R_k(r_lm); then radial group by radial group (``nnp_ref.descriptors.neighbour_index``):
    group r (leg k) has one radial product and its derivatives

        P = R_k(r_l) R_k(r_m) R_k(r_lm)        (R_k(r_lm) = 1 for the wide types)
        dP/dr_l = R_k'(r_l) R_k(r_m) R_k(r_lm),  and likewise for r_m, r_lm,

    and each member s adds T_s = w A_s(cos theta) P to G_s, and
    dT_s/dD_x = w (A_s' P dcos/dD_x + A_s dP/dD_x) to dGdD_lsc[x, s], x = l, m,
    from the group's vectors of :func:`product_gradient`. The distinct angular
    factors A_t, A_t' of the pair's functions (its *angles* t) are computed once
    per triplet, before the groups; member s reads its angle's.
    ``angular``, ``rjk_limit_eee`` from ``build_neighbour_index``; ``leg`` =
    (Rleg_lk, dRleg_lk, leg_row_k, leg_cut_k) of :func:`pair_legs`. A narrow
    group's R_k(r_lm) comes from the pair table when its leg has a column
    there (``pairs_jk`` = (j_l, column_k, R_jkq, dR_jkq): atom pair (j_l, j_m),
    ``nnp_ref.descriptors.pair_table``), else from :func:`radial_factor`.
    ``work`` = (A_t, dA_t, R_r, dR_r, near_b, r2_b): scratch rows, reused for
    every atom (R_r, dR_r: R_k(r_lm) and its derivative of each group r of the
    triplet; near_b, r2_b: the neighbours m of a block within the r_jk limit of
    neighbour l, and their r_lm^2).

    Length: one loop nest (element blocks, pairs l < m, groups, members) that
    reuses cos theta, r_lm, f_c(r_lm) and the geometry's derivatives across
    groups and members. Written as one call per triplet it ran 20-30 % slower
    (measured on the water box: the index tuples are unpacked and
    reference-counted per call), and so did table rows taken as views. The
    triplet's vectors and the group's gradient are tuples, not scratch arrays:
    an array would be reloaded after every store into dGdD_lsc (the compiler
    cannot rule out that they overlap); as tuples they stay in registers
    (6-12 % faster, same bits). Two orderings for the processor (water box,
    same bits): the m within the r_jk limit are listed without a branch (about
    half are rejected, at random: a mispredicted jump each), 10-14 % faster;
    the factors R_k(r_lm) of all groups come before the vectors, so that the
    exp() calls (across which every live register is spilled) meet few live
    values, 6 % faster.
    """
    order_a, start_f1 = blocks
    group_count_eee, group_leg_eeer, group_narrow_eeer, group_stop_eeer = angular[:4]
    member_s_eeeq, member_w_eeeq, member_angle_eeeq = angular[4:7]
    angle_count_eee, angle_row_eeet = angular[7], angular[8]
    Rleg_lk, dRleg_lk, leg_row_k, leg_cut_k = leg
    j_l, column_k, R_jkq, dR_jkq = pairs_jk
    D_lc, d_l, u_lc = geometry
    with_derivatives, G_s, dGdD_lsc = out
    A_t, dA_t, R_r, dR_r, near_b, r2_b = work
    for f in range(start_f1.shape[0] - 1):
        for g in range(f, start_f1.shape[0] - 1):
            if group_count_eee[e, f, g] == 0:
                continue
            limit2 = rjk_limit_eee[e, f, g] ** 2
            for a in range(start_f1[f], start_f1[f + 1]):
                l = order_a[a]
                # the m of block g with r_lm^2 < limit^2, listed without a branch
                # (half are rejected, unpredictably: a mispredicted jump each)
                n_near = 0
                for b in range(a + 1 if g == f else start_f1[g], start_f1[g + 1]):
                    m = order_a[b]
                    r2_lm = 0.0
                    for c in range(3):
                        r2_lm += (D_lc[m, c] - D_lc[l, c]) ** 2
                    near_b[n_near], r2_b[n_near] = m, r2_lm
                    n_near += r2_lm < limit2
                for i_near in range(n_near):
                    m, r2_lm = near_b[i_near], r2_b[i_near]
                    r_lm = np.sqrt(r2_lm)
                    cos_theta = u_lc[l, 0] * u_lc[m, 0] + u_lc[l, 1] * u_lc[m, 1]
                    cos_theta += u_lc[l, 2] * u_lc[m, 2]
                    # R_k(r_lm) of every group first (1 for the wide ones), while few
                    # values are live: each exp() is a call, across which the compiler
                    # must spill every live register (the vectors below: 15 numbers)
                    fc_lm, dfc_lm, last_cut = 1.0, 0.0, -1  # f_c(r_lm), shared by groups
                    for r in range(group_count_eee[e, f, g]):
                        R_r[r], dR_r[r] = 1.0, 0.0
                        if not group_narrow_eeer[e, f, g, r]:
                            continue
                        k = group_leg_eeer[e, f, g, r]
                        s_k = leg_row_k[k]
                        if r_lm >= table_sq[s_k, RC]:
                            R_r[r] = 0.0
                            continue
                        col = column_k[k]
                        if col >= 0:  # the atom pair's entry of the pair table
                            j, k_atom = j_l[l], j_l[m]
                            R_r[r], dR_r[r] = R_jkq[j, k_atom, col], dR_jkq[j, k_atom, col]
                            continue
                        if leg_cut_k[k] != last_cut:
                            fc_lm, dfc_lm = leg_cutoff(r_lm, table_sq, s_k)
                            last_cut = leg_cut_k[k]
                        R_r[r], dR_r[r] = radial_factor(r_lm, table_sq, s_k, fc_lm, dfc_lm)
                    if with_derivatives:
                        vectors = triplet_vectors(D_lc, d_l, u_lc, l, m, cos_theta, r_lm)
                    for t in range(angle_count_eee[e, f, g]):
                        s = angle_row_eeet[e, f, g, t]
                        if table_sq[s, TYPE] >= 20.0:
                            A_t[t], dA_t[t] = compact_angular_factor(cos_theta, table_sq, s)
                        else:
                            zeta, lam = table_sq[s, ZETA], table_sq[s, LAM]
                            A_t[t], dA_t[t] = angular_factor(
                                cos_theta, zeta, lam, table_sq[s, PREF]
                            )
                    first = 0
                    for r in range(group_count_eee[e, f, g]):
                        stop = group_stop_eeer[e, f, g, r]
                        members = range(first, stop)
                        first = stop
                        k = group_leg_eeer[e, f, g, r]
                        R_l, R_m = Rleg_lk[l, k], Rleg_lk[m, k]
                        if R_l == 0.0 or R_m == 0.0:
                            continue
                        R_lm, dR_lm = R_r[r], dR_r[r]
                        if R_lm == 0.0:
                            continue
                        P = R_l * R_m * R_lm
                        if with_derivatives:
                            dP_dr_l = dRleg_lk[l, k] * R_m * R_lm
                            dP_dr_m = R_l * dRleg_lk[m, k] * R_lm
                            dP_dr_lm = R_l * R_m * dR_lm
                            g0, g1, g2, g3 = product_gradient(
                                P, dP_dr_l, dP_dr_m, dP_dr_lm, vectors
                            )
                        for q in members:
                            s, w = member_s_eeeq[e, f, g, q], member_w_eeeq[e, f, g, q]
                            t = member_angle_eeeq[e, f, g, q]
                            A, dA = A_t[t], dA_t[t]
                            G_s[s] += w * A * P
                            if not with_derivatives:
                                continue
                            wdA, wA = w * dA, w * A
                            for c in range(3):
                                dGdD_lsc[l, s, c] += wdA * g0[c] + wA * g2[c]
                                dGdD_lsc[m, s, c] += wdA * g1[c] + wA * g3[c]


@kernel(inline=True)
def self_and_strain_terms(dGdD_lsc, D_lc, n_s, with_strain, dGself_sc, dGdeps_scc):
    r"""Self derivative and strain derivative of atom i's functions from its pair derivatives.

    Translational invariance: moving atom i moves every D_l by -dR, so
        dG_s/dR_i = -sum_l dG_s/dD_l.
    Homogeneous strain R -> R (1 + eps) maps D_l -> D_l (1 + eps), so
        dG_s/d eps_ab = sum_l D_la dG_s/dD_lb.
    """
    for l in range(D_lc.shape[0]):
        for s in range(n_s):
            for b in range(3):
                dGself_sc[s, b] -= dGdD_lsc[l, s, b]
            if with_strain:
                for a in range(3):
                    for b in range(3):
                        dGdeps_scc[s, a, b] += D_lc[l, a] * dGdD_lsc[l, s, b]


@kernel
def atom_scratch(n_nb_max, n_legs_max, n_elements, s_max):
    """Work arrays of :func:`atom_terms` for atoms of up to ``n_nb_max`` pairs: made once per call.

    (Rleg_lk, dRleg_lk, u_lc, elem_l, order_a, start_f1, A_t, dA_t, R_r, dR_r,
    near_b, r2_b);
    an atom uses the first rows, so the loop over atoms allocates nothing.
    """
    return (
        np.empty((n_nb_max, n_legs_max)),
        np.empty((n_nb_max, n_legs_max)),
        np.empty((n_nb_max, 3)),
        np.empty(n_nb_max, dtype=np.int64),
        np.empty(n_nb_max, dtype=np.int64),
        np.empty(n_elements + 1, dtype=np.int64),
        np.zeros(s_max),
        np.zeros(s_max),
        np.zeros(s_max),
        np.zeros(s_max),
        np.empty(n_nb_max, dtype=np.int64),
        np.empty(n_nb_max),
    )


@kernel(inline=True)
def atom_terms(e, elem_n, j_l, table_sq, index, jk_table, D_lc, d_l, out, scratch):
    """All symmetry functions of one atom (element e) from its pairs, and their derivatives.

    ``j_l`` atom index of each neighbour (``elem_n`` their elements); ``D_lc``,
    ``d_l`` the pair vectors and distances; ``index`` = (legs, radial,
    angular, rjk_limit_eee) of ``build_neighbour_index``; ``jk_table`` =
    (column_ek, R_jkq, dR_jkq) of ``nnp_ref.descriptors.pair_table`` (possibly
    empty); ``out`` = (with_derivatives, G_s, dGdD_lsc), see the module
    docstring; ``scratch`` from :func:`atom_scratch`.
    """
    (n_legs_e, leg_row_ek, leg_cut_ek, leg_used_eek), radial, angular, rjk_limit_eee = index
    n_nb, n_legs = d_l.shape[0], n_legs_e[e]
    Rleg_lk, dRleg_lk, u_lc = scratch[0][:n_nb], scratch[1][:n_nb], scratch[2][:n_nb]
    elem_l, order_a, start_f1 = scratch[3][:n_nb], scratch[4], scratch[5]
    leg_row_k, leg_cut_k = leg_row_ek[e, :n_legs], leg_cut_ek[e, :n_legs]
    for l in range(n_nb):
        elem_l[l] = elem_n[j_l[l]]
        for c in range(3):
            u_lc[l, c] = D_lc[l, c] / d_l[l]
    legs_used_fk = leg_used_eek[e]
    pair_legs(d_l, elem_l, table_sq, leg_row_k, leg_cut_k, legs_used_fk, Rleg_lk, dRleg_lk)
    leg = (Rleg_lk, dRleg_lk, leg_row_k, leg_cut_k)
    geometry = (D_lc, d_l, u_lc)
    counting_sort(elem_l, rjk_limit_eee.shape[0], order_a, start_f1)
    radial_terms(e, elem_l, radial, leg, geometry, out)
    pairs_jk = (j_l, jk_table[0][e], jk_table[1], jk_table[2])
    work = scratch[6:]
    angular_terms(
        e, (order_a, start_f1), table_sq, angular, rjk_limit_eee, leg, pairs_jk, geometry, out, work
    )
