r"""Ewald summation of Gaussian charges in a periodic cell, with n2p2's parameters.

P. P. Ewald, Ann. Phys. 369, 253 (1921); for Gaussian charges as in Ko et
al., Nat. Commun. 12, 398 (2021). Conventions and the choice of the splitting
width eta and of the cutoffs follow n2p2 (``src/libnnp/Kspace.cpp``,
``EwaldTruncJackson.cpp``, ``EwaldTruncKolafaOptEta.cpp``,
``EwaldTruncKolafaFixR.cpp``, ``Structure::calculateElectrostaticEnergy``).

The interaction matrix of the Gaussian charges in the periodic cell,
C_ij = sum_n' phi_ij(|R_j + n - R_i|) (+ self energy on the diagonal), is
split with a Gaussian of width eta into

    C_ij = k_e sum_n' [erfc(r/(sqrt2 eta)) - erfc(r/(sqrt2 gamma_ij))] / r     real space, r < r_cut
         + k_e (4 pi / V) sum_{k != 0, |k| < k_cut} exp(-eta^2 k^2 / 2) / k^2 cos(k . (R_i - R_j))
         + delta_ij k_e [1/(sqrt(pi) sigma_i) - 2/(sqrt(2 pi) eta)]                   self terms

(the reciprocal sum runs over half the k sphere with a factor 2, as n2p2).
Its gradient, for the forces, of sum_ij U_i V_j C^rec_ij: with theta_i = k.R_i,
c_i = cos theta_i, s_i = sin theta_i and A(U) = sum_j U_j c_j, B(U) = sum_j U_j s_j,

    sum_ij U_i V_j cos(theta_i - theta_j) = A(U) A(V) + B(U) B(V)
    d/dR_m = k [U_m (c_m B(V) - s_m A(V)) + V_m (c_m B(U) - s_m A(U))],

and, for force training, its directional derivative along a field D_n
(t_j = k . D_j, sin(theta_i - theta_j) = s_i c_j - c_i s_j):

    d/de sum_j cos(k.(R_i - R_j)) V_j = -t_i (s_i A(V) - c_i B(V)) + (s_i A(tV) - c_i B(tV)).

A charged cell (sum Q != 0) gets no neutralising background term, as in n2p2
(the k = 0 term is left out); its energy then depends on eta.

Parameters (``ewald_truncation_error_method`` m, ``ewald_prec`` p [q_max [r_cut]]):

- m = 0 (Jackson & Catlow, RuNNer): eta = V^(1/3)/sqrt(2 pi),
  r_cut = sqrt(-2 ln p) eta, k_cut = sqrt(-2 ln p) / eta.
- m = 1 (Kolafa & Perram, Mol. Simul. 9, 351 (1992)), p a force (energy/length):
  C = 2^(3/4) q_max^2 sqrt(N/V) / (4 pi eps0). With eta_0 = (V^2 / ((2 pi)^3 T))^(1/6),
  T = 3.676 (time of one real- over one k-space term), iterate to self-consistency
      s:   exp(-s^2)/sqrt(s) = (p/C) sqrt(eta/2)     (Newton steps as n2p2)
      eta = eta_0 (1 + 1/(2 s^2))^(1/6),
  eta = max(eta, max sigma), r_cut = sqrt(2) eta s, k_cut = sqrt(2) s / eta.
- m = 1 with a given r_cut: C = 2 q_max^2 sqrt(N/V)/(4 pi eps0),
  eta = r_cut / sqrt(-2 ln(sqrt(r_cut/2) p / C)), and k_cut solves
  exp(-(k eta)^2/2)/sqrt(k) = eta p / (sqrt(2) C).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_K_VECTORS = 200_000  # more is an input error (absurd ewald_prec), not a computation
MAX_IMAGES = 2_000_000  # lattice images of the real-space sum
KOLAFA_TIME_RATIO = 3.676  # n2p2 TrOverTk
ACCEPT = 1e-10  # n2p2's relative convergence of the Newton iterations


@dataclass(frozen=True)
class EwaldSettings:
    """``ewald_truncation_error_method`` and ``ewald_prec`` (eV, Å, e).

    ``method`` 0 or 1; ``precision`` p (method 1: eV/Å); ``max_charge`` q_max (e);
    ``r_cut`` fixed real-space cutoff (Å) or None; ``k_e`` = 1/(4 pi eps0) (eV Å).
    """

    method: int
    precision: float
    max_charge: float = 0.0
    r_cut: float | None = None
    k_e: float = 1.0

    def __post_init__(self):
        if self.method not in (0, 1):
            raise ValueError(f"ewald_truncation_error_method must be 0 or 1, got {self.method}")
        if not self.precision > 0.0:
            raise ValueError(f"ewald_prec: precision must be positive, got {self.precision}")
        if self.method == 0 and self.precision >= 1.0:
            raise ValueError("ewald_prec: method 0 (Jackson) needs a precision < 1")
        if self.method == 1 and not self.max_charge > 0.0:
            raise ValueError(
                f"ewald_prec: method 1 (Kolafa-Perram) needs a positive maximum charge, "
                f"got {self.max_charge}"
            )


@dataclass(frozen=True)
class EwaldParameters:
    """Splitting width ``eta`` (Å), ``r_cut`` (Å) and ``k_cut`` (1/Å) of one cell."""

    eta: float
    r_cut: float
    k_cut: float


def ewald_parameters(settings: EwaldSettings, volume: float, n_atoms: int, max_sigma: float):
    """n2p2's (eta, r_cut, k_cut) for a cell of ``volume`` with ``n_atoms`` (module docstring)."""
    if not volume > 0.0:
        raise ValueError(f"Ewald summation needs a positive cell volume, got {volume}")
    if settings.method == 0:
        eta = volume ** (1.0 / 3.0) / math.sqrt(2.0 * math.pi)
        root = math.sqrt(-2.0 * math.log(settings.precision))
        return EwaldParameters(eta, root * eta, root / eta)
    if settings.r_cut is None:
        C = 2.0**0.75 * settings.max_charge**2 * math.sqrt(n_atoms / volume) * settings.k_e
        eta, s = _kolafa_eta(volume, settings.precision, C)
        eta = max(eta, max_sigma)
        return EwaldParameters(eta, math.sqrt(2.0) * eta * s, math.sqrt(2.0) * s / eta)
    C = 2.0 * settings.max_charge**2 * math.sqrt(n_atoms / volume) * settings.k_e
    x = math.sqrt(settings.r_cut / 2.0) * settings.precision / C
    if x >= 1.0:
        raise ValueError(
            "ewald_prec: bad Ewald precision for the fixed cutoff, try a smaller value"
        )
    eta = settings.r_cut / math.sqrt(-2.0 * math.log(x))
    return EwaldParameters(eta, settings.r_cut, _kolafa_k_cut(eta, settings.precision, C))


def _kolafa_s(s, eta, precision, C):
    """Newton solution of exp(-s^2)/sqrt(s) = y, y = (p/C) sqrt(eta/2) (n2p2 calculateS)."""
    y = precision / C * math.sqrt(eta / 2.0)
    if s <= 0.0:
        s = 0.5
    rel_x = rel_y = 1.0
    while rel_x > ACCEPT or rel_y > ACCEPT:
        step = 2.0 * s / (4.0 * s**2 + 1.0) * (1.0 - math.sqrt(s) / math.exp(-(s**2)) * y)
        if s <= -step:
            s /= 2.0
            continue
        s += step
        rel_y = abs((math.exp(-(s**2)) / math.sqrt(s) - y) / y)
        rel_x = abs(step / s)
    return s


def _kolafa_eta(volume, precision, C):
    """Self-consistent (eta, s): eta = eta_0 (1 + 1/(2 s^2))^(1/6) (n2p2 calculateEta)."""
    eta0 = (1.0 / KOLAFA_TIME_RATIO * volume**2 / (2.0 * math.pi) ** 3) ** (1.0 / 6.0)
    eta, s, rel = eta0, 1.0, 1.0
    while rel > ACCEPT:
        s = _kolafa_s(s, eta, precision, C)
        old = eta
        eta = eta0 * (1.0 + 1.0 / (2.0 * s**2)) ** (1.0 / 6.0)
        rel = abs(old - eta) / eta
    return eta, s


def _kolafa_k_cut(eta, precision, C):
    """Newton solution of exp(-(k eta)^2/2)/sqrt(k) = eta p/(sqrt2 C) (n2p2 calculateKCut)."""
    y = eta * precision / (math.sqrt(2.0) * C)
    k = 1.0 / eta
    rel_x = rel_y = 1.0
    while rel_x > ACCEPT or rel_y > ACCEPT:
        old = k
        k -= (
            2.0
            * k
            / (1.0 + 2.0 * (k * eta) ** 2)
            * (-1.0 + math.sqrt(k) * math.exp((k * eta) ** 2 / 2.0) * y)
        )
        if k <= 0.0:
            k = old / 2.0
            continue
        rel_x = abs((k - old) / k)
        rel_y = abs((math.exp(-((k * eta) ** 2) / 2.0) / math.sqrt(k) - y) / y)
    return k


def image_counts(basis_cc: np.ndarray, radius: float) -> np.ndarray:
    """n2p2 calculatePbcCopies: smallest n_c with n_c h_c > radius, h_c the layer spacing."""
    a, b, c = basis_cc
    normals = [np.cross(b, c), np.cross(a, c), np.cross(a, b)]
    counts = np.zeros(3, dtype=np.int64)
    for axis in range(3):
        h = abs(basis_cc[axis] @ normals[axis]) / np.linalg.norm(normals[axis])
        while counts[axis] * h <= radius:
            counts[axis] += 1
    return counts


def lattice_shifts(cell_cc: np.ndarray, radius: float) -> np.ndarray:
    """Image vectors n = S @ cell, |S_c| <= n_c (``image_counts``), shape (m, 3)."""
    counts = image_counts(cell_cc, radius)
    n_images = int(np.prod(2 * counts + 1))
    if n_images > MAX_IMAGES:
        raise ValueError(
            f"Ewald real-space cutoff {radius:.4g} Å needs {n_images} cell images "
            f"(limit {MAX_IMAGES}); check ewald_prec and the cell"
        )
    ranges = [np.arange(-n, n + 1) for n in counts]
    S_mc = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1).reshape(-1, 3)
    return S_mc.astype(np.float64) @ cell_cc


def k_vectors(cell_cc: np.ndarray, params: EwaldParameters):
    """Half-sphere k vectors k_kc (n2p2's enumeration, Kspace.cpp) and weights w_k.

    w_k = 2 (4 pi / V) exp(-eta^2 k^2 / 2) / k^2: the full-sphere weight, doubled
    because k and -k give the same cos(k . r) and only one of them is listed.
    """
    volume = abs(np.linalg.det(cell_cc))
    pre = 2.0 * math.pi / volume
    a, b, c = cell_cc
    kbox = pre * np.array([np.cross(b, c), np.cross(c, a), np.cross(a, b)])
    counts = image_counts(kbox, params.k_cut)
    estimate = int(np.prod(2 * counts + 1)) // 2
    if estimate > MAX_K_VECTORS:
        raise ValueError(
            f"Ewald k-space cutoff {params.k_cut:.4g} 1/Å needs about {estimate} k vectors "
            f"(limit {MAX_K_VECTORS}); ewald_prec is too strict for this cell"
        )
    rows = []
    for i in range(0, counts[0] + 1):
        for j in range(0 if i == 0 else -counts[1], counts[1] + 1):
            for k in range(0 if i == 0 and j == 0 else -counts[2], counts[2] + 1):
                if i == 0 and j == 0 and k == 0:
                    continue
                kv = i * kbox[0] + j * kbox[1] + k * kbox[2]
                if kv @ kv < params.k_cut**2:
                    rows.append(kv)
    k_kc = np.array(rows).reshape(-1, 3)
    k2_k = np.einsum("kc,kc->k", k_kc, k_kc)
    coeff_k = np.exp(-0.5 * params.eta**2 * k2_k) * 2.0 * pre / k2_k
    return k_kc, 2.0 * coeff_k


def reciprocal_matrix(R_nc: np.ndarray, k_kc: np.ndarray, w_k: np.ndarray, k_e: float):
    """C^rec_ij = k_e sum_k w_k cos(k.(R_i - R_j)) = k_e sum_k w_k (c_ki c_kj + s_ki s_kj)."""
    theta_kn = k_kc @ R_nc.T
    c_kn, s_kn = np.cos(theta_kn), np.sin(theta_kn)
    return k_e * ((c_kn.T * w_k) @ c_kn + (s_kn.T * w_k) @ s_kn)


def reciprocal_bilinear_gradient(U_n, V_n, R_nc, k_kc, w_k, k_e):
    """d/dR_m sum_ij U_i V_j C^rec_ij (module docstring), shape (n, 3)."""
    theta_kn = k_kc @ R_nc.T
    c_kn, s_kn = np.cos(theta_kn), np.sin(theta_kn)
    A_U, B_U = c_kn @ U_n, s_kn @ U_n  # (k,)
    A_V, B_V = c_kn @ V_n, s_kn @ V_n
    dtheta_kn = U_n * (c_kn * B_V[:, None] - s_kn * A_V[:, None]) + V_n * (
        c_kn * B_U[:, None] - s_kn * A_U[:, None]
    )  # d/d theta_m of the bilinear form, per k
    return k_e * (dtheta_kn * w_k[:, None]).T @ k_kc


def reciprocal_directional(V_n, D_nc, R_nc, k_kc, w_k, k_e):
    """y_i = d/de sum_j C^rec_ij(R + e D) V_j (module docstring), shape (n,)."""
    theta_kn = k_kc @ R_nc.T
    c_kn, s_kn = np.cos(theta_kn), np.sin(theta_kn)
    t_kn = k_kc @ D_nc.T  # k . D_j
    A_V, B_V = c_kn @ V_n, s_kn @ V_n
    A_tV, B_tV = (c_kn * t_kn) @ V_n, (s_kn * t_kn) @ V_n  # sums over j of t_kj V_j c_kj, s_kj
    y_kn = -t_kn * (s_kn * A_V[:, None] - c_kn * B_V[:, None])
    y_kn += s_kn * A_tV[:, None] - c_kn * B_tV[:, None]
    return k_e * w_k @ y_kn


def ewald_self_diagonal(sigma_n: np.ndarray, eta: float, k_e: float) -> np.ndarray:
    """k_e [1/(sqrt(pi) sigma_i) - 2/(sqrt(2 pi) eta)]: Gaussian self energy minus the
    self interaction of the splitting Gaussian that the reciprocal sum contains."""
    sigma_n = np.asarray(sigma_n, dtype=np.float64)
    return k_e * (
        1.0 / (math.sqrt(math.pi) * sigma_n) - 2.0 / (math.sqrt(2.0) * eta * math.sqrt(math.pi))
    )
