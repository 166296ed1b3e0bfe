"""Settings and outcome of a training run (plain data; the loop is ``training.loop``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from nnp_ref.model.potential import Potential
from nnp_ref.training.optimizers import KalmanSettings

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
    "rmse_stress_train_meV_per_A3",
    "rmse_stress_validation_meV_per_A3",
)


@dataclass
class TrainingConfig:
    """Settings of the trainer (defaults in brackets).

    General: ``optimizer`` ["adam"], "lbfgs" or "kalman"; ``epochs`` [100]:
    the budget; ``use_forces`` [True]; ``energy_weight``, ``force_weight``
    [1, 1]: weights of the normalised squared errors; ``stress_weight`` [0]:
    weight of the normalised squared stress error (stress training, Adam
    and L-BFGS; needs a reference stress on every structure); ``l2`` [0]:
    L2 factor on the weights (normalised loss units); ``seed`` [0];
    ``patience`` [None]: early stopping after so many epochs without a
    better validation loss; ``max_time`` [None]: optional wall-time limit in
    seconds (off by default; the history's ``wall_time_s`` shows the time
    used); ``progress`` [True]; ``checkpoint_dir`` [None];
    ``checkpoint_every`` [1] epochs; ``energy_unit``, ``force_unit``,
    ``stress_unit`` [None: from the training set]: u_E (eV), u_F (eV/Å),
    u_S (eV/Å^3) of the normalisation; ``store_dir`` [None]: a folder for
    the on-disk descriptor store (``training.store``): descriptors are
    computed once into it (reused while data and symmetry functions are
    unchanged) and streamed batch by batch, so memory depends on the
    batch, not on the data set (None: descriptors in memory).

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
    stress_weight: float = 0.0
    stress_unit: float | None = None
    store_dir: str | None = None

    def __post_init__(self):
        if isinstance(self.kalman, dict):
            self.kalman = KalmanSettings(**self.kalman)
        if self.optimizer not in ("adam", "lbfgs", "kalman"):
            raise ValueError(
                f"optimizer must be 'adam', 'lbfgs' or 'kalman', got {self.optimizer!r}"
            )
        if self.epochs < 0 or self.batch_size < 1:
            raise ValueError("epochs must be >= 0 and batch_size >= 1")
        if self.stress_weight < 0.0 or not np.isfinite(self.stress_weight):
            raise ValueError(f"stress_weight must be finite and >= 0, got {self.stress_weight}")
        if self.stress_weight and self.optimizer == "kalman":
            raise ValueError("stress_weight needs optimizer 'adam' or 'lbfgs' (not 'kalman')")

    @property
    def use_stress(self) -> bool:
        return self.stress_weight != 0.0

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["checkpoint_dir"] = None if self.checkpoint_dir is None else str(self.checkpoint_dir)
        out["store_dir"] = None if self.store_dir is None else str(self.store_dir)
        return out


@dataclass
class TrainingResult:
    """Outcome of a training run.

    ``potential``: the best model (lowest validation loss); ``final_potential``:
    the weights after the last epoch; ``history``: one dict per epoch
    (:data:`HISTORY_COLUMNS`, energies in meV/atom, forces in meV/Å, stresses
    in meV/Å^3, NaN when not trained); ``best_epoch``; ``stopped``: why the
    loop ended; ``update_time``: seconds spent in optimiser updates;
    ``wall_time``: seconds of the whole loop.
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
