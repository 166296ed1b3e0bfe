"""Energy + forces for the 1080-atom water box with the published potential.

Prints the median time over repeats after warm-up for both force paths
(stored dG/dR, and the memory-lean path: dE/dG first, then dE/dD per pair),
each phase's share, for 1 and 2 Numba threads (set once here, by the
benchmark: the library never changes Numba's thread count), and the ratios
to n2p2. Wall-clock and CPU time are both printed: on a shared machine the
CPU time of the one-thread runs is the fairer figure.

Reference: n2p2 (C++, one thread, idle machine) takes 0.370 s (neighbour
list 0.09, symmetry functions 0.23, networks 0.014, forces 0.03).
Targets (issue 14): lean path <= 0.5x n2p2 on one thread, >= 1.8x faster
on 2 threads than on 1.

    python benchmarks/bench_potential.py
"""

import os
import time

import numba
import numpy as np
from _common import (
    cu2s,
    faults_and_system_time,
    peak_memory_mb,
    wall_and_cpu,
    water_box,
    water_cluster,
)

from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.symmetry_functions import element_indices
from nnp_ref.model.network_kernel import structure_energies
from nnp_ref.model.potential import (
    atom_blocks,
    contract_pairs,
    evaluate_atoms,
    pair_forces,
)

N2P2_S = 0.370
N2P2_CU2S_S = 0.052  # n2p2, 144-atom Cu2S, energy + forces, one thread


def small_structures(potential):
    """Per-call time of the small structures (one thread), and where it goes."""
    from nnp_ref.dynamics.forces import PotentialForces

    atoms, _ = water_box()
    cluster = water_cluster(atoms, 8)
    cases = {"(H2O)8 cluster, 24 atoms": (cluster, potential), "Cu2S, 144 atoms": cu2s()}
    for name, (structure, pot) in cases.items():
        wall, cpu = wall_and_cpu(
            lambda s=structure, p=pot: evaluate_atoms(
                p, s, stress=False, store_derivatives=False, extrapolation="off"
            ),
            repeats=50,
        )
        line = f"{name}: energy + forces {wall * 1e3:7.3f} ms wall, {cpu * 1e3:7.3f} ms CPU"
        if "Cu2S" in name:
            line += f"; CPU / n2p2 = {cpu / N2P2_CU2S_S:.2f} (target 0.7)"
        print(line)
    forces_fn = PotentialForces(potential, cluster, skin=1.0)
    R_nc = cluster.positions.copy()
    wall, cpu = wall_and_cpu(lambda: forces_fn(R_nc), repeats=200)
    print(f"(H2O)8 MD force call (skin list): {wall * 1e3:.3f} ms wall, {cpu * 1e3:.3f} ms CPU")
    elem_n = element_indices(cluster.get_chemical_symbols(), potential.elements)
    nl = neighbour_list(cluster.positions, cluster.cell.array, cluster.pbc, potential.cutoff)
    sfs = potential.descriptor
    _, cpu_k = wall_and_cpu(lambda: sfs.compute_block(elem_n, nl, 0, len(cluster)), repeats=200)
    print(f"    of which the descriptor kernel (G + dG/dR): {cpu_k * 1e3:.3f} ms CPU")


def phases(potential, atoms):
    """Time each phase of one lean energy + force evaluation (the blocks of ``_lean_pass``, one
    after the other on this thread)."""
    R, cell, pbc = atoms.positions, atoms.cell.array, atoms.pbc
    sfs = potential.descriptor
    elem_n = element_indices(atoms.get_chemical_symbols(), potential.elements)
    out = dict.fromkeys(["neighbour list", "symmetry functions + dG/dR", "networks",
                         "dE/dD and forces"], 0.0)  # fmt: skip
    t = time.perf_counter()
    nl = neighbour_list(R, cell, pbc, sfs.cutoff)
    out["neighbour list"] = time.perf_counter() - t
    s_max = sfs.table_esq.shape[1]
    bounds = atom_blocks(nl.offsets_n1, s_max)
    dEdD_pc = np.zeros((len(nl.i_p), 3))
    t = time.perf_counter()
    jk_table = sfs.pair_table(nl, elem_n)  # once per structure, as in _lean_pass
    out["symmetry functions + dG/dR"] += time.perf_counter() - t
    for first, last in zip(bounds[:-1], bounds[1:]):
        t = time.perf_counter()
        G_bs, dGdR_psc, _, _ = sfs.compute_block(
            elem_n, nl, first, last, jk_table=jk_table, with_self=False
        )
        out["symmetry functions + dG/dR"] += time.perf_counter() - t
        t = time.perf_counter()
        _, dEdG_bs, _ = structure_energies(potential, G_bs, elem_n[first:last], True, "off", first)
        out["networks"] += time.perf_counter() - t
        t = time.perf_counter()
        pairs = slice(nl.offsets_n1[first], nl.offsets_n1[last])
        offsets_b1 = nl.offsets_n1[first : last + 1] - nl.offsets_n1[first]
        contract_pairs(dEdG_bs, dGdR_psc, offsets_b1, dEdD_pc[pairs])
        out["dE/dD and forces"] += time.perf_counter() - t
    t = time.perf_counter()
    pair_forces(dEdD_pc, nl.i_p, nl.j_p, len(atoms))
    out["dE/dD and forces"] += time.perf_counter() - t
    t = time.perf_counter()
    sfs.compute_block(elem_n, nl, 0, len(atoms), with_derivatives=False)
    out["(symmetry functions alone, no dG/dR)"] = time.perf_counter() - t
    return out


def threads_section(potential, atoms):
    """1 vs 2 threads, interleaved: lean energy + forces and the descriptor kernel alone.

    Wall and CPU time, and the load average before and after: on a shared
    machine the 2-thread wall time depends on what else runs, and the ratio
    of the stored-derivative descriptors alone (G + dG/dR of all atoms, blocks
    on threads, no serial part) shows what the machine allows.
    """
    elem_n = element_indices(atoms.get_chemical_symbols(), potential.elements)
    nl = neighbour_list(atoms.positions, atoms.cell.array, atoms.pbc, potential.cutoff)
    sfs = potential.descriptor
    cases = {
        "lean energy + forces": lambda: evaluate_atoms(
            potential, atoms, stress=False, store_derivatives=False, extrapolation="off"
        ),
        "descriptors + dG/dR alone": lambda: sfs.compute_from_list(elem_n, nl),
    }
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"threads section (interleaved rounds), load average before: {load}")
    for name, fn in cases.items():
        times = {1: [], 2: []}
        for _ in range(3):  # interleave 1 and 2 threads: both see the same load
            for threads in (1, 2):
                numba.set_num_threads(threads)
                times[threads].append(wall_and_cpu(fn, repeats=5))
        (w1, c1), (w2, c2) = (np.median(np.array(times[t]), axis=0) for t in (1, 2))
        print(
            f"    {name:24s} 1 thread {w1 * 1e3:7.1f} ms wall {c1 * 1e3:7.1f} ms CPU | "
            f"2 threads {w2 * 1e3:7.1f} ms wall {c2 * 1e3:7.1f} ms CPU | "
            f"wall ratio {w1 / w2:.2f} (target 1.8), CPU ratio 2/1 {c2 / c1:.2f}"
        )
    numba.set_num_threads(1)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"    load average after: {load}")


def main():
    atoms, potential = water_box()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load} (1, 5, 15 min)")
    numba.set_num_threads(1)
    small_structures(potential)
    t0 = time.perf_counter()
    evaluate_atoms(potential, atoms, stress=False, store_derivatives=False)
    print(f"first call (compile or cache load): {time.perf_counter() - t0:.2f} s")
    walls = {}
    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        numba.set_num_threads(threads)
        for store in (False, True):
            wall, cpu = wall_and_cpu(
                lambda s=store: evaluate_atoms(potential, atoms, stress=False, store_derivatives=s),
                repeats=7,
            )
            walls[threads, store] = wall
            name = "stored dG/dR" if store else "lean        "
            print(
                f"{threads} thread(s), {name}: energy + forces {wall * 1e3:7.1f} ms wall, "
                f"{cpu * 1e3:7.1f} ms CPU; wall / n2p2 = {wall / N2P2_S:.2f}, "
                f"CPU / n2p2 = {cpu / N2P2_S:.2f} (target 0.5)"
            )
            if threads == 1 and not store:
                faults, system = faults_and_system_time(
                    lambda: evaluate_atoms(potential, atoms, stress=False, store_derivatives=False),
                    repeats=3,
                )
                print(
                    f"    of which system time {system * 1e3:.1f} ms: {faults:,.0f} page faults "
                    "per call (see docs/architecture.md, Speed: memory traffic)"
                )
        runs = [phases(potential, atoms) for _ in range(5)]
        n2p2 = {"neighbour list": 90, "symmetry functions + dG/dR": 230, "networks": 14,
                "dE/dD and forces": 30}  # fmt: skip
        for name in runs[0]:
            t = float(np.median([r[name] for r in runs]))
            ref = f"   [n2p2 {n2p2[name]} ms]" if name in n2p2 else ""
            print(f"    {name:38s} {t * 1e3:7.1f} ms wall{ref}")
    if (2, False) in walls:
        print(f"speed-up 2 threads / 1 thread (lean): {walls[1, False] / walls[2, False]:.2f}")
        threads_section(potential, atoms)
    print(f"peak memory: {peak_memory_mb():.0f} MB")


if __name__ == "__main__":
    main()
