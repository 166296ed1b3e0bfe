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
``__pycache__``); only the stamp differs. Kernels compiled from one Python
function with different options (serial and parallel) get a ``tag`` so that
their cache files do not collide.

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
    tag = ""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._locator = _PackageStampLocator(self._locator)
        if self.tag:
            self._filename_base = f"{self.tag}-{self._filename_base}"


class _PackageFunctionCache(FunctionCache):
    """Function cache with the package stamp; announces a compilation on a miss."""

    def load_overload(self, sig, target_context):
        data = super().load_overload(sig, target_context)
        if data is None:
            announce_compilation()
        return data


def kernel(fn=None, *, parallel: bool = False, tag: str = ""):
    """``numba.njit`` with the package-stamped disk cache (see the module docstring).

    Use as ``@kernel`` or ``kernel(parallel=True, tag="parallel")(py_function)``.
    Under ``NUMBA_DISABLE_JIT=1`` the plain Python function is returned.
    ``error_model="numpy"``: a float division by zero gives inf/nan as in
    NumPy instead of a Python exception, so the compiler need not guard
    every division (the kernels test their divisors where it matters).
    """

    def decorate(py_func):
        dispatcher = numba.njit(parallel=parallel, error_model="numpy")(py_func)
        if isinstance(dispatcher, Dispatcher):
            impl = type("_TaggedCacheImpl", (_PackageCacheImpl,), {"tag": tag})
            cache_class = type("_TaggedFunctionCache", (_PackageFunctionCache,), {})
            cache_class._impl_class = impl
            dispatcher._cache = cache_class(py_func)
        return dispatcher

    return decorate if fn is None else decorate(fn)


__all__ = ["COMPILE_MESSAGE", "announce_compilation", "kernel", "package_kernel_stamp"]
