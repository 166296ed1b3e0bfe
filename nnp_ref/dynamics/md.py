"""Molecular dynamics: velocity Verlet (NVE), Langevin BAOAB and Bussi (NVT).

The integrators are plain-array functions ``step(state, ...) -> state`` that
call a force function ``forces_fn(R_nc) -> (E_pot, F_nc)``
(``nnp_ref.dynamics.forces``: direct from an nnp_ref potential with a skin
neighbour list, or any ASE calculator); ``run_md`` is the friendly layer that
builds ``forces_fn``, records energies every step (growing with the steps
run) and streams whole frames to disk.

Units are ASE's: Å, eV, amu, and momenta in amu Å / t_ASE, where the ASE
time unit is t_ASE = 1 / ase.units.fs fs (about 10.18 fs), so that P^2 / 2m
is in eV. Every time in the interface is in fs (``dt_fs``, ``tau_fs``,
``friction`` in 1/fs) and is converted once with ``ase.units.fs``.

Array suffixes follow docs/architecture.md (n atoms, c Cartesian), plus
t = recorded steps.

Periodic wrapping: ``MDState.R_nc`` is never wrapped (continuous paths for
the MSD and exact time reversal); the calculator sees positions kept within
a quarter cell of the cell (``ASEForces``); trajectory frames and the atoms
after a run are wrapped into the cell.

Degrees of freedom of the kinetic temperature T = 2 E_kin / (n_dof k_B):
n_dof = 3N - 3 for 'verlet' and 'bussi' (both conserve the total momentum,
which ``maxwell_boltzmann_momenta`` sets to zero), n_dof = 3N for 'langevin'
(its per-atom noise does not conserve momentum).

References
- velocity Verlet: W. C. Swope, H. C. Andersen, P. H. Berens, K. R. Wilson,
  J. Chem. Phys. 76, 637 (1982), eq. (2.8).
- BAOAB Langevin splitting: B. Leimkuhler, C. Matthews, Appl. Math. Res.
  Express 2013, 34 (2013), doi:10.1093/amrx/abs010.
- stochastic velocity rescaling: G. Bussi, D. Donadio, M. Parrinello,
  J. Chem. Phys. 126, 014101 (2007), eq. (A7); effective energy eq. (9).
"""

from __future__ import annotations

import io
import time
import warnings
from array import array
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import ase.io
import numpy as np
from ase import Atoms, units
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io.trajectory import Trajectory
from tqdm import tqdm

from nnp_ref.dynamics.forces import (  # noqa: F401  (ASEForces, PotentialForces: re-exported)
    ASEForces,
    PotentialForces,
    make_forces_fn,
    wrap_positions,
)

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
    return replace(state, R_nc=R_nc, P_nc=P_nc, F_nc=F_nc, E_pot=E_pot, t_fs=state.t_fs + dt_fs)


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


# ------------------------------------------------------------- trajectory files


class _FrameWriter:
    """Streams frames to extxyz (.xyz, .extxyz) or ASE .traj, one at a time."""

    def __init__(self, path, atoms: Atoms):
        self.path = Path(path)
        self.atoms = atoms
        self.last_step = None
        suffix = self.path.suffix.lower()
        if suffix == ".traj":
            self._traj, self._fd = Trajectory(str(self.path), "w"), None
        elif suffix in (".xyz", ".extxyz"):
            self._traj, self._fd = None, open(self.path, "w")
        else:
            raise ValueError(f"trajectory {path}: use a .traj, .xyz or .extxyz file name")

    def write(self, step: int, state: MDState, T_K: float, E_cons: float) -> None:
        frame = self.atoms.copy()
        frame.positions = wrap_positions(state.R_nc, frame.cell.array, frame.pbc)
        frame.set_momenta(state.P_nc)
        frame.calc = SinglePointCalculator(frame, energy=state.E_pot, forces=state.F_nc)
        frame.info.update(step=step, time_fs=state.t_fs, temperature_K=T_K, E_cons=E_cons)
        if self._traj is not None:
            self._traj.write(frame)
        else:
            # one whole frame per write, flushed: a killed run leaves whole frames
            buffer = io.StringIO()
            ase.io.write(buffer, frame, format="extxyz")
            self._fd.write(buffer.getvalue())
            self._fd.flush()
        self.last_step = step

    def close(self) -> None:
        if self._traj is not None:
            self._traj.close()
        else:
            self._fd.close()


# ------------------------------------------------------------- friendly layer


@dataclass
class MDResult:
    """Records of one ``run_md`` call; index t = step, 0 is the initial state.

    t_fs: (t,) time, fs
    E_pot_t, E_kin_t, E_tot_t: (t,) potential, kinetic, total energy, eV
    T_t: (t,) kinetic temperature 2 E_kin / (n_dof k_B), K
    E_cons_t: (t,) conserved quantity, eV: E_tot for 'verlet', the effective
        energy E_tot - E_bath for the thermostats
    n_dof: degrees of freedom used for T (see the module docstring)
    state: final MDState (the last good one if the run stopped early)
    time_total_s, time_force_s: wall-clock of the MD loop and of the
        calculator calls inside it (both include the step-0 force call)
    n_extrapolations: symmetry-function values outside the training range,
        summed over all force calls (direct nnp_ref path; 0 otherwise)
    n_neighbour_builds: neighbour-list builds of the direct path (0 otherwise)
    """

    t_fs: np.ndarray
    E_pot_t: np.ndarray
    E_kin_t: np.ndarray
    E_tot_t: np.ndarray
    T_t: np.ndarray
    E_cons_t: np.ndarray
    n_dof: int
    state: MDState
    time_total_s: float
    time_force_s: float
    n_extrapolations: int = 0
    n_neighbour_builds: int = 0

    @property
    def n_steps(self) -> int:
        return len(self.t_fs) - 1

    @property
    def steps_per_second(self) -> float:
        return self.n_steps / self.time_total_s

    @property
    def share_outside_force(self) -> float:
        """Fraction of the wall-clock time spent outside the calculator."""
        return 1.0 - self.time_force_s / self.time_total_s


class MDError(RuntimeError):
    """MD stopped: non-finite energy/forces or an atom moved too far in a step.

    ``step`` is the failed step; ``result`` holds the records up to the last
    good step (``result.state`` is that state, also written to the trajectory
    file and to the atoms).
    """

    def __init__(self, message: str, step: int, result: MDResult):
        super().__init__(message)
        self.step = step
        self.result = result


def _check_step(old: MDState, new: MDState, max_displacement: float | None) -> str | None:
    """Describe what is wrong with ``new`` (None if it is fine)."""
    bad_n = ~np.isfinite(new.F_nc).all(axis=1) | ~np.isfinite(new.P_nc).all(axis=1)
    if not np.isfinite(new.E_pot) or bad_n.any():
        return (
            f"non-finite energy ({new.E_pot}) or forces/momenta on atoms "
            f"{np.flatnonzero(bad_n)[:10].tolist()}"
        )
    d_n = np.linalg.norm(new.R_nc - old.R_nc, axis=1)
    if max_displacement is not None and d_n.max() > max_displacement:
        i = int(np.argmax(d_n))
        return (
            f"atom {i} moved {d_n[i]:.3g} Å in one step (limit max_displacement="
            f"{max_displacement} Å): atoms are flying apart; reduce the time step "
            "or check the potential"
        )
    return None


def run_md(
    atoms: Atoms,
    dt_fs: float,
    n_steps: int,
    integrator: str = "verlet",
    *,
    temperature_K: float | None = None,
    friction: float = 0.01,
    tau_fs: float = 100.0,
    seed=None,
    init_temperature_K: float | None = None,
    trajectory=None,
    write_every: int = 10,
    callback: Callable[[int, MDState], None] | None = None,
    progress: bool = True,
    max_displacement: float | None = 0.5,
    skin: float = 1.0,
) -> MDResult:
    """Run MD on ``atoms`` with its ASE calculator; return the energy records.

    integrator: 'verlet' (NVE), 'langevin' (BAOAB, NVT) or 'bussi' (NVT).
    temperature_K: thermostat target (required for 'langevin' and 'bussi').
    friction: Langevin gamma, 1/fs.   tau_fs: Bussi relaxation time, fs.
    seed: int or numpy Generator for initial velocities and thermostat noise.
    init_temperature_K: if given, draw Maxwell-Boltzmann momenta at this
        temperature (zero total momentum); otherwise the atoms' momenta are used.
    trajectory: path (.traj, .xyz, .extxyz) written at steps 0, write_every,
        2 write_every, ... with wrapped positions, momenta, energy and forces.
    callback: called as callback(step, state) at step 0 and after every step.
    max_displacement: stop if an atom moves further than this (Å) in one
        step (None: no check). Non-finite energies or forces always stop.
    skin: Å, neighbour-list skin of the direct force path, used when the
        calculator is an ``NNPCalculator`` (arrays straight to the potential,
        no ``Atoms`` round trip; any other calculator goes through ASE).
        Extrapolation is then counted over the run and reported once at the
        end (an ``ExtrapolationWarning`` unless the calculator's mode is
        "off"; "raise" stops at the first step that extrapolates).
    Energy records grow with the steps actually run (nothing is allocated
    for ``n_steps`` up front).
    The final state is written back to ``atoms`` (positions wrapped into the
    cell); on failure ``MDError`` is raised after the last good state has
    been written to the trajectory and to ``atoms``.
    """
    if integrator not in ("verlet", "langevin", "bussi"):
        raise ValueError(f"integrator={integrator!r}: use 'verlet', 'langevin' or 'bussi'")
    if (integrator == "verlet") != (temperature_K is None):
        raise ValueError(
            "temperature_K is the thermostat target: give it for 'langevin' and 'bussi' "
            "and not for 'verlet' (use init_temperature_K for initial velocities)"
        )
    if atoms.constraints:
        raise ValueError("constraints are not supported by nnp_ref.dynamics.md")
    rng = np.random.default_rng(seed)
    n_atoms = len(atoms)
    m_n = atoms.get_masses().astype(np.float64)
    if init_temperature_K is not None:
        atoms.set_momenta(maxwell_boltzmann_momenta(m_n, init_temperature_K, rng))
    n_dof = 3 * n_atoms if integrator == "langevin" or n_atoms == 1 else 3 * n_atoms - 3

    forces_fn = make_forces_fn(atoms, skin)
    if integrator == "verlet":
        step_fn = partial(verlet_step, dt_fs=dt_fs, forces_fn=forces_fn)
    elif integrator == "langevin":
        kT = units.kB * temperature_K
        step_fn = partial(
            langevin_step, dt_fs=dt_fs, forces_fn=forces_fn, kT=kT, friction=friction, rng=rng
        )
    else:
        kT = units.kB * temperature_K
        step_fn = partial(
            bussi_step, dt_fs=dt_fs, forces_fn=forces_fn, kT=kT, tau_fs=tau_fs, n_dof=n_dof, rng=rng
        )

    E_pot_t, E_kin_t, E_bath_t = array("d"), array("d"), array("d")  # grow step by step

    def result(last: int, state: MDState) -> MDResult:
        s = slice(0, last + 1)
        E_pot = np.array(E_pot_t[s])
        E_kin = np.array(E_kin_t[s])
        E_tot_t = E_pot + E_kin
        return MDResult(
            t_fs=np.arange(last + 1) * dt_fs,
            E_pot_t=E_pot,
            E_kin_t=E_kin,
            E_tot_t=E_tot_t,
            T_t=2.0 * E_kin / (n_dof * units.kB),
            E_cons_t=E_tot_t - np.array(E_bath_t[s]),
            n_dof=n_dof,
            state=state,
            time_total_s=time.perf_counter() - start,
            time_force_s=forces_fn.time_s,
            n_extrapolations=getattr(forces_fn, "n_extrapolations", 0),
            n_neighbour_builds=getattr(getattr(forces_fn, "neighbours", None), "n_builds", 0),
        )

    def record(step: int, state: MDState) -> None:
        E_pot_t.append(state.E_pot)
        E_kin_t.append(state.E_kin)
        E_bath_t.append(state.E_bath)
        if writer is not None and step % write_every == 0:
            write(step, state)
        if callback is not None:
            callback(step, state)

    def write(step: int, state: MDState) -> None:
        E_kin = E_kin_t[step]
        T_K = 2.0 * E_kin / (n_dof * units.kB)
        writer.write(step, state, T_K, state.E_pot + E_kin - state.E_bath)

    writer = None if trajectory is None else _FrameWriter(trajectory, atoms)
    bar = tqdm(total=n_steps, disable=not progress, unit="step", desc=f"MD {integrator}")
    try:
        start = time.perf_counter()
        R_nc = atoms.get_positions()
        P_nc = atoms.get_momenta()
        E_pot, F_nc = forces_fn(R_nc)
        state = MDState(R_nc, P_nc, m_n, F_nc, E_pot)
        if integrator == "bussi" and state.E_kin == 0.0:
            raise ValueError("Bussi rescaling needs non-zero momenta: give init_temperature_K")
        record(0, state)
        for step in range(1, n_steps + 1):
            new_state = step_fn(state)
            problem = _check_step(state, new_state, max_displacement)
            if problem is not None:
                message = f"MD stopped at step {step} (t = {step * dt_fs:g} fs): {problem}."
                if writer is not None:
                    if writer.last_step != step - 1:
                        write(step - 1, state)
                    message += f" Last good frame (step {step - 1}) written to {trajectory}."
                _set_atoms(atoms, state)
                raise MDError(message, step, result(step - 1, state))
            state = new_state
            record(step, state)
            bar.update()
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    _set_atoms(atoms, state)
    final = result(n_steps, state)
    _report_extrapolation(final.n_extrapolations, atoms.calc)
    return final


def _report_extrapolation(n_extrapolations: int, calc) -> None:
    """One warning (or error) for the extrapolations of a whole run, by the calculator's mode."""
    mode = getattr(calc, "extrapolation", "off")
    if n_extrapolations == 0 or mode in ("off", "count", "ignore"):
        return
    from nnp_ref.model.potential import ExtrapolationError, ExtrapolationWarning

    message = (
        f"MD: {n_extrapolations} symmetry-function value(s) outside the training range "
        "over the run (summed over steps); the potential extrapolated"
    )
    if mode == "raise":
        raise ExtrapolationError(message)
    warnings.warn(message, ExtrapolationWarning, stacklevel=3)


def _set_atoms(atoms: Atoms, state: MDState) -> None:
    """Write a state back to atoms (positions wrapped into the cell)."""
    atoms.positions = wrap_positions(state.R_nc, atoms.cell.array, atoms.pbc)
    atoms.set_momenta(state.P_nc)
