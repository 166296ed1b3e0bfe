r"""Training loss of an HDNNP and its gradient, all hand-written (no finite differences).

For a batch of B structures with N_b atoms, reference energies E_b^ref,
reference forces F_kc^ref (n atoms in all) and, optionally, reference
stresses sigma_b^ref:

    L = w_E (1/B) sum_b [(E_b - E_b^ref) / N_b]^2          energy per atom
      + w_F (1/3n) sum_{k,c} (F_kc - F_kc^ref)^2           force components
      + w_S (1/9B) sum_{b,a,c} (sigma_b,ac - sigma_b,ac^ref)^2   stress components
      + lambda sum_l ||W_l||^2                              optional L2 (weights, not biases)

with, for atom i of element e (``nnp_ref.model.atomic_energy``, the one
place the scaling and the network meet):

    E_i  = c NN_e(a G_i + b) + E0_e,   dE_i/dG_is = c a_s dNN/dX_is
    E_b  = sum_{i in b} E_i
    F_kc = -sum_i sum_s (dE_i/dG_is) (dG_is/dR_kc)
    sigma_b = (1/V_b) sum_{p in b} D_p (x) dE/dD_p          (``training.stress``)

Gradient with respect to the weights w of the networks:

* energy part, reverse mode (``atomic_energy.energy_weight_gradient``):
      dL/dE_b   = 2 w_E (E_b - E_b^ref) / (N_b^2 B)
      dL/dw    += sum_i dL/dE_{b(i)} dE_i/dw
* force part, the chain rule through the descriptor derivatives:
      g_kc      = dL/dF_kc = 2 w_F (F_kc - F_kc^ref) / (3n)
      V_is      = sum_{k,c} dG_is/dR_kc g_kc          (``potential.force_adjoint``)
      dL/dw    += sum_kc g_kc dF_kc/dw = -d/dw sum_is (dE_i/dG_is) V_is
* stress part, the same route through the pair vectors:
      h_b,ac    = dL/dsigma_b,ac = 2 w_S (sigma_b,ac - sigma_b,ac^ref) / (9B)
      U_is      = sum_{p: i_p=i} sum_ac (h_b,ac / V_b) D_pa dGdR_psc   (``stress.virial_adjoint``)
      dL/dw    += d/dw sum_is (dE_i/dG_is) U_is
  both through ``atomic_energy.dEdG_weight_gradient`` (the network's mixed
  second derivative d^2 NN / dw dX contracted with a * V).
* L2: dL/dW_l += 2 lambda W_l.

The Kalman filter's Jacobians of single observations live in
``nnp_ref.training.jacobians``; batches in ``nnp_ref.training.batch``; the
flat parameter vector in ``nnp_ref.training.parameters`` (all re-exported
here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnp_ref.model.atomic_energy import (
    atomic_energies,
    dEdG_weight_gradient,
    energy_weight_gradient,
)
from nnp_ref.model.network import n_parameters as _net_parameters
from nnp_ref.model.potential import Potential, assemble_forces, force_adjoint
from nnp_ref.training.batch import Batch, StructureData, make_batch, structure_data
from nnp_ref.training.jacobians import energy_jacobian, force_adjoint_components, force_jacobian
from nnp_ref.training.parameters import get_parameters, set_parameters, weight_mask
from nnp_ref.training.stress import batch_virials, virial_adjoint

# ---------------------------------------------------------------------------
# Prediction on a batch
# ---------------------------------------------------------------------------


@dataclass
class Prediction:
    """E_b (B,) eV, F_nc (n, 3) or None, per-element steps, S_bcc (B, 3, 3) eV/Å^3 or None.

    ``steps[e]``: the :class:`~nnp_ref.model.atomic_energy.AtomicEnergies`
    of element e (None if the batch has no such atom), for the weight
    derivatives.
    """

    E_b: np.ndarray
    F_nc: np.ndarray | None
    steps: list
    S_bcc: np.ndarray | None = None


def predict(potential: Potential, batch: Batch, forces: bool = True, stress: bool = False):
    """E_b = sum_i E_i, F_kc = -sum_is dE_i/dG_is dG_is/dR_kc and sigma_b for a batch."""
    energies_n = np.zeros(batch.n_atoms)
    derivatives = forces or stress
    dEdG_ns = np.zeros(batch.dGself_nsc.shape[:2]) if derivatives else None
    steps = []
    for e, symbol in enumerate(potential.elements):
        idx = batch.idx_e[e]
        if idx.size == 0:
            steps.append(None)
            continue
        step = atomic_energies(
            potential.networks[symbol],
            potential.scalings[symbol],
            batch.G_e[e],
            potential.energy_scale,
            potential.energy_offsets[symbol],
            derivatives,
        )
        steps.append(step)
        energies_n[idx] = step.E_a
        if derivatives:
            dEdG_ns[idx, : batch.G_e[e].shape[1]] = step.dEdG_as
    E_b = np.bincount(batch.struct_n, weights=energies_n, minlength=batch.n_structures)
    F_nc = S_bcc = None
    if forces:
        F_nc = assemble_forces(dEdG_ns, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p)
    if stress:
        _check_stress_inputs(batch)
        W_bcc = batch_virials(
            dEdG_ns, batch.dGdR_psc, batch.i_p, batch.D_pc, batch.struct_n, batch.n_structures
        )
        S_bcc = W_bcc / batch.volume_b[:, None, None]  # sigma = W / V
    return Prediction(E_b, F_nc, steps, S_bcc)


def _check_stress_inputs(batch: Batch) -> None:
    if batch.D_pc is None:
        raise ValueError("stress needs the pair vectors D_pc of every structure of the batch")
    bad = [name for name, V in zip(batch.names, batch.volume_b) if not np.isfinite(V)]
    if bad:
        raise ValueError(
            f"stress needs periodic cells; {len(bad)} structure(s) without one, first: {bad[0]}"
        )


# ---------------------------------------------------------------------------
# Loss and gradient
# ---------------------------------------------------------------------------


@dataclass
class LossWeights:
    """w_E (atom^2/eV^2), w_F (Å^2/eV^2), w_S (Å^6/eV^2), L2 factor lambda (module docstring)."""

    energy: float = 1.0
    force: float = 1.0
    l2: float = 0.0
    stress: float = 0.0


@dataclass
class LossValue:
    """Total loss and its parts; RMSEs of the batch (eV/atom, eV/Å, eV/Å^3)."""

    total: float
    energy: float
    force: float
    l2: float
    rmse_energy: float
    rmse_force: float
    stress: float = 0.0
    rmse_stress: float = 0.0


def energy_residual(pred: Prediction, batch: Batch) -> np.ndarray:
    """dE_b = (E_b - E_b^ref) / N_b, eV/atom."""
    return (pred.E_b - batch.E_ref_b) / batch.n_atoms_b


def force_residual(pred: Prediction, batch: Batch) -> np.ndarray:
    """dF_kc = F_kc - F_kc^ref, eV/Å."""
    return pred.F_nc - batch.F_ref_nc


def stress_residual(pred: Prediction, batch: Batch) -> np.ndarray:
    """dsigma_b = sigma_b - sigma_b^ref, (B, 3, 3) eV/Å^3."""
    return pred.S_bcc - batch.S_ref_bcc


def missing_stress(batch: Batch) -> list[str]:
    """Names of the batch's structures without a reference stress."""
    return [n for n, S in zip(batch.names, batch.S_ref_bcc) if not np.all(np.isfinite(S))]


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
    its cost); the stress term is used when ``weights.stress`` is non-zero
    and then needs a reference stress for every structure (else ValueError
    naming them). See the module docstring for the equations.
    """
    use_forces = use_forces and weights.force != 0.0
    use_stress = weights.stress != 0.0
    if use_forces and batch.F_ref_nc is None:
        raise ValueError("force training needs reference forces for every structure of the batch")
    if use_stress and missing_stress(batch):
        bad = missing_stress(batch)
        raise ValueError(
            f"stress weight is {weights.stress:g} but {len(bad)} structure(s) have no reference "
            f"stress: {', '.join(bad[:5])}{' ...' if len(bad) > 5 else ''}"
        )
    pred = predict(potential, batch, forces=use_forces, stress=use_stress)
    dE_b = energy_residual(pred, batch)  # (B,) eV/atom
    dF_nc = force_residual(pred, batch) if use_forces else None  # (n, 3) eV/Å
    dS_bcc = stress_residual(pred, batch) if use_stress else None  # (B, 3, 3) eV/Å^3
    mask = weight_mask(potential) if weights.l2 else None
    w = get_parameters(potential) if weights.l2 else None
    value = _loss_value(weights, dE_b, dF_nc, dS_bcc, w[mask] if weights.l2 else None)
    if not gradient:
        return value, None
    grad = _network_gradient(potential, batch, pred, weights, dE_b, dF_nc, dS_bcc)
    if weights.l2:
        grad[mask] += 2.0 * weights.l2 * w[mask]  # d(lambda |W|^2)/dW
    return value, grad


def _loss_value(weights: LossWeights, dE_b, dF_nc, dS_bcc, w_weights) -> LossValue:
    """The terms of L from the residuals (None: term not used) and the weights' values."""
    L_E = weights.energy * float(np.mean(dE_b**2))
    L_F = rmse_F = L_S = rmse_S = 0.0
    if dF_nc is not None:
        L_F = weights.force * float(np.mean(dF_nc**2))
        rmse_F = float(np.sqrt(np.mean(dF_nc**2)))
    if dS_bcc is not None:
        L_S = weights.stress * float(np.mean(dS_bcc**2))
        rmse_S = float(np.sqrt(np.mean(dS_bcc**2)))
    L_2 = weights.l2 * float(np.sum(w_weights**2)) if w_weights is not None else 0.0
    rmse_E = float(np.sqrt(np.mean(dE_b**2)))
    return LossValue(L_E + L_F + L_S + L_2, L_E, L_F, L_2, rmse_E, rmse_F, L_S, rmse_S)


def _network_gradient(potential, batch, pred, weights, dE_b, dF_nc, dS_bcc) -> np.ndarray:
    """dL/dw of the energy, force and stress terms (module docstring), flat."""
    # energy part: dL/dE_b, then per atom
    dL_dE_b = 2.0 * weights.energy * dE_b / (batch.n_atoms_b * batch.n_structures)  # (B,)
    dL_dE_n = dL_dE_b[batch.struct_n]  # (n,) every atom of b shares it
    # force part: dL/dF, then its adjoint through the descriptor derivatives
    V_ns = U_ns = None
    if dF_nc is not None:
        dL_dF_nc = 2.0 * weights.force * dF_nc / dF_nc.size  # (n, 3)
        V_ns = force_adjoint(dL_dF_nc, batch.dGdR_psc, batch.dGself_nsc, batch.i_p, batch.j_p)
    # stress part: dL/dsigma -> dL/dW = dL/dsigma / V -> adjoint through the pair vectors
    if dS_bcc is not None:
        dL_dS_bcc = 2.0 * weights.stress * dS_bcc / dS_bcc.size  # (B, 3, 3)
        dL_dW_bcc = dL_dS_bcc / batch.volume_b[:, None, None]  # sigma = W / V
        U_ns = virial_adjoint(
            dL_dW_bcc, batch.dGdR_psc, batch.i_p, batch.D_pc, batch.struct_n, batch.n_atoms
        )
    parts = []
    for e, symbol in enumerate(potential.elements):
        net = potential.networks[symbol]
        idx = batch.idx_e[e]
        step = pred.steps[e]
        if step is None:
            parts.append(np.zeros(_net_parameters(net)))
            continue
        n_s = batch.G_e[e].shape[1]
        g = energy_weight_gradient(net, step, dL_dE_n[idx])  # sum_i dL/dE_i dE_i/dw
        if V_ns is not None:
            g -= dEdG_weight_gradient(net, step, V_ns[idx, :n_s])  # F = -dE/dG . dG/dR
        if U_ns is not None:
            g += dEdG_weight_gradient(net, step, U_ns[idx, :n_s])  # W = D (x) dE/dG . dG/dR
        parts.append(g)
    return np.concatenate(parts)


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
    "missing_stress",
    "predict",
    "set_parameters",
    "structure_data",
    "weight_mask",
]
