"""MD speed: steps per second and the share of time outside the force call.

Usage (defaults: EMT copper, 5x5x5 cubic cells = 500 atoms, 200 steps):

    PYTHONPATH=. python benchmarks/bench_md.py [--repeat 5] [--steps 200] [--memory]
    PYTHONPATH=. python benchmarks/bench_md.py --system water --steps 20 --dt 0.5

``--system water``: the 1080-atom RPBE-D3 water box with the published
n2p2 potential (nnp_ref.NNPCalculator), from ../shared/n2p2; ``--system
cluster``: the 24-atom (H2O)8 cluster cut from it (target: >= 2,000
steps/s). With an NNPCalculator, run_md takes the direct array path with a
skin neighbour list (``--skin``); "outside" is then the MD loop's own share
(target for the water box: < 5 % of the force time).

For every integrator, and for Verlet also with a .traj trajectory written
every 10 steps, it reports steps/s, the wall-clock share spent outside the
calculator (target: < 5%), and ASE's own VelocityVerlet for comparison.
``--memory`` also runs n/4 and n steps under tracemalloc and prints the
peak and the retained traced memory of both (memory must not grow with the
number of steps beyond the few float64 per step of the energy records; the
peak varies by a few frames' worth with the garbage collector's timing).

``bench_run_md(atoms, ...)`` works with any ASE calculator (e.g. the NNP
water box later).
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from pathlib import Path

from ase import Atoms, units
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.md.verlet import VelocityVerlet

from nnp_ref.dynamics.md import maxwell_boltzmann_momenta, run_md


def bench_run_md(atoms: Atoms, dt_fs: float, n_steps: int, **kwargs) -> dict:
    """Time run_md on a copy of atoms (same calculator); return the numbers."""
    run_atoms = atoms.copy()
    run_atoms.calc = atoms.calc
    result = run_md(run_atoms, dt_fs, n_steps, progress=False, **kwargs)
    if result.n_neighbour_builds:
        print(f"    ({result.n_neighbour_builds} neighbour-list builds in {n_steps} steps)")
    return {
        "steps_per_s": result.steps_per_second,
        "outside_force": result.share_outside_force,
        "ms_per_step": 1e3 * result.time_total_s / n_steps,
        "ms_outside_per_step": 1e3 * (result.time_total_s - result.time_force_s) / n_steps,
    }


def bench_ase_verlet(atoms: Atoms, dt_fs: float, n_steps: int) -> float:
    """Steps per second of ase.md.verlet.VelocityVerlet on a copy of atoms."""
    run_atoms = atoms.copy()
    run_atoms.calc = atoms.calc
    dyn = VelocityVerlet(run_atoms, dt_fs * units.fs)
    start = time.perf_counter()
    dyn.run(n_steps)
    return n_steps / (time.perf_counter() - start)


def traced_memory(atoms: Atoms, dt_fs: float, n_steps: int, trajectory: Path) -> tuple[int, int]:
    """(peak, retained) traced memory in bytes of run_md writing a trajectory;
    retained = still allocated after the result is dropped and gc has run."""
    run_atoms = atoms.copy()
    run_atoms.calc = atoms.calc
    gc.collect()
    tracemalloc.start()
    try:
        run_md(run_atoms, dt_fs, n_steps, trajectory=trajectory, write_every=10, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
        gc.collect()
        return peak, tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="cubic Cu cells per direction")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--dt", type=float, default=2.0, help="time step, fs")
    parser.add_argument("--memory", action="store_true", help="also measure memory growth")
    parser.add_argument("--skin", type=float, default=1.0, help="neighbour-list skin (Å)")
    parser.add_argument("--system", choices=("cu", "water", "cluster"), default="cu")
    args = parser.parse_args()

    if args.system in ("water", "cluster"):
        from _common import water_box, water_cluster

        from nnp_ref import NNPCalculator

        atoms, potential = water_box()
        if args.system == "cluster":
            atoms = water_cluster(atoms, 8)  # (H2O)8, 24 atoms, no cell
        atoms.calc = NNPCalculator(potential, extrapolation="off")
        label = f"NNP water (RPBE-D3), direct array path, skin {args.skin} Å"
    else:
        atoms = bulk("Cu", cubic=True).repeat(args.repeat)
        atoms.rattle(0.02, seed=0)
        atoms.calc = EMT()
        label = "EMT Cu"
    atoms.set_momenta(maxwell_boltzmann_momenta(atoms.get_masses(), 300.0, 0))
    print(f"{label}, {len(atoms)} atoms, {args.steps} steps of {args.dt} fs")
    bench_run_md(atoms, args.dt, 5)  # warm-up (imports, first calculator call)

    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "verlet": {},
            "verlet + .traj every 10": {"trajectory": Path(tmp) / "md.traj", "write_every": 10},
            "langevin": {"integrator": "langevin", "temperature_K": 300.0, "seed": 0},
            "bussi": {"integrator": "bussi", "temperature_K": 300.0, "seed": 0},
        }
        print(f"{'case':26s} {'steps/s':>8s} {'ms/step':>8s} {'outside ms':>10s} {'outside':>8s}")
        for name, kwargs in cases.items():
            r = bench_run_md(atoms, args.dt, args.steps, **kwargs)
            print(
                f"{name:26s} {r['steps_per_s']:8.1f} {r['ms_per_step']:8.2f} "
                f"{r['ms_outside_per_step']:10.3f} {100 * r['outside_force']:7.2f}%"
            )
        print(f"{'ase VelocityVerlet':26s} {bench_ase_verlet(atoms, args.dt, args.steps):8.1f}")

        if args.memory:
            n = max(args.steps // 4, 10)
            for n_steps in (n, 4 * n):
                peak, retained = traced_memory(atoms, args.dt, n_steps, Path(tmp) / "mem.traj")
                print(
                    f"traced memory, {n_steps:5d} steps: peak {peak / 1e6:.3f} MB, "
                    f"retained after the run {retained / 1e6:.3f} MB"
                )


if __name__ == "__main__":
    main()
