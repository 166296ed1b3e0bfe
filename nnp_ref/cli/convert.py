"""``nnp-ref convert``: potentials and data sets between nnp_ref and n2p2."""

from __future__ import annotations

from nnp_ref.cli.common import add_units, say, units

NAME = "convert"
HELP = "convert potentials and data sets between nnp_ref and n2p2"
DESCRIPTION = """\
Potentials: an n2p2 folder (input.nn, scaling.data, weights.*.data) to an
nnp_ref model (DESTINATION ending in .json), or a model (.json) to an n2p2
folder (DESTINATION without suffix; n2p2 and LAMMPS pair_style hdnnp read it).
Data sets: n2p2 input.data (*.data) to any ASE format (extxyz, traj, ...) and
back. --length-unit/--energy-unit give the units of the n2p2 side."""


def add_arguments(p) -> None:
    p.add_argument("source", help="n2p2 folder, model .json, or data file")
    p.add_argument("destination", help="model .json, n2p2 folder, or data file")
    add_units(p)


def run(args) -> int:
    from pathlib import Path

    from nnp_ref.io.formats import (
        is_model,
        is_n2p2_data,
        load_potential,
        read_structures,
        write_structures,
    )
    from nnp_ref.io.model_json import save_model
    from nnp_ref.io.n2p2 import write_potential

    src, dst = Path(args.source), Path(args.destination)
    if not src.exists():
        raise FileNotFoundError(f"{src} does not exist")
    if is_model(src):
        potential = load_potential(src, **units(args))
        if dst.suffix == ".json":
            save_model(potential, dst)
            what = "nnp_ref model"
        elif dst.suffix == "":
            write_potential(potential, dst, **units(args))
            what = "n2p2 potential (input.nn, scaling.data, weights.*.data)"
        else:
            raise ValueError(
                f"destination {dst}: use a .json file (nnp_ref model) or a folder name (n2p2)"
            )
        say(args, f"wrote {what} to {dst}")
        return 0
    if src.is_dir():
        raise ValueError(f"{src} is a folder without input.nn or model.json")
    if is_n2p2_data(src) and is_n2p2_data(dst):
        raise ValueError("source and destination are both n2p2 files; nothing to convert")
    structures = read_structures(src, **units(args))
    write_structures(structures, dst, **(units(args) if is_n2p2_data(dst) else {}))
    say(args, f"wrote {len(structures)} structures to {dst}")
    return 0
