r"""The active-learning loop: committee -> MD -> most uncertain frames -> label -> retrain.

The network only interpolates between the structures it was trained on, so
*which* structures are computed decides its quality. Query by committee
(H. S. Seung, M. Opper and H. Sompolinsky, COLT 1992; for NNPs: N. Artrith
and J. Behler, Phys. Rev. B 85, 045439 (2012); C. Schran et al., J. Chem.
Phys. 153, 104105 (2020)) computes only where the committee disagrees.
Iteration k:

1. **train** committee k on every label of iterations <= k (k = 0: a small
   initial set; k > 0: warm start from committee k-1);
2. **explore**: Langevin MD with the committee at each start structure and
   temperature; every ``sample_every`` steps a candidate frame with its
   spread sigma_F = max_i sigma_F,i (eV/Å) and extrapolation
   x = max_is x_is (:mod:`nnp_ref.model.committee`);
3. **stop** if max sigma_F over the candidates < ``target_force_std``
   (converged), or if the budget of reference calculations is spent, or
   after ``max_iterations``;
4. **select**: score = sigma_F + ``extrapolation_weight`` * min(x, 10);
   candidates with sigma_F above the target or x > 0 form the pool, the
   best ``pool_factor * n_select`` by score are diversified by farthest-point
   sampling (:mod:`nnp_ref.selection.fps`) on their per-structure features
   (mean scaled symmetry functions per element), starting from the best;
5. **label** them with the reference method into the database (tags
   ``iteration = k+1``, ``source = "active"``, MD temperature and step,
   spreads); a failed calculation is a row with its reason, the loop goes on.

Everything lives in ``workdir``: ``labels.db`` (ASE SQLite,
:mod:`nnp_ref.data.database`), ``iter_XXX/committee/member_YYY.json``,
``iter_XXX/candidates.npz``, ``iter_XXX/selected.json``,
``iter_XXX/report.json``, and ``report.csv`` + ``report.png``. Each step
is skipped when its output exists, every random number comes from
``seed``, so a killed run started again ends in the same database and the
same weights as an uninterrupted one.
"""

from __future__ import annotations

import importlib
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nnp_ref.active_learning.config import ActiveLearningConfig
from nnp_ref.active_learning.frames import load_frames, save_frames
from nnp_ref.active_learning.report import write_summary
from nnp_ref.io.model_json import atomic_write_text

EXTRAPOLATION_CAP = 10.0  # ranges; caps inf (a function constant in training that moved)

# ---------------------------------------------------------------------------
# Inputs: labeller, initial structures, MD starts
# ---------------------------------------------------------------------------


def make_labeller_from(spec: str):
    """``"emt"``, ``"lj"``, ``"functional/basis"`` (PySCF) or ``"module:factory"`` (a callable
    returning a labeller, see :mod:`nnp_ref.data.labellers`)."""
    if ":" in spec and "/" not in spec.split(":")[0]:
        module, _, name = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise ValueError(
                f"labeller {spec!r}: cannot import {name} from {module}: {err}"
            ) from None
        return factory()
    from nnp_ref.data.labellers import make_labeller

    return make_labeller(spec)


def unlabelled(atoms):
    """A copy without calculator results (geometry and ``info`` only)."""
    out = atoms.copy()
    out.calc = None
    return out


def initial_structures(cfg: ActiveLearningConfig) -> list:
    """Geometries of the initial set: ``cfg.initial_structures`` or generated fcc cells
    (rattled and strained bulk, vacancies, surfaces; labels are made by the labeller)."""
    from nnp_ref.data.datasets import generate_reference_data, read_dataset

    if cfg.initial_structures:
        return [unlabelled(a) for a in read_dataset(cfg.initial_structures)]
    generated = generate_reference_data(
        symbols=(cfg.element,), crystal="fcc", a=cfg.lattice_constant, calculator="emt",
        n_structures=cfg.n_initial, seed=cfg.seed, repeats=(cfg.repeat,), progress=False,
        mix={"rattled": 0.6, "vacancy": 0.2, "surface": 0.2}, rattle=(0.01, 0.05),
    )  # fmt: skip
    return [unlabelled(a) for a in generated]


def md_starts(cfg: ActiveLearningConfig) -> list:
    """Start structures of the exploration MD (``info["start"]`` names them)."""
    from ase.build import bulk, fcc100

    if cfg.start_structures:
        from nnp_ref.data.datasets import read_dataset

        starts = [unlabelled(a) for a in read_dataset(cfg.start_structures)]
        for i, a in enumerate(starts):
            a.info["start"] = f"structure {i}"
        return starts
    out = []
    for kind in cfg.starts:
        if kind == "surface":
            atoms = fcc100(cfg.element, size=(cfg.repeat[0], cfg.repeat[1], 3),
                           a=cfg.lattice_constant, vacuum=6.0, periodic=True)  # fmt: skip
        else:
            atoms = bulk(cfg.element, "fcc", a=cfg.lattice_constant, cubic=True).repeat(cfg.repeat)
            if kind == "vacancy":
                del atoms[0]
        atoms.info["start"] = kind
        out.append(atoms)
    return out


def seed_of(*keys: int) -> int:
    """A seed derived from (run seed, iteration, run index, ...)."""
    return int(np.random.SeedSequence([int(k) for k in keys]).generate_state(1)[0])


# ---------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------


def explore(committee, starts, cfg: ActiveLearningConfig, iteration: int, progress=False):
    """Langevin MD from every start at every temperature; (candidate frames, summary dict)."""
    from nnp_ref.dynamics.md import MDError, run_md
    from nnp_ref.model.committee import CommitteeCalculator, SpreadLog

    frames, problems = [], []
    n_warnings = 0
    for j, (start, T) in enumerate((s, T) for s in starts for T in cfg.temperatures):
        atoms = start.copy()
        atoms.calc = CommitteeCalculator(committee)
        log = SpreadLog(atoms, keep_frames_every=cfg.sample_every)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                run_md(atoms, cfg.dt_fs, cfg.steps, "langevin", temperature_K=float(T),
                       seed=seed_of(cfg.seed, iteration, j), init_temperature_K=float(T),
                       callback=log, progress=progress)  # fmt: skip
            except (MDError, ValueError) as err:  # flew apart, or atoms on top of each other
                problems.append(f"{start.info.get('start', j)} at {T:g} K: {err}")
        n_warnings += len(caught)
        for frame in log.frames[1:]:  # step 0 is the start structure itself
            frame.info.update(md_start=str(start.info.get("start", j)), md_temperature=float(T))
            frames.append(frame)
    sigma = np.array([f.info["max_force_std"] for f in frames]) if frames else np.zeros(1)
    summary = {
        "md_frames": len(frames),
        "md_max_force_std": float(sigma.max()),
        "md_mean_force_std": float(sigma.mean()),
        "md_max_extrapolation": float(
            max((min(f.info["max_extrapolation"], EXTRAPOLATION_CAP) for f in frames), default=0)
        ),
        "md_problems": problems,
        "md_warnings": n_warnings,
    }
    return frames, summary


def frame_scores(frames, extrapolation_weight: float) -> np.ndarray:
    """score = sigma_F + w min(x, cap) per frame (eV/Å)."""
    sigma = np.array([f.info["max_force_std"] for f in frames])
    x = np.minimum([f.info["max_extrapolation"] for f in frames], EXTRAPOLATION_CAP)
    return sigma + extrapolation_weight * x


def structure_features(frames, potential) -> np.ndarray:
    """Per frame: mean scaled symmetry functions of each element, concatenated."""
    from nnp_ref.selection.features import structure_features as features

    sfset = potential.descriptor
    descriptors = [sfset.compute_atoms(a, with_derivatives=False) for a in frames]
    return features(descriptors, potential.elements, potential.scalings)


def select(frames, committee, cfg: ActiveLearningConfig, n_take: int) -> list[int]:
    """Indices of the frames to label (module docstring, step 4)."""
    from nnp_ref.selection.fps import fps_rows

    if n_take <= 0 or not frames:
        return []
    score = frame_scores(frames, cfg.extrapolation_weight)
    sigma = np.array([f.info["max_force_std"] for f in frames])
    x = np.array([f.info["max_extrapolation"] for f in frames])
    eligible = np.flatnonzero((sigma >= cfg.target_force_std) | (x > 0))
    if eligible.size == 0:
        return []
    pool = eligible[np.argsort(-score[eligible], kind="stable")][: cfg.pool_factor * n_take]
    n_take = min(n_take, pool.size)
    if n_take == pool.size:
        return sorted(int(i) for i in pool)
    features = structure_features([frames[i] for i in pool], committee.members[0])
    picked = fps_rows(features, n_take, initial=0)  # pool[0] has the best score
    return [int(pool[i]) for i in picked]


def label_frames(frames, labeller, db_path, iteration: int, progress=False) -> None:
    """Label ``frames`` into the database with tag ``iteration``; a frame the labeller
    refuses (``labeller.check``: e.g. atoms on top of each other after a bad MD step) or
    fails on is stored as a failed row with its reason, and the others go on."""
    import ase.db

    from nnp_ref.data.database import existing_keys, label_structures, structure_key, write_failure

    good = []
    done = existing_keys(db_path)
    for i, atoms in enumerate(frames):
        name = f"iteration {iteration} frame {i} ({atoms.get_chemical_formula()})"
        try:
            labeller.check(atoms, name)
            good.append(atoms)
        except ValueError as err:
            key = structure_key(atoms, labeller.identity)
            if key not in done:
                db = ase.db.connect(str(db_path), type="db", append=True)
                tags = {k: v for k, v in atoms.info.items() if isinstance(v, (str, int, float))}
                write_failure(db, atoms, key, f"rejected before labelling: {err}",
                              labeller.identity, {**tags, "iteration": iteration})  # fmt: skip
    label_structures(good, labeller, db_path, tags={"iteration": iteration}, progress=progress)


def n_calculations(db_path, iteration: int) -> int:
    """Reference calculations spent up to ``iteration``: rows (labels and failures) tagged
    with an iteration <= it (a count that does not depend on where a run was killed)."""
    from nnp_ref.data.database import read_database

    return len(read_database(db_path, f"iteration<={iteration}", include_failed=True))


def training_set(db_path, iteration: int) -> list:
    """The labels of iterations <= ``iteration`` (in row order)."""
    from nnp_ref.data.database import read_database

    return read_database(db_path, f"iteration<={iteration}")


def test_errors(committee, test_set) -> dict:
    """RMSE of the committee mean on a test set: energy (meV/atom), forces (meV/Å)."""
    from nnp_ref.data.datasets import reference_energy, reference_forces
    from nnp_ref.model.committee import evaluate_committee_atoms

    dE, dF = [], []
    for atoms in test_set:
        r = evaluate_committee_atoms(committee, atoms, stress=False)
        dE.append((r.energy - reference_energy(atoms)) / len(atoms))
        dF.append((r.forces_nc - reference_forces(atoms)).ravel())
    return {
        "test_rmse_energy_meV_per_atom": 1e3 * float(np.sqrt(np.mean(np.square(dE)))),
        "test_rmse_force_meV_per_A": 1e3 * float(np.sqrt(np.mean(np.square(np.concatenate(dF))))),
    }


# ---------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------


@dataclass
class ActiveLearningResult:
    """``committee``: the last one (trained on every label); ``reports``: one dict per
    iteration (also ``iter_XXX/report.json``); ``stopped``: why the loop ended."""

    committee: object
    reports: list
    stopped: str
    workdir: Path


def _write_json(path, data) -> None:
    atomic_write_text(path, json.dumps(data, indent=1, allow_nan=False) + "\n")


def _check_workdir(wd: Path, cfg: ActiveLearningConfig) -> None:
    """Refuse to resume a run that was made with other settings."""
    path = wd / "config.json"
    mine = {k: v for k, v in cfg.to_dict().items() if k not in ("workdir", "workers")}
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        old = {k: v for k, v in old.items() if k not in ("workdir", "workers")}
        diff = sorted(k for k in set(old) | set(mine) if old.get(k) != mine.get(k))
        if diff:
            raise ValueError(
                f"{wd} holds a run with other settings ({', '.join(diff)} differ); "
                "use another workdir or the same settings to resume"
            )
    else:
        _write_json(path, cfg.to_dict())


def train_step(cfg, train, iteration, previous, directory, progress):
    """Committee of ``iteration`` (warm start from ``previous`` after iteration 0)."""
    from nnp_ref.training.committee import train_committee
    from nnp_ref.training.trainer import TrainingConfig

    epochs = cfg.epochs if previous is None else cfg.warm_epochs
    config = TrainingConfig(optimizer=cfg.optimizer, epochs=epochs, learning_rate=cfg.learning_rate,
                            batch_size=cfg.batch_size, progress=False)  # fmt: skip
    options = {}
    if previous is None:
        options = dict(hidden=cfg.hidden, rc=cfg.rc, n_radial=cfg.n_radial,
                       n_angular=cfg.n_angular, r_lower=cfg.r_lower)  # fmt: skip
    return train_committee(train, cfg.n_members, config, seed=seed_of(cfg.seed, iteration),
                           bootstrap=cfg.bootstrap, workers=cfg.workers, warm_start=previous,
                           directory=directory, progress=progress, **options)  # fmt: skip


def stop_reason(cfg: ActiveLearningConfig, sigma: float, budget_left: int, k: int) -> str:
    """Why the loop stops after exploring in iteration ``k`` ("" if it goes on)."""
    target = f"{cfg.target_force_std:g} eV/Å"
    if sigma < cfg.target_force_std:
        return f"converged: max committee force spread on new MD {sigma:.3g} eV/Å < target {target}"
    if budget_left <= 0:
        return (f"budget of {cfg.max_labels} reference calculations spent; target not reached: "
                f"max force spread {sigma:.3g} eV/Å > {target}")  # fmt: skip
    if k == cfg.max_iterations:
        return (f"reached max_iterations = {cfg.max_iterations}; max force spread "
                f"{sigma:.3g} eV/Å > target {target}")  # fmt: skip
    return ""


def labels_of_iteration(db_path, iteration: int) -> tuple[int, list]:
    """(labels, failures as [description, reason]) stored with tag ``iteration``: the same
    numbers whether the labelling ran at once or was resumed after a kill."""
    from nnp_ref.data.database import read_database

    rows = read_database(db_path, f"iteration={iteration}", include_failed=True)
    failed = [r for r in rows if r.info.get("status") == "failed"]
    failures = [[f"{r.get_chemical_formula()} (MD step {r.info.get('md_step', '?')}, "
                 f"{r.info.get('md_start', '?')})", r.info.get("reason", "")]
                for r in failed]  # fmt: skip
    return len(rows) - len(failed), failures


def run_active_learning(
    cfg: ActiveLearningConfig, labeller=None, test_set=None, progress: bool = True
) -> ActiveLearningResult:
    """Run (or resume) the loop of the module docstring in ``cfg.workdir``."""
    from nnp_ref.data.datasets import read_dataset

    say = print if progress else (lambda *a, **k: None)
    wd = Path(cfg.workdir)
    wd.mkdir(parents=True, exist_ok=True)
    _check_workdir(wd, cfg)
    labeller = labeller if labeller is not None else make_labeller_from(cfg.labeller)
    if test_set is None and cfg.test_set:
        test_set = read_dataset(cfg.test_set)
    db = wd / "labels.db"
    if not (wd / "initial_done").is_file():
        label_frames(initial_structures(cfg), labeller, db, 0, progress)
        n_ok, failures = labels_of_iteration(db, 0)
        if n_ok == 0:
            raise RuntimeError(f"no initial structure could be labelled: {failures[:3]}")
        atomic_write_text(wd / "initial_done", f"{n_ok} labelled, {len(failures)} failed\n")
    starts = md_starts(cfg)
    reports, committee, stopped = [], None, ""
    for k in range(cfg.max_iterations + 1):
        it = wd / f"iter_{k:03d}"
        if (it / "report.json").is_file():  # iteration finished in an earlier run
            report = json.loads((it / "report.json").read_text(encoding="utf-8"))
            from nnp_ref.model.committee import Committee

            committee = Committee.load(it / "committee")
            reports.append(report)
            if report.get("stopped"):
                stopped = report["stopped"]
                break
            continue
        t0 = time.perf_counter()
        train = training_set(db, k)
        committee = train_step(cfg, train, k, committee, it / "committee", progress).committee
        report = {"iteration": k, "n_train": len(train), "n_calculations": n_calculations(db, k),
                  "committee_time_s": time.perf_counter() - t0}  # fmt: skip
        if (it / "candidates.npz").is_file():
            frames = load_frames(it / "candidates.npz")
            summary = json.loads((it / "md_summary.json").read_text(encoding="utf-8"))
        else:
            frames, summary = explore(committee, starts, cfg, k, progress=False)
            _write_json(it / "md_summary.json", summary)  # before the frames: both or neither
            save_frames(it / "candidates.npz", frames)
        report.update(summary)
        if test_set:
            report.update(test_errors(committee, test_set))
        sigma = summary["md_max_force_std"]
        budget_left = cfg.max_labels - report["n_calculations"]
        stopped = stop_reason(cfg, sigma, budget_left, k)
        if not stopped:
            if (it / "selected.json").is_file():
                chosen = json.loads((it / "selected.json").read_text(encoding="utf-8"))
            else:
                chosen = select(frames, committee, cfg, min(cfg.n_select, budget_left))
                _write_json(it / "selected.json", chosen)
            if not chosen:
                stopped = "no candidate above the target or extrapolating: nothing to label"
            else:
                picked = [frames[i] for i in chosen]
                for atoms in picked:
                    atoms.info["source"] = "active"
                label_frames(picked, labeller, db, k + 1, progress)
                n_ok, failures = labels_of_iteration(db, k + 1)
                report.update(n_selected=len(chosen), n_labelled=n_ok, failures=failures)
        report["stopped"] = stopped
        report["n_calculations_after"] = n_calculations(db, k + 1)
        _write_json(it / "report.json", report)
        reports.append(report)
        say(f"active learning iteration {k}: {len(train)} labels, max force spread "
            f"{sigma * 1e3:.1f} meV/Å, {report.get('n_labelled', 0)} new labels")  # fmt: skip
        if stopped:
            break
    write_summary(wd, reports)
    if stopped:
        say(stopped)
    return ActiveLearningResult(committee, reports, stopped, wd)


__all__ = [
    "ActiveLearningResult",
    "explore",
    "frame_scores",
    "initial_structures",
    "label_frames",
    "make_labeller_from",
    "md_starts",
    "run_active_learning",
    "select",
    "structure_features",
    "test_errors",
    "training_set",
]
