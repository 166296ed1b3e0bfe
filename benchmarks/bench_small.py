"""Small structures: time per energy + force call, and where it goes (one thread).

Two calls, both the memory-lean path without stress:

- ``evaluate``: symbols and positions in, a fresh neighbour list, a ``Result`` out;
- the MD step's call (``PotentialForces``, i.e. ``potential.energy_and_forces``
  with a skin neighbour list reused across steps, element indices fixed once).

Then the MD call taken apart, phase by phase, with the median CPU time of
each (the rest is the Python glue between them), as a table for the closing
note. Targets (issue 14): the 24-atom (H2O)8 cluster in at most 0.3 ms, the
144-atom Cu2S at most 0.7x n2p2 (0.052 s).

    NUMBA_NUM_THREADS=1 python benchmarks/bench_small.py [--repeats 300]
"""

import argparse

import numba
import numpy as np
from _common import cu2s, wall_and_cpu, water_box, water_cluster

from nnp_ref.descriptors.neighbours import neighbour_list
from nnp_ref.descriptors.skin import SkinNeighbourList
from nnp_ref.dynamics.forces import PotentialForces
from nnp_ref.model.forces import contract_pairs, pair_forces
from nnp_ref.model.network_kernel import (
    cached_element_arrays,
    count_outside,
    structure_energies,
)
from nnp_ref.model.potential import check_min_distance, evaluate_atoms

N2P2_CU2S_S = 0.052  # n2p2, 144-atom Cu2S, energy + forces, one thread


def cpu_median(fn, repeats):
    """Median CPU seconds of fn() after one warm-up call."""
    return wall_and_cpu(fn, repeats)[1]


def phases(potential, atoms, repeats):
    """Median CPU seconds of each phase of one MD force call (skin list, lean path)."""
    R_nc = atoms.positions.copy()
    forces_fn = PotentialForces(potential, atoms, skin=1.0)
    elem_n, sfs = forces_fn.elem_n, potential.descriptor
    skin = SkinNeighbourList(potential.cutoff, 1.0, atoms.cell.array, atoms.pbc)
    nl = skin.update(R_nc)
    jk_table = sfs.pair_table(nl, elem_n)
    G_ns, dGdR_psc, _, _ = sfs.compute_block(elem_n, nl, 0, len(atoms), jk_table=jk_table)
    _, dEdG_ns, _ = structure_energies(potential, G_ns, elem_n, True, "ignore")
    arrays = cached_element_arrays(potential, G_ns.shape[1])
    dEdD_pc = np.zeros((len(nl.i_p), 3))
    steps = {
        "neighbour list, fresh (evaluate)": lambda: neighbour_list(
            R_nc, atoms.cell.array, atoms.pbc, potential.cutoff
        ),
        "skin list update (MD)": lambda: skin.update(R_nc),
        "checks (min distance)": lambda: check_min_distance(nl, 0.1),
        "pair table (finite structures)": lambda: sfs.pair_table(nl, elem_n),
        "descriptor kernel (G, dG/dR)": lambda: sfs.compute_block(
            elem_n, nl, 0, len(atoms), jk_table=jk_table, with_self=False
        ),
        "networks": lambda: structure_energies(potential, G_ns, elem_n, True, "ignore"),
        "extrapolation count": lambda: count_outside(G_ns, elem_n, arrays.lo_es, arrays.hi_es),
        "dE/dD per pair": lambda: contract_pairs(dEdG_ns, dGdR_psc, nl.offsets_n1, dEdD_pc),
        "forces from dE/dD": lambda: pair_forces(dEdD_pc, nl.i_p, nl.j_p, len(atoms)),
    }
    out = {name: cpu_median(fn, repeats) for name, fn in steps.items()}
    out["MD force call, total"] = cpu_median(lambda: forces_fn(R_nc), repeats)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    numba.set_num_threads(1)
    box, water = water_box()
    cases = {"(H2O)8 cluster, 24 atoms": (water_cluster(box, 8), water)}
    cases["Cu2S, 144 atoms"] = cu2s()
    for name, (atoms, potential) in cases.items():
        repeats = args.repeats if len(atoms) < 100 else max(10, args.repeats // 20)
        call = cpu_median(
            lambda a=atoms, p=potential: evaluate_atoms(
                p, a, stress=False, store_derivatives=False, extrapolation="off"
            ),
            repeats,
        )
        line = f"{name}: evaluate (energy + forces) {call * 1e3:.3f} ms CPU"
        if "Cu2S" in name:
            line += f"; / n2p2 = {call / N2P2_CU2S_S:.2f} (target 0.7)"
        print(line)
        times = phases(potential, atoms, repeats)
        total = times.pop("MD force call, total")
        print(f"  MD force call {total * 1e3:.3f} ms CPU; phases (median CPU, us):")
        print("  | phase | us | share of the MD call |\n  |---|---|---|")
        in_call = 0.0
        for phase, t in times.items():
            share = "" if "fresh" in phase else f"{100 * t / total:.0f} %"
            in_call += 0.0 if "fresh" in phase else t
            print(f"  | {phase} | {t * 1e6:.1f} | {share} |")
        rest = total - in_call
        print(f"  | rest (Python glue) | {rest * 1e6:.1f} | {100 * rest / total:.0f} % |")


if __name__ == "__main__":
    main()
