r"""The demo's report: its figures, ``metrics.json`` and ``report.md``.

:func:`~nnp_ref.course.demo.run_demo` computes; this module only presents:
the RDF and one-page overview figures, every number in one dict, and the
markdown report that puts them into words.
"""

from __future__ import annotations

import dataclasses
import platform

import numpy as np
from matplotlib.figure import Figure

from nnp_ref import __version__, workflow

# ---------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------


def plot_rdf_comparison(rdf_nnp, rdf_ref, path=None, ax=None, temperature_K=None):
    """g(r) of NNP MD against the reference potential's MD (one panel)."""
    fig = None
    if ax is None:
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
    ax.plot(rdf_ref.r_b, rdf_ref.g_b, "k-", lw=1.5, label="EMT (reference)")
    ax.plot(rdf_nnp.r_b, rdf_nnp.g_b, "C3--", lw=1.5, label="NNP")
    title = "radial distribution function"
    if temperature_K is not None:
        title += f", {temperature_K:g} K"
    ax.set(xlabel="r (Å)", ylabel="g(r)", title=title)
    ax.legend(fontsize="small")
    if fig is not None:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=150)
    return ax.figure


def plot_overview(history, pred, study, rdf_nnp, rdf_ref, temperature_K, path=None) -> Figure:
    """The demo on one page: learning curve, parity plots, NVE energy, RDF."""
    from nnp_ref.analysis.errors import parity_plot, plot_learning_curve

    fig = Figure(figsize=(13, 8))
    axes = fig.subplots(2, 3)
    plot_learning_curve(history, ax=axes[0, :2], labels=["NNP"])
    axes[0, 0].set_title("learning curve: energies")
    axes[0, 1].set_title("learning curve: forces")
    plot_rdf_comparison(rdf_nnp, rdf_ref, ax=axes[0, 2], temperature_K=temperature_K)
    parity_plot(pred, ax=axes[1, :2])
    axes[1, 0].set_title("test set: " + axes[1, 0].get_title())
    axes[1, 1].set_title("test set: " + axes[1, 1].get_title())
    ax = axes[1, 2]
    for dt_fs, t_fs, dE in zip(study.dt_fs, study.t_fs, study.dE_meV_atom, strict=True):
        ax.plot(t_fs, dE, lw=0.8, label=f"dt = {dt_fs:g} fs")
    ax.set(xlabel="t (fs)", ylabel="E_tot(t) - E_tot(0) (meV/atom)", title="NVE with the NNP")
    ax.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


# ---------------------------------------------------------------------------
# metrics.json and report.md
# ---------------------------------------------------------------------------


def demo_metrics(settings, quick, structures, split, result, test_metrics, atoms, study, nnp,
                 emt, rdfs, step) -> dict:  # fmt: skip
    """Every number of the demo, as written to ``metrics.json`` (``quick``: toy sizes)."""
    potential, (rdf_nnp, rdf_ref) = result.potential, rdfs
    (frames_nnp, md_nnp), (_, md_ref) = nnp, emt
    dr = rdf_ref.r_b[1] - rdf_ref.r_b[0]
    n_eq = settings.rdf_equilibration_steps
    return workflow.plain({
        "nnp_ref_version": __version__,
        "settings": dataclasses.asdict(settings),
        "quick": bool(quick),
        "data": {
            "n_structures": len(structures),
            "n_train": len(split.train),
            "n_validation": len(split.validation),
            "n_test": len(split.test),
            "n_atoms_train": int(sum(len(a) for a in split.train)),
        },
        "training": {
            "optimizer": settings.optimizer,
            "epochs": int(result.history[-1]["epoch"]),
            "best_epoch": int(result.best_epoch),
            "stopped": result.stopped,
            "n_weights": int(sum(_n_weights(potential.networks[e]) for e in potential.elements)),
            "n_symmetry_functions": {e: len(v) for e, v in potential.symmetry_functions.items()},
            "validation_rmse_energy_meV_per_atom": _best(result, "energy"),
            "validation_rmse_force_meV_per_A": _best(result, "force"),
        },
        "test": test_metrics,
        "test_rmse_energy_meV_per_atom": float(test_metrics["rmse_energy_meV_per_atom"]),
        "test_rmse_force_meV_per_A": float(test_metrics["rmse_force_meV_per_A"]),
        "nve": {
            "n_atoms": len(atoms),
            "duration_fs": settings.nve_duration_fs,
            "initial_temperature_K": 2.0 * settings.md_temperature_K,
            "dt_fs": study.dt_fs,
            "drift_meV_per_atom_per_ps": study.drift_meV_atom_ps,
            "rms_fluctuation_meV_per_atom": study.rms_meV_atom,
            "fluctuation_exponent": float(study.exponent),
        },
        "rdf": {
            "temperature_K": settings.md_temperature_K,
            "mean_temperature_nnp_K": float(np.mean(md_nnp.T_t[n_eq:])),
            "mean_temperature_emt_K": float(np.mean(md_ref.T_t[n_eq:])),
            "n_frames": len(frames_nnp),
            "first_peak_nnp_A": float(rdf_nnp.r_b[np.argmax(rdf_nnp.g_b)]),
            "first_peak_emt_A": float(rdf_ref.r_b[np.argmax(rdf_ref.g_b)]),
            "integrated_abs_difference_A": float(np.sum(np.abs(rdf_nnp.g_b - rdf_ref.g_b)) * dr),
        },
        "timings_s": {**step.timings, "total": round(step.total, 2)},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    })  # fmt: skip


def print_summary(m: dict, total_s: float, out, report, metrics_file) -> None:
    """The test RMSEs, NVE drifts and where the files are, on stdout."""
    test, nve = m["test"], m["nve"]
    drifts = ", ".join(
        f"{d:+.3f} (dt {dt:g} fs)"
        for dt, d in zip(nve["dt_fs"], nve["drift_meV_per_atom_per_ps"], strict=True)
    )
    print(
        f"\nTest RMSE: {test['rmse_energy_meV_per_atom']:.2f} meV/atom, "
        f"{test['rmse_force_meV_per_A']:.1f} meV/Å; NVE drift {drifts} meV/atom/ps."
    )
    print(f"Done in {total_s:.0f} s. Results in {out}")
    print(f"  report:  {report}")
    print(f"  metrics: {metrics_file}")


def _n_weights(net) -> int:
    from nnp_ref.model.network import n_parameters

    return n_parameters(net)


def _best(result, what: str) -> float:
    suffix = "per_atom" if what == "energy" else "per_A"
    row = next(h for h in result.history if h["epoch"] == result.best_epoch)
    return float(row[f"rmse_{what}_validation_meV_{suffix}"])


def report_markdown(m: dict, settings) -> str:
    """report.md: the numbers of ``metrics.json`` with the figures, in words.

    ``settings``: the run's :class:`~nnp_ref.course.demo.DemoSettings`.

    One template, section by section as the demo runs (its length is the text's).
    """
    d, tr, te, nve, r = m["data"], m["training"], m["test"], m["nve"], m["rdf"]
    nve_rows = "\n".join(
        f"| {dt:g} | {drift:+.4f} | {rms:.4f} |"
        for dt, drift, rms in zip(
            nve["dt_fs"],
            nve["drift_meV_per_atom_per_ps"],
            nve["rms_fluctuation_meV_per_atom"],
            strict=True,
        )
    )
    n_sf = ", ".join(f"{e}: {n}" for e, n in tr["n_symmetry_functions"].items())
    timing = ", ".join(f"{k} {v:.0f} s" for k, v in m["timings_s"].items())
    quick = "\n**Quick mode**: toy sizes, for testing the pipeline only.\n" if m["quick"] else ""
    return f"""# nnp_ref demo: an HDNNP for EMT copper
{quick}
nnp_ref {m["nnp_ref_version"]}; wall time {timing}.

![overview](overview.png)

## 1. Reference data

{d["n_structures"]} copper structures labelled by ASE's EMT potential (MD
snapshots at 300-1500 K, strained and rattled cells, vacancies, surfaces),
split at random (seed {settings.seed}) into {d["n_train"]} training
({d["n_atoms_train"]} atoms), {d["n_validation"]} validation and {d["n_test"]}
test structures. The test set is in `test_set.extxyz`.

## 2. Training

Symmetry functions ({n_sf}, cutoff {settings.rc:g} Å), networks
{"-".join(map(str, settings.hidden))} (tanh) with {tr["n_weights"]} weights, trained
with the {tr["optimizer"]} optimiser for {tr["epochs"]} epochs ({tr["stopped"]}).
Best validation epoch {tr["best_epoch"]}: RMSE
{tr["validation_rmse_energy_meV_per_atom"]:.2f} meV/atom,
{tr["validation_rmse_force_meV_per_A"]:.1f} meV/Å. Model: `model.json` (nnp_ref)
and `model_n2p2/` (n2p2 and LAMMPS `pair_style hdnnp`); learning curve:
`training/history.csv`.

![learning curve](learning_curve.png)

## 3. Test set (structures never seen in training)

| quantity | RMSE | MAE |
|---|---|---|
| energy (meV/atom) | {te["rmse_energy_meV_per_atom"]:.3f} | {te["mae_energy_meV_per_atom"]:.3f} |
| force components (meV/Å) | {te["rmse_force_meV_per_A"]:.2f} | {te["mae_force_meV_per_A"]:.2f} |

![parity](parity.png)

## 4. NVE molecular dynamics with the NNP

{nve["n_atoms"]} atoms of fcc copper, velocity Verlet for {nve["duration_fs"]:g} fs
at each time step, starting at {nve["initial_temperature_K"]:g} K (half of which
goes into potential energy). Drift: slope of a line fitted to E_tot(t);
fluctuation: RMS about that line. For velocity Verlet the fluctuation scales
as dt²; the fitted exponent is {nve["fluctuation_exponent"]:.2f}. Over a run this short
the slope mostly measures the same O(dt²) offset building up while the crystal
leaves its ideal positions: a drift that did not shrink as dt² would point to
forces that are not the derivatives of the energy.

| dt (fs) | drift (meV/atom/ps) | fluctuation (meV/atom) |
|---|---|---|
{nve_rows}

![energy conservation](energy_conservation.png)

## 5. Structure: NNP against the reference potential

Langevin MD at {r["temperature_K"]:g} K with the NNP and with EMT
(mean temperatures {r["mean_temperature_nnp_K"]:.0f} K and
{r["mean_temperature_emt_K"]:.0f} K; {r["n_frames"]} frames each, trajectories
`md_nnp.traj`, `md_emt.traj`). First peak of g(r): NNP {r["first_peak_nnp_A"]:.3f} Å,
EMT {r["first_peak_emt_A"]:.3f} Å; integrated |g_NNP - g_EMT| =
{r["integrated_abs_difference_A"]:.3f} Å.

![rdf](rdf.png)

## Files

`metrics.json` (all numbers above), `model.json`, `model_n2p2/`,
`test_set.extxyz`, `training/` (history and checkpoints), `md_*.traj`,
`md_start.extxyz`, and the figures.
"""


__all__ = [
    "demo_metrics",
    "plot_overview",
    "plot_rdf_comparison",
    "print_summary",
    "report_markdown",
]
