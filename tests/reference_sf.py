"""Slow, obviously correct reference symmetry functions (for comparison only).

Plain Python loops over ASE's neighbour list and the textbook formulas,
independent of nnp_ref's kernels (cutoffs written out here again on purpose).
Only G (no derivatives): derivatives are checked by finite differences.
"""

import math

import numpy as np
from ase.data import atomic_numbers
from ase.neighborlist import neighbor_list


def ref_cutoff(r, rc, kind):
    if r >= rc:
        return 0.0
    if kind == 1:  # cos
        return 0.5 * (math.cos(math.pi * r / rc) + 1.0)
    if kind == 2:  # tanhU
        return math.tanh(1.0 - r / rc) ** 3
    raise NotImplementedError(kind)


def ref_descriptors(atoms, sf_sets):
    """G[i] as a list per atom, functions in the order of sf_sets[symbol]."""
    rc_max = max(sf.rc for sfs in sf_sets.values() for sf in sfs)
    i_p, j_p, D_pc = neighbor_list("ijD", atoms, rc_max)
    symbols = atoms.get_chemical_symbols()
    out = []
    for i, symbol in enumerate(symbols):
        mask = i_p == i
        neighbours = list(zip(j_p[mask], D_pc[mask]))
        row = []
        for sf in sf_sets[symbol]:
            g = 0.0
            if sf.type in (2, 12):
                for j, D in neighbours:
                    r = np.linalg.norm(D)
                    if sf.type == 2:
                        w = 1.0 if symbols[j] == sf.neighbours[0] else 0.0
                    else:
                        w = float(atomic_numbers[symbols[j]])
                    g += (
                        w
                        * math.exp(-sf.eta * (r - sf.rs) ** 2)
                        * ref_cutoff(r, sf.rc, sf.cutoff_type)
                    )
            else:
                for a in range(len(neighbours)):
                    for b in range(a + 1, len(neighbours)):
                        j, Dj = neighbours[a]
                        k, Dk = neighbours[b]
                        rij, rik = np.linalg.norm(Dj), np.linalg.norm(Dk)
                        rjk = np.linalg.norm(Dk - Dj)
                        if sf.type in (3, 9):
                            pair = sorted([symbols[j], symbols[k]])
                            w = 1.0 if pair == sorted(sf.neighbours) else 0.0
                        else:
                            w = float(atomic_numbers[symbols[j]] * atomic_numbers[symbols[k]])
                        cos = float(np.dot(Dj, Dk) / (rij * rik))
                        ang = 2.0 ** (1 - sf.zeta) * (1 + sf.lam * cos) ** sf.zeta
                        x2 = (rij - sf.rs) ** 2 + (rik - sf.rs) ** 2
                        fc = ref_cutoff(rij, sf.rc, sf.cutoff_type) * ref_cutoff(
                            rik, sf.rc, sf.cutoff_type
                        )
                        if sf.type in (3, 13):
                            x2 += (rjk - sf.rs) ** 2
                            fc *= ref_cutoff(rjk, sf.rc, sf.cutoff_type)
                        g += w * ang * math.exp(-sf.eta * x2) * fc
            row.append(g)
        out.append(row)
    return out
