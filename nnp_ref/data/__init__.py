"""Reference data: structures with energies and forces, where they come from,
where they are kept and how they are split.

``datasets`` (reading, checking, splitting; EMT/LJ generation), ``clusters``
(sample cheap: molecular clusters by a cheap model), ``labellers`` and
``pyscf_labeller`` (label expensive: any ASE calculator, PySCF HF/DFT),
``database`` (labels in an ASE SQLite database, resumable), ``executors``
(serial, process pool, Dask), ``make_water_clusters`` (the recipe of the shipped
data set in ``files/``).
"""
