r"""Element network of an HDNNP: feed-forward pass and hand-written derivatives.

J. Behler and M. Parrinello, Phys. Rev. Lett. 98, 146401 (2007): the energy
of atom i is the output of the network of its element applied to its
(scaled) symmetry functions. Conventions (layout, normalize_nodes,
activations, initialisation) follow n2p2: A. Singraber, J. Behler and
C. Dellago, J. Chem. Theory Comput. 15, 1827 (2019);
``src/libnnp/NeuralNetwork.cpp``.

All atoms of one element are evaluated at once; row a is one atom. Layers
l = 1..L with n_l neurons, n_0 = number of inputs, n_L = 1:

    y^0 = X                              (a, n_0)  scaled symmetry functions
    s^l = y^{l-1} W_l + b_l              (a, n_l)  W_l (n_{l-1}, n_l), b_l (n_l,)
    z^l = c_l s^l                        (a, n_l)  c_l = 1/n_{l-1} (normalize) or 1
    y^l = f_l(z^l)                       (a, n_l)  f_l: n2p2 code of layer l
    E   = y^L[:, 0]                      (a,)

normalize_nodes (n2p2 ``propagateLayer``): the whole weighted sum, bias
included, is divided by the number of neurons of the previous layer.
Unlike n2p2 (which needs >= 1 hidden layer) L = 1 is allowed.

Derivatives, all written out layer by layer with one local rule per line
(micrograd style):

- :func:`backward`: dL/dW_l, dL/db_l for L = sum_a g_a E_a (reverse mode).
- :func:`input_gradient`: dE_a/dX_a, for forces via the chain rule.
- :func:`force_training_gradient`: d/dθ sum_a (dE_a/dX_a . v_a), the
  second derivative force training needs (forward tangent + reverse mode,
  derived in its docstring). Never finite differences.

The three live in :mod:`nnp_ref.model.network_derivatives` and are
re-exported here (``nn.backward``, ...).

Flat parameter vector: concat(W_1.ravel(), b_1, W_2.ravel(), b_2, ...) =
n2p2's ``weights.ZZZ.data`` order (source neuron outer, target neuron inner,
then the biases of the layer). Gradients are lists of (dW_l, db_l) pairs with
the shapes of (W_l, b_l); :func:`grads_to_flat` gives the same flat order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnp_ref.checks import compare  # noqa: F401  (re-exported: notebooks call nn.compare)
from nnp_ref.model.activations import activation, check_code
from nnp_ref.model.network_derivatives import (  # noqa: F401  (re-exported: nn.backward, ...)
    _deltas,
    backward,
    force_training_gradient,
    input_gradient,
)

# ---------------------------------------------------------------------------
# Parameters and validation
# ---------------------------------------------------------------------------


@dataclass
class Network:
    """One element's network (plain data; see the module docstring for the maths).

    ``weights[l-1]``: W_l, shape (n_{l-1}, n_l). ``biases[l-1]``: b_l, shape
    (n_l,). ``activations``: one n2p2 code per layer (hidden layers, then the
    output layer), e.g. ("t", "t", "l"). ``normalize``: n2p2 normalize_nodes.
    Arrays are converted to float64 (without copying float64 input) and the
    whole network is checked by :func:`check_network` on construction.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: tuple[str, ...]
    normalize: bool = False

    def __post_init__(self):
        self.weights = [np.asarray(W, dtype=np.float64) for W in self.weights]
        self.biases = [np.asarray(b, dtype=np.float64) for b in self.biases]
        self.activations = tuple(self.activations)
        self.normalize = bool(self.normalize)
        check_network(self)

    @property
    def n_layers(self) -> int:
        """L: number of weight layers (hidden layers + output layer)."""
        return len(self.weights)

    @property
    def n_inputs(self) -> int:
        """n_0: number of input neurons (symmetry functions)."""
        return self.weights[0].shape[0]


def _layer_name(l: int, L: int) -> str:
    return f"layer {l} ({'output' if l == L else 'hidden'})"


def check_network(net: Network, n_inputs: int | None = None, name: str = "network") -> None:
    """Raise ValueError (message starts with ``name``, names the layer) if ``net`` is invalid.

    Checks: equal numbers of weight matrices, bias vectors and activation
    codes; known codes; W_l 2-D with n_{l-1} rows matching the previous
    layer's n_l columns; b_l of shape (n_l,); one output neuron; finite
    values; and, if given, ``n_inputs`` input neurons.
    """
    L = len(net.weights)
    if L == 0:
        raise ValueError(f"{name}: needs at least one layer of weights")
    if len(net.biases) != L:
        raise ValueError(f"{name}: {L} weight matrices but {len(net.biases)} bias vectors")
    if len(net.activations) != L:
        raise ValueError(
            f"{name}: {L} layers ({L - 1} hidden + output) need {L} activation codes, "
            f"got {len(net.activations)}: {tuple(net.activations)}"
        )
    for l, (W, b, code) in enumerate(
        zip(net.weights, net.biases, net.activations, strict=True), start=1
    ):
        layer = _layer_name(l, L)
        check_code(code, where=f"{name}: {layer}")
        if W.ndim != 2:
            raise ValueError(f"{name}: {layer}: weights must be 2-D (n_in, n_out), got {W.shape}")
        if b.shape != (W.shape[1],):
            raise ValueError(
                f"{name}: {layer}: bias shape {b.shape} does not match weights {W.shape} "
                f"(expected ({W.shape[1]},))"
            )
        if l > 1 and W.shape[0] != net.weights[l - 2].shape[1]:
            raise ValueError(
                f"{name}: {layer}: weights {W.shape} take {W.shape[0]} inputs but "
                f"{_layer_name(l - 1, L)} has {net.weights[l - 2].shape[1]} neurons "
                f"(weights {net.weights[l - 2].shape})"
            )
        for what, array in (("weights", W), ("biases", b)):
            bad = np.size(array) - np.count_nonzero(np.isfinite(array))
            if bad:
                raise ValueError(
                    f"{name}: {layer}: {what} contain {bad} NaN/inf (non-finite) value(s)"
                )
    if net.weights[-1].shape[1] != 1:
        raise ValueError(
            f"{name}: {_layer_name(L, L)}: weights {net.weights[-1].shape} must have exactly "
            "1 output neuron (the atomic energy)"
        )
    if n_inputs is not None and net.weights[0].shape[0] != n_inputs:
        raise ValueError(
            f"{name}: layer 1 takes {net.weights[0].shape[0]} inputs (weights "
            f"{net.weights[0].shape}) but {n_inputs} symmetry functions are given"
        )


def layer_sizes(net: Network) -> tuple[int, ...]:
    """(n_0, n_1, ..., n_L): neurons per layer, input layer first."""
    return (net.weights[0].shape[0],) + tuple(W.shape[1] for W in net.weights)


def n_parameters(net_or_sizes) -> int:
    """Number of weights and biases: sum_l (n_{l-1} n_l + n_l)."""
    sizes = layer_sizes(net_or_sizes) if isinstance(net_or_sizes, Network) else net_or_sizes
    return int(sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)))


def _norm_factor(net: Network, l: int) -> float:
    """c_l = 1/n_{l-1} with normalize_nodes, else 1."""
    return 1.0 / net.weights[l - 1].shape[0] if net.normalize else 1.0


# ---------------------------------------------------------------------------
# Flat parameter vector (n2p2 weights.ZZZ.data order)
# ---------------------------------------------------------------------------


def grads_to_flat(grads) -> np.ndarray:
    """concat(dW_1.ravel(), db_1, dW_2.ravel(), db_2, ...) of a list of (dW_l, db_l)."""
    return np.concatenate([np.concatenate([dW.ravel(), db]) for dW, db in grads])


def to_flat(net: Network) -> np.ndarray:
    """Flat parameter vector concat(W_1.ravel(), b_1, ...) (n2p2 order), a copy."""
    return grads_to_flat(zip(net.weights, net.biases, strict=True))


def flat_to_pairs(sizes, flat) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inverse of :func:`grads_to_flat` for layer sizes (n_0, ..., n_L): [(W_l, b_l), ...]."""
    flat = np.asarray(flat, dtype=np.float64)
    if flat.shape != (n_parameters(sizes),):
        raise ValueError(
            f"flat vector has shape {flat.shape} but layer sizes {tuple(sizes)} need "
            f"({n_parameters(sizes)},)"
        )
    pairs = []
    start = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        W = flat[start : start + n_in * n_out].reshape(n_in, n_out).copy()  # row j = source j
        start += n_in * n_out
        b = flat[start : start + n_out].copy()
        start += n_out
        pairs.append((W, b))
    return pairs


def from_flat(template_or_sizes, flat, activations=None, normalize=None) -> Network:
    """Network from a flat vector (n2p2 order).

    ``template_or_sizes``: a :class:`Network` (its sizes, activations and
    normalize are reused unless given) or layer sizes (n_0, ..., n_L), which
    then need ``activations``.
    """
    if isinstance(template_or_sizes, Network):
        sizes = layer_sizes(template_or_sizes)
        activations = template_or_sizes.activations if activations is None else activations
        normalize = template_or_sizes.normalize if normalize is None else normalize
    else:
        sizes = tuple(int(n) for n in template_or_sizes)
        if activations is None:
            raise ValueError("from_flat: layer sizes given without activation codes")
    pairs = flat_to_pairs(sizes, flat)
    return Network(
        [W for W, _ in pairs], [b for _, b in pairs], tuple(activations), bool(normalize)
    )


# ---------------------------------------------------------------------------
# Forward pass
# ---------------------------------------------------------------------------


@dataclass
class Cache:
    """Intermediate values of :func:`forward`; index l = layer (index 0 unused except y).

    ``y[l]`` (a, n_l): outputs of layer l, y[0] = X_as. ``z[l]``, ``df[l]``,
    ``d2f[l]`` (a, n_l): pre-activations z^l and f_l'(z^l), f_l''(z^l).
    ``c[l]``: normalisation factor c_l. Index 0 of z, df, d2f, c is None.
    """

    y: list
    z: list
    df: list
    d2f: list
    c: list

    @property
    def X_as(self) -> np.ndarray:
        return self.y[0]


def _check_input(net: Network, X_as) -> np.ndarray:
    X_as = np.asarray(X_as, dtype=np.float64)
    if X_as.ndim != 2 or X_as.shape[1] != net.n_inputs:
        raise ValueError(
            f"X_as must have shape (a, {net.n_inputs}) for this network "
            f"(layer 1 weights {net.weights[0].shape}), got {X_as.shape}"
        )
    return X_as


def forward(net: Network, X_as) -> tuple[np.ndarray, Cache]:
    """E_a = NN(X_a) for all rows; returns (E_a (a,), cache for the derivatives).

    X_as (a, n_0): inputs (already scaled symmetry functions).
    """
    X_as = _check_input(net, X_as)
    y, z, df, d2f, c = [X_as], [None], [None], [None], [None]
    for l in range(1, net.n_layers + 1):
        W, b = net.weights[l - 1], net.biases[l - 1]  # (n_{l-1}, n_l), (n_l,)
        c_l = _norm_factor(net, l)  # 1/n_{l-1} or 1
        s_l = y[l - 1] @ W + b  # (a, n_l) weighted sum
        z_l = c_l * s_l  # (a, n_l) normalize_nodes
        y_l, df_l, d2f_l = activation(net.activations[l - 1], z_l)  # (a, n_l) each
        y.append(y_l)
        z.append(z_l)
        df.append(df_l)
        d2f.append(d2f_l)
        c.append(c_l)
    E_a = y[-1][:, 0]  # (a,)
    return E_a, Cache(y, z, df, d2f, c)


def energy(net: Network, X_as) -> np.ndarray:
    """E_a (a,) only: ``forward(net, X_as)[0]``."""
    return forward(net, X_as)[0]


# ---------------------------------------------------------------------------
# Initialisation
# ---------------------------------------------------------------------------


def make_network(
    n_input: int,
    hidden=(25, 25),
    activations=("t", "t", "l"),
    init: str = "nguyen-widrow",
    seed=0,
    normalize: bool = False,
    weights_range=(-1.0, 1.0),
) -> Network:
    """New network n_input -> hidden... -> 1 with random weights (``np.random.default_rng(seed)``).

    ``init``:

    - "nguyen-widrow" (n2p2 ``nguyen_widrow_weights_short``, i.e.
      ``Training::randomizeNeuralNetworkWeights`` then
      ``NeuralNetwork::modifyConnections(MS_NGUYENWIDROW)``): all weights and
      biases uniform in ``weights_range`` = [weights_min, weights_max), drawn
      in flat n2p2 order; then for every hidden layer l with
      beta_l = 0.7 n_l^(1/n_{l-1}) each neuron's incoming weight vector is
      rescaled to length beta_l and its bias multiplied by beta_l, both times
      2 more for tanh layers; finally the output weight W_L[0, 0] is halved.
      (n2p2's loop meant to halve the output weights runs over the number of
      output neurons, 1, so only the first weight is halved; reproduced here.
      The output bias and other output weights stay uniform.)
      Nguyen & Widrow, IJCNN 1990, 3, 21.
    - "glorot": Glorot & Bengio (AISTATS 2010) uniform, W_l uniform in
      ±sqrt(6/(n_{l-1} + n_l)), biases 0, for every layer. (n2p2's default
      rescales only tanh layers and leaves the others uniform in
      ``weights_range``.)
    """
    hidden = tuple(int(n) for n in hidden)
    activations = tuple(activations)
    if len(activations) != len(hidden) + 1:
        raise ValueError(
            f"make_network: {len(hidden)} hidden layers + output need {len(hidden) + 1} "
            f"activation codes, got {len(activations)}: {activations}"
        )
    if int(n_input) < 1 or any(n < 1 for n in hidden):
        raise ValueError(f"make_network: layer sizes must be >= 1, got {n_input} and {hidden}")
    sizes = (int(n_input),) + hidden + (1,)
    rng = np.random.default_rng(seed)
    if init == "nguyen-widrow":
        lo, hi = weights_range
        flat = lo + rng.random(n_parameters(sizes)) * (hi - lo)  # [lo, hi) in n2p2 order
        pairs = flat_to_pairs(sizes, flat)
        pairs = _nguyen_widrow(pairs, activations)
    elif init == "glorot":
        pairs = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            limit = np.sqrt(6.0 / (n_in + n_out))
            pairs.append((rng.uniform(-limit, limit, size=(n_in, n_out)), np.zeros(n_out)))
    else:
        raise ValueError(f"make_network: init must be 'nguyen-widrow' or 'glorot', got {init!r}")
    return Network([W for W, _ in pairs], [b for _, b in pairs], activations, normalize)


def _nguyen_widrow(pairs, activations):
    """n2p2 ``MS_NGUYENWIDROW`` applied to uniform [(W_l, b_l), ...] (see make_network)."""
    L = len(pairs)
    out = []
    for l, (W, b) in enumerate(pairs, start=1):
        n_in, n_out = W.shape
        if l < L:  # hidden layers only
            beta = 0.7 * n_out ** (1.0 / n_in)  # Nguyen-Widrow scale
            gain = 2.0 if activations[l - 1] == "t" else 1.0  # n2p2: x2 for tanh
            norm_j = np.sqrt(np.sum(W * W, axis=0))  # (n_out,) |incoming weights| per neuron
            W = gain * beta * W / norm_j  # each column has length gain * beta
            b = gain * beta * b
        else:
            W = W.copy()
            W[0, 0] *= 0.5  # n2p2 halves outputLayer->neurons[0].weights[0] only
        out.append((W, b))
    return out
