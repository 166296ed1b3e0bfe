"""Train on the default EMT copper data set; test RMSEs, wall time, throughput.

Target (training issue): held-out test RMSE <= 2 meV/atom (energies) and
<= 50 meV/Å (forces) after at most 5 minutes of training on 2 cores.

Steps: generate the default data set (400 structures of 30-108 Cu atoms,
EMT, MD at 300-1500 K, strains, vacancies, surfaces; seed 0, no cache, so the
generation time is measured), split 80/10/10 (seed 0), default symmetry
functions (rc = 5.5 Å, 32 per atom), 2x25 tanh networks, then train with each
optimiser for at most ``--budget`` seconds (the whole loop: updates plus the
per-epoch errors). The test set is evaluated through ``nnp_ref.evaluate``
(the calculator's code path), independent of the training code.

    python benchmarks/bench_train_cu.py [--optimizers kalman,adam,lbfgs]
                                        [--budget 300] [--out /tmp/nnp_ref_bench_train_cu]

Writes into ``--out``: ``<optimizer>/best_model.json``, ``history.csv``,
and ``learning_curves.png``, ``parity_<optimizer>.png``.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba  # noqa: E402
from _common import peak_memory_mb  # noqa: E402

from nnp_ref.analysis.errors import (  # noqa: E402
    metrics,
    parity_plot,
    plot_learning_curve,
    predict_dataset,
)
from nnp_ref.data.datasets import default_dataset, split_random  # noqa: E402
from nnp_ref.training.preprocessing import compute_descriptors  # noqa: E402
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential  # noqa: E402

SETTINGS = {
    # n2p2-style Kalman filter, more force information per update (8 components).
    "kalman": dict(kalman=dict(force_fraction=0.05, forces_per_update=8)),
    "adam": dict(learning_rate=2e-3, batch_size=4, lr_decay=0.99),
    "lbfgs": dict(lbfgs_memory=20),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", default="kalman,adam,lbfgs")
    parser.add_argument("--budget", type=float, default=300.0, help="seconds per optimiser")
    parser.add_argument("--n-structures", type=int, default=400)
    parser.add_argument("--out", default="/tmp/nnp_ref_bench_train_cu")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"Numba threads: {numba.get_num_threads()}")

    t = time.perf_counter()
    structures = default_dataset(n_structures=args.n_structures, seed=0, cache=False,
                                 progress=False)  # fmt: skip
    t_data = time.perf_counter() - t
    n_atoms = [len(a) for a in structures]
    print(f"data: {len(structures)} structures ({min(n_atoms)}-{max(n_atoms)} atoms), "
          f"generated in {t_data:.1f} s")  # fmt: skip
    split = split_random(structures, validation=0.1, test=0.1, seed=0)
    print(f"split: {split}")

    t = time.perf_counter()
    potential, train_desc = build_potential(split.train, rc=5.5, hidden=(25, 25), seed=0,
                                            progress=False)  # fmt: skip
    val_desc = compute_descriptors(split.validation, potential.descriptor, progress=False)
    t_desc = time.perf_counter() - t
    print(f"descriptors + setup: {t_desc:.1f} s, "
          f"{len(potential.symmetry_functions['Cu'])} symmetry functions per atom")  # fmt: skip

    histories, labels, rows = [], [], []
    for name in args.optimizers.split(","):
        config = TrainingConfig(optimizer=name, epochs=100000, max_time=args.budget, seed=0,
                                progress=False, checkpoint_dir=str(out / name),
                                **SETTINGS[name])  # fmt: skip
        trainer = Trainer(
            potential, split.train, split.validation, config,
            train_descriptors=train_desc, validation_descriptors=val_desc,
        )  # fmt: skip
        result = trainer.fit()
        pred = predict_dataset(result.potential, split.test)
        m = metrics(pred)
        fig = parity_plot(pred)
        fig.savefig(out / f"parity_{name}.png", dpi=120)
        histories.append(result.history)
        labels.append(name)
        # epoch at which validation first met both targets
        reached = next((h for h in result.history
                        if h["rmse_energy_validation_meV_per_atom"] <= 2.0
                        and h["rmse_force_validation_meV_per_A"] <= 50.0), None)  # fmt: skip
        rows.append((name, result, m, reached))
        print(f"\n[{name}] {result.stopped}; {len(result.history) - 1} epochs in "
              f"{result.wall_time:.1f} s (updates {result.update_time:.1f} s), best epoch "
              f"{result.best_epoch}")  # fmt: skip
        if reached:
            print(f"  validation below both targets first at epoch {int(reached['epoch'])}, "
                  f"{reached['wall_time_s']:.1f} s")  # fmt: skip
        print(
            f"  test RMSE energy {m['rmse_energy_meV_per_atom']:.3f} meV/atom "
            f"(MAE {m['mae_energy_meV_per_atom']:.3f}), forces "
            f"{m['rmse_force_meV_per_A']:.2f} meV/Å (MAE {m['mae_force_meV_per_A']:.2f})"
        )
        print(
            f"  throughput {result.structures_per_second:.0f} structures/s per epoch "
            "(with force training)"
        )

    fig = plot_learning_curve(histories, labels=labels)
    fig.savefig(out / "learning_curves.png", dpi=120)
    print("\nsummary (targets: test <= 2 meV/atom, <= 50 meV/Å within 300 s of training)")
    print(f"{'optimizer':10s} {'E test':>10s} {'F test':>10s} {'time (s)':>9s} "
          f"{'epochs':>7s} {'struct/s':>9s}  meets target")  # fmt: skip
    for name, result, m, _ in rows:
        ok = (m["rmse_energy_meV_per_atom"] <= 2.0 and m["rmse_force_meV_per_A"] <= 50.0
              and result.wall_time <= 300.0 + 1.0)  # fmt: skip
        print(f"{name:10s} {m['rmse_energy_meV_per_atom']:10.3f} {m['rmse_force_meV_per_A']:10.2f} "
              f"{result.wall_time:9.1f} {len(result.history) - 1:7d} "
              f"{result.structures_per_second:9.0f}  {'yes' if ok else 'no'}")  # fmt: skip
    print(f"data generation {t_data:.1f} s, descriptors {t_desc:.1f} s, "
          f"peak memory {peak_memory_mb():.0f} MB; outputs in {out}")  # fmt: skip


if __name__ == "__main__":
    main()
