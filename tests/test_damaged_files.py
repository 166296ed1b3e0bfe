"""Damaged-file corpus: n2p2 potentials, input.data and model.json (issue 16).

Variants are generated here, deterministically (seeded), from good files:
the RPBE-D3 water potential (../shared/n2p2/H2O_RPBE-D3), the first three
structures of its data set, and a small model.json. Each variant goes
through the Python API (read_potential, read_data, load_model) and must
give either

- a :class:`~nnp_ref.io.errors.FileFormatError` whose message is one line,
  starts with the path of a file of the variant and names a line or a key
  (or says what is missing), or
- a result equal to the good file's (energy and forces bit for bit), finite.

Never another exception type and never NaN. What the corpus leaves out on
purpose, because no reader can tell it from a valid file: a number
changed into another valid number (a truncation inside the last number,
``12.0`` -> ``1``), and deleting a line that is legitimately optional and
changes the meaning (``atom_energy``, ``center_symmetry_functions``, an
``atom`` line of a structure): truncations cut at whitespace, and
deletions in input.nn and input.data only touch lines a reader can miss.
"""

import json
import math
import re
import shutil
import warnings

import numpy as np
import pytest
from ase.units import Bohr, Hartree

from nnp_ref.io.errors import FileFormatError
from nnp_ref.io.model_json import load_model, potential_to_dict
from nnp_ref.io.n2p2 import N2p2Warning, read_data, read_potential
from nnp_ref.model.potential import evaluate_atoms
from tests.test_io_model_json import small_potential, water

SEED = 16
WATER = "H2O_RPBE-D3"
UNITS = {"length_unit": Bohr, "energy_unit": Hartree}
NOT_NUMBERS = ["abc", "1.0.0", "1,5", "0x1p3", "--1", "1e", "1_000", "one"]
NON_FINITE = ["nan", "NaN", "inf", "-inf", "1e999", "-1e999"]
#: input.nn keywords whose line a reader can miss (mandatory, or counted elsewhere).
DETECTABLE_KEYWORDS = {
    "number_of_elements", "elements", "cutoff_type", "symfunction_short", "mean_energy",
    "conv_energy", "conv_length", "global_hidden_layers_short", "global_nodes_short",
    "global_activation_short",
}  # fmt: skip


# ---------------------------------------------------------------------------
# Text mutations: (lines, rng) -> damaged text, or None if not applicable
# ---------------------------------------------------------------------------


def active(line: str) -> str:
    """The part of a line before a comment."""
    return re.split(r"[#!]", line, maxsplit=1)[0]


def data_lines(lines, pool=None) -> list[int]:
    keep = [k for k, t in enumerate(lines) if active(t).split()]
    return [k for k in keep if pool is None or pool(active(lines[k]).split())]


def is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def replace_token(lines, rng, choose_token, new_token):
    """Replace one token (chosen among the active tokens of a line) by new_token(rng)."""
    candidates = [
        (k, i)
        for k in data_lines(lines)
        for i, tok in enumerate(active(lines[k]).split())
        if choose_token(tok)
    ]
    if not candidates:
        return None
    k, i = candidates[rng.integers(len(candidates))]
    tokens = active(lines[k]).split()
    tokens[i] = new_token(rng)
    comment = lines[k][len(active(lines[k])) :]
    return join(lines[:k] + [" ".join(tokens) + (" " + comment if comment else "")]
                + lines[k + 1 :])  # fmt: skip


def join(lines) -> str:
    return "\n".join(lines) + "\n"


def truncate(lines, rng, pool=None):
    """Cut the file at whitespace: whole lines, or inside a line between tokens."""
    text = join(lines)
    cuts = [m.start() for m in re.finditer(r"\s", text)]
    return text[: cuts[rng.integers(len(cuts))]]


def delete_line(lines, rng, pool=None):
    k = rng.choice(data_lines(lines, pool))
    return join(lines[:k] + lines[k + 1 :])


def duplicate_line(lines, rng, pool=None):
    k = rng.choice(data_lines(lines))
    return join(lines[: k + 1] + [lines[k]] + lines[k + 1 :])


def drop_token(lines, rng, pool=None):
    k = rng.choice(data_lines(lines))
    tokens = active(lines[k]).split()
    del tokens[rng.integers(len(tokens))]
    return join(lines[:k] + [" ".join(tokens)] + lines[k + 1 :])


def extra_token(lines, rng, pool=None):
    k = rng.choice(data_lines(lines))
    tokens = active(lines[k]).split()
    tokens.insert(int(rng.integers(len(tokens) + 1)), str(rng.choice(["0.5", "7", "x"])))
    return join(lines[:k] + [" ".join(tokens)] + lines[k + 1 :])


def not_a_number(lines, rng, pool=None):
    return replace_token(lines, rng, is_number, lambda r: str(r.choice(NOT_NUMBERS)))


def non_finite(lines, rng, pool=None):
    return replace_token(lines, rng, is_number, lambda r: str(r.choice(NON_FINITE)))


def empty(lines, rng, pool=None):
    return ""


OPERATORS = [truncate, delete_line, duplicate_line, drop_token, extra_token, not_a_number,
             non_finite]  # fmt: skip


def variants(name: str, text: str, n_per_operator: int, pool=None):
    """[(id, damaged text)], seeded by the file name."""
    rng = np.random.default_rng([SEED, sum(map(ord, name))])
    lines = text.splitlines()
    out = [(f"{name}-empty", "")]
    for op in OPERATORS:
        for k in range(n_per_operator):
            damaged = op(lines, rng, pool)
            if damaged is not None and damaged != text:
                out.append((f"{name}-{op.__name__}-{k}", damaged))
    return out


# ---------------------------------------------------------------------------
# The outcome rule
# ---------------------------------------------------------------------------


def check_error(error: FileFormatError, folder) -> None:
    message = str(error)
    assert "\n" not in message
    assert message.startswith(error.path) and error.path.startswith(str(folder))
    located = error.line is not None or error.key is not None
    assert located or re.search(r"missing|\bno\b|unset|empty", error.message), message


def outcome(read, folder):
    """read() with unknown-keyword warnings ignored: ("error", exc) or ("result", value)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", N2p2Warning)
            return "result", read()
    except FileFormatError as error:
        check_error(error, folder)
        return "error", error


def energy_forces(potential, atoms):
    result = evaluate_atoms(potential, atoms, extrapolation="off")
    assert math.isfinite(result.energy) and np.isfinite(result.forces_nc).all()
    return result.energy, result.forces_nc


# ---------------------------------------------------------------------------
# n2p2 potential directory
# ---------------------------------------------------------------------------

POTENTIAL_FILES = {"input.nn": 5, "scaling.data": 3, "weights.001.data": 2,
                   "weights.008.data": 2}  # fmt: skip


@pytest.fixture(scope="module")
def good_water(n2p2_dir_module):
    atoms = read_data(n2p2_dir_module / "H2O_RPBE-D3_dataset" / "input.data", **UNITS)[0]
    potential = read_potential(n2p2_dir_module / WATER, **UNITS)
    return n2p2_dir_module / WATER, atoms, energy_forces(potential, atoms)


def input_nn_pool(tokens) -> bool:
    return tokens[0] in DETECTABLE_KEYWORDS


def test_damaged_n2p2_potentials(good_water, tmp_path):
    source, atoms, (E, F) = good_water
    counts = {"error": 0, "result": 0}
    for name, n in POTENTIAL_FILES.items():
        pool = input_nn_pool if name == "input.nn" else None
        for vid, text in variants(name, (source / name).read_text(), n, pool):
            folder = tmp_path / vid
            shutil.copytree(source, folder)
            (folder / name).write_text(text)
            kind, value = outcome(lambda f=folder: read_potential(f, **UNITS), folder)
            counts[kind] += 1
            if kind == "result":
                E1, F1 = energy_forces(value, atoms)
                assert E1 == E and np.array_equal(F1, F), vid
            shutil.rmtree(folder)
    assert counts["error"] > 0.8 * sum(counts.values())  # most damage is detected


# ---------------------------------------------------------------------------
# input.data
# ---------------------------------------------------------------------------


def first_structures(path, n: int) -> str:
    lines = path.read_text().splitlines()
    ends = [k for k, t in enumerate(lines) if t.split() == ["end"]]
    return join(lines[: ends[n - 1] + 1])


def same_structures(a, b) -> bool:
    return len(a) == len(b) and all(
        x.get_chemical_symbols() == y.get_chemical_symbols()
        and np.array_equal(x.positions, y.positions)
        and np.array_equal(x.cell.array, y.cell.array)
        and x.get_potential_energy() == y.get_potential_energy()
        and np.array_equal(x.get_forces(), y.get_forces())
        for x, y in zip(a, b)
    )


def test_damaged_input_data(n2p2_dir, tmp_path):
    text = first_structures(n2p2_dir / "H2O_RPBE-D3_dataset" / "input.data", 3)
    path = tmp_path / "input.data"
    path.write_text(text)
    good = read_data(path, **UNITS)
    n_errors = 0
    for vid, damaged in variants("input.data", text, 4, pool=lambda t: t[0] != "atom"):
        path.write_text(damaged)
        kind, value = outcome(lambda: read_data(path, **UNITS), tmp_path)
        n_errors += kind == "error"
        if kind == "result":
            assert same_structures(value, good), vid
    assert n_errors > 20


# ---------------------------------------------------------------------------
# model.json
# ---------------------------------------------------------------------------


def leaves(node, keys=()):
    """Key paths of every value in a JSON tree (objects and lists included)."""
    yield keys
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else ()  # fmt: skip
    for k, v in items:
        yield from leaves(v, (*keys, k))


def get(node, keys):
    for k in keys:
        node = node[k]
    return node


def wrong_type(value, rng):
    if isinstance(value, bool):
        return rng.choice(["yes", 1, None])
    if isinstance(value, (int, float)):
        return [str(value), None, True, [value], {"x": value}][rng.integers(5)]
    if isinstance(value, str):
        return [5, None, [value], True][rng.integers(4)]
    if isinstance(value, list):
        return [{}, 1.0, "list", None][rng.integers(4)]
    return [[1], "object", None][rng.integers(3)]


def json_variants(data: dict, n: int):
    rng = np.random.default_rng(SEED)
    paths = [p for p in leaves(data) if p]
    numbers = [p for p in paths if isinstance(get(data, p), float)]
    objects = [p for p in leaves(data) if isinstance(get(data, p), dict)]
    out = [("top-list", [data]), ("top-string", "model"), ("top-null", None)]
    for k in range(n):
        d = json.loads(json.dumps(data))
        p = paths[rng.integers(len(paths))]
        parent = get(d, p[:-1])
        if isinstance(parent, dict):
            del parent[p[-1]]
        else:
            parent.pop(p[-1])
        out.append((f"delete-{k}", d))
        d = json.loads(json.dumps(data))
        get(d, objects[rng.integers(len(objects))])["surprise"] = 1.0
        out.append((f"unknown-{k}", d))
        d = json.loads(json.dumps(data))
        p = paths[rng.integers(len(paths))]
        get(d, p[:-1])[p[-1]] = wrong_type(get(d, p), rng)
        out.append((f"type-{k}", d))
        d = json.loads(json.dumps(data))
        p = numbers[rng.integers(len(numbers))]
        get(d, p[:-1])[p[-1]] = float(rng.choice([np.nan, np.inf, -np.inf]))
        out.append((f"nonfinite-{k}", d))
    return [(vid, json.dumps(d, indent=1, allow_nan=True)) for vid, d in out]


def test_damaged_model_json(tmp_path):
    good = small_potential()
    data = potential_to_dict(good)
    E, F = energy_forces(good, water())
    text = json.dumps(data, indent=1)
    cases = json_variants(data, 25) + variants("model.json", text, 6)
    path = tmp_path / "model.json"
    n_errors = 0
    for vid, damaged in cases:
        path.write_text(damaged)
        kind, value = outcome(lambda: load_model(path), tmp_path)
        n_errors += kind == "error"
        if kind == "result":
            E1, F1 = energy_forces(value, water())
            assert E1 == E and np.array_equal(F1, F), vid
    assert n_errors > 0.8 * len(cases)
