r"""MD integrators as plain-array functions ``step(state, ...) -> state``.

Velocity Verlet (NVE), Langevin BAOAB and Bussi stochastic velocity rescaling
(NVT). Each calls a force function ``forces_fn(R_nc) -> (E_pot, F_nc)``
(``nnp_ref.dynamics.forces``); ``nnp_ref.dynamics.md.run_md`` is the friendly
layer on top. Units are ASE's (Å, eV, amu, momenta in amu Å / t_ASE); times
in the interface are in fs and converted once with ``ase.units.fs``. Array
suffixes: n atoms, c Cartesian.

References
- velocity Verlet: W. C. Swope, H. C. Andersen, P. H. Berens, K. R. Wilson,
  J. Chem. Phys. 76, 637 (1982), eq. (2.8).
- BAOAB Langevin splitting: B. Leimkuhler, C. Matthews, Appl. Math. Res.
  Express 2013, 34 (2013), doi:10.1093/amrx/abs010.
- stochastic velocity rescaling: G. Bussi, D. Donadio, M. Parrinello,
  J. Chem. Phys. 126, 014101 (2007), eq. (A7); effective energy eq. (9).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from ase import units

ForcesFn = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class MDState:
    """One point of an MD trajectory, as plain arrays (ASE units).

    R_nc: (n, 3) float64 positions, Å, unwrapped (continuous in time)
    P_nc: (n, 3) float64 momenta, amu Å / t_ASE
    m_n: (n,) float64 masses, amu
    F_nc: (n, 3) float64 forces at R_nc, eV/Å
    E_pot: float, potential energy at R_nc, eV
    t_fs: float, time, fs
    E_bath: float, kinetic energy the thermostat has put into the system
        since the start, eV (0 for NVE). E_pot + E_kin - E_bath is conserved
        up to the discretisation error (Bussi et al. eq. 9).
    """

    R_nc: np.ndarray
    P_nc: np.ndarray
    m_n: np.ndarray
    F_nc: np.ndarray
    E_pot: float
    t_fs: float = 0.0
    E_bath: float = 0.0

    @property
    def E_kin(self) -> float:
        return kinetic_energy(self.P_nc, self.m_n)


def kinetic_energy(P_nc: np.ndarray, m_n: np.ndarray) -> float:
    """E_kin = sum_n |P_n|^2 / (2 m_n), eV."""
    return float(0.5 * np.sum(P_nc**2 / m_n[:, None]))


def maxwell_boltzmann_momenta(m_n: np.ndarray, temperature_K: float, rng=None) -> np.ndarray:
    """Momenta P_nc drawn from exp(-P^2 / 2 m k_B T), with zero total momentum.

    Each component is Gaussian with variance m_n k_B T; subtracting
    m_n * (sum P / sum m) removes the centre-of-mass motion (for N > 1), so
    the expected E_kin is (3N - 3) k_B T / 2. ``rng``: seed or Generator.
    """
    rng = np.random.default_rng(rng)
    m_n1 = m_n[:, None]
    P_nc = np.sqrt(m_n1 * units.kB * temperature_K) * rng.standard_normal((len(m_n), 3))
    if len(m_n) > 1:
        P_nc -= m_n1 * P_nc.sum(axis=0) / m_n.sum()
    return P_nc


# ---------------------------------------------------------------- integrators


def verlet_step(state: MDState, dt_fs: float, forces_fn: ForcesFn) -> MDState:
    """One velocity-Verlet step (NVE), time reversible and symplectic.

    P(t + dt/2) = P(t) + dt/2 F(t)
    R(t + dt)   = R(t) + dt P(t + dt/2) / m
    P(t + dt)   = P(t + dt/2) + dt/2 F(t + dt)
    The operations are in the order of ase.md.verlet.VelocityVerlet, so the
    two give the same numbers.
    """
    dt = dt_fs * units.fs  # t_ASE
    m_n1 = state.m_n[:, None]
    P_nc = state.P_nc + 0.5 * dt * state.F_nc  # half kick
    R_nc = state.R_nc + dt * P_nc / m_n1  # drift
    E_pot, F_nc = forces_fn(R_nc)  # forces at the new positions
    P_nc = P_nc + 0.5 * dt * F_nc  # half kick
    return MDState(R_nc, P_nc, state.m_n, F_nc, E_pot, state.t_fs + dt_fs, state.E_bath)


def langevin_step(
    state: MDState, dt_fs: float, forces_fn: ForcesFn, kT: float, friction: float, rng
) -> MDState:
    """One BAOAB Langevin step: dP = F dt - gamma P dt + sqrt(2 gamma m kT) dW.

    B: P += dt/2 F          A: R += dt/2 P / m
    O: P = c1 P + sqrt((1 - c1^2) m kT) xi,   c1 = exp(-gamma dt),
       the exact solution of the friction + noise part over dt
    A: R += dt/2 P / m      B: P += dt/2 F(R)
    ``friction`` gamma is in 1/fs, ``kT`` in eV. The kinetic energy changed
    by O is added to E_bath. Configurational averages are very accurate
    (exact for a harmonic oscillator); the on-step momenta returned here
    carry an O(dt^2) bias, <E_kin> = (1 - (omega dt)^2 / 4) n kT / 2 for a
    harmonic mode of frequency omega (Leimkuhler & Matthews, sec. 4).
    """
    dt = dt_fs * units.fs  # t_ASE
    m_n1 = state.m_n[:, None]
    c1 = np.exp(-friction * dt_fs)
    P_nc = state.P_nc + 0.5 * dt * state.F_nc  # B
    R_nc = state.R_nc + 0.5 * dt * P_nc / m_n1  # A
    E_kin_before = kinetic_energy(P_nc, state.m_n)
    xi_nc = rng.standard_normal(P_nc.shape)
    P_nc = c1 * P_nc + np.sqrt((1.0 - c1**2) * m_n1 * kT) * xi_nc  # O
    E_bath = state.E_bath + kinetic_energy(P_nc, state.m_n) - E_kin_before
    R_nc = R_nc + 0.5 * dt * P_nc / m_n1  # A
    E_pot, F_nc = forces_fn(R_nc)
    P_nc = P_nc + 0.5 * dt * F_nc  # B
    return MDState(R_nc, P_nc, state.m_n, F_nc, E_pot, state.t_fs + dt_fs, E_bath)


def bussi_rescale(
    state: MDState, dt_fs: float, kT: float, tau_fs: float, n_dof: int, rng
) -> MDState:
    """Stochastic velocity rescaling over a time dt (Bussi et al. eq. A7).

    With K the kinetic energy, K_0 = n_dof kT / 2 its target, c = exp(-dt/tau)
    and R_1 ... R_{n_dof} standard normal numbers, the new kinetic energy is
        K' = c K + (1 - c) K_0 (R_1^2 + sum_{i>=2} R_i^2) / n_dof
             + 2 R_1 sqrt(c (1 - c) K K_0 / n_dof)
    and all momenta are scaled by alpha = sqrt(K' / K) (the positive root, as
    in the authors' resamplekin.f90); sum_{i>=2} R_i^2 is a chi^2 number with
    n_dof - 1 degrees of freedom, drawn as 2 Gamma((n_dof - 1) / 2).
    """
    K = state.E_kin
    K_0 = 0.5 * n_dof * kT
    c = np.exp(-dt_fs / tau_fs)
    R_1 = rng.standard_normal()
    sum_R2 = 2.0 * rng.standard_gamma(0.5 * (n_dof - 1))
    K_new = (
        c * K
        + (1.0 - c) * K_0 * (R_1**2 + sum_R2) / n_dof
        + 2.0 * R_1 * np.sqrt(c * (1.0 - c) * K * K_0 / n_dof)
    )
    alpha = np.sqrt(K_new / K)
    return replace(state, P_nc=alpha * state.P_nc, E_bath=state.E_bath + K_new - K)


def bussi_step(
    state: MDState,
    dt_fs: float,
    forces_fn: ForcesFn,
    kT: float,
    tau_fs: float,
    n_dof: int,
    rng,
) -> MDState:
    """Bussi NVT step, symmetric splitting: rescale dt/2, Verlet dt, rescale dt/2."""
    state = bussi_rescale(state, 0.5 * dt_fs, kT, tau_fs, n_dof, rng)
    state = verlet_step(state, dt_fs, forces_fn)
    return bussi_rescale(state, 0.5 * dt_fs, kT, tau_fs, n_dof, rng)
