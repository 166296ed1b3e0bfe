"""Looking at results: errors against reference data (``errors``), broken down by
structure type (``breakdown``), physical properties against the reference
(``properties``), structural and dynamical observables (``observables``) and
figures (``plots``)."""
