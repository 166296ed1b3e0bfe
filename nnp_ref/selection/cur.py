r"""CUR decomposition: the most informative rows (structures) or columns (symmetry functions).

A CUR decomposition approximates X ~ C U R with C a few actual columns and R
a few actual rows of X (M. W. Mahoney and P. Drineas, PNAS 106, 697 (2009)).
The greedy, iterative variant used to select symmetry functions and
structures by G. Imbalzano et al., J. Chem. Phys. 148, 241730 (2018),
doi:10.1063/1.5024611, Sec. II B (the algorithm of scikit-matter's ``CUR``
with ``recompute_every=1``):

1. leverage score of column j from the top-k right singular vectors of the
   current matrix X = U S V^T:

       pi_j = sum_{m<k} V_jm^2        (columns; rows use U: pi_i = sum_m U_im^2)

2. select c = argmax pi over the columns not chosen yet;
3. orthogonalise every column against the selected one (remove what it
   already explains), with x_c the unit vector of column c:

       X <- X - x_c (x_c^T X)

   and go back to 1 with the orthogonalised X.

Step 3 makes the method pick columns that carry *new* information: a column
that is a multiple of a chosen one becomes zero and scores 0. Rows are the
same algorithm on X^T. The residual ||X - X_c X_c^+ X|| after k columns
measures how much of X the selection reproduces (:func:`cur_residual`).
"""

from __future__ import annotations

import numpy as np

from nnp_ref.selection.fps import as_feature_matrix, check_selection_size

TOLERANCE = 1e-12  # a column with a smaller norm is treated as zero (scikit-matter's default)


def leverage_scores(X_nd: np.ndarray, k: int = 1) -> np.ndarray:
    """pi_j = sum_{m<k} V_jm^2: weight of column j in the top-k right singular vectors."""
    _, _, Vt_kd = np.linalg.svd(X_nd, full_matrices=False)
    return np.sum(Vt_kd[:k] ** 2, axis=0)


def orthogonalize_columns(X_nd: np.ndarray, c: int, tol: float = TOLERANCE) -> np.ndarray:
    """X - x_c (x_c^T X), x_c = X[:, c] / |X[:, c]|: remove column c's direction from all."""
    col_n = X_nd[:, c]
    norm = np.linalg.norm(col_n)
    if norm < tol:
        return X_nd
    col_n = col_n / norm
    return X_nd - np.outer(col_n, col_n @ X_nd)


def cur_columns(X_nd, n_select: int, k: int = 1, return_scores: bool = False):
    """Indices of ``n_select`` columns of ``X_nd`` by iterative CUR (module docstring).

    ``k``: number of singular vectors in the leverage score (default 1, as
    scikit-matter). With ``return_scores`` also the score of each column at
    the moment it was chosen.
    """
    X_nd = as_feature_matrix(X_nd).copy()
    n_cols = X_nd.shape[1]
    n_select = check_selection_size(n_select, n_cols, "columns")
    if not 1 <= k <= min(X_nd.shape):
        raise ValueError(f"k={k} singular vectors: need 1 <= k <= {min(X_nd.shape)}")
    chosen = np.zeros(n_cols, dtype=bool)
    selected = np.empty(n_select, dtype=np.int64)
    scores = np.empty(n_select)
    pi_d = leverage_scores(X_nd, k)
    for m in range(n_select):
        c = int(np.argmax(np.where(chosen, -np.inf, pi_d)))
        selected[m], scores[m] = c, pi_d[c]
        chosen[c] = True
        X_nd = orthogonalize_columns(X_nd, c)
        pi_d = leverage_scores(X_nd, k)
    return (selected, scores) if return_scores else selected


def cur_rows(X_nd, n_select: int, k: int = 1, return_scores: bool = False):
    """Indices of ``n_select`` rows (structures, atoms) by iterative CUR: columns of X^T."""
    return cur_columns(as_feature_matrix(X_nd).T, n_select, k, return_scores)


def cur_residual(X_nd, columns) -> float:
    """Relative residual ||X - C C^+ X||_F / ||X||_F with C = X[:, columns] (0: exact)."""
    X_nd = as_feature_matrix(X_nd)
    C_nk = X_nd[:, np.asarray(columns, dtype=np.int64)]
    approx = C_nk @ (np.linalg.pinv(C_nk) @ X_nd)
    return float(np.linalg.norm(X_nd - approx) / max(np.linalg.norm(X_nd), 1e-300))


__all__ = ["cur_columns", "cur_residual", "cur_rows", "leverage_scores", "orthogonalize_columns"]
