"""Matplotlib figures for MD runs and their analysis.

Every function takes data, returns a ``matplotlib.figure.Figure`` and, if
``path`` is given, saves it there. Figures are built without pyplot (no
global state, works with the Agg backend and in threads); in a notebook,
display one by evaluating it.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from nnp_ref.analysis.observables import RDF, EnergyConservation
from nnp_ref.dynamics.md import MDResult


def _finish(fig: Figure, path) -> Figure:
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


def plot_energy_conservation(study: EnergyConservation, path=None) -> Figure:
    """Left: E_tot(t) - E_tot(0) per time step. Right: RMS fluctuation vs dt
    on log-log axes with the fitted exponent and a dt^2 guide line."""
    fig = Figure(figsize=(10, 4))
    ax_t, ax_dt = fig.subplots(1, 2)
    for dt_fs, t_fs, dE in zip(study.dt_fs, study.t_fs, study.dE_meV_atom, strict=True):
        ax_t.plot(t_fs, dE, lw=0.8, label=f"dt = {dt_fs:g} fs")
    ax_t.set(xlabel="t (fs)", ylabel="E_tot(t) - E_tot(0) (meV/atom)", title="NVE total energy")
    ax_t.legend(fontsize="small")

    dt_k, rms_k = study.dt_fs, study.rms_meV_atom
    ax_dt.loglog(dt_k, rms_k, "o-", label=f"measured, slope {study.exponent:.2f}")
    guide_k = rms_k[0] * (dt_k / dt_k[0]) ** 2
    ax_dt.loglog(dt_k, guide_k, "k--", lw=0.8, label="∝ dt²")
    ax_dt.set_xticks(dt_k, [f"{dt:g}" for dt in dt_k])
    ax_dt.set_xticks([], minor=True)
    ax_dt.set(xlabel="dt (fs)", ylabel="RMS fluctuation of E_tot (meV/atom)", title="Verlet")
    ax_dt.legend(fontsize="small")
    return _finish(fig, path)


def plot_energies(result: MDResult, path=None) -> Figure:
    """Top: E_kin and E_pot - E_pot(0). Bottom: E_tot and the conserved
    quantity relative to their start, meV/atom."""
    n_atoms = len(result.state.m_n)
    fig = Figure(figsize=(7, 6))
    ax_e, ax_cons = fig.subplots(2, 1, sharex=True)
    ax_e.plot(result.t_fs, result.E_kin_t, label="E_kin")
    ax_e.plot(result.t_fs, result.E_pot_t - result.E_pot_t[0], label="E_pot - E_pot(0)")
    ax_e.set(ylabel="energy (eV)")
    ax_e.legend(fontsize="small")
    for name, E_t in (("E_tot", result.E_tot_t), ("conserved", result.E_cons_t)):
        ax_cons.plot(result.t_fs, (E_t - E_t[0]) / n_atoms * 1e3, label=name)
    ax_cons.set(xlabel="t (fs)", ylabel="change (meV/atom)")
    ax_cons.legend(fontsize="small")
    return _finish(fig, path)


def plot_temperature(result: MDResult, target_K: float | None = None, path=None) -> Figure:
    """Kinetic temperature T(t), its running mean, and the target if given."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot(result.t_fs, result.T_t, lw=0.6, label="T(t)")
    ax.plot(
        result.t_fs, np.cumsum(result.T_t) / np.arange(1, len(result.T_t) + 1), label="running mean"
    )
    if target_K is not None:
        ax.axhline(target_K, color="k", ls="--", lw=0.8, label="target")
    ax.set(xlabel="t (fs)", ylabel=f"T (K), {result.n_dof} degrees of freedom")
    ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_rdf(rdf: RDF, path=None) -> Figure:
    """Total g(r) and one curve per species pair (if there is more than one)."""
    fig = Figure(figsize=(7, 4))
    ax = fig.subplots()
    ax.plot(rdf.r_b, rdf.g_b, "k", label="total")
    if len(rdf.g_pairs) > 1:
        for (A, B), g_b in rdf.g_pairs.items():
            ax.plot(rdf.r_b, g_b, lw=0.8, label=f"{A}-{B}")
    ax.axhline(1.0, color="grey", lw=0.5)
    ax.set(xlabel="r (Å)", ylabel="g(r)")
    ax.legend(fontsize="small")
    return _finish(fig, path)


def plot_msd(
    t_fs: np.ndarray,
    msd_t: np.ndarray,
    fit: tuple[float, float] | None = None,
    fit_range_fs: tuple[float, float] | None = None,
    path=None,
) -> Figure:
    """MSD(t); with ``fit = diffusion_coefficient(...)`` (D in Å^2/fs, b) the
    line 6 D t + b over ``fit_range_fs``."""
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    ax.plot(t_fs, msd_t, label="MSD")
    if fit is not None:
        D, b = fit
        t0, t1 = fit_range_fs if fit_range_fs is not None else (t_fs[0], t_fs[-1])
        t_fit = np.array([t0, t1])
        label = f"6 D t + b, D = {D * 0.1:.3g} cm²/s"
        ax.plot(t_fit, 6 * D * t_fit + b, "k--", label=label)
    ax.set(xlabel="t (fs)", ylabel="MSD (Å²)")
    ax.legend(fontsize="small")
    return _finish(fig, path)
