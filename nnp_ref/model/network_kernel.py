r"""All atoms of a structure through their element networks in one Numba kernel: E and dE/dG.

The same step as :func:`nnp_ref.model.atomic_energy.atomic_energies`
(Behler & Parrinello, Phys. Rev. Lett. 98, 146401 (2007); n2p2's scaling and
network conventions, Singraber et al., JCTC 15, 1827 (2019)), for every atom
i of a structure at once instead of element by element:

    X_is = a_{Z_i s} G_is + b_{Z_i s}                       scaling
    E_i  = c NN_{Z_i}(X_i) + E0_{Z_i}                        network, c = energy_scale
    dE_i/dG_is = c dNN_{Z_i}/dX_is a_{Z_i s}                 chain rule

For a small structure (a 24-atom water cluster: two elements, three layers)
the NumPy version spends its time in some fifty small array calls, not in
arithmetic; here the scaling is two gathers of per-element arrays padded to
the longest set, and the networks are one kernel that walks each atom
forward and back (:func:`network_energies`; a large structure in blocks of
atoms on threads, ``nnp_ref.descriptors.threads``). ``nnp_ref.model.network``
stays the readable reference of the network and its hand-written backprop,
and this kernel's test oracle (``tests/test_network_kernel.py``).

Weights are read from the flat n2p2 vector of each element (``network.to_flat``:
W_1 row by row, b_1, W_2, b_2, ...), concatenated over the elements and
rebuilt at every call, so weights changed in place by training are always
seen. Only the per-element scaling arrays are kept between calls
(:class:`ElementArrays`), and rebuilt when a scaling object is replaced.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.threads import even_bounds, map_blocks, thread_count, use_parallel
from nnp_ref.model.activations import CODES
from nnp_ref.model.extrapolation import tolerant_range

# ---------------------------------------------------------------------------
# The kernel: activations (value and slope) and the network of one atom
# ---------------------------------------------------------------------------


@kernel
def _sigmoid(z):
    """σ(z) = 1 / (1 + e^-z) without overflow (as ``activations._sigmoid``)."""
    e = math.exp(-abs(z))
    return 1.0 / (1.0 + e) if z >= 0.0 else e / (1.0 + e)


@kernel
def activation_and_slope(code, z):
    """(f(z), f'(z)) of n2p2 activation number ``code`` (index in ``activations.CODES``).

    The table of ``nnp_ref.model.activations``, one scalar line per code:
    l z, 1 | t tanh z, 1 - f^2 | s σ(z), σ(z)σ(-z) | p softplus, σ(z) |
    r max(z, 0), [z > 0] | g exp(-z^2/2), -z f | c cos z, -sin z |
    S σ(-z), -σ(z)σ(-z) | e exp(-z), -f | h z^2, 2z.
    """
    if code == 0:  # l
        return z, 1.0
    if code == 1:  # t
        f = math.tanh(z)
        return f, 1.0 - f * f
    if code == 2:  # s
        sp, sm = _sigmoid(z), _sigmoid(-z)
        return sp, sp * sm
    if code == 3:  # p
        return max(z, 0.0) + math.log1p(math.exp(-abs(z))), _sigmoid(z)
    if code == 4:  # r
        return (z, 1.0) if z > 0.0 else (0.0, 0.0)
    if code == 5:  # g
        f = math.exp(-0.5 * z * z)
        return f, -z * f
    if code == 6:  # c
        return math.cos(z), -math.sin(z)
    if code == 7:  # S
        sp, sm = _sigmoid(z), _sigmoid(-z)
        return sm, -sp * sm
    if code == 8:  # e
        f = math.exp(-z)  # inf below z = -709 (compiled: no OverflowError), as NumPy
        return f, -f
    return z * z, 2.0 * z  # h


@kernel
def network_energies(elem_n, X_ns, w_flat, first_layer_e1, layout_l4, c_l):
    """NN_n (n,) and dNN/dX_ns (n, s_max) of every atom's element network, from flat weights.

    Layer g of the structure's layer table: ``layout_l4[g]`` = (n_in, n_out,
    offset of W_g in ``w_flat``, activation code); W_g[j, k] =
    w_flat[offset + j n_out + k], b_g[k] = w_flat[offset + n_in n_out + k];
    ``c_l[g]`` the normalize_nodes factor. The layers of element e are
    ``first_layer_e1[e]:first_layer_e1[e + 1]``. Per atom, with
    ``network.forward`` and ``network_derivatives._deltas`` (g = 1):

        forward   z^l = c_l (y^{l-1} W_l + b_l),  y^l = f_l(z^l),  NN = y^L_0
        backward  u^L = 1;  delta^l = c_l f_l'(z^l) u^l;  u^{l-1} = delta^l W_l^T;
                  dNN/dX = u^0

    An atom's numbers do not depend on the other atoms of ``elem_n``: blocks
    of atoms on threads give the same bits as one call.
    """
    n, n_layers = elem_n.shape[0], layout_l4.shape[0]
    width = X_ns.shape[1]
    for g in range(n_layers):
        width = max(width, layout_l4[g, 1])
    NN_n = np.zeros(n)
    dNNdX_ns = np.zeros((n, X_ns.shape[1]))
    y_h = np.empty(width)  # outputs of the current layer
    s_h = np.empty(width)  # weighted sums of the next layer
    df_lh = np.empty((n_layers, width))  # f'(z) of every layer, for the backward sweep
    for i in range(n):
        e = elem_n[i]
        first, last = first_layer_e1[e], first_layer_e1[e + 1]
        for j in range(layout_l4[first, 0]):
            y_h[j] = X_ns[i, j]  # y^0 = X
        for g in range(first, last):  # forward
            n_in, n_out, w0 = layout_l4[g, 0], layout_l4[g, 1], layout_l4[g, 2]
            code = layout_l4[g, 3]
            for k in range(n_out):
                s_h[k] = 0.0
            W_jk = w_flat[w0 : w0 + n_in * n_out].reshape((n_in, n_out))  # a view
            for j in range(n_in):
                y_j = y_h[j]
                for k in range(n_out):
                    s_h[k] += y_j * W_jk[j, k]  # y^{l-1} W_l
            for k in range(n_out):
                z = c_l[g] * (s_h[k] + w_flat[w0 + n_in * n_out + k])  # c_l (s + b_l)
                y_h[k], df_lh[g, k] = activation_and_slope(code, z)
        NN_n[i] = y_h[0]
        y_h[0] = 1.0  # u^L = dNN/dy^L
        for g in range(last - 1, first - 1, -1):  # backward: y_h holds u^l
            n_in, n_out, w0 = layout_l4[g, 0], layout_l4[g, 1], layout_l4[g, 2]
            for k in range(n_out):
                s_h[k] = c_l[g] * (y_h[k] * df_lh[g, k])  # delta^l = c_l u^l f'(z^l)
            W_jk = w_flat[w0 : w0 + n_in * n_out].reshape((n_in, n_out))
            for j in range(n_in):
                u_j = 0.0
                for k in range(n_out):
                    u_j += s_h[k] * W_jk[j, k]  # delta^l W_l^T
                y_h[j] = u_j
        for j in range(layout_l4[first, 0]):
            dNNdX_ns[i, j] = y_h[j]  # u^0 = dNN/dX
    return NN_n, dNNdX_ns


# ---------------------------------------------------------------------------
# Friendly layer: the potential's arrays, scaling, extrapolation
# ---------------------------------------------------------------------------


def network_layout(networks):
    """(w_flat, first_layer_e1, layout_l4, c_l) of a list of element networks, for the kernel.

    ``w_flat``: the elements' flat n2p2 vectors one after the other (a fresh
    copy: the current weights); the layer table as :func:`network_energies` reads it.
    """
    parts, rows, c_l, first_layer_e1 = [], [], [], [0]
    offset = 0
    for net in networks:
        for W, b, code in zip(net.weights, net.biases, net.activations, strict=True):
            n_in, n_out = W.shape
            rows.append((n_in, n_out, offset, CODES.index(code)))
            c_l.append(1.0 / n_in if net.normalize else 1.0)
            parts += (W.ravel(), b)
            offset += n_in * n_out + n_out
        first_layer_e1.append(len(rows))
    return (
        np.concatenate(parts),
        np.array(first_layer_e1, dtype=np.int64),
        np.array(rows, dtype=np.int64),
        np.array(c_l),
    )


@dataclass(frozen=True)
class ElementArrays:
    """Per-element scaling arrays padded to s_max columns, for one set of scaling objects.

    ``a_es``, ``b_es``: G_scaled = a G + b (0 in the padding); ``lo_es``,
    ``hi_es``: ``nnp_ref.model.extrapolation.tolerant_range`` of each element
    (-inf, +inf where nothing is checked: the padding and elements scaled
    with mode "none"); ``G_min_es``, ``G_max_es``
    the ranges as recorded. ``scalings``: the objects these came from.
    """

    scalings: tuple
    a_es: np.ndarray
    b_es: np.ndarray
    lo_es: np.ndarray
    hi_es: np.ndarray
    G_min_es: np.ndarray
    G_max_es: np.ndarray


def element_arrays(scalings, s_max: int) -> ElementArrays:
    """:class:`ElementArrays` of one :class:`~nnp_ref.model.scaling.Scaling` per element."""
    shape = (len(scalings), s_max)
    a_es, b_es, G_min_es, G_max_es = (np.zeros(shape) for _ in range(4))
    lo_es, hi_es = np.full(shape, -np.inf), np.full(shape, np.inf)
    for e, scaling in enumerate(scalings):
        n_s = scaling.n_functions
        a_es[e, :n_s], b_es[e, :n_s] = scaling.factor_and_offset()
        G_min_es[e, :n_s], G_max_es[e, :n_s] = scaling.G_min, scaling.G_max
        if scaling.mode != "none":
            lo_es[e, :n_s], hi_es[e, :n_s] = tolerant_range(scaling)
    return ElementArrays(tuple(scalings), a_es, b_es, lo_es, hi_es, G_min_es, G_max_es)


def cached_element_arrays(potential, s_max: int) -> ElementArrays:
    """The potential's :class:`ElementArrays`, rebuilt only when a scaling object was replaced.

    Kept on the potential as ``_element_arrays`` (a plain attribute, not a
    dataclass field). Scalings are frozen; replacing one (a committee member's
    fresh statistics) is noticed by identity.
    """
    scalings = tuple(potential.scalings[e] for e in potential.elements)
    cached = getattr(potential, "_element_arrays", None)
    if (
        cached is None
        or cached.a_es.shape[1] != s_max
        or any(a is not b for a, b in zip(cached.scalings, scalings, strict=True))
    ):
        cached = element_arrays(scalings, s_max)
        potential._element_arrays = cached
    return cached


def structure_energies(
    potential, G_ns, elem_n, with_derivatives, extrapolation, first_atom=0, threads=True
):
    """(E_n, dE/dG_ns, extrapolations) of the atoms of ``G_ns``, for ``potential.evaluate``.

    ``threads``: blocks of atoms on Numba's thread count for a large structure
    (``nnp_ref.descriptors.threads.use_parallel``); False for a caller that
    is itself one of several threads.

    ``extrapolations``: (atom + first_atom, function, G, G_min, G_max) of every
    raw G outside its element's range (not checked for ``extrapolation ==
    "ignore"``), element by element, then atom, then function, as the
    element-wise loop lists them. dE/dG is zero unless ``with_derivatives``.
    """
    s_max = G_ns.shape[1]
    arrays = cached_element_arrays(potential, s_max)
    networks = [potential.networks[e] for e in potential.elements]
    w_flat, first_layer_e1, layout_l4, c_l = network_layout(networks)
    a_ns = arrays.a_es[elem_n]
    X_ns = G_ns * a_ns + arrays.b_es[elem_n]  # X = a G + b

    def block(first, last):
        rows = slice(first, last)
        return network_energies(elem_n[rows], X_ns[rows], w_flat, first_layer_e1, layout_l4, c_l)

    n = len(elem_n)
    if threads and use_parallel(n):
        parts = map_blocks(block, even_bounds(n, thread_count()), True)
        NN_n, dNNdX_ns = map(np.concatenate, zip(*parts))
    else:
        NN_n, dNNdX_ns = network_energies(elem_n, X_ns, w_flat, first_layer_e1, layout_l4, c_l)
    offsets_e = np.array([potential.energy_offsets[e] for e in potential.elements])
    c = potential.energy_scale
    E_n = c * NN_n + offsets_e[elem_n]  # E = c NN + E0
    _check_finite(E_n, elem_n, potential.elements, first_atom)
    dEdG_ns = c * dNNdX_ns * a_ns if with_derivatives else np.zeros_like(G_ns)  # dX/dG = a
    extrapolations = []
    if extrapolation != "ignore":
        extrapolations = _outside(arrays, G_ns, elem_n, first_atom)
    return E_n, dEdG_ns, extrapolations


@kernel
def count_outside(G_ns, elem_n, lo_es, hi_es):
    """Number of G_is outside [lo_{Z_i s}, hi_{Z_i s}]: the cheap first look of :func:`_outside`."""
    count = 0
    for i in range(G_ns.shape[0]):
        e = elem_n[i]
        for s in range(G_ns.shape[1]):
            if G_ns[i, s] < lo_es[e, s] or G_ns[i, s] > hi_es[e, s]:
                count += 1
    return count


def _outside(arrays: ElementArrays, G_ns, elem_n, first_atom):
    """(atom, function, G, G_min, G_max) of every G outside [lo, hi], element-major order."""
    if count_outside(G_ns, elem_n, arrays.lo_es, arrays.hi_es) == 0:
        return []  # the usual case, in a microsecond
    outside_ns = (G_ns < arrays.lo_es[elem_n]) | (G_ns > arrays.hi_es[elem_n])
    rows, cols = np.nonzero(outside_ns)  # not empty: count_outside found some
    order = np.argsort(elem_n[rows], kind="stable")  # element by element, as the NumPy loop
    rows, cols = rows[order], cols[order]
    e_r = elem_n[rows]
    columns = (
        (rows + first_atom).tolist(),
        cols.tolist(),
        G_ns[rows, cols].tolist(),
        arrays.G_min_es[e_r, cols].tolist(),
        arrays.G_max_es[e_r, cols].tolist(),
    )
    return list(zip(*columns))


def _check_finite(E_n, elem_n, elements, first_atom):
    """A RuntimeWarning naming the first atom whose network gave a non-finite energy."""
    if not np.isfinite(E_n.sum()):
        i = int(np.flatnonzero(~np.isfinite(E_n))[0])
        warnings.warn(
            f"network of {elements[elem_n[i]]} gives a non-finite energy for atom "
            f"{i + first_atom} (activation overflow: input far outside the training range?)",
            RuntimeWarning,
            stacklevel=4,
        )


__all__ = [
    "ElementArrays",
    "activation_and_slope",
    "cached_element_arrays",
    "count_outside",
    "element_arrays",
    "network_energies",
    "network_layout",
    "structure_energies",
]
