r"""Training from the descriptor store: batches built on demand, one in memory at a time.

``nnp_ref.training.store`` keeps every structure's descriptors and
derivatives on disk; here they become a
:class:`~nnp_ref.training.problem.TrainingProblem` whose batches
(``make_batch`` of the chosen structures) are read when the loop asks for
them, so memory depends on the batch, not on the data set.
"""

from __future__ import annotations

from collections.abc import Sequence

from nnp_ref.training.batch import make_batch
from nnp_ref.training.store import open_store


def structure_atoms(items, s: int) -> int:
    """Atoms of structure ``s`` of training items: a list, or a store read without its arrays."""
    return items.n_atoms(s) if hasattr(items, "n_atoms") else items[s].n_atoms


class StreamedBatches(Sequence):
    """``problem.evaluation_batches`` built on demand: the same chunks, one in memory at a time.

    Chunk k is consecutive structures of at most ``max_atoms`` atoms (as
    ``problem.evaluation_batches``); ``batches[k]`` concatenates it.
    """

    def __init__(self, items, potential, max_atoms: int | None = None):
        from nnp_ref.training.problem import EVALUATION_MAX_ATOMS

        self.items, self.potential = items, potential
        max_atoms = max_atoms or EVALUATION_MAX_ATOMS
        self.chunks, current, n = [], [], 0
        for s in range(len(items)):
            n_s = structure_atoms(items, s)
            if current and n + n_s > max_atoms:
                self.chunks.append(current)
                current, n = [], 0
            current.append(s)
            n += n_s
        if current:
            self.chunks.append(current)

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self[j] for j in range(*k.indices(len(self)))]
        batch = make_batch([self.items[s] for s in self.chunks[k]], self.potential)
        if hasattr(self.items, "release"):
            self.items.release()  # the batch is a copy: drop the mapped pages now
        return batch


def streamed_problem(potential, train_set, validation_set=None, config=None, store_dir=None,
                     progress: bool = True):  # fmt: skip
    """A :class:`~nnp_ref.training.problem.TrainingProblem` whose data stream from a store.

    Descriptors are computed once into ``store_dir`` (reused while data and
    symmetry functions are unchanged); training then holds one batch in
    memory. ``loop.fit(problem)`` trains as with in-memory data: bit for
    bit for Adam and the Kalman filter; L-BFGS sums its full-batch gradient
    structure by structure (``parallel.Distributed`` on one process), which
    changes the rounding, not the result.
    """
    from nnp_ref.data.datasets import check_dataset
    from nnp_ref.training.config import TrainingConfig
    from nnp_ref.training.problem import make_problem

    if store_dir is None:
        raise ValueError("streamed training needs a store_dir for the descriptor store")
    use_forces = (config or TrainingConfig()).use_forces
    check_dataset(list(train_set), potential.elements, True, use_forces, "training set")
    if validation_set:
        check_dataset(list(validation_set), potential.elements, True, use_forces, "validation set")
    sfset = potential.descriptor
    train_items = open_store(store_dir, list(train_set), sfset, "training", progress)
    validation_items = (
        open_store(store_dir, list(validation_set), sfset, "validation", progress)
        if validation_set else []
    )  # fmt: skip
    problem = make_problem(
        potential, train_set, validation_set, config,
        train_items=train_items, validation_items=validation_items, batches=StreamedBatches,
    )  # fmt: skip
    if problem.config.optimizer == "lbfgs":  # full-batch gradient summed structure by structure
        from nnp_ref.training.parallel import Distributed, OneRank

        n_atoms_s = [train_items.n_atoms(s) for s in range(len(train_items))]
        problem.parallel = Distributed(OneRank(), n_atoms_s)
    return problem


__all__ = ["StreamedBatches", "streamed_problem"]
