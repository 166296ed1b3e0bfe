r"""What is being fitted: the potential, the precomputed data, the loss weights.

A :class:`TrainingProblem` is built once per run (``make_problem``) and read
by the loop and the optimiser steps; only the potential's network weights
change during training.

Errors are normalised as in n2p2 (``nnp-norm``): u_E, the standard deviation
of the per-atom energy remainder after the element energies, and u_F, the
RMS reference force component (``preprocessing.energy_force_units``); for
stress training u_S, the RMS reference stress component. The loss weights
are w_E = energy_weight / u_E^2, w_F = force_weight / u_F^2 and
w_S = stress_weight / u_S^2 (``loss.LossWeights``).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from nnp_ref.data.datasets import check_dataset, elements_of
from nnp_ref.model.potential import Potential
from nnp_ref.training.batch import Batch, make_batch, structure_data
from nnp_ref.training.config import TrainingConfig
from nnp_ref.training.loss import LossWeights, predict
from nnp_ref.training.preprocessing import compute_descriptors, energy_force_units

EVALUATION_MAX_ATOMS = 4000


@dataclass
class TrainingProblem:
    """The fixed parts of a run.

    ``potential``: a copy of the caller's potential, whose weights the
    optimisers overwrite; ``config``; ``train_items``/``validation_items``:
    lists of :class:`~nnp_ref.training.batch.StructureData`;
    ``train_eval``/``validation_eval``: the same in evaluation batches of
    at most ``EVALUATION_MAX_ATOMS`` atoms; ``u_E`` (eV), ``u_F`` (eV/Å),
    ``u_S`` (eV/Å^3, NaN without stress training): normalisation units;
    ``weights``: the loss weights; ``n_force_components``: 3 x the number
    of training atoms.
    """

    potential: Potential
    config: TrainingConfig
    train_items: list
    validation_items: list
    train_eval: list
    validation_eval: list
    u_E: float
    u_F: float
    u_S: float
    weights: LossWeights
    n_force_components: int
    parallel: object = None  # training.parallel.Distributed: data-parallel gradients, errors


def make_problem(
    potential: Potential,
    train_set,
    validation_set=None,
    config: TrainingConfig | None = None,
    train_descriptors=None,
    validation_descriptors=None,
    train_items=None,
    validation_items=None,
    batches=None,
) -> TrainingProblem:
    """Check the data (ValueError naming a bad structure), compute descriptors, set units.

    ``train_items``/``validation_items``: precomputed structures (e.g. a
    ``training.store.StoredStructures``) instead of descriptors;
    ``batches(items, potential)``: how evaluation batches are made (default
    :func:`evaluation_batches`; ``streaming.StreamedBatches`` builds them on demand).
    """
    cfg = config or TrainingConfig()
    validation_set = list(validation_set or [])
    train_set = list(train_set)
    check_dataset(train_set, potential.elements, True, cfg.use_forces, "training set")
    if validation_set:
        check_dataset(validation_set, potential.elements, True, cfg.use_forces, "validation set")
    present = set(elements_of(train_set))
    missing = [e for e in potential.elements if e not in present]
    if missing:
        raise ValueError(f"no atoms of element(s) {missing} in the training set")
    potential = copy.deepcopy(potential)
    sfset = potential.descriptor
    if train_items is None:
        if train_descriptors is None:
            train_descriptors = compute_descriptors(train_set, sfset, progress=cfg.progress)
        if validation_set and validation_descriptors is None:
            validation_descriptors = compute_descriptors(
                validation_set, sfset, progress=cfg.progress
            )
        train_items = [
            structure_data(a, d, f"training structure {i} ({a.get_chemical_formula()})")
            for i, (a, d) in enumerate(zip(train_set, train_descriptors, strict=True))
        ]
        validation_items = [
            structure_data(a, d, f"validation structure {i} ({a.get_chemical_formula()})")
            for i, (a, d) in enumerate(
                zip(validation_set, validation_descriptors or [], strict=True)
            )
        ]
    validation_items = [] if validation_items is None else validation_items
    u_E, u_F = energy_force_units(train_set, potential.energy_offsets)
    u_E, u_F = float(cfg.energy_unit or u_E), float(cfg.force_unit or u_F)
    u_S = math.nan
    if cfg.use_stress:
        for what, items in (("training", train_items), ("validation", validation_items)):
            check_stress(items, f"{what} set", cfg.stress_weight)
        u_S = float(cfg.stress_unit or stress_unit(train_items))
    weights = LossWeights(
        energy=cfg.energy_weight / u_E**2,
        force=(cfg.force_weight / u_F**2) if cfg.use_forces else 0.0,
        l2=cfg.l2,
        stress=(cfg.stress_weight / u_S**2) if cfg.use_stress else 0.0,
    )
    batches = batches or evaluation_batches
    return TrainingProblem(
        potential,
        cfg,
        train_items,
        validation_items,
        batches(train_items, potential),
        batches(validation_items, potential),
        u_E,
        u_F,
        u_S,
        weights,
        sum(3 * it.n_atoms for it in train_items),
    )


def check_stress(items, what: str, stress_weight: float) -> None:
    """ValueError naming the structures without a periodic cell or reference stress."""
    bad = [it.name for it in items if it.S_ref_cc is None or not np.isfinite(it.volume)]
    if bad:
        raise ValueError(
            f"stress_weight is {stress_weight:g} but {len(bad)} structure(s) of the {what} have "
            f"no reference stress (or no periodic cell): {', '.join(bad[:5])}"
            f"{' ...' if len(bad) > 5 else ''}"
        )


def stress_unit(items) -> float:
    """u_S: RMS reference stress component (eV/Å^3); 1 if all are zero."""
    S = np.array([it.S_ref_cc for it in items])
    rms = float(np.sqrt(np.mean(S**2)))
    return rms if rms > 0.0 else 1.0


def evaluation_batches(items, potential: Potential, max_atoms: int = EVALUATION_MAX_ATOMS):
    """Batches of consecutive structures, at most ``max_atoms`` atoms each."""
    chunks, current, n = [], [], 0
    for it in items:
        if current and n + it.n_atoms > max_atoms:
            chunks.append(make_batch(current, potential))
            current, n = [], 0
        current.append(it)
        n += it.n_atoms
    if current:
        chunks.append(make_batch(current, potential))
    return chunks


def errors(problem: TrainingProblem, batches: list[Batch]) -> tuple[float, float, float]:
    """RMSEs of energies per atom (eV/atom), force components (eV/Å), stress components (eV/Å^3).

    NaN for a quantity that is not trained (or without batches).
    """
    if not batches:
        return math.nan, math.nan, math.nan
    if problem.parallel is not None:  # shared out over MPI ranks, summed in batch order
        return problem.parallel.errors(problem, batches)
    se_k, count_k = np.zeros(3), np.zeros(3, dtype=np.int64)
    for batch in batches:
        se, count = squared_errors(problem, batch)
        se_k, count_k = se_k + se, count_k + count
    return rmse_from_sums(se_k, count_k)


def squared_errors(problem: TrainingProblem, batch: Batch) -> tuple[np.ndarray, np.ndarray]:
    """Sums of squared residuals of (E/N, F, sigma) on one batch and their counts, (3,), (3,)."""
    cfg = problem.config
    pred = predict(problem.potential, batch, forces=cfg.use_forces, stress=cfg.use_stress)
    residuals = [(pred.E_b - batch.E_ref_b) / batch.n_atoms_b]
    residuals.append(pred.F_nc - batch.F_ref_nc if cfg.use_forces else None)
    residuals.append(pred.S_bcc - batch.S_ref_bcc if cfg.use_stress else None)
    se, count = np.zeros(3), np.zeros(3, dtype=np.int64)
    for k, r in enumerate(residuals):
        if r is not None:
            se[k], count[k] = float(np.sum(r**2)), r.size
    return se, count


def rmse_from_sums(se_k, count_k) -> tuple[float, float, float]:
    """sqrt(se / count) per quantity; NaN where nothing was counted."""
    return tuple(math.sqrt(s / n) if n else math.nan for s, n in zip(se_k, count_k))


def loss_of(problem: TrainingProblem, rmse_E: float, rmse_F: float, rmse_S: float) -> float:
    """The loss (without L2) from the RMSEs: w_E rmse_E^2 + w_F rmse_F^2 + w_S rmse_S^2."""
    w = problem.weights
    loss = w.energy * rmse_E**2
    if problem.config.use_forces:
        loss += w.force * rmse_F**2
    if problem.config.use_stress:
        loss += w.stress * rmse_S**2
    return float(loss)


__all__ = [
    "TrainingProblem",
    "errors",
    "evaluation_batches",
    "loss_of",
    "make_problem",
    "rmse_from_sums",
    "squared_errors",
]
