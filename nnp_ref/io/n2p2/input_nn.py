"""input.nn: the settings of an n2p2 potential (``Settings.cpp``, ``Mode.cpp``).

:func:`read_input_nn` reads the keyword lines (:mod:`.keywords`), fills
the simple keywords from :data:`~.keywords.SETTINGS_TABLE`, then reads the
structured ones: elements, normalisation, cutoff, symmetry functions
(:mod:`.symmetry_function_lines`) and the network topology (:mod:`.topology`).
All values stay in the file's units. :func:`write_input_nn` writes them back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.io.atomic import atomic_write_text
from nnp_ref.io.n2p2.keywords import (
    CUTOFF_TYPE_CODES,
    KEYWORD_ALIASES,
    NNP_TYPES,
    SETTINGS_TABLE,
    Keywords,
    apply_rule,
    check_duplicates,
    read_keyword_lines,
    values,
    warn_unknown,
)
from nnp_ref.io.n2p2.lines import N2p2FormatError, sort_elements
from nnp_ref.io.n2p2.symmetry_function_lines import (
    format_symfunction,
    parse_symfunction,
    sort_order,
)
from nnp_ref.io.n2p2.topology import read_topology
from nnp_ref.io.n2p2.weights import n_parameters

SCALING_MODES = ("none", "scale", "center", "scalecenter", "scalesigma")


def scaling_mode(scale: bool, center: bool, sigma: bool) -> str:
    """n2p2's scaling mode from the three keyword flags (Mode::setupSymmetryFunctionScaling).

    scale and center -> "scalecenter"; scale only -> "scale"; center only ->
    "center"; otherwise sigma -> "scalesigma" (so sigma is ignored when scale
    or center is present); nothing -> "none".
    """
    if scale and center:
        return "scalecenter"
    if scale:
        return "scale"
    if center:
        return "center"
    if sigma:
        return "scalesigma"
    return "none"


@dataclass
class N2p2Settings:
    """The prediction-relevant content of an n2p2 ``input.nn`` (file units).

    ``elements``: symbols in n2p2's element order (by atomic number), the
    order of ``scaling.data`` element indices. ``symmetry_functions[e]``:
    functions of element e in n2p2's sorted order (= network input order),
    lengths in the file's unit; ``symmetry_function_lines[e]``: 1-based
    input.nn line of each. ``hidden_nodes[e]``/``activations[e]``: the
    short-range network n2p2 builds for e (hidden layer sizes; activation
    codes of the hidden layers and the output layer), see :meth:`layer_sizes`.
    4G-HDNNPs (``nnp_type`` 4) also have ``hidden_nodes_electrostatic``/
    ``activations_electrostatic`` (the charge networks) and the
    electrostatics keywords (``fixed_gausswidth`` {element: width},
    ``screen_electrostatics`` (inner, outer), ``ewald_truncation_error_method``,
    ``ewald_prec``, ``four_pi_epsilon``, ``kspace_solver``; None when absent).
    ``keywords``: every keyword line as {keyword: [(line, value), ...]}
    (aliases under the name used in the file).
    """

    elements: tuple[str, ...]
    symmetry_functions: dict[str, list[SymmetryFunction]]
    symmetry_function_lines: dict[str, list[int]]
    hidden_nodes: dict[str, tuple[int, ...]]
    activations: dict[str, tuple[str, ...]]
    number_of_elements: int
    elements_as_written: tuple[str, ...]
    atom_energy: dict[str, float]
    cutoff_type: int
    cutoff_alpha: float = 0.0
    scale_symmetry_functions: bool = False
    center_symmetry_functions: bool = False
    scale_symmetry_functions_sigma: bool = False
    scaling_mode: str = "none"
    scale_min_short: float = 0.0
    scale_max_short: float = 1.0
    global_hidden_layers_short: int | None = None
    global_nodes_short: tuple[int, ...] | None = None
    global_activation_short: tuple[str, ...] | None = None
    element_hidden_layers_short: dict[str, int] = field(default_factory=dict)
    element_nodes_short: dict[str, tuple[int, ...]] = field(default_factory=dict)
    element_activation_short: dict[str, tuple[str, ...]] = field(default_factory=dict)
    normalize_nodes: bool = False
    normalize: bool = False
    mean_energy: float = 0.0
    conv_energy: float = 1.0
    conv_length: float = 1.0
    conv_charge: float | None = None
    nnp_type: int = 2
    hidden_nodes_electrostatic: dict[str, tuple[int, ...]] = field(default_factory=dict)
    activations_electrostatic: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fixed_gausswidth: dict[str, float] = field(default_factory=dict)
    screen_electrostatics: tuple[float, float] | None = None
    ewald_truncation_error_method: int | None = None
    ewald_prec: tuple[float, ...] | None = None
    four_pi_epsilon: float | None = None
    kspace_solver: str | None = None
    keywords: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    unknown_keywords: list[tuple[int, str]] = field(default_factory=list)
    path: str | None = None

    def layer_sizes(self, element: str, network: str = "short") -> tuple[int, ...]:
        """(n_inputs, hidden..., 1) of the element's ``short`` or ``electrostatic`` network.

        n_inputs is the number of symmetry functions, +1 charge neuron for the
        short network of 4G-/Q-HDNNPs (as n2p2).
        """
        n_sf = len(self.symmetry_functions[element])
        if network == "electrostatic":
            return (n_sf, *self.hidden_nodes_electrostatic[element], 1)
        return (n_sf + (self.nnp_type != 2), *self.hidden_nodes[element], 1)

    def n_parameters(self, element: str, network: str = "short") -> int:
        """Weights + biases of the element's network, sum_l (n_{l-1} n_l + n_l)."""
        return n_parameters(self.layer_sizes(element, network))

    def energy_offset(self, element: str) -> float:
        """Per-atom energy added to y/conv_energy: mean_energy + atom_energy (file unit)."""
        return self.mean_energy + self.atom_energy[element]


def _read_elements(kw: Keywords) -> tuple[int, tuple[str, ...]]:
    """number_of_elements and the elements as written (Mode::setupElementMap)."""
    line = kw.one("number_of_elements", required=True)
    n = line.int(values(line, "number_of_elements", 1, 1, "the number of elements")[0],
                 "number_of_elements")  # fmt: skip
    line = kw.one("elements", required=True)
    written = tuple(line.element(symbol) for symbol in line.tokens[1:])
    if len(set(written)) != len(written):
        raise line.error(f"repeated element in 'elements {' '.join(written)}'")
    if len(written) != n:
        raise line.error(
            f"number_of_elements is {n} but {len(written)} elements are listed: {' '.join(written)}"
        )
    return n, written


def _check_normalization(kw: Keywords) -> bool:
    """Mode::setupNormalization: all of mean_energy, conv_energy, conv_length or none."""
    present = [k for k in ("mean_energy", "conv_energy", "conv_length") if kw.has(k)]
    normalize = len(present) == 3
    if present and not normalize or (kw.has("conv_charge") and not normalize):
        line = min(kw.one(k).number for k in (*present, "conv_charge") if kw.has(k))
        raise N2p2FormatError(
            kw.path, line, "use all or none of mean_energy, conv_energy and conv_length "
            f"(found only {', '.join(present) or 'conv_charge'})",
        )  # fmt: skip
    return normalize


def _check_scaling_range(kw: Keywords, s_min: float, s_max: float) -> None:
    """scale_min_short < scale_max_short (n2p2 divides by their difference)."""
    if not s_min < s_max:
        lines = [kw.one(k) for k in ("scale_min_short", "scale_max_short") if kw.has(k)]
        raise N2p2FormatError(
            kw.path, min(line.number for line in lines),
            f"scale_min_short ({s_min!r}) must be smaller than scale_max_short ({s_max!r})",
        )  # fmt: skip


def _read_cutoff(kw: Keywords) -> tuple[int, float]:
    """Mode::setupCutoff: ``cutoff_type <int> [alpha]``, alpha default 0."""
    line = kw.one("cutoff_type", required=True)
    words = line.tokens[1:]
    if not 1 <= len(words) <= 2:
        raise line.error(f"expected 'cutoff_type <type> [alpha]', got {words}")
    cutoff_type = line.int(words[0], "cutoff_type")
    if cutoff_type not in CUTOFF_TYPE_CODES:
        raise line.error(f"unknown cutoff_type {cutoff_type} (n2p2 knows 0-8)")
    alpha = line.float(words[1], "cutoff alpha") if len(words) > 1 else 0.0
    if not 0.0 <= alpha < 1.0:
        raise line.error(f"cutoff alpha must satisfy 0 <= alpha < 1, got {alpha}")
    return cutoff_type, alpha


def _read_symmetry_functions(kw: Keywords, elements, cutoff, conv_length: float):
    """Mode::setupSymmetryFunctions: each element's functions, sorted; and their lines."""
    parsed: dict[str, list[tuple[SymmetryFunction, int]]] = {e: [] for e in elements}
    for line in kw.all("symfunction_short"):
        sf = parse_symfunction(line.value, elements, *cutoff, line.path, line.number)
        parsed[sf.center].append((sf, line.number))
    functions, lines = {}, {}
    for e in elements:
        if not parsed[e]:
            raise N2p2FormatError(kw.path, None, f"no symfunction_short lines for element {e!r}")
        sfs = [sf for sf, _ in parsed[e]]
        perm = sort_order(sfs, conv_length)
        functions[e] = [sfs[i] for i in perm]
        lines[e] = [parsed[e][i][1] for i in perm]
    return functions, lines


def read_input_nn(path) -> N2p2Settings:
    """Parse an n2p2 ``input.nn`` into :class:`N2p2Settings` (file units).

    Unknown keywords give an :class:`N2p2Warning` (n2p2 logs a warning and
    ignores them); training keywords are accepted silently. Errors
    (:class:`N2p2FormatError`): missing mandatory keywords (number_of_elements,
    elements, cutoff_type, symfunction_short for every element, the network
    topology), repeated keywords n2p2 refuses, text in number fields, unknown
    elements, symmetry-function types or activation codes, inconsistent
    counts.
    """
    path = os.fspath(path)
    lines = read_keyword_lines(path)
    unknown = warn_unknown(lines)
    check_duplicates(path, lines)
    kw = Keywords(path, lines)
    number_of_elements, written = _read_elements(kw)
    elements = sort_elements(written)
    table = {rule.target: apply_rule(kw, k, rule, elements) for k, rule in SETTINGS_TABLE.items()}
    normalize = _check_normalization(kw)
    _check_scaling_range(kw, table["scale_min_short"], table["scale_max_short"])
    cutoff = _read_cutoff(kw)
    functions, function_lines = _read_symmetry_functions(kw, elements, cutoff, table["conv_length"])
    short = read_topology(kw, elements, "short")
    charge = None  # the charge networks of 4G-HDNNPs, read when their keywords are there
    if table["nnp_type"] != 2 and any(kw.has(f"{k}_hidden_layers_electrostatic")
                                      for k in ("global", "element")):  # fmt: skip
        charge = read_topology(kw, elements, "electrostatic")
    return N2p2Settings(
        elements=elements,
        symmetry_functions=functions,
        symmetry_function_lines=function_lines,
        hidden_nodes=short.hidden_nodes,
        activations=short.activations,
        number_of_elements=number_of_elements,
        elements_as_written=written,
        cutoff_type=cutoff[0],
        cutoff_alpha=cutoff[1],
        scaling_mode=scaling_mode(
            table["scale_symmetry_functions"],
            table["center_symmetry_functions"],
            table["scale_symmetry_functions_sigma"],
        ),
        global_hidden_layers_short=short.global_hidden_layers,
        global_nodes_short=short.global_nodes,
        global_activation_short=short.global_activation,
        element_hidden_layers_short=short.element_hidden_layers,
        element_nodes_short=short.element_nodes,
        element_activation_short=short.element_activation,
        normalize=normalize,
        hidden_nodes_electrostatic=charge.hidden_nodes if charge else {},
        activations_electrostatic=charge.activations if charge else {},
        keywords={w: [(ln.number, ln.value) for ln in entries] for w, entries in lines.items()},
        unknown_keywords=unknown,
        path=path,
        **table,
    )


def _kv(keyword: str, value: str = "") -> str:
    """One ``keyword value`` line, the keyword padded to a column."""
    return f"{keyword:<31s} {value}".rstrip()


def _prediction_lines(s: N2p2Settings) -> list[str]:
    """The keyword lines of the fields nnp_ref reads for prediction (full precision)."""
    lines = []
    if s.normalize:
        lines += [_kv(k, f"{getattr(s, k):24.16E}")
                  for k in ("mean_energy", "conv_energy", "conv_length")]  # fmt: skip
    if s.conv_charge is not None:
        lines.append(_kv("conv_charge", f"{s.conv_charge:24.16E}"))
    if s.nnp_type != 2:
        lines.append(_kv("nnp_type", {v: k for k, v in NNP_TYPES.items()}[s.nnp_type]))
    lines.append(_kv("number_of_elements", str(s.number_of_elements)))
    lines.append(_kv("elements", " ".join(s.elements_as_written)))
    lines += [_kv("atom_energy", f"{e:2s} {s.atom_energy[e]:24.16E}")
              for e in s.elements if s.atom_energy.get(e, 0.0) != 0.0]  # fmt: skip
    lines.append(_kv("cutoff_type", f"{s.cutoff_type} {s.cutoff_alpha!r}"))
    flags = ("scale_symmetry_functions", "center_symmetry_functions",
             "scale_symmetry_functions_sigma")  # fmt: skip
    lines += [_kv(flag) for flag in flags if getattr(s, flag)]
    lines.append(_kv("scale_min_short", repr(s.scale_min_short)))
    lines.append(_kv("scale_max_short", repr(s.scale_max_short)))
    return lines + _topology_lines(s)


def _topology_lines(s: N2p2Settings) -> list[str]:
    """The short-range network keywords as read, and normalize_nodes."""
    lines = []
    if s.global_hidden_layers_short is not None:
        lines.append(_kv("global_hidden_layers_short", str(s.global_hidden_layers_short)))
    if s.global_nodes_short is not None:
        lines.append(_kv("global_nodes_short", " ".join(map(str, s.global_nodes_short))))
    if s.global_activation_short is not None:
        lines.append(_kv("global_activation_short", " ".join(s.global_activation_short)))
    for e, n in s.element_hidden_layers_short.items():
        lines.append(_kv("element_hidden_layers_short", f"{e} {n}"))
    for e, ns in s.element_nodes_short.items():
        lines.append(_kv("element_nodes_short", f"{e} " + " ".join(map(str, ns))))
    for e, codes in s.element_activation_short.items():
        lines.append(_kv("element_activation_short", f"{e} " + " ".join(codes)))
    if s.normalize_nodes:
        lines.append(_kv("normalize_nodes"))
    return lines


#: Keywords :func:`_prediction_lines` writes from the fields.
WRITTEN_FROM_FIELDS = frozenset(
    """
    mean_energy conv_energy conv_length conv_charge nnp_type number_of_elements elements
    atom_energy cutoff_type scale_symmetry_functions center_symmetry_functions
    scale_symmetry_functions_sigma scale_min_short scale_max_short
    global_hidden_layers_short global_nodes_short global_activation_short
    element_hidden_layers_short element_nodes_short element_activation_short
    normalize_nodes symfunction_short
    """.split()
)


def write_input_nn(settings: N2p2Settings, path, other_keywords: bool = True) -> None:
    """Write ``settings`` as an n2p2 ``input.nn`` (n2p2 and LAMMPS read it).

    Writes the prediction keywords from the fields (symmetry functions in
    sorted order, full precision), then, with ``other_keywords``, every
    other keyword of ``settings.keywords`` (training, electrostatics,
    unknown) verbatim in file order.
    """
    lines = ["# n2p2 settings written by nnp_ref.io.n2p2", *_prediction_lines(settings)]
    for e in settings.elements:
        lines.extend(format_symfunction(sf) for sf in settings.symmetry_functions[e])
    if other_keywords:
        rest = [
            (ln, word, value)
            for word, entries in settings.keywords.items()
            if KEYWORD_ALIASES.get(word, word) not in WRITTEN_FROM_FIELDS
            for ln, value in entries
        ]
        lines += [_kv(word, value) for _, word, value in sorted(rest)]
    atomic_write_text(path, "\n".join(lines) + "\n")
