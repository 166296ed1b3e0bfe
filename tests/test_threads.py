"""Threads change the speed, never the numbers: 1 and 2 threads give the same bits.

Large structures run as blocks of atoms on Python threads
(``nnp_ref.descriptors.threads``); every kernel releases the GIL and each
block writes only its own rows, so every atom's numbers are summed in the
order of the serial code. Checked here for the thread pool itself, and end to
end in a subprocess with NUMBA_NUM_THREADS=2 (so that two threads exist
whatever the machine) on a periodic box of 343 atoms (>= PARALLEL_MIN_ATOMS).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms

from nnp_ref.descriptors import threads
from nnp_ref.descriptors.jit import kernel
from nnp_ref.descriptors.threads import (
    PARALLEL_MIN_ATOMS,
    even_bounds,
    even_pair_bounds,
    map_blocks,
)
from nnp_ref.model.potential import atom_blocks

ROOT = Path(__file__).resolve().parents[1]


def jittered_box(seed, per_side=7, spacing=1.6):
    """per_side^3 H/O atoms on a jittered cubic grid, periodic (343 atoms by default)."""
    rng = np.random.default_rng(seed)
    grid_nc = np.stack(np.meshgrid(*[np.arange(per_side)] * 3, indexing="ij"), -1).reshape(-1, 3)
    R_nc = (grid_nc + rng.uniform(-0.15, 0.15, grid_nc.shape)) * spacing
    symbols = rng.choice(["H", "O"], len(R_nc))
    return Atoms(symbols, positions=R_nc, cell=np.eye(3) * per_side * spacing, pbc=True)


def test_box_is_large_enough_for_the_parallel_path():
    assert len(jittered_box(0)) >= PARALLEL_MIN_ATOMS


@kernel
def _spin(n):
    """A kernel that runs for a while (releasing the GIL, as every package kernel)."""
    x = 0.0
    for k in range(n):
        x += 1.0 / (k + 1.0)
    return x


def test_blocks_come_back_in_order_on_threads(monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 3)
    bounds = even_bounds(10, 4)
    assert bounds == [0, 2, 5, 7, 10]
    done = []

    def task(first, last):
        _spin(200_000 * (10 - first))  # the first blocks take longest
        done.append(first)
        return list(range(first, last))

    parts = map_blocks(task, bounds, parallel=True)
    assert [k for part in parts for k in part] == list(range(10))
    assert sorted(done) == [0, 2, 5, 7]


def test_a_failing_block_raises_in_the_caller(monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 2)

    def task(first, last):
        if first == 5:
            raise ValueError(f"bad block {first}-{last}")
        return first

    with pytest.raises(ValueError, match="bad block 5-10"):
        map_blocks(task, [0, 5, 10], parallel=True)
    assert map_blocks(task, [0, 3, 5], parallel=False) == [0, 3]


def test_serial_below_the_size_rule(monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    assert threads.use_parallel(PARALLEL_MIN_ATOMS)
    assert not threads.use_parallel(PARALLEL_MIN_ATOMS - 1)
    monkeypatch.setattr(threads, "thread_count", lambda: 1)
    assert not threads.use_parallel(10 * PARALLEL_MIN_ATOMS)


def test_even_bounds_cover_every_atom_once():
    for n, k in [(1, 4), (7, 3), (1080, 8), (5, 5)]:
        b = even_bounds(n, k)
        assert b[0] == 0 and b[-1] == n and len(b) - 1 == min(k, n)
        assert np.all(np.diff(b) >= 1) and np.diff(b).max() - np.diff(b).min() <= 1


def test_thread_blocks_are_equal_shares(monkeypatch):
    """On threads the lean pass cuts a multiple of the thread count of equal blocks."""
    from nnp_ref.model import potential

    monkeypatch.setattr(potential, "thread_count", lambda: 3)
    rng = np.random.default_rng(3)
    offsets_n1 = np.concatenate([[0], np.cumsum(rng.integers(80, 120, 2000))]).astype(np.int64)
    bytes_per_pair = 24 * 30
    monkeypatch.setattr(potential, "LEAN_BLOCK_BYTES", 20_000 * bytes_per_pair)
    bounds = potential.thread_blocks(offsets_n1, 30)
    assert bounds[0] == 0 and bounds[-1] == 2000 and np.all(np.diff(bounds) > 0)
    pairs = np.diff(offsets_n1[bounds])
    assert len(pairs) == 12  # 200,000 pairs: 10 blocks of <= 20,000, rounded up to 3 x 4
    assert pairs.max() - pairs.min() <= 2 * 120  # equal up to an atom at each end
    assert pairs.max() <= 20_000


def test_even_pair_bounds_share_the_pairs():
    offsets_n1 = np.array([0, 10, 20, 30, 40, 50, 60, 70, 80], dtype=np.int64)
    assert even_pair_bounds(offsets_n1, 4) == [0, 2, 4, 6, 8]
    heavy = np.array([0, 1, 2, 100, 101, 102], dtype=np.int64)  # atom 2 has 98 pairs
    assert even_pair_bounds(heavy, 4) == [0, 3, 5]  # fewer blocks, none empty
    assert even_pair_bounds(offsets_n1, 1) == [0, 8]


def test_lean_blocks_hold_their_bytes():
    offsets_n1 = np.arange(0, 2001 * 100, 100, dtype=np.int64)  # 2000 atoms, 100 pairs each
    bounds = atom_blocks(offsets_n1, 30, block_bytes=24 * 30 * 1000)  # 1000 pairs per block
    assert bounds == list(range(0, 2001, 10))
    one = atom_blocks(offsets_n1, 30, block_bytes=1)  # too small for one atom: one atom each
    assert one == list(range(2001))


SCRIPT = textwrap.dedent(
    """
    import sys
    import numba
    import numpy as np
    from concurrent.futures import ThreadPoolExecutor
    from tests.test_potential import make_potential
    from tests.test_threads import jittered_box
    from nnp_ref.descriptors import threads as threads_module
    from nnp_ref.model import potential as potential_module

    pools = []

    class CountedPool(ThreadPoolExecutor):
        def __init__(self, n_threads, **kwargs):
            pools.append(n_threads)
            super().__init__(n_threads, **kwargs)

    threads_module.ThreadPoolExecutor = CountedPool
    potential_module.LEAN_BLOCK_BYTES = 50_000  # many blocks on the lean path
    potential, atoms = make_potential(), jittered_box(0)
    results = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        for store in (False, True):
            r = potential_module.evaluate_atoms(
                potential, atoms, store_derivatives=store, extrapolation="off"
            )
            for name in ("energies_n", "forces_nc", "stress_cc"):
                results[f"{name}_{threads}_{int(store)}"] = getattr(r, name)
        results[f"pools_{threads}"] = np.array(pools + [0])
        pools.clear()
    np.savez(sys.argv[1], **results)
    """
)


def test_two_threads_give_the_bits_of_one(tmp_path):
    """Energies, forces and stress of both force paths: 2 threads == 1 thread, bit for bit."""
    out = tmp_path / "threads.npz"
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr[-2000:]
    r = np.load(out)
    assert r["pools_1"].tolist() == [0]  # one thread: no pool at all
    assert len(r["pools_2"]) > 3 and set(r["pools_2"][:-1]) == {2}  # both paths used 2 threads
    for store in (0, 1):
        for name in ("energies_n", "forces_nc", "stress_cc"):
            np.testing.assert_array_equal(r[f"{name}_2_{store}"], r[f"{name}_1_{store}"])
    scale = np.abs(r["forces_nc_1_1"]).max()
    assert scale > 0
    np.testing.assert_allclose(r["forces_nc_1_0"], r["forces_nc_1_1"], rtol=0, atol=1e-12 * scale)
