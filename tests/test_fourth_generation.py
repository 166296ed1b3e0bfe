"""The 4G-HDNNP against n2p2 (read in place from ../shared/n2p2) and central differences.

Reference outputs (README there): energy.out, nnforces.out, nnatoms.out
(column 5 Qnnp = the equilibrated charges), nnp-predict.log (electrostatic
energy, Ewald parameters); Bohr, Hartree, four_pi_epsilon 1.

Carbon_chain_4G: its weights.ZZZ.data hold 381/501 values while input.nn
asks for 15-15 hidden layers (646/826); n2p2 reads past the end of the
vector (its atomic energies are ~1e-75, E - E_offset = E_elec to 1e-13 Ha).
nnp_ref refuses the files; the electrostatic part is compared with zero
short-range networks, which is what n2p2 evaluated.
"""

import dataclasses
import shutil

import numpy as np
import pytest
from ase import Atoms
from ase.units import Bohr, Hartree

from nnp_ref.checks import compare, position_derivative
from nnp_ref.io.n2p2 import N2p2FormatError, read_data
from nnp_ref.io.n2p2.fourth_generation import read_potential_4g, write_potential_4g
from nnp_ref.model.fourth_generation import evaluate, evaluate_atoms
from nnp_ref.model.network import from_flat, layer_sizes, n_parameters

UNITS = dict(length_unit=Bohr, energy_unit=Hartree)
HA_PER_BOHR = Hartree / Bohr


def columns(path):
    return np.loadtxt(path, comments="#", ndmin=2)


@pytest.fixture(scope="module")
def chain(n2p2_dir_module):
    folder = n2p2_dir_module / "Carbon_chain_4G"
    pot = read_potential_4g(folder, zero_short_range=True, **UNITS)
    atoms = read_data(folder / "input.data", **UNITS)[0]
    return folder, pot, atoms, evaluate_atoms(pot, atoms)


@pytest.fixture(scope="module")
def water(n2p2_dir_module):
    folder = n2p2_dir_module / "H2O_RPBE-D3_4G"
    pot = read_potential_4g(folder, **UNITS)
    atoms = read_data(folder / "input.data", **UNITS)[0]
    return folder, pot, atoms, evaluate_atoms(pot, atoms)


def test_carbon_chain_charges_energy_forces(chain):
    folder, pot, atoms, r = chain
    n = len(atoms)
    np.testing.assert_allclose(
        r.charges_n, columns(folder / "nnatoms.out")[:, 4], rtol=0, atol=1e-9
    )
    E_n2p2 = -3.7839894957896792e02  # energy.out, Ha
    assert abs(r.energy / Hartree - E_n2p2) / n < 1e-9
    assert r.energy_elec / Hartree == pytest.approx(-1.56542350e-05, abs=1e-13)  # log, 9 digits
    F_n2p2 = columns(folder / "nnforces.out")[:, 5:8]
    np.testing.assert_allclose(r.forces_nc / HA_PER_BOHR, F_n2p2, rtol=0, atol=1e-8)
    assert abs(r.charges_n.sum()) < 1e-14


def test_carbon_chain_short_range_weights_do_not_match_topology(n2p2_dir):
    with pytest.raises(
        N2p2FormatError, match=r"weights\.001\.data.*expected 646 weights, found 381"
    ):
        read_potential_4g(n2p2_dir / "Carbon_chain_4G", **UNITS)


def test_water_box_charges_energy_forces(water):
    folder, pot, atoms, r = water
    n = len(atoms)
    ref = columns(folder / "nnatoms.out")
    np.testing.assert_allclose(r.charges_n, ref[:, 4], rtol=0, atol=1e-9)
    E_n2p2 = -9.8016327503841858e03  # energy.out, Ha
    assert abs(r.energy / Hartree - E_n2p2) / n < 1e-9
    assert r.energy_elec / Hartree == pytest.approx(-2.45791959e-02, abs=1e-10)
    offsets = np.array([pot.energy_offsets[s] for s in atoms.get_chemical_symbols()])
    np.testing.assert_allclose((r.energies_n - offsets) / Hartree, ref[:, 6], rtol=0, atol=1e-10)
    F_n2p2 = columns(folder / "nnforces.out")[:, 5:8]
    np.testing.assert_allclose(r.forces_nc / HA_PER_BOHR, F_n2p2, rtol=0, atol=1e-8)
    p = r.geometry.ewald_params  # nnp-predict.log, 9 digits
    assert p.r_cut / Bohr == pytest.approx(3.56826886e01, rel=1e-8)
    assert p.k_cut * Bohr == pytest.approx(3.68974416e-01, rel=1e-8)
    assert p.eta / Bohr == pytest.approx(9.83401028e00, rel=1e-8)


def randomized_short_range(pot, seed=0, scale=0.3):
    """The same potential with random short-range weights (to exercise dE_short/dQ)."""
    rng = np.random.default_rng(seed)
    for e, net in pot.short_networks.items():
        sizes = layer_sizes(net)
        flat = rng.normal(0.0, scale, n_parameters(sizes))
        pot.short_networks[e] = from_flat(sizes, flat, net.activations, net.normalize)
    return pot


@pytest.mark.parametrize("total_charge", [0.0, 1.0], ids=["neutral", "charged"])
def test_finite_forces_match_central_differences(n2p2_dir, total_charge):
    folder = n2p2_dir / "Carbon_chain_4G"
    pot = randomized_short_range(read_potential_4g(folder, zero_short_range=True, **UNITS))
    atoms = read_data(folder / "input.data", **UNITS)[0]
    atoms.info["charge"] = total_charge
    r = evaluate_atoms(pot, atoms)
    assert abs(r.charges_n.sum() - total_charge) < 1e-14
    assert np.abs(r.dEdQ_n).max() > 0.1  # the short-range networks feel the charges
    numeric = position_derivative(
        lambda a: evaluate_atoms(pot, a, forces=False).energy, atoms, h=2e-5
    )
    assert compare("F finite", r.forces_nc, -numeric) < 1e-6


def tight_ewald(pot, factor=1e-9):
    """The potential with ewald_prec x ``factor`` (a smooth energy for central differences)."""
    ewald = dataclasses.replace(pot.ewald, precision=pot.ewald.precision * factor)
    return dataclasses.replace(pot, ewald=ewald)


def small_water_box(big: Atoms) -> Atoms:
    """Four molecules of the 384-atom box in a periodic cell of 0.45 times its size."""
    cell = np.diag(big.cell.array)
    pos = big.positions[:12].copy()
    for k in range(0, 12, 3):
        for h in (1, 2):
            d = pos[k + h] - pos[k]
            pos[k + h] = pos[k] + d - np.round(d / cell) * cell  # whole molecules
    small = Atoms(
        big.get_chemical_symbols()[:12], positions=pos, cell=np.diag(0.45 * cell), pbc=True
    )
    small.wrap()
    return small


@pytest.mark.parametrize("total_charge", [0.0, 1.0], ids=["neutral", "charged"])
def test_periodic_forces_match_central_differences(water, total_charge):
    """With a tighter Ewald precision than the file's: the truncated real-space sum jumps
    by ~precision when a pair crosses r_cut, which central differences would see."""
    folder, pot, big, _ = water
    pot = tight_ewald(pot)
    atoms = small_water_box(big)
    atoms.info["charge"] = total_charge
    r = evaluate_atoms(pot, atoms)
    assert abs(r.charges_n.sum() - total_charge) < 1e-14
    numeric = position_derivative(
        lambda a: evaluate_atoms(pot, a, forces=False).energy, atoms, h=2e-5
    )
    assert compare("F periodic", r.forces_nc, -numeric) < 1e-6


def test_total_charge_missing_is_an_error(chain):
    folder, pot, atoms, _ = chain
    bare = atoms.copy()
    bare.info.pop("charge")
    with pytest.raises(ValueError, match=r"no total charge .*atoms.info\['charge'\]"):
        evaluate_atoms(pot, bare)


def test_mixed_periodicity_is_an_error(chain):
    folder, pot, atoms, _ = chain
    with pytest.raises(ValueError, match="pbc .* not supported"):
        evaluate(
            pot, atoms.get_chemical_symbols(), atoms.positions, np.eye(3) * 30, (True, True, False)
        )


def copy_potential(src, dst, drop=None, replace=None):
    shutil.copytree(src, dst)
    if drop:
        (dst / drop).unlink()
    for name, text in (replace or {}).items():
        (dst / name).write_text(text)
    return dst


@pytest.mark.parametrize(
    "drop, match",
    [
        ("hardness.001.data", r"hardness\.001\.data: 4G potential: hardness file missing"),
        ("weightse.008.data", r"weightse\.008\.data: 4G potential: file missing"),
        ("scaling.data", r"scaling\.data: 4G potential: file missing"),
    ],
)
def test_missing_part_is_an_error(n2p2_dir, tmp_path, drop, match):
    folder = copy_potential(n2p2_dir / "H2O_RPBE-D3_4G", tmp_path / "pot", drop=drop)
    with pytest.raises(N2p2FormatError, match=match):
        read_potential_4g(folder, **UNITS)


def test_non_positive_hardness_in_file_is_an_error(n2p2_dir, tmp_path):
    folder = copy_potential(
        n2p2_dir / "H2O_RPBE-D3_4G", tmp_path / "pot", replace={"hardness.008.data": "-1.0\n"}
    )
    with pytest.raises(ValueError, match="hardness of O must be positive"):
        read_potential_4g(folder, **UNITS)


def test_missing_electrostatic_keyword_is_an_error(n2p2_dir, tmp_path):
    src = n2p2_dir / "H2O_RPBE-D3_4G"
    text = (src / "input.nn").read_text().replace("screen_electrostatics", "#screen_electrostatics")
    folder = copy_potential(src, tmp_path / "pot", replace={"input.nn": text})
    with pytest.raises(
        N2p2FormatError, match=r"input\.nn: 4G potential: missing keyword 'screen_electrostatics'"
    ):
        read_potential_4g(folder, **UNITS)


def test_write_and_read_back_identically(water, tmp_path):
    folder, pot, atoms, r = water
    write_potential_4g(pot, tmp_path / "out", **UNITS)
    again = read_potential_4g(tmp_path / "out", **UNITS)
    for e in pot.elements:
        pairs = [(pot.short_networks[e], again.short_networks[e])]
        pairs.append((pot.electronegativity_networks[e], again.electronegativity_networks[e]))
        for a, b in pairs:
            for Wa, Wb in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
                np.testing.assert_array_equal(Wa, Wb)
        assert again.hardness[e] == pytest.approx(pot.hardness[e], rel=1e-15)
        assert again.sigma[e] == pot.sigma[e]
        np.testing.assert_array_equal(again.scalings[e].G_min, pot.scalings[e].G_min)
    assert again.screening == pot.screening
    assert again.ewald == pot.ewald
    small = small_water_box(atoms)
    small.info["charge"] = 0.0
    assert evaluate_atoms(again, small).energy == pytest.approx(
        evaluate_atoms(pot, small).energy, rel=1e-14
    )


def test_ase_calculator_reports_charges(chain):
    from nnp_ref.model.calculator import NNPCalculator

    folder, pot, atoms, r = chain
    atoms = atoms.copy()
    atoms.calc = NNPCalculator(pot)
    np.testing.assert_allclose(atoms.get_charges(), r.charges_n, rtol=0, atol=1e-15)
    assert atoms.get_potential_energy() == pytest.approx(r.energy, rel=1e-14)
    assert atoms.get_potential_energies().sum() == pytest.approx(r.energy, rel=1e-12)
    np.testing.assert_allclose(atoms.get_forces(), r.forces_nc, rtol=0, atol=1e-14)


def test_structure_file_without_charge_line_is_an_error(chain, tmp_path):
    folder, pot, atoms, _ = chain
    text = (folder / "input.data").read_text()
    path = tmp_path / "input.data"
    path.write_text("\n".join(line for line in text.splitlines() if "charge" not in line) + "\n")
    bare = read_data(path, **UNITS)[0]
    with pytest.raises(ValueError, match="no total charge"):
        evaluate_atoms(pot, bare)


def test_alaumgo_cluster_on_oxide_support(n2p2_dir):
    """AlAuMgO_4G (Au cluster on Al-doped MgO, 110 atoms, periodic): no n2p2 outputs;
    charges sum to the total, forces against central differences on three atoms."""
    folder = n2p2_dir / "AlAuMgO_4G"
    pot = read_potential_4g(folder, **UNITS)  # its angular functions use zeta = -1, -2
    atoms = read_data(folder / "input.data", **UNITS)[0]
    pot = tight_ewald(pot)
    r = evaluate_atoms(pot, atoms)
    assert abs(r.charges_n.sum() - atoms.info["charge"]) < 1e-12
    offsets = np.array([pot.energy_offsets[s] for s in atoms.get_chemical_symbols()])

    def energy_without_offsets(a):  # central differences of 1e6 eV would lose digits
        res = evaluate_atoms(pot, a, forces=False)
        return res.energy_elec + (res.energies_n - offsets).sum()

    idx = [0, 50, 105]
    numeric = position_derivative(energy_without_offsets, atoms, h=1e-4, atom_indices=idx)
    assert compare("F AlAuMgO", r.forces_nc[idx], -numeric) < 1e-5


def test_read_and_write_potential_dispatch_on_generation(water, tmp_path):
    """nnp_ref.io.n2p2.read_potential/write_potential hand 4G directories to the 4G reader."""
    from nnp_ref.io.n2p2 import read_potential, write_potential
    from nnp_ref.model.fourth_generation import FourthGenerationPotential

    folder, pot, atoms, r = water
    assert isinstance(read_potential(folder, **UNITS), FourthGenerationPotential)
    write_potential(pot, tmp_path / "out", **UNITS)
    assert (tmp_path / "out" / "hardness.008.data").is_file()
    assert isinstance(read_potential(tmp_path / "out", **UNITS), FourthGenerationPotential)
