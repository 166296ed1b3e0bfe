"""Benchmark the neighbour list on the 1080-atom water box against vesin and ASE.

Run from the repository root:

    python benchmarks/bench_neighbours.py [path/to/input.data] [cutoff_bohr]

Single-threaded (NUMBA_NUM_THREADS=1 is set before numba is imported).
Prints the median wall time over the repeats and the number of pairs; then
the same for a 24-atom cluster cut from the box (finite: all pairs in one
kernel, against the cell list and ASE).
"""

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from ase import Atoms  # noqa: E402
from ase.neighborlist import neighbor_list as ase_neighbor_list  # noqa: E402
from ase.units import Bohr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nnp_ref.descriptors.neighbours import neighbour_list  # noqa: E402

DEFAULT_DATA = Path("/work/shared/n2p2/H2O_RPBE-D3/input.data")
REPEATS = 30


def read_first_structure(path):
    """First structure of an n2p2 input.data file: positions and cell in Å (input in Bohr)."""
    cell, positions = [], []
    with open(path) as fh:
        for line in fh:
            words = line.split()
            if not words:
                continue
            if words[0] == "lattice":
                cell.append([float(x) for x in words[1:4]])
            elif words[0] == "atom":
                positions.append([float(x) for x in words[1:4]])
            elif words[0] == "end":
                break
    return np.array(positions) * Bohr, np.array(cell) * Bohr


def median_time(fn, repeats=REPEATS):
    """Median wall time (s) of ``fn()`` after two warm-up calls, and its last result."""
    result = fn()
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATA
    cutoff = (float(sys.argv[2]) if len(sys.argv) > 2 else 12.0) * Bohr
    R_nc, cell_cc = read_first_structure(path)
    pbc_c = np.array([True, True, True])
    print(f"{path}: {len(R_nc)} atoms, cell lengths {np.linalg.norm(cell_cc, axis=1)} Å")
    print(f"cutoff {cutoff:.4f} Å, {REPEATS} repeats, median wall time, single thread")

    t, nl = median_time(lambda: neighbour_list(R_nc, cell_cc, pbc_c, cutoff))
    print(f"nnp_ref : {1e3 * t:8.3f} ms  {len(nl.i_p)} pairs")

    try:
        from vesin import NeighborList
    except ImportError:
        print("vesin   : not installed")
    else:
        calculator = NeighborList(cutoff=cutoff, full_list=True)
        t, (i, _, _, _) = median_time(
            lambda: calculator.compute(R_nc, cell_cc, periodic=True, quantities="ijSd")
        )
        print(f"vesin   : {1e3 * t:8.3f} ms  {len(i)} pairs")

    atoms = Atoms(positions=R_nc, cell=cell_cc, pbc=True)
    t, (i, *_) = median_time(lambda: ase_neighbor_list("ijSDd", atoms, cutoff))
    print(f"ase     : {1e3 * t:8.3f} ms  {len(i)} pairs")
    small_cluster(R_nc, cutoff)


def small_cluster(R_nc, cutoff, n=24):
    """The n atoms nearest to atom 0 as a finite cluster: all pairs vs the cell list vs ASE."""
    import nnp_ref.descriptors.neighbours as neighbours

    R_nc = R_nc[np.argsort(np.linalg.norm(R_nc - R_nc[0], axis=1))[:n]]
    zero_cc, finite_c = np.zeros((3, 3)), np.zeros(3, dtype=bool)
    print(f"finite cluster of {n} atoms (no cell), median wall time:")
    t, nl = median_time(lambda: neighbour_list(R_nc, zero_cc, finite_c, cutoff))
    print(f"nnp_ref, all pairs : {1e6 * t:8.1f} us  {len(nl.i_p)} pairs")
    limit = neighbours.ALL_PAIRS_MAX_ATOMS
    neighbours.ALL_PAIRS_MAX_ATOMS = 0  # the cell list, as for large structures
    try:
        t, nl = median_time(lambda: neighbour_list(R_nc, zero_cc, finite_c, cutoff))
    finally:
        neighbours.ALL_PAIRS_MAX_ATOMS = limit
    print(f"nnp_ref, cell list : {1e6 * t:8.1f} us  {len(nl.i_p)} pairs")
    atoms = Atoms(positions=R_nc)
    t, (i, *_) = median_time(lambda: ase_neighbor_list("ijSDd", atoms, cutoff))
    print(f"ase                : {1e6 * t:8.1f} us  {len(i)} pairs")


if __name__ == "__main__":
    main()
