"""Numba's disk cache cannot go stale across modules (``nnp_ref.descriptors.jit``).

With plain ``njit(cache=True)`` a kernel that calls a jitted function of
another module keeps its cached copy of the old callee after that module is
edited. The test edits ``cutoff.py`` in a temporary copy of the package and
checks that ``leg_cutoff`` (in ``terms.py``, calling ``cutoff_function``)
sees the new value in the next process, and that an unedited package loads
from the cache without compiling.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nnp_ref

SCRIPT = """
import sys
import numpy as np
import nnp_ref
from nnp_ref.descriptors import terms
assert nnp_ref.__file__.startswith(sys.argv[1]), nnp_ref.__file__
table_sq = np.zeros((1, terms.N_COLUMNS))  # one function: type 2, cos cutoff, r_c = 4
table_sq[0, terms.TYPE], table_sq[0, terms.RC], table_sq[0, terms.CTYPE] = 2.0, 4.0, 1.0
value = terms.leg_cutoff(2.0, table_sq, 0)[0]
print(value, sum(terms.leg_cutoff.stats.cache_hits.values()))
"""


def run(copy: Path) -> tuple[float, int, str]:
    env = dict(os.environ, PYTHONPATH=str(copy), NUMBA_CACHE_DIR=str(copy / "cache"))
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(copy)],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    value, hits = done.stdout.split()
    return float(value), int(hits), done.stderr


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="needs the JIT")
def test_editing_a_callee_module_invalidates_the_cached_kernel(tmp_path):
    package = Path(nnp_ref.__file__).parent
    shutil.copytree(package, tmp_path / "nnp_ref", ignore=shutil.ignore_patterns("__pycache__"))

    value, hits, stderr = run(tmp_path)
    assert value == pytest.approx(0.5, abs=1e-15)  # [cos(pi/2) + 1] / 2
    assert hits == 0 and "compiling Numba kernels" in stderr  # the one-time message

    value, hits, stderr = run(tmp_path)  # unchanged package: loaded from the cache
    assert value == pytest.approx(0.5, abs=1e-15)
    assert hits == 1 and "compiling" not in stderr

    cutoff = tmp_path / "nnp_ref" / "descriptors" / "cutoff.py"
    source = cutoff.read_text()
    assert source.count("return 0.5 * (c + 1.0),") == 1
    cutoff.write_text(source.replace("return 0.5 * (c + 1.0),", "return 0.25 * (c + 1.0),"))
    value, hits, _ = run(tmp_path)  # the caller's cache must not keep the old cutoff
    assert value == pytest.approx(0.25, abs=1e-15)
    assert hits == 0
