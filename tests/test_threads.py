"""Threads change the speed, never the numbers: 1 and 2 Numba threads give the same bits.

The parallel kernels (descriptors, networks, dE/dD per pair, the force
gather) split the work over atoms so that each atom's numbers are summed in
the order of the serial code. Checked kernel by kernel in this process, and
end to end in a subprocess with NUMBA_NUM_THREADS=2 (so that two threads exist
whatever the machine) on a periodic box of 343 atoms (>= PARALLEL_MIN_ATOMS).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from ase import Atoms

from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.symmetry_functions import PARALLEL_MIN_ATOMS
from nnp_ref.model.forces import (
    _gather_loop,
    contract_pairs,
    contract_pairs_parallel,
    neighbour_transpose,
    pair_forces_gather,
    pair_forces_scatter,
)
from nnp_ref.model.network_kernel import (
    _network_kernel_parallel,
    _network_kernel_serial,
    network_layout,
)
from nnp_ref.model.potential import atom_blocks
from tests.test_network import random_network

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


def test_neighbour_transpose_lists_each_atoms_neighbour_pairs_in_order():
    atoms = jittered_box(1, per_side=4)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, 3.0)
    n = len(atoms)
    offsets_n1, q_t = neighbour_transpose(nl.j_p, np.int64(n))
    for k in range(n):
        expected = np.flatnonzero(nl.j_p == k)
        np.testing.assert_array_equal(q_t[offsets_n1[k] : offsets_n1[k + 1]], expected)


def test_force_gather_equals_scatter_bitwise():
    """Same bits as the scatter, also for self-image pairs (i = j) of a small cell."""
    rng = np.random.default_rng(2)
    for atoms, cutoff in [(jittered_box(2, per_side=4), 3.5), (jittered_box(3, per_side=2), 4.0)]:
        nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, cutoff)
        assert cutoff < 4.0 or np.any(nl.i_p == nl.j_p)  # the small cell sees its own images
        n = len(atoms)
        dEdD_pc = rng.normal(size=(len(nl.i_p), 3)) * 10.0 ** rng.integers(-8, 8, (len(nl.i_p), 1))
        scatter_nc = pair_forces_scatter(dEdD_pc, nl.i_p, nl.j_p, n)
        nb_offsets_n1, q_t = neighbour_transpose(nl.j_p, np.int64(n))
        for gather in (pair_forces_gather, _gather_loop):  # compiled parallel, plain Python
            F_nc = gather(dEdD_pc, nl.offsets_n1, nb_offsets_n1, q_t)
            np.testing.assert_array_equal(F_nc, scatter_nc)


def test_contraction_serial_and_parallel_bitwise():
    rng = np.random.default_rng(4)
    offsets_b1 = np.cumsum(np.concatenate([[0], rng.integers(0, 9, 300)])).astype(np.int64)
    dGdR_psc = rng.normal(size=(offsets_b1[-1], 11, 3))
    dEdG_bs = rng.normal(size=(300, 11))
    serial_pc, parallel_pc = np.zeros((offsets_b1[-1], 3)), np.zeros((offsets_b1[-1], 3))
    contract_pairs(dEdG_bs, dGdR_psc, offsets_b1, serial_pc)
    contract_pairs_parallel(dEdG_bs, dGdR_psc, offsets_b1, parallel_pc)
    np.testing.assert_array_equal(parallel_pc, serial_pc)
    i_p = np.repeat(np.arange(300), np.diff(offsets_b1))
    reference_pc = np.einsum("ps,psc->pc", dEdG_bs[i_p], dGdR_psc)
    np.testing.assert_allclose(serial_pc, reference_pc, rtol=1e-13, atol=1e-13)


def test_networks_serial_and_parallel_chunks_bitwise():
    nets = [random_network(5, (7, 4), ("t", "s", "l"), False, seed=0),
            random_network(6, (3,), ("p", "l"), True, seed=1)]  # fmt: skip
    rng = np.random.default_rng(5)
    elem_n = rng.integers(0, 2, 301)
    X_ns = rng.normal(size=(301, 6))
    layout = network_layout(nets)
    NN_n, dNNdX_ns = _network_kernel_serial(elem_n, X_ns, *layout, 1)
    for n_chunks in (2, 7, 301):
        NN_par, dNNdX_par = _network_kernel_parallel(elem_n, X_ns, *layout, n_chunks)
        np.testing.assert_array_equal(NN_par, NN_n)
        np.testing.assert_array_equal(dNNdX_par, dNNdX_ns)


def test_threaded_blocks_are_few():
    offsets_n1 = np.arange(0, 2001 * 100, 100, dtype=np.int64)  # 2000 atoms, 100 pairs each
    one = atom_blocks(offsets_n1, 30)
    two = atom_blocks(offsets_n1, 30, min_atoms=2 * PARALLEL_MIN_ATOMS)
    assert len(one) - 1 > 10 and len(two) - 1 == 2000 // (2 * PARALLEL_MIN_ATOMS)
    assert np.all(np.diff(two) >= 2 * PARALLEL_MIN_ATOMS)


SCRIPT = textwrap.dedent(
    """
    import sys
    import numba
    import numpy as np
    from tests.test_potential import make_potential
    from tests.test_threads import jittered_box
    from nnp_ref.model.potential import evaluate_atoms

    potential, atoms = make_potential(), jittered_box(0)
    results = {}
    for threads in (1, 2):
        numba.set_num_threads(threads)
        for store in (False, True):
            r = evaluate_atoms(potential, atoms, store_derivatives=store, extrapolation="off")
            for name in ("energies_n", "forces_nc", "stress_cc"):
                results[f"{name}_{threads}_{int(store)}"] = getattr(r, name)
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
    for store in (0, 1):
        for name in ("energies_n", "forces_nc", "stress_cc"):
            np.testing.assert_array_equal(r[f"{name}_2_{store}"], r[f"{name}_1_{store}"])
    scale = np.abs(r["forces_nc_1_1"]).max()
    assert scale > 0
    np.testing.assert_allclose(r["forces_nc_1_0"], r["forces_nc_1_1"], rtol=0, atol=1e-12 * scale)
