"""Trainer, model files and evaluation: learning, reproducibility, resume, bad input."""

import json

import numpy as np
import pytest
from ase import Atoms

from nnp_ref.analysis.errors import (
    error_histogram,
    evaluate_dataset,
    force_error_vs_magnitude,
    metrics,
    parity_plot,
    plot_learning_curve,
    predict_dataset,
    read_n2p2_learning_curve,
)
from nnp_ref.data.datasets import (
    attach_reference,
    generate_reference_data,
    reference_energy,
    split_random,
)
from nnp_ref.io.model_json import export_n2p2, load_model, save_model
from nnp_ref.model.potential import evaluate_atoms
from nnp_ref.training.loss import get_parameters
from nnp_ref.training.trainer import (
    HISTORY_COLUMNS,
    Trainer,
    TrainingConfig,
    build_potential,
    read_history,
)
from tests.conftest import N2P2_DIR

N2P2_TRAIN = N2P2_DIR / "H2O_RPBE-D3_train"  # honours NNP_REF_N2P2_DIR, as conftest does
SF = dict(rc=4.2, n_radial=4, n_angular=1, zetas=(1.0, 4.0), r_lower=2.0)


@pytest.fixture(scope="module")
def data():
    structures = generate_reference_data(
        kind="emt-cu", n_structures=14, seed=5, repeats=((2, 2, 2),), md_snapshots=3,
        md_equilibrate=5, md_every=4, progress=False,
    )  # fmt: skip
    split = split_random(structures, validation=0.15, test=0.15, seed=0)
    potential, descriptors = build_potential(
        split.train, hidden=(6, 5), seed=1, progress=False, **SF
    )
    return split, potential, descriptors


def make_trainer(data, **config):
    split, potential, descriptors = data
    config = {"epochs": 4, "progress": False, **config}
    return Trainer(potential, split.train, split.validation, TrainingConfig(**config),
                   train_descriptors=descriptors)  # fmt: skip


def test_build_potential(data):
    split, potential, descriptors = data
    assert potential.elements == ("Cu",)
    assert len(potential.symmetry_functions["Cu"]) == 4 + 1 * 2 * 2
    assert len(descriptors) == len(split.train)
    # element energy: mean energy per atom of the (single-element) training set, roughly
    per_atom = [reference_energy(a) / len(a) for a in split.train]
    assert min(per_atom) < potential.energy_offsets["Cu"] < max(per_atom)
    assert potential.energy_scale == pytest.approx(np.std(
        [(reference_energy(a) - len(a) * potential.energy_offsets["Cu"]) / len(a)
         for a in split.train]))  # fmt: skip


@pytest.mark.parametrize(
    "optimizer,epochs,extra",
    [
        ("adam", 6, {"learning_rate": 2e-2, "batch_size": 2}),
        ("lbfgs", 15, {}),
        ("kalman", 6, {"kalman": {"force_fraction": 0.05, "forces_per_update": 4}}),
        (
            "kalman",
            6,
            {
                "kalman": {
                    "force_fraction": 0.05,
                    "forces_per_update": 4,
                    "force_selection": "components",
                }
            },
        ),
    ],
)
def test_each_optimizer_learns(data, optimizer, epochs, extra):
    result = make_trainer(data, optimizer=optimizer, epochs=epochs, **extra).fit()
    first, last = result.history[0], result.history[-1]
    assert len(result.history) == epochs + 1 and last["epoch"] == epochs
    assert set(first) == set(HISTORY_COLUMNS)
    for key in ("rmse_energy_train_meV_per_atom", "rmse_force_train_meV_per_A"):
        assert last[key] < 0.7 * first[key], (key, first[key], last[key])
    assert result.history[result.best_epoch]["loss_validation"] == min(
        h["loss_validation"] for h in result.history
    )
    assert result.structures_per_second > 0
    # the returned potential is the best epoch's: its validation errors are that row's
    split = data[0]
    m = evaluate_dataset(result.potential, split.validation)
    best = result.history[result.best_epoch]
    assert m["rmse_energy_meV_per_atom"] == pytest.approx(
        best["rmse_energy_validation_meV_per_atom"], rel=1e-8
    )
    assert m["rmse_force_meV_per_A"] == pytest.approx(
        best["rmse_force_validation_meV_per_A"], rel=1e-8
    )
    assert result.potential.metadata["training"]["optimizer"] == optimizer


def test_training_is_seeded_and_reproducible(data):
    a = make_trainer(data, epochs=2, learning_rate=5e-3, batch_size=2, seed=3).fit()
    b = make_trainer(data, epochs=2, learning_rate=5e-3, batch_size=2, seed=3).fit()
    c = make_trainer(data, epochs=2, learning_rate=5e-3, batch_size=2, seed=4).fit()
    wa, wb, wc = (get_parameters(r.final_potential) for r in (a, b, c))
    np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(wa, wc)
    # the caller's potential is not modified
    np.testing.assert_array_equal(
        get_parameters(data[1]), get_parameters(make_trainer(data).potential)
    )


@pytest.mark.parametrize(
    "optimizer,selection",
    [("adam", "structure"), ("kalman", "structure"), ("kalman", "components")],
)
def test_resume_continues_exactly(data, tmp_path, optimizer, selection):
    extra = {"learning_rate": 5e-3, "batch_size": 2,
             "kalman": {"force_fraction": 0.01, "forces_per_update": 2,
                        "force_selection": selection}}  # fmt: skip
    straight = make_trainer(data, optimizer=optimizer, epochs=4, **extra).fit()
    ckpt = tmp_path / "run"
    half = make_trainer(data, optimizer=optimizer, epochs=2, checkpoint_dir=str(ckpt), **extra)
    half.fit()
    for name in ("best_model.json", "last_model.json", "state.npz", "history.csv"):
        assert (ckpt / name).is_file(), name
    resumed = make_trainer(data, optimizer=optimizer, epochs=4, checkpoint_dir=str(ckpt), **extra)
    result = resumed.fit(resume=True)
    np.testing.assert_array_equal(
        get_parameters(result.final_potential), get_parameters(straight.final_potential)
    )
    assert [h["rmse_force_train_meV_per_A"] for h in result.history] == pytest.approx(
        [h["rmse_force_train_meV_per_A"] for h in straight.history], rel=1e-12
    )
    history = read_history(ckpt / "history.csv")
    assert [row["epoch"] for row in history] == [0, 1, 2, 3, 4]
    assert history[-1]["rmse_energy_train_meV_per_atom"] == pytest.approx(
        result.history[-1]["rmse_energy_train_meV_per_atom"], rel=1e-9
    )
    best = load_model(ckpt / "best_model.json")
    np.testing.assert_array_equal(get_parameters(best), get_parameters(result.potential))
    with pytest.raises(ValueError, match="optimizer"):
        make_trainer(data, optimizer="lbfgs", checkpoint_dir=str(ckpt)).fit(resume=True)
    with pytest.raises(FileNotFoundError):
        make_trainer(data, checkpoint_dir=str(tmp_path / "none")).fit(resume=True)


def test_early_stopping_and_time_budget(data):
    result = make_trainer(data, epochs=50, learning_rate=0.0, patience=3).fit()
    assert result.stopped.startswith("early stopping") and len(result.history) == 4
    assert result.best_epoch == 0
    result = make_trainer(data, epochs=50, max_time=0.0).fit()
    assert "time budget" in result.stopped and len(result.history) == 1


def test_bad_input_is_named_before_training(data):
    split, potential, descriptors = data
    train = [a.copy() for a in split.train]
    for a, b in zip(train, split.train):
        attach_reference(a, b.get_potential_energy(), b.get_forces())
    cfg = TrainingConfig(epochs=1, progress=False)
    no_energy = train[:2] + [Atoms(train[2].symbols, train[2].positions, cell=train[2].cell,
                                   pbc=True)]  # fmt: skip
    with pytest.raises(ValueError, match="structure 2 of the training set .*no reference energy"):
        Trainer(potential, no_energy, None, cfg)
    no_forces = train[:1] + [attach_reference(train[1].copy(), -3.0)]
    with pytest.raises(ValueError, match="structure 1 of the training set .*no reference forces"):
        Trainer(potential, no_forces, None, cfg)
    Trainer(potential, no_forces, None, TrainingConfig(epochs=1, progress=False, use_forces=False))
    nan = attach_reference(train[0].copy(), np.nan, train[0].get_forces())
    with pytest.raises(ValueError, match="structure 1 of the validation set .*NaN"):
        Trainer(potential, train, [train[1], nan], cfg)
    gold = train[0].copy()
    gold.symbols[0] = "Au"
    attach_reference(gold, -1.0, np.zeros((len(gold), 3)))
    with pytest.raises(ValueError, match=r"structure 0 of the training set .*\['Au'\]"):
        Trainer(potential, [gold], None, cfg)
    with pytest.raises(ValueError, match="training set is empty"):
        Trainer(potential, [], None, cfg)
    with pytest.raises(ValueError, match="optimizer"):
        TrainingConfig(optimizer="sgd")


def test_model_file_round_trip_and_atomic_save(data, tmp_path, monkeypatch):
    split, potential, _ = data
    path = save_model(potential, tmp_path / "model.json")
    text = path.read_text()
    data_json = json.loads(text)
    assert data_json["format"] == "nnp_ref-model" and data_json["elements"] == ["Cu"]
    assert len(data_json["symmetry_functions"]["Cu"]) == 8
    loaded = load_model(path)
    np.testing.assert_array_equal(get_parameters(loaded), get_parameters(potential))
    atoms = split.test[0]
    a, b = evaluate_atoms(potential, atoms), evaluate_atoms(loaded, atoms)
    assert a.energy == b.energy
    np.testing.assert_array_equal(a.forces_nc, b.forces_nc)
    # an interrupted save leaves the previous file intact and no temporary file
    import nnp_ref.io.atomic as model_io

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(model_io.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        save_model(loaded, path)
    monkeypatch.undo()
    assert path.read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    (tmp_path / "broken.json").write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not a readable nnp_ref model"):
        load_model(tmp_path / "broken.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not an nnp_ref model"):
        load_model(tmp_path / "other.json")


def test_export_to_n2p2(data, tmp_path):
    pytest.importorskip("nnp_ref.io.n2p2")
    from nnp_ref.io.n2p2 import read_potential

    split, potential, _ = data
    export_n2p2(potential, tmp_path / "n2p2")
    assert (tmp_path / "n2p2" / "input.nn").is_file()
    assert (tmp_path / "n2p2" / "weights.029.data").is_file()
    back = read_potential(tmp_path / "n2p2")
    atoms = split.test[0]
    assert evaluate_atoms(back, atoms).energy == pytest.approx(
        evaluate_atoms(potential, atoms).energy, rel=1e-10
    )


def test_metrics_and_figures(data, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    split, potential, _ = data
    # a model trained for a few epochs extrapolates on some test structures: counted, silent
    pred = predict_dataset(potential, split.test, extrapolation="off")
    assert pred.n_extrapolations_s.shape == (len(split.test),)
    m = metrics(pred)
    dE = np.array([(evaluate_atoms(potential, a, extrapolation="off").energy
                    - reference_energy(a)) / len(a) for a in split.test])  # fmt: skip
    assert m["rmse_energy_meV_per_atom"] == pytest.approx(1e3 * np.sqrt(np.mean(dE**2)))
    assert m["mae_energy_meV_per_atom"] == pytest.approx(1e3 * np.mean(np.abs(dE)))
    assert m["n_force_components"] == 3 * sum(len(a) for a in split.test)
    assert m["mae_force_meV_per_A"] <= m["rmse_force_meV_per_A"]
    for fig in (parity_plot(pred), error_histogram(pred), force_error_vs_magnitude(pred)):
        assert len(fig.axes) >= 1
        fig.savefig(tmp_path / "figure.png")
        plt.close(fig)
    result = make_trainer(data, epochs=2, checkpoint_dir=str(tmp_path / "run")).fit()
    fig = plot_learning_curve([result.history, tmp_path / "run" / "history.csv"],
                              labels=["memory", "file"])  # fmt: skip
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) >= 2
    plt.close(fig)


@pytest.mark.n2p2
@pytest.mark.skipif(not N2P2_TRAIN.is_dir(), reason="n2p2 reference files not present")
def test_read_n2p2_learning_curve():
    import ase.units

    rows = read_n2p2_learning_curve(
        N2P2_TRAIN / "n2p2-learning-curve.out",
        ase.units.Hartree,
        ase.units.Hartree / ase.units.Bohr,
    )
    assert [r["epoch"] for r in rows] == list(range(31))
    assert rows[-1]["rmse_energy_train_meV_per_atom"] == pytest.approx(
        3.39604e-5 * ase.units.Hartree * 1e3, rel=1e-5
    )
    assert rows[-1]["rmse_force_validation_meV_per_A"] == pytest.approx(
        5.08899e-3 * ase.units.Hartree / ase.units.Bohr * 1e3, rel=1e-5
    )


def test_kalman_components_mix_structures_as_n2p2(data):
    """force_selection="components": the m rows come from one shuffled list of all components."""
    from nnp_ref.training.jacobians import force_jacobian
    from nnp_ref.training.kalman_steps import (
        component_offsets,
        force_update_components,
        single_structure_batches,
    )
    from nnp_ref.training.loop import new_state
    from nnp_ref.training.loss import predict

    kalman = {"forces_per_update": 6, "threshold_trials": 1, "force_selection": "components"}
    trainer = make_trainer(data, optimizer="kalman", kalman=kalman)
    problem = trainer.problem
    single = single_structure_batches(problem)
    offsets = component_offsets(problem)
    state = new_state(problem)
    state.f_queue = list(range(0, int(offsets[-1]), 29))  # popped from the end
    drawn = state.f_queue[-6:][::-1]
    owners = np.searchsorted(offsets, drawn, side="right") - 1
    assert len(set(owners)) > 1  # one update mixes structures
    w0 = state.w.copy()
    u_F, fw = problem.u_F, problem.config.kalman.force_update_weight
    H, xi = [], []
    for g, s in zip(drawn, owners):
        pred = predict(problem.potential, single[s])
        k, c = divmod(int(g - offsets[s]), 3)
        H.append(fw * force_jacobian(problem.potential, single[s], pred, [k], [c])[0] / u_F)
        xi.append(fw * (single[s].F_ref_nc[k, c] - pred.F_nc[k, c]) / u_F)
    expected = new_state(problem).optimizer.update(w0, np.array(xi), np.array(H).T)
    force_update_components(problem, state, single, rmse_F=1.0, offsets=offsets)
    np.testing.assert_allclose(state.w, expected, rtol=0, atol=1e-14 * np.abs(expected).max())
    assert len(state.f_queue) == len(range(0, int(offsets[-1]), 29)) - 6
    with pytest.raises(ValueError, match="force_selection"):
        TrainingConfig(kalman={"force_selection": "random"})
