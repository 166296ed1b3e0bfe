"""Train n2p2's water example (RPBE-D3, 19/1 split) and compare with n2p2's own run.

Reference (``../shared/n2p2/H2O_RPBE-D3_train``, n2p2 v2.3.0, one process):
Kalman filter, 30 epochs, 46.8 s training loop; final RMSE train
3.40e-5 Ha/atom and 9.47e-3 Ha/Bohr, test 8.38e-5 Ha/atom and 5.09e-3 Ha/Bohr.
Target: lower train and test RMSEs in no more wall time.

Same setup as n2p2: its train.data/test.data split, the symmetry functions of
its input.nn (27 for H, 30 for O, cutoff type 2), 2x25 tanh networks with
Glorot weights and zero biases, scale+center scaling (statistics from the
training set), its normalisation (mean_energy, conv_energy, conv_length) and
atom energies, and its Kalman settings (standard type, epsilon 0.01,
q 0.01 -> 1e-6, eta 0.01 -> 1 with tau 2.302 per epoch, force_weight 10,
energy fraction 1, force fraction 0.0041, threshold selection). Runs:

- ``kalman-n2p2``: exactly n2p2's update plan (19 energy + 24 single force
  component updates per epoch), 30 epochs;
- ``kalman``: the same filter, but 8 force components per force update and
  force fraction 0.03 (23 updates of 8 components), within n2p2's 46.8 s;
- ``adam`` (full batch, lr 1e-2, decay 0.99/epoch) and ``lbfgs``, 46.8 s.

One thread (NUMBA_NUM_THREADS = OPENBLAS_NUM_THREADS = 1, as n2p2's single
process) unless ``--threads 2``. Final-epoch errors are reported (the test
structure is also the "validation" set here, as in n2p2, so no model
selection on it). The learning curves are drawn next to n2p2's
``n2p2-learning-curve.out`` (per epoch and per wall-clock second).

    python benchmarks/bench_train_water.py [--runs kalman-n2p2,kalman,adam,lbfgs]
                                           [--seeds 0] [--out /tmp/nnp_ref_bench_train_water]
"""

import argparse
import os
import sys
import time
import warnings
from pathlib import Path


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="kalman-n2p2,kalman,adam,lbfgs")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds for each run")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=46.8, help="n2p2's training-loop time")
    parser.add_argument("--out", default="/tmp/nnp_ref_bench_train_water")
    return parser.parse_args()


ARGS = parse_args()
os.environ.setdefault("NUMBA_NUM_THREADS", str(ARGS.threads))
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ase.units  # noqa: E402
from _common import N2P2_DIR, peak_memory_mb  # noqa: E402

from nnp_ref.analysis.errors import plot_learning_curve, read_n2p2_learning_curve  # noqa: E402
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet  # noqa: E402
from nnp_ref.io.n2p2 import convert_length, read_data, read_input_nn  # noqa: E402
from nnp_ref.training.preprocessing import compute_descriptors  # noqa: E402
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential  # noqa: E402

HA, HA_BOHR = ase.units.Hartree, ase.units.Hartree / ase.units.Bohr
N2P2_FINAL = {"E_train": 3.39604e-5, "F_train": 9.47202e-3, "E_test": 8.37811e-5,
              "F_test": 5.08899e-3, "time": 46.79}  # fmt: skip
N2P2_KALMAN = dict(kind="standard", epsilon=1e-2, q0=1e-2, qtau=2.302, qmin=1e-6, eta0=1e-2,
                   etatau=2.302, etamax=1.0, energy_fraction=1.0, force_fraction=0.0041,
                   forces_per_update=1, force_update_weight=10.0, energy_threshold=0.0,
                   force_threshold=1.0, threshold_trials=3)  # fmt: skip
RUNS = {
    "kalman-n2p2": dict(optimizer="kalman", epochs=30, kalman=N2P2_KALMAN),
    "kalman": dict(optimizer="kalman", epochs=1000,
                   kalman={**N2P2_KALMAN, "forces_per_update": 8, "force_fraction": 0.03}),
    "adam": dict(optimizer="adam", epochs=100000, learning_rate=1e-2, batch_size=19,
                 lr_decay=0.99),
    "lbfgs": dict(optimizer="lbfgs", epochs=100000),
}  # fmt: skip


def in_hartree(row):
    """History row (meV/atom, meV/Å) -> (E_train, F_train, E_test, F_test) in Ha/atom, Ha/Bohr."""
    return (
        row["rmse_energy_train_meV_per_atom"] * 1e-3 / HA,
        row["rmse_force_train_meV_per_A"] * 1e-3 / HA_BOHR,
        row["rmse_energy_validation_meV_per_atom"] * 1e-3 / HA,
        row["rmse_force_validation_meV_per_A"] * 1e-3 / HA_BOHR,
    )


def main():
    folder = N2P2_DIR / "H2O_RPBE-D3_train"
    if not folder.is_dir():
        sys.exit(f"n2p2 reference files not found in {folder} (set NNP_REF_N2P2_DIR)")
    out = Path(ARGS.out)
    out.mkdir(parents=True, exist_ok=True)
    units = dict(length_unit=ase.units.Bohr, energy_unit=ase.units.Hartree)
    train = read_data(folder / "train.data", **units)
    test = read_data(folder / "test.data", **units)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # training keywords n2p2's predictor does not know
        settings = read_input_nn(folder / "input.nn")
    elements = settings.elements
    sfs = {e: [convert_length(sf, ase.units.Bohr) for sf in settings.symmetry_functions[e]]
           for e in elements}  # fmt: skip
    offsets = {e: (settings.atom_energy[e] + settings.mean_energy) * HA for e in elements}
    u_E = HA / settings.conv_energy  # n2p2's internal energy unit, eV
    u_F = HA_BOHR * settings.conv_length / settings.conv_energy  # internal force unit, eV/Å
    t = time.perf_counter()
    sfset = SymmetryFunctionSet(sfs, elements)
    train_desc = compute_descriptors(train, sfset, progress=False)
    test_desc = compute_descriptors(test, sfset, progress=False)
    t_desc = time.perf_counter() - t
    print(f"{len(train)} training / {len(test)} test structures; symmetry functions "
          f"{ {e: len(sfs[e]) for e in elements} }, computed in {t_desc:.1f} s "
          f"({ARGS.threads} thread(s))")  # fmt: skip

    n2p2 = read_n2p2_learning_curve(folder / "n2p2-learning-curve.out", HA, HA_BOHR)
    for row in n2p2:  # n2p2's log: about 1.56 s per epoch (46.79 s for 30)
        row["wall_time_s"] = row["epoch"] * N2P2_FINAL["time"] / 30
    histories, labels, table = [n2p2], ["n2p2 Kalman"], []
    for name in ARGS.runs.split(","):
        for seed in (int(s) for s in ARGS.seeds.split(",")):
            potential, _ = build_potential(
                train, elements=elements, symmetry_functions=sfs, hidden=(25, 25),
                activations=("t", "t", "l"), init="glorot", energy_offsets=offsets,
                energy_scale=u_E, descriptors=train_desc, seed=seed, progress=False,
            )  # fmt: skip
            config = TrainingConfig(
                **RUNS[name], seed=seed, progress=False, energy_unit=u_E, force_unit=u_F,
                max_time=ARGS.budget, checkpoint_dir=str(out / f"{name}-seed{seed}"),
                checkpoint_every=10**9,  # optimiser state (P: 64 MB) only at the end
            )  # fmt: skip
            trainer = Trainer(potential, train, test, config, train_descriptors=train_desc,
                              validation_descriptors=test_desc)  # fmt: skip
            result = trainer.fit()
            final = in_hartree(result.history[-1])
            table.append((name, seed, final, result))
            histories.append(result.history)
            labels.append(f"nnp_ref {name} (seed {seed})")
            print(f"\n[{name}, seed {seed}] {result.stopped}: {len(result.history) - 1} epochs, "
                  f"{result.wall_time:.1f} s (updates {result.update_time:.1f} s), "
                  f"{result.structures_per_second:.1f} structures/s per epoch")  # fmt: skip
            for row in result.history[:: max(1, (len(result.history) - 1) // 6)]:
                e_tr, f_tr, e_te, f_te = in_hartree(row)
                print(f"  epoch {int(row['epoch']):4d} {row['wall_time_s']:6.1f} s  train "
                      f"{e_tr:.2e} Ha/atom {f_tr:.2e} Ha/Bohr  test {e_te:.2e} "
                      f"{f_te:.2e}")  # fmt: skip

    print("\nfinal-epoch RMSEs (Ha/atom, Ha/Bohr) and wall time of the training loop")
    print(f"{'run':22s} {'E train':>9s} {'F train':>9s} {'E test':>9s} {'F test':>9s} "
          f"{'time s':>7s} {'epochs':>6s} {'str/s':>6s}  all four lower than n2p2")  # fmt: skip
    n = N2P2_FINAL
    print(f"{'n2p2 (reference)':22s} {n['E_train']:9.2e} {n['F_train']:9.2e} {n['E_test']:9.2e} "
          f"{n['F_test']:9.2e} {n['time']:7.1f} {30:6d} {19 / 1.56:6.1f}")  # fmt: skip
    for name, seed, (e_tr, f_tr, e_te, f_te), result in table:
        better = (e_tr < n["E_train"] and f_tr < n["F_train"] and e_te < n["E_test"]
                  and f_te < n["F_test"] and result.wall_time <= n["time"] + 0.5)  # fmt: skip
        print(f"{name + f' (seed {seed})':22s} {e_tr:9.2e} {f_tr:9.2e} {e_te:9.2e} {f_te:9.2e} "
              f"{result.wall_time:7.1f} {len(result.history) - 1:6d} "
              f"{result.structures_per_second:6.1f}  {'yes' if better else 'no'}")  # fmt: skip
    for x in ("epoch", "wall_time_s"):
        fig = plot_learning_curve(histories, labels=labels, x=x)
        for axis in fig.axes:
            axis.set_xscale("linear")
        fig.set_size_inches(12, 5)
        fig.savefig(out / f"learning_curves_{x}.png", dpi=120)
    print(f"peak memory {peak_memory_mb():.0f} MB; curves and models in {out}")


if __name__ == "__main__":
    main()
