"""Data sets and preprocessing: generation, reading/writing, splits, checks, statistics."""

from pathlib import Path

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones

from nnp_ref.data.datasets import (
    attach_reference,
    check_dataset,
    default_dataset,
    elements_of,
    generate_reference_data,
    read_dataset,
    reference_energy,
    reference_forces,
    split_by_indices,
    split_by_tag,
    split_random,
    write_extxyz,
)
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.training.preprocessing import (
    compute_descriptors,
    default_symmetry_functions,
    energy_force_units,
    fit_element_energies,
    radial_grid,
    scaling_from_descriptors,
)

N2P2_TRAIN = Path(__file__).resolve().parents[2] / "shared" / "n2p2" / "H2O_RPBE-D3_train"
SMALL = dict(repeats=((2, 2, 2),), md_snapshots=2, md_equilibrate=5, md_every=3, progress=False)


@pytest.fixture(scope="module")
def cu_set():
    return generate_reference_data(kind="emt-cu", n_structures=10, seed=3, **SMALL)


def test_generation_is_labelled_reproducible_and_varied(cu_set):
    again = generate_reference_data(kind="emt-cu", n_structures=10, seed=3, **SMALL)
    other = generate_reference_data(kind="emt-cu", n_structures=10, seed=4, **SMALL)
    assert len(cu_set) == 10
    for a, b in zip(cu_set, again):
        np.testing.assert_array_equal(a.positions, b.positions)
        assert reference_energy(a) == reference_energy(b)
    assert not np.allclose(cu_set[-1].positions[:5], other[-1].positions[:5])
    kinds = [a.info["config_type"] for a in cu_set]
    for kind in ("md", "rattled", "vacancy", "surface"):
        assert any(kind in k for k in kinds), kind
    # the stored reference is what EMT gives for the stored positions
    probe = cu_set[4].copy()
    probe.calc = EMT()
    assert probe.get_potential_energy() == pytest.approx(reference_energy(cu_set[4]), abs=1e-10)
    np.testing.assert_allclose(probe.get_forces(), reference_forces(cu_set[4]), atol=1e-10)
    sizes = {len(a) for a in cu_set if "surface" not in a.info["config_type"]}
    assert sizes <= {30, 31, 32}


def test_generation_other_kinds_and_any_calculator():
    alloy = generate_reference_data(kind="emt-cuau", n_structures=4, seed=1, **SMALL)
    assert elements_of(alloy) == ("Cu", "Au")
    assert all({"Cu", "Au"} <= set(a.get_chemical_symbols()) for a in alloy)
    argon = generate_reference_data(kind="lj-ar", n_structures=4, seed=1, **SMALL)
    assert all(reference_energy(a) < 0 for a in argon)
    # a user calculator factory and an explicit crystal
    lj = lambda: LennardJones(sigma=2.3, epsilon=0.4, rc=5.0, smooth=True)
    custom = generate_reference_data(lj, kind="custom", symbols=("Cu",), crystal="fcc", a=3.61,
                                     n_structures=3, seed=2, **SMALL)  # fmt: skip
    assert len(custom) == 3 and all(np.isfinite(reference_energy(a)) for a in custom)
    with pytest.raises(ValueError, match="unknown kind"):
        generate_reference_data(kind="nope", n_structures=2)


def test_default_dataset_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("NNP_REF_CACHE_DIR", str(tmp_path))
    first = default_dataset(n_structures=5, seed=1, progress=False)
    files = list(tmp_path.glob("emt-cu-n5-seed1-v*.extxyz"))
    assert len(files) == 1
    second = default_dataset(n_structures=5, seed=1, progress=False)
    assert [reference_energy(a) for a in second] == pytest.approx(
        [reference_energy(a) for a in first], abs=1e-7
    )
    assert elements_of(first) == ("Cu",)


def test_extxyz_traj_and_db_round_trip(tmp_path, cu_set):
    write_extxyz(tmp_path / "set.extxyz", cu_set)
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary file
    back = read_dataset(tmp_path / "set.extxyz")
    assert len(back) == len(cu_set)
    for a, b in zip(cu_set, back):
        assert reference_energy(b) == pytest.approx(reference_energy(a), abs=1e-7)
        np.testing.assert_allclose(reference_forces(b), reference_forces(a), atol=1e-7)
        np.testing.assert_allclose(b.positions, a.positions, atol=1e-7)
    for name in ("set.traj", "set.db"):
        ase.io.write(tmp_path / name, cu_set[:3])
        back = read_dataset(tmp_path / name)
        assert [reference_energy(a) for a in back] == pytest.approx(
            [reference_energy(a) for a in cu_set[:3]]
        )


@pytest.mark.n2p2
@pytest.mark.skipif(not N2P2_TRAIN.is_dir(), reason="n2p2 reference files not present")
def test_read_n2p2_input_data():
    import ase.units

    train = read_dataset(N2P2_TRAIN / "test.data", length_unit=ase.units.Bohr,
                         energy_unit=ase.units.Hartree)  # fmt: skip
    assert len(train) == 1 and len(train[0]) == 48
    assert elements_of(train) == ("H", "O")
    check_dataset(train, ("H", "O"))
    assert reference_energy(train[0]) / len(train[0]) == pytest.approx(-25.66 * 27.2114, rel=1e-2)


def test_splits(cu_set):
    split = split_random(cu_set, validation=0.2, test=0.2, seed=7)
    assert (len(split.train), len(split.validation), len(split.test)) == (6, 2, 2)
    all_ix = np.concatenate([split.train_indices, split.validation_indices, split.test_indices])
    assert sorted(all_ix) == list(range(10))
    again = split_random(cu_set, validation=0.2, test=0.2, seed=7)
    np.testing.assert_array_equal(again.test_indices, split.test_indices)
    other = split_random(cu_set, validation=0.2, test=0.2, seed=8)
    assert not np.array_equal(other.train_indices, split.train_indices)
    explicit = split_by_indices(cu_set, [0, 1, 2], [3], [-1])
    assert explicit.test[0] is cu_set[9]
    with pytest.raises(ValueError, match="overlap"):
        split_by_indices(cu_set, [0, 1], [1])
    with pytest.raises(ValueError, match="out of range"):
        split_by_indices(cu_set, [0, 10])
    with pytest.raises(ValueError, match="too few"):
        split_random(cu_set[:2], validation=0.4, test=0.4)
    tagged = [a.copy() for a in cu_set[:4]]
    for a, tag in zip(tagged, ["train", "test", "train", "validation"]):
        a.info["set"] = tag
    by_tag = split_by_tag(tagged)
    np.testing.assert_array_equal(by_tag.train_indices, [0, 2])
    np.testing.assert_array_equal(by_tag.test_indices, [1])
    del tagged[2].info["set"]
    with pytest.raises(ValueError, match="structure 2 .*no 'set' tag"):
        split_by_tag(tagged)


def test_check_dataset_names_the_bad_structure(cu_set):
    good = [a.copy() for a in cu_set[:3]]
    for a, b in zip(good, cu_set):
        attach_reference(a, reference_energy(b), reference_forces(b))
    check_dataset(good, ("Cu",))
    with pytest.raises(ValueError, match="training set.* is empty"):
        check_dataset([], ("Cu",), what="training set")
    no_energy = [good[0], bulk("Cu", "fcc", a=3.6)]
    with pytest.raises(ValueError, match="structure 1 of the training set.*no reference energy"):
        check_dataset(no_energy, ("Cu",), what="training set")
    no_forces = [good[0], attach_reference(bulk("Cu", "fcc", a=3.6), -1.0)]
    with pytest.raises(ValueError, match="structure 1 .*no reference forces"):
        check_dataset(no_forces, ("Cu",))
    check_dataset(no_forces, ("Cu",), need_forces=False)
    nan_forces = good[1].copy()
    F = reference_forces(good[1]).copy()
    F[3, 1] = np.nan
    attach_reference(nan_forces, reference_energy(good[1]), F)
    with pytest.raises(ValueError, match="structure 2 .*NaN/inf reference forces .*atom 3"):
        check_dataset([good[0], good[2], nan_forces], ("Cu",))
    nan_energy = attach_reference(good[2].copy(), np.nan, reference_forces(good[2]))
    with pytest.raises(ValueError, match="structure 0 .*NaN/inf reference energy"):
        check_dataset([nan_energy], ("Cu",))
    alien = attach_reference(
        Atoms("CuAu", positions=[(0, 0, 0), (2.5, 0, 0)]), 0.0, np.zeros((2, 3))
    )
    with pytest.raises(ValueError, match=r"structure 1 .*\['Au'\].*does not have"):
        check_dataset([good[0], alien], ("Cu",))


def test_element_energies_and_units():
    rng = np.random.default_rng(0)
    E0 = {"H": -13.6, "O": -432.0}
    structures = []
    for k in range(6):
        atoms = Atoms("H" * (k + 1) + "O" * (6 - k), positions=rng.uniform(0, 8, (7, 3)))
        energy = sum(E0[s] for s in atoms.get_chemical_symbols()) + 0.01 * rng.normal()
        structures.append(attach_reference(atoms, energy, rng.normal(0, 0.5, (7, 3))))
    fit = fit_element_energies(structures, ("H", "O"))
    assert fit["H"] == pytest.approx(E0["H"], abs=0.05)
    assert fit["O"] == pytest.approx(E0["O"], abs=0.05)
    u_E, u_F = energy_force_units(structures, fit)
    assert 1e-4 < u_E < 0.02
    assert u_F == pytest.approx(np.sqrt(np.mean(np.concatenate(
        [reference_forces(a).ravel() for a in structures]) ** 2)))  # fmt: skip


def test_default_symmetry_functions_and_grids():
    rs, eta = radial_grid("shift", 5, 1.0, 5.0)
    np.testing.assert_allclose(rs, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(eta, 0.5)  # 1/(2 dr^2), dr = 1
    rs, eta = radial_grid("center", 3, 1.0, 3.0)
    np.testing.assert_allclose(rs, 0.0)
    np.testing.assert_allclose(eta, [0.5, 0.125, 1 / 18])
    one = default_symmetry_functions(("Cu",), rc=5.0)
    assert len(one["Cu"]) == 8 + 3 * 4 * 2
    two = default_symmetry_functions(("Cu", "Au"), rc=5.0, angular="narrow")
    assert len(two["Au"]) == 2 * 8 + 3 * 3 * 4 * 2
    assert {sf.type for sf in two["Cu"]} == {2, 3}
    assert all(sf.rc == 5.0 and sf.cutoff_type == 6 for sf in two["Au"])
    SymmetryFunctionSet(two, ("Cu", "Au"))  # every function passes its own check
    with pytest.raises(ValueError, match="wide"):
        default_symmetry_functions(("Cu",), angular="round")


def test_scaling_statistics_guard_constant_functions(cu_set):
    sets = default_symmetry_functions(("Cu",), rc=4.0, n_radial=3, n_angular=1, zetas=(1.0,))
    # a function that never sees a neighbour (rc below the shortest distance): G = 0 always
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunction

    sets["Cu"].append(SymmetryFunction(2, "Cu", ("Cu",), 1.0, eta=0.0, cutoff_type=6))
    sfset = SymmetryFunctionSet(sets, ("Cu",))
    desc = compute_descriptors(cu_set[:3], sfset, progress=False)
    scaling = scaling_from_descriptors(desc, ("Cu",))["Cu"]
    assert scaling.G_min[-1] == scaling.G_max[-1] == 0.0
    a, b = scaling.factor_and_offset()
    assert a[-1] == 0.0 and np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    X = scaling.apply(desc[0].G_ns[:, : len(sets["Cu"])])
    assert np.all(np.isfinite(X))
    assert X[:, :-1].min() >= -1.0 and X[:, :-1].max() <= 1.0
    with pytest.raises(ValueError, match="no atoms of element"):
        scaling_from_descriptors(desc, ("Cu", "Au"))
