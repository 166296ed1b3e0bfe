"""``nnp-ref label``: reference energies and forces from quantum chemistry, into a database."""

from __future__ import annotations

from nnp_ref.cli.common import add_units, positive_int, say, units

NAME = "label"
HELP = "label structures with PySCF (or EMT/LJ) into an ASE database, resumably"
DESCRIPTION = """\
Computes the energy and forces of every structure in STRUCTURES (any file ASE
reads, or n2p2 input.data) with METHOD and writes each result as one row of
the ASE SQLite database --db the moment it finishes. Re-running the same
command resumes: rows are keyed by a hash of atoms, positions, cell and method,
so nothing is computed twice. A failed SCF is stored with its reason and
listed at the end (exit code 1); --retry-failed tries those again.

METHOD: 'functional/basis' for PySCF ('pbe/def2-svp', 'b3lyp/6-31g*',
'hf/sto-3g'; periodic cells need a GTH basis such as 'pbe/gth-dzvp'), or
'emt' / 'lj' (ASE's toy calculators).

Parallel: --workers N local processes, or --scheduler tcp://HOST:8786 for a
Dask cluster (dask scheduler + dask worker on other machines, or
dask-jobqueue on a batch system). Train on the result with any command that
reads data sets: the .db file is read directly.

Example: nnp-ref label clusters.extxyz --method pbe/def2-svp --db water.db --workers 2"""


def add_arguments(p) -> None:
    p.add_argument("structures", help="structures to label (extxyz, traj, n2p2 *.data, ...)")
    p.add_argument("--method", required=True, help="'functional/basis' (PySCF), 'emt' or 'lj'")
    p.add_argument("--db", required=True, help="ASE SQLite database to write (created if absent)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, default=1, help="local processes")
    where.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    q = p.add_argument_group("PySCF settings")
    q.add_argument("--charge", type=int, default=0, help="total charge")
    q.add_argument("--spin", type=int, default=0, help="2S = N_alpha - N_beta")
    q.add_argument("--conv-tol", type=float, default=1e-9, help="SCF energy tolerance (Hartree)")
    q.add_argument("--max-cycle", type=positive_int, default=100, help="SCF iteration limit")
    q.add_argument("--density-fit", action="store_true", help="RI for the Coulomb integrals")
    q.add_argument("--dispersion", help="dispersion correction: d3bj, d3zero, d4, ...")
    q.add_argument("--threads", type=positive_int, default=1, help="OpenMP threads per worker")
    p.add_argument(
        "--tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="tag every row (repeatable), e.g. --tag set=train",
    )
    p.add_argument("--retry-failed", action="store_true", help="retry failed rows of this run")
    add_units(p)


def _tags(pairs) -> dict:
    tags = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--tag {pair!r}: expected KEY=VALUE with KEY a name")
        tags[key] = value
    return tags


def run(args) -> int:
    from nnp_ref.data.database import label_structures
    from nnp_ref.data.executors import make_executor
    from nnp_ref.data.labellers import make_labeller
    from nnp_ref.io.formats import read_structures

    tags = _tags(args.tag)
    structures = read_structures(args.structures, **units(args))
    options = {}
    if "/" in args.method:
        options = dict(
            charge=args.charge,
            spin=args.spin,
            conv_tol=args.conv_tol,
            max_cycle=args.max_cycle,
            density_fit=args.density_fit,
            dispersion=args.dispersion,
            threads=args.threads,
        )
    labeller = make_labeller(args.method, **options)
    say(args, f"{len(structures)} structures, {labeller.identity} -> {args.db}")
    with make_executor(args.workers, args.scheduler, threads_per_worker=args.threads) as ex:
        report = label_structures(
            structures,
            labeller,
            args.db,
            executor=ex,
            tags=tags,
            retry_failed=args.retry_failed,
            progress=not args.quiet,
        )
    print(report.summary(), flush=True)
    return 1 if report.failures else 0
