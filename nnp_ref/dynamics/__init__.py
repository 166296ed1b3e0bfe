"""Step 4: using a potential: molecular dynamics.

``integrators`` (velocity Verlet, Langevin BAOAB, Bussi: plain-array steps),
``forces`` (array-level force functions with a skin neighbour list), ``md``
(the friendly layer: ``run_md`` with any ASE calculator, records, trajectories).
"""
