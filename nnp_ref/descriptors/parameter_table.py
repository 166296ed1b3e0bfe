r"""One symmetry function's parameters, and a set of them as the kernel's parameter table.

:class:`SymmetryFunction` holds n2p2's type code and parameters (the formulas
are in :mod:`nnp_ref.descriptors.symmetry_functions`); :func:`build_table`
turns per-element lists of them into ``table_esq`` (element e, function s,
parameter column q, columns named in ``nnp_ref.descriptors.terms``), so the
kernel selects a type by an integer code, not by a class per type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.data import atomic_numbers

from nnp_ref.descriptors.compact import subtype_code
from nnp_ref.descriptors.cutoff import check_cutoff_parameters
from nnp_ref.descriptors.terms import (
    ALPHA,
    ANG_L,
    ANG_R,
    CTYPE,
    E1,
    E2,
    ETA,
    KIND,
    KIND_NARROW,
    KIND_RADIAL,
    KIND_WIDE,
    LAM,
    N_COLUMNS,
    PREF,
    RC,
    RL,
    RS,
    SUBTYPE,
    TYPE,
    ZETA,
)

RADIAL_TYPES = (2, 12, 20, 23)
ANGULAR_TYPES = (3, 9, 13, 21, 22, 24, 25)
WEIGHTED_TYPES = (12, 13, 23, 24, 25)
NARROW_TYPES = (3, 13, 21, 24)  # angular types with the r_jk terms
COMPACT_TYPES = (20, 21, 22, 23, 24, 25)


@dataclass(frozen=True)
class SymmetryFunction:
    """One symmetry function of a central element, with n2p2's type code.

    Lengths in Å, ``eta`` in 1/Å^2. ``neighbours`` holds one element symbol
    for element-resolved radial types, two for angular types and none for
    the weighted types (12, 13, 23-25). Compact types (20-25) use ``rl``,
    ``rc``, ``angle_left``/``angle_right`` (degrees) and ``subtype``
    (e.g. ``"p2"``); exponential types use ``eta``, ``rs``, ``zeta``, ``lam``.
    ``cutoff_type``/``alpha`` select the cutoff function of the exponential
    types (``nnp_ref.descriptors.cutoff``).
    """

    type: int
    center: str
    neighbours: tuple[str, ...]
    rc: float
    eta: float = 0.0
    rs: float = 0.0
    zeta: float = 1.0
    lam: float = 1.0
    cutoff_type: int = 1
    alpha: float = 0.0
    rl: float = 0.0
    angle_left: float = 0.0
    angle_right: float = 0.0
    subtype: str = ""

    def check(self) -> None:
        """Raise ``ValueError`` naming the problem if a parameter is invalid."""
        where = f"symmetry function {self}"
        if self.type not in RADIAL_TYPES + ANGULAR_TYPES:
            raise ValueError(f"unknown symmetry-function type {self.type} in {where}")
        for symbol in (self.center, *self.neighbours):
            if symbol not in atomic_numbers:
                raise ValueError(f"unknown element {symbol!r} in {where}")
        n_expected = 0 if self.type in WEIGHTED_TYPES else (1 if self.type in RADIAL_TYPES else 2)
        if len(self.neighbours) != n_expected:
            raise ValueError(
                f"type {self.type} needs {n_expected} neighbour element(s), "
                f"got {len(self.neighbours)} in {where}"
            )
        values = (self.rc, self.eta, self.rs, self.zeta, self.lam, self.alpha, self.rl)
        if not np.all(np.isfinite(values)):
            raise ValueError(f"non-finite parameter in {where}")
        if not self.rc > 0.0:
            raise ValueError(f"cutoff radius rc must be positive, got {self.rc} in {where}")
        if self.type in COMPACT_TYPES:
            if not self.rl < self.rc:
                raise ValueError(f"need rl < rc, got rl={self.rl}, rc={self.rc} in {where}")
            subtype_code(self.subtype)  # raises for an unknown subtype
            if self.type in ANGULAR_TYPES and not self.angle_left < self.angle_right:
                raise ValueError(f"need angle_left < angle_right in {where}")
            return
        check_cutoff_parameters(self.rc, self.alpha, self.cutoff_type)
        if self.eta < 0.0:
            raise ValueError(f"eta must be >= 0, got {self.eta} in {where}")
        # Any finite zeta is accepted, as n2p2 does (AlAuMgO_4G uses zeta = -1, -2;
        # the term is 0 where 1 + lambda cos theta <= 0).
        if self.type in ANGULAR_TYPES:
            if self.lam not in (1.0, -1.0):
                raise ValueError(f"lambda must be +1 or -1, got {self.lam} in {where}")


def cutoff_radius(sf_sets: dict[str, list[SymmetryFunction]]) -> float:
    """Largest cutoff radius over all sets (the neighbour-list cutoff)."""
    return max(sf.rc for sfs in sf_sets.values() for sf in sfs)


def build_table(
    sf_sets: dict[str, list[SymmetryFunction]], elements: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter table ``table_esq`` and set sizes ``n_s_e`` for the kernel.

    ``elements`` fixes the element index e used everywhere (column E1/E2 of
    the table hold neighbour element indices, -1 for "any" in weighted types).
    """
    for symbol in sf_sets:
        if symbol not in elements:
            raise ValueError(f"symmetry functions given for element {symbol!r} not in {elements}")
    for symbol in elements:
        if not sf_sets.get(symbol):
            raise ValueError(f"element {symbol!r} has no symmetry functions")
    s_max = max(len(sf_sets[e]) for e in elements)
    table_esq = np.zeros((len(elements), s_max, N_COLUMNS))
    n_s_e = np.zeros(len(elements), dtype=np.int64)
    for e, symbol in enumerate(elements):
        n_s_e[e] = len(sf_sets[symbol])
        for s, sf in enumerate(sf_sets[symbol]):
            sf.check()
            if sf.center != symbol:
                raise ValueError(f"{sf} listed under element {symbol!r}")
            neighbour_index = []
            for nb in sf.neighbours:
                if nb not in elements:
                    raise ValueError(f"neighbour element {nb!r} of {sf} is not in {elements}")
                neighbour_index.append(elements.index(nb))
            neighbour_index += [-1] * (2 - len(neighbour_index))
            row = table_esq[e, s]
            row[TYPE] = sf.type
            row[E1], row[E2] = neighbour_index
            row[RC], row[ETA], row[RS] = sf.rc, sf.eta, sf.rs
            row[ZETA], row[LAM] = sf.zeta, sf.lam
            row[PREF] = 2.0 ** (1.0 - sf.zeta)  # the angular prefactor 2^(1-zeta)
            row[CTYPE], row[ALPHA] = sf.cutoff_type, sf.alpha
            row[RL], row[ANG_L], row[ANG_R] = sf.rl, sf.angle_left, sf.angle_right
            row[SUBTYPE] = subtype_code(sf.subtype) if sf.type in COMPACT_TYPES else -1
            if sf.type in RADIAL_TYPES:
                row[KIND] = KIND_RADIAL
            else:
                row[KIND] = KIND_NARROW if sf.type in NARROW_TYPES else KIND_WIDE
    return table_esq, n_s_e
