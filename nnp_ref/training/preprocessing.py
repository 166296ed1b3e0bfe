r"""Preprocessing for training: descriptors, their statistics, element energies, default sets.

1. **Descriptors once.** :func:`compute_descriptors` evaluates the symmetry
   functions and their derivatives of every structure once; training then
   only runs networks (n2p2's ``memorize_symfunc_results``).
2. **Scaling statistics** (:func:`scaling_from_descriptors`): min, max, mean
   and sigma of every function over the *training* atoms of each element
   (n2p2 ``nnp-scaling``); a function with min == max (or sigma == 0) gets
   scaling factor 0 in :class:`nnp_ref.model.scaling.Scaling`, never a division by
   zero.
3. **Element energies** (:func:`fit_element_energies`): a least-squares fit
   of the total energies on the composition,

       E_s ~ sum_e N_se E0_e   =>   E0 = argmin sum_s (E_s - sum_e N_se E0_e)^2,

   so that the networks learn only the small remainder (the atomisation /
   cohesive part). When the compositions are linearly dependent (e.g. only
   water, always H:O = 2:1) the minimum-norm solution is taken; any
   solution gives the same remainder for such data.
4. **Energy normalisation** (:func:`energy_force_units`): u_E, the standard
   deviation of the remainder per atom, and u_F, the RMS force component, as
   n2p2's ``nnp-norm`` (u_E = 1/conv_energy, u_F = conv_length/conv_energy).
   Networks output E_i / u_E, so their targets are of order one.
5. **Default symmetry functions** (:func:`default_symmetry_functions`),
   following n2p2's ``sfparamgen`` (rule "gastegger2018": M. Gastegger et
   al., J. Chem. Phys. 148, 241709 (2018), doi:10.1063/1.5019667) and
   Behler's recommendations (J. Behler, J. Chem. Phys. 134, 074106 (2011)):

   - radial (type 2), for every neighbour element, "shift" mode: r_s on an
     equidistant grid r_1 = r_lower, ..., r_N = r_upper with
     eta = 1/(2 dr^2), dr = (r_upper - r_lower)/(N - 1), so neighbouring
     Gaussians overlap at one standard deviation;
   - angular, for every unordered pair of neighbour elements, "center" mode
     (r_s = 0): eta_k = 1/(2 r_k^2) on a grid r_k from r_lower to r_upper,
     zeta in (1, 2, 4, 16), lambda = +-1. Wide (type 9) by default: no
     r_jk cutoff, so a pair j, k on opposite sides of atom i still counts;
     narrow (type 3) on request.

   All use the cutoff radius ``rc`` and n2p2's cutoff type 6 (poly2, smooth
   to the second derivative) unless told otherwise.
"""

from __future__ import annotations

from itertools import combinations_with_replacement

import numpy as np

from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.descriptors.symmetry_functions import (
    Descriptors,
    SymmetryFunction,
    SymmetryFunctionSet,
)
from nnp_ref.model.scaling import Scaling

# ---------------------------------------------------------------------------
# Descriptors and their statistics
# ---------------------------------------------------------------------------


def compute_descriptors(
    structures, sfset: SymmetryFunctionSet, with_derivatives: bool = True, progress: bool = True
) -> list[Descriptors]:
    """Symmetry functions (and derivatives) of every structure, computed once."""
    from tqdm.auto import tqdm

    out = []
    for atoms in tqdm(structures, desc="symmetry functions", disable=not progress):
        out.append(sfset.compute_atoms(atoms, with_derivatives=with_derivatives))
    return out


def descriptor_statistics(descriptors, elements) -> dict[str, np.ndarray]:
    """Raw G of all atoms of each element, stacked: {element: G_as (atoms, s)}."""
    blocks: dict[str, list] = {e: [] for e in elements}
    for d in descriptors:
        for e, symbol in enumerate(elements):
            rows = d.elem_n == e
            if rows.any():
                blocks[symbol].append(d.G_ns[rows, : d.n_s_e[e]])
    return {e: np.vstack(b) for e, b in blocks.items() if b}


def scaling_from_descriptors(
    descriptors, elements, mode: str = "scalecenter", s_min: float = 0.0, s_max: float = 1.0
) -> dict[str, Scaling]:
    """Per-element :class:`Scaling` from training-set statistics (n2p2 ``nnp-scaling``).

    Raises ``ValueError`` naming an element without atoms in the set.
    A function that is constant over the set (min == max) is harmless: its
    factor is 0 (see ``nnp_ref.model.scaling``).
    """
    G_e = descriptor_statistics(descriptors, elements)
    missing = [e for e in elements if e not in G_e]
    if missing:
        raise ValueError(f"no atoms of element(s) {missing} in the training set")
    return {e: Scaling.from_data(G_e[e], mode=mode, s_min=s_min, s_max=s_max) for e in elements}


# ---------------------------------------------------------------------------
# Element energies and normalisation
# ---------------------------------------------------------------------------


def composition_matrix(structures, elements) -> np.ndarray:
    """N_se: number of atoms of element e in structure s, shape (structures, elements)."""
    index = {e: k for k, e in enumerate(elements)}
    N_se = np.zeros((len(structures), len(elements)))
    for s, atoms in enumerate(structures):
        for symbol in atoms.get_chemical_symbols():
            N_se[s, index[symbol]] += 1.0
    return N_se


def fit_element_energies(structures, elements) -> dict[str, float]:
    """E0_e by least squares on the composition: min_E0 sum_s (E_s - N_s . E0)^2 (eV)."""
    N_se = composition_matrix(structures, elements)
    E_s = np.array([reference_energy(a) for a in structures], dtype=float)
    E0_e, *_ = np.linalg.lstsq(N_se, E_s, rcond=None)
    return {e: float(E0_e[k]) for k, e in enumerate(elements)}


def energy_force_units(structures, energy_offsets: dict[str, float]) -> tuple[float, float]:
    """(u_E, u_F): std of the remainder per atom (eV) and RMS force component (eV/Å).

    Remainder per atom: (E_s - sum_i E0_{Z_i}) / N_s. Both fall back to 1
    when the data give 0 (a single structure, no forces).
    """
    per_atom = []
    forces = []
    for atoms in structures:
        E0 = sum(energy_offsets[s] for s in atoms.get_chemical_symbols())
        per_atom.append((reference_energy(atoms) - E0) / len(atoms))
        F = reference_forces(atoms)
        if F is not None:
            forces.append(F.ravel())
    u_E = float(np.std(per_atom)) if len(per_atom) > 1 else 0.0
    u_F = float(np.sqrt(np.mean(np.concatenate(forces) ** 2))) if forces else 0.0
    return (u_E if u_E > 0 else 1.0), (u_F if u_F > 0 else 1.0)


# ---------------------------------------------------------------------------
# Default symmetry-function sets
# ---------------------------------------------------------------------------


def radial_grid(mode: str, n: int, r_lower: float, r_upper: float):
    """(r_s, eta) pairs of n2p2 sfparamgen's rule "gastegger2018".

    "shift": r_s = linspace(r_lower, r_upper, n), eta = 1/(2 dr^2) for all.
    "center": r_s = 0, eta_k = 1/(2 r_k^2) with r_k = linspace(r_lower, r_upper, n)
    (n = 1: the widest, r_1 = r_upper).
    """
    if n < (2 if mode == "shift" else 1):
        raise ValueError(f"need at least {2 if mode == 'shift' else 1} grid points, got {n}")
    if not 0.0 < r_lower < r_upper:
        raise ValueError(f"need 0 < r_lower < r_upper, got {r_lower}, {r_upper}")
    grid = np.linspace(r_lower, r_upper, n) if n > 1 else np.array([r_upper])
    if mode == "shift":
        dr = (r_upper - r_lower) / (n - 1)
        return grid, np.full(n, 1.0 / (2.0 * dr * dr))
    if mode == "center":
        return np.zeros(n), 1.0 / (2.0 * grid**2)
    raise ValueError(f"mode must be 'shift' or 'center', got {mode!r}")


def default_symmetry_functions(
    elements,
    rc: float = 6.0,
    n_radial: int = 8,
    n_angular: int = 3,
    r_lower: float = 1.5,
    r_upper: float | None = None,
    zetas=(1.0, 2.0, 4.0, 16.0),
    angular: str = "wide",
    radial_mode: str = "shift",
    cutoff_type: int = 6,
) -> dict[str, list[SymmetryFunction]]:
    """A sensible default set for every element (see the module docstring).

    Per central element: ``n_radial`` radial functions per neighbour element
    and ``n_angular * len(zetas) * 2`` angular functions per unordered pair
    of neighbour elements. For one element with the defaults: 8 + 24 = 32.
    ``r_lower`` should be about the shortest interatomic distance expected
    (or somewhat less); ``r_upper`` defaults to ``rc - 0.5`` for radial
    shifts (a Gaussian centred at rc is cut away) and to ``rc`` for the
    angular widths.
    """
    elements = tuple(elements)
    if angular not in ("wide", "narrow"):
        raise ValueError(f"angular must be 'wide' or 'narrow', got {angular!r}")
    ang_type = 9 if angular == "wide" else 3
    rs_r, eta_r = radial_grid(
        radial_mode, n_radial, r_lower, (rc - 0.5) if r_upper is None else r_upper
    )
    _, eta_a = radial_grid("center", n_angular, r_lower, rc if r_upper is None else r_upper)
    sets = {}
    for center in elements:
        sfs = []
        for nb in elements:
            for rs, eta in zip(rs_r, eta_r):
                sfs.append(
                    SymmetryFunction(
                        2, center, (nb,), rc, eta=float(eta), rs=float(rs), cutoff_type=cutoff_type
                    )  # fmt: skip
                )
        for nb1, nb2 in combinations_with_replacement(elements, 2):
            for eta in eta_a:
                for zeta in zetas:
                    for lam in (1.0, -1.0):
                        sfs.append(
                            SymmetryFunction(ang_type, center, (nb1, nb2), rc, eta=float(eta),
                                             zeta=float(zeta), lam=lam, cutoff_type=cutoff_type)
                        )  # fmt: skip
        sets[center] = sfs
    return sets


__all__ = [
    "composition_matrix",
    "compute_descriptors",
    "default_symmetry_functions",
    "descriptor_statistics",
    "energy_force_units",
    "fit_element_energies",
    "radial_grid",
    "scaling_from_descriptors",
]
