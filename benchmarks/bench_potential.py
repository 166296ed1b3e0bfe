"""Energy + forces for the 1080-atom water box with the published potential.

Prints the median time over repeats after warm-up and each phase's share
(neighbour list, symmetry functions, networks, forces), for 1 and 2 Numba
threads, and the peak memory. Reference: n2p2 (C++, one thread) takes
0.37 s (neighbour list 0.09, symmetry functions 0.23, networks 0.014,
forces 0.03).

    python benchmarks/bench_potential.py
"""

import time

import numba
import numpy as np
from _common import median_time, peak_memory_mb, water_box

from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.symmetry_functions import descriptor_kernel, element_indices
from nnp_ref.model import network as nn
from nnp_ref.model.potential import assemble_forces, evaluate_atoms


def phases(potential, atoms):
    """Time each phase of one energy + force evaluation separately."""
    R, cell, pbc = atoms.positions, atoms.cell.array, atoms.pbc
    sfs = potential.descriptor
    elem_n = element_indices(atoms.get_chemical_symbols(), potential.elements)
    out = {}
    t = time.perf_counter()
    nl = neighbour_list(R, cell, pbc, sfs.cutoff)
    out["neighbour list"] = time.perf_counter() - t
    t = time.perf_counter()
    G_ns, dGdR, dGself, _ = descriptor_kernel(
        elem_n,
        sfs.Znum_e,
        sfs.table_esq,
        sfs.n_s_e,
        sfs.index,
        nl.i_p,
        nl.j_p,
        nl.D_pc,
        nl.d_p,
        nl.offsets_n1,
        True,
        False,
    )
    out["symmetry functions"] = time.perf_counter() - t
    t = time.perf_counter()
    dEdG = np.zeros_like(G_ns)
    for e, symbol in enumerate(potential.elements):
        idx = np.flatnonzero(elem_n == e)
        n_s = sfs.n_s_e[e]
        a, b = potential.scalings[symbol].factor_and_offset()
        _, cache = nn.forward(potential.networks[symbol], G_ns[idx, :n_s] * a + b)
        dEdG[idx, :n_s] = nn.input_gradient(potential.networks[symbol], cache) * a
    out["networks"] = time.perf_counter() - t
    t = time.perf_counter()
    assemble_forces(dEdG, dGdR, dGself, nl.i_p, nl.j_p)
    out["forces"] = time.perf_counter() - t
    return out


def main():
    atoms, potential = water_box()
    evaluate_atoms(potential, atoms, stress=False)
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        numba.set_num_threads(threads)
        total = median_time(lambda: evaluate_atoms(potential, atoms, stress=False), repeats=10)
        print(f"{threads} thread(s): energy + forces {total * 1e3:.1f} ms   [n2p2: 370 ms]")
        runs = [phases(potential, atoms) for _ in range(5)]
        for name in runs[0]:
            t = float(np.median([r[name] for r in runs]))
            print(f"    {name:20s} {t * 1e3:7.1f} ms  ({t / total * 100:4.1f} %)")
    print(f"peak memory: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
