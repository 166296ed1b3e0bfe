"""A small validator for JSON documents: types, required and unknown keys, key paths.

Each validator is a function ``(value, where) -> value`` that returns the
value converted to the Python type the program wants (float, int, str,
bool, list, dict) or raises :class:`~nnp_ref.io.errors.FileFormatError`
naming the file and the key path (``networks.H.layers[0].W[2][1]``).
Validators compose: :func:`record` for objects with known fields,
:func:`mapping` for objects keyed by data (elements), :func:`list_of`.

Why not a library: the model file needs about ten rules (numbers that are
finite, booleans that are booleans, no unknown fields), and a dependency
such as pydantic or jsonschema would be larger than this module and give
messages in its own words; dataclass-style records written here keep every
message in the file's terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ase.data import chemical_symbols

from nnp_ref.io.errors import FileFormatError

Validator = Callable[[object, "Where"], object]


class Where:
    """A position in a JSON document: the file and the key path."""

    def __init__(self, path, keys: tuple = ()):
        self.path = str(path)
        self.keys = keys

    def __truediv__(self, key) -> Where:
        return Where(self.path, (*self.keys, key))

    @property
    def key(self) -> str:
        text = ""
        for k in self.keys:
            text += f"[{k}]" if isinstance(k, int) else (f".{k}" if text else str(k))
        return text or "(top level)"

    def error(self, message: str) -> FileFormatError:
        return FileFormatError(self.path, message, key=self.key)


def describe(value) -> str:
    """A short description of a JSON value for messages: its type and a preview."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             type(None): "null", int: "a number", float: "a number"}  # fmt: skip
    kind = kinds.get(type(value), "a value")
    preview = repr(value)
    return f"{kind} ({preview[:40]}{'...' if len(preview) > 40 else ''})"


def number(positive: bool = False, nonzero: bool = False) -> Validator:
    """A finite JSON number (not a boolean, not a string) as float."""

    def check(value, where: Where) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise where.error(f"expected a number, got {describe(value)}")
        if not math.isfinite(value):
            raise where.error(f"expected a finite number, got {value!r}")
        if positive and not value > 0:
            raise where.error(f"must be positive, got {value!r}")
        if nonzero and value == 0:
            raise where.error("must be nonzero, got 0")
        return float(value)

    return check


def integer(choices=None) -> Validator:
    """A JSON integer (``2``, not ``2.0`` or ``"2"``), optionally one of ``choices``."""

    def check(value, where: Where) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise where.error(f"expected an integer, got {describe(value)}")
        if choices is not None and value not in choices:
            raise where.error(f"must be one of {', '.join(map(str, choices))}, got {value}")
        return value

    return check


def string(choices=None) -> Validator:
    """A JSON string, optionally one of ``choices``."""

    def check(value, where: Where) -> str:
        if not isinstance(value, str):
            raise where.error(f"expected a string, got {describe(value)}")
        if choices is not None and value not in choices:
            raise where.error(f"must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    return check


def boolean(value, where: Where) -> bool:
    """``true`` or ``false`` (not ``"yes"``, not 1)."""
    if not isinstance(value, bool):
        raise where.error(f"expected true or false, got {describe(value)}")
    return value


def element(value, where: Where) -> str:
    """A chemical element symbol."""
    if not isinstance(value, str) or value not in chemical_symbols[1:]:
        raise where.error(f"expected a chemical element symbol, got {describe(value)}")
    return value


def anything(value, where: Where):
    return value


def list_of(item: Validator, min_len: int = 0, unique: bool = False) -> Validator:
    """A JSON list whose entries pass ``item``."""

    def check(value, where: Where) -> list:
        if not isinstance(value, list):
            raise where.error(f"expected a list, got {describe(value)}")
        if len(value) < min_len:
            raise where.error(f"expected at least {min_len} entries, got {len(value)}")
        out = [item(v, where / k) for k, v in enumerate(value)]
        if unique and len(set(out)) != len(out):
            raise where.error(f"repeated entries in {value!r}")
        return out

    return check


def matrix(value, where: Where) -> list[list[float]]:
    """A rectangular list of lists of numbers (at least 1 x 1)."""
    rows = list_of(list_of(number(), min_len=1), min_len=1)(value, where)
    for k, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise (where / k).error(f"row has {len(row)} columns, row 0 has {len(rows[0])}")
    return rows


def _object(value, where: Where) -> dict:
    if not isinstance(value, dict):
        raise where.error(f"expected a JSON object {{...}}, got {describe(value)}")
    return value


def record(required: dict[str, Validator], optional: dict | None = None) -> Validator:
    """A JSON object with these fields; a missing required or an unknown field is an error.

    ``optional``: {name: (validator, default)}; absent fields get the default.
    """
    optional = optional or {}

    def check(value, where: Where) -> dict:
        data = _object(value, where)
        for name in data:
            if name not in required and name not in optional:
                known = ", ".join(sorted({*required, *optional}))
                raise (where / name).error(f"unknown field (expected one of: {known})")
        out = {}
        for name, validate in required.items():
            if name not in data:
                raise (where / name).error("missing required field")
            out[name] = validate(data[name], where / name)
        for name, (validate, default) in optional.items():
            out[name] = validate(data[name], where / name) if name in data else default
        return out

    return check


def mapping(key: Validator, item: Validator) -> Validator:
    """A JSON object keyed by data (e.g. element symbols)."""

    def check(value, where: Where) -> dict:
        data = _object(value, where)
        return {key(k, where / k): item(v, where / k) for k, v in data.items()}

    return check


__all__ = [
    "Where",
    "anything",
    "boolean",
    "describe",
    "element",
    "integer",
    "list_of",
    "mapping",
    "matrix",
    "number",
    "record",
    "string",
]
