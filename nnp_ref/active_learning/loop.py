r"""The active-learning loop: committee -> MD -> most uncertain frames -> label -> retrain.

The network only interpolates between the structures it was trained on, so
*which* structures are computed decides its quality. Query by committee
(H. S. Seung, M. Opper and H. Sompolinsky, COLT 1992; for NNPs: N. Artrith
and J. Behler, Phys. Rev. B 85, 045439 (2012); C. Schran et al., J. Chem.
Phys. 153, 104105 (2020)) computes only where the committee disagrees.
The steps (explore, select, label, ...) are :mod:`nnp_ref.active_learning.steps`,
the initial set and MD start structures :mod:`nnp_ref.active_learning.starts`;
this module holds the loop that resumes from ``workdir``. Iteration k:

1. **train** committee k on every label of iterations <= k (k = 0: a small
   initial set; k > 0: warm start from committee k-1, unless
   ``warm_start = false``);
2. **explore**: Langevin MD with the committee at each start structure and
   temperature; every ``sample_every`` steps a candidate frame with its
   spread sigma_F = max_i sigma_F,i (eV/Å) and extrapolation
   x = max_is x_is (:mod:`nnp_ref.model.committee`); a trajectory ends at
   its first step with sigma_F > ``trust_hi`` (that frame is unphysical and
   never labelled, the step before it is a candidate; the trust window of
   :mod:`nnp_ref.active_learning.config`);
3. **stop** if max sigma_F over the candidates < ``target_force_std``
   (converged), or if the budget of reference calculations is spent, or
   after ``max_iterations``;
4. **select**: score = sigma_F + ``extrapolation_weight`` * min(x, 10);
   frames inside the trust window [``trust_lo``, ``trust_hi``], or
   extrapolating (x > 0) and not above ``trust_hi``, form the pool, the
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
from dataclasses import dataclass
from pathlib import Path

from nnp_ref.active_learning.config import ActiveLearningConfig
from nnp_ref.active_learning.frames import load_frames, save_frames
from nnp_ref.active_learning.report import write_summary
from nnp_ref.active_learning.starts import initial_structures, md_starts
from nnp_ref.active_learning.steps import (  # noqa: F401  (frame_scores, ...: re-exported)
    EXTRAPOLATION_CAP,
    explore,
    frame_scores,
    label_frames,
    n_calculations,
    seed_of,
    select,
    structure_features,
    test_errors,
    training_set,
)
from nnp_ref.io.model_json import atomic_write_text

# ---------------------------------------------------------------------------
# Input: the labeller
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

    previous = previous if cfg.warm_start else None
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
    _label_initial(cfg, wd, labeller, db, progress)
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
        frames, summary = _candidates(it, committee, md_starts(cfg, k), cfg, k)
        report.update(summary)
        if test_set:
            report.update(test_errors(committee, test_set))
        sigma = summary["md_max_force_std"]
        budget_left = cfg.max_labels - report["n_calculations"]
        stopped = stop_reason(cfg, sigma, budget_left, k)
        if not stopped:
            stopped = _select_and_label(it, frames, committee, cfg, budget_left, labeller, db, k,
                                        report, progress)  # fmt: skip
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


def _label_initial(cfg, wd: Path, labeller, db: Path, progress: bool) -> None:
    """Label the initial structures once (iteration 0 of the database); marked done in ``wd``."""
    if (wd / "initial_done").is_file():
        return
    label_frames(initial_structures(cfg), labeller, db, 0, progress)
    n_ok, failures = labels_of_iteration(db, 0)
    if n_ok == 0:
        raise RuntimeError(f"no initial structure could be labelled: {failures[:3]}")
    atomic_write_text(wd / "initial_done", f"{n_ok} labelled, {len(failures)} failed\n")


def _candidates(it: Path, committee, starts, cfg, k: int):
    """(frames, MD summary) of iteration k's exploration, read back if already on disk."""
    if (it / "candidates.npz").is_file():
        frames = load_frames(it / "candidates.npz")
        summary = json.loads((it / "md_summary.json").read_text(encoding="utf-8"))
        return frames, summary
    frames, summary = explore(committee, starts, cfg, k, progress=False)
    _write_json(it / "md_summary.json", summary)  # before the frames: both or neither
    save_frames(it / "candidates.npz", frames)
    return frames, summary


def _select_and_label(it, frames, committee, cfg, budget_left, labeller, db, k, report, progress):
    """Select frames (or read the selection back), label them as iteration k + 1, note the
    counts in ``report``; returns the stop reason ("" to go on)."""
    if (it / "selected.json").is_file():
        chosen = json.loads((it / "selected.json").read_text(encoding="utf-8"))
    else:
        chosen = select(frames, committee, cfg, min(cfg.n_select, budget_left))
        _write_json(it / "selected.json", chosen)
    if not chosen and report.get("n_beyond_trust"):
        return (f"no candidate in the trust window: the committee's spread left it (> trust_hi = "
                f"{cfg.trust_hi:g} eV/Å) before any sampled frame in the window; raise trust_hi, "
                "or start from initial structures closer to the MD starts")  # fmt: skip
    if not chosen:
        return "no candidate above trust_lo or extrapolating: nothing to label"
    picked = [frames[i] for i in chosen]
    for atoms in picked:
        atoms.info["source"] = "active"
    label_frames(picked, labeller, db, k + 1, progress)
    n_ok, failures = labels_of_iteration(db, k + 1)
    report.update(n_selected=len(chosen), n_labelled=n_ok, failures=failures)
    return ""


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
