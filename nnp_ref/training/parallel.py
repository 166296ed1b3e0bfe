r"""Data-parallel training over MPI (mpi4py) with results independent of the number of ranks.

Each of the P ranks owns a shard of the training structures, the
contiguous range s = floor(r S / P) .. floor((r+1) S / P) - 1 of rank r
(its descriptors come from the shared on-disk store, ``training.store``,
so a rank reads only its own shard's pages).

**Gradient of a batch.** The batch loss of ``training.loss`` is a sum over
its structures b (B structures, n atoms):

    L = sum_b [ (w_E/B) dE_b^2 + (w_F/3n) sum_kc dF_kc^2 + (w_S/9B) sum_ac dsigma_b,ac^2 ]
        + lambda |W|^2,

so dL/dw = sum_b g_b + 2 lambda W, where g_b is the gradient of structure
b alone with the weights w_E/B, w_F n_b/n, w_S/B (``structure_weights``):
the one-structure loss of ``loss.loss_and_gradient`` with these weights is
exactly b's term above. The owner of b computes g_b.

**A fixed order of additions** (``Distributed.ordered_sum``). The terms,
in the order of the batch, are cut into blocks of ``BLOCK`` = 64; each
block is summed left to right, then the block sums left to right. A block
whose structures all belong to one rank is summed there and sent as one
vector; the terms of a block shared by several ranks are sent one by one
and summed on rank 0 in the same order by the same function. Rank 0 adds
the blocks and broadcasts the total, the L2 term is added, and every rank
takes the same optimiser step on the same numbers: the weights after
training are bit-identical for 1, 2, 4, ... ranks. (A tree reduction,
``MPI_Allreduce``, adds in an order that depends on the number of ranks:
n2p2's results change with it, its issue #93.)

**Errors.** The evaluation batches (consecutive structures, fixed by the
data, not the ranks) are shared out in contiguous runs; their sums of
squared residuals are added by the same ``ordered_sum``.

Adam and L-BFGS are data-parallel this way.

**Kalman filter.** Every rank holds the same filter (weights, P, random
generator, queues) and takes the same updates. Which structure an update
observes is drawn from the shared random state; its owner alone computes
what the update needs from it, the error xi and the Jacobian rows H
(``training.kalman_steps``, through :meth:`Distributed.on_owner`), and
broadcasts them; a force update drawing components of several structures
("components" selection) gets each structure's rows from its owner, in
the order of the draw. No number depends on which rank computed it, so the
weights are bit-identical for any number of ranks (and to a serial run:
each number comes from the same one-structure batch). The filter update
itself, O(N_w^2 m) for m observations, is replicated on every rank: it
limits the speed-up (``benchmarks/bench_mpi.py --estimate``).

**Cost per update** (N_w weights, P ranks, B structures per batch): each
rank computes its structures of the batch (B/P on average) and sends at
most one vector of N_w + 6 doubles per block it owns whole, or per term of
a shared block; rank 0 receives at most B such vectors (Adam: B is small,
every block is shared) or about S/64 + P (L-BFGS over S structures: the
shards are contiguous, so nearly every block is whole), adds them and
broadcasts N_w. ``benchmarks/bench_mpi.py --estimate`` turns this into
numbers for 64 ranks.

Run as ``mpiexec -n 4 python script.py`` with :func:`train_distributed`,
or ``mpiexec -n 4 nnp-ref train config.toml`` (``workflow.train`` switches
to it whenever an MPI launcher started the process, also for ``-n 1``, so
every ``-n`` gives the same bits; a plain serial run, which sums each batch
in one network call, differs from them in the last bits).
"""

from __future__ import annotations

import copy
import dataclasses
import math
import os

import numpy as np

from nnp_ref.training.batch import make_batch
from nnp_ref.training.loss import LossValue, LossWeights, loss_and_gradient
from nnp_ref.training.parameters import get_parameters, weight_mask
from nnp_ref.training.problem import rmse_from_sums, squared_errors

BLOCK = 64  # terms per partial sum: fixed, so the order of additions does not depend on P


class SharedError(ValueError):
    """An error raised on every rank alike: rank 0 reports it, the others exit quietly."""


def mpi_world_size() -> int:
    """Number of ranks the launcher started (1 without ``mpiexec``), without importing MPI."""
    for var in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"):  # MPICH (hydra), Open MPI
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 1


def under_mpiexec() -> bool:
    """True when an MPI launcher started this process (any number of ranks, also 1)."""
    return any(v in os.environ for v in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))


def mpi_rank() -> int:
    """This process's rank (0 without ``mpiexec``), without importing MPI."""
    for var in ("PMI_RANK", "OMPI_COMM_WORLD_RANK"):  # MPICH (hydra), Open MPI
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def shard(n_structures: int, rank: int, size: int) -> range:
    """Structures of ``rank``: floor(r S / P) .. floor((r+1) S / P) - 1.

    ValueError if there are more ranks than structures.
    """
    if size > n_structures:
        raise ValueError(
            f"{size} MPI ranks but only {n_structures} training structures: "
            f"use at most {n_structures} ranks"
        )
    return range(rank * n_structures // size, (rank + 1) * n_structures // size)


def structure_weights(weights: LossWeights, n_batch: int, n_atoms_batch: int, n_atoms: int):
    """Weights of one structure's term of a batch loss: w_E/B, w_F n_b/n, 0 (L2), w_S/B."""
    return LossWeights(
        energy=weights.energy / n_batch,
        force=weights.force * n_atoms / n_atoms_batch,
        l2=0.0,
        stress=weights.stress / n_batch,
    )


class Distributed:
    """Rank-count-independent gradients and errors over an MPI communicator (module docstring).

    ``comm``: an mpi4py communicator; ``n_atoms_s`` (S,): atoms per training
    structure. Set as ``problem.parallel``; the loop and steps call
    :meth:`loss_and_gradient` and :meth:`errors`.
    """

    def __init__(self, comm, n_atoms_s):
        self.comm, self.rank, self.size = comm, comm.Get_rank(), comm.Get_size()
        self.n_atoms_s = np.asarray(n_atoms_s, dtype=np.int64)
        n = len(self.n_atoms_s)
        shard(n, self.rank, self.size)  # ValueError: more ranks than structures
        first_r = [r * n // self.size for r in range(self.size + 1)]  # shard boundaries
        self.owner_s = np.searchsorted(first_r, np.arange(n), side="right") - 1

    def ordered_sum(self, owner_k, contribution):
        """sum_k c_k over k = 0..K-1 in blocks of :data:`BLOCK`; the same bits for any P.

        ``owner_k`` (K,): the rank that computes c_k = ``contribution(k)``
        (an array). A block owned by one rank is summed there, in order; the
        terms of a block shared by several ranks are sent to rank 0 and
        summed there, in the same order with the same function
        (:func:`sequential_sum`). Rank 0 adds the blocks in order and
        broadcasts the total.
        """
        K = len(owner_k)
        sent = []
        for b in range(0, K, BLOCK):
            owners = owner_k[b : b + BLOCK]
            if np.all(owners == self.rank):
                sent.append((b, sequential_sum(contribution(k) for k in range(b, b + len(owners)))))
            elif not np.all(owners == owners[0]):
                sent.extend((k, contribution(k)) for k in range(b, b + len(owners))
                            if owner_k[k] == self.rank)  # fmt: skip
        gathered = self.comm.gather(sent, root=0)
        total = None
        if self.rank == 0:
            got = dict(item for part in gathered for item in part)
            blocks = []
            for b in range(0, K, BLOCK):
                owners = owner_k[b : b + BLOCK]
                whole = np.all(owners == owners[0])
                blocks.append(
                    got[b] if whole else sequential_sum(got[k] for k in range(b, b + len(owners)))
                )
            total = sequential_sum(blocks)
        return self.comm.bcast(total, root=0)

    def on_owner(self, s: int, compute):
        """``compute(s)`` on the rank that owns training structure ``s``, broadcast to all.

        Every rank must call it in the same order (the Kalman filter's draws
        are the same on every rank); the others receive the owner's value.
        """
        owner = int(self.owner_s[s])
        return self.comm.bcast(compute(s) if owner == self.rank else None, root=owner)

    def on_owners(self, structures, compute) -> list:
        """``[compute(s) for s in structures]`` on every rank, each computed by the owner of s."""
        mine = {s: compute(s) for s in structures if self.owner_s[s] == self.rank}
        got = {s: v for part in self.comm.allgather(mine) for s, v in part.items()}
        return [got[s] for s in structures]

    def loss_and_gradient(self, problem, indices) -> tuple[LossValue, np.ndarray]:
        """(L, dL/dw) of the batch of training structures ``indices`` (in this order)."""
        cfg, potential, weights = problem.config, problem.potential, problem.weights
        indices = np.asarray(indices, dtype=np.int64)
        n_batch, n_atoms = len(indices), int(self.n_atoms_s[indices].sum())

        def contribution(k):  # g_b and the loss parts of structure indices[k]
            s = indices[k]
            w_s = structure_weights(weights, n_batch, n_atoms, int(self.n_atoms_s[s]))
            batch = make_batch([problem.train_items[s]], potential)
            value, grad = loss_and_gradient(potential, batch, w_s, cfg.use_forces)
            parts = [value.energy, value.force, value.stress, value.rmse_energy**2,
                     value.rmse_force**2 * 3 * batch.n_atoms, value.rmse_stress**2 * 9]  # fmt: skip
            return np.concatenate([grad, parts])

        total = self.ordered_sum(self.owner_s[indices], contribution)
        grad, (L_E, L_F, L_S, se_E, se_F, se_S) = total[:-6], total[-6:]
        L_2 = 0.0
        if weights.l2:
            mask = weight_mask(potential)
            w = get_parameters(potential)
            L_2 = weights.l2 * float(np.sum(w[mask] ** 2))
            grad[mask] += 2.0 * weights.l2 * w[mask]  # d(lambda |W|^2)/dW
        value = LossValue(
            float(L_E + L_F + L_S + L_2), float(L_E), float(L_F), L_2,
            math.sqrt(se_E / n_batch), math.sqrt(se_F / (3 * n_atoms)),
            float(L_S), math.sqrt(se_S / (9 * n_batch)),
        )  # fmt: skip
        return value, grad

    def errors(self, problem, batches) -> tuple[float, float, float]:
        """RMSEs as ``problem.errors``: contiguous runs of batches per rank, summed in order."""
        K = len(batches)

        def contribution(k):
            se, count = squared_errors(problem, batches[k])
            return np.concatenate([se, count.astype(float)])

        total = self.ordered_sum(np.arange(K) * self.size // K, contribution)
        return rmse_from_sums(total[:3], total[3:].astype(np.int64))


class OneRank:
    """The calls of an mpi4py communicator that :class:`Distributed` makes, for one process.

    With it, ``Distributed`` computes a full-batch gradient as an ordered
    sum over structures without MPI (streamed L-BFGS, ``training.store``).
    """

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 1

    def gather(self, value, root=0):
        return [value]

    def bcast(self, value, root=0):
        return value

    def allgather(self, value):
        return [value]


def sequential_sum(arrays) -> np.ndarray:
    """((0 + a_0) + a_1) + ...: one fixed order of additions."""
    total = None
    for a in arrays:
        total = (np.zeros_like(a) if total is None else total) + a
    return total


def train_distributed(potential, train_set, validation_set=None, config=None, store_dir=None,
                      comm=None, resume: bool = False):  # fmt: skip
    """Train on all ranks of ``comm`` (default ``MPI.COMM_WORLD``); every rank returns the result.

    Rank 0 builds the descriptor store in ``store_dir`` (default
    ``config.store_dir``, else ``<checkpoint_dir>/descriptors``) while the
    others wait; only rank 0 shows progress and writes checkpoints.
    ``resume``: every rank reads the checkpoint in ``checkpoint_dir`` (one
    written with any number of ranks: the weights do not depend on it).
    Errors on rank 0 (bad data, too many ranks) are raised on every rank
    as :class:`SharedError`, so no rank is left waiting.
    """
    from nnp_ref.training import loop
    from nnp_ref.training.config import TrainingConfig

    if comm is None:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    cfg = config or TrainingConfig()
    store_dir = store_dir or cfg.store_dir
    if store_dir is None:
        if cfg.checkpoint_dir is None:
            raise ValueError("data-parallel training needs store_dir (or config.checkpoint_dir)")
        store_dir = os.path.join(cfg.checkpoint_dir, "descriptors")
    rank = comm.Get_rank()
    if rank != 0:  # reads a checkpoint to resume, writes none (training.loop)
        cfg = dataclasses.replace(copy.deepcopy(cfg), progress=False)
    train_set = list(train_set)
    problem, message = None, ""
    if rank == 0:  # rank 0 builds the store (or finds it intact) ...
        problem, message = _problem(potential, train_set, validation_set, cfg, store_dir, comm)
    message = comm.bcast(message, root=0)
    if rank != 0 and not message:  # ... then the others open it
        problem, message = _problem(potential, train_set, validation_set, cfg, store_dir, comm)
    failed = [m for m in comm.allgather(message) if m]
    if failed:
        raise SharedError(failed[0])
    items = problem.train_items
    problem.parallel = Distributed(comm, [items.n_atoms(s) for s in range(len(items))])
    return loop.fit(problem, resume)


def on_rank_0(compute, comm=None):
    """``compute()`` on rank 0 only, its value broadcast to every rank.

    A ``ValueError`` or ``OSError`` there is raised on every rank as
    :class:`SharedError` (reported once, by rank 0). ``comm`` defaults to
    ``MPI.COMM_WORLD``.
    """
    if comm is None:
        from mpi4py import MPI

        comm = MPI.COMM_WORLD
    value, message = None, ""
    if comm.Get_rank() == 0:
        try:
            value = compute()
        except (ValueError, OSError) as err:
            message = str(err)
    value, message = comm.bcast((value, message), root=0)
    if message:
        raise SharedError(message)
    return value


def _problem(potential, train_set, validation_set, cfg, store_dir, comm):
    """(streamed problem, "") or (None, error message)."""
    from nnp_ref.training.streaming import streamed_problem

    try:
        shard(len(train_set), comm.Get_rank(), comm.Get_size())
        problem = streamed_problem(
            potential, train_set, validation_set, cfg, store_dir, progress=cfg.progress
        )
    except (ValueError, OSError) as err:
        return None, str(err)
    return problem, ""


__all__ = [
    "Distributed",
    "OneRank",
    "SharedError",
    "mpi_rank",
    "mpi_world_size",
    "on_rank_0",
    "shard",
    "structure_weights",
    "train_distributed",
    "under_mpiexec",
]
