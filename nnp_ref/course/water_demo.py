r"""The water steps of ``nnp-ref demo --system water``: DFT clusters -> NNP -> MD -> DFT check.

The data are the shipped PBE/def2-SVP water clusters (H2O)_1..6
(:mod:`nnp_ref.data.make_water_clusters`, ``nnp_ref/data/files/``):

1. :func:`water_data` and :func:`split_water`: the structures tagged
   ``set="test"`` in the file are the held-out clusters (never trained on,
   never used to pick the best epoch); the rest is split at random into
   training and validation;
2. :func:`train_water`: symmetry functions with cutoff ``rc``, element
   networks, Kalman filter (the steps of :mod:`nnp_ref.workflow`);
3. :func:`test_water`: energy and force errors on the held-out clusters;
4. :func:`md_water_cluster`: Langevin MD of one cluster with the NNP;
5. :func:`check_frames_with_dft`: a handful of MD frames - configurations
   the network never saw - recomputed live with PySCF at the data set's
   level, and the NNP's energies and forces compared to them.

Everything takes :class:`WaterSettings` (``WATER_FULL`` for the demo,
``WATER_QUICK`` for tests).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class WaterSettings:
    """The water demo (lengths Å, times fs, temperatures K).

    Model: cutoff ``rc``, ``n_radial`` radial shells from ``r_lower`` (the
    O-H bond, ~1 Å, must be resolved: the copper default starts at 1.5 Å),
    ``hidden`` layers, ``epochs`` of ``optimizer``,
    ``validation`` fraction of the non-test structures. MD: the cluster of
    ``md_n_molecules`` waters from the test set at ``md_temperature_K``,
    ``md_steps`` steps of ``md_dt_fs`` (a frame every ``md_every``).
    Check: ``n_dft_frames`` evenly spaced MD frames recomputed with PySCF.
    """

    rc: float = 6.0
    r_lower: float = 0.8
    n_radial: int = 10
    hidden: tuple[int, ...] = (15, 15)
    optimizer: str = "kalman"
    epochs: int = 25
    validation: float = 0.1
    md_n_molecules: int = 3
    md_temperature_K: float = 250.0
    md_dt_fs: float = 0.5
    md_steps: int = 400
    md_every: int = 20
    n_dft_frames: int = 4
    seed: int = 0


WATER_FULL = WaterSettings()
WATER_QUICK = WaterSettings(hidden=(6,), epochs=1, md_steps=20, md_every=10, n_dft_frames=1)


def water_data(path=None) -> list:
    """The shipped water clusters (energies in eV, forces in eV/Å)."""
    from nnp_ref.data.make_water_clusters import SHIPPED, load

    return load(SHIPPED if path is None else path)


def split_water(structures, settings: WaterSettings = WATER_FULL):
    """Held-out test set from the file's ``set="test"`` tags; random train/validation split."""
    from nnp_ref.data.datasets import split_by_indices

    test = [i for i, a in enumerate(structures) if a.info.get("set") == "test"]
    rest = np.array([i for i, a in enumerate(structures) if a.info.get("set") != "test"])
    order = np.random.default_rng(settings.seed).permutation(rest)
    n_val = max(1, int(round(settings.validation * len(rest))))
    return split_by_indices(structures, np.sort(order[n_val:]), np.sort(order[:n_val]), test)


def train_water(split, settings: WaterSettings = WATER_FULL, checkpoint_dir=None, progress=True):
    """Build and train an NNP on ``split.train``; returns the ``TrainingResult``."""
    from nnp_ref import workflow
    from nnp_ref.training.config import TrainingConfig

    potential, descriptors = workflow.build(
        split.train, rc=settings.rc, r_lower=settings.r_lower, n_radial=settings.n_radial,
        hidden=settings.hidden, seed=settings.seed, progress=progress,
    )  # fmt: skip
    config = TrainingConfig(
        optimizer=settings.optimizer, epochs=settings.epochs, seed=settings.seed,
        progress=progress,
    )  # fmt: skip
    return workflow.train(potential, split, config, descriptors, checkpoint_dir)


def test_water(potential, structures):
    """Predictions and metrics (meV/atom, meV/Å) on the held-out clusters.

    Held-out clusters may lie outside the training range of some symmetry
    functions: those warnings are counted in ``metrics["n_extrapolating"]``
    (structures with at least one), not printed.
    """
    import warnings

    from nnp_ref import workflow
    from nnp_ref.model.potential import ExtrapolationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExtrapolationWarning)
        pred, metrics = workflow.measure_errors(potential, structures)
    others = [w for w in caught if not issubclass(w.category, ExtrapolationWarning)]
    for w in others:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    metrics["n_extrapolating"] = len(caught) - len(others)
    return pred, metrics


test_water.__test__ = False  # not a pytest test


def md_start(structures, settings: WaterSettings = WATER_FULL):
    """The MD start: the first structure with ``md_n_molecules`` waters, else the nearest size."""
    if not structures:
        raise ValueError("no structures to start MD from")
    n_atoms = 3 * settings.md_n_molecules
    start = min(structures, key=lambda a: abs(len(a) - n_atoms)).copy()
    start.calc = None
    return start


def md_water_cluster(potential, structures, settings: WaterSettings = WATER_FULL, progress=True):
    """Langevin MD with the NNP from :func:`md_start`; returns (frames, MDResult)."""
    from nnp_ref import workflow
    from nnp_ref.model.calculator import NNPCalculator

    start = md_start(structures, settings)
    with tempfile.TemporaryDirectory() as tmp:
        return workflow.md_frames(
            start, NNPCalculator(potential, extrapolation="off"), settings.md_temperature_K,
            settings.md_dt_fs, 0, settings.md_steps, settings.md_every,
            Path(tmp) / "md.extxyz", seed=settings.seed, progress=progress,
        )  # fmt: skip


def check_frames_with_dft(potential, frames, n_frames: int, labeller=None) -> dict:
    """NNP vs live PySCF on ``n_frames`` evenly spaced frames.

    Returns per-frame DFT and NNP energies (eV), the energy error per atom
    and force RMSE (meV/atom, meV/Å), the seconds per DFT call, and
    ``failed``: (frame, reason) of frames whose SCF failed (left out).
    """
    from nnp_ref.data.labellers import LabelError
    from nnp_ref.data.make_water_clusters import make_labeller
    from nnp_ref.model.potential import evaluate_atoms

    labeller = make_labeller() if labeller is None else labeller
    pick = np.unique(np.linspace(0, len(frames) - 1, n_frames).round().astype(int))
    out = {"frame": [], "E_dft": [], "E_nnp": [], "dE_meV_per_atom": [], "F_rmse_meV_per_A": []}
    out["dft_s"] = []
    out["failed"] = []
    for i in pick:
        atoms = frames[i].copy()
        atoms.calc = None
        try:
            label = labeller(atoms)
        except LabelError as err:  # e.g. a frame of an exploded MD: report, do not stop
            out["failed"].append((int(i), str(err)))
            continue
        pred = evaluate_atoms(potential, atoms, stress=False, extrapolation="off")
        out["frame"].append(int(i))
        out["E_dft"].append(label.energy)
        out["E_nnp"].append(float(pred.energy))
        out["dE_meV_per_atom"].append(1e3 * (pred.energy - label.energy) / len(atoms))
        rmse = np.sqrt(np.mean((pred.forces_nc - label.forces_nc) ** 2))
        out["F_rmse_meV_per_A"].append(1e3 * float(rmse))
        out["dft_s"].append(label.provenance["wall_time_s"])
    return out


def water_potential_for_timing(settings: WaterSettings = WATER_FULL):
    """An untrained NNP with the demo's architecture (a call costs the same as a trained one)."""
    from nnp_ref import workflow

    structures = water_data()
    potential, _ = workflow.build(
        structures[:: max(1, len(structures) // 40)], rc=settings.rc, r_lower=settings.r_lower,
        n_radial=settings.n_radial, hidden=settings.hidden, seed=settings.seed, progress=False,
    )  # fmt: skip
    return potential


def plot_dft_check(check: dict, md_result, path=None):
    """MD energies of the cluster, and NNP vs live DFT on the checked frames."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    ax1.plot(md_result.t_fs, md_result.E_pot_t - md_result.E_pot_t[0], label="E_pot (NNP)")
    ax1.plot(md_result.t_fs, md_result.E_tot_t - md_result.E_tot_t[0], label="E_tot (NNP)")
    ax1.set(xlabel="time (fs)", ylabel="energy - start (eV)", title="Langevin MD of the cluster")
    ax1.legend(fontsize=8)
    e_dft, e_nnp = np.asarray(check["E_dft"]), np.asarray(check["E_nnp"])
    ax2.plot(e_dft - e_dft[0], e_nnp - e_dft[0], "o")
    lim = [min((e_dft - e_dft[0]).min(), (e_nnp - e_dft[0]).min()) - 0.05,
           max((e_dft - e_dft[0]).max(), (e_nnp - e_dft[0]).max()) + 0.05]  # fmt: skip
    ax2.plot(lim, lim, "k--", lw=0.8)
    ax2.set(xlabel="live PySCF energy - first frame (eV)", ylabel="NNP energy (eV)",
            title="unseen MD frames: NNP vs live DFT")  # fmt: skip
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


def run_water_demo(out, settings: WaterSettings = WATER_FULL, progress=True, say=print) -> dict:
    """All water steps into the folder ``out``; returns the metrics (also in metrics.json).

    Files: model.json, learning_curve.png, test_set.extxyz, parity.png,
    md_dft_check.png, metrics.json.
    """
    from nnp_ref import workflow

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    structures = water_data()
    split = split_water(structures, settings)
    say(f"water clusters: {split} (test = the file's held-out clusters)")
    result = train_water(split, settings, checkpoint_dir=out / "training", progress=progress)
    workflow.save_model_files(out, result)
    pred, test_metrics = test_water(result.potential, split.test)
    workflow.save_test_files(out, split.test, pred)
    say(
        f"held-out clusters: energy RMSE {test_metrics['rmse_energy_meV_per_atom']:.2f} "
        f"meV/atom, force RMSE {test_metrics['rmse_force_meV_per_A']:.1f} meV/Å"
    )
    frames, md = md_water_cluster(result.potential, split.test, settings, progress=progress)
    check = check_frames_with_dft(result.potential, frames, settings.n_dft_frames)
    for frame, reason in check["failed"]:
        say(f"MD frame {frame}: live PySCF failed ({reason}); left out of the check")
    if check["frame"]:
        workflow.save_figure(plot_dft_check(check, md), out / "md_dft_check.png")
        say(
            f"{len(check['frame'])} MD frames vs live PySCF: energy error "
            f"{np.abs(check['dE_meV_per_atom']).mean():.2f} meV/atom (mean abs), force RMSE "
            f"{np.mean(check['F_rmse_meV_per_A']):.1f} meV/Å"
        )
    metrics = {"test": test_metrics, "dft_check": check, "settings": settings.__dict__,
               "best_epoch": result.best_epoch}  # fmt: skip
    workflow.write_json(out / "metrics.json", metrics)
    return metrics
