"""Step 1 of the method: atomic environments as vectors.

Atoms -> ``neighbours`` (periodic cell list) -> ``cutoff`` / ``compact``
(radial envelopes) -> ``symmetry_functions`` (G_i and dG_i/dR_j, dG_i/deps).
"""
