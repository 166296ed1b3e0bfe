"""Long-range electrostatics of a 4G-HDNNP: Gaussian charges, Ewald, screening, Qeq.

Ko, Finkler, Goedecker & Behler, Nat. Commun. 12, 398 (2021); conventions of
n2p2 (``src/libnnp/Structure.cpp``, ``Kspace.cpp``, ``EwaldTrunc*.cpp``,
``ScreeningFunction.cpp``). Modules, in the order the method uses them:

- :mod:`~nnp_ref.electrostatics.gaussian`: pair kernels of Gaussian charges
  (erf/r, the Ewald real-space kernel, the screened kernel) and their sums
  over pairs and lattice images (Numba).
- :mod:`~nnp_ref.electrostatics.ewald`: n2p2's Ewald parameters, k vectors,
  reciprocal and self terms for periodic structures.
- :mod:`~nnp_ref.electrostatics.energy`: the matrices C (interaction) and S
  (screening) of one structure, E_elec = 1/2 Q^T (C + S) Q and its derivatives.
- :mod:`~nnp_ref.electrostatics.qeq`: the charge-equilibration linear system.
- :mod:`~nnp_ref.electrostatics.adjoint`: forces through the charge response.

The model that uses them is :mod:`nnp_ref.model.fourth_generation`.
"""
