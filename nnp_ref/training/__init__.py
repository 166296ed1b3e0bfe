"""Step 3 of the method: fitting the element networks to reference data.

``preprocessing`` (scaling statistics, element energies, default symmetry
functions) and ``build`` (a new potential) -> ``batch`` (precomputed
structures) -> ``loss`` (energy, force, stress and L2 terms and their
hand-written gradient; ``parameters``, ``stress``, ``jacobians``) ->
``optimizers`` (Adam, L-BFGS, Kalman filter) -> ``steps`` / ``kalman_steps``
(one epoch of updates) -> ``loop`` (epochs, history, best model, stopping;
``problem``, ``state``, ``checkpoint``, ``config``) -> ``trainer`` (the
public facade: ``Trainer``, ``train``, ``build_potential``).

At scale: ``store`` (descriptors on disk, streamed in batches) with
``streamed_scaling`` (scaling statistics in one pass over it), ``parallel``
(data-parallel training over MPI, the same weights for any number of ranks).
Beside: ``committee``, ``fourth_generation``.
"""
