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

Atomic writes: the text goes to a temporary file in the same directory,
is flushed and fsync'ed, then ``os.replace``d over the target, so an
interrupted save leaves either the old file or the new one, never a broken
model. :func:`export_n2p2` writes n2p2's ``input.nn``, ``scaling.data``
and ``weights.ZZZ.data`` through :mod:`nnp_ref.io.n2p2`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from nnp_ref.descriptors.symmetry_functions import SymmetryFunction
from nnp_ref.model import network as nn
from nnp_ref.model.potential import Potential
from nnp_ref.model.scaling import Scaling

FORMAT = "nnp_ref-model"
FORMAT_VERSION = 1


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file + fsync + ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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


def potential_from_dict(data: dict) -> Potential:
    """Inverse of :func:`potential_to_dict`; ``ValueError`` for a foreign or newer file."""
    if data.get("format") != FORMAT:
        raise ValueError(f"not an nnp_ref model (format {data.get('format')!r})")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(
            f"model format version {data['format_version']} is newer than this nnp_ref "
            f"understands ({FORMAT_VERSION})"
        )
    elements = tuple(data["elements"])
    sfs = {
        e: [SymmetryFunction(**{**row, "neighbours": tuple(row["neighbours"])})
            for row in data["symmetry_functions"][e]]
        for e in elements
    }  # fmt: skip
    scalings = {}
    for e in elements:
        s = data["scalings"][e]
        scalings[e] = Scaling(
            s["mode"],
            np.array(s["G_min"], float),
            np.array(s["G_max"], float),
            np.array(s["G_mean"], float),
            np.array(s["G_sigma"], float),
            float(s["s_min"]),
            float(s["s_max"]),
        )
    networks = {}
    for e in elements:
        n = data["networks"][e]
        networks[e] = nn.Network(
            [np.array(layer["W"], float).reshape(len(layer["W"]), -1) for layer in n["layers"]],
            [np.array(layer["b"], float) for layer in n["layers"]],
            tuple(n["activations"]),
            bool(n["normalize"]),
        )
    return Potential(
        elements,
        sfs,
        networks,
        scalings=scalings,
        energy_offsets={e: float(v) for e, v in data["energy_offsets"].items()},
        energy_scale=float(data["energy_scale"]),
        metadata=dict(data.get("metadata", {})),
    )


def save_model(potential: Potential, path) -> Path:
    """Write ``potential`` to ``path`` (a ``.json`` file; a directory gets ``model.json``)."""
    path = Path(path)
    if path.is_dir() or path.suffix == "":
        path = path / "model.json"
    text = json.dumps(potential_to_dict(potential), indent=1, allow_nan=False)
    atomic_write_text(path, text + "\n")
    return path


def load_model(path) -> Potential:
    """Read a model written by :func:`save_model` (file, or a directory with ``model.json``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    with open(path, encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not a readable nnp_ref model: {err}") from err
    return potential_from_dict(data)


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
    "atomic_write_text",
    "export_n2p2",
    "load_model",
    "potential_from_dict",
    "potential_to_dict",
    "save_model",
]
