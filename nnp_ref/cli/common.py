"""Pieces every ``nnp-ref`` command shares: help layout, -q, units, messages, figures.

Only the standard library is imported here, so that building the parser
(``nnp-ref --help``) stays fast; numerical modules are imported inside the
commands' ``run``.
"""

from __future__ import annotations

import argparse

PROG = "nnp-ref"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``nnp-ref: error: md: argument --dt: ...``, exit 2."""

    def error(self, message):
        command = self.prog.removeprefix(PROG).strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"{PROG}: error: {where}{message} (see '{self.prog} --help')\n")


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions kept as written; meaningful defaults appended to the option help."""

    def _get_help_string(self, action):
        help_ = action.help or ""
        if "%(default)" in help_ or action.default in (None, False, argparse.SUPPRESS):
            return help_
        return help_ + " (default: %(default)s)"


def add_quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bars or messages (results and errors still shown)",
    )


def unit_type(kind: str):
    """An argparse ``type``: a unit name or number -> Å or eV per file unit."""

    def parse(text: str) -> float:
        from nnp_ref.io.formats import parse_unit

        try:
            return parse_unit(text, kind)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = f"{kind} unit"
    return parse


def positive_int(text: str) -> int:
    """An argparse ``type``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _finite_float(text: str, in_range, bound: str) -> float:
    """A finite number for which ``in_range(value)`` holds (NaN never does)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (in_range(value) and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number {bound}, got {text}")
    return value


def positive_float(text: str) -> float:
    """An argparse ``type``: a finite number > 0."""
    return _finite_float(text, lambda value: value > 0, "> 0")


def non_negative_float(text: str) -> float:
    """An argparse ``type``: a finite number >= 0."""
    return _finite_float(text, lambda value: value >= 0, ">= 0")


def add_units(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("units of n2p2 files (nnp_ref's own files are in Å and eV)")
    group.add_argument(
        "--length-unit",
        type=unit_type("length"),
        default="angstrom",
        metavar="UNIT",
        help="length unit of n2p2 files: angstrom, bohr, nm, or Å per unit",
    )
    group.add_argument(
        "--energy-unit",
        type=unit_type("energy"),
        default="ev",
        metavar="UNIT",
        help="energy unit of n2p2 files: ev, hartree, ry, kcal/mol, kj/mol, or eV per unit",
    )


def units(args) -> dict:
    """``length_unit``/``energy_unit`` keywords from the parsed options."""
    return {"length_unit": args.length_unit, "energy_unit": args.energy_unit}


def say(args, *text) -> None:
    """Print a message unless ``-q``."""
    if not getattr(args, "quiet", False):
        print(*text, flush=True)


def save_figure(fig, path) -> None:
    from nnp_ref.workflow import save_figure as save

    save(fig, path)


def add_extrapolation(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--extrapolation",
        choices=["warn", "raise", "off"],
        default="warn",
        help="symmetry functions outside the training range: one summary warning, "
        "an error, or nothing",
    )
