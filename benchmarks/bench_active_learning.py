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
  exploring by committee MD instead of a pool (its own candidates, EMT
  labels): from random's first N_0 structures, MD of bulk, strained cells,
  vacancies, divacancies and (100)/(110)/(111) slabs at 300/900/1500 K,
  candidates in the trust window [0.05, 0.5] eV/Å, 8 labels per iteration;
  every committee trained from scratch with the recipe of the other
  strategies (``--md-loop-warm``: also the variant with warm starts).

    python benchmarks/bench_active_learning.py            # reduced: about 5 minutes
    python benchmarks/bench_active_learning.py --sizes 8,16,32,64 --iterations 400 \
        --md-loop --seeds 0,1,2                           # the issue's experiment
    python benchmarks/bench_active_learning.py --aggregate --out DIR   # combine DIR/seed_*

Per seed (pool, test set and initial set from the seed) in ``--out``/seed_S:
``learning_curves.csv``, ``calibration.png`` (error vs committee spread of the
last random committee) and the MD loop's workdir. In ``--out``: the mean and
std over seeds (``learning_curves_mean.csv``), ``learning_curves.png``
(log-log, error bars over seeds) and "N needed to reach the random
selection's final error", per seed and for the mean curves.
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


MD_STARTS = ("bulk", "strained", "vacancy", "divacancy", "surface100", "surface110", "surface111")


def md_loop(out, initial, test, seed, iterations, max_labels, warm_start=False):
    """The MD-driven loop (``run_active_learning``) with test errors per iteration.

    It starts from ``initial`` (random's first N_0 structures, relabelled by
    the loop) and explores what the test set holds: bulk, strained cells,
    vacancies, divacancies and three surfaces at 300, 900 and 1500 K.
    ``warm_start=False``: every committee is trained from scratch with the
    recipe of the other strategies, so only the data differ.
    """
    from nnp_ref.active_learning import ActiveLearningConfig, run_active_learning
    from nnp_ref.data.datasets import write_extxyz

    out.mkdir(parents=True, exist_ok=True)
    write_extxyz(out / "initial.extxyz", initial)
    warm = iterations // 2
    cfg = ActiveLearningConfig(
        workdir=str(out / ("md_loop_warm" if warm_start else "md_loop")), seed=seed,
        initial_structures=str(out / "initial.extxyz"), repeat=(2, 2, 2), starts=MD_STARTS,
        temperatures=(300.0, 900.0, 1500.0), steps=80, sample_every=8, n_members=2,
        hidden=(10, 10), epochs=iterations, warm_epochs=warm, warm_start=warm_start, n_select=8,
        max_labels=max_labels, max_iterations=40, target_force_std=0.02, trust_lo=0.05,
        trust_hi=0.5, optimizer="lbfgs", **SF,
    )  # fmt: skip
    result = run_active_learning(cfg, test_set=test, progress=False)
    return md_loop_rows(result, "active (MD loop, warm)" if warm_start else "active (MD loop)")


def md_loop_rows(result, name):
    """Print every iteration of an MD-driven loop's result; its learning-curve rows."""
    print(f"MD loop: {result.stopped}")
    for r in result.reports:
        print(f"{name:>16s} N={r['n_train']:4d}: {r['test_rmse_energy_meV_per_atom']:7.2f} "
              f"meV/atom {r['test_rmse_force_meV_per_A']:7.1f} meV/Å; MD frames "
              f"{r['md_frames']}: accurate {r['n_accurate']}, candidates {r['n_candidates']}, "
              f"beyond trust {r['n_beyond_trust']}, max spread "
              f"{1e3 * r['md_max_force_std']:.0f} meV/Å", flush=True)  # fmt: skip
    return [{"strategy": name, "n": r["n_train"],
             "test_rmse_energy_meV_per_atom": r["test_rmse_energy_meV_per_atom"],
             "test_rmse_force_meV_per_A": r["test_rmse_force_meV_per_A"]}
            for r in result.reports]  # fmt: skip


KEYS = (("test_rmse_force_meV_per_A", "meV/Å", "force RMSE (meV/Å)"),
        ("test_rmse_energy_meV_per_atom", "meV/atom", "energy RMSE (meV/atom)"))  # fmt: skip


def n_to_reach(rows, target, key):
    """Smallest N of a curve whose error is <= target (None if never)."""
    hits = [r["n"] for r in rows if r[key] <= target]
    return min(hits) if hits else None


def mean_curves(rows):
    """Per strategy and N over the seeds: mean and sample std of each error, seed count."""
    out = []
    for name in dict.fromkeys(r["strategy"] for r in rows):
        for n in sorted({r["n"] for r in rows if r["strategy"] == name}):
            group = [r for r in rows if r["strategy"] == name and r["n"] == n]
            row = {"strategy": name, "n": n, "seeds": len(group)}
            for key, _, _ in KEYS:
                x = np.array([r[key] for r in group], dtype=float)
                row[key] = float(x.mean())
                row[key + "_std"] = float(x.std(ddof=1)) if x.size > 1 else 0.0
            out.append(row)
    return out


def plot(curves, path):
    """Log-log learning curves (mean over seeds, error bars: std over seeds)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, (key, _, label) in zip(axes, KEYS):
        for name in dict.fromkeys(r["strategy"] for r in curves):
            pts = sorted((r["n"], r[key], r[key + "_std"]) for r in curves
                         if r["strategy"] == name)  # fmt: skip
            n, y, dy = (np.array(v) for v in zip(*pts))
            ax.errorbar(n, y, yerr=dy, fmt="o-", capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({r["n"] for r in curves})
        ax.xaxis.set_minor_locator(NullLocator())  # only the N we ran: no "3x10^1" clutter
        ax.set_xticks(ticks, [f"{n:g}" for n in ticks])
        ax.set_xlabel("reference calculations N")
        ax.set_ylabel(f"test {label}")
        ax.legend(fontsize=8)
    seeds = max(r["seeds"] for r in curves)
    fig.suptitle(f"EMT copper: test error vs number of reference calculations ({seeds} seeds)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_csv(rows, path):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path):
    with open(path, newline="") as handle:
        return [{k: (v if k == "strategy" else float(v)) for k, v in r.items()}
                for r in csv.DictReader(handle)]  # fmt: skip


def summarise(rows, curves):
    """Print the N each strategy needs to reach random's final error, per seed and on the
    means over seeds."""
    if not any(r["strategy"] == "random" for r in rows):
        return
    names = list(dict.fromkeys(r["strategy"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    for key, unit, _ in KEYS:
        final = [r for r in curves if r["strategy"] == "random"][-1]
        print(f"\nrandom N={final['n']:g}: {final[key]:.2f} +- {final[key + '_std']:.2f} {unit} "
              f"(mean +- std over {final['seeds']} seeds); N needed to reach it:")  # fmt: skip
        for name in names:
            n = n_to_reach([r for r in curves if r["strategy"] == name], final[key], key)
            per_seed = []
            for seed in seeds:
                mine = [r for r in rows if r["seed"] == seed]
                target = [r for r in mine if r["strategy"] == "random"][-1][key]
                hit = n_to_reach([r for r in mine if r["strategy"] == name], target, key)
                per_seed.append(f"{hit:g}" if hit else "-")
            ratio = f"{n / final['n']:.2f} of random's" if n else "not reached"
            print(f"  {name:>22s}: mean curve {f'{n:g}' if n else '-':>4} ({ratio}); "
                  f"per seed {', '.join(per_seed)}")  # fmt: skip


def run_seed(args, seed, out):
    """Every strategy for one seed (pool, test set and initial set from the seed)."""
    n_pool, n_test = (400, 100) if args.full else (100, 40)
    sizes = (8, 16, 32, 64, 128) if args.full else (8, 16, 32)
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    iterations = args.iterations or (200 if args.full else 120)
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    pool = generate_reference_data(kind="emt-cu", n_structures=n_pool, seed=1000 + seed,
                                   repeats=((2, 2, 2),), progress=False)  # fmt: skip
    test = generate_reference_data(kind="emt-cu", n_structures=n_test, seed=2000 + seed,
                                   repeats=((2, 2, 2),), progress=False)  # fmt: skip
    print(f"seed {seed}: pool {n_pool}, test {n_test} structures (EMT Cu, 30-32 atoms and "
          f"slabs), {time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    order = np.random.default_rng(seed).permutation(n_pool)
    strategies = [x for x in args.strategies.split(",") if x]
    rows, last = [], {}
    if "random" in strategies:
        rows += curve("random", [(n, [pool[i] for i in order[:n]]) for n in sizes], test,
                      seed, iterations, keep=last)  # fmt: skip
        cal = calibrate(last["random"], test)
        plot_calibration(cal, path=out / "calibration.png")
        print(f"calibration of the random N={sizes[-1]} committee on the test set:\n"
              f"{cal.summary()}")  # fmt: skip
    if "fps" in strategies:
        fps_order = fps_rows(pool_features(pool), max(sizes), initial=int(order[0]))
        rows += curve("fps", [(n, [pool[i] for i in fps_order[:n]]) for n in sizes], test,
                      seed, iterations)  # fmt: skip
    if "active" in strategies:
        rows += active_pool(pool, sizes, test, seed, iterations)
    initial = [pool[i] for i in order[: sizes[0]]]
    if args.full or args.md_loop:
        rows += md_loop(out, initial, test, seed, iterations, max(sizes))
    if args.md_loop_warm:
        rows += md_loop(out, initial, test, seed, iterations, max(sizes), warm_start=True)
    rows = [{"seed": seed, **r} for r in rows]
    write_csv(rows, out / "learning_curves.csv")
    print(f"seed {seed}: {time.perf_counter() - t0:.0f} s", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="pool 400, N up to 128, MD loop")
    parser.add_argument("--md-loop", action="store_true", help="also run the MD-driven loop")
    parser.add_argument("--md-loop-warm", action="store_true",
                        help="also the MD-driven loop with warm-started retraining")  # fmt: skip
    parser.add_argument(
        "--strategies",
        default="random,fps,active",
        help="pool strategies to run (comma-separated; '' for none)",
    )
    parser.add_argument("--sizes", help="comma-separated N (default 8,16,32; full: ...,128)")
    parser.add_argument("--iterations", type=int, help="L-BFGS iterations per committee")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    parser.add_argument("--aggregate", action="store_true",
                        help="run nothing: combine --out/seed_*/learning_curves.csv")  # fmt: skip
    parser.add_argument("--out", default="/tmp/nnp_ref_bench_active_learning")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = []
    if args.aggregate:
        for path in sorted(out.glob("seed_*/learning_curves.csv")):
            rows += read_csv(path)
    else:
        for seed in (int(s) for s in args.seeds.split(",")):
            rows += run_seed(args, seed, out / f"seed_{seed}")
    curves = mean_curves(rows)
    write_csv(curves, out / "learning_curves_mean.csv")
    plot(curves, out / "learning_curves.png")
    print("\nmean +- std over seeds (force meV/Å, energy meV/atom):")
    for r in curves:
        print(f"  {r['strategy']:>22s} N={r['n']:4g}: {r['test_rmse_force_meV_per_A']:6.1f} +- "
              f"{r['test_rmse_force_meV_per_A_std']:5.1f}   "
              f"{r['test_rmse_energy_meV_per_atom']:6.2f} +- "
              f"{r['test_rmse_energy_meV_per_atom_std']:5.2f}  ({r['seeds']} seeds)")  # fmt: skip
    summarise(rows, curves)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; results in {out}")


if __name__ == "__main__":
    main()
