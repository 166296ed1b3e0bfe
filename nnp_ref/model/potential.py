r"""High-dimensional neural network potential: energy, forces and stress.

Behler & Parrinello, Phys. Rev. Lett. 98, 146401 (2007); J. Behler,
J. Chem. Phys. 134, 074106 (2011). The total energy is a sum of atomic
energies, each the output of the network of the atom's element applied to
its scaled symmetry functions:

    E = sum_i E_i,   E_i = c * NN_{Z_i}(a G_i + b) + E0_{Z_i}

with c = ``energy_scale`` (eV per network output unit, 1 for nnp_ref's own
models, 1/conv_energy in file units for n2p2's normalised potentials),
(a, b) the scaling of the functions (``nnp_ref.model.scaling``) and E0 a
per-element energy offset (eV). Forces follow by the chain rule through the
network and the descriptors, assembled from the sparse derivatives:

    F_k = - sum_i sum_s (dE_i/dG_is) (dG_is/dR_k)
        = - sum_s dE_k/dG_ks dG_ks/dR_k  - sum_{p: j_p = k} sum_s dE_{i_p}/dG_{i_p s} dGdR_psc[p]

and the stress from the strain derivatives, sigma_ab = (1/V) dE/d eps_ab =
(1/V) sum_p D_pa dE/dD_pb, the virial of the pair terms (ASE's sign convention).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import njit

from nnp_ref.descriptors.symmetry_functions import (
    Descriptors,
    SymmetryFunction,
    SymmetryFunctionSet,
)
from nnp_ref.model import network as nn
from nnp_ref.model.scaling import Scaling


class ExtrapolationError(ValueError):
    """A symmetry function left the range seen in training (raised on request)."""


class ExtrapolationWarning(UserWarning):
    """A symmetry function left the range seen in training."""


@dataclass
class Potential:
    """Parameters of an HDNNP (plain data; evaluation is :func:`evaluate`).

    ``elements``: element symbols, fixing the element index used everywhere.
    ``symmetry_functions[e]``: ordered functions of element e (the network's
    input order). ``scalings[e]``: their scaling. ``networks[e]``: the
    element's network. ``energy_offsets[e]``: E0_e in eV. ``energy_scale``:
    eV per network output unit. ``metadata``: free-form (source, units, ...).
    """

    elements: tuple[str, ...]
    symmetry_functions: dict[str, list[SymmetryFunction]]
    networks: dict[str, nn.Network]
    scalings: dict[str, Scaling] | None = None
    energy_offsets: dict[str, float] | None = None
    energy_scale: float = 1.0
    metadata: dict = field(default_factory=dict)

    def __post_init__(self):
        self.elements = tuple(self.elements)
        self.descriptor = SymmetryFunctionSet(self.symmetry_functions, self.elements)
        if self.scalings is None:
            self.scalings = {e: Scaling.identity(int(n)) for e, n in self.n_inputs().items()}
        if self.energy_offsets is None:
            self.energy_offsets = {e: 0.0 for e in self.elements}
        if not np.isfinite(self.energy_scale) or self.energy_scale == 0.0:
            raise ValueError(f"energy_scale must be finite and nonzero, got {self.energy_scale}")
        for e in self.elements:
            n_in = len(self.symmetry_functions[e])
            if e not in self.networks:
                raise ValueError(f"no network for element {e!r}")
            if e not in self.scalings or self.scalings[e].n_functions != n_in:
                raise ValueError(f"scaling of element {e!r} must cover its {n_in} functions")
            if e not in self.energy_offsets or not np.isfinite(self.energy_offsets[e]):
                raise ValueError(f"missing or non-finite energy offset for element {e!r}")
            nn.check_network(self.networks[e], n_inputs=n_in, name=f"network of {e}")

    def n_inputs(self) -> dict[str, int]:
        return {e: len(self.symmetry_functions[e]) for e in self.elements}

    @property
    def cutoff(self) -> float:
        return self.descriptor.cutoff


@dataclass
class Result:
    """Output of :func:`evaluate` (eV, Å).

    ``energy`` total; ``energies_n`` (n,) per atom; ``forces_nc`` (n, 3);
    ``dEdeps_cc`` (3, 3) derivative w.r.t. strain (None without a cell);
    ``stress_cc`` (3, 3) = dEdeps / V; ``dEdG_ns`` (n, s_max) dE/dG (raw G);
    ``extrapolations``: list of (atom, function index, G, G_min, G_max).
    """

    energy: float
    energies_n: np.ndarray
    forces_nc: np.ndarray | None
    dEdeps_cc: np.ndarray | None
    stress_cc: np.ndarray | None
    dEdG_ns: np.ndarray
    descriptors: Descriptors
    extrapolations: list = field(default_factory=list)


@njit(cache=True)
def assemble_forces(dEdG_ns, dGdR_psc, dGself_nsc, i_p, j_p):
    """F_k = -sum_i sum_s dE/dG_is dG_is/dR_k from the sparse derivatives.

    Self term: atom i moves its own functions (dGself_nsc); pair term: pair
    p = (i, j) carries dG_{i s}/dR_j and scatters onto atom j.
    """
    n, s_max = dEdG_ns.shape
    F_nc = np.zeros((n, 3))
    for i in range(n):
        for s in range(s_max):
            for c in range(3):
                F_nc[i, c] -= dEdG_ns[i, s] * dGself_nsc[i, s, c]
    for p in range(i_p.shape[0]):
        i = i_p[p]
        j = j_p[p]
        for s in range(s_max):
            for c in range(3):
                F_nc[j, c] -= dEdG_ns[i, s] * dGdR_psc[p, s, c]
    return F_nc


@njit(cache=True)
def assemble_virial(dEdG_ns, dGdR_psc, i_p, D_pc):
    """dE/d eps_ab = sum_p D_pa dE/dD_pb, dE/dD_pb = sum_s dE/dG_{i_p s} dGdR_psb.

    G_i depends on the positions only through its pair vectors D_p, which a
    homogeneous strain maps to D_p (1 + eps); this is the virial of the pair
    terms, and the stress is sigma = (1/V) dE/d eps.
    """
    s_max = dEdG_ns.shape[1]
    dEdeps_cc = np.zeros((3, 3))
    for p in range(i_p.shape[0]):
        i = i_p[p]
        for s in range(s_max):
            for b in range(3):
                dEdD = dEdG_ns[i, s] * dGdR_psc[p, s, b]
                for a in range(3):
                    dEdeps_cc[a, b] += D_pc[p, a] * dEdD
    return dEdeps_cc


@njit(cache=True)
def force_adjoint(dL_dF_nc, dGdR_psc, dGself_nsc, i_p, j_p):
    """V_is = sum_k sum_c dG_is/dR_kc * dL/dF_kc: the adjoint of :func:`assemble_forces`.

    Force training needs dL/dw = sum_k dL/dF_k . dF_k/dw with
    F_k = -sum_is dE_i/dG_is dG_is/dR_k, i.e. dL/dw = -sum_is d(dE_i/dG_is)/dw V_is:
    the network's force-training product (``network.force_training_gradient``)
    with this V.
    """
    n = dGself_nsc.shape[0]
    s_max = dGself_nsc.shape[1]
    V_ns = np.zeros((n, s_max))
    for i in range(n):
        for s in range(s_max):
            for c in range(3):
                V_ns[i, s] += dGself_nsc[i, s, c] * dL_dF_nc[i, c]
    for p in range(i_p.shape[0]):
        i = i_p[p]
        j = j_p[p]
        for s in range(s_max):
            for c in range(3):
                V_ns[i, s] += dGdR_psc[p, s, c] * dL_dF_nc[j, c]
    return V_ns


def evaluate(
    potential: Potential,
    symbols,
    R_nc,
    cell_cc=None,
    pbc_c=(False, False, False),
    forces=True,
    stress=True,
    extrapolation="count",
) -> Result:
    """Energy, per-atom energies, forces and stress of one structure.

    ``extrapolation``: "count" (record in the result), "warn" (also an
    :class:`ExtrapolationWarning`), "raise" (:class:`ExtrapolationError`)
    when a raw symmetry function lies outside the scaling's [G_min, G_max].
    """
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    cell_cc = np.zeros((3, 3)) if cell_cc is None else np.asarray(cell_cc, dtype=np.float64)
    pbc_c = np.asarray(pbc_c, dtype=bool).reshape(3)
    with_derivatives = bool(forces or stress)
    desc = potential.descriptor.compute(symbols, R_nc, cell_cc, pbc_c, with_derivatives)
    n = len(desc.elem_n)
    isolated = np.flatnonzero(np.diff(desc.nl.offsets_n1) == 0)
    if n > 1 and isolated.size:
        warnings.warn(
            f"{isolated.size} atom(s) have no neighbours within the cutoff "
            f"{potential.cutoff:g} Å (first: atom {isolated[0]}); their energy is the "
            "network's value for an empty environment",
            stacklevel=2,
        )
    energies_n = np.zeros(n)
    dEdG_ns = np.zeros_like(desc.G_ns)
    extrapolations = []
    for e, symbol in enumerate(potential.elements):
        idx = np.flatnonzero(desc.elem_n == e)
        if idx.size == 0:
            continue
        n_s = desc.n_s_e[e]
        scaling = potential.scalings[symbol]
        G_as = desc.G_ns[idx, :n_s]
        a_s, b_s = scaling.factor_and_offset()
        E_a, cache = nn.forward(potential.networks[symbol], G_as * a_s + b_s)
        energies_n[idx] = potential.energy_scale * E_a + potential.energy_offsets[symbol]
        if with_derivatives:
            dEdX_as = nn.input_gradient(potential.networks[symbol], cache)
            dEdG_ns[idx, :n_s] = potential.energy_scale * dEdX_as * a_s
        if scaling.mode != "none" and extrapolation != "ignore":
            rows, cols = np.nonzero(scaling.outside_range(G_as))
            for a, s in zip(rows, cols):
                extrapolations.append(
                    (int(idx[a]), int(s), float(G_as[a, s]), scaling.G_min[s], scaling.G_max[s])
                )
    _report_extrapolations(extrapolations, extrapolation, potential)
    F_nc = dEdeps_cc = stress_cc = None
    nl = desc.nl
    if forces:
        F_nc = assemble_forces(dEdG_ns, desc.dGdR_psc, desc.dGself_nsc, nl.i_p, nl.j_p)
    if stress and np.any(pbc_c):
        dEdeps_cc = assemble_virial(dEdG_ns, desc.dGdR_psc, nl.i_p, nl.D_pc)
        stress_cc = dEdeps_cc / abs(np.linalg.det(cell_cc))
    return Result(
        float(energies_n.sum()),
        energies_n,
        F_nc,
        dEdeps_cc,
        stress_cc,
        dEdG_ns,
        desc,
        extrapolations,
    )


def _report_extrapolations(extrapolations, mode, potential):
    if not extrapolations or mode in ("count", "ignore"):
        return
    atom, s, G, lo, hi = extrapolations[0]
    message = (
        f"{len(extrapolations)} symmetry-function value(s) outside the training range; "
        f"first: atom {atom}, function {s}, G = {G:.6g} not in [{lo:.6g}, {hi:.6g}]"
    )
    if mode == "raise":
        raise ExtrapolationError(message)
    if mode == "warn":
        warnings.warn(message, ExtrapolationWarning, stacklevel=3)
        return
    raise ValueError(f"extrapolation must be 'count', 'warn', 'raise' or 'ignore', got {mode!r}")


def evaluate_atoms(potential: Potential, atoms, **kwargs) -> Result:
    """:func:`evaluate` for an ``ase.Atoms``."""
    return evaluate(
        potential,
        atoms.get_chemical_symbols(),
        atoms.get_positions(),
        atoms.get_cell().array,
        atoms.get_pbc(),
        **kwargs,
    )
