"""Analysis of MD runs: RDF, MSD and diffusion, time series, energy conservation.

Array suffixes follow docs/architecture.md (n atoms, p pairs, c Cartesian),
plus t = recorded frames or steps, b = histogram bins, k = time steps of an
energy-conservation study.

- Radial distribution function, per ordered species pair (A, B):
      g_AB(r) = <number of B atoms in the shell [r, r + dr) around an A atom>
                / (rho_B 4/3 pi ((r + dr)^3 - r^3)),   rho_B = N_B / V,
  i.e. normalised by the ideal-gas density of species B. Pairs come from
  ``ase.neighborlist.neighbor_list``, which lists every periodic image
  within r_max, an atom's own images included: valid for any cell, also
  when r_max exceeds half the cell, and the same for a crystal's primitive
  cell and any supercell of it. (Uniformly random positions therefore give
  g_AA = 1 - 1/N_A below the shortest cell vector: 0.1% for 1000 atoms.)
- Mean-squared displacement MSD(tau) = < |R_i(t + tau) - R_i(t)|^2 >_{i, t}
  over all time origins t; Einstein relation MSD = 2 d D tau + b at long tau.
- Energy conservation of velocity Verlet: the energy error oscillates with
  an amplitude proportional to dt^2 (the integrator conserves a shadow
  Hamiltonian H + O(dt^2)), so the RMS fluctuation of E_tot about its linear
  fit scales as dt^2 and a log-log fit has slope 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.geometry import complete_cell
from ase.neighborlist import neighbor_list

from nnp_ref.dynamics.md import maxwell_boltzmann_momenta, run_md

# ------------------------------------------------------------------ RDF


@dataclass(frozen=True)
class RDF:
    """Radial distribution functions on a common grid.

    r_b: (b,) bin centres, Å;  edges_b1: (b + 1,) bin edges, Å
    g_b: (b,) total g(r) (all atoms, any species)
    g_pairs: {(A, B): (b,)} per species pair, A <= B by atomic number
    """

    r_b: np.ndarray
    edges_b1: np.ndarray
    g_b: np.ndarray
    g_pairs: dict[tuple[str, str], np.ndarray]


def rdf(frames: Atoms | Sequence[Atoms], r_max: float, n_bins: int = 200) -> RDF:
    """Total and per-pair g(r), averaged over frames (fully periodic cells).

    The counts of all frames are summed and divided by the summed ideal-gas
    expectations, so frames of different volume are weighted correctly.
    """
    frames = [frames] if isinstance(frames, Atoms) else list(frames)
    edges_b1 = np.linspace(0.0, r_max, n_bins + 1)
    shell_b = 4.0 / 3.0 * np.pi * np.diff(edges_b1**3)
    Z_e = np.unique(frames[0].numbers)
    pairs = [(A, B) for A in Z_e for B in Z_e if A <= B]
    counts = {pair: np.zeros(n_bins) for pair in [*pairs, "all"]}
    ideal = dict.fromkeys([*pairs, "all"], 0.0)  # sum over frames of N_A N_B / V
    for atoms in frames:
        if not atoms.pbc.all():
            raise ValueError("rdf needs a fully periodic cell (the volume normalises g)")
        V = atoms.get_volume()
        Z_n = atoms.numbers
        i_p, j_p, d_p = neighbor_list("ijd", atoms, r_max)
        counts["all"] += np.histogram(d_p, edges_b1)[0]
        ideal["all"] += len(Z_n) ** 2 / V
        for A, B in pairs:
            in_pair_p = (Z_n[i_p] == A) & (Z_n[j_p] == B)  # i in A, j in B
            counts[A, B] += np.histogram(d_p[in_pair_p], edges_b1)[0]
            N_A, N_B = np.sum(Z_n == A), np.sum(Z_n == B)
            ideal[A, B] += N_A * N_B / V
    g = {key: counts[key] / (ideal[key] * shell_b) for key in counts}
    return RDF(
        r_b=0.5 * (edges_b1[1:] + edges_b1[:-1]),
        edges_b1=edges_b1,
        g_b=g["all"],
        g_pairs={(chemical_symbols[A], chemical_symbols[B]): g[A, B] for A, B in pairs},
    )


# ------------------------------------------------------------ MSD, diffusion


def unwrap_positions(R_tnc: np.ndarray, cell_cc: np.ndarray, pbc_c) -> np.ndarray:
    """Undo periodic wrapping of a trajectory of positions (fixed cell).

    Each frame-to-frame displacement is reduced to its minimum image in
    fractional coordinates, so atoms must move less than half a cell between
    frames. The first frame is kept as it is.
    """
    D_tnc = np.diff(R_tnc, axis=0)
    S_tnc = np.round(D_tnc @ np.linalg.inv(complete_cell(cell_cc)))  # cell shifts
    S_tnc[..., ~np.asarray(pbc_c, dtype=bool)] = 0.0
    D_tnc = D_tnc - S_tnc @ cell_cc
    return np.concatenate([R_tnc[:1], R_tnc[:1] + np.cumsum(D_tnc, axis=0)])


def msd(R_tnc: np.ndarray, max_lag: int | None = None, mask_n=None) -> np.ndarray:
    """MSD(tau) for tau = 0 ... max_lag frames, averaged over atoms and origins.

    R_tnc must be unwrapped (see ``unwrap_positions``); ``mask_n`` selects
    atoms (e.g. ``atoms.numbers == 8``). Cost O(T max_lag n).
    """
    if mask_n is not None:
        R_tnc = R_tnc[:, mask_n]
    n_frames = len(R_tnc)
    max_lag = n_frames - 1 if max_lag is None else min(max_lag, n_frames - 1)
    msd_t = np.zeros(max_lag + 1)
    for lag in range(1, max_lag + 1):
        D_tnc = R_tnc[lag:] - R_tnc[:-lag]  # displacements over lag frames, all origins
        msd_t[lag] = np.mean(np.sum(D_tnc**2, axis=-1))
    return msd_t


def diffusion_coefficient(
    t_fs: np.ndarray, msd_t: np.ndarray, fit_from_fs: float, fit_to_fs: float | None = None, dim=3
) -> tuple[float, float]:
    """Einstein relation: fit MSD = 2 dim D t + b on [fit_from_fs, fit_to_fs].

    Returns (D in Å^2/fs, b in Å^2). 1 Å^2/fs = 0.1 cm^2/s = 1e-7 m^2/s.
    """
    fit_to_fs = t_fs[-1] if fit_to_fs is None else fit_to_fs
    in_fit = (t_fs >= fit_from_fs) & (t_fs <= fit_to_fs)
    slope, intercept = np.polyfit(t_fs[in_fit], msd_t[in_fit], 1)
    return slope / (2 * dim), intercept


# ------------------------------------------------------------- time series


def block_average(x_t: np.ndarray, n_blocks: int = 10) -> tuple[float, float]:
    """Mean of a correlated time series and its standard error from block means.

    The series is cut into n_blocks equal blocks (the remainder at the start
    is dropped); if blocks are longer than the correlation time their means
    are independent and sem = std(block means) / sqrt(n_blocks - 1).
    """
    x_t = np.asarray(x_t)
    block_len = len(x_t) // n_blocks
    x_kb = x_t[len(x_t) - n_blocks * block_len :].reshape(n_blocks, block_len)
    means = x_kb.mean(axis=1)
    return float(means.mean()), float(means.std() / np.sqrt(n_blocks - 1))


# ---------------------------------------------------- energy conservation


@dataclass
class EnergyConservation:
    """NVE runs of the same system at several time steps.

    dt_fs: (k,) time steps, fs
    drift_meV_atom_ps: (k,) slope of the linear fit of E_tot(t), meV/atom/ps
    rms_meV_atom: (k,) RMS of E_tot about that fit, meV/atom
    exponent: slope of log(rms) vs log(dt) (2 for velocity Verlet)
    t_fs: k arrays of times, fs
    dE_meV_atom: k arrays of E_tot(t) - E_tot(0), meV/atom
    n_atoms: number of atoms
    """

    dt_fs: np.ndarray
    drift_meV_atom_ps: np.ndarray
    rms_meV_atom: np.ndarray
    exponent: float
    t_fs: list[np.ndarray]
    dE_meV_atom: list[np.ndarray]
    n_atoms: int


def energy_conservation(
    atoms: Atoms,
    dts_fs: Sequence[float],
    duration_fs: float,
    init_temperature_K: float | None = None,
    seed=0,
    progress: bool = False,
) -> EnergyConservation:
    """Run NVE (velocity Verlet) for ``duration_fs`` at each time step.

    Every run starts from the same positions and momenta: the atoms' own
    momenta, or Maxwell-Boltzmann ones at ``init_temperature_K`` (drawn once
    with ``seed``). ``atoms`` itself is not changed; its calculator is used.
    """
    n_atoms = len(atoms)
    P_nc = atoms.get_momenta()
    if init_temperature_K is not None:
        P_nc = maxwell_boltzmann_momenta(atoms.get_masses(), init_temperature_K, seed)
    dt_k = np.sort(np.asarray(dts_fs, dtype=np.float64))
    drift_k, rms_k, t_list, dE_list = [], [], [], []
    for dt_fs in dt_k:
        run_atoms = atoms.copy()
        run_atoms.calc = atoms.calc
        run_atoms.set_momenta(P_nc)
        result = run_md(run_atoms, dt_fs, int(round(duration_fs / dt_fs)), progress=progress)
        dE_t = (result.E_tot_t - result.E_tot_t[0]) / n_atoms * 1e3  # meV/atom
        slope, intercept = np.polyfit(result.t_fs, dE_t, 1)  # meV/atom/fs
        drift_k.append(slope * 1e3)  # meV/atom/ps
        rms_k.append(np.sqrt(np.mean((dE_t - slope * result.t_fs - intercept) ** 2)))
        t_list.append(result.t_fs)
        dE_list.append(dE_t)
    exponent = np.polyfit(np.log(dt_k), np.log(rms_k), 1)[0]
    return EnergyConservation(
        dt_fs=dt_k,
        drift_meV_atom_ps=np.array(drift_k),
        rms_meV_atom=np.array(rms_k),
        exponent=float(exponent),
        t_fs=t_list,
        dE_meV_atom=dE_list,
        n_atoms=n_atoms,
    )
