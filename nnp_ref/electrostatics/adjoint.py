r"""Forces through the charge response by the adjoint (Lagrange) trick.

The 4G-HDNNP energy E(R, Q(R)) depends on the positions directly and through
the equilibrated charges, which solve F(Q, lambda, R) = 0 with
(``nnp_ref.electrostatics.qeq``)

    F_i = sum_j H_ij(R) Q_j + chi_i(R) + lambda = 0,     sum_j Q_j = Q_tot,     H = C + diag(J).

Differentiating the constraints at fixed Q_tot gives the charge response

    H dQ/dR + 1 dlambda/dR = -(dH/dR Q + dchi/dR),      1^T dQ/dR = 0,

a linear solve per coordinate (3n solves). The adjoint trick needs one: let
(mu, nu) solve the transposed bordered system with the charge gradient g = dE/dQ,

    H mu + nu 1 = -g,      1^T mu = 0                                  (adjoint equation)

then, because the bordered matrix is symmetric,

    g^T dQ/dR = -[mu; nu]^T [H 1; 1^T 0] [dQ/dR; dlambda/dR] = mu^T (dH/dR Q + dchi/dR),

and the total derivative is

    dE/dR = dE/dR|_Q + sum_j mu_j dchi_j/dR + sum_ij mu_i Q_j dC_ij/dR.   (dJ/dR = 0)

The middle term is a "force" from the pseudo-energy sum_j mu_j chi_j(G_j), the
last the gradient of the bilinear form mu^T C Q (``energy.coulomb_bilinear_gradient``).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.electrostatics.qeq import QeqSystem, constrained_solve


def adjoint_charges(system: QeqSystem, dEdQ_n: np.ndarray) -> np.ndarray:
    """mu: H mu + nu 1 = -dE/dQ with sum_i mu_i = 0 (the adjoint equation)."""
    mu_n, _ = constrained_solve(system, -np.asarray(dEdQ_n, dtype=np.float64), 0.0)
    return mu_n
