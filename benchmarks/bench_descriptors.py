"""Symmetry functions + all derivatives for the 1080-atom water box.

Prints the first-call (compile or cache load) time, the median time over
repeats after warm-up, microseconds per atom and the peak memory, for 1 and
2 Numba threads (set here, once per setting: the library itself never
changes Numba's thread count). Reference: n2p2 (C++, one thread) spends
0.32 s on neighbour list + symmetry functions + derivatives for this box.

    python benchmarks/bench_descriptors.py
"""

import time

import numba
from _common import median_time, peak_memory_mb, water_box


def main():
    t0 = time.perf_counter()
    atoms, potential = water_box()
    sfs = potential.descriptor
    sfs.compute_atoms(atoms)
    print(f"read files + first call (compile or cache load): {time.perf_counter() - t0:.2f} s")
    n = len(atoms)
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        numba.set_num_threads(threads)
        t = median_time(lambda: sfs.compute_atoms(atoms), repeats=10)
        t_G = median_time(lambda: sfs.compute_atoms(atoms, with_derivatives=False), repeats=10)
        print(
            f"{threads} thread(s): G + derivatives {t * 1e3:7.1f} ms "
            f"({t / n * 1e6:.0f} us/atom); G only {t_G * 1e3:7.1f} ms   [n2p2: 320 ms]"
        )
    desc = sfs.compute_atoms(atoms)
    print(f"pairs: {len(desc.nl.i_p)}, dG/dR storage {desc.dGdR_psc.nbytes / 1e6:.0f} MB")
    print(f"peak memory: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
