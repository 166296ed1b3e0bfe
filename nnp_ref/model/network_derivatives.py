r"""Hand-written derivatives of an element network (:mod:`nnp_ref.model.network`).

Notation as in ``network``: layers l = 1..L, s^l = y^{l-1} W_l + b_l,
z^l = c_l s^l, y^l = f_l(z^l), E = y^L[:, 0]; every function takes the
:class:`~nnp_ref.model.network.Cache` of one :func:`~nnp_ref.model.network.forward`.

- :func:`backward`: dL/dW_l, dL/db_l for L = sum_a g_a E_a (reverse mode).
- :func:`input_gradient`: dE_a/dX_a, for forces via the chain rule.
- :func:`force_training_gradient`: d/dθ sum_a (dE_a/dX_a . v_a), the
  second derivative force training needs (derived in its docstring).

Re-exported by ``network`` (``nn.backward``, ...); this module imports
nothing from it at run time, so either can be imported first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from nnp_ref.model.network import Cache, Network

# ---------------------------------------------------------------------------
# Reverse mode: dL/dθ and dE/dX
# ---------------------------------------------------------------------------


def _deltas(net: Network, cache: Cache, dL_dE_a) -> list:
    """delta[l] = dL/ds^l (a, n_l) for L = sum_a g_a E_a, l = L..1 (index 0: dL/dX).

    Local rules, from the output back:
        dL/dz^L     = g[:, None] * f_L'(z^L)          (y^L = f(z^L), E = y^L[:, 0])
        dL/ds^l     = c_l * dL/dz^l                   (z^l = c_l s^l)
        dL/dy^{l-1} = dL/ds^l @ W_l^T                 (s^l = y^{l-1} W_l + b_l)
        dL/dz^{l-1} = dL/dy^{l-1} * f_{l-1}'(z^{l-1})
    """
    L = net.n_layers
    delta = [None] * (L + 1)
    dL_dy = np.asarray(dL_dE_a, dtype=np.float64)[:, None]  # (a, 1) = dL/dy^L
    for l in range(L, 0, -1):
        dL_dz = dL_dy * cache.df[l]  # (a, n_l)  dy/dz = f'(z)
        delta[l] = cache.c[l] * dL_dz  # (a, n_l)  dz/ds = c_l
        dL_dy = delta[l] @ net.weights[l - 1].T  # (a, n_{l-1})  ds/dy^{l-1} = W_l
    delta[0] = dL_dy  # (a, n_0) = dL/dX
    return delta


def _check_rows(cache: Cache, array, what, shape) -> np.ndarray:
    array = np.asarray(array, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{what} must have shape {shape} to match the cache, got {array.shape}")
    return array


def backward(net: Network, cache: Cache, dL_dE_a) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(dL/dW_l, dL/db_l), ...] for L = sum_a dL_dE_a[a] E_a, summed over atoms.

    dL_dE_a (a,). With delta^l = dL/ds^l from the reverse sweep (see
    ``_deltas``): dL/dW_l = y^{l-1}^T delta^l (n_{l-1}, n_l),
    dL/db_l = sum_a delta^l_a (n_l,). With dL_dE_a = 1 this is dE/dθ of the
    element's total energy (n2p2 ``calculateDEdc`` summed over atoms).
    """
    a = cache.X_as.shape[0]
    dL_dE_a = _check_rows(cache, dL_dE_a, "dL_dE_a", (a,))
    delta = _deltas(net, cache, dL_dE_a)
    grads = []
    for l in range(1, net.n_layers + 1):
        dW = cache.y[l - 1].T @ delta[l]  # (n_{l-1}, n_l)  ds/dW = y^{l-1}
        db = delta[l].sum(axis=0)  # (n_l,)  ds/db = 1
        grads.append((dW, db))
    return grads


def input_gradient(net: Network, cache: Cache) -> np.ndarray:
    """dE_a/dX_a (a, n_0): reverse sweep with dL/dE_a = 1 down to the inputs.

    Rows are independent (atom a's energy depends on its own inputs only), so
    one sweep gives all rows (n2p2 ``calculateDEdG``).
    """
    ones_a = np.ones(cache.X_as.shape[0])
    return _deltas(net, cache, ones_a)[0]


# ---------------------------------------------------------------------------
# Force training: d/dθ of (dE/dX . v)
# ---------------------------------------------------------------------------


def force_training_gradient(
    net: Network, cache: Cache, V_as
) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""[(dΦ/dW_l, dΦ/db_l), ...] for Φ(θ) = sum_a (dE_a/dX_a . v_a).

    V_as (a, n_0): one direction v_a per atom. Forces are
    F_kc = -sum_i dE_i/dG_i . dG_i/dR_kc, so with v_i = dG_i/dR_kc (times the
    scaling factors) dF_kc/dθ = -dΦ/dθ; this is what force training needs
    (n2p2 ``calculateDFdc``).

    Derivation. Φ is the directional derivative of sum_a E_a along V:
    Φ = d/dε sum_a E_a(X_a + ε v_a)|_{ε=0}. Mixed partial derivatives commute,
    so dΦ/dθ = d/dε [dE/dθ](X + εV)|_0 =: R{dE/dθ} (Pearlmutter's R operator:
    the forward-mode tangent along V, weights held fixed). Apply R to every
    line of the forward and the reverse sweep (with g_a = 1); a dot marks the
    tangent R{.}:

      forward tangent (R of the forward pass):
        ẏ^0 = V
        ż^l = c_l ẏ^{l-1} W_l                       (R{b_l} = 0, R{W_l} = 0)
        ẏ^l = f'(z^l) ż^l                           ( = dy^l/dX . v; Φ = sum_a ẏ^L )

      reverse sweep and its tangent (delta^l = dE/ds^l, as in backward):
        delta^L  = c_L f'(z^L)
        δ̇^L      = c_L f''(z^L) ż^L
        u^{l-1}  = delta^l W_l^T                    (dE/dy^{l-1})
        u̇^{l-1}  = δ̇^l W_l^T
        delta^{l-1} = c_{l-1} f'(z^{l-1}) u^{l-1}
        δ̇^{l-1}  = c_{l-1} [f''(z^{l-1}) ż^{l-1} u^{l-1} + f'(z^{l-1}) u̇^{l-1}]

      gradients (R of dE/dW_l = y^{l-1}^T delta^l, dE/db_l = sum_a delta^l):
        dΦ/dW_l = ẏ^{l-1}^T delta^l + y^{l-1}^T δ̇^l
        dΦ/db_l = sum_a δ̇^l

    Products with f', f'', z, y are element-wise over (a, n_l); ``@`` and
    ^T act on the neuron index. Cost: one extra forward and reverse sweep,
    for all atoms at once (n2p2 instead loops over the inputs).
    """
    X_as = cache.X_as
    V_as = _check_rows(cache, V_as, "V_as", X_as.shape)
    L = net.n_layers
    # forward tangent: ẏ^l = d y^l / dX . v
    y_dot = [V_as]  # (a, n_0)
    z_dot = [None]
    for l in range(1, L + 1):
        z_dot_l = cache.c[l] * (y_dot[l - 1] @ net.weights[l - 1])  # (a, n_l)  ż = c ẏ W
        y_dot_l = cache.df[l] * z_dot_l  # (a, n_l)  ẏ = f'(z) ż
        z_dot.append(z_dot_l)
        y_dot.append(y_dot_l)
    # reverse sweep with its tangent (g_a = 1)
    delta = [None] * (L + 1)
    delta_dot = [None] * (L + 1)
    u = np.ones((X_as.shape[0], 1))  # (a, 1)  dE/dy^L
    u_dot = np.zeros((X_as.shape[0], 1))  # (a, 1)  R{dE/dy^L} = 0
    for l in range(L, 0, -1):
        delta[l] = cache.c[l] * cache.df[l] * u  # (a, n_l)  dE/ds^l
        delta_dot[l] = cache.c[l] * (
            cache.d2f[l] * z_dot[l] * u  # (a, n_l)  R{f'(z)} = f''(z) ż
            + cache.df[l] * u_dot  # (a, n_l)  f'(z) R{u}
        )
        u = delta[l] @ net.weights[l - 1].T  # (a, n_{l-1})  dE/dy^{l-1}
        u_dot = delta_dot[l] @ net.weights[l - 1].T  # (a, n_{l-1})  R{dE/dy^{l-1}}
    grads = []
    for l in range(1, L + 1):
        dW = y_dot[l - 1].T @ delta[l] + cache.y[l - 1].T @ delta_dot[l]  # (n_{l-1}, n_l)
        db = delta_dot[l].sum(axis=0)  # (n_l,)
        grads.append((dW, db))
    return grads
