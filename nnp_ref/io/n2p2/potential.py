r"""A whole n2p2 potential directory <-> :class:`nnp_ref.model.potential.Potential`.

The files hold input.nn, scaling.data and one ``weights.ZZZ.data`` per
element, in the file's units. The unit algebra (n2p2's
``Prediction::predict``, ``Mode::physicalEnergy``, ``Mode::addEnergyOffset``):
with network outputs y_i (internal units),

    E = sum_i [ y_i / conv_energy + mean_energy + atom_energy(Z_i) ]

in the file's energy unit (conv_energy = 1, mean_energy = 0 without
normalisation; atom_energy = 0 for elements without the keyword). In eV,
with the file's units ``energy_unit`` (eV) and ``length_unit`` (Å):

    energy_scale  = energy_unit / conv_energy              (eV per output)
    E0(e)         = (mean_energy + atom_energy(e)) energy_unit

Symmetry functions are invariant under a change of length unit when their
parameters change with it (:func:`convert_length` by ``length_unit``), so
conv_length only changes the units the network sees for forces, never G.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np

from nnp_ref.io.n2p2.input_nn import N2p2Settings, read_input_nn, write_input_nn
from nnp_ref.io.n2p2.lines import sort_elements
from nnp_ref.io.n2p2.scaling_data import ScalingStatistics, read_scaling, write_scaling
from nnp_ref.io.n2p2.symmetry_function_lines import convert_length, sort_order
from nnp_ref.io.n2p2.weights import read_weights, weights_filename, write_weights


@dataclass
class N2p2Files:
    """Contents of an n2p2 potential directory, all in file units.

    ``scaling[e]`` and ``weights[e]`` are keyed by element symbol;
    ``scaling`` is None when the settings use no scaling and no file exists.
    ``weights`` are the short-range networks (4G: ``weights.ZZZ.data`` too).
    """

    settings: N2p2Settings
    scaling: dict[str, ScalingStatistics] | None
    weights: dict[str, np.ndarray]
    directory: str = ""


def read_n2p2_files(
    directory,
    input_nn: str = "input.nn",
    scaling: str = "scaling.data",
    weights: str = "weights.{:03d}.data",
) -> N2p2Files:
    """Read input.nn, scaling.data and the weight files; counts are checked."""
    directory = os.fspath(directory)
    settings = read_input_nn(os.path.join(directory, input_nn))
    elements = settings.elements
    scaling_path = os.path.join(directory, scaling)
    stats = None
    if settings.scaling_mode != "none" or os.path.exists(scaling_path):
        n_functions = [len(settings.symmetry_functions[e]) for e in elements]
        by_index = read_scaling(
            scaling_path, len(elements), n_functions, settings.scaling_mode == "scalesigma"
        )
        stats = {e: by_index[i + 1] for i, e in enumerate(elements)}
    flat = {
        e: read_weights(
            os.path.join(directory, weights_filename(e, weights)), settings.n_parameters(e)
        )
        for e in elements
    }
    return N2p2Files(settings=settings, scaling=stats, weights=flat, directory=directory)


@dataclass
class PotentialParts:
    """The pieces of a Potential read from n2p2 files, in eV and Å.

    ``networks[e]``: the short-range network (4G: with the charge input).
    """

    sf_sets: dict
    scalings: dict
    networks: dict
    energy_offsets: dict[str, float]
    energy_scale: float


def potential_parts(files: N2p2Files, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Symmetry functions, scalings, short networks and energy terms in eV/Å (any nnp_type)."""
    from nnp_ref.model.network import from_flat
    from nnp_ref.model.scaling import Scaling

    s = files.settings
    parts = PotentialParts({}, {}, {}, {}, energy_unit / s.conv_energy)
    for e in s.elements:
        parts.sf_sets[e] = [convert_length(sf, length_unit) for sf in s.symmetry_functions[e]]
        if files.scaling is None:
            parts.scalings[e] = Scaling.identity(len(parts.sf_sets[e]))
        else:
            st = files.scaling[e]
            parts.scalings[e] = Scaling(
                s.scaling_mode, st.G_min, st.G_max, st.G_mean, st.G_sigma,
                s.scale_min_short, s.scale_max_short,
            )  # fmt: skip
        parts.networks[e] = from_flat(
            s.layer_sizes(e), files.weights[e], s.activations[e], s.normalize_nodes
        )
        parts.energy_offsets[e] = s.energy_offset(e) * energy_unit
    return parts


def read_potential(directory, length_unit: float = 1.0, energy_unit: float = 1.0):
    """An n2p2 potential directory as an :class:`nnp_ref.model.potential.Potential` (eV, Å).

    ``length_unit``/``energy_unit``: the files' units in Å and eV (e.g.
    ``ase.units.Bohr``, ``ase.units.Hartree``). The network input order is
    n2p2's sorted order, and E_i = y_i energy_unit/conv_energy +
    (mean_energy + atom_energy_i) energy_unit (see the module docstring).
    """
    from nnp_ref.model.potential import Potential

    if read_input_nn(os.path.join(os.fspath(directory), "input.nn")).nnp_type == 4:
        from nnp_ref.io.n2p2.fourth_generation import read_potential_4g

        return read_potential_4g(directory, length_unit, energy_unit)
    files = read_n2p2_files(directory)
    s = files.settings
    if s.nnp_type != 2:  # dispatch point for other generations
        raise ValueError(
            f"{s.path}: nnp_type {s.nnp_type} (4G/Q-HDNNP) is not supported; "
            "nnp_ref implements second-generation (short-range) HDNNPs"
        )
    parts = potential_parts(files, length_unit, energy_unit)
    return Potential(
        s.elements,
        parts.sf_sets,
        parts.networks,
        scalings=parts.scalings,
        energy_offsets=parts.energy_offsets,
        energy_scale=parts.energy_scale,
        metadata={
            "source": os.path.abspath(os.fspath(directory)),
            "format": "n2p2",
            "length_unit": length_unit,
            "energy_unit": energy_unit,
        },
    )


_SCALING_FLAGS = {
    "none": (False, False, False),
    "scale": (True, False, False),
    "center": (False, True, False),
    "scalecenter": (True, True, False),
    "scalesigma": (False, False, True),
}


def _one_of(values: set, what: str):
    """The single element of ``values``; ValueError naming ``what`` otherwise."""
    if len(values) > 1:
        raise ValueError(f"n2p2 needs {what}, got {sorted(values, key=repr)}")
    return values.pop()


def _global_choices(potential, elements) -> dict:
    """What n2p2 stores once for all elements: cutoff, topology, scaling mode and range."""
    all_sfs = [sf for e in elements for sf in potential.symmetry_functions[e]]
    cutoffs = {(sf.cutoff_type, sf.alpha) for sf in all_sfs if sf.type < 20}
    cutoff = _one_of(cutoffs, "one cutoff type for all functions") if cutoffs else (1, 0.0)
    from nnp_ref.model.network import layer_sizes

    nets = [potential.networks[e] for e in elements]
    hidden, activations = _one_of(
        {(layer_sizes(n)[1:-1], n.activations) for n in nets},
        "one global network topology (write_potential writes one; the elements' networks differ)",
    )
    return {
        "cutoff": cutoff,
        "hidden": tuple(hidden),
        "activations": tuple(activations),
        "normalize_nodes": _one_of({n.normalize for n in nets}, "one normalize_nodes"),
        "mode": _one_of({potential.scalings[e].mode for e in elements}, "one scaling mode"),
        "limits": _one_of(
            {(potential.scalings[e].s_min, potential.scalings[e].s_max) for e in elements},
            "one [s_min, s_max] for all elements",
        ),
    }


def _sorted_element(potential, e, length_unit):
    """(functions, (min, max, mean, sigma), flat weights) of element e in n2p2's order."""
    from nnp_ref.model.network import to_flat

    file_sfs = [convert_length(sf, 1.0 / length_unit) for sf in potential.symmetry_functions[e]]
    order = sort_order(file_sfs)
    sc = potential.scalings[e]
    stats = tuple(np.asarray(a)[order] for a in (sc.G_min, sc.G_max, sc.G_mean, sc.G_sigma))
    net = potential.networks[e]
    W0 = net.weights[0][order]  # input rows follow the sorted functions
    flat = to_flat(dataclasses.replace(net, weights=[W0, *net.weights[1:]]))
    return [file_sfs[k] for k in order], stats, flat


def write_potential(potential, directory, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Write a potential as n2p2 files (``input.nn``, ``scaling.data``, ``weights.ZZZ.data``).

    Lengths and energies are written in ``length_unit`` Å and ``energy_unit``
    eV. Each element's functions are written, and the network's input rows
    and scaling statistics permuted, in n2p2's sorted order, so n2p2 and
    LAMMPS (``pair_style hdnnp``) read the files as they are. The energy
    scale becomes conv_energy (with mean_energy = 0, conv_length = 1) and
    the per-element offsets become ``atom_energy``.
    """
    if hasattr(potential, "electronegativity_networks"):  # 4G-HDNNP
        from nnp_ref.io.n2p2.fourth_generation import write_potential_4g

        return write_potential_4g(potential, directory, length_unit, energy_unit)
    os.makedirs(directory, exist_ok=True)
    elements = sort_elements(potential.elements)
    g = _global_choices(potential, elements)
    per_element = {e: _sorted_element(potential, e, length_unit) for e in elements}
    conv_energy = energy_unit / potential.energy_scale
    scale, center, sigma = _SCALING_FLAGS[g["mode"]]
    settings = N2p2Settings(
        elements=elements,
        symmetry_functions={e: per_element[e][0] for e in elements},
        symmetry_function_lines={e: [0] * len(per_element[e][0]) for e in elements},
        hidden_nodes={e: g["hidden"] for e in elements},
        activations={e: g["activations"] for e in elements},
        number_of_elements=len(elements),
        elements_as_written=elements,
        atom_energy={e: potential.energy_offsets[e] / energy_unit for e in elements},
        cutoff_type=int(g["cutoff"][0]),
        cutoff_alpha=float(g["cutoff"][1]),
        scale_symmetry_functions=scale,
        center_symmetry_functions=center,
        scale_symmetry_functions_sigma=sigma,
        scaling_mode=g["mode"],
        scale_min_short=float(g["limits"][0]),
        scale_max_short=float(g["limits"][1]),
        global_hidden_layers_short=len(g["hidden"]),
        global_nodes_short=g["hidden"],
        global_activation_short=g["activations"],
        normalize_nodes=g["normalize_nodes"],
        normalize=conv_energy != 1.0,
        mean_energy=0.0,
        conv_energy=conv_energy,
        conv_length=1.0,
    )
    write_input_nn(settings, os.path.join(directory, "input.nn"), other_keywords=False)
    write_scaling(  # n2p2 reads scaling.data even when it does not scale
        os.path.join(directory, "scaling.data"),
        {k + 1: per_element[e][1] for k, e in enumerate(elements)},
    )
    for e in elements:
        sizes = (len(per_element[e][0]), *g["hidden"], 1)
        write_weights(os.path.join(directory, weights_filename(e)), per_element[e][2], sizes)
