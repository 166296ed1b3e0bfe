r"""Charge equilibration (Qeq): the charges that minimise the electrostatic energy.

Rappe & Goddard, J. Phys. Chem. 95, 3358 (1991); in the 4G-HDNNP (Ko et al.,
Nat. Commun. 12, 398 (2021), Eqs. 7-9) with electronegativities chi_i from
the element networks, hardnesses J_i and the Gaussian-charge interaction
matrix C (``gaussian``/``ewald``):

    E_Qeq(Q) = sum_i (chi_i Q_i + J_i Q_i^2 / 2) + 1/2 sum_ij Q_i C_ij Q_j,
    minimised subject to sum_i Q_i = Q_tot.

With the Lagrange multiplier lambda, dE_Qeq/dQ_i + lambda = 0 is linear:

    [ H   1 ] [  Q     ]   [ -chi  ]
    [ 1^T 0 ] [ lambda ] = [ Q_tot ],      H = C + diag(J).

H is symmetric positive definite when every J_i > 0 (C is the Coulomb
matrix of Gaussian charge clouds, positive semi-definite), so it has a
Cholesky factor L L^T, and the bordered system is solved directly by
eliminating Q (:func:`constrained_solve`):

    Q = H^{-1}(r - lambda 1),   1^T Q = t   =>   lambda = (1^T H^{-1} r - t) / (1^T H^{-1} 1).

The same factor solves the adjoint system of the forces
(:mod:`nnp_ref.electrostatics.adjoint`) with r = -dE/dQ and t = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

CONDITION_LIMIT = 1e12  # largest accepted ratio of the Cholesky pivots squared


@dataclass
class QeqSystem:
    """Cholesky factor of H = C + diag(J) and H^{-1} 1 (n atoms)."""

    factor: tuple
    Hinv_one_n: np.ndarray


class QeqError(ValueError):
    """The charge-equilibration system has no unique minimum."""


def qeq_matrix(C_nn: np.ndarray, J_n: np.ndarray) -> np.ndarray:
    """H = C + diag(J): the Hessian of E_Qeq."""
    return C_nn + np.diag(J_n)


def factorize(H_nn: np.ndarray, where: str = "structure") -> QeqSystem:
    """Cholesky-factorise H; QeqError when H is not (numerically) positive definite."""
    if not np.all(np.isfinite(H_nn)):
        raise QeqError(f"{where}: charge-equilibration matrix has non-finite entries")
    try:
        factor = cho_factor(H_nn, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        raise QeqError(
            f"{where}: charge-equilibration matrix is not positive definite "
            "(non-positive hardness or overlapping atoms?)"
        ) from None
    pivots = np.abs(np.diag(factor[0]))
    if pivots.min() ** 2 * CONDITION_LIMIT < pivots.max() ** 2:
        raise QeqError(
            f"{where}: charge-equilibration matrix is ill-conditioned "
            f"(pivot ratio {pivots.max() / pivots.min():.3g}); check hardness and widths"
        )
    one_n = np.ones(H_nn.shape[0])
    return QeqSystem(factor, cho_solve(factor, one_n, check_finite=False))


def constrained_solve(system: QeqSystem, r_n: np.ndarray, total: float):
    """(x, m) with H x + m 1 = r and sum_i x_i = total (module docstring)."""
    Hinv_r = cho_solve(system.factor, r_n, check_finite=False)
    m = (Hinv_r.sum() - total) / system.Hinv_one_n.sum()
    return Hinv_r - m * system.Hinv_one_n, m


def equilibrate(system: QeqSystem, chi_n: np.ndarray, total_charge: float):
    """Charges Q and multiplier lambda: H Q + lambda 1 = -chi, sum Q = Q_tot."""
    return constrained_solve(system, -np.asarray(chi_n, dtype=np.float64), float(total_charge))


def qeq_energy(Q_n, chi_n, J_n, C_nn) -> float:
    """E_Qeq = sum_i (chi_i Q_i + J_i Q_i^2/2) + 1/2 Q^T C Q (for tests and teaching)."""
    return float(chi_n @ Q_n + 0.5 * J_n @ Q_n**2 + 0.5 * Q_n @ C_nn @ Q_n)
