"""Step 2 of the method: from symmetry functions to energies, forces and stress.

``scaling`` (n2p2's scaling of G) -> ``activations``, ``network`` and
``network_derivatives`` (element networks, hand-written backprop) ->
``atomic_energy`` (the one per-element step: scale -> network -> E_i, dE/dG) ->
``potential`` (E = sum_i E_i; ``forces``: forces and stress by the chain rule;
``extrapolation``: values outside the training range) -> ``calculator`` (the thin
ASE adapter). ``fourth_generation``: the 4G-HDNNP (charges by charge
equilibration, electrostatics from :mod:`nnp_ref.electrostatics`);
``committee``: several potentials, their mean and spread.
"""
