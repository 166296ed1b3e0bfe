"""``nnp-ref train``: an HDNNP from a TOML config (``nnp_ref.config``, ``nnp_ref.workflow``)."""

from __future__ import annotations

from nnp_ref.cli.common import positive_float, say

NAME = "train"
HELP = "train a potential from a TOML config file"
DESCRIPTION = """\
Train an HDNNP as described by a TOML config file ([data], [potential],
[training], [output]); 'nnp-ref train --example-config' prints a commented
example that reads the file 'nnp-ref generate' writes by default:

    nnp-ref generate                          # -> reference_data.extxyz
    nnp-ref train --example-config > train.toml
    nnp-ref train train.toml                  # -> nnp_ref_model/

The whole config is checked before any work starts. Writes model.json,
training/ (history.csv, checkpoints), learning_curve.png and, for a test
split, test_set.extxyz, parity.png and metrics.json to the output folder.
A folder that already holds a training run is refused unless --resume
(continue from its checkpoint) or --overwrite (replace its files).

Data-parallel over MPI: 'mpiexec -n 2 nnp-ref train train.toml' (the same
weights for any number of ranks; --resume works with any number, too).
[training] store_dir keeps the descriptors on disk and streams them."""

EXAMPLE_CONFIG = """\
# nnp-ref train: an HDNNP from reference data. Lengths in Å, energies in eV.
# Paths are relative to this file. Every key is optional except a data source.

[data]
path = "reference_data.extxyz"  # what `nnp-ref generate` writes; any ASE file or n2p2 *.data
# length_unit = "bohr"          # units of an n2p2 input.data (default Å, eV)
# energy_unit = "hartree"
validation = 0.1                # fractions of the structures held out
test = 0.1
split_seed = 0

# Instead of a file: generate reference data (see `nnp-ref generate --help`).
# [data.generate]
# kind = "emt-cu"               # emt-cu, emt-cuau or lj-ar
# n_structures = 200
# seed = 0

[potential]
rc = 5.0                        # cutoff radius (Å)
hidden = [15, 15]               # neurons per hidden layer
# activations = ["t", "t", "l"] # n2p2 codes, hidden layers then output
scaling_mode = "scalecenter"    # none, scale, center, scalecenter, scalesigma
init = "glorot"                 # or "nguyen-widrow"
seed = 0
# default symmetry functions (nnp_ref.training.preprocessing.default_symmetry_functions):
n_radial = 8
n_angular = 3
r_lower = 1.5
angular = "wide"                # "wide" (type 9) or "narrow" (type 3)

[training]                      # nnp_ref.training.trainer.TrainingConfig
optimizer = "kalman"            # adam, lbfgs or kalman
epochs = 10                     # the budget: results depend on the seed, not the machine
use_forces = true
force_weight = 1.0
# patience = 5                  # early stopping (epochs without improvement)
# store_dir = "descriptors"     # descriptors on disk, streamed: memory follows the batch,
#                               # not the data set (reused while data and functions match)
# max_time = 600.0              # optional wall-clock cap (s): results then depend on speed
# learning_rate = 1e-3          # adam
# batch_size = 8                # adam
# [training.kalman]             # nnp_ref.training.optimizers.KalmanSettings
# force_fraction = 0.0041

[output]
directory = "nnp_ref_model"     # model.json, history, figures, metrics.json
"""


def add_arguments(p) -> None:
    p.add_argument("config", nargs="?", help="TOML config file")
    p.add_argument(
        "--example-config", action="store_true", help="print an example config file and exit"
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (overrides [output] directory of the config)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in the output folder"
    )
    mode.add_argument(
        "--overwrite",
        action="store_true",
        help="train into an output folder that holds an earlier run, replacing its files",
    )
    p.add_argument(
        "--max-time",
        type=positive_float,
        default=None,
        metavar="S",
        help="stop training before an epoch that would end after S seconds (overrides "
        "[training] max_time; off by default, so that results do not depend on the machine)",
    )


def run(args) -> int:
    if args.example_config:
        print(EXAMPLE_CONFIG, end="")
        return 0
    if args.config is None:
        raise ValueError("give a config file (nnp-ref train --example-config prints one)")
    from nnp_ref.training.parallel import mpi_rank

    try:
        return _run(args)
    except Exception as err:  # `mpiexec -n P nnp-ref train`: an error every rank meets ...
        from nnp_ref.config import ConfigError
        from nnp_ref.training.parallel import SharedError

        if mpi_rank() != 0 and isinstance(err, (ConfigError, FileNotFoundError, SharedError)):
            return 2  # ... is reported once, by rank 0
        raise


def _run(args) -> int:
    import dataclasses
    from pathlib import Path

    from nnp_ref.config import load_config
    from nnp_ref.training.parallel import mpi_rank
    from nnp_ref.workflow import run_training

    config = load_config(args.config)  # everything checked before any work
    args.quiet = args.quiet or mpi_rank() != 0  # `mpiexec -n P nnp-ref train`: rank 0 talks
    if args.max_time is not None:
        training = dataclasses.replace(config.training, max_time=args.max_time)
        config = dataclasses.replace(config, training=training)
    out = Path(args.out) if args.out else config.output_dir
    summary = run_training(
        config,
        out,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=not args.quiet,
        say=lambda *text: say(args, *text),
    )
    say(args, f"training: {summary['stopped']}; best epoch {summary['best_epoch']}")
    if "test" in summary:
        t = summary["test"]
        say(
            args,
            f"test RMSE: {t['rmse_energy_meV_per_atom']:.3f} meV/atom, "
            f"{t['rmse_force_meV_per_A']:.2f} meV/Å",
        )
    say(args, f"model: {summary['model']}\nresults in {out}")
    return 0
