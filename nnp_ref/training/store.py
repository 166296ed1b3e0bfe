r"""On-disk descriptor store: descriptors and derivatives computed once, read back by structure.

Training on forces needs, per structure, the raw symmetry functions G_ns
and their sparse derivatives dGdR_psc, dGself_nsc (about 4.9 MB for ~100
copper atoms with 32 functions); kept in memory they limit a data set to a
few thousand structures. The store keeps them on disk and training reads
only the structures of the current batch, so memory depends on the batch,
not on the data set.

Layout: one folder per (data, symmetry-function set),
``<root>/<what>-<key[:16]>/``, holding

* one raw little-endian array file per quantity, all structures
  concatenated: per atom ``elem_n`` (N,), ``G_ns`` (N, s), ``dGself_nsc``
  (N, s, 3), ``F_ref_nc`` (N, 3; NaN rows: no forces); per pair ``i_p``,
  ``j_p`` (P,) (atom indices within the structure), ``dGdR_psc`` (P, s, 3),
  ``D_pc`` (P, 3); per structure ``atom_offset_s``, ``pair_offset_s``
  (S+1,), ``E_ref_s``, ``volume_s`` (S,), ``has_forces_s`` (S,),
  ``S_ref_scc`` (S, 3, 3; NaN: no reference stress);
* ``manifest.json``, written last: the key, the structure names, and for
  every array its dtype, shape, size in bytes and SHA-256.

Structure s is rows ``atom_offset_s[s]:atom_offset_s[s+1]`` and
``pair_offset_s[s]:pair_offset_s[s+1]``; :class:`StoredStructures` hands
out :class:`~nnp_ref.training.batch.StructureData` whose arrays are views of
read-only memory maps (``np.memmap``), so ``make_batch`` copies exactly the
batch into memory. The values are the in-memory ones bit for bit.

**Key.** SHA-256 over a format version, the symmetry-function table
(elements, parameters, cutoff) and every structure's species, positions,
cell, pbc and reference energy, forces and stress: a changed set or a
changed data file gives another folder, never stale descriptors. (A change
of the descriptor code itself must bump ``FORMAT_VERSION``.)

**Atomic writing.** The store is written into ``<folder>.tmp-<pid>``,
each file flushed and fsync'ed, the manifest last, and only then renamed
to its final name (a rename is atomic on POSIX). A folder without a
manifest, with another key, or whose files differ in size from the
manifest (``verify="checksum"``: also in SHA-256) is damaged: it is
deleted and rebuilt, never read.

**Why raw memory maps, not zarr or HDF5.** The access pattern is "read
the rows of a few structures", contiguous per structure, which a memory
map serves at page-cache speed with no dependency and no decompression;
the arrays are dense float64 that compress poorly (about 1.3x); and
HDF5 files are damaged in place by a kill mid-write (h5py has no
atomic commit), whereas a folder renamed into place is all-or-nothing.
zarr's chunking would only matter for random access *inside* one array
row, which training never does. The files are plain NumPy
(``np.fromfile``/``np.memmap`` with the manifest's dtype and shape).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nnp_ref.training.batch import StructureData, structure_data

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
RELEASE_BYTES = 256 * 2**20  # StoredStructures drops its mapped pages after this much
# ... unless the whole store is at most this big: then it stays mapped (data that fits
# in memory streams as fast as in-memory data; its pages are the OS's reclaimable cache).
RESIDENT_BYTES = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
log = logging.getLogger(__name__)

# name -> (dtype, per-row shape after the first axis, which counter: atoms/pairs/structures)
ARRAYS = {
    "elem_n": ("<i8", (), "atoms"),
    "G_ns": ("<f8", ("s",), "atoms"),
    "dGself_nsc": ("<f8", ("s", 3), "atoms"),
    "F_ref_nc": ("<f8", (3,), "atoms"),
    "i_p": ("<i8", (), "pairs"),
    "j_p": ("<i8", (), "pairs"),
    "dGdR_psc": ("<f8", ("s", 3), "pairs"),
    "D_pc": ("<f8", (3,), "pairs"),
    "E_ref_s": ("<f8", (), "structures"),
    "volume_s": ("<f8", (), "structures"),
    "has_forces_s": ("|b1", (), "structures"),
    "S_ref_scc": ("<f8", (3, 3), "structures"),
}


# ---------------------------------------------------------------------------
# Key
# ---------------------------------------------------------------------------


def _update(h, *arrays) -> None:
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())


def store_key(structures, sfset) -> str:
    """SHA-256 (hex) of the format, the symmetry-function set and the labelled structures."""
    from nnp_ref.data.datasets import reference_energy, reference_forces
    from nnp_ref.training.batch import reference_stress

    h = hashlib.sha256(f"nnp_ref descriptor store v{FORMAT_VERSION}".encode())
    h.update(repr(sfset.elements).encode())
    _update(h, sfset.table_esq, sfset.n_s_e, np.array([sfset.cutoff]))
    for atoms in structures:
        energy = reference_energy(atoms)
        forces, stress = reference_forces(atoms), reference_stress(atoms)
        _update(h, atoms.numbers, atoms.positions, atoms.cell.array, atoms.pbc)
        _update(h, np.array([np.nan if energy is None else energy]))
        _update(h, np.zeros(0) if forces is None else forces)
        _update(h, np.zeros(0) if stress is None else stress)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _rows(item: StructureData) -> dict[str, np.ndarray]:
    """The arrays of one structure in store layout (``ARRAYS``)."""
    n = item.n_atoms
    nan_cc = np.full((3, 3), np.nan)
    return {
        "elem_n": item.elem_n,
        "G_ns": item.G_ns,
        "dGself_nsc": item.dGself_nsc,
        "F_ref_nc": np.full((n, 3), np.nan) if item.F_ref_nc is None else item.F_ref_nc,
        "i_p": item.i_p,
        "j_p": item.j_p,
        "dGdR_psc": item.dGdR_psc,
        "D_pc": item.D_pc,
        "E_ref_s": np.array([item.E_ref]),
        "volume_s": np.array([item.volume]),
        "has_forces_s": np.array([item.F_ref_nc is not None]),
        "S_ref_scc": (nan_cc if item.S_ref_cc is None else item.S_ref_cc)[None],
    }


def build_store(folder, structures, sfset, key: str, what: str = "structure",
                progress: bool = True) -> Path:  # fmt: skip
    """Compute the descriptors of ``structures`` once and write them to ``folder`` atomically.

    Memory: one structure at a time. Returns the folder.
    """
    from tqdm.auto import tqdm

    folder = Path(folder)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = {name: open(tmp / f"{name}.bin", "wb") for name in ARRAYS}
    hashes = {name: hashlib.sha256() for name in ARRAYS}
    atom_offset, pair_offset, names = [0], [0], []
    n_s = int(np.max(sfset.n_s_e))
    try:
        for i, atoms in enumerate(tqdm(structures, desc="descriptor store", disable=not progress)):
            d = sfset.compute_atoms(atoms, with_derivatives=True)
            item = structure_data(
                atoms, d, f"{what} structure {i} ({atoms.get_chemical_formula()})"
            )
            for name, a in _rows(item).items():
                data = np.ascontiguousarray(a, dtype=ARRAYS[name][0]).tobytes()
                files[name].write(data)
                hashes[name].update(data)
            atom_offset.append(atom_offset[-1] + item.n_atoms)
            pair_offset.append(pair_offset[-1] + len(item.i_p))
            names.append(item.name)
        for f in files.values():
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # nothing half-written stays behind
        raise
    finally:
        for f in files.values():
            f.close()
    counts = {"atoms": atom_offset[-1], "pairs": pair_offset[-1], "structures": len(names)}
    arrays = {}
    for name, (dtype, tail, counter) in ARRAYS.items():
        shape = [counts[counter]] + [n_s if t == "s" else t for t in tail]
        arrays[name] = _entry(tmp, name, dtype, shape, hashes[name].hexdigest())
    for name, values in (("atom_offset_s", atom_offset), ("pair_offset_s", pair_offset)):
        a = np.array(values, dtype="<i8")
        a.tofile(tmp / f"{name}.bin")
        arrays[name] = _entry(tmp, name, "<i8", [len(a)], hashlib.sha256(a.tobytes()).hexdigest())
    manifest = {"format": FORMAT_VERSION, "key": key, "names": names, "arrays": arrays}
    with open(tmp / MANIFEST, "w") as f:  # written last: its presence means "complete"
        json.dump(manifest, f)
        f.flush()
        os.fsync(f.fileno())
    shutil.rmtree(folder, ignore_errors=True)  # a damaged earlier store
    os.rename(tmp, folder)
    return folder


def _entry(folder: Path, name: str, dtype: str, shape, sha256: str) -> dict:
    size = (folder / f"{name}.bin").stat().st_size
    return {"dtype": dtype, "shape": [int(x) for x in shape], "bytes": size, "sha256": sha256}


# ---------------------------------------------------------------------------
# Checking and opening
# ---------------------------------------------------------------------------


def store_problem(folder, key: str, verify: str = "size") -> str:
    """Why the store in ``folder`` cannot be used ("" if it can).

    ``verify``: "size" (manifest, key and every file's size) or "checksum"
    (also the SHA-256 of every file: reads the whole store).
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        return f"{folder}: no {MANIFEST} (incomplete or damaged store)"
    try:
        manifest = json.loads(path.read_text())
        arrays = manifest["arrays"]
        if manifest.get("format") != FORMAT_VERSION or manifest.get("key") != key:
            return f"{folder}: written for other data, symmetry functions or format"
        for name in list(ARRAYS) + ["atom_offset_s", "pair_offset_s"]:
            entry, file = arrays[name], folder / f"{name}.bin"
            expected = int(np.prod(entry["shape"])) * np.dtype(entry["dtype"]).itemsize
            if (
                not file.is_file()
                or file.stat().st_size != entry["bytes"]
                or expected != entry["bytes"]
            ):
                return f"{file}: missing or of the wrong size (damaged store)"
            if verify == "checksum" and _sha256(file) != entry["sha256"]:
                return f"{file}: checksum differs from {MANIFEST} (damaged store)"
    except (ValueError, KeyError, TypeError) as err:
        return f"{path}: unreadable manifest ({err})"
    return ""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 24), b""):
            h.update(block)
    return h.hexdigest()


def open_store(root, structures, sfset, what: str = "training", progress: bool = True,
               verify: str = "size") -> StoredStructures:  # fmt: skip
    """The store of ``structures`` under ``root``: reused if intact, else (re)built.

    The reason for a rebuild is logged (``logging``, INFO) and kept in
    ``.rebuilt`` ("" when an intact store was reused).
    """
    key = store_key(structures, sfset)
    folder = Path(root) / f"{what}-{key[:16]}"
    reason = store_problem(folder, key, verify)
    if reason:
        log.info("building descriptor store: %s", reason)
        build_store(folder, structures, sfset, key, what, progress)
    out = StoredStructures(folder)
    out.rebuilt = reason
    return out


class StoredStructures(Sequence):
    """Read-only sequence of :class:`StructureData` backed by the memory-mapped store.

    ``items[s]`` reads nothing until its arrays are used; ``make_batch``
    copies the chosen structures into memory. A store larger than
    ``resident_bytes`` (default :data:`RESIDENT_BYTES`, a quarter of the
    machine's memory) drops its mapped pages after every ``release_bytes``
    handed out (:meth:`release`), so a pass over it keeps at most about that
    much resident. A smaller store stays mapped: after the first epoch its
    batches cost what in-memory batches cost (measured: 0.30 ms per structure
    when re-reading dropped pages, 0.17-0.24 ms mapped, 0.16-0.19 ms in memory).
    """

    def __init__(
        self, folder, release_bytes: int = RELEASE_BYTES, resident_bytes: int | None = None
    ):
        self.folder = Path(folder)
        manifest = json.loads((self.folder / MANIFEST).read_text())
        self.names = manifest["names"]
        self.maps, self.arrays = [], {}
        for name, e in manifest["arrays"].items():
            if not e["bytes"]:  # an empty file cannot be mapped
                self.arrays[name] = np.zeros(e["shape"], dtype=e["dtype"])
                continue
            with open(self.folder / f"{name}.bin", "rb") as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            self.maps.append(mm)
            self.arrays[name] = np.frombuffer(mm, dtype=e["dtype"]).reshape(e["shape"])
        self.atom_offset_s = np.array(self.arrays["atom_offset_s"])
        self.pair_offset_s = np.array(self.arrays["pair_offset_s"])
        self.release_bytes, self.handed_out = release_bytes, 0
        resident_bytes = RESIDENT_BYTES if resident_bytes is None else resident_bytes
        self.stays_resident = sum(e["bytes"] for e in manifest["arrays"].values()) <= resident_bytes
        self.row_bytes = {  # bytes of one atom row, one pair row
            counter: sum(
                self.arrays[name].itemsize * int(np.prod(self.arrays[name].shape[1:]))
                for name, (_, _, c) in ARRAYS.items()
                if c == counter
            )
            for counter in ("atoms", "pairs")
        }
        self.rebuilt = ""

    def release(self) -> None:
        """Drop the mapped pages from this process (``madvise(MADV_DONTNEED)``).

        The maps are read-only, so this loses nothing: a later access reads
        the page again (from the OS page cache or the disk). Called after
        every ``release_bytes`` handed out, it keeps the resident memory of
        a pass over the whole store bounded. Nothing to do for a store that
        stays resident (``stays_resident``, see the class docstring).
        """
        self.handed_out = 0
        if self.stays_resident:
            return
        for mm in self.maps:
            mm.madvise(mmap.MADV_DONTNEED)

    def __len__(self) -> int:
        return len(self.names)

    def n_atoms(self, s: int) -> int:
        return int(self.atom_offset_s[s + 1] - self.atom_offset_s[s])

    def __getitem__(self, s):
        if isinstance(s, slice):
            return [self[k] for k in range(*s.indices(len(self)))]
        if not -len(self) <= s < len(self):
            raise IndexError(f"structure {s} of a store of {len(self)}")
        s = int(s) % len(self)
        if self.handed_out > self.release_bytes:
            self.release()
        a = self.arrays
        atoms = slice(int(self.atom_offset_s[s]), int(self.atom_offset_s[s + 1]))
        pairs = slice(int(self.pair_offset_s[s]), int(self.pair_offset_s[s + 1]))
        self.handed_out += self.row_bytes["atoms"] * (atoms.stop - atoms.start)
        self.handed_out += self.row_bytes["pairs"] * (pairs.stop - pairs.start)
        S_ref = np.array(a["S_ref_scc"][s])
        return StructureData(
            a["elem_n"][atoms],
            a["G_ns"][atoms],
            a["dGdR_psc"][pairs],
            a["dGself_nsc"][atoms],
            a["i_p"][pairs],
            a["j_p"][pairs],
            float(a["E_ref_s"][s]),
            a["F_ref_nc"][atoms] if a["has_forces_s"][s] else None,
            self.names[s],
            a["D_pc"][pairs],
            float(a["volume_s"][s]),
            S_ref if np.all(np.isfinite(S_ref)) else None,
        )


# ---------------------------------------------------------------------------
# Streamed evaluation batches
# ---------------------------------------------------------------------------


__all__ = [
    "StoredStructures",
    "build_store",
    "open_store",
    "store_key",
    "store_problem",
]
