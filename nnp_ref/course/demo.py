r"""The one-command demo: reference data -> trained HDNNP -> test errors -> MD -> report.

``nnp-ref demo`` (or :func:`run_demo`) runs the whole method on the default
data set, EMT copper (``nnp_ref.data.datasets.default_dataset``), in a few minutes on
a laptop, and writes everything to one folder:

1. reference data: Cu structures (MD snapshots, strained and rattled cells,
   vacancies, surfaces) labelled by ASE's EMT; split at random into
   training, validation and test structures (``nnp_ref.data.datasets``);
2. training: default symmetry functions, scaling from the training set,
   element networks, the Kalman filter (``nnp_ref.training.trainer``); the best
   model by validation error is kept;
3. testing on the held-out structures: RMSE of energies per atom and of
   force components, parity plots (``nnp_ref.analysis.errors``);
4. NVE molecular dynamics with the trained potential at several time
   steps: drift and fluctuation of the total energy, which for velocity
   Verlet should scale as dt^2 (``nnp_ref.analysis.observables.energy_conservation``);
5. Langevin MD at the same temperature with the NNP and with EMT itself,
   and their radial distribution functions (``nnp_ref.analysis.observables.rdf``);
6. ``report.md``, ``metrics.json`` (numbers for scripts), the figures, the
   model (``model.json``, and in n2p2's format in ``model_n2p2/``) and the
   test set (``test_set.extxyz``).

:func:`run_demo` is a short sequence of the steps of :mod:`nnp_ref.workflow`
(the same steps ``nnp-ref train`` runs) plus the report
(:mod:`nnp_ref.course.demo_report`). Training budgets
are epochs: the numbers depend on the seed, not on the speed of the machine
(a wall-clock cap exists only as the explicit ``max_train_time_s``,
``nnp-ref demo --max-time``).

:func:`train_quick_copper` is the same pipeline shrunk to seconds, for the
lecture figures and the tutorials that need *some* trained copper potential.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from ase import Atoms
from ase.build import bulk

from nnp_ref import workflow
from nnp_ref.course.demo_report import (
    demo_metrics,
    plot_overview,
    plot_rdf_comparison,
    print_summary,
    report_markdown,
)

# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSettings:
    """Everything the demo does, in one place (lengths Å, times fs, temperatures K).

    Data: ``n_structures`` of the default EMT copper set (``repeats``: None
    for the default set and its cache, else the supercells of a freshly
    generated set), split ``validation``/``test`` at random.
    Model: cutoff ``rc``, ``hidden`` layers, ``optimizer`` (and the
    ``learning_rate`` of Adam), ``epochs`` epochs of training (and, only if
    set, at most ``max_train_time_s`` seconds: then results depend on speed).
    MD: a ``md_repeat``^3 cubic fcc supercell (4 atoms per cell) started at
    ``md_temperature_K`` (NVE runs start at twice that, since half the
    kinetic energy flows into the potential energy of a crystal); NVE at the
    time steps ``nve_dts_fs`` for ``nve_duration_fs`` each; Langevin MD at
    ``rdf_dt_fs`` for ``rdf_equilibration_steps`` + ``rdf_steps`` steps, a
    frame every ``rdf_every`` steps, for the RDFs up to ``rdf_r_max``.
    """

    n_structures: int = 400
    repeats: tuple | None = None
    validation: float = 0.1
    test: float = 0.1
    rc: float = 5.0
    hidden: tuple[int, ...] = (15, 15)
    optimizer: str = "kalman"
    learning_rate: float = 1e-3
    epochs: int = 10
    max_train_time_s: float | None = None
    md_repeat: int = 3
    md_temperature_K: float = 600.0
    nve_dts_fs: tuple[float, ...] = (1.0, 2.0, 4.0)
    nve_duration_fs: float = 200.0
    rdf_dt_fs: float = 2.0
    rdf_equilibration_steps: int = 50
    rdf_steps: int = 250
    rdf_every: int = 5
    rdf_r_max: float = 6.0
    seed: int = 0


#: The demo as ``nnp-ref demo`` runs it (a few minutes on two cores).
FULL = DemoSettings()

#: ``nnp-ref demo --quick``: the same steps on toy sizes (seconds), for tests.
QUICK = DemoSettings(
    n_structures=24,
    repeats=((2, 2, 2),),
    hidden=(8, 8),
    epochs=2,
    md_repeat=2,
    nve_dts_fs=(1.0, 2.0),
    nve_duration_fs=16.0,
    rdf_equilibration_steps=4,
    rdf_steps=12,
    rdf_every=4,
)


# ---------------------------------------------------------------------------
# Pieces (also used by nnp_ref.course.lectures and the notebooks)
# ---------------------------------------------------------------------------


def copper_data(settings: DemoSettings = FULL, progress: bool = True) -> list[Atoms]:
    """The demo's reference structures: the default EMT copper set, or a small fresh one."""
    from nnp_ref.data.datasets import default_dataset, generate_reference_data

    if settings.repeats is None:
        return default_dataset(settings.n_structures, seed=settings.seed, progress=progress)
    return generate_reference_data(
        kind="emt-cu",
        n_structures=settings.n_structures,
        seed=settings.seed,
        repeats=settings.repeats,
        md_snapshots=4,
        md_equilibrate=10,
        progress=progress,
    )


def train_copper(structures, settings: DemoSettings = FULL, checkpoint_dir=None, progress=True):
    """Split, build and train (:mod:`nnp_ref.workflow`); returns (split, training result).

    ``result.potential`` is the model with the lowest validation error.
    """
    from nnp_ref.training.trainer import TrainingConfig

    split = workflow.split_data(structures, settings.validation, settings.test, settings.seed)
    potential, descriptors = workflow.build(
        split.train, rc=settings.rc, hidden=settings.hidden, seed=settings.seed, progress=progress
    )
    config = TrainingConfig(
        optimizer=settings.optimizer,
        learning_rate=settings.learning_rate,
        epochs=settings.epochs,
        max_time=settings.max_train_time_s,
        seed=settings.seed,
        progress=progress,
    )
    return split, workflow.train(potential, split, config, descriptors, checkpoint_dir)


def train_quick_copper(
    n_structures: int = 32, epochs: int = 3, seed: int = 0, optimizer="kalman", progress=False
):
    """A small copper NNP in seconds (32-atom cells): returns (split, training result).

    Good enough for smooth MD and for showing a learning curve, not for
    science: use :func:`run_demo` or the training tutorial for that.
    """
    settings = dataclasses.replace(
        QUICK, n_structures=n_structures, epochs=epochs, seed=seed, optimizer=optimizer
    )
    structures = copper_data(settings, progress=progress)
    return train_copper(structures, settings, progress=progress)


def fcc_copper(repeat: int, a: float = 3.61) -> Atoms:
    """A cubic fcc copper supercell of 4 repeat^3 atoms."""
    return bulk("Cu", "fcc", a=a, cubic=True).repeat(repeat)


def md_frames(atoms: Atoms, calculator, settings: DemoSettings, trajectory, progress=True):
    """Langevin MD at the demo temperature; returns (frames after equilibration, MDResult).

    :func:`nnp_ref.workflow.md_frames` with the demo's settings: frames every
    ``settings.rdf_every`` steps, written to ``trajectory`` and read back.
    """
    return workflow.md_frames(
        atoms,
        calculator,
        settings.md_temperature_K,
        settings.rdf_dt_fs,
        settings.rdf_equilibration_steps,
        settings.rdf_steps,
        settings.rdf_every,
        trajectory,
        seed=settings.seed,
        progress=progress,
    )


# ---------------------------------------------------------------------------
# The demo
# ---------------------------------------------------------------------------


@dataclass
class DemoResult:
    """What :func:`run_demo` wrote: the folder, its main files and the metrics dict."""

    out_dir: Path
    report: Path
    metrics_file: Path
    metrics: dict


class _Steps:
    """Numbered step headers and wall-clock timings."""

    def __init__(self, n: int, verbose: bool):
        self.n, self.k, self.verbose = n, 0, verbose
        self.timings: dict[str, float] = {}
        self.start = self.t0 = time.perf_counter()
        self.name = None

    def __call__(self, name: str, text: str) -> None:
        self.done()
        self.k += 1
        self.name = name
        self.t0 = time.perf_counter()
        if self.verbose:
            print(f"[{self.k}/{self.n}] {text}", flush=True)

    def done(self) -> None:
        if self.name is not None:
            self.timings[self.name] = round(time.perf_counter() - self.t0, 2)
            self.name = None

    @property
    def total(self) -> float:
        return time.perf_counter() - self.start


def run_demo(
    out_dir="nnp_ref_demo",
    quick: bool = False,
    settings: DemoSettings | None = None,
    progress: bool = True,
    verbose: bool = True,
) -> DemoResult:
    """Run the whole demo and write its results to ``out_dir`` (see the module docstring).

    ``quick``: toy sizes (:data:`QUICK`), a few seconds; ``settings``
    overrides both. Returns a :class:`DemoResult`; ``metrics.json`` holds
    the same numbers as ``result.metrics``.
    """
    import ase.io
    from ase.calculators.emt import EMT

    from nnp_ref.analysis.observables import rdf
    from nnp_ref.analysis.plots import plot_energy_conservation
    from nnp_ref.io.model_json import atomic_write_text
    from nnp_ref.model.calculator import NNPCalculator

    settings = settings or (QUICK if quick else FULL)
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    step = _Steps(6, verbose)
    T = settings.md_temperature_K

    step("data", f"reference data: {settings.n_structures} EMT copper structures")
    structures = copper_data(settings, progress=progress)

    step("training", f"training an HDNNP ({settings.optimizer}, {settings.epochs} epochs)")
    split, result = train_copper(structures, settings, out / "training", progress=progress)
    workflow.save_model_files(out, result, n2p2=True)

    step("test", f"testing on {len(split.test)} held-out structures")
    pred, test_metrics = workflow.measure_errors(result.potential, split.test, progress)
    workflow.save_test_files(out, split.test, pred)

    atoms = fcc_copper(settings.md_repeat)
    step("nve", f"NVE MD of {len(atoms)} atoms with the NNP at dt = {settings.nve_dts_fs} fs")
    study = workflow.nve_study(
        atoms, NNPCalculator(result.potential), settings.nve_dts_fs, settings.nve_duration_fs,
        init_temperature_K=2.0 * T, seed=settings.seed, progress=progress,
    )  # fmt: skip
    plot_energy_conservation(study, path=out / "energy_conservation.png")

    step("rdf", f"Langevin MD at {T:g} K with the NNP and with EMT, RDFs")
    nnp = md_frames(atoms, NNPCalculator(result.potential), settings, out / "md_nnp.traj", progress)
    emt = md_frames(atoms, EMT(), settings, out / "md_emt.traj", progress)
    rdfs = [rdf(frames, settings.rdf_r_max, n_bins=120) for frames, _ in (nnp, emt)]
    plot_rdf_comparison(*rdfs, out / "rdf.png", temperature_K=T)

    step("report", "writing the report")
    plot_overview(result.history, pred, study, *rdfs, T, out / "overview.png")
    ase.io.write(out / "md_start.extxyz", atoms)
    step.done()
    metrics = demo_metrics(settings, quick or settings == QUICK, structures, split, result,
                           test_metrics, atoms, study, nnp, emt, rdfs, step)  # fmt: skip
    metrics_file = workflow.write_json(out / "metrics.json", metrics)
    report = out / "report.md"
    atomic_write_text(report, report_markdown(metrics, settings))
    if verbose:
        print_summary(metrics, step.total, out, report, metrics_file)
    return DemoResult(out, report, metrics_file, metrics)


__all__ = [
    "FULL",
    "QUICK",
    "DemoResult",
    "DemoSettings",
    "copper_data",
    "fcc_copper",
    "plot_overview",
    "plot_rdf_comparison",
    "run_demo",
    "train_copper",
    "train_quick_copper",
]
