"""``nnp-ref evaluate``: RMSE and MAE of a model on a data set, parity plot."""

from __future__ import annotations

from nnp_ref.cli.common import (
    add_extrapolation,
    add_units,
    save_figure,
    units,
)

NAME = "evaluate"
HELP = "RMSE of a model on a data set, parity plot"
DESCRIPTION = """\
Evaluate MODEL on every structure of DATA and report the RMSE and MAE of the
energies per atom (meV/atom) and of the force components (meV/Å).
Every structure needs a finite reference energy; forces are optional (without
any, the force errors are reported as missing: null in --json)."""


def add_arguments(p) -> None:
    p.add_argument("model", help="nnp_ref model (.json or folder) or n2p2 potential folder")
    p.add_argument("data", help="structures with reference energies/forces (ASE file or *.data)")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the metrics as strict JSON (for scripts; missing values are null) "
        "and nothing else",
    )
    p.add_argument(
        "--parity",
        metavar="FILE",
        default=None,
        help="write a parity plot (predicted vs reference) to FILE",
    )
    add_extrapolation(p)
    add_units(p)


def _value(x: float, fmt: str) -> str:
    return format(x, fmt) if x == x else f"{'n/a':>{int(fmt.split('.')[0])}}"


def run(args) -> int:
    import json
    import math
    import sys

    from nnp_ref.analysis.errors import parity_plot
    from nnp_ref.io.formats import check_elements, load_potential, read_structures
    from nnp_ref.model.potential import ExtrapolationError
    from nnp_ref.workflow import measure_errors, plain

    potential = load_potential(args.model, **units(args))
    structures = read_structures(args.data, **units(args), need_energy=True)
    check_elements(structures, potential.elements, args.data, args.model)
    try:  # counted per structure; this command prints its own one-line summary
        pred, metrics = measure_errors(
            potential,
            structures,
            progress=not (args.quiet or args.json),
            extrapolation="raise" if args.extrapolation == "raise" else "off",
        )
    except ExtrapolationError as err:
        raise ValueError(f"{args.data}: extrapolation: {err}") from None
    extrapolating = [i for i, n in enumerate(pred.n_extrapolations_s) if n > 0]
    if extrapolating and args.extrapolation == "warn":
        first = extrapolating[0]
        print(
            f"nnp-ref: warning: {len(extrapolating)} of {len(structures)} structures have "
            f"symmetry functions outside the training range "
            f"({int(pred.n_extrapolations_s.sum())} values; first: structure {first}, "
            f"{pred.n_extrapolations_s[first]} values)",
            file=sys.stderr,
        )
    bad = [i for i, e in enumerate(pred.E_pred_s) if not math.isfinite(e)]
    if bad:
        raise ValueError(
            f"{args.model} gives a NaN/inf energy for structure {bad[0]} of {args.data} "
            f"({len(bad)} structures in all)"
        )
    result = {"model": str(args.model), "data": str(args.data), **metrics}
    result["n_structures_extrapolating"] = len(extrapolating)
    if args.parity:
        save_figure(parity_plot(pred), args.parity)
        result["parity_plot"] = str(args.parity)
    if args.json:
        print(json.dumps(plain(result), indent=2, allow_nan=False))
        return 0
    print(f"{len(structures)} structures, {len(pred.F_ref_kc)} atoms with reference forces")
    print(
        f"energy  RMSE {_value(result['rmse_energy_meV_per_atom'], '10.4f')} meV/atom   "
        f"MAE {_value(result['mae_energy_meV_per_atom'], '10.4f')} meV/atom"
    )
    print(
        f"forces  RMSE {_value(result['rmse_force_meV_per_A'], '10.4f')} meV/Å       "
        f"MAE {_value(result['mae_force_meV_per_A'], '10.4f')} meV/Å"
    )
    if args.parity:
        print(f"parity plot: {args.parity}")
    return 0
