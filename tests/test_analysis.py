"""Tests of nnp_ref.analysis.observables (RDF, MSD, diffusion, block averages, the
energy-conservation study) and smoke tests of the MD plots."""

import ase.io
import numpy as np
import pytest
from ase import Atoms, units
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from matplotlib.figure import Figure

from nnp_ref.analysis.observables import (
    block_average,
    diffusion_coefficient,
    energy_conservation,
    msd,
    rdf,
    unwrap_positions,
)
from nnp_ref.analysis.plots import (
    plot_energies,
    plot_energy_conservation,
    plot_msd,
    plot_rdf,
    plot_temperature,
)
from nnp_ref.dynamics.md import maxwell_boltzmann_momenta, run_md, wrap_positions


class NoForces(Calculator):
    """E = 0, F = 0: an ideal gas."""

    implemented_properties = ["energy", "forces"]

    def calculate(self, atoms=None, properties=None, system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {"energy": 0.0, "forces": np.zeros((len(self.atoms), 3))}


def ideal_gas(n_atoms, cell, symbols="Ar", seed=0):
    """Uniformly random positions in a periodic cell."""
    rng = np.random.default_rng(seed)
    cell = np.asarray(cell, dtype=float)
    return Atoms(
        symbols * n_atoms if len(symbols) <= 2 else symbols,
        scaled_positions=rng.uniform(size=(n_atoms, 3)),
        cell=cell,
        pbc=True,
    )


# ------------------------------------------------------------------ RDF


def test_rdf_ideal_gas_is_one():
    """1000 random atoms in a 25 Å box: every bin from 1 to 8 Å within
    5 sigma of 1 - 1/N (sigma from the Poisson count of unordered pairs), and
    the mean over bins from 2 to 8 Å within 1%."""
    atoms = ideal_gas(1000, 25.0 * np.eye(3))
    result = rdf(atoms, r_max=8.0, n_bins=40)
    expected_pairs_b = 0.5 * 1000 * (1000 / 25.0**3) * 4 / 3 * np.pi * np.diff(result.edges_b1**3)
    z_b = (result.g_b - (1 - 1 / 1000)) * np.sqrt(expected_pairs_b)
    assert np.abs(z_b[result.r_b > 1.0]).max() < 5.0
    assert np.mean(result.g_b[result.r_b > 2.0]) == pytest.approx(1.0, abs=0.01)
    np.testing.assert_array_equal(result.g_pairs["Ar", "Ar"], result.g_b)


def test_rdf_skewed_cell_beyond_half_cell():
    """Ideal gas (60 atoms) in a 60-degree triclinic cell (perpendicular
    widths 8.2 Å) with r_max = 7 Å, more than half a width, where a
    minimum-image RDF would be wrong: the mean of g over 3-7 Å is 1 - 1/60
    within 1.5% (10 frames; statistical error ~0.5%)."""
    cell = 10.0 * np.array(
        [[1, 0, 0], [0.5, np.sqrt(3) / 2, 0], [0.5, np.sqrt(3) / 6, np.sqrt(6) / 3]]
    )
    frames = [ideal_gas(60, cell, seed=seed) for seed in range(10)]
    result = rdf(frames, r_max=7.0, n_bins=35)
    assert np.mean(result.g_b[result.r_b > 3.0]) == pytest.approx(1.0 - 1.0 / 60, abs=0.015)


def test_rdf_fcc_copper_peaks():
    """fcc Cu (a = 3.61 Å): the highest bin contains a / sqrt(2) = 2.553 Å,
    g is 0 below it, and the primitive cell (1 atom, r_max beyond the cell)
    gives the same g as a 108-atom supercell to 1e-10."""
    a = 3.61
    supercell = bulk("Cu", "fcc", a=a, cubic=True).repeat(3)
    primitive = bulk("Cu", "fcc", a=a)
    g_super = rdf(supercell, r_max=6.0, n_bins=120)
    g_prim = rdf(primitive, r_max=6.0, n_bins=120)
    r_nn = a / np.sqrt(2)
    peak = np.argmax(g_super.g_b)
    assert g_super.edges_b1[peak] <= r_nn < g_super.edges_b1[peak + 1]
    assert np.all(g_super.g_b[g_super.r_b < r_nn - 0.1] == 0.0)
    np.testing.assert_allclose(g_prim.g_b, g_super.g_b, rtol=0, atol=1e-10)


def test_rdf_per_pair_rocksalt():
    """Rattled NaCl (a = 5.64 Å): first Na-Cl peak at a/2, first Na-Na and
    Cl-Cl peaks at a/sqrt(2) (within one 0.05 Å bin), and the total g equals
    sum_AB x_A x_B g_AB over ordered pairs to 1e-12."""
    a = 5.64
    atoms = bulk("NaCl", "rocksalt", a=a, cubic=True).repeat(3)
    atoms.rattle(0.02, seed=1)
    result = rdf(atoms, r_max=5.0, n_bins=100)
    dr = result.r_b[1] - result.r_b[0]
    assert set(result.g_pairs) == {("Na", "Na"), ("Na", "Cl"), ("Cl", "Cl")}
    for pair, r_peak in [(("Na", "Cl"), a / 2), (("Na", "Na"), a / np.sqrt(2))]:
        g_b = result.g_pairs[pair]
        first = np.argmax(g_b > 0)
        assert abs(result.r_b[first + np.argmax(g_b[first : first + 10])] - r_peak) <= dr
    g = result.g_pairs
    x = 0.5
    total_b = x * x * (g["Na", "Na"] + g["Cl", "Cl"]) + 2 * x * x * g["Na", "Cl"]
    np.testing.assert_allclose(result.g_b, total_b, rtol=0, atol=1e-12)


def test_rdf_needs_periodic_cell():
    with pytest.raises(ValueError, match="periodic"):
        rdf(Atoms("Ar2", positions=[[0, 0, 0], [3, 0, 0]]), r_max=5.0)


# ------------------------------------------------------------ MSD, diffusion


def test_msd_ballistic_is_exact():
    """R(t) = R0 + V t gives MSD(lag) = <|V|^2> lag^2 exactly (1e-10)."""
    rng = np.random.default_rng(0)
    V_nc = rng.standard_normal((50, 3))
    t_t = np.arange(30.0)
    R_tnc = rng.standard_normal((50, 3)) + t_t[:, None, None] * V_nc
    expected_t = np.mean(np.sum(V_nc**2, axis=1)) * t_t[:11] ** 2
    np.testing.assert_allclose(msd(R_tnc, max_lag=10), expected_t, rtol=1e-12, atol=1e-10)
    mask_n = np.arange(50) < 10
    expected_t = np.mean(np.sum(V_nc[mask_n] ** 2, axis=1)) * t_t**2
    np.testing.assert_allclose(msd(R_tnc, mask_n=mask_n), expected_t, rtol=1e-12, atol=1e-10)


def test_unwrap_undoes_wrapping_in_skewed_cell():
    """A random walk (steps 0.3 Å) wrapped into a triclinic cell, partly
    periodic, is recovered by unwrap_positions to 1e-10 Å."""
    rng = np.random.default_rng(1)
    cell_cc = np.array([[6.0, 0, 0], [2.0, 5.0, 0], [1.0, 1.0, 7.0]])
    pbc_c = np.array([True, True, False])
    R_tnc = np.cumsum(0.3 * rng.standard_normal((400, 20, 3)), axis=0)
    wrapped_tnc = np.array([wrap_positions(R_nc, cell_cc, pbc_c) for R_nc in R_tnc])
    assert np.abs(wrapped_tnc - R_tnc).max() > 5.0  # wrapping did something
    unwrapped_tnc = unwrap_positions(wrapped_tnc, cell_cc, pbc_c)
    np.testing.assert_allclose(unwrapped_tnc - unwrapped_tnc[0], R_tnc - R_tnc[0], atol=1e-10)


def test_langevin_free_particles_diffusion(tmp_path):
    """Ideal gas with Langevin friction gamma: D = kT / (m gamma) (Einstein),
    measured through the trajectory file, unwrapping and the MSD fit over
    100-300 fs (>> 1/gamma = 20 fs), within 5% (statistical error ~1.5%)."""
    temperature_K, friction = 300.0, 0.05  # K, 1/fs
    atoms = ideal_gas(500, 20.0 * np.eye(3), symbols="H")
    atoms.calc = NoForces()
    path = tmp_path / "gas.traj"
    run_md(
        atoms,
        1.0,
        2000,
        "langevin",
        temperature_K=temperature_K,
        friction=friction,
        init_temperature_K=temperature_K,
        seed=2,
        trajectory=path,
        write_every=5,
        progress=False,
    )
    frames = ase.io.read(path, ":")
    R_tnc = unwrap_positions(np.array([f.positions for f in frames]), atoms.cell.array, atoms.pbc)
    msd_t = msd(R_tnc, max_lag=60)
    t_fs = 5.0 * np.arange(len(msd_t))
    D, _ = diffusion_coefficient(t_fs, msd_t, fit_from_fs=100.0, fit_to_fs=300.0)
    D_exact = units.kB * temperature_K * units.fs**2 / (atoms.get_masses()[0] * friction)  # Å^2/fs
    assert D == pytest.approx(D_exact, rel=0.05)


# ------------------------------------------------------------- time series


def test_block_average_white_noise():
    """Uncorrelated N(3, 1) samples: mean within 4 sem of 3, sem = 1/sqrt(N)
    within 40% (20 blocks: the sem itself is uncertain by ~16%)."""
    x_t = 3.0 + np.random.default_rng(0).standard_normal(10_000)
    mean, sem = block_average(x_t, n_blocks=20)
    assert abs(mean - 3.0) < 4 * sem
    assert sem == pytest.approx(0.01, rel=0.4)


# ------------------------------------------------------ energy conservation


@pytest.fixture(scope="module")
def copper_study():
    """NVE of 32 EMT Cu atoms at ~300 K for 500 fs at dt = 1, 2, 4, 8 fs."""
    atoms = bulk("Cu", cubic=True).repeat(2)
    atoms.rattle(0.05, seed=3)
    atoms.calc = EMT()
    return energy_conservation(atoms, [8.0, 1.0, 4.0, 2.0], 500.0, init_temperature_K=600.0)


def test_energy_conservation_dt_squared(copper_study):
    """Log-log slope of the E_tot fluctuation vs dt is 2 +- 0.15 (measured
    2.005); drift below 0.05 meV/atom/ps up to 4 fs (measured < 0.004)."""
    study = copper_study
    np.testing.assert_array_equal(study.dt_fs, [1.0, 2.0, 4.0, 8.0])
    assert study.exponent == pytest.approx(2.0, abs=0.15)
    assert np.all(np.diff(study.rms_meV_atom) > 0)
    assert np.all(np.abs(study.drift_meV_atom_ps[:3]) < 0.05)
    assert [len(t) for t in study.t_fs] == [501, 251, 126, 63]
    assert all(dE[0] == 0.0 for dE in study.dE_meV_atom)


# ----------------------------------------------------------------- plots


def test_plots_return_figures_and_save(tmp_path, copper_study):
    """Every plot function returns a Figure and writes a PNG to ``path``."""
    atoms = bulk("Cu", cubic=True).repeat(2)
    atoms.calc = EMT()
    atoms.set_momenta(maxwell_boltzmann_momenta(atoms.get_masses(), 300.0, 0))
    result = run_md(atoms, 5.0, 20, "bussi", temperature_K=300.0, tau_fs=20.0, progress=False)
    g = rdf(bulk("NaCl", "rocksalt", a=5.64, cubic=True), 6.0)
    t_fs = np.arange(10.0)
    figures = {
        "conservation": lambda path: plot_energy_conservation(copper_study, path=path),
        "energies": lambda path: plot_energies(result, path=path),
        "temperature": lambda path: plot_temperature(result, target_K=300.0, path=path),
        "rdf": lambda path: plot_rdf(g, path=path),
        "msd": lambda path: plot_msd(t_fs, 0.6 * t_fs + 1, fit=(0.1, 1.0), path=path),
    }
    for name, plot in figures.items():
        path = tmp_path / f"{name}.png"
        assert isinstance(plot(path), Figure)
        assert path.stat().st_size > 1000
