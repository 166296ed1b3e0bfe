"""Training on data larger than memory: peak memory and throughput, streamed vs in memory.

Issue 15 targets: a 20,000-structure EMT copper set trains (Adam, with
forces) with peak memory < 4 GB; 100,000 structures within reach of 24 GB;
throughput (structures per second of an epoch's updates) no worse than
in-memory training for data that fits.

For each size N an EMT copper set is generated (seed 0, progress shown,
cached as extxyz beside the store): by default ``default_dataset`` (32-108
atoms), with ``--cell 2 2 2`` only 32-atom supercells (plus the recipe's
vacancies and slabs), whose store is ~2 MB per structure instead of ~4, so
20,000 structures fit on a disk with ~80 GB free; ``--no-md`` leaves out
the MD snapshots (strained rattled cells, vacancies, slabs: one EMT call
per structure, for a set generated in minutes on a loaded machine). Default symmetry
functions (rc = 6 Å, 32 per atom), 2x25 tanh networks (scaling from the
first 100 structures, built once and loaded from JSON), Adam with batches
of 8 structures. Every run is its own process:

* ``streamed``: descriptor store built into ``--store`` (time and size on
  disk reported), then ``--epochs`` Adam epochs streaming from it;
* ``memory``: descriptors in memory (only for N <= ``--memory-max``).

**Memory.** ``peak MB`` is the kernel's high-water mark of the resident set
(``ru_maxrss`` = ``VmHWM``). Pages of the memory-mapped store count in it
while they are mapped and touched (``RssFile``); ``StoredStructures`` drops
them (``madvise(MADV_DONTNEED)``) after every 256 MB handed out and after
every evaluation batch, so they add at most ~256 MB. A sampling thread
(every 0.1 s, ``/proc/self/status``) also reports the largest ``RssAnon``
(the process's own memory: Python objects, the ``ase.Atoms`` of the data
set, batches, networks) and ``RssFile`` seen. The OS page cache that keeps
store files after they are dropped from the process belongs to no process
and is freed under memory pressure: it is not counted.

Prints N, mode, store build time, store size, peak RSS (and anon/file
parts), update structures/s, and the fitted slope of peak RSS over N (MB
per 1,000 structures) with the extrapolation to 20,000 and 100,000
structures.

    python benchmarks/bench_train_scale.py [--sizes 250 500 1000] [--memory-max 250]
        [--epochs 1] [--cell 2 2 2] [--store /tmp/nnp_ref_store] [--keep] [--delete]

The 20,000-structure run of issue 15 (~40 GB of store, deleted afterwards)::

    python benchmarks/bench_train_scale.py --cell 2 2 2 --no-md --sizes 1000 20000 \\
        --memory-max 1000 --epochs 2 --delete
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
import json, resource, sys, threading, time
sys.path.insert(0, {bench!r})
from bench_train_scale import load_dataset
from nnp_ref.training import loop
from nnp_ref.io.model_json import load_model
from nnp_ref.training.config import TrainingConfig
from nnp_ref.training.problem import make_problem
from nnp_ref.training.streaming import streamed_problem

peak = dict(anon=0.0, file=0.0)
def sample():
    while True:
        fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
        for key, name in (("anon", "RssAnon"), ("file", "RssFile")):
            peak[key] = max(peak[key], float(fields[name].split()[0]) / 1024)
        time.sleep(0.1)
threading.Thread(target=sample, daemon=True).start()
data = load_dataset({n}, {cell}, {store!r}, progress=False, no_md={no_md})
potential = load_model({model!r})
cfg = TrainingConfig(optimizer="adam", epochs={epochs}, batch_size=8, progress={progress})
t0 = time.perf_counter()
if {streamed}:
    problem = streamed_problem(potential, data, None, cfg, {store!r}, progress={progress})
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
    anon_mb=peak["anon"], file_mb=peak["file"],
    per_s=sum(h["structures_per_s"] for h in rows) / len(rows),
    atoms=sum(len(a) for a in data),
)))
"""


NO_MD_MIX = {"rattled": 0.6, "vacancy": 0.3, "surface": 0.1}  # one EMT call per structure


def load_dataset(n, cell, store, progress=True, no_md=False):
    """The EMT copper set of size n: ``default_dataset``, or only ``cell`` supercells (cached).

    ``no_md``: without the MD snapshots (``NO_MD_MIX``), ~10x faster to generate.
    """
    from nnp_ref.data.datasets import (
        default_dataset,
        generate_reference_data,
        read_dataset,
        write_extxyz,
    )

    if cell is None and not no_md:
        return default_dataset(n, seed=0, progress=progress)
    name = f"emt-cu-{'x'.join(map(str, cell or ['any']))}{'-nomd' if no_md else ''}-n{n}-seed0"
    path = Path(store).with_name(f"{name}.extxyz")
    if path.is_file():
        return read_dataset(path)
    repeats = {"repeats": (tuple(cell),)} if cell else {}
    data = generate_reference_data(kind="emt-cu", n_structures=n, seed=0, progress=progress,
                                   mix=NO_MD_MIX if no_md else None, **repeats)  # fmt: skip
    write_extxyz(path, data)
    return data


def prepare(sizes, cell, store, no_md=False) -> Path:
    """Generate (and cache) the data sets; the potential, scaled on the first 100 structures."""
    from nnp_ref.io.model_json import save_model
    from nnp_ref.training.build import build_potential

    Path(store).parent.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        t0 = time.perf_counter()
        data = load_dataset(n, cell, store, no_md=no_md)
        print(f"data set of {n} structures ready in {time.perf_counter() - t0:.0f} s", flush=True)
    potential, _ = build_potential(data[:100], seed=0, progress=False)
    return save_model(potential, Path(store).with_name("bench_train_scale_model.json"))


def run(n, streamed, args, model):
    code = CHILD.format(n=n, epochs=args.epochs, streamed=streamed, store=str(args.store),
                        model=str(model), cell=args.cell, progress=args.progress,
                        no_md=args.no_md,
                        bench=str(Path(__file__).resolve().parent))  # fmt: skip
    t0 = time.perf_counter()
    stderr = None if args.progress else subprocess.PIPE
    done = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=stderr,
                          text=True)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"N={n} {'streamed' if streamed else 'memory'} failed:\n"
                 f"{(done.stderr or '')[-3000:]}")  # fmt: skip
    out = json.loads(done.stdout.strip().splitlines()[-1])
    out["wall"] = time.perf_counter() - t0
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[250, 500, 1000])
    parser.add_argument("--memory-max", type=int, default=250)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--cell",
        nargs=3,
        type=int,
        default=None,
        help="only these supercells of the fcc cube (e.g. 2 2 2: 32 atoms)",
    )
    parser.add_argument(
        "--no-md",
        action="store_true",
        help="no MD snapshots in the data (rattled, vacancy, surface only)",
    )
    parser.add_argument("--store", default="/tmp/nnp_ref_store")
    parser.add_argument("--keep", action="store_true", help="reuse stores of earlier runs")
    parser.add_argument("--delete", action="store_true", help="delete each store after its runs")
    parser.add_argument("--progress", action="store_true", help="show the runs' progress bars")
    args = parser.parse_args()
    if not args.keep:  # measure the build too
        shutil.rmtree(args.store, ignore_errors=True)
    model = prepare(args.sizes, args.cell, args.store, args.no_md)
    print(f"{'N':>7s} {'mode':9s} {'atoms':>8s} {'setup s':>8s} {'store GB':>9s} "
          f"{'peak MB':>8s} {'anon MB':>8s} {'file MB':>8s} {'struct/s':>9s} "
          f"{'wall s':>7s}")  # fmt: skip
    streamed = []
    for n in args.sizes:
        for mode in ("streamed", "memory"):
            if mode == "memory" and n > args.memory_max:
                continue
            r = run(n, mode == "streamed", args, model)
            print(f"{n:7d} {mode:9s} {r['atoms']:8d} {r['setup']:8.1f} "
                  f"{r['store_bytes'] / 1e9:9.2f} {r['peak_mb']:8.0f} {r['anon_mb']:8.0f} "
                  f"{r['file_mb']:8.0f} {r['per_s']:9.1f} {r['wall']:7.0f}",
                  flush=True)  # fmt: skip
            if mode == "streamed":
                streamed.append((n, r["peak_mb"], r["store_bytes"], r["setup"]))
        if args.delete:  # one store on disk at a time
            shutil.rmtree(args.store, ignore_errors=True)
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
