"""``nnp-ref demo``: the whole method on EMT copper in one command (``nnp_ref.course.demo``)."""

from __future__ import annotations

from nnp_ref.cli.common import positive_float

NAME = "demo"
HELP = "train and test an HDNNP for EMT copper, run MD, write a report"
DESCRIPTION = """\
Generate EMT copper reference data, train an HDNNP (Kalman filter), test it on
held-out structures, run NVE MD at several time steps and Langevin MD against
EMT, and write figures, report.md, metrics.json, the model and the test set to
the output folder. A few minutes on two cores; --quick takes seconds.
Training runs for --epochs epochs, so the numbers depend on --seed and not on
the speed of the machine; --max-time adds a wall-clock cap if you want one.

--system water trains on the shipped DFT data set instead (water clusters
(H2O)_1-6 at PBE/def2-SVP, labelled with PySCF), tests on held-out clusters,
runs MD of a cluster and checks MD frames against live PySCF calculations."""


def add_arguments(p) -> None:
    p.add_argument("--out", default="nnp_ref_demo", metavar="DIR", help="output folder")
    p.add_argument(
        "--system",
        choices=["copper", "water"],
        default="copper",
        help="EMT copper (default) or the shipped PBE/def2-SVP water clusters (needs PySCF)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="toy sizes (seconds): checks the pipeline, not the science",
    )
    p.add_argument("--seed", type=int, default=None, metavar="N", help="random seed (default 0)")
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="N",
        help="training epochs (default 10, --quick 2)",
    )
    p.add_argument(
        "--max-time",
        type=positive_float,
        default=None,
        metavar="S",
        help="also stop training before an epoch that would end after S seconds "
        "(off by default: results then depend on the machine's speed)",
    )


def run(args) -> int:
    import dataclasses

    from nnp_ref.course.demo import FULL, QUICK, run_demo

    if args.epochs is not None and args.epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {args.epochs}")
    if args.system == "water":
        return run_water(args)
    settings = QUICK if args.quick else FULL
    changes = {
        "seed": args.seed,
        "epochs": args.epochs,
        "max_train_time_s": args.max_time,
    }
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    run_demo(args.out, quick=args.quick, settings=settings, progress=not args.quiet)
    return 0


def run_water(args) -> int:
    """``--system water``: the steps of :mod:`nnp_ref.course.water_demo`."""
    import dataclasses

    from nnp_ref.course.water_demo import WATER_FULL, WATER_QUICK, run_water_demo

    if args.max_time is not None:
        raise ValueError("--max-time applies to the copper demo only")
    settings = WATER_QUICK if args.quick else WATER_FULL
    changes = {"seed": args.seed, "epochs": args.epochs}
    settings = dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})
    say = (lambda *a, **k: None) if args.quiet else print
    run_water_demo(args.out, settings, progress=not args.quiet, say=say)
    return 0
