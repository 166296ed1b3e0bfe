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
(element e of the potential, function s, parameter column q;
``nnp_ref.descriptors.parameter_table``); the type is an integer code in
column ``TYPE``, not a class. ``descriptor_kernel`` is one
loop over atoms; each atom's terms come from the small per-equation kernels
of ``nnp_ref.descriptors.terms`` (radial legs, radial terms, angular terms,
self and strain terms, each with its derivative derived in its docstring).
A large structure runs as blocks of atoms on threads
(``nnp_ref.descriptors.threads``), every atom computed by the same code. The
kernel fills, for one structure (or a block of its atoms),

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

import numpy as np
from ase.data import atomic_numbers

from nnp_ref.descriptors.cutoff import CUTOFF_TYPES
from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.neighbour_index import build_neighbour_index
from nnp_ref.descriptors.neighbours import NeighbourList, neighbour_list
from nnp_ref.descriptors.pair_table import narrow_leg_columns, pair_table
from nnp_ref.descriptors.parameter_table import (  # noqa: F401  (re-exported)
    ANGULAR_TYPES,
    COMPACT_TYPES,
    NARROW_TYPES,
    RADIAL_TYPES,
    WEIGHTED_TYPES,
    SymmetryFunction,
    build_table,
    cutoff_radius,
)
from nnp_ref.descriptors.terms import (
    atom_scratch,
    atom_terms,
    self_and_strain_terms,
)
from nnp_ref.descriptors.threads import (  # noqa: F401  (re-exported)
    PARALLEL_MIN_ATOMS,
    even_pair_bounds,
    map_blocks,
    thread_count,
    use_parallel,
)

# ---------------------------------------------------------------------------
# The kernel: one loop over atoms, each atom's terms from ``terms.atom_terms``.
# ---------------------------------------------------------------------------


@kernel
def descriptor_kernel(
    elem_n,
    table_esq,
    index,
    j_p,
    D_pc,
    d_p,
    offsets_n1,
    first_atom,
    last_atom,
    with_derivatives,
    with_strain,
    jk_table,
    results,
):
    """G and (optionally) dGdR_psc, dGself_nsc, dGdeps_nscc of atoms first_atom..last_atom-1.

    Writes ``results`` = (G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc), arrays
    (:func:`block_arrays`) whose rows are numbered from ``first_atom``
    (atoms) and from ``offsets_n1[first_atom]`` (pairs): a block of atoms
    needs memory for its own pairs only (``potential.evaluate``'s
    memory-lean path), and blocks can run on threads side by side, each atom
    owning the rows ``offsets_n1[i]:offsets_n1[i+1]`` of its pairs. Arrays
    not asked for have zero length: a zero-length ``dGself_bsc`` skips the
    self (and strain) terms, which the memory-lean path does without (its
    forces come from the pair derivatives alone; the 24-atom water cluster's
    force call is 4-5 % faster without them). ``jk_table``: the structure's pair table
    (``nnp_ref.descriptors.pair_table``), possibly empty.

    An atom's rows are zeroed right before its terms are added into them
    (:func:`zero_atom_rows`), while they are in the cache: the arrays come
    uninitialised, without a separate pass over memory (and, for a fresh
    allocation, without the page faults of zeroed pages: 2-4 % of the water
    box's time).
    """
    G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc = results
    with_self = with_derivatives and dGself_bsc.shape[0] > 0
    n_elements, s_max = table_esq.shape[0], table_esq.shape[1]
    p0 = offsets_n1[first_atom]
    no_strain_scc = np.zeros((0, 3, 3))
    n_nb_max = np.int64(0)  # not the literal 0: one compiled atom_scratch, not two
    for i in range(first_atom, last_atom):
        n_nb_max = max(n_nb_max, offsets_n1[i + 1] - offsets_n1[i])
    scratch = atom_scratch(n_nb_max, index[0][1].shape[1], n_elements, s_max)
    for i in range(first_atom, last_atom):
        b, e = i - first_atom, elem_n[i]
        first, last = offsets_n1[i], offsets_n1[i + 1]
        j_l = j_p[first:last]
        dGdD_lsc = dGdR_psc[first - p0 : last - p0] if with_derivatives else dGdR_psc[0:0]
        D_lc, d_l = D_pc[first:last], d_p[first:last]
        zero_atom_rows(results, b, dGdD_lsc, with_derivatives, with_self, with_strain)
        out = (with_derivatives, G_bs[b], dGdD_lsc)
        atom_terms(e, elem_n, j_l, table_esq[e], index, jk_table, D_lc, d_l, out, scratch)
        if with_self:
            dGdeps_scc = dGdeps_bscc[b] if with_strain else no_strain_scc
            self_and_strain_terms(dGdD_lsc, D_lc, s_max, with_strain, dGself_bsc[b], dGdeps_scc)


@kernel(inline=True)
def zero_atom_rows(results, b, dGdD_lsc, with_derivatives, with_self, with_strain):
    """Zero atom b's rows of ``results`` (its G, pair derivatives ``dGdD_lsc``, self and strain)."""
    G_bs, _, dGself_bsc, dGdeps_bscc = results
    G_bs[b, :] = 0.0
    if with_derivatives:
        dGdD_lsc[...] = 0.0
    if with_self:
        dGself_bsc[b, ...] = 0.0
        if with_strain:
            dGdeps_bscc[b, ...] = 0.0


def block_arrays(n_atoms, n_pairs, s_max, with_derivatives, with_strain, with_self=True):
    """(G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc) for :func:`descriptor_kernel`, uninitialised.

    The kernel zeroes each atom's rows itself (:func:`zero_atom_rows`); every
    row belongs to one atom. ``with_self=False``: no self terms (zero rows),
    and then no strain terms either.
    """
    n_der = n_atoms if with_derivatives and with_self else 0
    return (
        np.empty((n_atoms, s_max)),
        np.empty((n_pairs if with_derivatives else 0, s_max, 3)),
        np.empty((n_der, s_max, 3)),
        np.empty((n_der if with_strain else 0, s_max, 3, 3)),
    )


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
        self.jk_columns = narrow_leg_columns(self.index)

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
        every function vanishes for r >= r_c. A structure of at least
        ``PARALLEL_MIN_ATOMS`` atoms runs as blocks of atoms on Numba's thread
        count (``nnp_ref.descriptors.threads``), a few blocks per thread.
        """
        n = len(elem_n)
        with_strain = with_strain and with_derivatives
        s_max = self.table_esq.shape[1]
        arrays = block_arrays(n, len(nl.j_p), s_max, with_derivatives, with_strain)
        jk_table = self.pair_table(nl, elem_n)

        def block(first, last):
            pairs = slice(nl.offsets_n1[first], nl.offsets_n1[last])
            rows = (arrays[0][first:last], arrays[1][pairs])
            rows += (arrays[2][first:last] if with_derivatives else arrays[2],)
            rows += (arrays[3][first:last] if with_strain else arrays[3],)
            self.fill_block(elem_n, nl, first, last, with_derivatives, with_strain, jk_table, rows)

        parallel = use_parallel(n)
        n_blocks = 4 * thread_count() if parallel else 1
        map_blocks(block, even_pair_bounds(nl.offsets_n1, n_blocks), parallel)
        return Descriptors(*arrays, elem_n=elem_n, n_s_e=self.n_s_e, nl=nl)

    def compute_block(
        self,
        elem_n,
        nl,
        first_atom,
        last_atom,
        with_derivatives=True,
        with_strain=False,
        jk_table=None,
        with_self=True,
    ):
        """``G_bs, dGdR_psc, dGself_bsc, dGdeps_bscc`` of the atoms first_atom..last_atom-1.

        The pair rows are those of the block, ``offsets_n1[first_atom]`` on.
        Runs on the calling thread (blocks on threads: ``potential.evaluate``).
        ``jk_table``: :meth:`pair_table` of ``nl``, made here if not given (a
        caller computing many blocks of one structure makes it once).
        ``with_self=False``: no self terms (``dGself_bsc`` has zero rows) and
        no strain terms, for a caller that needs the pair derivatives only
        (the memory-lean force path).
        """
        if jk_table is None:
            jk_table = self.pair_table(nl, elem_n)
        with_strain = with_strain and with_derivatives and with_self
        n_pairs = nl.offsets_n1[last_atom] - nl.offsets_n1[first_atom]
        s_max = self.table_esq.shape[1]
        n_block = last_atom - first_atom
        arrays = block_arrays(n_block, n_pairs, s_max, with_derivatives, with_strain, with_self)
        self.fill_block(
            elem_n, nl, first_atom, last_atom, with_derivatives, with_strain, jk_table, arrays
        )
        return arrays

    def pair_table(self, nl, elem_n):
        """The r_jk pair table of a structure (``nnp_ref.descriptors.pair_table``).

        Empty unless the list has no image pairs and at most ``TABLE_MAX_ATOMS`` atoms.
        """
        return pair_table(self.table_esq, self.index, self.jk_columns, elem_n, nl)

    def fill_block(
        self, elem_n, nl, first_atom, last_atom, with_derivatives, with_strain, jk_table, rows
    ):
        """:func:`descriptor_kernel`: atoms first_atom..last_atom-1 into block arrays ``rows``."""
        descriptor_kernel(
            elem_n,
            self.table_esq,
            self.index,
            nl.j_p,
            nl.D_pc,
            nl.d_p,
            nl.offsets_n1,
            np.int64(first_atom),
            np.int64(last_atom),
            bool(with_derivatives),
            bool(with_strain),
            jk_table,
            rows,
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
    "block_arrays",
    "descriptor_kernel",
    "use_parallel",
]
