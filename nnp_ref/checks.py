r"""Checking hand-written derivatives: central differences and a ``compare`` printout.

Every analytic derivative in nnp_ref (network backprop, forces, stress,
loss gradients, Kalman Jacobians) is checked against central differences

    df/dx_k ~ [f(x + h e_k) - f(x - h e_k)] / 2h      error O(h^2) + O(eps/h)

of the quantity itself, in the tests, the notebooks and the lectures, with
the helpers of this module:

- :func:`central_difference`: any function of a flat array;
- :func:`position_derivative`: d f(atoms) / dR_kc;
- :func:`strain_derivative`: d f(atoms) / d eps_ab, cell and positions
  strained together by (1 + eps) (rows as vectors, as in ASE), so the
  stress is sigma = (1/V) dE/d eps;
- :func:`parameter_derivative`: d f() / dw over a potential's flat network
  parameters (``nnp_ref.training.parameters`` order);
- :func:`compare`: the makemore lectures' ``cmp`` (exact? close? max
  difference) returning the relative error max|a - n| / max|n|, to assert
  against an explicit tolerance.
"""

from __future__ import annotations

import numpy as np


def compare(name: str, analytic, numeric, rtol: float = 1e-6, verbose: bool = True) -> float:
    """Relative error max|analytic - numeric| / max|numeric|, printed like makemore's ``cmp``.

    Prints whether the arrays are exactly equal and allclose(rtol), the max
    difference and the relative error; returns the relative error (checkdw
    style: compare it with e.g. 1e-6 for central differences with h = 1e-6).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"compare {name}: shapes {analytic.shape} and {numeric.shape} differ")
    maxdiff = float(np.max(np.abs(analytic - numeric), initial=0.0))
    scale = float(np.max(np.abs(numeric), initial=0.0))
    rel = maxdiff / scale if scale > 0.0 else maxdiff
    if verbose:
        exact = bool(np.array_equal(analytic, numeric))
        approx = bool(np.allclose(analytic, numeric, rtol=rtol, atol=rtol * scale))
        print(
            f"{name:24s} | exact: {exact!s:5} | approximate: {approx!s:5} | "
            f"maxdiff: {maxdiff:.3e} | relative: {rel:.3e}"
        )
    return rel


def central_difference(f, x, h: float = 1e-6) -> np.ndarray:
    """d f(x) / dx by central differences; shape f's shape + x's shape.

    ``x`` is not modified; ``f`` receives perturbed copies of the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    flat = x.ravel()
    columns = []
    for k in range(flat.size):
        plus, minus = flat.copy(), flat.copy()
        plus[k] += h
        minus[k] -= h
        f_plus = np.asarray(f(plus.reshape(x.shape)), dtype=float)
        f_minus = np.asarray(f(minus.reshape(x.shape)), dtype=float)
        columns.append((f_plus - f_minus) / (2.0 * h))
    out = np.stack(columns, axis=-1)
    return out.reshape(out.shape[:-1] + x.shape)


def position_derivative(fn, atoms, h: float = 1e-5, atom_indices=None) -> np.ndarray:
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
    """A copy with cell and positions mapped by (1 + eps) (rows as vectors)."""
    deformation = np.eye(3) + eps_cc
    out = atoms.copy()
    out.set_cell(atoms.cell.array @ deformation, scale_atoms=False)
    out.positions = atoms.positions @ deformation
    return out


def strain_derivative(fn, atoms, h: float = 1e-6) -> np.ndarray:
    """d fn(atoms) / d eps_ab, shape fn's shape + (3, 3)."""
    return central_difference(lambda eps_cc: fn(strained(atoms, eps_cc)), np.zeros((3, 3)), h)


def parameter_derivative(f, potential, h: float = 1e-6) -> np.ndarray:
    """d f() / dw over the potential's network parameters; shape f's shape + (N_w,).

    w in the flat order of ``nnp_ref.training.parameters`` (elements in the
    potential's order, then W_1, b_1, W_2, b_2, ... each row-major). ``f``
    takes no argument and reads the potential; every parameter is perturbed
    in place and restored exactly (also if ``f`` raises).
    """
    arrays = []
    for e in potential.elements:
        net = potential.networks[e]
        for W, b in zip(net.weights, net.biases, strict=True):
            arrays += [W, b]
    columns = []
    for x in arrays:
        for k in range(x.size):
            old = x.flat[k]
            try:
                x.flat[k] = old + h
                f_plus = np.asarray(f(), dtype=float)
                x.flat[k] = old - h
                f_minus = np.asarray(f(), dtype=float)
            finally:
                x.flat[k] = old
            columns.append((f_plus - f_minus) / (2.0 * h))
    return np.stack(columns, axis=-1)
