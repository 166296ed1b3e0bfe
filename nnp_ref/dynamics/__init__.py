"""Step 4: using a potential: molecular dynamics (``md``)."""
