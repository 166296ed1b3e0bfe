"""Step 1 of the method: atomic environments as vectors.

Atoms -> ``neighbours`` (periodic cell list; ``skin``: reused across MD steps)
-> ``cutoff`` / ``compact`` (radial envelopes) -> ``terms`` (one atom's
functions, one kernel per equation) -> ``symmetry_functions`` (parameter
table, ``neighbour_index``, the loop over atoms: G_i and dG_i/dR_j, dG_i/deps).
``jit``: the ``@kernel`` decorator (Numba with a cache that cannot go stale).
"""
