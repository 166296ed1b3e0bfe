r"""Scaling statistics streamed from the descriptor store: one pass, memory of one chunk.

``build_potential`` needs, per element e and symmetry function s, the
minimum, maximum, mean and standard deviation of the raw G over the
training atoms (``preprocessing.scaling_from_descriptors``, n2p2
``nnp-scaling``). In memory all G of an element are stacked first; here
the store's ``G_ns`` rows are read in chunks of atoms (``chunk_atoms``)
and each element's block of a chunk is folded into running statistics,
so memory holds one chunk whatever the size of the data set.

Per block A (n_A atoms) numpy gives min, max, the mean m_A and
M2_A = sum_a (G_a - m_A)^2 (two-pass, pairwise summation). Two blocks
combine exactly in real arithmetic (T. F. Chan, G. H. Golub,
R. J. LeVeque, "Updating formulae and a pairwise algorithm for computing
sample variances", COMPSTAT 1982; Am. Stat. 37, 242 (1983), eq. 2.1):

    n     = n_A + n_B
    delta = m_B - m_A
    m     = m_A + delta n_B / n
    M2    = M2_A + M2_B + delta^2 n_A n_B / n

and sigma = sqrt(M2 / n) (numpy's ``std``, ddof = 0). min and max are the
in-memory numbers bit for bit; mean and sigma agree with numpy's to a few
units in the last place (relative 1e-14 for copper; the test asks 1e-12),
because the additions happen in another order.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.model.scaling import Scaling

CHUNK_ATOMS = 1 << 16  # atom rows per read: 16 MB of G for 32 functions


def block_moments(G_as: np.ndarray) -> tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(n, min, max, mean, M2) of one block of rows G_as (a, s); M2 = sum_a (G_a - mean)^2."""
    mean_s = G_as.mean(axis=0)
    M2_s = np.sum((G_as - mean_s) ** 2, axis=0)
    return len(G_as), G_as.min(axis=0), G_as.max(axis=0), mean_s, M2_s


def combine_moments(A, B):
    """Statistics of the union of blocks A and B (Chan-Golub-LeVeque, module docstring)."""
    n_A, min_A, max_A, mean_A, M2_A = A
    n_B, min_B, max_B, mean_B, M2_B = B
    n = n_A + n_B
    delta_s = mean_B - mean_A
    mean_s = mean_A + delta_s * (n_B / n)
    M2_s = M2_A + M2_B + delta_s**2 * (n_A * n_B / n)
    return n, np.minimum(min_A, min_B), np.maximum(max_A, max_B), mean_s, M2_s


def streamed_moments(elem_n, G_ns, n_s_e, chunk_atoms: int = CHUNK_ATOMS, release=None) -> dict:
    """{element index e: (n, min, max, mean, M2) over its rows of G_ns (first n_s_e[e] columns)}.

    ``elem_n`` (N,), ``G_ns`` (N, s_max): arrays or memory maps, read
    ``chunk_atoms`` rows at a time; ``release()`` (optional) is called after
    every chunk (``StoredStructures.release``: drop the mapped pages).
    """
    moments = {}
    for start in range(0, len(elem_n), chunk_atoms):
        elem_a = np.asarray(elem_n[start : start + chunk_atoms])
        G_as = np.asarray(G_ns[start : start + chunk_atoms])
        for e in np.unique(elem_a):
            block = block_moments(G_as[elem_a == e, : int(n_s_e[e])])
            e = int(e)
            moments[e] = block if e not in moments else combine_moments(moments[e], block)
        if release is not None:
            release()
    return moments


def scaling_from_store(items, elements, n_s_e, mode: str = "scalecenter", s_min: float = 0.0,
                       s_max: float = 1.0, chunk_atoms: int = CHUNK_ATOMS) -> dict:  # fmt: skip
    """{element: :class:`Scaling`} from a ``store.StoredStructures``, in one streamed pass.

    The same statistics as ``preprocessing.scaling_from_descriptors`` on the
    same structures (module docstring); ValueError naming an element
    without atoms.
    """
    moments = streamed_moments(items.arrays["elem_n"], items.arrays["G_ns"], n_s_e, chunk_atoms,
                               getattr(items, "release", None))  # fmt: skip
    missing = [e for k, e in enumerate(elements) if k not in moments]
    if missing:
        raise ValueError(f"no atoms of element(s) {missing} in the training set")
    out = {}
    for k, e in enumerate(elements):
        n, G_min, G_max, G_mean, M2 = moments[k]
        out[e] = Scaling(mode, G_min, G_max, G_mean, np.sqrt(M2 / n), s_min, s_max)
    return out


__all__ = ["block_moments", "combine_moments", "scaling_from_store", "streamed_moments"]
