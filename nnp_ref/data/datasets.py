r"""Data sets of reference structures: reading, checking, splitting, generating.

A data set is a plain ``list[ase.Atoms]``; every structure carries its
reference energy (eV) and forces (eV/Å) as ASE results (a
``SinglePointCalculator``, which is what ASE's readers attach), or, as a
fallback, ``atoms.info["energy"]`` and ``atoms.arrays["forces"]``.

- Reading: any ASE format (extxyz, ``.traj``, ASE db, ...) through
  :func:`ase.io.read`, and n2p2's ``input.data`` through
  :mod:`nnp_ref.io.n2p2` (unit conversion happens there).
- Writing: extended XYZ (:func:`write_extxyz`), atomically.
- Splits: seeded random (:func:`split_random`), explicit index lists
  (:func:`split_by_indices`), or n2p2's ``begin set=train`` / ``set=test``
  tags (:func:`split_by_tag`, reading ``atoms.info["set"]``).
- Checks: :func:`check_dataset` raises a ``ValueError`` naming the structure
  for missing energies or forces, unknown elements, NaN/inf, or empty sets.
- Generation: :func:`generate_reference_data` labels rattled and strained
  bulk supercells, vacancies, surfaces and MD snapshots (Langevin dynamics
  driven by the reference calculator itself) with any ASE calculator; every
  random choice comes from ``np.random.default_rng(seed)``.
  :func:`default_dataset` is EMT copper, the data set of the demo and the
  tutorials.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms, units
from ase.build import bulk, surface
from ase.calculators.singlepoint import SinglePointCalculator

DATASET_VERSION = 1  # bump when the default data set's recipe changes (cache key)

# ---------------------------------------------------------------------------
# Reference values attached to a structure
# ---------------------------------------------------------------------------


def _results(atoms: Atoms) -> dict:
    calc = atoms.calc
    return getattr(calc, "results", {}) if calc is not None else {}


def reference_energy(atoms: Atoms) -> float | None:
    """Reference total energy (eV) of a structure, or None if it has none."""
    energy = _results(atoms).get("energy", atoms.info.get("energy"))
    return None if energy is None else float(energy)


def reference_forces(atoms: Atoms) -> np.ndarray | None:
    """Reference forces (n, 3) in eV/Å, or None if the structure has none."""
    forces = _results(atoms).get("forces", atoms.arrays.get("forces"))
    return None if forces is None else np.asarray(forces, dtype=float)


def attach_reference(atoms: Atoms, energy: float, forces=None) -> Atoms:
    """Store reference energy (and forces) on ``atoms`` as ASE results; returns ``atoms``."""
    results = {"energy": float(energy)}
    if forces is not None:
        results["forces"] = np.array(forces, dtype=float)
    atoms.calc = SinglePointCalculator(atoms, **results)
    return atoms


def label(atoms: Atoms, calculator) -> Atoms:
    """A copy of ``atoms`` with the calculator's energy and forces stored as reference."""
    work = atoms.copy()
    work.calc = calculator
    energy = work.get_potential_energy()
    forces = work.get_forces()
    return attach_reference(atoms.copy(), energy, forces)


# ---------------------------------------------------------------------------
# Reading and writing
# ---------------------------------------------------------------------------


def read_dataset(path, format: str | None = None, index=":", **n2p2_units) -> list[Atoms]:
    """Structures with reference energies/forces from a file.

    ``format="n2p2"`` (or a file named ``*.data``) reads n2p2's
    ``input.data`` with :func:`nnp_ref.io.n2p2.read_data`; pass its units as
    ``length_unit=ase.units.Bohr, energy_unit=ase.units.Hartree`` etc.
    Anything else goes to :func:`ase.io.read` (extxyz, traj, db, ...).
    """
    path = Path(path)
    if format == "n2p2" or (format is None and path.suffix == ".data"):
        try:
            from nnp_ref.io.n2p2 import read_data
        except ImportError as err:  # pragma: no cover - depends on the I/O module
            raise ImportError("reading n2p2 input.data needs nnp_ref.io.n2p2.read_data") from err
        return list(read_data(path, **n2p2_units))
    if n2p2_units:
        raise TypeError(f"unit arguments {sorted(n2p2_units)} only apply to n2p2 files")
    import ase.io

    structures = ase.io.read(path, index=index, format=format)
    return [structures] if isinstance(structures, Atoms) else list(structures)


def write_extxyz(path, structures) -> None:
    """Write structures with their reference results to extended XYZ, atomically."""
    import ase.io

    from nnp_ref.io.atomic import atomic_write

    structures = list(structures)
    atomic_write(path, lambda handle: ase.io.write(handle, structures, format="extxyz"))


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _name(atoms: Atoms, index: int, what: str) -> str:
    label_ = f"structure {index} of the {what}" if what else f"structure {index}"
    comment = atoms.info.get("comment") or atoms.info.get("config_type")
    return f"{label_} ({atoms.get_chemical_formula()}{', ' + str(comment) if comment else ''})"


def check_dataset(
    structures,
    elements=None,
    need_energy: bool = True,
    need_forces: bool = True,
    what: str = "",
) -> None:
    """Raise ``ValueError`` naming the first offending structure, before any training.

    Checks: the set is not empty; every structure has atoms, a reference
    energy (if ``need_energy``) and forces of shape (n, 3) (if
    ``need_forces``), all finite, finite positions, and only ``elements``.
    ``what`` names the set in messages (e.g. "training set").
    """
    where = f" {what}" if what else ""
    if len(structures) == 0:
        raise ValueError(f"the{where or ' data set'} is empty")
    known = None if elements is None else set(elements)
    for index, atoms in enumerate(structures):
        name = _name(atoms, index, what)
        if not isinstance(atoms, Atoms):
            raise ValueError(f"{name} is a {type(atoms).__name__}, not an ase.Atoms")
        if len(atoms) == 0:
            raise ValueError(f"{name} has no atoms")
        if not np.all(np.isfinite(atoms.positions)):
            raise ValueError(f"{name} has NaN/inf positions")
        if known is not None:
            missing = sorted(set(atoms.get_chemical_symbols()) - known)
            if missing:
                raise ValueError(
                    f"{name} contains element(s) {missing} that the potential does not "
                    f"have (elements: {sorted(known)})"
                )
        if need_energy:
            energy = reference_energy(atoms)
            if energy is None:
                raise ValueError(f"{name} has no reference energy")
            if not np.isfinite(energy):
                raise ValueError(f"{name} has a NaN/inf reference energy ({energy})")
        if need_forces:
            forces = reference_forces(atoms)
            if forces is None:
                raise ValueError(f"{name} has no reference forces")
            if forces.shape != (len(atoms), 3):
                raise ValueError(
                    f"{name}: reference forces have shape {forces.shape}, "
                    f"expected ({len(atoms)}, 3)"
                )
            bad = np.flatnonzero(~np.all(np.isfinite(forces), axis=1))
            if bad.size:
                raise ValueError(f"{name} has NaN/inf reference forces (first on atom {bad[0]})")


def elements_of(structures) -> tuple[str, ...]:
    """Elements present in the structures, ordered by atomic number (n2p2's order)."""
    from ase.data import atomic_numbers

    symbols = {s for atoms in structures for s in atoms.get_chemical_symbols()}
    return tuple(sorted(symbols, key=lambda s: atomic_numbers[s]))


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------


@dataclass
class Split:
    """Training, validation and test structures and their indices in the full set."""

    train: list
    validation: list
    test: list
    train_indices: np.ndarray
    validation_indices: np.ndarray
    test_indices: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Split(train={len(self.train)}, validation={len(self.validation)}, "
            f"test={len(self.test)})"
        )


def split_by_indices(structures, train, validation=(), test=()) -> Split:
    """Split by explicit index lists (must be disjoint and in range)."""
    n = len(structures)
    parts = [np.asarray(list(ix), dtype=np.int64) for ix in (train, validation, test)]
    for name, ix in zip(("train", "validation", "test"), parts):
        if ix.size and (ix.min() < -n or ix.max() >= n):
            raise ValueError(f"{name} indices out of range for {n} structures")
    parts = [np.where(ix < 0, ix + n, ix) for ix in parts]
    seen = np.concatenate(parts)
    if np.unique(seen).size != seen.size:
        raise ValueError("train/validation/test index lists overlap or repeat an index")
    return Split(*([structures[i] for i in ix] for ix in parts), *parts)


def split_random(structures, validation: float = 0.1, test: float = 0.1, seed=0) -> Split:
    """Seeded random split by fractions; the rest is the training set.

    Counts are rounded (at least one structure for a nonzero fraction when
    possible); ``np.random.default_rng(seed).permutation`` fixes the order.
    """
    n = len(structures)
    if not (0.0 <= validation < 1.0 and 0.0 <= test < 1.0 and validation + test < 1.0):
        raise ValueError(
            f"need 0 <= validation, test and validation + test < 1, got {validation}, {test}"
        )
    n_val = max(int(round(validation * n)), 1 if validation > 0 and n > 2 else 0)
    n_test = max(int(round(test * n)), 1 if test > 0 and n > 2 else 0)
    if n - n_val - n_test < 1:
        raise ValueError(f"{n} structures are too few for this split")
    order = np.random.default_rng(seed).permutation(n)
    return split_by_indices(
        structures,
        np.sort(order[n_val + n_test :]),
        np.sort(order[:n_val]),
        np.sort(order[n_val : n_val + n_test]),
    )


def split_by_tag(structures, key: str = "set") -> Split:
    """Split by a per-structure tag in ``atoms.info[key]``: n2p2's ``begin set=train``.

    Values "train"/"training", "validation"/"val" and "test" select the set;
    a structure without the tag is an error (named).
    """
    groups = {"train": [], "validation": [], "test": []}
    aliases = {"train": "train", "training": "train", "validation": "validation",
               "val": "validation", "test": "test"}  # fmt: skip
    for i, atoms in enumerate(structures):
        tag = atoms.info.get(key)
        if tag is None:
            raise ValueError(f"{_name(atoms, i, '')} has no {key!r} tag (e.g. n2p2 'set=train')")
        if str(tag).lower() not in aliases:
            raise ValueError(f"{_name(atoms, i, '')}: unknown {key!r} tag {tag!r}")
        groups[aliases[str(tag).lower()]].append(i)
    return split_by_indices(structures, groups["train"], groups["validation"], groups["test"])


# ---------------------------------------------------------------------------
# Reference-data generation
# ---------------------------------------------------------------------------

#: Presets of :func:`generate_reference_data`: reference calculator and crystal.
KINDS = {
    "emt-cu": dict(symbols=("Cu",), crystal="fcc", a=3.61, calculator="emt"),
    "emt-cuau": dict(symbols=("Cu", "Au"), crystal="fcc", a=(3.61, 4.08), calculator="emt"),
    "lj-ar": dict(symbols=("Ar",), crystal="fcc", a=5.26, calculator="lj"),
}

#: Share of each kind of structure in a generated set.
DEFAULT_MIX = {"md": 0.45, "rattled": 0.3, "vacancy": 0.15, "surface": 0.1}


def make_calculator(name: str):
    """Reference calculator of a preset: ASE's EMT or Lennard-Jones for argon."""
    if name == "emt":
        from ase.calculators.emt import EMT

        return EMT()
    if name == "lj":
        from ase.calculators.lj import LennardJones

        # Argon (sigma 3.405 Å, epsilon 10.4 meV), smoothly cut off at 2.5 sigma.
        return LennardJones(sigma=3.405, epsilon=0.0104, rc=8.5, smooth=True)
    raise ValueError(f"unknown reference calculator {name!r}; expected 'emt' or 'lj'")


def _new_calculator(calculator):
    """The given calculator, or a fresh one from a factory (a callable class or function)."""
    if calculator is None:
        raise ValueError("no reference calculator given")
    if isinstance(calculator, str):
        return make_calculator(calculator)
    if callable(calculator) and not hasattr(calculator, "get_potential_energy"):
        return calculator()
    return calculator


def _random_crystal(rng, symbols, crystal, a, repeat):
    """Cubic supercell ``repeat`` of the crystal; random chemical order for alloys.

    For several elements the lattice constant follows Vegard's law for the
    random composition drawn.
    """
    a_e = np.atleast_1d(np.asarray(a, dtype=float))
    if len(symbols) == 1:
        return bulk(symbols[0], crystal, a=float(a_e[0]), cubic=True).repeat(repeat)
    atoms = bulk(symbols[0], crystal, a=1.0, cubic=True).repeat(repeat)
    x = rng.uniform(0.2, 0.8)  # fraction of the first element
    pick = rng.random(len(atoms)) < x
    if pick.all() or not pick.any():  # keep both elements present
        pick[0], pick[-1] = True, False
    names = np.where(pick, symbols[0], symbols[1])
    atoms.set_chemical_symbols(list(names))
    a_mix = float(np.dot([pick.mean(), 1 - pick.mean()], a_e[:2]))
    atoms.set_cell(atoms.cell.array * a_mix, scale_atoms=True)
    return atoms


def random_strain(rng, atoms, max_strain):
    """Random homogeneous strain: R -> R (1 + eps), |eps_ab| <= max_strain, symmetric."""
    eps = rng.uniform(-max_strain, max_strain, (3, 3))
    eps = 0.5 * (eps + eps.T)
    atoms.set_cell(atoms.cell.array @ (np.eye(3) + eps), scale_atoms=True)
    return atoms


def _rattle(rng, atoms, stdev):
    atoms.positions += rng.normal(0.0, stdev, atoms.positions.shape)
    return atoms


def _thermal_momenta(rng, atoms, temperature_K):
    """Maxwell-Boltzmann momenta p = sqrt(m k_B T) xi, total momentum removed."""
    masses = atoms.get_masses()[:, None]
    p = np.sqrt(masses * units.kB * temperature_K) * rng.standard_normal((len(atoms), 3))
    p -= masses * p.sum(axis=0) / masses.sum()
    atoms.set_momenta(p)


def _md_snapshots(rng, atoms, calculator, temperature_K, n_snapshots, every, equilibrate):
    """Snapshots of a Langevin trajectory (ASE) driven by the reference calculator.

    Momenta start at 2T (equipartition halves the kinetic energy quickly),
    ``equilibrate`` steps are discarded, then one snapshot every ``every``
    steps of 2 fs; friction 0.02/fs.
    """
    from ase.md.langevin import Langevin

    work = atoms.copy()
    work.calc = calculator
    _thermal_momenta(rng, work, 2.0 * temperature_K)
    dyn = Langevin(
        work,
        timestep=2.0 * units.fs,
        temperature_K=temperature_K,
        friction=0.02 / units.fs,
        fixcm=False,
        rng=rng,
    )
    dyn.run(equilibrate)
    frames = []
    for _ in range(n_snapshots):
        dyn.run(every)
        frame = Atoms(work.get_chemical_symbols(), work.positions, cell=work.cell, pbc=work.pbc)
        frame.info["config_type"] = f"md {temperature_K:g} K"
        frames.append(attach_reference(frame, work.get_potential_energy(), work.get_forces()))
    return frames


def generate_reference_data(
    calculator=None,
    kind: str = "emt-cu",
    n_structures: int = 300,
    seed=0,
    progress: bool = True,
    symbols=None,
    crystal=None,
    a=None,
    repeats=((2, 2, 2), (2, 2, 3), (2, 3, 3), (3, 3, 3)),
    temperatures=(300.0, 600.0, 900.0, 1200.0, 1500.0),
    max_strain: float = 0.04,
    rattle=(0.01, 0.12),
    mix=None,
    md_every: int = 10,
    md_equilibrate: int = 30,
    md_snapshots: int = 6,
) -> list[Atoms]:
    """Labelled structures from a reference calculator, reproducible from ``seed``.

    ``calculator``: an ASE calculator, a factory (class or function returning
    one), or None for the preset's (``KINDS[kind]``: EMT for "emt-cu" and
    "emt-cuau", Lennard-Jones for "lj-ar"). ``symbols``, ``crystal``, ``a``
    override the preset's elements, crystal structure and lattice constant(s)
    (one per element; alloys use Vegard's law).

    The set mixes (shares in ``mix``, default :data:`DEFAULT_MIX`):

    - "md": snapshots of Langevin MD at the ``temperatures`` (K), driven by
      the reference calculator, ``md_snapshots`` per trajectory taken every
      ``md_every`` steps of 2 fs after ``md_equilibrate`` steps, in randomly
      strained supercells;
    - "rattled": strained (|eps| <= ``max_strain``) supercells with Gaussian
      displacements (standard deviation uniform in ``rattle``, Å);
    - "vacancy": the same with one or two atoms removed;
    - "surface": (100), (110) and (111) slabs with 6 Å of vacuum, rattled.

    Supercells are cubic cells repeated ``repeats`` (32-108 atoms for fcc).
    Every structure has ``info["config_type"]``. Returns a list of
    ``ase.Atoms`` with ``SinglePointCalculator`` results (eV, eV/Å).
    """
    from tqdm.auto import tqdm

    if kind not in KINDS and (symbols is None or crystal is None or a is None):
        raise ValueError(
            f"unknown kind {kind!r}; expected one of {sorted(KINDS)} or give symbols, crystal and a"
        )
    preset = KINDS.get(kind, {})
    symbols = tuple(symbols or preset["symbols"])
    crystal = crystal or preset["crystal"]
    a = preset["a"] if a is None else a
    calc = _new_calculator(calculator if calculator is not None else preset.get("calculator"))
    mix = dict(DEFAULT_MIX if mix is None else mix)
    if n_structures < 1:
        raise ValueError(f"n_structures must be >= 1, got {n_structures}")
    shares = np.array([mix.get(k, 0.0) for k in DEFAULT_MIX], dtype=float)
    counts = np.floor(shares / shares.sum() * n_structures).astype(int)
    counts[np.argmax(shares)] += n_structures - counts.sum()
    n_of = dict(zip(DEFAULT_MIX, counts))
    rng = np.random.default_rng(seed)
    out: list[Atoms] = []
    bar = tqdm(total=n_structures, desc=f"reference data ({kind})", disable=not progress)

    def crystal_cell():
        repeat = repeats[rng.integers(len(repeats))]
        return _random_crystal(rng, symbols, crystal, a, repeat)

    def add(atoms, config_type):
        atoms.info["config_type"] = config_type
        out.append(label(atoms, calc))
        bar.update(1)

    # MD snapshots, cycling through the temperatures.
    n_md = n_of["md"]
    t_index = 0
    while n_md > 0:
        T = float(temperatures[t_index % len(temperatures)])
        t_index += 1
        start = random_strain(rng, crystal_cell(), 0.5 * max_strain)
        take = min(md_snapshots, n_md)
        frames = _md_snapshots(rng, start, calc, T, take, md_every, md_equilibrate)
        out.extend(frames)
        bar.update(len(frames))
        n_md -= len(frames)
    for _ in range(n_of["rattled"]):
        atoms = random_strain(rng, crystal_cell(), max_strain)
        add(_rattle(rng, atoms, rng.uniform(*rattle)), "rattled bulk")
    for _ in range(n_of["vacancy"]):
        atoms = random_strain(rng, crystal_cell(), 0.5 * max_strain)
        n_vac = int(rng.integers(1, 3))
        del atoms[list(rng.choice(len(atoms), size=n_vac, replace=False))]
        add(_rattle(rng, atoms, rng.uniform(*rattle)), f"{n_vac} vacancy")
    for _ in range(n_of["surface"]):
        miller = [(1, 0, 0), (1, 1, 0), (1, 1, 1)][rng.integers(3)]
        unit = _random_crystal(rng, symbols, crystal, a, (1, 1, 1))
        slab = surface(unit, miller, layers=int(rng.integers(2, 4)), vacuum=6.0, periodic=True)
        slab = slab.repeat((2, 2, 1))
        add(_rattle(rng, slab, rng.uniform(*rattle)), f"surface {''.join(map(str, miller))}")
    bar.close()
    return out


def _cache_dir() -> Path:
    root = os.environ.get("NNP_REF_CACHE_DIR")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nnp_ref"


def default_dataset(
    n_structures: int = 400, seed: int = 0, cache: bool = True, progress: bool = True
) -> list[Atoms]:
    """EMT copper: the data set of the demo and the tutorials.

    ``n_structures`` structures of 32-108 Cu atoms (MD snapshots at
    300-1500 K, strained and rattled cells, vacancies, surfaces) labelled by
    ASE's EMT, generated in well under a minute. With ``cache=True`` the set
    is kept as extxyz in the user cache directory (``$NNP_REF_CACHE_DIR`` or
    ``~/.cache/nnp_ref``), keyed on size, seed and recipe version.
    """
    path = _cache_dir() / f"emt-cu-n{n_structures}-seed{seed}-v{DATASET_VERSION}.extxyz"
    if cache and path.is_file():
        return read_dataset(path)
    structures = generate_reference_data(
        kind="emt-cu", n_structures=n_structures, seed=seed, progress=progress
    )
    if cache:
        try:
            write_extxyz(path, structures)
        except OSError:  # a read-only home must not break the demo
            pass
    return structures


__all__ = [
    "KINDS",
    "Split",
    "attach_reference",
    "check_dataset",
    "default_dataset",
    "elements_of",
    "generate_reference_data",
    "label",
    "random_strain",
    "read_dataset",
    "reference_energy",
    "reference_forces",
    "split_by_indices",
    "split_by_tag",
    "split_random",
    "write_extxyz",
]
