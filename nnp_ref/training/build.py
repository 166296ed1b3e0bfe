"""A new potential from data: symmetry functions, scaling, energy offsets, random networks."""

from __future__ import annotations

import numpy as np

from nnp_ref.data.datasets import check_dataset, elements_of
from nnp_ref.descriptors.symmetry_functions import SymmetryFunctionSet
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential
from nnp_ref.training.preprocessing import (
    compute_descriptors,
    default_symmetry_functions,
    energy_force_units,
    fit_element_energies,
    scaling_from_descriptors,
)
from nnp_ref.training.store import open_store
from nnp_ref.training.streamed_scaling import scaling_from_store


def build_potential(
    structures,
    elements=None,
    symmetry_functions=None,
    hidden=(25, 25),
    activations=None,
    scaling_mode: str = "scalecenter",
    init: str = "glorot",
    seed=0,
    energy_offsets=None,
    energy_scale=None,
    descriptors=None,
    rc: float = 6.0,
    progress: bool = True,
    store_dir=None,
    **sf_options,
):
    """A fresh potential for ``structures`` (the training set); returns (potential, descriptors).

    - ``elements``: default all elements of the data, by atomic number.
    - ``symmetry_functions``: {element: [SymmetryFunction, ...]}; default
      :func:`~nnp_ref.training.preprocessing.default_symmetry_functions` with cutoff
      ``rc`` (Å) and ``sf_options``.
    - scaling from the training-set statistics (``scaling_mode``, n2p2's
      modes; default "scalecenter": (G - mean)/(max - min)).
    - ``energy_offsets``: E0 per element (eV); default the least-squares fit
      on composition. ``energy_scale`` (eV per network output): default
      u_E, the spread of the per-atom remainder.
    - networks ``hidden`` neurons, ``activations`` (default tanh hidden,
      linear output), ``init`` ("glorot" as n2p2's default, or
      "nguyen-widrow"), seeded from ``np.random.default_rng(seed)``.

    The descriptors are returned so that the trainer need not compute
    them again. With ``store_dir`` they go to the on-disk descriptor store
    there (``training.store``; reused while data and symmetry functions are
    unchanged) instead of memory, the scaling statistics are streamed from
    it in one pass (``training.streamed_scaling``: the in-memory numbers to
    rounding), and the store's ``StoredStructures`` is returned in their
    place.
    """
    check_dataset(structures, elements, need_energy=True, need_forces=False, what="training set")
    elements = tuple(elements) if elements is not None else elements_of(structures)
    sets = symmetry_functions or default_symmetry_functions(elements, rc=rc, **sf_options)
    sfset = SymmetryFunctionSet(sets, elements)
    if store_dir is not None and descriptors is None:  # streamed: memory of one chunk
        descriptors = open_store(store_dir, list(structures), sfset, "training", progress)
        scalings = scaling_from_store(descriptors, elements, sfset.n_s_e, mode=scaling_mode)
    else:
        if descriptors is None:
            descriptors = compute_descriptors(structures, sfset, progress=progress)
        scalings = scaling_from_descriptors(descriptors, elements, mode=scaling_mode)
    offsets = dict(energy_offsets) if energy_offsets else fit_element_energies(structures, elements)
    u_E, _ = energy_force_units(structures, offsets)
    hidden = tuple(hidden)
    activations = tuple(activations) if activations else ("t",) * len(hidden) + ("l",)
    rng = np.random.default_rng(seed)
    networks = {
        e: nn.make_network(len(sets[e]), hidden, activations, init=init,
                           seed=int(rng.integers(2**63)))
        for e in elements
    }  # fmt: skip
    return Potential(
        elements,
        sets,
        networks,
        scalings=scalings,
        energy_offsets=offsets,
        energy_scale=float(energy_scale) if energy_scale else u_E,
        metadata={"created_by": "nnp_ref.training.trainer.build_potential"},
    ), descriptors
