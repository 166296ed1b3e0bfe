"""Reference data: structures with energies and forces, where they come from
and how they are split (``datasets``)."""
