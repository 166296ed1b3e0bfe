"""Exact, atomic storage of candidate frames (positions bit for bit, ``info`` as JSON).

extxyz rounds positions to 1e-8 Å; a resumed active-learning run must label
*exactly* the frames an uninterrupted run would, so candidates are stored
as float64 arrays in one ``.npz`` written through a temporary file and
``os.replace`` (a kill leaves the old file or the new one, never half).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from ase import Atoms

from nnp_ref.io.atomic import atomic_write


def _plain(value):
    """JSON-able copy of an ``info`` value (numpy scalars and arrays, nested containers)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def save_frames(path, frames) -> None:
    """Write ``frames`` (list of ``ase.Atoms``) to ``path`` (.npz) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(a) for a in frames], dtype=np.int64)
    arrays = {
        "counts": counts,
        "numbers": np.concatenate([a.numbers for a in frames]) if frames else np.zeros(0, int),
        "positions": np.vstack([a.positions for a in frames]) if frames else np.zeros((0, 3)),
        "cells": np.array([a.cell.array for a in frames]).reshape(-1, 3, 3),
        "pbc": np.array([a.pbc for a in frames], dtype=bool).reshape(-1, 3),
        "info": np.array(json.dumps([{k: _plain(v) for k, v in a.info.items()} for a in frames])),
    }
    atomic_write(path, lambda handle: np.savez(handle, **arrays), binary=True)


def load_frames(path) -> list[Atoms]:
    """The frames written by :func:`save_frames`."""
    with np.load(path) as data:
        counts, numbers, positions = data["counts"], data["numbers"], data["positions"]
        cells, pbc, info = data["cells"], data["pbc"], json.loads(str(data["info"]))
    frames, start = [], 0
    for k, n in enumerate(counts):
        atoms = Atoms(numbers=numbers[start : start + n], positions=positions[start : start + n],
                      cell=cells[k], pbc=pbc[k])  # fmt: skip
        atoms.info.update(info[k])
        frames.append(atoms)
        start += n
    return frames


__all__ = ["load_frames", "save_frames"]
