"""The recipe as steps: data -> split -> build -> train -> test -> MD.

Each step is one small function over plain values (lists of ``ase.Atoms``,
a ``Split``, a ``Potential``, a ``TrainingResult``), so the two users of the
whole recipe read as the same short sequence:

- ``nnp-ref train config.toml`` (:func:`run_training`, from a checked
  :class:`nnp_ref.config.RunConfig`);
- ``nnp-ref demo`` (:mod:`nnp_ref.course.demo`: the same steps on EMT copper,
  then NVE and Langevin MD and a report).

The steps (Behler, Int. J. Quantum Chem. 115, 1032 (2015), section 4):

1. :func:`load_data`: reference structures from a file or generated;
2. :func:`split_data`: training / validation / test, at random with a seed;
3. :func:`build`: symmetry functions, scaling from the training set, networks;
4. :func:`train`: the epoch loop; the model with the lowest validation error
   is kept (budgets are epochs, so results depend on the seed, not on the
   speed of the machine; a wall-clock cap only if asked for: ``max_time``);
5. :func:`measure_errors`: errors on the held-out structures;
6. :func:`nve_study`, :func:`md_frames`: MD with the trained potential.

Files: :func:`prepare_output_dir` refuses to train into a folder that already
holds results unless asked to resume or overwrite; :func:`save_model_files`,
:func:`save_test_files` and :func:`write_json` write atomically.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------
# 1-2. Data
# ---------------------------------------------------------------------------


def load_data(data, base=".", progress: bool = True) -> list:
    """The structures of a [data] table (:class:`nnp_ref.config.DataSection`).

    ``data.path`` (relative to ``base``) is read with
    :func:`nnp_ref.io.formats.read_structures` (every structure checked, a
    reference energy required); ``data.generate`` labels new structures.
    """
    from nnp_ref.data.datasets import generate_reference_data
    from nnp_ref.io.formats import parse_unit, read_structures

    if data.generate is not None:
        g = data.generate
        return generate_reference_data(
            kind=g.kind, n_structures=g.n_structures, seed=g.seed, progress=progress
        )
    return read_structures(
        Path(base) / data.path,
        length_unit=parse_unit(data.length_unit, "length"),
        energy_unit=parse_unit(data.energy_unit, "energy"),
        need_energy=True,
    )


def split_data(structures, validation: float = 0.1, test: float = 0.1, seed: int = 0):
    """Training, validation and test sets, at random (``nnp_ref.data.datasets.split_random``)."""
    from nnp_ref.data.datasets import split_random

    return split_random(structures, validation, test, seed=seed)


# ---------------------------------------------------------------------------
# 3-5. Build, train, test
# ---------------------------------------------------------------------------


def build(train_structures, progress: bool = True, store_dir=None, **options):
    """A fresh potential for the training set; returns (potential, descriptors).

    ``options``: ``build_potential``'s keywords (``rc``, ``hidden``,
    ``n_radial``, ...; see :class:`nnp_ref.config.PotentialSection`).
    ``store_dir``: descriptors into the on-disk store there, scaling
    statistics streamed from it (``descriptors`` is then the store). Under
    ``mpiexec`` rank 0 builds (and writes the store) and sends the potential
    to the other ranks, whose ``descriptors`` are None.
    """
    from nnp_ref.training.parallel import on_rank_0, under_mpiexec
    from nnp_ref.training.trainer import build_potential

    if not under_mpiexec():
        return build_potential(train_structures, progress=progress, store_dir=store_dir, **options)
    potential = on_rank_0(
        lambda: build_potential(
            train_structures, progress=progress, store_dir=store_dir, **options
        )[0]  # fmt: skip
    )
    return potential, None


def train(potential, split, config, descriptors=None, checkpoint_dir=None, resume=False):
    """Fit ``potential`` on ``split.train``, validated on ``split.validation``.

    ``config``: a ``TrainingConfig``; ``checkpoint_dir``: where the trainer
    keeps ``history.csv``, ``best_model.json`` and its resumable state.
    Returns the ``TrainingResult`` (``result.potential``: the best model).
    """
    import dataclasses

    from nnp_ref.training.trainer import Trainer

    if checkpoint_dir is not None:
        config = dataclasses.replace(config, checkpoint_dir=str(checkpoint_dir))
    from nnp_ref.training.parallel import train_distributed, under_mpiexec

    if under_mpiexec():  # data-parallel, descriptors in a store: the same bits for any -n
        return train_distributed(potential, split.train, split.validation, config,
                                 store_dir=config.store_dir, resume=resume)  # fmt: skip
    trainer = Trainer(
        potential, split.train, split.validation, config, train_descriptors=descriptors
    )
    return trainer.fit(resume=resume)


def measure_errors(potential, structures, progress: bool = False, extrapolation: str = "warn"):
    """Predictions and error metrics on held-out structures; returns (predictions, metrics).

    ``extrapolation``: "warn" (one warning for the set), "raise" or "off"; the
    per-structure counts are in ``predictions.n_extrapolations_s`` either way.
    """
    from nnp_ref.analysis.errors import metrics, predict_dataset

    pred = predict_dataset(potential, structures, progress=progress, extrapolation=extrapolation)
    return pred, metrics(pred)


# ---------------------------------------------------------------------------
# 6. Molecular dynamics
# ---------------------------------------------------------------------------


def nve_study(atoms, calculator, dts_fs, duration_fs, init_temperature_K, seed=0, progress=True):
    """Velocity Verlet at each time step from the same start (``energy_conservation``).

    ``init_temperature_K``: Maxwell-Boltzmann momenta at this temperature.
    By equipartition a harmonic crystal started from its ideal positions
    ends at about half of it (half the kinetic energy flows into potential
    energy), so start at twice the temperature you want to see.
    """
    from nnp_ref.analysis.observables import energy_conservation

    work = atoms.copy()
    work.calc = calculator
    return energy_conservation(
        work, dts_fs, duration_fs, init_temperature_K=init_temperature_K, seed=seed,
        progress=progress,
    )  # fmt: skip


def md_frames(
    atoms,
    calculator,
    temperature_K: float,
    dt_fs: float,
    equilibration_steps: int,
    steps: int,
    every: int,
    trajectory,
    seed=0,
    friction: float = 0.02,
    progress: bool = True,
):
    """Langevin MD; returns (frames after equilibration, ``MDResult``).

    Frames are written to the file ``trajectory`` (.traj or .extxyz) every
    ``every`` steps and read back from it.
    """
    import ase.io

    from nnp_ref.dynamics.md import run_md

    work = atoms.copy()
    work.calc = calculator
    result = run_md(
        work,
        dt_fs,
        equilibration_steps + steps,
        "langevin",
        temperature_K=temperature_K,
        friction=friction,
        seed=seed,
        init_temperature_K=temperature_K,
        trajectory=trajectory,
        write_every=every,
        progress=progress,
    )
    frames = list(ase.io.iread(str(trajectory)))
    return frames[int(np.ceil(equilibration_steps / every)) :], result


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

#: What a training run writes into its output folder.
OUTPUT_FILES = ("model.json", "metrics.json", "learning_curve.png", "training")


def prepare_output_dir(out, resume: bool = False, overwrite: bool = False) -> Path:
    """Create the output folder; refuse one that already holds results.

    An existing folder with any of :data:`OUTPUT_FILES` is an error unless
    ``resume`` (continue its checkpoint) or ``overwrite`` (replace its files).
    """
    out = Path(out)
    if resume and overwrite:
        raise ValueError("resume and overwrite exclude each other")
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output folder {out} is a file")
    if resume:
        if not (out / "training" / "state.npz").is_file():
            raise FileNotFoundError(f"no checkpoint to resume in {out / 'training'}")
        return out
    held = [name for name in OUTPUT_FILES if (out / name).exists()]
    if held and not overwrite:
        raise FileExistsError(
            f"output folder {out} already holds a training run ({', '.join(held)}); "
            "resume it (--resume) or replace it (--overwrite)"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def plain(value):
    """JSON-safe values: tuples to lists, numpy scalars to Python, NaN/inf to None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, data: dict) -> Path:
    """Strict JSON (NaN/inf as null), written atomically."""
    from nnp_ref.io.model_json import atomic_write_text

    atomic_write_text(path, json.dumps(plain(data), indent=2, allow_nan=False) + "\n")
    return Path(path)


def save_figure(fig, path, dpi: int = 150) -> Path:
    """Save and close a figure (closing is a no-op for plain ``Figure`` objects)."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def save_model_files(out, result, n2p2: bool = False) -> Path:
    """``model.json`` (the best model), ``learning_curve.png`` and optionally ``model_n2p2/``."""
    from nnp_ref.analysis.errors import plot_learning_curve
    from nnp_ref.io.model_json import export_n2p2, save_model

    out = Path(out)
    model_file = save_model(result.potential, out / "model.json")
    if n2p2:
        export_n2p2(result.potential, out / "model_n2p2")
    save_figure(plot_learning_curve(result.history, labels=["NNP"]), out / "learning_curve.png")
    return model_file


def save_test_files(out, structures, pred) -> None:
    """``test_set.extxyz`` and ``parity.png`` of a test set and its predictions."""
    from nnp_ref.analysis.errors import parity_plot
    from nnp_ref.data.datasets import write_extxyz

    write_extxyz(Path(out) / "test_set.extxyz", structures)
    save_figure(parity_plot(pred), Path(out) / "parity.png")


# ---------------------------------------------------------------------------
# The whole recipe from a config file
# ---------------------------------------------------------------------------


def run_training(config, out=None, resume=False, overwrite=False, progress=True, say=print) -> dict:
    """Steps 1-5 for a checked config (:func:`nnp_ref.config.load_config`).

    Writes ``model.json``, ``learning_curve.png``, ``training/`` and, with a
    test split, ``test_set.extxyz``, ``parity.png``; returns the summary
    also written to ``metrics.json``. ``say``: where messages go. With
    ``[training] store_dir`` the descriptors live on disk there and stream
    (build and training); under ``mpiexec`` always, by default in
    ``<out>/training/descriptors``.
    """
    import dataclasses

    from nnp_ref.training.parallel import mpi_rank, mpi_world_size, on_rank_0, shard, under_mpiexec

    out = Path(out or config.output_dir)
    root = mpi_rank() == 0  # under mpiexec only rank 0 writes and talks (errors: SharedError)
    if under_mpiexec():
        on_rank_0(lambda: prepare_output_dir(out, resume=resume, overwrite=overwrite))
    else:
        prepare_output_dir(out, resume=resume, overwrite=overwrite)
    if not root:
        progress, say = False, lambda *text: None
    training = dataclasses.replace(config.training, progress=progress and config.training.progress)
    if training.store_dir is None and under_mpiexec():  # ranks share descriptors through a store
        training = dataclasses.replace(training, store_dir=str(out / "training" / "descriptors"))
    structures = load_data(config.data, config.base, progress)
    split = split_data(structures, config.data.validation, config.data.test, config.data.split_seed)
    say(f"data: {len(structures)} structures -> {split}")
    if under_mpiexec():  # more ranks than structures: said before any descriptor is computed
        on_rank_0(lambda: shard(len(split.train), 0, mpi_world_size()))
    potential, descriptors = build(split.train, progress=progress, store_dir=training.store_dir,
                                   **config.potential.options())  # fmt: skip
    result = train(potential, split, training, descriptors, out / "training", resume=resume)
    if not root:
        return {"model": str(out / "model.json"), "best_epoch": result.best_epoch,
                "stopped": result.stopped}  # fmt: skip
    model_file = save_model_files(out, result)
    summary = {
        "model": str(model_file),
        "best_epoch": result.best_epoch,
        "stopped": result.stopped,
        "n_train": len(split.train),
        "n_validation": len(split.validation),
        "n_test": len(split.test),
    }
    if split.test:
        pred, summary["test"] = measure_errors(result.potential, split.test, progress)
        save_test_files(out, split.test, pred)
    write_json(out / "metrics.json", summary)
    return summary


__all__ = [
    "OUTPUT_FILES",
    "build",
    "load_data",
    "md_frames",
    "nve_study",
    "plain",
    "prepare_output_dir",
    "run_training",
    "save_figure",
    "save_model_files",
    "save_test_files",
    "split_data",
    "measure_errors",
    "train",
    "write_json",
]
