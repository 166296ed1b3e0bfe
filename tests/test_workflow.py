"""The recipe's steps (``nnp_ref.workflow``) shared by ``nnp-ref train`` and the demo."""

import json
import math

import numpy as np
import pytest

from nnp_ref import workflow
from nnp_ref.config import config_from_dict
from nnp_ref.course.demo import FULL, QUICK, train_quick_copper
from nnp_ref.data.datasets import label, write_extxyz

# ---------------------------------------------------------------------------
# Output folder
# ---------------------------------------------------------------------------


def test_new_or_empty_output_folder_is_used(tmp_path):
    assert workflow.prepare_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    assert workflow.prepare_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"


@pytest.mark.parametrize("held", workflow.OUTPUT_FILES)
def test_earlier_run_is_refused_unless_overwrite(tmp_path, held):
    (tmp_path / held).mkdir() if held == "training" else (tmp_path / held).write_text("x")
    with pytest.raises(FileExistsError, match=f"already holds a training run \\({held}\\)"):
        workflow.prepare_output_dir(tmp_path)
    assert workflow.prepare_output_dir(tmp_path, overwrite=True) == tmp_path


def test_unrelated_files_do_not_block(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert workflow.prepare_output_dir(tmp_path) == tmp_path


def test_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume"):
        workflow.prepare_output_dir(tmp_path, resume=True)
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "state.npz").write_bytes(b"")
    assert workflow.prepare_output_dir(tmp_path, resume=True) == tmp_path
    with pytest.raises(ValueError, match="exclude each other"):
        workflow.prepare_output_dir(tmp_path, resume=True, overwrite=True)


def test_output_folder_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file"):
        workflow.prepare_output_dir(tmp_path / "f")


# ---------------------------------------------------------------------------
# Strict JSON
# ---------------------------------------------------------------------------


def test_plain_values_are_strict_json(tmp_path):
    data = {
        "a": (1, np.float64(2.5)),
        "nan": math.nan,
        "inf": np.float64(np.inf),
        "arr": np.array([1.0, np.nan]),
        "n": np.int64(3),
    }
    assert workflow.plain(data) == {
        "a": [1, 2.5],
        "nan": None,
        "inf": None,
        "arr": [1.0, None],
        "n": 3,
    }
    path = workflow.write_json(tmp_path / "m.json", data)
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["n"] == 3


# ---------------------------------------------------------------------------
# Budgets in epochs: the same answer on every machine
# ---------------------------------------------------------------------------


def test_demo_settings_have_no_wall_clock_budget():
    assert FULL.max_train_time_s is None
    assert QUICK.max_train_time_s is None


def test_quick_training_runs_exactly_its_epochs():
    split, result = train_quick_copper(n_structures=8, epochs=2, seed=1)
    assert [h["epoch"] for h in result.history] == [0, 1, 2]
    assert result.stopped == "reached 2 epochs"
    again = train_quick_copper(n_structures=8, epochs=2, seed=1)[1]
    for e in result.potential.elements:  # seeded: bit-identical weights
        for W, W2 in zip(
            result.potential.networks[e].weights, again.potential.networks[e].weights, strict=True
        ):
            np.testing.assert_array_equal(W, W2)


# ---------------------------------------------------------------------------
# The whole recipe from a config
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    from ase.build import bulk
    from ase.calculators.emt import EMT

    rng = np.random.default_rng(3)
    structures = []
    for _ in range(8):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True)
        atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
        structures.append(label(atoms, EMT()))
    path = tmp_path_factory.mktemp("wf") / "cu.extxyz"
    write_extxyz(path, structures)
    return path


# A 4-structure training set: the test structures may extrapolate (that warning is
# tested where it is made); this test is about the files.
@pytest.mark.filterwarnings("ignore::nnp_ref.model.potential.ExtrapolationWarning")
def test_run_training_writes_every_file(data_file, tmp_path):
    config = config_from_dict(
        {
            "data": {"path": str(data_file), "validation": 0.25, "test": 0.25},
            "potential": {"rc": 4.0, "hidden": [3], "n_radial": 3, "n_angular": 1},
            "training": {"optimizer": "adam", "epochs": 2},
        },
        tmp_path / "train.toml",
    )
    messages = []
    summary = workflow.run_training(config, tmp_path / "run", progress=False, say=messages.append)
    assert messages == ["data: 8 structures -> Split(train=4, validation=2, test=2)"]
    assert (summary["n_train"], summary["n_validation"], summary["n_test"]) == (4, 2, 2)
    assert summary["stopped"] == "reached 2 epochs"
    for name in (
        "model.json",
        "metrics.json",
        "learning_curve.png",
        "parity.png",
        "test_set.extxyz",
        "training/history.csv",
    ):
        assert (tmp_path / "run" / name).is_file(), name
    written = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert written["test"]["n_structures"] == 2
    assert written["test"]["rmse_energy_meV_per_atom"] == pytest.approx(
        summary["test"]["rmse_energy_meV_per_atom"]
    )


def test_load_data_generates(tmp_path):
    config = config_from_dict(
        {"data": {"generate": {"kind": "lj-ar", "n_structures": 3, "seed": 2}}}, tmp_path / "c"
    )
    structures = workflow.load_data(config.data, config.base, progress=False)
    assert len(structures) == 3
    assert set(structures[0].get_chemical_symbols()) == {"Ar"}


@pytest.mark.filterwarnings("ignore::nnp_ref.model.potential.ExtrapolationWarning")
def test_store_dir_trains_from_the_store_as_in_memory(data_file, tmp_path):
    """``[training] store_dir``: descriptors on disk (scaling streamed from them), the same
    model as in memory (Adam: bit for bit)."""
    from nnp_ref.io.model_json import load_model
    from nnp_ref.training.parameters import get_parameters

    models = []
    for store in (None, "descriptors"):
        table = {
            "data": {"path": str(data_file), "validation": 0.25, "test": 0.0},
            "potential": {"rc": 4.0, "hidden": [3], "n_radial": 3, "n_angular": 1},
            "training": {"optimizer": "adam", "epochs": 2, "batch_size": 2},
        }
        if store:
            table["training"]["store_dir"] = store
        config = config_from_dict(table, tmp_path / "train.toml")
        out = tmp_path / f"run-{store}"
        workflow.run_training(config, out, progress=False, say=lambda *text: None)
        models.append(load_model(out / "model.json"))
    manifests = sorted(
        p.parent.name[:9] for p in (tmp_path / "descriptors").glob("*/manifest.json")
    )
    assert manifests == ["training-", "validatio"]
    memory, streamed = models
    for e in memory.elements:
        for name in ("G_min", "G_max", "G_mean", "G_sigma"):
            np.testing.assert_array_equal(
                getattr(streamed.scalings[e], name), getattr(memory.scalings[e], name)
            )
    np.testing.assert_array_equal(get_parameters(streamed), get_parameters(memory))
