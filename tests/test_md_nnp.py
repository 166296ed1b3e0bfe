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
