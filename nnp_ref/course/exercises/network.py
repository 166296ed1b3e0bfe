r"""Exercises 4-5: one layer's backward pass and dE/dX of a whole element network.

The trusted answers are central finite differences of nnp_ref's forward
pass (``nnp_ref.model.network``) and of the loss L = sum(g * Y).
Shapes as in ``nnp_ref.model.network``: rows are atoms a,
Y = tanh(X W + b) with X (a, n_in), W (n_in, n_out), b (n_out,).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.checks import central_difference
from nnp_ref.course.grading import Exercise

# ---------------------------------------------------------------------------
# 4. One layer's backward pass
# ---------------------------------------------------------------------------

_rng = np.random.default_rng(4)
LAYER = {
    "X": _rng.normal(size=(5, 4)),  # 5 atoms, 4 inputs
    "W": _rng.normal(scale=0.7, size=(4, 3)),  # 4 -> 3 neurons
    "b": _rng.normal(scale=0.3, size=3),
    "dL_dY": _rng.normal(size=(5, 3)),  # the gradient arriving from above
}


def layer_backward(X, W, b, dL_dY):
    r"""(dL/dX, dL/dW, dL/db) of the layer Y = tanh(Z), Z = X W + b, given dL/dY.

    One local rule per line (micrograd style):
        dL/dZ = dL/dY * (1 - tanh(Z)^2)      (element-wise; tanh' = 1 - tanh^2 = 1 - Y^2)
        dL/dX = dL/dZ @ W^T                  (a, n_in)
        dL/dW = X^T @ dL/dZ                  (n_in, n_out): summed over the atoms
        dL/db = sum_a dL/dZ                  (n_out,)
    """
    Y = np.tanh(X @ W + b)
    dL_dZ = dL_dY * (1.0 - Y**2)
    dL_dX = dL_dZ @ W.T
    dL_dW = X.T @ dL_dZ
    dL_db = dL_dZ.sum(axis=0)
    return dL_dX, dL_dW, dL_db


def _run_layer(fn):
    p = {k: v.copy() for k, v in LAYER.items()}
    return tuple(fn(p["X"], p["W"], p["b"], p["dL_dY"]))


def _expected_layer():
    X, W, b, g = LAYER["X"], LAYER["W"], LAYER["b"], LAYER["dL_dY"]

    def loss(X, W, b):
        return np.sum(g * np.tanh(X @ W + b))

    return (
        central_difference(lambda x: loss(x, W, b), X),
        central_difference(lambda w: loss(X, w, b), W),
        central_difference(lambda v: loss(X, W, v), b),
    )


def _layer_variant(X, W, b, dL_dY, *, act="right", sign=1.0, mean=False):
    """layer_backward with one rule changed (for the mistakes)."""
    Z = X @ W + b
    Y = np.tanh(Z)
    if act == "right":
        dY_dZ = 1.0 - Y**2
    elif act == "none":
        dY_dZ = np.ones_like(Z)
    elif act == "z":
        dY_dZ = 1.0 - Z**2
    else:  # "sigmoid"
        dY_dZ = Y * (1.0 - Y)
    dL_dZ = sign * dL_dY * dY_dZ
    return dL_dZ @ W.T, X.T @ dL_dZ, dL_dZ.mean(axis=0) if mean else dL_dZ.sum(axis=0)


def _v(**flags):
    def wrong(X, W, b, dL_dY):
        return _layer_variant(X, W, b, dL_dY, **flags)

    return wrong


LAYER_EXERCISE = Exercise(
    name="layer",
    title="backward pass of one tanh layer",
    parts=("dL/dX", "dL/dW", "dL/db"),
    run=_run_layer,
    expected=_expected_layer,
    solution=layer_backward,
    mistakes={
        "the activation derivative is missing: dL/dZ = dL/dY * tanh'(Z)": _v(act="none"),
        "tanh'(Z) is 1 - tanh(Z)^2 = 1 - Y^2, not 1 - Z^2": _v(act="z"),
        "Y (1 - Y) is the sigmoid's derivative; tanh' = 1 - Y^2": _v(act="sigmoid"),
        "the sign is flipped everywhere": _v(sign=-1.0),
        "dL/db is the SUM over the atoms of dL/dZ, not the mean": _v(mean=True),
    },
    rtol=1e-6,
    notebook="e4_layer_backward.ipynb",
)

# ---------------------------------------------------------------------------
# 5. dE/dX of an element network
# ---------------------------------------------------------------------------


def _network():
    from nnp_ref.model.network import make_network

    return make_network(4, (6, 5), ("t", "t", "l"), seed=5)


X_INPUT = np.random.default_rng(5).normal(size=(3, 4))  # 3 atoms, 4 symmetry functions


def input_gradient(weights, biases, X):
    r"""dE_a/dX_a (a, n_0) of E = y^L[:, 0], hidden layers tanh, output layer linear.

    Forward: y^0 = X, y^l = f_l(y^{l-1} W_l + b_l), keeping y^l.
    Backward, starting from dE/dy^L = 1 (one per atom):
        dE/dz^l     = dE/dy^l * f_l'(z^l)     (tanh: 1 - (y^l)^2; linear: 1)
        dE/dy^{l-1} = dE/dz^l @ W_l^T
    Each atom's energy depends only on its own row, so one sweep gives every row.
    """
    L = len(weights)
    y = [X]
    for l in range(L):
        z = y[-1] @ weights[l] + biases[l]
        y.append(np.tanh(z) if l < L - 1 else z)
    dE_dy = np.ones((X.shape[0], 1))
    for l in range(L - 1, -1, -1):
        dE_dz = dE_dy * (1.0 - y[l + 1] ** 2) if l < L - 1 else dE_dy
        dE_dy = dE_dz @ weights[l].T
    return dE_dy


def _run_input(fn):
    net = _network()
    weights = [W.copy() for W in net.weights]
    biases = [b.copy() for b in net.biases]
    return (fn(weights, biases, X_INPUT.copy()),)


def _expected_input():
    from nnp_ref.model.network import energy

    net = _network()
    J = central_difference(lambda X: energy(net, X), X_INPUT)  # (a, a, n_0)
    return (np.einsum("aas->as", J),)  # dE_a/dX_a: the diagonal blocks


def _input_variant(weights, biases, X, *, skip=None, transpose_last=False, sign=1.0):
    """input_gradient with one rule changed (for the mistakes)."""
    L = len(weights)
    y = [X]
    for l in range(L):
        z = y[-1] @ weights[l] + biases[l]
        y.append(np.tanh(z) if l < L - 1 else z)
    dE_dy = sign * np.ones((X.shape[0], 1))
    for l in range(L - 1, -1, -1):
        hidden = l < L - 1 and l != skip
        dE_dz = dE_dy * (1.0 - y[l + 1] ** 2) if hidden else dE_dy
        dE_dy = dE_dz @ weights[l].T
    return dE_dy


def _iv(**flags):
    def wrong(weights, biases, X):
        return _input_variant(weights, biases, X, **flags)

    return wrong


def _summed(weights, biases, X):
    """dE_total/dX of the wrong kind: every atom gets the sum of all rows."""
    rows = input_gradient(weights, biases, X)
    return np.broadcast_to(rows.sum(axis=0), rows.shape).copy()


INPUT_EXERCISE = Exercise(
    name="dEdX",
    title="dE/dX of an element network",
    parts=("dE_a/dX_a",),
    run=_run_input,
    expected=_expected_input,
    solution=input_gradient,
    mistakes={
        "the sign is flipped": _iv(sign=-1.0),
        "tanh' of hidden layer 1 (the first) is missing": _iv(skip=0),
        "tanh' of hidden layer 2 (next to the output) is missing": _iv(skip=1),
        "rows mixed: E_a depends only on row a of X, but every row got the sum over atoms": (
            _summed
        ),
    },
    rtol=1e-6,
    notebook="e5_input_gradient.ipynb",
)

__all__ = ["INPUT_EXERCISE", "LAYER_EXERCISE", "input_gradient", "layer_backward"]
