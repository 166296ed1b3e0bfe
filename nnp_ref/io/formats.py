"""Which reader for which file: potentials, data sets and units by name.

The dispatch the command line uses, in the library so that notebooks and
scripts open the same files the same way:

- :func:`load_potential`: an nnp_ref model (``model.json``, or a folder
  holding one) or an n2p2 potential folder (``input.nn``, ``scaling.data``,
  ``weights.*.data``);
- :func:`read_structures` / :func:`write_structures`: n2p2's ``input.data``
  (any ``*.data`` file) or any format ASE reads and writes (extxyz, traj, ...);
  damaged files and non-finite values are one ``ValueError`` naming the file,
  the structure and, for (ext)xyz, the line;
- :func:`parse_unit`: a unit name or number -> Å or eV per file unit.

Units: nnp_ref works in Å and eV; n2p2 files may use others (the RPBE-D3
water potential is in Bohr and Hartree), converted here at the boundary.
ASE's own files are always Å and eV.
"""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path

import numpy as np

#: Length units by name (Å per unit; None: taken from ase.units).
LENGTH_UNITS = {"angstrom": 1.0, "a": 1.0, "bohr": None, "nm": 10.0}
#: Energy units by name (eV per unit; None: taken from ase.units).
ENERGY_UNITS = {
    "ev": 1.0,
    "hartree": None,
    "ha": None,
    "ry": None,
    "rydberg": None,
    "kcal/mol": None,
    "kj/mol": None,
}


def _ase_unit(key: str) -> float:
    import ase.units

    return {
        "bohr": ase.units.Bohr,
        "hartree": ase.units.Hartree,
        "ha": ase.units.Hartree,
        "ry": ase.units.Rydberg,
        "rydberg": ase.units.Rydberg,
        "kcal/mol": ase.units.kcal / ase.units.mol,
        "kj/mol": ase.units.kJ / ase.units.mol,
    }[key]


def parse_unit(text, kind: str) -> float:
    """Å per length unit (``kind="length"``) or eV per energy unit (``"energy"``).

    ``text``: a name (``LENGTH_UNITS``, ``ENERGY_UNITS``; case-insensitive) or
    a positive finite number. Raises ``ValueError`` naming the allowed names.
    """
    if kind not in ("length", "energy"):
        raise ValueError(f"kind must be 'length' or 'energy', got {kind!r}")
    names = LENGTH_UNITS if kind == "length" else ENERGY_UNITS
    per = "Å" if kind == "length" else "eV"
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        key = str(text).strip().lower()
        if key in names:
            return names[key] if names[key] is not None else _ase_unit(key)
        try:
            value = float(key)
        except ValueError:
            raise ValueError(
                f"unknown {kind} unit {text!r}; use one of {', '.join(names)} "
                f"or a number ({per} per file unit)"
            ) from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{kind} unit must be a positive number ({per} per unit), got {text}")
    return value


# ---------------------------------------------------------------------------
# Potentials
# ---------------------------------------------------------------------------


def is_n2p2_potential(path) -> bool:
    """A folder with n2p2's ``input.nn``."""
    return Path(path).is_dir() and (Path(path) / "input.nn").is_file()


def is_n2p2_data(path) -> bool:
    """n2p2's structure format: any file named ``*.data``."""
    return Path(path).suffix == ".data"


def is_model(path) -> bool:
    """An nnp_ref model or an n2p2 potential (what :func:`load_potential` opens)."""
    path = Path(path)
    return is_n2p2_potential(path) or path.suffix == ".json" or (path / "model.json").is_file()


def load_potential(path, length_unit: float = 1.0, energy_unit: float = 1.0):
    """An nnp_ref model (``.json`` or a folder with ``model.json``) or an n2p2 potential folder.

    The units apply to n2p2 potentials only (nnp_ref models are in Å and eV).
    """
    from nnp_ref.io.model_json import load_model
    from nnp_ref.io.n2p2 import read_potential

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model {path} does not exist")
    if is_n2p2_potential(path):
        return read_potential(path, length_unit=length_unit, energy_unit=energy_unit)
    if path.is_file() or (path / "model.json").is_file():
        return load_model(path)
    raise ValueError(
        f"{path} is neither an nnp_ref model (model.json) nor an n2p2 potential folder (input.nn)"
    )


# ---------------------------------------------------------------------------
# Structures
# ---------------------------------------------------------------------------


def _first_line(err: BaseException, limit: int = 120) -> str:
    """The first line of an exception's message, at most ``limit`` characters."""
    if isinstance(err.__cause__, StopIteration):
        return "the file ends inside this structure"
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def _where(path: Path, index: int, line: int | None) -> str:
    return f"{path}:{line}: structure {index}" if line else f"{path}: structure {index}"


def check_structure(atoms, where: str, need_energy: bool = False) -> None:
    """Raise ``ValueError`` prefixed by ``where`` for a structure nnp_ref cannot use.

    No atoms; NaN/inf positions or cell; a reference energy (required with
    ``need_energy``) that is NaN/inf; reference forces of the wrong shape or
    with NaN/inf.
    """
    from nnp_ref.data.datasets import reference_energy, reference_forces

    if len(atoms) == 0:
        raise ValueError(f"{where}: has no atoms")
    if not np.all(np.isfinite(atoms.positions)):
        raise ValueError(f"{where}: NaN/inf positions")
    if not np.all(np.isfinite(atoms.cell.array)):
        raise ValueError(f"{where}: NaN/inf cell")
    energy = reference_energy(atoms)
    if energy is None and need_energy:
        raise ValueError(f"{where}: no reference energy")
    if energy is not None and not math.isfinite(energy):
        raise ValueError(f"{where}: reference energy is {energy}")
    forces = reference_forces(atoms)
    if forces is not None:
        if forces.shape != (len(atoms), 3):
            raise ValueError(
                f"{where}: reference forces have shape {forces.shape}, expected ({len(atoms)}, 3)"
            )
        bad = np.flatnonzero(~np.all(np.isfinite(forces), axis=1))
        if bad.size:
            raise ValueError(f"{where}: NaN/inf reference force on atom {bad[0]}")


def check_elements(structures, elements, data, model, first: int = 0) -> None:
    """Raise ``ValueError`` naming the first structure with an element the model lacks.

    ``data``, ``model``: names for the message; ``first``: the file's index
    of ``structures[0]``.
    """
    known = set(elements)
    for i, atoms in enumerate(structures, start=first):
        missing = sorted(set(atoms.get_chemical_symbols()) - known)
        if missing:
            raise ValueError(
                f"{data}: structure {i} ({atoms.get_chemical_formula()}) has element(s) "
                f"{', '.join(missing)} that {model} does not have ({', '.join(elements)})"
            )


def _read_ase(path: Path) -> list:
    """Frames of an ASE-readable file; a failure names the file, frame and (xyz) line.

    xyz files are read frame by frame (:func:`_xyz_frames`), so a damaged frame is
    named exactly; a last frame cut off (a trajectory killed mid-write) is skipped
    with a warning naming it, and the whole frames before it are returned.
    """
    import ase.io

    if path.suffix not in (".xyz", ".extxyz"):
        try:
            return list(ase.io.iread(path, index=":"))
        except Exception as err:  # ASE's readers raise many types; name the place
            raise ValueError(f"{path}: cannot read ({_first_line(err)})") from err
    lines = path.read_text().splitlines()
    structures = []
    for index, (first, n_atoms) in enumerate(_xyz_frames(lines)):
        where = _where(path, index, first)
        if n_atoms is None:
            raise ValueError(f"{where}: cannot read (expected an atom count: {lines[first - 1]!r})")
        if first - 1 + n_atoms + 2 > len(lines):
            if index == 0:  # nothing whole before it: an error, not a warning
                raise ValueError(f"{where}: cannot read (the frame is cut off)")
            warnings.warn(f"{where}: the last frame is cut off; skipped it", stacklevel=3)
            break
        text = "\n".join(lines[first - 1 : first + n_atoms + 1]) + "\n"
        try:
            structures.append(ase.io.read(io.StringIO(text), format="extxyz"))
        except Exception as err:  # ASE's readers raise many types; name the place
            raise ValueError(f"{where}: cannot read ({_first_line(err)})") from err
    return structures


def _xyz_frames(lines):
    """(index, first line (1-based), atom count) of each frame of an xyz file.

    A frame is an atom count, a comment line and that many atom lines; the scan
    stops at a count that is not a whole number (atom count None there).
    """
    k = 0
    while k < len(lines) and lines[k].strip():
        first = k + 1
        try:
            n_atoms = int(lines[k].split()[0])
        except ValueError:
            yield first, None
            return
        yield first, n_atoms
        k += n_atoms + 2


def read_structures(
    path,
    length_unit: float = 1.0,
    energy_unit: float = 1.0,
    index=":",
    need_energy: bool = False,
) -> list:
    """Structures from any ASE-readable file or an n2p2 ``*.data`` file (in Å, eV).

    The units apply to n2p2 files only (ASE's files are in Å and eV).
    ``index``: ASE's frame selection (``":"`` all, ``"3"``, ``"-1"``, ...).
    Every structure is checked (:func:`check_structure`; with ``need_energy``
    a reference energy is required); an empty file, a damaged frame or a
    NaN/inf value is a ``ValueError`` naming the file and the structure
    (and the line, for extxyz).
    """
    from nnp_ref.data.datasets import read_dataset

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist")
    if path.stat().st_size == 0:
        raise ValueError(f"{path} is empty: it holds no structures")
    if is_n2p2_data(path):
        structures = read_dataset(
            path, format="n2p2", length_unit=length_unit, energy_unit=energy_unit
        )
        lines = [None] * len(structures)
    elif path.suffix == ".db":  # an nnp_ref label database: finished labels only
        from nnp_ref.data.database import read_database

        structures = read_database(path)
        lines = [None] * len(structures)
    else:
        structures = _read_ase(path)
        xyz = path.suffix in (".xyz", ".extxyz")
        lines = _xyz_lines(structures) if xyz else [None] * len(structures)
    if not structures:
        raise ValueError(f"{path} holds no structures")
    numbers = list(range(len(structures)))
    if index != ":":
        chosen = range(len(structures))[_frame(index, len(structures), path)]
        numbers = list(chosen) if isinstance(chosen, range) else [chosen]
        if not numbers:
            raise ValueError(f"{path}: index {index} selects no structures")
    for i in numbers:
        check_structure(structures[i], _where(path, i, lines[i]), need_energy=need_energy)
    return [structures[i] for i in numbers]


def _frame(index, n: int, path: Path):
    """A slice or an integer position from an ASE-style index string."""
    text = str(index)
    if ":" in text:
        return slice(*(int(p) if p else None for p in text.split(":")))
    i = int(text)
    if not -n <= i < n:
        raise ValueError(f"{path} holds {n} structures; index {i} is out of range")
    return i


def _xyz_lines(structures) -> list[int]:
    """First line of each frame of an (ext)xyz file holding ``structures``."""
    lines, line = [], 1
    for atoms in structures:
        lines.append(line)
        line += len(atoms) + 2
    return lines


def write_structures(structures, path, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Write structures as n2p2 ``*.data`` or, for any other name, with ASE (extxyz, traj, ...).

    The units apply to n2p2 files only.
    """
    import ase.io

    from nnp_ref.data.datasets import write_extxyz
    from nnp_ref.io.n2p2 import write_data

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_n2p2_data(path):
        write_data(structures, path, length_unit=length_unit, energy_unit=energy_unit)
    elif path.suffix in (".xyz", ".extxyz"):
        write_extxyz(path, structures)
    else:
        ase.io.write(path, structures)


__all__ = [
    "ENERGY_UNITS",
    "LENGTH_UNITS",
    "check_elements",
    "check_structure",
    "is_model",
    "is_n2p2_data",
    "is_n2p2_potential",
    "load_potential",
    "parse_unit",
    "read_structures",
    "write_structures",
]
