"""Look at structures in a notebook: interactive (weas-widget) or a static picture.

:func:`view_structure` shows an ``ase.Atoms`` with every atom coloured by a
per-atom value (a force error, a committee disagreement, an extrapolation
count). In a Jupyter front end with ``weas-widget`` installed it returns
the interactive 3-D viewer (rotate, zoom, click an atom for its value);
otherwise, or when the environment variable ``NNP_REF_STATIC_VIEW`` is set
(the test suite sets it: notebooks then run headless), a matplotlib figure
drawn with ``ase.visualize.plot.plot_atoms``, the same colours and a colour bar.
"""

from __future__ import annotations

import os

import numpy as np
from ase import Atoms
from matplotlib.figure import Figure


def interactive_available() -> bool:
    """True if weas-widget is importable and NNP_REF_STATIC_VIEW is not set."""
    if os.environ.get("NNP_REF_STATIC_VIEW"):
        return False
    try:
        import weas_widget  # noqa: F401
    except ImportError:
        return False
    return True


def _colours(values_n, cmap="viridis", vmin=None, vmax=None):
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    norm = Normalize(
        np.min(values_n) if vmin is None else vmin, np.max(values_n) if vmax is None else vmax
    )
    return colormaps[cmap](norm(values_n)), norm


def static_view(
    atoms: Atoms, values_n=None, name: str = "value", rotation: str = "10x,-10y", cmap="viridis"
) -> Figure:
    """A picture of ``atoms`` (``ase.visualize.plot.plot_atoms``), coloured by ``values_n``."""
    from ase.visualize.plot import plot_atoms

    fig = Figure(figsize=(5.5, 4.5))
    ax = fig.subplots()
    kwargs = {"rotation": rotation, "radii": 0.5}
    if values_n is not None:
        values_n = np.asarray(values_n, dtype=float)
        if values_n.shape != (len(atoms),):
            raise ValueError(f"view: {values_n.shape} values for {len(atoms)} atoms")
        colours, norm = _colours(values_n, cmap)
        kwargs["colors"] = [tuple(c) for c in colours]
        from matplotlib.cm import ScalarMappable

        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=name)
    plot_atoms(atoms, ax, **kwargs)
    ax.set_axis_off()
    ax.set_title(f"{atoms.get_chemical_formula()}, {len(atoms)} atoms", fontsize="medium")
    return fig


def view_structure(atoms: Atoms, values_n=None, name: str = "value", interactive=None):
    """Interactive viewer (weas-widget) or :func:`static_view`; see the module docstring.

    ``interactive``: True/False to force one; None chooses by :func:`interactive_available`.
    """
    if interactive is None:
        interactive = interactive_available()
    if not interactive:
        return static_view(atoms, values_n, name)
    from weas_widget import WeasWidget

    shown = atoms.copy()
    shown.calc = None
    viewer = WeasWidget()
    if values_n is not None:
        key = name.replace(" ", "_")
        shown.set_array(key, np.asarray(values_n, dtype=float))
        viewer.from_ase(shown)
        viewer.avr.color_by = key
    else:
        viewer.from_ase(shown)
    viewer.avr.model_style = 1  # ball and stick
    return viewer


__all__ = ["interactive_available", "static_view", "view_structure"]
