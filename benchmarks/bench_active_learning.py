"""Test error against the number of reference calculations: random, FPS and active learning.

The experiment of the active-learning issue, on EMT copper (MD snapshots at
300-1500 K, strained and rattled bulk, vacancies, (100)/(110)/(111) surfaces;
32-atom cells). A pool of labelled structures stands for "structures we
could compute"; a strategy decides which N of them are computed, a committee
(2 members, L-BFGS) is trained on those N, and its mean is scored on a fixed,
independent test set (another seed). Strategies:

- random: the first N of a random permutation (the learning curve: error vs N);
- fps: farthest-point sampling on per-structure features (mean symmetry
  functions, standardised), no labels needed;
- active (pool): start from the random first N_0; each round the committee
  trained on the current set scores every pool structure by its force spread
  (+ extrapolation), and the next batch is the most uncertain, diversified by
  FPS (``nnp_ref.active_learning.loop.select``);
- active (MD loop, ``--md-loop``): the real loop, ``run_active_learning``,
  exploring by committee MD instead of a pool (its own candidates, EMT labels).

    python benchmarks/bench_active_learning.py            # reduced: about 5 minutes
    python benchmarks/bench_active_learning.py --full     # pool 400, N up to 128, MD loop

Prints a table and "N needed to reach the random selection's final error";
writes ``learning_curves.csv``, ``learning_curves.png`` (log-log) and
``calibration.png`` (error vs committee spread of the last random committee) to ``--out``.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from nnp_ref.active_learning.loop import select, test_errors  # noqa: E402
from nnp_ref.data.datasets import generate_reference_data  # noqa: E402
from nnp_ref.model.committee import evaluate_committee_atoms  # noqa: E402
from nnp_ref.selection.fps import fps_rows  # noqa: E402
from nnp_ref.training.committee import (  # noqa: E402
    calibrate,
    plot_calibration,
    train_committee,
)
from nnp_ref.training.preprocessing import (  # noqa: E402
    compute_descriptors,
    default_symmetry_functions,
)
from nnp_ref.training.trainer import TrainingConfig  # noqa: E402

SF = dict(rc=5.0, n_radial=6, n_angular=2, r_lower=2.0)


def fit(structures, seed, iterations):
    config = TrainingConfig(optimizer="lbfgs", epochs=iterations, progress=False)
    return train_committee(structures, 2, config, seed=seed, hidden=(10, 10), progress=False,
                           **SF).committee  # fmt: skip


def pool_features(pool):
    """Per structure: mean raw symmetry functions, standardised over the pool."""
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet

    sfset = SymmetryFunctionSet(default_symmetry_functions(("Cu",), **SF), ("Cu",))
    descriptors = compute_descriptors(pool, sfset, with_derivatives=False, progress=False)
    X = np.array([d.G_ns.mean(axis=0) for d in descriptors])
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)


def curve(name, subsets, test, seed, iterations, keep=None):
    rows = []
    for n, structures in subsets:
        t = time.perf_counter()
        committee = fit(structures, seed, iterations)
        if keep is not None:
            keep[name] = committee
        err = test_errors(committee, test)
        rows.append({"strategy": name, "n": n, **err})
        print(f"{name:>14s} N={n:4d}: {err['test_rmse_energy_meV_per_atom']:7.2f} meV/atom "
              f"{err['test_rmse_force_meV_per_A']:7.1f} meV/Å  ({time.perf_counter() - t:.0f} s)",
              flush=True)  # fmt: skip
    return rows


def active_pool(pool, sizes, test, seed, iterations):
    """Pool-based active learning: grow the set to each size by committee disagreement."""
    from nnp_ref.active_learning.config import ActiveLearningConfig

    cfg = ActiveLearningConfig(target_force_std=1e-9, pool_factor=3, extrapolation_weight=0.1)
    rng = np.random.default_rng(seed)
    chosen = list(rng.permutation(len(pool))[: sizes[0]])
    rows = []
    for k, n in enumerate(sizes):
        t = time.perf_counter()
        committee = fit([pool[i] for i in chosen], seed, iterations)
        err = test_errors(committee, test)
        rows.append({"strategy": "active (pool)", "n": n, **err})
        print(f"{'active (pool)':>14s} N={n:4d}: {err['test_rmse_energy_meV_per_atom']:7.2f} "
              f"meV/atom {err['test_rmse_force_meV_per_A']:7.1f} meV/Å  "
              f"({time.perf_counter() - t:.0f} s)", flush=True)  # fmt: skip
        if k + 1 == len(sizes):
            break
        rest = [i for i in range(len(pool)) if i not in set(chosen)]
        frames = []
        for i in rest:
            r = evaluate_committee_atoms(committee, pool[i], stress=False)
            frame = pool[i].copy()
            frame.info.update(max_force_std=float(r.forces_std_n.max()),
                              max_extrapolation=r.extrapolation.max_distance)  # fmt: skip
            frames.append(frame)
        picked = select(frames, committee, cfg, sizes[k + 1] - n)
        chosen += [rest[j] for j in picked]
    return rows


def md_loop(out, test, seed, iterations, max_labels):
    """The MD-driven loop (``run_active_learning``) with test errors per iteration."""
    from nnp_ref.active_learning import ActiveLearningConfig, run_active_learning

    cfg = ActiveLearningConfig(
        workdir=str(out / "md_loop"), seed=seed, n_initial=8, repeat=(2, 2, 2),
        temperatures=(600.0, 1200.0), steps=100, sample_every=10, n_members=2, hidden=(10, 10),
        epochs=iterations, warm_epochs=iterations // 2, n_select=8, max_labels=max_labels,
        max_iterations=20, target_force_std=0.02, optimizer="lbfgs", **SF,
    )  # fmt: skip
    result = run_active_learning(cfg, test_set=test, progress=False)
    print(f"MD loop: {result.stopped}")
    return [{"strategy": "active (MD loop)", "n": r["n_train"],
             "test_rmse_energy_meV_per_atom": r["test_rmse_energy_meV_per_atom"],
             "test_rmse_force_meV_per_A": r["test_rmse_force_meV_per_A"]}
            for r in result.reports]  # fmt: skip


def n_to_reach(rows, target, key):
    """Smallest N of a curve whose error is <= target (None if never)."""
    hits = [r["n"] for r in rows if r[key] <= target]
    return min(hits) if hits else None


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    keys = (("test_rmse_energy_meV_per_atom", "energy RMSE (meV/atom)"),
            ("test_rmse_force_meV_per_A", "force RMSE (meV/Å)"))  # fmt: skip
    for ax, (key, label) in zip(axes, keys):
        for name in dict.fromkeys(r["strategy"] for r in rows):
            pts = sorted((r["n"], r[key]) for r in rows if r["strategy"] == name)
            ax.loglog(*zip(*pts), "o-", label=name)
        ax.set_xlabel("reference calculations N")
        ax.set_ylabel(f"test {label}")
        ax.legend(fontsize=8)
    fig.suptitle("EMT copper: test error vs number of reference calculations")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="pool 400, N up to 128, MD loop")
    parser.add_argument("--md-loop", action="store_true", help="also run the MD-driven loop")
    parser.add_argument(
        "--strategies",
        default="random,fps,active",
        help="pool strategies to run (comma-separated; '' for none)",
    )
    parser.add_argument("--sizes", help="comma-separated N (default 8,16,32; full: ...,128)")
    parser.add_argument("--iterations", type=int, help="L-BFGS iterations per committee")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/nnp_ref_bench_active_learning")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n_pool, n_test = (400, 100) if args.full else (100, 40)
    sizes = (8, 16, 32, 64, 128) if args.full else (8, 16, 32)
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    iterations = args.iterations or (200 if args.full else 120)
    t0 = time.perf_counter()
    pool = generate_reference_data(kind="emt-cu", n_structures=n_pool, seed=1000 + args.seed,
                                   repeats=((2, 2, 2),), progress=False)  # fmt: skip
    test = generate_reference_data(kind="emt-cu", n_structures=n_test, seed=2000 + args.seed,
                                   repeats=((2, 2, 2),), progress=False)  # fmt: skip
    print(f"pool {n_pool}, test {n_test} structures (EMT Cu, 30-32 atoms and slabs), "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n_pool)
    strategies = [x for x in args.strategies.split(",") if x]
    rows, last = [], {}
    if "random" in strategies:
        rows += curve("random", [(n, [pool[i] for i in order[:n]]) for n in sizes], test,
                      args.seed, iterations, keep=last)  # fmt: skip
        cal = calibrate(last["random"], test)
        plot_calibration(cal, path=out / "calibration.png")
        print(f"calibration of the random N={sizes[-1]} committee on the test set:\n"
              f"{cal.summary()}")  # fmt: skip
    if "fps" in strategies:
        fps_order = fps_rows(pool_features(pool), max(sizes), initial=int(order[0]))
        rows += curve("fps", [(n, [pool[i] for i in fps_order[:n]]) for n in sizes], test,
                      args.seed, iterations)  # fmt: skip
    if "active" in strategies:
        rows += active_pool(pool, sizes, test, args.seed, iterations)
    if args.full or args.md_loop:
        rows += md_loop(out, test, args.seed, iterations, max_labels=max(sizes))
    with open(out / "learning_curves.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "learning_curves.png")
    for key, unit in (("test_rmse_force_meV_per_A", "meV/Å"),
                      ("test_rmse_energy_meV_per_atom", "meV/atom")):  # fmt: skip
        if not any(r["strategy"] == "random" for r in rows):
            break
        final = [r for r in rows if r["strategy"] == "random"][-1]
        print(f"\nrandom N={final['n']}: {final[key]:.2f} {unit}; N needed to reach it:")
        for name in dict.fromkeys(r["strategy"] for r in rows):
            n = n_to_reach([r for r in rows if r["strategy"] == name], final[key], key)
            ratio = f"{n / final['n']:.2f} of random's" if n else "not reached"
            print(f"  {name:>16s}: {n if n else '-':>4}  ({ratio})")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; results in {out}")


if __name__ == "__main__":
    main()
