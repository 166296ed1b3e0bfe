r"""n2p2 file formats: ``input.nn``, ``scaling.data``, ``weights.ZZZ.data``, ``input.data``.

Parsing and writing only, no science: every function returns plain data
(dataclasses, NumPy arrays, ``ase.Atoms``) in the units of the file, except
``read_data``/``write_data``, which convert structures to and from Å/eV.
The rules follow n2p2's source (A. Singraber et al., J. Chem. Theory Comput.
15, 1827 (2019); https://github.com/CompPhysVienna/n2p2, ``src/libnnp``):

=====================  ========================================================
n2p2 source            what is taken from it here
=====================  ========================================================
``Settings.cpp``       keyword list, aliases, repeatable keywords, comments
                       (``#`` and ``!`` to end of line)
``ElementMap.cpp``     elements are indexed in order of atomic number
``Mode.cpp``           normalisation, ``atom_energy``, ``cutoff_type``, scaling
                       mode precedence, network topology keywords
``SymFnc*.cpp``        parameter order of each ``symfunction_short`` type,
                       ``operator<`` (sort order), ``changeLengthUnit``
``SymFnc.cpp``         ``scaling.data`` columns
``NeuralNetwork.cpp``  ``weights.ZZZ.data`` layout
``Structure.cpp``      ``input.data`` blocks
=====================  ========================================================

Energy in n2p2 (``Prediction::predict``, ``Mode::physicalEnergy``,
``Mode::addEnergyOffset``): with network outputs y_i (internal units),

    E = sum_i [ y_i / conv_energy + mean_energy + atom_energy(Z_i) ]

in the file's energy unit (conv_energy = 1, mean_energy = 0 without
normalisation; atom_energy = 0 for elements without the keyword). Symmetry
functions are invariant under a change of length unit when their parameters
change with it (``convert_length``), so conv_length only changes the units
the network sees for forces, never G.

Malformed files raise :class:`N2p2FormatError` (a ``ValueError``) naming the
file, the line and what was expected.
"""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.data import atomic_numbers, chemical_symbols

from nnp_ref.descriptors.compact import check_angle_bounds
from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.model.activations import CODES as ACTIVATION_CODES

# ---------------------------------------------------------------------------
# Errors and warnings
# ---------------------------------------------------------------------------


class N2p2FormatError(ValueError):
    """A malformed n2p2 file; the message starts with ``path:line:``."""

    def __init__(self, path, line: int | None, message: str):
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class N2p2Warning(UserWarning):
    """Something n2p2 accepts with a warning (e.g. an unknown keyword)."""


def _float(token: str, path, line: int, what: str) -> float:
    """A finite float from ``token`` (C syntax: no ``_``, no nan/inf)."""
    try:
        value = float(token)
    except ValueError:
        value = math.nan
    if "_" in token or not math.isfinite(value):
        raise N2p2FormatError(path, line, f"expected a number for {what}, got {token!r}")
    return value


def _int(token: str, path, line: int, what: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise N2p2FormatError(
            path, line, f"expected an integer for {what}, got {token!r}"
        ) from None


# Element symbols n2p2 knows (ElementMap::knownElements: H ... No, Z = 1-102).
KNOWN_ELEMENTS = tuple(chemical_symbols[1:103])


def _element(token: str, path, line: int, allowed=None) -> str:
    if token not in KNOWN_ELEMENTS:
        raise N2p2FormatError(path, line, f"expected a chemical element symbol, got {token!r}")
    if allowed is not None and token not in allowed:
        raise N2p2FormatError(
            path, line, f"element {token!r} is not one of the elements {' '.join(allowed)}"
        )
    return token


def _element_and_number(value: str, path, line: int, elements, keyword: str, convert):
    """``<element> <number>`` of a per-element keyword (atom_energy, element_*)."""
    words = value.split()
    if len(words) != 2:
        what = "<energy>" if keyword == "atom_energy" else "<n>"
        raise N2p2FormatError(path, line, f"expected '{keyword} <element> {what}', got {value!r}")
    return _element(words[0], path, line, elements), convert(words[1], path, line, keyword)


def sort_elements(elements: Iterable[str]) -> tuple[str, ...]:
    """Elements in n2p2's index order: by atomic number (``ElementMap``)."""
    return tuple(sorted(elements, key=lambda s: atomic_numbers[s]))


# ---------------------------------------------------------------------------
# input.nn: keywords
# ---------------------------------------------------------------------------

#: Keywords n2p2 reads for prediction (Settings.cpp, createKnownKeywordsMap).
PREDICTION_KEYWORDS = frozenset(
    """
    number_of_elements elements atom_energy cutoff_type symfunction_short
    scale_symmetry_functions scale_min_short scale_max_short
    center_symmetry_functions scale_symmetry_functions_sigma
    global_hidden_layers_short global_hidden_layers_electrostatic
    global_nodes_short global_nodes_electrostatic
    global_activation_short global_activation_electrostatic
    element_hidden_layers_short element_hidden_layers_electrostatic
    element_nodes_short element_nodes_electrostatic
    element_activation_short element_activation_electrostatic
    normalize_nodes mean_energy conv_length conv_energy conv_charge nnp_type
    fixed_gausswidth ewald_truncation_error_method kspace_solver ewald_prec
    screen_electrostatics four_pi_epsilon
    """.split()
)
#: Training keywords: accepted silently, kept in ``N2p2Settings.keywords``.
TRAINING_KEYWORDS = frozenset(
    """
    random_seed test_fraction epochs normalize_data_set use_short_forces
    rmse_threshold rmse_threshold_energy rmse_threshold_force rmse_threshold_charge
    rmse_threshold_trials rmse_threshold_trials_energy rmse_threshold_trials_force
    rmse_threshold_trials_charge energy_fraction force_fraction force_energy_ratio
    charge_fraction use_old_weights_short use_old_weights_charge weights_min
    weights_max initial_hardness nguyen_widrow_weights_short
    nguyen_widrow_weights_charge precondition_weights main_error_metric
    write_trainpoints write_trainforces write_traincharges write_weights_epoch
    write_neuronstats write_trainlog repeated_energy_update updater_type
    parallel_mode jacobian_mode update_strategy selection_mode selection_mode_energy
    selection_mode_force selection_mode_charge task_batch_size_energy
    task_batch_size_force task_batch_size_charge gradient_type gradient_eta
    gradient_adam_eta gradient_adam_beta1 gradient_adam_beta2 gradient_adam_epsilon
    kalman_type kalman_epsilon kalman_eta kalman_etatau kalman_etamax kalman_q0
    kalman_qtau kalman_qmin kalman_lambda_short kalman_nue_short
    memorize_symfunc_results force_weight
    """.split()
)
#: Alternative names -> main keyword (``nn_type`` is the name of older versions).
KEYWORD_ALIASES = {
    "nnp_generation": "nnp_type",
    "nnp_type_gen": "nnp_type",
    "nnp_gen": "nnp_type",
    "nn_type": "nnp_type",
    "short_energy_error_threshold": "rmse_threshold_energy",
    "short_force_error_threshold": "rmse_threshold_force",
    "short_energy_fraction": "energy_fraction",
    "short_force_fraction": "force_fraction",
    "symfunction": "symfunction_short",
}
KNOWN_KEYWORDS = PREDICTION_KEYWORDS | TRAINING_KEYWORDS | frozenset(KEYWORD_ALIASES)
#: The only keywords n2p2 allows more than once (Settings::sanityCheck).
REPEATABLE_KEYWORDS = frozenset(
    {"symfunction_short", "atom_energy", "element_nodes_short", "fixed_gausswidth",
     "initial_hardness"}
)  # fmt: skip

#: nnp_type values (Mode::NNPType) and their names.
NNP_TYPES = {"2G-HDNNP": 2, "4G-HDNNP": 4, "Q-HDNNP": 10}

#: Cutoff type codes (keyword ``cutoff_type``, CutoffFunction::CutoffType).
CUTOFF_TYPE_CODES = range(9)

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


# ---------------------------------------------------------------------------
# input.nn: symmetry functions
# ---------------------------------------------------------------------------

#: Parameters after "<element> <type>" of each ``symfunction_short`` type, in
#: the order of n2p2's ``setParameters`` (``[rs]`` optional, default 0).
SYMFUNCTION_PARAMETERS = {
    2: ("e1", "eta", "rs", "rc"),
    3: ("e1", "e2", "eta", "lam", "zeta", "rc", "[rs]"),
    9: ("e1", "e2", "eta", "lam", "zeta", "rc", "[rs]"),
    12: ("eta", "rs", "rc"),
    13: ("eta", "rs", "lam", "zeta", "rc"),
    20: ("e1", "rl", "rc", "subtype"),
    21: ("e1", "e2", "rl", "rc", "angle_left", "angle_right", "subtype"),
    22: ("e1", "e2", "rl", "rc", "angle_left", "angle_right", "subtype"),
    23: ("rl", "rc", "subtype"),
    24: ("rl", "rc", "angle_left", "angle_right", "subtype"),
    25: ("rl", "rc", "angle_left", "angle_right", "subtype"),
}


def parse_symfunction(
    value: str, elements, cutoff_type: int, cutoff_alpha: float, path="<string>", line=0
) -> SymmetryFunction:
    """A ``SymmetryFunction`` (file length units) from a ``symfunction_short`` value.

    ``value`` is the line after the keyword, e.g. ``"H 3 O H 0.2 1.0 1.0 12.0"``.
    Angular neighbour pairs are stored in n2p2's order (lower atomic number
    first: n2p2 swaps e1, e2 so that e1 <= e2). ``cutoff_type``/``alpha``
    come from the global ``cutoff_type`` keyword (the compact types 20-25 do
    not use them).
    """
    tokens = value.split()
    if len(tokens) < 2:
        raise N2p2FormatError(path, line, f"expected '<element> <type> ...', got {value!r}")
    center = _element(tokens[0], path, line, elements)
    sf_type = _int(tokens[1], path, line, "the symmetry function type")
    if sf_type not in SYMFUNCTION_PARAMETERS:
        raise N2p2FormatError(
            path, line, f"unknown symmetry function type {sf_type}; n2p2 knows "
            + ", ".join(map(str, SYMFUNCTION_PARAMETERS))
        )  # fmt: skip
    names = SYMFUNCTION_PARAMETERS[sf_type]
    n_required = sum(not n.startswith("[") for n in names)
    args = tokens[2:]
    if not n_required <= len(args) <= len(names):
        counts = f"{n_required}" if n_required == len(names) else f"{n_required} or {len(names)}"
        raise N2p2FormatError(
            path, line,
            f"symmetry function type {sf_type} takes {counts} parameters after the type "
            f"({' '.join(names)}), got {len(args)}: {value!r}",
        )  # fmt: skip
    p = {}
    for name, token in zip(names, args):
        name = name.strip("[]")
        if name in ("e1", "e2"):
            p[name] = _element(token, path, line, elements)
        elif name == "subtype":
            p[name] = token
        else:
            p[name] = _float(token, path, line, f"parameter {name} of type {sf_type}")
    neighbours = tuple(sort_elements(p[k] for k in ("e1", "e2") if k in p))
    kwargs = {k: v for k, v in p.items() if k not in ("e1", "e2")}
    sf = SymmetryFunction(
        type=sf_type,
        center=center,
        neighbours=neighbours,
        cutoff_type=cutoff_type,
        alpha=cutoff_alpha,
        **kwargs,
    )
    try:
        sf.check()
        if sf_type in (21, 22, 24, 25):
            check_angle_bounds(sf.angle_left, sf.angle_right)
    except ValueError as error:
        raise N2p2FormatError(path, line, f"invalid symmetry function {value!r}: {error}") from None
    return sf


def format_symfunction(sf: SymmetryFunction) -> str:
    """The ``symfunction_short`` line of ``sf`` (n2p2's parameter order, full precision)."""
    values = {
        "e1": sf.neighbours[0] if sf.neighbours else "",
        "e2": sf.neighbours[1] if len(sf.neighbours) > 1 else "",
        "eta": sf.eta, "rs": sf.rs, "rc": sf.rc, "lam": sf.lam, "zeta": sf.zeta,
        "rl": sf.rl, "angle_left": sf.angle_left, "angle_right": sf.angle_right,
        "subtype": sf.subtype,
    }  # fmt: skip
    words = [f"{sf.center:>2s}", f"{sf.type:2d}"]
    for name in SYMFUNCTION_PARAMETERS[sf.type]:
        v = values[name.strip("[]")]
        words.append(f"{v:>2s}" if isinstance(v, str) else f"{v:24.16E}")
    return "symfunction_short " + " ".join(words)


def convert_length(sf: SymmetryFunction, factor: float) -> SymmetryFunction:
    """Copy of ``sf`` in a new length unit: new = ``factor`` * old length.

    rc, rs, rl are multiplied by ``factor`` and eta divided by ``factor``^2
    (n2p2 ``changeLengthUnit``); angles, zeta, lambda, alpha are unchanged.
    G itself is invariant under this change.
    """
    return dataclasses.replace(
        sf, rc=sf.rc * factor, rs=sf.rs * factor, rl=sf.rl * factor, eta=sf.eta / factor**2
    )


def n2p2_sort_key(sf: SymmetryFunction) -> tuple:
    """Key reproducing the ``operator<`` of n2p2's symmetry-function classes.

    All types compare the central element, then the type code, then
    (SymFnc*.cpp, ``operator<``):

    ========  ============================================================
    type      then, in this order
    ========  ============================================================
    2         rc, eta, rs, e1
    3, 9      rc, eta, rs, zeta, lambda, e1, e2
    12        rc, eta, rs
    13        rc, eta, rs, zeta, lambda
    20        subtype (string), e1, rc, rl
    21, 22    subtype, e1, e2, rc, rl, angle_left, angle_right
    23        subtype, rc, rl
    24, 25    subtype, rc, rl, angle_left, angle_right
    ========  ============================================================

    Elements compare by n2p2's element index, which follows the atomic
    number, so atomic numbers are used directly (e1 <= e2 for angular
    types). The exponential types also compare cutoff type and alpha right
    after the type, but n2p2 sorts before it sets the cutoff function
    (``Mode::setupSymmetryFunctions``), when they are equal for all
    functions; they are left out here.
    """
    Z = [atomic_numbers[e] for e in sf.neighbours]
    t = sf.type
    if t == 2:
        rest = (sf.rc, sf.eta, sf.rs, Z[0])
    elif t in (3, 9):
        rest = (sf.rc, sf.eta, sf.rs, sf.zeta, sf.lam, min(Z), max(Z))
    elif t == 12:
        rest = (sf.rc, sf.eta, sf.rs)
    elif t == 13:
        rest = (sf.rc, sf.eta, sf.rs, sf.zeta, sf.lam)
    elif t == 20:
        rest = (sf.subtype, Z[0], sf.rc, sf.rl)
    elif t in (21, 22):
        rest = (sf.subtype, min(Z), max(Z), sf.rc, sf.rl, sf.angle_left, sf.angle_right)
    elif t == 23:
        rest = (sf.subtype, sf.rc, sf.rl)
    elif t in (24, 25):
        rest = (sf.subtype, sf.rc, sf.rl, sf.angle_left, sf.angle_right)
    else:
        raise ValueError(f"unknown symmetry function type {t}")
    return (atomic_numbers[sf.center], t, *rest)


def sort_order(sfs: Sequence[SymmetryFunction], conv_length: float = 1.0) -> list[int]:
    """Indices that put ``sfs`` in n2p2's order (``Element::sortSymmetryFunctions``).

    With data-set normalisation n2p2 sorts after converting the lengths to
    internal units (``conv_length``); pass it to compare exactly the same
    numbers (it can only matter for values differing in the last digit).
    Ties (identical functions) keep their input order.
    """
    if conv_length != 1.0:
        keys = [n2p2_sort_key(convert_length(sf, conv_length)) for sf in sfs]
    else:
        keys = [n2p2_sort_key(sf) for sf in sfs]
    return sorted(range(len(sfs)), key=keys.__getitem__)


def sort_symmetry_functions(
    sfs: Sequence[SymmetryFunction], conv_length: float = 1.0
) -> list[SymmetryFunction]:
    """``sfs`` in n2p2's order (the order of scaling.data and the network inputs)."""
    return [sfs[i] for i in sort_order(sfs, conv_length)]


# ---------------------------------------------------------------------------
# input.nn: settings
# ---------------------------------------------------------------------------


@dataclass
class N2p2Settings:
    """The prediction-relevant content of an n2p2 ``input.nn`` (file units).

    ``elements``: symbols in n2p2's element order (by atomic number), the
    order of ``scaling.data`` element indices. ``symmetry_functions[e]``:
    functions of element e in n2p2's sorted order (= network input order),
    lengths in the file's unit; ``symmetry_function_lines[e]``: 1-based
    input.nn line of each. ``hidden_nodes[e]``/``activations[e]``: the
    network n2p2 builds for e (hidden layer sizes; activation codes of the
    hidden layers and the output layer), see :meth:`layer_sizes`.
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
    keywords: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    unknown_keywords: list[tuple[int, str]] = field(default_factory=list)
    path: str | None = None

    def layer_sizes(self, element: str) -> tuple[int, ...]:
        """(n_inputs, hidden..., 1) of the element's short-range network.

        n_inputs is the number of symmetry functions (+1 charge neuron for
        4G-/Q-HDNNPs, as n2p2).
        """
        n_in = len(self.symmetry_functions[element]) + (self.nnp_type != 2)
        return (n_in, *self.hidden_nodes[element], 1)

    def n_parameters(self, element: str) -> int:
        """Weights + biases of the element's network, sum_l (n_{l-1} n_l + n_l)."""
        return n_parameters(self.layer_sizes(element))

    def energy_offset(self, element: str) -> float:
        """Per-atom energy added to y/conv_energy: mean_energy + atom_energy (file unit)."""
        return self.mean_energy + self.atom_energy[element]


def n_parameters(layer_sizes: Sequence[int]) -> int:
    """Number of weights and biases, sum_l (n_{l-1} n_l + n_l)."""
    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))


def _read_keyword_lines(path) -> tuple[dict[str, list[tuple[int, str]]], list[tuple[int, str]]]:
    """{keyword: [(line, value)]} of a settings file, comments stripped (Settings::parseLines)."""
    keywords: dict[str, list[tuple[int, str]]] = {}
    order: list[tuple[int, str]] = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, text in enumerate(f, 1):
            text = text.split("#", 1)[0].split("!", 1)[0]
            words = text.split()
            if not words:
                continue
            keywords.setdefault(words[0], []).append((lineno, " ".join(words[1:])))
            order.append((lineno, words[0]))
    return keywords, order


class _Keywords:
    """Lookup of main keywords (aliases resolved) with file and line for errors."""

    def __init__(self, path, keywords):
        self.path = path
        self.by_main: dict[str, list[tuple[int, str, str]]] = {}
        for word, entries in keywords.items():
            main = KEYWORD_ALIASES.get(word, word)
            self.by_main.setdefault(main, []).extend((ln, word, v) for ln, v in entries)
        for entries in self.by_main.values():
            entries.sort()

    def has(self, main: str) -> bool:
        return main in self.by_main

    def all(self, main: str) -> list[tuple[int, str]]:
        return [(ln, v) for ln, _, v in self.by_main.get(main, [])]

    def one(self, main: str, required: bool = False) -> tuple[int, str] | None:
        entries = self.all(main)
        if not entries:
            if required:
                raise N2p2FormatError(self.path, None, f"missing mandatory keyword {main!r}")
            return None
        return entries[0]

    def words(self, main: str, n: int | None = None, required=False, what=None):
        entry = self.one(main, required)
        if entry is None:
            return None, None
        line, value = entry
        words = value.split()
        if n is not None and len(words) != n:
            raise N2p2FormatError(
                self.path, line, f"{main} takes {n} value(s) ({what}), got {len(words)}: {value!r}"
            )
        return line, words


def _check_duplicates(path, keywords) -> None:
    """n2p2 refuses repeated keywords except REPEATABLE_KEYWORDS, and mixed aliases."""
    for word, entries in keywords.items():
        if len(entries) > 1 and KEYWORD_ALIASES.get(word, word) not in REPEATABLE_KEYWORDS:
            if word in KNOWN_KEYWORDS:
                lines = ", ".join(str(ln) for ln, _ in entries)
                raise N2p2FormatError(
                    path, entries[1][0], f"keyword {word!r} given more than once (lines {lines}); "
                    "n2p2 treats this as a critical error",
                )  # fmt: skip
    mains: dict[str, list[str]] = {}
    for word in keywords:
        mains.setdefault(KEYWORD_ALIASES.get(word, word), []).append(word)
    for main, words in mains.items():
        if len(words) > 1:
            line = min(keywords[w][0][0] for w in words)
            raise N2p2FormatError(
                path, line, f"alternative names {', '.join(sorted(words))} of keyword {main!r} "
                "used together (n2p2: critical error)",
            )  # fmt: skip


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
    keywords, order = _read_keyword_lines(path)
    for line, word in order:
        if word not in KNOWN_KEYWORDS:
            warnings.warn(
                f"{path}:{line}: unknown keyword {word!r} (n2p2 ignores it with a warning)",
                N2p2Warning,
                stacklevel=2,
            )
    _check_duplicates(path, keywords)
    kw = _Keywords(path, keywords)
    unknown = [(ln, w) for ln, w in order if w not in KNOWN_KEYWORDS]

    # Elements (Mode::setupElementMap, setupElements).
    line, words = kw.words("number_of_elements", 1, True, "the number of elements")
    number_of_elements = _int(words[0], path, line, "number_of_elements")
    line, written = kw.words("elements", required=True)
    for symbol in written:
        _element(symbol, path, line)
    if len(set(written)) != len(written):
        raise N2p2FormatError(path, line, f"repeated element in 'elements {' '.join(written)}'")
    if len(written) != number_of_elements:
        raise N2p2FormatError(
            path, line, f"number_of_elements is {number_of_elements} but {len(written)} "
            f"elements are listed: {' '.join(written)}",
        )  # fmt: skip
    elements = sort_elements(written)
    atom_energy = {e: 0.0 for e in elements}
    for line, value in kw.all("atom_energy"):
        symbol, energy = _element_and_number(value, path, line, elements, "atom_energy", _float)
        atom_energy[symbol] = energy

    # Normalisation (Mode::setupNormalization): all of the three or none.
    present = [k for k in ("mean_energy", "conv_energy", "conv_length") if kw.has(k)]
    normalize = len(present) == 3
    if present and not normalize or (kw.has("conv_charge") and not normalize):
        line = min(kw.one(k)[0] for k in (*present, "conv_charge") if kw.has(k))
        raise N2p2FormatError(
            path, line, "use all or none of mean_energy, conv_energy and conv_length "
            f"(found only {', '.join(present) or 'conv_charge'})",
        )  # fmt: skip
    norm = {"mean_energy": 0.0, "conv_energy": 1.0, "conv_length": 1.0}
    if normalize:
        for k in norm:
            line, words = kw.words(k, 1, what=k)
            norm[k] = _float(words[0], path, line, k)
    conv_charge = None
    if kw.has("conv_charge"):
        line, words = kw.words("conv_charge", 1, what="conv_charge")
        conv_charge = _float(words[0], path, line, "conv_charge")
    nnp_type = 2
    if kw.has("nnp_type"):
        line, words = kw.words("nnp_type", 1, what="2G-HDNNP, 4G-HDNNP, Q-HDNNP or 2, 4, 10")
        token = words[0]
        nnp_type = NNP_TYPES.get(token) or _int(token, path, line, "nnp_type")
        if nnp_type not in NNP_TYPES.values():
            raise N2p2FormatError(
                path, line, f"unknown nnp_type {token!r} (n2p2 knows 2G-HDNNP, 4G-HDNNP, "
                "Q-HDNNP or 2, 4, 10)",
            )  # fmt: skip

    # Cutoff (Mode::setupCutoff): "cutoff_type <int> [alpha]", alpha default 0.
    line, words = kw.words("cutoff_type", required=True)
    if not 1 <= len(words) <= 2:
        raise N2p2FormatError(path, line, f"expected 'cutoff_type <type> [alpha]', got {words}")
    cutoff_type = _int(words[0], path, line, "cutoff_type")
    if cutoff_type not in CUTOFF_TYPE_CODES:
        raise N2p2FormatError(path, line, f"unknown cutoff_type {cutoff_type} (n2p2 knows 0-8)")
    cutoff_alpha = _float(words[1], path, line, "cutoff alpha") if len(words) > 1 else 0.0
    if not 0.0 <= cutoff_alpha < 1.0:
        raise N2p2FormatError(
            path, line, f"cutoff alpha must satisfy 0 <= alpha < 1, got {cutoff_alpha}"
        )

    # Symmetry functions (Mode::setupSymmetryFunctions): sorted per element.
    parsed: dict[str, list[tuple[SymmetryFunction, int]]] = {e: [] for e in elements}
    for line, value in kw.all("symfunction_short"):
        sf = parse_symfunction(value, elements, cutoff_type, cutoff_alpha, path, line)
        parsed[sf.center].append((sf, line))
    symmetry_functions, symmetry_function_lines = {}, {}
    for e in elements:
        if not parsed[e]:
            raise N2p2FormatError(path, None, f"no symfunction_short lines for element {e!r}")
        sfs = [sf for sf, _ in parsed[e]]
        perm = sort_order(sfs, norm["conv_length"])
        symmetry_functions[e] = [sfs[i] for i in perm]
        symmetry_function_lines[e] = [parsed[e][i][1] for i in perm]

    # Scaling (Mode::setupSymmetryFunctionScaling).
    flags = {}
    for k in ("scale_symmetry_functions", "center_symmetry_functions",
              "scale_symmetry_functions_sigma", "normalize_nodes"):  # fmt: skip
        flags[k] = kw.has(k)
        entry = kw.one(k)
        if entry is not None and entry[1]:
            raise N2p2FormatError(path, entry[0], f"keyword {k} takes no value, got {entry[1]!r}")
    mode = scaling_mode(
        flags["scale_symmetry_functions"],
        flags["center_symmetry_functions"],
        flags["scale_symmetry_functions_sigma"],
    )
    s_minmax = {"scale_min_short": 0.0, "scale_max_short": 1.0}  # n2p2's defaults
    for k in s_minmax:
        if kw.has(k):
            line, words = kw.words(k, 1, what=k)
            s_minmax[k] = _float(words[0], path, line, k)

    topology = _read_topology(kw, elements)
    return N2p2Settings(
        elements=elements,
        symmetry_functions=symmetry_functions,
        symmetry_function_lines=symmetry_function_lines,
        hidden_nodes=topology["hidden_nodes"],
        activations=topology["activations"],
        number_of_elements=number_of_elements,
        elements_as_written=tuple(written),
        atom_energy=atom_energy,
        cutoff_type=cutoff_type,
        cutoff_alpha=cutoff_alpha,
        **flags,
        scaling_mode=mode,
        **s_minmax,
        global_hidden_layers_short=topology["global_hidden_layers_short"],
        global_nodes_short=topology["global_nodes_short"],
        global_activation_short=topology["global_activation_short"],
        element_hidden_layers_short=topology["element_hidden_layers_short"],
        element_nodes_short=topology["element_nodes_short"],
        element_activation_short=topology["element_activation_short"],
        normalize=normalize,
        **norm,
        conv_charge=conv_charge,
        nnp_type=nnp_type,
        keywords=keywords,
        unknown_keywords=unknown,
        path=path,
    )


def _activation_codes(words, path, line, keyword) -> tuple[str, ...]:
    for code in words:
        if code not in ACTIVATION_CODES:
            raise N2p2FormatError(
                path, line, f"unknown activation code {code!r} in {keyword}; "
                f"n2p2 knows {' '.join(ACTIVATION_CODES)}",
            )  # fmt: skip
    return tuple(words)


def _read_topology(kw: _Keywords, elements) -> dict:
    """Short-range network topology as n2p2 builds it (Mode::setupNeuralNetwork).

    n2p2 semantics, including two quirks of its per-element keywords:
    ``element_nodes_short <e> n_1 ... n_H`` must list all H hidden layers but
    n2p2 applies only n_1 ... n_{H-1} (the last hidden layer keeps the global
    size); ``element_activation_short <e> a_1 ... a_H a_out`` must list
    hidden and output layers but n2p2 applies only the hidden ones. An
    ignored value that differs from the one n2p2 uses gives an N2p2Warning.
    """
    path = kw.path
    out = {
        "global_hidden_layers_short": None,
        "global_nodes_short": None,
        "global_activation_short": None,
        "element_hidden_layers_short": {},
        "element_nodes_short": {},
        "element_activation_short": {},
    }
    n_hidden = {e: None for e in elements}
    global_hidden = 0
    if kw.has("global_hidden_layers_short"):
        line, words = kw.words("global_hidden_layers_short", 1, what="number of hidden layers")
        global_hidden = _int(words[0], path, line, "global_hidden_layers_short")
        if global_hidden < 0:
            raise N2p2FormatError(path, line, f"negative number of hidden layers {global_hidden}")
        out["global_hidden_layers_short"] = global_hidden
        n_hidden = {e: global_hidden for e in elements}
    for line, value in kw.all("element_hidden_layers_short"):
        e, n = _element_and_number(value, path, line, elements, "element_hidden_layers_short", _int)
        n_hidden[e] = n
        out["element_hidden_layers_short"][e] = n_hidden[e]
    for e, n in n_hidden.items():
        if n is None:
            raise N2p2FormatError(
                path, None, f"missing mandatory keyword global_hidden_layers_short (or "
                f"element_hidden_layers_short for element {e!r})",
            )  # fmt: skip

    global_nodes = global_acts = None
    if kw.has("global_nodes_short"):
        line, words = kw.words("global_nodes_short")
        global_nodes = tuple(_int(w, path, line, "global_nodes_short") for w in words)
        if len(global_nodes) != global_hidden:
            raise N2p2FormatError(
                path, line, f"global_nodes_short lists {len(global_nodes)} layers, "
                f"global_hidden_layers_short is {global_hidden}",
            )  # fmt: skip
        out["global_nodes_short"] = global_nodes
    if kw.has("global_activation_short"):
        line, words = kw.words("global_activation_short")
        global_acts = _activation_codes(words, path, line, "global_activation_short")
        if len(global_acts) != global_hidden + 1:
            raise N2p2FormatError(
                path, line, f"global_activation_short needs {global_hidden + 1} codes "
                f"(hidden layers + output), got {len(global_acts)}",
            )  # fmt: skip
        out["global_activation_short"] = global_acts

    # Layers 1..H hidden, H+1 output; 0 = unset as in n2p2.
    nodes = {e: [0] * (n_hidden[e] + 1) for e in elements}
    acts = {e: [""] * (n_hidden[e] + 1) for e in elements}
    for e in elements:
        nodes[e][-1] = 1
        if n_hidden[e] != global_hidden:
            continue
        if global_nodes is not None:
            nodes[e][:-1] = global_nodes
        if global_acts is not None:
            acts[e][:] = global_acts
    for line, value in kw.all("element_nodes_short"):
        words = value.split()
        e = _element(words[0], path, line, elements) if words else None
        values = tuple(_int(w, path, line, "element_nodes_short") for w in words[1:])
        if e is None or len(values) != n_hidden[e]:
            raise N2p2FormatError(
                path, line, f"element_nodes_short must list the element and one size per "
                f"hidden layer ({n_hidden.get(e, '?')}), got {value!r}",
            )  # fmt: skip
        out["element_nodes_short"][e] = values
        nodes[e][: len(values) - 1] = values[:-1]  # n2p2 skips the last hidden layer
        if values and values[-1] != nodes[e][len(values) - 1]:
            warnings.warn(
                f"{path}:{line}: n2p2 ignores the last value of element_nodes_short "
                f"({values[-1]}); layer {len(values)} of element {e} keeps "
                f"{nodes[e][len(values) - 1] or 'no'} neurons",
                N2p2Warning,
                stacklevel=3,
            )
    for line, value in kw.all("element_activation_short"):
        words = value.split()
        e = _element(words[0], path, line, elements) if words else None
        codes = _activation_codes(words[1:], path, line, "element_activation_short")
        if e is None or len(codes) != n_hidden[e] + 1:
            raise N2p2FormatError(
                path, line, f"element_activation_short must list the element and one code per "
                f"hidden layer plus the output layer, got {value!r}",
            )  # fmt: skip
        out["element_activation_short"][e] = codes
        acts[e][:-1] = codes[:-1]  # n2p2 skips the output layer
        if codes[-1] != acts[e][-1]:
            warnings.warn(
                f"{path}:{line}: n2p2 ignores the output-layer code of element_activation_short "
                f"({codes[-1]!r}); element {e} keeps {acts[e][-1] or 'no'!r}",
                N2p2Warning,
                stacklevel=3,
            )
    for e in elements:
        for layer, (n, a) in enumerate(zip(nodes[e], acts[e]), start=1):
            if n <= 0 or not a:
                what = "number of neurons" if n <= 0 else "activation function"
                raise N2p2FormatError(
                    path, None, f"network of element {e!r}: {what} of layer {layer} unset "
                    "(missing mandatory keyword global_nodes_short/global_activation_short "
                    "or inconsistent element_* keywords)",
                )  # fmt: skip
    out["hidden_nodes"] = {e: tuple(nodes[e][:-1]) for e in elements}
    out["activations"] = {e: tuple(acts[e]) for e in elements}
    return out


def write_input_nn(settings: N2p2Settings, path, other_keywords: bool = True) -> None:
    """Write ``settings`` as an n2p2 ``input.nn`` (n2p2 and LAMMPS read it).

    Writes the prediction keywords from the fields (symmetry functions in
    sorted order, full precision), then, with ``other_keywords``, every
    other keyword of ``settings.keywords`` (training, electrostatics,
    unknown) verbatim in file order.
    """
    s = settings
    lines = ["# n2p2 settings written by nnp_ref.io.n2p2"]

    def kv(keyword, value=""):
        lines.append(f"{keyword:<31s} {value}".rstrip())

    if s.normalize:
        kv("mean_energy", f"{s.mean_energy:24.16E}")
        kv("conv_energy", f"{s.conv_energy:24.16E}")
        kv("conv_length", f"{s.conv_length:24.16E}")
    if s.conv_charge is not None:
        kv("conv_charge", f"{s.conv_charge:24.16E}")
    if s.nnp_type != 2:
        kv("nnp_type", {v: k for k, v in NNP_TYPES.items()}[s.nnp_type])
    kv("number_of_elements", str(s.number_of_elements))
    kv("elements", " ".join(s.elements_as_written))
    for e in s.elements:
        if s.atom_energy.get(e, 0.0) != 0.0:
            kv("atom_energy", f"{e:2s} {s.atom_energy[e]:24.16E}")
    kv("cutoff_type", f"{s.cutoff_type} {s.cutoff_alpha!r}")
    for flag in ("scale_symmetry_functions", "center_symmetry_functions",
                 "scale_symmetry_functions_sigma"):  # fmt: skip
        if getattr(s, flag):
            kv(flag)
    kv("scale_min_short", repr(s.scale_min_short))
    kv("scale_max_short", repr(s.scale_max_short))
    if s.global_hidden_layers_short is not None:
        kv("global_hidden_layers_short", str(s.global_hidden_layers_short))
    if s.global_nodes_short is not None:
        kv("global_nodes_short", " ".join(map(str, s.global_nodes_short)))
    if s.global_activation_short is not None:
        kv("global_activation_short", " ".join(s.global_activation_short))
    for e, n in s.element_hidden_layers_short.items():
        kv("element_hidden_layers_short", f"{e} {n}")
    for e, ns in s.element_nodes_short.items():
        kv("element_nodes_short", f"{e} " + " ".join(map(str, ns)))
    for e, codes in s.element_activation_short.items():
        kv("element_activation_short", f"{e} " + " ".join(codes))
    if s.normalize_nodes:
        kv("normalize_nodes")
    for e in s.elements:
        lines.extend(format_symfunction(sf) for sf in s.symmetry_functions[e])
    if other_keywords:
        written = {
            "mean_energy", "conv_energy", "conv_length", "conv_charge", "nnp_type",
            "number_of_elements", "elements", "atom_energy", "cutoff_type",
            "scale_symmetry_functions", "center_symmetry_functions",
            "scale_symmetry_functions_sigma", "scale_min_short", "scale_max_short",
            "global_hidden_layers_short", "global_nodes_short", "global_activation_short",
            "element_hidden_layers_short", "element_nodes_short", "element_activation_short",
            "normalize_nodes", "symfunction_short",
        }  # fmt: skip
        rest = [
            (ln, word, value)
            for word, entries in s.keywords.items()
            if KEYWORD_ALIASES.get(word, word) not in written
            for ln, value in entries
        ]
        for _, word, value in sorted(rest):
            kv(word, value)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# scaling.data
# ---------------------------------------------------------------------------


class ScalingStatistics(NamedTuple):
    """Statistics of one element's functions, arrays of shape (s,), sorted order."""

    G_min: np.ndarray
    G_max: np.ndarray
    G_mean: np.ndarray
    G_sigma: np.ndarray


_RULE = "#" * 80
SCALING_HEADER = "\n".join(
    [
        _RULE,
        "# Symmetry function scaling data.",
        _RULE,
        "# Col  Name     Description",
        _RULE,
        "# 1    e_index  Element index.",
        "# 2    sf_index Symmetry function index.",
        "# 3    sf_min   Symmetry function minimum.",
        "# 4    sf_max   Symmetry function maximum.",
        "# 5    sf_mean  Symmetry function mean.",
        "# 6    sf_sigma Symmetry function sigma.",
        "#" * 121,
        "#        1          2" + "".join(f"{i:>25d}" for i in range(3, 7)),
        "#  e_index   sf_index"
        + "".join(f"{n:>25s}" for n in ("sf_min", "sf_max", "sf_mean", "sf_sigma")),
        "#" * 121,
    ]
)


def read_scaling(
    path, n_elements: int | None = None, n_functions: Sequence[int] | None = None
) -> dict[int, ScalingStatistics]:
    """Scaling statistics {element index (1-based): (min, max, mean, sigma)}.

    Element indices follow n2p2's element order (by atomic number), function
    indices the sorted order. Lines: ``e_index sf_index min max mean [sigma]``
    (sigma is optional in old files, then 0 as in n2p2), ``#`` comments.
    Checks: consecutive indices starting at 1, ``n_elements`` elements and
    ``n_functions[e-1]`` functions per element when given.
    """
    path = os.fspath(path)
    rows: dict[int, list[tuple[float, float, float, float]]] = {}
    last = (0, 0)
    last_line = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, text in enumerate(f, 1):
            last_line = lineno
            words = text.split()
            if not words or words[0].startswith("#"):
                continue
            if len(words) not in (5, 6):
                raise N2p2FormatError(
                    path, lineno, "expected 6 columns 'e_index sf_index min max mean sigma', "
                    f"got {len(words)}",
                )  # fmt: skip
            e = _int(words[0], path, lineno, "the element index")
            s = _int(words[1], path, lineno, "the symmetry function index")
            expected = [(last[0] + 1, 1)] + ([(last[0], last[1] + 1)] if last[0] else [])
            if (e, s) not in expected:
                wanted = " or ".join(f"{a} {b}" for a, b in reversed(expected))
                raise N2p2FormatError(
                    path, lineno, f"expected element and function index {wanted}, got {e} {s}"
                )
            if e == last[0] + 1 and n_functions is not None and last[0] >= 1:
                _check_count(path, lineno, last[0], last[1], n_functions)
            if n_elements is not None and e > n_elements:
                raise N2p2FormatError(path, lineno, f"element index {e} > {n_elements} elements")
            names = ("sf_min", "sf_max", "sf_mean", "sf_sigma")
            values = [_float(w, path, lineno, n) for w, n in zip(words[2:], names)]
            rows.setdefault(e, []).append((*values, 0.0)[:4])
            last = (e, s)
    if n_functions is not None and last[0] >= 1:
        _check_count(path, last_line, last[0], last[1], n_functions)
    n_found = len(rows)
    if n_elements is not None and n_found != n_elements:
        raise N2p2FormatError(
            path, last_line, f"expected scaling data for {n_elements} elements, found {n_found}"
        )
    return {
        e: ScalingStatistics(*(np.array(col, dtype=np.float64) for col in zip(*r)))
        for e, r in rows.items()
    }


def _check_count(path, line, e, count, n_functions):
    if e > len(n_functions) or count != n_functions[e - 1]:
        expected = n_functions[e - 1] if e <= len(n_functions) else 0
        raise N2p2FormatError(
            path, line, f"element {e}: expected {expected} scaling lines, found {count}"
        )


def write_scaling(path, statistics: Mapping[int, Sequence[np.ndarray]]) -> None:
    """Write ``{e_index: (min, max, mean, sigma)}`` in n2p2's scaling.data layout."""
    lines = [SCALING_HEADER]
    for e in sorted(statistics):
        columns = [np.asarray(c, dtype=np.float64) for c in statistics[e]]
        if len(columns) != 4 or len({c.shape for c in columns}) != 1:
            raise ValueError(f"element {e}: need four equal-length arrays (min, max, mean, sigma)")
        for s, row in enumerate(zip(*columns), start=1):
            lines.append(f"{e:10d} {s:10d} " + " ".join(f"{v:24.16E}" for v in row))
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# weights.ZZZ.data
# ---------------------------------------------------------------------------

WEIGHTS_HEADER = "\n".join(
    [
        _RULE,
        "# Neural network connection values (weights and biases).",
        _RULE,
        "# Col  Name       Description",
        _RULE,
        "# 1    connection Neural network connection value.",
        "# 2    t          Connection type (a = weight, b = bias).",
        "# 3    index      Index enumerating weights.",
        "# 4    l_s        Starting point layer (end point layer for biases).",
        "# 5    n_s        Starting point neuron in starting layer (end point neuron for biases).",
        "# 6    l_e        End point layer.",
        "# 7    n_e        End point neuron in end layer.",
        _RULE,
        "#                      1 2         3     4     5     6     7",
        "#             connection t     index   l_s   n_s   l_e   n_e",
        "#" * 60,
    ]
)


def weights_filename(element: str, fmt: str = "weights.{:03d}.data") -> str:
    """n2p2's weight file name of ``element``: ``weights.ZZZ.data``, ZZZ = atomic number."""
    return fmt.format(atomic_numbers[element])


def read_weights(path, expected: int | None = None) -> np.ndarray:
    """Flat parameter vector (float64) from an n2p2 weights file.

    The first column of every non-comment line, in file order: per layer the
    weights (source neuron outer, target neuron inner), then the biases
    (docs/architecture.md). If the line also has n2p2's ``a|b index ...``
    columns, the index must count 1, 2, ... With ``expected``, a different
    count is an error naming the line.
    """
    path = os.fspath(path)
    values: list[float] = []
    last_line = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, text in enumerate(f, 1):
            last_line = lineno
            words = text.split()
            if not words or words[0].startswith("#"):
                continue
            values.append(_float(words[0], path, lineno, "a weight"))
            if len(words) > 1:
                if words[1] not in ("a", "b") or len(words) not in (5, 7):
                    raise N2p2FormatError(
                        path, lineno, "expected 'value a index l_s n_s l_e n_e' or "
                        f"'value b index l_e n_e', got {text.strip()!r}",
                    )  # fmt: skip
                if _int(words[2], path, lineno, "the weight index") != len(values):
                    raise N2p2FormatError(
                        path, lineno, f"expected weight index {len(values)}, got {words[2]}"
                    )
            if expected is not None and len(values) == expected + 1:
                raise N2p2FormatError(
                    path, lineno, f"expected {expected} weights, found more (this is number "
                    f"{expected + 1})",
                )  # fmt: skip
    flat = np.array(values, dtype=np.float64)
    if expected is not None:
        check_weight_count(flat, expected, path, last_line)
    return flat


def check_weight_count(flat, expected: int, path="<weights>", line: int | None = None) -> None:
    """N2p2FormatError unless ``flat`` holds ``expected`` parameters."""
    if len(flat) != expected:
        where = f" (file ends at line {line})" if line is not None else ""
        raise N2p2FormatError(path, line, f"expected {expected} weights, found {len(flat)}{where}")


def write_weights(path, flat, layer_sizes: Sequence[int]) -> None:
    """Write a flat parameter vector in n2p2's weights file layout (full precision).

    ``layer_sizes`` = (n_inputs, hidden..., n_out) gives the a/b, index and
    layer/neuron columns n2p2 writes (NeuralNetwork::writeConnections).
    """
    flat = np.asarray(flat, dtype=np.float64).ravel()
    check_weight_count(flat, n_parameters(layer_sizes), os.fspath(path))
    lines = [WEIGHTS_HEADER]
    count = 0
    for layer in range(1, len(layer_sizes)):
        n_prev, n = layer_sizes[layer - 1], layer_sizes[layer]
        for j in range(n_prev):
            for k in range(n):
                lines.append(
                    f"{flat[count]:24.16E} a {count + 1:9d} {layer - 1:5d} {j + 1:5d} "
                    f"{layer:5d} {k + 1:5d}"
                )
                count += 1
        for k in range(n):
            lines.append(f"{flat[count]:24.16E} b {count + 1:9d} {layer:5d} {k + 1:5d}")
            count += 1
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------
# input.data
# ---------------------------------------------------------------------------


class _Block:
    """One structure while it is being read."""

    def __init__(self, begin: int):
        self.begin = begin
        self.comment: str | None = None
        self.lattice: list[tuple[float, float, float]] = []
        self.symbols: list[str] = []
        self.positions: list[tuple[float, float, float]] = []
        self.charges: list[float] = []
        self.forces: list[tuple[float, float, float]] = []
        self.energy: float | None = None
        self.charge: float | None = None
        self.tags: dict[str, str] = {}  # 'begin key=value' tags, e.g. set=train


_ATOM_COLUMNS = ("x", "y", "z", "element", "charge", "unused", "fx", "fy", "fz")


def _atom_line(words, path, line, block: _Block, elements) -> None:
    if len(words) != 10:
        raise N2p2FormatError(
            path, line, "expected 10 columns 'atom x y z element charge unused fx fy fz', "
            f"got {len(words)}",
        )  # fmt: skip
    symbol = _element(words[4], path, line, elements)
    try:
        x, y, z, q, _, fx, fy, fz = (float(w) for w in words[1:4] + words[5:10])
        if not all(map(math.isfinite, (x, y, z, q, fx, fy, fz))):
            raise ValueError
    except ValueError:
        for name, w in zip(_ATOM_COLUMNS, words[1:]):
            if name != "element":
                _float(w, path, line, f"atom column {name}")
        raise N2p2FormatError(path, line, f"bad atom line {' '.join(words)!r}") from None
    block.symbols.append(symbol)
    block.positions.append((x, y, z))
    block.charges.append(q)
    block.forces.append((fx, fy, fz))


def _finish_block(block: _Block, path, line, length_unit, energy_unit, require_energy) -> Atoms:
    if len(block.lattice) not in (0, 3):
        raise N2p2FormatError(
            path, line, f"structure begun at line {block.begin} has {len(block.lattice)} "
            "lattice lines; expected 3 (periodic) or none",
        )  # fmt: skip
    if not block.symbols:
        raise N2p2FormatError(path, line, f"structure begun at line {block.begin} has no atoms")
    if block.energy is None and require_energy:
        raise N2p2FormatError(
            path, line, f"structure begun at line {block.begin} has no 'energy' line"
        )
    periodic = len(block.lattice) == 3
    atoms = Atoms(
        symbols=block.symbols,
        positions=np.array(block.positions) * length_unit,
        cell=np.array(block.lattice) * length_unit if periodic else None,
        pbc=periodic,
    )
    atoms.set_initial_charges(np.array(block.charges))
    results = {"forces": np.array(block.forces) * (energy_unit / length_unit)}
    if block.energy is not None:
        results["energy"] = block.energy * energy_unit
    atoms.calc = SinglePointCalculator(atoms, **results)
    if block.comment is not None:
        atoms.info["comment"] = block.comment
    if block.charge is not None:
        atoms.info["charge"] = block.charge
    atoms.info.update(block.tags)
    return atoms


def iread_data(
    path,
    length_unit: float = 1.0,
    energy_unit: float = 1.0,
    elements: Sequence[str] | None = None,
    require_energy: bool = True,
) -> Iterator[Atoms]:
    """Structures of an n2p2 ``input.data`` one at a time (streaming).

    See :func:`read_data` for the conversions and the attached results.
    """
    path = os.fspath(path)
    block: _Block | None = None
    lineno = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for lineno, text in enumerate(f, 1):
            words = text.split()
            if not words:
                continue
            key = words[0]
            if block is None:
                if key != "begin":
                    what = "'end' without 'begin'" if key == "end" else f"{key!r}"
                    raise N2p2FormatError(path, lineno, f"expected 'begin', got {what}")
                tags = [w.split("=", 1) for w in words[1:]]
                if any(len(t) != 2 or not t[0] for t in tags):
                    raise N2p2FormatError(
                        path, lineno, f"expected 'begin' or 'begin key=value ...' (e.g. "
                        f"set=train), got {text.strip()!r}",
                    )  # fmt: skip
                block = _Block(lineno)
                block.tags = dict(tags)
            elif key == "atom":
                _atom_line(words, path, lineno, block, elements)
            elif key == "lattice":
                if len(words) != 4:
                    raise N2p2FormatError(
                        path, lineno, f"expected 'lattice ax ay az' (4 columns), got {len(words)}"
                    )
                if len(block.lattice) == 3:
                    raise N2p2FormatError(path, lineno, "more than 3 lattice lines")
                block.lattice.append(tuple(_float(w, path, lineno, "lattice") for w in words[1:]))
            elif key in ("energy", "charge"):
                if len(words) != 2:
                    raise N2p2FormatError(
                        path, lineno, f"expected '{key} <value>' (2 columns), got {len(words)}"
                    )
                if getattr(block, key) is not None:
                    raise N2p2FormatError(
                        path, lineno, f"second '{key}' line in the structure begun at line "
                        f"{block.begin}",
                    )  # fmt: skip
                setattr(block, key, _float(words[1], path, lineno, key))
            elif key == "comment":
                line = text.rstrip("\r\n")
                block.comment = line[line.find("comment") + len("comment") + 1 :]
            elif key == "end":
                if len(words) != 1:
                    raise N2p2FormatError(
                        path, lineno, f"expected 'end' alone, got {text.strip()!r}"
                    )
                yield _finish_block(block, path, lineno, length_unit, energy_unit, require_energy)
                block = None
            elif key == "begin":
                raise N2p2FormatError(
                    path, lineno, f"'begin' before the structure begun at line {block.begin} "
                    "was closed by 'end'",
                )  # fmt: skip
            else:
                raise N2p2FormatError(
                    path, lineno, f"unknown keyword {key!r}; expected comment, lattice, atom, "
                    "energy, charge or end",
                )  # fmt: skip
    if block is not None:
        raise N2p2FormatError(
            path, block.begin, f"structure begun at line {block.begin} has no 'end' "
            f"(file ends at line {lineno})",
        )  # fmt: skip


def read_data(
    path,
    length_unit: float = 1.0,
    energy_unit: float = 1.0,
    elements: Sequence[str] | None = None,
    require_energy: bool = True,
) -> list[Atoms]:
    """All structures of an n2p2 ``input.data`` as ``ase.Atoms`` in Å and eV.

    ``length_unit``: Å per file length unit (e.g. ``ase.units.Bohr``);
    ``energy_unit``: eV per file energy unit (e.g. ``ase.units.Hartree``);
    forces are converted by energy_unit/length_unit. Each Atoms carries a
    ``SinglePointCalculator`` with ``energy`` and ``forces``, per-atom
    charges as initial charges (``atoms.arrays['initial_charges']``), and
    ``atoms.info['comment']``/``['charge']`` (total charge) when the file
    has them. Three lattice lines make it periodic, none non-periodic.
    ``elements``: if given, other elements are an error. The unused column
    is dropped (n2p2 writes 0 there).
    """
    return list(iread_data(path, length_unit, energy_unit, elements, require_energy))


def format_structure(atoms: Atoms, length_unit: float = 1.0, energy_unit: float = 1.0) -> str:
    """One ``begin ... end`` block (n2p2's Structure::writeToFile layout)."""
    pbc = np.asarray(atoms.pbc, dtype=bool)
    if pbc.any() and not pbc.all():
        raise ValueError(f"n2p2 structures are periodic in all directions or none, got pbc={pbc}")
    for symbol in set(atoms.get_chemical_symbols()):
        if symbol not in KNOWN_ELEMENTS:
            raise ValueError(f"n2p2 cannot store element {symbol!r}")
    results = atoms.calc.results if atoms.calc is not None else {}
    energy = results.get("energy", 0.0) / energy_unit
    forces = np.asarray(results.get("forces", np.zeros((len(atoms), 3))))
    forces = forces * (length_unit / energy_unit)
    R = atoms.get_positions() / length_unit
    q = atoms.get_initial_charges()
    comment = str(atoms.info.get("comment", "")).replace("\n", " ")
    lines = ["begin", f"comment {comment}"]
    if pbc.all():
        cell = atoms.get_cell().array / length_unit
        if abs(np.linalg.det(cell)) == 0.0:
            raise ValueError("periodic structure with a singular cell")
        lines += [f"lattice {a:24.16E} {b:24.16E} {c:24.16E}" for a, b, c in cell]
    for s, (x, y, z), qi, (fx, fy, fz) in zip(atoms.get_chemical_symbols(), R, q, forces):
        lines.append(
            f"atom {x:24.16E} {y:24.16E} {z:24.16E} {s:>2s} {qi:24.16E} {0.0:24.16E} "
            f"{fx:24.16E} {fy:24.16E} {fz:24.16E}"
        )
    lines.append(f"energy {energy:24.16E}")
    lines.append(f"charge {atoms.info.get('charge', 0.0):24.16E}")
    lines.append("end")
    return "\n".join(lines) + "\n"


def write_data(
    atoms_list: Atoms | Iterable[Atoms], path, length_unit: float = 1.0, energy_unit: float = 1.0
) -> None:
    """Write structures as n2p2 ``input.data`` (full precision, units as in read_data).

    Energy and forces come from ``atoms.calc.results`` (0 if absent),
    charges from the initial charges, comment and total charge from
    ``atoms.info``.
    """
    if isinstance(atoms_list, Atoms):
        atoms_list = [atoms_list]
    with open(path, "w", encoding="utf-8") as f:
        for atoms in atoms_list:
            f.write(format_structure(atoms, length_unit, energy_unit))


# ---------------------------------------------------------------------------
# A whole n2p2 potential directory
# ---------------------------------------------------------------------------


@dataclass
class N2p2Files:
    """Contents of an n2p2 potential directory, all in file units.

    ``scaling[e]`` and ``weights[e]`` are keyed by element symbol;
    ``scaling`` is None when the settings use no scaling and no file exists.
    """

    settings: N2p2Settings
    scaling: dict[str, ScalingStatistics] | None
    weights: dict[str, np.ndarray]


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
        by_index = read_scaling(scaling_path, len(elements), n_functions)
        stats = {e: by_index[i + 1] for i, e in enumerate(elements)}
    flat = {
        e: read_weights(
            os.path.join(directory, weights_filename(e, weights)), settings.n_parameters(e)
        )
        for e in elements
    }
    return N2p2Files(settings=settings, scaling=stats, weights=flat)


# ---------------------------------------------------------------------------
# Potentials: n2p2 files <-> nnp_ref.Potential (units converted here)
# ---------------------------------------------------------------------------

_SCALING_FLAGS = {
    "none": (False, False, False),
    "scale": (True, False, False),
    "center": (False, True, False),
    "scalecenter": (True, True, False),
    "scalesigma": (False, False, True),
}


def read_potential(directory, length_unit: float = 1.0, energy_unit: float = 1.0):
    """An n2p2 potential directory as an :class:`nnp_ref.model.potential.Potential` (eV, Å).

    ``length_unit``/``energy_unit``: the files' units in Å and eV (e.g.
    ``ase.units.Bohr``, ``ase.units.Hartree``). The network input order is
    n2p2's sorted order, and E_i = y_i energy_unit/conv_energy +
    (mean_energy + atom_energy_i) energy_unit (see the module docstring).
    """
    from nnp_ref.model.network import from_flat
    from nnp_ref.model.potential import Potential
    from nnp_ref.model.scaling import Scaling

    files = read_n2p2_files(directory)
    s = files.settings
    if s.nnp_type != 2:
        raise ValueError(
            f"{s.path}: nnp_type {s.nnp_type} (4G/Q-HDNNP) is not supported; "
            "nnp_ref implements second-generation (short-range) HDNNPs"
        )
    sf_sets, scalings, networks, offsets = {}, {}, {}, {}
    for e in s.elements:
        sf_sets[e] = [convert_length(sf, length_unit) for sf in s.symmetry_functions[e]]
        if files.scaling is None:
            scalings[e] = Scaling.identity(len(sf_sets[e]))
        else:
            st = files.scaling[e]
            scalings[e] = Scaling(
                s.scaling_mode, st.G_min, st.G_max, st.G_mean, st.G_sigma,
                s.scale_min_short, s.scale_max_short,
            )  # fmt: skip
        networks[e] = from_flat(
            s.layer_sizes(e), files.weights[e], s.activations[e], s.normalize_nodes
        )
        offsets[e] = s.energy_offset(e) * energy_unit
    return Potential(
        s.elements,
        sf_sets,
        networks,
        scalings=scalings,
        energy_offsets=offsets,
        energy_scale=energy_unit / s.conv_energy,
        metadata={
            "source": os.path.abspath(os.fspath(directory)),
            "format": "n2p2",
            "length_unit": length_unit,
            "energy_unit": energy_unit,
        },
    )


def write_potential(potential, directory, length_unit: float = 1.0, energy_unit: float = 1.0):
    """Write a potential as n2p2 files (``input.nn``, ``scaling.data``, ``weights.ZZZ.data``).

    Lengths and energies are written in ``length_unit`` Å and ``energy_unit``
    eV. Each element's functions are written, and the network's input rows
    and scaling statistics permuted, in n2p2's sorted order, so n2p2 and
    LAMMPS (``pair_style hdnnp``) read the files as they are. The energy
    scale becomes conv_energy (with mean_energy = 0, conv_length = 1) and
    the per-element offsets become ``atom_energy``.
    """
    from nnp_ref.model.network import layer_sizes, to_flat

    os.makedirs(directory, exist_ok=True)
    elements = sort_elements(potential.elements)
    all_sfs = [sf for e in elements for sf in potential.symmetry_functions[e]]
    cutoffs = {(sf.cutoff_type, sf.alpha) for sf in all_sfs if sf.type < 20}
    if len(cutoffs) > 1:
        raise ValueError(f"n2p2 needs one cutoff type for all functions, got {sorted(cutoffs)}")
    cutoff_type, alpha = cutoffs.pop() if cutoffs else (1, 0.0)
    topologies = {
        (layer_sizes(potential.networks[e])[1:-1], potential.networks[e].activations)
        for e in elements
    }
    if len(topologies) > 1:
        raise ValueError(
            "write_potential writes one global network topology; the elements' "
            f"networks differ: {sorted(topologies)}"
        )
    hidden, activations = topologies.pop()
    normalize_nodes = {potential.networks[e].normalize for e in elements}
    if len(normalize_nodes) > 1:
        raise ValueError("normalize_nodes differs between the elements' networks")
    modes = {potential.scalings[e].mode for e in elements}
    limits = {(potential.scalings[e].s_min, potential.scalings[e].s_max) for e in elements}
    if len(modes) > 1 or len(limits) > 1:
        raise ValueError("n2p2 needs one scaling mode and one [s_min, s_max] for all elements")
    mode, (s_min, s_max) = modes.pop(), limits.pop()
    conv_energy = energy_unit / potential.energy_scale
    sf_sets, stats, flat = {}, {}, {}
    for e in elements:
        file_sfs = [convert_length(sf, 1.0 / length_unit) for sf in potential.symmetry_functions[e]]
        order = sort_order(file_sfs)
        sf_sets[e] = [file_sfs[k] for k in order]
        sc = potential.scalings[e]
        stats[e] = tuple(np.asarray(a)[order] for a in (sc.G_min, sc.G_max, sc.G_mean, sc.G_sigma))
        net = potential.networks[e]
        W0 = net.weights[0][order]  # input rows follow the sorted functions
        flat[e] = to_flat(dataclasses.replace(net, weights=[W0, *net.weights[1:]]))
    scale, center, sigma = _SCALING_FLAGS[mode]
    settings = N2p2Settings(
        elements=elements,
        symmetry_functions=sf_sets,
        symmetry_function_lines={e: [0] * len(sf_sets[e]) for e in elements},
        hidden_nodes={e: tuple(hidden) for e in elements},
        activations={e: tuple(activations) for e in elements},
        number_of_elements=len(elements),
        elements_as_written=elements,
        atom_energy={e: potential.energy_offsets[e] / energy_unit for e in elements},
        cutoff_type=int(cutoff_type),
        cutoff_alpha=float(alpha),
        scale_symmetry_functions=scale,
        center_symmetry_functions=center,
        scale_symmetry_functions_sigma=sigma,
        scaling_mode=mode,
        scale_min_short=float(s_min),
        scale_max_short=float(s_max),
        global_hidden_layers_short=len(hidden),
        global_nodes_short=tuple(hidden),
        global_activation_short=tuple(activations),
        normalize_nodes=normalize_nodes.pop(),
        normalize=conv_energy != 1.0,
        mean_energy=0.0,
        conv_energy=conv_energy,
        conv_length=1.0,
    )
    write_input_nn(settings, os.path.join(directory, "input.nn"), other_keywords=False)
    write_scaling(  # n2p2 reads scaling.data even when it does not scale
        os.path.join(directory, "scaling.data"),
        {k + 1: stats[e] for k, e in enumerate(elements)},
    )
    for e in elements:
        sizes = (len(sf_sets[e]), *hidden, 1)
        write_weights(os.path.join(directory, weights_filename(e)), flat[e], sizes)


__all__ = [
    "KNOWN_KEYWORDS",
    "N2p2Files",
    "N2p2FormatError",
    "N2p2Settings",
    "N2p2Warning",
    "ScalingStatistics",
    "check_weight_count",
    "convert_length",
    "format_structure",
    "format_symfunction",
    "iread_data",
    "n2p2_sort_key",
    "n_parameters",
    "parse_symfunction",
    "read_data",
    "read_input_nn",
    "read_n2p2_files",
    "read_potential",
    "read_scaling",
    "read_weights",
    "scaling_mode",
    "sort_order",
    "sort_symmetry_functions",
    "weights_filename",
    "write_data",
    "write_input_nn",
    "write_potential",
    "write_scaling",
    "write_weights",
]
