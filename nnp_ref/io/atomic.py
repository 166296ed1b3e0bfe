"""Atomic file writes: a reader sees the old file or the new one, never half a file.

The text goes to a temporary file next to the target, is flushed and
fsync'ed, then ``os.replace``d over the target (an atomic rename on POSIX).

- The temporary file is created with ``os.open(..., 0o666)``, so the kernel
  applies the process umask, exactly as for ``open(path, "w")``; when the
  target already exists its permission bits are kept. (``tempfile.mkstemp``
  would create mode 0600.)
- On any exception, KeyboardInterrupt included, the temporary file is
  removed. A process killed by SIGKILL cannot clean up: its temporary file
  carries its process id (``.<name>.<pid>.<random>.tmp``) and the next write
  to the same target removes temporary files of processes that no longer
  exist. Files of live processes (a concurrent writer) are left alone.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path


def _pid_alive(pid: int) -> bool:
    """True if a process with this id exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temporaries(path) -> list[Path]:
    """Remove ``.<name>.<pid>.<random>.tmp`` files of dead processes next to ``path``."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        pid_text = tmp.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            try:
                tmp.unlink()
                removed.append(tmp)
            except FileNotFoundError:  # another writer cleaned it first
                pass
    return removed


def _create_temporary(path: Path) -> tuple[int, Path]:
    """An exclusive new file next to ``path``, mode 0o666 minus the umask."""
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


def atomic_write(path, write, binary: bool = False) -> None:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary file, which is
    flushed, fsync'ed and ``os.replace``d over ``path`` (text or ``binary`` handle)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(
            fd, "wb" if binary else "w", **({} if binary else {"encoding": "utf-8"})
        ) as handle:
            if path.exists():
                os.fchmod(handle.fileno(), stat.S_IMODE(path.stat().st_mode))
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file + fsync + ``os.replace``."""
    atomic_write(path, lambda handle: handle.write(text))


__all__ = ["atomic_write", "atomic_write_text", "remove_stale_temporaries"]
