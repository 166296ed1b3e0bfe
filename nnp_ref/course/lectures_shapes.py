"""Lecture figures of the descriptors: cutoff functions, symmetry-function shapes,
the G of three copper environments (registered in :mod:`nnp_ref.course.lectures`)."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from matplotlib.figure import Figure

# ---------------------------------------------------------------------------
# Shapes: cutoff and symmetry functions
# ---------------------------------------------------------------------------


def cutoff_functions(rc: float = 6.0) -> Figure:
    """f_c(r) and df_c/dr of every n2p2 cutoff type (alpha = 0) on [0, 1.05 r_c]."""
    from nnp_ref.descriptors.cutoff import CUTOFF_NAMES, cutoff_function

    r_r = np.linspace(0.0, 1.05 * rc, 400)
    fig = Figure(figsize=(10, 4))
    ax_f, ax_df = fig.subplots(1, 2)
    for code, name in CUTOFF_NAMES.items():
        if code == 0:
            continue  # "hard": a step, no derivative worth plotting
        values = np.array([cutoff_function(r, rc, 0.0, code) for r in r_r])
        style = "--" if name.startswith("tanh") else "-"
        ax_f.plot(r_r, values[:, 0], style, label=f"{code} {name}")
        ax_df.plot(r_r, values[:, 1], style, label=f"{code} {name}")
    ax_f.set(xlabel="r (Å)", ylabel="f_c(r)", title=f"cutoff functions, r_c = {rc:g} Å")
    ax_df.set(xlabel="r (Å)", ylabel="df_c/dr (1/Å)", title="derivatives (forces need them)")
    for ax in (ax_f, ax_df):
        ax.axvline(rc, color="0.5", lw=0.8)
    ax_f.legend(fontsize="small", title="n2p2 cutoff_type")
    fig.tight_layout()
    return fig


def _central_atom_G(sfset, clusters) -> np.ndarray:
    """G of atom 0 of each small Cu cluster, shape (clusters, functions).

    The clusters are placed 2 r_c + 1 Å apart along x, so they do not see
    each other, and computed in one call of the descriptor kernel.
    """
    spacing = 2.0 * sfset.cutoff + 1.0
    R_nc, first = [], []
    for k, positions in enumerate(clusters):
        first.append(len(R_nc))
        R_nc.extend(np.asarray(positions, dtype=float) + [k * spacing, 0.0, 0.0])
    desc = sfset.compute(
        ["Cu"] * len(R_nc),
        np.array(R_nc),
        np.zeros((3, 3)),
        (False, False, False),
        with_derivatives=False,
    )
    return desc.G_ns[first]


def radial_shapes(radial, r_max: float, n_points: int = 120):
    """(r_r, G_rs): G of a copper dimer's atom 0 against the distance r of its one neighbour.

    For type-2 functions this is the radial shape exp(-eta (r - r_s)^2) f_c(r)
    of each function s, computed by the descriptor kernel (r from 0.5 Å to r_max).
    """
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet

    r_r = np.linspace(0.5, r_max, n_points)
    dimers = [[[0, 0, 0], [r, 0, 0]] for r in r_r]
    return r_r, _central_atom_G(SymmetryFunctionSet({"Cu": list(radial)}), dimers)


def symmetry_function_shapes(rc: float = 5.0) -> Figure:
    """Radial functions of a neighbour at distance r; angular factor against the angle.

    Left: G_2 of a dimer (one neighbour at r) for the default radial set,
    i.e. the radial "shells" exp(-eta (r - r_s)^2) f_c(r). Right: a trimer
    j-i-k with r_ij = r_ik = 2.5 Å and type-9 functions with eta = 0, so
    G_9 / f_c(r)^2 = 2^(1-zeta) (1 + lambda cos theta)^zeta, the angular
    factor, for zeta = 1, 2, 4, 16 and lambda = +-1. Both computed by the
    descriptor kernel.
    """
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunction, SymmetryFunctionSet
    from nnp_ref.training.preprocessing import default_symmetry_functions

    radial = [sf for sf in default_symmetry_functions(("Cu",), rc=rc)["Cu"] if sf.type == 2]
    r_r, G_rs = radial_shapes(radial, rc + 0.3)  # dimers

    zetas = (1.0, 2.0, 4.0, 16.0)
    angular = [
        SymmetryFunction(9, "Cu", ("Cu", "Cu"), rc, eta=0.0, zeta=z, lam=lam, cutoff_type=6)
        for lam in (1.0, -1.0)
        for z in zetas
    ]
    r = 2.5
    cutoff_only = SymmetryFunction(2, "Cu", ("Cu",), rc, cutoff_type=6)  # eta = 0: f_c(r)
    fc = _central_atom_G(SymmetryFunctionSet({"Cu": [cutoff_only]}), [[[0, 0, 0], [r, 0, 0]]])
    theta_t = np.radians(np.linspace(1.0, 179.0, 179))
    trimers = [[[0, 0, 0], [r, 0, 0], [r * np.cos(t), r * np.sin(t), 0]] for t in theta_t]
    A_ts = _central_atom_G(SymmetryFunctionSet({"Cu": angular}), trimers) / fc[0, 0] ** 2
    theta_t = np.degrees(theta_t)

    fig = Figure(figsize=(11, 4))
    ax_r, ax_a = fig.subplots(1, 2)
    for s, sf in enumerate(radial):
        ax_r.plot(r_r, G_rs[:, s], label=f"r_s = {sf.rs:.2f} Å")
    ax_r.axvline(rc, color="0.5", lw=0.8)
    ax_r.set(
        xlabel="distance r of the neighbour (Å)",
        ylabel="G (type 2)",
        title=f"radial functions, η = {radial[0].eta:.2f} Å⁻², r_c = {rc:g} Å",
    )
    ax_r.legend(fontsize="x-small", ncol=2)
    for s, sf in enumerate(angular):
        style = "-" if sf.lam > 0 else "--"
        color = f"C{zetas.index(sf.zeta)}"
        ax_a.plot(
            theta_t, A_ts[:, s], style, color=color, label=f"ζ = {sf.zeta:g}, λ = {sf.lam:+g}"
        )
    ax_a.set(
        xlabel="angle θ_jik (degrees)",
        ylabel="2^(1-ζ) (1 + λ cos θ)^ζ",
        title="angular factor (from G of a trimer)",
        xticks=range(0, 181, 30),
    )
    ax_a.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def environment_atoms(a: float = 3.61) -> dict[str, tuple[Atoms, int]]:
    """Three copper environments and the atom to look at: bulk, (111) surface, vacancy neighbour."""
    from ase.build import bulk, fcc111

    crystal = bulk("Cu", "fcc", a=a, cubic=True).repeat(3)
    slab = fcc111("Cu", size=(3, 3, 4), a=a, vacuum=6.0, periodic=True)
    top = int(np.argmax(slab.positions[:, 2]))
    d_n = crystal.get_distances(0, range(1, len(crystal)), mic=True)
    vacancy = crystal.copy()
    del vacancy[0]  # atoms 1, 2, ... become 0, 1, ...
    neighbour = int(np.argmin(d_n))
    return {
        "bulk": (crystal, 0),
        "(111) surface": (slab, top),
        "vacancy neighbour": (vacancy, neighbour),
    }


def environments(rc: float = 5.0) -> Figure:
    """Default Cu symmetry functions of a bulk atom, a surface atom and a vacancy neighbour.

    Top: raw G per function (radial first, then angular); bottom: the
    relative difference from the bulk atom. The descriptor tells the environments
    apart: fewer neighbours lower the radial functions of the shells they
    are missing from, and the angular functions change with the missing
    bond angles.
    """
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
    from nnp_ref.training.preprocessing import default_symmetry_functions

    sets = default_symmetry_functions(("Cu",), rc=rc)
    sfset = SymmetryFunctionSet(sets)
    n_radial = sum(sf.type == 2 for sf in sets["Cu"])
    G = {}
    for name, (atoms, i) in environment_atoms().items():
        G[name] = sfset.compute_atoms(atoms, with_derivatives=False).G_ns[i]
    fig = Figure(figsize=(10, 6))
    ax_G, ax_d = fig.subplots(2, 1, sharex=True)
    s_s = np.arange(len(sets["Cu"]))
    for k, (name, G_s) in enumerate(G.items()):
        ax_G.plot(s_s, G_s, "o-", ms=4, color=f"C{k}", label=name)
        ax_d.plot(s_s, 100 * (G_s / G["bulk"] - 1), "o-", ms=4, color=f"C{k}", label=name)
    for ax in (ax_G, ax_d):
        ax.axvline(n_radial - 0.5, color="0.5", lw=0.8)
    ax_G.set_yscale("log")
    ax_G.set(ylabel="G (raw)", title="one atom's fingerprint: radial | angular functions")
    ax_d.set(xlabel="symmetry function index s", ylabel="G / G(bulk) - 1 (%)")
    ax_G.legend(fontsize="small")
    fig.tight_layout()
    return fig
