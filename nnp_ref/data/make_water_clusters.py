r"""Generate the shipped water-cluster data set: (H2O)_1 ... (H2O)_6 at PBE/def2-SVP.

    python -m nnp_ref.data.make_water_clusters --db water.db [--workers N]

Recipe (this file is the provenance of ``files/water_clusters.extxyz``):

1. Geometries: :func:`nnp_ref.data.clusters.sample_water_clusters` for each
   cluster size n with seed ``SEED + n`` - rigid TIP3P Langevin snapshots at
   150, 300 and 450 K plus Gaussian intramolecular distortions
   (sigma 0.02-0.08 Å); ``COUNTS[n]`` structures per size.
2. Labels: PySCF RKS, PBE functional, def2-SVP basis, density fitting
   (PySCF's default def2-universal-JKFIT auxiliary basis), grid level 3,
   SCF conv_tol 1e-9 Hartree; energy and analytic forces converted to eV
   and eV/Å (:class:`nnp_ref.data.pyscf_labeller.PySCFLabeller`).
3. A seeded 10% of the structures of each size is tagged ``set="test"``
   (held out), the rest ``set="train"``.
4. Structures are labelled in an order that interleaves the sizes in
   proportion to ``COUNTS`` (so a run stopped early still holds every size),
   into an ASE database (resumable: re-running continues), then exported
   to extended XYZ with :func:`export`. If the shipped file holds fewer
   structures than ``sum(COUNTS)``, it is a prefix of this order (see
   ``files/README.md``); re-running with the same ``--db`` completes it.

Cost: about 1 h on one core of a 2-core machine (2026); the larger
clusters dominate (one (H2O)_6 PBE/def2-SVP+RI energy+force call takes
~30-60 s there). The data are released under the project's MIT licence.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

METHOD = "pbe/def2-svp"
LABELLER_OPTIONS = {"density_fit": True, "grid_level": 3, "conv_tol": 1e-9}
COUNTS = {1: 60, 2: 70, 3: 60, 4: 45, 5: 30, 6: 20}
SEED = 2026
TEST_FRACTION = 0.1
SHIPPED = Path(__file__).resolve().parent / "files" / "water_clusters.extxyz"


def make_labeller(threads: int | None = 1):
    """The labeller of the shipped data set (same settings as its recipe)."""
    from nnp_ref.data.pyscf_labeller import PySCFLabeller

    return PySCFLabeller(METHOD, threads=threads, **LABELLER_OPTIONS)


def structures(counts: dict | None = None) -> list:
    """The unlabelled geometries of the recipe, interleaved by size, tagged train/test."""
    from nnp_ref.data.clusters import sample_water_clusters

    counts = COUNTS if counts is None else counts
    per_size = {}
    for n, count in counts.items():
        frames = sample_water_clusters(n, count, seed=SEED + n)
        rng = np.random.default_rng(SEED + 100 + n)
        test = set(rng.permutation(count)[: int(round(TEST_FRACTION * count))].tolist())
        for i, atoms in enumerate(frames):
            atoms.info["set"] = "test" if i in test else "train"
            atoms.info["index_in_size"] = i
        per_size[n] = frames
    # interleave in proportion to the counts: any prefix of the list (a run
    # stopped early) holds every size in the recipe's proportions
    order = sorted(
        ((i + 0.5) / len(frames), n, i)
        for n, frames in per_size.items()
        for i in range(len(frames))
    )
    return [per_size[n][i] for _, n, i in order]


def export(db_path, path=SHIPPED) -> int:
    """Write the labelled rows of the database to extended XYZ (sorted by size); returns count."""
    from nnp_ref.data.database import read_database
    from nnp_ref.data.datasets import write_extxyz

    rows = read_database(db_path)
    rows.sort(key=lambda a: (a.info["n_molecules"], a.info["index_in_size"]))
    for atoms in rows:
        for k in ("key", "status", "code", "code_version", "scf_type", "unique_id"):
            atoms.info.pop(k, None)
    write_extxyz(path, rows)
    return len(rows)


def load(path=SHIPPED, subset: str | None = None) -> list:
    """The shipped water clusters (energies eV, forces eV/Å), optionally only ``set == subset``."""
    from nnp_ref.data.datasets import read_dataset

    data = read_dataset(path, format="extxyz")
    return [a for a in data if subset is None or a.info.get("set") == subset]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="water_clusters.db", help="ASE database to fill")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--export", default=str(SHIPPED), help="extxyz written at the end")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of COUNTS (tests)")
    args = parser.parse_args(argv)
    from nnp_ref.data.database import label_structures
    from nnp_ref.data.executors import make_executor

    counts = {n: max(1, int(round(c * args.scale))) for n, c in COUNTS.items()}
    todo = structures(counts)
    print(f"{len(todo)} structures, method {METHOD} {LABELLER_OPTIONS}", flush=True)
    with make_executor(args.workers) as executor:
        report = label_structures(todo, make_labeller(), args.db, executor=executor)
    print(report.summary(), flush=True)
    print(f"exported {export(args.db, args.export)} structures to {args.export}")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
