"""Active learning with live PySCF labels on water clusters, against random selection.

The water half of the active-learning issue's experiment, reduced to what
fits about half an hour of one core: (H2O)_2 to (H2O)_4 clusters at
PBE/def2-SVP (density fitting, the settings of the shipped data set,
:mod:`nnp_ref.data.make_water_clusters`).

- Test set: the shipped clusters of those sizes tagged ``set="test"`` plus
  ``--extra-test`` more held out from the ``train`` ones (seeded).
- random: a committee trained on the first N of a random permutation of the
  remaining shipped clusters (labels already computed: no PySCF needed).
- active (MD loop): :func:`nnp_ref.active_learning.run_active_learning`
  from random's first N_0 = 32 clusters; committee Langevin MD (0.5 fs) of
  ``--n-starts`` pool clusters of each size at 150, 300 and 450 K; frames in
  the trust window are labelled **live with PySCF** (8 per iteration) until
  the budget ``--max-labels`` is spent. The initial clusters' labels are
  taken from the shipped file (the same method; no recomputation).

Both use the same committee recipe (2 members, Adam, the water demo's
symmetry functions), so only the data differ. Prints the test errors
against N, the trust-window counts per iteration and the measured PySCF
seconds per label; writes ``learning_curves.csv`` and
``learning_curves.png`` (log-log) to ``--out``.

    python benchmarks/bench_active_learning_water.py               # ~30 min of one core
    python benchmarks/bench_active_learning_water.py --n-initial 8 --max-labels 16 --epochs 20
"""

import argparse
import csv
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from bench_active_learning import md_loop_rows  # noqa: E402  (benchmarks/ is the script's folder)

from nnp_ref.active_learning.loop import test_errors  # noqa: E402
from nnp_ref.data.database import structure_key  # noqa: E402
from nnp_ref.data.datasets import reference_energy, reference_forces  # noqa: E402
from nnp_ref.data.labellers import Label  # noqa: E402
from nnp_ref.training.committee import train_committee  # noqa: E402
from nnp_ref.training.trainer import TrainingConfig  # noqa: E402

SF = dict(rc=6.0, n_radial=10, n_angular=2, r_lower=0.8)
HIDDEN = (10, 10)
LEARNING_RATE = 1e-3


class ShippedFirst:
    """A labeller: the shipped label when the geometry is a shipped cluster, else PySCF live
    (same method and settings, so both are the same reference). Counts the live calls."""

    def __init__(self, shipped, threads=1):
        from nnp_ref.data.make_water_clusters import make_labeller

        self.inner = make_labeller(threads=threads)
        self.identity = self.inner.identity
        self.known = {structure_key(a, self.identity): a for a in shipped}
        self.live_seconds: list[float] = []

    def check(self, atoms, name):
        self.inner.check(atoms, name)

    def __call__(self, atoms):
        hit = self.known.get(structure_key(atoms, self.identity))
        if hit is not None:
            return Label(reference_energy(hit), reference_forces(hit),
                         {"method": self.identity, "shipped": True})  # fmt: skip
        t = time.perf_counter()
        label = self.inner(atoms)
        self.live_seconds.append(time.perf_counter() - t)
        return label


def fit(structures, seed, epochs):
    config = TrainingConfig(optimizer="adam", epochs=epochs, learning_rate=LEARNING_RATE,
                            batch_size=8, progress=False)  # fmt: skip
    return train_committee(structures, 2, config, seed=seed, hidden=HIDDEN, progress=False,
                           **SF).committee  # fmt: skip


def split(data, sizes, n_extra_test, seed):
    """(pool, test): shipped test clusters of ``sizes`` + ``n_extra_test`` held-out train ones."""
    mine = [a for a in data if a.info["n_molecules"] in sizes]
    train = [a for a in mine if a.info.get("set") != "test"]
    order = np.random.default_rng(10_000 + seed).permutation(len(train))
    test = [a for a in mine if a.info.get("set") == "test"]
    test += [train[i] for i in order[:n_extra_test]]
    pool = [train[i] for i in order[n_extra_test:]]
    return pool, test


def md_loop(out, pool, initial, test, args, labeller):
    from nnp_ref.active_learning import ActiveLearningConfig, run_active_learning
    from nnp_ref.data.datasets import write_extxyz

    starts = []
    for n in args.sizes:
        starts += [a for a in pool[args.n_initial :] if a.info["n_molecules"] == n][: args.n_starts]
    write_extxyz(out / "initial.extxyz", initial)
    write_extxyz(out / "starts.extxyz", starts)
    cfg = ActiveLearningConfig(
        workdir=str(out / "md_loop"), seed=args.seed, labeller="pyscf (shipped first)",
        initial_structures=str(out / "initial.extxyz"),
        start_structures=str(out / "starts.extxyz"), temperatures=(150.0, 300.0, 450.0),
        steps=args.md_steps, dt_fs=0.5, sample_every=args.md_steps // 10, n_members=2,
        hidden=HIDDEN, epochs=args.epochs, warm_start=False, n_select=8,
        max_labels=args.max_labels, max_iterations=40, target_force_std=0.05,
        trust_lo=args.trust_lo, trust_hi=args.trust_hi, optimizer="adam",
        learning_rate=LEARNING_RATE, batch_size=8, **SF,
    )  # fmt: skip
    result = run_active_learning(cfg, labeller=labeller, test_set=test, progress=False)
    return md_loop_rows(result, "active (MD loop)")


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
    fig.suptitle("water clusters, PBE/def2-SVP: test error vs reference calculations")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2,3,4", help="cluster sizes (molecules)")
    parser.add_argument("--n-initial", type=int, default=32)
    parser.add_argument("--max-labels", type=int, default=64, help="budget incl. the initial")
    parser.add_argument("--extra-test", type=int, default=30)
    parser.add_argument("--n-starts", type=int, default=2, help="MD starts per size")
    parser.add_argument("--md-steps", type=int, default=200)
    parser.add_argument("--trust-lo", type=float, default=0.3, help="eV/Å")
    parser.add_argument("--trust-hi", type=float, default=3.0, help="eV/Å")
    parser.add_argument("--epochs", type=int, default=200, help="Adam epochs per committee")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="/tmp/nnp_ref_bench_al_water")
    args = parser.parse_args()
    args.sizes = tuple(int(n) for n in args.sizes.split(","))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from nnp_ref.data.make_water_clusters import load

    t0 = time.perf_counter()
    data = load()
    pool, test = split(data, args.sizes, args.extra_test, args.seed)
    order = np.random.default_rng(args.seed).permutation(len(pool))
    pool = [pool[i] for i in order]  # random order: random's first N are pool[:N]
    print(f"(H2O)_n, n in {args.sizes}: pool {len(pool)}, test {len(test)} clusters", flush=True)
    rows = []
    sizes = list(range(args.n_initial, args.max_labels + 1, 8))
    for n in sizes:
        t = time.perf_counter()
        err = test_errors(fit(pool[:n], args.seed, args.epochs), test)
        rows.append({"strategy": "random", "n": n, **err})
        print(f"          random N={n:3d}: {err['test_rmse_energy_meV_per_atom']:7.2f} meV/atom "
              f"{err['test_rmse_force_meV_per_A']:7.1f} meV/Å ({time.perf_counter() - t:.0f} s)",
              flush=True)  # fmt: skip
    labeller = ShippedFirst(data)
    rows += md_loop(out, pool, pool[: args.n_initial], test, args, labeller)
    seconds = labeller.live_seconds  # this run's PySCF calls (not those of a resumed part)
    if seconds:
        print(f"PySCF: {len(seconds)} live labels, {np.mean(seconds):.1f} s per label "
              f"(min {np.min(seconds):.1f}, max {np.max(seconds):.1f}), total "
              f"{np.sum(seconds) / 60:.1f} min")  # fmt: skip
    with open(out / "learning_curves.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot(rows, out / "learning_curves.png")
    final = [r for r in rows if r["strategy"] == "random"][-1]
    for key, unit in (("test_rmse_force_meV_per_A", "meV/Å"),
                      ("test_rmse_energy_meV_per_atom", "meV/atom")):  # fmt: skip
        hits = [r["n"] for r in rows if r["strategy"] != "random" and r[key] <= final[key]]
        print(f"random N={final['n']}: {final[key]:.2f} {unit}; MD loop reaches it at N = "
              f"{min(hits) if hits else 'never (within the budget)'}")  # fmt: skip
    print(f"total {time.perf_counter() - t0:.0f} s; results in {out}")


if __name__ == "__main__":
    main()
