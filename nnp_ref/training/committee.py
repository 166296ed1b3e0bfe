r"""Training a committee: M independent models, warm starts, and calibration of the spread.

Members differ by their random seed (initial weights, order of the updates)
and, with ``bootstrap=True``, by their training set: member m sees N
structures drawn with replacement from the N given (bagging; L. Breiman,
Machine Learning 24, 123 (1996)). Nothing is shared between members: each
is built and trained by :func:`nnp_ref.training.trainer.build_potential`
and :class:`~nnp_ref.training.trainer.Trainer` exactly as a single model
would be, with seed :func:`member_seeds` [m], so a committee equals M
separately trained models. Members run in parallel processes with
``workers > 1`` (one Numba thread each); the numbers do not depend on it.

**Warm start** (active learning): member m continues from member m of an
earlier committee. Its scaling is first recomputed on the new training set
and the first layer rewritten so that the network is the *same function*
of the raw symmetry functions (:func:`rescale_potential`): with the old
scaling x = a G + b and the new x' = a' G + b',

    x_s = (a_s/a'_s) (x'_s - b'_s) + b_s
    =>  W'_s = (a_s/a'_s) W_s,   b'^1 = b^1 + sum_s W_s (b_s - a_s b'_s / a'_s)

(for a function constant on the new set, a'_s = 0: its old contribution
W_s (a_s <G_s> + b_s) moves into the bias and W'_s = 0).

**Calibration** (:func:`calibrate`): on a test set, the committee's actual
errors e against its spreads sigma. The calibration factor is the ratio of
the RMS error to the RMS spread,

    alpha = sqrt( <e^2> / <sigma^2> ),

so that alpha sigma is an error estimate in the right units on average
(alpha > 1: the committee is over-confident, the usual case; J. Imbalzano
et al., J. Chem. Phys. 154, 074102 (2021) discuss such a rescaling). Energies
per atom and force components are calibrated separately;
:func:`plot_calibration` shows binned RMS error against spread.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.model.committee import Committee, evaluate_committee_atoms
from nnp_ref.model.potential import Potential
from nnp_ref.training.preprocessing import compute_descriptors, scaling_from_descriptors
from nnp_ref.training.trainer import Trainer, TrainingConfig, build_potential

# ---------------------------------------------------------------------------
# Members: seeds, training sets, one member's training
# ---------------------------------------------------------------------------


def member_seeds(seed: int, n_members: int) -> list[int]:
    """Independent seeds of the members (``numpy.random.SeedSequence(seed).spawn``)."""
    children = np.random.SeedSequence(seed).spawn(n_members)
    return [int(c.generate_state(1, dtype=np.uint32)[0]) for c in children]


def member_training_set(structures, member_seed: int, bootstrap: bool) -> list:
    """The structures member m trains on: all of them, or a bootstrap resample."""
    structures = list(structures)
    if not bootstrap:
        return structures
    rng = np.random.default_rng(member_seed)
    return [structures[i] for i in rng.integers(0, len(structures), size=len(structures))]


def rescale_potential(potential: Potential, structures, descriptors=None) -> Potential:
    """The same function of the raw G, with the scaling recomputed on ``structures``.

    See the module docstring for the algebra; the networks' other layers,
    the energy offsets and scale are unchanged.
    """
    sfset = potential.descriptor
    if descriptors is None:
        descriptors = compute_descriptors(structures, sfset, with_derivatives=False, progress=False)
    new = copy.deepcopy(potential)
    modes = {e: potential.scalings[e].mode for e in potential.elements}
    for e in potential.elements:
        old = potential.scalings[e]
        fresh = scaling_from_descriptors(descriptors, potential.elements, mode=modes[e],
                                         s_min=old.s_min, s_max=old.s_max)[e]  # fmt: skip
        a_s, b_s = old.factor_and_offset()
        a2_s, b2_s = fresh.factor_and_offset()
        net = new.networks[e]
        W, b = net.weights[0], net.biases[0]
        live = a2_s != 0.0
        ratio_s = np.zeros_like(a_s)
        ratio_s[live] = a_s[live] / a2_s[live]
        shift_s = np.where(live, b_s - ratio_s * b2_s, a_s * fresh.G_mean + b_s)
        net.biases[0] = b + shift_s @ W
        net.weights[0] = ratio_s[:, None] * W
        new.scalings[e] = fresh
    return new


@dataclass
class MemberTask:
    """Everything one member's training needs (picklable, sent to a worker process)."""

    index: int
    seed: int
    structures: list
    config: TrainingConfig
    bootstrap: bool
    build_options: dict
    start: Potential | None


def train_member(task: MemberTask) -> tuple[Potential, list]:
    """Build (or warm-start) and train member ``task.index``; returns (best potential, history)."""
    train = member_training_set(task.structures, task.seed, task.bootstrap)
    config = dataclasses.replace(task.config, seed=task.seed, progress=False, checkpoint_dir=None)
    if task.start is None:
        options = {"progress": False, **task.build_options}
        potential, descriptors = build_potential(train, seed=task.seed, **options)
    else:
        descriptors = compute_descriptors(train, task.start.descriptor, progress=False)
        potential = rescale_potential(task.start, train, descriptors)
    result = Trainer(potential, train, config=config, train_descriptors=descriptors).fit()
    best = result.potential
    best.metadata = json_safe({**best.metadata, "committee_member": task.index,
                               "member_seed": task.seed})  # fmt: skip
    return best, result.history


def json_safe(value):
    """``value`` with non-finite floats replaced by None (JSON model files refuse NaN;
    the trainer's metadata holds NaN validation errors when there is no validation set)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _train_member_in_worker(task: MemberTask):
    import numba

    numba.set_num_threads(1)
    return train_member(task)


# ---------------------------------------------------------------------------
# The committee
# ---------------------------------------------------------------------------


@dataclass
class CommitteeTrainingResult:
    """``committee``; ``histories[m]``: member m's learning curve (trainer rows);
    ``trained``: which members were trained now (False: loaded from ``directory``);
    ``wall_time``: seconds."""

    committee: Committee
    histories: list
    trained: list
    wall_time: float


def train_committee(
    train_set,
    n_members: int = 4,
    config: TrainingConfig | None = None,
    seed: int = 0,
    bootstrap: bool = False,
    workers: int = 1,
    warm_start: Committee | None = None,
    directory=None,
    progress: bool = True,
    **build_options,
) -> CommitteeTrainingResult:
    """Train ``n_members`` independent potentials on ``train_set``.

    ``config``: the :class:`TrainingConfig` of every member (its seed is
    replaced by the member's). ``build_options`` go to ``build_potential``
    (``hidden``, ``symmetry_functions``, ``rc``, ...); all members get the
    same symmetry functions. ``warm_start``: a committee of the same size to
    continue from. ``directory``: each finished member is saved there as
    ``member_XXX.json`` the moment it is done, and a member whose file
    exists is loaded instead of trained (a killed run resumes).
    """
    from tqdm.auto import tqdm

    train_set = _checked_training_set(train_set, n_members, warm_start)
    config = config or TrainingConfig()
    if "symmetry_functions" not in build_options and warm_start is None:
        build_options = _with_shared_symmetry_functions(train_set, build_options)
    directory = Path(directory) if directory is not None else None
    start = time.perf_counter()
    members, tasks = _member_tasks(train_set, n_members, config, seed, bootstrap, warm_start,
                                   build_options, directory)  # fmt: skip
    histories: list = [[] for _ in range(n_members)]
    trained = [False] * n_members
    bar = tqdm(total=n_members, initial=n_members - len(tasks), desc="committee",
               disable=not progress)  # fmt: skip

    def finish(task, potential, history):
        members[task.index], histories[task.index] = potential, history
        trained[task.index] = True
        if directory is not None:
            from nnp_ref.io.model_json import save_model

            save_model(potential, directory / f"member_{task.index:03d}.json")
        bar.update(1)

    try:
        _run_member_tasks(tasks, workers, finish)
    finally:
        bar.close()
    return CommitteeTrainingResult(Committee(members), histories, trained,
                                   time.perf_counter() - start)  # fmt: skip


def _checked_training_set(train_set, n_members: int, warm_start) -> list:
    """``train_set`` as a list; one-line errors for too few members, a mismatched warm start,
    no structures."""
    if n_members < 2:
        raise ValueError(
            f"a committee needs at least 2 members, got n_members={n_members}: "
            "the spread of one model is always 0"
        )
    if warm_start is not None and len(warm_start) != n_members:
        raise ValueError(f"warm start from {len(warm_start)} members, but n_members={n_members}")
    train_set = list(train_set)
    if not train_set:
        raise ValueError("empty training set for the committee")
    return train_set


def _with_shared_symmetry_functions(train_set, build_options: dict) -> dict:
    """``build_options`` with one symmetry-function set for all members (the defaults depend
    only on the elements and the options, which are taken out of ``build_options``)."""
    from nnp_ref.data.datasets import elements_of
    from nnp_ref.training.preprocessing import default_symmetry_functions

    build_options = dict(build_options)
    sf_keys = ("rc", "n_radial", "n_angular", "r_lower", "r_upper", "zetas", "angular",
               "radial_mode", "cutoff_type")  # fmt: skip
    sf_opts = {k: build_options.pop(k) for k in sf_keys if k in build_options}
    elements = build_options.get("elements") or elements_of(train_set)
    build_options["symmetry_functions"] = default_symmetry_functions(elements, **sf_opts)
    return build_options


def _member_tasks(train_set, n_members, config, seed, bootstrap, warm_start, build_options,
                  directory) -> tuple[list, list]:  # fmt: skip
    """(members, tasks): members already saved in ``directory`` are loaded (the others None),
    a :class:`MemberTask` for each of the others."""
    seeds = member_seeds(seed, n_members)
    members: list = [None] * n_members
    tasks = []
    for m in range(n_members):
        path = directory / f"member_{m:03d}.json" if directory else None
        if path is not None and path.is_file():
            from nnp_ref.io.model_json import load_model

            members[m] = load_model(path)
            continue
        begin = warm_start.members[m] if warm_start is not None else None
        tasks.append(MemberTask(m, seeds[m], train_set, config, bootstrap, build_options, begin))
    return members, tasks


def _run_member_tasks(tasks, workers: int, finish) -> None:
    """Train the tasks, in ``workers`` spawned processes or here; ``finish(task, potential,
    history)`` as each one is done."""
    if workers > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=ctx) as pool:
            futures = {pool.submit(_train_member_in_worker, t): t for t in tasks}
            for future, task in futures.items():
                finish(task, *future.result())
    else:
        for task in tasks:
            finish(task, *train_member(task))


# ---------------------------------------------------------------------------
# Calibration on a test set
# ---------------------------------------------------------------------------


@dataclass
class Calibration:
    """Actual error against predicted spread on a test set.

    Per structure: ``energy_error_b``, ``energy_std_b`` (eV/atom). Per force
    component: ``force_error_k``, ``force_std_k`` (eV/Å). ``alpha_energy``,
    ``alpha_force``: calibration factors sqrt(<e^2>/<sigma^2>) (module
    docstring); multiply a spread by alpha for an error estimate.
    """

    energy_error_b: np.ndarray
    energy_std_b: np.ndarray
    force_error_k: np.ndarray
    force_std_k: np.ndarray
    alpha_energy: float
    alpha_force: float

    def summary(self) -> str:
        rmse_E = 1e3 * np.sqrt(np.mean(self.energy_error_b**2))
        rms_sE = 1e3 * np.sqrt(np.mean(self.energy_std_b**2))
        rmse_F = 1e3 * np.sqrt(np.mean(self.force_error_k**2))
        rms_sF = 1e3 * np.sqrt(np.mean(self.force_std_k**2))
        return (
            f"energy: RMSE {rmse_E:.3g} meV/atom, RMS spread {rms_sE:.3g} meV/atom, "
            f"alpha = {self.alpha_energy:.3g}\n"
            f"forces: RMSE {rmse_F:.3g} meV/Å, RMS spread {rms_sF:.3g} meV/Å, "
            f"alpha = {self.alpha_force:.3g}"
        )


def calibration_factor(error, std) -> float:
    """alpha = sqrt(<e^2> / <sigma^2>); nan if every spread is 0."""
    mean_var = float(np.mean(np.square(std)))
    return float(np.sqrt(np.mean(np.square(error)) / mean_var)) if mean_var > 0 else float("nan")


def calibrate(committee: Committee, test_set) -> Calibration:
    """Errors and spreads of ``committee`` on ``test_set`` (labelled ``ase.Atoms``)."""
    eE, sE, eF, sF = [], [], [], []
    for i, atoms in enumerate(test_set):
        E_ref, F_ref = reference_energy(atoms), reference_forces(atoms)
        if E_ref is None or F_ref is None:
            raise ValueError(f"test structure {i} has no reference energy and forces")
        r = evaluate_committee_atoms(committee, atoms, stress=False)
        n = len(atoms)
        eE.append((r.energy - E_ref) / n)
        sE.append(r.energy_std / n)
        eF.append((r.forces_nc - F_ref).ravel())
        sF.append(r.forces_std_nc.ravel())
    eE, sE = np.array(eE), np.array(sE)
    eF, sF = np.concatenate(eF), np.concatenate(sF)
    return Calibration(eE, sE, eF, sF, calibration_factor(eE, sE), calibration_factor(eF, sF))


def binned_rmse(std, error, n_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(RMS spread, RMS error) in ``n_bins`` bins of equal population sorted by spread."""
    order = np.argsort(std)
    bins = [b for b in np.array_split(order, min(n_bins, len(order))) if b.size]
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))
    return np.array([rms(std[b]) for b in bins]), np.array([rms(error[b]) for b in bins])


def plot_calibration(cal: Calibration, n_bins: int = 10, path=None):
    """Binned RMS error against RMS spread (log-log), energies and forces; returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    panels = (
        ("energy (meV/atom)", cal.energy_std_b, cal.energy_error_b, cal.alpha_energy),
        ("force component (meV/Å)", cal.force_std_k, cal.force_error_k, cal.alpha_force),
    )
    for ax, (name, std, err, alpha) in zip(axes, panels):
        s, e = binned_rmse(1e3 * std, 1e3 * err, n_bins)
        ax.loglog(1e3 * std, 1e3 * np.abs(err), ".", alpha=0.15, color="0.5", label="|error|")
        ax.loglog(s, e, "o-", label="binned RMS error")
        lo, hi = max(min(s.min(), e.min()), 1e-6), max(s.max(), e.max())
        grid = np.array([lo, hi])
        ax.loglog(grid, grid, "k--", lw=1, label="error = spread")
        if np.isfinite(alpha):
            ax.loglog(grid, alpha * grid, "r:", lw=1, label=f"error = {alpha:.2g} x spread")
        ax.set_xlabel(f"committee spread, {name}")
        ax.set_ylabel(f"error, {name}")
        ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


__all__ = [
    "Calibration",
    "CommitteeTrainingResult",
    "MemberTask",
    "binned_rmse",
    "calibrate",
    "calibration_factor",
    "member_seeds",
    "member_training_set",
    "plot_calibration",
    "rescale_potential",
    "train_committee",
    "train_member",
]
