"""Element network: forward vs an n2p2-style loop reference, every derivative vs central
finite differences (checkdw style), flat layout, initialisation and error messages."""

import numpy as np
import pytest

from nnp_ref.checks import central_difference, compare
from nnp_ref.model import activations as act
from nnp_ref.model import network as nn

# (n_input, hidden, activations): 0-3 hidden layers, all ten codes, nonlinear outputs too
ARCHITECTURES = [
    (3, (), ("l",)),
    (4, (5,), ("t", "l")),
    (4, (6, 5), ("t", "s", "l")),
    (3, (4, 4), ("p", "g", "l")),
    (5, (4, 3), ("c", "S", "l")),
    (3, (4, 3), ("e", "h", "l")),
    (4, (5, 4), ("r", "t", "l")),
    (4, (3, 4, 3), ("t", "p", "g", "s")),
    (2, (3, 3, 2), ("S", "c", "h", "t")),
]
IDS = ["-".join(a[2]) + f"-{len(a[1])}h" for a in ARCHITECTURES]
H = 1e-6  # checkdw-style step
REL = 1e-6  # checkdw-style bound on max|analytic - numeric| / max|numeric|


def random_network(n_input, hidden, activations, normalize, seed=0):
    """Weights and biases ~ N(0, 0.5^2), times n_{l-1} with normalize (same pre-activations).

    Nonzero biases exercise normalize's rule that the bias is divided too.
    """
    sizes = (n_input, *hidden, 1)
    rng = np.random.default_rng(seed)
    flat = rng.normal(scale=0.5, size=nn.n_parameters(sizes))
    net = nn.from_flat(sizes, flat, activations=activations, normalize=normalize)
    if normalize:
        for W, b in zip(net.weights, net.biases, strict=True):
            b *= W.shape[0]
            W *= W.shape[0]
    return net


def random_inputs(net, a=5, seed=1):
    return np.random.default_rng(seed).normal(size=(a, net.n_inputs))


def reference_energy(net, x_s):
    """n2p2 NeuralNetwork::propagateLayer as explicit loops, one atom."""
    values = list(x_s)
    for l in range(1, net.n_layers + 1):
        W, b = net.weights[l - 1], net.biases[l - 1]
        new = []
        for k in range(W.shape[1]):
            dtmp = sum(W[j, k] * values[j] for j in range(W.shape[0])) + b[k]
            if net.normalize:
                dtmp /= W.shape[0]
            new.append(act.activation(net.activations[l - 1], dtmp)[0])
        values = new
    return float(values[0])


def fd_parameters(fun, net, h=H):
    """d fun(net) / d theta by central differences over the flat vector."""
    return central_difference(lambda theta: fun(nn.from_flat(net, theta)), nn.to_flat(net), h)


def fd_inputs(net, X_as, h=H):
    """dE_a/dX_as by central differences (rows are independent)."""
    out = np.zeros_like(X_as)
    for s in range(X_as.shape[1]):
        plus, minus = X_as.copy(), X_as.copy()
        plus[:, s] += h
        minus[:, s] -= h
        out[:, s] = (nn.energy(net, plus) - nn.energy(net, minus)) / (2 * h)
    return out


def assert_checkdw(name, analytic, numeric):
    scale = np.max(np.abs(numeric))
    assert scale > 1e-3, f"{name}: numerical derivative too small to test anything"
    rel = compare(name, analytic, numeric)
    assert rel < REL, f"{name}: relative error {rel:.2e} >= {REL:g}"


@pytest.fixture(params=[False, True], ids=["plain", "normalize"])
def normalize(request):
    return request.param


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_forward_matches_loop_reference(arch, normalize):
    net = random_network(*arch, normalize)
    X_as = random_inputs(net)
    E_a, cache = nn.forward(net, X_as)
    assert E_a.shape == (5,)
    assert len(cache.y) == net.n_layers + 1 and cache.y[0] is cache.X_as
    reference = [reference_energy(net, x_s) for x_s in X_as]
    np.testing.assert_allclose(E_a, reference, rtol=1e-13, atol=1e-13)


def test_normalize_divides_bias_too():
    # [1] -> [1] linear: E = (w x + b) / 1 is unchanged; [2] -> [1]: E = (w.x + b) / 2
    net = nn.Network([np.array([[1.0], [3.0]])], [np.array([4.0])], ("l",), normalize=True)
    E_a, _ = nn.forward(net, np.array([[1.0, 1.0]]))
    assert E_a[0] == pytest.approx((1.0 + 3.0 + 4.0) / 2, rel=1e-15)


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_backward_vs_finite_differences(arch, normalize):
    net = random_network(*arch, normalize)
    X_as = random_inputs(net)
    g_a = np.random.default_rng(2).normal(size=X_as.shape[0])
    _, cache = nn.forward(net, X_as)
    analytic = nn.grads_to_flat(nn.backward(net, cache, g_a))
    numeric = fd_parameters(lambda n: g_a @ nn.energy(n, X_as), net)
    assert_checkdw("dL/dtheta", analytic, numeric)


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_input_gradient_vs_finite_differences(arch, normalize):
    net = random_network(*arch, normalize)
    X_as = random_inputs(net)
    _, cache = nn.forward(net, X_as)
    assert_checkdw("dE/dX", nn.input_gradient(net, cache), fd_inputs(net, X_as))


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_force_training_gradient_vs_finite_differences(arch, normalize):
    net = random_network(*arch, normalize)
    X_as = random_inputs(net)
    V_as = np.random.default_rng(3).normal(size=X_as.shape)

    def phi(n):  # sum_a dE_a/dX_a . v_a with the (separately tested) analytic input gradient
        return np.sum(nn.input_gradient(n, nn.forward(n, X_as)[1]) * V_as)

    _, cache = nn.forward(net, X_as)
    analytic = nn.grads_to_flat(nn.force_training_gradient(net, cache, V_as))
    numeric = fd_parameters(phi, net)
    if arch[1] == ():  # linear: Phi = c sum_a v_a . W[:, 0], c = 1/n_0 or 1, independent of b
        c = 1.0 / X_as.shape[1] if normalize else 1.0
        assert analytic[-1] == 0.0
        np.testing.assert_allclose(analytic[:-1], c * V_as.sum(axis=0), rtol=1e-14)
    assert_checkdw("dPhi/dtheta", analytic, numeric)


@pytest.mark.parametrize("arch", ARCHITECTURES[2:4], ids=IDS[2:4])
def test_phi_is_directional_derivative_of_energy(arch):
    net = random_network(*arch, normalize=False)
    X_as = random_inputs(net)
    V_as = np.random.default_rng(4).normal(size=X_as.shape)
    _, cache = nn.forward(net, X_as)
    phi = np.sum(nn.input_gradient(net, cache) * V_as)
    numeric = (nn.energy(net, X_as + H * V_as).sum() - nn.energy(net, X_as - H * V_as).sum()) / (
        2 * H
    )
    assert phi == pytest.approx(numeric, rel=1e-7)


def test_wrong_second_derivative_is_detected(monkeypatch):
    """The force-training check can fail: a tanh with f'' = 0 must be caught."""
    net = random_network(4, (5, 4), ("t", "t", "l"), normalize=False)
    X_as = random_inputs(net)
    V_as = np.random.default_rng(3).normal(size=X_as.shape)

    def phi(n):
        return np.sum(nn.input_gradient(n, nn.forward(n, X_as)[1]) * V_as)

    numeric = fd_parameters(phi, net)
    good_tanh = act.ACTIVATIONS["t"]
    monkeypatch.setitem(act.ACTIVATIONS, "t", lambda z: (*good_tanh(z)[:2], np.zeros_like(z)))
    _, cache = nn.forward(net, X_as)
    wrong = nn.grads_to_flat(nn.force_training_gradient(net, cache, V_as))
    assert compare("wrong f''", wrong, numeric, verbose=False) > 1e-2


def test_gradients_are_sums_over_atoms():
    net = random_network(4, (5, 3), ("t", "s", "l"), normalize=True)
    X_as = random_inputs(net, a=6)
    V_as = np.random.default_rng(5).normal(size=X_as.shape)
    _, cache = nn.forward(net, X_as)
    total = nn.grads_to_flat(nn.backward(net, cache, np.ones(6)))
    total_ft = nn.grads_to_flat(nn.force_training_gradient(net, cache, V_as))
    per_atom = np.zeros_like(total)
    per_atom_ft = np.zeros_like(total)
    for a in range(6):
        _, c = nn.forward(net, X_as[a : a + 1])
        per_atom += nn.grads_to_flat(nn.backward(net, c, np.ones(1)))
        per_atom_ft += nn.grads_to_flat(nn.force_training_gradient(net, c, V_as[a : a + 1]))
    np.testing.assert_allclose(total, per_atom, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(total_ft, per_atom_ft, rtol=1e-12, atol=1e-14)


def test_gradient_shapes_and_empty_input():
    net = random_network(4, (5, 3), ("t", "s", "l"), normalize=False)
    _, cache = nn.forward(net, random_inputs(net))
    for grads in (
        nn.backward(net, cache, np.ones(5)),
        nn.force_training_gradient(net, cache, np.ones((5, 4))),
    ):
        assert [dW.shape for dW, _ in grads] == [W.shape for W in net.weights]
        assert [db.shape for _, db in grads] == [b.shape for b in net.biases]
    E_a, cache = nn.forward(net, np.zeros((0, 4)))
    assert E_a.shape == (0,) and nn.input_gradient(net, cache).shape == (0, 4)
    np.testing.assert_array_equal(nn.grads_to_flat(nn.backward(net, cache, np.zeros(0))), 0.0)


# --- flat layout -------------------------------------------------------------------------


def test_flat_order_is_n2p2_weights_data_order():
    W1 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # W1[j, k]: source j, target k
    b1 = np.array([7.0, 8.0, 9.0])
    W2 = np.array([[10.0], [11.0], [12.0]])
    b2 = np.array([13.0])
    net = nn.Network([W1, W2], [b1, b2], ("t", "l"))
    # n2p2: for each layer, sources outer, targets inner, then the layer's biases
    np.testing.assert_array_equal(nn.to_flat(net), np.arange(1.0, 14.0))
    assert nn.n_parameters(net) == 13 == nn.n_parameters((2, 3, 1))
    assert nn.n_parameters((3, 25, 25, 1)) == 3 * 25 + 25 + 25 * 25 + 25 + 25 + 1
    assert nn.layer_sizes(net) == (2, 3, 1)


@pytest.mark.parametrize("arch", ARCHITECTURES, ids=IDS)
def test_flat_round_trip(arch):
    net = random_network(*arch, normalize=True)
    flat = nn.to_flat(net)
    again = nn.from_flat(net, flat)
    assert again.activations == net.activations and again.normalize is True
    for W, W2 in zip(net.weights, again.weights, strict=True):
        np.testing.assert_array_equal(W, W2)
    np.testing.assert_array_equal(nn.to_flat(again), flat)
    from_sizes = nn.from_flat(nn.layer_sizes(net), flat, activations=arch[2])
    np.testing.assert_array_equal(nn.to_flat(from_sizes), flat)
    assert from_sizes.normalize is False
    flat[0] += 1.0  # from_flat copies
    assert again.weights[0][0, 0] != flat[0]
    pairs = nn.flat_to_pairs(nn.layer_sizes(net), nn.to_flat(net))
    np.testing.assert_array_equal(nn.grads_to_flat(pairs), nn.to_flat(net))


def test_from_flat_errors():
    net = random_network(3, (4,), ("t", "l"), normalize=False)
    with pytest.raises(ValueError, match=r"shape \(20,\).*\(3, 4, 1\) need \(21,\)"):
        nn.from_flat(net, np.zeros(20))
    with pytest.raises(ValueError, match="without activation codes"):
        nn.from_flat((3, 4, 1), np.zeros(21))


# --- initialisation ----------------------------------------------------------------------


@pytest.mark.parametrize("init", ["nguyen-widrow", "glorot"])
def test_init_reproducible_for_a_seed(init):
    a = nn.make_network(6, hidden=(8, 7), init=init, seed=42)
    b = nn.make_network(6, hidden=(8, 7), init=init, seed=42)
    c = nn.make_network(6, hidden=(8, 7), init=init, seed=43)
    np.testing.assert_array_equal(nn.to_flat(a), nn.to_flat(b))
    assert not np.allclose(nn.to_flat(a), nn.to_flat(c))
    assert nn.layer_sizes(a) == (6, 8, 7, 1) and a.activations == ("t", "t", "l")


def test_default_network():
    net = nn.make_network(10)
    assert nn.layer_sizes(net) == (10, 25, 25, 1)
    assert net.activations == ("t", "t", "l") and net.normalize is False


@pytest.mark.parametrize("activations", [("t", "t", "l"), ("s", "p", "l"), ("t", "g", "s")])
def test_nguyen_widrow_ranges(activations):
    net = nn.make_network(6, hidden=(20, 15), activations=activations, seed=7)
    sizes = nn.layer_sizes(net)
    for l in (1, 2):  # hidden layers: |w_j| = gain * beta, |b_j| < gain * beta
        n_in, n_out = sizes[l - 1], sizes[l]
        beta = 0.7 * n_out ** (1.0 / n_in)
        gain = 2.0 if activations[l - 1] == "t" else 1.0
        norms = np.linalg.norm(net.weights[l - 1], axis=0)
        np.testing.assert_allclose(norms, gain * beta, rtol=1e-14)
        assert np.all(np.abs(net.biases[l - 1]) <= gain * beta)
        assert np.max(np.abs(net.biases[l - 1])) > 0.5 * gain * beta  # uniform, not tiny
    W_out, b_out = net.weights[-1], net.biases[-1]
    assert -0.5 <= W_out[0, 0] < 0.5  # n2p2 halves only the first output weight
    assert np.all((W_out >= -1.0) & (W_out < 1.0)) and -1.0 <= b_out[0] < 1.0
    assert np.max(np.abs(W_out[1:])) > 0.5  # the others stay uniform in [-1, 1)


def test_nguyen_widrow_weights_range():
    net = nn.make_network(4, hidden=(30,), activations=("s", "l"), seed=3, weights_range=(0.0, 0.1))
    assert np.all((net.weights[-1] >= 0.0) & (net.weights[-1] < 0.1))
    assert np.all(net.weights[0] >= 0.0) and np.all(net.biases[0] >= 0.0)


def test_glorot_ranges():
    net = nn.make_network(6, hidden=(20, 15), init="glorot", seed=7)
    for W, b in zip(net.weights, net.biases, strict=True):
        limit = np.sqrt(6.0 / sum(W.shape))
        assert np.all(np.abs(W) <= limit) and np.max(np.abs(W)) > 0.7 * limit
        np.testing.assert_array_equal(b, 0.0)


def test_make_network_errors():
    with pytest.raises(
        ValueError, match=r"2 hidden layers \+ output need 3 activation codes, got 2"
    ):
        nn.make_network(3, hidden=(4, 4), activations=("t", "l"))
    with pytest.raises(ValueError, match="init must be 'nguyen-widrow' or 'glorot'"):
        nn.make_network(3, init="xavier")
    with pytest.raises(ValueError, match="layer sizes must be >= 1"):
        nn.make_network(3, hidden=(0,), activations=("t", "l"))
    with pytest.raises(ValueError, match="unknown activation code 'q'"):
        nn.make_network(3, hidden=(4,), activations=("q", "l"))


# --- validation --------------------------------------------------------------------------


def layers(*shapes):
    return [np.ones(s) for s in shapes], [np.ones(s[1]) for s in shapes]


def test_mismatched_layer_sizes_named():
    W, b = layers((3, 4), (5, 1))
    with pytest.raises(
        ValueError,
        match=r"layer 2 \(output\): weights \(5, 1\) take 5 inputs but layer 1 "
        r"\(hidden\) has 4 neurons \(weights \(3, 4\)\)",
    ):
        nn.Network(W, b, ("t", "l"))


def test_bias_shape_mismatch_named():
    W, b = layers((3, 4), (4, 1))
    b[0] = np.ones(3)
    with pytest.raises(
        ValueError, match=r"layer 1 \(hidden\): bias shape \(3,\) does not match weights \(3, 4\)"
    ):
        nn.Network(W, b, ("t", "l"))


@pytest.mark.parametrize("layer,what,value", [(1, "weights", np.nan), (2, "biases", np.inf)])
def test_non_finite_parameters_named(layer, what, value):
    W, b = layers((3, 4), (4, 1))
    (W if what == "weights" else b)[layer - 1].flat[0] = value
    with pytest.raises(ValueError, match=rf"layer {layer} .*{what} contain 1 NaN/inf"):
        nn.Network(W, b, ("t", "l"))
    net = nn.make_network(3, hidden=(4,), activations=("t", "l"))
    net.weights[0][1, 2] = np.nan  # modified after construction: check_network catches it
    with pytest.raises(
        ValueError, match=r"network of H: layer 1 \(hidden\): weights contain 1 NaN"
    ):
        nn.check_network(net, name="network of H")


def test_wrong_number_of_activations():
    W, b = layers((3, 4), (4, 1))
    with pytest.raises(
        ValueError, match=r"2 layers \(1 hidden \+ output\) need 2 activation codes, got 3"
    ):
        nn.Network(W, b, ("t", "t", "l"))
    with pytest.raises(ValueError, match=r"layer 2 \(output\): unknown activation code 'x'"):
        nn.Network(W, b, ("t", "x"))
    with pytest.raises(ValueError, match="2 weight matrices but 1 bias vectors"):
        nn.Network(W, b[:1], ("t", "l"))


def test_output_layer_must_have_one_neuron():
    W, b = layers((3, 4), (4, 2))
    with pytest.raises(
        ValueError, match=r"layer 2 \(output\): weights \(4, 2\) must have exactly 1 output"
    ):
        nn.Network(W, b, ("t", "l"))


def test_input_width_mismatch():
    net = nn.make_network(3, hidden=(4,), activations=("t", "l"))
    with pytest.raises(ValueError, match=r"X_as must have shape \(a, 3\).*got \(5, 4\)"):
        nn.forward(net, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"got \(3,\)"):
        nn.forward(net, np.zeros(3))
    with pytest.raises(ValueError, match=r"network of O: layer 1 takes 3 inputs .* but 7 symmetry"):
        nn.check_network(net, n_inputs=7, name="network of O")
    _, cache = nn.forward(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"V_as must have shape \(5, 3\)"):
        nn.force_training_gradient(net, cache, np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"dL_dE_a must have shape \(5,\)"):
        nn.backward(net, cache, np.zeros(4))
