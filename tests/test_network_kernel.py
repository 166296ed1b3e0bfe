"""The structure-wide network kernel against its reference, the NumPy network and atomic_energies.

``nnp_ref.model.network_kernel`` must give the numbers of ``network.forward``
/ ``input_gradient`` and ``atomic_energy.atomic_energies`` up to rounding
(different summation order: 1e-13 relative), for every activation code, with
and without normalize_nodes, and see weights changed in place and scalings
replaced between calls.
"""

import numpy as np
import pytest

from nnp_ref.model import activations as act
from nnp_ref.model import network as nn
from nnp_ref.model.atomic_energy import atomic_energies
from nnp_ref.model.extrapolation import outside_training_range
from nnp_ref.model.network_kernel import (
    activation_and_slope,
    count_outside,
    network_energies,
    network_layout,
    structure_energies,
)
from nnp_ref.model.scaling import Scaling
from tests.test_network import ARCHITECTURES, IDS, random_inputs, random_network
from tests.test_potential import make_potential

RTOL = 1e-13  # summation order differs from NumPy's matrix products


@pytest.mark.parametrize("code", act.CODES)
def test_activation_and_slope_equal_the_numpy_table(code):
    z_k = np.concatenate([np.linspace(-40.0, 40.0, 161), [0.0, -1e-9, 1e-9, 1e-300]])
    f_k, df_k, _ = act.activation(code, z_k)
    ours = np.array([activation_and_slope(act.CODES.index(code), z) for z in z_k])
    # libm and NumPy's SIMD functions may differ by an ulp; 1 - tanh^2 near |z| = 20
    # turns that into a relative difference of 1, an absolute one of 2e-16
    np.testing.assert_allclose(ours[:, 0], f_k, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ours[:, 1], df_k, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_network_energies_equal_forward_and_input_gradient(arch, normalize):
    net = random_network(*arch, normalize=normalize)
    X_as = random_inputs(net, a=7)
    E_a, cache = nn.forward(net, X_as)
    dEdX_as = nn.input_gradient(net, cache)
    padded_as = np.hstack([X_as, np.full((7, 2), 5.0)])  # padding columns are never read
    NN_a, dNNdX_as = network_energies(
        np.zeros(7, dtype=np.int64), padded_as, *network_layout([net])
    )
    np.testing.assert_allclose(NN_a, E_a, rtol=RTOL, atol=1e-15)
    np.testing.assert_allclose(dNNdX_as[:, : net.n_inputs], dEdX_as, rtol=RTOL, atol=1e-15)
    np.testing.assert_array_equal(dNNdX_as[:, net.n_inputs :], 0.0)


def test_network_energies_pick_each_atoms_element():
    """Three elements with different depths and widths, atoms interleaved."""
    nets = [random_network(*ARCHITECTURES[k], normalize=k == 2, seed=k) for k in (2, 7, 4)]
    elem_n = np.array([2, 0, 1, 1, 0, 2, 2, 1], dtype=np.int64)
    X_ns = np.random.default_rng(3).normal(size=(8, 5))
    NN_n, dNNdX_ns = network_energies(elem_n, X_ns, *network_layout(nets))
    for i, e in enumerate(elem_n):
        n_s = nets[e].n_inputs
        E_a, cache = nn.forward(nets[e], X_ns[i : i + 1, :n_s])
        np.testing.assert_allclose(NN_n[i], E_a[0], rtol=RTOL)
        np.testing.assert_allclose(
            dNNdX_ns[i, :n_s], nn.input_gradient(nets[e], cache)[0], rtol=RTOL, atol=1e-15
        )


def reference_energies(potential, G_ns, elem_n):
    """The element-wise NumPy step (atomic_energies) and its extrapolation records."""
    E_n, dEdG_ns, records = np.zeros(len(elem_n)), np.zeros_like(G_ns), []
    for e, symbol in enumerate(potential.elements):
        idx = np.flatnonzero(elem_n == e)
        n_s = potential.descriptor.n_s_e[e]
        scaling = potential.scalings[symbol]
        step = atomic_energies(
            potential.networks[symbol],
            scaling,
            G_ns[idx, :n_s],
            potential.energy_scale,
            potential.energy_offsets[symbol],
        )
        E_n[idx], dEdG_ns[idx, :n_s] = step.E_a, step.dEdG_as
        if scaling.mode != "none":
            rows, cols = np.nonzero(outside_training_range(scaling, G_ns[idx, :n_s]))
            for r, s in zip(rows, cols):
                G = G_ns[idx[r], s]
                records.append((int(idx[r]), int(s), G, scaling.G_min[s], scaling.G_max[s]))
    return E_n, dEdG_ns, records


@pytest.mark.parametrize("mode", ["scalecenter", "scale", "none"])
def test_structure_energies_equal_atomic_energies(mode):
    potential = make_potential(mode=mode, activations=("t", "s", "l"))
    rng = np.random.default_rng(4)
    elem_n = rng.integers(0, 2, size=11)
    G_ns = rng.uniform(-0.5, 3.0, size=(11, potential.descriptor.table_esq.shape[1]))
    for e, n_s in enumerate(potential.descriptor.n_s_e):
        G_ns[elem_n == e, n_s:] = 0.0  # padding, as the descriptors give it
    E_ref, dEdG_ref, records_ref = reference_energies(potential, G_ns, elem_n)
    E_n, dEdG_ns, records = structure_energies(potential, G_ns, elem_n, True, "warn")
    np.testing.assert_allclose(E_n, E_ref, rtol=RTOL)
    np.testing.assert_allclose(dEdG_ns, dEdG_ref, rtol=RTOL, atol=1e-15)
    assert (len(records) > 0) == (mode != "none")
    assert records == records_ref  # same values, same order (element by element)
    first = structure_energies(potential, G_ns[3:], elem_n[3:], False, "ignore", first_atom=3)
    np.testing.assert_allclose(first[0], E_ref[3:], rtol=RTOL)
    np.testing.assert_array_equal(first[1], 0.0)
    assert first[2] == []


def test_structure_energies_see_weights_set_in_place_and_new_scalings():
    potential = make_potential()
    rng = np.random.default_rng(5)
    elem_n = np.array([0, 1, 0, 1], dtype=np.int64)
    G_ns = rng.uniform(0.0, 1.0, size=(4, potential.descriptor.table_esq.shape[1]))
    before = structure_energies(potential, G_ns, elem_n, True, "off")[0]
    potential.networks["H"].biases[-1] += 0.25  # in place, as training.set_parameters does
    after = structure_energies(potential, G_ns, elem_n, True, "off")[0]
    np.testing.assert_allclose(after - before, 0.7 * 0.25 * (elem_n == 0), rtol=1e-12, atol=1e-13)
    n_s = potential.descriptor.n_s_e[1]
    potential.scalings["O"] = Scaling.identity(n_s)  # replaced: the cached arrays follow
    E_n = structure_energies(potential, G_ns, elem_n, True, "off")[0]
    np.testing.assert_allclose(E_n, reference_energies(potential, G_ns, elem_n)[0], rtol=RTOL)


def test_non_finite_network_output_warns_naming_the_atom():
    net = nn.Network([np.full((2, 1), -1.0)], [np.zeros(1)], ("e",))  # exp(-z) overflows
    NN_a, _ = network_energies(
        np.zeros(2, dtype=np.int64), np.array([[1.0, 1.0], [400.0, 400.0]]), *network_layout([net])
    )
    assert np.isfinite(NN_a[0]) and NN_a[1] == np.inf
    potential = make_potential()
    potential.networks["O"].biases[-1][0] = 1e308
    potential.networks["O"].weights[-1][:] = 1e308
    G_ns = np.ones((3, potential.descriptor.table_esq.shape[1]))
    with pytest.warns(RuntimeWarning, match="network of O gives a non-finite energy for atom 1"):
        structure_energies(potential, G_ns, np.array([0, 1, 1]), True, "off")


def test_count_outside_counts_what_the_records_list():
    """The quick count equals NumPy's count of G < lo or G > hi (NaN is neither), per element."""
    rng = np.random.default_rng(7)
    elem_n = rng.integers(0, 2, 50)
    lo_es, hi_es = -rng.uniform(0.5, 1.5, (2, 6)), rng.uniform(0.5, 1.5, (2, 6))
    lo_es[1, 4:], hi_es[1, 4:] = -np.inf, np.inf  # the padding of a shorter element
    G_ns = rng.normal(size=(50, 6))
    G_ns[3, 2] = np.nan
    expected = np.count_nonzero((G_ns < lo_es[elem_n]) | (G_ns > hi_es[elem_n]))
    assert 10 < expected < 200
    assert count_outside(G_ns, elem_n, lo_es, hi_es) == expected
    assert count_outside(np.zeros((50, 6)), elem_n, lo_es, hi_es) == 0
