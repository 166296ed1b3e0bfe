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
def leg_cutoff(r, row):
    """Cutoff part f_c(r), f_c'(r) of a leg (1, 0 for compact types, whose
    polynomial vanishes at r_c by itself)."""
    if row[TYPE] >= 20.0:
        return 1.0, 0.0
    return cutoff_function(r, row[RC], row[ALPHA], np.int64(row[CTYPE]))


@kernel
def same_cutoff(row_a, row_b):
    """True if two functions share their cutoff (type, r_c, alpha)."""
    return (
        row_a[TYPE] < 20.0
        and row_b[TYPE] < 20.0
        and row_a[RC] == row_b[RC]
        and row_a[CTYPE] == row_b[CTYPE]
        and row_a[ALPHA] == row_b[ALPHA]
    )


@kernel
def radial_factor(r, row, fc, dfc):
    r"""Radial factor of one leg and its derivative d/dr, given the leg's cutoff.

    Exponential types:  R(r) = exp(-eta (r - r_s)^2) f_c(r)
        dR/dr = [-2 eta (r - r_s) f_c(r) + f_c'(r)] exp(-eta (r - r_s)^2)
    Compact types (20-25): R(r) = C(r; r_l, r_c), n2p2's compact polynomial.
    Both vanish for r >= r_c. ``fc, dfc`` = :func:`leg_cutoff` (r, row), passed
    in so that functions sharing a cutoff compute it once per distance.
    """
    if r >= row[RC]:
        return 0.0, 0.0
    if row[TYPE] >= 20.0:
        return compact_function(r, row[RL], row[RC], np.int64(row[SUBTYPE]))
    x = r - row[RS]
    gauss = np.exp(-row[ETA] * x * x)
    return gauss * fc, gauss * (dfc - 2.0 * row[ETA] * x * fc)


@kernel
def real_power(x, a):
    """x^a for x > 0, by repeated multiplication when a is a small whole number.

    Same value as ``x ** a`` (to rounding); the common zeta = 1, 2, 4, 16 of
    the angular functions then cost a few multiplications instead of pow().
    """
    if a == np.floor(a) and 0.0 <= a <= 64.0:
        result = 1.0
        for _ in range(np.int64(a)):
            result *= x
        return result
    return x**a


@kernel
def angular_factor(cos_theta, row):
    r"""Angular factor of the angular types and its derivative d/d(cos theta).

    Exponential types (Behler 2011, eq. 9): A = 2^(1-zeta) (1 + lambda cos)^zeta,
        dA/dcos = 2^(1-zeta) zeta lambda (1 + lambda cos)^(zeta-1).
    Compact types: A = C(theta; theta_l, theta_r) with theta = arccos(cos) in
    degrees, dA/dcos = C'(theta) dtheta/dcos, dtheta/dcos = -(180/pi)/sin theta,
    using the subtype's symmetric core (n2p2 drops the "a" of "p2a" here).
    Edge cases as n2p2: exactly collinear triplets give 0 for the compact
    types, and 1 + lambda cos = 0 gives 0 with derivative 0.
    """
    if row[TYPE] >= 20.0:
        if cos_theta <= -1.0 or cos_theta >= 1.0:
            return 0.0, 0.0  # n2p2 skips exactly collinear triplets here
        theta = np.arccos(cos_theta) * (180.0 / np.pi)
        code = angular_code(np.int64(row[SUBTYPE]))
        value, dvalue = compact_function(theta, row[ANG_L], row[ANG_R], code)
        sin_theta = np.sqrt(1.0 - cos_theta * cos_theta)
        return value, -dvalue * (180.0 / np.pi) / sin_theta
    zeta = row[ZETA]
    base = 1.0 + row[LAM] * cos_theta
    if base <= 0.0:
        return 0.0, 0.0  # as n2p2: term and derivative 0 at cos = -1/lambda
    prefactor = row[PREF]  # 2^(1-zeta)
    power = real_power(base, zeta - 1.0)  # (1 + lambda cos)^(zeta - 1)
    return prefactor * power * base, prefactor * zeta * row[LAM] * power


@kernel
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


# ---------------------------------------------------------------------------
# All functions of one atom.
# ---------------------------------------------------------------------------


@kernel
def pair_legs(d_l, table_sq, n_s, Rleg_ls, dRleg_ls):
    """Radial legs R_s(r_l) and dR_s/dr of every function s for every pair l.

    The cutoff f_c(r_l) is computed once for consecutive functions sharing it
    (n2p2's sort order puts them next to each other).
    """
    for l in range(d_l.shape[0]):
        r = d_l[l]
        fc, dfc = 1.0, 0.0
        for s in range(n_s):
            if s == 0 or not same_cutoff(table_sq[s], table_sq[s - 1]):
                fc, dfc = leg_cutoff(r, table_sq[s])
            Rleg_ls[l, s], dRleg_ls[l, s] = radial_factor(r, table_sq[s], fc, dfc)


@kernel
def radial_terms(e, elem_l, table_sq, radial, leg, geometry, out):
    r"""Radial functions G_s += w_l R_s(r_l) and their derivatives.

    Since dr/dD = D / r:   dG_s/dD_l = w_l R_s'(r_l) D_l / r_l  (to dGdD_lsc[l, s]).
    ``radial`` = (radial_ees, radial_count_ee, radial_w_ees) from
    ``build_neighbour_index``; ``leg`` = (Rleg_ls, dRleg_ls); ``geometry`` =
    (D_lc, d_l, u_lc); ``out`` = (with_derivatives, G_s, dGdD_lsc).
    """
    radial_ees, radial_count_ee, radial_w_ees = radial
    Rleg_ls, dRleg_ls = leg
    D_lc, d_l, _ = geometry
    with_derivatives, G_s, dGdD_lsc = out
    for l in range(d_l.shape[0]):
        f = elem_l[l]
        for q in range(radial_count_ee[e, f]):
            s = radial_ees[e, f, q]
            if Rleg_ls[l, s] == 0.0:
                continue
            w = radial_w_ees[e, f, q]
            G_s[s] += w * Rleg_ls[l, s]
            if with_derivatives:
                dG_dr = w * dRleg_ls[l, s] / d_l[l]
                for c in range(3):
                    dGdD_lsc[l, s, c] += dG_dr * D_lc[l, c]


@kernel
def angular_terms(e, elem_l, table_sq, angular, rjk_limit_eee, leg, geometry, out):
    r"""Angular functions: every pair of neighbours l < m of atom i, and their derivatives.

    One term T = w A(cos theta) R(r_l) R(r_m) R(r_lm) (R(r_lm) = 1 for the
    wide types), with cos theta = u_l . u_m and r_lm = |D_m - D_l|. With

        dcos/dD_l = (u_m - cos u_l) / r_l,   dr_l/dD_l = u_l,
        dr_lm/dD_l = -u_lm,   u_lm = (D_m - D_l) / r_lm     (and l <-> m, +u_lm),

    the chain rule gives

        dT/dD_l = dT/dcos dcos/dD_l + dT/dr_l u_l - dT/dr_lm u_lm
        dT/dD_m = dT/dcos dcos/dD_m + dT/dr_m u_m + dT/dr_lm u_lm

    with dT/dcos = w A' R_l R_m R_lm, dT/dr_l = w A R_l' R_m R_lm, and so on.
    (added to dGdD_lsc[l, s] and dGdD_lsc[m, s]).
    ``angular`` = (angular_eees, angular_count_eee, angular_w_eees,
    leg_id_eees, cut_id_eees) and ``rjk_limit_eee`` from
    ``build_neighbour_index``; other arguments as :func:`radial_terms`.

    Length: one loop nest (pairs l < m, then the functions s of that element
    triple) that reuses cos theta, r_lm and their derivatives across s; the
    two derivative lines above are written out per Cartesian c inside it.
    Splitting it would recompute or pass these per pair for no gain in reading.
    """
    angular_eees, angular_count_eee, angular_w_eees, leg_id_eees, cut_id_eees = angular
    Rleg_ls, dRleg_ls = leg
    D_lc, d_l, u_lc = geometry
    with_derivatives, G_s, dGdD_lsc = out
    n_nb = d_l.shape[0]
    u_lm_c = np.zeros(3)
    dcos_dD_l_c = np.zeros(3)
    dcos_dD_m_c = np.zeros(3)
    for l in range(n_nb):
        f = elem_l[l]
        r_l = d_l[l]
        for m in range(l + 1, n_nb):
            g = elem_l[m]
            if angular_count_eee[e, f, g] == 0:
                continue
            r_m = d_l[m]
            cos_theta = 0.0
            r2_lm = 0.0
            for c in range(3):
                cos_theta += u_lc[l, c] * u_lc[m, c]
                r2_lm += (D_lc[m, c] - D_lc[l, c]) ** 2
            r_lm = np.sqrt(r2_lm)
            if r_lm >= rjk_limit_eee[e, f, g]:
                continue  # every function of this pair needs r_lm < r_c
            if with_derivatives:
                inv_r_lm = 1.0 / r_lm if r_lm > 0.0 else 0.0
                for c in range(3):
                    dcos_dD_l_c[c] = (u_lc[m, c] - cos_theta * u_lc[l, c]) / r_l
                    dcos_dD_m_c[c] = (u_lc[l, c] - cos_theta * u_lc[m, c]) / r_m
                    u_lm_c[c] = (D_lc[m, c] - D_lc[l, c]) * inv_r_lm
            last_leg, last_cut = -1, -1  # ids of the last r_lm leg and cutoff computed
            fc_lm, dfc_lm, R_lm_last, dR_lm_last = 1.0, 0.0, 0.0, 0.0
            for q in range(angular_count_eee[e, f, g]):
                s = angular_eees[e, f, g, q]
                row = table_sq[s]
                narrow = row[KIND] == KIND_NARROW
                if narrow and r_lm >= row[RC]:
                    continue
                R_l = Rleg_ls[l, s]
                R_m = Rleg_ls[m, s]
                if R_l == 0.0 or R_m == 0.0:
                    continue
                w = angular_w_eees[e, f, g, q]
                R_lm, dR_lm = 1.0, 0.0
                if narrow:
                    # Functions sharing the r_lm leg (or its cutoff) reuse it.
                    if leg_id_eees[e, f, g, q] == last_leg:
                        R_lm, dR_lm = R_lm_last, dR_lm_last
                    else:
                        if cut_id_eees[e, f, g, q] != last_cut:
                            fc_lm, dfc_lm = leg_cutoff(r_lm, row)
                            last_cut = cut_id_eees[e, f, g, q]
                        R_lm, dR_lm = radial_factor(r_lm, row, fc_lm, dfc_lm)
                        last_leg, R_lm_last, dR_lm_last = leg_id_eees[e, f, g, q], R_lm, dR_lm
                    if R_lm == 0.0:
                        continue
                A, dA = angular_factor(cos_theta, row)
                radial = R_l * R_m * R_lm
                G_s[s] += w * A * radial
                if not with_derivatives:
                    continue
                dT_dcos = w * dA * radial
                dT_dr_l = w * A * dRleg_ls[l, s] * R_m * R_lm
                dT_dr_m = w * A * R_l * dRleg_ls[m, s] * R_lm
                dT_dr_lm = w * A * R_l * R_m * dR_lm
                for c in range(3):
                    dGdD_lsc[l, s, c] += (
                        dT_dcos * dcos_dD_l_c[c] + dT_dr_l * u_lc[l, c] - dT_dr_lm * u_lm_c[c]
                    )
                    dGdD_lsc[m, s, c] += (
                        dT_dcos * dcos_dD_m_c[c] + dT_dr_m * u_lc[m, c] + dT_dr_lm * u_lm_c[c]
                    )


@kernel
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
def atom_terms(e, elem_l, table_sq, n_s, index, D_lc, d_l, out):
    """All symmetry functions of one atom (element e) from its pairs, and their derivatives.

    ``elem_l`` element index of each neighbour; ``D_lc``, ``d_l`` the pair
    vectors and distances; ``index`` = (radial, angular, rjk_limit_eee) of
    ``build_neighbour_index``;
    ``out`` = (with_derivatives, G_s, dGdD_lsc), see the module docstring.
    """
    radial, angular, rjk_limit_eee = index
    n_nb = d_l.shape[0]
    Rleg_ls = np.zeros((n_nb, n_s))
    dRleg_ls = np.zeros((n_nb, n_s))
    pair_legs(d_l, table_sq, n_s, Rleg_ls, dRleg_ls)
    u_lc = np.empty((n_nb, 3))
    for l in range(n_nb):
        for c in range(3):
            u_lc[l, c] = D_lc[l, c] / d_l[l]
    leg = (Rleg_ls, dRleg_ls)
    geometry = (D_lc, d_l, u_lc)
    radial_terms(e, elem_l, table_sq, radial, leg, geometry, out)
    angular_terms(e, elem_l, table_sq, angular, rjk_limit_eee, leg, geometry, out)
