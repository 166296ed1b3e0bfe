r"""Optimiser steps over the training data: an Adam epoch and an L-BFGS run.

Adam: the training structures in a fresh random order (``state.rng``), cut
into mini-batches of ``batch_size`` structures; one Adam step per batch on
the gradient of the batch loss (``loss.loss_and_gradient``); after the epoch
the learning rate decays, alpha <- max(lr_min, alpha * lr_decay).

L-BFGS: ``optimizers.lbfgs`` on the loss of the whole training set, one
iteration per epoch; the loop's epoch end runs in its callback. A resumed
run starts with an empty L-BFGS memory (scipy keeps it inside ``minimize``).

The Kalman filter's epoch is in ``training.kalman_steps``.
"""

from __future__ import annotations

import time

import numpy as np

from nnp_ref.training.batch import make_batch
from nnp_ref.training.loss import loss_and_gradient
from nnp_ref.training.optimizers import lbfgs
from nnp_ref.training.parameters import set_parameters
from nnp_ref.training.problem import TrainingProblem
from nnp_ref.training.state import TrainingState


def adam_epoch(problem: TrainingProblem, state: TrainingState) -> None:
    """One pass over the shuffled training set in mini-batches, one Adam step each."""
    cfg, potential, opt = problem.config, problem.potential, state.optimizer
    order = state.rng.permutation(len(problem.train_items))
    for start in range(0, len(order), cfg.batch_size):
        indices = order[start : start + cfg.batch_size]
        if problem.parallel is not None:  # shared out over MPI ranks (training.parallel)
            _, grad = problem.parallel.loss_and_gradient(problem, indices)
        else:
            batch = make_batch([problem.train_items[i] for i in indices], potential)
            _, grad = loss_and_gradient(potential, batch, problem.weights, cfg.use_forces)
        state.w = opt.step(state.w, grad)
        set_parameters(potential, state.w)
    opt.lr = max(cfg.lr_min, opt.lr * cfg.lr_decay)


def run_lbfgs(problem: TrainingProblem, state: TrainingState, end_epoch, should_stop) -> None:
    """L-BFGS iterations on the full training set until the budget or ``should_stop()``.

    ``end_epoch(update_time, train_errors)`` is the loop's epoch end, called
    after every iteration with the training RMSEs when the last loss
    evaluation was at the new weights (it usually is).
    """
    cfg, potential = problem.config, problem.potential
    parallel = problem.parallel
    full = make_batch(problem.train_items, potential) if parallel is None else None
    everything = np.arange(len(problem.train_items))
    last = {}
    t_epoch = [time.perf_counter()]

    def fun_and_grad(w):
        set_parameters(potential, w)
        if parallel is not None:  # shared out over MPI ranks (training.parallel)
            value, grad = parallel.loss_and_gradient(problem, everything)
        else:
            value, grad = loss_and_gradient(potential, full, problem.weights, cfg.use_forces)
        last["w"], last["value"] = w.copy(), value
        return value.total, grad

    def callback(w, f):
        update_time = time.perf_counter() - t_epoch[0]
        state.w = np.array(w, dtype=float)
        set_parameters(potential, state.w)
        state.epoch += 1
        errors = None
        if "w" in last and np.array_equal(last["w"], state.w):
            v = last["value"]
            errors = (v.rmse_energy, v.rmse_force, v.rmse_stress if cfg.use_stress else np.nan)
        end_epoch(update_time, errors)
        if should_stop():
            raise StopIteration
        t_epoch[0] = time.perf_counter()

    if should_stop():
        return
    result = lbfgs(fun_and_grad, state.w, cfg.epochs - state.epoch, callback, cfg.lbfgs_memory)
    if not state.stopped and state.epoch < cfg.epochs:
        state.stopped = f"L-BFGS stopped: {result.message}"
    set_parameters(potential, state.w)
