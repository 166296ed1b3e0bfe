r"""Electrostatic energy of equilibrated Gaussian charges and its explicit derivatives.

Ko et al., Nat. Commun. 12, 398 (2021); n2p2 ``Structure::calculateElectrostaticEnergy``,
``calculateScreeningEnergy`` and ``calculateElectrostaticEnergyDerivatives``.
Two symmetric matrices of one structure (``gaussian`` and ``ewald`` build them):

* C, the interaction of the Gaussian charges (self energy on the diagonal):
  finite structures C_ij = k_e erf(r_ij/a_ij)/r_ij, C_ii = k_e/(sqrt(pi) sigma_i);
  periodic ones the Ewald sum (real space + reciprocal + self terms). C + diag(J)
  is the charge-equilibration matrix (``qeq``).
* S, the screening correction, which removes the self energies and switches
  the Coulomb interaction off inside r_out:
  S_ij = k_e sum_n' erf(r/a_ij)/r (f_s(r) - 1),  S_ii += -k_e/(sqrt(pi) sigma_i).

The energy the 4G-HDNNP adds to the short-range energy is

    E_elec = 1/2 Q^T (C + S) Q,      dE_elec/dQ = (C + S) Q,

and its explicit position derivative (charges fixed) is

    dE_elec/dR |_Q = 1/2 d/dR [Q^T C Q] + 1/2 d/dR [Q^T S Q],

gradients of bilinear forms ``gaussian.pair_bilinear_gradient`` and
``ewald.reciprocal_bilinear_gradient`` provide. For a finite structure
E_elec = 1/2 sum_{i != j} k_e Q_i Q_j erf(r_ij/a_ij) f_s(r_ij) / r_ij.

Where this departs from n2p2: when a periodic cell is smaller than r_out, n2p2
counts a self image (i, i + n) of the screening sum once per image and
direction, here it is 1/2 sum_n' (each image pair once); cells larger than
r_out (every example) are not affected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from nnp_ref.electrostatics import ewald
from nnp_ref.electrostatics.gaussian import (
    EWALD_REAL,
    GAUSSIAN,
    NO_SHIFT,
    SCREEN,
    pair_bilinear_gradient,
    pair_matrix,
    pair_matrix_directional,
    self_energy_diagonal,
    width_matrix,
)


@dataclass
class Geometry:
    """One structure as the electrostatics sees it (eV, Å, e).

    ``R_nc`` (n, 3) positions; ``elem_n`` (n,) element indices; ``sigma_n``
    (n,) Gaussian widths; ``a_ee`` sqrt(2 (sigma_e^2 + sigma_f^2)); ``k_e``
    1/(4 pi eps0); ``r_in``, ``r_out`` screening radii; periodic only:
    ``cell_cc``, ``ewald_params`` (:class:`~nnp_ref.electrostatics.ewald.EwaldParameters`),
    ``real_shift_mc``/``screen_shift_mc`` lattice images of the two real-space
    sums, ``k_kc``/``w_k`` the k vectors and their weights.
    """

    R_nc: np.ndarray
    elem_n: np.ndarray
    sigma_n: np.ndarray
    a_ee: np.ndarray
    k_e: float
    r_in: float
    r_out: float
    cell_cc: np.ndarray | None = None
    ewald_params: ewald.EwaldParameters | None = None
    real_shift_mc: np.ndarray = field(default_factory=lambda: NO_SHIFT.copy())
    screen_shift_mc: np.ndarray = field(default_factory=lambda: NO_SHIFT.copy())
    k_kc: np.ndarray | None = None
    w_k: np.ndarray | None = None

    @property
    def periodic(self) -> bool:
        return self.cell_cc is not None


def make_geometry(R_nc, elem_n, sigma_e, k_e, screen, cell_cc=None, ewald_settings=None):
    """:class:`Geometry` of a finite (``cell_cc`` None) or fully periodic structure."""
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    elem_n = np.ascontiguousarray(elem_n, dtype=np.int64)
    sigma_e = np.asarray(sigma_e, dtype=np.float64)
    r_in, r_out = (float(x) for x in screen)
    geo = Geometry(R_nc, elem_n, sigma_e[elem_n], width_matrix(sigma_e), float(k_e), r_in, r_out)
    if cell_cc is None:
        return geo
    if ewald_settings is None:
        raise ValueError("a periodic structure needs Ewald settings (ewald_prec)")
    cell_cc = np.ascontiguousarray(cell_cc, dtype=np.float64)
    volume = abs(np.linalg.det(cell_cc))
    params = ewald.ewald_parameters(ewald_settings, volume, len(R_nc), float(sigma_e.max()))
    geo.cell_cc = cell_cc
    geo.ewald_params = params
    geo.real_shift_mc = ewald.lattice_shifts(cell_cc, params.r_cut)
    geo.screen_shift_mc = ewald.lattice_shifts(cell_cc, r_out)
    geo.k_kc, geo.w_k = ewald.k_vectors(cell_cc, params)
    return geo


def _pair_sum(kernel, geo: Geometry, kind: int, *vectors):
    """Call a pair-sum kernel of ``gaussian`` for ``kind`` with this structure's arguments.

    GAUSSIAN: finite structure, all pairs; EWALD_REAL: real-space Ewald sum over
    the images within r_cut; SCREEN: images within r_out.
    """
    if kind == SCREEN:
        shift_mc, b, r_cut = geo.screen_shift_mc, 1.0, geo.r_out
    elif kind == EWALD_REAL:
        p = geo.ewald_params
        shift_mc, b, r_cut = geo.real_shift_mc, math.sqrt(2.0) * p.eta, p.r_cut
    else:
        shift_mc, b, r_cut = NO_SHIFT, 1.0, np.inf
    vectors = [np.ascontiguousarray(v, dtype=np.float64) for v in vectors]
    return kernel(kind, *vectors, geo.R_nc, shift_mc, geo.elem_n, geo.a_ee, b,
                  geo.r_in, geo.r_out, r_cut, geo.k_e)  # fmt: skip


def coulomb_matrix(geo: Geometry) -> np.ndarray:
    """C: Gaussian-charge interaction incl. self energy (direct sum or Ewald)."""
    if not geo.periodic:
        C_nn = _pair_sum(pair_matrix, geo, GAUSSIAN)
        return C_nn + np.diag(self_energy_diagonal(geo.sigma_n, geo.k_e))
    C_nn = _pair_sum(pair_matrix, geo, EWALD_REAL)
    C_nn += ewald.reciprocal_matrix(geo.R_nc, geo.k_kc, geo.w_k, geo.k_e)
    eta = geo.ewald_params.eta
    return C_nn + np.diag(ewald.ewald_self_diagonal(geo.sigma_n, eta, geo.k_e))


def screening_matrix(geo: Geometry) -> np.ndarray:
    """S: the screening correction (pairs within r_out) minus the self energies."""
    S_nn = _pair_sum(pair_matrix, geo, SCREEN)
    return S_nn - np.diag(self_energy_diagonal(geo.sigma_n, geo.k_e))


def coulomb_bilinear_gradient(geo: Geometry, U_n, V_n) -> np.ndarray:
    """d/dR sum_ij U_i V_j C_ij(R), shape (n, 3)."""
    if not geo.periodic:
        return _pair_sum(pair_bilinear_gradient, geo, GAUSSIAN, U_n, V_n)
    grad_nc = _pair_sum(pair_bilinear_gradient, geo, EWALD_REAL, U_n, V_n)
    k_kc, w_k = geo.k_kc, geo.w_k
    return grad_nc + ewald.reciprocal_bilinear_gradient(U_n, V_n, geo.R_nc, k_kc, w_k, geo.k_e)


def screening_bilinear_gradient(geo: Geometry, U_n, V_n) -> np.ndarray:
    """d/dR sum_ij U_i V_j S_ij(R), shape (n, 3)."""
    return _pair_sum(pair_bilinear_gradient, geo, SCREEN, U_n, V_n)


def coulomb_directional(geo: Geometry, V_n, D_nc) -> np.ndarray:
    """y_i = d/de (C(R + e D) V)_i: C V changing as the atoms move along D_nc (training)."""
    if not geo.periodic:
        return _pair_sum(pair_matrix_directional, geo, GAUSSIAN, V_n, D_nc)
    y_n = _pair_sum(pair_matrix_directional, geo, EWALD_REAL, V_n, D_nc)
    V_n = np.asarray(V_n, dtype=np.float64)
    return y_n + ewald.reciprocal_directional(V_n, D_nc, geo.R_nc, geo.k_kc, geo.w_k, geo.k_e)


def electrostatic_energy(Q_n, C_nn, S_nn) -> float:
    """E_elec = 1/2 Q^T (C + S) Q."""
    return float(0.5 * Q_n @ (C_nn + S_nn) @ Q_n)


def energy_charge_gradient(Q_n, C_nn, S_nn) -> np.ndarray:
    """dE_elec/dQ = (C + S) Q."""
    return (C_nn + S_nn) @ Q_n


def energy_position_gradient(geo: Geometry, Q_n) -> np.ndarray:
    """dE_elec/dR at fixed charges: 1/2 d(Q^T C Q)/dR + 1/2 d(Q^T S Q)/dR."""
    half_Q = 0.5 * Q_n
    return coulomb_bilinear_gradient(geo, half_Q, Q_n) + screening_bilinear_gradient(
        geo, half_Q, Q_n
    )
