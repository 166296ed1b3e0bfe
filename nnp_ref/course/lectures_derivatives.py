"""Lecture figures of the derivative checks: hand-written backpropagation, forces and
stress against central differences (registered in :mod:`nnp_ref.course.lectures`)."""

from __future__ import annotations

import numpy as np
from ase import Atoms
from matplotlib.figure import Figure

from nnp_ref.checks import central_difference

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
    checks = _network_derivative_checks(seed)
    h_h = np.logspace(-1, -9, 17)
    fig = Figure(figsize=(11, 4.5))
    ax_p, ax_h = fig.subplots(1, 2)
    _plot_value_by_value(ax_p, checks)
    _plot_step_dependence(ax_h, checks, h_h)
    fig.tight_layout()
    return fig


def _network_derivative_checks(seed: int) -> dict:
    """{name: (analytic, numeric_of(h))} for dL/dw, dE/dX and d(dE/dX . v)/dw of a 4-8-8-1 net."""
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
    return {
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


def _plot_value_by_value(ax, checks: dict) -> None:
    """Analytic against numeric (h = 1e-5), one colour per derivative."""
    for k, (name, (analytic, numeric_of)) in enumerate(checks.items()):
        numeric = numeric_of(1e-5)
        rel = np.max(np.abs(analytic - numeric)) / np.max(np.abs(numeric))
        ax.plot(
            numeric,
            analytic,
            "o",
            ms=3,
            color=f"C{k}",
            label=f"{name}: {analytic.size} values, rel. diff {rel:.1e}",
        )
    lim = ax.get_xlim()
    ax.plot(lim, lim, color="0.6", lw=0.8, zorder=0)
    ax.set(
        xlabel="central finite difference (h = 1e-5)",
        ylabel="hand-written derivative",
        title="backpropagation, checked value by value",
    )
    ax.legend(fontsize="x-small")


def _plot_step_dependence(ax, checks: dict, h_h: np.ndarray) -> None:
    """The V: relative difference against h, with a 0.1% wrong dL/dw and the h^2, eps/h guides."""
    for k, (name, (analytic, numeric_of)) in enumerate(checks.items()):
        errors = [np.max(np.abs(analytic - numeric_of(h))) / np.max(np.abs(analytic)) for h in h_h]
        ax.loglog(h_h, errors, "o-", ms=3, color=f"C{k}", label=name)
    analytic, numeric_of = checks["dL/dw (backward)"]
    wrong = analytic * (1.0 + 1e-3)  # what a slightly wrong derivative looks like
    errors = [np.max(np.abs(wrong - numeric_of(h))) / np.max(np.abs(wrong)) for h in h_h[::2]]
    ax.loglog(h_h[::2], errors, "s--", ms=3, color="0.5", label="dL/dw made 0.1% wrong")
    big = h_h >= 1e-5
    ax.loglog(h_h[big], 0.3 * h_h[big] ** 2, "k:", lw=0.8, label="∝ h² (truncation)")
    ax.loglog(h_h[~big], 1e-16 / h_h[~big], "k-.", lw=0.8, label="∝ ε/h (round-off)")
    ax.set(
        xlabel="finite-difference step h",
        ylabel="max |analytic - numeric| / max |analytic|",
        title="the V of a correct derivative",
    )
    ax.legend(fontsize="x-small")


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
    errors = _force_error_against_step(energy_of_positions, R_nc, result.forces_nc, components, h_h)
    fig = Figure(figsize=(14, 4.3))
    ax_F, ax_s, ax_h = fig.subplots(1, 3)
    _plot_forces(ax_F, F_fd, result.forces_nc)
    _plot_stress(ax_s, stress_fd, result.stress_cc)
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


def _force_error_against_step(energy_of_positions, R_nc, F_nc, components, h_h) -> list:
    """max_k |-(E(x + h e_k) - E(x - h e_k)) / 2h - F_k| over ``components``, for each h."""
    x0 = R_nc.ravel()
    F_flat = F_nc.ravel()
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
    return errors


def _plot_forces(ax, F_fd, F_nc) -> None:
    """Chain-rule forces against central differences, component by component."""
    dF = np.max(np.abs(F_nc - F_fd))
    ax.plot(F_fd.ravel(), F_nc.ravel(), "o", ms=3)
    lim = ax.get_xlim()
    ax.plot(lim, lim, color="0.6", lw=0.8, zorder=0)
    ax.set(
        xlabel="-dE/dR by central differences (eV/Å)",
        ylabel="F by the chain rule (eV/Å)",
        title=f"{F_nc.size} force components, max diff {dF:.1e} eV/Å",
    )


def _plot_stress(ax, stress_fd, stress_cc) -> None:
    """The six Voigt components: (1/V) dE/deps by differences against the pair virial."""
    ds = np.max(np.abs(stress_cc - stress_fd))
    voigt = [(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]
    x_v = np.arange(6)
    ax.plot(
        x_v,
        [1e3 * stress_fd[a, b] for a, b in voigt],
        "s",
        ms=10,
        mfc="none",
        color="C1",
        label="(1/V) dE/dε, central differences",
    )
    ax.plot(
        x_v,
        [1e3 * stress_cc[a, b] for a, b in voigt],
        "x",
        ms=8,
        color="C0",
        label="σ from the pair virial",
    )
    ax.axhline(0.0, color="0.6", lw=0.8, zorder=0)
    ax.set_xticks(x_v, ["xx", "yy", "zz", "yz", "xz", "xy"])
    ax.set(
        xlabel="component",
        ylabel="stress (meV/Å³)",
        title=f"stress tensor, max diff {ds:.1e} eV/Å³",
    )
    ax.legend(fontsize="small")
