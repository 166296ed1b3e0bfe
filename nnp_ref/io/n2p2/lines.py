"""One line reader and the token checks shared by every n2p2 file format.

n2p2 reads all its text files line by line and splits each line at
whitespace (``utility.cpp``, ``split``/``reduce``). Comments differ by file:
``input.nn`` cuts ``#`` and ``!`` anywhere (``Settings::parseLines``),
``scaling.data`` and ``weights.ZZZ.data`` skip lines starting with ``#``,
``input.data`` has no comments. :class:`LineReader` does all three; every
parser receives :class:`Line` objects that know their file and line number,
so every error reads ``path:line: message``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ase.data import atomic_numbers, chemical_symbols

from nnp_ref.io.errors import FileFormatError


class N2p2FormatError(FileFormatError):
    """A malformed n2p2 file; the message starts with ``path:line:``."""

    def __init__(self, path, line: int | None, message: str):
        super().__init__(path, message, line=line)


class N2p2Warning(UserWarning):
    """Something n2p2 accepts with a warning (e.g. an unknown keyword)."""


# Element symbols n2p2 knows (ElementMap::knownElements: H ... No, Z = 1-102).
KNOWN_ELEMENTS = tuple(chemical_symbols[1:103])


def sort_elements(elements: Iterable[str]) -> tuple[str, ...]:
    """Elements in n2p2's index order: by atomic number (``ElementMap``)."""
    return tuple(sorted(elements, key=lambda s: atomic_numbers[s]))


def to_float(token: str, path, line: int | None, what: str) -> float:
    """A finite float from ``token`` (C syntax: no ``_``, no nan/inf)."""
    try:
        value = float(token)
    except ValueError:
        value = math.nan
    if "_" in token or not math.isfinite(value):
        raise N2p2FormatError(path, line, f"expected a number for {what}, got {token!r}")
    return value


def to_int(token: str, path, line: int | None, what: str) -> int:
    """An integer from ``token``."""
    try:
        return int(token)
    except ValueError:
        raise N2p2FormatError(
            path, line, f"expected an integer for {what}, got {token!r}"
        ) from None


def to_element(token: str, path, line: int | None, allowed=None) -> str:
    """A chemical symbol n2p2 knows, optionally one of ``allowed``."""
    if token not in KNOWN_ELEMENTS:
        raise N2p2FormatError(path, line, f"expected a chemical element symbol, got {token!r}")
    if allowed is not None and token not in allowed:
        raise N2p2FormatError(
            path, line, f"element {token!r} is not one of the elements {' '.join(allowed)}"
        )
    return token


class Line(NamedTuple):
    """One non-empty line: file, 1-based number, whitespace tokens, raw text."""

    path: str
    number: int
    tokens: list[str]
    text: str

    def error(self, message: str) -> N2p2FormatError:
        """The error to raise for this line (``path:number: message``)."""
        return N2p2FormatError(self.path, self.number, message)

    def float(self, token: str, what: str) -> float:
        return to_float(token, self.path, self.number, what)

    def int(self, token: str, what: str) -> int:
        return to_int(token, self.path, self.number, what)

    def element(self, token: str, allowed=None) -> str:
        return to_element(token, self.path, self.number, allowed)

    @property
    def value(self) -> str:
        """The tokens after the first, joined by single spaces (a keyword's value)."""
        return " ".join(self.tokens[1:])


class LineReader:
    """Iterate over the non-empty, non-comment lines of a text file as :class:`Line`.

    ``inline_comments``: characters that start a comment anywhere in a line
    (``"#!"`` for input.nn); ``line_comments``: a line whose first token
    starts with one of these characters is skipped (``"#"`` for scaling and
    weight files). ``last`` is the number of the last line read (blank and
    comment lines included), for "the file ends at line N" messages.
    Undecodable bytes become U+FFFD and then fail as a bad token.
    """

    def __init__(self, path, inline_comments: str = "", line_comments: str = ""):
        self.path = os.fspath(path)
        self.inline_comments = inline_comments
        self.line_comments = line_comments
        self.last = 0

    def __iter__(self) -> Iterator[Line]:
        with open(self.path, encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                self.last = number
                active = text
                for char in self.inline_comments:
                    active = active.split(char, 1)[0]
                tokens = active.split()
                if not tokens or (self.line_comments and tokens[0][0] in self.line_comments):
                    continue
                yield Line(self.path, number, tokens, text)
