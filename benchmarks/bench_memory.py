"""Peak memory of energy + forces + stress for large water boxes (memory-lean path).

Each size runs in its own process (peak RSS is per process): the 1080-atom
RPBE-D3 box repeated (2x2x2 = 8,640 atoms, 4x5x5 = 108,000 atoms by default),
evaluated once with the memory-lean path (``store_derivatives=False``) and,
with ``--stored``, for boxes up to 20,000 atoms with stored dG/dR. Prints the peak resident memory
beyond the process's memory just before the call (structure, potential and
compiled kernels loaded), per atom. Targets (issue 14): <= 20 kB per atom;
a 100,000-atom box under 4 GB. One Numba thread unless NUMBA_NUM_THREADS.

    python benchmarks/bench_memory.py [--repeats 2x2x2 4x5x5] [--stored]
"""

import argparse
import subprocess
import sys
from pathlib import Path

CHILD = """
import resource, sys, time
sys.path.insert(0, {bench!r})
from _common import water_box
from nnp_ref.model.potential import evaluate_atoms
atoms, potential = water_box()
atoms = atoms.repeat({repeat})
small = atoms[:24]
small.pbc = False
evaluate_atoms(potential, small, extrapolation="off")  # load the kernels
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS"))
t = time.perf_counter()
r = evaluate_atoms(potential, atoms, store_derivatives={stored}, extrapolation="off")
elapsed = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(atoms), rss, peak, elapsed, len(r.descriptors.nl.i_p))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", nargs="+", default=["2x2x2", "4x5x5"])
    parser.add_argument("--stored", action="store_true", help="also the stored-dG/dR path")
    args = parser.parse_args()
    bench = str(Path(__file__).resolve().parent)
    print(f"{'atoms':>8s} {'path':8s} {'pairs':>10s} {'time s':>8s} {'RSS before MB':>14s} "
          f"{'peak MB':>9s} {'extra kB/atom':>14s}")  # fmt: skip
    for text in args.repeats:
        repeat = tuple(int(x) for x in text.split("x"))
        n_atoms = 1080 * repeat[0] * repeat[1] * repeat[2]
        # stored dG/dR needs ~76 kB/atom: only for boxes that fit comfortably
        for stored in (False, True) if args.stored and n_atoms <= 20_000 else (False,):
            code = CHILD.format(bench=bench, repeat=repeat, stored=stored)
            done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{text}: failed\n{done.stderr[-2000:]}")
                continue
            n, rss_kb, peak_kb, elapsed, pairs = done.stdout.split()[-5:]
            n, rss_kb, peak_kb = int(n), int(rss_kb), int(peak_kb)
            extra = (peak_kb - rss_kb) / n
            path = "stored" if stored else "lean"
            print(f"{n:8d} {path:8s} {int(pairs):10d} {float(elapsed):8.1f} {rss_kb / 1024:14.0f} "
                  f"{peak_kb / 1024:9.0f} {extra:14.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
