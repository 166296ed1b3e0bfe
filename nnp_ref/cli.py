"""The ``nnp-ref`` command: the whole HDNNP workflow from a shell.

    nnp-ref demo                      reference data -> training -> test -> MD -> report
    nnp-ref generate -o data.extxyz   label structures with a reference potential (EMT, LJ)
    nnp-ref train config.toml         train a potential from a TOML config
    nnp-ref evaluate MODEL DATA       RMSEs and a parity plot (--json for scripts)
    nnp-ref md MODEL STRUCTURE        molecular dynamics: trajectory and energy plot
    nnp-ref convert SRC DST           nnp_ref <-> n2p2 (potentials and data sets)
    nnp-ref lecture NAME              one lecture figure (``nnp-ref lecture`` lists them)

``nnp-ref COMMAND --help`` explains every option. A MODEL is an nnp_ref
model (``model.json``, or a folder holding one) or an n2p2 potential folder
(``input.nn``, ``scaling.data``, ``weights.*.data``); data sets are any
file ASE reads (extxyz, traj, ...) or n2p2's ``input.data`` (``*.data``).
n2p2 files in other units than Å/eV need ``--length-unit``/``--energy-unit``
(e.g. ``bohr`` and ``hartree`` for the RPBE-D3 water potential).

Errors are reported as one line, ``nnp-ref: error: ...``, with exit code 2
(``NNP_REF_DEBUG=1`` shows the traceback instead).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import warnings
from pathlib import Path

from nnp_ref import __version__

PROG = "nnp-ref"

# ---------------------------------------------------------------------------
# Units, models and data sets from the command line
# ---------------------------------------------------------------------------

LENGTH_UNITS = {"angstrom": 1.0, "a": 1.0, "bohr": None, "nm": 10.0}
ENERGY_UNITS = {
    "ev": 1.0,
    "hartree": None,
    "ha": None,
    "ry": None,
    "rydberg": None,
    "kcal/mol": None,
    "kj/mol": None,
}


def parse_unit(text: str, kind: str) -> float:
    """A length unit in Å or an energy unit in eV, from a name or a number."""
    import ase.units

    table = {
        "bohr": ase.units.Bohr,
        "hartree": ase.units.Hartree,
        "ha": ase.units.Hartree,
        "ry": ase.units.Rydberg,
        "rydberg": ase.units.Rydberg,
        "kcal/mol": ase.units.kcal / ase.units.mol,
        "kj/mol": ase.units.kJ / ase.units.mol,
    }
    names = LENGTH_UNITS if kind == "length" else ENERGY_UNITS
    key = text.strip().lower()
    if key in names:
        return names[key] if names[key] is not None else table[key]
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown {kind} unit {text!r}; use one of {', '.join(names)} or a number "
            f"({'Å' if kind == 'length' else 'eV'} per file unit)"
        ) from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{kind} unit must be positive, got {text}")
    return value


def _add_units(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("units of n2p2 files (nnp_ref's own files are in Å and eV)")
    group.add_argument(
        "--length-unit",
        type=lambda t: parse_unit(t, "length"),
        default="angstrom",
        metavar="UNIT",
        help="length unit of n2p2 files: angstrom, bohr, nm, or Å per unit",
    )
    group.add_argument(
        "--energy-unit",
        type=lambda t: parse_unit(t, "energy"),
        default="ev",
        metavar="UNIT",
        help="energy unit of n2p2 files: ev, hartree, ry, kcal/mol, kj/mol, or eV per unit",
    )


def _units(args) -> dict:
    return {"length_unit": args.length_unit, "energy_unit": args.energy_unit}


def is_n2p2_potential(path) -> bool:
    return Path(path).is_dir() and (Path(path) / "input.nn").is_file()


def is_n2p2_data(path) -> bool:
    return Path(path).suffix == ".data"


def load_potential(path, length_unit: float = 1.0, energy_unit: float = 1.0):
    """An nnp_ref model (``.json`` or a folder with ``model.json``) or an n2p2 potential folder."""
    from nnp_ref.io.model_json import load_model
    from nnp_ref.io.n2p2 import read_potential

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model {path} does not exist")
    if is_n2p2_potential(path):
        return read_potential(path, length_unit=length_unit, energy_unit=energy_unit)
    if path.is_file() or (path / "model.json").is_file():
        return load_model(path)
    raise ValueError(
        f"{path} is neither an nnp_ref model (model.json) nor an n2p2 potential folder (input.nn)"
    )


def read_structures(path, length_unit: float = 1.0, energy_unit: float = 1.0, index=":"):
    """Structures from any ASE-readable file or an n2p2 ``*.data`` file (converted to Å, eV).

    The units apply to n2p2 files only (ASE's files are in Å and eV).
    """
    from nnp_ref.data.datasets import read_dataset

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    if is_n2p2_data(path):
        structures = read_dataset(
            path, format="n2p2", length_unit=length_unit, energy_unit=energy_unit
        )
        return structures if index == ":" else [structures[int(index)]]
    structures = read_dataset(path, index=index)
    if not structures:
        raise ValueError(f"{path} holds no structures")
    return structures


def write_structures(structures, path, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Write structures as n2p2 ``*.data`` or, for any other name, with ASE (extxyz, traj, ...)."""
    import ase.io

    from nnp_ref.data.datasets import write_extxyz
    from nnp_ref.io.n2p2 import write_data

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_n2p2_data(path):
        write_data(structures, path, length_unit=length_unit, energy_unit=energy_unit)
    elif path.suffix in (".xyz", ".extxyz"):
        write_extxyz(path, structures)
    else:
        ase.io.write(path, structures)


def _save_figure(fig, path) -> None:
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150)
    plt.close(fig)  # figures made through pyplot; no-op for plain Figures


def _say(args, *text) -> None:
    if not getattr(args, "quiet", False):
        print(*text, flush=True)


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------


def cmd_demo(args) -> int:
    from nnp_ref.course.demo import FULL, QUICK, run_demo

    settings = QUICK if args.quick else FULL
    changes = {k: v for k, v in (("seed", args.seed), ("epochs", args.epochs)) if v is not None}
    settings = dataclasses.replace(settings, **changes)
    run_demo(args.out, quick=args.quick, settings=settings, progress=not args.quiet)
    return 0


# ---------------------------------------------------------------------------
# generate
# ---------------------------------------------------------------------------


def cmd_generate(args) -> int:
    from nnp_ref.data.datasets import generate_reference_data

    if args.structures < 1:
        raise ValueError(f"--structures must be >= 1, got {args.structures}")
    structures = generate_reference_data(
        kind=args.kind, n_structures=args.structures, seed=args.seed, progress=not args.quiet
    )
    write_structures(structures, args.output, **_units(args))
    n_atoms = sum(len(a) for a in structures)
    _say(args, f"wrote {len(structures)} structures ({n_atoms} atoms) to {args.output}")
    return 0


# ---------------------------------------------------------------------------
# train
# ---------------------------------------------------------------------------

EXAMPLE_CONFIG = """\
# nnp-ref train: an HDNNP from reference data. Lengths in Å, energies in eV.
# Paths are relative to this file. Every key is optional except a data source.

[data]
path = "reference_data.extxyz"  # any file ASE reads, or n2p2 input.data (*.data)
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
epochs = 10
use_forces = true
force_weight = 1.0
# max_time = 600.0              # seconds
# patience = 5                  # early stopping (epochs without improvement)
# learning_rate = 1e-3          # adam
# batch_size = 8                # adam
# [training.kalman]             # nnp_ref.training.optimizers.KalmanSettings
# force_fraction = 0.0041

[output]
directory = "nnp_ref_model"     # model.json, history, figures, metrics.json
"""

# Allowed keys of each table and their types ([int]: a list of ints; (a, b): either).
_DATA_KEYS = {
    "path": str,
    "length_unit": (str, float),
    "energy_unit": (str, float),
    "validation": float,
    "test": float,
    "split_seed": int,
    "generate": dict,
}
_GENERATE_KEYS = {"kind": str, "n_structures": int, "seed": int}
_POTENTIAL_KEYS = {
    "rc": float,
    "hidden": [int],
    "activations": [str],
    "scaling_mode": str,
    "init": str,
    "seed": int,
    "n_radial": int,
    "n_angular": int,
    "r_lower": float,
    "r_upper": float,
    "zetas": [float],
    "angular": str,
    "radial_mode": str,
    "cutoff_type": int,
}
_OUTPUT_KEYS = {"directory": str}
_TOML_TYPES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    dict: "a table",
}


def _is(value, kind) -> bool:
    if isinstance(kind, list):
        return isinstance(value, list) and all(_is(v, kind[0]) for v in value)
    if isinstance(kind, tuple):
        return any(_is(value, k) for k in kind)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _type_name(kind) -> str:
    if isinstance(kind, list):
        return f"a list of {_type_name(kind[0]).split(' ', 1)[1]}s"
    if isinstance(kind, tuple):
        return " or ".join(_type_name(k) for k in kind)
    return _TOML_TYPES[kind]


def _check_types(table: dict, types: dict, where: str) -> None:
    """Raise ValueError naming the key if a value has the wrong type (keys checked before)."""
    for key, value in table.items():
        if not _is(value, types[key]):
            raise ValueError(f"[{where}] {key} = {value!r}: expected {_type_name(types[key])}")


def _dataclass_types(cls) -> dict:
    """Key -> type for the simple fields of a settings dataclass (annotations as strings)."""
    simple = {"int": int, "float": float, "bool": bool, "str": str}
    types = {}
    for f in dataclasses.fields(cls):
        name = str(f.type).replace(" | None", "").strip()
        types[f.name] = simple.get(name, object)
    return types


def _load_toml(path: Path) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    if not path.is_file():
        raise FileNotFoundError(f"config file {path} does not exist")
    with open(path, "rb") as handle:
        try:
            return tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: {err}") from None


def _check_keys(table: dict, known, where: str) -> None:
    """Unknown keys are an error naming them; with a dict of types, the types are checked too."""
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(unknown)} in [{where}]; known: {', '.join(sorted(known))}"
        )
    if isinstance(known, dict):
        _check_types(table, known, where)


def _table(config: dict, name: str) -> dict:
    table = config.get(name, {})
    if not isinstance(table, dict):
        raise ValueError(f"[{name}] must be a table")
    return table


def training_config_from(table: dict):
    """``TrainingConfig`` from the [training] table (unknown keys named)."""
    from nnp_ref.training.optimizers import KalmanSettings
    from nnp_ref.training.trainer import TrainingConfig

    known = _dataclass_types(TrainingConfig)
    known.pop("checkpoint_dir")
    known["kalman"] = dict
    _check_keys(table, known, "training")
    table = dict(table)
    if "kalman" in table:
        _check_keys(table["kalman"], _dataclass_types(KalmanSettings), "training.kalman")
        table["kalman"] = KalmanSettings(**table["kalman"])
    return TrainingConfig(**table)


def _config_data(data: dict, base: Path, progress: bool):
    """The structures named by the [data] table."""
    from nnp_ref.data.datasets import generate_reference_data

    if ("path" in data) == ("generate" in data):
        raise ValueError("[data] needs exactly one of 'path' or a [data.generate] table")
    if "generate" in data:
        _check_keys(data["generate"], _GENERATE_KEYS, "data.generate")
        return generate_reference_data(progress=progress, **data["generate"])
    units = {
        "length_unit": parse_unit(str(data.get("length_unit", "angstrom")), "length"),
        "energy_unit": parse_unit(str(data.get("energy_unit", "ev")), "energy"),
    }
    return read_structures(base / data["path"], **units)


def cmd_train(args) -> int:
    if args.example_config:
        print(EXAMPLE_CONFIG, end="")
        return 0
    if args.config is None:
        raise ValueError("give a config file (nnp-ref train --example-config prints one)")
    from nnp_ref.analysis.errors import metrics, parity_plot, plot_learning_curve, predict_dataset
    from nnp_ref.data.datasets import split_random, write_extxyz
    from nnp_ref.io.model_json import atomic_write_text, save_model
    from nnp_ref.training.trainer import Trainer, build_potential

    config_path = Path(args.config)
    config = _load_toml(config_path)
    _check_keys(
        config, dict.fromkeys(("data", "potential", "training", "output"), dict), "top level"
    )
    base = config_path.resolve().parent
    data, pot, output = (_table(config, k) for k in ("data", "potential", "output"))
    _check_keys(data, _DATA_KEYS, "data")
    _check_keys(pot, _POTENTIAL_KEYS, "potential")
    _check_keys(output, _OUTPUT_KEYS, "output")
    train_cfg = training_config_from(_table(config, "training"))
    progress = not args.quiet
    train_cfg = dataclasses.replace(train_cfg, progress=progress and train_cfg.progress)
    out = Path(args.out) if args.out else base / output.get("directory", "nnp_ref_model")

    structures = _config_data(data, base, progress)
    split = split_random(
        structures,
        float(data.get("validation", 0.1)),
        float(data.get("test", 0.1)),
        seed=int(data.get("split_seed", 0)),
    )
    _say(args, f"data: {len(structures)} structures -> {split}")
    pot = dict(pot)
    if "hidden" in pot:
        pot["hidden"] = tuple(pot["hidden"])
    if "zetas" in pot:
        pot["zetas"] = tuple(pot["zetas"])
    potential, descriptors = build_potential(split.train, progress=progress, **pot)
    train_cfg = dataclasses.replace(train_cfg, checkpoint_dir=str(out / "training"))
    trainer = Trainer(
        potential, split.train, split.validation, train_cfg, train_descriptors=descriptors
    )
    result = trainer.fit(resume=args.resume)
    model_file = save_model(result.potential, out / "model.json")
    _save_figure(plot_learning_curve(result.history, labels=["NNP"]), out / "learning_curve.png")
    summary = {
        "model": str(model_file),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "n_train": len(split.train),
        "n_validation": len(split.validation),
        "n_test": len(split.test),
    }
    if split.test:
        write_extxyz(out / "test_set.extxyz", split.test)
        pred = predict_dataset(result.potential, split.test, progress=progress)
        summary["test"] = metrics(pred)
        _save_figure(parity_plot(pred), out / "parity.png")
    atomic_write_text(out / "metrics.json", json.dumps(summary, indent=2) + "\n")
    _say(args, f"training: {result.stopped}; best epoch {result.best_epoch}")
    if split.test:
        t = summary["test"]
        _say(
            args,
            f"test RMSE: {t['rmse_energy_meV_per_atom']:.3f} meV/atom, "
            f"{t['rmse_force_meV_per_A']:.2f} meV/Å",
        )
    _say(args, f"model: {model_file}\nresults in {out}")
    return 0


# ---------------------------------------------------------------------------
# evaluate
# ---------------------------------------------------------------------------


def cmd_evaluate(args) -> int:
    from nnp_ref.analysis.errors import metrics, parity_plot, predict_dataset

    potential = load_potential(args.model, **_units(args))
    structures = read_structures(args.data, **_units(args))
    pred = predict_dataset(potential, structures, progress=not (args.quiet or args.json))
    result = {"model": str(args.model), "data": str(args.data), **metrics(pred)}
    if args.parity:
        _save_figure(parity_plot(pred), args.parity)
        result["parity_plot"] = str(args.parity)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{len(structures)} structures, {len(pred.F_ref_kc)} atoms with reference forces")
    print(
        f"energy  RMSE {result['rmse_energy_meV_per_atom']:10.4f} meV/atom   "
        f"MAE {result['mae_energy_meV_per_atom']:10.4f} meV/atom"
    )
    print(
        f"forces  RMSE {result['rmse_force_meV_per_A']:10.4f} meV/Å       "
        f"MAE {result['mae_force_meV_per_A']:10.4f} meV/Å"
    )
    if args.parity:
        print(f"parity plot: {args.parity}")
    return 0


# ---------------------------------------------------------------------------
# md
# ---------------------------------------------------------------------------


def cmd_md(args) -> int:
    import numpy as np

    from nnp_ref.analysis.plots import plot_energies
    from nnp_ref.dynamics.md import run_md
    from nnp_ref.io.model_json import atomic_write_text
    from nnp_ref.model.calculator import NNPCalculator

    if args.steps < 1 or args.dt <= 0:
        raise ValueError("--steps must be >= 1 and --dt > 0")
    potential = load_potential(args.model, **_units(args))
    atoms = read_structures(args.structure, **_units(args), index=str(args.index))[0]
    if args.repeat:
        atoms = atoms.repeat(tuple(args.repeat))
    atoms.calc = NNPCalculator(potential)
    steps_with_extrapolation = []

    def count_extrapolations(step, state):
        if atoms.calc.extrapolations:
            steps_with_extrapolation.append(step)

    _say(args, f"{len(atoms)} atoms, {args.integrator}, dt = {args.dt:g} fs, {args.steps} steps")
    result = run_md(
        atoms,
        args.dt,
        args.steps,
        args.integrator,
        temperature_K=args.temperature,
        friction=args.friction,
        tau_fs=args.tau,
        seed=args.seed,
        init_temperature_K=args.init_temperature,
        trajectory=args.trajectory,
        write_every=args.write_every,
        callback=count_extrapolations,
        progress=not args.quiet,
    )
    _save_figure(plot_energies(result), args.plot)
    if args.csv:
        rows = ["t_fs,E_pot_eV,E_kin_eV,E_tot_eV,T_K,E_conserved_eV"]
        rows += [
            ",".join(f"{x:.10g}" for x in row)
            for row in zip(
                result.t_fs,
                result.E_pot_t,
                result.E_kin_t,
                result.E_tot_t,
                result.T_t,
                result.E_cons_t,
                strict=True,
            )
        ]
        atomic_write_text(args.csv, "\n".join(rows) + "\n")
    n = len(atoms)
    drift = np.polyfit(result.t_fs, result.E_cons_t / n * 1e3, 1)[0] * 1e3 if args.steps > 1 else 0
    _say(
        args,
        f"mean T {np.mean(result.T_t):.1f} K; conserved-energy drift {drift:+.4f} "
        f"meV/atom/ps; {result.steps_per_second:.1f} steps/s",
    )
    if steps_with_extrapolation:
        _say(
            args,
            f"warning: {len(steps_with_extrapolation)} of {args.steps + 1} steps had "
            "symmetry functions outside the training range (first: step "
            f"{steps_with_extrapolation[0]}); the potential is extrapolating",
        )
    _say(
        args,
        f"trajectory: {args.trajectory}\nenergy plot: {args.plot}"
        + (f"\nenergies: {args.csv}" if args.csv else ""),
    )
    return 0


# ---------------------------------------------------------------------------
# convert
# ---------------------------------------------------------------------------


def cmd_convert(args) -> int:
    from nnp_ref.io.model_json import save_model
    from nnp_ref.io.n2p2 import write_potential

    src, dst = Path(args.source), Path(args.destination)
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist")
    is_model = is_n2p2_potential(src) or src.suffix == ".json" or (src / "model.json").is_file()
    if is_model:
        potential = load_potential(src, **_units(args))
        if dst.suffix == ".json":
            save_model(potential, dst)
            what = "nnp_ref model"
        elif dst.suffix == "":
            write_potential(potential, dst, **_units(args))
            what = "n2p2 potential (input.nn, scaling.data, weights.*.data)"
        else:
            raise ValueError(
                f"destination {dst}: use a .json file (nnp_ref model) or a folder name (n2p2)"
            )
        _say(args, f"wrote {what} to {dst}")
        return 0
    if src.is_dir():
        raise ValueError(f"{src} is a folder without input.nn or model.json")
    structures = read_structures(src, **_units(args))
    if is_n2p2_data(src) and is_n2p2_data(dst):
        raise ValueError("source and destination are both n2p2 files; nothing to convert")
    units = _units(args) if is_n2p2_data(dst) else {}
    write_structures(structures, dst, **units)
    _say(args, f"wrote {len(structures)} structures to {dst}")
    return 0


# ---------------------------------------------------------------------------
# lecture
# ---------------------------------------------------------------------------


def cmd_lecture(args) -> int:
    import time

    from nnp_ref.course.lectures import LECTURES, make_figure

    if args.list or args.name is None:
        width = max(len(name) for name in LECTURES)
        print("lecture figures (nnp-ref lecture NAME [--out FILE]):")
        for lecture in LECTURES.values():
            print(f"  {lecture.name:{width}s}  {lecture.description}")
        return 0
    start = time.perf_counter()
    fig = make_figure(args.name)
    out = args.out or f"lecture_{args.name}.png"
    _save_figure(fig, out)
    _say(args, f"{args.name}: {out} ({time.perf_counter() - start:.1f} s)")
    return 0


# ---------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written; meaningful defaults appended to the option help."""

    def _get_help_string(self, action):
        help_ = action.help or ""
        if "%(default)" in help_ or action.default in (None, False, argparse.SUPPRESS):
            return help_
        return help_ + " (default: %(default)s)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="nnp_ref: Behler-Parrinello neural network potentials in NumPy + Numba.",
        epilog="Run 'nnp-ref COMMAND --help' for the options of a command. "
        "Start with 'nnp-ref demo'.",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"nnp_ref {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help_, description):
        p = sub.add_parser(name, help=help_, description=description, formatter_class=_Formatter)
        p.add_argument(
            "-q",
            "--quiet",
            action="store_true",
            help="no progress bars or messages (results and errors still shown)",
        )
        return p

    p = command(
        "demo",
        "train and test an HDNNP for EMT copper, run MD, write a report",
        "Generate EMT copper reference data, train an HDNNP (Kalman filter), test it on\n"
        "held-out structures, run NVE MD at several time steps and Langevin MD against\n"
        "EMT, and write figures, report.md, metrics.json, the model and the test set to\n"
        "the output folder. A few minutes on two cores; --quick takes seconds.",
    )
    p.add_argument("--out", default="nnp_ref_demo", metavar="DIR", help="output folder")
    p.add_argument(
        "--quick",
        action="store_true",
        help="toy sizes (seconds): checks the pipeline, not the science",
    )
    p.add_argument("--seed", type=int, default=None, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help="training epochs (default 10, --quick 2)",
    )
    p.set_defaults(func=cmd_demo)

    p = command(
        "generate",
        "label structures with a reference potential",
        "Generate reference structures (MD snapshots, strained and rattled cells,\n"
        "vacancies, surfaces) labelled with energies and forces by a reference\n"
        "potential: ASE's EMT (emt-cu, emt-cuau) or Lennard-Jones argon (lj-ar).",
    )
    p.add_argument(
        "-o",
        "--output",
        default="reference_data.extxyz",
        metavar="FILE",
        help="output file: extxyz (.xyz/.extxyz), any ASE format, or n2p2 *.data",
    )
    p.add_argument(
        "--kind",
        default="emt-cu",
        choices=["emt-cu", "emt-cuau", "lj-ar"],
        help="reference potential and crystal",
    )
    p.add_argument(
        "-n", "--structures", type=int, default=200, metavar="N", help="number of structures"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    _add_units(p)
    p.set_defaults(func=cmd_generate)

    p = command(
        "train",
        "train a potential from a TOML config file",
        "Train an HDNNP as described by a TOML config file ([data], [potential],\n"
        "[training], [output]); 'nnp-ref train --example-config' prints a commented\n"
        "example. Writes model.json, training/ (history.csv, checkpoints),\n"
        "learning_curve.png and, for a test split, test_set.extxyz, parity.png and\n"
        "metrics.json to the output folder.",
    )
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
    p.add_argument(
        "--resume", action="store_true", help="continue from the checkpoint in the output folder"
    )
    p.set_defaults(func=cmd_train)

    p = command(
        "evaluate",
        "RMSE of a model on a data set, parity plot",
        "Evaluate MODEL on every structure of DATA and report the RMSE and MAE of the\n"
        "energies per atom (meV/atom) and of the force components (meV/Å).",
    )
    p.add_argument("model", help="nnp_ref model (.json or folder) or n2p2 potential folder")
    p.add_argument("data", help="structures with reference energies/forces (ASE file or *.data)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the metrics as JSON (for scripts) and nothing else",
    )
    p.add_argument(
        "--parity",
        metavar="FILE",
        default=None,
        help="write a parity plot (predicted vs reference) to FILE",
    )
    _add_units(p)
    p.set_defaults(func=cmd_evaluate)

    p = command(
        "md",
        "molecular dynamics with a model",
        "Run MD with MODEL from STRUCTURE: velocity Verlet (NVE), Langevin (BAOAB) or\n"
        "Bussi (stochastic velocity rescaling). Writes the trajectory and a plot of the\n"
        "energies, and warns when the potential extrapolates.",
    )
    p.add_argument("model", help="nnp_ref model (.json or folder) or n2p2 potential folder")
    p.add_argument("structure", help="start structure (ASE file or n2p2 *.data)")
    p.add_argument("--index", type=int, default=0, metavar="I", help="which structure of the file")
    p.add_argument(
        "--repeat", type=int, nargs=3, metavar=("NX", "NY", "NZ"), help="repeat the cell"
    )
    p.add_argument("--dt", type=float, default=1.0, metavar="FS", help="time step (fs)")
    p.add_argument("--steps", type=int, default=1000, metavar="N", help="number of steps")
    p.add_argument(
        "--integrator",
        default="verlet",
        choices=["verlet", "langevin", "bussi"],
        help="verlet: NVE; langevin, bussi: NVT at --temperature",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        metavar="K",
        help="thermostat temperature (K), for langevin and bussi",
    )
    p.add_argument(
        "--init-temperature",
        type=float,
        default=None,
        metavar="K",
        help="draw initial velocities at this temperature (K); without it the "
        "structure's own velocities are used (zero for most files)",
    )
    p.add_argument(
        "--friction", type=float, default=0.01, metavar="GAMMA", help="Langevin friction (1/fs)"
    )
    p.add_argument(
        "--tau", type=float, default=100.0, metavar="FS", help="Bussi relaxation time (fs)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    p.add_argument(
        "--trajectory",
        default="md.traj",
        metavar="FILE",
        help="trajectory file (.traj, .xyz, .extxyz)",
    )
    p.add_argument("--write-every", type=int, default=10, metavar="N", help="steps between frames")
    p.add_argument("--plot", default="md_energy.png", metavar="FILE", help="energy plot")
    p.add_argument(
        "--csv", default=None, metavar="FILE", help="also write the energies per step as CSV"
    )
    _add_units(p)
    p.set_defaults(func=cmd_md)

    p = command(
        "convert",
        "convert potentials and data sets between nnp_ref and n2p2",
        "Potentials: an n2p2 folder (input.nn, scaling.data, weights.*.data) to an\n"
        "nnp_ref model (DESTINATION ending in .json), or a model (.json) to an n2p2\n"
        "folder (DESTINATION without suffix; n2p2 and LAMMPS pair_style hdnnp read it).\n"
        "Data sets: n2p2 input.data (*.data) to any ASE format (extxyz, traj, ...) and\n"
        "back. --length-unit/--energy-unit give the units of the n2p2 side.",
    )
    p.add_argument("source", help="n2p2 folder, model .json, or data file")
    p.add_argument("destination", help="model .json, n2p2 folder, or data file")
    _add_units(p)
    p.set_defaults(func=cmd_convert)

    p = command(
        "lecture",
        "draw a lecture figure",
        "Draw one lecture figure with nnp_ref's own code (each under 30 s).\n"
        "Without NAME (or with --list): list the figures.",
    )
    p.add_argument("name", nargs="?", help="figure name (see --list)")
    p.add_argument(
        "--out", default=None, metavar="FILE", help="output file (default lecture_NAME.png)"
    )
    p.add_argument("--list", action="store_true", help="list the lecture figures")
    p.set_defaults(func=cmd_lecture)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"{PROG}: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None) -> int:
    """Entry point of ``nnp-ref``; returns the exit code (2 for errors, as argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not os.environ.get("MPLBACKEND"):
        import matplotlib

        matplotlib.use("Agg")  # files only: no window, works without a display
    from ase.io.formats import UnknownFileTypeError

    from nnp_ref.dynamics.md import MDError

    errors = (ValueError, OSError, KeyError, ImportError, UnknownFileTypeError, MDError)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except errors as err:
            if os.environ.get("NNP_REF_DEBUG"):
                raise
            message = str(err).strip().splitlines()[0] if str(err).strip() else repr(err)
            if isinstance(err, KeyError):
                message = f"missing key {err}"
            print(f"{PROG}: error: {message}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130


if __name__ == "__main__":
    sys.exit(main())
