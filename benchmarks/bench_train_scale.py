"""Training on data larger than memory: peak memory and throughput, streamed vs in memory.

Issue 15 targets: a 20,000-structure EMT copper set trains (Adam, with
forces) with peak memory < 4 GB; 100,000 structures within reach of 24 GB;
throughput (structures per second of an epoch's updates) no worse than
in-memory training for data that fits.

For each size N the EMT copper set (``nnp_ref.data.datasets.default_dataset``,
seed 0, generated first and cached as extxyz) is used with the default
symmetry functions (rc = 6 Å, 32 per atom), 2x25 tanh networks (scaling
from a 100-structure set, built once and loaded from JSON), Adam with
batches of 8 structures. Every run is its own process (peak RSS is per
process, and includes the data as ``ase.Atoms``):

* ``streamed``: descriptor store built into ``--store`` (time and size on
  disk reported), then ``--epochs`` Adam epochs streaming from it;
* ``memory``: descriptors in memory (only for N <= ``--memory-max``).

Prints N, mode, store build time, store size, peak RSS, update
structures/s, and the fitted slope of peak RSS over N (MB per 1,000
structures) with the extrapolation to 20,000 and 100,000 structures.

    python benchmarks/bench_train_scale.py [--sizes 250 500 1000] [--memory-max 250]
                                           [--epochs 1] [--store /tmp/nnp_ref_store] [--keep]
"""

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CHILD = """
import json, resource, sys, time
from nnp_ref.data.datasets import default_dataset
from nnp_ref.training import loop
from nnp_ref.io.model_json import load_model
from nnp_ref.training.config import TrainingConfig
from nnp_ref.training.problem import make_problem
from nnp_ref.training.store import streamed_problem

data = default_dataset({n}, seed=0, progress=False)
potential = load_model({model!r})
cfg = TrainingConfig(optimizer="adam", epochs={epochs}, batch_size=8, progress=False)
t0 = time.perf_counter()
if {streamed}:
    problem = streamed_problem(potential, data, None, cfg, {store!r}, progress=False)
    folder = problem.train_items.folder
    size = sum(f.stat().st_size for f in folder.iterdir())
else:
    problem = make_problem(potential, data, None, cfg)
    size = 0
setup = time.perf_counter() - t0
result = loop.fit(problem)
rows = [h for h in result.history if h["epoch"] > 0]
print(json.dumps(dict(
    setup=setup, store_bytes=size,
    peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    per_s=sum(h["structures_per_s"] for h in rows) / len(rows),
    atoms=sum(len(a) for a in data),
)))
"""


def prepare(sizes, store) -> Path:
    """Generate (and cache) the data sets; the potential, scaled on the first 100 structures."""
    from nnp_ref.data.datasets import default_dataset
    from nnp_ref.io.model_json import save_model
    from nnp_ref.training.build import build_potential

    for n in sizes:
        default_dataset(n, seed=0, progress=False)
    potential, _ = build_potential(default_dataset(100, seed=0, progress=False), seed=0,
                                   progress=False)  # fmt: skip
    return save_model(potential, Path(store).with_name("bench_train_scale_model.json"))


def run(n, streamed, epochs, store, model):
    code = CHILD.format(n=n, epochs=epochs, streamed=streamed, store=str(store), model=str(model))
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"N={n} {'streamed' if streamed else 'memory'} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t0
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[250, 500, 1000])
    parser.add_argument("--memory-max", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--store", default="/tmp/nnp_ref_store")
    parser.add_argument("--keep", action="store_true", help="reuse stores of earlier runs")
    args = parser.parse_args()
    if not args.keep:  # measure the build too
        shutil.rmtree(args.store, ignore_errors=True)
    model = prepare(args.sizes, args.store)
    print(f"{'N':>7s} {'mode':9s} {'atoms':>8s} {'setup s':>8s} {'store GB':>9s} "
          f"{'peak MB':>8s} {'struct/s':>9s}")  # fmt: skip
    streamed = []
    for n in args.sizes:
        for mode in ("streamed", "memory"):
            if mode == "memory" and n > args.memory_max:
                continue
            r = run(n, mode == "streamed", args.epochs, args.store, model)
            print(f"{n:7d} {mode:9s} {r['atoms']:8d} {r['setup']:8.1f} "
                  f"{r['store_bytes'] / 1e9:9.2f} {r['peak_mb']:8.0f} {r['per_s']:9.1f}",
                  flush=True)  # fmt: skip
            if mode == "streamed":
                streamed.append((n, r["peak_mb"], r["store_bytes"], r["setup"]))
    if len(streamed) >= 2:
        import numpy as np

        n, peak, size, setup = (np.array(x, dtype=float) for x in zip(*streamed))
        slope, base = np.polyfit(n, peak, 1)
        disk = np.polyfit(n, size, 1)[0]
        build = np.polyfit(n, setup, 1)[0]
        print(f"\nstreamed peak RSS ~ {base:.0f} MB + {1e3 * slope:.1f} MB per 1,000 structures")
        for big in (20_000, 100_000):
            print(
                f"  extrapolated to {big:,}: peak {base + slope * big:,.0f} MB, "
                f"store {disk * big / 1e9:,.0f} GB on disk, build {build * big / 3600:.1f} h"
            )


if __name__ == "__main__":
    main()
