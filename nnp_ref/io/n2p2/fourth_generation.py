r"""n2p2 files of a fourth-generation potential (``nnp_generation 4``) <-> nnp_ref.

I/O only, no science (the model is ``nnp_ref.model.fourth_generation``).
Besides input.nn, scaling.data and the short-range weights
``weights.ZZZ.data`` (one extra input neuron, the charge), a 4G potential
has per element (ZZZ = atomic number):

- ``weightse.ZZZ.data``: the electronegativity network, topology from
  ``global_hidden_layers_electrostatic``, ``global_nodes_electrostatic``,
  ``global_activation_electrostatic`` (same layout as weights files);
- ``hardness.ZZZ.data``: one number, the atomic hardness J (energy/charge^2);

and the keywords ``fixed_gausswidth <element> <sigma>`` (length),
``screen_electrostatics <r_in> <r_out>`` (length),
``ewald_truncation_error_method <0|1>`` (default 0),
``ewald_prec <p> [<q_max> [<r_cut>]]`` and ``four_pi_epsilon`` (default 1).
Units are converted here: lengths x ``length_unit`` (Å), energies x
``energy_unit`` (eV), the Kolafa-Perram precision (a force) x
energy_unit/length_unit, k_e = energy_unit length_unit / four_pi_epsilon.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from nnp_ref.io.n2p2.input_nn import read_input_nn, write_input_nn
from nnp_ref.io.n2p2.lines import N2p2FormatError
from nnp_ref.io.n2p2.scaling_data import read_scaling, write_scaling
from nnp_ref.io.n2p2.symmetry_function_lines import convert_length
from nnp_ref.io.n2p2.weights import n_parameters, read_weights, weights_filename, write_weights


def _keyword(settings, name, required=True):
    """(line, value) of a 4G keyword; a missing required one names input.nn."""
    entries = settings.keywords.get(name, [])
    if not entries:
        if required:
            raise N2p2FormatError(settings.path, None, f"4G potential: missing keyword {name!r}")
        return None, None
    return entries[0]


def _floats(settings, name, line, value, n_min, n_max):
    words = value.split()
    if not n_min <= len(words) <= n_max:
        raise N2p2FormatError(
            settings.path, line, f"{name} takes {n_min}-{n_max} numbers, got {value!r}"
        )
    try:
        return [float(w) for w in words]
    except ValueError:
        raise N2p2FormatError(
            settings.path, line, f"{name}: expected numbers, got {value!r}"
        ) from None


def electrostatic_topology(settings):
    """{element: (hidden nodes, activations)} of the electronegativity networks."""
    line, value = _keyword(settings, "global_hidden_layers_electrostatic")
    n_hidden = int(value.split()[0])
    line_nodes, nodes = _keyword(settings, "global_nodes_electrostatic")
    nodes = tuple(int(w) for w in nodes.split())
    line_act, acts = _keyword(settings, "global_activation_electrostatic")
    acts = tuple(acts.split())
    if len(nodes) != n_hidden:
        raise N2p2FormatError(
            settings.path,
            line_nodes,
            f"global_nodes_electrostatic: expected {n_hidden} numbers, got {len(nodes)}",
        )
    if len(acts) != n_hidden + 1:
        raise N2p2FormatError(
            settings.path,
            line_act,
            f"global_activation_electrostatic: expected {n_hidden + 1} codes, got {len(acts)}",
        )
    for key in (
        "element_hidden_layers_electrostatic",
        "element_nodes_electrostatic",
        "element_activation_electrostatic",
    ):
        if settings.keywords.get(key):
            raise N2p2FormatError(
                settings.path,
                settings.keywords[key][0][0],
                f"{key} is not supported (use the global_* keywords)",
            )
    return nodes, acts


def read_hardness(path) -> float:
    """The single number of ``hardness.ZZZ.data`` (first column of the first data line)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise N2p2FormatError(path, None, "4G potential: hardness file missing")
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, text in enumerate(f, 1):
            words = text.split()
            if words and not words[0].startswith("#"):
                try:
                    return float(words[0])
                except ValueError:
                    raise N2p2FormatError(
                        path, lineno, f"expected the hardness, got {words[0]!r}"
                    ) from None
    raise N2p2FormatError(path, None, "no hardness value in file")


def _read_scaling_4g(path, n_elements, n_functions):
    """read_scaling, accepting RuNNer's closing 'E_min E_max' line of 4G scaling files.

    n2p2 reads the per-function columns and ignores a last line with two
    numbers (RuNNer writes the energy range there); so does this reader.
    """
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    data = [
        k for k, text in enumerate(lines) if text.split() and not text.split()[0].startswith("#")
    ]
    if not data or len(lines[data[-1]].split()) != 2:
        return read_scaling(path, n_elements, n_functions)
    lines[data[-1]] = "# " + lines[data[-1]]  # the energy range, unused
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        with open(copy, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        try:
            return read_scaling(copy, n_elements, n_functions)
        except N2p2FormatError as err:
            raise N2p2FormatError(path, err.line, str(err).split(": ", 1)[1]) from None


def _require(path):
    if not os.path.exists(path):
        raise N2p2FormatError(path, None, "4G potential: file missing")
    return path


def read_potential_4g(
    directory, length_unit: float = 1.0, energy_unit: float = 1.0, zero_short_range: bool = False
):
    """A 4G n2p2 directory as a :class:`~nnp_ref.model.fourth_generation.FourthGenerationPotential`.

    ``zero_short_range``: do not read ``weights.ZZZ.data``, use short-range
    networks of the input.nn topology with all parameters zero (E_short = 0),
    to look at the electrostatic part alone.
    """
    from nnp_ref.model.fourth_generation import FourthGenerationPotential

    directory = os.fspath(directory)
    s = read_input_nn(_require(os.path.join(directory, "input.nn")))
    _check_4g_settings(s)
    elements = s.elements
    n_s = {e: len(s.symmetry_functions[e]) for e in elements}
    stats = _read_scaling_4g(
        _require(os.path.join(directory, "scaling.data")), len(elements), [n_s[e] for e in elements]
    )
    topology_e = electrostatic_topology(s)
    widths = _gauss_widths(s, length_unit)
    line, value = _keyword(s, "screen_electrostatics")
    r_in, r_out = (x * length_unit for x in _floats(s, "screen_electrostatics", line, value, 2, 2))
    k_e = _coulomb_constant(s, length_unit, energy_unit)
    ewald = _ewald_settings(s, length_unit, energy_unit, k_e)
    parts = [
        _element_parts(
            s, directory, e, stats[i + 1], topology_e, length_unit, energy_unit, zero_short_range
        )  # fmt: skip
        for i, e in enumerate(elements)
    ]
    sf_sets, scalings, chi_nets, short_nets, hardness, offsets = (
        {e: part[k] for e, part in zip(elements, parts, strict=True)} for k in range(6)
    )
    return FourthGenerationPotential(
        elements,
        sf_sets,
        scalings,
        chi_nets,
        short_nets,
        hardness,
        widths,
        offsets,
        screening=(r_in, r_out),
        ewald=ewald,
        energy_scale=energy_unit / s.conv_energy,
        chi_scale=energy_unit,
        k_e=k_e,
        metadata={
            "source": os.path.abspath(directory),
            "format": "n2p2",
            "length_unit": length_unit,
            "energy_unit": energy_unit,
            "settings": s,
        },
    )


def _check_4g_settings(s) -> None:
    """input.nn of a 4G potential: ``nnp_generation 4`` and no data-set normalisation."""
    if s.nnp_type != 4:
        raise N2p2FormatError(
            s.path, None, f"nnp_generation {s.nnp_type}, expected 4 for a 4G potential"
        )
    if s.normalize:
        raise N2p2FormatError(
            s.path, None, "4G potential with data-set normalisation is not supported"
        )


def _gauss_widths(s, length_unit: float) -> dict:
    """{element: sigma} from the ``fixed_gausswidth <element> <width>`` lines, in Å."""
    widths = {}
    for line, value in s.keywords.get("fixed_gausswidth", []):
        words = value.split()
        if len(words) != 2 or words[0] not in s.elements:
            raise N2p2FormatError(
                s.path, line, f"expected 'fixed_gausswidth <element> <width>', got {value!r}"
            )
        widths[words[0]] = float(words[1]) * length_unit
    for e in s.elements:
        if e not in widths:
            raise N2p2FormatError(
                s.path, None, f"4G potential: no fixed_gausswidth for element {e}"
            )
    return widths


def _coulomb_constant(s, length_unit: float, energy_unit: float) -> float:
    """k_e = energy_unit length_unit / four_pi_epsilon (eV Å / e^2; default 4 pi eps = 1)."""
    four_pi_eps = 1.0
    line, value = _keyword(s, "four_pi_epsilon", required=False)
    if value is not None:
        four_pi_eps = _floats(s, "four_pi_epsilon", line, value, 1, 1)[0]
    return energy_unit * length_unit / four_pi_eps


def _ewald_settings(s, length_unit: float, energy_unit: float, k_e: float):
    """:class:`EwaldSettings` from ``ewald_prec`` and ``ewald_truncation_error_method``, or None."""
    from nnp_ref.electrostatics.ewald import EwaldSettings

    method = 0
    line, value = _keyword(s, "ewald_truncation_error_method", required=False)
    if value is not None:
        method = int(value.split()[0])
    line, value = _keyword(s, "ewald_prec", required=False)
    if value is None:
        return None
    p = _floats(s, "ewald_prec", line, value, 1, 3)
    if method == 0 and len(p) != 1:
        raise N2p2FormatError(
            s.path, line, "ewald_prec takes one number with ewald_truncation_error_method 0"
        )
    if method == 1 and len(p) < 2:
        raise N2p2FormatError(
            s.path,
            line,
            "ewald_prec needs '<precision> <max charge>' with ewald_truncation_error_method 1",
        )
    try:
        return EwaldSettings(
            method=method,
            precision=p[0] * (energy_unit / length_unit if method == 1 else 1.0),
            max_charge=p[1] if len(p) > 1 else 0.0,
            r_cut=p[2] * length_unit if len(p) > 2 else None,
            k_e=k_e,
        )
    except ValueError as err:
        raise N2p2FormatError(s.path, line, str(err)) from None


def _element_parts(s, directory, e, st, topology_e, length_unit, energy_unit, zero_short_range):
    """Element e's (symmetry functions, scaling, chi network, short network, J, E0), converted."""
    from nnp_ref.model.network import from_flat
    from nnp_ref.model.scaling import Scaling

    nodes_e, acts_e = topology_e
    n_s = len(s.symmetry_functions[e])
    sf_set = [convert_length(sf, length_unit) for sf in s.symmetry_functions[e]]
    scaling = Scaling(
        s.scaling_mode,
        st.G_min,
        st.G_max,
        st.G_mean,
        st.G_sigma,
        s.scale_min_short,
        s.scale_max_short,
    )
    sizes_e = (n_s, *nodes_e, 1)
    path_e = _require(os.path.join(directory, weights_filename(e, "weightse.{:03d}.data")))
    chi_net = from_flat(
        sizes_e, read_weights(path_e, n_parameters(sizes_e)), acts_e, s.normalize_nodes
    )
    if zero_short_range:
        flat = np.zeros(s.n_parameters(e))
    else:
        flat = read_weights(
            _require(os.path.join(directory, weights_filename(e))), s.n_parameters(e)
        )
    short_net = from_flat(s.layer_sizes(e), flat, s.activations[e], s.normalize_nodes)
    hardness = (
        read_hardness(os.path.join(directory, weights_filename(e, "hardness.{:03d}.data")))
        * energy_unit
    )
    return sf_set, scaling, chi_net, short_net, hardness, s.energy_offset(e) * energy_unit


def write_potential_4g(pot, directory, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Write a 4G potential read by :func:`read_potential_4g` (possibly retrained).

    input.nn is written from the settings it was read with (every keyword,
    ``write_input_nn``); scaling.data, ``weights.ZZZ.data``,
    ``weightse.ZZZ.data`` and ``hardness.ZZZ.data`` from the potential's
    current parameters, in the files' units. Reading the directory back
    gives the same potential.
    """
    from nnp_ref.model.network import layer_sizes, to_flat

    settings = pot.metadata.get("settings")
    if settings is None:
        raise ValueError(
            "write_potential_4g: the potential was not read from n2p2 files (no settings)"
        )
    os.makedirs(directory, exist_ok=True)
    write_input_nn(settings, os.path.join(directory, "input.nn"), other_keywords=True)
    stats = {}
    for i, e in enumerate(settings.elements):
        sc = pot.scalings[e]
        stats[i + 1] = (sc.G_min, sc.G_max, sc.G_mean, sc.G_sigma)
    write_scaling(os.path.join(directory, "scaling.data"), stats)
    for e in settings.elements:
        for fmt, net in (("weights.{:03d}.data", pot.short_networks[e]),
                         ("weightse.{:03d}.data", pot.electronegativity_networks[e])):  # fmt: skip
            write_weights(
                os.path.join(directory, weights_filename(e, fmt)), to_flat(net), layer_sizes(net)
            )
        with open(os.path.join(directory, weights_filename(e, "hardness.{:03d}.data")), "w") as f:
            f.write(f"{pot.hardness[e] / energy_unit!r}\n")
