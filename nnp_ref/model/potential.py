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

from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.symmetry_functions import (
    Descriptors,
    SymmetryFunction,
    SymmetryFunctionSet,
    element_indices,
)
from nnp_ref.descriptors.threads import (
    even_pair_bounds,
    map_blocks,
    thread_count,
    use_parallel,
)
from nnp_ref.model import network as nn
from nnp_ref.model.extrapolation import (  # noqa: F401  (re-exported)
    EXTRAPOLATION_MODES,
    EXTRAPOLATION_TOLERANCE,
    ExtrapolationError,
    ExtrapolationWarning,
    check_extrapolation_mode,
    extrapolation_summary,
    outside_training_range,
    report_extrapolations,
)
from nnp_ref.model.forces import (  # noqa: F401  (re-exported: training, notebooks)
    assemble_forces,
    assemble_virial,
    contract_pairs,
    force_adjoint,
    pair_forces,
    pair_virial,
)
from nnp_ref.model.network_kernel import cached_element_arrays, count_outside, structure_energies
from nnp_ref.model.scaling import Scaling


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


#: Å. Two atoms (or an atom and an image) closer than this are refused: the
#: shortest bond in nature is H2's 0.74 Å, and below 0.1 Å a structure is a
#: unit or input error (coordinates in Bohr read as Å, a duplicated atom),
#: never a configuration a potential was trained on.
MIN_DISTANCE = 0.1


def evaluate(
    potential: Potential,
    symbols,
    R_nc,
    cell_cc=None,
    pbc_c=(False, False, False),
    forces=True,
    stress=True,
    extrapolation="warn",
    *,
    store_derivatives=True,
    min_distance=MIN_DISTANCE,
    neighbours=None,
) -> Result:
    """Energy, per-atom energies, forces and stress of one structure.

    ``extrapolation`` (a raw symmetry function outside the scaling's
    [G_min, G_max]): "warn" (default; one :class:`ExtrapolationWarning` per
    call with the counts and the worst atom), "raise"
    (:class:`ExtrapolationError`), "off" (silent; "count" is the same). All
    three record the values in ``Result.extrapolations``; "ignore" skips the
    check.
    ``store_derivatives``: keep dG/dR of every pair in ``result.descriptors``
    (training, teaching; about 76 kB per atom for water). With False, forces
    and stress come from the memory-lean path: dE/dG first, then a second
    pass over pairs and triplets that keeps only dE/dD per pair.
    ``min_distance``: Å, refuse atoms closer than this (:data:`MIN_DISTANCE`).
    ``neighbours``: a precomputed :class:`NeighbourList` (cutoff at least the
    potential's, e.g. with an MD skin) instead of a new one.
    """
    check_extrapolation_mode(extrapolation)
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    cell_cc = np.zeros((3, 3)) if cell_cc is None else np.asarray(cell_cc, dtype=np.float64)
    pbc_c = np.asarray(pbc_c, dtype=bool).reshape(3)
    elem_n = element_indices(list(symbols), potential.elements)
    if len(elem_n) == 0:
        raise ValueError("empty structure: no atoms to evaluate")
    nl = neighbours
    if nl is None:
        nl = neighbour_list(R_nc, cell_cc, pbc_c, potential.cutoff)
    check_min_distance(nl, min_distance)
    _warn_isolated(nl, potential.cutoff)
    with_derivatives = bool(forces or stress)
    lean = with_derivatives and not store_derivatives
    desc, energies_n, dEdG_ns, extrapolations, dEdD_pc = _descriptors_and_energies(
        potential, elem_n, nl, with_derivatives, lean, extrapolation
    )
    report_extrapolations(extrapolations, extrapolation, potential.elements, elem_n)
    periodic = bool(np.any(pbc_c))
    F_nc, dEdeps_cc = _forces_and_virial(desc, dEdG_ns, dEdD_pc, forces, stress and periodic)
    stress_cc = None
    if dEdeps_cc is not None:
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


def energy_and_forces(
    potential: Potential, elem_n, nl, extrapolation="off", min_distance=MIN_DISTANCE
) -> tuple[float, np.ndarray, int]:
    """(E, F_nc, n_extrapolations) from element indices and a neighbour list: the MD step's call.

    The array core of :func:`evaluate` for energy and forces on the
    memory-lean path, with the same checks (``min_distance``, isolated atoms,
    the ``extrapolation`` mode) and none of its conversions or result
    objects: ``elem_n`` (n,) int64 indices into ``potential.elements``, ``nl``
    a :class:`NeighbourList` (cutoff at least the potential's; a skin list).
    ``n_extrapolations``: how many G are outside their range, the length of
    :func:`evaluate`'s ``extrapolations``; in the silent modes ("off",
    "count") only counted, not listed (an MD step needs no more).
    """
    check_extrapolation_mode(extrapolation)
    if len(elem_n) == 0:
        raise ValueError("empty structure: no atoms to evaluate")
    check_min_distance(nl, min_distance)
    _warn_isolated(nl, potential.cutoff)
    count_only = extrapolation in ("off", "count")
    _, energies_n, _, extrapolations, dEdD_pc = _lean_pass(
        potential, elem_n, nl, "ignore" if count_only else extrapolation, count_only
    )
    if count_only:
        n_extrapolations = sum(extrapolations)
    else:
        report_extrapolations(extrapolations, extrapolation, potential.elements, elem_n)
        n_extrapolations = len(extrapolations)
    F_nc = pair_forces(dEdD_pc, nl.i_p, nl.j_p, len(elem_n))
    return float(energies_n.sum()), F_nc, n_extrapolations


def _descriptors_and_energies(potential, elem_n, nl, with_derivatives, lean, extrapolation):
    """(desc, E_n, dE/dG_ns, extrapolations, dE/dD_pc): dE/dD per pair only on the lean path.

    The lean path (:func:`_lean_pass`) stores no dG/dR: ``desc`` then has
    zero pairs in its derivative arrays and ``dEdD_pc`` carries the forces.
    """
    sfs = potential.descriptor
    if lean:
        G_ns, energies_n, dEdG_ns, extrapolations, dEdD_pc = _lean_pass(
            potential, elem_n, nl, extrapolation
        )
        no_pairs = np.zeros((0, G_ns.shape[1], 3))
        desc = Descriptors(G_ns, no_pairs, no_pairs, no_pairs[..., None], elem_n, sfs.n_s_e, nl)
        return desc, energies_n, dEdG_ns, extrapolations, dEdD_pc
    desc = sfs.compute_from_list(elem_n, nl, with_derivatives)
    energies_n, dEdG_ns, extrapolations = structure_energies(
        potential, desc.G_ns, elem_n, with_derivatives, extrapolation
    )
    return desc, energies_n, dEdG_ns, extrapolations, None


def _forces_and_virial(desc, dEdG_ns, dEdD_pc, forces: bool, virial: bool):
    """(F_nc, dE/deps_cc), None where not asked.

    From dE/dD per pair (lean path) or from dE/dG . dG/dR (stored derivatives).
    """
    nl = desc.nl
    F_nc = dEdeps_cc = None
    if dEdD_pc is not None:
        if forces:
            F_nc = pair_forces(dEdD_pc, nl.i_p, nl.j_p, len(desc.elem_n))
        if virial:
            dEdeps_cc = pair_virial(dEdD_pc, nl.D_pc)
        return F_nc, dEdeps_cc
    if forces:
        F_nc = assemble_forces(dEdG_ns, desc.dGdR_psc, desc.dGself_nsc, nl.i_p, nl.j_p)
    if virial:
        dEdeps_cc = assemble_virial(dEdG_ns, desc.dGdR_psc, nl.i_p, nl.D_pc)
    return F_nc, dEdeps_cc


def check_min_distance(nl, min_distance: float) -> None:
    """ValueError naming the pair if two atoms (or images) are closer than ``min_distance`` Å."""
    if len(nl.d_p) and nl.d_p.min() < min_distance:
        p = int(np.argmin(nl.d_p))
        image = f" (image with cell shift {nl.S_pc[p].tolist()})" if nl.S_pc[p].any() else ""
        raise ValueError(
            f"atoms {nl.i_p[p]} and {nl.j_p[p]}{image} are {nl.d_p[p]:.3g} Å apart, closer "
            f"than min_distance = {min_distance:g} Å (wrong units or a duplicated atom?)"
        )


def _warn_isolated(nl, cutoff):
    isolated = np.flatnonzero(np.diff(nl.offsets_n1) == 0)
    if len(nl.offsets_n1) > 2 and isolated.size:
        warnings.warn(
            f"{isolated.size} atom(s) have no neighbours within the cutoff "
            f"{cutoff:g} Å (first: atom {isolated[0]}); their energy is the "
            "network's value for an empty environment",
            stacklevel=3,
        )


#: Bytes of dG/dR the memory-lean path holds at a time per thread (one block of
#: atoms). Measured peak memory beyond the structure, 8,640-atom water box, one
#: thread: 10.6 kB/atom with 4 MB blocks, 20.9 kB/atom with 32 MB ones
#: (``benchmarks/bench_memory.py``).
LEAN_BLOCK_BYTES = 4_000_000


def pair_bytes(s_max) -> int:
    """Bytes of one pair's dG/dR: s_max functions x 3 components x 8 bytes (float64)."""
    return 24 * max(s_max, 1)


def atom_blocks(offsets_n1, s_max, block_bytes=None) -> list[int]:
    """Boundaries 0 = b_0 < b_1 < ... = n of blocks whose pairs' dG/dR fit in ``block_bytes``.

    A block holds at least one atom however many pairs it has; the default
    size is :data:`LEAN_BLOCK_BYTES` (read at each call).
    """
    block_bytes = LEAN_BLOCK_BYTES if block_bytes is None else block_bytes
    n = len(offsets_n1) - 1
    pairs_per_block = max(1, int(block_bytes // pair_bytes(s_max)))
    if offsets_n1[-1] <= pairs_per_block:
        return [0, n]  # one block (every small structure)
    bounds = [0]
    while bounds[-1] < n:
        start = bounds[-1]
        stop = int(np.searchsorted(offsets_n1, offsets_n1[start] + pairs_per_block, "right")) - 1
        bounds.append(min(max(stop, start + 1), n))
    return bounds


def thread_blocks(offsets_n1, s_max) -> list[int]:
    """Block boundaries for the lean pass on threads: a multiple of the thread count of
    blocks with nearly equal numbers of pairs, each at most about :data:`LEAN_BLOCK_BYTES`.

    Equal shares: no thread is left finishing a whole block after the others.
    """
    n_threads = thread_count()
    total = pair_bytes(s_max) * int(offsets_n1[-1])  # dG/dR of every pair
    n_blocks = n_threads * max(1, -(-total // (n_threads * LEAN_BLOCK_BYTES)))  # ceil
    return even_pair_bounds(offsets_n1, n_blocks)


def _lean_pass(potential, elem_n, nl, extrapolation, count_only=False):
    """G, energies, dE/dG and dE/dD per pair, one block of atoms at a time.

    E_i depends on G_i alone, so a block's dE/dG is known as soon as its G
    are: the block's dG/dR (at most :data:`LEAN_BLOCK_BYTES`) is contracted
    into 3 numbers per pair and dropped before the thread takes its next
    block. One pass over the triplets, and memory that does not grow with
    dG/dR of the structure. A structure of at least ``PARALLEL_MIN_ATOMS``
    atoms hands its blocks to Numba's thread count of threads
    (``nnp_ref.descriptors.threads``); each block writes only its own rows.
    ``count_only``: the fourth result lists each block's number of G outside
    their range (:func:`~nnp_ref.model.network_kernel.count_outside`) instead
    of the records.
    """
    sfs = potential.descriptor
    n, s_max = len(elem_n), sfs.table_esq.shape[1]
    G_ns, dEdG_ns, energies_n = np.zeros((n, s_max)), np.zeros((n, s_max)), np.zeros(n)
    dEdD_pc = np.zeros((len(nl.i_p), 3))
    jk_table = sfs.pair_table(nl, elem_n)
    arrays = cached_element_arrays(potential, s_max)  # the ranges for count_only

    def block(first, last):
        G_bs, dGdR_psc, _, _ = sfs.compute_block(
            elem_n, nl, first, last, jk_table=jk_table, with_self=False
        )
        E_b, dEdG_bs, extra = structure_energies(
            potential, G_bs, elem_n[first:last], True, extrapolation, first, threads=False
        )
        pairs = slice(nl.offsets_n1[first], nl.offsets_n1[last])
        offsets_b1 = nl.offsets_n1[first : last + 1] - nl.offsets_n1[first]  # pairs of atom b
        contract_pairs(dEdG_bs, dGdR_psc, offsets_b1, dEdD_pc[pairs])
        G_ns[first:last], dEdG_ns[first:last], energies_n[first:last] = G_bs, dEdG_bs, E_b
        if count_only:
            return [count_outside(G_bs, elem_n[first:last], arrays.lo_es, arrays.hi_es)]
        return extra

    parallel = use_parallel(n)
    bounds = thread_blocks(nl.offsets_n1, s_max) if parallel else atom_blocks(nl.offsets_n1, s_max)
    extras = map_blocks(block, bounds, parallel)
    extrapolations = [record for extra in extras for record in extra]
    return G_ns, energies_n, dEdG_ns, extrapolations, dEdD_pc


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
