"""HDNNP energies, forces and stress: finite differences, invariances, ASE, errors."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.fd import calculate_numerical_forces, calculate_numerical_stress
from ase.optimize import BFGS

from nnp_ref import NNPCalculator
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.model import network as nn
from nnp_ref.model.potential import ExtrapolationError, Potential
from nnp_ref.model.potential import evaluate_atoms as _evaluate_atoms
from nnp_ref.model.scaling import Scaling
from tests.finite_differences import position_derivative, strain_derivative
from tests.test_symmetry_functions import random_structure, sf_sets_two_elements

ELEMENTS = ("H", "O")


def evaluate_atoms(potential, atoms, **kwargs):
    """The random test potentials extrapolate on random structures: silence the warning."""
    kwargs.setdefault("extrapolation", "off")
    return _evaluate_atoms(potential, atoms, **kwargs)


def make_potential(mode="scalecenter", activations=("t", "t", "l"), hidden=(8, 6), seed=0):
    sets = sf_sets_two_elements(rc=4.0, cutoff_type=2)
    sfs = SymmetryFunctionSet(sets, ELEMENTS)
    structures = [random_structure(s, n=10) for s in range(3)]
    scalings = {}
    for symbol in ELEMENTS:
        rows = [
            sfs.compute_atoms(a, with_derivatives=False).G_ns[
                np.array(a.get_chemical_symbols()) == symbol
            ][:, : len(sets[symbol])]
            for a in structures
        ]
        scalings[symbol] = Scaling.from_data(np.vstack(rows), mode=mode)
    networks = {
        symbol: nn.make_network(
            len(sets[symbol]), hidden=hidden, activations=activations, seed=seed + e
        )
        for e, symbol in enumerate(ELEMENTS)
    }
    return Potential(
        ELEMENTS,
        sets,
        networks,
        scalings=scalings,
        energy_offsets={"H": -13.6, "O": -432.1},
        energy_scale=0.7,
    )


@pytest.fixture(scope="module")
def potential():
    return make_potential()


def energy_fn(potential):
    return lambda atoms: evaluate_atoms(potential, atoms, forces=False, stress=False).energy


def numerical_forces(potential, atoms, h=1e-5):
    return -position_derivative(energy_fn(potential), atoms, h=h)


@pytest.mark.parametrize(
    "seed,pbc", [(10, (True, True, True)), (11, (True, False, False)), (12, (False,) * 3)]
)
@pytest.mark.parametrize(
    "mode,activations",
    [
        ("scalecenter", ("t", "t", "l")),
        ("scalesigma", ("p", "s", "l")),
        ("scale", ("g", "c", "l")),
        ("center", ("S", "h", "l")),
        ("none", ("t", "p", "l")),
    ],
)
def test_forces_vs_finite_differences(seed, pbc, mode, activations):
    potential = make_potential(mode=mode, activations=activations)
    atoms = random_structure(seed, n=8, pbc=pbc)
    result = evaluate_atoms(potential, atoms)
    numeric = numerical_forces(potential, atoms)
    assert np.abs(numeric).max() > 1e-3
    np.testing.assert_allclose(result.forces_nc, numeric, rtol=0, atol=1e-7)


def test_stress_vs_finite_strain(potential):
    atoms = random_structure(13, n=10)
    result = evaluate_atoms(potential, atoms)
    numeric = strain_derivative(energy_fn(potential), atoms, h=1e-6) / atoms.get_volume()
    assert np.abs(numeric).max() > 1e-4
    np.testing.assert_allclose(result.stress_cc, numeric, rtol=0, atol=1e-8)
    np.testing.assert_allclose(result.stress_cc, result.stress_cc.T, atol=1e-12)


def test_energy_extensive_and_invariant(potential):
    atoms = random_structure(14, n=8)
    E = evaluate_atoms(potential, atoms).energy
    E_super = evaluate_atoms(potential, atoms.repeat((2, 1, 3))).energy
    assert E_super == pytest.approx(6 * E, rel=1e-12)
    moved = atoms.copy()
    moved.rotate(123.0, (0.3, -1.0, 2.0), rotate_cell=True)
    moved.translate((0.5, 1.5, -2.0))
    assert evaluate_atoms(potential, moved).energy == pytest.approx(E, rel=1e-12)
    order = np.random.default_rng(1).permutation(len(atoms))
    permuted = evaluate_atoms(potential, atoms[order])
    assert permuted.energy == pytest.approx(E, rel=1e-12)
    np.testing.assert_allclose(
        permuted.energies_n, evaluate_atoms(potential, atoms).energies_n[order], rtol=1e-12
    )


def test_forces_sum_to_zero_and_energies_sum(potential):
    atoms = random_structure(15, n=12, pbc=(True, False, True))
    result = evaluate_atoms(potential, atoms)
    np.testing.assert_allclose(result.forces_nc.sum(axis=0), 0.0, atol=1e-11)
    assert result.energies_n.sum() == pytest.approx(result.energy, rel=1e-14)
    assert np.abs(result.forces_nc).max() > 1e-3


def test_ase_calculator_numerical_forces_stress_and_bfgs(potential):
    atoms = random_structure(16, n=8)
    # a random structure, not a physical one: two atoms are 0.08 Å apart
    atoms.calc = NNPCalculator(potential, extrapolation="off", min_distance=0.01)
    F = atoms.get_forces()
    F_num = calculate_numerical_forces(atoms, eps=1e-5)
    np.testing.assert_allclose(F, F_num, rtol=0, atol=1e-7)
    S = atoms.get_stress()
    S_num = calculate_numerical_stress(atoms, eps=1e-6)
    np.testing.assert_allclose(S, S_num, rtol=0, atol=1e-7)
    assert atoms.get_potential_energies().sum() == pytest.approx(atoms.get_potential_energy())
    E0 = atoms.get_potential_energy()
    BFGS(atoms, logfile=None).run(fmax=0.05, steps=20)
    assert atoms.get_potential_energy() < E0 - 1e-3


def test_unknown_element(potential):
    atoms = Atoms("HN", positions=[(0, 0, 0), (1, 0, 0)])
    with pytest.raises(ValueError, match="unknown element.*'N'"):
        evaluate_atoms(potential, atoms)


def test_isolated_atom_warns_not_crashes(potential):
    atoms = Atoms("HHO", positions=[(0, 0, 0), (0.9, 0, 0), (20, 0, 0)])
    with pytest.warns(UserWarning, match="no neighbours"):
        result = evaluate_atoms(potential, atoms)
    assert np.isfinite(result.energy)
    np.testing.assert_allclose(result.forces_nc[2], 0.0, atol=1e-14)


def test_network_errors(potential):
    sets = potential.symmetry_functions
    nets = dict(potential.networks)
    bad = nn.make_network(len(sets["H"]) + 1, hidden=(4,), activations=("t", "l"), seed=0)
    with pytest.raises(ValueError, match="network of H"):
        Potential(ELEMENTS, sets, {**nets, "H": bad}, scalings=potential.scalings)
    nan_net = nn.make_network(len(sets["O"]), hidden=(4,), activations=("t", "l"), seed=0)
    nan_net.weights[0][0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN|finite"):
        Potential(ELEMENTS, sets, {**nets, "O": nan_net}, scalings=potential.scalings)
    with pytest.raises(ValueError, match="no network for element 'O'"):
        Potential(ELEMENTS, sets, {"H": nets["H"]}, scalings=potential.scalings)


def test_extrapolation_counted_and_raised():
    potential = make_potential()
    atoms = bulk("O", "sc", a=1.1) * (2, 2, 2)  # far denser than anything in training
    result = evaluate_atoms(potential, atoms)
    assert len(result.extrapolations) > 0
    atom, s, G, lo, hi = result.extrapolations[0]
    assert not lo <= G <= hi
    atoms.calc = NNPCalculator(potential, extrapolation="raise")
    with pytest.raises(ExtrapolationError, match="outside the training range"):
        atoms.get_potential_energy()


def test_constant_function_scaling_gives_no_nan():
    potential = make_potential(mode="scalecenter")
    sc = potential.scalings["H"]
    G_max = sc.G_max.copy()
    G_max[0] = sc.G_min[0]
    potential.scalings["H"] = Scaling(sc.mode, sc.G_min, G_max, sc.G_mean, sc.G_sigma)
    result = evaluate_atoms(potential, random_structure(17, n=8))
    assert np.all(np.isfinite(result.forces_nc)) and np.isfinite(result.energy)


def test_force_adjoint_is_transpose_of_force_assembly(potential):
    """sum_k dL/dF_k . F_k computed two ways: V . dE/dG = -dL/dF . F."""
    from nnp_ref.model.potential import force_adjoint

    atoms = random_structure(18, n=9)
    result = evaluate_atoms(potential, atoms)
    d = result.descriptors
    dL_dF = np.random.default_rng(3).normal(size=(len(atoms), 3))
    V_ns = force_adjoint(dL_dF, d.dGdR_psc, d.dGself_nsc, d.nl.i_p, d.nl.j_p)
    lhs = -np.sum(V_ns * result.dEdG_ns)
    rhs = np.sum(dL_dF * result.forces_nc)
    assert abs(rhs) > 1e-3
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_pair_virial_equals_strain_derivative_route(potential):
    """sigma V = sum_p D_p x dE/dD_p = sum_is dE/dG_is dG_is/d eps (two routes)."""
    atoms = random_structure(19, n=9)
    result = evaluate_atoms(potential, atoms)
    desc = potential.descriptor.compute_atoms(atoms, with_strain=True)
    via_strain = np.einsum("ns,nsab->ab", result.dEdG_ns, desc.dGdeps_nscc)
    assert np.abs(via_strain).max() > 1e-3
    np.testing.assert_allclose(result.dEdeps_cc, via_strain, rtol=1e-12, atol=1e-13)


# ---------------------------------------------------------------------------
# The memory-lean path (dE/dG first, then dE/dD per pair) and bad input.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True), (False,) * 3])
def test_lean_path_equals_stored_derivatives(potential, pbc):
    """Forces and stress without stored dG/dR equal the stored path to 1e-12 relative."""
    atoms = random_structure(21, n=14, pbc=pbc)
    stored = evaluate_atoms(potential, atoms, store_derivatives=True)
    lean = evaluate_atoms(potential, atoms, store_derivatives=False)
    assert lean.energy == stored.energy
    assert lean.descriptors.dGdR_psc.size == 0  # nothing per pair and function kept
    scale = np.abs(stored.forces_nc).max()
    np.testing.assert_allclose(lean.forces_nc, stored.forces_nc, rtol=0, atol=1e-12 * scale)
    if any(pbc):
        scale = np.abs(stored.stress_cc).max()
        np.testing.assert_allclose(lean.stress_cc, stored.stress_cc, rtol=0, atol=1e-12 * scale)


def test_lean_path_equals_stored_derivatives_cu2s(n2p2_dir):
    """Cutoff type 6, types 2, 3, 9 and softplus: the 144-atom Cu2S cell, both paths."""
    from nnp_ref.io.n2p2 import read_data, read_potential

    potential = read_potential(n2p2_dir / "Cu2S_PBE")
    atoms = read_data(n2p2_dir / "Cu2S_PBE" / "input.data")[0]
    stored = _evaluate_atoms(potential, atoms, store_derivatives=True)
    lean = _evaluate_atoms(potential, atoms, store_derivatives=False)
    for a, b in [(lean.forces_nc, stored.forces_nc), (lean.stress_cc, stored.stress_cc)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())


def test_extrapolation_warns_by_default_once_with_counts(n2p2_dir):
    """Cu2S compressed to 0.6 of its volume: one warning naming the counts and the worst atom."""
    from nnp_ref.io.n2p2 import read_data, read_potential

    potential = read_potential(n2p2_dir / "Cu2S_PBE")
    atoms = read_data(n2p2_dir / "Cu2S_PBE" / "input.data")[0]
    atoms.set_cell(atoms.cell * 0.6 ** (1 / 3), scale_atoms=True)
    import warnings

    from nnp_ref.model.potential import ExtrapolationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _evaluate_atoms(potential, atoms, forces=False, stress=False)
    assert len(caught) == 1 and issubclass(caught[0].category, ExtrapolationWarning)
    message = str(caught[0].message)
    assert f"{len(result.extrapolations)} symmetry-function value(s) on" in message
    assert len(result.extrapolations) > 1000 and "worst: atom" in message
    with pytest.raises(ExtrapolationError, match="worst: atom"):
        _evaluate_atoms(potential, atoms, forces=False, stress=False, extrapolation="raise")
    quiet = _evaluate_atoms(potential, atoms, forces=False, stress=False, extrapolation="off")
    assert len(quiet.extrapolations) == len(result.extrapolations)  # still counted
    calc = NNPCalculator(potential, extrapolation="off")
    atoms.calc = calc
    atoms.get_potential_energy()
    assert calc.n_extrapolations == len(result.extrapolations)
    with pytest.raises(ValueError, match="extrapolation must be"):
        NNPCalculator(potential, extrapolation="sometimes")


def test_empty_structure_is_an_error(potential):
    with pytest.raises(ValueError, match="empty structure"):
        _evaluate_atoms(potential, Atoms())


@pytest.mark.parametrize("distance", [1e-6, 0.05])
def test_atoms_closer_than_min_distance_are_an_error(potential, distance):
    atoms = Atoms("HO", positions=[(0, 0, 0), (distance, 0, 0)])
    with pytest.raises(ValueError, match=r"atoms 0 and 1 are .* Å apart.*min_distance = 0.1 Å"):
        _evaluate_atoms(potential, atoms)
    result = _evaluate_atoms(potential, atoms, min_distance=0.0, extrapolation="off")
    assert np.isfinite(result.energy)  # refused by choice, not because it cannot compute


def test_tiny_periodic_cell_is_refused_before_the_work(potential):
    """One atom in a 0.3 Å cell with a 4 Å cutoff: ~10,000 neighbours, refused with a message."""
    atoms = Atoms("O", positions=[(0, 0, 0)], cell=np.eye(3) * 0.3, pbc=True)
    with pytest.raises(ValueError, match="too small or dense for this cutoff"):
        _evaluate_atoms(potential, atoms, min_distance=0.0)
    atoms = Atoms("O", positions=[(0, 0, 0)], cell=np.eye(3) * 0.001, pbc=True)
    with pytest.raises(ValueError, match="far too small for the cutoff"):
        _evaluate_atoms(potential, atoms, min_distance=0.0)


def test_lean_path_in_many_blocks_equals_stored(potential, monkeypatch):
    """Blocks of a few atoms (tiny LEAN_BLOCK_BYTES): same energies, forces, stress, G."""
    import nnp_ref.model.potential as pot

    atoms = random_structure(22, n=16, pbc=(True, True, True))
    stored = evaluate_atoms(potential, atoms, store_derivatives=True)
    monkeypatch.setattr(pot, "LEAN_BLOCK_BYTES", 3000)
    bounds = pot.atom_blocks(stored.descriptors.nl.offsets_n1, stored.dEdG_ns.shape[1])
    assert len(bounds) > 4
    lean = evaluate_atoms(potential, atoms, store_derivatives=False)
    np.testing.assert_array_equal(lean.descriptors.G_ns, stored.descriptors.G_ns)
    np.testing.assert_array_equal(lean.energies_n, stored.energies_n)
    for a, b in [(lean.forces_nc, stored.forces_nc), (lean.stress_cc, stored.stress_cc)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())


@pytest.mark.parametrize("pbc", [(True, True, True), (False,) * 3])
def test_energy_and_forces_array_core_equals_evaluate(potential, pbc):
    """The MD step's call (element indices, a skin list) gives evaluate's numbers and checks."""
    from nnp_ref.descriptors.skin import SkinNeighbourList
    from nnp_ref.descriptors.symmetry_functions import element_indices
    from nnp_ref.model.potential import ExtrapolationWarning, energy_and_forces

    atoms = random_structure(23, n=12, pbc=pbc)
    reference = _evaluate_atoms(potential, atoms, stress=False, extrapolation="off")
    elem_n = element_indices(atoms.get_chemical_symbols(), potential.elements)
    skin = SkinNeighbourList(potential.cutoff, 1.0, atoms.cell.array, atoms.pbc)
    nl = skin.update(atoms.positions)
    E, F_nc, n_extrapolations = energy_and_forces(potential, elem_n, nl, "off")
    assert E == pytest.approx(reference.energy, rel=1e-14)
    np.testing.assert_allclose(F_nc, reference.forces_nc, rtol=0, atol=1e-12)
    assert n_extrapolations == len(reference.extrapolations) > 0  # counted, in silence
    with pytest.warns(ExtrapolationWarning):
        assert energy_and_forces(potential, elem_n, nl, "warn")[2] == n_extrapolations
    with pytest.raises(ExtrapolationError, match="worst: atom"):
        energy_and_forces(potential, elem_n, nl, "raise")
    with pytest.raises(ValueError, match=r"closer than min_distance = 5 Å"):
        energy_and_forces(potential, elem_n, nl, "off", min_distance=5.0)
    with pytest.raises(ValueError, match="empty structure"):
        energy_and_forces(potential, elem_n[:0], nl, "off")
    with pytest.raises(ValueError, match="extrapolation must be 'warn', 'raise' or 'off'"):
        energy_and_forces(potential, elem_n, nl, "warnings")
