"""Two-stage 4G training: hand-written gradients against central differences.

Data: ../shared/n2p2/Carbon_chain_4G_train (a neutral C10H2 and a charged
C10H3+ structure); the potential is Carbon_chain_4G's with random
short-range weights (its own short-range files do not fit input.nn, see
test_fourth_generation.py).
"""

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from nnp_ref.checks import central_difference, compare
from nnp_ref.io.n2p2 import N2p2FormatError, read_data
from nnp_ref.io.n2p2.fourth_generation import read_potential_4g
from nnp_ref.model.network import from_flat, layer_sizes, n_parameters
from nnp_ref.training import fourth_generation as t4

UNITS = dict(length_unit=Bohr, energy_unit=Hartree)


@pytest.fixture(scope="module")
def setup(n2p2_dir_module):
    pot = read_potential_4g(n2p2_dir_module / "Carbon_chain_4G", zero_short_range=True, **UNITS)
    rng = np.random.default_rng(0)
    for e, net in pot.short_networks.items():
        sizes = layer_sizes(net)
        flat = rng.normal(0.0, 0.3, n_parameters(sizes))
        pot.short_networks[e] = from_flat(sizes, flat, net.activations, net.normalize)
    data = read_data(n2p2_dir_module / "Carbon_chain_4G_train" / "input.data", **UNITS)
    structures = [data[0], data[3]]
    assert [a.info["charge"] for a in structures] == [0.0, 1.0]
    return pot, t4.prepare(pot, structures)


def subset_difference(loss, w, idx, h=1e-6):
    def f(sub):
        moved = w.copy()
        moved[idx] = sub
        return loss(moved)

    return central_difference(f, w[idx], h=h)


def test_charge_loss_gradient_through_qeq(setup):
    """dL_Q/dw (chi networks) and dL_Q/dlog J through the charge-equilibration solve."""
    pot, frames = setup
    w = t4.chi_parameters(pot)
    loss, grad = t4.charge_loss(pot, frames)
    idx = np.append(
        np.random.default_rng(1).choice(len(w) - 2, 30, replace=False), [len(w) - 2, len(w) - 1]
    )

    def value(v):
        return t4.charge_loss(t4.with_chi_parameters(pot, v), frames, gradient=False)[0]

    assert loss > 0
    assert compare("dL_Q/dw", grad[idx], subset_difference(value, w, idx)) < 1e-6


def test_short_range_loss_gradient_energy_and_forces(setup):
    """dL/dw of the stage-2 loss, forces including the charge response (eta = P h)."""
    pot, frames = setup
    short_frames = t4.prepare_short(pot, frames)
    w = t4.short_parameters(pot)
    loss, grad = t4.short_loss(pot, short_frames, force_weight=3.0)
    idx = np.random.default_rng(2).choice(len(w), 40, replace=False)

    def value(v):
        return t4.short_loss(t4.with_short_parameters(pot, v), short_frames, 3.0, gradient=False)[0]

    assert compare("dL/dw", grad[idx], subset_difference(value, w, idx)) < 1e-6
    assert loss > 0


def test_stage_two_forces_equal_model_forces(setup):
    """The training path's forces are the model's (``evaluate``) forces."""
    from nnp_ref.model.fourth_generation import evaluate, short_range_energies

    pot, frames = setup
    for sf in t4.prepare_short(pot, frames):
        short = short_range_energies(pot, sf.frame.desc, sf.Q_n)
        F_nc, _ = t4.short_forces(pot, sf, short.dEdG_ns, short.dEdQ_n)
        geo = sf.frame.geo
        symbols = [pot.elements[e] for e in sf.frame.desc.elem_n]
        r = evaluate(pot, symbols, geo.R_nc, total_charge=sf.frame.total_charge)
        np.testing.assert_allclose(F_nc, r.forces_nc, rtol=0, atol=1e-12)
        np.testing.assert_allclose(sf.Q_n, r.charges_n, rtol=0, atol=1e-14)


def test_stage_one_lowers_the_charge_error(setup):
    """From random electronegativity networks, a few L-BFGS iterations."""
    pot, frames = setup
    rng = np.random.default_rng(3)
    w = t4.chi_parameters(pot)
    w[:-2] = rng.normal(0.0, 0.3, len(w) - 2)
    pot = t4.with_chi_parameters(pot, w)
    before = t4.charge_loss(pot, frames, gradient=False)[0]
    trained, history = t4.train_charges(pot, frames, iterations=15, progress=False)
    assert t4.charge_loss(trained, frames, gradient=False)[0] < 0.5 * before
    assert all(j > 0 for j in trained.hardness.values())


def test_training_start_files_that_do_not_fit_input_nn_are_refused(n2p2_dir):
    """Carbon_chain_4G_train's weightse.*.data have 48/72 inputs; input.nn defines 24/36."""
    with pytest.raises(
        N2p2FormatError, match=r"weightse\.001\.data.*expected 631 weights, found more"
    ):
        read_potential_4g(n2p2_dir / "Carbon_chain_4G_train", zero_short_range=True, **UNITS)


def test_checkpoint_keeps_finished_iterations(setup, tmp_path):
    from nnp_ref.io.n2p2.fourth_generation import read_potential_4g as read_back

    pot, frames = setup
    trained, _ = t4.train_charges(pot, frames, iterations=20, progress=False,
                                  checkpoint_dir=tmp_path / "stage1")  # fmt: skip
    again = read_back(tmp_path / "stage1", **UNITS)
    for e in pot.elements:
        np.testing.assert_array_equal(
            again.electronegativity_networks[e].weights[0],
            trained.electronegativity_networks[e].weights[0],
        )
