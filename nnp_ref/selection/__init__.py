"""Choosing data and descriptors: farthest-point sampling, CUR, symmetry-function sets, pruning.

- :mod:`~nnp_ref.selection.fps`: farthest-point sampling of rows (structures,
  atoms) or columns (symmetry functions).
- :mod:`~nnp_ref.selection.cur`: greedy iterative CUR decomposition, rows or columns.
- :mod:`~nnp_ref.selection.symmetry_function_sets`: published generation schemes
  (Imbalzano et al. 2018, Gastegger et al. 2018; n2p2's sfparamgen).
- :mod:`~nnp_ref.selection.pruning`: pruning by range, correlation and
  sensitivity (n2p2's ``nnp-prune``), with the weights folded so predictions stay.
"""
