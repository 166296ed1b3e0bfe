"""``@kernel``: Numba's ``njit`` with a disk cache that cannot go stale across modules.

Why not ``njit(cache=True)``. Numba caches a compiled function in an index
file stamped with a hash of *the function's own source file* only. A kernel
that calls a jitted function of another module (``descriptor_kernel`` ->
``cutoff_function`` in ``cutoff.py``) has that callee compiled into its
cached machine code, but editing ``cutoff.py`` leaves the caller's stamp
unchanged: the next process loads the old cutoff from the cache while a
direct call of ``cutoff_function`` already gives the new value.

The fix here. Every kernel of the package is stamped with one hash over the
sources of *all* modules of the package that can hold kernels (every ``.py``
file under ``nnp_ref/`` whose text contains ``jit``: a kernel can only call
jitted code, and every jitted function of the package lives in such a file).
Editing any of them invalidates every cached kernel of the package, so a
kernel can never run a stale callee; the price is a full recompile (about
10 s) after such an edit, and nothing for edits elsewhere (CLI, I/O, docs).
The hash is computed once per process, when the first kernel is decorated.
The cache directory is Numba's usual one (``NUMBA_CACHE_DIR`` or
``__pycache__``); only the stamp differs.

Threads. Kernels are compiled with ``nogil=True``: they release Python's
global lock while they run, so blocks of atoms can run on Python threads
side by side (``nnp_ref.descriptors.threads``). No kernel uses Numba's
``parallel=True``: one compiled version of each.

Compilation message. The first time in a process that a kernel has to be
compiled (no usable cache entry), one line goes to stderr, so that the
10-second pause of a first run is explained. Loading from the cache is silent.
Nothing here changes Numba's global state.
"""

from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

import numba
from numba.core.caching import CompileResultCacheImpl, FunctionCache, _CacheLocator
from numba.core.dispatcher import Dispatcher

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the nnp_ref folder
COMPILE_MESSAGE = (
    "nnp_ref: compiling Numba kernels (first use after an install or an edit; "
    "about 10 s, cached afterwards)"
)
_announced = False


@functools.cache
def package_kernel_stamp(root: str = str(PACKAGE_ROOT)) -> str:
    """SHA-256 over (relative path, content) of every package module that mentions ``jit``."""
    digest = hashlib.sha256()
    for path in sorted(Path(root).rglob("*.py")):
        source = path.read_bytes()
        if b"jit" in source:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + source + b"\0")
    return digest.hexdigest()


def announce_compilation() -> None:
    """Print :data:`COMPILE_MESSAGE` to stderr, once per process."""
    global _announced
    if not _announced:
        _announced = True
        print(COMPILE_MESSAGE, file=sys.stderr, flush=True)


class _PackageStampLocator(_CacheLocator):
    """Numba's own locator for the cache folder, with the package-wide source stamp."""

    def __init__(self, inner: _CacheLocator):
        self._inner = inner

    def ensure_cache_path(self):
        self._inner.ensure_cache_path()

    def get_cache_path(self):
        return self._inner.get_cache_path()

    def get_source_stamp(self):
        return package_kernel_stamp()

    def get_disambiguator(self):
        return self._inner.get_disambiguator()


class _PackageCacheImpl(CompileResultCacheImpl):
    def __init__(self, py_func):
        super().__init__(py_func)
        self._locator = _PackageStampLocator(self._locator)


class _PackageFunctionCache(FunctionCache):
    """Function cache with the package stamp; announces a compilation on a miss."""

    _impl_class = _PackageCacheImpl

    def load_overload(self, sig, target_context):
        data = super().load_overload(sig, target_context)
        if data is None:
            announce_compilation()
        return data


def kernel(py_func=None, *, inline: bool = False):
    """``numba.njit`` with the package-stamped disk cache (see the module docstring).

    Use as ``@kernel``, or ``@kernel(inline=True)`` for a helper that Numba
    should inline into its callers (``inline="always"``: no call, no reference
    counting of array arguments). Under ``NUMBA_DISABLE_JIT=1`` the plain Python
    function is returned. ``nogil=True``: the kernel releases the GIL (threads, above).
    ``error_model="numpy"``: a float division by zero gives inf/nan as in
    NumPy instead of a Python exception, so the compiler need not guard
    every division (the kernels test their divisors where it matters).
    """

    if py_func is None:
        return lambda f: kernel(f, inline=inline)
    options = {"inline": "always"} if inline else {}
    dispatcher = numba.njit(error_model="numpy", nogil=True, **options)(py_func)
    if isinstance(dispatcher, Dispatcher):
        dispatcher._cache = _PackageFunctionCache(py_func)
    return dispatcher


__all__ = ["COMPILE_MESSAGE", "announce_compilation", "kernel", "package_kernel_stamp"]
