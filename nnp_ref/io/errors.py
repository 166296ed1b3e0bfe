"""The error every file reader in :mod:`nnp_ref.io` raises for a damaged file.

One line, starting with where the problem is: ``path:line: message`` for
line-based formats (n2p2), ``path: key.path[3]: message`` for JSON. A
subclass of ``ValueError``, so ``except ValueError`` keeps working.
"""

from __future__ import annotations


class FileFormatError(ValueError):
    """A malformed file. ``path``, ``line`` (or None), ``key`` (or None), ``message``."""

    def __init__(self, path, message: str, line: int | None = None, key: str | None = None):
        self.path = str(path)
        self.line = line
        self.key = key
        self.message = str(message).replace("\r", " ").replace("\n", " ")  # one line
        where = self.path if line is None else f"{self.path}:{line}"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {self.message}")


__all__ = ["FileFormatError"]
