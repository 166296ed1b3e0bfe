r"""Pruning symmetry functions: by range, by correlation, by sensitivity (n2p2's ``nnp-prune``).

A set generated from a scheme (:mod:`~nnp_ref.selection.symmetry_function_sets`)
always contains functions the data do not need. Three criteria, computed per
element over the atoms of a training set (G_as: atoms a x functions s):

- **range** (n2p2 ``nnp-prune range <threshold>``, before training): drop s if
  max_a G_as - min_a G_as < threshold. Such a function is (nearly) constant
  over the data: it tells the network nothing.
- **correlation** (J. Behler, J. Chem. Phys. 134, 074106 (2011), Sec. V: "highly
  correlated functions are redundant"): Pearson coefficient
  rho_st = cov(G_s, G_t) / (sigma_s sigma_t); going through the functions in
  order, s is dropped if |rho_st| >= threshold for a function t kept before it.
  Constant functions (sigma = 0) are left to the range criterion.
- **sensitivity** (n2p2 ``nnp-prune sensitivity <threshold>``, after training;
  the sensitivity analysis of ``nnp-dataset``): with x_as the scaled inputs and
  E_a the atomic network output,

      S_s = sqrt( <(dE_a/dx_as)^2>_a )   ("mean", root mean square)
      S_s = max_a |dE_a/dx_as|           ("max")

  in percent of sum_s S_s; drop s if S_s < threshold (%).

**Keeping the predictions.** :func:`prune_potential` removes functions from a
trained potential and folds them into the kept ones instead of just deleting
their weights. On the training atoms the removed scaled inputs x_r are fitted
by the kept ones, x_r ~ x_k A + d (least squares), so the first layer

    c (x W + b) = c (x_k W_k + x_r W_r + b) ~ c' (x_k W_k' + b')
    W_k' = (c/c') (W_k + A W_r),   b' = (c/c') (b + d W_r)

(c = 1/n_inputs with normalize_nodes, else 1). For a constant function
(A = 0, d = the constant) or one perfectly correlated with kept ones
(x_r = x_k A + d exactly) this is exact: predictions do not change at all.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from nnp_ref.model import network as nn
from nnp_ref.model.atomic_energy import atomic_energies
from nnp_ref.model.potential import Potential
from nnp_ref.model.scaling import Scaling
from nnp_ref.training.preprocessing import descriptor_statistics


@dataclass
class PruneReport:
    """Which functions of each element go, and why.

    ``keep[e]``: (s,) bool mask over the element's functions; ``reasons[e]``:
    {function index: text} for every dropped function.
    """

    keep: dict[str, np.ndarray]
    reasons: dict[str, dict[int, str]]

    def summary(self) -> str:
        lines = []
        for e, mask in self.keep.items():
            lines.append(f"{e}: keep {int(mask.sum())} of {mask.size} symmetry functions")
            for s, why in sorted(self.reasons[e].items()):
                lines.append(f"  - function {s}: {why}")
        return "\n".join(lines)


def range_mask(G_as: np.ndarray, threshold: float) -> np.ndarray:
    """keep_s = (max_a G_as - min_a G_as) >= threshold."""
    return (G_as.max(axis=0) - G_as.min(axis=0)) >= threshold


def correlation_matrix(G_as: np.ndarray) -> np.ndarray:
    """Pearson rho_st over the atoms; 0 for pairs with a constant function."""
    centred = G_as - G_as.mean(axis=0)
    sigma_s = np.sqrt(np.mean(centred**2, axis=0))
    cov_ss = centred.T @ centred / G_as.shape[0]
    denom = np.outer(sigma_s, sigma_s)
    return np.divide(cov_ss, denom, out=np.zeros_like(cov_ss), where=denom > 0)


def correlation_mask(G_as: np.ndarray, threshold: float = 0.999):
    """(keep_s, partner_s): s is dropped if |rho_st| >= threshold for a kept t < s.

    ``partner_s`` is that t (-1 for kept functions). Constant functions are kept here.
    """
    rho = np.abs(correlation_matrix(G_as))
    n_s = G_as.shape[1]
    keep = np.ones(n_s, dtype=bool)
    partner = np.full(n_s, -1, dtype=np.int64)
    for s in range(n_s):
        kept_before = np.flatnonzero(keep[:s])
        hits = kept_before[rho[s, kept_before] >= threshold]
        if hits.size:
            keep[s], partner[s] = False, int(hits[0])
    return keep, partner


def scaled_inputs(potential: Potential, element: str, G_as: np.ndarray) -> np.ndarray:
    """x_as = a_s G_as + b_s, the network inputs of ``element``."""
    return potential.scalings[element].apply(G_as)


def sensitivity(potential: Potential, element: str, G_as: np.ndarray, kind: str = "mean"):
    """S_s in percent of sum_s S_s (module docstring), ``kind`` "mean" (RMS) or "max"."""
    if kind not in ("mean", "max"):
        raise ValueError(f"sensitivity kind must be 'mean' or 'max', got {kind!r}")
    step = atomic_energies(potential.networks[element], potential.scalings[element], G_as)
    dEdx_as = step.dEdX_ax  # dNN/dx (energy_scale 1: the percentages do not depend on it)
    S_s = np.sqrt(np.mean(dEdx_as**2, axis=0)) if kind == "mean" else np.abs(dEdx_as).max(axis=0)
    total = S_s.sum()
    return 100.0 * S_s / total if total > 0 else np.zeros_like(S_s)


def prune_report(
    descriptors,
    elements,
    range_threshold: float | None = 1e-4,
    correlation_threshold: float | None = None,
    sensitivity_threshold: float | None = None,
    potential: Potential | None = None,
    sensitivity_kind: str = "mean",
) -> PruneReport:
    """Apply the chosen criteria (None: skip) over ``descriptors`` (one per structure).

    ``elements``: the element order the descriptors were computed with (the
    potential's ``elements``: ``Descriptors.elem_n`` indexes it).

    ``sensitivity_threshold`` (percent) needs the trained ``potential``.
    Every element keeps at least one function.
    """
    if sensitivity_threshold is not None and potential is None:
        raise ValueError("sensitivity pruning needs a trained potential")
    G_e = descriptor_statistics(descriptors, tuple(elements))
    keep, reasons = {}, {}
    for e in elements:
        if e not in G_e:
            raise ValueError(f"no atoms of element {e!r} in the descriptors given for pruning")
        G_as = G_e[e]
        mask = np.ones(G_as.shape[1], dtype=bool)
        why: dict[int, str] = {}
        if range_threshold is not None:
            spread = G_as.max(axis=0) - G_as.min(axis=0)
            for s in np.flatnonzero(~range_mask(G_as, range_threshold)):
                why[int(s)] = f"range {spread[s]:.3g} < {range_threshold:g}"
            mask &= range_mask(G_as, range_threshold)
        if correlation_threshold is not None:
            sub = np.flatnonzero(mask)
            ok, partner = correlation_mask(G_as[:, sub], correlation_threshold)
            for k in np.flatnonzero(~ok):
                why[int(sub[k])] = (
                    f"|correlation| >= {correlation_threshold:g} with {sub[partner[k]]}"
                )
            mask[sub[~ok]] = False
        if sensitivity_threshold is not None:
            S_s = sensitivity(potential, e, G_as, sensitivity_kind)
            low = mask & (S_s < sensitivity_threshold)
            for s in np.flatnonzero(low):
                why[int(s)] = f"sensitivity {S_s[s]:.3g}% < {sensitivity_threshold:g}%"
            mask &= ~low
        if not mask.any():
            raise ValueError(f"pruning would remove every symmetry function of element {e!r}")
        keep[e], reasons[e] = mask, why
    return PruneReport(keep, reasons)


def fold_first_layer(net: nn.Network, X_as: np.ndarray, keep_s: np.ndarray) -> nn.Network:
    """A network on the kept inputs only, removed inputs folded in (module docstring)."""
    keep_s = np.asarray(keep_s, dtype=bool)
    X_k = X_as[:, keep_s]
    X_r = X_as[:, ~keep_s]
    design = np.hstack([X_k, np.ones((X_as.shape[0], 1))])  # [x_k, 1]
    coef, *_ = np.linalg.lstsq(design, X_r, rcond=None)  # x_r ~ x_k A + d
    A_kr, d_r = coef[:-1], coef[-1]
    W, b = net.weights[0], net.biases[0]
    W_k, W_r = W[keep_s], W[~keep_s]
    ratio = (keep_s.sum() / keep_s.size) if net.normalize else 1.0  # c/c' = n_new/n_old
    new = copy.deepcopy(net)
    new.weights[0] = ratio * (W_k + A_kr @ W_r)
    new.biases[0] = ratio * (b + d_r @ W_r)
    nn.check_network(new)
    return new


def subset_scaling(scaling: Scaling, keep_s: np.ndarray) -> Scaling:
    """The scaling of the kept functions only."""
    return Scaling(scaling.mode, scaling.G_min[keep_s], scaling.G_max[keep_s],
                   scaling.G_mean[keep_s], scaling.G_sigma[keep_s], scaling.s_min,
                   scaling.s_max)  # fmt: skip


def prune_potential(potential: Potential, keep: dict[str, np.ndarray], descriptors) -> Potential:
    """A new potential with only the ``keep[e]`` functions; removed inputs folded into the
    first layer by least squares over the atoms of ``descriptors`` (the training set)."""
    G_e = descriptor_statistics(descriptors, potential.elements)
    sets, nets, scalings = {}, {}, {}
    for e in potential.elements:
        n_s = len(potential.symmetry_functions[e])
        mask = np.asarray(keep.get(e, np.ones(n_s, dtype=bool)), dtype=bool)
        if mask.shape != (n_s,):
            raise ValueError(f"keep mask of element {e!r} has shape {mask.shape}, need ({n_s},)")
        if not mask.any():
            raise ValueError(f"cannot remove every symmetry function of element {e!r}")
        sets[e] = [sf for sf, k in zip(potential.symmetry_functions[e], mask) if k]
        scalings[e] = subset_scaling(potential.scalings[e], mask)
        if mask.all():
            nets[e] = copy.deepcopy(potential.networks[e])
        else:
            if e not in G_e:
                raise ValueError(f"no atoms of element {e!r} to fold its pruned functions on")
            X_as = scaled_inputs(potential, e, G_e[e])
            nets[e] = fold_first_layer(potential.networks[e], X_as, mask)
    removed = {e: np.flatnonzero(~np.asarray(keep[e], dtype=bool)).tolist() for e in keep}
    metadata = {**potential.metadata, "pruned_functions": removed}
    return Potential(potential.elements, sets, nets, scalings=scalings,
                     energy_offsets=dict(potential.energy_offsets),
                     energy_scale=potential.energy_scale, metadata=metadata)  # fmt: skip


__all__ = [
    "PruneReport",
    "correlation_mask",
    "correlation_matrix",
    "fold_first_layer",
    "prune_potential",
    "prune_report",
    "range_mask",
    "scaled_inputs",
    "sensitivity",
    "subset_scaling",
]
