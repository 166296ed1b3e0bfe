"""Loss and its hand-written gradients against central finite differences.

Tiny networks, two elements (H, O), periodic structures, energies and forces:
the whole gradient dL/dw (energy part by backpropagation, force part through
the descriptor derivatives and the network's mixed second derivative, L2),
the Kalman Jacobians dE/dw and dF_kc/dw, and the batch prediction against
the potential's own evaluation.
"""

import numpy as np
import pytest

from nnp_ref.checks import compare, parameter_derivative
from nnp_ref.data.datasets import attach_reference
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential, evaluate_atoms, force_adjoint
from nnp_ref.training.loss import (
    LossWeights,
    energy_jacobian,
    force_adjoint_components,
    force_jacobian,
    get_parameters,
    loss_and_gradient,
    make_batch,
    predict,
    set_parameters,
    structure_data,
    weight_mask,
)
from nnp_ref.training.preprocessing import compute_descriptors, scaling_from_descriptors
from tests.test_symmetry_functions import random_structure, sf_sets_two_elements

ELEMENTS = ("H", "O")


@pytest.fixture(scope="module")
def setup():
    """Potential with 4-3 networks, three periodic H/O structures with random references."""
    rng = np.random.default_rng(0)
    sets = sf_sets_two_elements(rc=3.5, cutoff_type=2)
    sfset = SymmetryFunctionSet(sets, ELEMENTS)
    structures = [
        random_structure(10, n=6),
        random_structure(11, n=7, pbc=(True, False, True)),
        random_structure(12, n=5),
    ]
    for atoms in structures:
        attach_reference(atoms, 3.0 * rng.normal() - 5.0, rng.normal(size=(len(atoms), 3)))
    return small_potential(structures, sets, sfset)


def small_potential(structures, sets, sfset):
    """A two-element potential with 4-3 networks, scaled on ``structures``, and their data."""
    descriptors = compute_descriptors(structures, sfset, progress=False)
    networks = {
        e: nn.make_network(len(sets[e]), hidden=(4, 3), activations=("t", "s", "l"),
                           seed=k, init="glorot")
        for k, e in enumerate(ELEMENTS)
    }  # fmt: skip
    potential = Potential(
        ELEMENTS,
        sets,
        networks,
        scalings=scaling_from_descriptors(descriptors, ELEMENTS),
        energy_offsets={"H": -1.0, "O": -2.0},
        energy_scale=0.7,
    )
    items = [structure_data(a, d) for a, d in zip(structures, descriptors)]
    return potential, structures, items


def test_batch_prediction_equals_potential_evaluation(setup):
    potential, structures, items = setup
    batch = make_batch(items, potential)
    pred = predict(potential, batch)
    first = 0
    for b, atoms in enumerate(structures):
        result = evaluate_atoms(potential, atoms, stress=False)
        assert pred.E_b[b] == pytest.approx(result.energy, rel=1e-13)
        np.testing.assert_allclose(
            pred.F_nc[first : first + len(atoms)], result.forces_nc, rtol=0, atol=1e-12
        )
        first += len(atoms)


def test_loss_value_follows_its_definition(setup):
    potential, structures, items = setup
    batch = make_batch(items, potential)
    weights = LossWeights(energy=1.7, force=0.4, l2=0.05)
    value, _ = loss_and_gradient(potential, batch, weights, gradient=False)
    E = np.array([evaluate_atoms(potential, a).energy for a in structures])
    E_ref = np.array([a.get_potential_energy() for a in structures])
    N = np.array([len(a) for a in structures])
    F = np.vstack([evaluate_atoms(potential, a).forces_nc for a in structures])
    F_ref = np.vstack([a.get_forces() for a in structures])
    w = get_parameters(potential)[weight_mask(potential)]
    expected = (
        1.7 * np.mean(((E - E_ref) / N) ** 2) + 0.4 * np.mean((F - F_ref) ** 2) + 0.05 * w @ w
    )
    assert value.total == pytest.approx(expected, rel=1e-12)
    assert value.rmse_energy == pytest.approx(np.sqrt(np.mean(((E - E_ref) / N) ** 2)))
    assert value.rmse_force == pytest.approx(np.sqrt(np.mean((F - F_ref) ** 2)))


@pytest.mark.parametrize(
    "weights,use_forces",
    [
        (LossWeights(energy=1.3, force=0.8, l2=0.01), True),  # everything
        (LossWeights(energy=0.0, force=1.0), True),  # force part alone
        (LossWeights(energy=1.0, force=5.0), False),  # energy part alone
    ],
)
def test_loss_gradient_vs_finite_differences(setup, weights, use_forces):
    potential, _, items = setup
    batch = make_batch(items, potential)
    value, grad = loss_and_gradient(potential, batch, weights, use_forces)
    numeric = parameter_derivative(
        lambda: loss_and_gradient(potential, batch, weights, use_forces, gradient=False)[0].total,
        potential,
    )
    assert np.abs(numeric).max() > 1e-3
    rel = compare("dL/dw", grad, numeric, verbose=False)
    assert rel < 1e-6


def test_kalman_jacobians_vs_finite_differences(setup):
    potential, _, items = setup
    batch = make_batch(items[1:2], potential)
    pred = predict(potential, batch)
    k_m, c_m = np.array([0, 3, 3, 6]), np.array([2, 0, 1, 1])
    dE = energy_jacobian(potential, batch, pred)
    dF = force_jacobian(potential, batch, pred, k_m, c_m)
    num_E = parameter_derivative(lambda: predict(potential, batch).E_b[0], potential)
    num_F = parameter_derivative(lambda: predict(potential, batch).F_nc[k_m, c_m], potential)
    assert compare("dE/dw", dE, num_E, verbose=False) < 1e-6
    assert compare("dF/dw", dF, num_F, verbose=False) < 1e-6
    with pytest.raises(ValueError, match="one structure"):
        energy_jacobian(potential, make_batch(items, potential), pred)


def test_force_adjoint_components_are_unit_adjoints(setup):
    potential, _, items = setup
    it = items[0]
    k_m, c_m = np.array([1, 4, 1]), np.array([0, 2, 2])
    V_mns = force_adjoint_components(k_m, c_m, it.dGdR_psc, it.dGself_nsc, it.i_p, it.j_p)
    for m, (k, c) in enumerate(zip(k_m, c_m)):
        unit = np.zeros((it.n_atoms, 3))
        unit[k, c] = 1.0
        V = force_adjoint(unit, it.dGdR_psc, it.dGself_nsc, it.i_p, it.j_p)
        np.testing.assert_array_equal(V_mns[m], V)
    assert np.abs(V_mns).max() > 0.1


def test_parameters_round_trip_and_mask(setup):
    potential, _, _ = setup
    w = get_parameters(potential)
    n_H = nn.n_parameters(potential.networks["H"])
    assert w.size == n_H + nn.n_parameters(potential.networks["O"])
    np.testing.assert_array_equal(w[:n_H], nn.to_flat(potential.networks["H"]))
    set_parameters(potential, w + 1.0)
    np.testing.assert_array_equal(get_parameters(potential), w + 1.0)
    set_parameters(potential, w)
    mask = weight_mask(potential)
    n_weights = sum(W.size for e in ELEMENTS for W in potential.networks[e].weights)
    assert mask.sum() == n_weights
    with pytest.raises(ValueError, match="entries"):
        set_parameters(potential, np.zeros(w.size + 1))
