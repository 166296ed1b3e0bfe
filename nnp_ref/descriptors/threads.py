"""Blocks of atoms on threads: how nnp_ref uses more than one core in one process.

Every kernel of the package is compiled with ``nogil=True`` (``nnp_ref.descriptors.jit``),
so plain Python threads run kernels side by side. A structure is cut into
blocks of atoms (``potential.atom_blocks``); each block's work, symmetry
functions, networks and dE/dD of its pairs, touches only the block's own rows,
so the blocks are independent tasks for a thread pool and the numbers of
every atom are computed by the same serial code in the same order: any number of
threads gives the same bits as one (``tests/test_threads.py``).

Why threads and not Numba's ``parallel=True``: one compiled version of each
kernel instead of two (a parallel kernel took 5-6 s more to compile on first
use), a pool that waits by blocking instead of spinning (OpenMP's spin-waits
burned a core on a busy machine), and blocks handed out as threads become free.

The thread count is the user's Numba setting (``NUMBA_NUM_THREADS`` or
``numba.set_num_threads``), read at each call; nothing here changes it.
Structures with fewer than :data:`PARALLEL_MIN_ATOMS` atoms stay on the
calling thread: waking a pool costs more than it saves there.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

#: Structures with fewer atoms run on the calling thread whatever the thread count.
PARALLEL_MIN_ATOMS = 256


def thread_count() -> int:
    """Numba's thread count: the user's ``NUMBA_NUM_THREADS`` or ``numba.set_num_threads``."""
    return numba.get_num_threads()


def use_parallel(n_atoms: int) -> bool:
    """True if a structure of ``n_atoms`` atoms should be split over threads.

    More than one thread and at least :data:`PARALLEL_MIN_ATOMS` atoms: the one
    rule for the descriptors, the networks and the memory-lean force pass.
    """
    return n_atoms >= PARALLEL_MIN_ATOMS and thread_count() > 1  # size first: cheaper


def map_blocks(task, bounds, parallel: bool):
    """``[task(first, last) for consecutive bounds]``, on threads if ``parallel``.

    :func:`thread_count` threads (at most one per block).

    Results come back in block order whatever order the threads finish in,
    and the first exception of a task is raised here. ``task`` must only write
    rows of its own block (tasks run at the same time).
    """
    blocks = list(zip(bounds[:-1], bounds[1:]))
    n_threads = min(thread_count(), len(blocks)) if parallel else 1
    if n_threads < 2:
        return [task(first, last) for first, last in blocks]
    with ThreadPoolExecutor(n_threads, thread_name_prefix="nnp_ref") as pool:
        futures = [pool.submit(task, first, last) for first, last in blocks]
        return [future.result() for future in futures]


def even_bounds(n: int, n_blocks: int) -> list[int]:
    """Boundaries of ``n_blocks`` (at most n) nearly equal blocks of 0..n-1."""
    n_blocks = max(1, min(n_blocks, n))
    return [b * n // n_blocks for b in range(n_blocks + 1)]


def even_pair_bounds(offsets_n1, n_blocks: int) -> list[int]:
    """Boundaries of up to ``n_blocks`` blocks of atoms with nearly equal numbers of pairs.

    Atom i has the pairs ``offsets_n1[i]:offsets_n1[i+1]``; work on pairs (the
    descriptors) is then shared evenly. Fewer blocks if an atom has more pairs
    than a block's share.
    """
    n, n_pairs = len(offsets_n1) - 1, int(offsets_n1[-1])
    targets = np.arange(1, max(n_blocks, 1)) * n_pairs // max(n_blocks, 1)
    inner = np.searchsorted(offsets_n1, targets, "left").tolist()
    return sorted({0, n, *[b for b in inner if 0 < b < n]})


__all__ = [
    "PARALLEL_MIN_ATOMS",
    "even_bounds",
    "even_pair_bounds",
    "map_blocks",
    "thread_count",
    "use_parallel",
]
