"""n2p2 file formats: ``input.nn``, ``scaling.data``, ``weights.ZZZ.data``, ``input.data``.

Parsing and writing only, no science: every function returns plain data
(dataclasses, NumPy arrays, ``ase.Atoms``) in the units of the file, except
``read_data``/``write_data`` and ``read_potential``/``write_potential``,
which convert to and from Å/eV. The rules follow n2p2's source
(A. Singraber et al., J. Chem. Theory Comput. 15, 1827 (2019);
https://github.com/CompPhysVienna/n2p2, ``src/libnnp``):

==============================  ============================================  =====================
module                          file format / idea                            n2p2 source
==============================  ============================================  =====================
:mod:`.lines`                   one line reader, ``path:line:`` errors        ``Settings.cpp``
:mod:`.keywords`                input.nn keyword list, aliases, value table   ``Settings.cpp``
:mod:`.input_nn`                input.nn settings: elements, cutoff, scaling  ``Mode.cpp``
:mod:`.topology`                network topology keywords                     ``Mode.cpp``
:mod:`.symmetry_function_lines` ``symfunction_short`` lines, sort order       ``SymFnc*.cpp``
:mod:`.scaling_data`            ``scaling.data``                              ``SymFnc.cpp``
:mod:`.weights`                 ``weights.ZZZ.data``                          ``NeuralNetwork.cpp``
:mod:`.input_data`              ``input.data`` structures                     ``Structure.cpp``
:mod:`.potential`               directory <-> ``Potential``, unit algebra     ``Prediction.cpp``
:mod:`.fourth_generation`       4G-HDNNP files (``weightse``, ``hardness``)   ``Mode.cpp``
==============================  ============================================  =====================

Elements are indexed in order of atomic number (``ElementMap.cpp``).
Malformed files raise :class:`N2p2FormatError` (a
:class:`~nnp_ref.io.errors.FileFormatError`, a ``ValueError``) naming the
file, the line and what was expected. Numbers are finite; values n2p2
would accept but that give meaningless numbers (``conv_energy 0``, a
``scaling.data`` row with a column missing, sigma < 0, min > max) are
errors too. Writers are atomic (:mod:`nnp_ref.io.atomic`).
"""

from nnp_ref.io.n2p2.input_data import format_structure, iread_data, read_data, write_data
from nnp_ref.io.n2p2.input_nn import (
    SCALING_MODES,
    N2p2Settings,
    read_input_nn,
    scaling_mode,
    write_input_nn,
)
from nnp_ref.io.n2p2.keywords import (
    CUTOFF_TYPE_CODES,
    KEYWORD_ALIASES,
    KNOWN_KEYWORDS,
    NNP_TYPES,
    PREDICTION_KEYWORDS,
    REPEATABLE_KEYWORDS,
    SETTINGS_TABLE,
    TRAINING_KEYWORDS,
)
from nnp_ref.io.n2p2.lines import (
    KNOWN_ELEMENTS,
    Line,
    LineReader,
    N2p2FormatError,
    N2p2Warning,
    sort_elements,
)
from nnp_ref.io.n2p2.potential import (
    N2p2Files,
    PotentialParts,
    potential_parts,
    read_n2p2_files,
    read_potential,
    write_potential,
)
from nnp_ref.io.n2p2.scaling_data import (
    SCALING_HEADER,
    ScalingStatistics,
    read_scaling,
    write_scaling,
)
from nnp_ref.io.n2p2.symmetry_function_lines import (
    SYMFUNCTION_PARAMETERS,
    convert_length,
    format_symfunction,
    n2p2_sort_key,
    parse_symfunction,
    sort_order,
    sort_symmetry_functions,
)
from nnp_ref.io.n2p2.weights import (
    WEIGHTS_HEADER,
    check_weight_count,
    n_parameters,
    read_weights,
    weights_filename,
    write_weights,
)

__all__ = [
    "CUTOFF_TYPE_CODES",
    "KEYWORD_ALIASES",
    "KNOWN_ELEMENTS",
    "KNOWN_KEYWORDS",
    "NNP_TYPES",
    "PREDICTION_KEYWORDS",
    "REPEATABLE_KEYWORDS",
    "SCALING_HEADER",
    "SCALING_MODES",
    "SETTINGS_TABLE",
    "SYMFUNCTION_PARAMETERS",
    "TRAINING_KEYWORDS",
    "WEIGHTS_HEADER",
    "Line",
    "LineReader",
    "N2p2Files",
    "N2p2FormatError",
    "N2p2Settings",
    "N2p2Warning",
    "PotentialParts",
    "ScalingStatistics",
    "check_weight_count",
    "convert_length",
    "format_structure",
    "format_symfunction",
    "iread_data",
    "n2p2_sort_key",
    "n_parameters",
    "parse_symfunction",
    "potential_parts",
    "read_data",
    "read_input_nn",
    "read_n2p2_files",
    "read_potential",
    "read_scaling",
    "read_weights",
    "scaling_mode",
    "sort_elements",
    "sort_order",
    "sort_symmetry_functions",
    "weights_filename",
    "write_data",
    "write_input_nn",
    "write_potential",
    "write_scaling",
    "write_weights",
]
