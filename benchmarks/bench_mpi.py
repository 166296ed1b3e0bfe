"""Data-parallel training over MPI: speed-up for 1 and 2 ranks, memory per rank.

EMT copper (``default_dataset``, seed 0), default symmetry functions
(rc = 6 Å, 32 per atom), 2x25 tanh networks (scaled on 100 structures,
loaded from JSON), Adam (batches of
``--batch`` structures) or L-BFGS, with forces, descriptors streamed from a
store (built once before the timed runs). For each number of ranks P,
``mpiexec -launcher fork -n P`` runs ``--epochs`` epochs through
``nnp_ref.training.parallel.train_distributed`` and reports the update
time per epoch (the optimiser's part: gradients, reductions, steps), the
epoch time with the errors, the speed-up against P = 1 and the peak RSS of
every rank. For reference, the same epochs without MPI (batched gradient,
``training.steps``) are timed too. One BLAS / Numba thread per rank.

    python benchmarks/bench_mpi.py [--n 200] [--ranks 1 2] [--optimizer adam] [--epochs 2]

Scaling estimate: see ``--estimate`` (communication per update from the
network size, for 64 ranks).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from nnp_ref.data.datasets import default_dataset
from nnp_ref.io.model_json import load_model
from nnp_ref.training.config import TrainingConfig
data = default_dataset({n}, seed=0, progress=False)
potential = load_model({model!r})
cfg = TrainingConfig(optimizer={optimizer!r}, epochs={epochs}, batch_size={batch},
                     progress=False, seed=1)
if {mpi}:
    from mpi4py import MPI
    from nnp_ref.training.parallel import train_distributed
    result = train_distributed(potential, data, None, cfg, store_dir={store!r})
    comm = MPI.COMM_WORLD
    peaks = comm.gather(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, root=0)
    if comm.Get_rank() != 0:
        sys.exit(0)
else:
    from nnp_ref.training import loop
    from nnp_ref.training.streaming import streamed_problem
    result = loop.fit(streamed_problem(potential, data, None, cfg, {store!r}, progress=False))
    peaks = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]
rows = [h for h in result.history if h["epoch"] > 0]
epoch = [b["wall_time_s"] - a["wall_time_s"] for a, b in zip(result.history, result.history[1:])]
print(json.dumps(dict(update=sum(h["update_time_s"] for h in rows) / len(rows),
                      epoch=sum(epoch) / len(epoch), peaks=peaks)))
"""


def prepare(n, store) -> Path:
    """Generate (and cache) the data set; the potential, scaled on 100 structures, as JSON."""
    from nnp_ref.data.datasets import default_dataset
    from nnp_ref.io.model_json import save_model
    from nnp_ref.training.build import build_potential

    default_dataset(n, seed=0, progress=False)
    potential, _ = build_potential(default_dataset(100, seed=0, progress=False), seed=0,
                                   progress=False)  # fmt: skip
    return save_model(potential, Path(store).with_name("bench_mpi_model.json"))


def run(args, n_ranks):
    code = CHILD.format(n=args.n, optimizer=args.optimizer, epochs=args.epochs, batch=args.batch,
                        mpi=n_ranks > 0, store=args.store, model=str(args.model))  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}  # fmt: skip
    command = [sys.executable, "-c", code]
    if n_ranks > 0:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        mpiexec = str(mpiexec) if mpiexec.is_file() else "mpiexec"
        command = [mpiexec, "-launcher", "fork", "-n", str(n_ranks)] + command
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"{n_ranks} ranks failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def estimate(n_weights=1501, batch=8, structures=20_000, ranks=64, bandwidth=5e9, latency=5e-6,
             block=64):  # fmt: skip
    """Communication per update for Adam and per iteration for L-BFGS (printed)."""
    grad = 8 * (n_weights + 6)  # bytes of one contribution (a structure's or a block's)
    adam = batch * grad  # small batches: every block is shared, one vector per structure
    lbfgs = (structures // block + ranks) * grad  # whole blocks summed on their rank
    print(f"\nestimate for {ranks} ranks, N_w = {n_weights}, {bandwidth / 1e9:g} GB/s, "
          f"{latency * 1e6:g} us latency:")  # fmt: skip
    print(f"  Adam, batch {batch}: gather {adam / 1e3:.0f} kB to rank 0 per update "
          f"(~{1e3 * (adam / bandwidth + ranks * latency):.2f} ms) + broadcast "
          f"{grad / 1e3:.0f} kB; only {min(batch, ranks)} of {ranks} ranks have work: "
          f"batches of >= {ranks} structures are needed")  # fmt: skip
    print(f"  L-BFGS, {structures:,} structures: gather {lbfgs / 1e6:.1f} MB to rank 0 per "
          f"iteration (~{1e3 * lbfgs / bandwidth:.1f} ms), {structures // block + ranks} vector "
          f"additions there; compute per rank {structures // ranks} structures")  # fmt: skip
    m = 1  # n2p2's default forces_per_update
    print(f"  Kalman: per update one broadcast of the error (8 B per candidate) and of the "
          f"Jacobian rows from the owning rank ({8 * n_weights * m / 1e3:.0f} kB for m = {m}); "
          f"P is N_w^2 = {8 * n_weights**2 / 1e6:.0f} MB on every rank ({ranks} x that in "
          f"all); the update, ~{4 * n_weights**2 * m / 1e6:.0f} Mflop (O(N_w^2 m)), is "
          f"replicated, not divided: only the error and Jacobian (one structure's "
          f"forward/backward pass, or m structures' with force_selection = 'components') "
          f"are shared out, so the speed-up stays below about 2 whatever the ranks")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--ranks", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--store", default="/tmp/nnp_ref_store_mpi")
    parser.add_argument("--estimate", action="store_true", help="only print the estimate")
    args = parser.parse_args()
    if not args.estimate:
        shutil.rmtree(args.store, ignore_errors=True)
        args.model = prepare(args.n, args.store)
        t0 = time.perf_counter()
        serial = run(args, 0)  # builds the store
        print(f"store built and serial run done in {time.perf_counter() - t0:.0f} s")
        print(f"{'ranks':>6s} {'update s/epoch':>15s} {'epoch s':>8s} {'speed-up':>9s} "
              f"{'peak MB per rank':>20s}")  # fmt: skip
        print(f"{'serial':>6s} {serial['update']:15.2f} {serial['epoch']:8.2f} {'':9s} "
              f"{' '.join(f'{p:.0f}' for p in serial['peaks']):>20s}")  # fmt: skip
        base = None
        for n_ranks in args.ranks:
            r = run(args, n_ranks)
            base = base or r["update"]
            print(f"{n_ranks:6d} {r['update']:15.2f} {r['epoch']:8.2f} "
                  f"{base / r['update']:9.2f} {' '.join(f'{p:.0f}' for p in r['peaks']):>20s}",
                  flush=True)  # fmt: skip
    estimate(batch=args.batch)


if __name__ == "__main__":
    main()
