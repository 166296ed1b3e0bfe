"""Shared helpers for the benchmark scripts (timing, memory, the water box)."""

import os
import resource
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
N2P2_DIR = Path(os.environ.get("NNP_REF_N2P2_DIR", REPO.parent / "shared" / "n2p2"))


def water_box():
    """The 1080-atom RPBE-D3 water box and its published potential (eV, Å)."""
    import ase.units

    from nnp_ref.io.n2p2 import read_data, read_potential

    folder = N2P2_DIR / "H2O_RPBE-D3"
    if not folder.is_dir():
        sys.exit(f"n2p2 reference files not found in {folder} (set NNP_REF_N2P2_DIR)")
    units = dict(length_unit=ase.units.Bohr, energy_unit=ase.units.Hartree)
    atoms = read_data(folder / "input.data", **units)[0]
    return atoms, read_potential(folder, **units)


def median_time(fn, repeats=10, warmup=1):
    """Median wall time of fn() in seconds after warm-up calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def wall_and_cpu(fn, repeats):
    """(median wall s, median CPU s) of fn() after one warm-up call.

    On a shared machine the CPU time of a one-thread run is the fairer figure.
    """
    fn()
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def faults_and_system_time(fn, repeats):
    """(minor page faults, system CPU seconds) per call of fn(), after one warm-up call.

    System time is mostly the kernel filling fresh pages: memory that the
    allocator gave back to the system after the previous call.
    """
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(repeats):
        fn()
    after = resource.getrusage(resource.RUSAGE_SELF)
    faults = (after.ru_minflt - before.ru_minflt) / repeats
    return faults, (after.ru_stime - before.ru_stime) / repeats


def peak_memory_mb():
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def water_cluster(atoms, n_molecules):
    """The n molecules nearest to the first O of a periodic water box, as a finite cluster."""
    from nnp_ref.data.clusters import cluster_from_box

    return cluster_from_box(atoms, n_molecules)


def cu2s():
    """The 144-atom Cu2S structure and its potential (Å, eV)."""
    from nnp_ref.io.n2p2 import read_data, read_potential

    folder = N2P2_DIR / "Cu2S_PBE"
    return read_data(folder / "input.data")[0], read_potential(folder)
