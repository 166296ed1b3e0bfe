r"""The cost of ab initio MD, measured: why we fit a potential at all.

An MD step needs one energy+force call. Its wall time t_step turns into the
wall time of a simulation of length T with time step dt as

    wall(T) = (T / dt) * t_step

(water: dt = 0.5 fs for the O-H vibration, so 1 ps = 2000 steps and
1 ns = 2 million steps). DFT cost grows steeply with system size; we
measure t_step for (H2O)_n live up to ``max_live_n`` and extrapolate with
a power law fitted in log-log space,

    t(n) = a n^p,   log t = log a + p log n   (least squares on the measured n),

clearly marked as extrapolated. An HDNNP call costs microseconds to
milliseconds and grows linearly with the number of atoms. J. Behler and
M. Parrinello, Phys. Rev. Lett. 98, 146401 (2007), introduce the method with
exactly this argument.

Also here: a short real AIMD run, PySCF forces driving nnp_ref's own
velocity Verlet (:func:`nnp_ref.dynamics.md.verlet_step`), next to an NNP
on the same start (:func:`aimd_vs_nnp`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ase import Atoms

from nnp_ref.dynamics.md import MDState, kinetic_energy, maxwell_boltzmann_momenta, verlet_step

WATER_DT_FS = 0.5
PS_FS, NS_FS = 1e3, 1e6
HOUR, DAY, MONTH, YEAR = 3600.0, 86400.0, 30 * 86400.0, 365.25 * 86400.0


def water_cluster(n_molecules: int, seed: int = 0) -> Atoms:
    """A compact (H2O)_n test geometry (random orientations, O-O >= 2.9 Å)."""
    from nnp_ref.data.clusters import random_cluster

    return random_cluster(n_molecules, np.random.default_rng(seed))


def time_call(fn, repeats: int = 1) -> float:
    """Best of ``repeats`` wall times (s) of ``fn()``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def time_labeller(atoms: Atoms, labeller, repeats: int = 1) -> float:
    """Seconds for one energy+force call of a labeller (e.g. PySCF)."""
    return time_call(lambda: labeller(atoms), repeats)


def time_calculator(atoms: Atoms, calculator, repeats: int = 5) -> float:
    """Seconds for one energy+force call of an ASE calculator (after one warm-up call)."""
    work = atoms.copy()
    work.calc = calculator

    def call():
        work.positions = work.positions + 1e-9  # defeat the calculator's cache
        work.get_forces()

    call()  # compile / cache warm-up
    return time_call(call, repeats)


def fit_power_law(n_k, t_k) -> tuple[float, float]:
    """(a, p) of t = a n^p by least squares on log t = log a + p log n."""
    n_k, t_k = np.asarray(n_k, dtype=float), np.asarray(t_k, dtype=float)
    if n_k.size < 2:
        raise ValueError("a power-law fit needs timings of at least two sizes")
    p, log_a = np.polyfit(np.log(n_k), np.log(t_k), 1)
    return float(np.exp(log_a)), float(p)


def md_wall_time_s(t_step_s, simulated_fs: float, dt_fs: float = WATER_DT_FS):
    """Wall time (s) of ``simulated_fs`` of MD at ``t_step_s`` per step: (T / dt) t_step."""
    return np.asarray(t_step_s) * (simulated_fs / dt_fs)


def format_duration(seconds: float) -> str:
    """Seconds in the largest unit that reads naturally: '3.2 ms', '4.1 days', '2.3 years'."""
    for unit, size in (("years", YEAR), ("months", MONTH), ("days", DAY), ("hours", HOUR),
                       ("min", 60.0), ("s", 1.0), ("ms", 1e-3)):  # fmt: skip
        if seconds >= size:
            return f"{seconds / size:.3g} {unit}"
    return f"{seconds * 1e6:.3g} µs"


@dataclass
class CostTable:
    """Per-step cost of (H2O)_n, n = ``n_k``.

    t_dft_k: DFT seconds per step (measured where ``live_k``, else the fit)
    live_k: bool, measured (True) or extrapolated (False)
    t_nnp_k: NNP seconds per step (all measured)
    fit: (a, p) of the DFT power law t = a n^p
    method: the DFT method's identity; dt_fs: MD time step
    """

    n_k: np.ndarray
    t_dft_k: np.ndarray
    live_k: np.ndarray
    t_nnp_k: np.ndarray
    fit: tuple
    method: str
    dt_fs: float = WATER_DT_FS
    extra: dict = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """One dict per size: times per step and wall time of 1 ps and 1 ns (s)."""
        out = []
        for n, t_d, live, t_n in zip(self.n_k, self.t_dft_k, self.live_k, self.t_nnp_k):
            out.append({
                "n_molecules": int(n), "dft_s_per_step": float(t_d), "dft_measured": bool(live),
                "nnp_s_per_step": float(t_n),
                "dft_1ps_s": float(md_wall_time_s(t_d, PS_FS, self.dt_fs)),
                "dft_1ns_s": float(md_wall_time_s(t_d, NS_FS, self.dt_fs)),
                "nnp_1ps_s": float(md_wall_time_s(t_n, PS_FS, self.dt_fs)),
                "nnp_1ns_s": float(md_wall_time_s(t_n, NS_FS, self.dt_fs)),
            })  # fmt: skip
        return out


def measure_costs(
    labeller,
    nnp_calculator,
    n_max: int = 8,
    max_live_n: int = 3,
    seed: int = 0,
    progress: bool = True,
) -> CostTable:
    """Time DFT (live up to ``max_live_n``, then the fitted power law) and the NNP, n = 1..n_max."""
    n_k = np.arange(1, n_max + 1)
    live_k = n_k <= max_live_n
    t_dft_k = np.full(n_k.shape, np.nan)
    t_nnp_k = np.zeros(n_k.shape)
    for k, n in enumerate(n_k):
        atoms = water_cluster(int(n), seed)
        if live_k[k]:
            t_dft_k[k] = time_labeller(atoms, labeller)
        t_nnp_k[k] = time_calculator(atoms, nnp_calculator)
        if progress:
            dft = f"{t_dft_k[k]:.2f} s" if live_k[k] else "(extrapolated)"
            print(f"(H2O)_{n}: DFT {dft}, NNP {1e3 * t_nnp_k[k]:.2f} ms", flush=True)
    a, p = fit_power_law(n_k[live_k], t_dft_k[live_k])
    t_dft_k[~live_k] = a * n_k[~live_k] ** p
    return CostTable(n_k, t_dft_k, live_k, t_nnp_k, (a, p), labeller.identity)


def _time_axis_labels(ax) -> None:
    for value, name in ((1.0, "1 s"), (HOUR, "1 hour"), (DAY, "1 day"), (MONTH, "1 month"),
                        (YEAR, "1 year")):  # fmt: skip
        ax.axhline(value, color="0.8", lw=0.8, zorder=0)
        ax.text(1.02, value, name, transform=ax.get_yaxis_transform(), va="center", fontsize=8)


def plot_costs(table: CostTable, path=None):
    """Two panels: seconds per MD step vs n; wall time of 1 ps and 1 ns of MD vs n."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.2), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    n, live = table.n_k, table.live_k
    a, p = table.fit
    ax1.plot(n[live], table.t_dft_k[live], "o", color="C3", label="DFT, measured")
    ax1.plot(n, a * n**p, "--", color="C3", label=f"DFT fit  {a:.2g} n^{p:.2f} s")
    ax1.plot(n[~live], table.t_dft_k[~live], "o", mfc="none", color="C3", label="extrapolated")
    ax1.plot(n, table.t_nnp_k, "s-", color="C0", label="NNP, measured")
    ax1.set(xlabel="water molecules n", ylabel="seconds per energy+force call", yscale="log",
            title=f"one MD step  ({table.method.split(':')[1]})")  # fmt: skip
    ax1.legend(fontsize=8)
    for sim_fs, style, name in ((PS_FS, "-", "1 ps"), (NS_FS, ":", "1 ns")):
        for t_k, color, who in ((table.t_dft_k, "C3", "DFT"), (table.t_nnp_k, "C0", "NNP")):
            wall = md_wall_time_s(t_k, sim_fs, table.dt_fs)
            ax2.plot(n, wall, style, color=color, label=f"{who}, {name}")
            if who == "DFT":
                ax2.plot(n[~live], wall[~live], "o", mfc="none", color=color)
            if sim_fs == NS_FS:  # the founding text's number, for the largest cluster
                ax2.annotate(f"{format_duration(wall[-1])} per ns", (n[-1], wall[-1]),
                             xytext=(-4, 6), textcoords="offset points", ha="right",
                             color=color, fontsize=8)  # fmt: skip
    _time_axis_labels(ax2)
    ax2.set(xlabel="water molecules n", ylabel="wall time (s)", yscale="log",
            title=f"MD at dt = {table.dt_fs} fs on one core (open: extrapolated)")  # fmt: skip
    ax2.legend(fontsize=8, loc="lower right")
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


# ---------------------------------------------------------------- AIMD next to the NNP


class LabellerForces:
    """``forces_fn(R_nc) -> (E_pot, F_nc)`` from a labeller (PySCF): the AIMD engine."""

    def __init__(self, atoms: Atoms, labeller):
        self.atoms, self.labeller = atoms.copy(), labeller
        self.time_s, self.n_calls = 0.0, 0

    def __call__(self, R_nc):
        self.atoms.positions = R_nc
        start = time.perf_counter()
        label = self.labeller(self.atoms)
        self.time_s += time.perf_counter() - start
        self.n_calls += 1
        return label.energy, label.forces_nc


class CalculatorForces(LabellerForces):
    """The same for an ASE calculator (the NNP)."""

    def __init__(self, atoms: Atoms, calculator):
        super().__init__(atoms, None)
        self.atoms.calc = calculator

    def __call__(self, R_nc):
        self.atoms.positions = R_nc
        start = time.perf_counter()
        F_nc = self.atoms.get_forces()
        E_pot = self.atoms.get_potential_energy()
        self.time_s += time.perf_counter() - start
        self.n_calls += 1
        return float(E_pot), np.array(F_nc)


def run_verlet(atoms: Atoms, forces_fn, steps: int, dt_fs: float, P0_nc) -> dict:
    """``steps`` velocity-Verlet steps from ``atoms`` with momenta ``P0_nc``; arrays per step."""
    m_n = atoms.get_masses()
    E, F = forces_fn(atoms.positions.copy())
    state = MDState(atoms.positions.copy(), P0_nc.copy(), m_n, F, E)
    t, e_pot, e_kin, R = [0.0], [E], [kinetic_energy(P0_nc, m_n)], [state.R_nc]
    for _ in range(steps):
        state = verlet_step(state, dt_fs, forces_fn)
        t.append(state.t_fs)
        e_pot.append(state.E_pot)
        e_kin.append(state.E_kin)
        R.append(state.R_nc)
    return {"t_fs": np.array(t), "E_pot": np.array(e_pot), "E_kin": np.array(e_kin),
            "R_tnc": np.array(R)}  # fmt: skip


def aimd_vs_nnp(
    atoms: Atoms,
    labeller,
    nnp_calculator,
    steps: int = 10,
    dt_fs: float = WATER_DT_FS,
    temperature_K: float = 300.0,
    seed: int = 0,
) -> dict:
    """AIMD (labeller forces) and NNP MD from the same start, and the NNP along the AIMD path.

    Returns {"aimd": run, "nnp": run, "nnp_on_aimd_path": E_t, "s_per_step": {...}};
    each run has t_fs, E_pot, E_kin (eV) and R_tnc.
    """
    P0_nc = maxwell_boltzmann_momenta(atoms.get_masses(), temperature_K, rng=seed)
    dft = LabellerForces(atoms, labeller)
    nnp = CalculatorForces(atoms, nnp_calculator)
    aimd = run_verlet(atoms, dft, steps, dt_fs, P0_nc)
    nnp(atoms.positions.copy())  # warm-up (compilation) outside the timing
    nnp.time_s, nnp.n_calls = 0.0, 0
    nnp_run = run_verlet(atoms, nnp, steps, dt_fs, P0_nc)
    nnp_s = nnp.time_s / nnp.n_calls
    on_path = np.array([nnp(R)[0] for R in aimd["R_tnc"]])
    return {
        "aimd": aimd, "nnp": nnp_run, "nnp_on_aimd_path": on_path,
        "s_per_step": {"dft": dft.time_s / dft.n_calls, "nnp": nnp_s},
        "method": labeller.identity,
    }  # fmt: skip


def plot_aimd_vs_nnp(result: dict, path=None):
    """Potential and total energy along AIMD and NNP MD, relative to their starts."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    aimd, nnp = result["aimd"], result["nnp"]
    e0 = aimd["E_pot"][0]
    ax1.plot(aimd["t_fs"], aimd["E_pot"] - e0, "o-", color="C3", label="DFT on AIMD path")
    ax1.plot(aimd["t_fs"], result["nnp_on_aimd_path"] - result["nnp_on_aimd_path"][0], "s--",
             color="C0", label="NNP on AIMD path")  # fmt: skip
    ax1.plot(nnp["t_fs"], nnp["E_pot"] - nnp["E_pot"][0], ":", color="C0", label="NNP's own MD")
    ax1.set(xlabel="time (fs)", ylabel="E_pot - E_pot(0) (eV)", title="same start, same dt")
    ax1.legend(fontsize=8)
    for run, color, name in ((aimd, "C3", "AIMD"), (nnp, "C0", "NNP")):
        total = run["E_pot"] + run["E_kin"]
        ax2.plot(run["t_fs"], 1e3 * (total - total[0]), color=color, label=name)
    s = result["s_per_step"]
    ax2.set(xlabel="time (fs)", ylabel="E_tot - E_tot(0) (meV)",
            title=f"cost per step: DFT {s['dft']:.2f} s, NNP {1e3 * s['nnp']:.2f} ms")  # fmt: skip
    ax2.legend(fontsize=8)
    if path is not None:
        fig.savefig(path, dpi=150)
    return fig


def lecture_figure(max_live_n: int = 2, n_max: int = 8, method: str = "pbe/def2-svp"):
    """Lecture figure "the cost of AIMD": DFT live up to ``max_live_n``, NNP for n = 1..n_max.

    The NNP is built (untrained: the cost of a call does not depend on the
    weight values) with the architecture of the water demo, from the shipped
    water-cluster data set.
    """
    from nnp_ref.course.water_demo import water_potential_for_timing
    from nnp_ref.data.pyscf_labeller import PySCFLabeller
    from nnp_ref.model.calculator import NNPCalculator

    labeller = PySCFLabeller(method, density_fit=True, threads=1)
    calc = NNPCalculator(water_potential_for_timing(), extrapolation="off")
    table = measure_costs(labeller, calc, n_max=n_max, max_live_n=max_live_n, progress=False)
    return plot_costs(table)
