"""The mutable state of a training run: everything a checkpoint must restore.

One small dataclass, changed by the loop (``training.loop``) and the
optimiser steps (``training.steps``, ``training.kalman_steps``), written and
read by ``training.checkpoint``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainingState:
    """State of a run (N_w = number of network parameters).

    ``w`` (N_w,): current weights (flat, ``training.parameters`` order);
    ``best_w`` (N_w,): weights of the best epoch; ``best_metric``: its loss
    (validation, or training without a validation set); ``best_epoch``;
    ``bad_epochs``: epochs since the last improvement (early stopping);
    ``epoch``: epochs done; ``update_time``: seconds spent in updates;
    ``wall_offset``: wall seconds of earlier runs (resume); ``t_start``:
    ``time.perf_counter()`` at the start of this run; ``history``: one dict
    per epoch (``config.HISTORY_COLUMNS``); ``rng``: the run's
    ``np.random.Generator`` (shuffles, Kalman draws); ``optimizer``: an
    ``Adam``, a ``KalmanFilter`` or None (L-BFGS keeps no state between
    runs); ``e_queue``/``f_queue``: Kalman's shuffled structure indices not
    yet used (lists of int); ``stopped``: why the loop ended ("" while
    running).
    """

    w: np.ndarray
    best_w: np.ndarray
    rng: np.random.Generator
    optimizer: object = None
    best_metric: float = np.inf
    best_epoch: int = 0
    bad_epochs: int = 0
    epoch: int = 0
    update_time: float = 0.0
    wall_offset: float = 0.0
    t_start: float = 0.0
    history: list = field(default_factory=list)
    e_queue: list = field(default_factory=list)
    f_queue: list = field(default_factory=list)
    stopped: str = ""
