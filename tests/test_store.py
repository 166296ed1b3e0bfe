"""On-disk descriptor store (nnp_ref.training.store): exact streaming, keys, damage."""

import json
import shutil

import numpy as np
import pytest

from nnp_ref.data.datasets import generate_reference_data
from nnp_ref.training import loop
from nnp_ref.training.batch import structure_data
from nnp_ref.training.build import build_potential
from nnp_ref.training.config import TrainingConfig
from nnp_ref.training.parameters import get_parameters
from nnp_ref.training.problem import make_problem
from nnp_ref.training.store import (
    MANIFEST,
    StoredStructures,
    build_store,
    open_store,
    store_key,
    store_problem,
)
from nnp_ref.training.streaming import streamed_problem

SF = dict(rc=4.2, n_radial=4, n_angular=1, zetas=(1.0, 4.0), r_lower=2.0)


@pytest.fixture(scope="module")
def data():
    structures = generate_reference_data(
        kind="emt-cu", n_structures=12, seed=7, repeats=((2, 2, 2),), md_snapshots=3,
        md_equilibrate=5, md_every=4, progress=False,
    )  # fmt: skip
    potential, _ = build_potential(structures[:9], hidden=(6, 5), seed=1, progress=False, **SF)
    return structures[:9], structures[9:], potential


def test_store_holds_the_in_memory_arrays_bit_for_bit(data, tmp_path):
    train, _, potential = data
    store = open_store(tmp_path, train, potential.descriptor, progress=False)
    assert store.rebuilt.startswith(str(tmp_path))  # built: no manifest before
    assert len(store) == len(train)
    for s, atoms in enumerate(train):
        ref = structure_data(atoms, potential.descriptor.compute_atoms(atoms))
        got = store[s]
        for name in ("elem_n", "G_ns", "dGdR_psc", "dGself_nsc", "i_p", "j_p", "D_pc", "F_ref_nc"):
            np.testing.assert_array_equal(getattr(got, name), getattr(ref, name), err_msg=name)
        assert got.E_ref == ref.E_ref and got.volume == ref.volume
        assert got.S_ref_cc is None and ref.S_ref_cc is None  # generated without stress
    # dropping the mapped pages after every structure loses nothing
    eager = StoredStructures(store.folder, release_bytes=1, resident_bytes=0)
    assert not eager.stays_resident and store.stays_resident  # a small store stays mapped
    for s in (0, 5, 0, 8):
        np.testing.assert_array_equal(eager[s].dGdR_psc, store[s].dGdR_psc)
        assert eager.handed_out > 0
    with pytest.raises(IndexError, match="structure 9 of a store of 9"):
        store[9]


@pytest.mark.parametrize(
    ("optimizer", "tol"), [("adam", 1e-12), ("kalman", 1e-12), ("lbfgs", 1e-9)]
)
def test_streamed_training_equals_in_memory(data, tmp_path, optimizer, tol):
    """Same seed, same batches: the same weights (L-BFGS: another order of additions)."""
    train, validation, potential = data
    cfg = TrainingConfig(optimizer=optimizer, epochs=2, batch_size=3, progress=False, seed=3)
    memory = loop.fit(make_problem(potential, train, validation, cfg))
    problem = streamed_problem(potential, train, validation, cfg, tmp_path, progress=False)
    assert isinstance(problem.train_items, StoredStructures)
    streamed = loop.fit(problem)
    w_memory = get_parameters(memory.final_potential)
    w_streamed = get_parameters(streamed.final_potential)
    assert np.max(np.abs(w_memory - w_streamed)) <= tol
    assert len(memory.history) == len(streamed.history) == 3
    for a, b in zip(memory.history, streamed.history):
        assert a["loss_train"] == pytest.approx(b["loss_train"], rel=tol, abs=0.0)
        assert a["loss_validation"] == pytest.approx(b["loss_validation"], rel=tol, abs=0.0)


def test_intact_store_is_reused_and_changes_are_detected(data, tmp_path):
    train, _, potential = data
    first = open_store(tmp_path, train, potential.descriptor, progress=False)
    again = open_store(tmp_path, train, potential.descriptor, progress=False)
    assert first.rebuilt and again.rebuilt == ""
    assert again.folder == first.folder
    # a changed data file (one energy) -> another key, recomputed
    changed = [a.copy() for a in train]
    for a, b in zip(changed, train):
        a.calc = b.calc
    changed[4] = train[4].copy()
    changed[4].calc = type(train[4].calc)(changed[4], energy=train[4].get_potential_energy() + 1.0,
                                          forces=train[4].get_forces())  # fmt: skip
    other = open_store(tmp_path, changed, potential.descriptor, progress=False)
    assert other.rebuilt and other.folder != first.folder
    assert other[4].E_ref == pytest.approx(first[4].E_ref + 1.0, abs=1e-12)
    # a changed symmetry-function set -> another key, recomputed
    potential2, _ = build_potential(train, hidden=(6, 5), seed=1, progress=False,
                                    **{**SF, "n_radial": 5})  # fmt: skip
    assert store_key(train, potential2.descriptor) != store_key(train, potential.descriptor)
    third = open_store(tmp_path, train, potential2.descriptor, progress=False)
    assert third.rebuilt and third[0].G_ns.shape[1] == first[0].G_ns.shape[1] + 1


def test_damaged_store_is_detected_and_rebuilt(data, tmp_path):
    train, _, potential = data
    sfset = potential.descriptor
    store = open_store(tmp_path, train, sfset, progress=False)
    folder, key = store.folder, store_key(train, sfset)
    G_ref = np.array(store[3].G_ns)
    del store
    # 1. killed mid-write: a truncated array file
    data_file = folder / "dGdR_psc.bin"
    with open(data_file, "r+b") as f:
        f.truncate(data_file.stat().st_size // 2)
    assert "wrong size" in store_problem(folder, key)
    rebuilt = open_store(tmp_path, train, sfset, progress=False)
    assert "wrong size" in rebuilt.rebuilt
    np.testing.assert_array_equal(rebuilt[3].G_ns, G_ref)
    # 2. no manifest (killed before it was written)
    (folder / MANIFEST).unlink()
    assert "no manifest.json" in store_problem(folder, key)
    assert "no manifest.json" in open_store(tmp_path, train, sfset, progress=False).rebuilt
    # 3. same size, other bytes: caught by the checksum check
    with open(folder / "G_ns.bin", "r+b") as f:
        f.seek(8)
        f.write(np.array([123.0]).tobytes())
    assert store_problem(folder, key) == ""  # the cheap check sees sizes only
    assert "checksum" in store_problem(folder, key, verify="checksum")
    fixed = open_store(tmp_path, train, sfset, progress=False, verify="checksum")
    np.testing.assert_array_equal(fixed[3].G_ns, G_ref)
    # 4. an unreadable manifest
    (folder / MANIFEST).write_text("{not json")
    assert "unreadable manifest" in store_problem(folder, key)
    # 5. a left-over temporary folder of a killed build is never opened
    shutil.rmtree(folder)
    tmp = folder.with_name(folder.name + ".tmp-999")
    tmp.mkdir()
    assert "no manifest.json" in store_problem(folder, key)
    build_store(folder, train, sfset, key, progress=False)
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["key"] == key and len(manifest["names"]) == len(train)


def test_bad_input_is_named_before_any_store_is_written(data, tmp_path):
    train, _, potential = data
    with pytest.raises(ValueError, match="store_dir"):
        streamed_problem(potential, train, None, TrainingConfig(progress=False), None)
    bad = [a.copy() for a in train]  # copies without results: no reference energy
    with pytest.raises(ValueError, match="structure 0 of the training set .* no reference energy"):
        streamed_problem(potential, bad, None, TrainingConfig(progress=False), tmp_path)
    assert list(tmp_path.iterdir()) == []
