r"""The Kalman filter's epoch: n2p2's update plan of energy and force observations.

Per epoch (n2p2 ``Training``, "update candidates"):

    n_E = floor(energy_fraction x number of training structures)
    n_F = floor(force_fraction x number of force components / forces_per_update)

updates, in a random order (``state.rng``). Structures are drawn from shuffled
queues (``state.e_queue``, ``state.f_queue``), refilled when used up.

* energy update: one structure; with ``threshold_trials`` > 1 the first
  whose error per atom exceeds ``energy_threshold`` x RMSE (else the worst
  one seen); observation xi = (E_ref - E)/u_E, Jacobian H = dE/dw / u_E.
* force update, m = ``forces_per_update`` components; xi = fw (F_ref - F)/u_F,
  H = fw dF/dw / u_F (fw = ``force_update_weight``), one row per component.
  ``force_selection = "structure"``: the m components come from one
  structure, drawn at random among those with error above
  ``force_threshold`` x RMSE, filled up with the largest remaining errors.
  ``force_selection = "components"`` (n2p2's update candidates): every
  component is drawn from one shuffled queue of all training force
  components (``state.f_queue`` then holds global component indices), with
  up to ``threshold_trials`` candidates each (the first above the
  threshold, else the largest error seen), so one update mixes structures.

The filter itself (P, K, schedules) is ``optimizers.KalmanFilter``; the
Jacobians are ``training.jacobians``.

Over MPI (``problem.parallel``, ``training.parallel``) every rank takes the
same draws; the error and Jacobian rows of a structure are computed by the
rank that owns it (:func:`on_owner`, :func:`on_owners`) and broadcast, so
the weights do not depend on the number of ranks. Serially both are plain
calls.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.training.batch import make_batch
from nnp_ref.training.jacobians import energy_jacobian, force_jacobian
from nnp_ref.training.loss import predict
from nnp_ref.training.optimizers import KalmanFilter
from nnp_ref.training.parameters import set_parameters
from nnp_ref.training.problem import TrainingProblem
from nnp_ref.training.state import TrainingState
from nnp_ref.training.streaming import structure_atoms


def kalman_plan(problem: TrainingProblem) -> tuple[int, int]:
    """(energy updates, force updates) per epoch, as n2p2's update plan."""
    ks = problem.config.kalman
    n_E = int(ks.energy_fraction * len(problem.train_items))
    n_F = 0
    if problem.config.use_forces:
        n_F = int(ks.force_fraction * problem.n_force_components / max(ks.forces_per_update, 1))
    return n_E, n_F


def make_kalman_filter(problem: TrainingProblem, n_params: int) -> KalmanFilter:
    """A filter with the config's settings; n2p2 divides the tau's by the updates per epoch."""
    ks = problem.config.kalman
    per_epoch = max(sum(kalman_plan(problem)), 1)
    return KalmanFilter(
        n_params, kind=ks.kind, epsilon=ks.epsilon, q0=ks.q0, qtau=ks.qtau / per_epoch,
        qmin=ks.qmin, eta0=ks.eta0, etatau=ks.etatau / per_epoch, etamax=ks.etamax,
        lambda0=ks.lambda0, nu=ks.nu,
    )  # fmt: skip


def single_structure_batches(problem: TrainingProblem) -> list:
    """One batch per training structure (the filter observes one structure at a time).

    Built on demand when the structures stream from a store (``training.store``).
    """
    if not isinstance(problem.train_items, list):
        from nnp_ref.training.streaming import StreamedBatches

        return StreamedBatches(problem.train_items, problem.potential, max_atoms=1)
    return [make_batch([it], problem.potential) for it in problem.train_items]


def kalman_epoch(problem: TrainingProblem, state: TrainingState, single: list) -> None:
    """n_E energy and n_F force updates in a random order (thresholds from the last RMSEs)."""
    n_E, n_F = kalman_plan(problem)
    schedule = np.zeros(n_E + n_F, dtype=np.int64)
    schedule[:n_F] = 1
    state.rng.shuffle(schedule)
    last = state.history[-1]
    rmse_E = last["rmse_energy_train_meV_per_atom"] * 1e-3
    rmse_F = last["rmse_force_train_meV_per_A"] * 1e-3
    by_components = problem.config.kalman.force_selection == "components"
    offsets = component_offsets(problem) if by_components else None
    for is_force in schedule:
        if not is_force:
            energy_update(problem, state, single, rmse_E)
        elif by_components:
            force_update_components(problem, state, single, rmse_F, offsets)
        else:
            force_update(problem, state, single, rmse_F)


def next_index(state: TrainingState, queue: list, n: int) -> int:
    """Next index (structure or force component) from a shuffled queue of 0..n-1, refilled."""
    if not queue:
        queue.extend(state.rng.permutation(n).tolist())
    return queue.pop()


def on_owner(problem: TrainingProblem, s: int, compute):
    """``compute(s)`` for training structure ``s``: here, or on the MPI rank owning ``s``."""
    if problem.parallel is None:
        return compute(s)
    return problem.parallel.on_owner(s, compute)


def on_owners(problem: TrainingProblem, structures: list, compute) -> list:
    """``[compute(s) for s in structures]``; over MPI each rank computes those it owns."""
    if problem.parallel is None:
        return [compute(s) for s in structures]
    return problem.parallel.on_owners(structures, compute)


def energy_update(problem: TrainingProblem, state: TrainingState, single, rmse_E: float) -> None:
    """One energy observation: xi = (E_ref - E)/u_E, H = dE/dw / u_E (total energy, n2p2)."""
    ks = problem.config.kalman
    potential = problem.potential
    seen = {}  # structure -> (batch, prediction), on the rank that owns it

    def error_of(s):  # E_ref - E of structure s
        batch = single[s]
        seen[s] = batch, predict(potential, batch, forces=False)
        return float(batch.E_ref_b[0] - seen[s][1].E_b[0])

    best = None
    for _ in range(max(ks.threshold_trials, 1)):
        s = next_index(state, state.e_queue, len(single))
        error = on_owner(problem, s, error_of)
        per_atom = abs(error) / structure_atoms(problem.train_items, s)
        if best is None or per_atom > best[0]:
            best = (per_atom, s, error)
        if per_atom > ks.energy_threshold * rmse_E:
            break
    _, s, error = best  # weights unchanged during the trials
    H = on_owner(problem, s, lambda t: energy_jacobian(potential, *seen[t]) / problem.u_E)
    state.w = state.optimizer.update(state.w, np.array([error / problem.u_E]), H[:, None])
    set_parameters(potential, state.w)


def force_update(problem: TrainingProblem, state: TrainingState, single, rmse_F: float) -> None:
    """m force components of one structure (n2p2-like threshold selection, module docstring)."""
    ks = problem.config.kalman
    potential = problem.potential
    m = max(ks.forces_per_update, 1)
    s = next_index(state, state.f_queue, len(single))
    seen = {}

    def residual(s):  # F_ref - F of structure s, flat (3n,)
        batch = single[s]
        seen["batch"], seen["pred"] = batch, predict(potential, batch, forces=True)
        return (batch.F_ref_nc - seen["pred"].F_nc).ravel()

    dF = on_owner(problem, s, residual)  # (3n,) reference - prediction
    m = min(m, dF.size)
    above = np.flatnonzero(np.abs(dF) > ks.force_threshold * rmse_F)
    if above.size >= m:
        chosen = state.rng.choice(above, size=m, replace=False)
    else:
        rest = np.setdiff1d(np.arange(dF.size), above)
        fill = rest[np.argsort(-np.abs(dF[rest]))[: m - above.size]]
        chosen = np.concatenate([above, fill])
    k_m, c_m = np.divmod(chosen, 3)
    fw = ks.force_update_weight

    def jacobian(s):  # (N_w, m)
        return fw * force_jacobian(potential, seen["batch"], seen["pred"], k_m, c_m).T / problem.u_F

    H = on_owner(problem, s, jacobian)
    xi = fw * dF[chosen] / problem.u_F
    state.w = state.optimizer.update(state.w, xi, H)
    set_parameters(potential, state.w)


def component_offsets(problem: TrainingProblem) -> np.ndarray:
    """Global index of the first force component (3 k + c) of every training structure, (S+1,)."""
    n_atoms = [structure_atoms(problem.train_items, s) for s in range(len(problem.train_items))]
    return np.concatenate([[0], np.cumsum(3 * np.array(n_atoms, dtype=np.int64))])


def force_update_components(problem, state, single, rmse_F: float, offsets) -> None:
    """m force components drawn across structures, as n2p2's update candidates (module doc)."""
    ks = problem.config.kalman
    potential = problem.potential
    n_components = int(offsets[-1])
    residuals = {}  # structure -> F_ref - F flat (every rank), weights fixed during the draw
    seen = {}  # structure -> (batch, prediction), on the rank that owns it

    def residual(s):
        batch = single[s]
        seen[s] = batch, predict(potential, batch, forces=True)
        return (batch.F_ref_nc - seen[s][1].F_nc).ravel()

    chosen = []  # (structure, component within it)
    for _ in range(min(max(ks.forces_per_update, 1), n_components)):
        best = None
        for _ in range(max(ks.threshold_trials, 1)):
            g = next_index(state, state.f_queue, n_components)  # global component
            s = int(np.searchsorted(offsets, g, side="right") - 1)
            if s not in residuals:
                residuals[s] = on_owner(problem, s, residual)
            error = abs(residuals[s][g - offsets[s]])
            if best is None or error > best[0]:
                best = (error, s, int(g - offsets[s]))
            if error > ks.force_threshold * rmse_F:
                break
        chosen.append(best[1:])
    fw = ks.force_update_weight
    structures = list(dict.fromkeys(s for s, _ in chosen))  # in order of first use
    rows_of = {s: [r for r, (t, _) in enumerate(chosen) if t == s] for s in structures}

    def jacobian_rows(s):  # (N_w, rows of s)
        k_m, c_m = np.divmod(np.array([chosen[r][1] for r in rows_of[s]]), 3)
        return fw * force_jacobian(potential, *seen[s], k_m, c_m).T / problem.u_F

    H = np.zeros((state.w.size, len(chosen)))  # (N_w, m)
    xi = np.zeros(len(chosen))
    for s, H_s in zip(structures, on_owners(problem, structures, jacobian_rows)):
        rows = rows_of[s]
        H[:, rows] = H_s
        xi[rows] = fw * residuals[s][[chosen[r][1] for r in rows]] / problem.u_F
    state.w = state.optimizer.update(state.w, xi, H)
    set_parameters(potential, state.w)
