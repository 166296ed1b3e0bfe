"""``nnp-ref md``: molecular dynamics with a model; trajectory, energy plot, CSV."""

from __future__ import annotations

from nnp_ref.cli.common import (
    add_extrapolation,
    add_units,
    non_negative_float,
    positive_float,
    positive_int,
    save_figure,
    say,
    units,
)

NAME = "md"
HELP = "molecular dynamics with a model"
DESCRIPTION = """\
Run MD with MODEL from STRUCTURE: velocity Verlet (NVE), Langevin (BAOAB) or
Bussi (stochastic velocity rescaling). Writes the trajectory and a plot of the
energies, and warns when the potential extrapolates.

Initial temperature and equipartition: --init-temperature T draws velocities
at T. A crystal started at its energy minimum then shares the kinetic energy
with the potential energy (equipartition: in a harmonic solid both average
kB T/2 per degree of freedom), so without a thermostat it settles near T/2
(300 K -> about 150 K). --double-init-temperature draws at 2 T so that the
run settles near T; a thermostat (langevin, bussi) brings it to --temperature
in any case."""


def add_arguments(p) -> None:
    p.add_argument("model", help="nnp_ref model (.json or folder) or n2p2 potential folder")
    p.add_argument("structure", help="start structure (ASE file or n2p2 *.data)")
    p.add_argument(
        "--index", type=int, default=0, metavar="I", help="which structure of the file (0-based)"
    )
    p.add_argument(
        "--repeat", type=positive_int, nargs=3, metavar=("NX", "NY", "NZ"), help="repeat the cell"
    )
    _add_dynamics_arguments(p)
    _add_output_arguments(p)
    add_extrapolation(p)
    add_units(p)


def _add_dynamics_arguments(p) -> None:
    """Time step, length, integrator, temperatures, thermostat constants, seed."""
    p.add_argument("--dt", type=positive_float, default=1.0, metavar="FS", help="time step (fs)")
    p.add_argument("--steps", type=positive_int, default=1000, metavar="N", help="number of steps")
    p.add_argument(
        "--integrator",
        default="verlet",
        choices=["verlet", "langevin", "bussi"],
        help="verlet: NVE; langevin, bussi: NVT at --temperature",
    )
    p.add_argument(
        "--temperature",
        type=positive_float,
        default=None,
        metavar="K",
        help="thermostat temperature (K), required for langevin and bussi",
    )
    p.add_argument(
        "--init-temperature",
        type=non_negative_float,
        default=None,
        metavar="K",
        help="draw initial velocities at this temperature (K); a crystal started at its "
        "minimum then settles near K/2 without a thermostat (equipartition); without "
        "this option the structure's own velocities are used (zero for most files)",
    )
    p.add_argument(
        "--double-init-temperature",
        action="store_true",
        help="draw the initial velocities at twice --init-temperature, so that a crystal "
        "started at its minimum settles near --init-temperature",
    )
    p.add_argument(
        "--friction",
        type=positive_float,
        default=0.01,
        metavar="GAMMA",
        help="Langevin friction (1/fs)",
    )
    p.add_argument(
        "--tau", type=positive_float, default=100.0, metavar="FS", help="Bussi relaxation time (fs)"
    )
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")


def _add_output_arguments(p) -> None:
    """Trajectory, energy plot, CSV."""
    p.add_argument(
        "--trajectory",
        default="md.traj",
        metavar="FILE",
        help="trajectory file (.traj, .xyz, .extxyz)",
    )
    p.add_argument(
        "--write-every",
        type=positive_int,
        default=10,
        metavar="N",
        help="steps between trajectory frames",
    )
    p.add_argument("--plot", default="md_energy.png", metavar="FILE", help="energy plot")
    p.add_argument(
        "--csv", default=None, metavar="FILE", help="also write the energies per step as CSV"
    )


def _check(args) -> None:
    """Option combinations argparse cannot check, before any file is read."""
    thermostat = args.integrator in ("langevin", "bussi")
    if thermostat and args.temperature is None:
        raise ValueError(f"--integrator {args.integrator} needs --temperature K")
    if not thermostat and args.temperature is not None:
        raise ValueError(
            "--temperature is the thermostat target of langevin and bussi; for verlet "
            "use --init-temperature"
        )
    if args.double_init_temperature and args.init_temperature is None:
        raise ValueError("--double-init-temperature needs --init-temperature K")


def _pick(structures_path, n: int, index: int) -> int:
    if not -n <= index < n:
        raise ValueError(
            f"--index {index}: {structures_path} holds {n} structure{'s' * (n != 1)} "
            f"(indices 0 to {n - 1})"
        )
    return index


def _csv(result) -> str:
    rows = ["t_fs,E_pot_eV,E_kin_eV,E_tot_eV,T_K,E_conserved_eV"]
    columns = (result.t_fs, result.E_pot_t, result.E_kin_t, result.E_tot_t, result.T_t)
    rows += [
        ",".join(f"{x:.10g}" for x in row) for row in zip(*columns, result.E_cons_t, strict=True)
    ]
    return "\n".join(rows) + "\n"


def _equipartition_note(args, mean_T: float, init_T: float) -> str | None:
    """Why an NVE run from a crystal at rest ends near half its initial temperature."""
    if args.integrator != "verlet" or not init_T or mean_T > 0.75 * init_T:
        return None
    return (
        f"note: started at {init_T:g} K, mean {mean_T:.0f} K: from a structure near its energy "
        "minimum, half of the kinetic energy flows into potential energy (equipartition); "
        "--double-init-temperature starts at twice the temperature to settle near it"
    )


def run(args) -> int:
    from nnp_ref.analysis.plots import plot_energies
    from nnp_ref.dynamics.md import run_md
    from nnp_ref.io.model_json import atomic_write_text

    _check(args)
    atoms = _start_atoms(args)
    init_T = args.init_temperature
    if init_T is not None and args.double_init_temperature:
        init_T = 2.0 * init_T
    start = f", initial velocities at {init_T:g} K" if init_T is not None else ""
    say(
        args,
        f"{len(atoms)} atoms, {args.integrator}, dt = {args.dt:g} fs, {args.steps} steps{start}",
    )
    result = run_md(
        atoms,
        args.dt,
        args.steps,
        args.integrator,
        temperature_K=args.temperature,
        friction=args.friction,
        tau_fs=args.tau,
        seed=args.seed,
        init_temperature_K=init_T,
        trajectory=args.trajectory,
        write_every=args.write_every,
        progress=not args.quiet,
    )
    save_figure(plot_energies(result), args.plot)
    if args.csv:
        atomic_write_text(args.csv, _csv(result))
    _summarise(args, result, len(atoms), init_T)
    return 0


def _start_atoms(args):
    """The chosen start structure (repeated if asked) with the potential as its calculator."""
    from nnp_ref.io.formats import check_elements, load_potential, read_structures
    from nnp_ref.model.calculator import NNPCalculator

    potential = load_potential(args.model, **units(args))
    structures = read_structures(args.structure, **units(args))
    index = _pick(args.structure, len(structures), args.index)
    atoms = structures[index]
    check_elements(
        [atoms], potential.elements, args.structure, args.model, first=index % len(structures)
    )
    if args.repeat:
        atoms = atoms.repeat(tuple(args.repeat))
    mode = "raise" if args.extrapolation == "raise" else "count"  # summarised at the end
    atoms.calc = NNPCalculator(potential, extrapolation=mode)
    return atoms


def _summarise(args, result, n: int, init_T) -> None:
    """Mean temperature, conserved-energy drift, speed, notes, warnings and the files written."""
    import sys

    import numpy as np

    drift = np.polyfit(result.t_fs, result.E_cons_t / n * 1e3, 1)[0] * 1e3 if args.steps > 1 else 0
    mean_T = float(np.mean(result.T_t))
    say(
        args,
        f"mean T {mean_T:.1f} K; conserved-energy drift {drift:+.4f} "
        f"meV/atom/ps; {result.steps_per_second:.1f} steps/s",
    )
    note = _equipartition_note(args, mean_T, init_T)
    if note:
        say(args, note)
    n_outside = getattr(result, "n_extrapolations", 0)
    if n_outside and args.extrapolation == "warn":  # shown with -q too
        print(
            f"nnp-ref: warning: {n_outside} symmetry-function values outside the training "
            f"range over the {args.steps + 1} evaluated steps; the potential is extrapolating",
            file=sys.stderr,
        )
    say(
        args,
        f"trajectory: {args.trajectory}\nenergy plot: {args.plot}"
        + (f"\nenergies: {args.csv}" if args.csv else ""),
    )
