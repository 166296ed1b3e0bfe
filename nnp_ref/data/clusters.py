r"""Molecular clusters (H2O)_n sampled cheaply, to be labelled expensively.

"Sample cheap, label expensive": configurations come from a classical
force field that costs microseconds per step, and only the selected
snapshots go to DFT. Here the cheap model is rigid TIP3P water (ASE's
``TIP3P`` calculator with RATTLE bond constraints,
W. L. Jorgensen et al., J. Chem. Phys. 79, 926 (1983)) run with Langevin
dynamics; because TIP3P molecules are rigid, intramolecular distortions
are added afterwards as Gaussian displacements of every atom:

    R_ic <- R_ic + sigma * xi_ic,   xi ~ N(0, 1)

The classical thermal O-H amplitude at 300 K is sqrt(k_B T / k_OH) with
k_OH ~ 48 eV/Å^2 (3700 cm^-1), i.e. ~0.02 Å, and the zero-point amplitude
is ~0.07 Å, so sigma in [0.02, 0.08] Å covers thermal to strongly distorted
molecules. Every random choice comes from ``np.random.default_rng(seed)``.

Atoms are ordered O, H, H per molecule (TIP3P's requirement).
"""

from __future__ import annotations

import numpy as np
from ase import Atoms, units
from ase.calculators.tip3p import TIP3P, angleHOH, rOH

MIN_OO = 2.6  # Å: closest O-O distance when placing molecules
RC_CLUSTER = 30.0  # Å: TIP3P cutoff, larger than any cluster here (no truncation)


def water_molecule() -> Atoms:
    """One TIP3P-geometry water molecule (O at the origin, H in the xy plane)."""
    half = np.radians(angleHOH) / 2
    R_nc = [[0, 0, 0], [rOH * np.sin(half), rOH * np.cos(half), 0]]
    R_nc.append([-rOH * np.sin(half), rOH * np.cos(half), 0])
    return Atoms("OH2", positions=R_nc)


def _random_rotation(rng) -> np.ndarray:
    """Uniform random rotation matrix (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_cluster(n_molecules: int, rng, spacing: float = 2.9) -> Atoms:
    """``n_molecules`` randomly oriented waters packed around the origin, O-O >= MIN_OO."""
    water = water_molecule()
    centers: list[np.ndarray] = []
    radius = spacing * (0.5 + 0.6 * n_molecules ** (1 / 3))
    while len(centers) < n_molecules:
        c = rng.uniform(-radius, radius, 3) if centers else np.zeros(3)
        if all(np.linalg.norm(c - d) >= spacing for d in centers):
            centers.append(c)
        else:
            radius *= 1.002  # grow slowly if the sphere is crowded
    cluster = Atoms()
    for c in centers:
        molecule = water.copy()
        molecule.positions = molecule.positions @ _random_rotation(rng).T + c
        cluster += molecule
    return cluster


def _rigid_constraints(n_molecules: int):
    from ase.constraints import FixBondLengths

    pairs = [
        (3 * m + a, 3 * m + b) for m in range(n_molecules) for a, b in ((0, 1), (0, 2), (1, 2))
    ]
    return FixBondLengths(pairs, tolerance=1e-10)


def tip3p_snapshots(
    cluster: Atoms,
    rng,
    n_snapshots: int,
    temperature_K: float = 300.0,
    every: int = 10,
    equilibrate: int = 50,
    dt_fs: float = 2.0,
) -> list[Atoms]:
    """Rigid-TIP3P Langevin snapshots of a cluster (cheap model), every ``every`` steps."""
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import Stationary, ZeroRotation

    try:  # ase >= 3.29; the same draws as the MaxwellBoltzmannDistribution it deprecates
        from ase.md.velocitydistribution import thermalize_momenta
    except ImportError:  # pragma: no cover - older ase
        from ase.md.velocitydistribution import MaxwellBoltzmannDistribution as thermalize_momenta

    atoms = cluster.copy()
    n_molecules = len(atoms) // 3
    atoms.calc = TIP3P(rc=RC_CLUSTER)
    atoms.set_constraint(_rigid_constraints(n_molecules))
    thermalize_momenta(atoms, temperature_K=temperature_K, rng=rng)
    Stationary(atoms)
    ZeroRotation(atoms)
    dyn = Langevin(
        atoms,
        dt_fs * units.fs,
        temperature_K=temperature_K,
        # ASE's Langevin takes the friction in ASE's time unit (10.18 fs): 0.02 is
        # 0.0020 / fs, a gentle thermostat for sampling (the shipped set used this value)
        friction=0.02,
        rng=rng,
        fixcm=False,
    )
    dyn.run(equilibrate)
    frames = []
    for _ in range(n_snapshots):
        dyn.run(every)
        frame = Atoms(atoms.numbers, positions=atoms.positions.copy())
        frames.append(frame)
    return frames


def distort(atoms: Atoms, rng, sigma: float) -> Atoms:
    """A copy with every atom displaced by N(0, sigma^2) per Cartesian component (Å)."""
    out = atoms.copy()
    out.positions = out.positions + sigma * rng.normal(size=out.positions.shape)
    return out


def sample_water_clusters(
    n_molecules: int,
    n_structures: int,
    seed: int = 0,
    temperatures_K=(150.0, 300.0, 450.0),
    sigmas=(0.02, 0.04, 0.06, 0.08),
    every: int = 10,
) -> list[Atoms]:
    """``n_structures`` (H2O)_n geometries: TIP3P MD snapshots plus intramolecular distortion.

    The snapshots are spread over ``temperatures_K`` (one short trajectory
    from a fresh random cluster each), and each gets a distortion ``sigma``
    drawn from ``sigmas``. ``atoms.info`` records ``n_molecules``,
    ``temperature_K``, ``sigma`` and ``source="tip3p-md+distortion"``.
    """
    rng = np.random.default_rng(seed)
    out = []
    per_t = np.diff(np.linspace(0, n_structures, len(temperatures_K) + 1).round().astype(int))
    for temperature, count in zip(temperatures_K, per_t):
        if count == 0:
            continue
        cluster = random_cluster(n_molecules, rng)
        if n_molecules == 1:
            frames = [cluster.copy() for _ in range(count)]
            for f in frames:
                f.positions = f.positions @ _random_rotation(rng).T
        else:
            frames = tip3p_snapshots(cluster, rng, count, temperature, every=every)
        for frame in frames:
            sigma = float(rng.choice(sigmas))
            atoms = distort(frame, rng, sigma)
            atoms.positions -= atoms.get_center_of_mass()
            atoms.info.update(
                n_molecules=n_molecules,
                temperature_K=float(temperature),
                sigma=sigma,
                source="tip3p-md+distortion",
            )
            out.append(atoms)
    return out


def cluster_from_box(atoms: Atoms, n_molecules: int) -> Atoms:
    """The ``n_molecules`` waters nearest to the first O of a periodic water box, as a
    finite cluster (molecules made whole across the cell boundary by minimum image)."""
    O_idx = np.flatnonzero(atoms.numbers == 8)
    H_idx = np.flatnonzero(atoms.numbers == 1)
    D_O = atoms.get_distances(O_idx[0], O_idx, mic=True, vector=True)
    chosen = O_idx[np.argsort(np.linalg.norm(D_O, axis=1))[:n_molecules]]
    symbols, positions = [], []
    for o in chosen:
        centre = atoms.positions[O_idx[0]] + atoms.get_distance(O_idx[0], o, mic=True, vector=True)
        D_H = atoms.get_distances(o, H_idx, mic=True, vector=True)
        nearest = np.argsort(np.linalg.norm(D_H, axis=1))[:2]
        symbols += ["O", "H", "H"]
        positions += [centre, centre + D_H[nearest[0]], centre + D_H[nearest[1]]]
    return Atoms(symbols, positions=positions)
