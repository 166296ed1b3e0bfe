"""Central finite differences of any function of an ``ase.Atoms`` (for tests).

    d f / dR_kc   ~ [f(R + h e_kc) - f(R - h e_kc)] / 2h
    d f / d eps_ab ~ [f((1 + h E_ab) R) - f((1 - h E_ab) R)] / 2h

(cell and positions strained together, rows as vectors, as in ASE).
"""

import numpy as np


def position_derivative(fn, atoms, h=1e-5, atom_indices=None):
    """d fn(atoms) / dR_kc, shape fn's shape + (len(atom_indices), 3)."""
    atom_indices = range(len(atoms)) if atom_indices is None else atom_indices
    columns = []
    for k in atom_indices:
        for c in range(3):
            values = []
            for sign in (1, -1):
                moved = atoms.copy()
                moved.positions[k, c] += sign * h
                values.append(np.asarray(fn(moved), dtype=float))
            columns.append((values[0] - values[1]) / (2 * h))
    out = np.stack(columns, axis=-1)
    return out.reshape(out.shape[:-1] + (len(atom_indices), 3))


def strained(atoms, eps_cc):
    """A copy with cell and positions mapped by (1 + eps)."""
    deformation = np.eye(3) + eps_cc
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ deformation, scale_atoms=False)
    out.positions = atoms.positions @ deformation
    return out


def strain_derivative(fn, atoms, h=1e-6):
    """d fn(atoms) / d eps_ab, shape fn's shape + (3, 3)."""
    columns = []
    for a in range(3):
        for b in range(3):
            values = []
            for sign in (1, -1):
                eps = np.zeros((3, 3))
                eps[a, b] = sign * h
                values.append(np.asarray(fn(strained(atoms, eps)), dtype=float))
            columns.append((values[0] - values[1]) / (2 * h))
    out = np.stack(columns, axis=-1)
    return out.reshape(out.shape[:-1] + (3, 3))
