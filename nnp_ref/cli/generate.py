"""``nnp-ref generate``: reference structures labelled by EMT or Lennard-Jones."""

from __future__ import annotations

from nnp_ref.cli.common import add_units, positive_int, say, units

NAME = "generate"
HELP = "label structures with a reference potential"
DESCRIPTION = """\
Generate reference structures (MD snapshots, strained and rattled cells,
vacancies, surfaces) labelled with energies and forces by a reference
potential: ASE's EMT (emt-cu, emt-cuau) or Lennard-Jones argon (lj-ar).
The default output file is the one 'nnp-ref train --example-config' reads.

--kind water-clusters samples (H2O)_n clusters cheaply (rigid TIP3P Langevin MD
at 150-450 K plus intramolecular distortions) WITHOUT labels: sample cheap, then
label expensive with 'nnp-ref label FILE --method pbe/def2-svp --db data.db'."""

DEFAULT_OUTPUT = "reference_data.extxyz"


def add_arguments(p) -> None:
    p.add_argument(
        "-o",
        "--output",
        default=DEFAULT_OUTPUT,
        metavar="FILE",
        help="output file: extxyz (.xyz/.extxyz), any ASE format, or n2p2 *.data",
    )
    p.add_argument(
        "--kind",
        default="emt-cu",
        choices=["emt-cu", "emt-cuau", "lj-ar", "water-clusters"],
        help="reference potential and crystal, or unlabelled water clusters",
    )
    p.add_argument(
        "--molecules",
        type=positive_int,
        nargs="+",
        default=[1, 2, 3, 4],
        metavar="N",
        help="water-clusters only: cluster sizes (H2O)_N, -n structures of each",
    )
    p.add_argument(
        "-n",
        "--structures",
        type=positive_int,
        default=200,
        metavar="N",
        help="number of structures",
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    add_units(p)


def run(args) -> int:
    from nnp_ref.io.formats import write_structures

    if args.kind == "water-clusters":
        from nnp_ref.data.clusters import sample_water_clusters

        structures = [
            atoms
            for n in args.molecules
            for atoms in sample_water_clusters(n, args.structures, seed=args.seed + n)
        ]
    else:
        from nnp_ref.data.datasets import generate_reference_data

        structures = generate_reference_data(
            kind=args.kind, n_structures=args.structures, seed=args.seed, progress=not args.quiet
        )
    write_structures(structures, args.output, **units(args))
    n_atoms = sum(len(a) for a in structures)
    say(args, f"wrote {len(structures)} structures ({n_atoms} atoms) to {args.output}")
    return 0
