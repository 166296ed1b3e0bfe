"""nnp_ref reproduces n2p2's predictions, read in place from ../shared/n2p2.

See ../shared/n2p2/README.md for what each file holds. The water potential
works in Bohr and Hartree; everything is converted to Å/eV on reading and
back to n2p2's units for the comparison.
"""

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from nnp_ref.checks import position_derivative
from nnp_ref.io.n2p2 import read_data, read_potential, write_potential
from nnp_ref.model.potential import ExtrapolationWarning, evaluate_atoms

WATER = dict(length_unit=Bohr, energy_unit=Hartree)
HA_PER_BOHR = Hartree / Bohr


def read_columns(path):
    return np.loadtxt(path, comments="#", ndmin=2)


@pytest.fixture(scope="module")
def water_box(request):
    """(atoms, potential, result) for the 1080-atom box, or skip."""
    n2p2_dir = request.getfixturevalue("n2p2_dir_module")
    folder = n2p2_dir / "H2O_RPBE-D3"
    atoms = read_data(folder / "input.data", **WATER)[0]
    potential = read_potential(folder, **WATER)
    return folder, atoms, potential, evaluate_atoms(potential, atoms)


def test_water_box_energy_and_forces(water_box):
    folder, atoms, potential, result = water_box
    E_n2p2 = -2.7564547347815904e04  # energy.out, Ha
    assert result.energy / Hartree == pytest.approx(E_n2p2, rel=1e-10, abs=0)
    forces = read_columns(folder / "nnforces.out")
    F_n2p2 = forces[:, 5:8]  # Ha/Bohr
    assert F_n2p2.shape == (len(atoms), 3)
    np.testing.assert_allclose(result.forces_nc / HA_PER_BOHR, F_n2p2, rtol=0, atol=1e-8)


def test_water_box_atomic_energies(water_box):
    folder, atoms, potential, result = water_box
    mean_energy = -2.5521343547039809e01  # input.nn, Ha per atom
    E_atoms = read_columns(folder / "nnatoms.out")[:, 6]  # without mean_energy
    np.testing.assert_allclose(
        result.energies_n / Hartree - mean_energy, E_atoms, rtol=1e-10, atol=1e-14
    )


def test_water_box_raw_symmetry_functions(water_box):
    """function.data: raw G of every atom in n2p2's sorted order (%14.10f)."""
    folder, atoms, potential, result = water_box
    lines = (folder / "function.data").read_text().split("\n")
    n = int(lines[0])
    rows = [[float(x) for x in line.split()] for line in lines[1 : n + 1]]
    G = result.descriptors.G_ns
    for i, row in enumerate(rows):
        assert int(row[0]) == atoms.numbers[i]
        np.testing.assert_allclose(G[i, : len(row) - 1], row[1:], rtol=0, atol=1e-9)


def test_water_box_scaled_functions_and_self_derivatives(water_box):
    """atomic-env.G (scaled G) and atomic-env.dGd{x,y,z} (self derivatives, 1/Bohr)."""
    folder, atoms, potential, result = water_box
    desc = result.descriptors
    G_scaled = np.zeros_like(desc.G_ns)
    dGself_scaled = np.zeros_like(desc.dGself_nsc)
    for e, symbol in enumerate(potential.elements):
        idx = desc.elem_n == e
        n_s = desc.n_s_e[e]
        a_s, b_s = potential.scalings[symbol].factor_and_offset()
        G_scaled[idx, :n_s] = desc.G_ns[idx, :n_s] * a_s + b_s
        dGself_scaled[idx, :n_s] = desc.dGself_nsc[idx, :n_s] * a_s[:, None] * Bohr
    files = [("atomic-env.G", G_scaled)] + [
        (f"atomic-env.dGd{c}", dGself_scaled[:, :, k]) for k, c in enumerate("xyz")
    ]
    for name, ours in files:
        rows = [line.split() for line in (folder / name).read_text().splitlines() if line.strip()]
        assert len(rows) == len(atoms)
        for i, row in enumerate(rows):
            assert row[0] == atoms.get_chemical_symbols()[i]
            values = np.array([float(x) for x in row[1:]])
            # 9 significant digits printed: compare to that precision
            np.testing.assert_allclose(
                ours[i, : len(values)], values, rtol=2e-8, atol=1e-12, err_msg=f"{name} atom {i}"
            )


@pytest.fixture(scope="module")
def water_dataset(request):
    n2p2_dir = request.getfixturevalue("n2p2_dir_module")
    folder = n2p2_dir / "H2O_RPBE-D3_dataset"
    potential = read_potential(n2p2_dir / "H2O_RPBE-D3", **WATER)
    reference = read_data(folder / "input.data", **WATER)
    n2p2_out = read_data(folder / "output.data", **WATER)
    results = [evaluate_atoms(potential, atoms, stress=False) for atoms in reference]
    return reference, n2p2_out, results


def test_water_dataset_matches_n2p2_output(water_dataset):
    reference, n2p2_out, results = water_dataset
    assert len(results) == 20
    for atoms, result in zip(n2p2_out, results):
        E_n2p2 = atoms.get_potential_energy()
        assert result.energy == pytest.approx(E_n2p2, rel=1e-10)
        np.testing.assert_allclose(
            result.forces_nc / HA_PER_BOHR, atoms.get_forces() / HA_PER_BOHR, rtol=0, atol=1e-8
        )


def test_water_dataset_rmse_as_n2p2_reports(water_dataset):
    reference, n2p2_out, results = water_dataset
    dE = [(r.energy - a.get_potential_energy()) / len(a) for a, r in zip(reference, results)]
    dF = np.concatenate(
        [(r.forces_nc - a.get_forces()).ravel() for a, r in zip(reference, results)]
    )
    rmse_E = np.sqrt(np.mean(np.square(dE))) / Hartree
    rmse_F = np.sqrt(np.mean(np.square(dF))) / HA_PER_BOHR
    assert rmse_E == pytest.approx(2.87e-5, rel=5e-3)  # n2p2: 2.87e-5 Ha/atom
    assert rmse_F == pytest.approx(7.42e-4, rel=5e-3)  # n2p2: 7.42e-4 Ha/Bohr


def numerical_force_check(potential, atoms, atoms_to_check, h=1e-5):
    """Largest |F_analytic - F_numeric| over some atoms' components (eV/Å).

    Extrapolation checks are off: displaced atoms may step ~1e-7 of a range width
    outside the training range (Ethylbenzene), which says nothing about the forces.
    """
    F = evaluate_atoms(potential, atoms, stress=False, extrapolation="off").forces_nc
    energy = lambda a: (
        evaluate_atoms(potential, a, forces=False, stress=False, extrapolation="off").energy
    )
    F_numeric = -position_derivative(energy, atoms, h=h, atom_indices=atoms_to_check)
    return F, np.abs(F[atoms_to_check] - F_numeric).max()


@pytest.mark.parametrize(
    "name,n_atoms",
    [("Cu2S_PBE", 144), ("Ethylbenzene_SCAN", 288)],
)
def test_other_potentials_load_and_are_force_consistent(n2p2_dir, name, n_atoms):
    folder = n2p2_dir / name
    potential = read_potential(folder)  # Å and eV
    atoms = read_data(folder / "input.data", require_energy=False)[0]
    assert len(atoms) == n_atoms
    result = evaluate_atoms(potential, atoms, extrapolation="off")
    assert np.isfinite(result.energy) and np.all(np.isfinite(result.forces_nc))
    assert np.abs(result.forces_nc).max() > 1e-3
    np.testing.assert_allclose(result.forces_nc.sum(axis=0), 0.0, atol=1e-8)
    F, worst = numerical_force_check(potential, atoms, atoms_to_check=[0, n_atoms // 2])
    assert worst < 1e-6 * max(1.0, np.abs(F).max())


def test_cu2s_dataset_energies_near_dft(n2p2_dir):
    """The Cu2S potential on its DFT data set: errors of a few meV/atom, not eV."""
    potential = read_potential(n2p2_dir / "Cu2S_PBE")
    structures = read_data(n2p2_dir / "Cu2S_PBE_dataset" / "input.data")[:5]
    errors = [
        (evaluate_atoms(potential, a, stress=False).energy - a.get_potential_energy()) / len(a)
        for a in structures
    ]
    assert np.sqrt(np.mean(np.square(errors))) < 0.02  # eV/atom


@pytest.mark.parametrize("name", ["H2O_RPBE-D3", "Cu2S_PBE", "Ethylbenzene_SCAN"])
def test_round_trip_read_write_read(n2p2_dir, tmp_path, name):
    units = WATER if name.startswith("H2O") else {}
    folder = n2p2_dir / name
    potential = read_potential(folder, **units)
    write_potential(potential, tmp_path, **units)
    again = read_potential(tmp_path, **units)
    atoms = read_data(folder / "input.data", require_energy=False, **units)[0]
    first = evaluate_atoms(potential, atoms, stress=False)
    second = evaluate_atoms(again, atoms, stress=False)
    assert second.energy == pytest.approx(first.energy, rel=1e-13)
    np.testing.assert_allclose(second.forces_nc, first.forces_nc, rtol=0, atol=1e-11)
    for e in potential.elements:
        assert [sf.type for sf in again.symmetry_functions[e]] == [
            sf.type for sf in potential.symmetry_functions[e]
        ]


def test_extrapolation_warnings_on_compressed_water(water_box):
    folder, atoms, potential, result = water_box
    assert result.extrapolations == []  # n2p2 reports none for this box
    squeezed = atoms.copy()
    squeezed.set_cell(atoms.cell * 0.85, scale_atoms=True)
    with pytest.warns(ExtrapolationWarning, match="outside the training range"):
        squeezed_result = evaluate_atoms(potential, squeezed, stress=False)
    assert len(squeezed_result.extrapolations) > 0
    atom, s, G, lo, hi = squeezed_result.extrapolations[0]
    assert G > hi or G < lo
