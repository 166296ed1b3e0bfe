r"""Coulomb interaction of Gaussian charges: pair kernels and their lattice sums.

Ko, Finkler, Goedecker & Behler, Nat. Commun. 12, 398 (2021), Eqs. 3-6; n2p2
``src/libnnp/Structure.cpp`` (``calculateElectrostaticEnergy``,
``calculateScreeningEnergy``, ``calculateDAdrQ``) and
``ScreeningFunction.h``. Atom i carries a Gaussian charge of width sigma_i,

    rho_i(r) = Q_i exp(-|r - R_i|^2 / (2 sigma_i^2)) / (2 pi sigma_i^2)^(3/2),

and two of them interact with (k_e = 1 / (4 pi eps_0), ``four_pi_epsilon``)

    phi_ij(r) = k_e erf(r / a_ij) / r,     a_ij = sqrt(2) gamma_ij,
    gamma_ij  = sqrt(sigma_i^2 + sigma_j^2),
    phi_ii(0) = k_e / (sqrt(pi) sigma_i)   (the self energy, r -> 0 limit).

Every pair quantity here is one of three kernels, chosen by an integer code
(``kind``), each returning value and derivative d/dr together:

    0 GAUSSIAN   k_e erf(r/a) / r
        d/dr = k_e [2/(sqrt(pi) a) exp(-r^2/a^2) - erf(r/a)/r] / r
    1 EWALD_REAL k_e [erfc(r/b) - erfc(r/a)] / r,   b = sqrt(2) eta
        (the Gaussian kernel minus the smooth part the reciprocal sum takes)
        d/dr = k_e [2/sqrt(pi) (exp(-r^2/a^2)/a - exp(-r^2/b^2)/b) - (erfc(r/b) - erfc(r/a))/r] / r
    2 SCREEN     k_e erf(r/a) / r * (f_s(r) - 1)
        d/dr = d/dr[k_e erf(r/a)/r] (f_s - 1) + k_e erf(r/a)/r df_s/dr

with the screening function of n2p2 (core function COS)

    x = (r - r_in)/(r_out - r_in),   f_s = 0 (r <= r_in), 1 - (cos(pi x) + 1)/2, 1 (r >= r_out)
    df_s/dr = pi sin(pi x) / (2 (r_out - r_in)).

A kernel summed over atom pairs and lattice images is the matrix

    M_ij = sum_n' kernel(|R_j + n - R_i|),    n = S @ cell, r < r_cut,

(the prime drops n = 0 for i = j), built by :func:`pair_matrix`. Forces need
the gradient of a bilinear form sum_ij U_i V_j M_ij(R) with respect to the
positions, :func:`pair_bilinear_gradient`: each pair image (i < j) with
D = R_j + n - R_i contributes

    w = (U_i V_j + U_j V_i) kernel'(r),     dF/dR_j += w D / r,  dF/dR_i -= w D / r,

and self images (i = j, n != 0) do not depend on the positions. Force
training needs the directional derivative of the matrix-vector product M V
when the atoms move along a field D_nc, :func:`pair_matrix_directional`:

    d/de (M(R + e D) V)_i = sum_j sum_n' kernel'(r) (D_j - D_i) . (R_j + n - R_i)/r  V_j.
"""

from __future__ import annotations

import math

import numpy as np

from nnp_ref.descriptors.jit import kernel

GAUSSIAN, EWALD_REAL, SCREEN = 0, 1, 2
SQRT_PI = math.sqrt(math.pi)


@kernel
def screening(r, r_in, r_out):
    """(f_s(r), df_s/dr) of n2p2's COS screening function (module docstring)."""
    if r <= r_in:
        return 0.0, 0.0
    if r >= r_out:
        return 1.0, 0.0
    scale = 1.0 / (r_out - r_in)
    x = (r - r_in) * scale
    f = 1.0 - 0.5 * (math.cos(math.pi * x) + 1.0)
    df = 0.5 * math.pi * math.sin(math.pi * x) * scale
    return f, df


@kernel
def erf_over_r(r, a):
    """(erf(r/a)/r, d/dr): Coulomb kernel of two Gaussian charges, a = sqrt(2) gamma."""
    value = math.erf(r / a) / r
    gauss = 2.0 / (SQRT_PI * a) * math.exp(-((r / a) ** 2))
    return value, (gauss - value) / r


@kernel
def ewald_real(r, a, b):
    """([erfc(r/b) - erfc(r/a)]/r, d/dr): real-space Ewald kernel, b = sqrt(2) eta."""
    value = (math.erfc(r / b) - math.erfc(r / a)) / r
    gauss = 2.0 / SQRT_PI * (math.exp(-((r / a) ** 2)) / a - math.exp(-((r / b) ** 2)) / b)
    return value, (gauss - value) / r


@kernel
def pair_kernel(kind, r, a, b, r_in, r_out):
    """(value, d/dr) of kernel ``kind`` (0 GAUSSIAN, 1 EWALD_REAL, 2 SCREEN), without k_e."""
    if kind == GAUSSIAN:
        return erf_over_r(r, a)
    if kind == EWALD_REAL:
        return ewald_real(r, a, b)
    phi, dphi = erf_over_r(r, a)
    fs, dfs = screening(r, r_in, r_out)
    return phi * (fs - 1.0), dphi * (fs - 1.0) + phi * dfs


@kernel
def pair_matrix(kind, R_nc, shift_mc, elem_n, a_ee, b, r_in, r_out, r_cut, k_e):
    """M_ij = k_e sum_n' kernel(|R_j + n - R_i|) over images n = shift_mc[m], r < r_cut.

    ``a_ee[e_i, e_j]`` = sqrt(2 (sigma_i^2 + sigma_j^2)); diagonal self terms
    (r = 0) are left to the caller. Symmetric by construction (j >= i, mirrored).
    """
    n = R_nc.shape[0]
    M_nn = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            a = a_ee[elem_n[i], elem_n[j]]
            total = 0.0
            for m in range(shift_mc.shape[0]):
                D0 = R_nc[j, 0] + shift_mc[m, 0] - R_nc[i, 0]
                D1 = R_nc[j, 1] + shift_mc[m, 1] - R_nc[i, 1]
                D2 = R_nc[j, 2] + shift_mc[m, 2] - R_nc[i, 2]
                r = math.sqrt(D0 * D0 + D1 * D1 + D2 * D2)
                if r >= r_cut or r == 0.0:
                    continue
                value, _ = pair_kernel(kind, r, a, b, r_in, r_out)
                total += value
            M_nn[i, j] = k_e * total
            M_nn[j, i] = k_e * total
    return M_nn


@kernel
def pair_bilinear_gradient(
    kind, U_n, V_n, R_nc, shift_mc, elem_n, a_ee, b, r_in, r_out, r_cut, k_e
):
    """d/dR_k sum_ij U_i V_j M_ij(R), shape (n, 3), for the M of :func:`pair_matrix`.

    Per pair image (i < j): w = k_e (U_i V_j + U_j V_i) kernel'(r), then
    R_j gets +w D/r and R_i gets -w D/r (D = R_j + n - R_i).
    """
    n = R_nc.shape[0]
    grad_nc = np.zeros((n, 3))
    for i in range(n):
        for j in range(i + 1, n):
            a = a_ee[elem_n[i], elem_n[j]]
            weight = k_e * (U_n[i] * V_n[j] + U_n[j] * V_n[i])
            for m in range(shift_mc.shape[0]):
                D0 = R_nc[j, 0] + shift_mc[m, 0] - R_nc[i, 0]
                D1 = R_nc[j, 1] + shift_mc[m, 1] - R_nc[i, 1]
                D2 = R_nc[j, 2] + shift_mc[m, 2] - R_nc[i, 2]
                r = math.sqrt(D0 * D0 + D1 * D1 + D2 * D2)
                if r >= r_cut:
                    continue
                _, dvalue = pair_kernel(kind, r, a, b, r_in, r_out)
                w = weight * dvalue / r
                grad_nc[j, 0] += w * D0
                grad_nc[j, 1] += w * D1
                grad_nc[j, 2] += w * D2
                grad_nc[i, 0] -= w * D0
                grad_nc[i, 1] -= w * D1
                grad_nc[i, 2] -= w * D2
    return grad_nc


@kernel
def pair_matrix_directional(
    kind, V_n, D_nc, R_nc, shift_mc, elem_n, a_ee, b, r_in, r_out, r_cut, k_e
):
    """y_i = d/de sum_j M_ij(R + e D) V_j at e = 0, for the M of :func:`pair_matrix`.

    Per pair image (i < j): dr/de = (D_j - D_i) . u, u = (R_j + n - R_i)/r, the
    same for (j, i) with -n; so y_i += k_e kernel'(r) dr/de V_j and
    y_j += k_e kernel'(r) dr/de V_i.
    """
    n = R_nc.shape[0]
    y_n = np.zeros(n)
    for i in range(n):
        for j in range(i + 1, n):
            a = a_ee[elem_n[i], elem_n[j]]
            dD0 = D_nc[j, 0] - D_nc[i, 0]
            dD1 = D_nc[j, 1] - D_nc[i, 1]
            dD2 = D_nc[j, 2] - D_nc[i, 2]
            total = 0.0
            for m in range(shift_mc.shape[0]):
                D0 = R_nc[j, 0] + shift_mc[m, 0] - R_nc[i, 0]
                D1 = R_nc[j, 1] + shift_mc[m, 1] - R_nc[i, 1]
                D2 = R_nc[j, 2] + shift_mc[m, 2] - R_nc[i, 2]
                r = math.sqrt(D0 * D0 + D1 * D1 + D2 * D2)
                if r >= r_cut:
                    continue
                _, dvalue = pair_kernel(kind, r, a, b, r_in, r_out)
                total += dvalue * (dD0 * D0 + dD1 * D1 + dD2 * D2) / r
            y_n[i] += k_e * total * V_n[j]
            y_n[j] += k_e * total * V_n[i]
    return y_n


def width_matrix(sigma_e: np.ndarray) -> np.ndarray:
    """a_ee[e, f] = sqrt(2) gamma_ef = sqrt(2 (sigma_e^2 + sigma_f^2)) (n2p2 ``gammaSqrt2``)."""
    sigma_e = np.asarray(sigma_e, dtype=np.float64)
    return np.sqrt(2.0 * (sigma_e[:, None] ** 2 + sigma_e[None, :] ** 2))


def self_energy_diagonal(sigma_n: np.ndarray, k_e: float) -> np.ndarray:
    """phi_ii(0) = k_e / (sqrt(pi) sigma_i): self energy of a unit Gaussian charge (x2)."""
    return k_e / (SQRT_PI * np.asarray(sigma_n, dtype=np.float64))


NO_SHIFT = np.zeros((1, 3))
