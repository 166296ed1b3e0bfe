r"""Farthest-point sampling (FPS): a diverse subset of the rows or columns of a matrix.

Greedy selection (G. Imbalzano et al., J. Chem. Phys. 148, 241730 (2018),
doi:10.1063/1.5024611, Sec. II C; the same algorithm as scikit-matter's
``FPS``): start from one point, then repeatedly add the point that is
farthest from everything selected so far,

    h_i = min_{j in S} d(i, j)^2,      next = argmax_{i not in S} h_i,

with the squared Euclidean distance written through norms and one scalar
product, d(i, j)^2 = |x_i|^2 + |x_j|^2 - 2 x_i . x_j (this is also how
scikit-matter computes it, so ties and rounding agree). ``h`` is the
Hausdorff distance of every point to the selection; after each selection it
is updated with the distances to the new point only, O(n) memory and
O(n k d) time.

Rows are samples (structures or atoms, described by per-structure or
per-atom features); columns are features (e.g. symmetry functions, compared
by their values over a set of atoms). ``fps_columns(X) == fps_rows(X.T)``.
"""

from __future__ import annotations

import numpy as np


def check_selection_size(n_select: int, n_available: int, what: str) -> int:
    """``n_select`` as an int in [1, n_available], else a one-line ``ValueError``."""
    if isinstance(n_select, bool) or int(n_select) != n_select:
        raise ValueError(f"number of {what} to select must be an integer, got {n_select!r}")
    n_select = int(n_select)
    if not 1 <= n_select <= n_available:
        raise ValueError(
            f"cannot select {n_select} {what}: there are only {n_available} "
            f"(need 1 <= n_select <= {n_available})"
        )
    return n_select


def as_feature_matrix(X, what: str = "feature matrix") -> np.ndarray:
    """A finite 2-D float64 array, else a one-line ``ValueError``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"{what} must be 2-D (points x features), got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise ValueError(f"{what} has NaN/inf in row(s) {rows[:10].tolist()}")
    return X


def fps_rows(X_nd, n_select: int, initial: int = 0, return_distances: bool = False):
    """Indices of ``n_select`` rows of ``X_nd`` (n points, d features) chosen by FPS.

    ``initial``: the first point (scikit-matter's ``initialize``, default 0).
    With ``return_distances`` also the squared Hausdorff distance of each
    selected point at the moment it was chosen (inf for the first): a
    decreasing curve that tells how much diversity each new point adds.
    """
    X_nd = as_feature_matrix(X_nd)
    n = X_nd.shape[0]
    n_select = check_selection_size(n_select, n, "points")
    if not 0 <= initial < n:
        raise ValueError(f"initial point {initial} is not a row index of a matrix with {n} rows")
    norms_n = np.einsum("nd,nd->n", X_nd, X_nd)  # |x_i|^2
    h_n = np.full(n, np.inf)  # squared distance to the selection
    selected = np.empty(n_select, dtype=np.int64)
    d_selected = np.empty(n_select)
    chosen = np.zeros(n, dtype=bool)
    new = int(initial)
    for k in range(n_select):
        selected[k], d_selected[k] = new, h_n[new]
        chosen[new] = True
        d2_n = norms_n + norms_n[new] - 2.0 * (X_nd @ X_nd[new])  # d(i, new)^2
        np.minimum(h_n, d2_n, out=h_n)
        if k + 1 < n_select:
            score_n = np.where(chosen, -np.inf, h_n)
            new = int(np.argmax(score_n))
    return (selected, d_selected) if return_distances else selected


def fps_columns(X_nd, n_select: int, initial: int = 0, return_distances: bool = False):
    """FPS of the columns (features) of ``X_nd``: :func:`fps_rows` of the transpose."""
    return fps_rows(as_feature_matrix(X_nd).T, n_select, initial, return_distances)


__all__ = ["as_feature_matrix", "check_selection_size", "fps_columns", "fps_rows"]
