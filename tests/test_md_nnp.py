"""MD with a neural network potential: NVE energy conservation with the
published RPBE-D3 water HDNNP (read in place from ../shared/n2p2)."""

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from nnp_ref import NNPCalculator
from nnp_ref.analysis.observables import energy_conservation
from nnp_ref.dynamics.md import run_md
from nnp_ref.io.n2p2 import read_data, read_potential

WATER = dict(length_unit=Bohr, energy_unit=Hartree)


@pytest.fixture(scope="module")
def water48(n2p2_dir_module):
    potential = read_potential(n2p2_dir_module / "H2O_RPBE-D3", **WATER)
    structures = read_data(n2p2_dir_module / "H2O_RPBE-D3_dataset" / "input.data", **WATER)
    atoms = next(a for a in structures if len(a) == 48)
    atoms.calc = NNPCalculator(potential)
    return atoms


def test_water_nve_drift_and_momentum(water48):
    """16 water molecules, 0.25 fs (O-H vibrations: ~9 fs period), 300 steps.

    Bound: drift below 0.5 meV/atom/ps, E_tot fluctuation below 0.5 meV/atom.
    """
    atoms = water48.copy()
    atoms.calc = water48.calc
    result = run_md(atoms, 0.25, 300, init_temperature_K=300.0, seed=1, progress=False)
    n = len(atoms)
    slope = np.polyfit(result.t_fs / 1000.0, result.E_tot_t / n, 1)[0]  # eV/atom/ps
    assert abs(slope) * 1000.0 < 0.5
    assert np.std(result.E_tot_t) / n * 1000.0 < 0.5
    assert np.ptp(result.E_pot_t) / n > 1e-3  # the system really moved
    momentum = result.state.P_nc.sum(axis=0)
    np.testing.assert_allclose(momentum, 0.0, atol=1e-9)


def test_water_fluctuation_scales_as_dt_squared(water48):
    atoms = water48.copy()
    atoms.calc = water48.calc
    study = energy_conservation(
        atoms, [0.125, 0.25, 0.5], duration_fs=40.0, init_temperature_K=300.0
    )
    assert np.all(study.rms_meV_atom > 0)
    assert 1.7 < study.exponent < 2.3


def water_cluster(atoms, n_molecules):
    """The n molecules nearest to the first O of a periodic water box, as a finite cluster."""
    from nnp_ref.data.clusters import cluster_from_box

    return cluster_from_box(atoms, n_molecules)


def test_skin_list_trajectory_identical_to_fresh_list(water48):
    """1,000 Verlet steps of a 12-atom water cluster with the direct array force path:
    the neighbour list reused with a 1 Å skin gives the same trajectory, bit for bit,
    as a list rebuilt at every step; and the forces agree with the ASE calculator."""
    from nnp_ref.dynamics.md import MDState, PotentialForces, maxwell_boltzmann_momenta, verlet_step

    potential = water48.calc.potential
    cluster = water_cluster(water48, 4)
    m_n = cluster.get_masses()
    P0_nc = maxwell_boltzmann_momenta(m_n, 400.0, 3)

    def trajectory(forces_fn):
        E, F = forces_fn(cluster.positions)
        state = MDState(cluster.positions.copy(), P0_nc, m_n, F, E)
        for _ in range(1000):
            state = verlet_step(state, 0.5, forces_fn)
        return state

    skin = PotentialForces(potential, cluster, skin=1.0)
    fresh = PotentialForces(potential, cluster, skin=1.0, always_rebuild=True)
    a, b = trajectory(skin), trajectory(fresh)
    assert 2 <= skin.neighbours.n_builds < 200  # really reused, and really rebuilt
    assert fresh.neighbours.n_builds == 1001
    assert np.array_equal(a.R_nc, b.R_nc) and np.array_equal(a.P_nc, b.P_nc)
    assert a.E_pot == b.E_pot
    moved = cluster.copy()
    moved.positions = a.R_nc
    moved.calc = NNPCalculator(potential, extrapolation="off")
    F_ref = moved.get_forces()
    np.testing.assert_allclose(a.F_nc, F_ref, rtol=0, atol=1e-12 * np.abs(F_ref).max())


def test_run_md_uses_the_direct_path_and_reports_extrapolation(water48):
    """run_md with an NNPCalculator: no Atoms round trip, the skin list is reused, and the
    extrapolation count is exposed (``md -q`` prints it) and warned once at the end."""
    import warnings

    from nnp_ref.model.potential import ExtrapolationWarning

    cluster = water_cluster(water48, 2)  # a dimer: gas phase, outside the liquid's range
    cluster.calc = NNPCalculator(water48.calc.potential)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_md(cluster, 0.5, 20, init_temperature_K=300.0, seed=2, progress=False)
    assert result.n_neighbour_builds >= 1 and result.n_neighbour_builds < 21
    assert result.n_extrapolations > 0
    assert [w.category for w in caught] == [ExtrapolationWarning]
    assert f"{result.n_extrapolations} symmetry-function value(s)" in str(caught[0].message)
