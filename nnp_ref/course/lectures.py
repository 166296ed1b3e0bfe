r"""Lecture figures: one function per idea of the method, each returning a matplotlib Figure.

Every figure is computed by nnp_ref's own code (nothing is redrawn from
formulas; the architecture diagram is drawn, with the real symmetry
functions of its molecule), in seconds, so a lecturer can regenerate it live:

==========================  ================================================
``nnp-ref lecture NAME``    figure
==========================  ================================================
``architecture``            the HDNNP: atoms -> G -> element networks -> E_i -> sum
``cutoff``                  n2p2's cutoff functions f_c(r) and f_c'(r)
``symmetry-functions``      radial shells and angular factors of the default set
``environments``            G of a bulk, a surface and a vacancy-neighbour atom
``backprop``                hand-written backprop against finite differences
``forces``                  forces and stress against finite differences
``energy-conservation``     NVE with a small trained NNP: E_tot error ~ dt^2
``learning-curve``          Adam against the Kalman filter on EMT copper
``aimd-cost``               seconds per MD step, DFT (PySCF, live) against the NNP
``four-generations``        4G charges along the neutral and the protonated chain
==========================  ================================================

From Python: ``from nnp_ref.course.lectures import LECTURES; fig = LECTURES["cutoff"].make()``
or call the functions (``cutoff_functions()``, ...) directly. Figures are
built without pyplot (``matplotlib.figure.Figure``), so they work with any
backend and are shown in a notebook by evaluating them.

The figures live by topic in ``lectures_shapes`` (descriptors),
``lectures_derivatives`` (derivative checks) and ``lectures_dynamics`` (a
trained potential); this module is their registry, and every name is
importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from matplotlib.figure import Figure

from nnp_ref.course.diagrams import hdnnp_architecture
from nnp_ref.course.lectures_derivatives import (
    backprop_check,
    forces_check,
    random_copper_potential,
)
from nnp_ref.course.lectures_dynamics import energy_conservation_figure, learning_curve
from nnp_ref.course.lectures_shapes import (
    cutoff_functions,
    environment_atoms,
    environments,
    radial_shapes,
    symmetry_function_shapes,
)

# ---------------------------------------------------------------------------
# Registry for ``nnp-ref lecture NAME``
# ---------------------------------------------------------------------------


def four_generations() -> Figure:
    """Charges along the neutral and the protonated carbon chain (4G charge equilibration).

    Needs n2p2's Carbon_chain_4G_train data (``../shared/n2p2`` or ``NNP_REF_N2P2_DIR``);
    the figure itself is :func:`nnp_ref.course.four_generations.charges_along_chain`.
    """
    from nnp_ref.course.four_generations import charges_along_chain

    return charges_along_chain()


def aimd_cost() -> Figure:
    """The cost of ab initio MD against an NNP for (H2O)_n, measured live on this machine.

    PySCF (PBE/def2-SVP) is timed for the smallest clusters and extrapolated by a
    fitted power law (marked); :func:`nnp_ref.course.aimd_cost.lecture_figure`.
    """
    from nnp_ref.course.aimd_cost import lecture_figure

    return lecture_figure()


@dataclass(frozen=True)
class Lecture:
    name: str
    make: Callable[[], Figure]
    description: str


LECTURES = {
    lecture.name: lecture
    for lecture in (
        Lecture(
            "architecture",
            hdnnp_architecture,
            "the HDNNP: atoms -> symmetry functions -> element networks -> E_i -> sum",
        ),
        Lecture("cutoff", cutoff_functions, "cutoff functions f_c(r) and their derivatives"),
        Lecture(
            "symmetry-functions",
            symmetry_function_shapes,
            "radial shells and angular factors of the symmetry functions",
        ),
        Lecture(
            "environments",
            environments,
            "symmetry functions of a bulk, a surface and a vacancy-neighbour atom",
        ),
        Lecture(
            "backprop", backprop_check, "hand-written backpropagation against finite differences"
        ),
        Lecture("forces", forces_check, "forces and stress against finite differences"),
        Lecture(
            "energy-conservation",
            energy_conservation_figure,
            "NVE energy conservation of a trained NNP against the time step",
        ),
        Lecture(
            "learning-curve",
            learning_curve,
            "learning curves of Adam and the Kalman filter on EMT copper",
        ),
        Lecture(
            "aimd-cost",
            aimd_cost,
            "seconds per MD step of DFT (PySCF) and of the NNP for (H2O)_n; days per ps",
        ),
        Lecture(
            "four-generations",
            four_generations,
            "charges along the neutral and the protonated carbon chain (4G charge equilibration)",
        ),
    )
}


def make_figure(name: str) -> Figure:
    """The figure of lecture ``name`` (``ValueError`` listing the names if unknown)."""
    if name not in LECTURES:
        raise ValueError(f"unknown lecture {name!r}; choose one of: {', '.join(LECTURES)}")
    return LECTURES[name].make()


__all__ = [
    "LECTURES",
    "Lecture",
    "backprop_check",
    "cutoff_functions",
    "energy_conservation_figure",
    "environment_atoms",
    "environments",
    "forces_check",
    "hdnnp_architecture",
    "learning_curve",
    "make_figure",
    "radial_shapes",
    "random_copper_potential",
    "symmetry_function_shapes",
]
