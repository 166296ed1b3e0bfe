"""``input.data``: structures with energies and forces (n2p2's ``Structure``).

One block per structure (``Structure::readFromLines``)::

    begin [key=value ...]
    comment <free text>
    lattice ax ay az          (three lines, or none for a molecule)
    atom x y z element charge unused fx fy fz
    energy E
    charge Q
    end

Read into ``ase.Atoms`` in Å and eV (the file's units are passed in).
Errors name the file, the line and the structure (0-based index and the
line of its ``begin``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from nnp_ref.io.atomic import atomic_write_text
from nnp_ref.io.n2p2.lines import KNOWN_ELEMENTS, Line, LineReader, N2p2FormatError

#: Closest allowed distance between two atoms (Å) in a structure read from a
#: file: closer atoms are a broken structure ("overlap"), not data.
MIN_DISTANCE = 0.1


class _Block:
    """One structure while it is being read."""

    def __init__(self, begin: Line, index: int):
        self.begin = begin.number
        self.index = index
        self.comment: str | None = None
        self.lattice: list[tuple[float, float, float]] = []
        self.symbols: list[str] = []
        self.positions: list[tuple[float, float, float]] = []
        self.charges: list[float] = []
        self.forces: list[tuple[float, float, float]] = []
        self.energy: float | None = None
        self.charge: float | None = None
        self.tags: dict[str, str] = _begin_tags(begin)  # 'begin set=train'

    @property
    def name(self) -> str:
        return f"structure {self.index} (begun at line {self.begin})"

    def error(self, path, line: int, message: str) -> N2p2FormatError:
        return N2p2FormatError(path, line, f"{message} in {self.name}")


def _begin_tags(line: Line) -> dict[str, str]:
    tags = [w.split("=", 1) for w in line.tokens[1:]]
    if any(len(t) != 2 or not t[0] for t in tags):
        raise line.error(
            f"expected 'begin' or 'begin key=value ...' (e.g. set=train), got {line.text.strip()!r}"
        )
    return dict(tags)


_ATOM_COLUMNS = ("x", "y", "z", "element", "charge", "unused", "fx", "fy", "fz")


def _atom(line: Line, block: _Block, elements) -> None:
    words = line.tokens
    if len(words) != 10:
        raise line.error(
            f"expected 10 columns 'atom x y z element charge unused fx fy fz', got {len(words)}"
        )
    try:
        symbol = line.element(words[4], elements)
    except N2p2FormatError as error:
        raise block.error(line.path, line.number, error.message) from None
    try:
        x, y, z, q, _, fx, fy, fz = (float(w) for w in words[1:4] + words[5:10])
        if not all(map(math.isfinite, (x, y, z, q, fx, fy, fz))):
            raise ValueError
    except ValueError:
        for name, w in zip(_ATOM_COLUMNS, words[1:]):
            if name != "element":
                line.float(w, f"atom column {name}")
        raise line.error(f"bad atom line {' '.join(words)!r}") from None
    block.symbols.append(symbol)
    block.positions.append((x, y, z))
    block.charges.append(q)
    block.forces.append((fx, fy, fz))


def _lattice(line: Line, block: _Block, elements) -> None:
    if len(line.tokens) != 4:
        raise line.error(f"expected 'lattice ax ay az' (4 columns), got {len(line.tokens)}")
    if len(block.lattice) == 3:
        raise line.error("more than 3 lattice lines")
    block.lattice.append(tuple(line.float(w, "lattice") for w in line.tokens[1:]))


def _scalar(line: Line, block: _Block, elements) -> None:
    """``energy E`` or ``charge Q``."""
    key = line.tokens[0]
    if len(line.tokens) != 2:
        raise line.error(f"expected '{key} <value>' (2 columns), got {len(line.tokens)}")
    if getattr(block, key) is not None:
        raise line.error(f"second '{key}' line in the structure begun at line {block.begin}")
    setattr(block, key, line.float(line.tokens[1], key))


def _comment(line: Line, block: _Block, elements) -> None:
    text = line.text.rstrip("\r\n")
    block.comment = text[text.find("comment") + len("comment") + 1 :]


_HANDLERS = {"atom": _atom, "lattice": _lattice, "energy": _scalar, "charge": _scalar,
             "comment": _comment}  # fmt: skip


def _to_atoms(block: _Block, line: Line, length_unit, energy_unit, require_energy) -> Atoms:
    """The finished block as ``ase.Atoms`` in Å and eV, checked."""
    path = line.path
    if len(block.lattice) not in (0, 3):
        raise block.error(
            path, line.number,
            f"{len(block.lattice)} lattice lines; expected 3 (periodic) or none",
        )  # fmt: skip
    if not block.symbols:
        raise block.error(path, line.number, "no atoms")
    if block.energy is None and require_energy:
        raise block.error(path, line.number, "no 'energy' line")
    periodic = len(block.lattice) == 3
    atoms = Atoms(
        symbols=block.symbols,
        positions=np.array(block.positions) * length_unit,
        cell=np.array(block.lattice) * length_unit if periodic else None,
        pbc=periodic,
    )
    _check_overlap(atoms, block, path, line.number)
    atoms.set_initial_charges(np.array(block.charges))
    results = {"forces": np.array(block.forces) * (energy_unit / length_unit)}
    if block.energy is not None:
        results["energy"] = block.energy * energy_unit
    atoms.calc = SinglePointCalculator(atoms, **results)
    if block.comment is not None:
        atoms.info["comment"] = block.comment
    if block.charge is not None:
        atoms.info["charge"] = block.charge
    atoms.info.update(block.tags)
    return atoms


def _check_overlap(atoms: Atoms, block: _Block, path, line: int) -> None:
    """Refuse two atoms (or an atom and a periodic image) closer than MIN_DISTANCE Å."""
    cell = atoms.cell.array if atoms.pbc.all() else None
    if cell is not None and abs(np.linalg.det(cell)) == 0.0:
        raise block.error(path, line, "the three lattice vectors are linearly dependent")
    pair = closest_pair(atoms.positions, cell, MIN_DISTANCE)
    if pair is not None:
        i, j, d = pair
        raise block.error(
            path, line, f"atoms {i} and {j} overlap ({d:.3g} Å apart, less than {MIN_DISTANCE} Å)"
        )


def closest_pair(R_nc, cell_cc, d_min: float):
    """(i, j, d) of the closest pair closer than ``d_min``, or None (i < j, or i == j for
    an atom and its own periodic image); ``cell_cc`` None for a molecule.

    A k-d tree of the positions wrapped into the cell, plus the periodic
    images of atoms within ``d_min`` of a face (the fractional margin along
    axis a is d_min / h_a, h_a the cell height V / |b x c|), so that every
    pair closer than d_min appears once in the tree.
    """
    from scipy.spatial import cKDTree

    R_nc = np.asarray(R_nc, dtype=np.float64)
    index_m, X_mc = np.arange(len(R_nc)), R_nc
    if cell_cc is not None:
        s_nc = np.linalg.solve(cell_cc.T, R_nc.T).T % 1.0
        heights = abs(np.linalg.det(cell_cc)) / np.linalg.norm(
            np.cross(cell_cc[[1, 2, 0]], cell_cc[[2, 0, 1]]), axis=1
        )
        margin_c = d_min / heights
        parts, index = [s_nc], [index_m]
        for S in np.array(np.meshgrid([-1, 0, 1], [-1, 0, 1], [-1, 0, 1])).T.reshape(-1, 3):
            if not S.any():
                continue
            near = np.all(
                (S == 0) | ((S == 1) & (s_nc < margin_c)) | ((S == -1) & (s_nc > 1 - margin_c)),
                axis=1,
            )
            parts.append(s_nc[near] + S)
            index.append(index_m[near])
        X_mc, index_m = np.concatenate(parts) @ cell_cc, np.concatenate(index)
    pairs = cKDTree(X_mc).query_pairs(d_min, output_type="ndarray")
    if len(pairs) == 0:
        return None
    d_p = np.linalg.norm(X_mc[pairs[:, 0]] - X_mc[pairs[:, 1]], axis=1)
    p = int(np.argmin(d_p))
    i, j = sorted((int(index_m[pairs[p, 0]]), int(index_m[pairs[p, 1]])))
    return i, j, float(d_p[p])


def iread_data(
    path,
    length_unit: float = 1.0,
    energy_unit: float = 1.0,
    elements: Sequence[str] | None = None,
    require_energy: bool = True,
) -> Iterator[Atoms]:
    """Structures of an n2p2 ``input.data`` one at a time (streaming).

    See :func:`read_data` for the conversions and the attached results.
    """
    reader = LineReader(path)
    block: _Block | None = None
    index = 0
    for line in reader:
        key = line.tokens[0]
        if block is None:
            if key != "begin":
                what = "'end' without 'begin'" if key == "end" else f"{key!r}"
                raise line.error(f"expected 'begin', got {what}")
            block = _Block(line, index)
        elif key in _HANDLERS:
            _HANDLERS[key](line, block, elements)
        elif key == "end":
            if len(line.tokens) != 1:
                raise line.error(f"expected 'end' alone, got {line.text.strip()!r}")
            yield _to_atoms(block, line, length_unit, energy_unit, require_energy)
            block, index = None, index + 1
        elif key == "begin":
            raise line.error(
                f"'begin' before the structure begun at line {block.begin} was closed by 'end'"
            )
        else:
            raise line.error(
                f"unknown keyword {key!r}; expected comment, lattice, atom, energy, charge or end"
            )
    if index == 0 and block is None:
        raise N2p2FormatError(reader.path, None, "holds no structures (no 'begin' ... 'end' block)")
    if block is not None:
        raise N2p2FormatError(
            reader.path, block.begin,
            f"structure begun at line {block.begin} has no 'end' (file ends at line {reader.last})",
        )  # fmt: skip


def read_data(
    path,
    length_unit: float = 1.0,
    energy_unit: float = 1.0,
    elements: Sequence[str] | None = None,
    require_energy: bool = True,
) -> list[Atoms]:
    """All structures of an n2p2 ``input.data`` as ``ase.Atoms`` in Å and eV.

    ``length_unit``: Å per file length unit (e.g. ``ase.units.Bohr``);
    ``energy_unit``: eV per file energy unit (e.g. ``ase.units.Hartree``);
    forces are converted by energy_unit/length_unit. Each Atoms carries a
    ``SinglePointCalculator`` with ``energy`` and ``forces``, per-atom
    charges as initial charges (``atoms.arrays['initial_charges']``), and
    ``atoms.info['comment']``/``['charge']`` (total charge) when the file
    has them. Three lattice lines make it periodic, none non-periodic.
    ``elements``: if given, other elements are an error. The unused column
    is dropped (n2p2 writes 0 there).
    """
    return list(iread_data(path, length_unit, energy_unit, elements, require_energy))


def format_structure(atoms: Atoms, length_unit: float = 1.0, energy_unit: float = 1.0) -> str:
    """One ``begin ... end`` block (n2p2's Structure::writeToFile layout)."""
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.any() and not pbc.all():
        raise ValueError(f"n2p2 structures are periodic in all directions or none, got pbc={pbc}")
    for symbol in set(atoms.get_chemical_symbols()):
        if symbol not in KNOWN_ELEMENTS:
            raise ValueError(f"n2p2 cannot store element {symbol!r}")
    results = atoms.calc.results if atoms.calc is not None else {}
    energy = results.get("energy", 0.0) / energy_unit
    forces = np.asarray(results.get("forces", np.zeros((len(atoms), 3))))
    forces = forces * (length_unit / energy_unit)
    R = atoms.get_positions() / length_unit
    q = atoms.get_initial_charges()
    comment = str(atoms.info.get("comment", "")).replace("\n", " ")
    lines = ["begin", f"comment {comment}"]
    if pbc.all():
        cell = atoms.get_cell().array / length_unit
        if abs(np.linalg.det(cell)) == 0.0:
            raise ValueError("periodic structure with a singular cell")
        lines += [f"lattice {a:24.16E} {b:24.16E} {c:24.16E}" for a, b, c in cell]
    for s, (x, y, z), qi, (fx, fy, fz) in zip(atoms.get_chemical_symbols(), R, q, forces):
        lines.append(
            f"atom {x:24.16E} {y:24.16E} {z:24.16E} {s:>2s} {qi:24.16E} {0.0:24.16E} "
            f"{fx:24.16E} {fy:24.16E} {fz:24.16E}"
        )
    lines.append(f"energy {energy:24.16E}")
    lines.append(f"charge {atoms.info.get('charge', 0.0):24.16E}")
    lines.append("end")
    return "\n".join(lines) + "\n"


def write_data(
    atoms_list: Atoms | Iterable[Atoms], path, length_unit: float = 1.0, energy_unit: float = 1.0
) -> None:
    """Write structures as n2p2 ``input.data`` (full precision, units as in read_data).

    Energy and forces come from ``atoms.calc.results`` (0 if absent),
    charges from the initial charges, comment and total charge from
    ``atoms.info``.
    """
    if isinstance(atoms_list, Atoms):
        atoms_list = [atoms_list]
    text = "".join(format_structure(atoms, length_unit, energy_unit) for atoms in atoms_list)
    atomic_write_text(path, text)
