"""PySCF labeller: forces are minus the gradient of the energy, in eV/Å (central differences)."""

import numpy as np
import pytest
from ase import Atoms, units
from ase.build import molecule

pytest.importorskip("pyscf")

from nnp_ref.data.pyscf_labeller import (  # noqa: E402
    PySCFLabeller,
    check_charge_spin,
    parse_method,
)

H = 1e-3  # Å, central-difference step
FD_TOL = 2e-4  # eV/Å: O(h^2) truncation ~1e-5 plus SCF noise (conv_tol 1e-11 Ha)


def water_dimer() -> Atoms:
    """A slightly asymmetric water dimer (donor O-H...O acceptor, O-O 2.9 Å)."""
    a = molecule("H2O")
    b = molecule("H2O")
    b.rotate(70, "x")
    b.positions += [0.1, 0.3, 2.9]
    return a + b


def central_difference_forces(labeller, atoms, coords):
    """F_ic ~ -(E(R + h e_ic) - E(R - h e_ic)) / 2h for the (i, c) pairs in ``coords``."""
    out = []
    for i, c in coords:
        energies = []
        for sign in (1, -1):
            moved = atoms.copy()
            moved.positions[i, c] += sign * H
            mf = labeller._scf(moved)
            energies.append(mf.kernel() * units.Hartree)
        out.append(-(energies[0] - energies[1]) / (2 * H))
    return np.array(out)


@pytest.mark.parametrize(
    "atoms, coords",
    [
        (molecule("H2O"), [(0, 2), (1, 1), (2, 0), (2, 2)]),
        (water_dimer(), [(0, 2), (4, 0), (5, 1)]),
    ],
    ids=["water", "dimer"],
)
def test_forces_match_central_differences(atoms, coords):
    atoms.positions += np.random.default_rng(1).normal(0, 0.02, atoms.positions.shape)
    labeller = PySCFLabeller("hf/sto-3g", conv_tol=1e-11)
    label = labeller(atoms)
    analytic = np.array([label.forces_nc[i, c] for i, c in coords])
    numeric = central_difference_forces(labeller, atoms, coords)
    np.testing.assert_allclose(analytic, numeric, atol=FD_TOL, rtol=0)
    # the forces are of real size (eV/Å), so the comparison is not trivially 0 = 0
    assert np.abs(analytic).max() > 0.1
    # Newton's third law: no net force on an isolated molecule
    np.testing.assert_allclose(label.forces_nc.sum(axis=0), 0.0, atol=1e-6)


def test_dft_forces_match_central_differences():
    """PBE with density fitting: the same check on one coordinate (RKS path)."""
    atoms = molecule("H2O")
    atoms.positions[1] += [0.03, -0.02, 0.05]
    labeller = PySCFLabeller("pbe/sto-3g", conv_tol=1e-11, density_fit=True, grid_level=3)
    label = labeller(atoms)
    coords = [(1, 2)]
    numeric = central_difference_forces(labeller, atoms, coords)
    # DFT grids break exact translational consistency: a looser, explicit tolerance
    np.testing.assert_allclose([label.forces_nc[i, c] for i, c in coords], numeric, atol=2e-3)
    assert abs(label.forces_nc[1, 2]) > 0.1
    assert "RKS" in label.provenance["scf_type"]


def test_energy_unit_is_hartree_times_ase_constant():
    atoms = molecule("H2O")
    labeller = PySCFLabeller("hf/sto-3g", conv_tol=1e-11)
    e_hartree = labeller._scf(atoms).kernel()
    assert labeller(atoms).energy == pytest.approx(e_hartree * units.Hartree, rel=1e-12)
    assert units.Hartree == pytest.approx(27.2114, abs=1e-4)  # eV per Hartree
    assert units.Bohr == pytest.approx(0.529177, abs=1e-6)  # Å per Bohr


def test_provenance_records_method_code_and_convergence():
    label = PySCFLabeller("hf/sto-3g")(molecule("H2"))
    prov = label.provenance
    assert prov["method"] == "hf/sto-3g" and prov["code"] == "pyscf"
    assert prov["converged"] is True and prov["scf_cycles"] > 0 and prov["wall_time_s"] > 0
    assert prov["code_version"]


def test_open_shell_runs_unrestricted():
    oh = Atoms("OH", positions=[[0, 0, 0], [0, 0, 0.97]])
    label = PySCFLabeller("hf/sto-3g", spin=1)(oh)
    assert label.provenance["scf_type"] == "UHF"
    assert np.all(np.isfinite(label.forces_nc))


def test_parse_method_and_charge_spin_rules():
    assert parse_method(" PBE/def2-SVP ") == ("pbe", "def2-svp")
    with pytest.raises(ValueError, match="functional/basis"):
        parse_method("pbe")
    assert check_charge_spin(10, 0) is None
    assert "parity" in check_charge_spin(10, 1)
    assert "exceeds" in check_charge_spin(2, 4)
    assert check_charge_spin(-1, 0) is not None


def test_periodic_gamma_point_forces_match_central_differences():
    """pyscf.pbc path (GTH pseudopotential, multigrid): H2 in a 4 Å box, one coordinate."""
    h2 = Atoms("H2", positions=[[1, 1, 1], [1, 1, 1.78]], cell=[4, 4, 4], pbc=True)
    labeller = PySCFLabeller("pbe/gth-szv", pbc_ke_cutoff=100.0, conv_tol=1e-10)
    labeller.check(h2, "structure 0 (H2)")
    label = labeller(h2)
    energies = []
    for sign in (1, -1):
        moved = h2.copy()
        moved.positions[1, 2] += sign * H
        energies.append(labeller(moved).energy)
    numeric = -(energies[0] - energies[1]) / (2 * H)
    assert label.forces_nc[1, 2] == pytest.approx(numeric, abs=5e-4)  # eV/Å
    assert abs(label.forces_nc[1, 2]) > 1.0  # a real force, not 0 = 0 (minimal basis)
    np.testing.assert_allclose(label.forces_nc.sum(axis=0), 0.0, atol=1e-2)


def test_dispersion_enters_energy_and_forces():
    """D3(BJ) through pyscf.dispersion: attractive, and its gradient is in the forces."""
    pytest.importorskip("pyscf.dispersion")
    dimer = water_dimer()
    plain = PySCFLabeller("hf/sto-3g", conv_tol=1e-11)
    d3 = PySCFLabeller("hf/sto-3g", conv_tol=1e-11, dispersion="d3bj")
    assert d3.identity != plain.identity
    label = d3(dimer)
    e_disp = label.energy - plain(dimer).energy
    # eV: attractive, a few tenths of an eV (D3 sums intra- and intermolecular pairs)
    assert -1.0 < e_disp < -0.01
    (numeric,) = central_difference_forces(d3, dimer, [(3, 2)])
    assert label.forces_nc[3, 2] == pytest.approx(numeric, abs=FD_TOL)
