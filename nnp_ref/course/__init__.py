"""Teaching material built on the library: lecture figures (``lectures``)
and the one-command demo (``demo``)."""
