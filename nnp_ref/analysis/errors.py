r"""Errors of a trained potential on reference structures, and the figures of the notebooks.

:func:`predict_dataset` evaluates the potential (``nnp_ref.model.potential.evaluate``,
the same code the ASE calculator uses) on every structure and collects
reference and predicted energies per atom and force components;
:func:`metrics` turns them into

    RMSE_E = sqrt( (1/S) sum_s [(E_s - E_s^ref)/N_s]^2 )        meV/atom
    MAE_E  = (1/S) sum_s |E_s - E_s^ref| / N_s                  meV/atom
    RMSE_F = sqrt( (1/3N) sum_{k,c} (F_kc - F_kc^ref)^2 )       meV/Å
    MAE_F  = (1/3N) sum_{k,c} |F_kc - F_kc^ref|                 meV/Å

Figures (matplotlib; each function returns the ``Figure`` and accepts
``ax=`` to draw into an existing axes): :func:`parity_plot`,
:func:`error_histogram`, :func:`plot_learning_curve` (a trainer history, a
``history.csv``, optionally n2p2's ``learning-curve.out`` for comparison),
:func:`force_error_vs_magnitude`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.model.potential import ExtrapolationWarning, Potential, evaluate_atoms


@dataclass
class Predictions:
    """Reference and predicted values of a data set (eV/atom, eV/Å).

    ``E_ref_s``, ``E_pred_s`` (S,): energies per atom; ``n_atoms_s`` (S,);
    ``F_ref_kc``, ``F_pred_kc`` (N, 3): forces of all atoms stacked (empty
    if the structures have no reference forces); ``structure_k`` (N,): the
    structure of each atom; ``n_extrapolations_s`` (S,): symmetry-function values
    outside the training range in each structure (None when not counted).
    """

    E_ref_s: np.ndarray
    E_pred_s: np.ndarray
    n_atoms_s: np.ndarray
    F_ref_kc: np.ndarray
    F_pred_kc: np.ndarray
    structure_k: np.ndarray
    n_extrapolations_s: np.ndarray | None = None


def predict_dataset(
    potential: Potential, structures, progress: bool = False, extrapolation: str = "warn"
) -> Predictions:
    """Evaluate ``potential`` on every structure (with reference energies, optional forces).

    Extrapolation (symmetry functions outside the training range) is counted per
    structure; ``extrapolation="warn"`` (default) gives ONE warning for the whole set
    (how many structures, the first of them), ``"raise"`` stops at the first such
    structure, ``"off"`` is silent (the counts are still in the result).
    """
    from tqdm.auto import tqdm

    if extrapolation not in ("warn", "raise", "off"):
        raise ValueError(f"extrapolation must be 'warn', 'raise' or 'off', not {extrapolation!r}")
    per_call = "raise" if extrapolation == "raise" else "count"
    E_ref, E_pred, n_atoms, F_ref, F_pred, owner, n_extra = [], [], [], [], [], [], []
    for s, atoms in enumerate(tqdm(structures, desc="evaluating", disable=not progress)):
        result = evaluate_atoms(potential, atoms, forces=True, stress=False, extrapolation=per_call)
        n_extra.append(len(result.extrapolations))
        energy = reference_energy(atoms)
        if energy is None:
            raise ValueError(
                f"structure {s} ({atoms.get_chemical_formula()}) has no reference energy"
            )
        E_ref.append(energy / len(atoms))
        E_pred.append(result.energy / len(atoms))
        n_atoms.append(len(atoms))
        forces = reference_forces(atoms)
        if forces is not None:
            F_ref.append(forces)
            F_pred.append(result.forces_nc)
            owner.append(np.full(len(atoms), s))
    n_extrapolations_s = np.array(n_extra, dtype=int)
    extrapolating = np.flatnonzero(n_extrapolations_s)
    if extrapolation == "warn" and extrapolating.size:
        warnings.warn(
            f"{extrapolating.size} of {len(n_extrapolations_s)} structures have "
            f"symmetry-function values outside the training range "
            f"({n_extrapolations_s.sum()} values; first: structure {extrapolating[0]})",
            ExtrapolationWarning,
            stacklevel=2,
        )
    empty = np.zeros((0, 3))
    return Predictions(
        np.array(E_ref),
        np.array(E_pred),
        np.array(n_atoms),
        np.vstack(F_ref) if F_ref else empty,
        np.vstack(F_pred) if F_pred else empty,
        np.concatenate(owner) if owner else np.zeros(0, dtype=int),
        n_extrapolations_s,
    )


def rmse(error) -> float:
    """sqrt(mean(error^2)) (NaN for no data)."""
    error = np.asarray(error, dtype=float)
    return float(np.sqrt(np.mean(error**2))) if error.size else float("nan")


def mae(error) -> float:
    """mean(|error|) (NaN for no data)."""
    error = np.asarray(error, dtype=float)
    return float(np.mean(np.abs(error))) if error.size else float("nan")


def metrics(pred: Predictions) -> dict[str, float]:
    """RMSE and MAE of energies per atom (meV/atom) and force components (meV/Å)."""
    dE = pred.E_pred_s - pred.E_ref_s
    dF = pred.F_pred_kc - pred.F_ref_kc
    return {
        "rmse_energy_meV_per_atom": 1e3 * rmse(dE),
        "mae_energy_meV_per_atom": 1e3 * mae(dE),
        "rmse_force_meV_per_A": 1e3 * rmse(dF),
        "mae_force_meV_per_A": 1e3 * mae(dF),
        "n_structures": int(dE.size),
        "n_force_components": int(dF.size),
    }


def evaluate_dataset(potential: Potential, structures, progress: bool = False) -> dict[str, float]:
    """:func:`metrics` of :func:`predict_dataset`."""
    return metrics(predict_dataset(potential, structures, progress))


# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def _axes(ax, ncols=1, figsize=(4.5, 4.0)):
    import matplotlib.pyplot as plt

    if ax is not None:
        axes = np.atleast_1d(ax)
        return axes[0].figure, axes
    fig, axes = plt.subplots(1, ncols, figsize=(figsize[0] * ncols, figsize[1]), squeeze=False)
    return fig, axes[0]


def parity_plot(pred: Predictions, ax=None, label: str = ""):
    """Predicted vs reference: energies per atom (left) and force components (right)."""
    fig, (ax_E, ax_F) = _axes(ax, ncols=2)
    m = metrics(pred)
    panels = (
        (ax_E, pred.E_ref_s, pred.E_pred_s, "energy (eV/atom)", m["rmse_energy_meV_per_atom"],
         "meV/atom"),
        (ax_F, pred.F_ref_kc.ravel(), pred.F_pred_kc.ravel(), "force component (eV/Å)",
         m["rmse_force_meV_per_A"], "meV/Å"),
    )  # fmt: skip
    for axis, ref, nnp, name, err, unit in panels:
        if ref.size:
            lo, hi = float(min(ref.min(), nnp.min())), float(max(ref.max(), nnp.max()))
            axis.plot([lo, hi], [lo, hi], color="0.6", lw=1)
            axis.plot(ref, nnp, ".", ms=3, alpha=0.6, label=label or None)
        axis.set_xlabel(f"reference {name}")
        axis.set_ylabel(f"NNP {name}")
        axis.set_title(f"RMSE {err:.3g} {unit}")
        axis.set_aspect("equal", adjustable="datalim")
        # energies per atom share large leading digits: plain ticks, few of them
        axis.ticklabel_format(useOffset=False)
        axis.locator_params(nbins=4)
    fig.tight_layout()
    return fig


def error_histogram(pred: Predictions, ax=None, bins: int = 50):
    """Histograms of the energy (meV/atom) and force-component (meV/Å) errors."""
    fig, (ax_E, ax_F) = _axes(ax, ncols=2)
    dE = 1e3 * (pred.E_pred_s - pred.E_ref_s)
    dF = 1e3 * (pred.F_pred_kc - pred.F_ref_kc).ravel()
    for axis, err, name in (
        (ax_E, dE, "energy error (meV/atom)"),
        (ax_F, dF, "force error (meV/Å)"),
    ):
        if err.size:
            axis.hist(err, bins=bins, color="C0", alpha=0.8)
        axis.set_xlabel(name)
        axis.set_ylabel("count")
    fig.tight_layout()
    return fig


def force_error_vs_magnitude(pred: Predictions, ax=None, bins: int = 12):
    """|F_pred - F_ref| per atom (meV/Å) against |F_ref| (eV/Å), with the binned RMSE."""
    fig, (axis,) = _axes(ax)
    magnitude = np.linalg.norm(pred.F_ref_kc, axis=1)
    error = 1e3 * np.linalg.norm(pred.F_pred_kc - pred.F_ref_kc, axis=1)
    axis.plot(magnitude, error, ".", ms=2, alpha=0.3, color="C0", label="atoms")
    if magnitude.size:
        edges = np.linspace(0.0, magnitude.max() + 1e-12, bins + 1)
        which = np.clip(np.digitize(magnitude, edges) - 1, 0, bins - 1)
        centres, binned = [], []
        for b in range(bins):
            sel = which == b
            if sel.any():
                centres.append(0.5 * (edges[b] + edges[b + 1]))
                binned.append(np.sqrt(np.mean(error[sel] ** 2)))
        axis.plot(centres, binned, "o-", color="C3", label="RMS per bin")
    axis.set_xlabel("|F_ref| (eV/Å)")
    axis.set_ylabel("|F_NNP - F_ref| (meV/Å)")
    axis.legend()
    fig.tight_layout()
    return fig


def read_n2p2_learning_curve(path, energy_unit: float = 1.0, force_unit: float = 1.0) -> list[dict]:
    """n2p2's ``learning-curve.out`` as history rows (meV/atom, meV/Å after unit conversion).

    ``energy_unit`` (eV per file energy unit) and ``force_unit`` (eV/Å per
    file force unit), e.g. Hartree and Hartree/Bohr for the water example.
    Columns used: epoch, RMSEpa_Etrain_pu, RMSEpa_Etest_pu, RMSE_Ftrain_pu,
    RMSE_Ftest_pu (found by name in the header).
    """
    names = None
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            words = line.split()
            if not words:
                continue
            if words[0] == "#" and len(words) > 1 and words[1] == "epoch":
                names = words[1:]
                continue
            if words[0].startswith("#") or names is None:
                continue
            values = dict(zip(names, map(float, words)))
            e, f = 1e3 * energy_unit, 1e3 * force_unit
            rows.append(
                {
                    "epoch": values["epoch"],
                    "rmse_energy_train_meV_per_atom": e * values["RMSEpa_Etrain_pu"],
                    "rmse_energy_validation_meV_per_atom": e * values["RMSEpa_Etest_pu"],
                    "rmse_force_train_meV_per_A": f * values.get("RMSE_Ftrain_pu", np.nan),
                    "rmse_force_validation_meV_per_A": f * values.get("RMSE_Ftest_pu", np.nan),
                }
            )
    return rows


def plot_learning_curve(histories, ax=None, labels=None, x: str = "epoch"):
    """RMSE of energies per atom (left) and forces (right): train solid, validation dashed.

    ``histories``: one history (list of dicts, e.g. ``TrainingResult.history``
    or :func:`nnp_ref.training.trainer.read_history`), a path to a ``history.csv``,
    or a list of these to compare runs (``labels`` name them). ``x`` may be
    "epoch" or "wall_time_s".
    """
    if isinstance(histories, (str, bytes)) or hasattr(histories, "__fspath__"):
        histories = [histories]
    elif histories and isinstance(histories[0], dict):
        histories = [histories]
    from nnp_ref.training.trainer import read_history

    histories = [read_history(h) if not isinstance(h, list) else h for h in histories]
    labels = labels or [f"run {i}" for i in range(len(histories))]
    fig, (ax_E, ax_F) = _axes(ax, ncols=2)
    for i, (history, name) in enumerate(zip(histories, labels)):
        xs = [row.get(x, np.nan) for row in history]
        for axis, key, unit in ((ax_E, "energy", "meV/atom"), (ax_F, "force", "meV/Å")):
            suffix = "per_atom" if key == "energy" else "per_A"
            train = [row[f"rmse_{key}_train_meV_{suffix}"] for row in history]
            val = [row[f"rmse_{key}_validation_meV_{suffix}"] for row in history]
            axis.semilogy(xs, train, "-", color=f"C{i}", label=f"{name} train")
            if np.any(np.isfinite(val)):
                axis.semilogy(xs, val, "--", color=f"C{i}", label=f"{name} validation")
            axis.set_xlabel("epoch" if x == "epoch" else "wall time (s)")
            axis.set_ylabel(f"RMSE {key} ({unit})")
    ax_F.legend(fontsize="small")
    fig.tight_layout()
    return fig


__all__ = [
    "Predictions",
    "error_histogram",
    "evaluate_dataset",
    "force_error_vs_magnitude",
    "mae",
    "metrics",
    "parity_plot",
    "plot_learning_curve",
    "predict_dataset",
    "read_n2p2_learning_curve",
    "rmse",
]
