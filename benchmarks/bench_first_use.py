"""First use after an install: the time to compile the kernels, with an empty Numba cache.

Each case runs in a fresh process with its own empty ``NUMBA_CACHE_DIR`` (a
temporary folder): one energy + force evaluation of the 24-atom (H2O)8 cluster
or of the 1080-atom water box, on 1 and 2 Numba threads. Prints the wall time
of that first call (compilation included) and the kernels that took longest
to compile (their own time, callees excluded; Numba's compile events).
Target (issue 14): under 10 s.

    python benchmarks/bench_first_use.py
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import sys, time
sys.path.insert(0, {bench!r})
from numba.core import event

records, stack = [], []


class Listener(event.Listener):
    def on_start(self, ev):
        stack.append((ev.data["dispatcher"].py_func.__qualname__, time.perf_counter(), [0.0]))

    def on_end(self, ev):
        name, start, children = stack.pop()
        took = time.perf_counter() - start
        if stack:
            stack[-1][2][0] += took
        records.append((took - children[0], name))


event.register("numba:compile", Listener())
from _common import water_box, water_cluster
from nnp_ref.model.potential import evaluate_atoms

box, potential = water_box()
atoms = water_cluster(box, 8) if {case!r} == "cluster" else box
start = time.perf_counter()
evaluate_atoms(potential, atoms, stress=False, store_derivatives=False, extrapolation="off")
took = time.perf_counter() - start
top = ", ".join(f"{{name}} {{own:.1f}}" for own, name in sorted(records, reverse=True)[:4])
print(f"{{took:.2f}} s  (longest compiles, s: {{top}})")
"""


def main():
    bench = str(Path(__file__).resolve().parent)
    print("case      threads  first call (compile included)")
    for case in ("cluster", "box"):
        for threads in (1, 2):
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, NUMBA_CACHE_DIR=cache, NUMBA_NUM_THREADS=str(threads))
                run = subprocess.run(
                    [sys.executable, "-c", CHILD.format(bench=bench, case=case)],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                line = run.stdout.strip() or run.stderr.strip().splitlines()[-1]
                print(f"{case:9s} {threads:7d}  {line}", flush=True)


if __name__ == "__main__":
    main()
