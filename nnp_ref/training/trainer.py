r"""Training an HDNNP: build a potential, then an epoch loop with validation and checkpoints.

Typical use (the tutorials' EMT copper)::

    from nnp_ref.data.datasets import default_dataset, split_random
    from nnp_ref.training.trainer import TrainingConfig, Trainer, build_potential

    split = split_random(default_dataset(), validation=0.1, test=0.1, seed=0)
    potential, descriptors = build_potential(split.train, rc=5.5, seed=0)
    trainer = Trainer(potential, split.train, split.validation,
                      TrainingConfig(optimizer="kalman", epochs=30),
                      train_descriptors=descriptors)
    result = trainer.fit()          # result.potential: the best model
    result.potential                # -> NNPCalculator(result.potential)

The loop (``Trainer.fit``):

1. precompute every structure's descriptors once (``loss.StructureData``);
2. epoch 0 = the errors of the initial weights (as n2p2's learning curve);
3. each epoch: the optimiser's updates (Adam over shuffled mini-batches, one
   L-BFGS iteration over the full batch, or a shuffled schedule of Kalman
   energy and force updates), then the RMSEs of energies per atom and forces
   on the training and validation sets;
4. the best model (lowest validation loss, or training loss without a
   validation set) is kept and written to ``best_model.json``; with a
   ``checkpoint_dir`` the current weights, optimiser and random state go to
   ``last_model.json`` + ``state.npz`` (atomically), and the learning curve to
   ``history.csv``, so ``fit(resume=True)`` continues where a run stopped;
5. stop after ``epochs``, or ``patience`` epochs without improvement (early
   stopping), or before an epoch that would end after ``max_time`` seconds
   (judged by the last epoch's duration).

Errors are normalised as in n2p2 (``nnp-norm``): u_E, the standard deviation
of the per-atom energy remainder after the element energies, and u_F, the
RMS reference force component; the loss weights are
w_E = energy_weight / u_E^2 and w_F = force_weight / u_F^2, the Kalman
filter sees errors in these units. Every random choice comes from
``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nnp_ref.data.datasets import check_dataset, elements_of
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.io.model_json import atomic_write_text, save_model
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential
from nnp_ref.training.loss import (
    LossWeights,
    energy_jacobian,
    force_jacobian,
    get_parameters,
    loss_and_gradient,
    make_batch,
    predict,
    set_parameters,
    structure_data,
)
from nnp_ref.training.optimizers import Adam, KalmanFilter, KalmanSettings, lbfgs
from nnp_ref.training.preprocessing import (
    compute_descriptors,
    default_symmetry_functions,
    energy_force_units,
    fit_element_energies,
    scaling_from_descriptors,
)

HISTORY_COLUMNS = (
    "epoch",
    "wall_time_s",
    "update_time_s",
    "structures_per_s",
    "rmse_energy_train_meV_per_atom",
    "rmse_force_train_meV_per_A",
    "rmse_energy_validation_meV_per_atom",
    "rmse_force_validation_meV_per_A",
    "loss_train",
    "loss_validation",
    "learning_rate",
)

# ---------------------------------------------------------------------------
# A new potential from data
# ---------------------------------------------------------------------------


def build_potential(
    structures,
    elements=None,
    symmetry_functions=None,
    hidden=(25, 25),
    activations=None,
    scaling_mode: str = "scalecenter",
    init: str = "glorot",
    seed=0,
    energy_offsets=None,
    energy_scale=None,
    descriptors=None,
    rc: float = 6.0,
    progress: bool = True,
    **sf_options,
):
    """A fresh potential for ``structures`` (the training set); returns (potential, descriptors).

    - ``elements``: default all elements of the data, by atomic number.
    - ``symmetry_functions``: {element: [SymmetryFunction, ...]}; default
      :func:`~nnp_ref.training.preprocessing.default_symmetry_functions` with cutoff
      ``rc`` (Å) and ``sf_options``.
    - scaling from the training-set statistics (``scaling_mode``, n2p2's
      modes; default "scalecenter": (G - mean)/(max - min)).
    - ``energy_offsets``: E0 per element (eV); default the least-squares fit
      on composition. ``energy_scale`` (eV per network output): default
      u_E, the spread of the per-atom remainder.
    - networks ``hidden`` neurons, ``activations`` (default tanh hidden,
      linear output), ``init`` ("glorot" as n2p2's default, or
      "nguyen-widrow"), seeded from ``np.random.default_rng(seed)``.

    The descriptors are returned so that :class:`Trainer` need not compute
    them again.
    """
    check_dataset(structures, elements, need_energy=True, need_forces=False, what="training set")
    elements = tuple(elements) if elements is not None else elements_of(structures)
    sets = symmetry_functions or default_symmetry_functions(elements, rc=rc, **sf_options)
    sfset = SymmetryFunctionSet(sets, elements)
    if descriptors is None:
        descriptors = compute_descriptors(structures, sfset, progress=progress)
    scalings = scaling_from_descriptors(descriptors, elements, mode=scaling_mode)
    offsets = dict(energy_offsets) if energy_offsets else fit_element_energies(structures, elements)
    u_E, _ = energy_force_units(structures, offsets)
    hidden = tuple(hidden)
    activations = tuple(activations) if activations else ("t",) * len(hidden) + ("l",)
    rng = np.random.default_rng(seed)
    networks = {
        e: nn.make_network(len(sets[e]), hidden, activations, init=init,
                           seed=int(rng.integers(2**63)))
        for e in elements
    }  # fmt: skip
    potential = Potential(
        elements,
        sets,
        networks,
        scalings=scalings,
        energy_offsets=offsets,
        energy_scale=float(energy_scale) if energy_scale else u_E,
        metadata={"created_by": "nnp_ref.training.trainer.build_potential"},
    )
    return potential, descriptors


# ---------------------------------------------------------------------------
# Configuration and result
# ---------------------------------------------------------------------------


@dataclass
class TrainingConfig:
    """Settings of :class:`Trainer` (defaults in brackets).

    General: ``optimizer`` ["adam"], "lbfgs" or "kalman"; ``epochs`` [100];
    ``use_forces`` [True]; ``energy_weight``, ``force_weight`` [1, 1]:
    weights of the normalised squared errors; ``l2`` [0]: L2 factor on the
    weights (normalised loss units); ``seed`` [0]; ``patience`` [None]:
    early stopping after so many epochs without a better validation loss;
    ``max_time`` [None]: wall-time budget in seconds; ``progress`` [True];
    ``checkpoint_dir`` [None]; ``checkpoint_every`` [1] epochs;
    ``energy_unit``, ``force_unit`` [None: from the training set]: u_E (eV),
    u_F (eV/Å) of the normalisation.

    Adam: ``batch_size`` [8 structures], ``learning_rate`` [1e-3],
    ``lr_decay`` [1.0, factor per epoch], ``lr_min`` [0].
    L-BFGS: ``lbfgs_memory`` [20]; one iteration per epoch.
    Kalman: ``kalman`` (:class:`~nnp_ref.training.optimizers.KalmanSettings`, n2p2's
    defaults).
    """

    optimizer: str = "adam"
    epochs: int = 100
    use_forces: bool = True
    energy_weight: float = 1.0
    force_weight: float = 1.0
    l2: float = 0.0
    seed: int = 0
    patience: int | None = None
    max_time: float | None = None
    progress: bool = True
    checkpoint_dir: str | None = None
    checkpoint_every: int = 1
    energy_unit: float | None = None
    force_unit: float | None = None
    batch_size: int = 8
    learning_rate: float = 1e-3
    lr_decay: float = 1.0
    lr_min: float = 0.0
    lbfgs_memory: int = 20
    kalman: KalmanSettings = field(default_factory=KalmanSettings)

    def __post_init__(self):
        if isinstance(self.kalman, dict):
            self.kalman = KalmanSettings(**self.kalman)
        if self.optimizer not in ("adam", "lbfgs", "kalman"):
            raise ValueError(
                f"optimizer must be 'adam', 'lbfgs' or 'kalman', got {self.optimizer!r}"
            )
        if self.epochs < 0 or self.batch_size < 1:
            raise ValueError("epochs must be >= 0 and batch_size >= 1")

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["checkpoint_dir"] = None if self.checkpoint_dir is None else str(self.checkpoint_dir)
        return out


@dataclass
class TrainingResult:
    """Outcome of :meth:`Trainer.fit`.

    ``potential``: the best model (lowest validation loss); ``final_potential``:
    the weights after the last epoch; ``history``: one dict per epoch
    (:data:`HISTORY_COLUMNS`, energies in meV/atom, forces in meV/Å);
    ``best_epoch``; ``stopped``: why the loop ended; ``update_time``: seconds
    spent in optimiser updates; ``wall_time``: seconds of the whole loop.
    """

    potential: Potential
    final_potential: Potential
    history: list
    best_epoch: int
    stopped: str
    update_time: float
    wall_time: float

    @property
    def structures_per_second(self) -> float:
        """Training throughput: structures per second of update time (epochs >= 1)."""
        rows = [h for h in self.history if h["epoch"] > 0 and h["update_time_s"] > 0]
        if not rows:
            return float("nan")
        return float(np.mean([h["structures_per_s"] for h in rows]))


# ---------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------


class Trainer:
    """Train ``potential``'s networks on ``train_set`` (list of ``ase.Atoms`` with references).

    The potential is copied; its symmetry functions, scaling, energy offsets
    and scale stay fixed, only the network weights change. Bad data (no
    energies, no forces when ``use_forces``, NaN, unknown elements, an empty
    training set) raise ``ValueError`` naming the structure here, before any
    training. Descriptors can be passed in (as returned by
    :func:`build_potential`) to avoid computing them twice.
    """

    def __init__(
        self,
        potential: Potential,
        train_set,
        validation_set=None,
        config: TrainingConfig | None = None,
        train_descriptors=None,
        validation_descriptors=None,
    ):
        self.config = config or TrainingConfig()
        cfg = self.config
        validation_set = list(validation_set or [])
        train_set = list(train_set)
        check_dataset(train_set, potential.elements, True, cfg.use_forces, "training set")
        if validation_set:
            check_dataset(validation_set, potential.elements, True, cfg.use_forces,
                          "validation set")  # fmt: skip
        present = set(elements_of(train_set))
        missing = [e for e in potential.elements if e not in present]
        if missing:
            raise ValueError(f"no atoms of element(s) {missing} in the training set")
        self.potential = copy.deepcopy(potential)
        sfset = self.potential.descriptor
        progress = cfg.progress
        if train_descriptors is None:
            train_descriptors = compute_descriptors(train_set, sfset, progress=progress)
        if validation_set and validation_descriptors is None:
            validation_descriptors = compute_descriptors(validation_set, sfset, progress=progress)
        self.train_items = [
            structure_data(a, d, f"training structure {i} ({a.get_chemical_formula()})")
            for i, (a, d) in enumerate(zip(train_set, train_descriptors, strict=True))
        ]
        self.validation_items = [
            structure_data(a, d, f"validation structure {i} ({a.get_chemical_formula()})")
            for i, (a, d) in enumerate(
                zip(validation_set, validation_descriptors or [], strict=True)
            )
        ]
        u_E, u_F = energy_force_units(train_set, self.potential.energy_offsets)
        self.u_E = float(cfg.energy_unit or u_E)
        self.u_F = float(cfg.force_unit or u_F)
        self.weights = LossWeights(
            energy=cfg.energy_weight / self.u_E**2,
            force=(cfg.force_weight / self.u_F**2) if cfg.use_forces else 0.0,
            l2=cfg.l2,
        )
        self.train_eval = self._chunks(self.train_items)
        self.validation_eval = self._chunks(self.validation_items)
        self.n_force_components = sum(3 * it.n_atoms for it in self.train_items)

    # -- evaluation -----------------------------------------------------------

    def _chunks(self, items, max_atoms: int = 4000):
        """Evaluation batches of consecutive structures, at most ``max_atoms`` atoms each."""
        chunks, current, n = [], [], 0
        for it in items:
            if current and n + it.n_atoms > max_atoms:
                chunks.append(make_batch(current, self.potential))
                current, n = [], 0
            current.append(it)
            n += it.n_atoms
        if current:
            chunks.append(make_batch(current, self.potential))
        return chunks

    def errors(self, batches) -> tuple[float, float]:
        """(RMSE of energies per atom in eV/atom, RMSE of force components in eV/Å)."""
        if not batches:
            return float("nan"), float("nan")
        se_E = se_F = 0.0
        n_E = n_F = 0
        for batch in batches:
            pred = predict(self.potential, batch, forces=self.config.use_forces)
            dE = (pred.E_b - batch.E_ref_b) / batch.n_atoms_b
            se_E += float(np.sum(dE**2))
            n_E += dE.size
            if self.config.use_forces:
                dF = pred.F_nc - batch.F_ref_nc
                se_F += float(np.sum(dF**2))
                n_F += dF.size
        return math.sqrt(se_E / n_E), (math.sqrt(se_F / n_F) if n_F else float("nan"))

    def _loss_of(self, rmse_E: float, rmse_F: float) -> float:
        loss = self.weights.energy * rmse_E**2
        if self.config.use_forces:
            loss += self.weights.force * rmse_F**2
        return float(loss)

    # -- the loop ----------------------------------------------------------------

    def fit(self, resume: bool = False) -> TrainingResult:
        """Run the epoch loop (see the module docstring); ``resume`` continues a checkpoint."""
        from tqdm.auto import tqdm

        cfg = self.config
        self.rng = np.random.default_rng(cfg.seed)
        self.w = get_parameters(self.potential)
        self.history: list[dict] = []
        self.best_metric = math.inf
        self.best_w = self.w.copy()
        self.best_epoch = 0
        self.bad_epochs = 0
        self.epoch = 0
        self.update_time = 0.0
        self.wall_offset = 0.0
        self._make_optimizer()
        ckpt = Path(cfg.checkpoint_dir) if cfg.checkpoint_dir else None
        if resume:
            if ckpt is None or not (ckpt / "state.npz").is_file():
                raise FileNotFoundError(f"no checkpoint to resume from in {ckpt}")
            self._load_state(ckpt / "state.npz")
        self.t_start = time.perf_counter()
        self.stopped = ""
        self.bar = tqdm(total=cfg.epochs, initial=self.epoch, desc=f"training ({cfg.optimizer})",
                        disable=not cfg.progress)  # fmt: skip
        if not self.history:
            self._end_epoch(0.0)  # epoch 0: the initial weights
        try:
            if cfg.optimizer == "lbfgs":
                self._run_lbfgs()
            else:
                while not self._should_stop():
                    t0 = time.perf_counter()
                    if cfg.optimizer == "adam":
                        self._adam_epoch()
                    else:
                        self._kalman_epoch()
                    self.epoch += 1
                    self._end_epoch(time.perf_counter() - t0)
        finally:
            self.bar.close()
        if not self.stopped:
            self.stopped = f"reached {cfg.epochs} epochs"
        final = copy.deepcopy(self.potential)
        set_parameters(self.potential, self.best_w)
        best = copy.deepcopy(self.potential)
        for pot in (best, final):
            pot.metadata = {**pot.metadata, "training": self._metadata()}
        if ckpt is not None:
            save_model(best, ckpt / "best_model.json")
        return TrainingResult(
            best, final, list(self.history), self.best_epoch, self.stopped,
            self.update_time, self._wall(),
        )  # fmt: skip

    def _wall(self) -> float:
        return self.wall_offset + time.perf_counter() - self.t_start

    def _last_epoch_time(self) -> float:
        """Wall time of the last epoch: another one would take about as long."""
        if len(self.history) < 2:
            return 0.0
        return self.history[-1]["wall_time_s"] - self.history[-2]["wall_time_s"]

    def _should_stop(self) -> bool:
        cfg = self.config
        if self.stopped:
            return True
        if self.epoch >= cfg.epochs:
            self.stopped = f"reached {cfg.epochs} epochs"
        elif cfg.patience is not None and self.bad_epochs >= cfg.patience:
            self.stopped = f"early stopping: no improvement for {cfg.patience} epochs"
        elif cfg.max_time is not None and self._wall() + self._last_epoch_time() > cfg.max_time:
            self.stopped = f"time budget of {cfg.max_time:g} s used"
        return bool(self.stopped)

    def _end_epoch(self, update_time: float, train_errors=None) -> None:
        """Errors, history, best model, checkpoint and progress after one epoch."""
        cfg = self.config
        self.update_time += update_time
        rmse_E, rmse_F = train_errors or self.errors(self.train_eval)
        val_E, val_F = self.errors(self.validation_eval)
        loss_train = self._loss_of(rmse_E, rmse_F)
        loss_val = self._loss_of(val_E, val_F) if self.validation_eval else float("nan")
        row = {
            "epoch": self.epoch,
            "wall_time_s": self._wall(),
            "update_time_s": update_time,
            "structures_per_s": len(self.train_items) / update_time if update_time > 0 else 0.0,
            "rmse_energy_train_meV_per_atom": 1e3 * rmse_E,
            "rmse_force_train_meV_per_A": 1e3 * rmse_F,
            "rmse_energy_validation_meV_per_atom": 1e3 * val_E,
            "rmse_force_validation_meV_per_A": 1e3 * val_F,
            "loss_train": loss_train,
            "loss_validation": loss_val,
            "learning_rate": self._learning_rate(),
        }
        self.history.append(row)
        metric = loss_val if self.validation_eval else loss_train
        if not math.isfinite(metric):
            self.stopped = f"non-finite loss at epoch {self.epoch}"
        elif metric < self.best_metric:
            self.best_metric, self.best_epoch, self.bad_epochs = metric, self.epoch, 0
            self.best_w = self.w.copy()
            if cfg.checkpoint_dir:
                best = copy.deepcopy(self.potential)
                best.metadata = {**best.metadata, "training": self._metadata()}
                save_model(best, Path(cfg.checkpoint_dir) / "best_model.json")
        else:
            self.bad_epochs += 1
        if cfg.checkpoint_dir:
            self._write_history(Path(cfg.checkpoint_dir) / "history.csv")
            every = max(cfg.checkpoint_every, 1)
            if (self.epoch > 0 and self.epoch % every == 0) or self._should_stop():
                self._save_state(Path(cfg.checkpoint_dir))
        if self.epoch > 0:
            self.bar.update(1)
        # RMSE train/validation in meV/atom and meV/Å
        if self.validation_eval:
            E, F = f"{1e3 * rmse_E:.2f}/{1e3 * val_E:.2f}", f"{1e3 * rmse_F:.1f}/{1e3 * val_F:.1f}"
        else:
            E, F = f"{1e3 * rmse_E:.2f}", f"{1e3 * rmse_F:.1f}"
        self.bar.set_postfix(E=E, F=F)

    def _learning_rate(self) -> float:
        if self.config.optimizer == "adam":
            return self.opt.lr
        if self.config.optimizer == "kalman":
            return self.opt.eta
        return float("nan")

    def _metadata(self) -> dict:
        last = self.history[-1] if self.history else {}
        best = next((h for h in self.history if h["epoch"] == self.best_epoch), last)
        return {
            "optimizer": self.config.optimizer,
            "epochs": self.epoch,
            "best_epoch": self.best_epoch,
            "n_train": len(self.train_items),
            "n_validation": len(self.validation_items),
            "energy_unit_eV": self.u_E,
            "force_unit_eV_per_A": self.u_F,
            "best": {k: v for k, v in best.items() if k.startswith("rmse")},
            "config": self.config.to_dict(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        }

    # -- optimisers ----------------------------------------------------------

    def _make_optimizer(self) -> None:
        cfg = self.config
        n = self.w.size
        if cfg.optimizer == "adam":
            self.opt = Adam(n, lr=cfg.learning_rate)
        elif cfg.optimizer == "kalman":
            ks = cfg.kalman
            per_epoch = max(sum(self._kalman_plan()), 1)  # n2p2: tau per epoch / updates
            self.opt = KalmanFilter(
                n, kind=ks.kind, epsilon=ks.epsilon, q0=ks.q0, qtau=ks.qtau / per_epoch,
                qmin=ks.qmin, eta0=ks.eta0, etatau=ks.etatau / per_epoch, etamax=ks.etamax,
                lambda0=ks.lambda0, nu=ks.nu,
            )  # fmt: skip
            self.single = [make_batch([it], self.potential) for it in self.train_items]
            self.e_queue, self.f_queue = [], []
        else:
            self.opt = None

    def _adam_epoch(self) -> None:
        cfg = self.config
        order = self.rng.permutation(len(self.train_items))
        for start in range(0, len(order), cfg.batch_size):
            batch = make_batch([self.train_items[i] for i in order[start : start + cfg.batch_size]],
                               self.potential)  # fmt: skip
            _, grad = loss_and_gradient(self.potential, batch, self.weights, cfg.use_forces)
            self.w = self.opt.step(self.w, grad)
            set_parameters(self.potential, self.w)
        self.opt.lr = max(cfg.lr_min, self.opt.lr * cfg.lr_decay)

    def _run_lbfgs(self) -> None:
        cfg = self.config
        full = make_batch(self.train_items, self.potential)
        last = {}
        t_epoch = [time.perf_counter()]

        def fun_and_grad(w):
            set_parameters(self.potential, w)
            value, grad = loss_and_gradient(self.potential, full, self.weights, cfg.use_forces)
            last["w"], last["value"] = w.copy(), value
            return value.total, grad

        def callback(w, f):
            update_time = time.perf_counter() - t_epoch[0]
            self.w = np.array(w, dtype=float)
            set_parameters(self.potential, self.w)
            self.epoch += 1
            errors = None
            if "w" in last and np.array_equal(last["w"], self.w):
                errors = (last["value"].rmse_energy, last["value"].rmse_force)
            self._end_epoch(update_time, errors)
            if self._should_stop():
                raise StopIteration
            t_epoch[0] = time.perf_counter()

        if self._should_stop():
            return
        result = lbfgs(fun_and_grad, self.w, cfg.epochs - self.epoch, callback, cfg.lbfgs_memory)
        if not self.stopped and self.epoch < cfg.epochs:
            self.stopped = f"L-BFGS stopped: {result.message}"
        set_parameters(self.potential, self.w)

    # -- Kalman filter ------------------------------------------------------

    def _kalman_plan(self) -> tuple[int, int]:
        """(energy updates, force updates) per epoch, as n2p2's update plan."""
        ks = self.config.kalman
        n_E = int(ks.energy_fraction * len(self.train_items))
        n_F = 0
        if self.config.use_forces:
            n_F = int(ks.force_fraction * self.n_force_components / max(ks.forces_per_update, 1))
        return n_E, n_F

    def _next(self, queue_name: str) -> int:
        """Next candidate structure from a shuffled list, reshuffled when used up."""
        queue = getattr(self, queue_name)
        if not queue:
            queue.extend(self.rng.permutation(len(self.train_items)).tolist())
        return queue.pop()

    def _kalman_epoch(self) -> None:
        n_E, n_F = self._kalman_plan()
        schedule = np.zeros(n_E + n_F, dtype=np.int64)
        schedule[:n_F] = 1
        self.rng.shuffle(schedule)
        last = self.history[-1]
        rmse_E = last["rmse_energy_train_meV_per_atom"] * 1e-3
        rmse_F = last["rmse_force_train_meV_per_A"] * 1e-3
        for is_force in schedule:
            if is_force:
                self._kalman_force_update(rmse_F)
            else:
                self._kalman_energy_update(rmse_E)

    def _kalman_energy_update(self, rmse_E: float) -> None:
        """One energy observation: xi = (E_ref - E)/u_E, H = dE/dw / u_E (total energy, n2p2)."""
        ks = self.config.kalman
        best = None
        for _ in range(max(ks.threshold_trials, 1)):
            s = self._next("e_queue")
            batch = self.single[s]
            pred = predict(self.potential, batch, forces=False)
            error = float(batch.E_ref_b[0] - pred.E_b[0])
            if best is None or abs(error) / batch.n_atoms_b[0] > best[0]:
                best = (abs(error) / batch.n_atoms_b[0], s, batch, pred, error)
            if abs(error) / batch.n_atoms_b[0] > ks.energy_threshold * rmse_E:
                break
        _, s, batch, pred, error = best  # weights unchanged during the trials
        H = energy_jacobian(self.potential, batch, pred) / self.u_E
        self.w = self.opt.update(self.w, np.array([error / self.u_E]), H[:, None])
        set_parameters(self.potential, self.w)

    def _kalman_force_update(self, rmse_F: float) -> None:
        """m force components of one structure (n2p2-like threshold selection).

        Components whose error exceeds ``force_threshold`` x RMSE are
        candidates; m of them are drawn at random, filled up with the largest
        remaining errors if fewer qualify. xi = fw (F_ref - F)/u_F,
        H = fw dF/dw / u_F.
        """
        ks = self.config.kalman
        m = max(ks.forces_per_update, 1)
        s = self._next("f_queue")
        batch = self.single[s]
        pred = predict(self.potential, batch, forces=True)
        dF = (batch.F_ref_nc - pred.F_nc).ravel()  # (3n,) reference - prediction
        m = min(m, dF.size)
        above = np.flatnonzero(np.abs(dF) > ks.force_threshold * rmse_F)
        if above.size >= m:
            chosen = self.rng.choice(above, size=m, replace=False)
        else:
            rest = np.setdiff1d(np.arange(dF.size), above)
            fill = rest[np.argsort(-np.abs(dF[rest]))[: m - above.size]]
            chosen = np.concatenate([above, fill])
        k_m, c_m = np.divmod(chosen, 3)
        fw = ks.force_update_weight
        H = fw * force_jacobian(self.potential, batch, pred, k_m, c_m).T / self.u_F  # (N_w, m)
        xi = fw * dF[chosen] / self.u_F
        self.w = self.opt.update(self.w, xi, H)
        set_parameters(self.potential, self.w)

    # -- checkpoints ------------------------------------------------------------

    def _write_history(self, path: Path) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in self.history:
            writer.writerow(
                {k: (f"{v:.10g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
        atomic_write_text(path, buffer.getvalue())

    def _save_state(self, directory: Path) -> None:
        """``last_model.json`` (readable) and ``state.npz`` (weights, optimiser, random state)."""
        directory.mkdir(parents=True, exist_ok=True)
        last = copy.deepcopy(self.potential)
        last.metadata = {**last.metadata, "training": self._metadata()}
        save_model(last, directory / "last_model.json")
        arrays = {"w": self.w, "best_w": self.best_w}
        scalars = {}
        if self.opt is not None:
            for key, value in self.opt.state_dict().items():
                if isinstance(value, np.ndarray):
                    arrays[f"opt_{key}"] = value
                else:
                    scalars[key] = value
        if self.config.optimizer == "kalman":
            scalars["e_queue"], scalars["f_queue"] = list(self.e_queue), list(self.f_queue)
        meta = {
            "epoch": self.epoch,
            "best_metric": self.best_metric,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "update_time": self.update_time,
            "wall_time": self._wall(),
            "rng_state": self.rng.bit_generator.state,
            "optimizer_state": scalars,
            "history": self.history,
            "config": self.config.to_dict(),
        }
        arrays["meta_json"] = np.array(json.dumps(meta))
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".state.", suffix=".npz")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, **arrays)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, directory / "state.npz")
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def _load_state(self, path: Path) -> None:
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        meta = json.loads(str(arrays.pop("meta_json")))
        if meta["config"]["optimizer"] != self.config.optimizer:
            raise ValueError(
                f"checkpoint {path} was written by optimizer {meta['config']['optimizer']!r}, "
                f"not {self.config.optimizer!r}"
            )
        self.w = arrays["w"].copy()
        set_parameters(self.potential, self.w)
        self.best_w = arrays["best_w"].copy()
        self.epoch, self.best_epoch = int(meta["epoch"]), int(meta["best_epoch"])
        self.best_metric, self.bad_epochs = float(meta["best_metric"]), int(meta["bad_epochs"])
        self.update_time, self.wall_offset = float(meta["update_time"]), float(meta["wall_time"])
        self.rng.bit_generator.state = meta["rng_state"]
        self.history = meta["history"]
        scalars = meta["optimizer_state"]
        if self.opt is not None:
            state = dict(scalars)
            state.update({k[4:]: v for k, v in arrays.items() if k.startswith("opt_")})
            self.opt.load_state_dict(state)
        if self.config.optimizer == "kalman":
            self.e_queue, self.f_queue = list(scalars["e_queue"]), list(scalars["f_queue"])


def read_history(path) -> list[dict]:
    """Learning curve written by the trainer (``history.csv``) as a list of dicts of floats."""
    with open(path, encoding="utf-8") as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def train(potential: Potential, train_set, validation_set=None, resume: bool = False,
          **config) -> TrainingResult:  # fmt: skip
    """Shortcut: ``Trainer(potential, train_set, validation_set, TrainingConfig(**config))``,
    then ``.fit(resume)``."""
    return Trainer(potential, train_set, validation_set, TrainingConfig(**config)).fit(resume)


__all__ = [
    "HISTORY_COLUMNS",
    "Trainer",
    "TrainingConfig",
    "TrainingResult",
    "build_potential",
    "read_history",
    "train",
]
