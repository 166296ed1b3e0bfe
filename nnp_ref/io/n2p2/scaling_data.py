"""``scaling.data``: per-element statistics of the symmetry functions.

One line per function (``SymFnc::setScalingType``/``scalingLine``):
``e_index sf_index sf_min sf_max sf_mean sf_sigma``, element indices in
n2p2's element order (by atomic number), function indices in the sorted
order; lines starting with ``#`` are comments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from nnp_ref.io.atomic import atomic_write_text
from nnp_ref.io.n2p2.lines import Line, LineReader, N2p2FormatError


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


_COLUMNS = ("sf_min", "sf_max", "sf_mean", "sf_sigma")


def read_scaling(
    path,
    n_elements: int | None = None,
    n_functions: Sequence[int] | None = None,
    need_sigma: bool = False,
) -> dict[int, ScalingStatistics]:
    """Scaling statistics {element index (1-based): (min, max, mean, sigma)}.

    Element indices follow n2p2's element order (by atomic number), function
    indices the sorted order. Lines: ``e_index sf_index min max mean [sigma]``
    (sigma is optional in old files, then 0 as in n2p2; ``need_sigma``
    makes it required), ``#`` comments, and optionally RuNNer's closing line
    ``E_min E_max`` (two numbers, ignored by n2p2 and here).
    Checks: consecutive indices starting at 1, ``n_elements`` elements and
    ``n_functions[e-1]`` functions per element when given, every row with the
    same number of columns (a row missing a column is an error, not a shorter
    row), min <= mean <= max and 0 <= sigma <= max - min.
    """
    reader = LineReader(path, line_comments="#")
    rows: dict[int, list[tuple[float, float, float, float]]] = {}
    last, first, closing = (0, 0), None, None
    for line in reader:
        if closing is not None:  # the two-number line was not the last one
            raise closing.error(_columns_message(closing, 6))
        if len(line.tokens) == 2 and first is not None:
            for token, name in zip(line.tokens, ("E_min", "E_max")):
                line.float(token, name)
            closing = line
            continue
        first = first or line
        e, s = _indices(line, last, n_elements)
        if e == last[0] + 1 and n_functions is not None and last[0] >= 1:
            _check_count(reader.path, line.number, last[0], last[1], n_functions)
        rows.setdefault(e, []).append(_row_values(line, first, need_sigma))
        last = (e, s)
    if n_functions is not None and last[0] >= 1:
        _check_count(reader.path, reader.last, last[0], last[1], n_functions)
    n_found = len(rows)
    if n_elements is not None and n_found != n_elements:
        raise N2p2FormatError(
            reader.path, reader.last,
            f"expected scaling data for {n_elements} elements, found {n_found}",
        )  # fmt: skip
    return {
        e: ScalingStatistics(*(np.array(col, dtype=np.float64) for col in zip(*r)))
        for e, r in rows.items()
    }


def _columns_message(line: Line, n: int) -> str:
    return f"expected {n} columns 'e_index sf_index min max mean sigma', got {len(line.tokens)}"


def _row_values(line: Line, first: Line, need_sigma: bool) -> tuple[float, float, float, float]:
    """(min, max, mean, sigma) of a row, checked for consistency with itself and the file."""
    if len(line.tokens) != len(first.tokens):
        raise line.error(
            f"{_columns_message(line, len(first.tokens))} (the first row, line {first.number}, "
            f"has {len(first.tokens)}): a column is missing or extra"
        )
    if need_sigma and len(line.tokens) != 6:
        raise line.error(f"{_columns_message(line, 6)}: scaling mode scalesigma needs sigma")
    G_min, G_max, G_mean, G_sigma = (
        *(line.float(w, n) for w, n in zip(line.tokens[2:], _COLUMNS)), 0.0
    )[:4]  # fmt: skip
    tol = 1e-9 * max(abs(G_min), abs(G_max), 1e-300)  # rounding of the printed mean
    if not G_min <= G_max:
        raise line.error(f"sf_min {G_min!r} > sf_max {G_max!r}")
    if not G_min - tol <= G_mean <= G_max + tol:
        raise line.error(f"sf_mean {G_mean!r} outside [sf_min, sf_max] = [{G_min!r}, {G_max!r}]")
    if not 0.0 <= G_sigma <= G_max - G_min + tol:
        raise line.error(f"sf_sigma {G_sigma!r} outside [0, sf_max - sf_min = {G_max - G_min!r}]")
    return G_min, G_max, G_mean, G_sigma


def _indices(line: Line, last: tuple[int, int], n_elements: int | None) -> tuple[int, int]:
    """(element index, function index) of a row, checked to follow ``last``."""
    if len(line.tokens) not in (5, 6):
        raise line.error(_columns_message(line, 6))
    e = line.int(line.tokens[0], "the element index")
    s = line.int(line.tokens[1], "the symmetry function index")
    expected = [(last[0] + 1, 1)] + ([(last[0], last[1] + 1)] if last[0] else [])
    if (e, s) not in expected:
        wanted = " or ".join(f"{a} {b}" for a, b in reversed(expected))
        raise line.error(f"expected element and function index {wanted}, got {e} {s}")
    if n_elements is not None and e > n_elements:
        raise line.error(f"element index {e} > {n_elements} elements")
    return e, s


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
    atomic_write_text(path, "\n".join(lines) + "\n")
