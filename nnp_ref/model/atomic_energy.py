r"""One element's step of an HDNNP: scale -> network -> atomic energies and dE/dG.

Behler & Parrinello, Phys. Rev. Lett. 98, 146401 (2007); scaling as in n2p2
(Singraber, Behler & Dellago, J. Chem. Theory Comput. 15, 1827 (2019)). For
the atoms a of one element with raw symmetry functions G_as:

    X_as = a_s G_as + b_s                     scaling (``nnp_ref.model.scaling``)
    E_a  = c NN(X_a) + E0                     c = energy_scale, E0 = energy offset
    dE_a/dG_as = c dNN/dX_as a_s              chain rule, dX_as/dG_as = a_s

This is the only place where the scaling factor a_s enters a derivative in
NumPy: the batched training predictions (``nnp_ref.training.loss``), the
Kalman Jacobians, the fourth-generation networks
(``nnp_ref.model.fourth_generation``, ``nnp_ref.training.fourth_generation``)
and the sensitivity of ``nnp_ref.selection.pruning`` all call it.
:func:`~nnp_ref.model.potential.evaluate` runs the same step for all atoms
of a structure in one Numba kernel (``nnp_ref.model.network_kernel``), whose
test oracle this function is.

A 4G short-range network takes extra, unscaled inputs after the scaled G
(the atomic charge Q_a): X_a = [a G_a + b, q_a]. Then dE_a/dq_a = c dNN/dq_a,
the last columns of ``dEdX``.

Derivatives with respect to the network's weights w (flat n2p2 order), for
the training loss and the Kalman filter:

* :func:`energy_weight_gradient`, for any weights g_a per atom:
      d/dw sum_a g_a E_a = c sum_a g_a dNN_a/dw           (reverse mode)
* :func:`dEdG_weight_gradient`, for any directions V_as (a force or stress
  adjoint, see ``nnp_ref.training.loss``):
      d/dw sum_as (dE_a/dG_as) V_as = c d/dw sum_as dNN/dX_as (a_s V_as)
  the network's mixed second derivative contracted with v_a = a * V_a
  (``network.force_training_gradient``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nnp_ref.model import network as nn
from nnp_ref.model.scaling import Scaling


@dataclass
class AtomicEnergies:
    """Output of :func:`atomic_energies` for the a atoms of one element.

    ``E_a`` (a,) eV; ``dEdG_as`` (a, s) eV per unit of raw G, or None;
    ``dEdX_ax`` (a, s + extra) eV per unit of network input, c dNN/dX, or None;
    ``a_s`` (s,) the scaling factors dX/dG; ``energy_scale`` c;
    ``cache`` the network's forward cache (for the weight derivatives).
    """

    E_a: np.ndarray
    dEdG_as: np.ndarray | None
    dEdX_ax: np.ndarray | None
    a_s: np.ndarray
    energy_scale: float
    cache: nn.Cache


def atomic_energies(
    network: nn.Network,
    scaling: Scaling,
    G_as: np.ndarray,
    energy_scale: float = 1.0,
    energy_offset: float = 0.0,
    gradient: bool = True,
    extra_ax: np.ndarray | None = None,
) -> AtomicEnergies:
    """E_a = c NN([a G_a + b, extra_a]) + E0 and (if ``gradient``) dE_a/dG_as = c dNN/dX_as a_s.

    ``extra_ax`` (a, x): unscaled inputs after the G (4G: the charges), or None.
    """
    a_s, b_s = scaling.factor_and_offset()
    X_ax = G_as * a_s + b_s  # (a, s) scaled inputs
    if extra_ax is not None:
        X_ax = np.hstack([X_ax, extra_ax])  # (a, s + x)
    NN_a, cache = nn.forward(network, X_ax)  # (a,)
    E_a = energy_scale * NN_a + energy_offset  # (a,) E = c NN + E0
    dEdG_as = dEdX_ax = None
    if gradient:
        dEdX_ax = energy_scale * nn.input_gradient(network, cache)  # c dNN/dX
        dEdG_as = dEdX_ax[:, : len(a_s)] * a_s  # dX/dG = a
    return AtomicEnergies(E_a, dEdG_as, dEdX_ax, a_s, energy_scale, cache)


def energy_weight_gradient(network: nn.Network, step: AtomicEnergies, g_a) -> np.ndarray:
    """d/dw sum_a g_a E_a = c sum_a g_a dNN_a/dw, flat (n_parameters,)."""
    return nn.grads_to_flat(nn.backward(network, step.cache, step.energy_scale * g_a))


def dEdG_weight_gradient(
    network: nn.Network, step: AtomicEnergies, V_as, V_extra_ax=None
) -> np.ndarray:
    """d/dw sum_as (dE_a/dG_as) V_as = c d/dw sum_as dNN/dX_as (a_s V_as), flat.

    With extra inputs (``atomic_energies(extra_ax=...)``) ``V_extra_ax`` is
    their direction, unscaled: + c d/dw sum_ax dNN/dq_ax V_extra_ax.
    """
    v_as = V_as * step.a_s  # (a, s) direction in scaled inputs, dX/dG = a
    if V_extra_ax is not None:
        v_as = np.hstack([v_as, V_extra_ax])  # (a, s + x)
    return step.energy_scale * nn.grads_to_flat(
        nn.force_training_gradient(network, step.cache, v_as)
    )
