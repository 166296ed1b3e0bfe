"""Tests of nnp_ref.dynamics.md: integrators, thermostats, trajectories, failure modes.

Reference systems: independent harmonic oscillators (exact solution, cheap),
EMT copper (compared with ase.md.verlet.VelocityVerlet), a Lennard-Jones
cluster (no cell). Tolerances are stated in each test.
"""

import gc
import tracemalloc

import ase.io
import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.md.verlet import VelocityVerlet

from nnp_ref.analysis.observables import block_average
from nnp_ref.dynamics.md import (
    ASEForces,
    MDError,
    MDState,
    langevin_step,
    maxwell_boltzmann_momenta,
    run_md,
    verlet_step,
)


class Harmonic(Calculator):
    """E = k/2 sum_n |R_n - R0_n|^2: every atom on its own spring (no cell)."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, R0_nc, k):
        super().__init__()
        self.R0_nc, self.k = np.array(R0_nc, dtype=float), k

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        D_nc = self.atoms.positions - self.R0_nc
        self.results = {"energy": 0.5 * self.k * np.sum(D_nc**2), "forces": -self.k * D_nc}


class FailAfter(Calculator):
    """Wraps a calculator; from call ``n_good`` on, forces become ``bad_value``."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, calc, n_good, bad_value):
        super().__init__()
        self.calc, self.n_good, self.bad_value, self.n_calls = calc, n_good, bad_value, 0

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.n_calls += 1
        self.calc.calculate(self.atoms, ["energy", "forces"], all_changes)
        self.results = dict(self.calc.results)
        if self.n_calls > self.n_good:
            self.results["forces"] = np.full_like(self.results["forces"], self.bad_value)


def harmonic_forces_fn(R0_nc, k):
    """Array-level force function of the Harmonic calculator."""

    def forces_fn(R_nc):
        D_nc = R_nc - R0_nc
        return 0.5 * k * np.sum(D_nc**2), -k * D_nc

    return forces_fn


def harmonic_state(n_atoms, k, mass, seed=0):
    """Oscillators displaced from their sites, with random momenta."""
    rng = np.random.default_rng(seed)
    R0_nc = 3.0 * rng.standard_normal((n_atoms, 3))
    R_nc = R0_nc + 0.1 * rng.standard_normal((n_atoms, 3))
    P_nc = 0.1 * rng.standard_normal((n_atoms, 3))
    m_n = np.full(n_atoms, mass)
    E_pot, F_nc = harmonic_forces_fn(R0_nc, k)(R_nc)
    return R0_nc, MDState(R_nc, P_nc, m_n, F_nc, E_pot)


def copper(repeat, temperature_K=300.0, seed=1):
    """EMT copper, rattled, with Maxwell-Boltzmann momenta."""
    atoms = bulk("Cu", cubic=True).repeat(repeat)
    atoms.rattle(0.05, seed=seed)
    atoms.set_momenta(maxwell_boltzmann_momenta(atoms.get_masses(), temperature_K, seed))
    atoms.calc = EMT()
    return atoms


# ------------------------------------------------------------- harmonic


def test_verlet_time_reversible():
    """N steps forward, flip momenta, N steps back: start recovered to 1e-10."""
    k, mass, dt_fs, n_steps = 2.0, 10.0, 1.0, 500  # period 2 pi sqrt(m/k) ~ 143 fs
    R0_nc, start = harmonic_state(20, k, mass)
    forces_fn = harmonic_forces_fn(R0_nc, k)
    state = start
    for _ in range(n_steps):
        state = verlet_step(state, dt_fs, forces_fn)
    assert np.abs(state.R_nc - start.R_nc).max() > 0.01  # it moved
    state = MDState(state.R_nc, -state.P_nc, state.m_n, state.F_nc, state.E_pot)
    for _ in range(n_steps):
        state = verlet_step(state, dt_fs, forces_fn)
    np.testing.assert_allclose(state.R_nc, start.R_nc, rtol=0, atol=1e-10)
    np.testing.assert_allclose(-state.P_nc, start.P_nc, rtol=0, atol=1e-10)


def test_verlet_energy_fluctuation_scales_as_dt_squared():
    """RMS of E_tot(t) over ten periods ~ dt^2: log-log slope 2 +- 0.02."""
    k, mass = 2.0, 10.0
    omega = np.sqrt(k / mass) * units.fs  # 1/fs
    period_fs = 2 * np.pi / omega
    R0_nc, start = harmonic_state(10, k, mass)
    forces_fn = harmonic_forces_fn(R0_nc, k)
    dts_fs = period_fs * np.array([0.01, 0.02, 0.04, 0.08])
    rms = []
    for dt_fs in dts_fs:
        state, E_t = start, []
        for _ in range(int(round(10 * period_fs / dt_fs))):
            state = verlet_step(state, dt_fs, forces_fn)
            E_t.append(state.E_pot + state.E_kin)
        rms.append(np.std(E_t))
    slope = np.polyfit(np.log(dts_fs), np.log(rms), 1)[0]
    assert slope == pytest.approx(2.0, abs=0.02)


def test_run_md_harmonic_matches_exact_solution():
    """One oscillator through run_md + an ASE calculator: x(t) = A cos(omega t)
    to O((omega dt)^2) (here 2e-3 of the amplitude) over one period."""
    k, amplitude = 1.0, 0.2
    atoms = Atoms("Ar", positions=[[amplitude, 0, 0]])
    atoms.calc = Harmonic([[0, 0, 0]], k)
    omega = np.sqrt(k / atoms.get_masses()[0]) * units.fs  # 1/fs
    n_steps = 200
    dt_fs = 2 * np.pi / omega / n_steps
    x_t = []
    run_md(atoms, dt_fs, n_steps, callback=lambda step, s: x_t.append(s.R_nc[0, 0]), progress=False)
    t_fs = dt_fs * np.arange(n_steps + 1)
    np.testing.assert_allclose(x_t, amplitude * np.cos(omega * t_fs), atol=2e-3 * amplitude)


def test_langevin_harmonic_sampling():
    """BAOAB on 1000 oscillators at 300 K, omega dt = 0.22: <E_pot> = 3N kT/2
    (BAOAB samples harmonic positions exactly) and the on-step kinetic energy
    <E_kin> = 3N kT/2 (1 - (omega dt)^2 / 4) (its known O(dt^2) bias, -1.2%
    here), both within 0.6% (statistical error ~0.15%)."""
    k, mass, n_atoms, temperature_K, dt_fs = 2.0, 10.0, 1000, 300.0, 5.0
    kT = units.kB * temperature_K
    omega = np.sqrt(k / mass) * units.fs  # 1/fs
    R0_nc, state = harmonic_state(n_atoms, k, mass)
    forces_fn = harmonic_forces_fn(R0_nc, k)
    rng = np.random.default_rng(5)
    E_kin_t, E_pot_t = [], []
    for step in range(2000):
        state = langevin_step(state, dt_fs, forces_fn, kT, 0.02, rng)
        if step >= 500:
            E_kin_t.append(state.E_kin)
            E_pot_t.append(state.E_pot)
    equipartition = 1.5 * n_atoms * kT
    assert np.mean(E_pot_t) == pytest.approx(equipartition, rel=0.006)
    E_kin_baoab = equipartition * (1 - (omega * dt_fs) ** 2 / 4)
    assert np.mean(E_kin_t) == pytest.approx(E_kin_baoab, rel=0.006)


# ---------------------------------------------------------------- EMT copper


def test_verlet_identical_to_ase_velocity_verlet():
    """108 Cu atoms, EMT, 100 steps of 5 fs: positions (Å), momenta and
    energies (eV) equal to ASE's VelocityVerlet within 1e-10."""
    atoms = copper(3, temperature_K=600.0)
    reference = atoms.copy()
    reference.calc = EMT()
    E_ref = []
    dyn = VelocityVerlet(reference, 5.0 * units.fs)
    dyn.attach(lambda: E_ref.append(reference.get_potential_energy()))
    dyn.run(100)
    result = run_md(atoms, 5.0, 100, progress=False)
    assert np.abs(reference.positions - atoms.positions).max() > 0.1  # ASE does not wrap
    np.testing.assert_allclose(result.state.R_nc, reference.positions, rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.state.P_nc, reference.get_momenta(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(result.E_pot_t, E_ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(atoms.get_momenta(), reference.get_momenta(), rtol=0, atol=1e-10)


def test_verlet_time_reversible_emt():
    """Reversibility also for a chaotic many-body system (32 Cu atoms at
    600 K, 200 steps of 5 fs each way): start recovered to 1e-10 (seen 1e-14)."""
    atoms = copper(2, temperature_K=600.0)
    forces_fn = ASEForces(atoms)
    E_pot, F_nc = forces_fn(atoms.get_positions())
    start = MDState(atoms.get_positions(), atoms.get_momenta(), atoms.get_masses(), F_nc, E_pot)
    state = start
    for _ in range(200):
        state = verlet_step(state, 5.0, forces_fn)
    assert np.abs(state.R_nc - start.R_nc).max() > 0.1
    state = MDState(state.R_nc, -state.P_nc, state.m_n, state.F_nc, state.E_pot)
    for _ in range(200):
        state = verlet_step(state, 5.0, forces_fn)
    np.testing.assert_allclose(state.R_nc, start.R_nc, rtol=0, atol=1e-10)
    np.testing.assert_allclose(-state.P_nc, start.P_nc, rtol=0, atol=1e-10)


def test_nve_drift_and_zero_momentum():
    """32 Cu atoms at ~300 K, dt = 2 fs, 1 ps: |drift| < 0.05 meV/atom/ps
    (measured ~1e-3), E_tot RMS < 0.05 meV/atom, and the total momentum
    stays below 1e-10 amu Å / t_ASE (per-atom momenta are ~1)."""
    atoms = copper(2, temperature_K=600.0)
    P_total_t = []
    result = run_md(
        atoms,
        2.0,
        500,
        callback=lambda step, s: P_total_t.append(s.P_nc.sum(axis=0)),
        progress=False,
    )
    dE_t = (result.E_tot_t - result.E_tot_t[0]) / len(atoms) * 1e3  # meV/atom
    drift = np.polyfit(result.t_fs, dE_t, 1)[0] * 1e3  # meV/atom/ps
    assert abs(drift) < 0.05
    assert np.std(dE_t) < 0.05
    assert np.abs(P_total_t).max() < 1e-10
    assert np.abs(result.T_t.mean() - 300.0) < 100.0  # equipartition halves 600 K
    assert result.n_dof == 3 * 32 - 3


@pytest.mark.parametrize("integrator", ["langevin", "bussi"])
def test_thermostat_reaches_target_temperature(integrator):
    """32 Cu atoms from 50 K to 500 K (2000 steps of 5 fs). After 1 ps:
    |<T> - 500 K| < 4 standard errors (20 block averages; sem ~5 K) + 1%
    (BAOAB's on-step kinetic bias, see the harmonic test); Var(E_kin) =
    n_dof (kT)^2 / 2 (canonical) within 30% (seen: 0.82-1.10); the effective
    energy E_cons changes by less than 2 meV/atom (seen: |0.2-0.8|) while
    E_tot rises by ~100 meV/atom."""
    temperature_K = 500.0
    atoms = copper(2, temperature_K=50.0)
    result = run_md(
        atoms,
        5.0,
        2000,
        integrator,
        temperature_K=temperature_K,
        friction=0.02,
        tau_fs=50.0,
        seed=3,
        progress=False,
    )
    mean, sem = block_average(result.T_t[200:], n_blocks=20)
    assert abs(mean - temperature_K) < 4 * sem + 0.01 * temperature_K
    assert sem < 0.03 * temperature_K
    kT = units.kB * temperature_K
    assert np.var(result.E_kin_t[200:]) == pytest.approx(0.5 * result.n_dof * kT**2, rel=0.3)
    n_atoms = len(atoms)
    assert (result.E_tot_t[-1] - result.E_tot_t[0]) / n_atoms * 1e3 > 50.0
    assert abs(result.E_cons_t[-1] - result.E_cons_t[0]) / n_atoms * 1e3 < 2.0
    assert result.n_dof == (3 * n_atoms if integrator == "langevin" else 3 * n_atoms - 3)


def test_bussi_keeps_momentum_zero():
    """Bussi rescales all momenta by one factor: total momentum stays < 1e-10."""
    atoms = copper(2)
    result = run_md(atoms, 5.0, 50, "bussi", temperature_K=300.0, tau_fs=10.0, progress=False)
    assert np.abs(result.state.P_nc.sum(axis=0)).max() < 1e-10


# ------------------------------------------------------- initial velocities


def test_maxwell_boltzmann_seeded_zero_momentum_temperature():
    """10^4 atoms: zero total momentum (1e-9), same seed same momenta, and
    T with 3N - 3 degrees of freedom within 2% (expected spread 0.8%)."""
    m_n = np.where(np.arange(10_000) % 2 == 0, 1.008, 15.999)
    P_nc = maxwell_boltzmann_momenta(m_n, 300.0, 7)
    np.testing.assert_array_equal(P_nc, maxwell_boltzmann_momenta(m_n, 300.0, 7))
    assert np.abs(P_nc.sum(axis=0)).max() < 1e-9
    E_kin = 0.5 * np.sum(P_nc**2 / m_n[:, None])
    T = 2 * E_kin / ((3 * len(m_n) - 3) * units.kB)
    assert T == pytest.approx(300.0, rel=0.02)


def test_seed_makes_runs_reproducible():
    runs = []
    for _ in range(2):
        atoms = copper(2)
        runs.append(
            run_md(
                atoms,
                5.0,
                20,
                "langevin",
                temperature_K=300.0,
                init_temperature_K=300.0,
                seed=11,
                progress=False,
            )
        )
    np.testing.assert_array_equal(runs[0].E_tot_t, runs[1].E_tot_t)


# ------------------------------------------------------ interface, files


@pytest.mark.parametrize("suffix", [".traj", ".extxyz"])
def test_trajectory_frames(tmp_path, suffix):
    """Frames at steps 0, 10, ..., 50 with wrapped positions, momenta and the
    recorded energies; the final state is written back to atoms. Tolerance
    1e-7: extxyz stores 8 decimals."""
    atoms = copper(2, temperature_K=2000.0)
    path = tmp_path / f"md{suffix}"
    result = run_md(atoms, 5.0, 50, trajectory=path, write_every=10, progress=False)
    frames = ase.io.read(path, ":")
    assert [f.info["step"] for f in frames] == [0, 10, 20, 30, 40, 50]
    for frame in frames:
        step = frame.info["step"]
        assert frame.get_potential_energy() == pytest.approx(result.E_pot_t[step], abs=1e-9)
        assert frame.info["time_fs"] == pytest.approx(result.t_fs[step])
        scaled = frame.get_scaled_positions(wrap=False)
        assert scaled.min() >= -1e-9 and scaled.max() < 1.0
    np.testing.assert_allclose(frames[-1].get_momenta(), result.state.P_nc, atol=1e-7)
    np.testing.assert_allclose(frames[-1].positions, atoms.positions, atol=1e-7)
    np.testing.assert_allclose(frames[-1].get_forces(), result.state.F_nc, atol=1e-7)


def test_non_finite_forces_stop_with_last_good_frame(tmp_path):
    """NaN forces from the 8th force call (step 7): MDError naming the step;
    the last good state (step 6) is in the trajectory, the atoms and the
    partial result."""
    atoms = copper(2)
    atoms.calc = FailAfter(EMT(), n_good=7, bad_value=np.nan)
    path = tmp_path / "md.traj"
    with pytest.raises(MDError, match="step 7.*non-finite") as error:
        run_md(atoms, 5.0, 20, trajectory=path, write_every=5, progress=False)
    assert error.value.step == 7
    frames = ase.io.read(path, ":")
    assert [f.info["step"] for f in frames] == [0, 5, 6]
    good = error.value.result
    assert good.n_steps == 6 and np.isfinite(good.E_tot_t).all()
    np.testing.assert_allclose(frames[-1].get_momenta(), good.state.P_nc, atol=1e-12)
    np.testing.assert_allclose(atoms.get_momenta(), good.state.P_nc, atol=1e-12)


def test_flying_apart_stops():
    """Forces of 1e4 eV/Å throw atoms by > 0.5 Å in one step: MDError."""
    atoms = copper(2)
    atoms.calc = FailAfter(EMT(), n_good=3, bad_value=1e4)
    with pytest.raises(MDError, match="flying apart") as error:
        run_md(atoms, 5.0, 20, progress=False)
    assert error.value.step == 4


def test_calculator_positions_stay_near_cell():
    """ASEForces shifts an atom by cell vectors only once it is more than a
    quarter cell outside (no jumping back and forth across a face), and the
    energy and forces do not depend on the shifts (1e-10)."""
    atoms = copper(2)
    cell_cc = atoms.cell.array
    forces_fn = ASEForces(atoms)
    E_ref, F_ref = forces_fn(atoms.get_positions())
    R_nc = atoms.get_positions()
    assert abs(atoms.get_scaled_positions(wrap=False)[0, 0]) < 0.05  # atom 0 sits at a face
    R_nc[0] += cell_cc[0]  # now just outside the opposite face (fractional x ~ 1.0)
    R_nc[1] += np.array([3, -2, 5]) @ cell_cc  # several cells away
    E, F_nc = forces_fn(R_nc)
    np.testing.assert_allclose(atoms.positions[0], R_nc[0], atol=0)  # not shifted
    scaled_n = atoms.get_scaled_positions(wrap=False)
    assert scaled_n.min() >= -0.25 and scaled_n.max() < 1.25
    assert np.all((scaled_n[1] >= 0) & (scaled_n[1] < 1))  # atom 1 wrapped into the cell
    assert E == pytest.approx(E_ref, abs=1e-10)
    np.testing.assert_allclose(F_nc, F_ref, atol=1e-10)


def test_lennard_jones_cluster_without_cell():
    """Any ASE calculator works, also with no cell: an Ar13-like LJ cluster at
    ~20 K conserves E_tot to 1e-4 eV over 500 steps of 2 fs."""
    rng = np.random.default_rng(0)
    atoms = Atoms("Ar13", positions=rng.uniform(0, 6, (13, 3)))
    atoms.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=10.0)
    from ase.optimize import FIRE

    FIRE(atoms, logfile=None).run(fmax=0.01, steps=500)
    result = run_md(atoms, 2.0, 500, init_temperature_K=20.0, seed=1, progress=False)
    assert np.ptp(result.E_tot_t) < 1e-4
    assert np.ptp(result.E_kin_t) > 1e-3  # there is dynamics


def test_argument_errors():
    atoms = copper(2)
    with pytest.raises(ValueError, match="temperature_K"):
        run_md(atoms, 1.0, 1, temperature_K=300.0, progress=False)
    with pytest.raises(ValueError, match="temperature_K"):
        run_md(atoms, 1.0, 1, "bussi", progress=False)
    with pytest.raises(ValueError, match="integrator"):
        run_md(atoms, 1.0, 1, "nose-hoover", progress=False)
    atoms.set_momenta(np.zeros((len(atoms), 3)))
    with pytest.raises(ValueError, match="init_temperature_K"):
        run_md(atoms, 1.0, 1, "bussi", temperature_K=300.0, progress=False)
    with pytest.raises(ValueError, match=".traj"):
        run_md(atoms, 1.0, 1, trajectory="md.pdb", progress=False)


def test_memory_does_not_grow_with_steps(tmp_path):
    """A 300-step run writing every frame to disk leaves < 100 kB of live
    memory behind (after the result is dropped and garbage collected; seen:
    ~50 kB of ASE/numpy caches), where keeping the frames in memory would
    leave ~1.5 MB (measured by patching the writer)."""

    def run(n_steps):
        R0_nc, _ = harmonic_state(10, 1.0, 10.0)
        atoms = Atoms("Ar10", positions=R0_nc + 0.05)
        atoms.calc = Harmonic(R0_nc, 1.0)
        return run_md(
            atoms, 5.0, n_steps, trajectory=tmp_path / "m.extxyz", write_every=1, progress=False
        )

    run(5)  # imports and caches
    gc.collect()
    tracemalloc.start()
    try:
        result = run(300)
        assert result.n_steps == 300
        del result
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] < 100_000
    finally:
        tracemalloc.stop()


def test_langevin_friction_rate_free_particle():
    """Free particles (F = 0): <P(t) . P(0)> / <P(0) . P(0)> = exp(-gamma t), gamma in 1/fs.

    The O step multiplies P by exp(-gamma dt) and adds noise independent of P(0),
    so the correlation decays exactly as exp(-gamma t) on average. 4,000 particles,
    t = 50 fs, gamma = 0.02/fs: expected exp(-1) = 0.368; the statistical error of
    the ratio is about 0.01, the tolerance 0.04 (a friction 10x too small gives 0.905).
    """
    n, gamma, dt_fs, n_steps = 4000, 0.02, 1.0, 50
    rng = np.random.default_rng(5)
    m_n = np.full(n, 12.0)
    kT = units.kB * 300.0
    P0_nc = maxwell_boltzmann_momenta(m_n, 300.0, rng)
    zero = np.zeros((n, 3))
    state = MDState(np.zeros((n, 3)), P0_nc, m_n, zero, 0.0)

    def no_forces(R_nc):
        return 0.0, zero

    for _ in range(n_steps):
        state = langevin_step(state, dt_fs, no_forces, kT, gamma, rng)
    ratio = np.sum(state.P_nc * P0_nc) / np.sum(P0_nc * P0_nc)
    assert ratio == pytest.approx(np.exp(-gamma * n_steps * dt_fs), abs=0.04)


def test_records_grow_with_the_steps_run_not_with_n_steps():
    """n_steps = 10^9 must not allocate records for 10^9 steps up front."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = EMT()

    class Stop(Exception):
        pass

    def stop_after_three(step, state):
        if step == 3:
            raise Stop

    tracemalloc.start()
    try:
        with pytest.raises(Stop):
            run_md(atoms, 1.0, 10**9, callback=stop_after_three, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6  # bytes; 10^9 preallocated float64 records would be 24 GB


def test_extxyz_frames_are_whole_and_flushed(tmp_path):
    """Every frame is on disk, complete, as soon as it is written (no buffered tail)."""
    atoms = bulk("Cu", "fcc", a=3.6, cubic=True)
    atoms.calc = EMT()
    path = tmp_path / "md.extxyz"
    seen = []

    def count_frames_on_disk(step, state):
        if step % 2 == 0:
            seen.append(len(ase.io.read(path, index=":")))

    run_md(atoms, 1.0, 6, trajectory=path, write_every=2, callback=count_frames_on_disk,
           progress=False)  # fmt: skip
    assert seen == [1, 2, 3, 4]
