r"""Precomputed structures and batches of them: the arrays training works on.

A structure's descriptors (raw G and their sparse derivatives, see
``nnp_ref.descriptors``) are computed once (:class:`StructureData`); a
:class:`Batch` concatenates several structures (atoms renumbered 0..n-1,
pairs shifted) and groups the atoms by element, so one network call per
element serves the whole batch.

Stress needs, besides dG/dR, the pair vectors D_pc and the cell volume: the
virial sigma_ab = (1/V) sum_p D_pa dE/dD_pb (``potential.assemble_virial``).
Reference stresses follow ASE's convention, sigma = (1/V) dE/d eps, in eV/Å^3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nnp_ref.data.datasets import reference_energy, reference_forces
from nnp_ref.model.potential import Potential


@dataclass
class StructureData:
    """One structure's descriptors (raw G, sparse derivatives) and reference values.

    Shapes: ``elem_n`` (n,), ``G_ns`` (n, s_max), ``dGdR_psc`` (p, s_max, 3),
    ``dGself_nsc`` (n, s_max, 3), ``i_p``/``j_p`` (p,), ``F_ref_nc`` (n, 3)
    or None. ``E_ref`` in eV (NaN if absent). ``name`` for messages.
    For stress: ``D_pc`` (p, 3) pair vectors R_j + S - R_i (Å) or None,
    ``volume`` (Å^3, NaN without a periodic cell), ``S_ref_cc`` (3, 3)
    reference stress (eV/Å^3) or None.
    """

    elem_n: np.ndarray
    G_ns: np.ndarray
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    E_ref: float
    F_ref_nc: np.ndarray | None
    name: str = ""
    D_pc: np.ndarray | None = None
    volume: float = np.nan
    S_ref_cc: np.ndarray | None = None

    @property
    def n_atoms(self) -> int:
        return len(self.elem_n)


def reference_stress(atoms) -> np.ndarray | None:
    """Reference stress (3, 3) in eV/Å^3 (ASE sign: (1/V) dE/d eps), or None if absent."""
    results = getattr(atoms.calc, "results", {}) if atoms.calc is not None else {}
    stress = results.get("stress", atoms.info.get("stress"))
    if stress is None:
        return None
    stress = np.asarray(stress, dtype=float)
    if stress.shape == (6,):  # Voigt order xx yy zz yz xz xy
        xx, yy, zz, yz, xz, xy = stress
        stress = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    if stress.shape != (3, 3):
        raise ValueError(f"reference stress must have shape (6,) or (3, 3), got {stress.shape}")
    return stress


def structure_data(atoms, descriptors, name: str = "") -> StructureData:
    """:class:`StructureData` from an ``ase.Atoms`` with reference results and its descriptors."""
    energy = reference_energy(atoms)
    periodic = bool(np.all(atoms.get_pbc()))
    return StructureData(
        descriptors.elem_n,
        descriptors.G_ns,
        descriptors.dGdR_psc,
        descriptors.dGself_nsc,
        descriptors.nl.i_p,
        descriptors.nl.j_p,
        np.nan if energy is None else energy,
        reference_forces(atoms),
        name or atoms.get_chemical_formula(),
        descriptors.nl.D_pc,
        float(atoms.get_volume()) if periodic else np.nan,
        reference_stress(atoms) if periodic else None,
    )


@dataclass
class Batch:
    """Several structures concatenated: atoms renumbered 0..n-1, pairs shifted.

    ``struct_n`` (n,): structure index (0..B-1) of every atom; ``n_atoms_b``
    (B,); ``idx_e[e]``: atoms of element e; ``G_e[e]`` (a_e, s_e): their raw
    symmetry functions (scaled inside ``nnp_ref.model.atomic_energy``);
    ``E_ref_b`` (B,); ``F_ref_nc`` (n, 3) or None if any structure lacks
    forces; ``D_pc`` (p, 3) or None; ``volume_b`` (B,) (NaN: no cell);
    ``S_ref_bcc`` (B, 3, 3) (NaN rows: no reference stress).
    """

    struct_n: np.ndarray
    n_atoms_b: np.ndarray
    elem_n: np.ndarray
    idx_e: list
    G_e: list
    dGdR_psc: np.ndarray
    dGself_nsc: np.ndarray
    i_p: np.ndarray
    j_p: np.ndarray
    E_ref_b: np.ndarray
    F_ref_nc: np.ndarray | None
    names: list = field(default_factory=list)
    D_pc: np.ndarray | None = None
    volume_b: np.ndarray | None = None
    S_ref_bcc: np.ndarray | None = None

    @property
    def n_structures(self) -> int:
        return len(self.n_atoms_b)

    @property
    def n_atoms(self) -> int:
        return len(self.struct_n)


def make_batch(items: list[StructureData], potential: Potential) -> Batch:
    """Concatenate structures into one :class:`Batch`, atoms grouped by ``potential``'s elements."""
    if not items:
        raise ValueError("cannot make a batch of zero structures")
    n_atoms_b = np.array([it.n_atoms for it in items], dtype=np.int64)
    first_n = np.concatenate([[0], np.cumsum(n_atoms_b)[:-1]])
    struct_n = np.repeat(np.arange(len(items)), n_atoms_b)
    elem_n = np.concatenate([it.elem_n for it in items])
    G_ns = np.concatenate([it.G_ns for it in items])
    i_p = np.concatenate([it.i_p + f for it, f in zip(items, first_n)])
    j_p = np.concatenate([it.j_p + f for it, f in zip(items, first_n)])
    dGdR_psc = np.concatenate([it.dGdR_psc for it in items])
    dGself_nsc = np.concatenate([it.dGself_nsc for it in items])
    has_forces = all(it.F_ref_nc is not None for it in items)
    F_ref_nc = np.concatenate([it.F_ref_nc for it in items]) if has_forces else None
    has_pairs = all(it.D_pc is not None for it in items)
    D_pc = np.concatenate([it.D_pc for it in items]) if has_pairs else None
    nan_cc = np.full((3, 3), np.nan)
    S_ref_bcc = np.array([nan_cc if it.S_ref_cc is None else it.S_ref_cc for it in items])
    idx_e, G_e = [], []
    for e in range(len(potential.elements)):
        idx = np.flatnonzero(elem_n == e)
        n_s = int(potential.descriptor.n_s_e[e])
        idx_e.append(idx)
        G_e.append(G_ns[idx, :n_s])
    return Batch(
        struct_n,
        n_atoms_b,
        elem_n,
        idx_e,
        G_e,
        dGdR_psc,
        dGself_nsc,
        i_p,
        j_p,
        np.array([it.E_ref for it in items], dtype=float),
        F_ref_nc,
        [it.name for it in items],
        D_pc,
        np.array([it.volume for it in items], dtype=float),
        S_ref_bcc,
    )
