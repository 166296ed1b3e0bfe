"""Molecular dynamics: velocity Verlet (NVE), Langevin BAOAB and Bussi (NVT).

The integrators (``nnp_ref.dynamics.integrators``, re-exported here, with
their references) are plain-array functions ``step(state, ...) -> state``
that call a force function ``forces_fn(R_nc) -> (E_pot, F_nc)``
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
"""

from __future__ import annotations

import io
import time
import warnings
from array import array
from collections.abc import Callable
from dataclasses import dataclass
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
from nnp_ref.dynamics.integrators import (  # noqa: F401  (the integrators: re-exported)
    ForcesFn,
    MDState,
    bussi_rescale,
    bussi_step,
    kinetic_energy,
    langevin_step,
    maxwell_boltzmann_momenta,
    verlet_step,
)

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
    """Describe what is wrong with ``new`` (None if it is fine).

    Every step, so the common case is two reductions: a sum over forces and
    momenta is finite exactly when they all are (or it overflowed: then the
    per-atom test decides), and the largest squared displacement.
    """
    if not np.isfinite(new.E_pot + new.F_nc.sum() + new.P_nc.sum()):
        bad_n = ~np.isfinite(new.F_nc).all(axis=1) | ~np.isfinite(new.P_nc).all(axis=1)
        if not np.isfinite(new.E_pot) or bad_n.any():
            return (
                f"non-finite energy ({new.E_pot}) or forces/momenta on atoms "
                f"{np.flatnonzero(bad_n)[:10].tolist()}"
            )
    if max_displacement is None:
        return None
    dR_nc = new.R_nc - old.R_nc
    d2_n = np.einsum("nc,nc->n", dR_nc, dR_nc)
    if d2_n.max() > max_displacement**2:
        d_n = np.sqrt(d2_n)
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
    _check_arguments(atoms, integrator, temperature_K)
    rng = np.random.default_rng(seed)
    n_atoms = len(atoms)
    m_n = atoms.get_masses().astype(np.float64)
    if init_temperature_K is not None:
        atoms.set_momenta(maxwell_boltzmann_momenta(m_n, init_temperature_K, rng))
    n_dof = 3 * n_atoms if integrator == "langevin" or n_atoms == 1 else 3 * n_atoms - 3
    forces_fn = make_forces_fn(atoms, skin)
    step_fn = _step_function(
        integrator, dt_fs, forces_fn, temperature_K, friction, tau_fs, n_dof, rng
    )
    writer = None if trajectory is None else _FrameWriter(trajectory, atoms)
    recorder = _Recorder(dt_fs, n_dof, forces_fn, writer, write_every, callback)
    bar = tqdm(total=n_steps, disable=not progress, unit="step", desc=f"MD {integrator}")
    try:
        recorder.start = time.perf_counter()
        R_nc = atoms.get_positions()
        E_pot, F_nc = forces_fn(R_nc)
        state = MDState(R_nc, atoms.get_momenta(), m_n, F_nc, E_pot)
        if integrator == "bussi" and state.E_kin == 0.0:
            raise ValueError("Bussi rescaling needs non-zero momenta: give init_temperature_K")
        recorder.record(0, state)
        for step in range(1, n_steps + 1):
            new_state = step_fn(state)
            problem = _check_step(state, new_state, max_displacement)
            if problem is not None:
                _stop(atoms, recorder, step, state, problem, trajectory)
            state = new_state
            recorder.record(step, state)
            bar.update()
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    _set_atoms(atoms, state)
    final = recorder.result(n_steps, state)
    _report_extrapolation(final.n_extrapolations, atoms.calc)
    return final


def _check_arguments(atoms: Atoms, integrator: str, temperature_K: float | None) -> None:
    """One-line errors for an unknown integrator, a misplaced target temperature, constraints."""
    if integrator not in ("verlet", "langevin", "bussi"):
        raise ValueError(f"integrator={integrator!r}: use 'verlet', 'langevin' or 'bussi'")
    if (integrator == "verlet") != (temperature_K is None):
        raise ValueError(
            "temperature_K is the thermostat target: give it for 'langevin' and 'bussi' "
            "and not for 'verlet' (use init_temperature_K for initial velocities)"
        )
    if atoms.constraints:
        raise ValueError("constraints are not supported by nnp_ref.dynamics.md")


def _step_function(integrator, dt_fs, forces_fn, temperature_K, friction, tau_fs, n_dof, rng):
    """The chosen integrator as a function state -> state."""
    if integrator == "verlet":
        return partial(verlet_step, dt_fs=dt_fs, forces_fn=forces_fn)
    kT = units.kB * temperature_K
    if integrator == "langevin":
        return partial(
            langevin_step, dt_fs=dt_fs, forces_fn=forces_fn, kT=kT, friction=friction, rng=rng
        )
    return partial(
        bussi_step, dt_fs=dt_fs, forces_fn=forces_fn, kT=kT, tau_fs=tau_fs, n_dof=n_dof, rng=rng
    )


class _Recorder:
    """Energy records of a run, grown step by step (nothing allocated for n_steps up front),
    the trajectory frames every ``write_every`` steps and the user's callback."""

    def __init__(self, dt_fs, n_dof, forces_fn, writer, write_every, callback):
        self.dt_fs, self.n_dof, self.forces_fn = dt_fs, n_dof, forces_fn
        self.writer, self.write_every, self.callback = writer, write_every, callback
        self.E_pot_t, self.E_kin_t, self.E_bath_t = array("d"), array("d"), array("d")
        self.start = time.perf_counter()

    def record(self, step: int, state: MDState) -> None:
        self.E_pot_t.append(state.E_pot)
        self.E_kin_t.append(state.E_kin)
        self.E_bath_t.append(state.E_bath)
        if self.writer is not None and step % self.write_every == 0:
            self.write(step, state)
        if self.callback is not None:
            self.callback(step, state)

    def write(self, step: int, state: MDState) -> None:
        """Frame ``step`` (already recorded) with its temperature and conserved energy."""
        E_kin = self.E_kin_t[step]
        T_K = 2.0 * E_kin / (self.n_dof * units.kB)
        self.writer.write(step, state, T_K, state.E_pot + E_kin - state.E_bath)

    def result(self, last: int, state: MDState) -> MDResult:
        """The records of steps 0..last as an :class:`MDResult`."""
        s = slice(0, last + 1)
        E_pot = np.array(self.E_pot_t[s])
        E_kin = np.array(self.E_kin_t[s])
        E_tot_t = E_pot + E_kin
        forces_fn = self.forces_fn
        return MDResult(
            t_fs=np.arange(last + 1) * self.dt_fs,
            E_pot_t=E_pot,
            E_kin_t=E_kin,
            E_tot_t=E_tot_t,
            T_t=2.0 * E_kin / (self.n_dof * units.kB),
            E_cons_t=E_tot_t - np.array(self.E_bath_t[s]),
            n_dof=self.n_dof,
            state=state,
            time_total_s=time.perf_counter() - self.start,
            time_force_s=forces_fn.time_s,
            n_extrapolations=getattr(forces_fn, "n_extrapolations", 0),
            n_neighbour_builds=getattr(getattr(forces_fn, "neighbours", None), "n_builds", 0),
        )


def _stop(atoms: Atoms, recorder: _Recorder, step: int, state: MDState, problem: str, trajectory):
    """Write the last good ``state`` (step - 1) to the trajectory and the atoms; raise MDError."""
    message = f"MD stopped at step {step} (t = {step * recorder.dt_fs:g} fs): {problem}."
    writer = recorder.writer
    if writer is not None:
        if writer.last_step != step - 1:
            recorder.write(step - 1, state)
        message += f" Last good frame (step {step - 1}) written to {trajectory}."
    _set_atoms(atoms, state)
    raise MDError(message, step, recorder.result(step - 1, state))


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
