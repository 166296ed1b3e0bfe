"""Extrapolation: a symmetry function outside the range [G_min, G_max] seen in training.

An HDNNP only interpolates; a raw G outside its scaling range means the
structure is unlike the training data (J. Behler, Int. J. Quantum Chem. 115,
1032 (2015); n2p2 counts these as "extrapolation warnings").
:func:`~nnp_ref.model.potential.evaluate` records every such value as
(atom, function, G, G_min, G_max) and, by its ``extrapolation`` mode, warns,
raises or stays silent; the pieces live here and are re-exported by
``nnp_ref.model.potential``.
"""

from __future__ import annotations

import warnings

import numpy as np


class ExtrapolationError(ValueError):
    """A symmetry function left the range seen in training (raised on request)."""


class ExtrapolationWarning(UserWarning):
    """A symmetry function left the range seen in training."""


EXTRAPOLATION_MODES = ("warn", "raise", "off", "count", "ignore")


def check_extrapolation_mode(mode: str) -> None:
    """ValueError unless ``mode`` is one of :data:`EXTRAPOLATION_MODES`."""
    if mode not in EXTRAPOLATION_MODES:
        raise ValueError(
            f"extrapolation must be 'warn', 'raise' or 'off' ('count', 'ignore' also "
            f"accepted), got {mode!r}"
        )


#: A value counts as outside [G_min, G_max] only beyond this fraction of the range
#: width: G_min and G_max come from files (n2p2's scaling.data) or other machines,
#: so a training structure's own extreme value can differ from them by rounding
#: (seen: 1.6e-14 range widths on the Ethylbenzene potential's own structure).
EXTRAPOLATION_TOLERANCE = 1e-10


def tolerant_range(scaling):
    """(lo_s, hi_s): [G_min, G_max] widened by the rounding tolerance on each side."""
    G_min, G_max = np.asarray(scaling.G_min), np.asarray(scaling.G_max)
    slack = EXTRAPOLATION_TOLERANCE * np.abs(G_max - G_min)
    return G_min - slack, G_max + slack


def outside_training_range(scaling, G_as):
    """Boolean (a, s): G further outside [G_min, G_max] than the rounding tolerance."""
    lo_s, hi_s = tolerant_range(scaling)
    return (G_as < lo_s) | (G_as > hi_s)


def extrapolation_summary(extrapolations, elements=None, elem_n=None) -> str:
    """One line: how many values on how many atoms, and the worst one.

    The worst value is the one furthest outside its range, measured in units
    of the range width G_max - G_min.
    """
    atoms = {x[0] for x in extrapolations}

    def excess(x):
        _, _, G, lo, hi = x
        return max(lo - G, G - hi) / max(hi - lo, 1e-300)

    atom, s, G, lo, hi = max(extrapolations, key=excess)
    element = f" ({elements[elem_n[atom]]})" if elements is not None else ""
    return (
        f"{len(extrapolations)} symmetry-function value(s) on {len(atoms)} atom(s) outside "
        f"the training range; worst: atom {atom}{element}, function {s}, G = {G:.6g} not in "
        f"[{lo:.6g}, {hi:.6g}] ({excess((atom, s, G, lo, hi)):.3g} range widths outside)"
    )


def report_extrapolations(extrapolations, mode, elements, elem_n):
    """Nothing, one ExtrapolationWarning or an ExtrapolationError, as ``mode`` asks.

    ``elements``: the potential's element symbols; ``elem_n`` every atom's index into them.
    """
    if not extrapolations or mode in ("off", "count", "ignore"):
        return
    message = extrapolation_summary(extrapolations, elements, elem_n)
    if mode == "raise":
        raise ExtrapolationError(message)
    warnings.warn(message, ExtrapolationWarning, stacklevel=3)
