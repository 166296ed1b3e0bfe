"""Step 3 of the method: fitting the element networks to reference data.

``preprocessing`` (scaling statistics, element energies, default symmetry
functions) -> ``loss`` (loss and its hand-written gradient) -> ``optimizers``
(Adam, L-BFGS, Kalman filter) -> ``trainer`` (the loop).
"""
