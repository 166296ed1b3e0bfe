r"""Atom-centred symmetry functions (ACSF) and their analytic derivatives.

Every atom i is described by a vector G_i of symmetry functions of its
neighbours within a cutoff radius r_c (J. Behler, J. Chem. Phys. 134, 074106
(2011), doi:10.1063/1.3553717). nnp_ref follows n2p2's definitions and type
codes (A. Singraber et al., J. Chem. Theory Comput. 15, 1827 (2019)):

=====  =====================================================================
type   formula (sums over neighbours j, k of atom i within r_c)
=====  =====================================================================
2      G = sum_{j, Z_j = e1} exp(-eta (r_ij - r_s)^2) f_c(r_ij)
3      G = 2^(1-zeta) sum_{j<k, {Z_j,Z_k} = {e1,e2}} (1 + lambda cos theta_ijk)^zeta
           exp(-eta [(r_ij-r_s)^2 + (r_ik-r_s)^2 + (r_jk-r_s)^2])
           f_c(r_ij) f_c(r_ik) f_c(r_jk)                       (narrow)
9      as 3 without the r_jk terms: no exp(-eta (r_jk-r_s)^2), no f_c(r_jk) (wide)
12     as 2, every neighbour weighted by its atomic number Z_j (no element filter)
13     as 3, every pair weighted by Z_j Z_k (no element filter)
20-25  n2p2's compact polynomial functions (see ``nnp_ref.descriptors.compact``)
=====  =====================================================================

The angle is never computed for the exponential types: cos theta_ijk =
D_ij . D_ik / (r_ij r_ik) is all the formulas need. (The compact angular
types 21, 22, 24, 25 are defined by n2p2 as polynomials of theta itself, so
there theta = arccos(cos theta) is taken, as n2p2 does.)

Layout. A symmetry-function set becomes a parameter table ``table_esq``
(element e of the potential, function s, parameter column q); the type is an
integer code in column ``TYPE``, not a class. ``descriptor_kernel`` is one
loop over atoms; each atom's terms come from the small per-equation kernels
of ``nnp_ref.descriptors.terms`` (radial legs, radial terms, angular terms,
self and strain terms, each with its derivative derived in its docstring).
The same source is compiled serial and parallel; the friendly layer picks
one by the structure's size and Numba's thread count, changing no global
state. The kernel returns, for one structure (or a block of its atoms),

- ``G_ns``: raw G of every atom (row i uses the set of element Z_i, padded
  with zeros to the largest set),
- ``dGdR_psc``: dG_{i_p s} / dR_{j_p} for every neighbour pair p = (i, j, S)
  of the neighbour list (image pairs are separate rows),
- ``dGself_nsc``: dG_{i s}/dR_i = -sum_{p: i_p = i} dGdR_psc[p] (translational
  invariance),
- ``dGdeps_nscc``: dG_{i s}/d eps_ab for a homogeneous strain
  R -> R (1 + eps) (positions as row vectors, cell with them),
  = sum_{p: i_p = i} D_pa dGdR_psb.

Because G_i depends on the positions only through the pair vectors
D_ij = R_j - R_i + S @ cell, dG_i/dR_j for a pair is exactly dG_i/dD_ij.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from ase.data import atomic_numbers
from numba import prange

from nnp_ref.descriptors.compact import subtype_code
from nnp_ref.descriptors.cutoff import CUTOFF_TYPES, check_cutoff_parameters
from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.neighbour_index import build_neighbour_index
from nnp_ref.descriptors.neighbours import NeighbourList, neighbour_list
from nnp_ref.descriptors.terms import (
    ALPHA,
    ANG_L,
    ANG_R,
    CTYPE,
    E1,
    E2,
    ETA,
    KIND,
    KIND_NARROW,
    KIND_RADIAL,
    KIND_WIDE,
    LAM,
    N_COLUMNS,
    PREF,
    RC,
    RL,
    RS,
    SUBTYPE,
    TYPE,
    ZETA,
    atom_terms,
    self_and_strain_terms,
)

RADIAL_TYPES = (2, 12, 20, 23)
ANGULAR_TYPES = (3, 9, 13, 21, 22, 24, 25)
WEIGHTED_TYPES = (12, 13, 23, 24, 25)
NARROW_TYPES = (3, 13, 21, 24)  # angular types with the r_jk terms
COMPACT_TYPES = (20, 21, 22, 23, 24, 25)

# With more than one Numba thread, structures with fewer atoms use the serial
# kernel: starting the thread pool costs more than it saves (a lot on a busy machine).
PARALLEL_MIN_ATOMS = 256


@dataclass(frozen=True)
class SymmetryFunction:
    """One symmetry function of a central element, with n2p2's type code.

    Lengths in Å, ``eta`` in 1/Å^2. ``neighbours`` holds one element symbol
    for element-resolved radial types, two for angular types and none for
    the weighted types (12, 13, 23-25). Compact types (20-25) use ``rl``,
    ``rc``, ``angle_left``/``angle_right`` (degrees) and ``subtype``
    (e.g. ``"p2"``); exponential types use ``eta``, ``rs``, ``zeta``, ``lam``.
    ``cutoff_type``/``alpha`` select the cutoff function of the exponential
    types (``nnp_ref.descriptors.cutoff``).
    """

    type: int
    center: str
    neighbours: tuple[str, ...]
    rc: float
    eta: float = 0.0
    rs: float = 0.0
    zeta: float = 1.0
    lam: float = 1.0
    cutoff_type: int = 1
    alpha: float = 0.0
    rl: float = 0.0
    angle_left: float = 0.0
    angle_right: float = 0.0
    subtype: str = ""

    def check(self) -> None:
        """Raise ``ValueError`` naming the problem if a parameter is invalid."""
        where = f"symmetry function {self}"
        if self.type not in RADIAL_TYPES + ANGULAR_TYPES:
            raise ValueError(f"unknown symmetry-function type {self.type} in {where}")
        for symbol in (self.center, *self.neighbours):
            if symbol not in atomic_numbers:
                raise ValueError(f"unknown element {symbol!r} in {where}")
        n_expected = 0 if self.type in WEIGHTED_TYPES else (1 if self.type in RADIAL_TYPES else 2)
        if len(self.neighbours) != n_expected:
            raise ValueError(
                f"type {self.type} needs {n_expected} neighbour element(s), "
                f"got {len(self.neighbours)} in {where}"
            )
        values = (self.rc, self.eta, self.rs, self.zeta, self.lam, self.alpha, self.rl)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"non-finite parameter in {where}")
        if not self.rc > 0.0:
            raise ValueError(f"cutoff radius rc must be positive, got {self.rc} in {where}")
        if self.type in COMPACT_TYPES:
            if not self.rl < self.rc:
                raise ValueError(f"need rl < rc, got rl={self.rl}, rc={self.rc} in {where}")
            subtype_code(self.subtype)  # raises for an unknown subtype
            if self.type in ANGULAR_TYPES and not self.angle_left < self.angle_right:
                raise ValueError(f"need angle_left < angle_right in {where}")
            return
        check_cutoff_parameters(self.rc, self.alpha, self.cutoff_type)
        if self.eta < 0.0:
            raise ValueError(f"eta must be >= 0, got {self.eta} in {where}")
        # Any finite zeta is accepted, as n2p2 does (AlAuMgO_4G uses zeta = -1, -2;
        # the term is 0 where 1 + lambda cos theta <= 0).
        if self.type in ANGULAR_TYPES:
            if self.lam not in (1.0, -1.0):
                raise ValueError(f"lambda must be +1 or -1, got {self.lam} in {where}")


def cutoff_radius(sf_sets: dict[str, list[SymmetryFunction]]) -> float:
    """Largest cutoff radius over all sets (the neighbour-list cutoff)."""
    return max(sf.rc for sfs in sf_sets.values() for sf in sfs)


def build_table(
    sf_sets: dict[str, list[SymmetryFunction]], elements: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter table ``table_esq`` and set sizes ``n_s_e`` for the kernel.

    ``elements`` fixes the element index e used everywhere (column E1/E2 of
    the table hold neighbour element indices, -1 for "any" in weighted types).
    """
    for symbol in sf_sets:
        if symbol not in elements:
            raise ValueError(f"symmetry functions given for element {symbol!r} not in {elements}")
    for symbol in elements:
        if not sf_sets.get(symbol):
            raise ValueError(f"element {symbol!r} has no symmetry functions")
    s_max = max(len(sf_sets[e]) for e in elements)
    table_esq = np.zeros((len(elements), s_max, N_COLUMNS))
    n_s_e = np.zeros(len(elements), dtype=np.int64)
    for e, symbol in enumerate(elements):
        n_s_e[e] = len(sf_sets[symbol])
        for s, sf in enumerate(sf_sets[symbol]):
            sf.check()
            if sf.center != symbol:
                raise ValueError(f"{sf} listed under element {symbol!r}")
            neighbour_index = []
            for nb in sf.neighbours:
                if nb not in elements:
                    raise ValueError(f"neighbour element {nb!r} of {sf} is not in {elements}")
                neighbour_index.append(elements.index(nb))
            neighbour_index += [-1] * (2 - len(neighbour_index))
            row = table_esq[e, s]
            row[TYPE] = sf.type
            row[E1], row[E2] = neighbour_index
            row[RC], row[ETA], row[RS] = sf.rc, sf.eta, sf.rs
            row[ZETA], row[LAM] = sf.zeta, sf.lam
            row[PREF] = 2.0 ** (1.0 - sf.zeta)  # the angular prefactor 2^(1-zeta)
            row[CTYPE], row[ALPHA] = sf.cutoff_type, sf.alpha
            row[RL], row[ANG_L], row[ANG_R] = sf.rl, sf.angle_left, sf.angle_right
            row[SUBTYPE] = subtype_code(sf.subtype) if sf.type in COMPACT_TYPES else -1
            if sf.type in RADIAL_TYPES:
                row[KIND] = KIND_RADIAL
            else:
                row[KIND] = KIND_NARROW if sf.type in NARROW_TYPES else KIND_WIDE
    return table_esq, n_s_e


# ---------------------------------------------------------------------------
# The kernel: one loop over atoms, each atom's terms from ``terms.atom_terms``.
# ---------------------------------------------------------------------------


def _descriptor_loop(
    elem_n,
    table_esq,
    n_s_e,
    index,
    j_p,
    D_pc,
    d_p,
    offsets_n1,
    first_atom,
    last_atom,
    with_derivatives,
    with_strain,
):
    """G and (optionally) dGdR_psc, dGself_nsc, dGdeps_nscc for atoms first_atom..last_atom-1.

    Rows of the results are numbered from ``first_atom`` (atoms) and from
    ``offsets_n1[first_atom]`` (pairs): a block of atoms needs memory for its
    own pairs only (``potential.evaluate``'s memory-lean path). Arrays not
    asked for have zero length. Returns ``G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc``.

    Compiled twice from this one source: serial (:data:`descriptor_kernel_serial`)
    and parallel over atoms (:data:`descriptor_kernel`); each atom owns the
    rows ``offsets_n1[i]:offsets_n1[i+1]`` of its pairs, so there are no races.
    """
    n_b = last_atom - first_atom
    s_max = table_esq.shape[1]
    p0 = offsets_n1[first_atom]
    n_der = n_b if with_derivatives else 0
    G_bs = np.zeros((n_b, s_max))
    dGdR_psc = np.zeros((offsets_n1[last_atom] - p0 if with_derivatives else 0, s_max, 3))
    dGself_bsc = np.zeros((n_der, s_max, 3))
    dGdeps_bscc = np.zeros((n_der if with_strain else 0, s_max, 3, 3))
    # Parallel loops cannot capture nested tuples: unpack here, repack per atom.
    (radial_ees, radial_count_ee, radial_w_ees), angular, rjk_limit_eee = index
    angular_eees, angular_count_eee, angular_w_eees, leg_id_eees, cut_id_eees = angular
    for b in prange(n_b):
        i = first_atom + b
        e = elem_n[i]
        first, last = offsets_n1[i], offsets_n1[i + 1]
        elem_l = elem_n[j_p[first:last]]
        dGdD_lsc = dGdR_psc[first - p0 : last - p0] if with_derivatives else dGdR_psc[0:0]
        D_lc, d_l = D_pc[first:last], d_p[first:last]
        out = (with_derivatives, G_bs[b], dGdD_lsc)
        index_i = (
            (radial_ees, radial_count_ee, radial_w_ees),
            (angular_eees, angular_count_eee, angular_w_eees, leg_id_eees, cut_id_eees),
            rjk_limit_eee,
        )
        atom_terms(e, elem_l, table_esq[e], n_s_e[e], index_i, D_lc, d_l, out)
        if with_derivatives:
            dGdeps_scc = dGdeps_bscc[b] if with_strain else np.zeros((0, 3, 3))
            self_and_strain_terms(dGdD_lsc, D_lc, n_s_e[e], with_strain, dGself_bsc[b], dGdeps_scc)
    return G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc


descriptor_kernel = kernel(parallel=True, tag="parallel")(_descriptor_loop)
descriptor_kernel_serial = kernel(_descriptor_loop)


# ---------------------------------------------------------------------------
# Friendly layer: validated arrays in, a small result object out.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Descriptors:
    """Symmetry functions of one structure and their derivatives.

    Shapes: ``G_ns`` (n, s_max); ``dGdR_psc`` (p, s_max, 3);
    ``dGself_nsc`` (n, s_max, 3); ``dGdeps_nscc`` (n, s_max, 3, 3);
    ``elem_n`` (n,) element index of each atom; ``n_s_e`` number of functions
    per element; ``nl`` the neighbour list whose pairs index ``dGdR_psc``.
    Derivative arrays have zero length when computed without derivatives.
    """

    G_ns: np.ndarray
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    dGdeps_nscc: np.ndarray
    elem_n: np.ndarray
    n_s_e: np.ndarray
    nl: NeighbourList


def element_indices(symbols, elements: tuple[str, ...]) -> np.ndarray:
    """Index of every atom's element in ``elements``; ValueError for unknown ones."""
    lookup = {symbol: e for e, symbol in enumerate(elements)}
    unknown = sorted({s for s in symbols if s not in lookup})
    if unknown:
        raise ValueError(f"unknown element(s) {unknown}: this potential knows {list(elements)}")
    return np.array([lookup[s] for s in symbols], dtype=np.int64)


class SymmetryFunctionSet:
    """Element-resolved symmetry-function sets compiled into a parameter table.

    ``sf_sets`` maps each element symbol to its ordered list of
    :class:`SymmetryFunction`; ``elements`` fixes the element order.
    """

    def __init__(self, sf_sets: dict[str, list[SymmetryFunction]], elements=None):
        self.elements = tuple(elements if elements is not None else sf_sets)
        self.sf_sets = {e: list(sf_sets[e]) for e in self.elements if e in sf_sets}
        self.table_esq, self.n_s_e = build_table(self.sf_sets, self.elements)
        self.cutoff = cutoff_radius(self.sf_sets)
        self.Znum_e = np.array([atomic_numbers[e] for e in self.elements], dtype=np.float64)
        self.index = build_neighbour_index(self.table_esq, self.n_s_e, self.Znum_e)

    def __repr__(self) -> str:
        sizes = ", ".join(f"{e}: {n}" for e, n in zip(self.elements, self.n_s_e))
        return f"SymmetryFunctionSet({sizes}; rc={self.cutoff:g} Å)"

    def compute(
        self, symbols, R_nc, cell_cc, pbc_c, with_derivatives=True, with_strain=False
    ) -> Descriptors:
        """Descriptors of one structure (positions in Å, ASE cell rows).

        ``with_derivatives``: dG/dR (pairs and self terms); ``with_strain``:
        also dG/d eps (``dGdeps_nscc``; empty otherwise).
        """
        elem_n = element_indices(list(symbols), self.elements)
        nl = neighbour_list(R_nc, cell_cc, pbc_c, self.cutoff)
        return self.compute_from_list(elem_n, nl, with_derivatives, with_strain)

    def compute_from_list(
        self, elem_n, nl: NeighbourList, with_derivatives=True, with_strain=False
    ) -> Descriptors:
        """:meth:`compute` for element indices and a neighbour list (cutoff >= :attr:`cutoff`).

        Pairs beyond the cutoff (a list built with a skin) contribute nothing:
        every function vanishes for r >= r_c.
        """
        arrays = self.compute_block(elem_n, nl, 0, len(elem_n), with_derivatives, with_strain)
        return Descriptors(*arrays, elem_n=elem_n, n_s_e=self.n_s_e, nl=nl)

    def compute_block(
        self, elem_n, nl, first_atom, last_atom, with_derivatives=True, with_strain=False
    ):
        """``G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc`` of the atoms first_atom..last_atom-1.

        The pair rows are those of the block, ``offsets_n1[first_atom]`` on.
        Runs the parallel kernel, except for blocks of fewer than
        :data:`PARALLEL_MIN_ATOMS` atoms when Numba has more than one thread
        (``numba.set_num_threads`` / ``NUMBA_NUM_THREADS``: the user's choice;
        nothing here changes Numba's global state): then the serial one,
        because waking a second thread for a small structure on a busy
        machine can wait for milliseconds (measured: median 0.58 ms, 90th
        percentile 72 ms for the 24-atom water cluster). With one thread the
        parallel kernel is used throughout: its compiled code is the faster
        one (measured 20 % on the water box, same source).
        """
        n_threads = numba.get_num_threads()
        parallel = n_threads == 1 or last_atom - first_atom >= PARALLEL_MIN_ATOMS
        run = descriptor_kernel if parallel else descriptor_kernel_serial
        return run(
            elem_n,
            self.table_esq,
            self.n_s_e,
            self.index,
            nl.j_p,
            nl.D_pc,
            nl.d_p,
            nl.offsets_n1,
            np.int64(first_atom),
            np.int64(last_atom),
            bool(with_derivatives),
            bool(with_strain and with_derivatives),
        )

    def compute_atoms(self, atoms, with_derivatives=True, with_strain=False) -> Descriptors:
        """Descriptors of an ``ase.Atoms``."""
        return self.compute(
            atoms.get_chemical_symbols(),
            atoms.get_positions(),
            atoms.get_cell().array,
            atoms.get_pbc(),
            with_derivatives,
            with_strain,
        )


__all__ = [
    "CUTOFF_TYPES",
    "Descriptors",
    "SymmetryFunction",
    "SymmetryFunctionSet",
    "build_table",
    "descriptor_kernel",
    "descriptor_kernel_serial",
]
