"""input.nn keywords: n2p2's keyword list, and a table of how each value is read.

``Settings.cpp`` defines the keywords, their aliases and which may repeat;
comments start at ``#`` or ``!``. :data:`SETTINGS_TABLE` maps each simple
keyword to a value parser and the :class:`~nnp_ref.io.n2p2.input_nn.N2p2Settings`
field it fills; keywords with structure (elements, cutoff, normalisation,
symmetry functions, network topology) have their own small readers in
:mod:`~nnp_ref.io.n2p2.input_nn` and :mod:`~nnp_ref.io.n2p2.topology`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from nnp_ref.io.n2p2.lines import Line, LineReader, N2p2FormatError, N2p2Warning

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


def read_keyword_lines(path) -> dict[str, list[Line]]:
    """{keyword as written: [Line, ...]} of a settings file (Settings::parseLines)."""
    keywords: dict[str, list[Line]] = {}
    for line in LineReader(path, inline_comments="#!"):
        keywords.setdefault(line.tokens[0], []).append(line)
    return keywords


def warn_unknown(keywords: dict[str, list[Line]]) -> list[tuple[int, str]]:
    """Warn about (n2p2: ignore) unknown keywords; return them as [(line, keyword)]."""
    unknown = sorted(
        (line.number, word)
        for word, lines in keywords.items()
        if word not in KNOWN_KEYWORDS
        for line in lines
    )
    for lines in keywords.values():
        for line in lines:
            if line.tokens[0] not in KNOWN_KEYWORDS:
                warnings.warn(
                    f"{line.path}:{line.number}: unknown keyword {line.tokens[0]!r} "
                    "(n2p2 ignores it with a warning)",
                    N2p2Warning,
                    stacklevel=3,
                )
    return unknown


def check_duplicates(path, keywords: dict[str, list[Line]]) -> None:
    """n2p2 refuses repeated keywords except REPEATABLE_KEYWORDS, and mixed aliases."""
    for word, entries in keywords.items():
        if len(entries) > 1 and KEYWORD_ALIASES.get(word, word) not in REPEATABLE_KEYWORDS:
            if word in KNOWN_KEYWORDS:
                lines = ", ".join(str(line.number) for line in entries)
                raise entries[1].error(
                    f"keyword {word!r} given more than once (lines {lines}); "
                    "n2p2 treats this as a critical error"
                )
    mains: dict[str, list[str]] = {}
    for word in keywords:
        mains.setdefault(KEYWORD_ALIASES.get(word, word), []).append(word)
    for main, words in mains.items():
        if len(words) > 1:
            line = min(keywords[w][0].number for w in words)
            raise N2p2FormatError(
                path, line, f"alternative names {', '.join(sorted(words))} of keyword {main!r} "
                "used together (n2p2: critical error)",
            )  # fmt: skip


class Keywords:
    """Lines of each main keyword (aliases resolved), in file order."""

    def __init__(self, path, keywords: dict[str, list[Line]]):
        self.path = os.fspath(path)
        self.by_main: dict[str, list[Line]] = {}
        for word, lines in keywords.items():
            self.by_main.setdefault(KEYWORD_ALIASES.get(word, word), []).extend(lines)
        for lines in self.by_main.values():
            lines.sort(key=lambda line: line.number)

    def has(self, main: str) -> bool:
        return main in self.by_main

    def all(self, main: str) -> list[Line]:
        return self.by_main.get(main, [])

    def one(self, main: str, required: bool = False) -> Line | None:
        """The (single) line of a keyword; None if absent and not ``required``."""
        lines = self.all(main)
        if not lines and required:
            raise N2p2FormatError(self.path, None, f"missing mandatory keyword {main!r}")
        return lines[0] if lines else None


# ---------------------------------------------------------------------------
# Value parsers: (line, keyword, elements) -> value; the value is line.tokens[1:]
# ---------------------------------------------------------------------------


def values(line: Line, keyword: str, n_min: int, n_max: int, what: str) -> list[str]:
    """The value tokens of a keyword line, between n_min and n_max of them."""
    words = line.tokens[1:]
    if not n_min <= len(words) <= n_max:
        count = str(n_min) if n_min == n_max else f"{n_min} to {n_max}"
        raise line.error(
            f"{keyword} takes {count} value(s) ({what}), got {len(words)}: {line.value!r}"
        )
    return words


def flag(line: Line, keyword: str, elements) -> bool:
    """A keyword without a value: present means True."""
    if len(line.tokens) > 1:
        raise line.error(f"keyword {keyword} takes no value, got {line.value!r}")
    return True


def real(line: Line, keyword: str, elements) -> float:
    return line.float(values(line, keyword, 1, 1, keyword)[0], keyword)


def integer(line: Line, keyword: str, elements) -> int:
    return line.int(values(line, keyword, 1, 1, keyword)[0], keyword)


def word(line: Line, keyword: str, elements) -> str:
    return values(line, keyword, 1, 1, keyword)[0]


def reals(n_min: int, n_max: int, what: str) -> Callable:
    """Parser of ``n_min`` to ``n_max`` numbers, as a tuple."""

    def parse(line: Line, keyword: str, elements) -> tuple[float, ...]:
        return tuple(line.float(w, keyword) for w in values(line, keyword, n_min, n_max, what))

    return parse


def nnp_type(line: Line, keyword: str, elements) -> int:
    """``nnp_type`` (alias ``nnp_generation``): 2G-HDNNP, 4G-HDNNP, Q-HDNNP or 2, 4, 10."""
    token = values(line, "nnp_type", 1, 1, "2G-HDNNP, 4G-HDNNP, Q-HDNNP or 2, 4, 10")[0]
    code = NNP_TYPES.get(token) or line.int(token, "nnp_type")
    if code not in NNP_TYPES.values():
        raise line.error(
            f"unknown nnp_type {token!r} (n2p2 knows 2G-HDNNP, 4G-HDNNP, Q-HDNNP or 2, 4, 10)"
        )
    return code


def element_and(convert: str) -> Callable:
    """Parser of ``<keyword> <element> <number>`` (``convert``: "float" or "int")."""

    def parse(line: Line, keyword: str, elements) -> tuple[str, float | int]:
        if len(line.tokens) != 3:
            what = "<energy>" if keyword == "atom_energy" else "<n>"
            raise line.error(f"expected '{keyword} <element> {what}', got {line.value!r}")
        number = getattr(line, convert)(line.tokens[2], keyword)
        return line.element(line.tokens[1], elements), number

    return parse


def positive(line: Line, keyword: str, value) -> None:
    """Every number of the value must be > 0 (unit factors, widths, precisions)."""
    numbers = value[1:] if isinstance(value, tuple) and isinstance(value[0], str) else value
    for x in numbers if isinstance(numbers, tuple) else (numbers,):
        if not x > 0:
            raise line.error(f"{keyword} must be positive, got {x!r}")


def increasing(line: Line, keyword: str, value) -> None:
    """Two numbers 0 <= a < b (``screen_electrostatics <inner> <outer>``)."""
    if not 0 <= value[0] < value[1]:
        raise line.error(f"{keyword} needs 0 <= inner < outer, got {line.value!r}")


@dataclass(frozen=True)
class Rule:
    """How a keyword is read: value parser, settings field, default, value check.

    ``per_element``: the keyword repeats as ``<keyword> <element> <value>``
    and fills a dict {element: value} (``default`` for elements without a
    line; None leaves them out). ``check(line, keyword, value)`` raises for
    a value n2p2 would accept but that gives meaningless numbers (e.g.
    ``conv_energy 0``).
    """

    parse: Callable[[Line, str, tuple], object]
    target: str
    default: object = None
    per_element: bool = False
    check: Callable[[Line, str, object], None] | None = None


#: Simple keywords (Mode.cpp): keyword -> Rule. Aliases are resolved first.
SETTINGS_TABLE = {
    "atom_energy": Rule(element_and("float"), "atom_energy", 0.0, per_element=True),
    "mean_energy": Rule(real, "mean_energy", 0.0),
    "conv_energy": Rule(real, "conv_energy", 1.0, check=positive),
    "conv_length": Rule(real, "conv_length", 1.0, check=positive),
    "conv_charge": Rule(real, "conv_charge", check=positive),
    "nnp_type": Rule(nnp_type, "nnp_type", 2),
    "scale_symmetry_functions": Rule(flag, "scale_symmetry_functions", False),
    "center_symmetry_functions": Rule(flag, "center_symmetry_functions", False),
    "scale_symmetry_functions_sigma": Rule(flag, "scale_symmetry_functions_sigma", False),
    "scale_min_short": Rule(real, "scale_min_short", 0.0),
    "scale_max_short": Rule(real, "scale_max_short", 1.0),
    "normalize_nodes": Rule(flag, "normalize_nodes", False),
    # 4G-HDNNP (Mode::setupElectrostatics), read for nnp_ref.io.n2p2.fourth_generation
    "fixed_gausswidth": Rule(
        element_and("float"), "fixed_gausswidth", per_element=True, check=positive
    ),
    "screen_electrostatics": Rule(
        reals(2, 2, "inner outer"), "screen_electrostatics", check=increasing
    ),
    "ewald_truncation_error_method": Rule(integer, "ewald_truncation_error_method"),
    "ewald_prec": Rule(
        reals(1, 3, "precision [max_charge [max_qsigma]]"), "ewald_prec", check=positive
    ),
    "four_pi_epsilon": Rule(real, "four_pi_epsilon", check=positive),
    "kspace_solver": Rule(word, "kspace_solver"),
}


def _parse_checked(rule: Rule, line: Line, keyword: str, elements):
    value = rule.parse(line, keyword, elements)
    if rule.check is not None:
        rule.check(line, keyword, value)
    return value


def apply_rule(kw: Keywords, keyword: str, rule: Rule, elements):
    """The value of one keyword of :data:`SETTINGS_TABLE` (its default if absent)."""
    if not rule.per_element:
        line = kw.one(keyword)
        return rule.default if line is None else _parse_checked(rule, line, keyword, elements)
    table = {} if rule.default is None else {e: rule.default for e in elements}
    for line in kw.all(keyword):
        element, value = _parse_checked(rule, line, keyword, elements)
        table[element] = value
    return table
