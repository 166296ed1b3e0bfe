"""Stress training: batched virials, the stress-loss gradient vs central differences, bad input."""

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator

from nnp_ref.checks import compare, parameter_derivative
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.model.potential import evaluate_atoms
from nnp_ref.training.batch import reference_stress
from nnp_ref.training.loss import (
    LossWeights,
    loss_and_gradient,
    make_batch,
    predict,
    structure_data,
)
from nnp_ref.training.preprocessing import compute_descriptors
from nnp_ref.training.stress import batch_virials, virial_adjoint
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential
from tests.test_loss import small_potential
from tests.test_symmetry_functions import random_structure, sf_sets_two_elements

ELEMENTS = ("H", "O")


def with_reference(atoms, energy, forces, stress_voigt):
    atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces, stress=stress_voigt)
    return atoms


@pytest.fixture(scope="module")
def setup():
    """Potential with 4-3 networks, three periodic H/O structures with random references."""
    rng = np.random.default_rng(0)
    sets = sf_sets_two_elements(rc=3.5, cutoff_type=2)
    sfset = SymmetryFunctionSet(sets, ELEMENTS)
    structures = [random_structure(20, n=6), random_structure(21, n=7), random_structure(22, n=5)]
    for atoms in structures:
        with_reference(atoms, 3.0 * rng.normal() - 5.0, rng.normal(size=(len(atoms), 3)),
                       0.05 * rng.normal(size=6))  # fmt: skip
    return small_potential(structures, sets, sfset)


def test_reference_stress_voigt_to_matrix():
    atoms = bulk("Cu", "fcc", a=3.5) * (2, 1, 1)
    atoms.calc = EMT()
    S_cc = reference_stress(_labelled(atoms))
    np.testing.assert_allclose(S_cc, atoms.get_stress(voigt=False), rtol=0, atol=1e-15)
    assert reference_stress(bulk("Cu")) is None


def _labelled(atoms):
    out = atoms.copy()
    out.calc = SinglePointCalculator(out, energy=atoms.get_potential_energy(),
                                     stress=atoms.get_stress())  # fmt: skip
    return out


def test_batch_stress_equals_potential_evaluation(setup):
    potential, structures, items = setup
    pred = predict(potential, make_batch(items, potential), forces=False, stress=True)
    for b, atoms in enumerate(structures):
        result = evaluate_atoms(potential, atoms, extrapolation="ignore")
        scale = np.abs(result.stress_cc).max()
        assert scale > 1e-3
        np.testing.assert_allclose(pred.S_bcc[b], result.stress_cc, rtol=0, atol=1e-12 * scale)


def test_virial_adjoint_is_the_transpose(setup):
    """sum_is U_is dEdG_is = sum_bab dL/dW_bab W_bab for any dE/dG and dL/dW."""
    potential, _, items = setup
    batch = make_batch(items, potential)
    rng = np.random.default_rng(1)
    dEdG_ns = rng.normal(size=batch.dGself_nsc.shape[:2])
    dL_dW_bcc = rng.normal(size=(batch.n_structures, 3, 3))
    W_bcc = batch_virials(dEdG_ns, batch.dGdR_psc, batch.i_p, batch.D_pc, batch.struct_n,
                          batch.n_structures)  # fmt: skip
    U_ns = virial_adjoint(dL_dW_bcc, batch.dGdR_psc, batch.i_p, batch.D_pc, batch.struct_n,
                          batch.n_atoms)  # fmt: skip
    lhs, rhs = np.sum(U_ns * dEdG_ns), np.sum(dL_dW_bcc * W_bcc)
    assert abs(rhs) > 1e-2
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize(
    "weights",
    [
        LossWeights(energy=0.7, force=0.3, stress=40.0, l2=0.01),  # every term
        LossWeights(energy=0.0, force=0.0, stress=1.0),  # stress part alone
    ],
    ids=["all", "stress-only"],
)
def test_stress_loss_gradient_vs_finite_differences(setup, weights):
    potential, _, items = setup
    batch = make_batch(items, potential)
    value, grad = loss_and_gradient(potential, batch, weights)
    assert value.stress > 0.0 and value.rmse_stress > 0.0
    numeric = parameter_derivative(
        lambda: loss_and_gradient(potential, batch, weights, gradient=False)[0].total, potential
    )
    assert np.abs(numeric).max() > 1e-4
    assert compare("dL/dw (stress)", grad, numeric, verbose=False) < 1e-6


def test_stress_loss_value_follows_its_definition(setup):
    potential, structures, items = setup
    weights = LossWeights(energy=0.0, force=0.0, stress=3.0)
    value, _ = loss_and_gradient(potential, make_batch(items, potential), weights, gradient=False)
    S = np.array([evaluate_atoms(potential, a, extrapolation="ignore").stress_cc
                  for a in structures])  # fmt: skip
    S_ref = np.array([a.get_stress(voigt=False) for a in structures])
    assert value.total == pytest.approx(3.0 * np.mean((S - S_ref) ** 2), rel=1e-12)
    assert value.rmse_stress == pytest.approx(np.sqrt(np.mean((S - S_ref) ** 2)), rel=1e-12)


def test_missing_stress_is_named(setup):
    potential, structures, items = setup
    no_stress = structure_data(structures[0], compute_descriptors(structures[:1],
                               potential.descriptor, progress=False)[0], "the odd one")  # fmt: skip
    no_stress.S_ref_cc = None
    batch = make_batch([items[1], no_stress], potential)
    with pytest.raises(ValueError, match="1 structure.*no reference stress: the odd one"):
        loss_and_gradient(potential, batch, LossWeights(stress=1.0))
    loss_and_gradient(potential, batch, LossWeights(stress=0.0))  # fine without the term
    with pytest.raises(ValueError, match="kalman"):
        TrainingConfig(optimizer="kalman", stress_weight=1.0)


def emt_copper(n, seed, strain=0.04):
    """n EMT copper cells (2x2x1 conventional, 16 atoms), randomly strained and rattled."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        atoms = bulk("Cu", "fcc", a=3.6, cubic=True) * (2, 2, 1)
        eps = rng.uniform(-strain, strain, (3, 3))
        eps = 0.5 * (eps + eps.T)
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
        atoms.rattle(0.05, seed=int(rng.integers(2**31)))
        atoms.calc = EMT()
        out.append(with_reference(atoms.copy(), atoms.get_potential_energy(),
                                  atoms.get_forces(), atoms.get_stress()))  # fmt: skip
    return out


def test_trainer_with_stress_weight_learns_the_stress():
    train = emt_copper(6, seed=0)
    potential, descriptors = build_potential(train, hidden=(5,), seed=0, progress=False, rc=4.0,
                                             n_radial=4, n_angular=1, zetas=(1.0,))  # fmt: skip
    config = TrainingConfig(optimizer="lbfgs", epochs=15, stress_weight=1.0, progress=False)
    result = Trainer(potential, train, None, config, train_descriptors=descriptors).fit()
    first, last = result.history[0], result.history[-1]
    assert last["rmse_stress_train_meV_per_A3"] < 0.5 * first["rmse_stress_train_meV_per_A3"]
    assert np.isnan(last["rmse_stress_validation_meV_per_A3"])
    assert result.potential.metadata["training"]["stress_unit_eV_per_A3"] > 0
    # a structure without a stress is named before training
    bare = train[0].copy()
    bare.calc = SinglePointCalculator(bare, energy=train[0].get_potential_energy(),
                                      forces=train[0].get_forces())  # fmt: skip
    with pytest.raises(ValueError, match="training set have no reference stress.*structure 1"):
        Trainer(potential, [train[1], bare], None, config)
