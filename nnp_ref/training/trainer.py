r"""Training an HDNNP: the public entry points (a thin facade over the pieces).

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

Where each step lives:

==========================  =================================================
``training.build``          :func:`build_potential`: a new potential from data
``training.config``         :class:`TrainingConfig`, :class:`TrainingResult`
``training.problem``        data, units and loss weights of a run; errors
``training.state``          :class:`~nnp_ref.training.state.TrainingState`
``training.loop``           epochs, history, best model, stopping (``fit``)
``training.steps``          Adam epoch, L-BFGS run
``training.kalman_steps``   Kalman epoch with n2p2's update plan
``training.checkpoint``     history.csv, models, state.npz (resume)
``training.store``          descriptors on disk, streamed (``store_dir``)
``training.parallel``       data-parallel training over MPI
``training.loss``           the loss and its gradient (``batch``,
                            ``parameters``, ``stress``, ``jacobians``)
==========================  =================================================
"""

from __future__ import annotations

from nnp_ref.model.potential import Potential
from nnp_ref.training import loop
from nnp_ref.training.build import build_potential
from nnp_ref.training.checkpoint import read_history
from nnp_ref.training.config import HISTORY_COLUMNS, TrainingConfig, TrainingResult
from nnp_ref.training.problem import errors, make_problem
from nnp_ref.training.streaming import streamed_problem


class Trainer:
    """Train ``potential``'s networks on ``train_set`` (list of ``ase.Atoms`` with references).

    The potential is copied; its symmetry functions, scaling, energy offsets
    and scale stay fixed, only the network weights change. Bad data (no
    energies, no forces when ``use_forces``, no stress when
    ``stress_weight`` is set, NaN, unknown elements, an empty training set)
    raise ``ValueError`` naming the structure here, before any training.
    Descriptors can be passed in (as returned by :func:`build_potential`)
    to avoid computing them twice. With ``config.store_dir`` the
    descriptors stream from the on-disk store there instead
    (``training.streaming.streamed_problem``; passed-in descriptors are then
    not used). The fixed parts are ``self.problem``
    (:class:`~nnp_ref.training.problem.TrainingProblem`).
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
        if config is not None and config.store_dir is not None:  # streamed from disk
            self.problem = streamed_problem(
                potential, train_set, validation_set, config, config.store_dir, config.progress
            )
        else:
            self.problem = make_problem(
                potential,
                train_set,
                validation_set,
                config,
                train_descriptors,
                validation_descriptors,
            )
        self.config = self.problem.config
        self.potential = self.problem.potential
        self.train_items = self.problem.train_items
        self.validation_items = self.problem.validation_items
        self.u_E, self.u_F = self.problem.u_E, self.problem.u_F
        self.weights = self.problem.weights

    def errors(self, batches) -> tuple[float, float, float]:
        """RMSEs of energies per atom (eV/atom), forces (eV/Å), stresses (eV/Å^3)."""
        return errors(self.problem, batches)

    def fit(self, resume: bool = False) -> TrainingResult:
        """Run the epoch loop (``nnp_ref.training.loop``); ``resume`` continues a checkpoint."""
        return loop.fit(self.problem, resume)


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
