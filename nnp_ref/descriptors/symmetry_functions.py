r"""Atom-centred symmetry functions (ACSF) and their analytic derivatives.

Every atom i is described by a vector G_i of symmetry functions of its
neighbours within a cutoff radius r_c (J. Behler, J. Chem. Phys. 134, 074106
(2011), doi:10.1063/1.3553717). nnp_ref follows n2p2's definitions and type
codes (A. Singraber et al., J. Chem. Theory Comput. 15, 1827 (2019)):

=====  =====================================================================
type   formula (sums over neighbours j, k of atom i within r_c)
=====  =====================================================================
2      G = sum_{j, Z_j = e1} exp(-eta (r_ij - r_s)^2) f_c(r_ij)
3      G = 2^(1-zeta) sum_{j<k, {Z_j,Z_k} = {e1,e2}} (1 + lambda cos theta_ijk)^zeta
           exp(-eta [(r_ij-r_s)^2 + (r_ik-r_s)^2 + (r_jk-r_s)^2])
           f_c(r_ij) f_c(r_ik) f_c(r_jk)                       (narrow)
9      as 3 without the r_jk terms: no exp(-eta (r_jk-r_s)^2), no f_c(r_jk) (wide)
12     as 2, every neighbour weighted by its atomic number Z_j (no element filter)
13     as 3, every pair weighted by Z_j Z_k (no element filter)
20-25  n2p2's compact polynomial functions (see ``nnp_ref.descriptors.compact``)
=====  =====================================================================

The angle is never computed for the exponential types: cos theta_ijk =
D_ij . D_ik / (r_ij r_ik) is all the formulas need. (The compact angular
types 21, 22, 24, 25 are defined by n2p2 as polynomials of theta itself, so
there theta = arccos(cos theta) is taken, as n2p2 does.)

Layout. A symmetry-function set becomes a parameter table ``table_esq``
(element e of the potential, function s, parameter column q) read by a single
Numba kernel; the type is an integer code in column ``TYPE``, not a class.
The kernel returns, for one structure,

- ``G_ns``: raw G of every atom (row i uses the set of element Z_i, padded
  with zeros to the largest set),
- ``dGdR_psc``: dG_{i_p s} / dR_{j_p} for every neighbour pair p = (i, j, S)
  of the neighbour list (image pairs are separate rows),
- ``dGself_nsc``: dG_{i s}/dR_i = -sum_{p: i_p = i} dGdR_psc[p] (translational
  invariance),
- ``dGdeps_nscc``: dG_{i s}/d eps_ab for a homogeneous strain
  R -> R (1 + eps) (positions as row vectors, cell with them),
  = sum_{p: i_p = i} D_pa dGdR_psb.

Because G_i depends on the positions only through the pair vectors
D_ij = R_j - R_i + S @ cell, dG_i/dR_j for a pair is exactly dG_i/dD_ij.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from ase.data import atomic_numbers
from numba import njit, prange

from nnp_ref.descriptors.compact import angular_code, compact_function, subtype_code
from nnp_ref.descriptors.cutoff import CUTOFF_TYPES, check_cutoff_parameters, cutoff_function
from nnp_ref.descriptors.neighbours import NeighbourList, neighbour_list

RADIAL_TYPES = (2, 12, 20, 23)
ANGULAR_TYPES = (3, 9, 13, 21, 22, 24, 25)
WEIGHTED_TYPES = (12, 13, 23, 24, 25)
NARROW_TYPES = (3, 13, 21, 24)  # angular types with the r_jk terms
COMPACT_TYPES = (20, 21, 22, 23, 24, 25)

# Structures with fewer atoms are computed on one thread.
PARALLEL_MIN_ATOMS = 256

# Columns of the parameter table.
TYPE, E1, E2, RC, ETA, RS, ZETA, LAM, CTYPE, ALPHA, RL, ANG_L, ANG_R, SUBTYPE, KIND, PREF = range(
    16
)
N_COLUMNS = 16
# Values of column KIND: which sum the kernel evaluates for a function.
KIND_RADIAL, KIND_NARROW, KIND_WIDE = 0, 1, 2


@dataclass(frozen=True)
class SymmetryFunction:
    """One symmetry function of a central element, with n2p2's type code.

    Lengths in Å, ``eta`` in 1/Å^2. ``neighbours`` holds one element symbol
    for element-resolved radial types, two for angular types and none for
    the weighted types (12, 13, 23-25). Compact types (20-25) use ``rl``,
    ``rc``, ``angle_left``/``angle_right`` (degrees) and ``subtype``
    (e.g. ``"p2"``); exponential types use ``eta``, ``rs``, ``zeta``, ``lam``.
    ``cutoff_type``/``alpha`` select the cutoff function of the exponential
    types (``nnp_ref.descriptors.cutoff``).
    """

    type: int
    center: str
    neighbours: tuple[str, ...]
    rc: float
    eta: float = 0.0
    rs: float = 0.0
    zeta: float = 1.0
    lam: float = 1.0
    cutoff_type: int = 1
    alpha: float = 0.0
    rl: float = 0.0
    angle_left: float = 0.0
    angle_right: float = 0.0
    subtype: str = ""

    def check(self) -> None:
        """Raise ``ValueError`` naming the problem if a parameter is invalid."""
        where = f"symmetry function {self}"
        if self.type not in RADIAL_TYPES + ANGULAR_TYPES:
            raise ValueError(f"unknown symmetry-function type {self.type} in {where}")
        for symbol in (self.center, *self.neighbours):
            if symbol not in atomic_numbers:
                raise ValueError(f"unknown element {symbol!r} in {where}")
        n_expected = 0 if self.type in WEIGHTED_TYPES else (1 if self.type in RADIAL_TYPES else 2)
        if len(self.neighbours) != n_expected:
            raise ValueError(
                f"type {self.type} needs {n_expected} neighbour element(s), "
                f"got {len(self.neighbours)} in {where}"
            )
        values = (self.rc, self.eta, self.rs, self.zeta, self.lam, self.alpha, self.rl)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"non-finite parameter in {where}")
        if not self.rc > 0.0:
            raise ValueError(f"cutoff radius rc must be positive, got {self.rc} in {where}")
        if self.type in COMPACT_TYPES:
            if not self.rl < self.rc:
                raise ValueError(f"need rl < rc, got rl={self.rl}, rc={self.rc} in {where}")
            subtype_code(self.subtype)  # raises for an unknown subtype
            if self.type in ANGULAR_TYPES and not self.angle_left < self.angle_right:
                raise ValueError(f"need angle_left < angle_right in {where}")
            return
        check_cutoff_parameters(self.rc, self.alpha, self.cutoff_type)
        if self.eta < 0.0:
            raise ValueError(f"eta must be >= 0, got {self.eta} in {where}")
        if self.type in ANGULAR_TYPES:
            if self.zeta < 1.0:
                raise ValueError(f"zeta must be >= 1, got {self.zeta} in {where}")
            if self.lam not in (1.0, -1.0):
                raise ValueError(f"lambda must be +1 or -1, got {self.lam} in {where}")


def cutoff_radius(sf_sets: dict[str, list[SymmetryFunction]]) -> float:
    """Largest cutoff radius over all sets (the neighbour-list cutoff)."""
    return max(sf.rc for sfs in sf_sets.values() for sf in sfs)


def build_table(
    sf_sets: dict[str, list[SymmetryFunction]], elements: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter table ``table_esq`` and set sizes ``n_s_e`` for the kernel.

    ``elements`` fixes the element index e used everywhere (column E1/E2 of
    the table hold neighbour element indices, -1 for "any" in weighted types).
    """
    for symbol in sf_sets:
        if symbol not in elements:
            raise ValueError(f"symmetry functions given for element {symbol!r} not in {elements}")
    for symbol in elements:
        if not sf_sets.get(symbol):
            raise ValueError(f"element {symbol!r} has no symmetry functions")
    s_max = max(len(sf_sets[e]) for e in elements)
    table_esq = np.zeros((len(elements), s_max, N_COLUMNS))
    n_s_e = np.zeros(len(elements), dtype=np.int64)
    for e, symbol in enumerate(elements):
        n_s_e[e] = len(sf_sets[symbol])
        for s, sf in enumerate(sf_sets[symbol]):
            sf.check()
            if sf.center != symbol:
                raise ValueError(f"{sf} listed under element {symbol!r}")
            neighbour_index = []
            for nb in sf.neighbours:
                if nb not in elements:
                    raise ValueError(f"neighbour element {nb!r} of {sf} is not in {elements}")
                neighbour_index.append(elements.index(nb))
            neighbour_index += [-1] * (2 - len(neighbour_index))
            row = table_esq[e, s]
            row[TYPE] = sf.type
            row[E1], row[E2] = neighbour_index
            row[RC], row[ETA], row[RS] = sf.rc, sf.eta, sf.rs
            row[ZETA], row[LAM] = sf.zeta, sf.lam
            row[PREF] = 2.0 ** (1.0 - sf.zeta)  # the angular prefactor 2^(1-zeta)
            row[CTYPE], row[ALPHA] = sf.cutoff_type, sf.alpha
            row[RL], row[ANG_L], row[ANG_R] = sf.rl, sf.angle_left, sf.angle_right
            row[SUBTYPE] = subtype_code(sf.subtype) if sf.type in COMPACT_TYPES else -1
            if sf.type in RADIAL_TYPES:
                row[KIND] = KIND_RADIAL
            else:
                row[KIND] = KIND_NARROW if sf.type in NARROW_TYPES else KIND_WIDE
    return table_esq, n_s_e


def build_neighbour_index(table_esq, n_s_e, Znum_e):
    """Which functions a neighbour (pair) contributes to, for the kernel's inner loops.

    ``radial_ees[e, f, :radial_count_ee[e, f]]``: radial functions of central
    element e to which a neighbour of element f contributes;
    ``angular_eees[e, f, g, :angular_count_eee[e, f, g]]``: angular functions
    of e to which a neighbour pair of elements (f, g) contributes;
    ``rjk_limit_eee[e, f, g]``: no angular function of e for the pair (f, g)
    contributes when r_jk >= this (inf if a wide type needs no r_jk limit).
    This only skips work: the weights come from :func:`neighbour_weight`.
    """
    n_e, s_max, _ = table_esq.shape
    radial_ees = np.zeros((n_e, n_e, s_max), dtype=np.int64)
    radial_count_ee = np.zeros((n_e, n_e), dtype=np.int64)
    angular_eees = np.zeros((n_e, n_e, n_e, s_max), dtype=np.int64)
    angular_count_eee = np.zeros((n_e, n_e, n_e), dtype=np.int64)
    rjk_limit_eee = np.zeros((n_e, n_e, n_e))
    for e in range(n_e):
        for s in range(n_s_e[e]):
            row = table_esq[e, s]
            for f in range(n_e):
                if row[KIND] == KIND_RADIAL:
                    if neighbour_weight(row, f, -1, Znum_e[f], 0.0) != 0.0:
                        radial_ees[e, f, radial_count_ee[e, f]] = s
                        radial_count_ee[e, f] += 1
                    continue
                for g in range(n_e):
                    if neighbour_weight(row, f, g, Znum_e[f], Znum_e[g]) != 0.0:
                        angular_eees[e, f, g, angular_count_eee[e, f, g]] = s
                        angular_count_eee[e, f, g] += 1
                        limit = row[RC] if row[KIND] == KIND_NARROW else np.inf
                        rjk_limit_eee[e, f, g] = max(rjk_limit_eee[e, f, g], limit)
    return radial_ees, radial_count_ee, angular_eees, angular_count_eee, rjk_limit_eee


# ---------------------------------------------------------------------------
# One small kernel per equation.
# ---------------------------------------------------------------------------


@njit(cache=True)
def leg_cutoff(r, row):
    """Cutoff part f_c(r), f_c'(r) of a leg (1, 0 for compact types, whose
    polynomial vanishes at r_c by itself)."""
    if row[TYPE] >= 20.0:
        return 1.0, 0.0
    return cutoff_function(r, row[RC], row[ALPHA], np.int64(row[CTYPE]))


@njit(cache=True)
def same_cutoff(row_a, row_b):
    """True if two functions share their cutoff (type, r_c, alpha)."""
    return (
        row_a[TYPE] < 20.0
        and row_b[TYPE] < 20.0
        and row_a[RC] == row_b[RC]
        and row_a[CTYPE] == row_b[CTYPE]
        and row_a[ALPHA] == row_b[ALPHA]
    )


@njit(cache=True)
def same_leg(row_a, row_b):
    """True if two exponential-type functions share the whole radial leg."""
    return same_cutoff(row_a, row_b) and row_a[ETA] == row_b[ETA] and row_a[RS] == row_b[RS]


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True, parallel=True)
def descriptor_kernel(
    elem_n,
    Znum_e,
    table_esq,
    n_s_e,
    index,
    i_p,
    j_p,
    D_pc,
    d_p,
    offsets_n1,
    with_derivatives,
    with_strain,
):
    """G_ns and (optionally) dGdR_psc, dGself_nsc and dGdeps_nscc for one structure.

    ``with_derivatives``: position derivatives; ``with_strain``: also the
    strain derivatives (not needed for stress, which the potential takes
    from the pair terms directly, but part of the descriptor's output).

    Parallel over central atoms i (each thread owns the rows of its atom's
    pairs, so no scatter races). See the module docstring for the formulas.
    """
    radial_ees, radial_count_ee, angular_eees, angular_count_eee, rjk_limit_eee = index
    n = elem_n.shape[0]
    s_max = table_esq.shape[1]
    n_pairs = i_p.shape[0]
    G_ns = np.zeros((n, s_max))
    p_der = n_pairs if with_derivatives else 0
    n_der = n if with_derivatives else 0
    n_strain = n if (with_derivatives and with_strain) else 0
    dGdR_psc = np.zeros((p_der, s_max, 3))
    dGself_nsc = np.zeros((n_der, s_max, 3))
    dGdeps_nscc = np.zeros((n_strain, s_max, 3, 3))
    for i in prange(n):
        e = elem_n[i]
        table_sq = table_esq[e]
        n_s = n_s_e[e]
        first, last = offsets_n1[i], offsets_n1[i + 1]
        # Radial legs R_s(r_ij), dR_s/dr for each pair of atom i (local index).
        n_nb = last - first
        Rleg_ls = np.zeros((n_nb, n_s))
        dRleg_ls = np.zeros((n_nb, n_s))
        for lj in range(n_nb):
            r = d_p[first + lj]
            fc, dfc = 1.0, 0.0
            for s in range(n_s):
                if s == 0 or not same_cutoff(table_sq[s], table_sq[s - 1]):
                    fc, dfc = leg_cutoff(r, table_sq[s])
                Rleg_ls[lj, s], dRleg_ls[lj, s] = radial_factor(r, table_sq[s], fc, dfc)
        # Radial functions: G_is += w_j R_s(r_ij).
        for lj in range(n_nb):
            p = first + lj
            e_j = elem_n[j_p[p]]
            for q in range(radial_count_ee[e, e_j]):
                s = radial_ees[e, e_j, q]
                if Rleg_ls[lj, s] == 0.0:
                    continue
                w = neighbour_weight(table_sq[s], e_j, -1, Znum_e[e_j], 0.0)
                if w == 0.0:
                    continue
                G_ns[i, s] += w * Rleg_ls[lj, s]
                if with_derivatives:
                    dG_dr = w * dRleg_ls[lj, s] / d_p[p]
                    for c in range(3):
                        dGdR_psc[p, s, c] += dG_dr * D_pc[p, c]
        # Angular functions: sum over pairs of neighbours j < k.
        # Unit vectors u = D/r of atom i's pairs, computed once per pair.
        u_lc = np.empty((n_nb, 3))
        for lj in range(n_nb):
            for c in range(3):
                u_lc[lj, c] = D_pc[first + lj, c] / d_p[first + lj]
        u_jk_c = np.zeros(3)
        dcos_dD_ij_c = np.zeros(3)
        dcos_dD_ik_c = np.zeros(3)
        for lj in range(n_nb):
            pj = first + lj
            e_j = elem_n[j_p[pj]]
            r_ij = d_p[pj]
            for lk in range(lj + 1, n_nb):
                pk = first + lk
                e_k = elem_n[j_p[pk]]
                if angular_count_eee[e, e_j, e_k] == 0:
                    continue
                r_ik = d_p[pk]
                cos_theta = 0.0
                r2_jk = 0.0
                for c in range(3):
                    cos_theta += u_lc[lj, c] * u_lc[lk, c]
                    r2_jk += (D_pc[pk, c] - D_pc[pj, c]) ** 2
                r_jk = np.sqrt(r2_jk)
                if r_jk >= rjk_limit_eee[e, e_j, e_k]:
                    continue  # every function of this pair needs r_jk < r_c
                if with_derivatives:
                    # dcos/dD_ij = (u_ik - cos u_ij) / r_ij (and j <-> k); u_jk = D_jk / r_jk.
                    inv_r_jk = 1.0 / r_jk if r_jk > 0.0 else 0.0
                    for c in range(3):
                        dcos_dD_ij_c[c] = (u_lc[lk, c] - cos_theta * u_lc[lj, c]) / r_ij
                        dcos_dD_ik_c[c] = (u_lc[lj, c] - cos_theta * u_lc[lk, c]) / r_ik
                        u_jk_c[c] = (D_pc[pk, c] - D_pc[pj, c]) * inv_r_jk
                s_cut = -1  # last function whose r_jk leg was computed
                fc_jk, dfc_jk, R_jk_cut, dR_jk_cut = 1.0, 0.0, 0.0, 0.0
                for q in range(angular_count_eee[e, e_j, e_k]):
                    s = angular_eees[e, e_j, e_k, q]
                    row = table_sq[s]
                    kind = row[KIND]
                    if kind == KIND_NARROW and r_jk >= row[RC]:
                        continue
                    R_ij = Rleg_ls[lj, s]
                    R_ik = Rleg_ls[lk, s]
                    if R_ij == 0.0 or R_ik == 0.0:
                        continue
                    w = neighbour_weight(row, e_j, e_k, Znum_e[e_j], Znum_e[e_k])
                    if w == 0.0:
                        continue
                    R_jk, dR_jk = 1.0, 0.0
                    if kind == KIND_NARROW:
                        # Functions sharing the r_jk leg (or its cutoff) reuse it.
                        if s_cut >= 0 and same_leg(row, table_sq[s_cut]):
                            R_jk, dR_jk = R_jk_cut, dR_jk_cut
                        else:
                            if s_cut < 0 or not same_cutoff(row, table_sq[s_cut]):
                                fc_jk, dfc_jk = leg_cutoff(r_jk, row)
                            R_jk, dR_jk = radial_factor(r_jk, row, fc_jk, dfc_jk)
                            s_cut, R_jk_cut, dR_jk_cut = s, R_jk, dR_jk
                        if R_jk == 0.0:
                            continue
                    A, dA = angular_factor(cos_theta, row)
                    radial = R_ij * R_ik * R_jk
                    G_ns[i, s] += w * A * radial
                    if not with_derivatives:
                        continue
                    # Partial derivatives of the term w A R_ij R_ik R_jk.
                    dT_dcos = w * dA * radial
                    dT_drij = w * A * dRleg_ls[lj, s] * R_ik * R_jk
                    dT_drik = w * A * R_ij * dRleg_ls[lk, s] * R_jk
                    dT_drjk = w * A * R_ij * R_ik * dR_jk
                    for c in range(3):
                        dGdR_psc[pj, s, c] += (
                            dT_dcos * dcos_dD_ij_c[c] + dT_drij * u_lc[lj, c] - dT_drjk * u_jk_c[c]
                        )
                        dGdR_psc[pk, s, c] += (
                            dT_dcos * dcos_dD_ik_c[c] + dT_drik * u_lc[lk, c] + dT_drjk * u_jk_c[c]
                        )
        if with_derivatives:
            # Self term (translational invariance) and strain derivative.
            for p in range(first, last):
                for s in range(n_s):
                    for b in range(3):
                        dGself_nsc[i, s, b] -= dGdR_psc[p, s, b]
                    if with_strain:
                        for a in range(3):
                            for b in range(3):
                                dGdeps_nscc[i, s, a, b] += D_pc[p, a] * dGdR_psc[p, s, b]
    return G_ns, dGdR_psc, dGself_nsc, dGdeps_nscc


# ---------------------------------------------------------------------------
# Friendly layer: validated arrays in, a small result object out.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Descriptors:
    """Symmetry functions of one structure and their derivatives.

    Shapes: ``G_ns`` (n, s_max); ``dGdR_psc`` (p, s_max, 3);
    ``dGself_nsc`` (n, s_max, 3); ``dGdeps_nscc`` (n, s_max, 3, 3);
    ``elem_n`` (n,) element index of each atom; ``n_s_e`` number of functions
    per element; ``nl`` the neighbour list whose pairs index ``dGdR_psc``.
    Derivative arrays have zero length when computed without derivatives.
    """

    G_ns: np.ndarray
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    dGdeps_nscc: np.ndarray
    elem_n: np.ndarray
    n_s_e: np.ndarray
    nl: NeighbourList


def element_indices(symbols, elements: tuple[str, ...]) -> np.ndarray:
    """Index of every atom's element in ``elements``; ValueError for unknown ones."""
    lookup = {symbol: e for e, symbol in enumerate(elements)}
    unknown = sorted({s for s in symbols if s not in lookup})
    if unknown:
        raise ValueError(f"unknown element(s) {unknown}: this potential knows {list(elements)}")
    return np.array([lookup[s] for s in symbols], dtype=np.int64)


class SymmetryFunctionSet:
    """Element-resolved symmetry-function sets compiled into a parameter table.

    ``sf_sets`` maps each element symbol to its ordered list of
    :class:`SymmetryFunction`; ``elements`` fixes the element order.
    """

    def __init__(self, sf_sets: dict[str, list[SymmetryFunction]], elements=None):
        self.elements = tuple(elements if elements is not None else sf_sets)
        self.sf_sets = {e: list(sf_sets[e]) for e in self.elements if e in sf_sets}
        self.table_esq, self.n_s_e = build_table(self.sf_sets, self.elements)
        self.cutoff = cutoff_radius(self.sf_sets)
        self.Znum_e = np.array([atomic_numbers[e] for e in self.elements], dtype=np.float64)
        self.index = build_neighbour_index(self.table_esq, self.n_s_e, self.Znum_e)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{e}: {n}" for e, n in zip(self.elements, self.n_s_e))
        return f"SymmetryFunctionSet({sizes}; rc={self.cutoff:g} Å)"

    def compute(
        self, symbols, R_nc, cell_cc, pbc_c, with_derivatives=True, with_strain=False
    ) -> Descriptors:
        """Descriptors of one structure (positions in Å, ASE cell rows).

        ``with_derivatives``: dG/dR (pairs and self terms); ``with_strain``:
        also dG/d eps (``dGdeps_nscc``; empty otherwise).
        """
        elem_n = element_indices(list(symbols), self.elements)
        nl = neighbour_list(R_nc, cell_cc, pbc_c, self.cutoff)
        # Small structures run on one thread: waking the thread pool costs
        # more than it saves (and a lot on a busy machine).
        threads = numba.get_num_threads()
        if len(elem_n) < PARALLEL_MIN_ATOMS:
            numba.set_num_threads(1)
        try:
            arrays = self._kernel(elem_n, nl, with_derivatives, with_strain)
        finally:
            numba.set_num_threads(threads)
        return Descriptors(*arrays, elem_n=elem_n, n_s_e=self.n_s_e, nl=nl)

    def _kernel(self, elem_n, nl, with_derivatives, with_strain):
        return descriptor_kernel(
            elem_n,
            self.Znum_e,
            self.table_esq,
            self.n_s_e,
            self.index,
            nl.i_p,
            nl.j_p,
            nl.D_pc,
            nl.d_p,
            nl.offsets_n1,
            bool(with_derivatives),
            bool(with_strain),
        )

    def compute_atoms(self, atoms, with_derivatives=True, with_strain=False) -> Descriptors:
        """Descriptors of an ``ase.Atoms``."""
        return self.compute(
            atoms.get_chemical_symbols(),
            atoms.get_positions(),
            atoms.get_cell().array,
            atoms.get_pbc(),
            with_derivatives,
            with_strain,
        )


__all__ = [
    "CUTOFF_TYPES",
    "Descriptors",
    "SymmetryFunction",
    "SymmetryFunctionSet",
    "build_table",
    "descriptor_kernel",
]
