"""Committee: mean and spread of independent members, ASE adapter, warm start, calibration."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nnp_ref.data.datasets import generate_reference_data
from nnp_ref.dynamics.md import run_md
from nnp_ref.model.committee import (
    Committee,
    CommitteeCalculator,
    SpreadLog,
    evaluate_committee_atoms,
)
from nnp_ref.model.potential import evaluate_atoms
from nnp_ref.training.committee import (
    calibrate,
    calibration_factor,
    member_seeds,
    plot_calibration,
    rescale_potential,
    train_committee,
)
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential

SF = dict(rc=4.2, n_radial=4, n_angular=1, zetas=(1.0,), r_lower=2.0)
CONFIG = TrainingConfig(epochs=2, progress=False, learning_rate=1e-2, batch_size=2)


@pytest.fixture(scope="module")
def data():
    structures = generate_reference_data(
        kind="emt-cu", n_structures=9, seed=11, repeats=((2, 2, 2),),
        mix={"rattled": 0.7, "vacancy": 0.3}, progress=False,
    )  # fmt: skip
    return structures[:6], structures[6:]


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    train, _ = data
    directory = tmp_path_factory.mktemp("committee")
    result = train_committee(train, n_members=3, config=CONFIG, seed=4, hidden=(5,),
                             directory=directory, progress=False, **SF)  # fmt: skip
    return result, directory


def test_committee_equals_independent_models(data, trained):
    train, test = data
    result, _ = trained
    # the same three models, trained one by one without the committee code
    singles = []
    for s in member_seeds(4, 3):
        pot, desc = build_potential(train, hidden=(5,), seed=s, progress=False, **SF)
        cfg = TrainingConfig(**{**CONFIG.to_dict(), "seed": s})
        singles.append(Trainer(pot, train, config=cfg, train_descriptors=desc).fit().potential)
    for atoms in test:
        r = evaluate_committee_atoms(result.committee, atoms)
        E_m = np.array([evaluate_atoms(p, atoms, extrapolation="off").energy for p in singles])
        F_mnc = np.array([evaluate_atoms(p, atoms, extrapolation="off").forces_nc for p in singles])
        S_mcc = np.array([evaluate_atoms(p, atoms, extrapolation="off").stress_cc for p in singles])
        assert r.energy == pytest.approx(E_m.mean(), abs=1e-10)
        assert r.energy_std == pytest.approx(E_m.std(ddof=1), abs=1e-10)
        assert r.energy_std > 0.0
        np.testing.assert_allclose(r.forces_nc, F_mnc.mean(0), atol=1e-10, rtol=0)
        np.testing.assert_allclose(r.forces_std_nc, F_mnc.std(0, ddof=1), atol=1e-10, rtol=0)
        dev = F_mnc - F_mnc.mean(0)
        np.testing.assert_allclose(
            r.forces_std_n, np.sqrt((dev**2).sum(axis=(0, 2)) / 2), atol=1e-10, rtol=0
        )
        np.testing.assert_allclose(r.stress_std_cc, S_mcc.std(0, ddof=1), atol=1e-12, rtol=0)


def test_committee_of_one_is_refused(data, trained):
    result, _ = trained
    with pytest.raises(ValueError, match="at least 2 members, got 1"):
        Committee(result.committee.members[:1])
    with pytest.raises(ValueError, match="at least 2 members, got n_members=1"):
        train_committee(data[0], n_members=1, config=CONFIG, progress=False, **SF)


def test_directory_resume_loads_finished_members(data, trained):
    train, test = data
    result, directory = trained
    (directory / "member_001.json").unlink()  # as if killed while member 1 trained
    again = train_committee(train, n_members=3, config=CONFIG, seed=4, hidden=(5,),
                            directory=directory, progress=False, **SF)  # fmt: skip
    assert again.trained == [False, True, False]
    for a, b in zip(result.committee, again.committee):
        for e in a.elements:
            for Wa, Wb in zip(a.networks[e].weights, b.networks[e].weights):
                np.testing.assert_array_equal(Wa, Wb)


def test_calculator_and_md_spread_log(data, trained):
    _, test = data
    committee = trained[0].committee
    atoms = test[0].copy()
    atoms.calc = CommitteeCalculator(committee)
    r = evaluate_committee_atoms(committee, atoms)
    assert atoms.get_potential_energy() == pytest.approx(r.energy, abs=1e-12)
    np.testing.assert_allclose(atoms.calc.get_property("forces_std"), r.forces_std_n, atol=1e-12)
    assert atoms.calc.get_property("energy_std") == pytest.approx(r.energy_std, abs=1e-12)
    assert atoms.get_stress().shape == (6,) and atoms.calc.results["stress_std"].shape == (6,)
    log = SpreadLog(atoms, keep_frames_every=2)
    run_md(atoms, 2.0, 4, "langevin", temperature_K=600, seed=1, callback=log, progress=False)
    assert log.step_t.tolist() == [0, 1, 2, 3, 4] and len(log.frames) == 3
    assert np.all(log.max_force_std_t > 0) and np.all(log.energy_std_t > 0)
    assert log.frames[1].info["md_step"] == 2


def test_extrapolation_report(data, trained):
    train, _ = data
    committee = trained[0].committee
    inside = evaluate_committee_atoms(committee, train[0]).extrapolation
    assert inside.n_outside == 0 and inside.max_distance == 0.0
    squeezed = train[0].copy()
    squeezed.set_cell(squeezed.cell * 0.9, scale_atoms=True)  # closer neighbours than in training
    rep = evaluate_committee_atoms(committee, squeezed).extrapolation
    assert rep.n_outside > 0 and rep.max_distance > 0.0
    lo, hi = committee.training_range()["Cu"]
    G = rep.distance_ns  # check one entry by hand
    a, s = np.unravel_index(np.argmax(G), G.shape)
    G_raw = committee.members[0].descriptor.compute_atoms(squeezed, False).G_ns[a, s]
    expected = max(G_raw - hi[s], lo[s] - G_raw, 0.0) / (hi[s] - lo[s])
    assert G[a, s] == pytest.approx(expected, rel=1e-12)
    assert rep.function_es["Cu"].max() == pytest.approx(rep.max_distance)
    text = evaluate_committee_atoms(committee, squeezed).summary(top=3)
    assert text.count("\n") == 3 and "range widths outside the training range" in text


def test_rescale_potential_keeps_predictions(data, trained):
    train, test = data
    old = trained[0].committee.members[0]
    new = rescale_potential(old, train + test)
    assert not np.array_equal(new.scalings["Cu"].G_max, old.scalings["Cu"].G_max)
    for atoms in test:
        a, b = (
            evaluate_atoms(old, atoms, extrapolation="off"),
            evaluate_atoms(new, atoms, extrapolation="off"),
        )
        assert b.energy == pytest.approx(a.energy, abs=1e-9)
        np.testing.assert_allclose(b.forces_nc, a.forces_nc, atol=1e-9, rtol=0)


def test_warm_start_and_calibration(data, trained):
    train, test = data
    committee = trained[0].committee
    warm = train_committee(train + test[:1], n_members=3, config=CONFIG, seed=5,
                           warm_start=committee, progress=False)  # fmt: skip
    assert len(warm.committee) == 3 and all(warm.trained)
    with pytest.raises(ValueError, match="warm start from 3 members"):
        train_committee(train, n_members=2, config=CONFIG, warm_start=committee, progress=False)
    cal = calibrate(warm.committee, test)
    assert cal.force_error_k.size == 3 * sum(len(a) for a in test)
    assert cal.alpha_force == pytest.approx(
        np.sqrt(np.mean(cal.force_error_k**2) / np.mean(cal.force_std_k**2)), rel=1e-12
    )
    assert "alpha" in cal.summary()
    fig = plot_calibration(cal)
    assert len(fig.axes) == 2
    plt.close(fig)


def test_calibration_factor_closed_form():
    # errors twice the spread -> alpha = 2; no spread -> nan
    assert calibration_factor([0.2, -0.4], [0.1, 0.2]) == pytest.approx(2.0)
    assert np.isnan(calibration_factor([0.1], [0.0]))


@pytest.mark.slow
def test_parallel_workers_give_the_same_committee(data, trained):
    train, test = data
    serial = trained[0].committee
    parallel = train_committee(train, n_members=3, config=CONFIG, seed=4, hidden=(5,),
                               workers=2, progress=False, **SF).committee  # fmt: skip
    for a, b in zip(serial, parallel):
        for Wa, Wb in zip(a.networks["Cu"].weights, b.networks["Cu"].weights):
            np.testing.assert_allclose(Wb, Wa, rtol=0, atol=1e-12)


def test_bootstrap_training_sets(data):
    from nnp_ref.training.committee import member_training_set

    train, _ = data
    seeds = member_seeds(0, 4)
    sets = [member_training_set(train, s, bootstrap=True) for s in seeds]
    assert all(len(s) == len(train) for s in sets)
    ids = [tuple(id(a) for a in s) for s in sets]
    assert len(set(ids)) == 4  # every member sees another resample
    assert any(len(set(t)) < len(t) for t in ids)  # drawn with replacement
    assert member_training_set(train, seeds[0], bootstrap=False) == list(train)
    assert [id(a) for a in member_training_set(train, seeds[0], True)] == list(ids[0])
