"""Full neighbour list for periodic, mixed-periodic and finite systems (cell list, Numba).

Convention (ASE, ``ase.neighborlist.neighbor_list('ijSDd', ...)``)::

    D_pc[p] = R_nc[j_p[p]] - R_nc[i_p[p]] + S_pc[p] @ cell_cc,   d_p = |D_pc|

for every pair with ``d_p < cutoff``. The list is full (i->j and j->i both
appear), contains every periodic image within the cutoff (an atom's own
images too, never the pair (i, i, S=0)), and is sorted by the central atom
``i_p``: the pairs of atom i are ``offsets_n1[i]:offsets_n1[i+1]``. ``S_pc``
refers to the positions as given (they need not lie inside the cell), and
is zero along non-periodic directions.

Algorithm (a cell list, O(N) for a fixed density and cutoff rc):

1. *Search basis.* Rows of ``basis_cc`` are the cell vectors along periodic
   directions; a non-periodic row, whose cell vector may be zero or
   anything, is replaced by an orthonormal vector of the complement of the
   periodic ones (from an SVD). Fractional coordinates ``f = R @ inv(basis)``
   are then fractions of a cell vector along periodic directions and plain
   lengths (Å) along non-periodic ones.
2. *Bins.* Along periodic direction a the lattice planes are
   ``L_a = V / |b x c|`` apart, so two atoms closer than rc differ by at
   most ``rc / L_a`` in ``f_a``. With ``nb_a = max(1, floor(L_a / rc))``
   bins (bin width >= rc) a neighbour lies at most
   ``n_a = ceil(rc * nb_a / L_a)`` bins away; ``n_a > 1`` when rc exceeds
   the cell, and then the same bin is visited several times, once per
   image. Along a non-periodic direction the bins span the atoms' extent
   (width >= rc, ``n_a = 1``), without wrapping. An atom's bin is
   ``b = floor(f_a * nb_a)``; floor division splits it into a bin inside
   the cell and an image shift, ``b = bin + nb_a * shift``, and the search
   runs on the wrapped positions ``R - shift @ cell``.
3. *Search.* Each bin offset ``-n_a..n_a`` around a home bin names a bin
   inside the cell plus a lattice translation ``k`` (floor division again);
   this stencil depends only on the home bin (it is rebuilt when the bin
   changes from one atom to the next). The atoms j of a stencil bin,
   translated by ``k @ cell``, are tested against rc:
   ``D = Rw_j + k @ cell - Rw_i``, and back in the original positions the
   shift is ``S = k - shift_j + shift_i``. Each image of each atom
   within rc lies in exactly one visited bin, so every pair is found once.
   A cap on the number of bins (memory for sparse or spread-out systems)
   only widens the bins; ``n_a`` follows from the widened bins.
4. *Two passes.* The search runs once to count pairs per atom (a branch-free
   loop), then again to fill arrays of the exact size (per bin: select the
   hits branch-free, then write them). Atoms are visited in
   order, so pairs come sorted by ``i``; within one atom the order is that
   of the stencil, then of atom index (deterministic).

A finite structure of at most :data:`ALL_PAIRS_MAX_ATOMS` atoms (a molecule,
a cluster) skips steps 1-4: all n (n - 1) pairs are tested in one kernel
(``nnp_ref.descriptors.small_neighbours``), in the same order as one bin.

The validation (finite input, positive cutoff, non-singular periodic cell,
and overlapping atoms, read off the finished list) lives in the Python
layer, which also converts the inputs to contiguous float64/int64 arrays so
each kernel compiles once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnp_ref.descriptors.cell_list import (
    assign_bins,
    count_pairs,
    fill_pairs,
    largest_bin,
    sort_into_bins,
    stencil_size,
)
from nnp_ref.descriptors.small_neighbours import count_all_pairs, fill_all_pairs

OVERLAP_TOLERANCE = 1e-6  # Å: two atoms (or images) closer than this are an error
SINGULAR_TOLERANCE = 1e-10  # smallest / largest singular value of the periodic cell vectors
# Most neighbours one atom may have. The densest solids hold about 0.2 atoms/Å^3, i.e.
# about 1,450 neighbours within 12 Å; more means a cell far too small for the cutoff
# (or wrong units), and the angular terms would cost (neighbours)^2 per atom.
MAX_NEIGHBOURS = 3000
MAX_STENCIL = 1_000_000  # most bins (with their images) one atom's search may visit
# Finite structures up to this size test all pairs (``small_neighbours``, no cell list):
# below it the cell list's Python layer costs more than the n^2 distances. Measured
# (liquid-water density, cutoff 6.35 Å, one thread): 24 atoms 19 us vs 72 us with the
# cell list, 150 atoms 66 vs 147 us, 200 atoms 270 vs 200 us.
ALL_PAIRS_MAX_ATOMS = 150


@dataclass(frozen=True)
class NeighbourList:
    """Flat full neighbour list, sorted by central atom (p pairs, n atoms).

    Attributes:
        i_p: (p,) int64, central atom of each pair.
        j_p: (p,) int64, neighbour atom of each pair.
        S_pc: (p, 3) int64, cell shifts, ``D = R[j] - R[i] + S @ cell``.
        D_pc: (p, 3) float64, distance vectors from i to the image of j (Å).
        d_p: (p,) float64, distances ``|D_pc|`` (Å), all below the cutoff.
        offsets_n1: (n+1,) int64, pairs of atom i are ``offsets_n1[i]:offsets_n1[i+1]``.
    """

    i_p: np.ndarray
    j_p: np.ndarray
    S_pc: np.ndarray
    D_pc: np.ndarray
    d_p: np.ndarray
    offsets_n1: np.ndarray


# ---------------------------------------------------------------------------------------------
# Python layer: validation, search basis, bin grid
# ---------------------------------------------------------------------------------------------


def _empty(n):
    """The neighbour list of n atoms without any pair."""
    return NeighbourList(
        i_p=np.zeros(0, dtype=np.int64),
        j_p=np.zeros(0, dtype=np.int64),
        S_pc=np.zeros((0, 3), dtype=np.int64),
        D_pc=np.zeros((0, 3)),
        d_p=np.zeros(0),
        offsets_n1=np.zeros(n + 1, dtype=np.int64),
    )


def _search_basis(cell_cc, pbc_c):
    """Periodic cell vectors plus an orthonormal complement, and the plane spacings.

    Returns ``basis_cc`` (rows: cell vectors along periodic directions,
    orthonormal vectors perpendicular to all of them along non-periodic ones),
    its inverse (``f = R @ inverse``) and ``spacing_c`` (``L_a = V / |b x c|``
    for periodic a, 1 otherwise).
    Raises ``ValueError`` if a periodic cell vector is zero or the periodic
    vectors are (numerically) linearly dependent.
    """
    periodic = np.flatnonzero(pbc_c)
    basis_cc = np.eye(3)
    if len(periodic) > 0:
        P_kc = cell_cc[periodic]
        for a in periodic:
            if not np.any(cell_cc[a]):
                raise ValueError(
                    f"singular cell: cell vector {a} is zero along a periodic direction"
                )
        # singular values: rank test; rows of vt beyond k span the orthogonal complement
        _, sigma_k, vt = np.linalg.svd(P_kc)
        if sigma_k[-1] <= SINGULAR_TOLERANCE * sigma_k[0]:
            raise ValueError(
                f"singular cell: the periodic cell vectors {P_kc.tolist()} (directions "
                f"{periodic.tolist()}) are linearly dependent (zero volume / plane spacing)"
            )
        basis_cc[~pbc_c] = vt[len(periodic) :]
        basis_cc[periodic] = P_kc
    # columns of the inverse are the dual vectors, 1 / |dual_a| = V / |b x c| (1 if not periodic)
    inverse_cc = np.linalg.inv(basis_cc)
    spacing_c = 1.0 / np.linalg.norm(inverse_cc, axis=0)
    return basis_cc, inverse_cc, spacing_c


def _bin_grid(f_nc, spacing_c, pbc_c, radius, max_bins):
    """Bins per direction, bin origin and scale (bins per unit of f), and search reach.

    Periodic: ``nb_a = max(1, floor(L_a / radius))``, origin 0, scale ``nb_a``,
    reach ``ceil(radius * nb_a / L_a)``. Non-periodic: the bins span the
    atoms' extent E_a, ``nb_a = max(1, floor(E_a / radius))``, reach 1 (0 for
    one bin). While there are more than ``max_bins`` bins, the largest count
    is halved (wider bins, still correct).
    """
    nbins = [1, 1, 1]
    origin_c = np.zeros(3)
    extent_c = np.zeros(3)
    for a in range(3):
        if pbc_c[a]:
            length = spacing_c[a]
        else:
            origin_c[a] = f_nc[:, a].min()
            extent_c[a] = f_nc[:, a].max() - origin_c[a]
            length = extent_c[a]
        nbins[a] = max(1, min(int(length / radius), max_bins))
    while math.prod(nbins) > max_bins:
        a = nbins.index(max(nbins))
        nbins[a] = max(1, nbins[a] // 2)
    scale_c = np.zeros(3)
    reach_c = np.zeros(3, dtype=np.int64)
    for a in range(3):
        if pbc_c[a]:
            scale_c[a] = nbins[a]
            reach_c[a] = math.ceil(radius * nbins[a] / spacing_c[a])
        elif nbins[a] > 1:
            scale_c[a] = nbins[a] / extent_c[a]
            reach_c[a] = 1
    return np.array(nbins, dtype=np.int64), origin_c, scale_c, reach_c


def _check_short_lattice_vectors(cell_cc, pbc_c):
    """Raise if every atom overlaps its own image ``S @ cell``, ``S_a in {-1, 0, 1}``.

    Checked before the search, whose cost grows with the number of images.
    """
    S_kc = (np.array(list(np.ndindex(3, 3, 3))) - 1) * pbc_c  # 27 shifts, 0 if not periodic
    short_k = (np.linalg.norm(S_kc @ cell_cc, axis=1) < OVERLAP_TOLERANCE) & S_kc.any(axis=1)
    if short_k.any():
        S_c = S_kc[np.argmax(short_k)]
        raise ValueError(
            f"atoms 0 and 0 (image with cell shift S={S_c.tolist()}) overlap: the lattice "
            f"vector S @ cell is shorter than {OVERLAP_TOLERANCE:g} Å"
        )


def _check_work(reach_c, cutoff, cell_cc, pbc_c):
    """Refuse a search that would visit more than ``MAX_STENCIL`` bins per atom."""
    n_visits = int(np.prod(2 * reach_c + 1))
    if n_visits > MAX_STENCIL:
        raise ValueError(
            f"cell {np.round(cell_cc, 6).tolist()} (pbc {pbc_c.tolist()}) is far too small for "
            f"the cutoff {cutoff:g} Å: {n_visits} periodic images per atom to search "
            f"(limit {MAX_STENCIL}); check the cell and the units"
        )


def neighbour_list(
    R_nc, cell_cc, pbc_c, cutoff, *, check_overlap=True, max_neighbours=MAX_NEIGHBOURS
) -> NeighbourList:
    """Full neighbour list of all pairs closer than ``cutoff``, in ASE's convention.

    Args:
        R_nc: (n, 3) positions (Å); need not be wrapped into the cell.
        cell_cc: (3, 3) cell, rows are the cell vectors (Å). Rows along
            non-periodic directions are ignored (they may be zero).
        pbc_c: periodic boundary conditions, one bool or three.
        cutoff: cutoff radius (Å), pairs with ``d < cutoff`` are listed.
        check_overlap: raise ``ValueError`` if two atoms (or an atom and an
            image) are closer than ``OVERLAP_TOLERANCE`` = 1e-6 Å.
        max_neighbours: raise ``ValueError`` if an atom has more neighbours
            (counted before any pair array is allocated); None: no limit.

    Returns:
        ``NeighbourList`` with ``D_pc = R_nc[j_p] - R_nc[i_p] + S_pc @ cell_cc``.
    """
    R_nc, cell_cc, pbc_c, cutoff = _checked_inputs(R_nc, cell_cc, pbc_c, cutoff)
    n = len(R_nc)
    # search radius: also find overlaps when the cutoff is (absurdly) below the tolerance
    radius = max(cutoff, OVERLAP_TOLERANCE) if check_overlap else cutoff
    if not pbc_c.any() and 0 < n <= ALL_PAIRS_MAX_ATOMS:
        count_n = count_all_pairs(R_nc, radius)
        _check_neighbour_counts(count_n, cutoff, max_neighbours)
        offsets_n1 = _offsets(count_n)
        i_p, j_p, D_pc, d_p = fill_all_pairs(R_nc, radius, offsets_n1)
        S_pc = np.zeros((len(i_p), 3), dtype=np.int64)
        return _finish(i_p, j_p, S_pc, D_pc, d_p, offsets_n1, cutoff, radius, check_overlap)
    basis_cc, inverse_cc, spacing_c = _search_basis(cell_cc, pbc_c)
    if n == 0:
        return _empty(0)

    if check_overlap:
        _check_short_lattice_vectors(cell_cc, pbc_c)
    f_nc = R_nc @ inverse_cc  # fractional coordinates (Å along non-periodic directions)
    nbins_c, origin_c, scale_c, reach_c = _bin_grid(
        f_nc, spacing_c, pbc_c, radius, max_bins=max(1000, 4 * n)
    )
    bin_nc, shift_nc = assign_bins(f_nc, origin_c, scale_c, nbins_c, pbc_c)
    order_n, start_b1 = sort_into_bins(bin_nc, nbins_c)
    Rw_nc = R_nc - shift_nc @ basis_cc  # wrapped positions
    Rs_cn = np.ascontiguousarray(Rw_nc[order_n].T)  # sorted by bin, x/y/z rows

    _check_work(reach_c, cutoff, cell_cc, pbc_c)
    sizes = (stencil_size(reach_c), largest_bin(start_b1))
    search = (Rw_nc, basis_cc, bin_nc, nbins_c, reach_c, pbc_c, Rs_cn, start_b1, radius, sizes)
    count_n = count_pairs(*search)
    _check_neighbour_counts(count_n, cutoff, max_neighbours)
    offsets_n1 = _offsets(count_n)
    i_p, j_p, S_pc, D_pc, d_p = fill_pairs(*search, order_n, shift_nc, offsets_n1)
    return _finish(i_p, j_p, S_pc, D_pc, d_p, offsets_n1, cutoff, radius, check_overlap)


def _offsets(count_n):
    """CSR offsets (n+1,): the pairs of atom i are offsets_n1[i]:offsets_n1[i+1]."""
    offsets_n1 = np.zeros(len(count_n) + 1, dtype=np.int64)
    np.cumsum(count_n, out=offsets_n1[1:])
    return offsets_n1


def _finish(i_p, j_p, S_pc, D_pc, d_p, offsets_n1, cutoff, radius, check_overlap):
    """The pairs found within ``radius``: overlap check, then only those within ``cutoff``."""
    if check_overlap:
        _check_overlaps(i_p, j_p, S_pc, d_p)
    if radius > cutoff:
        keep_p = d_p < cutoff
        offsets_n1 = _offsets(np.bincount(i_p[keep_p], minlength=len(offsets_n1) - 1))
        i_p, j_p, S_pc, D_pc, d_p = (
            i_p[keep_p],
            j_p[keep_p],
            S_pc[keep_p],
            D_pc[keep_p],
            d_p[keep_p],
        )
    return NeighbourList(i_p=i_p, j_p=j_p, S_pc=S_pc, D_pc=D_pc, d_p=d_p, offsets_n1=offsets_n1)


def _checked_inputs(R_nc, cell_cc, pbc_c, cutoff):
    """(R_nc, cell_cc, pbc_c, cutoff) as contiguous float64 (n, 3), (3, 3), bool (3,), float.

    One-line ``ValueError`` for wrong shapes, non-finite values, a cutoff <= 0.
    """
    R_nc = np.ascontiguousarray(R_nc, dtype=np.float64)
    cell_cc = np.ascontiguousarray(cell_cc, dtype=np.float64)
    pbc_c = np.asarray(pbc_c, dtype=bool)
    if R_nc.ndim != 2 or R_nc.shape[1] != 3:
        if R_nc.size == 0:
            R_nc = R_nc.reshape(0, 3)
        else:
            raise ValueError(f"positions must have shape (n, 3), got {R_nc.shape}")
    if cell_cc.shape != (3, 3):
        raise ValueError(f"cell must have shape (3, 3), got {cell_cc.shape}")
    if pbc_c.shape not in ((), (3,)):
        raise ValueError(f"pbc must be one bool or three, got shape {pbc_c.shape}")
    pbc_c = np.array(np.broadcast_to(pbc_c, (3,)))  # a writable copy: one kernel signature
    if not np.all(np.isfinite(R_nc)):
        bad = np.flatnonzero(~np.all(np.isfinite(R_nc), axis=1))
        raise ValueError(f"non-finite positions (atoms {bad[:10].tolist()})")
    if not np.all(np.isfinite(cell_cc)):
        raise ValueError(f"non-finite cell: {cell_cc.tolist()}")
    cutoff = float(cutoff)
    if not (np.isfinite(cutoff) and cutoff > 0.0):
        raise ValueError(f"cutoff must be positive and finite, got {cutoff}")
    return R_nc, cell_cc, pbc_c, cutoff


def _check_neighbour_counts(count_n, cutoff, max_neighbours):
    """Raise if an atom has more than ``max_neighbours`` (before any pair array exists)."""
    if max_neighbours is not None and count_n.max() > max_neighbours:
        i = int(np.argmax(count_n))
        raise ValueError(
            f"atom {i} has {count_n[i]} neighbours within {cutoff:g} Å (limit max_neighbours="
            f"{max_neighbours}): the cell is too small or dense for this cutoff (wrong units?)"
        )


def _check_overlaps(i_p, j_p, S_pc, d_p):
    """Raise for the first pair (an atom and an image, maybe its own) closer than the tolerance."""
    if len(d_p) > 0 and d_p.min() < OVERLAP_TOLERANCE:
        p = np.argmax(d_p < OVERLAP_TOLERANCE)
        image = f" (image with cell shift S={S_pc[p].tolist()})" if S_pc[p].any() else ""
        raise ValueError(
            f"atoms {i_p[p]} and {j_p[p]}{image} overlap: distance {d_p[p]:.3g} Å is below "
            f"{OVERLAP_TOLERANCE:g} Å"
        )


def neighbour_list_atoms(atoms, cutoff, *, check_overlap=True) -> NeighbourList:
    """``neighbour_list`` for an ``ase.Atoms`` (positions, cell and pbc taken from it)."""
    return neighbour_list(
        atoms.positions, atoms.cell.array, atoms.pbc, cutoff, check_overlap=check_overlap
    )
