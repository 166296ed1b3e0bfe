"""``nnp-ref active-learn``: committee -> MD -> most uncertain frames -> label -> retrain."""

from __future__ import annotations

from nnp_ref.cli.common import positive_int, say

NAME = "active-learn"
HELP = "grow a training set where a committee of potentials disagrees"
DESCRIPTION = """\
Active learning from a TOML config: train a committee on a small labelled set,
run MD with it at the temperatures and structures of the config, label the
frames where the committee disagrees most within the trust window
(trust_lo <= force spread <= trust_hi; a trajectory whose spread exceeds
trust_hi is stopped and its frame never labelled), diversified by
farthest-point sampling, with the reference method (EMT by default, PySCF
with labeller = "pbe/def2-svp"), retrain, and repeat until the disagreement on new
MD is below the target or the budget of reference calculations is spent.

Everything goes to the config's workdir (labels.db, one folder per iteration,
report.csv, report.png). Killed? Run the same command again: it resumes
without losing or repeating a label. --example-config prints a config."""

EXAMPLE_CONFIG = """\
# nnp-ref active-learn config (units: eV, Å, K, fs)
workdir = "al_run"
seed = 0

[reference]
labeller = "emt"          # "emt", "lj", "pbe/def2-svp" (PySCF) or "module:factory"
n_initial = 10            # generated fcc cells (or initial_structures = "file.extxyz")
element = "Cu"
lattice_constant = 3.61
repeat = [2, 2, 2]
# test_set = "test.extxyz"   # labelled structures: test errors per iteration

[md]
temperatures = [300.0, 900.0, 1500.0]
# bulk, strained, vacancy, divacancy, surface (100), surface100, surface110, surface111
starts = ["bulk", "strained", "vacancy", "surface100", "surface111"]
# or start_structures = "starts.extxyz"
steps = 200
dt_fs = 2.0
sample_every = 10
max_strain = 0.04         # of the "strained" starts (a new strain each iteration)

[committee]
n_members = 4
hidden = [16, 16]
epochs = 30
warm_epochs = 15
warm_start = true         # false: retrain every committee from scratch
rc = 5.0
workers = 1

[selection]
n_select = 8
pool_factor = 3
extrapolation_weight = 0.1
trust_lo = 0.05           # eV/Å: frames with a force spread in [trust_lo, trust_hi] are
trust_hi = 0.5            # candidates; above trust_hi: unphysical, never labelled

[stop]
target_force_std = 0.05   # eV/Å
max_labels = 100
max_iterations = 8
"""


def add_arguments(p) -> None:
    p.add_argument("config", nargs="?", help="TOML config (see --example-config)")
    p.add_argument("--example-config", action="store_true", help="print an example config")
    p.add_argument("--workdir", help="override the config's workdir")
    p.add_argument("--workers", type=positive_int, help="parallel processes for the committee")
    p.add_argument("--max-labels", type=positive_int, metavar="N",
                   help="override the budget of reference calculations")  # fmt: skip


def run(args) -> int:
    if args.example_config:
        print(EXAMPLE_CONFIG, end="")
        return 0
    if args.config is None:
        raise ValueError("give a config file (nnp-ref active-learn --example-config prints one)")
    from nnp_ref.active_learning import load_config, run_active_learning

    overrides = {}
    if args.workdir:
        overrides["workdir"] = args.workdir
    if args.workers:
        overrides["workers"] = args.workers
    if args.max_labels:
        overrides["max_labels"] = args.max_labels
    config = load_config(args.config, **overrides)  # checked before any work
    result = run_active_learning(config, progress=not args.quiet)
    last = result.reports[-1] if result.reports else {}
    say(args, f"active learning: {result.stopped}")
    say(args, f"{last.get('n_train', 0)} labels; results in {result.workdir}")
    return 0
