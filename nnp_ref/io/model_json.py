"""nnp_ref's own model format: one human-readable JSON file, written atomically.

The file holds everything needed to rebuild a :class:`~nnp_ref.model.potential.Potential`:

```json
{
  "format": "nnp_ref-model", "format_version": 1, "nnp_ref_version": "0.1.0",
  "units": {"energy": "eV", "length": "Angstrom"},
  "elements": ["Cu"],
  "energy_scale": 0.0891,                 // eV per network output unit
  "energy_offsets": {"Cu": -0.01},        // E0 per element, eV
  "symmetry_functions": {"Cu": [{"type": 2, "center": "Cu", "neighbours": ["Cu"],
                                 "rc": 6.0, "eta": 0.81, "rs": 1.5, ...}, ...]},
  "scalings": {"Cu": {"mode": "scalecenter", "G_min": [...], "G_max": [...],
                      "G_mean": [...], "G_sigma": [...], "s_min": 0.0, "s_max": 1.0}},
  "networks": {"Cu": {"activations": ["t", "t", "l"], "normalize": false,
                      "layers": [{"W": [[...], ...], "b": [...]}, ...]}},
  "metadata": {"training": {...}}
}
```

Floats are written with Python's shortest round-trip ``repr`` (JSON's
``float`` output), so loading gives bit-identical weights. ``W`` rows are
source neurons (``W[j][k]``: from neuron j of the previous layer to neuron
k), as in :class:`~nnp_ref.model.network.Network`.

Reading is strict (:data:`MODEL_SCHEMA`, built from :mod:`nnp_ref.io.schema`):
every field has a type (a boolean is ``true``/``false``, a number is
finite and not a string), unknown fields, repeated keys, NaN/Infinity and
units other than eV/Å are refused, and every symmetry-function field is
required, because a silently defaulted parameter would be another
function. Any problem is one :class:`~nnp_ref.io.errors.FileFormatError`
line naming the file and the line (JSON syntax) or the key path
(``networks.H.layers[0].W[2][1]``).

Writes are atomic (:mod:`nnp_ref.io.atomic`): an interrupted save leaves
the old file or the new one, never a broken model, and no temporary file.
:func:`export_n2p2` writes n2p2's ``input.nn``, ``scaling.data`` and
``weights.ZZZ.data`` through :mod:`nnp_ref.io.n2p2`.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.io import schema as v
from nnp_ref.io.atomic import atomic_write_text
from nnp_ref.io.errors import FileFormatError
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential
from nnp_ref.model.scaling import MODES as SCALING_MODES
from nnp_ref.model.scaling import Scaling

FORMAT = "nnp_ref-model"
FORMAT_VERSION = 1


def _jsonable(value):
    """Metadata to plain JSON types (numpy scalars and arrays to Python)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


def potential_to_dict(potential: Potential) -> dict:
    """Plain-JSON description of a potential (see the module docstring)."""
    from nnp_ref import __version__

    sfs = {}
    for e in potential.elements:
        rows = []
        for sf in potential.symmetry_functions[e]:
            row = dataclasses.asdict(sf)
            row["neighbours"] = list(sf.neighbours)
            rows.append(row)
        sfs[e] = rows
    scalings = {}
    for e in potential.elements:
        sc = potential.scalings[e]
        scalings[e] = {
            "mode": sc.mode,
            "G_min": np.asarray(sc.G_min, float).tolist(),
            "G_max": np.asarray(sc.G_max, float).tolist(),
            "G_mean": np.asarray(sc.G_mean, float).tolist(),
            "G_sigma": np.asarray(sc.G_sigma, float).tolist(),
            "s_min": float(sc.s_min),
            "s_max": float(sc.s_max),
        }
    networks = {}
    for e in potential.elements:
        net = potential.networks[e]
        networks[e] = {
            "activations": list(net.activations),
            "normalize": bool(net.normalize),
            "layers": [{"W": W.tolist(), "b": b.tolist()} for W, b in zip(net.weights, net.biases)],
        }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "nnp_ref_version": __version__,
        "units": {"energy": "eV", "length": "Angstrom"},
        "elements": list(potential.elements),
        "energy_scale": float(potential.energy_scale),
        "energy_offsets": {e: float(potential.energy_offsets[e]) for e in potential.elements},
        "symmetry_functions": sfs,
        "scalings": scalings,
        "networks": networks,
        "metadata": _jsonable(potential.metadata),
    }


# ---------------------------------------------------------------------------
# Schema (nnp_ref.io.schema): every field typed, unknown fields refused
# ---------------------------------------------------------------------------

_FIELD_TYPES = {"int": v.integer(), "float": v.number(), "str": v.string(),
                "tuple[str, ...]": v.list_of(v.element)}  # fmt: skip


def _symmetry_function_record() -> v.Validator:
    """Every field of :class:`SymmetryFunction` is required.

    :func:`save_model` writes them all (since format version 1); a missing
    ``eta`` silently replaced by its default would be a different function.
    A field added to SymmetryFunction later must become optional here, with
    the default that reproduces older files.
    """
    required = {f.name: _FIELD_TYPES[str(f.type)] for f in dataclasses.fields(SymmetryFunction)}
    required["center"] = v.element
    return v.record(required)


_SCALING = v.record({
    "mode": v.string(SCALING_MODES),
    **{k: v.list_of(v.number()) for k in ("G_min", "G_max", "G_mean", "G_sigma")},
    "s_min": v.number(), "s_max": v.number(),
})  # fmt: skip
_NETWORK = v.record({
    "activations": v.list_of(v.string(), min_len=1),
    "normalize": v.boolean,
    "layers": v.list_of(v.record({"W": v.matrix, "b": v.list_of(v.number(), min_len=1)}),
                        min_len=1),
})  # fmt: skip
_UNITS = v.record({"energy": v.string(("eV",)), "length": v.string(("Angstrom",))})
MODEL_SCHEMA = v.record(
    {
        "format": v.string((FORMAT,)),
        "format_version": v.integer(),
        "elements": v.list_of(v.element, min_len=1, unique=True),
        "energy_scale": v.number(nonzero=True),
        "energy_offsets": v.mapping(v.element, v.number()),
        "symmetry_functions": v.mapping(
            v.element, v.list_of(_symmetry_function_record(), min_len=1)
        ),
        "scalings": v.mapping(v.element, _SCALING),
        "networks": v.mapping(v.element, _NETWORK),
    },
    optional={
        "nnp_ref_version": (v.string(), None),
        "units": (_UNITS, None),
        "metadata": (v.mapping(v.string(), v.anything), {}),
    },
)


def _check_elements(data: dict, where: v.Where) -> None:
    """Every per-element table has exactly the listed elements."""
    elements = set(data["elements"])
    for key in ("energy_offsets", "symmetry_functions", "scalings", "networks"):
        for e in data[key]:
            if e not in elements:
                raise (where / key / e).error(
                    f"element not listed in 'elements' {data['elements']}"
                )
        for e in data["elements"]:
            if e not in data[key]:
                raise (where / key).error(f"missing element {e!r}")


def _build(where: v.Where, make, *args, **kwargs):
    """``make(...)``, a constructor's ValueError re-raised naming the file and key."""
    try:
        return make(*args, **kwargs)
    except FileFormatError:
        raise
    except ValueError as err:
        raise where.error(str(err)) from None


def _symmetry_function(row: dict) -> SymmetryFunction:
    sf = SymmetryFunction(**{**row, "neighbours": tuple(row["neighbours"])})
    sf.check()
    return sf


def _scaling(s: dict) -> Scaling:
    G = (np.array(s[k], float) for k in ("G_min", "G_max", "G_mean", "G_sigma"))
    return Scaling(s["mode"], *G, s["s_min"], s["s_max"])


def _network(n: dict) -> nn.Network:
    W = [np.array(layer["W"], float) for layer in n["layers"]]
    b = [np.array(layer["b"], float) for layer in n["layers"]]
    return nn.Network(W, b, tuple(n["activations"]), n["normalize"])


def _check_version(data, where: v.Where) -> None:
    """A foreign JSON file or a newer format version, before the field checks."""
    if not isinstance(data, dict):
        return  # the schema names the wrong type
    if data.get("format") != FORMAT:
        raise (where / "format").error(f"not an nnp_ref model (format {data.get('format')!r})")
    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise (where / "format_version").error(
            f"model format version {version} is newer than this nnp_ref understands "
            f"({FORMAT_VERSION})"
        )


def potential_from_dict(data, source="<dict>") -> Potential:
    """Inverse of :func:`potential_to_dict`, validated against :data:`MODEL_SCHEMA`.

    Any problem (a foreign or newer file, a missing or unknown field, a
    wrong type, inconsistent sizes) is a :class:`FileFormatError` naming
    ``source`` and the key path.
    """
    where = v.Where(source)
    _check_version(data, where)
    data = MODEL_SCHEMA(data, where)
    _check_elements(data, where)
    elements = tuple(data["elements"])
    sfs, scalings, networks = {}, {}, {}
    for e in elements:
        rows = data["symmetry_functions"][e]
        here = where / "symmetry_functions" / e
        sfs[e] = [_build(here / k, _symmetry_function, row) for k, row in enumerate(rows)]
        scalings[e] = _build(where / "scalings" / e, _scaling, data["scalings"][e])
        networks[e] = _build(where / "networks" / e, _network, data["networks"][e])
    return _build(
        where, Potential, elements, sfs, networks, scalings=scalings,
        energy_offsets=data["energy_offsets"], energy_scale=data["energy_scale"],
        metadata=dict(data["metadata"]),
    )  # fmt: skip


def save_model(potential: Potential, path) -> Path:
    """Write ``potential`` to ``path`` (a ``.json`` file; a directory gets ``model.json``)."""
    path = Path(path)
    if path.is_dir() or path.suffix == "":
        path = path / "model.json"
    text = json.dumps(potential_to_dict(potential), indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


_UNREADABLE = "not a readable nnp_ref model"


class _StrictJSONError(ValueError):
    """What :func:`json.loads` accepts but a model file must not hold."""

    def __init__(self, message: str, token: str | None = None, key: str | None = None):
        super().__init__(message)
        self.token, self.key = token, key


def _reject_constant(name: str):
    raise _StrictJSONError(f"{name} is not a number in strict JSON", token=name)


def _unique_keys(pairs: list) -> dict:
    """A JSON object, refusing a key given twice (json keeps the last one silently)."""
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise _StrictJSONError(f"key {k!r} given twice in one object", key=k)
    return dict(pairs)


def _line_of(text: str, token: str) -> int | None:
    """1-based line of the first bare ``token`` (NaN, Infinity) in the JSON text."""
    match = re.search(r"(?<![\w\"])" + re.escape(token) + r"(?![\w\"])", text)
    return None if match is None else text.count("\n", 0, match.start()) + 1


def parse_json(text: str, path):
    """Strict JSON (no NaN/Infinity, no repeated keys) or a one-line FileFormatError."""
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        message = f"{_UNREADABLE} (invalid JSON: {err.msg})"
        raise FileFormatError(path, message, line=err.lineno) from None
    except _StrictJSONError as err:
        line = _line_of(text, err.token) if err.token else None
        message = f"{_UNREADABLE} (invalid JSON: {err})"
        raise FileFormatError(path, message, line=line, key=err.key) from None


def load_model(path) -> Potential:
    """Read a model written by :func:`save_model` (file, or a directory with ``model.json``).

    A damaged or foreign file is a one-line :class:`FileFormatError` naming
    the file and the line (JSON syntax) or the key path (content).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        raise FileFormatError(path, f"{_UNREADABLE} (not UTF-8 text)", line=line) from None
    data = parse_json(text, path)
    return potential_from_dict(data, source=path)


def export_n2p2(potential: Potential, directory) -> Path:
    """Write the potential in n2p2's format (``input.nn``, ``scaling.data``, ``weights.ZZZ.data``).

    Uses :func:`nnp_ref.io.n2p2.write_potential`; raises ``ImportError`` if
    that module is not available.
    """
    try:
        from nnp_ref.io.n2p2 import write_potential
    except ImportError as err:
        raise ImportError("exporting to n2p2 needs nnp_ref.io.n2p2.write_potential") from err
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_potential(potential, directory)
    return directory


__all__ = [
    "MODEL_SCHEMA",
    "FileFormatError",
    "atomic_write_text",
    "export_n2p2",
    "load_model",
    "potential_from_dict",
    "potential_to_dict",
    "save_model",
]
