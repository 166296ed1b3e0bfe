"""Lecture figures with a small trained copper potential: NVE energy conservation and
the learning curves of Adam and the Kalman filter (registered in
:mod:`nnp_ref.course.lectures`)."""

from __future__ import annotations

from matplotlib.figure import Figure

# ---------------------------------------------------------------------------
# Dynamics and training (a small trained copper potential, in seconds)
# ---------------------------------------------------------------------------


def energy_conservation_figure(seed: int = 0, duration_fs: float = 80.0) -> Figure:
    """NVE with a small trained copper NNP at dt = 0.5, 1, 2, 4 fs (32 atoms, 1200 K start).

    Left: E_tot(t) - E_tot(0); right: its RMS fluctuation against dt with a
    dt^2 guide (``nnp_ref.analysis.plots.plot_energy_conservation``).
    """
    from nnp_ref.analysis.observables import energy_conservation
    from nnp_ref.analysis.plots import plot_energy_conservation
    from nnp_ref.course.demo import fcc_copper, train_quick_copper
    from nnp_ref.model.calculator import NNPCalculator

    _, result = train_quick_copper(seed=seed)
    atoms = fcc_copper(2)
    atoms.calc = NNPCalculator(result.potential)
    study = energy_conservation(
        atoms, (0.5, 1.0, 2.0, 4.0), duration_fs, init_temperature_K=1200.0, seed=seed
    )
    fig = plot_energy_conservation(study)
    fig.suptitle("velocity Verlet with a trained copper NNP (32 atoms)", fontsize="medium")
    fig.tight_layout()
    return fig


def learning_curve(seed: int = 0) -> Figure:
    """Adam against the Kalman filter on 24 small EMT copper structures (a few seconds each).

    Same data, same initial weights, same split; RMSE of energies per atom
    and force components on the training (solid) and validation (dashed)
    structures against the training time. The Kalman filter does many
    small, well-conditioned updates per epoch; Adam needs many more epochs.
    """
    import dataclasses

    from nnp_ref.analysis.errors import plot_learning_curve
    from nnp_ref.course.demo import QUICK, copper_data, train_copper

    settings = dataclasses.replace(QUICK, n_structures=32, seed=seed)
    structures = copper_data(settings, progress=False)
    runs = {
        "Kalman filter": dataclasses.replace(settings, optimizer="kalman", epochs=4),
        "Adam": dataclasses.replace(settings, optimizer="adam", epochs=300, learning_rate=5e-3),
    }
    histories = [train_copper(structures, s, progress=False)[1].history for s in runs.values()]
    fig = Figure(figsize=(10, 4))
    axes = fig.subplots(1, 2)
    plot_learning_curve(histories, ax=axes, labels=list(runs), x="wall_time_s")
    axes[0].set_title("energies")
    axes[1].set_title("forces")
    fig.suptitle(
        "learning curves on EMT copper (solid: training, dashed: validation)", fontsize="medium"
    )
    fig.tight_layout()
    return fig
