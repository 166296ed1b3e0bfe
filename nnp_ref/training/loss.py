r"""Training loss of an HDNNP and its gradient, all hand-written (no finite differences).

For a batch of B structures with N_b atoms, reference energies E_b^ref and
reference forces F_kc^ref (n atoms in all):

    L = w_E (1/B) sum_b [(E_b - E_b^ref) / N_b]^2          energy per atom
      + w_F (1/3n) sum_{k,c} (F_kc - F_kc^ref)^2           force components
      + lambda sum_l ||W_l||^2                              optional L2 (weights, not biases)

with, for atom i of element e (``nnp_ref.model.potential``):

    X_is = a_s G_is + b_s                   scaling (a_s = dX/dG)
    E_i  = c NN_e(X_i) + E0_e               c = energy_scale
    E_b  = sum_{i in b} E_i
    F_kc = -sum_i sum_s (dE_i/dG_is) (dG_is/dR_kc),  dE_i/dG_is = c a_s dNN/dX_is

Gradient with respect to the weights w of the networks:

* energy part, reverse mode (``network.backward``):
      dL/dE_b   = 2 w_E (E_b - E_b^ref) / (N_b^2 B)
      dL/dNN_i  = c dL/dE_{b(i)}
      dL/dw    += sum_i dL/dNN_i dNN_i/dw
* force part, the chain rule through the descriptor derivatives:
      g_kc      = dL/dF_kc = 2 w_F (F_kc - F_kc^ref) / (3n)
      V_is      = sum_{k,c} dG_is/dR_kc g_kc          (``potential.force_adjoint``)
      dL/dw    += sum_kc g_kc dF_kc/dw
                = -c sum_i d/dw [sum_s dNN/dX_is (a_s V_is)]
  i.e. ``network.force_training_gradient`` (the mixed second derivative
  d^2 NN / dw dX contracted with v_i = a * V_i), times -c.
* L2: dL/dW_l += 2 lambda W_l.

The Kalman filter needs the Jacobians of single observations instead of a
loss gradient: :func:`energy_jacobian` (dE_b/dw) and :func:`force_jacobian`
(dF_kc/dw for chosen components, with the adjoint restricted to unit vectors,
:func:`force_adjoint_components`).

Structures are precomputed once (:class:`StructureData`) and concatenated into
a :class:`Batch` (atoms and pairs renumbered), so one network call per element
serves the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential, assemble_forces, force_adjoint

# ---------------------------------------------------------------------------
# Precomputed structures and batches
# ---------------------------------------------------------------------------


@dataclass
class StructureData:
    """One structure's descriptors (raw G, sparse derivatives) and reference values.

    Shapes: ``elem_n`` (n,), ``G_ns`` (n, s_max), ``dGdR_psc`` (p, s_max, 3),
    ``dGself_nsc`` (n, s_max, 3), ``i_p``/``j_p`` (p,), ``F_ref_nc`` (n, 3)
    or None. ``E_ref`` in eV (NaN if absent). ``name`` for messages.
    """

    elem_n: np.ndarray
    G_ns: np.ndarray
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    E_ref: float
    F_ref_nc: np.ndarray | None
    name: str = ""

    @property
    def n_atoms(self) -> int:
        return len(self.elem_n)


def structure_data(atoms, descriptors, name: str = "") -> StructureData:
    """:class:`StructureData` from an ``ase.Atoms`` with reference results and its descriptors."""
    energy = reference_energy(atoms)
    return StructureData(
        descriptors.elem_n,
        descriptors.G_ns,
        descriptors.dGdR_psc,
        descriptors.dGself_nsc,
        descriptors.nl.i_p,
        descriptors.nl.j_p,
        np.nan if energy is None else energy,
        reference_forces(atoms),
        name or atoms.get_chemical_formula(),
    )


@dataclass
class Batch:
    """Several structures concatenated: atoms renumbered 0..n-1, pairs shifted.

    ``struct_n`` (n,): structure index (0..B-1) of every atom; ``n_atoms_b``
    (B,); ``idx_e[e]``: atoms of element e; ``X_e[e]`` (a_e, s_e): their
    scaled inputs; ``a_e[e]`` (s_e,): scaling factors dX/dG; ``E_ref_b`` (B,);
    ``F_ref_nc`` (n, 3) or None if any structure lacks forces.
    """

    struct_n: np.ndarray
    n_atoms_b: np.ndarray
    elem_n: np.ndarray
    idx_e: list
    X_e: list
    a_e: list
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    E_ref_b: np.ndarray
    F_ref_nc: np.ndarray | None
    names: list = field(default_factory=list)

    @property
    def n_structures(self) -> int:
        return len(self.n_atoms_b)

    @property
    def n_atoms(self) -> int:
        return len(self.struct_n)


def make_batch(items: list[StructureData], potential: Potential) -> Batch:
    """Concatenate structures into one :class:`Batch` and scale their G with ``potential``."""
    if not items:
        raise ValueError("cannot make a batch of zero structures")
    n_atoms_b = np.array([it.n_atoms for it in items], dtype=np.int64)
    first_n = np.concatenate([[0], np.cumsum(n_atoms_b)[:-1]])
    struct_n = np.repeat(np.arange(len(items)), n_atoms_b)
    elem_n = np.concatenate([it.elem_n for it in items])
    G_ns = np.concatenate([it.G_ns for it in items])
    i_p = np.concatenate([it.i_p + f for it, f in zip(items, first_n)])
    j_p = np.concatenate([it.j_p + f for it, f in zip(items, first_n)])
    dGdR_psc = np.concatenate([it.dGdR_psc for it in items])
    dGself_nsc = np.concatenate([it.dGself_nsc for it in items])
    has_forces = all(it.F_ref_nc is not None for it in items)
    F_ref_nc = np.concatenate([it.F_ref_nc for it in items]) if has_forces else None
    idx_e, X_e, a_e = [], [], []
    for e, symbol in enumerate(potential.elements):
        idx = np.flatnonzero(elem_n == e)
        n_s = int(potential.descriptor.n_s_e[e])
        a_s, b_s = potential.scalings[symbol].factor_and_offset()
        idx_e.append(idx)
        X_e.append(G_ns[idx, :n_s] * a_s + b_s)
        a_e.append(a_s)
    return Batch(
        struct_n,
        n_atoms_b,
        elem_n,
        idx_e,
        X_e,
        a_e,
        dGdR_psc,
        dGself_nsc,
        i_p,
        j_p,
        np.array([it.E_ref for it in items], dtype=float),
        F_ref_nc,
        [it.name for it in items],
    )


# ---------------------------------------------------------------------------
# Flat parameter vector of all elements' networks (n2p2 update_strategy 0)
# ---------------------------------------------------------------------------


def get_parameters(potential: Potential) -> np.ndarray:
    """w = concat over elements (potential order) of each network's flat vector (n2p2 order)."""
    return np.concatenate([nn.to_flat(potential.networks[e]) for e in potential.elements])


def set_parameters(potential: Potential, w) -> None:
    """Write the flat vector ``w`` into the networks, in place."""
    w = np.asarray(w, dtype=np.float64)
    expected = sum(nn.n_parameters(potential.networks[e]) for e in potential.elements)
    if w.shape != (expected,):
        raise ValueError(f"parameter vector has {w.size} entries, the networks {expected}")
    start = 0
    for e in potential.elements:
        net = potential.networks[e]
        for W, b in zip(net.weights, net.biases):
            W[...] = w[start : start + W.size].reshape(W.shape)
            start += W.size
            b[...] = w[start : start + b.size]
            start += b.size


def weight_mask(potential: Potential) -> np.ndarray:
    """Boolean mask of the flat vector: True for weights, False for biases (L2 acts on weights)."""
    parts = []
    for e in potential.elements:
        for W, b in zip(potential.networks[e].weights, potential.networks[e].biases):
            parts += [np.ones(W.size, bool), np.zeros(b.size, bool)]
    return np.concatenate(parts)


# ---------------------------------------------------------------------------
# Prediction on a batch
# ---------------------------------------------------------------------------


@dataclass
class Prediction:
    """Energies E_b (B,), forces F_nc (n, 3) or None, per-element network caches."""

    E_b: np.ndarray
    F_nc: np.ndarray | None
    caches: list


def predict(potential: Potential, batch: Batch, forces: bool = True) -> Prediction:
    """E_b = sum_i (c NN(X_i) + E0) and F_kc = -sum_is dE_i/dG_is dG_is/dR_kc for a batch."""
    c = potential.energy_scale
    energies_n = np.zeros(batch.n_atoms)
    dEdG_ns = np.zeros(batch.dGself_nsc.shape[:2]) if forces else None
    caches = []
    for e, symbol in enumerate(potential.elements):
        idx = batch.idx_e[e]
        if idx.size == 0:
            caches.append(None)
            continue
        net = potential.networks[symbol]
        NN_a, cache = nn.forward(net, batch.X_e[e])  # (a,)
        caches.append(cache)
        energies_n[idx] = c * NN_a + potential.energy_offsets[symbol]  # E_i = c NN + E0
        if forces:
            n_s = batch.X_e[e].shape[1]
            dEdG_ns[idx, :n_s] = c * nn.input_gradient(net, cache) * batch.a_e[e]  # c a dNN/dX
    E_b = np.bincount(batch.struct_n, weights=energies_n, minlength=batch.n_structures)
    F_nc = None
    if forces:
        F_nc = assemble_forces(dEdG_ns, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p)
    return Prediction(E_b, F_nc, caches)


# ---------------------------------------------------------------------------
# Loss and gradient
# ---------------------------------------------------------------------------


@dataclass
class LossWeights:
    """w_E (1/eV^2 per atom^-2), w_F (Å^2/eV^2), L2 factor lambda (see module docstring)."""

    energy: float = 1.0
    force: float = 1.0
    l2: float = 0.0


@dataclass
class LossValue:
    """Total loss and its parts; RMSEs of the batch (eV/atom, eV/Å)."""

    total: float
    energy: float
    force: float
    l2: float
    rmse_energy: float
    rmse_force: float


def energy_residual(pred: Prediction, batch: Batch) -> np.ndarray:
    """dE_b = (E_b - E_b^ref) / N_b, eV/atom."""
    return (pred.E_b - batch.E_ref_b) / batch.n_atoms_b


def force_residual(pred: Prediction, batch: Batch) -> np.ndarray:
    """dF_kc = F_kc - F_kc^ref, eV/Å."""
    return pred.F_nc - batch.F_ref_nc


def loss_and_gradient(
    potential: Potential,
    batch: Batch,
    weights: LossWeights,
    use_forces: bool = True,
    gradient: bool = True,
) -> tuple[LossValue, np.ndarray | None]:
    """(L, dL/dw) for the current networks of ``potential`` on ``batch``.

    dL/dw is the flat vector in :func:`get_parameters` order; None when
    ``gradient`` is False. ``use_forces=False`` drops the force term (and
    its cost). See the module docstring for the equations.
    """
    use_forces = use_forces and weights.force != 0.0
    if use_forces and batch.F_ref_nc is None:
        raise ValueError("force training needs reference forces for every structure of the batch")
    c = potential.energy_scale
    pred = predict(potential, batch, forces=use_forces)
    B = batch.n_structures
    dE_b = energy_residual(pred, batch)  # (B,) eV/atom
    L_E = weights.energy * float(np.mean(dE_b**2))
    L_F = rmse_F = 0.0
    if use_forces:
        dF_nc = force_residual(pred, batch)  # (n, 3)
        L_F = weights.force * float(np.mean(dF_nc**2))
        rmse_F = float(np.sqrt(np.mean(dF_nc**2)))
    mask = weight_mask(potential) if weights.l2 else None
    w = get_parameters(potential) if weights.l2 else None
    L_2 = weights.l2 * float(np.sum(w[mask] ** 2)) if weights.l2 else 0.0
    value = LossValue(L_E + L_F + L_2, L_E, L_F, L_2, float(np.sqrt(np.mean(dE_b**2))), rmse_F)
    if not gradient:
        return value, None
    # energy part: dL/dE_b, then per atom
    dL_dE_b = 2.0 * weights.energy * dE_b / (batch.n_atoms_b * B)  # (B,)
    dL_dE_n = dL_dE_b[batch.struct_n]  # (n,) every atom of b shares it
    # force part: dL/dF, then its adjoint through the descriptor derivatives
    V_ns = None
    if use_forces:
        dL_dF_nc = 2.0 * weights.force * dF_nc / dF_nc.size  # (n, 3)
        V_ns = force_adjoint(dL_dF_nc, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p)
    parts = []
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        idx = batch.idx_e[e]
        if idx.size == 0:
            parts.append(np.zeros(nn.n_parameters(net)))
            continue
        cache = pred.caches[e]
        g = nn.grads_to_flat(nn.backward(net, cache, c * dL_dE_n[idx]))  # dNN/dw * dL/dNN
        if use_forces:
            n_s = batch.X_e[e].shape[1]
            V_as = V_ns[idx, :n_s] * batch.a_e[e]  # v_i = a * V_i
            g -= c * nn.grads_to_flat(nn.force_training_gradient(net, cache, V_as))
        parts.append(g)
    grad = np.concatenate(parts)
    if weights.l2:
        grad[mask] += 2.0 * weights.l2 * w[mask]
    return value, grad


# ---------------------------------------------------------------------------
# Jacobians of single observations (Kalman filter)
# ---------------------------------------------------------------------------


def energy_jacobian(potential: Potential, batch: Batch, pred: Prediction) -> np.ndarray:
    """dE_b/dw (N_w,) of the total energy of a one-structure batch."""
    if batch.n_structures != 1:
        raise ValueError("energy_jacobian needs a batch of one structure")
    c = potential.energy_scale
    parts = []
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        idx = batch.idx_e[e]
        if idx.size == 0:
            parts.append(np.zeros(nn.n_parameters(net)))
            continue
        ones = np.full(idx.size, c)  # dE_b/dNN_i = c for every atom
        parts.append(nn.grads_to_flat(nn.backward(net, pred.caches[e], ones)))
    return np.concatenate(parts)


@njit(cache=True)
def force_adjoint_components(k_m, c_m, dGdR_psc, dGself_nsc, i_p, j_p):
    """V_mis = dG_is/dR_{k_m, c_m}: :func:`~nnp_ref.model.potential.force_adjoint` for unit vectors.

    One slice per selected force component m (atom k_m, direction c_m):
    the self term dGself[k_m, :, c_m] and dGdR[p, :, c_m] of every pair p
    whose neighbour j_p is k_m (scattered to its central atom i_p).
    """
    n_m = k_m.shape[0]
    n, s_max = dGself_nsc.shape[0], dGself_nsc.shape[1]
    V_mns = np.zeros((n_m, n, s_max))
    for m in range(n_m):
        for s in range(s_max):
            V_mns[m, k_m[m], s] += dGself_nsc[k_m[m], s, c_m[m]]
    for p in range(i_p.shape[0]):
        j = j_p[p]
        for m in range(n_m):
            if k_m[m] == j:
                i = i_p[p]
                for s in range(s_max):
                    V_mns[m, i, s] += dGdR_psc[p, s, c_m[m]]
    return V_mns


def force_jacobian(potential: Potential, batch: Batch, pred: Prediction, k_m, c_m) -> np.ndarray:
    """dF_{k_m c_m}/dw, shape (m, N_w): one row per selected force component.

    dF_kc/dw = -c sum_i d/dw [sum_s dNN/dX_is a_s V_is] with V = dG/dR_kc
    (:func:`force_adjoint_components`), i.e. ``force_training_gradient``.
    """
    c = potential.energy_scale
    k_m = np.ascontiguousarray(k_m, dtype=np.int64)
    c_m = np.ascontiguousarray(c_m, dtype=np.int64)
    V_mns = force_adjoint_components(
        k_m, c_m, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p
    )
    rows = np.zeros(
        (len(k_m), sum(nn.n_parameters(potential.networks[e]) for e in potential.elements))
    )
    start = 0
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        size = nn.n_parameters(net)
        idx = batch.idx_e[e]
        if idx.size:
            n_s = batch.X_e[e].shape[1]
            for m in range(len(k_m)):
                V_as = V_mns[m][idx, :n_s] * batch.a_e[e]
                if not V_as.any():
                    continue
                g = nn.force_training_gradient(net, pred.caches[e], V_as)
                rows[m, start : start + size] = -c * nn.grads_to_flat(g)
        start += size
    return rows


__all__ = [
    "Batch",
    "LossValue",
    "LossWeights",
    "Prediction",
    "StructureData",
    "energy_jacobian",
    "force_adjoint_components",
    "force_jacobian",
    "get_parameters",
    "loss_and_gradient",
    "make_batch",
    "predict",
    "set_parameters",
    "structure_data",
    "weight_mask",
]
