"""Checkpoint files of a training run, written atomically so a kill loses nothing finished.

In ``checkpoint_dir``:

- ``history.csv``: the learning curve, one row per epoch (``config.HISTORY_COLUMNS``);
- ``best_model.json`` / ``last_model.json``: readable models (``io.model_json``);
- ``state.npz``: the :class:`~nnp_ref.training.state.TrainingState` (weights,
  best weights, optimiser arrays and scalars, random-generator state,
  queues, history, config as JSON), so that a resumed run continues
  bit-identically.

Every file is written to a temporary name and renamed (``os.replace``).
"""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import numpy as np

from nnp_ref.io.atomic import atomic_write, atomic_write_text
from nnp_ref.io.model_json import save_model
from nnp_ref.model.potential import Potential
from nnp_ref.training.config import HISTORY_COLUMNS, TrainingConfig
from nnp_ref.training.parameters import set_parameters
from nnp_ref.training.state import TrainingState


def write_history(path: Path, history: list[dict]) -> None:
    """``history.csv``: one row per epoch, floats with 10 significant digits."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_text(path, buffer.getvalue())


def read_history(path) -> list[dict]:
    """Learning curve written by the trainer (``history.csv``) as a list of dicts of floats."""
    with open(path, encoding="utf-8") as handle:
        return [
            {k: float(v) if v != "" else float("nan") for k, v in row.items()}
            for row in csv.DictReader(handle)
        ]


def save_labelled_model(potential: Potential, metadata: dict, path: Path) -> None:
    """A copy of ``potential`` with ``metadata["training"]`` set, saved to ``path``."""
    model = copy.deepcopy(potential)
    model.metadata = {**model.metadata, "training": metadata}
    save_model(model, path)


def save_state(directory: Path, state: TrainingState, config: TrainingConfig, wall: float):
    """``state.npz`` (weights, optimiser, random state, history), written atomically."""
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {"w": state.w, "best_w": state.best_w}
    scalars = {}
    if state.optimizer is not None:
        for key, value in state.optimizer.state_dict().items():
            if isinstance(value, np.ndarray):
                arrays[f"opt_{key}"] = value
            else:
                scalars[key] = value
    if config.optimizer == "kalman":
        scalars["e_queue"], scalars["f_queue"] = list(state.e_queue), list(state.f_queue)
    meta = {
        "epoch": state.epoch,
        "best_metric": state.best_metric,
        "best_epoch": state.best_epoch,
        "bad_epochs": state.bad_epochs,
        "update_time": state.update_time,
        "wall_time": wall,
        "rng_state": state.rng.bit_generator.state,
        "optimizer_state": scalars,
        "history": state.history,
        "config": config.to_dict(),
    }
    arrays["meta_json"] = np.array(json.dumps(meta))
    atomic_write(directory / "state.npz", lambda handle: np.savez(handle, **arrays), binary=True)


def load_state(path: Path, state: TrainingState, config: TrainingConfig, potential) -> None:
    """Restore ``state`` (and the potential's weights) from ``state.npz``, in place.

    ``state.optimizer`` must already exist (made from ``config``); a
    checkpoint of another optimiser is a ValueError naming both.
    """
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    meta = json.loads(str(arrays.pop("meta_json")))
    if meta["config"]["optimizer"] != config.optimizer:
        raise ValueError(
            f"checkpoint {path} was written by optimizer {meta['config']['optimizer']!r}, "
            f"not {config.optimizer!r}"
        )
    state.w = arrays["w"].copy()
    set_parameters(potential, state.w)
    state.best_w = arrays["best_w"].copy()
    state.epoch, state.best_epoch = int(meta["epoch"]), int(meta["best_epoch"])
    state.best_metric, state.bad_epochs = float(meta["best_metric"]), int(meta["bad_epochs"])
    state.update_time, state.wall_offset = float(meta["update_time"]), float(meta["wall_time"])
    state.rng.bit_generator.state = meta["rng_state"]
    state.history = meta["history"]
    scalars = meta["optimizer_state"]
    if state.optimizer is not None:
        opt_state = dict(scalars)
        opt_state.update({k[4:]: v for k, v in arrays.items() if k.startswith("opt_")})
        state.optimizer.load_state_dict(opt_state)
    if config.optimizer == "kalman":
        state.e_queue, state.f_queue = list(scalars["e_queue"]), list(scalars["f_queue"])
