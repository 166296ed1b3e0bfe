r"""The training loop: epochs, history, best model, early stopping, checkpoints, budget.

``fit(problem)``:

1. epoch 0 = the errors of the initial weights (as n2p2's learning curve);
2. each epoch: the optimiser's updates (``steps.adam_epoch``, one iteration
   of ``steps.run_lbfgs``, or ``kalman_steps.kalman_epoch``), then the RMSEs
   of energies per atom, forces (and stresses) on the training and
   validation sets;
3. the best model (lowest validation loss, or training loss without a
   validation set) is kept, and written to ``best_model.json``; with a
   ``checkpoint_dir`` the current weights, optimiser and random state go to
   ``last_model.json`` + ``state.npz`` and the learning curve to
   ``history.csv`` (``training.checkpoint``), so ``fit(resume=True)``
   continues where a run stopped - bit-identically for Adam and the Kalman
   filter; L-BFGS restarts its memory (scipy's L-BFGS-B cannot be resumed).
   Over MPI (``training.parallel``) only rank 0 writes; every rank reads
   the checkpoint it resumes;
4. stop after ``epochs`` (the budget), or ``patience`` epochs without
   improvement (early stopping), or - only if the optional ``max_time`` is
   set - before an epoch that would end after ``max_time`` seconds (judged
   by the last epoch's duration).

Every random choice comes from ``np.random.default_rng(config.seed)``.
"""

from __future__ import annotations

import copy
import math
import time
from pathlib import Path

import numpy as np

from nnp_ref.io.model_json import save_model
from nnp_ref.training import checkpoint
from nnp_ref.training.config import TrainingResult
from nnp_ref.training.kalman_steps import kalman_epoch, make_kalman_filter, single_structure_batches
from nnp_ref.training.optimizers import Adam
from nnp_ref.training.parameters import get_parameters, set_parameters
from nnp_ref.training.problem import TrainingProblem, errors, loss_of
from nnp_ref.training.state import TrainingState
from nnp_ref.training.steps import adam_epoch, run_lbfgs


def new_state(problem: TrainingProblem) -> TrainingState:
    """Fresh state: current weights, the seeded generator and the configured optimiser."""
    cfg = problem.config
    w = get_parameters(problem.potential)
    state = TrainingState(w=w, best_w=w.copy(), rng=np.random.default_rng(cfg.seed))
    if cfg.optimizer == "adam":
        state.optimizer = Adam(w.size, lr=cfg.learning_rate)
    elif cfg.optimizer == "kalman":
        state.optimizer = make_kalman_filter(problem, w.size)
    return state


def wall_time(state: TrainingState) -> float:
    """Seconds of this run plus those of the runs it resumes."""
    return state.wall_offset + time.perf_counter() - state.t_start


def should_stop(problem: TrainingProblem, state: TrainingState) -> bool:
    """Sets ``state.stopped`` when the budget, patience or optional time limit is reached."""
    cfg = problem.config
    if state.stopped:
        return True
    if state.epoch >= cfg.epochs:
        state.stopped = f"reached {cfg.epochs} epochs"
    elif cfg.patience is not None and state.bad_epochs >= cfg.patience:
        state.stopped = f"early stopping: no improvement for {cfg.patience} epochs"
    elif cfg.max_time is not None and wall_time(state) + _last_epoch_time(state) > cfg.max_time:
        state.stopped = f"time budget of {cfg.max_time:g} s used"
    return bool(state.stopped)


def _last_epoch_time(state: TrainingState) -> float:
    """Wall time of the last epoch: another one would take about as long."""
    if len(state.history) < 2:
        return 0.0
    return state.history[-1]["wall_time_s"] - state.history[-2]["wall_time_s"]


def learning_rate(problem: TrainingProblem, state: TrainingState) -> float:
    """Adam's alpha, the Kalman filter's eta, NaN for L-BFGS."""
    if problem.config.optimizer == "adam":
        return state.optimizer.lr
    if problem.config.optimizer == "kalman":
        return state.optimizer.eta
    return float("nan")


def metadata(problem: TrainingProblem, state: TrainingState) -> dict:
    """The ``training`` entry of a saved model's metadata."""
    last = state.history[-1] if state.history else {}
    best = next((h for h in state.history if h["epoch"] == state.best_epoch), last)
    out = {
        "optimizer": problem.config.optimizer,
        "epochs": state.epoch,
        "best_epoch": state.best_epoch,
        "n_train": len(problem.train_items),
        "n_validation": len(problem.validation_items),
        "energy_unit_eV": problem.u_E,
        "force_unit_eV_per_A": problem.u_F,
        "best": {k: v for k, v in best.items() if k.startswith("rmse") and math.isfinite(v)},
        "config": problem.config.to_dict(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    if problem.config.use_stress:
        out["stress_unit_eV_per_A3"] = problem.u_S
    return out


def history_row(problem, state, update_time, train_errors, validation_errors) -> dict:
    """One row of the learning curve (``config.HISTORY_COLUMNS``; meV, Å)."""
    rmse_E, rmse_F, rmse_S = train_errors
    val_E, val_F, val_S = validation_errors
    n_train = len(problem.train_items)
    return {
        "epoch": state.epoch,
        "wall_time_s": wall_time(state),
        "update_time_s": update_time,
        "structures_per_s": n_train / update_time if update_time > 0 else 0.0,
        "rmse_energy_train_meV_per_atom": 1e3 * rmse_E,
        "rmse_force_train_meV_per_A": 1e3 * rmse_F,
        "rmse_energy_validation_meV_per_atom": 1e3 * val_E,
        "rmse_force_validation_meV_per_A": 1e3 * val_F,
        "loss_train": loss_of(problem, rmse_E, rmse_F, rmse_S),
        "loss_validation": (
            loss_of(problem, val_E, val_F, val_S) if problem.validation_eval else math.nan
        ),
        "learning_rate": learning_rate(problem, state),
        "rmse_stress_train_meV_per_A3": 1e3 * rmse_S,
        "rmse_stress_validation_meV_per_A3": 1e3 * val_S,
    }


def writes_files(problem) -> Path | None:
    """The checkpoint folder if this process writes it: None without one or on MPI rank > 0."""
    cfg, parallel = problem.config, problem.parallel
    if not cfg.checkpoint_dir or (parallel is not None and parallel.rank != 0):
        return None
    return Path(cfg.checkpoint_dir)


def end_epoch(problem, state, bar, update_time: float, train_errors=None) -> None:
    """Errors, history, best model, checkpoint and progress after one epoch."""
    cfg = problem.config
    state.update_time += update_time
    train_errors = train_errors or errors(problem, problem.train_eval)
    validation_errors = errors(problem, problem.validation_eval)
    row = history_row(problem, state, update_time, train_errors, validation_errors)
    state.history.append(row)
    metric = row["loss_validation"] if problem.validation_eval else row["loss_train"]
    directory = writes_files(problem)
    if not math.isfinite(metric):
        state.stopped = f"non-finite loss at epoch {state.epoch}"
    elif metric < state.best_metric:
        state.best_metric, state.best_epoch, state.bad_epochs = metric, state.epoch, 0
        state.best_w = state.w.copy()
        if directory:
            checkpoint.save_labelled_model(
                problem.potential, metadata(problem, state), directory / "best_model.json"
            )
    else:
        state.bad_epochs += 1
    if directory:
        checkpoint.write_history(directory / "history.csv", state.history)
        every = max(cfg.checkpoint_every, 1)
        if (state.epoch > 0 and state.epoch % every == 0) or should_stop(problem, state):
            checkpoint.save_labelled_model(
                problem.potential, metadata(problem, state), directory / "last_model.json"
            )
            checkpoint.save_state(directory, state, cfg, wall_time(state))
    if state.epoch > 0:
        bar.update(1)
    bar.set_postfix(**_progress(row, bool(problem.validation_eval)))


def _progress(row: dict, validation: bool) -> dict:
    """RMSEs train[/validation] in meV/atom and meV/Å for the progress bar."""
    E = f"{row['rmse_energy_train_meV_per_atom']:.2f}"
    F = f"{row['rmse_force_train_meV_per_A']:.1f}"
    if validation:
        E += f"/{row['rmse_energy_validation_meV_per_atom']:.2f}"
        F += f"/{row['rmse_force_validation_meV_per_A']:.1f}"
    return {"E": E, "F": F}


def fit(problem: TrainingProblem, resume: bool = False) -> TrainingResult:
    """Run the epoch loop (module docstring); ``resume`` continues a checkpoint."""
    from tqdm.auto import tqdm

    cfg = problem.config
    state = new_state(problem)
    single = single_structure_batches(problem) if cfg.optimizer == "kalman" else None
    directory = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
    if resume:
        if directory is None or not (directory / "state.npz").is_file():
            raise FileNotFoundError(f"no checkpoint to resume from in {directory}")
        checkpoint.load_state(directory / "state.npz", state, cfg, problem.potential)
    state.t_start = time.perf_counter()
    bar = tqdm(total=cfg.epochs, initial=state.epoch, desc=f"training ({cfg.optimizer})",
               disable=not cfg.progress)  # fmt: skip
    if not state.history:
        end_epoch(problem, state, bar, 0.0)  # epoch 0: the initial weights
    try:
        if cfg.optimizer == "lbfgs":
            run_lbfgs(
                problem,
                state,
                lambda t, e: end_epoch(problem, state, bar, t, e),
                lambda: should_stop(problem, state),
            )
        else:
            while not should_stop(problem, state):
                t0 = time.perf_counter()
                if cfg.optimizer == "adam":
                    adam_epoch(problem, state)
                else:
                    kalman_epoch(problem, state, single)
                state.epoch += 1
                end_epoch(problem, state, bar, time.perf_counter() - t0)
    finally:
        bar.close()
    if not state.stopped:
        state.stopped = f"reached {cfg.epochs} epochs"
    final = copy.deepcopy(problem.potential)
    set_parameters(problem.potential, state.best_w)
    best = copy.deepcopy(problem.potential)
    for pot in (best, final):
        pot.metadata = {**pot.metadata, "training": metadata(problem, state)}
    if writes_files(problem) is not None:
        save_model(best, directory / "best_model.json")
    return TrainingResult(
        best, final, list(state.history), state.best_epoch, state.stopped,
        state.update_time, wall_time(state),
    )  # fmt: skip
