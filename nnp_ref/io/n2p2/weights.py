"""``weights.ZZZ.data``: the flat weights and biases of one element's network.

ZZZ is the atomic number. One value per line, first column, in n2p2's
order (``NeuralNetwork::writeConnections``): per layer the weights (source
neuron outer, target neuron inner), then the biases; n2p2 adds the columns
``a|b index l_s n_s l_e n_e`` (``l_e n_e`` only for biases).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
from ase.data import atomic_numbers

from nnp_ref.io.atomic import atomic_write_text
from nnp_ref.io.n2p2.lines import LineReader, N2p2FormatError

_RULE = "#" * 80
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


def n_parameters(layer_sizes: Sequence[int]) -> int:
    """Number of weights and biases, sum_l (n_{l-1} n_l + n_l)."""
    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))


def read_weights(path, expected: int | None = None) -> np.ndarray:
    """Flat parameter vector (float64) from an n2p2 weights file.

    The first column of every non-comment line, in file order: per layer the
    weights (source neuron outer, target neuron inner), then the biases
    (docs/architecture.md). If the line also has n2p2's ``a|b index ...``
    columns, the index must count 1, 2, ... With ``expected``, a different
    count is an error naming the line.
    """
    reader = LineReader(path, line_comments="#")
    values: list[float] = []
    for line in reader:
        words = line.tokens
        values.append(line.float(words[0], "a weight"))
        if len(words) > 1:
            if words[1] not in ("a", "b") or len(words) not in (5, 7):
                raise line.error(
                    "expected 'value a index l_s n_s l_e n_e' or "
                    f"'value b index l_e n_e', got {line.text.strip()!r}"
                )
            if line.int(words[2], "the weight index") != len(values):
                raise line.error(f"expected weight index {len(values)}, got {words[2]}")
        if expected is not None and len(values) == expected + 1:
            raise line.error(
                f"expected {expected} weights, found more (this is number {expected + 1})"
            )
    flat = np.array(values, dtype=np.float64)
    if expected is not None:
        check_weight_count(flat, expected, reader.path, reader.last)
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
    atomic_write_text(path, "\n".join(lines) + "\n")
