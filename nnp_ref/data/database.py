r"""Labels in an ASE SQLite database: one row per structure, written as it finishes.

Every row is keyed by :func:`structure_key`, a SHA-256 hash of the atomic
numbers, positions (rounded to 1e-8 Å), cell, periodicity and the
labeller's ``identity``. Labelling a list of structures

1. checks every structure with ``labeller.check`` (bad input fails in one
   line naming the structure, before any expensive work),
2. skips every key already in the database (a re-run resumes),
3. runs the rest through an executor (:mod:`nnp_ref.data.executors`) and
   writes each result in its own SQLite transaction the moment it arrives.

So killing a run at any moment loses no finished label, and re-running the
same command duplicates nothing. A failed calculation (``LabelError``, e.g.
an unconverged SCF) is stored as a row with ``status="failed"`` and its
reason, reported at the end, and not retried unless ``retry_failed=True``.

Row layout (ASE db): atoms with a ``SinglePointCalculator`` holding energy
(eV) and forces (eV/Å); key-value pairs ``key``, ``status`` ("ok" or
"failed"), ``method``, ``code``, ``code_version``, ``wall_time_s``,
``scf_cycles``, ``converged``, ``reason`` (failed rows), plus the caller's
tags (``set``, ``source``, ``iteration``, ...); ``data["identity"]`` holds
the full labeller identity.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

from nnp_ref.data.labellers import Label, LabelError, structure_name

POSITION_DECIMALS = 8  # positions are rounded to 1e-8 Å before hashing


def structure_key(atoms: Atoms, identity: str) -> str:
    """SHA-256 (hex, 32 characters) of numbers, positions, cell, pbc and method identity."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(atoms.numbers, dtype=np.int64).tobytes())
    R_nc = np.round(np.asarray(atoms.positions, dtype=np.float64), POSITION_DECIMALS) + 0.0
    h.update(np.ascontiguousarray(R_nc).tobytes())
    cell = np.round(np.asarray(atoms.cell, dtype=np.float64), POSITION_DECIMALS) + 0.0
    h.update(np.ascontiguousarray(cell).tobytes())
    h.update(np.asarray(atoms.pbc, dtype=np.int8).tobytes())
    h.update(identity.encode())
    return h.hexdigest()[:32]


def _connect(path):
    import ase.db

    return ase.db.connect(str(path), type="db", append=True)


def existing_keys(path, failed: bool = True) -> dict[str, int]:
    """``{key: row id}`` of the rows in the database (all, or only "ok" ones)."""
    if not Path(path).exists():
        return {}
    db = _connect(path)
    keys = {}
    for row in db.select(include_data=False):
        status = row.get("status")
        if "key" in row and (failed or status == "ok"):
            keys[row.key] = row.id
    return keys


_PROVENANCE_KEYS = ("method", "code", "code_version", "scf_type", "scf_cycles", "converged")


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def write_label(db, atoms: Atoms, key: str, label: Label, tags: dict) -> int:
    """Write one labelled structure as a row (its own transaction); returns the row id."""
    row_atoms = atoms.copy()
    row_atoms.calc = SinglePointCalculator(row_atoms, energy=label.energy, forces=label.forces_nc)
    prov = label.provenance
    kv = dict(tags)  # provenance below wins over stale tags (e.g. an old "method")
    kv.update({k: _plain(prov[k]) for k in _PROVENANCE_KEYS if k in prov})
    kv["wall_time_s"] = float(prov.get("wall_time_s", float("nan")))
    kv.update(key=key, status="ok")
    return db.write(row_atoms, key_value_pairs=kv, data={"identity": prov.get("identity", "")})


def write_failure(db, atoms: Atoms, key: str, reason: str, identity: str, tags: dict) -> int:
    """Record a failed calculation with its reason (no energy, no forces)."""
    kv = {k: v for k, v in tags.items() if k not in _PROVENANCE_KEYS + ("wall_time_s",)}
    kv.update(key=key, status="failed", reason=reason[:500])
    return db.write(atoms.copy(), key_value_pairs=kv, data={"identity": identity})


@dataclass
class LabelReport:
    """What a labelling run did. ``failures`` holds (structure name, reason) pairs."""

    n_structures: int = 0
    n_labelled: int = 0
    n_skipped: int = 0
    failures: list = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.n_structures} structures: {self.n_labelled} labelled now, "
            f"{self.n_skipped} already in the database, {len(self.failures)} failed"
        ]
        lines += [f"  FAILED {name}: {reason}" for name, reason in self.failures]
        return "\n".join(lines)


def _tags_of(atoms: Atoms, tags: dict | None) -> dict:
    """Caller's tags plus plain scalar entries of ``atoms.info`` (set, source, ...)."""
    from ase.db.core import reserved_keys

    out = {}
    for k, v in atoms.info.items():
        v = _plain(v)
        ok_key = k.isidentifier() and k not in reserved_keys and k not in ("key", "status")
        if isinstance(v, (str, int, float, bool)) and ok_key:
            out[k] = v
    out.update(tags or {})
    return out


def _short(identity: str) -> str:
    """'pyscf:pbe/def2-svp:charge=0:...' -> 'pbe/def2-svp' (progress-bar label)."""
    parts = identity.split(":")
    return parts[1] if len(parts) > 1 else identity


def _label_one(labeller, atoms: Atoms):
    """Worker side: ('ok', Label) or ('failed', reason). Never raises for a LabelError."""
    try:
        return "ok", labeller(atoms)
    except LabelError as err:
        return "failed", str(err)


def label_structures(
    structures,
    labeller,
    db_path,
    executor=None,
    tags: dict | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> LabelReport:
    """Label ``structures`` into the database at ``db_path``, resuming what is there.

    ``executor``: None runs serially in this process; otherwise anything with
    a ``concurrent.futures`` ``submit`` (see :func:`nnp_ref.data.executors.make_executor`).
    Rows are written only here, in the calling process (SQLite has one writer).
    """
    from nnp_ref.data.executors import run_tasks

    structures = list(structures)
    names = [structure_name(atoms, i) for i, atoms in enumerate(structures)]
    for atoms, name in zip(structures, names):
        labeller.check(atoms, name)  # raises ValueError naming the structure
    keys = [structure_key(atoms, labeller.identity) for atoms in structures]
    done = existing_keys(db_path)
    db = _connect(db_path)
    if retry_failed:
        wanted = set(keys)
        failed_ids = [row.id for row in db.select(status="failed") if row.key in wanted]
        if failed_ids:
            db.delete(failed_ids)
            done = existing_keys(db_path)
    report = LabelReport(n_structures=len(structures))
    todo, seen = [], set(done)
    for i, key in enumerate(keys):
        if key in seen:
            report.n_skipped += 1
        else:
            seen.add(key)
            todo.append(i)
    for (status, result), i in run_tasks(
        _label_one,
        [(labeller, structures[i]) for i in todo],
        todo,
        executor=executor,
        progress=progress,
        description=f"labelling ({_short(labeller.identity)})",
    ):
        row_tags = _tags_of(structures[i], tags)
        if status == "ok":
            write_label(db, structures[i], keys[i], result, row_tags)
            report.n_labelled += 1
        else:
            write_failure(db, structures[i], keys[i], result, labeller.identity, row_tags)
            report.failures.append((names[i], result))
    report.failures += _old_failures(db, set(keys), {keys[i] for i in todo}, names, keys)
    return report


def _old_failures(db, keys: set, new: set, names, key_list) -> list:
    """Failed rows from earlier runs of these structures (reported again, not retried)."""
    index = {k: i for i, k in enumerate(key_list)}
    out = []
    for row in db.select(status="failed"):
        if row.key in keys and row.key not in new:
            out.append((names[index[row.key]] + " (earlier run)", row.get("reason", "")))
    return out


def read_database(path, selection=None, include_failed: bool = False, **query) -> list[Atoms]:
    """Labelled structures of an ASE database as ``list[Atoms]`` for training.

    Each structure carries energy and forces as a ``SinglePointCalculator``
    and its key-value pairs in ``atoms.info`` (``set``, ``source``,
    ``method`` ...). ``selection`` and ``query`` are ASE db queries
    (e.g. ``"natoms<10"``, ``source="md"``). Failed rows are left out.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"database {path} does not exist")
    db = _connect(path)
    out = []
    for row in db.select(selection, **query):
        if row.get("status") == "failed" and not include_failed:
            continue
        atoms = row.toatoms()
        atoms.info.update(row.key_value_pairs)
        out.append(atoms)
    return out
