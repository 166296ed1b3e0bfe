r"""Feature matrices for selection: per atom, per structure, and the two selections built on them.

- **per atom** (rows = atoms of one element, columns = its symmetry
  functions): G_as stacked over a data set. Columns are what
  :func:`select_symmetry_functions` chooses from (Imbalzano et al., J. Chem.
  Phys. 148, 241730 (2018): CUR or FPS on the functions' values over the
  atoms of a data set).
- **per structure** (rows = structures): the mean of each element's
  (scaled or standardised) symmetry functions over the structure's atoms,
  concatenated over elements, F_b = [<x_a>_{a in b, Z_a = e}]_e. Rows are
  what :func:`select_structures` chooses from.

Standardising (each column to zero mean and unit variance over the data)
keeps functions with large absolute values (wide Gaussians, many
neighbours) from dominating the distances and leverage scores; constant
columns stay zero.
"""

from __future__ import annotations

import numpy as np

from nnp_ref.selection.cur import cur_columns, cur_rows
from nnp_ref.selection.fps import fps_columns, fps_rows
from nnp_ref.training.preprocessing import descriptor_statistics

METHODS = ("fps", "cur")


def standardize(X_nd: np.ndarray) -> np.ndarray:
    """(X - mean) / std column by column; constant columns become 0."""
    X_nd = np.asarray(X_nd, dtype=np.float64)
    sigma_d = X_nd.std(axis=0)
    return (X_nd - X_nd.mean(axis=0)) / np.where(sigma_d > 0, sigma_d, 1.0)


def atom_features(descriptors, elements, element: str) -> np.ndarray:
    """G_as of every atom of ``element`` in ``descriptors`` (element order ``elements``)."""
    G_e = descriptor_statistics(descriptors, tuple(elements))
    if element not in G_e:
        raise ValueError(f"no atoms of element {element!r} in the descriptors")
    return G_e[element]


def structure_features(descriptors, elements, scalings=None) -> np.ndarray:
    """F_bd: per structure the mean (scaled, if ``scalings`` given) functions per element."""
    rows = []
    for d in descriptors:
        parts = []
        for e, symbol in enumerate(elements):
            n_s = int(d.n_s_e[e])
            mask = d.elem_n == e
            G_as = d.G_ns[mask, :n_s] if mask.any() else np.zeros((1, n_s))
            if scalings is not None:
                G_as = scalings[symbol].apply(G_as)
            parts.append(G_as.mean(axis=0))
        rows.append(np.concatenate(parts))
    return np.array(rows)


def select_structures(features, n_select: int, method: str = "fps", initial: int = 0,
                      standardized: bool = True) -> np.ndarray:  # fmt: skip
    """Indices of ``n_select`` structures (rows of ``features``) by FPS or CUR."""
    if method not in METHODS:
        raise ValueError(f"selection method must be one of {METHODS}, got {method!r}")
    X = standardize(features) if standardized else np.asarray(features, dtype=np.float64)
    return fps_rows(X, n_select, initial=initial) if method == "fps" else cur_rows(X, n_select)


def select_symmetry_functions(G_as, n_select: int, method: str = "cur",
                              standardized: bool = True) -> np.ndarray:  # fmt: skip
    """Indices of ``n_select`` symmetry functions (columns of G_as) by CUR or FPS, in the
    order chosen; ``np.sort`` them to keep the original order in a potential."""
    if method not in METHODS:
        raise ValueError(f"selection method must be one of {METHODS}, got {method!r}")
    X = standardize(G_as) if standardized else np.asarray(G_as, dtype=np.float64)
    return cur_columns(X, n_select) if method == "cur" else fps_columns(X, n_select)


def reduce_symmetry_functions(
    structures, sets, n_per_element: int | None = None, range_threshold: float = 1e-4,
    correlation_threshold: float = 0.99, method: str = "cur",
):  # fmt: skip
    """From a generated set to a justified, small one: (new sets, report text).

    On the structures' atoms: drop functions with a range below
    ``range_threshold`` and functions correlated beyond ``correlation_threshold``
    with an earlier one (:mod:`~nnp_ref.selection.pruning`), then keep the
    ``n_per_element`` most informative of the rest by CUR (or FPS) on the
    standardised values (:func:`select_symmetry_functions`), in their original order.
    """
    from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
    from nnp_ref.selection.pruning import prune_report
    from nnp_ref.training.preprocessing import compute_descriptors

    elements = tuple(sets)
    sfset = SymmetryFunctionSet(sets, elements)
    descriptors = compute_descriptors(structures, sfset, with_derivatives=False, progress=False)
    report = prune_report(descriptors, elements, range_threshold, correlation_threshold)
    lines = [report.summary()]
    out = {}
    for e in elements:
        kept = np.flatnonzero(report.keep[e])
        if n_per_element is not None and n_per_element < kept.size:
            G_as = atom_features(descriptors, elements, e)[:, kept]
            kept = np.sort(kept[select_symmetry_functions(G_as, n_per_element, method)])
            lines.append(f"{e}: {method.upper()} keeps {kept.size}: {kept.tolist()}")
        out[e] = [sets[e][s] for s in kept]
    return out, "\n".join(lines)


__all__ = [
    "atom_features",
    "reduce_symmetry_functions",
    "select_structures",
    "select_symmetry_functions",
    "standardize",
    "structure_features",
]
