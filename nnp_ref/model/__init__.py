"""Step 2 of the method: from symmetry functions to energies, forces and stress.

``scaling`` (n2p2's scaling of G) -> ``activations`` and ``network`` (element
networks, hand-written backprop) -> ``potential`` (E = sum_i E_i, forces and
stress by the chain rule) -> ``calculator`` (the thin ASE adapter).
"""
