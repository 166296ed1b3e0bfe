r"""Lecture figures: one function per idea of the method, each returning a matplotlib Figure.

Every figure is computed by nnp_ref's own code (nothing is redrawn from
formulas; the architecture diagram is drawn, with the real symmetry
functions of its molecule), in seconds, so a lecturer can regenerate it live:

==========================  ================================================
``nnp-ref lecture NAME``    figure
==========================  ================================================
``architecture``            the HDNNP: atoms -> G -> element networks -> E_i -> sum
``cutoff``                  n2p2's cutoff functions f_c(r) and f_c'(r)
``symmetry-functions``      radial shells and angular factors of the default set
``environments``            G of a bulk, a surface and a vacancy-neighbour atom
``backprop``                hand-written backprop against finite differences
``forces``                  forces and stress against finite differences
``energy-conservation``     NVE with a small trained NNP: E_tot error ~ dt^2
``learning-curve``          Adam against the Kalman filter on EMT copper
==========================  ================================================

From Python: ``from nnp_ref.course.lectures import LECTURES; fig = LECTURES["cutoff"].make()``
or call the functions (``cutoff_functions()``, ...) directly. Figures are
built without pyplot (``matplotlib.figure.Figure``), so they work with any
backend and are shown in a notebook by evaluating them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from matplotlib.figure import Figure

from nnp_ref.checks import central_difference
from nnp_ref.course.diagrams import hdnnp_architecture

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


# ---------------------------------------------------------------------------
# Derivative checks
# ---------------------------------------------------------------------------


def backprop_check(seed: int = 0) -> Figure:
    """Hand-written derivatives of a 4-8-8-1 tanh network against central differences.

    Three derivatives, all by ``nnp_ref.model.network``: dL/dw (``backward``, with
    L = sum_a g_a E_a), dE_a/dX_a (``input_gradient``) and d/dw of
    sum_a dE_a/dX_a . v_a (``force_training_gradient``, what force training
    needs). Left: analytic against numeric (h = 1e-5). Right: the largest
    relative difference against the step h: truncation error ~h^2 on the
    right, round-off ~eps/h on the left; only a correct derivative reaches
    ~1e-10 at the bottom of the V.
    """
    from nnp_ref.model import network as nn

    net = nn.make_network(4, (8, 8), ("t", "t", "l"), seed=seed)
    rng = np.random.default_rng(seed)
    X_as = rng.normal(size=(5, 4))
    g_a = rng.normal(size=5)  # dL/dE_a
    V_as = rng.normal(size=X_as.shape)
    w = nn.to_flat(net)

    def loss(w_flat):
        return float(g_a @ nn.energy(nn.from_flat(net, w_flat), X_as))

    def energy_sum(x_flat):
        return float(nn.energy(net, x_flat.reshape(X_as.shape)).sum())

    def phi(w_flat):  # sum_a dE_a/dX_a . v_a with the (checked) input gradient
        other = nn.from_flat(net, w_flat)
        _, cache = nn.forward(other, X_as)
        return float(np.sum(nn.input_gradient(other, cache) * V_as))

    _, cache = nn.forward(net, X_as)
    checks = {
        "dL/dw (backward)": (
            nn.grads_to_flat(nn.backward(net, cache, g_a)),
            lambda h: central_difference(loss, w, h),
        ),
        "dE/dX (input_gradient)": (
            nn.input_gradient(net, cache).ravel(),
            lambda h: central_difference(energy_sum, X_as.ravel(), h),
        ),
        "d(dE/dX·v)/dw (force training)": (
            nn.grads_to_flat(nn.force_training_gradient(net, cache, V_as)),
            lambda h: central_difference(phi, w, h),
        ),
    }
    h_h = np.logspace(-1, -9, 17)
    fig = Figure(figsize=(11, 4.5))
    ax_p, ax_h = fig.subplots(1, 2)
    for k, (name, (analytic, numeric_of)) in enumerate(checks.items()):
        numeric = numeric_of(1e-5)
        rel = np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric))
        ax_p.plot(
            numeric,
            analytic,
            "o",
            ms=3,
            color=f"C{k}",
            label=f"{name}: {analytic.size} values, rel. diff {rel:.1e}",
        )
        errors = [np.max(np.abs(analytic - numeric_of(h))) / np.max(np.abs(analytic)) for h in h_h]
        ax_h.loglog(h_h, errors, "o-", ms=3, color=f"C{k}", label=name)
    lim = ax_p.get_xlim()
    ax_p.plot(lim, lim, color="0.6", lw=0.8, zorder=0)
    ax_p.set(
        xlabel="central finite difference (h = 1e-5)",
        ylabel="hand-written derivative",
        title="backpropagation, checked value by value",
    )
    ax_p.legend(fontsize="x-small")
    analytic, numeric_of = checks["dL/dw (backward)"]
    wrong = analytic * (1.0 + 1e-3)  # what a slightly wrong derivative looks like
    errors = [np.max(np.abs(wrong - numeric_of(h))) / np.max(np.abs(wrong)) for h in h_h[::2]]
    ax_h.loglog(h_h[::2], errors, "s--", ms=3, color="0.5", label="dL/dw made 0.1% wrong")
    big = h_h >= 1e-5
    ax_h.loglog(h_h[big], 0.3 * h_h[big] ** 2, "k:", lw=0.8, label="∝ h² (truncation)")
    ax_h.loglog(h_h[~big], 1e-16 / h_h[~big], "k-.", lw=0.8, label="∝ ε/h (round-off)")
    ax_h.set(
        xlabel="finite-difference step h",
        ylabel="max |analytic - numeric| / max |analytic|",
        title="the V of a correct derivative",
    )
    ax_h.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def random_copper_potential(rc: float = 5.0, seed: int = 0, structure: Atoms | None = None):
    """An untrained Cu potential (random network, scaling from ``structure``), for checks.

    Returns (potential, structure): by default a 2x2x2 cubic fcc cell with one
    vacancy, rattled by 0.1 Å (so no force vanishes by symmetry).
    """
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
    from nnp_ref.model import network as nn
    from nnp_ref.model.potential import Potential
    from nnp_ref.model.scaling import Scaling
    from nnp_ref.training.preprocessing import default_symmetry_functions

    if structure is None:
        from ase.build import bulk

        structure = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(2)
        del structure[0]
        structure.rattle(0.1, seed=seed)
    sets = default_symmetry_functions(("Cu",), rc=rc)
    G_ns = SymmetryFunctionSet(sets).compute_atoms(structure, with_derivatives=False).G_ns
    potential = Potential(
        ("Cu",),
        sets,
        {"Cu": nn.make_network(len(sets["Cu"]), (10, 10), ("t", "t", "l"), seed=seed)},
        scalings={"Cu": Scaling.from_data(G_ns)},
        energy_scale=0.1,
    )
    return potential, structure


def forces_check(seed: int = 0) -> Figure:
    """Forces and stress by the chain rule against finite differences of the energy.

    F_kc = -dE/dR_kc and sigma_ab = (1/V) dE/d eps_ab, computed by
    ``nnp_ref.model.potential.evaluate`` through the symmetry-function derivatives,
    against central differences of E itself, for an untrained potential on a
    rattled 31-atom copper cell with a vacancy.
    """
    from nnp_ref.model.potential import evaluate

    potential, atoms = random_copper_potential(seed=seed)
    symbols, R_nc, cell_cc = atoms.get_chemical_symbols(), atoms.positions, atoms.cell.array
    pbc = (True, True, True)
    # a derivative check: G a hair outside the scaling range of this very cell is fine
    result = evaluate(potential, symbols, R_nc, cell_cc, pbc, extrapolation="off")

    def energy_of_positions(x):
        return evaluate(
            potential, symbols, x.reshape(-1, 3), cell_cc, pbc, False, False, "off"
        ).energy

    def energy_of_strain(e):
        deformation = np.eye(3) + e.reshape(3, 3)
        return evaluate(
            potential, symbols, R_nc @ deformation, cell_cc @ deformation, pbc, False, False, "off"
        ).energy

    F_fd = -central_difference(energy_of_positions, R_nc.ravel(), 1e-4).reshape(-1, 3)
    V = atoms.get_volume()
    stress_fd = central_difference(energy_of_strain, np.zeros(9), 1e-5).reshape(3, 3) / V
    h_h = np.logspace(-1, -8, 15)
    components = np.random.default_rng(seed).choice(R_nc.size, 6, replace=False)
    x0 = R_nc.ravel()
    F_flat = result.forces_nc.ravel()
    errors = []
    for h in h_h:
        worst = 0.0
        for k in components:
            xp, xm = x0.copy(), x0.copy()
            xp[k] += h
            xm[k] -= h
            numeric = -(energy_of_positions(xp) - energy_of_positions(xm)) / (2 * h)
            worst = max(worst, abs(numeric - F_flat[k]))
        errors.append(worst)

    fig = Figure(figsize=(14, 4.3))
    ax_F, ax_s, ax_h = fig.subplots(1, 3)
    dF = np.max(np.abs(result.forces_nc - F_fd))
    ax_F.plot(F_fd.ravel(), result.forces_nc.ravel(), "o", ms=3)
    lim = ax_F.get_xlim()
    ax_F.plot(lim, lim, color="0.6", lw=0.8, zorder=0)
    ax_F.set(
        xlabel="-dE/dR by central differences (eV/Å)",
        ylabel="F by the chain rule (eV/Å)",
        title=f"{R_nc.size} force components, max diff {dF:.1e} eV/Å",
    )
    ds = np.max(np.abs(result.stress_cc - stress_fd))
    voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    x_v = np.arange(6)
    ax_s.plot(
        x_v,
        [1e3 * stress_fd[a, b] for a, b in voigt],
        "s",
        ms=10,
        mfc="none",
        color="C1",
        label="(1/V) dE/dε, central differences",
    )
    ax_s.plot(
        x_v,
        [1e3 * result.stress_cc[a, b] for a, b in voigt],
        "x",
        ms=8,
        color="C0",
        label="σ from the pair virial",
    )
    ax_s.axhline(0.0, color="0.6", lw=0.8, zorder=0)
    ax_s.set_xticks(x_v, ["xx", "yy", "zz", "yz", "xz", "xy"])
    ax_s.set(
        xlabel="component",
        ylabel="stress (meV/Å³)",
        title=f"stress tensor, max diff {ds:.1e} eV/Å³",
    )
    ax_s.legend(fontsize="small")
    big = h_h >= 1e-5
    ax_h.loglog(h_h, errors, "o-", ms=4, label="max error of 6 components")
    ax_h.loglog(h_h[big], errors[0] * (h_h[big] / h_h[0]) ** 2, "k:", lw=0.8, label="∝ h²")
    ax_h.set(
        xlabel="finite-difference step h (Å)",
        ylabel="|F - F_fd| (eV/Å)",
        title="error against the step",
    )
    ax_h.legend(fontsize="small")
    fig.tight_layout()
    return fig


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


# ---------------------------------------------------------------------------
# Registry for ``nnp-ref lecture NAME``
# ---------------------------------------------------------------------------


def four_generations() -> Figure:
    """Charges along the neutral and the protonated carbon chain (4G charge equilibration).

    Needs n2p2's Carbon_chain_4G_train data (``../shared/n2p2`` or ``NNP_REF_N2P2_DIR``);
    the figure itself is :func:`nnp_ref.course.four_generations.charges_along_chain`.
    """
    from nnp_ref.course.four_generations import charges_along_chain

    return charges_along_chain()


@dataclass(frozen=True)
class Lecture:
    name: str
    make: Callable[[], Figure]
    description: str


LECTURES = {
    lecture.name: lecture
    for lecture in (
        Lecture(
            "architecture",
            hdnnp_architecture,
            "the HDNNP: atoms -> symmetry functions -> element networks -> E_i -> sum",
        ),
        Lecture("cutoff", cutoff_functions, "cutoff functions f_c(r) and their derivatives"),
        Lecture(
            "symmetry-functions",
            symmetry_function_shapes,
            "radial shells and angular factors of the symmetry functions",
        ),
        Lecture(
            "environments",
            environments,
            "symmetry functions of a bulk, a surface and a vacancy-neighbour atom",
        ),
        Lecture(
            "backprop", backprop_check, "hand-written backpropagation against finite differences"
        ),
        Lecture("forces", forces_check, "forces and stress against finite differences"),
        Lecture(
            "energy-conservation",
            energy_conservation_figure,
            "NVE energy conservation of a trained NNP against the time step",
        ),
        Lecture(
            "learning-curve",
            learning_curve,
            "learning curves of Adam and the Kalman filter on EMT copper",
        ),
        Lecture(
            "four-generations",
            four_generations,
            "charges along the neutral and the protonated carbon chain (4G charge equilibration)",
        ),
    )
}


def make_figure(name: str) -> Figure:
    """The figure of lecture ``name`` (``ValueError`` listing the names if unknown)."""
    if name not in LECTURES:
        raise ValueError(f"unknown lecture {name!r}; choose one of: {', '.join(LECTURES)}")
    return LECTURES[name].make()


__all__ = [
    "LECTURES",
    "Lecture",
    "backprop_check",
    "cutoff_functions",
    "energy_conservation_figure",
    "environment_atoms",
    "environments",
    "forces_check",
    "hdnnp_architecture",
    "learning_curve",
    "make_figure",
    "radial_shapes",
    "random_copper_potential",
    "symmetry_function_shapes",
]
