"""The cell-list search (steps 2-4 of :mod:`nnp_ref.descriptors.neighbours`).

Assign atoms to bins and sort them by bin (NumPy: a few whole-array
operations, nothing to compile), then search the stencil of bins around each
atom twice in Numba kernels: once to count the pairs per atom, once to fill
arrays of the exact size. The kernels and their callees live here, where the
cache of ``@kernel`` (``nnp_ref.descriptors.jit``) sees them; the validation
and the search geometry (basis, bin grid) are the Python layer in ``neighbours``.

Rows are written and read element by element, not by slice assignment,
array unpacking or ``np.diff``: those pull Numba's shape checks and their
error-message formatting into the compile (first use of the cell list
measured 7.0 s of CPU with them, 2.4 s without; same machine code in the
loops). The binning and the sizes of the search's work arrays (stencil,
largest bin) moved to NumPy for the same reason: 0.8 s less to compile.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.descriptors.jit import kernel


def assign_bins(f_nc, origin_c, scale_c, nbins_c, periodic_c):
    """Bin of every atom inside the cell, and the image shift that brings it there.

    ``x = (f_a - origin_a) * scale_a``, ``b = floor(x)``. Periodic direction:
    ``shift_a = b // nb_a`` (floor division) and ``bin_a = b - nb_a * shift_a``
    in ``[0, nb_a)``. Non-periodic direction: ``bin_a = clip(b, 0, nb_a - 1)``,
    ``shift_a = 0``. Returns ``bin_nc`` and ``shift_nc`` (int64, (n, 3)).
    """
    b_nc = np.floor((f_nc - origin_c) * scale_c).astype(np.int64)
    shift_nc = np.where(periodic_c, b_nc // nbins_c, 0)
    bin_nc = np.where(periodic_c, b_nc - shift_nc * nbins_c, np.clip(b_nc, 0, nbins_c - 1))
    return bin_nc, shift_nc


def sort_into_bins(bin_nc, nbins_c):
    """The atoms sorted by flat bin index ``(bx * nby + by) * nbz + bz``.

    Returns ``order_n`` (atom indices grouped by bin, ascending within a bin:
    a stable sort) and ``start_b1`` (atoms of bin b are
    ``order_n[start_b1[b]:start_b1[b+1]]``).
    """
    bin_n = (bin_nc[:, 0] * nbins_c[1] + bin_nc[:, 1]) * nbins_c[2] + bin_nc[:, 2]
    order_n = np.argsort(bin_n, kind="stable").astype(np.int64)
    start_b1 = np.zeros(int(np.prod(nbins_c)) + 1, dtype=np.int64)
    np.cumsum(np.bincount(bin_n, minlength=len(start_b1) - 1), out=start_b1[1:])
    return order_n, start_b1


def stencil_size(reach_c) -> int:
    """Largest number of bins a stencil visits: prod_a (2 reach_a + 1)."""
    return int(np.prod(2 * np.asarray(reach_c) + 1))


def largest_bin(start_b1) -> int:
    """Most atoms in one bin: max_b (start_b1[b + 1] - start_b1[b])."""
    return int(np.diff(start_b1).max(initial=0))


@kernel
def _stencil(bin_c, nbins_c, reach_c, periodic_c, stencil_m4):
    """Bins to search around home bin ``bin_c``, with the lattice translation of each visit.

    For offset ``d_a in [-reach_a, reach_a]`` the unwrapped bin
    ``c_a = bin_a + d_a`` is split by floor division into a bin inside the
    cell and a translation ``k_a = c_a // nb_a``. Along a non-periodic
    direction ``k_a = 0`` and bins outside ``[0, nb_a)`` are skipped. Writes
    rows ``(flat bin, kx, ky, kz)`` into ``stencil_m4`` in the order of the
    loops over ``dx, dy, dz`` and returns their number.
    """
    nby, nbz = nbins_c[1], nbins_c[2]
    c_3 = np.empty(3, dtype=np.int64)
    k_3 = np.zeros(3, dtype=np.int64)
    m = 0
    for dx in range(-reach_c[0], reach_c[0] + 1):
        for dy in range(-reach_c[1], reach_c[1] + 1):
            for dz in range(-reach_c[2], reach_c[2] + 1):
                c_3[0] = bin_c[0] + dx
                c_3[1] = bin_c[1] + dy
                c_3[2] = bin_c[2] + dz
                inside = True
                for a in range(3):
                    if periodic_c[a]:
                        k_3[a] = c_3[a] // nbins_c[a]
                        c_3[a] -= k_3[a] * nbins_c[a]
                    else:
                        inside = inside and 0 <= c_3[a] < nbins_c[a]
                if inside:
                    stencil_m4[m, 0] = (c_3[0] * nby + c_3[1]) * nbz + c_3[2]
                    for a in range(3):  # not a slice: 2 s less compile
                        stencil_m4[m, 1 + a] = k_3[a]
                    m += 1
    return m


@kernel
def _same_bin(bin_nc, i, j):
    """True if atoms i and j lie in the same bin (then they share the stencil)."""
    return (
        bin_nc[i, 0] == bin_nc[j, 0]
        and bin_nc[i, 1] == bin_nc[j, 1]
        and bin_nc[i, 2] == bin_nc[j, 2]
    )


@kernel
def count_pairs(
    Rw_nc, basis_cc, bin_nc, nbins_c, reach_c, periodic_c, Rs_cn, start_b1, cutoff, sizes
):
    """Number of pairs per atom: images j + k @ cell with ``|Rw_j + k @ cell - Rw_i| < cutoff``.

    ``Rw_nc`` are the wrapped positions, ``Rs_cn`` the same sorted by bin
    (x, y, z rows, so the inner loop is a plain vectorisable sum). The atom
    itself (zero offset, k = 0) is counted by the loop and subtracted.
    ``sizes`` = (:func:`stencil_size`, :func:`largest_bin`): work array sizes.
    """
    n = Rw_nc.shape[0]
    cut2 = cutoff * cutoff
    count_n = np.zeros(n, dtype=np.int64)
    stencil_m4 = np.empty((sizes[0], 4), dtype=np.int64)
    m = 0
    for i in range(n):
        if i == 0 or not _same_bin(bin_nc, i, i - 1):
            m = _stencil(bin_nc[i], nbins_c, reach_c, periodic_c, stencil_m4)
        count = -1  # the pair (i, i, S=0)
        for s in range(m):
            c, kx, ky, kz = stencil_m4[s, 0], stencil_m4[s, 1], stencil_m4[s, 2], stencil_m4[s, 3]
            # T = k @ cell - Rw_i, so that D = Rw_j + T
            Tx = kx * basis_cc[0, 0] + ky * basis_cc[1, 0] + kz * basis_cc[2, 0] - Rw_nc[i, 0]
            Ty = kx * basis_cc[0, 1] + ky * basis_cc[1, 1] + kz * basis_cc[2, 1] - Rw_nc[i, 1]
            Tz = kx * basis_cc[0, 2] + ky * basis_cc[1, 2] + kz * basis_cc[2, 2] - Rw_nc[i, 2]
            for q in range(start_b1[c], start_b1[c + 1]):
                Dx = Rs_cn[0, q] + Tx
                Dy = Rs_cn[1, q] + Ty
                Dz = Rs_cn[2, q] + Tz
                count += Dx * Dx + Dy * Dy + Dz * Dz < cut2
        count_n[i] = count
    return count_n


@kernel
def fill_pairs(
    Rw_nc,
    basis_cc,
    bin_nc,
    nbins_c,
    reach_c,
    periodic_c,
    Rs_cn,
    start_b1,
    cutoff,
    sizes,
    order_n,
    shift_nc,
    offsets_n1,
):
    """Pair arrays ``i_p, j_p, S_pc, D_pc, d_p`` in the order of ``count_pairs``.

    Same search as ``count_pairs``; the pairs of atom i are written from
    ``offsets_n1[i]`` on. ``D = Rw_j + k @ cell - Rw_i`` and, back in the
    original positions ``R = Rw + shift @ cell``, ``S = k - shift_j + shift_i``.
    (One loop nest over atoms, stencil bins and candidates: splitting it would
    pass the per-bin scratch arrays through calls for no gain in reading.)
    """
    n = Rw_nc.shape[0]
    cut2 = cutoff * cutoff
    n_pairs = offsets_n1[n]
    i_p = np.empty(n_pairs, dtype=np.int64)
    j_p = np.empty(n_pairs, dtype=np.int64)
    S_pc = np.empty((n_pairs, 3), dtype=np.int64)
    D_pc = np.empty((n_pairs, 3))
    d_p = np.empty(n_pairs)
    stencil_m4 = np.empty((sizes[0], 4), dtype=np.int64)
    hit_h = np.empty(sizes[1], dtype=np.int64)  # candidates of one bin in range
    m = 0
    for i in range(n):
        if i == 0 or not _same_bin(bin_nc, i, i - 1):
            m = _stencil(bin_nc[i], nbins_c, reach_c, periodic_c, stencil_m4)
        p = offsets_n1[i]
        for s in range(m):
            c, kx, ky, kz = stencil_m4[s, 0], stencil_m4[s, 1], stencil_m4[s, 2], stencil_m4[s, 3]
            Tx = kx * basis_cc[0, 0] + ky * basis_cc[1, 0] + kz * basis_cc[2, 0] - Rw_nc[i, 0]
            Ty = kx * basis_cc[0, 1] + ky * basis_cc[1, 1] + kz * basis_cc[2, 1] - Rw_nc[i, 1]
            Tz = kx * basis_cc[0, 2] + ky * basis_cc[1, 2] + kz * basis_cc[2, 2] - Rw_nc[i, 2]
            home = kx == 0 and ky == 0 and kz == 0
            # select the candidates within the cutoff without branching, then write them
            n_hit = 0
            for q in range(start_b1[c], start_b1[c + 1]):
                Dx = Rs_cn[0, q] + Tx
                Dy = Rs_cn[1, q] + Ty
                Dz = Rs_cn[2, q] + Tz
                hit_h[n_hit] = q
                n_hit += Dx * Dx + Dy * Dy + Dz * Dz < cut2
            for h in range(n_hit):
                q = hit_h[h]
                j = order_n[q]
                if home and j == i:
                    continue
                if p == offsets_n1[i + 1]:
                    raise RuntimeError("neighbour list: pair count and fill passes disagree")
                Dx = Rs_cn[0, q] + Tx
                Dy = Rs_cn[1, q] + Ty
                Dz = Rs_cn[2, q] + Tz
                i_p[p] = i
                j_p[p] = j
                S_pc[p, 0] = kx - shift_nc[j, 0] + shift_nc[i, 0]
                S_pc[p, 1] = ky - shift_nc[j, 1] + shift_nc[i, 1]
                S_pc[p, 2] = kz - shift_nc[j, 2] + shift_nc[i, 2]
                D_pc[p, 0] = Dx
                D_pc[p, 1] = Dy
                D_pc[p, 2] = Dz
                d_p[p] = np.sqrt(Dx * Dx + Dy * Dy + Dz * Dz)
                p += 1
    return i_p, j_p, S_pc, D_pc, d_p


# ---------------------------------------------------------------------------------------------
