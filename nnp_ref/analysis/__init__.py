"""Looking at results: errors against reference data (``errors``), structural
and dynamical observables (``observables``) and figures (``plots``)."""
